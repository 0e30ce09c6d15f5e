/* fwchaind — the public REST API (/v1/...): handlers over the chain and the ledger, served by
 * node/http.c. Endpoints, bodies and error codes: docs/node.md. */
#ifndef FWC_NODE_API_H
#define FWC_NODE_API_H

#include <stddef.h>
#include <stdint.h>

#include "chain.h"
#include "db.h"
#include "http.h"
#include "txbatch.h"

struct node_query;
struct node_updates;
struct node_content;

/* What the handlers read; caller storage that must outlive the HTTP server. */
struct node_api {
	struct node_chain *chain;
	struct node_db *db;
	char chain_id[128];
	struct node_query *query; /* state readers of the query endpoints (api_query.h); NULL: 503 */
	struct node_updates *updates; /* the check-in cache (updates.h); NULL: 503 */
	struct node_content *content; /* content store and gateway (api_content.h); NULL: 503 */
};

void node_api_init(struct node_api *api, struct node_chain *chain, struct node_db *db,
                   const char *chain_id);

/* The route table (pass &api as the server's ctx). */
extern const struct node_http_route node_api_routes[];
extern const size_t node_api_nroutes;

/* POST /v1/txs/batch (docs/node.md), an upload route so that its body may exceed the server's
 * body limit for ordinary requests, up to NODE_TXBATCH_BYTES: node_api_uploads
 * (node/api_content_api.c) lists it with NODE_API_TX_UPLOADS. */
void *node_api_batch_begin(void *ctx, struct node_http_response *resp,
                           const struct node_http_request *req);
int node_api_batch_data(void *upload, struct node_http_response *resp, const uint8_t *data,
                        size_t len);
void node_api_batch_end(void *upload, struct node_http_response *resp,
                        const struct node_http_request *req);
void node_api_batch_release(void *upload);
#define NODE_API_TX_UPLOADS                                                                        \
	{"POST", "/v1/txs/batch", NODE_TXBATCH_BYTES, node_api_batch_begin, node_api_batch_data,   \
	 node_api_batch_end, node_api_batch_release}

#endif
