/* fwchain — verifying reassembler for UnixFS file DAGs fetched from untrusted sources.
 *
 * Walks the DAG under a root CID depth-first in file order, checks every block's SHA-256
 * against the CID that named it before reading a byte of it, checks the UnixFS structure
 * (file/raw nodes only, blocksizes = children's sizes, filesize = Data + blocksizes, bounded
 * links and depth, no empty children) and writes the file bytes to a sink. It stops at the
 * first problem with a precise error, and before writing more than max_size bytes. No heap:
 * the walker keeps one frame per level on the stack and at most FWC_DAG_MAX_DEPTH + 1 blocks
 * borrowed from the caller at a time. */
#ifndef FWCHAIN_DAG_H
#define FWCHAIN_DAG_H

#include <stddef.h>
#include <stdint.h>

#include "fwchain/cid.h"
#include "fwchain/err.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Deepest tree accepted (root = depth 0). Kubo needs 4 levels for 174^4 * 256 KiB = 240 TB. */
#define FWC_DAG_MAX_DEPTH 12
/* Largest block accepted, raw or dag-pb (same as FWC_DAGPB_MAX_BLOCK). */
#define FWC_DAG_MAX_BLOCK (2u * 1024u * 1024u)
/* Pass as max_size for "no limit". */
#define FWC_DAG_UNLIMITED UINT64_MAX

/* Where blocks come from (a store, a network fetcher). get() sets *data and *len to the block's
 * bytes, which must stay valid and unchanged until release(ctx, data) is called (release may
 * be NULL when the memory outlives the walk). get() returns FWC_OK, or an error (e.g.
 * FWC_ERR_NOT_FOUND) that ends the walk and is returned as is. The bytes are untrusted. */
struct fwc_dag_source {
	int (*get)(void *ctx, const struct fwc_cid *cid, const uint8_t **data, size_t *len);
	void (*release)(void *ctx, const uint8_t *data);
	void *ctx;
};

/* Receives the file's bytes in order. A negative return ends the walk with that code. */
struct fwc_dag_output {
	int (*write)(void *ctx, const uint8_t *data, size_t len);
	void *ctx;
};

struct fwc_dag_result {
	uint64_t size;	   /* file bytes written */
	uint64_t blocks;   /* blocks fetched and verified */
	uint64_t dag_size; /* bytes of those blocks */
};

/* Reassemble and verify the file under root. out may be NULL (verify only); res (optional) is
 * written only on success. Errors, each with a message in ei naming the CID and ei->offset set
 * to the file offset reached:
 *   FWC_ERR_HASH_MISMATCH  a block does not hash to its CID;
 *   FWC_ERR_TOO_LARGE      the file (by its root's filesize, or its bytes) exceeds max_size,
 *                          or a block exceeds FWC_DAG_MAX_BLOCK;
 *   FWC_ERR_TOO_DEEP       deeper than FWC_DAG_MAX_DEPTH;
 *   FWC_ERR_UNSUPPORTED    a UnixFS node that is not a file (directory, symlink, HAMT, ...);
 *   FWC_ERR_MALFORMED      inconsistent sizes, link/blocksizes count mismatch, no UnixFS Data;
 *   any dag-pb/UnixFS decoding error, and whatever the source or the output returned. */
int fwc_dag_reassemble(struct fwc_dag_result *res, const struct fwc_dag_source *src,
		       const struct fwc_dag_output *out, const struct fwc_cid *root,
		       uint64_t max_size, struct fwc_errinfo *ei);

#ifdef __cplusplus
}
#endif
#endif
