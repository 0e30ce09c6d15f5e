/* Tests node/pins.c: DAG completeness naming the first missing block, pins (CIDv0/v1 alike,
 * origins, refusal of incomplete DAGs), garbage collection keeping exactly what pins reach
 * (shared blocks included) and stopping without deleting anything when a pinned DAG has a
 * gap, sessions and the grace period, and GC running continuously while uploads and pins go on
 * in another thread, after which every uploaded DAG is complete.
 * The DAGs are built by lib/unixfs.c (tested against Kubo in tests/unit/unixfs.c) with small
 * chunks and fan-out so that they have several levels. */
#include "test.h"

#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "blockstore.h"
#include "fwchain/unixfs.h"
#include "pins.h"
#include "store_util.h"

static char root[512];

/* Every block a file import emits, in emission order (children before parents). */
struct dag {
	struct fwc_cid cids[512];
	uint8_t *blocks[512];
	size_t lens[512];
	size_t n;
	struct fwc_cid root;
};

static int collect(void *ctx, const struct fwc_cid *cid, const uint8_t *block, size_t len)
{
	struct dag *d = ctx;

	if (d->n == 512)
		return FWC_ERR_TOO_LARGE;
	d->cids[d->n] = *cid;
	d->blocks[d->n] = malloc(len ? len : 1);
	if (d->blocks[d->n] == NULL)
		return FWC_ERR_NOMEM;
	memcpy(d->blocks[d->n], block, len);
	d->lens[d->n] = len;
	d->n++;
	return FWC_OK;
}

/* Import data as a UnixFS file with 1000-byte chunks and 4 links per node. */
static void dag_build(struct dag *d, const uint8_t *data, size_t len, unsigned version)
{
	struct fwc_unixfs_options o;
	struct fwc_unixfs_sink sink = {collect, d};
	struct fwc_unixfs_result res;

	memset(d, 0, sizeof(*d));
	fwc_unixfs_options_default(&o, version);
	o.chunk_size = 1000;
	o.max_links = 4;
	CHECK_RC(fwc_unixfs_import(&res, &o, &sink, data, len), FWC_OK);
	d->root = res.root;
	CHECK(d->n == res.blocks && fwc_cid_equal(&d->cids[d->n - 1], &res.root));
}

static void dag_free(struct dag *d)
{
	for (size_t i = 0; i < d->n; i++)
		free(d->blocks[i]);
	d->n = 0;
}

static void dag_store(struct node_bs *bs, const struct dag *d)
{
	for (size_t i = 0; i < d->n; i++)
		CHECK_RC(node_bs_put(bs, &d->cids[i], d->blocks[i], d->lens[i], 0, NULL), FWC_OK);
}

static int dag_present(struct node_bs *bs, const struct dag *d)
{
	int n = 0;

	for (size_t i = 0; i < d->n; i++)
		n += node_bs_has(bs, &d->cids[i], NULL) == 1;
	return n;
}

struct env {
	char dir[600];
	struct node_bs *bs;
	sqlite3 *db;
	struct node_pins *pins;
};

static int env_open(struct env *e, const char *name)
{
	char dbp[700];
	struct node_bs_options o;

	snprintf(e->dir, sizeof(e->dir), "%s/%s", root, name);
	node_bs_options_default(&o);
	o.floor_bytes = 0;
	e->bs = NULL;
	e->db = NULL;
	e->pins = NULL;
	CHECK_RC(node_bs_open(&e->bs, e->dir, &o, NULL), FWC_OK);
	snprintf(dbp, sizeof(dbp), "%s/ledger.db", e->dir);
	CHECK(sqlite3_open(dbp, &e->db) == SQLITE_OK);
	CHECK_RC(node_pins_open(&e->pins, e->db, e->bs, NULL), FWC_OK);
	return e->pins != NULL ? 0 : -1;
}

static void env_close(struct env *e)
{
	node_pins_close(e->pins);
	sqlite3_close(e->db);
	node_bs_close(e->bs);
}

static uint8_t filebuf[3][20000];

static void test_dag_check(void)
{
	struct env e;
	struct dag d;
	struct fwc_cid missing;
	struct node_dag_stats st;
	struct node_dag_limits lim = {5, 1 << 20};
	struct fwc_errinfo ei;
	char txt[FWC_CID_STR_MAX];
	size_t leaf5 = 0, leaf12 = 0, nleaves = 0, parent = 0;

	if (env_open(&e, "check") != 0)
		return;
	su_fill(filebuf[0], 20000, 1);
	dag_build(&d, filebuf[0], 20000, 1);
	CHECK(d.n == 20 + 5 + 2 + 1); /* 20 raw leaves, 5 + 2 + 1 interior nodes */
	dag_store(e.bs, &d);
	CHECK_RC(node_dag_check(e.bs, &d.root, NULL, &missing, &st, &ei), FWC_OK);
	CHECK(st.blocks == d.n);
	/* find the 5th and 12th leaves (raw, in file order) and the node above the 5th */
	for (size_t i = 0; i < d.n; i++) {
		if (d.cids[i].codec != FWC_CID_CODEC_RAW)
			continue;
		nleaves++;
		if (nleaves == 5)
			leaf5 = i;
		if (nleaves == 12)
			leaf12 = i;
	}
	for (size_t i = leaf5; i < d.n; i++)
		if (d.cids[i].codec == FWC_CID_CODEC_DAGPB) {
			parent = i; /* leaves 5..8 sit under the second level-1 node */
			break;
		}
	/* two leaves missing: the walk names the one that comes first in the file */
	CHECK_RC(node_bs_delete(e.bs, &d.cids[leaf12]), FWC_OK);
	CHECK_RC(node_bs_delete(e.bs, &d.cids[leaf5]), FWC_OK);
	CHECK_RC(node_dag_check(e.bs, &d.root, NULL, &missing, NULL, &ei), FWC_ERR_NOT_FOUND);
	CHECK(fwc_cid_equal(&missing, &d.cids[leaf5]));
	CHECK_RC(fwc_cid_format(txt, sizeof(txt), &d.cids[leaf5]), FWC_OK);
	CHECK(strstr(ei.msg, txt) != NULL);
	/* the interior node above it missing: that node is named */
	CHECK_RC(node_bs_delete(e.bs, &d.cids[parent]), FWC_OK);
	CHECK_RC(node_dag_check(e.bs, &d.root, NULL, &missing, NULL, NULL), FWC_ERR_NOT_FOUND);
	CHECK(fwc_cid_equal(&missing, &d.cids[parent]));
	/* the root itself */
	CHECK_RC(node_bs_delete(e.bs, &d.root), FWC_OK);
	CHECK_RC(node_dag_check(e.bs, &d.root, NULL, &missing, NULL, NULL), FWC_ERR_NOT_FOUND);
	CHECK(fwc_cid_equal(&missing, &d.root));
	dag_store(e.bs, &d);
	/* limits */
	CHECK_RC(node_dag_check(e.bs, &d.root, &lim, NULL, NULL, &ei), FWC_ERR_TOO_LARGE);
	lim.max_blocks = 1000;
	lim.max_bytes = 19999; /* the leaves alone are 20000 bytes */
	CHECK_RC(node_dag_check(e.bs, &d.root, &lim, NULL, NULL, NULL), FWC_ERR_TOO_LARGE);
	/* a dag-pb CID over bytes that are not dag-pb */
	{
		struct fwc_cid bad;
		static const uint8_t junk[] = {0xff, 0xff, 0xff};

		CHECK_RC(fwc_cid_from_block(&bad, 1, FWC_CID_CODEC_DAGPB, junk, sizeof(junk)),
		         FWC_OK);
		CHECK_RC(node_bs_put(e.bs, &bad, junk, sizeof(junk), 0, NULL), FWC_OK);
		CHECK_RC(node_dag_check(e.bs, &bad, NULL, NULL, NULL, &ei), FWC_ERR_MALFORMED);
	}
	dag_free(&d);
	env_close(&e);
}

struct listing {
	int n;
	char origins[8][NODE_PIN_ORIGIN_MAX + 1];
};

static int list_fn(void *ctx, const struct fwc_cid *r, const char *origin, int64_t created)
{
	struct listing *l = ctx;

	CHECK(r->version == 1);
	CHECK(created > 0);
	if (l->n < 8)
		snprintf(l->origins[l->n], sizeof(l->origins[0]), "%s", origin);
	l->n++;
	return FWC_OK;
}

static void test_pins_and_gc(void)
{
	struct env e;
	struct dag a, b, c;
	struct node_gc_result r;
	struct node_bs_stats st;
	struct fwc_cid missing, v1;
	struct fwc_errinfo ei;
	struct listing l;
	size_t shared = 0;

	if (env_open(&e, "gc") != 0)
		return;
	/* a and b share their first 10 chunks; c (CIDv0, dag-pb leaves) shares nothing */
	su_fill(filebuf[0], 20000, 2);
	memcpy(filebuf[1], filebuf[0], 10000);
	su_fill(filebuf[1] + 10000, 10000, 3);
	su_fill(filebuf[2], 9000, 4);
	dag_build(&a, filebuf[0], 20000, 1);
	dag_build(&b, filebuf[1], 20000, 1);
	dag_build(&c, filebuf[2], 9000, 0);
	CHECK(c.root.version == 0);
	dag_store(e.bs, &a);
	dag_store(e.bs, &b);
	dag_store(e.bs, &c);
	for (size_t i = 0; i < b.n; i++)
		for (size_t j = 0; j < a.n; j++)
			if (fwc_cid_equal(&b.cids[i], &a.cids[j])) {
				shared++;
				break;
			}
	CHECK(shared >= 10);

	CHECK_RC(node_pins_add(e.pins, &a.root, "release", NULL, NULL), FWC_OK);
	CHECK_RC(node_pins_add(e.pins, &a.root, "release", NULL, NULL), FWC_OK); /* again */
	CHECK_RC(node_pins_add(e.pins, &c.root, "operator", NULL, NULL), FWC_OK);
	CHECK_RC(node_pins_add(e.pins, &a.root, "", NULL, NULL), FWC_ERR_ARG);
	/* CIDv0 and CIDv1 of c's root are one pin */
	CHECK_RC(fwc_cid_to_v1(&v1, &c.root), FWC_OK);
	CHECK_RC(node_pins_is_pinned(e.pins, &v1), 1);
	CHECK_RC(node_pins_is_pinned(e.pins, &b.root), 0);
	memset(&l, 0, sizeof(l));
	CHECK_RC(node_pins_list(e.pins, list_fn, &l), FWC_OK);
	CHECK(l.n == 2);

	/* GC: a and c stay entirely (with the blocks a shares with b), the rest of b goes */
	CHECK_RC(node_pins_gc(e.pins, 0, &r, &ei), FWC_OK);
	CHECK(r.pins == 2);
	CHECK(r.removed == b.n - shared);
	CHECK(r.marked == a.n + c.n && r.kept_recent == 0);
	CHECK(dag_present(e.bs, &a) == (int)a.n);
	CHECK(dag_present(e.bs, &c) == (int)c.n);
	CHECK(dag_present(e.bs, &b) == (int)shared);
	CHECK_RC(node_bs_stats(e.bs, &st), FWC_OK);
	CHECK(st.blocks == a.n + c.n);
	/* b cannot be pinned now, and the refusal names its first missing block: the root */
	CHECK_RC(node_pins_add(e.pins, &b.root, "operator", &missing, &ei), FWC_ERR_NOT_FOUND);
	CHECK(fwc_cid_equal(&missing, &b.root));
	CHECK_RC(node_pins_is_pinned(e.pins, &b.root), 0);

	/* a pinned DAG with a gap: GC deletes nothing at all */
	dag_store(e.bs, &b); /* unpinned garbage again */
	{
		size_t last = a.n - 1; /* the last leaf: in the half a does not share with b */

		while (last > 0 && a.cids[last].codec != FWC_CID_CODEC_RAW)
			last--;
		for (size_t j = 0; j < b.n; j++)
			CHECK(!fwc_cid_equal(&a.cids[last], &b.cids[j]));
		CHECK_RC(node_bs_delete(e.bs, &a.cids[last]), FWC_OK);
		CHECK_RC(node_pins_gc(e.pins, 0, &r, &ei), FWC_ERR_NOT_FOUND);
		CHECK(strstr(ei.msg, "nothing deleted") != NULL);
		CHECK(dag_present(e.bs, &b) == (int)b.n);
		CHECK(dag_present(e.bs, &a) == (int)a.n - 1);
		CHECK_RC(node_bs_put(e.bs, &a.cids[last], a.blocks[last], a.lens[last], 0, NULL),
		         FWC_OK);
	}

	/* unpin a (one origin at a time) and c: everything goes */
	CHECK_RC(node_pins_remove(e.pins, &a.root, "operator"), FWC_ERR_NOT_FOUND);
	CHECK_RC(node_pins_remove(e.pins, &a.root, "release"), FWC_OK);
	CHECK_RC(node_pins_remove(e.pins, &v1, "operator"), FWC_OK);
	CHECK_RC(node_pins_gc(e.pins, 0, &r, NULL), FWC_OK);
	CHECK(r.pins == 0 && r.marked == 0);
	CHECK_RC(node_bs_stats(e.bs, &st), FWC_OK);
	CHECK(st.blocks == 0 && st.bytes == 0);
	dag_free(&a);
	dag_free(&b);
	dag_free(&c);
	env_close(&e);
}

static void test_sessions_and_grace(void)
{
	struct env e;
	struct dag a;
	struct node_pins_session *s = NULL;
	struct node_gc_result r;
	struct node_bs_stats st;
	struct fwc_cid cid;

	if (env_open(&e, "sess") != 0)
		return;
	su_fill(filebuf[0], 7000, 5);
	dag_build(&a, filebuf[0], 7000, 1);
	CHECK_RC(node_pins_session_begin(e.pins, &s), FWC_OK);
	for (size_t i = 0; i < a.n; i++)
		CHECK_RC(
		    node_pins_session_put(e.pins, s, &a.cids[i], a.blocks[i], a.lens[i], 0, NULL),
		    FWC_OK);
	CHECK(node_pins_session_blocks(s) == a.n);
	/* a wrong block through a session is refused like any put */
	CHECK_RC(node_pins_session_put(e.pins, s, &a.cids[0], a.blocks[1], a.lens[1], 0, NULL),
	         FWC_ERR_HASH_MISMATCH);
	/* an unrelated unpinned block outside the session */
	CHECK_RC(fwc_cid_from_block(&cid, 1, FWC_CID_CODEC_RAW, "loose", 5), FWC_OK);
	CHECK_RC(node_bs_put(e.bs, &cid, (const uint8_t *)"loose", 5, 0, NULL), FWC_OK);

	CHECK_RC(node_pins_gc(e.pins, 0, &r, NULL), FWC_OK);
	CHECK(r.removed == 1 && r.marked == a.n);
	CHECK(dag_present(e.bs, &a) == (int)a.n);
	/* grace period: a fresh loose block survives a GC with a one-hour grace */
	CHECK_RC(node_bs_put(e.bs, &cid, (const uint8_t *)"loose", 5, 0, NULL), FWC_OK);
	CHECK_RC(node_pins_gc(e.pins, 3600, &r, NULL), FWC_OK);
	CHECK(r.removed == 0 && r.kept_recent == 1);
	/* the session ends without a pin (an abandoned upload): all of it is collectable */
	node_pins_session_end(e.pins, s);
	CHECK_RC(node_pins_gc(e.pins, 0, &r, NULL), FWC_OK);
	CHECK(r.removed == a.n + 1);
	CHECK_RC(node_bs_stats(e.bs, &st), FWC_OK);
	CHECK(st.blocks == 0);
	dag_free(&a);
	env_close(&e);
}

/* GC in a loop in one thread while another uploads DAGs through sessions and pins them. */
struct gc_loop {
	struct node_pins *pins;
	atomic_int stop;
	int runs, errors;
};

static void *gc_thread(void *arg)
{
	struct gc_loop *g = arg;
	time_t t0 = time(NULL);

	while (!atomic_load(&g->stop) && time(NULL) - t0 < 30) {
		struct fwc_errinfo ei;
		int rc = node_pins_gc(g->pins, 0, NULL, &ei);

		if (rc != FWC_OK && rc != FWC_ERR_STATE) {
			fprintf(stderr, "gc: %s\n", ei.msg);
			g->errors++;
		}
		g->runs++;
	}
	return NULL;
}

static void test_gc_concurrent_uploads(void)
{
	struct env e;
	struct gc_loop g;
	pthread_t th;
	struct dag *d = calloc(1, sizeof(*d));
	struct fwc_cid roots[12];
	int nroots = 0;

	if (d == NULL || env_open(&e, "conc") != 0) {
		free(d);
		return;
	}
	memset(&g, 0, sizeof(g));
	atomic_init(&g.stop, 0);
	g.pins = e.pins;
	pthread_create(&th, NULL, gc_thread, &g);
	for (int round = 0; round < 12; round++) {
		struct node_pins_session *s = NULL;
		uint8_t data[15000];
		struct fwc_cid missing;
		struct fwc_errinfo ei;

		su_fill(data, sizeof(data), 100 + (uint64_t)round);
		dag_build(d, data, sizeof(data), round % 2);
		CHECK_RC(node_pins_session_begin(e.pins, &s), FWC_OK);
		for (size_t i = 0; i < d->n; i++) {
			CHECK_RC(node_pins_session_put(e.pins, s, &d->cids[i], d->blocks[i],
			                               d->lens[i], NODE_BS_DEFER_DIRSYNC, NULL),
			         FWC_OK);
			if (i % 5 == 0)
				usleep(500); /* let the GC interleave */
		}
		CHECK_RC(node_bs_sync(e.bs, NULL), FWC_OK);
		/* every block of the session survived the GCs running meanwhile */
		CHECK_RC(node_dag_check(e.bs, &d->root, NULL, &missing, NULL, &ei), FWC_OK);
		if (round % 3 != 2) {
			CHECK_RC(node_pins_add(e.pins, &d->root, "upload", NULL, &ei), FWC_OK);
			roots[nroots++] = d->root;
		}
		node_pins_session_end(e.pins, s);
		dag_free(d);
	}
	atomic_store(&g.stop, 1);
	pthread_join(th, NULL);
	CHECK(g.errors == 0 && g.runs > 0);
	/* pinned uploads are complete; the unpinned ones are collected by a final GC */
	CHECK_RC(node_pins_gc(e.pins, 0, NULL, NULL), FWC_OK);
	for (int i = 0; i < nroots; i++)
		CHECK_RC(node_dag_check(e.bs, &roots[i], NULL, NULL, NULL, NULL), FWC_OK);
	{
		struct node_bs_stats st;
		uint64_t want = 0;

		for (int i = 0; i < nroots; i++) {
			struct node_dag_stats ds;

			CHECK_RC(node_dag_check(e.bs, &roots[i], NULL, NULL, &ds, NULL), FWC_OK);
			want += ds.blocks;
		}
		CHECK_RC(node_bs_stats(e.bs, &st), FWC_OK);
		CHECK(st.blocks == want); /* uploads share no block (distinct random data) */
	}
	free(d);
	env_close(&e);
}

int main(void)
{
	if (su_mkdtemp(root, sizeof(root), "pins") != 0) {
		perror("mkdtemp");
		return 1;
	}
	RUN(test_dag_check);
	RUN(test_pins_and_gc);
	RUN(test_sessions_and_grace);
	RUN(test_gc_concurrent_uploads);
	su_rmtree(root);
	return test_done();
}
