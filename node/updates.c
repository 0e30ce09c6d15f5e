/* fwchaind check-in: GET /v1/updates answers a device with the proof bundle of the newest
 * release it may install, or with the newest checkpoint when there is none, applying the
 * ledger's rollout records to the device that asks: rollout state (pause, resume, halt), the
 * manifest's rollout policy (share of the fleet, groups, regions, not-before), postponements
 * and licences. Rules and their order: docs/node.md ("Check-in rules").
 *
 * Main design choice: what depends on the ledger is cached per (product, channel, hardware id)
 * and what depends on the device is decided in memory at each check-in. An entry holds the
 * "candidates": the live releases of its key, newest first, down to and including the first
 * one open to every device (any device below that one's counter gets nothing from further
 * down), each with the rules that apply to it, decoded once from its manifest and its rollout
 * state, and lazily its encoded bundle. A check-in walks the candidates above its counter and
 * offers the first that admits the device. Device facts (product, hardware id, groups, region,
 * retirement, licences) come from a second cache keyed by the device key. So a check-in whose
 * entry and device are cached runs no SQLite query; the exceptions are a candidate with an
 * active postponement (which device and group it names is looked up for this device only) and
 * a device holding more licences than an entry keeps.
 *
 * Ageing: a block that applied a transaction able to change the candidates (release,
 * release-revoke, rollout-control, postpone, key-set registration or rotation, product
 * registration) bumps the entry epoch; entries of an older epoch are read again. Device facts
 * age per device: the commit hook gets the block's applied transactions (chain.h) and decodes
 * the device-register and licence payloads to drop the records of just the devices they name
 * (a licence revoke names only the licence: its device is read from the ledger). A licence
 * issued without a device (product-wide: it changes every device of its product), more than
 * DEV_TOUCH_MAX devices in one block, a payload that does not decode, or a commit notice
 * without its transactions fall back to bumping the device epoch, which drops every record.
 * A device read from SQLite before a block that touched it must not be installed after that
 * block's invalidation: a fill notes the count of per-device invalidations (and the device
 * epoch) when it starts, and installs only if no invalidation since named its key's hash (a
 * ring of the last INVAL_RING; more than that since, it does not install). Any new block
 * brings a new checkpoint, which a bundle must carry (devices refuse stale checkpoints): with
 * the same tree size the note is spliced into the cached bundle without SQLite, with a larger
 * one the inclusion paths are redone (O(log n) subtree lookups each). Every read of the ledger
 * takes what it needs from ONE read snapshot, so a bundle never mixes a release with a
 * checkpoint that does not contain it; a device's row and licences come from one statement.
 *
 * The entry cache is direct-mapped by a hash of the key: a colliding key evicts the other,
 * which only costs a rebuild. The device cache is set-associative (4-way sets of 16-byte
 * slots, one cache line a set) and grows with the fleet (dcache_put); node_updates_warm fills
 * it at start from a scan of the registered devices in a thread of the idle scheduling class,
 * so a device's first check-in after a restart need not read SQLite. Rebuilds run outside the
 * lock; two requests that miss at once both build, and the later install wins (both answers
 * are correct). Time rules (not-before, postponements, licence validity) compare with the
 * node's clock, read once per check-in. */
#define _GNU_SOURCE /* SCHED_IDLE, for the warming thread */
#include "updates.h"

#include <jansson.h>
#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "fwchain/bundle.h"
#include "fwchain/hex.h"
#include "fwchain/manifest.h"
#include "fwchain/merkle.h"
#include "fwchain/payload.h"
#include "fwchain/sha256.h"
#include "fwchain/tx.h"
#include "state.h"
#include "state_query.h"
#include "stateq_pool.h"

#define CBOR_TYPE "application/cbor"
#define NOTE_TYPE "text/plain; charset=utf-8"
#define CHANNEL_MAX 32
#define HW_MAX 64
#define KEY_MAX (FWC_PL_ID_MAX + 1 + CHANNEL_MAX + 1 + HW_MAX + 1)
#define ETAG_LEN 40
#define NAME_BUF (FWC_MANIFEST_NAME_MAX + 1)
#define ID_BUF (FWC_MANIFEST_ID_MAX + 1)
#define LIC_MAX 16 /* licences a device entry keeps; beyond, the check-in asks the ledger */
#define RETRIES 4  /* times a check-in re-reads a cache entry that changed under it */
/* The device cache: sets of DEV_WAYS slots; it starts at NODE_UPDATES_DEVICE_SLOTS slots and
 * doubles whenever more than half its slots hold a record (or a quarter do and a set
 * overflows: dcache_put), up to DEV_SLOTS_MAX (4 Mi slots, 64 MiB of slots plus the records:
 * a fleet of 2 million devices fits). */
#define DEV_WAYS 4
#define DEV_SLOTS_MAX ((size_t)1 << 22)
/* Devices one block may touch (device-register, device-bound licence issue or revoke) and
 * still have only their records dropped; beyond, the whole device cache goes. */
#define DEV_TOUCH_MAX 256
/* The last per-device invalidations (their key hashes) a fill checks before it installs the
 * record it read: more since its read began and it does not install. */
#define INVAL_RING 1024

/* Types whose application can change which releases a check-in may get, or their key-set
 * chain. */
#define RELEVANT_TYPES                                                                             \
	((1u << FWC_TX_RELEASE) | (1u << FWC_TX_RELEASE_REVOKE) | (1u << FWC_TX_ROLLOUT_CONTROL) | \
	 (1u << FWC_TX_KEYSET_REGISTER) | (1u << FWC_TX_KEYSET_ROTATE) |                           \
	 (1u << FWC_TX_PRODUCT_REGISTER) | (1u << FWC_TX_POSTPONE))
/* Types that change what the check-in knows of a device. */
#define DEVICE_TYPES                                                                               \
	((1u << FWC_TX_DEVICE_REGISTER) | (1u << FWC_TX_LICENCE_ISSUE) |                           \
	 (1u << FWC_TX_LICENCE_REVOKE))

/* A logged transaction a bundle proves, and its inclusion path in the tree of the part's
 * size. */
struct material {
	uint8_t *tx;
	size_t len;
	uint64_t leaf;
	uint8_t (*path)[32];
	size_t path_len;
};

/* What a candidate's bundle proves, and the bundle (built on first offer). */
struct part {
	int built;
	struct material rel;
	size_t nextra;
	struct material extra[FWC_BUNDLE_MAX_EXTRA];
	uint64_t size;           /* the tree size of the paths and the bundle */
	char note_tag[ETAG_LEN]; /* the ETag of the checkpoint note in the bundle */
	uint8_t *bundle;
	size_t bundle_len;
	char etag[ETAG_LEN];
};

/* A live release of an entry's key and the rules that apply to it. */
struct cand {
	uint8_t id[32], txid[32];
	uint64_t counter;
	int rollout;  /* enum node_rollout_state */
	unsigned bps; /* share of the fleet in basis points; 10000 when the manifest sets none */
	int64_t not_before; /* 0: none */
	size_t ngroups, nregions;
	char groups[FWC_MANIFEST_LIST_MAX][NAME_BUF];
	char regions[FWC_MANIFEST_LIST_MAX][NAME_BUF];
	char licence[ID_BUF]; /* the feature a device must hold a licence for; "" none */
	int64_t pp_until;     /* the latest end of any postponement of it (0: none) */
	struct part p;
};

struct entry {
	int used;
	char key[KEY_MAX];
	size_t key_len;
	uint64_t epoch; /* the epoch its candidates were read at */
	size_t ncand;
	int truncated; /* NODE_UPDATES_CANDIDATES reached before an open release */
	struct cand *c;
};

/* What the check-in knows of a device. */
struct dev {
	int used;
	uint8_t key[FWC_PUBKEY_BIN_LEN];
	uint64_t epoch;
	int found, retired;
	char product[ID_BUF], hwid[ID_BUF], region[NAME_BUF + 32];
	size_t ngroups;
	char groups[FWC_PL_GROUPS_MAX][NAME_BUF];
	size_t nlic;
	int lic_more; /* more licences than kept, or not read: ask the ledger */
	struct {
		char feature[ID_BUF];
		int64_t not_before, not_after;
	} lic[LIC_MAX];
};

/* A device cache slot: the 32 high bits of the key's hash (to skip other keys without touching
 * their record), the low 32 bits of the device epoch its record was read at (a record would
 * pass for current again only after 2^32 whole-cache invalidations, one block each), and the
 * record: what struct dev holds, packed by dev_pack (55 bytes for a device with one group and
 * no licence, where a struct dev takes 2 KiB). NULL rec: empty. 16 bytes: a set of DEV_WAYS is
 * one 64-byte cache line (the array is aligned to it). */
struct dslot {
	uint32_t tag;
	uint32_t epoch;
	uint8_t *rec;
};

struct node_updates {
	struct node_db *db;
	struct node_stateq_pool qpool;
	pthread_rwlock_t lock;
	int ready;
	uint64_t epoch, dev_epoch;
	uint64_t size;
	char *note;
	size_t note_len;
	char note_etag[ETAG_LEN];
	struct entry *slots;
	struct dslot *dslots; /* dslot_n slots in sets of DEV_WAYS */
	size_t dslot_n, dslot_used;
	/* Per-device invalidations so far; the key hash of invalidation g is inval[g %
	 * INVAL_RING]. */
	uint64_t dev_gen;
	uint64_t inval[INVAL_RING];
	uint64_t hits, splices, refreshes, misses, dev_fills, lookups, readers;
	uint64_t dev_grows, dev_drops, dev_flushes, dev_warmed;
	pthread_t warm;
	int warm_on, warm_stop, warm_done; /* warm_stop, warm_done: atomics */
};

static void material_free(struct material *m)
{
	free(m->tx);
	free(m->path);
	memset(m, 0, sizeof(*m));
}

static void part_clear(struct part *p)
{
	material_free(&p->rel);
	for (size_t i = 0; i < p->nextra; i++)
		material_free(&p->extra[i]);
	free(p->bundle);
	memset(p, 0, sizeof(*p));
}

static void entry_clear(struct entry *e)
{
	for (size_t i = 0; i < e->ncand; i++)
		part_clear(&e->c[i].p);
	free(e->c);
	memset(e, 0, sizeof(*e));
}

static struct dslot *dslots_alloc(size_t n);

int node_updates_new(struct node_updates **out, struct node_db *db)
{
	struct node_updates *u;

	if (out == NULL || db == NULL)
		return FWC_ERR_ARG;
	u = calloc(1, sizeof(*u));
	if (u == NULL)
		return FWC_ERR_NOMEM;
	u->slots = calloc(NODE_UPDATES_SLOTS, sizeof(*u->slots));
	u->dslot_n = NODE_UPDATES_DEVICE_SLOTS;
	u->dslots = dslots_alloc(u->dslot_n);
	if (u->slots == NULL || u->dslots == NULL || node_stateq_pool_init(&u->qpool) != FWC_OK) {
		free(u->slots);
		free(u->dslots);
		free(u);
		return FWC_ERR_NOMEM;
	}
	if (pthread_rwlock_init(&u->lock, NULL) != 0) {
		node_stateq_pool_cleanup(&u->qpool);
		free(u->slots);
		free(u->dslots);
		free(u);
		return FWC_ERR_NOMEM;
	}
	u->db = db;
	*out = u;
	return FWC_OK;
}

void node_updates_free(struct node_updates *u)
{
	if (u == NULL)
		return;
	if (u->warm_on) {
		__atomic_store_n(&u->warm_stop, 1, __ATOMIC_RELAXED);
		pthread_join(u->warm, NULL);
	}
	for (size_t i = 0; i < NODE_UPDATES_SLOTS; i++)
		entry_clear(&u->slots[i]);
	free(u->slots);
	for (size_t i = 0; i < u->dslot_n; i++)
		free(u->dslots[i].rec);
	free(u->dslots);
	free(u->note);
	node_stateq_pool_cleanup(&u->qpool);
	pthread_rwlock_destroy(&u->lock);
	free(u);
}

void node_updates_stats(struct node_updates *u, struct node_updates_stats *out)
{
	if (u == NULL || out == NULL)
		return;
	out->hits = __atomic_load_n(&u->hits, __ATOMIC_RELAXED);
	out->splices = __atomic_load_n(&u->splices, __ATOMIC_RELAXED);
	out->refreshes = __atomic_load_n(&u->refreshes, __ATOMIC_RELAXED);
	out->misses = __atomic_load_n(&u->misses, __ATOMIC_RELAXED);
	out->dev_fills = __atomic_load_n(&u->dev_fills, __ATOMIC_RELAXED);
	out->lookups = __atomic_load_n(&u->lookups, __ATOMIC_RELAXED);
	out->readers = __atomic_load_n(&u->readers, __ATOMIC_RELAXED);
	pthread_rwlock_rdlock(&u->lock);
	out->dev_slots = u->dslot_n;
	out->dev_records = u->dslot_used;
	out->dev_grows = u->dev_grows;
	out->dev_drops = u->dev_drops;
	out->dev_flushes = u->dev_flushes;
	out->dev_warmed = u->dev_warmed;
	out->warm_done = __atomic_load_n(&u->warm_done, __ATOMIC_RELAXED);
	pthread_rwlock_unlock(&u->lock);
}

#define COUNT(u, field) __atomic_fetch_add(&(u)->field, 1, __ATOMIC_RELAXED)

/* A strong ETag: a prefix and the first 16 bytes of SHA-256 in hex. */
static void etag_of(char out[ETAG_LEN], const char *prefix, const void *data, size_t len)
{
	uint8_t h[32];
	char hex[33];

	if (fwc_sha256(h, data, len) != FWC_OK)
		memset(h, 0, sizeof(h));
	fwc_hex_encode(hex, sizeof(hex), h, 16);
	snprintf(out, ETAG_LEN, "%s%s", prefix, hex);
}

/* A reader and the state_query statements bound to its connection. */
static int reader_get(struct node_updates *u, struct node_db_reader **r, struct node_stateq **q)
{
	int rc = node_db_reader_get(u->db, r);

	if (rc != FWC_OK)
		return rc;
	COUNT(u, readers);
	if (q && (*q = node_stateq_pool_get(&u->qpool, node_db_reader_handle(*r))) == NULL) {
		node_db_reader_put(*r);
		return FWC_ERR_NOMEM;
	}
	return FWC_OK;
}

/* ---------------------------------------------------------------- parameters */

static int printable(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n == 0 || n > max)
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x21 || (unsigned char)s[i] > 0x7e)
			return 0;
	return 1;
}

/* A decimal uint64 with no sign, no spaces, no leading zeros beyond "0". */
static int parse_u64(uint64_t *out, const char *s)
{
	uint64_t v = 0;

	if (s == NULL || *s == '\0' || strlen(s) > 20 || (s[0] == '0' && s[1] != '\0'))
		return -1;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9' || v > (UINT64_MAX - (uint64_t)(*p - '0')) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	*out = v;
	return 0;
}

struct query {
	const char *product, *channel, *hw;
	uint64_t counter;
	int has_device;
	struct fwc_pubkey device;
	uint8_t dkey[FWC_PUBKEY_BIN_LEN];
	uint64_t dhash; /* FNV-1a of dkey: its device cache set and tag */
	char key[KEY_MAX];
	size_t key_len;
	size_t slot;
};

static uint64_t fnv(const void *p, size_t n)
{
	uint64_t h = 14695981039346656037ull; /* FNV-1a */

	for (size_t i = 0; i < n; i++)
		h = (h ^ ((const uint8_t *)p)[i]) * 1099511628211ull;
	return h;
}

/* Parse and check the parameters; on failure the 400 is in resp. */
static int parse_query(struct query *q, struct node_http_response *resp,
                       const struct node_http_request *req)
{
	const char *counter = node_http_query(req, "counter"),
	           *device = node_http_query(req, "device");
	int n;

	q->product = node_http_query(req, "product");
	q->channel = node_http_query(req, "channel");
	q->hw = node_http_query(req, "hw");
	q->has_device = 0;
	if (q->product == NULL || !fwc_pl_id_valid(q->product, strlen(q->product), FWC_PL_ID_MAX)) {
		node_http_respond_bad_param(
		    resp, "product", "product: a product id, [a-z0-9][a-z0-9._-]*, 1..%d bytes",
		    FWC_PL_ID_MAX);
		return -1;
	}
	if (q->channel == NULL || !printable(q->channel, CHANNEL_MAX)) {
		node_http_respond_bad_param(
		    resp, "channel", "channel: 1..%d printable ASCII characters", CHANNEL_MAX);
		return -1;
	}
	if (q->hw == NULL || !printable(q->hw, HW_MAX)) {
		node_http_respond_bad_param(
		    resp, "hw", "hw: the hardware id, 1..%d printable ASCII characters", HW_MAX);
		return -1;
	}
	if (parse_u64(&q->counter, counter) != 0) {
		node_http_respond_bad_param(
		    resp, "counter",
		    "counter: the installed release counter, a decimal number without sign or"
		    " leading zeros");
		return -1;
	}
	if (device != NULL) {
		/* Only a name to look up: a key that is not a curve point is not registered (404),
		 * and lifting every asking key would cost a square root per check-in. */
		if (fwc_pubkey_from_text_unchecked(&q->device, device, strlen(device), NULL) !=
		        FWC_OK ||
		    fwc_pubkey_to_bin(q->dkey, &q->device) != FWC_OK) {
			node_http_respond_bad_param(
			    resp, "device",
			    "device: the device key, bip340:<hex> or ed25519:<hex>");
			return -1;
		}
		q->has_device = 1;
		q->dhash = fnv(q->dkey, sizeof(q->dkey));
	}
	n = snprintf(q->key, sizeof(q->key), "%s%c%s%c%s", q->product, 0, q->channel, 0, q->hw);
	if (n < 0 || (size_t)n >= sizeof(q->key)) {
		node_http_respond_bad_param(resp, "product", "parameters too long");
		return -1;
	}
	q->key_len = (size_t)n;
	q->slot = (size_t)(fnv(q->key, q->key_len) % NODE_UPDATES_SLOTS);
	return 0;
}

/* ---------------------------------------------------------------- building a bundle */

/* The inclusion path of m in the tree of size leaves, from the reader. */
static int prove(struct node_db_reader *r, struct material *m, uint64_t size)
{
	struct fwc_merkle_source src;
	uint8_t(*path)[32] = malloc(FWC_BUNDLE_MAX_PATH * 32);
	size_t plen = 0;
	int rc;

	if (path == NULL)
		return FWC_ERR_NOMEM;
	node_db_reader_merkle_source(r, &src);
	rc = fwc_merkle_prove_inclusion(path, FWC_BUNDLE_MAX_PATH, &plen, &src, m->leaf, size);
	if (rc != FWC_OK) {
		free(path);
		return rc;
	}
	free(m->path);
	m->path = path;
	m->path_len = plen;
	return FWC_OK;
}

/* New paths for every transaction of e, for a tree of size leaves. */
static int prove_all(struct node_db_reader *r, struct part *e, uint64_t size)
{
	int rc = prove(r, &e->rel, size);

	for (size_t i = 0; rc == FWC_OK && i < e->nextra; i++)
		rc = prove(r, &e->extra[i], size);
	if (rc == FWC_OK)
		e->size = size;
	return rc;
}

/* Encode e's bundle (its transactions and paths) with the checkpoint note[0..note_len), which
 * must be of a tree of e->size leaves; sets e->bundle, e->etag and e->note_tag. */
static int encode(struct part *e, const char *note, size_t note_len)
{
	struct fwc_bundle b;
	uint8_t *buf;
	size_t len = 0;
	int rc;

	memset(&b, 0, sizeof(b));
	for (size_t i = 0; i <= e->nextra; i++) {
		const struct material *m = i == 0 ? &e->rel : &e->extra[i - 1];
		struct fwc_bundle_entry *be = i == 0 ? &b.release : &b.extra[i - 1];

		be->tx = m->tx;
		be->tx_len = m->len;
		be->index = m->leaf;
		be->path = (const uint8_t(*)[32])m->path;
		be->path_len = m->path_len;
	}
	b.n_extra = e->nextra;
	b.size = e->size;
	b.checkpoint = note;
	b.checkpoint_len = note_len;
	rc = fwc_bundle_encode(NULL, 0, &len, &b);
	if (rc != FWC_OK && rc != FWC_ERR_BUFSIZE)
		return rc;
	buf = malloc(len ? len : 1);
	if (buf == NULL)
		return FWC_ERR_NOMEM;
	rc = fwc_bundle_encode(buf, len, &len, &b);
	if (rc != FWC_OK) {
		free(buf);
		return rc;
	}
	free(e->bundle);
	e->bundle = buf;
	e->bundle_len = len;
	etag_of(e->etag, "u-", buf, len);
	etag_of(e->note_tag, "c-", note, note_len);
	return FWC_OK;
}

static int material_copy(struct material *dst, const struct material *src)
{
	memset(dst, 0, sizeof(*dst));
	dst->tx = malloc(src->len ? src->len : 1);
	dst->path = malloc(src->path_len ? src->path_len * 32 : 1);
	if (dst->tx == NULL || dst->path == NULL) {
		material_free(dst);
		return FWC_ERR_NOMEM;
	}
	memcpy(dst->tx, src->tx, src->len);
	dst->len = src->len;
	dst->leaf = src->leaf;
	if (src->path_len)
		memcpy(dst->path, src->path, src->path_len * 32);
	dst->path_len = src->path_len;
	return FWC_OK;
}

/* Build c's part (transactions, paths, bundle) from one snapshot of the ledger. */
static int part_build(struct node_updates *u, struct part *p, const uint8_t txid[32],
                      const char *product)
{
	struct node_db_reader *r = NULL;
	struct node_db_block head = {0};
	struct node_db_keyset_tx ks[FWC_BUNDLE_MAX_EXTRA];
	struct node_db_tx t;
	size_t nks = 0, dropped = 0;
	int rc;

	memset(&t, 0, sizeof(t));
	memset(p, 0, sizeof(*p));
	if ((rc = reader_get(u, &r, NULL)) != FWC_OK)
		return rc;
	if ((rc = node_db_reader_begin(r)) != FWC_OK) {
		node_db_reader_put(r);
		return rc;
	}
	rc = node_db_reader_head(r, &head);
	if (rc == FWC_OK)
		rc = node_db_reader_tx_get(r, &t, txid);
	if (rc == FWC_OK)
		rc = node_db_keyset_chain(r, ks, FWC_BUNDLE_MAX_EXTRA, &nks, &dropped, product,
		                          t.leaf_index);
	if (rc == FWC_OK) {
		p->rel.tx = t.bytes;
		p->rel.len = t.len;
		p->rel.leaf = t.leaf_index;
		t.bytes = NULL;
		for (size_t i = 0; i < nks; i++) {
			p->extra[i].tx = ks[i].bytes;
			p->extra[i].len = ks[i].len;
			p->extra[i].leaf = ks[i].leaf_index;
		}
		p->nextra = nks;
		if (dropped)
			fprintf(
			    stderr,
			    "fwchaind: check-in bundle of '%s' leaves out %zu older root rotations"
			    " (at most %d extra entries)\n",
			    product, dropped, FWC_BUNDLE_MAX_EXTRA);
		rc = prove_all(r, p, head.log_size);
	}
	node_db_reader_end(r);
	node_db_reader_put(r);
	if (rc == FWC_OK)
		rc = encode(p, head.checkpoint, head.checkpoint_len);
	if (rc == FWC_OK)
		p->built = 1;
	else
		part_clear(p);
	node_db_tx_cleanup(&t);
	node_db_block_cleanup(&head);
	return rc;
}

/* New paths and checkpoint for a part, from one snapshot. */
static int refresh(struct node_updates *u, struct part *p)
{
	struct node_db_reader *r = NULL;
	struct node_db_block head = {0};
	int rc;

	if ((rc = reader_get(u, &r, NULL)) != FWC_OK)
		return rc;
	rc = node_db_reader_begin(r);
	if (rc == FWC_OK) {
		rc = node_db_reader_head(r, &head);
		if (rc == FWC_OK)
			rc = prove_all(r, p, head.log_size);
		node_db_reader_end(r);
	}
	node_db_reader_put(r);
	if (rc == FWC_OK)
		rc = encode(p, head.checkpoint, head.checkpoint_len);
	node_db_block_cleanup(&head);
	return rc;
}

/* Copy the transactions and paths of a built part (bundle excluded). */
static int part_copy(struct part *dst, const struct part *src)
{
	memset(dst, 0, sizeof(*dst));
	dst->size = src->size;
	if (material_copy(&dst->rel, &src->rel) != FWC_OK)
		return FWC_ERR_NOMEM;
	for (size_t i = 0; i < src->nextra; i++) {
		if (material_copy(&dst->extra[i], &src->extra[i]) != FWC_OK) {
			dst->nextra = i;
			part_clear(dst);
			return FWC_ERR_NOMEM;
		}
	}
	dst->nextra = src->nextra;
	dst->built = 1;
	return FWC_OK;
}

/* ---------------------------------------------------------------- candidates */

static void copy_str(char *out, size_t cap, const struct fwc_cbor_str *s)
{
	size_t n = s->len < cap - 1 ? s->len : cap - 1;

	memcpy(out, s->p, n);
	out[n] = '\0';
}

/* Open to every device at time now: nothing in its rules looks at the device. */
static int cand_open(const struct cand *c, int64_t now)
{
	return c->rollout == NODE_ROLLOUT_ACTIVE && c->bps >= FWC_MANIFEST_BPS_MAX &&
	       c->ngroups == 0 && c->nregions == 0 && c->licence[0] == '\0' &&
	       c->not_before <= now && c->pp_until <= now;
}

struct walk {
	struct entry *e;
	struct node_stateq *q;
	int64_t now;
	int rc;
};

static int cand_cb(void *ctx, const struct node_release_row *row)
{
	struct walk *w = ctx;
	struct cand *c;
	struct fwc_signed_manifest sm;
	const struct fwc_manifest *m = &sm.manifest;

	if (w->e->ncand == NODE_UPDATES_CANDIDATES) {
		w->e->truncated = 1;
		return 1;
	}
	/* The state machine decoded this manifest when it accepted the release; one that does not
	 * decode now is skipped rather than offered without its rules. */
	if (fwc_signed_manifest_decode(&sm, row->manifest, row->manifest_len, NULL) != FWC_OK)
		return 0;
	c = &w->e->c[w->e->ncand];
	memset(c, 0, sizeof(*c));
	memcpy(c->id, row->id, 32);
	memcpy(c->txid, row->txid, 32);
	c->counter = row->counter;
	c->rollout = row->rollout;
	c->bps = FWC_MANIFEST_BPS_MAX;
	if (m->has_rollout) {
		if (m->rollout.has_bps)
			c->bps = m->rollout.bps;
		if (m->rollout.has_not_before)
			c->not_before = m->rollout.not_before > INT64_MAX
			                    ? INT64_MAX
			                    : (int64_t)m->rollout.not_before;
		c->ngroups = m->rollout.n_groups;
		for (size_t i = 0; i < c->ngroups; i++)
			copy_str(c->groups[i], NAME_BUF, &m->rollout.groups[i]);
		c->nregions = m->rollout.n_regions;
		for (size_t i = 0; i < c->nregions; i++)
			copy_str(c->regions[i], NAME_BUF, &m->rollout.regions[i]);
	}
	if (m->has_licence)
		copy_str(c->licence, ID_BUF, &m->licence);
	if ((w->rc = node_stateq_postpone_max(w->q, c->id, &c->pp_until)) != FWC_OK)
		return 1;
	w->e->ncand++;
	return cand_open(c, w->now);
}

/* Read e's candidates (key and epoch already set) from one snapshot; *note gets that
 * snapshot's checkpoint. */
static int entry_compute(struct node_updates *u, struct entry *e, char **note, size_t *note_len,
                         const struct query *qr, int64_t now)
{
	struct node_db_reader *r = NULL;
	struct node_stateq *q = NULL;
	struct node_db_block head = {0};
	struct walk w = {e, NULL, now, FWC_OK};
	int rc;

	e->c = calloc(NODE_UPDATES_CANDIDATES, sizeof(*e->c));
	if (e->c == NULL)
		return FWC_ERR_NOMEM;
	if ((rc = reader_get(u, &r, &q)) != FWC_OK)
		return rc;
	w.q = q;
	if ((rc = node_db_reader_begin(r)) != FWC_OK)
		goto out;
	rc = node_db_reader_head(r, &head);
	if (rc == FWC_OK)
		rc = node_stateq_checkin_releases(q, qr->product, qr->channel, qr->hw, cand_cb, &w);
	if (rc == FWC_OK)
		rc = w.rc;
	node_db_reader_end(r);
out:
	node_db_reader_put(r);
	if (rc == FWC_OK) {
		*note = head.checkpoint;
		*note_len = head.checkpoint_len;
		head.checkpoint = NULL;
	}
	node_db_block_cleanup(&head);
	return rc;
}

/* Put e into its slot (taking its contents) unless the slot holds something at least as new
 * for the same key; e is cleared either way. */
static void entry_install(struct node_updates *u, size_t slot, struct entry *e)
{
	struct entry *s = &u->slots[slot];

	pthread_rwlock_wrlock(&u->lock);
	if (!(s->used && s->key_len == e->key_len && memcmp(s->key, e->key, e->key_len) == 0 &&
	      s->epoch >= e->epoch)) {
		entry_clear(s);
		*s = *e;
		memset(e, 0, sizeof(*e));
	}
	pthread_rwlock_unlock(&u->lock);
	entry_clear(e);
}

/* Put a built part into candidate i of the entry of q (if it is still the same release of the
 * same epoch) unless what is there is at least as new; p is cleared either way. */
static void part_install(struct node_updates *u, const struct query *q, uint64_t epoch, size_t i,
                         const uint8_t id[32], struct part *p)
{
	struct entry *s = &u->slots[q->slot];

	pthread_rwlock_wrlock(&u->lock);
	if (s->used && s->epoch == epoch && s->key_len == q->key_len &&
	    memcmp(s->key, q->key, q->key_len) == 0 && i < s->ncand &&
	    memcmp(s->c[i].id, id, 32) == 0 && !(s->c[i].p.built && s->c[i].p.size > p->size)) {
		part_clear(&s->c[i].p);
		s->c[i].p = *p;
		memset(p, 0, sizeof(*p));
	}
	pthread_rwlock_unlock(&u->lock);
	part_clear(p);
}

/* ---------------------------------------------------------------- devices */

static int dev_cb(void *ctx, const struct node_device_row *d)
{
	struct dev *v = ctx;
	const char *g = d->groups;

	v->found = 1;
	v->retired = d->retired;
	snprintf(v->product, sizeof(v->product), "%s", d->product);
	snprintf(v->hwid, sizeof(v->hwid), "%s", d->hwid);
	snprintf(v->region, sizeof(v->region), "%s", d->region);
	while (*g && v->ngroups < FWC_PL_GROUPS_MAX) {
		size_t n = strcspn(g, ",");

		snprintf(v->groups[v->ngroups++], NAME_BUF, "%.*s", (int)n, g);
		g += n;
		if (*g == ',')
			g++;
	}
	return 1;
}

static int lic_cb(void *ctx, const struct node_licence_row *l)
{
	struct dev *v = ctx;

	if (v->nlic == LIC_MAX) {
		v->lic_more = 1;
		return 1;
	}
	snprintf(v->lic[v->nlic].feature, ID_BUF, "%s", l->feature);
	v->lic[v->nlic].not_before = l->not_before;
	v->lic[v->nlic].not_after = l->not_after;
	v->nlic++;
	return 0;
}

/* Read what the check-in needs of the device of q, from one snapshot. */
static int dev_fill(struct node_updates *u, struct dev *v, const struct query *qr)
{
	struct node_db_reader *r = NULL;
	struct node_stateq *q = NULL;
	int rc;

	memset(v, 0, sizeof(*v));
	memcpy(v->key, qr->dkey, sizeof(v->key));
	v->used = 1;
	if ((rc = reader_get(u, &r, &q)) != FWC_OK)
		return rc;
	/* One statement: one snapshot without BEGIN and COMMIT. The licences read are those of
	 * the product asked for: a device registered for another one is refused (409) before
	 * any rule, and its record says its licences are unknown (a later check-in naming its
	 * product asks the ledger for them, lookup_run). */
	rc = node_stateq_device_checkin(q, &qr->device, qr->product, dev_cb, lic_cb, v);
	node_db_reader_put(r);
	if (rc == FWC_OK && (!v->found || strcmp(v->product, qr->product) != 0)) {
		v->nlic = 0;
		v->lic_more = v->found;
	}
	COUNT(u, dev_fills);
	return rc;
}

/* ---------------------------------------------------------------- the rules */

/* Why a candidate is not offered (the Fwchain-Hold header), in rule order. */
enum hold {
	HOLD_NONE = 0,
	HOLD_HALTED,
	HOLD_PAUSED,
	HOLD_NOT_BEFORE,
	HOLD_DEVICE_REQUIRED,
	HOLD_GROUP,
	HOLD_REGION,
	HOLD_STAGED,
	HOLD_LICENCE,
	HOLD_POSTPONED,
};

static const char *const hold_names[] = {
    "",
    "halted",
    "paused",
    "not_before",
    "device_required",
    "not_in_group",
    "not_in_region",
    "staged",
    "licence_required",
    "postponed",
};

/* Facts about this check-in's device that need the ledger, looked up for one candidate. */
struct lookup {
	int done;
	int64_t pp_until;
	int licensed;
};

static int in_list(const char (*list)[NAME_BUF], size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(list[i], name) == 0)
			return 1;
	return 0;
}

/* The device's place in a staged rollout of release id: the first 8 bytes of
 * SHA-256(device key in binary form || release id), big-endian, mod 10000. Stable for a device
 * and a release, independent of when or how often it asks, and different per release so the
 * same devices are not always first. */
static unsigned rollout_bucket(const uint8_t key[FWC_PUBKEY_BIN_LEN], const uint8_t id[32])
{
	uint8_t msg[FWC_PUBKEY_BIN_LEN + 32], h[32];
	uint64_t v = 0;

	memcpy(msg, key, FWC_PUBKEY_BIN_LEN);
	memcpy(msg + FWC_PUBKEY_BIN_LEN, id, 32);
	if (fwc_sha256(h, msg, sizeof(msg)) != FWC_OK)
		return FWC_MANIFEST_BPS_MAX; /* cannot place it: outside every share below 100 % */
	for (int i = 0; i < 8; i++)
		v = v << 8 | h[i];
	return (unsigned)(v % FWC_MANIFEST_BPS_MAX);
}

/* The device is in one of the release's groups. */
static int groups_meet(const struct cand *c, const struct dev *v)
{
	for (size_t i = 0; i < v->ngroups; i++)
		if (in_list(c->groups, c->ngroups, v->groups[i]))
			return 1;
	return 0;
}

static int dev_licensed(const struct dev *v, const char *feature, int64_t now)
{
	for (size_t i = 0; i < v->nlic; i++)
		if (strcmp(v->lic[i].feature, feature) == 0 && v->lic[i].not_before <= now &&
		    (v->lic[i].not_after == 0 || now < v->lic[i].not_after))
			return 1;
	return 0;
}

/* Rule outcome for candidate c: HOLD_NONE (admitted), a hold, or -1 when a fact about the
 * device must be looked up first (lk not done). *until gets the end of a deferral. */
static int admit(const struct cand *c, const struct query *q, const struct dev *v,
                 const struct lookup *lk, int64_t now, int64_t *until)
{
	if (c->rollout == NODE_ROLLOUT_HALTED)
		return HOLD_HALTED;
	if (c->rollout != NODE_ROLLOUT_ACTIVE)
		return HOLD_PAUSED;
	if (c->not_before > now) {
		*until = c->not_before;
		return HOLD_NOT_BEFORE;
	}
	if (cand_open(c, now))
		return HOLD_NONE;
	if (!q->has_device)
		return HOLD_DEVICE_REQUIRED;
	if (c->ngroups && !groups_meet(c, v))
		return HOLD_GROUP;
	if (c->nregions && !in_list(c->regions, c->nregions, v->region))
		return HOLD_REGION;
	if (c->bps < FWC_MANIFEST_BPS_MAX && rollout_bucket(q->dkey, c->id) >= c->bps)
		return HOLD_STAGED;
	if (c->licence[0] && !dev_licensed(v, c->licence, now)) {
		if (!v->lic_more)
			return HOLD_LICENCE;
		if (!lk->done)
			return -1;
		if (!lk->licensed)
			return HOLD_LICENCE;
	}
	if (c->pp_until > now) {
		if (!lk->done)
			return -1;
		if (lk->pp_until > now) {
			*until = lk->pp_until;
			return HOLD_POSTPONED;
		}
	}
	return HOLD_NONE;
}

/* Facts looked up for the candidates that needed them, valid for one epoch. */
struct lookups {
	uint64_t epoch;
	size_t n;
	struct lookup v[NODE_UPDATES_CANDIDATES];
	uint8_t id[NODE_UPDATES_CANDIDATES][32];
};

static const struct lookup *lookup_find(const struct lookups *l, const uint8_t id[32])
{
	static const struct lookup none;

	for (size_t i = 0; i < l->n; i++)
		if (memcmp(l->id[i], id, 32) == 0)
			return &l->v[i];
	return &none;
}

struct verdict {
	int pick; /* the candidate offered, or -1 */
	int need; /* the candidate that needs a lookup first, or -1 */
	int hold; /* enum hold of the newest candidate above the counter not offered */
	uint8_t hold_id[32];
	int64_t until;
};

/* Walk e's candidates above the device's counter, newest first, to the first that admits it. */
static void decide(struct verdict *vd, const struct entry *e, const struct query *q,
                   const struct dev *v, const struct lookups *lks, int64_t now)
{
	vd->pick = vd->need = -1;
	vd->hold = HOLD_NONE;
	vd->until = 0;
	for (size_t i = 0; i < e->ncand && e->c[i].counter > q->counter; i++) {
		int64_t until = 0;
		int h = admit(&e->c[i], q, v, lookup_find(lks, e->c[i].id), now, &until);

		if (h == HOLD_NONE) {
			vd->pick = (int)i;
			return;
		}
		if (h < 0) {
			vd->need = (int)i;
			return;
		}
		if (vd->hold == HOLD_NONE) {
			vd->hold = h;
			memcpy(vd->hold_id, e->c[i].id, 32);
			vd->until = until;
		}
	}
}

struct lic_find {
	const char *feature;
	int64_t now;
	int found;
};

static int lic_find_cb(void *ctx, const struct node_licence_row *l)
{
	struct lic_find *f = ctx;

	if (strcmp(l->feature, f->feature) == 0 && l->not_before <= f->now &&
	    (l->not_after == 0 || f->now < l->not_after))
		f->found = 1;
	return f->found;
}

/* Look up, for the device of q and candidate c, what admit() could not tell from the caches:
 * its postponement of c and (when the device holds more licences than it keeps) its licence. */
static int lookup_run(struct node_updates *u, struct lookups *lks, const struct query *q,
                      const struct dev *v, const struct cand *c, int64_t now)
{
	struct node_db_reader *r = NULL;
	struct node_stateq *sq = NULL;
	struct lookup lk = {1, 0, 0};
	struct lic_find f = {c->licence, now, 0};
	int rc;

	if (lks->n == NODE_UPDATES_CANDIDATES)
		return FWC_ERR_RANGE;
	if ((rc = reader_get(u, &r, &sq)) != FWC_OK)
		return rc;
	if ((rc = node_db_reader_begin(r)) == FWC_OK) {
		if (c->pp_until > now)
			rc = node_stateq_device_postponed(sq, &q->device, c->id, &lk.pp_until);
		if (rc == FWC_OK && c->licence[0] && v->lic_more)
			rc = node_stateq_device_licences(sq, &q->device, v->product, lic_find_cb,
			                                 &f);
		node_db_reader_end(r);
	}
	node_db_reader_put(r);
	if (rc != FWC_OK)
		return rc;
	lk.licensed = f.found;
	memcpy(lks->id[lks->n], c->id, 32);
	lks->v[lks->n++] = lk;
	COUNT(u, lookups);
	return FWC_OK;
}

/* ---------------------------------------------------------------- the handler */

static void add_hold(struct node_http_response *resp, const struct verdict *vd)
{
	char hex[65], value[160];

	if (vd->hold == HOLD_NONE || resp->status != 200)
		return;
	fwc_hex_encode(hex, sizeof(hex), vd->hold_id, 32);
	if (vd->until)
		snprintf(value, sizeof(value), "%s; release=%s; until=%lld", hold_names[vd->hold],
		         hex, (long long)vd->until);
	else
		snprintf(value, sizeof(value), "%s; release=%s", hold_names[vd->hold], hex);
	node_http_add_header(resp, "Fwchain-Hold", value);
}

static void respond_copy(struct node_http_response *resp, const char *type, const void *data,
                         size_t len, const char *etag)
{
	node_http_respond_bytes(resp, 200, type, data, len);
	if (resp->status == 200)
		node_http_set_etag(resp, etag);
}

static void fail500(struct node_http_response *resp, int rc)
{
	node_http_respond_error(resp, 500, "internal_error", "cannot answer the check-in: %s",
	                        fwc_strerror(rc));
}

/* ---------------------------------------------------------------- the device cache */

/* Record layout (this process's memory only): the key, a flags byte (found, retired,
 * lic_more), the group and licence counts, then product, hwid, region and each group as
 * NUL-terminated strings, then per licence its feature (NUL-terminated) and not_before and
 * not_after (8 bytes each, host order). */
#define REC_HEAD (FWC_PUBKEY_BIN_LEN + 3)

static size_t put_str(uint8_t *p, const char *str)
{
	size_t n = strlen(str) + 1;

	if (p != NULL)
		memcpy(p, str, n);
	return n;
}

/* v packed into a new record (the caller frees it), or NULL when out of memory. */
static uint8_t *dev_pack(const struct dev *v)
{
	uint8_t *rec = NULL, *p;
	size_t len = 0;

	/* Two passes: the size, then the bytes. */
	for (int pass = 0; pass < 2; pass++) {
		p = rec;
		len = REC_HEAD;
		if (p != NULL) {
			memcpy(p, v->key, FWC_PUBKEY_BIN_LEN);
			p[FWC_PUBKEY_BIN_LEN] =
			    (uint8_t)((v->found ? 1 : 0) | (v->retired ? 2 : 0) |
			              (v->lic_more ? 4 : 0));
			p[FWC_PUBKEY_BIN_LEN + 1] = (uint8_t)v->ngroups;
			p[FWC_PUBKEY_BIN_LEN + 2] = (uint8_t)v->nlic;
		}
		len += put_str(p ? rec + len : NULL, v->product);
		len += put_str(p ? rec + len : NULL, v->hwid);
		len += put_str(p ? rec + len : NULL, v->region);
		for (size_t i = 0; i < v->ngroups; i++)
			len += put_str(p ? rec + len : NULL, v->groups[i]);
		for (size_t i = 0; i < v->nlic; i++) {
			len += put_str(p ? rec + len : NULL, v->lic[i].feature);
			if (p != NULL) {
				memcpy(rec + len, &v->lic[i].not_before, 8);
				memcpy(rec + len + 8, &v->lic[i].not_after, 8);
			}
			len += 16;
		}
		if (pass == 0 && (rec = malloc(len)) == NULL)
			return NULL;
	}
	return rec;
}

/* Copies the NUL-terminated string at *p into out (cap bytes) and steps *p past it. */
static void get_str(char *out, size_t cap, const uint8_t **p)
{
	size_t n = strlen((const char *)*p);

	snprintf(out, cap, "%.*s", (int)n, (const char *)*p);
	*p += n + 1;
}

/* The struct dev of a record dev_pack made, read at epoch. */
static void dev_unpack(struct dev *v, const uint8_t *rec, uint64_t epoch)
{
	const uint8_t *p = rec + REC_HEAD;
	uint8_t flags = rec[FWC_PUBKEY_BIN_LEN];

	v->used = 1;
	v->epoch = epoch;
	memcpy(v->key, rec, FWC_PUBKEY_BIN_LEN);
	v->found = flags & 1;
	v->retired = (flags >> 1) & 1;
	v->lic_more = (flags >> 2) & 1;
	v->ngroups = rec[FWC_PUBKEY_BIN_LEN + 1];
	v->nlic = rec[FWC_PUBKEY_BIN_LEN + 2];
	get_str(v->product, sizeof(v->product), &p);
	get_str(v->hwid, sizeof(v->hwid), &p);
	get_str(v->region, sizeof(v->region), &p);
	for (size_t i = 0; i < v->ngroups; i++)
		get_str(v->groups[i], sizeof(v->groups[i]), &p);
	for (size_t i = 0; i < v->nlic; i++) {
		get_str(v->lic[i].feature, sizeof(v->lic[i].feature), &p);
		memcpy(&v->lic[i].not_before, p, 8);
		memcpy(&v->lic[i].not_after, p + 8, 8);
		p += 16;
	}
}

/* The first slot of the set of hash h in a cache of n slots. */
static size_t dset(uint64_t h, size_t n)
{
	return (size_t)(h % (n / DEV_WAYS)) * DEV_WAYS;
}

/* Whether slot d holds the record of key (of hash h). */
static int dslot_is(const struct dslot *d, const uint8_t *key, uint64_t h)
{
	return d->rec != NULL && d->tag == (uint32_t)(h >> 32) &&
	       memcmp(d->rec, key, FWC_PUBKEY_BIN_LEN) == 0;
}

/* The slot holding key (of hash h), or NULL. Caller holds the lock. */
static struct dslot *dcache_find(struct node_updates *u, const uint8_t *key, uint64_t h)
{
	struct dslot *set = &u->dslots[dset(h, u->dslot_n)];

	for (int w = 0; w < DEV_WAYS; w++)
		if (dslot_is(&set[w], key, h))
			return &set[w];
	return NULL;
}

/* Where a record of hash h goes: its key's slot, else an empty one, else a stale one, else
 * the way h picks (the set is full of current records). */
static struct dslot *dcache_victim(struct dslot *slots, size_t n, const uint8_t *key, uint64_t h,
                                   uint32_t epoch)
{
	struct dslot *set = &slots[dset(h, n)], *stale = NULL;

	for (int w = 0; w < DEV_WAYS; w++) {
		if (set[w].rec == NULL)
			return &set[w];
		if (dslot_is(&set[w], key, h))
			return &set[w];
		if (set[w].epoch != epoch && stale == NULL)
			stale = &set[w];
	}
	return stale ? stale : &set[(h >> 8) % DEV_WAYS];
}

/* n zeroed slots, 64-byte aligned (a set is one cache line). A table of 2 MiB or more is
 * aligned to 2 MiB and asks for transparent huge pages: a million devices' slots span 64 MiB,
 * and with 4 KiB pages nearly every check-in's slot lookup also missed the TLB. The advice
 * may be refused (THP off): the table works the same. */
static struct dslot *dslots_alloc(size_t n)
{
	size_t bytes = n * sizeof(struct dslot);
	size_t align = bytes >= ((size_t)2 << 20) ? (size_t)2 << 20 : 64;
	struct dslot *s = aligned_alloc(align, bytes);

	if (s == NULL)
		return NULL;
	if (align > 64)
		(void)madvise(s, bytes, MADV_HUGEPAGE);
	memset(s, 0, bytes);
	return s;
}

/* Resizes the cache to n slots (a power-of-two multiple of the present count; its records
 * move, none is lost: each new set takes records of one old set only). Out of memory: it
 * stays as it is. */
static void dcache_resize(struct node_updates *u, size_t n)
{
	struct dslot *ns = dslots_alloc(n);

	if (ns == NULL)
		return;
	for (size_t i = 0; i < u->dslot_n; i++) {
		struct dslot *o = &u->dslots[i], *d;
		uint64_t h;

		if (o->rec == NULL)
			continue;
		h = fnv(o->rec, FWC_PUBKEY_BIN_LEN);
		d = dcache_victim(ns, n, o->rec, h, o->epoch);
		free(d->rec); /* NULL: more slots per set leave room for every record */
		*d = *o;
	}
	free(u->dslots);
	u->dslots = ns;
	u->dslot_n = n;
	u->dev_grows++;
}

/* Doubles the cache. */
static void dcache_grow(struct node_updates *u)
{
	dcache_resize(u, u->dslot_n * 2);
}

/* Installs rec (read at epoch; the cache owns it now) for key of hash h. Caller holds the
 * write lock. The cache doubles when more than half its slots hold a record, and also, once a
 * quarter do, rather than evict a current record from a full set: records lost that way
 * before a growth would stay lost until their devices check in again (with 4-way sets at half
 * load some 5 % of the sets overflow; at a quarter, 0.4 %). */
static void dcache_put(struct node_updates *u, const uint8_t *key, uint64_t h, uint8_t *rec,
                       uint64_t epoch)
{
	struct dslot *d = dcache_victim(u->dslots, u->dslot_n, key, h, (uint32_t)epoch);

	if (d->rec != NULL && d->epoch == (uint32_t)epoch && !dslot_is(d, key, h) &&
	    u->dslot_used > u->dslot_n / 4 && u->dslot_n < DEV_SLOTS_MAX) {
		dcache_grow(u);
		d = dcache_victim(u->dslots, u->dslot_n, key, h, (uint32_t)epoch);
	}
	if (d->rec == NULL)
		u->dslot_used++;
	free(d->rec);
	d->tag = (uint32_t)(h >> 32);
	d->epoch = (uint32_t)epoch;
	d->rec = rec;
	if (u->dslot_used > u->dslot_n / 2 && u->dslot_n < DEV_SLOTS_MAX)
		dcache_grow(u);
}

/* ---------------------------------------------------------------- the commit hook */

/* The devices a block touched: their binary keys. */
struct touched {
	size_t n;
	uint8_t key[DEV_TOUCH_MAX][FWC_PUBKEY_BIN_LEN];
};

static int touch_add(struct touched *t, const struct fwc_pubkey *pk)
{
	if (t->n == DEV_TOUCH_MAX || fwc_pubkey_to_bin(t->key[t->n], pk) != FWC_OK)
		return -1;
	t->n++;
	return 0;
}

/* The device a revoked licence was issued to, from the ledger (the revoke payload names only
 * the licence). 0 and t extended, or -1: product-wide, unknown, or the read failed. */
static int touch_revoked(struct node_updates *u, struct touched *t,
                         const struct fwc_pl_licence_revoke *p)
{
	struct node_db_reader *r = NULL;
	struct node_stateq *q = NULL;
	char product[FWC_PL_ID_MAX + 1], id[FWC_PL_ID_MAX + 1];
	int bound = 0, rc;

	if (t->n == DEV_TOUCH_MAX || p->product.len >= sizeof(product) || p->id.len >= sizeof(id))
		return -1;
	memcpy(product, p->product.p, p->product.len);
	product[p->product.len] = '\0';
	memcpy(id, p->id.p, p->id.len);
	id[p->id.len] = '\0';
	if (reader_get(u, &r, &q) != FWC_OK)
		return -1;
	if ((rc = node_db_reader_begin(r)) == FWC_OK) {
		rc = node_stateq_licence_device(q, t->key[t->n], &bound, product, id);
		node_db_reader_end(r);
	}
	node_db_reader_put(r);
	if (rc != FWC_OK || !bound)
		return -1;
	t->n++;
	return 0;
}

/* The devices whose facts the block's applied transactions changed, into t. 0, or -1 when
 * the whole device cache must go instead: the transactions are not known, one cannot be read,
 * a licence is product-wide (it changes every device of its product), or more than
 * DEV_TOUCH_MAX devices were touched. */
static int touched_devices(struct node_updates *u, struct touched *t,
                           const struct node_chain_commit *info)
{
	t->n = 0;
	if (info->txs == NULL || info->ntxs != info->applied)
		return -1;
	for (size_t i = 0; i < info->ntxs; i++) {
		const struct node_chain_tx *x = &info->txs[i];
		struct fwc_signed_tx stx;
		const uint8_t *pl;
		size_t len;

		if (x->type >= 32 || !(DEVICE_TYPES & (1u << x->type)))
			continue;
		if (fwc_tx_decode(&stx, x->bytes, x->len, NULL) != FWC_OK || stx.tx.type != x->type)
			return -1;
		pl = stx.tx.payload.p;
		len = stx.tx.payload.len;
		if (x->type == FWC_TX_DEVICE_REGISTER) {
			struct fwc_pl_device_register p;

			if (fwc_pl_device_register_decode(&p, pl, len, NULL) != FWC_OK ||
			    touch_add(t, &p.device) != 0)
				return -1;
		} else if (x->type == FWC_TX_LICENCE_ISSUE) {
			struct fwc_pl_licence_issue p;

			if (fwc_pl_licence_issue_decode(&p, pl, len, NULL) != FWC_OK ||
			    !p.has_device || touch_add(t, &p.device) != 0)
				return -1;
		} else {
			struct fwc_pl_licence_revoke p;

			if (fwc_pl_licence_revoke_decode(&p, pl, len, NULL) != FWC_OK ||
			    touch_revoked(u, t, &p) != 0)
				return -1;
		}
	}
	return 0;
}

/* Drops the record of each device of t and notes the invalidation for fills in progress.
 * Caller holds the write lock. */
static void dcache_drop(struct node_updates *u, const struct touched *t)
{
	for (size_t i = 0; i < t->n; i++) {
		uint64_t h = fnv(t->key[i], FWC_PUBKEY_BIN_LEN);
		struct dslot *d = dcache_find(u, t->key[i], h);

		if (d != NULL) {
			free(d->rec);
			d->rec = NULL;
			u->dslot_used--;
			u->dev_drops++;
		}
		u->dev_gen++;
		u->inval[u->dev_gen % INVAL_RING] = h;
	}
}

/* Whether the device of hash h may have changed since the fill that began at invalidation
 * gen (1 also when more invalidations came than are remembered). Caller holds the lock. */
static int dcache_touched_since(const struct node_updates *u, uint64_t h, uint64_t gen)
{
	if (u->dev_gen - gen > INVAL_RING)
		return 1;
	for (uint64_t g = gen + 1; g <= u->dev_gen; g++)
		if (u->inval[g % INVAL_RING] == h)
			return 1;
	return 0;
}

void node_updates_on_commit(void *ctx, const struct node_chain_commit *info)
{
	struct node_updates *u = ctx;
	struct touched *t = NULL;
	int flush = 0;
	char *note;

	if (u == NULL || info == NULL || info->note == NULL)
		return;
	note = malloc(info->note_len + 1);
	if (note == NULL)
		return; /* keep answering with the previous checkpoint */
	memcpy(note, info->note, info->note_len);
	note[info->note_len] = '\0';
	/* Which devices changed is worked out before the lock (a revoked licence's device is
	 * read from the ledger); check-ins go on meanwhile. */
	if (info->applied_types & DEVICE_TYPES) {
		t = malloc(sizeof(*t));
		flush = t == NULL || touched_devices(u, t, info) != 0;
	}
	pthread_rwlock_wrlock(&u->lock);
	free(u->note);
	u->note = note;
	u->note_len = info->note_len;
	etag_of(u->note_etag, "c-", note, info->note_len);
	u->size = info->log_size;
	if (info->applied_types & RELEVANT_TYPES)
		u->epoch++;
	if (flush) {
		u->dev_epoch++;
		u->dev_flushes++;
	} else if (t != NULL) {
		dcache_drop(u, t);
	}
	u->ready = 1;
	pthread_rwlock_unlock(&u->lock);
	free(t);
}

/* The device's facts (from the cache or the ledger) and the 4xx when it may not check in
 * here. Returns 0 to go on, -1 when resp holds the answer. */
static int device_check(struct node_updates *u, struct dev *v, struct node_http_response *resp,
                        const struct query *q)
{
	struct dslot *d;
	uint64_t epoch, gen;
	uint8_t *rec;
	int have = 0, rc;

	pthread_rwlock_rdlock(&u->lock);
	if (!u->ready) {
		pthread_rwlock_unlock(&u->lock);
		node_http_respond_error(resp, 503, "starting", "the node is starting; retry");
		return -1;
	}
	epoch = u->dev_epoch;
	gen = u->dev_gen;
	d = dcache_find(u, q->dkey, q->dhash);
	if (d != NULL && d->epoch == (uint32_t)epoch) {
		dev_unpack(v, d->rec, epoch);
		have = 1;
	}
	pthread_rwlock_unlock(&u->lock);
	if (!have) {
		if ((rc = dev_fill(u, v, q)) != FWC_OK) {
			fail500(resp, rc);
			return -1;
		}
		v->epoch = epoch;
		rec = dev_pack(v); /* NULL: out of memory, the answer goes on uncached */
		pthread_rwlock_wrlock(&u->lock);
		/* Only registered devices are kept: unknown keys, however many, cannot fill it.
		 * Nor a record a block may have changed since it was read: the read could
		 * predate the block, and its invalidation has passed. */
		if (rec != NULL && v->found && u->dev_epoch == epoch &&
		    !dcache_touched_since(u, q->dhash, gen)) {
			dcache_put(u, q->dkey, q->dhash, rec, epoch);
			rec = NULL;
		}
		pthread_rwlock_unlock(&u->lock);
		free(rec);
	}
	if (!v->found) {
		node_http_respond_error(resp, 404, "unknown_device",
		                        "no device with this key is registered");
		return -1;
	}
	if (strcmp(v->product, q->product) != 0) {
		node_http_respond_error(resp, 409, "product_mismatch",
		                        "the device is registered for product '%s'", v->product);
		return -1;
	}
	if (strcmp(v->hwid, q->hw) != 0) {
		node_http_respond_error(resp, 409, "hwid_mismatch",
		                        "the device is registered with hardware id '%s'", v->hwid);
		return -1;
	}
	if (v->retired) {
		node_http_respond_error(resp, 403, "device_retired", "the device is retired");
		return -1;
	}
	return 0;
}

/* ---------------------------------------------------------------- warming at start */

#define WARM_CHUNK 256 /* devices a warming step reads (one statement) and installs (one lock) */

/* A warming step's records. */
struct warm_step {
	size_t n;
	uint64_t h[WARM_CHUNK];
	uint8_t *rec[WARM_CHUNK];
	uint8_t last[FWC_PUBKEY_BIN_LEN];
	size_t last_len, rows;
};

static int warm_cb(void *ctx, const uint8_t *key, size_t key_len, const struct node_device_row *d,
                   int licensed)
{
	struct warm_step *w = ctx;
	struct dev v;

	if (key_len != FWC_PUBKEY_BIN_LEN)
		return 0;
	memcpy(w->last, key, key_len);
	w->last_len = key_len;
	w->rows++;
	/* A device some licence applies to is left to its first check-in (its record holds its
	 * licences, which this scan does not read). */
	if (licensed || w->n == WARM_CHUNK)
		return 0;
	memset(&v, 0, sizeof(v));
	v.used = 1;
	memcpy(v.key, key, key_len);
	dev_cb(&v, d);
	if ((w->rec[w->n] = dev_pack(&v)) != NULL)
		w->h[w->n++] = fnv(key, key_len);
	return 0;
}

/* Makes room for n records before warming: a quarter full at most (so no set overflow makes
 * it double, dcache_put), the doublings happening while the cache is all but empty, not under
 * check-ins later. Caller holds the write lock. */
static void dcache_reserve(struct node_updates *u, int64_t n)
{
	size_t to = u->dslot_n;

	while (n > 0 && to < DEV_SLOTS_MAX && (int64_t)(to / 4) < n)
		to *= 2;
	if (to > u->dslot_n)
		dcache_resize(u, to); /* at once: one allocation, one move */
}

/* The warming thread's scheduling class: idle, but normal while it holds the write lock (a
 * thread of the idle class holding the lock could be kept off the CPU by any other process
 * while check-ins wait). Only where the way back is allowed (root, or RLIMIT_NICE lets the
 * thread return to nice 0: sched(7)); elsewhere the thread stays in the normal class and
 * warm_main sleeps as long as each step took, using at most half a CPU. Returns whether the
 * idle class is in use. */
static int warm_sched_allowed(void)
{
	struct rlimit rl;

	return geteuid() == 0 || (getrlimit(RLIMIT_NICE, &rl) == 0 &&
	                          (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= 20));
}

static int warm_sched(int allowed, int idle)
{
	struct sched_param sp;

	if (!allowed)
		return 0;
	memset(&sp, 0, sizeof(sp));
	return pthread_setschedparam(pthread_self(), idle ? SCHED_IDLE : SCHED_OTHER, &sp) == 0 &&
	       idle;
}

static int warm_stopping(struct node_updates *u)
{
	return __atomic_load_n(&u->warm_stop, __ATOMIC_RELAXED);
}

/* The warming thread: the registered devices in key order, WARM_CHUNK at a time, each step
 * its own statement (a short read transaction: the WAL is not held) and one short write lock
 * to install; at the idle scheduling class where allowed (warm_sched), so it runs only when
 * the CPU has nothing else to do, and stops when the cache holds half its maximum. It never
 * replaces a current record (one a check-in installed meanwhile, or that a full set holds:
 * that device is read at its first check-in); a record a block may have changed since the
 * step's read is not installed (the same guard as a fill's). */
static void *warm_main(void *arg)
{
	struct node_updates *u = arg;
	struct warm_step *w = calloc(1, sizeof(*w));
	uint8_t after[FWC_PUBKEY_BIN_LEN];
	size_t after_len = 0;
	int64_t count = 0;
	uint64_t warmed;
	struct timespec t0, t1;
	int allowed = warm_sched_allowed(), idle = warm_sched(allowed, 1);

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int first = 1; w != NULL && !warm_stopping(u);) {
		struct node_db_reader *r = NULL;
		struct node_stateq *q = NULL;
		struct timespec s0, s1;
		uint64_t epoch, gen;
		int ready, rc, full;

		pthread_rwlock_rdlock(&u->lock);
		ready = u->ready;
		epoch = u->dev_epoch;
		gen = u->dev_gen;
		full = u->dslot_used >= DEV_SLOTS_MAX / 2;
		pthread_rwlock_unlock(&u->lock);
		if (full)
			break;
		if (!ready) { /* before the chain's first commit hook call */
			struct timespec ms = {0, 10000000L};

			nanosleep(&ms, NULL);
			continue;
		}
		clock_gettime(CLOCK_MONOTONIC, &s0);
		if (reader_get(u, &r, &q) != FWC_OK)
			break;
		if (first && node_stateq_device_count(q, &count) == FWC_OK) {
			warm_sched(allowed, 0);
			pthread_rwlock_wrlock(&u->lock);
			dcache_reserve(u, count);
			pthread_rwlock_unlock(&u->lock);
			warm_sched(allowed, 1);
		}
		first = 0;
		w->n = w->rows = 0;
		rc = node_stateq_devices_scan(q, after, after_len, WARM_CHUNK, warm_cb, w);
		node_db_reader_put(r);
		if (rc != FWC_OK)
			w->rows = 0;
		warm_sched(allowed, 0);
		pthread_rwlock_wrlock(&u->lock);
		for (size_t i = 0; i < w->n; i++) {
			struct dslot *d = dcache_victim(u->dslots, u->dslot_n, w->rec[i], w->h[i],
			                                (uint32_t)epoch);

			/* Never in place of a current record (a check-in's, or this key's). */
			if (u->dev_epoch == epoch && !dcache_touched_since(u, w->h[i], gen) &&
			    (d->rec == NULL || d->epoch != (uint32_t)epoch)) {
				dcache_put(u, w->rec[i], w->h[i], w->rec[i], epoch);
				w->rec[i] = NULL;
				u->dev_warmed++;
			}
		}
		pthread_rwlock_unlock(&u->lock);
		warm_sched(allowed, 1);
		for (size_t i = 0; i < w->n; i++)
			free(w->rec[i]);
		if (w->rows < WARM_CHUNK)
			break; /* the end, or a read error */
		if (!idle) { /* half a CPU at most */
			long ns;

			clock_gettime(CLOCK_MONOTONIC, &s1);
			ns = (long)(s1.tv_sec - s0.tv_sec) * 1000000000L + (s1.tv_nsec - s0.tv_nsec);
			if (ns > 0 && ns < 1000000000L) {
				struct timespec d = {0, ns};

				nanosleep(&d, NULL);
			}
		}
		memcpy(after, w->last, w->last_len);
		after_len = w->last_len;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	pthread_rwlock_rdlock(&u->lock);
	warmed = u->dev_warmed;
	pthread_rwlock_unlock(&u->lock);
	if (w != NULL && !warm_stopping(u))
		fprintf(stderr, "fwchaind: device cache warmed: %llu of %lld devices in %.1f s\n",
		        (unsigned long long)warmed, (long long)count,
		        (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	free(w);
	__atomic_store_n(&u->warm_done, 1, __ATOMIC_RELAXED);
	return NULL;
}

int node_updates_warm(struct node_updates *u)
{
	if (u == NULL || u->warm_on)
		return FWC_ERR_ARG;
	if (pthread_create(&u->warm, NULL, warm_main, u) != 0)
		return FWC_ERR_NOMEM;
	u->warm_on = 1;
	return FWC_OK;
}

/* Answer from a private entry just read from the ledger (no lock needed: nobody else sees
 * it), then install it. */
static void answer_fresh(struct node_updates *u, struct node_http_response *resp,
                         const struct query *q, const struct dev *v, struct entry *e, char *note,
                         size_t note_len, int64_t now)
{
	struct lookups lks;
	struct verdict vd;
	char etag[ETAG_LEN];
	int rc = FWC_OK;

	lks.n = 0;
	lks.epoch = e->epoch;
	for (;;) {
		decide(&vd, e, q, v, &lks, now);
		if (vd.need < 0)
			break;
		if ((rc = lookup_run(u, &lks, q, v, &e->c[vd.need], now)) != FWC_OK)
			break;
	}
	if (rc == FWC_OK && vd.pick >= 0) {
		struct cand *c = &e->c[vd.pick];

		rc = part_build(u, &c->p, c->txid, q->product);
		if (rc == FWC_OK)
			respond_copy(resp, CBOR_TYPE, c->p.bundle, c->p.bundle_len, c->p.etag);
	} else if (rc == FWC_OK) {
		etag_of(etag, "c-", note, note_len);
		node_http_respond_take(resp, 200, NOTE_TYPE, note, note_len);
		node_http_set_etag(resp, etag);
		note = NULL;
	}
	free(note);
	if (rc != FWC_OK) {
		fail500(resp, rc);
		entry_clear(e);
		return;
	}
	add_hold(resp, &vd);
	entry_install(u, q->slot, e);
}

void node_updates_handle(void *ctx, struct node_http_response *resp,
                         const struct node_http_request *req)
{
	struct node_updates *u = ctx;
	struct entry fresh, *e;
	struct query q;
	struct dev v;
	struct lookups lks;
	struct verdict vd;
	struct part part;
	uint8_t txid[32], id[32];
	uint64_t epoch;
	char *note = NULL;
	size_t note_len = 0, pick;
	int64_t now = (int64_t)time(NULL);
	int rc, locked = 0;

	if (parse_query(&q, resp, req) != 0)
		return;
	if (u == NULL) {
		node_http_respond_error(resp, 503, "unavailable", "check-ins are not served here");
		return;
	}
	memset(&v, 0, sizeof(v));
	if (q.has_device && device_check(u, &v, resp, &q) != 0)
		return;
	lks.n = 0;
	lks.epoch = 0;
	for (int round = 0; round < RETRIES + NODE_UPDATES_CANDIDATES; round++) {
		pthread_rwlock_rdlock(&u->lock);
		if (!u->ready) {
			pthread_rwlock_unlock(&u->lock);
			node_http_respond_error(resp, 503, "starting",
			                        "the node is starting; retry");
			return;
		}
		e = &u->slots[q.slot];
		if (!(e->used && e->epoch == u->epoch && e->key_len == q.key_len &&
		      memcmp(e->key, q.key, q.key_len) == 0)) {
			locked = 1;
			break; /* a miss: below, with the lock held */
		}
		if (lks.epoch != e->epoch) {
			lks.n = 0;
			lks.epoch = e->epoch;
		}
		decide(&vd, e, &q, &v, &lks, now);
		if (vd.need >= 0) {
			struct cand c = e->c[vd.need];

			memset(&c.p, 0, sizeof(c.p));
			pthread_rwlock_unlock(&u->lock);
			if ((rc = lookup_run(u, &lks, &q, &v, &c, now)) != FWC_OK) {
				fail500(resp, rc);
				return;
			}
			continue;
		}
		if (vd.pick < 0) {
			respond_copy(resp, NOTE_TYPE, u->note, u->note_len, u->note_etag);
			pthread_rwlock_unlock(&u->lock);
			add_hold(resp, &vd);
			COUNT(u, hits);
			return;
		}
		pick = (size_t)vd.pick;
		if (e->c[pick].p.built && strcmp(e->c[pick].p.note_tag, u->note_etag) == 0) {
			respond_copy(resp, CBOR_TYPE, e->c[pick].p.bundle, e->c[pick].p.bundle_len,
			             e->c[pick].p.etag);
			pthread_rwlock_unlock(&u->lock);
			add_hold(resp, &vd);
			COUNT(u, hits);
			return;
		}
		/* The candidate's bundle is missing or carries an older checkpoint. The same tree
		 * size (an idle block): splice the note in, no SQLite; a larger one: new paths;
		 * never built: the whole part from the ledger. */
		epoch = e->epoch;
		memcpy(id, e->c[pick].id, 32);
		memcpy(txid, e->c[pick].txid, 32);
		if (!e->c[pick].p.built) {
			pthread_rwlock_unlock(&u->lock);
			rc = part_build(u, &part, txid, q.product);
			if (rc == FWC_OK)
				COUNT(u, misses);
		} else if ((rc = part_copy(&part, &e->c[pick].p)) == FWC_OK &&
		           part.size == u->size) {
			rc = encode(&part, u->note, u->note_len);
			pthread_rwlock_unlock(&u->lock);
			if (rc == FWC_OK)
				COUNT(u, splices);
		} else {
			pthread_rwlock_unlock(&u->lock);
			if (rc == FWC_OK)
				rc = refresh(u, &part);
			if (rc == FWC_OK)
				COUNT(u, refreshes);
		}
		if (rc != FWC_OK) {
			part_clear(&part);
			fail500(resp, rc);
			return;
		}
		respond_copy(resp, CBOR_TYPE, part.bundle, part.bundle_len, part.etag);
		add_hold(resp, &vd);
		part_install(u, &q, epoch, pick, id, &part);
		return;
	}
	/* A miss (the read lock is held), or an entry that kept changing under this check-in:
	 * read the candidates again (the lock is taken again just to read the epoch). */
	memset(&fresh, 0, sizeof(fresh));
	if (!locked)
		pthread_rwlock_rdlock(&u->lock);
	fresh.used = 1;
	fresh.epoch = u->epoch;
	memcpy(fresh.key, q.key, q.key_len);
	fresh.key_len = q.key_len;
	pthread_rwlock_unlock(&u->lock);

	rc = entry_compute(u, &fresh, &note, &note_len, &q, now);
	if (rc != FWC_OK) {
		entry_clear(&fresh);
		fail500(resp, rc);
		return;
	}
	COUNT(u, misses);
	answer_fresh(u, resp, &q, &v, &fresh, note, note_len, now);
}
