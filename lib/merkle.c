/* RFC 6962 / RFC 9162 Merkle tree: roots, the append-only frontier, proof generation over a
 * caller-supplied leaf source, and the RFC 9162 bit-manipulation verifiers.
 *
 * Main design choice: everything is iterative over uint64_t sizes with fixed 64-entry stacks, so
 * no function allocates and none recurses deeper than 64 frames. Generation walks the RFC 6962
 * §2.1.1/§2.1.2 recursive decomposition top-down, records the sibling ranges it passes, and emits
 * them deepest-first; each sibling range is a run of perfect subtrees (one per set bit of its
 * length), which the optional subtree cache of struct fwc_merkle_source can answer in one lookup.
 * Verifiers first compute the exact proof length the RFC structure implies and reject any other
 * length with a precise message, then run the RFC 9162 algorithms literally. */
#include "fwchain/merkle.h"

#include "fwchain/hex.h"
#include "fwchain/sha256.h"

#include <string.h>

#define HLEN FWC_MERKLE_HASH_LEN

int fwc_merkle_leaf_hash(uint8_t out[HLEN], const void *data, size_t len)
{
	struct fwc_sha256 ctx;
	static const uint8_t prefix = 0x00;
	int rc;

	if (out == NULL || (data == NULL && len != 0))
		return FWC_ERR_ARG;
	/* Streaming so a large transaction is not copied just to prepend one byte. */
	if ((rc = fwc_sha256_init(&ctx)) < 0)
		return rc;
	if ((rc = fwc_sha256_update(&ctx, &prefix, 1)) < 0 ||
	    (rc = fwc_sha256_update(&ctx, data, len)) < 0)
		goto out;
	rc = fwc_sha256_final(&ctx, out);
out:
	fwc_sha256_cleanup(&ctx);
	return rc;
}

int fwc_merkle_node_hash(uint8_t out[HLEN], const uint8_t left[HLEN], const uint8_t right[HLEN])
{
	uint8_t buf[1 + 2 * HLEN];

	if (out == NULL || left == NULL || right == NULL)
		return FWC_ERR_ARG;
	buf[0] = 0x01;
	memcpy(buf + 1, left, HLEN);
	memcpy(buf + 1 + HLEN, right, HLEN);
	return fwc_sha256(out, buf, sizeof(buf));
}

/* Index of the highest set bit (v != 0). */
static unsigned high_bit(uint64_t v)
{
	return 63u - (unsigned)__builtin_clzll(v);
}

/* Number of significant bits of v (0 for 0). */
static unsigned bit_len(uint64_t v)
{
	return v == 0 ? 0u : high_bit(v) + 1u;
}

/* The largest power of two strictly below n (n >= 2): RFC 6962's split point k. */
static uint64_t split_point(uint64_t n)
{
	return (uint64_t)1 << high_bit(n - 1);
}

/* ---- frontier ---------------------------------------------------------------------------- */

void fwc_merkle_frontier_init(struct fwc_merkle_frontier *f)
{
	if (f != NULL)
		memset(f, 0, sizeof(*f));
}

int fwc_merkle_frontier_append(struct fwc_merkle_frontier *f, const uint8_t leaf_hash[HLEN])
{
	uint8_t carry[HLEN];
	unsigned level = 0;
	int rc;

	if (f == NULL || leaf_hash == NULL)
		return FWC_ERR_ARG;
	if (f->size == UINT64_MAX)
		return FWC_ERR_RANGE;
	/* Merge into a carry first so a hashing failure leaves the frontier untouched. */
	memcpy(carry, leaf_hash, HLEN);
	while ((f->size >> level) & 1) {
		if ((rc = fwc_merkle_node_hash(carry, f->hash[level], carry)) < 0)
			return rc;
		level++;
	}
	memcpy(f->hash[level], carry, HLEN);
	f->size++;
	return FWC_OK;
}

int fwc_merkle_frontier_root(uint8_t out[HLEN], const struct fwc_merkle_frontier *f)
{
	uint8_t r[HLEN];
	uint64_t size;
	unsigned level;
	int rc;

	if (out == NULL || f == NULL)
		return FWC_ERR_ARG;
	if (f->size == 0)
		return fwc_sha256(out, NULL, 0);
	/* Fold right to left: the smallest (right-most) subtree is the innermost right child. */
	size = f->size;
	level = (unsigned)__builtin_ctzll(size);
	memcpy(r, f->hash[level], HLEN);
	for (level++; level < FWC_MERKLE_MAX_LEVELS; level++) {
		if (!((size >> level) & 1))
			continue;
		if ((rc = fwc_merkle_node_hash(r, f->hash[level], r)) < 0)
			return rc;
	}
	memcpy(out, r, HLEN);
	return FWC_OK;
}

int fwc_merkle_root(uint8_t out[HLEN], const uint8_t (*leaves)[HLEN], uint64_t n)
{
	struct fwc_merkle_frontier f;
	int rc;

	if (out == NULL || (leaves == NULL && n != 0))
		return FWC_ERR_ARG;
	fwc_merkle_frontier_init(&f);
	for (uint64_t i = 0; i < n; i++)
		if ((rc = fwc_merkle_frontier_append(&f, leaves[i])) < 0)
			return rc;
	return fwc_merkle_frontier_root(out, &f);
}

/* ---- reading subtrees from a source ------------------------------------------------------ */

/* Root of the perfect subtree of 2^level leaves starting at leaf `start`. */
static int perfect_hash(uint8_t out[HLEN], const struct fwc_merkle_source *src, unsigned level,
                        uint64_t start)
{
	uint64_t count, mask;
	int rc;

	if (level == 0)
		return src->leaf(src->ctx, out, start);
	mask = ((uint64_t)1 << level) - 1;
	if (src->subtree != NULL && (start & mask) == 0) {
		uint8_t l[HLEN], r[HLEN];

		rc = src->subtree(src->ctx, out, level, start >> level);
		if (rc != FWC_ERR_NOT_FOUND)
			return rc;
		/* Not cached here; lower levels may be. Depth is bounded by level <= 63. */
		if ((rc = perfect_hash(l, src, level - 1, start)) < 0 ||
		    (rc = perfect_hash(r, src, level - 1, start + ((uint64_t)1 << (level - 1)))) <
		        0)
			return rc;
		return fwc_merkle_node_hash(out, l, r);
	}
	{
		struct fwc_merkle_frontier f;
		uint8_t h[HLEN];

		fwc_merkle_frontier_init(&f);
		count = (uint64_t)1 << level;
		for (uint64_t i = 0; i < count; i++) {
			if ((rc = src->leaf(src->ctx, h, start + i)) < 0 ||
			    (rc = fwc_merkle_frontier_append(&f, h)) < 0)
				return rc;
		}
		/* 2^level leaves: the single perfect subtree sits at bit `level`. */
		memcpy(out, f.hash[level], HLEN);
	}
	return FWC_OK;
}

/* MTH of leaves [a, b), b > a. A list of r leaves hashes as the perfect subtrees given by the
 * set bits of r, largest first, folded right to left; in the RFC recursion every range starts
 * at a multiple of its largest power of two, so each piece is an aligned (cacheable) subtree. */
static int range_hash(uint8_t out[HLEN], const struct fwc_merkle_source *src, uint64_t a,
                      uint64_t b)
{
	struct fwc_merkle_frontier f;
	uint64_t len = b - a, pos = a;
	int rc;

	fwc_merkle_frontier_init(&f);
	for (int level = (int)high_bit(len); level >= 0; level--) {
		uint8_t h[HLEN];

		if (!((len >> level) & 1))
			continue;
		if ((rc = perfect_hash(h, src, (unsigned)level, pos)) < 0)
			return rc;
		memcpy(f.hash[level], h, HLEN);
		pos += (uint64_t)1 << level;
	}
	f.size = len;
	return fwc_merkle_frontier_root(out, &f);
}

static int check_source(const struct fwc_merkle_source *src)
{
	return (src == NULL || src->leaf == NULL) ? FWC_ERR_ARG : FWC_OK;
}

int fwc_merkle_source_root(uint8_t out[HLEN], const struct fwc_merkle_source *src, uint64_t size)
{
	uint8_t r[HLEN];
	int rc;

	if (out == NULL || check_source(src) < 0)
		return FWC_ERR_ARG;
	if (size == 0)
		return fwc_sha256(out, NULL, 0);
	if ((rc = range_hash(r, src, 0, size)) < 0)
		return rc;
	memcpy(out, r, HLEN);
	return FWC_OK;
}

int fwc_merkle_frontier_restore(struct fwc_merkle_frontier *f, const struct fwc_merkle_source *src,
                                uint64_t size)
{
	struct fwc_merkle_frontier tmp;
	uint64_t pos = 0;
	int rc;

	if (f == NULL || check_source(src) < 0)
		return FWC_ERR_ARG;
	fwc_merkle_frontier_init(&tmp);
	for (int level = 63; level >= 0; level--) {
		if (!((size >> level) & 1))
			continue;
		if ((rc = perfect_hash(tmp.hash[level], src, (unsigned)level, pos)) < 0)
			return rc;
		pos += (uint64_t)1 << level;
	}
	tmp.size = size;
	memcpy(f, &tmp, sizeof(tmp));
	return FWC_OK;
}

/* ---- proof sizes ------------------------------------------------------------------------- */

/* An inclusion path splits into `inner` hashes below the point where the leaf's path leaves the
 * left-most full subtrees (the bits where index and size-1 differ) and `border` hashes of full
 * left subtrees above it (the set bits of index above that point). */
static unsigned popcount64(uint64_t v)
{
	unsigned n = 0;

	/* a loop rather than __builtin_popcountll, which may call a compiler runtime helper
	 * that a freestanding build (the device agent) does not link */
	for (; v != 0; v &= v - 1)
		n++;
	return n;
}

static void decompose(uint64_t index, uint64_t size, unsigned *inner, unsigned *border)
{
	*inner = bit_len(index ^ (size - 1));
	*border = popcount64(*inner >= 64 ? 0 : index >> *inner);
}

int fwc_merkle_inclusion_len(uint64_t index, uint64_t size)
{
	unsigned inner, border;

	if (index >= size)
		return -1;
	decompose(index, size, &inner, &border);
	return (int)(inner + border);
}

int fwc_merkle_consistency_len(uint64_t size1, uint64_t size2)
{
	unsigned inner, border, shift;

	if (size1 > size2)
		return -1;
	if (size1 == 0 || size1 == size2)
		return 0;
	decompose(size1 - 1, size2, &inner, &border);
	shift = (unsigned)__builtin_ctzll(size1);
	/* The proof starts with the root of the largest full subtree ending at size1, unless that
	 * subtree is the whole old tree (size1 a power of two): the verifier knows it as root1. */
	return (int)(inner - shift + border + (size1 == ((uint64_t)1 << shift) ? 0u : 1u));
}

/* ---- generation -------------------------------------------------------------------------- */

struct range {
	uint64_t a, b;
};

int fwc_merkle_prove_inclusion(uint8_t (*path)[HLEN], size_t cap, size_t *pathlen,
                               const struct fwc_merkle_source *src, uint64_t index, uint64_t size)
{
	uint8_t tmp[FWC_MERKLE_MAX_PROOF][HLEN];
	struct range sib[FWC_MERKLE_MAX_PROOF];
	uint64_t a = 0, b = size;
	size_t n = 0;
	int want, rc;

	if ((path == NULL && cap != 0) || pathlen == NULL || check_source(src) < 0)
		return FWC_ERR_ARG;
	if ((want = fwc_merkle_inclusion_len(index, size)) < 0)
		return FWC_ERR_RANGE;
	if ((size_t)want > cap)
		return FWC_ERR_BUFSIZE;
	/* PATH(m, D[a:b]) = PATH(m, D[a:a+k]) : MTH(D[a+k:b]) or PATH(m, D[a+k:b]) : MTH(D[a:a+k]):
	 * descend and remember each sibling; the path lists them deepest first. */
	while (b - a > 1) {
		uint64_t k = split_point(b - a);

		if (n >= FWC_MERKLE_MAX_PROOF)
			return FWC_ERR_RANGE;
		if (index - a < k) {
			sib[n++] = (struct range){a + k, b};
			b = a + k;
		} else {
			sib[n++] = (struct range){a, a + k};
			a = a + k;
		}
	}
	if (n != (size_t)want)
		return FWC_ERR_STATE; /* the two descriptions of the RFC structure disagree */
	for (size_t i = 0; i < n; i++)
		if ((rc = range_hash(tmp[i], src, sib[n - 1 - i].a, sib[n - 1 - i].b)) < 0)
			return rc;
	if (n)
		memcpy(path, tmp, n * HLEN);
	*pathlen = n;
	return FWC_OK;
}

int fwc_merkle_prove_consistency(uint8_t (*proof)[HLEN], size_t cap, size_t *prooflen,
                                 const struct fwc_merkle_source *src, uint64_t size1,
                                 uint64_t size2)
{
	uint8_t tmp[FWC_MERKLE_MAX_PROOF][HLEN];
	struct range rec[FWC_MERKLE_MAX_PROOF];
	uint64_t a = 0, b = size2;
	size_t n = 0, out = 0;
	int want, rc, complete = 1, have_base = 0;

	if ((proof == NULL && cap != 0) || prooflen == NULL || check_source(src) < 0)
		return FWC_ERR_ARG;
	if ((want = fwc_merkle_consistency_len(size1, size2)) < 0)
		return FWC_ERR_RANGE;
	if ((size_t)want > cap)
		return FWC_ERR_BUFSIZE;
	if (want == 0) {
		*prooflen = 0;
		return FWC_OK;
	}
	/* SUBPROOF(m, D[a:b], complete): m is absolute here (size1). */
	for (;;) {
		uint64_t k;

		if (size1 == b) {
			/* The old tree ends exactly at this subtree: the verifier knows its hash
			 * only while we are still on the old tree's own root path. */
			have_base = !complete;
			break;
		}
		if (n >= FWC_MERKLE_MAX_PROOF)
			return FWC_ERR_RANGE;
		k = split_point(b - a);
		if (size1 - a <= k) {
			rec[n++] = (struct range){a + k, b};
			b = a + k;
		} else {
			rec[n++] = (struct range){a, a + k};
			a = a + k;
			complete = 0;
		}
	}
	if (n + (size_t)have_base != (size_t)want)
		return FWC_ERR_STATE;
	if (have_base)
		if ((rc = range_hash(tmp[out++], src, a, b)) < 0)
			return rc;
	for (size_t i = 0; i < n; i++)
		if ((rc = range_hash(tmp[out++], src, rec[n - 1 - i].a, rec[n - 1 - i].b)) < 0)
			return rc;
	memcpy(proof, tmp, out * HLEN);
	*prooflen = out;
	return FWC_OK;
}

/* ---- verification (RFC 9162 §2.1.3.2 and §2.1.4.2) --------------------------------------- */

int fwc_merkle_inclusion_root(uint8_t out[HLEN], const uint8_t leaf_hash[HLEN], uint64_t index,
                              uint64_t size, const uint8_t (*path)[HLEN], size_t pathlen,
                              struct fwc_errinfo *ei)
{
	uint8_t r[HLEN];
	uint64_t fn, sn;
	int want, rc;

	if (out == NULL || leaf_hash == NULL || (path == NULL && pathlen != 0))
		return FWC_ERR_ARG;
	if (index >= size)
		return fwc_fail(ei, 0, FWC_ERR_PROOF,
		                "leaf index %llu is not below the tree size %llu",
		                (unsigned long long)index, (unsigned long long)size);
	want = fwc_merkle_inclusion_len(index, size);
	if ((size_t)want != pathlen)
		return fwc_fail(
		    ei, 0, FWC_ERR_PROOF,
		    "inclusion path has %zu hashes; leaf %llu of a tree of %llu needs %d", pathlen,
		    (unsigned long long)index, (unsigned long long)size, want);
	fn = index;
	sn = size - 1;
	memcpy(r, leaf_hash, HLEN);
	for (size_t i = 0; i < pathlen; i++) {
		if (sn == 0)
			return fwc_fail(ei, i, FWC_ERR_PROOF, "inclusion path too long at hash %zu",
			                i);
		if ((fn & 1) || fn == sn) {
			if ((rc = fwc_merkle_node_hash(r, path[i], r)) < 0)
				return rc;
			while (!(fn & 1) && fn != 0) {
				fn >>= 1;
				sn >>= 1;
			}
		} else {
			if ((rc = fwc_merkle_node_hash(r, r, path[i])) < 0)
				return rc;
		}
		fn >>= 1;
		sn >>= 1;
	}
	if (sn != 0)
		return fwc_fail(ei, pathlen, FWC_ERR_PROOF, "inclusion path too short");
	memcpy(out, r, HLEN);
	return FWC_OK;
}

int fwc_merkle_verify_inclusion(const uint8_t leaf_hash[HLEN], uint64_t index, uint64_t size,
                                const uint8_t (*path)[HLEN], size_t pathlen,
                                const uint8_t root[HLEN], struct fwc_errinfo *ei)
{
	uint8_t r[HLEN];
	int rc;

	if (root == NULL)
		return FWC_ERR_ARG;
	if ((rc = fwc_merkle_inclusion_root(r, leaf_hash, index, size, path, pathlen, ei)) < 0)
		return rc;
	if (!fwc_ct_equal(r, root, HLEN))
		return fwc_fail(ei, 0, FWC_ERR_PROOF,
		                "inclusion path for leaf %llu leads to a different root than the "
		                "tree of size %llu has",
		                (unsigned long long)index, (unsigned long long)size);
	return FWC_OK;
}

int fwc_merkle_verify_consistency(uint64_t size1, uint64_t size2, const uint8_t root1[HLEN],
                                  const uint8_t root2[HLEN], const uint8_t (*proof)[HLEN],
                                  size_t prooflen, struct fwc_errinfo *ei)
{
	uint8_t fr[HLEN], sr[HLEN];
	const uint8_t *first;
	uint64_t fn, sn;
	size_t i;
	int want, rc;

	if (root1 == NULL || root2 == NULL || (proof == NULL && prooflen != 0))
		return FWC_ERR_ARG;
	if (size1 > size2)
		return fwc_fail(ei, 0, FWC_ERR_PROOF,
		                "old tree size %llu is larger than new tree size %llu",
		                (unsigned long long)size1, (unsigned long long)size2);
	want = fwc_merkle_consistency_len(size1, size2);
	if ((size_t)want != prooflen)
		return fwc_fail(ei, 0, FWC_ERR_PROOF,
		                "consistency proof has %zu hashes; sizes %llu -> %llu need %d",
		                prooflen, (unsigned long long)size1, (unsigned long long)size2,
		                want);
	if (size1 == size2) {
		if (!fwc_ct_equal(root1, root2, HLEN))
			return fwc_fail(ei, 0, FWC_ERR_PROOF,
			                "trees of equal size %llu have different roots",
			                (unsigned long long)size1);
		return FWC_OK;
	}
	if (size1 == 0)
		return FWC_OK;

	/* When size1 is a power of two the RFC prepends root1 to the proof; read it from root1
	 * instead of copying the proof. */
	i = 0;
	if ((size1 & (size1 - 1)) == 0)
		first = root1;
	else
		first = proof[i++];
	fn = size1 - 1;
	sn = size2 - 1;
	while (fn & 1) {
		fn >>= 1;
		sn >>= 1;
	}
	memcpy(fr, first, HLEN);
	memcpy(sr, first, HLEN);
	for (; i < prooflen; i++) {
		if (sn == 0)
			return fwc_fail(ei, i, FWC_ERR_PROOF,
			                "consistency proof too long at hash %zu", i);
		if ((fn & 1) || fn == sn) {
			if ((rc = fwc_merkle_node_hash(fr, proof[i], fr)) < 0 ||
			    (rc = fwc_merkle_node_hash(sr, proof[i], sr)) < 0)
				return rc;
			while (!(fn & 1) && fn != 0) {
				fn >>= 1;
				sn >>= 1;
			}
		} else {
			if ((rc = fwc_merkle_node_hash(sr, sr, proof[i])) < 0)
				return rc;
		}
		fn >>= 1;
		sn >>= 1;
	}
	if (sn != 0)
		return fwc_fail(ei, prooflen, FWC_ERR_PROOF, "consistency proof too short");
	if (!fwc_ct_equal(fr, root1, HLEN))
		return fwc_fail(ei, 0, FWC_ERR_PROOF,
		                "consistency proof does not lead to the old root (size %llu)",
		                (unsigned long long)size1);
	if (!fwc_ct_equal(sr, root2, HLEN))
		return fwc_fail(ei, 0, FWC_ERR_PROOF,
		                "consistency proof does not lead to the new root (size %llu)",
		                (unsigned long long)size2);
	return FWC_OK;
}
