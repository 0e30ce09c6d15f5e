/* fwchaind — the content endpoints: the IPFS trustless/path gateway (GET/HEAD /ipfs/{cid}),
 * uploads (POST /v1/content, streamed into the block store), pins (GET/POST/DELETE /v1/pins),
 * garbage collection (POST /v1/content/gc), where a DAG is held (GET /v1/content/{cid}/status),
 * and the two hooks the ledger needs: a RELEASE is refused unless its DAG is complete here, and
 * a committed RELEASE's CID is pinned. Endpoints and answers: docs/content-store.md; request
 * signatures: docs/formats/content-auth.md.
 *
 * Like node/api_query.h, two route tables serve the same handlers: node_content_routes, whose
 * context is the struct node_content itself (tests drive it in process), and
 * NODE_API_CONTENT_ROUTES / node_api_uploads for node/api.c, whose context is the node's struct
 * node_api (its content member; NULL answers 503). */
#ifndef FWC_NODE_API_CONTENT_H
#define FWC_NODE_API_CONTENT_H

#include <stddef.h>
#include <stdint.h>

#include "blockstore.h"
#include "fwchain/cid.h"
#include "fwchain/err.h"
#include "fwchain/key.h"
#include "http.h"
#include "pins.h"

struct node_repl;

/* Roles (bit mask, FWC_ROLE_BIT of tx.h) of a key: FWC_OK, FWC_ERR_NOT_FOUND (not a member),
 * or another error (the ledger cannot be read: 503). */
typedef int node_content_roles_fn(void *ctx, const struct fwc_pubkey *key, uint32_t *roles);

#define NODE_CONTENT_BOOTSTRAP_MAX 4
#define NODE_CONTENT_REPLAY_SLOTS 8192 /* signed requests remembered (replay refusal) */

struct node_content_config {
	const char *chain_id;    /* signed into every request (required) */
	const char *ledger_path; /* ledger.db: member roles are read from its state tables */
	/* Tests: roles from this function instead of the ledger. */
	node_content_roles_fn *roles;
	void *roles_ctx;
	/* Keys that hold every content role without a ledger lookup: --dev's genesis admin. */
	struct fwc_pubkey bootstrap[NODE_CONTENT_BOOTSTRAP_MAX];
	size_t nbootstrap;
	uint64_t max_upload;  /* bytes of one upload; 0 = NODE_IMPORT_DEFAULT_MAX_BYTES */
	int64_t gc_grace_s;   /* default grace of POST /v1/content/gc; < 0 = 600 */
	int64_t (*now)(void); /* clock for request times; NULL = time(NULL) */
	int no_release_check; /* admit RELEASEs whose content is not here (tests of the ledger) */
};

struct node_content;

/* Serve the store bs through pins (both outlive the content). *out set only on success.
 * FWC_ERR_ARG, FWC_ERR_NOMEM. */
int node_content_open(struct node_content **out, const struct node_content_config *cfg,
                      struct node_bs *bs, struct node_pins *pins, struct fwc_errinfo *ei);

/* Free; no request may be in progress. NULL is fine. */
void node_content_close(struct node_content *c);

/* The replicator (node/replicate.h) that records wanted pins and answers for peers; NULL
 * until set (pins of incomplete DAGs are then refused, status lists no peers). */
void node_content_set_repl(struct node_content *c, struct node_repl *r);

/* Availability before acceptance: when tx (a signed transaction, already decoded by whoever
 * calls this or not) is a RELEASE whose manifest's CID names a DAG that is not complete in the
 * store, fill resp with a 409 `content_unavailable` naming the first missing block and return
 * FWC_ERR_NOT_FOUND; a RELEASE whose manifest or CID cannot be read is left to the ledger's own
 * checks. Returns FWC_OK (not a RELEASE, or complete), FWC_ERR_NOT_FOUND, or FWC_ERR_IO (resp:
 * 500). c NULL, or configured with no_release_check: FWC_OK. */
int node_content_check_tx(struct node_content *c, struct node_http_response *resp,
                          const uint8_t *tx, size_t len);

/* Pin a committed RELEASE's CID (binary, as in the manifest) under origin "release"; when the
 * DAG is not complete here, record it as wanted so the replicator fetches it. Returns FWC_OK,
 * FWC_ERR_NOT_FOUND (incomplete and no replicator), or the pin's error. */
int node_content_pin_release(struct node_content *c, const uint8_t *cid, size_t cid_len,
                             struct fwc_errinfo *ei);

/* Pin (or want) the content of every RELEASE committed at height from_height or later, as
 * the ledger's state tables list them; for the chain's commit hook (from_height 0 at start:
 * every release). Problems are logged to stderr, not returned: the hook cannot refuse a block
 * already committed, and the replicator retries what is wanted. */
void node_content_pin_releases(struct node_content *c, uint64_t from_height);

/* Handlers, context struct node_content. */
node_http_handler_fn node_content_h_ipfs, node_content_h_pins, node_content_h_pin_add,
    node_content_h_pin_remove, node_content_h_gc, node_content_h_status, node_content_h_replication;
void *node_content_up_begin(void *ctx, struct node_http_response *resp,
                            const struct node_http_request *req);
int node_content_up_data(void *upload, struct node_http_response *resp, const uint8_t *data,
                         size_t len);
void node_content_up_end(void *upload, struct node_http_response *resp,
                         const struct node_http_request *req);
void node_content_up_release(void *upload);

/* Largest upload body the HTTP layer lets through (the import's own limits apply inside):
 * the default file limit plus room for a CAR's framing. */
#define NODE_CONTENT_UPLOAD_MAX_BODY ((4ull << 30) + (64ull << 20))

extern const struct node_http_route node_content_routes[];
extern const size_t node_content_nroutes;
extern const struct node_http_upload_route node_content_uploads[];
extern const size_t node_content_nuploads;

/* The same handlers with a struct node_api as context (its content member). */
node_http_handler_fn node_api_c_ipfs, node_api_c_pins, node_api_c_pin_add, node_api_c_pin_remove,
    node_api_c_gc, node_api_c_status, node_api_c_replication;
extern const struct node_http_upload_route node_api_uploads[];
extern const size_t node_api_nuploads;

/* clang-format off */
#define NODE_API_CONTENT_ROUTES                                                                    \
	{"GET", "/ipfs/{}", node_api_c_ipfs},                                                      \
	{"GET", "/ipfs/{}/{}", node_api_c_ipfs},                                                   \
	{"GET", "/v1/pins", node_api_c_pins},                                                      \
	{"POST", "/v1/pins/{}", node_api_c_pin_add},                                               \
	{"DELETE", "/v1/pins/{}", node_api_c_pin_remove},                                          \
	{"POST", "/v1/content/gc", node_api_c_gc},                                                 \
	{"GET", "/v1/content/{}/status", node_api_c_status},                                      \
	{"GET", "/v1/replication", node_api_c_replication}
/* clang-format on */

#endif
