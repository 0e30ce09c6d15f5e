/* Fuzz target: the verifying reassembler (lib/dag.c) over a fuzzer-provided set of blocks.
 *
 * Input: one mode byte (bit 0: root is CIDv0; bit 1: root codec raw), then blocks, each a
 * 2-byte big-endian length and its bytes; block 0 is the root. So that the fuzzer can reach the
 * structure checks behind the hash checks, links are "fixed up" before the walk: a dag-pb link
 * whose digest names no block gets, in place, the real digest of block (digest[0] % n) when
 * that block comes later in the list (which keeps the graph acyclic). Fix-up runs from the last
 * block to the first, so children are final before their parents are hashed.
 * Properties: no crash or leak; every borrowed block is released; at most
 * FWC_DAG_MAX_DEPTH + 1 blocks are held at once; success writes at most max_size bytes and
 * reports exactly what it wrote. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fwchain/cid.h"
#include "fwchain/dag.h"
#include "fwchain/dagpb.h"
#include "fwchain/sha256.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_BLOCKS 64
#define MAX_OUT 2048

struct store {
	uint8_t *b[MAX_BLOCKS];
	size_t len[MAX_BLOCKS];
	uint8_t dig[MAX_BLOCKS][32];
	size_t n;
	long out, max_out;
};

static int find(const struct store *s, const uint8_t d[32])
{
	for (size_t i = 0; i < s->n; i++)
		if (memcmp(s->dig[i], d, 32) == 0)
			return (int)i;
	return -1;
}

static int get(void *ctx, const struct fwc_cid *cid, const uint8_t **data, size_t *len)
{
	struct store *s = ctx;
	int i = find(s, cid->digest);

	if (i < 0)
		return FWC_ERR_NOT_FOUND;
	*data = s->b[i];
	*len = s->len[i];
	if (++s->out > s->max_out)
		s->max_out = s->out;
	return FWC_OK;
}

static void put_back(void *ctx, const uint8_t *data)
{
	struct store *s = ctx;

	(void)data;
	s->out--;
}

static size_t skip_varint(const uint8_t *p)
{
	size_t n = 0;

	while (p[n] & 0x80)
		n++;
	return n + 1;
}

static void fix_links(struct store *s, size_t i)
{
	struct fwc_dagpb_node node;
	struct fwc_dagpb_iter it;
	struct fwc_dagpb_link l;

	if (fwc_dagpb_decode(&node, s->b[i], s->len[i], NULL) != FWC_OK)
		return;
	fwc_dagpb_iter_init(&it, &node);
	for (;;) {
		const uint8_t *start = it.p;
		uint8_t *p;
		size_t k, cidlen;

		if (fwc_dagpb_iter_next(&it, &l) != 1)
			break;
		if (find(s, l.cid.digest) >= 0)
			continue;
		k = l.cid.digest[0] % s->n;
		if (k <= i)
			continue;
		/* 0x12 len 0x0a len CID: the digest is the CID's last 32 bytes */
		p = (uint8_t *)start + 1;
		p += skip_varint(p);
		p += 1;
		cidlen = 0;
		for (size_t sh = 0, j = 0;; j++, sh += 7) {
			cidlen |= (size_t)(p[j] & 0x7f) << sh;
			if (!(p[j] & 0x80)) {
				p += j + 1;
				break;
			}
		}
		memcpy(p + cidlen - 32, s->dig[k], 32);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct store s;
	struct fwc_dag_source src = {get, put_back, &s};
	struct fwc_dag_result res;
	struct fwc_cid root;
	size_t pos = 1;
	uint8_t mode;

	if (size < 1)
		return 0;
	memset(&s, 0, sizeof(s));
	mode = data[0];
	while (s.n < MAX_BLOCKS && size - pos >= 2) {
		size_t len = ((size_t)data[pos] << 8) | data[pos + 1];

		pos += 2;
		if (len > size - pos)
			len = size - pos;
		s.b[s.n] = malloc(len ? len : 1);
		if (s.b[s.n] == NULL)
			goto out;
		memcpy(s.b[s.n], data + pos, len);
		s.len[s.n++] = len;
		pos += len;
	}
	if (s.n == 0)
		goto out;
	/* Digests as given first, so links of a well-formed DAG are left alone. */
	for (size_t i = 0; i < s.n; i++)
		fwc_sha256(s.dig[i], s.b[i], s.len[i]);
	for (size_t i = s.n; i-- > 0;) {
		fix_links(&s, i);
		fwc_sha256(s.dig[i], s.b[i], s.len[i]);
	}
	memset(&root, 0, sizeof(root));
	root.mh_code = FWC_MH_SHA2_256;
	root.version = (mode & 1) ? 0 : 1;
	root.codec = (mode & 2) && !(mode & 1) ? FWC_CID_CODEC_RAW : FWC_CID_CODEC_DAGPB;
	memcpy(root.digest, s.dig[0], 32);
	if (fwc_dag_reassemble(&res, &src, NULL, &root, MAX_OUT, NULL) == FWC_OK &&
	    res.size > MAX_OUT)
		abort();
	if (s.out != 0 || s.max_out > FWC_DAG_MAX_DEPTH + 1)
		abort();
out:
	for (size_t i = 0; i < s.n; i++)
		free(s.b[i]);
	return 0;
}
