/* fwchain — signing keys tagged by algorithm: BIP-340 Schnorr (libsecp256k1) and Ed25519
 * (libsodium). Formats: docs/formats/keys.md. */
#ifndef FWCHAIN_KEY_H
#define FWCHAIN_KEY_H

#include <stddef.h>
#include <stdint.h>

#include "fwchain/err.h"

#ifdef __cplusplus
extern "C" {
#endif

enum fwc_alg {
	FWC_ALG_BIP340 = 1,  /* Schnorr over secp256k1, x-only 32-byte public keys */
	FWC_ALG_ED25519 = 2, /* RFC 8032 Ed25519 */
};

#define FWC_PUBKEY_LEN 32
#define FWC_SIG_LEN 64
#define FWC_PUBKEY_BIN_LEN 33  /* algorithm byte || 32 key bytes */
#define FWC_PUBKEY_TEXT_MAX 80 /* "ed25519:" + 64 hex digits + NUL, with room */
#define FWC_KEYID_LEN 32

struct fwc_pubkey {
	uint8_t alg; /* enum fwc_alg */
	uint8_t key[FWC_PUBKEY_LEN];
};

/* A secret key. bip340: key[0..32) is the scalar. ed25519: key[0..64) is libsodium's
 * seed || public key. Wipe with fwc_seckey_wipe() when done. */
struct fwc_seckey {
	uint8_t alg;
	uint8_t key[64];
};

/* Name ("bip340", "ed25519") of an algorithm, or NULL when unknown. */
const char *fwc_alg_name(int alg);
/* Parse an algorithm name of len bytes. FWC_OK or FWC_ERR_UNSUPPORTED. */
int fwc_alg_from_name(enum fwc_alg *alg, const char *name, size_t len);

/* New key from the OS random source. */
int fwc_key_generate(struct fwc_seckey *sk, enum fwc_alg alg);
/* Key from a 32-byte secret (bip340: the scalar, must be in [1, n-1]; ed25519: the seed). */
int fwc_key_from_secret(struct fwc_seckey *sk, enum fwc_alg alg, const uint8_t secret[32]);
/* The 32-byte secret that fwc_key_from_secret() takes back (what the keystore stores). */
int fwc_key_secret(uint8_t secret[32], const struct fwc_seckey *sk);
/* Public key of a secret key. */
int fwc_key_public(struct fwc_pubkey *pk, const struct fwc_seckey *sk);
void fwc_seckey_wipe(struct fwc_seckey *sk);

/* Sign msg[0..len) (any length). bip340 draws its auxiliary randomness from the OS.
 * sig is written only on success. */
int fwc_sign(uint8_t sig[FWC_SIG_LEN], const struct fwc_seckey *sk, const uint8_t *msg,
	     size_t len);
/* BIP-340 signing with caller-given auxiliary randomness (known-answer tests only). */
int fwc_sign_bip340_aux(uint8_t sig[FWC_SIG_LEN], const struct fwc_seckey *sk,
			const uint8_t aux[32], const uint8_t *msg, size_t len);
/* FWC_OK when sig is a valid signature of msg by pk; FWC_ERR_BADSIG when not (including a
 * public key that is not a valid point); FWC_ERR_UNSUPPORTED for an unknown algorithm. */
int fwc_verify(const struct fwc_pubkey *pk, const uint8_t sig[FWC_SIG_LEN], const uint8_t *msg,
	       size_t len);

/* FWC_OK when pk is a usable key of its algorithm, FWC_ERR_KEY otherwise. */
int fwc_pubkey_check(const struct fwc_pubkey *pk);
/* Binary form: algorithm byte then the 32 key bytes. */
int fwc_pubkey_to_bin(uint8_t out[FWC_PUBKEY_BIN_LEN], const struct fwc_pubkey *pk);
/* Parse the binary form (len must be 33; the key must be valid for its algorithm). */
int fwc_pubkey_from_bin(struct fwc_pubkey *pk, const uint8_t *in, size_t len,
			struct fwc_errinfo *ei);
/* Text form "bip340:<64 hex>" or "ed25519:<64 hex>" (lowercase hex only), NUL-terminated.
 * fwc_pubkey_from_text() parses exactly len bytes (no NUL needed) and rejects an unknown
 * algorithm (FWC_ERR_UNSUPPORTED), a missing colon, wrong length or any character but 0-9a-f
 * (FWC_ERR_MALFORMED) and a point not on the curve (FWC_ERR_KEY); pk is written only on
 * success. */
int fwc_pubkey_to_text(char *out, size_t outcap, const struct fwc_pubkey *pk);
int fwc_pubkey_from_text(struct fwc_pubkey *pk, const char *in, size_t len,
			 struct fwc_errinfo *ei);
/* The text form's syntax only, without the curve check: for a key used as a name (a lookup
 * in a table of keys that were checked when stored, where one that is not a point is simply
 * not found). Lifting a point is a square root, a seventh of a signature check. */
int fwc_pubkey_from_text_unchecked(struct fwc_pubkey *pk, const char *in, size_t len,
				   struct fwc_errinfo *ei);
/* Key id: tagged_hash("fwchain/keyid/v1", binary form). */
int fwc_key_id(uint8_t id[FWC_KEYID_LEN], const struct fwc_pubkey *pk);
/* 1 when both keys have the same algorithm and bytes. */
int fwc_pubkey_equal(const struct fwc_pubkey *a, const struct fwc_pubkey *b);

#ifdef __cplusplus
}
#endif
#endif
