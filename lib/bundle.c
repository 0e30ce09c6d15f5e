/* Proof bundles: canonical CBOR codec, C2SP tlog-proof text export and parser, and the
 * verification a device (or `fwchain verify`) runs on a bundle.
 *
 * Main design choice: the bundle carries the checkpoint note verbatim and the inclusion paths as
 * one byte string of concatenated 32-byte hashes, so decoding is zero-copy (the path is used in
 * place as `const uint8_t (*)[32]`) and verification needs no allocation. Verification records
 * every check it runs in a report instead of stopping at the first failure, so a tool can print
 * each check with its outcome; checks whose inputs failed are recorded as not run. */
#include "fwchain/bundle.h"

#include "fwchain/base64.h"
#include "fwchain/cbor.h"
#include "fwchain/hex.h"

#include <string.h>

/* CBOR map keys (docs/formats/bundle.md). */
enum {
	K_VERSION = 0,
	K_TX = 1,
	K_INDEX = 2,
	K_SIZE = 3,
	K_PATH = 4,
	K_CHECKPOINT = 5,
	K_EXTRA = 6,
};

#define HLEN FWC_MERKLE_HASH_LEN

static int entry_ok(const struct fwc_bundle_entry *e)
{
	if ((e->tx == NULL && e->tx_len != 0) || (e->path == NULL && e->path_len != 0))
		return FWC_ERR_ARG;
	if (e->tx_len > FWC_BUNDLE_MAX_TX || e->path_len > FWC_BUNDLE_MAX_PATH)
		return FWC_ERR_TOO_LARGE;
	return FWC_OK;
}

int fwc_bundle_encode(uint8_t *out, size_t cap, size_t *outlen, const struct fwc_bundle *b)
{
	struct fwc_cbor_enc enc;
	int rc;

	if (b == NULL || outlen == NULL || (out == NULL && cap != 0) ||
	    (b->checkpoint == NULL && b->checkpoint_len != 0))
		return FWC_ERR_ARG;
	if (b->n_extra > FWC_BUNDLE_MAX_EXTRA || b->checkpoint_len > FWC_NOTE_MAX_LEN)
		return FWC_ERR_TOO_LARGE;
	if ((rc = entry_ok(&b->release)) < 0)
		return rc;
	for (size_t i = 0; i < b->n_extra; i++)
		if ((rc = entry_ok(&b->extra[i])) < 0)
			return rc;
	fwc_cbor_enc_init(&enc, out, cap);
	fwc_cbor_put_map(&enc, b->n_extra ? 7 : 6);
	fwc_cbor_put_uint(&enc, K_VERSION);
	fwc_cbor_put_uint(&enc, FWC_BUNDLE_VERSION);
	fwc_cbor_put_uint(&enc, K_TX);
	fwc_cbor_put_bytes(&enc, b->release.tx, b->release.tx_len);
	fwc_cbor_put_uint(&enc, K_INDEX);
	fwc_cbor_put_uint(&enc, b->release.index);
	fwc_cbor_put_uint(&enc, K_SIZE);
	fwc_cbor_put_uint(&enc, b->size);
	fwc_cbor_put_uint(&enc, K_PATH);
	fwc_cbor_put_bytes(&enc, b->release.path, b->release.path_len * HLEN);
	fwc_cbor_put_uint(&enc, K_CHECKPOINT);
	fwc_cbor_put_text(&enc, b->checkpoint, b->checkpoint_len);
	if (b->n_extra) {
		fwc_cbor_put_uint(&enc, K_EXTRA);
		fwc_cbor_put_array(&enc, b->n_extra);
		for (size_t i = 0; i < b->n_extra; i++) {
			const struct fwc_bundle_entry *e = &b->extra[i];

			fwc_cbor_put_map(&enc, 3);
			fwc_cbor_put_uint(&enc, K_TX);
			fwc_cbor_put_bytes(&enc, e->tx, e->tx_len);
			fwc_cbor_put_uint(&enc, K_INDEX);
			fwc_cbor_put_uint(&enc, e->index);
			fwc_cbor_put_uint(&enc, K_PATH);
			fwc_cbor_put_bytes(&enc, e->path, e->path_len * HLEN);
		}
	}
	return fwc_cbor_enc_finish(&enc, outlen);
}

/* ---- decoding ---------------------------------------------------------------------------- */

static int get_path(struct fwc_cbor_dec *d, struct fwc_bundle_entry *e, struct fwc_errinfo *ei)
{
	const uint8_t *p;
	size_t len, at = d->pos;
	int rc;

	if ((rc = fwc_cbor_get_bytes(d, &p, &len)) < 0)
		return rc;
	if (len % HLEN != 0)
		return fwc_fail(ei, at, FWC_ERR_MALFORMED,
		                "inclusion path has %zu bytes, not a multiple of 32", len);
	if (len / HLEN > FWC_BUNDLE_MAX_PATH)
		return fwc_fail(ei, at, FWC_ERR_TOO_LARGE,
		                "inclusion path has %zu hashes, more than %d", len / HLEN,
		                FWC_BUNDLE_MAX_PATH);
	e->path = len ? (const uint8_t(*)[HLEN])p : NULL;
	e->path_len = len / HLEN;
	return FWC_OK;
}

static int get_tx(struct fwc_cbor_dec *d, struct fwc_bundle_entry *e)
{
	return fwc_cbor_get_bytes(d, &e->tx, &e->tx_len);
}

static int decode_extra(struct fwc_cbor_dec *d, struct fwc_bundle_entry *e, struct fwc_errinfo *ei)
{
	uint64_t n, key;
	size_t at = d->pos;
	unsigned seen = 0;
	int rc;

	if ((rc = fwc_cbor_get_map(d, &n)) < 0)
		return rc;
	for (uint64_t i = 0; i < n; i++) {
		size_t kat = d->pos;

		if ((rc = fwc_cbor_get_uint(d, &key)) < 0)
			return rc;
		switch (key) {
		case K_TX:
			rc = get_tx(d, e);
			break;
		case K_INDEX:
			rc = fwc_cbor_get_uint(d, &e->index);
			break;
		case K_PATH:
			rc = get_path(d, e, ei);
			break;
		default:
			return fwc_fail(ei, kat, FWC_ERR_UNKNOWN_FIELD,
			                "unknown field %llu in an extra entry",
			                (unsigned long long)key);
		}
		if (rc < 0)
			return rc;
		seen |= 1u << key;
	}
	if (seen != ((1u << K_TX) | (1u << K_INDEX) | (1u << K_PATH)))
		return fwc_fail(ei, at, FWC_ERR_MISSING_FIELD,
		                "extra entry lacks its transaction, index or path");
	return FWC_OK;
}

int fwc_bundle_decode(struct fwc_bundle *b, const uint8_t *buf, size_t len, struct fwc_errinfo *ei)
{
	struct fwc_cbor_dec d;
	struct fwc_bundle tmp;
	uint64_t n, key, v;
	unsigned seen = 0;
	int rc;

	if (b == NULL || (buf == NULL && len != 0))
		return FWC_ERR_ARG;
	if (len > FWC_BUNDLE_MAX_LEN)
		return fwc_fail(ei, 0, FWC_ERR_TOO_LARGE, "bundle has %zu bytes, more than %lu",
		                len, (unsigned long)FWC_BUNDLE_MAX_LEN);
	memset(&tmp, 0, sizeof(tmp));
	fwc_cbor_dec_init(&d, buf, len, FWC_BUNDLE_MAX_TX, ei);
	if ((rc = fwc_cbor_get_map(&d, &n)) < 0)
		return rc;
	for (uint64_t i = 0; i < n; i++) {
		size_t kat = d.pos;

		if ((rc = fwc_cbor_get_uint(&d, &key)) < 0)
			return rc;
		switch (key) {
		case K_VERSION:
			if ((rc = fwc_cbor_get_uint(&d, &v)) < 0)
				return rc;
			if (v != FWC_BUNDLE_VERSION)
				return fwc_fail(ei, kat, FWC_ERR_UNSUPPORTED,
				                "bundle version %llu (this code reads %d)",
				                (unsigned long long)v, FWC_BUNDLE_VERSION);
			break;
		case K_TX:
			rc = get_tx(&d, &tmp.release);
			break;
		case K_INDEX:
			rc = fwc_cbor_get_uint(&d, &tmp.release.index);
			break;
		case K_SIZE:
			rc = fwc_cbor_get_uint(&d, &tmp.size);
			break;
		case K_PATH:
			rc = get_path(&d, &tmp.release, ei);
			break;
		case K_CHECKPOINT:
			rc = fwc_cbor_get_text(&d, &tmp.checkpoint, &tmp.checkpoint_len);
			break;
		case K_EXTRA:
			if ((rc = fwc_cbor_get_array(&d, &v)) < 0)
				return rc;
			if (v == 0 || v > FWC_BUNDLE_MAX_EXTRA)
				return fwc_fail(ei, kat,
				                v ? FWC_ERR_TOO_LARGE : FWC_ERR_NONCANONICAL,
				                "bundle has %llu extra entries (1 to %d allowed; "
				                "none is written by leaving the field out)",
				                (unsigned long long)v, FWC_BUNDLE_MAX_EXTRA);
			for (uint64_t k = 0; k < v && rc >= 0; k++)
				rc = decode_extra(&d, &tmp.extra[k], ei);
			tmp.n_extra = (size_t)v;
			break;
		default:
			return fwc_fail(ei, kat, FWC_ERR_UNKNOWN_FIELD, "unknown bundle field %llu",
			                (unsigned long long)key);
		}
		if (rc < 0)
			return rc;
		seen |= 1u << key;
	}
	if ((rc = fwc_cbor_finish(&d)) < 0)
		return rc;
	for (unsigned k = K_VERSION; k <= K_CHECKPOINT; k++)
		if (!(seen & (1u << k))) {
			static const char *const names[] = {
			    "version", "transaction", "index", "tree size", "path", "checkpoint"};
			return fwc_fail(ei, 0, FWC_ERR_MISSING_FIELD, "bundle lacks its %s",
			                names[k]);
		}
	*b = tmp;
	return FWC_OK;
}

/* ---- text form (c2sp.org/tlog-proof) ----------------------------------------------------- */

int fwc_bundle_text_export(char *out, size_t cap, size_t *outlen, const struct fwc_bundle *b,
                           size_t entry)
{
	const struct fwc_bundle_entry *e;
	size_t need, o = 0, bl = 0, nl = 0;
	char num[32];
	int rc;

	if (out == NULL || b == NULL || b->checkpoint == NULL || entry > b->n_extra ||
	    b->n_extra > FWC_BUNDLE_MAX_EXTRA)
		return FWC_ERR_ARG;
	e = entry == 0 ? &b->release : &b->extra[entry - 1];
	if ((rc = entry_ok(e)) < 0)
		return rc;
	if ((rc = fwc_dec_encode(num, sizeof(num), &nl, e->index)) < 0)
		return rc;
	need = sizeof(FWC_BUNDLE_TEXT_HEADER) + 6 + FWC_BASE64_LEN(e->tx_len) + 1 + 6 + nl + 1 +
	       e->path_len * (FWC_BASE64_LEN(HLEN) + 1) + 1 + b->checkpoint_len;
	if (cap < need + 1)
		return FWC_ERR_BUFSIZE;
	memcpy(out, FWC_BUNDLE_TEXT_HEADER "\nextra ", sizeof(FWC_BUNDLE_TEXT_HEADER) + 6);
	o = sizeof(FWC_BUNDLE_TEXT_HEADER) + 6;
	if ((rc = fwc_base64_encode(out + o, cap - o, &bl, e->tx, e->tx_len)) < 0)
		return rc;
	o += bl;
	memcpy(out + o, "\nindex ", 7);
	o += 7;
	memcpy(out + o, num, nl);
	o += nl;
	out[o++] = '\n';
	for (size_t i = 0; i < e->path_len; i++) {
		if ((rc = fwc_base64_encode(out + o, cap - o, &bl, e->path[i], HLEN)) < 0)
			return rc;
		o += bl;
		out[o++] = '\n';
	}
	out[o++] = '\n';
	memcpy(out + o, b->checkpoint, b->checkpoint_len);
	o += b->checkpoint_len;
	out[o] = '\0';
	if (outlen != NULL)
		*outlen = o;
	return FWC_OK;
}

/* Next line of text[*pos..len) without its newline; FWC_ERR_TRUNCATED when no newline is left. */
static int next_line(const char **line, size_t *ll, const char *text, size_t len, size_t *pos)
{
	const char *eol;

	if (*pos >= len || (eol = memchr(text + *pos, '\n', len - *pos)) == NULL)
		return FWC_ERR_TRUNCATED;
	*line = text + *pos;
	*ll = (size_t)(eol - *line);
	*pos += *ll + 1;
	return FWC_OK;
}

static int parse_decimal(uint64_t *v, const char *s, size_t len)
{
	uint64_t x = 0;

	if (len == 0 || (len > 1 && s[0] == '0'))
		return FWC_ERR_MALFORMED;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return FWC_ERR_MALFORMED;
		if (x > (UINT64_MAX - (uint64_t)(s[i] - '0')) / 10)
			return FWC_ERR_RANGE;
		x = x * 10 + (uint64_t)(s[i] - '0');
	}
	*v = x;
	return FWC_OK;
}

int fwc_bundle_text_parse(struct fwc_bundle *b, uint8_t *scratch, size_t scratch_cap,
                          const char *text, size_t len, struct fwc_errinfo *ei)
{
	struct fwc_note note;
	struct fwc_checkpoint cp;
	struct fwc_bundle tmp;
	const char *line;
	size_t pos = 0, ll, used = 0, at, n;
	int rc;

	if (b == NULL || (scratch == NULL && scratch_cap != 0) || (text == NULL && len != 0))
		return FWC_ERR_ARG;
	if (len > FWC_BUNDLE_MAX_LEN * 2)
		return fwc_fail(ei, 0, FWC_ERR_TOO_LARGE, "tlog-proof text too large");
	memset(&tmp, 0, sizeof(tmp));
	if (next_line(&line, &ll, text, len, &pos) < 0 ||
	    ll != sizeof(FWC_BUNDLE_TEXT_HEADER) - 1 ||
	    memcmp(line, FWC_BUNDLE_TEXT_HEADER, ll) != 0)
		return fwc_fail(ei, 0, FWC_ERR_MALFORMED,
		                "first line is not \"" FWC_BUNDLE_TEXT_HEADER "\"");
	at = pos;
	if (next_line(&line, &ll, text, len, &pos) < 0)
		return fwc_fail(ei, at, FWC_ERR_TRUNCATED, "tlog-proof ends after its header");
	if (ll < 6 || memcmp(line, "extra ", 6) != 0)
		return fwc_fail(
		    ei, at, FWC_ERR_MISSING_FIELD,
		    "tlog-proof has no extra line; fwchain needs the transaction there");
	rc = fwc_base64_decode(NULL, 0, &n, line + 6, ll - 6, ei);
	if (rc < 0) {
		if (ei != NULL)
			ei->offset += at + 6;
		return rc;
	}
	if (n > FWC_BUNDLE_MAX_TX)
		return fwc_fail(ei, at, FWC_ERR_TOO_LARGE, "transaction has %zu bytes", n);
	if (n > scratch_cap)
		return FWC_ERR_BUFSIZE;
	if ((rc = fwc_base64_decode(scratch, scratch_cap, &n, line + 6, ll - 6, NULL)) < 0)
		return rc;
	tmp.release.tx = scratch;
	tmp.release.tx_len = n;
	used = n;

	at = pos;
	if (next_line(&line, &ll, text, len, &pos) < 0 || ll < 6 || memcmp(line, "index ", 6) != 0)
		return fwc_fail(ei, at, FWC_ERR_MALFORMED, "expected an \"index <n>\" line");
	if ((rc = parse_decimal(&tmp.release.index, line + 6, ll - 6)) < 0)
		return fwc_fail(ei, at + 6, rc,
		                "index is not a decimal number without leading zeros below 2^64");

	/* Path hashes, then the blank line. They are copied to scratch after the transaction,
	 * which needs no alignment: a path is an array of byte arrays. */
	for (;;) {
		at = pos;
		if (next_line(&line, &ll, text, len, &pos) < 0)
			return fwc_fail(ei, at, FWC_ERR_TRUNCATED,
			                "tlog-proof ends before the blank line and checkpoint");
		if (ll == 0)
			break;
		if (tmp.release.path_len >= FWC_BUNDLE_MAX_PATH)
			return fwc_fail(ei, at, FWC_ERR_TOO_LARGE,
			                "inclusion path longer than %d hashes",
			                FWC_BUNDLE_MAX_PATH);
		rc = fwc_base64_decode(NULL, 0, &n, line, ll, ei);
		if (rc < 0) {
			if (ei != NULL)
				ei->offset += at;
			return rc;
		}
		if (n != HLEN)
			return fwc_fail(ei, at, FWC_ERR_MALFORMED,
			                "path line %zu has %zu bytes, not 32",
			                tmp.release.path_len + 1, n);
		if (scratch_cap - used < HLEN)
			return FWC_ERR_BUFSIZE;
		if ((rc = fwc_base64_decode(scratch + used, HLEN, &n, line, ll, NULL)) < 0)
			return rc;
		if (tmp.release.path_len == 0)
			tmp.release.path = (const uint8_t(*)[HLEN])(scratch + used);
		used += HLEN;
		tmp.release.path_len++;
	}
	tmp.checkpoint = text + pos;
	tmp.checkpoint_len = len - pos;
	if ((rc = fwc_note_parse(&note, tmp.checkpoint, tmp.checkpoint_len, ei)) < 0 ||
	    (rc = fwc_checkpoint_parse(&cp, note.text, note.text_len, ei)) < 0) {
		if (ei != NULL)
			ei->offset += pos;
		return rc;
	}
	tmp.size = cp.size;
	*b = tmp;
	return FWC_OK;
}

/* ---- verification ------------------------------------------------------------------------ */

static void add_check_msg(struct fwc_bundle_report *r, const char *name, int rc, const char *msg)
{
	struct fwc_bundle_check *c;

	if (r->n_checks >= FWC_BUNDLE_MAX_CHECKS)
		return;
	c = &r->checks[r->n_checks++];
	c->name = name;
	c->rc = rc;
	memcpy(c->msg, msg, sizeof(c->msg));
}

/* Record one check with a printf-style message (the format must be a literal). The message is
 * formatted by fwc_fail into an errinfo of the same size as a check's message, so this file
 * needs no formatting of its own (the device agent builds it freestanding, where fwc_fail
 * leaves messages empty). */
#define add_check(r, name, rc, ...)                                                                \
	do {                                                                                       \
		struct fwc_errinfo m_ = {0, ""};                                                   \
		(void)fwc_fail(&m_, 0, 0, __VA_ARGS__);                                            \
		add_check_msg((r), (name), (rc), m_.msg);                                          \
	} while (0)

static const char *const extra_names[FWC_BUNDLE_MAX_EXTRA] = {
    "extra 1 inclusion", "extra 2 inclusion", "extra 3 inclusion", "extra 4 inclusion",
    "extra 5 inclusion", "extra 6 inclusion", "extra 7 inclusion", "extra 8 inclusion",
};

/* Inclusion of one entry under cp; records the check. Returns its rc. */
static int check_inclusion(struct fwc_bundle_report *r, const char *name,
                           const struct fwc_bundle_entry *e, const struct fwc_checkpoint *cp,
                           uint8_t leaf[HLEN])
{
	struct fwc_errinfo ei = {0, ""};
	int rc;

	if ((rc = fwc_merkle_leaf_hash(leaf, e->tx, e->tx_len)) < 0) {
		add_check(r, name, rc, "%s", "cannot hash the transaction");
		return rc;
	}
	rc = fwc_merkle_verify_inclusion(leaf, e->index, cp->size, e->path, e->path_len, cp->root,
	                                 &ei);
	if (rc < 0)
		add_check(r, name, rc, "%s", ei.msg);
	else
		add_check(r, name, FWC_OK, "leaf %llu of %llu is in the checkpoint's tree",
		          (unsigned long long)e->index, (unsigned long long)cp->size);
	return rc;
}

int fwc_bundle_verify(struct fwc_bundle_report *rep, const struct fwc_bundle *b,
                      const struct fwc_bundle_trust *trust,
                      const uint8_t expected_leaf[FWC_MERKLE_HASH_LEN], struct fwc_errinfo *ei)
{
	static const char skipped[] = "not checked: the checkpoint could not be read";
	struct fwc_bundle_report local;
	struct fwc_bundle_report *r = rep != NULL ? rep : &local;
	struct fwc_note note;
	struct fwc_errinfo e2 = {0, ""};
	uint8_t leaf[HLEN];
	int first = FWC_OK, rc, have_cp = 0;

	if (b == NULL || trust == NULL || (trust->verifiers == NULL && trust->n_verifiers != 0) ||
	    b->n_extra > FWC_BUNDLE_MAX_EXTRA || trust->n_verifiers > FWC_NOTE_MAX_VERIFIERS ||
	    (trust->origin == NULL && trust->origin_len != 0))
		return FWC_ERR_ARG;
	memset(r, 0, sizeof(*r));

	rc = fwc_note_parse(&note, b->checkpoint, b->checkpoint_len, &e2);
	if (rc >= 0)
		rc = fwc_checkpoint_parse(&r->cp, note.text, note.text_len, &e2);
	if (rc < 0) {
		add_check(r, "checkpoint", rc, "%s", e2.msg);
	} else {
		have_cp = 1;
		add_check(r, "checkpoint", FWC_OK, "%.*s, tree size %llu",
		          (int)(r->cp.origin_len > 100 ? 100 : r->cp.origin_len), r->cp.origin,
		          (unsigned long long)r->cp.size);
	}
	if (rc < 0 && first == FWC_OK)
		first = rc;

	if (trust->origin != NULL) {
		if (!have_cp)
			add_check(r, "origin", FWC_ERR_STATE, skipped);
		else if (r->cp.origin_len != trust->origin_len ||
		         memcmp(r->cp.origin, trust->origin, trust->origin_len) != 0) {
			add_check(r, "origin", FWC_ERR_PROOF,
			          "checkpoint is for another log (origin differs from %.*s)",
			          (int)(trust->origin_len > 100 ? 100 : trust->origin_len),
			          trust->origin);
			if (first == FWC_OK)
				first = FWC_ERR_PROOF;
		} else {
			add_check(r, "origin", FWC_OK, "as expected");
		}
	}

	if (!have_cp) {
		add_check(r, "cosignatures", FWC_ERR_STATE, skipped);
	} else {
		size_t count = 0;

		e2.msg[0] = '\0';
		rc = fwc_note_verify(r->signers, &note, trust->verifiers, trust->n_verifiers, &e2);
		if (rc >= 0) {
			for (size_t i = 0; i < trust->n_verifiers; i++)
				count += r->signers[i].valid ? 1u : 0u;
			r->n_signers = count;
			if (trust->quorum == 0 || trust->quorum > trust->n_verifiers)
				rc = FWC_ERR_ARG;
			else if (count < trust->quorum)
				rc = FWC_ERR_QUORUM;
		}
		if (rc == FWC_OK || rc == FWC_ERR_QUORUM)
			add_check(r, "cosignatures", rc,
			          "%zu of %zu trusted keys signed; %zu required", count,
			          trust->n_verifiers, trust->quorum);
		else
			add_check(r, "cosignatures", rc, "%s",
			          e2.msg[0] ? e2.msg : "bad trust configuration");
		if (rc < 0 && first == FWC_OK)
			first = rc;
	}

	if (!have_cp) {
		add_check(r, "tree size", FWC_ERR_STATE, skipped);
	} else if (b->size != r->cp.size) {
		add_check(r, "tree size", FWC_ERR_PROOF,
		          "bundle says %llu leaves, its checkpoint %llu",
		          (unsigned long long)b->size, (unsigned long long)r->cp.size);
		if (first == FWC_OK)
			first = FWC_ERR_PROOF;
	} else {
		add_check(r, "tree size", FWC_OK, "%llu", (unsigned long long)b->size);
	}

	if (!have_cp) {
		add_check(r, "inclusion", FWC_ERR_STATE, skipped);
		fwc_merkle_leaf_hash(r->leaf_hash, b->release.tx, b->release.tx_len);
	} else {
		rc = check_inclusion(r, "inclusion", &b->release, &r->cp, r->leaf_hash);
		if (rc < 0 && first == FWC_OK)
			first = rc;
	}

	if (expected_leaf != NULL) {
		if (!fwc_ct_equal(expected_leaf, r->leaf_hash, HLEN)) {
			add_check(r, "expected transaction", FWC_ERR_HASH_MISMATCH,
			          "the bundle proves another transaction than the one expected");
			if (first == FWC_OK)
				first = FWC_ERR_HASH_MISMATCH;
		} else {
			add_check(r, "expected transaction", FWC_OK, "leaf hash matches");
		}
	}

	for (size_t i = 0; i < b->n_extra; i++) {
		if (!have_cp) {
			add_check(r, extra_names[i], FWC_ERR_STATE, skipped);
			continue;
		}
		rc = check_inclusion(r, extra_names[i], &b->extra[i], &r->cp, leaf);
		if (rc < 0 && first == FWC_OK)
			first = rc;
	}

	if (first < 0) {
		for (size_t i = 0; i < r->n_checks; i++)
			if (r->checks[i].rc == first)
				return fwc_fail(ei, 0, first, "%s: %s", r->checks[i].name,
				                r->checks[i].msg);
	}
	return first;
}
