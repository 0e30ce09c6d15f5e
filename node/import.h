/* fwchaind — content ingest: an upload (raw file bytes, or a CAR) pushed in pieces of any size
 * into the block store, ending with a pinned, complete DAG or with nothing kept.
 *
 * File bytes go through lib/unixfs.c (the DAG `ipfs add` builds); a CAR goes through
 * lib/car.c, which hash-checks every block. Every block is put through an upload session
 * (node/pins.h), so a GC running meanwhile keeps it; the root is pinned only at the end,
 * after the whole DAG is checked complete. The blocks are staged in one pack file that
 * becomes durable and visible only at finish (node/blockstore.h), so an upload that fails, is
 * abandoned or is cut by a crash before that leaves nothing (a temp file, deleted at the next
 * open), and one cut between that commit and the pin leaves whole, unpinned, collectable
 * blocks.
 * Not thread-safe per upload (one upload = one HTTP request); many uploads may run at once. */
#ifndef FWC_NODE_IMPORT_H
#define FWC_NODE_IMPORT_H

#include <stddef.h>
#include <stdint.h>

#include "blockstore.h"
#include "fwchain/cid.h"
#include "fwchain/err.h"
#include "pins.h"

enum node_import_kind {
	NODE_IMPORT_FILE = 1, /* the bytes of one file, imported as UnixFS */
	NODE_IMPORT_CAR = 2,  /* a CARv1 with exactly one root whose DAG it carries */
};

#define NODE_IMPORT_DEFAULT_MAX_BYTES (4ull << 30)
#define NODE_IMPORT_DEFAULT_MAX_BLOCKS (1ull << 20)

struct node_import_options {
	enum node_import_kind kind;
	unsigned cid_version;   /* FILE: 0 or 1, with `ipfs add` defaults for that version */
	size_t chunk_size;      /* FILE: 0 = 256 KiB, else 1..1 MiB */
	uint64_t max_bytes;     /* FILE: file bytes; CAR: sum of block sizes (FWC_ERR_TOO_LARGE) */
	uint64_t max_blocks;    /* blocks per upload (FWC_ERR_TOO_LARGE) */
	const char *pin_origin; /* pin tag for the finished upload; NULL = "upload" */
	const uint8_t *expect_sha256; /* FILE: the file's SHA-256 must be this (32 bytes, copied),
	                                 checked before anything is pinned; NULL: not checked */
};

struct node_import_result {
	struct fwc_cid root; /* pinned */
	uint64_t blocks;     /* blocks received (CAR) or built (FILE) */
	uint64_t dag_bytes;  /* their total size */
	uint64_t size;       /* FILE: bytes of the file */
	uint8_t sha256[32];  /* FILE: SHA-256 of the file (the flat image hash) */
};

struct node_import;

/* Defaults for kind: CIDv1, 256 KiB chunks, NODE_IMPORT_DEFAULT_MAX_*, origin "upload",
 * no expected hash. */
void node_import_options_default(struct node_import_options *opt, enum node_import_kind kind);

/* Start an upload into bs through pins (both outlive the upload). *out written only on
 * success. FWC_ERR_ARG (bad option), FWC_ERR_NOMEM. */
int node_import_begin(struct node_import **out, struct node_pins *pins,
                      const struct node_import_options *opt, struct fwc_errinfo *ei);

/* Feed the next len bytes. Complete blocks are verified and stored as they arrive. Errors:
 * FWC_ERR_TOO_LARGE (a limit; the message names it), the CAR reader's errors with the offset
 * in the upload (FWC_ERR_HASH_MISMATCH, FWC_ERR_TRUNCATED, ...), FWC_ERR_UNSUPPORTED (a CAR
 * without exactly one root), the block store's (FWC_ERR_NOSPACE, FWC_ERR_IO). After an error
 * the upload is dead: every later call returns FWC_ERR_STATE; free it. */
int node_import_push(struct node_import *im, const void *data, size_t len, struct fwc_errinfo *ei);

/* End of the upload: flush the last blocks, commit the stage (one sync), check the
 * file's SHA-256 against expect_sha256 (FWC_ERR_HASH_MISMATCH: nothing pinned), check the DAG
 * under the root complete (FWC_ERR_NOT_FOUND naming the first missing block, for a CAR that
 * lacks one) and pin it. *res written only on success. */
int node_import_finish(struct node_import *im, struct node_import_result *res,
                       struct fwc_errinfo *ei);

/* Free the upload; unless finished, it is abandoned (its blocks become collectable). */
void node_import_free(struct node_import *im);

#endif
