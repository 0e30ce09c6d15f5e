/* fwchain manifest create / sign / verify / show: release manifests on the command line.
 *
 * A manifest file is always a *signed manifest* (docs/formats/manifest.md): `create` writes the
 * envelope with zero signatures, and each `sign` adds one, so the file is the same kind of
 * object at every stage and `show` and `verify` work on any of them. Signing never re-encodes
 * the body: libfwchain wraps the exact body bytes, so every signer signs the same tagged hash.
 * Every output is written with the atomic helper (temporary file, fsync, rename), so an
 * interrupted `sign` leaves the previous manifest intact. `create` reads the image once,
 * through the same streaming importer as `fwchain cid`, to get its CID, size and SHA-256.
 * `verify` builds a k-of-n key set from --keys/--threshold and runs every check even after one
 * fails, printing one line per check, so an operator sees at once everything that is wrong;
 * stdout carries the results and stderr only errors (exit 2), never a failed check (exit 1). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "fwchain/cbor.h"
#include "fwchain/cid.h"
#include "fwchain/hex.h"
#include "fwchain/key.h"
#include "fwchain/keyset.h"
#include "fwchain/manifest.h"
#include "fwchain/unixfs.h"
#include "commands.h"
#include "util.h"

enum {
	O_HELP = 1,
	O_PRODUCT,
	O_VERSION,
	O_COUNTER,
	O_CHANNEL,
	O_HW,
	O_METADATA,
	O_CREATED,
	O_ROLLOUT_PERCENT,
	O_ROLLOUT_NOT_BEFORE,
	O_ROLLOUT_GROUP,
	O_ROLLOUT_REGION,
	O_ENC_ALG,
	O_ENC_KEY_ID,
	O_LICENCE,
	O_IMAGE,
	O_CIDV,
	O_OUT,
	O_JSON,
	O_KEY,
	O_PASSFILE,
	O_KEYS,
	O_THRESHOLD,
};

static struct fwc_cbor_str str_of(const char *s)
{
	struct fwc_cbor_str r = {s, strlen(s)};
	return r;
}

/* "12.5" -> 1250 basis points; at most two decimals, 0..100. */
static int percent_arg(const char *cmd, const char *s, uint16_t *bps)
{
	unsigned long whole = 0, frac = 0;
	int digits = 0, fdigits = 0;
	const char *c = s;

	for (; *c >= '0' && *c <= '9' && digits < 4; c++, digits++)
		whole = whole * 10 + (unsigned long)(*c - '0');
	if (*c == '.') {
		for (c++; *c >= '0' && *c <= '9' && fdigits < 3; c++, fdigits++)
			frac = frac * 10 + (unsigned long)(*c - '0');
	}
	if (digits == 0 || *c != '\0' || fdigits > 2 || whole > 100 || (whole == 100 && frac))
		return cli_err(cmd,
		               "--rollout-percent: '%.20s' is not a percentage 0..100 with at "
		               "most two decimals",
		               s);
	if (fdigits == 1)
		frac *= 10;
	*bps = (uint16_t)(whole * 100 + frac);
	return 0;
}

/* ---- manifest create ---- */

static const char create_help[] =
    "usage: fwchain manifest create --product ID --version TEXT --counter N --hw ID [--hw ID...]\n"
    "                               --image FILE --out FILE [options]\n"
    "\n"
    "Writes a release manifest with no signatures yet for the firmware image FILE, whose CID,\n"
    "size and SHA-256 are computed in one streaming pass. OUT must not exist.\n"
    "\n"
    "Release:\n"
    "  --product ID             product id (1..64 bytes)\n"
    "  --version TEXT           version shown to people, e.g. 1.4.2-rc1 (1..64 bytes)\n"
    "  --counter N              release counter: devices refuse a counter at or below\n"
    "                           the one they run (rollback protection)\n"
    "  --channel NAME           release channel (1..32 bytes; default: stable)\n"
    "  --hw ID                  compatible hardware id (1..64 bytes); repeat, up to 16\n"
    "  --created TIME           creation time (default: SOURCE_DATE_EPOCH if set, else now)\n"
    "  --metadata TEXT|@FILE    free metadata, at most 255 bytes (e.g. the\n"
    "                           {\"PID\",\"Ver\",\"File\"} record)\n"
    "Image:\n"
    "  --image FILE             the firmware image\n"
    "  --cid-version 0|1        CID version of the image's CID (default 1, as\n"
    "                           'ipfs add --cid-version=1'; 0 as plain 'ipfs add')\n"
    "Rollout policy (optional):\n"
    "  --rollout-percent P      share of the fleet, 0..100, two decimals at most\n"
    "  --rollout-not-before TIME  not installed before this time\n"
    "  --rollout-group NAME     restrict to a device group; repeat, up to 16\n"
    "  --rollout-region NAME    restrict to a region; repeat, up to 16\n"
    "Encryption and licence (optional):\n"
    "  --encryption-alg NAME    image encryption algorithm, e.g. xchacha20poly1305\n"
    "  --encryption-key-id HEX  id of the key devices need (1..32 bytes; with --encryption-alg)\n"
    "  --licence ID             licence / feature id the device must hold (1..64 bytes)\n"
    "Output:\n"
    "  --out FILE               the manifest to write\n"
    "  --json                   print {\"file\",\"cid\",\"size\",\"sha256\",\"bytes\"}\n"
    "\n"
    "TIME is seconds since 1970 or YYYY-MM-DDTHH:MM:SSZ (UTC).\n"
    "Exit codes: 0 written; 2 usage error, unreadable image, invalid field, existing OUT.\n";

static int manifest_create(int argc, char **argv)
{
	static const struct cli_opt opts[] = {
	    {"help", O_HELP, 0},
	    {"product", O_PRODUCT, 1},
	    {"version", O_VERSION, 1},
	    {"counter", O_COUNTER, 1},
	    {"channel", O_CHANNEL, 1},
	    {"hw", O_HW, 1},
	    {"metadata", O_METADATA, 1},
	    {"created", O_CREATED, 1},
	    {"rollout-percent", O_ROLLOUT_PERCENT, 1},
	    {"rollout-not-before", O_ROLLOUT_NOT_BEFORE, 1},
	    {"rollout-group", O_ROLLOUT_GROUP, 1},
	    {"rollout-region", O_ROLLOUT_REGION, 1},
	    {"encryption-alg", O_ENC_ALG, 1},
	    {"encryption-key-id", O_ENC_KEY_ID, 1},
	    {"licence", O_LICENCE, 1},
	    {"image", O_IMAGE, 1},
	    {"cid-version", O_CIDV, 1},
	    {"out", O_OUT, 1},
	    {"json", O_JSON, 0},
	    {NULL, 0, 0},
	};
	const char *cmd = "manifest create", *val, *image = NULL, *out = NULL, *sde;
	static struct fwc_manifest m; /* large (string tables): keep it off the stack */
	struct fwc_unixfs_result res;
	struct fwc_errinfo ei = {0};
	struct cli_parser p;
	struct stat st;
	uint8_t body[FWC_MANIFEST_BODY_MAX], cidbin[FWC_CID_MAX_BINARY];
	uint8_t keyid[FWC_MANIFEST_KEYID_MAX], *meta_file = NULL, *env = NULL;
	char cidtext[FWC_CID_STR_MAX];
	unsigned version = 1;
	unsigned long long v;
	size_t blen = 0, elen = 0, cidlen = 0, n = 0;
	int id, json = 0, have_counter = 0, have_created = 0, rc = CLI_EXIT_ERROR, lrc;

	memset(&m, 0, sizeof(m));
	m.format = FWC_MANIFEST_VERSION;
	m.channel = str_of("stable");
	cli_parser_init(&p, cmd, argc, argv, 2);
	while ((id = cli_next(&p, opts, &val)) != CLI_NEXT_END) {
		switch (id) {
		case O_HELP:
			fputs(create_help, stdout);
			rc = cli_stdout_done(cmd);
			goto out;
		case O_PRODUCT:
			m.product = str_of(val);
			break;
		case O_VERSION:
			m.version = str_of(val);
			break;
		case O_COUNTER:
			if (cli_u64_arg(cmd, "--counter", val, UINT64_MAX, &v) != 0)
				goto out;
			m.counter = v;
			have_counter = 1;
			break;
		case O_CHANNEL:
			m.channel = str_of(val);
			break;
		case O_HW:
			if (m.n_hw == FWC_MANIFEST_HW_MAX) {
				cli_err(cmd, "at most %d --hw", FWC_MANIFEST_HW_MAX);
				goto out;
			}
			m.hw[m.n_hw++] = str_of(val);
			break;
		case O_METADATA:
			free(meta_file);
			meta_file = NULL;
			if (val[0] == '@') {
				if (cli_file_read(cmd, val + 1, FWC_MANIFEST_META_MAX, &meta_file,
				                  &n) != 0)
					goto out;
				m.metadata.p = meta_file;
				m.metadata.len = n;
			} else {
				m.metadata.p = (const uint8_t *)val;
				m.metadata.len = strlen(val);
				if (m.metadata.len > FWC_MANIFEST_META_MAX) {
					cli_err(cmd, "--metadata is %zu bytes, at most %d",
					        m.metadata.len, FWC_MANIFEST_META_MAX);
					goto out;
				}
			}
			m.has_metadata = 1;
			break;
		case O_CREATED:
			if (cli_time_arg(cmd, "--created", val, &m.created) != 0)
				goto out;
			have_created = 1;
			break;
		case O_ROLLOUT_PERCENT:
			if (percent_arg(cmd, val, &m.rollout.bps) != 0)
				goto out;
			m.rollout.has_bps = 1;
			m.has_rollout = 1;
			break;
		case O_ROLLOUT_NOT_BEFORE:
			if (cli_time_arg(cmd, "--rollout-not-before", val, &m.rollout.not_before) !=
			    0)
				goto out;
			m.rollout.has_not_before = 1;
			m.has_rollout = 1;
			break;
		case O_ROLLOUT_GROUP:
		case O_ROLLOUT_REGION: {
			struct fwc_cbor_str *l =
			    id == O_ROLLOUT_GROUP ? m.rollout.groups : m.rollout.regions;
			size_t *cnt =
			    id == O_ROLLOUT_GROUP ? &m.rollout.n_groups : &m.rollout.n_regions;
			if (*cnt == FWC_MANIFEST_LIST_MAX) {
				cli_err(cmd, "at most %d --rollout-%s", FWC_MANIFEST_LIST_MAX,
				        id == O_ROLLOUT_GROUP ? "group" : "region");
				goto out;
			}
			l[(*cnt)++] = str_of(val);
			m.has_rollout = 1;
			break;
		}
		case O_ENC_ALG:
			m.encryption.alg = str_of(val);
			m.has_encryption = 1;
			break;
		case O_ENC_KEY_ID:
			if (cli_hex_arg(cmd, "--encryption-key-id", val, keyid, sizeof(keyid),
			                &n) != 0)
				goto out;
			m.encryption.key_id.p = keyid;
			m.encryption.key_id.len = n;
			m.has_encryption = 1;
			break;
		case O_LICENCE:
			m.licence = str_of(val);
			m.has_licence = 1;
			break;
		case O_IMAGE:
			image = val;
			break;
		case O_CIDV:
			if (cli_cid_version_arg(cmd, val, &version) != 0)
				goto out;
			break;
		case O_OUT:
			out = val;
			break;
		case O_JSON:
			json = 1;
			break;
		case CLI_NEXT_POS:
			cli_usage_err(cmd, "unexpected argument '%.64s'", val);
			goto out;
		default:
			goto out;
		}
	}
	if (m.product.p == NULL || m.version.p == NULL || !have_counter || m.n_hw == 0 ||
	    image == NULL || out == NULL) {
		cli_usage_err(cmd, "--product, --version, --counter, --hw, --image and --out are "
		                   "required");
		goto out;
	}
	if (m.has_encryption && (m.encryption.alg.p == NULL || m.encryption.key_id.p == NULL)) {
		cli_usage_err(cmd, "--encryption-alg and --encryption-key-id go together");
		goto out;
	}
	if (!have_created) {
		sde = getenv("SOURCE_DATE_EPOCH");
		if (sde != NULL && *sde != '\0') {
			if (cli_u64_arg(cmd, "SOURCE_DATE_EPOCH", sde, UINT64_MAX, &v) != 0)
				goto out;
			m.created = v;
		} else {
			m.created = (uint64_t)time(NULL);
		}
	}
	/* Refuse an existing output before reading a possibly large image. */
	if (lstat(out, &st) == 0) {
		cli_err(cmd, "%s already exists (refusing to overwrite)", out);
		goto out;
	}
	if (cli_image_import(cmd, &res, image, version) != 0)
		goto out;
	if ((lrc = fwc_cid_encode(cidbin, sizeof(cidbin), &cidlen, &res.root)) < 0 ||
	    (lrc = fwc_cid_format(cidtext, sizeof(cidtext), &res.root)) < 0) {
		cli_err_rc(cmd, lrc, NULL, "encoding the CID");
		goto out;
	}
	m.cid.p = cidbin;
	m.cid.len = cidlen;
	m.size = res.size;
	memcpy(m.sha256, res.sha256, sizeof(m.sha256));
	if ((lrc = fwc_manifest_encode(body, sizeof(body), &blen, &m, &ei)) < 0) {
		cli_err_rc(cmd, lrc, &ei, "invalid manifest");
		goto out;
	}
	if ((lrc = fwc_signed_manifest_encode(NULL, 0, &elen, body, blen, NULL, 0, &ei)) < 0 &&
	    lrc != FWC_ERR_BUFSIZE) {
		cli_err_rc(cmd, lrc, &ei, "invalid manifest");
		goto out;
	}
	env = malloc(elen);
	if (env == NULL) {
		cli_err(cmd, "out of memory");
		goto out;
	}
	if ((lrc = fwc_signed_manifest_encode(env, elen, &elen, body, blen, NULL, 0, &ei)) < 0) {
		cli_err_rc(cmd, lrc, &ei, "invalid manifest");
		goto out;
	}
	if (cli_file_write_atomic(cmd, out, env, elen, 0644, 0) != 0)
		goto out;
	if (json) {
		fputs("{\"file\":", stdout);
		cli_json_str(stdout, out, strlen(out));
		printf(",\"cid\":\"%s\",\"size\":%llu,\"sha256\":\"", cidtext,
		       (unsigned long long)res.size);
		cli_hex_print(stdout, res.sha256, sizeof(res.sha256));
		printf("\",\"bytes\":%zu}\n", elen);
	} else {
		fputs("manifest: ", stdout);
		cli_text_safe(stdout, out, strlen(out));
		printf(" (%zu bytes, no signatures yet)\ncid:      %s\nsize:     %llu\nsha256:   ",
		       elen, cidtext, (unsigned long long)res.size);
		cli_hex_print(stdout, res.sha256, sizeof(res.sha256));
		fputc('\n', stdout);
	}
	rc = cli_stdout_done(cmd);
out:
	free(meta_file);
	free(env);
	return rc;
}

/* ---- reading a manifest file ---- */

/* Read and decode the signed manifest at path. *buf (caller frees) owns the bytes sm points
 * into. Prints one line and returns CLI_EXIT_ERROR on failure. */
static int manifest_read(const char *cmd, struct fwc_signed_manifest *sm, uint8_t **buf,
                         size_t *len, const char *path)
{
	struct fwc_errinfo ei = {0};
	int rc;

	if (cli_file_read(cmd, path, FWC_SIGNED_MANIFEST_MAX, buf, len) != 0)
		return CLI_EXIT_ERROR;
	rc = fwc_signed_manifest_decode(sm, *buf, *len, &ei);
	if (rc < 0) {
		free(*buf);
		*buf = NULL;
		return cli_err_rc(cmd, rc, &ei, "manifest %s (at byte %zu)", path, ei.offset);
	}
	return 0;
}

/* ---- manifest sign ---- */

static const char sign_help[] =
    "usage: fwchain manifest sign --key KEYSTORE [--passphrase-file FILE] [--json] MANIFEST\n"
    "\n"
    "Adds the keystore key's signature to MANIFEST, in place and atomically (a temporary file\n"
    "renamed over it). The signature is over tagged_hash(\"fwchain/manifest/v1\", body), the\n"
    "exact body bytes. Signing again with the same key replaces that key's signature: a key\n"
    "counts once.\n"
    "\n"
    "  --key KEYSTORE          the release key\n"
    "  --passphrase-file FILE  passphrase source (else FWCHAIN_PASSPHRASE, else a prompt)\n"
    "  --json                  print {\"file\",\"public_key\",\"key_id\",\"signatures\"}\n"
    "\n"
    "Exit codes: 0 signed; 2 usage error, malformed MANIFEST, wrong passphrase, write failure.\n";

static int manifest_sign(int argc, char **argv)
{
	static const struct cli_opt opts[] = {
	    {"help", O_HELP, 0}, {"key", O_KEY, 1}, {"passphrase-file", O_PASSFILE, 1},
	    {"json", O_JSON, 0}, {NULL, 0, 0},
	};
	const char *cmd = "manifest sign", *val, *key = NULL, *passfile = NULL, *file = NULL;
	static struct fwc_signed_manifest sm, sm2;
	struct fwc_errinfo ei = {0};
	struct fwc_seckey sk;
	struct fwc_pubkey pk;
	struct cli_parser p;
	struct stat st;
	uint8_t *in = NULL, *outbuf = NULL, pkbin[FWC_PUBKEY_BIN_LEN], kid[FWC_KEYID_LEN];
	char text[FWC_PUBKEY_TEXT_MAX];
	size_t inlen = 0, outlen = 0, i;
	int id, json = 0, replaced = 0, rc = CLI_EXIT_ERROR, lrc;

	memset(&sk, 0, sizeof(sk));
	cli_parser_init(&p, cmd, argc, argv, 2);
	while ((id = cli_next(&p, opts, &val)) != CLI_NEXT_END) {
		switch (id) {
		case O_HELP:
			fputs(sign_help, stdout);
			return cli_stdout_done(cmd);
		case O_KEY:
			key = val;
			break;
		case O_PASSFILE:
			passfile = val;
			break;
		case O_JSON:
			json = 1;
			break;
		case CLI_NEXT_POS:
			if (file != NULL)
				return cli_usage_err(cmd, "only one MANIFEST");
			file = val;
			break;
		default:
			return CLI_EXIT_ERROR;
		}
	}
	if (key == NULL || file == NULL)
		return cli_usage_err(cmd, "--key KEYSTORE and MANIFEST are required");
	if (strcmp(file, "-") == 0)
		return cli_usage_err(cmd, "MANIFEST must be a file (it is rewritten in place)");
	if (manifest_read(cmd, &sm, &in, &inlen, file) != 0)
		return CLI_EXIT_ERROR;
	if (stat(file, &st) != 0) {
		cli_err(cmd, "cannot stat %s: %s", file, strerror(errno));
		goto out;
	}
	if (cli_seckey_load(cmd, &sk, key, passfile) != 0)
		goto out;
	if ((lrc = fwc_key_public(&pk, &sk)) < 0 || (lrc = fwc_pubkey_to_bin(pkbin, &pk)) < 0 ||
	    (lrc = fwc_pubkey_to_text(text, sizeof(text), &pk)) < 0 ||
	    (lrc = fwc_key_id(kid, &pk)) < 0) {
		cli_err_rc(cmd, lrc, NULL, "key %s", key);
		goto out;
	}
	for (i = 0; i < sm.n_sigs; i++)
		if (memcmp(sm.sigs[i].pubkey, pkbin, sizeof(pkbin)) == 0)
			replaced = 1;
	outlen = inlen + 2 * (FWC_PUBKEY_BIN_LEN + FWC_SIG_LEN) + 16;
	outbuf = malloc(outlen);
	if (outbuf == NULL) {
		cli_err(cmd, "out of memory");
		goto out;
	}
	lrc = fwc_signed_manifest_sign(outbuf, outlen, &outlen, in, inlen, &sk, NULL, &ei);
	if (lrc < 0) {
		cli_err_rc(cmd, lrc, &ei, "signing %s", file);
		goto out;
	}
	/* Decode what we are about to write: a manifest we cannot read back never replaces a
	 * good one. */
	if ((lrc = fwc_signed_manifest_decode(&sm2, outbuf, outlen, &ei)) < 0) {
		cli_err_rc(cmd, lrc, &ei, "signed manifest does not decode");
		goto out;
	}
	if (cli_file_write_atomic(cmd, file, outbuf, outlen, st.st_mode & 07777, 1) != 0)
		goto out;
	if (json) {
		fputs("{\"file\":", stdout);
		cli_json_str(stdout, file, strlen(file));
		printf(",\"public_key\":\"%s\",\"key_id\":\"", text);
		cli_hex_print(stdout, kid, sizeof(kid));
		printf("\",\"replaced\":%s,\"signatures\":%zu}\n", replaced ? "true" : "false",
		       sm2.n_sigs);
	} else {
		fputs("signed ", stdout);
		cli_text_safe(stdout, file, strlen(file));
		printf(" with %s%s; it now has %zu signature%s\n", text,
		       replaced ? " (replacing this key's earlier signature)" : "", sm2.n_sigs,
		       sm2.n_sigs == 1 ? "" : "s");
	}
	rc = cli_stdout_done(cmd);
out:
	fwc_seckey_wipe(&sk);
	free(in);
	free(outbuf);
	return rc;
}

/* ---- manifest verify ---- */

static const char verify_help[] =
    "usage: fwchain manifest verify --keys KEY[,KEY...] --threshold K [--image FILE] [--json]\n"
    "                               MANIFEST\n"
    "\n"
    "Checks that at least K distinct keys of the given set signed MANIFEST (a key counts\n"
    "once; signatures by other keys count zero) and, with --image, that FILE has the signed\n"
    "size, SHA-256 and CID (computed with 'ipfs add' defaults for the manifest CID's version).\n"
    "Prints one line per check and a result line.\n"
    "\n"
    "  --keys KEY,...   the release key set, n keys (up to 16; --keys may be repeated). Each\n"
    "                   KEY is ALG:HEX text (bip340:..., ed25519:...), a file holding that\n"
    "                   text, or a keystore (its public key; no passphrase is asked)\n"
    "  --threshold K    signatures required, 1..n\n"
    "  --image FILE     also check the image\n"
    "  --json           print one JSON object with every check\n"
    "\n"
    "Exit codes: 0 every check passed; 1 a check failed (too few valid signatures, or the\n"
    "image differs); 2 usage error, unreadable or malformed MANIFEST, keys or image.\n";

#define MAX_KEY_ARGS 64

static int manifest_verify(int argc, char **argv)
{
	static const struct cli_opt opts[] = {
	    {"help", O_HELP, 0},   {"keys", O_KEYS, 1}, {"threshold", O_THRESHOLD, 1},
	    {"image", O_IMAGE, 1}, {"json", O_JSON, 0}, {NULL, 0, 0},
	};
	const char *cmd = "manifest verify", *val, *file = NULL, *image = NULL;
	const char *keyargs[MAX_KEY_ARGS];
	static struct fwc_signed_manifest sm;
	static struct fwc_keyset ks;
	struct fwc_unixfs_result res;
	struct fwc_errinfo ei = {0}, sei = {0};
	struct fwc_cid mcid;
	struct cli_parser p;
	char *keylist[MAX_KEY_ARGS], cid_got[FWC_CID_STR_MAX], cid_want[FWC_CID_STR_MAX];
	uint8_t *buf = NULL;
	unsigned long long thr = 0;
	unsigned valid = 0;
	size_t len = 0, n_lists = 0, n_keys = 0, i, j;
	int id, json = 0, have_thr = 0, rc = CLI_EXIT_ERROR, lrc, sig_ok = 0;
	int size_ok = 0, sha_ok = 0, cid_ok = 0;

	memset(&ks, 0, sizeof(ks));
	cli_parser_init(&p, cmd, argc, argv, 2);
	while ((id = cli_next(&p, opts, &val)) != CLI_NEXT_END) {
		switch (id) {
		case O_HELP:
			fputs(verify_help, stdout);
			rc = cli_stdout_done(cmd);
			goto out;
		case O_KEYS:
			if (n_lists == MAX_KEY_ARGS) {
				cli_usage_err(cmd, "too many --keys");
				goto out;
			}
			keylist[n_lists] = strdup(val);
			if (keylist[n_lists] == NULL) {
				cli_err(cmd, "out of memory");
				goto out;
			}
			n_lists++;
			break;
		case O_THRESHOLD:
			if (cli_u64_arg(cmd, "--threshold", val, FWC_KEYSET_MAX, &thr) != 0)
				goto out;
			have_thr = 1;
			break;
		case O_IMAGE:
			image = val;
			break;
		case O_JSON:
			json = 1;
			break;
		case CLI_NEXT_POS:
			if (file != NULL) {
				cli_usage_err(cmd, "only one MANIFEST");
				goto out;
			}
			file = val;
			break;
		default:
			goto out;
		}
	}
	if (n_lists == 0 || !have_thr || file == NULL) {
		cli_usage_err(cmd, "--keys, --threshold and MANIFEST are required");
		goto out;
	}
	/* Split every --keys value at commas. */
	for (i = 0; i < n_lists; i++) {
		char *s = keylist[i], *comma;
		for (;;) {
			comma = strchr(s, ',');
			if (comma != NULL)
				*comma = '\0';
			if (*s == '\0') {
				cli_usage_err(cmd, "empty entry in --keys");
				goto out;
			}
			if (n_keys == FWC_KEYSET_MAX) {
				cli_usage_err(cmd, "at most %d keys", FWC_KEYSET_MAX);
				goto out;
			}
			keyargs[n_keys++] = s;
			if (comma == NULL)
				break;
			s = comma + 1;
		}
	}
	if (thr < 1 || thr > n_keys) {
		cli_usage_err(cmd, "--threshold must be 1..%zu (the number of keys)", n_keys);
		goto out;
	}
	for (i = 0; i < n_keys; i++) {
		if (cli_pubkey_resolve(cmd, keyargs[i], &ks.keys[i]) != 0)
			goto out;
		for (j = 0; j < i; j++)
			if (fwc_pubkey_equal(&ks.keys[i], &ks.keys[j])) {
				cli_err(cmd, "--keys: %.80s and %.80s are the same key", keyargs[j],
				        keyargs[i]);
				goto out;
			}
	}
	ks.n = n_keys;
	ks.threshold = (unsigned)thr;
	if ((lrc = fwc_keyset_check(&ks, &ei)) < 0) {
		cli_err_rc(cmd, lrc, &ei, "--keys");
		goto out;
	}
	if (manifest_read(cmd, &sm, &buf, &len, file) != 0)
		goto out;
	if ((lrc = fwc_cid_decode(&mcid, NULL, sm.manifest.cid.p, sm.manifest.cid.len, &ei)) < 0 ||
	    (lrc = fwc_cid_format(cid_want, sizeof(cid_want), &mcid)) < 0) {
		cli_err_rc(cmd, lrc, &ei, "manifest %s: its CID", file);
		goto out;
	}
	lrc = fwc_signed_manifest_verify(&sm, &ks, &valid, &sei);
	if (lrc < 0 && lrc != FWC_ERR_THRESHOLD) {
		cli_err_rc(cmd, lrc, &sei, "verifying %s", file);
		goto out;
	}
	sig_ok = lrc == FWC_OK;
	if (image != NULL) {
		if (cli_image_import(cmd, &res, image, mcid.version) != 0)
			goto out;
		size_ok = res.size == sm.manifest.size;
		sha_ok = fwc_ct_equal(res.sha256, sm.manifest.sha256, 32);
		cid_ok = fwc_cid_equal(&res.root, &mcid);
		if ((lrc = fwc_cid_format(cid_got, sizeof(cid_got), &res.root)) < 0) {
			cli_err_rc(cmd, lrc, NULL, "formatting the CID");
			goto out;
		}
	}
	rc = sig_ok && (image == NULL || (size_ok && sha_ok && cid_ok)) ? CLI_EXIT_OK
	                                                                : CLI_EXIT_FAIL;
	if (json) {
		fputs("{\"manifest\":", stdout);
		cli_json_str(stdout, file, strlen(file));
		printf(",\"ok\":%s,\"signatures\":{\"ok\":%s,\"valid\":%u,\"threshold\":%u,"
		       "\"keys\":%zu,\"signers\":%zu,\"detail\":",
		       rc == CLI_EXIT_OK ? "true" : "false", sig_ok ? "true" : "false", valid,
		       ks.threshold, ks.n, sm.n_sigs);
		cli_json_str(stdout, sei.msg, strnlen(sei.msg, sizeof(sei.msg)));
		fputc('}', stdout);
		if (image != NULL) {
			printf(",\"image\":{\"size\":{\"ok\":%s,\"got\":%llu,\"want\":%llu},"
			       "\"sha256\":{\"ok\":%s,\"got\":\"",
			       size_ok ? "true" : "false", (unsigned long long)res.size,
			       (unsigned long long)sm.manifest.size, sha_ok ? "true" : "false");
			cli_hex_print(stdout, res.sha256, 32);
			fputs("\",\"want\":\"", stdout);
			cli_hex_print(stdout, sm.manifest.sha256, 32);
			printf("\"},\"cid\":{\"ok\":%s,\"got\":\"%s\",\"want\":\"%s\"}}",
			       cid_ok ? "true" : "false", cid_got, cid_want);
		}
		fputs("}\n", stdout);
	} else {
		fputs("manifest:   ", stdout);
		cli_text_safe(stdout, file, strlen(file));
		if (sig_ok || sei.msg[0] == '\0')
			printf("\nsignatures: %s: %u valid of %u required (key set of %zu; %zu in "
			       "the manifest)\n",
			       sig_ok ? "ok" : "FAILED", valid, ks.threshold, ks.n, sm.n_sigs);
		else {
			fputs("\nsignatures: FAILED: ", stdout);
			cli_text_safe(stdout, sei.msg, strnlen(sei.msg, sizeof(sei.msg)));
			printf(" (%zu in the manifest)\n", sm.n_sigs);
		}
		if (image != NULL) {
			if (size_ok)
				printf("size:       ok: %llu bytes\n",
				       (unsigned long long)res.size);
			else
				printf(
				    "size:       FAILED: image is %llu bytes, manifest says %llu\n",
				    (unsigned long long)res.size,
				    (unsigned long long)sm.manifest.size);
			printf("sha256:     %s: ", sha_ok ? "ok" : "FAILED");
			cli_hex_print(stdout, res.sha256, 32);
			if (!sha_ok) {
				fputs(", manifest says ", stdout);
				cli_hex_print(stdout, sm.manifest.sha256, 32);
			}
			if (cid_ok)
				printf("\ncid:        ok: %s\n", cid_got);
			else
				printf("\ncid:        FAILED: image is %s, manifest says %s\n",
				       cid_got, cid_want);
		} else {
			printf("image:      not checked (no --image)\n");
		}
		printf("result:     %s\n", rc == CLI_EXIT_OK ? "VERIFIED" : "FAILED");
	}
	if (cli_stdout_done(cmd) != 0)
		rc = CLI_EXIT_ERROR;
out:
	for (i = 0; i < n_lists; i++)
		free(keylist[i]);
	free(buf);
	return rc;
}

/* ---- manifest show ---- */

static const char show_help[] =
    "usage: fwchain manifest show [--json] MANIFEST\n"
    "\n"
    "Prints every field of MANIFEST and the keys that signed it. Signatures are listed, not\n"
    "verified: use 'fwchain manifest verify'. Metadata is shown as text when it is UTF-8\n"
    "(control characters escaped), else as hex; --json gives \"metadata\" (text) or\n"
    "\"metadata_hex\".\n"
    "\n"
    "Exit codes: 0 shown; 2 usage error, unreadable or malformed MANIFEST.\n";

/* Write SEP"name":[...] */
static void json_list(const char *sep, const char *name, const struct fwc_cbor_str *l, size_t n)
{
	size_t i;

	printf("%s\"%s\":[", sep, name);
	for (i = 0; i < n; i++) {
		if (i)
			fputc(',', stdout);
		cli_json_str(stdout, l[i].p, l[i].len);
	}
	fputc(']', stdout);
}

static void text_list(const struct fwc_cbor_str *l, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (i)
			fputs(", ", stdout);
		cli_text_safe(stdout, l[i].p, l[i].len);
	}
}

static void text_field(const char *label, const struct fwc_cbor_str *s)
{
	printf("%-12s", label);
	cli_text_safe(stdout, s->p, s->len);
	fputc('\n', stdout);
}

static int manifest_show(int argc, char **argv)
{
	static const struct cli_opt opts[] = {
	    {"help", O_HELP, 0},
	    {"json", O_JSON, 0},
	    {NULL, 0, 0},
	};
	const char *cmd = "manifest show", *val, *file = NULL;
	static struct fwc_signed_manifest sm;
	const struct fwc_manifest *m = &sm.manifest;
	const struct fwc_manifest_rollout *r = &m->rollout;
	struct fwc_errinfo ei = {0};
	struct fwc_pubkey pk;
	struct fwc_cid cid;
	struct cli_parser p;
	uint8_t *buf = NULL, kid[FWC_KEYID_LEN];
	char cidtext[FWC_CID_STR_MAX], text[FWC_PUBKEY_TEXT_MAX];
	size_t len = 0, i;
	int id, json = 0, meta_text, lrc, rc = CLI_EXIT_ERROR;

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
				return cli_usage_err(cmd, "only one MANIFEST");
			file = val;
			break;
		default:
			return CLI_EXIT_ERROR;
		}
	}
	if (file == NULL)
		return cli_usage_err(cmd, "missing MANIFEST");
	if (manifest_read(cmd, &sm, &buf, &len, file) != 0)
		return CLI_EXIT_ERROR;
	if ((lrc = fwc_cid_decode(&cid, NULL, m->cid.p, m->cid.len, &ei)) < 0 ||
	    (lrc = fwc_cid_format(cidtext, sizeof(cidtext), &cid)) < 0) {
		cli_err_rc(cmd, lrc, &ei, "manifest %s: its CID", file);
		goto out;
	}
	/* Check every signer key before printing anything, so an error never follows partial
	 * output. */
	for (i = 0; i < sm.n_sigs; i++) {
		if ((lrc = fwc_pubkey_from_bin(&pk, sm.sigs[i].pubkey, FWC_PUBKEY_BIN_LEN, &ei)) <
		    0) {
			cli_err_rc(cmd, lrc, &ei, "manifest %s: signer %zu", file, i);
			goto out;
		}
	}
	meta_text = m->has_metadata && cli_utf8_valid((const char *)m->metadata.p, m->metadata.len);
	if (json) {
		fputs("{\"file\":", stdout);
		cli_json_str(stdout, file, strlen(file));
		printf(",\"format\":%llu,\"product\":", (unsigned long long)m->format);
		cli_json_str(stdout, m->product.p, m->product.len);
		fputs(",\"version\":", stdout);
		cli_json_str(stdout, m->version.p, m->version.len);
		printf(",\"counter\":%llu,\"channel\":", (unsigned long long)m->counter);
		cli_json_str(stdout, m->channel.p, m->channel.len);
		printf(",\"cid\":\"%s\",\"size\":%llu,\"sha256\":\"", cidtext,
		       (unsigned long long)m->size);
		cli_hex_print(stdout, m->sha256, 32);
		fputc('"', stdout);
		json_list(",", "hardware", m->hw, m->n_hw);
		printf(",\"created\":%llu", (unsigned long long)m->created);
		if (m->has_rollout) {
			fputs(",\"rollout\":{", stdout);
			const char *sep = "";
			if (r->has_bps) {
				printf("\"bps\":%u", r->bps);
				sep = ",";
			}
			if (r->has_not_before) {
				printf("%s\"not_before\":%llu", sep,
				       (unsigned long long)r->not_before);
				sep = ",";
			}
			if (r->n_groups) {
				json_list(sep, "groups", r->groups, r->n_groups);
				sep = ",";
			}
			if (r->n_regions)
				json_list(sep, "regions", r->regions, r->n_regions);
			fputc('}', stdout);
		}
		if (m->has_encryption) {
			fputs(",\"encryption\":{\"alg\":", stdout);
			cli_json_str(stdout, m->encryption.alg.p, m->encryption.alg.len);
			fputs(",\"key_id\":\"", stdout);
			cli_hex_print(stdout, m->encryption.key_id.p, m->encryption.key_id.len);
			fputs("\"}", stdout);
		}
		if (m->has_licence) {
			fputs(",\"licence\":", stdout);
			cli_json_str(stdout, m->licence.p, m->licence.len);
		}
		if (m->has_metadata) {
			if (meta_text) {
				fputs(",\"metadata\":", stdout);
				cli_json_str(stdout, (const char *)m->metadata.p, m->metadata.len);
			} else {
				fputs(",\"metadata_hex\":\"", stdout);
				cli_hex_print(stdout, m->metadata.p, m->metadata.len);
				fputc('"', stdout);
			}
		}
		printf(",\"extensions\":%zu,\"signatures\":[", m->n_ext);
		for (i = 0; i < sm.n_sigs; i++) {
			fwc_pubkey_from_bin(&pk, sm.sigs[i].pubkey, FWC_PUBKEY_BIN_LEN, NULL);
			fwc_pubkey_to_text(text, sizeof(text), &pk);
			fwc_key_id(kid, &pk);
			printf("%s{\"public_key\":\"%s\",\"key_id\":\"", i ? "," : "", text);
			cli_hex_print(stdout, kid, sizeof(kid));
			fputs("\",\"signature\":\"", stdout);
			cli_hex_print(stdout, sm.sigs[i].sig, FWC_SIG_LEN);
			fputs("\"}", stdout);
		}
		fputs("]}\n", stdout);
	} else {
		fputs("manifest:   ", stdout);
		cli_text_safe(stdout, file, strlen(file));
		printf(" (%zu bytes, format %llu)\n", len, (unsigned long long)m->format);
		text_field("product:", &m->product);
		text_field("version:", &m->version);
		printf("counter:    %llu\n", (unsigned long long)m->counter);
		text_field("channel:", &m->channel);
		printf("cid:        %s\nsize:       %llu\nsha256:     ", cidtext,
		       (unsigned long long)m->size);
		cli_hex_print(stdout, m->sha256, 32);
		fputs("\nhardware:   ", stdout);
		text_list(m->hw, m->n_hw);
		fputs("\ncreated:    ", stdout);
		cli_time_print(stdout, m->created);
		fputc('\n', stdout);
		if (m->has_rollout) {
			fputs("rollout:   ", stdout);
			if (r->has_bps)
				printf(" %u.%02u%% of the fleet;", r->bps / 100, r->bps % 100);
			if (r->has_not_before) {
				fputs(" not before ", stdout);
				cli_time_print(stdout, r->not_before);
				fputc(';', stdout);
			}
			if (r->n_groups) {
				fputs(" groups ", stdout);
				text_list(r->groups, r->n_groups);
				fputc(';', stdout);
			}
			if (r->n_regions) {
				fputs(" regions ", stdout);
				text_list(r->regions, r->n_regions);
				fputc(';', stdout);
			}
			fputc('\n', stdout);
		}
		if (m->has_encryption) {
			fputs("encryption: ", stdout);
			cli_text_safe(stdout, m->encryption.alg.p, m->encryption.alg.len);
			fputs(", key id ", stdout);
			cli_hex_print(stdout, m->encryption.key_id.p, m->encryption.key_id.len);
			fputc('\n', stdout);
		}
		if (m->has_licence)
			text_field("licence:", &m->licence);
		if (m->has_metadata) {
			fputs("metadata:   ", stdout);
			if (meta_text) {
				cli_text_safe(stdout, (const char *)m->metadata.p, m->metadata.len);
			} else {
				fputs("hex ", stdout);
				cli_hex_print(stdout, m->metadata.p, m->metadata.len);
			}
			fputc('\n', stdout);
		}
		if (m->n_ext)
			printf("extensions: %zu non-critical field%s not understood by this "
			       "version\n",
			       m->n_ext, m->n_ext == 1 ? "" : "s");
		printf("signatures: %zu (listed, not verified: use 'fwchain manifest verify')\n",
		       sm.n_sigs);
		for (i = 0; i < sm.n_sigs; i++) {
			fwc_pubkey_from_bin(&pk, sm.sigs[i].pubkey, FWC_PUBKEY_BIN_LEN, NULL);
			fwc_pubkey_to_text(text, sizeof(text), &pk);
			fwc_key_id(kid, &pk);
			printf("  %s key id ", text);
			cli_hex_print(stdout, kid, 8);
			fputs("...\n", stdout);
		}
	}
	rc = cli_stdout_done(cmd);
out:
	free(buf);
	return rc;
}

/* ---- dispatch ---- */

static const char manifest_help[] =
    "usage: fwchain manifest create|sign|verify|show [OPTIONS] ...\n"
    "\n"
    "  create   write an unsigned release manifest for an image\n"
    "  sign     add a release key's signature, in place\n"
    "  verify   check k-of-n signatures and, optionally, the image\n"
    "  show     print the manifest's fields\n"
    "\n"
    "'fwchain manifest SUBCOMMAND --help' describes each.\n";

int cmd_manifest(int argc, char **argv)
{
	if (argc < 2)
		return cli_usage_err("manifest", "missing subcommand (create, sign, verify, show)");
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		fputs(manifest_help, stdout);
		return cli_stdout_done("manifest");
	}
	if (strcmp(argv[1], "create") == 0)
		return manifest_create(argc, argv);
	if (strcmp(argv[1], "sign") == 0)
		return manifest_sign(argc, argv);
	if (strcmp(argv[1], "verify") == 0)
		return manifest_verify(argc, argv);
	if (strcmp(argv[1], "show") == 0)
		return manifest_show(argc, argv);
	return cli_usage_err("manifest", "unknown subcommand '%.64s' (create, sign, verify, show)",
	                     argv[1]);
}
