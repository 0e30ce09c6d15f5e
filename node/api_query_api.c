/* The query endpoints of node/api_query.c with the node's struct node_api as their context:
 * each entry of NODE_API_QUERY_ROUTES forwards to the handler with api->query.
 *
 * A separate file so that node/api_query.c depends on the state and its reader pool only, not
 * on the chain: its tests drive it with a struct node_query and no chain at all. */
#include "api.h"
#include "api_query.h"

#define FORWARD(name)                                                                              \
	void node_api_q_##name(void *ctx, struct node_http_response *resp,                         \
	                       const struct node_http_request *req)                                \
	{                                                                                          \
		node_query_h_##name(ctx ? ((struct node_api *)ctx)->query : NULL, resp, req);      \
	}

FORWARD(orgs)
FORWARD(org)
FORWARD(products)
FORWARD(product)
FORWARD(product_releases)
FORWARD(release)
FORWARD(devices)
FORWARD(device)
FORWARD(events)
FORWARD(txs)
FORWARD(audit)
