/* fwchain — release manifests and signed manifests.
 *
 * A manifest body says which image a release is (product, version, counter, channel, CID, size,
 * SHA-256, hardware compatibility) and under which conditions it may be installed (rollout,
 * encryption, licence). A signed manifest wraps the exact body bytes with signatures by release
 * keys; the signed message is fwc_tagged_hash(FWC_TAG_MANIFEST, body). Byte-exact format:
 * docs/formats/manifest.md.
 *
 * Decoding is zero-copy and heap-free: every string and byte field of a decoded struct points
 * into the caller's input buffer, which must outlive the struct. */
#ifndef FWCHAIN_MANIFEST_H
#define FWCHAIN_MANIFEST_H

#include <stddef.h>
#include <stdint.h>

#include "fwchain/cbor.h"
#include "fwchain/err.h"
#include "fwchain/key.h"
#include "fwchain/keyset.h"

#ifdef __cplusplus
extern "C" {
#endif

#define FWC_MANIFEST_VERSION 1
#define FWC_MANIFEST_ID_MAX 64 /* product id, version string, hardware ids, licence id */
#define FWC_MANIFEST_CHANNEL_MAX 32
#define FWC_MANIFEST_HW_MAX 16
#define FWC_MANIFEST_LIST_MAX 16  /* rollout groups, rollout regions */
#define FWC_MANIFEST_NAME_MAX 32  /* a rollout group or region, an encryption algorithm */
#define FWC_MANIFEST_KEYID_MAX 32 /* an encryption key id */
#define FWC_MANIFEST_META_MAX 255
#define FWC_MANIFEST_BPS_MAX 10000 /* rollout percentage in basis points: 10000 = 100 % */
#define FWC_MANIFEST_BODY_MAX 4096 /* encoded body, extensions included */
#define FWC_MANIFEST_SIGS_MAX 16
/* Encoded signed manifest: body plus 16 signatures of 2+35+66 bytes, with slack. */
#define FWC_SIGNED_MANIFEST_MAX (FWC_MANIFEST_BODY_MAX + 16 + FWC_MANIFEST_SIGS_MAX * 103)
/* First map key of the non-critical extension range; 0..63 are critical. */
#define FWC_MANIFEST_EXT_FIRST 64

/* Binary CID shapes accepted in a manifest: CIDv0 (34 bytes) and CIDv1 with codec raw or
 * dag-pb and a sha2-256 multihash (36 bytes). */
#define FWC_MANIFEST_CID_MAX 36

struct fwc_manifest_rollout {
	uint8_t has_bps, has_not_before;
	uint16_t bps;               /* share of the fleet in basis points, 0..10000 */
	uint64_t not_before;        /* seconds since the Unix epoch */
	size_t n_groups, n_regions; /* 0 = field absent; else 1..FWC_MANIFEST_LIST_MAX */
	struct fwc_cbor_str groups[FWC_MANIFEST_LIST_MAX];
	struct fwc_cbor_str regions[FWC_MANIFEST_LIST_MAX];
};

struct fwc_manifest_encryption {
	struct fwc_cbor_str alg;      /* e.g. "xchacha20poly1305", 1..32 bytes */
	struct fwc_cbor_bytes key_id; /* 1..32 bytes, names the key the device must hold */
};

struct fwc_manifest {
	uint64_t format;             /* FWC_MANIFEST_VERSION */
	struct fwc_cbor_str product; /* 1..64 bytes */
	struct fwc_cbor_str version; /* 1..64 bytes, free text ("1.4.2-rc1") */
	uint64_t counter;            /* release counter: the rollback floor rule uses this */
	struct fwc_cbor_str channel; /* 1..32 bytes ("stable", "beta") */
	struct fwc_cbor_bytes cid;   /* binary CID, see FWC_MANIFEST_CID_MAX */
	uint64_t size;               /* image size in bytes */
	uint8_t sha256[32];          /* SHA-256 of the flat image */
	size_t n_hw;                 /* 1..FWC_MANIFEST_HW_MAX */
	struct fwc_cbor_str hw[FWC_MANIFEST_HW_MAX]; /* hardware ids, 1..64 bytes, distinct */
	uint64_t created;                            /* seconds since the Unix epoch */
	uint8_t has_rollout, has_encryption, has_licence, has_metadata;
	struct fwc_manifest_rollout rollout;
	struct fwc_manifest_encryption encryption;
	struct fwc_cbor_str licence;    /* licence / feature id the device must hold, 1..64 */
	struct fwc_cbor_bytes metadata; /* 0..255 free bytes */
	/* Non-critical extensions (map keys >= 64), kept verbatim so re-encoding is exact:
	 * ext.p[0..ext.len) holds n_ext canonical key/value pairs, keys increasing. */
	struct fwc_cbor_bytes ext;
	size_t n_ext;
};

/* Encode a manifest body. out NULL measures; *outlen gets the size (also on FWC_ERR_BUFSIZE).
 * Every field is checked against its bounds first (FWC_ERR_RANGE, FWC_ERR_TOO_LARGE,
 * FWC_ERR_MALFORMED, FWC_ERR_DUPLICATE with a message in ei), and the produced bytes are
 * decoded again before returning, so what this returns, fwc_manifest_decode accepts. */
int fwc_manifest_encode(uint8_t *out, size_t outcap, size_t *outlen, const struct fwc_manifest *m,
                        struct fwc_errinfo *ei);

/* Decode a manifest body (canonical CBOR only). m is written only on success and points into
 * buf. Unknown keys 0..63 give FWC_ERR_UNKNOWN_FIELD naming the key; keys >= 64 are kept in
 * m->ext. */
int fwc_manifest_decode(struct fwc_manifest *m, const uint8_t *buf, size_t len,
                        struct fwc_errinfo *ei);

/* Check the structural shape of a binary CID (see FWC_MANIFEST_CID_MAX). FWC_OK or
 * FWC_ERR_MALFORMED. Full CID handling is in the CID module. */
int fwc_manifest_check_cid(const uint8_t *cid, size_t len, struct fwc_errinfo *ei);

/* A decoded signed manifest. body and the signature pointers point into the input buffer;
 * manifest is the decoded body. Signatures are in wire order (sorted by public key bytes). */
struct fwc_signed_manifest {
	const uint8_t *body;
	size_t body_len;
	size_t n_sigs;
	struct fwc_keyset_sig sigs[FWC_MANIFEST_SIGS_MAX];
	struct fwc_manifest manifest;
};

/* Wrap a body and 0..FWC_MANIFEST_SIGS_MAX signatures (any order; they are sorted by public key
 * bytes, and one key may appear only once: FWC_ERR_DUPLICATE) into a signed manifest. The body
 * must decode (its error is returned otherwise). out NULL measures. */
int fwc_signed_manifest_encode(uint8_t *out, size_t outcap, size_t *outlen, const uint8_t *body,
                               size_t body_len, const struct fwc_keyset_sig *sigs, size_t n_sigs,
                               struct fwc_errinfo *ei);

/* Decode a signed manifest and its body. sm is written only on success. Signatures must be
 * sorted strictly by public key bytes (FWC_ERR_UNSORTED / FWC_ERR_DUPLICATE); keys and
 * signatures are length-checked here and verified by fwc_signed_manifest_verify. */
int fwc_signed_manifest_decode(struct fwc_signed_manifest *sm, const uint8_t *buf, size_t len,
                               struct fwc_errinfo *ei);

/* The 32-byte message the signatures sign: fwc_tagged_hash(FWC_TAG_MANIFEST, body). */
int fwc_manifest_digest(uint8_t digest[32], const uint8_t *body, size_t body_len);

/* Add sk's signature to the signed manifest in[0..in_len) and write the result (signatures
 * re-sorted, so the encoding stays deterministic) to out, which must not overlap in. If sk's
 * key already signed, its signature is replaced. aux: BIP-340 auxiliary randomness (NULL = OS
 * random; give fixed bytes only for known-answer tests); ignored for Ed25519. Returns FWC_OK,
 * FWC_ERR_BUFSIZE (*outlen = size needed), FWC_ERR_TOO_LARGE (already 16 signers) or a decode
 * error of the input. */
int fwc_signed_manifest_sign(uint8_t *out, size_t outcap, size_t *outlen, const uint8_t *in,
                             size_t in_len, const struct fwc_seckey *sk, const uint8_t aux[32],
                             struct fwc_errinfo *ei);

/* Threshold verification of a decoded signed manifest against a key set (see
 * fwc_keyset_verify_threshold for the counting rules and the message). */
int fwc_signed_manifest_verify(const struct fwc_signed_manifest *sm, const struct fwc_keyset *ks,
                               unsigned *valid, struct fwc_errinfo *ei);

#ifdef __cplusplus
}
#endif
#endif
