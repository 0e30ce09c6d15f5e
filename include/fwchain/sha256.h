/* fwchain — SHA-256 (streaming, OpenSSL EVP underneath) and BIP-340 style tagged hashes.
 *
 * Every signed object type has its own tag (see docs/formats/hashing.md), so a signature over one
 * type can never be replayed as another. */
#ifndef FWCHAIN_SHA256_H
#define FWCHAIN_SHA256_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define FWC_SHA256_LEN 32

/* Bytes of caller storage in a streaming context. Each SHA-256 backend keeps its state inside
 * (the OpenSSL backend, lib/sha256.c, only a pointer to its EVP context; the device agent's
 * backend, agent/core/crypto.c, its port's hash state and port pointer), so one header serves
 * every build. A build with a larger backend state defines it higher; 160 holds a software
 * SHA-256 state (104 bytes) or the agent port's default 128-byte context plus a pointer. */
#ifndef FWC_SHA256_CTX_BYTES
#define FWC_SHA256_CTX_BYTES 160
#endif

/* Streaming context. Caller storage, opaque: only the backend reads it. Whatever the backend
 * holds on behalf of the context (the OpenSSL backend's EVP state) is released by
 * fwc_sha256_cleanup(). */
struct fwc_sha256 {
	union {
		void *evp;
		uint64_t align;
		unsigned char raw[FWC_SHA256_CTX_BYTES];
	} u;
};

/* Start a hash. Returns FWC_OK or FWC_ERR_NOMEM/FWC_ERR_CRYPTO (ctx then needs no cleanup). */
int fwc_sha256_init(struct fwc_sha256 *ctx);
/* Absorb len bytes (data may be NULL when len is 0). */
int fwc_sha256_update(struct fwc_sha256 *ctx, const void *data, size_t len);
/* Write the digest to out and reset the context so it can hash a new message. */
int fwc_sha256_final(struct fwc_sha256 *ctx, uint8_t out[FWC_SHA256_LEN]);
/* Release the context; safe on a context whose init failed or that was already cleaned up. */
void fwc_sha256_cleanup(struct fwc_sha256 *ctx);

/* One-shot SHA-256 of data[0..len). out is written only on success. */
int fwc_sha256(uint8_t out[FWC_SHA256_LEN], const void *data, size_t len);

/* BIP-340 tagged hash: SHA256(SHA256(tag) || SHA256(tag) || msg). tag is NUL-terminated. */
int fwc_tagged_hash(uint8_t out[FWC_SHA256_LEN], const char *tag, const void *msg, size_t len);

/* Tags used by fwchain. One per signed object type; never reuse one for another purpose. */
#define FWC_TAG_MANIFEST "fwchain/manifest/v1"
#define FWC_TAG_TX "fwchain/tx/v1"
#define FWC_TAG_KEYID "fwchain/keyid/v1"
#define FWC_TAG_EVENT "fwchain/event/v1"
#define FWC_TAG_KEYSTORE "fwchain/keystore/v1"
#define FWC_TAG_REQUEST "fwchain/request/v1"

#ifdef __cplusplus
}
#endif
#endif
