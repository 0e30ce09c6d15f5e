/* fwchaind ledger persistence on SQLite.
 *
 * Durability argument: the file is in WAL mode with synchronous=FULL, so every COMMIT appends
 * the transaction's pages to the WAL and fsyncs it before returning; a crash (kill -9, power
 * loss on honest hardware) leaves either the whole transaction or none of it, and SQLite
 * recovers the WAL on the next open. node_db_block_commit writes a block (its row, every
 * transaction, every leaf, the senders' nonces) in ONE such transaction, and the node reports a
 * transaction committed only after that call returned FWC_OK. So the ledger on disk is always a
 * prefix of whole blocks.
 *
 * Other choices: STRICT tables (SQLite checks the column types); a schema_version table with an
 * ordered list of migrations, each applied in its own transaction; application_id 'fwc1' in the
 * header so a foreign SQLite file is refused; prepared statements kept for the life of the
 * handle; one connection guarded by one mutex (simple and enough for one block writer and a few
 * HTTP readers; a reader connection per thread is the upgrade path if readers ever queue). */
#include "db.h"

#include "fwchain/merkle.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define APP_ID 0x66776331 /* "fwc1" */

/* Migration i takes the schema from version i to i+1. Never edit a released entry: append. */
static const char *const migrations[NODE_DB_SCHEMA_VERSION] = {
    "CREATE TABLE meta(key TEXT PRIMARY KEY, value BLOB NOT NULL) STRICT;"
    "CREATE TABLE blocks(height INTEGER PRIMARY KEY, time INTEGER NOT NULL,"
    " tx_count INTEGER NOT NULL, log_size INTEGER NOT NULL, checkpoint TEXT NOT NULL) STRICT;"
    "CREATE TABLE leaves(idx INTEGER PRIMARY KEY, hash BLOB NOT NULL) STRICT;"
    "CREATE TABLE txs(id BLOB PRIMARY KEY, bytes BLOB NOT NULL, type INTEGER NOT NULL,"
    " sender BLOB NOT NULL, nonce INTEGER NOT NULL,"
    " leaf_index INTEGER NOT NULL UNIQUE REFERENCES leaves(idx),"
    " height INTEGER NOT NULL REFERENCES blocks(height), status INTEGER NOT NULL) STRICT;"
    "CREATE INDEX txs_by_height ON txs(height, leaf_index);"
    "CREATE TABLE nonces(sender BLOB PRIMARY KEY, nonce INTEGER NOT NULL) STRICT;",
};

enum stmt_id {
	ST_BEGIN,
	ST_COMMIT,
	ST_ROLLBACK,
	ST_BLOCK_INSERT,
	ST_LEAF_INSERT,
	ST_TX_INSERT,
	ST_NONCE_PUT,
	ST_HEAD,
	ST_BLOCK_GET,
	ST_BLOCK_TXIDS,
	ST_TX_GET,
	ST_TX_AT,
	ST_LEAVES,
	ST_NONCE_GET,
	ST_META_PUT,
	ST_META_GET,
	ST_COUNT
};

static const char *const stmt_sql[ST_COUNT] = {
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
    [ST_BLOCK_INSERT] = "INSERT INTO blocks(height, time, tx_count, log_size, checkpoint)"
                        " VALUES(?1, ?2, ?3, ?4, ?5)",
    [ST_LEAF_INSERT] = "INSERT INTO leaves(idx, hash) VALUES(?1, ?2)",
    [ST_TX_INSERT] = "INSERT INTO txs(id, bytes, type, sender, nonce, leaf_index, height, status)"
                     " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    [ST_NONCE_PUT] = "INSERT INTO nonces(sender, nonce) VALUES(?1, ?2)"
                     " ON CONFLICT(sender) DO UPDATE SET nonce = excluded.nonce",
    [ST_HEAD] = "SELECT height, time, tx_count, log_size, checkpoint FROM blocks"
                " ORDER BY height DESC LIMIT 1",
    [ST_BLOCK_GET] = "SELECT height, time, tx_count, log_size, checkpoint FROM blocks"
                     " WHERE height = ?1",
    [ST_BLOCK_TXIDS] = "SELECT id FROM txs WHERE height = ?1 ORDER BY leaf_index",
    [ST_TX_GET] = "SELECT t.bytes, t.type, t.sender, t.nonce, t.leaf_index, t.height, t.status,"
                  " l.hash FROM txs t JOIN leaves l ON l.idx = t.leaf_index WHERE t.id = ?1",
    [ST_TX_AT] = "SELECT id FROM txs WHERE leaf_index = ?1",
    [ST_LEAVES] = "SELECT idx, hash FROM leaves WHERE idx >= ?1 AND idx < ?2 ORDER BY idx",
    [ST_NONCE_GET] = "SELECT nonce FROM nonces WHERE sender = ?1",
    [ST_META_PUT] = "INSERT INTO meta(key, value) VALUES(?1, ?2)"
                    " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
    [ST_META_GET] = "SELECT value FROM meta WHERE key = ?1",
};

struct node_db {
	sqlite3 *h;
	pthread_mutex_t mu;
	sqlite3_stmt *st[ST_COUNT];
	int version;
};

/* The cached statement for id, reset and unbound, or NULL (the caller reports sqlite's error). */
static sqlite3_stmt *stmt(struct node_db *db, enum stmt_id id)
{
	if (db->st[id] == NULL) {
		if (sqlite3_prepare_v3(db->h, stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT,
		                       &db->st[id], NULL) != SQLITE_OK)
			return NULL;
	}
	return db->st[id];
}

static void done(sqlite3_stmt *s)
{
	if (s) {
		sqlite3_reset(s);
		sqlite3_clear_bindings(s);
	}
}

/* Run a statement that returns no rows. */
static int run(struct node_db *db, enum stmt_id id)
{
	sqlite3_stmt *s = stmt(db, id);
	int rc;

	if (s == NULL)
		return SQLITE_ERROR;
	rc = sqlite3_step(s);
	done(s);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static int io_fail(struct node_db *db, struct fwc_errinfo *ei, const char *what)
{
	return fwc_fail(ei, 0, FWC_ERR_IO, "%s: %s", what, sqlite3_errmsg(db->h));
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

static int migrate(struct node_db *db, int from, const char *path, struct fwc_errinfo *ei)
{
	for (int v = from; v < NODE_DB_SCHEMA_VERSION; v++) {
		char *err = NULL;
		char upd[96];
		int rc = sqlite3_exec(db->h, "BEGIN IMMEDIATE", NULL, NULL, NULL);

		if (rc == SQLITE_OK)
			rc = sqlite3_exec(db->h, migrations[v], NULL, NULL, &err);
		if (rc == SQLITE_OK) {
			snprintf(upd, sizeof(upd), "UPDATE schema_version SET version = %d", v + 1);
			rc = sqlite3_exec(db->h, upd, NULL, NULL, &err);
		}
		if (rc == SQLITE_OK)
			rc = sqlite3_exec(db->h, "COMMIT", NULL, NULL, &err);
		if (rc != SQLITE_OK) {
			fwc_fail(ei, 0, FWC_ERR_IO, "%s: migration to schema %d failed: %s", path,
			         v + 1, err ? err : sqlite3_errmsg(db->h));
			sqlite3_free(err);
			sqlite3_exec(db->h, "ROLLBACK", NULL, NULL, NULL);
			return FWC_ERR_IO;
		}
	}
	db->version = NODE_DB_SCHEMA_VERSION;
	return FWC_OK;
}

int node_db_open(struct node_db **out, const char *path, int create, struct fwc_errinfo *ei)
{
	struct node_db *db = NULL;
	struct stat st;
	sqlite3_int64 appid = 0, ntables = 0, version = 0;
	int rc, src, flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;

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
	if (pthread_mutex_init(&db->mu, NULL) != 0) {
		free(db);
		return FWC_ERR_NOMEM;
	}
	src = sqlite3_open_v2(path, &db->h, flags, NULL);
	if (src != SQLITE_OK) {
		rc = open_error(db->h, src, path, ei);
		goto fail;
	}
	sqlite3_extended_result_codes(db->h, 0);
	sqlite3_busy_timeout(db->h, 5000);
	/* The first read of the header tells a foreign or damaged file apart. */
	src = query_int(db->h, "PRAGMA application_id", &appid);
	if (src == SQLITE_OK)
		src = query_int(db->h, "SELECT count(*) FROM sqlite_master", &ntables);
	if (src != SQLITE_OK) {
		rc = open_error(db->h, src, path, ei);
		goto fail;
	}
	if (ntables > 0 && appid != APP_ID) {
		rc = fwc_fail(ei, 0, FWC_ERR_MALFORMED,
		              "%s is an SQLite database but not an fwchain ledger", path);
		goto fail;
	}
	src = sqlite3_exec(db->h,
	                   "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;"
	                   " PRAGMA foreign_keys = ON;",
	                   NULL, NULL, NULL);
	if (src == SQLITE_OK) {
		sqlite3_int64 fk = 0;
		char mode[16] = "";
		sqlite3_stmt *s = NULL;

		/* journal_mode answers with the mode in force: insist it really is WAL. */
		if (sqlite3_prepare_v2(db->h, "PRAGMA journal_mode", -1, &s, NULL) == SQLITE_OK &&
		    sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0))
			snprintf(mode, sizeof(mode), "%s", (const char *)sqlite3_column_text(s, 0));
		sqlite3_finalize(s);
		if (strcmp(mode, "wal") != 0 || query_int(db->h, "PRAGMA foreign_keys", &fk) ||
		    fk != 1) {
			rc = fwc_fail(ei, 0, FWC_ERR_IO, "%s: cannot enable WAL and foreign keys",
			              path);
			goto fail;
		}
	}
	if (src != SQLITE_OK) {
		rc = open_error(db->h, src, path, ei);
		goto fail;
	}
	if (ntables == 0) {
		src = sqlite3_exec(db->h,
		                   "BEGIN IMMEDIATE; PRAGMA application_id = 1719100209;"
		                   " CREATE TABLE schema_version(version INTEGER NOT NULL) STRICT;"
		                   " INSERT INTO schema_version VALUES(0); COMMIT;",
		                   NULL, NULL, NULL);
		if (src != SQLITE_OK) {
			rc = open_error(db->h, src, path, ei);
			sqlite3_exec(db->h, "ROLLBACK", NULL, NULL, NULL);
			goto fail;
		}
	}
	src = query_int(db->h, "SELECT version FROM schema_version", &version);
	if (src != SQLITE_OK || version < 0) {
		rc = fwc_fail(ei, 0, FWC_ERR_MALFORMED, "%s: schema version unreadable (%s)", path,
		              src == SQLITE_EMPTY ? "no row" : sqlite3_errmsg(db->h));
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
	for (int i = 0; i < ST_COUNT; i++)
		sqlite3_finalize(db->st[i]);
	sqlite3_close(db->h);
	pthread_mutex_destroy(&db->mu);
	free(db);
}

int node_db_schema_version(struct node_db *db)
{
	return db ? db->version : FWC_ERR_ARG;
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
	out->height = (uint64_t)sqlite3_column_int64(s, 0);
	out->time = sqlite3_column_int64(s, 1);
	out->tx_count = (uint64_t)sqlite3_column_int64(s, 2);
	out->log_size = (uint64_t)sqlite3_column_int64(s, 3);
	out->checkpoint = copy;
	out->checkpoint_len = len;
	return FWC_OK;
}

/* Step a block query; caller holds the lock. */
static int block_query(struct node_db *db, sqlite3_stmt *s, struct node_db_block *out)
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

/* Newest block; caller holds the lock. */
static int head_locked(struct node_db *db, struct node_db_block *out)
{
	return block_query(db, stmt(db, ST_HEAD), out);
}

int node_db_head(struct node_db *db, struct node_db_block *out)
{
	int rc;

	if (db == NULL || out == NULL)
		return FWC_ERR_ARG;
	pthread_mutex_lock(&db->mu);
	rc = head_locked(db, out);
	pthread_mutex_unlock(&db->mu);
	return rc;
}

int node_db_block_get(struct node_db *db, struct node_db_block *out, uint64_t height)
{
	sqlite3_stmt *s;
	int rc;

	if (db == NULL || out == NULL || height > INT64_MAX)
		return FWC_ERR_ARG;
	pthread_mutex_lock(&db->mu);
	s = stmt(db, ST_BLOCK_GET);
	if (s)
		sqlite3_bind_int64(s, 1, (sqlite3_int64)height);
	rc = block_query(db, s, out);
	pthread_mutex_unlock(&db->mu);
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
	uint8_t(*arr)[32] = NULL;
	size_t count = 0;
	sqlite3_stmt *s;
	int rc, src;

	if (db == NULL || ids == NULL || n == NULL || height > INT64_MAX)
		return FWC_ERR_ARG;
	pthread_mutex_lock(&db->mu);
	s = stmt(db, ST_BLOCK_GET);
	if (s)
		sqlite3_bind_int64(s, 1, (sqlite3_int64)height);
	rc = block_query(db, s, &b);
	if (rc != FWC_OK)
		goto out;
	/* tx_count bounds the array; a block never holds more rows than it says. */
	arr = malloc((b.tx_count ? b.tx_count : 1) * sizeof(*arr));
	if (arr == NULL) {
		rc = FWC_ERR_NOMEM;
		goto out;
	}
	s = stmt(db, ST_BLOCK_TXIDS);
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
	pthread_mutex_unlock(&db->mu);
	node_db_block_cleanup(&b);
	if (rc == FWC_OK) {
		*ids = arr;
		*n = count;
	} else {
		free(arr);
	}
	return rc;
}

int node_db_tx_get(struct node_db *db, struct node_db_tx *out, const uint8_t id[32])
{
	sqlite3_stmt *s;
	int rc = FWC_ERR_IO, src;

	if (db == NULL || out == NULL || id == NULL)
		return FWC_ERR_ARG;
	pthread_mutex_lock(&db->mu);
	s = stmt(db, ST_TX_GET);
	if (s == NULL)
		goto out;
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
		rc = FWC_OK;
	} else if (src == SQLITE_DONE) {
		rc = FWC_ERR_NOT_FOUND;
	}
done:
	done(s);
out:
	pthread_mutex_unlock(&db->mu);
	return rc;
}

int node_db_tx_id_at(struct node_db *db, uint8_t id[32], uint64_t leaf_index)
{
	sqlite3_stmt *s;
	int rc = FWC_ERR_IO, src;

	if (db == NULL || id == NULL || leaf_index > INT64_MAX)
		return FWC_ERR_ARG;
	pthread_mutex_lock(&db->mu);
	s = stmt(db, ST_TX_AT);
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
	pthread_mutex_unlock(&db->mu);
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

int node_db_leaves_get(struct node_db *db, uint8_t (*out)[32], uint64_t start, uint64_t count)
{
	sqlite3_stmt *s;
	uint64_t got = 0;
	int rc = FWC_ERR_IO, src;

	if (db == NULL || (out == NULL && count) || start > INT64_MAX || count > INT64_MAX - start)
		return FWC_ERR_ARG;
	if (count == 0)
		return FWC_OK;
	pthread_mutex_lock(&db->mu);
	s = stmt(db, ST_LEAVES);
	if (s) {
		sqlite3_bind_int64(s, 1, (sqlite3_int64)start);
		sqlite3_bind_int64(s, 2, (sqlite3_int64)(start + count));
		while ((src = sqlite3_step(s)) == SQLITE_ROW) {
			/* Rows must be exactly start, start+1, ...: a gap is a damaged ledger. */
			if ((uint64_t)sqlite3_column_int64(s, 0) != start + got ||
			    sqlite3_column_bytes(s, 1) != 32)
				break;
			memcpy(out[got++], sqlite3_column_blob(s, 1), 32);
		}
		if (src == SQLITE_ROW)
			rc = FWC_ERR_MALFORMED;
		else if (src == SQLITE_DONE)
			rc = got == count ? FWC_OK : FWC_ERR_NOT_FOUND;
		done(s);
	}
	pthread_mutex_unlock(&db->mu);
	return rc;
}

static int leaf_cb(void *ctx, uint8_t out[FWC_MERKLE_HASH_LEN], uint64_t index)
{
	return node_db_leaves_get(ctx, (uint8_t(*)[32])out, index, 1);
}

void node_db_merkle_source(struct node_db *db, struct fwc_merkle_source *src)
{
	src->leaf = leaf_cb;
	src->subtree = NULL;
	src->ctx = db;
}

int node_db_nonce_get(struct node_db *db, uint64_t *nonce, const uint8_t *sender, size_t len)
{
	sqlite3_stmt *s;
	int rc = FWC_ERR_IO, src;

	if (db == NULL || nonce == NULL || sender == NULL || len == 0 || len > NODE_DB_SENDER_MAX)
		return FWC_ERR_ARG;
	pthread_mutex_lock(&db->mu);
	s = stmt(db, ST_NONCE_GET);
	if (s) {
		sqlite3_bind_blob(s, 1, sender, (int)len, SQLITE_STATIC);
		src = sqlite3_step(s);
		if (src == SQLITE_ROW) {
			*nonce = (uint64_t)sqlite3_column_int64(s, 0);
			rc = FWC_OK;
		} else if (src == SQLITE_DONE) {
			rc = FWC_ERR_NOT_FOUND;
		}
		done(s);
	}
	pthread_mutex_unlock(&db->mu);
	return rc;
}

int node_db_meta_put(struct node_db *db, const char *key, const void *val, size_t len)
{
	sqlite3_stmt *s;
	int rc = FWC_ERR_IO;

	if (db == NULL || key == NULL || (val == NULL && len) || len > INT_MAX)
		return FWC_ERR_ARG;
	pthread_mutex_lock(&db->mu);
	s = stmt(db, ST_META_PUT);
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
	sqlite3_stmt *s;
	int rc = FWC_ERR_IO, src;

	if (db == NULL || val == NULL || len == NULL || key == NULL)
		return FWC_ERR_ARG;
	pthread_mutex_lock(&db->mu);
	s = stmt(db, ST_META_GET);
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
	pthread_mutex_unlock(&db->mu);
	return rc;
}

/* ---------------------------------------------------------------- the block write */

static int insert_tx(struct node_db *db, const struct node_db_tx *t, uint64_t height)
{
	sqlite3_stmt *s = stmt(db, ST_LEAF_INSERT);
	int src;

	if (s == NULL)
		return SQLITE_ERROR;
	sqlite3_bind_int64(s, 1, (sqlite3_int64)t->leaf_index);
	sqlite3_bind_blob(s, 2, t->leaf_hash, 32, SQLITE_STATIC);
	src = sqlite3_step(s);
	done(s);
	if (src != SQLITE_DONE)
		return src;
	s = stmt(db, ST_TX_INSERT);
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
	src = sqlite3_step(s);
	done(s);
	if (src != SQLITE_DONE)
		return src;
	s = stmt(db, ST_NONCE_PUT);
	if (s == NULL)
		return SQLITE_ERROR;
	sqlite3_bind_blob(s, 1, t->sender, (int)t->sender_len, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)t->nonce);
	src = sqlite3_step(s);
	done(s);
	return src == SQLITE_DONE ? SQLITE_OK : src;
}

int node_db_block_commit(struct node_db *db, const struct node_db_block *b,
                         const struct node_db_tx *txs, size_t n, struct fwc_errinfo *ei)
{
	struct node_db_block head = {0};
	uint64_t next_height = 0, next_leaf = 0;
	sqlite3_stmt *s;
	int rc, src, in_txn = 0;

	if (db == NULL || b == NULL || (txs == NULL && n) || b->checkpoint == NULL ||
	    b->checkpoint_len > INT_MAX || b->height > INT64_MAX || b->log_size > INT64_MAX)
		return FWC_ERR_ARG;
	pthread_mutex_lock(&db->mu);
	rc = head_locked(db, &head);
	if (rc == FWC_OK) {
		next_height = head.height + 1;
		next_leaf = head.log_size;
	} else if (rc != FWC_ERR_NOT_FOUND) {
		rc = io_fail(db, ei, "reading the newest block");
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

	src = run(db, ST_BEGIN);
	if (src != SQLITE_OK) {
		rc = io_fail(db, ei, "BEGIN");
		goto out;
	}
	in_txn = 1;
	s = stmt(db, ST_BLOCK_INSERT);
	if (s == NULL) {
		rc = io_fail(db, ei, "preparing the block insert");
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
		rc = io_fail(db, ei, "inserting the block");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		src = insert_tx(db, &txs[i], b->height);
		if (src == SQLITE_CONSTRAINT) {
			rc = fwc_fail(ei, i, FWC_ERR_DUPLICATE, "transaction %zu is already stored",
			              i);
			goto out;
		}
		if (src != SQLITE_OK) {
			rc = io_fail(db, ei, "inserting a transaction");
			goto out;
		}
	}
	/* synchronous=FULL: this COMMIT returns after the WAL is on stable storage. */
	src = run(db, ST_COMMIT);
	if (src != SQLITE_OK) {
		rc = io_fail(db, ei, "COMMIT");
		goto out;
	}
	in_txn = 0;
	rc = FWC_OK;
out:
	if (in_txn)
		run(db, ST_ROLLBACK);
	pthread_mutex_unlock(&db->mu);
	node_db_block_cleanup(&head);
	return rc;
}
