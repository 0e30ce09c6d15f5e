/* Tests lib/dagpb.c on blocks whose bytes are pinned by independent CIDs: Kubo's "hello world"
 * leaf (its SHA-256 is Kubo's Qmf412…), the empty-file leaf (QmbFMke…), and the root of
 * "foobar\n" added with --chunker=size-2 (its SHA-256 is the go-ipfs root QmRJHY…, and its four
 * links are go-ipfs's leaf CIDs). Then every strictness rule of the decoders, one by one, and
 * decode->encode round trips. The hex blocks are also the worked examples of
 * docs/formats/unixfs.md. */
#include "test.h"

#include "fwchain/cid.h"
#include "fwchain/dagpb.h"
#include "fwchain/err.h"

#define HELLO_LEAF "0a110802120b68656c6c6f20776f726c64180b"
#define HELLO_LEAF_CIDV0 "Qmf412jQZiuVUtdgnB36FXFX7xg5V6KEbSJ4dpQuhkLyfD"
#define EMPTY_LEAF "0a0408021800"
#define FOOBAR_ROOT                                                                            \
	"12280a221220fef9fe1804942b35e19e145a03f9c9d5ca9c997dda0a9416f3f515a52f1b3ce11200180a" \
	"12280a221220dfb94b75acb208fd4873d84872af58bd65c731770a7d4c0deeb4088e87390bfe1200180a" \
	"12280a221220054497ae4e89812c83276a48e3e679013a788b7c0eb02712df15095c02d6cd2c1200180a" \
	"12280a221220cc332ceb37dea7d3d7c00d1393117638d3ed963575836c6d44a24951e444cf5d12001809" \
	"0a0c080218072002200220022001"

static uint8_t blk[4096];

static size_t unhex(const char *h)
{
	return test_unhex(blk, sizeof(blk), h);
}

static int cid_is(const char *text, const uint8_t *data, size_t len)
{
	struct fwc_cid c;

	return fwc_cid_parse(&c, text, strlen(text), NULL) == FWC_OK &&
	       fwc_cid_matches(&c, data, len);
}

/* Decode, then re-encode node and UnixFS message; both must give the input back. */
static void check_round_trip(const uint8_t *in, size_t len)
{
	struct fwc_dagpb_node n;
	struct fwc_dagpb_link links[8];
	struct fwc_dagpb_iter it;
	uint8_t out[4096];
	size_t k = 0, outlen = 0;

	CHECK_RC(fwc_dagpb_decode(&n, in, len, NULL), FWC_OK);
	fwc_dagpb_iter_init(&it, &n);
	while (k < 8 && fwc_dagpb_iter_next(&it, &links[k]) == 1)
		k++;
	CHECK(k == n.nlinks);
	CHECK(fwc_dagpb_encoded_len(links, k, n.data_len, n.has_data) == len);
	CHECK_RC(fwc_dagpb_encode(out, sizeof(out), &outlen, links, k, n.data, n.data_len,
				  n.has_data),
		 FWC_OK);
	CHECK(outlen == len && memcmp(out, in, len) == 0);
	if (n.has_data && n.data_len > 0) {
		struct fwc_unixfs_data u;
		struct fwc_unixfs_iter bi;
		uint64_t bs[8], v;
		size_t nb = 0;

		CHECK_RC(fwc_unixfs_data_decode(&u, n.data, n.data_len, NULL), FWC_OK);
		fwc_unixfs_blocksizes_init(&bi, &u);
		while (nb < 8 && fwc_unixfs_blocksizes_next(&bi, &v) == 1)
			bs[nb++] = v;
		CHECK(nb == u.nblocksizes);
		CHECK_RC(fwc_unixfs_data_encode(out, sizeof(out), &outlen, &u, bs, nb), FWC_OK);
		CHECK(outlen == n.data_len && memcmp(out, n.data, outlen) == 0);
	}
}

static void test_hello_leaf(void)
{
	size_t len = unhex(HELLO_LEAF);
	struct fwc_dagpb_node n;
	struct fwc_unixfs_data u;

	CHECK(cid_is(HELLO_LEAF_CIDV0, blk, len));
	CHECK_RC(fwc_dagpb_decode(&n, blk, len, NULL), FWC_OK);
	CHECK(n.nlinks == 0 && n.has_data && n.data_len == 17 && !n.data_first);
	CHECK_RC(fwc_unixfs_data_decode(&u, n.data, n.data_len, NULL), FWC_OK);
	CHECK(u.type == FWC_UNIXFS_FILE && u.has_data && u.data_len == 11);
	CHECK(memcmp(u.data, "hello world", 11) == 0);
	CHECK(u.has_filesize && u.filesize == 11 && u.nblocksizes == 0);
	check_round_trip(blk, len);

	len = unhex(EMPTY_LEAF);
	CHECK(cid_is("QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQH", blk, len));
	CHECK_RC(fwc_dagpb_decode(&n, blk, len, NULL), FWC_OK);
	CHECK_RC(fwc_unixfs_data_decode(&u, n.data, n.data_len, NULL), FWC_OK);
	CHECK(u.type == FWC_UNIXFS_FILE && !u.has_data && u.has_filesize && u.filesize == 0);
	check_round_trip(blk, len);

	/* the zero-length block is a valid node: no links, no Data (dag-pb spec) */
	CHECK_RC(fwc_dagpb_decode(&n, blk, 0, NULL), FWC_OK);
	CHECK(n.nlinks == 0 && !n.has_data);
	CHECK(cid_is("QmdfTbBqBPQ7VNxZEYEj14VmRuZBkqFbiwReogJgS1zR1n", blk, 0));
}

static void test_foobar_root(void)
{
	static const char *leaf[] = {
		"QmfVyMoStzTvdnUR7Uotzh82gmL427q9z3xW5Y8fUoszi4",
		"QmdPyW4CWE3QBkgjWfjM5f7Tjb3HukxVuBXZtkqAGwsMnm",
		"QmNhDQpphvMWhdCzP74taRzXDaEfPGq8vWfFRzD7mEgePM",
		"Qmc5m94Gu7z62RC8waSKkZUrCCBJPyHbkpmGzEePxy2oXJ",
	};
	static const uint64_t tsize[] = {10, 10, 10, 9}, bsz[] = {2, 2, 2, 1};
	size_t len = unhex(FOOBAR_ROOT), i = 0;
	struct fwc_dagpb_node n;
	struct fwc_dagpb_iter it;
	struct fwc_dagpb_link l;
	struct fwc_unixfs_data u;
	struct fwc_unixfs_iter bi;
	uint64_t v;

	CHECK(len == 182);
	CHECK(cid_is("QmRJHYTNvC3hmd9gJQARxLR1QMEincccBV53bBw524yyq6", blk, len));
	CHECK_RC(fwc_dagpb_decode(&n, blk, len, NULL), FWC_OK);
	CHECK(n.nlinks == 4 && n.has_data && !n.data_first);
	fwc_dagpb_iter_init(&it, &n);
	while (fwc_dagpb_iter_next(&it, &l) == 1 && i < 4) {
		struct fwc_cid want;

		CHECK_RC(fwc_cid_parse(&want, leaf[i], strlen(leaf[i]), NULL), FWC_OK);
		CHECK(fwc_cid_equal(&want, &l.cid));
		CHECK(l.has_name && l.name_len == 0 && l.has_tsize && l.tsize == tsize[i]);
		i++;
	}
	CHECK(i == 4);
	CHECK_RC(fwc_unixfs_data_decode(&u, n.data, n.data_len, NULL), FWC_OK);
	CHECK(u.type == FWC_UNIXFS_FILE && !u.has_data && u.filesize == 7 && u.nblocksizes == 4);
	fwc_unixfs_blocksizes_init(&bi, &u);
	for (i = 0; fwc_unixfs_blocksizes_next(&bi, &v) == 1; i++)
		CHECK(i < 4 && v == bsz[i]);
	CHECK(i == 4);
	check_round_trip(blk, len);
}

struct bad {
	const char *hex;
	int want;
	const char *msg;
};

#define LINK_CID "221220fef9fe1804942b35e19e145a03f9c9d5ca9c997dda0a9416f3f515a52f1b3ce1"
#define LINK "12280a" LINK_CID "1200180a"

static void test_node_strictness(void)
{
	static const struct bad v[] = {
		{"1a00", FWC_ERR_UNKNOWN_FIELD, "unknown field 3"},
		{"0801", FWC_ERR_MALFORMED, "wire type 0"},
		{"0a000a00", FWC_ERR_DUPLICATE, "two Data"},
		{LINK "0a00" LINK, FWC_ERR_MALFORMED, "after Data"},
		{"12021805", FWC_ERR_MISSING_FIELD, "without a Hash"},
		{"12260a" LINK_CID "180a", FWC_OK, NULL}, /* Name is optional */
		{"12240a" LINK_CID, FWC_OK, NULL},	  /* so is Tsize */
		{"12280a" LINK_CID "180a1200", FWC_ERR_MALFORMED, "must be in order"},
		{"12480a" LINK_CID "0a" LINK_CID, FWC_ERR_DUPLICATE, "appears twice"},
		{"12280a" LINK_CID "1200200a", FWC_ERR_UNKNOWN_FIELD, "unknown field 4"},
		{"12280a" LINK_CID "1200120a", FWC_ERR_DUPLICATE, "appears twice"},
		{"12280a" LINK_CID "1a00180a", FWC_ERR_MALFORMED, "wire type 2"},
		{"12260a2401711220fef9fe1804942b35e19e145a03f9c9d5ca9c997dda0a9416f3f515a52f1b3ce1",
		 FWC_ERR_UNSUPPORTED, "codec 0x71"},
		{"12260a221320fef9fe1804942b35e19e145a03f9c9d5ca9c997dda0a9416f3f515a52f1b3ce1180a",
		 FWC_ERR_UNSUPPORTED, "not a usable CID"},
		{"0a8000", FWC_ERR_NONCANONICAL, "minimally"},
		{"8a00", FWC_ERR_NONCANONICAL, "minimally"}, /* tag 0x0a written as 0x8a 0x00 */
		{"0a0500", FWC_ERR_TRUNCATED, "runs past the end"},
		{"0a", FWC_ERR_TRUNCATED, NULL},
		{"0aff", FWC_ERR_TRUNCATED, NULL},
		{"0affffffffffffffffff7f", FWC_ERR_TOO_LARGE, NULL},
		{"12280a" LINK_CID "12001880", FWC_ERR_TRUNCATED, NULL},
	};
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		size_t len = unhex(v[i].hex);
		struct fwc_dagpb_node n;
		struct fwc_errinfo ei = {0, ""};

		CHECK_RC(fwc_dagpb_decode(&n, blk, len, &ei), v[i].want);
		if (v[i].msg && strstr(ei.msg, v[i].msg) == NULL) {
			CHECK(!"message names the problem");
			fprintf(stderr, "  row %zu: \"%s\"\n", i, ei.msg);
		}
	}
}

static void test_legacy_order(void)
{
	/* Data before Links is accepted (data_first) and re-encodes in canonical order. */
	size_t len = unhex("0a00" LINK);
	struct fwc_dagpb_node n;

	CHECK_RC(fwc_dagpb_decode(&n, blk, len, NULL), FWC_OK);
	CHECK(n.data_first && n.nlinks == 1 && n.has_data && n.data_len == 0);
	CHECK(n.links == blk + 2 && n.links_len == len - 2);
	len = unhex(LINK "0a00");
	CHECK_RC(fwc_dagpb_decode(&n, blk, len, NULL), FWC_OK);
	CHECK(!n.data_first);
	check_round_trip(blk, len);
}

static void test_bounds(void)
{
	static uint8_t big[FWC_DAGPB_MAX_BLOCK + 1];
	uint8_t one[64];
	size_t l1 = test_unhex(one, sizeof(one), LINK), len = 0;
	struct fwc_dagpb_node n;
	struct fwc_errinfo ei;

	for (int i = 0; i < FWC_DAGPB_MAX_LINKS + 1; i++) {
		memcpy(big + len, one, l1);
		len += l1;
	}
	CHECK_RC(fwc_dagpb_decode(&n, big, len, &ei), FWC_ERR_TOO_LARGE);
	CHECK(strstr(ei.msg, "more than 1024 links") != NULL);
	CHECK_RC(fwc_dagpb_decode(&n, big, len - l1, NULL), FWC_OK);
	CHECK(n.nlinks == FWC_DAGPB_MAX_LINKS);
	CHECK_RC(fwc_dagpb_decode(&n, big, sizeof(big), &ei), FWC_ERR_TOO_LARGE);
	{
		struct fwc_dagpb_link l;
		uint8_t out[8];
		size_t ol;

		memset(&l, 0, sizeof(l));
		CHECK_RC(fwc_dagpb_encode(out, sizeof(out), &ol, &l, FWC_DAGPB_MAX_LINKS + 1,
					  NULL, 0, 0),
			 FWC_ERR_TOO_LARGE);
	}
	/* 1025 blocksizes */
	len = 0;
	big[len++] = 0x08;
	big[len++] = 0x02;
	for (int i = 0; i < FWC_DAGPB_MAX_LINKS + 1; i++) {
		big[len++] = 0x20;
		big[len++] = 0x01;
	}
	{
		struct fwc_unixfs_data u;

		CHECK_RC(fwc_unixfs_data_decode(&u, big, len, &ei), FWC_ERR_TOO_LARGE);
		CHECK_RC(fwc_unixfs_data_decode(&u, big, len - 2, &ei), FWC_OK);
		CHECK(u.nblocksizes == FWC_DAGPB_MAX_LINKS);
	}
}

static void test_unixfs_strictness(void)
{
	static const struct bad v[] = {
		{"", FWC_ERR_MISSING_FIELD, "without a Type"},
		{"1800", FWC_ERR_MISSING_FIELD, "start with its Type"},
		{"080218001200", FWC_ERR_MALFORMED, "must be in order"},
		{"080218001801", FWC_ERR_DUPLICATE, "appears twice"},
		{"08020801", FWC_ERR_DUPLICATE, "appears twice"},
		{"0802380100", FWC_ERR_UNSUPPORTED, "mode"},
		{"0802420100", FWC_ERR_UNSUPPORTED, "mtime"},
		{"08024800", FWC_ERR_UNKNOWN_FIELD, "unknown field 9"},
		{"0802220101", FWC_ERR_MALFORMED, "wire type 2"}, /* packed blocksizes */
		{"0806", FWC_ERR_UNSUPPORTED, "type 6"},
		{"0a00", FWC_ERR_MALFORMED, "wire type 2"},
		{"08021880", FWC_ERR_TRUNCATED, NULL},
		{"0802188000", FWC_ERR_NONCANONICAL, NULL},
		{"080220012002", FWC_OK, NULL},
		{"0802200120021800", FWC_ERR_MALFORMED, "must be in order"},
		{"0805280130ff01", FWC_OK, NULL}, /* HAMT fields decode (the DAG walker refuses) */
	};
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		size_t len = unhex(v[i].hex);
		struct fwc_unixfs_data u;
		struct fwc_errinfo ei = {0, ""};

		CHECK_RC(fwc_unixfs_data_decode(&u, blk, len, &ei), v[i].want);
		if (v[i].msg && strstr(ei.msg, v[i].msg) == NULL) {
			CHECK(!"message names the problem");
			fprintf(stderr, "  row %zu: \"%s\"\n", i, ei.msg);
		}
	}
}

int main(void)
{
	RUN(test_hello_leaf);
	RUN(test_foobar_root);
	RUN(test_node_strictness);
	RUN(test_legacy_order);
	RUN(test_bounds);
	RUN(test_unixfs_strictness);
	return test_done();
}
