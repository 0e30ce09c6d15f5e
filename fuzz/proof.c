/* Fuzz target for lib/merkle.c verifiers and generators and lib/bundle.c decoders.
 *
 * The first byte picks the mode, the rest is its input:
 *   0: fwc_merkle_verify_inclusion on fuzzer-chosen index, size, leaf, root and path
 *      (u64be index, u64be size, 32-byte leaf, 32-byte root, then whole 32-byte path hashes);
 *   1: fwc_merkle_verify_consistency likewise (u64be size1, u64be size2, root1, root2, proof);
 *   2: differential: a tree of up to 300 leaves, sizes and indices from the input; generated
 *      proofs must verify, and the same proof with one fuzzer-chosen bit flipped must not;
 *   3: fwc_bundle_decode, then: re-encoding is byte-identical, verification runs, every entry
 *      exports as tlog-proof text that parses back to the same entry;
 *   4: fwc_bundle_text_parse, then: exporting the parsed entry gives the input back.
 * Any violated property aborts. */
#include "fwchain/bundle.h"
#include "fwchain/merkle.h"
#include "fwchain/note.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static uint64_t be64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static void mode_inclusion(const uint8_t *d, size_t n)
{
	uint8_t r[32];
	size_t k;
	int rc;

	if (n < 80)
		return;
	k = (n - 80) / 32;
	rc =
	    fwc_merkle_verify_inclusion(d + 16, be64(d), be64(d + 8),
	                                (const uint8_t(*)[32])(k ? d + 80 : NULL), k, d + 48, NULL);
	if (rc == FWC_OK && fwc_merkle_inclusion_len(be64(d), be64(d + 8)) != (int)k)
		abort();
	if (fwc_merkle_inclusion_root(r, d + 16, be64(d), be64(d + 8),
	                              (const uint8_t(*)[32])(k ? d + 80 : NULL), k,
	                              NULL) == FWC_OK &&
	    (rc == FWC_OK) != (memcmp(r, d + 48, 32) == 0))
		abort();
}

static void mode_consistency(const uint8_t *d, size_t n)
{
	size_t k;
	int rc;

	if (n < 80)
		return;
	k = (n - 80) / 32;
	rc = fwc_merkle_verify_consistency(be64(d), be64(d + 8), d + 16, d + 48,
	                                   (const uint8_t(*)[32])(k ? d + 80 : NULL), k, NULL);
	if (rc == FWC_OK && fwc_merkle_consistency_len(be64(d), be64(d + 8)) != (int)k)
		abort();
}

#define TREE_MAX 300
static uint8_t tree[TREE_MAX][32];

static int tree_leaf(void *ctx, uint8_t out[32], uint64_t i)
{
	(void)ctx;
	if (i >= TREE_MAX)
		return FWC_ERR_RANGE;
	memcpy(out, tree[i], 32);
	return FWC_OK;
}

static void mode_differential(const uint8_t *d, size_t n)
{
	struct fwc_merkle_source src = {tree_leaf, NULL, NULL};
	struct fwc_merkle_frontier f;
	uint8_t proof[FWC_MERKLE_MAX_PROOF][32], r1[32], r2[32];
	uint64_t size, m;
	size_t len = 0, bit;

	if (n < 8)
		return;
	size = 1 + ((uint64_t)d[0] << 8 | d[1]) % TREE_MAX;
	m = ((uint64_t)d[2] << 8 | d[3]) % (size + 1);
	bit = (size_t)(d[4] << 8 | d[5]);
	fwc_merkle_frontier_init(&f);
	for (uint64_t i = 0; i < size; i++) {
		uint8_t seed[9];

		seed[0] = d[6 + i % (n - 6)];
		for (int j = 1; j < 9; j++)
			seed[j] = (uint8_t)(i >> (8 * (j - 1)));
		fwc_merkle_leaf_hash(tree[i], seed, sizeof(seed));
		if (i == m)
			fwc_merkle_frontier_root(r1, &f);
		fwc_merkle_frontier_append(&f, tree[i]);
	}
	if (m == size)
		fwc_merkle_frontier_root(r1, &f);
	fwc_merkle_frontier_root(r2, &f);

	if (m < size) {
		if (fwc_merkle_prove_inclusion(proof, FWC_MERKLE_MAX_PROOF, &len, &src, m, size) !=
		        FWC_OK ||
		    fwc_merkle_verify_inclusion(tree[m], m, size, proof, len, r2, NULL) != FWC_OK)
			abort();
		if (len > 0) {
			proof[(bit / 256) % len][(bit / 8) % 32] ^= (uint8_t)(1u << (bit % 8));
			if (fwc_merkle_verify_inclusion(tree[m], m, size, proof, len, r2, NULL) ==
			    FWC_OK)
				abort();
		}
	}
	if (fwc_merkle_prove_consistency(proof, FWC_MERKLE_MAX_PROOF, &len, &src, m, size) !=
	        FWC_OK ||
	    fwc_merkle_verify_consistency(m, size, r1, r2, proof, len, NULL) != FWC_OK)
		abort();
	if (len > 0) {
		proof[(bit / 256) % len][(bit / 8) % 32] ^= (uint8_t)(1u << (bit % 8));
		if (fwc_merkle_verify_consistency(m, size, r1, r2, proof, len, NULL) == FWC_OK)
			abort();
	}
}

static const char *const trusted[] = {
    "witness.example.com/w1+7ec980b1+BCSwK8N8yAWJCrOpyLSLkfMePJIz24EyNBZgLWDIsaSW",
    "witness.example.com/w2+a3390d8f+BOEZrAjv0RxNKesLlTXAkHvH3Eagb4/Hx0sHD7YTHs5G",
};
static struct fwc_note_vkey vk[2];

static int same_entry(const struct fwc_bundle_entry *a, const struct fwc_bundle_entry *b)
{
	return a->tx_len == b->tx_len && (a->tx_len == 0 || memcmp(a->tx, b->tx, a->tx_len) == 0) &&
	       a->index == b->index && a->path_len == b->path_len &&
	       (a->path_len == 0 || memcmp(a->path, b->path, a->path_len * 32) == 0);
}

static void mode_bundle(const uint8_t *d, size_t n)
{
	static struct fwc_bundle b, t;
	static struct fwc_bundle_report rep;
	static uint8_t enc[FWC_BUNDLE_MAX_LEN];
	static char text[2 * FWC_BUNDLE_MAX_LEN];
	static uint8_t scratch[FWC_BUNDLE_MAX_TX + 64 * 32];
	struct fwc_bundle_trust trust = {vk, 2, 1, NULL, 0};
	size_t el = 0, tl = 0;

	if (fwc_bundle_decode(&b, d, n, NULL) != FWC_OK)
		return;
	if (fwc_bundle_encode(enc, sizeof(enc), &el, &b) != FWC_OK || el != n ||
	    memcmp(enc, d, n) != 0)
		abort();
	(void)fwc_bundle_verify(&rep, &b, &trust, NULL, NULL);
	if (rep.n_checks == 0)
		abort();
	for (size_t e = 0; e <= b.n_extra; e++) {
		const struct fwc_bundle_entry *x = e ? &b.extra[e - 1] : &b.release;

		if (fwc_bundle_text_export(text, sizeof(text), &tl, &b, e) != FWC_OK)
			abort();
		/* Parsing back needs a valid checkpoint note; when it is one, the entry must
		 * survive the trip unchanged. */
		if (fwc_bundle_text_parse(&t, scratch, sizeof(scratch), text, tl, NULL) == FWC_OK &&
		    !same_entry(&t.release, x))
			abort();
	}
}

static void mode_text(const uint8_t *d, size_t n)
{
	static struct fwc_bundle b;
	static uint8_t scratch[FWC_BUNDLE_MAX_TX + 64 * 32];
	static char text[2 * FWC_BUNDLE_MAX_LEN];
	size_t tl = 0;

	if (fwc_bundle_text_parse(&b, scratch, sizeof(scratch), (const char *)d, n, NULL) != FWC_OK)
		return;
	if (fwc_bundle_text_export(text, sizeof(text), &tl, &b, 0) != FWC_OK || tl != n ||
	    memcmp(text, d, n) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int init;
	uint8_t *copy;
	size_t n;

	if (!init) {
		for (int i = 0; i < 2; i++)
			if (fwc_note_vkey_parse(&vk[i], trusted[i], strlen(trusted[i]), NULL) != 0)
				abort();
		init = 1;
	}
	if (size < 1)
		return 0;
	n = size - 1;
	copy = malloc(n ? n : 1);
	if (copy == NULL)
		return 0;
	memcpy(copy, data + 1, n);
	switch (data[0] % 5) {
	case 0:
		mode_inclusion(copy, n);
		break;
	case 1:
		mode_consistency(copy, n);
		break;
	case 2:
		mode_differential(copy, n);
		break;
	case 3:
		mode_bundle(copy, n);
		break;
	default:
		mode_text(copy, n);
		break;
	}
	free(copy);
	return 0;
}
