/* fwchain status / checkpoint / tx: talking to a node (docs/node.md) and handling signed
 * transactions as files.
 *
 * `status` and `checkpoint` are thin views of GET /v1/health and GET /v1/checkpoint. The
 * checkpoint is printed only after it parsed as a signed note (UTF-8, no control characters
 * but newlines), because it is untrusted text headed for a terminal; `checkpoint --trust`
 * additionally checks origin and quorum as `proof verify` does. `tx submit` and `tx status`
 * are the transport of a signed transaction (cli/txsend.c does the work), `tx send` builds one
 * from a type and raw payload bytes, and `tx show` decodes one offline, its payload included,
 * so an operator can read what a file will do before submitting it. */
#include <stdlib.h>
#include <string.h>

#include "fwchain/bundle.h"
#include "fwchain/hex.h"
#include "fwchain/note.h"
#include "fwchain/payload.h"
#include "fwchain/trust.h"
#include "fwchain/tx.h"
#include "client.h"
#include "commands.h"
#include "txsend.h"
#include "util.h"

enum {
	O_HELP = 1,
	O_NODE,
	O_TIMEOUT,
	O_JSON,
	O_WAIT,
	O_OUT,
	O_TRUST,
	O_TYPE,
	O_PAYLOAD_HEX,
	O_PAYLOAD_FILE,
};

/* --node and --timeout, shared by the commands here. */
static int node_opt(const char *cmd, int id, const char *val, const char **node, unsigned *timeout)
{
	unsigned long long v;

	if (id == O_NODE) {
		*node = val;
		return 1;
	}
	if (id == O_TIMEOUT) {
		if (cli_u64_arg(cmd, "--timeout", val, 3600, &v) != 0)
			return CLI_EXIT_ERROR;
		if (v == 0)
			return cli_err(cmd, "--timeout must be 1..3600 seconds");
		*timeout = (unsigned)v;
		return 1;
	}
	return 0;
}

/* ---- status ---- */

static const char status_help[] =
    "usage: fwchain status [--node URL] [--timeout SECONDS] [--json]\n"
    "\n"
    "Asks the node (GET /v1/health) for its chain id, block height, log size and the number\n"
    "of pending transactions.\n"
    "\n"
    "  --node URL         the node (default $FWCHAIN_NODE, else " CLI_NODE_DEFAULT ")\n"
    "  --timeout SECONDS  for the request (default 30)\n"
    "  --json             print "
    "{\"node\",\"status\",\"chain_id\",\"height\",\"log_size\",\"mempool\"}\n"
    "\n"
    "Exit codes: 0 the node answered; 2 usage error, node unreachable or in error.\n";

int cmd_status(int argc, char **argv)
{
	static const struct cli_opt opts[] = {
	    {"help", O_HELP, 0}, {"node", O_NODE, 1}, {"timeout", O_TIMEOUT, 1},
	    {"json", O_JSON, 0}, {NULL, 0, 0},
	};
	const char *cmd = "status", *val, *url = NULL, *s, *chain;
	struct cli_node n;
	struct cli_parser p;
	unsigned timeout = 0;
	json_t *h = NULL;
	int id, json = 0, rc = CLI_EXIT_ERROR, k;

	cli_parser_init(&p, cmd, argc, argv, 1);
	while ((id = cli_next(&p, opts, &val)) != CLI_NEXT_END) {
		if (id == O_HELP) {
			fputs(status_help, stdout);
			return cli_stdout_done(cmd);
		}
		if (id == O_JSON) {
			json = 1;
			continue;
		}
		if (id == CLI_NEXT_POS)
			return cli_usage_err(cmd, "unexpected argument '%.64s'", val);
		if ((k = node_opt(cmd, id, val, &url, &timeout)) != 1)
			return CLI_EXIT_ERROR;
	}
	if (cli_node_init(&n, cmd, url, timeout) != 0)
		return CLI_EXIT_ERROR;
	if (cli_node_json(&n, &h, "GET", "/v1/health", NULL, 0, NULL, NULL, 0) != 0)
		goto out;
	s = cli_json_string(h, "status");
	chain = cli_json_string(h, "chain_id");
	if (s == NULL || chain == NULL) {
		cli_err(cmd, "the node's /v1/health lacks status or chain_id");
		goto out;
	}
	if (json) {
		fputs("{\"node\":", stdout);
		cli_json_str(stdout, n.url, strlen(n.url));
		fputs(",\"status\":", stdout);
		cli_json_str(stdout, s, strlen(s));
		fputs(",\"chain_id\":", stdout);
		cli_json_str(stdout, chain, strlen(chain));
		printf(",\"height\":%lld,\"log_size\":%lld,\"mempool\":%lld}\n",
		       cli_json_int(h, "height"), cli_json_int(h, "log_size"),
		       cli_json_int(h, "mempool"));
	} else {
		fputs("node:     ", stdout);
		cli_text_safe(stdout, n.url, strlen(n.url));
		fputs("\nstatus:   ", stdout);
		cli_text_safe(stdout, s, strlen(s));
		fputs("\nchain:    ", stdout);
		cli_text_safe(stdout, chain, strlen(chain));
		printf("\nheight:   %lld\nlog size: %lld\nmempool:  %lld\n",
		       cli_json_int(h, "height"), cli_json_int(h, "log_size"),
		       cli_json_int(h, "mempool"));
	}
	rc = cli_stdout_done(cmd);
out:
	json_decref(h);
	cli_node_cleanup(&n);
	return rc;
}

/* ---- checkpoint ---- */

static const char checkpoint_help[] =
    "usage: fwchain checkpoint [--node URL] [--timeout SECONDS] [--trust FILE] [--out FILE]\n"
    "\n"
    "Prints the node's newest checkpoint (GET /v1/checkpoint): the C2SP signed note, verbatim.\n"
    "It is printed only if it parses as a checkpoint note.\n"
    "\n"
    "  --node URL         the node (default $FWCHAIN_NODE, else " CLI_NODE_DEFAULT ")\n"
    "  --timeout SECONDS  for the request (default 30)\n"
    "  --trust FILE       also check it against a trust file: origin and a quorum of valid\n"
    "                     validator cosignatures (one line on stderr and exit 1 if not)\n"
    "  --out FILE         write the note to FILE (atomically, replacing it) instead\n"
    "\n"
    "Exit codes: 0 printed; 1 it fails the --trust check; 2 usage error, node unreachable, or\n"
    "an answer that is not a checkpoint note.\n";

int cmd_checkpoint(int argc, char **argv)
{
	static const struct cli_opt opts[] = {
	    {"help", O_HELP, 0},   {"node", O_NODE, 1}, {"timeout", O_TIMEOUT, 1},
	    {"trust", O_TRUST, 1}, {"out", O_OUT, 1},   {NULL, 0, 0},
	};
	const char *cmd = "checkpoint", *val, *url = NULL, *trust_path = NULL, *out = NULL;
	static struct fwc_note note;
	static struct fwc_trust t;
	struct fwc_note_check res[FWC_TRUST_MAX_VALIDATORS];
	struct fwc_checkpoint cp;
	struct fwc_errinfo ei = {0};
	struct cli_http_response r = {0};
	struct cli_node n;
	struct cli_parser p;
	unsigned timeout = 0;
	uint8_t *tbuf = NULL;
	size_t nvalid = 0;
	int id, k, lrc, rc = CLI_EXIT_ERROR;

	cli_parser_init(&p, cmd, argc, argv, 1);
	while ((id = cli_next(&p, opts, &val)) != CLI_NEXT_END) {
		if (id == O_HELP) {
			fputs(checkpoint_help, stdout);
			return cli_stdout_done(cmd);
		}
		if (id == O_TRUST) {
			trust_path = val;
			continue;
		}
		if (id == O_OUT) {
			out = val;
			continue;
		}
		if (id == CLI_NEXT_POS)
			return cli_usage_err(cmd, "unexpected argument '%.64s'", val);
		if ((k = node_opt(cmd, id, val, &url, &timeout)) != 1)
			return CLI_EXIT_ERROR;
	}
	if (trust_path != NULL && cli_trust_load(cmd, &t, &tbuf, trust_path) != 0)
		return CLI_EXIT_ERROR;
	if (cli_node_init(&n, cmd, url, timeout) != 0)
		goto out;
	if (cli_node_request(&n, &r, "GET", "/v1/checkpoint", NULL, 0, NULL, FWC_NOTE_MAX_LEN) != 0)
		goto out;
	if (r.status != 200) {
		cli_node_error(&n, &r, "GET", "/v1/checkpoint", NULL, 0);
		goto out;
	}
	if ((lrc = fwc_note_parse(&note, r.body, r.len, &ei)) < 0 ||
	    (lrc = fwc_checkpoint_parse(&cp, note.text, note.text_len, &ei)) < 0) {
		cli_err_rc(cmd, lrc, &ei, "the node's checkpoint (byte %zu)", ei.offset);
		goto out;
	}
	if (trust_path != NULL) {
		if (cp.origin_len != t.origin_len ||
		    memcmp(cp.origin, t.origin, t.origin_len) != 0) {
			cli_err(cmd,
			        "the node's checkpoint is for chain %.*s, not the trusted %.*s",
			        (int)(cp.origin_len > 64 ? 64 : cp.origin_len), cp.origin,
			        (int)t.origin_len, t.origin);
			rc = CLI_EXIT_FAIL;
			goto out;
		}
		lrc = fwc_note_verify_quorum(res, &nvalid, &note, t.validators, t.n_validators,
		                             t.quorum, &ei);
		if (lrc < 0) {
			cli_err_rc(cmd, lrc, &ei, "the node's checkpoint");
			rc = CLI_EXIT_FAIL;
			goto out;
		}
	}
	if (out != NULL) {
		if (cli_file_write_atomic(cmd, out, r.body, r.len, 0644, 1) != 0)
			goto out;
		rc = 0;
	} else {
		fwrite(r.body, 1, r.len, stdout);
		rc = cli_stdout_done(cmd);
	}
out:
	cli_http_response_cleanup(&r);
	cli_node_cleanup(&n);
	free(tbuf);
	return rc;
}

/* ---- tx submit ---- */

static int tx_file_read(const char *cmd, uint8_t **buf, size_t *len, struct fwc_signed_tx *stx,
                        const char *path)
{
	struct fwc_errinfo ei = {0};
	int rc;

	if (cli_file_read(cmd, path, FWC_TX_MAX, buf, len) != 0)
		return CLI_EXIT_ERROR;
	rc = fwc_tx_decode(stx, *buf, *len, &ei);
	if (rc < 0) {
		free(*buf);
		*buf = NULL;
		return cli_err_rc(cmd, rc, &ei, "transaction %s (byte %zu)", path, ei.offset);
	}
	return 0;
}

static const char submit_help[] =
    "usage: fwchain tx submit [--node URL] [--timeout SECONDS] [--wait SECONDS] [--json] FILE\n"
    "\n"
    "Sends a signed transaction (its CBOR bytes, e.g. from --out of a write command) to the\n"
    "node (POST /v1/txs) and prints its id and status. It is decoded first: a file that is not\n"
    "a signed transaction is not sent.\n"
    "\n"
    "  --wait SECONDS  wait up to SECONDS for it to be in a block\n"
    "  --json          print {\"id\",\"type\",\"nonce\",\"status\"[,\"block\",\"leaf_index\"]\n"
    "                  [,\"code\",\"message\"]}\n"
    "\n"
    "Exit codes: 0 accepted (committed, with --wait); 1 with --wait: refused at block time or\n"
    "still pending; 2 usage error, unreadable or malformed FILE, node unreachable, or the node\n"
    "refused it (its code and message are on the error line).\n";

static int tx_submit(int argc, char **argv)
{
	static const struct cli_opt opts[] = {
	    {"help", O_HELP, 0}, {"node", O_NODE, 1}, {"timeout", O_TIMEOUT, 1},
	    {"wait", O_WAIT, 1}, {"json", O_JSON, 0}, {NULL, 0, 0},
	};
	const char *cmd = "tx submit", *val, *url = NULL, *file = NULL;
	struct fwc_signed_tx stx;
	struct cli_node n;
	struct cli_parser p;
	unsigned timeout = 0;
	unsigned long long wait = 0;
	uint8_t *buf = NULL;
	size_t len = 0;
	int id, k, json = 0, rc = CLI_EXIT_ERROR;

	cli_parser_init(&p, cmd, argc, argv, 2);
	while ((id = cli_next(&p, opts, &val)) != CLI_NEXT_END) {
		switch (id) {
		case O_HELP:
			fputs(submit_help, stdout);
			return cli_stdout_done(cmd);
		case O_WAIT:
			if (cli_u64_arg(cmd, "--wait", val, 3600, &wait) != 0)
				return CLI_EXIT_ERROR;
			break;
		case O_JSON:
			json = 1;
			break;
		case CLI_NEXT_POS:
			if (file != NULL)
				return cli_usage_err(cmd, "only one FILE");
			file = val;
			break;
		default:
			if ((k = node_opt(cmd, id, val, &url, &timeout)) != 1)
				return CLI_EXIT_ERROR;
		}
	}
	if (file == NULL)
		return cli_usage_err(cmd, "missing FILE");
	if (tx_file_read(cmd, &buf, &len, &stx, file) != 0)
		return CLI_EXIT_ERROR;
	if (cli_node_init(&n, cmd, url, timeout) == 0)
		rc = cli_tx_submit(cmd, &n, buf, len, (unsigned)wait, json);
	cli_node_cleanup(&n);
	free(buf);
	return rc;
}

/* ---- tx status ---- */

static const char status_tx_help[] =
    "usage: fwchain tx status [--node URL] [--timeout SECONDS] [--wait SECONDS] [--json] ID\n"
    "\n"
    "Asks the node (GET /v1/txs/ID) for a transaction's status: pending, committed (block and\n"
    "leaf index) or refused (the node's code and message). ID is 64 hex digits, the SHA-256\n"
    "of the signed transaction.\n"
    "\n"
    "  --wait SECONDS  while it is pending, ask again (every 0.2 s) for up to SECONDS\n"
    "  --json          print "
    "{\"id\",\"status\"[,\"type\",\"block\",\"leaf_index\"][,\"code\",\"message\"]}\n"
    "\n"
    "Exit codes: 0 committed, or pending without --wait; 1 refused, or still pending after\n"
    "--wait; 2 usage error, bad ID, unknown transaction, node unreachable.\n";

static int tx_status(int argc, char **argv)
{
	static const struct cli_opt opts[] = {
	    {"help", O_HELP, 0}, {"node", O_NODE, 1}, {"timeout", O_TIMEOUT, 1},
	    {"wait", O_WAIT, 1}, {"json", O_JSON, 0}, {NULL, 0, 0},
	};
	const char *cmd = "tx status", *val, *url = NULL, *txid = NULL;
	struct cli_node n;
	struct cli_parser p;
	unsigned timeout = 0;
	unsigned long long wait = 0;
	uint8_t idb[FWC_TX_ID_LEN];
	char hex[2 * FWC_TX_ID_LEN + 1];
	size_t len = 0, i;
	json_t *st = NULL;
	int id, k, json = 0, rc = CLI_EXIT_ERROR, have_wait = 0;

	cli_parser_init(&p, cmd, argc, argv, 2);
	while ((id = cli_next(&p, opts, &val)) != CLI_NEXT_END) {
		switch (id) {
		case O_HELP:
			fputs(status_tx_help, stdout);
			return cli_stdout_done(cmd);
		case O_WAIT:
			if (cli_u64_arg(cmd, "--wait", val, 3600, &wait) != 0)
				return CLI_EXIT_ERROR;
			have_wait = 1;
			break;
		case O_JSON:
			json = 1;
			break;
		case CLI_NEXT_POS:
			if (txid != NULL)
				return cli_usage_err(cmd, "only one ID");
			txid = val;
			break;
		default:
			if ((k = node_opt(cmd, id, val, &url, &timeout)) != 1)
				return CLI_EXIT_ERROR;
		}
	}
	if (txid == NULL)
		return cli_usage_err(cmd, "missing ID");
	if (strlen(txid) != 2 * FWC_TX_ID_LEN)
		return cli_err(cmd, "ID: need %d hex digits, got %zu", 2 * FWC_TX_ID_LEN,
		               strlen(txid));
	if (cli_hex_arg(cmd, "ID", txid, idb, sizeof(idb), &len) != 0)
		return CLI_EXIT_ERROR;
	/* The node wants lowercase. */
	for (i = 0; i < sizeof(hex) - 1; i++)
		hex[i] = (char)(txid[i] >= 'A' && txid[i] <= 'F' ? txid[i] + 32 : txid[i]);
	hex[sizeof(hex) - 1] = '\0';
	if (cli_node_init(&n, cmd, url, timeout) != 0)
		goto out;
	if (cli_tx_poll(&n, &st, hex, (unsigned)wait) != 0)
		goto out;
	rc = cli_tx_status_print(cmd, st, hex, have_wait, json);
out:
	json_decref(st);
	cli_node_cleanup(&n);
	return rc;
}

/* ---- tx send ---- */

static const char send_help[] =
    "usage: fwchain tx send --type TYPE (--payload-hex HEX | --payload-file FILE)\n"
    "                       --key KEYSTORE --nonce N [transaction options]\n"
    "\n"
    "Builds, signs and submits a transaction of any type with the given payload bytes, as\n"
    "they are (no check of the payload: the typed commands build checked payloads).\n"
    "\n"
    "  --type TYPE            a type name (release, device-register, ...) or number 1..17\n"
    "  --payload-hex HEX      the payload bytes in hex (may be empty)\n"
    "  --payload-file FILE    the payload bytes from FILE\n"
    "\n" CLI_TX_OPTIONS_HELP "\n"
    "Exit codes: 0 accepted (committed, with --wait); 1 with --wait: refused or still pending;\n"
    "2 usage or input error, wrong passphrase, node unreachable or refusing.\n";

int cli_tx_type_arg(const char *cmd, const char *s, uint32_t *type)
{
	unsigned long long v;
	int t;

	for (t = 1; t <= FWC_TX_TYPE_MAX; t++)
		if (fwc_tx_type_name(t) != NULL && strcmp(fwc_tx_type_name(t), s) == 0) {
			*type = (uint32_t)t;
			return 0;
		}
	if (s[0] >= '0' && s[0] <= '9') {
		if (cli_u64_arg(cmd, "--type", s, FWC_TX_TYPE_MAX, &v) != 0)
			return CLI_EXIT_ERROR;
		if (v >= 1) {
			*type = (uint32_t)v;
			return 0;
		}
	}
	return cli_err(cmd, "--type: unknown transaction type '%.40s'", s);
}

static int tx_send(int argc, char **argv)
{
	static const struct cli_opt opts[] = {
	    {"help", O_HELP, 0},
	    {"type", O_TYPE, 1},
	    {"payload-hex", O_PAYLOAD_HEX, 1},
	    {"payload-file", O_PAYLOAD_FILE, 1},
	    CLI_TX_OPTIONS,
	    {NULL, 0, 0},
	};
	const char *cmd = "tx send", *val, *phex = NULL, *pfile = NULL;
	struct cli_txopts o;
	struct cli_parser p;
	uint32_t type = 0;
	uint8_t *payload = NULL;
	size_t len = 0;
	int id, k, rc = CLI_EXIT_ERROR;

	memset(&o, 0, sizeof(o));
	cli_parser_init(&p, cmd, argc, argv, 2);
	while ((id = cli_next(&p, opts, &val)) != CLI_NEXT_END) {
		switch (id) {
		case O_HELP:
			fputs(send_help, stdout);
			return cli_stdout_done(cmd);
		case O_TYPE:
			if (cli_tx_type_arg(cmd, val, &type) != 0)
				return CLI_EXIT_ERROR;
			break;
		case O_PAYLOAD_HEX:
			phex = val;
			break;
		case O_PAYLOAD_FILE:
			pfile = val;
			break;
		case CLI_NEXT_POS:
			return cli_usage_err(cmd, "unexpected argument '%.64s'", val);
		default:
			if ((k = cli_txopts_take(cmd, &o, id, val)) != 1)
				return CLI_EXIT_ERROR;
		}
	}
	if (type == 0)
		return cli_usage_err(cmd, "missing --type");
	if ((phex == NULL) == (pfile == NULL))
		return cli_usage_err(cmd, "give exactly one of --payload-hex and --payload-file");
	if (pfile != NULL) {
		if (cli_file_read(cmd, pfile, FWC_TX_PAYLOAD_MAX, &payload, &len) != 0)
			return CLI_EXIT_ERROR;
	} else {
		payload = malloc(strlen(phex) / 2 + 1);
		if (payload == NULL)
			return cli_err(cmd, "out of memory");
		if (cli_hex_arg(cmd, "--payload-hex", phex, payload, FWC_TX_PAYLOAD_MAX, &len) != 0)
			goto out;
	}
	rc = cli_tx_send(cmd, &o, type, payload, len);
out:
	free(payload);
	return rc;
}

/* ---- tx show ---- */

static const char show_help[] =
    "usage: fwchain tx show [--json] FILE\n"
    "\n"
    "Decodes a signed transaction offline and prints its id, type, chain, sender, nonce,\n"
    "time, whether its signature verifies, and whether its payload decodes for its type.\n"
    "\n"
    "Exit codes: 0 shown; 2 usage error, unreadable or malformed FILE.\n";

static int tx_show(int argc, char **argv)
{
	static const struct cli_opt opts[] = {
	    {"help", O_HELP, 0},
	    {"json", O_JSON, 0},
	    {NULL, 0, 0},
	};
	const char *cmd = "tx show", *val, *file = NULL, *tn;
	static struct fwc_payload pl;
	struct fwc_signed_tx stx;
	struct fwc_errinfo ei = {0};
	struct cli_parser p;
	char key[FWC_PUBKEY_TEXT_MAX], hex[2 * FWC_TX_ID_LEN + 1];
	uint8_t *buf = NULL, idb[FWC_TX_ID_LEN];
	size_t len = 0;
	int id, json = 0, sig_ok, prc, rc;

	cli_parser_init(&p, cmd, argc, argv, 2);
	while ((id = cli_next(&p, opts, &val)) != CLI_NEXT_END) {
		switch (id) {
		case O_HELP:
			fputs(show_help, stdout);
			return cli_stdout_done(cmd);
		case O_JSON:
			json = 1;
			break;
		case CLI_NEXT_POS:
			if (file != NULL)
				return cli_usage_err(cmd, "only one FILE");
			file = val;
			break;
		default:
			return CLI_EXIT_ERROR;
		}
	}
	if (file == NULL)
		return cli_usage_err(cmd, "missing FILE");
	if (tx_file_read(cmd, &buf, &len, &stx, file) != 0)
		return CLI_EXIT_ERROR;
	fwc_tx_id(idb, buf, len);
	fwc_hex_encode(hex, sizeof(hex), idb, sizeof(idb));
	fwc_pubkey_to_text(key, sizeof(key), &stx.tx.sender);
	tn = fwc_tx_type_name((int)stx.tx.type);
	sig_ok = fwc_tx_verify(&stx, NULL) == FWC_OK;
	prc = fwc_payload_decode(&pl, stx.tx.type, stx.tx.payload.p, stx.tx.payload.len, &ei);
	if (json) {
		printf("{\"id\":\"%s\",\"type\":\"%s\",\"chain_id\":", hex, tn ? tn : "?");
		cli_json_str(stdout, stx.tx.chain_id.p, stx.tx.chain_id.len);
		printf(",\"sender\":\"%s\",\"nonce\":%llu,\"time\":%llu,\"payload_bytes\":%zu,"
		       "\"signature_valid\":%s,\"payload_valid\":%s",
		       key, (unsigned long long)stx.tx.nonce, (unsigned long long)stx.tx.time,
		       stx.tx.payload.len, sig_ok ? "true" : "false",
		       prc == FWC_OK ? "true" : "false");
		if (prc != FWC_OK) {
			fputs(",\"payload_error\":", stdout);
			cli_json_str(stdout, ei.msg, strlen(ei.msg));
		}
		fputs("}\n", stdout);
	} else {
		printf("transaction: %s\ntype:        %s (%u)\nchain:       ", hex, tn ? tn : "?",
		       (unsigned)stx.tx.type);
		cli_text_safe(stdout, stx.tx.chain_id.p, stx.tx.chain_id.len);
		printf("\nsender:      %s\nnonce:       %llu\ntime:        ", key,
		       (unsigned long long)stx.tx.nonce);
		cli_time_print(stdout, stx.tx.time);
		printf("\npayload:     %zu bytes, ", stx.tx.payload.len);
		if (prc == FWC_OK)
			printf("decodes as a %s payload\n", tn);
		else {
			printf("does NOT decode: %s: ", fwc_strerror(prc));
			cli_text_safe(stdout, ei.msg, strlen(ei.msg));
			fputc('\n', stdout);
		}
		printf("signature:   %s\n", sig_ok ? "valid (by the sender)" : "INVALID");
	}
	rc = cli_stdout_done(cmd);
	free(buf);
	return rc;
}

/* ---- dispatch ---- */

static const char tx_help[] =
    "usage: fwchain tx submit|status|send|show [OPTIONS] ...\n"
    "\n"
    "  submit   send a signed transaction file to the node\n"
    "  status   ask the node for a transaction's status\n"
    "  send     build, sign and submit a transaction from a type and payload bytes\n"
    "  show     decode a signed transaction file offline\n"
    "\n"
    "'fwchain tx SUBCOMMAND --help' describes each.\n";

int cmd_tx(int argc, char **argv)
{
	if (argc < 2)
		return cli_usage_err("tx", "missing subcommand (submit, status, send, show)");
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		fputs(tx_help, stdout);
		return cli_stdout_done("tx");
	}
	if (strcmp(argv[1], "submit") == 0)
		return tx_submit(argc, argv);
	if (strcmp(argv[1], "status") == 0)
		return tx_status(argc, argv);
	if (strcmp(argv[1], "send") == 0)
		return tx_send(argc, argv);
	if (strcmp(argv[1], "show") == 0)
		return tx_show(argc, argv);
	return cli_usage_err("tx", "unknown subcommand '%.64s' (submit, status, send, show)",
	                     argv[1]);
}
