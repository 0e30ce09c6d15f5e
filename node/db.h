/* fwchaind — the ledger's persistence in SQLite: blocks, transactions, log leaves, per-sender
 * nonces and a key/value meta table. One SQLite transaction per block; see node/db.c for the
 * durability argument and docs/node.md for the data directory. */
#ifndef FWC_NODE_DB_H
#define FWC_NODE_DB_H

#include <stddef.h>
#include <stdint.h>

#include "fwchain/err.h"

/* The schema version this build writes and reads. Older files are migrated on open; newer
 * ones are refused. */
#define NODE_DB_SCHEMA_VERSION 1
#define NODE_DB_SENDER_MAX 33 /* a public key in binary form: algorithm byte || 32 bytes */

enum node_tx_status {
	NODE_TX_APPLIED = 1, /* in the log and applied to the state */
	NODE_TX_FAILED = 2,  /* in the log, refused by the state machine (no effect) */
};

struct node_db;

/* A block row. For node_db_block_commit the checkpoint points at the caller's text; from the
 * getters it is a malloc'd NUL-terminated copy owned by the struct (node_db_block_cleanup). */
struct node_db_block {
	uint64_t height; /* 0 is the genesis block (no transactions) */
	int64_t time;    /* Unix seconds */
	uint64_t tx_count;
	uint64_t log_size; /* tree size after this block */
	char *checkpoint;  /* the signed checkpoint note text */
	size_t checkpoint_len;
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
	uint8_t leaf_hash[32]; /* RFC 6962 leaf hash of bytes */
	uint64_t height;       /* block height (filled by the getter; ignored on commit) */
	int status;            /* enum node_tx_status */
};

/* Open (create=1: create when missing) the database file at path. *out is set only on success.
 * Errors, each with a message in ei: FWC_ERR_NOT_FOUND (file or its directory missing),
 * FWC_ERR_MALFORMED (not an SQLite file, corrupt, or not an fwchain ledger),
 * FWC_ERR_UNSUPPORTED (schema version newer than this build), FWC_ERR_IO, FWC_ERR_NOMEM. */
int node_db_open(struct node_db **out, const char *path, int create, struct fwc_errinfo *ei);

/* Close and free; NULL is fine. */
void node_db_close(struct node_db *db);

/* Schema version stored in the file (after migrations, NODE_DB_SCHEMA_VERSION). */
int node_db_schema_version(struct node_db *db);

/* Write one block atomically: the block row, its transactions (with their leaves and the
 * senders' nonces), in one SQLite transaction that is synced to disk before this returns
 * FWC_OK. Either all of it is on disk afterwards, or none of it (also across a crash).
 * Checks that b->height is the next height, b->tx_count == n, leaf indexes continue the log
 * and b->log_size is the log size after them (FWC_ERR_STATE otherwise). FWC_ERR_IO when SQLite
 * fails (nothing written), FWC_ERR_DUPLICATE when a tx id is already stored. */
int node_db_block_commit(struct node_db *db, const struct node_db_block *b,
                         const struct node_db_tx *txs, size_t n, struct fwc_errinfo *ei);

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

/* Id of the transaction at leaf index, or FWC_ERR_NOT_FOUND. */
int node_db_tx_id_at(struct node_db *db, uint8_t id[32], uint64_t leaf_index);

void node_db_tx_cleanup(struct node_db_tx *tx);

/* Leaf hashes [start, start+count) into out (count*32 bytes). FWC_ERR_NOT_FOUND when the log
 * is shorter. */
int node_db_leaves_get(struct node_db *db, uint8_t (*out)[32], uint64_t start, uint64_t count);

/* A Merkle leaf source (include/fwchain/merkle.h) reading the committed leaves of db. */
struct fwc_merkle_source;
void node_db_merkle_source(struct node_db *db, struct fwc_merkle_source *src);

/* Highest nonce committed for sender, or FWC_ERR_NOT_FOUND when it never sent. */
int node_db_nonce_get(struct node_db *db, uint64_t *nonce, const uint8_t *sender, size_t len);

/* Meta table: small values by text key. put replaces, in its own synced transaction.
 * get returns a malloc'd copy (*val, free()) with a NUL after the len bytes. */
int node_db_meta_put(struct node_db *db, const char *key, const void *val, size_t len);
int node_db_meta_get(struct node_db *db, char **val, size_t *len, const char *key);

#endif
