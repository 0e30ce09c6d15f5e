/* fwchain — dag-pb nodes (IPLD DAG-PB spec) and the UnixFS Data message they carry.
 *
 * Decoders are zero-copy and allocation-free: a decoded node points into the caller's block, and
 * its links are read back with an iterator over the already-validated bytes. They are strict in
 * the ways the dag-pb spec asks (field order inside PBLink, no duplicate, unknown or mistyped
 * fields, no Links/Data interleaving, Hash required and a valid CID) and in one more, so that a
 * decoded block re-encodes to the same bytes: every varint must be minimally encoded.
 * Data-before-Links (legacy) order is accepted and reported in data_first.
 * Byte-exact layout and worked examples: docs/formats/unixfs.md. */
#ifndef FWCHAIN_DAGPB_H
#define FWCHAIN_DAGPB_H

#include <stddef.h>
#include <stdint.h>

#include "fwchain/cid.h"
#include "fwchain/err.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Most links one node may have (Kubo's importer makes at most 174). Also bounds blocksizes. */
#define FWC_DAGPB_MAX_LINKS 1024
/* Largest block the decoders accept (the bitswap message limit; Kubo's leaves are 256 KiB). */
#define FWC_DAGPB_MAX_BLOCK (2u * 1024u * 1024u)

struct fwc_dagpb_link {
	struct fwc_cid cid;    /* PBLink.Hash, decoded */
	const uint8_t *name;   /* PBLink.Name bytes (not NUL-terminated), NULL when absent */
	size_t name_len;
	int has_name;	       /* Name present (Kubo always writes it, empty) */
	uint64_t tsize;	       /* PBLink.Tsize: cumulative size of the target's blocks */
	int has_tsize;
};

struct fwc_dagpb_node {
	const uint8_t *links;  /* the bytes of all Links fields (validated), inside the block */
	size_t links_len;
	size_t nlinks;
	const uint8_t *data;   /* PBNode.Data, inside the block; NULL when absent */
	size_t data_len;
	int has_data;
	int data_first;	       /* 1 when the block used the legacy Data-before-Links order */
};

/* Decode a dag-pb block in[0..len). node points into in afterwards (in must outlive it).
 * Errors (ei says what and where): FWC_ERR_TOO_LARGE (block > FWC_DAGPB_MAX_BLOCK, more than
 * FWC_DAGPB_MAX_LINKS links), FWC_ERR_TRUNCATED, FWC_ERR_NONCANONICAL (non-minimal varint),
 * FWC_ERR_UNKNOWN_FIELD, FWC_ERR_MALFORMED (wrong wire type, PBLink fields out of order, Links
 * interleaved with Data), FWC_ERR_DUPLICATE, FWC_ERR_MISSING_FIELD (link without Hash), and the
 * fwc_cid_decode errors for a bad Hash. node written only on success. */
int fwc_dagpb_decode(struct fwc_dagpb_node *node, const uint8_t *in, size_t len,
		     struct fwc_errinfo *ei);

/* Iterates the links of a node decoded by fwc_dagpb_decode, in block order. */
struct fwc_dagpb_iter {
	const uint8_t *p;
	size_t left;
};

void fwc_dagpb_iter_init(struct fwc_dagpb_iter *it, const struct fwc_dagpb_node *node);
/* Returns 1 and fills *link, 0 at the end, or a negative error if the bytes are not valid links
 * (only possible for a node that did not come from fwc_dagpb_decode). */
int fwc_dagpb_iter_next(struct fwc_dagpb_iter *it, struct fwc_dagpb_link *link);

/* Encoded size of a node, for sizing the output of fwc_dagpb_encode. */
size_t fwc_dagpb_encoded_len(const struct fwc_dagpb_link *links, size_t nlinks, size_t data_len,
			     int has_data);

/* Encode a node in canonical order: every link (Hash, then Name if has_name, then Tsize if
 * has_tsize), then Data if has_data. Links are written in the given order (callers that use
 * names must sort them; fwchain's file nodes use empty names). Returns FWC_OK, FWC_ERR_BUFSIZE,
 * FWC_ERR_TOO_LARGE (more than FWC_DAGPB_MAX_LINKS) or FWC_ERR_ARG. */
int fwc_dagpb_encode(uint8_t *out, size_t outcap, size_t *outlen,
		     const struct fwc_dagpb_link *links, size_t nlinks, const uint8_t *data,
		     size_t data_len, int has_data);

/* UnixFS Data message (PBNode.Data of a UnixFS node). */
enum fwc_unixfs_type {
	FWC_UNIXFS_RAW = 0,
	FWC_UNIXFS_DIRECTORY = 1,
	FWC_UNIXFS_FILE = 2,
	FWC_UNIXFS_METADATA = 3,
	FWC_UNIXFS_SYMLINK = 4,
	FWC_UNIXFS_HAMTSHARD = 5,
};

struct fwc_unixfs_data {
	uint64_t type;		    /* enum fwc_unixfs_type (field 1, required) */
	const uint8_t *data;	    /* field 2, inside the message; NULL when absent */
	size_t data_len;
	int has_data;
	uint64_t filesize;	    /* field 3 */
	int has_filesize;
	const uint8_t *blocksizes;  /* field 4 entries (validated bytes); read with the iterator */
	size_t blocksizes_len;
	size_t nblocksizes;
	uint64_t hash_type;	    /* field 5 (HAMT only) */
	int has_hash_type;
	uint64_t fanout;	    /* field 6 (HAMT only) */
	int has_fanout;
};

/* Decode a UnixFS Data message in[0..len), zero-copy. Fields must appear in field-number order
 * (as every Go and JS encoder writes them), blocksizes as consecutive unpacked entries.
 * Errors: FWC_ERR_MISSING_FIELD (no Type), FWC_ERR_UNSUPPORTED (unknown Type value; mode/mtime
 * metadata fields 7/8), FWC_ERR_UNKNOWN_FIELD, FWC_ERR_MALFORMED (wrong wire type, fields out
 * of order), FWC_ERR_DUPLICATE, FWC_ERR_TOO_LARGE (more than FWC_DAGPB_MAX_LINKS blocksizes),
 * FWC_ERR_TRUNCATED, FWC_ERR_NONCANONICAL. u written only on success. */
int fwc_unixfs_data_decode(struct fwc_unixfs_data *u, const uint8_t *in, size_t len,
			   struct fwc_errinfo *ei);

struct fwc_unixfs_iter {
	const uint8_t *p;
	size_t left;
};

void fwc_unixfs_blocksizes_init(struct fwc_unixfs_iter *it, const struct fwc_unixfs_data *u);
/* Returns 1 and sets *v, 0 at the end, negative on bytes that are not blocksizes entries. */
int fwc_unixfs_blocksizes_next(struct fwc_unixfs_iter *it, uint64_t *v);

/* Encode a UnixFS Data message: Type, Data (if has_data), filesize (if has_filesize), the n
 * blocksizes given (u->blocksizes is ignored), hashType and fanout (if present).
 * Returns FWC_OK, FWC_ERR_BUFSIZE, FWC_ERR_TOO_LARGE or FWC_ERR_ARG. */
int fwc_unixfs_data_encode(uint8_t *out, size_t outcap, size_t *outlen,
			   const struct fwc_unixfs_data *u, const uint64_t *blocksizes, size_t n);

/* Bytes a protobuf varint of v takes (1..10); exposed for encoders sizing their buffers. */
size_t fwc_pb_varint_len(uint64_t v);
/* Write v as a protobuf varint (up to 10 bytes) to out; returns the byte count. */
size_t fwc_pb_varint_put(uint8_t *out, uint64_t v);

#ifdef __cplusplus
}
#endif
#endif
