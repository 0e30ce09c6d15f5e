/* Algorithm-tagged public keys: names, the binary and text forms, key ids.
 *
 * Every key and signature carries its algorithm so one code path serves manufacturer, device
 * (bip340) and validator (ed25519) keys. This file is backend-free (the device agent compiles
 * it as it is): whether a key is a valid point and whether a signature verifies is asked of the
 * build's signature backend (key_verify.c: libsecp256k1 and libsodium; agent/core/crypto.c on
 * the device), and secret keys live in key_sign.c. */
#include "fwchain/key.h"

#include "fwchain/hex.h"
#include "fwchain/sha256.h"

#include <string.h>

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
	for (n = 0; name[n] != '\0'; n++)
		;
	if (outcap < n + 1 + 2 * FWC_PUBKEY_LEN + 1)
		return FWC_ERR_BUFSIZE;
	memcpy(out, name, n);
	out[n] = ':';
	return fwc_hex_encode(out + n + 1, outcap - n - 1, pk->key, FWC_PUBKEY_LEN);
}

int fwc_pubkey_from_text(struct fwc_pubkey *pk, const char *in, size_t len, struct fwc_errinfo *ei)
{
	struct fwc_pubkey tmp;
	int rc;
	size_t colon = 0;

	if (pk == NULL)
		return FWC_ERR_ARG;
	rc = fwc_pubkey_from_text_unchecked(&tmp, in, len, ei);
	if (rc != FWC_OK)
		return rc;
	while (in[colon] != ':')
		colon++;
	if (fwc_pubkey_check(&tmp) < 0)
		return fwc_fail(ei, colon + 1, FWC_ERR_KEY, "%s public key is not a valid curve point",
		                fwc_alg_name(tmp.alg));
	*pk = tmp;
	return FWC_OK;
}

int fwc_pubkey_from_text_unchecked(struct fwc_pubkey *pk, const char *in, size_t len,
                                   struct fwc_errinfo *ei)
{
	struct fwc_pubkey tmp;
	unsigned bad = 0;
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
		                fwc_alg_name((int)alg), len - colon - 1);
	/* Only lowercase digits, so every key has exactly one text form and texts can be
	 * compared as strings. Checked without a branch per digit (a random key's digits defeat
	 * prediction, and the node parses one per check-in); the offset is looked for after. */
	for (size_t i = colon + 1; i < len; i++) {
		unsigned c = (unsigned char)in[i];

		bad |= !((c - '0' < 10u) | (c - 'a' < 6u));
	}
	for (size_t i = colon + 1; bad && i < len; i++)
		if (!((in[i] >= '0' && in[i] <= '9') || (in[i] >= 'a' && in[i] <= 'f')))
			return fwc_fail(ei, i, FWC_ERR_MALFORMED,
			                "public key text has a character that is not a lowercase "
			                "hex digit at offset %zu",
			                i);
	if (fwc_hex_decode(tmp.key, sizeof(tmp.key), &got, in + colon + 1, len - colon - 1) < 0)
		return fwc_fail(ei, colon + 1, FWC_ERR_MALFORMED, "public key hex does not decode");
	tmp.alg = (uint8_t)alg;
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
