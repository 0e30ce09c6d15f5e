/* fwchain device provision: make a device ready to run `fwagent` — a new device key, the
 * device registered on the ledger, and an fwagent configuration with checked trust anchors.
 *
 * Main design choice: the validators are never taken from the node. The operator gives a trust
 * file (`fwchain trust create`) that names the chain and its validators; the node is asked for
 * what may change over a product's life (its current root key set and version) and for its
 * newest checkpoint, and the provisioning stops unless that checkpoint carries a quorum of
 * valid cosignatures of the given validators for the given chain — so a node of another chain,
 * or an impostor, cannot hand a device its anchors. When the given trust file already names the
 * product's root keys, the node's root set must be exactly those; otherwise the node's set is
 * taken as it stands (trust on first use) and the command says so. Everything the device needs
 * goes into one folder: fwagent.conf (docs/formats/agent-config.md), trust.txt
 * (docs/formats/trust.md), device.key (mode 0600); the slots are made by fwagent at first
 * use. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "client.h"
#include "commands.h"
#include "fwchain/hex.h"
#include "fwchain/key.h"
#include "fwchain/note.h"
#include "fwchain/payload.h"
#include "fwchain/trust.h"
#include "txsend.h"
#include "util.h"

static const char provision_help[] =
    "usage: fwchain device provision --product ID --hwid HW --trust FILE --out DIR\n"
    "                                [--channel NAME] [--gateway URL] [--slot-size BYTES]\n"
    "                                [--floor N] [--poll-interval S] [--poll-jitter S]\n"
    "                                [--key KEYSTORE] [transaction options]\n"
    "\n"
    "Makes DIR (which must not exist) a provisioned device for `fwagent check|run --config\n"
    "DIR/fwagent.conf`: creates a BIP-340 device key (DIR/device.key, mode 0600), registers\n"
    "the device (DEVICE_REGISTER, signed by --key, an operator), and writes DIR/trust.txt and\n"
    "DIR/fwagent.conf. The trust anchors: the chain and validators of --trust (a trust file,\n"
    "`fwchain trust create`), checked against the node's newest checkpoint (quorum of valid\n"
    "cosignatures), and the product's current root key set from the node (which must equal\n"
    "the one --trust names for the product, if it names one).\n"
    "\n"
    "  --product ID        the device's product (registered on the ledger)\n"
    "  --hwid HW           its hardware id\n"
    "  --trust FILE        trust file: chain id, validators, quorum (products optional)\n"
    "  --out DIR           the device folder to create\n"
    "  --channel NAME      release channel (default stable)\n"
    "  --gateway URL       content gateway for the agent (default: the node)\n"
    "  --slot-size BYTES   size of each of its two slots (default 16777216)\n"
    "  --floor N           release-counter floor of the new device (default 0)\n"
    "  --poll-interval S   seconds between check-ins of `fwagent run` (default 3600)\n"
    "  --poll-jitter S     random extra seconds up to S (default 300)\n"
    "\n"
    "Transaction options (of the registration):\n"
    "  --key KEYSTORE          the operator's key (the sender)\n"
    "  --passphrase-file FILE  passphrase source (else FWCHAIN_PASSPHRASE, else a prompt)\n"
    "  --nonce N               the operator's next nonce (default: asked from the node)\n"
    "  --chain-id ID           the chain (default: asked from the node)\n"
    "  --node URL              the node (default $FWCHAIN_NODE, else " CLI_NODE_DEFAULT ")\n"
    "  --timeout SECONDS       per request (default 30)\n"
    "  --wait SECONDS          wait up to SECONDS for the block (default 10)\n";

enum {
	O_HELP = 1,
	O_PRODUCT,
	O_HWID,
	O_TRUST,
	O_OUT_DIR,
	O_CHANNEL,
	O_GATEWAY,
	O_SLOT_SIZE,
	O_FLOOR,
	O_POLL_INTERVAL,
	O_POLL_JITTER,
};

/* The node's current root key set of product (non-revoked keys) into *ks, its version into
 * *version. Prints one line and returns CLI_EXIT_ERROR on failure. */
static int node_root_set(const char *cmd, struct cli_node *n, struct fwc_keyset *ks,
                         uint64_t *version, const char *product)
{
	char path[128];
	json_t *obj = NULL, *rs, *keys;
	size_t i;
	int rc = CLI_EXIT_ERROR;

	snprintf(path, sizeof(path), "/v1/products/%s", product);
	if (cli_node_json(n, &obj, "GET", path, NULL, 0, NULL, NULL, 0) != 0)
		return CLI_EXIT_ERROR;
	rs = json_object_get(obj, "root_set");
	keys = json_object_get(rs, "keys");
	if (!json_is_object(rs) || !json_is_array(keys) || cli_json_int(rs, "version") < 1 ||
	    cli_json_int(rs, "threshold") < 1) {
		cli_err(cmd, "the node's product %.64s has no root key set", product);
		goto out;
	}
	memset(ks, 0, sizeof(*ks));
	for (i = 0; i < json_array_size(keys); i++) {
		const json_t *k = json_array_get(keys, i);
		const char *text = cli_json_string(k, "key");
		struct fwc_errinfo ei = {0};

		if (json_is_true(json_object_get(k, "revoked")))
			continue;
		if (text == NULL || ks->n == FWC_KEYSET_MAX ||
		    fwc_pubkey_from_text(&ks->keys[ks->n], text, strlen(text), &ei) < 0) {
			cli_err(cmd, "the node's root key set of %.64s has a bad key", product);
			goto out;
		}
		ks->n++;
	}
	ks->threshold = (unsigned)cli_json_int(rs, "threshold");
	if (ks->n == 0 || ks->threshold > ks->n) {
		cli_err(cmd,
		        "the node's root key set of %.64s has fewer usable keys than its "
		        "threshold",
		        product);
		goto out;
	}
	*version = (uint64_t)cli_json_int(rs, "version");
	rc = 0;
out:
	json_decref(obj);
	return rc;
}

static int same_set(const struct fwc_keyset *a, const struct fwc_keyset *b)
{
	if (a->n != b->n || a->threshold != b->threshold)
		return 0;
	for (size_t i = 0; i < a->n; i++) {
		size_t j;

		for (j = 0; j < b->n; j++)
			if (fwc_pubkey_equal(&a->keys[i], &b->keys[j]))
				break;
		if (j == b->n)
			return 0;
	}
	return 1;
}

/* The node's newest checkpoint must be of t's chain and carry a quorum of t's validators. */
static int check_checkpoint(const char *cmd, struct cli_node *n, const struct fwc_trust *t,
                            uint64_t *size)
{
	static struct fwc_note note;
	struct fwc_note_check res[FWC_TRUST_MAX_VALIDATORS];
	struct fwc_checkpoint cp;
	struct fwc_errinfo ei = {0};
	struct cli_http_response r = {0};
	size_t nvalid = 0;
	int lrc, rc = CLI_EXIT_ERROR;

	if (cli_node_request(n, &r, "GET", "/v1/checkpoint", NULL, 0, NULL, FWC_NOTE_MAX_LEN) != 0)
		return CLI_EXIT_ERROR;
	if (r.status != 200) {
		cli_node_error(n, &r, "GET", "/v1/checkpoint", NULL, 0);
		goto out;
	}
	if ((lrc = fwc_note_parse(&note, r.body, r.len, &ei)) < 0 ||
	    (lrc = fwc_checkpoint_parse(&cp, note.text, note.text_len, &ei)) < 0) {
		cli_err_rc(cmd, lrc, &ei, "the node's checkpoint");
		goto out;
	}
	if (cp.origin_len != t->origin_len || memcmp(cp.origin, t->origin, t->origin_len) != 0) {
		cli_err(cmd, "the node's checkpoint is for chain %.*s, not the trusted %.*s",
		        (int)(cp.origin_len > 64 ? 64 : cp.origin_len), cp.origin,
		        (int)t->origin_len, t->origin);
		rc = CLI_EXIT_FAIL;
		goto out;
	}
	lrc = fwc_note_verify_quorum(res, &nvalid, &note, t->validators, t->n_validators, t->quorum,
	                             &ei);
	if (lrc < 0) {
		cli_err_rc(cmd, lrc, &ei,
		           "the node's checkpoint is not cosigned by a quorum of the "
		           "trusted validators");
		rc = CLI_EXIT_FAIL;
		goto out;
	}
	*size = cp.size;
	rc = 0;
out:
	cli_http_response_cleanup(&r);
	return rc;
}

int cli_device_provision(int argc, char **argv)
{
	static const struct cli_opt opts[] = {
	    {"help", O_HELP, 0},
	    {"product", O_PRODUCT, 1},
	    {"hwid", O_HWID, 1},
	    {"trust", O_TRUST, 1},
	    {"out", O_OUT_DIR, 1},
	    {"channel", O_CHANNEL, 1},
	    {"gateway", O_GATEWAY, 1},
	    {"slot-size", O_SLOT_SIZE, 1},
	    {"floor", O_FLOOR, 1},
	    {"poll-interval", O_POLL_INTERVAL, 1},
	    {"poll-jitter", O_POLL_JITTER, 1},
	    {"key", CLI_TXO_KEY, 1},
	    {"passphrase-file", CLI_TXO_PASSFILE, 1},
	    {"nonce", CLI_TXO_NONCE, 1},
	    {"chain-id", CLI_TXO_CHAIN_ID, 1},
	    {"node", CLI_TXO_NODE, 1},
	    {"timeout", CLI_TXO_TIMEOUT, 1},
	    {"wait", CLI_TXO_WAIT, 1},
	    {NULL, 0, 0},
	};
	const char *cmd = "device provision", *val, *product = NULL, *hwid = NULL,
	           *trust_path = NULL, *dir = NULL, *channel = "stable", *gateway = NULL;
	static struct fwc_trust t;
	static struct fwc_pl_device_register pl;
	static char text[FWC_TRUST_MAX_LEN], conf[4096], path[4200];
	static uint8_t payload[FWC_TX_PAYLOAD_MAX];
	unsigned long long slot_size = 16777216, floor_v = 0, interval = 3600, jitter = 300;
	struct fwc_trust_product *pr = NULL;
	struct fwc_keyset root;
	struct fwc_errinfo ei = {0};
	struct fwc_seckey sk;
	struct fwc_pubkey pk;
	struct cli_txopts o;
	struct cli_parser p;
	struct cli_node node;
	uint8_t *tbuf = NULL, secret[32];
	char hex[65], pktext[80];
	uint64_t root_version = 0, cp_size = 0;
	size_t len = 0, plen = 0;
	int id, k, lrc, rc = CLI_EXIT_ERROR, have_node = 0, tofu = 0;
	FILE *f;

	memset(&o, 0, sizeof(o));
	memset(&sk, 0, sizeof(sk));
	cli_parser_init(&p, cmd, argc, argv, 2);
	while ((id = cli_next(&p, opts, &val)) != CLI_NEXT_END) {
		if (id == CLI_NEXT_BAD)
			return CLI_EXIT_ERROR;
		if (id == O_HELP) {
			fputs(provision_help, stdout);
			return cli_stdout_done(cmd);
		}
		if (id == CLI_NEXT_POS)
			return cli_usage_err(cmd, "unexpected argument '%.64s'", val);
		if ((k = cli_txopts_take(cmd, &o, id, val)) == 1)
			continue;
		if (k != 0)
			return CLI_EXIT_ERROR;
		switch (id) {
		case O_PRODUCT:
			product = val;
			break;
		case O_HWID:
			hwid = val;
			break;
		case O_TRUST:
			trust_path = val;
			break;
		case O_OUT_DIR:
			dir = val;
			break;
		case O_CHANNEL:
			channel = val;
			break;
		case O_GATEWAY:
			gateway = val;
			break;
		case O_SLOT_SIZE:
			if (cli_u64_arg(cmd, "--slot-size", val, 1ull << 32, &slot_size) != 0)
				return CLI_EXIT_ERROR;
			if (slot_size == 0 || slot_size % 4096 != 0)
				return cli_err(cmd,
				               "--slot-size must be a positive multiple of 4096");
			break;
		case O_FLOOR:
			if (cli_u64_arg(cmd, "--floor", val, INT64_MAX, &floor_v) != 0)
				return CLI_EXIT_ERROR;
			break;
		case O_POLL_INTERVAL:
			if (cli_u64_arg(cmd, "--poll-interval", val, 86400 * 365, &interval) != 0)
				return CLI_EXIT_ERROR;
			if (interval == 0)
				return cli_err(cmd, "--poll-interval must be at least 1");
			break;
		case O_POLL_JITTER:
			if (cli_u64_arg(cmd, "--poll-jitter", val, 86400 * 365, &jitter) != 0)
				return CLI_EXIT_ERROR;
			break;
		default:
			return cli_usage_err(cmd, "unexpected argument '%.64s'", val);
		}
	}
	if (product == NULL || hwid == NULL || trust_path == NULL || dir == NULL)
		return cli_usage_err(cmd, "--product, --hwid, --trust and --out are required");
	if (!fwc_pl_id_valid(product, strlen(product), FWC_PL_ID_MAX))
		return cli_err(cmd, "--product '%.64s' is not a valid id", product);
	for (const char *c = hwid; *c; c++)
		if (*c < 0x21 || *c > 0x7e)
			return cli_err(cmd, "--hwid must be printable ASCII without spaces");
	for (const char *c = channel; *c; c++)
		if (*c < 0x21 || *c > 0x7e)
			return cli_err(cmd, "--channel must be printable ASCII without spaces");
	if (strlen(hwid) == 0 || strlen(hwid) > FWC_PL_HWID_MAX || strlen(channel) == 0 ||
	    strlen(channel) > 64)
		return cli_err(cmd, "--hwid must be 1..%d bytes, --channel 1..64", FWC_PL_HWID_MAX);
	if (gateway != NULL && strncmp(gateway, "http://", 7) != 0 &&
	    strncmp(gateway, "https://", 8) != 0)
		return cli_err(cmd, "--gateway must be an http:// or https:// URL");
	if (strlen(dir) > 3000)
		return cli_err(cmd, "--out: path too long");
	if (cli_trust_load(cmd, &t, &tbuf, trust_path) != 0)
		return CLI_EXIT_ERROR;

	/* the node: chain, checkpoint under the trusted validators, the product's root set */
	if (cli_node_init(&node, cmd, o.node, o.timeout) != 0)
		goto out;
	have_node = 1;
	if ((rc = check_checkpoint(cmd, &node, &t, &cp_size)) != 0)
		goto out;
	rc = CLI_EXIT_ERROR;
	if (node_root_set(cmd, &node, &root, &root_version, product) != 0)
		goto out;
	for (size_t i = 0; i < t.n_products; i++)
		if (t.products[i].id_len == strlen(product) &&
		    memcmp(t.products[i].id, product, t.products[i].id_len) == 0)
			pr = &t.products[i];
	if (pr != NULL && pr->has_root) {
		if (!same_set(&pr->root, &root)) {
			cli_err(cmd,
			        "the node's root key set of %.64s (version %llu) is not the one "
			        "%.200s names",
			        product, (unsigned long long)root_version, trust_path);
			rc = CLI_EXIT_FAIL;
			goto out;
		}
	} else if (pr == NULL) {
		if (t.n_products == FWC_TRUST_MAX_PRODUCTS) {
			cli_err(cmd, "%.200s already names %d products", trust_path,
			        FWC_TRUST_MAX_PRODUCTS);
			goto out;
		}
		pr = &t.products[t.n_products++];
		memset(pr, 0, sizeof(*pr));
		pr->id = product;
		pr->id_len = strlen(product);
		tofu = 1;
	} else {
		tofu = 1;
	}
	pr->root = root;
	pr->has_root = 1;
	/* the device trusts only this product's keys */
	if (pr != &t.products[0])
		t.products[0] = *pr;
	t.n_products = 1;
	if ((lrc = fwc_trust_format(text, sizeof(text), &len, &t, &ei)) < 0) {
		cli_err_rc(cmd, lrc, &ei, "making the device's trust file");
		goto out;
	}

	/* the device folder and key */
	if (mkdir(dir, 0700) != 0) {
		cli_err(cmd, "cannot create %.200s: %s", dir, strerror(errno));
		goto out;
	}
	if ((lrc = fwc_key_generate(&sk, FWC_ALG_BIP340)) < 0 ||
	    (lrc = fwc_key_public(&pk, &sk)) < 0 || (lrc = fwc_key_secret(secret, &sk)) < 0) {
		cli_err_rc(cmd, lrc, NULL, "creating the device key");
		goto out;
	}
	fwc_hex_encode(hex, sizeof(hex), secret, 32);
	fwc_wipe(secret, sizeof(secret));
	hex[64] = '\n';
	snprintf(path, sizeof(path), "%s/device.key", dir);
	if (cli_file_write_atomic(cmd, path, hex, 65, 0600, 0) != 0)
		goto out;
	fwc_wipe(hex, sizeof(hex));
	fwc_pubkey_to_text(pktext, sizeof(pktext), &pk);
	snprintf(path, sizeof(path), "%s/trust.txt", dir);
	if (cli_file_write_atomic(cmd, path, text, len, 0644, 0) != 0)
		goto out;

	/* register it */
	memset(&pl, 0, sizeof(pl));
	pl.device = pk;
	pl.product.p = product;
	pl.product.len = strlen(product);
	pl.hwid.p = hwid;
	pl.hwid.len = strlen(hwid);
	pl.counter = floor_v;
	if ((lrc = fwc_pl_device_register_encode(payload, sizeof(payload), &plen, &pl)) < 0) {
		cli_err_rc(cmd, lrc, NULL, "encoding the registration");
		goto out;
	}
	if (!o.have_wait) {
		o.wait = 10;
		o.have_wait = 1;
	}
	if ((rc = cli_tx_send(cmd, &o, FWC_TX_DEVICE_REGISTER, payload, plen)) != 0)
		goto out;
	rc = CLI_EXIT_ERROR;

	/* the agent's configuration */
	k = snprintf(conf, sizeof(conf),
	             "fwagent-config/v1\n"
	             "# provisioned by fwchain device provision; device %s\n"
	             "node %s\n"
	             "%s%s%s"
	             "product %s\n"
	             "hwid %s\n"
	             "channel %s\n"
	             "device-dir slots\n"
	             "key device.key\n"
	             "trust trust.txt\n"
	             "root-version %llu\n"
	             "floor %llu\n"
	             "slot-size %llu\n"
	             "erase-unit 4096\n"
	             "poll-interval %llu\n"
	             "poll-jitter %llu\n",
	             pktext, node.url, gateway ? "gateway " : "", gateway ? gateway : "",
	             gateway ? "\n" : "", product, hwid, channel, (unsigned long long)root_version,
	             floor_v, slot_size, interval, jitter);
	if (k < 0 || (size_t)k >= sizeof(conf)) {
		cli_err(cmd, "configuration too long");
		goto out;
	}
	snprintf(path, sizeof(path), "%s/fwagent.conf", dir);
	if ((f = fopen(path, "wx")) == NULL || fwrite(conf, 1, (size_t)k, f) != (size_t)k) {
		if (f)
			fclose(f);
		cli_err(cmd, "cannot write %.200s", path);
		goto out;
	}
	if (fclose(f) != 0) {
		cli_err(cmd, "cannot write %.200s", path);
		goto out;
	}
	printf("device:      %s\n", pktext);
	printf("checkpoint:  %llu log entries, cosigned by a quorum of %zu of the %zu trusted "
	       "validators\n",
	       (unsigned long long)cp_size, t.quorum, t.n_validators);
	printf("root keys:   %zu (threshold %u), version %llu, %s\n", root.n, root.threshold,
	       (unsigned long long)root_version,
	       tofu ? "taken from the node (not named by the trust file)"
	            : "as the trust file names them");
	printf("config:      %s (run: fwagent check --config %s)\n", path, path);
	rc = cli_stdout_done(cmd);
out:
	fwc_seckey_wipe(&sk);
	if (have_node)
		cli_node_cleanup(&node);
	free(tbuf);
	return rc;
}
