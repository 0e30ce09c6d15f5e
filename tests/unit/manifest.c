/* Tests lib/manifest.c: the worked example of docs/formats/manifest.md byte for byte (body,
 * digest, signed manifest made with the fixed secret keys 1 and 2 and all-zero BIP-340 aux),
 * signing order independence, threshold verification, the forward-compatibility rule (keys
 * 0..63 critical, >= 64 kept and signed), and every field rule.
 *
 * Independent answers: the image SHA-256 is from coreutils sha256sum, the digest from Python's
 * hashlib (tagged hash written out), the signatures were reproduced by a from-the-spec Python
 * BIP-340 signer, and the public keys are the published x coordinates of G and 2G. */
#include "test.h"

#include "fwchain/cbor.h"
#include "fwchain/err.h"
#include "fwchain/key.h"
#include "fwchain/keyset.h"
#include "fwchain/manifest.h"
#include "fwchain/sha256.h"

/* Hex to bytes, ignoring spaces and newlines. */
static size_t unhex(uint8_t *out, size_t cap, const char *hex)
{
	static char clean[8192];
	size_t j = 0;

	for (; *hex && j + 1 < sizeof(clean); hex++)
		if (*hex != ' ' && *hex != '\n')
			clean[j++] = *hex;
	clean[j] = '\0';
	return test_unhex(out, cap, clean);
}

/* docs/formats/manifest.md, "Worked example" */
static const char *const example_body =
    "ac"
    "00 01"
    "01 6b 61636d652d746865726d6f"
    "02 65 312e342e32"
    "03 18 2a"
    "04 66 737461626c65"
    "05 58 24 01 55 12 20 37ee46398be69e100cab0a0566512dfcbcf0f8b94904bb2c0d6dd3174ed9d141"
    "06 16"
    "07 58 20 37ee46398be69e100cab0a0566512dfcbcf0f8b94904bb2c0d6dd3174ed9d141"
    "08 82 6c 746865726d6f2d7265762d62 6c 746865726d6f2d7265762d63"
    "09 1a 6955b900"
    "0a a3 00 19 09c4 01 81 6c 626574612d74657374657273 03 1a 69570a80"
    "0d 58 2e 7b22504944223a22746865726d6f222c22566572223a22312e342e32222c2246696c65223a2266"
    "772e62696e227d";

static const char *const example_digest =
    "2fb7e232d305df14dc904afab1dcbef3e31ce78a76513004a0fe46cf9d31424e";

static const char *const example_sigs =
    "02 82"
    "82 58 21 01 79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"
    "58 40 481dd0b5cc70a7974018caebcd6a57e3cbd210f901e31586e0179a04918ce49a"
    "c7356b14fc7ee29b6637e689a26fe3a5309facbc4a9f21994df984db55dc53a4"
    "82 58 21 01 c6047f9441ed7d6d3045406e95c07cd85c778e4b8cef3ca7abac09b95c709ee5"
    "58 40 8e98ae0e5a8a53abcf2a0004e0ef87e74a7e9f169753958a078409915ab5cd7c"
    "9ec3a2e8e358b7041520714de90d23453d6bfa7c3b4ffa23e03691ca1e0a8095";

static const char img[] = "fwchain example image\n";
static const char meta[] = "{\"PID\":\"thermo\",\"Ver\":\"1.4.2\",\"File\":\"fw.bin\"}";
static uint8_t cid[36];
static struct fwc_seckey sk[4];
static struct fwc_pubkey pk[4];
static const uint8_t zero_aux[32];

static void setup(void)
{
	for (int i = 0; i < 4; i++) {
		uint8_t secret[32] = {0};
		secret[31] = (uint8_t)(i + 1);
		CHECK_RC(fwc_key_from_secret(&sk[i], FWC_ALG_BIP340, secret), FWC_OK);
		CHECK_RC(fwc_key_public(&pk[i], &sk[i]), FWC_OK);
	}
}

static void example_manifest(struct fwc_manifest *m)
{
	memset(m, 0, sizeof(*m));
	cid[0] = 0x01;
	cid[1] = 0x55;
	cid[2] = 0x12;
	cid[3] = 0x20;
	fwc_sha256(m->sha256, img, sizeof(img) - 1);
	memcpy(cid + 4, m->sha256, 32);
	m->format = FWC_MANIFEST_VERSION;
	m->product = (struct fwc_cbor_str){"acme-thermo", 11};
	m->version = (struct fwc_cbor_str){"1.4.2", 5};
	m->counter = 42;
	m->channel = (struct fwc_cbor_str){"stable", 6};
	m->cid = (struct fwc_cbor_bytes){cid, sizeof(cid)};
	m->size = sizeof(img) - 1;
	m->n_hw = 2;
	m->hw[0] = (struct fwc_cbor_str){"thermo-rev-b", 12};
	m->hw[1] = (struct fwc_cbor_str){"thermo-rev-c", 12};
	m->created = 1767225600; /* 2026-01-01T00:00:00Z */
	m->has_rollout = 1;
	m->rollout.has_bps = 1;
	m->rollout.bps = 2500;
	m->rollout.n_groups = 1;
	m->rollout.groups[0] = (struct fwc_cbor_str){"beta-testers", 12};
	m->rollout.has_not_before = 1;
	m->rollout.not_before = 1767312000;
	m->has_metadata = 1;
	m->metadata = (struct fwc_cbor_bytes){(const uint8_t *)meta, sizeof(meta) - 1};
}

static void test_worked_example(void)
{
	struct fwc_manifest m, back;
	uint8_t want[1024], body[FWC_MANIFEST_BODY_MAX], s0[1024], s1[1024], s2[1024];
	uint8_t digest[32], want_digest[32];
	size_t wlen, blen, l0, l1, l2, mlen;
	struct fwc_errinfo ei = {0, ""};
	struct fwc_signed_manifest sm;

	example_manifest(&m);
	CHECK_RC(fwc_sha256(digest, img, sizeof(img) - 1), FWC_OK);
	{
		static const char *coreutils =
		    "37ee46398be69e100cab0a0566512dfcbcf0f8b94904bb2c0d6dd3174ed9d141";
		uint8_t w[32];
		test_unhex(w, 32, coreutils);
		CHECK_MEM(digest, w, 32);
	}

	/* body, byte for byte */
	wlen = unhex(want, sizeof(want), example_body);
	CHECK(wlen == 220);
	CHECK_RC(fwc_manifest_encode(NULL, 0, &mlen, &m, &ei), FWC_OK);
	CHECK(mlen == wlen);
	CHECK_RC(fwc_manifest_encode(body, sizeof(body), &blen, &m, &ei), FWC_OK);
	CHECK(blen == wlen && memcmp(body, want, wlen) == 0);

	/* decode gives the fields back, pointing into the input */
	CHECK_RC(fwc_manifest_decode(&back, want, wlen, &ei), FWC_OK);
	CHECK(back.product.len == 11 && memcmp(back.product.p, "acme-thermo", 11) == 0);
	CHECK(back.product.p == (const char *)want + 5);
	CHECK(back.counter == 42 && back.size == 22 && back.created == 1767225600);
	CHECK(back.n_hw == 2 && memcmp(back.hw[1].p, "thermo-rev-c", 12) == 0);
	CHECK(back.has_rollout && back.rollout.bps == 2500 && back.rollout.n_groups == 1);
	CHECK(back.rollout.has_not_before && back.rollout.not_before == 1767312000);
	CHECK(back.rollout.n_regions == 0 && !back.has_encryption && !back.has_licence);
	CHECK(back.has_metadata && back.metadata.len == 46);
	CHECK(back.n_ext == 0 && back.ext.len == 0);
	CHECK_MEM(back.sha256, digest, 32);

	/* digest: tagged hash of the body (value from Python hashlib) */
	CHECK_RC(fwc_manifest_digest(digest, want, wlen), FWC_OK);
	test_unhex(want_digest, 32, example_digest);
	CHECK_MEM(digest, want_digest, 32);

	/* wrap, sign with key 2 then key 1: signatures come out sorted by public key */
	CHECK_RC(fwc_signed_manifest_encode(s0, sizeof(s0), &l0, body, blen, NULL, 0, &ei), FWC_OK);
	CHECK(l0 == 4 + 220 + 2);
	CHECK_RC(fwc_signed_manifest_sign(s1, sizeof(s1), &l1, s0, l0, &sk[1], zero_aux, &ei),
	         FWC_OK);
	CHECK_RC(fwc_signed_manifest_sign(s2, sizeof(s2), &l2, s1, l1, &sk[0], zero_aux, &ei),
	         FWC_OK);
	{
		size_t n = unhex(want, 4, "a2 01 58 dc");
		n += unhex(want + n, 220, example_body);
		n += unhex(want + n, sizeof(want) - n, example_sigs);
		CHECK(n == 430);
		CHECK(l2 == n && memcmp(s2, want, n) == 0);
	}
	/* the other signing order gives the same bytes */
	CHECK_RC(fwc_signed_manifest_sign(s1, sizeof(s1), &l1, s0, l0, &sk[0], zero_aux, &ei),
	         FWC_OK);
	CHECK_RC(fwc_signed_manifest_sign(s0, sizeof(s0), &l0, s1, l1, &sk[1], zero_aux, &ei),
	         FWC_OK);
	CHECK(l0 == l2 && memcmp(s0, s2, l2) == 0);

	/* decode the signed manifest and verify thresholds */
	CHECK_RC(fwc_signed_manifest_decode(&sm, s2, l2, &ei), FWC_OK);
	CHECK(sm.body == s2 + 4 && sm.body_len == 220 && sm.n_sigs == 2);
	CHECK(sm.manifest.counter == 42);
	{
		struct fwc_keyset ks;
		unsigned valid = 0;

		memset(&ks, 0, sizeof(ks));
		ks.n = 3;
		ks.threshold = 2;
		ks.keys[0] = pk[0];
		ks.keys[1] = pk[1];
		ks.keys[2] = pk[2];
		CHECK_RC(fwc_signed_manifest_verify(&sm, &ks, &valid, &ei), FWC_OK);
		CHECK(valid == 2);
		ks.threshold = 3;
		CHECK_RC(fwc_signed_manifest_verify(&sm, &ks, &valid, &ei), FWC_ERR_THRESHOLD);
		CHECK(strcmp(ei.msg, "3 of 3 required, 2 valid") == 0);
		ks.threshold = 2;
		ks.revoked[1] = 1;
		CHECK_RC(fwc_signed_manifest_verify(&sm, &ks, &valid, &ei), FWC_ERR_THRESHOLD);
		CHECK(strcmp(ei.msg, "2 of 3 required, 1 valid (key 1 revoked)") == 0);
		ks.revoked[1] = 0;
		/* any flipped body byte breaks every signature */
		s2[54] ^= 1;
		CHECK_RC(fwc_signed_manifest_decode(&sm, s2, l2, NULL), FWC_OK);
		CHECK_RC(fwc_signed_manifest_verify(&sm, &ks, &valid, &ei), FWC_ERR_THRESHOLD);
		CHECK(valid == 0);
		s2[54] ^= 1;
	}
}

static void test_sign_rules(void)
{
	struct fwc_manifest m;
	uint8_t body[1024], a[2048], b[2048];
	size_t blen, la, lb, need;
	struct fwc_signed_manifest sm;
	struct fwc_errinfo ei;

	example_manifest(&m);
	CHECK_RC(fwc_manifest_encode(body, sizeof(body), &blen, &m, NULL), FWC_OK);
	CHECK_RC(fwc_signed_manifest_encode(a, sizeof(a), &la, body, blen, NULL, 0, NULL), FWC_OK);
	CHECK_RC(fwc_signed_manifest_sign(b, sizeof(b), &lb, a, la, &sk[0], NULL, NULL), FWC_OK);
	/* re-signing by the same key replaces, it does not add */
	CHECK_RC(fwc_signed_manifest_sign(a, sizeof(a), &la, b, lb, &sk[0], NULL, NULL), FWC_OK);
	CHECK_RC(fwc_signed_manifest_decode(&sm, a, la, NULL), FWC_OK);
	CHECK(sm.n_sigs == 1 && la == lb);
	/* measuring and a too-small buffer */
	CHECK_RC(fwc_signed_manifest_sign(NULL, 0, &need, a, la, &sk[1], zero_aux, NULL), FWC_OK);
	CHECK(need == la + 2 + 33 + 2 + 64 + 1);
	CHECK_RC(fwc_signed_manifest_sign(b, 100, &need, a, la, &sk[1], zero_aux, NULL),
	         FWC_ERR_BUFSIZE);
	/* output overlapping the input is refused */
	CHECK_RC(fwc_signed_manifest_sign(a, sizeof(a), &need, a, la, &sk[1], zero_aux, NULL),
	         FWC_ERR_ARG);
	/* an ed25519 key signs too */
	{
		struct fwc_seckey ed;
		uint8_t seed[32];

		memset(seed, 7, sizeof(seed));
		CHECK_RC(fwc_key_from_secret(&ed, FWC_ALG_ED25519, seed), FWC_OK);
		CHECK_RC(fwc_signed_manifest_sign(b, sizeof(b), &lb, a, la, &ed, NULL, NULL),
		         FWC_OK);
		CHECK_RC(fwc_signed_manifest_decode(&sm, b, lb, &ei), FWC_OK);
		CHECK(sm.n_sigs == 2 && sm.sigs[0].pubkey[0] == FWC_ALG_BIP340 &&
		      sm.sigs[1].pubkey[0] == FWC_ALG_ED25519);
		fwc_seckey_wipe(&ed);
	}
	/* duplicate signers given to encode */
	{
		uint8_t pkb[33], sig[64] = {0};
		struct fwc_keyset_sig two[2];

		fwc_pubkey_to_bin(pkb, &pk[0]);
		two[0].pubkey = two[1].pubkey = pkb;
		two[0].sig = two[1].sig = sig;
		CHECK_RC(fwc_signed_manifest_encode(a, sizeof(a), &la, body, blen, two, 2, NULL),
		         FWC_ERR_DUPLICATE);
	}
}

/* A hand-made body: the ten required fields with small defaults, field `over` replaced by the
 * raw value over_hex (or left out when over_hex is NULL), then `extra` raw key/value pairs. */
static size_t make_body(uint8_t *out, size_t cap, int over, const char *over_hex, const char *extra,
                        int n_extra)
{
	static const char *const def[10] = {
	    "01",
	    "61 61",
	    "61 31",
	    "01",
	    "61 73",
	    "58 24 01551220 aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	    "0a",
	    "58 20 aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	    "81 61 68",
	    "00",
	};
	size_t n = 0;
	int fields = 10 + n_extra - (over >= 0 && over_hex == NULL);

	out[n++] = (uint8_t)(0xa0 + fields);
	for (int k = 0; k < 10; k++) {
		if (k == over && over_hex == NULL)
			continue;
		out[n++] = (uint8_t)k;
		n += unhex(out + n, cap - n, k == over ? over_hex : def[k]);
	}
	if (extra)
		n += unhex(out + n, cap - n, extra);
	return n;
}

static int decode_hex_body(int over, const char *over_hex, const char *extra, int n_extra,
                           struct fwc_errinfo *ei, struct fwc_manifest *m)
{
	static uint8_t buf[8192];
	size_t n = make_body(buf, sizeof(buf), over, over_hex, extra, n_extra);
	struct fwc_manifest tmp;

	return fwc_manifest_decode(m ? m : &tmp, buf, n, ei);
}

static void test_field_rules(void)
{
	struct fwc_errinfo ei;
	struct fwc_manifest m;
	uint8_t buf[512], again[512];
	size_t n, n2;

	/* the baseline is valid and round-trips */
	n = make_body(buf, sizeof(buf), -1, NULL, NULL, 0);
	CHECK_RC(fwc_manifest_decode(&m, buf, n, &ei), FWC_OK);
	CHECK_RC(fwc_manifest_encode(again, sizeof(again), &n2, &m, &ei), FWC_OK);
	CHECK(n2 == n && memcmp(again, buf, n) == 0);

	/* every required field */
	for (int k = 0; k < 10; k++) {
		CHECK_RC(decode_hex_body(k, NULL, NULL, 0, &ei, NULL), FWC_ERR_MISSING_FIELD);
		CHECK(strstr(ei.msg, "required field") != NULL);
	}
	/* format */
	CHECK_RC(decode_hex_body(0, "02", NULL, 0, &ei, NULL), FWC_ERR_UNSUPPORTED);
	CHECK(ei.offset == 2);
	/* texts: empty, too long, wrong type, not UTF-8 */
	CHECK_RC(decode_hex_body(1, "60", NULL, 0, &ei, NULL), FWC_ERR_RANGE);
	CHECK_RC(
	    decode_hex_body(1,
	                    "78 41 "
	                    "61616161616161616161616161616161616161616161616161616161616161616161"
	                    "61616161616161616161616161616161616161616161616161616161616161",
	                    NULL, 0, &ei, NULL),
	    FWC_ERR_TOO_LARGE); /* 65 bytes */
	CHECK_RC(
	    decode_hex_body(1,
	                    "78 40 "
	                    "61616161616161616161616161616161616161616161616161616161616161616161"
	                    "616161616161616161616161616161616161616161616161616161616161",
	                    NULL, 0, &ei, NULL),
	    FWC_OK); /* 64 bytes */
	CHECK_RC(decode_hex_body(1, "41 61", NULL, 0, &ei, NULL), FWC_ERR_TYPE);
	CHECK_RC(decode_hex_body(1, "62 c0 80", NULL, 0, &ei, NULL), FWC_ERR_MALFORMED);
	CHECK_RC(decode_hex_body(
	             4, "78 21 616161616161616161616161616161616161616161616161616161616161616161",
	             NULL, 0, &ei, NULL),
	         FWC_ERR_TOO_LARGE); /* channel 33 bytes */
	/* counter, size, created types */
	CHECK_RC(decode_hex_body(3, "20", NULL, 0, &ei, NULL), FWC_ERR_TYPE);
	CHECK_RC(decode_hex_body(6, "00", NULL, 0, &ei, NULL), FWC_ERR_RANGE);
	CHECK_RC(decode_hex_body(3, "1b ffffffffffffffff", NULL, 0, &ei, &m), FWC_OK);
	CHECK(m.counter == UINT64_MAX);
	/* cid shapes */
	CHECK_RC(decode_hex_body(
	             5,
	             "58 22 1220 bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
	             NULL, 0, &ei, NULL),
	         FWC_OK); /* CIDv0 */
	CHECK_RC(
	    decode_hex_body(
	        5,
	        "58 24 01701220 bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
	        NULL, 0, &ei, NULL),
	    FWC_OK); /* CIDv1 dag-pb */
	CHECK_RC(
	    decode_hex_body(
	        5,
	        "58 24 01711220 bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
	        NULL, 0, &ei, NULL),
	    FWC_ERR_MALFORMED); /* dag-cbor codec */
	CHECK(ei.offset == 18 && strstr(ei.msg, "codec 0x71") != NULL);
	CHECK_RC(
	    decode_hex_body(
	        5,
	        "58 24 02551220 bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
	        NULL, 0, &ei, NULL),
	    FWC_ERR_MALFORMED); /* version 2 */
	CHECK_RC(
	    decode_hex_body(
	        5,
	        "58 24 01551320 bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
	        NULL, 0, &ei, NULL),
	    FWC_ERR_MALFORMED); /* sha2-512 code */
	CHECK_RC(decode_hex_body(5, "43 015512", NULL, 0, &ei, NULL), FWC_ERR_MALFORMED);
	CHECK_RC(decode_hex_body(5, "60", NULL, 0, &ei, NULL), FWC_ERR_TYPE);
	/* sha256 length */
	CHECK_RC(decode_hex_body(
	             7, "58 1f aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	             NULL, 0, &ei, NULL),
	         FWC_ERR_MALFORMED);
	/* hardware: empty, duplicate, 16 ok, 17 too many */
	CHECK_RC(decode_hex_body(8, "80", NULL, 0, &ei, NULL), FWC_ERR_RANGE);
	CHECK_RC(decode_hex_body(8, "82 6168 6168", NULL, 0, &ei, NULL), FWC_ERR_DUPLICATE);
	CHECK_RC(decode_hex_body(8,
	                         "90 6161 6162 6163 6164 6165 6166 6167 6168 6169 616a 616b "
	                         "616c 616d 616e 616f 6170",
	                         NULL, 0, &ei, &m),
	         FWC_OK);
	CHECK(m.n_hw == 16);
	CHECK_RC(decode_hex_body(8,
	                         "91 6161 6162 6163 6164 6165 6166 6167 6168 6169 616a 616b "
	                         "616c 616d 616e 616f 6170 6171",
	                         NULL, 0, &ei, NULL),
	         FWC_ERR_RANGE);
	CHECK_RC(decode_hex_body(8, "6168", NULL, 0, &ei, NULL), FWC_ERR_TYPE);

	/* optional fields */
	CHECK_RC(decode_hex_body(-1, NULL, "0a a1 00 19 2710", 1, &ei, &m), FWC_OK);
	CHECK(m.has_rollout && m.rollout.bps == 10000);
	CHECK_RC(decode_hex_body(-1, NULL, "0a a1 00 19 2711", 1, &ei, NULL), FWC_ERR_RANGE);
	CHECK_RC(decode_hex_body(-1, NULL, "0a a0", 1, &ei, NULL), FWC_ERR_RANGE);
	CHECK_RC(decode_hex_body(-1, NULL, "0a a1 04 00", 1, &ei, NULL), FWC_ERR_UNKNOWN_FIELD);
	CHECK_RC(decode_hex_body(-1, NULL, "0a a1 02 82 6265 75 6275 73", 1, &ei, &m), FWC_OK);
	CHECK(m.rollout.n_regions == 2 && m.rollout.regions[1].p[0] == 'u');
	CHECK_RC(decode_hex_body(-1, NULL,
	                         "0b a2 00 71 78636861636861323070 6f6c7931333035 01 41 07", 1, &ei,
	                         &m),
	         FWC_OK);
	CHECK(m.has_encryption && m.encryption.alg.len == 17 && m.encryption.key_id.len == 1);
	CHECK_RC(decode_hex_body(-1, NULL, "0b a1 00 61 78", 1, &ei, NULL), FWC_ERR_MISSING_FIELD);
	CHECK_RC(decode_hex_body(-1, NULL, "0b a2 00 61 78 01 40", 1, &ei, NULL), FWC_ERR_RANGE);
	CHECK_RC(decode_hex_body(-1, NULL, "0c 63 70726f", 1, &ei, &m), FWC_OK);
	CHECK(m.has_licence && m.licence.len == 3);
	CHECK_RC(decode_hex_body(-1, NULL, "0d 40", 1, &ei, &m), FWC_OK);
	CHECK(m.has_metadata && m.metadata.len == 0);
	{
		char big[700];
		int k = snprintf(big, sizeof(big), "0d 58 ff ");
		for (int i = 0; i < 255; i++)
			k += snprintf(big + k, sizeof(big) - (size_t)k, "00");
		CHECK_RC(decode_hex_body(-1, NULL, big, 1, &ei, &m), FWC_OK);
		CHECK(m.metadata.len == 255);
		snprintf(big, sizeof(big), "0d 59 0100 ");
		k = (int)strlen(big);
		for (int i = 0; i < 256; i++)
			k += snprintf(big + k, sizeof(big) - (size_t)k, "00");
		CHECK_RC(decode_hex_body(-1, NULL, big, 1, &ei, NULL), FWC_ERR_TOO_LARGE);
	}

	/* forward compatibility: 14..63 critical, >= 64 skipped but kept */
	CHECK_RC(decode_hex_body(-1, NULL, "0e 00", 1, &ei, NULL), FWC_ERR_UNKNOWN_FIELD);
	CHECK(strcmp(ei.msg, "manifest: unknown critical field 14") == 0);
	CHECK_RC(decode_hex_body(-1, NULL, "18 3f 00", 1, &ei, NULL), FWC_ERR_UNKNOWN_FIELD);
	CHECK(strstr(ei.msg, "field 63") != NULL);
	CHECK_RC(decode_hex_body(-1, NULL, "18 40 82 01 61 78   18 ff a0", 2, &ei, &m), FWC_OK);
	CHECK(m.n_ext == 2 && m.ext.len == 9);
	n = make_body(buf, sizeof(buf), -1, NULL, "18 40 82 01 61 78   18 ff a0", 2);
	CHECK_RC(fwc_manifest_decode(&m, buf, n, &ei), FWC_OK);
	CHECK(m.ext.p == buf + n - 9);
	CHECK_RC(fwc_manifest_encode(again, sizeof(again), &n2, &m, &ei), FWC_OK);
	CHECK(n2 == n && memcmp(again, buf, n) == 0); /* extensions survive re-encoding */
	/* critical after extension is impossible in sorted order: refused as unsorted */
	CHECK_RC(decode_hex_body(-1, NULL, "18 40 00 0d 40", 2, &ei, NULL), FWC_ERR_UNSORTED);
	/* an extension value must still be canonical */
	CHECK_RC(decode_hex_body(-1, NULL, "18 40 18 05", 1, &ei, NULL), FWC_ERR_NONCANONICAL);
	/* keys must be unsigned integers */
	CHECK_RC(decode_hex_body(-1, NULL, "61 61 00", 1, &ei, NULL), FWC_ERR_TYPE);
	/* bad extension bytes handed to the encoder are caught */
	m.ext.p = (const uint8_t *)"\x18\x40\x18\x05";
	m.ext.len = 4;
	m.n_ext = 1;
	CHECK_RC(fwc_manifest_encode(again, sizeof(again), &n2, &m, &ei), FWC_ERR_NONCANONICAL);

	/* CBOR-level: trailing bytes, truncation, duplicate key */
	n = make_body(buf, sizeof(buf), -1, NULL, NULL, 0);
	buf[n] = 0;
	CHECK_RC(fwc_manifest_decode(&m, buf, n + 1, &ei), FWC_ERR_TRAILING);
	for (size_t cut = 0; cut < n; cut++)
		CHECK_RC(fwc_manifest_decode(&m, buf, cut, NULL), FWC_ERR_TRUNCATED);
	CHECK_RC(decode_hex_body(-1, NULL, "09 00", 1, &ei, NULL), FWC_ERR_DUPLICATE);
}

static void test_encode_checks(void)
{
	struct fwc_manifest m;
	uint8_t buf[1024];
	size_t n;
	struct fwc_errinfo ei;

	example_manifest(&m);
	m.format = 2;
	CHECK_RC(fwc_manifest_encode(buf, sizeof(buf), &n, &m, &ei), FWC_ERR_UNSUPPORTED);
	example_manifest(&m);
	m.product.len = 0;
	CHECK_RC(fwc_manifest_encode(buf, sizeof(buf), &n, &m, &ei), FWC_ERR_RANGE);
	example_manifest(&m);
	m.channel = (struct fwc_cbor_str){"0123456789012345678901234567890123", 33};
	CHECK_RC(fwc_manifest_encode(buf, sizeof(buf), &n, &m, &ei), FWC_ERR_TOO_LARGE);
	example_manifest(&m);
	m.cid.len = 35;
	CHECK_RC(fwc_manifest_encode(buf, sizeof(buf), &n, &m, &ei), FWC_ERR_MALFORMED);
	example_manifest(&m);
	m.hw[1] = m.hw[0];
	CHECK_RC(fwc_manifest_encode(buf, sizeof(buf), &n, &m, &ei), FWC_ERR_DUPLICATE);
	example_manifest(&m);
	m.n_hw = 0;
	CHECK_RC(fwc_manifest_encode(buf, sizeof(buf), &n, &m, &ei), FWC_ERR_RANGE);
	example_manifest(&m);
	m.rollout.bps = 10001;
	CHECK_RC(fwc_manifest_encode(buf, sizeof(buf), &n, &m, &ei), FWC_ERR_RANGE);
	example_manifest(&m);
	m.metadata.len = 256;
	CHECK_RC(fwc_manifest_encode(buf, sizeof(buf), &n, &m, &ei), FWC_ERR_TOO_LARGE);
	example_manifest(&m);
	m.version = (struct fwc_cbor_str){"\xff", 1};
	CHECK_RC(fwc_manifest_encode(buf, sizeof(buf), &n, &m, &ei), FWC_ERR_MALFORMED);
	example_manifest(&m);
	m.has_encryption = 1;
	m.encryption.alg = (struct fwc_cbor_str){"xchacha20poly1305", 17};
	CHECK_RC(fwc_manifest_encode(buf, sizeof(buf), &n, &m, &ei), FWC_ERR_RANGE); /* no key id */
	m.encryption.key_id = (struct fwc_cbor_bytes){(const uint8_t *)"k1", 2};
	m.has_licence = 1;
	m.licence = (struct fwc_cbor_str){"pro-features", 12};
	m.rollout.n_regions = 1;
	m.rollout.regions[0] = (struct fwc_cbor_str){"eu", 2};
	CHECK_RC(fwc_manifest_encode(buf, sizeof(buf), &n, &m, &ei), FWC_OK);
	{
		struct fwc_manifest back;
		uint8_t again[1024];
		size_t n2;

		CHECK_RC(fwc_manifest_decode(&back, buf, n, &ei), FWC_OK);
		CHECK(back.has_encryption && back.has_licence && back.rollout.n_regions == 1);
		CHECK_RC(fwc_manifest_encode(again, sizeof(again), &n2, &back, &ei), FWC_OK);
		CHECK(n2 == n && memcmp(again, buf, n) == 0);
	}
	CHECK_RC(fwc_manifest_encode(buf, 10, &n, &m, &ei), FWC_ERR_BUFSIZE);
}

static void test_signed_rejects(void)
{
	struct fwc_manifest m;
	uint8_t body[512], s[1024], b[1024];
	size_t blen, sl;
	struct fwc_signed_manifest sm;
	struct fwc_errinfo ei;

	example_manifest(&m);
	CHECK_RC(fwc_manifest_encode(body, sizeof(body), &blen, &m, NULL), FWC_OK);
	CHECK_RC(fwc_signed_manifest_encode(s, sizeof(s), &sl, body, blen, NULL, 0, NULL), FWC_OK);
	CHECK_RC(fwc_signed_manifest_sign(b, sizeof(b), &sl, s, sl, &sk[0], zero_aux, NULL),
	         FWC_OK);
	CHECK_RC(fwc_signed_manifest_sign(s, sizeof(s), &sl, b, sl, &sk[1], zero_aux, NULL),
	         FWC_OK);
	/* layout: a2 01 58dc <220 at 4> 02 82 | 82 5821 <33> 5840 <64> at 226 | the same at 328 */
	CHECK(sl == 430);
	memcpy(b, s, sl);
	memcpy(b + 226 + 3, s + 328 + 3, 33); /* both signers = key 2 */
	CHECK_RC(fwc_signed_manifest_decode(&sm, b, sl, &ei), FWC_ERR_DUPLICATE);
	CHECK(ei.offset == 328 + 1);
	memcpy(b + 328 + 3, s + 226 + 3, 33); /* swapped: unsorted */
	CHECK_RC(fwc_signed_manifest_decode(&sm, b, sl, &ei), FWC_ERR_UNSORTED);
	memcpy(b, s, sl);
	b[263] = 0x3f; /* a signature of 63 bytes */
	CHECK_RC(fwc_signed_manifest_decode(&sm, b, sl, &ei), FWC_ERR_MALFORMED);
	CHECK(ei.offset == 262 && strstr(ei.msg, "63 bytes") != NULL);
	memcpy(b, s, sl);
	b[sl] = 0x00;
	CHECK_RC(fwc_signed_manifest_decode(&sm, b, sl + 1, &ei), FWC_ERR_TRAILING);
	CHECK_RC(fwc_signed_manifest_decode(&sm, s, sl - 1, &ei), FWC_ERR_TRUNCATED);
	memcpy(b, s, sl);
	b[0] = 0xa1; /* only the body: missing signatures field */
	CHECK_RC(fwc_signed_manifest_decode(&sm, b, 224, &ei), FWC_ERR_MISSING_FIELD);
	memcpy(b, s, sl);
	b[224] = 0x03; /* unknown envelope field */
	CHECK_RC(fwc_signed_manifest_decode(&sm, b, sl, &ei), FWC_ERR_UNKNOWN_FIELD);
	memcpy(b, s, sl);
	b[4 + 40] ^= 0x80; /* break the body's CBOR: error offset is in the envelope */
	CHECK(fwc_signed_manifest_decode(&sm, b, sl, &ei) < 0);
	CHECK(ei.offset >= 4 && ei.offset < 224);
	/* an entry that is not a pair */
	memcpy(b, s, sl);
	b[226] = 0x83;
	CHECK_RC(fwc_signed_manifest_decode(&sm, b, sl, &ei), FWC_ERR_MALFORMED);
	CHECK_RC(fwc_signed_manifest_decode(&sm, s, sl, &ei), FWC_OK);
}

int main(void)
{
	RUN(setup);
	RUN(test_worked_example);
	RUN(test_sign_rules);
	RUN(test_field_rules);
	RUN(test_encode_checks);
	RUN(test_signed_rejects);
	return test_done();
}
