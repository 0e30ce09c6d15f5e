/* fwagent — the device's check chain over a proof bundle (DESIGN §2), as a pure function.
 *
 * fwc_agent_verify_bundle() takes the bytes a node answered, the trust anchors the device was
 * provisioned with, the device's identity and what its record says (newest accepted
 * checkpoint, release-counter floor), and either returns FWC_AGENT_VERIFIED with the verified
 * offer, or refuses with one reason from the fixed enum below. It trusts nothing in the bundle
 * that it has not checked: the checkpoint's cosignatures against the provisioned validators,
 * its freshness, every inclusion proof, the chain of key-set statements from the provisioned
 * root keys, the release transaction and the manifest's release-key threshold, and the
 * manifest's fields against the device. Steps and their reasons: docs/agent.md,
 * "Verification chain".
 *
 * No heap: the caller provides the work area (struct fwc_agent_verify_work, kept in the agent
 * context). Every struct the result points to is copied out, so the bundle buffer may be reused
 * once the call returns. */
#ifndef FWAGENT_VERIFY_H
#define FWAGENT_VERIFY_H

#include <stddef.h>
#include <stdint.h>

#include "fwagent/config.h"
#include "fwagent/record.h"
#include "fwchain/keyset.h"
#include "fwchain/note.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The result of a successful verification: a distinct non-zero value (never 0 or 1, never a
 * refusal reason), compared twice before the agent acts on it. */
#define FWC_AGENT_VERIFIED 0x4B1DC3E5

/* Why a bundle (or a check-in answer) was refused. Values are stable: they go into the record's
 * event queue and the device events sent to the ledger. */
enum fwc_agent_refusal {
	FWC_AGENT_REFUSE_NONE = 0,
	FWC_AGENT_REFUSE_MALFORMED = 1,       /* the answer, bundle or checkpoint does not decode */
	FWC_AGENT_REFUSE_ORIGIN = 2,          /* the checkpoint is of another chain */
	FWC_AGENT_REFUSE_BAD_COSIGNATURE = 3, /* a trusted validator's cosignature is invalid */
	FWC_AGENT_REFUSE_QUORUM = 4,          /* fewer valid validator cosignatures than quorum */
	FWC_AGENT_REFUSE_STALE_CHECKPOINT = 5,   /* older than the newest accepted checkpoint */
	FWC_AGENT_REFUSE_FORK = 6,               /* accepted size, another tree: a split view */
	FWC_AGENT_REFUSE_CHECKPOINT_TOO_OLD = 7, /* older than the maximum age by the clock */
	FWC_AGENT_REFUSE_INCLUSION = 8,          /* an inclusion proof does not lead to the root */
	FWC_AGENT_REFUSE_BAD_TX = 9, /* a transaction malformed, or of another chain or type */
	FWC_AGENT_REFUSE_BAD_TX_SIGNATURE = 10, /* a transaction's envelope signature is invalid */
	FWC_AGENT_REFUSE_KEYSET = 11,           /* no release key set chained from the root keys */
	FWC_AGENT_REFUSE_UNKNOWN_KEY = 12,      /* below threshold; a signer is not in the set */
	FWC_AGENT_REFUSE_BELOW_THRESHOLD = 13,  /* below threshold (a key counts once) */
	FWC_AGENT_REFUSE_REVOKED_KEY = 14,      /* below threshold; a signer is revoked */
	FWC_AGENT_REFUSE_BAD_SIGNATURE = 15, /* below threshold; a set key's signature is invalid */
	FWC_AGENT_REFUSE_WRONG_PRODUCT = 16, /* the manifest is for another product */
	FWC_AGENT_REFUSE_WRONG_HARDWARE = 17, /* the manifest does not list the device's hw id */
	FWC_AGENT_REFUSE_WRONG_CHANNEL = 18,  /* the manifest is for another channel */
	FWC_AGENT_REFUSE_ROLLBACK = 19,       /* counter not above the device's floor */
	FWC_AGENT_REFUSE_SIZE_EXCEEDED = 20,  /* signed size above what the device can hold */
	FWC_AGENT_REFUSE_CONTENT = 21,   /* a CID or DAG the agent cannot check chunk by chunk */
	FWC_AGENT_REFUSE_ENCRYPTED = 22, /* the image needs a decryption key the agent lacks */
	FWC_AGENT_REFUSE_LICENCE = 23,   /* the manifest requires a licence */
	FWC_AGENT_REFUSE_NOT_YET = 24,   /* rollout "not before" lies in the future */
	FWC_AGENT_REFUSE_COUNT = 25
};

/* Static name of a reason ("quorum", "rollback", ...), "?" when unknown. */
const char *fwc_agent_refusal_name(int reason);

/* What manufacturing provisions: the trust anchors. The pointed-to data must outlive every
 * context that uses it (on an MCU: constants in flash). */
struct fwc_agent_trust {
	const char *chain_id; /* the chain id: checkpoint origin and transaction chain id */
	size_t chain_id_len;
	const struct fwc_note_vkey *validators; /* C2SP verifier keys of the validators */
	size_t n_validators;                    /* 1..FWC_AGENT_MAX_VALIDATORS */
	size_t quorum;                          /* distinct valid cosignatures required */
	uint64_t max_age; /* seconds a checkpoint may be old by the device clock; 0: no limit */
	const struct fwc_keyset *root; /* the product's root key set, or NULL (see release) */
	uint64_t root_version;         /* its version (1: the set given at product registration) */
	const struct fwc_keyset *release; /* optional: a release key set known at provisioning
	                                     (a trust file may name one). Any release-set
	                                     statement a bundle proves replaces it; without a
	                                     root set it is the only one (statements cannot be
	                                     authenticated and are ignored). One of root and
	                                     release is required. */
};

/* Who the device is. Pointers into provisioned constants; not NUL-terminated. */
struct fwc_agent_identity {
	const char *product; /* product id */
	size_t product_len;
	const char *hwid; /* hardware id */
	size_t hwid_len;
	const char *channel; /* release channel ("stable") */
	size_t channel_len;
};

/* What the device's record and situation add to a verification. */
struct fwc_agent_verify_in {
	const struct fwc_agent_trust *trust;
	const struct fwc_agent_identity *id;
	struct fwc_agent_checkpoint accepted; /* newest accepted checkpoint (all zero: none yet) */
	uint64_t floor;                       /* release-counter floor */
	uint64_t max_size;                    /* largest image the device takes (slot size) */
	uint8_t have_clock;                   /* 1: now is the device's wall-clock time */
	uint64_t now;                         /* Unix seconds */
};

/* A verified release, copied out of the bundle. */
struct fwc_agent_verified {
	uint64_t counter;       /* release counter (> floor) */
	uint64_t size;          /* signed image size (<= max_size) */
	uint8_t sha256[32];     /* signed SHA-256 of the flat image */
	uint8_t release_id[32]; /* the manifest digest (what the release keys signed) */
	uint8_t cid_len;        /* 34 (CIDv0) or 36 (CIDv1) */
	uint8_t cid[36];        /* binary CID of the image, as signed */
	uint8_t has_licence;    /* the manifest requires a licence */
	uint8_t has_encryption; /* the image is encrypted */
	uint8_t has_not_before; /* rollout: do not install before not_before */
	uint64_t not_before;    /* Unix seconds */
	struct fwc_agent_checkpoint checkpoint; /* the checkpoint it was proven under */
};

/* The caller-provided work area: the decoded structures of one verification. Opaque; its size
 * is fixed at compile time (checked against the core's structures by a static assertion). */
#ifndef FWC_AGENT_VERIFY_WORK_SIZE
#define FWC_AGENT_VERIFY_WORK_SIZE (sizeof(void *) == 8 ? 6144 : 4608)
#endif
struct fwc_agent_verify_work {
	union {
		uint64_t align_u64;
		void *align_ptr;
		uint8_t bytes[FWC_AGENT_VERIFY_WORK_SIZE];
	} u;
};

/* Check the proof bundle buf[0..len) (docs/formats/bundle.md) completely, in the order of
 * docs/agent.md. The library code it runs hashes and verifies through the port bound with the
 * core's crypto binding (the agent binds its port; a direct caller binds with
 * fwc_agent_verify_bind()).
 *   w      work area (contents undefined afterwards)
 *   out    the verified release, written only when FWC_AGENT_VERIFIED is returned
 *   err    optional: the enum fwc_err code behind a refusal (FWC_OK on success)
 * Returns FWC_AGENT_VERIFIED, or the enum fwc_agent_refusal reason of the first check that
 * failed (never 0). Arguments the caller got wrong (NULL, a trust without keys) are refused as
 * FWC_AGENT_REFUSE_MALFORMED with *err = FWC_ERR_ARG. */
int fwc_agent_verify_bundle(struct fwc_agent_verify_work *w, struct fwc_agent_verified *out,
                            int *err, const uint8_t *buf, size_t len,
                            const struct fwc_agent_verify_in *in);

/* Check a checkpoint note on its own (a "no update" answer): parse, origin, cosignature quorum,
 * freshness against in->accepted and the maximum age, as in fwc_agent_verify_bundle.
 * cp gets size, time and hash on FWC_AGENT_VERIFIED. Same return convention. */
int fwc_agent_verify_checkpoint(struct fwc_agent_verify_work *w, struct fwc_agent_checkpoint *cp,
                                int *err, const char *note, size_t len,
                                const struct fwc_agent_verify_in *in);

/* Bind port for the hashing and signature checks of the library code the core runs (see
 * agent/core/crypto.c); the agent does it itself at each step. For callers of the two functions
 * above outside a step (tests, tools). Returns the previously bound port. */
struct fwc_port *fwc_agent_verify_bind(struct fwc_port *port);

#ifdef __cplusplus
}
#endif
#endif
