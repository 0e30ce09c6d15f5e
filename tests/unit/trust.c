/* Tests lib/trust.c: the worked examples of docs/formats/trust.md (read from the doc itself, so
 * doc and code cannot drift) parse to the independently known keys (the C2SP witness vkey files
 * of tests/vectors/c2sp, the public keys of RFC 8032 §7.1 and of the BIP-340 test vectors) and
 * format back byte for byte; every refusal the format page lists, with its code and line; the
 * freshness rule (quorum-th newest cosignature) on hand-computed values and on the bundle of
 * docs/formats/bundle.md. */
#include "test.h"

#include "fwchain/bundle.h"
#include "fwchain/err.h"
#include "fwchain/hex.h"
#include "fwchain/key.h"
#include "fwchain/note.h"
#include "fwchain/trust.h"

#include <stdint.h>

static char canonical[4096], commented[4096];
static size_t canonical_len, commented_len;

static size_t read_file(char *buf, size_t cap, const char *path)
{
	FILE *f = fopen(path, "rb");
	size_t n;

	if (f == NULL) {
		fprintf(stderr, "cannot open %s\n", path);
		return 0;
	}
	n = fread(buf, 1, cap - 1, f);
	fclose(f);
	buf[n] = '\0';
	return n;
}

/* Copy the fenced block after marker `name` of the doc into out. */
static size_t doc_block(char *out, size_t cap, const char *doc, const char *name)
{
	char open[128], close[128];
	const char *a, *z;

	snprintf(open, sizeof(open), "<!-- %s -->\n```\n", name);
	snprintf(close, sizeof(close), "```\n<!-- /%s -->", name);
	a = strstr(doc, open);
	z = a ? strstr(a, close) : NULL;
	CHECK(a != NULL && z != NULL);
	if (a == NULL || z == NULL)
		return 0;
	a += strlen(open);
	CHECK((size_t)(z - a) < cap);
	if ((size_t)(z - a) >= cap)
		return 0;
	memcpy(out, a, (size_t)(z - a));
	out[z - a] = '\0';
	return (size_t)(z - a);
}

static char doc[65536];

static void setup(void)
{
	char path[512];

	CHECK(read_file(doc, sizeof(doc),
	                test_vector_path(path, sizeof(path), "../../docs/formats/trust.md")) > 0);
	canonical_len = doc_block(canonical, sizeof(canonical), doc, "example-trust");
	commented_len = doc_block(commented, sizeof(commented), doc, "example-trust-commented");
	CHECK(canonical_len > 0 && commented_len > 0);
}

static void check_key(const struct fwc_pubkey *pk, int alg, const char *hex)
{
	uint8_t want[32];

	CHECK(test_unhex(want, 32, hex) == 32);
	CHECK(pk->alg == alg);
	CHECK_MEM(pk->key, want, 32);
}

static void test_example(void)
{
	static const char *vkfiles[3] = {"c2sp/fwchain-w1.vkey", "c2sp/fwchain-w2.vkey",
	                                 "c2sp/fwchain-w3.vkey"};
	static const char *keyids[3] = {"7ec980b1", "a3390d8f", "55294815"};
	static struct fwc_trust t;
	const struct fwc_trust_product *pr;
	char path[512], buf[1024], sizeline[64];
	uint8_t id[4];
	size_t n;

	CHECK_RC(fwc_trust_parse(&t, canonical, canonical_len, NULL), FWC_OK);
	CHECK(t.origin_len == 24 && memcmp(t.origin, "example.com/fwchain-test", 24) == 0);
	CHECK(t.origin >= canonical && t.origin < canonical + canonical_len); /* zero-copy */
	CHECK(t.n_validators == 3);
	for (int i = 0; i < 3 && t.n_validators == 3; i++) {
		struct fwc_note_vkey want;

		n = read_file(buf, sizeof(buf), test_vector_path(path, sizeof(path), vkfiles[i]));
		CHECK_RC(fwc_note_vkey_parse(&want, buf, n, NULL), FWC_OK);
		CHECK(t.validators[i].name_len == want.name_len &&
		      strcmp(t.validators[i].name, want.name) == 0);
		CHECK(t.validators[i].type == FWC_NOTE_SIG_COSIG_V1);
		CHECK_MEM(t.validators[i].pubkey, want.pubkey, 32);
		CHECK(test_unhex(id, 4, keyids[i]) == 4);
		CHECK_MEM(t.validators[i].keyid, id, 4);
	}
	CHECK(t.quorum == 2);
	CHECK(t.max_age == 86400);
	CHECK(t.n_products == 1);
	pr = fwc_trust_product_find(&t, "acme-thermostat", 15);
	CHECK(pr == &t.products[0]);
	CHECK(fwc_trust_product_find(&t, "acme-thermosta", 14) == NULL);
	if (pr == NULL)
		return;
	CHECK(pr->has_root && pr->has_release);
	CHECK(pr->root.n == 2 && pr->root.threshold == 2);
	/* RFC 8032 §7.1 TEST 1 and TEST 2 public keys. */
	check_key(&pr->root.keys[0], FWC_ALG_ED25519,
	          "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
	check_key(&pr->root.keys[1], FWC_ALG_ED25519,
	          "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c");
	/* BIP-340 test vectors 0, 1, 2. */
	CHECK(pr->release.n == 3 && pr->release.threshold == 2);
	check_key(&pr->release.keys[0], FWC_ALG_BIP340,
	          "F9308A019258C31049344F85F89D5229B531C845836F99B08601F113BCE036F9");
	check_key(&pr->release.keys[1], FWC_ALG_BIP340,
	          "DFF1D77F2A671C5F36183726DB2341BE58FEAE1DA2DECED843240F7B502BA659");
	check_key(&pr->release.keys[2], FWC_ALG_BIP340,
	          "DD308AFEC5777E13121FA72B9CC1B7CC0139715309B086C960E18FD969774EB8");
	/* The page states the example's size. */
	snprintf(sizeline, sizeof(sizeline), " %zu bytes:", canonical_len);
	CHECK(strstr(doc, sizeline) != NULL);
	if (strstr(doc, sizeline) == NULL)
		fprintf(stderr, "docs/formats/trust.md should say%s\n", sizeline);
}

static void test_format(void)
{
	static struct fwc_trust t, c;
	static char out[4096];
	struct fwc_errinfo ei;
	size_t n = 0, need = 0;

	CHECK_RC(fwc_trust_parse(&t, canonical, canonical_len, NULL), FWC_OK);
	CHECK_RC(fwc_trust_format(out, sizeof(out), &n, &t, NULL), FWC_OK);
	CHECK(n == canonical_len && memcmp(out, canonical, n) == 0 && out[n] == '\0');
	/* The commented form means the same and formats to the canonical bytes. */
	CHECK_RC(fwc_trust_parse(&c, commented, commented_len, NULL), FWC_OK);
	CHECK_RC(fwc_trust_format(out, sizeof(out), &n, &c, NULL), FWC_OK);
	CHECK(n == canonical_len && memcmp(out, canonical, n) == 0);
	/* Measuring and short buffers. */
	CHECK_RC(fwc_trust_format(NULL, 0, &need, &t, NULL), FWC_ERR_BUFSIZE);
	CHECK(need == canonical_len);
	CHECK_RC(fwc_trust_format(out, canonical_len, &need, &t, NULL), FWC_ERR_BUFSIZE);
	CHECK_RC(fwc_trust_format(out, canonical_len + 1, &need, &t, NULL), FWC_OK);
	/* A struct the parser would refuse is not written. */
	c = t;
	c.quorum = 4;
	CHECK_RC(fwc_trust_format(out, sizeof(out), &n, &c, &ei), FWC_ERR_RANGE);
	CHECK(out[0] == '\0');
	CHECK(strstr(ei.msg, "line 6: quorum must be 1..3") != NULL);
	c = t;
	c.products[0].release.revoked[1] = 1;
	CHECK_RC(fwc_trust_format(out, sizeof(out), &n, &c, NULL), FWC_ERR_ARG);
	c = t;
	c.products[0].has_root = c.products[0].has_release = 0;
	CHECK_RC(fwc_trust_format(out, sizeof(out), &n, &c, NULL), FWC_ERR_MISSING_FIELD);
	/* Without max-age and products: the minimal file. */
	c = t;
	c.max_age = 0;
	c.n_products = 0;
	CHECK_RC(fwc_trust_format(out, sizeof(out), &n, &c, NULL), FWC_OK);
	CHECK(strstr(out, "max-age") == NULL && strstr(out, "product") == NULL);
	CHECK(n > 6 && memcmp(out + n - 9, "quorum 2\n", 9) == 0);
	CHECK_RC(fwc_trust_parse(&c, out, n, NULL), FWC_OK);
	CHECK(c.max_age == 0 && c.n_products == 0 && c.quorum == 2);
}

/* Parse `text` (NUL-terminated), expect rc and a message containing `msg`. */
static void refuse(const char *text, int rc, const char *msg)
{
	static struct fwc_trust t;
	struct fwc_errinfo ei;
	int got;

	memset(&ei, 0, sizeof(ei));
	memset(&t, 0x5a, sizeof(t));
	got = fwc_trust_parse(&t, text, strlen(text), &ei);
	CHECK_RC(got, rc);
	CHECK(strstr(ei.msg, msg) != NULL);
	CHECK(((const unsigned char *)&t)[0] == 0x5a); /* untouched on failure */
	if (got != rc || strstr(ei.msg, msg) == NULL)
		fprintf(stderr, "  want /%s/, got %d: %s\n", msg, got, ei.msg);
}

/* The canonical example with the first `from` replaced by `to`. */
static const char *edit(const char *from, const char *to)
{
	static char out[8192];
	const char *p = strstr(canonical, from);

	CHECK(p != NULL);
	if (p == NULL)
		return "";
	snprintf(out, sizeof(out), "%.*s%s%s", (int)(p - canonical), canonical, to,
	         p + strlen(from));
	return out;
}

#define V1                                                                                         \
	"validator witness.example.com/w1+7ec980b1+BCSwK8N8yAWJCrOpyLSLkfMePJIz24EyNBZgLWDIsaSW\n"
#define RK0 "release-key bip340:f9308a019258c31049344f85f89d5229b531c845836f99b08601f113bce036f9\n"

static void test_refusals(void)
{
	static char big[FWC_TRUST_MAX_LEN + 64], buf[8192];
	char line[512], vk[FWC_NOTE_VKEY_TEXT_MAX];
	struct fwc_note_vkey v;
	struct fwc_pubkey pk;
	struct fwc_seckey sk;
	size_t n;

	refuse("", FWC_ERR_MALFORMED, "empty trust file");
	refuse(edit("fwchain-trust/v1", "fwchain-trust/v2"), FWC_ERR_UNSUPPORTED,
	       "unsupported trust file version 'fwchain-trust/v2'");
	refuse(edit("fwchain-trust/v1", "fwchain-trust"), FWC_ERR_MALFORMED, "not a trust file");
	refuse(edit("fwchain-trust/v1\n", "# x\nfwchain-trust/v1\n"), FWC_ERR_MALFORMED,
	       "not a trust file");
	memcpy(buf, canonical, canonical_len - 1);
	buf[canonical_len - 1] = '\0';
	refuse(buf, FWC_ERR_MALFORMED, "line 15 does not end with a newline");
	refuse(edit("quorum 2\n", "quorum 2\r\n"), FWC_ERR_MALFORMED,
	       "line 6: control character 0x0d");
	refuse(edit("quorum 2", "quorum\t2"), FWC_ERR_MALFORMED, "line 6: control character 0x09");
	refuse(edit("quorum 2", "quorum  2"), FWC_ERR_MALFORMED, "line 6: one space");
	refuse(edit("quorum 2", "quorum 2 "), FWC_ERR_MALFORMED, "line 6: one space");
	refuse(edit("quorum 2", "quorum"), FWC_ERR_MALFORMED, "line 6: quorum needs a value");
	refuse(edit("quorum 2", "quorum "), FWC_ERR_MALFORMED, "line 6: quorum needs a value");
	refuse(edit("quorum 2", "quota 2"), FWC_ERR_UNKNOWN_FIELD,
	       "line 6: unknown keyword 'quota'");
	refuse(edit("quorum 2\nmax-age 86400", "max-age 86400\nquorum 2"), FWC_ERR_MALFORMED,
	       "line 6: expected validator or quorum, not max-age");
	refuse(edit("origin example.com/fwchain-test\n", ""), FWC_ERR_MALFORMED,
	       "line 2: expected origin, not validator");
	refuse(edit("quorum 2\nmax-age 86400\n", "quorum 2\nmax-age 86400\norigin x\n"),
	       FWC_ERR_MALFORMED, "line 8: expected product or end of file, not origin");
	refuse(edit("root-key "
	            "ed25519:3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c\n",
	            "root-key "
	            "ed25519:3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c\n"
	            "quorum 1\n"),
	       FWC_ERR_MALFORMED,
	       "line 12: expected product, root-key, release-threshold or end of file, not quorum");
	refuse("fwchain-trust/v1\norigin x\n" V1, FWC_ERR_MISSING_FIELD,
	       "end of file: expected validator or quorum");
	refuse("fwchain-trust/v1\n", FWC_ERR_MISSING_FIELD, "end of file: expected origin");
	snprintf(buf, sizeof(buf), "%sproduct other\n", canonical);
	refuse(buf, FWC_ERR_MISSING_FIELD,
	       "end of file: expected root-threshold or release-threshold");
	snprintf(buf, sizeof(buf), "%sproduct other\nrelease-threshold 1\n", canonical);
	refuse(buf, FWC_ERR_MISSING_FIELD, "end of file: expected release-key");
	/* Numbers. */
	refuse(edit("quorum 2", "quorum 0"), FWC_ERR_RANGE, "line 6: quorum must be 1..3");
	refuse(edit("quorum 2", "quorum 4"), FWC_ERR_RANGE, "quorum must be 1..3");
	refuse(edit("quorum 2", "quorum 02"), FWC_ERR_RANGE, "quorum must be 1..3");
	refuse(edit("quorum 2", "quorum +2"), FWC_ERR_RANGE, "quorum must be 1..3");
	refuse(edit("max-age 86400", "max-age 0"), FWC_ERR_RANGE, "line 7: max-age must be");
	refuse(edit("max-age 86400", "max-age 9223372036854775808"), FWC_ERR_RANGE, "max-age must");
	refuse(edit("max-age 86400", "max-age 99999999999999999999999"), FWC_ERR_RANGE,
	       "max-age must");
	refuse(edit("release-threshold 2", "release-threshold 4"), FWC_ERR_RANGE,
	       "line 12: release-threshold 4 but only 3 release-key lines follow");
	refuse(edit("root-threshold 2", "root-threshold 3"), FWC_ERR_RANGE,
	       "line 9: root-threshold 3 but only 2 root-key lines follow");
	refuse(edit("release-threshold 2", "release-threshold 17"), FWC_ERR_RANGE,
	       "release-threshold must be 1..16");
	/* Values. */
	refuse(edit("origin example.com/fwchain-test", "origin caf\xc3\xa9"), FWC_ERR_MALFORMED,
	       "line 2: origin must be printable ASCII");
	memset(line, 'a', 65);
	snprintf(line + 65, sizeof(line) - 65, "\n");
	snprintf(buf, sizeof(buf), "origin %s", line);
	refuse(edit("origin example.com/fwchain-test\n", buf), FWC_ERR_RANGE,
	       "origin is 65 bytes, at most 64");
	refuse(edit("+7ec980b1+", "+7ec980b2+"), FWC_ERR_MALFORMED, "line 3: validator: ");
	refuse(edit("product acme-thermostat", "product Acme"), FWC_ERR_MALFORMED,
	       "line 8: product id must be");
	refuse(edit("product acme-thermostat", "product -acme"), FWC_ERR_MALFORMED,
	       "product id must be");
	refuse(edit("release-key bip340:f9", "release-key bip340:z9"), FWC_ERR_MALFORMED,
	       "line 13: release-key: ");
	refuse(edit("release-key bip340:f9", "release-key rsa:f9"), FWC_ERR_UNSUPPORTED,
	       "line 13: release-key: ");
	snprintf(buf, sizeof(buf), "%s# caf\xc3\n", canonical);
	refuse(buf, FWC_ERR_MALFORMED, "line 16: invalid UTF-8");
	/* Duplicates. */
	refuse(edit(V1, V1 V1), FWC_ERR_DUPLICATE,
	       "line 4: validator name witness.example.com/w1 is given twice");
	refuse(edit(RK0, RK0 RK0), FWC_ERR_DUPLICATE, "line 14: this key is already in the set");
	snprintf(buf, sizeof(buf), "%sproduct acme-thermostat\nrelease-threshold 1\n" RK0,
	         canonical);
	refuse(buf, FWC_ERR_DUPLICATE, "line 16: product acme-thermostat is given twice");
	/* w1's key under another name would count twice. */
	{
		/* The vkey of line V1: after "validator ", before the newline. */
		const char *v1 = V1;

		CHECK_RC(fwc_note_vkey_parse(&v, v1 + 10, strlen(v1) - 11, NULL), FWC_OK);
	}
	pk.alg = FWC_ALG_ED25519;
	memcpy(pk.key, v.pubkey, 32);
	CHECK_RC(fwc_note_vkey_init(&v, "alias", 5, FWC_NOTE_SIG_COSIG_V1, &pk), FWC_OK);
	CHECK_RC(fwc_note_vkey_format(vk, sizeof(vk), &v), FWC_OK);
	snprintf(line, sizeof(line), V1 "validator %s\n", vk);
	refuse(edit(V1, line), FWC_ERR_DUPLICATE,
	       "line 4: validator alias has the same key as witness.example.com/w1");
	/* Bounds: 17 validators, 17 keys in a set, 5 products, 64 KiB. */
	n = (size_t)snprintf(buf, sizeof(buf), "fwchain-trust/v1\norigin x\n");
	for (int i = 0; i < 17; i++) {
		char name[16];

		CHECK_RC(fwc_key_generate(&sk, FWC_ALG_ED25519), FWC_OK);
		CHECK_RC(fwc_key_public(&pk, &sk), FWC_OK);
		snprintf(name, sizeof(name), "v%d", i);
		CHECK_RC(fwc_note_vkey_init(&v, name, strlen(name), FWC_NOTE_SIG_COSIG_V1, &pk),
		         FWC_OK);
		CHECK_RC(fwc_note_vkey_format(vk, sizeof(vk), &v), FWC_OK);
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "validator %s\n", vk);
	}
	refuse(buf, FWC_ERR_TOO_LARGE, "line 19: more than 16 validators");
	n = (size_t)snprintf(buf, sizeof(buf), "%sproduct p\nrelease-threshold 1\n", canonical);
	for (int i = 0; i < 17; i++) {
		char text[FWC_PUBKEY_TEXT_MAX];

		CHECK_RC(fwc_key_generate(&sk, FWC_ALG_BIP340), FWC_OK);
		CHECK_RC(fwc_key_public(&pk, &sk), FWC_OK);
		CHECK_RC(fwc_pubkey_to_text(text, sizeof(text), &pk), FWC_OK);
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "release-key %s\n", text);
	}
	refuse(buf, FWC_ERR_TOO_LARGE, "line 34: more than 16 keys in one set");
	fwc_seckey_wipe(&sk);
	n = (size_t)snprintf(buf, sizeof(buf), "%s", canonical);
	for (int i = 0; i < 4; i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n,
		                      "product p%d\nrelease-threshold 1\n" RK0, i);
	refuse(buf, FWC_ERR_TOO_LARGE, "line 25: more than 4 products");
	n = (size_t)snprintf(big, sizeof(big), "%s", canonical);
	while (n <= FWC_TRUST_MAX_LEN)
		n += (size_t)snprintf(big + n, sizeof(big) - n, "# padding\n");
	refuse(big, FWC_ERR_TOO_LARGE, "at most 65536");
	/* Exactly at the limit is fine. */
	big[FWC_TRUST_MAX_LEN - 1] = '\n';
	big[FWC_TRUST_MAX_LEN] = '\0';
	{
		static struct fwc_trust t;
		size_t k = FWC_TRUST_MAX_LEN - 2;

		while (big[k] != '\n')
			big[k--] = 'x';
		big[k + 1] = '#';
		CHECK_RC(fwc_trust_parse(&t, big, FWC_TRUST_MAX_LEN, NULL), FWC_OK);
	}
}

static void test_fresh(void)
{
	static struct fwc_trust t;
	struct fwc_note_check s[3];
	struct fwc_errinfo ei;
	uint64_t age = 7;

	CHECK_RC(fwc_trust_parse(&t, canonical, canonical_len, NULL), FWC_OK);
	memset(s, 0, sizeof(s));
	/* w1 at 1000, w2 at 5000, w3 did not sign: the quorum (2) vouches for time 1000. */
	s[0].valid = 1, s[0].timestamp = 1000;
	s[1].valid = 1, s[1].timestamp = 5000;
	CHECK_RC(fwc_trust_check_fresh(&age, &t, s, 3, 1000 + 86400, NULL), FWC_OK);
	CHECK(age == 86400);
	CHECK_RC(fwc_trust_check_fresh(&age, &t, s, 3, 1000 + 86401, &ei), FWC_ERR_STALE);
	CHECK(age == 86401);
	CHECK(strstr(ei.msg, "86401 s old (cosigned by a quorum at 1000), at most 86400") != NULL);
	/* A third, newer cosignature moves the quorum's time to 5000. */
	s[2].valid = 1, s[2].timestamp = 9000;
	CHECK_RC(fwc_trust_check_fresh(&age, &t, s, 3, 5000 + 86400, NULL), FWC_OK);
	CHECK(age == 86400);
	/* Times ahead of the clock are age 0. */
	CHECK_RC(fwc_trust_check_fresh(&age, &t, s, 3, 10, NULL), FWC_OK);
	CHECK(age == 0);
	/* Invalid entries do not count, whatever their time. */
	s[1].valid = 0, s[1].timestamp = 99999;
	s[2].valid = 0;
	age = 7;
	CHECK_RC(fwc_trust_check_fresh(&age, &t, s, 3, 1000, &ei), FWC_ERR_QUORUM);
	CHECK(age == 7);
	CHECK(strstr(ei.msg, "1 of 3 validators cosigned the checkpoint; 2 required") != NULL);
	/* Without max-age: any age is fine, the age is still reported. */
	s[1].valid = 1, s[1].timestamp = 3;
	t.max_age = 0;
	CHECK_RC(fwc_trust_check_fresh(&age, &t, s, 3, 4000000000u, NULL), FWC_OK);
	CHECK(age == 4000000000u - 3);
	CHECK_RC(fwc_trust_check_fresh(&age, &t, s, 2, 1, NULL), FWC_ERR_ARG);
}

/* The bundle of docs/formats/bundle.md (cosigned by w1 at 1700000000) against the example
 * trust: quorum 2 is not met; with quorum 1 it verifies, and is fresh for exactly one day. */
static void test_bundle(void)
{
	static char bdoc[65536], hex[8192];
	static uint8_t raw[4096];
	static struct fwc_trust t;
	static struct fwc_bundle_report rep;
	struct fwc_bundle_trust bt;
	struct fwc_bundle b;
	char path[512];
	const char *a, *z;
	size_t hl = 0, n = 0;
	uint64_t age = 0;

	CHECK(read_file(bdoc, sizeof(bdoc),
	                test_vector_path(path, sizeof(path), "../../docs/formats/bundle.md")) > 0);
	a = strstr(bdoc, "<!-- example-bundle-hex -->");
	z = a ? strstr(a, "<!-- /example-bundle-hex -->") : NULL;
	CHECK(a != NULL && z != NULL);
	if (a == NULL || z == NULL)
		return;
	for (a += strlen("<!-- example-bundle-hex -->"); a < z; a++)
		if ((*a >= '0' && *a <= '9') || (*a >= 'a' && *a <= 'f'))
			hex[hl++] = *a;
	CHECK_RC(fwc_hex_decode(raw, sizeof(raw), &n, hex, hl), FWC_OK);
	CHECK_RC(fwc_bundle_decode(&b, raw, n, NULL), FWC_OK);
	CHECK_RC(fwc_trust_parse(&t, canonical, canonical_len, NULL), FWC_OK);
	fwc_trust_bundle_trust(&bt, &t);
	CHECK(bt.n_verifiers == 3 && bt.quorum == 2 && bt.origin_len == 24);
	CHECK_RC(fwc_bundle_verify(&rep, &b, &bt, NULL, NULL), FWC_ERR_QUORUM);
	t.quorum = 1;
	fwc_trust_bundle_trust(&bt, &t);
	CHECK_RC(fwc_bundle_verify(&rep, &b, &bt, NULL, NULL), FWC_OK);
	CHECK(rep.signers[0].valid && rep.signers[0].timestamp == 1700000000);
	CHECK_RC(fwc_trust_check_fresh(&age, &t, rep.signers, 3, 1700086400, NULL), FWC_OK);
	CHECK(age == 86400);
	CHECK_RC(fwc_trust_check_fresh(&age, &t, rep.signers, 3, 1700086401, NULL), FWC_ERR_STALE);
}

int main(void)
{
	setup();
	RUN(test_example);
	RUN(test_format);
	RUN(test_refusals);
	RUN(test_fresh);
	RUN(test_bundle);
	return test_done();
}
