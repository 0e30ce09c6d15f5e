/* Tests node/import.c: file uploads give the CIDs Kubo's `ipfs add` prints (known answers from
 * tests/vectors/kubo-cids.tsv and unixfs-small-chunks.tsv) whatever the piece sizes; uploads
 * cut at random points — abandoned, or by a simulated crash of the block store mid-put — leave
 * no pin and nothing a GC does not remove, and the retried upload completes; CAR uploads are
 * pinned only when the DAG is complete (the missing block is named), hash mismatches and
 * limits stop them, and a full disk (the floor) gives a clear error and a consistent store. */
#include "test.h"

#include "import.h"
#include "fwchain/sha256.h"
#include "fwchain/car.h"
#include "fwchain/unixfs.h"
#include "store_util.h"

static char root[512];

struct env {
	char dir[600];
	struct node_bs *bs;
	sqlite3 *db;
	struct node_pins *pins;
};

static int env_open_opt(struct env *e, const char *name, const struct node_bs_options *o)
{
	char dbp[700];

	snprintf(e->dir, sizeof(e->dir), "%s/%s", root, name);
	e->bs = NULL;
	e->db = NULL;
	e->pins = NULL;
	CHECK_RC(node_bs_open(&e->bs, e->dir, o, NULL), FWC_OK);
	if (e->bs == NULL)
		return -1;
	snprintf(dbp, sizeof(dbp), "%s/ledger.db", e->dir);
	CHECK(sqlite3_open(dbp, &e->db) == SQLITE_OK);
	CHECK_RC(node_pins_open(&e->pins, e->db, e->bs, NULL), FWC_OK);
	return e->pins != NULL ? 0 : -1;
}

static int env_open(struct env *e, const char *name)
{
	struct node_bs_options o;

	node_bs_options_default(&o);
	o.floor_bytes = 0;
	return env_open_opt(e, name, &o);
}

static void env_close(struct env *e)
{
	node_pins_close(e->pins);
	sqlite3_close(e->db);
	node_bs_close(e->bs);
}

static uint64_t store_blocks(struct env *e)
{
	struct node_bs_stats st;

	if (node_bs_stats(e->bs, &st) != FWC_OK)
		return UINT64_MAX;
	return st.blocks;
}

static uint64_t rng = 12345;

static size_t rnd(size_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return n ? (size_t)(rng % n) : 0;
}

/* Push data[0..len) in random pieces of 1..maxpiece bytes. */
static int push_pieces(struct node_import *im, const uint8_t *data, size_t len, size_t maxpiece,
                       struct fwc_errinfo *ei)
{
	size_t pos = 0;
	int rc = FWC_OK;

	while (pos < len && rc == FWC_OK) {
		size_t n = 1 + rnd(maxpiece);

		if (n > len - pos)
			n = len - pos;
		rc = node_import_push(im, data + pos, n, ei);
		pos += n;
	}
	return rc;
}

static int upload(struct env *e, const struct node_import_options *o, const uint8_t *data,
                  size_t len, size_t maxpiece, struct node_import_result *res,
                  struct fwc_errinfo *ei)
{
	struct node_import *im = NULL;
	int rc = node_import_begin(&im, e->pins, o, ei);

	if (rc == FWC_OK)
		rc = push_pieces(im, data, len, maxpiece, ei);
	if (rc == FWC_OK)
		rc = node_import_finish(im, res, ei);
	node_import_free(im);
	return rc;
}

static int cid_is(const struct fwc_cid *c, const char *text)
{
	char t[FWC_CID_STR_MAX];

	return fwc_cid_format(t, sizeof(t), c) == FWC_OK && strcmp(t, text) == 0;
}

static const char lorem[] =
    "Lorem ipsum dolor sit amet, sit enim montes aliquam. Cras non lorem, rhoncus condimentum, "
    "irure et ante. Pulvinar suscipit odio ante, et tellus a enim, wisi ipsum, vel rhoncus eget "
    "faucibus varius, luctus turpis nibh vel odio nulla pede.";

static void test_file_known_answers(void)
{
	struct env e;
	struct node_import_options o;
	struct node_import_result r;
	uint8_t want_sha[32];

	if (env_open(&e, "known") != 0)
		return;
	node_import_options_default(&o, NODE_IMPORT_FILE);
	CHECK_RC(upload(&e, &o, (const uint8_t *)"hello world", 11, 3, &r, NULL), FWC_OK);
	CHECK(cid_is(&r.root, "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e"));
	CHECK(r.size == 11 && r.blocks == 1 && r.dag_bytes == 11);
	test_unhex(want_sha, 32,
	           "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9");
	CHECK_MEM(r.sha256, want_sha, 32);
	CHECK_RC(node_pins_is_pinned(e.pins, &r.root), 1);
	o.cid_version = 0;
	CHECK_RC(upload(&e, &o, (const uint8_t *)"hello world", 11, 11, &r, NULL), FWC_OK);
	CHECK(cid_is(&r.root, "Qmf412jQZiuVUtdgnB36FXFX7xg5V6KEbSJ4dpQuhkLyfD"));
	/* three layers: 32-byte chunks, CIDv0 (go-ipfs result), pushed a byte at a time */
	o.chunk_size = 32;
	CHECK_RC(upload(&e, &o, (const uint8_t *)lorem, strlen(lorem), 1, &r, NULL), FWC_OK);
	CHECK(cid_is(&r.root, "QmYSLcVQqxKygiq7x9w1XGYxU29EShB8ZemiaQ8GAAw17h"));
	CHECK(r.blocks > 3);
	CHECK_RC(node_dag_check(e.bs, &r.root, NULL, NULL, NULL, NULL), FWC_OK);
	CHECK_RC(node_pins_is_pinned(e.pins, &r.root), 1);
	env_close(&e);
}

/* mod251:349 with 1-byte chunks: 349 leaves under 3 nodes and a root (go-ipfs/rust-ipfs
 * golden). */
#define BIG_LEN 349
#define BIG_CID "QmW3rbpL6Yxa1UREkN8bFvrm8b5LiyHNUWzu5w3Rm5q8T4"

static void test_file_interrupted_then_retried(void)
{
	struct env e;
	struct node_import_options o;
	struct node_import_result r;
	struct node_gc_result g;
	uint8_t data[BIG_LEN];

	for (size_t i = 0; i < BIG_LEN; i++)
		data[i] = (uint8_t)(i % 251);
	if (env_open(&e, "interrupt") != 0)
		return;
	node_import_options_default(&o, NODE_IMPORT_FILE);
	o.cid_version = 0;
	o.chunk_size = 1;
	for (int round = 0; round < 6; round++) {
		struct node_import *im = NULL;
		size_t cut = 1 + rnd(BIG_LEN - 1);

		CHECK_RC(node_import_begin(&im, e.pins, &o, NULL), FWC_OK);
		if (im == NULL)
			break;
		CHECK_RC(push_pieces(im, data, cut, 40, NULL), FWC_OK);
		node_import_free(im); /* the client went away */
		/* staged, never committed: nothing of it is visible, its temp pack is gone */
		CHECK(store_blocks(&e) == 0);
		{
			char tmpd[700];

			snprintf(tmpd, sizeof(tmpd), "%s/tmp", e.dir);
			CHECK(su_count_entries(tmpd) == 0);
		}
		/* nothing is pinned and a GC takes the store back to empty */
		CHECK_RC(node_pins_gc(e.pins, 0, &g, NULL), FWC_OK);
		CHECK(g.pins == 0 && store_blocks(&e) == 0);
	}
	CHECK_RC(upload(&e, &o, data, BIG_LEN, 64, &r, NULL), FWC_OK);
	CHECK(cid_is(&r.root, BIG_CID));
	CHECK(r.blocks == BIG_LEN + 3 + 1);
	CHECK_RC(node_pins_gc(e.pins, 0, &g, NULL), FWC_OK);
	CHECK(g.removed == 0 && store_blocks(&e) == 251 + 3 + 1); /* leaves repeat after 251 */
	CHECK_RC(node_dag_check(e.bs, &r.root, NULL, NULL, NULL, NULL), FWC_OK);
	env_close(&e);
}

/* The block store "crashes" (stops dead, leaving its files as they are) in the middle of a
 * random record of the upload's pack, after the pack's sync, or after its rename into place;
 * the process is restarted (store and pins reopened), and the upload is retried. Before the
 * rename the restart finds a temp pack and deletes it (no block); after it, every block of
 * the upload, whole, and no pin. */
static void test_file_crash_then_retried(void)
{
	uint8_t data[BIG_LEN];

	for (size_t i = 0; i < BIG_LEN; i++)
		data[i] = (uint8_t)(i % 251);
	for (int round = 0; round < 4; round++) {
		static const enum node_bs_crash points[] = {
		    NODE_BS_CRASH_AFTER_WRITE, NODE_BS_CRASH_AFTER_SYNC, NODE_BS_CRASH_AFTER_LINK,
		    NODE_BS_CRASH_AFTER_SYNC};
		struct env e;
		struct node_bs_options bo;
		struct node_import_options o;
		struct node_import_result r;
		struct node_gc_result g;
		struct fwc_errinfo ei;
		char tmpd[700];
		char name[32];

		snprintf(name, sizeof(name), "crash%d", round);
		node_bs_options_default(&bo);
		bo.floor_bytes = 0;
		bo.crash = points[round];
		bo.crash_after = rnd(250);
		if (env_open_opt(&e, name, &bo) != 0)
			return;
		node_import_options_default(&o, NODE_IMPORT_FILE);
		o.cid_version = 0;
		o.chunk_size = 1;
		CHECK_RC(upload(&e, &o, data, BIG_LEN, 50, &r, &ei), FWC_ERR_IO);
		CHECK(strstr(ei.msg, "simulated crash") != NULL);
		env_close(&e); /* the process dies; sessions are memory only */
		snprintf(tmpd, sizeof(tmpd), "%s/tmp", e.dir);
		CHECK(su_count_entries(tmpd) ==
		      (points[round] == NODE_BS_CRASH_AFTER_LINK ? 0 : 1));

		if (env_open(&e, name) != 0) /* restart */
			return;
		CHECK(su_count_entries(tmpd) == 0);
		/* 251 distinct leaves (mod 251), 3 interior nodes, the root */
		CHECK(store_blocks(&e) == (points[round] == NODE_BS_CRASH_AFTER_LINK ? 255u : 0u));
		CHECK_RC(node_pins_gc(e.pins, 0, &g, NULL), FWC_OK);
		CHECK(store_blocks(&e) == 0); /* no pin refers to any of it */
		CHECK_RC(upload(&e, &o, data, BIG_LEN, 50, &r, NULL), FWC_OK);
		CHECK(cid_is(&r.root, BIG_CID));
		CHECK_RC(node_pins_is_pinned(e.pins, &r.root), 1);
		env_close(&e);
	}
}

/* The blocks of the lorem DAG (CIDv1, 32-byte chunks) and CARs made of them. */
struct blocks {
	struct fwc_cid cids[64];
	uint8_t data[64][512];
	size_t lens[64];
	size_t n;
	struct fwc_cid root;
};

static int keep(void *ctx, const struct fwc_cid *cid, const uint8_t *b, size_t len)
{
	struct blocks *bl = ctx;

	if (bl->n == 64 || len > 512)
		return FWC_ERR_TOO_LARGE;
	bl->cids[bl->n] = *cid;
	memcpy(bl->data[bl->n], b, len);
	bl->lens[bl->n++] = len;
	return FWC_OK;
}

/* CAR with roots[0..nroots) and every block except index skip (SIZE_MAX: none), root first. */
static size_t make_car(uint8_t *out, size_t cap, const struct blocks *bl, size_t nroots,
                       size_t skip)
{
	struct fwc_cid roots[2] = {bl->root, bl->cids[0]};
	size_t n, pos;

	CHECK_RC(fwc_car_header_encode(out, cap, &n, roots, nroots), FWC_OK);
	pos = n;
	for (size_t k = bl->n; k-- > 0;) {
		if (k == skip)
			continue;
		CHECK_RC(fwc_car_section_head(out + pos, cap - pos, &n, &bl->cids[k], bl->lens[k]),
		         FWC_OK);
		pos += n;
		memcpy(out + pos, bl->data[k], bl->lens[k]);
		pos += bl->lens[k];
	}
	return pos;
}

static void test_car_uploads(void)
{
	static struct blocks bl;
	static uint8_t car[8192];
	struct fwc_unixfs_options uo;
	struct fwc_unixfs_sink sink = {keep, &bl};
	struct fwc_unixfs_result ur;
	struct node_import_options o;
	struct node_import_result r;
	struct node_gc_result g;
	struct fwc_errinfo ei;
	struct env e;
	char txt[FWC_CID_STR_MAX];
	size_t len, mid;

	fwc_unixfs_options_default(&uo, 1);
	uo.chunk_size = 32;
	CHECK_RC(fwc_unixfs_import(&ur, &uo, &sink, lorem, strlen(lorem)), FWC_OK);
	bl.root = ur.root;
	CHECK(bl.n == ur.blocks && bl.n > 3);
	if (env_open(&e, "car") != 0)
		return;
	node_import_options_default(&o, NODE_IMPORT_CAR);

	/* complete CAR, random pieces: pinned, same root, every block there */
	len = make_car(car, sizeof(car), &bl, 1, SIZE_MAX);
	CHECK_RC(upload(&e, &o, car, len, 97, &r, &ei), FWC_OK);
	CHECK(fwc_cid_equal(&r.root, &bl.root) && r.blocks == bl.n);
	CHECK_RC(node_pins_is_pinned(e.pins, &bl.root), 1);
	CHECK_RC(node_pins_remove(e.pins, &bl.root, "upload"), FWC_OK);
	CHECK_RC(node_pins_gc(e.pins, 0, &g, NULL), FWC_OK);
	CHECK(store_blocks(&e) == 0);

	/* a block missing: refused at finish, naming it; nothing pinned; all collectable */
	mid = bl.n / 2;
	len = make_car(car, sizeof(car), &bl, 1, mid);
	CHECK_RC(upload(&e, &o, car, len, 50, &r, &ei), FWC_ERR_NOT_FOUND);
	CHECK_RC(fwc_cid_format(txt, sizeof(txt), &bl.cids[mid]), FWC_OK);
	CHECK(strstr(ei.msg, txt) != NULL);
	CHECK_RC(node_pins_is_pinned(e.pins, &bl.root), 0);
	CHECK(store_blocks(&e) == bl.n - 1);
	CHECK_RC(node_pins_gc(e.pins, 0, &g, NULL), FWC_OK);
	CHECK(store_blocks(&e) == 0);

	/* a corrupted block: the upload stops at it */
	len = make_car(car, sizeof(car), &bl, 1, SIZE_MAX);
	car[len - 1] ^= 1; /* last byte of the last section (the first leaf) */
	{
		struct node_import *im = NULL;

		CHECK_RC(node_import_begin(&im, e.pins, &o, NULL), FWC_OK);
		CHECK_RC(node_import_push(im, car, len, &ei), FWC_ERR_HASH_MISMATCH);
		CHECK(strstr(ei.msg, "does not hash") != NULL);
		CHECK_RC(node_import_push(im, car, 1, NULL), FWC_ERR_STATE);
		CHECK_RC(node_import_finish(im, &r, NULL), FWC_ERR_STATE);
		node_import_free(im);
	}
	CHECK(store_blocks(&e) == 0); /* a failed upload's stage is dropped whole */
	CHECK_RC(node_bs_has(e.bs, &bl.cids[0], NULL), 0);
	CHECK_RC(node_pins_gc(e.pins, 0, &g, NULL), FWC_OK);

	/* two roots; truncated CAR */
	len = make_car(car, sizeof(car), &bl, 2, SIZE_MAX);
	CHECK_RC(upload(&e, &o, car, len, 4096, &r, &ei), FWC_ERR_UNSUPPORTED);
	CHECK(strstr(ei.msg, "exactly one root") != NULL);
	len = make_car(car, sizeof(car), &bl, 1, SIZE_MAX);
	CHECK_RC(upload(&e, &o, car, len - 3, 4096, &r, &ei), FWC_ERR_TRUNCATED);

	/* limits: DAG bytes, block count */
	o.max_bytes = ur.dag_size - 1;
	CHECK_RC(upload(&e, &o, car, len, 4096, &r, &ei), FWC_ERR_TOO_LARGE);
	CHECK(strstr(ei.msg, "larger than") != NULL);
	o.max_bytes = ur.dag_size;
	o.max_blocks = bl.n - 1;
	CHECK_RC(upload(&e, &o, car, len, 4096, &r, &ei), FWC_ERR_TOO_LARGE);
	CHECK(strstr(ei.msg, "blocks") != NULL);
	o.max_blocks = bl.n;
	CHECK_RC(upload(&e, &o, car, len, 4096, &r, &ei), FWC_OK);
	CHECK_RC(node_pins_gc(e.pins, 0, &g, NULL), FWC_OK);
	CHECK(g.removed == 0 && store_blocks(&e) == bl.n);
	env_close(&e);
}

/* A crash at the commit of an upload whose pack is synced but not renamed: the restart
 * removes the temp pack and the store is empty; the retried upload gives the same root.
 * Also: a file whose SHA-256 is not the expected one is refused at finish with nothing
 * stored, and the expected one is accepted. */
static void test_commit_crash_and_expected_hash(void)
{
	static uint8_t data[BIG_LEN];
	struct env e;
	struct node_bs_options bo;
	struct node_import_options o;
	struct node_import_result r;
	struct node_gc_result g;
	struct fwc_errinfo ei;
	char tmpd[700];
	uint8_t sha[32];

	for (size_t i = 0; i < BIG_LEN; i++)
		data[i] = (uint8_t)(i % 251);
	node_bs_options_default(&bo);
	bo.floor_bytes = 0;
	bo.crash = NODE_BS_CRASH_AFTER_SYNC;
	bo.crash_after = 100;
	if (env_open_opt(&e, "parallel", &bo) != 0)
		return;
	node_import_options_default(&o, NODE_IMPORT_FILE);
	o.cid_version = 0;
	o.chunk_size = 1;
	CHECK_RC(upload(&e, &o, data, BIG_LEN, 50, &r, &ei), FWC_ERR_IO);
	CHECK(strstr(ei.msg, "simulated crash") != NULL);
	env_close(&e);
	snprintf(tmpd, sizeof(tmpd), "%s/tmp", e.dir);
	CHECK(su_count_entries(tmpd) == 1);
	if (env_open(&e, "parallel") != 0)
		return;
	CHECK(su_count_entries(tmpd) == 0);
	CHECK(store_blocks(&e) == 0);
	CHECK_RC(node_pins_gc(e.pins, 0, &g, NULL), FWC_OK);
	CHECK(store_blocks(&e) == 0);
	/* An expected hash that is not the file's: refused, nothing pinned. */
	memset(sha, 0x5a, sizeof(sha));
	o.expect_sha256 = sha;
	CHECK_RC(upload(&e, &o, data, BIG_LEN, 50, &r, &ei), FWC_ERR_HASH_MISMATCH);
	CHECK(strstr(ei.msg, "SHA-256") != NULL);
	CHECK_RC(node_pins_gc(e.pins, 0, &g, NULL), FWC_OK);
	CHECK(g.pins == 0 && store_blocks(&e) == 0);
	CHECK_RC(fwc_sha256(sha, data, BIG_LEN), FWC_OK);
	CHECK_RC(upload(&e, &o, data, BIG_LEN, 50, &r, NULL), FWC_OK);
	CHECK(cid_is(&r.root, BIG_CID));
	CHECK_MEM(r.sha256, sha, 32);
	CHECK_RC(node_pins_is_pinned(e.pins, &r.root), 1);
	CHECK_RC(node_dag_check(e.bs, &r.root, NULL, NULL, NULL, NULL), FWC_OK);
	/* Options checked: an expected hash for a CAR. */
	{
		struct node_import *im = NULL;

		node_import_options_default(&o, NODE_IMPORT_CAR);
		o.expect_sha256 = sha;
		CHECK_RC(node_import_begin(&im, e.pins, &o, NULL), FWC_ERR_ARG);
		CHECK(im == NULL);
	}
	env_close(&e);
}

static void test_limits_and_full_disk(void)
{
	struct env e;
	struct node_bs_options bo;
	struct node_bs_stats st;
	struct node_import_options o;
	struct node_import_result r;
	struct fwc_errinfo ei;
	static uint8_t data[5000];
	char tmpd[700];

	if (env_open(&e, "limits") != 0)
		return;
	node_import_options_default(&o, NODE_IMPORT_FILE);
	o.chunk_size = 1000;
	o.max_bytes = 4999;
	su_fill(data, sizeof(data), 9);
	CHECK_RC(upload(&e, &o, data, sizeof(data), 700, &r, &ei), FWC_ERR_TOO_LARGE);
	CHECK(strstr(ei.msg, "4999") != NULL);
	o.max_bytes = 5000;
	o.max_blocks = 5; /* 5 leaves and a root */
	CHECK_RC(upload(&e, &o, data, sizeof(data), 700, &r, &ei), FWC_ERR_TOO_LARGE);
	o.max_blocks = 6;
	CHECK_RC(upload(&e, &o, data, sizeof(data), 700, &r, &ei), FWC_OK);
	CHECK_RC(node_bs_stats(e.bs, &st), FWC_OK);
	env_close(&e);

	/* the disk is "full": the floor is above the free space */
	node_bs_options_default(&bo);
	bo.floor_bytes = st.free_bytes + (1ull << 30);
	if (env_open_opt(&e, "limits", &bo) != 0)
		return;
	su_fill(data, sizeof(data), 10);
	CHECK_RC(upload(&e, &o, data, sizeof(data), 700, &r, &ei), FWC_ERR_NOSPACE);
	CHECK(strstr(ei.msg, "below the floor") != NULL);
	snprintf(tmpd, sizeof(tmpd), "%s/tmp", e.dir);
	CHECK(su_count_entries(tmpd) == 0);
	CHECK(store_blocks(&e) == 6); /* only the earlier, pinned upload */
	env_close(&e);
}

int main(void)
{
	if (su_mkdtemp(root, sizeof(root), "import") != 0) {
		perror("mkdtemp");
		return 1;
	}
	RUN(test_file_known_answers);
	RUN(test_file_interrupted_then_retried);
	RUN(test_file_crash_then_retried);
	RUN(test_car_uploads);
	RUN(test_commit_crash_and_expected_hash);
	RUN(test_limits_and_full_disk);
	su_rmtree(root);
	return test_done();
}
