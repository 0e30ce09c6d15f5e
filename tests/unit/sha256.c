/* Tests lib/sha256.c and lib/hex.c: FIPS 180-2 known answers, streaming equals one-shot at
 * every split, the BIP-340 tagged-hash construction, and hex edge cases. */
#include "test.h"

#include "fwchain/err.h"
#include "fwchain/hex.h"
#include "fwchain/sha256.h"

static void hex32(char out[65], const uint8_t h[32])
{
	fwc_hex_encode(out, 65, h, 32);
}

static void test_known_answers(void)
{
	uint8_t h[32];
	char s[65];
	static const char *million_a =
		"cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0";
	struct fwc_sha256 ctx;
	char block[1000];

	CHECK_RC(fwc_sha256(h, "", 0), FWC_OK);
	hex32(s, h);
	CHECK(strcmp(s, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855") == 0);
	CHECK_RC(fwc_sha256(h, "abc", 3), FWC_OK);
	hex32(s, h);
	CHECK(strcmp(s, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad") == 0);

	memset(block, 'a', sizeof(block));
	CHECK_RC(fwc_sha256_init(&ctx), FWC_OK);
	for (int i = 0; i < 1000; i++)
		CHECK_RC(fwc_sha256_update(&ctx, block, sizeof(block)), FWC_OK);
	CHECK_RC(fwc_sha256_final(&ctx, h), FWC_OK);
	hex32(s, h);
	CHECK(strcmp(s, million_a) == 0);
	/* final resets: the context hashes a fresh message afterwards */
	CHECK_RC(fwc_sha256_update(&ctx, "abc", 3), FWC_OK);
	CHECK_RC(fwc_sha256_final(&ctx, h), FWC_OK);
	hex32(s, h);
	CHECK(strcmp(s, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad") == 0);
	fwc_sha256_cleanup(&ctx);
	fwc_sha256_cleanup(&ctx); /* idempotent */
}

static void test_streaming_splits(void)
{
	uint8_t msg[300], one[32], two[32];
	struct fwc_sha256 ctx;

	for (size_t i = 0; i < sizeof(msg); i++)
		msg[i] = (uint8_t)(i * 7 + 3);
	CHECK_RC(fwc_sha256(one, msg, sizeof(msg)), FWC_OK);
	CHECK_RC(fwc_sha256_init(&ctx), FWC_OK);
	for (size_t split = 0; split <= sizeof(msg); split += 13) {
		fwc_sha256_update(&ctx, msg, split);
		fwc_sha256_update(&ctx, msg + split, sizeof(msg) - split);
		fwc_sha256_final(&ctx, two);
		CHECK_MEM(one, two, 32);
	}
	fwc_sha256_cleanup(&ctx);
}

static void test_tagged_hash(void)
{
	/* BIP-340's challenge hash tag, computed by hand from its definition. */
	uint8_t th[32], buf[64 + 3], want[32], got[32];

	fwc_sha256(th, "BIP0340/challenge", 17);
	memcpy(buf, th, 32);
	memcpy(buf + 32, th, 32);
	memcpy(buf + 64, "xyz", 3);
	fwc_sha256(want, buf, sizeof(buf));
	CHECK_RC(fwc_tagged_hash(got, "BIP0340/challenge", "xyz", 3), FWC_OK);
	CHECK_MEM(want, got, 32);
	CHECK_RC(fwc_tagged_hash(got, NULL, "xyz", 3), FWC_ERR_ARG);
}

static void test_hex(void)
{
	uint8_t out[4];
	size_t n = 99;
	char s[9];

	CHECK_RC(fwc_hex_decode(out, sizeof(out), &n, "00fFa0", 6), FWC_OK);
	CHECK(n == 3 && out[0] == 0 && out[1] == 0xff && out[2] == 0xa0);
	CHECK_RC(fwc_hex_decode(out, sizeof(out), &n, "abc", 3), FWC_ERR_MALFORMED);
	CHECK_RC(fwc_hex_decode(out, sizeof(out), &n, "zz", 2), FWC_ERR_MALFORMED);
	CHECK_RC(fwc_hex_decode(out, sizeof(out), &n, "0011223344", 10), FWC_ERR_BUFSIZE);
	CHECK_RC(fwc_hex_encode(s, sizeof(s), out, 4), FWC_OK);
	CHECK_RC(fwc_hex_encode(s, 8, out, 4), FWC_ERR_BUFSIZE);
	CHECK(fwc_ct_equal("abcd", "abcd", 4) == 1);
	CHECK(fwc_ct_equal("abcd", "abce", 4) == 0);
	CHECK(strcmp(fwc_strerror(FWC_ERR_BADSIG), "bad signature") == 0);
	CHECK(strcmp(fwc_strerror(-9999), "unknown error") == 0);
}

int main(void)
{
	RUN(test_known_answers);
	RUN(test_streaming_splits);
	RUN(test_tagged_hash);
	RUN(test_hex);
	return test_done();
}
