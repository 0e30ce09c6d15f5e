/* Tests lib/merkle.c against (1) the RFC 6962 test vectors that certificate-transparency
 * implementations share (transparency-dev/merkle testonly/constants.go and proof/verify_test.go:
 * 8 leaves, the root of every prefix, 4 inclusion and 4 consistency proofs), and (2) a naive
 * implementation written here straight from the recursive MTH / PATH / PROOF / SUBPROOF
 * definitions of RFC 6962 §2.1, for every size 1..70 and every index and size pair; plus the
 * verifiers' rejections (tampered hash, wrong index, wrong size, truncated or extended path,
 * size1 > size2) and the subtree-cache path of proof generation. */
#include "test.h"

#include "fwchain/err.h"
#include "fwchain/hex.h"
#include "fwchain/merkle.h"
#include "fwchain/sha256.h"

#include <stdint.h>

#define MAXN 70

/* ---- naive RFC 6962 ---------------------------------------------------------------------- */

static void h_node(uint8_t out[32], const uint8_t l[32], const uint8_t r[32])
{
	uint8_t buf[65];

	buf[0] = 1;
	memcpy(buf + 1, l, 32);
	memcpy(buf + 33, r, 32);
	fwc_sha256(out, buf, sizeof(buf));
}

static void h_leaf(uint8_t out[32], const uint8_t *d, size_t n)
{
	uint8_t buf[64];

	buf[0] = 0;
	memcpy(buf + 1, d, n);
	fwc_sha256(out, buf, n + 1);
}

/* k: the largest power of two smaller than n (n > 1), found by counting up. */
static size_t naive_k(size_t n)
{
	size_t k = 1;

	while (k * 2 < n)
		k *= 2;
	return k;
}

/* MTH(D[n]) over leaf hashes. */
static void naive_mth(uint8_t out[32], uint8_t (*lh)[32], size_t n)
{
	uint8_t l[32], r[32];
	size_t k;

	if (n == 0) {
		fwc_sha256(out, "", 0);
		return;
	}
	if (n == 1) {
		memcpy(out, lh[0], 32);
		return;
	}
	k = naive_k(n);
	naive_mth(l, lh, k);
	naive_mth(r, lh + k, n - k);
	h_node(out, l, r);
}

/* PATH(m, D[n]) appended to out[*len]. */
static void naive_path(uint8_t (*out)[32], size_t *len, size_t m, uint8_t (*lh)[32], size_t n)
{
	size_t k;

	if (n <= 1)
		return;
	k = naive_k(n);
	if (m < k) {
		naive_path(out, len, m, lh, k);
		naive_mth(out[(*len)++], lh + k, n - k);
	} else {
		naive_path(out, len, m - k, lh + k, n - k);
		naive_mth(out[(*len)++], lh, k);
	}
}

/* SUBPROOF(m, D[n], b) appended to out[*len]. */
static void naive_subproof(uint8_t (*out)[32], size_t *len, size_t m, uint8_t (*lh)[32], size_t n,
                           int b)
{
	size_t k;

	if (m == n) {
		if (!b)
			naive_mth(out[(*len)++], lh, n);
		return;
	}
	k = naive_k(n);
	if (m <= k) {
		naive_subproof(out, len, m, lh, k, b);
		naive_mth(out[(*len)++], lh + k, n - k);
	} else {
		naive_subproof(out, len, m - k, lh + k, n - k, 0);
		naive_mth(out[(*len)++], lh, k);
	}
}

/* ---- a leaf source over an array, with an optional cache of perfect subtrees ------------- */

struct arr {
	uint8_t (*lh)[32];
	uint64_t n;
	unsigned min_cached_level; /* subtree() answers levels >= this; 0 means never */
	uint64_t leaf_calls, subtree_calls;
};

static int arr_leaf(void *ctx, uint8_t out[32], uint64_t i)
{
	struct arr *a = ctx;

	a->leaf_calls++;
	if (i >= a->n)
		return FWC_ERR_RANGE;
	memcpy(out, a->lh[i], 32);
	return FWC_OK;
}

static int arr_subtree(void *ctx, uint8_t out[32], unsigned level, uint64_t index)
{
	struct arr *a = ctx;
	uint64_t start = index << level, cnt = (uint64_t)1 << level;

	a->subtree_calls++;
	if (a->min_cached_level == 0 || level < a->min_cached_level || start + cnt > a->n)
		return FWC_ERR_NOT_FOUND;
	naive_mth(out, a->lh + start, cnt);
	return FWC_OK;
}

static uint8_t leaves[MAXN][32];

static void make_leaves(void)
{
	for (size_t i = 0; i < MAXN; i++) {
		uint8_t d[3] = {(uint8_t)i, (uint8_t)(i * 7), 0x5a};
		h_leaf(leaves[i], d, sizeof(d));
	}
}

/* ---- known answers ----------------------------------------------------------------------- */

static const char *ct_inputs[8] = {
    "",
    "00",
    "10",
    "2021",
    "3031",
    "40414243",
    "5051525354555657",
    "606162636465666768696a6b6c6d6e6f",
};
static const char *ct_roots[9] = {
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
};

struct ct_proof {
	uint64_t a, b; /* inclusion: leaf index, tree size; consistency: size1, size2 */
	const char *hashes[3];
};

/* transparency-dev/merkle proof/verify_test.go lists leaf numbers 1-based; these are 0-based. */
static const struct ct_proof ct_incl[] = {
    {0,
     8,
     {"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
      "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}},
    {5,
     8,
     {"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
      "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
    {2, 3, {"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"}},
    {1,
     5,
     {"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
      "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"}},
};

static const struct ct_proof ct_cons[] = {
    {1,
     8,
     {"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
      "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}},
    {6,
     8,
     {"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
      "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
    {2,
     5,
     {"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"}},
    {6,
     7,
     {"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
      "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
};

static size_t load_hashes(uint8_t (*out)[32], const char *const hex[3])
{
	size_t n = 0;

	while (n < 3 && hex[n] != NULL) {
		test_unhex(out[n], 32, hex[n]);
		n++;
	}
	return n;
}

static void test_known_answers(void)
{
	uint8_t lh[8][32], want[32], got[32], path[FWC_MERKLE_MAX_PROOF][32], exp[3][32];
	struct fwc_merkle_frontier f;
	struct arr a = {lh, 8, 0, 0, 0};
	struct fwc_merkle_source src = {arr_leaf, NULL, &a};
	size_t n;

	for (int i = 0; i < 8; i++) {
		uint8_t d[16];
		size_t len = test_unhex(d, sizeof(d), ct_inputs[i]);

		CHECK_RC(fwc_merkle_leaf_hash(lh[i], d, len), FWC_OK);
	}
	fwc_merkle_frontier_init(&f);
	for (int size = 0; size <= 8; size++) {
		test_unhex(want, 32, ct_roots[size]);
		CHECK_RC(fwc_merkle_root(got, (const uint8_t(*)[32])lh, (uint64_t)size), FWC_OK);
		CHECK_MEM(got, want, 32);
		CHECK_RC(fwc_merkle_frontier_root(got, &f), FWC_OK);
		CHECK_MEM(got, want, 32);
		CHECK_RC(fwc_merkle_source_root(got, &src, (uint64_t)size), FWC_OK);
		CHECK_MEM(got, want, 32);
		if (size < 8)
			CHECK_RC(fwc_merkle_frontier_append(&f, lh[size]), FWC_OK);
	}
	for (size_t t = 0; t < sizeof(ct_incl) / sizeof(ct_incl[0]); t++) {
		const struct ct_proof *p = &ct_incl[t];
		size_t k = load_hashes(exp, p->hashes);

		CHECK_RC(
		    fwc_merkle_prove_inclusion(path, FWC_MERKLE_MAX_PROOF, &n, &src, p->a, p->b),
		    FWC_OK);
		CHECK(n == k);
		CHECK_MEM(path, exp, k * 32);
		test_unhex(want, 32, ct_roots[p->b]);
		CHECK_RC(fwc_merkle_verify_inclusion(lh[p->a], p->a, p->b,
		                                     (const uint8_t(*)[32])exp, k, want, NULL),
		         FWC_OK);
	}
	for (size_t t = 0; t < sizeof(ct_cons) / sizeof(ct_cons[0]); t++) {
		const struct ct_proof *p = &ct_cons[t];
		size_t k = load_hashes(exp, p->hashes);
		uint8_t r1[32], r2[32];

		CHECK_RC(
		    fwc_merkle_prove_consistency(path, FWC_MERKLE_MAX_PROOF, &n, &src, p->a, p->b),
		    FWC_OK);
		CHECK(n == k);
		CHECK_MEM(path, exp, k * 32);
		test_unhex(r1, 32, ct_roots[p->a]);
		test_unhex(r2, 32, ct_roots[p->b]);
		CHECK_RC(fwc_merkle_verify_consistency(p->a, p->b, r1, r2,
		                                       (const uint8_t(*)[32])exp, k, NULL),
		         FWC_OK);
	}
	/* The empty tree: SHA-256 of nothing. */
	CHECK_RC(fwc_merkle_root(got, NULL, 0), FWC_OK);
	test_unhex(want, 32, ct_roots[0]);
	CHECK_MEM(got, want, 32);
}

/* docs/formats/merkle.md lists the roots per size between marker lines: they must be ours. */
static void test_doc_example(void)
{
	static char doc[32768];
	char path[512], *a, *z;
	uint8_t lh[8][32], want[32], got[32];
	FILE *f = fopen(test_vector_path(path, sizeof(path), "../../docs/formats/merkle.md"), "rb");
	size_t n = 0;
	int rows = 0;

	CHECK(f != NULL);
	if (f == NULL)
		return;
	n = fread(doc, 1, sizeof(doc) - 1, f);
	fclose(f);
	doc[n] = '\0';
	for (int i = 0; i < 8; i++) {
		uint8_t d[16];

		fwc_merkle_leaf_hash(lh[i], d, test_unhex(d, sizeof(d), ct_inputs[i]));
	}
	a = strstr(doc, "<!-- example-roots -->\n```\n");
	z = a ? strstr(a, "```\n<!-- /example-roots -->") : NULL;
	CHECK(a != NULL && z != NULL);
	if (a == NULL || z == NULL)
		return;
	a += strlen("<!-- example-roots -->\n```\n");
	while (a < z) {
		unsigned size = 99;

		CHECK(sscanf(a, "%u", &size) == 1 && size <= 8 && size == (unsigned)rows);
		if (size > 8)
			return;
		CHECK(test_unhex(want, 32, strchr(a, ' ') + 1) == 32);
		CHECK_RC(fwc_merkle_root(got, (const uint8_t(*)[32])lh, size), FWC_OK);
		CHECK_MEM(got, want, 32);
		rows++;
		a = strchr(a, '\n') + 1;
	}
	CHECK(rows == 9);
}

/* ---- every size, index and pair against the naive definitions ---------------------------- */

static void test_roots_and_frontier(void)
{
	struct fwc_merkle_frontier f, g;
	struct arr a = {leaves, MAXN, 0, 0, 0};
	struct fwc_merkle_source src = {arr_leaf, NULL, &a};
	uint8_t want[32], got[32];

	fwc_merkle_frontier_init(&f);
	for (size_t n = 0; n <= MAXN; n++) {
		naive_mth(want, leaves, n);
		CHECK_RC(fwc_merkle_frontier_root(got, &f), FWC_OK);
		CHECK_MEM(got, want, 32);
		CHECK_RC(fwc_merkle_root(got, (const uint8_t(*)[32])leaves, n), FWC_OK);
		CHECK_MEM(got, want, 32);
		CHECK_RC(fwc_merkle_frontier_restore(&g, &src, n), FWC_OK);
		CHECK(g.size == n);
		CHECK_RC(fwc_merkle_frontier_root(got, &g), FWC_OK);
		CHECK_MEM(got, want, 32);
		if (n < MAXN)
			CHECK_RC(fwc_merkle_frontier_append(&f, leaves[n]), FWC_OK);
	}
	/* The frontier is full at 2^64-1 leaves; a restored one continues like the original. */
	f.size = UINT64_MAX;
	CHECK_RC(fwc_merkle_frontier_append(&f, leaves[0]), FWC_ERR_RANGE);
	CHECK_RC(fwc_merkle_frontier_restore(&g, &src, 37), FWC_OK);
	CHECK_RC(fwc_merkle_frontier_append(&g, leaves[37]), FWC_OK);
	naive_mth(want, leaves, 38);
	CHECK_RC(fwc_merkle_frontier_root(got, &g), FWC_OK);
	CHECK_MEM(got, want, 32);
}

static void test_inclusion_all(void)
{
	struct arr a = {leaves, MAXN, 0, 0, 0};
	struct fwc_merkle_source src = {arr_leaf, NULL, &a};
	uint8_t path[FWC_MERKLE_MAX_PROOF][32], want[FWC_MERKLE_MAX_PROOF][32], root[32], other[32];
	int bad = 0, bad_neg = 0;

	for (size_t n = 1; n <= MAXN; n++) {
		naive_mth(root, leaves, n);
		for (size_t m = 0; m < n; m++) {
			size_t got_len = 0, want_len = 0;
			struct fwc_errinfo ei;

			naive_path(want, &want_len, m, leaves, n);
			if (fwc_merkle_prove_inclusion(path, FWC_MERKLE_MAX_PROOF, &got_len, &src,
			                               m, n) != FWC_OK ||
			    got_len != want_len || memcmp(path, want, want_len * 32) != 0 ||
			    fwc_merkle_inclusion_len(m, n) != (int)want_len)
				bad++;
			if (fwc_merkle_verify_inclusion(leaves[m], m, n, (const uint8_t(*)[32])want,
			                                want_len, root, NULL) != FWC_OK)
				bad++;
			/* Each path hash flipped in one bit. */
			for (size_t i = 0; i < want_len; i++) {
				want[i][0] ^= 8;
				if (fwc_merkle_verify_inclusion(
				        leaves[m], m, n, (const uint8_t(*)[32])want, want_len, root,
				        &ei) != FWC_ERR_PROOF)
					bad_neg++;
				want[i][0] ^= 8;
			}
			/* Neighbouring indices, the wrong leaf. */
			if (m + 1 < n && fwc_merkle_verify_inclusion(
			                     leaves[m], m + 1, n, (const uint8_t(*)[32])want,
			                     want_len, root, NULL) != FWC_ERR_PROOF)
				bad_neg++;
			if (m > 0 && fwc_merkle_verify_inclusion(
			                 leaves[m], m - 1, n, (const uint8_t(*)[32])want, want_len,
			                 root, NULL) != FWC_ERR_PROOF)
				bad_neg++;
			if (fwc_merkle_verify_inclusion(leaves[(m + 1) % MAXN], m, n,
			                                (const uint8_t(*)[32])want, want_len, root,
			                                NULL) != FWC_ERR_PROOF)
				bad_neg++;
			/* The proof checked against the next tree (its size and its root). */
			if (n < MAXN) {
				naive_mth(other, leaves, n + 1);
				if (fwc_merkle_verify_inclusion(
				        leaves[m], m, n + 1, (const uint8_t(*)[32])want, want_len,
				        other, NULL) != FWC_ERR_PROOF)
					bad_neg++;
			}
			/* Truncated and extended paths. */
			if (want_len > 0 &&
			    fwc_merkle_verify_inclusion(leaves[m], m, n, (const uint8_t(*)[32])want,
			                                want_len - 1, root, NULL) != FWC_ERR_PROOF)
				bad_neg++;
			if (fwc_merkle_verify_inclusion(leaves[m], m, n, (const uint8_t(*)[32])want,
			                                want_len + 1, root, NULL) != FWC_ERR_PROOF)
				bad_neg++;
		}
	}
	CHECK(bad == 0);
	CHECK(bad_neg == 0);
}

static void test_consistency_all(void)
{
	struct arr a = {leaves, MAXN, 0, 0, 0};
	struct fwc_merkle_source src = {arr_leaf, NULL, &a};
	uint8_t proof[FWC_MERKLE_MAX_PROOF][32], want[FWC_MERKLE_MAX_PROOF][32], r1[32], r2[32];
	int bad = 0, bad_neg = 0;

	for (size_t n = 1; n <= MAXN; n++) {
		naive_mth(r2, leaves, n);
		for (size_t m = 0; m <= n; m++) {
			size_t got_len = 99, want_len = 0;

			naive_mth(r1, leaves, m);
			if (m > 0 && m < n)
				naive_subproof(want, &want_len, m, leaves, n, 1);
			if (fwc_merkle_prove_consistency(proof, FWC_MERKLE_MAX_PROOF, &got_len,
			                                 &src, m, n) != FWC_OK ||
			    got_len != want_len || memcmp(proof, want, want_len * 32) != 0 ||
			    fwc_merkle_consistency_len(m, n) != (int)want_len)
				bad++;
			if (fwc_merkle_verify_consistency(m, n, r1, r2, (const uint8_t(*)[32])want,
			                                  want_len, NULL) != FWC_OK)
				bad++;
			if (want_len == 0)
				continue;
			for (size_t i = 0; i < want_len; i++) {
				want[i][0] ^= 16;
				if (fwc_merkle_verify_consistency(m, n, r1, r2,
				                                  (const uint8_t(*)[32])want,
				                                  want_len, NULL) != FWC_ERR_PROOF)
					bad_neg++;
				want[i][0] ^= 16;
			}
			if (fwc_merkle_verify_consistency(m, n, r2, r1, (const uint8_t(*)[32])want,
			                                  want_len, NULL) != FWC_ERR_PROOF)
				bad_neg++;
			if (fwc_merkle_verify_consistency(m, n, r1, r2, (const uint8_t(*)[32])want,
			                                  want_len - 1, NULL) != FWC_ERR_PROOF)
				bad_neg++;
			if (fwc_merkle_verify_consistency(m, n, r1, r2, (const uint8_t(*)[32])want,
			                                  want_len + 1, NULL) != FWC_ERR_PROOF)
				bad_neg++;
			/* Claiming a neighbouring old size with its true root. */
			if (m + 1 < n) {
				uint8_t r1b[32];

				naive_mth(r1b, leaves, m + 1);
				if (fwc_merkle_verify_consistency(m + 1, n, r1b, r2,
				                                  (const uint8_t(*)[32])want,
				                                  want_len, NULL) != FWC_ERR_PROOF)
					bad_neg++;
			}
		}
	}
	CHECK(bad == 0);
	CHECK(bad_neg == 0);
}

/* ---- edge cases and messages ------------------------------------------------------------- */

static void test_rejections(void)
{
	struct arr a = {leaves, MAXN, 0, 0, 0};
	struct fwc_merkle_source src = {arr_leaf, NULL, &a};
	uint8_t path[FWC_MERKLE_MAX_PROOF][32], r[32], empty[32];
	struct fwc_errinfo ei;
	size_t n = 1234;

	naive_mth(r, leaves, 5);
	fwc_sha256(empty, "", 0);

	CHECK_RC(fwc_merkle_verify_inclusion(leaves[5], 5, 5, path, 0, r, &ei), FWC_ERR_PROOF);
	CHECK(strstr(ei.msg, "not below the tree size") != NULL);
	CHECK_RC(fwc_merkle_verify_inclusion(leaves[0], 0, 0, path, 0, empty, &ei), FWC_ERR_PROOF);
	CHECK_RC(fwc_merkle_verify_inclusion(leaves[0], 0, 5, path, 2, r, &ei), FWC_ERR_PROOF);
	CHECK(strstr(ei.msg, "has 2 hashes") != NULL && strstr(ei.msg, "needs 3") != NULL);
	/* Single-leaf tree: empty path, root is the leaf hash. */
	CHECK_RC(fwc_merkle_verify_inclusion(leaves[0], 0, 1, NULL, 0, leaves[0], NULL), FWC_OK);
	CHECK_RC(fwc_merkle_verify_inclusion(leaves[0], 0, 1, NULL, 0, leaves[1], &ei),
	         FWC_ERR_PROOF);
	CHECK(strstr(ei.msg, "different root") != NULL);

	CHECK_RC(fwc_merkle_verify_consistency(6, 5, r, r, path, 0, &ei), FWC_ERR_PROOF);
	CHECK(strstr(ei.msg, "larger than") != NULL);
	CHECK_RC(fwc_merkle_verify_consistency(5, 5, r, r, NULL, 0, NULL), FWC_OK);
	CHECK_RC(fwc_merkle_verify_consistency(5, 5, r, empty, NULL, 0, &ei), FWC_ERR_PROOF);
	CHECK(strstr(ei.msg, "different roots") != NULL);
	CHECK_RC(fwc_merkle_verify_consistency(5, 5, r, r, path, 1, &ei), FWC_ERR_PROOF);
	CHECK_RC(fwc_merkle_verify_consistency(0, 5, empty, r, NULL, 0, NULL), FWC_OK);
	CHECK_RC(fwc_merkle_verify_consistency(0, 5, empty, r, path, 1, NULL), FWC_ERR_PROOF);
	CHECK_RC(fwc_merkle_verify_consistency(0, 0, empty, empty, NULL, 0, NULL), FWC_OK);
	CHECK_RC(fwc_merkle_verify_consistency(3, 5, r, r, NULL, 0, &ei), FWC_ERR_PROOF);
	CHECK(strstr(ei.msg, "has 0 hashes") != NULL);

	CHECK(fwc_merkle_inclusion_len(5, 5) == -1);
	CHECK(fwc_merkle_consistency_len(6, 5) == -1);
	/* The largest trees stay within the proof bound. */
	CHECK(fwc_merkle_inclusion_len(0, UINT64_MAX) == 64);
	CHECK(fwc_merkle_inclusion_len(UINT64_MAX - 1, UINT64_MAX) <= FWC_MERKLE_MAX_PROOF);
	CHECK(fwc_merkle_consistency_len(UINT64_MAX - 2, UINT64_MAX) <= FWC_MERKLE_MAX_PROOF);
	CHECK(fwc_merkle_consistency_len(3, UINT64_MAX) <= FWC_MERKLE_MAX_PROOF);

	CHECK_RC(fwc_merkle_prove_inclusion(path, FWC_MERKLE_MAX_PROOF, &n, &src, 5, 5),
	         FWC_ERR_RANGE);
	CHECK_RC(fwc_merkle_prove_inclusion(path, 2, &n, &src, 0, 5), FWC_ERR_BUFSIZE);
	CHECK_RC(fwc_merkle_prove_consistency(path, FWC_MERKLE_MAX_PROOF, &n, &src, 6, 5),
	         FWC_ERR_RANGE);
	CHECK(n == 1234); /* outputs untouched on failure */
	/* A source error passes through. */
	a.n = 3;
	CHECK_RC(fwc_merkle_prove_inclusion(path, FWC_MERKLE_MAX_PROOF, &n, &src, 0, 5),
	         FWC_ERR_RANGE);
	CHECK(n == 1234);
}

static void test_subtree_cache(void)
{
	struct arr plain = {leaves, 64, 0, 0, 0}, cached = {leaves, 64, 2, 0, 0};
	struct fwc_merkle_source s1 = {arr_leaf, NULL, &plain},
	                         s2 = {arr_leaf, arr_subtree, &cached};
	uint8_t p1[FWC_MERKLE_MAX_PROOF][32], p2[FWC_MERKLE_MAX_PROOF][32];
	size_t n1, n2;
	int bad = 0;

	for (uint64_t n = 1; n <= 64; n++)
		for (uint64_t m = 0; m < n; m++) {
			if (fwc_merkle_prove_inclusion(p1, FWC_MERKLE_MAX_PROOF, &n1, &s1, m, n) ||
			    fwc_merkle_prove_inclusion(p2, FWC_MERKLE_MAX_PROOF, &n2, &s2, m, n) ||
			    n1 != n2 || memcmp(p1, p2, n1 * 32) != 0)
				bad++;
			if (fwc_merkle_prove_consistency(p1, FWC_MERKLE_MAX_PROOF, &n1, &s1, m,
			                                 n) ||
			    fwc_merkle_prove_consistency(p2, FWC_MERKLE_MAX_PROOF, &n2, &s2, m,
			                                 n) ||
			    n1 != n2 || memcmp(p1, p2, n1 * 32) != 0)
				bad++;
		}
	CHECK(bad == 0);
	/* With subtrees of 4+ leaves cached, far fewer leaves are read. */
	CHECK(cached.subtree_calls > 0);
	CHECK(cached.leaf_calls * 3 < plain.leaf_calls);
}

int main(void)
{
	make_leaves();
	RUN(test_known_answers);
	RUN(test_doc_example);
	RUN(test_roots_and_frontier);
	RUN(test_inclusion_all);
	RUN(test_consistency_all);
	RUN(test_rejections);
	RUN(test_subtree_cache);
	return test_done();
}
