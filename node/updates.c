/* fwchaind check-in: GET /v1/updates answers a device with the proof bundle of the newest
 * release it may install, or with the newest checkpoint when there is none.
 *
 * Main design choice: the answer depends on the device's counter N only through "is the newest
 * applicable release above N", so the cache keeps, per (product, channel, hardware id), the
 * newest applicable release (or "none") and its encoded bundle, and answers every N from it:
 * below the release's counter the bundle, otherwise the checkpoint note. A cache hit takes a
 * read lock, copies the bytes and runs no SQLite query. Two things age an entry: a block that
 * applied a transaction able to change the choice (release, release-revoke, rollout-control,
 * key-set registration or rotation, product registration) bumps an epoch and every entry of an
 * older epoch is recomputed from the ledger; any new block brings a new checkpoint, which the
 * bundle must carry (devices refuse stale checkpoints). The entry keeps the release and key-set
 * transactions it proves and their inclusion paths (the "release part"): when the tree size did
 * not change (an idle block), the new checkpoint is spliced in and the bundle re-encoded without
 * touching SQLite; when it grew, the paths are redone with O(log n) subtree lookups each
 * (node/db.c's subtree cache) instead of choosing the release again. Every read of the ledger
 * takes the checkpoint, the tree size and the state from ONE read snapshot, so a bundle never
 * mixes a new release with an old checkpoint.
 *
 * The cache is direct-mapped (NODE_UPDATES_SLOTS slots by a hash of the key): a colliding key
 * evicts the other, which only costs a rebuild. Rebuilds run outside the lock; two requests
 * that miss at once both build, and the later install wins (both answers are correct). */
#include "updates.h"

#include <jansson.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fwchain/bundle.h"
#include "fwchain/hex.h"
#include "fwchain/merkle.h"
#include "fwchain/payload.h"
#include "fwchain/sha256.h"
#include "fwchain/tx.h"
#include "state.h"

#define JSON_TYPE "application/json"
#define CBOR_TYPE "application/cbor"
#define NOTE_TYPE "text/plain; charset=utf-8"
#define CHANNEL_MAX 32
#define HW_MAX 64
#define KEY_MAX (FWC_PL_ID_MAX + 1 + CHANNEL_MAX + 1 + HW_MAX + 1)
#define ETAG_LEN 40

/* Types whose application can change which release a check-in gets, or its key-set chain. */
#define RELEVANT_TYPES                                                                             \
	((1u << FWC_TX_RELEASE) | (1u << FWC_TX_RELEASE_REVOKE) | (1u << FWC_TX_ROLLOUT_CONTROL) | \
	 (1u << FWC_TX_KEYSET_REGISTER) | (1u << FWC_TX_KEYSET_ROTATE) |                           \
	 (1u << FWC_TX_PRODUCT_REGISTER))

/* A logged transaction a bundle proves, and its inclusion path in the tree of the entry's
 * size. */
struct material {
	uint8_t *tx;
	size_t len;
	uint64_t leaf;
	uint8_t (*path)[32];
	size_t path_len;
};

struct entry {
	int used;
	char key[KEY_MAX];
	size_t key_len;
	uint64_t epoch; /* the epoch its release was chosen at */
	int has;        /* an applicable release exists */
	uint64_t counter;
	struct material rel;
	size_t nextra;
	struct material extra[FWC_BUNDLE_MAX_EXTRA];
	uint64_t size;           /* the tree size of the paths and the bundle */
	char note_tag[ETAG_LEN]; /* the ETag of the checkpoint note in the bundle */
	uint8_t *bundle;
	size_t bundle_len;
	char etag[ETAG_LEN];
};

struct node_updates {
	struct node_db *db;
	pthread_rwlock_t lock;
	int ready;
	uint64_t epoch;
	uint64_t size;
	char *note;
	size_t note_len;
	char note_etag[ETAG_LEN];
	struct entry *slots;
	uint64_t hits, splices, refreshes, misses;
};

static void material_free(struct material *m)
{
	free(m->tx);
	free(m->path);
	memset(m, 0, sizeof(*m));
}

static void entry_clear(struct entry *e)
{
	material_free(&e->rel);
	for (size_t i = 0; i < e->nextra; i++)
		material_free(&e->extra[i]);
	free(e->bundle);
	memset(e, 0, sizeof(*e));
}

int node_updates_new(struct node_updates **out, struct node_db *db)
{
	struct node_updates *u;

	if (out == NULL || db == NULL)
		return FWC_ERR_ARG;
	u = calloc(1, sizeof(*u));
	if (u == NULL)
		return FWC_ERR_NOMEM;
	u->slots = calloc(NODE_UPDATES_SLOTS, sizeof(*u->slots));
	if (u->slots == NULL || pthread_rwlock_init(&u->lock, NULL) != 0) {
		free(u->slots);
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
	for (size_t i = 0; i < NODE_UPDATES_SLOTS; i++)
		entry_clear(&u->slots[i]);
	free(u->slots);
	free(u->note);
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
}

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

void node_updates_on_commit(void *ctx, const struct node_chain_commit *info)
{
	struct node_updates *u = ctx;
	char *note;

	if (u == NULL || info == NULL || info->note == NULL)
		return;
	note = malloc(info->note_len + 1);
	if (note == NULL)
		return; /* keep answering with the previous checkpoint */
	memcpy(note, info->note, info->note_len);
	note[info->note_len] = '\0';
	pthread_rwlock_wrlock(&u->lock);
	free(u->note);
	u->note = note;
	u->note_len = info->note_len;
	etag_of(u->note_etag, "c-", note, info->note_len);
	u->size = info->log_size;
	if (info->applied_types & RELEVANT_TYPES)
		u->epoch++;
	u->ready = 1;
	pthread_rwlock_unlock(&u->lock);
}

/* ---------------------------------------------------------------- parameters */

static void bad_param(struct node_http_response *resp, const char *param, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* 400 {"code": "bad_parameter", "message": ..., "parameter": param}. */
static void bad_param(struct node_http_response *resp, const char *param, const char *fmt, ...)
{
	char msg[300];
	va_list ap;
	json_t *o;
	char *text;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	o = json_pack("{s:s, s:s, s:s}", "code", "bad_parameter", "message", msg, "parameter",
	              param);
	text = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	if (text == NULL) {
		node_http_respond_error(resp, 400, "bad_parameter", "%s", msg);
		return;
	}
	node_http_respond_take(resp, 400, JSON_TYPE, text, strlen(text));
}

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
	char key[KEY_MAX];
	size_t key_len;
	size_t slot;
};

/* Parse and check the parameters; on failure the 400 is in resp. */
static int parse_query(struct query *q, struct node_http_response *resp,
                       const struct node_http_request *req)
{
	const char *counter = node_http_query(req, "counter"),
	           *device = node_http_query(req, "device");
	uint64_t h = 14695981039346656037ull; /* FNV-1a */
	int n;

	q->product = node_http_query(req, "product");
	q->channel = node_http_query(req, "channel");
	q->hw = node_http_query(req, "hw");
	if (q->product == NULL || !fwc_pl_id_valid(q->product, strlen(q->product), FWC_PL_ID_MAX)) {
		bad_param(resp, "product",
		          "product: a product id, [a-z0-9][a-z0-9._-]*, 1..%d bytes",
		          FWC_PL_ID_MAX);
		return -1;
	}
	if (q->channel == NULL || !printable(q->channel, CHANNEL_MAX)) {
		bad_param(resp, "channel", "channel: 1..%d printable ASCII characters",
		          CHANNEL_MAX);
		return -1;
	}
	if (q->hw == NULL || !printable(q->hw, HW_MAX)) {
		bad_param(resp, "hw", "hw: the hardware id, 1..%d printable ASCII characters",
		          HW_MAX);
		return -1;
	}
	if (parse_u64(&q->counter, counter) != 0) {
		bad_param(resp, "counter",
		          "counter: the installed release counter, a decimal number without sign or"
		          " leading zeros");
		return -1;
	}
	if (device != NULL) {
		struct fwc_pubkey pk;

		if (fwc_pubkey_from_text(&pk, device, strlen(device), NULL) != FWC_OK) {
			bad_param(resp, "device",
			          "device: the device key, bip340:<hex> or ed25519:<hex>");
			return -1;
		}
	}
	n = snprintf(q->key, sizeof(q->key), "%s%c%s%c%s", q->product, 0, q->channel, 0, q->hw);
	if (n < 0 || (size_t)n >= sizeof(q->key)) {
		bad_param(resp, "product", "parameters too long");
		return -1;
	}
	q->key_len = (size_t)n;
	for (size_t i = 0; i < q->key_len; i++)
		h = (h ^ (uint8_t)q->key[i]) * 1099511628211ull;
	q->slot = (size_t)(h % NODE_UPDATES_SLOTS);
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
static int prove_all(struct node_db_reader *r, struct entry *e, uint64_t size)
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
static int encode(struct entry *e, const char *note, size_t note_len)
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

struct latest {
	int found;
	uint8_t txid[32];
	uint64_t counter;
};

static int latest_cb(void *ctx, const struct node_release_row *row)
{
	struct latest *l = ctx;

	l->found = 1;
	memcpy(l->txid, row->txid, 32);
	l->counter = row->counter;
	return 1;
}

/* Choose the release of q from one snapshot of the ledger and build its entry (e, not yet in
 * the cache) and, when there is one, its bundle. *note gets that snapshot's checkpoint. */
static int compute(struct node_updates *u, struct entry *e, char **note, size_t *note_len,
                   const struct query *q)
{
	struct node_db_reader *r = NULL;
	struct node_db_block head = {0};
	struct node_db_keyset_tx ks[FWC_BUNDLE_MAX_EXTRA];
	struct node_db_tx t;
	struct latest l = {0};
	size_t nks = 0, dropped = 0;
	int rc, in_txn = 0;

	memset(&t, 0, sizeof(t));
	if ((rc = node_db_reader_get(u->db, &r)) != FWC_OK)
		return rc;
	if ((rc = node_db_reader_begin(r)) != FWC_OK)
		goto out;
	in_txn = 1;
	if ((rc = node_db_reader_head(r, &head)) != FWC_OK)
		goto out;
	rc = node_state_release_latest(node_db_reader_state(r), q->product, q->channel, q->hw, 0,
	                               latest_cb, &l);
	if (rc == FWC_ERR_NOT_FOUND || (rc == FWC_OK && !l.found)) {
		rc = FWC_OK;
		goto done;
	}
	if (rc != FWC_OK)
		goto out;
	if ((rc = node_db_reader_tx_get(r, &t, l.txid)) != FWC_OK)
		goto out;
	rc = node_db_keyset_chain(r, ks, FWC_BUNDLE_MAX_EXTRA, &nks, &dropped, q->product,
	                          t.leaf_index);
	if (rc != FWC_OK)
		goto out;
	e->has = 1;
	e->counter = l.counter;
	e->rel.tx = t.bytes;
	e->rel.len = t.len;
	e->rel.leaf = t.leaf_index;
	t.bytes = NULL;
	for (size_t i = 0; i < nks; i++) {
		e->extra[i].tx = ks[i].bytes;
		e->extra[i].len = ks[i].len;
		e->extra[i].leaf = ks[i].leaf_index;
	}
	e->nextra = nks;
	if (dropped)
		fprintf(
		    stderr,
		    "fwchaind: check-in bundle of '%s' leaves out %zu older root rotations (at most"
		    " %d extra entries)\n",
		    q->product, dropped, FWC_BUNDLE_MAX_EXTRA);
	rc = prove_all(r, e, head.log_size);
	if (rc == FWC_OK)
		rc = encode(e, head.checkpoint, head.checkpoint_len);
	if (rc != FWC_OK)
		goto out;
done:
	e->size = head.log_size;
	*note = head.checkpoint;
	*note_len = head.checkpoint_len;
	head.checkpoint = NULL;
out:
	if (in_txn)
		node_db_reader_end(r);
	node_db_reader_put(r);
	node_db_tx_cleanup(&t);
	node_db_block_cleanup(&head);
	return rc;
}

/* New paths and checkpoint for an entry's release part, from one snapshot. */
static int refresh(struct node_updates *u, struct entry *e)
{
	struct node_db_reader *r = NULL;
	struct node_db_block head = {0};
	int rc;

	if ((rc = node_db_reader_get(u->db, &r)) != FWC_OK)
		return rc;
	rc = node_db_reader_begin(r);
	if (rc == FWC_OK) {
		rc = node_db_reader_head(r, &head);
		if (rc == FWC_OK)
			rc = prove_all(r, e, head.log_size);
		node_db_reader_end(r);
	}
	node_db_reader_put(r);
	if (rc == FWC_OK)
		rc = encode(e, head.checkpoint, head.checkpoint_len);
	node_db_block_cleanup(&head);
	return rc;
}

/* Copy the release part of a cached entry (bundle excluded). */
static int entry_copy_part(struct entry *dst, const struct entry *src)
{
	memset(dst, 0, sizeof(*dst));
	memcpy(dst->key, src->key, src->key_len);
	dst->key_len = src->key_len;
	dst->used = 1;
	dst->epoch = src->epoch;
	dst->has = src->has;
	dst->counter = src->counter;
	dst->size = src->size;
	if (material_copy(&dst->rel, &src->rel) != FWC_OK)
		return FWC_ERR_NOMEM;
	for (size_t i = 0; i < src->nextra; i++) {
		if (material_copy(&dst->extra[i], &src->extra[i]) != FWC_OK) {
			dst->nextra = i;
			entry_clear(dst);
			return FWC_ERR_NOMEM;
		}
	}
	dst->nextra = src->nextra;
	return FWC_OK;
}

/* Put e into its slot (taking its contents) unless the slot holds something at least as new
 * for the same key; e is cleared either way. */
static void install(struct node_updates *u, size_t slot, struct entry *e)
{
	struct entry *s = &u->slots[slot];

	pthread_rwlock_wrlock(&u->lock);
	if (!(s->used && s->key_len == e->key_len && memcmp(s->key, e->key, e->key_len) == 0 &&
	      (s->epoch > e->epoch || (s->epoch == e->epoch && s->size > e->size)))) {
		entry_clear(s);
		*s = *e;
		memset(e, 0, sizeof(*e));
	}
	pthread_rwlock_unlock(&u->lock);
	entry_clear(e);
}

static void respond_copy(struct node_http_response *resp, const char *type, const void *data,
                         size_t len, const char *etag)
{
	node_http_respond_bytes(resp, 200, type, data, len);
	if (resp->status == 200)
		node_http_set_etag(resp, etag);
}

void node_updates_handle(void *ctx, struct node_http_response *resp,
                         const struct node_http_request *req)
{
	struct node_updates *u = ctx;
	struct entry fresh, *e;
	struct query q;
	char *note = NULL, etag[ETAG_LEN];
	size_t note_len = 0;
	int rc;

	if (parse_query(&q, resp, req) != 0)
		return;
	if (u == NULL) {
		node_http_respond_error(resp, 503, "unavailable", "check-ins are not served here");
		return;
	}
	pthread_rwlock_rdlock(&u->lock);
	if (!u->ready) {
		pthread_rwlock_unlock(&u->lock);
		node_http_respond_error(resp, 503, "starting", "the node is starting; retry");
		return;
	}
	e = &u->slots[q.slot];
	if (e->used && e->epoch == u->epoch && e->key_len == q.key_len &&
	    memcmp(e->key, q.key, q.key_len) == 0) {
		if (!e->has || q.counter >= e->counter) {
			respond_copy(resp, NOTE_TYPE, u->note, u->note_len, u->note_etag);
			pthread_rwlock_unlock(&u->lock);
			__atomic_fetch_add(&u->hits, 1, __ATOMIC_RELAXED);
			return;
		}
		if (strcmp(e->note_tag, u->note_etag) == 0) {
			respond_copy(resp, CBOR_TYPE, e->bundle, e->bundle_len, e->etag);
			pthread_rwlock_unlock(&u->lock);
			__atomic_fetch_add(&u->hits, 1, __ATOMIC_RELAXED);
			return;
		}
		/* Same release, newer checkpoint. The same tree size (an idle block): splice the
		 * note in, no SQLite; a larger one: new paths from the ledger. */
		rc = entry_copy_part(&fresh, e);
		if (rc == FWC_OK && e->size == u->size) {
			rc = encode(&fresh, u->note, u->note_len);
			pthread_rwlock_unlock(&u->lock);
			if (rc == FWC_OK)
				__atomic_fetch_add(&u->splices, 1, __ATOMIC_RELAXED);
		} else {
			pthread_rwlock_unlock(&u->lock);
			if (rc == FWC_OK)
				rc = refresh(u, &fresh);
			if (rc == FWC_OK)
				__atomic_fetch_add(&u->refreshes, 1, __ATOMIC_RELAXED);
		}
		if (rc != FWC_OK) {
			entry_clear(&fresh);
			node_http_respond_error(resp, 500, "internal_error",
			                        "cannot build the proof bundle: %s",
			                        fwc_strerror(rc));
			return;
		}
		respond_copy(resp, CBOR_TYPE, fresh.bundle, fresh.bundle_len, fresh.etag);
		install(u, q.slot, &fresh);
		return;
	}
	memset(&fresh, 0, sizeof(fresh));
	fresh.used = 1;
	fresh.epoch = u->epoch;
	memcpy(fresh.key, q.key, q.key_len);
	fresh.key_len = q.key_len;
	pthread_rwlock_unlock(&u->lock);

	rc = compute(u, &fresh, &note, &note_len, &q);
	if (rc != FWC_OK) {
		entry_clear(&fresh);
		free(note);
		node_http_respond_error(resp, 500, "internal_error",
		                        "cannot answer the check-in: %s", fwc_strerror(rc));
		return;
	}
	__atomic_fetch_add(&u->misses, 1, __ATOMIC_RELAXED);
	if (fresh.has && q.counter < fresh.counter) {
		respond_copy(resp, CBOR_TYPE, fresh.bundle, fresh.bundle_len, fresh.etag);
	} else {
		etag_of(etag, "c-", note, note_len);
		node_http_respond_take(resp, 200, NOTE_TYPE, note, note_len);
		node_http_set_etag(resp, etag);
		note = NULL;
	}
	free(note);
	install(u, q.slot, &fresh);
}
