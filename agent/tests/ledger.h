/* A ledger built in-process for the agent's verification tests: fixed keys, transactions made
 * and signed with libfwchain (never with the agent's code under test), an RFC 6962 log of them,
 * cosigned checkpoints and proof bundles. Each attack of the tests is one deviation from the
 * honest bundle this builds (a foreign key, a stale checkpoint, an altered path, ...).
 *
 * Keys are derived from fixed labels (secret = SHA-256("fwagent test <label>")), so runs are
 * reproducible; signatures use zero auxiliary randomness. */
#ifndef FWAGENT_TEST_LEDGER_H
#define FWAGENT_TEST_LEDGER_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fwagent/verify.h"
#include "fwchain/bundle.h"
#include "fwchain/cid.h"
#include "fwchain/hex.h"
#include "fwchain/keyset.h"
#include "fwchain/manifest.h"
#include "fwchain/merkle.h"
#include "fwchain/note.h"
#include "fwchain/payload.h"
#include "fwchain/sha256.h"
#include "fwchain/tx.h"
#include "fwchain/unixfs.h"

#define L_MAX_TX 64
#define L_CHAIN "fwchain-agent-test"
#define L_PRODUCT "thermo"
#define L_HWID "rev-b"
#define L_CHANNEL "stable"
#define L_T0 1700000000u /* time of the first checkpoint */

static const uint8_t l_zero_aux[32];
/* Added to the cosignature time of validator i (tests of the quorum's time). */
static uint64_t l_skew[4];

struct ledger {
	struct fwc_seckey admin;       /* sender of every transaction */
	struct fwc_seckey root[3];     /* product root keys R0..R2 */
	struct fwc_seckey rel[5];      /* release keys K0..K4 */
	struct fwc_seckey val[3];      /* validators V0..V2 (ed25519) */
	struct fwc_seckey other;       /* a key nobody trusts */
	struct fwc_note_vkey vkeys[3]; /* the validators' verifier keys */
	struct fwc_keyset root_set;    /* R0, R1, R2, threshold 2 */
	struct fwc_agent_trust trust;  /* validators, quorum 2, root set */
	struct fwc_agent_identity id;  /* thermo / rev-b / stable */
	uint8_t *tx[L_MAX_TX];         /* the log: signed transactions */
	size_t tx_len[L_MAX_TX];
	uint8_t leaf[L_MAX_TX][32];
	uint64_t n;
	uint64_t nonce;
};

static inline int l_key(struct fwc_seckey *sk, enum fwc_alg alg, const char *label)
{
	char text[96];
	uint8_t secret[32];

	snprintf(text, sizeof(text), "fwagent test %s", label);
	if (fwc_sha256(secret, text, strlen(text)) != FWC_OK)
		return -1;
	return fwc_key_from_secret(sk, alg, secret) == FWC_OK ? 0 : -1;
}

static inline struct fwc_pubkey l_pub(const struct fwc_seckey *sk)
{
	struct fwc_pubkey pk;

	memset(&pk, 0, sizeof(pk));
	fwc_key_public(&pk, sk);
	return pk;
}

/* A key set of the given keys (sorted as the wire form will be), threshold k. */
static inline void l_keyset(struct fwc_keyset *ks, unsigned k, const struct fwc_seckey *const *keys,
                            size_t n)
{
	uint8_t buf[FWC_KEYSET_ENC_MAX];
	size_t len = 0;

	memset(ks, 0, sizeof(*ks));
	ks->n = n;
	ks->threshold = k;
	for (size_t i = 0; i < n; i++)
		ks->keys[i] = l_pub(keys[i]);
	/* round-trip through the codec so the key order is the wire order */
	if (fwc_keyset_encode(buf, sizeof(buf), &len, ks) == FWC_OK)
		fwc_keyset_decode(ks, buf, len, NULL);
}

static inline int ledger_init(struct ledger *l)
{
	static const char *const names[3] = {"validator-0", "validator-1", "validator-2"};
	const struct fwc_seckey *rk[3];
	char label[32];
	int bad = 0;

	memset(l, 0, sizeof(*l));
	bad |= l_key(&l->admin, FWC_ALG_BIP340, "admin");
	bad |= l_key(&l->other, FWC_ALG_BIP340, "other");
	for (int i = 0; i < 3; i++) {
		struct fwc_pubkey pk;

		snprintf(label, sizeof(label), "root %d", i);
		bad |= l_key(&l->root[i], FWC_ALG_BIP340, label);
		snprintf(label, sizeof(label), "validator %d", i);
		bad |= l_key(&l->val[i], FWC_ALG_ED25519, label);
		pk = l_pub(&l->val[i]);
		bad |= fwc_note_vkey_init(&l->vkeys[i], names[i], strlen(names[i]),
		                          FWC_NOTE_SIG_COSIG_V1, &pk) != FWC_OK;
		rk[i] = &l->root[i];
	}
	for (int i = 0; i < 5; i++) {
		snprintf(label, sizeof(label), "release %d", i);
		bad |= l_key(&l->rel[i], FWC_ALG_BIP340, label);
	}
	l_keyset(&l->root_set, 2, rk, 3);
	l->trust.chain_id = L_CHAIN;
	l->trust.chain_id_len = strlen(L_CHAIN);
	l->trust.validators = l->vkeys;
	l->trust.n_validators = 3;
	l->trust.quorum = 2;
	l->trust.max_age = 86400;
	l->trust.root = &l->root_set;
	l->trust.root_version = 1;
	l->id.product = L_PRODUCT;
	l->id.product_len = strlen(L_PRODUCT);
	l->id.hwid = L_HWID;
	l->id.hwid_len = strlen(L_HWID);
	l->id.channel = L_CHANNEL;
	l->id.channel_len = strlen(L_CHANNEL);
	return bad ? -1 : 0;
}

static inline void ledger_free(struct ledger *l)
{
	for (uint64_t i = 0; i < l->n; i++)
		free(l->tx[i]);
	l->n = 0;
}

/* Append bytes as the next leaf; returns its index. */
static inline uint64_t ledger_append(struct ledger *l, const uint8_t *tx, size_t len)
{
	uint64_t i = l->n++;

	l->tx[i] = malloc(len);
	memcpy(l->tx[i], tx, len);
	l->tx_len[i] = len;
	fwc_merkle_leaf_hash(l->leaf[i], tx, len);
	return i;
}

/* A signed transaction of type with payload, from sender (NULL: the admin), on chain. Returns
 * its length in out (caller buffer of FWC_TX_MAX). */
static inline size_t ledger_make_tx(struct ledger *l, uint8_t *out, uint32_t type,
                                    const uint8_t *payload, size_t plen,
                                    const struct fwc_seckey *sender, const char *chain)
{
	uint8_t body[FWC_TX_BODY_MAX];
	size_t blen = 0, len = 0;
	struct fwc_tx tx;

	if (sender == NULL)
		sender = &l->admin;
	memset(&tx, 0, sizeof(tx));
	tx.type = type;
	tx.chain_id.p = chain != NULL ? chain : L_CHAIN;
	tx.chain_id.len = strlen(tx.chain_id.p);
	tx.sender = l_pub(sender);
	tx.nonce = ++l->nonce;
	tx.time = L_T0;
	tx.payload.p = payload;
	tx.payload.len = plen;
	if (fwc_tx_encode_body(body, sizeof(body), &blen, &tx, NULL) != FWC_OK ||
	    fwc_tx_sign(out, FWC_TX_MAX, &len, body, blen, sender, l_zero_aux, NULL) != FWC_OK)
		return 0;
	return len;
}

static inline uint64_t ledger_tx(struct ledger *l, uint32_t type, const uint8_t *payload,
                                 size_t plen)
{
	uint8_t tx[FWC_TX_MAX];
	size_t len = ledger_make_tx(l, tx, type, payload, plen, NULL, NULL);

	return ledger_append(l, tx, len);
}

/* The payload of a key-set statement: product, set (1 root, 2 release), version, keyset ks,
 * signed by signers[0..n) (over the statement digest). */
static inline size_t ledger_statement(uint8_t *out, size_t cap, const char *product, uint32_t set,
                                      uint64_t version, const struct fwc_keyset *ks,
                                      const struct fwc_seckey *const *signers, size_t n)
{
	uint8_t ksbuf[FWC_KEYSET_ENC_MAX], stmt[4096], digest[32], bins[16][33], sigs[16][64];
	struct fwc_keyset_sig ss[16];
	struct fwc_rotation rot;
	struct fwc_pl_keyset_statement pl;
	size_t kslen = 0, slen = 0, len = 0;

	if (fwc_keyset_encode(ksbuf, sizeof(ksbuf), &kslen, ks) != FWC_OK)
		return 0;
	memset(&rot, 0, sizeof(rot));
	rot.product.p = product;
	rot.product.len = strlen(product);
	rot.set = set;
	rot.version = version;
	rot.keyset.p = ksbuf;
	rot.keyset.len = kslen;
	if (fwc_rotation_digest(digest, &rot) != FWC_OK)
		return 0;
	for (size_t i = 0; i < n; i++) {
		struct fwc_pubkey pk = l_pub(signers[i]);

		fwc_pubkey_to_bin(bins[i], &pk);
		fwc_sign_bip340_aux(sigs[i], signers[i], l_zero_aux, digest, 32);
		ss[i].pubkey = bins[i];
		ss[i].sig = sigs[i];
	}
	if (fwc_rotation_encode(stmt, sizeof(stmt), &slen, &rot, ss, n) != FWC_OK)
		return 0;
	pl.statement.p = stmt;
	pl.statement.len = slen;
	if (fwc_pl_keyset_statement_encode(out, cap, &len, &pl) != FWC_OK)
		return 0;
	return len;
}

/* Log a key-set statement transaction (KEYSET_REGISTER for a release set of version 1,
 * KEYSET_ROTATE otherwise). Returns its leaf index. */
static inline uint64_t ledger_keyset(struct ledger *l, uint32_t set, uint64_t version,
                                     const struct fwc_keyset *ks,
                                     const struct fwc_seckey *const *signers, size_t n)
{
	uint8_t pl[8192];
	size_t len = ledger_statement(pl, sizeof(pl), L_PRODUCT, set, version, ks, signers, n);
	uint32_t type = set == FWC_ROTATE_RELEASE && version == 1 ? FWC_TX_KEYSET_REGISTER
	                                                          : FWC_TX_KEYSET_ROTATE;

	return ledger_tx(l, type, pl, len);
}

/* What a release says. */
struct l_release {
	const char *product, *channel, *hw1, *hw2;
	uint64_t counter, size;
	uint8_t sha256[32];
	uint8_t cid[36];
	size_t cid_len;
	int licence, encrypted;
	uint64_t not_before;
};

static inline void l_release_default(struct l_release *r, uint64_t counter)
{
	memset(r, 0, sizeof(*r));
	r->product = L_PRODUCT;
	r->channel = L_CHANNEL;
	r->hw1 = "rev-a";
	r->hw2 = L_HWID;
	r->counter = counter;
	r->size = 100000;
	memset(r->sha256, 0x5a, 32);
	/* a CIDv1 raw of some block */
	r->cid[0] = 0x01;
	r->cid[1] = 0x55;
	r->cid[2] = 0x12;
	r->cid[3] = 0x20;
	memset(r->cid + 4, 0xc1, 32);
	r->cid_len = 36;
}

/* The RELEASE payload of r signed by signers[0..n) (raw entries: the same key may be given
 * twice, which the encoder refuses, so the signed manifest is assembled by hand). */
static inline size_t ledger_release_payload(uint8_t *out, size_t cap, const struct l_release *r,
                                            const struct fwc_seckey *const *signers, size_t n)
{
	uint8_t body[FWC_MANIFEST_BODY_MAX], digest[32], sm[FWC_SIGNED_MANIFEST_MAX];
	struct fwc_manifest m;
	struct fwc_cbor_enc e;
	struct fwc_pl_release pl;
	size_t blen = 0, smlen = 0, len = 0;

	memset(&m, 0, sizeof(m));
	m.format = 1;
	m.product.p = r->product;
	m.product.len = strlen(r->product);
	m.version.p = "1.0";
	m.version.len = 3;
	m.counter = r->counter;
	m.channel.p = r->channel;
	m.channel.len = strlen(r->channel);
	m.cid.p = r->cid;
	m.cid.len = r->cid_len;
	m.size = r->size;
	memcpy(m.sha256, r->sha256, 32);
	m.n_hw = 2;
	m.hw[0].p = r->hw1;
	m.hw[0].len = strlen(r->hw1);
	m.hw[1].p = r->hw2;
	m.hw[1].len = strlen(r->hw2);
	m.created = L_T0;
	if (r->licence) {
		m.has_licence = 1;
		m.licence.p = "pro";
		m.licence.len = 3;
	}
	if (r->encrypted) {
		m.has_encryption = 1;
		m.encryption.alg.p = "xchacha20poly1305";
		m.encryption.alg.len = 17;
		m.encryption.key_id.p = (const uint8_t *)"k1";
		m.encryption.key_id.len = 2;
	}
	if (r->not_before) {
		m.has_rollout = 1;
		m.rollout.has_not_before = 1;
		m.rollout.not_before = r->not_before;
	}
	if (fwc_manifest_encode(body, sizeof(body), &blen, &m, NULL) != FWC_OK ||
	    fwc_manifest_digest(digest, body, blen) != FWC_OK)
		return 0;
	/* {1: body, 2: [[key, sig], ...]} with the entries in the order given */
	fwc_cbor_enc_init(&e, sm, sizeof(sm));
	fwc_cbor_put_map(&e, 2);
	fwc_cbor_put_uint(&e, 1);
	fwc_cbor_put_bytes(&e, body, blen);
	fwc_cbor_put_uint(&e, 2);
	fwc_cbor_put_array(&e, n);
	for (size_t i = 0; i < n; i++) {
		struct fwc_pubkey pk = l_pub(signers[i]);
		uint8_t bin[33], sig[64];

		fwc_pubkey_to_bin(bin, &pk);
		fwc_sign_bip340_aux(sig, signers[i], l_zero_aux, digest, 32);
		fwc_cbor_put_array(&e, 2);
		fwc_cbor_put_bytes(&e, bin, 33);
		fwc_cbor_put_bytes(&e, sig, 64);
	}
	if (fwc_cbor_enc_finish(&e, &smlen) != FWC_OK)
		return 0;
	pl.manifest.p = sm;
	pl.manifest.len = smlen;
	if (fwc_pl_release_encode(out, cap, &len, &pl) != FWC_OK)
		return 0;
	return len;
}

/* Signers sorted by their binary public key, as a valid signed manifest lists them. */
static inline void l_sort_signers(const struct fwc_seckey **s, size_t n)
{
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0; j--) {
			struct fwc_pubkey a = l_pub(s[j - 1]), b = l_pub(s[j]);
			uint8_t ab[33], bb[33];
			const struct fwc_seckey *t;

			fwc_pubkey_to_bin(ab, &a);
			fwc_pubkey_to_bin(bb, &b);
			if (memcmp(ab, bb, 33) <= 0)
				break;
			t = s[j - 1];
			s[j - 1] = s[j];
			s[j] = t;
		}
}

static inline uint64_t ledger_release(struct ledger *l, const struct l_release *r,
                                      const struct fwc_seckey **signers, size_t n, int sort)
{
	uint8_t pl[FWC_TX_PAYLOAD_MAX];
	size_t len;

	if (sort)
		l_sort_signers(signers, n);
	len = ledger_release_payload(pl, sizeof(pl), r, signers, n);
	return ledger_tx(l, FWC_TX_RELEASE, pl, len);
}

static int l_leaf_cb(void *ctx, uint8_t out[32], uint64_t index)
{
	struct ledger *l = ctx;

	memcpy(out, l->leaf[index], 32);
	return FWC_OK;
}

static inline int ledger_root(struct ledger *l, uint8_t root[32], uint64_t size)
{
	struct fwc_merkle_source src = {l_leaf_cb, NULL, l};

	return fwc_merkle_source_root(root, &src, size);
}

/* The checkpoint of the first size leaves, "time <t>" extension, cosigned at time t by the
 * validators whose bit is set in mask (bit 3: also by the untrusted key under a fresh name).
 * Returns a malloc'd NUL-terminated note. */
static inline char *ledger_checkpoint(struct ledger *l, uint64_t size, uint64_t t, unsigned mask)
{
	char text[1024], line[64], *note = malloc(8192), *tmp = malloc(8192);
	uint8_t root[32];
	struct fwc_note_line ext[2];
	struct fwc_note n;
	size_t tl = 0, nl = 0;
	int first = 1;

	snprintf(line, sizeof(line), "time %llu", (unsigned long long)t);
	ext[0].ptr = "height 7";
	ext[0].len = 8;
	ext[1].ptr = line;
	ext[1].len = strlen(line);
	if (ledger_root(l, root, size) != FWC_OK ||
	    fwc_checkpoint_format(text, sizeof(text), &tl, L_CHAIN, strlen(L_CHAIN), size, root,
	                          ext, 2) != FWC_OK)
		goto fail;
	for (int i = 0; i < 4; i++) {
		struct fwc_note_signer s;

		if (!(mask & (1u << i)))
			continue;
		s.name = i < 3 ? l->vkeys[i].name : "impostor";
		s.name_len = strlen(s.name);
		s.type = FWC_NOTE_SIG_COSIG_V1;
		s.timestamp = t + l_skew[i];
		if (i == 3) {
			static struct fwc_seckey imp;

			l_key(&imp, FWC_ALG_ED25519, "impostor");
			s.sk = &imp;
		} else {
			s.sk = &l->val[i];
		}
		if (first) {
			if (fwc_note_sign_text(note, 8192, &nl, text, tl, &s) != FWC_OK)
				goto fail;
			first = 0;
		} else {
			if (fwc_note_parse(&n, note, nl, NULL) != FWC_OK ||
			    fwc_note_sign(tmp, 8192, &nl, &n, &s) != FWC_OK)
				goto fail;
			memcpy(note, tmp, nl + 1);
		}
	}
	free(tmp);
	return note;
fail:
	free(note);
	free(tmp);
	return NULL;
}

/* A proof bundle of leaf `release` with the given extra leaves, against the tree of `size`
 * leaves and checkpoint note. Returns a malloc'd buffer (length in *len). */
static inline uint8_t *ledger_bundle(struct ledger *l, size_t *len, uint64_t release,
                                     const uint64_t *extra, size_t n_extra, uint64_t size,
                                     const char *note)
{
	struct fwc_merkle_source src = {l_leaf_cb, NULL, l};
	static uint8_t paths[FWC_BUNDLE_MAX_EXTRA + 1][64][32];
	struct fwc_bundle b;
	size_t pl = 0, need = 0;
	uint8_t *out;

	memset(&b, 0, sizeof(b));
	b.release.tx = l->tx[release];
	b.release.tx_len = l->tx_len[release];
	b.release.index = release;
	if (fwc_merkle_prove_inclusion(paths[0], 64, &pl, &src, release, size) != FWC_OK)
		return NULL;
	b.release.path = (const uint8_t(*)[32])paths[0];
	b.release.path_len = pl;
	b.size = size;
	b.checkpoint = note;
	b.checkpoint_len = strlen(note);
	b.n_extra = n_extra;
	for (size_t i = 0; i < n_extra; i++) {
		struct fwc_bundle_entry *e = &b.extra[i];

		e->tx = l->tx[extra[i]];
		e->tx_len = l->tx_len[extra[i]];
		e->index = extra[i];
		if (fwc_merkle_prove_inclusion(paths[i + 1], 64, &pl, &src, extra[i], size) !=
		    FWC_OK)
			return NULL;
		e->path = (const uint8_t(*)[32])paths[i + 1];
		e->path_len = pl;
	}
	if (fwc_bundle_encode(NULL, 0, &need, &b) != FWC_OK || need == 0)
		return NULL;
	out = malloc(need);
	if (out == NULL || fwc_bundle_encode(out, need, len, &b) != FWC_OK) {
		free(out);
		return NULL;
	}
	return out;
}

#endif
