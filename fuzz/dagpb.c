/* Fuzz target: dag-pb node and UnixFS Data decoding (lib/dagpb.c).
 *
 * Property: the decoders are strict enough to promise canonical round trips. When a node
 * decodes and is in canonical order (Links before Data), re-encoding its links and Data gives
 * the input back byte for byte; a legacy-order node re-encodes to a canonical block that decodes
 * to the same links and Data. When a UnixFS message decodes, re-encoding it (with its
 * blocksizes) gives its bytes back. The whole input is also tried as a UnixFS message. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fwchain/dagpb.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void unixfs_round_trip(const uint8_t *p, size_t n)
{
	static uint64_t bs[FWC_DAGPB_MAX_LINKS];
	struct fwc_unixfs_data u;
	struct fwc_unixfs_iter it;
	uint8_t *out;
	size_t k = 0, ol = 0;
	uint64_t v;

	if (fwc_unixfs_data_decode(&u, p, n, NULL) != FWC_OK)
		return;
	fwc_unixfs_blocksizes_init(&it, &u);
	while (fwc_unixfs_blocksizes_next(&it, &v) == 1)
		bs[k++] = v;
	if (k != u.nblocksizes)
		abort();
	out = malloc(n + 1);
	if (out == NULL)
		return;
	if (fwc_unixfs_data_encode(out, n, &ol, &u, bs, k) != FWC_OK || ol != n ||
	    memcmp(out, p, n) != 0)
		abort();
	free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fwc_dagpb_node node, again;
	struct fwc_dagpb_iter it;
	struct fwc_dagpb_link *links;
	uint8_t *out;
	size_t k = 0, ol = 0;
	int r;

	unixfs_round_trip(data, size);
	if (fwc_dagpb_decode(&node, data, size, NULL) != FWC_OK)
		return 0;
	links = calloc(node.nlinks + 1, sizeof(*links));
	out = malloc(size + 1);
	if (links == NULL || out == NULL)
		goto done;
	fwc_dagpb_iter_init(&it, &node);
	while ((r = fwc_dagpb_iter_next(&it, &links[k])) == 1)
		k++;
	if (r != 0 || k != node.nlinks)
		abort();
	if (fwc_dagpb_encoded_len(links, k, node.data_len, node.has_data) != size)
		abort();
	if (fwc_dagpb_encode(out, size, &ol, links, k, node.data, node.data_len, node.has_data) !=
		    FWC_OK ||
	    ol != size)
		abort();
	if (!node.data_first && memcmp(out, data, size) != 0)
		abort();
	if (fwc_dagpb_decode(&again, out, ol, NULL) != FWC_OK || again.nlinks != node.nlinks ||
	    again.has_data != node.has_data || again.data_len != node.data_len ||
	    (node.data_len && memcmp(again.data, node.data, node.data_len) != 0) ||
	    again.data_first)
		abort();
	if (node.has_data)
		unixfs_round_trip(node.data, node.data_len);
done:
	free(links);
	free(out);
	return 0;
}
