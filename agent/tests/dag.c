/* Tests the download's walk through an image's UnixFS DAG (agent/core/dag.c and the DOWNLOAD
 * step of agent/core/agent.c) on the POSIX port, with file:// sources laid out as trustless
 * gateways (dir/ipfs/<cid>?format=raw). Images are imported by libfwchain's UnixFS importer —
 * with small chunks and few links where a test needs a deep tree fast — so every CID the agent
 * must follow is computed independently of it.
 *
 * Covered: a multi-level DAG (more leaves than one node links), its exact fetch count (each
 * interior node fetched once per visit, no leaf twice); a tree deeper than
 * FWC_AGENT_DAG_DEPTH refused as content; CIDv0 images with dag-pb leaves (one level, several
 * levels, a one-block image) and a one-block raw image; a root that says another size than the
 * signed one; a tampering source before an honest one (failover, completes); resume after a
 * reset in the middle of a multi-level download without fetching a verified leaf again; and
 * the pure parsers with hand-made bytes (docs/formats/unixfs.md's leaf layout). */
#include "agent_test.h"

#include "../core/dag.h"

static struct fwc_agent agent;
static struct fixture fx;

static const struct fwc_agent_record *rec(void)
{
	return fwc_agent_record(&agent);
}

static const struct fwc_agent_event *last_event(void)
{
	return rec()->event_count ? &rec()->events[rec()->event_count - 1] : NULL;
}

/* Rebuild fx's offer for its image with importer options opt into dir (a fresh source). */
static int offer_with(const struct fwc_unixfs_options *opt, const char *tag)
{
	struct fwc_cid root;
	char dir[400];

	snprintf(dir, sizeof(dir), "%s/%s", fx.root, tag);
	if (test_dag_write(&root, dir, fx.image, fx.image_len, opt, 0) != 0)
		return -1;
	memcpy(fx.offer.target, root.digest, 32);
	fx.offer.root_kind = root.codec == FWC_CID_CODEC_RAW ? FWC_AGENT_CID_RAW
	                     : root.version == 0             ? FWC_AGENT_CID_PB0
	                                                     : FWC_AGENT_CID_PB1;
	fx.offer.source_count = 0;
	test_offer_source(&fx.offer, dir);
	return 0;
}

/* Install fx's offer and confirm it; returns 1 when slot B then holds the image. */
static int install_confirm(void)
{
	CHECK_RC(fwc_posix_power_on(&agent, NULL, &fx.port, &fx.prov), FWC_OK);
	CHECK_RC(fwc_agent_test_offer(&agent, &fx.offer), FWC_OK);
	if (run_agent(&agent, &fx.port, 5000) != FWC_AGENT_REBOOT)
		return 0;
	if (boot_until_idle(&agent, &fx.port, &fx.prov, 3, NULL) != 1)
		return 0;
	return rec()->active_slot == FWC_SLOT_B && rec()->active.counter == TEST_COUNTER &&
	       slot_holds(&fx.port, FWC_SLOT_B, fx.image, fx.image_len);
}

/* 175 leaves of 4 KiB and one of 1 byte: two levels of interior nodes (174 + 2 leaves). */
static void test_multilevel(void)
{
	const size_t len = 175 * 4096 + 1;

	CHECK(fixture_setup(&fx, "multi", len, 4096, 4096) == 0);
	CHECK(install_confirm());
	/* root (first bytes, then whole), node 1 (same), 174 leaves of one GET; leaving node 1:
	 * root again (2), node 2 (2), its 2 leaves */
	CHECK(fx.port.gets == 2 + 2 + 174 + 2 + 2 + 2);
	CHECK(fx.port.writes == 176);
	fixture_teardown(&fx);

	/* the same with 4 links per node: 64 KiB leaves... 4 levels (18 leaves: 4, 16, 18) */
	CHECK(fixture_setup(&fx, "deep", 18 * 4096, 4096, 4096) == 0);
	{
		struct fwc_unixfs_options o;

		fwc_unixfs_options_default(&o, 1);
		o.chunk_size = 4096;
		o.max_links = 4;
		CHECK(offer_with(&o, "deep4") == 0);
	}
	/* root -> 2 nodes -> 4+1 nodes -> 18 leaves: depth 4 > FWC_AGENT_DAG_DEPTH (3) */
	CHECK_RC(fwc_posix_power_on(&agent, NULL, &fx.port, &fx.prov), FWC_OK);
	CHECK_RC(fwc_agent_test_offer(&agent, &fx.offer), FWC_OK);
	CHECK(run_agent(&agent, &fx.port, 100) == FWC_AGENT_IDLE);
	CHECK(last_event() != NULL && last_event()->type == FWC_AGENT_EV_REFUSED);
	CHECK(last_event()->reason == FWC_AGENT_REFUSE_CONTENT);
	CHECK(last_event()->code == FWC_ERR_TOO_LARGE);
	CHECK(last_event()->counter == TEST_COUNTER);
	CHECK(!rec()->download.active && rec()->active_slot == FWC_SLOT_A && fx.port.writes == 0);
	/* offered again (as check-in would): refused again, not queued a second time */
	{
		unsigned n = rec()->event_count;

		CHECK_RC(fwc_agent_test_offer(&agent, &fx.offer), FWC_OK);
		CHECK(run_agent(&agent, &fx.port, 100) == FWC_AGENT_IDLE);
		CHECK(rec()->event_count == n && !rec()->download.active);
		CHECK_RC(fwc_agent_last_error(&agent), FWC_ERR_STATE); /* the report: no node */
	}
	fixture_teardown(&fx);

	/* 16 leaves with 4 links: exactly depth 3, installed */
	CHECK(fixture_setup(&fx, "depth3", 16 * 4096, 4096, 4096) == 0);
	{
		struct fwc_unixfs_options o;

		fwc_unixfs_options_default(&o, 1);
		o.chunk_size = 4096;
		o.max_links = 4;
		CHECK(offer_with(&o, "d3") == 0);
	}
	CHECK(install_confirm());
	/* per node of 4 leaves: root 2 + node 2 + 4 leaves (the root is fetched again 3 times) */
	CHECK(fx.port.gets == 4 * (2 + 2 + 4));
	fixture_teardown(&fx);
}

/* CIDv0 images: dag-pb leaves under dag-pb nodes, all named Qm... */
static void test_cidv0(void)
{
	struct fwc_unixfs_options o;

	/* one level: 300000 bytes in 64 KiB dag-pb leaves */
	CHECK(fixture_setup(&fx, "v0", 300000, 65536, 4096) == 0);
	fwc_unixfs_options_default(&o, 0);
	CHECK(o.raw_leaves == 0 && o.cid_version == 0);
	o.chunk_size = 65536;
	CHECK(offer_with(&o, "v0") == 0);
	CHECK(fx.offer.root_kind == FWC_AGENT_CID_PB0);
	CHECK(install_confirm());
	/* root (2); each of the 5 leaves: first bytes to classify it, its header again, 16 (or
	 * 9 for the last: 37856 bytes) data ranges, the trailer */
	CHECK(fx.port.gets == 2 + 4 * (1 + 1 + 16 + 1) + (1 + 1 + 10 + 1));
	fixture_teardown(&fx);

	/* several levels: 4 KiB dag-pb leaves, 4 links */
	CHECK(fixture_setup(&fx, "v0deep", 10 * 4096 + 100, 4096, 4096) == 0);
	fwc_unixfs_options_default(&o, 0);
	o.chunk_size = 4096;
	o.max_links = 4;
	CHECK(offer_with(&o, "v0d") == 0);
	CHECK(install_confirm());
	fixture_teardown(&fx);

	/* one block: the root is a dag-pb leaf, larger than the check-in buffer */
	CHECK(fixture_setup(&fx, "v0one", 200000, 65536, 4096) == 0);
	fwc_unixfs_options_default(&o, 0);
	CHECK(offer_with(&o, "v0one") == 0);
	CHECK(install_confirm());
	fixture_teardown(&fx);

	/* one raw block (CIDv1): the root is the leaf */
	CHECK(fixture_setup(&fx, "rawone", 100000, 131072, 4096) == 0);
	CHECK(fx.offer.root_kind == FWC_AGENT_CID_RAW);
	CHECK(install_confirm());
	CHECK(fx.port.gets == 25); /* 100000 bytes in 4 KiB ranges, nothing else */
	fixture_teardown(&fx);
}

/* A DAG whose root covers another size than the signed one: the release is refused. */
static void test_wrong_size(void)
{
	CHECK(fixture_setup(&fx, "size", 200000, 65536, 4096) == 0);
	fx.offer.size = 200000 - 1;
	CHECK_RC(fwc_posix_power_on(&agent, NULL, &fx.port, &fx.prov), FWC_OK);
	CHECK_RC(fwc_agent_test_offer(&agent, &fx.offer), FWC_OK);
	CHECK(run_agent(&agent, &fx.port, 100) == FWC_AGENT_IDLE);
	CHECK(last_event() != NULL && last_event()->type == FWC_AGENT_EV_REFUSED);
	CHECK(last_event()->reason == FWC_AGENT_REFUSE_CONTENT);
	CHECK(last_event()->code == FWC_ERR_MALFORMED);
	CHECK(fx.port.writes == 0 && !rec()->download.active);
	fixture_teardown(&fx);
}

/* Sources serving a tampered, a missing and an empty leaf, in front of an honest one: each bad
 * leaf is taken from the next source (which is then kept), and the install completes. */
static void test_tampering_source(void)
{
	char bad[3][400];
	struct fwc_cid leaf;
	char path[600];
	long gets;

	CHECK(fixture_setup(&fx, "tamper", 175 * 4096 + 1, 4096, 4096) == 0);
	for (int i = 0; i < 3; i++)
		snprintf(bad[i], sizeof(bad[i]), "%s/bad%d", fx.root, i);
	CHECK(test_dag_tamper(bad[0], fx.image, fx.image_len, 4096, 3, TAMPER_FLIP) == 0);
	CHECK(test_dag_tamper(bad[1], fx.image, fx.image_len, 4096, 100, TAMPER_DROP) == 0);
	CHECK(test_dag_tamper(bad[2], fx.image, fx.image_len, 4096, 175, TAMPER_FLIP) == 0);
	test_leaf_cid(&leaf, fx.image, fx.image_len, 4096, 175); /* the 1-byte leaf: empty */
	test_block_path(path, sizeof(path), bad[2], &leaf);
	CHECK(test_write_file(path, (const uint8_t *)"", 0) == 0);
	fx.offer.source_count = 0;
	for (int i = 0; i < 3; i++)
		test_offer_source(&fx.offer, bad[i]);
	test_offer_source(&fx.offer, fx.src);
	gets = fx.port.gets;
	CHECK(install_confirm());
	/* the fault-free walk (184 GETs) plus one GET for each failed leaf */
	CHECK(fx.port.gets - gets == 184 + 3);
	fixture_teardown(&fx);
}

/* A reset in the middle of a multi-level download (and of a CIDv0 one): after the offer comes
 * back, the walk goes down to the first unverified leaf and fetches no verified one again. */
static void test_resume(void)
{
	struct fwc_unixfs_options o;
	long gets;

	CHECK(fixture_setup(&fx, "resume", 175 * 4096 + 1, 4096, 4096) == 0);
	CHECK_RC(fwc_posix_power_on(&agent, NULL, &fx.port, &fx.prov), FWC_OK);
	CHECK_RC(fwc_agent_test_offer(&agent, &fx.offer), FWC_OK);
	for (int i = 0; i < 174; i++)
		CHECK(fwc_agent_step(&agent) == FWC_AGENT_DOWNLOAD);
	CHECK(fwc_agent_step(&agent) == FWC_AGENT_DOWNLOAD); /* leaf 174: into node 2 */
	CHECK(rec()->download.verified == 175 * 4096);
	CHECK_RC(fwc_posix_power_on(&agent, NULL, &fx.port, &fx.prov), FWC_OK);
	CHECK(rec()->download.active && rec()->download.verified == 175 * 4096);
	gets = fx.port.gets;
	CHECK_RC(fwc_agent_test_offer(&agent, &fx.offer), FWC_OK);
	CHECK(run_agent(&agent, &fx.port, 100) == FWC_AGENT_REBOOT);
	CHECK(fx.port.gets - gets == 2 + 2 + 1); /* root, node 2, the last leaf */
	CHECK(slot_holds(&fx.port, FWC_SLOT_B, fx.image, fx.image_len));
	fixture_teardown(&fx);

	CHECK(fixture_setup(&fx, "resume0", 300000, 65536, 4096) == 0);
	fwc_unixfs_options_default(&o, 0);
	o.chunk_size = 65536;
	CHECK(offer_with(&o, "v0") == 0);
	CHECK_RC(fwc_posix_power_on(&agent, NULL, &fx.port, &fx.prov), FWC_OK);
	CHECK_RC(fwc_agent_test_offer(&agent, &fx.offer), FWC_OK);
	CHECK(fwc_agent_step(&agent) == FWC_AGENT_DOWNLOAD);
	CHECK(fwc_agent_step(&agent) == FWC_AGENT_DOWNLOAD);
	CHECK(rec()->download.verified == 2 * 65536);
	CHECK_RC(fwc_posix_power_on(&agent, NULL, &fx.port, &fx.prov), FWC_OK);
	gets = fx.port.gets;
	CHECK_RC(fwc_agent_test_offer(&agent, &fx.offer), FWC_OK);
	CHECK(run_agent(&agent, &fx.port, 100) == FWC_AGENT_REBOOT);
	CHECK(fx.port.gets - gets == 2 + 2 * (1 + 1 + 16 + 1) + (1 + 1 + 10 + 1));
	CHECK(slot_holds(&fx.port, FWC_SLOT_B, fx.image, fx.image_len));
	fixture_teardown(&fx);
}

/* The leaf parsers on hand-made bytes: the block of a 3-byte dag-pb leaf "abc" is
 *   0a 09  08 02  12 03 61 62 63  18 03
 * (PBNode.Data = UnixFS{Type: File, Data: "abc", filesize: 3}). */
static void test_leaf_parsers(void)
{
	static const uint8_t leaf[] = {0x0a, 0x09, 0x08, 0x02, 0x12, 0x03,
	                               0x61, 0x62, 0x63, 0x18, 0x03};
	static const uint8_t empty[] = {0x0a, 0x04, 0x08, 0x02, 0x18, 0x00};
	struct fwc_cid cid;
	size_t hl = 99;
	uint64_t dl = 99, bl = 99;
	uint8_t b[16];

	/* the importer makes exactly these bytes for "abc" as a CIDv0 file */
	{
		struct fwc_unixfs_result res;
		struct fwc_cid want;

		CHECK_RC(fwc_unixfs_import(&res, &(struct fwc_unixfs_options){0, 0, 0, 0}, NULL,
		                           "abc", 3),
		         FWC_OK);
		CHECK_RC(fwc_cid_from_block(&want, 0, FWC_CID_CODEC_DAGPB, leaf, sizeof(leaf)),
		         FWC_OK);
		CHECK(fwc_cid_equal(&res.root, &want));
	}
	CHECK_RC(fwc_agent_dag_leaf_header(&hl, &dl, &bl, leaf, sizeof(leaf)), FWC_OK);
	CHECK(hl == 6 && dl == 3 && bl == sizeof(leaf));
	CHECK_RC(fwc_agent_dag_leaf_trailer(leaf + 9, 2, 3), FWC_OK);
	CHECK_RC(fwc_agent_dag_leaf_trailer(leaf + 9, 2, 4), FWC_ERR_MALFORMED);
	CHECK_RC(fwc_agent_dag_leaf_trailer(leaf + 8, 3, 3), FWC_ERR_MALFORMED);
	CHECK_RC(fwc_agent_dag_leaf_header(&hl, &dl, &bl, empty, sizeof(empty)), FWC_OK);
	CHECK(hl == 4 && dl == 0 && bl == 6);
	/* the header alone is enough; one byte short is not */
	CHECK_RC(fwc_agent_dag_leaf_header(&hl, &dl, &bl, leaf, 6), FWC_OK);
	CHECK_RC(fwc_agent_dag_leaf_header(&hl, &dl, &bl, leaf, 5), FWC_ERR_TRUNCATED);
	/* Links first: an interior node */
	memcpy(b, leaf, sizeof(leaf));
	b[0] = 0x12;
	CHECK_RC(fwc_agent_dag_leaf_header(&hl, &dl, &bl, b, sizeof(leaf)), FWC_ERR_MALFORMED);
	/* a directory, an outer length that does not fit the trailer, a non-minimal varint */
	memcpy(b, leaf, sizeof(leaf));
	b[3] = 0x01;
	CHECK_RC(fwc_agent_dag_leaf_header(&hl, &dl, &bl, b, sizeof(leaf)), FWC_ERR_MALFORMED);
	memcpy(b, leaf, sizeof(leaf));
	b[1] = 0x0a;
	CHECK_RC(fwc_agent_dag_leaf_header(&hl, &dl, &bl, b, sizeof(leaf)), FWC_ERR_MALFORMED);
	{
		static const uint8_t nm[] = {0x0a, 0x89, 0x00, 0x08, 0x02};

		CHECK_RC(fwc_agent_dag_leaf_header(&hl, &dl, &bl, nm, sizeof(nm)),
		         FWC_ERR_NONCANONICAL);
	}
	CHECK(hl == 6 && dl == 3 && bl == 11); /* the last success, untouched by failures */
	(void)cid;
}

/* fwc_agent_dag_child on a node built by the importer: the child covering each offset. */
static void test_child(void)
{
	struct fwc_unixfs_options o;
	struct fwc_agent_dag_ref c;
	struct fwc_cid root, leaf;
	char dir[400], path[600];
	uint8_t *img = malloc(10000), *blk;
	size_t len = 0;

	CHECK(test_mkdtemp(dir, sizeof(dir), "child") == 0);
	test_pattern(img, 10000, 5);
	fwc_unixfs_options_default(&o, 1);
	o.chunk_size = 4096;
	CHECK(test_dag_write(&root, dir, img, 10000, &o, 0) == 0);
	test_block_path(path, sizeof(path), dir, &root);
	blk = (uint8_t *)test_read_file(path, &len);
	CHECK(blk != NULL);
	if (blk == NULL)
		return;
	for (uint64_t pos = 0; pos < 10000; pos += 1111) {
		size_t i = (size_t)(pos / 4096);

		CHECK_RC(fwc_agent_dag_child(&c, blk, len, 0, 10000, pos), FWC_OK);
		test_leaf_cid(&leaf, img, 10000, 4096, i);
		CHECK(c.kind == FWC_AGENT_CID_RAW && c.start == i * 4096);
		CHECK(c.size == (i < 2 ? 4096u : 10000u - 8192u));
		CHECK_MEM(c.digest, leaf.digest, 32);
	}
	/* the same node under another range: sizes disagree */
	CHECK_RC(fwc_agent_dag_child(&c, blk, len, 0, 10001, 0), FWC_ERR_MALFORMED);
	CHECK_RC(fwc_agent_dag_child(&c, blk, len, 4096, 10000, 4096), FWC_OK);
	CHECK(c.start == 4096);
	CHECK_RC(fwc_agent_dag_child(&c, blk, len, 0, 10000, 10000), FWC_ERR_ARG);
	CHECK(fwc_agent_dag_child(&c, blk, len - 1, 0, 10000, 0) < 0);
	free(blk);
	free(img);
	test_rmtree(dir);
}

int main(void)
{
	RUN(test_leaf_parsers);
	RUN(test_child);
	RUN(test_multilevel);
	RUN(test_cidv0);
	RUN(test_wrong_size);
	RUN(test_tampering_source);
	RUN(test_resume);
	return test_done();
}
