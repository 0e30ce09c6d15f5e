/* Tests lib/cbor.c: the RFC 8949 Appendix A examples that fall inside our profile (encoded by
 * the encoder and decoded back), the Appendix A examples outside it (floats, tags, simple
 * values, indefinite lengths) and the Appendix F malformed examples refused with their precise
 * codes, plus every rejection rule of docs/formats/cbor.md with its byte offset. */
#include "test.h"

#include "fwchain/cbor.h"
#include "fwchain/err.h"

#include <stdint.h>

#define BIG ((size_t)-1)

/* Hex to bytes, ignoring spaces (which group the examples for the reader). */
static size_t unhex(uint8_t *out, size_t cap, const char *hex)
{
	char clean[256];
	size_t j = 0;

	for (; *hex && j + 1 < sizeof(clean); hex++)
		if (*hex != ' ')
			clean[j++] = *hex;
	clean[j] = '\0';
	return test_unhex(out, cap, clean);
}

static int enc_is(const struct fwc_cbor_enc *e, const char *hex)
{
	uint8_t want[128];
	size_t n = unhex(want, sizeof(want), hex);

	return e->err == FWC_OK && e->len == n && memcmp(e->buf, want, n) == 0;
}

/* Re-encode whatever the decoder reads, item by item, into enc (a canonical copy). */
static int copy_item(struct fwc_cbor_dec *d, struct fwc_cbor_enc *e, unsigned depth)
{
	enum fwc_cbor_type t;
	uint64_t u, n;
	const uint8_t *p;
	const char *s;
	size_t len;
	int b, rc = fwc_cbor_peek(d, &t);

	if (rc != FWC_OK)
		return rc;
	switch (t) {
	case FWC_CBOR_UINT:
		if ((rc = fwc_cbor_get_uint(d, &u)) == FWC_OK)
			fwc_cbor_put_uint(e, u);
		return rc;
	case FWC_CBOR_NINT:
		if ((rc = fwc_cbor_get_nint(d, &u)) == FWC_OK)
			fwc_cbor_put_nint(e, u);
		return rc;
	case FWC_CBOR_BYTES:
		if ((rc = fwc_cbor_get_bytes(d, &p, &len)) == FWC_OK)
			fwc_cbor_put_bytes(e, p, len);
		return rc;
	case FWC_CBOR_TEXT:
		if ((rc = fwc_cbor_get_text(d, &s, &len)) == FWC_OK)
			fwc_cbor_put_text(e, s, len);
		return rc;
	case FWC_CBOR_BOOL:
		if ((rc = fwc_cbor_get_bool(d, &b)) == FWC_OK)
			fwc_cbor_put_bool(e, b);
		return rc;
	case FWC_CBOR_NULL:
		if ((rc = fwc_cbor_get_null(d)) == FWC_OK)
			fwc_cbor_put_null(e);
		return rc;
	case FWC_CBOR_ARRAY:
	case FWC_CBOR_MAP:
		rc = t == FWC_CBOR_ARRAY ? fwc_cbor_get_array(d, &n) : fwc_cbor_get_map(d, &n);
		if (rc != FWC_OK)
			return rc;
		if (t == FWC_CBOR_ARRAY)
			fwc_cbor_put_array(e, n);
		else
			fwc_cbor_put_map(e, n);
		if (t == FWC_CBOR_MAP)
			n *= 2;
		for (uint64_t i = 0; i < n; i++)
			if ((rc = copy_item(d, e, depth + 1)) != FWC_OK)
				return rc;
		return FWC_OK;
	}
	return FWC_ERR_ARG;
}

/* Decode hex completely; FWC_OK only when the canonical re-encoding equals the input. */
static int roundtrip(const char *hex, size_t max_item, struct fwc_errinfo *ei)
{
	uint8_t in[128], out[128];
	size_t n = unhex(in, sizeof(in), hex);
	struct fwc_cbor_dec d;
	struct fwc_cbor_enc e;
	int rc;

	fwc_cbor_dec_init(&d, in, n, max_item, ei);
	fwc_cbor_enc_init(&e, out, sizeof(out));
	rc = copy_item(&d, &e, 0);
	if (rc == FWC_OK)
		rc = fwc_cbor_finish(&d);
	if (rc != FWC_OK)
		return rc;
	if (e.err != FWC_OK || e.len != n || memcmp(in, out, n) != 0)
		return 1; /* decoded but not byte-identical: a bug */
	/* validate must agree with the full decode */
	return fwc_cbor_validate(in, n, max_item, NULL);
}

static void test_appendix_a_encode(void)
{
	uint8_t buf[128];
	struct fwc_cbor_enc e;

#define ENC(stmt, hex)                                                                             \
	do {                                                                                       \
		fwc_cbor_enc_init(&e, buf, sizeof(buf));                                           \
		stmt;                                                                              \
		CHECK(enc_is(&e, hex));                                                            \
	} while (0)

	ENC(fwc_cbor_put_uint(&e, 0), "00");
	ENC(fwc_cbor_put_uint(&e, 1), "01");
	ENC(fwc_cbor_put_uint(&e, 10), "0a");
	ENC(fwc_cbor_put_uint(&e, 23), "17");
	ENC(fwc_cbor_put_uint(&e, 24), "1818");
	ENC(fwc_cbor_put_uint(&e, 25), "1819");
	ENC(fwc_cbor_put_uint(&e, 100), "1864");
	ENC(fwc_cbor_put_uint(&e, 1000), "1903e8");
	ENC(fwc_cbor_put_uint(&e, 1000000), "1a000f4240");
	ENC(fwc_cbor_put_uint(&e, 1000000000000ull), "1b000000e8d4a51000");
	ENC(fwc_cbor_put_uint(&e, UINT64_MAX), "1bffffffffffffffff");
	ENC(fwc_cbor_put_nint(&e, UINT64_MAX), "3bffffffffffffffff"); /* -18446744073709551616 */
	ENC(fwc_cbor_put_int(&e, -1), "20");
	ENC(fwc_cbor_put_int(&e, -10), "29");
	ENC(fwc_cbor_put_int(&e, -100), "3863");
	ENC(fwc_cbor_put_int(&e, -1000), "3903e7");
	ENC(fwc_cbor_put_int(&e, 1000), "1903e8");
	ENC(fwc_cbor_put_int(&e, INT64_MIN), "3b7fffffffffffffff");
	ENC(fwc_cbor_put_bool(&e, 0), "f4");
	ENC(fwc_cbor_put_bool(&e, 1), "f5");
	ENC(fwc_cbor_put_null(&e), "f6");
	ENC(fwc_cbor_put_bytes(&e, NULL, 0), "40");
	ENC(fwc_cbor_put_bytes(&e, "\x01\x02\x03\x04", 4), "4401020304");
	ENC(fwc_cbor_put_text(&e, "", 0), "60");
	ENC(fwc_cbor_put_text(&e, "a", 1), "6161");
	ENC(fwc_cbor_put_text(&e, "IETF", 4), "6449455446");
	ENC(fwc_cbor_put_text(&e, "\"\\", 2), "62225c");
	ENC(fwc_cbor_put_text(&e, "\xc3\xbc", 2), "62c3bc");
	ENC(fwc_cbor_put_text(&e, "\xe6\xb0\xb4", 3), "63e6b0b4");
	ENC(fwc_cbor_put_text(&e, "\xf0\x90\x85\x91", 4), "64f0908591");
	ENC(fwc_cbor_put_array(&e, 0), "80");
	ENC((fwc_cbor_put_array(&e, 3), fwc_cbor_put_uint(&e, 1), fwc_cbor_put_uint(&e, 2),
	     fwc_cbor_put_uint(&e, 3)),
	    "83010203");
	ENC((fwc_cbor_put_array(&e, 3), fwc_cbor_put_uint(&e, 1), fwc_cbor_put_array(&e, 2),
	     fwc_cbor_put_uint(&e, 2), fwc_cbor_put_uint(&e, 3), fwc_cbor_put_array(&e, 2),
	     fwc_cbor_put_uint(&e, 4), fwc_cbor_put_uint(&e, 5)),
	    "8301820203820405");
	fwc_cbor_enc_init(&e, buf, sizeof(buf));
	fwc_cbor_put_array(&e, 25);
	for (uint64_t i = 1; i <= 25; i++)
		fwc_cbor_put_uint(&e, i);
	CHECK(enc_is(&e, "98190102030405060708090a0b0c0d0e0f101112131415161718181819"));
	ENC(fwc_cbor_put_map(&e, 0), "a0");
	ENC((fwc_cbor_put_map(&e, 2), fwc_cbor_put_uint(&e, 1), fwc_cbor_put_uint(&e, 2),
	     fwc_cbor_put_uint(&e, 3), fwc_cbor_put_uint(&e, 4)),
	    "a201020304");
	ENC((fwc_cbor_put_map(&e, 2), fwc_cbor_put_text(&e, "a", 1), fwc_cbor_put_uint(&e, 1),
	     fwc_cbor_put_text(&e, "b", 1), fwc_cbor_put_array(&e, 2), fwc_cbor_put_uint(&e, 2),
	     fwc_cbor_put_uint(&e, 3)),
	    "a26161016162820203");
	ENC((fwc_cbor_put_array(&e, 2), fwc_cbor_put_text(&e, "a", 1), fwc_cbor_put_map(&e, 1),
	     fwc_cbor_put_text(&e, "b", 1), fwc_cbor_put_text(&e, "c", 1)),
	    "826161a161626163");
#undef ENC
}

static void test_appendix_a_decode(void)
{
	static const char *const ok[] = {
	    "00",
	    "01",
	    "0a",
	    "17",
	    "1818",
	    "1819",
	    "1864",
	    "1903e8",
	    "1a000f4240",
	    "1b000000e8d4a51000",
	    "1bffffffffffffffff",
	    "3bffffffffffffffff",
	    "20",
	    "29",
	    "3863",
	    "3903e7",
	    "f4",
	    "f5",
	    "f6",
	    "40",
	    "4401020304",
	    "60",
	    "6161",
	    "6449455446",
	    "62225c",
	    "62c3bc",
	    "63e6b0b4",
	    "64f0908591",
	    "80",
	    "83010203",
	    "8301820203820405",
	    "98190102030405060708090a0b0c0d0e0f101112131415161718181819",
	    "a0",
	    "a201020304",
	    "a26161016162820203",
	    "826161a161626163",
	    "a56161614161626142616361436164614461656145",
	};
	uint8_t in[64];
	struct fwc_cbor_dec d;
	uint64_t u;
	int64_t i;
	const char *s;
	const uint8_t *p;
	size_t len;

	for (size_t k = 0; k < sizeof(ok) / sizeof(ok[0]); k++) {
		int rc = roundtrip(ok[k], BIG, NULL);
		if (rc != FWC_OK)
			fprintf(stderr, "appendix A example %s: %d\n", ok[k], rc);
		CHECK_RC(rc, FWC_OK);
	}

	/* values, not just bytes */
	len = unhex(in, sizeof(in), "1b000000e8d4a51000");
	fwc_cbor_dec_init(&d, in, len, BIG, NULL);
	CHECK_RC(fwc_cbor_get_uint(&d, &u), FWC_OK);
	CHECK(u == 1000000000000ull);
	CHECK_RC(fwc_cbor_finish(&d), FWC_OK);

	len = unhex(in, sizeof(in), "3903e7");
	fwc_cbor_dec_init(&d, in, len, BIG, NULL);
	CHECK_RC(fwc_cbor_get_int(&d, &i), FWC_OK);
	CHECK(i == -1000);

	len = unhex(in, sizeof(in), "3b7fffffffffffffff");
	fwc_cbor_dec_init(&d, in, len, BIG, NULL);
	CHECK_RC(fwc_cbor_get_int(&d, &i), FWC_OK);
	CHECK(i == INT64_MIN);

	len = unhex(in, sizeof(in), "3bffffffffffffffff"); /* -2^64 does not fit int64 */
	fwc_cbor_dec_init(&d, in, len, BIG, NULL);
	i = 7;
	CHECK_RC(fwc_cbor_get_int(&d, &i), FWC_ERR_RANGE);
	CHECK(i == 7);
	len = unhex(in, sizeof(in), "1bffffffffffffffff");
	fwc_cbor_dec_init(&d, in, len, BIG, NULL);
	CHECK_RC(fwc_cbor_get_int(&d, &i), FWC_ERR_RANGE);

	len = unhex(in, sizeof(in), "63e6b0b4");
	fwc_cbor_dec_init(&d, in, len, BIG, NULL);
	CHECK_RC(fwc_cbor_get_text(&d, &s, &len), FWC_OK);
	CHECK(len == 3 && s == (const char *)in + 1); /* zero-copy */
	CHECK_MEM(s, "\xe6\xb0\xb4", 3);

	len = unhex(in, sizeof(in), "4401020304");
	fwc_cbor_dec_init(&d, in, len, BIG, NULL);
	CHECK_RC(fwc_cbor_get_bytes(&d, &p, &len), FWC_OK);
	CHECK(len == 4 && p == in + 1);
}

/* Appendix A examples outside the profile and the RFC 8949 Appendix F malformed inputs. */
static void test_refused_examples(void)
{
	static const struct {
		const char *hex;
		int code;
		size_t off;
	} bad[] = {
	    /* Appendix A: bignums and other tags */
	    {"c249010000000000000000", FWC_ERR_UNSUPPORTED, 0},
	    {"c349010000000000000000", FWC_ERR_UNSUPPORTED, 0},
	    {"c074323031332d30332d32315432303a30343a30305a", FWC_ERR_UNSUPPORTED, 0},
	    {"c11a514b67b0", FWC_ERR_UNSUPPORTED, 0},
	    {"d74401020304", FWC_ERR_UNSUPPORTED, 0},
	    {"d818456449455446", FWC_ERR_UNSUPPORTED, 0},
	    /* Appendix A: floats */
	    {"f90000", FWC_ERR_UNSUPPORTED, 0},
	    {"f98000", FWC_ERR_UNSUPPORTED, 0},
	    {"f93c00", FWC_ERR_UNSUPPORTED, 0},
	    {"fb3ff199999999999a", FWC_ERR_UNSUPPORTED, 0},
	    {"fa47c35000", FWC_ERR_UNSUPPORTED, 0},
	    {"f97c00", FWC_ERR_UNSUPPORTED, 0},
	    {"f97e00", FWC_ERR_UNSUPPORTED, 0},
	    {"fb7ff8000000000000", FWC_ERR_UNSUPPORTED, 0},
	    /* Appendix A: undefined and other simple values */
	    {"f7", FWC_ERR_UNSUPPORTED, 0},
	    {"f0", FWC_ERR_UNSUPPORTED, 0},
	    {"f8ff", FWC_ERR_UNSUPPORTED, 0},
	    /* Appendix A: indefinite-length items */
	    {"5f42010243030405ff", FWC_ERR_INDEFINITE, 0},
	    {"7f657374726561646d696e67ff", FWC_ERR_INDEFINITE, 0},
	    {"9fff", FWC_ERR_INDEFINITE, 0},
	    {"9f018202039f0405ffff", FWC_ERR_INDEFINITE, 0},
	    {"9f01820203820405ff", FWC_ERR_INDEFINITE, 0},
	    {"83018202039f0405ff", FWC_ERR_INDEFINITE, 5},
	    {"83019f0203ff820405", FWC_ERR_INDEFINITE, 2},
	    {"bf61610161629f0203ffff", FWC_ERR_INDEFINITE, 0},
	    {"826161bf61626163ff", FWC_ERR_INDEFINITE, 3},
	    {"bf6346756ef563416d7421ff", FWC_ERR_INDEFINITE, 0},
	    /* Appendix F: end of input in a head */
	    {"18", FWC_ERR_TRUNCATED, 0},
	    {"19", FWC_ERR_TRUNCATED, 0},
	    {"1a", FWC_ERR_TRUNCATED, 0},
	    {"1b", FWC_ERR_TRUNCATED, 0},
	    {"1901", FWC_ERR_TRUNCATED, 0},
	    {"1a0102", FWC_ERR_TRUNCATED, 0},
	    {"1b01020304050607", FWC_ERR_TRUNCATED, 0},
	    {"38", FWC_ERR_TRUNCATED, 0},
	    {"58", FWC_ERR_TRUNCATED, 0},
	    {"78", FWC_ERR_TRUNCATED, 0},
	    {"98", FWC_ERR_TRUNCATED, 0},
	    {"9a01ff00", FWC_ERR_TRUNCATED, 0},
	    {"b8", FWC_ERR_TRUNCATED, 0},
	    /* Appendix F: definite-length strings with short data */
	    {"41", FWC_ERR_TRUNCATED, 0},
	    {"61", FWC_ERR_TRUNCATED, 0},
	    {"5affffffff00", FWC_ERR_TRUNCATED, 0},
	    {"5bffffffffffffffff010203", FWC_ERR_TRUNCATED, 0},
	    {"7affffffff00", FWC_ERR_TRUNCATED, 0},
	    {"7b7fffffffffffffff010203", FWC_ERR_TRUNCATED, 0},
	    /* Appendix F: definite-length containers without enough items */
	    {"81", FWC_ERR_TRUNCATED, 0},
	    {"818181818181818181", FWC_ERR_TRUNCATED, 8},
	    {"8200", FWC_ERR_TRUNCATED, 0},
	    {"a1", FWC_ERR_TRUNCATED, 0},
	    {"a20102", FWC_ERR_TRUNCATED, 0},
	    {"a100", FWC_ERR_TRUNCATED, 0},
	    {"a2000000", FWC_ERR_TRUNCATED, 0},
	    /* Appendix F: tag without content, reserved additional information */
	    {"c0", FWC_ERR_UNSUPPORTED, 0},
	    {"1c", FWC_ERR_MALFORMED, 0},
	    {"1d", FWC_ERR_MALFORMED, 0},
	    {"1e", FWC_ERR_MALFORMED, 0},
	    {"3c", FWC_ERR_MALFORMED, 0},
	    {"5c", FWC_ERR_MALFORMED, 0},
	    {"7d", FWC_ERR_MALFORMED, 0},
	    {"9e", FWC_ERR_MALFORMED, 0},
	    {"bc", FWC_ERR_MALFORMED, 0},
	    {"fc", FWC_ERR_MALFORMED, 0},
	    /* Appendix F: two-byte simple values (also non-canonical) */
	    {"f800", FWC_ERR_UNSUPPORTED, 0},
	    {"f818", FWC_ERR_UNSUPPORTED, 0},
	    {"f81f", FWC_ERR_UNSUPPORTED, 0},
	    /* Appendix F: break outside an indefinite item, also inside definite ones */
	    {"ff", FWC_ERR_MALFORMED, 0},
	    {"81ff", FWC_ERR_MALFORMED, 1},
	    {"8200ff", FWC_ERR_MALFORMED, 2},
	    {"a1ff00", FWC_ERR_MALFORMED, 1},
	    {"a100ff", FWC_ERR_MALFORMED, 2},
	    /* Appendix F: additional information 31 on major types 0, 1, 6 */
	    {"1f", FWC_ERR_MALFORMED, 0},
	    {"3f", FWC_ERR_MALFORMED, 0},
	    {"df", FWC_ERR_MALFORMED, 0},
	};

	for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		struct fwc_errinfo ei = {0, ""};
		uint8_t in[64];
		size_t n = unhex(in, sizeof(in), bad[k].hex);
		int rc = roundtrip(bad[k].hex, BIG, &ei);
		int rv = fwc_cbor_validate(in, n, BIG, NULL);

		if (rc != bad[k].code || ei.offset != bad[k].off || rv != bad[k].code)
			fprintf(
			    stderr,
			    "refused example %s: got %d at %zu (%s), validate %d, want %d at %zu\n",
			    bad[k].hex, rc, ei.offset, ei.msg, rv, bad[k].code, bad[k].off);
		CHECK_RC(rc, bad[k].code);
		CHECK(ei.offset == bad[k].off);
		CHECK(ei.msg[0] != '\0');
		CHECK_RC(rv, bad[k].code);
	}
}

/* Every canonical-form rule of the profile, with the offset it reports. */
static void test_noncanonical(void)
{
	static const struct {
		const char *hex;
		int code;
		size_t off;
	} bad[] = {
	    {"1800", FWC_ERR_NONCANONICAL, 0},   /* 0 in 2 bytes */
	    {"1817", FWC_ERR_NONCANONICAL, 0},   /* 23 in 2 bytes */
	    {"190018", FWC_ERR_NONCANONICAL, 0}, /* 24 in 3 bytes */
	    {"1900ff", FWC_ERR_NONCANONICAL, 0},
	    {"1a0000ffff", FWC_ERR_NONCANONICAL, 0},
	    {"1b00000000ffffffff", FWC_ERR_NONCANONICAL, 0},
	    {"3800", FWC_ERR_NONCANONICAL, 0},   /* -1 in 2 bytes */
	    {"5801ff", FWC_ERR_NONCANONICAL, 0}, /* length 1 in 2 bytes */
	    {"780161", FWC_ERR_NONCANONICAL, 0},
	    {"980100", FWC_ERR_NONCANONICAL, 0},
	    {"b800", FWC_ERR_NONCANONICAL, 0},
	    {"82011800", FWC_ERR_NONCANONICAL, 2}, /* nested */
	    /* map keys: bytewise order of encodings, not numeric or length-first order */
	    {"a202000100", FWC_ERR_UNSORTED, 3},
	    {"a2616200616100", FWC_ERR_UNSORTED, 4},
	    {"a3 0a00 2000 186400", FWC_ERR_UNSORTED, 5},
	    {"a2010001 00", FWC_ERR_DUPLICATE, 3},
	    {"a2616100616100", FWC_ERR_DUPLICATE, 4},
	    {"a2 1900ff 00 1900ff 00", FWC_ERR_NONCANONICAL, 1},
	    /* trailing bytes */
	    {"0000", FWC_ERR_TRAILING, 1},
	    {"a0f6", FWC_ERR_TRAILING, 1},
	    /* keys of other types */
	    {"a18000", FWC_ERR_UNSUPPORTED, 1},
	    {"a1a000", FWC_ERR_UNSUPPORTED, 1},
	    {"a1f400", FWC_ERR_UNSUPPORTED, 1},
	    {"a1f600", FWC_ERR_UNSUPPORTED, 1},
	    /* invalid UTF-8: offset of the first bad byte */
	    {"62c080", FWC_ERR_MALFORMED, 1}, /* overlong */
	    {"6261c1", FWC_ERR_MALFORMED, 2},
	    {"63eda080", FWC_ERR_MALFORMED, 1},   /* surrogate U+D800 */
	    {"64f4908080", FWC_ERR_MALFORMED, 1}, /* above U+10FFFF */
	    {"63e080af", FWC_ERR_MALFORMED, 1},   /* overlong 3-byte */
	    {"6180", FWC_ERR_MALFORMED, 1},       /* lone continuation */
	    {"6361e6b0", FWC_ERR_MALFORMED, 2},   /* cut sequence */
	    {"61ff", FWC_ERR_MALFORMED, 1},
	};
	for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		struct fwc_errinfo ei = {0, ""};
		int rc = roundtrip(bad[k].hex, BIG, &ei);

		if (rc != bad[k].code || ei.offset != bad[k].off)
			fprintf(stderr, "non-canonical %s: got %d at %zu (%s), want %d at %zu\n",
			        bad[k].hex, rc, ei.offset, ei.msg, bad[k].code, bad[k].off);
		CHECK_RC(rc, bad[k].code);
		CHECK(ei.offset == bad[k].off);
	}
	/* the canonical forms of the same things are accepted */
	CHECK_RC(roundtrip("a3 0a00 186400 2000", BIG, NULL), FWC_OK);
	CHECK_RC(roundtrip("a2010002f6", BIG, NULL), FWC_OK);
	CHECK_RC(roundtrip("a2616100616200", BIG, NULL), FWC_OK);
	CHECK_RC(roundtrip("a20100616100", BIG, NULL), FWC_OK); /* ints sort before text */
	CHECK_RC(roundtrip("a26161000100", BIG, NULL), FWC_ERR_UNSORTED);
	CHECK_RC(roundtrip("a2 2000 0100", BIG, NULL), FWC_ERR_UNSORTED); /* -1 after 1 only */
	CHECK_RC(roundtrip("a201002000", BIG, NULL), FWC_OK);             /* 1 (0x01) < -1 (0x20) */
	CHECK_RC(roundtrip("a2616101616100", BIG, NULL), FWC_ERR_DUPLICATE);
	/* keys of nested maps are checked per map */
	CHECK_RC(roundtrip("a201a2010002000200", BIG, NULL), FWC_OK);
	CHECK_RC(roundtrip("a201a2020001000200", BIG, NULL), FWC_ERR_UNSORTED);
	CHECK_RC(roundtrip("a202a1010001a10100", BIG, NULL), FWC_ERR_UNSORTED);
}

static void test_limits(void)
{
	uint8_t in[64], out[64];
	struct fwc_errinfo ei;

	size_t n;

	/* 16 nested arrays are fine, 17 are too deep; the offset is the 17th head */
	memset(in, 0x81, 16);
	in[16] = 0x00;
	CHECK_RC(fwc_cbor_validate(in, 17, BIG, NULL), FWC_OK);
	memset(in, 0x81, 17);
	in[17] = 0x00;
	CHECK_RC(fwc_cbor_validate(in, 18, BIG, &ei), FWC_ERR_TOO_DEEP);
	CHECK(ei.offset == 16);
	memset(in, 0x81, 16);
	in[16] = 0x80; /* even an empty container at depth 17 */
	CHECK_RC(fwc_cbor_validate(in, 17, BIG, &ei), FWC_ERR_TOO_DEEP);
	memset(in, 0xa1, 16); /* maps count too: {0:{0:...}} */
	for (int i = 0; i < 16; i++) {
		in[2 * i] = 0xa1;
		in[2 * i + 1] = 0x00;
	}
	in[32] = 0x00;
	CHECK_RC(fwc_cbor_validate(in, 33, BIG, NULL), FWC_OK);
	in[32] = 0xa0;
	CHECK_RC(fwc_cbor_validate(in, 33, BIG, &ei), FWC_ERR_TOO_DEEP);
	CHECK(ei.offset == 32);

	/* max_item bounds string bytes and container entries, inclusive */
	n = unhex(in, sizeof(in), "4401020304");
	CHECK_RC(fwc_cbor_validate(in, n, 4, NULL), FWC_OK);
	CHECK_RC(fwc_cbor_validate(in, n, 3, &ei), FWC_ERR_TOO_LARGE);
	CHECK(ei.offset == 0);
	n = unhex(in, sizeof(in), "826449455446820102");
	CHECK_RC(fwc_cbor_validate(in, n, 4, NULL), FWC_OK);
	CHECK_RC(fwc_cbor_validate(in, n, 3, &ei), FWC_ERR_TOO_LARGE);
	CHECK(ei.offset == 1);
	CHECK_RC(fwc_cbor_validate(in, n, 1, &ei), FWC_ERR_TOO_LARGE);
	CHECK(ei.offset == 0);
	n = unhex(in, sizeof(in), "a201020304");
	CHECK_RC(fwc_cbor_validate(in, n, 2, NULL), FWC_OK);
	CHECK_RC(fwc_cbor_validate(in, n, 1, NULL), FWC_ERR_TOO_LARGE);
	/* a huge declared length is TOO_LARGE before it is TRUNCATED */
	n = unhex(in, sizeof(in), "5bffffffffffffffff010203");
	CHECK_RC(fwc_cbor_validate(in, n, 1 << 20, NULL), FWC_ERR_TOO_LARGE);
	n = unhex(in, sizeof(in), "9bffffffffffffffff010203");
	CHECK_RC(fwc_cbor_validate(in, n, BIG, NULL), FWC_ERR_TRUNCATED);

	/* empty input */
	CHECK_RC(fwc_cbor_validate(out, 0, BIG, &ei), FWC_ERR_TRUNCATED);
	CHECK_RC(fwc_cbor_validate(NULL, 0, BIG, NULL), FWC_ERR_TRUNCATED);
	CHECK_RC(fwc_cbor_validate(NULL, 1, BIG, NULL), FWC_ERR_ARG);
}

static void test_truncation_everywhere(void)
{
	/* {"a": 1, "b": [24, -1000, true], "c": {1: h'010203'}} */
	const char *hex = "a3 6161 01 6162 83 1818 3903e7 f5 6163 a1 01 43010203";
	uint8_t in[64];
	size_t n = unhex(in, sizeof(in), hex);

	CHECK(n == 21);
	CHECK_RC(roundtrip(hex, BIG, NULL), FWC_OK);
	for (size_t cut = 0; cut < n; cut++)
		CHECK_RC(fwc_cbor_validate(in, cut, BIG, NULL), FWC_ERR_TRUNCATED);
	CHECK_RC(fwc_cbor_validate(in, n, BIG, NULL), FWC_OK);
}

static void test_decoder_api(void)
{
	uint8_t in[64];
	struct fwc_errinfo ei;
	struct fwc_cbor_dec d;
	enum fwc_cbor_type t;
	uint64_t u = 99, n;
	size_t len, start;
	const char *s;

	/* TYPE: wrong getter, nothing written, error sticky */
	len = unhex(in, sizeof(in), "6161");
	fwc_cbor_dec_init(&d, in, len, BIG, &ei);
	CHECK_RC(fwc_cbor_peek(&d, &t), FWC_OK);
	CHECK(t == FWC_CBOR_TEXT);
	CHECK_RC(fwc_cbor_get_uint(&d, &u), FWC_ERR_TYPE);
	CHECK(u == 99);
	CHECK(strstr(ei.msg, "expected unsigned integer, found text string") != NULL);
	CHECK_RC(fwc_cbor_get_text(&d, &s, &len), FWC_ERR_TYPE);
	CHECK_RC(fwc_cbor_finish(&d), FWC_ERR_TYPE);

	/* reading past the top-level item */
	len = unhex(in, sizeof(in), "0102");
	fwc_cbor_dec_init(&d, in, len, BIG, &ei);
	CHECK_RC(fwc_cbor_get_uint(&d, &u), FWC_OK);
	CHECK(u == 1);
	CHECK_RC(fwc_cbor_get_uint(&d, &u), FWC_ERR_STATE);
	CHECK_RC(fwc_cbor_finish(&d), FWC_ERR_TRAILING);
	CHECK(ei.offset == 1);

	/* stopping early */
	len = unhex(in, sizeof(in), "820102");
	fwc_cbor_dec_init(&d, in, len, BIG, &ei);
	CHECK_RC(fwc_cbor_get_array(&d, &n), FWC_OK);
	CHECK(n == 2);
	CHECK_RC(fwc_cbor_get_uint(&d, &u), FWC_OK);
	CHECK_RC(fwc_cbor_finish(&d), FWC_ERR_TRUNCATED);

	/* skip reports the item's extent; containers close themselves */
	len = unhex(in, sizeof(in), "a3 01 820203 02 a1016161 03 f6");
	fwc_cbor_dec_init(&d, in, len, BIG, &ei);
	CHECK_RC(fwc_cbor_get_map(&d, &n), FWC_OK);
	CHECK(n == 3);
	CHECK_RC(fwc_cbor_get_uint(&d, &u), FWC_OK);
	CHECK(u == 1);
	CHECK_RC(fwc_cbor_skip(&d, &start, &len), FWC_OK);
	CHECK(start == 2 && len == 3);
	CHECK_RC(fwc_cbor_get_uint(&d, &u), FWC_OK);
	CHECK(u == 2);
	CHECK_RC(fwc_cbor_skip(&d, &start, &len), FWC_OK);
	CHECK(start == 6 && len == 4);
	CHECK_RC(fwc_cbor_get_uint(&d, &u), FWC_OK);
	CHECK(u == 3);
	CHECK(!d.done);
	CHECK_RC(fwc_cbor_get_null(&d), FWC_OK);
	CHECK(d.done && d.depth == 0);
	CHECK_RC(fwc_cbor_finish(&d), FWC_OK);

	/* get_int accepts both major types, get_nint only negatives */
	len = unhex(in, sizeof(in), "82 17 38ff");
	fwc_cbor_dec_init(&d, in, len, BIG, NULL);
	{
		int64_t a, b;
		CHECK_RC(fwc_cbor_get_array(&d, &n), FWC_OK);
		CHECK_RC(fwc_cbor_get_int(&d, &a), FWC_OK);
		CHECK_RC(fwc_cbor_get_int(&d, &b), FWC_OK);
		CHECK(a == 23 && b == -256);
	}
	len = unhex(in, sizeof(in), "17");
	fwc_cbor_dec_init(&d, in, len, BIG, NULL);
	CHECK_RC(fwc_cbor_get_nint(&d, &u), FWC_ERR_TYPE);
	{
		int b;
		len = unhex(in, sizeof(in), "f6");
		fwc_cbor_dec_init(&d, in, len, BIG, NULL);
		CHECK_RC(fwc_cbor_get_bool(&d, &b), FWC_ERR_TYPE);
		len = unhex(in, sizeof(in), "f4");
		fwc_cbor_dec_init(&d, in, len, BIG, NULL);
		CHECK_RC(fwc_cbor_get_null(&d), FWC_ERR_TYPE);
	}
	/* messages name what was wrong */
	len = unhex(in, sizeof(in), "a2020001f6");
	CHECK_RC(fwc_cbor_validate(in, len, BIG, &ei), FWC_ERR_UNSORTED);
	CHECK(ei.offset == 3 && strstr(ei.msg, "byte 1") != NULL);
	len = unhex(in, sizeof(in), "190017");
	CHECK_RC(fwc_cbor_validate(in, len, BIG, &ei), FWC_ERR_NONCANONICAL);
	CHECK(strstr(ei.msg, "value 23 encoded in 3 bytes instead of 1") != NULL);
}

static void test_encoder_buffer(void)
{
	uint8_t buf[8];
	struct fwc_cbor_enc e;
	size_t len = 0;

	/* measuring: no buffer, no error, exact size */
	fwc_cbor_enc_init(&e, NULL, 0);
	fwc_cbor_put_map(&e, 1);
	fwc_cbor_put_uint(&e, 1000);
	fwc_cbor_put_text(&e, "IETF", 4);
	CHECK_RC(fwc_cbor_enc_finish(&e, &len), FWC_OK);
	CHECK(len == 1 + 3 + 5);

	/* too small: sticky BUFSIZE, nothing written past cap, len still counts */
	memset(buf, 0xee, sizeof(buf));
	fwc_cbor_enc_init(&e, buf, 4);
	fwc_cbor_put_uint(&e, 1000);      /* 3 bytes, fits */
	fwc_cbor_put_text(&e, "IETF", 4); /* head fits (1 byte), payload does not */
	fwc_cbor_put_null(&e);            /* would fit but the error is sticky */
	CHECK_RC(fwc_cbor_enc_finish(&e, &len), FWC_ERR_BUFSIZE);
	CHECK(len == 3 + 5 + 1);
	CHECK(buf[4] == 0xee && buf[5] == 0xee);

	/* exact fit */
	fwc_cbor_enc_init(&e, buf, 3);
	fwc_cbor_put_uint(&e, 1000);
	CHECK_RC(fwc_cbor_enc_finish(&e, &len), FWC_OK);
	CHECK(len == 3);

	/* raw passthrough */
	fwc_cbor_enc_init(&e, buf, sizeof(buf));
	fwc_cbor_put_array(&e, 1);
	fwc_cbor_put_raw(&e, "\x18\x2a", 2);
	CHECK(enc_is(&e, "81182a"));

	CHECK(fwc_cbor_head_size(23) == 1 && fwc_cbor_head_size(24) == 2);
	CHECK(fwc_cbor_head_size(0xffff) == 3 && fwc_cbor_head_size(0x10000) == 5);
	CHECK(fwc_cbor_head_size(0xffffffffull) == 5 && fwc_cbor_head_size(1ull << 32) == 9);
}

/* Shortest-form boundaries both ways: every encoded boundary value decodes back to itself. */
static void test_boundaries(void)
{
	static const uint64_t vals[] = {
	    0,         23, 24, 255, 256, 65535, 65536, 0xffffffffull, 1ull << 32, UINT64_MAX - 1,
	    UINT64_MAX};
	uint8_t buf[16];

	for (size_t k = 0; k < sizeof(vals) / sizeof(vals[0]); k++) {
		for (int major = 0; major < 2; major++) {
			struct fwc_cbor_enc e;
			struct fwc_cbor_dec d;
			uint64_t got = 0;

			fwc_cbor_enc_init(&e, buf, sizeof(buf));
			if (major == 0)
				fwc_cbor_put_uint(&e, vals[k]);
			else
				fwc_cbor_put_nint(&e, vals[k]);
			CHECK(e.err == FWC_OK && e.len == fwc_cbor_head_size(vals[k]));
			fwc_cbor_dec_init(&d, buf, e.len, BIG, NULL);
			if (major == 0)
				CHECK_RC(fwc_cbor_get_uint(&d, &got), FWC_OK);
			else
				CHECK_RC(fwc_cbor_get_nint(&d, &got), FWC_OK);
			CHECK(got == vals[k]);
			CHECK_RC(fwc_cbor_finish(&d), FWC_OK);
		}
	}
}

static void test_utf8(void)
{
	size_t bad = 0;

	CHECK(fwc_utf8_valid((const uint8_t *)"", 0, NULL));
	CHECK(fwc_utf8_valid((const uint8_t *)"\xf4\x8f\xbf\xbf", 4, NULL)); /* U+10FFFF */
	CHECK(fwc_utf8_valid((const uint8_t *)"\xee\x80\x80", 3, NULL));     /* U+E000 */
	CHECK(fwc_utf8_valid((const uint8_t *)"\xed\x9f\xbf", 3, NULL));     /* U+D7FF */
	CHECK(!fwc_utf8_valid((const uint8_t *)"ab\xed\xbf\xbf", 5, &bad));  /* U+DFFF */
	CHECK(bad == 2);
	CHECK(!fwc_utf8_valid((const uint8_t *)"\xf0\x8f\xbf\xbf", 4, &bad)); /* overlong */
	CHECK(!fwc_utf8_valid((const uint8_t *)"\xf8\x88\x80\x80\x80", 5, &bad));
	CHECK(!fwc_utf8_valid((const uint8_t *)"a\x00\xc2", 3, &bad));
	CHECK(bad == 2);
}

int main(void)
{
	RUN(test_appendix_a_encode);
	RUN(test_appendix_a_decode);
	RUN(test_refused_examples);
	RUN(test_noncanonical);
	RUN(test_limits);
	RUN(test_truncation_everywhere);
	RUN(test_decoder_api);
	RUN(test_encoder_buffer);
	RUN(test_boundaries);
	RUN(test_utf8);
	return test_done();
}
