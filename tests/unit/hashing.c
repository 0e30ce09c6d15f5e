/* Checks docs/formats/hashing.md against lib/sha256.c: SHA256 of every tag in the table, the
 * tagged-hash worked example, and that each of these hex strings appears in the doc verbatim
 * (so the page and the code cannot drift). The expected values were computed outside fwchain
 * (Python hashlib) and are also recomputed here from the definition with plain SHA-256. */
#include "test.h"

#include "fwchain/err.h"
#include "fwchain/hex.h"
#include "fwchain/sha256.h"

static const struct {
	const char *tag;
	const char *sha;
} tags[] = {
    {FWC_TAG_MANIFEST, "ee8268c24798a380d1645bc0b0c52ea9f383cae0fba45f7d19d98cbb9f93f7a0"},
    {FWC_TAG_TX, "51584789b1cf31f3d3e0b1243b7fda562acde0c813a2ccb01304446e49c08d33"},
    {FWC_TAG_KEYID, "791e4973f742b7cd3ab0da17ce2edb3b1f9d01603c73b22ee99682ed55fddb08"},
    {FWC_TAG_EVENT, "811b1177adaad6e97758de834e365cebb121be592239d6bc438f52a8398c5258"},
    {FWC_TAG_KEYSTORE, "d5de5db33ddd5dea138d936ae512ed773e72a92ae6ea53ea6c46817bad9a34a3"},
    {FWC_TAG_REQUEST, "01a5dd950684ae904c0f5b423ac8a9fc2dded66357449b1713599f27a283384c"},
};

#define EXAMPLE_RESULT "401f43f7f5e62d87f050cc55dad392489478a86371afaaeed06cdf9278511bda"

static char doc[32768];

static void load_doc(void)
{
	char path[512];
	FILE *f =
	    fopen(test_vector_path(path, sizeof(path), "../../docs/formats/hashing.md"), "rb");
	size_t n = 0;

	if (f != NULL) {
		n = fread(doc, 1, sizeof(doc) - 1, f);
		fclose(f);
	}
	doc[n] = '\0';
	CHECK(n > 0);
}

static void test_tag_table(void)
{
	for (size_t i = 0; i < sizeof(tags) / sizeof(tags[0]); i++) {
		uint8_t h[32];
		char hex[65], cell[64];

		CHECK_RC(fwc_sha256(h, tags[i].tag, strlen(tags[i].tag)), FWC_OK);
		fwc_hex_encode(hex, sizeof(hex), h, sizeof(h));
		CHECK(strcmp(hex, tags[i].sha) == 0);
		CHECK(strstr(doc, tags[i].sha) != NULL);
		snprintf(cell, sizeof(cell), "`%s`", tags[i].tag);
		CHECK(strstr(doc, cell) != NULL);
	}
}

static void test_worked_example(void)
{
	uint8_t pre[64 + 3], want[32], got[32];
	char hex[65];

	CHECK_RC(fwc_sha256(pre, FWC_TAG_MANIFEST, strlen(FWC_TAG_MANIFEST)), FWC_OK);
	memcpy(pre + 32, pre, 32);
	memcpy(pre + 64, "abc", 3);
	CHECK_RC(fwc_sha256(want, pre, sizeof(pre)), FWC_OK);
	CHECK_RC(fwc_tagged_hash(got, FWC_TAG_MANIFEST, "abc", 3), FWC_OK);
	CHECK_MEM(want, got, 32);
	fwc_hex_encode(hex, sizeof(hex), got, sizeof(got));
	CHECK(strcmp(hex, EXAMPLE_RESULT) == 0);
	CHECK(strstr(doc, EXAMPLE_RESULT) != NULL);
	CHECK(strstr(doc, "616263") != NULL);
	/* a different tag over the same bytes gives an unrelated digest */
	CHECK_RC(fwc_tagged_hash(got, FWC_TAG_TX, "abc", 3), FWC_OK);
	CHECK(memcmp(want, got, 32) != 0);
}

int main(void)
{
	load_doc();
	RUN(test_tag_table);
	RUN(test_worked_example);
	return test_done();
}
