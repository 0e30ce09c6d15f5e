/* Reading a UnixFS file DAG one block at a time (docs/agent.md, "Download").
 *
 * Main design choice: the walk keeps no tree. Which leaf holds a byte offset follows from the
 * blocksizes of the interior nodes on the way down, so the download needs only the offset it
 * has verified up to (the record's progress) and one interior node at a time; the nodes above
 * it are fetched again, and checked again, when the walk leaves the one it holds. So the
 * agent's RAM does not grow with the image, and a reset loses nothing that cannot be fetched
 * again. The functions here are the pure part: checking a node that already matched its CID
 * and choosing a child, and parsing the few bytes around a dag-pb leaf's data, which the
 * download streams through the slot rather than holding. */
#include "dag.h"

#include <string.h>

#include "fwchain/dagpb.h"

int fwc_agent_dag_child(struct fwc_agent_dag_ref *child, const uint8_t *block, size_t len,
                        uint64_t start, uint64_t size, uint64_t pos)
{
	struct fwc_dagpb_node node;
	struct fwc_unixfs_data ud;
	struct fwc_dagpb_iter it;
	struct fwc_unixfs_iter bs;
	struct fwc_agent_dag_ref found;
	uint64_t off = 0;
	int have = 0, rc;

	if (child == NULL || block == NULL || pos < start || pos - start >= size)
		return FWC_ERR_ARG;
	if ((rc = fwc_dagpb_decode(&node, block, len, NULL)) < 0)
		return rc;
	if (node.nlinks == 0 || !node.has_data)
		return FWC_ERR_MALFORMED;
	if ((rc = fwc_unixfs_data_decode(&ud, node.data, node.data_len, NULL)) < 0)
		return rc;
	if (ud.type != FWC_UNIXFS_FILE || !ud.has_filesize || ud.filesize != size ||
	    (ud.has_data && ud.data_len > 0) || ud.nblocksizes != node.nlinks)
		return FWC_ERR_MALFORMED;
	memset(&found, 0, sizeof(found));
	fwc_dagpb_iter_init(&it, &node);
	fwc_unixfs_blocksizes_init(&bs, &ud);
	for (size_t i = 0; i < node.nlinks; i++) {
		struct fwc_dagpb_link l;
		uint64_t b = 0;

		if (fwc_dagpb_iter_next(&it, &l) != 1 || fwc_unixfs_blocksizes_next(&bs, &b) != 1)
			return FWC_ERR_MALFORMED;
		if (b == 0)
			return FWC_ERR_MALFORMED; /* an empty child: only an empty file has one */
		if (b > size - off)
			return size - off == 0 ? FWC_ERR_MALFORMED : FWC_ERR_RANGE;
		if (l.cid.mh_code != FWC_MH_SHA2_256 ||
		    !((l.cid.version == 1 && l.cid.codec == FWC_CID_CODEC_RAW) ||
		      l.cid.codec == FWC_CID_CODEC_DAGPB))
			return FWC_ERR_UNSUPPORTED;
		if (!have && pos - start < off + b) {
			found.kind = l.cid.codec == FWC_CID_CODEC_RAW ? FWC_AGENT_CID_RAW
			             : l.cid.version == 0             ? FWC_AGENT_CID_PB0
			                                              : FWC_AGENT_CID_PB1;
			memcpy(found.digest, l.cid.digest, 32);
			found.start = start + off;
			found.size = b;
			have = 1;
		}
		off += b;
	}
	if (off != size || !have)
		return FWC_ERR_MALFORMED;
	*child = found;
	return FWC_OK;
}

/* A minimal protobuf varint of at most 4 bytes (values below 2^28, enough for any block up to
 * FWC_DAGPB_MAX_BLOCK) at p[*i..len); advances *i. */
static int varint28(uint64_t *v, const uint8_t *p, size_t len, size_t *i)
{
	uint64_t x = 0;

	for (unsigned k = 0; k < 4; k++) {
		uint8_t c;

		if (*i >= len)
			return FWC_ERR_TRUNCATED;
		c = p[(*i)++];
		x |= (uint64_t)(c & 0x7f) << (7 * k);
		if ((c & 0x80) == 0) {
			if (k > 0 && c == 0)
				return FWC_ERR_NONCANONICAL;
			*v = x;
			return FWC_OK;
		}
	}
	return FWC_ERR_TOO_LARGE;
}

static size_t varint_len(uint64_t v)
{
	size_t n = 1;

	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

int fwc_agent_dag_leaf_header(size_t *hlen, uint64_t *dlen, uint64_t *blen, const uint8_t *p,
                              size_t len)
{
	uint64_t outer = 0, n = 0, total;
	size_t i = 0, body;
	int rc;

	if (hlen == NULL || dlen == NULL || blen == NULL || p == NULL)
		return FWC_ERR_ARG;
	if (len < 1)
		return FWC_ERR_TRUNCATED;
	if (p[i++] != 0x0a)
		return FWC_ERR_MALFORMED; /* Links first (an interior node), or not dag-pb */
	if ((rc = varint28(&outer, p, len, &i)) < 0)
		return rc;
	body = i; /* the UnixFS message starts here and fills the rest of the block */
	total = body + outer;
	if (total > FWC_DAGPB_MAX_BLOCK)
		return FWC_ERR_TOO_LARGE;
	if (i + 2 > len)
		return FWC_ERR_TRUNCATED;
	if (p[i] != 0x08 || (p[i + 1] != FWC_UNIXFS_FILE && p[i + 1] != FWC_UNIXFS_RAW))
		return FWC_ERR_MALFORMED;
	i += 2;
	if (i >= len)
		return FWC_ERR_TRUNCATED;
	if (p[i] == 0x12) {
		i++;
		if ((rc = varint28(&n, p, len, &i)) < 0)
			return rc;
		if (n == 0)
			return FWC_ERR_NONCANONICAL; /* an empty Data is omitted, as Kubo does */
	} else if (p[i] != 0x18) {
		return FWC_ERR_MALFORMED;
	}
	/* what follows the data must be exactly the filesize field */
	if (total < i || total - i < n || total - i - n != 1 + varint_len(n))
		return FWC_ERR_MALFORMED;
	*hlen = i;
	*dlen = n;
	*blen = total;
	return FWC_OK;
}

int fwc_agent_dag_leaf_trailer(const uint8_t *p, size_t len, uint64_t dlen)
{
	uint64_t v = 0;
	size_t i = 1;

	if (p == NULL || len < 2 || len > FWC_AGENT_DAG_TRAILER_MAX || p[0] != 0x18)
		return FWC_ERR_MALFORMED;
	if (varint28(&v, p, len, &i) < 0 || i != len || v != dlen)
		return FWC_ERR_MALFORMED;
	return FWC_OK;
}
