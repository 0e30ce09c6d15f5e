/* fwchain — RFC 6962 / RFC 9162 Merkle tree: hashes, roots, an append-only frontier, inclusion
 * and consistency proofs (generation and verification). Format: docs/formats/merkle.md.
 *
 * Leaf hash SHA-256(0x00 || data), interior node hash SHA-256(0x01 || left || right), the root of
 * the empty tree is SHA-256(""). Tree sizes and indices are uint64_t; every proof of a tree of
 * fewer than 2^64 leaves has at most FWC_MERKLE_MAX_PROOF hashes.
 *
 * Proofs are arrays of 32-byte hashes, `const uint8_t (*)[32]`, so a proof that sits contiguous in
 * a received buffer (as in a proof bundle) is verified in place without copying. Verification
 * never allocates and is what the device agent runs. */
#ifndef FWCHAIN_MERKLE_H
#define FWCHAIN_MERKLE_H

#include <stddef.h>
#include <stdint.h>

#include "fwchain/err.h"

#ifdef __cplusplus
extern "C" {
#endif

#define FWC_MERKLE_HASH_LEN 32
/* Upper bound on the hashes in an inclusion or a consistency proof (trees below 2^64 leaves). */
#define FWC_MERKLE_MAX_PROOF 65
/* Levels of the frontier: one perfect subtree per bit of the tree size. */
#define FWC_MERKLE_MAX_LEVELS 64

/* SHA-256(0x00 || data[0..len)). out is written only on success. */
int fwc_merkle_leaf_hash(uint8_t out[FWC_MERKLE_HASH_LEN], const void *data, size_t len);

/* SHA-256(0x01 || left || right). out may alias left or right. */
int fwc_merkle_node_hash(uint8_t out[FWC_MERKLE_HASH_LEN], const uint8_t left[FWC_MERKLE_HASH_LEN],
                         const uint8_t right[FWC_MERKLE_HASH_LEN]);

/* Root (RFC 9162 MTH) of the n leaf hashes leaves[0..n). n == 0 gives SHA-256(""). Uses O(1)
 * memory besides the input (a frontier on the stack). */
int fwc_merkle_root(uint8_t out[FWC_MERKLE_HASH_LEN], const uint8_t (*leaves)[FWC_MERKLE_HASH_LEN],
                    uint64_t n);

/* The compact range of a tree: for every set bit i of `size`, hash[i] is the root of the perfect
 * subtree of 2^i leaves that bit stands for (the left-most, largest, subtree sits at the highest
 * bit). Appending is O(log n) amortised O(1) hashes; computing the root is at most 63 hashes.
 * Plain caller storage (2 KiB), no pointers, no heap: the node keeps one for the live log. */
struct fwc_merkle_frontier {
	uint64_t size;
	uint8_t hash[FWC_MERKLE_MAX_LEVELS][FWC_MERKLE_HASH_LEN];
};

/* Empty tree. */
void fwc_merkle_frontier_init(struct fwc_merkle_frontier *f);

/* Append one leaf hash (already leaf-hashed). FWC_ERR_RANGE when the tree holds 2^64-1 leaves.
 * The frontier is unchanged on failure. */
int fwc_merkle_frontier_append(struct fwc_merkle_frontier *f,
                               const uint8_t leaf_hash[FWC_MERKLE_HASH_LEN]);

/* Root of the tree the frontier stands for (SHA-256("") when empty). */
int fwc_merkle_frontier_root(uint8_t out[FWC_MERKLE_HASH_LEN], const struct fwc_merkle_frontier *f);

/* Where proof generation reads the tree from (the node backs it with SQLite).
 *
 * leaf: required. Writes the leaf hash at `index` (always < the tree size asked about) and
 *   returns FWC_OK, or a negative fwc_err that aborts the operation and is passed through.
 * subtree: optional (NULL when absent). Writes the root of the perfect subtree of 2^level leaves
 *   starting at leaf index << level and returns FWC_OK, or FWC_ERR_NOT_FOUND when it has no such
 *   hash stored (then it is computed from below); any other error aborts.
 * ctx: passed to both.
 *
 * Cost, in hashes and callback calls: without `subtree`, a subtree hash over r leaves costs r
 * leaf calls and r-1 node hashes, so an inclusion or consistency proof in a tree of n leaves
 * reads about n leaves (every leaf outside the proven path is read once) — fine for tens of
 * thousands of leaves, linear beyond. With a `subtree` that knows every perfect subtree at or
 * above some level L, a proof costs O(log n) lookups plus O(2^L) leaf reads. */
struct fwc_merkle_source {
	int (*leaf)(void *ctx, uint8_t out[FWC_MERKLE_HASH_LEN], uint64_t index);
	int (*subtree)(void *ctx, uint8_t out[FWC_MERKLE_HASH_LEN], unsigned level, uint64_t index);
	void *ctx;
};

/* Root of the first `size` leaves of src (a past tree head). */
int fwc_merkle_source_root(uint8_t out[FWC_MERKLE_HASH_LEN], const struct fwc_merkle_source *src,
                           uint64_t size);

/* Rebuild the frontier of the first `size` leaves of src (e.g. after a restart). f is written
 * only on success. Cost: one perfect subtree hash per set bit of size (see the source costs). */
int fwc_merkle_frontier_restore(struct fwc_merkle_frontier *f, const struct fwc_merkle_source *src,
                                uint64_t size);

/* Number of hashes in the inclusion proof of leaf `index` in a tree of `size` leaves, or -1 when
 * index >= size. */
int fwc_merkle_inclusion_len(uint64_t index, uint64_t size);

/* Number of hashes in the consistency proof from size1 to size2: 0 when size1 == 0 or
 * size1 == size2, -1 when size1 > size2. */
int fwc_merkle_consistency_len(uint64_t size1, uint64_t size2);

/* RFC 9162 §2.1.3.1 inclusion proof (audit path) of leaf `index` in the tree of the first `size`
 * leaves of src, leaf-sibling first. path has room for cap hashes; *pathlen gets the count.
 * Returns FWC_OK, FWC_ERR_RANGE (index >= size), FWC_ERR_BUFSIZE (cap too small; nothing read),
 * or an error passed through from src. Outputs are written only on success. */
int fwc_merkle_prove_inclusion(uint8_t (*path)[FWC_MERKLE_HASH_LEN], size_t cap, size_t *pathlen,
                               const struct fwc_merkle_source *src, uint64_t index, uint64_t size);

/* RFC 9162 §2.1.4.1 consistency proof from the tree of size1 leaves to the tree of size2 leaves
 * of src. Empty when size1 == 0 or size1 == size2. Returns FWC_OK, FWC_ERR_RANGE
 * (size1 > size2), FWC_ERR_BUFSIZE, or an error passed through from src. */
int fwc_merkle_prove_consistency(uint8_t (*proof)[FWC_MERKLE_HASH_LEN], size_t cap,
                                 size_t *prooflen, const struct fwc_merkle_source *src,
                                 uint64_t size1, uint64_t size2);

/* The root that an inclusion proof leads to (RFC 9162 §2.1.3.2 without the final comparison):
 * out is the root a tree of `size` leaves must have for leaf_hash to sit at `index`.
 * FWC_ERR_PROOF (with a message in ei) when index >= size or the path has the wrong length. */
int fwc_merkle_inclusion_root(uint8_t out[FWC_MERKLE_HASH_LEN],
                              const uint8_t leaf_hash[FWC_MERKLE_HASH_LEN], uint64_t index,
                              uint64_t size, const uint8_t (*path)[FWC_MERKLE_HASH_LEN],
                              size_t pathlen, struct fwc_errinfo *ei);

/* RFC 9162 §2.1.3.2: FWC_OK when path proves leaf_hash is leaf `index` of the tree of `size`
 * leaves whose root is `root`; FWC_ERR_PROOF otherwise, with ei saying which check failed
 * (index >= size, wrong path length, root mismatch). The root comparison is constant time. */
int fwc_merkle_verify_inclusion(const uint8_t leaf_hash[FWC_MERKLE_HASH_LEN], uint64_t index,
                                uint64_t size, const uint8_t (*path)[FWC_MERKLE_HASH_LEN],
                                size_t pathlen, const uint8_t root[FWC_MERKLE_HASH_LEN],
                                struct fwc_errinfo *ei);

/* RFC 9162 §2.1.4.2: FWC_OK when proof shows the tree (size2, root2) extends (size1, root1).
 * size1 == size2 needs an empty proof and equal roots; size1 == 0 needs an empty proof (the empty
 * tree is a prefix of every tree). FWC_ERR_PROOF otherwise, with the reason in ei
 * (size1 > size2, wrong proof length, first root mismatch, second root mismatch). */
int fwc_merkle_verify_consistency(uint64_t size1, uint64_t size2,
                                  const uint8_t root1[FWC_MERKLE_HASH_LEN],
                                  const uint8_t root2[FWC_MERKLE_HASH_LEN],
                                  const uint8_t (*proof)[FWC_MERKLE_HASH_LEN], size_t prooflen,
                                  struct fwc_errinfo *ei);

#ifdef __cplusplus
}
#endif
#endif
