/* fwchaind — the public REST API (/v1/...): handlers over the chain and the ledger, served by
 * node/http.c. Endpoints, bodies and error codes: docs/node.md. */
#ifndef FWC_NODE_API_H
#define FWC_NODE_API_H

#include <stddef.h>

#include "chain.h"
#include "db.h"
#include "http.h"

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

#endif
