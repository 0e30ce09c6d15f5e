/* Tests node/replicate.c in process: peer URL checks, the wants table (a complete DAG is pinned
 * at once, an incomplete one recorded, listed, forgotten), and a replicator thread fetching a
 * DAG from a real gateway on 127.0.0.1 (node_content_routes over a second store) and pinning it,
 * then stopping promptly. The misbehaving-peer cases run against real processes in
 * tests/cli/content_replicate.sh. */
#include "test.h"

#include <curl/curl.h>
#include <sodium.h>
#include <time.h>

#include "api_content.h"
#include "fwchain/unixfs.h"
#include "import.h"
#include "replicate.h"
#include "store_util.h"

struct side {
	char dir[256];
	struct node_bs *bs;
	sqlite3 *db;
	struct node_pins *pins;
};

static int side_open(struct side *s, const char *tag)
{
	char p[512];

	memset(s, 0, sizeof(*s));
	if (su_mkdtemp(s->dir, sizeof(s->dir), tag) != 0)
		return -1;
	snprintf(p, sizeof(p), "%s/store", s->dir);
	if (node_bs_open(&s->bs, p, NULL, NULL) != FWC_OK)
		return -1;
	snprintf(p, sizeof(p), "%s/ledger.db", s->dir);
	if (sqlite3_open(p, &s->db) != SQLITE_OK ||
	    node_pins_open(&s->pins, s->db, s->bs, NULL) != FWC_OK)
		return -1;
	return 0;
}

static void side_close(struct side *s)
{
	node_pins_close(s->pins);
	sqlite3_close(s->db);
	node_bs_close(s->bs);
	su_rmtree(s->dir);
}

static int count_want(void *ctx, const struct fwc_cid *root, const char *origin, int64_t created)
{
	(void)root;
	(void)created;
	if (strcmp(origin, "operator") == 0)
		++*(int *)ctx;
	return 0;
}

/* Import n bytes of seed into s (pinned "upload"); root in *cid. */
static int put_file(struct side *s, struct fwc_cid *cid, size_t n, uint64_t seed)
{
	struct node_import *im = NULL;
	struct node_import_options o;
	struct node_import_result r;
	uint8_t *b = malloc(n);
	int rc;

	if (b == NULL)
		return FWC_ERR_NOMEM;
	su_fill(b, n, seed);
	node_import_options_default(&o, NODE_IMPORT_FILE);
	rc = node_import_begin(&im, s->pins, &o, NULL);
	if (rc == FWC_OK)
		rc = node_import_push(im, b, n, NULL);
	if (rc == FWC_OK)
		rc = node_import_finish(im, &r, NULL);
	if (rc == FWC_OK)
		*cid = r.root;
	node_import_free(im);
	free(b);
	return rc;
}

struct origin_count {
	const char *origin;
	int n;
};

static int count_origin(void *ctx, const struct fwc_cid *root, const char *origin,
                        int64_t created)
{
	struct origin_count *c = ctx;

	(void)root;
	(void)created;
	if (strcmp(origin, c->origin) == 0)
		c->n++;
	return 0;
}

static void test_config(void)
{
	struct side s;
	struct node_repl_config cfg;
	struct node_repl *r = (void *)1;
	struct fwc_errinfo ei = {0};
	char p[512];

	CHECK(side_open(&s, "repl-cfg") == 0);
	snprintf(p, sizeof(p), "%s/ledger.db", s.dir);
	node_repl_config_default(&cfg);
	cfg.peers[0] = "ftp://127.0.0.1:1";
	cfg.npeers = 1;
	CHECK_RC(node_repl_open(&r, &cfg, s.pins, p, &ei), FWC_ERR_ARG);
	CHECK(strstr(ei.msg, "http://") != NULL && r == (void *)1);
	cfg.peers[0] = "http://127.0.0.1:1/x?y";
	CHECK_RC(node_repl_open(&r, &cfg, s.pins, p, &ei), FWC_ERR_ARG);
	cfg.peers[0] = "http://127.0.0.1:1 ";
	CHECK_RC(node_repl_open(&r, &cfg, s.pins, p, &ei), FWC_ERR_ARG);
	cfg.npeers = NODE_REPL_PEERS_MAX + 1;
	CHECK_RC(node_repl_open(&r, &cfg, s.pins, p, &ei), FWC_ERR_ARG);
	side_close(&s);
}

static void test_wants_and_fetch(void)
{
	struct side a, b;
	struct node_repl_config cfg;
	struct node_repl *r = NULL;
	struct node_content *ca = NULL;
	struct node_content_config ccfg;
	struct node_http_config hcfg;
	struct node_http_server *srv = NULL;
	struct fwc_cid have, want, missing;
	struct node_repl_stats st;
	char p[512], url[64];
	int pinned = -1, n = 0;
	struct timespec t0, t1;

	CHECK(side_open(&a, "repl-a") == 0 && side_open(&b, "repl-b") == 0);
	/* A serves a 2 MiB file through its gateway; B has a small file of its own. */
	CHECK_RC(put_file(&a, &want, 2u << 20, 41), FWC_OK);
	CHECK_RC(put_file(&b, &have, 1000, 42), FWC_OK);
	memset(&ccfg, 0, sizeof(ccfg));
	ccfg.chain_id = "repl-test";
	ccfg.ledger_path = "/nonexistent";
	CHECK_RC(node_content_open(&ca, &ccfg, a.bs, a.pins, NULL), FWC_OK);
	node_http_config_default(&hcfg);
	hcfg.port = 0;
	CHECK_RC(node_http_server_start(&srv, &hcfg, node_content_routes, node_content_nroutes, ca,
	                                NULL),
	         FWC_OK);
	if (srv == NULL)
		return;
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/", (unsigned)node_http_server_port(srv));

	node_repl_config_default(&cfg);
	cfg.peers[0] = url; /* the trailing '/' is dropped */
	cfg.npeers = 1;
	cfg.interval_ms = 50;
	cfg.follow_peers = 0;
	snprintf(p, sizeof(p), "%s/ledger.db", b.dir);
	CHECK_RC(node_repl_open(&r, &cfg, b.pins, p, NULL), FWC_OK);
	if (r == NULL)
		return;
	/* Complete here: pinned at once, no want. */
	CHECK_RC(node_repl_want(r, &have, "operator", &pinned, NULL, NULL), FWC_OK);
	CHECK(pinned == 1);
	CHECK_RC(node_repl_wants(r, count_want, &n), FWC_OK);
	CHECK(n == 0);
	/* Not here: recorded, the root named missing. */
	CHECK_RC(node_repl_want(r, &want, "operator", &pinned, &missing, NULL), FWC_OK);
	CHECK(pinned == 0 && fwc_cid_equal(&missing, &want));
	CHECK_RC(node_repl_want(r, &want, "operator", &pinned, NULL, NULL),
	         FWC_OK); /* twice: one */
	n = 0;
	CHECK_RC(node_repl_wants(r, count_want, &n), FWC_OK);
	CHECK(n == 1);
	CHECK_RC(node_repl_unwant(r, &want, "operator"), FWC_OK);
	CHECK_RC(node_repl_unwant(r, &want, "operator"), FWC_ERR_NOT_FOUND);
	CHECK_RC(node_repl_want(r, &want, "operator", &pinned, NULL, NULL), FWC_OK);
	/* 150 roots nobody has, each wanted under two origins: a round's lists (whose index
	 * grows past its first size) must keep each root once and still reach the real one. */
	for (int i = 0; i < 150; i++) {
		struct fwc_cid x = want;

		randombytes_buf(x.digest, sizeof(x.digest));
		CHECK_RC(node_repl_want(r, &x, "tester", &pinned, NULL, NULL), FWC_OK);
		CHECK(pinned == 0);
		CHECK_RC(node_repl_want(r, &x, "tester2", &pinned, NULL, NULL), FWC_OK);
	}

	/* The thread fetches it from A and pins it. */
	CHECK_RC(node_repl_start(r, NULL), FWC_OK);
	/* The thread pins, then removes the want, then counts: wait for all three. */
	for (int i = 0; i < 200; i++) {
		n = 0;
		node_repl_get_stats(r, &st);
		if (node_pins_is_pinned(b.pins, &want) == 1 &&
		    node_repl_wants(r, count_want, &n) == FWC_OK && n == 0 && st.pinned == 1)
			break;
		usleep(50000);
	}
	CHECK(node_pins_is_pinned(b.pins, &want) == 1);
	CHECK_RC(node_dag_check(b.bs, &want, NULL, NULL, NULL, NULL), FWC_OK);
	n = 0;
	CHECK_RC(node_repl_wants(r, count_want, &n), FWC_OK);
	CHECK(n == 0);
	node_repl_get_stats(r, &st);
	CHECK(st.blocks_fetched == 9 && st.pinned == 1 && st.blocks_refused == 0);
	CHECK(st.bytes_fetched > (2u << 20));
	{
		struct origin_count c1 = {"tester", 0}, c2 = {"tester2", 0};

		CHECK_RC(node_repl_wants(r, count_origin, &c1), FWC_OK);
		CHECK_RC(node_repl_wants(r, count_origin, &c2), FWC_OK);
		CHECK(c1.n == 150 && c2.n == 150);
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	node_repl_close(r);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	CHECK(t1.tv_sec - t0.tv_sec < 3);
	node_http_server_stop(srv);
	node_content_close(ca);
	side_close(&a);
	side_close(&b);
}

int main(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
	RUN(test_config);
	RUN(test_wants_and_fetch);
	curl_global_cleanup();
	return test_done();
}
