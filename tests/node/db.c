/* Tests node/db.c: open errors (missing file, missing directory, garbage file, foreign SQLite
 * file, schema version from the future), WAL + synchronous=FULL in force, block commits with
 * their ordering checks, all-or-nothing on a failing block, every getter, reopening, the
 * migration of a schema 1 ledger (nonces move to state_nonces, the subtree cache is filled),
 * readers that read while a block is being written (and do not see it before its commit),
 * and the subtree cache: every inclusion and consistency proof equals the naive one (every leaf
 * read) while costing O(log n) queries. The crash (kill -9) case is tested end to end by
 * tests/cli/node_crash.sh. */
#include "test.h"

#include "db.h"
#include "state.h"

#include "fwchain/merkle.h"

#include <sqlite3.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[] = "/tmp/fwc-dbtest-XXXXXX";

static void path_of(char *out, size_t cap, const char *name)
{
	snprintf(out, cap, "%s/%s", dir, name);
}

static void make_tx(struct node_db_tx *t, uint8_t *bytes, size_t len, uint8_t seed, uint64_t leaf,
                    uint64_t nonce)
{
	memset(t, 0, sizeof(*t));
	for (size_t i = 0; i < len; i++)
		bytes[i] = (uint8_t)(seed + i);
	memset(t->id, seed, 32);
	t->bytes = bytes;
	t->len = len;
	t->type = 7;
	t->sender[0] = 1;
	memset(t->sender + 1, 0xa0 + (seed & 1), 32);
	t->sender_len = 33;
	t->nonce = nonce;
	t->leaf_index = leaf;
	memset(t->leaf_hash, 0x40 + seed, 32);
	t->status = NODE_TX_APPLIED;
}

static void block_init(struct node_db_block *b, uint64_t height, uint64_t ntx, uint64_t size,
                       const char *note)
{
	memset(b, 0, sizeof(*b));
	b->height = height;
	b->time = 1700000000 + (int64_t)height;
	b->tx_count = ntx;
	b->log_size = size;
	b->checkpoint = (char *)note;
	b->checkpoint_len = strlen(note);
}

static void test_open_errors(void)
{
	struct node_db *db = (void *)1;
	struct fwc_errinfo ei = {0};
	char p[256];
	FILE *f;

	path_of(p, sizeof(p), "missing.db");
	CHECK_RC(node_db_open(&db, p, 0, &ei), FWC_ERR_NOT_FOUND);
	CHECK(strstr(ei.msg, "does not exist") != NULL);
	path_of(p, sizeof(p), "nodir/x.db");
	CHECK_RC(node_db_open(&db, p, 1, &ei), FWC_ERR_NOT_FOUND);
	CHECK(strstr(ei.msg, "nodir") != NULL);
	CHECK(db == (void *)1);

	path_of(p, sizeof(p), "garbage.db");
	f = fopen(p, "wb");
	for (int i = 0; i < 300; i++)
		fputs("this is not a database ", f);
	fclose(f);
	CHECK_RC(node_db_open(&db, p, 0, &ei), FWC_ERR_MALFORMED);
	CHECK(strstr(ei.msg, "not an SQLite database") != NULL);

	/* A well-formed SQLite file of some other application. */
	{
		sqlite3 *h;

		path_of(p, sizeof(p), "foreign.db");
		CHECK(sqlite3_open(p, &h) == SQLITE_OK);
		CHECK(sqlite3_exec(h, "CREATE TABLE t(x)", NULL, NULL, NULL) == SQLITE_OK);
		sqlite3_close(h);
		CHECK_RC(node_db_open(&db, p, 0, &ei), FWC_ERR_MALFORMED);
		CHECK(strstr(ei.msg, "not an fwchain ledger") != NULL);
	}
	CHECK(db == (void *)1);
}

static void test_blocks(void)
{
	struct node_db *db = NULL;
	struct fwc_errinfo ei = {0};
	struct node_db_block b, got;
	struct node_db_tx t[3], g;
	uint8_t bytes[3][40], leaves[4][32], (*ids)[32] = NULL, id[32];
	size_t nids = 0, mlen = 0;
	char p[256], *meta = NULL;

	path_of(p, sizeof(p), "ledger.db");
	CHECK_RC(node_db_open(&db, p, 1, &ei), FWC_OK);
	if (db == NULL)
		return;
	CHECK(node_db_schema_version(db) == NODE_DB_SCHEMA_VERSION);
	CHECK_RC(node_db_head(db, &got), FWC_ERR_NOT_FOUND);

	/* The first block must be height 0. */
	block_init(&b, 1, 0, 0, "note-1");
	CHECK_RC(node_db_block_commit(db, &b, NULL, 0, &ei), FWC_ERR_STATE);
	block_init(&b, 0, 0, 0, "genesis-note\n");
	CHECK_RC(node_db_block_commit(db, &b, NULL, 0, &ei), FWC_OK);

	make_tx(&t[0], bytes[0], 40, 1, 0, 0);
	make_tx(&t[1], bytes[1], 10, 2, 1, 0);
	t[1].status = NODE_TX_FAILED;
	snprintf(t[1].code, sizeof(t[1].code), "role_held");
	block_init(&b, 1, 2, 2, "note-1\n");
	CHECK_RC(node_db_block_commit(db, &b, t, 2, &ei), FWC_OK);

	/* Ordering checks: wrong height, wrong leaf index, wrong log size. */
	make_tx(&t[2], bytes[2], 5, 3, 3, 1);
	block_init(&b, 3, 1, 3, "x");
	CHECK_RC(node_db_block_commit(db, &b, &t[2], 1, &ei), FWC_ERR_STATE);
	block_init(&b, 2, 1, 3, "x");
	CHECK_RC(node_db_block_commit(db, &b, &t[2], 1, &ei), FWC_ERR_STATE);
	t[2].leaf_index = 2;
	block_init(&b, 2, 1, 4, "x");
	CHECK_RC(node_db_block_commit(db, &b, &t[2], 1, &ei), FWC_ERR_STATE);

	/* All or nothing: the second tx of this block repeats a stored id. */
	t[1].leaf_index = 3;
	block_init(&b, 2, 2, 4, "x");
	{
		struct node_db_tx two[2] = {t[2], t[1]};

		CHECK_RC(node_db_block_commit(db, &b, two, 2, &ei), FWC_ERR_DUPLICATE);
	}
	CHECK_RC(node_db_head(db, &got), FWC_OK);
	CHECK(got.height == 1 && got.log_size == 2);
	node_db_block_cleanup(&got);
	CHECK_RC(node_db_tx_get(db, &g, t[2].id), FWC_ERR_NOT_FOUND);
	CHECK_RC(node_db_leaves_get(db, leaves, 0, 3), FWC_ERR_NOT_FOUND);

	block_init(&b, 2, 1, 3, "note-2\n");
	CHECK_RC(node_db_block_commit(db, &b, &t[2], 1, &ei), FWC_OK);

	CHECK_RC(node_db_head(db, &got), FWC_OK);
	CHECK(got.height == 2 && got.tx_count == 1 && got.log_size == 3);
	CHECK(got.time == 1700000002 && strcmp(got.checkpoint, "note-2\n") == 0);
	node_db_block_cleanup(&got);
	CHECK_RC(node_db_block_get(db, &got, 0), FWC_OK);
	CHECK(strcmp(got.checkpoint, "genesis-note\n") == 0 && got.log_size == 0);
	node_db_block_cleanup(&got);
	CHECK_RC(node_db_block_get(db, &got, 9), FWC_ERR_NOT_FOUND);

	CHECK_RC(node_db_tx_get(db, &g, t[0].id), FWC_OK);
	CHECK(g.len == 40 && memcmp(g.bytes, bytes[0], 40) == 0);
	CHECK(g.type == 7 && g.nonce == 0 && g.leaf_index == 0 && g.height == 1);
	CHECK(g.status == NODE_TX_APPLIED && g.sender_len == 33);
	CHECK_MEM(g.leaf_hash, t[0].leaf_hash, 32);
	node_db_tx_cleanup(&g);
	CHECK_RC(node_db_tx_id_at(db, id, 2), FWC_OK);
	CHECK_MEM(id, t[2].id, 32);
	CHECK_RC(node_db_tx_id_at(db, id, 3), FWC_ERR_NOT_FOUND);

	CHECK_RC(node_db_leaves_get(db, leaves, 0, 3), FWC_OK);
	CHECK_MEM(leaves[0], t[0].leaf_hash, 32);
	CHECK_MEM(leaves[2], t[2].leaf_hash, 32);
	CHECK_RC(node_db_leaves_get(db, leaves, 1, 3), FWC_ERR_NOT_FOUND);

	CHECK_RC(node_db_block_tx_ids(db, &ids, &nids, 1), FWC_OK);
	CHECK(nids == 2 && ids && memcmp(ids[0], t[0].id, 32) == 0 &&
	      memcmp(ids[1], t[1].id, 32) == 0);
	free(ids);
	CHECK_RC(node_db_block_tx_ids(db, &ids, &nids, 0), FWC_OK);
	CHECK(nids == 0);
	free(ids);
	CHECK_RC(node_db_block_tx_ids(db, &ids, &nids, 5), FWC_ERR_NOT_FOUND);

	/* A failed transaction keeps its refusal code. */
	CHECK_RC(node_db_tx_get(db, &g, t[1].id), FWC_OK);
	CHECK(g.status == NODE_TX_FAILED && strcmp(g.code, "role_held") == 0);
	node_db_tx_cleanup(&g);

	CHECK_RC(node_db_meta_put(db, "chain_id", "fwchain-dev-01", 14), FWC_OK);
	CHECK_RC(node_db_meta_put(db, "chain_id", "fwchain-dev-02", 14), FWC_OK);
	CHECK_RC(node_db_meta_get(db, &meta, &mlen, "chain_id"), FWC_OK);
	CHECK(mlen == 14 && meta && strcmp(meta, "fwchain-dev-02") == 0);
	free(meta);
	CHECK_RC(node_db_meta_get(db, &meta, &mlen, "nope"), FWC_ERR_NOT_FOUND);
	node_db_close(db);

	/* Reopen: everything is still there, and the pragmas are in force on the file. */
	db = NULL;
	CHECK_RC(node_db_open(&db, p, 0, &ei), FWC_OK);
	if (db == NULL)
		return;
	CHECK_RC(node_db_head(db, &got), FWC_OK);
	CHECK(got.height == 2 && got.log_size == 3);
	node_db_block_cleanup(&got);
	CHECK_RC(node_db_tx_get(db, &g, t[1].id), FWC_OK);
	CHECK(g.len == 10 && g.leaf_index == 1);
	node_db_tx_cleanup(&g);
	node_db_close(db);
	{
		sqlite3 *h;
		sqlite3_stmt *s;

		CHECK(sqlite3_open(p, &h) == SQLITE_OK);
		CHECK(sqlite3_prepare_v2(h, "PRAGMA journal_mode", -1, &s, NULL) == SQLITE_OK);
		CHECK(sqlite3_step(s) == SQLITE_ROW &&
		      strcmp((const char *)sqlite3_column_text(s, 0), "wal") == 0);
		sqlite3_finalize(s);
		CHECK(sqlite3_prepare_v2(h, "SELECT count(*) FROM txs", -1, &s, NULL) == SQLITE_OK);
		CHECK(sqlite3_step(s) == SQLITE_ROW && sqlite3_column_int(s, 0) == 3);
		sqlite3_finalize(s);
		/* Pretend a newer fwchaind wrote this file. */
		CHECK(sqlite3_exec(h, "UPDATE schema_version SET version = 99", NULL, NULL, NULL) ==
		      SQLITE_OK);
		sqlite3_close(h);
	}
	db = NULL;
	CHECK_RC(node_db_open(&db, p, 0, &ei), FWC_ERR_UNSUPPORTED);
	CHECK(strstr(ei.msg, "99") != NULL && strstr(ei.msg, "newer") != NULL);
	CHECK(db == NULL);
}

/* A file at schema version 0 (what a first start that crashed right after creating the version
 * table leaves) is migrated to the current version on open. */
static void test_migration_from_zero(void)
{
	struct node_db *db = NULL;
	struct fwc_errinfo ei = {0};
	char p[256];
	sqlite3 *h;

	path_of(p, sizeof(p), "v0.db");
	CHECK(sqlite3_open(p, &h) == SQLITE_OK);
	CHECK(sqlite3_exec(h,
	                   "PRAGMA application_id = 1719100209;"
	                   "CREATE TABLE schema_version(version INTEGER NOT NULL) STRICT;"
	                   "INSERT INTO schema_version VALUES(0);",
	                   NULL, NULL, NULL) == SQLITE_OK);
	sqlite3_close(h);
	CHECK_RC(node_db_open(&db, p, 0, &ei), FWC_OK);
	CHECK(node_db_schema_version(db) == NODE_DB_SCHEMA_VERSION);
	CHECK_RC(node_db_meta_put(db, "k", "v", 1), FWC_OK);
	node_db_close(db);
}

/* Leaf hash number i of the test logs: SHA-256(0x00 || "leaf <i>"), computed here. */
static void test_leaf(uint8_t out[32], uint64_t i)
{
	char text[32];

	snprintf(text, sizeof(text), "leaf %llu", (unsigned long long)i);
	fwc_merkle_leaf_hash(out, text, strlen(text));
}

/* A ledger written by the schema 1 fwchaind: 37 leaves, 37 transactions, a nonces table.
 * Opening migrates it: the nonces are in state_nonces, the old table is gone, the subtree
 * cache holds the level 4 and 5 subtrees of those leaves. */
static void test_migration_from_v1(void)
{
	struct node_db *db = NULL;
	struct node_db_reader *r = NULL;
	struct fwc_errinfo ei = {0};
	uint8_t leaves[37][32], want[32], got[32];
	struct fwc_merkle_source src;
	char p[256], sql[512];
	sqlite3 *h;
	sqlite3_stmt *s;

	path_of(p, sizeof(p), "v1.db");
	CHECK(sqlite3_open(p, &h) == SQLITE_OK);
	CHECK(
	    sqlite3_exec(h,
	                 "PRAGMA application_id = 1719100209;"
	                 "CREATE TABLE schema_version(version INTEGER NOT NULL) STRICT;"
	                 "INSERT INTO schema_version VALUES(1);"
	                 "CREATE TABLE meta(key TEXT PRIMARY KEY, value BLOB NOT NULL) STRICT;"
	                 "CREATE TABLE blocks(height INTEGER PRIMARY KEY, time INTEGER NOT NULL,"
	                 " tx_count INTEGER NOT NULL, log_size INTEGER NOT NULL,"
	                 " checkpoint TEXT NOT NULL) STRICT;"
	                 "CREATE TABLE leaves(idx INTEGER PRIMARY KEY, hash BLOB NOT NULL) STRICT;"
	                 "CREATE TABLE txs(id BLOB PRIMARY KEY, bytes BLOB NOT NULL,"
	                 " type INTEGER NOT NULL, sender BLOB NOT NULL, nonce INTEGER NOT NULL,"
	                 " leaf_index INTEGER NOT NULL UNIQUE REFERENCES leaves(idx),"
	                 " height INTEGER NOT NULL REFERENCES blocks(height),"
	                 " status INTEGER NOT NULL) STRICT;"
	                 "CREATE INDEX txs_by_height ON txs(height, leaf_index);"
	                 "CREATE TABLE nonces(sender BLOB PRIMARY KEY, nonce INTEGER NOT NULL)"
	                 " STRICT;"
	                 "INSERT INTO blocks VALUES(0, 1, 0, 0, 'g'), (1, 2, 37, 37, 'n');"
	                 "INSERT INTO nonces VALUES(x'01aa', 37);",
	                 NULL, NULL, NULL) == SQLITE_OK);
	CHECK(sqlite3_prepare_v2(h, "INSERT INTO leaves VALUES(?1, ?2)", -1, &s, NULL) ==
	      SQLITE_OK);
	for (int i = 0; i < 37; i++) {
		test_leaf(leaves[i], (uint64_t)i);
		sqlite3_bind_int(s, 1, i);
		sqlite3_bind_blob(s, 2, leaves[i], 32, SQLITE_STATIC);
		CHECK(sqlite3_step(s) == SQLITE_DONE);
		sqlite3_reset(s);
		snprintf(sql, sizeof(sql),
		         "INSERT INTO txs VALUES(randomblob(32), x'00', 2, x'01aa', %d, %d, 1, 1)",
		         i + 1, i);
		CHECK(sqlite3_exec(h, sql, NULL, NULL, NULL) == SQLITE_OK);
	}
	sqlite3_finalize(s);
	sqlite3_close(h);

	CHECK_RC(node_db_open(&db, p, 0, &ei), FWC_OK);
	if (db == NULL) {
		fprintf(stderr, "%s\n", ei.msg);
		return;
	}
	CHECK(node_db_schema_version(db) == 2);
	CHECK_RC(node_db_reader_get(db, &r), FWC_OK);
	h = node_db_reader_handle(r);
	CHECK(sqlite3_prepare_v2(h, "SELECT nonce FROM state_nonces WHERE key = x'01aa'", -1, &s,
	                         NULL) == SQLITE_OK);
	CHECK(sqlite3_step(s) == SQLITE_ROW && sqlite3_column_int(s, 0) == 37);
	sqlite3_finalize(s);
	CHECK(sqlite3_prepare_v2(h, "SELECT count(*) FROM sqlite_master WHERE name = 'nonces'", -1,
	                         &s, NULL) == SQLITE_OK);
	CHECK(sqlite3_step(s) == SQLITE_ROW && sqlite3_column_int(s, 0) == 0);
	sqlite3_finalize(s);
	/* 37 leaves: subtrees of 16 at 0 and 1, of 32 at 0. */
	CHECK(sqlite3_prepare_v2(h, "SELECT level, idx, hash FROM subtrees ORDER BY level, idx", -1,
	                         &s, NULL) == SQLITE_OK);
	CHECK(sqlite3_step(s) == SQLITE_ROW && sqlite3_column_int(s, 0) == 4 &&
	      sqlite3_column_int(s, 1) == 0);
	fwc_merkle_root(want, (const uint8_t(*)[32])leaves, 16);
	CHECK(sqlite3_column_bytes(s, 2) == 32 && memcmp(sqlite3_column_blob(s, 2), want, 32) == 0);
	CHECK(sqlite3_step(s) == SQLITE_ROW && sqlite3_column_int(s, 0) == 4 &&
	      sqlite3_column_int(s, 1) == 1);
	fwc_merkle_root(want, (const uint8_t(*)[32])leaves + 16, 16);
	CHECK(sqlite3_column_bytes(s, 2) == 32 && memcmp(sqlite3_column_blob(s, 2), want, 32) == 0);
	CHECK(sqlite3_step(s) == SQLITE_ROW && sqlite3_column_int(s, 0) == 5 &&
	      sqlite3_column_int(s, 1) == 0);
	fwc_merkle_root(want, (const uint8_t(*)[32])leaves, 32);
	CHECK(sqlite3_column_bytes(s, 2) == 32 && memcmp(sqlite3_column_blob(s, 2), want, 32) == 0);
	CHECK(sqlite3_step(s) == SQLITE_DONE);
	sqlite3_finalize(s);
	/* The root through the cache is the root of the leaves. */
	node_db_reader_merkle_source(r, &src);
	CHECK_RC(fwc_merkle_source_root(got, &src, 37), FWC_OK);
	fwc_merkle_root(want, (const uint8_t(*)[32])leaves, 37);
	CHECK_MEM(got, want, 32);
	node_db_reader_put(r);
	node_db_close(db);
}

/* Commit `blocks` blocks of `per` leaves each (leaf i = test_leaf(i)), through
 * node_db_leaf_append so the subtrees are stored as the node stores them. */
static void commit_leaves(struct node_db *db, uint64_t blocks, uint64_t per)
{
	static uint8_t bytes[1];
	struct fwc_merkle_frontier f;
	struct fwc_errinfo ei = {0};
	struct node_db_block b;
	struct node_db_tx *t = calloc(per, sizeof(*t));
	struct node_db_subtree *st = calloc(per * 64, sizeof(*st));
	uint64_t leaf = 0;

	fwc_merkle_frontier_init(&f);
	block_init(&b, 0, 0, 0, "g\n");
	CHECK_RC(node_db_block_commit(db, &b, NULL, 0, &ei), FWC_OK);
	for (uint64_t k = 1; k <= blocks; k++) {
		size_t nst = 0;

		for (uint64_t i = 0; i < per; i++, leaf++) {
			size_t n = 0;

			memset(&t[i], 0, sizeof(t[i]));
			memcpy(t[i].id, &leaf, sizeof(leaf));
			t[i].id[31] = 0x5a;
			t[i].bytes = bytes;
			t[i].len = 1;
			t[i].sender[0] = 1;
			t[i].sender_len = 33;
			t[i].leaf_index = leaf;
			t[i].status = NODE_TX_APPLIED;
			test_leaf(t[i].leaf_hash, leaf);
			CHECK_RC(node_db_leaf_append(&f, t[i].leaf_hash, st + nst, &n), FWC_OK);
			nst += n;
		}
		block_init(&b, k, per, leaf, "n\n");
		b.subtrees = st;
		b.nsubtrees = nst;
		CHECK_RC(node_db_block_commit(db, &b, t, per, &ei), FWC_OK);
	}
	free(t);
	free(st);
}

static void test_subtree_cache(void)
{
	struct node_db *db = NULL;
	struct fwc_errinfo ei = {0};
	struct fwc_merkle_source fast, naive;
	uint8_t pa[FWC_MERKLE_MAX_PROOF][32], pb[FWC_MERKLE_MAX_PROOF][32];
	size_t la = 0, lb = 0;
	const uint64_t n = 1000;
	uint64_t q0, worst = 0, naive_q = 0;
	int ok = 1;
	char p[256];

	path_of(p, sizeof(p), "cache.db");
	CHECK_RC(node_db_open(&db, p, 1, &ei), FWC_OK);
	if (db == NULL)
		return;
	commit_leaves(db, 8, 125);
	node_db_merkle_source(db, &fast);
	node_db_merkle_source_naive(db, &naive);
	for (uint64_t size = 1; size <= n; size += (size < 70 ? 1 : 37)) {
		for (uint64_t i = 0; i < size; i += (size < 40 ? 1 : 13)) {
			q0 = node_db_query_count(db);
			if (fwc_merkle_prove_inclusion(pa, FWC_MERKLE_MAX_PROOF, &la, &fast, i,
			                               size) != FWC_OK)
				ok = 0;
			q0 = node_db_query_count(db) - q0;
			if (q0 > worst)
				worst = q0;
			if (fwc_merkle_prove_inclusion(pb, FWC_MERKLE_MAX_PROOF, &lb, &naive, i,
			                               size) != FWC_OK ||
			    la != lb || memcmp(pa, pb, la * 32) != 0)
				ok = 0;
			if (fwc_merkle_prove_consistency(pa, FWC_MERKLE_MAX_PROOF, &la, &fast,
			                                 i + 1, size) != FWC_OK ||
			    fwc_merkle_prove_consistency(pb, FWC_MERKLE_MAX_PROOF, &lb, &naive,
			                                 i + 1, size) != FWC_OK ||
			    la != lb || memcmp(pa, pb, la * 32) != 0)
				ok = 0;
		}
	}
	CHECK(ok);
	/* Cost: about two lookups per proof level (log2 1000 < 10). */
	CHECK(worst <= 2 * 10 + 4);
	q0 = node_db_query_count(db);
	CHECK_RC(fwc_merkle_prove_inclusion(pb, FWC_MERKLE_MAX_PROOF, &lb, &naive, 0, n), FWC_OK);
	naive_q = node_db_query_count(db) - q0;
	CHECK(naive_q >= n - 1);
	printf("subtree cache: worst inclusion proof %llu queries; naive %llu for 1000 leaves\n",
	       (unsigned long long)worst, (unsigned long long)naive_q);
	node_db_close(db);
}

/* A reader reads while the writer holds an open block transaction, and does not see it. */
static void test_readers(void)
{
	struct node_db *db = NULL;
	struct fwc_errinfo ei = {0};
	struct node_db_block b, got;
	struct node_state *st = NULL;
	struct sqlite3 *wh = NULL;
	char p[256];

	path_of(p, sizeof(p), "readers.db");
	CHECK_RC(node_db_open(&db, p, 1, &ei), FWC_OK);
	if (db == NULL)
		return;
	CHECK_RC(node_db_set_readers(db, 2), FWC_OK);
	CHECK_RC(node_db_set_readers(db, 0), FWC_ERR_ARG);
	block_init(&b, 0, 0, 0, "g\n");
	CHECK_RC(node_db_block_commit(db, &b, NULL, 0, &ei), FWC_OK);
	CHECK_RC(node_db_write_begin(db, &wh, &st, &ei), FWC_OK);
	CHECK(wh != NULL && st != NULL);
	block_init(&b, 1, 0, 0, "one\n");
	CHECK_RC(node_db_write_block(db, &b, NULL, 0, &ei), FWC_OK);
	CHECK_RC(node_db_head(db, &got), FWC_OK); /* does not wait for the writer */
	CHECK(got.height == 0);
	node_db_block_cleanup(&got);
	CHECK_RC(node_db_write_commit(db, &ei), FWC_OK);
	CHECK_RC(node_db_head(db, &got), FWC_OK);
	CHECK(got.height == 1);
	node_db_block_cleanup(&got);
	/* An aborted block leaves nothing. */
	CHECK_RC(node_db_write_begin(db, NULL, NULL, &ei), FWC_OK);
	block_init(&b, 2, 0, 0, "two\n");
	CHECK_RC(node_db_write_block(db, &b, NULL, 0, &ei), FWC_OK);
	node_db_write_abort(db);
	CHECK_RC(node_db_head(db, &got), FWC_OK);
	CHECK(got.height == 1);
	node_db_block_cleanup(&got);
	node_db_close(db);
}

static void cleanup_dir(void)
{
	static const char *names[] = {
	    "garbage.db",   "foreign.db", "ledger.db",      "ledger.db-wal",  "ledger.db-shm",
	    "v0.db",        "v0.db-wal",  "v0.db-shm",      "foreign.db-wal", "foreign.db-shm",
	    "v1.db",        "v1.db-wal",  "v1.db-shm",      "cache.db",       "cache.db-wal",
	    "cache.db-shm", "readers.db", "readers.db-wal", "readers.db-shm"};
	char p[256];

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		path_of(p, sizeof(p), names[i]);
		unlink(p);
	}
	rmdir(dir);
}

int main(void)
{
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	RUN(test_open_errors);
	RUN(test_blocks);
	RUN(test_migration_from_zero);
	RUN(test_migration_from_v1);
	RUN(test_subtree_cache);
	RUN(test_readers);
	cleanup_dir();
	return test_done();
}
