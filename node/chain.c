/* fwchaind chain: mempool, block producer thread, the state machine, the live log,
 * checkpoints, dev consensus.
 *
 * Main design choice: one producer thread owns the log and the writer connection. Submissions
 * only append to the mempool under a mutex; when the block interval has passed or a full batch
 * waits, the producer moves a batch out (kept visible as "in flight" so duplicates and status
 * queries still see it) and builds the block without holding the lock, inside ONE SQLite
 * transaction: each transaction is applied to the state machine (node_state_apply), the
 * applied and failed ones become leaves, the root and checkpoint body are computed, the
 * consensus engine signs, the signed note is checked against the genesis validator set and
 * quorum, the block is written and committed (synced). Only after the commit returned does the
 * producer publish the new head and the transactions' fates. A block whose signature, quorum
 * or commit fails is rolled back whole (state included) and its transactions go back to the
 * front of the mempool, so the in-memory head never runs ahead of the disk.
 *
 * The state machine's two refusal kinds (docs/state-machine.md §5): a rejected transaction is
 * left out (no trace; its id and reason stay in an in-memory ring of NODE_REFUSED_KEEP entries
 * for GET /v1/txs/{id}); a failed one is logged with status failed and its code. A transaction
 * whose nonce is ahead of the sender's next (because an earlier one of the same sender was
 * rejected, or is not yet there) is not applied: it returns to the mempool and waits at most
 * NODE_DEFER_MAX_S for the gap to fill, so a sender can resubmit a corrected transaction with
 * the rejected nonce and keep the later ones.
 *
 * Submission checks the envelope (tx.h: canonical decode, chain id, signature), the sender and
 * its role against the committed state (a fast 403; skipped while a pending transaction could
 * change memberships, since the state machine decides at apply time anyway), and the nonce:
 * above the committed one, not already pending, and at most one past the highest pending. */
#include "chain.h"
#include "txindex.h"

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
	double deferred_since;    /* monotonic seconds of the first deferral; 0 when never */
	struct fwc_signed_tx stx; /* the submission's decode, its pointers into bytes */
};

/* Point a decode of src[0..len) at the copy dst instead. */
static void stx_rebase(struct fwc_signed_tx *stx, const uint8_t *src, const uint8_t *dst)
{
	stx->body = dst + (stx->body - src);
	stx->sig = dst + (stx->sig - src);
	stx->tx.chain_id.p = (const char *)dst + (stx->tx.chain_id.p - (const char *)src);
	stx->tx.payload.p = stx->tx.payload.p ? dst + (stx->tx.payload.p - src) : NULL;
}

struct refused {
	uint8_t id[32];
	struct node_refusal why; /* kind REJECT, or FAIL for a failed transaction's message */
};

/* What became of one transaction of a batch. */
enum outcome {
	OUT_TODO = 0,
	OUT_APPLIED,
	OUT_FAILED,
	OUT_REJECTED,
	OUT_DEFER, /* back to the mempool: its nonce is ahead of the sender's next */
	OUT_RETRY, /* back to the mempool: the block was not made */
};

struct node_chain {
	struct node_chain_config cfg;
	struct node_db *db;
	struct node_consensus cs;
	char chain_id[128];
	struct fwc_note_vkey vkeys[NODE_GENESIS_VALIDATORS_MAX];
	size_t nvkeys;
	size_t quorum;

	pthread_mutex_t mu;
	pthread_cond_t cv;
	pthread_t thread;
	int stop;

	/* Mempool: a FIFO in a ring of cfg.mempool_max slots, and the index of everything
	 * pending (queued or in flight) that submissions check. */
	struct pending *pool;
	size_t head, count;
	struct node_txindex *ix;
	/* The batch the producer is working on (visible to duplicate checks and queries). */
	struct pending *inflight;
	size_t ninflight;

	struct refused *refused;
	size_t refused_next;

	node_chain_commit_fn *hook;
	void *hook_ctx;

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
	cfg->block_max_txs = 2000;
	cfg->tx_max_bytes = NODE_TX_MAX_BYTES;
}

static double now_s(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)now.tv_sec + now.tv_nsec / 1e9;
}

static double elapsed_s(const struct timespec *since)
{
	return now_s() - ((double)since->tv_sec + since->tv_nsec / 1e9);
}

static void refuse(struct node_refusal *r, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void refuse(struct node_refusal *r, const char *code, const char *fmt, ...)
{
	va_list ap;

	if (r == NULL)
		return;
	r->kind = NODE_REFUSAL_REJECT;
	snprintf(r->code, sizeof(r->code), "%s", code);
	va_start(ap, fmt);
	vsnprintf(r->msg, sizeof(r->msg), fmt, ap);
	va_end(ap);
}

/* Types whose application can make a sender known or unknown, or change its roles. */
static int changes_membership(uint32_t type)
{
	return type == FWC_TX_ORG_REGISTER || type == FWC_TX_MEMBER_ADD ||
	       type == FWC_TX_MEMBER_REMOVE || type == FWC_TX_KEY_REVOKE ||
	       type == FWC_TX_DEVICE_REGISTER;
}

/* What the mempool (pool and in-flight batch) holds that matters to one submission. */
struct scan {
	int dup;         /* the id is pending */
	int nonce_taken; /* the sender has this nonce pending */
	uint64_t top;    /* the sender's highest pending nonce (0: none) */
	int membership;  /* a pending transaction may change memberships */
};

/* Caller holds mu. Index lookups, not a walk of the mempool. */
static void scan_pending(struct node_chain *c, struct scan *sc, const struct pending *q)
{
	memset(sc, 0, sizeof(*sc));
	sc->dup = node_txindex_has_id(c->ix, q->id);
	sc->nonce_taken = node_txindex_has_nonce(c->ix, q->sender, q->nonce);
	node_txindex_sender(c->ix, q->sender, NULL, &sc->top);
	sc->membership = node_txindex_membership(c->ix) > 0;
}

/* Is id pending or in flight? Caller holds mu. */
static int known_pending(struct node_chain *c, const uint8_t id[32])
{
	return node_txindex_has_id(c->ix, id);
}

/* p leaves the mempool for good (committed, rejected, expired). Caller holds mu. */
static void unindex(struct node_chain *c, const struct pending *p)
{
	node_txindex_remove(c->ix, p->id, p->sender, p->nonce, changes_membership(p->type));
}

int node_chain_account(struct node_chain *c, const struct fwc_pubkey *sender,
                       uint64_t *last_committed, uint64_t *top_pending, size_t *npending)
{
	struct node_db_reader *rd;
	uint8_t bin[FWC_PUBKEY_BIN_LEN];
	uint64_t last = 0, top = 0;
	size_t n = 0;
	int rc;

	if (fwc_pubkey_to_bin(bin, sender) < 0)
		return FWC_ERR_ARG;
	/* Under mu, as in node_chain_submit: a block's nonces leave the in-flight batch only
	 * once the ledger has them, so each nonce is counted exactly once. */
	pthread_mutex_lock(&c->mu);
	rc = node_db_reader_get(c->db, &rd);
	if (rc == FWC_OK) {
		rc = node_state_nonce(node_db_reader_state(rd), sender, &last);
		node_db_reader_put(rd);
	}
	if (rc == FWC_OK)
		node_txindex_sender(c->ix, bin, &n, &top);
	pthread_mutex_unlock(&c->mu);
	if (rc != FWC_OK)
		return FWC_ERR_IO;
	if (last_committed)
		*last_committed = last;
	if (top_pending)
		*top_pending = top;
	if (npending)
		*npending = n;
	return FWC_OK;
}

/* Role bits as text into buf, for messages. */
static const char *role_names(char *buf, size_t cap, uint32_t roles)
{
	static const char *const names[] = {"admin", "release", "operator", "gateway", "auditor"};
	size_t n = 0;

	buf[0] = '\0';
	for (unsigned i = 0; i < 5; i++)
		if ((roles & (1u << i)) && n < cap)
			n += (size_t)snprintf(buf + n, cap - n, "%s%s", n ? " or " : "", names[i]);
	return n ? buf : "no role";
}

/* The sender's standing in the committed state: FWC_OK, or a refusal. */
static int sender_precheck(struct node_state *rs, const struct fwc_pubkey *sender, uint32_t type,
                           struct node_refusal *r)
{
	char org[NODE_STATE_ID_BUF];
	uint32_t roles = 0, need = node_state_type_roles(type);
	int rc = node_state_member(rs, sender, org, &roles);

	if (rc == FWC_ERR_NOT_FOUND) {
		if (type == FWC_TX_DEVICE_EVENT) {
			/* A device relaying its own event: it must be an active registered device.
			 */
			int drc = node_state_device_active(rs, sender);

			if (drc == 1)
				return FWC_OK;
			if (drc < 0)
				goto io;
		}
		refuse(r, "unknown_sender",
		       "the sender key is not a member of any organisation%s (or it was revoked)",
		       type == FWC_TX_DEVICE_EVENT ? " nor an active device" : "");
		return FWC_ERR_PERMISSIONS;
	}
	if (rc != FWC_OK)
		goto io;
	if ((roles & need) == 0) {
		char want[64], have[64];

		refuse(r, "role_required",
		       "%s needs role %s; the sender (organisation '%s') has %s",
		       fwc_tx_type_name((int)type), role_names(want, sizeof(want), need), org,
		       role_names(have, sizeof(have), roles));
		return FWC_ERR_PERMISSIONS;
	}
	return FWC_OK;
io:
	refuse(r, "internal_error", "ledger read failed");
	return FWC_ERR_IO;
}

/* One submission in progress. */
struct sub {
	struct pending p;
	struct node_refusal pre; /* the sender precheck's refusal */
	int prerc;
};

/* The checks that need no ledger: size, decode, chain id, signature; then the id and the
 * sender's binary form. FWC_OK or a refusal in *r. */
static int submit_decode(struct node_chain *c, struct sub *u, struct node_refusal *r,
                         const uint8_t *tx, size_t len)
{
	struct fwc_errinfo ei = {0};
	struct fwc_signed_tx *stx = &u->p.stx;
	size_t max = c->cfg.tx_max_bytes < FWC_TX_MAX ? c->cfg.tx_max_bytes : FWC_TX_MAX;
	int rc;

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
	 * sender, nonce. Time window and per-type rules belong to the state machine. */
	rc = fwc_tx_decode(stx, tx, len, &ei);
	if (rc != FWC_OK) {
		refuse(r, "malformed_tx", "byte %zu: %s", ei.offset,
		       ei.msg[0] ? ei.msg : fwc_strerror(rc));
		return rc;
	}
	if (stx->tx.chain_id.len != strlen(c->chain_id) ||
	    memcmp(stx->tx.chain_id.p, c->chain_id, stx->tx.chain_id.len) != 0) {
		refuse(r, "chain_id_mismatch", "transaction is for chain '%.*s', this is '%s'",
		       (int)(stx->tx.chain_id.len > 64 ? 64 : stx->tx.chain_id.len),
		       stx->tx.chain_id.p, c->chain_id);
		return FWC_ERR_STATE;
	}
	rc = fwc_tx_verify(stx, &ei);
	if (rc != FWC_OK) {
		refuse(r, "bad_signature", "the signature does not verify under the sender key");
		return FWC_ERR_BADSIG;
	}
	rc = fwc_tx_id(u->p.id, tx, len);
	if (rc == FWC_OK)
		rc = fwc_pubkey_to_bin(u->p.sender, &stx->tx.sender);
	if (rc != FWC_OK) {
		refuse(r, "internal_error", "%s", fwc_strerror(rc));
		return rc;
	}
	u->p.type = stx->tx.type;
	u->p.nonce = stx->tx.nonce;
	return FWC_OK;
}

/* Against the committed ledger, through rd (in one read transaction for a whole batch): the
 * sender's standing (its verdict, in u->prerc and u->pre, is used under mu only when no
 * pending transaction could change it). Whether the very transaction is already committed is
 * asked only when its nonce is used (submit_queue): a committed transaction's nonce always
 * is, so the common case pays no lookup by id. */
static int submit_ledger(struct node_db_reader *rd, struct sub *u, struct node_refusal *r)
{
	u->prerc =
	    sender_precheck(node_db_reader_state(rd), &u->p.stx.tx.sender, u->p.type, &u->pre);
	if (u->prerc == FWC_ERR_IO) {
		*r = u->pre;
		return u->prerc;
	}
	return FWC_OK;
}

/* For a transaction whose nonce is used: FWC_ERR_DUPLICATE (r says so) when it is itself in
 * the ledger, FWC_ERR_NOT_FOUND when not, or the read's error. */
static int committed_dup(struct node_db_reader *rd, const struct pending *p, struct node_refusal *r)
{
	uint64_t height = 0;
	int rc = node_db_reader_tx_height(rd, &height, p->id);

	if (rc == FWC_OK) {
		refuse(r, "duplicate", "transaction already committed in block %llu",
		       (unsigned long long)height);
		return FWC_ERR_DUPLICATE;
	}
	if (rc != FWC_ERR_NOT_FOUND)
		refuse(r, "internal_error", "ledger read failed");
	return rc;
}

/* The nonce checks and the queueing. Caller holds mu, and rd reads the ledger as of a moment
 * under mu: the producer publishes a block (and clears its in-flight batch) under mu only
 * after the ledger has it, so between the ledger and the pending sets every accepted nonce is
 * seen (a block being published may be seen in both, which only makes the checks stricter
 * for that instant). On success the pending transaction (bytes included) moves into the
 * mempool. */
static int submit_queue(struct node_chain *c, struct node_db_reader *rd, struct sub *u,
                        struct node_refusal *r)
{
	struct pending *p = &u->p;
	struct scan sc;
	uint64_t last = 0;
	int rc = node_state_nonce(node_db_reader_state(rd), &p->stx.tx.sender, &last);

	scan_pending(c, &sc, p);
	if (rc != FWC_OK) {
		refuse(r, "internal_error", "ledger read failed");
	} else if (sc.dup) {
		rc = FWC_ERR_DUPLICATE;
		refuse(r, "duplicate", "transaction already pending");
	} else if (p->nonce <= last && (rc = committed_dup(rd, p, r)) != FWC_ERR_NOT_FOUND) {
		/* rc and r say it */
	} else if (u->prerc != FWC_OK && !sc.membership) {
		rc = u->prerc;
		*r = u->pre;
	} else if (p->nonce <= last) {
		rc = FWC_ERR_STATE;
		refuse(r, "nonce_replay", "nonce %llu already used; the next is %llu",
		       (unsigned long long)p->nonce,
		       (unsigned long long)(sc.top > last ? sc.top : last) + 1);
	} else if (sc.nonce_taken) {
		rc = FWC_ERR_STATE;
		refuse(r, "nonce_replay", "nonce %llu is already pending; the next is %llu",
		       (unsigned long long)p->nonce, (unsigned long long)sc.top + 1);
	} else if (p->nonce > (sc.top > last ? sc.top : last) + 1) {
		rc = FWC_ERR_STATE;
		refuse(r, "nonce_gap", "nonce %llu skips ahead; the next is %llu",
		       (unsigned long long)p->nonce,
		       (unsigned long long)(sc.top > last ? sc.top : last) + 1);
	} else if (c->count == c->cfg.mempool_max ||
	           (rc = node_txindex_add(c->ix, p->id, p->sender, p->nonce,
	                                  changes_membership(p->type))) == FWC_ERR_RANGE) {
		rc = FWC_ERR_RANGE;
		refuse(r, "mempool_full", "%zu transactions pending; retry later", c->count);
	} else if (rc != FWC_OK) {
		refuse(r, "duplicate", "transaction already pending");
	} else {
		c->pool[(c->head + c->count) % c->cfg.mempool_max] = *p;
		p->bytes = NULL;
		c->count++;
	}
	return rc;
}

/* A reader in a read transaction for a submission's ledger checks; on failure, the error
 * (which each entry still open then gets through entry_open). */
static int checks_begin(struct node_chain *c, struct node_db_reader **rd)
{
	int rc = node_db_reader_get(c->db, rd);

	if (rc == FWC_OK && node_db_reader_begin(*rd) != FWC_OK) {
		node_db_reader_put(*rd);
		rc = FWC_ERR_IO;
	}
	return rc;
}

static void checks_end(struct node_db_reader *rd)
{
	node_db_reader_end(rd);
	node_db_reader_put(rd);
}

/* 1 when entry s goes on to the next check: not refused yet, and the ledger readable (rc,
 * checks_begin's result; otherwise s is refused with it). */
static int entry_open(struct node_submit *s, int rc)
{
	if (s->rc != FWC_OK)
		return 0;
	if (rc != FWC_OK) {
		refuse(&s->r, "internal_error", "ledger read failed");
		s->rc = rc;
		return 0;
	}
	return 1;
}

int node_chain_submit_many(struct node_chain *c, struct node_submit *s, size_t n)
{
	struct node_db_reader *rd = NULL;
	struct sub *u;
	size_t queued = 0;
	int rc;

	if (c == NULL || (s == NULL && n != 0))
		return FWC_ERR_ARG;
	for (size_t i = 0; i < n; i++)
		if (s[i].tx == NULL && s[i].len)
			return FWC_ERR_ARG;
	if (n == 0)
		return FWC_OK;
	u = calloc(n, sizeof(*u));
	if (u == NULL)
		return FWC_ERR_NOMEM;
	for (size_t i = 0; i < n; i++) {
		memset(&s[i].r, 0, sizeof(s[i].r));
		s[i].rc = submit_decode(c, &u[i], &s[i].r, s[i].tx, s[i].len);
	}
	/* The ledger checks of a batch in one read transaction (a snapshot is one lock round
	 * instead of one per query), before mu; a single transaction's run under mu in the
	 * nonce read's transaction below, one snapshot in all. */
	if (n > 1) {
		rc = checks_begin(c, &rd);
		for (size_t i = 0; i < n; i++)
			if (entry_open(&s[i], rc))
				s[i].rc = submit_ledger(rd, &u[i], &s[i].r);
		if (rc == FWC_OK)
			checks_end(rd);
	}
	for (size_t i = 0; i < n; i++) {
		if (s[i].rc != FWC_OK)
			continue;
		u[i].p.bytes = malloc(s[i].len);
		if (u[i].p.bytes == NULL) {
			refuse(&s[i].r, "internal_error", "out of memory");
			s[i].rc = FWC_ERR_NOMEM;
			continue;
		}
		memcpy(u[i].p.bytes, s[i].tx, s[i].len);
		u[i].p.len = s[i].len;
		stx_rebase(&u[i].p.stx, s[i].tx, u[i].p.bytes);
	}

	/* One nonce read per entry under mu, in one read transaction. */
	pthread_mutex_lock(&c->mu);
	rc = checks_begin(c, &rd);
	for (size_t i = 0; i < n; i++) {
		if (!entry_open(&s[i], rc))
			continue;
		if (n == 1 && (s[i].rc = submit_ledger(rd, &u[i], &s[i].r)) != FWC_OK)
			continue;
		s[i].rc = submit_queue(c, rd, &u[i], &s[i].r);
		if (s[i].rc == FWC_OK) {
			memcpy(s[i].id, u[i].p.id, 32);
			queued++;
		}
	}
	if (rc == FWC_OK)
		checks_end(rd);
	/* A full batch need not wait for the interval. */
	if (queued && c->count >= c->cfg.block_max_txs)
		pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->mu);
	for (size_t i = 0; i < n; i++)
		free(u[i].p.bytes); /* NULL for the queued ones */
	free(u);
	return FWC_OK;
}

int node_chain_submit(struct node_chain *c, uint8_t id[32], struct node_refusal *r,
                      const uint8_t *tx, size_t len)
{
	struct node_submit one;
	int rc;

	if (c == NULL || id == NULL || (tx == NULL && len))
		return FWC_ERR_ARG;
	memset(&one, 0, sizeof(one));
	one.tx = tx;
	one.len = len;
	rc = node_chain_submit_many(c, &one, 1);
	if (rc != FWC_OK) {
		refuse(r, "internal_error", "%s", fwc_strerror(rc));
		return rc;
	}
	if (one.rc == FWC_OK)
		memcpy(id, one.id, 32);
	else if (r)
		*r = one.r;
	return one.rc;
}

enum node_tx_where node_chain_tx_where(struct node_chain *c, const uint8_t id[32],
                                       struct node_refusal *r)
{
	struct node_refusal found;
	struct node_db_tx t;
	int pending = 0, rc;

	memset(&found, 0, sizeof(found));
	pthread_mutex_lock(&c->mu);
	if (known_pending(c, id)) {
		pending = 1;
	} else {
		/* Newest first: a resubmission that was rejected again shows its latest reason. */
		for (size_t k = 0; k < NODE_REFUSED_KEEP; k++) {
			size_t i =
			    (c->refused_next + NODE_REFUSED_KEEP - 1 - k) % NODE_REFUSED_KEEP;

			if (c->refused[i].why.code[0] && memcmp(c->refused[i].id, id, 32) == 0) {
				found = c->refused[i].why;
				break;
			}
		}
	}
	pthread_mutex_unlock(&c->mu);
	if (r)
		memset(r, 0, sizeof(*r));
	if (pending)
		return NODE_TX_PENDING;
	/* Not pending: it was committed (the ledger has it: it is written before the batch
	 * leaves the in-flight set), rejected (the ring has it), or never seen. */
	rc = node_db_tx_get(c->db, &t, id);
	if (rc == FWC_OK) {
		node_db_tx_cleanup(&t);
		if (r && found.kind == NODE_REFUSAL_FAIL)
			*r = found;
		return NODE_TX_COMMITTED;
	}
	if (found.kind == NODE_REFUSAL_REJECT) {
		if (r)
			*r = found;
		return NODE_TX_REJECTED;
	}
	return NODE_TX_UNKNOWN;
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

void node_chain_set_commit_hook(struct node_chain *c, node_chain_commit_fn *fn, void *ctx)
{
	struct node_chain_commit info;
	char *note = NULL;
	size_t note_len = 0;

	if (c == NULL)
		return;
	memset(&info, 0, sizeof(info));
	pthread_mutex_lock(&c->mu);
	c->hook = fn;
	c->hook_ctx = ctx;
	info.height = c->height;
	info.time = c->time;
	info.log_size = c->log.size;
	note = malloc(c->note_len + 1);
	if (note) {
		memcpy(note, c->note, c->note_len);
		note[c->note_len] = '\0';
		note_len = c->note_len;
	}
	pthread_mutex_unlock(&c->mu);
	if (fn && note) {
		info.note = note;
		info.note_len = note_len;
		info.applied_types = UINT32_MAX;
		fn(ctx, &info);
	}
	free(note);
}

/* ---------------------------------------------------------------- making a block */

/* A batch and what became of each of its transactions. */
struct fate {
	struct pending *batch;
	size_t n;
	unsigned char *out;       /* enum outcome */
	struct node_refusal *why; /* for OUT_FAILED and OUT_REJECTED */
	struct node_chain_tx *applied; /* copies for the commit hook (one allocation), or NULL */
};

static void settle(struct node_chain *c, struct fate *f);

/* A growable list of subtrees for one block. */
struct subtrees {
	struct node_db_subtree *v;
	size_t n, cap;
};

static int subtrees_add(struct subtrees *s, const struct node_db_subtree *t, size_t k)
{
	if (k == 0)
		return FWC_OK;
	if (s->n + k > s->cap) {
		size_t ncap = s->cap ? s->cap * 2 : 64;
		struct node_db_subtree *nv;

		while (ncap < s->n + k)
			ncap *= 2;
		nv = realloc(s->v, ncap * sizeof(*nv));
		if (nv == NULL)
			return FWC_ERR_NOMEM;
		s->v = nv;
		s->cap = ncap;
	}
	memcpy(s->v + s->n, t, k * sizeof(*t));
	s->n += k;
	return FWC_OK;
}

/* Check a signed note against the genesis validator set and quorum. */
static int check_quorum(struct node_chain *c, const char *note, size_t len, struct fwc_errinfo *ei)
{
	static __thread struct fwc_note n;
	struct fwc_errinfo nei = {0};
	int rc = fwc_note_parse(&n, note, len, &nei);

	if (rc == FWC_OK)
		rc = fwc_note_verify_quorum(NULL, NULL, &n, c->vkeys, c->nvkeys, c->quorum, &nei);
	if (rc != FWC_OK)
		return fwc_fail(ei, 0, rc,
		                "the checkpoint lacks a quorum of %zu of the %zu genesis"
		                " validators: %s",
		                c->quorum, c->nvkeys, nei.msg[0] ? nei.msg : fwc_strerror(rc));
	return FWC_OK;
}

/* Finish a block inside the open write transaction: frontier `next` and rows[0..n) are its
 * leaves, st the subtrees they complete. Computes the root and checkpoint, has it signed and
 * checked, writes the block and commits. On success the head is published; on failure the
 * write transaction is rolled back. */
static int seal_block(struct node_chain *c, struct node_block *b, struct fwc_merkle_frontier *next,
                      struct node_db_tx *rows, size_t n, const struct subtrees *st, int genesis,
                      struct fate *fate, struct fwc_errinfo *ei)
{
	struct node_db_block row;
	char body[NOTE_MAX], *note = NULL;
	size_t note_len = 0;
	int rc, blen;

	b->log_size = next->size;
	b->txs = rows;
	b->ntx = n;
	rc = fwc_merkle_frontier_root(b->root, next);
	if (rc != FWC_OK)
		goto fail;
	blen = node_checkpoint_body(body, sizeof(body), c->chain_id, b->log_size, b->root,
	                            b->height, b->time, genesis ? NULL : b->prev_note_hash);
	if (blen < 0) {
		rc = blen;
		goto fail;
	}
	b->body = body;
	b->body_len = (size_t)blen;
	rc = c->cs.propose(c->cs.ctx, &note, &note_len, b);
	if (rc != FWC_OK) {
		fwc_fail(ei, 0, rc, "consensus refused block %llu: %s",
		         (unsigned long long)b->height, fwc_strerror(rc));
		goto fail;
	}
	if ((rc = check_quorum(c, note, note_len, ei)) != FWC_OK)
		goto fail;
	memset(&row, 0, sizeof(row));
	row.height = b->height;
	row.time = b->time;
	row.tx_count = n;
	row.log_size = b->log_size;
	row.checkpoint = note;
	row.checkpoint_len = note_len;
	row.subtrees = st ? st->v : NULL;
	row.nsubtrees = st ? st->n : 0;
	rc = node_db_write_block(c->db, &row, rows, n, ei);
	if (rc != FWC_OK)
		goto fail;
	rc = node_db_write_commit(c->db, ei);
	if (rc != FWC_OK)
		goto out;
	/* Durable: publish the new head and the batch's fates together, so a client never sees
	 * the new height while its transaction still says pending. */
	pthread_mutex_lock(&c->mu);
	if (fate)
		settle(c, fate);
	c->height = b->height;
	c->time = b->time;
	c->log = *next;
	free(c->note);
	c->note = note;
	c->note_len = note_len;
	note = NULL;
	clock_gettime(CLOCK_MONOTONIC, &c->last_block);
	pthread_mutex_unlock(&c->mu);
	c->cs.committed(c->cs.ctx, b);
	{
		char r64[48];

		b64(r64, sizeof(r64), b->root, 32);
		fprintf(stderr, "fwchaind: block %llu time %lld txs %zu log %llu root %s\n",
		        (unsigned long long)b->height, (long long)b->time, n,
		        (unsigned long long)b->log_size, r64);
	}
	goto out;
fail:
	node_db_write_abort(c->db);
out:
	free(note);
	return rc;
}

/* Start a block on top of the current head: height, time, prev hash, the frontier. */
static int block_start(struct node_chain *c, struct node_block *b, struct fwc_merkle_frontier *next,
                       int genesis, int64_t when)
{
	int rc = FWC_OK;

	memset(b, 0, sizeof(*b));
	pthread_mutex_lock(&c->mu);
	*next = c->log;
	b->height = genesis ? 0 : c->height + 1;
	b->time = genesis ? when : (when > c->time ? when : c->time);
	if (!genesis)
		rc = fwc_sha256(b->prev_note_hash, c->note, c->note_len);
	pthread_mutex_unlock(&c->mu);
	return rc;
}

/* Append one logged transaction (applied or failed) to rows, the frontier and the subtrees. */
static int log_row(struct node_db_tx *t, const struct pending *p, int status, const char *code,
                   struct fwc_merkle_frontier *next, struct subtrees *st)
{
	struct node_db_subtree done[FWC_MERKLE_MAX_LEVELS];
	size_t k = 0;
	int rc;

	memset(t, 0, sizeof(*t));
	memcpy(t->id, p->id, 32);
	t->bytes = p->bytes;
	t->len = p->len;
	t->type = (int)p->type;
	memcpy(t->sender, p->sender, FWC_PUBKEY_BIN_LEN);
	t->sender_len = FWC_PUBKEY_BIN_LEN;
	t->nonce = p->nonce;
	t->leaf_index = next->size;
	t->status = status;
	snprintf(t->code, sizeof(t->code), "%s", code ? code : "");
	rc = fwc_merkle_leaf_hash(t->leaf_hash, t->bytes, t->len);
	if (rc == FWC_OK)
		rc = node_db_leaf_append(next, t->leaf_hash, done, &k);
	if (rc == FWC_OK)
		rc = subtrees_add(st, done, k);
	return rc;
}

/* f->applied: the applied transactions of f copied into one allocation (the array, then the
 * bytes), for the commit hook; info->txs points at it. Out of memory: none (info->txs NULL,
 * which the hook reads as "unknown"). */
static void copy_applied(struct fate *f, struct node_chain_commit *info)
{
	size_t total = 0, napplied = 0, k = 0;
	uint8_t *p;

	free(f->applied);
	f->applied = NULL;
	info->txs = NULL;
	info->ntxs = 0;
	for (size_t i = 0; i < f->n; i++) {
		if (f->out[i] == OUT_APPLIED) {
			total += sizeof(*f->applied) + f->batch[i].len;
			napplied++;
		}
	}
	if (total == 0 || (f->applied = malloc(total)) == NULL)
		return;
	p = (uint8_t *)(f->applied + napplied);
	for (size_t i = 0; i < f->n; i++) {
		if (f->out[i] != OUT_APPLIED)
			continue;
		memcpy(p, f->batch[i].bytes, f->batch[i].len);
		f->applied[k].bytes = p;
		f->applied[k].len = f->batch[i].len;
		f->applied[k].type = f->batch[i].type;
		p += f->batch[i].len;
		k++;
	}
	info->txs = f->applied;
	info->ntxs = k;
}

/* Build, apply, sign and durably commit one block of the batch f. f->out[i] and f->why[i] get
 * each transaction's fate; on failure every one is OUT_RETRY. On success the fates are settled
 * with the new head (seal_block); otherwise the caller settles them. FWC_ERR_NOT_FOUND (no
 * block made) when every transaction waits for its nonce and no checkpoint is due. Called
 * without mu; only the producer calls it. *info gets the counts for the commit hook. */
static int make_block(struct node_chain *c, struct fate *f, int64_t when,
                      struct node_chain_commit *info, struct fwc_errinfo *ei)
{
	struct pending *txs = f->batch;
	unsigned char *out = f->out;
	struct node_refusal *why = f->why;
	size_t n = f->n;
	struct node_db_tx *rows = NULL;
	struct subtrees st = {0};
	struct node_block b;
	struct fwc_merkle_frontier next;
	struct node_state *state = NULL;
	struct sqlite3 *h = NULL;
	size_t nrows = 0, todo = n;
	int rc, progress;

	memset(out, OUT_TODO, n);
	rc = block_start(c, &b, &next, 0, when);
	if (rc != FWC_OK)
		goto retry;
	rows = calloc(n ? n : 1, sizeof(*rows));
	if (rows == NULL) {
		rc = FWC_ERR_NOMEM;
		goto retry;
	}
	rc = node_db_write_begin(c->db, &h, &state, ei);
	if (rc != FWC_OK)
		goto retry;
	node_state_set_height(state, b.height);
	/* Apply in mempool order; a transaction whose nonce is ahead waits for a later pass of
	 * this block (its predecessor may come later in the batch) or, failing that, for a later
	 * block. Every pass applies at least one transaction or stops. */
	do {
		progress = 0;
		for (size_t i = 0; i < n; i++) {
			if (out[i] != OUT_TODO)
				continue;
			/* Every mempool transaction's envelope was decoded and verified at
			 * submission: apply reuses that decode and its id, so a transaction
			 * whose nonce is not yet next costs only the reads before the state
			 * machine's nonce check, which says nonce_gap: it waits (for a later
			 * pass of this block, its predecessor may come later in the batch, or
			 * for a later block). */
			state->envelope_verified = 1;
			state->decoded = &txs[i].stx;
			state->txid = txs[i].id;
			rc = node_state_apply(state, h, txs[i].bytes, txs[i].len, b.time, &why[i]);
			if (rc != FWC_OK && why[i].kind == NODE_REFUSAL_REJECT &&
			    strcmp(why[i].code, "nonce_gap") == 0)
				continue;
			progress = 1;
			todo--;
			if (rc == FWC_OK) {
				out[i] = OUT_APPLIED;
				info->applied++;
				if (txs[i].type < 32)
					info->applied_types |= 1u << txs[i].type;
			} else if (why[i].kind == NODE_REFUSAL_FAIL) {
				out[i] = OUT_FAILED;
				info->failed++;
			} else if (why[i].kind == NODE_REFUSAL_REJECT) {
				out[i] = OUT_REJECTED;
				continue;
			} else {
				fwc_fail(ei, 0, rc, "state machine: %s: %s", why[i].code,
				         why[i].msg);
				goto abort;
			}
			rc = log_row(&rows[nrows++], &txs[i],
			             out[i] == OUT_APPLIED ? NODE_TX_APPLIED : NODE_TX_FAILED,
			             out[i] == OUT_FAILED ? why[i].code : "", &next, &st);
			if (rc != FWC_OK)
				goto abort;
		}
	} while (progress && todo);
	{
		int rejected = 0;

		for (size_t i = 0; i < n; i++) {
			if (out[i] == OUT_TODO)
				out[i] = OUT_DEFER;
			rejected |= out[i] == OUT_REJECTED;
		}
		/* Only transactions waiting for their nonce: no block (it would be empty), unless
		 * the idle checkpoint is due. The producer then waits a whole interval. */
		if (n > 0 && nrows == 0 && !rejected &&
		    elapsed_s(&c->last_block) < c->cfg.checkpoint_interval_s) {
			node_db_write_abort(c->db);
			rc = FWC_ERR_NOT_FOUND;
			goto done;
		}
	}
	/* The hook's copy of the applied transactions, taken now: sealing frees the batch. */
	copy_applied(f, info);
	rc = seal_block(c, &b, &next, rows, nrows, &st, 0, f, ei);
	if (rc != FWC_OK)
		goto retry;
	goto done;
abort:
	node_db_write_abort(c->db);
retry:
	memset(out, OUT_RETRY, n);
	info->applied = info->failed = 0;
	info->applied_types = 0;
	info->txs = NULL;
	info->ntxs = 0;
done:
	if (rc == FWC_OK) {
		info->height = b.height;
		info->time = b.time;
		info->log_size = b.log_size;
	}
	free(st.v);
	free(rows);
	return rc;
}

/* The genesis block (height 0, no transactions) with the state's genesis, or only the state's
 * genesis on a ledger that has blocks but no state yet (with_block 0). */
static int make_genesis(struct node_chain *c, const struct node_genesis *g, int with_block,
                        struct fwc_errinfo *ei)
{
	struct node_refusal why;
	struct node_state *state = NULL;
	struct node_block b;
	struct fwc_merkle_frontier next;
	int rc;

	rc = block_start(c, &b, &next, 1, g->time);
	if (rc == FWC_OK)
		rc = node_db_write_begin(c->db, NULL, &state, ei);
	if (rc != FWC_OK)
		return rc;
	node_state_set_height(state, 0);
	rc = node_state_genesis(state, g->chain_id, g->orgs[0].id, g->orgs[0].name,
	                        &g->orgs[0].admin, g->time, &why);
	for (size_t i = 1; rc == FWC_OK && i < g->n_orgs; i++)
		rc = node_state_genesis_org(state, g->orgs[i].id, g->orgs[i].name,
		                            &g->orgs[i].admin, g->time, &why);
	if (rc != FWC_OK) {
		node_db_write_abort(c->db);
		return fwc_fail(ei, 0, rc, "genesis of the state: %s: %s", why.code, why.msg);
	}
	if (with_block)
		return seal_block(c, &b, &next, NULL, 0, NULL, 1, NULL, ei);
	return node_db_write_commit(c->db, ei);
}

/* Back to the front of the mempool, in order. Caller holds mu; the ring has room since the
 * batch was taken out of it (submissions meanwhile only filled what was free before). */
static void requeue(struct node_chain *c, struct pending *p)
{
	if (c->count == c->cfg.mempool_max) {
		unindex(c, p); /* cannot happen; never leak */
		free(p->bytes);
		return;
	}
	c->head = (c->head + c->cfg.mempool_max - 1) % c->cfg.mempool_max;
	c->pool[c->head] = *p;
	c->count++;
}

static void remember(struct node_chain *c, const uint8_t id[32], const struct node_refusal *why)
{
	struct refused *r = &c->refused[c->refused_next];

	memcpy(r->id, id, 32);
	r->why = *why;
	c->refused_next = (c->refused_next + 1) % NODE_REFUSED_KEEP;
}

/* The fates of a batch, in one critical section (mu held) with clearing the in-flight set, so
 * a status query always finds each transaction somewhere. Requeued ones go back to the front in
 * their order, hence the walk from the end. */
static void settle(struct node_chain *c, struct fate *f)
{
	double t = now_s();

	c->inflight = NULL;
	c->ninflight = 0;
	for (size_t i = f->n; i-- > 0;) {
		struct pending *p = &f->batch[i];

		switch (f->out[i]) {
		case OUT_APPLIED:
			unindex(c, p);
			free(p->bytes);
			break;
		case OUT_FAILED:
		case OUT_REJECTED:
			unindex(c, p);
			remember(c, p->id, &f->why[i]);
			free(p->bytes);
			break;
		case OUT_DEFER:
			if (p->deferred_since == 0)
				p->deferred_since = t;
			if (t - p->deferred_since > NODE_DEFER_MAX_S) {
				struct node_refusal gap;

				refuse(&gap, "nonce_gap",
				       "waited %d s for the sender's nonces before %llu",
				       NODE_DEFER_MAX_S, (unsigned long long)p->nonce);
				unindex(c, p);
				remember(c, p->id, &gap);
				free(p->bytes);
				break;
			}
			requeue(c, p);
			break;
		default:
			requeue(c, p);
		}
	}
}

static void *producer(void *arg)
{
	struct node_chain *c = arg;
	struct pending *batch = calloc(c->cfg.block_max_txs, sizeof(*batch));
	unsigned char *out = malloc(c->cfg.block_max_txs);
	struct node_refusal *why = calloc(c->cfg.block_max_txs, sizeof(*why));
	unsigned backoff_ms = 0;
	int waiting_only = 0; /* the last attempt found only waiting transactions */
	struct fate fate = {batch, 0, out, why, NULL};

	if (batch == NULL || out == NULL || why == NULL) {
		fprintf(stderr, "fwchaind: producer: out of memory\n");
		free(batch);
		free(out);
		free(why);
		return NULL;
	}
	pthread_mutex_lock(&c->mu);
	while (!c->stop) {
		struct node_chain_commit info;
		struct timespec until;
		struct fwc_errinfo ei = {0};
		node_chain_commit_fn *hook;
		void *hook_ctx;
		char *note = NULL;
		size_t n = 0;
		unsigned wait_ms = c->cfg.block_interval_ms + backoff_ms;
		int rc;

		/* A full batch does not wait for the interval. */
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_sec += wait_ms / 1000;
		until.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		while (!c->stop &&
		       (c->count < c->cfg.block_max_txs || backoff_ms || waiting_only) &&
		       pthread_cond_timedwait(&c->cv, &c->mu, &until) != ETIMEDOUT)
			;
		waiting_only = 0;
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

		memset(&info, 0, sizeof(info));
		fate.n = n;
		rc = make_block(c, &fate, (int64_t)time(NULL), &info, &ei);

		pthread_mutex_lock(&c->mu);
		if (rc != FWC_OK) /* else seal_block settled them with the new head */
			settle(c, &fate);
		if (rc == FWC_ERR_NOT_FOUND) {
			waiting_only = 1;
		} else if (rc == FWC_OK) {
			backoff_ms = 0;
			hook = c->hook;
			hook_ctx = c->hook_ctx;
			if (hook) {
				note = malloc(c->note_len + 1);
				if (note) {
					memcpy(note, c->note, c->note_len);
					note[c->note_len] = '\0';
					info.note = note;
					info.note_len = c->note_len;
				}
			}
			pthread_mutex_unlock(&c->mu);
			if (hook && note)
				hook(hook_ctx, &info);
			free(note);
			free(fate.applied);
			fate.applied = NULL;
			pthread_mutex_lock(&c->mu);
		} else {
			fprintf(stderr, "fwchaind: block not made, will retry: %s\n",
			        ei.msg[0] ? ei.msg : fwc_strerror(rc));
			backoff_ms = backoff_ms ? (backoff_ms < 5000 ? backoff_ms * 2 : 5000) : 100;
			clock_gettime(CLOCK_MONOTONIC, &c->last_block);
		}
	}
	pthread_mutex_unlock(&c->mu);
	free(fate.applied);
	free(batch);
	free(out);
	free(why);
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

/* The state's chain id, or "" when its genesis was never applied. */
static int state_chain(struct node_chain *c, char *out, size_t cap, struct fwc_errinfo *ei)
{
	struct node_state *st = NULL;
	int rc = node_db_write_begin(c->db, NULL, &st, ei);

	if (rc != FWC_OK)
		return rc;
	snprintf(out, cap, "%.*s", (int)st->chain_id_len, st->chain_id);
	node_db_write_abort(c->db);
	return FWC_OK;
}

int node_chain_start(struct node_chain **out, const struct node_chain_config *cfg,
                     struct node_db *db, const struct node_consensus *cs,
                     const struct node_genesis *g, struct fwc_errinfo *ei)
{
	struct node_chain *c;
	struct node_db_block head = {0};
	pthread_condattr_t ca;
	char sc[NODE_STATE_CHAIN_ID_MAX + 1];
	int rc;

	if (out == NULL || cfg == NULL || db == NULL || cs == NULL || cs->propose == NULL ||
	    cs->committed == NULL || g == NULL || strlen(g->chain_id) >= 128 ||
	    g->n_validators < 1 || g->n_validators > NODE_GENESIS_VALIDATORS_MAX || g->quorum < 1 ||
	    g->quorum > g->n_validators || g->n_orgs < 1 || cfg->mempool_max == 0 ||
	    cfg->block_max_txs == 0 || cfg->block_interval_ms == 0 || cfg->tx_max_bytes == 0 ||
	    cfg->tx_max_bytes > NODE_TX_MAX_BYTES)
		return FWC_ERR_ARG;
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return FWC_ERR_NOMEM;
	c->cfg = *cfg;
	c->db = db;
	c->cs = *cs;
	snprintf(c->chain_id, sizeof(c->chain_id), "%s", g->chain_id);
	for (size_t i = 0; i < g->n_validators; i++) {
		rc = fwc_note_vkey_init(&c->vkeys[i], g->validators[i].name,
		                        strlen(g->validators[i].name), FWC_NOTE_SIG_COSIG_V1,
		                        &g->validators[i].key);
		if (rc != FWC_OK) {
			free(c);
			return fwc_fail(ei, 0, rc, "genesis validator %zu: bad name or key", i);
		}
	}
	c->nvkeys = g->n_validators;
	c->quorum = g->quorum;
	c->pool = calloc(cfg->mempool_max, sizeof(*c->pool));
	c->refused = calloc(NODE_REFUSED_KEEP, sizeof(*c->refused));
	if (c->pool == NULL || c->refused == NULL ||
	    node_txindex_new(&c->ix, cfg->mempool_max + cfg->block_max_txs) != FWC_OK) {
		node_txindex_free(c->ix);
		free(c->pool);
		free(c->refused);
		free(c);
		return FWC_ERR_NOMEM;
	}
	pthread_mutex_init(&c->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&c->cv, &ca);
	pthread_condattr_destroy(&ca);
	clock_gettime(CLOCK_MONOTONIC, &c->last_block);
	fwc_merkle_frontier_init(&c->log);

	rc = state_chain(c, sc, sizeof(sc), ei);
	if (rc == FWC_OK && sc[0] && strcmp(sc, g->chain_id) != 0)
		rc = fwc_fail(ei, 0, FWC_ERR_STATE,
		              "the ledger's state belongs to chain '%s', not to the genesis' '%s'",
		              sc, g->chain_id);
	if (rc == FWC_OK)
		rc = node_db_head(db, &head);
	if (rc == FWC_ERR_NOT_FOUND) {
		rc = make_genesis(c, g, 1, ei);
	} else if (rc == FWC_OK) {
		rc = restore(c, &head, ei);
		if (rc == FWC_OK) {
			c->height = head.height;
			c->time = head.time;
			c->note = head.checkpoint;
			c->note_len = head.checkpoint_len;
			head.checkpoint = NULL;
		}
		if (rc == FWC_OK && sc[0] == '\0') {
			/* A ledger of schema 1: its transactions were logged without a state
			 * machine; the state starts from the genesis now. */
			rc = make_genesis(c, g, 0, ei);
			if (rc == FWC_OK)
				fprintf(stderr,
				        "fwchaind: state initialised from the genesis; the %llu"
				        " transactions logged before were not applied to it\n",
				        (unsigned long long)c->log.size);
		}
	} else if (ei == NULL || ei->msg[0] == '\0') {
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
		node_txindex_free(c->ix);
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
	node_txindex_free(c->ix);
	free(c->pool);
	free(c->refused);
	free(c);
}
