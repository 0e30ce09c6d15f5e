/* Tests of node/state.c: every write transaction type against every role, each rule of
 * docs/state-machine.md allowed and refused, replays, chain id, release counters, thresholds,
 * key revocation, device event sequences, the queries, and determinism (the same transactions
 * replayed into a second database give the same state, byte for byte). In-memory SQLite. */
#include "state.h"

#include "fwchain/keyset.h"
#include "fwchain/manifest.h"
#include "fwchain/payload.h"
#include "fwchain/sha256.h"
#include "fwchain/tx.h"
#include "test.h"

#define T0 1700000000
#define CHAIN "test-chain"

/* An actor: a key with the nonce it will use next. */
struct actor {
	struct fwc_seckey sk;
	struct fwc_pubkey pk;
	uint64_t nonce; /* last consumed */
};

enum {
	ROOT, /* admin of the root organisation "root" */
	ADM,  /* admin of "acme" */
	REL,  /* release role, acme */
	OP,   /* operator, acme */
	GW,   /* gateway, acme */
	AU,   /* auditor, acme */
	BADM, /* admin of "beta" */
	BOP,  /* operator of "beta" */
	BREL, /* release role, beta */
	K1,
	K2,
	K3,
	K4,
	K5, /* product root keys */
	S1,
	S2,
	S3, /* release keys */
	D1,
	D2,
	D3,       /* devices */
	STRANGER, /* a key nobody registered */
	N_ACTORS
};

static struct actor act[N_ACTORS];
static sqlite3 *db;
static struct node_state st;
static struct node_refusal why;
static int64_t now = T0;

/* Every applied or failed transaction, for the determinism replay. */
#define LOG_MAX 512
static struct {
	uint8_t *tx;
	size_t len;
	int64_t time;
} journal[LOG_MAX];
static size_t n_journal;

static void actors_init(void)
{
	for (int i = 0; i < N_ACTORS; i++) {
		uint8_t secret[32];

		memset(secret, 0, sizeof(secret));
		secret[31] = (uint8_t)(i + 1);
		secret[0] = 0x42;
		CHECK_RC(fwc_key_from_secret(&act[i].sk, FWC_ALG_BIP340, secret), FWC_OK);
		CHECK_RC(fwc_key_public(&act[i].pk, &act[i].sk), FWC_OK);
		act[i].nonce = 0;
	}
}

/* Build and sign a transaction. */
static size_t make_tx(uint8_t *out, size_t cap, int who, uint32_t type, uint64_t nonce,
                      const char *chain, uint64_t time, const uint8_t *pl, size_t pl_len)
{
	struct fwc_tx tx;
	uint8_t body[FWC_TX_BODY_MAX];
	size_t blen = 0, len = 0;

	memset(&tx, 0, sizeof(tx));
	tx.type = type;
	tx.chain_id.p = chain;
	tx.chain_id.len = strlen(chain);
	tx.sender = act[who].pk;
	tx.nonce = nonce;
	tx.time = time;
	tx.payload.p = pl;
	tx.payload.len = pl_len;
	CHECK_RC(fwc_tx_encode_body(body, sizeof(body), &blen, &tx, NULL), FWC_OK);
	CHECK_RC(fwc_tx_sign(out, cap, &len, body, blen, &act[who].sk, NULL, NULL), FWC_OK);
	return len;
}

static int apply_raw(const uint8_t *tx, size_t len)
{
	int rc = node_state_apply(&st, db, tx, len, now, &why);

	if ((rc == FWC_OK || why.kind == NODE_REFUSAL_FAIL) && n_journal < LOG_MAX) {
		journal[n_journal].tx = malloc(len);
		memcpy(journal[n_journal].tx, tx, len);
		journal[n_journal].len = len;
		journal[n_journal].time = now;
		n_journal++;
	}
	return rc;
}

/* Submit a transaction with the actor's next nonce; returns the refusal code ("" when
 * applied). The nonce advances when the transaction is in the log (applied or failed). */
static const char *submit(int who, uint32_t type, const uint8_t *pl, size_t pl_len)
{
	static uint8_t tx[FWC_TX_MAX];
	size_t len = make_tx(tx, sizeof(tx), who, type, act[who].nonce + 1, CHAIN, (uint64_t)now,
	                     pl, pl_len);
	int rc = apply_raw(tx, len);

	if (rc == FWC_OK) {
		act[who].nonce++;
		return "";
	}
	if (why.kind == NODE_REFUSAL_FAIL)
		act[who].nonce++;
	if (why.kind == NODE_REFUSAL_INTERNAL)
		fprintf(stderr, "internal: %s %s\n", why.code, why.msg);
	return why.code;
}

#define EXPECT(who, type, pl, len, code)                                                           \
	do {                                                                                       \
		const char *got_ = submit(who, type, pl, len);                                     \
		t_checks++;                                                                        \
		if (strcmp(got_, code) != 0) {                                                     \
			t_failed++;                                                                \
			fprintf(stderr, "%s:%d: %s by %s: got '%s' (%s), want '%s'\n", __FILE__,   \
			        __LINE__, fwc_tx_type_name((int)(type)), #who, got_, why.msg,      \
			        code);                                                             \
		}                                                                                  \
	} while (0)

static uint8_t pl[FWC_TX_PAYLOAD_MAX];
static size_t pl_len;

static struct fwc_cbor_str S(const char *s) {
	struct fwc_cbor_str v = {s, strlen(s)};
	return v;
}

/* ---------------------------------------------------------------------------------------- */
/* Payload builders                                                                         */

static void
p_org(const char *id, int admin)
{
	struct fwc_pl_org_register p = {S(id), S("An organisation"), act[admin].pk};
	CHECK_RC(fwc_pl_org_register_encode(pl, sizeof(pl), &pl_len, &p), FWC_OK);
}

static void p_member_add(int who, uint32_t role)
{
	struct fwc_pl_member_add p = {act[who].pk, role, 0, {NULL, 0}};
	CHECK_RC(fwc_pl_member_add_encode(pl, sizeof(pl), &pl_len, &p), FWC_OK);
}

static void p_member_remove(int who, uint32_t role)
{
	struct fwc_pl_member_remove p = {act[who].pk, role};
	CHECK_RC(fwc_pl_member_remove_encode(pl, sizeof(pl), &pl_len, &p), FWC_OK);
}

static void p_key_revoke(int who)
{
	struct fwc_pl_key_revoke p = {act[who].pk, S("lost")};
	CHECK_RC(fwc_pl_key_revoke_encode(pl, sizeof(pl), &pl_len, &p), FWC_OK);
}

static size_t keyset(uint8_t *out, unsigned threshold, const int *who, size_t n)
{
	struct fwc_keyset ks;
	size_t len = 0;

	memset(&ks, 0, sizeof(ks));
	ks.n = n;
	ks.threshold = threshold;
	for (size_t i = 0; i < n; i++)
		ks.keys[i] = act[who[i]].pk;
	CHECK_RC(fwc_keyset_encode(out, FWC_KEYSET_ENC_MAX, &len, &ks), FWC_OK);
	return len;
}

static void p_product(const char *id, unsigned threshold, const int *roots, size_t n)
{
	uint8_t ks[FWC_KEYSET_ENC_MAX];
	struct fwc_pl_product_register p;

	memset(&p, 0, sizeof(p));
	p.id = S(id);
	p.name = S("A product");
	p.root_set.p = ks;
	p.root_set.len = keyset(ks, threshold, roots, n);
	CHECK_RC(fwc_pl_product_register_encode(pl, sizeof(pl), &pl_len, &p), FWC_OK);
}

/* A key-set statement for product, signed by signers[0..n_signers), wrapped as payload. */
static void p_statement(const char *product, uint32_t set, uint64_t version, unsigned threshold,
                        const int *keys, size_t n_keys, const int *signers, size_t n_signers)
{
	uint8_t ks[FWC_KEYSET_ENC_MAX], stmt[4096], digest[32];
	uint8_t bins[FWC_PL_SIGS_MAX][FWC_PUBKEY_BIN_LEN], sigs[FWC_PL_SIGS_MAX][FWC_SIG_LEN];
	struct fwc_keyset_sig ks_sigs[FWC_PL_SIGS_MAX];
	struct fwc_rotation rot;
	struct fwc_pl_keyset_statement w;
	size_t slen = 0;

	memset(&rot, 0, sizeof(rot));
	rot.product = S(product);
	rot.set = set;
	rot.version = version;
	rot.keyset.p = ks;
	rot.keyset.len = keyset(ks, threshold, keys, n_keys);
	CHECK_RC(fwc_rotation_digest(digest, &rot), FWC_OK);
	for (size_t i = 0; i < n_signers; i++) {
		CHECK_RC(fwc_pubkey_to_bin(bins[i], &act[signers[i]].pk), FWC_OK);
		CHECK_RC(fwc_sign(sigs[i], &act[signers[i]].sk, digest, 32), FWC_OK);
		ks_sigs[i].pubkey = bins[i];
		ks_sigs[i].sig = sigs[i];
	}
	CHECK_RC(fwc_rotation_encode(stmt, sizeof(stmt), &slen, &rot, ks_sigs, n_signers), FWC_OK);
	w.statement.p = stmt;
	w.statement.len = slen;
	CHECK_RC(fwc_pl_keyset_statement_encode(pl, sizeof(pl), &pl_len, &w), FWC_OK);
}

static void p_device(int dev, const char *product, const char *hwid, int update, int retire)
{
	struct fwc_pl_device_register p;

	memset(&p, 0, sizeof(p));
	p.device = act[dev].pk;
	p.product = S(product);
	p.hwid = S(hwid);
	p.groups.n = 2;
	p.groups.v[0] = S("eu");
	p.groups.v[1] = S(update ? "wave2" : "pilot");
	p.region = S("eu-west");
	p.attrs.n = 1;
	p.attrs.v[0].key = S("site");
	p.attrs.v[0].value = S("lyon");
	p.update = update;
	p.retire = retire;
	CHECK_RC(fwc_pl_device_register_encode(pl, sizeof(pl), &pl_len, &p), FWC_OK);
}

/* A signed manifest for (product, channel, counter, hw "rev-b" and "rev-c"), signed by
 * signers, wrapped as a RELEASE payload; *id gets the release id. */
static void p_release(const char *product, const char *channel, uint64_t counter,
                      const int *signers, size_t n_signers, uint8_t id[32])
{
	static uint8_t body[FWC_MANIFEST_BODY_MAX], a[FWC_SIGNED_MANIFEST_MAX],
	    b[FWC_SIGNED_MANIFEST_MAX];
	struct fwc_manifest m;
	struct fwc_pl_release r;
	uint8_t cid[36] = {0x01, 0x55, 0x12, 0x20};
	size_t blen = 0, alen = 0;
	char version[32];

	memset(&m, 0, sizeof(m));
	snprintf(version, sizeof(version), "1.0.%llu", (unsigned long long)counter);
	m.format = FWC_MANIFEST_VERSION;
	m.product = S(product);
	m.version.p = version;
	m.version.len = strlen(version);
	m.counter = counter;
	m.channel = S(channel);
	memset(cid + 4, (int)counter, 32);
	m.cid.p = cid;
	m.cid.len = sizeof(cid);
	m.size = 1000 + counter;
	memset(m.sha256, (int)counter, 32);
	m.n_hw = 2;
	m.hw[0] = S("rev-b");
	m.hw[1] = S("rev-c");
	m.created = T0;
	CHECK_RC(fwc_manifest_encode(body, sizeof(body), &blen, &m, NULL), FWC_OK);
	CHECK_RC(fwc_signed_manifest_encode(a, sizeof(a), &alen, body, blen, NULL, 0, NULL),
	         FWC_OK);
	for (size_t i = 0; i < n_signers; i++) {
		size_t nlen = 0;

		CHECK_RC(fwc_signed_manifest_sign(b, sizeof(b), &nlen, a, alen, &act[signers[i]].sk,
		                                  NULL, NULL),
		         FWC_OK);
		memcpy(a, b, nlen);
		alen = nlen;
	}
	CHECK_RC(fwc_manifest_digest(id, body, blen), FWC_OK);
	r.manifest.p = a;
	r.manifest.len = alen;
	CHECK_RC(fwc_pl_release_encode(pl, sizeof(pl), &pl_len, &r), FWC_OK);
}

static void p_rollout(const uint8_t id[32], uint32_t action)
{
	struct fwc_pl_rollout p;

	memset(&p, 0, sizeof(p));
	memcpy(p.release_id, id, 32);
	p.action = action;
	CHECK_RC(fwc_pl_rollout_encode(pl, sizeof(pl), &pl_len, &p), FWC_OK);
}

static void p_release_revoke(const uint8_t id[32])
{
	struct fwc_pl_release_revoke p;

	memset(&p, 0, sizeof(p));
	memcpy(p.release_id, id, 32);
	p.reason = S("recalled");
	CHECK_RC(fwc_pl_release_revoke_encode(pl, sizeof(pl), &pl_len, &p), FWC_OK);
}

/* An event of device dev, signed by signer (normally dev itself). */
static void p_event(int dev, int signer, uint64_t seq, uint64_t kind, const uint8_t *rid)
{
	static uint8_t ev[512];
	struct fwc_event e;
	struct fwc_pl_device_event w;
	size_t len = 0;

	memset(&e, 0, sizeof(e));
	e.device = act[dev].pk;
	e.seq = seq;
	e.time = 12345;
	e.kind = kind;
	if (rid) {
		e.has_release = 1;
		memcpy(e.release_id, rid, 32);
	}
	if (signer == dev) {
		CHECK_RC(fwc_event_sign(ev, sizeof(ev), &len, &e, &act[dev].sk), FWC_OK);
	} else {
		/* Forge: sign with the right device key, then damage the signature. */
		CHECK_RC(fwc_event_sign(ev, sizeof(ev), &len, &e, &act[dev].sk), FWC_OK);
		ev[len - 1] ^= 0x01;
	}
	w.event.p = ev;
	w.event.len = len;
	CHECK_RC(fwc_pl_device_event_encode(pl, sizeof(pl), &pl_len, &w), FWC_OK);
}

/* dev's event in the self-reported form (payload field 2: the body, no event signature). */
static void p_event_self(int dev, uint64_t seq, uint64_t kind)
{
	static uint8_t body[512];
	struct fwc_event e;
	struct fwc_pl_device_event w;
	size_t len = 0;

	memset(&e, 0, sizeof(e));
	e.device = act[dev].pk;
	e.seq = seq;
	e.time = 12345;
	e.kind = kind;
	CHECK_RC(fwc_event_body_encode(body, sizeof(body), &len, &e), FWC_OK);
	memset(&w, 0, sizeof(w));
	w.body.p = body;
	w.body.len = len;
	CHECK_RC(fwc_pl_device_event_encode(pl, sizeof(pl), &pl_len, &w), FWC_OK);
}

static void p_validators(uint64_t version, uint64_t quorum, int dup)
{
	static struct fwc_pl_validator_set v;
	struct fwc_seckey sk;
	uint8_t secret[32];

	memset(&v, 0, sizeof(v));
	v.version = version;
	v.n = 2;
	for (int i = 0; i < 2; i++) {
		memset(secret, 0x10 + (dup ? 0 : i), sizeof(secret));
		CHECK_RC(fwc_key_from_secret(&sk, FWC_ALG_ED25519, secret), FWC_OK);
		CHECK_RC(fwc_key_public(&v.v[i].key, &sk), FWC_OK);
		v.v[i].name = S(i ? "v2" : "v1");
	}
	v.quorum = quorum;
	CHECK_RC(fwc_pl_validator_set_encode(pl, sizeof(pl), &pl_len, &v), FWC_OK);
}

/* ---------------------------------------------------------------------------------------- */
/* Setup                                                                                    */

static void open_db(sqlite3 **out, struct node_state *s)
{
	CHECK(sqlite3_open(":memory:", out) == SQLITE_OK);
	CHECK_RC(node_state_schema(*out), FWC_OK);
	CHECK_RC(node_state_open(s, *out), FWC_OK);
}

static void setup(void)
{
	actors_init();
	open_db(&db, &st);
	CHECK(sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) == SQLITE_OK);
	CHECK_RC(node_state_genesis(&st, CHAIN, "root", "Root org", &act[ROOT].pk, T0, &why),
	         FWC_OK);
	CHECK_RC(node_state_genesis(&st, CHAIN, "root", "Root org", &act[ROOT].pk, T0, &why),
	         FWC_ERR_STATE);
	CHECK(strcmp(why.code, "already_initialised") == 0);
}

/* ---------------------------------------------------------------------------------------- */
/* Tests, run in order (each builds on the state the previous ones left)                    */

static void test_organisations(void)
{
	uint32_t roles = 0;
	char org[NODE_STATE_ID_BUF];

	p_org("acme", ADM);
	EXPECT(ADM, FWC_TX_ORG_REGISTER, pl, pl_len, "unknown_sender"); /* not a member yet */
	EXPECT(ROOT, FWC_TX_ORG_REGISTER, pl, pl_len, "");
	EXPECT(ROOT, FWC_TX_ORG_REGISTER, pl, pl_len, "org_exists");
	p_org("acme2", ADM);
	EXPECT(ROOT, FWC_TX_ORG_REGISTER, pl, pl_len, "key_in_use");
	p_org("beta", BADM);
	EXPECT(ADM, FWC_TX_ORG_REGISTER, pl, pl_len, "root_admin_required");
	EXPECT(ROOT, FWC_TX_ORG_REGISTER, pl, pl_len, "");
	CHECK_RC(node_state_member(&st, &act[ADM].pk, org, &roles), FWC_OK);
	CHECK(strcmp(org, "acme") == 0 && roles == FWC_ROLE_BIT(FWC_ROLE_ADMIN));
}

static void test_members(void)
{
	uint32_t roles = 0;
	char org[NODE_STATE_ID_BUF];

	p_member_add(REL, FWC_ROLE_RELEASE);
	EXPECT(ADM, FWC_TX_MEMBER_ADD, pl, pl_len, "");
	EXPECT(ADM, FWC_TX_MEMBER_ADD, pl, pl_len, "role_held");
	p_member_add(OP, FWC_ROLE_OPERATOR);
	EXPECT(ADM, FWC_TX_MEMBER_ADD, pl, pl_len, "");
	p_member_add(GW, FWC_ROLE_GATEWAY);
	EXPECT(ADM, FWC_TX_MEMBER_ADD, pl, pl_len, "");
	p_member_add(AU, FWC_ROLE_AUDITOR);
	EXPECT(OP, FWC_TX_MEMBER_ADD, pl, pl_len, "role_required");
	EXPECT(ADM, FWC_TX_MEMBER_ADD, pl, pl_len, "");
	p_member_add(BOP, FWC_ROLE_OPERATOR);
	EXPECT(BADM, FWC_TX_MEMBER_ADD, pl, pl_len, "");
	p_member_add(BREL, FWC_ROLE_RELEASE);
	EXPECT(BADM, FWC_TX_MEMBER_ADD, pl, pl_len, "");
	/* A member of beta cannot join acme. */
	p_member_add(BOP, FWC_ROLE_GATEWAY);
	EXPECT(ADM, FWC_TX_MEMBER_ADD, pl, pl_len, "key_in_use");
	/* Two roles on one key, then one removed. */
	p_member_add(GW, FWC_ROLE_OPERATOR);
	EXPECT(ADM, FWC_TX_MEMBER_ADD, pl, pl_len, "");
	CHECK_RC(node_state_member(&st, &act[GW].pk, org, &roles), FWC_OK);
	CHECK(roles == (FWC_ROLE_BIT(FWC_ROLE_GATEWAY) | FWC_ROLE_BIT(FWC_ROLE_OPERATOR)));
	p_member_remove(GW, FWC_ROLE_OPERATOR);
	EXPECT(ADM, FWC_TX_MEMBER_REMOVE, pl, pl_len, "");
	EXPECT(ADM, FWC_TX_MEMBER_REMOVE, pl, pl_len, "role_not_held");
	CHECK_RC(node_state_member(&st, &act[GW].pk, org, &roles), FWC_OK);
	CHECK(roles == FWC_ROLE_BIT(FWC_ROLE_GATEWAY));
	/* The last admin cannot leave; beta's operator is not acme's to remove. */
	p_member_remove(ADM, 0);
	EXPECT(ADM, FWC_TX_MEMBER_REMOVE, pl, pl_len, "last_admin");
	p_member_remove(ADM, FWC_ROLE_ADMIN);
	EXPECT(ADM, FWC_TX_MEMBER_REMOVE, pl, pl_len, "last_admin");
	p_member_remove(BOP, 0);
	EXPECT(ADM, FWC_TX_MEMBER_REMOVE, pl, pl_len, "not_member");
	p_member_remove(STRANGER, 0);
	EXPECT(ADM, FWC_TX_MEMBER_REMOVE, pl, pl_len, "not_member");
	/* Still an admin after all that. */
	CHECK_RC(node_state_member(&st, &act[ADM].pk, org, &roles), FWC_OK);
	CHECK(roles == FWC_ROLE_BIT(FWC_ROLE_ADMIN));
}

/* Every write type against every role of acme: only the right roles get past the role check
 * (an empty map then fails as a malformed payload); the others get role_required. */
static void test_role_matrix(void)
{
	static const struct {
		uint32_t type;
		uint32_t allowed; /* role bits */
	} types[] = {
	    {FWC_TX_ORG_REGISTER, 1u << 0},
	    {FWC_TX_MEMBER_ADD, 1u << 0},
	    {FWC_TX_MEMBER_REMOVE, 1u << 0},
	    {FWC_TX_KEYSET_REGISTER, 1u << 0},
	    {FWC_TX_KEYSET_ROTATE, 1u << 0},
	    {FWC_TX_KEY_REVOKE, 1u << 0},
	    {FWC_TX_PRODUCT_REGISTER, 1u << 0},
	    {FWC_TX_DEVICE_REGISTER, 1u << 2},
	    {FWC_TX_RELEASE, 1u << 1},
	    {FWC_TX_RELEASE_REVOKE, 1u << 1},
	    {FWC_TX_DEVICE_EVENT, 1u << 2 | 1u << 3},
	    {FWC_TX_CONFIG_UPDATE, 1u << 2},
	    {FWC_TX_LICENCE_ISSUE, 1u << 2},
	    {FWC_TX_LICENCE_REVOKE, 1u << 2},
	    {FWC_TX_ROLLOUT_CONTROL, 1u << 2},
	    {FWC_TX_POSTPONE, 1u << 2},
	    {FWC_TX_VALIDATOR_SET, 1u << 0},
	};
	static const int role_actor[5] = {ADM, REL, OP, GW, AU};
	static const uint8_t empty[] = {0xa0};

	CHECK(sizeof(types) / sizeof(types[0]) == FWC_TX_TYPE_MAX);
	for (size_t t = 0; t < sizeof(types) / sizeof(types[0]); t++)
		for (int r = 0; r < 5; r++) {
			int allowed = (types[t].allowed >> r) & 1;
			const char *code = submit(role_actor[r], types[t].type, empty, 1);

			t_checks++;
			if (strcmp(code, allowed ? "malformed_payload" : "role_required") != 0) {
				t_failed++;
				fprintf(stderr, "matrix: type %u role %d: got '%s' (%s)\n",
				        (unsigned)types[t].type, r + 1, code, why.msg);
			}
		}
	/* A type number the state machine does not know is in the log as failed... but the
	 * envelope itself refuses unknown types, so it never reaches the rules. */
	{
		uint8_t tx[FWC_TX_MAX];
		struct fwc_tx t;
		uint8_t body[256];
		size_t blen = 0;

		memset(&t, 0, sizeof(t));
		t.type = FWC_TX_TYPE_MAX + 1;
		t.chain_id = S(CHAIN);
		t.sender = act[ADM].pk;
		t.nonce = act[ADM].nonce + 1;
		t.time = T0;
		CHECK(fwc_tx_encode_body(body, sizeof(body), &blen, &t, NULL) < 0);
		(void)tx;
	}
}

static void test_products_and_keysets(void)
{
	static const int roots[] = {K1, K2, K3}, rels[] = {S1, S2, S3};
	static const int k1[] = {K1}, k1k2[] = {K1, K2}, k1k3[] = {K1, K3}, k1x[] = {K1, S1};
	static const int newroot[] = {K4, K5}, k1k2k4k5[] = {K1, K2, K4, K5}, k4k5[] = {K4, K5};
	uint8_t *ks = NULL;
	size_t kslen = 0;
	uint64_t version = 0;

	p_product("thermo", 2, roots, 3);
	EXPECT(OP, FWC_TX_PRODUCT_REGISTER, pl, pl_len, "role_required");
	EXPECT(ADM, FWC_TX_PRODUCT_REGISTER, pl, pl_len, "");
	EXPECT(ADM, FWC_TX_PRODUCT_REGISTER, pl, pl_len, "product_exists");
	EXPECT(BADM, FWC_TX_PRODUCT_REGISTER, pl, pl_len, "product_exists");
	p_product("beta-cam", 1, k4k5, 1);
	EXPECT(BADM, FWC_TX_PRODUCT_REGISTER, pl, pl_len, "");

	/* The release set: 2 of 3 root signatures needed. */
	p_statement("thermo", FWC_ROTATE_RELEASE, 1, 2, rels, 3, k1, 1);
	EXPECT(ADM, FWC_TX_KEYSET_REGISTER, pl, pl_len, "threshold_not_met");
	/* K1 and a key that is not a root key: still one. */
	p_statement("thermo", FWC_ROTATE_RELEASE, 1, 2, rels, 3, k1x, 2);
	EXPECT(ADM, FWC_TX_KEYSET_REGISTER, pl, pl_len, "threshold_not_met");
	p_statement("thermo", FWC_ROTATE_RELEASE, 2, 2, rels, 3, k1k2, 2);
	EXPECT(ADM, FWC_TX_KEYSET_REGISTER, pl, pl_len, "version_not_next");
	p_statement("thermo", FWC_ROTATE_ROOT, 1, 2, rels, 3, k1k2, 2);
	EXPECT(ADM, FWC_TX_KEYSET_REGISTER, pl, pl_len, "malformed_payload");
	p_statement("thermo", FWC_ROTATE_RELEASE, 1, 2, rels, 3, k1k2, 2);
	EXPECT(BADM, FWC_TX_KEYSET_REGISTER, pl, pl_len, "not_owner");
	EXPECT(ADM, FWC_TX_KEYSET_ROTATE, pl, pl_len, "no_release_set");
	EXPECT(ADM, FWC_TX_KEYSET_REGISTER, pl, pl_len, "");
	EXPECT(ADM, FWC_TX_KEYSET_REGISTER, pl, pl_len, "keyset_exists");
	p_statement("nothere", FWC_ROTATE_RELEASE, 1, 2, rels, 3, k1k2, 2);
	EXPECT(ADM, FWC_TX_KEYSET_REGISTER, pl, pl_len, "unknown_product");

	/* One key signing twice cannot even be encoded or decoded: a hand-made statement with
	 * K1's signature entry repeated is malformed. */
	{
		uint8_t stmt[4096], digest[32], bin[33], sig[64], raw[4096];
		struct fwc_rotation rot;
		struct fwc_keyset_sig one;
		struct fwc_pl_keyset_statement w;
		uint8_t ksb[FWC_KEYSET_ENC_MAX];
		size_t slen = 0, entry, n;

		memset(&rot, 0, sizeof(rot));
		rot.product = S("thermo");
		rot.set = FWC_ROTATE_RELEASE;
		rot.version = 2;
		rot.keyset.p = ksb;
		rot.keyset.len = keyset(ksb, 2, rels, 3);
		CHECK_RC(fwc_rotation_digest(digest, &rot), FWC_OK);
		CHECK_RC(fwc_pubkey_to_bin(bin, &act[K1].pk), FWC_OK);
		CHECK_RC(fwc_sign(sig, &act[K1].sk, digest, 32), FWC_OK);
		one.pubkey = bin;
		one.sig = sig;
		CHECK_RC(fwc_rotation_encode(stmt, sizeof(stmt), &slen, &rot, &one, 1), FWC_OK);
		/* The statement ends with "81" + one 103-byte entry; make it "82" + entry twice. */
		entry = 1 + 2 + 33 + 2 + 2 + 64;
		CHECK(stmt[slen - entry - 1] == 0x81);
		memcpy(raw, stmt, slen);
		raw[slen - entry - 1] = 0x82;
		memcpy(raw + slen, stmt + slen - entry, entry);
		n = slen + entry;
		w.statement.p = raw;
		w.statement.len = n;
		CHECK_RC(fwc_pl_keyset_statement_encode(pl, sizeof(pl), &pl_len, &w), FWC_OK);
		EXPECT(ADM, FWC_TX_KEYSET_ROTATE, pl, pl_len, "malformed_payload");
		CHECK(strstr(why.msg, "one per key") != NULL || strstr(why.msg, "sorted") != NULL);
	}

	/* Rotation of the release set. */
	p_statement("thermo", FWC_ROTATE_RELEASE, 2, 2, rels, 3, k1, 1);
	EXPECT(ADM, FWC_TX_KEYSET_ROTATE, pl, pl_len, "threshold_not_met");
	p_statement("thermo", FWC_ROTATE_RELEASE, 3, 2, rels, 3, k1k3, 2);
	EXPECT(ADM, FWC_TX_KEYSET_ROTATE, pl, pl_len, "version_not_next");
	p_statement("thermo", FWC_ROTATE_RELEASE, 2, 2, rels, 3, k1k3, 2);
	EXPECT(REL, FWC_TX_KEYSET_ROTATE, pl, pl_len, "role_required");
	EXPECT(ADM, FWC_TX_KEYSET_ROTATE, pl, pl_len, "");
	CHECK_RC(node_state_keyset(&st, "thermo", FWC_ROTATE_RELEASE, &ks, &kslen, &version),
	         FWC_OK);
	CHECK(version == 2);
	free(ks);

	/* Root rotation: the new set must sign too. */
	p_statement("thermo", FWC_ROTATE_ROOT, 2, 2, newroot, 2, k1k2, 2);
	EXPECT(ADM, FWC_TX_KEYSET_ROTATE, pl, pl_len, "threshold_not_met_new");
	p_statement("thermo", FWC_ROTATE_ROOT, 2, 2, newroot, 2, k4k5, 2);
	EXPECT(ADM, FWC_TX_KEYSET_ROTATE, pl, pl_len, "threshold_not_met");
	p_statement("thermo", FWC_ROTATE_ROOT, 2, 2, newroot, 2, k1k2k4k5, 4);
	EXPECT(ADM, FWC_TX_KEYSET_ROTATE, pl, pl_len, "");
	/* The old root keys no longer count. */
	p_statement("thermo", FWC_ROTATE_RELEASE, 3, 2, rels, 3, k1k2, 2);
	EXPECT(ADM, FWC_TX_KEYSET_ROTATE, pl, pl_len, "threshold_not_met");
	p_statement("thermo", FWC_ROTATE_RELEASE, 3, 2, rels, 3, k4k5, 2);
	EXPECT(ADM, FWC_TX_KEYSET_ROTATE, pl, pl_len, "");
}

static uint8_t rid10[32], rid11[32], rid12[32], ridbeta[32], rid13[32];

static void test_releases(void)
{
	static const int s2s3[] = {S2, S3}, s2[] = {S2}, s1s2[] = {S1, S2}, s1s2s3[] = {S1, S2, S3};
	uint8_t tmp[32];

	p_release("thermo", "stable", 10, s2s3, 2, rid10);
	EXPECT(OP, FWC_TX_RELEASE, pl, pl_len, "role_required");
	EXPECT(BREL, FWC_TX_RELEASE, pl, pl_len, "not_owner");
	EXPECT(REL, FWC_TX_RELEASE, pl, pl_len, "");
	/* Same counter, lower counter: refused; the same counter in another channel is fine. */
	EXPECT(REL, FWC_TX_RELEASE, pl, pl_len, "counter_not_increasing");
	p_release("thermo", "stable", 9, s2s3, 2, tmp);
	EXPECT(REL, FWC_TX_RELEASE, pl, pl_len, "counter_not_increasing");
	p_release("thermo", "beta", 10, s2s3, 2, ridbeta);
	EXPECT(REL, FWC_TX_RELEASE, pl, pl_len, "");
	/* Threshold 2 of 3: one signature is not enough. */
	p_release("thermo", "stable", 11, s2, 1, tmp);
	EXPECT(REL, FWC_TX_RELEASE, pl, pl_len, "threshold_not_met");
	/* 2 of 3 with the same key twice: a signed manifest cannot carry it (entries sorted
	 * strictly by key), so the hand-made one with S2's entry repeated is malformed. */
	{
		static uint8_t m[FWC_SIGNED_MANIFEST_MAX + 128];
		struct fwc_pl_release r;
		const size_t entry = 1 + 2 + 33 + 2 + 64; /* [key, signature] */
		size_t n;

		CHECK_RC(fwc_pl_release_decode(&r, pl, pl_len, NULL), FWC_OK);
		n = r.manifest.len;
		memcpy(m, r.manifest.p, n);
		CHECK(m[n - entry - 1] == 0x81);
		m[n - entry - 1] = 0x82;
		memcpy(m + n, m + n - entry, entry);
		r.manifest.p = m;
		r.manifest.len = n + entry;
		CHECK_RC(fwc_pl_release_encode(pl, sizeof(pl), &pl_len, &r), FWC_OK);
		EXPECT(REL, FWC_TX_RELEASE, pl, pl_len, "malformed_manifest");
	}
	p_release("thermo", "stable", 11, s1s2, 2, rid11);
	EXPECT(REL, FWC_TX_RELEASE, pl, pl_len, "");
	p_release("nothere", "stable", 1, s1s2, 2, tmp);
	EXPECT(REL, FWC_TX_RELEASE, pl, pl_len, "unknown_product");
	/* beta-cam has no release set. */
	p_release("beta-cam", "stable", 1, s1s2, 2, tmp);
	EXPECT(BREL, FWC_TX_RELEASE, pl, pl_len, "no_release_set");

	/* Revoke S1: its signature counts zero, so S1+S2 is one valid signature. */
	p_key_revoke(S1);
	EXPECT(BADM, FWC_TX_KEY_REVOKE, pl, pl_len, "not_owner");
	EXPECT(REL, FWC_TX_KEY_REVOKE, pl, pl_len, "role_required");
	EXPECT(ADM, FWC_TX_KEY_REVOKE, pl, pl_len, "");
	EXPECT(ADM, FWC_TX_KEY_REVOKE, pl, pl_len, "already_revoked");
	p_release("thermo", "stable", 12, s1s2, 2, tmp);
	EXPECT(REL, FWC_TX_RELEASE, pl, pl_len, "threshold_not_met");
	CHECK(strstr(why.msg, "revoked") != NULL);
	p_release("thermo", "stable", 12, s1s2s3, 3, rid12);
	EXPECT(REL, FWC_TX_RELEASE, pl, pl_len, "");
	/* A revoked key can never become a member. */
	p_member_add(S1, FWC_ROLE_OPERATOR);
	EXPECT(ADM, FWC_TX_MEMBER_ADD, pl, pl_len, "key_revoked");
	/* The stored release set shows the revocation. */
	{
		uint8_t *ks = NULL;
		size_t kslen = 0;
		struct fwc_keyset set;
		int i;

		CHECK_RC(node_state_keyset(&st, "thermo", FWC_ROTATE_RELEASE, &ks, &kslen, NULL),
		         FWC_OK);
		CHECK_RC(fwc_keyset_decode(&set, ks, kslen, NULL), FWC_OK);
		i = fwc_keyset_find(&set, &act[S1].pk);
		CHECK(i >= 0 && set.revoked[i] == 1);
		free(ks);
	}
	/* Counter 13 for the revoke/rollout tests. */
	p_release("thermo", "stable", 13, s2s3, 2, rid13);
	EXPECT(REL, FWC_TX_RELEASE, pl, pl_len, "");
}

struct collect {
	int n;
	uint64_t counters[16];
	uint8_t id[32];
	int rollout, revoked;
	uint64_t dev_counter, last_seq;
	char groups[64], region[33];
};

static int on_release(void *ctx, const struct node_release_row *r)
{
	struct collect *c = ctx;

	if (c->n < 16)
		c->counters[c->n] = r->counter;
	c->n++;
	memcpy(c->id, r->id, 32);
	c->rollout = r->rollout;
	c->revoked = r->revoked;
	return 0;
}

static uint64_t latest(const char *channel, const char *hw, uint64_t counter)
{
	struct collect c;
	int rc;

	memset(&c, 0, sizeof(c));
	rc = node_state_release_latest(&st, "thermo", channel, hw, counter, on_release, &c);
	if (rc == FWC_ERR_NOT_FOUND)
		return 0;
	CHECK_RC(rc, FWC_OK);
	CHECK(c.n == 1);
	return c.counters[0];
}

static void test_rollouts(void)
{
	struct collect c;

	CHECK(latest("stable", "rev-b", 0) == 13);
	CHECK(latest("stable", "rev-c", 12) == 13);
	CHECK(latest("stable", "rev-b", 13) == 0);
	CHECK(latest("stable", "rev-z", 0) == 0);
	CHECK(latest("beta", "rev-b", 0) == 10);
	memset(&c, 0, sizeof(c));
	CHECK_RC(node_state_releases(&st, "thermo", "stable", on_release, &c), FWC_OK);
	CHECK(c.n == 4 && c.counters[0] == 13 && c.counters[3] == 10);
	memset(&c, 0, sizeof(c));
	CHECK_RC(node_state_releases(&st, "thermo", NULL, on_release, &c), FWC_OK);
	CHECK(c.n == 5);

	p_rollout(rid13, FWC_ROLLOUT_PAUSE);
	EXPECT(REL, FWC_TX_ROLLOUT_CONTROL, pl, pl_len, "role_required");
	EXPECT(BOP, FWC_TX_ROLLOUT_CONTROL, pl, pl_len, "not_owner");
	EXPECT(OP, FWC_TX_ROLLOUT_CONTROL, pl, pl_len, "");
	EXPECT(OP, FWC_TX_ROLLOUT_CONTROL, pl, pl_len, "rollout_state");
	/* Paused: check-in falls back to 12. */
	CHECK(latest("stable", "rev-b", 0) == 12);
	p_rollout(rid13, FWC_ROLLOUT_RESUME);
	EXPECT(OP, FWC_TX_ROLLOUT_CONTROL, pl, pl_len, "");
	EXPECT(OP, FWC_TX_ROLLOUT_CONTROL, pl, pl_len, "rollout_state");
	CHECK(latest("stable", "rev-b", 0) == 13);
	p_rollout(rid13, FWC_ROLLOUT_HALT);
	EXPECT(OP, FWC_TX_ROLLOUT_CONTROL, pl, pl_len, "");
	EXPECT(OP, FWC_TX_ROLLOUT_CONTROL, pl, pl_len, "rollout_halted");
	p_rollout(rid13, FWC_ROLLOUT_RESUME);
	EXPECT(OP, FWC_TX_ROLLOUT_CONTROL, pl, pl_len, "rollout_halted");
	CHECK(latest("stable", "rev-b", 0) == 12);

	/* Revoke 12: the newest offered is 11; counters stay used. */
	p_release_revoke(rid12);
	EXPECT(OP, FWC_TX_RELEASE_REVOKE, pl, pl_len, "role_required");
	EXPECT(BREL, FWC_TX_RELEASE_REVOKE, pl, pl_len, "not_owner");
	EXPECT(REL, FWC_TX_RELEASE_REVOKE, pl, pl_len, "");
	EXPECT(REL, FWC_TX_RELEASE_REVOKE, pl, pl_len, "already_revoked");
	CHECK(latest("stable", "rev-b", 0) == 11);
	p_rollout(rid12, FWC_ROLLOUT_PAUSE);
	EXPECT(OP, FWC_TX_ROLLOUT_CONTROL, pl, pl_len, "release_revoked");
	{
		uint8_t none[32] = {0};

		p_rollout(none, FWC_ROLLOUT_PAUSE);
		EXPECT(OP, FWC_TX_ROLLOUT_CONTROL, pl, pl_len, "unknown_release");
		p_release_revoke(none);
		EXPECT(REL, FWC_TX_RELEASE_REVOKE, pl, pl_len, "unknown_release");
	}
	memset(&c, 0, sizeof(c));
	CHECK_RC(node_state_release_get(&st, rid12, on_release, &c), FWC_OK);
	CHECK(c.n == 1 && c.revoked == 1 && memcmp(c.id, rid12, 32) == 0);
	memset(&c, 0, sizeof(c));
	CHECK_RC(node_state_release_get(&st, rid13, on_release, &c), FWC_OK);
	CHECK(c.rollout == NODE_ROLLOUT_HALTED);
}

static int on_device(void *ctx, const struct node_device_row *d)
{
	struct collect *c = ctx;

	c->n++;
	c->dev_counter = d->counter;
	c->last_seq = d->last_seq;
	c->rollout = d->retired;
	snprintf(c->groups, sizeof(c->groups), "%s", d->groups);
	snprintf(c->region, sizeof(c->region), "%s", d->region);
	return 0;
}

static void test_devices(void)
{
	struct collect c;

	p_device(D1, "thermo", "rev-b", 0, 0);
	EXPECT(REL, FWC_TX_DEVICE_REGISTER, pl, pl_len, "role_required");
	EXPECT(AU, FWC_TX_DEVICE_REGISTER, pl, pl_len, "role_required");
	EXPECT(BOP, FWC_TX_DEVICE_REGISTER, pl, pl_len, "not_owner");
	EXPECT(OP, FWC_TX_DEVICE_REGISTER, pl, pl_len, "");
	EXPECT(OP, FWC_TX_DEVICE_REGISTER, pl, pl_len, "device_exists");
	p_device(D2, "thermo", "rev-c", 0, 0);
	EXPECT(OP, FWC_TX_DEVICE_REGISTER, pl, pl_len, "");
	p_device(D3, "nothere", "rev-c", 0, 0);
	EXPECT(OP, FWC_TX_DEVICE_REGISTER, pl, pl_len, "unknown_product");
	p_device(GW, "thermo", "rev-c", 0, 0);
	EXPECT(OP, FWC_TX_DEVICE_REGISTER, pl, pl_len, "key_in_use");
	p_device(S1, "thermo", "rev-c", 0, 0);
	EXPECT(OP, FWC_TX_DEVICE_REGISTER, pl, pl_len, "key_revoked");
	/* A device key cannot become a member. */
	p_member_add(D1, FWC_ROLE_GATEWAY);
	EXPECT(ADM, FWC_TX_MEMBER_ADD, pl, pl_len, "key_in_use");

	memset(&c, 0, sizeof(c));
	CHECK_RC(node_state_devices(&st, "thermo", NULL, NULL, 100, on_device, &c), FWC_OK);
	CHECK(c.n == 2);
	memset(&c, 0, sizeof(c));
	CHECK_RC(node_state_devices(&st, "thermo", "pilot", NULL, 100, on_device, &c), FWC_OK);
	CHECK(c.n == 2);
	/* Update D1: new groups; wrong hardware id refused. */
	p_device(D1, "thermo", "rev-x", 1, 0);
	EXPECT(OP, FWC_TX_DEVICE_REGISTER, pl, pl_len, "hwid_mismatch");
	p_device(D1, "thermo", "rev-b", 1, 0);
	EXPECT(OP, FWC_TX_DEVICE_REGISTER, pl, pl_len, "");
	p_device(D3, "thermo", "rev-b", 1, 0);
	EXPECT(OP, FWC_TX_DEVICE_REGISTER, pl, pl_len, "unknown_device");
	memset(&c, 0, sizeof(c));
	CHECK_RC(node_state_devices(&st, "thermo", "pilot", NULL, 100, on_device, &c), FWC_OK);
	CHECK(c.n == 1);
	memset(&c, 0, sizeof(c));
	CHECK_RC(node_state_device_get(&st, &act[D1].pk, on_device, &c), FWC_OK);
	CHECK(c.n == 1 && strcmp(c.groups, "eu,wave2") == 0 && strcmp(c.region, "eu-west") == 0);
	/* Pagination: one row at a time. */
	memset(&c, 0, sizeof(c));
	CHECK_RC(node_state_devices(&st, "thermo", NULL, NULL, 1, on_device, &c), FWC_OK);
	CHECK(c.n == 1);
	/* Retire D2. */
	p_device(D2, "thermo", "rev-c", 1, 1);
	EXPECT(OP, FWC_TX_DEVICE_REGISTER, pl, pl_len, "");
	EXPECT(OP, FWC_TX_DEVICE_REGISTER, pl, pl_len, "device_retired");
	CHECK_RC(node_state_device_get(&st, &act[D3].pk, on_device, &c), FWC_ERR_NOT_FOUND);
}

static int on_event(void *ctx, const struct node_event_row *e)
{
	struct collect *c = ctx;

	if (c->n < 16)
		c->counters[c->n] = e->seq;
	c->n++;
	return 0;
}

static void test_events(void)
{
	struct collect c;

	p_event(D1, D1, 1, FWC_EVENT_CHECKIN, NULL);
	EXPECT(AU, FWC_TX_DEVICE_EVENT, pl, pl_len, "role_required");
	EXPECT(REL, FWC_TX_DEVICE_EVENT, pl, pl_len, "role_required");
	EXPECT(GW, FWC_TX_DEVICE_EVENT, pl, pl_len, "");
	EXPECT(GW, FWC_TX_DEVICE_EVENT, pl, pl_len, "seq_not_increasing");
	/* Another organisation's gateway-capable operator may relay it too (seq 3, a gap). */
	p_event(D1, D1, 3, FWC_EVENT_DOWNLOADED, rid11);
	EXPECT(BOP, FWC_TX_DEVICE_EVENT, pl, pl_len, "");
	p_event(D1, D1, 2, FWC_EVENT_CHECKIN, NULL);
	EXPECT(GW, FWC_TX_DEVICE_EVENT, pl, pl_len, "seq_not_increasing");
	/* A broken device signature. */
	p_event(D1, -1, 4, FWC_EVENT_CHECKIN, NULL);
	EXPECT(GW, FWC_TX_DEVICE_EVENT, pl, pl_len, "bad_event_signature");
	/* The device itself sends its confirmation of release 11: its counter moves. */
	p_event(D1, D1, 4, FWC_EVENT_CONFIRMED, rid11);
	EXPECT(D1, FWC_TX_DEVICE_EVENT, pl, pl_len, "");
	memset(&c, 0, sizeof(c));
	CHECK_RC(node_state_device_get(&st, &act[D1].pk, on_device, &c), FWC_OK);
	CHECK(c.dev_counter == 11 && c.last_seq == 4);
	/* A device cannot send another device's events, nor any other transaction. */
	p_event(D2, D2, 1, FWC_EVENT_CHECKIN, NULL);
	EXPECT(D1, FWC_TX_DEVICE_EVENT, pl, pl_len, "role_required");
	p_device(D3, "thermo", "rev-b", 0, 0);
	EXPECT(D1, FWC_TX_DEVICE_REGISTER, pl, pl_len, "unknown_sender");
	/* Retired device, unknown device, release of another product. */
	p_event(D2, D2, 1, FWC_EVENT_CHECKIN, NULL);
	EXPECT(GW, FWC_TX_DEVICE_EVENT, pl, pl_len, "device_retired");
	p_event(D3, D3, 1, FWC_EVENT_CHECKIN, NULL);
	EXPECT(GW, FWC_TX_DEVICE_EVENT, pl, pl_len, "unknown_device");
	{
		uint8_t none[32] = {1};

		p_event(D1, D1, 9, FWC_EVENT_INSTALLED, none);
		EXPECT(GW, FWC_TX_DEVICE_EVENT, pl, pl_len, "unknown_release");
	}
	/* The self-reported form (no event signature): only from the device itself, whose
	 * envelope signature covers the body; a gateway or operator relaying it is refused. */
	p_event_self(D1, 5, FWC_EVENT_CHECKIN);
	EXPECT(GW, FWC_TX_DEVICE_EVENT, pl, pl_len, "bad_event_signature");
	EXPECT(BOP, FWC_TX_DEVICE_EVENT, pl, pl_len, "bad_event_signature");
	EXPECT(D1, FWC_TX_DEVICE_EVENT, pl, pl_len, "");
	EXPECT(D1, FWC_TX_DEVICE_EVENT, pl, pl_len, "seq_not_increasing");
	p_event_self(D2, 9, FWC_EVENT_CHECKIN);
	EXPECT(D1, FWC_TX_DEVICE_EVENT, pl, pl_len, "role_required");
	/* A body the event rules refuse (kind 8 is reserved): the payload decoder takes any
	 * canonical map in field 2, the state machine decodes the body and fails it. */
	{
		static const uint8_t bad[] = {0xa1, 0x02, 0xa1, 0x04, 0x08};

		EXPECT(D1, FWC_TX_DEVICE_EVENT, bad, sizeof(bad), "malformed_payload");
	}
	memset(&c, 0, sizeof(c));
	CHECK_RC(node_state_device_get(&st, &act[D1].pk, on_device, &c), FWC_OK);
	CHECK(c.dev_counter == 11 && c.last_seq == 5);
	memset(&c, 0, sizeof(c));
	CHECK_RC(node_state_device_events(&st, &act[D1].pk, 0, 100, on_event, &c), FWC_OK);
	CHECK(c.n == 4 && c.counters[0] == 5 && c.counters[1] == 4 && c.counters[2] == 3 &&
	      c.counters[3] == 1);
	memset(&c, 0, sizeof(c));
	CHECK_RC(node_state_device_events(&st, &act[D1].pk, 4, 100, on_event, &c), FWC_OK);
	CHECK(c.n == 2);
	memset(&c, 0, sizeof(c));
	CHECK_RC(node_state_events(&st, "thermo", FWC_EVENT_CONFIRMED, 0, 0, 100, on_event, &c),
	         FWC_OK);
	CHECK(c.n == 1 && c.counters[0] == 4);
}

static void test_config_licences_postpone(void)
{
	static const uint8_t val[] = {1, 2, 3};
	struct fwc_pl_config_update cu;
	struct fwc_pl_licence_issue li;
	struct fwc_pl_licence_revoke lr;
	struct fwc_pl_postpone pp;

	memset(&cu, 0, sizeof(cu));
	cu.product = S("thermo");
	cu.name = S("interval");
	cu.has_value = 1;
	cu.value.p = val;
	cu.value.len = sizeof(val);
	CHECK_RC(fwc_pl_config_update_encode(pl, sizeof(pl), &pl_len, &cu), FWC_OK);
	EXPECT(REL, FWC_TX_CONFIG_UPDATE, pl, pl_len, "role_required");
	EXPECT(BOP, FWC_TX_CONFIG_UPDATE, pl, pl_len, "not_owner");
	EXPECT(OP, FWC_TX_CONFIG_UPDATE, pl, pl_len, "");
	cu.has_value = 0;
	CHECK_RC(fwc_pl_config_update_encode(pl, sizeof(pl), &pl_len, &cu), FWC_OK);
	EXPECT(OP, FWC_TX_CONFIG_UPDATE, pl, pl_len, "");
	EXPECT(OP, FWC_TX_CONFIG_UPDATE, pl, pl_len, "unknown_config");
	cu.has_device = 1;
	cu.device = act[D3].pk;
	cu.has_value = 1;
	CHECK_RC(fwc_pl_config_update_encode(pl, sizeof(pl), &pl_len, &cu), FWC_OK);
	EXPECT(OP, FWC_TX_CONFIG_UPDATE, pl, pl_len, "unknown_device");
	cu.device = act[D1].pk;
	CHECK_RC(fwc_pl_config_update_encode(pl, sizeof(pl), &pl_len, &cu), FWC_OK);
	EXPECT(OP, FWC_TX_CONFIG_UPDATE, pl, pl_len, "");
	{
		/* The version counts on across a delete. */
		sqlite3_stmt *s;

		CHECK(sqlite3_prepare_v2(db,
		                         "SELECT max(version) FROM state_config WHERE scope = 0",
		                         -1, &s, NULL) == SQLITE_OK);
		CHECK(sqlite3_step(s) == SQLITE_ROW && sqlite3_column_int(s, 0) == 2);
		sqlite3_finalize(s);
	}

	memset(&li, 0, sizeof(li));
	li.id = S("lic-1");
	li.product = S("thermo");
	li.has_device = 1;
	li.device = act[D1].pk;
	li.feature = S("pro");
	li.not_before = T0;
	li.not_after = T0;
	CHECK_RC(fwc_pl_licence_issue_encode(pl, sizeof(pl), &pl_len, &li), FWC_OK);
	EXPECT(OP, FWC_TX_LICENCE_ISSUE, pl, pl_len, "bad_time");
	li.not_after = 0;
	CHECK_RC(fwc_pl_licence_issue_encode(pl, sizeof(pl), &pl_len, &li), FWC_OK);
	EXPECT(GW, FWC_TX_LICENCE_ISSUE, pl, pl_len, "role_required");
	EXPECT(OP, FWC_TX_LICENCE_ISSUE, pl, pl_len, "");
	EXPECT(OP, FWC_TX_LICENCE_ISSUE, pl, pl_len, "licence_exists");
	li.id = S("lic-2");
	li.device = act[D3].pk;
	CHECK_RC(fwc_pl_licence_issue_encode(pl, sizeof(pl), &pl_len, &li), FWC_OK);
	EXPECT(OP, FWC_TX_LICENCE_ISSUE, pl, pl_len, "unknown_device");
	memset(&lr, 0, sizeof(lr));
	lr.id = S("lic-1");
	lr.product = S("thermo");
	CHECK_RC(fwc_pl_licence_revoke_encode(pl, sizeof(pl), &pl_len, &lr), FWC_OK);
	EXPECT(BOP, FWC_TX_LICENCE_REVOKE, pl, pl_len, "not_owner");
	EXPECT(OP, FWC_TX_LICENCE_REVOKE, pl, pl_len, "");
	EXPECT(OP, FWC_TX_LICENCE_REVOKE, pl, pl_len, "already_revoked");
	lr.id = S("lic-9");
	CHECK_RC(fwc_pl_licence_revoke_encode(pl, sizeof(pl), &pl_len, &lr), FWC_OK);
	EXPECT(OP, FWC_TX_LICENCE_REVOKE, pl, pl_len, "unknown_licence");

	memset(&pp, 0, sizeof(pp));
	pp.has_device = 1;
	pp.device = act[D1].pk;
	memcpy(pp.release_id, rid11, 32);
	pp.until = (uint64_t)now + 3600;
	CHECK_RC(fwc_pl_postpone_encode(pl, sizeof(pl), &pl_len, &pp), FWC_OK);
	EXPECT(GW, FWC_TX_POSTPONE, pl, pl_len, "role_required");
	EXPECT(BOP, FWC_TX_POSTPONE, pl, pl_len, "not_owner");
	EXPECT(OP, FWC_TX_POSTPONE, pl, pl_len, "");
	pp.until = (uint64_t)now;
	CHECK_RC(fwc_pl_postpone_encode(pl, sizeof(pl), &pl_len, &pp), FWC_OK);
	EXPECT(OP, FWC_TX_POSTPONE, pl, pl_len, "bad_time");
	pp.until = (uint64_t)now + 91 * 86400;
	CHECK_RC(fwc_pl_postpone_encode(pl, sizeof(pl), &pl_len, &pp), FWC_OK);
	EXPECT(OP, FWC_TX_POSTPONE, pl, pl_len, "bad_time");
	pp.until = (uint64_t)now + 60;
	pp.device = act[D2].pk;
	CHECK_RC(fwc_pl_postpone_encode(pl, sizeof(pl), &pl_len, &pp), FWC_OK);
	EXPECT(OP, FWC_TX_POSTPONE, pl, pl_len, "device_retired");
	pp.has_device = 0;
	pp.has_group = 1;
	pp.group = S("pilot");
	CHECK_RC(fwc_pl_postpone_encode(pl, sizeof(pl), &pl_len, &pp), FWC_OK);
	EXPECT(OP, FWC_TX_POSTPONE, pl, pl_len, "");
	EXPECT(BOP, FWC_TX_POSTPONE, pl, pl_len, "not_owner");
}

static void test_validators(void)
{
	p_validators(1, 2, 0);
	EXPECT(ADM, FWC_TX_VALIDATOR_SET, pl, pl_len, "root_admin_required");
	EXPECT(OP, FWC_TX_VALIDATOR_SET, pl, pl_len, "role_required");
	EXPECT(ROOT, FWC_TX_VALIDATOR_SET, pl, pl_len, "");
	EXPECT(ROOT, FWC_TX_VALIDATOR_SET, pl, pl_len, "version_not_next");
	p_validators(2, 3, 0);
	EXPECT(ROOT, FWC_TX_VALIDATOR_SET, pl, pl_len, "bad_quorum");
	p_validators(2, 0, 0);
	EXPECT(ROOT, FWC_TX_VALIDATOR_SET, pl, pl_len, "bad_quorum");
	p_validators(2, 1, 1);
	EXPECT(ROOT, FWC_TX_VALIDATOR_SET, pl, pl_len, "duplicate_key");
}

/* Envelope-level checks: reject without consuming the nonce. */
static void test_envelope(void)
{
	static uint8_t tx[FWC_TX_MAX];
	uint64_t before = 0, after = 0;
	size_t len;
	int rc;

	p_member_add(STRANGER, FWC_ROLE_AUDITOR);
	CHECK_RC(node_state_nonce(&st, &act[ADM].pk, &before), FWC_OK);
	CHECK(before == act[ADM].nonce);
	/* Wrong chain. */
	len = make_tx(tx, sizeof(tx), ADM, FWC_TX_MEMBER_ADD, before + 1, "other-chain", T0, pl,
	              pl_len);
	rc = apply_raw(tx, len);
	CHECK(rc < 0 && strcmp(why.code, "chain_id_mismatch") == 0 &&
	      why.kind == NODE_REFUSAL_REJECT);
	/* Gap, future, expired. */
	len = make_tx(tx, sizeof(tx), ADM, FWC_TX_MEMBER_ADD, before + 2, CHAIN, T0, pl, pl_len);
	CHECK(apply_raw(tx, len) < 0 && strcmp(why.code, "nonce_gap") == 0);
	len = make_tx(tx, sizeof(tx), ADM, FWC_TX_MEMBER_ADD, before + 1, CHAIN,
	              (uint64_t)now + 601, pl, pl_len);
	CHECK(apply_raw(tx, len) < 0 && strcmp(why.code, "time_in_future") == 0);
	len = make_tx(tx, sizeof(tx), ADM, FWC_TX_MEMBER_ADD, before + 1, CHAIN,
	              (uint64_t)now - 86401, pl, pl_len);
	CHECK(apply_raw(tx, len) < 0 && strcmp(why.code, "tx_expired") == 0);
	/* A bad signature: flip the last byte. */
	len = make_tx(tx, sizeof(tx), ADM, FWC_TX_MEMBER_ADD, before + 1, CHAIN, T0, pl, pl_len);
	tx[len - 1] ^= 1;
	CHECK(apply_raw(tx, len) < 0 && strcmp(why.code, "bad_signature") == 0);
	/* The producer's one-shot "envelope already verified" flag skips only the signature check
	 * (the same bad signature with a nonce gap then fails on the gap) and covers one call. */
	len = make_tx(tx, sizeof(tx), ADM, FWC_TX_MEMBER_ADD, before + 2, CHAIN, T0, pl, pl_len);
	tx[len - 1] ^= 1;
	st.envelope_verified = 1;
	CHECK(apply_raw(tx, len) < 0 && strcmp(why.code, "nonce_gap") == 0);
	CHECK(st.envelope_verified == 0);
	CHECK(apply_raw(tx, len) < 0 && strcmp(why.code, "bad_signature") == 0);
	/* Garbage. */
	CHECK(apply_raw((const uint8_t *)"\xa0", 1) < 0 && strcmp(why.code, "malformed_tx") == 0);
	/* Unknown sender. */
	len = make_tx(tx, sizeof(tx), STRANGER, FWC_TX_MEMBER_ADD, 1, CHAIN, T0, pl, pl_len);
	CHECK(apply_raw(tx, len) < 0 && strcmp(why.code, "unknown_sender") == 0);
	CHECK_RC(node_state_nonce(&st, &act[ADM].pk, &after), FWC_OK);
	CHECK(after == before);

	/* Now the good one, then its replay. */
	tx[len - 1] ^= 0; /* (rebuilt below) */
	len = make_tx(tx, sizeof(tx), ADM, FWC_TX_MEMBER_ADD, before + 1, CHAIN, T0, pl, pl_len);
	CHECK_RC(apply_raw(tx, len), FWC_OK);
	act[ADM].nonce++;
	rc = apply_raw(tx, len);
	CHECK(rc < 0 && strcmp(why.code, "nonce_replay") == 0 && why.kind == NODE_REFUSAL_REJECT);

	/* A failed transaction consumes its nonce and changes nothing else. */
	CHECK_RC(node_state_nonce(&st, &act[ADM].pk, &before), FWC_OK);
	p_org("gamma", STRANGER);
	EXPECT(ADM, FWC_TX_ORG_REGISTER, pl, pl_len, "root_admin_required");
	CHECK(why.kind == NODE_REFUSAL_FAIL);
	CHECK_RC(node_state_nonce(&st, &act[ADM].pk, &after), FWC_OK);
	CHECK(after == before + 1);

	/* A revoked member key is rejected as a sender. */
	p_key_revoke(AU);
	EXPECT(ADM, FWC_TX_KEY_REVOKE, pl, pl_len, "");
	p_member_add(STRANGER, FWC_ROLE_AUDITOR);
	EXPECT(AU, FWC_TX_MEMBER_ADD, pl, pl_len, "key_revoked");
	CHECK(why.kind == NODE_REFUSAL_REJECT);
	/* The last admin cannot be revoked. */
	p_key_revoke(ADM);
	EXPECT(ADM, FWC_TX_KEY_REVOKE, pl, pl_len, "last_admin");
}

static int on_audit(void *ctx, const struct node_audit_row *a)
{
	struct collect *c = ctx;

	c->n++;
	if (a->refusal[0])
		c->rollout++;
	return 0;
}

static void test_audit(void)
{
	struct node_audit_filter f;
	struct collect all, acme, refused, sender;

	memset(&f, 0, sizeof(f));
	f.type = -1;
	f.failed = -1;
	f.limit = 1000;
	memset(&all, 0, sizeof(all));
	CHECK_RC(node_state_audit(&st, &f, on_audit, &all), FWC_OK);
	/* One audit row per transaction in the log. */
	CHECK((size_t)all.n == n_journal);
	f.org = "acme";
	memset(&acme, 0, sizeof(acme));
	CHECK_RC(node_state_audit(&st, &f, on_audit, &acme), FWC_OK);
	CHECK(acme.n > 0 && acme.n < all.n);
	f.org = NULL;
	f.failed = 1;
	memset(&refused, 0, sizeof(refused));
	CHECK_RC(node_state_audit(&st, &f, on_audit, &refused), FWC_OK);
	CHECK(refused.n == refused.rollout && refused.n > 0 && refused.n < all.n);
	f.failed = -1;
	f.sender = &act[ROOT].pk;
	f.type = FWC_TX_VALIDATOR_SET;
	memset(&sender, 0, sizeof(sender));
	CHECK_RC(node_state_audit(&st, &f, on_audit, &sender), FWC_OK);
	CHECK(sender.n == 5); /* 1 applied and 4 failed validator-set transactions */
}

/* Replay the journal into a fresh database: every state_ table must come out identical. */
static void dump(sqlite3 *d, uint8_t out[32])
{
	static const char *const tables[] = {
	    "state_meta",           "state_orgs",          "state_members",  "state_nonces",
	    "state_revoked",        "state_products",      "state_keysets",  "state_product_keys",
	    "state_devices",        "state_device_groups", "state_releases", "state_release_hw",
	    "state_events",         "state_postponements", "state_config",   "state_licences",
	    "state_validator_sets", "state_audit",
	};
	struct fwc_sha256 h;

	CHECK_RC(fwc_sha256_init(&h), FWC_OK);
	for (size_t t = 0; t < sizeof(tables) / sizeof(tables[0]); t++) {
		char sqlq[256];
		sqlite3_stmt *s;
		int cols;
		size_t n;

		/* Order by every column, so row order is the content's, not storage's. */
		snprintf(sqlq, sizeof(sqlq), "SELECT * FROM %s", tables[t]);
		if (sqlite3_prepare_v2(d, sqlq, -1, &s, NULL) != SQLITE_OK) {
			CHECK(0);
			continue;
		}
		cols = sqlite3_column_count(s);
		sqlite3_finalize(s);
		n = (size_t)snprintf(sqlq, sizeof(sqlq), "SELECT * FROM %s ORDER BY 1", tables[t]);
		for (int c = 2; c <= cols && n < sizeof(sqlq) - 8; c++)
			n += (size_t)snprintf(sqlq + n, sizeof(sqlq) - n, ", %d", c);
		if (sqlite3_prepare_v2(d, sqlq, -1, &s, NULL) != SQLITE_OK) {
			CHECK(0);
			continue;
		}
		fwc_sha256_update(&h, tables[t], strlen(tables[t]));
		while (sqlite3_step(s) == SQLITE_ROW)
			for (int c = 0; c < sqlite3_column_count(s); c++) {
				int type = sqlite3_column_type(s, c);
				const void *p = sqlite3_column_blob(s, c);
				int nb = sqlite3_column_bytes(s, c);

				fwc_sha256_update(&h, &type, sizeof(type));
				fwc_sha256_update(&h, &nb, sizeof(nb));
				if (nb > 0)
					fwc_sha256_update(&h, p, (size_t)nb);
			}
		sqlite3_finalize(s);
	}
	fwc_sha256_final(&h, out);
	fwc_sha256_cleanup(&h);
}

static void test_determinism(void)
{
	sqlite3 *db2;
	struct node_state st2;
	uint8_t a[32], b[32];
	size_t ok = 0;

	open_db(&db2, &st2);
	CHECK_RC(node_state_genesis(&st2, CHAIN, "root", "Root org", &act[ROOT].pk, T0, NULL),
	         FWC_OK);
	for (size_t i = 0; i < n_journal; i++) {
		struct node_refusal w;
		int rc =
		    node_state_apply(&st2, db2, journal[i].tx, journal[i].len, journal[i].time, &w);

		ok += rc == FWC_OK || w.kind == NODE_REFUSAL_FAIL;
	}
	CHECK(ok == n_journal);
	CHECK(n_journal > 100 && n_journal < LOG_MAX);
	dump(db, a);
	dump(db2, b);
	CHECK_MEM(a, b, 32);
	node_state_close(&st2);
	sqlite3_close(db2);
}

/* The state machine needs a chain id and rejects misuse without touching anything. */
static void test_misuse(void)
{
	sqlite3 *d;
	struct node_state s;
	uint8_t tx[FWC_TX_MAX];
	size_t len;

	open_db(&d, &s);
	len = make_tx(tx, sizeof(tx), ROOT, FWC_TX_MEMBER_ADD, 1, CHAIN, T0, pl, pl_len);
	CHECK_RC(node_state_apply(&s, d, tx, len, T0, &why), FWC_ERR_STATE);
	CHECK(strcmp(why.code, "not_initialised") == 0);
	CHECK_RC(node_state_apply(&s, db, tx, len, T0, &why), FWC_ERR_ARG);
	CHECK_RC(node_state_genesis(&s, "", "root", "Root", &act[ROOT].pk, T0, &why),
	         FWC_ERR_RANGE);
	CHECK_RC(node_state_genesis(&s, CHAIN, "Root!", "Root", &act[ROOT].pk, T0, &why),
	         FWC_ERR_RANGE);
	node_state_close(&s);
	node_state_close(&s); /* twice is fine */
	sqlite3_close(d);
}

int main(void)
{
	setup();
	RUN(test_organisations);
	RUN(test_members);
	RUN(test_role_matrix);
	RUN(test_products_and_keysets);
	RUN(test_releases);
	RUN(test_rollouts);
	RUN(test_devices);
	RUN(test_events);
	RUN(test_config_licences_postpone);
	RUN(test_validators);
	RUN(test_envelope);
	RUN(test_audit);
	RUN(test_determinism);
	RUN(test_misuse);
	CHECK(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK);
	node_state_close(&st);
	sqlite3_close(db);
	for (size_t i = 0; i < n_journal; i++)
		free(journal[i].tx);
	for (int i = 0; i < N_ACTORS; i++)
		fwc_seckey_wipe(&act[i].sk);
	return test_done();
}
