/* fwchaind — the device check-in: GET /v1/updates?product=P&channel=C&hw=H&counter=N[&device=D]
 * answers with the proof bundle (docs/formats/bundle.md) of the newest applicable release whose
 * counter is above N, or, when there is none, with the newest checkpoint alone. Answers are
 * cached so that a check-in that hits the cache runs no SQLite query. Endpoint and cache:
 * docs/node.md ("Check-in"). */
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

struct node_updates;

/* A check-in cache over db (which must outlive it). *out is set only on success. Until the
 * first node_updates_on_commit call (node_chain_set_commit_hook makes one at once) every
 * check-in answers 503. FWC_OK, FWC_ERR_ARG, FWC_ERR_NOMEM. */
int node_updates_new(struct node_updates **out, struct node_db *db);

/* Free; NULL is fine. No request may be in progress. */
void node_updates_free(struct node_updates *u);

/* The chain's commit hook (ctx: the struct node_updates): records the new checkpoint and, when
 * the block applied a transaction that can change a check-in's answer (release, release-revoke,
 * rollout-control, key-set registration or rotation, product registration), invalidates every
 * cached answer. A new checkpoint alone makes cached bundles rebuild their paths on next use. */
void node_updates_on_commit(void *ctx, const struct node_chain_commit *info);

/* The handler (ctx: the struct node_updates; NULL answers 503). Parameters: product (an id),
 * channel (1..32 printable ASCII), hw (1..64 printable ASCII), counter (decimal uint64), device
 * (optional, key text: checked, not yet used). Answers: 200 application/cbor with the bundle
 * and a strong ETag; 200 text/plain with the newest checkpoint note when there is no update;
 * 400 {"code":"bad_parameter","parameter":...,"message":...}; 503 while the node starts. */
void node_updates_handle(void *ctx, struct node_http_response *resp,
                         const struct node_http_request *req);

/* Counters, for tests and benchmarks. */
struct node_updates_stats {
	uint64_t hits;      /* answered from the cache, no SQLite */
	uint64_t splices;   /* cached release and paths, a newer checkpoint spliced in, no SQLite */
	uint64_t refreshes; /* cached release, paths rebuilt for a larger tree */
	uint64_t misses;    /* release chosen and bundle built from the ledger */
};
void node_updates_stats(struct node_updates *u, struct node_updates_stats *out);

#endif
