/* Trust anchors file: strict parser, canonical formatter, and the freshness rule.
 * Format: docs/formats/trust.md.
 *
 * Main design choice: the file is a fixed sequence of "keyword value" lines, and the parser is a
 * small state machine whose state is the keyword of the previous line. Every keyword lists the
 * keywords it may follow, so one table gives both the order rule and, when a line is out of
 * place, the message "line N: expected X or Y, not Z". Values never contain spaces, so a line
 * splits at its only space and a double or trailing space is an error rather than a second
 * spelling of the same file. The parser works on (pointer, remaining) pairs, needs no NUL and
 * no heap, and fills a private copy of the result that it hands over only on success. */
#include "fwchain/trust.h"

#include "fwchain/cbor.h"

#include <stdio.h>
#include <string.h>

enum kw {
	KW_NONE = 0, /* the state after the header line */
	KW_ORIGIN,
	KW_VALIDATOR,
	KW_QUORUM,
	KW_MAX_AGE,
	KW_PRODUCT,
	KW_ROOT_THRESHOLD,
	KW_ROOT_KEY,
	KW_RELEASE_THRESHOLD,
	KW_RELEASE_KEY,
	KW_END, /* pseudo keyword: the end of the file */
	KW_COUNT
};

#define B(k) (1u << (k))

/* name, and the set of keywords the line may follow. */
static const struct {
	const char *name;
	unsigned after;
} kws[KW_COUNT] = {
    [KW_NONE] = {"the header", 0},
    [KW_ORIGIN] = {"origin", B(KW_NONE)},
    [KW_VALIDATOR] = {"validator", B(KW_ORIGIN) | B(KW_VALIDATOR)},
    [KW_QUORUM] = {"quorum", B(KW_VALIDATOR)},
    [KW_MAX_AGE] = {"max-age", B(KW_QUORUM)},
    [KW_PRODUCT] = {"product", B(KW_QUORUM) | B(KW_MAX_AGE) | B(KW_ROOT_KEY) | B(KW_RELEASE_KEY)},
    [KW_ROOT_THRESHOLD] = {"root-threshold", B(KW_PRODUCT)},
    [KW_ROOT_KEY] = {"root-key", B(KW_ROOT_THRESHOLD) | B(KW_ROOT_KEY)},
    [KW_RELEASE_THRESHOLD] = {"release-threshold", B(KW_PRODUCT) | B(KW_ROOT_KEY)},
    [KW_RELEASE_KEY] = {"release-key", B(KW_RELEASE_THRESHOLD) | B(KW_RELEASE_KEY)},
    [KW_END] = {"end of file", B(KW_QUORUM) | B(KW_MAX_AGE) | B(KW_ROOT_KEY) | B(KW_RELEASE_KEY)},
};

/* "a, b or c": the keywords that may follow prev. */
static void expected_list(char *out, size_t cap, enum kw prev)
{
	size_t n = 0, count = 0, total = 0, len;
	int k;

	for (k = KW_ORIGIN; k < KW_COUNT; k++)
		total += (kws[k].after & B(prev)) != 0;
	out[0] = '\0';
	for (k = KW_ORIGIN; k < KW_COUNT && n < cap; k++) {
		if (!(kws[k].after & B(prev)))
			continue;
		count++;
		len = (size_t)snprintf(out + n, cap - n, "%s%s",
		                       count == 1       ? ""
		                       : count == total ? " or "
		                                        : ", ",
		                       kws[k].name);
		n += len;
	}
}

/* Decimal without sign or leading zeros, in [min, max]. */
static int parse_num(uint64_t *out, const char *s, size_t len, uint64_t min, uint64_t max)
{
	uint64_t v = 0;
	size_t i;

	if (len == 0 || len > 20 || (len > 1 && s[0] == '0'))
		return -1;
	for (i = 0; i < len; i++) {
		unsigned d;

		if (s[i] < '0' || s[i] > '9')
			return -1;
		d = (unsigned)(s[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	if (v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

static int id_valid(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len > FWC_TRUST_PRODUCT_MAX)
		return 0;
	for (i = 0; i < len; i++) {
		char c = s[i];
		int alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');

		if (!alnum && (i == 0 || (c != '.' && c != '_' && c != '-')))
			return 0;
	}
	return 1;
}

/* The parser's state. */
struct parser {
	struct fwc_trust *t;
	struct fwc_errinfo *ei;
	size_t line;           /* 1-based number of the current line */
	size_t line_off;       /* its offset in the text */
	size_t val_off;        /* offset of its value */
	enum kw prev;          /* keyword of the previous significant line */
	size_t threshold_line; /* line and offset of the current set's threshold */
	size_t threshold_off;
};

/* The key set the current root-/release- lines fill. */
static struct fwc_keyset *current_set(struct parser *p, int release)
{
	struct fwc_trust_product *pr = &p->t->products[p->t->n_products - 1];

	return release ? &pr->release : &pr->root;
}

/* Close the set that the previous lines filled (when they were keys): threshold <= keys. */
static int set_close(struct parser *p)
{
	const struct fwc_keyset *ks;
	const char *which;

	if (p->prev != KW_ROOT_KEY && p->prev != KW_RELEASE_KEY)
		return FWC_OK;
	ks = current_set(p, p->prev == KW_RELEASE_KEY);
	which = p->prev == KW_RELEASE_KEY ? "release" : "root";
	if (ks->threshold > ks->n)
		return fwc_fail(p->ei, p->threshold_off, FWC_ERR_RANGE,
		                "line %zu: %s-threshold %u but only %zu %s-key line%s follow",
		                p->threshold_line, which, ks->threshold, ks->n, which,
		                ks->n == 1 ? "" : "s");
	return FWC_OK;
}

/* Wrap a sub-parser's error (offset relative to the value) into this file's terms. */
static int sub_fail(struct parser *p, int rc, const struct fwc_errinfo *sub, const char *what)
{
	return fwc_fail(p->ei, p->val_off + sub->offset, rc, "line %zu: %s: %.100s", p->line, what,
	                sub->msg);
}

static int line_value(struct parser *p, enum kw k, const char *v, size_t n)
{
	struct fwc_trust *t = p->t;
	struct fwc_errinfo sub = {0};
	uint64_t num;
	size_t i;
	int rc;

	switch (k) {
	case KW_ORIGIN:
		if (n > FWC_TRUST_ORIGIN_MAX)
			return fwc_fail(p->ei, p->val_off, FWC_ERR_RANGE,
			                "line %zu: origin is %zu bytes, at most %d", p->line, n,
			                FWC_TRUST_ORIGIN_MAX);
		for (i = 0; i < n; i++)
			if ((unsigned char)v[i] < 0x21 || (unsigned char)v[i] > 0x7e)
				return fwc_fail(p->ei, p->val_off + i, FWC_ERR_MALFORMED,
				                "line %zu: origin must be printable ASCII",
				                p->line);
		t->origin = v;
		t->origin_len = n;
		return FWC_OK;
	case KW_VALIDATOR: {
		struct fwc_note_vkey *vk;

		if (t->n_validators == FWC_TRUST_MAX_VALIDATORS)
			return fwc_fail(p->ei, p->line_off, FWC_ERR_TOO_LARGE,
			                "line %zu: more than %d validators", p->line,
			                FWC_TRUST_MAX_VALIDATORS);
		vk = &t->validators[t->n_validators];
		if ((rc = fwc_note_vkey_parse(vk, v, n, &sub)) < 0)
			return sub_fail(p, rc, &sub, "validator");
		for (i = 0; i < t->n_validators; i++) {
			const struct fwc_note_vkey *o = &t->validators[i];

			if (o->name_len == vk->name_len &&
			    memcmp(o->name, vk->name, o->name_len) == 0)
				return fwc_fail(p->ei, p->val_off, FWC_ERR_DUPLICATE,
				                "line %zu: validator name %.80s is given twice",
				                p->line, vk->name);
			/* One key under two names would count twice towards the quorum. */
			if (memcmp(o->pubkey, vk->pubkey, sizeof(vk->pubkey)) == 0)
				return fwc_fail(
				    p->ei, p->val_off, FWC_ERR_DUPLICATE,
				    "line %zu: validator %.80s has the same key as %.80s", p->line,
				    vk->name, o->name);
		}
		t->n_validators++;
		return FWC_OK;
	}
	case KW_QUORUM:
		if (parse_num(&num, v, n, 1, t->n_validators) != 0)
			return fwc_fail(
			    p->ei, p->val_off, FWC_ERR_RANGE,
			    "line %zu: quorum must be 1..%zu (the number of validators)", p->line,
			    t->n_validators);
		t->quorum = (size_t)num;
		return FWC_OK;
	case KW_MAX_AGE:
		if (parse_num(&num, v, n, 1, FWC_TRUST_MAX_AGE_MAX) != 0)
			return fwc_fail(p->ei, p->val_off, FWC_ERR_RANGE,
			                "line %zu: max-age must be 1..2^63-1 seconds, in decimal",
			                p->line);
		t->max_age = num;
		return FWC_OK;
	case KW_PRODUCT: {
		struct fwc_trust_product *pr;

		if (!id_valid(v, n))
			return fwc_fail(p->ei, p->val_off, FWC_ERR_MALFORMED,
			                "line %zu: product id must be [a-z0-9][a-z0-9._-]*, 1..%d "
			                "bytes",
			                p->line, FWC_TRUST_PRODUCT_MAX);
		for (i = 0; i < t->n_products; i++)
			if (t->products[i].id_len == n && memcmp(t->products[i].id, v, n) == 0)
				return fwc_fail(p->ei, p->val_off, FWC_ERR_DUPLICATE,
				                "line %zu: product %.*s is given twice", p->line,
				                (int)n, v);
		if (t->n_products == FWC_TRUST_MAX_PRODUCTS)
			return fwc_fail(p->ei, p->line_off, FWC_ERR_TOO_LARGE,
			                "line %zu: more than %d products", p->line,
			                FWC_TRUST_MAX_PRODUCTS);
		pr = &t->products[t->n_products++];
		memset(pr, 0, sizeof(*pr));
		pr->id = v;
		pr->id_len = n;
		return FWC_OK;
	}
	case KW_ROOT_THRESHOLD:
	case KW_RELEASE_THRESHOLD: {
		int release = k == KW_RELEASE_THRESHOLD;
		struct fwc_trust_product *pr = &t->products[t->n_products - 1];

		if (parse_num(&num, v, n, 1, FWC_KEYSET_MAX) != 0)
			return fwc_fail(p->ei, p->val_off, FWC_ERR_RANGE,
			                "line %zu: %s must be 1..%d", p->line, kws[k].name,
			                FWC_KEYSET_MAX);
		current_set(p, release)->threshold = (unsigned)num;
		if (release)
			pr->has_release = 1;
		else
			pr->has_root = 1;
		p->threshold_line = p->line;
		p->threshold_off = p->val_off;
		return FWC_OK;
	}
	case KW_ROOT_KEY:
	case KW_RELEASE_KEY: {
		struct fwc_keyset *ks = current_set(p, k == KW_RELEASE_KEY);
		struct fwc_pubkey pk;

		if (ks->n == FWC_KEYSET_MAX)
			return fwc_fail(p->ei, p->line_off, FWC_ERR_TOO_LARGE,
			                "line %zu: more than %d keys in one set", p->line,
			                FWC_KEYSET_MAX);
		if ((rc = fwc_pubkey_from_text(&pk, v, n, &sub)) < 0)
			return sub_fail(p, rc, &sub, kws[k].name);
		if (fwc_keyset_find(ks, &pk) >= 0)
			return fwc_fail(p->ei, p->val_off, FWC_ERR_DUPLICATE,
			                "line %zu: this key is already in the set", p->line);
		ks->keys[ks->n] = pk;
		ks->revoked[ks->n] = 0;
		ks->n++;
		return FWC_OK;
	}
	default:
		return FWC_ERR_ARG;
	}
}

/* The order rule: may keyword k follow p->prev? */
static int order_check(struct parser *p, enum kw k, size_t off)
{
	char exp[160];

	if (kws[k].after & B(p->prev))
		return FWC_OK;
	expected_list(exp, sizeof(exp), p->prev);
	if (k == KW_END)
		return fwc_fail(p->ei, off, FWC_ERR_MISSING_FIELD, "end of file: expected %s", exp);
	return fwc_fail(p->ei, off, FWC_ERR_MALFORMED, "line %zu: expected %s, not %s", p->line,
	                exp, kws[k].name);
}

int fwc_trust_parse(struct fwc_trust *out, const char *text, size_t len, struct fwc_errinfo *ei)
{
	static const char header[] = FWC_TRUST_HEADER;
	const size_t hlen = sizeof(header) - 1;
	struct fwc_trust t;
	struct parser p;
	size_t off = 0, i, bad = 0;
	int rc;

	if (out == NULL || (text == NULL && len != 0))
		return FWC_ERR_ARG;
	if (len > FWC_TRUST_MAX_LEN)
		return fwc_fail(ei, FWC_TRUST_MAX_LEN, FWC_ERR_TOO_LARGE,
		                "trust file is %zu bytes, at most %d", len, FWC_TRUST_MAX_LEN);
	memset(&t, 0, sizeof(t));
	memset(&p, 0, sizeof(p));
	p.t = &t;
	p.ei = ei;
	p.prev = KW_NONE;
	while (off < len) {
		const char *s = text + off, *nl, *sp, *v;
		size_t n, kwlen, vlen;
		enum kw k;

		p.line++;
		p.line_off = off;
		nl = memchr(s, '\n', len - off);
		n = nl != NULL ? (size_t)(nl - s) : len - off;
		/* The header first: a file that is not a trust file at all (a binary, another
		 * format) should say so rather than report its first odd byte. */
		if (p.line == 1 && !(n == hlen && memcmp(s, header, hlen) == 0)) {
			if (n > 15 && memcmp(s, "fwchain-trust/v", 15) == 0)
				return fwc_fail(
				    ei, 0, FWC_ERR_UNSUPPORTED,
				    "unsupported trust file version '%.*s' (this reader "
				    "knows %s)",
				    (int)(n > 32 ? 32 : n), s, header);
			return fwc_fail(ei, 0, FWC_ERR_MALFORMED,
			                "not a trust file: the first line must be %s", header);
		}
		if (nl == NULL)
			return fwc_fail(ei, len, FWC_ERR_MALFORMED,
			                "line %zu does not end with a newline", p.line);
		for (i = 0; i < n; i++)
			if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
				return fwc_fail(ei, off + i, FWC_ERR_MALFORMED,
				                "line %zu: control character 0x%02x", p.line,
				                (unsigned)(unsigned char)s[i]);
		if (!fwc_utf8_valid((const uint8_t *)s, n, &bad))
			return fwc_fail(ei, off + bad, FWC_ERR_MALFORMED, "line %zu: invalid UTF-8",
			                p.line);
		off += n + 1;
		if (p.line == 1)
			continue;
		if (n == 0 || s[0] == '#')
			continue;
		sp = memchr(s, ' ', n);
		kwlen = sp != NULL ? (size_t)(sp - s) : n;
		for (k = KW_ORIGIN; k < KW_END; k++)
			if (strlen(kws[k].name) == kwlen && memcmp(kws[k].name, s, kwlen) == 0)
				break;
		if (k == KW_END)
			return fwc_fail(ei, p.line_off, FWC_ERR_UNKNOWN_FIELD,
			                "line %zu: unknown keyword '%.*s'", p.line,
			                (int)(kwlen > 32 ? 32 : kwlen), s);
		if (sp == NULL || kwlen + 1 == n)
			return fwc_fail(ei, p.line_off + n, FWC_ERR_MALFORMED,
			                "line %zu: %s needs a value", p.line, kws[k].name);
		v = sp + 1;
		vlen = n - kwlen - 1;
		p.val_off = p.line_off + kwlen + 1;
		sp = memchr(v, ' ', vlen);
		if (sp != NULL)
			return fwc_fail(ei, p.val_off + (size_t)(sp - v), FWC_ERR_MALFORMED,
			                "line %zu: one space between keyword and value, none after",
			                p.line);
		if ((rc = order_check(&p, k, p.line_off)) < 0)
			return rc;
		/* A key line continues its set; anything else first closes the set before it. */
		if (k != p.prev && (rc = set_close(&p)) < 0)
			return rc;
		if ((rc = line_value(&p, k, v, vlen)) < 0)
			return rc;
		p.prev = k;
	}
	if (p.line == 0)
		return fwc_fail(ei, 0, FWC_ERR_MALFORMED, "empty trust file");
	if ((rc = order_check(&p, KW_END, len)) < 0 || (rc = set_close(&p)) < 0)
		return rc;
	*out = t;
	return FWC_OK;
}

/* ---- formatting ---- */

struct out {
	char *p;
	size_t cap, n;
};

static void put(struct out *o, const char *s, size_t len)
{
	if (o->n + len < o->cap)
		memcpy(o->p + o->n, s, len);
	o->n += len;
}

static void put_line(struct out *o, const char *kw, const char *v, size_t vlen)
{
	put(o, kw, strlen(kw));
	put(o, " ", 1);
	put(o, v, vlen);
	put(o, "\n", 1);
}

static void put_num(struct out *o, const char *kw, uint64_t v)
{
	char b[24];
	int n = snprintf(b, sizeof(b), "%llu", (unsigned long long)v);

	put_line(o, kw, b, (size_t)n);
}

static int put_set(struct out *o, const char *thr_kw, const char *key_kw,
                   const struct fwc_keyset *ks)
{
	char text[FWC_PUBKEY_TEXT_MAX];
	size_t i;
	int rc;

	if (ks->n > FWC_KEYSET_MAX)
		return FWC_ERR_TOO_LARGE;
	put_num(o, thr_kw, ks->threshold);
	for (i = 0; i < ks->n; i++) {
		if (ks->revoked[i])
			return FWC_ERR_ARG;
		if ((rc = fwc_pubkey_to_text(text, sizeof(text), &ks->keys[i])) < 0)
			return rc;
		put_line(o, key_kw, text, strlen(text));
	}
	return FWC_OK;
}

int fwc_trust_format(char *out, size_t cap, size_t *outlen, const struct fwc_trust *t,
                     struct fwc_errinfo *ei)
{
	struct out o = {out, out != NULL ? cap : 0, 0};
	char vk[FWC_NOTE_VKEY_TEXT_MAX];
	struct fwc_trust back;
	size_t i;
	int rc;

	if (t == NULL || (out == NULL && cap != 0) || (t->origin == NULL && t->origin_len != 0))
		return FWC_ERR_ARG;
	if (t->n_validators > FWC_TRUST_MAX_VALIDATORS || t->n_products > FWC_TRUST_MAX_PRODUCTS ||
	    t->origin_len > FWC_TRUST_ORIGIN_MAX)
		return FWC_ERR_RANGE;
	put(&o, FWC_TRUST_HEADER "\n", sizeof(FWC_TRUST_HEADER));
	put_line(&o, "origin", t->origin, t->origin_len);
	for (i = 0; i < t->n_validators; i++) {
		if ((rc = fwc_note_vkey_format(vk, sizeof(vk), &t->validators[i])) < 0)
			return rc;
		put_line(&o, "validator", vk, strlen(vk));
	}
	put_num(&o, "quorum", t->quorum);
	if (t->max_age != 0)
		put_num(&o, "max-age", t->max_age);
	for (i = 0; i < t->n_products; i++) {
		const struct fwc_trust_product *pr = &t->products[i];

		if (pr->id == NULL || pr->id_len > FWC_TRUST_PRODUCT_MAX)
			return FWC_ERR_ARG;
		put_line(&o, "product", pr->id, pr->id_len);
		if (pr->has_root && (rc = put_set(&o, "root-threshold", "root-key", &pr->root)) < 0)
			return rc;
		if (pr->has_release &&
		    (rc = put_set(&o, "release-threshold", "release-key", &pr->release)) < 0)
			return rc;
	}
	if (outlen != NULL)
		*outlen = o.n;
	if (o.n >= o.cap)
		return FWC_ERR_BUFSIZE;
	out[o.n] = '\0';
	/* What this writes, the parser must accept: a struct that breaks a rule (quorum 0, a
	 * product without key sets, a threshold above its keys, ...) is refused here. */
	if ((rc = fwc_trust_parse(&back, out, o.n, ei)) < 0) {
		out[0] = '\0';
		return rc;
	}
	return FWC_OK;
}

/* ---- queries ---- */

const struct fwc_trust_product *fwc_trust_product_find(const struct fwc_trust *t, const char *id,
                                                       size_t id_len)
{
	size_t i;

	if (t == NULL || id == NULL)
		return NULL;
	for (i = 0; i < t->n_products; i++)
		if (t->products[i].id_len == id_len && memcmp(t->products[i].id, id, id_len) == 0)
			return &t->products[i];
	return NULL;
}

void fwc_trust_bundle_trust(struct fwc_bundle_trust *bt, const struct fwc_trust *t)
{
	bt->verifiers = t->validators;
	bt->n_verifiers = t->n_validators;
	bt->quorum = t->quorum;
	bt->origin = t->origin;
	bt->origin_len = t->origin_len;
}

int fwc_trust_check_fresh(uint64_t *age, const struct fwc_trust *t,
                          const struct fwc_note_check *signers, size_t n_signers, uint64_t now,
                          struct fwc_errinfo *ei)
{
	uint64_t ts[FWC_TRUST_MAX_VALIDATORS], x, a;
	size_t n = 0, i, j;

	if (t == NULL || signers == NULL || n_signers != t->n_validators ||
	    n_signers > FWC_TRUST_MAX_VALIDATORS || t->quorum == 0)
		return FWC_ERR_ARG;
	/* Newest first (insertion sort: at most FWC_TRUST_MAX_VALIDATORS entries). */
	for (i = 0; i < n_signers; i++) {
		if (!signers[i].valid)
			continue;
		x = signers[i].timestamp;
		for (j = n; j > 0 && ts[j - 1] < x; j--)
			ts[j] = ts[j - 1];
		ts[j] = x;
		n++;
	}
	if (n < t->quorum)
		return fwc_fail(ei, 0, FWC_ERR_QUORUM,
		                "%zu of %zu validators cosigned the checkpoint; %zu required", n,
		                t->n_validators, t->quorum);
	x = ts[t->quorum - 1];
	a = now > x ? now - x : 0;
	if (t->max_age != 0 && a > t->max_age) {
		if (age != NULL)
			*age = a;
		return fwc_fail(ei, 0, FWC_ERR_STALE,
		                "checkpoint is %llu s old (cosigned by a quorum at %llu), at most "
		                "%llu s allowed",
		                (unsigned long long)a, (unsigned long long)x,
		                (unsigned long long)t->max_age);
	}
	if (age != NULL)
		*age = a;
	return FWC_OK;
}
