/* Tests node/gateway.c: plain file bytes equal the imported file (raw and dag-pb leaves, several
 * levels), Range answers (206 with exact Content-Range, 416, ignored forms) equal the slices of
 * the file, raw blocks equal the stored bytes, the CAR of "hello world" is byte for byte the
 * reference CAR of docs/formats/car.md, larger CARs read back through lib/car.c with every
 * block in depth-first order, dag-scope, Accept negotiation, filenames, and the refusals (bad
 * CID/format/scope, missing root or leaf named, directories). */
#include "test.h"

#include "fwchain/car.h"
#include "fwchain/dagpb.h"
#include "fwchain/unixfs.h"
#include "gateway.h"
#include "store_util.h"

#define HELLO_CAR                                                                                  \
	"3aa265726f6f747381d82a58250001551220b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee90"   \
	"88f7ace2efcde96776657273696f6e012f01551220b94d27b9934d3e08a52e52d7da7dabfac484efe37a53"   \
	"80ee9088f7ace2efcde968656c6c6f20776f726c64"
#define HELLO_CID "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e"
#define LOREM_CID "QmYSLcVQqxKygiq7x9w1XGYxU29EShB8ZemiaQ8GAAw17h"

static const char lorem[] =
    "Lorem ipsum dolor sit amet, sit enim montes aliquam. Cras non lorem, rhoncus condimentum, "
    "irure et ante. Pulvinar suscipit odio ante, et tellus a enim, wisi ipsum, vel rhoncus eget "
    "faucibus varius, luctus turpis nibh vel odio nulla pede.";

static char root[512];
static struct node_bs *bs;
static uint8_t big[20000];
static char big_cid[FWC_CID_STR_MAX];
static struct fwc_cid big_leaf; /* a raw leaf in the middle of big */
static uint64_t big_blocks;     /* distinct blocks of big */

static int put_block(void *ctx, const struct fwc_cid *cid, const uint8_t *b, size_t len)
{
	uint64_t *n = ctx;

	if (n != NULL) {
		(*n)++;
		if (*n == 9 && cid->codec == FWC_CID_CODEC_RAW)
			big_leaf = *cid;
	}
	return node_bs_put(bs, cid, b, len, 0, NULL);
}

static void import(char *cid_out, const void *data, size_t len, unsigned version, size_t chunk,
                   size_t links, uint64_t *count)
{
	struct fwc_unixfs_options o;
	struct fwc_unixfs_sink sink = {put_block, count};
	struct fwc_unixfs_result r;

	fwc_unixfs_options_default(&o, version);
	o.chunk_size = chunk;
	o.max_links = links;
	CHECK_RC(fwc_unixfs_import(&r, &o, &sink, data, len), FWC_OK);
	CHECK_RC(fwc_cid_format(cid_out, FWC_CID_STR_MAX, &r.root), FWC_OK);
}

/* Read the whole body in uneven pieces. */
static size_t body(struct node_gw_plan *p, uint8_t *out, size_t cap)
{
	size_t pos = 0, step = 1;

	while (pos < cap) {
		ssize_t n =
		    node_gw_read(p, bs, pos, out + pos, step < cap - pos ? step : cap - pos);

		if (n <= 0)
			break;
		pos += (size_t)n;
		step = step * 3 + 1;
	}
	return pos;
}

static int plan(struct node_gw_plan *p, const char *cid, const char *format, const char *scope,
                const char *accept, const char *range, const char *filename)
{
	struct node_gw_request r = {cid, format, scope, filename, accept, range, NULL};

	return node_gw_plan(p, bs, &r);
}

static int plan_eb(struct node_gw_plan *p, const char *cid, const char *format,
                   const char *entity_bytes)
{
	struct node_gw_request r = {cid, format, NULL, NULL, NULL, NULL, entity_bytes};

	return node_gw_plan(p, bs, &r);
}

/* entity-bytes (trustless gateway spec): the CAR holds the root first and exactly the leaves
 * that cover the asked bytes — computed here independently as the 1000-byte chunks of big
 * (raw CIDv1 of each chunk) — plus the interior nodes above them; negative offsets count from
 * the end, "*" is the end, a range past the end is cut to it; outside the file, malformed, or
 * on a non-CAR request: 400; a distinct ETag per range. */
static void test_entity_bytes(void)
{
	static const struct {
		const char *eb;
		unsigned first, last; /* leaves (chunks of 1000 bytes) */
		const char *same;     /* the same resolved range written plainly */
	} ok[] = {
	    {"0:*", 0, 19, "0:19999"},
	    {"0:0", 0, 0, "0:0"},
	    {"1000:1999", 1, 1, "1000:1999"},
	    {"999:1000", 0, 1, "999:1000"},
	    {"-1500:*", 18, 19, "18500:19999"},
	    {"1999:-15001", 1, 4, "1999:4999"},
	    {"12345:99999999", 12, 19, "12345:19999"},
	};
	char etags[sizeof(ok) / sizeof(ok[0])][NODE_GW_ETAG_MAX];
	static const char *const bad[] = {"20000:*", "5:4",   "-0:-30000",
	                                  "abc",     "1:2:3", "1:",
	                                  ":5",      "1:x",   "99999999999999999999:*"};
	static uint8_t out[40000];
	struct node_gw_plan p;

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		struct fwc_cid leaves[20], rootcid;
		struct fwc_car_reader r;
		struct fwc_car_header h;
		struct fwc_car_block b;
		int found[20] = {0}, nraw = 0, nb = 0;
		size_t n;

		for (unsigned k = 0; k < 20; k++)
			CHECK_RC(fwc_cid_from_block(&leaves[k], 1, FWC_CID_CODEC_RAW,
			                            big + 1000 * k, 1000),
			         FWC_OK);
		CHECK_RC(fwc_cid_parse(&rootcid, big_cid, strlen(big_cid), NULL), FWC_OK);
		CHECK_RC(plan_eb(&p, big_cid, "car", ok[i].eb), FWC_OK);
		if (p.status != 200)
			fprintf(stderr, "entity-bytes=%s: %u %s\n", ok[i].eb, p.status,
			        p.error_msg);
		CHECK(p.status == 200);
		/* an ETag of its own per range, the same for the same resolved range */
		CHECK(strncmp(p.etag + 1, big_cid, strlen(big_cid)) == 0 &&
		      strncmp(p.etag + 1 + strlen(big_cid), ".car.eb", 7) == 0);
		CHECK(strlen(p.etag) < 80);
		snprintf(etags[i], sizeof(etags[i]), "%s", p.etag);
		for (size_t k = 0; k < i; k++)
			CHECK(strcmp(etags[k], etags[i]) != 0);
		{
			struct node_gw_plan q;

			CHECK_RC(plan_eb(&q, big_cid, "car", ok[i].same), FWC_OK);
			CHECK(strcmp(q.etag, p.etag) == 0 && q.length == p.length);
			node_gw_plan_cleanup(&q);
		}
		n = body(&p, out, sizeof(out));
		CHECK(n == p.length);
		CHECK_RC(fwc_car_reader_init(&r, &h, out, n, 1 << 20, NULL), FWC_OK);
		while (fwc_car_reader_next(&r, &b, NULL) == 1) {
			if (nb++ == 0)
				CHECK(fwc_cid_equal(&b.cid, &rootcid));
			if (b.cid.codec != FWC_CID_CODEC_RAW)
				continue;
			nraw++;
			for (unsigned k = 0; k < 20; k++)
				if (fwc_cid_equal(&b.cid, &leaves[k]))
					found[k]++;
		}
		CHECK(r.off == n);
		if (nraw != (int)(ok[i].last - ok[i].first + 1))
			fprintf(stderr, "entity-bytes=%s: %d raw blocks, %d blocks\n", ok[i].eb,
			        nraw, nb);
		CHECK(nraw == (int)(ok[i].last - ok[i].first + 1));
		for (unsigned k = ok[i].first; k <= ok[i].last; k++) {
			if (found[k] != 1)
				fprintf(stderr,
				        "entity-bytes=%s: leaf %u found %d times (%d blocks)\n",
				        ok[i].eb, k, found[k], nb);
			CHECK(found[k] == 1);
		}
		if (strcmp(ok[i].eb, "0:*") == 0)
			CHECK(nb == (int)big_blocks); /* the whole file: every block */
		else
			CHECK(nb < (int)big_blocks);
		node_gw_plan_cleanup(&p);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		(void)plan_eb(&p, big_cid, "car", bad[i]); /* a refusal: status and message */
		if (p.status != 400)
			fprintf(stderr, "entity-bytes=%s: status %u\n", bad[i], p.status);
		CHECK(p.status == 400);
		node_gw_plan_cleanup(&p);
	}
	(void)plan_eb(&p, big_cid, NULL, "0:10");
	CHECK(p.status == 400 && strstr(p.error_msg, "CAR") != NULL);
	node_gw_plan_cleanup(&p);
	/* a raw root: the block itself */
	CHECK_RC(plan_eb(&p, HELLO_CID, "car", "0:3"), FWC_OK);
	CHECK(p.status == 200);
	{
		static uint8_t want[256];
		size_t wn = test_unhex(want, sizeof(want), HELLO_CAR);

		CHECK(body(&p, out, sizeof(out)) == wn && memcmp(out, want, wn) == 0);
	}
	node_gw_plan_cleanup(&p);
}

static void test_file_bytes(void)
{
	struct node_gw_plan p;
	static uint8_t out[25000];
	char cid[FWC_CID_STR_MAX];

	CHECK_RC(plan(&p, HELLO_CID, NULL, NULL, NULL, NULL, NULL), FWC_OK);
	CHECK(p.status == 200 && p.format == NODE_GW_FILE && p.length == 11);
	CHECK(body(&p, out, sizeof(out)) == 11 && memcmp(out, "hello world", 11) == 0);
	CHECK(strcmp(p.etag, "\"" HELLO_CID "\"") == 0);
	CHECK(strcmp(p.content_type, "application/octet-stream") == 0);
	CHECK(strcmp(p.ipfs_path, "/ipfs/" HELLO_CID) == 0);
	CHECK(p.accept_ranges && !p.nosniff && p.content_disposition[0] == '\0');
	CHECK(p.nsegs == 1 && !p.segs[0].literal); /* one block file, zero-copy */
	node_gw_plan_cleanup(&p);

	/* dag-pb leaves, three levels (go-ipfs: QmYSLc…) */
	import(cid, lorem, strlen(lorem), 0, 32, 0, NULL);
	CHECK(strcmp(cid, LOREM_CID) == 0);
	CHECK_RC(plan(&p, LOREM_CID, NULL, NULL, NULL, NULL, NULL), FWC_OK);
	CHECK(p.length == strlen(lorem));
	CHECK(body(&p, out, sizeof(out)) == strlen(lorem) &&
	      memcmp(out, lorem, strlen(lorem)) == 0);
	CHECK(p.nsegs == (strlen(lorem) + 31) / 32); /* one range per leaf, inside each block */
	node_gw_plan_cleanup(&p);

	/* raw leaves, several levels */
	CHECK_RC(plan(&p, big_cid, NULL, NULL, NULL, NULL, NULL), FWC_OK);
	CHECK(p.length == sizeof(big) && p.nsegs == 20);
	CHECK(body(&p, out, sizeof(out)) == sizeof(big) && memcmp(out, big, sizeof(big)) == 0);
	node_gw_plan_cleanup(&p);
}

static uint64_t rng = 99;

static uint64_t rnd(uint64_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng % n;
}

static void test_ranges(void)
{
	struct node_gw_plan p;
	static uint8_t out[25000];
	char h[64], want[80];

	for (int i = 0; i < 60; i++) {
		uint64_t a = rnd(sizeof(big)), b = a + rnd(sizeof(big) - a);

		snprintf(h, sizeof(h), "bytes=%llu-%llu", (unsigned long long)a,
		         (unsigned long long)b);
		CHECK_RC(plan(&p, big_cid, NULL, NULL, NULL, h, NULL), FWC_OK);
		CHECK(p.status == 206 && p.length == b - a + 1 && p.total == sizeof(big));
		snprintf(want, sizeof(want), "bytes %llu-%llu/20000", (unsigned long long)a,
		         (unsigned long long)b);
		CHECK(strcmp(p.content_range, want) == 0);
		CHECK(body(&p, out, sizeof(out)) == b - a + 1);
		CHECK(memcmp(out, big + a, (size_t)(b - a + 1)) == 0);
		/* reading from the middle of the body finds the right segment */
		if (b > a + 2) {
			uint8_t two[2];

			CHECK(node_gw_read(&p, bs, (b - a) / 2, two, 2) == 2);
			CHECK(memcmp(two, big + a + (b - a) / 2, 2) == 0);
		}
		node_gw_plan_cleanup(&p);
	}
	/* suffix, open end, end beyond the size, one byte */
	CHECK_RC(plan(&p, big_cid, NULL, NULL, NULL, "bytes=-100", NULL), FWC_OK);
	CHECK(p.status == 206 && strcmp(p.content_range, "bytes 19900-19999/20000") == 0);
	CHECK(body(&p, out, sizeof(out)) == 100 && memcmp(out, big + 19900, 100) == 0);
	node_gw_plan_cleanup(&p);
	CHECK_RC(plan(&p, big_cid, NULL, NULL, NULL, "bytes=19990-", NULL), FWC_OK);
	CHECK(strcmp(p.content_range, "bytes 19990-19999/20000") == 0 && p.length == 10);
	node_gw_plan_cleanup(&p);
	CHECK_RC(plan(&p, big_cid, NULL, NULL, NULL, "bytes=19000-99999", NULL), FWC_OK);
	CHECK(strcmp(p.content_range, "bytes 19000-19999/20000") == 0 && p.length == 1000);
	node_gw_plan_cleanup(&p);
	CHECK_RC(plan(&p, big_cid, NULL, NULL, NULL, "bytes=0-0", NULL), FWC_OK);
	CHECK(p.length == 1 && body(&p, out, 1) == 1 && out[0] == big[0]);
	node_gw_plan_cleanup(&p);
	CHECK_RC(plan(&p, big_cid, NULL, NULL, NULL, "bytes=-30000", NULL), FWC_OK);
	CHECK(p.status == 206 && p.length == 20000);
	node_gw_plan_cleanup(&p);
	/* unsatisfiable: 416 with the size */
	CHECK_RC(plan(&p, big_cid, NULL, NULL, NULL, "bytes=20000-", NULL), FWC_ERR_RANGE);
	CHECK(p.status == 416 && strcmp(p.content_range, "bytes */20000") == 0 && p.length == 0);
	node_gw_plan_cleanup(&p);
	CHECK_RC(plan(&p, big_cid, NULL, NULL, NULL, "bytes=-0", NULL), FWC_ERR_RANGE);
	node_gw_plan_cleanup(&p);
	/* ignored (RFC 9110 allows it): several ranges, bad syntax, other units → the whole 200 */
	{
		static const char *const ignored[] = {"bytes=0-1,5-6", "bytes=5-2",
		                                      "items=0-1",     "bytes=x-",
		                                      "bytes=",        "bytes=1-2 junk"};

		for (size_t i = 0; i < sizeof(ignored) / sizeof(ignored[0]); i++) {
			CHECK_RC(plan(&p, big_cid, NULL, NULL, NULL, ignored[i], NULL), FWC_OK);
			CHECK(p.status == 200 && p.length == 20000 && p.content_range[0] == 0);
			node_gw_plan_cleanup(&p);
		}
	}
	/* ranges of a raw block */
	CHECK_RC(plan(&p, HELLO_CID, "raw", NULL, NULL, "bytes=6-", NULL), FWC_OK);
	CHECK(p.status == 206 && body(&p, out, sizeof(out)) == 5 && memcmp(out, "world", 5) == 0);
	node_gw_plan_cleanup(&p);
}

static void test_raw_and_car(void)
{
	struct node_gw_plan p;
	static uint8_t out[40000], want[256];
	size_t n, wn;
	uint8_t *blk = NULL;
	size_t blen = 0;
	struct fwc_cid c;

	/* raw: the stored bytes of the root block */
	CHECK_RC(fwc_cid_parse(&c, LOREM_CID, strlen(LOREM_CID), NULL), FWC_OK);
	CHECK_RC(node_bs_get(bs, &c, &blk, &blen, NULL), FWC_OK);
	CHECK_RC(plan(&p, LOREM_CID, "raw", NULL, NULL, NULL, NULL), FWC_OK);
	CHECK(strcmp(p.content_type, "application/vnd.ipld.raw") == 0 && p.nosniff);
	CHECK(strcmp(p.etag, "\"" LOREM_CID ".raw\"") == 0);
	CHECK(strcmp(p.content_disposition, "attachment; filename=\"" LOREM_CID ".bin\"") == 0);
	n = body(&p, out, sizeof(out));
	CHECK(blk != NULL && n == blen && memcmp(out, blk, blen) == 0);
	node_gw_plan_cleanup(&p);
	free(blk);

	/* the CAR of "hello world" is the reference CAR of docs/formats/car.md */
	wn = test_unhex(want, sizeof(want), HELLO_CAR);
	CHECK_RC(plan(&p, HELLO_CID, "car", NULL, NULL, "bytes=0-5", NULL), FWC_OK);
	CHECK(p.status == 200); /* Range is not applied to CARs */
	CHECK(strcmp(p.content_type, "application/vnd.ipld.car; version=1; order=dfs; dups=n") ==
	      0);
	CHECK(strcmp(p.etag, "\"" HELLO_CID ".car.all\"") == 0);
	n = body(&p, out, sizeof(out));
	CHECK(n == wn && n == p.length && memcmp(out, want, wn) == 0);
	node_gw_plan_cleanup(&p);

	/* a larger DAG: read back with lib/car.c, root first, every block once, all present */
	for (int scope = 0; scope < 3; scope++) {
		static const char *const scopes[] = {"all", "entity", "block"};
		struct fwc_car_reader r;
		struct fwc_car_header h;
		struct fwc_car_block b;
		uint64_t nb = 0;

		CHECK_RC(
		    plan(&p, big_cid, NULL, scopes[scope], "application/vnd.ipld.car", NULL, NULL),
		    FWC_OK);
		CHECK(p.format == NODE_GW_CAR);
		n = body(&p, out, sizeof(out));
		CHECK(n == p.length);
		CHECK_RC(fwc_car_reader_init(&r, &h, out, n, 1 << 20, NULL), FWC_OK);
		CHECK(h.nroots == 1);
		while (fwc_car_reader_next(&r, &b, NULL) == 1) {
			if (nb == 0)
				CHECK(fwc_cid_equal(&b.cid, &h.roots[0]));
			CHECK_RC(node_bs_has(bs, &b.cid, NULL), 1);
			nb++;
		}
		CHECK(r.off == n);
		CHECK(nb == (scope == 2 ? 1 : big_blocks));
		node_gw_plan_cleanup(&p);
	}
}

static void test_negotiation_and_names(void)
{
	struct node_gw_plan p;

	CHECK_RC(plan(&p, HELLO_CID, NULL, NULL, "text/html, application/vnd.ipld.raw;q=0.9", NULL,
	              NULL),
	         FWC_OK);
	CHECK(p.format == NODE_GW_RAW);
	node_gw_plan_cleanup(&p);
	CHECK_RC(plan(&p, HELLO_CID, NULL, NULL,
	              "application/vnd.ipld.car;version=1, application/vnd.ipld.raw", NULL, NULL),
	         FWC_OK);
	CHECK(p.format == NODE_GW_CAR);
	node_gw_plan_cleanup(&p);
	CHECK_RC(plan(&p, HELLO_CID, "raw", NULL, "application/vnd.ipld.car", NULL, NULL), FWC_OK);
	CHECK(p.format == NODE_GW_RAW); /* ?format= wins over Accept */
	node_gw_plan_cleanup(&p);
	CHECK_RC(plan(&p, HELLO_CID, NULL, NULL, "application/vnd.ipld.car; version=2", NULL, NULL),
	         FWC_ERR_UNSUPPORTED);
	CHECK(p.status == 406);
	node_gw_plan_cleanup(&p);
	CHECK_RC(plan(&p, HELLO_CID, NULL, NULL, "*/*", NULL, NULL), FWC_OK);
	CHECK(p.format == NODE_GW_FILE);
	node_gw_plan_cleanup(&p);

	CHECK_RC(plan(&p, HELLO_CID, NULL, NULL, NULL, NULL, "fw-1.2 (rc1).bin"), FWC_OK);
	CHECK(strcmp(p.content_disposition, "inline; filename=\"fw-1.2 (rc1).bin\"") == 0);
	node_gw_plan_cleanup(&p);
	CHECK_RC(plan(&p, HELLO_CID, NULL, NULL, NULL, NULL, "r\xc3\xa9sum\xc3\xa9\"x.bin"),
	         FWC_OK);
	CHECK(strcmp(p.content_disposition, "inline; filename=\"r__sum___x.bin\"; "
	                                    "filename*=UTF-8''r%C3%A9sum%C3%A9%22x.bin") == 0);
	node_gw_plan_cleanup(&p);
	CHECK_RC(plan(&p, HELLO_CID, "car", NULL, NULL, NULL, "img.car"), FWC_OK);
	CHECK(strcmp(p.content_disposition, "attachment; filename=\"img.car\"") == 0);
	node_gw_plan_cleanup(&p);
	CHECK_RC(plan(&p, HELLO_CID, NULL, NULL, NULL, NULL, "a\nb"), FWC_ERR_MALFORMED);
	CHECK(p.status == 400);
	node_gw_plan_cleanup(&p);
	{
		char longname[300];

		memset(longname, 'a', 256);
		longname[256] = '\0';
		CHECK_RC(plan(&p, HELLO_CID, NULL, NULL, NULL, NULL, longname), FWC_ERR_MALFORMED);
		node_gw_plan_cleanup(&p);
	}
}

static void test_refusals(void)
{
	struct node_gw_plan p;
	char txt[FWC_CID_STR_MAX];

	CHECK_RC(plan(&p, "nonsense", NULL, NULL, NULL, NULL, NULL), FWC_ERR_MALFORMED);
	CHECK(p.status == 400 && strcmp(p.error_code, "bad_cid") == 0);
	CHECK(strstr(p.error_msg, "invalid CID") != NULL);
	node_gw_plan_cleanup(&p);
	/* dag-cbor: a well-formed CID of a codec the gateway does not serve */
	CHECK_RC(plan(&p, "bafyreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku", NULL, NULL,
	              NULL, NULL, NULL),
	         FWC_ERR_MALFORMED);
	CHECK(p.status == 400 && strcmp(p.error_code, "unsupported_cid") == 0);
	node_gw_plan_cleanup(&p);
	CHECK_RC(plan(&p, HELLO_CID, "json", NULL, NULL, NULL, NULL), FWC_ERR_MALFORMED);
	CHECK(p.status == 400);
	node_gw_plan_cleanup(&p);
	CHECK_RC(plan(&p, HELLO_CID, "car", "everything", NULL, NULL, NULL), FWC_ERR_MALFORMED);
	node_gw_plan_cleanup(&p);
	/* well-formed but absent: the CID of "hello world\n" */
	CHECK_RC(plan(&p, "QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o", NULL, NULL, NULL, NULL,
	              NULL),
	         FWC_ERR_NOT_FOUND);
	CHECK(p.status == 404 && strstr(p.error_msg, "QmT78z") != NULL);
	node_gw_plan_cleanup(&p);

	/* a leaf missing: file bytes and the full CAR name it; the root block is still served */
	CHECK_RC(fwc_cid_format(txt, sizeof(txt), &big_leaf), FWC_OK);
	CHECK_RC(node_bs_delete(bs, &big_leaf), FWC_OK);
	CHECK_RC(plan(&p, big_cid, NULL, NULL, NULL, NULL, NULL), FWC_ERR_NOT_FOUND);
	CHECK(p.status == 404 && strstr(p.error_msg, txt) != NULL && p.length == 0);
	node_gw_plan_cleanup(&p);
	CHECK_RC(plan(&p, big_cid, "car", NULL, NULL, NULL, NULL), FWC_ERR_NOT_FOUND);
	CHECK(strstr(p.error_msg, txt) != NULL);
	node_gw_plan_cleanup(&p);
	CHECK_RC(plan(&p, big_cid, "car", "block", NULL, NULL, NULL), FWC_OK);
	node_gw_plan_cleanup(&p);
	CHECK_RC(plan(&p, big_cid, "raw", NULL, NULL, NULL, NULL), FWC_OK);
	node_gw_plan_cleanup(&p);

	/* a directory: not served as bytes (501); its CAR is the node (entity) or all of it */
	{
		struct fwc_unixfs_data u;
		struct fwc_dagpb_link l;
		uint8_t data[16], node[256];
		size_t dl, nl;
		struct fwc_cid dir;
		char dtxt[FWC_CID_STR_MAX];

		memset(&u, 0, sizeof(u));
		u.type = FWC_UNIXFS_DIRECTORY;
		CHECK_RC(fwc_unixfs_data_encode(data, sizeof(data), &dl, &u, NULL, 0), FWC_OK);
		memset(&l, 0, sizeof(l));
		CHECK_RC(fwc_cid_parse(&l.cid, HELLO_CID, strlen(HELLO_CID), NULL), FWC_OK);
		l.name = (const uint8_t *)"hello.txt";
		l.name_len = 9;
		l.has_name = 1;
		l.tsize = 11;
		l.has_tsize = 1;
		CHECK_RC(fwc_dagpb_encode(node, sizeof(node), &nl, &l, 1, data, dl, 1), FWC_OK);
		CHECK_RC(fwc_cid_from_block(&dir, 1, FWC_CID_CODEC_DAGPB, node, nl), FWC_OK);
		CHECK_RC(node_bs_put(bs, &dir, node, nl, 0, NULL), FWC_OK);
		CHECK_RC(fwc_cid_format(dtxt, sizeof(dtxt), &dir), FWC_OK);
		CHECK_RC(plan(&p, dtxt, NULL, NULL, NULL, NULL, NULL), FWC_ERR_UNSUPPORTED);
		CHECK(p.status == 501 && strstr(p.error_msg, "directory") != NULL);
		node_gw_plan_cleanup(&p);
		CHECK_RC(plan(&p, dtxt, "car", "entity", NULL, NULL, NULL), FWC_OK);
		CHECK(p.length == fwc_car_header_len(&dir, 1) + 1 + 36 + nl);
		node_gw_plan_cleanup(&p);
		CHECK_RC(plan(&p, dtxt, "car", "all", NULL, NULL, NULL), FWC_OK);
		CHECK(p.length == fwc_car_header_len(&dir, 1) + 1 + 36 + nl + 1 + 36 + 11);
		node_gw_plan_cleanup(&p);
	}
}

int main(void)
{
	struct node_bs_options o;
	char dir[600];

	if (su_mkdtemp(root, sizeof(root), "gw") != 0) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(dir, sizeof(dir), "%s/store", root);
	node_bs_options_default(&o);
	o.floor_bytes = 0;
	if (node_bs_open(&bs, dir, &o, NULL) != FWC_OK) {
		fprintf(stderr, "cannot open the store\n");
		return 1;
	}
	{
		struct fwc_cid c;

		CHECK_RC(fwc_cid_parse(&c, HELLO_CID, strlen(HELLO_CID), NULL), FWC_OK);
		CHECK_RC(node_bs_put(bs, &c, (const uint8_t *)"hello world", 11, 0, NULL), FWC_OK);
	}
	su_fill(big, sizeof(big), 77);
	import(big_cid, big, sizeof(big), 1, 1000, 4, &big_blocks);
	CHECK(big_blocks == 28); /* 20 leaves, 8 interior nodes, all distinct */
	RUN(test_file_bytes);
	RUN(test_ranges);
	RUN(test_raw_and_car);
	RUN(test_negotiation_and_names);
	RUN(test_entity_bytes); /* before test_refusals, which deletes a leaf */
	RUN(test_refusals);
	node_bs_close(bs);
	su_rmtree(root);
	return test_done();
}
