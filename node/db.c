/* fwchaind ledger persistence on SQLite.
 *
 * Durability argument: the file is in WAL mode with synchronous=FULL, so every COMMIT appends
 * the transaction's pages to the WAL and fsyncs it before returning; a crash (kill -9, power
 * loss on honest hardware) leaves either the whole transaction or none of it, and SQLite
 * recovers the WAL on the next open. A block is written in ONE such transaction — its row,
 * every transaction, every leaf, the subtrees it completes, and everything the state machine
 * (node/state.c) wrote while applying its transactions on the same connection between
 * node_db_write_begin and node_db_write_commit — and the node reports a transaction committed
 * only after that commit returned FWC_OK. So the ledger on disk is always a prefix of whole
 * blocks, and the state always matches the log.
 *
 * Connections: one writer connection behind a mutex (the block producer holds it from BEGIN
 * to COMMIT, signing included), and a small pool of read-only connections for everything
 * else. WAL gives each reader a consistent snapshot while the writer writes, so HTTP reads
 * never queue behind a block. Every connection keeps its own prepared statements and its own
 * struct node_state (the state machine's statement cache is per connection).
 *
 * Other choices: STRICT tables (SQLite checks the column types); a schema_version table with an
 * ordered list of migrations, each applied in its own transaction; application_id 'fwc1' in the
 * header so a foreign SQLite file is refused; the Merkle subtree cache keeps every perfect
 * subtree of 16 leaves or more (one row per 16 leaves), so a proof costs O(log n) queries. */
#include "db.h"

#include "fwchain/merkle.h"
#include "state.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define APP_ID 0x66776331 /* "fwc1" */
#define READERS_MAX 64
#define READER_MMAP "1073741824" /* bytes of the database file a reader maps: 1 GiB */

static int migrate_v2(sqlite3 *h, char **err);

/* Migration i takes the schema from version i to i+1: SQL, then (optionally) code. Never edit
 * a released entry: append. */
static const struct {
	const char *sql;
	int (*fn)(sqlite3 *h, char **err);
} migrations[NODE_DB_SCHEMA_VERSION] = {
    {"CREATE TABLE meta(key TEXT PRIMARY KEY, value BLOB NOT NULL) STRICT;"
     "CREATE TABLE blocks(height INTEGER PRIMARY KEY, time INTEGER NOT NULL,"
     " tx_count INTEGER NOT NULL, log_size INTEGER NOT NULL, checkpoint TEXT NOT NULL) STRICT;"
     "CREATE TABLE leaves(idx INTEGER PRIMARY KEY, hash BLOB NOT NULL) STRICT;"
     "CREATE TABLE txs(id BLOB PRIMARY KEY, bytes BLOB NOT NULL, type INTEGER NOT NULL,"
     " sender BLOB NOT NULL, nonce INTEGER NOT NULL,"
     " leaf_index INTEGER NOT NULL UNIQUE REFERENCES leaves(idx),"
     " height INTEGER NOT NULL REFERENCES blocks(height), status INTEGER NOT NULL) STRICT;"
     "CREATE INDEX txs_by_height ON txs(height, leaf_index);"
     "CREATE TABLE nonces(sender BLOB PRIMARY KEY, nonce INTEGER NOT NULL) STRICT;",
     NULL},
    /* The state machine's tables come with node_state_schema() (migrate_v2). Its
     * state_nonces becomes the one record of nonces. */
    {"CREATE TABLE subtrees(level INTEGER NOT NULL, idx INTEGER NOT NULL,"
     " hash BLOB NOT NULL, PRIMARY KEY(level, idx)) STRICT, WITHOUT ROWID;"
     "ALTER TABLE txs ADD COLUMN code TEXT NOT NULL DEFAULT '';",
     migrate_v2},
};

enum stmt_id {
	ST_BEGIN,
	ST_BEGIN_READ,
	ST_COMMIT,
	ST_ROLLBACK,
	ST_BLOCK_INSERT,
	ST_LEAF_INSERT,
	ST_TX_INSERT,
	ST_SUBTREE_INSERT,
	ST_HEAD,
	ST_BLOCK_GET,
	ST_BLOCK_TXIDS,
	ST_TX_GET,
	ST_TX_AT,
	ST_TX_HEIGHT,
	ST_LEAVES,
	ST_SUBTREE_GET,
	ST_META_PUT,
	ST_META_GET,
	ST_KS_RELEASE,
	ST_KS_ROOTS,
	ST_KS_ROOTS_COUNT,
	ST_COUNT
};

static const char *const stmt_sql[ST_COUNT] = {
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_BEGIN_READ] = "BEGIN DEFERRED",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
    [ST_BLOCK_INSERT] = "INSERT INTO blocks(height, time, tx_count, log_size, checkpoint)"
                        " VALUES(?1, ?2, ?3, ?4, ?5)",
    [ST_LEAF_INSERT] = "INSERT INTO leaves(idx, hash) VALUES(?1, ?2)",
    [ST_TX_INSERT] = "INSERT INTO txs(id, bytes, type, sender, nonce, leaf_index, height, status,"
                     " code) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    [ST_SUBTREE_INSERT] = "INSERT OR REPLACE INTO subtrees(level, idx, hash) VALUES(?1, ?2, ?3)",
    [ST_HEAD] = "SELECT height, time, tx_count, log_size, checkpoint FROM blocks"
                " ORDER BY height DESC LIMIT 1",
    [ST_BLOCK_GET] = "SELECT height, time, tx_count, log_size, checkpoint FROM blocks"
                     " WHERE height = ?1",
    [ST_BLOCK_TXIDS] = "SELECT id FROM txs WHERE height = ?1 ORDER BY leaf_index",
    [ST_TX_GET] = "SELECT t.bytes, t.type, t.sender, t.nonce, t.leaf_index, t.height, t.status,"
                  " l.hash, t.code FROM txs t JOIN leaves l ON l.idx = t.leaf_index"
                  " WHERE t.id = ?1",
    [ST_TX_AT] = "SELECT id FROM txs WHERE leaf_index = ?1",
    [ST_TX_HEIGHT] = "SELECT height FROM txs WHERE id = ?1",
    [ST_LEAVES] = "SELECT idx, hash FROM leaves WHERE idx >= ?1 AND idx < ?2 ORDER BY idx",
    [ST_SUBTREE_GET] = "SELECT hash FROM subtrees WHERE level = ?1 AND idx = ?2",
    [ST_META_PUT] = "INSERT INTO meta(key, value) VALUES(?1, ?2)"
                    " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
    [ST_META_GET] = "SELECT value FROM meta WHERE key = ?1",
    /* The release set statement in force at a leaf index: the newest logged before it. */
    [ST_KS_RELEASE] = "SELECT t.leaf_index, t.bytes, k.version FROM state_keysets k"
                      " JOIN txs t ON t.id = k.txid WHERE k.product = ?1 AND k.kind = 2"
                      " AND t.leaf_index < ?2 ORDER BY t.leaf_index DESC LIMIT 1",
    /* Root rotations (version 1 is the root set given at product registration) before it,
     * newest first. */
    [ST_KS_ROOTS] = "SELECT t.leaf_index, t.bytes, k.version FROM state_keysets k"
                    " JOIN txs t ON t.id = k.txid WHERE k.product = ?1 AND k.kind = 1"
                    " AND k.version >= 2 AND t.leaf_index < ?2 ORDER BY t.leaf_index DESC"
                    " LIMIT ?3",
    [ST_KS_ROOTS_COUNT] = "SELECT count(*) FROM state_keysets k JOIN txs t ON t.id = k.txid"
                          " WHERE k.product = ?1 AND k.kind = 1 AND k.version >= 2"
                          " AND t.leaf_index < ?2",
};

/* One SQLite connection with its statement cache and its state machine binding. */
struct conn {
	sqlite3 *h;
	sqlite3_stmt *st[ST_COUNT];
	struct node_state state;
	int state_open;
	uint64_t *queries; /* the database's query counter */
};

struct node_db_reader {
	pthread_mutex_t mu;
	struct node_db *db;
	struct conn c;
};

struct node_db {
	struct conn w; /* the writer */
	pthread_mutex_t mu;
	int in_write;
	int version;
	char *path;
	unsigned nreaders;
	struct node_db_reader readers[READERS_MAX];
	uint64_t queries;
};

/* The cached statement for id, reset and unbound, or NULL (the caller reports sqlite's error). */
static sqlite3_stmt *stmt(struct conn *c, enum stmt_id id)
{
	if (c->st[id] == NULL) {
		if (sqlite3_prepare_v3(c->h, stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT,
		                       &c->st[id], NULL) != SQLITE_OK)
			return NULL;
	}
	__atomic_fetch_add(c->queries, 1, __ATOMIC_RELAXED);
	return c->st[id];
}

static void done(sqlite3_stmt *s)
{
	if (s) {
		sqlite3_reset(s);
		sqlite3_clear_bindings(s);
	}
}

/* Run a statement that returns no rows. */
static int run(struct conn *c, enum stmt_id id)
{
	sqlite3_stmt *s = stmt(c, id);
	int rc;

	if (s == NULL)
		return SQLITE_ERROR;
	rc = sqlite3_step(s);
	done(s);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static void conn_close(struct conn *c)
{
	if (c->state_open)
		node_state_close(&c->state);
	c->state_open = 0;
	for (int i = 0; i < ST_COUNT; i++) {
		sqlite3_finalize(c->st[i]);
		c->st[i] = NULL;
	}
	sqlite3_close(c->h);
	c->h = NULL;
}

static int io_fail(struct conn *c, struct fwc_errinfo *ei, const char *what)
{
	return fwc_fail(ei, 0, FWC_ERR_IO, "%s: %s", what, sqlite3_errmsg(c->h));
}

/* Scalar query on the raw handle (open-time checks only). */
static int query_int(sqlite3 *h, const char *sql, sqlite3_int64 *v)
{
	sqlite3_stmt *s = NULL;
	int rc = sqlite3_prepare_v2(h, sql, -1, &s, NULL);

	if (rc == SQLITE_OK) {
		rc = sqlite3_step(s);
		if (rc == SQLITE_ROW) {
			*v = sqlite3_column_int64(s, 0);
			rc = SQLITE_OK;
		} else if (rc == SQLITE_DONE) {
			rc = SQLITE_EMPTY;
		}
	}
	sqlite3_finalize(s);
	return rc;
}

static int open_error(sqlite3 *h, int src, const char *path, struct fwc_errinfo *ei)
{
	if (src == SQLITE_NOTADB || src == SQLITE_CORRUPT)
		return fwc_fail(ei, 0, FWC_ERR_MALFORMED,
		                "%s is not an SQLite database or is corrupt (%s)", path,
		                sqlite3_errstr(src));
	if (src == SQLITE_NOMEM)
		return FWC_ERR_NOMEM;
	return fwc_fail(ei, 0, FWC_ERR_IO, "%s: %s", path,
	                h ? sqlite3_errmsg(h) : sqlite3_errstr(src));
}

/* ---------------------------------------------------------------- subtrees */

int node_db_leaf_append(struct fwc_merkle_frontier *f, const uint8_t leaf_hash[32],
                        struct node_db_subtree *out, size_t *nout)
{
	struct fwc_merkle_frontier next;
	uint8_t cur[32];
	uint64_t size;
	size_t n = 0;
	int rc;

	if (f == NULL || leaf_hash == NULL || out == NULL || nout == NULL)
		return FWC_ERR_ARG;
	/* The new leaf completes one perfect subtree per trailing 1 bit of the old size: at
	 * level l its left half is the frontier's hash[l-1], its right half the one below. */
	size = f->size;
	memcpy(cur, leaf_hash, 32);
	for (unsigned l = 1; l < FWC_MERKLE_MAX_LEVELS && ((size >> (l - 1)) & 1); l++) {
		rc = fwc_merkle_node_hash(cur, f->hash[l - 1], cur);
		if (rc != FWC_OK)
			return rc;
		if (l >= NODE_DB_SUBTREE_MIN_LEVEL) {
			out[n].level = l;
			out[n].index = ((size + 1) >> l) - 1;
			memcpy(out[n].hash, cur, 32);
			n++;
		}
	}
	next = *f;
	rc = fwc_merkle_frontier_append(&next, leaf_hash);
	if (rc != FWC_OK)
		return rc;
	*f = next;
	*nout = n;
	return FWC_OK;
}

static int subtree_put(struct conn *c, const struct node_db_subtree *t)
{
	sqlite3_stmt *s = stmt(c, ST_SUBTREE_INSERT);
	int src;

	if (s == NULL)
		return SQLITE_ERROR;
	sqlite3_bind_int(s, 1, (int)t->level);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)t->index);
	sqlite3_bind_blob(s, 3, t->hash, 32, SQLITE_STATIC);
	src = sqlite3_step(s);
	done(s);
	return src == SQLITE_DONE ? SQLITE_OK : src;
}

/* Schema 2: the state tables, nonces moved into state_nonces (the state machine's record is
 * the one source of truth from now on), and the subtree cache filled from the stored leaves.
 * Runs inside the migration's transaction. */
static int migrate_v2(sqlite3 *h, char **err)
{
	struct conn c;
	struct fwc_merkle_frontier f;
	sqlite3_stmt *s = NULL;
	uint64_t queries = 0;
	int rc;

	if (node_state_schema(h) != FWC_OK)
		return SQLITE_ERROR;
	rc = sqlite3_exec(h,
	                  "INSERT INTO state_nonces(key, nonce) SELECT sender, nonce FROM nonces;"
	                  " DROP TABLE nonces;",
	                  NULL, NULL, err);
	if (rc != SQLITE_OK)
		return rc;
	memset(&c, 0, sizeof(c));
	c.h = h;
	c.queries = &queries;
	fwc_merkle_frontier_init(&f);
	rc = sqlite3_prepare_v2(h, "SELECT idx, hash FROM leaves ORDER BY idx", -1, &s, NULL);
	while (rc == SQLITE_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct node_db_subtree t[FWC_MERKLE_MAX_LEVELS];
		size_t n = 0;

		if ((uint64_t)sqlite3_column_int64(s, 0) != f.size ||
		    sqlite3_column_bytes(s, 1) != 32 ||
		    node_db_leaf_append(&f, sqlite3_column_blob(s, 1), t, &n) != FWC_OK) {
			rc = SQLITE_CORRUPT;
			break;
		}
		rc = SQLITE_OK;
		for (size_t i = 0; i < n && rc == SQLITE_OK; i++)
			rc = subtree_put(&c, &t[i]);
	}
	if (rc == SQLITE_DONE)
		rc = SQLITE_OK;
	sqlite3_finalize(s);
	for (int i = 0; i < ST_COUNT; i++)
		sqlite3_finalize(c.st[i]);
	return rc;
}

/* ---------------------------------------------------------------- open, close */

static int migrate(struct node_db *db, int from, const char *path, struct fwc_errinfo *ei)
{
	for (int v = from; v < NODE_DB_SCHEMA_VERSION; v++) {
		char *err = NULL;
		char upd[96];
		int rc = sqlite3_exec(db->w.h, "BEGIN IMMEDIATE", NULL, NULL, NULL);

		if (rc == SQLITE_OK)
			rc = sqlite3_exec(db->w.h, migrations[v].sql, NULL, NULL, &err);
		if (rc == SQLITE_OK && migrations[v].fn)
			rc = migrations[v].fn(db->w.h, &err);
		if (rc == SQLITE_OK) {
			snprintf(upd, sizeof(upd), "UPDATE schema_version SET version = %d", v + 1);
			rc = sqlite3_exec(db->w.h, upd, NULL, NULL, &err);
		}
		if (rc == SQLITE_OK)
			rc = sqlite3_exec(db->w.h, "COMMIT", NULL, NULL, &err);
		if (rc != SQLITE_OK) {
			fwc_fail(ei, 0, FWC_ERR_IO, "%s: migration to schema %d failed: %s", path,
			         v + 1, err ? err : sqlite3_errmsg(db->w.h));
			sqlite3_free(err);
			sqlite3_exec(db->w.h, "ROLLBACK", NULL, NULL, NULL);
			return FWC_ERR_IO;
		}
	}
	db->version = NODE_DB_SCHEMA_VERSION;
	/* Idempotent: picks up state tables or indexes a newer state machine added since. */
	if (node_state_schema(db->w.h) != FWC_OK)
		return fwc_fail(ei, 0, FWC_ERR_IO, "%s: cannot create the state tables: %s", path,
		                sqlite3_errmsg(db->w.h));
	return FWC_OK;
}

/* SQLite's memory statistics take a process-wide mutex on every allocation; the node never
 * reads them. Must run before SQLite initialises (it is refused, harmlessly, after). */
static void sqlite_tune(void)
{
	(void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

int node_db_open(struct node_db **out, const char *path, int create, struct fwc_errinfo *ei)
{
	static pthread_once_t tuned = PTHREAD_ONCE_INIT;
	struct node_db *db = NULL;
	struct stat st;
	sqlite3_int64 appid = 0, ntables = 0, version = 0;
	int rc, src, flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;

	pthread_once(&tuned, sqlite_tune);
	if (out == NULL || path == NULL)
		return FWC_ERR_ARG;
	if (stat(path, &st) != 0) {
		char dir[PATH_MAX];
		char *slash;

		if (errno != ENOENT)
			return fwc_fail(ei, 0, FWC_ERR_IO, "%s: %s", path, strerror(errno));
		if (!create)
			return fwc_fail(ei, 0, FWC_ERR_NOT_FOUND,
			                "ledger database %s does not exist", path);
		snprintf(dir, sizeof(dir), "%s", path);
		slash = strrchr(dir, '/');
		if (slash == dir)
			slash[1] = '\0';
		else if (slash)
			*slash = '\0';
		else
			snprintf(dir, sizeof(dir), ".");
		if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
			return fwc_fail(ei, 0, FWC_ERR_NOT_FOUND, "directory %s does not exist",
			                dir);
		flags |= SQLITE_OPEN_CREATE;
	} else if (!S_ISREG(st.st_mode)) {
		return fwc_fail(ei, 0, FWC_ERR_MALFORMED, "%s is not a regular file", path);
	}

	db = calloc(1, sizeof(*db));
	if (db == NULL)
		return FWC_ERR_NOMEM;
	db->path = strdup(path);
	if (db->path == NULL || pthread_mutex_init(&db->mu, NULL) != 0) {
		free(db->path);
		free(db);
		return FWC_ERR_NOMEM;
	}
	db->w.queries = &db->queries;
	db->nreaders = NODE_DB_READERS_DEFAULT;
	for (int i = 0; i < READERS_MAX; i++) {
		pthread_mutex_init(&db->readers[i].mu, NULL);
		db->readers[i].db = db;
		db->readers[i].c.queries = &db->queries;
	}
	src = sqlite3_open_v2(path, &db->w.h, flags, NULL);
	if (src != SQLITE_OK) {
		rc = open_error(db->w.h, src, path, ei);
		goto fail;
	}
	sqlite3_extended_result_codes(db->w.h, 0);
	sqlite3_busy_timeout(db->w.h, 5000);
	/* The first read of the header tells a foreign or damaged file apart. */
	src = query_int(db->w.h, "PRAGMA application_id", &appid);
	if (src == SQLITE_OK)
		src = query_int(db->w.h, "SELECT count(*) FROM sqlite_master", &ntables);
	if (src != SQLITE_OK) {
		rc = open_error(db->w.h, src, path, ei);
		goto fail;
	}
	if (ntables > 0 && appid != APP_ID) {
		rc = fwc_fail(ei, 0, FWC_ERR_MALFORMED,
		              "%s is an SQLite database but not an fwchain ledger", path);
		goto fail;
	}
	/* The writer's page cache holds a whole block's dirty pages (64 MiB): with SQLite's
	 * default 2 MiB a block of 2000 transactions spilled pages into the WAL in the middle of
	 * its statements (a third of the producer's time in pwrite under load), and each spilled
	 * page was written again at the commit. Checkpoints run every 8000 WAL pages instead of
	 * 1000, so a page that every block touches (index interiors) is copied back to the
	 * database file less often. Neither changes durability: every commit still syncs the WAL
	 * (synchronous = FULL) before it returns. */
	src = sqlite3_exec(db->w.h,
	                   "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;"
	                   " PRAGMA foreign_keys = ON; PRAGMA cache_size = -65536;"
	                   " PRAGMA wal_autocheckpoint = 8000; PRAGMA temp_store = MEMORY;",
	                   NULL, NULL, NULL);
	if (src == SQLITE_OK) {
		sqlite3_int64 fk = 0;
		char mode[16] = "";
		sqlite3_stmt *s = NULL;

		/* journal_mode answers with the mode in force: insist it really is WAL. */
		if (sqlite3_prepare_v2(db->w.h, "PRAGMA journal_mode", -1, &s, NULL) == SQLITE_OK &&
		    sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0))
			snprintf(mode, sizeof(mode), "%s", (const char *)sqlite3_column_text(s, 0));
		sqlite3_finalize(s);
		if (strcmp(mode, "wal") != 0 || query_int(db->w.h, "PRAGMA foreign_keys", &fk) ||
		    fk != 1) {
			rc = fwc_fail(ei, 0, FWC_ERR_IO, "%s: cannot enable WAL and foreign keys",
			              path);
			goto fail;
		}
	}
	if (src != SQLITE_OK) {
		rc = open_error(db->w.h, src, path, ei);
		goto fail;
	}
	if (ntables == 0) {
		src = sqlite3_exec(db->w.h,
		                   "BEGIN IMMEDIATE; PRAGMA application_id = 1719100209;"
		                   " CREATE TABLE schema_version(version INTEGER NOT NULL) STRICT;"
		                   " INSERT INTO schema_version VALUES(0); COMMIT;",
		                   NULL, NULL, NULL);
		if (src != SQLITE_OK) {
			rc = open_error(db->w.h, src, path, ei);
			sqlite3_exec(db->w.h, "ROLLBACK", NULL, NULL, NULL);
			goto fail;
		}
	}
	src = query_int(db->w.h, "SELECT version FROM schema_version", &version);
	if (src != SQLITE_OK || version < 0) {
		rc = fwc_fail(ei, 0, FWC_ERR_MALFORMED, "%s: schema version unreadable (%s)", path,
		              src == SQLITE_EMPTY ? "no row" : sqlite3_errmsg(db->w.h));
		goto fail;
	}
	if (version > NODE_DB_SCHEMA_VERSION) {
		rc = fwc_fail(ei, 0, FWC_ERR_UNSUPPORTED,
		              "%s has schema version %lld, newer than the %d this fwchaind knows;"
		              " use a newer fwchaind",
		              path, (long long)version, NODE_DB_SCHEMA_VERSION);
		goto fail;
	}
	db->version = (int)version;
	rc = migrate(db, (int)version, path, ei);
	if (rc != FWC_OK)
		goto fail;
	if (node_state_open(&db->w.state, db->w.h) != FWC_OK) {
		rc = fwc_fail(ei, 0, FWC_ERR_IO, "%s: cannot read the state: %s", path,
		              sqlite3_errmsg(db->w.h));
		goto fail;
	}
	db->w.state_open = 1;
	*out = db;
	return FWC_OK;
fail:
	node_db_close(db);
	return rc;
}

void node_db_close(struct node_db *db)
{
	if (db == NULL)
		return;
	for (int i = 0; i < READERS_MAX; i++) {
		conn_close(&db->readers[i].c);
		pthread_mutex_destroy(&db->readers[i].mu);
	}
	conn_close(&db->w);
	pthread_mutex_destroy(&db->mu);
	free(db->path);
	free(db);
}

int node_db_schema_version(struct node_db *db)
{
	return db ? db->version : FWC_ERR_ARG;
}

int node_db_set_readers(struct node_db *db, unsigned n)
{
	if (db == NULL || n < 1 || n > READERS_MAX)
		return FWC_ERR_ARG;
	db->nreaders = n;
	return FWC_OK;
}

uint64_t node_db_query_count(struct node_db *db)
{
	return db ? __atomic_load_n(&db->queries, __ATOMIC_RELAXED) : 0;
}

/* ---------------------------------------------------------------- the reader pool */

static int reader_open(struct node_db_reader *r)
{
	struct conn *c = &r->c;

	if (sqlite3_open_v2(r->db->path, &c->h, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) !=
	    SQLITE_OK)
		goto fail;
	sqlite3_extended_result_codes(c->h, 0);
	sqlite3_busy_timeout(c->h, 5000);
	/* Readers map the database file (SQLite's memory-mapped I/O): a page the connection's own
	 * cache lacks is a pointer into the OS page cache rather than a read() and a copy, which
	 * is what a check-in of a device not seen since start costs on a large state (random
	 * pages of a 700 MiB file, about five B-tree descents). Only the database file is mapped
	 * (WAL pages are read as before) and only readers (the writer keeps read/write, so a
	 * disk error while writing a block stays an error, not a signal). Bounded: the mapping is
	 * address space only (the pages are the page cache's, shared by every reader), and
	 * READER_MMAP covers a ledger of a few million devices; beyond it SQLite reads the rest.
	 * SQLite caps the value at its compile-time SQLITE_MAX_MMAP_SIZE; a failure is harmless
	 * (plain reads). */
	sqlite3_exec(c->h, "PRAGMA mmap_size = " READER_MMAP, NULL, NULL, NULL);
	if (node_state_open(&c->state, c->h) != FWC_OK)
		goto fail;
	c->state_open = 1;
	return FWC_OK;
fail:
	conn_close(c);
	return FWC_ERR_IO;
}

int node_db_reader_get(struct node_db *db, struct node_db_reader **out)
{
	static __thread unsigned hint;
	struct node_db_reader *r = NULL;
	unsigned n;

	if (db == NULL || out == NULL)
		return FWC_ERR_ARG;
	n = db->nreaders;
	/* A thread tries the reader it used last first, then any free one; if all are busy it
	 * waits for its own. */
	for (unsigned i = 0; i < n && r == NULL; i++) {
		struct node_db_reader *cand = &db->readers[(hint + i) % n];

		if (pthread_mutex_trylock(&cand->mu) == 0)
			r = cand;
	}
	if (r == NULL) {
		r = &db->readers[hint % n];
		pthread_mutex_lock(&r->mu);
	}
	hint = (unsigned)(r - db->readers);
	if (r->c.h == NULL && reader_open(r) != FWC_OK) {
		pthread_mutex_unlock(&r->mu);
		return FWC_ERR_IO;
	}
	*out = r;
	return FWC_OK;
}

void node_db_reader_put(struct node_db_reader *r)
{
	if (r)
		pthread_mutex_unlock(&r->mu);
}

struct sqlite3 *node_db_reader_handle(struct node_db_reader *r)
{
	return r ? r->c.h : NULL;
}

struct node_state *node_db_reader_state(struct node_db_reader *r)
{
	return r ? &r->c.state : NULL;
}

/* ---------------------------------------------------------------- reads */

static int read_block(sqlite3_stmt *s, struct node_db_block *out)
{
	const unsigned char *text = sqlite3_column_text(s, 4);
	size_t len = (size_t)sqlite3_column_bytes(s, 4);
	char *copy = malloc(len + 1);

	if (copy == NULL)
		return FWC_ERR_NOMEM;
	if (len)
		memcpy(copy, text, len);
	copy[len] = '\0';
	memset(out, 0, sizeof(*out));
	out->height = (uint64_t)sqlite3_column_int64(s, 0);
	out->time = sqlite3_column_int64(s, 1);
	out->tx_count = (uint64_t)sqlite3_column_int64(s, 2);
	out->log_size = (uint64_t)sqlite3_column_int64(s, 3);
	out->checkpoint = copy;
	out->checkpoint_len = len;
	return FWC_OK;
}

/* Step a block query. */
static int block_query(sqlite3_stmt *s, struct node_db_block *out)
{
	int rc, src;

	if (s == NULL)
		return FWC_ERR_IO;
	src = sqlite3_step(s);
	if (src == SQLITE_ROW)
		rc = read_block(s, out);
	else
		rc = src == SQLITE_DONE ? FWC_ERR_NOT_FOUND : FWC_ERR_IO;
	done(s);
	return rc;
}

int node_db_head(struct node_db *db, struct node_db_block *out)
{
	struct node_db_reader *r;
	int rc;

	if (db == NULL || out == NULL)
		return FWC_ERR_ARG;
	if ((rc = node_db_reader_get(db, &r)) != FWC_OK)
		return rc;
	rc = block_query(stmt(&r->c, ST_HEAD), out);
	node_db_reader_put(r);
	return rc;
}

int node_db_reader_head(struct node_db_reader *r, struct node_db_block *out)
{
	if (r == NULL || out == NULL)
		return FWC_ERR_ARG;
	return block_query(stmt(&r->c, ST_HEAD), out);
}

int node_db_reader_begin(struct node_db_reader *r)
{
	if (r == NULL)
		return FWC_ERR_ARG;
	return run(&r->c, ST_BEGIN_READ) == SQLITE_OK ? FWC_OK : FWC_ERR_IO;
}

void node_db_reader_end(struct node_db_reader *r)
{
	if (r && run(&r->c, ST_COMMIT) != SQLITE_OK)
		run(&r->c, ST_ROLLBACK);
}

static int block_get(struct conn *c, struct node_db_block *out, uint64_t height)
{
	sqlite3_stmt *s = stmt(c, ST_BLOCK_GET);

	if (s)
		sqlite3_bind_int64(s, 1, (sqlite3_int64)height);
	return block_query(s, out);
}

int node_db_block_get(struct node_db *db, struct node_db_block *out, uint64_t height)
{
	struct node_db_reader *r;
	int rc;

	if (db == NULL || out == NULL || height > INT64_MAX)
		return FWC_ERR_ARG;
	if ((rc = node_db_reader_get(db, &r)) != FWC_OK)
		return rc;
	rc = block_get(&r->c, out, height);
	node_db_reader_put(r);
	return rc;
}

void node_db_block_cleanup(struct node_db_block *b)
{
	if (b) {
		free(b->checkpoint);
		b->checkpoint = NULL;
		b->checkpoint_len = 0;
	}
}

int node_db_block_tx_ids(struct node_db *db, uint8_t (**ids)[32], size_t *n, uint64_t height)
{
	struct node_db_block b = {0};
	struct node_db_reader *r;
	uint8_t(*arr)[32] = NULL;
	size_t count = 0;
	sqlite3_stmt *s;
	int rc, src;

	if (db == NULL || ids == NULL || n == NULL || height > INT64_MAX)
		return FWC_ERR_ARG;
	if ((rc = node_db_reader_get(db, &r)) != FWC_OK)
		return rc;
	rc = block_get(&r->c, &b, height);
	if (rc != FWC_OK)
		goto out;
	/* tx_count bounds the array; a block never holds more rows than it says. */
	arr = malloc((b.tx_count ? b.tx_count : 1) * sizeof(*arr));
	if (arr == NULL) {
		rc = FWC_ERR_NOMEM;
		goto out;
	}
	s = stmt(&r->c, ST_BLOCK_TXIDS);
	if (s == NULL) {
		rc = FWC_ERR_IO;
		goto out;
	}
	sqlite3_bind_int64(s, 1, (sqlite3_int64)height);
	while ((src = sqlite3_step(s)) == SQLITE_ROW && count < b.tx_count) {
		if (sqlite3_column_bytes(s, 0) == 32)
			memcpy(arr[count++], sqlite3_column_blob(s, 0), 32);
	}
	done(s);
	rc = (src == SQLITE_DONE && count == b.tx_count) ? FWC_OK : FWC_ERR_IO;
out:
	node_db_reader_put(r);
	node_db_block_cleanup(&b);
	if (rc == FWC_OK) {
		*ids = arr;
		*n = count;
	} else {
		free(arr);
	}
	return rc;
}

static int tx_get(struct conn *c, struct node_db_tx *out, const uint8_t id[32])
{
	sqlite3_stmt *s = stmt(c, ST_TX_GET);
	int rc = FWC_ERR_IO, src;

	if (s == NULL)
		return FWC_ERR_IO;
	sqlite3_bind_blob(s, 1, id, 32, SQLITE_STATIC);
	src = sqlite3_step(s);
	if (src == SQLITE_ROW) {
		size_t len = (size_t)sqlite3_column_bytes(s, 0);
		size_t slen = (size_t)sqlite3_column_bytes(s, 2);
		uint8_t *bytes;

		if (slen > NODE_DB_SENDER_MAX || sqlite3_column_bytes(s, 7) != 32) {
			rc = FWC_ERR_MALFORMED;
			goto done;
		}
		bytes = malloc(len ? len : 1);
		if (bytes == NULL) {
			rc = FWC_ERR_NOMEM;
			goto done;
		}
		if (len)
			memcpy(bytes, sqlite3_column_blob(s, 0), len);
		memset(out, 0, sizeof(*out));
		memcpy(out->id, id, 32);
		out->bytes = bytes;
		out->len = len;
		out->type = sqlite3_column_int(s, 1);
		if (slen)
			memcpy(out->sender, sqlite3_column_blob(s, 2), slen);
		out->sender_len = slen;
		out->nonce = (uint64_t)sqlite3_column_int64(s, 3);
		out->leaf_index = (uint64_t)sqlite3_column_int64(s, 4);
		out->height = (uint64_t)sqlite3_column_int64(s, 5);
		out->status = sqlite3_column_int(s, 6);
		memcpy(out->leaf_hash, sqlite3_column_blob(s, 7), 32);
		snprintf(out->code, sizeof(out->code), "%s",
		         sqlite3_column_text(s, 8) ? (const char *)sqlite3_column_text(s, 8) : "");
		rc = FWC_OK;
	} else if (src == SQLITE_DONE) {
		rc = FWC_ERR_NOT_FOUND;
	}
done:
	done(s);
	return rc;
}

int node_db_reader_tx_get(struct node_db_reader *r, struct node_db_tx *out, const uint8_t id[32])
{
	if (r == NULL || out == NULL || id == NULL)
		return FWC_ERR_ARG;
	return tx_get(&r->c, out, id);
}

int node_db_tx_get(struct node_db *db, struct node_db_tx *out, const uint8_t id[32])
{
	struct node_db_reader *r;
	int rc;

	if (db == NULL || out == NULL || id == NULL)
		return FWC_ERR_ARG;
	if ((rc = node_db_reader_get(db, &r)) != FWC_OK)
		return rc;
	rc = tx_get(&r->c, out, id);
	node_db_reader_put(r);
	return rc;
}

int node_db_tx_height(struct node_db *db, uint64_t *height, const uint8_t id[32])
{
	struct node_db_reader *r;
	int rc;

	if (db == NULL || height == NULL || id == NULL)
		return FWC_ERR_ARG;
	if ((rc = node_db_reader_get(db, &r)) != FWC_OK)
		return rc;
	rc = node_db_reader_tx_height(r, height, id);
	node_db_reader_put(r);
	return rc;
}

int node_db_reader_tx_height(struct node_db_reader *r, uint64_t *height, const uint8_t id[32])
{
	sqlite3_stmt *s;
	int rc, src;

	if (r == NULL || height == NULL || id == NULL)
		return FWC_ERR_ARG;
	rc = FWC_ERR_IO;
	s = stmt(&r->c, ST_TX_HEIGHT);
	if (s) {
		sqlite3_bind_blob(s, 1, id, 32, SQLITE_STATIC);
		src = sqlite3_step(s);
		if (src == SQLITE_ROW) {
			*height = (uint64_t)sqlite3_column_int64(s, 0);
			rc = FWC_OK;
		} else if (src == SQLITE_DONE) {
			rc = FWC_ERR_NOT_FOUND;
		}
		sqlite3_reset(s);
		sqlite3_clear_bindings(s);
	}
	return rc;
}

int node_db_tx_id_at(struct node_db *db, uint8_t id[32], uint64_t leaf_index)
{
	struct node_db_reader *r;
	sqlite3_stmt *s;
	int rc, src;

	if (db == NULL || id == NULL || leaf_index > INT64_MAX)
		return FWC_ERR_ARG;
	if ((rc = node_db_reader_get(db, &r)) != FWC_OK)
		return rc;
	rc = FWC_ERR_IO;
	s = stmt(&r->c, ST_TX_AT);
	if (s) {
		sqlite3_bind_int64(s, 1, (sqlite3_int64)leaf_index);
		src = sqlite3_step(s);
		if (src == SQLITE_ROW && sqlite3_column_bytes(s, 0) == 32) {
			memcpy(id, sqlite3_column_blob(s, 0), 32);
			rc = FWC_OK;
		} else if (src == SQLITE_DONE) {
			rc = FWC_ERR_NOT_FOUND;
		}
		done(s);
	}
	node_db_reader_put(r);
	return rc;
}

void node_db_tx_cleanup(struct node_db_tx *tx)
{
	if (tx) {
		free(tx->bytes);
		tx->bytes = NULL;
		tx->len = 0;
	}
}

static int leaves_get(struct conn *c, uint8_t (*out)[32], uint64_t start, uint64_t count)
{
	sqlite3_stmt *s = stmt(c, ST_LEAVES);
	uint64_t got = 0;
	int rc = FWC_ERR_IO, src;

	if (s == NULL)
		return FWC_ERR_IO;
	sqlite3_bind_int64(s, 1, (sqlite3_int64)start);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)(start + count));
	while ((src = sqlite3_step(s)) == SQLITE_ROW) {
		/* Rows must be exactly start, start+1, ...: a gap is a damaged ledger. */
		if ((uint64_t)sqlite3_column_int64(s, 0) != start + got ||
		    sqlite3_column_bytes(s, 1) != 32 || got == count)
			break;
		memcpy(out[got++], sqlite3_column_blob(s, 1), 32);
	}
	if (src == SQLITE_ROW)
		rc = FWC_ERR_MALFORMED;
	else if (src == SQLITE_DONE)
		rc = got == count ? FWC_OK : FWC_ERR_NOT_FOUND;
	done(s);
	return rc;
}

int node_db_leaves_get(struct node_db *db, uint8_t (*out)[32], uint64_t start, uint64_t count)
{
	struct node_db_reader *r;
	int rc;

	if (db == NULL || (out == NULL && count) || start > INT64_MAX || count > INT64_MAX - start)
		return FWC_ERR_ARG;
	if (count == 0)
		return FWC_OK;
	if ((rc = node_db_reader_get(db, &r)) != FWC_OK)
		return rc;
	rc = leaves_get(&r->c, out, start, count);
	node_db_reader_put(r);
	return rc;
}

/* ---------------------------------------------------------------- Merkle sources */

static int conn_leaf(struct conn *c, uint8_t out[32], uint64_t index)
{
	return leaves_get(c, (uint8_t(*)[32])out, index, 1);
}

/* A perfect subtree: stored when level >= NODE_DB_SUBTREE_MIN_LEVEL (FWC_ERR_NOT_FOUND when
 * it is not, and merkle.c then combines the halves), else hashed from one range read. */
static int conn_subtree(struct conn *c, uint8_t out[32], unsigned level, uint64_t index)
{
	if (level < NODE_DB_SUBTREE_MIN_LEVEL) {
		uint8_t leaves[1u << NODE_DB_SUBTREE_MIN_LEVEL][32];
		uint64_t n = (uint64_t)1 << level;
		int rc = leaves_get(c, leaves, index << level, n);

		return rc == FWC_OK ? fwc_merkle_root(out, (const uint8_t(*)[32])leaves, n) : rc;
	} else {
		sqlite3_stmt *s = stmt(c, ST_SUBTREE_GET);
		int rc = FWC_ERR_IO, src;

		if (s == NULL || index > INT64_MAX)
			return FWC_ERR_IO;
		sqlite3_bind_int(s, 1, (int)level);
		sqlite3_bind_int64(s, 2, (sqlite3_int64)index);
		src = sqlite3_step(s);
		if (src == SQLITE_ROW && sqlite3_column_bytes(s, 0) == 32) {
			memcpy(out, sqlite3_column_blob(s, 0), 32);
			rc = FWC_OK;
		} else if (src == SQLITE_DONE) {
			rc = FWC_ERR_NOT_FOUND;
		}
		done(s);
		return rc;
	}
}

static int reader_leaf_cb(void *ctx, uint8_t out[FWC_MERKLE_HASH_LEN], uint64_t index)
{
	return conn_leaf(&((struct node_db_reader *)ctx)->c, out, index);
}

static int reader_subtree_cb(void *ctx, uint8_t out[FWC_MERKLE_HASH_LEN], unsigned level,
                             uint64_t index)
{
	return conn_subtree(&((struct node_db_reader *)ctx)->c, out, level, index);
}

void node_db_reader_merkle_source(struct node_db_reader *r, struct fwc_merkle_source *src)
{
	src->leaf = reader_leaf_cb;
	src->subtree = reader_subtree_cb;
	src->ctx = r;
}

static int db_leaf_cb(void *ctx, uint8_t out[FWC_MERKLE_HASH_LEN], uint64_t index)
{
	return node_db_leaves_get(ctx, (uint8_t(*)[32])out, index, 1);
}

static int db_subtree_cb(void *ctx, uint8_t out[FWC_MERKLE_HASH_LEN], unsigned level,
                         uint64_t index)
{
	struct node_db_reader *r;
	int rc;

	if ((rc = node_db_reader_get(ctx, &r)) != FWC_OK)
		return rc;
	rc = conn_subtree(&r->c, out, level, index);
	node_db_reader_put(r);
	return rc;
}

void node_db_merkle_source(struct node_db *db, struct fwc_merkle_source *src)
{
	src->leaf = db_leaf_cb;
	src->subtree = db_subtree_cb;
	src->ctx = db;
}

void node_db_merkle_source_naive(struct node_db *db, struct fwc_merkle_source *src)
{
	src->leaf = db_leaf_cb;
	src->subtree = NULL;
	src->ctx = db;
}

/* ---------------------------------------------------------------- key set chains */

static int keyset_row(sqlite3_stmt *s, struct node_db_keyset_tx *t, int kind)
{
	size_t len = (size_t)sqlite3_column_bytes(s, 1);

	t->kind = kind;
	t->leaf_index = (uint64_t)sqlite3_column_int64(s, 0);
	t->version = (uint64_t)sqlite3_column_int64(s, 2);
	t->len = len;
	t->bytes = malloc(len ? len : 1);
	if (t->bytes == NULL)
		return FWC_ERR_NOMEM;
	if (len)
		memcpy(t->bytes, sqlite3_column_blob(s, 1), len);
	return FWC_OK;
}

int node_db_keyset_chain(struct node_db_reader *r, struct node_db_keyset_tx *out, size_t cap,
                         size_t *n, size_t *dropped, const char *product, uint64_t before)
{
	struct node_db_keyset_tx rel;
	sqlite3_stmt *s;
	uint64_t nroots = 0;
	size_t got = 0, want;
	int rc, src;

	if (r == NULL || (out == NULL && cap) || n == NULL || product == NULL || before > INT64_MAX)
		return FWC_ERR_ARG;
	memset(&rel, 0, sizeof(rel));
	s = stmt(&r->c, ST_KS_RELEASE);
	if (s == NULL)
		return FWC_ERR_IO;
	sqlite3_bind_text(s, 1, product, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)before);
	src = sqlite3_step(s);
	if (src == SQLITE_DONE) {
		done(s);
		*n = 0;
		if (dropped)
			*dropped = 0;
		return FWC_OK;
	}
	rc = src == SQLITE_ROW ? keyset_row(s, &rel, 2) : FWC_ERR_IO;
	done(s);
	if (rc != FWC_OK)
		return rc;
	if (cap == 0) {
		free(rel.bytes);
		return FWC_ERR_BUFSIZE;
	}
	/* Root rotations logged before the release set statement. */
	s = stmt(&r->c, ST_KS_ROOTS_COUNT);
	if (s == NULL)
		goto io;
	sqlite3_bind_text(s, 1, product, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)rel.leaf_index);
	if (sqlite3_step(s) != SQLITE_ROW) {
		done(s);
		goto io;
	}
	nroots = (uint64_t)sqlite3_column_int64(s, 0);
	done(s);
	want = nroots < cap - 1 ? (size_t)nroots : cap - 1;
	s = stmt(&r->c, ST_KS_ROOTS);
	if (s == NULL)
		goto io;
	sqlite3_bind_text(s, 1, product, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)rel.leaf_index);
	sqlite3_bind_int64(s, 3, (sqlite3_int64)want);
	/* Newest first from the query; stored oldest first. */
	while (got < want && (src = sqlite3_step(s)) == SQLITE_ROW) {
		rc = keyset_row(s, &out[want - 1 - got], 1);
		if (rc != FWC_OK)
			break;
		got++;
	}
	done(s);
	if (rc != FWC_OK || got != want) {
		for (size_t i = 0; i < got; i++)
			free(out[want - 1 - i].bytes);
		free(rel.bytes);
		return rc != FWC_OK ? rc : FWC_ERR_IO;
	}
	out[want] = rel;
	*n = want + 1;
	if (dropped)
		*dropped = (size_t)(nroots - want);
	return FWC_OK;
io:
	free(rel.bytes);
	return FWC_ERR_IO;
}

/* ---------------------------------------------------------------- meta */

int node_db_meta_put(struct node_db *db, const char *key, const void *val, size_t len)
{
	sqlite3_stmt *s;
	int rc = FWC_ERR_IO;

	if (db == NULL || key == NULL || (val == NULL && len) || len > INT_MAX)
		return FWC_ERR_ARG;
	pthread_mutex_lock(&db->mu);
	s = stmt(&db->w, ST_META_PUT);
	if (s) {
		sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
		sqlite3_bind_blob(s, 2, len ? val : "", (int)len, SQLITE_STATIC);
		rc = sqlite3_step(s) == SQLITE_DONE ? FWC_OK : FWC_ERR_IO;
		done(s);
	}
	pthread_mutex_unlock(&db->mu);
	return rc;
}

int node_db_meta_get(struct node_db *db, char **val, size_t *len, const char *key)
{
	struct node_db_reader *r;
	sqlite3_stmt *s;
	int rc, src;

	if (db == NULL || val == NULL || len == NULL || key == NULL)
		return FWC_ERR_ARG;
	if ((rc = node_db_reader_get(db, &r)) != FWC_OK)
		return rc;
	rc = FWC_ERR_IO;
	s = stmt(&r->c, ST_META_GET);
	if (s) {
		sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
		src = sqlite3_step(s);
		if (src == SQLITE_ROW) {
			size_t n = (size_t)sqlite3_column_bytes(s, 0);
			char *copy = malloc(n + 1);

			if (copy == NULL) {
				rc = FWC_ERR_NOMEM;
			} else {
				if (n)
					memcpy(copy, sqlite3_column_blob(s, 0), n);
				copy[n] = '\0';
				*val = copy;
				*len = n;
				rc = FWC_OK;
			}
		} else if (src == SQLITE_DONE) {
			rc = FWC_ERR_NOT_FOUND;
		}
		done(s);
	}
	node_db_reader_put(r);
	return rc;
}

/* ---------------------------------------------------------------- the block write */

int node_db_write_begin(struct node_db *db, struct sqlite3 **h, struct node_state **st,
                        struct fwc_errinfo *ei)
{
	if (db == NULL)
		return FWC_ERR_ARG;
	pthread_mutex_lock(&db->mu);
	if (run(&db->w, ST_BEGIN) != SQLITE_OK) {
		int rc = io_fail(&db->w, ei, "BEGIN");

		pthread_mutex_unlock(&db->mu);
		return rc;
	}
	db->in_write = 1;
	if (h)
		*h = db->w.h;
	if (st)
		*st = &db->w.state;
	return FWC_OK;
}

void node_db_write_abort(struct node_db *db)
{
	if (db == NULL || !db->in_write)
		return;
	run(&db->w, ST_ROLLBACK);
	db->in_write = 0;
	pthread_mutex_unlock(&db->mu);
}

int node_db_write_commit(struct node_db *db, struct fwc_errinfo *ei)
{
	int rc = FWC_OK;

	if (db == NULL || !db->in_write)
		return FWC_ERR_ARG;
	/* synchronous=FULL: this COMMIT returns after the WAL is on stable storage. */
	if (run(&db->w, ST_COMMIT) != SQLITE_OK) {
		rc = io_fail(&db->w, ei, "COMMIT");
		run(&db->w, ST_ROLLBACK);
	}
	db->in_write = 0;
	pthread_mutex_unlock(&db->mu);
	return rc;
}

static int insert_tx(struct conn *c, const struct node_db_tx *t, uint64_t height)
{
	sqlite3_stmt *s = stmt(c, ST_LEAF_INSERT);
	int src;

	if (s == NULL)
		return SQLITE_ERROR;
	sqlite3_bind_int64(s, 1, (sqlite3_int64)t->leaf_index);
	sqlite3_bind_blob(s, 2, t->leaf_hash, 32, SQLITE_STATIC);
	src = sqlite3_step(s);
	done(s);
	if (src != SQLITE_DONE)
		return src;
	s = stmt(c, ST_TX_INSERT);
	if (s == NULL)
		return SQLITE_ERROR;
	sqlite3_bind_blob(s, 1, t->id, 32, SQLITE_STATIC);
	sqlite3_bind_blob(s, 2, t->len ? (const void *)t->bytes : "", (int)t->len, SQLITE_STATIC);
	sqlite3_bind_int(s, 3, t->type);
	sqlite3_bind_blob(s, 4, t->sender, (int)t->sender_len, SQLITE_STATIC);
	sqlite3_bind_int64(s, 5, (sqlite3_int64)t->nonce);
	sqlite3_bind_int64(s, 6, (sqlite3_int64)t->leaf_index);
	sqlite3_bind_int64(s, 7, (sqlite3_int64)height);
	sqlite3_bind_int(s, 8, t->status);
	sqlite3_bind_text(s, 9, t->code, (int)strnlen(t->code, sizeof(t->code)), SQLITE_STATIC);
	src = sqlite3_step(s);
	done(s);
	return src == SQLITE_DONE ? SQLITE_OK : src;
}

int node_db_write_block(struct node_db *db, const struct node_db_block *b,
                        const struct node_db_tx *txs, size_t n, struct fwc_errinfo *ei)
{
	struct node_db_block head = {0};
	uint64_t next_height = 0, next_leaf = 0;
	sqlite3_stmt *s;
	int rc, src;

	if (db == NULL || b == NULL || (txs == NULL && n) || b->checkpoint == NULL ||
	    b->checkpoint_len > INT_MAX || b->height > INT64_MAX || b->log_size > INT64_MAX ||
	    (b->subtrees == NULL && b->nsubtrees) || !db->in_write)
		return FWC_ERR_ARG;
	rc = block_query(stmt(&db->w, ST_HEAD), &head);
	if (rc == FWC_OK) {
		next_height = head.height + 1;
		next_leaf = head.log_size;
	} else if (rc != FWC_ERR_NOT_FOUND) {
		rc = io_fail(&db->w, ei, "reading the newest block");
		goto out;
	}
	if (b->height != next_height) {
		rc = fwc_fail(ei, 0, FWC_ERR_STATE, "block height %llu, expected %llu",
		              (unsigned long long)b->height, (unsigned long long)next_height);
		goto out;
	}
	if (b->tx_count != n || b->log_size != next_leaf + n) {
		rc = fwc_fail(ei, 0, FWC_ERR_STATE,
		              "block says %llu txs and log size %llu; it has %zu txs after %llu",
		              (unsigned long long)b->tx_count, (unsigned long long)b->log_size, n,
		              (unsigned long long)next_leaf);
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		if (txs[i].leaf_index != next_leaf + i || txs[i].sender_len == 0 ||
		    txs[i].sender_len > NODE_DB_SENDER_MAX || txs[i].len > INT_MAX ||
		    (txs[i].bytes == NULL && txs[i].len) || txs[i].nonce > INT64_MAX) {
			rc = fwc_fail(ei, i, FWC_ERR_STATE,
			              "transaction %zu: leaf index %llu (expected %llu) or fields"
			              " out of range",
			              i, (unsigned long long)txs[i].leaf_index,
			              (unsigned long long)(next_leaf + i));
			goto out;
		}
	}
	s = stmt(&db->w, ST_BLOCK_INSERT);
	if (s == NULL) {
		rc = io_fail(&db->w, ei, "preparing the block insert");
		goto out;
	}
	sqlite3_bind_int64(s, 1, (sqlite3_int64)b->height);
	sqlite3_bind_int64(s, 2, b->time);
	sqlite3_bind_int64(s, 3, (sqlite3_int64)b->tx_count);
	sqlite3_bind_int64(s, 4, (sqlite3_int64)b->log_size);
	sqlite3_bind_text(s, 5, b->checkpoint, (int)b->checkpoint_len, SQLITE_STATIC);
	src = sqlite3_step(s);
	done(s);
	if (src != SQLITE_DONE) {
		rc = io_fail(&db->w, ei, "inserting the block");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		src = insert_tx(&db->w, &txs[i], b->height);
		if (src == SQLITE_CONSTRAINT) {
			rc = fwc_fail(ei, i, FWC_ERR_DUPLICATE, "transaction %zu is already stored",
			              i);
			goto out;
		}
		if (src != SQLITE_OK) {
			rc = io_fail(&db->w, ei, "inserting a transaction");
			goto out;
		}
	}
	for (size_t i = 0; i < b->nsubtrees; i++) {
		const struct node_db_subtree *t = &b->subtrees[i];

		if (t->level < NODE_DB_SUBTREE_MIN_LEVEL || t->level >= 64 ||
		    t->index >= (b->log_size >> t->level)) {
			rc = fwc_fail(ei, i, FWC_ERR_STATE, "subtree %zu out of range", i);
			goto out;
		}
		if (subtree_put(&db->w, t) != SQLITE_OK) {
			rc = io_fail(&db->w, ei, "inserting a subtree");
			goto out;
		}
	}
	rc = FWC_OK;
out:
	node_db_block_cleanup(&head);
	return rc;
}

int node_db_block_commit(struct node_db *db, const struct node_db_block *b,
                         const struct node_db_tx *txs, size_t n, struct fwc_errinfo *ei)
{
	int rc;

	if (db == NULL || b == NULL || (txs == NULL && n))
		return FWC_ERR_ARG;
	rc = node_db_write_begin(db, NULL, NULL, ei);
	if (rc != FWC_OK)
		return rc;
	rc = node_db_write_block(db, b, txs, n, ei);
	if (rc != FWC_OK) {
		node_db_write_abort(db);
		return rc;
	}
	return node_db_write_commit(db, ei);
}
