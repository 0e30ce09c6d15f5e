/* fwchain proof verify / export: offline checks of a proof bundle against a trust file.
 *
 * `verify` runs everything a device would check about the ledger side of a release, without
 * any network: the bundle's checkpoint (origin, validator cosignatures against the quorum,
 * age), the inclusion of the transaction in the checkpoint's tree, then the transaction itself
 * (it decodes, names the trusted chain, carries its sender's valid signature) and, for a
 * RELEASE, the threshold of the manifest's signatures against the product's release key set.
 * Main design choice: every check is collected into one list, whatever failed before it, and
 * printed one line each ("ok", "FAIL", "skip"), so an auditor sees at once everything that is
 * wrong; a check that cannot run because its input failed is a "skip" and the result is still
 * FAILED. Malformed input (an unreadable trust file, a bundle that does not decode) is a usage
 * or input error (exit 2), not a failed check (exit 1). Both bundle forms are accepted: the
 * CBOR wire form and its C2SP tlog-proof text export (recognised by its first line). */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fwchain/base64.h"
#include "fwchain/bundle.h"
#include "fwchain/hex.h"
#include "fwchain/merkle.h"
#include "fwchain/keyset.h"
#include "fwchain/manifest.h"
#include "fwchain/payload.h"
#include "fwchain/trust.h"
#include "fwchain/tx.h"
#include "client.h"
#include "commands.h"
#include "txsend.h"
#include "util.h"

enum {
	O_HELP = 1,
	O_TRUST,
	O_MKEYS,
	O_MTHRESHOLD,
	O_TXID,
	O_AT,
	O_JSON,
	O_ENTRY,
	O_OUT,
	O_TX,
	O_NODE,
	O_TIMEOUT,
	O_WAIT,
};

/* ---- reading inputs ---- */

int cli_trust_load(const char *cmd, struct fwc_trust *t, uint8_t **buf, const char *path)
{
	struct fwc_errinfo ei = {0};
	size_t len = 0;
	int rc;

	if (cli_file_read(cmd, path, FWC_TRUST_MAX_LEN, buf, &len) != 0)
		return CLI_EXIT_ERROR;
	rc = fwc_trust_parse(t, (const char *)*buf, len, &ei);
	if (rc < 0) {
		free(*buf);
		*buf = NULL;
		return cli_err_rc(cmd, rc, &ei, "trust file %s", path);
	}
	return 0;
}

/* Both forms of a bundle. The text form decodes its base64 into *scratch (caller frees). */
static int bundle_load(const char *cmd, struct fwc_bundle *b, uint8_t **buf, uint8_t **scratch,
                       const char *path)
{
	static const char hdr[] = FWC_BUNDLE_TEXT_HEADER "\n";
	struct fwc_errinfo ei = {0};
	size_t len = 0;
	int rc;

	if (cli_file_read(cmd, path, FWC_BUNDLE_MAX_LEN, buf, &len) != 0)
		return CLI_EXIT_ERROR;
	if (len >= sizeof(hdr) - 1 && memcmp(*buf, hdr, sizeof(hdr) - 1) == 0) {
		*scratch = malloc(len + 1);
		if (*scratch == NULL)
			return cli_err(cmd, "out of memory");
		rc = fwc_bundle_text_parse(b, *scratch, len + 1, (const char *)*buf, len, &ei);
		if (rc < 0)
			return cli_err_rc(cmd, rc, &ei, "bundle %s (tlog-proof text, byte %zu)",
			                  path, ei.offset);
		return 0;
	}
	rc = fwc_bundle_decode(b, *buf, len, &ei);
	if (rc < 0)
		return cli_err_rc(cmd, rc, &ei, "bundle %s (byte %zu)", path, ei.offset);
	return 0;
}

/* ---- the list of checks ---- */

enum { ST_OK, ST_FAIL, ST_SKIP };

#define MAX_CHECKS 48

struct check {
	int status;
	const char *name; /* stable key for --json */
	char msg[400];
};

struct checks {
	size_t n, failed;
	struct check c[MAX_CHECKS];
};

static void add(struct checks *cs, int status, const char *name, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

static void add(struct checks *cs, int status, const char *name, const char *fmt, ...)
{
	struct check *c;
	va_list ap;

	if (cs->n == MAX_CHECKS)
		return;
	c = &cs->c[cs->n++];
	c->status = status;
	c->name = name;
	va_start(ap, fmt);
	vsnprintf(c->msg, sizeof(c->msg), fmt, ap);
	va_end(ap);
	if (status == ST_FAIL)
		cs->failed++;
}

static const struct fwc_bundle_check *report_find(const struct fwc_bundle_report *rep,
                                                  const char *name)
{
	size_t i;

	for (i = 0; i < rep->n_checks; i++)
		if (strcmp(rep->checks[i].name, name) == 0)
			return &rep->checks[i];
	return NULL;
}

/* A library check that could not run because an earlier one failed. */
static int not_run(const struct fwc_bundle_check *k)
{
	return k == NULL || k->rc == FWC_ERR_STATE;
}

static void hex_id(char out[2 * FWC_TX_ID_LEN + 1], const uint8_t *tx, size_t len)
{
	uint8_t id[FWC_TX_ID_LEN];

	fwc_tx_id(id, tx, len);
	fwc_hex_encode(out, 2 * FWC_TX_ID_LEN + 1, id, sizeof(id));
}

/* ---- the checks ---- */

/* The checkpoint side, from fwc_bundle_verify's report, in the tool's words. */
static void checks_log(struct checks *cs, const struct fwc_bundle_report *rep,
                       const struct fwc_bundle *b, const struct fwc_trust *t, const char *txid_hex,
                       uint64_t now)
{
	const struct fwc_bundle_check *k;
	const char *h = NULL;
	size_t hl = 0, i;
	uint64_t age = 0;
	struct fwc_errinfo ei = {0};
	int rc, cp_ok;

	k = report_find(rep, "checkpoint");
	cp_ok = k != NULL && k->rc == FWC_OK;
	if (cp_ok) {
		if (fwc_checkpoint_ext_find(&h, &hl, &rep->cp, "height", 6) != FWC_OK)
			h = "?", hl = 1;
		add(cs, ST_OK, "checkpoint", "checkpoint parses: tree size %llu, height %.*s",
		    (unsigned long long)rep->cp.size, (int)(hl > 20 ? 20 : hl), h);
	} else {
		add(cs, ST_FAIL, "checkpoint", "checkpoint does not parse: %s",
		    k ? k->msg : "no report");
	}
	k = report_find(rep, "origin");
	if (not_run(k))
		add(cs, ST_SKIP, "origin", "checkpoint origin not checked");
	else if (k->rc == FWC_OK)
		add(cs, ST_OK, "origin", "checkpoint origin is %.*s, the trusted chain",
		    (int)t->origin_len, t->origin);
	else
		add(cs, ST_FAIL, "origin", "checkpoint origin is %.*s, not the trusted %.*s",
		    (int)(rep->cp.origin_len > 64 ? 64 : rep->cp.origin_len), rep->cp.origin,
		    (int)t->origin_len, t->origin);
	k = report_find(rep, "cosignatures");
	if (not_run(k))
		add(cs, ST_SKIP, "cosignatures", "checkpoint cosignatures not checked");
	else if (k->rc == FWC_OK || k->rc == FWC_ERR_QUORUM)
		add(cs, k->rc == FWC_OK ? ST_OK : ST_FAIL, "cosignatures",
		    "checkpoint cosigned by %zu of %zu validators (quorum %zu)", rep->n_signers,
		    t->n_validators, t->quorum);
	else
		add(cs, ST_FAIL, "cosignatures", "checkpoint cosignatures: %s: %s",
		    fwc_strerror(k->rc), k->msg);
	if (not_run(k) || k->rc != FWC_OK)
		add(cs, ST_SKIP, "freshness", "checkpoint age not checked (no valid quorum)");
	else if (t->max_age == 0)
		add(cs, ST_SKIP, "freshness",
		    "checkpoint age not checked (the trust file sets no "
		    "max-age)");
	else {
		rc = fwc_trust_check_fresh(&age, t, rep->signers, t->n_validators, now, &ei);
		if (rc == FWC_OK)
			add(cs, ST_OK, "freshness", "checkpoint is %llu s old (max-age %llu s)",
			    (unsigned long long)age, (unsigned long long)t->max_age);
		else if (rc == FWC_ERR_STALE)
			add(cs, ST_FAIL, "freshness",
			    "checkpoint is %llu s old, older than max-age "
			    "%llu s",
			    (unsigned long long)age, (unsigned long long)t->max_age);
		else
			add(cs, ST_FAIL, "freshness", "checkpoint age: %s", ei.msg);
	}
	k = report_find(rep, "tree size");
	if (not_run(k))
		add(cs, ST_SKIP, "tree size", "tree size not checked");
	else if (k->rc == FWC_OK)
		add(cs, ST_OK, "tree size", "bundle is for the checkpoint's tree size %llu",
		    (unsigned long long)b->size);
	else
		add(cs, ST_FAIL, "tree size", "tree size: %s", k->msg);
	k = report_find(rep, "inclusion");
	if (not_run(k))
		add(cs, ST_SKIP, "inclusion", "inclusion of transaction %s not checked", txid_hex);
	else if (k->rc == FWC_OK)
		add(cs, ST_OK, "inclusion", "transaction %s is leaf %llu of the checkpoint's tree",
		    txid_hex, (unsigned long long)b->release.index);
	else
		add(cs, ST_FAIL, "inclusion",
		    "transaction %s is not leaf %llu of the checkpoint's "
		    "tree: %s",
		    txid_hex, (unsigned long long)b->release.index, k->msg);
	for (i = 0; i < b->n_extra; i++) {
		char name[48], xid[2 * FWC_TX_ID_LEN + 1];

		snprintf(name, sizeof(name), "extra %zu inclusion", i + 1);
		k = report_find(rep, name);
		hex_id(xid, b->extra[i].tx, b->extra[i].tx_len);
		if (not_run(k))
			add(cs, ST_SKIP, "extra inclusion", "extra %zu: inclusion not checked",
			    i + 1);
		else if (k->rc == FWC_OK)
			add(cs, ST_OK, "extra inclusion", "extra %zu: transaction %s is leaf %llu",
			    i + 1, xid, (unsigned long long)b->extra[i].index);
		else
			add(cs, ST_FAIL, "extra inclusion",
			    "extra %zu: transaction %s is not leaf "
			    "%llu: %s",
			    i + 1, xid, (unsigned long long)b->extra[i].index, k->msg);
	}
}

/* Decode, chain and signature of one logged transaction. Returns 1 when it decoded. */
static int checks_tx(struct checks *cs, struct fwc_signed_tx *stx, const char *label,
                     const uint8_t *tx, size_t len, const struct fwc_trust *t)
{
	struct fwc_errinfo ei = {0};
	char key[FWC_PUBKEY_TEXT_MAX];
	const char *tn;
	int rc;

	rc = fwc_tx_decode(stx, tx, len, &ei);
	if (rc < 0) {
		add(cs, ST_FAIL, "transaction", "%s does not decode: %s: %s (byte %zu)", label,
		    fwc_strerror(rc), ei.msg, ei.offset);
		return 0;
	}
	tn = fwc_tx_type_name((int)stx->tx.type);
	fwc_pubkey_to_text(key, sizeof(key), &stx->tx.sender);
	add(cs, ST_OK, "transaction", "%s decodes: %s, nonce %llu, sender %s", label, tn ? tn : "?",
	    (unsigned long long)stx->tx.nonce, key);
	if (stx->tx.chain_id.len == t->origin_len &&
	    memcmp(stx->tx.chain_id.p, t->origin, t->origin_len) == 0)
		add(cs, ST_OK, "chain", "%s is for chain %.*s", label, (int)t->origin_len,
		    t->origin);
	else
		add(cs, ST_FAIL, "chain", "%s is for chain %.*s, not the trusted %.*s", label,
		    (int)stx->tx.chain_id.len, stx->tx.chain_id.p, (int)t->origin_len, t->origin);
	rc = fwc_tx_verify(stx, &ei);
	if (rc == FWC_OK)
		add(cs, ST_OK, "signature", "%s carries its sender's valid signature", label);
	else
		add(cs, ST_FAIL, "signature", "%s signature does not verify under its sender key",
		    label);
	return 1;
}

/* The manifest of a RELEASE: its signatures against the release key set. */
static void checks_manifest(struct checks *cs, const struct fwc_signed_tx *stx,
                            const struct fwc_trust *t, const struct fwc_keyset *flag_set)
{
	static struct fwc_signed_manifest sm;
	const struct fwc_trust_product *pr;
	const struct fwc_keyset *ks = flag_set;
	struct fwc_pl_release pl;
	struct fwc_errinfo ei = {0};
	const struct fwc_manifest *m = &sm.manifest;
	unsigned valid = 0;
	int rc;

	if (stx->tx.type != FWC_TX_RELEASE) {
		add(cs, ST_SKIP, "manifest", "not a release transaction: no manifest to check");
		return;
	}
	rc = fwc_pl_release_decode(&pl, stx->tx.payload.p, stx->tx.payload.len, &ei);
	if (rc < 0) {
		add(cs, ST_FAIL, "manifest", "release payload does not decode: %s: %s",
		    fwc_strerror(rc), ei.msg);
		return;
	}
	rc = fwc_signed_manifest_decode(&sm, pl.manifest.p, pl.manifest.len, &ei);
	if (rc < 0) {
		add(cs, ST_FAIL, "manifest", "manifest does not decode: %s: %s", fwc_strerror(rc),
		    ei.msg);
		return;
	}
	if (ks == NULL) {
		pr = fwc_trust_product_find(t, m->product.p, m->product.len);
		if (pr == NULL || !pr->has_release) {
			add(cs, ST_SKIP, "manifest",
			    "manifest of %.*s %.*s not checked: no release key set for product "
			    "%.*s (trust file or --manifest-keys)",
			    (int)m->product.len, m->product.p, (int)m->version.len, m->version.p,
			    (int)m->product.len, m->product.p);
			return;
		}
		ks = &pr->release;
	}
	rc = fwc_signed_manifest_verify(&sm, ks, &valid, &ei);
	if (rc == FWC_OK)
		add(cs, ST_OK, "manifest",
		    "manifest of %.*s %.*s (counter %llu) signed by %u of %zu release keys "
		    "(threshold %u)",
		    (int)m->product.len, m->product.p, (int)m->version.len, m->version.p,
		    (unsigned long long)m->counter, valid, ks->n, ks->threshold);
	else
		add(cs, ST_FAIL, "manifest", "manifest of %.*s %.*s (counter %llu): %s",
		    (int)m->product.len, m->product.p, (int)m->version.len, m->version.p,
		    (unsigned long long)m->counter, ei.msg[0] ? ei.msg : fwc_strerror(rc));
}

/* ---- proof verify ---- */

#define MAX_KEY_ARGS 16

static const char verify_help[] =
    "usage: fwchain proof verify --trust FILE [--manifest-keys KEYS --manifest-threshold N]\n"
    "                            [--tx-id HEX] [--at TIME] [--json] BUNDLE\n"
    "\n"
    "Checks a proof bundle offline against a trust file (docs/formats/trust.md) and prints\n"
    "one line per check: ok, FAIL or skip. BUNDLE is the CBOR bundle or its tlog-proof text\n"
    "export ('-' for standard input). Checked: the checkpoint parses, its origin is the\n"
    "trusted chain, a quorum of the trusted validators cosigned it (a bad signature by one of\n"
    "them fails), it is not older than the trust file's max-age, the bundle's tree size is\n"
    "the checkpoint's, the transaction is included at its leaf index, it decodes, is for the\n"
    "trusted chain and carries its sender's valid signature; extra entries likewise; for a\n"
    "release, the manifest's signatures reach the threshold of the product's release key set\n"
    "(from the trust file, or the flags below).\n"
    "\n"
    "  --trust FILE               the trust anchors file\n"
    "  --manifest-keys KEYS       release key set instead of the trust file's: public keys\n"
    "                             (ALG:HEX, key files or keystores), comma-separated or repeated\n"
    "  --manifest-threshold N     its threshold (with --manifest-keys)\n"
    "  --tx-id HEX                require the bundle to prove this transaction\n"
    "  --at TIME                  judge the checkpoint's age at TIME instead of now (seconds\n"
    "                             since 1970 or YYYY-MM-DDTHH:MM:SSZ)\n"
    "  --json                     print {\"bundle\",\"ok\",\"tx_id\",\"checks\":[{\"check\",\n"
    "                             \"status\",\"message\"}...]}\n"
    "\n"
    "Exit codes: 0 every check passed (or was skipped); 1 a check failed; 2 usage error,\n"
    "unreadable or malformed trust file or bundle.\n";

static int proof_verify(int argc, char **argv)
{
	static const struct cli_opt opts[] = {
	    {"help", O_HELP, 0},           {"trust", O_TRUST, 1},
	    {"manifest-keys", O_MKEYS, 1}, {"manifest-threshold", O_MTHRESHOLD, 1},
	    {"tx-id", O_TXID, 1},          {"at", O_AT, 1},
	    {"json", O_JSON, 0},           {NULL, 0, 0},
	};
	const char *cmd = "proof verify", *val, *file = NULL, *trust_path = NULL, *txid_arg = NULL;
	static struct fwc_trust t;
	static struct fwc_bundle_report rep;
	static struct checks cs;
	static struct fwc_keyset flag_set;
	struct fwc_bundle_trust bt;
	struct fwc_bundle b;
	struct fwc_signed_tx stx;
	struct cli_parser p;
	char *keylist[MAX_KEY_ARGS], txid_hex[2 * FWC_TX_ID_LEN + 1];
	uint8_t *tbuf = NULL, *bbuf = NULL, *scratch = NULL, want_id[FWC_TX_ID_LEN], got_id[32];
	unsigned long long thr = 0;
	uint64_t now = (uint64_t)time(NULL);
	size_t n_lists = 0, n = 0, i;
	int id, json = 0, have_thr = 0, rc = CLI_EXIT_ERROR;

	memset(&cs, 0, sizeof(cs));
	memset(&flag_set, 0, sizeof(flag_set));
	cli_parser_init(&p, cmd, argc, argv, 2);
	while ((id = cli_next(&p, opts, &val)) != CLI_NEXT_END) {
		switch (id) {
		case O_HELP:
			fputs(verify_help, stdout);
			rc = cli_stdout_done(cmd);
			goto out;
		case O_TRUST:
			trust_path = val;
			break;
		case O_MKEYS:
			if (n_lists == MAX_KEY_ARGS) {
				cli_usage_err(cmd, "too many --manifest-keys");
				goto out;
			}
			keylist[n_lists] = strdup(val);
			if (keylist[n_lists] == NULL) {
				cli_err(cmd, "out of memory");
				goto out;
			}
			n_lists++;
			break;
		case O_MTHRESHOLD:
			if (cli_u64_arg(cmd, "--manifest-threshold", val, FWC_KEYSET_MAX, &thr) !=
			    0)
				goto out;
			have_thr = 1;
			break;
		case O_TXID:
			txid_arg = val;
			break;
		case O_AT:
			if (cli_time_arg(cmd, "--at", val, &now) != 0)
				goto out;
			break;
		case O_JSON:
			json = 1;
			break;
		case CLI_NEXT_POS:
			if (file != NULL) {
				cli_usage_err(cmd, "only one BUNDLE");
				goto out;
			}
			file = val;
			break;
		default:
			goto out;
		}
	}
	if (file == NULL || trust_path == NULL) {
		cli_usage_err(cmd, "--trust FILE and BUNDLE are required");
		goto out;
	}
	if ((n_lists == 0) != (have_thr == 0)) {
		cli_usage_err(cmd, "--manifest-keys and --manifest-threshold go together");
		goto out;
	}
	if (txid_arg != NULL) {
		if (strlen(txid_arg) != 2 * FWC_TX_ID_LEN) {
			cli_err(cmd, "--tx-id: need %d hex digits, got %zu", 2 * FWC_TX_ID_LEN,
			        strlen(txid_arg));
			goto out;
		}
		if (cli_hex_arg(cmd, "--tx-id", txid_arg, want_id, sizeof(want_id), &n) != 0)
			goto out;
	}
	if (n_lists > 0 && cli_keyset_args(cmd, &flag_set, keylist, n_lists, (unsigned)thr,
	                                   "--manifest-keys") != 0)
		goto out;
	if (cli_trust_load(cmd, &t, &tbuf, trust_path) != 0)
		goto out;
	if (bundle_load(cmd, &b, &bbuf, &scratch, file) != 0)
		goto out;

	hex_id(txid_hex, b.release.tx, b.release.tx_len);
	fwc_trust_bundle_trust(&bt, &t);
	/* Its return value is the first failing check; the report has them all. */
	fwc_bundle_verify(&rep, &b, &bt, NULL, NULL);
	checks_log(&cs, &rep, &b, &t, txid_hex, now);
	if (txid_arg != NULL) {
		fwc_tx_id(got_id, b.release.tx, b.release.tx_len);
		if (fwc_ct_equal(got_id, want_id, sizeof(want_id)))
			add(&cs, ST_OK, "expected transaction", "the bundle proves transaction %s",
			    txid_arg);
		else
			add(&cs, ST_FAIL, "expected transaction",
			    "the bundle proves transaction %s, not %s", txid_hex, txid_arg);
	}
	if (checks_tx(&cs, &stx, "transaction", b.release.tx, b.release.tx_len, &t))
		checks_manifest(&cs, &stx, &t, n_lists ? &flag_set : NULL);
	for (i = 0; i < b.n_extra; i++) {
		char label[48];
		struct fwc_signed_tx xtx;

		snprintf(label, sizeof(label), "extra %zu transaction", i + 1);
		checks_tx(&cs, &xtx, label, b.extra[i].tx, b.extra[i].tx_len, &t);
	}

	if (json) {
		fputs("{\"bundle\":", stdout);
		cli_json_str(stdout, file, strlen(file));
		printf(",\"ok\":%s,\"tx_id\":\"%s\",\"checks\":[", cs.failed ? "false" : "true",
		       txid_hex);
		for (i = 0; i < cs.n; i++) {
			static const char *st[] = {"ok", "fail", "skip"};

			printf("%s{\"check\":\"%s\",\"status\":\"%s\",\"message\":", i ? "," : "",
			       cs.c[i].name, st[cs.c[i].status]);
			cli_json_str(stdout, cs.c[i].msg, strlen(cs.c[i].msg));
			fputc('}', stdout);
		}
		fputs("]}\n", stdout);
	} else {
		static const char *st[] = {"ok", "FAIL", "skip"};

		for (i = 0; i < cs.n; i++) {
			printf("%s  ", st[cs.c[i].status]);
			cli_text_safe(stdout, cs.c[i].msg, strlen(cs.c[i].msg));
			fputc('\n', stdout);
		}
		if (cs.failed)
			printf("result  FAILED: %zu of %zu checks failed\n", cs.failed, cs.n);
		else
			printf("result  VERIFIED\n");
	}
	rc = cli_stdout_done(cmd) != 0 ? CLI_EXIT_ERROR : cs.failed ? CLI_EXIT_FAIL : CLI_EXIT_OK;
out:
	for (i = 0; i < n_lists; i++)
		free(keylist[i]);
	free(tbuf);
	free(bbuf);
	free(scratch);
	return rc;
}

/* ---- proof export ---- */

static const char export_help[] =
    "usage: fwchain proof export [--entry N] [--out FILE] BUNDLE\n"
    "\n"
    "Prints one entry of a CBOR proof bundle as C2SP tlog-proof text (docs/formats/bundle.md):\n"
    "entry 0 (the default) is the release transaction, 1..N its extra entries. 'fwchain proof\n"
    "verify' reads this text as well as the CBOR form.\n"
    "\n"
    "  --entry N   which entry (default 0)\n"
    "  --out FILE  write the text to FILE (atomically; replaces it) instead of standard output\n"
    "\n"
    "Exit codes: 0 exported; 2 usage error, unreadable or malformed BUNDLE, no such entry.\n";

static int proof_export(int argc, char **argv)
{
	static const struct cli_opt opts[] = {
	    {"help", O_HELP, 0},
	    {"entry", O_ENTRY, 1},
	    {"out", O_OUT, 1},
	    {NULL, 0, 0},
	};
	const char *cmd = "proof export", *val, *file = NULL, *outpath = NULL;
	struct fwc_bundle b;
	struct cli_parser p;
	uint8_t *bbuf = NULL, *scratch = NULL;
	unsigned long long entry = 0;
	char *text = NULL;
	size_t tl = 0;
	int id, lrc, rc = CLI_EXIT_ERROR;

	cli_parser_init(&p, cmd, argc, argv, 2);
	while ((id = cli_next(&p, opts, &val)) != CLI_NEXT_END) {
		switch (id) {
		case O_HELP:
			fputs(export_help, stdout);
			return cli_stdout_done(cmd);
		case O_ENTRY:
			if (cli_u64_arg(cmd, "--entry", val, FWC_BUNDLE_MAX_EXTRA, &entry) != 0)
				return CLI_EXIT_ERROR;
			break;
		case O_OUT:
			outpath = val;
			break;
		case CLI_NEXT_POS:
			if (file != NULL)
				return cli_usage_err(cmd, "only one BUNDLE");
			file = val;
			break;
		default:
			return CLI_EXIT_ERROR;
		}
	}
	if (file == NULL)
		return cli_usage_err(cmd, "missing BUNDLE");
	if (bundle_load(cmd, &b, &bbuf, &scratch, file) != 0)
		goto out;
	if (entry > b.n_extra) {
		cli_err(cmd, "bundle %s has no entry %llu (it has the release and %zu extra)", file,
		        entry, b.n_extra);
		goto out;
	}
	{
		/* The export does not measure; this bound covers its lines (base64 of the
		 * transaction and of each 32-byte hash, the index, the note). */
		const struct fwc_bundle_entry *e = entry ? &b.extra[entry - 1] : &b.release;

		tl = 64 + (e->tx_len + 2) / 3 * 4 + e->path_len * 46 + b.checkpoint_len;
	}
	text = malloc(tl + 1);
	if (text == NULL) {
		cli_err(cmd, "out of memory");
		goto out;
	}
	if ((lrc = fwc_bundle_text_export(text, tl + 1, &tl, &b, (size_t)entry)) < 0) {
		cli_err_rc(cmd, lrc, NULL, "exporting %s", file);
		goto out;
	}
	if (outpath != NULL) {
		if (cli_file_write_atomic(cmd, outpath, text, tl, 0644, 1) != 0)
			goto out;
		rc = 0;
	} else {
		fwrite(text, 1, tl, stdout);
		rc = cli_stdout_done(cmd);
	}
out:
	free(text);
	free(bbuf);
	free(scratch);
	return rc;
}

/* ---- proof fetch ---- */

static const char fetch_help[] =
    "usage: fwchain proof fetch --tx FILE --out BUNDLE [--node URL] [--timeout SECONDS]\n"
    "                           [--wait SECONDS] [--json]\n"
    "\n"
    "Builds a proof bundle for a committed transaction: asks the node (GET /v1/txs/ID, ID\n"
    "the SHA-256 of FILE) for its leaf index, inclusion path and the checkpoint they belong\n"
    "to, and writes them with the transaction's bytes as a CBOR bundle (docs/formats/\n"
    "bundle.md) to BUNDLE, atomically (it replaces BUNDLE). Nothing the node says is\n"
    "trusted here: check the bundle with 'fwchain proof verify --trust FILE BUNDLE'.\n"
    "\n"
    "  --tx FILE        the signed transaction (CBOR), as submitted\n"
    "  --out BUNDLE     the bundle to write\n"
    "  --wait SECONDS   while it is pending, wait up to SECONDS for its block\n"
    "  --json           print {\"file\",\"tx_id\",\"leaf_index\",\"tree_size\",\"block\"}\n"
    "\n"
    "Exit codes: 0 written; 1 the transaction is not committed (pending after --wait, or\n"
    "refused); 2 usage error, unreadable FILE, unknown transaction, node unreachable, or an\n"
    "answer without a usable proof.\n";

static int proof_fetch(int argc, char **argv)
{
	static const struct cli_opt opts[] = {
	    {"help", O_HELP, 0},       {"tx", O_TX, 1},
	    {"out", O_OUT, 1},         {"node", O_NODE, 1},
	    {"timeout", O_TIMEOUT, 1}, {"wait", O_WAIT, 1},
	    {"json", O_JSON, 0},       {NULL, 0, 0},
	};
	const char *cmd = "proof fetch", *val, *txfile = NULL, *out = NULL, *url = NULL, *st, *note,
	           *lh_b64;
	static uint8_t path[FWC_BUNDLE_MAX_PATH][32];
	struct fwc_signed_tx stx;
	struct fwc_errinfo ei = {0};
	struct fwc_bundle b;
	struct cli_node n;
	struct cli_parser p;
	uint8_t *tx = NULL, *enc = NULL, idb[FWC_TX_ID_LEN], leaf[32], lh[32];
	char hex[2 * FWC_TX_ID_LEN + 1];
	unsigned long long timeout = 0, wait = 0;
	long long index, size, block;
	json_t *j = NULL, *inc, *hashes;
	size_t len = 0, elen = 0, i, nh, dl;
	int id, json = 0, lrc, rc = CLI_EXIT_ERROR, have_node = 0;

	cli_parser_init(&p, cmd, argc, argv, 2);
	while ((id = cli_next(&p, opts, &val)) != CLI_NEXT_END) {
		switch (id) {
		case O_HELP:
			fputs(fetch_help, stdout);
			return cli_stdout_done(cmd);
		case O_TX:
			txfile = val;
			break;
		case O_OUT:
			out = val;
			break;
		case O_NODE:
			url = val;
			break;
		case O_TIMEOUT:
			if (cli_u64_arg(cmd, "--timeout", val, 3600, &timeout) != 0)
				return CLI_EXIT_ERROR;
			if (timeout == 0)
				return cli_err(cmd, "--timeout must be 1..3600 seconds");
			break;
		case O_WAIT:
			if (cli_u64_arg(cmd, "--wait", val, 3600, &wait) != 0)
				return CLI_EXIT_ERROR;
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
	if (txfile == NULL || out == NULL)
		return cli_usage_err(cmd, "--tx FILE and --out BUNDLE are required");
	if (cli_file_read(cmd, txfile, FWC_TX_MAX, &tx, &len) != 0)
		return CLI_EXIT_ERROR;
	if ((lrc = fwc_tx_decode(&stx, tx, len, &ei)) < 0) {
		cli_err_rc(cmd, lrc, &ei, "transaction %s (byte %zu)", txfile, ei.offset);
		goto out;
	}
	fwc_tx_id(idb, tx, len);
	fwc_hex_encode(hex, sizeof(hex), idb, sizeof(idb));
	if (cli_node_init(&n, cmd, url, (unsigned)timeout) != 0)
		goto out;
	have_node = 1;
	if (cli_tx_poll(&n, &j, hex, (unsigned)wait) != 0)
		goto out;
	st = cli_json_string(j, "status");
	if (strcmp(st, "committed") != 0) {
		cli_tx_status_print(cmd, j, hex, wait > 0, 0);
		rc = CLI_EXIT_FAIL;
		goto out;
	}
	inc = json_object_get(j, "inclusion");
	index = cli_json_int(inc, "leaf_index");
	size = cli_json_int(inc, "tree_size");
	block = cli_json_int(j, "block");
	note = cli_json_string(inc, "checkpoint");
	lh_b64 = cli_json_string(inc, "leaf_hash");
	hashes = json_object_get(inc, "hashes");
	if (!json_is_object(inc) || index < 0 || size <= index || note == NULL || lh_b64 == NULL ||
	    !json_is_array(hashes)) {
		cli_err(cmd, "the node's answer for %s has no usable inclusion proof", hex);
		goto out;
	}
	nh = json_array_size(hashes);
	if (nh > FWC_BUNDLE_MAX_PATH) {
		cli_err(cmd, "the node's inclusion path has %zu hashes, at most %d", nh,
		        FWC_BUNDLE_MAX_PATH);
		goto out;
	}
	for (i = 0; i < nh; i++) {
		const char *h = json_string_value(json_array_get(hashes, i));

		if (h == NULL || fwc_base64_decode(path[i], 32, &dl, h, strlen(h), NULL) < 0 ||
		    dl != 32) {
			cli_err(cmd, "the node's inclusion path hash %zu is not base64 of 32 bytes",
			        i);
			goto out;
		}
	}
	/* The node says which leaf hash it proved; a different one means it proved another
	 * transaction than FILE (or FILE is not what was submitted). */
	fwc_merkle_leaf_hash(leaf, tx, len);
	if (fwc_base64_decode(lh, sizeof(lh), &dl, lh_b64, strlen(lh_b64), NULL) < 0 || dl != 32 ||
	    !fwc_ct_equal(lh, leaf, 32)) {
		cli_err(cmd, "the node proved another leaf than SHA-256(00 || %s)", txfile);
		goto out;
	}
	memset(&b, 0, sizeof(b));
	b.release.tx = tx;
	b.release.tx_len = len;
	b.release.index = (uint64_t)index;
	b.release.path = (const uint8_t(*)[32])path;
	b.release.path_len = nh;
	b.size = (uint64_t)size;
	b.checkpoint = note;
	b.checkpoint_len = strlen(note);
	if ((lrc = fwc_bundle_encode(NULL, 0, &elen, &b)) < 0 && lrc != FWC_ERR_BUFSIZE) {
		cli_err_rc(cmd, lrc, NULL, "building the bundle");
		goto out;
	}
	if ((enc = malloc(elen)) == NULL) {
		cli_err(cmd, "out of memory");
		goto out;
	}
	if ((lrc = fwc_bundle_encode(enc, elen, &elen, &b)) < 0) {
		cli_err_rc(cmd, lrc, NULL, "building the bundle");
		goto out;
	}
	if (cli_file_write_atomic(cmd, out, enc, elen, 0644, 1) != 0)
		goto out;
	if (json) {
		fputs("{\"file\":", stdout);
		cli_json_str(stdout, out, strlen(out));
		printf(",\"tx_id\":\"%s\",\"leaf_index\":%lld,\"tree_size\":%lld,\"block\":%lld}\n",
		       hex, index, size, block);
	} else {
		fputs("bundle:      ", stdout);
		cli_text_safe(stdout, out, strlen(out));
		printf(" (%zu bytes)\ntransaction: %s\nleaf:        %lld of %lld (block %lld)\n",
		       elen, hex, index, size, block);
	}
	rc = cli_stdout_done(cmd);
out:
	json_decref(j);
	if (have_node)
		cli_node_cleanup(&n);
	free(tx);
	free(enc);
	return rc;
}

/* ---- dispatch ---- */

static const char proof_help[] = "usage: fwchain proof verify|export [OPTIONS] BUNDLE\n"
                                 "\n"
                                 "  verify   check a proof bundle offline against a trust file\n"
                                 "  export   print a bundle as C2SP tlog-proof text\n"
                                 "\n"
                                 "'fwchain proof SUBCOMMAND --help' describes each.\n";

int cmd_proof(int argc, char **argv)
{
	if (argc < 2)
		return cli_usage_err("proof", "missing subcommand (verify, export, fetch)");
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		fputs(proof_help, stdout);
		return cli_stdout_done("proof");
	}
	if (strcmp(argv[1], "verify") == 0)
		return proof_verify(argc, argv);
	if (strcmp(argv[1], "export") == 0)
		return proof_export(argc, argv);
	if (strcmp(argv[1], "fetch") == 0)
		return proof_fetch(argc, argv);
	return cli_usage_err("proof", "unknown subcommand '%.64s' (verify, export, fetch)",
	                     argv[1]);
}
