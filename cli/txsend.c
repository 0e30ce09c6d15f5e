/* fwchain CLI — the generic transaction path: build the envelope around a payload, sign it
 * with a keystore key, submit it, optionally wait for its block, report.
 *
 * Main design choice: every write command is a payload encoder plus this one function, so
 * every write shares the same options (--key, --nonce, --chain-id, --node, --wait, --out,
 * --no-submit), the same order of work and the same messages. The order avoids wasted effort:
 * options are checked first, then the chain id is asked from the node (so an unreachable node
 * fails before a passphrase prompt), then the key is decrypted, the transaction signed and
 * wiped keys, then submitted. Without --nonce the sender's next nonce is asked from the node
 * (GET /v1/accounts/KEY, which counts the sender's pending transactions too, so several sends
 * in a row need no waiting); --nonce stays for offline signing (--no-submit requires it) and
 * for callers that number their own. The node's refusals (nonce_gap, nonce_replay, ...) come
 * back as one line with the node's code and message, which says which nonce is next. */
#include "txsend.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fwchain/hex.h"
#include "commands.h"
#include "util.h"

int cli_txopts_take(const char *cmd, struct cli_txopts *o, int id, const char *val)
{
	unsigned long long v;

	switch (id) {
	case CLI_TXO_KEY:
		o->key = val;
		return 1;
	case CLI_TXO_PASSFILE:
		o->passfile = val;
		return 1;
	case CLI_TXO_NONCE:
		if (cli_u64_arg(cmd, "--nonce", val, UINT64_MAX, &o->nonce) != 0)
			return CLI_EXIT_ERROR;
		o->have_nonce = 1;
		return 1;
	case CLI_TXO_CHAIN_ID:
		o->chain_id = val;
		return 1;
	case CLI_TXO_TIME:
		if (cli_time_arg(cmd, "--time", val, &o->time) != 0)
			return CLI_EXIT_ERROR;
		o->have_time = 1;
		return 1;
	case CLI_TXO_NODE:
		o->node = val;
		return 1;
	case CLI_TXO_TIMEOUT:
		if (cli_u64_arg(cmd, "--timeout", val, 3600, &v) != 0)
			return CLI_EXIT_ERROR;
		if (v == 0)
			return cli_err(cmd, "--timeout must be 1..3600 seconds");
		o->timeout = (unsigned)v;
		return 1;
	case CLI_TXO_WAIT:
		if (cli_u64_arg(cmd, "--wait", val, 3600, &v) != 0)
			return CLI_EXIT_ERROR;
		o->wait = (unsigned)v;
		o->have_wait = 1;
		return 1;
	case CLI_TXO_OUT:
		o->out = val;
		return 1;
	case CLI_TXO_NO_SUBMIT:
		o->no_submit = 1;
		return 1;
	case CLI_TXO_JSON:
		o->json = 1;
		return 1;
	default:
		return 0;
	}
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int cli_tx_poll(struct cli_node *n, json_t **obj, const char *id_hex, unsigned wait_s)
{
	char path[128];
	double deadline = now_s() + wait_s;
	const char *st;
	json_t *j = NULL;

	snprintf(path, sizeof(path), "/v1/txs/%s", id_hex);
	for (;;) {
		struct timespec pause = {0, 200 * 1000 * 1000};

		if (cli_node_json(n, &j, "GET", path, NULL, 0, NULL, NULL, 0) != 0)
			return CLI_EXIT_ERROR;
		st = cli_json_string(j, "status");
		if (st == NULL) {
			json_decref(j);
			return cli_err(n->cmd, "GET %s: the node's answer has no status", path);
		}
		if (strcmp(st, "pending") != 0 || now_s() + 0.2 > deadline)
			break;
		json_decref(j);
		j = NULL;
		nanosleep(&pause, NULL);
	}
	*obj = j;
	return 0;
}

/* Print a transaction's status (the node's GET /v1/txs/ID object); returns the exit code for
 * it: 0 committed, or pending when not waiting; 1 refused / failed / still pending after a
 * wait. type and nonce (-1 when unknown) are what the caller knows of it. */
static int status_print(const char *cmd, const json_t *st, const char *id_hex, const char *type,
                        long long nonce, int waited, int json)
{
	const char *s = cli_json_string(st, "status"), *code = cli_json_string(st, "code"),
	           *msg = cli_json_string(st, "message");
	long long block = cli_json_int(st, "block"), leaf = cli_json_int(st, "leaf_index");
	int committed = s != NULL && strcmp(s, "committed") == 0;
	int pending = s != NULL && strcmp(s, "pending") == 0;

	if (type == NULL && cli_json_int(st, "type") > 0)
		type = fwc_tx_type_name((int)cli_json_int(st, "type"));
	if (json) {
		printf("{\"id\":\"%s\"", id_hex);
		if (type != NULL)
			printf(",\"type\":\"%s\"", type);
		if (nonce >= 0)
			printf(",\"nonce\":%lld", nonce);
		fputs(",\"status\":", stdout);
		cli_json_str(stdout, s ? s : "", s ? strlen(s) : 0);
		if (committed)
			printf(",\"block\":%lld,\"leaf_index\":%lld", block, leaf);
		if (code != NULL) {
			fputs(",\"code\":", stdout);
			cli_json_str(stdout, code, strlen(code));
		}
		if (msg != NULL) {
			fputs(",\"message\":", stdout);
			cli_json_str(stdout, msg, strlen(msg));
		}
		fputs("}\n", stdout);
	} else {
		printf("transaction: %s\n", id_hex);
		if (type != NULL)
			printf("type:        %s\n", type);
		if (nonce >= 0)
			printf("nonce:       %lld\n", nonce);
		fputs("status:      ", stdout);
		if (committed)
			printf("committed in block %lld at leaf %lld\n", block, leaf);
		else if (pending)
			printf("pending%s\n", waited ? " (not in a block yet)" : "");
		else {
			cli_text_safe(stdout, s ? s : "?", s ? strlen(s) : 1);
			if (code != NULL) {
				fputs(": ", stdout);
				cli_text_safe(stdout, code, strlen(code));
			}
			if (msg != NULL) {
				fputs(": ", stdout);
				cli_text_safe(stdout, msg, strlen(msg));
			}
			fputc('\n', stdout);
		}
	}
	if (cli_stdout_done(cmd) != 0)
		return CLI_EXIT_ERROR;
	if (committed || (pending && !waited))
		return CLI_EXIT_OK;
	return CLI_EXIT_FAIL;
}

int cli_tx_status_print(const char *cmd, const json_t *st, const char *id_hex, int waited, int json)
{
	return status_print(cmd, st, id_hex, NULL, -1, waited, json);
}

int cli_tx_submit(const char *cmd, struct cli_node *n, const uint8_t *tx, size_t len,
                  unsigned wait_s, int json)
{
	struct fwc_signed_tx stx;
	uint8_t id[FWC_TX_ID_LEN];
	char id_hex[2 * FWC_TX_ID_LEN + 1];
	const char *got;
	json_t *r = NULL, *st = NULL;
	int rc = CLI_EXIT_ERROR;

	if (fwc_tx_decode(&stx, tx, len, NULL) < 0)
		return cli_err(cmd, "not a signed transaction");
	fwc_tx_id(id, tx, len);
	fwc_hex_encode(id_hex, sizeof(id_hex), id, sizeof(id));
	if (cli_node_json(n, &r, "POST", "/v1/txs", tx, len, "application/cbor", NULL, 0) != 0)
		return CLI_EXIT_ERROR;
	got = cli_json_string(r, "id");
	if (got == NULL || strcmp(got, id_hex) != 0) {
		cli_err(cmd, "the node accepted the transaction under id %.64s, not its id %s",
		        got ? got : "(none)", id_hex);
		goto out;
	}
	if (wait_s == 0) {
		rc = status_print(cmd, r, id_hex, fwc_tx_type_name((int)stx.tx.type),
		                  (long long)stx.tx.nonce, 0, json);
		goto out;
	}
	if (cli_tx_poll(n, &st, id_hex, wait_s) != 0)
		goto out;
	rc = status_print(cmd, st, id_hex, fwc_tx_type_name((int)stx.tx.type),
	                  (long long)stx.tx.nonce, 1, json);
out:
	json_decref(r);
	json_decref(st);
	return rc;
}

/* The sender's next nonce from the node: next_nonce of GET /v1/accounts/KEY. */
static int next_nonce_get(struct cli_node *n, unsigned long long *out,
                          const struct fwc_pubkey *sender)
{
	char text[FWC_PUBKEY_TEXT_MAX], path[32 + FWC_PUBKEY_TEXT_MAX];
	json_t *j = NULL;
	long long v;

	if (fwc_pubkey_to_text(text, sizeof(text), sender) < 0)
		return cli_err(n->cmd, "cannot write the sender's public key");
	snprintf(path, sizeof(path), "/v1/accounts/%s", text);
	if (cli_node_json(n, &j, "GET", path, NULL, 0, NULL, NULL, 0) != 0)
		return CLI_EXIT_ERROR;
	v = cli_json_int(j, "next_nonce");
	json_decref(j);
	if (v < 1)
		return cli_err(n->cmd, "GET %s: the node's answer has no next_nonce >= 1", path);
	*out = (unsigned long long)v;
	return 0;
}

int cli_tx_send(const char *cmd, const struct cli_txopts *o, uint32_t type, const uint8_t *payload,
                size_t len)
{
	static uint8_t body[FWC_TX_BODY_MAX], signed_tx[FWC_TX_MAX];
	char chain[FWC_TX_CHAIN_ID_MAX + 1], id_hex[2 * FWC_TX_ID_LEN + 1];
	struct cli_node node;
	struct fwc_errinfo ei = {0};
	struct fwc_seckey sk;
	struct fwc_tx tx;
	uint8_t id[FWC_TX_ID_LEN];
	unsigned long long nonce;
	size_t blen = 0, slen = 0;
	int lrc, rc = CLI_EXIT_ERROR, have_node = 0;

	memset(&sk, 0, sizeof(sk));
	memset(&node, 0, sizeof(node));
	if (o->key == NULL)
		return cli_usage_err(cmd, "missing --key KEYSTORE (the sender)");
	if (o->no_submit && !o->have_nonce)
		return cli_usage_err(cmd,
		                     "--no-submit needs --nonce N (the sender's last nonce + 1; "
		                     "the first is 1)");
	if (o->no_submit && o->out == NULL)
		return cli_usage_err(cmd, "--no-submit needs --out FILE");
	if (o->no_submit && o->have_wait)
		return cli_usage_err(cmd, "--wait makes no sense with --no-submit");
	if (len > FWC_TX_PAYLOAD_MAX)
		return cli_err(cmd, "payload is %zu bytes, at most %d", len, FWC_TX_PAYLOAD_MAX);
	if (o->chain_id != NULL) {
		if (strlen(o->chain_id) == 0 || strlen(o->chain_id) > FWC_TX_CHAIN_ID_MAX)
			return cli_err(cmd, "--chain-id must be 1..%d bytes", FWC_TX_CHAIN_ID_MAX);
		memcpy(chain, o->chain_id, strlen(o->chain_id) + 1);
	}
	if (!o->no_submit || o->chain_id == NULL) {
		if (cli_node_init(&node, cmd, o->node, o->timeout) != 0)
			goto out;
		have_node = 1;
		if (o->chain_id == NULL && cli_node_chain_id(&node, chain, sizeof(chain)) != 0)
			goto out;
	}
	if (cli_seckey_load(cmd, &sk, o->key, o->passfile) != 0)
		goto out;
	memset(&tx, 0, sizeof(tx));
	if ((lrc = fwc_key_public(&tx.sender, &sk)) < 0) {
		cli_err_rc(cmd, lrc, NULL, "reading the key's public key");
		goto out;
	}
	nonce = o->nonce;
	if (!o->have_nonce && next_nonce_get(&node, &nonce, &tx.sender) != 0)
		goto out;
	tx.type = type;
	tx.chain_id.p = chain;
	tx.chain_id.len = strlen(chain);
	tx.nonce = nonce;
	tx.time = o->have_time ? o->time : (uint64_t)time(NULL);
	tx.payload.p = payload;
	tx.payload.len = len;
	if ((lrc = fwc_tx_encode_body(body, sizeof(body), &blen, &tx, &ei)) < 0 ||
	    (lrc = fwc_tx_sign(signed_tx, sizeof(signed_tx), &slen, body, blen, &sk, NULL, &ei)) <
	        0) {
		cli_err_rc(cmd, lrc, &ei, "building the transaction");
		goto out;
	}
	fwc_seckey_wipe(&sk);
	if (o->out != NULL && cli_file_write_atomic(cmd, o->out, signed_tx, slen, 0644, 0) != 0)
		goto out;
	if (o->no_submit) {
		fwc_tx_id(id, signed_tx, slen);
		fwc_hex_encode(id_hex, sizeof(id_hex), id, sizeof(id));
		if (o->json)
			printf(
			    "{\"id\":\"%s\",\"type\":\"%s\",\"nonce\":%llu,\"status\":\"signed\","
			    "\"file\":",
			    id_hex, fwc_tx_type_name((int)type), nonce);
		else
			printf("transaction: %s\ntype:        %s\nnonce:       %llu\nstatus:      "
			       "signed, not submitted: ",
			       id_hex, fwc_tx_type_name((int)type), nonce);
		if (o->json) {
			cli_json_str(stdout, o->out, strlen(o->out));
			fputs("}\n", stdout);
		} else {
			cli_text_safe(stdout, o->out, strlen(o->out));
			fputc('\n', stdout);
		}
		rc = cli_stdout_done(cmd);
		goto out;
	}
	rc = cli_tx_submit(cmd, &node, signed_tx, slen, o->wait, o->json);
out:
	fwc_seckey_wipe(&sk);
	if (have_node)
		cli_node_cleanup(&node);
	return rc;
}
