/* Fuzz target: random method / request target / If-None-Match / body combinations through the
 * node's request parsing, router and the real API handlers, in process (no sockets).
 *
 * Input: "METHOD\nTARGET\nIF-NONE-MATCH\nBODY..." (missing parts are empty). The handlers run
 * against a real ledger in a temporary directory and a chain whose producer never fires (one
 * block interval is ten minutes), so submissions accumulate in a small mempool and then meet
 * "mempool_full"; the state is shared across inputs, as a running node's is. Checked: no crash,
 * no sanitizer report, every answer has a status in 200..599, and every 4xx/5xx has a JSON body
 * with "code" and "message". */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api.h"
#include "chain.h"
#include "db.h"
#include "http.h"

static struct node_api api;
static char dir[] = "/tmp/fwc-fuzz-http-XXXXXX";

static void remove_dir(void)
{
	static const char *const names[] = {"ledger.db", "ledger.db-wal", "ledger.db-shm"};
	char p[256];

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, names[i]);
		unlink(p);
	}
	rmdir(dir);
}

static void setup(void)
{
	static struct node_consensus_dev dev;
	struct node_consensus cs;
	struct node_chain_config cfg;
	struct node_db *db = NULL;
	struct node_chain *chain = NULL;
	struct fwc_seckey sk, admin;
	struct node_genesis g;
	struct fwc_errinfo ei = {0};
	uint8_t seed[32] = {1, 2, 3};
	char p[256];

	if (mkdtemp(dir) == NULL)
		abort();
	atexit(remove_dir);
	snprintf(p, sizeof(p), "%s/ledger.db", dir);
	if (node_db_open(&db, p, 1, &ei) != FWC_OK ||
	    fwc_key_from_secret(&sk, FWC_ALG_ED25519, seed) != FWC_OK) {
		fprintf(stderr, "fuzz setup: %s\n", ei.msg);
		abort();
	}
	node_consensus_dev_init(&cs, &dev, &sk, "fuzz/validator-0");
	node_chain_config_default(&cfg);
	cfg.block_interval_ms = 600000;
	cfg.checkpoint_interval_s = 86400;
	cfg.mempool_max = 64;
	memset(&g, 0, sizeof(g));
	snprintf(g.chain_id, sizeof(g.chain_id), "fwchain-dev-f0224200");
	g.time = 1700000000;
	g.n_validators = 1;
	snprintf(g.validators[0].name, sizeof(g.validators[0].name), "fuzz/validator-0");
	g.quorum = 1;
	g.n_orgs = 1;
	snprintf(g.orgs[0].id, sizeof(g.orgs[0].id), "root");
	snprintf(g.orgs[0].name, sizeof(g.orgs[0].name), "Root");
	snprintf(g.orgs[0].admin_name, sizeof(g.orgs[0].admin_name), "admin");
	if (fwc_key_public(&g.validators[0].key, &sk) != FWC_OK ||
	    fwc_key_from_secret(&admin, FWC_ALG_BIP340, seed) != FWC_OK ||
	    fwc_key_public(&g.orgs[0].admin, &admin) != FWC_OK)
		abort();
	if (node_chain_start(&chain, &cfg, db, &cs, &g, &ei) != FWC_OK) {
		fprintf(stderr, "fuzz setup: %s\n", ei.msg);
		abort();
	}
	node_api_init(&api, chain, db, "fwchain-dev-f0224200");
}

/* Next '\n'-terminated field of in[*off..len) as a NUL-terminated copy in out (capacity cap). */
static void field(char *out, size_t cap, const uint8_t *in, size_t len, size_t *off)
{
	size_t n = 0;

	while (*off < len && in[*off] != '\n') {
		if (n + 1 < cap && in[*off] != '\0')
			out[n++] = (char)in[*off];
		(*off)++;
	}
	if (*off < len)
		(*off)++;
	out[n] = '\0';
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	struct node_http_request req;
	struct node_http_response resp;
	char method[16], target[NODE_HTTP_MAX_URI + 1], inm[256];
	char pathbuf[NODE_HTTP_MAX_URI + 1], qbuf[NODE_HTTP_MAX_URI + 2 * NODE_HTTP_MAX_QUERY + 2];
	size_t off = 0;

	if (!ready) {
		setup();
		ready = 1;
	}
	field(method, sizeof(method), data, size, &off);
	field(target, sizeof(target), data, size, &off);
	field(inm, sizeof(inm), data, size, &off);
	memset(&req, 0, sizeof(req));
	memset(&resp, 0, sizeof(resp));
	if (node_http_parse_target(&req, pathbuf, sizeof(pathbuf), qbuf, sizeof(qbuf), target,
	                           strlen(target), NULL) != FWC_OK)
		return 0;
	req.method = method;
	req.if_none_match = inm[0] ? inm : NULL;
	req.body = off < size ? data + off : NULL;
	req.body_len = size - off;
	node_http_dispatch(node_api_routes, node_api_nroutes, &api, &resp, &req);
	if (resp.status < 200 || resp.status > 599)
		abort();
	if (resp.status >= 400) {
		json_t *j = json_loadb(resp.body, resp.body_len, 0, NULL);

		if (j == NULL || !json_is_string(json_object_get(j, "code")) ||
		    !json_is_string(json_object_get(j, "message")))
			abort();
		json_decref(j);
	}
	node_http_response_cleanup(&resp);
	return 0;
}
