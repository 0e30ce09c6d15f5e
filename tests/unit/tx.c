/* Tests lib/tx.c: the worked example of docs/formats/transaction.md byte for byte (body,
 * digest, signed transaction with secret key 1 and all-zero BIP-340 aux, transaction id),
 * verification, and every decoder refusal.
 *
 * Independent answers: the digest and the id were computed with Python's hashlib, the
 * signature reproduced by a from-the-spec Python BIP-340 signer, and the sender key is the
 * published x coordinate of G. */
#include "test.h"

#include "fwchain/err.h"
#include "fwchain/key.h"
#include "fwchain/sha256.h"
#include "fwchain/tx.h"

static size_t unhex(uint8_t *out, size_t cap, const char *hex)
{
	static char clean[4096];
	size_t j = 0;

	for (; *hex && j + 1 < sizeof(clean); hex++)
		if (*hex != ' ')
			clean[j++] = *hex;
	clean[j] = '\0';
	return test_unhex(out, cap, clean);
}

static const char *const example_body =
    "a7"
    "00 01"
    "01 0f"
    "02 6b 6677636861696e2d646576"
    "03 58 21 01 79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"
    "04 07"
    "05 1a 6955b93c"
    "06 43 a10001";
static const char *const example_sig =
    "45c10d23f94e6ff02734135f732611612cf98febd5d0e6b1a20af52a899920f6"
    "44caf023f354a4c0ac27536e4c9787e3608a5a9b8c5e668a6664f9d6538ce9f9";
static const char *const example_digest =
    "9f71d3a8fde2c8f32f34458ea08d64ae1eec0088fb01b4961a594ccf050f9063";
static const char *const example_id =
    "31aee1a6b5e561f2bdea3c3e9424c5f5a218eb88bea00b946295473eeebc2ce2";

static struct fwc_seckey sk1, sk2;
static const uint8_t zero_aux[32];

static void setup(void)
{
	uint8_t secret[32] = {0};

	secret[31] = 1;
	CHECK_RC(fwc_key_from_secret(&sk1, FWC_ALG_BIP340, secret), FWC_OK);
	secret[31] = 2;
	CHECK_RC(fwc_key_from_secret(&sk2, FWC_ALG_BIP340, secret), FWC_OK);
}

static void example_tx(struct fwc_tx *tx)
{
	memset(tx, 0, sizeof(*tx));
	tx->type = FWC_TX_ROLLOUT_CONTROL;
	tx->chain_id = (struct fwc_cbor_str){"fwchain-dev", 11};
	fwc_key_public(&tx->sender, &sk1);
	tx->nonce = 7;
	tx->time = 1767225660; /* 2026-01-01T00:01:00Z */
	tx->payload = (struct fwc_cbor_bytes){(const uint8_t *)"\xa1\x00\x01", 3};
}

static void test_worked_example(void)
{
	struct fwc_tx tx;
	struct fwc_signed_tx stx;
	uint8_t body[256], want[512], signed_tx[512], d[32], w[32];
	size_t blen, wlen, slen, n;
	struct fwc_errinfo ei = {0, ""};

	example_tx(&tx);
	CHECK_RC(fwc_tx_encode_body(body, sizeof(body), &blen, &tx, &ei), FWC_OK);
	wlen = unhex(want, sizeof(want), example_body);
	CHECK(wlen == 67 && blen == wlen && memcmp(body, want, wlen) == 0);

	CHECK_RC(fwc_tx_digest(d, body, blen), FWC_OK);
	test_unhex(w, 32, example_digest);
	CHECK_MEM(d, w, 32);

	CHECK_RC(fwc_tx_sign(signed_tx, sizeof(signed_tx), &slen, body, blen, &sk1, zero_aux, &ei),
	         FWC_OK);
	n = unhex(want, sizeof(want), "a2 01 58 43");
	n += unhex(want + n, sizeof(want) - n, example_body);
	n += unhex(want + n, sizeof(want) - n, "02 58 40");
	n += unhex(want + n, sizeof(want) - n, example_sig);
	CHECK(n == 138 && slen == n && memcmp(signed_tx, want, n) == 0);
	/* the same envelope from the body and a signature made elsewhere */
	{
		uint8_t again[512], sig[64];
		size_t alen = 0;

		unhex(sig, sizeof(sig), example_sig);
		CHECK_RC(fwc_tx_encode_signed(again, sizeof(again), &alen, body, blen, sig),
		         FWC_OK);
		CHECK(alen == n && memcmp(again, want, n) == 0);
		CHECK_RC(fwc_tx_encode_signed(again, 100, &alen, body, blen, sig), FWC_ERR_BUFSIZE);
		CHECK_RC(fwc_tx_encode_signed(NULL, 0, &alen, body, blen, sig), FWC_OK);
		CHECK(alen == n);
	}

	CHECK_RC(fwc_tx_id(d, signed_tx, slen), FWC_OK);
	test_unhex(w, 32, example_id);
	CHECK_MEM(d, w, 32);

	CHECK_RC(fwc_tx_decode(&stx, signed_tx, slen, &ei), FWC_OK);
	CHECK(stx.body == signed_tx + 4 && stx.body_len == 67 && stx.sig == signed_tx + 74);
	CHECK(stx.tx.type == FWC_TX_ROLLOUT_CONTROL && stx.tx.nonce == 7);
	CHECK(stx.tx.time == 1767225660 && stx.tx.payload.len == 3);
	CHECK(stx.tx.chain_id.len == 11 && memcmp(stx.tx.chain_id.p, "fwchain-dev", 11) == 0);
	CHECK(fwc_pubkey_equal(&stx.tx.sender, &tx.sender));
	CHECK_RC(fwc_tx_verify(&stx, &ei), FWC_OK);

	/* a flipped byte anywhere in the body or signature fails verification or decoding */
	for (size_t i = 4; i < slen; i++) {
		int rc;

		signed_tx[i] ^= 0x01;
		rc = fwc_tx_decode(&stx, signed_tx, slen, NULL);
		if (rc == FWC_OK)
			rc = fwc_tx_verify(&stx, NULL);
		CHECK(rc != FWC_OK);
		signed_tx[i] ^= 0x01;
	}

	/* the body round-trips */
	{
		uint8_t again[256];
		size_t alen;

		CHECK_RC(fwc_tx_decode_body(&tx, body, blen, &ei), FWC_OK);
		CHECK_RC(fwc_tx_encode_body(again, sizeof(again), &alen, &tx, &ei), FWC_OK);
		CHECK(alen == blen && memcmp(again, body, blen) == 0);
	}
}

static void test_sign_checks(void)
{
	struct fwc_tx tx;
	uint8_t body[256], out[512];
	size_t blen, olen;
	struct fwc_errinfo ei;

	example_tx(&tx);
	CHECK_RC(fwc_tx_encode_body(body, sizeof(body), &blen, &tx, NULL), FWC_OK);
	/* only the sender can sign */
	CHECK_RC(fwc_tx_sign(out, sizeof(out), &olen, body, blen, &sk2, NULL, &ei), FWC_ERR_KEY);
	/* measure, then too small */
	CHECK_RC(fwc_tx_sign(NULL, 0, &olen, body, blen, &sk1, NULL, NULL), FWC_OK);
	CHECK(olen == 4 + blen + 3 + 64);
	CHECK_RC(fwc_tx_sign(out, 20, &olen, body, blen, &sk1, NULL, NULL), FWC_ERR_BUFSIZE);
	/* random aux: still verifies */
	{
		struct fwc_signed_tx stx;
		CHECK_RC(fwc_tx_sign(out, sizeof(out), &olen, body, blen, &sk1, NULL, NULL),
		         FWC_OK);
		CHECK_RC(fwc_tx_decode(&stx, out, olen, NULL), FWC_OK);
		CHECK_RC(fwc_tx_verify(&stx, NULL), FWC_OK);
	}
	/* ed25519 sender */
	{
		struct fwc_seckey ed;
		struct fwc_signed_tx stx;
		uint8_t seed[32];

		memset(seed, 3, sizeof(seed));
		CHECK_RC(fwc_key_from_secret(&ed, FWC_ALG_ED25519, seed), FWC_OK);
		CHECK_RC(fwc_key_public(&tx.sender, &ed), FWC_OK);
		CHECK_RC(fwc_tx_encode_body(body, sizeof(body), &blen, &tx, NULL), FWC_OK);
		CHECK_RC(fwc_tx_sign(out, sizeof(out), &olen, body, blen, &ed, NULL, NULL), FWC_OK);
		CHECK_RC(fwc_tx_decode(&stx, out, olen, NULL), FWC_OK);
		CHECK_RC(fwc_tx_verify(&stx, NULL), FWC_OK);
		CHECK(stx.tx.sender.alg == FWC_ALG_ED25519);
		fwc_seckey_wipe(&ed);
	}
	/* encoder field checks */
	example_tx(&tx);
	tx.type = 0;
	CHECK_RC(fwc_tx_encode_body(body, sizeof(body), &blen, &tx, NULL), FWC_ERR_UNSUPPORTED);
	tx.type = FWC_TX_TYPE_MAX + 1;
	CHECK_RC(fwc_tx_encode_body(body, sizeof(body), &blen, &tx, NULL), FWC_ERR_UNSUPPORTED);
	example_tx(&tx);
	tx.chain_id.len = 0;
	CHECK_RC(fwc_tx_encode_body(body, sizeof(body), &blen, &tx, NULL), FWC_ERR_RANGE);
	tx.chain_id = (struct fwc_cbor_str){
	    "01234567890123456789012345678901234567890123456789012345678901234", 65};
	CHECK_RC(fwc_tx_encode_body(body, sizeof(body), &blen, &tx, NULL), FWC_ERR_TOO_LARGE);
	example_tx(&tx);
	tx.payload.len = FWC_TX_PAYLOAD_MAX + 1;
	CHECK_RC(fwc_tx_encode_body(body, sizeof(body), &blen, &tx, NULL), FWC_ERR_TOO_LARGE);
	example_tx(&tx);
	memset(tx.sender.key, 0xff, 32); /* not an x coordinate on the curve */
	CHECK_RC(fwc_tx_encode_body(body, sizeof(body), &blen, &tx, NULL), FWC_ERR_KEY);

	/* every type has a name */
	for (int t = 1; t <= FWC_TX_TYPE_MAX; t++)
		CHECK(fwc_tx_type_name(t) != NULL);
	CHECK(fwc_tx_type_name(0) == NULL && fwc_tx_type_name(FWC_TX_TYPE_MAX + 1) == NULL);
	CHECK(strcmp(fwc_tx_type_name(FWC_TX_RELEASE), "release") == 0);
}

static int decode_body_hex(const char *hex, struct fwc_errinfo *ei)
{
	uint8_t b[512];
	struct fwc_tx tx;
	size_t n = unhex(b, sizeof(b), hex);

	return fwc_tx_decode_body(&tx, b, n, ei);
}

static void test_decode_rejects(void)
{
	static const char *const key =
	    "58 21 01 79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798";
	char hex[512];
	struct fwc_errinfo ei;
	uint8_t b[512];
	struct fwc_signed_tx stx;
	size_t n;

#define BODY(ver, type, chain, sender, rest)                                                       \
	(snprintf(hex, sizeof(hex), "a7 00 %s 01 %s 02 %s 03 %s %s", ver, type, chain, sender,     \
	          rest),                                                                           \
	 hex)

	CHECK_RC(decode_body_hex(BODY("01", "09", "6161", key, "04 00 05 00 06 40"), &ei), FWC_OK);
	CHECK_RC(decode_body_hex(BODY("02", "09", "6161", key, "04 00 05 00 06 40"), &ei),
	         FWC_ERR_UNSUPPORTED);
	CHECK(ei.offset == 2);
	CHECK_RC(decode_body_hex(BODY("01", "00", "6161", key, "04 00 05 00 06 40"), &ei),
	         FWC_ERR_UNSUPPORTED);
	CHECK_RC(decode_body_hex(BODY("01", "12", "6161", key, "04 00 05 00 06 40"), &ei),
	         FWC_ERR_UNSUPPORTED); /* 18 */
	CHECK(strstr(ei.msg, "unknown type 18") != NULL);
	CHECK_RC(decode_body_hex(BODY("01", "11", "6161", key, "04 00 05 00 06 40"), &ei),
	         FWC_OK); /* 17 */
	CHECK_RC(decode_body_hex(BODY("01", "09", "60", key, "04 00 05 00 06 40"), &ei),
	         FWC_ERR_RANGE);
	CHECK_RC(decode_body_hex(BODY("01", "09", "4161", key, "04 00 05 00 06 40"), &ei),
	         FWC_ERR_TYPE);
	CHECK_RC(decode_body_hex(
	             BODY("01", "09", "6161",
	                  "5820 79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798",
	                  "04 00 05 00 06 40"),
	             &ei),
	         FWC_ERR_MALFORMED);
	CHECK_RC(
	    decode_body_hex(
	        BODY("01", "09", "6161",
	             "5821 03 79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798",
	             "04 00 05 00 06 40"),
	        &ei),
	    FWC_ERR_UNSUPPORTED); /* algorithm 3 */
	CHECK_RC(
	    decode_body_hex(
	        BODY("01", "09", "6161",
	             "5821 01 ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
	             "04 00 05 00 06 40"),
	        &ei),
	    FWC_ERR_KEY);
	CHECK(strstr(ei.msg, "sender key") != NULL);
	CHECK_RC(decode_body_hex(BODY("01", "09", "6161", key, "04 20 05 00 06 40"), &ei),
	         FWC_ERR_TYPE); /* negative nonce */
	/* missing, unknown, unsorted, duplicate fields */
	snprintf(hex, sizeof(hex), "a6 00 01 01 09 02 6161 03 %s 04 00 05 00", key);
	CHECK_RC(decode_body_hex(hex, &ei), FWC_ERR_MISSING_FIELD);
	CHECK(strstr(ei.msg, "payload") != NULL);
	snprintf(hex, sizeof(hex), "a8 00 01 01 09 02 6161 03 %s 04 00 05 00 06 40 07 00", key);
	CHECK_RC(decode_body_hex(hex, &ei), FWC_ERR_UNKNOWN_FIELD);
	CHECK(strstr(ei.msg, "unknown field 7") != NULL);
	snprintf(hex, sizeof(hex), "a8 00 01 01 09 02 6161 03 %s 04 00 05 00 06 40 18 40 00", key);
	CHECK_RC(decode_body_hex(hex, &ei), FWC_ERR_UNKNOWN_FIELD); /* no extensions in txs */
	snprintf(hex, sizeof(hex), "a7 00 01 01 09 02 6161 03 %s 05 00 04 00 06 40", key);
	CHECK_RC(decode_body_hex(hex, &ei), FWC_ERR_UNSORTED);
	snprintf(hex, sizeof(hex), "a7 00 01 01 09 02 6161 03 %s 04 00 04 00 06 40", key);
	CHECK_RC(decode_body_hex(hex, &ei), FWC_ERR_DUPLICATE);
	CHECK_RC(decode_body_hex(BODY("01", "18 09", "6161", key, "04 00 05 00 06 40"), &ei),
	         FWC_ERR_NONCANONICAL);
#undef BODY

	/* envelope */
	n = unhex(b, sizeof(b), "a2 01 58 43");
	n += unhex(b + n, sizeof(b) - n, example_body);
	n += unhex(b + n, sizeof(b) - n, "02 58 40");
	n += unhex(b + n, sizeof(b) - n, example_sig);
	CHECK_RC(fwc_tx_decode(&stx, b, n, &ei), FWC_OK);
	b[73] = 0x3f; /* 63-byte signature */
	CHECK_RC(fwc_tx_decode(&stx, b, n, &ei), FWC_ERR_MALFORMED);
	CHECK(ei.offset == 72);
	b[73] = 0x40;
	b[n] = 0xf6;
	CHECK_RC(fwc_tx_decode(&stx, b, n + 1, &ei), FWC_ERR_TRAILING);
	CHECK_RC(fwc_tx_decode(&stx, b, n - 1, &ei), FWC_ERR_TRUNCATED);
	b[0] = 0xa1;
	CHECK_RC(fwc_tx_decode(&stx, b, 71, &ei), FWC_ERR_MISSING_FIELD);
	b[0] = 0xa2;
	b[71] = 0x03;
	CHECK_RC(fwc_tx_decode(&stx, b, n, &ei), FWC_ERR_UNKNOWN_FIELD);
	b[71] = 0x02;
	b[4 + 2] = 0x02; /* body version 2: offset reported in the envelope */
	CHECK_RC(fwc_tx_decode(&stx, b, n, &ei), FWC_ERR_UNSUPPORTED);
	CHECK(ei.offset == 6);
	b[4 + 2] = 0x01;
	CHECK_RC(fwc_tx_decode(&stx, b, n, &ei), FWC_OK);
}

int main(void)
{
	RUN(setup);
	RUN(test_worked_example);
	RUN(test_sign_checks);
	RUN(test_decode_rejects);
	return test_done();
}
