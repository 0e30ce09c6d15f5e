/* fwchaind — the ledger node's entry point: options, the data directory, the ledger, the chain
 * and the HTTP API, and a clean stop on SIGTERM/SIGINT.
 *
 * Two modes: --dev (a data directory that makes its own genesis and keys) and --genesis FILE
 * --config FILE (a consortium's genesis, the node's configuration and validator key file).
 *
 * Design: SIGTERM and SIGINT are blocked before any thread starts, so every thread inherits the
 * mask and only the main thread, waiting in sigwait(), ever sees them; no handler runs in an
 * arbitrary thread and the stop sequence is ordinary code: stop accepting requests, stop the
 * producer (which finishes or drops its block whole), close the ledger. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fwchain/tx.h"

#include "api.h"
#include "api_content.h"
#include "api_query.h"
#include "blockstore.h"
#include "chain.h"
#include "config.h"
#include "db.h"
#include "genesis.h"
#include "http.h"
#include "pins.h"
#include "replicate.h"
#include "updates.h"

static void usage(FILE *f)
{
	fputs(
	    "usage: fwchaind --dev --data DIR [options]\n"
	    "       fwchaind --genesis FILE --config FILE --data DIR [options]\n"
	    "\n"
	    "  --dev                     single-validator development network: DIR gets a new\n"
	    "                            genesis, keys and an admin keystore when absent\n"
	    "  --genesis FILE            the chain's genesis (docs/formats/genesis.md)\n"
	    "  --config FILE             listen address, validator key, intervals, limits\n"
	    "                            (docs/node.md); the options below override it\n"
	    "  --data DIR                data directory (created when absent)\n"
	    "  --port N                  HTTP port (default 8080; 0 picks one)\n"
	    "  --block-interval-ms N     make a block of pending transactions every N ms"
	    " (default 500)\n"
	    "  --block-max-txs N         transactions per block; a full batch does not wait"
	    " (default 2000)\n"
	    "  --checkpoint-interval-s N an idle node still makes a block every N s (default 60)\n"
	    "  --threads N               HTTP worker threads (default 2)\n"
	    "  --store-floor-mb N        keep N MiB free on the content store's disk (default 256)\n"
	    "  --max-upload-mb N         largest content upload (default 4096)\n"
	    "  --peer URL                replicate pinned content with this node (repeatable)\n"
	    "  --replicate-interval-ms N pause between replication rounds (default 1000)\n"
	    "  --no-follow-peers         replicate only this node's own pins and releases\n"
	    "  --replication-factor N    releases and peers' pins are fetched by the N nodes\n"
	    "                            placement picks per CID (1..16, or all: the default)\n"
	    "  --advertise-url URL       this node as its peers name it (default\n"
	    "                            http://<listen address>:<port>)\n"
	    "  --no-content-check        accept a RELEASE whose content this node does not hold\n"
	    "\n"
	    "FWCHAIN_PASSPHRASE, when set on a dev node's first start, encrypts the admin "
	    "keystore;\n"
	    "otherwise a generated passphrase is written to DIR/admin.pass (mode 0600).\n",
	    f);
}

/* The chain has one commit hook; these are the two things that follow its blocks. */
struct commit_hooks {
	struct node_updates *updates;
	struct node_content *content;
};

static void on_commit(void *ctx, const struct node_chain_commit *info)
{
	struct commit_hooks *h = ctx;

	node_updates_on_commit(h->updates, info);
	/* Every committed RELEASE's content is pinned (or wanted from peers). The first call,
	 * at start, covers every release the ledger holds. */
	if (info->applied_types & (1u << FWC_TX_RELEASE))
		node_content_pin_releases(h->content, info->applied ? info->height : 0);
}

/* Parse a decimal number in [lo, hi]; -1 on anything else. */
static long long parse_num(const char *s, long long lo, long long hi)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || end == s || *end != '\0' || v < lo || v > hi)
		return -1;
	return v;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"dev", no_argument, NULL, 'd'},
	    {"data", required_argument, NULL, 'D'},
	    {"genesis", required_argument, NULL, 'g'},
	    {"config", required_argument, NULL, 'C'},
	    {"port", required_argument, NULL, 'p'},
	    {"block-interval-ms", required_argument, NULL, 'b'},
	    {"block-max-txs", required_argument, NULL, 'm'},
	    {"checkpoint-interval-s", required_argument, NULL, 'c'},
	    {"threads", required_argument, NULL, 't'},
	    {"store-floor-mb", required_argument, NULL, 'F'},
	    {"max-upload-mb", required_argument, NULL, 'U'},
	    {"peer", required_argument, NULL, 'P'},
	    {"replicate-interval-ms", required_argument, NULL, 'R'},
	    {"no-follow-peers", no_argument, NULL, 'N'},
	    {"replication-factor", required_argument, NULL, 'Q'},
	    {"advertise-url", required_argument, NULL, 'A'},
	    {"no-content-check", no_argument, NULL, 'K'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	static struct node_config conf;
	struct node_http_config hcfg;
	struct node_chain_config ccfg;
	struct node_datadir dd;
	struct node_db *db = NULL;
	struct node_chain *chain = NULL;
	struct node_http_server *srv = NULL;
	struct node_query *query = NULL;
	struct node_updates *updates = NULL;
	struct node_content *content = NULL;
	struct node_consensus cs;
	static struct node_consensus_dev dev;
	struct node_api api;
	struct node_bs_options bso;
	struct node_bs *bs = NULL;
	struct node_pins *pins = NULL;
	sqlite3 *pins_db = NULL;
	struct node_content_config ccf;
	struct node_repl_config rcfg;
	struct node_repl *repl = NULL;
	static struct commit_hooks hooks;
	char store_dir[NODE_PATH_MAX];
	struct fwc_errinfo ei = {0};
	const char *data = NULL, *genesis = NULL, *config = NULL;
	char path[NODE_PATH_MAX], *meta = NULL;
	size_t metalen = 0;
	sigset_t sigs;
	int dev_mode = 0, o, sig = 0, status = 1, dd_open = 0;
	/* Command-line values, applied over the configuration file's (-1: not given). */
	long long port = -1, interval = -1, max_txs = -1, cp_interval = -1, threads = -1, v;
	long long factor = -1;
	char self_url[NODE_REPL_URL_MAX];

	node_http_config_default(&hcfg);
	node_chain_config_default(&ccfg);
	node_bs_options_default(&bso);
	node_repl_config_default(&rcfg);
	memset(&ccf, 0, sizeof(ccf));
	ccf.gc_grace_s = -1;
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 'd':
			dev_mode = 1;
			break;
		case 'D':
			data = optarg;
			break;
		case 'g':
			genesis = optarg;
			break;
		case 'C':
			config = optarg;
			break;
		case 'p':
			if ((port = parse_num(optarg, 0, 65535)) < 0) {
				fprintf(stderr, "fwchaind: --port wants 0..65535, not '%s'\n",
				        optarg);
				return 2;
			}
			break;
		case 'b':
			if ((interval = parse_num(optarg, 10, 600000)) < 0) {
				fprintf(stderr, "fwchaind: --block-interval-ms wants 10..600000\n");
				return 2;
			}
			break;
		case 'm':
			if ((max_txs = parse_num(optarg, 1, 100000)) < 0) {
				fprintf(stderr, "fwchaind: --block-max-txs wants 1..100000\n");
				return 2;
			}
			break;
		case 'c':
			if ((cp_interval = parse_num(optarg, 1, 86400)) < 0) {
				fprintf(stderr,
				        "fwchaind: --checkpoint-interval-s wants 1..86400\n");
				return 2;
			}
			break;
		case 't':
			if ((threads = parse_num(optarg, 1, 64)) < 0) {
				fprintf(stderr, "fwchaind: --threads wants 1..64\n");
				return 2;
			}
			break;
		case 'F':
			if ((v = parse_num(optarg, 0, 1 << 20)) < 0) {
				fprintf(stderr, "fwchaind: --store-floor-mb wants 0..1048576\n");
				return 2;
			}
			bso.floor_bytes = (uint64_t)v << 20;
			break;
		case 'U':
			if ((v = parse_num(optarg, 1, 4096)) < 0) {
				fprintf(stderr, "fwchaind: --max-upload-mb wants 1..4096\n");
				return 2;
			}
			ccf.max_upload = (uint64_t)v << 20;
			break;
		case 'P':
			if (rcfg.npeers == NODE_REPL_PEERS_MAX) {
				fprintf(stderr, "fwchaind: at most %d --peer\n", NODE_REPL_PEERS_MAX);
				return 2;
			}
			rcfg.peers[rcfg.npeers++] = optarg;
			break;
		case 'R':
			if ((v = parse_num(optarg, 10, 600000)) < 0) {
				fprintf(stderr, "fwchaind: --replicate-interval-ms wants 10..600000\n");
				return 2;
			}
			rcfg.interval_ms = (unsigned)v;
			break;
		case 'N':
			rcfg.follow_peers = 0;
			break;
		case 'Q':
			if (strcmp(optarg, "all") == 0) {
				factor = 0;
			} else if ((factor = parse_num(optarg, 1, NODE_REPL_PEERS_MAX)) < 0) {
				fprintf(stderr, "fwchaind: --replication-factor wants 1..%d or all\n",
				        NODE_REPL_PEERS_MAX);
				return 2;
			}
			break;
		case 'A':
			rcfg.self_url = optarg;
			break;
		case 'K':
			ccf.no_release_check = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "fwchaind: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	if (dev_mode && (genesis || config)) {
		fprintf(stderr, "fwchaind: give --dev, or --genesis and --config, not both\n");
		return 2;
	}
	if (!dev_mode && (genesis == NULL || config == NULL)) {
		fprintf(stderr, "fwchaind: %s\n",
		        genesis || config ? "--genesis FILE and --config FILE go together"
		                          : "give --dev, or --genesis FILE and --config FILE");
		usage(stderr);
		return 2;
	}
	if (data == NULL) {
		fprintf(stderr, "fwchaind: --data DIR is required\n");
		usage(stderr);
		return 2;
	}
	if (config) {
		if (node_config_load(&conf, config, &ei) != FWC_OK) {
			fprintf(stderr, "fwchaind: %s\n", ei.msg);
			return 1;
		}
		hcfg.bind_addr = conf.listen_addr;
		hcfg.port = conf.port;
		hcfg.threads = conf.threads;
		ccfg.block_interval_ms = conf.block_interval_ms;
		ccfg.checkpoint_interval_s = conf.checkpoint_interval_s;
		ccfg.block_max_txs = conf.block_max_txs;
		ccfg.mempool_max = conf.mempool_max;
		for (size_t i = 0; rcfg.npeers == 0 && i < conf.npeers; i++)
			rcfg.peers[i] = conf.peers[i];
		if (rcfg.npeers == 0)
			rcfg.npeers = conf.npeers;
		if (conf.has_replication_factor)
			rcfg.replication_factor = conf.replication_factor;
		if (rcfg.self_url == NULL && conf.advertise_url[0])
			rcfg.self_url = conf.advertise_url;
	}
	if (factor >= 0)
		rcfg.replication_factor = (unsigned)factor;
	if (port >= 0)
		hcfg.port = (uint16_t)port;
	if (interval >= 0)
		ccfg.block_interval_ms = (unsigned)interval;
	if (max_txs >= 0)
		ccfg.block_max_txs = (size_t)max_txs;
	if (cp_interval >= 0)
		ccfg.checkpoint_interval_s = (unsigned)cp_interval;
	if (threads >= 0)
		hcfg.threads = (unsigned)threads;
	if (ccfg.block_max_txs > ccfg.mempool_max) {
		fprintf(stderr, "fwchaind: --block-max-txs %zu exceeds the mempool (%zu)\n",
		        ccfg.block_max_txs, ccfg.mempool_max);
		return 2;
	}

	/* Before any thread exists: every thread inherits this mask. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	if ((dev_mode ? node_datadir_open(&dd, data, &ei)
	              : node_datadir_open_genesis(&dd, data, genesis, conf.validator_key, &ei)) !=
	    FWC_OK) {
		fprintf(stderr, "fwchaind: %s\n", ei.msg);
		goto out;
	}
	dd_open = 1;
	if (dd.created && dev_mode) {
		fprintf(stderr, "fwchaind: created genesis of chain %s in %s\n",
		        dd.genesis.chain_id, dd.dir);
		fprintf(stderr, "fwchaind: admin keystore: %s (passphrase %s)\n", dd.admin_keystore,
		        dd.admin_pass[0] ? dd.admin_pass : "from FWCHAIN_PASSPHRASE");
	} else if (dd.created) {
		fprintf(stderr, "fwchaind: new data directory %s for chain %s (genesis %s)\n",
		        dd.dir, dd.genesis.chain_id, genesis);
	}
	if (dd.genesis.quorum > 1) {
		fprintf(stderr,
		        "fwchaind: the genesis needs %u of its %zu validators to cosign every"
		        " checkpoint; this fwchaind runs one validator (BFT comes later)\n",
		        dd.genesis.quorum, dd.genesis.n_validators);
		goto out;
	}
	if (node_datadir_path(path, sizeof(path), &dd, NODE_FILE_LEDGER) != FWC_OK ||
	    node_db_open(&db, path, 0, &ei) != FWC_OK) {
		fprintf(stderr, "fwchaind: %s\n", ei.msg);
		goto out;
	}
	if (node_db_meta_get(db, &meta, &metalen, "chain_id") != FWC_OK ||
	    strcmp(meta, dd.genesis.chain_id) != 0) {
		fprintf(stderr, "fwchaind: %s belongs to chain '%s', not to the genesis' '%s'\n",
		        path, meta ? meta : "(none)", dd.genesis.chain_id);
		goto out;
	}
	/* The node's one pool of read-only connections: each HTTP worker (queries, check-ins,
	 * log reads) holds at most one at a time, the block producer one more, plus a spare. */
	node_db_set_readers(db, hcfg.threads + 2);
	node_consensus_dev_init(&cs, &dev, &dd.validator_sk,
	                        dd.genesis.validators[dd.validator_index].name);
	if (node_chain_start(&chain, &ccfg, db, &cs, &dd.genesis, &ei) != FWC_OK) {
		fprintf(stderr, "fwchaind: %s\n", ei.msg);
		goto out;
	}
	node_api_init(&api, chain, db, dd.genesis.chain_id);
	if (node_query_open(&query, db, &ei) != FWC_OK) {
		fprintf(stderr, "fwchaind: %s\n", ei.msg);
		goto out;
	}
	api.query = query;
	if (node_updates_new(&updates, db) != FWC_OK) {
		fprintf(stderr, "fwchaind: out of memory\n");
		goto out;
	}
	api.updates = updates;

	/* The content store: blocks under DIR/blocks; pins and wants in the ledger file, each
	 * through its own connection (they run single statements from any thread). */
	if (node_datadir_path(store_dir, sizeof(store_dir), &dd, "blocks") != FWC_OK ||
	    node_bs_open(&bs, store_dir, &bso, &ei) != FWC_OK) {
		fprintf(stderr, "fwchaind: content store: %s\n", ei.msg);
		goto out;
	}
	if (sqlite3_open_v2(path, &pins_db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK ||
	    sqlite3_busy_timeout(pins_db, 5000) != SQLITE_OK ||
	    node_pins_open(&pins, pins_db, bs, &ei) != FWC_OK) {
		fprintf(stderr, "fwchaind: content pins in %s: %s\n", path,
		        ei.msg[0] ? ei.msg : sqlite3_errmsg(pins_db));
		goto out;
	}
	ccf.chain_id = dd.genesis.chain_id;
	ccf.ledger_path = path;
	if (dev_mode) {
		/* A dev chain's only member is its admin: let it upload and pin
		 * (docs/formats/content-auth.md). */
		ccf.bootstrap[0] = dd.genesis.orgs[0].admin;
		ccf.nbootstrap = 1;
	}
	if (node_content_open(&content, &ccf, bs, pins, &ei) != FWC_OK ||
	    node_repl_open(&repl, &rcfg, pins, path, &ei) != FWC_OK) {
		fprintf(stderr, "fwchaind: %s\n", ei.msg);
		goto out;
	}
	node_content_set_repl(content, repl);
	api.content = content;
	if (node_repl_start(repl, &ei) != FWC_OK) {
		fprintf(stderr, "fwchaind: %s\n", ei.msg);
		goto out;
	}
	/* After every durable block: the check-in cache, and the pins of committed releases. */
	hooks.updates = updates;
	hooks.content = content;
	node_chain_set_commit_hook(chain, on_commit, &hooks);
	/* Devices' first check-ins since start find their records (node/updates.c); idle CPU
	 * only. Without it they read SQLite, which is all that is lost. */
	if (node_updates_warm(updates) != FWC_OK)
		fprintf(stderr, "fwchaind: the device cache is not warmed at start\n");
	hcfg.max_body = NODE_TX_MAX_BYTES;
	hcfg.uploads = node_api_uploads;
	hcfg.nuploads = node_api_nuploads;
	if (node_http_server_start(&srv, &hcfg, node_api_routes, node_api_nroutes, &api, &ei) !=
	    FWC_OK) {
		fprintf(stderr, "fwchaind: %s\n", ei.msg);
		goto out;
	}
	fprintf(stderr, "fwchaind: chain %s serving on http://%s:%u\n", dd.genesis.chain_id,
	        hcfg.bind_addr ? hcfg.bind_addr : "127.0.0.1",
	        (unsigned)node_http_server_port(srv));
	/* Placement names nodes by URL; without --advertise-url this node is where it listens. */
	snprintf(self_url, sizeof(self_url), "http://%s:%u",
	         hcfg.bind_addr ? hcfg.bind_addr : "127.0.0.1", (unsigned)node_http_server_port(srv));
	if (rcfg.self_url == NULL)
		node_repl_set_self(repl, self_url);

	while (sigwait(&sigs, &sig) != 0)
		;
	fprintf(stderr, "fwchaind: %s received, stopping\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
	status = 0;
out:
	/* Requests first, then the producer (whose commit hook pins releases), then content. */
	node_http_server_stop(srv);
	node_chain_stop(chain);
	node_repl_close(repl);
	node_content_close(content);
	node_pins_close(pins);
	sqlite3_close(pins_db);
	node_bs_close(bs);
	node_query_close(query);
	node_updates_free(updates);
	node_db_close(db);
	free(meta);
	fwc_seckey_wipe(&dev.sk);
	if (dd_open)
		node_datadir_cleanup(&dd);
	return status;
}
