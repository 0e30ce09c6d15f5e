/* Tests node/chain.c on a real ledger with the state machine wired in: the genesis block's
 * checkpoint (empty-tree root from RFC 6962, origin = chain id, "height 0") and the state's
 * genesis (its admin can act), the validator's cosignature verified with note.h, submission
 * refusals (malformed, chain id, signature, unknown sender, role, duplicate, nonce replay and
 * gap), a block with one transaction whose root is its RFC 6962 leaf hash computed here, the
 * "prev" line, a failed transaction (logged, nonce consumed, code kept), a rejected one (not
 * logged, reason kept) whose successor waits and commits after a corrected resubmission, a
 * consensus engine that refuses (transactions stay pending, nothing is written), a checkpoint
 * without the genesis quorum (refused), the batch-full trigger, idle checkpoints, restart, and
 * refusal to start on a ledger whose leaves were altered. Every wait is bounded (5 s). */
#include "test.h"

#include "chain.h"
#include "db.h"

#include <sodium.h>
#include <sqlite3.h>
#include <time.h>
#include <unistd.h>

#include "fwchain/note.h"
#include "fwchain/payload.h"
#include "fwchain/sha256.h"
#include "fwchain/tx.h"

#define CHAIN "fwchain-dev-0badc0de"
#define VNAME CHAIN "/validator-0"
#define ADMIN 7 /* the seed byte of the genesis admin's key */

static char dir[] = "/tmp/fwc-chaintest-XXXXXX";
static char dbpath[256];
static struct fwc_seckey vsk;
static struct node_consensus_dev dev;
static struct node_consensus devcs; /* the real dev engine, which picky_propose wraps */
static int refuse_blocks;
static struct node_genesis gen;

static int picky_propose(void *ctx, char **note, size_t *len, const struct node_block *b)
{
	(void)ctx;
	if (refuse_blocks)
		return FWC_ERR_QUORUM;
	return devcs.propose(devcs.ctx, note, len, b);
}

static void key_of(struct fwc_seckey *sk, struct fwc_pubkey *pk, uint8_t seedbyte)
{
	uint8_t seed[32];

	memset(seed, seedbyte, sizeof(seed));
	fwc_key_from_secret(sk, FWC_ALG_BIP340, seed);
	fwc_key_public(pk, sk);
}

/* A transaction of type from the key of seedbyte, dated `when` (0: now). */
static void make_tx_at(uint8_t *out, size_t *len, const char *chain, uint8_t seedbyte,
                       uint64_t nonce, uint32_t type, const uint8_t *pl, size_t pl_len,
                       uint64_t when)
{
	struct fwc_seckey sk;
	struct fwc_tx tx;
	uint8_t body[FWC_TX_BODY_MAX];
	size_t blen = 0;

	memset(&tx, 0, sizeof(tx));
	key_of(&sk, &tx.sender, seedbyte);
	tx.type = type;
	tx.chain_id.p = chain;
	tx.chain_id.len = strlen(chain);
	tx.nonce = nonce;
	tx.time = when ? when : (uint64_t)time(NULL);
	tx.payload.p = pl;
	tx.payload.len = pl_len;
	fwc_tx_encode_body(body, sizeof(body), &blen, &tx, NULL);
	fwc_tx_sign(out, FWC_TX_MAX, len, body, blen, &sk, NULL, NULL);
	fwc_seckey_wipe(&sk);
}

/* member-add {key of target, role} from the key of seedbyte. */
static void make_tx(uint8_t *out, size_t *len, const char *chain, uint8_t seedbyte, uint64_t nonce,
                    uint8_t target, uint32_t role)
{
	struct fwc_seckey sk;
	struct fwc_pl_member_add p;
	uint8_t pl[256];
	size_t pl_len = 0;

	memset(&p, 0, sizeof(p));
	key_of(&sk, &p.key, target);
	fwc_seckey_wipe(&sk);
	p.role = role;
	fwc_pl_member_add_encode(pl, sizeof(pl), &pl_len, &p);
	make_tx_at(out, len, chain, seedbyte, nonce, FWC_TX_MEMBER_ADD, pl, pl_len, 0);
}

/* Verify the validator's cosignature and parse the checkpoint of note[0..len). */
static int check_note(struct fwc_checkpoint *cp, const char *note, size_t len)
{
	static struct fwc_note n;
	struct fwc_note_vkey vk;
	struct fwc_pubkey pk;

	if (fwc_key_public(&pk, &vsk) != FWC_OK ||
	    fwc_note_vkey_init(&vk, VNAME, strlen(VNAME), FWC_NOTE_SIG_COSIG_V1, &pk) != FWC_OK ||
	    fwc_note_parse(&n, note, len, NULL) != FWC_OK ||
	    fwc_note_verify_quorum(NULL, NULL, &n, &vk, 1, 1, NULL) != FWC_OK)
		return -1;
	return fwc_checkpoint_parse(cp, n.text, n.text_len, NULL) == FWC_OK ? 0 : -1;
}

static int ext_is(const struct fwc_checkpoint *cp, const char *key, const char *want)
{
	const char *v;
	size_t vl;

	if (fwc_checkpoint_ext_find(&v, &vl, cp, key, strlen(key)) != FWC_OK)
		return want == NULL;
	return want && vl == strlen(want) && memcmp(v, want, vl) == 0;
}

/* Wait until the head reaches height h (30 s at most: generous for loaded CI machines, and
 * it returns as soon as the height is there). */
static int wait_height(struct node_chain *c, uint64_t h)
{
	for (int i = 0; i < 3000; i++) {
		uint64_t got = 0;

		node_chain_head(c, &got, NULL, NULL, NULL, NULL);
		if (got >= h)
			return 0;
		usleep(10000);
	}
	return -1;
}

/* Open the ledger at path and start a chain on it (block interval interval_ms, at most
 * max_txs per block). */
static int start_at(struct node_chain **c, struct node_db **db, const char *path,
                    unsigned cp_interval, unsigned interval_ms, size_t max_txs,
                    const struct node_genesis *g, struct fwc_errinfo *ei)
{
	struct node_chain_config cfg;
	struct node_consensus cs;
	int rc;

	*db = NULL;
	*c = NULL;
	rc = node_db_open(db, path, 1, ei);
	if (rc != FWC_OK)
		return rc;
	node_chain_config_default(&cfg);
	cfg.block_interval_ms = interval_ms;
	cfg.block_max_txs = max_txs;
	cfg.checkpoint_interval_s = cp_interval;
	node_consensus_dev_init(&devcs, &dev, &vsk, VNAME);
	cs = devcs;
	cs.propose = picky_propose;
	rc = node_chain_start(c, &cfg, *db, &cs, g, ei);
	if (rc != FWC_OK) {
		node_db_close(*db);
		*db = NULL;
	}
	return rc;
}

static int start(struct node_chain **c, struct node_db **db, unsigned cp_interval)
{
	struct fwc_errinfo ei = {0};
	int rc = start_at(c, db, dbpath, cp_interval, 20, 1000, &gen, &ei);

	if (rc != FWC_OK)
		fprintf(stderr, "chain start: %s\n", ei.msg);
	return rc;
}

/* Wait (5 s at most) until id leaves the mempool; returns where it went. */
static enum node_tx_where wait_done(struct node_chain *c, const uint8_t id[32],
                                    struct node_refusal *r)
{
	enum node_tx_where w = NODE_TX_PENDING;

	for (int i = 0; i < 3000 && w == NODE_TX_PENDING; i++) {
		w = node_chain_tx_where(c, id, r);
		if (w == NODE_TX_PENDING)
			usleep(10000);
	}
	return w;
}

static void test_chain(void)
{
	struct node_chain *c;
	struct node_db *db;
	struct node_refusal r;
	struct fwc_checkpoint cp;
	struct node_db_tx row;
	uint8_t tx[FWC_TX_MAX], id[32], id2[32], want[32], leaf[1 + FWC_TX_MAX], gen_hash[32];
	size_t len = 0, note_len = 0;
	uint64_t h = 99, size = 99;
	char *note = NULL, prev[64];

	CHECK_RC(start(&c, &db, 3600), FWC_OK);
	if (c == NULL)
		return;
	/* Genesis: empty tree, SHA-256("") = e3b0c442... (FIPS 180-2). */
	CHECK_RC(node_chain_head(c, &h, &size, NULL, &note, &note_len), FWC_OK);
	CHECK(h == 0 && size == 0);
	CHECK(check_note(&cp, note, note_len) == 0);
	fwc_sha256(want, "", 0);
	CHECK(cp.size == 0 && memcmp(cp.root, want, 32) == 0);
	CHECK(cp.origin_len == strlen(CHAIN) && memcmp(cp.origin, CHAIN, cp.origin_len) == 0);
	CHECK(ext_is(&cp, "height", "0") && ext_is(&cp, "time", "1700000000") &&
	      ext_is(&cp, "prev", NULL));
	fwc_sha256(gen_hash, note, note_len);
	free(note);
	note = NULL;

	/* Refusals at submission. */
	CHECK(node_chain_submit(c, id, &r, (const uint8_t *)"\xa0", 1) < 0);
	CHECK(strcmp(r.code, "malformed_tx") == 0);
	make_tx(tx, &len, "fwchain-dev-other", ADMIN, 1, 20, FWC_ROLE_OPERATOR);
	CHECK_RC(node_chain_submit(c, id, &r, tx, len), FWC_ERR_STATE);
	CHECK(strcmp(r.code, "chain_id_mismatch") == 0);
	make_tx(tx, &len, CHAIN, ADMIN, 2, 20, FWC_ROLE_OPERATOR);
	CHECK_RC(node_chain_submit(c, id, &r, tx, len), FWC_ERR_STATE);
	CHECK(strcmp(r.code, "nonce_gap") == 0);
	make_tx(tx, &len, CHAIN, 8, 1, 20, FWC_ROLE_OPERATOR); /* 8: nobody's key */
	CHECK_RC(node_chain_submit(c, id, &r, tx, len), FWC_ERR_PERMISSIONS);
	CHECK(strcmp(r.code, "unknown_sender") == 0);
	make_tx(tx, &len, CHAIN, ADMIN, 1, 20, FWC_ROLE_OPERATOR);
	tx[len - 1] ^= 0x40;
	CHECK_RC(node_chain_submit(c, id, &r, tx, len), FWC_ERR_BADSIG);
	CHECK(strcmp(r.code, "bad_signature") == 0);
	tx[len - 1] ^= 0x40;

	/* While consensus refuses, the transaction stays pending and nothing is written. */
	refuse_blocks = 1;
	CHECK_RC(node_chain_submit(c, id, &r, tx, len), FWC_OK);
	fwc_sha256(want, tx, len);
	CHECK_MEM(id, want, 32);
	CHECK_RC(node_chain_submit(c, id, &r, tx, len), FWC_ERR_DUPLICATE);
	usleep(150000);
	CHECK(node_chain_tx_where(c, id, NULL) == NODE_TX_PENDING);
	node_chain_head(c, &h, NULL, NULL, NULL, NULL);
	CHECK(h == 0);
	refuse_blocks = 0;
	CHECK(wait_height(c, 1) == 0);
	CHECK(node_chain_tx_where(c, id, NULL) == NODE_TX_COMMITTED);
	CHECK_RC(node_db_tx_get(db, &row, id), FWC_OK);
	CHECK(row.status == NODE_TX_APPLIED && row.code[0] == '\0');
	node_db_tx_cleanup(&row);

	/* Block 1: one leaf, so the root is its leaf hash SHA-256(0x00 || tx) (RFC 6962). */
	CHECK_RC(node_chain_head(c, &h, &size, NULL, &note, &note_len), FWC_OK);
	CHECK(h == 1 && size == 1);
	CHECK(check_note(&cp, note, note_len) == 0);
	leaf[0] = 0;
	memcpy(leaf + 1, tx, len);
	fwc_sha256(want, leaf, len + 1);
	CHECK(cp.size == 1 && memcmp(cp.root, want, 32) == 0);
	sodium_bin2base64(prev, sizeof(prev), gen_hash, 32, sodium_base64_VARIANT_ORIGINAL);
	CHECK(ext_is(&cp, "height", "1") && ext_is(&cp, "prev", prev));
	free(note);
	note = NULL;

	/* The new member (key 20, operator) may not register products: refused at submission
	 * while no membership change is pending. */
	{
		uint8_t pl[8] = {0xa0};

		make_tx_at(tx, &len, CHAIN, 20, 1, FWC_TX_PRODUCT_REGISTER, pl, 1, 0);
		CHECK_RC(node_chain_submit(c, id, &r, tx, len), FWC_ERR_PERMISSIONS);
		CHECK(strcmp(r.code, "role_required") == 0 && strstr(r.msg, "admin") != NULL);
	}

	/* Nonce 1 again (new bytes) is a replay now that it is committed. */
	make_tx(tx, &len, CHAIN, ADMIN, 1, 21, FWC_ROLE_OPERATOR);
	CHECK_RC(node_chain_submit(c, id, &r, tx, len), FWC_ERR_STATE);
	CHECK(strcmp(r.code, "nonce_replay") == 0);

	/* A failure: key 20 already holds operator. Logged as failed, nonce 2 consumed. Then 3
	 * in the same go (3 counts the pending 2). */
	make_tx(tx, &len, CHAIN, ADMIN, 2, 20, FWC_ROLE_OPERATOR);
	CHECK_RC(node_chain_submit(c, id, &r, tx, len), FWC_OK);
	make_tx(tx, &len, CHAIN, ADMIN, 3, 21, FWC_ROLE_OPERATOR);
	CHECK_RC(node_chain_submit(c, id2, &r, tx, len), FWC_OK);
	CHECK(wait_done(c, id, &r) == NODE_TX_COMMITTED);
	CHECK(strcmp(r.code, "role_held") == 0 && r.kind == NODE_REFUSAL_FAIL);
	CHECK_RC(node_db_tx_get(db, &row, id), FWC_OK);
	CHECK(row.status == NODE_TX_FAILED && strcmp(row.code, "role_held") == 0);
	node_db_tx_cleanup(&row);
	CHECK(wait_done(c, id2, &r) == NODE_TX_COMMITTED);
	CHECK_RC(node_db_tx_get(db, &row, id2), FWC_OK);
	CHECK(row.status == NODE_TX_APPLIED);
	node_db_tx_cleanup(&row);
	node_chain_head(c, NULL, &size, NULL, NULL, NULL);
	CHECK(size == 3);

	/* A rejection: nonce 4 dated an hour ahead (time_in_future) is left out of the log; the
	 * same sender's nonce 5 waits; a corrected 4 lets both in. */
	{
		uint8_t id4[32], id5[32], id4b[32], pl[256];
		struct fwc_seckey sk;
		struct fwc_pl_member_add p;
		size_t pl_len = 0;

		memset(&p, 0, sizeof(p));
		key_of(&sk, &p.key, 22);
		fwc_seckey_wipe(&sk);
		p.role = FWC_ROLE_AUDITOR;
		fwc_pl_member_add_encode(pl, sizeof(pl), &pl_len, &p);
		make_tx_at(tx, &len, CHAIN, ADMIN, 4, FWC_TX_MEMBER_ADD, pl, pl_len,
		           (uint64_t)time(NULL) + 3600);
		CHECK_RC(node_chain_submit(c, id4, &r, tx, len), FWC_OK);
		make_tx(tx, &len, CHAIN, ADMIN, 5, 23, FWC_ROLE_AUDITOR);
		CHECK_RC(node_chain_submit(c, id5, &r, tx, len), FWC_OK);
		CHECK(wait_done(c, id4, &r) == NODE_TX_REJECTED);
		CHECK(strcmp(r.code, "time_in_future") == 0 && r.kind == NODE_REFUSAL_REJECT);
		CHECK_RC(node_db_tx_get(db, &row, id4), FWC_ERR_NOT_FOUND);
		/* While 5 only waits, no (empty) blocks are made for it. */
		usleep(60000);
		node_chain_head(c, &h, NULL, NULL, NULL, NULL);
		usleep(200000);
		CHECK(node_chain_tx_where(c, id5, NULL) == NODE_TX_PENDING);
		{
			uint64_t h2 = 0;

			node_chain_head(c, &h2, NULL, NULL, NULL, NULL);
			CHECK(h2 == h);
		}
		/* The resubmission: nonce 4 is free again (5 is pending, so 4 fills the gap). */
		make_tx(tx, &len, CHAIN, ADMIN, 4, 22, FWC_ROLE_AUDITOR);
		CHECK_RC(node_chain_submit(c, id4b, &r, tx, len), FWC_OK);
		CHECK(wait_done(c, id4b, NULL) == NODE_TX_COMMITTED);
		CHECK(wait_done(c, id5, NULL) == NODE_TX_COMMITTED);
		CHECK(node_chain_tx_where(c, id4, &r) == NODE_TX_REJECTED);
		node_chain_head(c, NULL, &size, NULL, NULL, NULL);
		CHECK(size == 5);
	}
	/* The one record of nonces is the state's. */
	{
		struct node_db_reader *rd;
		struct fwc_seckey sk;
		struct fwc_pubkey pk;
		uint64_t n = 0;

		key_of(&sk, &pk, ADMIN);
		fwc_seckey_wipe(&sk);
		CHECK_RC(node_db_reader_get(db, &rd), FWC_OK);
		CHECK_RC(node_state_nonce(node_db_reader_state(rd), &pk, &n), FWC_OK);
		node_db_reader_put(rd);
		CHECK(n == 5);
	}
	node_chain_stop(c);
	node_db_close(db);

	/* Restart: same head; an idle chain (interval 1 s) makes a fresh checkpoint. */
	CHECK_RC(start(&c, &db, 1), FWC_OK);
	if (c == NULL)
		return;
	node_chain_head(c, &h, &size, NULL, NULL, NULL);
	CHECK(h >= 3 && size == 5);
	CHECK(wait_height(c, h + 1) == 0);
	node_chain_head(c, NULL, &size, NULL, NULL, NULL);
	CHECK(size == 5);
	/* The nonce survives the restart. */
	make_tx(tx, &len, CHAIN, ADMIN, 5, 24, FWC_ROLE_AUDITOR);
	CHECK_RC(node_chain_submit(c, id, &r, tx, len), FWC_ERR_STATE);
	CHECK(strcmp(r.code, "nonce_replay") == 0);
	node_chain_stop(c);
	node_db_close(db);

	/* Alter one leaf: the node must refuse to extend that ledger. */
	{
		sqlite3 *s;

		CHECK(sqlite3_open(dbpath, &s) == SQLITE_OK);
		CHECK(sqlite3_exec(s, "UPDATE leaves SET hash = zeroblob(32) WHERE idx = 1", NULL,
		                   NULL, NULL) == SQLITE_OK);
		sqlite3_close(s);
	}
	CHECK_RC(start(&c, &db, 3600), FWC_ERR_STATE);
}

/* A block is made as soon as block_max_txs wait, long before the (one minute) interval. */
static void test_batch_full(void)
{
	struct node_chain *c;
	struct node_db *db;
	struct node_refusal r;
	struct fwc_errinfo ei = {0};
	uint8_t tx[FWC_TX_MAX], id[32];
	size_t len = 0;
	uint64_t h = 0, size = 0;
	char p[300];
	struct timespec t0, t1;

	snprintf(p, sizeof(p), "%s/batch.db", dir);
	CHECK_RC(start_at(&c, &db, p, 3600, 60000, 3, &gen, &ei), FWC_OK);
	if (c == NULL)
		return;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (uint8_t i = 0; i < 3; i++) {
		make_tx(tx, &len, CHAIN, ADMIN, i + 1u, (uint8_t)(30 + i), FWC_ROLE_GATEWAY);
		CHECK_RC(node_chain_submit(c, id, &r, tx, len), FWC_OK);
	}
	CHECK(wait_height(c, 1) == 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	node_chain_head(c, &h, &size, NULL, NULL, NULL);
	CHECK(h == 1 && size == 3);
	CHECK(t1.tv_sec - t0.tv_sec < 10);
	node_chain_stop(c);
	node_db_close(db);
}

/* A genesis whose validator set does not include the signing key: no block gets a quorum. */
static void test_quorum(void)
{
	struct node_chain *c;
	struct node_db *db;
	struct fwc_errinfo ei = {0};
	struct node_genesis g = gen;
	struct fwc_seckey other;
	uint8_t seed[32] = {5, 5, 5};
	char p[300];

	fwc_key_from_secret(&other, FWC_ALG_ED25519, seed);
	fwc_key_public(&g.validators[0].key, &other);
	snprintf(p, sizeof(p), "%s/quorum.db", dir);
	CHECK_RC(start_at(&c, &db, p, 3600, 20, 10, &g, &ei), FWC_ERR_QUORUM);
	CHECK(strstr(ei.msg, "quorum of 1 of the 1 genesis validators") != NULL);
	CHECK(c == NULL);
}

int main(void)
{
	uint8_t seed[32] = {9, 9, 9};
	char cmd[128];

	if (mkdtemp(dir) == NULL)
		return 1;
	snprintf(dbpath, sizeof(dbpath), "%s/ledger.db", dir);
	fwc_key_from_secret(&vsk, FWC_ALG_ED25519, seed);
	memset(&gen, 0, sizeof(gen));
	snprintf(gen.chain_id, sizeof(gen.chain_id), "%s", CHAIN);
	gen.time = 1700000000;
	gen.n_validators = 1;
	snprintf(gen.validators[0].name, sizeof(gen.validators[0].name), "%s", VNAME);
	fwc_key_public(&gen.validators[0].key, &vsk);
	gen.quorum = 1;
	gen.n_orgs = 1;
	snprintf(gen.orgs[0].id, sizeof(gen.orgs[0].id), "root");
	snprintf(gen.orgs[0].name, sizeof(gen.orgs[0].name), "Root");
	snprintf(gen.orgs[0].admin_name, sizeof(gen.orgs[0].admin_name), "admin");
	{
		struct fwc_seckey sk;

		key_of(&sk, &gen.orgs[0].admin, ADMIN);
		fwc_seckey_wipe(&sk);
	}
	RUN(test_chain);
	RUN(test_batch_full);
	RUN(test_quorum);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	return test_done();
}
