/* Tests node/chain.c on a real ledger: the genesis block's checkpoint (empty-tree root from
 * RFC 6962, origin = chain id, "height 0"), the validator's cosignature verified with note.h,
 * submission refusals (malformed, chain id, signature, duplicate, nonce replay and gap), a block
 * with one transaction whose root is its RFC 6962 leaf hash computed here, the "prev" line, a
 * consensus engine that refuses (transactions stay pending, nothing is written), idle
 * checkpoints, restart, and refusal to start on a ledger whose leaves were altered. Every wait is
 * bounded (5 s). */
#include "test.h"

#include "chain.h"
#include "db.h"

#include <sodium.h>
#include <sqlite3.h>
#include <time.h>
#include <unistd.h>

#include "fwchain/note.h"
#include "fwchain/sha256.h"
#include "fwchain/tx.h"

#define CHAIN "fwchain-dev-0badc0de"
#define VNAME CHAIN "/validator-0"

static char dir[] = "/tmp/fwc-chaintest-XXXXXX";
static char dbpath[256];
static struct fwc_seckey vsk;
static struct node_consensus_dev dev;
static struct node_consensus devcs; /* the real dev engine, which picky_propose wraps */
static int refuse_blocks;

static int picky_propose(void *ctx, char **note, size_t *len, const struct node_block *b)
{
	(void)ctx;
	if (refuse_blocks)
		return FWC_ERR_QUORUM;
	return devcs.propose(devcs.ctx, note, len, b);
}

static void make_tx(uint8_t *out, size_t *len, const char *chain, uint8_t seedbyte, uint64_t nonce,
                    const char *payload)
{
	struct fwc_seckey sk;
	struct fwc_tx tx;
	uint8_t seed[32], body[FWC_TX_BODY_MAX];
	size_t blen = 0;

	memset(seed, seedbyte, sizeof(seed));
	fwc_key_from_secret(&sk, FWC_ALG_BIP340, seed);
	memset(&tx, 0, sizeof(tx));
	tx.type = FWC_TX_MEMBER_ADD;
	tx.chain_id.p = chain;
	tx.chain_id.len = strlen(chain);
	fwc_key_public(&tx.sender, &sk);
	tx.nonce = nonce;
	tx.time = (uint64_t)time(NULL);
	tx.payload.p = (const uint8_t *)payload;
	tx.payload.len = strlen(payload);
	fwc_tx_encode_body(body, sizeof(body), &blen, &tx, NULL);
	fwc_tx_sign(out, FWC_TX_MAX, len, body, blen, &sk, NULL, NULL);
	fwc_seckey_wipe(&sk);
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

/* Wait until the head reaches height h (5 s at most). */
static int wait_height(struct node_chain *c, uint64_t h)
{
	for (int i = 0; i < 500; i++) {
		uint64_t got = 0;

		node_chain_head(c, &got, NULL, NULL, NULL, NULL);
		if (got >= h)
			return 0;
		usleep(10000);
	}
	return -1;
}

static int start(struct node_chain **c, struct node_db **db, unsigned cp_interval)
{
	struct node_chain_config cfg;
	struct node_consensus cs;
	struct fwc_errinfo ei = {0};
	int rc;

	*db = NULL;
	*c = NULL;
	rc = node_db_open(db, dbpath, 1, &ei);
	if (rc != FWC_OK)
		return rc;
	node_chain_config_default(&cfg);
	cfg.block_interval_ms = 20;
	cfg.checkpoint_interval_s = cp_interval;
	node_consensus_dev_init(&devcs, &dev, &vsk, VNAME);
	cs = devcs;
	cs.propose = picky_propose;
	rc = node_chain_start(c, &cfg, *db, &cs, CHAIN, 1700000000, &ei);
	if (rc != FWC_OK) {
		fprintf(stderr, "chain start: %s\n", ei.msg);
		node_db_close(*db);
		*db = NULL;
	}
	return rc;
}

static void test_chain(void)
{
	struct node_chain *c;
	struct node_db *db;
	struct node_refusal r;
	struct fwc_checkpoint cp;
	uint8_t tx[FWC_TX_MAX], id[32], want[32], leaf[1 + FWC_TX_MAX], gen_hash[32];
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

	/* Refusals. */
	CHECK(node_chain_submit(c, id, &r, (const uint8_t *)"\xa0", 1) < 0);
	CHECK(strcmp(r.code, "malformed_tx") == 0);
	make_tx(tx, &len, "fwchain-dev-other", 7, 1, "x");
	CHECK_RC(node_chain_submit(c, id, &r, tx, len), FWC_ERR_STATE);
	CHECK(strcmp(r.code, "chain_id_mismatch") == 0);
	make_tx(tx, &len, CHAIN, 7, 2, "x");
	CHECK_RC(node_chain_submit(c, id, &r, tx, len), FWC_ERR_STATE);
	CHECK(strcmp(r.code, "nonce_gap") == 0);
	make_tx(tx, &len, CHAIN, 7, 1, "x");
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

	/* Nonce 1 again (new bytes: new payload) is a replay now that it is committed. */
	make_tx(tx, &len, CHAIN, 7, 1, "again");
	CHECK_RC(node_chain_submit(c, id, &r, tx, len), FWC_ERR_STATE);
	CHECK(strcmp(r.code, "nonce_replay") == 0);
	/* Two more from the same sender in one go: 2 then 3 (3 counts the pending 2). */
	make_tx(tx, &len, CHAIN, 7, 2, "two");
	CHECK_RC(node_chain_submit(c, id, &r, tx, len), FWC_OK);
	make_tx(tx, &len, CHAIN, 7, 3, "three");
	CHECK_RC(node_chain_submit(c, id, &r, tx, len), FWC_OK);
	CHECK(wait_height(c, 2) == 0);
	for (int i = 0; i < 500; i++) {
		node_chain_head(c, NULL, &size, NULL, NULL, NULL);
		if (size == 3)
			break;
		usleep(10000);
	}
	CHECK(size == 3);
	node_chain_stop(c);
	node_db_close(db);

	/* Restart: same head; an idle chain (interval 1 s) makes a fresh checkpoint. */
	CHECK_RC(start(&c, &db, 1), FWC_OK);
	if (c == NULL)
		return;
	node_chain_head(c, &h, &size, NULL, NULL, NULL);
	CHECK(h >= 2 && size == 3);
	CHECK(wait_height(c, h + 1) == 0);
	node_chain_head(c, NULL, &size, NULL, NULL, NULL);
	CHECK(size == 3);
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

int main(void)
{
	uint8_t seed[32] = {9, 9, 9};
	char cmd[128];

	if (mkdtemp(dir) == NULL)
		return 1;
	snprintf(dbpath, sizeof(dbpath), "%s/ledger.db", dir);
	fwc_key_from_secret(&vsk, FWC_ALG_ED25519, seed);
	RUN(test_chain);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	return test_done();
}
