/* Tests node/db.c: open errors (missing file, missing directory, garbage file, foreign SQLite
 * file, schema version from the future), WAL + synchronous=FULL in force, block commits with
 * their ordering checks, all-or-nothing on a failing block, every getter, and reopening. The
 * crash (kill -9) case is tested end to end by tests/cli/node_crash.sh. */
#include "test.h"

#include "db.h"

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
	uint64_t nonce = 0;
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

	/* Senders: t[0] and t[2] share a key (odd seeds); the later nonce wins. */
	CHECK_RC(node_db_nonce_get(db, &nonce, t[0].sender, 33), FWC_OK);
	CHECK(nonce == 1);
	CHECK_RC(node_db_nonce_get(db, &nonce, t[1].sender, 33), FWC_OK);
	CHECK(nonce == 0);
	{
		uint8_t other[33] = {2};

		CHECK_RC(node_db_nonce_get(db, &nonce, other, 33), FWC_ERR_NOT_FOUND);
	}

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

static void cleanup_dir(void)
{
	static const char *names[] = {
	    "garbage.db", "foreign.db", "ledger.db", "ledger.db-wal",  "ledger.db-shm",
	    "v0.db",      "v0.db-wal",  "v0.db-shm", "foreign.db-wal", "foreign.db-shm"};
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
	cleanup_dir();
	return test_done();
}
