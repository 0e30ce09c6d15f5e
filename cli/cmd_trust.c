/* fwchain trust create / show: writing and inspecting trust anchors files
 * (docs/formats/trust.md), and the key-list helper other commands share.
 *
 * `create` builds a struct fwc_trust from command-line values and writes its canonical text
 * with fwc_trust_format, which parses its own output back, so the tool can only write files
 * the device and the verifier accept. Product options apply to the most recent --product, the
 * way the file itself groups them. `show` is the parser's front end: it prints a file's
 * values, or the parser's one-line error naming the line. */
#include <stdlib.h>
#include <string.h>

#include "fwchain/key.h"
#include "fwchain/keyset.h"
#include "fwchain/note.h"
#include "fwchain/trust.h"
#include "commands.h"
#include "util.h"

enum {
	O_HELP = 1,
	O_ORIGIN,
	O_VALIDATOR,
	O_QUORUM,
	O_MAX_AGE,
	O_PRODUCT,
	O_ROOT_KEYS,
	O_ROOT_THRESHOLD,
	O_RELEASE_KEYS,
	O_RELEASE_THRESHOLD,
	O_OUT,
	O_JSON,
};

int cli_keyset_args(const char *cmd, struct fwc_keyset *ks, char **lists, size_t n_lists,
                    unsigned threshold, const char *flag)
{
	struct fwc_keyset tmp;
	struct fwc_errinfo ei = {0};
	char *args[FWC_KEYSET_MAX];
	size_t n = 0, i, j;
	int rc;

	memset(&tmp, 0, sizeof(tmp));
	for (i = 0; i < n_lists; i++) {
		char *s = lists[i], *comma;

		for (;;) {
			comma = strchr(s, ',');
			if (comma != NULL)
				*comma = '\0';
			if (*s == '\0')
				return cli_usage_err(cmd, "empty entry in %s", flag);
			if (n == FWC_KEYSET_MAX)
				return cli_usage_err(cmd, "%s: at most %d keys", flag,
				                     FWC_KEYSET_MAX);
			args[n++] = s;
			if (comma == NULL)
				break;
			s = comma + 1;
		}
	}
	if (threshold < 1 || threshold > n)
		return cli_usage_err(cmd, "the threshold of %s must be 1..%zu (the number of keys)",
		                     flag, n);
	for (i = 0; i < n; i++) {
		if (cli_pubkey_resolve(cmd, args[i], &tmp.keys[i]) != 0)
			return CLI_EXIT_ERROR;
		for (j = 0; j < i; j++)
			if (fwc_pubkey_equal(&tmp.keys[i], &tmp.keys[j]))
				return cli_err(cmd, "%s: %.80s and %.80s are the same key", flag,
				               args[j], args[i]);
	}
	tmp.n = n;
	tmp.threshold = threshold;
	if ((rc = fwc_keyset_check(&tmp, &ei)) < 0)
		return cli_err_rc(cmd, rc, &ei, "%s", flag);
	*ks = tmp;
	return 0;
}

/* A validator given as a C2SP vkey, or as NAME=KEY (a cosignature/v1 verifier of that Ed25519
 * key; KEY as cli_pubkey_resolve takes it). */
static int validator_arg(const char *cmd, struct fwc_note_vkey *vk, const char *arg)
{
	struct fwc_errinfo ei = {0};
	struct fwc_pubkey pk;
	const char *eq;
	int rc;

	rc = fwc_note_vkey_parse(vk, arg, strlen(arg), &ei);
	if (rc == FWC_OK)
		return 0;
	eq = strrchr(arg, '=');
	if (eq == NULL || strchr(arg, '+') != NULL)
		return cli_err_rc(cmd, rc, &ei, "--validator '%.120s'", arg);
	if (cli_pubkey_resolve(cmd, eq + 1, &pk) != 0)
		return CLI_EXIT_ERROR;
	if ((rc = fwc_note_vkey_init(vk, arg, (size_t)(eq - arg), FWC_NOTE_SIG_COSIG_V1, &pk)) < 0)
		return cli_err_rc(cmd, rc, NULL,
		                  "--validator '%.120s' (an Ed25519 key and a valid key name)",
		                  arg);
	return 0;
}

/* ---- trust create ---- */

static const char create_help[] =
    "usage: fwchain trust create --origin CHAIN --validator V [--validator V...] --quorum N\n"
    "                            [--max-age SECONDS]\n"
    "                            [--product ID [--root-keys KEYS --root-threshold N]\n"
    "                                          [--release-keys KEYS --release-threshold N]]...\n"
    "                            [--out FILE]\n"
    "\n"
    "Writes a trust anchors file (docs/formats/trust.md) in its canonical form, to FILE\n"
    "(atomically; never overwrites) or to standard output.\n"
    "\n"
    "  --origin CHAIN           the chain id (the checkpoints' origin line)\n"
    "  --validator V            a validator: its C2SP verifier key NAME+ID+KEY, or "
    "NAME=ed25519:HEX\n"
    "                           (a cosignature/v1 key under that name); repeat, up to 16\n"
    "  --quorum N               cosignatures a checkpoint needs, 1..validators\n"
    "  --max-age SECONDS        refuse checkpoints older than this\n"
    "  --product ID             start a product section (up to 4); the key options that\n"
    "                           follow belong to it\n"
    "  --root-keys KEYS         its root key set: public keys (ALG:HEX, key files or\n"
    "                           keystores), comma-separated or repeated\n"
    "  --root-threshold N       k of the root set\n"
    "  --release-keys KEYS      its release key set\n"
    "  --release-threshold N    k of the release set\n"
    "  --out FILE               the file to write\n"
    "\n"
    "Exit codes: 0 written; 2 usage error, invalid value, existing FILE.\n";

#define MAX_LISTS 16

struct product_args {
	const char *id;
	char *root[MAX_LISTS], *release[MAX_LISTS];
	size_t n_root, n_release;
	unsigned long long root_thr, release_thr;
};

static int trust_create(int argc, char **argv)
{
	static const struct cli_opt opts[] = {
	    {"help", O_HELP, 0},
	    {"origin", O_ORIGIN, 1},
	    {"validator", O_VALIDATOR, 1},
	    {"quorum", O_QUORUM, 1},
	    {"max-age", O_MAX_AGE, 1},
	    {"product", O_PRODUCT, 1},
	    {"root-keys", O_ROOT_KEYS, 1},
	    {"root-threshold", O_ROOT_THRESHOLD, 1},
	    {"release-keys", O_RELEASE_KEYS, 1},
	    {"release-threshold", O_RELEASE_THRESHOLD, 1},
	    {"out", O_OUT, 1},
	    {NULL, 0, 0},
	};
	const char *cmd = "trust create", *val, *out = NULL;
	static struct fwc_trust t;
	static struct product_args pa[FWC_TRUST_MAX_PRODUCTS];
	static char text[FWC_TRUST_MAX_LEN + 1];
	struct product_args *cur = NULL;
	struct fwc_errinfo ei = {0};
	struct cli_parser p;
	unsigned long long v;
	size_t n_pa = 0, len = 0, i, j;
	int id, lrc, rc = CLI_EXIT_ERROR, have_quorum = 0;

	memset(&t, 0, sizeof(t));
	memset(pa, 0, sizeof(pa));
	cli_parser_init(&p, cmd, argc, argv, 2);
	while ((id = cli_next(&p, opts, &val)) != CLI_NEXT_END) {
		switch (id) {
		case O_HELP:
			fputs(create_help, stdout);
			rc = cli_stdout_done(cmd);
			goto out;
		case O_ORIGIN:
			t.origin = val;
			t.origin_len = strlen(val);
			break;
		case O_VALIDATOR:
			if (t.n_validators == FWC_TRUST_MAX_VALIDATORS) {
				cli_usage_err(cmd, "at most %d --validator",
				              FWC_TRUST_MAX_VALIDATORS);
				goto out;
			}
			if (validator_arg(cmd, &t.validators[t.n_validators], val) != 0)
				goto out;
			t.n_validators++;
			break;
		case O_QUORUM:
			if (cli_u64_arg(cmd, "--quorum", val, FWC_TRUST_MAX_VALIDATORS, &v) != 0)
				goto out;
			t.quorum = (size_t)v;
			have_quorum = 1;
			break;
		case O_MAX_AGE:
			if (cli_u64_arg(cmd, "--max-age", val, FWC_TRUST_MAX_AGE_MAX, &v) != 0)
				goto out;
			if (v == 0) {
				cli_err(cmd, "--max-age must be at least 1 (leave it out for no "
				             "limit)");
				goto out;
			}
			t.max_age = v;
			break;
		case O_PRODUCT:
			if (n_pa == FWC_TRUST_MAX_PRODUCTS) {
				cli_usage_err(cmd, "at most %d --product", FWC_TRUST_MAX_PRODUCTS);
				goto out;
			}
			cur = &pa[n_pa++];
			cur->id = val;
			break;
		case O_ROOT_KEYS:
		case O_RELEASE_KEYS: {
			char **l;
			size_t *n;

			if (cur == NULL) {
				cli_usage_err(cmd, "--%s needs a --product before it",
				              id == O_ROOT_KEYS ? "root-keys" : "release-keys");
				goto out;
			}
			l = id == O_ROOT_KEYS ? cur->root : cur->release;
			n = id == O_ROOT_KEYS ? &cur->n_root : &cur->n_release;
			if (*n == MAX_LISTS) {
				cli_usage_err(cmd, "too many key lists for one set");
				goto out;
			}
			if ((l[*n] = strdup(val)) == NULL) {
				cli_err(cmd, "out of memory");
				goto out;
			}
			(*n)++;
			break;
		}
		case O_ROOT_THRESHOLD:
		case O_RELEASE_THRESHOLD:
			if (cur == NULL) {
				cli_usage_err(cmd, "--%s needs a --product before it",
				              id == O_ROOT_THRESHOLD ? "root-threshold"
				                                     : "release-threshold");
				goto out;
			}
			if (cli_u64_arg(cmd,
			                id == O_ROOT_THRESHOLD ? "--root-threshold"
			                                       : "--release-threshold",
			                val, FWC_KEYSET_MAX, &v) != 0)
				goto out;
			if (id == O_ROOT_THRESHOLD)
				cur->root_thr = v;
			else
				cur->release_thr = v;
			break;
		case O_OUT:
			out = val;
			break;
		case CLI_NEXT_POS:
			cli_usage_err(cmd, "unexpected argument '%.64s'", val);
			goto out;
		default:
			goto out;
		}
	}
	if (t.origin == NULL || t.n_validators == 0 || !have_quorum) {
		cli_usage_err(cmd, "--origin, --validator and --quorum are required");
		goto out;
	}
	if (t.quorum < 1 || t.quorum > t.n_validators) {
		cli_usage_err(cmd, "--quorum must be 1..%zu (the number of validators)",
		              t.n_validators);
		goto out;
	}
	for (i = 0; i < n_pa; i++) {
		struct fwc_trust_product *pr = &t.products[i];

		pr->id = pa[i].id;
		pr->id_len = strlen(pa[i].id);
		if ((pa[i].n_root == 0) != (pa[i].root_thr == 0) ||
		    (pa[i].n_release == 0) != (pa[i].release_thr == 0)) {
			cli_usage_err(cmd, "product %.64s: each --*-keys needs its --*-threshold",
			              pa[i].id);
			goto out;
		}
		if (pa[i].n_root == 0 && pa[i].n_release == 0) {
			cli_usage_err(cmd,
			              "product %.64s has no key set (--root-keys or "
			              "--release-keys)",
			              pa[i].id);
			goto out;
		}
		if (pa[i].n_root) {
			if (cli_keyset_args(cmd, &pr->root, pa[i].root, pa[i].n_root,
			                    (unsigned)pa[i].root_thr, "--root-keys") != 0)
				goto out;
			pr->has_root = 1;
		}
		if (pa[i].n_release) {
			if (cli_keyset_args(cmd, &pr->release, pa[i].release, pa[i].n_release,
			                    (unsigned)pa[i].release_thr, "--release-keys") != 0)
				goto out;
			pr->has_release = 1;
		}
	}
	t.n_products = n_pa;
	if ((lrc = fwc_trust_format(text, sizeof(text), &len, &t, &ei)) < 0) {
		cli_err_rc(cmd, lrc, &ei, "these values do not make a valid trust file");
		goto out;
	}
	if (out != NULL) {
		if (cli_file_write_atomic(cmd, out, text, len, 0644, 0) != 0)
			goto out;
		rc = 0;
	} else {
		fwrite(text, 1, len, stdout);
		rc = cli_stdout_done(cmd);
	}
out:
	for (i = 0; i < n_pa; i++) {
		for (j = 0; j < pa[i].n_root; j++)
			free(pa[i].root[j]);
		for (j = 0; j < pa[i].n_release; j++)
			free(pa[i].release[j]);
	}
	return rc;
}

/* ---- trust show ---- */

static const char show_help[] =
    "usage: fwchain trust show [--json] FILE\n"
    "\n"
    "Checks a trust anchors file (docs/formats/trust.md) and prints its values: the chain,\n"
    "the validators (name, key id, Ed25519 key), the quorum, the maximum checkpoint age and\n"
    "each product's key sets. A file the parser refuses gives one line naming the line of\n"
    "the file and what is wrong.\n"
    "\n"
    "Exit codes: 0 valid; 2 usage error, unreadable or invalid FILE.\n";

static void json_set(const char *name, const struct fwc_keyset *ks)
{
	char text[FWC_PUBKEY_TEXT_MAX];
	size_t i;

	printf(",\"%s\":{\"threshold\":%u,\"keys\":[", name, ks->threshold);
	for (i = 0; i < ks->n; i++) {
		fwc_pubkey_to_text(text, sizeof(text), &ks->keys[i]);
		printf("%s\"%s\"", i ? "," : "", text);
	}
	fputs("]}", stdout);
}

static void text_set(const char *name, const struct fwc_keyset *ks)
{
	char text[FWC_PUBKEY_TEXT_MAX];
	size_t i;

	printf("  %s keys: %u of %zu\n", name, ks->threshold, ks->n);
	for (i = 0; i < ks->n; i++) {
		fwc_pubkey_to_text(text, sizeof(text), &ks->keys[i]);
		printf("    %s\n", text);
	}
}

static int trust_show(int argc, char **argv)
{
	static const struct cli_opt opts[] = {
	    {"help", O_HELP, 0},
	    {"json", O_JSON, 0},
	    {NULL, 0, 0},
	};
	const char *cmd = "trust show", *val, *file = NULL;
	static struct fwc_trust t;
	struct cli_parser p;
	uint8_t *buf = NULL;
	size_t i;
	int id, json = 0, rc;

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
	if (cli_trust_load(cmd, &t, &buf, file) != 0)
		return CLI_EXIT_ERROR;
	if (json) {
		fputs("{\"file\":", stdout);
		cli_json_str(stdout, file, strlen(file));
		printf(",\"origin\":\"%.*s\",\"validators\":[", (int)t.origin_len, t.origin);
		for (i = 0; i < t.n_validators; i++) {
			const struct fwc_note_vkey *vk = &t.validators[i];

			printf("%s{\"name\":", i ? "," : "");
			cli_json_str(stdout, vk->name, vk->name_len);
			fputs(",\"key_id\":\"", stdout);
			cli_hex_print(stdout, vk->keyid, sizeof(vk->keyid));
			printf("\",\"type\":%u,\"key\":\"ed25519:", vk->type);
			cli_hex_print(stdout, vk->pubkey, sizeof(vk->pubkey));
			fputs("\"}", stdout);
		}
		printf("],\"quorum\":%zu,\"max_age\":%llu,\"products\":[", t.quorum,
		       (unsigned long long)t.max_age);
		for (i = 0; i < t.n_products; i++) {
			const struct fwc_trust_product *pr = &t.products[i];

			printf("%s{\"id\":\"%.*s\"", i ? "," : "", (int)pr->id_len, pr->id);
			if (pr->has_root)
				json_set("root", &pr->root);
			if (pr->has_release)
				json_set("release", &pr->release);
			fputc('}', stdout);
		}
		fputs("]}\n", stdout);
	} else {
		printf("chain:      %.*s\nvalidators: %zu, quorum %zu\n", (int)t.origin_len,
		       t.origin, t.n_validators, t.quorum);
		for (i = 0; i < t.n_validators; i++) {
			const struct fwc_note_vkey *vk = &t.validators[i];

			fputs("  ", stdout);
			cli_text_safe(stdout, vk->name, vk->name_len);
			fputs(" key id ", stdout);
			cli_hex_print(stdout, vk->keyid, sizeof(vk->keyid));
			printf(" %s ed25519:",
			       vk->type == FWC_NOTE_SIG_COSIG_V1 ? "cosignature/v1" : "ed25519");
			cli_hex_print(stdout, vk->pubkey, sizeof(vk->pubkey));
			fputc('\n', stdout);
		}
		if (t.max_age)
			printf("max-age:    %llu s\n", (unsigned long long)t.max_age);
		else
			printf("max-age:    none\n");
		for (i = 0; i < t.n_products; i++) {
			const struct fwc_trust_product *pr = &t.products[i];

			printf("product:    %.*s\n", (int)pr->id_len, pr->id);
			if (pr->has_root)
				text_set("root", &pr->root);
			if (pr->has_release)
				text_set("release", &pr->release);
		}
	}
	rc = cli_stdout_done(cmd);
	free(buf);
	return rc;
}

/* ---- dispatch ---- */

static const char trust_help[] =
    "usage: fwchain trust create|show [OPTIONS] ...\n"
    "\n"
    "  create   write a trust anchors file from command-line values\n"
    "  show     check a trust anchors file and print its values\n"
    "\n"
    "'fwchain trust SUBCOMMAND --help' describes each. Format: docs/formats/trust.md.\n";

int cmd_trust(int argc, char **argv)
{
	if (argc < 2)
		return cli_usage_err("trust", "missing subcommand (create, show)");
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		fputs(trust_help, stdout);
		return cli_stdout_done("trust");
	}
	if (strcmp(argv[1], "create") == 0)
		return trust_create(argc, argv);
	if (strcmp(argv[1], "show") == 0)
		return trust_show(argc, argv);
	return cli_usage_err("trust", "unknown subcommand '%.64s' (create, show)", argv[1]);
}
