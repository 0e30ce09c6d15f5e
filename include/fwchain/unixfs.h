/* fwchain — streaming UnixFS file importer, byte-for-byte the DAG `ipfs add` (Kubo) builds.
 *
 * Fixed-size chunker (256 KiB by default), balanced layout with at most 174 links per node,
 * leaves raw (CIDv1 raw) or dag-pb UnixFS File nodes; a one-chunk file's root is its leaf.
 * Defaults per CID version are Kubo's: CIDv0 -> dag-pb leaves, CIDv1 -> raw leaves.
 * Memory is constant: one chunk buffer plus one partly filled node per tree level. Every block
 * is handed to a caller callback, children before parents, so a store can persist the stream.
 * The same pass computes the flat SHA-256 and size of the input that release manifests sign.
 * Layout and worked examples: docs/formats/unixfs.md. */
#ifndef FWCHAIN_UNIXFS_H
#define FWCHAIN_UNIXFS_H

#include <stddef.h>
#include <stdint.h>

#include "fwchain/cid.h"
#include "fwchain/err.h"

#ifdef __cplusplus
extern "C" {
#endif

#define FWC_UNIXFS_CHUNK_SIZE 262144u	 /* Kubo's default chunker, size-262144 */
#define FWC_UNIXFS_MAX_CHUNK (1u << 20) /* largest chunk Kubo allows (1 MiB) */
#define FWC_UNIXFS_MAX_LINKS 174u	 /* Kubo's balanced builder: links per node */

struct fwc_unixfs_options {
	unsigned cid_version; /* 0 or 1: version of every dag-pb block's CID */
	int raw_leaves;	      /* 1: leaves are raw blocks with CIDv1 raw CIDs (any cid_version) */
	size_t chunk_size;    /* 0 = FWC_UNIXFS_CHUNK_SIZE; else 1..FWC_UNIXFS_MAX_CHUNK */
	size_t max_links;     /* 0 = FWC_UNIXFS_MAX_LINKS; else 2..FWC_DAGPB_MAX_LINKS (tests) */
};

/* Kubo's `ipfs add` defaults for a CID version: raw_leaves = (cid_version == 1), 256 KiB
 * chunks, 174 links. */
void fwc_unixfs_options_default(struct fwc_unixfs_options *opt, unsigned cid_version);

/* Receives each block exactly once, children before parents; the root comes last. block is
 * valid only during the call. A negative return aborts the import with that code. */
struct fwc_unixfs_sink {
	int (*emit)(void *ctx, const struct fwc_cid *cid, const uint8_t *block, size_t len);
	void *ctx;
};

struct fwc_unixfs_result {
	struct fwc_cid root;		 /* the file's CID, as `ipfs add` prints it */
	uint64_t size;			 /* bytes fed */
	uint8_t sha256[32];		 /* SHA-256 of the bytes fed (the flat image hash) */
	uint64_t blocks;		 /* blocks emitted */
	uint64_t dag_size;		 /* total bytes of all blocks (the root's Tsize) */
};

struct fwc_unixfs_importer;

/* Create an importer. opt NULL means fwc_unixfs_options_default(1). sink NULL or sink->emit
 * NULL only computes the CID. *out written only on success; free with
 * fwc_unixfs_importer_free(). Returns FWC_OK, FWC_ERR_ARG (bad option), FWC_ERR_NOMEM,
 * FWC_ERR_CRYPTO. */
int fwc_unixfs_importer_new(struct fwc_unixfs_importer **out,
			    const struct fwc_unixfs_options *opt,
			    const struct fwc_unixfs_sink *sink);

/* Feed len bytes (any split of the input gives the same result). Emits the blocks that are
 * complete. Returns FWC_OK, the sink's error, a hash error, or FWC_ERR_STATE after a failure or
 * after finish. */
int fwc_unixfs_importer_feed(struct fwc_unixfs_importer *im, const void *data, size_t len);

/* End of input: emits the remaining blocks, root last, and fills *res (only on success).
 * The importer accepts nothing afterwards. */
int fwc_unixfs_importer_finish(struct fwc_unixfs_importer *im, struct fwc_unixfs_result *res);

void fwc_unixfs_importer_free(struct fwc_unixfs_importer *im);

/* One-shot helper: import data[0..len) with opt (NULL = CIDv1 defaults) into sink (may be
 * NULL). */
int fwc_unixfs_import(struct fwc_unixfs_result *res, const struct fwc_unixfs_options *opt,
		      const struct fwc_unixfs_sink *sink, const void *data, size_t len);

#ifdef __cplusplus
}
#endif
#endif
