/* Tests of the device's check chain (agent/core/verify.c) as a pure function: an honest proof
 * bundle built by libfwchain (ledger.h) verifies, and each attack of the checklist — a foreign
 * or revoked or rotated-out release key, one key counted twice, too few signatures, a stale or
 * too old or forked checkpoint, too few or invalid cosignatures, an altered inclusion path, a
 * release of another product, hardware or channel, a rollback, an oversized image, a forged
 * transaction, a broken key-set chain — is refused with its own reason. The end-to-end
 * behaviour of the agent on these refusals (nothing installed, an event queued) is in
 * checkin.c. */
#include "agent_test.h"
#include "ledger.h"

static struct ledger L;
static struct fwc_port port;
static char dir[256];
static struct fwc_agent_verify_work work;

/* The device's side of a verification. */
static struct fwc_agent_verify_in input(void)
{
	struct fwc_agent_verify_in in;

	memset(&in, 0, sizeof(in));
	in.trust = &L.trust;
	in.id = &L.id;
	in.floor = 42;
	in.max_size = 1u << 20;
	return in;
}

static int verify(const uint8_t *b, size_t len, const struct fwc_agent_verify_in *in,
                  struct fwc_agent_verified *out, int *err)
{
	struct fwc_agent_verified tmp;

	return fwc_agent_verify_bundle(&work, out != NULL ? out : &tmp, err, b, len, in);
}

/* The honest ledger of most tests: leaf 0 registers the release set {K0, K1, K2} (2 of 3,
 * signed by root keys R0 and R1), leaf 1 publishes release 43 signed by K0 and K1. */
static void honest_ledger(void)
{
	const struct fwc_seckey *rel[3] = {&L.rel[0], &L.rel[1], &L.rel[2]};
	const struct fwc_seckey *roots[2] = {&L.root[0], &L.root[1]};
	const struct fwc_seckey *sig[2] = {&L.rel[0], &L.rel[1]};
	struct fwc_keyset ks;
	struct l_release r;

	ledger_free(&L);
	l_keyset(&ks, 2, rel, 3);
	ledger_keyset(&L, FWC_ROTATE_RELEASE, 1, &ks, roots, 2);
	l_release_default(&r, 43);
	ledger_release(&L, &r, sig, 2, 1);
}

/* Bundle of leaf `release` with extras, checkpoint of the whole log at L_T0 + 100 cosigned by
 * validators in mask. */
static uint8_t *bundle_of(size_t *len, uint64_t release, const uint64_t *extra, size_t n,
                          unsigned mask)
{
	char *note = ledger_checkpoint(&L, L.n, L_T0 + 100, mask);
	uint8_t *b = note != NULL ? ledger_bundle(&L, len, release, extra, n, L.n, note) : NULL;

	free(note);
	return b;
}

/* Refused with `reason` (and, when code is not 0, error code). */
#define CHECK_REFUSED(b, len, in, reason, code)                                                    \
	do {                                                                                       \
		int e_ = 0, r_ = verify((b), (len), (in), NULL, &e_);                              \
		CHECK_RC(r_, (reason));                                                            \
		if ((code) != 0)                                                                   \
			CHECK_RC(e_, (code));                                                      \
	} while (0)

static void test_honest(void)
{
	struct fwc_agent_verify_in in = input();
	struct fwc_agent_verified v;
	uint64_t extra = 0;
	uint8_t root[32];
	size_t len = 0;
	uint8_t *b;
	int err = -1;

	honest_ledger();
	b = bundle_of(&len, 1, &extra, 1, 0x3);
	CHECK(b != NULL);
	CHECK_RC(verify(b, len, &in, &v, &err), FWC_AGENT_VERIFIED);
	CHECK_RC(err, FWC_OK);
	CHECK(v.counter == 43 && v.size == 100000);
	CHECK(v.sha256[0] == 0x5a && v.sha256[31] == 0x5a);
	CHECK(v.cid_len == 36 && v.cid[0] == 1 && v.cid[1] == 0x55 && v.cid[35] == 0xc1);
	CHECK(!v.has_licence && !v.has_encryption && !v.has_not_before);
	/* the checkpoint: the log's size and root, and the time a quorum vouched for */
	ledger_root(&L, root, 2);
	CHECK(v.checkpoint.size == 2 && v.checkpoint.time == L_T0 + 100);
	CHECK_MEM(v.checkpoint.hash, root, 32);
	/* the release id is the manifest digest the keys signed; recompute it independently */
	{
		struct fwc_signed_tx stx;
		struct fwc_pl_release pl;
		struct fwc_signed_manifest sm;
		uint8_t d[32];

		CHECK_RC(fwc_tx_decode(&stx, L.tx[1], L.tx_len[1], NULL), FWC_OK);
		CHECK_RC(fwc_pl_release_decode(&pl, stx.tx.payload.p, stx.tx.payload.len, NULL),
		         FWC_OK);
		CHECK_RC(fwc_signed_manifest_decode(&sm, pl.manifest.p, pl.manifest.len, NULL),
		         FWC_OK);
		CHECK_RC(fwc_manifest_digest(d, sm.body, sm.body_len), FWC_OK);
		CHECK_MEM(v.release_id, d, 32);
	}
	/* all three validators, or a third unknown cosigner: still fine */
	free(b);
	b = bundle_of(&len, 1, &extra, 1, 0xF);
	CHECK_RC(verify(b, len, &in, NULL, NULL), FWC_AGENT_VERIFIED);
	/* truncated bytes are malformed, never read past */
	CHECK_REFUSED(b, len - 1, &in, FWC_AGENT_REFUSE_MALFORMED, 0);
	CHECK_REFUSED(b, 0, &in, FWC_AGENT_REFUSE_MALFORMED, 0);
	free(b);
	CHECK(strcmp(fwc_agent_refusal_name(FWC_AGENT_REFUSE_QUORUM), "quorum") == 0);
	CHECK(strcmp(fwc_agent_refusal_name(FWC_AGENT_REFUSE_NOT_YET), "not_yet") == 0);
	CHECK(strcmp(fwc_agent_refusal_name(99), "?") == 0);
}

/* Release-key attacks against the set {K0, K1, K2}, 2 of 3. */
static void test_release_keys(void)
{
	const struct fwc_seckey *rel[3] = {&L.rel[0], &L.rel[1], &L.rel[2]};
	const struct fwc_seckey *roots[2] = {&L.root[0], &L.root[1]};
	struct fwc_agent_verify_in in = input();
	struct fwc_keyset ks;
	struct l_release r;
	uint64_t extra = 0;
	size_t len = 0;
	uint8_t *b;
	struct {
		const char *what;
		const struct fwc_seckey *s[3];
		size_t n;
		int sort, reason, code;
	} cases[] = {
	    {"unknown keys only", {&L.rel[3], &L.rel[4]}, 2, 1, FWC_AGENT_REFUSE_UNKNOWN_KEY, 0},
	    {"one set key and one unknown",
	     {&L.rel[0], &L.other},
	     2,
	     1,
	     FWC_AGENT_REFUSE_UNKNOWN_KEY,
	     0},
	    {"one of two", {&L.rel[2]}, 1, 1, FWC_AGENT_REFUSE_BELOW_THRESHOLD, 0},
	    {"no signature", {NULL}, 0, 1, FWC_AGENT_REFUSE_BELOW_THRESHOLD, 0},
	    /* one key twice cannot even be written: signatures are sorted strictly by key */
	    {"K0 twice", {&L.rel[0], &L.rel[0]}, 2, 0, FWC_AGENT_REFUSE_BAD_TX, FWC_ERR_DUPLICATE},
	    {"unsorted", {&L.rel[0], &L.rel[1]}, 2, -1, FWC_AGENT_REFUSE_BAD_TX, FWC_ERR_UNSORTED},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct fwc_seckey *s[3] = {cases[i].s[0], cases[i].s[1], cases[i].s[2]};

		ledger_free(&L);
		l_keyset(&ks, 2, rel, 3);
		ledger_keyset(&L, FWC_ROTATE_RELEASE, 1, &ks, roots, 2);
		l_release_default(&r, 43);
		if (cases[i].sort < 0) { /* the two in the wrong order */
			l_sort_signers(s, 2);
			s[2] = s[0];
			s[0] = s[1];
			s[1] = s[2];
		}
		ledger_release(&L, &r, s, cases[i].n, cases[i].sort > 0);
		b = bundle_of(&len, 1, &extra, 1, 0x3);
		CHECK(b != NULL);
		CHECK_REFUSED(b, len, &in, cases[i].reason, cases[i].code);
		if (verify(b, len, &in, NULL, NULL) != cases[i].reason)
			fprintf(stderr, "  case: %s\n", cases[i].what);
		free(b);
	}

	/* A bad signature by a set key: one byte of K1's signature changed. */
	{
		const struct fwc_seckey *s[2] = {&L.rel[0], &L.rel[1]};
		uint8_t pl[FWC_TX_PAYLOAD_MAX], tx[FWC_TX_MAX];
		size_t pn, tn;

		ledger_free(&L);
		l_keyset(&ks, 2, rel, 3);
		ledger_keyset(&L, FWC_ROTATE_RELEASE, 1, &ks, roots, 2);
		l_release_default(&r, 43);
		l_sort_signers(s, 2);
		pn = ledger_release_payload(pl, sizeof(pl), &r, s, 2);
		pl[pn - 1] ^= 0x01; /* the last byte is the last signature's */
		tn = ledger_make_tx(&L, tx, FWC_TX_RELEASE, pl, pn, NULL, NULL);
		ledger_append(&L, tx, tn);
		b = bundle_of(&len, 1, &extra, 1, 0x3);
		CHECK_REFUSED(b, len, &in, FWC_AGENT_REFUSE_BAD_SIGNATURE, FWC_ERR_THRESHOLD);
		free(b);
	}
}

/* A release key revoked by a later release-set statement, and one rotated out of the set. */
static void test_revoked_and_rotated(void)
{
	const struct fwc_seckey *rel[3] = {&L.rel[0], &L.rel[1], &L.rel[2]};
	const struct fwc_seckey *rel2[3] = {&L.rel[1], &L.rel[2], &L.rel[3]};
	const struct fwc_seckey *roots[2] = {&L.root[0], &L.root[2]};
	struct fwc_agent_verify_in in = input();
	struct fwc_keyset ks;
	struct l_release r;
	uint64_t extra[2] = {0, 1};
	size_t len = 0;
	uint8_t *b;
	int idx;

	/* v1 {K0, K1, K2}; v2 the same keys with K0 marked revoked; release signed by K0, K1 */
	{
		const struct fwc_seckey *s[2] = {&L.rel[0], &L.rel[1]};
		struct fwc_pubkey k0 = l_pub(&L.rel[0]);

		ledger_free(&L);
		l_keyset(&ks, 2, rel, 3);
		ledger_keyset(&L, FWC_ROTATE_RELEASE, 1, &ks, roots, 2);
		idx = fwc_keyset_find(&ks, &k0);
		CHECK(idx >= 0);
		ks.revoked[idx] = 1;
		ledger_keyset(&L, FWC_ROTATE_RELEASE, 2, &ks, roots, 2);
		l_release_default(&r, 43);
		ledger_release(&L, &r, s, 2, 1);
		b = bundle_of(&len, 2, extra, 2, 0x3);
		CHECK_REFUSED(b, len, &in, FWC_AGENT_REFUSE_REVOKED_KEY, FWC_ERR_THRESHOLD);
		free(b);
		/* without the revoking statement the same release verifies (what the ledger
		 * does not prove yet: docs/agent.md, "Limits") */
		b = bundle_of(&len, 2, extra, 1, 0x3);
		CHECK_RC(verify(b, len, &in, NULL, NULL), FWC_AGENT_VERIFIED);
		free(b);
		/* K1 and K2 still make the threshold under v2 */
		{
			const struct fwc_seckey *s2[2] = {&L.rel[1], &L.rel[2]};

			ledger_release(&L, &r, s2, 2, 1);
			b = bundle_of(&len, 3, extra, 2, 0x3);
			CHECK_RC(verify(b, len, &in, NULL, NULL), FWC_AGENT_VERIFIED);
			free(b);
		}
	}
	/* v2 = {K1, K2, K3}: K0 rotated out; a release signed by K0 and K1 counts K1 only */
	{
		const struct fwc_seckey *s[2] = {&L.rel[0], &L.rel[1]};

		ledger_free(&L);
		l_keyset(&ks, 2, rel, 3);
		ledger_keyset(&L, FWC_ROTATE_RELEASE, 1, &ks, roots, 2);
		l_keyset(&ks, 2, rel2, 3);
		ledger_keyset(&L, FWC_ROTATE_RELEASE, 2, &ks, roots, 2);
		l_release_default(&r, 43);
		ledger_release(&L, &r, s, 2, 1);
		b = bundle_of(&len, 2, extra, 2, 0x3);
		CHECK_REFUSED(b, len, &in, FWC_AGENT_REFUSE_UNKNOWN_KEY, FWC_ERR_THRESHOLD);
		free(b);
	}
}

/* The key-set chain: statements must come from the (current) root keys, in log order. */
static void test_keyset_chain(void)
{
	const struct fwc_seckey *rel[3] = {&L.rel[0], &L.rel[1], &L.rel[2]};
	const struct fwc_seckey *roots[2] = {&L.root[0], &L.root[1]};
	const struct fwc_seckey *one_root[1] = {&L.root[0]};
	const struct fwc_seckey *fake[2] = {&L.rel[3], &L.other};
	const struct fwc_seckey *s[2] = {&L.rel[0], &L.rel[1]};
	struct fwc_agent_verify_in in = input();
	struct fwc_keyset ks, newroot;
	struct l_release r;
	uint64_t extra[3] = {0, 1, 2};
	size_t len = 0;
	uint8_t *b;

	l_keyset(&ks, 2, rel, 3);
	l_release_default(&r, 43);

	/* no release-set statement in the bundle */
	honest_ledger();
	b = bundle_of(&len, 1, NULL, 0, 0x3);
	CHECK_REFUSED(b, len, &in, FWC_AGENT_REFUSE_KEYSET, FWC_ERR_NOT_FOUND);
	free(b);
	/* registered by one root key (threshold 2), or by keys that are no root keys */
	ledger_free(&L);
	ledger_keyset(&L, FWC_ROTATE_RELEASE, 1, &ks, one_root, 1);
	ledger_release(&L, &r, s, 2, 1);
	b = bundle_of(&len, 1, extra, 1, 0x3);
	CHECK_REFUSED(b, len, &in, FWC_AGENT_REFUSE_KEYSET, FWC_ERR_THRESHOLD);
	free(b);
	ledger_free(&L);
	l_sort_signers(fake, 2);
	ledger_keyset(&L, FWC_ROTATE_RELEASE, 1, &ks, fake, 2);
	ledger_release(&L, &r, s, 2, 1);
	b = bundle_of(&len, 1, extra, 1, 0x3);
	CHECK_REFUSED(b, len, &in, FWC_AGENT_REFUSE_KEYSET, FWC_ERR_THRESHOLD);
	free(b);
	/* a statement of another product */
	{
		uint8_t pl[8192];
		size_t n;

		ledger_free(&L);
		l_sort_signers(roots, 2);
		n = ledger_statement(pl, sizeof(pl), "other", FWC_ROTATE_RELEASE, 1, &ks, roots, 2);
		ledger_tx(&L, FWC_TX_KEYSET_REGISTER, pl, n);
		ledger_release(&L, &r, s, 2, 1);
		b = bundle_of(&len, 1, extra, 1, 0x3);
		CHECK_REFUSED(b, len, &in, FWC_AGENT_REFUSE_KEYSET, FWC_ERR_MALFORMED);
		free(b);
	}
	/* extras out of log order, or logged after the release */
	honest_ledger();
	ledger_keyset(&L, FWC_ROTATE_RELEASE, 2, &ks, roots, 2); /* leaf 2 */
	{
		uint64_t bad[2] = {2, 0};

		b = bundle_of(&len, 1, bad, 2, 0x3);
		CHECK_REFUSED(b, len, &in, FWC_AGENT_REFUSE_KEYSET, FWC_ERR_UNSORTED);
		free(b);
		b = bundle_of(&len, 1, extra, 3, 0x3); /* extra 2 is after the release */
		CHECK_REFUSED(b, len, &in, FWC_AGENT_REFUSE_KEYSET, FWC_ERR_UNSORTED);
		free(b);
	}
	/* an extra that is not a key-set statement */
	honest_ledger();
	{
		uint64_t rel_as_extra = 0;

		ledger_release(&L, &r, s, 2, 1); /* leaf 2 */
		b = bundle_of(&len, 2, &rel_as_extra, 1, 0x3);
		CHECK_RC(verify(b, len, &in, NULL, NULL), FWC_AGENT_VERIFIED);
		free(b);
		rel_as_extra = 1;
		b = bundle_of(&len, 2, &rel_as_extra, 1, 0x3);
		CHECK_REFUSED(b, len, &in, FWC_AGENT_REFUSE_BAD_TX, FWC_ERR_MALFORMED);
		free(b);
	}
	/* the same release-set version twice, or going back */
	ledger_free(&L);
	ledger_keyset(&L, FWC_ROTATE_RELEASE, 1, &ks, roots, 2);
	ledger_keyset(&L, FWC_ROTATE_RELEASE, 2, &ks, roots, 2);
	ledger_keyset(&L, FWC_ROTATE_RELEASE, 2, &ks, roots, 2);
	ledger_release(&L, &r, s, 2, 1);
	b = bundle_of(&len, 3, extra, 3, 0x3);
	CHECK_REFUSED(b, len, &in, FWC_AGENT_REFUSE_KEYSET, FWC_ERR_RANGE);
	free(b);

	/* root rotation: R0,R1,R2 (2 of 3) -> {R2, K4} (2 of 2), signed by old and new keys */
	{
		const struct fwc_seckey *nr[2] = {&L.root[2], &L.rel[4]};
		const struct fwc_seckey *both[3] = {&L.root[0], &L.root[2], &L.rel[4]};
		const struct fwc_seckey *old_only[2] = {&L.root[0], &L.root[1]};

		l_keyset(&newroot, 2, nr, 2);
		l_sort_signers(both, 3);
		l_sort_signers(nr, 2);
		l_sort_signers(old_only, 2);
		/* rotation, then the release set signed by the new root */
		ledger_free(&L);
		ledger_keyset(&L, FWC_ROTATE_ROOT, 2, &newroot, both, 3);
		ledger_keyset(&L, FWC_ROTATE_RELEASE, 1, &ks, nr, 2);
		ledger_release(&L, &r, s, 2, 1);
		b = bundle_of(&len, 2, extra, 2, 0x3);
		CHECK_RC(verify(b, len, &in, NULL, NULL), FWC_AGENT_VERIFIED);
		free(b);
		/* after the rotation the old root keys no longer sign release sets */
		ledger_free(&L);
		ledger_keyset(&L, FWC_ROTATE_ROOT, 2, &newroot, both, 3);
		ledger_keyset(&L, FWC_ROTATE_RELEASE, 1, &ks, old_only, 2);
		ledger_release(&L, &r, s, 2, 1);
		b = bundle_of(&len, 2, extra, 2, 0x3);
		CHECK_REFUSED(b, len, &in, FWC_AGENT_REFUSE_KEYSET, FWC_ERR_THRESHOLD);
		free(b);
		/* a rotation the new keys did not sign, or skipping a version */
		ledger_free(&L);
		ledger_keyset(&L, FWC_ROTATE_ROOT, 2, &newroot, old_only, 2);
		ledger_keyset(&L, FWC_ROTATE_RELEASE, 1, &ks, nr, 2);
		ledger_release(&L, &r, s, 2, 1);
		b = bundle_of(&len, 2, extra, 2, 0x3);
		CHECK_REFUSED(b, len, &in, FWC_AGENT_REFUSE_KEYSET, FWC_ERR_THRESHOLD);
		free(b);
		ledger_free(&L);
		ledger_keyset(&L, FWC_ROTATE_ROOT, 3, &newroot, both, 3);
		ledger_keyset(&L, FWC_ROTATE_RELEASE, 1, &ks, nr, 2);
		ledger_release(&L, &r, s, 2, 1);
		b = bundle_of(&len, 2, extra, 2, 0x3);
		CHECK_REFUSED(b, len, &in, FWC_AGENT_REFUSE_KEYSET, FWC_ERR_RANGE);
		free(b);
	}
}

/* Checkpoint attacks: too few or invalid cosignatures, another chain, freeze. */
static void test_checkpoint(void)
{
	struct fwc_agent_verify_in in = input();
	struct fwc_agent_checkpoint cp;
	uint64_t extra = 0;
	uint8_t root[32];
	size_t len = 0;
	uint8_t *b;
	char *note;

	honest_ledger();
	ledger_root(&L, root, 2);
	/* one validator of a quorum of two; the impostor does not count */
	b = bundle_of(&len, 1, &extra, 1, 0x1);
	CHECK_REFUSED(b, len, &in, FWC_AGENT_REFUSE_QUORUM, FWC_ERR_QUORUM);
	free(b);
	b = bundle_of(&len, 1, &extra, 1, 0x9);
	CHECK_REFUSED(b, len, &in, FWC_AGENT_REFUSE_QUORUM, FWC_ERR_QUORUM);
	free(b);
	b = bundle_of(&len, 1, &extra, 1, 0x0 | 0x8);
	CHECK_REFUSED(b, len, &in, FWC_AGENT_REFUSE_QUORUM, FWC_ERR_QUORUM);
	free(b);
	/* an invalid cosignature by a trusted validator refuses the note even with a quorum:
	 * change one base64 character inside V1's signature line */
	note = ledger_checkpoint(&L, 2, L_T0 + 100, 0x7);
	{
		char *line = strstr(note, "validator-1 ");
		char *c = line + strlen("validator-1 ") + 40;

		*c = *c == 'A' ? 'B' : 'A';
		b = ledger_bundle(&L, &len, 1, &extra, 1, 2, note);
		CHECK_REFUSED(b, len, &in, FWC_AGENT_REFUSE_BAD_COSIGNATURE, FWC_ERR_BADSIG);
		free(b);
	}
	free(note);
	/* a checkpoint of another chain */
	{
		struct fwc_agent_trust t = L.trust;
		struct fwc_agent_verify_in in2 = in;

		t.chain_id = "fwchain-other";
		t.chain_id_len = strlen(t.chain_id);
		in2.trust = &t;
		b = bundle_of(&len, 1, &extra, 1, 0x3);
		CHECK_REFUSED(b, len, &in2, FWC_AGENT_REFUSE_ORIGIN, FWC_ERR_PROOF);
		free(b);
	}
	/* freeze: older than the newest accepted checkpoint (a smaller tree, or the same tree
	 * cosigned earlier), or a same-size checkpoint of another tree */
	b = bundle_of(&len, 1, &extra, 1, 0x3);
	in.accepted.size = 3;
	in.accepted.time = L_T0;
	CHECK_REFUSED(b, len, &in, FWC_AGENT_REFUSE_STALE_CHECKPOINT, FWC_ERR_RANGE);
	in.accepted.size = 2;
	memcpy(in.accepted.hash, root, 32);
	in.accepted.time = L_T0 + 101;
	CHECK_REFUSED(b, len, &in, FWC_AGENT_REFUSE_STALE_CHECKPOINT, FWC_ERR_RANGE);
	in.accepted.time = L_T0 + 100;
	CHECK_RC(verify(b, len, &in, NULL, NULL), FWC_AGENT_VERIFIED);
	in.accepted.hash[5] ^= 1;
	CHECK_REFUSED(b, len, &in, FWC_AGENT_REFUSE_FORK, FWC_ERR_PROOF);
	in.accepted.size = 1;
	in.accepted.time = L_T0;
	CHECK_RC(verify(b, len, &in, NULL, NULL), FWC_AGENT_VERIFIED);
	/* too old by the device's clock (max age one day), only when there is a clock */
	in = input();
	in.have_clock = 1;
	in.now = L_T0 + 100 + 86400;
	CHECK_RC(verify(b, len, &in, NULL, NULL), FWC_AGENT_VERIFIED);
	in.now++;
	CHECK_REFUSED(b, len, &in, FWC_AGENT_REFUSE_CHECKPOINT_TOO_OLD, FWC_ERR_RANGE);
	in.have_clock = 0;
	CHECK_RC(verify(b, len, &in, NULL, NULL), FWC_AGENT_VERIFIED);
	in.have_clock = 1;
	in.now = L_T0; /* a checkpoint from the future is not too old */
	CHECK_RC(verify(b, len, &in, NULL, NULL), FWC_AGENT_VERIFIED);
	free(b);

	/* the quorum's time: V0 at t, V1 at t + 1000, V2 at t + 2000; with quorum 2 the
	 * checkpoint is as old as the second newest cosignature, so one fast validator cannot
	 * make it fresh */
	{
		struct fwc_agent_checkpoint c;

		l_skew[1] = 1000;
		l_skew[2] = 2000;
		note = ledger_checkpoint(&L, 2, L_T0 + 100, 0x3);
		in = input();
		CHECK_RC(fwc_agent_verify_checkpoint(&work, &c, NULL, note, strlen(note), &in),
		         FWC_AGENT_VERIFIED);
		CHECK(c.time == L_T0 + 100 && c.size == 2);
		CHECK_MEM(c.hash, root, 32);
		in.have_clock = 1;
		in.now = L_T0 + 100 + 86401;
		CHECK_RC(fwc_agent_verify_checkpoint(&work, &c, NULL, note, strlen(note), &in),
		         FWC_AGENT_REFUSE_CHECKPOINT_TOO_OLD);
		free(note);
		note = ledger_checkpoint(&L, 2, L_T0 + 100, 0x7);
		CHECK_RC(fwc_agent_verify_checkpoint(&work, &c, NULL, note, strlen(note), &in),
		         FWC_AGENT_VERIFIED);
		CHECK(c.time == L_T0 + 1100);
		free(note);
		l_skew[1] = l_skew[2] = 0;
	}
	/* the checkpoint on its own (a "no update" answer) goes through the same checks */
	note = ledger_checkpoint(&L, 2, L_T0 + 100, 0x3);
	in = input();
	CHECK_RC(fwc_agent_verify_checkpoint(&work, &cp, NULL, note, strlen(note), &in),
	         FWC_AGENT_VERIFIED);
	CHECK(cp.size == 2 && cp.time == L_T0 + 100);
	in.accepted = cp;
	in.accepted.size = 5;
	CHECK_RC(fwc_agent_verify_checkpoint(&work, &cp, NULL, note, strlen(note), &in),
	         FWC_AGENT_REFUSE_STALE_CHECKPOINT);
	CHECK_RC(fwc_agent_verify_checkpoint(&work, &cp, NULL, note, 10, &in),
	         FWC_AGENT_REFUSE_MALFORMED);
	free(note);
	note = ledger_checkpoint(&L, 2, L_T0 + 100, 0x4);
	in = input();
	CHECK_RC(fwc_agent_verify_checkpoint(&work, &cp, NULL, note, strlen(note), &in),
	         FWC_AGENT_REFUSE_QUORUM);
	free(note);
}

/* Inclusion: an altered path, index or tree size never leads to the cosigned root. */
static void test_inclusion(void)
{
	struct fwc_agent_verify_in in = input();
	struct fwc_bundle bd;
	uint64_t extra = 0;
	uint8_t *b, *copy;
	size_t len = 0, plen;
	char *note;

	honest_ledger();
	/* a bigger log, so paths are longer than one hash */
	for (int i = 0; i < 5; i++)
		ledger_tx(&L, FWC_TX_CONFIG_UPDATE, (const uint8_t *)"\xa0", 1);
	b = bundle_of(&len, 1, &extra, 1, 0x3);
	CHECK_RC(verify(b, len, &in, NULL, NULL), FWC_AGENT_VERIFIED);
	CHECK_RC(fwc_bundle_decode(&bd, b, len, NULL), FWC_OK);
	plen = bd.release.path_len;
	CHECK(plen == 3);
	/* every byte of the release's path, and of the extra's */
	copy = malloc(len);
	for (size_t h = 0; h < plen; h++)
		for (size_t k = 0; k < 32; k += 7) {
			size_t off = (size_t)((const uint8_t *)bd.release.path[h] - b) + k;

			memcpy(copy, b, len);
			copy[off] ^= 0x80;
			CHECK_REFUSED(copy, len, &in, FWC_AGENT_REFUSE_INCLUSION, FWC_ERR_PROOF);
			memcpy(copy, b, len);
			off = (size_t)((const uint8_t *)bd.extra[0].path[h] - b) + k;
			copy[off] ^= 0x01;
			CHECK_REFUSED(copy, len, &in, FWC_AGENT_REFUSE_INCLUSION, FWC_ERR_PROOF);
		}
	free(copy);
	free(b);
	/* the proof of another index, or for another tree size than the checkpoint's */
	note = ledger_checkpoint(&L, L.n, L_T0 + 100, 0x3);
	{
		struct fwc_bundle x;
		uint8_t out[8192];

		b = ledger_bundle(&L, &len, 1, &extra, 1, L.n, note);
		CHECK_RC(fwc_bundle_decode(&x, b, len, NULL), FWC_OK);
		x.release.index = 2;
		CHECK_RC(fwc_bundle_encode(out, sizeof(out), &plen, &x), FWC_OK);
		CHECK_REFUSED(out, plen, &in, FWC_AGENT_REFUSE_INCLUSION, FWC_ERR_PROOF);
		x.release.index = 1;
		x.size = L.n - 1;
		CHECK_RC(fwc_bundle_encode(out, sizeof(out), &plen, &x), FWC_OK);
		CHECK_REFUSED(out, plen, &in, FWC_AGENT_REFUSE_INCLUSION, FWC_ERR_PROOF);
		/* a path one hash short */
		x.size = L.n;
		x.release.path_len--;
		CHECK_RC(fwc_bundle_encode(out, sizeof(out), &plen, &x), FWC_OK);
		CHECK_REFUSED(out, plen, &in, FWC_AGENT_REFUSE_INCLUSION, FWC_ERR_PROOF);
		free(b);
	}
	free(note);
	/* a transaction that is not in the log at all */
	{
		struct l_release r;
		const struct fwc_seckey *s[2] = {&L.rel[0], &L.rel[1]};
		uint64_t n = L.n;

		l_release_default(&r, 44);
		ledger_release(&L, &r, s, 2, 1); /* leaf n, but the checkpoint covers n leaves */
		note = ledger_checkpoint(&L, n, L_T0 + 100, 0x3);
		b = ledger_bundle(&L, &len, 1, &extra, 1, n, note);
		CHECK(b != NULL);
		if (b != NULL) {
			struct fwc_bundle x;
			uint8_t out[8192];

			CHECK_RC(fwc_bundle_decode(&x, b, len, NULL), FWC_OK);
			x.release.tx = L.tx[n]; /* swap in the unlogged release */
			x.release.tx_len = L.tx_len[n];
			CHECK_RC(fwc_bundle_encode(out, sizeof(out), &plen, &x), FWC_OK);
			CHECK_REFUSED(out, plen, &in, FWC_AGENT_REFUSE_INCLUSION, FWC_ERR_PROOF);
		}
		free(b);
		free(note);
	}
}

/* The manifest against the device, and the release transaction itself. */
static void test_manifest(void)
{
	const struct fwc_seckey *rel[3] = {&L.rel[0], &L.rel[1], &L.rel[2]};
	const struct fwc_seckey *roots[2] = {&L.root[0], &L.root[1]};
	const struct fwc_seckey *s[2] = {&L.rel[0], &L.rel[1]};
	struct fwc_agent_verify_in in = input();
	struct fwc_agent_verified v;
	struct fwc_keyset ks;
	struct l_release r;
	uint64_t extra = 0;
	size_t len = 0;
	uint8_t *b;
	l_keyset(&ks, 2, rel, 3);
#define ONE(setup, reason, code)                                                                   \
	do {                                                                                       \
		ledger_free(&L);                                                                   \
		ledger_keyset(&L, FWC_ROTATE_RELEASE, 1, &ks, roots, 2);                           \
		l_release_default(&r, 43);                                                         \
		setup;                                                                             \
		ledger_release(&L, &r, s, 2, 1);                                                   \
		b = bundle_of(&len, 1, &extra, 1, 0x3);                                            \
		CHECK(b != NULL);                                                                  \
		CHECK_REFUSED(b, len, &in, (reason), (code));                                      \
		free(b);                                                                           \
	} while (0)
	ONE(r.product = "other", FWC_AGENT_REFUSE_WRONG_PRODUCT, 0);
	ONE((r.hw1 = "rev-c", r.hw2 = "rev-d"), FWC_AGENT_REFUSE_WRONG_HARDWARE, 0);
	ONE(r.channel = "beta", FWC_AGENT_REFUSE_WRONG_CHANNEL, 0);
	ONE(r.counter = 42, FWC_AGENT_REFUSE_ROLLBACK, FWC_ERR_RANGE);
	ONE(r.counter = 7, FWC_AGENT_REFUSE_ROLLBACK, FWC_ERR_RANGE);
	ONE(r.size = (1u << 20) + 1, FWC_AGENT_REFUSE_SIZE_EXCEEDED, FWC_ERR_TOO_LARGE);
#undef ONE
	/* a CIDv0 verifies (the content step decides whether it can be fetched chunk by chunk) */
	ledger_free(&L);
	ledger_keyset(&L, FWC_ROTATE_RELEASE, 1, &ks, roots, 2);
	l_release_default(&r, 43);
	r.cid[0] = 0x12;
	r.cid[1] = 0x20;
	r.cid_len = 34;
	ledger_release(&L, &r, s, 2, 1);
	b = bundle_of(&len, 1, &extra, 1, 0x3);
	CHECK_RC(verify(b, len, &in, &v, NULL), FWC_AGENT_VERIFIED);
	CHECK(v.cid_len == 34 && v.cid[0] == 0x12);
	free(b);
	/* counter just above the floor, an exactly slot-sized image: fine */
	ledger_free(&L);
	ledger_keyset(&L, FWC_ROTATE_RELEASE, 1, &ks, roots, 2);
	l_release_default(&r, 43);
	r.size = 1u << 20;
	r.licence = 1;
	r.encrypted = 1;
	r.not_before = L_T0 + 5000;
	ledger_release(&L, &r, s, 2, 1);
	b = bundle_of(&len, 1, &extra, 1, 0x3);
	CHECK_RC(verify(b, len, &in, &v, NULL), FWC_AGENT_VERIFIED);
	/* the policy fields are handed to DECIDE */
	CHECK(v.has_licence && v.has_encryption && v.has_not_before && v.not_before == L_T0 + 5000);
	free(b);

	/* the release transaction: a forged envelope signature, another chain, another type */
	{
		uint8_t pl[FWC_TX_PAYLOAD_MAX], tx[FWC_TX_MAX];
		size_t pn, tn;

		l_release_default(&r, 43);
		l_sort_signers(s, 2);
		pn = ledger_release_payload(pl, sizeof(pl), &r, s, 2);

		ledger_free(&L);
		ledger_keyset(&L, FWC_ROTATE_RELEASE, 1, &ks, roots, 2);
		tn = ledger_make_tx(&L, tx, FWC_TX_RELEASE, pl, pn, NULL, NULL);
		tx[tn - 5] ^= 0x40; /* inside the envelope's signature */
		ledger_append(&L, tx, tn);
		b = bundle_of(&len, 1, &extra, 1, 0x3);
		CHECK_REFUSED(b, len, &in, FWC_AGENT_REFUSE_BAD_TX_SIGNATURE, FWC_ERR_BADSIG);
		free(b);

		ledger_free(&L);
		ledger_keyset(&L, FWC_ROTATE_RELEASE, 1, &ks, roots, 2);
		tn = ledger_make_tx(&L, tx, FWC_TX_RELEASE, pl, pn, NULL, "fwchain-elsewhere");
		ledger_append(&L, tx, tn);
		b = bundle_of(&len, 1, &extra, 1, 0x3);
		CHECK_REFUSED(b, len, &in, FWC_AGENT_REFUSE_BAD_TX, FWC_ERR_MALFORMED);
		free(b);

		ledger_free(&L);
		ledger_keyset(&L, FWC_ROTATE_RELEASE, 1, &ks, roots, 2);
		tn = ledger_make_tx(&L, tx, FWC_TX_CONFIG_UPDATE, pl, pn, NULL, NULL);
		ledger_append(&L, tx, tn);
		b = bundle_of(&len, 1, &extra, 1, 0x3);
		CHECK_REFUSED(b, len, &in, FWC_AGENT_REFUSE_BAD_TX, FWC_ERR_MALFORMED);
		free(b);

		/* a release payload that is not a signed manifest */
		ledger_free(&L);
		ledger_keyset(&L, FWC_ROTATE_RELEASE, 1, &ks, roots, 2);
		tn = ledger_make_tx(&L, tx, FWC_TX_RELEASE, (const uint8_t *)"\xa1\x01\x41\x00", 4,
		                    NULL, NULL);
		ledger_append(&L, tx, tn);
		b = bundle_of(&len, 1, &extra, 1, 0x3);
		CHECK_REFUSED(b, len, &in, FWC_AGENT_REFUSE_BAD_TX, 0);
		free(b);
	}
}

/* A trust with a release set of its own: used until a statement replaces it; without a root
 * set it is the only one (statements cannot be authenticated, so they change nothing). */
static void test_provisioned_release_set(void)
{
	const struct fwc_seckey *rel[3] = {&L.rel[0], &L.rel[1], &L.rel[2]};
	const struct fwc_seckey *rel2[2] = {&L.rel[3], &L.rel[4]};
	const struct fwc_seckey *roots[2] = {&L.root[0], &L.root[1]};
	const struct fwc_seckey *s_old[2] = {&L.rel[0], &L.rel[1]};
	struct fwc_agent_verify_in in = input();
	struct fwc_agent_trust t = L.trust;
	struct fwc_keyset ks, ks2;
	struct l_release r;
	uint64_t extra = 0;
	size_t len = 0;
	uint8_t *b;

	l_keyset(&ks, 2, rel, 3);
	l_keyset(&ks2, 2, rel2, 2);
	in.trust = &t;
	t.release = &ks;
	/* no statement in the bundle: the provisioned set */
	ledger_free(&L);
	l_release_default(&r, 43);
	ledger_release(&L, &r, s_old, 2, 1);
	b = bundle_of(&len, 0, NULL, 0, 0x3);
	CHECK_RC(verify(b, len, &in, NULL, NULL), FWC_AGENT_VERIFIED);
	free(b);
	/* a proven statement replaces it: the old keys no longer count */
	ledger_free(&L);
	ledger_keyset(&L, FWC_ROTATE_RELEASE, 2, &ks2, roots, 2);
	ledger_release(&L, &r, s_old, 2, 1);
	b = bundle_of(&len, 1, &extra, 1, 0x3);
	CHECK_REFUSED(b, len, &in, FWC_AGENT_REFUSE_UNKNOWN_KEY, FWC_ERR_THRESHOLD);
	/* without a root set the statement cannot be authenticated and changes nothing */
	t.root = NULL;
	CHECK_RC(verify(b, len, &in, NULL, NULL), FWC_AGENT_VERIFIED);
	free(b);
	/* neither set: a trust the device cannot use */
	t.release = NULL;
	CHECK_RC(verify((const uint8_t *)"", 0, &in, NULL, NULL), FWC_AGENT_REFUSE_MALFORMED);
}

static void test_arguments(void)
{
	struct fwc_agent_verify_in in = input();
	struct fwc_agent_trust t = L.trust;
	struct fwc_agent_verified v;
	int err = 0;

	CHECK_RC(fwc_agent_verify_bundle(&work, &v, &err, NULL, 0, &in),
	         FWC_AGENT_REFUSE_MALFORMED);
	CHECK_RC(err, FWC_ERR_ARG);
	CHECK_RC(fwc_agent_verify_bundle(&work, &v, &err, (const uint8_t *)"", 0, NULL),
	         FWC_AGENT_REFUSE_MALFORMED);
	in.trust = &t;
	t.quorum = 4; /* more than the validators */
	CHECK_RC(fwc_agent_verify_bundle(&work, &v, &err, (const uint8_t *)"", 0, &in),
	         FWC_AGENT_REFUSE_MALFORMED);
	CHECK_RC(err, FWC_ERR_ARG);
	t.quorum = 0;
	CHECK_RC(fwc_agent_verify_bundle(&work, &v, &err, (const uint8_t *)"", 0, &in),
	         FWC_AGENT_REFUSE_MALFORMED);
	/* no port bound: the library code could not hash */
	t.quorum = 2;
	fwc_agent_verify_bind(NULL);
	CHECK_RC(fwc_agent_verify_bundle(&work, &v, &err, (const uint8_t *)"", 0, &in),
	         FWC_AGENT_REFUSE_MALFORMED);
	CHECK_RC(err, FWC_ERR_ARG);
	fwc_agent_verify_bind(&port);
}

int main(void)
{
	if (ledger_init(&L) != 0 || test_mkdtemp(dir, sizeof(dir), "verify") != 0 ||
	    fwc_posix_format(dir, 65536, 4096) != FWC_OK || test_open(&port, dir) != FWC_OK) {
		fprintf(stderr, "setup failed\n");
		return 1;
	}
	fwc_agent_verify_bind(&port);
	RUN(test_honest);
	RUN(test_release_keys);
	RUN(test_revoked_and_rotated);
	RUN(test_keyset_chain);
	RUN(test_checkpoint);
	RUN(test_inclusion);
	RUN(test_manifest);
	RUN(test_provisioned_release_set);
	RUN(test_arguments);
	ledger_free(&L);
	fwc_posix_close(&port);
	test_rmtree(dir);
	return test_done();
}
