/* fwchaind mempool index: ids, (sender, nonce) pairs and per-sender counts of the pending
 * transactions, for O(1) submission checks (node/chain.c used to scan the whole mempool for
 * every submission, which at 10 000 pending transactions cost more than the checks themselves).
 *
 * Main design choice: three open-addressing tables with linear probing and backward-shift
 * deletion (no tombstones, so a long-running node never degrades), each allocated once at
 * twice the most entries it can hold, so the load stays at most one half and nothing is
 * allocated after start. Keys are hashed with SipHash-2-4 (libsodium's crypto_shorthash) under
 * a random per-process key: senders and nonces are chosen by clients, who must not be able to
 * grind keys that collide and turn lookups back into scans. */
#include "txindex.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "fwchain/err.h"

#define KEY_MAX (FWC_PUBKEY_BIN_LEN + 8)

struct slot {
	uint64_t hash;
	uint64_t top;   /* senders: highest pending nonce */
	uint32_t count; /* senders: pending transactions */
	uint8_t used;
	uint8_t key[KEY_MAX];
};

struct table {
	struct slot *s;
	size_t mask, klen, n;
};

struct node_txindex {
	unsigned char hkey[crypto_shorthash_KEYBYTES];
	struct table ids, nonces, senders;
	size_t max, size, membership;
};

static int table_init(struct table *t, size_t max, size_t klen)
{
	size_t cap = 16;

	while (cap < 2 * max)
		cap <<= 1;
	t->s = calloc(cap, sizeof(*t->s));
	t->mask = cap - 1;
	t->klen = klen;
	t->n = 0;
	return t->s ? FWC_OK : FWC_ERR_NOMEM;
}

static uint64_t hash(const struct node_txindex *ix, const uint8_t *key, size_t klen)
{
	unsigned char h[crypto_shorthash_BYTES];
	uint64_t v;

	crypto_shorthash(h, key, klen, ix->hkey);
	memcpy(&v, h, sizeof(v));
	return v;
}

/* The slot holding key, or SIZE_MAX. */
static size_t find(const struct table *t, uint64_t h, const uint8_t *key)
{
	for (size_t i = h & t->mask, probes = 0; t->s[i].used && probes <= t->mask;
	     i = (i + 1) & t->mask, probes++)
		if (t->s[i].hash == h && memcmp(t->s[i].key, key, t->klen) == 0)
			return i;
	return SIZE_MAX;
}

/* The slot of key, inserted when absent (*fresh 1). SIZE_MAX when the table is full, which the
 * sizing (at most max entries in 2 * max slots) rules out. */
static size_t insert(struct table *t, uint64_t h, const uint8_t *key, int *fresh)
{
	size_t i = h & t->mask;

	*fresh = 0;
	for (size_t probes = 0; t->s[i].used; i = (i + 1) & t->mask, probes++) {
		if (t->s[i].hash == h && memcmp(t->s[i].key, key, t->klen) == 0)
			return i;
		if (probes == t->mask)
			return SIZE_MAX;
	}
	memset(&t->s[i], 0, sizeof(t->s[i]));
	t->s[i].used = 1;
	t->s[i].hash = h;
	memcpy(t->s[i].key, key, t->klen);
	t->n++;
	*fresh = 1;
	return i;
}

/* Backward-shift deletion: later entries of the probe run move up so that every entry stays
 * reachable from its home slot without tombstones. */
static void erase(struct table *t, size_t i)
{
	size_t j = i;

	for (;;) {
		size_t k;

		j = (j + 1) & t->mask;
		if (!t->s[j].used)
			break;
		k = t->s[j].hash & t->mask;
		/* The entry at j stays when its home k lies cyclically in (i, j]. */
		if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
			continue;
		t->s[i] = t->s[j];
		i = j;
	}
	t->s[i].used = 0;
	t->n--;
}

int node_txindex_new(struct node_txindex **out, size_t max)
{
	struct node_txindex *ix;

	if (out == NULL || max == 0 || max > (SIZE_MAX / sizeof(struct slot)) / 4)
		return FWC_ERR_ARG;
	if (sodium_init() < 0)
		return FWC_ERR_CRYPTO;
	ix = calloc(1, sizeof(*ix));
	if (ix == NULL)
		return FWC_ERR_NOMEM;
	randombytes_buf(ix->hkey, sizeof(ix->hkey));
	ix->max = max;
	if (table_init(&ix->ids, max, 32) != FWC_OK ||
	    table_init(&ix->nonces, max, FWC_PUBKEY_BIN_LEN + 8) != FWC_OK ||
	    table_init(&ix->senders, max, FWC_PUBKEY_BIN_LEN) != FWC_OK) {
		node_txindex_free(ix);
		return FWC_ERR_NOMEM;
	}
	*out = ix;
	return FWC_OK;
}

void node_txindex_free(struct node_txindex *ix)
{
	if (ix == NULL)
		return;
	free(ix->ids.s);
	free(ix->nonces.s);
	free(ix->senders.s);
	free(ix);
}

static void nonce_key(uint8_t key[KEY_MAX], const uint8_t sender[FWC_PUBKEY_BIN_LEN],
                      uint64_t nonce)
{
	memcpy(key, sender, FWC_PUBKEY_BIN_LEN);
	for (int b = 0; b < 8; b++)
		key[FWC_PUBKEY_BIN_LEN + b] = (uint8_t)(nonce >> (8 * (7 - b)));
}

int node_txindex_add(struct node_txindex *ix, const uint8_t id[32],
                     const uint8_t sender[FWC_PUBKEY_BIN_LEN], uint64_t nonce, int membership)
{
	uint8_t nk[KEY_MAX];
	uint64_t hi, hn, hs;
	size_t i, n, s;
	int fresh;

	if (ix->size >= ix->max)
		return FWC_ERR_RANGE;
	nonce_key(nk, sender, nonce);
	hi = hash(ix, id, 32);
	hn = hash(ix, nk, FWC_PUBKEY_BIN_LEN + 8);
	if (find(&ix->ids, hi, id) != SIZE_MAX || find(&ix->nonces, hn, nk) != SIZE_MAX)
		return FWC_ERR_DUPLICATE;
	hs = hash(ix, sender, FWC_PUBKEY_BIN_LEN);
	i = insert(&ix->ids, hi, id, &fresh);
	n = i == SIZE_MAX ? SIZE_MAX : insert(&ix->nonces, hn, nk, &fresh);
	s = n == SIZE_MAX ? SIZE_MAX : insert(&ix->senders, hs, sender, &fresh);
	if (s == SIZE_MAX) { /* cannot happen with the sizing; undo what went in */
		if (n != SIZE_MAX)
			erase(&ix->nonces, n);
		if (i != SIZE_MAX)
			erase(&ix->ids, find(&ix->ids, hi, id));
		return FWC_ERR_RANGE;
	}
	ix->senders.s[s].count++;
	if (nonce > ix->senders.s[s].top)
		ix->senders.s[s].top = nonce;
	ix->size++;
	ix->membership += membership != 0;
	return FWC_OK;
}

void node_txindex_remove(struct node_txindex *ix, const uint8_t id[32],
                         const uint8_t sender[FWC_PUBKEY_BIN_LEN], uint64_t nonce, int membership)
{
	uint8_t nk[KEY_MAX];
	size_t i, s;
	struct slot *e;

	i = find(&ix->ids, hash(ix, id, 32), id);
	if (i == SIZE_MAX)
		return;
	erase(&ix->ids, i);
	ix->size--;
	if (membership && ix->membership > 0)
		ix->membership--;
	nonce_key(nk, sender, nonce);
	i = find(&ix->nonces, hash(ix, nk, FWC_PUBKEY_BIN_LEN + 8), nk);
	if (i != SIZE_MAX)
		erase(&ix->nonces, i);
	s = find(&ix->senders, hash(ix, sender, FWC_PUBKEY_BIN_LEN), sender);
	if (s == SIZE_MAX)
		return;
	e = &ix->senders.s[s];
	if (e->count <= 1) {
		erase(&ix->senders, s);
		return;
	}
	e->count--;
	/* The top left: the next lower pending nonce is the new top. Pending nonces of a sender
	 * were contiguous when they came in (a submission is at most one past the top), so the
	 * walk crosses only the holes left by removals, and there are e->count entries below. */
	if (nonce == e->top) {
		uint64_t t = nonce;

		while (t > 1) {
			t--;
			nonce_key(nk, sender, t);
			if (find(&ix->nonces, hash(ix, nk, FWC_PUBKEY_BIN_LEN + 8), nk) != SIZE_MAX)
				break;
		}
		e->top = t;
	}
}

int node_txindex_has_id(const struct node_txindex *ix, const uint8_t id[32])
{
	return find(&ix->ids, hash(ix, id, 32), id) != SIZE_MAX;
}

int node_txindex_has_nonce(const struct node_txindex *ix, const uint8_t sender[FWC_PUBKEY_BIN_LEN],
                           uint64_t nonce)
{
	uint8_t nk[KEY_MAX];

	nonce_key(nk, sender, nonce);
	return find(&ix->nonces, hash(ix, nk, FWC_PUBKEY_BIN_LEN + 8), nk) != SIZE_MAX;
}

void node_txindex_sender(const struct node_txindex *ix, const uint8_t sender[FWC_PUBKEY_BIN_LEN],
                         size_t *count, uint64_t *top)
{
	size_t s = find(&ix->senders, hash(ix, sender, FWC_PUBKEY_BIN_LEN), sender);

	if (count)
		*count = s == SIZE_MAX ? 0 : ix->senders.s[s].count;
	if (top)
		*top = s == SIZE_MAX ? 0 : ix->senders.s[s].top;
}

size_t node_txindex_membership(const struct node_txindex *ix)
{
	return ix->membership;
}

size_t node_txindex_size(const struct node_txindex *ix)
{
	return ix->size;
}
