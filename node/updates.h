/* fwchaind — the device check-in: GET /v1/updates?product=P&channel=C&hw=H&counter=N[&device=D]
 * answers with the proof bundle (docs/formats/bundle.md) of the newest release above N that the
 * ledger's rollout records admit for device D (rollout state, share, groups, regions,
 * not-before, postponements, licences), or, when there is none, with the newest checkpoint
 * alone. Answers are cached so that a check-in that hits the cache runs no SQLite query.
 * Endpoint, rules and cache: docs/node.md ("Check-in", "Check-in rules"). */
#ifndef FWC_NODE_UPDATES_H
#define FWC_NODE_UPDATES_H

#include <stddef.h>
#include <stdint.h>

#include "fwchain/err.h"

#include "chain.h"
#include "db.h"
#include "http.h"

/* Cache slots (direct-mapped by product, channel and hardware id). */
#define NODE_UPDATES_SLOTS 1024
/* Device cache slots (direct-mapped by device key). */
#define NODE_UPDATES_DEVICE_SLOTS 4096
/* Releases an entry keeps per (product, channel, hardware id): newest first, down to the first
 * one open to every device. */
#define NODE_UPDATES_CANDIDATES 32

struct node_updates;

/* A check-in cache over db (which must outlive it). *out is set only on success. Until the
 * first node_updates_on_commit call (node_chain_set_commit_hook makes one at once) every
 * check-in answers 503. FWC_OK, FWC_ERR_ARG, FWC_ERR_NOMEM. */
int node_updates_new(struct node_updates **out, struct node_db *db);

/* Free; NULL is fine. No request may be in progress. Stops the warming thread (waits for its
 * current step). */
void node_updates_free(struct node_updates *u);

/* Start warming the device cache in a background thread: once the first commit hook call has
 * come, it sizes the cache for the registered devices and reads them in key order (256 per
 * statement, each step a short read transaction and a short write lock), installing the
 * record of every device no licence applies to (the others are read at their first check-in)
 * and no check-in installed meanwhile, until the end or half the cache's maximum (2 Mi
 * records). It runs at the idle scheduling class (SCHED_IDLE) where it may return to the
 * normal one for its install lock (root, or RLIMIT_NICE >= 20), else in the normal class at
 * half a CPU at most; check-ins never wait for it but that short lock. Prints one line to
 * stderr when done. FWC_OK, FWC_ERR_ARG (NULL, or already started), FWC_ERR_NOMEM. */
int node_updates_warm(struct node_updates *u);

/* The chain's commit hook (ctx: the struct node_updates): records the new checkpoint and, when
 * the block applied a transaction that can change a check-in's answer (release, release-revoke,
 * rollout-control, postpone, key-set registration or rotation, product registration),
 * invalidates every cached answer. Device-register and device-bound licence issue/revoke drop
 * the cached facts of just the devices they name (a revoke's device is read from the ledger);
 * a product-wide licence, more than 256 touched devices in one block, or a commit whose
 * transactions are not given (info->txs NULL) drop all cached device facts. A new checkpoint
 * alone makes cached bundles rebuild their paths on next use. */
void node_updates_on_commit(void *ctx, const struct node_chain_commit *info);

/* The handler (ctx: the struct node_updates; NULL answers 503). Parameters: product (an id),
 * channel (1..32 printable ASCII), hw (1..64 printable ASCII), counter (decimal uint64), device
 * (optional, key text of a registered device). Answers: 200 application/cbor with the bundle
 * and a strong ETag; 200 text/plain with the newest checkpoint note when there is no update;
 * either may carry "Fwchain-Hold: REASON; release=HEX[; until=T]" naming why the newest
 * release above N is not offered; 400 {"code":"bad_parameter","parameter":...}; 404
 * unknown_device; 409 product_mismatch / hwid_mismatch; 403 device_retired; 503 while the node
 * starts. */
void node_updates_handle(void *ctx, struct node_http_response *resp,
                         const struct node_http_request *req);

/* Counters, for tests and benchmarks. */
struct node_updates_stats {
	uint64_t hits;      /* answered from the cache, no SQLite */
	uint64_t splices;   /* cached release and paths, a newer checkpoint spliced in, no SQLite */
	uint64_t refreshes; /* cached release, paths rebuilt for a larger tree */
	uint64_t misses;    /* candidates read, or a candidate's bundle built, from the ledger */
	uint64_t dev_fills; /* device facts read from the ledger */
	uint64_t lookups;   /* per-device postponement / licence lookups */
	uint64_t readers;   /* reader connections borrowed (every SQLite access takes one) */
	/* The device cache. */
	size_t dev_slots;     /* slots now (NODE_UPDATES_DEVICE_SLOTS at start, doubling) */
	size_t dev_records;   /* records held */
	uint64_t dev_grows;   /* times it doubled */
	uint64_t dev_drops;   /* records dropped because a block changed their device */
	uint64_t dev_flushes; /* whole-cache invalidations (the first hook call makes one) */
	uint64_t dev_warmed;  /* records installed by node_updates_warm */
	int warm_done;        /* the warming thread has finished */
};
void node_updates_stats(struct node_updates *u, struct node_updates_stats *out);

#endif
