/* fwchain — proof bundles: what a device check-in returns to prove that a release transaction
 * is in the ledger's log under a checkpoint cosigned by a quorum of validators.
 * Format: docs/formats/bundle.md (CBOR on the wire; a text export shaped after C2SP tlog-proof).
 *
 * A bundle holds the release transaction bytes, its leaf index, the tree size, its inclusion
 * path, the cosigned checkpoint note, and optional extra (transaction, index, path) entries for
 * key-set rotations proven against the same checkpoint. Decoding is zero-copy and allocation
 * free: struct fwc_bundle points into the caller's buffer. */
#ifndef FWCHAIN_BUNDLE_H
#define FWCHAIN_BUNDLE_H

#include <stddef.h>
#include <stdint.h>

#include "fwchain/err.h"
#include "fwchain/merkle.h"
#include "fwchain/note.h"

#ifdef __cplusplus
extern "C" {
#endif

#define FWC_BUNDLE_VERSION 1
#define FWC_BUNDLE_MAX_TX 65536 /* bytes of one transaction */
#define FWC_BUNDLE_MAX_EXTRA 8  /* extra entries (key-set rotations) */
#define FWC_BUNDLE_MAX_PATH 64  /* hashes in one inclusion path (trees below 2^64 leaves) */
/* Bytes of a whole encoded bundle: transactions, paths, the note and CBOR overhead. */
#define FWC_BUNDLE_MAX_LEN                                                                         \
	((FWC_BUNDLE_MAX_EXTRA + 1) * (FWC_BUNDLE_MAX_TX + 64 * 32 + 64) + FWC_NOTE_MAX_LEN + 64)
/* First line of the text form (c2sp.org/tlog-proof). */
#define FWC_BUNDLE_TEXT_HEADER "c2sp.org/tlog-proof@v1"

/* One logged transaction and its inclusion path. */
struct fwc_bundle_entry {
	const uint8_t *tx;
	size_t tx_len;
	uint64_t index;
	const uint8_t (*path)[FWC_MERKLE_HASH_LEN]; /* path_len hashes, leaf sibling first */
	size_t path_len;
};

struct fwc_bundle {
	struct fwc_bundle_entry release;
	uint64_t size;          /* tree size the paths are for; must equal the checkpoint's */
	const char *checkpoint; /* the cosigned checkpoint note, verbatim */
	size_t checkpoint_len;
	size_t n_extra;
	struct fwc_bundle_entry extra[FWC_BUNDLE_MAX_EXTRA];
};

/* Encode b as canonical CBOR into out (or only measure with out == NULL, cap 0). *outlen gets
 * the size needed whether or not it fitted. FWC_ERR_BUFSIZE when out is too small; FWC_ERR_ARG,
 * FWC_ERR_TOO_LARGE when b breaks a bound (path length, sizes, extra count). */
int fwc_bundle_encode(uint8_t *out, size_t cap, size_t *outlen, const struct fwc_bundle *b);

/* Decode buf[0..len) (strict: canonical CBOR, all required fields, no unknown field, bounded
 * sizes, path a whole number of 32-byte hashes). Does not verify anything cryptographic.
 * b is written only on success and points into buf. */
int fwc_bundle_decode(struct fwc_bundle *b, const uint8_t *buf, size_t len, struct fwc_errinfo *ei);

/* Text export of one entry (0: the release, 1..n_extra: the extras) as a C2SP tlog-proof:
 * the header line, "extra <base64 tx>", "index <n>", the path hashes in base64, a blank line,
 * then the checkpoint note verbatim; a NUL follows. */
int fwc_bundle_text_export(char *out, size_t cap, size_t *outlen, const struct fwc_bundle *b,
                           size_t entry);

/* Parse a tlog-proof text into b (as its release entry, n_extra 0, size from the checkpoint).
 * The base64 transaction and path are decoded into scratch[0..scratch_cap) (FWC_ERR_BUFSIZE when
 * it is too small); the checkpoint points into text. The extra line is required here because
 * fwchain's leaf is the transaction itself. b is written only on success. */
int fwc_bundle_text_parse(struct fwc_bundle *b, uint8_t *scratch, size_t scratch_cap,
                          const char *text, size_t len, struct fwc_errinfo *ei);

/* What the verifier trusts. */
struct fwc_bundle_trust {
	const struct fwc_note_vkey *verifiers; /* the validator (and witness) keys */
	size_t n_verifiers;
	size_t quorum;      /* distinct valid signatures required, 1..n_verifiers */
	const char *origin; /* expected checkpoint origin (the chain id), or NULL for any */
	size_t origin_len;
};

#define FWC_BUNDLE_MAX_CHECKS (8 + FWC_BUNDLE_MAX_EXTRA)

/* One check of a verification, for tools to print one line each. */
struct fwc_bundle_check {
	const char *name; /* static: "checkpoint", "origin", "cosignatures", "tree size", ... */
	int rc;           /* FWC_OK, the check's error, or FWC_ERR_STATE when it could not run */
	char msg[160];    /* what was found, or why it failed */
};

struct fwc_bundle_report {
	size_t n_checks;
	struct fwc_bundle_check checks[FWC_BUNDLE_MAX_CHECKS];
	struct fwc_checkpoint cp; /* valid when the checkpoint checks passed */
	struct fwc_note_check signers[FWC_NOTE_MAX_VERIFIERS]; /* per trusted key */
	size_t n_signers;                       /* distinct trusted keys with a valid signature */
	uint8_t leaf_hash[FWC_MERKLE_HASH_LEN]; /* of the release transaction */
};

/* Verify a decoded bundle: the checkpoint note parses, its origin is the expected one, it
 * carries valid signatures from at least trust->quorum distinct trusted keys (a bad signature by
 * a trusted key fails), its tree size is the bundle's, the release transaction's leaf hash
 * SHA-256(0x00 || tx) is included at its index under the checkpoint's root, optionally that
 * leaf hash equals expected_leaf (NULL to skip), and every extra entry is included too.
 *
 * Returns FWC_OK when every check passed, otherwise the first failing check's code (and ei gets
 * its message). rep (optional) is a diagnostic report and, unlike ordinary out-params, is filled
 * on failure too: one entry per check in order, checks that could not run marked FWC_ERR_STATE.
 * Freshness (checkpoint not older than the last accepted one, maximum age) is the caller's
 * policy: rep->cp and rep->signers carry the values it needs. */
int fwc_bundle_verify(struct fwc_bundle_report *rep, const struct fwc_bundle *b,
                      const struct fwc_bundle_trust *trust,
                      const uint8_t expected_leaf[FWC_MERKLE_HASH_LEN], struct fwc_errinfo *ei);

#ifdef __cplusplus
}
#endif
#endif
