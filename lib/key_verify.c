/* The library's signature-verification backend: BIP-340 through libsecp256k1, Ed25519 through
 * libsodium.
 *
 * Verification uses libsecp256k1's static context (no allocation, no shared mutable state).
 * The device agent replaces this file with agent/core/crypto.c, which asks its port.
 *
 * Main design choice: a BIP-340 public key arrives as 32 bytes (an x coordinate) and must be
 * lifted to a curve point (a square root, about 12 % of a verification) before any check.
 * A node checks the same keys again and again (a device's every event, a release key set's
 * every release; fwc_tx_decode checks the sender key and fwc_tx_verify then uses it), so each
 * thread keeps the points of the last keys it lifted: a direct-mapped table of KEYCACHE_SLOTS
 * entries, allocated on the thread's first BIP-340 key and freed when the thread exits. A hit
 * compares all 32 bytes, so it returns exactly what secp256k1_xonly_pubkey_parse would; only
 * keys that parsed are kept; a colliding key merely evicts another. No lock: the table is the
 * thread's own. Without memory for the table every call parses, as before. */
#include "fwchain/key.h"

#include <pthread.h>
#include <secp256k1.h>
#include <secp256k1_extrakeys.h>
#include <secp256k1_schnorrsig.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define KEYCACHE_SLOTS 1024 /* power of two; about 100 KiB a thread */

struct keycache_slot {
	uint8_t key[FWC_PUBKEY_LEN];
	uint8_t used;
	secp256k1_xonly_pubkey xpk;
};

static pthread_key_t keycache_key;
static pthread_once_t keycache_once = PTHREAD_ONCE_INIT;
static int keycache_ok;
static _Thread_local struct keycache_slot *keycache;

static void keycache_init(void)
{
	keycache_ok = pthread_key_create(&keycache_key, free) == 0;
}

static struct keycache_slot *keycache_slot(const uint8_t key[FWC_PUBKEY_LEN])
{
	uint32_t h;

	if (keycache == NULL) {
		if (pthread_once(&keycache_once, keycache_init) != 0 || !keycache_ok)
			return NULL;
		keycache = calloc(KEYCACHE_SLOTS, sizeof(*keycache));
		if (keycache == NULL)
			return NULL;
		if (pthread_setspecific(keycache_key, keycache) != 0) {
			free(keycache);
			keycache = NULL;
			return NULL;
		}
	}
	/* An x coordinate's bytes are already uniform; a crafted collision only evicts. */
	memcpy(&h, key, sizeof(h));
	return &keycache[h & (KEYCACHE_SLOTS - 1)];
}

/* The point of a BIP-340 key: 1 and *xpk set, or 0 when the bytes are not on the curve. */
static int xonly_get(secp256k1_xonly_pubkey *xpk, const uint8_t key[FWC_PUBKEY_LEN])
{
	struct keycache_slot *s = keycache_slot(key);

	if (s != NULL && s->used && memcmp(s->key, key, FWC_PUBKEY_LEN) == 0) {
		*xpk = s->xpk;
		return 1;
	}
	if (!secp256k1_xonly_pubkey_parse(secp256k1_context_static, xpk, key))
		return 0;
	if (s != NULL) {
		memcpy(s->key, key, FWC_PUBKEY_LEN);
		s->xpk = *xpk;
		s->used = 1;
	}
	return 1;
}

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
		if (!xonly_get(&xpk, pk->key))
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
		return xonly_get(&xpk, pk->key) ? FWC_OK : FWC_ERR_KEY;
	case FWC_ALG_ED25519:
		if (init_sodium() < 0)
			return FWC_ERR_CRYPTO;
		return crypto_core_ed25519_is_valid_point(pk->key) ? FWC_OK : FWC_ERR_KEY;
	default:
		return FWC_ERR_KEY;
	}
}
