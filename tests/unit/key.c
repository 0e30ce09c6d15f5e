/* Tests lib/key.c against independent known answers: every row of the BIP-340 test-vector CSV
 * (signing with the given aux_rand, public keys, verification results), the RFC 8032 §7.1
 * Ed25519 vectors, the key id recomputed here from its definition, the worked example of
 * docs/formats/keys.md (whose hex strings must appear in the doc verbatim), every
 * rejection path of the text and binary key forms, and the per-thread cache of lifted
 * BIP-340 keys (lib/key_verify.c) against libsecp256k1 called directly. */
#include "test.h"

#include "fwchain/err.h"
#include "fwchain/hex.h"
#include "fwchain/key.h"
#include "fwchain/sha256.h"

#include <pthread.h>
#include <secp256k1.h>
#include <secp256k1_extrakeys.h>
#include <secp256k1_schnorrsig.h>
#include <sodium.h>
#include <stdint.h>

/* docs/formats/keys.md worked example. The key ids were computed outside this code base
 * (Python hashlib: sha256(t + t + bin) with t = sha256(b"fwchain/keyid/v1")) and are also
 * recomputed below from the definition with fwc_sha256 only. */
#define EX_BIP340_SECRET "0000000000000000000000000000000000000000000000000000000000000003"
#define EX_BIP340_TEXT "bip340:f9308a019258c31049344f85f89d5229b531c845836f99b08601f113bce036f9"
#define EX_BIP340_BIN "01f9308a019258c31049344f85f89d5229b531c845836f99b08601f113bce036f9"
#define EX_BIP340_ID "e484e49229a30c6cb71b0b38cb1ba4f0dbad4f5b620ba2671818d6c12abd9f8d"
#define EX_ED25519_SECRET "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"
#define EX_ED25519_TEXT "ed25519:d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
#define EX_ED25519_BIN "02d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
#define EX_ED25519_ID "358b78109d90f4eb502ed62ec59f39cc4f94042d6eb3f3dec16a56e8ab1b25d4"

/* Decode exactly want bytes of hex (any case) from s[0..n); -1 if s is not that. */
static int unhex_exact(uint8_t *out, size_t want, const char *s, size_t n)
{
	size_t got = 0;

	if (n != 2 * want || fwc_hex_decode(out, want, &got, s, n) < 0 || got != want)
		return -1;
	return 0;
}

/* Read a text file of the source tree into buf (NUL-terminated); 0 on failure. */
static size_t read_text(char *buf, size_t cap, const char *path)
{
	FILE *f = fopen(path, "rb");
	size_t n;

	if (f == NULL)
		return 0;
	n = fread(buf, 1, cap - 1, f);
	fclose(f);
	buf[n] = '\0';
	return n;
}

/* Split a CSV line at its first 7 commas (the comment column may hold anything). */
static int csv_split(char *line, char *field[8])
{
	int n = 0;

	field[n++] = line;
	for (char *p = line; *p && n < 8; p++)
		if (*p == ',') {
			*p = '\0';
			field[n++] = p + 1;
		}
	return n;
}

static void test_bip340_vectors(void)
{
	char path[512], line[2048];
	FILE *f = fopen(test_vector_path(path, sizeof(path), "bip340-test-vectors.csv"), "r");
	int rows = 0, signed_rows = 0, true_rows = 0;

	CHECK(f != NULL);
	if (f == NULL)
		return;
	CHECK(fgets(line, sizeof(line), f) != NULL); /* header */
	CHECK(strncmp(line, "index,secret key,public key,aux_rand,message,signature", 54) == 0);
	while (fgets(line, sizeof(line), f) != NULL && rows < 1000) {
		char *fld[8];
		uint8_t sk32[32], aux[32], msg[512], sig[64], got[64];
		struct fwc_pubkey pk, derived;
		struct fwc_seckey sk;
		size_t mlen = strlen(line);
		int expect_ok;

		while (mlen > 0 && (line[mlen - 1] == '\n' || line[mlen - 1] == '\r'))
			line[--mlen] = '\0';
		if (mlen == 0)
			continue;
		CHECK(csv_split(line, fld) == 8);
		rows++;
		pk.alg = FWC_ALG_BIP340;
		CHECK(unhex_exact(pk.key, 32, fld[2], strlen(fld[2])) == 0);
		CHECK(unhex_exact(sig, 64, fld[5], strlen(fld[5])) == 0);
		mlen = strlen(fld[4]) / 2;
		CHECK(mlen <= sizeof(msg) && unhex_exact(msg, mlen, fld[4], strlen(fld[4])) == 0);
		CHECK(strcmp(fld[6], "TRUE") == 0 || strcmp(fld[6], "FALSE") == 0);
		expect_ok = strcmp(fld[6], "TRUE") == 0;
		true_rows += expect_ok;

		/* Every row: the verification result. An empty message is passed both as a
		 * pointer and as NULL. */
		if (fwc_verify(&pk, sig, msg, mlen) != (expect_ok ? FWC_OK : FWC_ERR_BADSIG)) {
			fprintf(stderr, "BIP-340 row %s (%s): wrong verification result\n", fld[0],
			        fld[7]);
			CHECK(0);
		}
		if (mlen == 0)
			CHECK_RC(fwc_verify(&pk, sig, NULL, 0),
			         expect_ok ? FWC_OK : FWC_ERR_BADSIG);
		if (expect_ok) {
			/* a valid signature must stop verifying when any part changes */
			sig[63] ^= 0x01;
			CHECK_RC(fwc_verify(&pk, sig, msg, mlen), FWC_ERR_BADSIG);
			sig[63] ^= 0x01;
		}
		if (fwc_pubkey_check(&pk) < 0) {
			/* rows 5 and 14: the key itself is invalid; every decoder must say so */
			uint8_t bin[33];

			bin[0] = FWC_ALG_BIP340;
			memcpy(bin + 1, pk.key, 32);
			CHECK(!expect_ok);
			CHECK_RC(fwc_pubkey_from_bin(&derived, bin, sizeof(bin), NULL),
			         FWC_ERR_KEY);
		}

		if (fld[1][0] == '\0')
			continue;
		signed_rows++;
		CHECK(unhex_exact(sk32, 32, fld[1], strlen(fld[1])) == 0);
		CHECK(unhex_exact(aux, 32, fld[3], strlen(fld[3])) == 0);
		CHECK_RC(fwc_key_from_secret(&sk, FWC_ALG_BIP340, sk32), FWC_OK);
		CHECK_RC(fwc_key_public(&derived, &sk), FWC_OK);
		CHECK(fwc_pubkey_equal(&derived, &pk));
		memset(got, 0, sizeof(got));
		CHECK_RC(fwc_sign_bip340_aux(got, &sk, aux, mlen ? msg : NULL, mlen), FWC_OK);
		if (memcmp(got, sig, 64) != 0) {
			fprintf(stderr, "BIP-340 row %s: signature differs\n", fld[0]);
			CHECK(0);
		}
		/* fwc_sign draws fresh aux randomness: a different but valid signature */
		CHECK_RC(fwc_sign(got, &sk, msg, mlen), FWC_OK);
		CHECK_RC(fwc_verify(&pk, got, msg, mlen), FWC_OK);
		fwc_seckey_wipe(&sk);
	}
	fclose(f);
	/* the checked-in file has rows 0..18, 8 of them with a secret key, 9 TRUE */
	CHECK(rows == 19);
	CHECK(signed_rows == 8);
	CHECK(true_rows == 9);
}

/* One RFC 8032 vector as read from tests/vectors/rfc8032-ed25519.txt. */
struct ed_vec {
	char name[32];
	char hex[4][2200]; /* secret, public, message, signature */
};

static const char *const ed_fields[4] = {"secret", "public", "message", "signature"};

static void check_ed_vec(const struct ed_vec *v)
{
	uint8_t seed[32], pub[32], msg[1100], sig[64], got[64], back[32];
	size_t mlen = strlen(v->hex[2]) / 2;
	struct fwc_seckey sk;
	struct fwc_pubkey pk, want;

	CHECK(unhex_exact(seed, 32, v->hex[0], strlen(v->hex[0])) == 0);
	CHECK(unhex_exact(pub, 32, v->hex[1], strlen(v->hex[1])) == 0);
	CHECK(mlen <= sizeof(msg) && unhex_exact(msg, mlen, v->hex[2], strlen(v->hex[2])) == 0);
	CHECK(unhex_exact(sig, 64, v->hex[3], strlen(v->hex[3])) == 0);
	want.alg = FWC_ALG_ED25519;
	memcpy(want.key, pub, 32);

	CHECK_RC(fwc_key_from_secret(&sk, FWC_ALG_ED25519, seed), FWC_OK);
	CHECK_RC(fwc_key_public(&pk, &sk), FWC_OK);
	CHECK(fwc_pubkey_equal(&pk, &want));
	CHECK_RC(fwc_key_secret(back, &sk), FWC_OK);
	CHECK_MEM(back, seed, 32);
	memset(got, 0, sizeof(got));
	CHECK_RC(fwc_sign(got, &sk, mlen ? msg : NULL, mlen), FWC_OK);
	if (memcmp(got, sig, 64) != 0) {
		fprintf(stderr, "RFC 8032 %s: signature differs\n", v->name);
		CHECK(0);
	}
	CHECK_RC(fwc_verify(&want, sig, mlen ? msg : NULL, mlen), FWC_OK);
	/* a flipped bit anywhere in the signature, the message or the key must fail */
	for (size_t bit = 0; bit < 512; bit += 37) {
		sig[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		CHECK_RC(fwc_verify(&want, sig, msg, mlen), FWC_ERR_BADSIG);
		sig[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	}
	if (mlen > 0) {
		msg[mlen - 1] ^= 0x80;
		CHECK_RC(fwc_verify(&want, sig, msg, mlen), FWC_ERR_BADSIG);
		msg[mlen - 1] ^= 0x80;
	}
	want.key[0] ^= 0x01;
	CHECK_RC(fwc_verify(&want, sig, msg, mlen), FWC_ERR_BADSIG);
	want.key[0] ^= 0x01;
	/* the same 32 bytes read as a bip340 key are another key: never valid */
	want.alg = FWC_ALG_BIP340;
	CHECK_RC(fwc_verify(&want, sig, msg, mlen), FWC_ERR_BADSIG);
	fwc_seckey_wipe(&sk);
}

static void test_rfc8032_vectors(void)
{
	char path[512], line[256];
	FILE *f = fopen(test_vector_path(path, sizeof(path), "rfc8032-ed25519.txt"), "r");
	static struct ed_vec v;
	int have = 0, count = 0, lines = 0;
	int seen_1024 = 0, seen_abc = 0;

	CHECK(f != NULL);
	if (f == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL && lines++ < 10000) {
		size_t n = strlen(line), k;
		char *val;

		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r' || line[n - 1] == ' '))
			line[--n] = '\0';
		if (n == 0 || line[0] == '#')
			continue;
		val = strchr(line, ':');
		CHECK(val != NULL);
		if (val == NULL)
			continue;
		*val++ = '\0';
		while (*val == ' ')
			val++;
		if (strcmp(line, "test") == 0) {
			if (have) {
				check_ed_vec(&v);
				count++;
			}
			memset(&v, 0, sizeof(v));
			snprintf(v.name, sizeof(v.name), "%s", val);
			seen_1024 |= strcmp(val, "TEST 1024") == 0;
			seen_abc |= strcmp(val, "TEST SHA(abc)") == 0;
			have = 1;
			continue;
		}
		for (k = 0; k < 4 && strcmp(line, ed_fields[k]) != 0; k++)
			;
		CHECK(k < 4 && have);
		if (k < 4 && strlen(v.hex[k]) + strlen(val) < sizeof(v.hex[k]))
			strcat(v.hex[k], val);
	}
	fclose(f);
	if (have) {
		check_ed_vec(&v);
		count++;
	}
	CHECK(count == 5);
	CHECK(seen_1024 && seen_abc);
	/* TEST 1024's message is 1023 bytes, SHA(abc)'s 64: the last vector read is SHA(abc) */
	CHECK(strlen(v.hex[2]) == 128);
}

/* Key id from its definition: SHA256(SHA256(tag) || SHA256(tag) || alg || key), with
 * SHA-256 only (its own FIPS known answers are in tests/unit/sha256.c). */
static void keyid_by_definition(uint8_t id[32], const struct fwc_pubkey *pk)
{
	static const char tag[] = "fwchain/keyid/v1";
	uint8_t buf[32 + 32 + 33];

	fwc_sha256(buf, tag, strlen(tag));
	memcpy(buf + 32, buf, 32);
	buf[64] = pk->alg;
	memcpy(buf + 65, pk->key, 32);
	fwc_sha256(id, buf, sizeof(buf));
}

static void check_example(enum fwc_alg alg, const char *secret_hex, const char *text,
                          const char *bin_hex, const char *id_hex, const char *doc)
{
	uint8_t secret[32], bin[33], id[32], id2[32];
	char s[FWC_PUBKEY_TEXT_MAX], h[67];
	struct fwc_seckey sk;
	struct fwc_pubkey pk, back;

	CHECK(unhex_exact(secret, 32, secret_hex, 64) == 0);
	CHECK_RC(fwc_key_from_secret(&sk, alg, secret), FWC_OK);
	CHECK_RC(fwc_key_public(&pk, &sk), FWC_OK);
	CHECK_RC(fwc_pubkey_to_text(s, sizeof(s), &pk), FWC_OK);
	CHECK(strcmp(s, text) == 0);
	CHECK_RC(fwc_pubkey_to_bin(bin, &pk), FWC_OK);
	fwc_hex_encode(h, sizeof(h), bin, sizeof(bin));
	CHECK(strcmp(h, bin_hex) == 0);
	CHECK_RC(fwc_key_id(id, &pk), FWC_OK);
	keyid_by_definition(id2, &pk);
	CHECK_MEM(id, id2, 32);
	fwc_hex_encode(h, sizeof(h), id, sizeof(id));
	CHECK(strcmp(h, id_hex) == 0);
	CHECK_RC(fwc_pubkey_from_text(&back, text, strlen(text), NULL), FWC_OK);
	CHECK(fwc_pubkey_equal(&back, &pk));
	/* the doc must show these very strings */
	CHECK(doc != NULL && strstr(doc, secret_hex) != NULL);
	CHECK(doc != NULL && strstr(doc, text) != NULL);
	CHECK(doc != NULL && strstr(doc, bin_hex) != NULL);
	CHECK(doc != NULL && strstr(doc, id_hex) != NULL);
	fwc_seckey_wipe(&sk);
}

static void test_doc_example_and_keyid(void)
{
	static char doc[32768];
	char path[512];

	test_vector_path(path, sizeof(path), "../../docs/formats/keys.md");
	CHECK(read_text(doc, sizeof(doc), path) > 0);
	check_example(FWC_ALG_BIP340, EX_BIP340_SECRET, EX_BIP340_TEXT, EX_BIP340_BIN, EX_BIP340_ID,
	              doc);
	check_example(FWC_ALG_ED25519, EX_ED25519_SECRET, EX_ED25519_TEXT, EX_ED25519_BIN,
	              EX_ED25519_ID, doc);
}

static void test_round_trips(void)
{
	for (int alg = FWC_ALG_BIP340; alg <= FWC_ALG_ED25519; alg++) {
		for (int i = 0; i < 8; i++) {
			struct fwc_seckey sk, sk2;
			struct fwc_pubkey pk, back;
			char text[FWC_PUBKEY_TEXT_MAX];
			uint8_t bin[FWC_PUBKEY_BIN_LEN], secret[32], id[32], id2[32], sig[64];
			uint8_t msg[3] = {1, 2, (uint8_t)i};

			CHECK_RC(fwc_key_generate(&sk, (enum fwc_alg)alg), FWC_OK);
			CHECK_RC(fwc_key_public(&pk, &sk), FWC_OK);
			CHECK(pk.alg == alg);
			CHECK_RC(fwc_pubkey_check(&pk), FWC_OK);
			CHECK_RC(fwc_pubkey_to_text(text, sizeof(text), &pk), FWC_OK);
			CHECK(strncmp(text, fwc_alg_name(alg), strlen(fwc_alg_name(alg))) == 0);
			CHECK_RC(fwc_pubkey_from_text(&back, text, strlen(text), NULL), FWC_OK);
			CHECK(fwc_pubkey_equal(&back, &pk));
			CHECK_RC(fwc_pubkey_to_bin(bin, &pk), FWC_OK);
			CHECK(bin[0] == alg);
			memset(&back, 0, sizeof(back));
			CHECK_RC(fwc_pubkey_from_bin(&back, bin, sizeof(bin), NULL), FWC_OK);
			CHECK(fwc_pubkey_equal(&back, &pk));
			CHECK_RC(fwc_key_id(id, &pk), FWC_OK);
			keyid_by_definition(id2, &pk);
			CHECK_MEM(id, id2, 32);
			/* secret -> key -> same public key and same signatures */
			CHECK_RC(fwc_key_secret(secret, &sk), FWC_OK);
			CHECK_RC(fwc_key_from_secret(&sk2, (enum fwc_alg)alg, secret), FWC_OK);
			CHECK_RC(fwc_key_public(&back, &sk2), FWC_OK);
			CHECK(fwc_pubkey_equal(&back, &pk));
			CHECK_RC(fwc_sign(sig, &sk2, msg, sizeof(msg)), FWC_OK);
			CHECK_RC(fwc_verify(&pk, sig, msg, sizeof(msg)), FWC_OK);
			CHECK_RC(fwc_verify(&pk, sig, msg, 2), FWC_ERR_BADSIG);
			fwc_seckey_wipe(&sk);
			fwc_seckey_wipe(&sk2);
			fwc_wipe(secret, sizeof(secret));
		}
	}
}

/* from_text must fail with want and leave *pk untouched. */
static void text_rejects(const char *in, size_t len, int want)
{
	struct fwc_pubkey pk;
	struct fwc_errinfo ei;

	memset(&pk, 0xA5, sizeof(pk));
	memset(&ei, 0, sizeof(ei));
	CHECK_RC(fwc_pubkey_from_text(&pk, in, len, &ei), want);
	CHECK(pk.alg == 0xA5 && pk.key[0] == 0xA5 && pk.key[31] == 0xA5);
	CHECK(ei.msg[0] != '\0');
}

static void bin_rejects(const uint8_t *in, size_t len, int want)
{
	struct fwc_pubkey pk;
	struct fwc_errinfo ei;

	memset(&pk, 0xA5, sizeof(pk));
	memset(&ei, 0, sizeof(ei));
	CHECK_RC(fwc_pubkey_from_bin(&pk, in, len, &ei), want);
	CHECK(pk.alg == 0xA5 && pk.key[0] == 0xA5);
	CHECK(ei.msg[0] != '\0');
}

static void test_rejections(void)
{
	static const char good[] = EX_BIP340_TEXT;
	/* x = p + 1 (BIP-340 row 14, beyond the field) and a valid x without a curve point
	 * (row 5) */
	static const char off1[] =
	    "bip340:fffffffffffffffffffffffffffffffffffffffffffffffffffffffefffffc30";
	static const char off2[] =
	    "bip340:eefdea4cdb677750a420fee807eacf21eb9898ae79b9768766e4faa04a2d4a34";
	/* Ed25519: the identity (small order), y = 2^255 - 1 (not canonical, >= p) */
	static const char ed_id[] =
	    "ed25519:0100000000000000000000000000000000000000000000000000000000000000";
	static const char ed_big[] =
	    "ed25519:ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f";
	char buf[160];
	uint8_t bin[40];
	struct fwc_pubkey pk;
	struct fwc_errinfo ei;
	char small[80];

	text_rejects("", 0, FWC_ERR_MALFORMED);
	text_rejects("bip340", 6, FWC_ERR_MALFORMED);
	text_rejects(good + 7, 64, FWC_ERR_MALFORMED); /* hex only, no algorithm */
	snprintf(buf, sizeof(buf), "rsa:%s", good + 7);
	text_rejects(buf, strlen(buf), FWC_ERR_UNSUPPORTED);
	snprintf(buf, sizeof(buf), ":%s", good + 7);
	text_rejects(buf, strlen(buf), FWC_ERR_UNSUPPORTED);
	snprintf(buf, sizeof(buf), "BIP340:%s", good + 7);
	text_rejects(buf, strlen(buf), FWC_ERR_UNSUPPORTED);
	snprintf(buf, sizeof(buf), "bip340 :%s", good + 7);
	text_rejects(buf, strlen(buf), FWC_ERR_UNSUPPORTED);
	text_rejects(good, strlen(good) - 1, FWC_ERR_MALFORMED); /* 63 digits */
	snprintf(buf, sizeof(buf), "%s0", good);
	text_rejects(buf, strlen(buf), FWC_ERR_MALFORMED); /* 65 digits */
	snprintf(buf, sizeof(buf), "%s0a", good);
	text_rejects(buf, strlen(buf), FWC_ERR_MALFORMED); /* a whole extra byte */
	text_rejects("bip340:", 7, FWC_ERR_MALFORMED);
	/* bad digits at the first, a middle and the last position, with their offsets */
	for (size_t pos = 7; pos < strlen(good); pos += 28) {
		static const char bad_digits[] = {'g', 'G', 'F', ' ', '\0', 'x'};

		for (size_t b = 0; b < sizeof(bad_digits); b++) {
			memcpy(buf, good, sizeof(good));
			buf[pos] = bad_digits[b];
			text_rejects(buf, strlen(good), FWC_ERR_MALFORMED);
			memset(&ei, 0, sizeof(ei));
			fwc_pubkey_from_text(&pk, buf, strlen(good), &ei);
			CHECK(ei.offset == pos);
		}
	}
	/* uppercase hex is refused: one text form per key */
	snprintf(buf, sizeof(buf),
	         "bip340:F9308A019258C31049344F85F89D5229B531C845836F99B0"
	         "8601F113BCE036F9");
	text_rejects(buf, strlen(buf), FWC_ERR_MALFORMED);
	/* length is what counts, not NUL termination: a valid key followed by junk in the
	 * buffer parses when len stops before the junk */
	snprintf(buf, sizeof(buf), "%sZZZ", good);
	CHECK_RC(fwc_pubkey_from_text(&pk, buf, strlen(good), NULL), FWC_OK);
	text_rejects(off1, strlen(off1), FWC_ERR_KEY);
	text_rejects(off2, strlen(off2), FWC_ERR_KEY);
	text_rejects(ed_id, strlen(ed_id), FWC_ERR_KEY);
	text_rejects(ed_big, strlen(ed_big), FWC_ERR_KEY);
	CHECK_RC(fwc_pubkey_from_text(NULL, good, strlen(good), NULL), FWC_ERR_ARG);
	CHECK_RC(fwc_pubkey_from_text(&pk, NULL, 5, NULL), FWC_ERR_ARG);

	/* binary form */
	CHECK_RC(fwc_pubkey_from_text(&pk, good, strlen(good), NULL), FWC_OK);
	CHECK_RC(fwc_pubkey_to_bin(bin, &pk), FWC_OK);
	bin[33] = 0;
	bin_rejects(bin, 32, FWC_ERR_MALFORMED);
	bin_rejects(bin, 34, FWC_ERR_MALFORMED);
	bin_rejects(bin, 1, FWC_ERR_MALFORMED);
	bin_rejects(NULL, 0, FWC_ERR_MALFORMED);
	for (int a = 0; a < 256; a++) {
		if (a == FWC_ALG_BIP340 || a == FWC_ALG_ED25519)
			continue;
		bin[0] = (uint8_t)a;
		bin_rejects(bin, 33, FWC_ERR_UNSUPPORTED);
	}
	/* the same x coordinate is not automatically an Ed25519 key: F9308A... read as
	 * little-endian y is not on the Edwards curve, or is — either way the result must be
	 * a clean OK or KEY, never a crash */
	bin[0] = FWC_ALG_ED25519;
	{
		int rc = fwc_pubkey_from_bin(&pk, bin, 33, NULL);
		CHECK(rc == FWC_OK || rc == FWC_ERR_KEY);
	}
	bin[0] = FWC_ALG_BIP340;
	CHECK(unhex_exact(bin + 1, 32, off1 + 7, 64) == 0);
	bin_rejects(bin, 33, FWC_ERR_KEY);
	bin[0] = FWC_ALG_ED25519;
	CHECK(unhex_exact(bin + 1, 32, ed_id + 8, 64) == 0);
	bin_rejects(bin, 33, FWC_ERR_KEY);
	CHECK(unhex_exact(bin + 1, 32, ed_big + 8, 64) == 0);
	bin_rejects(bin, 33, FWC_ERR_KEY);
	CHECK_RC(fwc_pubkey_from_bin(NULL, bin, 33, NULL), FWC_ERR_ARG);

	/* encoders: buffer sizes and unknown algorithms */
	CHECK_RC(fwc_pubkey_from_text(&pk, good, strlen(good), NULL), FWC_OK);
	CHECK_RC(fwc_pubkey_to_text(small, strlen(good) + 1, &pk), FWC_OK);
	CHECK(strcmp(small, good) == 0);
	CHECK_RC(fwc_pubkey_to_text(small, strlen(good), &pk), FWC_ERR_BUFSIZE);
	pk.alg = 7;
	CHECK_RC(fwc_pubkey_to_text(small, sizeof(small), &pk), FWC_ERR_UNSUPPORTED);
	CHECK_RC(fwc_pubkey_to_bin(bin, &pk), FWC_ERR_UNSUPPORTED);
	CHECK_RC(fwc_pubkey_check(&pk), FWC_ERR_KEY);
	CHECK_RC(fwc_key_id(bin, &pk), FWC_ERR_UNSUPPORTED);
	{
		uint8_t sig[64] = {0};

		CHECK_RC(fwc_verify(&pk, sig, (const uint8_t *)"x", 1), FWC_ERR_UNSUPPORTED);
	}
}

static void test_misc(void)
{
	enum fwc_alg alg;
	uint8_t secret[32], sig[64];
	struct fwc_seckey sk;
	struct fwc_pubkey pk;
	/* the secp256k1 group order n: not a valid scalar, nor is 0 */
	static const char order[] =
	    "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141";

	CHECK_RC(fwc_alg_from_name(&alg, "bip340", 6), FWC_OK);
	CHECK(alg == FWC_ALG_BIP340);
	CHECK_RC(fwc_alg_from_name(&alg, "ed25519", 7), FWC_OK);
	CHECK(alg == FWC_ALG_ED25519);
	CHECK_RC(fwc_alg_from_name(&alg, "ed25519x", 8), FWC_ERR_UNSUPPORTED);
	CHECK_RC(fwc_alg_from_name(&alg, "ed2551", 6), FWC_ERR_UNSUPPORTED);
	CHECK_RC(fwc_alg_from_name(&alg, "", 0), FWC_ERR_UNSUPPORTED);
	CHECK(fwc_alg_name(0) == NULL && fwc_alg_name(3) == NULL);
	CHECK(strcmp(fwc_alg_name(FWC_ALG_ED25519), "ed25519") == 0);

	memset(secret, 0, sizeof(secret));
	CHECK_RC(fwc_key_from_secret(&sk, FWC_ALG_BIP340, secret), FWC_ERR_KEY);
	CHECK(unhex_exact(secret, 32, order, 64) == 0);
	CHECK_RC(fwc_key_from_secret(&sk, FWC_ALG_BIP340, secret), FWC_ERR_KEY);
	secret[31] = 0x40; /* n - 1 */
	CHECK_RC(fwc_key_from_secret(&sk, FWC_ALG_BIP340, secret), FWC_OK);
	CHECK_RC(fwc_key_public(&pk, &sk), FWC_OK);
	CHECK_RC(fwc_sign(sig, &sk, NULL, 0), FWC_OK);
	CHECK_RC(fwc_verify(&pk, sig, NULL, 0), FWC_OK);
	CHECK_RC(fwc_verify(&pk, sig, (const uint8_t *)"", 0), FWC_OK);
	CHECK_RC(fwc_key_from_secret(&sk, (enum fwc_alg)9, secret), FWC_ERR_UNSUPPORTED);
	CHECK_RC(fwc_key_generate(&sk, (enum fwc_alg)9), FWC_ERR_UNSUPPORTED);

	/* misuse is an argument error, not a crash */
	CHECK_RC(fwc_sign(sig, &sk, NULL, 4), FWC_ERR_ARG);
	CHECK_RC(fwc_verify(&pk, sig, NULL, 4), FWC_ERR_ARG);
	CHECK_RC(fwc_verify(NULL, sig, NULL, 0), FWC_ERR_ARG);
	CHECK_RC(fwc_key_generate(&sk, FWC_ALG_ED25519), FWC_OK);
	CHECK_RC(fwc_sign_bip340_aux(sig, &sk, secret, NULL, 0), FWC_ERR_KEY);
	sk.alg = 0;
	CHECK_RC(fwc_key_public(&pk, &sk), FWC_ERR_UNSUPPORTED);
	CHECK_RC(fwc_sign(sig, &sk, NULL, 0), FWC_ERR_UNSUPPORTED);
	CHECK_RC(fwc_key_secret(secret, &sk), FWC_ERR_UNSUPPORTED);
	fwc_seckey_wipe(&sk);
	CHECK(sk.alg == 0 && sk.key[0] == 0 && sk.key[63] == 0);
}

/* The cache of lifted keys must answer exactly as libsecp256k1 does, whatever shares a slot:
 * keys whose first 4 bytes (the slot) are equal, valid and not on the curve, interleaved in a
 * fixed pseudo-random order, each fwc_pubkey_check and fwc_verify compared with the raw
 * library's answer for the same bytes. */
struct cache_case {
	struct fwc_pubkey pk[6];
	uint8_t sig[6][64]; /* sig[i] by pk[i] of msg (for the valid keys that have a secret) */
	int valid[6];
	uint8_t msg[32];
	int fails;
};

static int raw_valid(const struct fwc_pubkey *pk)
{
	secp256k1_xonly_pubkey x;

	return secp256k1_xonly_pubkey_parse(secp256k1_context_static, &x, pk->key);
}

static int raw_verify(const struct fwc_pubkey *pk, const uint8_t sig[64], const uint8_t msg[32])
{
	secp256k1_xonly_pubkey x;

	return secp256k1_xonly_pubkey_parse(secp256k1_context_static, &x, pk->key) &&
	       secp256k1_schnorrsig_verify(secp256k1_context_static, sig, msg, 32, &x);
}

static void *cache_walk(void *arg)
{
	struct cache_case *cc = arg;
	uint32_t r = 12345;

	for (int n = 0; n < 3000; n++) {
		int k, s;

		r = r * 1103515245u + 12345u;
		k = (int)((r >> 8) % 6);
		s = (int)((r >> 16) % 6);
		if ((fwc_pubkey_check(&cc->pk[k]) == FWC_OK) != raw_valid(&cc->pk[k]))
			cc->fails++;
		if ((fwc_verify(&cc->pk[k], cc->sig[s], cc->msg, 32) == FWC_OK) !=
		    raw_verify(&cc->pk[k], cc->sig[s], cc->msg))
			cc->fails++;
	}
	return NULL;
}

/* The unchecked text parse keeps the syntax rules and drops only the curve check. */
static void test_text_unchecked(void)
{
	char text[FWC_PUBKEY_TEXT_MAX];
	struct fwc_pubkey pk, got;
	int off = -1;

	memset(&pk, 0, sizeof(pk));
	pk.alg = FWC_ALG_BIP340;
	/* About half of all x coordinates are not on secp256k1: find one among x = 1..64. */
	for (int x = 1; x <= 64 && off < 0; x++) {
		pk.key[31] = (uint8_t)x;
		if (fwc_pubkey_check(&pk) == FWC_ERR_KEY)
			off = x;
	}
	CHECK(off > 0);
	CHECK_RC(fwc_pubkey_to_text(text, sizeof(text), &pk), FWC_OK);
	CHECK_RC(fwc_pubkey_from_text(&got, text, strlen(text), NULL), FWC_ERR_KEY);
	CHECK_RC(fwc_pubkey_from_text_unchecked(&got, text, strlen(text), NULL), FWC_OK);
	CHECK(fwc_pubkey_equal(&got, &pk));
	CHECK_RC(fwc_pubkey_from_text_unchecked(&got, EX_BIP340_TEXT, strlen(EX_BIP340_TEXT), NULL),
	         FWC_OK);
	CHECK_RC(fwc_pubkey_from_text_unchecked(&got, "bip340:F9", 9, NULL), FWC_ERR_MALFORMED);
	CHECK_RC(fwc_pubkey_from_text_unchecked(&got, "x:00", 4, NULL), FWC_ERR_UNSUPPORTED);
	CHECK_RC(fwc_pubkey_from_text_unchecked(&got, "bip340", 6, NULL), FWC_ERR_MALFORMED);
	CHECK_RC(fwc_pubkey_from_text_unchecked(NULL, "bip340", 6, NULL), FWC_ERR_ARG);
}

static void test_point_cache(void)
{
	struct cache_case cc;
	struct fwc_seckey sk;
	pthread_t th;
	int nvalid = 0, ninvalid = 0, tries = 0;

	memset(&cc, 0, sizeof(cc));
	randombytes_buf(cc.msg, sizeof(cc.msg));
	/* Keys 0 and 5 with secrets; 1..4 share key 0's first 4 bytes, two on the curve and two
	 * not (about half of all x coordinates are on it). */
	for (int i = 0; i < 6; i += 5) {
		CHECK_RC(fwc_key_generate(&sk, FWC_ALG_BIP340), FWC_OK);
		CHECK_RC(fwc_key_public(&cc.pk[i], &sk), FWC_OK);
		CHECK_RC(fwc_sign(cc.sig[i], &sk, cc.msg, 32), FWC_OK);
		fwc_seckey_wipe(&sk);
	}
	for (int i = 1; i < 5 && tries < 1000; tries++) {
		struct fwc_pubkey k = cc.pk[0];
		int v;

		randombytes_buf(k.key + 4, sizeof(k.key) - 4);
		v = raw_valid(&k);
		if ((v && nvalid < 2) || (!v && ninvalid < 2)) {
			cc.pk[i++] = k;
			nvalid += v;
			ninvalid += !v;
		}
	}
	CHECK(nvalid == 2 && ninvalid == 2);
	for (int i = 1; i < 5; i++)
		randombytes_buf(cc.sig[i], 64); /* signatures nobody made */
	/* The first call on this thread (a miss) and a repeat (a hit) agree. */
	CHECK_RC(fwc_verify(&cc.pk[0], cc.sig[0], cc.msg, 32), FWC_OK);
	CHECK_RC(fwc_verify(&cc.pk[0], cc.sig[0], cc.msg, 32), FWC_OK);
	CHECK_RC(fwc_verify(&cc.pk[0], cc.sig[5], cc.msg, 32), FWC_ERR_BADSIG);
	for (int i = 1; i < 5; i++)
		CHECK_RC(fwc_pubkey_check(&cc.pk[i]), raw_valid(&cc.pk[i]) ? FWC_OK : FWC_ERR_KEY);
	CHECK_RC(fwc_verify(&cc.pk[0], cc.sig[0], cc.msg, 32), FWC_OK);
	/* The same walk on a second thread (its own table) while this one walks. */
	CHECK(pthread_create(&th, NULL, cache_walk, &cc) == 0);
	{
		struct cache_case mine = cc;

		mine.fails = 0;
		cache_walk(&mine);
		CHECK(mine.fails == 0);
	}
	CHECK(pthread_join(th, NULL) == 0);
	CHECK(cc.fails == 0);
}

int main(void)
{
	RUN(test_bip340_vectors);
	RUN(test_rfc8032_vectors);
	RUN(test_doc_example_and_keyid);
	RUN(test_round_trips);
	RUN(test_rejections);
	RUN(test_misc);
	RUN(test_text_unchecked);
	RUN(test_point_cache);
	return test_done();
}
