/* fwchain — CARv1 (Content Addressable aRchive, ipld.io/specs/transport/car/carv1): the header
 * codec, section framing for writers, and strict readers that hash-check every block against
 * its CID before handing it out.
 *
 * A CAR is varint(header length) || header || section*, where the header is the DAG-CBOR map
 * {"roots": [CID...], "version": 1} (CIDs as tag 42 over a byte string 0x00 || binary CID) and a
 * section is varint(length) || binary CID || block bytes. Only the header shape above is
 * accepted, byte for byte in its canonical DAG-CBOR encoding; CIDs are what fwc_cid_decode
 * accepts (sha2-256, raw or dag-pb). Two readers share one rule set: a zero-copy one over a
 * complete buffer, and a push one for streams (HTTP uploads) that keeps at most one section in
 * a caller-provided buffer. Byte-exact description and worked example: docs/formats/car.md. */
#ifndef FWCHAIN_CAR_H
#define FWCHAIN_CAR_H

#include <stddef.h>
#include <stdint.h>

#include "fwchain/cid.h"
#include "fwchain/err.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Most roots a header may name (fwchain writes one; the bound keeps the header small). */
#define FWC_CAR_MAX_ROOTS 8
/* Longest header accepted (its varint prefix excluded). 8 CIDv1 roots take 345 bytes. */
#define FWC_CAR_MAX_HEADER 512
/* Bytes a section adds around a block at most: a 9-byte varint length and a binary CID. */
#define FWC_CAR_SECTION_OVERHEAD (9 + FWC_CID_MAX_BINARY)

struct fwc_car_header {
	size_t nroots;
	struct fwc_cid roots[FWC_CAR_MAX_ROOTS];
};

/* One verified block. data points into the reader's input (zero-copy reader) or its buffer
 * (push reader) and is valid until the next call on the reader. */
struct fwc_car_block {
	struct fwc_cid cid;
	const uint8_t *data;
	size_t len;
	uint64_t offset; /* offset of the section's length varint from the start of the CAR */
};

/* Encoded length of the header for roots[0..n), its varint prefix included. 0 when n exceeds
 * FWC_CAR_MAX_ROOTS or a root cannot be encoded. */
size_t fwc_car_header_len(const struct fwc_cid *roots, size_t n);

/* Write varint(length) || DAG-CBOR {"roots": [...], "version": 1} to out[0..outcap).
 * Returns FWC_OK (*outlen set), FWC_ERR_BUFSIZE, FWC_ERR_TOO_LARGE (n > FWC_CAR_MAX_ROOTS) or
 * FWC_ERR_ARG. *outlen written only on success. */
int fwc_car_header_encode(uint8_t *out, size_t outcap, size_t *outlen, const struct fwc_cid *roots,
                          size_t n);

/* Decode a header body (the bytes after its varint prefix) in[0..len) into *hdr.
 * Errors (ei says what and where): FWC_ERR_TOO_LARGE (len > FWC_CAR_MAX_HEADER, more than
 * FWC_CAR_MAX_ROOTS roots), FWC_ERR_UNSUPPORTED (version other than 1, e.g. the CARv2 pragma),
 * FWC_ERR_TYPE, FWC_ERR_MISSING_FIELD, FWC_ERR_UNKNOWN_FIELD, FWC_ERR_UNSORTED (keys not in
 * DAG-CBOR order), FWC_ERR_NONCANONICAL (non-minimal CBOR heads), FWC_ERR_MALFORMED (CID not
 * behind tag 42 with a 0x00 prefix), FWC_ERR_TRUNCATED, FWC_ERR_TRAILING and the
 * fwc_cid_decode errors. hdr written only on success. */
int fwc_car_header_decode(struct fwc_car_header *hdr, const uint8_t *in, size_t len,
                          struct fwc_errinfo *ei);

/* Write the head of a section for a block of block_len bytes, varint(CID length + block_len) ||
 * binary CID, to out[0..outcap) (FWC_CAR_SECTION_OVERHEAD always suffices). The block bytes
 * follow it unchanged, so a server can send the head and then the block straight from a file.
 * Returns FWC_OK, FWC_ERR_BUFSIZE, FWC_ERR_TOO_LARGE or FWC_ERR_ARG. */
int fwc_car_section_head(uint8_t *out, size_t outcap, size_t *outlen, const struct fwc_cid *cid,
                         size_t block_len);

/* Zero-copy reader over a complete CAR held in memory. Caller storage; no cleanup needed. */
struct fwc_car_reader {
	const uint8_t *in;
	size_t len;
	size_t off;
	size_t max_block;
	int failed;
};

/* Read and check the header of in[0..len), blocks up to max_block bytes allowed (at most
 * FWC_DAGPB_MAX_BLOCK-like bounds are the caller's choice; 0 is FWC_ERR_ARG). The reader keeps
 * pointers into in. Returns FWC_OK (r and *hdr written) or the header errors above, plus
 * FWC_ERR_TRUNCATED, FWC_ERR_NONCANONICAL and FWC_ERR_TOO_LARGE for its varint prefix. */
int fwc_car_reader_init(struct fwc_car_reader *r, struct fwc_car_header *hdr, const uint8_t *in,
                        size_t len, size_t max_block, struct fwc_errinfo *ei);

/* Next section: returns 1 and fills *blk with a block whose bytes hash to its CID, 0 at the
 * clean end of the input, or a negative error: FWC_ERR_TRUNCATED (the input ends inside a
 * section), FWC_ERR_NONCANONICAL/FWC_ERR_TOO_LARGE (length varint), FWC_ERR_MALFORMED
 * (zero-length section), FWC_ERR_TOO_LARGE (block over max_block), the fwc_cid_decode errors,
 * FWC_ERR_HASH_MISMATCH. ei->offset is from the start of the CAR. After an error every further
 * call returns FWC_ERR_STATE. */
int fwc_car_reader_next(struct fwc_car_reader *r, struct fwc_car_block *blk,
                        struct fwc_errinfo *ei);

/* Push reader: bytes arrive in pieces of any size; complete, verified blocks are handed to a
 * callback. Memory is the caller's buffer, which must hold the largest section accepted:
 * bufcap >= max_block + FWC_CID_MAX_BINARY and >= FWC_CAR_MAX_HEADER. A section that lies
 * whole inside one pushed piece is not copied. */
struct fwc_car_sink {
	/* Called once, after the header is checked. A negative return stops the stream. */
	int (*header)(void *ctx, const struct fwc_car_header *hdr);
	/* Called for each block, in stream order, after its hash is checked. blk->data is valid
	 * only during the call. A negative return stops the stream with that code. */
	int (*block)(void *ctx, const struct fwc_car_block *blk);
	void *ctx;
};

struct fwc_car_stream {
	struct fwc_car_sink sink;
	uint8_t *buf;
	size_t bufcap;
	size_t max_block;
	uint64_t off;      /* bytes consumed so far */
	uint64_t item_off; /* offset of the current item's length varint */
	int phase;         /* what is being read: see car.c */
	int err;           /* sticky error, 0 while healthy */
	uint8_t vbuf[9];   /* a length varint split across pieces */
	size_t vlen;
	size_t need;     /* body bytes of the current item */
	size_t have;     /* of which already in buf */
	uint64_t blocks; /* blocks handed to the sink */
};

/* Set up a push reader. sink->block is required, sink->header optional. Returns FWC_OK or
 * FWC_ERR_ARG (NULL pointers, max_block 0, bufcap too small). */
int fwc_car_stream_init(struct fwc_car_stream *s, const struct fwc_car_sink *sink, uint8_t *buf,
                        size_t bufcap, size_t max_block);

/* Feed len bytes. Runs the sink for each section completed. Returns FWC_OK, an error of the
 * zero-copy reader (with ei->offset from the start of the CAR) or the sink's error. Errors are
 * sticky: every later push or finish returns the same code. */
int fwc_car_stream_push(struct fwc_car_stream *s, const void *data, size_t len,
                        struct fwc_errinfo *ei);

/* End of input. FWC_OK when the header and every section were complete; FWC_ERR_TRUNCATED when
 * the input stopped inside the header or a section (or before any header); a sticky error. */
int fwc_car_stream_finish(struct fwc_car_stream *s, struct fwc_errinfo *ei);

#ifdef __cplusplus
}
#endif
#endif
