/* Secret keys: generation, derivation of the public key, signing (BIP-340 through
 * libsecp256k1, Ed25519 through libsodium).
 *
 * Signing creates a short-lived libsecp256k1 context randomised from the OS so blinding differs
 * per call, and wipes every secret copy before returning. The device agent never holds a secret
 * key in its core (its key stays in the port), so it does not build this file. */
#include "fwchain/key.h"

#include "fwchain/hex.h"

#include <secp256k1.h>
#include <secp256k1_extrakeys.h>
#include <secp256k1_schnorrsig.h>
#include <sodium.h>
#include <string.h>

static int init_sodium(void)
{
	return sodium_init() < 0 ? FWC_ERR_CRYPTO : FWC_OK;
}

static secp256k1_context *sign_ctx(void)
{
	secp256k1_context *ctx = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
	uint8_t seed[32];

	if (ctx == NULL)
		return NULL;
	randombytes_buf(seed, sizeof(seed));
	if (!secp256k1_context_randomize(ctx, seed)) {
		secp256k1_context_destroy(ctx);
		ctx = NULL;
	}
	fwc_wipe(seed, sizeof(seed));
	return ctx;
}

int fwc_key_from_secret(struct fwc_seckey *sk, enum fwc_alg alg, const uint8_t secret[32])
{
	uint8_t pk[crypto_sign_PUBLICKEYBYTES];
	int rc;

	if (sk == NULL || secret == NULL)
		return FWC_ERR_ARG;
	if ((rc = init_sodium()) < 0)
		return rc;
	switch (alg) {
	case FWC_ALG_BIP340:
		if (!secp256k1_ec_seckey_verify(secp256k1_context_static, secret))
			return FWC_ERR_KEY;
		memset(sk, 0, sizeof(*sk));
		sk->alg = FWC_ALG_BIP340;
		memcpy(sk->key, secret, 32);
		return FWC_OK;
	case FWC_ALG_ED25519:
		memset(sk, 0, sizeof(*sk));
		if (crypto_sign_seed_keypair(pk, sk->key, secret) != 0)
			return FWC_ERR_CRYPTO;
		sk->alg = FWC_ALG_ED25519;
		return FWC_OK;
	default:
		return FWC_ERR_UNSUPPORTED;
	}
}

int fwc_key_generate(struct fwc_seckey *sk, enum fwc_alg alg)
{
	uint8_t secret[32];
	int rc;

	if (sk == NULL)
		return FWC_ERR_ARG;
	if ((rc = init_sodium()) < 0)
		return rc;
	/* A uniformly random 32-byte string is a valid secp256k1 scalar except with probability
	 * ~2^-128; loop anyway so the function never fails on that path. */
	do {
		randombytes_buf(secret, sizeof(secret));
		rc = fwc_key_from_secret(sk, alg, secret);
	} while (rc == FWC_ERR_KEY);
	fwc_wipe(secret, sizeof(secret));
	return rc;
}

int fwc_key_secret(uint8_t secret[32], const struct fwc_seckey *sk)
{
	if (secret == NULL || sk == NULL)
		return FWC_ERR_ARG;
	if (sk->alg != FWC_ALG_BIP340 && sk->alg != FWC_ALG_ED25519)
		return FWC_ERR_UNSUPPORTED;
	/* Both layouts start with the 32-byte secret (scalar or Ed25519 seed). */
	memcpy(secret, sk->key, 32);
	return FWC_OK;
}

int fwc_key_public(struct fwc_pubkey *pk, const struct fwc_seckey *sk)
{
	secp256k1_context *ctx;
	secp256k1_keypair kp;
	secp256k1_xonly_pubkey xpk;
	uint8_t out[FWC_PUBKEY_LEN];
	int rc;

	if (pk == NULL || sk == NULL)
		return FWC_ERR_ARG;
	switch (sk->alg) {
	case FWC_ALG_BIP340:
		/* keypair_create multiplies by the generator, which the static context cannot do
		 * (libsecp256k1 aborts through its illegal-argument callback): use a blinded
		 * signing context, as for signing. */
		if ((rc = init_sodium()) < 0)
			return rc;
		if ((ctx = sign_ctx()) == NULL)
			return FWC_ERR_NOMEM;
		rc = FWC_ERR_CRYPTO;
		if (!secp256k1_keypair_create(ctx, &kp, sk->key)) {
			rc = FWC_ERR_KEY;
		} else if (secp256k1_keypair_xonly_pub(ctx, &xpk, NULL, &kp) &&
		           secp256k1_xonly_pubkey_serialize(ctx, out, &xpk)) {
			pk->alg = FWC_ALG_BIP340;
			memcpy(pk->key, out, sizeof(out));
			rc = FWC_OK;
		}
		fwc_wipe(&kp, sizeof(kp));
		secp256k1_context_destroy(ctx);
		return rc;
	case FWC_ALG_ED25519:
		pk->alg = FWC_ALG_ED25519;
		memcpy(pk->key, sk->key + 32, 32);
		return FWC_OK;
	default:
		return FWC_ERR_UNSUPPORTED;
	}
}

void fwc_seckey_wipe(struct fwc_seckey *sk)
{
	fwc_wipe(sk, sizeof(*sk));
}

static int sign_bip340(uint8_t sig[64], const struct fwc_seckey *sk, const uint8_t aux[32],
                       const uint8_t *msg, size_t len)
{
	secp256k1_context *ctx = sign_ctx();
	secp256k1_keypair kp;
	secp256k1_schnorrsig_extraparams ep = SECP256K1_SCHNORRSIG_EXTRAPARAMS_INIT;
	uint8_t out[64];
	int rc = FWC_ERR_CRYPTO;

	if (ctx == NULL)
		return FWC_ERR_NOMEM;
	ep.ndata = (unsigned char *)aux;
	if (!secp256k1_keypair_create(ctx, &kp, sk->key)) {
		rc = FWC_ERR_KEY;
		goto out;
	}
	if (!secp256k1_schnorrsig_sign_custom(ctx, out, msg, len, &kp, &ep))
		goto out;
	memcpy(sig, out, 64);
	rc = FWC_OK;
out:
	fwc_wipe(&kp, sizeof(kp));
	secp256k1_context_destroy(ctx);
	return rc;
}

int fwc_sign_bip340_aux(uint8_t sig[FWC_SIG_LEN], const struct fwc_seckey *sk,
                        const uint8_t aux[32], const uint8_t *msg, size_t len)
{
	int rc;

	if (sig == NULL || sk == NULL || aux == NULL || (msg == NULL && len != 0))
		return FWC_ERR_ARG;
	if (sk->alg != FWC_ALG_BIP340)
		return FWC_ERR_KEY;
	if ((rc = init_sodium()) < 0)
		return rc;
	return sign_bip340(sig, sk, aux, msg, len);
}

int fwc_sign(uint8_t sig[FWC_SIG_LEN], const struct fwc_seckey *sk, const uint8_t *msg, size_t len)
{
	static const uint8_t empty[1];
	uint8_t aux[32];
	int rc;

	if (sig == NULL || sk == NULL || (msg == NULL && len != 0))
		return FWC_ERR_ARG;
	if ((rc = init_sodium()) < 0)
		return rc;
	if (msg == NULL)
		msg = empty;
	switch (sk->alg) {
	case FWC_ALG_BIP340:
		randombytes_buf(aux, sizeof(aux));
		rc = sign_bip340(sig, sk, aux, msg, len);
		fwc_wipe(aux, sizeof(aux));
		return rc;
	case FWC_ALG_ED25519:
		return crypto_sign_detached(sig, NULL, msg, len, sk->key) == 0 ? FWC_OK
		                                                               : FWC_ERR_CRYPTO;
	default:
		return FWC_ERR_UNSUPPORTED;
	}
}
