/* fwagent core — reading a UnixFS file DAG one block at a time, without a heap: the checks of
 * an interior node and the choice of the child that covers a byte offset, and the parsing of a
 * dag-pb leaf's header and trailer around its data. Pure functions over bytes; the I/O that
 * fetches the blocks is agent.c's (DOWNLOAD) and checkin.c's (the root). Internal to the core,
 * exported under fwc_agent_ so that the fuzz target reaches them. docs/agent.md, "Download". */
#ifndef FWAGENT_CORE_DAG_H
#define FWAGENT_CORE_DAG_H

#include <stddef.h>
#include <stdint.h>

#include "fwagent/agent.h"

/* Bytes fetched first from a dag-pb block to tell a leaf (Data first: 0x0a) from an interior
 * node (Links first: 0x12) and to read a leaf's header: 0x0a, len, 0x08, type, 0x12, len. */
#define FWC_AGENT_DAG_PREFIX 16
/* Most bytes after a dag-pb leaf's data: 0x18 and the filesize varint. */
#define FWC_AGENT_DAG_TRAILER_MAX 11

/* One block of the DAG and the file bytes under it. */
struct fwc_agent_dag_ref {
	uint8_t kind;       /* enum fwc_agent_cid_kind */
	uint8_t digest[32]; /* SHA-256 of the block */
	uint64_t start;     /* file offset of its first byte */
	uint64_t size;      /* file bytes under it */
};

/* Check an interior node block[0..len) that covers file bytes [start, start + size) — a dag-pb
 * node whose Data is a UnixFS File with filesize = size, no inline data, one blocksize per
 * link summing to size, every link a sha2-256 CID of a raw (v1) or dag-pb (v0 or v1) block —
 * and pick the child that covers pos (start <= pos < start + size). The block must already
 * match its CID: this judges the release's DAG, not a source. child is written on FWC_OK.
 * Returns FWC_OK, FWC_ERR_ARG (pos outside, NULL), FWC_ERR_MALFORMED (not such a node: no
 * links, no UnixFS file, sizes disagree, a zero blocksize), FWC_ERR_UNSUPPORTED (a link of
 * another kind), FWC_ERR_RANGE (size overflow), or the dag-pb/UnixFS decoders' errors. */
int fwc_agent_dag_child(struct fwc_agent_dag_ref *child, const uint8_t *block, size_t len,
                        uint64_t start, uint64_t size, uint64_t pos);

/* Parse the header of a dag-pb UnixFS leaf from the first bytes p[0..len) of its block:
 *   0x0a L  0x08 T  [0x12 n <n data bytes>]  0x18 n
 * (PBNode.Data only, UnixFS Type File or Raw, Data, filesize; what `ipfs add` writes for
 * dag-pb leaves, docs/formats/unixfs.md). *hlen gets the bytes before the data, *dlen the data
 * length n, *blen the whole block's length; they are written on FWC_OK only. The bytes are
 * not yet hash-checked: the caller trusts nothing here until the whole block matched its CID.
 * Returns FWC_OK, FWC_ERR_TRUNCATED (len too short), FWC_ERR_MALFORMED (another shape),
 * FWC_ERR_NONCANONICAL (a non-minimal varint), FWC_ERR_TOO_LARGE (block above 2 MiB). */
int fwc_agent_dag_leaf_header(size_t *hlen, uint64_t *dlen, uint64_t *blen, const uint8_t *p,
                              size_t len);

/* Check a dag-pb leaf's trailer p[0..len) (the bytes after its data): exactly 0x18 and the
 * minimal varint of dlen. Returns FWC_OK or FWC_ERR_MALFORMED. */
int fwc_agent_dag_leaf_trailer(const uint8_t *p, size_t len, uint64_t dlen);

#endif
