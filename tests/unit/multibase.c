/* Tests lib/multibase.c: RFC 4648 §10 base32 vectors (lowercased, unpadded), the Bitcoin Core
 * base58 encode/decode vectors, the multibase spec's "yes mani !" example, the multiformats
 * unsigned-varint spec examples, and the strictness rules (bad characters, impossible lengths,
 * non-zero trailing bits, non-minimal and over-long varints). */
#include "test.h"

#include "fwchain/err.h"
#include "fwchain/multibase.h"

struct vec {
	const char *hex;
	const char *text;
};

static void test_base32_rfc4648(void)
{
	static const struct vec v[] = {
		{"", ""},
		{"66", "my"},
		{"666f", "mzxq"},
		{"666f6f", "mzxw6"},
		{"666f6f62", "mzxw6yq"},
		{"666f6f6261", "mzxw6ytb"},
		{"666f6f626172", "mzxw6ytboi"},
	};
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		uint8_t bin[16], back[16];
		char txt[32];
		size_t n = test_unhex(bin, sizeof(bin), v[i].hex), tl = 99, bl = 99;

		CHECK_RC(fwc_base32_encode(txt, sizeof(txt), &tl, bin, n), FWC_OK);
		CHECK(strcmp(txt, v[i].text) == 0 && tl == strlen(v[i].text));
		CHECK(fwc_base32_encoded_len(n) == strlen(v[i].text));
		CHECK_RC(fwc_base32_decode(back, sizeof(back), &bl, v[i].text, strlen(v[i].text),
					   NULL),
			 FWC_OK);
		CHECK(bl == n && memcmp(back, bin, n) == 0);
	}
}

static void test_base32_strict(void)
{
	uint8_t out[16];
	size_t n = 77;
	char small[4];
	struct fwc_errinfo ei;

	CHECK_RC(fwc_base32_decode(out, sizeof(out), &n, "MZXQ", 4, &ei), FWC_ERR_MALFORMED);
	CHECK(ei.offset == 0 && n == 77);
	CHECK_RC(fwc_base32_decode(out, sizeof(out), &n, "mzx=", 4, NULL), FWC_ERR_MALFORMED);
	CHECK_RC(fwc_base32_decode(out, sizeof(out), &n, "mzx1", 4, NULL), FWC_ERR_MALFORMED);
	/* lengths 1, 3, 6 mod 8 cannot come from any byte string */
	CHECK_RC(fwc_base32_decode(out, sizeof(out), &n, "m", 1, NULL), FWC_ERR_MALFORMED);
	CHECK_RC(fwc_base32_decode(out, sizeof(out), &n, "mzx", 3, NULL), FWC_ERR_MALFORMED);
	CHECK_RC(fwc_base32_decode(out, sizeof(out), &n, "mzxw6y", 6, NULL), FWC_ERR_MALFORMED);
	/* "mz" is 'f' with zero pad bits; "mz" -> "m3" sets a pad bit */
	CHECK_RC(fwc_base32_decode(out, sizeof(out), &n, "m3", 2, &ei), FWC_ERR_NONCANONICAL);
	CHECK_RC(fwc_base32_decode(out, 2, &n, "mzxw6", 5, NULL), FWC_ERR_BUFSIZE);
	CHECK_RC(fwc_base32_encode(small, sizeof(small), NULL, (const uint8_t *)"foo", 3),
		 FWC_ERR_BUFSIZE);
	CHECK(n == 77);
}

static void test_base58_bitcoin(void)
{
	/* Bitcoin Core src/test/data/base58_encode_decode.json */
	static const struct vec v[] = {
		{"", ""},
		{"61", "2g"},
		{"626262", "a3gV"},
		{"636363", "aPEr"},
		{"73696d706c792061206c6f6e6720737472696e67", "2cFupjhnEsSn59qHXstmK2ffpLv2"},
		{"00eb15231dfceb60925886b67d065299925915aeb172c06647",
		 "1NS17iag9jJgTHD1VXjvLCEnZuQ3rJDE9L"},
		{"516b6fcd0f", "ABnLTmg"},
		{"bf4f89001e670274dd", "3SEo3LWLoPntC"},
		{"572e4794", "3EFU7m"},
		{"ecac89cad93923c02321", "EJDM8drfXA6uyA"},
		{"10c8511e", "Rt5zm"},
		{"00000000000000000000", "1111111111"},
	};
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		uint8_t bin[32], back[32];
		char txt[64];
		size_t n = test_unhex(bin, sizeof(bin), v[i].hex), tl = 0, bl = 0;

		CHECK_RC(fwc_base58_encode(txt, sizeof(txt), &tl, bin, n), FWC_OK);
		CHECK(strcmp(txt, v[i].text) == 0 && tl == strlen(v[i].text));
		CHECK_RC(fwc_base58_decode(back, sizeof(back), &bl, v[i].text, strlen(v[i].text),
					   NULL),
			 FWC_OK);
		CHECK(bl == n && memcmp(back, bin, n) == 0);
	}
}

static void test_base58_strict(void)
{
	uint8_t out[200], big[FWC_BASE58_MAX_BYTES + 1];
	char txt[300];
	size_t n = 5;
	struct fwc_errinfo ei;

	CHECK_RC(fwc_base58_decode(out, sizeof(out), &n, "abc0", 4, &ei), FWC_ERR_MALFORMED);
	CHECK(ei.offset == 3);
	CHECK_RC(fwc_base58_decode(out, sizeof(out), &n, "abOc", 4, NULL), FWC_ERR_MALFORMED);
	CHECK_RC(fwc_base58_decode(out, sizeof(out), &n, "Il", 2, NULL), FWC_ERR_MALFORMED);
	CHECK_RC(fwc_base58_decode(out, sizeof(out), &n, "a\0b", 3, NULL), FWC_ERR_MALFORMED);
	CHECK_RC(fwc_base58_decode(out, 1, &n, "a3gV", 4, NULL), FWC_ERR_BUFSIZE);
	memset(big, 0xff, sizeof(big));
	CHECK_RC(fwc_base58_encode(txt, sizeof(txt), &n, big, sizeof(big)), FWC_ERR_TOO_LARGE);
	/* The largest input round-trips (bounds of the fixed-size digit buffers). */
	CHECK_RC(fwc_base58_encode(txt, sizeof(txt), &n, big, FWC_BASE58_MAX_BYTES), FWC_OK);
	CHECK(n <= FWC_BASE58_MAX_CHARS);
	CHECK_RC(fwc_base58_decode(out, sizeof(out), &n, txt, n, NULL), FWC_OK);
	CHECK(n == FWC_BASE58_MAX_BYTES && memcmp(out, big, n) == 0);
	memset(txt, 'z', FWC_BASE58_MAX_CHARS + 1);
	CHECK_RC(fwc_base58_decode(out, sizeof(out), &n, txt, FWC_BASE58_MAX_CHARS + 1, NULL),
		 FWC_ERR_TOO_LARGE);
	/* 175 'z' is 58^175-1, which needs 129 bytes: more than the encoder takes, so refused
	 * (found by fuzz/cid.c: decode and encode must accept the same set) */
	CHECK_RC(fwc_base58_decode(out, sizeof(out), &n, txt, FWC_BASE58_MAX_CHARS, NULL),
		 FWC_ERR_TOO_LARGE);
}

static void test_multibase(void)
{
	/* multibase spec: "yes mani !" in base32 and base58btc */
	char txt[64];
	uint8_t out[32];
	size_t n = 0;
	char base = 0;

	CHECK_RC(fwc_multibase_encode(txt, sizeof(txt), &n, 'b', (const uint8_t *)"yes mani !", 10),
		 FWC_OK);
	CHECK(strcmp(txt, "bpfsxgidnmfxgsibb") == 0 && n == 17);
	CHECK_RC(fwc_multibase_encode(txt, sizeof(txt), &n, 'z', (const uint8_t *)"yes mani !", 10),
		 FWC_OK);
	CHECK(strcmp(txt, "z7paNL19xttacUY") == 0);
	CHECK_RC(fwc_multibase_decode(out, sizeof(out), &n, &base, "z7paNL19xttacUY", 15, NULL),
		 FWC_OK);
	CHECK(base == 'z' && n == 10 && memcmp(out, "yes mani !", 10) == 0);
	CHECK_RC(fwc_multibase_decode(out, sizeof(out), &n, &base, "bpfsxgidnmfxgsibb", 17, NULL),
		 FWC_OK);
	CHECK(base == 'b' && n == 10 && memcmp(out, "yes mani !", 10) == 0);
	CHECK_RC(fwc_multibase_decode(out, sizeof(out), &n, &base, "BPFSXGIDNMFXGSIBB", 17, NULL),
		 FWC_ERR_UNSUPPORTED);
	CHECK_RC(fwc_multibase_decode(out, sizeof(out), &n, &base, "f796573", 7, NULL),
		 FWC_ERR_UNSUPPORTED);
	CHECK_RC(fwc_multibase_decode(out, sizeof(out), &n, &base, "", 0, NULL), FWC_ERR_MALFORMED);
	CHECK_RC(fwc_multibase_encode(txt, sizeof(txt), &n, 'f', out, 1), FWC_ERR_UNSUPPORTED);
}

static void test_varint(void)
{
	/* multiformats/unsigned-varint README examples */
	static const struct {
		uint64_t v;
		const char *hex;
	} v[] = {{1, "01"},	    {127, "7f"},	 {128, "8001"},
		 {255, "ff01"},	    {300, "ac02"},	 {16384, "808001"},
		 {0, "00"},	    {0x70, "70"},	 {(1ull << 63) - 1, "ffffffffffffffff7f"}};
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		uint8_t want[16], got[FWC_VARINT_MAX];
		size_t wl = test_unhex(want, sizeof(want), v[i].hex), gl, used = 0;
		uint64_t back = 0;

		gl = fwc_varint_encode(got, v[i].v);
		CHECK(gl == wl && memcmp(got, want, wl) == 0);
		CHECK_RC(fwc_varint_decode(&back, &used, want, wl, NULL), FWC_OK);
		CHECK(back == v[i].v && used == wl);
	}
	{
		uint8_t buf[12], tmp[FWC_VARINT_MAX];
		uint64_t x = 42;
		size_t used = 42;
		struct fwc_errinfo ei;

		CHECK(fwc_varint_encode(tmp, 1ull << 63) == 0);
		test_unhex(buf, sizeof(buf), "8000");
		CHECK_RC(fwc_varint_decode(&x, &used, buf, 2, &ei), FWC_ERR_NONCANONICAL);
		CHECK(ei.offset == 1);
		test_unhex(buf, sizeof(buf), "ff8000");
		CHECK_RC(fwc_varint_decode(&x, &used, buf, 3, NULL), FWC_ERR_NONCANONICAL);
		test_unhex(buf, sizeof(buf), "8080");
		CHECK_RC(fwc_varint_decode(&x, &used, buf, 2, NULL), FWC_ERR_TRUNCATED);
		CHECK_RC(fwc_varint_decode(&x, &used, buf, 0, NULL), FWC_ERR_TRUNCATED);
		test_unhex(buf, sizeof(buf), "ffffffffffffffffff01");
		CHECK_RC(fwc_varint_decode(&x, &used, buf, 10, NULL), FWC_ERR_TOO_LARGE);
		CHECK(x == 42 && used == 42);
		/* trailing bytes are the caller's business: used says where the varint ended */
		test_unhex(buf, sizeof(buf), "ac02ff");
		CHECK_RC(fwc_varint_decode(&x, &used, buf, 3, NULL), FWC_OK);
		CHECK(x == 300 && used == 2);
	}
}

int main(void)
{
	RUN(test_base32_rfc4648);
	RUN(test_base32_strict);
	RUN(test_base58_bitcoin);
	RUN(test_base58_strict);
	RUN(test_multibase);
	RUN(test_varint);
	return test_done();
}
