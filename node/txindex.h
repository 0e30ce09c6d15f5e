/* fwchaind — the mempool's index: what the pending transactions (queued and in flight) hold
 * that a submission must check, answered in O(1) instead of a scan of the whole mempool.
 *
 * It keeps three sets of the pending transactions: their ids (duplicates), their (sender,
 * nonce) pairs (a nonce already pending), and per sender the count and highest pending nonce;
 * plus how many pending transactions may change memberships. The chain adds a transaction when
 * it enters the mempool and removes it when it leaves for good (committed, rejected, expired);
 * moving between the queue and the block being built changes nothing here. Not thread-safe:
 * the chain calls it under its mutex. */
#ifndef FWC_NODE_TXINDEX_H
#define FWC_NODE_TXINDEX_H

#include <stddef.h>
#include <stdint.h>

#include "fwchain/key.h"

struct node_txindex;

/* An index for at most max pending transactions (the sets are sized for it once; an add
 * beyond max fails). *out is set only on success; FWC_ERR_ARG or FWC_ERR_NOMEM. */
int node_txindex_new(struct node_txindex **out, size_t max);
void node_txindex_free(struct node_txindex *ix);

/* Add one pending transaction: its id, sender (binary form), nonce, and whether its type may
 * change memberships. FWC_ERR_DUPLICATE when the id or the (sender, nonce) pair is already
 * there (nothing added), FWC_ERR_RANGE when max transactions are indexed. */
int node_txindex_add(struct node_txindex *ix, const uint8_t id[32],
                     const uint8_t sender[FWC_PUBKEY_BIN_LEN], uint64_t nonce, int membership);

/* Remove what node_txindex_add added (same arguments); unknown entries are ignored. */
void node_txindex_remove(struct node_txindex *ix, const uint8_t id[32],
                         const uint8_t sender[FWC_PUBKEY_BIN_LEN], uint64_t nonce, int membership);

/* Is id pending? */
int node_txindex_has_id(const struct node_txindex *ix, const uint8_t id[32]);
/* Is (sender, nonce) pending? */
int node_txindex_has_nonce(const struct node_txindex *ix, const uint8_t sender[FWC_PUBKEY_BIN_LEN],
                           uint64_t nonce);
/* The sender's pending count and highest pending nonce (0 and 0 when none). */
void node_txindex_sender(const struct node_txindex *ix, const uint8_t sender[FWC_PUBKEY_BIN_LEN],
                         size_t *count, uint64_t *top);
/* How many pending transactions may change memberships. */
size_t node_txindex_membership(const struct node_txindex *ix);
/* How many transactions are indexed. */
size_t node_txindex_size(const struct node_txindex *ix);

#endif
