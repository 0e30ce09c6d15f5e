/* The device's check chain over a proof bundle (DESIGN §2; docs/agent.md, "Verification
 * chain"): checkpoint, cosignature quorum, freshness, inclusion proofs, key-set statements from
 * the provisioned root keys, the release transaction, the manifest's release-key threshold and
 * its fields against the device.
 *
 * Main design choice: parsing and the cryptographic building blocks are the library's own code
 * (bundle, note, merkle, tx, payload, keyset and manifest decoders, compiled into the core
 * unchanged), while every decision is made here, in one function, in a fixed order, with the
 * first failing check naming the refusal. Decisions that let an image through — quorum,
 * freshness, inclusion, thresholds, the floor — are computed into distinct non-zero values and
 * checked twice (REQUIRE), and the release-key threshold counts keys with the port's hardened
 * signature answer itself, so that one skipped or glitched instruction cannot turn a refusal
 * into an acceptance (mcuboot's fault-injection hardening). */
#include "fwagent/verify.h"

#include <string.h>

#include "crypto.h"
#include "fwchain/bundle.h"
#include "fwchain/cid.h"
#include "fwchain/manifest.h"
#include "fwchain/merkle.h"
#include "fwchain/payload.h"
#include "fwchain/tx.h"
#include "util.h"

/* The decoded structures of one verification, in the caller's work area. */
struct work {
	struct fwc_bundle b;
	struct fwc_note note;
	struct fwc_checkpoint cp;
	struct fwc_note_check signers[FWC_AGENT_MAX_VALIDATORS];
	struct fwc_signed_tx stx;
	struct fwc_rotation rot;
	struct fwc_signed_manifest sm;
	struct fwc_keyset root, next, release;
	struct fwc_errinfo ei;
	uint8_t leaf[32], computed[32];
	uint64_t cp_time;
};

FWC_STATIC_ASSERT(work_fits, sizeof(struct work) <= sizeof(struct fwc_agent_verify_work));
FWC_STATIC_ASSERT(validators_bound, FWC_AGENT_MAX_VALIDATORS >= 1 &&
                                        FWC_AGENT_MAX_VALIDATORS <= FWC_NOTE_MAX_VERIFIERS);
FWC_STATIC_ASSERT(cid_room, FWC_MANIFEST_CID_MAX <= 36);

static const char *const refusal_names[FWC_AGENT_REFUSE_COUNT] = {
    "none",
    "malformed",
    "origin",
    "bad_cosignature",
    "quorum",
    "stale_checkpoint",
    "fork",
    "checkpoint_too_old",
    "inclusion",
    "bad_tx",
    "bad_tx_signature",
    "keyset",
    "unknown_key",
    "below_threshold",
    "revoked_key",
    "bad_signature",
    "wrong_product",
    "wrong_hardware",
    "wrong_channel",
    "rollback",
    "size_exceeded",
    "content",
    "encrypted",
    "licence",
    "not_yet",
};

const char *fwc_agent_refusal_name(int reason)
{
	if (reason < 0 || reason >= FWC_AGENT_REFUSE_COUNT)
		return "?";
	return refusal_names[reason];
}

struct fwc_port *fwc_agent_verify_bind(struct fwc_port *port)
{
	return fwc_agent_crypto_bind(port);
}

/* Refuse with reason, recording the library error behind it. */
static int refuse(int *err, int reason, int code)
{
	if (err != NULL)
		*err = code < 0 ? code : FWC_ERR_STATE;
	return reason;
}

/* Check a security condition twice (volatile operands make the compiler evaluate both), so a
 * single skipped branch cannot let a failed check through. */
#define REQUIRE(cond, reason, code)                                                                \
	do {                                                                                       \
		if (!(cond))                                                                       \
			return refuse(err, (reason), (code));                                      \
		if (!(cond))                                                                       \
			return refuse(err, (reason), (code));                                      \
	} while (0)

static int str_eq(const char *a, size_t al, const char *b, size_t bl)
{
	return al == bl && (al == 0 || memcmp(a, b, al) == 0);
}

/* ---- checkpoint --------------------------------------------------------------------------- */

/* The time a quorum vouches for: the quorum-th newest timestamp among the valid cosignatures
 * of trusted validators (as `fwchain proof verify` computes freshness), so one validator with a
 * fast clock cannot make a checkpoint look fresh. */
static uint64_t quorum_time(const struct work *w, const struct fwc_agent_trust *t)
{
	uint64_t best = 0;

	for (size_t i = 0; i < t->n_validators; i++) {
		size_t newer = 0;

		if (!w->signers[i].valid)
			continue;
		for (size_t j = 0; j < t->n_validators; j++)
			if (w->signers[j].valid &&
			    (w->signers[j].timestamp > w->signers[i].timestamp ||
			     (w->signers[j].timestamp == w->signers[i].timestamp && j < i)))
				newer++;
		if (newer == t->quorum - 1)
			best = w->signers[i].timestamp;
	}
	return best;
}

static int trust_ok(const struct fwc_agent_verify_in *in)
{
	const struct fwc_agent_trust *t;

	if (in == NULL || in->trust == NULL || in->id == NULL)
		return 0;
	t = in->trust;
	return t->chain_id != NULL && t->chain_id_len > 0 && t->validators != NULL &&
	       t->n_validators >= 1 && t->n_validators <= FWC_AGENT_MAX_VALIDATORS &&
	       t->quorum >= 1 && t->quorum <= t->n_validators &&
	       (t->root != NULL || t->release != NULL) && in->id->product != NULL &&
	       in->id->hwid != NULL && in->id->channel != NULL && fwc_agent_crypto_port() != NULL;
}

/* Steps 1-5 of the chain on the note note[0..len): parse, origin, cosignatures and quorum,
 * freshness against the accepted checkpoint, maximum age. Fills w->note, w->cp, w->signers and
 * w->cp_time. Returns FWC_AGENT_VERIFIED or a refusal. */
static int check_checkpoint(struct work *w, int *err, const char *note, size_t len,
                            const struct fwc_agent_verify_in *in)
{
	const struct fwc_agent_trust *t = in->trust;
	const struct fwc_agent_checkpoint *acc = &in->accepted;
	volatile size_t valid = 0;
	volatile uint32_t m;
	int rc;

	if ((rc = fwc_note_parse(&w->note, note, len, &w->ei)) < 0 ||
	    (rc = fwc_checkpoint_parse(&w->cp, w->note.text, w->note.text_len, &w->ei)) < 0)
		return refuse(err, FWC_AGENT_REFUSE_MALFORMED, rc);
	if (!str_eq(w->cp.origin, w->cp.origin_len, t->chain_id, t->chain_id_len))
		return refuse(err, FWC_AGENT_REFUSE_ORIGIN, FWC_ERR_PROOF);

	/* Every line by a trusted validator is verified; one that fails refuses the note. */
	rc = fwc_note_verify(w->signers, &w->note, t->validators, t->n_validators, &w->ei);
	if (rc == FWC_ERR_BADSIG)
		return refuse(err, FWC_AGENT_REFUSE_BAD_COSIGNATURE, rc);
	if (rc < 0)
		return refuse(err, FWC_AGENT_REFUSE_MALFORMED, rc);
	for (size_t i = 0; i < t->n_validators; i++)
		valid = valid + (w->signers[i].valid ? 1u : 0u);
	REQUIRE(valid >= t->quorum, FWC_AGENT_REFUSE_QUORUM, FWC_ERR_QUORUM);
	w->cp_time = quorum_time(w, t);

	/* Freshness: never older than what the device accepted. An equal tree size must be the
	 * same tree (an idle ledger re-issues checkpoints of one size with new times). */
	if (acc->size != 0 || acc->time != 0) {
		REQUIRE(w->cp.size >= acc->size, FWC_AGENT_REFUSE_STALE_CHECKPOINT, FWC_ERR_RANGE);
		if (w->cp.size == acc->size) {
			m = fwc_ct_match(w->cp.root, acc->hash, 32);
			REQUIRE(m == FWC_AGENT_MATCH, FWC_AGENT_REFUSE_FORK, FWC_ERR_PROOF);
		}
		REQUIRE(w->cp_time >= acc->time, FWC_AGENT_REFUSE_STALE_CHECKPOINT, FWC_ERR_RANGE);
	}
	if (in->have_clock && t->max_age != 0 && in->now > w->cp_time)
		REQUIRE(in->now - w->cp_time <= t->max_age, FWC_AGENT_REFUSE_CHECKPOINT_TOO_OLD,
		        FWC_ERR_RANGE);
	return FWC_AGENT_VERIFIED;
}

static void checkpoint_out(const struct work *w, struct fwc_agent_checkpoint *cp)
{
	cp->size = w->cp.size;
	cp->time = w->cp_time;
	memcpy(cp->hash, w->cp.root, 32);
}

int fwc_agent_verify_checkpoint(struct fwc_agent_verify_work *work, struct fwc_agent_checkpoint *cp,
                                int *err, const char *note, size_t len,
                                const struct fwc_agent_verify_in *in)
{
	struct work *w = (struct work *)(void *)work->u.bytes;
	volatile int r;

	if (work == NULL || cp == NULL || note == NULL || !trust_ok(in))
		return refuse(err, FWC_AGENT_REFUSE_MALFORMED, FWC_ERR_ARG);
	memset(w, 0, sizeof(*w));
	r = check_checkpoint(w, err, note, len, in);
	if (r != FWC_AGENT_VERIFIED)
		return r;
	if (r != FWC_AGENT_VERIFIED)
		return FWC_AGENT_REFUSE_MALFORMED;
	checkpoint_out(w, cp);
	if (err != NULL)
		*err = FWC_OK;
	return FWC_AGENT_VERIFIED;
}

/* ---- inclusion ---------------------------------------------------------------------------- */

static int included(struct work *w, const struct fwc_bundle_entry *e)
{
	volatile uint32_t m;

	if (fwc_merkle_leaf_hash(w->leaf, e->tx, e->tx_len) < 0 ||
	    fwc_merkle_inclusion_root(w->computed, w->leaf, e->index, w->cp.size, e->path,
	                              e->path_len, &w->ei) < 0)
		return 0;
	m = fwc_ct_match(w->computed, w->cp.root, 32);
	if (m != FWC_AGENT_MATCH)
		return 0;
	return m == FWC_AGENT_MATCH;
}

/* ---- thresholds --------------------------------------------------------------------------- */

/* Why signatures did not count, for the refusal reason. */
struct tally {
	unsigned unknown, revoked, duplicate, bad;
};

/* The k-of-n rule of docs/formats/keyset.md over digest, counted here with the port's hardened
 * answer: each key of ks counts once, only for a signature that verifies; keys outside the set
 * and revoked keys count zero. Returns FWC_AGENT_MATCH when at least ks->threshold keys count,
 * FWC_AGENT_NOMATCH otherwise (t says why signatures did not count). */
static uint32_t threshold_met(struct tally *t, const struct fwc_keyset *ks,
                              const uint8_t digest[32], const struct fwc_keyset_sig *sigs, size_t n)
{
	struct fwc_port *port = fwc_agent_crypto_port();
	uint8_t counted[FWC_KEYSET_MAX];
	volatile size_t count = 0;

	memset(t, 0, sizeof(*t));
	memset(counted, 0, sizeof(counted));
	if (ks->n == 0 || ks->n > FWC_KEYSET_MAX || ks->threshold == 0 || ks->threshold > ks->n)
		return FWC_AGENT_NOMATCH;
	for (size_t i = 0; i < n; i++) {
		struct fwc_pubkey pk;
		volatile int v;
		int idx = -1;

		if (fwc_pubkey_from_bin(&pk, sigs[i].pubkey, FWC_PUBKEY_BIN_LEN, NULL) == FWC_OK)
			idx = fwc_keyset_find(ks, &pk);
		if (idx < 0) {
			t->unknown++;
			continue;
		}
		if (ks->revoked[idx]) {
			t->revoked++;
			continue;
		}
		if (counted[idx]) {
			t->duplicate++; /* counted once; not even verified again */
			continue;
		}
		if (pk.alg == FWC_ALG_BIP340)
			v = fwc_port_bip340_verify(port, pk.key, sigs[i].sig, digest, 32);
		else
			v = fwc_port_ed25519_verify(port, pk.key, sigs[i].sig, digest, 32);
		if (v == FWC_PORT_VALID && v == FWC_PORT_VALID) {
			counted[idx] = 1;
			count = count + 1;
		} else {
			t->bad++;
		}
	}
	if (count >= ks->threshold) {
		if (count >= ks->threshold)
			return FWC_AGENT_MATCH;
	}
	return FWC_AGENT_NOMATCH;
}

/* ---- key-set statements -------------------------------------------------------------------- */

/* Decode extra entry e as a signed transaction of this chain and of one of the two types
 * allowed (0 for any), with a valid envelope signature. Fills w->stx. Returns
 * FWC_AGENT_VERIFIED or a refusal. */
static int check_tx(struct work *w, int *err, const uint8_t *tx, size_t len,
                    const struct fwc_agent_trust *t, uint32_t type_a, uint32_t type_b)
{
	int rc;

	if ((rc = fwc_tx_decode(&w->stx, tx, len, &w->ei)) < 0)
		return refuse(err, FWC_AGENT_REFUSE_BAD_TX, rc);
	if (!str_eq(w->stx.tx.chain_id.p, w->stx.tx.chain_id.len, t->chain_id, t->chain_id_len) ||
	    (w->stx.tx.type != type_a && w->stx.tx.type != type_b))
		return refuse(err, FWC_AGENT_REFUSE_BAD_TX, FWC_ERR_MALFORMED);
	if ((rc = fwc_tx_verify(&w->stx, &w->ei)) != FWC_OK)
		return refuse(err, FWC_AGENT_REFUSE_BAD_TX_SIGNATURE, rc < 0 ? rc : FWC_ERR_BADSIG);
	return FWC_AGENT_VERIFIED;
}

/* Follow the key-set statements of the bundle's extra entries, in log order, from the
 * provisioned root set to the product's current release set (w->release; *have gets 1 when
 * there is one: a statement's, or the provisioned release set). Without a provisioned root set
 * the provisioned release set is used as it is. A root rotation must be the next root version and
 * reach the thresholds of both the current and the new root set; a release-set statement must raise
 * the release-set version and reach the current root set's threshold. Returns FWC_AGENT_VERIFIED or
 * a refusal. */
static int follow_keysets(struct work *w, int *err, int *have, const struct fwc_agent_verify_in *in)
{
	const struct fwc_agent_trust *t = in->trust;
	uint64_t root_version = t->root_version, release_version = 0;
	uint8_t digest[32];
	struct tally tl;
	volatile uint32_t m;
	int rc;

	*have = 0;
	if (t->release != NULL) {
		w->release = *t->release;
		*have = 1;
	}
	if (t->root == NULL)
		return FWC_AGENT_VERIFIED; /* nothing to authenticate statements with */
	w->root = *t->root;
	for (size_t i = 0; i < w->b.n_extra; i++) {
		const struct fwc_bundle_entry *e = &w->b.extra[i];
		struct fwc_pl_keyset_statement st;

		/* in log order, each once, all before the release */
		if ((i > 0 && e->index <= w->b.extra[i - 1].index) ||
		    e->index >= w->b.release.index)
			return refuse(err, FWC_AGENT_REFUSE_KEYSET, FWC_ERR_UNSORTED);
		rc = check_tx(w, err, e->tx, e->tx_len, t, FWC_TX_KEYSET_REGISTER,
		              FWC_TX_KEYSET_ROTATE);
		if (rc != FWC_AGENT_VERIFIED)
			return rc;
		if ((rc = fwc_pl_keyset_statement_decode(&st, w->stx.tx.payload.p,
		                                         w->stx.tx.payload.len, &w->ei)) < 0 ||
		    (rc = fwc_rotation_decode(&w->rot, st.statement.p, st.statement.len, &w->ei)) <
		        0 ||
		    (rc = fwc_keyset_decode(&w->next, w->rot.keyset.p, w->rot.keyset.len, &w->ei)) <
		        0)
			return refuse(err, FWC_AGENT_REFUSE_BAD_TX, rc);
		if (!str_eq(w->rot.product.p, w->rot.product.len, in->id->product,
		            in->id->product_len))
			return refuse(err, FWC_AGENT_REFUSE_KEYSET, FWC_ERR_MALFORMED);
		if ((rc = fwc_rotation_digest(digest, &w->rot)) < 0)
			return refuse(err, FWC_AGENT_REFUSE_KEYSET, rc);
		if (w->rot.set == FWC_ROTATE_ROOT) {
			if (w->stx.tx.type != FWC_TX_KEYSET_ROTATE ||
			    w->rot.version != root_version + 1)
				return refuse(err, FWC_AGENT_REFUSE_KEYSET, FWC_ERR_RANGE);
			m = threshold_met(&tl, &w->root, digest, w->rot.sigs, w->rot.n_sigs);
			REQUIRE(m == FWC_AGENT_MATCH, FWC_AGENT_REFUSE_KEYSET, FWC_ERR_THRESHOLD);
			/* the new root set proves its keys are held (as the ledger requires) */
			m = threshold_met(&tl, &w->next, digest, w->rot.sigs, w->rot.n_sigs);
			REQUIRE(m == FWC_AGENT_MATCH, FWC_AGENT_REFUSE_KEYSET, FWC_ERR_THRESHOLD);
			w->root = w->next;
			root_version = w->rot.version;
		} else {
			int first = w->stx.tx.type == FWC_TX_KEYSET_REGISTER;

			if (w->rot.version <= release_version || (first && w->rot.version != 1) ||
			    (!first && w->rot.version < 2))
				return refuse(err, FWC_AGENT_REFUSE_KEYSET, FWC_ERR_RANGE);
			m = threshold_met(&tl, &w->root, digest, w->rot.sigs, w->rot.n_sigs);
			REQUIRE(m == FWC_AGENT_MATCH, FWC_AGENT_REFUSE_KEYSET, FWC_ERR_THRESHOLD);
			w->release = w->next;
			release_version = w->rot.version;
			*have = 1;
		}
	}
	return FWC_AGENT_VERIFIED;
}

/* ---- the whole chain ------------------------------------------------------------------------ */

static int listed(const struct fwc_manifest *m, const struct fwc_agent_identity *id)
{
	for (size_t i = 0; i < m->n_hw; i++)
		if (str_eq(m->hw[i].p, m->hw[i].len, id->hwid, id->hwid_len))
			return 1;
	return 0;
}

/* The refusal for a manifest below its threshold: the most specific reason a signature did
 * not count (a revoked key, then a key outside the set, then an invalid signature), else too
 * few distinct keys. */
static int threshold_reason(const struct tally *t)
{
	if (t->revoked)
		return FWC_AGENT_REFUSE_REVOKED_KEY;
	if (t->unknown)
		return FWC_AGENT_REFUSE_UNKNOWN_KEY;
	if (t->bad)
		return FWC_AGENT_REFUSE_BAD_SIGNATURE;
	return FWC_AGENT_REFUSE_BELOW_THRESHOLD;
}

int fwc_agent_verify_bundle(struct fwc_agent_verify_work *work, struct fwc_agent_verified *out,
                            int *err, const uint8_t *buf, size_t len,
                            const struct fwc_agent_verify_in *in)
{
	struct work *w;
	const struct fwc_manifest *m;
	struct fwc_pl_release rel;
	struct fwc_cid cid;
	struct tally tl;
	uint8_t release_id[32];
	volatile uint32_t ok;
	volatile int r;
	int rc, have_release = 0;

	if (work == NULL || out == NULL || buf == NULL || !trust_ok(in))
		return refuse(err, FWC_AGENT_REFUSE_MALFORMED, FWC_ERR_ARG);
	w = (struct work *)(void *)work->u.bytes;
	memset(w, 0, sizeof(*w));

	if ((rc = fwc_bundle_decode(&w->b, buf, len, &w->ei)) < 0)
		return refuse(err, FWC_AGENT_REFUSE_MALFORMED, rc);
	r = check_checkpoint(w, err, w->b.checkpoint, w->b.checkpoint_len, in);
	if (r != FWC_AGENT_VERIFIED)
		return r;
	REQUIRE(r == FWC_AGENT_VERIFIED, FWC_AGENT_REFUSE_MALFORMED, FWC_ERR_STATE);

	/* Inclusion of the release and of every extra entry under the checkpoint's root. */
	REQUIRE(w->b.size == w->cp.size, FWC_AGENT_REFUSE_INCLUSION, FWC_ERR_PROOF);
	ok = (uint32_t)included(w, &w->b.release);
	REQUIRE(ok == 1, FWC_AGENT_REFUSE_INCLUSION, FWC_ERR_PROOF);
	for (size_t i = 0; i < w->b.n_extra; i++) {
		ok = (uint32_t)included(w, &w->b.extra[i]);
		REQUIRE(ok == 1, FWC_AGENT_REFUSE_INCLUSION, FWC_ERR_PROOF);
	}

	/* The product's release key set, chained from the provisioned root keys. */
	r = follow_keysets(w, err, &have_release, in);
	if (r != FWC_AGENT_VERIFIED)
		return r;
	REQUIRE(r == FWC_AGENT_VERIFIED, FWC_AGENT_REFUSE_KEYSET, FWC_ERR_STATE);

	/* The release transaction and its signed manifest. */
	r = check_tx(w, err, w->b.release.tx, w->b.release.tx_len, in->trust, FWC_TX_RELEASE,
	             FWC_TX_RELEASE);
	if (r != FWC_AGENT_VERIFIED)
		return r;
	if ((rc = fwc_pl_release_decode(&rel, w->stx.tx.payload.p, w->stx.tx.payload.len, &w->ei)) <
	        0 ||
	    (rc = fwc_signed_manifest_decode(&w->sm, rel.manifest.p, rel.manifest.len, &w->ei)) < 0)
		return refuse(err, FWC_AGENT_REFUSE_BAD_TX, rc);
	m = &w->sm.manifest;
	if (!have_release)
		return refuse(err, FWC_AGENT_REFUSE_KEYSET, FWC_ERR_NOT_FOUND);
	if ((rc = fwc_manifest_digest(release_id, w->sm.body, w->sm.body_len)) < 0)
		return refuse(err, FWC_AGENT_REFUSE_MALFORMED, rc);
	ok = threshold_met(&tl, &w->release, release_id, w->sm.sigs, w->sm.n_sigs);
	REQUIRE(ok == FWC_AGENT_MATCH, threshold_reason(&tl), FWC_ERR_THRESHOLD);

	/* The manifest against the device. */
	if (!str_eq(m->product.p, m->product.len, in->id->product, in->id->product_len))
		return refuse(err, FWC_AGENT_REFUSE_WRONG_PRODUCT, FWC_ERR_MALFORMED);
	if (!listed(m, in->id))
		return refuse(err, FWC_AGENT_REFUSE_WRONG_HARDWARE, FWC_ERR_NOT_FOUND);
	if (!str_eq(m->channel.p, m->channel.len, in->id->channel, in->id->channel_len))
		return refuse(err, FWC_AGENT_REFUSE_WRONG_CHANNEL, FWC_ERR_MALFORMED);
	{
		volatile uint64_t counter = m->counter;

		REQUIRE(counter > in->floor, FWC_AGENT_REFUSE_ROLLBACK, FWC_ERR_RANGE);
	}
	REQUIRE(m->size <= in->max_size, FWC_AGENT_REFUSE_SIZE_EXCEEDED, FWC_ERR_TOO_LARGE);
	if (m->cid.len > sizeof(out->cid) ||
	    (rc = fwc_cid_decode(&cid, NULL, m->cid.p, m->cid.len, &w->ei)) < 0)
		return refuse(err, FWC_AGENT_REFUSE_CONTENT, rc < 0 ? rc : FWC_ERR_MALFORMED);

	memset(out, 0, sizeof(*out));
	out->counter = m->counter;
	out->size = m->size;
	memcpy(out->sha256, m->sha256, 32);
	memcpy(out->release_id, release_id, 32);
	out->cid_len = (uint8_t)m->cid.len;
	memcpy(out->cid, m->cid.p, m->cid.len);
	out->has_licence = m->has_licence;
	out->has_encryption = m->has_encryption;
	if (m->has_rollout && m->rollout.has_not_before) {
		out->has_not_before = 1;
		out->not_before = m->rollout.not_before;
	}
	checkpoint_out(w, &out->checkpoint);
	if (err != NULL)
		*err = FWC_OK;
	return FWC_AGENT_VERIFIED;
}
