/* Tests of lib/hex.c (hex and decimal encoding) and lib/secmem.c (wipe, constant-time compare).
 * Decimal results are checked against snprintf("%llu"), an independent formatter. */
#include "fwchain/err.h"
#include "fwchain/hex.h"

#include <stdint.h>

#include "test.h"

static void dec_matches_printf(void)
{
	static const uint64_t v[] = {
	    0, 1, 9, 10, 99, 100, 1700000000, 4294967295u, 4294967296u, 18446744073709551615u};

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		char want[32], got[32];
		size_t n = 0;

		snprintf(want, sizeof(want), "%llu", (unsigned long long)v[i]);
		memset(got, 'x', sizeof(got));
		CHECK_RC(fwc_dec_encode(got, sizeof(got), &n, v[i]), FWC_OK);
		CHECK(strcmp(got, want) == 0);
		CHECK(n == strlen(want));
	}
}

static void dec_bounds(void)
{
	char out[21];
	size_t n = 99;

	/* exactly digits + NUL fits; one less does not and leaves *outlen alone */
	CHECK_RC(fwc_dec_encode(out, 21, &n, 18446744073709551615u), FWC_OK);
	CHECK(n == 20);
	n = 99;
	CHECK_RC(fwc_dec_encode(out, 20, &n, 18446744073709551615u), FWC_ERR_BUFSIZE);
	CHECK(n == 99);
	CHECK_RC(fwc_dec_encode(out, 2, NULL, 7), FWC_OK);
	CHECK(strcmp(out, "7") == 0);
	CHECK_RC(fwc_dec_encode(out, 1, NULL, 7), FWC_ERR_BUFSIZE);
	CHECK_RC(fwc_dec_encode(NULL, 8, NULL, 7), FWC_ERR_ARG);
}

static void hex_roundtrip(void)
{
	static const uint8_t in[] = {0x00, 0x01, 0xab, 0xff};
	uint8_t back[4];
	char txt[9];
	size_t n = 0;

	CHECK_RC(fwc_hex_encode(txt, sizeof(txt), in, sizeof(in)), FWC_OK);
	CHECK(strcmp(txt, "0001abff") == 0);
	CHECK_RC(fwc_hex_encode(txt, 8, in, sizeof(in)), FWC_ERR_BUFSIZE);
	CHECK_RC(fwc_hex_decode(back, sizeof(back), &n, "0001ABff", 8), FWC_OK);
	CHECK(n == 4);
	CHECK_MEM(back, in, 4);
	CHECK_RC(fwc_hex_decode(back, sizeof(back), &n, "0g", 2), FWC_ERR_MALFORMED);
	CHECK_RC(fwc_hex_decode(back, sizeof(back), &n, "012", 3), FWC_ERR_MALFORMED);
}

static void secmem(void)
{
	uint8_t a[8] = {1, 2, 3, 4, 5, 6, 7, 8}, b[8] = {1, 2, 3, 4, 5, 6, 7, 8};

	CHECK(fwc_ct_equal(a, b, 8) == 1);
	b[7] ^= 1;
	CHECK(fwc_ct_equal(a, b, 8) == 0);
	CHECK(fwc_ct_equal(a, b, 0) == 1);
	fwc_wipe(a, sizeof(a));
	for (size_t i = 0; i < sizeof(a); i++)
		CHECK(a[i] == 0);
}

int main(void)
{
	RUN(dec_matches_printf);
	RUN(dec_bounds);
	RUN(hex_roundtrip);
	RUN(secmem);
	return test_done();
}
