/* fwchain — the command-line tool for manufacturers and operators: entry point and dispatch.
 *
 * main() handles only the tool-wide flags (--help, --version) and hands the remaining arguments
 * to one command group through a static table, so adding a command is one line here plus its
 * file. Each command parses its own options (cli/util.c) and returns the exit code, which main
 * returns unchanged: 0 success, 1 a verification said no, 2 usage or input error (docs/cli.md).
 * The tool uses libfwchain's public headers only. */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "util.h"

#define FWC_CLI_VERSION "0.1.0"

struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
};

static const struct command commands[] = {
    {"keygen", cmd_keygen, "create a key in a new passphrase-encrypted keystore"},
    {"key", cmd_key, "key show|revoke: print a key; revoke one on the ledger"},
    {"sign", cmd_sign, "sign a message or file with a keystore's key"},
    {"verify-sig", cmd_verify_sig, "verify a signature over a message or file"},
    {"cid", cmd_cid, "print a file's IPFS CID (as `ipfs add` computes it)"},
    {"manifest", cmd_manifest, "create, sign, verify and show release manifests"},
    {"trust", cmd_trust, "create and show trust anchors files (chain, validators, keys)"},
    {"proof", cmd_proof, "verify a proof bundle offline against a trust file; export, fetch"},
    {"status", cmd_status, "ask a node for its chain, height and log size"},
    {"checkpoint", cmd_checkpoint, "print a node's newest checkpoint (a cosigned note)"},
    {"tx", cmd_tx, "submit, follow, build and show signed transactions"},
    {"org", cmd_org, "org register: register an organisation and its first admin"},
    {"member", cmd_member, "member add|remove: give or take a role in your organisation"},
    {"product", cmd_product, "product register: a product and its root key set"},
    {"keyset", cmd_keyset, "create, sign, show and submit key-set statements"},
    {"device", cmd_device, "device register|update|provision|show|list: devices"},
    {"release", cmd_release, "release publish|revoke|show|list: write or read releases"},
    {"rollout", cmd_rollout, "rollout pause|resume|halt: control a release's rollout"},
    {"postpone", cmd_postpone, "postpone a release for a device or a group"},
    {"config", cmd_config, "config set|delete: device configuration values"},
    {"licence", cmd_licence, "licence issue|revoke: feature licences"},
    {"validators", cmd_validators, "validators set: record a new validator set"},
    {"event", cmd_event, "event send: a device-signed event (checkin, installed, ...)"},
    {"orgs", cmd_orgs, "list organisations, or show one and its members"},
    {"products", cmd_products, "list products, or show one and its key sets"},
    {"releases", cmd_releases, "list a product's releases"},
    {"devices", cmd_devices, "list devices by product, group, status"},
    {"events", cmd_events, "list device events"},
    {"txs", cmd_txs, "list the transactions a key sent"},
    {"audit", cmd_audit, "the audit trail: one row per logged transaction"},
    {"content", cmd_content, "add, get (verified), pin, unpin, list and collect content"},
    {NULL, NULL, NULL},
};

static void usage(FILE *f)
{
	const struct command *c;

	fputs("usage: fwchain [--help] [--version] COMMAND [ARGS...]\n"
	      "\n"
	      "Signs, verifies and addresses firmware releases for fwchain.\n"
	      "\n"
	      "Commands:\n",
	      f);
	for (c = commands; c->name != NULL; c++)
		fprintf(f, "  %-12s %s\n", c->name, c->summary);
	fputs("\n"
	      "'fwchain COMMAND --help' (or 'fwchain help COMMAND') describes a command.\n"
	      "\n"
	      "Exit codes: 0 success; 1 a verification failed (verify-sig, manifest verify,\n"
	      "proof verify) or, with --wait, a transaction was refused or is still pending;\n"
	      "2 usage error, unreadable or malformed input, an unreachable or refusing node,\n"
	      "or any other failure.\n"
	      "Errors are one line on stderr: \"fwchain: COMMAND: what was wrong\".\n"
	      "\n"
	      "Environment: FWCHAIN_PASSPHRASE is the keystore passphrase when no\n"
	      "--passphrase-file is given (otherwise the tool prompts on the terminal);\n"
	      "FWCHAIN_NODE is the node's URL when no --node is given (default\n"
	      "http://127.0.0.1:8080).\n"
	      "Full reference: docs/cli.md\n",
	      f);
}

static const struct command *find(const char *name)
{
	const struct command *c;

	for (c = commands; c->name != NULL; c++)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

/* "fwchain: NAME: unknown command", NAME cut to a sane length so the line stays one line. */
static int unknown(const char *name)
{
	char cut[65];

	snprintf(cut, sizeof(cut), "%s", name);
	return cli_err(cut, "unknown %s (see 'fwchain --help')",
	               name[0] == '-' ? "option" : "command");
}

int main(int argc, char **argv)
{
	const struct command *c;
	char *help_argv[3];
	int rc;

	cli_signals_init();
	if (argc < 2)
		return cli_usage_err(NULL, "missing command");
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		usage(stdout);
		return cli_stdout_done(NULL);
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("fwchain %s\n", FWC_CLI_VERSION);
		return cli_stdout_done(NULL);
	}
	if (strcmp(argv[1], "help") == 0) {
		if (argc == 2) {
			usage(stdout);
			return cli_stdout_done(NULL);
		}
		c = find(argv[2]);
		if (c == NULL)
			return unknown(argv[2]);
		/* "help key" and "help manifest" show the group's help, which lists the
		 * subcommands; "fwchain manifest sign --help" shows one of them. */
		help_argv[0] = argv[2];
		help_argv[1] = "--help";
		help_argv[2] = NULL;
		return c->run(2, help_argv);
	}
	c = find(argv[1]);
	if (c == NULL)
		return unknown(argv[1]);
	rc = c->run(argc - 1, argv + 1);
	return rc;
}
