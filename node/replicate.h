/* fwchaind — replication of pinned content between nodes.
 *
 * A node keeps a list of wanted DAGs (table store_wants: root, origin), pinned under that
 * origin as soon as they are complete locally: a committed RELEASE whose content is elsewhere,
 * an operator's pin of a CID this node does not hold yet, and every pin its peers list on
 * GET /v1/pins (origin "replica"). With a replication factor N, a release or a peer's pin is
 * fetched only by the N nodes that placement (rendezvous hashing over the node URLs) chooses
 * for its CID; by default (factor 0) by every node. A
 * background thread walks each wanted DAG, fetches every missing block from the peers'
 * trustless gateways (GET /ipfs/{cid}?format=raw, libcurl), verifies each block against its CID
 * before storing it, and moves on to the next peer when one answers wrong, truncated,
 * oversized, slow or not at all (that peer is marked and backed off exponentially). Peers are
 * untrusted: nothing they send is stored unless it hashes to the CID asked for.
 * Details: docs/content-store.md ("Replication"). */
#ifndef FWC_NODE_REPLICATE_H
#define FWC_NODE_REPLICATE_H

#include <stddef.h>
#include <stdint.h>

#include "fwchain/cid.h"
#include "fwchain/err.h"
#include "pins.h"

#define NODE_REPL_PEERS_MAX 16
#define NODE_REPL_URL_MAX 256
#define NODE_REPL_ORIGIN_REPLICA "replica" /* pins learnt from peers */

struct node_repl_config {
	const char *peers[NODE_REPL_PEERS_MAX]; /* base URLs "http://127.0.0.1:PORT" */
	size_t npeers;
	unsigned interval_ms;   /* pause between rounds (default 1000) */
	unsigned concurrency;   /* block transfers at once (default 4, max 16) */
	unsigned timeout_s;     /* whole transfer of one block (default 30) */
	unsigned connect_ms;    /* connect timeout (default 2000) */
	long min_rate;          /* bytes/s: slower for low_speed_s is abandoned (default 16384) */
	unsigned low_speed_s;   /* (default 3) */
	unsigned backoff_max_s; /* a failing peer is retried after 1, 2, 4 ... this many s (30) */
	int follow_peers;       /* learn peers' pins (default 1) */
	unsigned
	    replication_factor; /* copies of each replicated DAG: 0 = every node (default);
	                           N = the N nodes placement chooses (see node_repl_placement) */
	const char *self_url;   /* this node as its peers name it (copied); may come later
	                           through node_repl_set_self. Needed when the factor is N */
	size_t max_block;       /* a larger answer is refused (default: the store's max block) */
};

/* Counters (monotonic since start). */
struct node_repl_stats {
	uint64_t rounds;
	uint64_t blocks_fetched, bytes_fetched;
	uint64_t blocks_refused; /* wrong hash, too long, truncated */
	uint64_t fetch_errors;   /* timeouts, connection failures, HTTP errors */
	uint64_t pinned;         /* wanted DAGs completed and pinned */
};

struct node_repl;

void node_repl_config_default(struct node_repl_config *cfg);

/* Bind to pins (and its store) and open a connection to the node's database at db_path for
 * the wants table (created when missing). No thread runs until node_repl_start. *out set only
 * on success. FWC_ERR_ARG (a peer URL that is not http://, too many peers), FWC_ERR_IO,
 * FWC_ERR_NOMEM. */
int node_repl_open(struct node_repl **out, const struct node_repl_config *cfg,
                   struct node_pins *pins, const char *db_path, struct fwc_errinfo *ei);

/* Start the background thread. FWC_OK or FWC_ERR_IO. */
int node_repl_start(struct node_repl *r, struct fwc_errinfo *ei);

/* Stop the thread (waits for transfers in flight, each bounded by timeout_s) and free.
 * NULL is fine. */
void node_repl_close(struct node_repl *r);

/* Want root pinned under origin: pinned at once when complete (FWC_OK, *pinned = 1), else
 * recorded for the thread (FWC_OK, *pinned = 0; *missing gets the first missing block when
 * given). Errors: FWC_ERR_ARG, FWC_ERR_IO, a DAG error other than a missing block (corrupt
 * stored block, ...). */
int node_repl_want(struct node_repl *r, const struct fwc_cid *root, const char *origin, int *pinned,
                   struct fwc_cid *missing, struct fwc_errinfo *ei);

/* Forget a want. FWC_OK, FWC_ERR_NOT_FOUND, FWC_ERR_IO. */
int node_repl_unwant(struct node_repl *r, const struct fwc_cid *root, const char *origin);

/* Every want (root as CIDv1, origin, creation time), in (root, origin) order. A negative
 * return from fn stops and is returned. */
int node_repl_wants(struct node_repl *r,
                    int (*fn)(void *ctx, const struct fwc_cid *root, const char *origin,
                              int64_t created),
                    void *ctx);

/* Ask every peer whether it holds root complete (its GET /v1/content/{cid}/status?local=1),
 * in parallel, each within timeout_ms. fn gets each peer's URL and either complete = 0/1 with
 * err NULL, or err (why the peer gave no answer). */
void node_repl_peer_status(struct node_repl *r, const struct fwc_cid *root, unsigned timeout_ms,
                           void (*fn)(void *ctx, const char *url, int complete, const char *err),
                           void *ctx);

/* This node's URL as its peers name it ("http://127.0.0.1:PORT"; a trailing '/' is dropped),
 * when it is only known once the HTTP server listens. Until it is set, a node with a
 * replication factor fetches nothing it is not told to (operator pins, incomplete own pins).
 * FWC_OK or FWC_ERR_ARG (not an http(s) URL). */
int node_repl_set_self(struct node_repl *r, const char *url);

/* Placement (rendezvous hashing): the nodes that should hold root. The candidates are this
 * node and its peers, each named by its URL; each gets the weight SHA-256("fwchain-placement"
 * || 0x00 || url || 0x00 || digest of root) read as a big-endian 64-bit number, and the
 * replication factor's N heaviest are chosen (all candidates for factor 0 or N >= their
 * count), heaviest first. Every node that lists all the others as peers computes the same
 * list, so they agree on who fetches what without talking. Writes up to cap URLs (pointers
 * into r, valid until node_repl_close) to urls and returns how many nodes are chosen (which
 * may exceed cap), or FWC_ERR_STATE when the factor is N but this node's URL is not known
 * yet, FWC_ERR_ARG. *mine (optional) is set to 1 when this node is among them. */
int node_repl_placement(struct node_repl *r, const struct fwc_cid *root, const char **urls,
                        size_t cap, int *mine);

/* This node's URL ("" until known; valid until node_repl_close). */
const char *node_repl_self(struct node_repl *r);

/* The replication factor (0 = all). */
unsigned node_repl_factor(const struct node_repl *r);

/* Wake the thread now (a new want). */
void node_repl_kick(struct node_repl *r);

void node_repl_get_stats(struct node_repl *r, struct node_repl_stats *st);

/* How a peer is doing: its URL, consecutive failures, refused blocks, seconds until retry. */
size_t node_repl_npeers(struct node_repl *r);
int node_repl_peer_info(struct node_repl *r, size_t i, char *url, size_t urlcap, unsigned *failures,
                        uint64_t *refused, int64_t *retry_in_s);

#endif
