/* A helper for the node's shell tests, and its own self-test.
 *
 *   test_node_txtool make CHAIN SEED NONCE [TYPE [PAYLOAD_TEXT]]
 *   test_node_txtool sign-bad CHAIN SEED NONCE [TYPE [PAYLOAD_TEXT]]
 *   test_node_txtool tx CHAIN SEED NONCE KIND ARGS...      (a typed payload, below)
 *   test_node_txtool release-id PRODUCT CHANNEL COUNTER HWIDS
 *   test_node_txtool pubkey SEED [bip340|ed25519]
 *   test_node_txtool keystore-secret KEYSTORE PASSFILE
 *   test_node_txtool verify-bundle FILE CHAIN VNAME VKEY QUORUM [TXFILE]
 *
 * SEED is a secret key: 64 hex digits, or a number 1..255 standing for 32 bytes of it. `make`
 * writes to stdout a signed transaction (include/fwchain/tx.h) of the BIP-340 key SEED with
 * time = now and the payload given as text; `sign-bad` flips one signature bit. `tx` builds the
 * payload with the encoders of include/fwchain/payload.h; KIND and ARGS:
 *
 *   member-add TARGET ROLE               (ROLE 1 admin .. 5 auditor; TARGET a seed)
 *   org-register ID NAME ADMIN
 *   product-register ID NAME THRESHOLD SEEDS       (SEEDS comma-separated: the root set)
 *   keyset-register PRODUCT THRESHOLD SEEDS SIGNERS (release set version 1)
 *   keyset-rotate PRODUCT SET VERSION THRESHOLD SEEDS SIGNERS   (SET 1 root, 2 release)
 *   release PRODUCT CHANNEL COUNTER HWIDS SIGNERS [RULES]  (a manifest signed by SIGNERS)
 *   release-revoke RELEASE_ID_HEX
 *   rollout RELEASE_ID_HEX ACTION                  (1 pause, 2 resume, 3 halt)
 *   member-remove TARGET [ROLE]
 *   key-revoke TARGET
 *   device-register DEVICE PRODUCT HWID [GROUPS [REGION [update|retire]]]  (GROUPS a+b or -)
 *   postpone device|group DEVICE|GROUP RELEASE_ID_HEX UNTIL     (UNTIL seconds, or +N from now)
 *   config-update PRODUCT NAME [VALUE]             (no VALUE: delete)
 *   licence-issue ID PRODUCT DEVICE|- FEATURE [NOT_BEFORE [NOT_AFTER]]
 *   licence-revoke ID PRODUCT
 *   device-event DEVICE SEQ KIND [RELEASE_ID_HEX]  (the event signed by the device key DEVICE)
 *   validator-set VERSION QUORUM SEEDS             (ed25519 keys of the seeds)
 *
 * RULES, the manifest's rollout policy and licence, is a comma list of bps=N, groups=a+b,
 * regions=a+b, not_before=T, licence=FEATURE (release-id takes the same as its last argument).
 * `batch CHAIN FILE DIR` reads lines "NAME SEED NONCE KIND ARGS..." from FILE (blank lines and
 * # comments skipped) and writes each transaction to DIR/NAME.tx, so a test builds many in one
 * process. DEVICE and TARGET are seeds like SEED.
 *
 * The manifest of `release` is deterministic (created 1700000000, CID and SHA-256 derived from
 * the counter), so `release-id` gives its id without the signatures. `verify-bundle` decodes a
 * proof bundle (CBOR, docs/formats/bundle.md) and runs fwc_bundle_verify against the validator
 * key VKEY (key text ed25519:...) named VNAME with QUORUM, origin CHAIN, and optionally the
 * expected release transaction; it prints one line per check and the extras' types, and exits 0
 * only when every check passed. Run with no argument (as ctest does) it checks that what it
 * makes decodes and verifies, and that the release id matches the one the payload carries. */
#include "test.h"

#include <time.h>

#include "fwchain/bundle.h"
#include "fwchain/hex.h"
#include "fwchain/keystore.h"
#include "fwchain/keyset.h"
#include "fwchain/manifest.h"
#include "fwchain/note.h"
#include "fwchain/payload.h"
#include "fwchain/sha256.h"
#include "fwchain/tx.h"

#define LIST_MAX 16

static uint8_t pl[FWC_TX_PAYLOAD_MAX];
static size_t pl_len;

static int seed_parse(uint8_t seed[32], const char *s)
{
	size_t n = 0;
	char *end;
	unsigned long v;

	if (strlen(s) == 64)
		return fwc_hex_decode(seed, 32, &n, s, 64) == FWC_OK && n == 32 ? 0 : -1;
	v = strtoul(s, &end, 10);
	if (*s == '\0' || *end != '\0' || v < 1 || v > 255)
		return -1;
	memset(seed, (int)v, 32);
	return 0;
}

static int key_of(struct fwc_seckey *sk, struct fwc_pubkey *pk, const char *seedtext, int alg)
{
	uint8_t seed[32];
	int rc;

	if (seed_parse(seed, seedtext) != 0)
		return FWC_ERR_ARG;
	rc = fwc_key_from_secret(sk, alg, seed);
	if (rc == FWC_OK && pk)
		rc = fwc_key_public(pk, sk);
	fwc_wipe(seed, sizeof(seed));
	return rc;
}

static int pub_of(struct fwc_pubkey *pk, const char *seedtext)
{
	struct fwc_seckey sk;
	int rc = key_of(&sk, pk, seedtext, FWC_ALG_BIP340);

	fwc_seckey_wipe(&sk);
	return rc;
}

/* Split a comma list in place. */
static size_t split(char **out, size_t cap, char *list)
{
	size_t n = 0;

	for (char *tok = strtok(list, ","); tok && n < cap; tok = strtok(NULL, ","))
		out[n++] = tok;
	return n;
}

static int sign_tx(uint8_t *out, size_t cap, size_t *outlen, const char *chain, const char *seed,
                   uint64_t nonce, uint32_t type, const uint8_t *payload, size_t plen)
{
	struct fwc_seckey sk;
	struct fwc_tx tx;
	uint8_t body[FWC_TX_BODY_MAX];
	size_t blen = 0;
	int rc;

	memset(&tx, 0, sizeof(tx));
	rc = key_of(&sk, &tx.sender, seed, FWC_ALG_BIP340);
	if (rc != FWC_OK)
		return rc;
	tx.type = type;
	tx.chain_id.p = chain;
	tx.chain_id.len = strlen(chain);
	tx.nonce = nonce;
	tx.time = (uint64_t)time(NULL);
	tx.payload.p = payload;
	tx.payload.len = plen;
	rc = fwc_tx_encode_body(body, sizeof(body), &blen, &tx, NULL);
	if (rc == FWC_OK)
		rc = fwc_tx_sign(out, cap, outlen, body, blen, &sk, NULL, NULL);
	fwc_seckey_wipe(&sk);
	return rc;
}

static struct fwc_cbor_str S(const char *s) {
	struct fwc_cbor_str v = {s, strlen(s)};

	return v;
}

/* A key set of the comma-separated seeds. */
static int
keyset_of(uint8_t *out, size_t *len, unsigned threshold, char *seeds)
{
	struct fwc_keyset ks;
	char *v[LIST_MAX];
	size_t n = split(v, LIST_MAX, seeds);

	memset(&ks, 0, sizeof(ks));
	ks.n = n;
	ks.threshold = threshold;
	for (size_t i = 0; i < n; i++)
		if (pub_of(&ks.keys[i], v[i]) != FWC_OK)
			return FWC_ERR_ARG;
	return fwc_keyset_encode(out, FWC_KEYSET_ENC_MAX, len, &ks);
}

static int p_statement(const char *product, uint32_t set, uint64_t version, unsigned threshold,
                       char *seeds, char *signers)
{
	static uint8_t ks[FWC_KEYSET_ENC_MAX], stmt[8192];
	uint8_t digest[32], bins[LIST_MAX][FWC_PUBKEY_BIN_LEN], sigs[LIST_MAX][FWC_SIG_LEN];
	struct fwc_keyset_sig ks_sigs[LIST_MAX];
	struct fwc_rotation rot;
	struct fwc_pl_keyset_statement w;
	char *v[LIST_MAX];
	size_t slen = 0, klen = 0, n;
	int rc;

	memset(&rot, 0, sizeof(rot));
	rot.product = S(product);
	rot.set = set;
	rot.version = version;
	if ((rc = keyset_of(ks, &klen, threshold, seeds)) != FWC_OK)
		return rc;
	rot.keyset.p = ks;
	rot.keyset.len = klen;
	if ((rc = fwc_rotation_digest(digest, &rot)) != FWC_OK)
		return rc;
	n = split(v, LIST_MAX, signers);
	for (size_t i = 0; i < n; i++) {
		struct fwc_seckey sk;
		struct fwc_pubkey pk;

		if ((rc = key_of(&sk, &pk, v[i], FWC_ALG_BIP340)) != FWC_OK)
			return rc;
		rc = fwc_pubkey_to_bin(bins[i], &pk);
		if (rc == FWC_OK)
			rc = fwc_sign(sigs[i], &sk, digest, 32);
		fwc_seckey_wipe(&sk);
		if (rc != FWC_OK)
			return rc;
		ks_sigs[i].pubkey = bins[i];
		ks_sigs[i].sig = sigs[i];
	}
	if ((rc = fwc_rotation_encode(stmt, sizeof(stmt), &slen, &rot, ks_sigs, n)) != FWC_OK)
		return rc;
	w.statement.p = stmt;
	w.statement.len = slen;
	return fwc_pl_keyset_statement_encode(pl, sizeof(pl), &pl_len, &w);
}

/* The deterministic manifest body of (product, channel, counter, hwids). */
/* Parse RULES (see the top) into m. The strings point into rules, modified in place. */
static int rules_parse(struct fwc_manifest *m, char *rules)
{
	char *save = NULL;

	if (rules == NULL || *rules == '\0')
		return FWC_OK;
	for (char *tok = strtok_r(rules, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *v = strchr(tok, '='), *save2 = NULL;

		if (v == NULL)
			return FWC_ERR_ARG;
		*v++ = '\0';
		if (strcmp(tok, "licence") == 0) {
			m->has_licence = 1;
			m->licence = S(v);
			continue;
		}
		m->has_rollout = 1;
		if (strcmp(tok, "bps") == 0) {
			m->rollout.has_bps = 1;
			m->rollout.bps = (uint16_t)strtoul(v, NULL, 10);
		} else if (strcmp(tok, "not_before") == 0) {
			m->rollout.has_not_before = 1;
			m->rollout.not_before = strtoull(v, NULL, 10);
		} else if (strcmp(tok, "groups") == 0 || strcmp(tok, "regions") == 0) {
			int g = tok[0] == 'g';
			size_t *n = g ? &m->rollout.n_groups : &m->rollout.n_regions;
			struct fwc_cbor_str *list = g ? m->rollout.groups : m->rollout.regions;

			for (char *x = strtok_r(v, "+", &save2); x && *n < FWC_MANIFEST_LIST_MAX;
			     x = strtok_r(NULL, "+", &save2))
				list[(*n)++] = S(x);
		} else {
			return FWC_ERR_ARG;
		}
	}
	return FWC_OK;
}

static int manifest_body(uint8_t *body, size_t cap, size_t *blen, const char *product,
                         const char *channel, uint64_t counter, char *hwids, char *rules)
{
	static uint8_t cid[36] = {0x01, 0x55, 0x12, 0x20};
	static char version[32];
	struct fwc_manifest m;
	char *hw[LIST_MAX];

	memset(&m, 0, sizeof(m));
	snprintf(version, sizeof(version), "1.0.%llu", (unsigned long long)counter);
	m.format = FWC_MANIFEST_VERSION;
	m.product = S(product);
	m.version = S(version);
	m.counter = counter;
	m.channel = S(channel);
	memset(cid + 4, (int)(counter & 0xff), 32);
	m.cid.p = cid;
	m.cid.len = sizeof(cid);
	m.size = 1000 + counter;
	memset(m.sha256, (int)(counter & 0xff), 32);
	m.n_hw = split(hw, LIST_MAX, hwids);
	for (size_t i = 0; i < m.n_hw; i++)
		m.hw[i] = S(hw[i]);
	m.created = 1700000000;
	if (rules_parse(&m, rules) != FWC_OK)
		return FWC_ERR_ARG;
	return fwc_manifest_encode(body, cap, blen, &m, NULL);
}

static int p_release(const char *product, const char *channel, uint64_t counter, char *hwids,
                     char *signers, char *rules)
{
	static uint8_t body[FWC_MANIFEST_BODY_MAX], a[FWC_SIGNED_MANIFEST_MAX],
	    b[FWC_SIGNED_MANIFEST_MAX];
	struct fwc_pl_release r;
	char *v[LIST_MAX];
	size_t blen = 0, alen = 0, n;
	int rc;

	if ((rc = manifest_body(body, sizeof(body), &blen, product, channel, counter, hwids,
	                        rules)) != FWC_OK)
		return rc;
	if ((rc = fwc_signed_manifest_encode(a, sizeof(a), &alen, body, blen, NULL, 0, NULL)) !=
	    FWC_OK)
		return rc;
	n = split(v, LIST_MAX, signers);
	for (size_t i = 0; i < n; i++) {
		struct fwc_seckey sk;
		size_t nlen = 0;

		if ((rc = key_of(&sk, NULL, v[i], FWC_ALG_BIP340)) != FWC_OK)
			return rc;
		rc = fwc_signed_manifest_sign(b, sizeof(b), &nlen, a, alen, &sk, NULL, NULL);
		fwc_seckey_wipe(&sk);
		if (rc != FWC_OK)
			return rc;
		memcpy(a, b, nlen);
		alen = nlen;
	}
	r.manifest.p = a;
	r.manifest.len = alen;
	return fwc_pl_release_encode(pl, sizeof(pl), &pl_len, &r);
}

static int release_id(uint8_t id[32], const char *product, const char *channel, uint64_t counter,
                      char *hwids, char *rules)
{
	static uint8_t body[FWC_MANIFEST_BODY_MAX];
	size_t blen = 0;
	int rc = manifest_body(body, sizeof(body), &blen, product, channel, counter, hwids, rules);

	return rc == FWC_OK ? fwc_manifest_digest(id, body, blen) : rc;
}

static int rid_parse(uint8_t id[32], const char *hex)
{
	size_t n = 0;

	return strlen(hex) == 64 && fwc_hex_decode(id, 32, &n, hex, 64) == FWC_OK && n == 32
	           ? FWC_OK
	           : FWC_ERR_ARG;
}

/* Build the payload of KIND from args[0..n); sets *type. */
static int payload(uint32_t *type, const char *kind, char **args, int n)
{
#define NEED(k)                                                                                    \
	do {                                                                                       \
		if (n < (k))                                                                       \
			return FWC_ERR_ARG;                                                        \
	} while (0)
	if (strcmp(kind, "member-add") == 0) {
		struct fwc_pl_member_add p;

		NEED(2);
		memset(&p, 0, sizeof(p));
		if (pub_of(&p.key, args[0]) != FWC_OK)
			return FWC_ERR_ARG;
		p.role = (uint32_t)strtoul(args[1], NULL, 10);
		*type = FWC_TX_MEMBER_ADD;
		return fwc_pl_member_add_encode(pl, sizeof(pl), &pl_len, &p);
	}
	if (strcmp(kind, "org-register") == 0) {
		struct fwc_pl_org_register p;

		NEED(3);
		memset(&p, 0, sizeof(p));
		p.id = S(args[0]);
		p.name = S(args[1]);
		if (pub_of(&p.admin, args[2]) != FWC_OK)
			return FWC_ERR_ARG;
		*type = FWC_TX_ORG_REGISTER;
		return fwc_pl_org_register_encode(pl, sizeof(pl), &pl_len, &p);
	}
	if (strcmp(kind, "product-register") == 0) {
		static uint8_t ks[FWC_KEYSET_ENC_MAX];
		struct fwc_pl_product_register p;
		size_t klen = 0;
		int rc;

		NEED(4);
		memset(&p, 0, sizeof(p));
		p.id = S(args[0]);
		p.name = S(args[1]);
		if ((rc = keyset_of(ks, &klen, (unsigned)strtoul(args[2], NULL, 10), args[3])) !=
		    FWC_OK)
			return rc;
		p.root_set.p = ks;
		p.root_set.len = klen;
		*type = FWC_TX_PRODUCT_REGISTER;
		return fwc_pl_product_register_encode(pl, sizeof(pl), &pl_len, &p);
	}
	if (strcmp(kind, "keyset-register") == 0) {
		NEED(4);
		*type = FWC_TX_KEYSET_REGISTER;
		return p_statement(args[0], FWC_ROTATE_RELEASE, 1,
		                   (unsigned)strtoul(args[1], NULL, 10), args[2], args[3]);
	}
	if (strcmp(kind, "keyset-rotate") == 0) {
		NEED(6);
		*type = FWC_TX_KEYSET_ROTATE;
		return p_statement(args[0], (uint32_t)strtoul(args[1], NULL, 10),
		                   strtoull(args[2], NULL, 10),
		                   (unsigned)strtoul(args[3], NULL, 10), args[4], args[5]);
	}
	if (strcmp(kind, "release") == 0) {
		NEED(5);
		*type = FWC_TX_RELEASE;
		return p_release(args[0], args[1], strtoull(args[2], NULL, 10), args[3], args[4],
		                 n > 5 ? args[5] : NULL);
	}
	if (strcmp(kind, "release-revoke") == 0) {
		struct fwc_pl_release_revoke p;

		NEED(1);
		memset(&p, 0, sizeof(p));
		if (rid_parse(p.release_id, args[0]) != FWC_OK)
			return FWC_ERR_ARG;
		p.reason = S("recalled");
		*type = FWC_TX_RELEASE_REVOKE;
		return fwc_pl_release_revoke_encode(pl, sizeof(pl), &pl_len, &p);
	}
	if (strcmp(kind, "rollout") == 0) {
		struct fwc_pl_rollout p;

		NEED(2);
		memset(&p, 0, sizeof(p));
		if (rid_parse(p.release_id, args[0]) != FWC_OK)
			return FWC_ERR_ARG;
		p.action = (uint32_t)strtoul(args[1], NULL, 10);
		*type = FWC_TX_ROLLOUT_CONTROL;
		return fwc_pl_rollout_encode(pl, sizeof(pl), &pl_len, &p);
	}
	if (strcmp(kind, "member-remove") == 0) {
		struct fwc_pl_member_remove p;

		NEED(1);
		memset(&p, 0, sizeof(p));
		if (pub_of(&p.key, args[0]) != FWC_OK)
			return FWC_ERR_ARG;
		p.role = n > 1 ? (uint32_t)strtoul(args[1], NULL, 10) : 0;
		*type = FWC_TX_MEMBER_REMOVE;
		return fwc_pl_member_remove_encode(pl, sizeof(pl), &pl_len, &p);
	}
	if (strcmp(kind, "key-revoke") == 0) {
		struct fwc_pl_key_revoke p;

		NEED(1);
		memset(&p, 0, sizeof(p));
		if (pub_of(&p.key, args[0]) != FWC_OK)
			return FWC_ERR_ARG;
		p.reason = S("lost");
		*type = FWC_TX_KEY_REVOKE;
		return fwc_pl_key_revoke_encode(pl, sizeof(pl), &pl_len, &p);
	}
	if (strcmp(kind, "device-register") == 0) {
		struct fwc_pl_device_register p;

		NEED(3);
		memset(&p, 0, sizeof(p));
		if (pub_of(&p.device, args[0]) != FWC_OK)
			return FWC_ERR_ARG;
		p.product = S(args[1]);
		p.hwid = S(args[2]);
		if (n > 3 && strcmp(args[3], "-") != 0) {
			char *save = NULL;

			for (char *g = strtok_r(args[3], "+", &save);
			     g && p.groups.n < FWC_PL_GROUPS_MAX; g = strtok_r(NULL, "+", &save))
				p.groups.v[p.groups.n++] = S(g);
		}
		if (n > 4 && strcmp(args[4], "-") != 0)
			p.region = S(args[4]);
		if (n > 5) {
			p.update = 1;
			p.retire = strcmp(args[5], "retire") == 0;
		}
		*type = FWC_TX_DEVICE_REGISTER;
		return fwc_pl_device_register_encode(pl, sizeof(pl), &pl_len, &p);
	}
	if (strcmp(kind, "postpone") == 0) {
		struct fwc_pl_postpone p;

		NEED(4);
		memset(&p, 0, sizeof(p));
		if (strcmp(args[0], "device") == 0) {
			p.has_device = 1;
			if (pub_of(&p.device, args[1]) != FWC_OK)
				return FWC_ERR_ARG;
		} else {
			p.has_group = 1;
			p.group = S(args[1]);
		}
		if (rid_parse(p.release_id, args[2]) != FWC_OK)
			return FWC_ERR_ARG;
		p.until = args[3][0] == '+' ? (uint64_t)time(NULL) + strtoull(args[3] + 1, NULL, 10)
		                            : strtoull(args[3], NULL, 10);
		p.reason = S("maintenance");
		*type = FWC_TX_POSTPONE;
		return fwc_pl_postpone_encode(pl, sizeof(pl), &pl_len, &p);
	}
	if (strcmp(kind, "config-update") == 0) {
		struct fwc_pl_config_update p;

		NEED(2);
		memset(&p, 0, sizeof(p));
		p.product = S(args[0]);
		p.name = S(args[1]);
		if (n > 2) {
			p.has_value = 1;
			p.value.p = (const uint8_t *)args[2];
			p.value.len = strlen(args[2]);
		}
		*type = FWC_TX_CONFIG_UPDATE;
		return fwc_pl_config_update_encode(pl, sizeof(pl), &pl_len, &p);
	}
	if (strcmp(kind, "licence-issue") == 0) {
		struct fwc_pl_licence_issue p;

		NEED(4);
		memset(&p, 0, sizeof(p));
		p.id = S(args[0]);
		p.product = S(args[1]);
		if (strcmp(args[2], "-") != 0) {
			p.has_device = 1;
			if (pub_of(&p.device, args[2]) != FWC_OK)
				return FWC_ERR_ARG;
		}
		p.feature = S(args[3]);
		p.not_before = n > 4 ? strtoull(args[4], NULL, 10) : 0;
		p.not_after = n > 5 ? strtoull(args[5], NULL, 10) : 0;
		*type = FWC_TX_LICENCE_ISSUE;
		return fwc_pl_licence_issue_encode(pl, sizeof(pl), &pl_len, &p);
	}
	if (strcmp(kind, "licence-revoke") == 0) {
		struct fwc_pl_licence_revoke p;

		NEED(2);
		memset(&p, 0, sizeof(p));
		p.id = S(args[0]);
		p.product = S(args[1]);
		*type = FWC_TX_LICENCE_REVOKE;
		return fwc_pl_licence_revoke_encode(pl, sizeof(pl), &pl_len, &p);
	}
	if (strcmp(kind, "device-event") == 0) {
		static uint8_t ev_buf[1024];
		struct fwc_event ev;
		struct fwc_seckey sk;
		struct fwc_pl_device_event p;
		size_t elen = 0;
		int rc;

		NEED(3);
		memset(&ev, 0, sizeof(ev));
		if (key_of(&sk, &ev.device, args[0], FWC_ALG_BIP340) != FWC_OK)
			return FWC_ERR_ARG;
		ev.seq = strtoull(args[1], NULL, 10);
		ev.time = 1700000000;
		ev.kind = strtoull(args[2], NULL, 10);
		if (n > 3) {
			ev.has_release = 1;
			if (rid_parse(ev.release_id, args[3]) != FWC_OK) {
				fwc_seckey_wipe(&sk);
				return FWC_ERR_ARG;
			}
		}
		rc = fwc_event_sign(ev_buf, sizeof(ev_buf), &elen, &ev, &sk);
		fwc_seckey_wipe(&sk);
		if (rc != FWC_OK)
			return rc;
		p.event.p = ev_buf;
		p.event.len = elen;
		*type = FWC_TX_DEVICE_EVENT;
		return fwc_pl_device_event_encode(pl, sizeof(pl), &pl_len, &p);
	}
	if (strcmp(kind, "validator-set") == 0) {
		static struct fwc_pl_validator_set p;
		static char names[LIST_MAX][16];
		char *v[LIST_MAX];
		size_t k;

		NEED(3);
		memset(&p, 0, sizeof(p));
		p.version = strtoull(args[0], NULL, 10);
		p.quorum = strtoull(args[1], NULL, 10);
		k = split(v, LIST_MAX, args[2]);
		for (size_t i = 0; i < k; i++) {
			struct fwc_seckey sk;
			int rc = key_of(&sk, &p.v[i].key, v[i], FWC_ALG_ED25519);

			fwc_seckey_wipe(&sk);
			if (rc != FWC_OK)
				return FWC_ERR_ARG;
			snprintf(names[i], sizeof(names[i]), "v%zu", i);
			p.v[i].name = S(names[i]);
		}
		p.n = k;
		*type = FWC_TX_VALIDATOR_SET;
		return fwc_pl_validator_set_encode(pl, sizeof(pl), &pl_len, &p);
	}
	return FWC_ERR_ARG;
#undef NEED
}

static int read_all(uint8_t **out, size_t *len, const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	size_t n = 0, cap = 0;

	if (f == NULL)
		return -1;
	for (;;) {
		if (n == cap) {
			uint8_t *nb = realloc(buf, cap ? cap * 2 : 65536);

			if (nb == NULL)
				break;
			buf = nb;
			cap = cap ? cap * 2 : 65536;
		}
		size_t r = fread(buf + n, 1, cap - n, f);

		n += r;
		if (r == 0)
			break;
	}
	fclose(f);
	*out = buf;
	*len = n;
	return 0;
}

static int verify_bundle(char **argv, int argc)
{
	static struct fwc_bundle_report rep;
	struct fwc_bundle b;
	struct fwc_bundle_trust trust;
	struct fwc_note_vkey vk;
	struct fwc_pubkey pk;
	struct fwc_errinfo ei = {0};
	uint8_t *buf = NULL, *tx = NULL, leaf[32];
	size_t len = 0, txlen = 0;
	int rc;

	if (argc < 7 || read_all(&buf, &len, argv[2]) != 0)
		return 2;
	if (fwc_pubkey_from_text(&pk, argv[5], strlen(argv[5]), NULL) != FWC_OK ||
	    fwc_note_vkey_init(&vk, argv[4], strlen(argv[4]), FWC_NOTE_SIG_COSIG_V1, &pk) !=
	        FWC_OK) {
		fprintf(stderr, "verify-bundle: bad validator name or key\n");
		return 2;
	}
	rc = fwc_bundle_decode(&b, buf, len, &ei);
	if (rc != FWC_OK) {
		printf("decode: %s (byte %zu)\n", ei.msg, ei.offset);
		free(buf);
		return 1;
	}
	memset(&trust, 0, sizeof(trust));
	trust.verifiers = &vk;
	trust.n_verifiers = 1;
	trust.quorum = (size_t)strtoul(argv[6], NULL, 10);
	trust.origin = argv[3];
	trust.origin_len = strlen(argv[3]);
	if (argc > 7) {
		if (read_all(&tx, &txlen, argv[7]) != 0 ||
		    fwc_merkle_leaf_hash(leaf, tx, txlen) != FWC_OK)
			return 2;
	}
	rc = fwc_bundle_verify(&rep, &b, &trust, argc > 7 ? leaf : NULL, &ei);
	for (size_t i = 0; i < rep.n_checks; i++)
		printf("%s: %s%s%s\n", rep.checks[i].name,
		       rep.checks[i].rc == FWC_OK ? "ok" : "FAIL",
		       rep.checks[i].msg[0] ? " - " : "", rep.checks[i].msg);
	printf("size %llu index %llu extras %zu\n", (unsigned long long)b.size,
	       (unsigned long long)b.release.index, b.n_extra);
	for (size_t i = 0; i < b.n_extra; i++) {
		struct fwc_signed_tx stx;

		if (fwc_tx_decode(&stx, b.extra[i].tx, b.extra[i].tx_len, NULL) == FWC_OK)
			printf("extra %zu: %s\n", i + 1, fwc_tx_type_name((int)stx.tx.type));
	}
	free(buf);
	free(tx);
	return rc == FWC_OK ? 0 : 1;
}

/* batch CHAIN FILE DIR: one transaction per line of FILE into DIR/NAME.tx. */
static int batch(const char *chain, const char *file, const char *dir)
{
	static uint8_t buf[FWC_TX_MAX];
	char line[4096], path[1024];
	FILE *in = fopen(file, "r");
	unsigned lineno = 0;
	int rc = 0;

	if (in == NULL) {
		fprintf(stderr, "txtool batch: cannot open %s\n", file);
		return 2;
	}
	while (rc == 0 && fgets(line, sizeof(line), in)) {
		char *args[32], *save = NULL;
		int n = 0;
		uint32_t type = 0;
		size_t len = 0;
		FILE *out;

		lineno++;
		for (char *t = strtok_r(line, " \t\r\n", &save); t && n < 32;
		     t = strtok_r(NULL, " \t\r\n", &save))
			args[n++] = t;
		if (n == 0 || args[0][0] == '#')
			continue;
		if (n < 4 || payload(&type, args[3], args + 4, n - 4) != FWC_OK ||
		    sign_tx(buf, sizeof(buf), &len, chain, args[1], strtoull(args[2], NULL, 10),
		            type, pl, pl_len) != FWC_OK) {
			fprintf(stderr, "txtool batch: %s line %u: bad transaction\n", file,
			        lineno);
			rc = 2;
			break;
		}
		snprintf(path, sizeof(path), "%s/%s.tx", dir, args[0]);
		out = fopen(path, "wb");
		if (out == NULL || fwrite(buf, 1, len, out) != len) {
			fprintf(stderr, "txtool batch: cannot write %s\n", path);
			rc = 1;
		}
		if (out)
			fclose(out);
	}
	fclose(in);
	return rc;
}

static void self_test(void)
{
	uint8_t buf[FWC_TX_MAX], id[32], want[32];
	size_t len = 0;
	struct fwc_signed_tx stx;
	struct fwc_payload p;
	struct fwc_signed_manifest sm;
	uint32_t type = 0;
	char a0[] = "thermo", a1[] = "stable", a2[] = "3", a3[] = "rev-b,rev-c", a4[] = "11,12";
	char *args[] = {a0, a1, a2, a3, a4};
	char hw[] = "rev-b,rev-c";

	CHECK_RC(sign_tx(buf, sizeof(buf), &len, "fwchain-dev-00000000",
	                 "0101010101010101010101010101010101010101010101010101010101010101", 1, 2,
	                 (const uint8_t *)"hello", 5),
	         FWC_OK);
	CHECK_RC(fwc_tx_decode(&stx, buf, len, NULL), FWC_OK);
	CHECK_RC(fwc_tx_verify(&stx, NULL), FWC_OK);
	CHECK(stx.tx.nonce == 1 && stx.tx.type == 2 && stx.tx.payload.len == 5);
	CHECK_RC(fwc_tx_id(id, buf, len), FWC_OK);
	CHECK_RC(fwc_sha256(want, buf, len), FWC_OK);
	CHECK_MEM(id, want, 32);
	buf[len - 1] ^= 1;
	CHECK_RC(fwc_tx_decode(&stx, buf, len, NULL), FWC_OK);
	CHECK_RC(fwc_tx_verify(&stx, NULL), FWC_ERR_BADSIG);

	/* A release payload decodes, carries two signatures, and its id is release-id's. */
	CHECK_RC(payload(&type, "release", args, 5), FWC_OK);
	CHECK(type == FWC_TX_RELEASE);
	CHECK_RC(fwc_payload_decode(&p, type, pl, pl_len, NULL), FWC_OK);
	CHECK_RC(
	    fwc_signed_manifest_decode(&sm, p.u.release.manifest.p, p.u.release.manifest.len, NULL),
	    FWC_OK);
	CHECK(sm.n_sigs == 2 && sm.manifest.counter == 3);
	CHECK_RC(fwc_manifest_digest(want, sm.body, sm.body_len), FWC_OK);
	CHECK_RC(release_id(id, "thermo", "stable", 3, hw, NULL), FWC_OK);
	CHECK_MEM(id, want, 32);
	{
		/* Rules land in the manifest, and release-id with the same rules names it. */
		char r0[] = "thermo", r1[] = "stable", r2[] = "4", r3[] = "rev-b", r4[] = "11",
		     r5[] = "bps=2500,groups=eu+lab,licence=pro,not_before=1700000100";
		char rr[] = "bps=2500,groups=eu+lab,licence=pro,not_before=1700000100",
		     hw2[] = "rev-b";
		char *rargs[] = {r0, r1, r2, r3, r4, r5};
		const struct fwc_manifest *m = &sm.manifest;

		CHECK_RC(payload(&type, "release", rargs, 6), FWC_OK);
		CHECK_RC(fwc_payload_decode(&p, type, pl, pl_len, NULL), FWC_OK);
		CHECK_RC(fwc_signed_manifest_decode(&sm, p.u.release.manifest.p,
		                                    p.u.release.manifest.len, NULL),
		         FWC_OK);
		CHECK(m->has_rollout && m->rollout.has_bps && m->rollout.bps == 2500);
		CHECK(m->rollout.n_groups == 2 && m->rollout.groups[1].len == 3 &&
		      memcmp(m->rollout.groups[1].p, "lab", 3) == 0);
		CHECK(m->has_licence && m->licence.len == 3 && m->rollout.not_before == 1700000100);
		CHECK_RC(fwc_manifest_digest(want, sm.body, sm.body_len), FWC_OK);
		CHECK_RC(release_id(id, "thermo", "stable", 4, hw2, rr), FWC_OK);
		CHECK_MEM(id, want, 32);
	}
	{
		/* A device event signed by the device key verifies. */
		char e0[] = "40", e1[] = "3", e2[] = "1";
		char *eargs[] = {e0, e1, e2};
		struct fwc_event ev;

		CHECK_RC(payload(&type, "device-event", eargs, 3), FWC_OK);
		CHECK(type == FWC_TX_DEVICE_EVENT);
		CHECK_RC(fwc_payload_decode(&p, type, pl, pl_len, NULL), FWC_OK);
		CHECK_RC(fwc_event_decode(&ev, p.u.device_event.event.p, p.u.device_event.event.len,
		                          NULL),
		         FWC_OK);
		CHECK(ev.seq == 3 && ev.kind == 1);
		CHECK_RC(fwc_event_verify(&ev), FWC_OK);
	}
	{
		char b0[] = "thermo", b1[] = "2", b2[] = "11,12,13", b3[] = "1,2";
		char *kargs[] = {b0, b1, b2, b3};

		CHECK_RC(payload(&type, "keyset-register", kargs, 4), FWC_OK);
		CHECK_RC(fwc_payload_decode(&p, type, pl, pl_len, NULL), FWC_OK);
	}
}

int main(int argc, char **argv)
{
	uint8_t buf[FWC_TX_MAX];
	size_t len = 0;
	uint32_t type = FWC_TX_MEMBER_ADD;

	if (argc == 1) {
		RUN(self_test);
		return test_done();
	}
	if (strcmp(argv[1], "verify-bundle") == 0)
		return verify_bundle(argv, argc);
	if (strcmp(argv[1], "batch") == 0 && argc >= 5)
		return batch(argv[2], argv[3], argv[4]);
	if (strcmp(argv[1], "pubkey") == 0 && argc >= 3) {
		struct fwc_seckey sk;
		struct fwc_pubkey pk;
		char text[FWC_PUBKEY_TEXT_MAX];
		int alg =
		    argc > 3 && strcmp(argv[3], "ed25519") == 0 ? FWC_ALG_ED25519 : FWC_ALG_BIP340;

		if (key_of(&sk, &pk, argv[2], alg) != FWC_OK)
			return 2;
		fwc_seckey_wipe(&sk);
		fwc_pubkey_to_text(text, sizeof(text), &pk);
		printf("%s\n", text);
		return 0;
	}
	if (strcmp(argv[1], "keystore-secret") == 0 && argc >= 4) {
		struct fwc_seckey sk;
		uint8_t secret[32], *pass = NULL;
		size_t plen = 0;
		char hex[65];

		if (read_all(&pass, &plen, argv[3]) != 0)
			return 2;
		while (plen && (pass[plen - 1] == '\n' || pass[plen - 1] == '\r'))
			plen--;
		if (fwc_keystore_load(&sk, argv[2], (const char *)pass, plen, NULL) != FWC_OK ||
		    fwc_key_secret(secret, &sk) != FWC_OK) {
			fprintf(stderr, "txtool: cannot open the keystore\n");
			return 1;
		}
		fwc_hex_encode(hex, sizeof(hex), secret, 32);
		printf("%s\n", hex);
		fwc_seckey_wipe(&sk);
		free(pass);
		return 0;
	}
	if (strcmp(argv[1], "release-id") == 0 && argc >= 6) {
		uint8_t id[32];
		char hex[65];

		if (release_id(id, argv[2], argv[3], strtoull(argv[4], NULL, 10), argv[5],
		               argc > 6 ? argv[6] : NULL) != FWC_OK)
			return 2;
		fwc_hex_encode(hex, sizeof(hex), id, 32);
		printf("%s\n", hex);
		return 0;
	}
	if (strcmp(argv[1], "tx") == 0 && argc >= 6) {
		if (payload(&type, argv[5], argv + 6, argc - 6) != FWC_OK) {
			fprintf(stderr, "txtool: bad payload arguments for %s\n", argv[5]);
			return 2;
		}
	} else if (argc < 5 || (strcmp(argv[1], "make") != 0 && strcmp(argv[1], "sign-bad") != 0)) {
		fprintf(stderr, "usage: see the comment at the top of tests/node/txtool.c\n");
		return 2;
	} else {
		const char *text = argc > 6 ? argv[6] : "";

		type = argc > 5 ? (uint32_t)strtoul(argv[5], NULL, 10) : FWC_TX_MEMBER_ADD;
		pl_len = strlen(text);
		memcpy(pl, text, pl_len);
	}
	if (sign_tx(buf, sizeof(buf), &len, argv[2], argv[3], strtoull(argv[4], NULL, 10), type, pl,
	            pl_len) != FWC_OK) {
		fprintf(stderr, "txtool: cannot make the transaction\n");
		return 1;
	}
	if (strcmp(argv[1], "sign-bad") == 0)
		buf[len - 1] ^= 1; /* the signature is the last item of the encoding */
	return fwrite(buf, 1, len, stdout) == len ? 0 : 1;
}
