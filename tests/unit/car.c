/* Tests lib/car.c against docs/formats/car.md. The two reference CARs were written by the
 * JavaScript reference implementation (@ipld/car 5.4.7 CarWriter with multiformats 14.0.5), not
 * by fwchain; the worked example's hex also appears verbatim in the doc (checked here, so page
 * and code cannot drift). Then every refusal the page lists, each at the reader and the push
 * stream, truncation at every byte, and arbitrary splits of the stream. */
#include "test.h"

#include "fwchain/car.h"
#include "fwchain/hex.h"
#include "fwchain/multibase.h"

/* "hello world" as a CIDv1 raw block, one root. */
#define HELLO_CAR                                                                                  \
	"3aa265726f6f747381d82a58250001551220b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee90"   \
	"88f7ace2efcde96776657273696f6e012f01551220b94d27b9934d3e08a52e52d7da7dabfac484efe37a53"   \
	"80ee9088f7ace2efcde968656c6c6f20776f726c64"
#define HELLO_CID "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e"
/* Roots QmaozNR7… (v0 dag-pb of "hello world") and bafkreihdwd… (v1 raw, empty block). */
#define TWO_CAR                                                                                    \
	"61a265726f6f747382d82a5823001220b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7"   \
	"ace2efcde9d82a58250001551220e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b78"   \
	"52b8556776657273696f6e012d1220b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ac"   \
	"e2efcde968656c6c6f20776f726c642401551220e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b93"   \
	"4ca495991b7852b855"

#define MAXB 1024

static uint8_t hello[128], two[256];
static size_t hello_len, two_len;
static char doc[32768];

static void load(void)
{
	char path[512];
	FILE *f = fopen(test_vector_path(path, sizeof(path), "../../docs/formats/car.md"), "rb");
	size_t n = 0;

	if (f != NULL) {
		n = fread(doc, 1, sizeof(doc) - 1, f);
		fclose(f);
	}
	doc[n] = '\0';
	CHECK(n > 0);
	hello_len = test_unhex(hello, sizeof(hello), HELLO_CAR);
	two_len = test_unhex(two, sizeof(two), TWO_CAR);
	CHECK(hello_len == 107);
	CHECK(two_len == 0x62 + 0x2e + 0x25);
}

static void test_doc_has_example(void)
{
	CHECK(strstr(doc, HELLO_CAR) != NULL);
	CHECK(strstr(doc, HELLO_CID) != NULL);
}

static void test_write_hello(void)
{
	struct fwc_cid cid, parsed;
	uint8_t out[256];
	size_t n, m;

	CHECK_RC(fwc_cid_from_block(&cid, 1, FWC_CID_CODEC_RAW, "hello world", 11), FWC_OK);
	CHECK_RC(fwc_cid_parse(&parsed, HELLO_CID, strlen(HELLO_CID), NULL), FWC_OK);
	CHECK(fwc_cid_equal(&cid, &parsed));
	CHECK(fwc_car_header_len(&cid, 1) == 59);
	CHECK_RC(fwc_car_header_encode(out, sizeof(out), &n, &cid, 1), FWC_OK);
	CHECK(n == 59);
	CHECK_RC(fwc_car_section_head(out + n, sizeof(out) - n, &m, &cid, 11), FWC_OK);
	CHECK(m == 37);
	memcpy(out + n + m, "hello world", 11);
	CHECK(n + m + 11 == hello_len);
	CHECK_MEM(out, hello, hello_len);
	/* too small buffers are refused without writing */
	CHECK_RC(fwc_car_header_encode(out, 58, &n, &cid, 1), FWC_ERR_BUFSIZE);
	CHECK_RC(fwc_car_section_head(out, 36, &m, &cid, 11), FWC_ERR_BUFSIZE);
}

static void test_write_two(void)
{
	struct fwc_cid roots[2];
	uint8_t out[256];
	size_t n;

	CHECK_RC(fwc_cid_from_block(&roots[0], 0, FWC_CID_CODEC_DAGPB, "hello world", 11), FWC_OK);
	CHECK_RC(fwc_cid_from_block(&roots[1], 1, FWC_CID_CODEC_RAW, "", 0), FWC_OK);
	CHECK_RC(fwc_car_header_encode(out, sizeof(out), &n, roots, 2), FWC_OK);
	CHECK(n == 0x62);
	CHECK_MEM(out, two, n);
}

static void test_read_hello(void)
{
	struct fwc_car_reader r;
	struct fwc_car_header h;
	struct fwc_car_block b;
	struct fwc_cid want;

	CHECK_RC(fwc_cid_parse(&want, HELLO_CID, strlen(HELLO_CID), NULL), FWC_OK);
	CHECK_RC(fwc_car_reader_init(&r, &h, hello, hello_len, MAXB, NULL), FWC_OK);
	CHECK(h.nroots == 1 && fwc_cid_equal(&h.roots[0], &want));
	CHECK_RC(fwc_car_reader_next(&r, &b, NULL), 1);
	CHECK(fwc_cid_equal(&b.cid, &want));
	CHECK(b.len == 11 && memcmp(b.data, "hello world", 11) == 0);
	CHECK(b.data == hello + 96); /* zero-copy: points into the input */
	CHECK(b.offset == 59);
	CHECK_RC(fwc_car_reader_next(&r, &b, NULL), 0);
	CHECK_RC(fwc_car_reader_next(&r, &b, NULL), 0);
}

static void test_read_two(void)
{
	struct fwc_car_reader r;
	struct fwc_car_header h;
	struct fwc_car_block b;
	char txt[FWC_CID_STR_MAX];

	CHECK_RC(fwc_car_reader_init(&r, &h, two, two_len, MAXB, NULL), FWC_OK);
	CHECK(h.nroots == 2);
	CHECK_RC(fwc_cid_format(txt, sizeof(txt), &h.roots[0]), FWC_OK);
	CHECK(strcmp(txt, "QmaozNR7DZHQK1ZcU9p7QdrshMvXqWK6gpu5rmrkPdT3L4") == 0);
	CHECK_RC(fwc_cid_format(txt, sizeof(txt), &h.roots[1]), FWC_OK);
	CHECK(strcmp(txt, "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku") == 0);
	CHECK_RC(fwc_car_reader_next(&r, &b, NULL), 1);
	CHECK(b.cid.version == 0 && b.len == 11);
	CHECK_RC(fwc_car_reader_next(&r, &b, NULL), 1);
	CHECK(fwc_cid_equal(&b.cid, &h.roots[1]) && b.len == 0);
	CHECK_RC(fwc_car_reader_next(&r, &b, NULL), 0);
}

/* Push-stream collector: counts blocks and concatenates their bytes. */
struct coll {
	int headers;
	size_t nroots;
	int blocks;
	uint8_t data[4096];
	size_t len;
	int fail_at; /* refuse the block with this index (1-based), 0 never */
};

static int coll_header(void *ctx, const struct fwc_car_header *h)
{
	struct coll *c = ctx;

	c->headers++;
	c->nroots = h->nroots;
	return FWC_OK;
}

static int coll_block(void *ctx, const struct fwc_car_block *b)
{
	struct coll *c = ctx;

	if (!fwc_cid_matches(&b->cid, b->data, b->len))
		return FWC_ERR_HASH_MISMATCH; /* never expected: the reader checked it */
	c->blocks++;
	if (c->fail_at == c->blocks)
		return FWC_ERR_NOT_FOUND;
	if (c->len + b->len <= sizeof(c->data)) {
		memcpy(c->data + c->len, b->data, b->len);
		c->len += b->len;
	}
	return FWC_OK;
}

static uint8_t sbuf[MAXB + FWC_CID_MAX_BINARY];

/* Push in[0..len) in pieces (cuts at the given offsets), then finish. */
static int stream_run(struct coll *c, const uint8_t *in, size_t len, const size_t *cuts,
                      size_t ncuts, struct fwc_errinfo *ei)
{
	struct fwc_car_sink sink = {coll_header, coll_block, c};
	struct fwc_car_stream s;
	size_t prev = 0;
	int rc;

	rc = fwc_car_stream_init(&s, &sink, sbuf, sizeof(sbuf), MAXB);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i <= ncuts; i++) {
		size_t end = i < ncuts ? cuts[i] : len;

		if ((rc = fwc_car_stream_push(&s, in + prev, end - prev, ei)) < 0)
			return rc;
		prev = end;
	}
	return fwc_car_stream_finish(&s, ei);
}

static void test_stream_splits(void)
{
	/* every single cut and every pair of cuts of the two-block CAR */
	for (size_t i = 0; i <= two_len; i++) {
		for (size_t j = i; j <= two_len; j += 7) {
			struct coll c;
			size_t cuts[2] = {i, j};

			memset(&c, 0, sizeof(c));
			CHECK_RC(stream_run(&c, two, two_len, cuts, 2, NULL), FWC_OK);
			CHECK(c.headers == 1 && c.nroots == 2 && c.blocks == 2);
			CHECK(c.len == 11 && memcmp(c.data, "hello world", 11) == 0);
		}
	}
	/* byte by byte */
	{
		struct coll c;
		size_t cuts[256];

		for (size_t i = 0; i < two_len; i++)
			cuts[i] = i;
		memset(&c, 0, sizeof(c));
		CHECK_RC(stream_run(&c, two, two_len, cuts, two_len, NULL), FWC_OK);
		CHECK(c.blocks == 2);
	}
}

/* Each prefix of a CAR is either a complete CAR (cut at a section boundary) or TRUNCATED, for
 * the reader and the stream alike. */
static void test_truncation(void)
{
	for (size_t n = 0; n <= hello_len; n++) {
		struct fwc_car_reader r;
		struct fwc_car_header h;
		struct fwc_car_block b;
		struct coll c;
		int rc, want_ok = (n == 59 || n == hello_len);

		rc = fwc_car_reader_init(&r, &h, hello, n, MAXB, NULL);
		if (n < 59) {
			CHECK(rc == FWC_ERR_TRUNCATED);
		} else {
			CHECK(rc == FWC_OK);
			if (n == 59) {
				CHECK_RC(fwc_car_reader_next(&r, &b, NULL), 0);
			} else if (n < hello_len) {
				CHECK_RC(fwc_car_reader_next(&r, &b, NULL), FWC_ERR_TRUNCATED);
				CHECK_RC(fwc_car_reader_next(&r, &b, NULL), FWC_ERR_STATE);
			} else {
				CHECK_RC(fwc_car_reader_next(&r, &b, NULL), 1);
			}
		}
		memset(&c, 0, sizeof(c));
		rc = stream_run(&c, hello, n, NULL, 0, NULL);
		CHECK(rc == (want_ok ? FWC_OK : FWC_ERR_TRUNCATED));
		CHECK(c.blocks == (n == hello_len ? 1 : 0));
	}
}

/* Expect code from both readers on a modified hello CAR; returns the stream's errinfo offset. */
static void both_refuse(const uint8_t *in, size_t len, int code, size_t off)
{
	struct fwc_car_reader r;
	struct fwc_car_header h;
	struct fwc_car_block b;
	struct fwc_errinfo ei;
	struct coll c;
	int rc;

	memset(&ei, 0, sizeof(ei));
	rc = fwc_car_reader_init(&r, &h, in, len, MAXB, &ei);
	if (rc == FWC_OK) {
		while ((rc = fwc_car_reader_next(&r, &b, &ei)) == 1)
			;
	}
	CHECK_RC(rc, code);
	CHECK(ei.offset == off);
	if (ei.offset != off)
		fprintf(stderr, "  reader offset %zu want %zu: %s\n", ei.offset, off, ei.msg);
	CHECK(ei.msg[0] != '\0');
	memset(&c, 0, sizeof(c));
	memset(&ei, 0, sizeof(ei));
	CHECK_RC(stream_run(&c, in, len, NULL, 0, &ei), code);
	CHECK(ei.offset == off);
	if (ei.offset != off)
		fprintf(stderr, "  stream offset %zu want %zu: %s\n", ei.offset, off, ei.msg);
	/* no block past the bad one reached the sink; the one bad block never does */
	CHECK(c.blocks == 0 || (c.blocks == 1 && code != FWC_ERR_HASH_MISMATCH));
}

static size_t unhex(uint8_t *out, size_t cap, const char *hex)
{
	return test_unhex(out, cap, hex);
}

static void test_refusals(void)
{
	uint8_t m[256];
	size_t n;

	/* flipped block byte: the hash no longer matches */
	memcpy(m, hello, hello_len);
	m[hello_len - 1] ^= 1;
	both_refuse(m, hello_len, FWC_ERR_HASH_MISMATCH, 60);
	/* flipped digest byte in the section CID: same */
	memcpy(m, hello, hello_len);
	m[70] ^= 0x80;
	both_refuse(m, hello_len, FWC_ERR_HASH_MISMATCH, 60);
	/* non-minimal header length varint */
	n = unhex(m, sizeof(m), "ba00");
	memcpy(m + 2, hello + 1, hello_len - 1);
	both_refuse(m, hello_len + 1, FWC_ERR_NONCANONICAL, 0);
	/* header length over the bound (513 = 81 04) */
	n = unhex(m, sizeof(m), "8104a2");
	both_refuse(m, n, FWC_ERR_TOO_LARGE, 0);
	/* a 10-byte varint */
	n = unhex(m, sizeof(m), "ffffffffffffffffff01");
	both_refuse(m, n, FWC_ERR_TOO_LARGE, 0);
	/* empty header */
	n = unhex(m, sizeof(m), "00");
	both_refuse(m, n, FWC_ERR_MALFORMED, 1);
	/* the CARv2 pragma */
	n = unhex(m, sizeof(m), "0aa16776657273696f6e02");
	both_refuse(m, n, FWC_ERR_UNSUPPORTED, 10);
	/* version 2 with roots */
	memcpy(m, hello, hello_len);
	m[58] = 0x02;
	both_refuse(m, hello_len, FWC_ERR_UNSUPPORTED, 58);
	/* keys in the wrong order: {"version": 1, "roots": []} */
	n = unhex(m, sizeof(m), "11a26776657273696f6e0165726f6f747380");
	both_refuse(m, n, FWC_ERR_UNSORTED, 11);
	/* duplicate key */
	n = unhex(m, sizeof(m), "0fa265726f6f74738065726f6f747380");
	both_refuse(m, n, FWC_ERR_DUPLICATE, 9);
	/* unknown key */
	n = unhex(m, sizeof(m), "11a265726f6f7473806776657273696f6f01");
	both_refuse(m, n, FWC_ERR_UNKNOWN_FIELD, 9);
	/* missing version / missing roots */
	n = unhex(m, sizeof(m), "08a165726f6f747380");
	both_refuse(m, n, FWC_ERR_MISSING_FIELD, 9);
	n = unhex(m, sizeof(m), "0aa16776657273696f6e01");
	both_refuse(m, n, FWC_ERR_MISSING_FIELD, 11);
	/* not a map */
	n = unhex(m, sizeof(m), "0180");
	both_refuse(m, n, FWC_ERR_TYPE, 1);
	/* non-minimal array head 98 01 */
	memcpy(m, hello, hello_len);
	{
		uint8_t t[256];

		t[0] = 0x3b;
		memcpy(t + 1, hello + 1, 7);
		t[8] = 0x98;
		t[9] = 0x01;
		memcpy(t + 10, hello + 9, hello_len - 9);
		both_refuse(t, hello_len + 1, FWC_ERR_NONCANONICAL, 8);
	}
	/* tag 43 instead of 42 */
	memcpy(m, hello, hello_len);
	m[10] = 0x2b;
	both_refuse(m, hello_len, FWC_ERR_MALFORMED, 9);
	/* missing 0x00 multibase prefix */
	memcpy(m, hello, hello_len);
	m[13] = 0x01;
	both_refuse(m, hello_len, FWC_ERR_MALFORMED, 13);
	/* root CID with a dag-cbor codec (0x71) */
	memcpy(m, hello, hello_len);
	m[15] = 0x71;
	both_refuse(m, hello_len, FWC_ERR_UNSUPPORTED, 15);
	/* trailing byte inside the header length */
	{
		uint8_t t[256];

		t[0] = 0x3b;
		memcpy(t + 1, hello + 1, 58);
		t[59] = 0x00;
		memcpy(t + 60, hello + 59, hello_len - 59);
		both_refuse(t, hello_len + 1, FWC_ERR_TRAILING, 59);
	}
	/* indefinite map */
	n = unhex(m, sizeof(m), "02bfff");
	both_refuse(m, n, FWC_ERR_INDEFINITE, 1);
	/* nine roots: refused at the array head */
	{
		uint8_t t[512];
		size_t p = 0;

		t[p++] = 0x82;
		t[p++] = 0x03; /* varint 0x182 = 386 */
		t[p++] = 0xa2;
		p += unhex(t + p, sizeof(t) - p, "65726f6f747389");
		for (int i = 0; i < 9; i++) {
			memcpy(t + p, hello + 9, 41);
			p += 41;
		}
		p += unhex(t + p, sizeof(t) - p, "6776657273696f6e01");
		CHECK(p == 2 + 386);
		both_refuse(t, p, FWC_ERR_TOO_LARGE, 9);
		/* eight are fine */
		t[0] = 0xd9; /* 386 - 41 = 345 = 0x159 */
		t[1] = 0x02;
		t[9] = 0x88;
		memmove(t + 10 + 8 * 41, t + 10 + 9 * 41, 9);
		{
			struct fwc_car_reader r;
			struct fwc_car_header h;

			CHECK_RC(fwc_car_reader_init(&r, &h, t, 2 + 345, MAXB, NULL), FWC_OK);
			CHECK(h.nroots == 8 && fwc_cid_equal(&h.roots[7], &h.roots[0]));
		}
	}
	/* zero roots are fine */
	{
		struct fwc_car_reader r;
		struct fwc_car_header h;

		n = unhex(m, sizeof(m), "11a265726f6f7473806776657273696f6e01");
		CHECK_RC(fwc_car_reader_init(&r, &h, m, n, MAXB, NULL), FWC_OK);
		CHECK(h.nroots == 0);
	}
	/* empty section */
	memcpy(m, hello, 59);
	m[59] = 0x00;
	both_refuse(m, 60, FWC_ERR_MALFORMED, 59);
	/* section whose length is a non-minimal varint */
	memcpy(m, hello, 59);
	m[59] = 0xaf;
	m[60] = 0x00;
	memcpy(m + 61, hello + 60, 47);
	both_refuse(m, 108, FWC_ERR_NONCANONICAL, 59);
	/* section CID with an identity multihash (0x00) */
	memcpy(m, hello, hello_len);
	m[62] = 0x00;
	both_refuse(m, hello_len, FWC_ERR_UNSUPPORTED, 62);
	/* section length larger than any allowed block: refused before its bytes arrive */
	memcpy(m, hello, 59);
	n = 59 + fwc_varint_encode(m + 59, MAXB + FWC_CID_MAX_BINARY + 1);
	both_refuse(m, n, FWC_ERR_TOO_LARGE, 59);
}

static void test_block_bound(void)
{
	struct fwc_car_reader r;
	struct fwc_car_header h;
	struct fwc_car_block b;
	struct fwc_car_stream s;
	struct fwc_car_sink sink;
	struct coll c;
	uint8_t small[10 + FWC_CID_MAX_BINARY + FWC_CAR_MAX_HEADER];

	/* an 11-byte block with max_block 10 */
	CHECK_RC(fwc_car_reader_init(&r, &h, hello, hello_len, 10, NULL), FWC_OK);
	CHECK_RC(fwc_car_reader_next(&r, &b, NULL), FWC_ERR_TOO_LARGE);
	CHECK_RC(fwc_car_reader_init(&r, &h, hello, hello_len, 11, NULL), FWC_OK);
	CHECK_RC(fwc_car_reader_next(&r, &b, NULL), 1);
	memset(&c, 0, sizeof(c));
	sink.header = NULL;
	sink.block = coll_block;
	sink.ctx = &c;
	CHECK_RC(fwc_car_stream_init(&s, &sink, small, sizeof(small), 10), FWC_OK);
	CHECK_RC(fwc_car_stream_push(&s, hello, hello_len, NULL), FWC_ERR_TOO_LARGE);
	CHECK(c.blocks == 0);
	/* buffer too small for the bound */
	CHECK_RC(fwc_car_stream_init(&s, &sink, small, 100, 10), FWC_ERR_ARG);
	CHECK_RC(fwc_car_stream_init(&s, &sink, small, sizeof(small), 0), FWC_ERR_ARG);
}

static void test_sink_error_sticky(void)
{
	struct fwc_car_sink sink;
	struct fwc_car_stream s;
	struct fwc_errinfo ei;
	struct coll c;

	memset(&c, 0, sizeof(c));
	c.fail_at = 2;
	sink.header = coll_header;
	sink.block = coll_block;
	sink.ctx = &c;
	CHECK_RC(fwc_car_stream_init(&s, &sink, sbuf, sizeof(sbuf), MAXB), FWC_OK);
	CHECK_RC(fwc_car_stream_push(&s, two, two_len, &ei), FWC_ERR_NOT_FOUND);
	CHECK(ei.offset == 0x62 + 0x2e); /* the second section */
	CHECK_RC(fwc_car_stream_push(&s, two, 1, NULL), FWC_ERR_NOT_FOUND);
	CHECK_RC(fwc_car_stream_finish(&s, NULL), FWC_ERR_NOT_FOUND);
}

int main(void)
{
	load();
	RUN(test_doc_has_example);
	RUN(test_write_hello);
	RUN(test_write_two);
	RUN(test_read_hello);
	RUN(test_read_two);
	RUN(test_stream_splits);
	RUN(test_truncation);
	RUN(test_refusals);
	RUN(test_block_bound);
	RUN(test_sink_error_sticky);
	return test_done();
}
