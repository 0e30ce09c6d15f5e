/* Read queries over the state_ tables for the query API (organisations, members, products,
 * revocations, and filtered listings of releases, devices, events and the audit trail).
 *
 * Design: every listing is keyset-paginated (WHERE position > last one seen ORDER BY position
 * LIMIT n), never OFFSET, so a page costs the same whatever its depth and a row inserted
 * meanwhile neither repeats nor hides another. Optional filters are not written as
 * "(?x IS NULL OR col = ?x)": SQLite plans a statement once, and such a disjunction cannot
 * use an index. Instead each combination of filters present gets its own SQL text, built
 * here, with named parameters, prepared once and kept in a small per-connection cache keyed
 * by (query, filter mask); so "audit of one sender" walks the (sender, seq) index and "audit
 * of everything" walks the primary key. Nothing here writes. */
#include "state_query.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Query kinds: the high half of a cache key (the low half is the filter mask). */
enum {
	K_ORGS = 1,
	K_ORG_ONE,
	K_MEMBERS,
	K_PRODUCTS,
	K_PRODUCT_ONE,
	K_PRODUCT_REVOKED,
	K_RELEASES,
	K_RELEASE_REVOCATION,
	K_DEVICES,
	K_DEVICE_RELEASE,
	K_EVENTS,
	K_AUDIT,
	K_CHECKIN_RELEASES,
	K_POSTPONE_MAX,
	K_DEVICE_POSTPONED,
	K_DEVICE_LICENCES,
	K_LICENCE_DEVICE,
	K_DEVICE_CHECKIN,
	K_DEVICES_SCAN,
	K_DEVICE_COUNT,
};

#define ORG_COLS                                                                                   \
	"o.id, o.name, o.created, o.id = (SELECT CAST(v AS TEXT) FROM state_meta WHERE k = "       \
	"'root_org')"
#define PRODUCT_COLS "id, org, name, created, root_set, root_version, release_set, release_version"
/* Same columns and order as node/state.c's, so rows read the same way. */
#define RELEASE_COLS                                                                               \
	"id, product, channel, version, counter, cid, size, sha256, rollout, revoked, time, "      \
	"height, manifest, txid"
#define DEVICE_COLS                                                                                \
	"d.key, d.product, d.hwid, d.region, d.attrs, d.counter, d.last_seq, d.retired, "          \
	"d.registered, (SELECT coalesce(group_concat(grp, ','), '') FROM (SELECT grp FROM "        \
	"state_device_groups g WHERE g.device = d.key ORDER BY grp))"
#define EVENT_COLS                                                                                 \
	"device, product, seq, kind, device_time, release, counter, detail, relay, time, height"

int node_stateq_open(struct node_stateq *q, sqlite3 *db)
{
	if (q == NULL || db == NULL)
		return FWC_ERR_ARG;
	memset(q, 0, sizeof(*q));
	q->db = db;
	return FWC_OK;
}

void node_stateq_close(struct node_stateq *q)
{
	if (q == NULL)
		return;
	for (size_t i = 0; i < NODE_STATEQ_CACHE; i++) {
		sqlite3_finalize(q->cache[i].stmt);
		q->cache[i].stmt = NULL;
		q->cache[i].key = 0;
	}
	q->db = NULL;
}

/* ---------------------------------------------------------------------------------------- */
/* Statement cache and binding                                                              */

/* A small SQL text builder with a hard cap: an overflow makes the whole text invalid. */
struct sqlbuf {
	char s[1024];
	size_t n;
	int bad;
};

static void sql_add(struct sqlbuf *b, const char *t)
{
	size_t len = strlen(t);

	if (b->bad || b->n + len >= sizeof(b->s)) {
		b->bad = 1;
		return;
	}
	memcpy(b->s + b->n, t, len + 1);
	b->n += len;
}

/* The cached statement for key, reset and unbound, or prepared from the SQL that build()
 * writes for it. NULL when the SQL does not prepare (no state_ tables, for one). */
static sqlite3_stmt *stmt_get(struct node_stateq *q, uint32_t key,
                              void (*build)(struct sqlbuf *b, uint32_t mask))
{
	struct sqlbuf b = {.n = 0};
	sqlite3_stmt *s = NULL;
	size_t slot;

	for (size_t i = 0; i < NODE_STATEQ_CACHE; i++) {
		if (q->cache[i].stmt && q->cache[i].key == key) {
			s = q->cache[i].stmt;
			sqlite3_reset(s);
			sqlite3_clear_bindings(s);
			return s;
		}
	}
	build(&b, key & 0xffffu);
	if (b.bad || sqlite3_prepare_v3(q->db, b.s, (int)b.n + 1, SQLITE_PREPARE_PERSISTENT, &s,
	                                NULL) != SQLITE_OK) {
		sqlite3_finalize(s);
		return NULL;
	}
	/* A free slot, else evict in turn (the cache only holds the variants in use). */
	slot = NODE_STATEQ_CACHE;
	for (size_t i = 0; i < NODE_STATEQ_CACHE && slot == NODE_STATEQ_CACHE; i++)
		if (q->cache[i].stmt == NULL)
			slot = i;
	if (slot == NODE_STATEQ_CACHE) {
		slot = q->next_evict;
		q->next_evict = (q->next_evict + 1) % NODE_STATEQ_CACHE;
		sqlite3_finalize(q->cache[slot].stmt);
	}
	q->cache[slot].stmt = s;
	q->cache[slot].key = key;
	return s;
}

/* Bind by name; a name the statement's variant does not use is skipped (its filter is off). */
static int bind_i64(sqlite3_stmt *s, const char *name, int64_t v)
{
	int i = sqlite3_bind_parameter_index(s, name);

	return i == 0 || sqlite3_bind_int64(s, i, v) == SQLITE_OK ? 0 : -1;
}

static int bind_text(sqlite3_stmt *s, const char *name, const char *t)
{
	int i = sqlite3_bind_parameter_index(s, name);

	return i == 0 || sqlite3_bind_text(s, i, t ? t : "", -1, SQLITE_STATIC) == SQLITE_OK ? 0
	                                                                                     : -1;
}

static int bind_blob(sqlite3_stmt *s, const char *name, const void *p, size_t n)
{
	int i = sqlite3_bind_parameter_index(s, name);

	/* SQLite copies: the callers' key buffers live on their stacks. */
	return i == 0 || sqlite3_bind_blob(s, i, n ? p : "", (int)n, SQLITE_TRANSIENT) == SQLITE_OK
	           ? 0
	           : -1;
}

static int bind_key(sqlite3_stmt *s, const char *name, const struct fwc_pubkey *pk)
{
	uint8_t bin[FWC_PUBKEY_BIN_LEN];

	if (pk == NULL)
		return bind_blob(s, name, NULL, 0); /* the empty blob sorts before every key */
	if (fwc_pubkey_to_bin(bin, pk) != FWC_OK)
		return -1;
	return bind_blob(s, name, bin, sizeof(bin));
}

static unsigned clamp_limit(unsigned limit)
{
	return limit == 0 ? 1 : limit > NODE_STATEQ_LIMIT_MAX ? NODE_STATEQ_LIMIT_MAX : limit;
}

static const char *col_str(sqlite3_stmt *s, int col)
{
	const unsigned char *t = sqlite3_column_text(s, col);

	return t ? (const char *)t : "";
}

static void col_key(struct fwc_pubkey *pk, sqlite3_stmt *s, int col)
{
	memset(pk, 0, sizeof(*pk));
	(void)fwc_pubkey_from_bin(pk, sqlite3_column_blob(s, col),
	                          (size_t)sqlite3_column_bytes(s, col), NULL);
}

/* The caller's callback, whichever row type it takes (kept out of void *, which cannot hold a
 * function pointer in ISO C). */
union row_cb {
	node_org_cb org;
	node_member_cb member;
	node_product_cb product;
	node_revoked_key_cb revoked;
	node_release_cb release;
	node_device_cb device;
	node_event_cb event;
	node_audit_log_cb audit;
	node_licence_cb licence;
};

/* Walk the rows of s through row(s, fn, ctx); FWC_OK at the end or when the callback stops.
 * *rows (optional) gets the number of rows seen. */
static int walk(sqlite3_stmt *s, int (*row)(sqlite3_stmt *s, union row_cb fn, void *ctx),
                union row_cb fn, void *ctx, int *rows)
{
	int rc, n = 0;

	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		n++;
		if (row(s, fn, ctx) != 0) {
			rc = SQLITE_DONE;
			break;
		}
	}
	sqlite3_reset(s);
	if (rows)
		*rows = n;
	return rc == SQLITE_DONE ? FWC_OK : FWC_ERR_IO;
}

/* ---------------------------------------------------------------------------------------- */
/* Organisations and members                                                                */

static void build_orgs(struct sqlbuf *b, uint32_t mask)
{
	(void)mask;
	sql_add(b, "SELECT " ORG_COLS " FROM state_orgs o WHERE o.id > :after ORDER BY o.id "
	           "LIMIT :limit");
}

static void build_org_one(struct sqlbuf *b, uint32_t mask)
{
	(void)mask;
	sql_add(b, "SELECT " ORG_COLS " FROM state_orgs o WHERE o.id = :id");
}

static int org_row(sqlite3_stmt *s, union row_cb fn, void *ctx)
{
	struct node_org_row o;

	o.id = col_str(s, 0);
	o.name = col_str(s, 1);
	o.created = sqlite3_column_int64(s, 2);
	o.root = sqlite3_column_int(s, 3) != 0;
	return fn.org(ctx, &o);
}

int node_stateq_orgs(struct node_stateq *q, const char *after, unsigned limit, node_org_cb cb,
                     void *ctx)
{
	sqlite3_stmt *s;

	if (q == NULL || q->db == NULL || cb == NULL)
		return FWC_ERR_ARG;
	if ((s = stmt_get(q, (uint32_t)K_ORGS << 16, build_orgs)) == NULL)
		return FWC_ERR_IO;
	if (bind_text(s, ":after", after ? after : "") ||
	    bind_i64(s, ":limit", (int64_t)clamp_limit(limit)))
		return FWC_ERR_IO;
	return walk(s, org_row, (union row_cb){.org = cb}, ctx, NULL);
}

int node_stateq_org_get(struct node_stateq *q, const char *id, node_org_cb cb, void *ctx)
{
	sqlite3_stmt *s;
	int rc, rows = 0;

	if (q == NULL || q->db == NULL || id == NULL || cb == NULL)
		return FWC_ERR_ARG;
	if ((s = stmt_get(q, (uint32_t)K_ORG_ONE << 16, build_org_one)) == NULL)
		return FWC_ERR_IO;
	if (bind_text(s, ":id", id))
		return FWC_ERR_IO;
	if ((rc = walk(s, org_row, (union row_cb){.org = cb}, ctx, &rows)) != FWC_OK)
		return rc;
	return rows ? FWC_OK : FWC_ERR_NOT_FOUND;
}

static void build_members(struct sqlbuf *b, uint32_t mask)
{
	(void)mask;
	sql_add(b, "SELECT key, roles, coalesce(label, ''), since FROM state_members WHERE "
	           "org = :org AND key > :after ORDER BY key LIMIT :limit");
}

static int member_row(sqlite3_stmt *s, union row_cb fn, void *ctx)
{
	struct node_member_row m;

	col_key(&m.key, s, 0);
	m.roles = (uint32_t)sqlite3_column_int64(s, 1);
	m.label = col_str(s, 2);
	m.since = sqlite3_column_int64(s, 3);
	return fn.member(ctx, &m);
}

int node_stateq_members(struct node_stateq *q, const char *org, const struct fwc_pubkey *after,
                        unsigned limit, node_member_cb cb, void *ctx)
{
	sqlite3_stmt *s;

	if (q == NULL || q->db == NULL || org == NULL || cb == NULL)
		return FWC_ERR_ARG;
	if ((s = stmt_get(q, (uint32_t)K_MEMBERS << 16, build_members)) == NULL)
		return FWC_ERR_IO;
	if (bind_text(s, ":org", org) || bind_key(s, ":after", after) ||
	    bind_i64(s, ":limit", (int64_t)clamp_limit(limit)))
		return FWC_ERR_IO;
	return walk(s, member_row, (union row_cb){.member = cb}, ctx, NULL);
}

/* ---------------------------------------------------------------------------------------- */
/* Products                                                                                 */

#define PM_ORG 1u

static void build_products(struct sqlbuf *b, uint32_t mask)
{
	sql_add(b, "SELECT " PRODUCT_COLS " FROM state_products WHERE id > :after");
	if (mask & PM_ORG)
		sql_add(b, " AND org = :org");
	sql_add(b, " ORDER BY id LIMIT :limit");
}

static void build_product_one(struct sqlbuf *b, uint32_t mask)
{
	(void)mask;
	sql_add(b, "SELECT " PRODUCT_COLS " FROM state_products WHERE id = :id");
}

static int product_row(sqlite3_stmt *s, union row_cb fn, void *ctx)
{
	struct node_product_row p;

	p.id = col_str(s, 0);
	p.org = col_str(s, 1);
	p.name = col_str(s, 2);
	p.created = sqlite3_column_int64(s, 3);
	p.root_set = sqlite3_column_blob(s, 4);
	p.root_set_len = (size_t)sqlite3_column_bytes(s, 4);
	p.root_version = (uint64_t)sqlite3_column_int64(s, 5);
	p.release_set = sqlite3_column_type(s, 6) == SQLITE_NULL ? NULL : sqlite3_column_blob(s, 6);
	p.release_set_len = p.release_set ? (size_t)sqlite3_column_bytes(s, 6) : 0;
	p.release_version = (uint64_t)sqlite3_column_int64(s, 7);
	return fn.product(ctx, &p);
}

int node_stateq_products(struct node_stateq *q, const char *org, const char *after, unsigned limit,
                         node_product_cb cb, void *ctx)
{
	sqlite3_stmt *s;
	uint32_t mask = org ? PM_ORG : 0;

	if (q == NULL || q->db == NULL || cb == NULL)
		return FWC_ERR_ARG;
	if ((s = stmt_get(q, (uint32_t)K_PRODUCTS << 16 | mask, build_products)) == NULL)
		return FWC_ERR_IO;
	if (bind_text(s, ":after", after ? after : "") || bind_text(s, ":org", org) ||
	    bind_i64(s, ":limit", (int64_t)clamp_limit(limit)))
		return FWC_ERR_IO;
	return walk(s, product_row, (union row_cb){.product = cb}, ctx, NULL);
}

int node_stateq_product_get(struct node_stateq *q, const char *id, node_product_cb cb, void *ctx)
{
	sqlite3_stmt *s;
	int rc, rows = 0;

	if (q == NULL || q->db == NULL || id == NULL || cb == NULL)
		return FWC_ERR_ARG;
	if ((s = stmt_get(q, (uint32_t)K_PRODUCT_ONE << 16, build_product_one)) == NULL)
		return FWC_ERR_IO;
	if (bind_text(s, ":id", id))
		return FWC_ERR_IO;
	if ((rc = walk(s, product_row, (union row_cb){.product = cb}, ctx, &rows)) != FWC_OK)
		return rc;
	return rows ? FWC_OK : FWC_ERR_NOT_FOUND;
}

static void build_product_revoked(struct sqlbuf *b, uint32_t mask)
{
	(void)mask;
	/* state_product_keys is keyed (key, product): this scans it, which stays small (the
	 * keys every product ever listed in a set), and joins the revocations by key. */
	sql_add(b, "SELECT r.key, r.org, r.reason, r.time, r.txid FROM state_product_keys k "
	           "JOIN state_revoked r ON r.key = k.key WHERE k.product = :product "
	           "ORDER BY r.time, r.key");
}

static int revoked_key_row(sqlite3_stmt *s, union row_cb fn, void *ctx)
{
	struct node_revoked_key_row r;

	col_key(&r.key, s, 0);
	r.org = col_str(s, 1);
	r.reason = col_str(s, 2);
	r.time = sqlite3_column_int64(s, 3);
	r.txid = sqlite3_column_bytes(s, 4) == 32 ? sqlite3_column_blob(s, 4) : NULL;
	if (r.txid == NULL)
		return 0; /* cannot happen with the state machine's rows; skip rather than lie */
	return fn.revoked(ctx, &r);
}

int node_stateq_product_revoked_keys(struct node_stateq *q, const char *product,
                                     node_revoked_key_cb cb, void *ctx)
{
	sqlite3_stmt *s;

	if (q == NULL || q->db == NULL || product == NULL || cb == NULL)
		return FWC_ERR_ARG;
	if ((s = stmt_get(q, (uint32_t)K_PRODUCT_REVOKED << 16, build_product_revoked)) == NULL)
		return FWC_ERR_IO;
	if (bind_text(s, ":product", product))
		return FWC_ERR_IO;
	return walk(s, revoked_key_row, (union row_cb){.revoked = cb}, ctx, NULL);
}

/* ---------------------------------------------------------------------------------------- */
/* Releases                                                                                 */

#define RM_CHANNEL 1u
#define RM_REVOKED 2u

static void build_releases(struct sqlbuf *b, uint32_t mask)
{
	sql_add(b, "SELECT " RELEASE_COLS " FROM state_releases WHERE product = :product");
	if (mask & RM_CHANNEL)
		sql_add(b, " AND channel = :channel");
	if (mask & RM_REVOKED)
		sql_add(b, " AND revoked = :revoked");
	/* The position of the previous page's last row in (counter DESC, channel) order. */
	sql_add(b, " AND (counter < :acounter OR (counter = :acounter AND channel > :achannel))"
	           " ORDER BY counter DESC, channel LIMIT :limit");
}

static int release_row(sqlite3_stmt *s, union row_cb fn, void *ctx)
{
	struct node_release_row r;

	memset(&r, 0, sizeof(r));
	if (sqlite3_column_bytes(s, 0) != 32 || sqlite3_column_bytes(s, 7) != 32 ||
	    sqlite3_column_bytes(s, 13) != 32)
		return 0; /* not a row the state machine writes */
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
	return fn.release(ctx, &r);
}

int node_stateq_releases(struct node_stateq *q, const char *product, const char *channel,
                         int has_after, uint64_t after_counter, const char *after_channel,
                         int revoked, unsigned limit, node_release_cb cb, void *ctx)
{
	sqlite3_stmt *s;
	uint32_t mask = (channel ? RM_CHANNEL : 0) | (revoked >= 0 ? RM_REVOKED : 0);

	if (q == NULL || q->db == NULL || product == NULL || cb == NULL ||
	    (has_after && (after_counter > INT64_MAX || after_channel == NULL)))
		return FWC_ERR_ARG;
	if ((s = stmt_get(q, (uint32_t)K_RELEASES << 16 | mask, build_releases)) == NULL)
		return FWC_ERR_IO;
	/* Without a position, (INT64_MAX, "") precedes every row: counters are at most
	 * INT64_MAX and channels are never empty. */
	if (bind_text(s, ":product", product) || bind_text(s, ":channel", channel) ||
	    bind_i64(s, ":revoked", revoked > 0) ||
	    bind_i64(s, ":acounter", has_after ? (int64_t)after_counter : INT64_MAX) ||
	    bind_text(s, ":achannel", has_after ? after_channel : "") ||
	    bind_i64(s, ":limit", (int64_t)clamp_limit(limit)))
		return FWC_ERR_IO;
	return walk(s, release_row, (union row_cb){.release = cb}, ctx, NULL);
}

static void build_release_revocation(struct sqlbuf *b, uint32_t mask)
{
	(void)mask;
	sql_add(b, "SELECT revoked, coalesce(revoke_reason, ''), coalesce(revoke_time, 0) FROM "
	           "state_releases WHERE id = :id");
}

int node_stateq_release_revocation(struct node_stateq *q, const uint8_t id[32], int *revoked,
                                   char *reason, size_t cap, int64_t *time)
{
	sqlite3_stmt *s;
	int rc;

	if (q == NULL || q->db == NULL || id == NULL || revoked == NULL || reason == NULL ||
	    cap == 0 || time == NULL)
		return FWC_ERR_ARG;
	s = stmt_get(q, (uint32_t)K_RELEASE_REVOCATION << 16, build_release_revocation);
	if (s == NULL || bind_blob(s, ":id", id, 32))
		return FWC_ERR_IO;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		snprintf(reason, cap, "%s", col_str(s, 1));
		*revoked = sqlite3_column_int(s, 0) != 0;
		*time = sqlite3_column_int64(s, 2);
	}
	sqlite3_reset(s);
	return rc == SQLITE_ROW ? FWC_OK : rc == SQLITE_DONE ? FWC_ERR_NOT_FOUND : FWC_ERR_IO;
}

/* ---------------------------------------------------------------------------------------- */
/* Devices                                                                                  */

#define DM_PRODUCT 1u
#define DM_GROUP 2u
#define DM_STATUS 4u

static void build_devices(struct sqlbuf *b, uint32_t mask)
{
	if (mask & DM_GROUP) {
		/* Walk the (product, group, device) index: the group's members in key order. */
		sql_add(b, "SELECT " DEVICE_COLS " FROM state_device_groups g0 JOIN state_devices d"
		           " ON d.key = g0.device WHERE g0.product = :product AND g0.grp = :grp"
		           " AND g0.device > :after");
		if (mask & DM_STATUS)
			sql_add(b, " AND d.retired = :retired");
		sql_add(b, " ORDER BY g0.device LIMIT :limit");
		return;
	}
	sql_add(b, "SELECT " DEVICE_COLS " FROM state_devices d WHERE d.key > :after");
	if (mask & DM_PRODUCT)
		sql_add(b, " AND d.product = :product");
	if (mask & DM_STATUS)
		sql_add(b, " AND d.retired = :retired");
	sql_add(b, " ORDER BY d.key LIMIT :limit");
}

static int device_row(sqlite3_stmt *s, union row_cb fn, void *ctx)
{
	struct node_device_row d;

	memset(&d, 0, sizeof(d));
	col_key(&d.key, s, 0);
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
	return fn.device(ctx, &d);
}

int node_stateq_devices(struct node_stateq *q, const struct node_device_filter *f,
                        node_device_cb cb, void *ctx)
{
	sqlite3_stmt *s;
	uint32_t mask;

	if (q == NULL || q->db == NULL || f == NULL || cb == NULL ||
	    (f->group && f->product == NULL))
		return FWC_ERR_ARG;
	mask = (f->product ? DM_PRODUCT : 0) | (f->group ? DM_GROUP : 0) |
	       (f->retired >= 0 ? DM_STATUS : 0);
	if ((s = stmt_get(q, (uint32_t)K_DEVICES << 16 | mask, build_devices)) == NULL)
		return FWC_ERR_IO;
	if (bind_key(s, ":after", f->after) || bind_text(s, ":product", f->product) ||
	    bind_text(s, ":grp", f->group) || bind_i64(s, ":retired", f->retired > 0) ||
	    bind_i64(s, ":limit", (int64_t)clamp_limit(f->limit)))
		return FWC_ERR_IO;
	return walk(s, device_row, (union row_cb){.device = cb}, ctx, NULL);
}

static void build_device_release(struct sqlbuf *b, uint32_t mask)
{
	(void)mask;
	sql_add(b, "SELECT release FROM state_devices WHERE key = :key");
}

int node_stateq_device_release(struct node_stateq *q, const struct fwc_pubkey *device,
                               uint8_t id[32], int *has)
{
	sqlite3_stmt *s;
	int rc;

	if (q == NULL || q->db == NULL || device == NULL || id == NULL || has == NULL)
		return FWC_ERR_ARG;
	s = stmt_get(q, (uint32_t)K_DEVICE_RELEASE << 16, build_device_release);
	if (s == NULL || bind_key(s, ":key", device))
		return FWC_ERR_IO;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*has = sqlite3_column_bytes(s, 0) == 32;
		if (*has)
			memcpy(id, sqlite3_column_blob(s, 0), 32);
	}
	sqlite3_reset(s);
	return rc == SQLITE_ROW ? FWC_OK : rc == SQLITE_DONE ? FWC_ERR_NOT_FOUND : FWC_ERR_IO;
}

/* ---------------------------------------------------------------------------------------- */
/* Events                                                                                   */

#define EM_DEVICE 1u
#define EM_PRODUCT 2u
#define EM_KIND 4u
#define EM_FROM 8u
#define EM_TO 16u
#define EM_AFTER 32u
#define EM_DESC 64u

static void build_events(struct sqlbuf *b, uint32_t mask)
{
	sql_add(b, "SELECT " EVENT_COLS " FROM state_events WHERE ");
	sql_add(b, mask & EM_DEVICE ? "device = :device" : "product = :product");
	if ((mask & EM_DEVICE) && (mask & EM_PRODUCT))
		sql_add(b, " AND product = :product");
	if (mask & EM_KIND)
		sql_add(b, " AND kind = :kind");
	if (mask & EM_FROM)
		sql_add(b, " AND time >= :from");
	if (mask & EM_TO)
		sql_add(b, " AND time <= :to");
	if (mask & EM_DEVICE) {
		/* One device: its sequence numbers follow the log, so seq alone is the order and
		 * the (device, seq) primary key serves both the range and the order. */
		if (mask & EM_AFTER)
			sql_add(b, mask & EM_DESC ? " AND seq < :aseq" : " AND seq > :aseq");
		sql_add(b, mask & EM_DESC ? " ORDER BY seq DESC" : " ORDER BY seq");
	} else {
		/* time >= :atime alone lets the (product, time) index start at the position; the
		 * disjunction then skips the rows of that second already returned. */
		if (mask & EM_AFTER)
			sql_add(b, " AND time >= :atime AND (time > :atime OR device > :adevice OR"
			           " (device = :adevice AND seq > :aseq))");
		sql_add(b, " ORDER BY time, device, seq");
	}
	sql_add(b, " LIMIT :limit");
}

static int event_row(sqlite3_stmt *s, union row_cb fn, void *ctx)
{
	struct node_event_row e;

	memset(&e, 0, sizeof(e));
	col_key(&e.device, s, 0);
	e.product = col_str(s, 1);
	e.seq = (uint64_t)sqlite3_column_int64(s, 2);
	e.kind = (uint64_t)sqlite3_column_int64(s, 3);
	e.device_time = (uint64_t)sqlite3_column_int64(s, 4);
	e.release = sqlite3_column_bytes(s, 5) == 32 ? sqlite3_column_blob(s, 5) : NULL;
	e.has_counter = sqlite3_column_type(s, 6) != SQLITE_NULL;
	e.counter = (uint64_t)sqlite3_column_int64(s, 6);
	e.detail = col_str(s, 7);
	col_key(&e.relay, s, 8);
	e.time = sqlite3_column_int64(s, 9);
	e.height = (uint64_t)sqlite3_column_int64(s, 10);
	return fn.event(ctx, &e);
}

int node_stateq_events(struct node_stateq *q, const struct node_event_filter *f, node_event_cb cb,
                       void *ctx)
{
	sqlite3_stmt *s;
	uint32_t mask;

	if (q == NULL || q->db == NULL || f == NULL || cb == NULL ||
	    (f->device == NULL && f->product == NULL) || (f->desc && f->device == NULL) ||
	    f->kind > INT64_MAX || (f->has_after && f->after_seq > INT64_MAX))
		return FWC_ERR_ARG;
	mask = (f->device ? EM_DEVICE : 0) | (f->product ? EM_PRODUCT : 0) |
	       (f->kind ? EM_KIND : 0) | (f->has_from ? EM_FROM : 0) | (f->has_to ? EM_TO : 0) |
	       (f->has_after ? EM_AFTER : 0) | (f->desc ? EM_DESC : 0);
	if ((s = stmt_get(q, (uint32_t)K_EVENTS << 16 | mask, build_events)) == NULL)
		return FWC_ERR_IO;
	if (bind_key(s, ":device", f->device) || bind_text(s, ":product", f->product) ||
	    bind_i64(s, ":kind", (int64_t)f->kind) || bind_i64(s, ":from", f->from) ||
	    bind_i64(s, ":to", f->to) || bind_i64(s, ":atime", f->after_time) ||
	    bind_key(s, ":adevice", f->has_after ? &f->after_device : NULL) ||
	    bind_i64(s, ":aseq", (int64_t)f->after_seq) ||
	    bind_i64(s, ":limit", (int64_t)clamp_limit(f->limit)))
		return FWC_ERR_IO;
	return walk(s, event_row, (union row_cb){.event = cb}, ctx, NULL);
}

/* ---------------------------------------------------------------------------------------- */
/* Audit trail                                                                              */

#define AM_ORG 1u
#define AM_PRODUCT 2u
#define AM_SENDER 4u
#define AM_SUBJECT 8u
#define AM_TYPE 16u
#define AM_FROM 32u
#define AM_TO 64u
#define AM_FAILED 128u
#define AM_DESC 256u
#define AM_AFTER 512u
#define AM_LOG 1024u

static void build_audit(struct sqlbuf *b, uint32_t mask)
{
	sql_add(b, "SELECT a.seq, a.height, a.time, a.txid, a.type, a.sender, a.org, a.product, "
	           "a.subject, a.refusal");
	if (mask & AM_LOG)
		sql_add(b, ", t.nonce, t.leaf_index FROM state_audit a LEFT JOIN txs t ON "
		           "t.id = a.txid");
	else
		sql_add(b, ", NULL, NULL FROM state_audit a");
	sql_add(b, " WHERE 1");
	if (mask & AM_AFTER)
		sql_add(b, mask & AM_DESC ? " AND a.seq < :after" : " AND a.seq > :after");
	if (mask & AM_ORG)
		sql_add(b, " AND a.org = :org");
	if (mask & AM_PRODUCT)
		sql_add(b, " AND a.product = :product");
	if (mask & AM_SENDER)
		sql_add(b, " AND a.sender = :sender");
	if (mask & AM_SUBJECT)
		sql_add(b, " AND a.subject = :subject");
	if (mask & AM_TYPE)
		sql_add(b, " AND a.type = :type");
	if (mask & AM_FROM)
		sql_add(b, " AND a.time >= :from");
	if (mask & AM_TO)
		sql_add(b, " AND a.time <= :to");
	if (mask & AM_FAILED)
		sql_add(b, " AND (a.refusal != '') = :failed");
	sql_add(b, mask & AM_DESC ? " ORDER BY a.seq DESC" : " ORDER BY a.seq");
	sql_add(b, " LIMIT :limit");
}

static int audit_row(sqlite3_stmt *s, union row_cb fn, void *ctx)
{
	struct node_audit_log_row r;

	memset(&r, 0, sizeof(r));
	if (sqlite3_column_bytes(s, 3) != 32)
		return 0;
	r.a.seq = (uint64_t)sqlite3_column_int64(s, 0);
	r.a.height = (uint64_t)sqlite3_column_int64(s, 1);
	r.a.time = sqlite3_column_int64(s, 2);
	r.a.txid = sqlite3_column_blob(s, 3);
	r.a.type = sqlite3_column_int(s, 4);
	col_key(&r.a.sender, s, 5);
	r.a.org = col_str(s, 6);
	r.a.product = col_str(s, 7);
	r.a.subject = col_str(s, 8);
	r.a.refusal = col_str(s, 9);
	r.in_log = sqlite3_column_type(s, 10) != SQLITE_NULL;
	r.nonce = (uint64_t)sqlite3_column_int64(s, 10);
	r.leaf_index = (uint64_t)sqlite3_column_int64(s, 11);
	return fn.audit(ctx, &r);
}

int node_stateq_audit(struct node_stateq *q, const struct node_audit_query *f, node_audit_log_cb cb,
                      void *ctx)
{
	sqlite3_stmt *s;
	uint32_t mask;

	if (q == NULL || q->db == NULL || f == NULL || cb == NULL || f->after > INT64_MAX)
		return FWC_ERR_ARG;
	mask = (f->org ? AM_ORG : 0) | (f->product ? AM_PRODUCT : 0) | (f->sender ? AM_SENDER : 0) |
	       (f->subject ? AM_SUBJECT : 0) | (f->type >= 0 ? AM_TYPE : 0) |
	       (f->has_from ? AM_FROM : 0) | (f->has_to ? AM_TO : 0) |
	       (f->failed >= 0 ? AM_FAILED : 0) | (f->desc ? AM_DESC : 0) |
	       (f->after ? AM_AFTER : 0) | (f->with_log ? AM_LOG : 0);
	if ((s = stmt_get(q, (uint32_t)K_AUDIT << 16 | mask, build_audit)) == NULL)
		return FWC_ERR_IO;
	if (bind_i64(s, ":after", (int64_t)f->after) || bind_text(s, ":org", f->org) ||
	    bind_text(s, ":product", f->product) ||
	    (f->sender && bind_key(s, ":sender", f->sender)) ||
	    bind_text(s, ":subject", f->subject) || bind_i64(s, ":type", f->type) ||
	    bind_i64(s, ":from", f->from) || bind_i64(s, ":to", f->to) ||
	    bind_i64(s, ":failed", f->failed > 0) ||
	    bind_i64(s, ":limit", (int64_t)clamp_limit(f->limit)))
		return FWC_ERR_IO;
	return walk(s, audit_row, (union row_cb){.audit = cb}, ctx, NULL);
}

/* ---------------------------------------------------------------------------------------- */
/* Check-in rules (node/updates.c)                                                          */

static void build_checkin_releases(struct sqlbuf *b, uint32_t mask)
{
	(void)mask;
	/* Walks the unique (product, channel, counter) index down from the top, like node/state.c's
	 * newest-applicable query, but keeps paused and halted releases: the check-in says why it
	 * offers nothing. */
	sql_add(b,
	        "SELECT " RELEASE_COLS " FROM state_releases r WHERE product = :product AND "
	        "channel = :channel AND revoked = 0 AND EXISTS (SELECT 1 FROM state_release_hw h "
	        "WHERE h.release = r.id AND h.hwid = :hw) ORDER BY counter DESC");
}

int node_stateq_checkin_releases(struct node_stateq *q, const char *product, const char *channel,
                                 const char *hwid, node_release_cb cb, void *ctx)
{
	sqlite3_stmt *s;

	if (q == NULL || q->db == NULL || product == NULL || channel == NULL || hwid == NULL ||
	    cb == NULL)
		return FWC_ERR_ARG;
	s = stmt_get(q, (uint32_t)K_CHECKIN_RELEASES << 16, build_checkin_releases);
	if (s == NULL || bind_text(s, ":product", product) || bind_text(s, ":channel", channel) ||
	    bind_text(s, ":hw", hwid))
		return FWC_ERR_IO;
	return walk(s, release_row, (union row_cb){.release = cb}, ctx, NULL);
}

static void build_postpone_max(struct sqlbuf *b, uint32_t mask)
{
	(void)mask;
	sql_add(b, "SELECT coalesce(max(until), 0) FROM state_postponements WHERE release = :id");
}

/* Step a one-row, one-integer statement into *out. */
static int one_i64(sqlite3_stmt *s, int64_t *out)
{
	int rc = sqlite3_step(s);

	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	return rc == SQLITE_ROW ? FWC_OK : FWC_ERR_IO;
}

int node_stateq_postpone_max(struct node_stateq *q, const uint8_t release[32], int64_t *until)
{
	sqlite3_stmt *s;

	if (q == NULL || q->db == NULL || release == NULL || until == NULL)
		return FWC_ERR_ARG;
	s = stmt_get(q, (uint32_t)K_POSTPONE_MAX << 16, build_postpone_max);
	if (s == NULL || bind_blob(s, ":id", release, 32))
		return FWC_ERR_IO;
	return one_i64(s, until);
}

static void build_device_postponed(struct sqlbuf *b, uint32_t mask)
{
	(void)mask;
	/* Group postponements store the group name as a blob (node/state.c binds the payload's
	 * bytes), device groups as text: compare them as blobs. */
	sql_add(b,
	        "SELECT coalesce(max(until), 0) FROM state_postponements WHERE release = :id AND "
	        "((target_kind = 1 AND target = :key) OR (target_kind = 2 AND target IN (SELECT "
	        "CAST(grp AS BLOB) FROM state_device_groups WHERE device = :key)))");
}

int node_stateq_device_postponed(struct node_stateq *q, const struct fwc_pubkey *device,
                                 const uint8_t release[32], int64_t *until)
{
	sqlite3_stmt *s;

	if (q == NULL || q->db == NULL || device == NULL || release == NULL || until == NULL)
		return FWC_ERR_ARG;
	s = stmt_get(q, (uint32_t)K_DEVICE_POSTPONED << 16, build_device_postponed);
	if (s == NULL || bind_blob(s, ":id", release, 32) || bind_key(s, ":key", device))
		return FWC_ERR_IO;
	return one_i64(s, until);
}

static void build_device_licences(struct sqlbuf *b, uint32_t mask)
{
	(void)mask;
	/* Two index walks (device, then the product-wide licences with no device), not one OR. */
	sql_add(b, "SELECT feature, not_before, not_after, device IS NOT NULL FROM state_licences "
	           "WHERE device = :key AND product = :product AND revoked = 0 UNION ALL SELECT "
	           "feature, not_before, not_after, 0 FROM state_licences WHERE device IS NULL AND "
	           "product = :product AND revoked = 0");
}

static int licence_row(sqlite3_stmt *s, union row_cb fn, void *ctx)
{
	struct node_licence_row l;

	l.feature = col_str(s, 0);
	l.not_before = sqlite3_column_int64(s, 1);
	l.not_after = sqlite3_column_int64(s, 2);
	l.device_bound = sqlite3_column_int(s, 3);
	return fn.licence(ctx, &l);
}

int node_stateq_device_licences(struct node_stateq *q, const struct fwc_pubkey *device,
                                const char *product, node_licence_cb cb, void *ctx)
{
	sqlite3_stmt *s;

	if (q == NULL || q->db == NULL || device == NULL || product == NULL || cb == NULL)
		return FWC_ERR_ARG;
	s = stmt_get(q, (uint32_t)K_DEVICE_LICENCES << 16, build_device_licences);
	if (s == NULL || bind_key(s, ":key", device) || bind_text(s, ":product", product))
		return FWC_ERR_IO;
	return walk(s, licence_row, (union row_cb){.licence = cb}, ctx, NULL);
}

static void build_licence_device(struct sqlbuf *b, uint32_t mask)
{
	(void)mask;
	sql_add(b, "SELECT device FROM state_licences WHERE product = :product AND id = :id");
}

int node_stateq_licence_device(struct node_stateq *q, uint8_t key[FWC_PUBKEY_BIN_LEN],
                               int *bound, const char *product, const char *id)
{
	sqlite3_stmt *s;
	int rc, out = FWC_ERR_IO;

	if (q == NULL || q->db == NULL || key == NULL || bound == NULL || product == NULL ||
	    id == NULL)
		return FWC_ERR_ARG;
	s = stmt_get(q, (uint32_t)K_LICENCE_DEVICE << 16, build_licence_device);
	if (s == NULL || bind_text(s, ":product", product) || bind_text(s, ":id", id))
		return FWC_ERR_IO;
	rc = sqlite3_step(s);
	if (rc == SQLITE_DONE) {
		out = FWC_ERR_NOT_FOUND;
	} else if (rc == SQLITE_ROW && sqlite3_column_type(s, 0) == SQLITE_NULL) {
		*bound = 0;
		out = FWC_OK;
	} else if (rc == SQLITE_ROW && sqlite3_column_bytes(s, 0) == FWC_PUBKEY_BIN_LEN) {
		memcpy(key, sqlite3_column_blob(s, 0), FWC_PUBKEY_BIN_LEN);
		*bound = 1;
		out = FWC_OK;
	}
	sqlite3_reset(s);
	return out;
}

static void build_device_checkin(struct sqlbuf *b, uint32_t mask)
{
	(void)mask;
	/* Three parts, in this order: the device row, its licences of :product, the product-wide
	 * ones of :product. */
	sql_add(b, "SELECT 0, d.product, d.hwid, d.region, d.retired, (SELECT coalesce("
	           "group_concat(grp, ','), '') FROM (SELECT grp FROM state_device_groups g WHERE "
	           "g.device = d.key ORDER BY grp)), 0, 0 FROM state_devices d WHERE d.key = :key "
	           "UNION ALL SELECT 1, feature, '', '', 0, '', not_before, not_after FROM "
	           "state_licences WHERE device = :key AND product = :product AND revoked = 0 "
	           "UNION ALL SELECT 2, feature, '', '', 0, '', not_before, not_after FROM "
	           "state_licences WHERE device IS NULL AND product = :product AND revoked = 0");
}

int node_stateq_device_checkin(struct node_stateq *q, const struct fwc_pubkey *device,
                               const char *product, node_device_cb dev, node_licence_cb lic,
                               void *ctx)
{
	sqlite3_stmt *s;
	int rc;

	if (q == NULL || q->db == NULL || device == NULL || product == NULL || dev == NULL ||
	    lic == NULL)
		return FWC_ERR_ARG;
	s = stmt_get(q, (uint32_t)K_DEVICE_CHECKIN << 16, build_device_checkin);
	if (s == NULL || bind_key(s, ":key", device) || bind_text(s, ":product", product))
		return FWC_ERR_IO;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (sqlite3_column_int(s, 0) == 0) {
			struct node_device_row d;

			memset(&d, 0, sizeof(d));
			d.key = *device;
			d.product = col_str(s, 1);
			d.hwid = col_str(s, 2);
			d.region = col_str(s, 3);
			d.retired = sqlite3_column_int(s, 4);
			d.groups = col_str(s, 5);
			(void)dev(ctx, &d);
		} else {
			struct node_licence_row l;

			l.feature = col_str(s, 1);
			l.not_before = sqlite3_column_int64(s, 6);
			l.not_after = sqlite3_column_int64(s, 7);
			l.device_bound = sqlite3_column_int(s, 0) == 1;
			(void)lic(ctx, &l);
		}
	}
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? FWC_OK : FWC_ERR_IO;
}

static void build_devices_scan(struct sqlbuf *b, uint32_t mask)
{
	(void)mask;
	sql_add(b, "SELECT d.key, d.product, d.hwid, d.region, d.retired, (SELECT coalesce("
	           "group_concat(grp, ','), '') FROM (SELECT grp FROM state_device_groups g WHERE "
	           "g.device = d.key ORDER BY grp)), EXISTS (SELECT 1 FROM state_licences l WHERE "
	           "l.device = d.key AND l.product = d.product AND l.revoked = 0) OR EXISTS (SELECT "
	           "1 FROM state_licences l WHERE l.device IS NULL AND l.product = d.product AND "
	           "l.revoked = 0) FROM state_devices d WHERE d.key > :after ORDER BY d.key "
	           "LIMIT :limit");
}

int node_stateq_devices_scan(struct node_stateq *q, const uint8_t *after, size_t after_len,
                             unsigned limit, node_device_scan_cb cb, void *ctx)
{
	sqlite3_stmt *s;
	int rc;

	if (q == NULL || q->db == NULL || (after == NULL && after_len) || cb == NULL)
		return FWC_ERR_ARG;
	s = stmt_get(q, (uint32_t)K_DEVICES_SCAN << 16, build_devices_scan);
	if (s == NULL || bind_blob(s, ":after", after, after_len) ||
	    sqlite3_bind_int64(s, sqlite3_bind_parameter_index(s, ":limit"),
	                       (sqlite3_int64)clamp_limit(limit)) != SQLITE_OK)
		return FWC_ERR_IO;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct node_device_row d;

		memset(&d, 0, sizeof(d));
		d.product = col_str(s, 1);
		d.hwid = col_str(s, 2);
		d.region = col_str(s, 3);
		d.retired = sqlite3_column_int(s, 4);
		d.groups = col_str(s, 5);
		if (cb(ctx, sqlite3_column_blob(s, 0), (size_t)sqlite3_column_bytes(s, 0), &d,
		       sqlite3_column_int(s, 6)) != 0) {
			rc = SQLITE_DONE;
			break;
		}
	}
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? FWC_OK : FWC_ERR_IO;
}

static void build_device_count(struct sqlbuf *b, uint32_t mask)
{
	(void)mask;
	sql_add(b, "SELECT count(*) FROM state_devices");
}

int node_stateq_device_count(struct node_stateq *q, int64_t *n)
{
	sqlite3_stmt *s;

	if (q == NULL || q->db == NULL || n == NULL)
		return FWC_ERR_ARG;
	s = stmt_get(q, (uint32_t)K_DEVICE_COUNT << 16, build_device_count);
	if (s == NULL)
		return FWC_ERR_IO;
	return one_i64(s, n);
}
