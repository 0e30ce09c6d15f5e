/* fwchaind — the JSON query endpoints of the REST API: organisations, products and their key
 * sets, releases, devices with their history, events, transactions by sender and the audit
 * trail, all read from the state machine's tables. Endpoints, parameters and answers:
 * docs/node.md ("Query API").
 *
 * The handlers read through a struct node_query: a small pool of read-only SQLite connections
 * to the ledger file, each with its own cached statements (SQLite in WAL mode lets them read
 * while the block producer writes, and each request reads one consistent snapshot). Two route
 * tables serve the same handlers: node_query_routes, whose context is the struct node_query
 * itself (tests drive it in process), and NODE_API_QUERY_ROUTES, for node/api.c's table, whose
 * context is the node's struct node_api (its query member; NULL answers 503). */
#ifndef FWC_NODE_API_QUERY_H
#define FWC_NODE_API_QUERY_H

#include <stddef.h>

#include "fwchain/err.h"

#include "http.h"

#define NODE_QUERY_LIMIT_DEFAULT 100
#define NODE_QUERY_LIMIT_MAX 1000
#define NODE_QUERY_READERS_MAX 64

struct node_query;

/* Open a pool of `readers` (1..NODE_QUERY_READERS_MAX) read-only connections to the ledger at
 * db_path. Connections open on first use, so this succeeds before the file holds the state
 * tables (queries then answer 503 state_unavailable until it does). *out is set only on
 * success. FWC_OK, FWC_ERR_ARG, FWC_ERR_NOMEM. */
int node_query_open(struct node_query **out, const char *db_path, unsigned readers,
                    struct fwc_errinfo *ei);

/* Close every connection and free. No request may be in progress. NULL is fine. */
void node_query_close(struct node_query *q);

/* The query endpoints with a struct node_query as the dispatcher's context. */
extern const struct node_http_route node_query_routes[];
extern const size_t node_query_nroutes;

/* The same handlers with a struct node_api as context (node/api_query_api.c). */
node_http_handler_fn node_api_q_orgs, node_api_q_org, node_api_q_products, node_api_q_product,
    node_api_q_product_releases, node_api_q_release, node_api_q_devices, node_api_q_device,
    node_api_q_events, node_api_q_txs, node_api_q_audit;

/* Route entries for node/api.c's table (context: struct node_api). */
/* clang-format off */
#define NODE_API_QUERY_ROUTES                                                                      \
	{"GET", "/v1/orgs", node_api_q_orgs},                                                      \
	{"GET", "/v1/orgs/{}", node_api_q_org},                                                    \
	{"GET", "/v1/products", node_api_q_products},                                              \
	{"GET", "/v1/products/{}", node_api_q_product},                                            \
	{"GET", "/v1/products/{}/releases", node_api_q_product_releases},                          \
	{"GET", "/v1/releases/{}", node_api_q_release},                                            \
	{"GET", "/v1/devices", node_api_q_devices},                                                \
	{"GET", "/v1/devices/{}", node_api_q_device},                                              \
	{"GET", "/v1/events", node_api_q_events},                                                  \
	{"GET", "/v1/txs", node_api_q_txs},                                                        \
	{"GET", "/v1/audit", node_api_q_audit}
/* clang-format on */

/* The handlers themselves, context struct node_query (NULL answers 503). */
node_http_handler_fn node_query_h_orgs, node_query_h_org, node_query_h_products,
    node_query_h_product, node_query_h_product_releases, node_query_h_release, node_query_h_devices,
    node_query_h_device, node_query_h_events, node_query_h_txs, node_query_h_audit;

#endif
