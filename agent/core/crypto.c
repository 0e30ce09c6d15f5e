/* The device's backend of the library's crypto and error interfaces: what lib/sha256.c,
 * lib/key_verify.c, lib/secmem.c and lib/err.c are to the library, built on the agent's port.
 *
 * The core compiles the library's decoders and verifiers (agent/core/sources.txt) unchanged;
 * they call fwc_sha256_*, fwc_verify, fwc_ct_equal, fwc_wipe and fwc_fail, which this file
 * supplies without heap, libc or crypto library:
 *   - SHA-256 goes to fwc_port_sha256_*. struct fwc_sha256 (caller storage, sha256.h) holds
 *     the port pointer and the port's hash state inline; a context is "live" between a
 *     successful init and the final/cleanup that releases the port's state.
 *   - Signatures go to fwc_port_bip340_verify / fwc_port_ed25519_verify, whose hardened answer
 *     (FWC_PORT_VALID) is compared twice before it becomes the library's FWC_OK.
 *   - Public keys are only checked for a known algorithm: whether 32 bytes are a curve point is
 *     the port's to find out when it verifies (a key that is no point verifies nothing, so it
 *     counts zero in every threshold, which is what matters here).
 *   - Secret-key operations are refused: the device key lives in the port
 *     (fwc_port_device_sign), never in the core.
 *   - Error messages are dropped: fwc_fail records the offset and an empty message (the agent
 *     reports codes only, STYLE.md), so no formatting code is linked.
 *
 * Main design choice: the library's hash and verify calls carry no port argument, so the port
 * comes from a binding made by the core at the start of each step (fwc_agent_crypto_bind).
 * It is one pointer of static state: the core runs one device's step at a time per process (a
 * simulator stepping several devices in one thread rebinds at every step). */
#include "crypto.h"

#include <string.h>

#include "fwchain/err.h"
#include "fwchain/hex.h"
#include "fwchain/key.h"
#include "fwchain/sha256.h"
#include "util.h"

struct shim_sha256 {
	struct fwc_port *port;
	uint32_t live;
	struct fwc_port_sha256 h;
};

FWC_STATIC_ASSERT(sha256_fits, sizeof(struct shim_sha256) <= sizeof(struct fwc_sha256));

static struct fwc_port *bound;

struct fwc_port *fwc_agent_crypto_bind(struct fwc_port *port)
{
	struct fwc_port *old = bound;

	bound = port;
	return old;
}

struct fwc_port *fwc_agent_crypto_port(void)
{
	return bound;
}

static struct shim_sha256 *shim_of(struct fwc_sha256 *ctx)
{
	return (struct shim_sha256 *)(void *)ctx->u.raw;
}

/* A port error as one of the codes the library's hash functions document. */
static int hash_err(int rc)
{
	return rc == FWC_ERR_NOMEM || rc == FWC_ERR_ARG ? rc : FWC_ERR_CRYPTO;
}

int fwc_sha256_init(struct fwc_sha256 *ctx)
{
	struct shim_sha256 *s;
	int rc;

	if (ctx == NULL)
		return FWC_ERR_ARG;
	s = shim_of(ctx);
	s->live = 0;
	s->port = bound;
	if (s->port == NULL)
		return FWC_ERR_STATE;
	if ((rc = fwc_port_sha256_init(s->port, &s->h)) < 0)
		return hash_err(rc);
	s->live = 1;
	return FWC_OK;
}

int fwc_sha256_update(struct fwc_sha256 *ctx, const void *data, size_t len)
{
	struct shim_sha256 *s;
	int rc;

	if (ctx == NULL || (data == NULL && len != 0))
		return FWC_ERR_ARG;
	s = shim_of(ctx);
	if (s->live != 1)
		return FWC_ERR_ARG;
	if (len == 0)
		return FWC_OK;
	rc = fwc_port_sha256_update(s->port, &s->h, data, len);
	return rc < 0 ? hash_err(rc) : FWC_OK;
}

int fwc_sha256_final(struct fwc_sha256 *ctx, uint8_t out[FWC_SHA256_LEN])
{
	struct shim_sha256 *s;
	int rc;

	if (ctx == NULL || out == NULL)
		return FWC_ERR_ARG;
	s = shim_of(ctx);
	if (s->live != 1)
		return FWC_ERR_ARG;
	/* The port releases its state in final; the library's contract is that the context can
	 * hash the next message, so start a new hash right away (cleanup releases it). */
	s->live = 0;
	rc = fwc_port_sha256_final(s->port, &s->h, out);
	if (fwc_port_sha256_init(s->port, &s->h) == FWC_OK)
		s->live = 1;
	return rc < 0 ? hash_err(rc) : FWC_OK;
}

void fwc_sha256_cleanup(struct fwc_sha256 *ctx)
{
	struct shim_sha256 *s;
	uint8_t discard[FWC_SHA256_LEN];

	if (ctx == NULL)
		return;
	s = shim_of(ctx);
	if (s->live == 1)
		(void)fwc_port_sha256_final(s->port, &s->h, discard);
	s->live = 0;
}

int fwc_sha256(uint8_t out[FWC_SHA256_LEN], const void *data, size_t len)
{
	struct fwc_sha256 ctx;
	uint8_t tmp[FWC_SHA256_LEN];
	int rc;

	if (out == NULL || (data == NULL && len != 0))
		return FWC_ERR_ARG;
	if ((rc = fwc_sha256_init(&ctx)) < 0)
		return rc;
	if ((rc = fwc_sha256_update(&ctx, data, len)) == FWC_OK)
		rc = fwc_sha256_final(&ctx, tmp);
	fwc_sha256_cleanup(&ctx);
	if (rc == FWC_OK)
		memcpy(out, tmp, sizeof(tmp));
	return rc;
}

int fwc_verify(const struct fwc_pubkey *pk, const uint8_t sig[FWC_SIG_LEN], const uint8_t *msg,
               size_t len)
{
	static const uint8_t empty[1];
	volatile int v;

	if (pk == NULL || sig == NULL || (msg == NULL && len != 0))
		return FWC_ERR_ARG;
	if (bound == NULL)
		return FWC_ERR_STATE;
	if (msg == NULL)
		msg = empty;
	switch (pk->alg) {
	case FWC_ALG_BIP340:
		v = fwc_port_bip340_verify(bound, pk->key, sig, msg, len);
		break;
	case FWC_ALG_ED25519:
		v = fwc_port_ed25519_verify(bound, pk->key, sig, msg, len);
		break;
	default:
		return FWC_ERR_UNSUPPORTED;
	}
	if (v == FWC_PORT_VALID) {
		if (v == FWC_PORT_VALID)
			return FWC_OK;
	}
	return v == FWC_ERR_CRYPTO ? FWC_ERR_CRYPTO : FWC_ERR_BADSIG;
}

int fwc_pubkey_check(const struct fwc_pubkey *pk)
{
	if (pk == NULL)
		return FWC_ERR_ARG;
	return pk->alg == FWC_ALG_BIP340 || pk->alg == FWC_ALG_ED25519 ? FWC_OK : FWC_ERR_KEY;
}

/* The core holds no secret key (the device key stays in the port): these are refused. They
 * exist because the library files that decode a format also hold its signing function. */
int fwc_key_public(struct fwc_pubkey *pk, const struct fwc_seckey *sk)
{
	(void)pk;
	(void)sk;
	return FWC_ERR_UNSUPPORTED;
}

int fwc_sign(uint8_t sig[FWC_SIG_LEN], const struct fwc_seckey *sk, const uint8_t *msg, size_t len)
{
	(void)sig;
	(void)sk;
	(void)msg;
	(void)len;
	return FWC_ERR_UNSUPPORTED;
}

int fwc_sign_bip340_aux(uint8_t sig[FWC_SIG_LEN], const struct fwc_seckey *sk,
                        const uint8_t aux[32], const uint8_t *msg, size_t len)
{
	(void)aux;
	return fwc_sign(sig, sk, msg, len);
}

int fwc_ct_equal(const void *a, const void *b, size_t len)
{
	return fwc_ct_match(a, b, len) == FWC_AGENT_MATCH;
}

void fwc_wipe(void *p, size_t len)
{
	volatile uint8_t *q = p;

	if (p == NULL)
		return;
	while (len--)
		*q++ = 0;
}

/* A variadic definition needs no <stdarg.h> when it reads none of its arguments. */
int fwc_fail(struct fwc_errinfo *ei, size_t offset, int code, const char *fmt, ...)
{
	(void)fmt;
	if (ei != NULL) {
		ei->offset = offset;
		ei->msg[0] = '\0';
	}
	return code;
}

const char *fwc_strerror(int err)
{
	(void)err;
	return "";
}
