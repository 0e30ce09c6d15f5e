/* fwchaind — pins, DAG completeness and garbage collection of the content block store.
 *
 * A pin keeps a DAG: its root CID and every block reachable from it through dag-pb links.
 * Pins live in SQLite (table store_pins, created by node_pins_schema), one row per (root,
 * origin): "release" for the CID of a committed RELEASE, "operator" for an operator's pin,
 * "upload" for a finished upload; a DAG stays while any origin pins it.
 * Upload sessions protect the blocks of an upload in progress, which no pin reaches yet; they
 * live in memory only, so after a crash those blocks are unpinned and collectable.
 * Garbage collection is mark and sweep; pins, sessions and GC coordinate so that a block that
 * is pinned, or put by a live session, is never deleted (docs/content-store.md). */
#ifndef FWC_NODE_PINS_H
#define FWC_NODE_PINS_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "blockstore.h"
#include "fwchain/cid.h"
#include "fwchain/err.h"

/* Bounds for walking a DAG. */
struct node_dag_limits {
	uint64_t max_blocks; /* distinct blocks (FWC_ERR_TOO_LARGE beyond) */
	uint64_t max_bytes;  /* sum of their sizes (FWC_ERR_TOO_LARGE beyond) */
};

#define NODE_DAG_DEFAULT_MAX_BLOCKS (1ull << 20)
#define NODE_DAG_DEFAULT_MAX_BYTES (64ull << 30)

struct node_dag_stats {
	uint64_t blocks; /* distinct blocks reached */
	uint64_t bytes;  /* their total size */
};

/* Longest pin origin, in bytes. */
#define NODE_PIN_ORIGIN_MAX 64

/* Create the store_ tables in db if missing (idempotent). FWC_OK or FWC_ERR_IO. */
int node_pins_schema(sqlite3 *db);

/* Is the DAG under root complete in bs? Walks it depth-first, children in link order,
 * reading and decoding every dag-pb block (hash-checked) and checking that every raw block is
 * present. lim NULL = the defaults above. *st (optional) gets the counts when complete.
 * Returns FWC_OK (complete), FWC_ERR_NOT_FOUND with the first missing block (in that order) in
 * *missing (optional) and named in ei, FWC_ERR_MALFORMED (a dag-pb block that does not
 * decode), FWC_ERR_HASH_MISMATCH (a stored block is corrupt), FWC_ERR_TOO_LARGE, FWC_ERR_NOMEM,
 * FWC_ERR_IO. Safe to call from any thread at any time. */
int node_dag_check(struct node_bs *bs, const struct fwc_cid *root,
                   const struct node_dag_limits *lim, struct fwc_cid *missing,
                   struct node_dag_stats *st, struct fwc_errinfo *ei);

/* The same walk as node_dag_check, calling visit for every distinct block found present, in
 * depth-first pre-order (a block before its children, children in link order; a block reached
 * twice is visited once), with its CID as the first link naming it and its length. A negative
 * return from visit stops the walk and is returned. Used to stream a DAG as a CAR. */
int node_dag_walk(struct node_bs *bs, const struct fwc_cid *root, const struct node_dag_limits *lim,
                  int (*visit)(void *ctx, const struct fwc_cid *cid, uint64_t len), void *ctx,
                  struct fwc_cid *missing, struct fwc_errinfo *ei);

struct node_pins;

/* Bind pins to a database connection (whose schema node_pins_schema created — called here
 * too) and a block store; both must outlive the pins. The connection is used from whatever
 * thread calls in, one statement at a time and never inside an explicit transaction, so it
 * must not be one another thread runs explicit transactions on: give pins a connection of
 * their own to the node's database. Returns FWC_OK, FWC_ERR_IO, FWC_ERR_NOMEM. */
int node_pins_open(struct node_pins **out, sqlite3 *db, struct node_bs *bs, struct fwc_errinfo *ei);

/* Free; NULL is fine. No session and no GC may be running. */
void node_pins_close(struct node_pins *p);

/* The block store the pins were opened with. */
struct node_bs *node_pins_store(struct node_pins *p);

/* Pin root for origin (a short tag, 1..NODE_PIN_ORIGIN_MAX bytes). The DAG must be complete:
 * otherwise nothing is recorded and the node_dag_check error is returned, naming the missing
 * block (*missing optional). Pinning again is FWC_OK. CIDv0 and CIDv1 of one root are the same
 * pin. Blocks other writers wait while the DAG is walked. */
int node_pins_add(struct node_pins *p, const struct fwc_cid *root, const char *origin,
                  struct fwc_cid *missing, struct fwc_errinfo *ei);

/* Remove the pin (root, origin). FWC_OK, FWC_ERR_NOT_FOUND, FWC_ERR_IO. The blocks go at the
 * next GC unless something else pins them. */
int node_pins_remove(struct node_pins *p, const struct fwc_cid *root, const char *origin);

/* 1 when any origin pins root, 0 when none, FWC_ERR_IO. */
int node_pins_is_pinned(struct node_pins *p, const struct fwc_cid *root);

/* Call fn for every pin (root as CIDv1, origin NUL-terminated, creation time in Unix seconds)
 * in (root, origin) order. A negative return from fn stops and is returned. */
int node_pins_list(struct node_pins *p,
                   int (*fn)(void *ctx, const struct fwc_cid *root, const char *origin,
                             int64_t created),
                   void *ctx);

/* An upload session: blocks put through it cannot be collected while it is open. */
struct node_pins_session;

int node_pins_session_begin(struct node_pins *p, struct node_pins_session **out);

/* Register the block with the session, then node_bs_put it (same arguments and errors). The
 * registration comes first, so a GC running meanwhile keeps the block. */
int node_pins_session_put(struct node_pins *p, struct node_pins_session *s,
                          const struct fwc_cid *cid, const uint8_t *data, size_t len,
                          unsigned flags, struct fwc_errinfo *ei);

/* The same for a block of a staged upload: registered with the session, then
 * node_bs_stage_put into st (same errors). The block is invisible until st commits, and the
 * session keeps it from the GC between the commit and the pin. */
int node_pins_session_stage_put(struct node_pins *p, struct node_pins_session *s,
                                struct node_bs_stage *st, const struct fwc_cid *cid,
                                const uint8_t *data, size_t len, unsigned flags,
                                struct fwc_errinfo *ei);

/* Blocks registered with the session so far. */
uint64_t node_pins_session_blocks(const struct node_pins_session *s);

/* Close the session (NULL is fine). Pin what must stay before ending it. */
void node_pins_session_end(struct node_pins *p, struct node_pins_session *s);

struct node_gc_result {
	uint64_t pins;          /* pins walked */
	uint64_t marked;        /* blocks kept because pinned or in a session */
	uint64_t kept_recent;   /* unreachable but kept by the grace period */
	uint64_t removed;       /* blocks deleted */
	uint64_t removed_bytes; /* their total size */
};

/* Collect garbage: delete every stored block that no pin reaches, no open session has put,
 * and that is older than grace_seconds (0: any age). Refuses (FWC_ERR_STATE) while another GC
 * runs. When a pinned DAG is incomplete or unreadable its reachable set is unknown, so the GC
 * deletes nothing and returns that DAG's error naming the block. *res optional.
 * Puts, pins and sessions may proceed concurrently. */
int node_pins_gc(struct node_pins *p, int64_t grace_seconds, struct node_gc_result *res,
                 struct fwc_errinfo *ei);

#endif
