/* fwchaind — the chain: mempool, block producer, the state machine, the live RFC 6962 log and
 * checkpoints, behind a consensus interface so that BFT can replace the single-validator engine
 * later.
 *
 * Life of a transaction: node_chain_submit() checks it (size, envelope, chain id, signature,
 * sender and role against the committed state, nonce against the committed state and the
 * mempool) and queues it; the producer thread, every block interval or as soon as a full batch
 * waits, takes a batch and, inside the block's single SQLite transaction, applies each one to the
 * state machine (node/state.c): applied and failed transactions go into the log, rejected ones
 * are dropped (their status says why for a while), and those whose nonce is not yet next wait
 * in the mempool. It then builds the checkpoint, has the consensus engine sign it, checks it
 * against the genesis validator set and quorum, and commits (synced). Only then does a
 * transaction count as committed. When no transaction arrives, a block with none is still made
 * every checkpoint interval so the checkpoint stays fresh. */
#ifndef FWC_NODE_CHAIN_H
#define FWC_NODE_CHAIN_H

#include <stddef.h>
#include <stdint.h>

#include "fwchain/err.h"
#include "fwchain/key.h"

#include "db.h"
#include "genesis.h"
#include "state.h"

#define NODE_TX_MAX_BYTES (64u * 1024u) /* largest transaction the mempool takes */
/* A transaction whose nonce is not yet the sender's next waits in the mempool at most this
 * long for the ones before it; then it is rejected (nonce_gap). */
#define NODE_DEFER_MAX_S 30
/* Rejections (and failure messages) kept for GET /v1/txs/{id}, newest replacing oldest. */
#define NODE_REFUSED_KEEP 4096

struct node_chain_config {
	unsigned block_interval_ms;     /* how often pending transactions become a block */
	unsigned checkpoint_interval_s; /* an idle chain still makes a block this often */
	size_t mempool_max;             /* pending transactions held at most */
	size_t block_max_txs;           /* transactions per block at most */
	size_t tx_max_bytes;            /* <= NODE_TX_MAX_BYTES */
};

/* Defaults: 500 ms blocks, 60 s idle checkpoints, 10000 pending, 2000 per block, 64 KiB. A
 * block is made when the interval has passed or as soon as block_max_txs are pending. */
void node_chain_config_default(struct node_chain_config *cfg);

/* A block as the producer builds it; valid for the duration of a consensus callback. */
struct node_block {
	uint64_t height;
	int64_t time;
	uint64_t log_size;            /* tree size after the block */
	uint8_t root[32];             /* tree root after the block */
	uint8_t prev_note_hash[32];   /* SHA-256 of the previous block's checkpoint note */
	const struct node_db_tx *txs; /* accepted transactions, in log order */
	size_t ntx;
	const char *body; /* checkpoint note body (text before the signatures) */
	size_t body_len;
};

/* The consensus engine. The producer calls propose() for every block it builds; the engine
 * returns the signed checkpoint note (body plus the cosignatures the network requires) or an
 * error to drop the block (its transactions go back to the mempool). After the block is
 * durable, committed() tells the engine. The single-validator dev engine (node_consensus_dev)
 * cosigns with the validator key and commits at once; a BFT engine gathers a quorum there. */
struct node_consensus {
	int (*propose)(void *ctx, char **note, size_t *note_len, const struct node_block *b);
	void (*committed)(void *ctx, const struct node_block *b);
	void *ctx;
};

/* The dev engine: one validator, its Ed25519 key and name; st is caller storage that must
 * outlive the chain. */
struct node_consensus_dev {
	struct fwc_seckey sk;
	char name[128];
};
void node_consensus_dev_init(struct node_consensus *cs, struct node_consensus_dev *st,
                             const struct fwc_seckey *sk, const char *name);

struct node_chain;

/* Start the chain on an open ledger: restores the log frontier from the stored leaves, makes
 * the genesis block (height 0, with the state's genesis: the organisations of g) when the
 * ledger has none, applies the state's genesis to a ledger that has blocks but no state (a
 * schema 1 ledger), and starts the producer thread. Every checkpoint the consensus engine
 * returns must carry valid cosignatures of g->quorum of g's validators, else the block is
 * dropped. db and cs must outlive the chain; g is copied. *out is set only on success. */
int node_chain_start(struct node_chain **out, const struct node_chain_config *cfg,
                     struct node_db *db, const struct node_consensus *cs,
                     const struct node_genesis *g, struct fwc_errinfo *ei);

/* Stop the producer (the block being built is finished or dropped whole) and free. */
void node_chain_stop(struct node_chain *c);

/* Check and queue a signed transaction (bytes copied). On success writes its id (SHA-256 of the
 * bytes). Refusals return a negative fwc_err and fill r (struct node_refusal of state.h; kind
 * is NODE_REFUSAL_REJECT): FWC_ERR_TOO_LARGE (too_large), FWC_ERR_MALFORMED-family
 * (malformed_tx), FWC_ERR_STATE (chain_id_mismatch, nonce_replay, nonce_gap), FWC_ERR_BADSIG
 * (bad_signature), FWC_ERR_PERMISSIONS (unknown_sender, role_required: checked against the
 * committed state, and skipped while a pending transaction may change memberships),
 * FWC_ERR_DUPLICATE (duplicate: already pending or committed), FWC_ERR_RANGE (mempool_full). */
int node_chain_submit(struct node_chain *c, uint8_t id[32], struct node_refusal *r,
                      const uint8_t *tx, size_t len);

/* One transaction of node_chain_submit_many: tx[0..len) in (copied when queued); rc, and id
 * (on success) or r (on refusal) out. */
struct node_submit {
	const uint8_t *tx;
	size_t len;
	int rc;
	uint8_t id[32];
	struct node_refusal r;
};

/* node_chain_submit for s[0..n) in order, each as if submitted alone right after the ones
 * before it (a sender's later transaction sees its earlier ones pending), but with the ledger
 * read in one read transaction for the batch and the mempool lock taken once: what
 * POST /v1/txs/batch uses. Returns FWC_OK (each entry's own outcome in s[i].rc and s[i].r)
 * or FWC_ERR_ARG / FWC_ERR_NOMEM with nothing queued. */
int node_chain_submit_many(struct node_chain *c, struct node_submit *s, size_t n);

/* What the node knows of a transaction id. */
enum node_tx_where {
	NODE_TX_UNKNOWN = 0,
	NODE_TX_PENDING = 1,   /* in the mempool */
	NODE_TX_COMMITTED = 2, /* in a durable block (applied or failed: see its row's status) */
	NODE_TX_REJECTED = 3,  /* taken from the mempool and rejected when applied (no trace) */
};

/* An applied transaction of a block, as the commit hook sees it. */
struct node_chain_tx {
	const uint8_t *bytes; /* the signed transaction (fwc_tx_decode) */
	size_t len;
	uint32_t type; /* enum fwc_tx_type */
};

/* What the producer tells a commit hook after each durable block. Pointers are valid during
 * the call only. */
struct node_chain_commit {
	uint64_t height;
	int64_t time;
	uint64_t log_size;
	const char *note; /* the block's signed checkpoint */
	size_t note_len;
	size_t applied, failed;
	uint32_t applied_types; /* bit (1 << type) for each type of an applied transaction */
	/* The applied transactions (ntxs == applied; in mempool order, which differs from log
	 * order when a sender's transactions arrived out of nonce order), or NULL and 0 when they
	 * are not known (the call node_chain_set_commit_hook makes, or no memory for the copy): a
	 * hook must then assume any applied_types transaction touched anything. */
	const struct node_chain_tx *txs;
	size_t ntxs;
};

typedef void node_chain_commit_fn(void *ctx, const struct node_chain_commit *info);

/* Call fn(ctx, ...) after every durable block, from the producer thread, and once now with
 * the current head (applied 0, applied_types all ones). One hook; NULL removes it. */
void node_chain_set_commit_hook(struct node_chain *c, node_chain_commit_fn *fn, void *ctx);

/* Head of the chain (as committed). Any output may be NULL. The note is a malloc'd copy. */
int node_chain_head(struct node_chain *c, uint64_t *height, uint64_t *log_size,
                    size_t *mempool_depth, char **note, size_t *note_len);

/* A sender's nonces, read together under the chain's lock so no block lands in between:
 * *last_committed the last nonce the ledger accepted (0: none), *top_pending the highest
 * nonce it has in the mempool or the block being made (0: none), *npending how many. Any
 * output may be NULL. FWC_OK or FWC_ERR_IO (ledger read failed). */
int node_chain_account(struct node_chain *c, const struct fwc_pubkey *sender,
                       uint64_t *last_committed, uint64_t *top_pending, size_t *npending);

/* Where id is. r (optional) gets the refusal of a rejected transaction, or the message of a
 * failed one while it is remembered (r->code is "" otherwise). */
enum node_tx_where node_chain_tx_where(struct node_chain *c, const uint8_t id[32],
                                       struct node_refusal *r);

/* Build the checkpoint note body for a block (exposed for tests and docs/node.md's example):
 * "<origin>\n<size>\n<base64 root>\nheight <h>\ntime <t>\nprev <base64 prev hash>\n". The prev
 * line is absent at height 0. Writes at most cap bytes; returns the length or a negative
 * fwc_err (FWC_ERR_BUFSIZE). */
int node_checkpoint_body(char *out, size_t cap, const char *origin, uint64_t size,
                         const uint8_t root[32], uint64_t height, int64_t time,
                         const uint8_t *prev_hash);

#endif
