/* fwchaind chain: mempool, block producer thread, live log, checkpoints, dev consensus.
 *
 * Main design choice: one producer thread owns the log. Submissions only append to the mempool
 * under a mutex; every block interval the producer moves a batch out (kept visible as
 * "in flight" so duplicates and status queries still see it), builds the block without holding
 * the lock (apply, leaf hashes, root, checkpoint body, consensus signature, one synced SQLite
 * transaction), and only after the commit returned publishes the new head. A block whose
 * signature or commit fails is dropped whole and its transactions go back to the front of the
 * mempool, so the in-memory head never runs ahead of the disk.
 *
 * Submission checks the envelope (tx.h: canonical decode, chain id, signature) and the sender's
 * nonce (exactly last + 1, counting committed and pending transactions). The state machine
 * (roles, time window, per-type rules: docs/state-machine.md) is not wired in yet: every
 * transaction that passed submission is applied. */
#include "chain.h"

#include <errno.h>
#include <stdarg.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fwchain/hex.h"
#include "fwchain/merkle.h"
#include "fwchain/note.h"
#include "fwchain/sha256.h"
#include "fwchain/tx.h"

#define REFUSED_RING 1024
#define NOTE_MAX 4096

/* ---------------------------------------------------------------- checkpoint text */

static void b64(char *out, size_t cap, const uint8_t *in, size_t len)
{
	sodium_bin2base64(out, cap, in, len, sodium_base64_VARIANT_ORIGINAL);
}

int node_checkpoint_body(char *out, size_t cap, const char *origin, uint64_t size,
                         const uint8_t root[32], uint64_t height, int64_t time,
                         const uint8_t *prev_hash)
{
	char hl[32], tl[32], pl[64], p64[48];
	struct fwc_note_line ext[3];
	size_t n = 0, len = 0;
	int rc;

	if (out == NULL || origin == NULL || root == NULL)
		return FWC_ERR_ARG;
	ext[0].len = (size_t)snprintf(hl, sizeof(hl), "height %llu", (unsigned long long)height);
	ext[0].ptr = hl;
	ext[1].len = (size_t)snprintf(tl, sizeof(tl), "time %lld", (long long)time);
	ext[1].ptr = tl;
	n = 2;
	if (prev_hash) {
		b64(p64, sizeof(p64), prev_hash, 32);
		ext[2].len = (size_t)snprintf(pl, sizeof(pl), "prev %s", p64);
		ext[2].ptr = pl;
		n = 3;
	}
	rc = fwc_checkpoint_format(out, cap, &len, origin, strlen(origin), size, root, ext, n);
	if (rc != FWC_OK)
		return rc;
	return (int)len;
}

/* ---------------------------------------------------------------- dev consensus */

/* The dev engine's one validator cosigns (c2sp.org/tlog-cosignature, via note.h) with the
 * block time as the cosignature's timestamp. */
static int dev_propose(void *ctx, char **note, size_t *note_len, const struct node_block *b)
{
	struct node_consensus_dev *st = ctx;
	struct fwc_note_signer signer;
	size_t cap = b->body_len + 512, len = 0;
	char *out = malloc(cap);
	int rc;

	if (out == NULL)
		return FWC_ERR_NOMEM;
	memset(&signer, 0, sizeof(signer));
	signer.name = st->name;
	signer.name_len = strlen(st->name);
	signer.type = FWC_NOTE_SIG_COSIG_V1;
	signer.sk = &st->sk;
	signer.timestamp = b->time < 0 ? 0 : (uint64_t)b->time;
	rc = fwc_note_sign_text(out, cap, &len, b->body, b->body_len, &signer);
	if (rc != FWC_OK) {
		free(out);
		return rc;
	}
	*note = out;
	*note_len = len;
	return FWC_OK;
}

static void dev_committed(void *ctx, const struct node_block *b)
{
	(void)ctx;
	(void)b;
}

void node_consensus_dev_init(struct node_consensus *cs, struct node_consensus_dev *st,
                             const struct fwc_seckey *sk, const char *name)
{
	st->sk = *sk;
	snprintf(st->name, sizeof(st->name), "%s", name);
	cs->propose = dev_propose;
	cs->committed = dev_committed;
	cs->ctx = st;
}

/* ---------------------------------------------------------------- the chain */

struct pending {
	uint8_t id[32];
	uint8_t *bytes;
	size_t len;
	uint32_t type;
	uint8_t sender[FWC_PUBKEY_BIN_LEN];
	uint64_t nonce;
};

struct refused {
	uint8_t id[32];
	struct node_refusal why;
};

struct node_chain {
	struct node_chain_config cfg;
	struct node_db *db;
	struct node_consensus cs;
	char chain_id[128];

	pthread_mutex_t mu;
	pthread_cond_t cv;
	pthread_t thread;
	int stop;

	/* Mempool: a FIFO in a ring of cfg.mempool_max slots. */
	struct pending *pool;
	size_t head, count;
	/* The batch the producer is working on (visible to duplicate checks and queries). */
	struct pending *inflight;
	size_t ninflight;

	struct refused *refused;
	size_t refused_next;

	/* The committed head. Written by the producer with mu held. */
	uint64_t height;
	int64_t time;
	struct fwc_merkle_frontier log;
	char *note;
	size_t note_len;
	struct timespec last_block;
};

void node_chain_config_default(struct node_chain_config *cfg)
{
	cfg->block_interval_ms = 500;
	cfg->checkpoint_interval_s = 60;
	cfg->mempool_max = 10000;
	cfg->block_max_txs = 1000;
	cfg->tx_max_bytes = NODE_TX_MAX_BYTES;
}

static double elapsed_s(const struct timespec *since)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - since->tv_sec) + (now.tv_nsec - since->tv_nsec) / 1e9;
}

static void refuse(struct node_refusal *r, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void refuse(struct node_refusal *r, const char *code, const char *fmt, ...)
{
	va_list ap;

	if (r == NULL)
		return;
	snprintf(r->code, sizeof(r->code), "%s", code);
	va_start(ap, fmt);
	vsnprintf(r->msg, sizeof(r->msg), fmt, ap);
	va_end(ap);
}

/* Is id pending or in flight? Caller holds mu. */
static int known_pending(struct node_chain *c, const uint8_t id[32])
{
	for (size_t i = 0; i < c->count; i++)
		if (memcmp(c->pool[(c->head + i) % c->cfg.mempool_max].id, id, 32) == 0)
			return 1;
	for (size_t i = 0; i < c->ninflight; i++)
		if (memcmp(c->inflight[i].id, id, 32) == 0)
			return 1;
	return 0;
}

/* Highest nonce of sender among pending and in-flight transactions (0 when none); mu held. */
static uint64_t pending_nonce(struct node_chain *c, const uint8_t sender[FWC_PUBKEY_BIN_LEN])
{
	uint64_t top = 0;

	for (size_t i = 0; i < c->count; i++) {
		const struct pending *p = &c->pool[(c->head + i) % c->cfg.mempool_max];

		if (memcmp(p->sender, sender, FWC_PUBKEY_BIN_LEN) == 0 && p->nonce > top)
			top = p->nonce;
	}
	for (size_t i = 0; i < c->ninflight; i++)
		if (memcmp(c->inflight[i].sender, sender, FWC_PUBKEY_BIN_LEN) == 0 &&
		    c->inflight[i].nonce > top)
			top = c->inflight[i].nonce;
	return top;
}

int node_chain_submit(struct node_chain *c, uint8_t id[32], struct node_refusal *r,
                      const uint8_t *tx, size_t len)
{
	struct fwc_signed_tx stx;
	struct fwc_errinfo ei = {0};
	struct node_db_tx stored;
	struct pending p;
	size_t max = c ? (c->cfg.tx_max_bytes < FWC_TX_MAX ? c->cfg.tx_max_bytes : FWC_TX_MAX) : 0;
	uint64_t last = 0, top;
	int rc;

	if (c == NULL || id == NULL || (tx == NULL && len))
		return FWC_ERR_ARG;
	memset(&p, 0, sizeof(p));
	if (len == 0) {
		refuse(r, "malformed_tx", "empty transaction");
		return FWC_ERR_TRUNCATED;
	}
	if (len > max) {
		refuse(r, "too_large", "transaction of %zu bytes exceeds the %zu-byte limit", len,
		       max);
		return FWC_ERR_TOO_LARGE;
	}
	/* Checks in the order of docs/state-machine.md section 3: decode, chain id, signature,
	 * nonce. Role and time checks belong to the state machine at block time. */
	rc = fwc_tx_decode(&stx, tx, len, &ei);
	if (rc != FWC_OK) {
		refuse(r, "malformed_tx", "byte %zu: %s", ei.offset,
		       ei.msg[0] ? ei.msg : fwc_strerror(rc));
		return rc;
	}
	if (stx.tx.chain_id.len != strlen(c->chain_id) ||
	    memcmp(stx.tx.chain_id.p, c->chain_id, stx.tx.chain_id.len) != 0) {
		refuse(r, "chain_id_mismatch", "transaction is for chain '%.*s', this is '%s'",
		       (int)(stx.tx.chain_id.len > 64 ? 64 : stx.tx.chain_id.len),
		       stx.tx.chain_id.p, c->chain_id);
		return FWC_ERR_STATE;
	}
	rc = fwc_tx_verify(&stx, &ei);
	if (rc != FWC_OK) {
		refuse(r, "bad_signature", "the signature does not verify under the sender key");
		return FWC_ERR_BADSIG;
	}
	rc = fwc_tx_id(p.id, tx, len);
	if (rc == FWC_OK)
		rc = fwc_pubkey_to_bin(p.sender, &stx.tx.sender);
	if (rc != FWC_OK) {
		refuse(r, "internal_error", "%s", fwc_strerror(rc));
		return rc;
	}
	p.type = stx.tx.type;
	p.nonce = stx.tx.nonce;
	rc = node_db_tx_get(c->db, &stored, p.id);
	if (rc == FWC_OK) {
		refuse(r, "duplicate", "transaction already committed in block %llu",
		       (unsigned long long)stored.height);
		node_db_tx_cleanup(&stored);
		return FWC_ERR_DUPLICATE;
	}
	if (rc != FWC_ERR_NOT_FOUND) {
		refuse(r, "internal_error", "ledger read failed");
		return rc;
	}
	p.bytes = malloc(len);
	if (p.bytes == NULL) {
		refuse(r, "internal_error", "out of memory");
		return FWC_ERR_NOMEM;
	}
	memcpy(p.bytes, tx, len);
	p.len = len;

	pthread_mutex_lock(&c->mu);
	/* The committed nonce is read under mu: the producer publishes a block (and clears its
	 * in-flight batch) under mu only after the ledger has it, so between the ledger and the
	 * pending sets every accepted nonce is seen exactly once. */
	rc = node_db_nonce_get(c->db, &last, p.sender, sizeof(p.sender));
	if (rc == FWC_ERR_NOT_FOUND) {
		last = 0;
		rc = FWC_OK;
	}
	top = pending_nonce(c, p.sender);
	if (top > last)
		last = top;
	if (rc != FWC_OK) {
		refuse(r, "internal_error", "ledger read failed");
	} else if (known_pending(c, p.id)) {
		rc = FWC_ERR_DUPLICATE;
		refuse(r, "duplicate", "transaction already pending");
	} else if (p.nonce <= last) {
		rc = FWC_ERR_STATE;
		refuse(r, "nonce_replay", "nonce %llu already used; the next is %llu",
		       (unsigned long long)p.nonce, (unsigned long long)last + 1);
	} else if (p.nonce != last + 1) {
		rc = FWC_ERR_STATE;
		refuse(r, "nonce_gap", "nonce %llu skips ahead; the next is %llu",
		       (unsigned long long)p.nonce, (unsigned long long)last + 1);
	} else if (c->count == c->cfg.mempool_max) {
		rc = FWC_ERR_RANGE;
		refuse(r, "mempool_full", "%zu transactions pending; retry later", c->count);
	} else {
		c->pool[(c->head + c->count) % c->cfg.mempool_max] = p;
		p.bytes = NULL;
		c->count++;
	}
	pthread_mutex_unlock(&c->mu);
	free(p.bytes);
	if (rc == FWC_OK)
		memcpy(id, p.id, 32);
	return rc;
}

enum node_tx_where node_chain_tx_where(struct node_chain *c, const uint8_t id[32],
                                       struct node_refusal *r)
{
	enum node_tx_where w = NODE_TX_UNKNOWN;
	struct node_db_tx t;

	pthread_mutex_lock(&c->mu);
	if (known_pending(c, id)) {
		w = NODE_TX_PENDING;
	} else {
		for (size_t i = 0; i < REFUSED_RING; i++)
			if (memcmp(c->refused[i].id, id, 32) == 0 && c->refused[i].why.code[0]) {
				if (r)
					*r = c->refused[i].why;
				w = NODE_TX_REFUSED;
				break;
			}
	}
	pthread_mutex_unlock(&c->mu);
	if (w == NODE_TX_UNKNOWN && node_db_tx_get(c->db, &t, id) == FWC_OK) {
		node_db_tx_cleanup(&t);
		w = NODE_TX_COMMITTED;
	}
	return w;
}

int node_chain_head(struct node_chain *c, uint64_t *height, uint64_t *log_size,
                    size_t *mempool_depth, char **note, size_t *note_len)
{
	char *copy = NULL;
	int rc = FWC_OK;

	if (c == NULL)
		return FWC_ERR_ARG;
	pthread_mutex_lock(&c->mu);
	if (note) {
		copy = malloc(c->note_len + 1);
		if (copy == NULL) {
			rc = FWC_ERR_NOMEM;
		} else {
			memcpy(copy, c->note, c->note_len);
			copy[c->note_len] = '\0';
			*note = copy;
			if (note_len)
				*note_len = c->note_len;
		}
	}
	if (rc == FWC_OK) {
		if (height)
			*height = c->height;
		if (log_size)
			*log_size = c->log.size;
		if (mempool_depth)
			*mempool_depth = c->count + c->ninflight;
	}
	pthread_mutex_unlock(&c->mu);
	return rc;
}

/* Build, sign and durably commit one block of txs[0..n) on top of the current head (or the
 * genesis block when genesis is set). On success the head is updated. Called without mu;
 * only the producer (or the start-up code before the producer exists) calls it. */
static int make_block(struct node_chain *c, const struct pending *txs, size_t n, int genesis,
                      int64_t when, struct fwc_errinfo *ei)
{
	struct node_db_tx *rows = NULL;
	struct node_db_block row;
	struct node_block b;
	struct fwc_merkle_frontier next;
	char body[NOTE_MAX], *note = NULL;
	size_t note_len = 0;
	int rc, blen;

	memset(&b, 0, sizeof(b));
	pthread_mutex_lock(&c->mu);
	next = c->log;
	b.height = genesis ? 0 : c->height + 1;
	b.time = genesis ? when : (when > c->time ? when : c->time);
	if (!genesis)
		rc = fwc_sha256(b.prev_note_hash, c->note, c->note_len);
	else
		rc = FWC_OK;
	pthread_mutex_unlock(&c->mu);
	if (rc != FWC_OK)
		return rc;

	rows = calloc(n ? n : 1, sizeof(*rows));
	if (rows == NULL)
		return FWC_ERR_NOMEM;
	for (size_t i = 0; i < n; i++) {
		struct node_db_tx *t = &rows[i];

		/* The state machine hook: for now every transaction that passed the envelope
		 * checks at submission is applied. */
		memcpy(t->id, txs[i].id, 32);
		t->bytes = txs[i].bytes;
		t->len = txs[i].len;
		t->type = (int)txs[i].type;
		memcpy(t->sender, txs[i].sender, FWC_PUBKEY_BIN_LEN);
		t->sender_len = FWC_PUBKEY_BIN_LEN;
		t->nonce = txs[i].nonce;
		t->leaf_index = next.size;
		t->status = NODE_TX_APPLIED;
		rc = fwc_merkle_leaf_hash(t->leaf_hash, t->bytes, t->len);
		if (rc == FWC_OK)
			rc = fwc_merkle_frontier_append(&next, t->leaf_hash);
		if (rc != FWC_OK)
			goto out;
	}
	b.log_size = next.size;
	b.txs = rows;
	b.ntx = n;
	rc = fwc_merkle_frontier_root(b.root, &next);
	if (rc != FWC_OK)
		goto out;
	blen = node_checkpoint_body(body, sizeof(body), c->chain_id, b.log_size, b.root, b.height,
	                            b.time, genesis ? NULL : b.prev_note_hash);
	if (blen < 0) {
		rc = blen;
		goto out;
	}
	b.body = body;
	b.body_len = (size_t)blen;
	rc = c->cs.propose(c->cs.ctx, &note, &note_len, &b);
	if (rc != FWC_OK) {
		fwc_fail(ei, 0, rc, "consensus refused block %llu: %s",
		         (unsigned long long)b.height, fwc_strerror(rc));
		goto out;
	}
	memset(&row, 0, sizeof(row));
	row.height = b.height;
	row.time = b.time;
	row.tx_count = n;
	row.log_size = b.log_size;
	row.checkpoint = note;
	row.checkpoint_len = note_len;
	rc = node_db_block_commit(c->db, &row, rows, n, ei);
	if (rc != FWC_OK)
		goto out;
	/* Durable: publish the new head. */
	pthread_mutex_lock(&c->mu);
	c->height = b.height;
	c->time = b.time;
	c->log = next;
	free(c->note);
	c->note = note;
	c->note_len = note_len;
	note = NULL;
	clock_gettime(CLOCK_MONOTONIC, &c->last_block);
	pthread_mutex_unlock(&c->mu);
	c->cs.committed(c->cs.ctx, &b);
	{
		char r64[48];

		b64(r64, sizeof(r64), b.root, 32);
		fprintf(stderr, "fwchaind: block %llu time %lld txs %zu log %llu root %s\n",
		        (unsigned long long)b.height, (long long)b.time, n,
		        (unsigned long long)b.log_size, r64);
	}
out:
	free(note);
	free(rows);
	return rc;
}

static void *producer(void *arg)
{
	struct node_chain *c = arg;
	struct pending *batch = calloc(c->cfg.block_max_txs, sizeof(*batch));
	unsigned backoff_ms = 0;

	if (batch == NULL) {
		fprintf(stderr, "fwchaind: producer: out of memory\n");
		return NULL;
	}
	pthread_mutex_lock(&c->mu);
	while (!c->stop) {
		struct timespec until;
		struct fwc_errinfo ei = {0};
		size_t n = 0;
		unsigned wait_ms = c->cfg.block_interval_ms + backoff_ms;
		int rc;

		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += wait_ms / 1000;
		until.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		while (!c->stop && pthread_cond_timedwait(&c->cv, &c->mu, &until) != ETIMEDOUT)
			;
		if (c->stop)
			break;
		if (c->count == 0 && elapsed_s(&c->last_block) < c->cfg.checkpoint_interval_s)
			continue;
		while (n < c->cfg.block_max_txs && c->count) {
			batch[n++] = c->pool[c->head];
			c->head = (c->head + 1) % c->cfg.mempool_max;
			c->count--;
		}
		c->inflight = batch;
		c->ninflight = n;
		pthread_mutex_unlock(&c->mu);

		rc = make_block(c, batch, n, 0, (int64_t)time(NULL), &ei);

		pthread_mutex_lock(&c->mu);
		c->inflight = NULL;
		c->ninflight = 0;
		if (rc == FWC_OK) {
			for (size_t i = 0; i < n; i++)
				free(batch[i].bytes);
			backoff_ms = 0;
		} else {
			/* Back to the front, in order; the ring has room since we took them out
			 * (submissions meanwhile can only have filled what was free before). */
			size_t room = c->cfg.mempool_max - c->count;

			fprintf(stderr, "fwchaind: block not made, will retry: %s\n",
			        ei.msg[0] ? ei.msg : fwc_strerror(rc));
			for (size_t i = n; i-- > 0;) {
				if (room == 0) {
					free(batch[i].bytes); /* cannot happen; never leak */
					continue;
				}
				c->head = (c->head + c->cfg.mempool_max - 1) % c->cfg.mempool_max;
				c->pool[c->head] = batch[i];
				c->count++;
				room--;
			}
			backoff_ms = backoff_ms ? (backoff_ms < 5000 ? backoff_ms * 2 : 5000) : 100;
		}
	}
	pthread_mutex_unlock(&c->mu);
	free(batch);
	return NULL;
}

/* Rebuild the frontier from the stored leaves and check it against the head's checkpoint. */
static int restore(struct node_chain *c, const struct node_db_block *head, struct fwc_errinfo *ei)
{
	struct fwc_merkle_source src;
	uint8_t root[32];
	char body[NOTE_MAX];
	int rc, blen;
	const char *nl1, *nl2, *nl3;

	node_db_merkle_source(c->db, &src);
	rc = fwc_merkle_frontier_restore(&c->log, &src, head->log_size);
	if (rc == FWC_OK)
		rc = fwc_merkle_frontier_root(root, &c->log);
	if (rc != FWC_OK)
		return fwc_fail(ei, 0, rc, "ledger: cannot rebuild the log from its leaves: %s",
		                fwc_strerror(rc));
	/* The checkpoint's first three lines (origin, size, root) must match what the leaves
	 * give; anything else is a damaged ledger, and the node must not extend it. */
	blen = node_checkpoint_body(body, sizeof(body), c->chain_id, c->log.size, root, 0, 0, NULL);
	nl1 = blen > 0 ? strchr(body, '\n') : NULL;
	nl2 = nl1 ? strchr(nl1 + 1, '\n') : NULL;
	nl3 = nl2 ? strchr(nl2 + 1, '\n') : NULL;
	if (nl3 == NULL || head->checkpoint_len < (size_t)(nl3 - body + 1) ||
	    memcmp(head->checkpoint, body, (size_t)(nl3 - body + 1)) != 0)
		return fwc_fail(ei, 0, FWC_ERR_STATE,
		                "ledger damaged: the %llu stored leaves do not give the root of the"
		                " checkpoint of block %llu",
		                (unsigned long long)c->log.size, (unsigned long long)head->height);
	return FWC_OK;
}

int node_chain_start(struct node_chain **out, const struct node_chain_config *cfg,
                     struct node_db *db, const struct node_consensus *cs, const char *chain_id,
                     int64_t genesis_time, struct fwc_errinfo *ei)
{
	struct node_chain *c;
	struct node_db_block head = {0};
	pthread_condattr_t ca;
	int rc;

	if (out == NULL || cfg == NULL || db == NULL || cs == NULL || cs->propose == NULL ||
	    cs->committed == NULL || chain_id == NULL || strlen(chain_id) >= 128 ||
	    cfg->mempool_max == 0 || cfg->block_max_txs == 0 || cfg->block_interval_ms == 0 ||
	    cfg->tx_max_bytes == 0 || cfg->tx_max_bytes > NODE_TX_MAX_BYTES)
		return FWC_ERR_ARG;
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return FWC_ERR_NOMEM;
	c->cfg = *cfg;
	c->db = db;
	c->cs = *cs;
	snprintf(c->chain_id, sizeof(c->chain_id), "%s", chain_id);
	c->pool = calloc(cfg->mempool_max, sizeof(*c->pool));
	c->refused = calloc(REFUSED_RING, sizeof(*c->refused));
	if (c->pool == NULL || c->refused == NULL) {
		free(c->pool);
		free(c->refused);
		free(c);
		return FWC_ERR_NOMEM;
	}
	pthread_mutex_init(&c->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_cond_init(&c->cv, &ca);
	pthread_condattr_destroy(&ca);
	clock_gettime(CLOCK_MONOTONIC, &c->last_block);
	fwc_merkle_frontier_init(&c->log);

	rc = node_db_head(db, &head);
	if (rc == FWC_ERR_NOT_FOUND) {
		rc = make_block(c, NULL, 0, 1, genesis_time, ei);
	} else if (rc == FWC_OK) {
		rc = restore(c, &head, ei);
		if (rc == FWC_OK) {
			c->height = head.height;
			c->time = head.time;
			c->note = head.checkpoint;
			c->note_len = head.checkpoint_len;
			head.checkpoint = NULL;
		}
	} else {
		fwc_fail(ei, 0, rc, "ledger: cannot read the newest block");
	}
	node_db_block_cleanup(&head);
	if (rc == FWC_OK && pthread_create(&c->thread, NULL, producer, c) != 0) {
		rc = fwc_fail(ei, 0, FWC_ERR_NOMEM, "cannot start the block producer thread");
	}
	if (rc != FWC_OK) {
		pthread_mutex_destroy(&c->mu);
		pthread_cond_destroy(&c->cv);
		free(c->note);
		free(c->pool);
		free(c->refused);
		free(c);
		return rc;
	}
	*out = c;
	return FWC_OK;
}

void node_chain_stop(struct node_chain *c)
{
	if (c == NULL)
		return;
	pthread_mutex_lock(&c->mu);
	c->stop = 1;
	pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->mu);
	pthread_join(c->thread, NULL);
	for (size_t i = 0; i < c->count; i++)
		free(c->pool[(c->head + i) % c->cfg.mempool_max].bytes);
	pthread_mutex_destroy(&c->mu);
	pthread_cond_destroy(&c->cv);
	free(c->note);
	free(c->pool);
	free(c->refused);
	free(c);
}
