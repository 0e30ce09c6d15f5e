/* fwchaind — read queries over the state machine's tables that node/state.h does not offer:
 * organisations, members, products, revocations, and filtered, keyset-paginated listings of
 * releases, devices, events and the audit trail (with the log position of each transaction).
 * They back the JSON query endpoints of node/api_query.c.
 *
 * A struct node_stateq caches prepared statements for one connection (not thread-safe: one per
 * connection, like struct node_state). Every query is read only; wrap several in one read
 * transaction when they must see the same state. Rows are handed to a callback and every
 * pointer in a row is valid only during the call; a callback returning non-zero stops the walk
 * (the query then returns FWC_OK). Queries return FWC_OK, FWC_ERR_NOT_FOUND (single-object
 * getters only), FWC_ERR_ARG (misuse or a value outside what SQLite stores) or FWC_ERR_IO
 * (SQLite failed, including a database without the state_ tables). */
#ifndef FWC_NODE_STATE_QUERY_H
#define FWC_NODE_STATE_QUERY_H

#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "fwchain/err.h"
#include "fwchain/key.h"

#include "state.h"

#define NODE_STATEQ_CACHE 48       /* statements cached per connection (fixed and variants) */
#define NODE_STATEQ_LIMIT_MAX 1001 /* largest page a query returns (a page of 1000 + one) */

struct node_stateq {
	sqlite3 *db;
	struct {
		uint32_t key;
		void *stmt; /* sqlite3_stmt * */
	} cache[NODE_STATEQ_CACHE];
	size_t next_evict;
};

/* Bind q to db (nothing is prepared yet). FWC_OK or FWC_ERR_ARG. */
int node_stateq_open(struct node_stateq *q, sqlite3 *db);

/* Finalise the cached statements. Safe on a zeroed or already closed struct. */
void node_stateq_close(struct node_stateq *q);

/* ----------------------------------------------------------------- organisations, members */

struct node_org_row {
	const char *id, *name; /* NUL-terminated */
	int64_t created;       /* block time */
	int root;              /* 1 for the root organisation (the genesis') */
};
typedef int (*node_org_cb)(void *ctx, const struct node_org_row *o);

/* Organisations ordered by id, ids > after (NULL: from the start), at most limit rows. */
int node_stateq_orgs(struct node_stateq *q, const char *after, unsigned limit, node_org_cb cb,
                     void *ctx);
/* One organisation: FWC_OK (cb called once) or FWC_ERR_NOT_FOUND. */
int node_stateq_org_get(struct node_stateq *q, const char *id, node_org_cb cb, void *ctx);

struct node_member_row {
	struct fwc_pubkey key;
	uint32_t roles;    /* FWC_ROLE_BIT mask */
	const char *label; /* "" when none */
	int64_t since;     /* block time it became a member */
};
typedef int (*node_member_cb)(void *ctx, const struct node_member_row *m);

/* Members of org ordered by key (binary form), keys > after (NULL: from the start). */
int node_stateq_members(struct node_stateq *q, const char *org, const struct fwc_pubkey *after,
                        unsigned limit, node_member_cb cb, void *ctx);

/* ----------------------------------------------------------------------------- products */

struct node_product_row {
	const char *id, *org, *name;
	int64_t created;
	const uint8_t *root_set; /* keyset.h encoding, revoked keys flagged */
	size_t root_set_len;
	uint64_t root_version;
	const uint8_t *release_set; /* NULL before keyset-register */
	size_t release_set_len;
	uint64_t release_version; /* 0 before keyset-register */
};
typedef int (*node_product_cb)(void *ctx, const struct node_product_row *p);

/* Products ordered by id, optionally of one organisation (org NULL: all), ids > after. */
int node_stateq_products(struct node_stateq *q, const char *org, const char *after, unsigned limit,
                         node_product_cb cb, void *ctx);
/* One product: FWC_OK or FWC_ERR_NOT_FOUND. */
int node_stateq_product_get(struct node_stateq *q, const char *id, node_product_cb cb, void *ctx);

struct node_revoked_key_row {
	struct fwc_pubkey key;
	const char *org;    /* the organisation that revoked it */
	const char *reason; /* as given in the key-revoke payload */
	int64_t time;
	const uint8_t *txid; /* 32 bytes */
};
typedef int (*node_revoked_key_cb)(void *ctx, const struct node_revoked_key_row *r);

/* Revoked keys that are or were in a root or release set of product, oldest revocation
 * first (bounded by the keys the product ever listed). */
int node_stateq_product_revoked_keys(struct node_stateq *q, const char *product,
                                     node_revoked_key_cb cb, void *ctx);

/* ----------------------------------------------------------------------------- releases */

/* Releases of product, newest counter first then channel ascending (channel NULL: every
 * channel), strictly after the position (after_counter, after_channel) in that order (has_after
 * 0: from the top); revoked -1 any, 0 only live ones, 1 only revoked ones. */
int node_stateq_releases(struct node_stateq *q, const char *product, const char *channel,
                         int has_after, uint64_t after_counter, const char *after_channel,
                         int revoked, unsigned limit, node_release_cb cb, void *ctx);

/* Revocation of a release: *revoked 0/1, and when 1 the reason (NUL-terminated, truncated to
 * cap) and block time. FWC_OK or FWC_ERR_NOT_FOUND. */
int node_stateq_release_revocation(struct node_stateq *q, const uint8_t id[32], int *revoked,
                                   char *reason, size_t cap, int64_t *time);

/* ------------------------------------------------------------------------------ devices */

struct node_device_filter {
	const char *product;            /* NULL: any product */
	const char *group;              /* NULL: any group; needs product */
	int retired;                    /* -1 any, 0 active only, 1 retired only */
	const struct fwc_pubkey *after; /* NULL: from the start */
	unsigned limit;
};

/* Devices ordered by key (binary form) matching f. FWC_ERR_ARG when group is given without
 * product. */
int node_stateq_devices(struct node_stateq *q, const struct node_device_filter *f,
                        node_device_cb cb, void *ctx);

/* The release a device last confirmed installing: *has 0 when none. FWC_OK or
 * FWC_ERR_NOT_FOUND (no such device). */
int node_stateq_device_release(struct node_stateq *q, const struct fwc_pubkey *device,
                               uint8_t id[32], int *has);

/* ------------------------------------------------------------------------------- events */

struct node_event_filter {
	const struct fwc_pubkey *device; /* at least one of device and product */
	const char *product;
	uint64_t kind; /* 0: any */
	int has_from, has_to;
	int64_t from, to; /* block time range, inclusive, when has_from / has_to */
	/* Position of the last row of the previous page (has_after 0: from the start). */
	int has_after;
	int64_t after_time;
	struct fwc_pubkey after_device;
	uint64_t after_seq;
	int desc; /* newest first (only with device: a device's history) */
	unsigned limit;
};

/* Events matching f ordered by (block time, device key, sequence number), oldest first or,
 * with desc, newest first. For one device that order is its sequence order. FWC_ERR_ARG when
 * neither device nor product is given, or desc without device. */
int node_stateq_events(struct node_stateq *q, const struct node_event_filter *f, node_event_cb cb,
                       void *ctx);

/* -------------------------------------------------------------------------- audit trail */

struct node_audit_query {
	const char *org, *product, *subject; /* NULL: any; subject is matched exactly */
	const struct fwc_pubkey *sender;     /* NULL: any */
	int type;                            /* -1: any */
	int has_from, has_to;
	int64_t from, to; /* block time range, inclusive, when has_from / has_to */
	int failed;       /* -1 any, 0 applied only, 1 failed only */
	int desc;         /* 0 oldest first, 1 newest first */
	uint64_t after;   /* 0: from the start; else rows past this seq in the walk order */
	int with_log;     /* also read nonce and leaf index from the log's txs table */
	unsigned limit;
};

struct node_audit_log_row {
	struct node_audit_row a;
	int in_log; /* 1 when the log's txs table holds the transaction (with_log) */
	uint64_t nonce, leaf_index;
};
typedef int (*node_audit_log_cb)(void *ctx, const struct node_audit_log_row *r);

/* The audit trail (one row per transaction in the log, applied or failed) matching f. With
 * with_log the database must also hold node/db.c's txs table (a node's ledger does). */
int node_stateq_audit(struct node_stateq *q, const struct node_audit_query *f, node_audit_log_cb cb,
                      void *ctx);

/* ------------------------------------------------------------ check-in rules (updates.c) */

/* Live (not revoked) releases of (product, channel) that list hwid, newest counter first,
 * whatever their rollout state. The callback stops the walk by returning non-zero. */
int node_stateq_checkin_releases(struct node_stateq *q, const char *product, const char *channel,
                                 const char *hwid, node_release_cb cb, void *ctx);

/* *until: the latest end of any postponement (device or group) of release, 0 when none. */
int node_stateq_postpone_max(struct node_stateq *q, const uint8_t release[32], int64_t *until);

/* *until: the latest end of the postponements of release that name device or one of its
 * groups, 0 when none. */
int node_stateq_device_postponed(struct node_stateq *q, const struct fwc_pubkey *device,
                                 const uint8_t release[32], int64_t *until);

struct node_licence_row {
	const char *feature;           /* NUL-terminated */
	int64_t not_before, not_after; /* not_after 0: no end */
	int device_bound;              /* 0 for a product-wide licence (issued without a device) */
};
typedef int (*node_licence_cb)(void *ctx, const struct node_licence_row *l);

/* Unrevoked licences of product that device holds: those issued to it, then the product-wide
 * ones (issued without a device). */
int node_stateq_device_licences(struct node_stateq *q, const struct fwc_pubkey *device,
                                const char *product, node_licence_cb cb, void *ctx);

/* What the check-in (node/updates.c) needs of device, in ONE statement (so one read snapshot
 * without BEGIN, and one statement where a device lookup and a licence walk took four with
 * their BEGIN and COMMIT): dev(ctx, row) for the device (only key, product, hwid, region,
 * groups and retired are set), then lic(ctx, row) for each unrevoked licence of product (the
 * product the check-in names: when it is not the device's, the caller must ignore them) that
 * the device holds, those issued to it, then the product-wide ones. Only licence rows when
 * the device is not registered (product-wide ones). Every row is given (the callbacks'
 * returns are ignored). FWC_OK, FWC_ERR_ARG, FWC_ERR_IO. */
int node_stateq_device_checkin(struct node_stateq *q, const struct fwc_pubkey *device,
                               const char *product, node_device_cb dev, node_licence_cb lic,
                               void *ctx);

/* A scan of the registered devices in key order, for warming the check-in's device cache:
 * at most limit (1..1000) devices with a key (binary form) above after[0..after_len) (0: from
 * the first), each as cb(ctx, key, key_len, row, licensed) with row's product, hwid, region,
 * groups and retired set (not its key) and licensed 1 when any unrevoked licence of its
 * product applies to it (issued to it or product-wide). A non-zero return stops. FWC_OK,
 * FWC_ERR_ARG, FWC_ERR_IO. */
typedef int (*node_device_scan_cb)(void *ctx, const uint8_t *key, size_t key_len,
                                   const struct node_device_row *d, int licensed);
int node_stateq_devices_scan(struct node_stateq *q, const uint8_t *after, size_t after_len,
                             unsigned limit, node_device_scan_cb cb, void *ctx);

/* *n: the number of registered devices. FWC_OK, FWC_ERR_ARG, FWC_ERR_IO. */
int node_stateq_device_count(struct node_stateq *q, int64_t *n);

/* The device licence id of product was issued to (revoked or not): *bound 1 and key its
 * binary key (fwc_pubkey_to_bin), or *bound 0 (key untouched) for a product-wide licence.
 * Outputs written only on FWC_OK. FWC_ERR_NOT_FOUND (no such licence), FWC_ERR_ARG,
 * FWC_ERR_IO. */
int node_stateq_licence_device(struct node_stateq *q, uint8_t key[FWC_PUBKEY_BIN_LEN],
                               int *bound, const char *product, const char *id);

#endif
