/* fwchaind — the data directory of a dev node: its genesis file, the validator key, the admin
 * organisation's keystore, and the checks that a directory is whole before the node uses it.
 * Layout and formats: docs/node.md and docs/formats/genesis.md. */
#ifndef FWC_NODE_GENESIS_H
#define FWC_NODE_GENESIS_H

#include <stddef.h>
#include <stdint.h>

#include "fwchain/err.h"
#include "fwchain/key.h"

#define NODE_CHAIN_ID_MAX 64
#define NODE_NAME_MAX 64
#define NODE_PATH_MAX 4096

/* File names inside the data directory. */
#define NODE_FILE_GENESIS "genesis.json"
#define NODE_FILE_VALIDATOR_KEY "validator.key"
#define NODE_FILE_ADMIN_KEYSTORE "admin.keystore"
#define NODE_FILE_ADMIN_PASS "admin.pass"
#define NODE_FILE_LEDGER "ledger.db"
#define NODE_FILE_LOCK "LOCK"

/* The root organisation of a genesis in the first dev form (only "admin"), and of dev chains. */
#define NODE_ROOT_ORG_ID "root"
#define NODE_ROOT_ORG_NAME "Root organisation"

#define NODE_GENESIS_VALIDATORS_MAX 16
#define NODE_GENESIS_ORGS_MAX 16
#define NODE_ORG_ID_MAX 65    /* an organisation id (1..64 bytes) and its NUL */
#define NODE_ORG_NAME_MAX 129 /* a display name (1..128 bytes) and its NUL */

struct node_genesis_validator {
	char name[NODE_NAME_MAX]; /* the key name in the checkpoint's cosignature lines */
	struct fwc_pubkey key;    /* ed25519 */
};

struct node_genesis_org {
	char id[NODE_ORG_ID_MAX];
	char name[NODE_ORG_NAME_MAX];
	char admin_name[NODE_NAME_MAX]; /* a label for people */
	struct fwc_pubkey admin;        /* its first admin (bip340 or ed25519) */
};

struct node_genesis {
	char chain_id[NODE_CHAIN_ID_MAX];
	int64_t time; /* Unix seconds of the genesis */
	size_t n_validators;
	struct node_genesis_validator validators[NODE_GENESIS_VALIDATORS_MAX];
	unsigned quorum; /* cosignatures a checkpoint needs, 1..n_validators */
	size_t n_orgs;   /* orgs[0] is the root organisation */
	struct node_genesis_org orgs[NODE_GENESIS_ORGS_MAX];
};

/* Parse a genesis JSON document of len bytes (docs/formats/genesis.md). FWC_ERR_MALFORMED
 * (with what and where in ei) for bad JSON, a missing or mistyped field, an unknown format, bad
 * key text, duplicate validators or organisations, a quorum outside 1..validators. g is written
 * only on success. */
int node_genesis_parse(struct node_genesis *g, const char *json, size_t len,
                       struct fwc_errinfo *ei);

/* Serialise g as the genesis JSON document (malloc'd, NUL-terminated; free()). */
int node_genesis_format(char **out, const struct node_genesis *g);

/* What node_datadir_open found and did. */
struct node_datadir {
	char dir[NODE_PATH_MAX];
	struct node_genesis genesis;
	struct fwc_seckey validator_sk; /* wipe with node_datadir_cleanup */
	int created;                    /* 1 when this call made a new genesis */
	size_t validator_index;         /* which genesis validator validator_sk is */
	int lock_fd;                    /* flock'd LOCK file, held while the node runs */
	char admin_keystore[NODE_PATH_MAX];
	char admin_pass[NODE_PATH_MAX]; /* "" when the passphrase came from FWCHAIN_PASSPHRASE */
};

/* Open the dev data directory dir, creating it and a new genesis when it does not exist or is
 * empty (or holds only the files of a first start that was interrupted before genesis.json
 * was written). Takes an exclusive lock so two nodes never share a directory. The admin
 * keystore's passphrase is FWCHAIN_PASSPHRASE when set, otherwise a generated one written to
 * DIR/admin.pass (mode 0600). Errors, each with a message in ei: FWC_ERR_STATE (directory in use
 * by another node, or not a data directory), FWC_ERR_MALFORMED (damaged genesis or key file),
 * FWC_ERR_PERMISSIONS (key file readable by others), FWC_ERR_IO, FWC_ERR_NOMEM. */
int node_datadir_open(struct node_datadir *dd, const char *dir, struct fwc_errinfo *ei);

/* Open the data directory dir of a node whose genesis comes from the file genesis_path and
 * whose validator key is the file vkey_path ("ed25519-seed:<64 hex>", mode 0600): creates dir
 * (an empty ledger, then a copy of the genesis as DIR/genesis.json, the commit point) on the
 * first start; later starts require the given genesis to be the one the directory was made
 * with. The key must be one of the genesis validators. Takes the lock. Errors, each with a
 * message in ei naming the file: FWC_ERR_MALFORMED (genesis or key file), FWC_ERR_STATE (in use,
 * not a data directory, another chain's directory, a different genesis, a key that is not a
 * genesis validator), FWC_ERR_PERMISSIONS, FWC_ERR_NOT_FOUND, FWC_ERR_IO, FWC_ERR_NOMEM. */
int node_datadir_open_genesis(struct node_datadir *dd, const char *dir, const char *genesis_path,
                              const char *vkey_path, struct fwc_errinfo *ei);

/* Release the lock and wipe the validator key. */
void node_datadir_cleanup(struct node_datadir *dd);

/* Path of a file of the data directory (NUL-terminated; truncation is an FWC_ERR_BUFSIZE). */
int node_datadir_path(char *out, size_t cap, const struct node_datadir *dd, const char *name);

#endif
