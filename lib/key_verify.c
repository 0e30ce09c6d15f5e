/* The library's signature-verification backend: BIP-340 through libsecp256k1, Ed25519 through
 * libsodium.
 *
 * Verification uses libsecp256k1's static context (no allocation, no shared mutable state).
 * The device agent replaces this file with agent/core/crypto.c, which asks its port. */
#include "fwchain/key.h"

#include <secp256k1.h>
#include <secp256k1_extrakeys.h>
#include <secp256k1_schnorrsig.h>
#include <sodium.h>

static int init_sodium(void)
{
	return sodium_init() < 0 ? FWC_ERR_CRYPTO : FWC_OK;
}

int fwc_verify(const struct fwc_pubkey *pk, const uint8_t sig[FWC_SIG_LEN], const uint8_t *msg,
               size_t len)
{
	static const uint8_t empty[1];
	secp256k1_xonly_pubkey xpk;

	if (pk == NULL || sig == NULL || (msg == NULL && len != 0))
		return FWC_ERR_ARG;
	if (msg == NULL)
		msg = empty;
	switch (pk->alg) {
	case FWC_ALG_BIP340:
		if (!secp256k1_xonly_pubkey_parse(secp256k1_context_static, &xpk, pk->key))
			return FWC_ERR_BADSIG;
		return secp256k1_schnorrsig_verify(secp256k1_context_static, sig, msg, len, &xpk)
		           ? FWC_OK
		           : FWC_ERR_BADSIG;
	case FWC_ALG_ED25519:
		if (init_sodium() < 0)
			return FWC_ERR_CRYPTO;
		return crypto_sign_verify_detached(sig, msg, len, pk->key) == 0 ? FWC_OK
		                                                                : FWC_ERR_BADSIG;
	default:
		return FWC_ERR_UNSUPPORTED;
	}
}

int fwc_pubkey_check(const struct fwc_pubkey *pk)
{
	secp256k1_xonly_pubkey xpk;

	if (pk == NULL)
		return FWC_ERR_ARG;
	switch (pk->alg) {
	case FWC_ALG_BIP340:
		return secp256k1_xonly_pubkey_parse(secp256k1_context_static, &xpk, pk->key)
		           ? FWC_OK
		           : FWC_ERR_KEY;
	case FWC_ALG_ED25519:
		if (init_sodium() < 0)
			return FWC_ERR_CRYPTO;
		return crypto_core_ed25519_is_valid_point(pk->key) ? FWC_OK : FWC_ERR_KEY;
	default:
		return FWC_ERR_KEY;
	}
}
