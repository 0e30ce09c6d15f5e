/* fwchaind batch submission body: the split of one CBOR array of signed transactions.
 *
 * Main design choice: the decoder does nothing but split (pointer, length) pairs out of the
 * body with the strict CBOR decoder, no copies and no heap, so a batch costs one walk of its
 * bytes; each transaction is then decoded, verified and refused or queued on its own by
 * node_chain_submit, and one bad entry does not spoil the others. This file depends on
 * libfwchain only, so fuzz/txbatch.c can build it without the rest of the node. */
#include "txbatch.h"

#include "fwchain/cbor.h"

int node_txbatch_decode(struct node_txbatch_item *items, size_t cap, size_t *n, const uint8_t *in,
                        size_t len, struct fwc_errinfo *ei)
{
	struct fwc_cbor_dec d;
	enum fwc_cbor_type t;
	uint64_t count = 0;
	int rc;

	if (n == NULL || (items == NULL && cap != 0) || (in == NULL && len != 0))
		return FWC_ERR_ARG;
	if (len > NODE_TXBATCH_BYTES)
		return fwc_fail(ei, 0, FWC_ERR_TOO_LARGE, "batch of %zu bytes exceeds %u", len,
		                NODE_TXBATCH_BYTES);
	/* Entries may be as long as the body: an oversized transaction is refused on its own
	 * (too_large) by the submission, not by the split. */
	fwc_cbor_dec_init(&d, in, len, NODE_TXBATCH_BYTES, ei);
	if ((rc = fwc_cbor_peek(&d, &t)) < 0)
		return rc;
	if (t != FWC_CBOR_ARRAY)
		return fwc_fail(ei, 0, FWC_ERR_TYPE, "a batch is a CBOR array of byte strings");
	if ((rc = fwc_cbor_get_array(&d, &count)) < 0)
		return rc;
	if (count == 0)
		return fwc_fail(ei, 0, FWC_ERR_RANGE, "empty batch");
	if (count > NODE_TXBATCH_MAX || count > cap)
		return fwc_fail(ei, 0, FWC_ERR_TOO_LARGE,
		                "%llu transactions; a batch holds at most %zu",
		                (unsigned long long)count,
		                cap < NODE_TXBATCH_MAX ? cap : (size_t)NODE_TXBATCH_MAX);
	for (uint64_t i = 0; i < count; i++) {
		size_t off = d.pos;

		if ((rc = fwc_cbor_peek(&d, &t)) < 0)
			return rc;
		if (t != FWC_CBOR_BYTES)
			return fwc_fail(ei, off, FWC_ERR_TYPE,
			                "entry %llu is not a byte string (a signed transaction)",
			                (unsigned long long)i);
		if ((rc = fwc_cbor_get_bytes(&d, &items[i].p, &items[i].len)) < 0)
			return rc;
		if (items[i].len == 0)
			return fwc_fail(ei, off, FWC_ERR_RANGE, "entry %llu is empty",
			                (unsigned long long)i);
	}
	if ((rc = fwc_cbor_finish(&d)) < 0)
		return rc;
	*n = (size_t)count;
	return FWC_OK;
}
