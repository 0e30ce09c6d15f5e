/* fwchaind — the ledger node's entry point: options, the data directory, the ledger, the chain
 * and the HTTP API, and a clean stop on SIGTERM/SIGINT.
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

#include "api.h"
#include "api_query.h"
#include "chain.h"
#include "db.h"
#include "genesis.h"
#include "http.h"

static void usage(FILE *f)
{
	fputs(
	    "usage: fwchaind --dev --data DIR [--port N] [--block-interval-ms N]\n"
	    "                [--checkpoint-interval-s N] [--threads N]\n"
	    "\n"
	    "  --dev                     single-validator development network (the only mode yet)\n"
	    "  --data DIR                data directory; created with a new genesis when absent\n"
	    "  --port N                  HTTP port on 127.0.0.1 (default 8080; 0 picks one)\n"
	    "  --block-interval-ms N     make a block of pending transactions every N ms"
	    " (default 500)\n"
	    "  --checkpoint-interval-s N an idle node still makes a block every N s (default 60)\n"
	    "  --threads N               HTTP worker threads (default 2)\n"
	    "\n"
	    "FWCHAIN_PASSPHRASE, when set on the first start, encrypts the admin keystore;\n"
	    "otherwise a generated passphrase is written to DIR/admin.pass (mode 0600).\n",
	    f);
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
	    {"port", required_argument, NULL, 'p'},
	    {"block-interval-ms", required_argument, NULL, 'b'},
	    {"checkpoint-interval-s", required_argument, NULL, 'c'},
	    {"threads", required_argument, NULL, 't'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct node_http_config hcfg;
	struct node_chain_config ccfg;
	struct node_datadir dd;
	struct node_db *db = NULL;
	struct node_chain *chain = NULL;
	struct node_http_server *srv = NULL;
	struct node_query *query = NULL;
	struct node_consensus cs;
	static struct node_consensus_dev dev;
	struct node_api api;
	struct fwc_errinfo ei = {0};
	const char *data = NULL;
	char path[NODE_PATH_MAX], *meta = NULL;
	size_t metalen = 0;
	sigset_t sigs;
	int dev_mode = 0, o, sig = 0, status = 1, dd_open = 0;
	long long v;

	node_http_config_default(&hcfg);
	node_chain_config_default(&ccfg);
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 'd':
			dev_mode = 1;
			break;
		case 'D':
			data = optarg;
			break;
		case 'p':
			if ((v = parse_num(optarg, 0, 65535)) < 0) {
				fprintf(stderr, "fwchaind: --port wants 0..65535, not '%s'\n",
				        optarg);
				return 2;
			}
			hcfg.port = (uint16_t)v;
			break;
		case 'b':
			if ((v = parse_num(optarg, 10, 600000)) < 0) {
				fprintf(stderr, "fwchaind: --block-interval-ms wants 10..600000\n");
				return 2;
			}
			ccfg.block_interval_ms = (unsigned)v;
			break;
		case 'c':
			if ((v = parse_num(optarg, 1, 86400)) < 0) {
				fprintf(stderr,
				        "fwchaind: --checkpoint-interval-s wants 1..86400\n");
				return 2;
			}
			ccfg.checkpoint_interval_s = (unsigned)v;
			break;
		case 't':
			if ((v = parse_num(optarg, 1, 64)) < 0) {
				fprintf(stderr, "fwchaind: --threads wants 1..64\n");
				return 2;
			}
			hcfg.threads = (unsigned)v;
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
	if (!dev_mode || data == NULL) {
		fprintf(stderr, "fwchaind: %s\n",
		        !dev_mode ? "only --dev mode exists in this version; add --dev"
		                  : "--data DIR is required");
		usage(stderr);
		return 2;
	}

	/* Before any thread exists: every thread inherits this mask. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (node_datadir_open(&dd, data, &ei) != FWC_OK) {
		fprintf(stderr, "fwchaind: %s\n", ei.msg);
		goto out;
	}
	dd_open = 1;
	if (dd.created) {
		fprintf(stderr, "fwchaind: created genesis of chain %s in %s\n",
		        dd.genesis.chain_id, dd.dir);
		fprintf(stderr, "fwchaind: admin keystore: %s (passphrase %s)\n", dd.admin_keystore,
		        dd.admin_pass[0] ? dd.admin_pass : "from FWCHAIN_PASSPHRASE");
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
	node_consensus_dev_init(&cs, &dev, &dd.validator_sk, dd.genesis.validator_name);
	if (node_chain_start(&chain, &ccfg, db, &cs, dd.genesis.chain_id, dd.genesis.time, &ei) !=
	    FWC_OK) {
		fprintf(stderr, "fwchaind: %s\n", ei.msg);
		goto out;
	}
	node_api_init(&api, chain, db, dd.genesis.chain_id);
	/* One state reader per HTTP worker: a worker never waits for another's query. */
	if (node_query_open(&query, path, hcfg.threads, &ei) != FWC_OK) {
		fprintf(stderr, "fwchaind: %s\n", ei.msg);
		goto out;
	}
	api.query = query;
	hcfg.max_body = NODE_TX_MAX_BYTES;
	if (node_http_server_start(&srv, &hcfg, node_api_routes, node_api_nroutes, &api, &ei) !=
	    FWC_OK) {
		fprintf(stderr, "fwchaind: %s\n", ei.msg);
		goto out;
	}
	fprintf(stderr, "fwchaind: chain %s serving on http://127.0.0.1:%u\n", dd.genesis.chain_id,
	        (unsigned)node_http_server_port(srv));

	while (sigwait(&sigs, &sig) != 0)
		;
	fprintf(stderr, "fwchaind: %s received, stopping\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
	status = 0;
out:
	node_http_server_stop(srv);
	node_query_close(query);
	node_chain_stop(chain);
	node_db_close(db);
	free(meta);
	fwc_seckey_wipe(&dev.sk);
	if (dd_open)
		node_datadir_cleanup(&dd);
	return status;
}
