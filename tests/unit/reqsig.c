/* Tests lib/reqsig.c against docs/formats/content-auth.md: the worked example's digest and
 * signature (values from tests/vectors/reqsig.py, an independent implementation), that the
 * page shows those exact strings, verification, and the refusal of fields that would make the
 * LF-joined message ambiguous. */
#include "test.h"

#include "fwchain/hex.h"
#include "fwchain/reqsig.h"
#include "fwchain/sha256.h"

#define EX_BODY_SHA "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9"
#define EX_DIGEST "c102246c22f58f8e12147cc54904377975cb44ddb6ee081480ce6ce511ff9333"
#define EX_SIG                                                                                     \
	"e5dcaeeff139cc42f446e9a7d2dd40a8948322d9b0a885b77ba7fe3109704733026948a7038f236a7cf67"    \
	"00df196f652024d6c8172c70a7f71f2abe38b2718c9"
#define EX_KEY "bip340:f9308a019258c31049344f85f89d5229b531c845836f99b08601f113bce036f9"
#define EX_MSG                                                                                     \
	"6677636861696e2d6465762d31643963323034660a504f53540a2f76312f636f6e74656e743f6369642d76"   \
	"657273696f6e3d310a313739353233393230300a6239346432376239393334643365303861353265353264"   \
	"3764613764616266616334383465666533376135333830656539303838663761636532656663646539"

static char doc[16384];

static void test_doc_has_values(void)
{
	char path[512];
	FILE *f =
	    fopen(test_vector_path(path, sizeof(path), "../../docs/formats/content-auth.md"), "rb");
	size_t n = f ? fread(doc, 1, sizeof(doc) - 1, f) : 0;

	if (f)
		fclose(f);
	doc[n] = '\0';
	CHECK(n > 0);
	CHECK(strstr(doc, EX_BODY_SHA) != NULL);
	CHECK(strstr(doc, EX_DIGEST) != NULL);
	CHECK(strstr(doc, EX_SIG) != NULL);
	CHECK(strstr(doc, EX_KEY) != NULL);
	CHECK(strstr(doc, EX_MSG) != NULL);
}

static void test_example(void)
{
	uint8_t body_sha[32], d[32], want[32], sig[64], wsig[64], secret[32] = {0}, aux[32] = {0},
	                                                          msg[256], m2[256];
	struct fwc_seckey sk;
	struct fwc_pubkey pk, pk2;
	size_t n = 0;
	char txt[FWC_PUBKEY_TEXT_MAX];

	CHECK_RC(fwc_sha256(body_sha, "hello world", 11), FWC_OK);
	CHECK(test_unhex(want, 32, EX_BODY_SHA) == 32);
	CHECK_MEM(body_sha, want, 32);
	CHECK_RC(fwc_reqsig_digest(d, "fwchain-dev-1d9c204f", "POST", "/v1/content?cid-version=1",
	                           1795239200, body_sha, NULL),
	         FWC_OK);
	CHECK(test_unhex(want, 32, EX_DIGEST) == 32);
	CHECK_MEM(d, want, 32);
	/* The message itself, hashed with the plain tagged hash, gives the same digest. */
	n = test_unhex(msg, sizeof(msg), EX_MSG);
	CHECK(n > 100);
	CHECK_RC(fwc_tagged_hash(want, FWC_TAG_REQUEST, msg, n), FWC_OK);
	CHECK_MEM(d, want, 32);
	memcpy(m2, "fwchain-dev-1d9c204f\nPOST\n/v1/content?cid-version=1\n1795239200\n", 63);
	memcpy(m2 + 63, EX_BODY_SHA, 64);
	CHECK(n == 127 && memcmp(m2, msg, n) == 0);

	secret[31] = 3;
	CHECK_RC(fwc_key_from_secret(&sk, FWC_ALG_BIP340, secret), FWC_OK);
	CHECK_RC(fwc_key_public(&pk, &sk), FWC_OK);
	CHECK_RC(fwc_pubkey_to_text(txt, sizeof(txt), &pk), FWC_OK);
	CHECK(strcmp(txt, EX_KEY) == 0);
	CHECK_RC(fwc_sign_bip340_aux(sig, &sk, aux, d, 32), FWC_OK);
	CHECK(test_unhex(wsig, 64, EX_SIG) == 64);
	CHECK_MEM(sig, wsig, 64);
	CHECK_RC(fwc_reqsig_verify(&pk, wsig, d), FWC_OK);
	CHECK_RC(fwc_reqsig_sign(sig, &sk, d), FWC_OK);
	CHECK_RC(fwc_reqsig_verify(&pk, sig, d), FWC_OK);
	/* Any change of the request breaks it. */
	CHECK_RC(fwc_reqsig_digest(d, "fwchain-dev-1d9c204f", "POST", "/v1/content?cid-version=0",
	                           1795239200, body_sha, NULL),
	         FWC_OK);
	CHECK_RC(fwc_reqsig_verify(&pk, wsig, d), FWC_ERR_BADSIG);
	CHECK_RC(fwc_reqsig_digest(d, "fwchain-dev-1d9c204e", "POST", "/v1/content?cid-version=1",
	                           1795239200, body_sha, NULL),
	         FWC_OK);
	CHECK_RC(fwc_reqsig_verify(&pk, wsig, d), FWC_ERR_BADSIG);
	/* Another key does not verify. */
	secret[31] = 4;
	CHECK_RC(fwc_key_from_secret(&sk, FWC_ALG_BIP340, secret), FWC_OK);
	CHECK_RC(fwc_key_public(&pk2, &sk), FWC_OK);
	CHECK_RC(fwc_reqsig_digest(d, "fwchain-dev-1d9c204f", "POST", "/v1/content?cid-version=1",
	                           1795239200, body_sha, NULL),
	         FWC_OK);
	CHECK_RC(fwc_reqsig_verify(&pk2, wsig, d), FWC_ERR_BADSIG);
	/* Ed25519 keys sign requests too. */
	CHECK_RC(fwc_key_generate(&sk, FWC_ALG_ED25519), FWC_OK);
	CHECK_RC(fwc_key_public(&pk2, &sk), FWC_OK);
	CHECK_RC(fwc_reqsig_sign(sig, &sk, d), FWC_OK);
	CHECK_RC(fwc_reqsig_verify(&pk2, sig, d), FWC_OK);
	fwc_seckey_wipe(&sk);
}

static void test_refusals(void)
{
	uint8_t d[32], h[32] = {0};
	struct fwc_errinfo ei = {0};
	char longt[FWC_REQSIG_FIELD_MAX + 2];

	CHECK_RC(fwc_reqsig_digest(d, "c", "POST", "/a\nb", 1, h, &ei), FWC_ERR_MALFORMED);
	CHECK(strstr(ei.msg, "target") != NULL);
	CHECK_RC(fwc_reqsig_digest(d, "c\n", "POST", "/a", 1, h, &ei), FWC_ERR_MALFORMED);
	CHECK_RC(fwc_reqsig_digest(d, "c", "PO ST", "/a", 1, h, &ei), FWC_ERR_MALFORMED);
	CHECK_RC(fwc_reqsig_digest(d, "c", "POST", "/a b", 1, h, &ei), FWC_ERR_MALFORMED);
	CHECK_RC(fwc_reqsig_digest(d, "c", "POST", "/\xc3\xa9", 1, h, &ei), FWC_ERR_MALFORMED);
	CHECK_RC(fwc_reqsig_digest(d, "", "POST", "/a", 1, h, &ei), FWC_ERR_MALFORMED);
	CHECK_RC(fwc_reqsig_digest(d, "c", "POST", "", 1, h, &ei), FWC_ERR_MALFORMED);
	CHECK_RC(fwc_reqsig_digest(d, "c", "POST", "/a", -1, h, &ei), FWC_ERR_MALFORMED);
	CHECK_RC(fwc_reqsig_digest(d, "c", NULL, "/a", 1, h, &ei), FWC_ERR_MALFORMED);
	memset(longt, 'a', sizeof(longt) - 1);
	longt[0] = '/';
	longt[sizeof(longt) - 1] = '\0';
	CHECK_RC(fwc_reqsig_digest(d, "c", "GET", longt, 1, h, &ei), FWC_ERR_MALFORMED);
	longt[sizeof(longt) - 2] = '\0'; /* exactly the maximum */
	CHECK_RC(fwc_reqsig_digest(d, "c", "GET", longt, 1, h, &ei), FWC_OK);
	CHECK_RC(fwc_reqsig_digest(NULL, "c", "GET", "/", 1, h, &ei), FWC_ERR_ARG);
}

int main(void)
{
	RUN(test_doc_has_values);
	RUN(test_example);
	RUN(test_refusals);
	return test_done();
}
