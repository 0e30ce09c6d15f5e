/* fwchain — key sets with a signature threshold (k of n), and their CBOR codec.
 *
 * A product's release keys form a key set: up to FWC_KEYSET_MAX public keys, a threshold k and
 * a revoked flag per key. A release is valid when at least k distinct, non-revoked keys of the
 * set produced valid signatures. Format: docs/formats/keyset.md. */
#ifndef FWCHAIN_KEYSET_H
#define FWCHAIN_KEYSET_H

#include <stddef.h>
#include <stdint.h>

#include "fwchain/err.h"
#include "fwchain/key.h"

#ifdef __cplusplus
extern "C" {
#endif

#define FWC_KEYSET_MAX 16
#define FWC_KEYSET_VERSION 1
/* Upper bound of an encoded key set: map head, version, threshold, 16 × 35-byte keys, 16
 * revoked indices, with slack. */
#define FWC_KEYSET_ENC_MAX 640

struct fwc_keyset {
	size_t n;           /* number of keys, 1..FWC_KEYSET_MAX */
	unsigned threshold; /* k, 1..n */
	struct fwc_pubkey keys[FWC_KEYSET_MAX];
	uint8_t revoked[FWC_KEYSET_MAX]; /* 1 when keys[i] is revoked: its signatures count zero */
};

/* One signature as carried in a signed object: the signer's public key in binary form
 * (FWC_PUBKEY_BIN_LEN bytes, see fwc_pubkey_to_bin) and the FWC_SIG_LEN-byte signature. Both
 * pointers usually point into a decoder's input buffer. */
struct fwc_keyset_sig {
	const uint8_t *pubkey;
	const uint8_t *sig;
};

/* Check the threshold rule over digest[0..32) (the signed message is the 32-byte digest
 * itself): each key of the set counts at most once however often it signed; signatures by keys
 * not in the set, by revoked keys, and invalid signatures count zero. Returns FWC_OK when at
 * least ks->threshold keys count; FWC_ERR_THRESHOLD otherwise, with ei->msg such as
 * "2 of 3 required, 1 valid (key 0 signed twice, key 02a1b2c3d4 unknown)" (set members are
 * named by index, others by the first bytes of their binary form); FWC_ERR_ARG when ks is not
 * a usable key set (threshold 0 or above n). sigs may be NULL when n_sigs is 0. *valid
 * (optional) receives the number of keys that counted, on FWC_OK and FWC_ERR_THRESHOLD. */
int fwc_keyset_verify_threshold(const struct fwc_keyset *ks, const uint8_t digest[32],
                                const struct fwc_keyset_sig *sigs, size_t n_sigs, unsigned *valid,
                                struct fwc_errinfo *ei);

/* Index of pk in ks, or -1. */
int fwc_keyset_find(const struct fwc_keyset *ks, const struct fwc_pubkey *pk);

/* Check a key set: 1..FWC_KEYSET_MAX valid keys, no key twice, threshold in 1..n.
 * FWC_OK, FWC_ERR_RANGE, FWC_ERR_DUPLICATE or FWC_ERR_KEY. */
int fwc_keyset_check(const struct fwc_keyset *ks, struct fwc_errinfo *ei);

/* Canonical CBOR of a key set (keys sorted by their binary form, so the same set always gives
 * the same bytes whatever the order in ks). out NULL measures; *outlen gets the size (also on
 * FWC_ERR_BUFSIZE). Returns FWC_OK, FWC_ERR_BUFSIZE or an fwc_keyset_check error. */
int fwc_keyset_encode(uint8_t *out, size_t outcap, size_t *outlen, const struct fwc_keyset *ks);

/* Decode a key set (keys come out in their sorted wire order). ks is written only on success.
 * Refuses non-canonical CBOR, unknown fields, unsorted or duplicate keys, invalid keys,
 * thresholds outside 1..n, and bad revoked indices, each with its error code and offset. */
int fwc_keyset_decode(struct fwc_keyset *ks, const uint8_t *buf, size_t len,
                      struct fwc_errinfo *ei);

#ifdef __cplusplus
}
#endif
#endif
