/* fwchaind — the ledger state machine: typed transactions applied to SQLite tables (prefix
 * state_), role-checked and deterministic. Rules and refusal codes: docs/state-machine.md.
 *
 * The caller owns the database handle and the SQLite transaction (one per block): it calls
 * node_state_apply() once per transaction, in log order, and commits the block. A struct
 * node_state caches prepared statements for one database handle; it is not thread-safe (one
 * per connection). */
#ifndef FWC_NODE_STATE_H
#define FWC_NODE_STATE_H

#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "fwchain/err.h"
#include "fwchain/key.h"
#include "fwchain/tx.h"

#define NODE_STATE_CHAIN_ID_MAX 64

/* How the caller must treat a refused transaction. */
enum node_refusal_kind {
	/* Never valid (undecodable, wrong chain, bad signature, unknown or revoked sender, wrong
	 * nonce, outside its time window): leave it out of the block. No state change. */
	NODE_REFUSAL_REJECT = 1,
	/* Authentic and in order but it breaks a rule: include it in the log as failed. Its
	 * nonce is consumed and an audit row records the refusal; nothing else changes. */
	NODE_REFUSAL_FAIL = 2,
	/* The database failed (not a property of the transaction): abort the block. */
	NODE_REFUSAL_INTERNAL = 3,
};

/* Why a transaction was refused. code is a stable identifier clients match on (see
 * docs/state-machine.md); msg is for people and may change. Both NUL-terminated. */
struct node_refusal {
	int kind; /* enum node_refusal_kind */
	char code[32];
	char msg[200];
};

/* Cached prepared statements over one connection. Opaque contents. */
struct node_state {
	sqlite3 *db;
	void *stmts[64];
	char chain_id[NODE_STATE_CHAIN_ID_MAX + 1];
	size_t chain_id_len;
	uint64_t height; /* block height the caller is applying (recorded in history rows) */
	/* One-shot: set to 1 right before node_state_apply() when the caller has already verified
	 * the envelope signature of exactly these bytes (the block producer's mempool checks every
	 * transaction at submission). Apply then skips that one check, whose outcome is the same,
	 * and clears the flag; every other caller keeps the full verification. */
	int envelope_verified;
	/* One-shot, like envelope_verified: the caller's decode of exactly these bytes (its
	 * pointers into them) and their id, so apply does not decode and hash the transaction a
	 * second time. NULL: apply decodes and hashes itself. */
	const struct fwc_signed_tx *decoded;
	const uint8_t *txid;
	/* Decoded key sets by their stored bytes (state.c; allocated on first use, freed by
	 * node_state_close). */
	struct node_keyset_cache *ks_cache;
};

/* Create the state_ tables and indexes if missing (idempotent; runs in the caller's
 * transaction, if any). FWC_OK or FWC_ERR_IO. */
int node_state_schema(sqlite3 *db);

/* Bind st to db (the schema must exist) and load the chain id when the genesis was applied.
 * FWC_OK, FWC_ERR_ARG, FWC_ERR_IO. */
int node_state_open(struct node_state *st, sqlite3 *db);

/* Finalise the cached statements. Safe on a zeroed or already closed struct. */
void node_state_close(struct node_state *st);

/* Record the chain id and create the root organisation org_id (name) with admin as its only
 * member (role admin), at time. Once only: FWC_ERR_STATE (why->code "already_initialised")
 * afterwards. FWC_ERR_RANGE for a bad id, name or chain id. */
int node_state_genesis(struct node_state *st, const char *chain_id, const char *org_id,
                       const char *org_name, const struct fwc_pubkey *admin, int64_t time,
                       struct node_refusal *why);

/* Another organisation of the genesis (after node_state_genesis, in the same transaction):
 * org_id (name) with admin as its only member, role admin. FWC_ERR_DUPLICATE (org_exists,
 * key_in_use), FWC_ERR_RANGE (bad_genesis), FWC_ERR_STATE (not_initialised), FWC_ERR_IO. */
int node_state_genesis_org(struct node_state *st, const char *org_id, const char *org_name,
                           const struct fwc_pubkey *admin, int64_t time, struct node_refusal *why);

/* The roles (FWC_ROLE_BIT mask) of which a sender of this transaction type must hold one;
 * 0 for an unknown type. (A device may also send DEVICE_EVENT for itself.) */
uint32_t node_state_type_roles(uint32_t type);

/* The height recorded in history rows written by the following applies. */
void node_state_set_height(struct node_state *st, uint64_t height);

/* Apply one encoded transaction (tx.h envelope) at block_time, inside the caller's SQLite
 * transaction (db must be st's). Decodes the envelope, checks chain id, signature, sender,
 * nonce (exactly last + 1) and time window, the sender's role and the payload, then the
 * type's rules. Returns FWC_OK (state updated), or a negative enum fwc_err with why filled
 * (why may be NULL): see enum node_refusal_kind for what the caller does next. A refused
 * transaction (reject or fail) leaves nothing of its own behind (a failed one leaves its
 * consumed nonce and audit row); after NODE_REFUSAL_INTERNAL the caller must roll its whole
 * transaction back, as part of the transaction's writes may remain. Never reads a clock or
 * randomness. */
int node_state_apply(struct node_state *st, sqlite3 *db, const uint8_t *tx, size_t len,
                     int64_t block_time, struct node_refusal *why);

/* ---------------------------------------------------------------------------------------- */
/* Queries (read only). Rows are handed to a callback; every pointer in a row is valid only
 * during the call. A callback returning non-zero stops the walk (the query then returns
 * FWC_OK). Each returns FWC_OK, FWC_ERR_ARG or FWC_ERR_IO. */

enum node_rollout_state {
	NODE_ROLLOUT_ACTIVE = 0,
	NODE_ROLLOUT_PAUSED = 1,
	NODE_ROLLOUT_HALTED = 2,
};

struct node_release_row {
	uint8_t id[32];
	const char *product, *channel, *version; /* NUL-terminated */
	uint64_t counter;
	const uint8_t *cid;
	size_t cid_len;
	uint64_t size;
	const uint8_t *sha256; /* 32 bytes */
	int rollout;           /* enum node_rollout_state */
	int revoked;
	int64_t time; /* block time of publication */
	uint64_t height;
	const uint8_t *manifest; /* the signed manifest as published */
	size_t manifest_len;
	const uint8_t *txid; /* 32 bytes: SHA-256 of the RELEASE transaction */
};

typedef int (*node_release_cb)(void *ctx, const struct node_release_row *r);

/* Releases of product, newest counter first; channel NULL means every channel. */
int node_state_releases(struct node_state *st, const char *product, const char *channel,
                        node_release_cb cb, void *ctx);

/* The check-in hot path: the release of (product, channel) with the highest counter above
 * counter that lists hwid, is not revoked and whose rollout is active. Calls cb once and
 * returns FWC_OK, or returns FWC_ERR_NOT_FOUND when there is none. */
int node_state_release_latest(struct node_state *st, const char *product, const char *channel,
                              const char *hwid, uint64_t counter, node_release_cb cb, void *ctx);

/* One release by id: FWC_OK (cb called once) or FWC_ERR_NOT_FOUND. */
int node_state_release_get(struct node_state *st, const uint8_t id[32], node_release_cb cb,
                           void *ctx);

struct node_device_row {
	struct fwc_pubkey key;
	const char *product, *hwid, *region; /* NUL-terminated */
	const uint8_t *attrs;                /* CBOR map of the attributes (may be NULL) */
	size_t attrs_len;
	const char *groups; /* group names separated by ',' (NUL-terminated, "" when none) */
	uint64_t counter;   /* installed release counter */
	uint64_t last_seq;  /* last event sequence number */
	int retired;
	int64_t registered; /* block time */
};

typedef int (*node_device_cb)(void *ctx, const struct node_device_row *d);

/* Devices of product (group NULL: all of them), ordered by key, at most limit (1..1000)
 * rows after the key `after` (NULL: from the start) — keyset pagination. */
int node_state_devices(struct node_state *st, const char *product, const char *group,
                       const struct fwc_pubkey *after, unsigned limit, node_device_cb cb,
                       void *ctx);

/* One device: FWC_OK (cb called once) or FWC_ERR_NOT_FOUND. */
int node_state_device_get(struct node_state *st, const struct fwc_pubkey *key, node_device_cb cb,
                          void *ctx);

/* Whether key is a registered device that is not retired: 1 yes, 0 no (unknown or retired),
 * or FWC_ERR_IO. One index probe (no groups, no callback): the submission's check of a
 * device sender. */
int node_state_device_active(struct node_state *st, const struct fwc_pubkey *key);

struct node_event_row {
	struct fwc_pubkey device;
	const char *product;
	uint64_t seq, kind, device_time;
	const uint8_t *release; /* 32 bytes or NULL */
	int has_counter;
	uint64_t counter;
	const char *detail;      /* NUL-terminated, "" when none */
	struct fwc_pubkey relay; /* the transaction's sender */
	int64_t time;            /* block time */
	uint64_t height;
};

typedef int (*node_event_cb)(void *ctx, const struct node_event_row *e);

/* Events of one device (the device's history), newest first, seq < before_seq (0: from the
 * newest), at most limit (1..1000). */
int node_state_device_events(struct node_state *st, const struct fwc_pubkey *device,
                             uint64_t before_seq, unsigned limit, node_event_cb cb, void *ctx);

/* Events of a product's devices in [from, to] block time (to 0: no end), oldest first, at
 * most limit; kind 0 means any kind. */
int node_state_events(struct node_state *st, const char *product, uint64_t kind, int64_t from,
                      int64_t to, unsigned limit, node_event_cb cb, void *ctx);

struct node_audit_row {
	uint64_t seq; /* position in the audit trail, increasing */
	uint64_t height;
	int64_t time;
	const uint8_t *txid; /* 32 bytes */
	int type;
	struct fwc_pubkey sender;
	const char *org, *product, *subject; /* NUL-terminated, "" when not applicable */
	const char *refusal; /* "" for an applied transaction, else the refusal code */
};

/* Audit trail filter: every field optional (NULL / -1 / 0 means any). */
struct node_audit_filter {
	const char *org;
	const char *product;
	const struct fwc_pubkey *sender;
	int type;         /* -1: any */
	int64_t from, to; /* block time range; to 0: no end */
	uint64_t after;   /* rows with seq > after */
	unsigned limit;   /* 1..1000 */
	int failed;       /* -1 any, 0 applied only, 1 refused only */
};

typedef int (*node_audit_cb)(void *ctx, const struct node_audit_row *a);

int node_state_audit(struct node_state *st, const struct node_audit_filter *f, node_audit_cb cb,
                     void *ctx);

/* The roles of a member key and its organisation (org: at least NODE_STATE_ID_BUF bytes).
 * FWC_OK or FWC_ERR_NOT_FOUND. */
#define NODE_STATE_ID_BUF 65
int node_state_member(struct node_state *st, const struct fwc_pubkey *key, char *org,
                      uint32_t *roles);

/* Current key set (keyset.h encoding) and version of a product: set 1 root, 2 release. *out
 * is malloc'd (free()). FWC_OK, FWC_ERR_NOT_FOUND, FWC_ERR_NOMEM. */
int node_state_keyset(struct node_state *st, const char *product, int set, uint8_t **out,
                      size_t *len, uint64_t *version);

/* Last accepted nonce of a sender (0 when it never sent). */
int node_state_nonce(struct node_state *st, const struct fwc_pubkey *sender, uint64_t *nonce);

#endif
