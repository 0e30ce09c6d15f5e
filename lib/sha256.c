/* SHA-256 through OpenSSL's EVP interface: the library's hash backend (tagged hashes, which
 * only build on these functions, are in tagged_hash.c; the device agent's backend is
 * agent/core/crypto.c).
 *
 * EVP picks the fastest implementation for the CPU (SHA-NI, AVX2) at run time, which the
 * low-level SHA256_* calls no longer promise in OpenSSL 3. The context holds an EVP_MD_CTX that
 * is reused across messages (final re-initialises it) so hashing many small items, as the
 * Merkle log does, pays the allocation once. The SHA-256 implementation is fetched from the
 * provider once per process (EVP_sha256() would look it up again at every initialisation,
 * a few per cent of a node applying small transactions) and kept for the process's life. */
#include "fwchain/sha256.h"

#include "fwchain/err.h"

#include <openssl/evp.h>
#include <pthread.h>

static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;
static EVP_MD *sha256_fetched;

static void sha256_fetch(void)
{
	sha256_fetched = EVP_MD_fetch(NULL, "SHA256", NULL);
}

/* The fetched implementation, or the implicit one when the fetch failed. */
static const EVP_MD *sha256_md(void)
{
	pthread_once(&sha256_once, sha256_fetch);
	return sha256_fetched != NULL ? sha256_fetched : EVP_sha256();
}

int fwc_sha256_init(struct fwc_sha256 *ctx)
{
	EVP_MD_CTX *md;

	if (ctx == NULL)
		return FWC_ERR_ARG;
	ctx->u.evp = NULL;
	md = EVP_MD_CTX_new();
	if (md == NULL)
		return FWC_ERR_NOMEM;
	if (EVP_DigestInit_ex(md, sha256_md(), NULL) != 1) {
		EVP_MD_CTX_free(md);
		return FWC_ERR_CRYPTO;
	}
	ctx->u.evp = md;
	return FWC_OK;
}

int fwc_sha256_update(struct fwc_sha256 *ctx, const void *data, size_t len)
{
	if (ctx == NULL || ctx->u.evp == NULL || (data == NULL && len != 0))
		return FWC_ERR_ARG;
	if (len == 0)
		return FWC_OK;
	return EVP_DigestUpdate(ctx->u.evp, data, len) == 1 ? FWC_OK : FWC_ERR_CRYPTO;
}

int fwc_sha256_final(struct fwc_sha256 *ctx, uint8_t out[FWC_SHA256_LEN])
{
	unsigned int n = 0;
	uint8_t tmp[EVP_MAX_MD_SIZE];

	if (ctx == NULL || ctx->u.evp == NULL || out == NULL)
		return FWC_ERR_ARG;
	if (EVP_DigestFinal_ex(ctx->u.evp, tmp, &n) != 1 || n != FWC_SHA256_LEN)
		return FWC_ERR_CRYPTO;
	if (EVP_DigestInit_ex(ctx->u.evp, sha256_md(), NULL) != 1)
		return FWC_ERR_CRYPTO;
	for (unsigned i = 0; i < FWC_SHA256_LEN; i++)
		out[i] = tmp[i];
	return FWC_OK;
}

void fwc_sha256_cleanup(struct fwc_sha256 *ctx)
{
	if (ctx == NULL)
		return;
	EVP_MD_CTX_free(ctx->u.evp);
	ctx->u.evp = NULL;
}

int fwc_sha256(uint8_t out[FWC_SHA256_LEN], const void *data, size_t len)
{
	uint8_t tmp[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	static const uint8_t empty[1];

	if (out == NULL || (data == NULL && len != 0))
		return FWC_ERR_ARG;
	if (EVP_Digest(len ? data : empty, len, tmp, &n, sha256_md(), NULL) != 1 || n != 32)
		return FWC_ERR_CRYPTO;
	for (unsigned i = 0; i < FWC_SHA256_LEN; i++)
		out[i] = tmp[i];
	return FWC_OK;
}
