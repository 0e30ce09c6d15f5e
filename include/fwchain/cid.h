/* fwchain — IPFS content identifiers (CIDs) as fwchain uses them: sha2-256 multihashes of raw
 * (0x55) or dag-pb (0x70) blocks, CIDv0 ("Qm…", base58btc, dag-pb only) and CIDv1 (printed as
 * multibase base32 lower, "b…"; base58btc "z…" also accepted on input).
 * Byte-exact description and worked examples: docs/formats/cid.md. */
#ifndef FWCHAIN_CID_H
#define FWCHAIN_CID_H

#include <stddef.h>
#include <stdint.h>

#include "fwchain/err.h"

#ifdef __cplusplus
extern "C" {
#endif

#define FWC_CID_CODEC_RAW 0x55
#define FWC_CID_CODEC_DAGPB 0x70
#define FWC_MH_SHA2_256 0x12
#define FWC_CID_DIGEST_LEN 32

/* Longest binary CID we produce or accept: v1 = version, codec, 0x12, 0x20, 32-byte digest. */
#define FWC_CID_MAX_BINARY 36
/* Room for the text form of any CID we handle, with its NUL (v1 base32 is 59 characters). */
#define FWC_CID_STR_MAX 64
/* Text longer than this is rejected before decoding (FWC_ERR_TOO_LARGE). */
#define FWC_CID_MAX_TEXT 128

struct fwc_cid {
	uint8_t version;		  /* 0 or 1 */
	uint64_t codec;			  /* FWC_CID_CODEC_RAW or FWC_CID_CODEC_DAGPB */
	uint64_t mh_code;		  /* always FWC_MH_SHA2_256 */
	uint8_t digest[FWC_CID_DIGEST_LEN]; /* SHA-256 of the block */
};

/* Fill cid for a block: version 0 (codec must be dag-pb) or 1, hashing data[0..len).
 * Returns FWC_OK, FWC_ERR_UNSUPPORTED (codec not raw/dag-pb, or v0 with raw), FWC_ERR_ARG or a
 * hash error. cid written only on success. */
int fwc_cid_from_block(struct fwc_cid *cid, unsigned version, uint64_t codec, const void *data,
		       size_t len);

/* 1 when block data[0..len) hashes to cid's digest (constant-time compare), else 0. */
int fwc_cid_matches(const struct fwc_cid *cid, const void *data, size_t len);

/* 1 when a and b name the same bytes in the same form (version, codec, digest), else 0. */
int fwc_cid_equal(const struct fwc_cid *a, const struct fwc_cid *b);

/* Binary form: v0 = 0x12 0x20 digest (34 bytes); v1 = varint 1, varint codec, 0x12 0x20 digest.
 * Writes it to out[0..outcap), *outlen gets its length. Returns FWC_OK, FWC_ERR_BUFSIZE or
 * FWC_ERR_ARG (a cid that is not one we can describe). */
int fwc_cid_encode(uint8_t *out, size_t outcap, size_t *outlen, const struct fwc_cid *cid);

/* Decode a binary CID from in[0..len). With used == NULL the CID must fill the input exactly
 * (FWC_ERR_TRAILING otherwise); with used != NULL it is read from the front and *used gets its
 * length (a CID inside a larger structure).
 * Errors: FWC_ERR_TRUNCATED, FWC_ERR_NONCANONICAL (non-minimal varint), FWC_ERR_UNSUPPORTED
 * (CID version other than 0/1, codec other than raw/dag-pb, hash other than sha2-256),
 * FWC_ERR_MALFORMED (digest length not 32), FWC_ERR_TRAILING. ei->offset is relative to in.
 * cid and *used written only on success. */
int fwc_cid_decode(struct fwc_cid *cid, size_t *used, const uint8_t *in, size_t len,
		   struct fwc_errinfo *ei);

/* Parse text: a 46-character "Qm…" base58btc CIDv0, or a multibase CIDv1 ('b' base32 lower,
 * 'z' base58btc). A multibase string that holds a v0 binary, bad characters, an unknown
 * multibase prefix or anything fwc_cid_decode refuses is an error with a message in ei.
 * Returns FWC_OK, FWC_ERR_MALFORMED, FWC_ERR_NONCANONICAL, FWC_ERR_UNSUPPORTED,
 * FWC_ERR_TOO_LARGE (len > FWC_CID_MAX_TEXT), FWC_ERR_TRAILING, FWC_ERR_TRUNCATED. */
int fwc_cid_parse(struct fwc_cid *cid, const char *text, size_t len, struct fwc_errinfo *ei);

/* Print the canonical text: v0 as base58btc "Qm…", v1 as base32 lower "b…". NUL-terminated;
 * an outcap of FWC_CID_STR_MAX always suffices. Returns FWC_OK, FWC_ERR_BUFSIZE, FWC_ERR_ARG. */
int fwc_cid_format(char *out, size_t outcap, const struct fwc_cid *cid);

/* Same block, other version: to v1 always works; to v0 only for dag-pb (FWC_ERR_UNSUPPORTED
 * for raw). out may equal in. */
int fwc_cid_to_v1(struct fwc_cid *out, const struct fwc_cid *in);
int fwc_cid_to_v0(struct fwc_cid *out, const struct fwc_cid *in);

#ifdef __cplusplus
}
#endif
#endif
