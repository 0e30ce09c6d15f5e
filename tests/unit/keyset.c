/* Tests lib/keyset.c: the threshold rule (a key counts once; unknown, revoked keys and bad
 * signatures count zero) and the key set codec. Keys are the BIP-340 secret scalars 1, 2, 3,
 * whose x-only public keys are the x coordinates of G, 2G and 3G on secp256k1 (published
 * constants, checked here so the expected bytes do not come from the code under test). */
#include "test.h"

#include "fwchain/cbor.h"
#include "fwchain/err.h"
#include "fwchain/key.h"
#include "fwchain/keyset.h"
#include "fwchain/sha256.h"

static const char *const gx[3] = {
    "79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798", /* 1G */
    "c6047f9441ed7d6d3045406e95c07cd85c778e4b8cef3ca7abac09b95c709ee5", /* 2G */
    "f9308a019258c31049344f85f89d5229b531c845836f99b08601f113bce036f9", /* 3G */
};

static struct fwc_seckey sk[4];
static struct fwc_pubkey pk[4];
static uint8_t bin[4][FWC_PUBKEY_BIN_LEN];
static uint8_t digest[32], other[32];

static void setup(void)
{
	for (int i = 0; i < 4; i++) {
		uint8_t secret[32] = {0};

		secret[31] = (uint8_t)(i + 1);
		CHECK_RC(fwc_key_from_secret(&sk[i], FWC_ALG_BIP340, secret), FWC_OK);
		CHECK_RC(fwc_key_public(&pk[i], &sk[i]), FWC_OK);
		CHECK_RC(fwc_pubkey_to_bin(bin[i], &pk[i]), FWC_OK);
	}
	for (int i = 0; i < 3; i++) {
		uint8_t want[32];
		test_unhex(want, 32, gx[i]);
		CHECK(bin[i][0] == FWC_ALG_BIP340);
		CHECK_MEM(bin[i] + 1, want, 32);
	}
	CHECK_RC(fwc_sha256(digest, "release", 7), FWC_OK);
	CHECK_RC(fwc_sha256(other, "another", 7), FWC_OK);
}

static void make_set(struct fwc_keyset *ks, size_t n, unsigned k)
{
	memset(ks, 0, sizeof(*ks));
	ks->n = n;
	ks->threshold = k;
	for (size_t i = 0; i < n; i++)
		ks->keys[i] = pk[i];
}

/* sig storage for one call */
static uint8_t sigbuf[8][FWC_SIG_LEN];

static struct fwc_keyset_sig sign_with(int slot, int key, const uint8_t *msg)
{
	struct fwc_keyset_sig s;

	CHECK_RC(fwc_sign(sigbuf[slot], &sk[key], msg, 32), FWC_OK);
	s.pubkey = bin[key];
	s.sig = sigbuf[slot];
	return s;
}

static void test_threshold(void)
{
	struct fwc_keyset ks;
	struct fwc_keyset_sig s[6];
	struct fwc_errinfo ei;
	unsigned valid = 99;
	char unknown_hex[16];

	make_set(&ks, 3, 2);

	/* 2 of 3 with 2 valid */
	s[0] = sign_with(0, 0, digest);
	s[1] = sign_with(1, 2, digest);
	CHECK_RC(fwc_keyset_verify_threshold(&ks, digest, s, 2, &valid, &ei), FWC_OK);
	CHECK(valid == 2);

	/* one key signing twice counts once */
	s[1] = sign_with(1, 0, digest);
	CHECK_RC(fwc_keyset_verify_threshold(&ks, digest, s, 2, &valid, &ei), FWC_ERR_THRESHOLD);
	CHECK(valid == 1);
	CHECK(strcmp(ei.msg, "2 of 3 required, 1 valid (key 0 signed twice)") == 0);
	/* even the very same signature bytes twice */
	s[1] = s[0];
	CHECK_RC(fwc_keyset_verify_threshold(&ks, digest, s, 2, NULL, NULL), FWC_ERR_THRESHOLD);

	/* a key not in the set counts zero */
	s[1] = sign_with(1, 3, digest);
	CHECK_RC(fwc_keyset_verify_threshold(&ks, digest, s, 2, &valid, &ei), FWC_ERR_THRESHOLD);
	CHECK(valid == 1);
	snprintf(unknown_hex, sizeof(unknown_hex), "01%02x%02x%02x%02x", bin[3][1], bin[3][2],
	         bin[3][3], bin[3][4]);
	CHECK(strstr(ei.msg, unknown_hex) != NULL && strstr(ei.msg, "unknown") != NULL);

	/* a revoked key counts zero */
	s[1] = sign_with(1, 1, digest);
	ks.revoked[1] = 1;
	CHECK_RC(fwc_keyset_verify_threshold(&ks, digest, s, 2, &valid, &ei), FWC_ERR_THRESHOLD);
	CHECK(strcmp(ei.msg, "2 of 3 required, 1 valid (key 1 revoked)") == 0);
	ks.revoked[1] = 0;
	CHECK_RC(fwc_keyset_verify_threshold(&ks, digest, s, 2, &valid, &ei), FWC_OK);

	/* a bad signature counts zero: key 1 signed another message */
	s[1] = sign_with(1, 1, other);
	CHECK_RC(fwc_keyset_verify_threshold(&ks, digest, s, 2, &valid, &ei), FWC_ERR_THRESHOLD);
	CHECK(strcmp(ei.msg, "2 of 3 required, 1 valid (key 1 bad signature)") == 0);
	/* ... a flipped bit too */
	s[1] = sign_with(1, 1, digest);
	sigbuf[1][10] ^= 1;
	CHECK_RC(fwc_keyset_verify_threshold(&ks, digest, s, 2, NULL, NULL), FWC_ERR_THRESHOLD);
	/* ... but a later good signature by the same key still counts */
	s[2] = sign_with(2, 1, digest);
	CHECK_RC(fwc_keyset_verify_threshold(&ks, digest, s, 3, &valid, NULL), FWC_OK);
	CHECK(valid == 2);

	/* the message lists every reason */
	s[0] = sign_with(0, 0, digest);
	s[1] = sign_with(1, 0, digest);
	s[2] = sign_with(2, 3, digest);
	CHECK_RC(fwc_keyset_verify_threshold(&ks, digest, s, 3, &valid, &ei), FWC_ERR_THRESHOLD);
	CHECK(strncmp(ei.msg, "2 of 3 required, 1 valid (key 0 signed twice, key 01", 51) == 0);
	CHECK(strstr(ei.msg, " unknown)") != NULL);

	/* no signatures at all */
	CHECK_RC(fwc_keyset_verify_threshold(&ks, digest, NULL, 0, &valid, &ei), FWC_ERR_THRESHOLD);
	CHECK(strcmp(ei.msg, "2 of 3 required, 0 valid") == 0 && valid == 0);

	/* 3 of 3 */
	make_set(&ks, 3, 3);
	s[0] = sign_with(0, 2, digest);
	s[1] = sign_with(1, 0, digest);
	s[2] = sign_with(2, 1, digest);
	CHECK_RC(fwc_keyset_verify_threshold(&ks, digest, s, 3, &valid, NULL), FWC_OK);
	CHECK(valid == 3);
	CHECK_RC(fwc_keyset_verify_threshold(&ks, digest, s, 2, &valid, &ei), FWC_ERR_THRESHOLD);
	CHECK(strcmp(ei.msg, "3 of 3 required, 2 valid") == 0);
	s[3] = sign_with(3, 3, digest); /* an extra outsider does not help */
	s[2] = s[3];
	CHECK_RC(fwc_keyset_verify_threshold(&ks, digest, s, 3, NULL, NULL), FWC_ERR_THRESHOLD);
	/* wrong digest: nothing counts */
	s[2] = sign_with(2, 1, digest);
	CHECK_RC(fwc_keyset_verify_threshold(&ks, other, s, 3, &valid, NULL), FWC_ERR_THRESHOLD);
	CHECK(valid == 0);

	/* 1 of 1 */
	make_set(&ks, 1, 1);
	s[0] = sign_with(0, 0, digest);
	CHECK_RC(fwc_keyset_verify_threshold(&ks, digest, s, 1, NULL, NULL), FWC_OK);

	/* a garbage public key (unknown algorithm byte) is an unknown key, not a crash */
	{
		uint8_t junk[FWC_PUBKEY_BIN_LEN];
		struct fwc_keyset_sig j;

		memset(junk, 0x09, sizeof(junk));
		j.pubkey = junk;
		j.sig = sigbuf[0];
		CHECK_RC(fwc_keyset_verify_threshold(&ks, digest, &j, 1, NULL, &ei),
		         FWC_ERR_THRESHOLD);
		CHECK(strstr(ei.msg, "key 0909090909 unknown") != NULL);
	}

	/* misuse */
	make_set(&ks, 3, 0);
	CHECK_RC(fwc_keyset_verify_threshold(&ks, digest, s, 1, NULL, NULL), FWC_ERR_ARG);
	make_set(&ks, 3, 4);
	CHECK_RC(fwc_keyset_verify_threshold(&ks, digest, s, 1, NULL, NULL), FWC_ERR_ARG);
	CHECK_RC(fwc_keyset_verify_threshold(NULL, digest, s, 1, NULL, NULL), FWC_ERR_ARG);
}

static void test_mixed_algorithms(void)
{
	struct fwc_seckey ed;
	struct fwc_keyset ks;
	struct fwc_keyset_sig s[2];
	uint8_t seed[32], edbin[FWC_PUBKEY_BIN_LEN], edsig[FWC_SIG_LEN];

	memset(seed, 0x42, sizeof(seed));
	CHECK_RC(fwc_key_from_secret(&ed, FWC_ALG_ED25519, seed), FWC_OK);
	make_set(&ks, 2, 2);
	CHECK_RC(fwc_key_public(&ks.keys[1], &ed), FWC_OK);
	CHECK_RC(fwc_pubkey_to_bin(edbin, &ks.keys[1]), FWC_OK);
	CHECK_RC(fwc_sign(edsig, &ed, digest, 32), FWC_OK);
	s[0] = sign_with(0, 0, digest);
	s[1].pubkey = edbin;
	s[1].sig = edsig;
	CHECK_RC(fwc_keyset_verify_threshold(&ks, digest, s, 2, NULL, NULL), FWC_OK);
	fwc_seckey_wipe(&ed);
}

static void test_codec(void)
{
	struct fwc_keyset ks, back;
	uint8_t buf[FWC_KEYSET_ENC_MAX], want[256];
	size_t len = 0, n;
	struct fwc_errinfo ei;
	char hex[300];

	/* keys given out of order come out sorted by binary form (1G < 2G < 3G by x) */
	memset(&ks, 0, sizeof(ks));
	ks.n = 3;
	ks.threshold = 2;
	ks.keys[0] = pk[2];
	ks.keys[1] = pk[0];
	ks.keys[2] = pk[1];
	ks.revoked[0] = 1; /* 3G: index 2 once sorted */
	CHECK_RC(fwc_keyset_encode(NULL, 0, &len, &ks), FWC_OK);
	CHECK(len == 1 + 2 + 2 + 2 + 3 * 35 + 1 + 1 + 1);
	CHECK_RC(fwc_keyset_encode(buf, sizeof(buf), &len, &ks), FWC_OK);
	/* {0: 1, 1: 2, 2: [h'01'||1G, h'01'||2G, h'01'||3G], 3: [2]}, written out by hand */
	snprintf(hex, sizeof(hex), "a4 0001 0102 02 83 5821 01%s 5821 01%s 5821 01%s 03 81 02",
	         gx[0], gx[1], gx[2]);
	{
		char clean[300];
		size_t j = 0;
		for (const char *c = hex; *c; c++)
			if (*c != ' ')
				clean[j++] = *c;
		clean[j] = '\0';
		n = test_unhex(want, sizeof(want), clean);
	}
	CHECK(n == len);
	CHECK_MEM(buf, want, n);

	CHECK_RC(fwc_keyset_decode(&back, buf, len, &ei), FWC_OK);
	CHECK(back.n == 3 && back.threshold == 2);
	CHECK(fwc_pubkey_equal(&back.keys[0], &pk[0]) && fwc_pubkey_equal(&back.keys[2], &pk[2]));
	CHECK(back.revoked[2] == 1 && back.revoked[0] == 0 && back.revoked[1] == 0);
	{
		uint8_t again[FWC_KEYSET_ENC_MAX];
		size_t len2;
		CHECK_RC(fwc_keyset_encode(again, sizeof(again), &len2, &back), FWC_OK);
		CHECK(len2 == len && memcmp(again, buf, len) == 0);
	}
	/* buffer too small */
	CHECK_RC(fwc_keyset_encode(buf, 10, &n, &ks), FWC_ERR_BUFSIZE);
	CHECK(n == len);

	/* invalid sets are not encoded */
	ks.threshold = 0;
	CHECK_RC(fwc_keyset_encode(buf, sizeof(buf), &n, &ks), FWC_ERR_RANGE);
	ks.threshold = 4;
	CHECK_RC(fwc_keyset_encode(buf, sizeof(buf), &n, &ks), FWC_ERR_RANGE);
	ks.threshold = 2;
	ks.keys[1] = pk[2];
	CHECK_RC(fwc_keyset_encode(buf, sizeof(buf), &n, &ks), FWC_ERR_DUPLICATE);
}

static void test_decode_rejects(void)
{
	uint8_t good[FWC_KEYSET_ENC_MAX], b[FWC_KEYSET_ENC_MAX];
	struct fwc_keyset ks, out;
	struct fwc_errinfo ei;
	size_t len;

	make_set(&ks, 2, 1);
	CHECK_RC(fwc_keyset_encode(good, sizeof(good), &len, &ks), FWC_OK);
	/* layout: a3 00 01 01 01 02 82 58 21 <33> 58 21 <33> */
	CHECK(len == 7 + 2 * 35);

	memcpy(b, good, len);
	b[4] = 0x00; /* threshold 0 */
	CHECK_RC(fwc_keyset_decode(&out, b, len, &ei), FWC_ERR_RANGE);
	CHECK(ei.offset == 4);
	b[4] = 0x03; /* threshold 3 > 2 keys */
	CHECK_RC(fwc_keyset_decode(&out, b, len, &ei), FWC_ERR_RANGE);
	memcpy(b, good, len);
	b[2] = 0x02; /* version 2 */
	CHECK_RC(fwc_keyset_decode(&out, b, len, &ei), FWC_ERR_UNSUPPORTED);
	memcpy(b, good, len);
	memcpy(b + 44, good + 9, 33); /* second key = first key */
	CHECK_RC(fwc_keyset_decode(&out, b, len, &ei), FWC_ERR_DUPLICATE);
	CHECK(ei.offset == 42);
	memcpy(b, good, len);
	memcpy(b + 9, good + 44, 33); /* swapped */
	memcpy(b + 44, good + 9, 33);
	CHECK_RC(fwc_keyset_decode(&out, b, len, &ei), FWC_ERR_UNSORTED);
	memcpy(b, good, len);
	b[9] = 0x07; /* unknown algorithm */
	CHECK_RC(fwc_keyset_decode(&out, b, len, &ei), FWC_ERR_UNSUPPORTED);
	CHECK(ei.offset == 7);
	memcpy(b, good, len);
	b[0] = 0xa4; /* unknown field 4 appended */
	b[len] = 0x04;
	b[len + 1] = 0x00;
	CHECK_RC(fwc_keyset_decode(&out, b, len + 2, &ei), FWC_ERR_UNKNOWN_FIELD);
	CHECK(ei.offset == len && strstr(ei.msg, "unknown field 4") != NULL);
	b[len] = 0x03; /* revoked list [5]: out of range */
	b[len + 1] = 0x81;
	b[len + 2] = 0x05;
	CHECK_RC(fwc_keyset_decode(&out, b, len + 3, &ei), FWC_ERR_RANGE);
	b[len + 1] = 0x82; /* [1, 1]: duplicate index */
	b[len + 2] = 0x01;
	b[len + 3] = 0x01;
	CHECK_RC(fwc_keyset_decode(&out, b, len + 4, &ei), FWC_ERR_DUPLICATE);
	b[len + 2] = 0x01; /* [1, 0]: not increasing */
	b[len + 3] = 0x00;
	CHECK_RC(fwc_keyset_decode(&out, b, len + 4, &ei), FWC_ERR_UNSORTED);
	b[len + 2] = 0x00; /* [0, 1]: fine */
	b[len + 3] = 0x01;
	CHECK_RC(fwc_keyset_decode(&out, b, len + 4, &ei), FWC_OK);
	CHECK(out.revoked[0] && out.revoked[1]);
	memcpy(b, good, len);
	b[0] = 0xa2; /* keys field dropped */
	CHECK_RC(fwc_keyset_decode(&out, b, 5, &ei), FWC_ERR_MISSING_FIELD);
	CHECK_RC(fwc_keyset_decode(&out, good, len - 1, &ei), FWC_ERR_TRUNCATED);
	memcpy(b, good, len);
	b[len] = 0x00;
	CHECK_RC(fwc_keyset_decode(&out, b, len + 1, &ei), FWC_ERR_TRAILING);
	CHECK_RC(fwc_keyset_decode(&out, good, len, &ei), FWC_OK);
}

int main(void)
{
	RUN(setup);
	RUN(test_threshold);
	RUN(test_mixed_algorithms);
	RUN(test_codec);
	RUN(test_decode_rejects);
	return test_done();
}
