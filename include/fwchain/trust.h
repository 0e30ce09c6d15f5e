/* fwchain — trust anchors: the small text file a device or an auditor holds to check proof
 * bundles offline. It names the chain (the checkpoint origin), the validators' C2SP verifier
 * keys and the quorum of cosignatures a checkpoint needs, optionally a maximum checkpoint age,
 * and optionally, per product, the root and release key sets with their thresholds.
 * Byte-exact format: docs/formats/trust.md.
 *
 * Parsing is strict (fixed line order, single spaces, LF line ends, every value bounded and
 * checked) and allocation-free; the origin and product ids point into the caller's text, which
 * must outlive the struct. Verifier keys and key sets are parsed into the struct. */
#ifndef FWCHAIN_TRUST_H
#define FWCHAIN_TRUST_H

#include <stddef.h>
#include <stdint.h>

#include "fwchain/bundle.h"
#include "fwchain/err.h"
#include "fwchain/keyset.h"
#include "fwchain/note.h"

#ifdef __cplusplus
extern "C" {
#endif

#define FWC_TRUST_HEADER "fwchain-trust/v1"
#define FWC_TRUST_MAX_LEN 65536 /* bytes of a whole trust file */
/* Array bounds of struct fwc_trust. A device build may lower them (the struct's size depends
 * on them, so the library and its callers must agree). */
#ifndef FWC_TRUST_MAX_VALIDATORS
#define FWC_TRUST_MAX_VALIDATORS 16
#endif
#ifndef FWC_TRUST_MAX_PRODUCTS
#define FWC_TRUST_MAX_PRODUCTS 4
#endif
#define FWC_TRUST_ORIGIN_MAX 64  /* = FWC_TX_CHAIN_ID_MAX: the origin is the chain id */
#define FWC_TRUST_PRODUCT_MAX 64 /* product id bytes */
#define FWC_TRUST_MAX_AGE_MAX 0x7fffffffffffffffull

/* One product's key sets. */
struct fwc_trust_product {
	const char *id; /* [a-z0-9][a-z0-9._-]*, 1..64 bytes; points into the text */
	size_t id_len;
	uint8_t has_root, has_release; /* at least one is 1 */
	struct fwc_keyset root;        /* offline keys that sign key-set rotations */
	struct fwc_keyset release;     /* keys that sign release manifests */
};

struct fwc_trust {
	const char *origin; /* the chain id: 1..64 bytes of printable ASCII without space */
	size_t origin_len;
	size_t n_validators; /* 1..FWC_TRUST_MAX_VALIDATORS */
	struct fwc_note_vkey validators[FWC_TRUST_MAX_VALIDATORS];
	size_t quorum;    /* 1..n_validators */
	uint64_t max_age; /* seconds; 0 when the file sets no maximum age */
	size_t n_products;
	struct fwc_trust_product products[FWC_TRUST_MAX_PRODUCTS];
};

/* Parse a trust file text[0..len) (no NUL needed). Refuses, with the line number and byte
 * offset in ei: a text above FWC_TRUST_MAX_LEN (FWC_ERR_TOO_LARGE); another header
 * (FWC_ERR_UNSUPPORTED for "fwchain-trust/v<N>", FWC_ERR_MALFORMED otherwise); a line that does
 * not end in LF, has control characters, CR, a tab, a double or trailing space, or invalid UTF-8
 * (FWC_ERR_MALFORMED); an unknown keyword (FWC_ERR_UNKNOWN_FIELD); a line out of the order of
 * docs/formats/trust.md or a required line missing (FWC_ERR_MISSING_FIELD / FWC_ERR_MALFORMED);
 * a bad verifier key or public key (its parser's code); a validator name, validator key or
 * product id given twice, or a key twice in one set (FWC_ERR_DUPLICATE); a number with a sign,
 * leading zero or out of its range, too many validators, products or keys (FWC_ERR_RANGE /
 * FWC_ERR_TOO_LARGE). Comment lines (starting with '#') and empty lines are ignored.
 * t is written only on success. */
int fwc_trust_parse(struct fwc_trust *t, const char *text, size_t len, struct fwc_errinfo *ei);

/* Write the canonical text of t (the form docs/formats/trust.md shows: no comments, no empty
 * lines) and a NUL to out. *outlen (optional) gets the length without the NUL; with
 * FWC_ERR_BUFSIZE it gets the size needed (without the NUL). The output is parsed back before
 * returning, so a struct that breaks a rule gives that rule's error, its message in ei (naming
 * the line of the would-be text) and no output; key sets with a revoked key are refused
 * (FWC_ERR_ARG: a trust file lists the keys that count). */
int fwc_trust_format(char *out, size_t cap, size_t *outlen, const struct fwc_trust *t,
                     struct fwc_errinfo *ei);

/* The product with this id, or NULL. */
const struct fwc_trust_product *fwc_trust_product_find(const struct fwc_trust *t, const char *id,
                                                       size_t id_len);

/* Fill bt for fwc_bundle_verify() from t: its validators, quorum and origin. bt points into t,
 * so t must outlive it. */
void fwc_trust_bundle_trust(struct fwc_bundle_trust *bt, const struct fwc_trust *t);

/* Freshness of a checkpoint under t's maximum age. signers has t->n_validators entries, one per
 * validator of t in order (struct fwc_bundle_report.signers after fwc_bundle_verify with
 * fwc_trust_bundle_trust's trust). The checkpoint's time is the quorum-th newest timestamp of
 * the validators' valid cosignatures, so a quorum vouches that the checkpoint was current then
 * (one fast clock cannot make it look fresh); its age is now minus that time, 0 when the time
 * is ahead of now. *age (optional) gets the age on FWC_OK and FWC_ERR_STALE. Returns FWC_OK
 * (also when t sets no maximum age), FWC_ERR_STALE when the age exceeds t->max_age, or
 * FWC_ERR_QUORUM when fewer than t->quorum validators have a valid signature (plain Ed25519
 * signatures carry no time and count as time 0). */
int fwc_trust_check_fresh(uint64_t *age, const struct fwc_trust *t,
                          const struct fwc_note_check *signers, size_t n_signers, uint64_t now,
                          struct fwc_errinfo *ei);

#ifdef __cplusplus
}
#endif
#endif
