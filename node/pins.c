/* fwchaind pins, DAG completeness checks, upload sessions and garbage collection.
 *
 * Design: one mutex (pins->mu) orders everything that decides whether a block may be deleted.
 * The GC builds an in-memory mark set: at its start, under the mutex, it takes every open
 * session's blocks; then, without the mutex, it walks every pinned DAG and marks what it
 * reaches; then it sweeps the store, deciding and deleting each unmarked block under the mutex.
 * While a GC runs, everything that protects a block adds it to that same mark set under the
 * mutex: a session registers a block (before writing it) and a new pin walks its DAG and
 * records itself with the mutex held. So a block is never deleted after it was registered or
 * pinned, whatever the interleaving; a pin removed during a GC takes effect at the next one.
 * A pinned DAG that cannot be walked completely (missing or corrupt block) stops the GC before
 * it deletes anything, because the blocks below the gap cannot be known to be unreachable.
 * Sets of digests are open-addressing tables hashed with keyed SipHash (libsodium), so
 * uploaded content cannot be crafted to collide in them. */
#include "pins.h"

#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fwchain/dagpb.h"

/* ---- digest sets ------------------------------------------------------------------------ */

struct dset {
	uint8_t (*keys)[FWC_CID_DIGEST_LEN];
	uint8_t *flags; /* 0 = empty slot; else the flags the key carries */
	size_t cap;     /* power of two, or 0 */
	size_t n;
};

static unsigned char hash_key[crypto_shorthash_KEYBYTES];
static pthread_once_t hash_once = PTHREAD_ONCE_INIT;

static void hash_init(void)
{
	if (sodium_init() < 0)
		abort(); /* libsodium cannot run at all: nothing sensible to continue with */
	randombytes_buf(hash_key, sizeof(hash_key));
}

static size_t dset_slot(const struct dset *s, const uint8_t d[FWC_CID_DIGEST_LEN])
{
	unsigned char h[crypto_shorthash_BYTES];
	uint64_t v;

	crypto_shorthash(h, d, FWC_CID_DIGEST_LEN, hash_key);
	memcpy(&v, h, sizeof(v));
	return (size_t)v & (s->cap - 1);
}

/* The flags d carries, 0 when absent. */
static uint8_t dset_get(const struct dset *s, const uint8_t d[FWC_CID_DIGEST_LEN])
{
	if (s->cap == 0)
		return 0;
	for (size_t i = dset_slot(s, d);; i = (i + 1) & (s->cap - 1)) {
		if (s->flags[i] == 0)
			return 0;
		if (memcmp(s->keys[i], d, FWC_CID_DIGEST_LEN) == 0)
			return s->flags[i];
	}
}

static int dset_grow(struct dset *s)
{
	struct dset t;
	size_t cap = s->cap ? s->cap * 2 : 64;

	if (cap > SIZE_MAX / FWC_CID_DIGEST_LEN)
		return FWC_ERR_NOMEM;
	t.cap = cap;
	t.n = s->n;
	t.keys = malloc(cap * FWC_CID_DIGEST_LEN);
	t.flags = calloc(cap, 1);
	if (t.keys == NULL || t.flags == NULL) {
		free(t.keys);
		free(t.flags);
		return FWC_ERR_NOMEM;
	}
	for (size_t i = 0; i < s->cap; i++) {
		size_t j;

		if (s->flags[i] == 0)
			continue;
		for (j = dset_slot(&t, s->keys[i]); t.flags[j] != 0; j = (j + 1) & (cap - 1))
			;
		memcpy(t.keys[j], s->keys[i], FWC_CID_DIGEST_LEN);
		t.flags[j] = s->flags[i];
	}
	free(s->keys);
	free(s->flags);
	*s = t;
	return FWC_OK;
}

/* OR flag into d's flags, adding d if needed. Returns the flags d had before (0 when new), or
 * FWC_ERR_NOMEM. */
static int dset_add(struct dset *s, const uint8_t d[FWC_CID_DIGEST_LEN], uint8_t flag)
{
	size_t i;
	int rc;

	if ((s->n + 1) * 10 > s->cap * 7 && (rc = dset_grow(s)) < 0)
		return rc;
	for (i = dset_slot(s, d); s->flags[i] != 0; i = (i + 1) & (s->cap - 1)) {
		if (memcmp(s->keys[i], d, FWC_CID_DIGEST_LEN) == 0) {
			uint8_t old = s->flags[i];

			s->flags[i] |= flag;
			return old;
		}
	}
	memcpy(s->keys[i], d, FWC_CID_DIGEST_LEN);
	s->flags[i] = flag;
	s->n++;
	return 0;
}

static void dset_free(struct dset *s)
{
	free(s->keys);
	free(s->flags);
	memset(s, 0, sizeof(*s));
}

/* ---- DAG walk --------------------------------------------------------------------------- */

#define SEEN_RAW 1
#define SEEN_PB 2

struct walk_item {
	uint8_t version;
	uint8_t pb;
	uint8_t digest[FWC_CID_DIGEST_LEN];
};

static void item_cid(struct fwc_cid *c, const struct walk_item *it)
{
	memset(c, 0, sizeof(*c));
	c->version = it->version;
	c->codec = it->pb ? FWC_CID_CODEC_DAGPB : FWC_CID_CODEC_RAW;
	c->mh_code = FWC_MH_SHA2_256;
	memcpy(c->digest, it->digest, FWC_CID_DIGEST_LEN);
}

static void cid_text(char out[FWC_CID_STR_MAX], const struct fwc_cid *c)
{
	if (fwc_cid_format(out, FWC_CID_STR_MAX, c) < 0)
		strcpy(out, "(unprintable CID)");
}

typedef int (*visit_fn)(void *ctx, const struct fwc_cid *cid, uint64_t len);

/* Depth-first walk from root, children in link order; visit (optional) is called for every
 * block found present. See node_dag_check for the results. */
static int dag_walk(struct node_bs *bs, const struct fwc_cid *root,
                    const struct node_dag_limits *lim, visit_fn visit, void *vctx,
                    struct fwc_cid *missing, struct node_dag_stats *st, struct fwc_errinfo *ei)
{
	struct node_dag_limits dl = {NODE_DAG_DEFAULT_MAX_BLOCKS, NODE_DAG_DEFAULT_MAX_BYTES};
	struct dset seen = {0};
	struct walk_item *stack = NULL;
	size_t sp = 0, scap = 0, bufcap = node_bs_max_block(bs), max_stack;
	uint64_t blocks = 0, bytes = 0;
	uint8_t *buf = NULL;
	char txt[FWC_CID_STR_MAX], rtxt[FWC_CID_STR_MAX];
	int rc;

	if (lim != NULL)
		dl = *lim;
	if (root->codec != FWC_CID_CODEC_RAW && root->codec != FWC_CID_CODEC_DAGPB)
		return fwc_fail(ei, 0, FWC_ERR_UNSUPPORTED, "DAG root has an unsupported codec");
	cid_text(rtxt, root);
	/* pending links: a legitimate DAG keeps at most depth x links here */
	max_stack = (size_t)(dl.max_blocks < SIZE_MAX / 4 ? dl.max_blocks : SIZE_MAX / 4) +
	            FWC_DAGPB_MAX_LINKS;
	buf = malloc(bufcap ? bufcap : 1);
	scap = 256;
	stack = malloc(scap * sizeof(*stack));
	if (buf == NULL || stack == NULL) {
		rc = FWC_ERR_NOMEM;
		goto out;
	}
	stack[sp].version = root->version;
	stack[sp].pb = root->codec == FWC_CID_CODEC_DAGPB;
	memcpy(stack[sp].digest, root->digest, FWC_CID_DIGEST_LEN);
	sp++;

	while (sp > 0) {
		struct walk_item it = stack[--sp];
		struct fwc_cid cid;
		uint8_t flag = it.pb ? SEEN_PB : SEEN_RAW;
		uint64_t blen = 0;
		size_t len = 0;
		int before;

		if (dset_get(&seen, it.digest) & flag)
			continue;
		item_cid(&cid, &it);
		if (it.pb) {
			struct fwc_errinfo sub;

			rc = node_bs_read(bs, &cid, buf, bufcap, &len, &sub);
			blen = len;
			if (rc == FWC_ERR_BUFSIZE) {
				cid_text(txt, &cid);
				rc = fwc_fail(ei, 0, FWC_ERR_TOO_LARGE,
				              "block %s of DAG %s is larger than the block limit",
				              txt, rtxt);
				goto out;
			}
		} else {
			rc = node_bs_has(bs, &cid, &blen);
			rc = rc == 1 ? FWC_OK : rc == 0 ? FWC_ERR_NOT_FOUND : rc;
		}
		if (rc == FWC_ERR_NOT_FOUND) {
			cid_text(txt, &cid);
			if (missing != NULL)
				*missing = cid;
			rc = fwc_fail(ei, 0, rc, "block %s of DAG %s is not in the store", txt,
			              rtxt);
			goto out;
		}
		if (rc < 0) {
			cid_text(txt, &cid);
			rc = fwc_fail(ei, 0, rc, "block %s of DAG %s cannot be read: %s", txt, rtxt,
			              fwc_strerror(rc));
			goto out;
		}
		if ((before = dset_add(&seen, it.digest, flag)) < 0) {
			rc = before;
			goto out;
		}
		if (before == 0) {
			blocks++;
			bytes += blen;
		}
		if (blocks > dl.max_blocks || bytes > dl.max_bytes) {
			rc = fwc_fail(ei, 0, FWC_ERR_TOO_LARGE,
			              "DAG %s exceeds its limit (%llu blocks, %llu bytes)", rtxt,
			              (unsigned long long)dl.max_blocks,
			              (unsigned long long)dl.max_bytes);
			goto out;
		}
		if (visit != NULL && (rc = visit(vctx, &cid, blen)) < 0)
			goto out;
		if (it.pb) {
			struct fwc_dagpb_node node;
			struct fwc_dagpb_iter li;
			struct fwc_dagpb_link link;
			struct fwc_errinfo sub;
			size_t first = sp;

			rc = fwc_dagpb_decode(&node, buf, len, &sub);
			if (rc < 0) {
				cid_text(txt, &cid);
				rc = fwc_fail(ei, 0, FWC_ERR_MALFORMED,
				              "block %s of DAG %s is not valid dag-pb: %s", txt,
				              rtxt, sub.msg);
				goto out;
			}
			fwc_dagpb_iter_init(&li, &node);
			while ((rc = fwc_dagpb_iter_next(&li, &link)) == 1) {
				uint8_t lf =
				    link.cid.codec == FWC_CID_CODEC_DAGPB ? SEEN_PB : SEEN_RAW;

				if (dset_get(&seen, link.cid.digest) & lf)
					continue;
				if (sp == scap) {
					struct walk_item *ns;

					if (scap >= max_stack) {
						rc = fwc_fail(ei, 0, FWC_ERR_TOO_LARGE,
						              "DAG %s is too wide to walk", rtxt);
						goto out;
					}
					ns = realloc(stack, 2 * scap * sizeof(*stack));
					if (ns == NULL) {
						rc = FWC_ERR_NOMEM;
						goto out;
					}
					stack = ns;
					scap *= 2;
				}
				stack[sp].version = link.cid.version;
				stack[sp].pb = lf == SEEN_PB;
				memcpy(stack[sp].digest, link.cid.digest, FWC_CID_DIGEST_LEN);
				sp++;
			}
			if (rc < 0)
				goto out;
			/* reversed, so the first link is popped (walked) first */
			for (size_t a = first, b = sp; a + 1 < b; a++, b--) {
				struct walk_item t = stack[a];

				stack[a] = stack[b - 1];
				stack[b - 1] = t;
			}
		}
	}
	if (st != NULL) {
		st->blocks = blocks;
		st->bytes = bytes;
	}
	rc = FWC_OK;
out:
	free(buf);
	free(stack);
	dset_free(&seen);
	return rc;
}

int node_dag_check(struct node_bs *bs, const struct fwc_cid *root,
                   const struct node_dag_limits *lim, struct fwc_cid *missing,
                   struct node_dag_stats *st, struct fwc_errinfo *ei)
{
	if (bs == NULL || root == NULL)
		return FWC_ERR_ARG;
	pthread_once(&hash_once, hash_init);
	return dag_walk(bs, root, lim, NULL, NULL, missing, st, ei);
}

int node_dag_walk(struct node_bs *bs, const struct fwc_cid *root, const struct node_dag_limits *lim,
                  int (*visit)(void *ctx, const struct fwc_cid *cid, uint64_t len), void *ctx,
                  struct fwc_cid *missing, struct fwc_errinfo *ei)
{
	if (bs == NULL || root == NULL || visit == NULL)
		return FWC_ERR_ARG;
	pthread_once(&hash_once, hash_init);
	return dag_walk(bs, root, lim, visit, ctx, missing, NULL, ei);
}

/* ---- pins ------------------------------------------------------------------------------- */

struct node_pins_session {
	struct dset set;
	struct node_pins_session *prev, *next;
};

struct node_pins {
	sqlite3 *db;
	struct node_bs *bs;
	pthread_mutex_t mu;
	struct dset *marks; /* non-NULL while a GC runs */
	struct node_pins_session *sessions;
	sqlite3_stmt *add; /* node_pins_add's INSERT, prepared once (under mu) */
};

int node_pins_schema(sqlite3 *db)
{
	static const char sql[] = "CREATE TABLE IF NOT EXISTS store_pins("
	                          " cid BLOB NOT NULL,"        /* binary CIDv1 of the root */
	                          " origin TEXT NOT NULL,"     /* release, operator, upload, ... */
	                          " created INTEGER NOT NULL," /* Unix seconds */
	                          " PRIMARY KEY(cid, origin)) WITHOUT ROWID";

	if (db == NULL)
		return FWC_ERR_ARG;
	return sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK ? FWC_OK : FWC_ERR_IO;
}

int node_pins_open(struct node_pins **out, sqlite3 *db, struct node_bs *bs, struct fwc_errinfo *ei)
{
	struct node_pins *p;

	if (out == NULL || db == NULL || bs == NULL)
		return FWC_ERR_ARG;
	pthread_once(&hash_once, hash_init);
	if (node_pins_schema(db) != FWC_OK)
		return fwc_fail(ei, 0, FWC_ERR_IO, "pins: cannot create store_pins: %s",
		                sqlite3_errmsg(db));
	sqlite3_busy_timeout(db, 5000);
	p = calloc(1, sizeof(*p));
	if (p == NULL)
		return FWC_ERR_NOMEM;
	p->db = db;
	p->bs = bs;
	pthread_mutex_init(&p->mu, NULL);
	*out = p;
	return FWC_OK;
}

void node_pins_close(struct node_pins *p)
{
	if (p == NULL)
		return;
	while (p->sessions != NULL)
		node_pins_session_end(p, p->sessions);
	sqlite3_finalize(p->add);
	pthread_mutex_destroy(&p->mu);
	free(p);
}

struct node_bs *node_pins_store(struct node_pins *p)
{
	return p != NULL ? p->bs : NULL;
}

static int key_of(uint8_t out[FWC_CID_MAX_BINARY], size_t *len, const struct fwc_cid *root)
{
	struct fwc_cid v1;

	if (fwc_cid_to_v1(&v1, root) < 0)
		return FWC_ERR_ARG;
	return fwc_cid_encode(out, FWC_CID_MAX_BINARY, len, &v1) < 0 ? FWC_ERR_ARG : FWC_OK;
}

static int origin_ok(const char *origin)
{
	size_t n = origin ? strnlen(origin, NODE_PIN_ORIGIN_MAX + 1) : 0;

	return n >= 1 && n <= NODE_PIN_ORIGIN_MAX;
}

/* Mark callbacks: with the mutex already held, and taking it. */
static int mark_held(void *ctx, const struct fwc_cid *cid, uint64_t len)
{
	struct node_pins *p = ctx;
	int rc = dset_add(p->marks, cid->digest, 1);

	(void)len;

	return rc < 0 ? rc : FWC_OK;
}

static int mark_locking(void *ctx, const struct fwc_cid *cid, uint64_t len)
{
	struct node_pins *p = ctx;
	int rc;

	(void)len;
	pthread_mutex_lock(&p->mu);
	rc = dset_add(p->marks, cid->digest, 1);
	pthread_mutex_unlock(&p->mu);
	return rc < 0 ? rc : FWC_OK;
}

int node_pins_add(struct node_pins *p, const struct fwc_cid *root, const char *origin,
                  struct fwc_cid *missing, struct fwc_errinfo *ei)
{
	uint8_t key[FWC_CID_MAX_BINARY];
	sqlite3_stmt *st = NULL;
	size_t klen;
	int rc;

	if (p == NULL || root == NULL || !origin_ok(origin))
		return FWC_ERR_ARG;
	if ((rc = key_of(key, &klen, root)) < 0)
		return rc;
	/* Walk and record under the mutex: a GC cannot start in between (it would not see the
	 * pin) nor delete a block of this DAG while it is being checked. */
	pthread_mutex_lock(&p->mu);
	rc = dag_walk(p->bs, root, NULL, p->marks != NULL ? mark_held : NULL, p, missing, NULL, ei);
	if (rc < 0)
		goto out;
	if (p->add == NULL && sqlite3_prepare_v3(p->db,
	                                         "INSERT OR IGNORE INTO store_pins(cid, origin, "
	                                         "created) VALUES(?, ?, ?)",
	                                         -1, SQLITE_PREPARE_PERSISTENT, &p->add,
	                                         NULL) != SQLITE_OK) {
		rc = fwc_fail(ei, 0, FWC_ERR_IO, "pins: %s", sqlite3_errmsg(p->db));
		goto out;
	}
	st = p->add;
	sqlite3_bind_blob(st, 1, key, (int)klen, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, origin, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)time(NULL));
	if (sqlite3_step(st) != SQLITE_DONE) {
		rc = fwc_fail(ei, 0, FWC_ERR_IO, "pins: %s", sqlite3_errmsg(p->db));
		goto out;
	}
	rc = FWC_OK;
out:
	if (st != NULL) {
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
	}
	pthread_mutex_unlock(&p->mu);
	return rc;
}

int node_pins_remove(struct node_pins *p, const struct fwc_cid *root, const char *origin)
{
	uint8_t key[FWC_CID_MAX_BINARY];
	sqlite3_stmt *st = NULL;
	size_t klen;
	int rc;

	if (p == NULL || root == NULL || !origin_ok(origin))
		return FWC_ERR_ARG;
	if ((rc = key_of(key, &klen, root)) < 0)
		return rc;
	if (sqlite3_prepare_v2(p->db, "DELETE FROM store_pins WHERE cid = ? AND origin = ?", -1,
	                       &st, NULL) != SQLITE_OK)
		return FWC_ERR_IO;
	sqlite3_bind_blob(st, 1, key, (int)klen, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, origin, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = FWC_ERR_IO;
	else
		rc = sqlite3_changes(p->db) > 0 ? FWC_OK : FWC_ERR_NOT_FOUND;
	sqlite3_finalize(st);
	return rc;
}

int node_pins_is_pinned(struct node_pins *p, const struct fwc_cid *root)
{
	uint8_t key[FWC_CID_MAX_BINARY];
	sqlite3_stmt *st = NULL;
	size_t klen;
	int rc;

	if (p == NULL || root == NULL)
		return FWC_ERR_ARG;
	if ((rc = key_of(key, &klen, root)) < 0)
		return rc;
	if (sqlite3_prepare_v2(p->db, "SELECT 1 FROM store_pins WHERE cid = ? LIMIT 1", -1, &st,
	                       NULL) != SQLITE_OK)
		return FWC_ERR_IO;
	sqlite3_bind_blob(st, 1, key, (int)klen, SQLITE_STATIC);
	rc = sqlite3_step(st);
	rc = rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : FWC_ERR_IO;
	sqlite3_finalize(st);
	return rc;
}

int node_pins_list(struct node_pins *p,
                   int (*fn)(void *ctx, const struct fwc_cid *root, const char *origin,
                             int64_t created),
                   void *ctx)
{
	sqlite3_stmt *st = NULL;
	int rc, step;

	if (p == NULL || fn == NULL)
		return FWC_ERR_ARG;
	if (sqlite3_prepare_v2(p->db,
	                       "SELECT cid, origin, created FROM store_pins ORDER BY cid, origin",
	                       -1, &st, NULL) != SQLITE_OK)
		return FWC_ERR_IO;
	rc = FWC_OK;
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		struct fwc_cid cid;
		const unsigned char *origin = sqlite3_column_text(st, 1);

		if (fwc_cid_decode(&cid, NULL, sqlite3_column_blob(st, 0),
		                   (size_t)sqlite3_column_bytes(st, 0), NULL) != FWC_OK ||
		    origin == NULL) {
			rc = FWC_ERR_MALFORMED; /* a row this code did not write */
			break;
		}
		if ((rc = fn(ctx, &cid, (const char *)origin, sqlite3_column_int64(st, 2))) < 0)
			break;
		rc = FWC_OK;
	}
	if (rc == FWC_OK && step != SQLITE_DONE)
		rc = FWC_ERR_IO;
	sqlite3_finalize(st);
	return rc;
}

/* ---- sessions --------------------------------------------------------------------------- */

int node_pins_session_begin(struct node_pins *p, struct node_pins_session **out)
{
	struct node_pins_session *s;

	if (p == NULL || out == NULL)
		return FWC_ERR_ARG;
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return FWC_ERR_NOMEM;
	pthread_mutex_lock(&p->mu);
	s->next = p->sessions;
	if (p->sessions != NULL)
		p->sessions->prev = s;
	p->sessions = s;
	pthread_mutex_unlock(&p->mu);
	*out = s;
	return FWC_OK;
}

int node_pins_session_put(struct node_pins *p, struct node_pins_session *s,
                          const struct fwc_cid *cid, const uint8_t *data, size_t len,
                          unsigned flags, struct fwc_errinfo *ei)
{
	int rc;

	if (p == NULL || s == NULL || cid == NULL)
		return FWC_ERR_ARG;
	pthread_mutex_lock(&p->mu);
	rc = dset_add(&s->set, cid->digest, 1);
	if (rc >= 0 && p->marks != NULL)
		rc = dset_add(p->marks, cid->digest, 1);
	pthread_mutex_unlock(&p->mu);
	if (rc < 0)
		return fwc_fail(ei, 0, rc, "upload session: out of memory");
	return node_bs_put(p->bs, cid, data, len, flags, ei);
}

int node_pins_session_stage_put(struct node_pins *p, struct node_pins_session *s,
                                struct node_bs_stage *st, const struct fwc_cid *cid,
                                const uint8_t *data, size_t len, unsigned flags,
                                struct fwc_errinfo *ei)
{
	int rc;

	if (p == NULL || s == NULL || st == NULL || cid == NULL)
		return FWC_ERR_ARG;
	pthread_mutex_lock(&p->mu);
	rc = dset_add(&s->set, cid->digest, 1);
	if (rc >= 0 && p->marks != NULL)
		rc = dset_add(p->marks, cid->digest, 1);
	pthread_mutex_unlock(&p->mu);
	if (rc < 0)
		return fwc_fail(ei, 0, rc, "upload session: out of memory");
	return node_bs_stage_put(st, cid, data, len, flags, ei);
}

uint64_t node_pins_session_blocks(const struct node_pins_session *s)
{
	return s != NULL ? s->set.n : 0;
}

void node_pins_session_end(struct node_pins *p, struct node_pins_session *s)
{
	if (p == NULL || s == NULL)
		return;
	pthread_mutex_lock(&p->mu);
	if (s->prev != NULL)
		s->prev->next = s->next;
	else
		p->sessions = s->next;
	if (s->next != NULL)
		s->next->prev = s->prev;
	pthread_mutex_unlock(&p->mu);
	dset_free(&s->set);
	free(s);
}

/* ---- garbage collection ----------------------------------------------------------------- */

struct sweep {
	struct node_pins *p;
	int64_t cutoff; /* blocks modified after this are kept */
	struct node_gc_result res;
};

static int sweep_one(void *ctx, const uint8_t digest[FWC_CID_DIGEST_LEN], uint64_t len,
                     int64_t mtime)
{
	struct sweep *sw = ctx;
	int rc = FWC_OK;

	pthread_mutex_lock(&sw->p->mu);
	if (dset_get(sw->p->marks, digest)) {
		sw->res.marked++;
	} else if (mtime > sw->cutoff) {
		sw->res.kept_recent++;
	} else {
		rc = node_bs_delete_digest(sw->p->bs, digest);
		if (rc == FWC_OK) {
			sw->res.removed++;
			sw->res.removed_bytes += len;
		} else if (rc == FWC_ERR_NOT_FOUND) {
			rc = FWC_OK; /* gone meanwhile */
		}
	}
	pthread_mutex_unlock(&sw->p->mu);
	return rc;
}

struct root_list {
	struct fwc_cid *v;
	size_t n, cap;
};

static int collect_root(void *ctx, const struct fwc_cid *root, const char *origin, int64_t created)
{
	struct root_list *l = ctx;

	(void)origin;
	(void)created;
	if (l->n > 0 && fwc_cid_equal(&l->v[l->n - 1], root))
		return FWC_OK; /* rows are sorted by cid: one walk per root */
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 16;
		struct fwc_cid *nv = realloc(l->v, cap * sizeof(*nv));

		if (nv == NULL)
			return FWC_ERR_NOMEM;
		l->v = nv;
		l->cap = cap;
	}
	l->v[l->n++] = *root;
	return FWC_OK;
}

int node_pins_gc(struct node_pins *p, int64_t grace_seconds, struct node_gc_result *res,
                 struct fwc_errinfo *ei)
{
	struct root_list roots = {0};
	struct dset *marks;
	struct sweep sw;
	int rc;

	if (p == NULL || grace_seconds < 0)
		return FWC_ERR_ARG;
	marks = calloc(1, sizeof(*marks));
	if (marks == NULL)
		return FWC_ERR_NOMEM;
	pthread_mutex_lock(&p->mu);
	if (p->marks != NULL) {
		pthread_mutex_unlock(&p->mu);
		free(marks);
		return fwc_fail(ei, 0, FWC_ERR_STATE, "a garbage collection is already running");
	}
	rc = FWC_OK;
	for (struct node_pins_session *s = p->sessions; s != NULL && rc >= 0; s = s->next)
		for (size_t i = 0; i < s->set.cap && rc >= 0; i++)
			if (s->set.flags[i])
				rc = dset_add(marks, s->set.keys[i], 1);
	p->marks = marks;
	pthread_mutex_unlock(&p->mu);
	if (rc < 0)
		goto out;

	memset(&sw, 0, sizeof(sw));
	sw.p = p;
	sw.cutoff = (int64_t)time(NULL) - grace_seconds;
	if ((rc = node_pins_list(p, collect_root, &roots)) < 0) {
		rc = fwc_fail(ei, 0, rc, "garbage collection: cannot read the pins");
		goto out;
	}
	for (size_t i = 0; i < roots.n; i++) {
		struct node_dag_limits lim = {UINT64_MAX, UINT64_MAX};
		struct fwc_errinfo sub;

		rc = dag_walk(p->bs, &roots.v[i], &lim, mark_locking, p, NULL, NULL, &sub);
		if (rc < 0) {
			rc = fwc_fail(ei, 0, rc, "garbage collection stopped, nothing deleted: %s",
			              sub.msg);
			goto out;
		}
		sw.res.pins++;
	}
	rc = node_bs_foreach(p->bs, sweep_one, &sw);
	if (rc < 0) {
		rc = fwc_fail(ei, 0, rc, "garbage collection: sweep failed: %s", fwc_strerror(rc));
		goto out;
	}
	/* Packs that lost only some blocks give their space back now (whole dead packs went
	 * with their last block). A failure here only delays that. */
	(void)node_bs_reclaim(p->bs);
	if (res != NULL)
		*res = sw.res;
	rc = FWC_OK;
out:
	pthread_mutex_lock(&p->mu);
	p->marks = NULL;
	pthread_mutex_unlock(&p->mu);
	dset_free(marks);
	free(marks);
	free(roots.v);
	return rc;
}
