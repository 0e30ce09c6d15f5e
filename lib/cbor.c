/* Deterministic CBOR: a shortest-form encoder and a strict zero-copy pull decoder.
 *
 * The decoder accepts exactly the encodings the encoder produces and nothing else, so
 * "decodes" implies "re-encodes to the same bytes" and a signature over the bytes is a
 * signature over the meaning. All checks happen at each item's head, before its payload is
 * looked at: a head that is not in shortest form, an indefinite length, a tag, a float, a
 * string or container larger than the caller's limit or than the bytes left is refused right
 * there with the offset of that head. Containers are tracked on a fixed stack of
 * FWC_CBOR_MAX_DEPTH levels counting the entries still to read, so a container closes by
 * itself after its last entry and the decoder needs neither recursion nor heap. Map key order
 * is checked by comparing each key's encoding with the previous key's, both still in the input
 * buffer (keys are restricted to integers and strings, whose encodings end with the item). */
#include "fwchain/cbor.h"

#include <string.h>

/* ---------------------------------------------------------------------------------------- */
/* Encoder                                                                                  */

void fwc_cbor_enc_init(struct fwc_cbor_enc *enc, uint8_t *buf, size_t cap)
{
	enc->buf = buf;
	enc->cap = buf != NULL ? cap : 0;
	enc->len = 0;
	enc->err = FWC_OK;
}

static void put_bytes_raw(struct fwc_cbor_enc *enc, const void *p, size_t n)
{
	if (enc->err == FWC_OK && enc->buf != NULL) {
		if (n > enc->cap - enc->len) {
			enc->err = FWC_ERR_BUFSIZE;
		} else if (n > 0) {
			memcpy(enc->buf + enc->len, p, n);
		}
	}
	/* Saturate rather than wrap so a caller measuring absurd sizes never sees a small one. */
	enc->len = n > SIZE_MAX - enc->len ? SIZE_MAX : enc->len + n;
}

size_t fwc_cbor_head_size(uint64_t v)
{
	if (v < 24)
		return 1;
	if (v <= 0xff)
		return 2;
	if (v <= 0xffff)
		return 3;
	if (v <= 0xffffffffu)
		return 5;
	return 9;
}

static void put_head(struct fwc_cbor_enc *enc, unsigned major, uint64_t v)
{
	uint8_t h[9];
	size_t n = fwc_cbor_head_size(v);

	switch (n) {
	case 1:
		h[0] = (uint8_t)(major << 5 | v);
		break;
	case 2:
		h[0] = (uint8_t)(major << 5 | 24);
		break;
	case 3:
		h[0] = (uint8_t)(major << 5 | 25);
		break;
	case 5:
		h[0] = (uint8_t)(major << 5 | 26);
		break;
	default:
		h[0] = (uint8_t)(major << 5 | 27);
		break;
	}
	for (size_t i = 1; i < n; i++)
		h[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
	put_bytes_raw(enc, h, n);
}

void fwc_cbor_put_uint(struct fwc_cbor_enc *enc, uint64_t v)
{
	put_head(enc, 0, v);
}

void fwc_cbor_put_nint(struct fwc_cbor_enc *enc, uint64_t n)
{
	put_head(enc, 1, n);
}

void fwc_cbor_put_int(struct fwc_cbor_enc *enc, int64_t v)
{
	if (v >= 0)
		put_head(enc, 0, (uint64_t)v);
	else /* -1 - v without overflow: ~v as unsigned */
		put_head(enc, 1, ~(uint64_t)v);
}

void fwc_cbor_put_bytes(struct fwc_cbor_enc *enc, const void *p, size_t len)
{
	put_head(enc, 2, len);
	put_bytes_raw(enc, p, len);
}

void fwc_cbor_put_text(struct fwc_cbor_enc *enc, const char *p, size_t len)
{
	put_head(enc, 3, len);
	put_bytes_raw(enc, p, len);
}

void fwc_cbor_put_array(struct fwc_cbor_enc *enc, uint64_t n)
{
	put_head(enc, 4, n);
}

void fwc_cbor_put_map(struct fwc_cbor_enc *enc, uint64_t n)
{
	put_head(enc, 5, n);
}

void fwc_cbor_put_bool(struct fwc_cbor_enc *enc, int v)
{
	uint8_t b = v ? 0xf5 : 0xf4;
	put_bytes_raw(enc, &b, 1);
}

void fwc_cbor_put_null(struct fwc_cbor_enc *enc)
{
	uint8_t b = 0xf6;
	put_bytes_raw(enc, &b, 1);
}

void fwc_cbor_put_raw(struct fwc_cbor_enc *enc, const void *p, size_t len)
{
	put_bytes_raw(enc, p, len);
}

int fwc_cbor_enc_finish(const struct fwc_cbor_enc *enc, size_t *len)
{
	if (len != NULL)
		*len = enc->len;
	return enc->err;
}

/* ---------------------------------------------------------------------------------------- */
/* UTF-8                                                                                    */

int fwc_utf8_valid(const uint8_t *s, size_t len, size_t *bad)
{
	size_t i = 0;

	while (i < len) {
		uint8_t c = s[i];
		size_t need;
		uint32_t cp;
		uint32_t min;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			need = 1;
			cp = c & 0x1f;
			min = 0x80;
		} else if (c >= 0xe0 && c <= 0xef) {
			need = 2;
			cp = c & 0x0f;
			min = 0x800;
		} else if (c >= 0xf0 && c <= 0xf4) {
			need = 3;
			cp = c & 0x07;
			min = 0x10000;
		} else {
			goto bad; /* continuation byte, overlong lead 0xc0/0xc1, or > U+10FFFF lead
			           */
		}
		if (need > len - i - 1)
			goto bad;
		for (size_t k = 1; k <= need; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				goto bad;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			goto bad;
		i += need + 1;
	}
	return 1;
bad:
	if (bad != NULL)
		*bad = i;
	return 0;
}

/* ---------------------------------------------------------------------------------------- */
/* Decoder                                                                                  */

void fwc_cbor_dec_init(struct fwc_cbor_dec *dec, const uint8_t *buf, size_t len, size_t max_item,
                       struct fwc_errinfo *ei)
{
	memset(dec, 0, sizeof(*dec));
	dec->buf = buf;
	dec->len = buf != NULL ? len : 0;
	dec->max_item = max_item;
	dec->ei = ei;
}

static int set_err(struct fwc_cbor_dec *d, int code)
{
	d->err = code;
	return code;
}

/* Report a refusal at byte off: remember it in the decoder and fill its errinfo. fmt must be a
 * string literal: the "cbor: " prefix is joined to it at compile time, so this file does no
 * formatting of its own (fwc_fail does it, or, in the device agent, skips it). */
#define fail(d, off, code, ...) set_err((d), fwc_fail((d)->ei, (off), (code), "cbor: " __VA_ARGS__))

static const char *type_name(int t)
{
	static const char *const names[] = {"unsigned integer",
	                                    "negative integer",
	                                    "byte string",
	                                    "text string",
	                                    "array",
	                                    "map",
	                                    "bool",
	                                    "null"};
	return t >= 0 && t <= FWC_CBOR_NULL ? names[t] : "item";
}

/* A checked head: its type, argument, head length, and where the whole item ends (for
 * scalars) or where its entries start (containers). */
struct head {
	int type;
	uint64_t arg;
	size_t hlen;
};

static int at_key(const struct fwc_cbor_dec *d)
{
	const struct fwc_cbor_level *l;

	if (d->depth == 0)
		return 0;
	l = &d->stack[d->depth - 1];
	return l->is_map && l->left % 2 == 0;
}

/* Parse and check the head at d->pos without consuming anything. */
static int read_head(struct fwc_cbor_dec *d, struct head *h)
{
	size_t off = d->pos, rest, n;
	uint8_t ib;
	unsigned major, ai;
	uint64_t v = 0;

	if (d->err != FWC_OK)
		return d->err;
	if (d->done)
		return fwc_fail(d->ei, off, FWC_ERR_STATE,
		                "cbor: read past the end of the top-level item");
	if (off >= d->len)
		return fail(d, off, FWC_ERR_TRUNCATED, "input ends where an item should start");
	rest = d->len - off;
	ib = d->buf[off];
	major = ib >> 5;
	ai = ib & 0x1f;

	if (ai == 31) {
		if (major >= 2 && major <= 5)
			return fail(d, off, FWC_ERR_INDEFINITE,
			            "indefinite-length %s (initial byte 0x%02x)",
			            type_name((int)major), ib);
		if (major == 7)
			return fail(d, off, FWC_ERR_MALFORMED,
			            "break code 0xff outside an indefinite-length item");
		return fail(d, off, FWC_ERR_MALFORMED,
		            "invalid additional information 31 for major type %u", major);
	}
	if (ai >= 28)
		return fail(d, off, FWC_ERR_MALFORMED, "reserved additional information %u", ai);
	if (major == 6)
		return fail(d, off, FWC_ERR_UNSUPPORTED, "tags are not supported (0x%02x)", ib);
	if (major == 7) {
		if (ai >= 25)
			return fail(d, off, FWC_ERR_UNSUPPORTED,
			            "floating-point values are not supported (0x%02x)", ib);
		if (ai < 20 || ai > 22)
			return fail(d, off, FWC_ERR_UNSUPPORTED,
			            "simple value other than false/true/null (0x%02x)", ib);
		h->type = ai == 22 ? FWC_CBOR_NULL : FWC_CBOR_BOOL;
		h->arg = ai == 21;
		h->hlen = 1;
		if (at_key(d))
			return fail(d, off, FWC_ERR_UNSUPPORTED,
			            "map key must be an integer or a string, not %s",
			            type_name(h->type));
		return FWC_OK;
	}

	n = ai < 24 ? 0 : (size_t)1 << (ai - 24);
	if (n > rest - 1)
		return fail(d, off, FWC_ERR_TRUNCATED, "input ends inside a %zu-byte head", n + 1);
	if (n == 0)
		v = ai;
	for (size_t i = 0; i < n; i++)
		v = v << 8 | d->buf[off + 1 + i];
	if (n > 0 && fwc_cbor_head_size(v) != n + 1)
		return fail(d, off, FWC_ERR_NONCANONICAL,
		            "value %llu encoded in %zu bytes instead of %zu", (unsigned long long)v,
		            n + 1, fwc_cbor_head_size(v));
	h->type = (int)major;
	h->arg = v;
	h->hlen = n + 1;
	rest -= h->hlen;

	if (major >= 4 && at_key(d))
		return fail(d, off, FWC_ERR_UNSUPPORTED,
		            "map key must be an integer or a string, not %s", type_name(h->type));
	if (major == 2 || major == 3) {
		if (v > d->max_item)
			return fail(d, off, FWC_ERR_TOO_LARGE, "%s of %llu bytes exceeds limit %zu",
			            type_name(h->type), (unsigned long long)v, d->max_item);
		if (v > rest)
			return fail(d, off, FWC_ERR_TRUNCATED,
			            "%s of %llu bytes but only %zu bytes left", type_name(h->type),
			            (unsigned long long)v, rest);
	} else if (major == 4 || major == 5) {
		if (d->depth >= FWC_CBOR_MAX_DEPTH)
			return fail(d, off, FWC_ERR_TOO_DEEP, "more than %d nested containers",
			            FWC_CBOR_MAX_DEPTH);
		if (v > d->max_item)
			return fail(d, off, FWC_ERR_TOO_LARGE,
			            "%s of %llu entries exceeds limit %zu", type_name(h->type),
			            (unsigned long long)v, d->max_item);
		/* Every entry takes at least one byte: refuse impossible counts up front so no
		 * loop ever runs on a count the input cannot hold. */
		if (v > rest || (major == 5 && v > rest / 2))
			return fail(d, off, FWC_ERR_TRUNCATED,
			            "%s of %llu entries cannot fit in the %zu bytes left",
			            type_name(h->type), (unsigned long long)v, rest);
	}
	return FWC_OK;
}

/* Count one item of the current level as read, closing every level that is now complete. */
static void count_item(struct fwc_cbor_dec *d)
{
	if (d->depth == 0) {
		d->done = 1;
		return;
	}
	d->stack[d->depth - 1].left--;
	while (d->depth > 0 && d->stack[d->depth - 1].left == 0)
		d->depth--;
	if (d->depth == 0)
		d->done = 1;
}

/* When the item at [start, end) is a map key, check it against the previous key. */
static int check_key(struct fwc_cbor_dec *d, size_t start, size_t end)
{
	struct fwc_cbor_level *l;
	size_t klen = end - start;

	if (!at_key(d))
		return FWC_OK;
	l = &d->stack[d->depth - 1];
	if (l->have_key) {
		size_t m = l->key_len < klen ? l->key_len : klen;
		int c = memcmp(d->buf + l->key_off, d->buf + start, m);

		if (c == 0 && l->key_len == klen)
			return fail(d, start, FWC_ERR_DUPLICATE,
			            "duplicate map key (same as the key at byte %zu)", l->key_off);
		if (c > 0 || (c == 0 && l->key_len > klen))
			return fail(d, start, FWC_ERR_UNSORTED,
			            "map key sorts before the previous key at byte %zu",
			            l->key_off);
	}
	l->key_off = start;
	l->key_len = klen;
	l->have_key = 1;
	return FWC_OK;
}

/* Read one item of type `want` (or any type when want < 0): head checks, payload checks, key
 * order, then consume it (scalars) or enter it (containers). */
static int read_item(struct fwc_cbor_dec *d, int want, struct head *h)
{
	size_t start = d->pos, end;
	int rc = read_head(d, h);

	if (rc != FWC_OK)
		return rc;
	if (want >= 0 && h->type != want)
		return fail(d, start, FWC_ERR_TYPE, "expected %s, found %s", type_name(want),
		            type_name(h->type));
	if (h->type == FWC_CBOR_ARRAY || h->type == FWC_CBOR_MAP) {
		d->pos = start + h->hlen;
		if (h->arg == 0) {
			count_item(d);
		} else {
			struct fwc_cbor_level *l;

			if (d->depth > 0)
				d->stack[d->depth - 1].left--; /* the child keeps the parent open */
			l = &d->stack[d->depth++];
			l->left = h->type == FWC_CBOR_MAP ? 2 * h->arg : h->arg;
			l->is_map = h->type == FWC_CBOR_MAP;
			l->have_key = 0;
			l->key_off = 0;
			l->key_len = 0;
		}
		return FWC_OK;
	}
	end = start + h->hlen;
	if (h->type == FWC_CBOR_BYTES || h->type == FWC_CBOR_TEXT)
		end += (size_t)h->arg;
	if (h->type == FWC_CBOR_TEXT) {
		size_t bad = 0;

		if (!fwc_utf8_valid(d->buf + start + h->hlen, (size_t)h->arg, &bad))
			return fail(d, start + h->hlen + bad, FWC_ERR_MALFORMED,
			            "text string is not valid UTF-8");
	}
	rc = check_key(d, start, end);
	if (rc != FWC_OK)
		return rc;
	d->pos = end;
	count_item(d);
	return FWC_OK;
}

int fwc_cbor_get_uint(struct fwc_cbor_dec *dec, uint64_t *v)
{
	struct head h;
	int rc = read_item(dec, FWC_CBOR_UINT, &h);

	if (rc == FWC_OK)
		*v = h.arg;
	return rc;
}

int fwc_cbor_get_nint(struct fwc_cbor_dec *dec, uint64_t *n)
{
	struct head h;
	int rc = read_item(dec, FWC_CBOR_NINT, &h);

	if (rc == FWC_OK)
		*n = h.arg;
	return rc;
}

int fwc_cbor_get_int(struct fwc_cbor_dec *dec, int64_t *v)
{
	struct head h;
	size_t start = dec->pos;
	int rc = read_head(dec, &h);

	if (rc != FWC_OK)
		return rc;
	if (h.type != FWC_CBOR_UINT && h.type != FWC_CBOR_NINT)
		return fail(dec, start, FWC_ERR_TYPE, "expected integer, found %s",
		            type_name(h.type));
	if (h.arg > INT64_MAX)
		return fail(dec, start, FWC_ERR_RANGE, "integer does not fit in 64 signed bits");
	rc = read_item(dec, h.type, &h);
	if (rc == FWC_OK)
		*v = h.type == FWC_CBOR_UINT ? (int64_t)h.arg : -1 - (int64_t)h.arg;
	return rc;
}

static int get_string(struct fwc_cbor_dec *d, int type, const uint8_t **p, size_t *len)
{
	struct head h;
	size_t start = d->pos;
	int rc = read_item(d, type, &h);

	if (rc == FWC_OK) {
		*p = d->buf + start + h.hlen;
		*len = (size_t)h.arg;
	}
	return rc;
}

int fwc_cbor_get_bytes(struct fwc_cbor_dec *dec, const uint8_t **p, size_t *len)
{
	return get_string(dec, FWC_CBOR_BYTES, p, len);
}

int fwc_cbor_get_text(struct fwc_cbor_dec *dec, const char **p, size_t *len)
{
	const uint8_t *q;
	int rc = get_string(dec, FWC_CBOR_TEXT, &q, len);

	if (rc == FWC_OK)
		*p = (const char *)q;
	return rc;
}

int fwc_cbor_get_array(struct fwc_cbor_dec *dec, uint64_t *n)
{
	struct head h;
	int rc = read_item(dec, FWC_CBOR_ARRAY, &h);

	if (rc == FWC_OK)
		*n = h.arg;
	return rc;
}

int fwc_cbor_get_map(struct fwc_cbor_dec *dec, uint64_t *n)
{
	struct head h;
	int rc = read_item(dec, FWC_CBOR_MAP, &h);

	if (rc == FWC_OK)
		*n = h.arg;
	return rc;
}

int fwc_cbor_get_bool(struct fwc_cbor_dec *dec, int *v)
{
	struct head h;
	int rc = read_item(dec, FWC_CBOR_BOOL, &h);

	if (rc == FWC_OK)
		*v = (int)h.arg;
	return rc;
}

int fwc_cbor_get_null(struct fwc_cbor_dec *dec)
{
	struct head h;
	return read_item(dec, FWC_CBOR_NULL, &h);
}

int fwc_cbor_peek(struct fwc_cbor_dec *dec, enum fwc_cbor_type *type)
{
	struct head h;
	int rc = read_head(dec, &h);

	if (rc == FWC_OK)
		*type = (enum fwc_cbor_type)h.type;
	return rc;
}

int fwc_cbor_skip(struct fwc_cbor_dec *dec, size_t *start, size_t *len)
{
	size_t s = dec->pos;
	unsigned base = dec->depth;
	struct head h;
	int rc;

	/* Each pass consumes at least one byte, so the loop ends within dec->len passes. */
	do {
		rc = read_item(dec, -1, &h);
		if (rc != FWC_OK)
			return rc;
	} while (dec->depth > base);
	if (start != NULL)
		*start = s;
	if (len != NULL)
		*len = dec->pos - s;
	return FWC_OK;
}

int fwc_cbor_finish(struct fwc_cbor_dec *dec)
{
	if (dec->err != FWC_OK)
		return dec->err;
	if (!dec->done)
		return fail(dec, dec->pos, FWC_ERR_TRUNCATED,
		            "the top-level item was not read to its end");
	if (dec->pos < dec->len)
		return fail(dec, dec->pos, FWC_ERR_TRAILING, "%zu bytes after the item",
		            dec->len - dec->pos);
	return FWC_OK;
}

int fwc_cbor_validate(const uint8_t *buf, size_t len, size_t max_item, struct fwc_errinfo *ei)
{
	struct fwc_cbor_dec d;
	int rc;

	if (buf == NULL && len != 0)
		return FWC_ERR_ARG;
	fwc_cbor_dec_init(&d, buf, len, max_item, ei);
	rc = fwc_cbor_skip(&d, NULL, NULL);
	if (rc == FWC_OK)
		rc = fwc_cbor_finish(&d);
	return rc;
}
