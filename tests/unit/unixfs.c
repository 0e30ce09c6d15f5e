/* Tests lib/unixfs.c (the importer) against independent answers:
 *  - every row of tests/vectors/kubo-cids.tsv (CIDs Kubo prints, args mapped to options);
 *  - tests/vectors/unixfs-small-chunks.tsv: multi-block and three-level trees with small
 *    --chunker=size-N, recorded from go-ipfs by the rust-ipfs project;
 *  - 256 KiB-chunk files of 256 KiB, 256 KiB + 1, 174 x 256 KiB, 174 x 256 KiB + 1 (two
 *    levels) and 64 MiB + 12345 bytes of the documented counter-mode SHA-256 content, whose root
 *    CIDs were computed by tests/tools/unixfs_ref.py (hashlib only, written from the specs and
 *    itself checked against the go-ipfs vectors above) and are listed in docs/formats/unixfs.md;
 *  - the flat SHA-256/size against fwc_sha256, block order (children before parents, root
 *    last), every block's hash against its CID, and split invariance of feed(). */
#include "test.h"

#include "fwchain/cid.h"
#include "fwchain/dagpb.h"
#include "fwchain/err.h"
#include "fwchain/sha256.h"
#include "fwchain/unixfs.h"

/* ---- a recording sink: checks hashes and order as blocks arrive ---- */

struct rec {
	struct fwc_cid *cids;
	size_t n, cap;
	int bad_hash, bad_order, fail_at; /* fail_at: return an error on that block (1-based) */
	uint64_t bytes;
};

static int seen(const struct rec *r, const struct fwc_cid *c)
{
	for (size_t i = 0; i < r->n; i++)
		if (fwc_cid_equal(&r->cids[i], c))
			return 1;
	return 0;
}

static int rec_emit(void *ctx, const struct fwc_cid *cid, const uint8_t *block, size_t len)
{
	struct rec *r = ctx;

	if (r->fail_at && (size_t)r->fail_at == r->n + 1)
		return FWC_ERR_IO;
	if (!fwc_cid_matches(cid, block, len))
		r->bad_hash++;
	if (cid->codec == FWC_CID_CODEC_DAGPB) {
		struct fwc_dagpb_node node;
		struct fwc_dagpb_iter it;
		struct fwc_dagpb_link l;

		if (fwc_dagpb_decode(&node, block, len, NULL) != FWC_OK) {
			r->bad_order++;
		} else {
			fwc_dagpb_iter_init(&it, &node);
			while (fwc_dagpb_iter_next(&it, &l) == 1)
				if (!seen(r, &l.cid))
					r->bad_order++;
		}
	}
	if (r->n == r->cap) {
		size_t nc = r->cap ? 2 * r->cap : 64;
		struct fwc_cid *p = realloc(r->cids, nc * sizeof(*p));

		if (p == NULL)
			return FWC_ERR_NOMEM;
		r->cids = p;
		r->cap = nc;
	}
	r->cids[r->n++] = *cid;
	r->bytes += len;
	return FWC_OK;
}

/* Import data with opt, feeding `step` bytes at a time; check the invariants; return the root
 * text in out. */
static int import_check(char out[FWC_CID_STR_MAX], const struct fwc_unixfs_options *opt,
			const uint8_t *data, size_t len, size_t step)
{
	struct rec r;
	struct fwc_unixfs_sink sink = {rec_emit, &r};
	struct fwc_unixfs_importer *im = NULL;
	struct fwc_unixfs_result res;
	uint8_t flat[32];
	int rc;

	memset(&r, 0, sizeof(r));
	rc = fwc_unixfs_importer_new(&im, opt, &sink);
	for (size_t off = 0; rc == FWC_OK && off < len; off += step)
		rc = fwc_unixfs_importer_feed(im, data + off, len - off < step ? len - off : step);
	if (rc == FWC_OK)
		rc = fwc_unixfs_importer_finish(im, &res);
	fwc_unixfs_importer_free(im);
	CHECK_RC(rc, FWC_OK);
	if (rc == FWC_OK) {
		fwc_sha256(flat, data, len);
		CHECK(res.size == len && memcmp(res.sha256, flat, 32) == 0);
		CHECK(r.bad_hash == 0 && r.bad_order == 0);
		CHECK(r.n == res.blocks && r.n > 0 && fwc_cid_equal(&r.cids[r.n - 1], &res.root));
		CHECK(r.bytes == res.dag_size);
		fwc_cid_format(out, FWC_CID_STR_MAX, &res.root);
	}
	free(r.cids);
	return rc;
}

/* ---- vector files ---- */

/* Decodes a JSON string literal (with quotes) into out; returns the length or -1. */
static long json_string(uint8_t *out, size_t cap, const char *s)
{
	size_t n = 0;

	if (*s++ != '"')
		return -1;
	while (*s && *s != '"' && n < cap) {
		char c = *s++;

		if (c == '\\') {
			c = *s++;
			switch (c) {
			case 'n': c = '\n'; break;
			case 't': c = '\t'; break;
			case 'r': c = '\r'; break;
			case '"': case '\\': case '/': break;
			default: return -1; /* \u escapes do not occur in the vectors */
			}
		}
		out[n++] = (uint8_t)c;
	}
	return *s == '"' ? (long)n : -1;
}

/* Splits a TSV line in place into at most max fields. */
static int split_tsv(char *line, char **f, int max)
{
	int n = 0;

	line[strcspn(line, "\r\n")] = '\0';
	while (n < max) {
		f[n++] = line;
		line = strchr(line, '\t');
		if (line == NULL)
			break;
		*line++ = '\0';
	}
	return n;
}

/* Maps the `ipfs add` flags of the TSV's args column to importer options. */
static int args_to_options(struct fwc_unixfs_options *o, const char *args)
{
	int v = 0, raw = -1;
	char buf[256], *tok, *save = NULL;

	snprintf(buf, sizeof(buf), "%s", args);
	for (tok = strtok_r(buf, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		if (strcmp(tok, "-") == 0)
			continue;
		else if (strcmp(tok, "--cid-version=1") == 0)
			v = 1;
		else if (strcmp(tok, "--cid-version=0") == 0)
			v = 0;
		else if (strcmp(tok, "--raw-leaves") == 0 || strcmp(tok, "--raw-leaves=true") == 0)
			raw = 1;
		else if (strcmp(tok, "--raw-leaves=false") == 0)
			raw = 0;
		else
			return -1;
	}
	fwc_unixfs_options_default(o, (unsigned)v);
	if (raw >= 0)
		o->raw_leaves = raw;
	return 0;
}

static void test_kubo_vectors(void)
{
	char path[512], line[4096];
	FILE *f = fopen(test_vector_path(path, sizeof(path), "kubo-cids.tsv"), "r");
	int rows = 0;

	CHECK(f != NULL);
	if (f == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL) {
		char *fld[4], got[FWC_CID_STR_MAX] = "";
		uint8_t input[1024];
		long n;
		struct fwc_unixfs_options o;

		if (line[0] == '#' || strncmp(line, "label\t", 6) == 0)
			continue;
		if (split_tsv(line, fld, 4) != 4) {
			CHECK(!"4 columns");
			continue;
		}
		n = json_string(input, sizeof(input), fld[1]);
		CHECK(n >= 0);
		CHECK(args_to_options(&o, fld[2]) == 0);
		if (n < 0)
			continue;
		/* whole, and one byte at a time */
		import_check(got, &o, input, (size_t)n, n ? (size_t)n : 1);
		if (strcmp(got, fld[3]) != 0) {
			CHECK(!"Kubo CID");
			fprintf(stderr, "  %s: got %s want %s\n", fld[0], got, fld[3]);
		}
		import_check(got, &o, input, (size_t)n, 1);
		CHECK(strcmp(got, fld[3]) == 0);
		rows++;
	}
	fclose(f);
	CHECK(rows == 11);
}

static void test_small_chunk_vectors(void)
{
	char path[512], line[4096];
	FILE *f = fopen(test_vector_path(path, sizeof(path), "unixfs-small-chunks.tsv"), "r");
	static uint8_t input[40000];
	int rows = 0;

	CHECK(f != NULL);
	if (f == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL) {
		char *fld[4], got[FWC_CID_STR_MAX] = "";
		long n = -1;
		struct fwc_unixfs_options o;

		if (line[0] == '#' || strncmp(line, "label\t", 6) == 0)
			continue;
		if (split_tsv(line, fld, 4) != 4) {
			CHECK(!"4 columns");
			continue;
		}
		if (strncmp(fld[1], "json:", 5) == 0) {
			n = json_string(input, sizeof(input), fld[1] + 5);
		} else if (strncmp(fld[1], "zeros:", 6) == 0) {
			n = atol(fld[1] + 6);
			memset(input, 0, (size_t)n);
		} else if (strncmp(fld[1], "mod251:", 7) == 0) {
			n = atol(fld[1] + 7);
			for (long i = 0; i < n; i++)
				input[i] = (uint8_t)(i % 251);
		}
		CHECK(n > 0 && (size_t)n <= sizeof(input));
		if (n <= 0 || (size_t)n > sizeof(input))
			continue;
		fwc_unixfs_options_default(&o, 0);
		o.chunk_size = (size_t)atol(fld[2]);
		import_check(got, &o, input, (size_t)n, 7);
		if (strcmp(got, fld[3]) != 0) {
			CHECK(!"go-ipfs CID");
			fprintf(stderr, "  %s: got %s want %s\n", fld[0], got, fld[3]);
		}
		rows++;
	}
	fclose(f);
	CHECK(rows == 15);
}

/* ---- 256 KiB-chunk files, expected roots from tests/tools/unixfs_ref.py ---- */

/* The documented test content: byte i is byte (i % 32) of
 * SHA256("fwchain-unixfs-test" || le64(i / 32)). */
static uint8_t *prng(size_t n)
{
	uint8_t *p = malloc(n + 32), msg[19 + 8];
	struct fwc_sha256 h;

	if (p == NULL || fwc_sha256_init(&h) != FWC_OK) {
		free(p);
		return NULL;
	}
	memcpy(msg, "fwchain-unixfs-test", 19);
	for (uint64_t k = 0; k * 32 < n; k++) {
		for (int b = 0; b < 8; b++)
			msg[19 + b] = (uint8_t)(k >> (8 * b));
		fwc_sha256_update(&h, msg, sizeof(msg));
		fwc_sha256_final(&h, p + k * 32);
	}
	fwc_sha256_cleanup(&h);
	return p;
}

static const struct {
	const char *label;
	size_t size;
	const char *v1raw, *v0;
} big[] = {
	{"256KiB", 262144, "bafkreieoyevmpayfeh4kwsoli5jmoyhkp4cvs2z6slzivnjxjpycq42upi",
	 "QmaJff272b46EsNrDxrRLoFtmkHtnnxBfzut7WwqZQAUZj"},
	{"256KiB+1", 262145, "bafybeifi23uxmrjmnzb2u4jhfwkkirnbk5kcqc7megvxdl2sp6fbvs47fm",
	 "QmYCKsbTQg1MAARi54vQuGKncifSxYGiXvPDL67mV8RUJu"},
	{"174x256KiB", 45613056, "bafybeibc4txl4erwjh2t7mofeqc3jldzrxtzsqnckvzbw4csannd7gh3iq",
	 "QmXJkXCtq1CMTvQYCkbPYuUiLLquvzLsa5KAV5zkc3eAin"},
	{"174x256KiB+1", 45613057, "bafybeibx3lh6k3yaflznqtmmzhwzadfh5yrg3qb5kh4eihbei3iznf6mku",
	 "Qmc4DeJNhqTBCx4GykH3GJN8jLhS7wwhG2RNxrTts7Au82"},
	{"64MiB+12345", 67121209, "bafybeib422rz6tbwnp6pziab4msx6wqhxoi2fw37rzpqhwjqeybot2vmeu",
	 "QmbNSTswy9PMfrG56Qf7PievmRnLEem1436yC1QcEHJomE"},
};

static void test_big_files(void)
{
	size_t max = big[sizeof(big) / sizeof(big[0]) - 1].size;
	uint8_t *data = prng(max);

	CHECK(data != NULL);
	if (data == NULL)
		return;
	for (size_t i = 0; i < sizeof(big) / sizeof(big[0]); i++) {
		struct fwc_unixfs_options o;
		char got[FWC_CID_STR_MAX] = "";

		fwc_unixfs_options_default(&o, 1);
		/* an odd feed size so chunk boundaries fall inside feeds */
		import_check(got, &o, data, big[i].size, 100003);
		if (strcmp(got, big[i].v1raw) != 0) {
			CHECK(!"v1 root");
			fprintf(stderr, "  %s v1: got %s\n", big[i].label, got);
		}
		fwc_unixfs_options_default(&o, 0);
		import_check(got, &o, data, big[i].size, 1u << 20);
		if (strcmp(got, big[i].v0) != 0) {
			CHECK(!"v0 root");
			fprintf(stderr, "  %s v0: got %s\n", big[i].label, got);
		}
	}
	free(data);
}

/* The two-level file: root has 2 links (a full 174-leaf node, a node with 1 leaf). */
static int shape_emit(void *ctx, const struct fwc_cid *cid, const uint8_t *block, size_t len)
{
	struct fwc_dagpb_node *last = ctx;
	static uint8_t copy[16384];

	if (cid->codec == FWC_CID_CODEC_DAGPB && len <= sizeof(copy)) {
		memcpy(copy, block, len);
		fwc_dagpb_decode(last, copy, len, NULL);
	}
	return FWC_OK;
}

static void test_two_level_shape(void)
{
	uint8_t *data = prng(174 * 262144 + 1);
	struct fwc_dagpb_node root;
	struct fwc_unixfs_sink sink = {shape_emit, &root};
	struct fwc_unixfs_result res;
	struct fwc_unixfs_data u;
	struct fwc_unixfs_iter it;
	uint64_t a = 0, b = 0;

	CHECK(data != NULL);
	if (data == NULL)
		return;
	memset(&root, 0, sizeof(root));
	CHECK_RC(fwc_unixfs_import(&res, NULL, &sink, data, 174 * 262144 + 1), FWC_OK);
	CHECK(root.nlinks == 2 && res.blocks == 175 + 3);
	CHECK_RC(fwc_unixfs_data_decode(&u, root.data, root.data_len, NULL), FWC_OK);
	CHECK(u.filesize == 174ull * 262144 + 1 && u.nblocksizes == 2);
	fwc_unixfs_blocksizes_init(&it, &u);
	CHECK(fwc_unixfs_blocksizes_next(&it, &a) == 1 && fwc_unixfs_blocksizes_next(&it, &b) == 1);
	CHECK(a == 174ull * 262144 && b == 1);
	free(data);
}

static void test_split_invariance(void)
{
	/* 2.5 chunks of 1000 bytes with 3 links: a three-level tree, fed in many ways */
	uint8_t data[9 * 1000 + 500];
	struct fwc_unixfs_options o;
	char want[FWC_CID_STR_MAX] = "", got[FWC_CID_STR_MAX] = "";
	static const size_t steps[] = {1, 7, 999, 1000, 1001, 4096};

	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 131 + 7);
	for (int raw = 0; raw <= 1; raw++) {
		fwc_unixfs_options_default(&o, 1);
		o.raw_leaves = raw;
		o.chunk_size = 1000;
		o.max_links = 3;
		import_check(want, &o, data, sizeof(data), sizeof(data));
		for (size_t s = 0; s < sizeof(steps) / sizeof(steps[0]); s++) {
			import_check(got, &o, data, sizeof(data), steps[s]);
			CHECK(strcmp(got, want) == 0);
		}
	}
}

static void test_errors(void)
{
	struct fwc_unixfs_importer *im = (void *)1;
	struct fwc_unixfs_options o;
	struct fwc_unixfs_result res;
	struct rec r;
	struct fwc_unixfs_sink sink = {rec_emit, &r};
	uint8_t buf[5000] = {0};

	fwc_unixfs_options_default(&o, 2);
	CHECK_RC(fwc_unixfs_importer_new(&im, &o, NULL), FWC_ERR_ARG);
	fwc_unixfs_options_default(&o, 1);
	o.chunk_size = FWC_UNIXFS_MAX_CHUNK + 1;
	CHECK_RC(fwc_unixfs_importer_new(&im, &o, NULL), FWC_ERR_ARG);
	fwc_unixfs_options_default(&o, 1);
	o.max_links = 1;
	CHECK_RC(fwc_unixfs_importer_new(&im, &o, NULL), FWC_ERR_ARG);
	CHECK(im == (void *)1); /* untouched on failure */

	/* a sink error aborts the import and sticks */
	memset(&r, 0, sizeof(r));
	r.fail_at = 3;
	fwc_unixfs_options_default(&o, 0);
	o.chunk_size = 1000;
	CHECK_RC(fwc_unixfs_importer_new(&im, &o, &sink), FWC_OK);
	CHECK_RC(fwc_unixfs_importer_feed(im, buf, sizeof(buf)), FWC_ERR_IO);
	CHECK_RC(fwc_unixfs_importer_feed(im, buf, 1), FWC_ERR_STATE);
	CHECK_RC(fwc_unixfs_importer_finish(im, &res), FWC_ERR_STATE);
	fwc_unixfs_importer_free(im);
	free(r.cids);
	/* finish twice */
	CHECK_RC(fwc_unixfs_importer_new(&im, NULL, NULL), FWC_OK);
	CHECK_RC(fwc_unixfs_importer_finish(im, &res), FWC_OK);
	CHECK_RC(fwc_unixfs_importer_finish(im, &res), FWC_ERR_STATE);
	fwc_unixfs_importer_free(im);
	fwc_unixfs_importer_free(NULL);
}

int main(void)
{
	RUN(test_kubo_vectors);
	RUN(test_small_chunk_vectors);
	RUN(test_big_files);
	RUN(test_two_level_shape);
	RUN(test_split_invariance);
	RUN(test_errors);
	return test_done();
}
