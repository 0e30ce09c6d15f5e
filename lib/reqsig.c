/* Request signatures (docs/formats/content-auth.md): the signed message is a short line-based
 * text rather than CBOR because every field is already text on the wire (a header or the
 * request line); joining them with LF, which none may contain, is unambiguous and lets a
 * shell script with openssl or Python reproduce it. The body is represented by its SHA-256, so
 * a client can sign before streaming a large upload and the node checks the hash after. */
#include "fwchain/reqsig.h"

#include <stdio.h>
#include <string.h>

#include "fwchain/hex.h"
#include "fwchain/sha256.h"

static int field_ok(const char *s, int spaces_ok)
{
	size_t n = 0;

	if (s == NULL || *s == '\0')
		return 0;
	for (; s[n] && n <= FWC_REQSIG_FIELD_MAX; n++) {
		unsigned char c = (unsigned char)s[n];

		if (c > 0x7e || c < 0x20 || (c == ' ' && !spaces_ok))
			return 0;
	}
	return n <= FWC_REQSIG_FIELD_MAX;
}

int fwc_reqsig_digest(uint8_t out[32], const char *chain_id, const char *method, const char *target,
                      int64_t time, const uint8_t body_sha256[32], struct fwc_errinfo *ei)
{
	struct fwc_sha256 h;
	uint8_t pre[32], d[32];
	char num[24], hex[65];
	int rc;

	if (out == NULL || body_sha256 == NULL)
		return FWC_ERR_ARG;
	if (!field_ok(chain_id, 0))
		return fwc_fail(ei, 0, FWC_ERR_MALFORMED, "chain id must be printable ASCII");
	if (!field_ok(method, 0))
		return fwc_fail(ei, 0, FWC_ERR_MALFORMED, "method must be printable ASCII");
	/* A request target never holds a space (RFC 9112); refusing it keeps one form. */
	if (!field_ok(target, 0))
		return fwc_fail(ei, 0, FWC_ERR_MALFORMED,
		                "request target must be printable ASCII without spaces");
	if (time < 0)
		return fwc_fail(ei, 0, FWC_ERR_MALFORMED, "time must not be negative");
	snprintf(num, sizeof(num), "%lld", (long long)time);
	fwc_hex_encode(hex, sizeof(hex), body_sha256, 32);
	if ((rc = fwc_sha256(pre, FWC_TAG_REQUEST, strlen(FWC_TAG_REQUEST))) != FWC_OK ||
	    (rc = fwc_sha256_init(&h)) != FWC_OK)
		return rc;
	/* tagged_hash streamed: SHA256(tag) twice, then the fields joined by LF. */
	rc = fwc_sha256_update(&h, pre, 32);
	if (rc == FWC_OK)
		rc = fwc_sha256_update(&h, pre, 32);
	{
		const char *parts[5] = {chain_id, method, target, num, hex};

		for (int i = 0; rc == FWC_OK && i < 5; i++) {
			rc = fwc_sha256_update(&h, parts[i], strlen(parts[i]));
			if (rc == FWC_OK && i < 4)
				rc = fwc_sha256_update(&h, "\n", 1);
		}
	}
	if (rc == FWC_OK)
		rc = fwc_sha256_final(&h, d);
	fwc_sha256_cleanup(&h);
	if (rc == FWC_OK)
		memcpy(out, d, 32);
	return rc;
}

int fwc_reqsig_sign(uint8_t sig[FWC_SIG_LEN], const struct fwc_seckey *sk, const uint8_t digest[32])
{
	return fwc_sign(sig, sk, digest, 32);
}

int fwc_reqsig_verify(const struct fwc_pubkey *pk, const uint8_t sig[FWC_SIG_LEN],
                      const uint8_t digest[32])
{
	return fwc_verify(pk, sig, digest, 32);
}
