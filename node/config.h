/* fwchaind — the node configuration file of non-dev mode (fwchaind --config FILE): where to
 * listen, the validator key file, block intervals and limits. Format: docs/node.md
 * ("Configuration file"). */
#ifndef FWC_NODE_CONFIG_H
#define FWC_NODE_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "fwchain/err.h"

#define NODE_CONFIG_PATH_MAX 4096
#define NODE_CONFIG_PEERS_MAX 16 /* as NODE_REPL_PEERS_MAX */
#define NODE_CONFIG_URL_MAX 256  /* as NODE_REPL_URL_MAX */

struct node_config {
	char listen_addr[16]; /* IPv4 address text */
	uint16_t port;
	char validator_key[NODE_CONFIG_PATH_MAX]; /* relative paths resolved against the file */
	unsigned block_interval_ms;
	unsigned checkpoint_interval_s;
	size_t block_max_txs;
	size_t mempool_max;
	unsigned threads;
	/* content replication (docs/content-store.md, "Replication") */
	char peers[NODE_CONFIG_PEERS_MAX][NODE_CONFIG_URL_MAX]; /* "peers": ["http://..."] */
	size_t npeers;
	int has_replication_factor;              /* "replication_factor" was given */
	unsigned replication_factor;             /* 1..16, or 0 for "all" */
	char advertise_url[NODE_CONFIG_URL_MAX]; /* "advertise_url", or "" */
};

/* Parse a configuration document of len bytes. base_dir (the directory of the file, may be
 * NULL for ".") resolves a relative validator_key. Fields absent take the node's defaults
 * (127.0.0.1:8080, 500 ms, 60 s, 2000, 10000, 2 threads, no peers, replication factor
 * "all"); validator_key is required. Content replication: "peers" (up to 16 http(s) base
 * URLs), "replication_factor" (1..16 or "all"), "advertise_url" (this node as peers name it;
 * default http://<listen address>:<port>).
 * FWC_ERR_MALFORMED with a message naming the field (bad JSON with line and column, unknown
 * field, wrong type, value out of range, bad listen address). cfg is written only on success. */
int node_config_parse(struct node_config *cfg, const char *json, size_t len, const char *base_dir,
                      struct fwc_errinfo *ei);

/* Read and parse the file at path (at most 64 KiB); messages name the file. */
int node_config_load(struct node_config *cfg, const char *path, struct fwc_errinfo *ei);

#endif
