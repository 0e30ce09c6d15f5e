/* Tests lib/cid.c against independent known answers: the dag-pb spec's zero-length-block CIDs
 * (v0 QmdfTb… and v1 bafybeihdwd…, digest = SHA-256 of nothing), Kubo's published raw-leaf CIDs
 * (bafkrei… = raw CIDv1 of SHA-256("hello world") and of ""), text round trips of every CID in
 * tests/vectors/kubo-cids.tsv, v0<->v1 conversion, and one test per precise refusal. */
#include "test.h"

#include "fwchain/cid.h"
#include "fwchain/err.h"
#include "fwchain/hex.h"
#include "fwchain/multibase.h"
#include "fwchain/sha256.h"

static const char empty_sha[] =
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

static void test_dagpb_spec_empty_block(void)
{
	struct fwc_cid c, v1, v0;
	uint8_t d[32], bin[FWC_CID_MAX_BINARY];
	char s[FWC_CID_STR_MAX];
	size_t n;

	test_unhex(d, sizeof(d), empty_sha);
	CHECK_RC(fwc_cid_parse(&c, "QmdfTbBqBPQ7VNxZEYEj14VmRuZBkqFbiwReogJgS1zR1n", 46, NULL),
		 FWC_OK);
	CHECK(c.version == 0 && c.codec == FWC_CID_CODEC_DAGPB && c.mh_code == 0x12);
	CHECK_MEM(c.digest, d, 32);
	CHECK_RC(fwc_cid_to_v1(&v1, &c), FWC_OK);
	CHECK_RC(fwc_cid_format(s, sizeof(s), &v1), FWC_OK);
	CHECK(strcmp(s, "bafybeihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku") == 0);
	CHECK_RC(fwc_cid_to_v0(&v0, &v1), FWC_OK);
	CHECK(fwc_cid_equal(&v0, &c));
	CHECK_RC(fwc_cid_format(s, sizeof(s), &v0), FWC_OK);
	CHECK(strcmp(s, "QmdfTbBqBPQ7VNxZEYEj14VmRuZBkqFbiwReogJgS1zR1n") == 0);
	/* binary forms, byte-exact as in docs/formats/cid.md */
	CHECK_RC(fwc_cid_encode(bin, sizeof(bin), &n, &c), FWC_OK);
	CHECK(n == 34 && bin[0] == 0x12 && bin[1] == 0x20 && memcmp(bin + 2, d, 32) == 0);
	CHECK_RC(fwc_cid_encode(bin, sizeof(bin), &n, &v1), FWC_OK);
	CHECK(n == 36 && bin[0] == 0x01 && bin[1] == 0x70 && bin[2] == 0x12 && bin[3] == 0x20);
	CHECK_RC(fwc_cid_encode(bin, 35, &n, &v1), FWC_ERR_BUFSIZE);
	CHECK(fwc_cid_matches(&c, "", 0) == 1);
	CHECK(fwc_cid_matches(&c, "x", 1) == 0);
}

static void test_raw_leaves(void)
{
	struct fwc_cid c, p;
	char s[FWC_CID_STR_MAX];

	CHECK_RC(fwc_cid_from_block(&c, 1, FWC_CID_CODEC_RAW, "hello world", 11), FWC_OK);
	CHECK_RC(fwc_cid_format(s, sizeof(s), &c), FWC_OK);
	CHECK(strcmp(s, "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e") == 0);
	CHECK_RC(fwc_cid_parse(&p, s, strlen(s), NULL), FWC_OK);
	CHECK(fwc_cid_equal(&c, &p));
	CHECK_RC(fwc_cid_from_block(&c, 1, FWC_CID_CODEC_RAW, "", 0), FWC_OK);
	CHECK_RC(fwc_cid_format(s, sizeof(s), &c), FWC_OK);
	CHECK(strcmp(s, "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku") == 0);
	/* raw blocks have no v0 form */
	CHECK_RC(fwc_cid_to_v0(&p, &c), FWC_ERR_UNSUPPORTED);
	CHECK_RC(fwc_cid_from_block(&p, 0, FWC_CID_CODEC_RAW, "", 0), FWC_ERR_UNSUPPORTED);
	CHECK_RC(fwc_cid_from_block(&p, 1, 0x71, "", 0), FWC_ERR_UNSUPPORTED);
	CHECK_RC(fwc_cid_format(s, 10, &c), FWC_ERR_BUFSIZE);
}

static void test_base58_v1(void)
{
	/* 'z' + base58btc of the binary is accepted and names the same CID as 'b' + base32. */
	struct fwc_cid b, z;
	uint8_t bin[FWC_CID_MAX_BINARY];
	char s[FWC_CID_STR_MAX];
	size_t n, tl;
	const char *txt = "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e";

	CHECK_RC(fwc_cid_parse(&b, txt, strlen(txt), NULL), FWC_OK);
	CHECK_RC(fwc_cid_encode(bin, sizeof(bin), &n, &b), FWC_OK);
	CHECK_RC(fwc_multibase_encode(s, sizeof(s), &tl, 'z', bin, n), FWC_OK);
	CHECK(s[0] == 'z');
	CHECK_RC(fwc_cid_parse(&z, s, tl, NULL), FWC_OK);
	CHECK(fwc_cid_equal(&b, &z));
	/* a v0 multihash behind a multibase prefix is not a CID */
	{
		struct fwc_cid v0;
		struct fwc_errinfo ei;

		CHECK_RC(fwc_cid_parse(&v0, "QmdfTbBqBPQ7VNxZEYEj14VmRuZBkqFbiwReogJgS1zR1n", 46,
				       NULL),
			 FWC_OK);
		CHECK_RC(fwc_cid_encode(bin, sizeof(bin), &n, &v0), FWC_OK);
		CHECK_RC(fwc_multibase_encode(s, sizeof(s), &tl, 'z', bin, n), FWC_OK);
		CHECK_RC(fwc_cid_parse(&z, s, tl, &ei), FWC_ERR_MALFORMED);
		CHECK(strstr(ei.msg, "CIDv0") != NULL);
	}
}

static void test_tsv_round_trip(void)
{
	char path[512], line[1024];
	FILE *f = fopen(test_vector_path(path, sizeof(path), "kubo-cids.tsv"), "r");
	int rows = 0;

	CHECK(f != NULL);
	if (f == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL) {
		char *exp = strrchr(line, '\t');
		struct fwc_cid c;
		char s[FWC_CID_STR_MAX];

		if (line[0] == '#' || strncmp(line, "label\t", 6) == 0 || exp == NULL)
			continue;
		exp++;
		exp[strcspn(exp, "\r\n")] = '\0';
		CHECK_RC(fwc_cid_parse(&c, exp, strlen(exp), NULL), FWC_OK);
		CHECK_RC(fwc_cid_format(s, sizeof(s), &c), FWC_OK);
		CHECK(strcmp(s, exp) == 0);
		rows++;
	}
	fclose(f);
	CHECK(rows == 11);
}

static void check_bin(const char *hex, int want, const char *msg_part)
{
	uint8_t bin[64];
	size_t n = test_unhex(bin, sizeof(bin), hex);
	struct fwc_cid c;
	struct fwc_errinfo ei = {0, ""};

	CHECK_RC(fwc_cid_decode(&c, NULL, bin, n, &ei), want);
	if (msg_part && strstr(ei.msg, msg_part) == NULL) {
		CHECK(!"message names the problem");
		fprintf(stderr, "  %s: got \"%s\"\n", hex, ei.msg);
	}
}

#define D32 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

static void test_binary_errors(void)
{
	struct fwc_cid c;
	uint8_t bin[64];
	size_t used = 0, n;

	check_bin("1220" D32, FWC_OK, NULL);
	check_bin("01551220" D32, FWC_OK, NULL);
	check_bin("01701220" D32, FWC_OK, NULL);
	check_bin("01711220" D32, FWC_ERR_UNSUPPORTED, "codec 0x71");
	check_bin("01551320" D32, FWC_ERR_UNSUPPORTED, "hash function 0x13");
	check_bin("0155b0a00120" D32, FWC_ERR_UNSUPPORTED, "hash function 0x5030");
	check_bin("0155121f" D32, FWC_ERR_MALFORMED, "digest length is 31");
	check_bin("1221" D32 "00", FWC_ERR_MALFORMED, "digest length is 33");
	check_bin("01d5001220" D32, FWC_ERR_NONCANONICAL, "codec varint");
	check_bin("8100551220" D32, FWC_ERR_NONCANONICAL, "version varint");
	check_bin("0155920020" D32, FWC_ERR_NONCANONICAL, "multihash code");
	check_bin("1220" D32 "00", FWC_ERR_TRAILING, "1 bytes after");
	check_bin("01551220" D32 "0000", FWC_ERR_TRAILING, "2 bytes after");
	check_bin("02551220" D32, FWC_ERR_UNSUPPORTED, "version 2");
	check_bin("00551220" D32, FWC_ERR_UNSUPPORTED, "version 0");
	check_bin("01551220e3b0c4", FWC_ERR_TRUNCATED, "digest");
	check_bin("0155", FWC_ERR_TRUNCATED, NULL);
	check_bin("01", FWC_ERR_TRUNCATED, NULL);
	check_bin("", FWC_ERR_TRUNCATED, NULL);
	check_bin("01ffffffffffffffffff01", FWC_ERR_TOO_LARGE, NULL);
	/* prefix mode: a CID followed by other bytes */
	n = test_unhex(bin, sizeof(bin), "01551220" D32 "abcd");
	CHECK_RC(fwc_cid_decode(&c, &used, bin, n, NULL), FWC_OK);
	CHECK(used == 36);
}

static void test_text_errors(void)
{
	struct fwc_cid c;
	struct fwc_errinfo ei;
	char longtxt[200];
	const char *v1 = "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e";
	char buf[80];

	memset(&c, 0xaa, sizeof(c));
	/* uppercase base32 multibase 'B' is not accepted: one canonical spelling */
	CHECK_RC(fwc_cid_parse(&c, "BAFKREIFZJUT3TE2NHYEKKLSS27NH3K72YSCO7Y32KOAO5EEI66WOF36N5E", 59,
			       &ei),
		 FWC_ERR_MALFORMED);
	CHECK(c.version == 0xaa); /* untouched on failure */
	CHECK_RC(fwc_cid_parse(&c, "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5E",
			       59, &ei),
		 FWC_ERR_MALFORMED);
	CHECK(ei.offset == 58);
	CHECK_RC(fwc_cid_parse(&c, "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n", 57,
			       &ei),
		 FWC_ERR_TRUNCATED);
	/* last character with a non-zero unused bit: 'e' (4) -> 'f' (5) */
	CHECK_RC(fwc_cid_parse(&c, "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5f",
			       59, &ei),
		 FWC_ERR_NONCANONICAL);
	CHECK_RC(fwc_cid_parse(&c, "QmdfTbBqBPQ7VNxZEYEj14VmRuZBkqFbiwReogJgS1zR10", 46, &ei),
		 FWC_ERR_MALFORMED);
	CHECK(ei.offset == 45);
	CHECK_RC(fwc_cid_parse(&c, "QmdfTbBqBPQ7VNxZEYEj14VmRuZBkqFbiwReogJgS1zR1", 45, &ei),
		 FWC_ERR_MALFORMED);
	CHECK_RC(fwc_cid_parse(&c, "f01551220", 9, &ei), FWC_ERR_MALFORMED);
	CHECK_RC(fwc_cid_parse(&c, "", 0, &ei), FWC_ERR_MALFORMED);
	memset(longtxt, 'a', sizeof(longtxt));
	longtxt[0] = 'b';
	CHECK_RC(fwc_cid_parse(&c, longtxt, sizeof(longtxt), &ei), FWC_ERR_TOO_LARGE);
	/* trailing text after a valid CID */
	snprintf(buf, sizeof(buf), "%saa", v1);
	CHECK_RC(fwc_cid_parse(&c, buf, strlen(buf), &ei), FWC_ERR_TRAILING);
	/* the parser reads exactly len characters, no NUL needed */
	CHECK_RC(fwc_cid_parse(&c, buf, strlen(v1), NULL), FWC_OK);
}

/* The worked examples of docs/formats/cid.md, byte for byte. */
static void test_doc_examples(void)
{
	static const struct {
		const char *text, *bin;
	} ex[] = {
		{"Qmf412jQZiuVUtdgnB36FXFX7xg5V6KEbSJ4dpQuhkLyfD",
		 "1220f852c7fa62f971817f54d8a80dcd63fcf7098b3cbde9ae8ec1ee449013ec5db0"},
		{"bafybeihykld7uyxzogax6vgyvag42y7464eywpf55gxi5qpoisibh3c5wa",
		 "01701220f852c7fa62f971817f54d8a80dcd63fcf7098b3cbde9ae8ec1ee449013ec5db0"},
		{"bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e",
		 "01551220b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9"},
	};
	uint8_t leaf[64], want[64], got[FWC_CID_MAX_BINARY];
	size_t ll = test_unhex(leaf, sizeof(leaf), "0a110802120b68656c6c6f20776f726c64180b");
	struct fwc_cid c, v1, z;
	char s[FWC_CID_STR_MAX];

	for (size_t i = 0; i < sizeof(ex) / sizeof(ex[0]); i++) {
		size_t wl = test_unhex(want, sizeof(want), ex[i].bin), gl = 0;

		CHECK_RC(fwc_cid_parse(&c, ex[i].text, strlen(ex[i].text), NULL), FWC_OK);
		CHECK_RC(fwc_cid_encode(got, sizeof(got), &gl, &c), FWC_OK);
		CHECK(gl == wl && memcmp(got, want, wl) == 0);
		CHECK_RC(fwc_cid_decode(&c, NULL, want, wl, NULL), FWC_OK);
		CHECK_RC(fwc_cid_format(s, sizeof(s), &c), FWC_OK);
		CHECK(strcmp(s, ex[i].text) == 0);
	}
	/* Kubo's v0 and v1 (--raw-leaves=false) CIDs of "hello world" name the same leaf block */
	CHECK_RC(fwc_cid_from_block(&c, 0, FWC_CID_CODEC_DAGPB, leaf, ll), FWC_OK);
	CHECK_RC(fwc_cid_format(s, sizeof(s), &c), FWC_OK);
	CHECK(strcmp(s, ex[0].text) == 0);
	CHECK_RC(fwc_cid_to_v1(&v1, &c), FWC_OK);
	CHECK_RC(fwc_cid_format(s, sizeof(s), &v1), FWC_OK);
	CHECK(strcmp(s, ex[1].text) == 0);
	CHECK_RC(fwc_cid_parse(&z, "zb2rhj7crUKTQYRGCRATFaQ6YFLTde2YzdqbbhAASkL9uRDXn", 49, NULL),
		 FWC_OK);
	CHECK_RC(fwc_cid_parse(&c, ex[2].text, strlen(ex[2].text), NULL), FWC_OK);
	CHECK(fwc_cid_equal(&z, &c));
}

int main(void)
{
	RUN(test_doc_examples);
	RUN(test_dagpb_spec_empty_block);
	RUN(test_raw_leaves);
	RUN(test_base58_v1);
	RUN(test_tsv_round_trip);
	RUN(test_binary_errors);
	RUN(test_text_errors);
	return test_done();
}
