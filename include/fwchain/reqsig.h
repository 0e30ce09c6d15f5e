/* fwchain — request signatures: how a member of the ledger authorises an HTTP request to a
 * node (uploads, pins, garbage collection) without API tokens. The request carries the
 * signer's public key, a timestamp, the SHA-256 of its body and a signature over a tagged hash
 * of those and of the chain id, method and request target. Byte-exact format and a worked
 * example: docs/formats/content-auth.md. */
#ifndef FWCHAIN_REQSIG_H
#define FWCHAIN_REQSIG_H

#include <stddef.h>
#include <stdint.h>

#include "fwchain/err.h"
#include "fwchain/key.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The four request headers. */
#define FWC_REQSIG_HDR_KEY "X-Fwchain-Key"               /* "bip340:<hex>" or "ed25519:<hex>" */
#define FWC_REQSIG_HDR_TIME "X-Fwchain-Time"             /* Unix seconds, decimal */
#define FWC_REQSIG_HDR_SHA256 "X-Fwchain-Content-Sha256" /* 64 lowercase hex digits */
#define FWC_REQSIG_HDR_SIG "X-Fwchain-Signature"         /* 128 lowercase hex digits */

/* A node refuses a timestamp further than this from its clock (seconds). */
#define FWC_REQSIG_MAX_SKEW 300

/* Longest field accepted in the signed message (chain id, method, target). */
#define FWC_REQSIG_FIELD_MAX 4096

/* The digest a request signature signs:
 *   tagged_hash("fwchain/request/v1",
 *               chain_id LF method LF target LF decimal(time) LF hex(body_sha256))
 * with target the request target exactly as sent (path and query, not decoded). Fields must be
 * non-empty printable ASCII (0x21..0x7e; the method and chain id without spaces) of at most
 * FWC_REQSIG_FIELD_MAX bytes, time >= 0. Returns FWC_OK, FWC_ERR_MALFORMED (a field that breaks
 * the rule, named in ei), FWC_ERR_ARG; out written only on success. */
int fwc_reqsig_digest(uint8_t out[32], const char *chain_id, const char *method, const char *target,
                      int64_t time, const uint8_t body_sha256[32], struct fwc_errinfo *ei);

/* Sign / verify the digest: fwc_sign / fwc_verify over its 32 bytes. */
int fwc_reqsig_sign(uint8_t sig[FWC_SIG_LEN], const struct fwc_seckey *sk,
                    const uint8_t digest[32]);
int fwc_reqsig_verify(const struct fwc_pubkey *pk, const uint8_t sig[FWC_SIG_LEN],
                      const uint8_t digest[32]);

#ifdef __cplusplus
}
#endif
#endif
