/* The ledger state machine: typed, signed transactions applied to SQLite tables.
 *
 * One call applies one transaction inside the caller's SQLite transaction (the block). The
 * common checks (envelope, chain id, signature, sender, nonce, time window) come first and
 * reject without a trace; everything after runs inside a savepoint, so a rule that refuses
 * rolls back every write of the transaction, after which only its nonce and an audit row are
 * recorded (a "failed" transaction, kept in the log). Determinism is by construction: the only
 * inputs are the database, the transaction bytes and the block time; every query that feeds a
 * decision either returns one row by key or has an ORDER BY. Statements are prepared once per
 * connection and cached in struct node_state. Rules and codes: docs/state-machine.md. */
#include "state.h"

#include "fwchain/hex.h"
#include "fwchain/keyset.h"
#include "fwchain/manifest.h"
#include "fwchain/payload.h"
#include "fwchain/sha256.h"
#include "fwchain/tx.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUTURE_SKEW 600           /* a transaction may be dated this far after the block */
#define MAX_AGE 86400             /* and at most this far before it */
#define POSTPONE_MAX (90 * 86400) /* the longest postponement */
#define QUERY_LIMIT_MAX 1000

#define SP_NAME "node_state_tx"

/* ---------------------------------------------------------------------------------------- */
/* Schema                                                                                   */

static const char schema_sql[] =
    "CREATE TABLE IF NOT EXISTS state_meta(k TEXT PRIMARY KEY, v BLOB NOT NULL);"
    "CREATE TABLE IF NOT EXISTS state_orgs(id TEXT PRIMARY KEY, name TEXT NOT NULL,"
    " created INTEGER NOT NULL, txid BLOB);"
    "CREATE TABLE IF NOT EXISTS state_members(key BLOB PRIMARY KEY, org TEXT NOT NULL,"
    " roles INTEGER NOT NULL, label TEXT, since INTEGER NOT NULL);"
    "CREATE INDEX IF NOT EXISTS state_members_org ON state_members(org, key);"
    "CREATE TABLE IF NOT EXISTS state_nonces(key BLOB PRIMARY KEY, nonce INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS state_revoked(key BLOB PRIMARY KEY, org TEXT NOT NULL,"
    " reason TEXT NOT NULL, time INTEGER NOT NULL, txid BLOB NOT NULL);"
    "CREATE TABLE IF NOT EXISTS state_products(id TEXT PRIMARY KEY, org TEXT NOT NULL,"
    " name TEXT NOT NULL, root_set BLOB NOT NULL, root_version INTEGER NOT NULL,"
    " release_set BLOB, release_version INTEGER NOT NULL, created INTEGER NOT NULL);"
    "CREATE INDEX IF NOT EXISTS state_products_org ON state_products(org, id);"
    /* Every version of every key set, with the statement that set it (NULL for the root set
     * given at registration): proof bundles hand devices this chain. */
    "CREATE TABLE IF NOT EXISTS state_keysets(product TEXT NOT NULL, kind INTEGER NOT NULL,"
    " version INTEGER NOT NULL, keyset BLOB NOT NULL, statement BLOB, txid BLOB NOT NULL,"
    " time INTEGER NOT NULL, height INTEGER NOT NULL, PRIMARY KEY(product, kind, version));"
    /* Every key that is or was in a set of a product (ownership for KEY_REVOKE). */
    "CREATE TABLE IF NOT EXISTS state_product_keys(key BLOB NOT NULL, product TEXT NOT NULL,"
    " PRIMARY KEY(key, product));"
    "CREATE TABLE IF NOT EXISTS state_devices(key BLOB PRIMARY KEY, product TEXT NOT NULL,"
    " hwid TEXT NOT NULL, region TEXT NOT NULL, attrs BLOB, counter INTEGER NOT NULL,"
    " release BLOB, last_seq INTEGER NOT NULL, retired INTEGER NOT NULL,"
    " registered INTEGER NOT NULL, txid BLOB NOT NULL);"
    "CREATE INDEX IF NOT EXISTS state_devices_product ON state_devices(product, key);"
    "CREATE TABLE IF NOT EXISTS state_device_groups(device BLOB NOT NULL, grp TEXT NOT NULL,"
    " product TEXT NOT NULL, PRIMARY KEY(device, grp));"
    "CREATE INDEX IF NOT EXISTS state_device_groups_grp ON state_device_groups(product, grp,"
    " device);"
    "CREATE TABLE IF NOT EXISTS state_releases(id BLOB PRIMARY KEY, product TEXT NOT NULL,"
    " channel TEXT NOT NULL, counter INTEGER NOT NULL, version TEXT NOT NULL,"
    " cid BLOB NOT NULL, size INTEGER NOT NULL, sha256 BLOB NOT NULL, manifest BLOB NOT NULL,"
    " time INTEGER NOT NULL, height INTEGER NOT NULL, txid BLOB NOT NULL,"
    " rollout INTEGER NOT NULL DEFAULT 0, revoked INTEGER NOT NULL DEFAULT 0,"
    " revoke_reason TEXT, revoke_time INTEGER);"
    "CREATE UNIQUE INDEX IF NOT EXISTS state_releases_pcc ON state_releases(product, channel,"
    " counter);"
    /* After each block the node pins the content of the block's releases (node/main.c): by
     * height, not by a scan of every release. */
    "CREATE INDEX IF NOT EXISTS state_releases_height ON state_releases(height);"
    "CREATE TABLE IF NOT EXISTS state_release_hw(release BLOB NOT NULL, hwid TEXT NOT NULL,"
    " PRIMARY KEY(release, hwid)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS state_events(device BLOB NOT NULL, seq INTEGER NOT NULL,"
    " product TEXT NOT NULL, kind INTEGER NOT NULL, device_time INTEGER NOT NULL,"
    " release BLOB, counter INTEGER, detail TEXT NOT NULL, relay BLOB NOT NULL,"
    " time INTEGER NOT NULL, height INTEGER NOT NULL, txid BLOB NOT NULL,"
    " PRIMARY KEY(device, seq));"
    "CREATE INDEX IF NOT EXISTS state_events_product ON state_events(product, time);"
    "CREATE TABLE IF NOT EXISTS state_postponements(target_kind INTEGER NOT NULL,"
    " target BLOB NOT NULL, release BLOB NOT NULL, until INTEGER NOT NULL, reason TEXT NOT NULL,"
    " time INTEGER NOT NULL, txid BLOB NOT NULL, PRIMARY KEY(target_kind, target, release));"
    /* The check-in (node/updates.c) asks for a release's postponements and a device's
     * licences. */
    "CREATE INDEX IF NOT EXISTS state_postponements_release ON state_postponements(release,"
    " until);"
    "CREATE TABLE IF NOT EXISTS state_config(product TEXT NOT NULL, scope INTEGER NOT NULL,"
    " target BLOB NOT NULL, name TEXT NOT NULL, value BLOB, version INTEGER NOT NULL,"
    " time INTEGER NOT NULL, txid BLOB NOT NULL, PRIMARY KEY(product, scope, target, name));"
    "CREATE TABLE IF NOT EXISTS state_licences(product TEXT NOT NULL, id TEXT NOT NULL,"
    " device BLOB, feature TEXT NOT NULL, not_before INTEGER NOT NULL,"
    " not_after INTEGER NOT NULL, revoked INTEGER NOT NULL DEFAULT 0, revoke_reason TEXT,"
    " time INTEGER NOT NULL, txid BLOB NOT NULL, PRIMARY KEY(product, id));"
    "CREATE INDEX IF NOT EXISTS state_licences_device ON state_licences(device, product);"
    "CREATE TABLE IF NOT EXISTS state_validator_sets(version INTEGER PRIMARY KEY,"
    " quorum INTEGER NOT NULL, payload BLOB NOT NULL, time INTEGER NOT NULL,"
    " txid BLOB NOT NULL);"
    "CREATE TABLE IF NOT EXISTS state_audit(seq INTEGER PRIMARY KEY, height INTEGER NOT NULL,"
    " time INTEGER NOT NULL, txid BLOB NOT NULL, type INTEGER NOT NULL, sender BLOB NOT NULL,"
    " org TEXT NOT NULL, product TEXT NOT NULL, subject TEXT NOT NULL,"
    " refusal TEXT NOT NULL);"
    "CREATE INDEX IF NOT EXISTS state_audit_org ON state_audit(org, seq);"
    "CREATE INDEX IF NOT EXISTS state_audit_sender ON state_audit(sender, seq);"
    "CREATE INDEX IF NOT EXISTS state_audit_product ON state_audit(product, seq);"
    "CREATE INDEX IF NOT EXISTS state_audit_time ON state_audit(time, seq);";

int node_state_schema(sqlite3 *db)
{
	if (db == NULL)
		return FWC_ERR_ARG;
	return sqlite3_exec(db, schema_sql, NULL, NULL, NULL) == SQLITE_OK ? FWC_OK : FWC_ERR_IO;
}

/* ---------------------------------------------------------------------------------------- */
/* Statement cache and binding                                                              */

enum {
	Q_SAVEPOINT,
	Q_SP_RELEASE,
	Q_SP_ROLLBACK,
	Q_META_GET,
	Q_META_PUT,
	Q_NONCE_GET,
	Q_NONCE_PUT,
	Q_REVOKED_GET,
	Q_REVOKED_PUT,
	Q_MEMBER_GET,
	Q_MEMBER_PUT,
	Q_MEMBER_DEL,
	Q_ADMIN_COUNT,
	Q_ORG_GET,
	Q_ORG_PUT,
	Q_PRODUCT_GET,
	Q_PRODUCT_PUT,
	Q_PRODUCT_SET_ROOT,
	Q_PRODUCT_SET_RELEASE,
	Q_KEYSET_PUT,
	Q_PKEY_PUT,
	Q_PKEY_OWNED,
	Q_PKEY_PRODUCTS,
	Q_DEVICE_GET,
	Q_DEVICE_PUT,
	Q_DEVICE_UPDATE,
	Q_DEVICE_EVENTSTATE,
	Q_GROUPS_DEL,
	Q_GROUP_PUT,
	Q_RELEASE_GET,
	Q_RELEASE_MAXCTR,
	Q_RELEASE_PUT,
	Q_RELEASE_HW_PUT,
	Q_RELEASE_REVOKE,
	Q_RELEASE_ROLLOUT,
	Q_EVENT_PUT,
	Q_POSTPONE_PUT,
	Q_CONFIG_GET,
	Q_CONFIG_PUT,
	Q_LICENCE_GET,
	Q_LICENCE_PUT,
	Q_LICENCE_REVOKE,
	Q_VSET_LAST,
	Q_VSET_PUT,
	Q_AUDIT_PUT,
	/* queries */
	Q_RELEASES,
	Q_RELEASES_CHANNEL,
	Q_RELEASE_LATEST,
	Q_RELEASE_BY_ID,
	Q_DEVICES,
	Q_DEVICES_GROUP,
	Q_DEVICE_ONE,
	Q_DEVICE_EVENTS,
	Q_EVENTS,
	Q_AUDIT,
	Q_COUNT
};

#define RELEASE_COLS                                                                               \
	"id, product, channel, version, counter, cid, size, sha256, rollout, revoked, time, "      \
	"height, manifest, txid"
#define DEVICE_COLS                                                                                \
	"d.key, d.product, d.hwid, d.region, d.attrs, d.counter, d.last_seq, d.retired, "          \
	"d.registered, (SELECT coalesce(group_concat(grp, ','), '') FROM (SELECT grp FROM "        \
	"state_device_groups g WHERE g.device = d.key ORDER BY grp))"
#define EVENT_COLS                                                                                 \
	"device, product, seq, kind, device_time, release, counter, detail, relay, time, height"

static const char *const sql[Q_COUNT] = {
    [Q_SAVEPOINT] = "SAVEPOINT " SP_NAME,
    [Q_SP_RELEASE] = "RELEASE " SP_NAME,
    [Q_SP_ROLLBACK] = "ROLLBACK TO " SP_NAME,
    [Q_META_GET] = "SELECT v FROM state_meta WHERE k = ?1",
    [Q_META_PUT] = "INSERT OR REPLACE INTO state_meta(k, v) VALUES(?1, ?2)",
    [Q_NONCE_GET] = "SELECT nonce FROM state_nonces WHERE key = ?1",
    [Q_NONCE_PUT] = "INSERT OR REPLACE INTO state_nonces(key, nonce) VALUES(?1, ?2)",
    [Q_REVOKED_GET] = "SELECT 1 FROM state_revoked WHERE key = ?1",
    [Q_REVOKED_PUT] = "INSERT INTO state_revoked(key, org, reason, time, txid) "
                      "VALUES(?1, ?2, ?3, ?4, ?5)",
    [Q_MEMBER_GET] = "SELECT org, roles FROM state_members WHERE key = ?1",
    [Q_MEMBER_PUT] = "INSERT INTO state_members(key, org, roles, label, since) "
                     "VALUES(?1, ?2, ?3, ?4, ?5) ON CONFLICT(key) DO UPDATE SET "
                     "roles = excluded.roles, label = coalesce(excluded.label, label)",
    [Q_MEMBER_DEL] = "DELETE FROM state_members WHERE key = ?1",
    [Q_ADMIN_COUNT] = "SELECT count(*) FROM state_members WHERE org = ?1 AND (roles & 1) != 0",
    [Q_ORG_GET] = "SELECT 1 FROM state_orgs WHERE id = ?1",
    [Q_ORG_PUT] = "INSERT INTO state_orgs(id, name, created, txid) VALUES(?1, ?2, ?3, ?4)",
    [Q_PRODUCT_GET] = "SELECT org, root_set, root_version, release_set, release_version "
                      "FROM state_products WHERE id = ?1",
    [Q_PRODUCT_PUT] = "INSERT INTO state_products(id, org, name, root_set, root_version, "
                      "release_set, release_version, created) VALUES(?1, ?2, ?3, ?4, 1, NULL, "
                      "0, ?5)",
    [Q_PRODUCT_SET_ROOT] = "UPDATE state_products SET root_set = ?2, root_version = ?3 "
                           "WHERE id = ?1",
    [Q_PRODUCT_SET_RELEASE] = "UPDATE state_products SET release_set = ?2, "
                              "release_version = ?3 WHERE id = ?1",
    [Q_KEYSET_PUT] = "INSERT INTO state_keysets(product, kind, version, keyset, statement, "
                     "txid, time, height) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    [Q_PKEY_PUT] = "INSERT OR IGNORE INTO state_product_keys(key, product) VALUES(?1, ?2)",
    [Q_PKEY_OWNED] = "SELECT 1 FROM state_product_keys k JOIN state_products p ON "
                     "p.id = k.product WHERE k.key = ?1 AND p.org = ?2 LIMIT 1",
    [Q_PKEY_PRODUCTS] = "SELECT product FROM state_product_keys WHERE key = ?1 "
                        "ORDER BY product",
    [Q_DEVICE_GET] = "SELECT product, hwid, retired, last_seq, counter FROM state_devices "
                     "WHERE key = ?1",
    [Q_DEVICE_PUT] = "INSERT INTO state_devices(key, product, hwid, region, attrs, counter, "
                     "release, last_seq, retired, registered, txid) VALUES(?1, ?2, ?3, ?4, ?5, "
                     "?6, NULL, 0, 0, ?7, ?8)",
    [Q_DEVICE_UPDATE] = "UPDATE state_devices SET region = ?2, attrs = ?3, retired = ?4 "
                        "WHERE key = ?1",
    [Q_DEVICE_EVENTSTATE] = "UPDATE state_devices SET last_seq = ?2, counter = ?3, "
                            "release = coalesce(?4, release) WHERE key = ?1",
    [Q_GROUPS_DEL] = "DELETE FROM state_device_groups WHERE device = ?1",
    [Q_GROUP_PUT] = "INSERT INTO state_device_groups(device, grp, product) VALUES(?1, ?2, ?3)",
    [Q_RELEASE_GET] = "SELECT r.product, p.org, r.revoked, r.rollout, r.counter FROM "
                      "state_releases r JOIN state_products p ON p.id = r.product "
                      "WHERE r.id = ?1",
    [Q_RELEASE_MAXCTR] = "SELECT max(counter) FROM state_releases WHERE product = ?1 AND "
                         "channel = ?2",
    [Q_RELEASE_PUT] = "INSERT INTO state_releases(id, product, channel, version, counter, cid, "
                      "size, sha256, manifest, time, height, txid) VALUES(?1, ?2, ?3, ?4, ?5, "
                      "?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    [Q_RELEASE_HW_PUT] = "INSERT OR IGNORE INTO state_release_hw(release, hwid) VALUES(?1, ?2)",
    [Q_RELEASE_REVOKE] = "UPDATE state_releases SET revoked = 1, revoke_reason = ?2, "
                         "revoke_time = ?3 WHERE id = ?1",
    [Q_RELEASE_ROLLOUT] = "UPDATE state_releases SET rollout = ?2 WHERE id = ?1",
    [Q_EVENT_PUT] = "INSERT INTO state_events(device, seq, product, kind, device_time, release, "
                    "counter, detail, relay, time, height, txid) VALUES(?1, ?2, ?3, ?4, ?5, ?6, "
                    "?7, ?8, ?9, ?10, ?11, ?12)",
    [Q_POSTPONE_PUT] = "INSERT OR REPLACE INTO state_postponements(target_kind, target, release, "
                       "until, reason, time, txid) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [Q_CONFIG_GET] = "SELECT value IS NOT NULL, version FROM state_config WHERE product = ?1 "
                     "AND scope = ?2 AND target = ?3 AND name = ?4",
    [Q_CONFIG_PUT] = "INSERT OR REPLACE INTO state_config(product, scope, target, name, value, "
                     "version, time, txid) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    [Q_LICENCE_GET] = "SELECT revoked FROM state_licences WHERE product = ?1 AND id = ?2",
    [Q_LICENCE_PUT] = "INSERT INTO state_licences(product, id, device, feature, not_before, "
                      "not_after, time, txid) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    [Q_LICENCE_REVOKE] = "UPDATE state_licences SET revoked = 1, revoke_reason = ?3 WHERE "
                         "product = ?1 AND id = ?2",
    [Q_VSET_LAST] = "SELECT coalesce(max(version), 0) FROM state_validator_sets",
    [Q_VSET_PUT] = "INSERT INTO state_validator_sets(version, quorum, payload, time, txid) "
                   "VALUES(?1, ?2, ?3, ?4, ?5)",
    [Q_AUDIT_PUT] = "INSERT INTO state_audit(height, time, txid, type, sender, org, product, "
                    "subject, refusal) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    [Q_RELEASES] = "SELECT " RELEASE_COLS " FROM state_releases WHERE product = ?1 "
                   "ORDER BY counter DESC, channel",
    [Q_RELEASES_CHANNEL] = "SELECT " RELEASE_COLS " FROM state_releases WHERE product = ?1 "
                           "AND channel = ?2 ORDER BY counter DESC",
    /* The hot path: walks the (product, channel, counter) index from the top and stops at
     * the first release that lists the hardware id. */
    [Q_RELEASE_LATEST] = "SELECT " RELEASE_COLS " FROM state_releases r WHERE product = ?1 "
                         "AND channel = ?2 AND counter > ?3 AND revoked = 0 AND rollout = 0 "
                         "AND EXISTS (SELECT 1 FROM state_release_hw h WHERE h.release = r.id "
                         "AND h.hwid = ?4) ORDER BY counter DESC LIMIT 1",
    [Q_RELEASE_BY_ID] = "SELECT " RELEASE_COLS " FROM state_releases WHERE id = ?1",
    [Q_DEVICES] = "SELECT " DEVICE_COLS " FROM state_devices d WHERE d.product = ?1 AND "
                  "d.key > ?2 ORDER BY d.key LIMIT ?3",
    [Q_DEVICES_GROUP] = "SELECT " DEVICE_COLS " FROM state_device_groups g0 JOIN "
                        "state_devices d ON d.key = g0.device WHERE g0.product = ?1 AND "
                        "g0.grp = ?4 AND g0.device > ?2 ORDER BY g0.device LIMIT ?3",
    [Q_DEVICE_ONE] = "SELECT " DEVICE_COLS " FROM state_devices d WHERE d.key = ?1",
    [Q_DEVICE_EVENTS] = "SELECT " EVENT_COLS " FROM state_events WHERE device = ?1 AND "
                        "seq < ?2 ORDER BY seq DESC LIMIT ?3",
    [Q_EVENTS] = "SELECT " EVENT_COLS " FROM state_events WHERE product = ?1 AND time >= ?2 "
                 "AND time <= ?3 AND (?4 = 0 OR kind = ?4) ORDER BY time, device, seq LIMIT ?5",
    [Q_AUDIT] = "SELECT seq, height, time, txid, type, sender, org, product, subject, refusal "
                "FROM state_audit WHERE seq > ?1 AND (?2 IS NULL OR org = ?2) AND "
                "(?3 IS NULL OR product = ?3) AND (?4 IS NULL OR sender = ?4) AND "
                "(?5 < 0 OR type = ?5) AND time >= ?6 AND time <= ?7 AND "
                "(?8 < 0 OR (refusal != '') = ?8) ORDER BY seq LIMIT ?9",
};

_Static_assert(Q_COUNT <= sizeof(((struct node_state *)0)->stmts) / sizeof(void *),
               "struct node_state has room for every cached statement");

/* The cached statement id, reset and with no bindings; NULL when it cannot be prepared. */
static sqlite3_stmt *stmt_get(struct node_state *st, int id)
{
	sqlite3_stmt *s = st->stmts[id];

	if (s == NULL) {
		if (sqlite3_prepare_v3(st->db, sql[id], -1, SQLITE_PREPARE_PERSISTENT, &s, NULL) !=
		    SQLITE_OK)
			return NULL;
		st->stmts[id] = s;
	}
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return s;
}

/* Bind parameters by a format: 'i' int64, 'u' uint64 (stored as int64: values above
 * INT64_MAX are refused by the callers), 's' NUL-terminated text, 't' (text, length),
 * 'b' (blob, length; NULL pointer binds NULL), 'h' 32-byte blob, 'k' struct fwc_pubkey *
 * (its 33-byte binary form), 'o' (int present, int64 value: NULL when not present), 'n' NULL. */
static sqlite3_stmt *q_bind(struct node_state *st, int id, const char *fmt, va_list ap)
{
	sqlite3_stmt *s = stmt_get(st, id);
	int i, rc = SQLITE_OK;

	if (s == NULL)
		return NULL;
	for (i = 1; *fmt && rc == SQLITE_OK; fmt++, i++) {
		switch (*fmt) {
		case 'i':
			rc = sqlite3_bind_int64(s, i, va_arg(ap, int64_t));
			break;
		case 'u':
			rc = sqlite3_bind_int64(s, i, (int64_t)va_arg(ap, uint64_t));
			break;
		case 's': {
			const char *t = va_arg(ap, const char *);

			rc = t ? sqlite3_bind_text(s, i, t, -1, SQLITE_STATIC)
			       : sqlite3_bind_null(s, i);
			break;
		}
		case 't': {
			const char *t = va_arg(ap, const char *);
			size_t n = va_arg(ap, size_t);

			rc = sqlite3_bind_text(s, i, t ? t : "", (int)n, SQLITE_STATIC);
			break;
		}
		case 'b': {
			const void *b = va_arg(ap, const void *);
			size_t n = va_arg(ap, size_t);

			rc = b ? sqlite3_bind_blob(s, i, b, (int)n, SQLITE_STATIC)
			       : sqlite3_bind_null(s, i);
			break;
		}
		case 'h': {
			const uint8_t *h = va_arg(ap, const uint8_t *);

			rc = h ? sqlite3_bind_blob(s, i, h, 32, SQLITE_STATIC)
			       : sqlite3_bind_null(s, i);
			break;
		}
		case 'k': {
			const struct fwc_pubkey *pk = va_arg(ap, const struct fwc_pubkey *);
			uint8_t bin[FWC_PUBKEY_BIN_LEN];

			if (pk == NULL) {
				rc = sqlite3_bind_null(s, i);
				break;
			}
			(void)fwc_pubkey_to_bin(bin, pk);
			/* The stack copy dies with this frame: let SQLite copy it. */
			rc = sqlite3_bind_blob(s, i, bin, sizeof(bin), SQLITE_TRANSIENT);
			break;
		}
		case 'o': {
			int has = va_arg(ap, int);
			int64_t v = va_arg(ap, int64_t);

			rc = has ? sqlite3_bind_int64(s, i, v) : sqlite3_bind_null(s, i);
			break;
		}
		case 'n':
			rc = sqlite3_bind_null(s, i);
			break;
		default:
			rc = SQLITE_MISUSE;
		}
	}
	return rc == SQLITE_OK ? s : NULL;
}

static sqlite3_stmt *q(struct node_state *st, int id, const char *fmt, ...)
{
	sqlite3_stmt *s;
	va_list ap;

	va_start(ap, fmt);
	s = q_bind(st, id, fmt, ap);
	va_end(ap);
	return s;
}

/* Run a statement that returns no rows. FWC_OK or FWC_ERR_IO. */
static int qexec(struct node_state *st, int id, const char *fmt, ...)
{
	sqlite3_stmt *s;
	va_list ap;
	int rc;

	va_start(ap, fmt);
	s = q_bind(st, id, fmt, ap);
	va_end(ap);
	if (s == NULL)
		return FWC_ERR_IO;
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? FWC_OK : FWC_ERR_IO;
}

/* Step a bound statement for at most one row: 1 row (the caller reads and resets), 0 none
 * (reset done), FWC_ERR_IO on error. */
static int qrow(sqlite3_stmt *s)
{
	int rc;

	if (s == NULL)
		return FWC_ERR_IO;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		return 1;
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? 0 : FWC_ERR_IO;
}

static void key_bin(uint8_t out[FWC_PUBKEY_BIN_LEN], const struct fwc_pubkey *pk)
{
	(void)fwc_pubkey_to_bin(out, pk);
}

static void col_text(char *out, size_t cap, sqlite3_stmt *s, int col)
{
	const unsigned char *t = sqlite3_column_text(s, col);
	size_t n = (size_t)sqlite3_column_bytes(s, col);

	if (t == NULL || cap == 0) {
		if (cap)
			out[0] = '\0';
		return;
	}
	if (n >= cap)
		n = cap - 1;
	memcpy(out, t, n);
	out[n] = '\0';
}

/* ---------------------------------------------------------------------------------------- */
/* Lifecycle                                                                                */

int node_state_open(struct node_state *st, sqlite3 *db)
{
	sqlite3_stmt *s;
	int rc;

	if (st == NULL || db == NULL)
		return FWC_ERR_ARG;
	memset(st, 0, sizeof(*st));
	st->db = db;
	s = q(st, Q_META_GET, "s", "chain_id");
	if ((rc = qrow(s)) < 0) {
		node_state_close(st);
		return FWC_ERR_IO;
	}
	if (rc == 1) {
		size_t n = (size_t)sqlite3_column_bytes(s, 0);
		const void *v = sqlite3_column_blob(s, 0);

		if (n > NODE_STATE_CHAIN_ID_MAX || v == NULL) {
			sqlite3_reset(s);
			node_state_close(st);
			return FWC_ERR_IO;
		}
		memcpy(st->chain_id, v, n);
		st->chain_id_len = n;
		sqlite3_reset(s);
	}
	return FWC_OK;
}

void node_state_close(struct node_state *st)
{
	size_t i;

	if (st == NULL)
		return;
	for (i = 0; i < sizeof(st->stmts) / sizeof(st->stmts[0]); i++) {
		if (st->stmts[i])
			sqlite3_finalize(st->stmts[i]);
		st->stmts[i] = NULL;
	}
	free(st->ks_cache);
	st->ks_cache = NULL;
	st->db = NULL;
}

void node_state_set_height(struct node_state *st, uint64_t height)
{
	if (st)
		st->height = height;
}

/* ---------------------------------------------------------------------------------------- */
/* Refusals                                                                                 */

static int set_why(struct node_refusal *why, int kind, int rc, const char *code, const char *fmt,
                   va_list ap)
{
	if (why != NULL) {
		why->kind = kind;
		snprintf(why->code, sizeof(why->code), "%s", code);
		vsnprintf(why->msg, sizeof(why->msg), fmt, ap);
	}
	return rc;
}

static int why_fail(struct node_refusal *why, int kind, int rc, const char *code, const char *fmt,
                    ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 5, 6)))
#endif
    ;

static int why_fail(struct node_refusal *why, int kind, int rc, const char *code, const char *fmt,
                    ...)
{
	va_list ap;

	va_start(ap, fmt);
	set_why(why, kind, rc, code, fmt, ap);
	va_end(ap);
	return rc;
}

struct device_info {
	char product[NODE_STATE_ID_BUF];
	char hwid[FWC_PL_HWID_MAX + 1];
	int retired;
	uint64_t last_seq, counter;
};

/* One application in progress. */
struct ap {
	int envelope_verified; /* latched from st->envelope_verified by node_state_apply */
	const struct fwc_signed_tx *decoded; /* latched from st->decoded */
	struct node_state *st;
	struct node_refusal *why;
	int64_t now;
	struct fwc_signed_tx stx;
	const struct fwc_tx *tx;
	uint8_t txid[FWC_TX_ID_LEN];
	char org[NODE_STATE_ID_BUF]; /* the sender's organisation ("" for a device sender) */
	uint32_t roles;
	int sender_is_device;
	struct device_info sender_dev; /* the sender's device row, when sender_is_device */
	struct fwc_payload pl;
	/* For the audit row. */
	char product[NODE_STATE_ID_BUF];
	char subject[160];
};

static int fail(struct ap *a, int rc, const char *code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

/* A rule refused the transaction: it goes into the log as failed. */
static int fail(struct ap *a, int rc, const char *code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	set_why(a->why, NODE_REFUSAL_FAIL, rc, code, fmt, ap);
	va_end(ap);
	return rc;
}

static int internal(struct ap *a, int rc)
{
	return why_fail(a->why, NODE_REFUSAL_INTERNAL, rc < 0 ? rc : FWC_ERR_IO, "internal_error",
	                "database: %s", sqlite3_errmsg(a->st->db));
}

/* Handlers return FWC_OK, a refusal made by fail(), or FWC_ERR_IO/NOMEM made by internal().
 * This turns a raw storage error into the latter. */
#define TRY_IO(expr)                                                                               \
	do {                                                                                       \
		int r_ = (expr);                                                                   \
		if (r_ < 0)                                                                        \
			return internal(a, r_);                                                    \
	} while (0)

static void subject_key(struct ap *a, const struct fwc_pubkey *pk)
{
	(void)fwc_pubkey_to_text(a->subject, sizeof(a->subject), pk);
}

static void subject_hex(struct ap *a, const uint8_t *id, size_t n)
{
	(void)fwc_hex_encode(a->subject, sizeof(a->subject), id, n);
}

static void copy_id(char *out, size_t cap, const char *p, size_t n)
{
	if (n >= cap)
		n = cap - 1;
	if (n)
		memcpy(out, p, n);
	out[n] = '\0';
}

/* ---------------------------------------------------------------------------------------- */
/* Lookups shared by the handlers                                                           */

/* 1 revoked, 0 not, < 0 I/O. */
static int key_revoked(struct node_state *st, const struct fwc_pubkey *pk)
{
	sqlite3_stmt *s = q(st, Q_REVOKED_GET, "k", pk);
	int rc = qrow(s);

	if (rc == 1)
		sqlite3_reset(s);
	return rc;
}

/* 1 member (org and roles filled when not NULL), 0 not, < 0 I/O. */
static int member_get(struct node_state *st, const struct fwc_pubkey *pk, char *org,
                      uint32_t *roles)
{
	sqlite3_stmt *s = q(st, Q_MEMBER_GET, "k", pk);
	int rc = qrow(s);

	if (rc == 1) {
		if (org)
			col_text(org, NODE_STATE_ID_BUF, s, 0);
		if (roles)
			*roles = (uint32_t)sqlite3_column_int64(s, 1);
		sqlite3_reset(s);
	}
	return rc;
}

static int device_get(struct node_state *st, const struct fwc_pubkey *pk, struct device_info *d)
{
	sqlite3_stmt *s = q(st, Q_DEVICE_GET, "k", pk);
	int rc = qrow(s);

	if (rc == 1) {
		if (d) {
			col_text(d->product, sizeof(d->product), s, 0);
			col_text(d->hwid, sizeof(d->hwid), s, 1);
			d->retired = sqlite3_column_int(s, 2) != 0;
			d->last_seq = (uint64_t)sqlite3_column_int64(s, 3);
			d->counter = (uint64_t)sqlite3_column_int64(s, 4);
		}
		sqlite3_reset(s);
	}
	return rc;
}

struct product_info {
	char org[NODE_STATE_ID_BUF];
	struct fwc_keyset root, release;        /* revocations applied */
	uint64_t root_version, release_version; /* release_version 0: no release set yet */
};

/* Mark the keys of ks that are revoked in the ledger: their signatures count zero. */
static int keyset_apply_revocations(struct node_state *st, struct fwc_keyset *ks)
{
	size_t i;
	int rc;

	for (i = 0; i < ks->n; i++) {
		if ((rc = key_revoked(st, &ks->keys[i])) < 0)
			return rc;
		if (rc == 1)
			ks->revoked[i] = 1;
	}
	return FWC_OK;
}

/* 1 found, 0 not, < 0 error (FWC_ERR_IO; a stored set that does not decode is FWC_ERR_IO
 * too: the state is damaged). */
/* Decoding a stored key set checks every key's curve point again (a square root each, up to
 * 16 keys, twice per RELEASE: root and release set), although the bytes are the ones checked
 * when their transaction was applied. The cache maps the exact stored bytes to their decode,
 * so it can never disagree with a fresh decode, whatever was rolled back or rotated since;
 * revocations are applied after it, from the ledger, every time. */
#define KS_CACHE_N 16
#define KS_CACHE_BYTES 640 /* FWC_KEYSET_MAX keys of 33 bytes plus the CBOR around them */

struct node_keyset_cache {
	struct {
		size_t len; /* 0: empty */
		uint8_t bytes[KS_CACHE_BYTES];
		struct fwc_keyset ks;
	} e[KS_CACHE_N];
	unsigned next; /* round-robin replacement */
};

static int keyset_decode_cached(struct node_state *st, struct fwc_keyset *ks, const void *blob,
                                size_t len)
{
	struct node_keyset_cache *c = st->ks_cache;
	int rc;

	if (blob == NULL)
		return FWC_ERR_MALFORMED;
	if (c == NULL && len <= KS_CACHE_BYTES)
		c = st->ks_cache = calloc(1, sizeof(*c));
	for (unsigned i = 0; c && i < KS_CACHE_N; i++)
		if (c->e[i].len == len && memcmp(c->e[i].bytes, blob, len) == 0) {
			*ks = c->e[i].ks;
			return FWC_OK;
		}
	if ((rc = fwc_keyset_decode(ks, blob, len, NULL)) != FWC_OK)
		return rc;
	if (c && len > 0 && len <= KS_CACHE_BYTES) {
		unsigned i = c->next++ % KS_CACHE_N;

		c->e[i].len = len;
		memcpy(c->e[i].bytes, blob, len);
		c->e[i].ks = *ks;
	}
	return FWC_OK;
}

static int product_get(struct node_state *st, const char *id, size_t idlen, struct product_info *p)
{
	sqlite3_stmt *s = q(st, Q_PRODUCT_GET, "t", id, idlen);
	int rc = qrow(s);

	if (rc != 1)
		return rc;
	if (p == NULL) {
		sqlite3_reset(s);
		return 1;
	}
	memset(p, 0, sizeof(*p));
	col_text(p->org, sizeof(p->org), s, 0);
	p->root_version = (uint64_t)sqlite3_column_int64(s, 2);
	p->release_version = (uint64_t)sqlite3_column_int64(s, 4);
	if (keyset_decode_cached(st, &p->root, sqlite3_column_blob(s, 1),
	                         (size_t)sqlite3_column_bytes(s, 1)) != FWC_OK ||
	    (p->release_version > 0 &&
	     keyset_decode_cached(st, &p->release, sqlite3_column_blob(s, 3),
	                          (size_t)sqlite3_column_bytes(s, 3)) != FWC_OK)) {
		sqlite3_reset(s);
		return FWC_ERR_IO;
	}
	sqlite3_reset(s);
	if ((rc = keyset_apply_revocations(st, &p->root)) < 0 ||
	    (p->release_version > 0 && (rc = keyset_apply_revocations(st, &p->release)) < 0))
		return rc;
	return 1;
}

static int admin_count(struct node_state *st, const char *org, int64_t *n)
{
	sqlite3_stmt *s = q(st, Q_ADMIN_COUNT, "s", org);
	int rc = qrow(s);

	if (rc != 1)
		return rc < 0 ? rc : FWC_ERR_IO;
	*n = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	return FWC_OK;
}

/* Resolve product id for a handler: unknown_product / not_owner refusals. Returns FWC_OK
 * with *p filled, or a refusal / internal error. */
static int owned_product(struct ap *a, const char *id, size_t len, struct product_info *p)
{
	int rc = product_get(a->st, id, len, p);

	if (rc < 0)
		return internal(a, rc);
	copy_id(a->product, sizeof(a->product), id, len);
	if (rc == 0)
		return fail(a, FWC_ERR_NOT_FOUND, "unknown_product",
		            "product '%.*s' does not exist", (int)len, id);
	if (strcmp(p->org, a->org) != 0)
		return fail(a, FWC_ERR_PERMISSIONS, "not_owner",
		            "product '%.*s' belongs to organisation '%s'", (int)len, id, p->org);
	return FWC_OK;
}

/* A key must be fresh for a new role (member, device): not revoked, not used elsewhere. */
static int key_unused(struct ap *a, const struct fwc_pubkey *pk, const char *own_org)
{
	char org[NODE_STATE_ID_BUF];
	int rc;

	if ((rc = key_revoked(a->st, pk)) < 0)
		return internal(a, rc);
	if (rc == 1)
		return fail(a, FWC_ERR_PERMISSIONS, "key_revoked", "the key is revoked");
	if ((rc = member_get(a->st, pk, org, NULL)) < 0)
		return internal(a, rc);
	if (rc == 1 && (own_org == NULL || strcmp(org, own_org) != 0))
		return fail(a, FWC_ERR_DUPLICATE, "key_in_use",
		            "the key is a member of organisation '%s'", org);
	if ((rc = device_get(a->st, pk, NULL)) < 0)
		return internal(a, rc);
	if (rc == 1)
		return fail(a, FWC_ERR_DUPLICATE, "key_in_use", "the key is a device key");
	return FWC_OK;
}

static int is_root_org(struct ap *a, int *yes)
{
	sqlite3_stmt *s = q(a->st, Q_META_GET, "s", "root_org");
	int rc = qrow(s);
	char root[NODE_STATE_ID_BUF];

	if (rc != 1)
		return rc < 0 ? rc : FWC_ERR_IO;
	col_text(root, sizeof(root), s, 0);
	sqlite3_reset(s);
	*yes = strcmp(root, a->org) == 0;
	return FWC_OK;
}

static int require_root(struct ap *a)
{
	int yes = 0;

	TRY_IO(is_root_org(a, &yes));
	if (!yes)
		return fail(a, FWC_ERR_PERMISSIONS, "root_admin_required",
		            "only an admin of the root organisation may do this");
	return FWC_OK;
}

/* Every key of ks: not revoked in the ledger unless the set itself marks it revoked. */
static int keyset_fresh(struct ap *a, const struct fwc_keyset *ks)
{
	size_t i;
	int rc;

	for (i = 0; i < ks->n; i++) {
		if (ks->revoked[i])
			continue;
		if ((rc = key_revoked(a->st, &ks->keys[i])) < 0)
			return internal(a, rc);
		if (rc == 1)
			return fail(a, FWC_ERR_PERMISSIONS, "key_revoked",
			            "key %zu of the key set is revoked", i);
	}
	return FWC_OK;
}

static int keyset_index_keys(struct ap *a, const struct fwc_keyset *ks, const char *product)
{
	size_t i;

	for (i = 0; i < ks->n; i++)
		TRY_IO(qexec(a->st, Q_PKEY_PUT, "ks", &ks->keys[i], product));
	return FWC_OK;
}

/* ---------------------------------------------------------------------------------------- */
/* Handlers, one per transaction type                                                       */

static int h_org_register(struct ap *a)
{
	const struct fwc_pl_org_register *p = &a->pl.u.org_register;
	sqlite3_stmt *s;
	int rc;

	copy_id(a->subject, sizeof(a->subject), p->id.p, p->id.len);
	if ((rc = require_root(a)) < 0)
		return rc;
	s = q(a->st, Q_ORG_GET, "t", p->id.p, p->id.len);
	if ((rc = qrow(s)) < 0)
		return internal(a, rc);
	if (rc == 1) {
		sqlite3_reset(s);
		return fail(a, FWC_ERR_DUPLICATE, "org_exists", "organisation '%.*s' exists",
		            (int)p->id.len, p->id.p);
	}
	if ((rc = key_unused(a, &p->admin, NULL)) < 0)
		return rc;
	TRY_IO(qexec(a->st, Q_ORG_PUT, "ttih", p->id.p, p->id.len, p->name.p, p->name.len, a->now,
	             a->txid));
	TRY_IO(qexec(a->st, Q_MEMBER_PUT, "ktini", &p->admin, p->id.p, p->id.len,
	             (int64_t)FWC_ROLE_BIT(FWC_ROLE_ADMIN), a->now));
	return FWC_OK;
}

static int h_member_add(struct ap *a)
{
	const struct fwc_pl_member_add *p = &a->pl.u.member_add;
	uint32_t roles = 0, bit = FWC_ROLE_BIT(p->role);
	int rc;

	subject_key(a, &p->key);
	if ((rc = key_unused(a, &p->key, a->org)) < 0)
		return rc;
	if ((rc = member_get(a->st, &p->key, NULL, &roles)) < 0)
		return internal(a, rc);
	if (rc == 1 && (roles & bit))
		return fail(a, FWC_ERR_DUPLICATE, "role_held", "the member already holds role %u",
		            (unsigned)p->role);
	if (p->has_label)
		TRY_IO(qexec(a->st, Q_MEMBER_PUT, "ksitu", &p->key, a->org, (int64_t)(roles | bit),
		             p->label.p, p->label.len, (uint64_t)a->now));
	else
		TRY_IO(qexec(a->st, Q_MEMBER_PUT, "ksini", &p->key, a->org, (int64_t)(roles | bit),
		             a->now));
	return FWC_OK;
}

static int check_last_admin(struct ap *a)
{
	int64_t n = 0;

	TRY_IO(admin_count(a->st, a->org, &n));
	if (n == 0)
		return fail(a, FWC_ERR_STATE, "last_admin",
		            "organisation '%s' would be left without an admin", a->org);
	return FWC_OK;
}

static int h_member_remove(struct ap *a)
{
	const struct fwc_pl_member_remove *p = &a->pl.u.member_remove;
	char org[NODE_STATE_ID_BUF];
	uint32_t roles = 0;
	int rc;

	subject_key(a, &p->key);
	if ((rc = member_get(a->st, &p->key, org, &roles)) < 0)
		return internal(a, rc);
	if (rc == 0 || strcmp(org, a->org) != 0)
		return fail(a, FWC_ERR_NOT_FOUND, "not_member",
		            "the key is not a member of organisation '%s'", a->org);
	if (p->role != 0 && !(roles & FWC_ROLE_BIT(p->role)))
		return fail(a, FWC_ERR_NOT_FOUND, "role_not_held",
		            "the member does not hold role %u", (unsigned)p->role);
	roles = p->role != 0 ? roles & ~FWC_ROLE_BIT(p->role) : 0;
	if (roles == 0)
		TRY_IO(qexec(a->st, Q_MEMBER_DEL, "k", &p->key));
	else
		TRY_IO(
		    qexec(a->st, Q_MEMBER_PUT, "ksini", &p->key, a->org, (int64_t)roles, a->now));
	return check_last_admin(a);
}

/* Rewrite the stored current sets of every product holding pk with pk marked revoked, so
 * what the API serves shows the revocation (the signed statements stay in state_keysets). */
static int mark_revoked_in_sets(struct ap *a, const struct fwc_pubkey *pk)
{
	sqlite3_stmt *s = q(a->st, Q_PKEY_PRODUCTS, "k", pk);
	char ids[FWC_KEYSET_MAX * 4][NODE_STATE_ID_BUF];
	size_t n = 0, i;
	int rc;

	/* Collect first: the updates below must not run under the open SELECT. A key shared by
	 * more than 64 products only has the first 64 marked; the threshold checks read the
	 * revocation table anyway, so this is presentation only. */
	if (s == NULL)
		return internal(a, FWC_ERR_IO);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW && n < sizeof(ids) / sizeof(ids[0]))
		col_text(ids[n++], NODE_STATE_ID_BUF, s, 0);
	sqlite3_reset(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return internal(a, FWC_ERR_IO);
	for (i = 0; i < n; i++) {
		struct product_info p;
		uint8_t buf[FWC_KEYSET_ENC_MAX];
		size_t len;

		if ((rc = product_get(a->st, ids[i], strlen(ids[i]), &p)) < 0)
			return internal(a, rc);
		if (rc == 0)
			continue;
		if (fwc_keyset_find(&p.root, pk) >= 0) {
			if (fwc_keyset_encode(buf, sizeof(buf), &len, &p.root) != FWC_OK)
				return internal(a, FWC_ERR_IO);
			TRY_IO(qexec(a->st, Q_PRODUCT_SET_ROOT, "sbu", ids[i], buf, len,
			             p.root_version));
		}
		if (p.release_version > 0 && fwc_keyset_find(&p.release, pk) >= 0) {
			if (fwc_keyset_encode(buf, sizeof(buf), &len, &p.release) != FWC_OK)
				return internal(a, FWC_ERR_IO);
			TRY_IO(qexec(a->st, Q_PRODUCT_SET_RELEASE, "sbu", ids[i], buf, len,
			             p.release_version));
		}
	}
	return FWC_OK;
}

static int h_key_revoke(struct ap *a)
{
	const struct fwc_pl_key_revoke *p = &a->pl.u.key_revoke;
	char org[NODE_STATE_ID_BUF];
	int rc, member, owned = 0;
	sqlite3_stmt *s;

	subject_key(a, &p->key);
	if ((rc = key_revoked(a->st, &p->key)) < 0)
		return internal(a, rc);
	if (rc == 1)
		return fail(a, FWC_ERR_DUPLICATE, "already_revoked", "the key is already revoked");
	if ((member = member_get(a->st, &p->key, org, NULL)) < 0)
		return internal(a, member);
	if (member == 1 && strcmp(org, a->org) == 0)
		owned = 1;
	if (!owned) {
		s = q(a->st, Q_PKEY_OWNED, "ks", &p->key, a->org);
		if ((rc = qrow(s)) < 0)
			return internal(a, rc);
		if (rc == 1) {
			sqlite3_reset(s);
			owned = 1;
		}
	}
	if (!owned)
		return fail(a, FWC_ERR_PERMISSIONS, "not_owner",
		            "the key is neither a member nor a product key of organisation '%s'",
		            a->org);
	TRY_IO(qexec(a->st, Q_REVOKED_PUT, "kstih", &p->key, a->org, p->reason.p, p->reason.len,
	             a->now, a->txid));
	if (member == 1 && strcmp(org, a->org) == 0) {
		TRY_IO(qexec(a->st, Q_MEMBER_DEL, "k", &p->key));
		if ((rc = check_last_admin(a)) < 0)
			return rc;
	}
	return mark_revoked_in_sets(a, &p->key);
}

static int h_product_register(struct ap *a)
{
	const struct fwc_pl_product_register *p = &a->pl.u.product_register;
	struct fwc_keyset ks;
	int rc;

	copy_id(a->product, sizeof(a->product), p->id.p, p->id.len);
	copy_id(a->subject, sizeof(a->subject), p->id.p, p->id.len);
	if ((rc = product_get(a->st, p->id.p, p->id.len, NULL)) < 0)
		return internal(a, rc);
	if (rc == 1)
		return fail(a, FWC_ERR_DUPLICATE, "product_exists", "product '%.*s' exists",
		            (int)p->id.len, p->id.p);
	/* The payload decoder already checked the set; decode it again for its keys. */
	if (fwc_keyset_decode(&ks, p->root_set.p, p->root_set.len, NULL) != FWC_OK)
		return fail(a, FWC_ERR_MALFORMED, "malformed_payload", "root key set");
	if ((rc = keyset_fresh(a, &ks)) < 0)
		return rc;
	TRY_IO(qexec(a->st, Q_PRODUCT_PUT, "tstbi", p->id.p, p->id.len, a->org, p->name.p,
	             p->name.len, p->root_set.p, p->root_set.len, a->now));
	TRY_IO(qexec(a->st, Q_KEYSET_PUT, "tiibnhiu", p->id.p, p->id.len, (int64_t)FWC_ROTATE_ROOT,
	             (int64_t)1, p->root_set.p, p->root_set.len, a->txid, a->now, a->st->height));
	return keyset_index_keys(a, &ks, a->product);
}

/* KEYSET_REGISTER (first release set) and KEYSET_ROTATE (next root or release set). */
static int h_keyset(struct ap *a)
{
	const struct fwc_pl_keyset_statement *p = &a->pl.u.keyset_statement;
	int rotate = a->tx->type == FWC_TX_KEYSET_ROTATE;
	struct fwc_rotation rot;
	struct fwc_errinfo ei;
	struct product_info prod;
	struct fwc_keyset ks;
	uint8_t digest[32];
	uint64_t cur;
	unsigned valid = 0;
	int rc;

	if ((rc = fwc_rotation_decode(&rot, p->statement.p, p->statement.len, &ei)) < 0)
		return fail(a, rc, "malformed_payload", "key-set statement: %s", ei.msg);
	if (fwc_keyset_decode(&ks, rot.keyset.p, rot.keyset.len, NULL) != FWC_OK)
		return fail(a, FWC_ERR_MALFORMED, "malformed_payload", "key set");
	if (!rotate && rot.set != FWC_ROTATE_RELEASE)
		return fail(a, FWC_ERR_MALFORMED, "malformed_payload",
		            "KEYSET_REGISTER registers a release set (set 2)");
	snprintf(a->subject, sizeof(a->subject), "%s v%llu",
	         rot.set == FWC_ROTATE_ROOT ? "root" : "release", (unsigned long long)rot.version);
	if ((rc = owned_product(a, rot.product.p, rot.product.len, &prod)) < 0)
		return rc;
	cur = rot.set == FWC_ROTATE_ROOT ? prod.root_version : prod.release_version;
	if (!rotate && cur != 0)
		return fail(a, FWC_ERR_DUPLICATE, "keyset_exists",
		            "product '%s' already has a release set (rotate it instead)",
		            a->product);
	if (rotate && cur == 0)
		return fail(a, FWC_ERR_STATE, "no_release_set",
		            "product '%s' has no release set to rotate (register one)", a->product);
	if (rot.version != cur + 1)
		return fail(a, FWC_ERR_STATE, "version_not_next",
		            "statement version %llu, the next version is %llu",
		            (unsigned long long)rot.version, (unsigned long long)(cur + 1));
	if ((rc = keyset_fresh(a, &ks)) < 0)
		return rc;
	if (fwc_rotation_digest(digest, &rot) != FWC_OK)
		return internal(a, FWC_ERR_CRYPTO);
	if (fwc_keyset_verify_threshold(&prod.root, digest, rot.sigs, rot.n_sigs, &valid, &ei) !=
	    FWC_OK)
		return fail(a, FWC_ERR_THRESHOLD, "threshold_not_met", "current root set: %s",
		            ei.msg);
	if (rot.set == FWC_ROTATE_ROOT &&
	    fwc_keyset_verify_threshold(&ks, digest, rot.sigs, rot.n_sigs, &valid, &ei) != FWC_OK)
		return fail(a, FWC_ERR_THRESHOLD, "threshold_not_met_new", "new root set: %s",
		            ei.msg);
	TRY_IO(qexec(a->st, rot.set == FWC_ROTATE_ROOT ? Q_PRODUCT_SET_ROOT : Q_PRODUCT_SET_RELEASE,
	             "sbu", a->product, rot.keyset.p, rot.keyset.len, rot.version));
	TRY_IO(qexec(a->st, Q_KEYSET_PUT, "siubbhiu", a->product, (int64_t)rot.set, rot.version,
	             rot.keyset.p, rot.keyset.len, p->statement.p, p->statement.len, a->txid,
	             a->now, a->st->height));
	return keyset_index_keys(a, &ks, a->product);
}

/* Encode a decoded attribute map back to its canonical bytes (the input's own bytes). */
static int attrs_encode(uint8_t *out, size_t cap, size_t *len, const struct fwc_pl_attrs *at)
{
	struct fwc_cbor_enc e;
	size_t i;

	fwc_cbor_enc_init(&e, out, cap);
	fwc_cbor_put_map(&e, at->n);
	for (i = 0; i < at->n; i++) {
		fwc_cbor_put_text(&e, at->v[i].key.p, at->v[i].key.len);
		fwc_cbor_put_text(&e, at->v[i].value.p, at->v[i].value.len);
	}
	return fwc_cbor_enc_finish(&e, len);
}

static int put_groups(struct ap *a, const struct fwc_pubkey *dev, const struct fwc_pl_groups *g,
                      const char *product)
{
	size_t i;

	TRY_IO(qexec(a->st, Q_GROUPS_DEL, "k", dev));
	for (i = 0; i < g->n; i++)
		TRY_IO(qexec(a->st, Q_GROUP_PUT, "kts", dev, g->v[i].p, g->v[i].len, product));
	return FWC_OK;
}

static int h_device_register(struct ap *a)
{
	const struct fwc_pl_device_register *p = &a->pl.u.device_register;
	uint8_t attrs[FWC_PL_ATTRS_MAX * (FWC_PL_ATTR_KEY_MAX + FWC_PL_ATTR_VALUE_MAX + 6) + 4];
	size_t alen = 0;
	struct product_info prod;
	struct device_info dev;
	int rc;

	subject_key(a, &p->device);
	if ((rc = owned_product(a, p->product.p, p->product.len, &prod)) < 0)
		return rc;
	if (p->attrs.n > 0 && attrs_encode(attrs, sizeof(attrs), &alen, &p->attrs) != FWC_OK)
		return internal(a, FWC_ERR_BUFSIZE);
	if (!p->update) {
		char org[NODE_STATE_ID_BUF];

		if ((rc = key_revoked(a->st, &p->device)) < 0)
			return internal(a, rc);
		if (rc == 1)
			return fail(a, FWC_ERR_PERMISSIONS, "key_revoked", "the key is revoked");
		if ((rc = member_get(a->st, &p->device, org, NULL)) < 0)
			return internal(a, rc);
		if (rc == 1)
			return fail(a, FWC_ERR_DUPLICATE, "key_in_use",
			            "the key is a member of organisation '%s'", org);
		if ((rc = device_get(a->st, &p->device, NULL)) < 0)
			return internal(a, rc);
		if (rc == 1)
			return fail(a, FWC_ERR_DUPLICATE, "device_exists",
			            "the device is already registered");
		TRY_IO(qexec(a->st, Q_DEVICE_PUT, "ksttbuih", &p->device, a->product, p->hwid.p,
		             p->hwid.len, p->region.p, p->region.len, p->attrs.n ? attrs : NULL,
		             alen, p->counter, a->now, a->txid));
	} else {
		if ((rc = device_get(a->st, &p->device, &dev)) < 0)
			return internal(a, rc);
		if (rc == 0)
			return fail(a, FWC_ERR_NOT_FOUND, "unknown_device", "no such device");
		if (strcmp(dev.product, a->product) != 0)
			return fail(a, FWC_ERR_STATE, "product_mismatch",
			            "the device belongs to product '%s'", dev.product);
		if (strlen(dev.hwid) != p->hwid.len || memcmp(dev.hwid, p->hwid.p, p->hwid.len))
			return fail(a, FWC_ERR_STATE, "hwid_mismatch",
			            "the device's hardware id is '%s'", dev.hwid);
		if (dev.retired)
			return fail(a, FWC_ERR_STATE, "device_retired", "the device is retired");
		TRY_IO(qexec(a->st, Q_DEVICE_UPDATE, "ktbi", &p->device, p->region.p, p->region.len,
		             p->attrs.n ? attrs : NULL, alen, (int64_t)(p->retire != 0)));
	}
	return put_groups(a, &p->device, &p->groups, a->product);
}

/* The manifest's release id: the digest its release keys sign. */
static int h_release(struct ap *a)
{
	const struct fwc_pl_release *p = &a->pl.u.release;
	struct fwc_signed_manifest sm;
	const struct fwc_manifest *m = &sm.manifest;
	struct product_info prod;
	struct fwc_errinfo ei;
	uint8_t id[32];
	unsigned valid = 0;
	sqlite3_stmt *s;
	size_t i;
	int rc;

	if ((rc = fwc_signed_manifest_decode(&sm, p->manifest.p, p->manifest.len, &ei)) < 0)
		return fail(a, rc, "malformed_manifest", "manifest: %s", ei.msg);
	if (fwc_manifest_digest(id, sm.body, sm.body_len) != FWC_OK)
		return internal(a, FWC_ERR_CRYPTO);
	subject_hex(a, id, sizeof(id));
	/* Both are the manifest decoder's rules too; checked again so the ledger never records
	 * a bad CID or an oversized metadata field whatever that decoder accepts. */
	if (fwc_manifest_check_cid(m->cid.p, m->cid.len, &ei) != FWC_OK)
		return fail(a, FWC_ERR_MALFORMED, "bad_cid", "CID: %s", ei.msg);
	if (m->has_metadata && m->metadata.len > FWC_MANIFEST_META_MAX)
		return fail(a, FWC_ERR_TOO_LARGE, "metadata_too_long",
		            "metadata of %zu bytes (at most %d)", m->metadata.len,
		            FWC_MANIFEST_META_MAX);
	if ((rc = owned_product(a, m->product.p, m->product.len, &prod)) < 0)
		return rc;
	if (prod.release_version == 0)
		return fail(a, FWC_ERR_STATE, "no_release_set",
		            "product '%s' has no release key set", a->product);
	if (fwc_signed_manifest_verify(&sm, &prod.release, &valid, &ei) != FWC_OK)
		return fail(a, FWC_ERR_THRESHOLD, "threshold_not_met", "release set v%llu: %s",
		            (unsigned long long)prod.release_version, ei.msg);
	if (m->counter > INT64_MAX || m->size > INT64_MAX)
		return fail(a, FWC_ERR_RANGE, "malformed_manifest", "counter or size above 2^63-1");
	s = q(a->st, Q_RELEASE_MAXCTR, "tt", m->product.p, m->product.len, m->channel.p,
	      m->channel.len);
	if ((rc = qrow(s)) != 1)
		return internal(a, rc < 0 ? rc : FWC_ERR_IO);
	if (sqlite3_column_type(s, 0) != SQLITE_NULL &&
	    m->counter <= (uint64_t)sqlite3_column_int64(s, 0)) {
		uint64_t last = (uint64_t)sqlite3_column_int64(s, 0);

		sqlite3_reset(s);
		return fail(a, FWC_ERR_RANGE, "counter_not_increasing",
		            "counter %llu is not above %llu, the last of channel '%.*s'",
		            (unsigned long long)m->counter, (unsigned long long)last,
		            (int)m->channel.len, m->channel.p);
	}
	sqlite3_reset(s);
	s = q(a->st, Q_RELEASE_GET, "h", id);
	if ((rc = qrow(s)) < 0)
		return internal(a, rc);
	if (rc == 1) {
		sqlite3_reset(s);
		return fail(a, FWC_ERR_DUPLICATE, "release_exists", "this release exists");
	}
	TRY_IO(qexec(a->st, Q_RELEASE_PUT, "htttubuhbiuh", id, m->product.p, m->product.len,
	             m->channel.p, m->channel.len, m->version.p, m->version.len, m->counter,
	             m->cid.p, m->cid.len, m->size, m->sha256, p->manifest.p, p->manifest.len,
	             a->now, a->st->height, a->txid));
	for (i = 0; i < m->n_hw; i++)
		TRY_IO(qexec(a->st, Q_RELEASE_HW_PUT, "ht", id, m->hw[i].p, m->hw[i].len));
	return FWC_OK;
}

struct release_info {
	char product[NODE_STATE_ID_BUF];
	char org[NODE_STATE_ID_BUF];
	int revoked, rollout;
	uint64_t counter;
};

/* The release by id, owned by the sender: unknown_release / not_owner refusals. */
static int owned_release(struct ap *a, const uint8_t id[32], struct release_info *r, int own)
{
	sqlite3_stmt *s = q(a->st, Q_RELEASE_GET, "h", id);
	int rc = qrow(s);

	if (rc < 0)
		return internal(a, rc);
	if (rc == 0)
		return fail(a, FWC_ERR_NOT_FOUND, "unknown_release", "no such release");
	col_text(r->product, sizeof(r->product), s, 0);
	col_text(r->org, sizeof(r->org), s, 1);
	r->revoked = sqlite3_column_int(s, 2);
	r->rollout = sqlite3_column_int(s, 3);
	r->counter = (uint64_t)sqlite3_column_int64(s, 4);
	sqlite3_reset(s);
	memcpy(a->product, r->product, sizeof(a->product));
	if (own && strcmp(r->org, a->org) != 0)
		return fail(a, FWC_ERR_PERMISSIONS, "not_owner",
		            "the release belongs to organisation '%s'", r->org);
	return FWC_OK;
}

static int h_release_revoke(struct ap *a)
{
	const struct fwc_pl_release_revoke *p = &a->pl.u.release_revoke;
	struct release_info r;
	int rc;

	subject_hex(a, p->release_id, FWC_RELEASE_ID_LEN);
	if ((rc = owned_release(a, p->release_id, &r, 1)) < 0)
		return rc;
	if (r.revoked)
		return fail(a, FWC_ERR_DUPLICATE, "already_revoked",
		            "the release is already revoked");
	TRY_IO(qexec(a->st, Q_RELEASE_REVOKE, "hti", p->release_id, p->reason.p, p->reason.len,
	             a->now));
	return FWC_OK;
}

static int h_rollout(struct ap *a)
{
	const struct fwc_pl_rollout *p = &a->pl.u.rollout;
	static const char *const names[] = {"active", "paused", "halted"};
	struct release_info r;
	int rc, next;

	subject_hex(a, p->release_id, FWC_RELEASE_ID_LEN);
	if ((rc = owned_release(a, p->release_id, &r, 1)) < 0)
		return rc;
	if (r.revoked)
		return fail(a, FWC_ERR_STATE, "release_revoked", "the release is revoked");
	if (r.rollout == NODE_ROLLOUT_HALTED)
		return fail(a, FWC_ERR_STATE, "rollout_halted", "the rollout is halted for ever");
	switch (p->action) {
	case FWC_ROLLOUT_PAUSE:
		next = r.rollout == NODE_ROLLOUT_ACTIVE ? NODE_ROLLOUT_PAUSED : -1;
		break;
	case FWC_ROLLOUT_RESUME:
		next = r.rollout == NODE_ROLLOUT_PAUSED ? NODE_ROLLOUT_ACTIVE : -1;
		break;
	default:
		next = NODE_ROLLOUT_HALTED;
	}
	if (next < 0 || r.rollout < 0 || r.rollout > NODE_ROLLOUT_HALTED)
		return fail(a, FWC_ERR_STATE, "rollout_state", "cannot %s a rollout that is %s",
		            p->action == FWC_ROLLOUT_PAUSE ? "pause" : "resume",
		            names[r.rollout < 0 || r.rollout > 2 ? 0 : r.rollout]);
	TRY_IO(qexec(a->st, Q_RELEASE_ROLLOUT, "hi", p->release_id, (int64_t)next));
	return FWC_OK;
}

static int h_postpone(struct ap *a)
{
	const struct fwc_pl_postpone *p = &a->pl.u.postpone;
	uint8_t target[FWC_PUBKEY_BIN_LEN];
	struct release_info r;
	struct device_info dev;
	int rc;

	if (p->has_device) {
		subject_key(a, &p->device);
		if ((rc = device_get(a->st, &p->device, &dev)) < 0)
			return internal(a, rc);
		if (rc == 0)
			return fail(a, FWC_ERR_NOT_FOUND, "unknown_device", "no such device");
		{
			struct product_info prod;

			if ((rc = owned_product(a, dev.product, strlen(dev.product), &prod)) < 0)
				return rc;
		}
		if (dev.retired)
			return fail(a, FWC_ERR_STATE, "device_retired", "the device is retired");
		if ((rc = owned_release(a, p->release_id, &r, 0)) < 0)
			return rc;
		if (strcmp(r.product, dev.product) != 0)
			return fail(a, FWC_ERR_STATE, "product_mismatch",
			            "the release is of product '%s', the device of '%s'", r.product,
			            dev.product);
	} else {
		copy_id(a->subject, sizeof(a->subject), p->group.p, p->group.len);
		if ((rc = owned_release(a, p->release_id, &r, 1)) < 0)
			return rc;
	}
	if ((int64_t)p->until <= a->now || p->until > INT64_MAX ||
	    (int64_t)p->until > a->now + POSTPONE_MAX)
		return fail(a, FWC_ERR_RANGE, "bad_time",
		            "postponement must end after the block time and within 90 days");
	if (p->has_device) {
		key_bin(target, &p->device);
		TRY_IO(qexec(a->st, Q_POSTPONE_PUT, "ibhutih", (int64_t)1, target, sizeof(target),
		             p->release_id, p->until, p->reason.p, p->reason.len, a->now, a->txid));
	} else {
		TRY_IO(qexec(a->st, Q_POSTPONE_PUT, "ibhutih", (int64_t)2, p->group.p, p->group.len,
		             p->release_id, p->until, p->reason.p, p->reason.len, a->now, a->txid));
	}
	return FWC_OK;
}

static int h_config_update(struct ap *a)
{
	const struct fwc_pl_config_update *p = &a->pl.u.config_update;
	uint8_t target[FWC_PUBKEY_BIN_LEN];
	const void *tp = "";
	size_t tlen = 0;
	struct product_info prod;
	int64_t scope = 0, version = 0;
	int set = 0;
	sqlite3_stmt *s;
	int rc;

	copy_id(a->subject, sizeof(a->subject), p->name.p, p->name.len);
	if ((rc = owned_product(a, p->product.p, p->product.len, &prod)) < 0)
		return rc;
	if (p->has_device) {
		struct device_info dev;

		if ((rc = device_get(a->st, &p->device, &dev)) < 0)
			return internal(a, rc);
		if (rc == 0 || strcmp(dev.product, a->product) != 0)
			return fail(a, FWC_ERR_NOT_FOUND, "unknown_device",
			            "no such device in product '%s'", a->product);
		key_bin(target, &p->device);
		tp = target;
		tlen = sizeof(target);
		scope = 2;
	} else if (p->has_group) {
		tp = p->group.p;
		tlen = p->group.len;
		scope = 1;
	}
	s = q(a->st, Q_CONFIG_GET, "sibt", a->product, scope, tp, tlen, p->name.p, p->name.len);
	if ((rc = qrow(s)) < 0)
		return internal(a, rc);
	if (rc == 1) {
		set = sqlite3_column_int(s, 0);
		version = sqlite3_column_int64(s, 1);
		sqlite3_reset(s);
	}
	if (!p->has_value && !set)
		return fail(a, FWC_ERR_NOT_FOUND, "unknown_config", "'%.*s' is not set",
		            (int)p->name.len, p->name.p);
	/* A delete keeps the row (value NULL) so the version keeps counting. An empty value is
	 * a value: bind a zero-length blob, not NULL. */
	TRY_IO(qexec(a->st, Q_CONFIG_PUT, "sibtbiih", a->product, scope, tp, tlen, p->name.p,
	             p->name.len,
	             p->has_value ? (p->value.p ? (const void *)p->value.p : "") : NULL,
	             p->value.len, version + 1, a->now, a->txid));
	return FWC_OK;
}

static int h_licence_issue(struct ap *a)
{
	const struct fwc_pl_licence_issue *p = &a->pl.u.licence_issue;
	struct product_info prod;
	sqlite3_stmt *s;
	int rc;

	copy_id(a->subject, sizeof(a->subject), p->id.p, p->id.len);
	if ((rc = owned_product(a, p->product.p, p->product.len, &prod)) < 0)
		return rc;
	s = q(a->st, Q_LICENCE_GET, "st", a->product, p->id.p, p->id.len);
	if ((rc = qrow(s)) < 0)
		return internal(a, rc);
	if (rc == 1) {
		sqlite3_reset(s);
		return fail(a, FWC_ERR_DUPLICATE, "licence_exists", "licence '%.*s' exists",
		            (int)p->id.len, p->id.p);
	}
	if (p->has_device) {
		struct device_info dev;

		if ((rc = device_get(a->st, &p->device, &dev)) < 0)
			return internal(a, rc);
		if (rc == 0 || strcmp(dev.product, a->product) != 0)
			return fail(a, FWC_ERR_NOT_FOUND, "unknown_device",
			            "no such device in product '%s'", a->product);
	}
	if ((p->not_after != 0 && p->not_after <= p->not_before) || p->not_after > INT64_MAX ||
	    p->not_before > INT64_MAX)
		return fail(a, FWC_ERR_RANGE, "bad_time",
		            "not after must be 0 or after not before");
	TRY_IO(qexec(a->st, Q_LICENCE_PUT, "stktuuih", a->product, p->id.p, p->id.len,
	             p->has_device ? &p->device : NULL, p->feature.p, p->feature.len, p->not_before,
	             p->not_after, a->now, a->txid));
	return FWC_OK;
}

static int h_licence_revoke(struct ap *a)
{
	const struct fwc_pl_licence_revoke *p = &a->pl.u.licence_revoke;
	struct product_info prod;
	sqlite3_stmt *s;
	int rc, revoked;

	copy_id(a->subject, sizeof(a->subject), p->id.p, p->id.len);
	if ((rc = owned_product(a, p->product.p, p->product.len, &prod)) < 0)
		return rc;
	s = q(a->st, Q_LICENCE_GET, "st", a->product, p->id.p, p->id.len);
	if ((rc = qrow(s)) < 0)
		return internal(a, rc);
	if (rc == 0)
		return fail(a, FWC_ERR_NOT_FOUND, "unknown_licence", "no licence '%.*s'",
		            (int)p->id.len, p->id.p);
	revoked = sqlite3_column_int(s, 0);
	sqlite3_reset(s);
	if (revoked)
		return fail(a, FWC_ERR_DUPLICATE, "already_revoked",
		            "the licence is already revoked");
	TRY_IO(qexec(a->st, Q_LICENCE_REVOKE, "stt", a->product, p->id.p, p->id.len, p->reason.p,
	             p->reason.len));
	return FWC_OK;
}

static int h_device_event(struct ap *a)
{
	const struct fwc_pl_device_event *p = &a->pl.u.device_event;
	struct fwc_event ev;
	struct fwc_errinfo ei;
	struct device_info dev;
	struct release_info r;
	uint64_t counter;
	int rc;

	memset(&ei, 0, sizeof(ei));
	rc = p->body.len
	         ? fwc_event_body_decode_known(&ev, p->body.p, p->body.len, &a->tx->sender, &ei)
	         : fwc_event_decode(&ev, p->event.p, p->event.len, &ei);
	if (rc < 0)
		return fail(a, rc, "malformed_payload", "event: %s", ei.msg);
	subject_key(a, &ev.device);
	/* A device reporting its own event: its row was read by the precheck, in this same
	 * transaction, and nothing wrote it since. */
	if (a->sender_is_device && fwc_pubkey_equal(&ev.device, &a->tx->sender)) {
		dev = a->sender_dev;
		rc = 1;
	} else if ((rc = device_get(a->st, &ev.device, &dev)) < 0) {
		return internal(a, rc);
	}
	if (rc == 0)
		return fail(a, FWC_ERR_NOT_FOUND, "unknown_device", "no such device");
	memcpy(a->product, dev.product, sizeof(a->product));
	/* A device may send its own events only; relays (gateway, operator) any device's. */
	if (a->sender_is_device && !fwc_pubkey_equal(&ev.device, &a->tx->sender))
		return fail(a, FWC_ERR_PERMISSIONS, "role_required",
		            "a device may only send its own events");
	if (dev.retired)
		return fail(a, FWC_ERR_STATE, "device_retired", "the device is retired");
	/* The self-reported form (payload field 2) has no signature of its own: the envelope's,
	 * checked before any rule, is the device's signature of the body only when the device
	 * sent it. The relayed form carries the device's signature of the body. */
	if (p->body.len ? !fwc_pubkey_equal(&ev.device, &a->tx->sender)
	                : fwc_event_verify(&ev) != FWC_OK)
		return fail(a, FWC_ERR_BADSIG, "bad_event_signature",
		            p->body.len ? "an event body without its own signature must be sent"
		                          " by its device"
		                        : "the event is not signed by the device key");
	if (ev.seq <= dev.last_seq || ev.seq > INT64_MAX)
		return fail(a, FWC_ERR_RANGE, "seq_not_increasing",
		            "sequence number %llu is not above %llu", (unsigned long long)ev.seq,
		            (unsigned long long)dev.last_seq);
	counter = dev.counter;
	if (ev.has_release) {
		if ((rc = owned_release(a, ev.release_id, &r, 0)) < 0)
			return rc;
		if (strcmp(r.product, dev.product) != 0)
			return fail(a, FWC_ERR_NOT_FOUND, "unknown_release",
			            "the release is not of the device's product");
		if (ev.kind == FWC_EVENT_CONFIRMED && r.counter > counter)
			counter = r.counter;
	}
	if (ev.time > INT64_MAX || (ev.has_counter && ev.counter > INT64_MAX))
		return fail(a, FWC_ERR_RANGE, "malformed_payload", "event value above 2^63-1");
	TRY_IO(qexec(a->st, Q_EVENT_PUT, "kusuuhotkiuh", &ev.device, ev.seq, dev.product, ev.kind,
	             ev.time, ev.has_release ? ev.release_id : NULL, ev.has_counter,
	             (int64_t)ev.counter, ev.detail.p, ev.detail.len, &a->tx->sender, a->now,
	             a->st->height, a->txid));
	TRY_IO(qexec(a->st, Q_DEVICE_EVENTSTATE, "kuuh", &ev.device, ev.seq, counter,
	             ev.kind == FWC_EVENT_CONFIRMED && ev.has_release ? ev.release_id : NULL));
	return FWC_OK;
}

static int h_validator_set(struct ap *a)
{
	const struct fwc_pl_validator_set *p = &a->pl.u.validator_set;
	sqlite3_stmt *s;
	uint64_t last;
	size_t i, j;
	int rc;

	snprintf(a->subject, sizeof(a->subject), "v%llu", (unsigned long long)p->version);
	if ((rc = require_root(a)) < 0)
		return rc;
	s = q(a->st, Q_VSET_LAST, "");
	if ((rc = qrow(s)) != 1)
		return internal(a, rc < 0 ? rc : FWC_ERR_IO);
	last = (uint64_t)sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	if (p->version != last + 1)
		return fail(a, FWC_ERR_STATE, "version_not_next",
		            "version %llu, the next version is %llu",
		            (unsigned long long)p->version, (unsigned long long)(last + 1));
	for (i = 0; i < p->n; i++)
		for (j = i + 1; j < p->n; j++)
			if (fwc_pubkey_equal(&p->v[i].key, &p->v[j].key))
				return fail(a, FWC_ERR_DUPLICATE, "duplicate_key",
				            "validators %zu and %zu have the same key", i, j);
	if (p->quorum < 1 || p->quorum > p->n)
		return fail(a, FWC_ERR_RANGE, "bad_quorum", "quorum %llu of %zu validators",
		            (unsigned long long)p->quorum, p->n);
	TRY_IO(qexec(a->st, Q_VSET_PUT, "uubih", p->version, p->quorum, a->tx->payload.p,
	             a->tx->payload.len, a->now, a->txid));
	return FWC_OK;
}

/* ---------------------------------------------------------------------------------------- */
/* Dispatch                                                                                 */

struct rule {
	uint32_t roles; /* any of these role bits admits the sender */
	int (*apply)(struct ap *a);
	/* 1: every refusal of apply comes before its first write (after it, only an I/O error,
	 * which aborts the whole block), so node_state_apply needs no savepoint to undo it. */
	int checks_first;
};

#define R(role) FWC_ROLE_BIT(FWC_ROLE_##role)
static const struct rule rules[FWC_TX_TYPE_MAX + 1] = {
    [FWC_TX_ORG_REGISTER] = {R(ADMIN), h_org_register, 0},
    [FWC_TX_MEMBER_ADD] = {R(ADMIN), h_member_add, 0},
    [FWC_TX_MEMBER_REMOVE] = {R(ADMIN), h_member_remove, 0},
    [FWC_TX_KEYSET_REGISTER] = {R(ADMIN), h_keyset, 0},
    [FWC_TX_KEYSET_ROTATE] = {R(ADMIN), h_keyset, 0},
    [FWC_TX_KEY_REVOKE] = {R(ADMIN), h_key_revoke, 0},
    [FWC_TX_PRODUCT_REGISTER] = {R(ADMIN), h_product_register, 0},
    [FWC_TX_DEVICE_REGISTER] = {R(OPERATOR), h_device_register, 0},
    [FWC_TX_RELEASE] = {R(RELEASE), h_release, 1},
    [FWC_TX_RELEASE_REVOKE] = {R(RELEASE), h_release_revoke, 0},
    [FWC_TX_DEVICE_EVENT] = {R(GATEWAY) | R(OPERATOR), h_device_event, 1},
    [FWC_TX_CONFIG_UPDATE] = {R(OPERATOR), h_config_update, 0},
    [FWC_TX_LICENCE_ISSUE] = {R(OPERATOR), h_licence_issue, 0},
    [FWC_TX_LICENCE_REVOKE] = {R(OPERATOR), h_licence_revoke, 0},
    [FWC_TX_ROLLOUT_CONTROL] = {R(OPERATOR), h_rollout, 0},
    [FWC_TX_POSTPONE] = {R(OPERATOR), h_postpone, 0},
    [FWC_TX_VALIDATOR_SET] = {R(ADMIN), h_validator_set, 0},
};
#undef R

uint32_t node_state_type_roles(uint32_t type)
{
	return type <= FWC_TX_TYPE_MAX ? rules[type].roles : 0;
}

static int audit_put(struct ap *a, const char *refusal)
{
	return qexec(a->st, Q_AUDIT_PUT, "uihikssss", a->st->height, a->now, a->txid,
	             (int64_t)a->tx->type, &a->tx->sender, a->org, a->product, a->subject, refusal);
}

/* Checks 9..11 of docs/state-machine.md §3 and the type's rules. */
static int apply_rules(struct ap *a)
{
	const struct rule *r;
	struct fwc_errinfo ei;
	int rc;

	if (a->tx->type > FWC_TX_TYPE_MAX || rules[a->tx->type].apply == NULL)
		return fail(a, FWC_ERR_UNSUPPORTED, "unknown_type", "unknown transaction type %u",
		            (unsigned)a->tx->type);
	r = &rules[a->tx->type];
	if (!(a->roles & r->roles) && !(a->sender_is_device && a->tx->type == FWC_TX_DEVICE_EVENT))
		return fail(a, FWC_ERR_PERMISSIONS, "role_required", "%s needs role %s",
		            fwc_tx_type_name((int)a->tx->type),
		            r->roles & FWC_ROLE_BIT(FWC_ROLE_ADMIN)     ? "admin"
		            : r->roles & FWC_ROLE_BIT(FWC_ROLE_RELEASE) ? "release"
		            : a->tx->type == FWC_TX_DEVICE_EVENT        ? "gateway or operator"
		                                                        : "operator");
	memset(&ei, 0, sizeof(ei));
	if ((rc = fwc_payload_decode(&a->pl, a->tx->type, a->tx->payload.p, a->tx->payload.len,
	                             &ei)) < 0)
		return fail(a, rc, "malformed_payload", "payload: %s (at byte %zu)", ei.msg,
		            ei.offset);
	return r->apply(a);
}

/* Checks 1..8: reject (nothing recorded) when one fails. */
static int precheck(struct ap *a, const uint8_t *tx, size_t len)
{
	struct node_state *st = a->st;
	struct fwc_errinfo ei;
	sqlite3_stmt *s;
	uint64_t last = 0;
	int rc;

	memset(&ei, 0, sizeof(ei));
	if (a->decoded)
		a->stx = *a->decoded;
	else if ((rc = fwc_tx_decode(&a->stx, tx, len, &ei)) < 0)
		return why_fail(a->why, NODE_REFUSAL_REJECT, rc, "malformed_tx",
		                "transaction: %s (at byte %zu)", ei.msg, ei.offset);
	a->tx = &a->stx.tx;
	if (a->tx->chain_id.len != st->chain_id_len ||
	    memcmp(a->tx->chain_id.p, st->chain_id, st->chain_id_len) != 0)
		return why_fail(a->why, NODE_REFUSAL_REJECT, FWC_ERR_STATE, "chain_id_mismatch",
		                "chain id '%.*s', this ledger is '%s'",
		                (int)(a->tx->chain_id.len > 64 ? 64 : a->tx->chain_id.len),
		                a->tx->chain_id.p, st->chain_id);
	if (!a->envelope_verified && fwc_tx_verify(&a->stx, NULL) != FWC_OK)
		return why_fail(a->why, NODE_REFUSAL_REJECT, FWC_ERR_BADSIG, "bad_signature",
		                "the signature is not the sender's");
	if ((rc = key_revoked(st, &a->tx->sender)) < 0)
		return internal(a, rc);
	if (rc == 1)
		return why_fail(a->why, NODE_REFUSAL_REJECT, FWC_ERR_PERMISSIONS, "key_revoked",
		                "the sender key is revoked");
	if ((rc = member_get(st, &a->tx->sender, a->org, &a->roles)) < 0)
		return internal(a, rc);
	if (rc == 0) {
		struct device_info dev;

		if (a->tx->type == FWC_TX_DEVICE_EVENT) {
			if ((rc = device_get(st, &a->tx->sender, &dev)) < 0)
				return internal(a, rc);
			a->sender_is_device = rc == 1 && !dev.retired;
			a->sender_dev = dev;
		}
		if (!a->sender_is_device)
			return why_fail(a->why, NODE_REFUSAL_REJECT, FWC_ERR_PERMISSIONS,
			                "unknown_sender",
			                "the sender is not a member of any organisation");
		a->org[0] = '\0';
		a->roles = 0;
	}
	s = q(st, Q_NONCE_GET, "k", &a->tx->sender);
	if ((rc = qrow(s)) < 0)
		return internal(a, rc);
	if (rc == 1) {
		last = (uint64_t)sqlite3_column_int64(s, 0);
		sqlite3_reset(s);
	}
	if (a->tx->nonce <= last)
		return why_fail(a->why, NODE_REFUSAL_REJECT, FWC_ERR_STATE, "nonce_replay",
		                "nonce %llu already used (last %llu)",
		                (unsigned long long)a->tx->nonce, (unsigned long long)last);
	if (a->tx->nonce != last + 1 || a->tx->nonce > INT64_MAX)
		return why_fail(a->why, NODE_REFUSAL_REJECT, FWC_ERR_STATE, "nonce_gap",
		                "nonce %llu, expected %llu", (unsigned long long)a->tx->nonce,
		                (unsigned long long)(last + 1));
	if (a->tx->time > (uint64_t)(a->now + FUTURE_SKEW))
		return why_fail(a->why, NODE_REFUSAL_REJECT, FWC_ERR_RANGE, "time_in_future",
		                "transaction time %llu is after block time %lld + %d s",
		                (unsigned long long)a->tx->time, (long long)a->now, FUTURE_SKEW);
	if ((int64_t)a->tx->time < a->now - MAX_AGE)
		return why_fail(a->why, NODE_REFUSAL_REJECT, FWC_ERR_RANGE, "tx_expired",
		                "transaction time %llu is more than %d s before block time %lld",
		                (unsigned long long)a->tx->time, MAX_AGE, (long long)a->now);
	return FWC_OK;
}

int node_state_apply(struct node_state *st, sqlite3 *db, const uint8_t *tx, size_t len,
                     int64_t block_time, struct node_refusal *why)
{
	struct node_refusal local;
	const struct fwc_signed_tx *decoded = NULL;
	const uint8_t *txid = NULL;
	struct ap a;
	int rc, io, sp, verified = 0;

	/* The flags cover this call only, whatever path it returns by. */
	if (st != NULL) {
		verified = st->envelope_verified;
		decoded = st->decoded;
		txid = st->txid;
		st->envelope_verified = 0;
		st->decoded = NULL;
		st->txid = NULL;
	}
	if (why == NULL)
		why = &local;
	memset(why, 0, sizeof(*why));
	if (st == NULL || db == NULL || db != st->db || (tx == NULL && len != 0) ||
	    block_time < 0 || block_time > INT64_MAX - FUTURE_SKEW)
		return why_fail(why, NODE_REFUSAL_INTERNAL, FWC_ERR_ARG, "internal_error",
		                "invalid arguments");
	if (st->chain_id_len == 0)
		return why_fail(why, NODE_REFUSAL_INTERNAL, FWC_ERR_STATE, "not_initialised",
		                "the genesis has not been applied");
	memset(&a, 0, sizeof(a));
	a.st = st;
	a.why = why;
	a.now = block_time;
	a.envelope_verified = verified;
	a.decoded = decoded;
	if ((rc = precheck(&a, tx, len)) < 0)
		return rc;
	if (txid)
		memcpy(a.txid, txid, sizeof(a.txid));
	else if (fwc_tx_id(a.txid, tx, len) != FWC_OK)
		return internal(&a, FWC_ERR_CRYPTO);

	/* A handler that checks everything before it writes (rules[].checks_first) leaves
	 * nothing to undo when it refuses; an I/O error aborts the whole block anyway (the
	 * producer rolls its transaction back), so it runs without a savepoint. */
	sp = !(a.tx->type <= FWC_TX_TYPE_MAX && rules[a.tx->type].checks_first);
	if (sp && qexec(st, Q_SAVEPOINT, "") != FWC_OK)
		return internal(&a, FWC_ERR_IO);
	rc = apply_rules(&a);
	if (rc < 0 && sp) {
		/* Undo everything the handler wrote; keep the savepoint open for the record. */
		if (qexec(st, Q_SP_ROLLBACK, "") != FWC_OK) {
			(void)qexec(st, Q_SP_RELEASE, "");
			return internal(&a, FWC_ERR_IO);
		}
	}
	if (rc < 0 && why->kind == NODE_REFUSAL_INTERNAL) {
		if (sp)
			(void)qexec(st, Q_SP_RELEASE, "");
		return rc;
	}
	/* Applied or failed: the nonce is consumed and the audit trail records it. */
	io = qexec(st, Q_NONCE_PUT, "ku", &a.tx->sender, a.tx->nonce);
	if (io == FWC_OK)
		io = audit_put(&a, rc < 0 ? why->code : "");
	if (io != FWC_OK) {
		int err = internal(&a, io);

		if (sp) {
			(void)qexec(st, Q_SP_ROLLBACK, "");
			(void)qexec(st, Q_SP_RELEASE, "");
		}
		return err;
	}
	if (sp && qexec(st, Q_SP_RELEASE, "") != FWC_OK)
		return internal(&a, FWC_ERR_IO);
	return rc;
}

/* ---------------------------------------------------------------------------------------- */
/* Genesis                                                                                  */

int node_state_genesis(struct node_state *st, const char *chain_id, const char *org_id,
                       const char *org_name, const struct fwc_pubkey *admin, int64_t time,
                       struct node_refusal *why)
{
	struct node_refusal local;
	size_t clen;
	int rc = FWC_OK;

	if (why == NULL)
		why = &local;
	memset(why, 0, sizeof(*why));
	if (st == NULL || st->db == NULL || chain_id == NULL || org_id == NULL ||
	    org_name == NULL || admin == NULL)
		return why_fail(why, NODE_REFUSAL_INTERNAL, FWC_ERR_ARG, "internal_error",
		                "invalid arguments");
	clen = strlen(chain_id);
	if (clen == 0 || clen > NODE_STATE_CHAIN_ID_MAX ||
	    !fwc_utf8_valid((const uint8_t *)chain_id, clen, NULL) ||
	    !fwc_pl_id_valid(org_id, strlen(org_id), FWC_PL_ID_MAX) || strlen(org_name) == 0 ||
	    strlen(org_name) > FWC_PL_NAME_MAX || fwc_pubkey_check(admin) != FWC_OK)
		return why_fail(why, NODE_REFUSAL_REJECT, FWC_ERR_RANGE, "bad_genesis",
		                "bad chain id, organisation id or name, or admin key");
	if (st->chain_id_len != 0)
		return why_fail(why, NODE_REFUSAL_REJECT, FWC_ERR_STATE, "already_initialised",
		                "the genesis was already applied");
	if (qexec(st, Q_SAVEPOINT, "") != FWC_OK)
		goto io;
	if (qexec(st, Q_META_PUT, "sb", "chain_id", chain_id, clen) != FWC_OK ||
	    qexec(st, Q_META_PUT, "sb", "root_org", org_id, strlen(org_id)) != FWC_OK ||
	    qexec(st, Q_ORG_PUT, "ssin", org_id, org_name, time) != FWC_OK ||
	    qexec(st, Q_MEMBER_PUT, "ksini", admin, org_id, (int64_t)FWC_ROLE_BIT(FWC_ROLE_ADMIN),
	          time) != FWC_OK) {
		(void)qexec(st, Q_SP_ROLLBACK, "");
		(void)qexec(st, Q_SP_RELEASE, "");
		goto io;
	}
	if (qexec(st, Q_SP_RELEASE, "") != FWC_OK)
		goto io;
	memcpy(st->chain_id, chain_id, clen);
	st->chain_id[clen] = '\0';
	st->chain_id_len = clen;
	return rc;
io:
	return why_fail(why, NODE_REFUSAL_INTERNAL, FWC_ERR_IO, "internal_error", "database: %s",
	                sqlite3_errmsg(st->db));
}

int node_state_genesis_org(struct node_state *st, const char *org_id, const char *org_name,
                           const struct fwc_pubkey *admin, int64_t time, struct node_refusal *why)
{
	struct node_refusal local;
	sqlite3_stmt *s;
	int rc;

	if (why == NULL)
		why = &local;
	memset(why, 0, sizeof(*why));
	if (st == NULL || st->db == NULL || org_id == NULL || org_name == NULL || admin == NULL)
		return why_fail(why, NODE_REFUSAL_INTERNAL, FWC_ERR_ARG, "internal_error",
		                "invalid arguments");
	if (!fwc_pl_id_valid(org_id, strlen(org_id), FWC_PL_ID_MAX) || strlen(org_name) == 0 ||
	    strlen(org_name) > FWC_PL_NAME_MAX || fwc_pubkey_check(admin) != FWC_OK)
		return why_fail(why, NODE_REFUSAL_REJECT, FWC_ERR_RANGE, "bad_genesis",
		                "bad organisation id or name, or admin key");
	if (st->chain_id_len == 0)
		return why_fail(why, NODE_REFUSAL_REJECT, FWC_ERR_STATE, "not_initialised",
		                "apply node_state_genesis first");
	s = q(st, Q_ORG_GET, "s", org_id);
	if ((rc = qrow(s)) < 0)
		goto io;
	if (rc == 1) {
		sqlite3_reset(s);
		return why_fail(why, NODE_REFUSAL_REJECT, FWC_ERR_DUPLICATE, "org_exists",
		                "organisation '%s' exists", org_id);
	}
	if ((rc = member_get(st, admin, NULL, NULL)) < 0)
		goto io;
	if (rc == 1)
		return why_fail(why, NODE_REFUSAL_REJECT, FWC_ERR_DUPLICATE, "key_in_use",
		                "the admin key of '%s' is already a member", org_id);
	if (qexec(st, Q_ORG_PUT, "ssin", org_id, org_name, time) != FWC_OK ||
	    qexec(st, Q_MEMBER_PUT, "ksini", admin, org_id, (int64_t)FWC_ROLE_BIT(FWC_ROLE_ADMIN),
	          time) != FWC_OK)
		goto io;
	return FWC_OK;
io:
	return why_fail(why, NODE_REFUSAL_INTERNAL, FWC_ERR_IO, "internal_error", "database: %s",
	                sqlite3_errmsg(st->db));
}

/* ---------------------------------------------------------------------------------------- */
/* Queries                                                                                  */

static unsigned clamp_limit(unsigned limit)
{
	return limit == 0 ? 1 : limit > QUERY_LIMIT_MAX ? QUERY_LIMIT_MAX : limit;
}

static const char *col_str(sqlite3_stmt *s, int col)
{
	const unsigned char *t = sqlite3_column_text(s, col);

	return t ? (const char *)t : "";
}

/* A stored key: checked when its transaction was decoded, so only split here (re-checking
 * the curve point, a square root, cost as much as a tenth of a signature check per row). */
static void row_pubkey(struct fwc_pubkey *pk, sqlite3_stmt *s, int col)
{
	const uint8_t *b = sqlite3_column_blob(s, col);

	memset(pk, 0, sizeof(*pk));
	if (b != NULL && sqlite3_column_bytes(s, col) == FWC_PUBKEY_BIN_LEN) {
		pk->alg = b[0];
		memcpy(pk->key, b + 1, FWC_PUBKEY_LEN);
	}
}

/* The callback of a query and its context. */
struct walker {
	node_release_cb rel;
	node_device_cb dev;
	node_event_cb ev;
	node_audit_cb aud;
	void *ctx;
	int rows;
};

/* Walk the rows of a bound statement through fn; FWC_OK at the end or when fn stops. */
static int walk(sqlite3_stmt *s, int (*fn)(sqlite3_stmt *s, struct walker *w), struct walker *w)
{
	int rc;

	if (s == NULL)
		return FWC_ERR_IO;
	w->rows = 0;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		w->rows++;
		if (fn(s, w) != 0) {
			rc = SQLITE_DONE;
			break;
		}
	}
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? FWC_OK : FWC_ERR_IO;
}

static int release_row(sqlite3_stmt *s, struct walker *w)
{
	struct node_release_row r;

	memset(&r, 0, sizeof(r));
	if (sqlite3_column_bytes(s, 0) == 32)
		memcpy(r.id, sqlite3_column_blob(s, 0), 32);
	r.product = col_str(s, 1);
	r.channel = col_str(s, 2);
	r.version = col_str(s, 3);
	r.counter = (uint64_t)sqlite3_column_int64(s, 4);
	r.cid = sqlite3_column_blob(s, 5);
	r.cid_len = (size_t)sqlite3_column_bytes(s, 5);
	r.size = (uint64_t)sqlite3_column_int64(s, 6);
	r.sha256 = sqlite3_column_blob(s, 7);
	r.rollout = sqlite3_column_int(s, 8);
	r.revoked = sqlite3_column_int(s, 9);
	r.time = sqlite3_column_int64(s, 10);
	r.height = (uint64_t)sqlite3_column_int64(s, 11);
	r.manifest = sqlite3_column_blob(s, 12);
	r.manifest_len = (size_t)sqlite3_column_bytes(s, 12);
	r.txid = sqlite3_column_blob(s, 13);
	return w->rel(w->ctx, &r);
}

int node_state_releases(struct node_state *st, const char *product, const char *channel,
                        node_release_cb cb, void *ctx)
{
	struct walker w = {.rel = cb, .ctx = ctx};
	sqlite3_stmt *s;

	if (st == NULL || st->db == NULL || product == NULL || cb == NULL)
		return FWC_ERR_ARG;
	s = channel ? q(st, Q_RELEASES_CHANNEL, "ss", product, channel)
	            : q(st, Q_RELEASES, "s", product);
	return walk(s, release_row, &w);
}

int node_state_release_latest(struct node_state *st, const char *product, const char *channel,
                              const char *hwid, uint64_t counter, node_release_cb cb, void *ctx)
{
	struct walker w = {.rel = cb, .ctx = ctx};
	sqlite3_stmt *s;
	int rc;

	if (st == NULL || st->db == NULL || product == NULL || channel == NULL || hwid == NULL ||
	    cb == NULL)
		return FWC_ERR_ARG;
	/* Counters above INT64_MAX cannot be stored, so nothing is newer. */
	if (counter > INT64_MAX)
		return FWC_ERR_NOT_FOUND;
	s = q(st, Q_RELEASE_LATEST, "ssus", product, channel, counter, hwid);
	if ((rc = walk(s, release_row, &w)) < 0)
		return rc;
	return w.rows ? FWC_OK : FWC_ERR_NOT_FOUND;
}

int node_state_release_get(struct node_state *st, const uint8_t id[32], node_release_cb cb,
                           void *ctx)
{
	struct walker w = {.rel = cb, .ctx = ctx};
	int rc;

	if (st == NULL || st->db == NULL || id == NULL || cb == NULL)
		return FWC_ERR_ARG;
	if ((rc = walk(q(st, Q_RELEASE_BY_ID, "h", id), release_row, &w)) < 0)
		return rc;
	return w.rows ? FWC_OK : FWC_ERR_NOT_FOUND;
}

static int device_row(sqlite3_stmt *s, struct walker *w)
{
	struct node_device_row d;

	memset(&d, 0, sizeof(d));
	row_pubkey(&d.key, s, 0);
	d.product = col_str(s, 1);
	d.hwid = col_str(s, 2);
	d.region = col_str(s, 3);
	d.attrs = sqlite3_column_blob(s, 4);
	d.attrs_len = (size_t)sqlite3_column_bytes(s, 4);
	d.counter = (uint64_t)sqlite3_column_int64(s, 5);
	d.last_seq = (uint64_t)sqlite3_column_int64(s, 6);
	d.retired = sqlite3_column_int(s, 7);
	d.registered = sqlite3_column_int64(s, 8);
	d.groups = col_str(s, 9);
	return w->dev(w->ctx, &d);
}

int node_state_devices(struct node_state *st, const char *product, const char *group,
                       const struct fwc_pubkey *after, unsigned limit, node_device_cb cb, void *ctx)
{
	uint8_t from[FWC_PUBKEY_BIN_LEN] = {0};
	size_t flen = 0;
	struct walker w = {.dev = cb, .ctx = ctx};
	sqlite3_stmt *s;

	if (st == NULL || st->db == NULL || product == NULL || cb == NULL)
		return FWC_ERR_ARG;
	if (after) {
		key_bin(from, after);
		flen = sizeof(from);
	}
	/* An empty blob sorts before every key, so "after nothing" is the start. */
	s = group ? q(st, Q_DEVICES_GROUP, "sbis", product, from, flen, (int64_t)clamp_limit(limit),
	              group)
	          : q(st, Q_DEVICES, "sbi", product, from, flen, (int64_t)clamp_limit(limit));
	return walk(s, device_row, &w);
}

int node_state_device_get(struct node_state *st, const struct fwc_pubkey *key, node_device_cb cb,
                          void *ctx)
{
	struct walker w = {.dev = cb, .ctx = ctx};
	int rc;

	if (st == NULL || st->db == NULL || key == NULL || cb == NULL)
		return FWC_ERR_ARG;
	if ((rc = walk(q(st, Q_DEVICE_ONE, "k", key), device_row, &w)) < 0)
		return rc;
	return w.rows ? FWC_OK : FWC_ERR_NOT_FOUND;
}

int node_state_device_active(struct node_state *st, const struct fwc_pubkey *key)
{
	struct device_info d;
	int rc;

	if (st == NULL || st->db == NULL || key == NULL)
		return FWC_ERR_ARG;
	if ((rc = device_get(st, key, &d)) < 0)
		return FWC_ERR_IO;
	return rc == 1 && !d.retired;
}

static int event_row(sqlite3_stmt *s, struct walker *w)
{
	struct node_event_row e;

	memset(&e, 0, sizeof(e));
	row_pubkey(&e.device, s, 0);
	e.product = col_str(s, 1);
	e.seq = (uint64_t)sqlite3_column_int64(s, 2);
	e.kind = (uint64_t)sqlite3_column_int64(s, 3);
	e.device_time = (uint64_t)sqlite3_column_int64(s, 4);
	e.release = sqlite3_column_bytes(s, 5) == 32 ? sqlite3_column_blob(s, 5) : NULL;
	e.has_counter = sqlite3_column_type(s, 6) != SQLITE_NULL;
	e.counter = (uint64_t)sqlite3_column_int64(s, 6);
	e.detail = col_str(s, 7);
	row_pubkey(&e.relay, s, 8);
	e.time = sqlite3_column_int64(s, 9);
	e.height = (uint64_t)sqlite3_column_int64(s, 10);
	return w->ev(w->ctx, &e);
}

int node_state_device_events(struct node_state *st, const struct fwc_pubkey *device,
                             uint64_t before_seq, unsigned limit, node_event_cb cb, void *ctx)
{
	struct walker w = {.ev = cb, .ctx = ctx};

	if (st == NULL || st->db == NULL || device == NULL || cb == NULL)
		return FWC_ERR_ARG;
	if (before_seq == 0 || before_seq > INT64_MAX)
		before_seq = INT64_MAX;
	return walk(q(st, Q_DEVICE_EVENTS, "kui", device, before_seq, (int64_t)clamp_limit(limit)),
	            event_row, &w);
}

int node_state_events(struct node_state *st, const char *product, uint64_t kind, int64_t from,
                      int64_t to, unsigned limit, node_event_cb cb, void *ctx)
{
	struct walker w = {.ev = cb, .ctx = ctx};

	if (st == NULL || st->db == NULL || product == NULL || cb == NULL || kind > INT64_MAX)
		return FWC_ERR_ARG;
	return walk(q(st, Q_EVENTS, "siiui", product, from, to > 0 ? to : INT64_MAX, kind,
	              (int64_t)clamp_limit(limit)),
	            event_row, &w);
}

static int audit_row(sqlite3_stmt *s, struct walker *w)
{
	struct node_audit_row r;

	memset(&r, 0, sizeof(r));
	r.seq = (uint64_t)sqlite3_column_int64(s, 0);
	r.height = (uint64_t)sqlite3_column_int64(s, 1);
	r.time = sqlite3_column_int64(s, 2);
	r.txid = sqlite3_column_blob(s, 3);
	r.type = sqlite3_column_int(s, 4);
	row_pubkey(&r.sender, s, 5);
	r.org = col_str(s, 6);
	r.product = col_str(s, 7);
	r.subject = col_str(s, 8);
	r.refusal = col_str(s, 9);
	return w->aud(w->ctx, &r);
}

int node_state_audit(struct node_state *st, const struct node_audit_filter *f, node_audit_cb cb,
                     void *ctx)
{
	struct walker w = {.aud = cb, .ctx = ctx};

	if (st == NULL || st->db == NULL || f == NULL || cb == NULL || f->after > INT64_MAX)
		return FWC_ERR_ARG;
	return walk(q(st, Q_AUDIT,
	              "ussk"
	              "iiiii",
	              f->after, f->org, f->product, f->sender, (int64_t)f->type, f->from,
	              f->to > 0 ? f->to : INT64_MAX, (int64_t)f->failed,
	              (int64_t)clamp_limit(f->limit)),
	            audit_row, &w);
}

int node_state_member(struct node_state *st, const struct fwc_pubkey *key, char *org,
                      uint32_t *roles)
{
	int rc;

	if (st == NULL || st->db == NULL || key == NULL)
		return FWC_ERR_ARG;
	rc = member_get(st, key, org, roles);
	return rc < 0 ? FWC_ERR_IO : rc == 0 ? FWC_ERR_NOT_FOUND : FWC_OK;
}

int node_state_keyset(struct node_state *st, const char *product, int set, uint8_t **out,
                      size_t *len, uint64_t *version)
{
	sqlite3_stmt *s;
	int rc, col = set == FWC_ROTATE_ROOT ? 1 : 3;
	size_t n;
	uint8_t *buf;

	if (st == NULL || st->db == NULL || product == NULL || out == NULL || len == NULL ||
	    (set != FWC_ROTATE_ROOT && set != FWC_ROTATE_RELEASE))
		return FWC_ERR_ARG;
	s = q(st, Q_PRODUCT_GET, "s", product);
	if ((rc = qrow(s)) < 0)
		return FWC_ERR_IO;
	if (rc == 0)
		return FWC_ERR_NOT_FOUND;
	if (sqlite3_column_type(s, col) == SQLITE_NULL) {
		sqlite3_reset(s);
		return FWC_ERR_NOT_FOUND;
	}
	n = (size_t)sqlite3_column_bytes(s, col);
	if ((buf = malloc(n ? n : 1)) == NULL) {
		sqlite3_reset(s);
		return FWC_ERR_NOMEM;
	}
	memcpy(buf, sqlite3_column_blob(s, col), n);
	if (version)
		*version = (uint64_t)sqlite3_column_int64(s, col + 1);
	sqlite3_reset(s);
	*out = buf;
	*len = n;
	return FWC_OK;
}

int node_state_nonce(struct node_state *st, const struct fwc_pubkey *sender, uint64_t *nonce)
{
	sqlite3_stmt *s;
	int rc;

	if (st == NULL || st->db == NULL || sender == NULL || nonce == NULL)
		return FWC_ERR_ARG;
	s = q(st, Q_NONCE_GET, "k", sender);
	if ((rc = qrow(s)) < 0)
		return FWC_ERR_IO;
	*nonce = rc == 1 ? (uint64_t)sqlite3_column_int64(s, 0) : 0;
	if (rc == 1)
		sqlite3_reset(s);
	return FWC_OK;
}
