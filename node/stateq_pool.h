/* fwchaind — per-connection query statements for node/db.c's reader pool.
 *
 * node/db.c lends whole read-only connections (node_db_reader_get) and binds the state
 * machine's queries (struct node_state) to each. The query API and the check-in also run the
 * queries of node/state_query.h, whose prepared statements belong to one connection too. A
 * struct node_stateq_pool keeps one struct node_stateq per reader connection it has seen, found
 * by the connection's handle, so every borrowed reader comes with its statements prepared once
 * and both users share the node's one pool of connections. */
#ifndef FWC_NODE_STATEQ_POOL_H
#define FWC_NODE_STATEQ_POOL_H

#include <pthread.h>
#include <sqlite3.h>

#include "state_query.h"

#define NODE_STATEQ_POOL_MAX 64 /* node/db.c opens at most 64 readers */

struct node_stateq_pool {
	pthread_mutex_t mu;
	size_t n;
	struct {
		sqlite3 *h;
		struct node_stateq q;
	} v[NODE_STATEQ_POOL_MAX];
};

/* Initialise an empty pool. FWC_OK or FWC_ERR_NOMEM. */
int node_stateq_pool_init(struct node_stateq_pool *p);

/* Finalise every statement. Must run before the connections close (node_db_close). */
void node_stateq_pool_cleanup(struct node_stateq_pool *p);

/* The statements bound to h, a connection the caller has borrowed (so it alone uses them until
 * it returns the reader). NULL when h is NULL or more than NODE_STATEQ_POOL_MAX connections
 * were seen. */
struct node_stateq *node_stateq_pool_get(struct node_stateq_pool *p, sqlite3 *h);

#endif
