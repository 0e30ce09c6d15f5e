/* fwchain — multibase text encodings and multiformats unsigned varints, as used by CIDs.
 *
 * Only what IPFS CIDs need: base32 (RFC 4648 alphabet, lowercase, no padding; multibase prefix
 * 'b') and base58btc (Bitcoin alphabet; multibase prefix 'z', and bare for CIDv0). Decoders are
 * strict: one canonical spelling per byte string, bounded lengths, (pointer, length) input
 * without relying on NUL termination. See docs/formats/cid.md. */
#ifndef FWCHAIN_MULTIBASE_H
#define FWCHAIN_MULTIBASE_H

#include <stddef.h>
#include <stdint.h>

#include "fwchain/err.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Longest byte string the base58 codec handles (its cost is quadratic in the length; CIDs are
 * at most a few dozen bytes). Longer input is FWC_ERR_TOO_LARGE. */
#define FWC_BASE58_MAX_BYTES 128
/* Longest base58 text accepted by the decoder (ceil(128 * log(256)/log(58)) = 175). */
#define FWC_BASE58_MAX_CHARS 175
/* A multiformats unsigned varint is at most 9 bytes (63 bits of value). */
#define FWC_VARINT_MAX 9

/* Multibase prefixes we implement. */
#define FWC_MULTIBASE_BASE32 'b'
#define FWC_MULTIBASE_BASE58BTC 'z'

/* Characters needed to base32-encode len bytes (no padding, no NUL). */
size_t fwc_base32_encoded_len(size_t len);

/* Encode in[0..len) as lowercase base32 without padding into out, NUL-terminated.
 * *outlen (optional) gets the character count without the NUL.
 * Returns FWC_OK or FWC_ERR_BUFSIZE (outcap < encoded length + 1); out untouched on failure. */
int fwc_base32_encode(char *out, size_t outcap, size_t *outlen, const uint8_t *in, size_t len);

/* Decode inlen lowercase base32 characters (no padding) into out[0..outcap).
 * Rejects (FWC_ERR_MALFORMED) characters outside the lowercase alphabet and impossible lengths
 * (inlen % 8 in {1, 3, 6}); rejects non-zero unused trailing bits (FWC_ERR_NONCANONICAL).
 * Returns FWC_OK, those codes or FWC_ERR_BUFSIZE. *outlen written only on success. */
int fwc_base32_decode(uint8_t *out, size_t outcap, size_t *outlen, const char *in, size_t inlen,
		      struct fwc_errinfo *ei);

/* Encode in[0..len) as base58btc (leading zero bytes become '1') into out, NUL-terminated.
 * Returns FWC_OK, FWC_ERR_TOO_LARGE (len > FWC_BASE58_MAX_BYTES) or FWC_ERR_BUFSIZE. */
int fwc_base58_encode(char *out, size_t outcap, size_t *outlen, const uint8_t *in, size_t len);

/* Decode inlen base58btc characters into out. Rejects characters outside the alphabet
 * (FWC_ERR_MALFORMED), text longer than FWC_BASE58_MAX_CHARS and values longer than
 * FWC_BASE58_MAX_BYTES (FWC_ERR_TOO_LARGE), so everything it accepts the encoder can print.
 * Returns FWC_OK, those codes or FWC_ERR_BUFSIZE. *outlen written only on success. */
int fwc_base58_decode(uint8_t *out, size_t outcap, size_t *outlen, const char *in, size_t inlen,
		      struct fwc_errinfo *ei);

/* Encode in with a multibase prefix (FWC_MULTIBASE_BASE32 or FWC_MULTIBASE_BASE58BTC).
 * Returns FWC_OK, FWC_ERR_UNSUPPORTED (other prefix), FWC_ERR_BUFSIZE or FWC_ERR_TOO_LARGE. */
int fwc_multibase_encode(char *out, size_t outcap, size_t *outlen, char base, const uint8_t *in,
			 size_t len);

/* Decode multibase text (prefix 'b' or 'z'). *base (optional) gets the prefix.
 * Returns FWC_OK, FWC_ERR_UNSUPPORTED (another multibase prefix), FWC_ERR_MALFORMED (empty),
 * or the error of the base decoder. Outputs written only on success. */
int fwc_multibase_decode(uint8_t *out, size_t outcap, size_t *outlen, char *base, const char *in,
			 size_t inlen, struct fwc_errinfo *ei);

/* Write v as a multiformats unsigned varint (LEB128, minimal) to out; returns the byte count
 * (1..9), or 0 when v >= 2^63 (not representable in 9 bytes). */
size_t fwc_varint_encode(uint8_t out[FWC_VARINT_MAX], uint64_t v);

/* Decode a multiformats unsigned varint from the start of in[0..len).
 * Returns FWC_OK (*v, *used written), FWC_ERR_TRUNCATED (input ends inside the varint),
 * FWC_ERR_NONCANONICAL (a non-minimal encoding, e.g. 0x80 0x00) or FWC_ERR_TOO_LARGE (more than
 * 9 bytes). ei->offset is relative to in. */
int fwc_varint_decode(uint64_t *v, size_t *used, const uint8_t *in, size_t len,
		      struct fwc_errinfo *ei);

#ifdef __cplusplus
}
#endif
#endif
