/* Fuzz target for node/txbatch.c, the split of a POST /v1/txs/batch body (built in directly:
 * the file depends on libfwchain only).
 *
 * Properties: a refusal always says why (a non-empty message); on success every entry is a
 * non-empty range inside the input, the entries follow each other in order, and their count
 * is within the bound. */
#include "../node/txbatch.c"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct node_txbatch_item items[NODE_TXBATCH_MAX];
	struct fwc_errinfo ei;
	size_t n = 0;

	memset(&ei, 0, sizeof(ei));
	if (node_txbatch_decode(items, NODE_TXBATCH_MAX, &n, data, size, &ei) != FWC_OK) {
		if (ei.msg[0] == '\0')
			abort();
		return 0;
	}
	if (n == 0 || n > NODE_TXBATCH_MAX)
		abort();
	for (size_t i = 0; i < n; i++) {
		if (items[i].len == 0 || items[i].p < data ||
		    items[i].p + items[i].len > data + size)
			abort();
		if (i > 0 && items[i].p < items[i - 1].p + items[i - 1].len)
			abort();
	}
	return 0;
}
