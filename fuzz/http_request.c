/* Fuzz target: random method / request target / If-None-Match / body combinations through the
 * node's request parsing, router and the real API handlers, in process (no sockets).
 * The query endpoints (node/api_query.c) read a small state applied directly with the state
 * machine at setup: an organisation with members, a product with key sets, two releases (one
 * revoked), two devices and events.
 *
 * Input: "METHOD\nTARGET\nIF-NONE-MATCH\nBODY..." (missing parts are empty). The handlers run
 * against a real ledger in a temporary directory and a chain whose producer never fires (one
 * block interval is ten minutes), so submissions accumulate in a small mempool and then meet
 * "mempool_full"; the state is shared across inputs, as a running node's is. Checked: no crash,
 * no sanitizer report, every answer has a status in 200..599, and every 4xx/5xx has a JSON body
 * with "code" and "message". The check-in (GET /v1/updates) runs with its cache. The content
 * endpoints (node/api_content.c) serve a block store holding "hello world" (CIDv1 raw); their
 * streamed bodies are read back. */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api.h"
#include "api_content.h"
#include "api_query.h"
#include "chain.h"
#include "db.h"
#include "http.h"
#include "import.h"
#include "updates.h"
#include "../tests/node/store_util.h"
#include "../tests/node/txgen.h"

static struct node_api api;
static char dir[] = "/tmp/fwc-fuzz-http-XXXXXX";

static void remove_dir(void)
{
	su_rmtree(dir);
}

/* The content store: "hello world" uploaded, the store's own connection to the ledger. */
static void content_fixture(const char *ledger)
{
	static struct node_bs *bs;
	static struct node_pins *pins;
	static sqlite3 *pdb;
	static struct node_content *content;
	struct node_content_config cc;
	struct node_import_options o;
	struct node_import *im = NULL;
	struct node_import_result r;
	char p[256];

	snprintf(p, sizeof(p), "%s/blocks", dir);
	node_import_options_default(&o, NODE_IMPORT_FILE);
	memset(&cc, 0, sizeof(cc));
	cc.chain_id = "fwchain-dev-f0224200";
	cc.ledger_path = ledger;
	cc.gc_grace_s = -1;
	if (node_bs_open(&bs, p, NULL, NULL) != FWC_OK || sqlite3_open(ledger, &pdb) != SQLITE_OK ||
	    node_pins_open(&pins, pdb, bs, NULL) != FWC_OK ||
	    node_import_begin(&im, pins, &o, NULL) != FWC_OK ||
	    node_import_push(im, "hello world", 11, NULL) != FWC_OK ||
	    node_import_finish(im, &r, NULL) != FWC_OK ||
	    node_content_open(&content, &cc, bs, pins, NULL) != FWC_OK)
		abort();
	node_import_free(im);
	api.content = content;
}

static struct node_query *query;
static struct node_updates *updates;

/* Apply who's next transaction (payload pl) at T; -1 unless applied. */
static int apply(struct node_state *st, sqlite3 *h, struct txg_actor *who, uint32_t type,
                 const uint8_t *pl, size_t pl_len)
{
	static uint8_t tx[FWC_TX_MAX];
	size_t len = 0;
	const int64_t t = 1700000000;

	if (txg_tx(tx, sizeof(tx), &len, who, type, who->nonce + 1, "fwchain-dev-f0224200",
	           (uint64_t)t, pl, pl_len) != FWC_OK ||
	    node_state_apply(st, h, tx, len, t, NULL) != FWC_OK)
		return -1;
	who->nonce++;
	return 0;
}

/* The state the query endpoints read: actors 0 root admin, 1 acme admin, 2 release, 3
 * operator, 4..6 root keys, 7..8 release keys, 9..10 devices (txgen.h tag 9). */
static int state_fixture(const char *path)
{
	static uint8_t pl[FWC_TX_PAYLOAD_MAX];
	struct txg_actor a[11];
	const struct txg_actor *roots[] = {&a[4], &a[5], &a[6]}, *rels[] = {&a[7], &a[8]};
	const char *groups[] = {"eu", "pilot"};
	struct node_state st;
	sqlite3 *h = NULL;
	uint8_t rid[2][32];
	size_t n = 0;
	int rc = -1;

	memset(&st, 0, sizeof(st));
	for (uint32_t i = 0; i < 11; i++)
		if (txg_actor_init(&a[i], 9, i) != FWC_OK)
			return -1;
	if (sqlite3_open(path, &h) != SQLITE_OK || node_state_schema(h) != FWC_OK ||
	    node_state_open(&st, h) != FWC_OK)
		goto out;
	/* The chain's start applied the genesis: root organisation "root", admin actor 0. */
	if (sqlite3_exec(h, "BEGIN", NULL, NULL, NULL) != SQLITE_OK ||
	    txg_org(pl, sizeof(pl), &n, "acme", &a[1].pk) || apply(&st, h, &a[0], 1, pl, n) ||
	    txg_member_add(pl, sizeof(pl), &n, &a[2].pk, FWC_ROLE_RELEASE, "bot") ||
	    apply(&st, h, &a[1], FWC_TX_MEMBER_ADD, pl, n) ||
	    txg_member_add(pl, sizeof(pl), &n, &a[3].pk, FWC_ROLE_OPERATOR, NULL) ||
	    apply(&st, h, &a[1], FWC_TX_MEMBER_ADD, pl, n) ||
	    txg_product(pl, sizeof(pl), &n, "thermo", 2, roots, 3) ||
	    apply(&st, h, &a[1], FWC_TX_PRODUCT_REGISTER, pl, n) ||
	    txg_statement(pl, sizeof(pl), &n, "thermo", FWC_ROTATE_RELEASE, 1, 1, rels, 2, roots,
	                  2) ||
	    apply(&st, h, &a[1], FWC_TX_KEYSET_REGISTER, pl, n) ||
	    txg_release(pl, sizeof(pl), &n, "thermo", "stable", 1, 1700000000, "{\"PID\":1}", rels,
	                1, rid[0], NULL, NULL) ||
	    apply(&st, h, &a[2], FWC_TX_RELEASE, pl, n) ||
	    txg_release(pl, sizeof(pl), &n, "thermo", "stable", 2, 1700000000, NULL, rels, 2,
	                rid[1], NULL, NULL) ||
	    apply(&st, h, &a[2], FWC_TX_RELEASE, pl, n) ||
	    txg_release_revoke(pl, sizeof(pl), &n, rid[0], "bad") ||
	    apply(&st, h, &a[2], FWC_TX_RELEASE_REVOKE, pl, n) ||
	    txg_device(pl, sizeof(pl), &n, &a[9].pk, "thermo", "rev-b", groups, 2, 0, 0) ||
	    apply(&st, h, &a[3], FWC_TX_DEVICE_REGISTER, pl, n) ||
	    txg_device(pl, sizeof(pl), &n, &a[10].pk, "thermo", "rev-c", groups, 1, 0, 0) ||
	    apply(&st, h, &a[3], FWC_TX_DEVICE_REGISTER, pl, n) ||
	    txg_event(pl, sizeof(pl), &n, &a[9], 1, FWC_EVENT_INSTALLED, 5, rid[1], "ok") ||
	    apply(&st, h, &a[9], FWC_TX_DEVICE_EVENT, pl, n) ||
	    txg_event(pl, sizeof(pl), &n, &a[9], 2, FWC_EVENT_CONFIRMED, 6, rid[1], NULL) ||
	    apply(&st, h, &a[3], FWC_TX_DEVICE_EVENT, pl, n) ||
	    sqlite3_exec(h, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		goto out;
	rc = 0;
out:
	node_state_close(&st);
	sqlite3_close(h);
	return rc;
}

static void setup(void)
{
	static struct node_consensus_dev dev;
	struct node_consensus cs;
	struct node_chain_config cfg;
	struct node_db *db = NULL;
	struct node_chain *chain = NULL;
	struct fwc_seckey sk;
	struct txg_actor root_admin;
	struct node_genesis g;
	struct fwc_errinfo ei = {0};
	uint8_t seed[32] = {1, 2, 3};
	char p[256];

	if (mkdtemp(dir) == NULL)
		abort();
	atexit(remove_dir);
	snprintf(p, sizeof(p), "%s/ledger.db", dir);
	if (node_db_open(&db, p, 1, &ei) != FWC_OK ||
	    fwc_key_from_secret(&sk, FWC_ALG_ED25519, seed) != FWC_OK) {
		fprintf(stderr, "fuzz setup: %s\n", ei.msg);
		abort();
	}
	node_consensus_dev_init(&cs, &dev, &sk, "fuzz/validator-0");
	node_chain_config_default(&cfg);
	cfg.block_interval_ms = 600000;
	cfg.checkpoint_interval_s = 86400;
	cfg.mempool_max = 64;
	memset(&g, 0, sizeof(g));
	snprintf(g.chain_id, sizeof(g.chain_id), "fwchain-dev-f0224200");
	g.time = 1700000000;
	g.n_validators = 1;
	snprintf(g.validators[0].name, sizeof(g.validators[0].name), "fuzz/validator-0");
	g.quorum = 1;
	g.n_orgs = 1;
	snprintf(g.orgs[0].id, sizeof(g.orgs[0].id), "root");
	snprintf(g.orgs[0].name, sizeof(g.orgs[0].name), "Root");
	snprintf(g.orgs[0].admin_name, sizeof(g.orgs[0].admin_name), "admin");
	if (fwc_key_public(&g.validators[0].key, &sk) != FWC_OK ||
	    txg_actor_init(&root_admin, 9, 0) != FWC_OK)
		abort();
	g.orgs[0].admin = root_admin.pk;
	if (node_chain_start(&chain, &cfg, db, &cs, &g, &ei) != FWC_OK) {
		fprintf(stderr, "fuzz setup: %s\n", ei.msg);
		abort();
	}
	node_api_init(&api, chain, db, "fwchain-dev-f0224200");
	if (state_fixture(p) != 0 || node_query_open(&query, db, &ei) != FWC_OK) {
		fprintf(stderr, "fuzz setup: cannot build the state fixture\n");
		abort();
	}
	api.query = query;
	/* The check-in: its cache follows the chain's commits. The fixture's releases were
	 * written into the state directly (their transactions are not in the log), so a check-in
	 * that finds one answers 500; one for another hardware id answers the checkpoint. */
	if (node_updates_new(&updates, db) != FWC_OK)
		abort();
	node_chain_set_commit_hook(chain, node_updates_on_commit, updates);
	api.updates = updates;
	content_fixture(p);
}

/* Next '\n'-terminated field of in[*off..len) as a NUL-terminated copy in out (capacity cap). */
static void field(char *out, size_t cap, const uint8_t *in, size_t len, size_t *off)
{
	size_t n = 0;

	while (*off < len && in[*off] != '\n') {
		if (n + 1 < cap && in[*off] != '\0')
			out[n++] = (char)in[*off];
		(*off)++;
	}
	if (*off < len)
		(*off)++;
	out[n] = '\0';
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	struct node_http_request req;
	struct node_http_response resp;
	char method[16], target[NODE_HTTP_MAX_URI + 1], inm[256];
	char pathbuf[NODE_HTTP_MAX_URI + 1], qbuf[NODE_HTTP_MAX_URI + 2 * NODE_HTTP_MAX_QUERY + 2];
	size_t off = 0;

	if (!ready) {
		setup();
		ready = 1;
	}
	field(method, sizeof(method), data, size, &off);
	field(target, sizeof(target), data, size, &off);
	field(inm, sizeof(inm), data, size, &off);
	memset(&req, 0, sizeof(req));
	memset(&resp, 0, sizeof(resp));
	if (node_http_parse_target(&req, pathbuf, sizeof(pathbuf), qbuf, sizeof(qbuf), target,
	                           strlen(target), NULL) != FWC_OK)
		return 0;
	req.method = method;
	req.if_none_match = inm[0] ? inm : NULL;
	req.body = off < size ? data + off : NULL;
	req.body_len = size - off;
	node_http_dispatch(node_api_routes, node_api_nroutes, &api, &resp, &req);
	if (resp.status < 200 || resp.status > 599)
		abort();
	if (resp.stream) {
		static uint8_t buf[65536];
		uint64_t pos = 0;
		ssize_t n;

		while (pos < resp.stream->length && pos < (1u << 20) &&
		       (n = node_http_body_read(resp.stream, pos, buf, sizeof(buf))) > 0)
			pos += (uint64_t)n;
		if (pos < resp.stream->length && pos < (1u << 20))
			abort(); /* a planned body that cannot be read */
	}
	if (resp.status >= 400) {
		json_t *j = json_loadb(resp.body, resp.body_len, 0, NULL);

		if (j == NULL || !json_is_string(json_object_get(j, "code")) ||
		    !json_is_string(json_object_get(j, "message")))
			abort();
		json_decref(j);
	}
	node_http_response_cleanup(&resp);
	return 0;
}
