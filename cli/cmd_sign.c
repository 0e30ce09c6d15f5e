/* fwchain sign / verify-sig: plain message signatures, as wallets make them.
 *
 * The raw message bytes are what is signed: BIP-340 over the whole message (any length, as
 * libsecp256k1's schnorrsig_sign_custom allows; no pre-hashing, no tag), Ed25519 as RFC 8032.
 * So a signature from a Solar/ARK-style wallet over the same bytes verifies here and the BIP-340
 * test vectors can be checked directly. These are deliberately not the domain-separated
 * signatures fwchain puts on manifests and transactions (those sign a tagged hash; see
 * `fwchain manifest sign`). Messages are read whole, capped at CLI_MSG_MAX, because both
 * algorithms need the full message before they can start. verify-sig separates "the signature
 * is wrong" (exit 1) from "the input is wrong" (exit 2) so scripts can tell them apart. */
#include <stdlib.h>
#include <string.h>

#include "fwchain/hex.h"
#include "fwchain/key.h"
#include "commands.h"
#include "util.h"

enum { O_HELP = 1, O_KEY, O_FILE, O_MSG_HEX, O_PASSFILE, O_JSON, O_ALG, O_PUBKEY, O_SIG };

/* The message from --file or --msg-hex (exactly one of them). Heap buffer, caller frees. */
static int message_get(const char *cmd, const char *file, const char *msg_hex, uint8_t **msg,
                       size_t *len)
{
	size_t hexlen, n = 0;
	uint8_t *b;

	if ((file == NULL) == (msg_hex == NULL))
		return cli_usage_err(cmd, "give exactly one of --file F and --msg-hex HEX");
	if (file != NULL)
		return cli_file_read(cmd, file, CLI_MSG_MAX, msg, len);
	hexlen = strlen(msg_hex);
	b = malloc(hexlen / 2 + 1);
	if (b == NULL)
		return cli_err(cmd, "out of memory");
	if (cli_hex_arg(cmd, "--msg-hex", msg_hex, b, hexlen / 2 + 1, &n) != 0) {
		free(b);
		return CLI_EXIT_ERROR;
	}
	*msg = b;
	*len = n;
	return 0;
}

static const char sign_help[] =
    "usage: fwchain sign --key KEYSTORE (--file F | --msg-hex HEX) [--passphrase-file FILE]\n"
    "                    [--json]\n"
    "\n"
    "Signs the raw message bytes (the contents of F, '-' for standard input, or the bytes\n"
    "HEX encodes) with the keystore's key and prints the 64-byte signature as hex.\n"
    "BIP-340 signs messages of any length (no pre-hashing), Ed25519 follows RFC 8032.\n"
    "Messages are limited to 64 MiB.\n"
    "\n"
    "  --key KEYSTORE          keystore made by 'fwchain keygen'\n"
    "  --file F                message to sign is the contents of F\n"
    "  --msg-hex HEX           message to sign, hex-encoded (may be empty: --msg-hex '')\n"
    "  --passphrase-file FILE  passphrase source (else FWCHAIN_PASSPHRASE, else a prompt)\n"
    "  --json                  print {\"alg\",\"public_key\",\"signature\"}\n"
    "\n"
    "Exit codes: 0 signed; 2 usage error, unreadable input, wrong passphrase.\n";

int cmd_sign(int argc, char **argv)
{
	static const struct cli_opt opts[] = {
	    {"help", O_HELP, 0},
	    {"key", O_KEY, 1},
	    {"file", O_FILE, 1},
	    {"msg-hex", O_MSG_HEX, 1},
	    {"passphrase-file", O_PASSFILE, 1},
	    {"json", O_JSON, 0},
	    {NULL, 0, 0},
	};
	const char *cmd = "sign", *val, *key = NULL, *file = NULL, *msg_hex = NULL,
	           *passfile = NULL;
	char text[FWC_PUBKEY_TEXT_MAX];
	uint8_t sig[FWC_SIG_LEN], *msg = NULL;
	struct fwc_seckey sk;
	struct fwc_pubkey pk;
	struct cli_parser p;
	size_t len = 0;
	int id, json = 0, rc = CLI_EXIT_ERROR;

	memset(&sk, 0, sizeof(sk));
	cli_parser_init(&p, cmd, argc, argv, 1);
	while ((id = cli_next(&p, opts, &val)) != CLI_NEXT_END) {
		switch (id) {
		case O_HELP:
			fputs(sign_help, stdout);
			return cli_stdout_done(cmd);
		case O_KEY:
			key = val;
			break;
		case O_FILE:
			file = val;
			break;
		case O_MSG_HEX:
			msg_hex = val;
			break;
		case O_PASSFILE:
			passfile = val;
			break;
		case O_JSON:
			json = 1;
			break;
		case CLI_NEXT_POS:
			return cli_usage_err(cmd, "unexpected argument '%.64s'", val);
		default:
			return CLI_EXIT_ERROR;
		}
	}
	if (key == NULL)
		return cli_usage_err(cmd, "missing --key KEYSTORE");
	/* The message first: a bad input should not cost the user a passphrase prompt. */
	if (message_get(cmd, file, msg_hex, &msg, &len) != 0)
		return CLI_EXIT_ERROR;
	if (cli_seckey_load(cmd, &sk, key, passfile) != 0)
		goto out;
	if ((rc = fwc_sign(sig, &sk, msg, len)) < 0 || (rc = fwc_key_public(&pk, &sk)) < 0 ||
	    (rc = fwc_pubkey_to_text(text, sizeof(text), &pk)) < 0) {
		rc = cli_err_rc(cmd, rc, NULL, "signing with %s", key);
		goto out;
	}
	if (json) {
		printf("{\"alg\":\"%s\",\"public_key\":\"%s\",\"signature\":\"",
		       fwc_alg_name(pk.alg), text);
		cli_hex_print(stdout, sig, sizeof(sig));
		fputs("\"}\n", stdout);
	} else {
		cli_hex_print(stdout, sig, sizeof(sig));
		fputc('\n', stdout);
	}
	rc = cli_stdout_done(cmd);
out:
	fwc_seckey_wipe(&sk);
	free(msg);
	return rc;
}

static const char verify_help[] =
    "usage: fwchain verify-sig --alg bip340|ed25519 --pubkey HEX --sig HEX\n"
    "                          (--file F | --msg-hex HEX) [--json]\n"
    "\n"
    "Checks a signature over the raw message bytes, as 'fwchain sign' makes it (and as\n"
    "BIP-340 and RFC 8032 define it). Prints \"valid\" or \"invalid\".\n"
    "\n"
    "  --alg ALG     signature algorithm\n"
    "  --pubkey KEY  public key: 64 hex digits, or ALG:HEX text (then --alg may be omitted,\n"
    "                and must match if given)\n"
    "  --sig HEX     the 64-byte signature (128 hex digits)\n"
    "  --file F      the message is the contents of F ('-' for standard input)\n"
    "  --msg-hex HEX the message, hex-encoded (may be empty)\n"
    "  --json        print {\"valid\":true|false,\"alg\":ALG}\n"
    "\n"
    "A public key that is not a valid point of its curve makes the signature invalid (exit 1),\n"
    "as BIP-340 specifies.\n"
    "\n"
    "Exit codes: 0 valid; 1 invalid; 2 usage or input error (bad hex, wrong lengths,\n"
    "unreadable file).\n";

int cmd_verify_sig(int argc, char **argv)
{
	static const struct cli_opt opts[] = {
	    {"help", O_HELP, 0}, {"alg", O_ALG, 1},   {"pubkey", O_PUBKEY, 1},
	    {"sig", O_SIG, 1},   {"file", O_FILE, 1}, {"msg-hex", O_MSG_HEX, 1},
	    {"json", O_JSON, 0}, {NULL, 0, 0},
	};
	const char *cmd = "verify-sig", *val, *alg_name = NULL, *pubkey = NULL, *sighex = NULL,
	           *file = NULL, *msg_hex = NULL, *colon, *keyhex;
	enum fwc_alg alg = FWC_ALG_BIP340, text_alg;
	uint8_t sig[FWC_SIG_LEN], *msg = NULL;
	struct fwc_pubkey pk;
	struct cli_parser p;
	size_t len = 0, n = 0;
	int id, json = 0, have_alg = 0, rc;

	cli_parser_init(&p, cmd, argc, argv, 1);
	while ((id = cli_next(&p, opts, &val)) != CLI_NEXT_END) {
		switch (id) {
		case O_HELP:
			fputs(verify_help, stdout);
			return cli_stdout_done(cmd);
		case O_ALG:
			alg_name = val;
			break;
		case O_PUBKEY:
			pubkey = val;
			break;
		case O_SIG:
			sighex = val;
			break;
		case O_FILE:
			file = val;
			break;
		case O_MSG_HEX:
			msg_hex = val;
			break;
		case O_JSON:
			json = 1;
			break;
		case CLI_NEXT_POS:
			return cli_usage_err(cmd, "unexpected argument '%.64s'", val);
		default:
			return CLI_EXIT_ERROR;
		}
	}
	if (pubkey == NULL || sighex == NULL)
		return cli_usage_err(cmd, "--pubkey and --sig are required");
	if (alg_name != NULL) {
		if (fwc_alg_from_name(&alg, alg_name, strlen(alg_name)) < 0)
			return cli_usage_err(cmd, "unknown algorithm '%.32s' (bip340 or ed25519)",
			                     alg_name);
		have_alg = 1;
	}
	/* The key is parsed by hand rather than with fwc_pubkey_from_text(), which rejects
	 * points off the curve: here such a key must yield "invalid" (BIP-340 test vector 5),
	 * not an input error. */
	keyhex = pubkey;
	colon = strchr(pubkey, ':');
	if (colon != NULL) {
		if (fwc_alg_from_name(&text_alg, pubkey, (size_t)(colon - pubkey)) < 0)
			return cli_err(cmd, "--pubkey: unknown algorithm in '%.80s'", pubkey);
		if (have_alg && text_alg != alg)
			return cli_err(cmd, "--pubkey is a %s key but --alg is %s",
			               fwc_alg_name(text_alg), fwc_alg_name(alg));
		alg = text_alg;
		have_alg = 1;
		keyhex = colon + 1;
	}
	if (!have_alg)
		return cli_usage_err(cmd, "missing --alg (bip340 or ed25519)");
	pk.alg = (uint8_t)alg;
	if (strlen(keyhex) != 2 * FWC_PUBKEY_LEN)
		return cli_err(cmd, "--pubkey: need %d hex digits, got %zu", 2 * FWC_PUBKEY_LEN,
		               strlen(keyhex));
	if (cli_hex_arg(cmd, "--pubkey", keyhex, pk.key, sizeof(pk.key), &n) != 0)
		return CLI_EXIT_ERROR;
	if (strlen(sighex) != 2 * FWC_SIG_LEN)
		return cli_err(cmd, "--sig: need %d hex digits, got %zu", 2 * FWC_SIG_LEN,
		               strlen(sighex));
	if (cli_hex_arg(cmd, "--sig", sighex, sig, sizeof(sig), &n) != 0)
		return CLI_EXIT_ERROR;
	if (message_get(cmd, file, msg_hex, &msg, &len) != 0)
		return CLI_EXIT_ERROR;
	rc = fwc_verify(&pk, sig, msg, len);
	free(msg);
	if (rc < 0 && rc != FWC_ERR_BADSIG)
		return cli_err_rc(cmd, rc, NULL, "verifying");
	if (json)
		printf("{\"valid\":%s,\"alg\":\"%s\"}\n", rc == FWC_OK ? "true" : "false",
		       fwc_alg_name(alg));
	else
		puts(rc == FWC_OK ? "valid" : "invalid");
	if (cli_stdout_done(cmd) != 0)
		return CLI_EXIT_ERROR;
	return rc == FWC_OK ? CLI_EXIT_OK : CLI_EXIT_FAIL;
}
