/* Fuzz target for the agent's DAG readers (agent/core/dag.c): the interior-node check with its
 * child lookup, and the dag-pb leaf header and trailer parsers.
 *
 * The download runs fwc_agent_dag_child only on blocks that matched their CID, but the CID is
 * the release's, and a release may name any bytes: the reader must refuse every node that is
 * not a plain UnixFS file node without crashing, and never pick a child outside the range it
 * was given. The leaf header is parsed BEFORE the block's hash is known (it tells how to stream
 * the leaf), so it sees raw source bytes. The first input byte picks the function: 0, the rest
 * is a node, whose filesize (read with libfwchain's own decoders, when it has one) becomes the
 * range and the next four bytes pick the offset; 1, a leaf's first bytes; 2, a trailer whose
 * expected length is the next byte. Every accepted result is checked for consistency. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../core/dag.h"
#include "fwchain/dagpb.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	switch (data[0] % 3) {
	case 0: {
		struct fwc_dagpb_node node;
		struct fwc_unixfs_data ud;
		struct fwc_agent_dag_ref c;
		uint64_t fsize = 1000, start, pos;
		uint32_t pick;

		if (size < 5)
			return 0;
		pick = (uint32_t)data[1] | (uint32_t)data[2] << 8 | (uint32_t)data[3] << 16 |
		       (uint32_t)data[4] << 24;
		if (fwc_dagpb_decode(&node, data + 5, size - 5, NULL) == FWC_OK && node.has_data &&
		    fwc_unixfs_data_decode(&ud, node.data, node.data_len, NULL) == FWC_OK &&
		    ud.has_filesize && ud.filesize > 0)
			fsize = ud.filesize;
		start = (uint64_t)(pick & 0xff) * 4096;
		pos = start + pick % fsize;
		if (fwc_agent_dag_child(&c, data + 5, size - 5, start, fsize, pos) != FWC_OK)
			return 0;
		if (c.start < start || c.size == 0 || c.start - start > fsize ||
		    c.size > fsize - (c.start - start) || pos < c.start || pos - c.start >= c.size)
			abort();
		if (c.kind != FWC_AGENT_CID_RAW && c.kind != FWC_AGENT_CID_PB0 &&
		    c.kind != FWC_AGENT_CID_PB1)
			abort();
		break;
	}
	case 1: {
		size_t hl = 0;
		uint64_t dl = 0, bl = 0;

		if (fwc_agent_dag_leaf_header(&hl, &dl, &bl, data + 1, size - 1) != FWC_OK)
			return 0;
		if (hl > size - 1 || hl > bl || dl > bl - hl || bl - hl - dl < 2 ||
		    bl - hl - dl > FWC_AGENT_DAG_TRAILER_MAX || bl > FWC_DAGPB_MAX_BLOCK)
			abort();
		/* a whole leaf: the trailer the header promised is the one that checks */
		if (bl == size - 1 &&
		    fwc_agent_dag_leaf_trailer(data + 1 + hl + dl, (size_t)(bl - hl - dl), dl) ==
		        FWC_OK &&
		    (data[1 + hl + dl] != 0x18))
			abort();
		break;
	}
	default:
		if (size < 2)
			return 0;
		if (fwc_agent_dag_leaf_trailer(data + 2, size - 2, data[1]) == FWC_OK &&
		    (size - 2 < 2 || data[2] != 0x18))
			abort();
		break;
	}
	return 0;
}
