/* Tests the batch submission path: node/txbatch.c (the split of a POST /v1/txs/batch body,
 * against hand-written CBOR), node/txindex.c (the mempool index, against a naive model of the
 * pending set), and the endpoint itself (node_api_batch_* of node/api.c) on a real chain: a
 * batch with good entries, a duplicate, a bad signature, a nonce gap and garbage answers one
 * result per entry, commits the good ones, and refuses nothing else; a batch that cannot be
 * split is refused whole. */
#include "test.h"

#include "api.h"
#include "chain.h"
#include "db.h"
#include "txbatch.h"
#include "txindex.h"

#include <jansson.h>
#include <time.h>
#include <unistd.h>

#include "fwchain/hex.h"
#include "fwchain/payload.h"
#include "fwchain/tx.h"

#define CHAIN "fwchain-dev-0bat0000"
#define VNAME CHAIN "/validator-0"
#define ADMIN 7

static char dir[] = "/tmp/fwc-batchtest-XXXXXX";

/* ---------------------------------------------------------------- the split */

static void test_decode(void)
{
	struct node_txbatch_item it[4];
	struct fwc_errinfo ei;
	uint8_t in[64];
	size_t n = 0, len;

	/* [h'01', h'0203'] */
	len = test_unhex(in, sizeof(in), "824101420203");
	CHECK_RC(node_txbatch_decode(it, 4, &n, in, len, NULL), FWC_OK);
	CHECK(n == 2 && it[0].len == 1 && it[0].p == in + 2 && it[0].p[0] == 1);
	CHECK(it[1].len == 2 && it[1].p == in + 4 && it[1].p[1] == 3);
	/* More entries than the caller's room. */
	memset(&ei, 0, sizeof(ei));
	CHECK_RC(node_txbatch_decode(it, 1, &n, in, len, &ei), FWC_ERR_TOO_LARGE);
	CHECK(ei.msg[0] != '\0');
#define REFUSED(hex, want)                                                                         \
	do {                                                                                       \
		memset(&ei, 0, sizeof(ei));                                                        \
		len = test_unhex(in, sizeof(in), hex);                                             \
		CHECK_RC(node_txbatch_decode(it, 4, &n, in, len, &ei), want);                      \
		CHECK(ei.msg[0] != '\0');                                                          \
	} while (0)
	REFUSED("80", FWC_ERR_RANGE);              /* empty batch */
	REFUSED("8140", FWC_ERR_RANGE);            /* an empty entry */
	REFUSED("a0", FWC_ERR_TYPE);               /* a map */
	REFUSED("4101", FWC_ERR_TYPE);             /* a lone byte string */
	REFUSED("820141", FWC_ERR_TYPE);           /* an entry that is not a byte string */
	REFUSED("824101", FWC_ERR_TRUNCATED);      /* one entry missing */
	REFUSED("81410100", FWC_ERR_TRAILING);     /* a byte after the array */
	REFUSED("98014101", FWC_ERR_NONCANONICAL); /* count 1 in a 1-byte head */
	REFUSED("9f4101ff", FWC_ERR_INDEFINITE);   /* indefinite length */
	/* The bound of the format itself: 4097 entries. */
	{
		static uint8_t big[3 + 2 * (NODE_TXBATCH_MAX + 1)];
		static struct node_txbatch_item many[NODE_TXBATCH_MAX + 1];
		size_t k = 0;

		big[k++] = 0x99;
		big[k++] = (uint8_t)((NODE_TXBATCH_MAX + 1) >> 8);
		big[k++] = (uint8_t)(NODE_TXBATCH_MAX + 1);
		for (int i = 0; i <= NODE_TXBATCH_MAX; i++) {
			big[k++] = 0x41;
			big[k++] = 0x00;
		}
		CHECK_RC(node_txbatch_decode(many, NODE_TXBATCH_MAX + 1, &n, big, k, NULL),
		         FWC_ERR_TOO_LARGE);
		/* 4096 are fine. */
		big[1] = (uint8_t)(NODE_TXBATCH_MAX >> 8);
		big[2] = (uint8_t)NODE_TXBATCH_MAX;
		CHECK_RC(node_txbatch_decode(many, NODE_TXBATCH_MAX, &n, big, k - 2, NULL), FWC_OK);
		CHECK(n == NODE_TXBATCH_MAX);
	}
}

/* ---------------------------------------------------------------- the index */

static void sender_of(uint8_t s[FWC_PUBKEY_BIN_LEN], unsigned who)
{
	memset(s, 0, FWC_PUBKEY_BIN_LEN);
	s[0] = 1;
	s[1] = (uint8_t)who;
}

static void id_of(uint8_t id[32], unsigned who, uint64_t nonce)
{
	memset(id, 0, 32);
	id[0] = (uint8_t)who;
	memcpy(id + 1, &nonce, sizeof(nonce));
}

static void test_index(void)
{
	/* A naive model: present[who][nonce] for 4 senders and nonces 1..40. */
	static int present[4][41];
	struct node_txindex *ix = NULL;
	uint8_t s[FWC_PUBKEY_BIN_LEN], id[32];
	unsigned seed = 12345;
	size_t count = 0;
	uint64_t top = 0;

	CHECK_RC(node_txindex_new(&ix, 0), FWC_ERR_ARG);
	CHECK_RC(node_txindex_new(&ix, 160), FWC_OK);
	sender_of(s, 0);
	id_of(id, 0, 1);
	CHECK_RC(node_txindex_add(ix, id, s, 1, 0), FWC_OK);
	CHECK_RC(node_txindex_add(ix, id, s, 2, 0), FWC_ERR_DUPLICATE); /* same id */
	id_of(id, 0, 99);
	CHECK_RC(node_txindex_add(ix, id, s, 1, 1), FWC_ERR_DUPLICATE); /* same (sender, nonce) */
	CHECK(node_txindex_size(ix) == 1 && node_txindex_membership(ix) == 0);
	id_of(id, 0, 1);
	node_txindex_remove(ix, id, s, 1, 0);
	CHECK(node_txindex_size(ix) == 0 && !node_txindex_has_id(ix, id) &&
	      !node_txindex_has_nonce(ix, s, 1));
	node_txindex_sender(ix, s, &count, &top);
	CHECK(count == 0 && top == 0);
	/* Random adds and removes against the model; membership on even nonces. */
	for (int step = 0; step < 20000; step++) {
		unsigned who, nonce;
		size_t want_n = 0, n = 0;
		uint64_t want_top = 0, t = 0;

		seed = seed * 1103515245u + 12345u;
		who = (seed >> 8) % 4;
		nonce = 1 + (seed >> 12) % 40;
		sender_of(s, who);
		id_of(id, who, nonce);
		if (present[who][nonce]) {
			node_txindex_remove(ix, id, s, nonce, nonce % 2 == 0);
			present[who][nonce] = 0;
		} else {
			int rc = node_txindex_add(ix, id, s, nonce, nonce % 2 == 0);

			CHECK_RC(rc, FWC_OK);
			present[who][nonce] = rc == FWC_OK;
		}
		for (unsigned k = 1; k <= 40; k++)
			if (present[who][k]) {
				want_n++;
				want_top = k;
			}
		node_txindex_sender(ix, s, &n, &t);
		if (n != want_n || t != want_top) {
			CHECK(n == want_n && t == want_top);
			break;
		}
		CHECK(node_txindex_has_nonce(ix, s, nonce) == present[who][nonce]);
	}
	{
		size_t total = 0, memb = 0;

		for (unsigned w = 0; w < 4; w++)
			for (unsigned k = 1; k <= 40; k++) {
				total += (size_t)present[w][k];
				memb += (size_t)(present[w][k] && k % 2 == 0);
				sender_of(s, w);
				id_of(id, w, k);
				CHECK(node_txindex_has_id(ix, id) == present[w][k]);
			}
		CHECK(node_txindex_size(ix) == total && node_txindex_membership(ix) == memb);
	}
	node_txindex_free(ix);
	/* Full: max entries, then RANGE. */
	CHECK_RC(node_txindex_new(&ix, 3), FWC_OK);
	sender_of(s, 9);
	for (unsigned k = 1; k <= 4; k++) {
		id_of(id, 9, k);
		CHECK_RC(node_txindex_add(ix, id, s, k, 0), k <= 3 ? FWC_OK : FWC_ERR_RANGE);
	}
	node_txindex_free(ix);
	node_txindex_free(NULL);
}

/* ---------------------------------------------------------------- the endpoint */

static struct fwc_seckey vsk;
static struct node_consensus_dev devst;

static void key_of(struct fwc_seckey *sk, struct fwc_pubkey *pk, uint8_t seedbyte)
{
	uint8_t seed[32];

	memset(seed, seedbyte, sizeof(seed));
	fwc_key_from_secret(sk, FWC_ALG_BIP340, seed);
	fwc_key_public(pk, sk);
}

/* member-add (auditor role for the key of target) from the key of seedbyte. */
static size_t make_tx(uint8_t *out, uint8_t seedbyte, uint64_t nonce, uint8_t target)
{
	struct fwc_seckey sk;
	struct fwc_pl_member_add p;
	struct fwc_tx tx;
	uint8_t pl[256], body[FWC_TX_BODY_MAX];
	size_t pl_len = 0, blen = 0, len = 0;

	memset(&p, 0, sizeof(p));
	key_of(&sk, &p.key, target);
	p.role = FWC_ROLE_AUDITOR;
	fwc_pl_member_add_encode(pl, sizeof(pl), &pl_len, &p);
	memset(&tx, 0, sizeof(tx));
	key_of(&sk, &tx.sender, seedbyte);
	tx.type = FWC_TX_MEMBER_ADD;
	tx.chain_id.p = CHAIN;
	tx.chain_id.len = strlen(CHAIN);
	tx.nonce = nonce;
	tx.time = (uint64_t)time(NULL);
	tx.payload.p = pl;
	tx.payload.len = pl_len;
	fwc_tx_encode_body(body, sizeof(body), &blen, &tx, NULL);
	fwc_tx_sign(out, FWC_TX_MAX, &len, body, blen, &sk, NULL, NULL);
	fwc_seckey_wipe(&sk);
	return len;
}

/* Post body[0..len) through the batch route's callbacks, as the HTTP layer does (in pieces
 * of 100 bytes); resp gets the answer. */
static void post_batch(struct node_api *api, struct node_http_response *resp, const uint8_t *body,
                       size_t len)
{
	struct node_http_request req;
	void *up;

	memset(&req, 0, sizeof(req));
	memset(resp, 0, sizeof(*resp));
	up = node_api_batch_begin(api, resp, &req);
	CHECK(up != NULL);
	if (up == NULL)
		return;
	for (size_t off = 0; off < len; off += 100)
		if (node_api_batch_data(up, resp, body + off, len - off < 100 ? len - off : 100) !=
		    0)
			break;
	if (resp->status == 0)
		node_api_batch_end(up, resp, &req);
	node_api_batch_release(up);
}

static size_t put_bytes(uint8_t *out, const uint8_t *p, size_t n)
{
	size_t k = 0;

	if (n < 24) {
		out[k++] = (uint8_t)(0x40 | n);
	} else if (n < 256) {
		out[k++] = 0x58;
		out[k++] = (uint8_t)n;
	} else {
		out[k++] = 0x59;
		out[k++] = (uint8_t)(n >> 8);
		out[k++] = (uint8_t)n;
	}
	memcpy(out + k, p, n);
	return k + n;
}

static void test_endpoint(void)
{
	static uint8_t txs[6][FWC_TX_MAX], body[8 * FWC_TX_MAX];
	struct node_chain_config cfg;
	struct node_consensus cs;
	struct node_genesis g;
	struct node_chain *c = NULL;
	struct node_db *db = NULL;
	struct node_api api;
	struct node_http_response resp;
	struct fwc_errinfo ei = {0};
	char path[300];
	size_t lens[6], blen = 0;
	json_t *o = NULL, *res;
	uint8_t id[32];

	memset(&g, 0, sizeof(g));
	snprintf(g.chain_id, sizeof(g.chain_id), "%s", CHAIN);
	g.time = 1700000000;
	g.n_validators = 1;
	snprintf(g.validators[0].name, sizeof(g.validators[0].name), "%s", VNAME);
	{
		uint8_t seed[32] = {9, 9, 9};

		fwc_key_from_secret(&vsk, FWC_ALG_ED25519, seed);
	}
	fwc_key_public(&g.validators[0].key, &vsk);
	g.quorum = 1;
	g.n_orgs = 1;
	snprintf(g.orgs[0].id, sizeof(g.orgs[0].id), "root");
	snprintf(g.orgs[0].name, sizeof(g.orgs[0].name), "Root");
	snprintf(g.orgs[0].admin_name, sizeof(g.orgs[0].admin_name), "admin");
	{
		struct fwc_seckey sk;

		key_of(&sk, &g.orgs[0].admin, ADMIN);
		fwc_seckey_wipe(&sk);
	}
	snprintf(path, sizeof(path), "%s/ledger.db", dir);
	CHECK_RC(node_db_open(&db, path, 1, &ei), FWC_OK);
	node_chain_config_default(&cfg);
	cfg.block_interval_ms = 20;
	node_consensus_dev_init(&cs, &devst, &vsk, VNAME);
	CHECK_RC(node_chain_start(&c, &cfg, db, &cs, &g, &ei), FWC_OK);
	if (c == NULL)
		return;
	node_api_init(&api, c, db, CHAIN);

	/* Entries: admin nonces 1 and 2 (good), nonce 1 again (duplicate), a bad signature
	 * (nonce 3), nonce 9 (a gap), and 5 bytes of garbage. */
	lens[0] = make_tx(txs[0], ADMIN, 1, 21);
	lens[1] = make_tx(txs[1], ADMIN, 2, 22);
	memcpy(txs[2], txs[0], lens[0]);
	lens[2] = lens[0];
	lens[3] = make_tx(txs[3], ADMIN, 3, 23);
	txs[3][lens[3] - 1] ^= 1;
	lens[4] = make_tx(txs[4], ADMIN, 9, 24);
	memcpy(txs[5], "\x01\x02\x03\x04\x05", 5);
	lens[5] = 5;
	body[blen++] = 0x86;
	for (int i = 0; i < 6; i++)
		blen += put_bytes(body + blen, txs[i], lens[i]);
	post_batch(&api, &resp, body, blen);
	CHECK(resp.status == 200);
	o = resp.body ? json_loadb(resp.body, resp.body_len, 0, NULL) : NULL;
	CHECK(o != NULL);
	res = json_object_get(o, "results");
	CHECK(json_integer_value(json_object_get(o, "accepted")) == 2 &&
	      json_integer_value(json_object_get(o, "refused")) == 4 && json_array_size(res) == 6);
	if (json_array_size(res) == 6) {
		static const char *const status[6] = {"pending", "pending", "refused",
		                                      "refused", "refused", "refused"};
		static const char *const code[6] = {
		    NULL, NULL, "duplicate", "bad_signature", "nonce_gap", "malformed_tx"};
		static const int http[6] = {0, 0, 409, 400, 400, 400};

		for (size_t i = 0; i < 6; i++) {
			json_t *e = json_array_get(res, i);
			char hex[65];

			CHECK_RC(fwc_tx_id(id, txs[i], lens[i]), FWC_OK);
			fwc_hex_encode(hex, sizeof(hex), id, 32);
			CHECK(strcmp(json_string_value(json_object_get(e, "id")), hex) == 0);
			CHECK(strcmp(json_string_value(json_object_get(e, "status")), status[i]) ==
			      0);
			if (code[i]) {
				CHECK(strcmp(json_string_value(json_object_get(e, "code")),
				             code[i]) == 0);
				CHECK(json_integer_value(json_object_get(e, "http")) == http[i]);
				CHECK(json_string_length(json_object_get(e, "message")) > 0);
			}
		}
	}
	json_decref(o);
	node_http_response_cleanup(&resp);
	/* The two good ones are committed. */
	for (int i = 0; i < 2; i++) {
		enum node_tx_where w = NODE_TX_PENDING;

		fwc_tx_id(id, txs[i], lens[i]);
		for (int k = 0; k < 3000 && w == NODE_TX_PENDING; k++) {
			w = node_chain_tx_where(c, id, NULL);
			if (w == NODE_TX_PENDING)
				usleep(10000);
		}
		CHECK(w == NODE_TX_COMMITTED);
	}
	/* Sent again, the first is a duplicate of a committed one. */
	blen = 0;
	body[blen++] = 0x81;
	blen += put_bytes(body + blen, txs[0], lens[0]);
	post_batch(&api, &resp, body, blen);
	CHECK(resp.status == 200 && resp.body && strstr(resp.body, "committed in block"));
	node_http_response_cleanup(&resp);
	/* Batches that cannot be split are refused whole. */
	post_batch(&api, &resp, (const uint8_t *)"\xa0", 1);
	CHECK(resp.status == 400 && resp.body && strstr(resp.body, "malformed_batch"));
	node_http_response_cleanup(&resp);
	post_batch(&api, &resp, (const uint8_t *)"\x82\x41\x01", 3);
	CHECK(resp.status == 400 && resp.body && strstr(resp.body, "malformed_batch"));
	node_http_response_cleanup(&resp);
	{
		/* More bytes than a batch may hold: refused while the body comes in. */
		static uint8_t junk[NODE_TXBATCH_BYTES / 8];
		struct node_http_request req;
		void *up;
		int refused = 0;

		memset(&req, 0, sizeof(req));
		memset(&resp, 0, sizeof(resp));
		up = node_api_batch_begin(&api, &resp, &req);
		for (int i = 0; up && i < 9 && !refused; i++)
			refused = node_api_batch_data(up, &resp, junk, sizeof(junk)) != 0;
		CHECK(refused && resp.status == 413);
		node_api_batch_release(up);
		node_http_response_cleanup(&resp);
	}
	node_chain_stop(c);
	node_db_close(db);
}

int main(void)
{
	char cmd[128];

	if (mkdtemp(dir) == NULL)
		return 1;
	RUN(test_decode);
	RUN(test_index);
	RUN(test_endpoint);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	return test_done();
}
