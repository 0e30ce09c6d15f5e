/* fwchaind — the ledger's persistence in SQLite: blocks, transactions, log leaves, the Merkle
 * subtree cache, a key/value meta table, and (through node/state.c) the state machine's tables.
 * One SQLite transaction per block, on one writer connection; HTTP readers use a pool of
 * read-only connections so they never queue behind the block writer. See node/db.c for the
 * durability argument and docs/node.md for the data directory. */
#ifndef FWC_NODE_DB_H
#define FWC_NODE_DB_H

#include <stddef.h>
#include <stdint.h>

#include "fwchain/err.h"

/* The schema version this build writes and reads. Older files are migrated on open; newer
 * ones are refused. */
#define NODE_DB_SCHEMA_VERSION 2
#define NODE_DB_SENDER_MAX 33 /* a public key in binary form: algorithm byte || 32 bytes */
#define NODE_DB_CODE_MAX 32   /* a refusal code of a failed transaction, with its NUL */
/* Perfect subtrees of 2^level leaves with level >= this are stored (table subtrees): one row
 * per 16 leaves. Smaller ones are hashed from one range read of their leaves. */
#define NODE_DB_SUBTREE_MIN_LEVEL 4
#define NODE_DB_READERS_DEFAULT 4

enum node_tx_status {
	NODE_TX_APPLIED = 1, /* in the log and applied to the state */
	NODE_TX_FAILED = 2,  /* in the log, refused by the state machine (no effect) */
};

struct node_db;
struct node_db_reader;
struct node_state;
struct sqlite3;
struct fwc_merkle_frontier;

/* A perfect subtree hash of the log: 2^level leaves starting at leaf index << level. */
struct node_db_subtree {
	unsigned level;
	uint64_t index;
	uint8_t hash[32];
};

/* A block row. For node_db_block_commit the checkpoint points at the caller's text; from the
 * getters it is a malloc'd NUL-terminated copy owned by the struct (node_db_block_cleanup). */
struct node_db_block {
	uint64_t height; /* 0 is the genesis block (no transactions) */
	int64_t time;    /* Unix seconds */
	uint64_t tx_count;
	uint64_t log_size; /* tree size after this block */
	char *checkpoint;  /* the signed checkpoint note text */
	size_t checkpoint_len;
	/* Commit only: the perfect subtrees (level >= NODE_DB_SUBTREE_MIN_LEVEL) this block's
	 * leaves complete (node_db_leaf_append computes them). Ignored by the getters. */
	const struct node_db_subtree *subtrees;
	size_t nsubtrees;
};

/* A transaction row. For node_db_block_commit bytes points at the caller's buffer; from
 * node_db_tx_get it is malloc'd and owned by the struct (node_db_tx_cleanup). */
struct node_db_tx {
	uint8_t id[32]; /* SHA-256 of bytes */
	uint8_t *bytes;
	size_t len;
	int type; /* transaction type number */
	uint8_t sender[NODE_DB_SENDER_MAX];
	size_t sender_len;
	uint64_t nonce;
	uint64_t leaf_index;
	uint8_t leaf_hash[32];       /* RFC 6962 leaf hash of bytes */
	uint64_t height;             /* block height (filled by the getter; ignored on commit) */
	int status;                  /* enum node_tx_status */
	char code[NODE_DB_CODE_MAX]; /* NODE_TX_FAILED: the state machine's refusal code */
};

/* Open (create=1: create when missing) the database file at path, migrating older schemas
 * (schema 2 adds the state machine's tables, moves the per-sender nonces into state_nonces,
 * adds txs.code and the subtrees table, filled from the stored leaves). *out is set only on
 * success. Errors, each with a message in ei: FWC_ERR_NOT_FOUND (file or its directory missing),
 * FWC_ERR_MALFORMED (not an SQLite file, corrupt, or not an fwchain ledger),
 * FWC_ERR_UNSUPPORTED (schema version newer than this build), FWC_ERR_IO, FWC_ERR_NOMEM. */
int node_db_open(struct node_db **out, const char *path, int create, struct fwc_errinfo *ei);

/* Close and free; NULL is fine. */
void node_db_close(struct node_db *db);

/* Schema version stored in the file (after migrations, NODE_DB_SCHEMA_VERSION). */
int node_db_schema_version(struct node_db *db);

/* How many read-only connections the reader pool may open (1..64; default
 * NODE_DB_READERS_DEFAULT). Call before the first read. Give it the number of threads that
 * read concurrently (HTTP workers plus the block producer). */
int node_db_set_readers(struct node_db *db, unsigned n);

/* ---- the write path: one SQLite transaction per block --------------------------------- */

/* Start the block's write transaction (BEGIN IMMEDIATE on the writer connection) and hand out
 * that connection and the state machine bound to it, for node_state_apply() inside the
 * transaction. Holds the writer lock until node_db_write_commit or node_db_write_abort.
 * FWC_OK or FWC_ERR_IO. */
int node_db_write_begin(struct node_db *db, struct sqlite3 **h, struct node_state **st,
                        struct fwc_errinfo *ei);

/* Insert a block into the open write transaction: the block row, its transactions, their
 * leaves and the subtrees it completes. Checks that b->height is the next height,
 * b->tx_count == n, leaf indexes continue the log and b->log_size is the log size after them
 * (FWC_ERR_STATE otherwise). FWC_ERR_IO when SQLite fails, FWC_ERR_DUPLICATE when a tx id is
 * already stored. On failure the transaction stays open: abort it. */
int node_db_write_block(struct node_db *db, const struct node_db_block *b,
                        const struct node_db_tx *txs, size_t n, struct fwc_errinfo *ei);

/* COMMIT (synced to disk before this returns FWC_OK: synchronous=FULL) and release the writer
 * lock. On failure the transaction is rolled back, the lock released, FWC_ERR_IO returned. */
int node_db_write_commit(struct node_db *db, struct fwc_errinfo *ei);

/* ROLLBACK and release the writer lock. */
void node_db_write_abort(struct node_db *db);

/* Write one block atomically (write_begin, write_block, write_commit): either all of it is on
 * disk afterwards, or none of it (also across a crash). Errors as node_db_write_block. */
int node_db_block_commit(struct node_db *db, const struct node_db_block *b,
                         const struct node_db_tx *txs, size_t n, struct fwc_errinfo *ei);

/* Append leaf_hash to the frontier f and write into out (room for FWC_MERKLE_MAX_LEVELS) the
 * perfect subtrees of level >= NODE_DB_SUBTREE_MIN_LEVEL that this leaf completes; *nout gets
 * their count. f is unchanged on failure. */
int node_db_leaf_append(struct fwc_merkle_frontier *f, const uint8_t leaf_hash[32],
                        struct node_db_subtree *out, size_t *nout);

/* ---- the read path: a pool of read-only connections ----------------------------------- */

/* Borrow a reader connection (opened on first use; WAL lets it read while the writer writes).
 * Blocks while every reader is busy. *out is set only on success. FWC_ERR_IO when the
 * connection cannot be opened. Return it with node_db_reader_put. */
int node_db_reader_get(struct node_db *db, struct node_db_reader **out);
void node_db_reader_put(struct node_db_reader *r);

/* The reader's connection and the state machine queries bound to it (statements prepared once
 * per connection). Valid while the reader is borrowed. */
struct sqlite3 *node_db_reader_handle(struct node_db_reader *r);
struct node_state *node_db_reader_state(struct node_db_reader *r);

/* A Merkle source over the reader (leaves, and the subtree cache). */
struct fwc_merkle_source;
void node_db_reader_merkle_source(struct node_db_reader *r, struct fwc_merkle_source *src);

/* A read transaction on the reader: every query until node_db_reader_end sees one snapshot
 * of the ledger (what the last commit before its first read wrote). FWC_OK or FWC_ERR_IO. */
int node_db_reader_begin(struct node_db_reader *r);
void node_db_reader_end(struct node_db_reader *r);

/* The newest block through a borrowed reader; as node_db_head. */
int node_db_reader_head(struct node_db_reader *r, struct node_db_block *out);

/* Transaction by id through a borrowed reader; as node_db_tx_get. */
int node_db_reader_tx_get(struct node_db_reader *r, struct node_db_tx *out, const uint8_t id[32]);

/* One logged transaction that a key set of a product rests on. bytes is malloc'd (free()). */
struct node_db_keyset_tx {
	int kind;         /* 1 root set, 2 release set */
	uint64_t version; /* the set version it made */
	uint64_t leaf_index;
	uint8_t *bytes;
	size_t len;
};

/* The transactions a device holding the product's root key set version 1 needs to check a
 * manifest logged at leaf index `before`: every root rotation (versions >= 2) logged before
 * the release set statement in force at `before`, then that statement, oldest first. At most
 * cap entries: when more root rotations exist, the oldest are left out (*dropped gets how
 * many). *n gets the count (0 when the product had no release set then). Free each bytes. */
int node_db_keyset_chain(struct node_db_reader *r, struct node_db_keyset_tx *out, size_t cap,
                         size_t *n, size_t *dropped, const char *product, uint64_t before);

/* The newest block, or FWC_ERR_NOT_FOUND on an empty ledger. */
int node_db_head(struct node_db *db, struct node_db_block *out);

/* Block at height, or FWC_ERR_NOT_FOUND. */
int node_db_block_get(struct node_db *db, struct node_db_block *out, uint64_t height);

/* Ids of the transactions of block height in log order; *ids is malloc'd (free()), *n its
 * count. FWC_ERR_NOT_FOUND when the block does not exist. */
int node_db_block_tx_ids(struct node_db *db, uint8_t (**ids)[32], size_t *n, uint64_t height);

void node_db_block_cleanup(struct node_db_block *b);

/* Transaction by id, or FWC_ERR_NOT_FOUND. */
int node_db_tx_get(struct node_db *db, struct node_db_tx *out, const uint8_t id[32]);
/* Whether transaction id is in the ledger, and in which block: FWC_OK with *height,
 * FWC_ERR_NOT_FOUND, or FWC_ERR_IO. Cheaper than node_db_tx_get (one index probe, no bytes
 * copied): the submission's duplicate check. */
int node_db_tx_height(struct node_db *db, uint64_t *height, const uint8_t id[32]);
/* The same through a borrowed reader (inside its read transaction, if one is open). */
int node_db_reader_tx_height(struct node_db_reader *r, uint64_t *height, const uint8_t id[32]);

/* Id of the transaction at leaf index, or FWC_ERR_NOT_FOUND. */
int node_db_tx_id_at(struct node_db *db, uint8_t id[32], uint64_t leaf_index);

void node_db_tx_cleanup(struct node_db_tx *tx);

/* Leaf hashes [start, start+count) into out (count*32 bytes). FWC_ERR_NOT_FOUND when the log
 * is shorter. */
int node_db_leaves_get(struct node_db *db, uint8_t (*out)[32], uint64_t start, uint64_t count);

/* A Merkle source (include/fwchain/merkle.h) reading the committed leaves of db and the
 * stored subtrees; every callback borrows a reader for its one query. With
 * node_db_merkle_source_naive the subtree cache is not used (tests compare the two). */
void node_db_merkle_source(struct node_db *db, struct fwc_merkle_source *src);
void node_db_merkle_source_naive(struct node_db *db, struct fwc_merkle_source *src);

/* Statements run by the database since it was opened, on every connection (tests measure
 * the cost of a proof with it). */
uint64_t node_db_query_count(struct node_db *db);

/* Meta table: small values by text key. put replaces, in its own synced transaction.
 * get returns a malloc'd copy (*val, free()) with a NUL after the len bytes. */
int node_db_meta_put(struct node_db *db, const char *key, const void *val, size_t len);
int node_db_meta_get(struct node_db *db, char **val, size_t *len, const char *key);

#endif
