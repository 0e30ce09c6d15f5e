/* fwchaind — the JSON query endpoints of the REST API: organisations, products and their key
 * sets, releases, devices with their history, events, transactions by sender and the audit
 * trail, all read from the state machine's tables. Endpoints, parameters and answers:
 * docs/node.md ("Query API").
 *
 * The handlers read through a struct node_query: node/db.c's pool of read-only SQLite
 * connections (the node's one reader pool, shared with the check-in), with this module's
 * statements cached per connection (SQLite in WAL mode lets them read while the block producer
 * writes, and each request reads one consistent snapshot). Two route
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

struct node_query;
struct node_db;

/* The query endpoints over db's reader pool (db must outlive the struct; size the pool with
 * node_db_set_readers for the HTTP workers). *out is set only on success. FWC_OK, FWC_ERR_ARG,
 * FWC_ERR_NOMEM. */
int node_query_open(struct node_query **out, struct node_db *db, struct fwc_errinfo *ei);

/* Finalise this module's statements and free. No request may be in progress; call it before
 * node_db_close. NULL is fine. */
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
