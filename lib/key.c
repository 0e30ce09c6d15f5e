/* Algorithm-tagged keys: BIP-340 Schnorr through libsecp256k1, Ed25519 through libsodium.
 *
 * Every key and signature carries its algorithm so one code path serves manufacturer, device
 * (bip340) and validator (ed25519) keys. Verification uses libsecp256k1's static context (no
 * allocation, no shared mutable state); signing creates a short-lived context randomised from
 * the OS so blinding differs per call, and wipes every secret copy before returning. */
#include "fwchain/key.h"

#include "fwchain/hex.h"
#include "fwchain/sha256.h"

#include <secp256k1.h>
#include <secp256k1_extrakeys.h>
#include <secp256k1_schnorrsig.h>
#include <sodium.h>
#include <string.h>

static int init_sodium(void)
{
	return sodium_init() < 0 ? FWC_ERR_CRYPTO : FWC_OK;
}

const char *fwc_alg_name(int alg)
{
	switch (alg) {
	case FWC_ALG_BIP340:
		return "bip340";
	case FWC_ALG_ED25519:
		return "ed25519";
	default:
		return NULL;
	}
}

int fwc_alg_from_name(enum fwc_alg *alg, const char *name, size_t len)
{
	if (alg == NULL || (name == NULL && len != 0))
		return FWC_ERR_ARG;
	if (len == 6 && memcmp(name, "bip340", 6) == 0)
		*alg = FWC_ALG_BIP340;
	else if (len == 7 && memcmp(name, "ed25519", 7) == 0)
		*alg = FWC_ALG_ED25519;
	else
		return FWC_ERR_UNSUPPORTED;
	return FWC_OK;
}

/* A signing context with fresh blinding; NULL on failure. */
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

int fwc_sign(uint8_t sig[FWC_SIG_LEN], const struct fwc_seckey *sk, const uint8_t *msg,
	     size_t len)
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

int fwc_pubkey_to_bin(uint8_t out[FWC_PUBKEY_BIN_LEN], const struct fwc_pubkey *pk)
{
	if (out == NULL || pk == NULL)
		return FWC_ERR_ARG;
	if (fwc_alg_name(pk->alg) == NULL)
		return FWC_ERR_UNSUPPORTED;
	out[0] = pk->alg;
	memcpy(out + 1, pk->key, FWC_PUBKEY_LEN);
	return FWC_OK;
}

int fwc_pubkey_from_bin(struct fwc_pubkey *pk, const uint8_t *in, size_t len,
			struct fwc_errinfo *ei)
{
	struct fwc_pubkey tmp;

	if (pk == NULL || (in == NULL && len != 0))
		return FWC_ERR_ARG;
	if (len != FWC_PUBKEY_BIN_LEN)
		return fwc_fail(ei, 0, FWC_ERR_MALFORMED,
				"public key is %zu bytes, expected 33 (algorithm byte + 32)", len);
	if (fwc_alg_name(in[0]) == NULL)
		return fwc_fail(ei, 0, FWC_ERR_UNSUPPORTED, "unknown key algorithm %u", in[0]);
	tmp.alg = in[0];
	memcpy(tmp.key, in + 1, FWC_PUBKEY_LEN);
	if (fwc_pubkey_check(&tmp) < 0)
		return fwc_fail(ei, 1, FWC_ERR_KEY, "%s public key is not a valid curve point",
				fwc_alg_name(tmp.alg));
	*pk = tmp;
	return FWC_OK;
}

int fwc_pubkey_to_text(char *out, size_t outcap, const struct fwc_pubkey *pk)
{
	const char *name;
	size_t n;

	if (out == NULL || pk == NULL)
		return FWC_ERR_ARG;
	name = fwc_alg_name(pk->alg);
	if (name == NULL)
		return FWC_ERR_UNSUPPORTED;
	n = strlen(name);
	if (outcap < n + 1 + 2 * FWC_PUBKEY_LEN + 1)
		return FWC_ERR_BUFSIZE;
	memcpy(out, name, n);
	out[n] = ':';
	return fwc_hex_encode(out + n + 1, outcap - n - 1, pk->key, FWC_PUBKEY_LEN);
}

int fwc_pubkey_from_text(struct fwc_pubkey *pk, const char *in, size_t len,
			 struct fwc_errinfo *ei)
{
	struct fwc_pubkey tmp;
	enum fwc_alg alg;
	size_t colon = 0, got = 0;

	if (pk == NULL || (in == NULL && len != 0))
		return FWC_ERR_ARG;
	while (colon < len && in[colon] != ':')
		colon++;
	if (colon == len)
		return fwc_fail(ei, 0, FWC_ERR_MALFORMED,
				"public key text must be ALG:HEX (e.g. bip340:<64 hex digits>)");
	if (fwc_alg_from_name(&alg, in, colon) < 0)
		return fwc_fail(ei, 0, FWC_ERR_UNSUPPORTED,
				"unknown key algorithm '%.*s' (bip340 or ed25519)",
				(int)(colon > 16 ? 16 : colon), in);
	if (len - colon - 1 != 2 * FWC_PUBKEY_LEN)
		return fwc_fail(ei, colon + 1, FWC_ERR_MALFORMED,
				"public key must be exactly 64 hex digits after '%s:', got %zu",
				fwc_alg_name(alg), len - colon - 1);
	/* Only lowercase digits, so every key has exactly one text form and texts can be
	 * compared as strings. */
	for (size_t i = colon + 1; i < len; i++)
		if (!((in[i] >= '0' && in[i] <= '9') || (in[i] >= 'a' && in[i] <= 'f')))
			return fwc_fail(ei, i, FWC_ERR_MALFORMED,
					"public key text has a character that is not a lowercase "
					"hex digit at offset %zu",
					i);
	if (fwc_hex_decode(tmp.key, sizeof(tmp.key), &got, in + colon + 1, len - colon - 1) < 0)
		return fwc_fail(ei, colon + 1, FWC_ERR_MALFORMED, "public key hex does not decode");
	tmp.alg = (uint8_t)alg;
	if (fwc_pubkey_check(&tmp) < 0)
		return fwc_fail(ei, colon + 1, FWC_ERR_KEY,
				"%s public key is not a valid curve point", fwc_alg_name(alg));
	*pk = tmp;
	return FWC_OK;
}

int fwc_key_id(uint8_t id[FWC_KEYID_LEN], const struct fwc_pubkey *pk)
{
	uint8_t bin[FWC_PUBKEY_BIN_LEN];
	int rc;

	if (id == NULL || pk == NULL)
		return FWC_ERR_ARG;
	if ((rc = fwc_pubkey_to_bin(bin, pk)) < 0)
		return rc;
	return fwc_tagged_hash(id, FWC_TAG_KEYID, bin, sizeof(bin));
}

int fwc_pubkey_equal(const struct fwc_pubkey *a, const struct fwc_pubkey *b)
{
	return a != NULL && b != NULL && a->alg == b->alg &&
	       memcmp(a->key, b->key, FWC_PUBKEY_LEN) == 0;
}
