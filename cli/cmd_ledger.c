/* fwchain org / member / key revoke / product / keyset / device / release / rollout /
 * postpone / config / licence / validators: the typed write commands.
 *
 * Each command is a thin layer: it turns its options into one payload struct of
 * include/fwchain/payload.h, encodes it with the library's encoder (which applies the same
 * rules as the ledger's decoder, so a payload the ledger would refuse as malformed is refused
 * here, before any signing) and hands the bytes to cli_tx_send (cli/txsend.c), which does the
 * envelope, the signature, the submission and the report with the shared options. The CLI
 * does what the encoders cannot do for the user: it sorts groups and attributes into the
 * order the format requires, resolves keys given as files or keystores, turns a manifest file
 * into its release id, and words refusals of single fields before encoding. Key-set
 * statements are the one multi-party object: `keyset create` writes one signed by a first
 * root key, `keyset sign` adds root signatures offline, `keyset register|rotate` submits it.
 * Device events carry two signatures: the device key signs the event, the sender (a gateway,
 * an operator, or the device itself) signs the transaction. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fwchain/hex.h"
#include "fwchain/keyset.h"
#include "fwchain/manifest.h"
#include "fwchain/note.h"
#include "fwchain/payload.h"
#include "fwchain/tx.h"
#include "commands.h"
#include "txsend.h"
#include "util.h"

/* Option ids of this file (below CLI_TXO_*). */
enum {
	O_HELP = 1,
	O_ID,
	O_NAME,
	O_ADMIN,
	O_MEMBER,
	O_ROLE,
	O_LABEL,
	O_REVOKE,
	O_REASON,
	O_ROOT_KEYS,
	O_ROOT_THRESHOLD,
	O_PRODUCT,
	O_SET,
	O_VERSION,
	O_KEYS,
	O_THRESHOLD,
	O_SIGN_KEY,
	O_SIGN_PASSFILE,
	O_DEVICE,
	O_HWID,
	O_GROUP,
	O_REGION,
	O_ATTR,
	O_COUNTER,
	O_RETIRE,
	O_RELEASE,
	O_UNTIL,
	O_VALUE,
	O_VALUE_HEX,
	O_VALUE_FILE,
	O_FEATURE,
	O_NOT_BEFORE,
	O_NOT_AFTER,
	O_VALIDATOR,
	O_QUORUM,
	O_JSON_LOCAL,
	O_OUTFILE,
	O_DEVICE_KEY,
	O_DEVICE_PASSFILE,
	O_SEQ,
	O_KIND,
	O_IMAGE,
	O_DETAIL,
	O_EVENT_TIME,
};

static uint8_t payload[FWC_TX_PAYLOAD_MAX];

/* Next option of a typed command: its own option id (> 0), 0 at the end, CLI_NEXT_POS for a
 * positional argument in *val, or CLI_NEXT_BAD when the command must return *rc (after
 * --help, or an error already printed). Shared transaction options are taken into o. */
static int next_opt(struct cli_parser *p, const struct cli_opt *opts, const char **val,
                    struct cli_txopts *o, const char *help, int *rc)
{
	int id, k;

	for (;;) {
		id = cli_next(p, opts, val);
		if (id == CLI_NEXT_END)
			return 0;
		if (id == CLI_NEXT_BAD) {
			*rc = CLI_EXIT_ERROR;
			return CLI_NEXT_BAD;
		}
		if (id == O_HELP) {
			fputs(help, stdout);
			*rc = cli_stdout_done(p->cmd);
			return CLI_NEXT_BAD;
		}
		if (id == CLI_NEXT_POS)
			return CLI_NEXT_POS;
		if (o != NULL && (k = cli_txopts_take(p->cmd, o, id, *val)) != 0) {
			if (k == 1)
				continue;
			*rc = CLI_EXIT_ERROR;
			return CLI_NEXT_BAD;
		}
		return id;
	}
}

static struct fwc_cbor_str str_of(const char *s)
{
	struct fwc_cbor_str r = {s, s != NULL ? strlen(s) : 0};
	return r;
}

/* Encode with one of the payload encoders, then sign and send. */
static int send_encoded(const char *cmd, const struct cli_txopts *o, uint32_t type, int erc,
                        const size_t *len)
{
	if (erc < 0)
		return cli_err(cmd,
		               "invalid %s payload: %s (field rules: docs/formats/payloads.md)",
		               fwc_tx_type_name((int)type), fwc_strerror(erc));
	return cli_tx_send(cmd, o, type, payload, *len);
}

/* The length goes by pointer: the encoder call and the read of the length are arguments of
 * one call, whose evaluation order C leaves open. */
#define SEND(cmd, o, type, name, pl)                                                               \
	send_encoded((cmd), (o), (type),                                                           \
	             fwc_pl_##name##_encode(payload, sizeof(payload), &plen, (pl)), &plen)

static int id_arg(const char *cmd, const char *flag, const char *s, size_t max)
{
	if (s == NULL)
		return cli_usage_err(cmd, "missing %s", flag);
	if (!fwc_pl_id_valid(s, strlen(s), max))
		return cli_err(cmd, "%s '%.80s' must be [a-z0-9][a-z0-9._-]*, 1..%zu bytes", flag,
		               s, max);
	return 0;
}

static int text_arg(const char *cmd, const char *flag, const char *s, size_t min, size_t max)
{
	size_t n = strlen(s);

	if (n < min || n > max)
		return cli_err(cmd, "%s is %zu bytes, must be %zu..%zu", flag, n, min, max);
	if (!cli_utf8_valid(s, n))
		return cli_err(cmd, "%s is not valid UTF-8", flag);
	return 0;
}

static int role_arg(const char *cmd, const char *s, uint32_t *role)
{
	static const char *names[] = {NULL, "admin", "release", "operator", "gateway", "auditor"};
	uint32_t i;

	for (i = 1; i <= FWC_ROLE_AUDITOR; i++)
		if (strcmp(s, names[i]) == 0) {
			*role = i;
			return 0;
		}
	return cli_err(cmd, "--role: '%.40s' is not admin, release, operator, gateway or auditor",
	               s);
}

/* A release id: 64 hex digits, or a signed manifest file (its id is the manifest digest). */
static int release_arg(const char *cmd, uint8_t id[FWC_RELEASE_ID_LEN], const char *s)
{
	static struct fwc_signed_manifest sm;
	struct fwc_errinfo ei = {0};
	uint8_t *buf = NULL;
	size_t len = 0, n = 0, i;
	int rc, hex = strlen(s) == 2 * FWC_RELEASE_ID_LEN;

	for (i = 0; hex && s[i]; i++)
		hex = (s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f') ||
		      (s[i] >= 'A' && s[i] <= 'F');
	if (hex)
		return cli_hex_arg(cmd, "--release", s, id, FWC_RELEASE_ID_LEN, &n);
	if (cli_file_read(cmd, s, FWC_SIGNED_MANIFEST_MAX, &buf, &len) != 0)
		return CLI_EXIT_ERROR;
	rc = fwc_signed_manifest_decode(&sm, buf, len, &ei);
	if (rc == FWC_OK)
		rc = fwc_manifest_digest(id, sm.body, sm.body_len);
	free(buf);
	if (rc < 0)
		return cli_err_rc(cmd, rc, &ei,
		                  "--release %.80s: neither 64 hex digits nor a signed manifest",
		                  s);
	return 0;
}

static int reason_arg(const char *cmd, struct fwc_cbor_str *r, const char *s)
{
	if (text_arg(cmd, "--reason", s, 1, FWC_PL_REASON_MAX) != 0)
		return CLI_EXIT_ERROR;
	*r = str_of(s);
	return 0;
}

/* ---- org register ---- */

static const char org_help[] =
    "usage: fwchain org register --id ID --name NAME --admin KEY [transaction options]\n"
    "\n"
    "Registers an organisation and its first admin (ORG_REGISTER; sender: an admin of the\n"
    "root organisation).\n"
    "\n"
    "  --id ID       organisation id, [a-z0-9][a-z0-9._-]*, 1..64 bytes\n"
    "  --name NAME   display name, 1..128 bytes\n"
    "  --admin KEY   its first admin's public key (ALG:HEX, key file or keystore)\n"
    "\n" CLI_TX_OPTIONS_HELP;

int cmd_org(int argc, char **argv)
{
	static const struct cli_opt opts[] = {
	    {"help", O_HELP, 0},   {"id", O_ID, 1}, {"name", O_NAME, 1},
	    {"admin", O_ADMIN, 1}, CLI_TX_OPTIONS,  {NULL, 0, 0},
	};
	const char *cmd = "org register", *val, *admin = NULL;
	struct fwc_pl_org_register pl;
	struct cli_txopts o;
	struct cli_parser p;
	size_t plen = 0;
	int id, rc = CLI_EXIT_ERROR;

	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		fputs(org_help, stdout);
		return cli_stdout_done("org");
	}
	if (argc < 2 || strcmp(argv[1], "register") != 0)
		return cli_usage_err("org", argc < 2 ? "missing subcommand (register)"
		                                     : "unknown subcommand (register)");
	memset(&pl, 0, sizeof(pl));
	memset(&o, 0, sizeof(o));
	cli_parser_init(&p, cmd, argc, argv, 2);
	while ((id = next_opt(&p, opts, &val, &o, org_help, &rc)) != 0) {
		switch (id) {
		case CLI_NEXT_BAD:
			return rc;
		case O_ID:
			pl.id = str_of(val);
			break;
		case O_NAME:
			pl.name = str_of(val);
			break;
		case O_ADMIN:
			admin = val;
			break;
		default:
			return cli_usage_err(cmd, "unexpected argument '%.64s'", val);
		}
	}
	if (pl.id.p == NULL || pl.name.p == NULL || admin == NULL)
		return cli_usage_err(cmd, "--id, --name and --admin are required");
	if (id_arg(cmd, "--id", pl.id.p, FWC_PL_ID_MAX) != 0 ||
	    text_arg(cmd, "--name", pl.name.p, 1, FWC_PL_NAME_MAX) != 0 ||
	    cli_pubkey_resolve(cmd, admin, &pl.admin) != 0)
		return CLI_EXIT_ERROR;
	return SEND(cmd, &o, FWC_TX_ORG_REGISTER, org_register, &pl);
}

/* ---- member add / remove ---- */

static const char member_help[] =
    "usage: fwchain member add --member KEY --role ROLE [--label TEXT] [transaction options]\n"
    "       fwchain member remove --member KEY [--role ROLE] [transaction options]\n"
    "\n"
    "Gives a key a role in the sender's organisation (MEMBER_ADD), or takes one role, or with\n"
    "no --role the membership, away (MEMBER_REMOVE). Sender: an admin.\n"
    "\n"
    "  --member KEY   the member's public key (ALG:HEX, key file or keystore)\n"
    "  --role ROLE    admin, release, operator, gateway or auditor\n"
    "  --label TEXT   a label for people, 1..128 bytes (add only)\n"
    "\n" CLI_TX_OPTIONS_HELP;

int cmd_member(int argc, char **argv)
{
	static const struct cli_opt opts[] = {
	    {"help", O_HELP, 0},   {"member", O_MEMBER, 1}, {"role", O_ROLE, 1},
	    {"label", O_LABEL, 1}, CLI_TX_OPTIONS,          {NULL, 0, 0},
	};
	const char *cmd, *val, *member = NULL, *label = NULL;
	struct cli_txopts o;
	struct cli_parser p;
	struct fwc_pubkey pk;
	uint32_t role = 0;
	size_t plen = 0;
	int id, add, rc = CLI_EXIT_ERROR;

	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		fputs(member_help, stdout);
		return cli_stdout_done("member");
	}
	if (argc < 2 || (strcmp(argv[1], "add") != 0 && strcmp(argv[1], "remove") != 0))
		return cli_usage_err("member", argc < 2 ? "missing subcommand (add, remove)"
		                                        : "unknown subcommand (add, remove)");
	add = strcmp(argv[1], "add") == 0;
	cmd = add ? "member add" : "member remove";
	memset(&o, 0, sizeof(o));
	cli_parser_init(&p, cmd, argc, argv, 2);
	while ((id = next_opt(&p, opts, &val, &o, member_help, &rc)) != 0) {
		switch (id) {
		case CLI_NEXT_BAD:
			return rc;
		case O_MEMBER:
			member = val;
			break;
		case O_ROLE:
			if (role_arg(cmd, val, &role) != 0)
				return CLI_EXIT_ERROR;
			break;
		case O_LABEL:
			label = val;
			break;
		default:
			return cli_usage_err(cmd, "unexpected argument '%.64s'", val);
		}
	}
	if (member == NULL)
		return cli_usage_err(cmd, "missing --member KEY");
	if (cli_pubkey_resolve(cmd, member, &pk) != 0)
		return CLI_EXIT_ERROR;
	if (add) {
		struct fwc_pl_member_add pl;

		if (role == 0)
			return cli_usage_err(cmd, "missing --role");
		memset(&pl, 0, sizeof(pl));
		pl.key = pk;
		pl.role = role;
		if (label != NULL) {
			if (text_arg(cmd, "--label", label, 1, FWC_PL_NAME_MAX) != 0)
				return CLI_EXIT_ERROR;
			pl.has_label = 1;
			pl.label = str_of(label);
		}
		return SEND(cmd, &o, FWC_TX_MEMBER_ADD, member_add, &pl);
	} else {
		struct fwc_pl_member_remove pl;

		if (label != NULL)
			return cli_usage_err(cmd, "--label is for member add");
		memset(&pl, 0, sizeof(pl));
		pl.key = pk;
		pl.role = role;
		return SEND(cmd, &o, FWC_TX_MEMBER_REMOVE, member_remove, &pl);
	}
}

/* ---- key revoke ---- */

static const char revoke_help[] =
    "usage: fwchain key revoke --revoke KEY [--reason TEXT] [transaction options]\n"
    "\n"
    "Revokes a key for ever (KEY_REVOKE; sender: an admin): it can no longer send, and its\n"
    "signatures count zero in every key set.\n"
    "\n"
    "  --revoke KEY   the key to revoke (ALG:HEX, key file or keystore)\n"
    "  --reason TEXT  why, 1..255 bytes\n"
    "\n" CLI_TX_OPTIONS_HELP;

int cli_key_revoke(int argc, char **argv)
{
	static const struct cli_opt opts[] = {
	    {"help", O_HELP, 0}, {"revoke", O_REVOKE, 1}, {"reason", O_REASON, 1}, CLI_TX_OPTIONS,
	    {NULL, 0, 0},
	};
	const char *cmd = "key revoke", *val, *key = NULL;
	struct fwc_pl_key_revoke pl;
	struct cli_txopts o;
	struct cli_parser p;
	size_t plen = 0;
	int id, rc = CLI_EXIT_ERROR;

	memset(&pl, 0, sizeof(pl));
	memset(&o, 0, sizeof(o));
	cli_parser_init(&p, cmd, argc, argv, 2);
	while ((id = next_opt(&p, opts, &val, &o, revoke_help, &rc)) != 0) {
		switch (id) {
		case CLI_NEXT_BAD:
			return rc;
		case O_REVOKE:
			key = val;
			break;
		case O_REASON:
			if (reason_arg(cmd, &pl.reason, val) != 0)
				return CLI_EXIT_ERROR;
			break;
		default:
			return cli_usage_err(cmd, "unexpected argument '%.64s'", val);
		}
	}
	if (key == NULL)
		return cli_usage_err(cmd, "missing --revoke KEY");
	if (cli_pubkey_resolve(cmd, key, &pl.key) != 0)
		return CLI_EXIT_ERROR;
	return SEND(cmd, &o, FWC_TX_KEY_REVOKE, key_revoke, &pl);
}

/* ---- product register ---- */

#define MAX_LISTS 16

static const char product_help[] =
    "usage: fwchain product register --id ID --name NAME --root-keys KEYS --root-threshold N\n"
    "                                [transaction options]\n"
    "\n"
    "Registers a product with its root key set (PRODUCT_REGISTER; sender: an admin). The\n"
    "release key set follows with 'fwchain keyset register', signed by the root keys.\n"
    "\n"
    "  --id ID              product id, [a-z0-9][a-z0-9._-]*, 1..64 bytes\n"
    "  --name NAME          display name, 1..128 bytes\n"
    "  --root-keys KEYS     the root (offline) keys: ALG:HEX, key files or keystores,\n"
    "                       comma-separated or repeated, up to 16\n"
    "  --root-threshold N   how many of them sign a key-set statement\n"
    "\n" CLI_TX_OPTIONS_HELP;

int cmd_product(int argc, char **argv)
{
	static const struct cli_opt opts[] = {
	    {"help", O_HELP, 0},
	    {"id", O_ID, 1},
	    {"name", O_NAME, 1},
	    {"root-keys", O_ROOT_KEYS, 1},
	    {"root-threshold", O_ROOT_THRESHOLD, 1},
	    CLI_TX_OPTIONS,
	    {NULL, 0, 0},
	};
	const char *cmd = "product register", *val;
	static struct fwc_keyset ks;
	struct fwc_pl_product_register pl;
	struct cli_txopts o;
	struct cli_parser p;
	char *lists[MAX_LISTS];
	uint8_t set[FWC_KEYSET_ENC_MAX];
	unsigned long long thr = 0;
	size_t n_lists = 0, plen = 0, slen = 0, i;
	int id, lrc, rc = CLI_EXIT_ERROR;

	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		fputs(product_help, stdout);
		return cli_stdout_done("product");
	}
	if (argc < 2 || strcmp(argv[1], "register") != 0)
		return cli_usage_err("product", argc < 2 ? "missing subcommand (register)"
		                                         : "unknown subcommand (register)");
	memset(&pl, 0, sizeof(pl));
	memset(&o, 0, sizeof(o));
	cli_parser_init(&p, cmd, argc, argv, 2);
	while ((id = next_opt(&p, opts, &val, &o, product_help, &rc)) != 0) {
		switch (id) {
		case CLI_NEXT_BAD:
			goto out;
		case O_ID:
			pl.id = str_of(val);
			break;
		case O_NAME:
			pl.name = str_of(val);
			break;
		case O_ROOT_KEYS:
			if (n_lists == MAX_LISTS) {
				rc = cli_usage_err(cmd, "too many --root-keys");
				goto out;
			}
			if ((lists[n_lists] = strdup(val)) == NULL) {
				rc = cli_err(cmd, "out of memory");
				goto out;
			}
			n_lists++;
			break;
		case O_ROOT_THRESHOLD:
			if (cli_u64_arg(cmd, "--root-threshold", val, FWC_KEYSET_MAX, &thr) != 0)
				goto out;
			break;
		default:
			rc = cli_usage_err(cmd, "unexpected argument '%.64s'", val);
			goto out;
		}
	}
	rc = CLI_EXIT_ERROR;
	if (pl.id.p == NULL || pl.name.p == NULL || n_lists == 0 || thr == 0) {
		cli_usage_err(cmd, "--id, --name, --root-keys and --root-threshold are required");
		goto out;
	}
	if (id_arg(cmd, "--id", pl.id.p, FWC_PL_ID_MAX) != 0 ||
	    text_arg(cmd, "--name", pl.name.p, 1, FWC_PL_NAME_MAX) != 0 ||
	    cli_keyset_args(cmd, &ks, lists, n_lists, (unsigned)thr, "--root-keys") != 0)
		goto out;
	if ((lrc = fwc_keyset_encode(set, sizeof(set), &slen, &ks)) < 0) {
		cli_err_rc(cmd, lrc, NULL, "encoding the root key set");
		goto out;
	}
	pl.root_set.p = set;
	pl.root_set.len = slen;
	rc = SEND(cmd, &o, FWC_TX_PRODUCT_REGISTER, product_register, &pl);
out:
	for (i = 0; i < n_lists; i++)
		free(lists[i]);
	return rc;
}

/* ---- keyset create / sign / show / register / rotate ---- */

/* Read and decode a key-set statement file; *buf (caller frees) owns the bytes rot points to. */
static int statement_read(const char *cmd, struct fwc_rotation *rot, uint8_t **buf, size_t *len,
                          const char *path)
{
	struct fwc_errinfo ei = {0};
	int rc;

	if (cli_file_read(cmd, path, FWC_PL_OBJECT_MAX, buf, len) != 0)
		return CLI_EXIT_ERROR;
	rc = fwc_rotation_decode(rot, *buf, *len, &ei);
	if (rc < 0) {
		free(*buf);
		*buf = NULL;
		return cli_err_rc(cmd, rc, &ei, "key-set statement %s (byte %zu)", path, ei.offset);
	}
	return 0;
}

/* Sign rot's digest with the keystore and write the statement with the old signatures (minus
 * one by the same key) and the new one. */
static int statement_sign_write(const char *cmd, const struct fwc_rotation *rot,
                                const struct fwc_keyset_sig *old, size_t n_old, const char *keyfile,
                                const char *passfile, const char *out, int replace, size_t *n_sigs)
{
	static uint8_t enc[FWC_PL_OBJECT_MAX];
	struct fwc_keyset_sig sigs[FWC_PL_SIGS_MAX];
	struct fwc_seckey sk;
	struct fwc_pubkey pk;
	uint8_t digest[32], sig[FWC_SIG_LEN], bin[FWC_PUBKEY_BIN_LEN];
	size_t n = 0, elen = 0, i;
	int lrc, rc = CLI_EXIT_ERROR;

	memset(&sk, 0, sizeof(sk));
	if (cli_seckey_load(cmd, &sk, keyfile, passfile) != 0)
		return CLI_EXIT_ERROR;
	if ((lrc = fwc_key_public(&pk, &sk)) < 0 || (lrc = fwc_pubkey_to_bin(bin, &pk)) < 0 ||
	    (lrc = fwc_rotation_digest(digest, rot)) < 0 ||
	    (lrc = fwc_sign(sig, &sk, digest, sizeof(digest))) < 0) {
		cli_err_rc(cmd, lrc, NULL, "signing with %s", keyfile);
		goto out;
	}
	for (i = 0; i < n_old; i++)
		if (memcmp(old[i].pubkey, bin, sizeof(bin)) != 0)
			sigs[n++] = old[i];
	if (n == FWC_PL_SIGS_MAX) {
		cli_err(cmd, "the statement already has %d signatures", FWC_PL_SIGS_MAX);
		goto out;
	}
	sigs[n].pubkey = bin;
	sigs[n].sig = sig;
	n++;
	if ((lrc = fwc_rotation_encode(enc, sizeof(enc), &elen, rot, sigs, n)) < 0) {
		cli_err_rc(cmd, lrc, NULL, "encoding the statement");
		goto out;
	}
	if (cli_file_write_atomic(cmd, out, enc, elen, 0644, replace) != 0)
		goto out;
	*n_sigs = n;
	rc = 0;
out:
	fwc_seckey_wipe(&sk);
	return rc;
}

static const char keyset_help[] =
    "usage: fwchain keyset create --product ID --set root|release --version N --keys KEYS\n"
    "                             --threshold N --sign-key KEYSTORE [--passphrase-file FILE]\n"
    "                             --out FILE\n"
    "       fwchain keyset sign --sign-key KEYSTORE [--passphrase-file FILE] FILE\n"
    "       fwchain keyset show [--json] FILE\n"
    "       fwchain keyset register|rotate FILE [transaction options]\n"
    "\n"
    "A key-set statement names a product's new root or release key set (keys and threshold)\n"
    "and its version, and carries signatures by the product's root keys (docs/formats/\n"
    "payloads.md). 'create' writes one signed by a first root key (OUT must not exist);\n"
    "'sign' adds a root key's signature in place (a key that signed again replaces its\n"
    "signature); 'show' prints it; 'register' submits the product's first release set\n"
    "(KEYSET_REGISTER, version 1) and 'rotate' a later root or release set (KEYSET_ROTATE).\n"
    "Sender: an admin. The ledger counts the signatures against the product's current root\n"
    "set (and, for a root rotation, the new one).\n"
    "\n"
    "  --product ID         the product\n"
    "  --set root|release   which set\n"
    "  --version N          1 for the first release set, else the current version + 1\n"
    "  --keys KEYS          the set's keys (ALG:HEX, key files or keystores), comma-separated\n"
    "                       or repeated, up to 16\n"
    "  --threshold N        its threshold\n"
    "  --sign-key KEYSTORE  a root key that signs the statement\n"
    "\n" CLI_TX_OPTIONS_HELP;

static int keyset_create(int argc, char **argv)
{
	static const struct cli_opt opts[] = {
	    {"help", O_HELP, 0},         {"product", O_PRODUCT, 1},
	    {"set", O_SET, 1},           {"version", O_VERSION, 1},
	    {"keys", O_KEYS, 1},         {"threshold", O_THRESHOLD, 1},
	    {"sign-key", O_SIGN_KEY, 1}, {"passphrase-file", O_SIGN_PASSFILE, 1},
	    {"out", O_OUTFILE, 1},       {NULL, 0, 0},
	};
	const char *cmd = "keyset create", *val, *product = NULL, *signkey = NULL, *passfile = NULL,
	           *out = NULL;
	static struct fwc_keyset ks;
	struct fwc_rotation rot;
	char *lists[MAX_LISTS];
	uint8_t set[FWC_KEYSET_ENC_MAX];
	struct cli_parser p;
	unsigned long long thr = 0, version = 0;
	size_t n_lists = 0, slen = 0, nsig = 0, i;
	int id, lrc, rc = CLI_EXIT_ERROR;

	memset(&rot, 0, sizeof(rot));
	cli_parser_init(&p, cmd, argc, argv, 2);
	while ((id = next_opt(&p, opts, &val, NULL, keyset_help, &rc)) != 0) {
		switch (id) {
		case CLI_NEXT_BAD:
			goto out;
		case O_PRODUCT:
			product = val;
			break;
		case O_SET:
			if (strcmp(val, "root") == 0)
				rot.set = FWC_ROTATE_ROOT;
			else if (strcmp(val, "release") == 0)
				rot.set = FWC_ROTATE_RELEASE;
			else {
				rc =
				    cli_err(cmd, "--set must be root or release, not '%.32s'", val);
				goto out;
			}
			break;
		case O_VERSION:
			if (cli_u64_arg(cmd, "--version", val, UINT64_MAX, &version) != 0)
				goto out;
			break;
		case O_KEYS:
			if (n_lists == MAX_LISTS) {
				rc = cli_usage_err(cmd, "too many --keys");
				goto out;
			}
			if ((lists[n_lists] = strdup(val)) == NULL) {
				rc = cli_err(cmd, "out of memory");
				goto out;
			}
			n_lists++;
			break;
		case O_THRESHOLD:
			if (cli_u64_arg(cmd, "--threshold", val, FWC_KEYSET_MAX, &thr) != 0)
				goto out;
			break;
		case O_SIGN_KEY:
			signkey = val;
			break;
		case O_SIGN_PASSFILE:
			passfile = val;
			break;
		case O_OUTFILE:
			out = val;
			break;
		default:
			rc = cli_usage_err(cmd, "unexpected argument '%.64s'", val);
			goto out;
		}
	}
	rc = CLI_EXIT_ERROR;
	if (product == NULL || rot.set == 0 || version == 0 || n_lists == 0 || thr == 0 ||
	    signkey == NULL || out == NULL) {
		cli_usage_err(cmd, "--product, --set, --version (>= 1), --keys, --threshold, "
		                   "--sign-key and --out are required");
		goto out;
	}
	if (id_arg(cmd, "--product", product, FWC_PL_ID_MAX) != 0 ||
	    cli_keyset_args(cmd, &ks, lists, n_lists, (unsigned)thr, "--keys") != 0)
		goto out;
	if ((lrc = fwc_keyset_encode(set, sizeof(set), &slen, &ks)) < 0) {
		cli_err_rc(cmd, lrc, NULL, "encoding the key set");
		goto out;
	}
	rot.product = str_of(product);
	rot.version = version;
	rot.keyset.p = set;
	rot.keyset.len = slen;
	if (statement_sign_write(cmd, &rot, NULL, 0, signkey, passfile, out, 0, &nsig) != 0)
		goto out;
	printf("statement: ");
	cli_text_safe(stdout, out, strlen(out));
	printf(" (%s set version %llu of %s, %u of %zu keys; 1 signature)\n",
	       rot.set == FWC_ROTATE_ROOT ? "root" : "release", version, product, ks.threshold,
	       ks.n);
	rc = cli_stdout_done(cmd);
out:
	for (i = 0; i < n_lists; i++)
		free(lists[i]);
	return rc;
}

static int keyset_sign(int argc, char **argv)
{
	static const struct cli_opt opts[] = {
	    {"help", O_HELP, 0},
	    {"sign-key", O_SIGN_KEY, 1},
	    {"passphrase-file", O_SIGN_PASSFILE, 1},
	    {NULL, 0, 0},
	};
	const char *cmd = "keyset sign", *val, *signkey = NULL, *passfile = NULL, *file = NULL;
	struct fwc_rotation rot;
	struct cli_parser p;
	uint8_t *buf = NULL;
	size_t len = 0, nsig = 0;
	int id, rc = CLI_EXIT_ERROR;

	cli_parser_init(&p, cmd, argc, argv, 2);
	while ((id = next_opt(&p, opts, &val, NULL, keyset_help, &rc)) != 0) {
		switch (id) {
		case CLI_NEXT_BAD:
			return rc;
		case O_SIGN_KEY:
			signkey = val;
			break;
		case O_SIGN_PASSFILE:
			passfile = val;
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
	if (signkey == NULL || file == NULL)
		return cli_usage_err(cmd, "--sign-key and FILE are required");
	if (statement_read(cmd, &rot, &buf, &len, file) != 0)
		return CLI_EXIT_ERROR;
	rc = statement_sign_write(cmd, &rot, rot.sigs, rot.n_sigs, signkey, passfile, file, 1,
	                          &nsig);
	if (rc == 0) {
		fputs("signed ", stdout);
		cli_text_safe(stdout, file, strlen(file));
		printf("; it now has %zu signature%s\n", nsig, nsig == 1 ? "" : "s");
		rc = cli_stdout_done(cmd);
	}
	free(buf);
	return rc;
}

static int keyset_show(int argc, char **argv)
{
	static const struct cli_opt opts[] = {
	    {"help", O_HELP, 0},
	    {"json", O_JSON_LOCAL, 0},
	    {NULL, 0, 0},
	};
	const char *cmd = "keyset show", *val, *file = NULL;
	static struct fwc_keyset ks;
	struct fwc_rotation rot;
	struct fwc_errinfo ei = {0};
	struct fwc_pubkey pk;
	struct cli_parser p;
	char text[FWC_PUBKEY_TEXT_MAX];
	uint8_t *buf = NULL;
	size_t len = 0, i;
	int id, json = 0, lrc, rc = CLI_EXIT_ERROR;

	cli_parser_init(&p, cmd, argc, argv, 2);
	while ((id = next_opt(&p, opts, &val, NULL, keyset_help, &rc)) != 0) {
		switch (id) {
		case CLI_NEXT_BAD:
			return rc;
		case O_JSON_LOCAL:
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
	if (statement_read(cmd, &rot, &buf, &len, file) != 0)
		return CLI_EXIT_ERROR;
	if ((lrc = fwc_keyset_decode(&ks, rot.keyset.p, rot.keyset.len, &ei)) < 0) {
		cli_err_rc(cmd, lrc, &ei, "key-set statement %s: its key set", file);
		goto out;
	}
	if (json) {
		fputs("{\"product\":", stdout);
		cli_json_str(stdout, rot.product.p, rot.product.len);
		printf(",\"set\":\"%s\",\"version\":%llu,\"threshold\":%u,\"keys\":[",
		       rot.set == FWC_ROTATE_ROOT ? "root" : "release",
		       (unsigned long long)rot.version, ks.threshold);
		for (i = 0; i < ks.n; i++) {
			fwc_pubkey_to_text(text, sizeof(text), &ks.keys[i]);
			printf("%s\"%s\"", i ? "," : "", text);
		}
		fputs("],\"signers\":[", stdout);
		for (i = 0; i < rot.n_sigs; i++) {
			fwc_pubkey_from_bin(&pk, rot.sigs[i].pubkey, FWC_PUBKEY_BIN_LEN, NULL);
			fwc_pubkey_to_text(text, sizeof(text), &pk);
			printf("%s\"%s\"", i ? "," : "", text);
		}
		fputs("]}\n", stdout);
	} else {
		fputs("product:   ", stdout);
		cli_text_safe(stdout, rot.product.p, rot.product.len);
		printf("\nset:       %s, version %llu\nkeys:      %u of %zu\n",
		       rot.set == FWC_ROTATE_ROOT ? "root" : "release",
		       (unsigned long long)rot.version, ks.threshold, ks.n);
		for (i = 0; i < ks.n; i++) {
			fwc_pubkey_to_text(text, sizeof(text), &ks.keys[i]);
			printf("  %s\n", text);
		}
		printf("signed by: %zu (listed, not verified: the ledger counts them against the "
		       "product's root set)\n",
		       rot.n_sigs);
		for (i = 0; i < rot.n_sigs; i++) {
			fwc_pubkey_from_bin(&pk, rot.sigs[i].pubkey, FWC_PUBKEY_BIN_LEN, NULL);
			fwc_pubkey_to_text(text, sizeof(text), &pk);
			printf("  %s\n", text);
		}
	}
	rc = cli_stdout_done(cmd);
out:
	free(buf);
	return rc;
}

static int keyset_submit(int argc, char **argv, int rotate)
{
	static const struct cli_opt opts[] = {
	    {"help", O_HELP, 0},
	    CLI_TX_OPTIONS,
	    {NULL, 0, 0},
	};
	const char *cmd = rotate ? "keyset rotate" : "keyset register", *val, *file = NULL;
	struct fwc_pl_keyset_statement pl;
	struct fwc_rotation rot;
	struct cli_txopts o;
	struct cli_parser p;
	uint8_t *buf = NULL;
	size_t len = 0, plen = 0;
	int id, rc = CLI_EXIT_ERROR;

	memset(&o, 0, sizeof(o));
	cli_parser_init(&p, cmd, argc, argv, 2);
	while ((id = next_opt(&p, opts, &val, &o, keyset_help, &rc)) != 0) {
		switch (id) {
		case CLI_NEXT_BAD:
			return rc;
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
		return cli_usage_err(cmd, "missing FILE (a key-set statement)");
	if (statement_read(cmd, &rot, &buf, &len, file) != 0)
		return CLI_EXIT_ERROR;
	if (!rotate && (rot.set != FWC_ROTATE_RELEASE || rot.version != 1)) {
		rc = cli_err(cmd,
		             "%s is a %s set version %llu: register takes the first release "
		             "set (version 1); use 'keyset rotate'",
		             file, rot.set == FWC_ROTATE_ROOT ? "root" : "release",
		             (unsigned long long)rot.version);
		goto out;
	}
	pl.statement.p = buf;
	pl.statement.len = len;
	rc = SEND(cmd, &o, rotate ? FWC_TX_KEYSET_ROTATE : FWC_TX_KEYSET_REGISTER, keyset_statement,
	          &pl);
out:
	free(buf);
	return rc;
}

int cmd_keyset(int argc, char **argv)
{
	if (argc < 2)
		return cli_usage_err("keyset",
		                     "missing subcommand (create, sign, show, register, rotate)");
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		fputs(keyset_help, stdout);
		return cli_stdout_done("keyset");
	}
	if (strcmp(argv[1], "create") == 0)
		return keyset_create(argc, argv);
	if (strcmp(argv[1], "sign") == 0)
		return keyset_sign(argc, argv);
	if (strcmp(argv[1], "show") == 0)
		return keyset_show(argc, argv);
	if (strcmp(argv[1], "register") == 0)
		return keyset_submit(argc, argv, 0);
	if (strcmp(argv[1], "rotate") == 0)
		return keyset_submit(argc, argv, 1);
	return cli_usage_err(
	    "keyset", "unknown subcommand '%.64s' (create, sign, show, register, rotate)", argv[1]);
}

/* ---- device register / update ---- */

static const char device_help[] =
    "usage: fwchain device register --device KEY --product ID --hwid HW [--group G]...\n"
    "                               [--region R] [--attr NAME=VALUE]... [--counter N]\n"
    "                               [transaction options]\n"
    "       fwchain device update --device KEY --product ID --hwid HW [--group G]...\n"
    "                             [--region R] [--attr NAME=VALUE]... [--retire]\n"
    "                             [transaction options]\n"
    "       fwchain device show KEY | fwchain device list (see 'fwchain device show --help')\n"
    "       fwchain device provision ... (see 'fwchain device provision --help')\n"
    "\n"
    "Registers a device (DEVICE_REGISTER; sender: an operator), or restates an existing one:\n"
    "'update' replaces its groups, region and attributes (those not given are cleared), and\n"
    "--retire retires it for ever.\n"
    "\n"
    "  --device KEY        the device's public key (ALG:HEX, key file or keystore)\n"
    "  --product ID        its product\n"
    "  --hwid HW           its hardware id, 1..64 bytes of printable ASCII\n"
    "  --group G           a group (an id of 1..32 bytes); repeat, up to 16, any order\n"
    "  --region R          its region, 1..32 bytes\n"
    "  --attr NAME=VALUE   an attribute (name 1..32, value 0..128 bytes); repeat, up to 16\n"
    "  --counter N         the release counter it runs (register only)\n"
    "  --retire            retire it (update only)\n"
    "\n" CLI_TX_OPTIONS_HELP;

static int group_cmp(const void *a, const void *b)
{
	const struct fwc_cbor_str *x = a, *y = b;
	size_t m = x->len < y->len ? x->len : y->len;
	int c = memcmp(x->p, y->p, m);

	return c != 0 ? c : (x->len > y->len) - (x->len < y->len);
}

/* Canonical CBOR order of text keys: shorter first, then bytewise. */
static int attr_cmp(const void *a, const void *b)
{
	const struct fwc_pl_attr *x = a, *y = b;

	if (x->key.len != y->key.len)
		return x->key.len < y->key.len ? -1 : 1;
	return memcmp(x->key.p, y->key.p, x->key.len);
}

int cmd_device(int argc, char **argv)
{
	static const struct cli_opt opts[] = {
	    {"help", O_HELP, 0},
	    {"device", O_DEVICE, 1},
	    {"product", O_PRODUCT, 1},
	    {"hwid", O_HWID, 1},
	    {"group", O_GROUP, 1},
	    {"region", O_REGION, 1},
	    {"attr", O_ATTR, 1},
	    {"counter", O_COUNTER, 1},
	    {"retire", O_RETIRE, 0},
	    CLI_TX_OPTIONS,
	    {NULL, 0, 0},
	};
	const char *cmd, *val, *device = NULL;
	static struct fwc_pl_device_register pl;
	struct cli_txopts o;
	struct cli_parser p;
	unsigned long long v;
	size_t plen = 0, i;
	int id, update, rc = CLI_EXIT_ERROR;

	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		fputs(device_help, stdout);
		return cli_stdout_done("device");
	}
	if (argc >= 2 && (strcmp(argv[1], "show") == 0 || strcmp(argv[1], "list") == 0))
		return cli_device_query(argc, argv);
	if (argc >= 2 && strcmp(argv[1], "provision") == 0)
		return cli_device_provision(argc, argv);
	if (argc < 2 || (strcmp(argv[1], "register") != 0 && strcmp(argv[1], "update") != 0))
		return cli_usage_err(
		    "device", argc < 2 ? "missing subcommand (register, update, provision, show, list)"
		                       : "unknown subcommand (register, update, provision, show, list)");
	update = strcmp(argv[1], "update") == 0;
	cmd = update ? "device update" : "device register";
	memset(&pl, 0, sizeof(pl));
	memset(&o, 0, sizeof(o));
	pl.update = update;
	cli_parser_init(&p, cmd, argc, argv, 2);
	while ((id = next_opt(&p, opts, &val, &o, device_help, &rc)) != 0) {
		switch (id) {
		case CLI_NEXT_BAD:
			return rc;
		case O_DEVICE:
			device = val;
			break;
		case O_PRODUCT:
			pl.product = str_of(val);
			break;
		case O_HWID:
			pl.hwid = str_of(val);
			break;
		case O_GROUP:
			if (pl.groups.n == FWC_PL_GROUPS_MAX)
				return cli_usage_err(cmd, "at most %d --group", FWC_PL_GROUPS_MAX);
			if (id_arg(cmd, "--group", val, FWC_PL_GROUP_MAX) != 0)
				return CLI_EXIT_ERROR;
			pl.groups.v[pl.groups.n++] = str_of(val);
			break;
		case O_REGION:
			if (text_arg(cmd, "--region", val, 1, FWC_PL_REGION_MAX) != 0)
				return CLI_EXIT_ERROR;
			pl.region = str_of(val);
			break;
		case O_ATTR: {
			const char *eq = strchr(val, '=');
			struct fwc_pl_attr *a;

			if (pl.attrs.n == FWC_PL_ATTRS_MAX)
				return cli_usage_err(cmd, "at most %d --attr", FWC_PL_ATTRS_MAX);
			if (eq == NULL || eq == val)
				return cli_err(cmd, "--attr '%.64s' is not NAME=VALUE", val);
			a = &pl.attrs.v[pl.attrs.n++];
			a->key.p = val;
			a->key.len = (size_t)(eq - val);
			a->value = str_of(eq + 1);
			if (a->key.len > FWC_PL_ATTR_KEY_MAX ||
			    a->value.len > FWC_PL_ATTR_VALUE_MAX ||
			    !cli_utf8_valid(val, strlen(val)))
				return cli_err(
				    cmd, "--attr '%.64s': name 1..%d, value 0..%d bytes of UTF-8",
				    val, FWC_PL_ATTR_KEY_MAX, FWC_PL_ATTR_VALUE_MAX);
			break;
		}
		case O_COUNTER:
			if (update)
				return cli_usage_err(cmd, "--counter is for device register");
			if (cli_u64_arg(cmd, "--counter", val, UINT64_MAX, &v) != 0)
				return CLI_EXIT_ERROR;
			pl.counter = v;
			break;
		case O_RETIRE:
			if (!update)
				return cli_usage_err(cmd, "--retire is for device update");
			pl.retire = 1;
			break;
		default:
			return cli_usage_err(cmd, "unexpected argument '%.64s'", val);
		}
	}
	if (device == NULL || pl.product.p == NULL || pl.hwid.p == NULL)
		return cli_usage_err(cmd, "--device, --product and --hwid are required");
	if (id_arg(cmd, "--product", pl.product.p, FWC_PL_ID_MAX) != 0)
		return CLI_EXIT_ERROR;
	for (i = 0; i < pl.hwid.len; i++)
		if (pl.hwid.p[i] < 0x21 || pl.hwid.p[i] > 0x7e)
			return cli_err(cmd, "--hwid must be printable ASCII without spaces");
	if (pl.hwid.len == 0 || pl.hwid.len > FWC_PL_HWID_MAX)
		return cli_err(cmd, "--hwid must be 1..%d bytes", FWC_PL_HWID_MAX);
	qsort(pl.groups.v, pl.groups.n, sizeof(pl.groups.v[0]), group_cmp);
	for (i = 1; i < pl.groups.n; i++)
		if (group_cmp(&pl.groups.v[i - 1], &pl.groups.v[i]) == 0)
			return cli_err(cmd, "--group %.32s is given twice", pl.groups.v[i].p);
	qsort(pl.attrs.v, pl.attrs.n, sizeof(pl.attrs.v[0]), attr_cmp);
	for (i = 1; i < pl.attrs.n; i++)
		if (attr_cmp(&pl.attrs.v[i - 1], &pl.attrs.v[i]) == 0)
			return cli_err(cmd, "--attr %.*s is given twice",
			               (int)pl.attrs.v[i].key.len, pl.attrs.v[i].key.p);
	if (cli_pubkey_resolve(cmd, device, &pl.device) != 0)
		return CLI_EXIT_ERROR;
	return SEND(cmd, &o, FWC_TX_DEVICE_REGISTER, device_register, &pl);
}

/* ---- release publish / revoke ---- */

static const char release_help[] =
    "usage: fwchain release publish [--image FILE] [transaction options] MANIFEST\n"
    "       fwchain release revoke --release ID|MANIFEST [--reason TEXT] [transaction options]\n"
    "       fwchain release show ID | fwchain release list (see 'fwchain release show --help')\n"
    "\n"
    "'publish' puts a signed manifest on the ledger (RELEASE; sender: a member with the release\n"
    "role). The ledger checks the manifest's signatures against the product's release key set:\n"
    "sign it first ('fwchain manifest sign') with enough release keys. 'revoke' withdraws a\n"
    "release for ever (RELEASE_REVOKE). A release id is the manifest digest, 64 hex digits, or\n"
    "give the manifest file. --image FILE first uploads the image to the node (signed by --key;\n"
    "the node refuses a release whose content it does not hold) and checks its CID is the\n"
    "manifest's.\n"
    "\n" CLI_TX_OPTIONS_HELP;

int cmd_release(int argc, char **argv)
{
	static const struct cli_opt opts[] = {
	    {"help", O_HELP, 0}, {"release", O_RELEASE, 1}, {"reason", O_REASON, 1},
	    {"image", O_IMAGE, 1}, CLI_TX_OPTIONS, {NULL, 0, 0},
	};
	const char *cmd, *val, *file = NULL, *rel = NULL, *reason = NULL, *image = NULL;
	static struct fwc_signed_manifest sm;
	struct fwc_errinfo ei = {0};
	struct cli_txopts o;
	struct cli_parser p;
	uint8_t *buf = NULL;
	size_t len = 0, plen = 0;
	int id, publish, lrc, rc = CLI_EXIT_ERROR;

	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		fputs(release_help, stdout);
		return cli_stdout_done("release");
	}
	if (argc >= 2 && (strcmp(argv[1], "show") == 0 || strcmp(argv[1], "list") == 0))
		return cli_release_query(argc, argv);
	if (argc < 2 || (strcmp(argv[1], "publish") != 0 && strcmp(argv[1], "revoke") != 0))
		return cli_usage_err("release",
		                     argc < 2 ? "missing subcommand (publish, revoke, show, list)"
		                              : "unknown subcommand (publish, revoke, show, list)");
	publish = strcmp(argv[1], "publish") == 0;
	cmd = publish ? "release publish" : "release revoke";
	memset(&o, 0, sizeof(o));
	cli_parser_init(&p, cmd, argc, argv, 2);
	while ((id = next_opt(&p, opts, &val, &o, release_help, &rc)) != 0) {
		switch (id) {
		case CLI_NEXT_BAD:
			return rc;
		case O_RELEASE:
			rel = val;
			break;
		case O_REASON:
			reason = val;
			break;
		case O_IMAGE:
			image = val;
			break;
		case CLI_NEXT_POS:
			if (!publish || file != NULL)
				return cli_usage_err(cmd, "unexpected argument '%.64s'", val);
			file = val;
			break;
		default:
			return CLI_EXIT_ERROR;
		}
	}
	if (publish) {
		struct fwc_pl_release pl;

		if (rel != NULL || reason != NULL)
			return cli_usage_err(cmd, "--release and --reason are for release revoke");
		if (image != NULL && o.no_submit)
			return cli_usage_err(cmd, "--image uploads to the node: not with --no-submit");
		if (file == NULL)
			return cli_usage_err(cmd, "missing MANIFEST");
		if (cli_file_read(cmd, file, FWC_SIGNED_MANIFEST_MAX, &buf, &len) != 0)
			return CLI_EXIT_ERROR;
		if ((lrc = fwc_signed_manifest_decode(&sm, buf, len, &ei)) < 0) {
			rc = cli_err_rc(cmd, lrc, &ei, "manifest %s (byte %zu)", file, ei.offset);
			goto out;
		}
		if (sm.n_sigs == 0) {
			rc = cli_err(cmd,
			             "manifest %s has no signatures: sign it with release keys "
			             "first ('fwchain manifest sign')",
			             file);
			goto out;
		}
		if (image != NULL &&
		    (rc = cli_release_image_upload(cmd, &o, image, sm.manifest.cid.p,
		                                   sm.manifest.cid.len)) != 0)
			goto out;
		pl.manifest.p = buf;
		pl.manifest.len = len;
		rc = SEND(cmd, &o, FWC_TX_RELEASE, release, &pl);
	} else {
		struct fwc_pl_release_revoke pl;

		memset(&pl, 0, sizeof(pl));
		if (image != NULL)
			return cli_usage_err(cmd, "--image is for release publish");
		if (rel == NULL)
			return cli_usage_err(cmd, "missing --release ID|MANIFEST");
		if (release_arg(cmd, pl.release_id, rel) != 0 ||
		    (reason != NULL && reason_arg(cmd, &pl.reason, reason) != 0))
			return CLI_EXIT_ERROR;
		rc = SEND(cmd, &o, FWC_TX_RELEASE_REVOKE, release_revoke, &pl);
	}
out:
	free(buf);
	return rc;
}

/* ---- rollout pause / resume / halt ---- */

static const char rollout_help[] =
    "usage: fwchain rollout pause|resume|halt --release ID|MANIFEST [--reason TEXT]\n"
    "                                         [transaction options]\n"
    "\n"
    "Pauses, resumes or halts (for ever) a release's rollout (ROLLOUT_CONTROL; sender: an\n"
    "operator).\n"
    "\n" CLI_TX_OPTIONS_HELP;

int cmd_rollout(int argc, char **argv)
{
	static const struct cli_opt opts[] = {
	    {"help", O_HELP, 0}, {"release", O_RELEASE, 1}, {"reason", O_REASON, 1}, CLI_TX_OPTIONS,
	    {NULL, 0, 0},
	};
	static const char *actions[] = {NULL, "pause", "resume", "halt"};
	char cmd[32];
	const char *val, *rel = NULL;
	struct fwc_pl_rollout pl;
	struct cli_txopts o;
	struct cli_parser p;
	size_t plen = 0;
	int id, rc = CLI_EXIT_ERROR;

	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		fputs(rollout_help, stdout);
		return cli_stdout_done("rollout");
	}
	memset(&pl, 0, sizeof(pl));
	for (pl.action = 1; argc >= 2 && pl.action <= 3; pl.action++)
		if (strcmp(argv[1], actions[pl.action]) == 0)
			break;
	if (argc < 2 || pl.action > 3)
		return cli_usage_err("rollout", argc < 2
		                                    ? "missing subcommand (pause, resume, halt)"
		                                    : "unknown subcommand (pause, resume, halt)");
	snprintf(cmd, sizeof(cmd), "rollout %s", actions[pl.action]);
	memset(&o, 0, sizeof(o));
	cli_parser_init(&p, cmd, argc, argv, 2);
	while ((id = next_opt(&p, opts, &val, &o, rollout_help, &rc)) != 0) {
		switch (id) {
		case CLI_NEXT_BAD:
			return rc;
		case O_RELEASE:
			rel = val;
			break;
		case O_REASON:
			if (reason_arg(cmd, &pl.reason, val) != 0)
				return CLI_EXIT_ERROR;
			break;
		default:
			return cli_usage_err(cmd, "unexpected argument '%.64s'", val);
		}
	}
	if (rel == NULL)
		return cli_usage_err(cmd, "missing --release ID|MANIFEST");
	if (release_arg(cmd, pl.release_id, rel) != 0)
		return CLI_EXIT_ERROR;
	return SEND(cmd, &o, FWC_TX_ROLLOUT_CONTROL, rollout, &pl);
}

/* ---- postpone ---- */

static const char postpone_help[] =
    "usage: fwchain postpone --release ID|MANIFEST (--device KEY | --group G) --until TIME\n"
    "                        [--reason TEXT] [transaction options]\n"
    "\n"
    "Postpones a release for one device or a group until TIME (POSTPONE; sender: an\n"
    "operator). TIME is seconds since 1970 or YYYY-MM-DDTHH:MM:SSZ.\n"
    "\n" CLI_TX_OPTIONS_HELP;

int cmd_postpone(int argc, char **argv)
{
	static const struct cli_opt opts[] = {
	    {"help", O_HELP, 0},     {"release", O_RELEASE, 1},
	    {"device", O_DEVICE, 1}, {"group", O_GROUP, 1},
	    {"until", O_UNTIL, 1},   {"reason", O_REASON, 1},
	    CLI_TX_OPTIONS,          {NULL, 0, 0},
	};
	const char *cmd = "postpone", *val, *rel = NULL, *device = NULL;
	struct fwc_pl_postpone pl;
	struct cli_txopts o;
	struct cli_parser p;
	size_t plen = 0;
	int id, have_until = 0, rc = CLI_EXIT_ERROR;

	memset(&pl, 0, sizeof(pl));
	memset(&o, 0, sizeof(o));
	cli_parser_init(&p, cmd, argc, argv, 1);
	while ((id = next_opt(&p, opts, &val, &o, postpone_help, &rc)) != 0) {
		switch (id) {
		case CLI_NEXT_BAD:
			return rc;
		case O_RELEASE:
			rel = val;
			break;
		case O_DEVICE:
			device = val;
			break;
		case O_GROUP:
			if (id_arg(cmd, "--group", val, FWC_PL_GROUP_MAX) != 0)
				return CLI_EXIT_ERROR;
			pl.group = str_of(val);
			pl.has_group = 1;
			break;
		case O_UNTIL:
			if (cli_time_arg(cmd, "--until", val, &pl.until) != 0)
				return CLI_EXIT_ERROR;
			have_until = 1;
			break;
		case O_REASON:
			if (reason_arg(cmd, &pl.reason, val) != 0)
				return CLI_EXIT_ERROR;
			break;
		default:
			return cli_usage_err(cmd, "unexpected argument '%.64s'", val);
		}
	}
	if (rel == NULL || !have_until || (device == NULL) == (pl.has_group == 0))
		return cli_usage_err(cmd,
		                     "--release, --until and exactly one of --device and --group "
		                     "are required");
	if (release_arg(cmd, pl.release_id, rel) != 0)
		return CLI_EXIT_ERROR;
	if (device != NULL) {
		if (cli_pubkey_resolve(cmd, device, &pl.device) != 0)
			return CLI_EXIT_ERROR;
		pl.has_device = 1;
	}
	return SEND(cmd, &o, FWC_TX_POSTPONE, postpone, &pl);
}

/* ---- config set / delete ---- */

static const char config_help[] =
    "usage: fwchain config set --product ID [--group G | --device KEY] --name NAME\n"
    "                          (--value TEXT | --value-hex HEX | --value-file FILE)\n"
    "                          [transaction options]\n"
    "       fwchain config delete --product ID [--group G | --device KEY] --name NAME\n"
    "                             [transaction options]\n"
    "\n"
    "Sets or deletes a configuration value for a product's devices, one group, or one device\n"
    "(CONFIG_UPDATE; sender: an operator). NAME is an id (1..64 bytes); a value is 0..1024\n"
    "bytes.\n"
    "\n" CLI_TX_OPTIONS_HELP;

int cmd_config(int argc, char **argv)
{
	static const struct cli_opt opts[] = {
	    {"help", O_HELP, 0},
	    {"product", O_PRODUCT, 1},
	    {"group", O_GROUP, 1},
	    {"device", O_DEVICE, 1},
	    {"name", O_NAME, 1},
	    {"value", O_VALUE, 1},
	    {"value-hex", O_VALUE_HEX, 1},
	    {"value-file", O_VALUE_FILE, 1},
	    CLI_TX_OPTIONS,
	    {NULL, 0, 0},
	};
	const char *cmd, *val, *device = NULL, *vtext = NULL, *vhex = NULL, *vfile = NULL;
	struct fwc_pl_config_update pl;
	struct cli_txopts o;
	struct cli_parser p;
	uint8_t vbuf[FWC_PL_CONFIG_VALUE_MAX], *fbuf = NULL;
	size_t plen = 0, n = 0;
	int id, set, rc = CLI_EXIT_ERROR;

	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		fputs(config_help, stdout);
		return cli_stdout_done("config");
	}
	if (argc < 2 || (strcmp(argv[1], "set") != 0 && strcmp(argv[1], "delete") != 0))
		return cli_usage_err("config", argc < 2 ? "missing subcommand (set, delete)"
		                                        : "unknown subcommand (set, delete)");
	set = strcmp(argv[1], "set") == 0;
	cmd = set ? "config set" : "config delete";
	memset(&pl, 0, sizeof(pl));
	memset(&o, 0, sizeof(o));
	cli_parser_init(&p, cmd, argc, argv, 2);
	while ((id = next_opt(&p, opts, &val, &o, config_help, &rc)) != 0) {
		switch (id) {
		case CLI_NEXT_BAD:
			return rc;
		case O_PRODUCT:
			pl.product = str_of(val);
			break;
		case O_GROUP:
			if (id_arg(cmd, "--group", val, FWC_PL_GROUP_MAX) != 0)
				return CLI_EXIT_ERROR;
			pl.group = str_of(val);
			pl.has_group = 1;
			break;
		case O_DEVICE:
			device = val;
			break;
		case O_NAME:
			pl.name = str_of(val);
			break;
		case O_VALUE:
			vtext = val;
			break;
		case O_VALUE_HEX:
			vhex = val;
			break;
		case O_VALUE_FILE:
			vfile = val;
			break;
		default:
			return cli_usage_err(cmd, "unexpected argument '%.64s'", val);
		}
	}
	if (pl.product.p == NULL || pl.name.p == NULL)
		return cli_usage_err(cmd, "--product and --name are required");
	if (device != NULL && pl.has_group)
		return cli_usage_err(cmd, "give --group or --device, not both");
	if (set && (vtext != NULL) + (vhex != NULL) + (vfile != NULL) != 1)
		return cli_usage_err(cmd, "give exactly one of --value, --value-hex, --value-file");
	if (!set && (vtext != NULL || vhex != NULL || vfile != NULL))
		return cli_usage_err(cmd, "config delete takes no value");
	if (id_arg(cmd, "--product", pl.product.p, FWC_PL_ID_MAX) != 0 ||
	    id_arg(cmd, "--name", pl.name.p, FWC_PL_CONFIG_NAME_MAX) != 0)
		return CLI_EXIT_ERROR;
	if (device != NULL) {
		if (cli_pubkey_resolve(cmd, device, &pl.device) != 0)
			return CLI_EXIT_ERROR;
		pl.has_device = 1;
	}
	if (vtext != NULL) {
		pl.value.p = (const uint8_t *)vtext;
		pl.value.len = strlen(vtext);
	} else if (vhex != NULL) {
		if (cli_hex_arg(cmd, "--value-hex", vhex, vbuf, sizeof(vbuf), &n) != 0)
			return CLI_EXIT_ERROR;
		pl.value.p = vbuf;
		pl.value.len = n;
	} else if (vfile != NULL) {
		if (cli_file_read(cmd, vfile, FWC_PL_CONFIG_VALUE_MAX, &fbuf, &n) != 0)
			return CLI_EXIT_ERROR;
		pl.value.p = fbuf;
		pl.value.len = n;
	}
	pl.has_value = set;
	if (pl.value.len > FWC_PL_CONFIG_VALUE_MAX)
		rc = cli_err(cmd, "the value is %zu bytes, at most %d", pl.value.len,
		             FWC_PL_CONFIG_VALUE_MAX);
	else
		rc = SEND(cmd, &o, FWC_TX_CONFIG_UPDATE, config_update, &pl);
	free(fbuf);
	return rc;
}

/* ---- licence issue / revoke ---- */

static const char licence_help[] =
    "usage: fwchain licence issue --id ID --product ID --feature TEXT [--device KEY]\n"
    "                             [--not-before TIME] [--not-after TIME] [transaction options]\n"
    "       fwchain licence revoke --id ID --product ID [--reason TEXT] [transaction options]\n"
    "\n"
    "Issues a licence for a feature of a product, to one device or (without --device) to all\n"
    "its devices, valid from --not-before (default now) to --not-after (default: no end)\n"
    "(LICENCE_ISSUE), or revokes one (LICENCE_REVOKE). Sender: an operator.\n"
    "\n" CLI_TX_OPTIONS_HELP;

int cmd_licence(int argc, char **argv)
{
	static const struct cli_opt opts[] = {
	    {"help", O_HELP, 0},
	    {"id", O_ID, 1},
	    {"product", O_PRODUCT, 1},
	    {"feature", O_FEATURE, 1},
	    {"device", O_DEVICE, 1},
	    {"not-before", O_NOT_BEFORE, 1},
	    {"not-after", O_NOT_AFTER, 1},
	    {"reason", O_REASON, 1},
	    CLI_TX_OPTIONS,
	    {NULL, 0, 0},
	};
	const char *cmd, *val, *lid = NULL, *product = NULL, *feature = NULL, *device = NULL,
	                       *reason = NULL;
	struct cli_txopts o;
	struct cli_parser p;
	uint64_t nb = 0, na = 0;
	size_t plen = 0;
	int id, issue, have_nb = 0, have_na = 0, rc = CLI_EXIT_ERROR;

	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		fputs(licence_help, stdout);
		return cli_stdout_done("licence");
	}
	if (argc < 2 || (strcmp(argv[1], "issue") != 0 && strcmp(argv[1], "revoke") != 0))
		return cli_usage_err("licence", argc < 2 ? "missing subcommand (issue, revoke)"
		                                         : "unknown subcommand (issue, revoke)");
	issue = strcmp(argv[1], "issue") == 0;
	cmd = issue ? "licence issue" : "licence revoke";
	memset(&o, 0, sizeof(o));
	cli_parser_init(&p, cmd, argc, argv, 2);
	while ((id = next_opt(&p, opts, &val, &o, licence_help, &rc)) != 0) {
		switch (id) {
		case CLI_NEXT_BAD:
			return rc;
		case O_ID:
			lid = val;
			break;
		case O_PRODUCT:
			product = val;
			break;
		case O_FEATURE:
			feature = val;
			break;
		case O_DEVICE:
			device = val;
			break;
		case O_NOT_BEFORE:
			if (cli_time_arg(cmd, "--not-before", val, &nb) != 0)
				return CLI_EXIT_ERROR;
			have_nb = 1;
			break;
		case O_NOT_AFTER:
			if (cli_time_arg(cmd, "--not-after", val, &na) != 0)
				return CLI_EXIT_ERROR;
			have_na = 1;
			break;
		case O_REASON:
			reason = val;
			break;
		default:
			return cli_usage_err(cmd, "unexpected argument '%.64s'", val);
		}
	}
	if (lid == NULL || product == NULL)
		return cli_usage_err(cmd, "--id and --product are required");
	if (id_arg(cmd, "--id", lid, FWC_PL_ID_MAX) != 0 ||
	    id_arg(cmd, "--product", product, FWC_PL_ID_MAX) != 0)
		return CLI_EXIT_ERROR;
	if (issue) {
		struct fwc_pl_licence_issue pl;

		if (reason != NULL)
			return cli_usage_err(cmd, "--reason is for licence revoke");
		if (feature == NULL)
			return cli_usage_err(cmd, "missing --feature");
		if (text_arg(cmd, "--feature", feature, 1, FWC_PL_FEATURE_MAX) != 0)
			return CLI_EXIT_ERROR;
		memset(&pl, 0, sizeof(pl));
		pl.id = str_of(lid);
		pl.product = str_of(product);
		pl.feature = str_of(feature);
		pl.not_before = have_nb ? nb : (uint64_t)time(NULL);
		pl.not_after = have_na ? na : 0;
		if (have_na && na <= pl.not_before)
			return cli_err(cmd, "--not-after must be later than --not-before");
		if (device != NULL) {
			if (cli_pubkey_resolve(cmd, device, &pl.device) != 0)
				return CLI_EXIT_ERROR;
			pl.has_device = 1;
		}
		return SEND(cmd, &o, FWC_TX_LICENCE_ISSUE, licence_issue, &pl);
	} else {
		struct fwc_pl_licence_revoke pl;

		if (feature != NULL || device != NULL || have_nb || have_na)
			return cli_usage_err(cmd,
			                     "licence revoke takes --id, --product and --reason");
		memset(&pl, 0, sizeof(pl));
		pl.id = str_of(lid);
		pl.product = str_of(product);
		if (reason != NULL && reason_arg(cmd, &pl.reason, reason) != 0)
			return CLI_EXIT_ERROR;
		return SEND(cmd, &o, FWC_TX_LICENCE_REVOKE, licence_revoke, &pl);
	}
}

/* ---- event send ---- */

static const char event_help[] =
    "usage: fwchain event send --device-key KEYSTORE [--device-passphrase-file FILE] --seq N\n"
    "                          --kind KIND [--release ID|MANIFEST] [--counter N]\n"
    "                          [--detail TEXT] [--event-time TIME] [transaction options]\n"
    "\n"
    "Makes a device event signed by the device key and sends it in a DEVICE_EVENT\n"
    "transaction signed by --key (a gateway, an operator, or the device itself: then give the\n"
    "same keystore twice).\n"
    "\n"
    "  --device-key KEYSTORE         the device's key (signs the event)\n"
    "  --device-passphrase-file FILE its passphrase (else as --passphrase-file)\n"
    "  --seq N                       the device's event sequence number, >= 1, increasing\n"
    "  --kind KIND                   checkin, downloaded, installed, confirmed, rolled-back,\n"
    "                                failed, postponed, or a vendor number >= 64\n"
    "  --release ID|MANIFEST         the release it is about\n"
    "  --counter N                   a release counter (e.g. the one now running)\n"
    "  --detail TEXT                 1..255 bytes\n"
    "  --event-time TIME             the device's clock (default now)\n"
    "\n" CLI_TX_OPTIONS_HELP;

int cmd_event(int argc, char **argv)
{
	static const struct cli_opt opts[] = {
	    {"help", O_HELP, 0},
	    {"device-key", O_DEVICE_KEY, 1},
	    {"device-passphrase-file", O_DEVICE_PASSFILE, 1},
	    {"seq", O_SEQ, 1},
	    {"kind", O_KIND, 1},
	    {"release", O_RELEASE, 1},
	    {"counter", O_COUNTER, 1},
	    {"detail", O_DETAIL, 1},
	    {"event-time", O_EVENT_TIME, 1},
	    CLI_TX_OPTIONS,
	    {NULL, 0, 0},
	};
	static const char *kinds[] = {NULL,        "checkin",     "downloaded", "installed",
	                              "confirmed", "rolled-back", "failed",     "postponed"};
	static uint8_t ev_buf[FWC_PL_OBJECT_MAX];
	const char *cmd = "event send", *val, *dkey = NULL, *dpass = NULL, *rel = NULL;
	struct fwc_pl_device_event pl;
	struct fwc_event ev;
	struct fwc_seckey sk;
	struct cli_txopts o;
	struct cli_parser p;
	unsigned long long v;
	size_t plen = 0, elen = 0, k;
	int id, have_kind = 0, have_time = 0, lrc, rc = CLI_EXIT_ERROR;

	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		fputs(event_help, stdout);
		return cli_stdout_done("event");
	}
	if (argc < 2 || strcmp(argv[1], "send") != 0)
		return cli_usage_err("event", argc < 2 ? "missing subcommand (send)"
		                                       : "unknown subcommand (send)");
	memset(&ev, 0, sizeof(ev));
	memset(&sk, 0, sizeof(sk));
	memset(&o, 0, sizeof(o));
	cli_parser_init(&p, cmd, argc, argv, 2);
	while ((id = next_opt(&p, opts, &val, &o, event_help, &rc)) != 0) {
		switch (id) {
		case CLI_NEXT_BAD:
			return rc;
		case O_DEVICE_KEY:
			dkey = val;
			break;
		case O_DEVICE_PASSFILE:
			dpass = val;
			break;
		case O_SEQ:
			if (cli_u64_arg(cmd, "--seq", val, UINT64_MAX, &v) != 0)
				return CLI_EXIT_ERROR;
			ev.seq = v;
			break;
		case O_KIND:
			for (k = 1; k < sizeof(kinds) / sizeof(kinds[0]); k++)
				if (strcmp(val, kinds[k]) == 0)
					break;
			if (k < sizeof(kinds) / sizeof(kinds[0])) {
				ev.kind = k;
			} else if (val[0] >= '0' && val[0] <= '9') {
				if (cli_u64_arg(cmd, "--kind", val, UINT64_MAX, &v) != 0)
					return CLI_EXIT_ERROR;
				if (v < FWC_EVENT_VENDOR_MIN)
					return cli_err(cmd,
					               "--kind: vendor kinds are numbers >= %d",
					               FWC_EVENT_VENDOR_MIN);
				ev.kind = v;
			} else {
				return cli_err(cmd, "--kind: unknown kind '%.32s'", val);
			}
			have_kind = 1;
			break;
		case O_RELEASE:
			rel = val;
			break;
		case O_COUNTER:
			if (cli_u64_arg(cmd, "--counter", val, UINT64_MAX, &v) != 0)
				return CLI_EXIT_ERROR;
			ev.counter = v;
			ev.has_counter = 1;
			break;
		case O_DETAIL:
			if (text_arg(cmd, "--detail", val, 1, FWC_PL_REASON_MAX) != 0)
				return CLI_EXIT_ERROR;
			ev.detail = str_of(val);
			break;
		case O_EVENT_TIME:
			if (cli_time_arg(cmd, "--event-time", val, &ev.time) != 0)
				return CLI_EXIT_ERROR;
			have_time = 1;
			break;
		default:
			return cli_usage_err(cmd, "unexpected argument '%.64s'", val);
		}
	}
	if (dkey == NULL || ev.seq == 0 || !have_kind)
		return cli_usage_err(cmd, "--device-key, --seq (>= 1) and --kind are required");
	if (o.key == NULL)
		return cli_usage_err(cmd, "--key (the sender) is required");
	if (rel != NULL) {
		if (release_arg(cmd, ev.release_id, rel) != 0)
			return CLI_EXIT_ERROR;
		ev.has_release = 1;
	}
	if (!have_time)
		ev.time = (uint64_t)time(NULL);
	if (cli_seckey_load(cmd, &sk, dkey, dpass != NULL ? dpass : o.passfile) != 0)
		return CLI_EXIT_ERROR;
	if ((lrc = fwc_key_public(&ev.device, &sk)) < 0 ||
	    (lrc = fwc_event_sign(ev_buf, sizeof(ev_buf), &elen, &ev, &sk)) < 0) {
		rc = cli_err_rc(cmd, lrc, NULL, "signing the event with %s", dkey);
		goto out;
	}
	fwc_seckey_wipe(&sk);
	pl.event.p = ev_buf;
	pl.event.len = elen;
	rc = SEND(cmd, &o, FWC_TX_DEVICE_EVENT, device_event, &pl);
out:
	fwc_seckey_wipe(&sk);
	return rc;
}

/* ---- validators set ---- */

static const char validators_help[] =
    "usage: fwchain validators set --version N --validator NAME=ed25519:HEX... --quorum N\n"
    "                              [transaction options]\n"
    "\n"
    "Records a new validator set (VALIDATOR_SET; sender: an admin of the root organisation):\n"
    "its version, the validators (a cosignature name and an Ed25519 key each; a key file or\n"
    "keystore may stand for the key), and the quorum of cosignatures a checkpoint needs.\n"
    "\n" CLI_TX_OPTIONS_HELP;

int cmd_validators(int argc, char **argv)
{
	static const struct cli_opt opts[] = {
	    {"help", O_HELP, 0},
	    {"version", O_VERSION, 1},
	    {"validator", O_VALIDATOR, 1},
	    {"quorum", O_QUORUM, 1},
	    CLI_TX_OPTIONS,
	    {NULL, 0, 0},
	};
	const char *cmd = "validators set", *val;
	static struct fwc_pl_validator_set pl;
	struct cli_txopts o;
	struct cli_parser p;
	unsigned long long v;
	size_t plen = 0;
	int id, have_version = 0, rc = CLI_EXIT_ERROR;

	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		fputs(validators_help, stdout);
		return cli_stdout_done("validators");
	}
	if (argc < 2 || strcmp(argv[1], "set") != 0)
		return cli_usage_err("validators", argc < 2 ? "missing subcommand (set)"
		                                            : "unknown subcommand (set)");
	memset(&pl, 0, sizeof(pl));
	memset(&o, 0, sizeof(o));
	cli_parser_init(&p, cmd, argc, argv, 2);
	while ((id = next_opt(&p, opts, &val, &o, validators_help, &rc)) != 0) {
		switch (id) {
		case CLI_NEXT_BAD:
			return rc;
		case O_VERSION:
			if (cli_u64_arg(cmd, "--version", val, UINT64_MAX, &v) != 0)
				return CLI_EXIT_ERROR;
			pl.version = v;
			have_version = 1;
			break;
		case O_VALIDATOR: {
			const char *eq = strchr(val, '=');
			struct fwc_pl_validator *vd;
			char *name;

			if (pl.n == FWC_PL_VALIDATORS_MAX)
				return cli_usage_err(cmd, "at most %d --validator",
				                     FWC_PL_VALIDATORS_MAX);
			if (eq == NULL || eq == val)
				return cli_err(cmd, "--validator '%.64s' is not NAME=KEY", val);
			vd = &pl.v[pl.n++];
			name = (char *)val; /* argv storage: cut the name off in place */
			name[eq - val] = '\0';
			if (text_arg(cmd, "--validator name", name, 1, FWC_PL_NAME_MAX) != 0 ||
			    cli_pubkey_resolve(cmd, eq + 1, &vd->key) != 0)
				return CLI_EXIT_ERROR;
			if (vd->key.alg != FWC_ALG_ED25519)
				return cli_err(
				    cmd, "--validator %s: validators sign with Ed25519 keys", name);
			vd->name = str_of(name);
			break;
		}
		case O_QUORUM:
			if (cli_u64_arg(cmd, "--quorum", val, FWC_PL_VALIDATORS_MAX, &v) != 0)
				return CLI_EXIT_ERROR;
			pl.quorum = v;
			break;
		default:
			return cli_usage_err(cmd, "unexpected argument '%.64s'", val);
		}
	}
	if (!have_version || pl.n == 0 || pl.quorum == 0)
		return cli_usage_err(cmd, "--version, --validator and --quorum are required");
	if (pl.quorum > pl.n)
		return cli_err(cmd, "--quorum %llu is more than the %zu validators",
		               (unsigned long long)pl.quorum, pl.n);
	return SEND(cmd, &o, FWC_TX_VALIDATOR_SET, validator_set, &pl);
}
