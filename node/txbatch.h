/* fwchaind — the body of POST /v1/txs/batch: many signed transactions in one request, so a
 * gateway relaying device events (or any busy client) pays the HTTP round trip once per batch
 * instead of once per transaction.
 *
 * Format (docs/node.md, "POST /v1/txs/batch"): one CBOR array (definite length, canonical
 * heads, the strict profile of docs/formats/cbor.md) of 1..NODE_TXBATCH_MAX byte strings, each
 * one signed transaction exactly as POST /v1/txs takes it. Nothing else: no trailing bytes, no
 * other item types. The decoder only splits; every transaction is then checked on its own. */
#ifndef FWC_NODE_TXBATCH_H
#define FWC_NODE_TXBATCH_H

#include <stddef.h>
#include <stdint.h>

#include "fwchain/err.h"

#define NODE_TXBATCH_MAX 4096         /* transactions per batch at most */
#define NODE_TXBATCH_BYTES (4u << 20) /* a batch body at most (4 MiB) */

struct node_txbatch_item {
	const uint8_t *p; /* points into the batch body */
	size_t len;
};

/* Split a batch body in[0..len) into items[0..*n) (cap entries of caller storage; the items
 * point into in). FWC_OK, or: FWC_ERR_TOO_LARGE (more than cap or NODE_TXBATCH_MAX entries, a
 * body above NODE_TXBATCH_BYTES), FWC_ERR_RANGE (an empty array or an empty entry),
 * FWC_ERR_TYPE (not an array of byte strings), or the CBOR decoder's error (FWC_ERR_TRUNCATED,
 * FWC_ERR_TRAILING, FWC_ERR_NONCANONICAL, ...), with the offset and what was wrong in ei
 * (optional). *n and items are written only on success (items may be partly written on
 * failure). */
int node_txbatch_decode(struct node_txbatch_item *items, size_t cap, size_t *n, const uint8_t *in,
                        size_t len, struct fwc_errinfo *ei);

#endif
