/* Tests of node/api_query.c and node/state_query.c: the JSON query endpoints, driven in process
 * through the real router (node_http_dispatch) over a real ledger file in a temporary
 * directory. The ledger is built as a node builds it: node/db.c creates the file and commits
 * the block; the state machine (node_state_apply) applies real signed transactions of a
 * scenario — two organisations, members with roles, a product with root and release key sets,
 * releases on two channels (one revoked, one attempt refused), a revoked release key, devices
 * (one retired) and device events. Every expected value comes from the scenario as written
 * here (orders from sorting the keys' bytes in this file), not from the code under test.
 * Also: pagination walks, every filter, parameter validation (400 naming the parameter),
 * 404s, ETag/304, and 503 before the state exists. */
#include "test.h"

#include <jansson.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <unistd.h>

#include "fwchain/base64.h"
#include "fwchain/cid.h"
#include "fwchain/hex.h"
#include "fwchain/sha256.h"

#include "api_query.h"
#include "db.h"
#include "http.h"
#include "state.h"
#include "txgen.h"

#define T0 1700000000
#define CHAIN "test-chain"

enum { ROOT, ADM, REL, OP, BADM, K1, K2, K3, K4, S1, S2, S3, D1, D2, D3, STRANGER, N_ACTORS };

static struct txg_actor act[N_ACTORS];
static char dir[] = "/tmp/fwc-test-apiq-XXXXXX";
static char path[256];
static sqlite3 *wdb;
static struct node_state st;
static struct node_query *query;
static struct node_db *ldb; /* the ledger whose reader pool the queries use */
static int64_t now = T0;
static uint8_t pl[FWC_TX_PAYLOAD_MAX];
static size_t pl_len;
static uint8_t rid[5][32]; /* release ids by counter 1..4 */
static uint8_t sm3[FWC_SIGNED_MANIFEST_MAX];
static size_t sm3_len;

/* Transactions in the log (applied or failed), for the block and the expected listings. */
#define LOG_MAX 64
static struct {
	uint8_t tx[2048];
	size_t len;
	int who, type, failed;
	int64_t time;
} journal[LOG_MAX];
static size_t n_journal;

/* Apply who's next transaction; returns the refusal code ("" when applied). */
static const char *apply(int who, uint32_t type)
{
	static struct node_refusal why;
	uint8_t tx[FWC_TX_MAX];
	size_t len = 0;
	int rc;

	CHECK_RC(txg_tx(tx, sizeof(tx), &len, &act[who], type, act[who].nonce + 1, CHAIN,
	                (uint64_t)now, pl, pl_len),
	         FWC_OK);
	rc = node_state_apply(&st, wdb, tx, len, now, &why);
	if (rc == FWC_OK || why.kind == NODE_REFUSAL_FAIL) {
		act[who].nonce++;
		if (n_journal < LOG_MAX && len <= sizeof(journal[0].tx)) {
			memcpy(journal[n_journal].tx, tx, len);
			journal[n_journal].len = len;
			journal[n_journal].who = who;
			journal[n_journal].type = (int)type;
			journal[n_journal].failed = rc != FWC_OK;
			journal[n_journal].time = now;
			n_journal++;
		}
	}
	return rc == FWC_OK ? "" : why.code;
}

#define EXPECT_APPLY(who, type, code) CHECK(strcmp(apply(who, type), code) == 0)

static const struct txg_actor *A(int i)
{
	return &act[i];
}

static void key_text(char *out, int who)
{
	CHECK_RC(fwc_pubkey_to_text(out, FWC_PUBKEY_TEXT_MAX, &act[who].pk), FWC_OK);
}

/* -1, 0, 1 as the binary forms of two actors' keys compare (the order the state keeps). */
static int key_cmp(int a, int b)
{
	uint8_t x[FWC_PUBKEY_BIN_LEN], y[FWC_PUBKEY_BIN_LEN];

	fwc_pubkey_to_bin(x, &act[a].pk);
	fwc_pubkey_to_bin(y, &act[b].pk);
	return memcmp(x, y, sizeof(x));
}

static void build_ledger(void)
{
	const struct txg_actor *roots[] = {A(K1), A(K2), A(K3)}, *rels[] = {A(S1), A(S2), A(S3)};
	const struct txg_actor *zroots[] = {A(K4)}, *signers[] = {A(S1), A(S2)};
	const char *g_eu_pilot[] = {"eu", "pilot"}, *g_eu[] = {"eu"}, *g_pilot[] = {"pilot"};
	struct node_refusal why;
	struct fwc_errinfo ei = {0};
	struct node_db_tx txs[LOG_MAX];
	struct node_db_block b;

	for (int i = 0; i < N_ACTORS; i++)
		CHECK_RC(txg_actor_init(&act[i], 7, (uint32_t)i), FWC_OK);
	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/ledger.db", dir);
	CHECK_RC(node_db_open(&ldb, path, 1, &ei), FWC_OK);

	/* The query endpoints borrow the ledger's own reader pool (node/db.c). */
	CHECK_RC(node_query_open(&query, ldb, &ei), FWC_OK);

	CHECK(sqlite3_open(path, &wdb) == SQLITE_OK);
	CHECK(sqlite3_busy_timeout(wdb, 5000) == SQLITE_OK);
	CHECK_RC(node_state_schema(wdb), FWC_OK);
	CHECK_RC(node_state_open(&st, wdb), FWC_OK);
	CHECK(sqlite3_exec(wdb, "BEGIN", NULL, NULL, NULL) == SQLITE_OK);
	CHECK_RC(node_state_genesis(&st, CHAIN, "root", "Root org", &act[ROOT].pk, T0, &why),
	         FWC_OK);

	now = T0 + 10;
	CHECK_RC(txg_org(pl, sizeof(pl), &pl_len, "acme", &act[ADM].pk), FWC_OK);
	EXPECT_APPLY(ROOT, FWC_TX_ORG_REGISTER, "");
	CHECK_RC(txg_org(pl, sizeof(pl), &pl_len, "beta", &act[BADM].pk), FWC_OK);
	EXPECT_APPLY(ROOT, FWC_TX_ORG_REGISTER, "");
	CHECK_RC(
	    txg_member_add(pl, sizeof(pl), &pl_len, &act[REL].pk, FWC_ROLE_RELEASE, "release bot"),
	    FWC_OK);
	EXPECT_APPLY(ADM, FWC_TX_MEMBER_ADD, "");
	CHECK_RC(txg_member_add(pl, sizeof(pl), &pl_len, &act[OP].pk, FWC_ROLE_OPERATOR, NULL),
	         FWC_OK);
	EXPECT_APPLY(ADM, FWC_TX_MEMBER_ADD, "");
	CHECK_RC(txg_member_add(pl, sizeof(pl), &pl_len, &act[OP].pk, FWC_ROLE_GATEWAY, NULL),
	         FWC_OK);
	EXPECT_APPLY(ADM, FWC_TX_MEMBER_ADD, "");
	CHECK_RC(txg_product(pl, sizeof(pl), &pl_len, "thermo", 2, roots, 3), FWC_OK);
	EXPECT_APPLY(ADM, FWC_TX_PRODUCT_REGISTER, "");
	CHECK_RC(txg_statement(pl, sizeof(pl), &pl_len, "thermo", FWC_ROTATE_RELEASE, 1, 2, rels, 3,
	                       roots, 2),
	         FWC_OK);
	EXPECT_APPLY(ADM, FWC_TX_KEYSET_REGISTER, "");
	CHECK_RC(txg_product(pl, sizeof(pl), &pl_len, "zeta", 1, zroots, 1), FWC_OK);
	EXPECT_APPLY(BADM, FWC_TX_PRODUCT_REGISTER, "");

	now = T0 + 20;
	for (uint64_t c = 1; c <= 4; c++) {
		CHECK_RC(txg_release(pl, sizeof(pl), &pl_len, "thermo", c == 4 ? "beta" : "stable",
		                     c, T0, c == 3 ? "{\"PID\":7}" : NULL, signers, 2, rid[c],
		                     c == 3 ? sm3 : NULL, c == 3 ? &sm3_len : NULL),
		         FWC_OK);
		EXPECT_APPLY(REL, FWC_TX_RELEASE, "");
	}
	/* Counter 3 again on stable: refused, kept in the log as failed. */
	CHECK_RC(txg_release(pl, sizeof(pl), &pl_len, "thermo", "stable", 3, T0 + 1, NULL, signers,
	                     2, rid[0], NULL, NULL),
	         FWC_OK);
	EXPECT_APPLY(REL, FWC_TX_RELEASE, "counter_not_increasing");
	CHECK_RC(txg_release_revoke(pl, sizeof(pl), &pl_len, rid[2], "recalled"), FWC_OK);
	EXPECT_APPLY(REL, FWC_TX_RELEASE_REVOKE, "");
	CHECK_RC(txg_key_revoke(pl, sizeof(pl), &pl_len, &act[S3].pk, "lost"), FWC_OK);
	EXPECT_APPLY(ADM, FWC_TX_KEY_REVOKE, "");

	now = T0 + 30;
	CHECK_RC(txg_device(pl, sizeof(pl), &pl_len, &act[D1].pk, "thermo", "rev-b", g_eu_pilot, 2,
	                    0, 0),
	         FWC_OK);
	EXPECT_APPLY(OP, FWC_TX_DEVICE_REGISTER, "");
	CHECK_RC(txg_device(pl, sizeof(pl), &pl_len, &act[D2].pk, "thermo", "rev-c", g_eu, 1, 0, 0),
	         FWC_OK);
	EXPECT_APPLY(OP, FWC_TX_DEVICE_REGISTER, "");
	CHECK_RC(
	    txg_device(pl, sizeof(pl), &pl_len, &act[D3].pk, "thermo", "rev-b", g_pilot, 1, 0, 0),
	    FWC_OK);
	EXPECT_APPLY(OP, FWC_TX_DEVICE_REGISTER, "");
	CHECK_RC(
	    txg_device(pl, sizeof(pl), &pl_len, &act[D3].pk, "thermo", "rev-b", g_pilot, 1, 1, 1),
	    FWC_OK);
	EXPECT_APPLY(OP, FWC_TX_DEVICE_REGISTER, "");

	now = T0 + 40;
	CHECK_RC(
	    txg_event(pl, sizeof(pl), &pl_len, &act[D1], 1, FWC_EVENT_CHECKIN, 111, NULL, NULL),
	    FWC_OK);
	EXPECT_APPLY(D1, FWC_TX_DEVICE_EVENT, "");
	CHECK_RC(txg_event(pl, sizeof(pl), &pl_len, &act[D1], 2, FWC_EVENT_DOWNLOADED, 112, rid[3],
	                   "via gateway"),
	         FWC_OK);
	EXPECT_APPLY(OP, FWC_TX_DEVICE_EVENT, "");
	now = T0 + 50;
	CHECK_RC(
	    txg_event(pl, sizeof(pl), &pl_len, &act[D1], 3, FWC_EVENT_INSTALLED, 113, rid[3], NULL),
	    FWC_OK);
	EXPECT_APPLY(D1, FWC_TX_DEVICE_EVENT, "");
	CHECK_RC(
	    txg_event(pl, sizeof(pl), &pl_len, &act[D1], 5, FWC_EVENT_CONFIRMED, 114, rid[3], NULL),
	    FWC_OK);
	EXPECT_APPLY(D1, FWC_TX_DEVICE_EVENT, "");
	CHECK_RC(
	    txg_event(pl, sizeof(pl), &pl_len, &act[D2], 1, FWC_EVENT_CHECKIN, 115, NULL, NULL),
	    FWC_OK);
	EXPECT_APPLY(D2, FWC_TX_DEVICE_EVENT, "");
	CHECK(sqlite3_exec(wdb, "COMMIT", NULL, NULL, NULL) == SQLITE_OK);

	/* The same transactions as block 0 of the log, so listings can show nonce and leaf. */
	memset(txs, 0, sizeof(txs));
	for (size_t i = 0; i < n_journal; i++) {
		uint8_t leaf[1 + sizeof(journal[0].tx)];
		struct fwc_signed_tx stx;

		CHECK_RC(fwc_tx_id(txs[i].id, journal[i].tx, journal[i].len), FWC_OK);
		txs[i].bytes = journal[i].tx;
		txs[i].len = journal[i].len;
		txs[i].type = journal[i].type;
		CHECK_RC(fwc_pubkey_to_bin(txs[i].sender, &act[journal[i].who].pk), FWC_OK);
		txs[i].sender_len = FWC_PUBKEY_BIN_LEN;
		CHECK_RC(fwc_tx_decode(&stx, journal[i].tx, journal[i].len, NULL), FWC_OK);
		txs[i].nonce = stx.tx.nonce;
		txs[i].leaf_index = i;
		leaf[0] = 0;
		memcpy(leaf + 1, journal[i].tx, journal[i].len);
		CHECK_RC(fwc_sha256(txs[i].leaf_hash, leaf, journal[i].len + 1), FWC_OK);
		txs[i].status = journal[i].failed ? NODE_TX_FAILED : NODE_TX_APPLIED;
	}
	memset(&b, 0, sizeof(b));
	b.height = 0;
	b.time = now;
	b.tx_count = n_journal;
	b.log_size = n_journal;
	b.checkpoint = "test checkpoint\n";
	b.checkpoint_len = strlen(b.checkpoint);
	CHECK_RC(node_db_block_commit(ldb, &b, txs, n_journal, &ei), FWC_OK);
}

static void remove_dir(void)
{
	static const char *const names[] = {"ledger.db", "ledger.db-wal", "ledger.db-shm"};
	char p[300];

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, names[i]);
		unlink(p);
	}
	rmdir(dir);
}

/* ---------------------------------------------------------------------------------------- */
/* Requests                                                                                 */

static struct node_http_response resp;

/* GET target (If-None-Match inm) through the query routes; the parsed JSON body or NULL. */
static json_t *get_inm(const char *target, const char *inm)
{
	struct node_http_request req;
	char pathbuf[NODE_HTTP_MAX_URI + 1], qbuf[NODE_HTTP_MAX_URI + 2 * NODE_HTTP_MAX_QUERY + 2];

	node_http_response_cleanup(&resp);
	memset(&resp, 0, sizeof(resp));
	memset(&req, 0, sizeof(req));
	if (node_http_parse_target(&req, pathbuf, sizeof(pathbuf), qbuf, sizeof(qbuf), target,
	                           strlen(target), NULL) != FWC_OK) {
		resp.status = 999;
		return NULL;
	}
	req.method = "GET";
	req.if_none_match = inm;
	node_http_dispatch(node_query_routes, node_query_nroutes, query, &resp, &req);
	return resp.body_len ? json_loadb(resp.body, resp.body_len, 0, NULL) : NULL;
}

static json_t *get(const char *target)
{
	return get_inm(target, NULL);
}

/* A 400 naming param (code bad_parameter). */
static int bad_param_is(json_t *j, const char *param)
{
	const char *c = json_string_value(json_object_get(j, "code"));
	const char *p = json_string_value(json_object_get(j, "parameter"));

	return resp.status == 400 && c && strcmp(c, "bad_parameter") == 0 && p &&
	       strcmp(p, param) == 0 && json_is_string(json_object_get(j, "message"));
}

static int code_is(json_t *j, unsigned status, const char *code)
{
	const char *c = json_string_value(json_object_get(j, "code"));

	return resp.status == status && c && strcmp(c, code) == 0;
}

static const char *sget(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : "(missing)";
}

static long long iget(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);
	return json_is_integer(v) ? (long long)json_integer_value(v) : -999;
}

static json_t *items(json_t *j)
{
	return json_object_get(j, "items");
}

/* Percent-encode s for a query string. */
static void qenc(char *out, size_t cap, const char *s)
{
	size_t n = 0;

	for (; *s && n + 4 < cap; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '.' || c == '-' || c == '_')
			out[n++] = (char)c;
		else
			n += (size_t)snprintf(out + n, cap - n, "%%%02X", c);
	}
	out[n] = '\0';
}

/* Follow "next" from base (which has a '?') with the given limit; all items in one array.
 * At most 50 pages. *pages gets the number of requests made. */
static json_t *walk(const char *base, unsigned limit, int *pages)
{
	json_t *all = json_array();
	char target[1024], cur[600] = "";

	*pages = 0;
	for (int i = 0; i < 50; i++) {
		json_t *j, *next;
		size_t k;
		json_t *v;

		if (cur[0])
			snprintf(target, sizeof(target), "%s&limit=%u&cursor=%s", base, limit, cur);
		else
			snprintf(target, sizeof(target), "%s&limit=%u", base, limit);
		j = get(target);
		(*pages)++;
		if (resp.status != 200 || j == NULL) {
			json_decref(j);
			CHECK(!"page request failed");
			break;
		}
		CHECK(json_array_size(items(j)) <= limit);
		json_array_foreach(items(j), k, v) json_array_append(all, v);
		next = json_object_get(j, "next");
		if (json_is_null(next)) {
			json_decref(j);
			break;
		}
		CHECK(json_array_size(items(j)) == limit);
		qenc(cur, sizeof(cur), json_string_value(next));
		json_decref(j);
	}
	return all;
}

/* ---------------------------------------------------------------------------------------- */
/* Tests                                                                                    */

static void test_unavailable(void)
{
	json_t *j = get("/v1/orgs");

	CHECK(code_is(j, 503, "state_unavailable"));
	json_decref(j);
	/* No pool at all (a node without state queries). */
	{
		struct node_http_request req;
		char pb[64], qb[64];

		memset(&req, 0, sizeof(req));
		node_http_response_cleanup(&resp);
		memset(&resp, 0, sizeof(resp));
		CHECK_RC(node_http_parse_target(&req, pb, sizeof(pb), qb, sizeof(qb), "/v1/audit",
		                                9, NULL),
		         FWC_OK);
		req.method = "GET";
		node_http_dispatch(node_query_routes, node_query_nroutes, NULL, &resp, &req);
		CHECK(resp.status == 503);
	}
}

static void test_orgs(void)
{
	json_t *j = get("/v1/orgs"), *o;
	char t[FWC_PUBKEY_TEXT_MAX];
	int pages = 0;

	CHECK(resp.status == 200);
	CHECK(json_array_size(items(j)) == 3);
	CHECK(strcmp(sget(json_array_get(items(j), 0), "id"), "acme") == 0);
	CHECK(strcmp(sget(json_array_get(items(j), 1), "id"), "beta") == 0);
	CHECK(strcmp(sget(json_array_get(items(j), 2), "id"), "root") == 0);
	CHECK(json_is_false(json_object_get(json_array_get(items(j), 0), "root")));
	CHECK(json_is_true(json_object_get(json_array_get(items(j), 2), "root")));
	CHECK(iget(json_array_get(items(j), 0), "created") == T0 + 10);
	CHECK(json_is_null(json_object_get(j, "next")));
	json_decref(j);

	/* One per page: three pages, same order. */
	j = walk("/v1/orgs?", 1, &pages);
	CHECK(pages == 3 && json_array_size(j) == 3);
	CHECK(strcmp(sget(json_array_get(j, 1), "id"), "beta") == 0);
	json_decref(j);

	/* acme's members, in key order, with their roles. */
	j = get("/v1/orgs/acme");
	CHECK(resp.status == 200);
	CHECK(strcmp(sget(j, "name"), "An organisation") == 0);
	o = json_object_get(j, "members");
	CHECK(json_array_size(o) == 3);
	{
		int order[3] = {ADM, REL, OP};

		for (int a = 0; a < 3; a++) /* sort by key bytes */
			for (int b = a + 1; b < 3; b++)
				if (key_cmp(order[a], order[b]) > 0) {
					int x = order[a];
					order[a] = order[b];
					order[b] = x;
				}
		for (size_t i = 0; i < 3; i++) {
			json_t *m = json_array_get(o, i), *roles = json_object_get(m, "roles");

			key_text(t, order[i]);
			CHECK(strcmp(sget(m, "key"), t) == 0);
			if (order[i] == OP) {
				CHECK(json_array_size(roles) == 2);
				CHECK(strcmp(json_string_value(json_array_get(roles, 0)),
				             "operator") == 0);
				CHECK(strcmp(json_string_value(json_array_get(roles, 1)),
				             "gateway") == 0);
			} else {
				CHECK(json_array_size(roles) == 1);
				CHECK(strcmp(json_string_value(json_array_get(roles, 0)),
				             order[i] == ADM ? "admin" : "release") == 0);
			}
			if (order[i] == REL)
				CHECK(strcmp(sget(m, "label"), "release bot") == 0);
		}
	}
	json_decref(j);

	/* Members paged one at a time still come out whole. */
	j = get("/v1/orgs/acme?limit=2");
	CHECK(json_array_size(json_object_get(j, "members")) == 2);
	CHECK(json_is_string(json_object_get(j, "next")));
	{
		char target[1024], cur[200];

		qenc(cur, sizeof(cur), sget(j, "next"));
		snprintf(target, sizeof(target), "/v1/orgs/acme?limit=2&cursor=%s", cur);
		json_decref(j);
		j = get(target);
		CHECK(json_array_size(json_object_get(j, "members")) == 1);
		CHECK(json_is_null(json_object_get(j, "next")));
	}
	json_decref(j);

	j = get("/v1/orgs/nope");
	CHECK(code_is(j, 404, "unknown_org"));
	json_decref(j);
	j = get("/v1/orgs/Not-An-Id");
	CHECK(code_is(j, 400, "bad_id"));
	json_decref(j);
}

static void test_products(void)
{
	json_t *j, *rs, *keys, *rk;
	char t[FWC_PUBKEY_TEXT_MAX];
	int s3_seen = 0;

	j = get("/v1/products");
	CHECK(json_array_size(items(j)) == 2);
	CHECK(strcmp(sget(json_array_get(items(j), 0), "id"), "thermo") == 0);
	CHECK(strcmp(sget(json_array_get(items(j), 1), "id"), "zeta") == 0);
	json_decref(j);
	j = get("/v1/products?org=beta");
	CHECK(json_array_size(items(j)) == 1);
	CHECK(strcmp(sget(json_array_get(items(j), 0), "id"), "zeta") == 0);
	CHECK(strcmp(sget(json_array_get(items(j), 0), "org"), "beta") == 0);
	json_decref(j);

	j = get("/v1/products/thermo");
	CHECK(resp.status == 200);
	CHECK(strcmp(sget(j, "org"), "acme") == 0);
	rs = json_object_get(j, "root_set");
	CHECK(iget(rs, "threshold") == 2 && iget(rs, "version") == 1);
	CHECK(json_array_size(json_object_get(rs, "keys")) == 3);
	rs = json_object_get(j, "release_set");
	CHECK(iget(rs, "threshold") == 2 && iget(rs, "version") == 1);
	keys = json_object_get(rs, "keys");
	CHECK(json_array_size(keys) == 3);
	key_text(t, S3);
	for (size_t i = 0; i < json_array_size(keys); i++) {
		json_t *k = json_array_get(keys, i);
		int is_s3 = strcmp(sget(k, "key"), t) == 0;

		s3_seen += is_s3;
		CHECK(json_is_true(json_object_get(k, "revoked")) == is_s3);
	}
	CHECK(s3_seen == 1);
	rk = json_object_get(j, "revoked_keys");
	CHECK(json_array_size(rk) == 1);
	CHECK(strcmp(sget(json_array_get(rk, 0), "key"), t) == 0);
	CHECK(strcmp(sget(json_array_get(rk, 0), "reason"), "lost") == 0);
	CHECK(strcmp(sget(json_array_get(rk, 0), "org"), "acme") == 0);
	rk = json_object_get(j, "revoked_releases");
	CHECK(json_array_size(rk) == 1);
	CHECK(iget(json_array_get(rk, 0), "counter") == 2);
	CHECK(json_is_false(json_object_get(j, "revoked_releases_more")));
	json_decref(j);

	j = get("/v1/products/zeta");
	CHECK(json_is_null(json_object_get(j, "release_set")));
	CHECK(json_array_size(json_object_get(j, "revoked_keys")) == 0);
	json_decref(j);
	j = get("/v1/products/none");
	CHECK(code_is(j, 404, "unknown_product"));
	json_decref(j);
	j = get("/v1/products/thermo?x=1");
	CHECK(bad_param_is(j, "x"));
	json_decref(j);
}

static void test_releases(void)
{
	json_t *j, *all;
	char hex[65], target[200], cidtext[FWC_CID_STR_MAX];
	uint8_t digest[32];
	struct fwc_cid cid;
	int pages = 0;
	static const long long want[] = {4, 3, 2, 1};

	j = get("/v1/products/thermo/releases");
	CHECK(resp.status == 200 && json_array_size(items(j)) == 4);
	for (size_t i = 0; i < 4; i++)
		CHECK(iget(json_array_get(items(j), i), "counter") == want[i]);
	CHECK(strcmp(sget(json_array_get(items(j), 0), "channel"), "beta") == 0);
	CHECK(json_is_true(json_object_get(json_array_get(items(j), 2), "revoked")));
	json_decref(j);

	all = walk("/v1/products/thermo/releases?", 3, &pages);
	CHECK(pages == 2 && json_array_size(all) == 4);
	for (size_t i = 0; i < json_array_size(all); i++)
		CHECK(iget(json_array_get(all, i), "counter") == want[i]);
	json_decref(all);
	all = walk("/v1/products/thermo/releases?channel=stable", 1, &pages);
	CHECK(pages == 3 && json_array_size(all) == 3);
	CHECK(iget(json_array_get(all, 0), "counter") == 3);
	CHECK(iget(json_array_get(all, 2), "counter") == 1);
	json_decref(all);
	j = get("/v1/products/zeta/releases");
	CHECK(resp.status == 200 && json_array_size(items(j)) == 0);
	json_decref(j);
	j = get("/v1/products/none/releases");
	CHECK(code_is(j, 404, "unknown_product"));
	json_decref(j);
	j = get("/v1/products/thermo/releases?cursor=12");
	CHECK(bad_param_is(j, "cursor"));
	json_decref(j);

	/* Release 3 in full. */
	fwc_hex_encode(hex, sizeof(hex), rid[3], 32);
	snprintf(target, sizeof(target), "/v1/releases/%s", hex);
	j = get(target);
	CHECK(resp.status == 200);
	CHECK(strcmp(sget(j, "id"), hex) == 0);
	CHECK(iget(j, "counter") == 3 && iget(j, "size") == 1003);
	CHECK(strcmp(sget(j, "version"), "1.0.3") == 0);
	CHECK(strcmp(sget(j, "rollout"), "active") == 0);
	CHECK(json_is_false(json_object_get(j, "revoked")));
	memset(digest, 3, 32);
	fwc_hex_encode(hex, sizeof(hex), digest, 32);
	CHECK(strcmp(sget(j, "sha256"), hex) == 0);
	/* The CID: raw, CIDv1, digest 03..03, formatted by the CID module. */
	memset(&cid, 0, sizeof(cid));
	cid.version = 1;
	cid.codec = FWC_CID_CODEC_RAW;
	cid.mh_code = FWC_MH_SHA2_256;
	memset(cid.digest, 3, 32);
	CHECK_RC(fwc_cid_format(cidtext, sizeof(cidtext), &cid), FWC_OK);
	CHECK(strcmp(sget(j, "cid"), cidtext) == 0);
	CHECK(json_array_size(json_object_get(j, "hardware")) == 2);
	CHECK(strcmp(json_string_value(json_array_get(json_object_get(j, "hardware"), 1)),
	             "rev-c") == 0);
	CHECK(json_array_size(json_object_get(j, "signers")) == 2);
	CHECK(strcmp(sget(json_object_get(j, "metadata"), "text"), "{\"PID\":7}") == 0);
	CHECK(strcmp(sget(json_object_get(j, "metadata"), "hex"), "7b22504944223a377d") == 0);
	CHECK(json_object_get(j, "revocation") == NULL);
	{
		uint8_t back[FWC_SIGNED_MANIFEST_MAX];
		size_t n = 0;
		const char *m = sget(j, "manifest");

		CHECK_RC(fwc_base64_decode(back, sizeof(back), &n, m, strlen(m), NULL), FWC_OK);
		CHECK(n == sm3_len && memcmp(back, sm3, n) == 0);
	}
	json_decref(j);

	fwc_hex_encode(hex, sizeof(hex), rid[2], 32);
	snprintf(target, sizeof(target), "/v1/releases/%s", hex);
	j = get(target);
	CHECK(json_is_true(json_object_get(j, "revoked")));
	CHECK(strcmp(sget(json_object_get(j, "revocation"), "reason"), "recalled") == 0);
	CHECK(iget(json_object_get(j, "revocation"), "time") == T0 + 20);
	json_decref(j);

	memset(hex, 'a', 64);
	hex[64] = '\0';
	snprintf(target, sizeof(target), "/v1/releases/%s", hex);
	j = get(target);
	CHECK(code_is(j, 404, "unknown_release"));
	json_decref(j);
	j = get("/v1/releases/abc");
	CHECK(code_is(j, 400, "bad_id"));
	json_decref(j);
}

static void test_devices(void)
{
	json_t *j, *all;
	char t[FWC_PUBKEY_TEXT_MAX], target[1024], hex[65];
	int order[3] = {D1, D2, D3}, pages = 0;

	for (int a = 0; a < 3; a++)
		for (int b = a + 1; b < 3; b++)
			if (key_cmp(order[a], order[b]) > 0) {
				int x = order[a];
				order[a] = order[b];
				order[b] = x;
			}
	all = walk("/v1/devices?product=thermo", 1, &pages);
	CHECK(pages == 3 && json_array_size(all) == 3);
	for (size_t i = 0; i < json_array_size(all); i++) {
		key_text(t, order[i]);
		CHECK(strcmp(sget(json_array_get(all, i), "key"), t) == 0);
	}
	json_decref(all);

	j = get("/v1/devices?product=thermo&status=retired");
	CHECK(json_array_size(items(j)) == 1);
	key_text(t, D3);
	CHECK(strcmp(sget(json_array_get(items(j), 0), "key"), t) == 0);
	CHECK(strcmp(sget(json_array_get(items(j), 0), "status"), "retired") == 0);
	json_decref(j);
	j = get("/v1/devices?product=thermo&status=active&group=pilot");
	CHECK(json_array_size(items(j)) == 1);
	key_text(t, D1);
	CHECK(strcmp(sget(json_array_get(items(j), 0), "key"), t) == 0);
	json_decref(j);
	j = get("/v1/devices?product=thermo&group=eu");
	CHECK(json_array_size(items(j)) == 2);
	json_decref(j);
	j = get("/v1/devices"); /* every product */
	CHECK(json_array_size(items(j)) == 3);
	json_decref(j);
	j = get("/v1/devices?product=zeta");
	CHECK(resp.status == 200 && json_array_size(items(j)) == 0);
	json_decref(j);
	j = get("/v1/devices?group=eu");
	CHECK(bad_param_is(j, "group"));
	json_decref(j);
	j = get("/v1/devices?status=lost");
	CHECK(bad_param_is(j, "status"));
	json_decref(j);

	/* D1 in full: counter and release from its confirmed event, history newest first. */
	key_text(t, D1);
	snprintf(target, sizeof(target), "/v1/devices/%s", t);
	j = get(target);
	CHECK(resp.status == 200);
	CHECK(iget(j, "counter") == 3 && iget(j, "last_seq") == 5);
	fwc_hex_encode(hex, sizeof(hex), rid[3], 32);
	CHECK(strcmp(sget(j, "release"), hex) == 0);
	CHECK(strcmp(sget(j, "hwid"), "rev-b") == 0);
	CHECK(strcmp(sget(json_object_get(j, "attributes"), "site"), "lyon") == 0);
	CHECK(json_array_size(json_object_get(j, "groups")) == 2);
	{
		json_t *h = items(json_object_get(j, "history"));
		static const long long seqs[] = {5, 3, 2, 1};

		CHECK(json_array_size(h) == 4);
		for (size_t i = 0; i < json_array_size(h) && i < 4; i++)
			CHECK(iget(json_array_get(h, i), "seq") == seqs[i]);
		CHECK(strcmp(sget(json_array_get(h, 0), "kind_name"), "confirmed") == 0);
		CHECK(strcmp(sget(json_array_get(h, 2), "detail"), "via gateway") == 0);
		key_text(t, OP);
		CHECK(strcmp(sget(json_array_get(h, 2), "relay"), t) == 0);
	}
	json_decref(j);
	/* History two at a time. */
	key_text(t, D1);
	snprintf(target, sizeof(target), "/v1/devices/%s?limit=3", t);
	j = get(target);
	CHECK(json_array_size(items(json_object_get(j, "history"))) == 3);
	{
		char cur[300];

		qenc(cur, sizeof(cur), sget(json_object_get(j, "history"), "next"));
		snprintf(target, sizeof(target), "/v1/devices/%s?limit=3&cursor=%s", t, cur);
		json_decref(j);
		j = get(target);
		CHECK(json_array_size(items(json_object_get(j, "history"))) == 1);
		CHECK(iget(json_array_get(items(json_object_get(j, "history")), 0), "seq") == 1);
	}
	json_decref(j);
	key_text(t, D2);
	snprintf(target, sizeof(target), "/v1/devices/%s", t);
	j = get(target);
	CHECK(json_is_null(json_object_get(j, "release")) && iget(j, "counter") == 0);
	json_decref(j);
	key_text(t, STRANGER);
	snprintf(target, sizeof(target), "/v1/devices/%s", t);
	j = get(target);
	CHECK(code_is(j, 404, "unknown_device"));
	json_decref(j);
	j = get("/v1/devices/bip340:12");
	CHECK(code_is(j, 400, "bad_id"));
	json_decref(j);
}

static void test_events(void)
{
	json_t *j, *all;
	char t[FWC_PUBKEY_TEXT_MAX], target[1024];
	int pages = 0, first = key_cmp(D1, D2) < 0 ? D1 : D2;

	/* Product order: (time, device key, seq). At T0+40: D1 1, 2. At T0+50: D1 3, 5 and
	 * D2 1, in key order of D1 and D2. */
	all = walk("/v1/events?product=thermo", 2, &pages);
	CHECK(pages == 3 && json_array_size(all) == 5);
	CHECK(iget(json_array_get(all, 0), "seq") == 1 && iget(json_array_get(all, 1), "seq") == 2);
	CHECK(iget(json_array_get(all, 0), "time") == T0 + 40);
	key_text(t, first);
	CHECK(strcmp(sget(json_array_get(all, 2), "device"), t) == 0);
	if (first == D1) {
		CHECK(iget(json_array_get(all, 2), "seq") == 3);
		CHECK(iget(json_array_get(all, 3), "seq") == 5);
		CHECK(iget(json_array_get(all, 4), "seq") == 1);
	} else {
		CHECK(iget(json_array_get(all, 2), "seq") == 1);
		CHECK(iget(json_array_get(all, 3), "seq") == 3);
		CHECK(iget(json_array_get(all, 4), "seq") == 5);
	}
	json_decref(all);

	j = get("/v1/events?product=thermo&kind=checkin");
	CHECK(json_array_size(items(j)) == 2);
	json_decref(j);
	j = get("/v1/events?product=thermo&kind=4");
	CHECK(json_array_size(items(j)) == 1);
	CHECK(strcmp(sget(json_array_get(items(j), 0), "kind_name"), "confirmed") == 0);
	json_decref(j);
	snprintf(target, sizeof(target), "/v1/events?product=thermo&from=%d&to=%d", T0 + 41,
	         T0 + 60);
	j = get(target);
	CHECK(json_array_size(items(j)) == 3);
	json_decref(j);
	snprintf(target, sizeof(target), "/v1/events?product=thermo&to=%d", T0 + 40);
	j = get(target);
	CHECK(json_array_size(items(j)) == 2);
	json_decref(j);
	key_text(t, D1);
	snprintf(target, sizeof(target), "/v1/events?device=%s", t);
	all = walk(target, 3, &pages);
	CHECK(pages == 2 && json_array_size(all) == 4);
	CHECK(iget(json_array_get(all, 3), "seq") == 5);
	json_decref(all);
	snprintf(target, sizeof(target), "/v1/events?device=%s&product=zeta", t);
	j = get(target);
	CHECK(resp.status == 200 && json_array_size(items(j)) == 0);
	json_decref(j);

	j = get("/v1/events");
	CHECK(bad_param_is(j, "product"));
	json_decref(j);
	j = get("/v1/events?product=thermo&kind=9");
	CHECK(bad_param_is(j, "kind"));
	json_decref(j);
	j = get("/v1/events?product=thermo&from=5&to=4");
	CHECK(bad_param_is(j, "to"));
	json_decref(j);
	j = get("/v1/events?product=thermo&from=-1");
	CHECK(bad_param_is(j, "from"));
	json_decref(j);
	j = get("/v1/events?product=thermo&cursor=1.2.bip340:00");
	CHECK(bad_param_is(j, "cursor"));
	json_decref(j);
	j = get("/v1/events?device=bip340:zz&product=thermo");
	CHECK(bad_param_is(j, "device"));
	json_decref(j);
}

static void test_txs(void)
{
	json_t *j, *all;
	char t[FWC_PUBKEY_TEXT_MAX], target[1024], hex[65];
	int pages = 0;
	size_t n_rel = 0, k = 0;

	for (size_t i = 0; i < n_journal; i++)
		n_rel += journal[i].who == REL;
	CHECK(n_rel == 6);
	key_text(t, REL);
	snprintf(target, sizeof(target), "/v1/txs?sender=%s", t);
	all = walk(target, 4, &pages);
	CHECK(pages == 2 && json_array_size(all) == n_rel);
	/* In log order, each with its id, nonce and leaf index as the block recorded them. */
	for (size_t i = 0; i < n_journal; i++) {
		json_t *row;
		uint8_t id[32];

		if (journal[i].who != REL)
			continue;
		row = json_array_get(all, k++);
		fwc_tx_id(id, journal[i].tx, journal[i].len);
		fwc_hex_encode(hex, sizeof(hex), id, 32);
		CHECK(strcmp(sget(row, "id"), hex) == 0);
		CHECK(iget(row, "nonce") == (long long)k);
		CHECK(iget(row, "leaf_index") == (long long)i);
		CHECK(iget(row, "type") == journal[i].type);
		CHECK(strcmp(sget(row, "status"), journal[i].failed ? "failed" : "applied") == 0);
		if (journal[i].failed)
			CHECK(strcmp(sget(row, "refusal"), "counter_not_increasing") == 0);
		CHECK(strcmp(sget(row, "sender"), t) == 0);
	}
	json_decref(all);

	snprintf(target, sizeof(target), "/v1/txs?sender=%s&type=release", t);
	j = get(target);
	CHECK(json_array_size(items(j)) == 5);
	json_decref(j);
	snprintf(target, sizeof(target), "/v1/txs?sender=%s&type=9&status=failed", t);
	j = get(target);
	CHECK(json_array_size(items(j)) == 1);
	json_decref(j);
	snprintf(target, sizeof(target), "/v1/txs?sender=%s&order=desc&limit=1", t);
	j = get(target);
	CHECK(iget(json_array_get(items(j), 0), "type") == FWC_TX_RELEASE_REVOKE);
	{
		char cur[64];

		snprintf(cur, sizeof(cur), "%s", sget(j, "next"));
		snprintf(target, sizeof(target), "/v1/txs?sender=%s&order=desc&limit=1&cursor=%s",
		         t, cur);
		json_decref(j);
		j = get(target);
		CHECK(strcmp(sget(json_array_get(items(j), 0), "status"), "failed") == 0);
	}
	json_decref(j);
	j = get("/v1/txs");
	CHECK(json_array_size(items(j)) == n_journal);
	json_decref(j);
	j = get("/v1/txs?type=banana");
	CHECK(bad_param_is(j, "type"));
	json_decref(j);
	j = get("/v1/txs?type=18");
	CHECK(bad_param_is(j, "type"));
	json_decref(j);
	j = get("/v1/txs?order=up");
	CHECK(bad_param_is(j, "order"));
	json_decref(j);
	j = get("/v1/txs?cursor=0");
	CHECK(bad_param_is(j, "cursor"));
	json_decref(j);
}

static void test_audit(void)
{
	json_t *j, *all;
	char t[FWC_PUBKEY_TEXT_MAX], target[1024];
	int pages = 0;
	size_t n_op = 0;

	all = walk("/v1/audit?", 7, &pages);
	CHECK(json_array_size(all) == n_journal);
	for (size_t i = 0; i < json_array_size(all); i++) {
		CHECK(iget(json_array_get(all, i), "type") == journal[i].type);
		CHECK(iget(json_array_get(all, i), "time") == journal[i].time);
		if (i > 0)
			CHECK(iget(json_array_get(all, i), "seq") >
			      iget(json_array_get(all, i - 1), "seq"));
	}
	json_decref(all);

	for (size_t i = 0; i < n_journal; i++)
		n_op += journal[i].who == OP;
	key_text(t, OP);
	snprintf(target, sizeof(target), "/v1/audit?actor=%s", t);
	j = get(target);
	CHECK(json_array_size(items(j)) == n_op);
	json_decref(j);
	/* D1's rows: its registration and its four events (one relayed by OP). */
	key_text(t, D1);
	snprintf(target, sizeof(target), "/v1/audit?device=%s", t);
	j = get(target);
	CHECK(json_array_size(items(j)) == 5);
	CHECK(strcmp(sget(json_array_get(items(j), 0), "type_name"), "device-register") == 0);
	json_decref(j);
	key_text(t, OP);
	snprintf(target, sizeof(target), "/v1/audit?actor=%s&type=device-event", t);
	j = get(target);
	CHECK(json_array_size(items(j)) == 1);
	json_decref(j);
	j = get("/v1/audit?status=failed");
	CHECK(json_array_size(items(j)) == 1);
	CHECK(strcmp(sget(json_array_get(items(j), 0), "refusal"), "counter_not_increasing") == 0);
	CHECK(strcmp(sget(json_array_get(items(j), 0), "product"), "thermo") == 0);
	json_decref(j);
	j = get("/v1/audit?org=beta");
	CHECK(json_array_size(items(j)) == 1); /* beta's product registration */
	json_decref(j);
	snprintf(target, sizeof(target), "/v1/audit?product=thermo&from=%d&to=%d", T0 + 20,
	         T0 + 20);
	j = get(target);
	/* 4 releases, the refused one, the release revocation; the key revocation of that second
	 * names no product (a key may serve several). */
	CHECK(json_array_size(items(j)) == 6);
	json_decref(j);

	j = get("/v1/audit?actor=alice");
	CHECK(bad_param_is(j, "actor"));
	json_decref(j);
	j = get("/v1/audit?org=ACME");
	CHECK(bad_param_is(j, "org"));
	json_decref(j);
}

static void test_params(void)
{
	json_t *j;

	j = get("/v1/orgs?limit=0");
	CHECK(bad_param_is(j, "limit"));
	json_decref(j);
	j = get("/v1/orgs?limit=1001");
	CHECK(bad_param_is(j, "limit"));
	json_decref(j);
	j = get("/v1/orgs?limit=01");
	CHECK(bad_param_is(j, "limit"));
	json_decref(j);
	j = get("/v1/orgs?limit=1000");
	CHECK(resp.status == 200);
	json_decref(j);
	j = get("/v1/orgs?limit=2&limit=3");
	CHECK(bad_param_is(j, "limit"));
	json_decref(j);
	j = get("/v1/devices?prodcut=thermo");
	CHECK(bad_param_is(j, "prodcut"));
	json_decref(j);
	j = get("/v1/orgs?cursor=A");
	CHECK(bad_param_is(j, "cursor"));
	json_decref(j);
}

static void test_etag(void)
{
	json_t *j;
	char tag[NODE_HTTP_ETAG_MAX];

	j = get("/v1/products/thermo");
	CHECK(resp.status == 200 && resp.etag[0] == '"');
	snprintf(tag, sizeof(tag), "%s", resp.etag);
	json_decref(j);
	j = get("/v1/products/thermo");
	CHECK(strcmp(resp.etag, tag) == 0);
	json_decref(j);
	j = get_inm("/v1/products/thermo", tag);
	CHECK(resp.status == 304);
	json_decref(j);
	/* A different answer has a different tag. */
	j = get("/v1/products/zeta");
	CHECK(resp.status == 200 && strcmp(resp.etag, tag) != 0);
	json_decref(j);
}

int main(void)
{
	build_ledger();
	/* The queries read what build_ledger wrote through another connection. */
	RUN(test_orgs);
	RUN(test_products);
	RUN(test_releases);
	RUN(test_devices);
	RUN(test_events);
	RUN(test_txs);
	RUN(test_audit);
	RUN(test_params);
	RUN(test_etag);
	node_http_response_cleanup(&resp);
	node_query_close(query);

	/* No query endpoints (a node without state queries): 503; a closed pool is NULL-safe.
	 * (A ledger always has the state tables: node_db_open creates them since schema 2.) */
	query = NULL;
	RUN(test_unavailable);
	node_http_response_cleanup(&resp);
	node_query_close(NULL);
	node_db_close(ldb);
	node_state_close(&st);
	sqlite3_close(wdb);
	remove_dir();
	return test_done();
}
