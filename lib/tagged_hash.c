/* BIP-340 style tagged hashes, SHA256(SHA256(tag) || SHA256(tag) || msg), on top of whichever
 * SHA-256 backend the build links (lib/sha256.c, OpenSSL; agent/core/crypto.c, the device
 * port). Kept apart from the backend so that every build shares this one definition of the
 * domain separation. */
#include "fwchain/sha256.h"

#include "fwchain/err.h"

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
