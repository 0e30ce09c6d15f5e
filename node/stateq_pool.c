/* Per-connection struct node_stateq for node/db.c's reader connections (see stateq_pool.h).
 *
 * Design choice: a linear table under a mutex, keyed by the sqlite3 handle. The table has at
 * most as many entries as node/db.c has readers (64 at most) and an entry is never removed
 * while the connections live (node/db.c opens a reader's connection once and keeps it), so a
 * lookup is a few pointer comparisons and the returned statements stay valid for as long as
 * the caller holds the reader. */
#include "stateq_pool.h"

#include <string.h>

int node_stateq_pool_init(struct node_stateq_pool *p)
{
	if (p == NULL)
		return FWC_ERR_ARG;
	memset(p, 0, sizeof(*p));
	return pthread_mutex_init(&p->mu, NULL) == 0 ? FWC_OK : FWC_ERR_NOMEM;
}

void node_stateq_pool_cleanup(struct node_stateq_pool *p)
{
	if (p == NULL)
		return;
	for (size_t i = 0; i < p->n; i++)
		node_stateq_close(&p->v[i].q);
	p->n = 0;
	pthread_mutex_destroy(&p->mu);
}

struct node_stateq *node_stateq_pool_get(struct node_stateq_pool *p, sqlite3 *h)
{
	struct node_stateq *q = NULL;

	if (p == NULL || h == NULL)
		return NULL;
	pthread_mutex_lock(&p->mu);
	for (size_t i = 0; i < p->n && q == NULL; i++)
		if (p->v[i].h == h)
			q = &p->v[i].q;
	if (q == NULL && p->n < NODE_STATEQ_POOL_MAX &&
	    node_stateq_open(&p->v[p->n].q, h) == FWC_OK) {
		p->v[p->n].h = h;
		q = &p->v[p->n++].q;
	}
	pthread_mutex_unlock(&p->mu);
	return q;
}
