/* SHA-256 through OpenSSL's EVP interface, plus BIP-340 tagged hashes.
 *
 * EVP picks the fastest implementation for the CPU (SHA-NI, AVX2) at run time, which the
 * low-level SHA256_* calls no longer promise in OpenSSL 3. The context holds an EVP_MD_CTX that
 * is reused across messages (final re-initialises it) so hashing many small items, as the
 * Merkle log does, pays the allocation once. */
#include "fwchain/sha256.h"

#include "fwchain/err.h"

#include <openssl/evp.h>

int fwc_sha256_init(struct fwc_sha256 *ctx)
{
	EVP_MD_CTX *md;

	if (ctx == NULL)
		return FWC_ERR_ARG;
	ctx->evp = NULL;
	md = EVP_MD_CTX_new();
	if (md == NULL)
		return FWC_ERR_NOMEM;
	if (EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(md);
		return FWC_ERR_CRYPTO;
	}
	ctx->evp = md;
	return FWC_OK;
}

int fwc_sha256_update(struct fwc_sha256 *ctx, const void *data, size_t len)
{
	if (ctx == NULL || ctx->evp == NULL || (data == NULL && len != 0))
		return FWC_ERR_ARG;
	if (len == 0)
		return FWC_OK;
	return EVP_DigestUpdate(ctx->evp, data, len) == 1 ? FWC_OK : FWC_ERR_CRYPTO;
}

int fwc_sha256_final(struct fwc_sha256 *ctx, uint8_t out[FWC_SHA256_LEN])
{
	unsigned int n = 0;
	uint8_t tmp[EVP_MAX_MD_SIZE];

	if (ctx == NULL || ctx->evp == NULL || out == NULL)
		return FWC_ERR_ARG;
	if (EVP_DigestFinal_ex(ctx->evp, tmp, &n) != 1 || n != FWC_SHA256_LEN)
		return FWC_ERR_CRYPTO;
	if (EVP_DigestInit_ex(ctx->evp, EVP_sha256(), NULL) != 1)
		return FWC_ERR_CRYPTO;
	for (unsigned i = 0; i < FWC_SHA256_LEN; i++)
		out[i] = tmp[i];
	return FWC_OK;
}

void fwc_sha256_cleanup(struct fwc_sha256 *ctx)
{
	if (ctx == NULL)
		return;
	EVP_MD_CTX_free(ctx->evp);
	ctx->evp = NULL;
}

int fwc_sha256(uint8_t out[FWC_SHA256_LEN], const void *data, size_t len)
{
	uint8_t tmp[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	static const uint8_t empty[1];

	if (out == NULL || (data == NULL && len != 0))
		return FWC_ERR_ARG;
	if (EVP_Digest(len ? data : empty, len, tmp, &n, EVP_sha256(), NULL) != 1 || n != 32)
		return FWC_ERR_CRYPTO;
	for (unsigned i = 0; i < FWC_SHA256_LEN; i++)
		out[i] = tmp[i];
	return FWC_OK;
}

int fwc_tagged_hash(uint8_t out[FWC_SHA256_LEN], const char *tag, const void *msg, size_t len)
{
	struct fwc_sha256 ctx;
	uint8_t th[FWC_SHA256_LEN];
	size_t tlen = 0;
	int rc;

	if (out == NULL || tag == NULL || (msg == NULL && len != 0))
		return FWC_ERR_ARG;
	while (tag[tlen] != '\0')
		tlen++;
	rc = fwc_sha256(th, tag, tlen);
	if (rc < 0)
		return rc;
	rc = fwc_sha256_init(&ctx);
	if (rc < 0)
		return rc;
	if ((rc = fwc_sha256_update(&ctx, th, sizeof(th))) < 0 ||
	    (rc = fwc_sha256_update(&ctx, th, sizeof(th))) < 0 ||
	    (rc = fwc_sha256_update(&ctx, msg, len)) < 0)
		goto out;
	rc = fwc_sha256_final(&ctx, out);
out:
	fwc_sha256_cleanup(&ctx);
	return rc;
}
