/* Building real signed fwchain transactions for the node's tests, helpers and benchmarks:
 * deterministic actors (keys from an index), the envelope, and the payloads a ledger
 * scenario needs (organisation, member, product, key-set statement, device, release,
 * revocations, device event). Header-only (static functions) so a test, a tests/node helper
 * and a bench program can each include it without a library of their own. Every function
 * returns FWC_OK or the library's error; nothing asserts. Uses public libfwchain APIs only. */
#ifndef FWC_TESTS_NODE_TXGEN_H
#define FWC_TESTS_NODE_TXGEN_H

#include <stdio.h>
#include <string.h>

#include "fwchain/keyset.h"
#include "fwchain/manifest.h"
#include "fwchain/payload.h"
#include "fwchain/tx.h"

/* A key with the last nonce it used. */
struct txg_actor {
	struct fwc_seckey sk;
	struct fwc_pubkey pk;
	uint64_t nonce;
};

/* Actor number idx (BIP-340): secret 0x42, then idx big-endian in the last 4 bytes; tag
 * separates families of actors (devices of a bench from people of a test). */
static inline int txg_actor_init(struct txg_actor *a, uint8_t tag, uint32_t idx)
{
	uint8_t secret[32];
	int rc;

	memset(secret, 0, sizeof(secret));
	secret[0] = 0x42;
	secret[1] = tag;
	secret[28] = (uint8_t)(idx >> 24);
	secret[29] = (uint8_t)(idx >> 16);
	secret[30] = (uint8_t)(idx >> 8);
	secret[31] = (uint8_t)(idx + 1); /* never an all-zero scalar */
	if (idx + 1 == 0)
		secret[27] = 1;
	memset(a, 0, sizeof(*a));
	if ((rc = fwc_key_from_secret(&a->sk, FWC_ALG_BIP340, secret)) != FWC_OK)
		return rc;
	return fwc_key_public(&a->pk, &a->sk);
}

static inline struct fwc_cbor_str txg_str(const char *s)
{
	struct fwc_cbor_str v = {s, strlen(s)};
	return v;
}

/* A signed transaction of a's with the given nonce (a->nonce untouched). */
static inline int txg_tx(uint8_t *out, size_t cap, size_t *len, const struct txg_actor *a,
                         uint32_t type, uint64_t nonce, const char *chain, uint64_t time,
                         const uint8_t *pl, size_t pl_len)
{
	struct fwc_tx tx;
	uint8_t body[FWC_TX_BODY_MAX];
	size_t blen = 0;
	int rc;

	memset(&tx, 0, sizeof(tx));
	tx.type = type;
	tx.chain_id = txg_str(chain);
	tx.sender = a->pk;
	tx.nonce = nonce;
	tx.time = time;
	tx.payload.p = pl;
	tx.payload.len = pl_len;
	if ((rc = fwc_tx_encode_body(body, sizeof(body), &blen, &tx, NULL)) != FWC_OK)
		return rc;
	return fwc_tx_sign(out, cap, len, body, blen, &a->sk, NULL, NULL);
}

static inline int txg_org(uint8_t *pl, size_t cap, size_t *len, const char *id,
                          const struct fwc_pubkey *admin)
{
	struct fwc_pl_org_register p = {txg_str(id), txg_str("An organisation"), *admin};
	return fwc_pl_org_register_encode(pl, cap, len, &p);
}

static inline int txg_member_add(uint8_t *pl, size_t cap, size_t *len, const struct fwc_pubkey *key,
                                 uint32_t role, const char *label)
{
	struct fwc_pl_member_add p = {*key, role, 0, {NULL, 0}};

	if (label) {
		p.has_label = 1;
		p.label = txg_str(label);
	}
	return fwc_pl_member_add_encode(pl, cap, len, &p);
}

static inline int txg_keyset(uint8_t *out, size_t *len, unsigned threshold,
                             const struct txg_actor *const *keys, size_t n)
{
	struct fwc_keyset ks;

	memset(&ks, 0, sizeof(ks));
	ks.n = n;
	ks.threshold = threshold;
	for (size_t i = 0; i < n; i++)
		ks.keys[i] = keys[i]->pk;
	return fwc_keyset_encode(out, FWC_KEYSET_ENC_MAX, len, &ks);
}

static inline int txg_product(uint8_t *pl, size_t cap, size_t *len, const char *id,
                              unsigned threshold, const struct txg_actor *const *roots, size_t n)
{
	uint8_t ks[FWC_KEYSET_ENC_MAX];
	struct fwc_pl_product_register p;
	int rc;

	memset(&p, 0, sizeof(p));
	p.id = txg_str(id);
	p.name = txg_str("A product");
	p.root_set.p = ks;
	if ((rc = txg_keyset(ks, &p.root_set.len, threshold, roots, n)) != FWC_OK)
		return rc;
	return fwc_pl_product_register_encode(pl, cap, len, &p);
}

/* A key-set statement (set 1 root, 2 release) signed by signers, as a keyset payload. */
static inline int txg_statement(uint8_t *pl, size_t cap, size_t *len, const char *product,
                                uint32_t set, uint64_t version, unsigned threshold,
                                const struct txg_actor *const *keys, size_t n_keys,
                                const struct txg_actor *const *signers, size_t n_signers)
{
	uint8_t ks[FWC_KEYSET_ENC_MAX], stmt[4096], digest[32];
	uint8_t bins[FWC_PL_SIGS_MAX][FWC_PUBKEY_BIN_LEN], sigs[FWC_PL_SIGS_MAX][FWC_SIG_LEN];
	struct fwc_keyset_sig ks_sigs[FWC_PL_SIGS_MAX];
	struct fwc_rotation rot;
	struct fwc_pl_keyset_statement w;
	size_t slen = 0;
	int rc;

	if (n_signers > FWC_PL_SIGS_MAX)
		return FWC_ERR_ARG;
	memset(&rot, 0, sizeof(rot));
	rot.product = txg_str(product);
	rot.set = set;
	rot.version = version;
	rot.keyset.p = ks;
	if ((rc = txg_keyset(ks, &rot.keyset.len, threshold, keys, n_keys)) != FWC_OK ||
	    (rc = fwc_rotation_digest(digest, &rot)) != FWC_OK)
		return rc;
	for (size_t i = 0; i < n_signers; i++) {
		if ((rc = fwc_pubkey_to_bin(bins[i], &signers[i]->pk)) != FWC_OK ||
		    (rc = fwc_sign(sigs[i], &signers[i]->sk, digest, 32)) != FWC_OK)
			return rc;
		ks_sigs[i].pubkey = bins[i];
		ks_sigs[i].sig = sigs[i];
	}
	if ((rc = fwc_rotation_encode(stmt, sizeof(stmt), &slen, &rot, ks_sigs, n_signers)) !=
	    FWC_OK)
		return rc;
	w.statement.p = stmt;
	w.statement.len = slen;
	return fwc_pl_keyset_statement_encode(pl, cap, len, &w);
}

/* Device registration (or, with update, restatement; with retire, retirement). groups must
 * be sorted bytewise; region "eu-west" and one attribute site=lyon. */
static inline int txg_device(uint8_t *pl, size_t cap, size_t *len, const struct fwc_pubkey *dev,
                             const char *product, const char *hwid, const char *const *groups,
                             size_t n_groups, int update, int retire)
{
	struct fwc_pl_device_register p;

	if (n_groups > FWC_PL_GROUPS_MAX)
		return FWC_ERR_ARG;
	memset(&p, 0, sizeof(p));
	p.device = *dev;
	p.product = txg_str(product);
	p.hwid = txg_str(hwid);
	p.groups.n = n_groups;
	for (size_t i = 0; i < n_groups; i++)
		p.groups.v[i] = txg_str(groups[i]);
	p.region = txg_str("eu-west");
	p.attrs.n = 1;
	p.attrs.v[0].key = txg_str("site");
	p.attrs.v[0].value = txg_str("lyon");
	p.update = update;
	p.retire = retire;
	return fwc_pl_device_register_encode(pl, cap, len, &p);
}

/* A RELEASE payload: a manifest for (product, channel, counter, hardware "rev-b" and "rev-c"),
 * CID raw v1 whose digest bytes are all `counter & 0xff`, size 1000 + counter, SHA-256 bytes
 * all `counter & 0xff`, metadata meta (may be NULL), signed by signers. *id gets the release
 * id, sm/sm_len (optional, capacity FWC_SIGNED_MANIFEST_MAX) the signed manifest. */
static inline int txg_release_ex(uint8_t *pl, size_t cap, size_t *len, const char *product,
                                 const char *channel, uint64_t counter, uint64_t created,
                                 const char *meta, const struct fwc_manifest_rollout *rollout,
                                 const char *licence, const struct txg_actor *const *signers,
                                 size_t n_signers, uint8_t id[32], uint8_t *sm, size_t *sm_len);

static inline int txg_release(uint8_t *pl, size_t cap, size_t *len, const char *product,
                              const char *channel, uint64_t counter, uint64_t created,
                              const char *meta, const struct txg_actor *const *signers,
                              size_t n_signers, uint8_t id[32], uint8_t *sm, size_t *sm_len)
{
	return txg_release_ex(pl, cap, len, product, channel, counter, created, meta, NULL, NULL,
	                      signers, n_signers, id, sm, sm_len);
}

/* txg_release with, when not NULL, a rollout policy and the licence (feature) a device must
 * hold. */
static inline int txg_release_ex(uint8_t *pl, size_t cap, size_t *len, const char *product,
                                 const char *channel, uint64_t counter, uint64_t created,
                                 const char *meta, const struct fwc_manifest_rollout *rollout,
                                 const char *licence, const struct txg_actor *const *signers,
                                 size_t n_signers, uint8_t id[32], uint8_t *sm, size_t *sm_len)
{
	static uint8_t body[FWC_MANIFEST_BODY_MAX], a[FWC_SIGNED_MANIFEST_MAX],
	    b[FWC_SIGNED_MANIFEST_MAX];
	struct fwc_manifest m;
	struct fwc_pl_release r;
	uint8_t cid[36] = {0x01, 0x55, 0x12, 0x20};
	size_t blen = 0, alen = 0;
	char version[32];
	int rc;

	memset(&m, 0, sizeof(m));
	snprintf(version, sizeof(version), "1.0.%llu", (unsigned long long)counter);
	m.format = FWC_MANIFEST_VERSION;
	m.product = txg_str(product);
	m.version = txg_str(version);
	m.counter = counter;
	m.channel = txg_str(channel);
	memset(cid + 4, (int)(counter & 0xff), 32);
	m.cid.p = cid;
	m.cid.len = sizeof(cid);
	m.size = 1000 + counter;
	memset(m.sha256, (int)(counter & 0xff), 32);
	m.n_hw = 2;
	m.hw[0] = txg_str("rev-b");
	m.hw[1] = txg_str("rev-c");
	m.created = created;
	if (meta) {
		m.has_metadata = 1;
		m.metadata.p = (const uint8_t *)meta;
		m.metadata.len = strlen(meta);
	}
	if (rollout) {
		m.has_rollout = 1;
		m.rollout = *rollout;
	}
	if (licence) {
		m.has_licence = 1;
		m.licence = txg_str(licence);
	}
	if ((rc = fwc_manifest_encode(body, sizeof(body), &blen, &m, NULL)) != FWC_OK ||
	    (rc = fwc_signed_manifest_encode(a, sizeof(a), &alen, body, blen, NULL, 0, NULL)) !=
	        FWC_OK)
		return rc;
	for (size_t i = 0; i < n_signers; i++) {
		size_t nlen = 0;

		if ((rc = fwc_signed_manifest_sign(b, sizeof(b), &nlen, a, alen, &signers[i]->sk,
		                                   NULL, NULL)) != FWC_OK)
			return rc;
		memcpy(a, b, nlen);
		alen = nlen;
	}
	if ((rc = fwc_manifest_digest(id, body, blen)) != FWC_OK)
		return rc;
	if (sm && sm_len) {
		memcpy(sm, a, alen);
		*sm_len = alen;
	}
	r.manifest.p = a;
	r.manifest.len = alen;
	return fwc_pl_release_encode(pl, cap, len, &r);
}

static inline int txg_release_revoke(uint8_t *pl, size_t cap, size_t *len, const uint8_t id[32],
                                     const char *reason)
{
	struct fwc_pl_release_revoke p;

	memset(&p, 0, sizeof(p));
	memcpy(p.release_id, id, 32);
	p.reason = txg_str(reason);
	return fwc_pl_release_revoke_encode(pl, cap, len, &p);
}

static inline int txg_key_revoke(uint8_t *pl, size_t cap, size_t *len, const struct fwc_pubkey *key,
                                 const char *reason)
{
	struct fwc_pl_key_revoke p = {*key, txg_str(reason)};
	return fwc_pl_key_revoke_encode(pl, cap, len, &p);
}

/* dev's event: seq, kind, device time, release id or NULL, detail or NULL. */
static inline void txg_event_fill(struct fwc_event *e, const struct txg_actor *dev, uint64_t seq,
                                  uint64_t kind, uint64_t dev_time, const uint8_t *rid,
                                  const char *detail)
{
	memset(e, 0, sizeof(*e));
	e->device = dev->pk;
	e->seq = seq;
	e->time = dev_time;
	e->kind = kind;
	if (rid) {
		e->has_release = 1;
		memcpy(e->release_id, rid, 32);
	}
	if (detail)
		e->detail = txg_str(detail);
}

/* A DEVICE_EVENT payload: dev's event (seq, kind, device time, release id or NULL, detail or
 * NULL), signed by the device key. */
static inline int txg_event(uint8_t *pl, size_t cap, size_t *len, const struct txg_actor *dev,
                            uint64_t seq, uint64_t kind, uint64_t dev_time, const uint8_t *rid,
                            const char *detail)
{
	uint8_t ev[512];
	struct fwc_event e;
	struct fwc_pl_device_event w;
	size_t elen = 0;
	int rc;

	txg_event_fill(&e, dev, seq, kind, dev_time, rid, detail);
	if ((rc = fwc_event_sign(ev, sizeof(ev), &elen, &e, &dev->sk)) != FWC_OK)
		return rc;
	memset(&w, 0, sizeof(w));
	w.event.p = ev;
	w.event.len = elen;
	return fwc_pl_device_event_encode(pl, cap, len, &w);
}

/* The same event in the self-reported form (payload field 2: the body alone, no event
 * signature), for a transaction the device itself sends and signs. */
static inline int txg_event_self(uint8_t *pl, size_t cap, size_t *len,
                                 const struct txg_actor *dev, uint64_t seq, uint64_t kind,
                                 uint64_t dev_time, const uint8_t *rid, const char *detail)
{
	uint8_t body[512];
	struct fwc_event e;
	struct fwc_pl_device_event w;
	size_t blen = 0;
	int rc;

	txg_event_fill(&e, dev, seq, kind, dev_time, rid, detail);
	if ((rc = fwc_event_body_encode(body, sizeof(body), &blen, &e)) != FWC_OK)
		return rc;
	memset(&w, 0, sizeof(w));
	w.body.p = body;
	w.body.len = blen;
	return fwc_pl_device_event_encode(pl, cap, len, &w);
}

#endif
