/* fwchain CLI — building, signing and submitting ledger transactions (cli/txsend.c): the one
 * path every write command (tx send and the typed commands of cli/cmd_ledger.c) goes through.
 * Internal to the tool. */
#ifndef FWCHAIN_CLI_TXSEND_H
#define FWCHAIN_CLI_TXSEND_H

#include <stddef.h>
#include <stdint.h>

#include "client.h"
#include "fwchain/key.h"
#include "fwchain/tx.h"

/* Option ids of the shared transaction options; commands start their own ids below this. */
enum {
	CLI_TXO_KEY = 1000,
	CLI_TXO_PASSFILE,
	CLI_TXO_NONCE,
	CLI_TXO_CHAIN_ID,
	CLI_TXO_TIME,
	CLI_TXO_NODE,
	CLI_TXO_TIMEOUT,
	CLI_TXO_WAIT,
	CLI_TXO_OUT,
	CLI_TXO_NO_SUBMIT,
	CLI_TXO_JSON,
};

/* The shared options, for a command's struct cli_opt table (before its {NULL} end). */
#define CLI_TX_OPTIONS                                                                             \
	{"key", CLI_TXO_KEY, 1}, {"passphrase-file", CLI_TXO_PASSFILE, 1},                         \
	    {"nonce", CLI_TXO_NONCE, 1}, {"chain-id", CLI_TXO_CHAIN_ID, 1},                        \
	    {"time", CLI_TXO_TIME, 1}, {"node", CLI_TXO_NODE, 1}, {"timeout", CLI_TXO_TIMEOUT, 1}, \
	    {"wait", CLI_TXO_WAIT, 1}, {"out", CLI_TXO_OUT, 1},                                    \
	    {"no-submit", CLI_TXO_NO_SUBMIT, 0},                                                   \
	{                                                                                          \
		"json", CLI_TXO_JSON, 0                                                            \
	}

/* The help text of the shared options. */
#define CLI_TX_OPTIONS_HELP                                                                        \
	"Transaction options:\n"                                                                   \
	"  --key KEYSTORE          the sender's key (its public key is the sender)\n"              \
	"  --passphrase-file FILE  passphrase source (else FWCHAIN_PASSPHRASE, else a prompt)\n"   \
	"  --nonce N               the sender's next nonce (its last accepted one + 1; the "       \
	"first\n"                                                                                  \
	"                          is 1); default: asked from the node (GET /v1/accounts/KEY)\n"   \
	"  --chain-id ID           the chain (default: asked from the node's /v1/health)\n"        \
	"  --time TIME             the transaction's time (default now)\n"                         \
	"  --node URL              the node (default $FWCHAIN_NODE, else " CLI_NODE_DEFAULT ")\n"  \
	"  --timeout SECONDS       per request (default 30)\n"                                     \
	"  --wait SECONDS          after submitting, wait up to SECONDS for the block\n"           \
	"  --out FILE              also write the signed transaction (CBOR) to FILE\n"             \
	"  --no-submit             only sign and write --out (needs --chain-id, --nonce)\n"        \
	"  --json                  print {\"id\",\"type\",\"nonce\",\"status\",...}\n"

struct cli_txopts {
	const char *key, *passfile, *node, *chain_id, *out;
	unsigned long long nonce;
	uint64_t time;
	unsigned timeout, wait;
	int have_nonce, have_time, have_wait, no_submit, json;
};

/* Take one shared option: 1 when id was one (stored in o), 0 when it is not one of them,
 * CLI_EXIT_ERROR (after one line) for a bad value. */
int cli_txopts_take(const char *cmd, struct cli_txopts *o, int id, const char *val);

/* Build the transaction {type, chain id, sender = the key's public key, nonce, time, payload},
 * (nonce: o->nonce, else the node's next_nonce for the sender from GET /v1/accounts/KEY),
 * sign it with the keystore key, write it to o->out if given, submit it to the node unless
 * o->no_submit, wait for its block if o->wait, and print the outcome. Returns the exit code:
 * 0 signed / accepted (and committed, with --wait); 1 with --wait when the node refused it or
 * it is still pending at the deadline; 2 on usage, input, key or network errors, or when the
 * node refuses it at submission (the node's code and message are on the error line). */
int cli_tx_send(const char *cmd, const struct cli_txopts *o, uint32_t type, const uint8_t *payload,
                size_t len);

/* Submit the signed transaction tx[0..len) (already checked to decode) and report as
 * cli_tx_send does. */
int cli_tx_submit(const char *cmd, struct cli_node *n, const uint8_t *tx, size_t len,
                  unsigned wait_s, int json);

/* Poll GET /v1/txs/ID until it is no longer pending or wait_s seconds passed (wait_s 0: one
 * request). *obj gets the last answer (caller json_decref's). */
int cli_tx_poll(struct cli_node *n, json_t **obj, const char *id_hex, unsigned wait_s);

/* Print a GET /v1/txs/ID answer (human or --json) and return its exit code: 0 committed, or
 * pending when waited is 0; 1 refused, failed, or pending after a wait. */
int cli_tx_status_print(const char *cmd, const json_t *st, const char *id_hex, int waited,
                        int json);

#endif
