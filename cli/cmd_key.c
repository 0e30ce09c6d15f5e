/* fwchain keygen / key show: creating keys in encrypted keystores and reading their public part.
 *
 * A secret key only ever exists on disk inside a keystore written by libfwchain's keystore
 * module (Argon2id + XChaCha20-Poly1305, mode 0600, atomic, never overwriting); this file adds
 * the passphrase sources and the output. The public half of a keystore is readable without the
 * passphrase (fwc_keystore_peek), which is what lets `key show` and `manifest verify --keys`
 * take keystore files directly. cli_pubkey_resolve() is the one place that decides how a
 * public key may be named on the command line (text, text file, or keystore), so every command
 * accepts the same forms. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fwchain/hex.h"
#include "fwchain/key.h"
#include "fwchain/keystore.h"
#include "commands.h"
#include "util.h"

/* A public-key text file is one short line; anything bigger is not one. */
#define PUBKEY_FILE_MAX 4096

static int starts_with_alg(const char *s, size_t len)
{
	return (len >= 7 && memcmp(s, "bip340:", 7) == 0) ||
	       (len >= 8 && memcmp(s, "ed25519:", 8) == 0);
}

int cli_pubkey_resolve(const char *cmd, const char *arg, struct fwc_pubkey *pk)
{
	struct fwc_errinfo ei = {0};
	struct stat st;
	uint8_t *buf = NULL;
	size_t len = 0, start = 0;
	int rc;

	if (starts_with_alg(arg, strlen(arg)) && stat(arg, &st) != 0) {
		rc = fwc_pubkey_from_text(pk, arg, strlen(arg), &ei);
		if (rc < 0)
			return cli_err_rc(cmd, rc, &ei, "public key '%.80s'", arg);
		return 0;
	}
	if (stat(arg, &st) != 0)
		return cli_err(cmd, "%s: neither a public key (ALG:HEX) nor a readable file: %s",
		               arg, strerror(errno));
	/* A small file that starts with an algorithm name is public-key text; anything else
	 * must be a keystore, whose own decoder then says what is wrong with it. */
	if (S_ISREG(st.st_mode) && st.st_size <= PUBKEY_FILE_MAX) {
		if (cli_file_read(cmd, arg, PUBKEY_FILE_MAX, &buf, &len) != 0)
			return CLI_EXIT_ERROR;
		while (start < len && (buf[start] == ' ' || buf[start] == '\t'))
			start++;
		if (starts_with_alg((const char *)buf + start, len - start)) {
			while (len > start && (buf[len - 1] == '\n' || buf[len - 1] == '\r' ||
			                       buf[len - 1] == ' ' || buf[len - 1] == '\t'))
				len--;
			rc = fwc_pubkey_from_text(pk, (const char *)buf + start, len - start, &ei);
			free(buf);
			if (rc < 0)
				return cli_err_rc(cmd, rc, &ei, "public key file %s", arg);
			return 0;
		}
		free(buf);
	}
	rc = fwc_keystore_peek(pk, arg, &ei);
	if (rc < 0)
		return cli_err_rc(cmd, rc, &ei, "keystore %s", arg);
	return 0;
}

int cli_seckey_load(const char *cmd, struct fwc_seckey *sk, const char *path, const char *passfile)
{
	struct fwc_errinfo ei = {0};
	char pass[CLI_PASS_MAX];
	size_t plen = 0;
	int rc;

	if (cli_passphrase_get(cmd, pass, &plen, passfile, 0) != 0)
		return CLI_EXIT_ERROR;
	rc = fwc_keystore_load(sk, path, pass, plen, &ei);
	fwc_wipe(pass, sizeof(pass));
	if (rc < 0)
		return cli_err_rc(cmd, rc, &ei, "keystore %s", path);
	return 0;
}

/* Print what `keygen` and `key show` print about a public key. */
static int print_pubkey(const char *cmd, const struct fwc_pubkey *pk, const char *file, int json)
{
	char text[FWC_PUBKEY_TEXT_MAX];
	uint8_t id[FWC_KEYID_LEN];
	int rc;

	if ((rc = fwc_pubkey_to_text(text, sizeof(text), pk)) < 0 || (rc = fwc_key_id(id, pk)) < 0)
		return cli_err_rc(cmd, rc, NULL, "public key");
	if (json) {
		fputs("{\"file\":", stdout);
		cli_json_str(stdout, file, strlen(file));
		printf(",\"alg\":\"%s\",\"public_key\":\"%s\",\"key_id\":\"", fwc_alg_name(pk->alg),
		       text);
		cli_hex_print(stdout, id, sizeof(id));
		fputs("\"}\n", stdout);
	} else {
		fputs("file:       ", stdout);
		cli_text_safe(stdout, file, strlen(file));
		printf("\nalgorithm:  %s\npublic key: %s\nkey id:     ", fwc_alg_name(pk->alg),
		       text);
		cli_hex_print(stdout, id, sizeof(id));
		fputc('\n', stdout);
	}
	return cli_stdout_done(cmd);
}

static const char keygen_help[] =
    "usage: fwchain keygen [--alg bip340|ed25519] --out FILE [--passphrase-file FILE]\n"
    "                      [--kdf-ops N] [--kdf-mem BYTES] [--json]\n"
    "\n"
    "Creates a new random key and writes it to FILE, a keystore encrypted with a passphrase\n"
    "(Argon2id + XChaCha20-Poly1305, mode 0600). FILE must not exist. Prints the file, the\n"
    "algorithm, the public key (ALG:HEX) and the key id.\n"
    "\n"
    "  --alg ALG               bip340 (default; release, operator and device keys) or\n"
    "                          ed25519 (validator and witness keys)\n"
    "  --out FILE              the keystore to create (required)\n"
    "  --passphrase-file FILE  read the passphrase from the first line of FILE; otherwise\n"
    "                          FWCHAIN_PASSPHRASE, otherwise a prompt on the terminal\n"
    "                          (asked twice)\n"
    "  --kdf-ops N, --kdf-mem BYTES\n"
    "                          Argon2id cost (default: the library's); lower only for tests\n"
    "  --json                  print {\"file\",\"alg\",\"public_key\",\"key_id\"}\n"
    "\n"
    "Exit codes: 0 created; 2 usage error, existing FILE, passphrase or write failure.\n";

enum { O_HELP = 1, O_ALG, O_OUT, O_PASSFILE, O_JSON, O_KDF_OPS, O_KDF_MEM };

int cmd_keygen(int argc, char **argv)
{
	static const struct cli_opt opts[] = {
	    {"help", O_HELP, 0},       {"alg", O_ALG, 1},
	    {"out", O_OUT, 1},         {"passphrase-file", O_PASSFILE, 1},
	    {"json", O_JSON, 0},       {"kdf-ops", O_KDF_OPS, 1},
	    {"kdf-mem", O_KDF_MEM, 1}, {NULL, 0, 0},
	};
	const char *cmd = "keygen", *val, *out = NULL, *passfile = NULL;
	struct fwc_keystore_params params = {0, 0};
	struct fwc_errinfo ei = {0};
	struct fwc_seckey sk;
	struct fwc_pubkey pk;
	struct cli_parser p;
	struct stat st;
	enum fwc_alg alg = FWC_ALG_BIP340;
	unsigned long long v;
	char pass[CLI_PASS_MAX];
	size_t plen = 0;
	int id, json = 0, have_params = 0, rc = CLI_EXIT_ERROR;

	memset(&sk, 0, sizeof(sk));
	cli_parser_init(&p, cmd, argc, argv, 1);
	while ((id = cli_next(&p, opts, &val)) != CLI_NEXT_END) {
		switch (id) {
		case O_HELP:
			fputs(keygen_help, stdout);
			return cli_stdout_done(cmd);
		case O_ALG:
			if (fwc_alg_from_name(&alg, val, strlen(val)) < 0)
				return cli_usage_err(cmd,
				                     "unknown algorithm '%.32s' (bip340 or "
				                     "ed25519)",
				                     val);
			break;
		case O_OUT:
			out = val;
			break;
		case O_PASSFILE:
			passfile = val;
			break;
		case O_JSON:
			json = 1;
			break;
		case O_KDF_OPS:
			if (cli_u64_arg(cmd, "--kdf-ops", val, 0xffffffffULL, &v) != 0)
				return CLI_EXIT_ERROR;
			params.opslimit = v;
			have_params = 1;
			break;
		case O_KDF_MEM:
			if (cli_u64_arg(cmd, "--kdf-mem", val, (unsigned long long)SIZE_MAX, &v) !=
			    0)
				return CLI_EXIT_ERROR;
			params.memlimit = (size_t)v;
			have_params = 1;
			break;
		case CLI_NEXT_POS:
			return cli_usage_err(cmd, "unexpected argument '%.64s'", val);
		default:
			return CLI_EXIT_ERROR;
		}
	}
	if (out == NULL)
		return cli_usage_err(cmd, "missing --out FILE");
	if (have_params && (params.opslimit == 0 || params.memlimit == 0))
		return cli_usage_err(cmd, "--kdf-ops and --kdf-mem go together");
	/* Checked here too (the keystore refuses as well) so the user is not asked for a
	 * passphrase twice only to learn that the file is there. */
	if (lstat(out, &st) == 0)
		return cli_err(cmd, "%s already exists (refusing to overwrite)", out);
	if (cli_passphrase_get(cmd, pass, &plen, passfile, 1) != 0)
		return CLI_EXIT_ERROR;
	if ((rc = fwc_key_generate(&sk, alg)) < 0 || (rc = fwc_key_public(&pk, &sk)) < 0) {
		rc = cli_err_rc(cmd, rc, NULL, "generating a %s key", fwc_alg_name(alg));
		goto out;
	}
	rc = fwc_keystore_save(out, &sk, pass, plen, have_params ? &params : NULL, &ei);
	if (rc < 0) {
		rc = cli_err_rc(cmd, rc, &ei, "cannot write keystore %s", out);
		goto out;
	}
	rc = print_pubkey(cmd, &pk, out, json);
out:
	fwc_wipe(pass, sizeof(pass));
	fwc_seckey_wipe(&sk);
	return rc;
}

static const char key_help[] =
    "usage: fwchain key show [--json] FILE\n"
    "\n"
    "Prints the algorithm, public key (ALG:HEX) and key id (hex) of FILE, a keystore\n"
    "(no passphrase needed: the public key is stored in clear) or a file holding a public\n"
    "key as text.\n"
    "\n"
    "  --json  print {\"file\",\"alg\",\"public_key\",\"key_id\"}\n"
    "\n"
    "Exit codes: 0 shown; 2 usage error, unreadable or malformed FILE.\n"
    "\n"
    "'fwchain key revoke --help' describes revoking a key on the ledger.\n";

int cmd_key(int argc, char **argv)
{
	static const struct cli_opt opts[] = {
	    {"help", O_HELP, 0},
	    {"json", O_JSON, 0},
	    {NULL, 0, 0},
	};
	const char *cmd = "key show", *val, *file = NULL;
	struct fwc_pubkey pk;
	struct cli_parser p;
	int id, json = 0;

	if (argc < 2)
		return cli_usage_err("key", "missing subcommand (show, revoke)");
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		fputs(key_help, stdout);
		return cli_stdout_done("key");
	}
	if (strcmp(argv[1], "revoke") == 0)
		return cli_key_revoke(argc, argv);
	if (strcmp(argv[1], "show") != 0)
		return cli_usage_err("key", "unknown subcommand '%.64s' (show, revoke)", argv[1]);
	cli_parser_init(&p, cmd, argc, argv, 2);
	while ((id = cli_next(&p, opts, &val)) != CLI_NEXT_END) {
		switch (id) {
		case O_HELP:
			fputs(key_help, stdout);
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
	if (cli_pubkey_resolve(cmd, file, &pk) != 0)
		return CLI_EXIT_ERROR;
	return print_pubkey(cmd, &pk, file, json);
}
