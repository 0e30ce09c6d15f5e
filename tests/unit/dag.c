/* Tests lib/dag.c: import (lib/unixfs.c) then reassemble gives the same bytes for every
 * layout (CIDv0 dag-pb leaves, CIDv1 raw leaves, three-level trees, the empty file, a two-level
 * 256 KiB-chunk file), with every borrowed block released and at most depth+1 held; and each
 * refusal: tampered, truncated, substituted and missing blocks, oversize output (refused after
 * the root block alone), nodes whose sizes lie, non-file nodes, over-deep chains, sink errors. */
#include "test.h"

#include "fwchain/cid.h"
#include "fwchain/dag.h"
#include "fwchain/dagpb.h"
#include "fwchain/err.h"
#include "fwchain/unixfs.h"

/* ---- an in-memory block store that counts what is borrowed ---- */

struct blk {
	struct fwc_cid cid;
	uint8_t *data;
	size_t len;
};

struct store {
	struct blk *b;
	size_t n, cap;
	long out, max_out, gets;
	const struct fwc_cid *swap_from; /* answer swap_from with the block of swap_to */
	const struct fwc_cid *swap_to;
};

static int store_put(void *ctx, const struct fwc_cid *cid, const uint8_t *data, size_t len)
{
	struct store *s = ctx;

	for (size_t i = 0; i < s->n; i++)
		if (fwc_cid_equal(&s->b[i].cid, cid))
			return FWC_OK;
	if (s->n == s->cap) {
		size_t nc = s->cap ? 2 * s->cap : 64;
		struct blk *p = realloc(s->b, nc * sizeof(*p));

		if (p == NULL)
			return FWC_ERR_NOMEM;
		s->b = p;
		s->cap = nc;
	}
	s->b[s->n].cid = *cid;
	s->b[s->n].data = malloc(len ? len : 1);
	if (s->b[s->n].data == NULL)
		return FWC_ERR_NOMEM;
	if (len)
		memcpy(s->b[s->n].data, data, len);
	s->b[s->n].len = len;
	s->n++;
	return FWC_OK;
}

static struct blk *store_find(struct store *s, const struct fwc_cid *cid)
{
	for (size_t i = 0; i < s->n; i++)
		if (fwc_cid_equal(&s->b[i].cid, cid))
			return &s->b[i];
	return NULL;
}

static int store_get(void *ctx, const struct fwc_cid *cid, const uint8_t **data, size_t *len)
{
	struct store *s = ctx;
	struct blk *b;

	if (s->swap_from && fwc_cid_equal(cid, s->swap_from))
		cid = s->swap_to;
	b = store_find(s, cid);
	s->gets++;
	if (b == NULL)
		return FWC_ERR_NOT_FOUND;
	*data = b->data;
	*len = b->len;
	if (++s->out > s->max_out)
		s->max_out = s->out;
	return FWC_OK;
}

static void store_release(void *ctx, const uint8_t *data)
{
	struct store *s = ctx;

	(void)data;
	s->out--;
}

static void store_free(struct store *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->b[i].data);
	free(s->b);
	memset(s, 0, sizeof(*s));
}

/* ---- an output buffer ---- */

struct obuf {
	uint8_t *p;
	size_t n, cap;
	int fail;
};

static int obuf_write(void *ctx, const uint8_t *data, size_t len)
{
	struct obuf *o = ctx;

	if (o->fail)
		return FWC_ERR_IO;
	if (len > o->cap - o->n)
		return FWC_ERR_BUFSIZE;
	memcpy(o->p + o->n, data, len);
	o->n += len;
	return FWC_OK;
}

static int reassemble(struct store *s, struct obuf *o, const struct fwc_cid *root, uint64_t max,
		      struct fwc_dag_result *res, struct fwc_errinfo *ei)
{
	struct fwc_dag_source src = {store_get, store_release, s};
	struct fwc_dag_output out = {obuf_write, o};

	s->out = s->max_out = s->gets = 0;
	o->n = 0;
	return fwc_dag_reassemble(res, &src, &out, root, max, ei);
}

static int import(struct store *s, struct fwc_cid *root, const struct fwc_unixfs_options *o,
		  const uint8_t *data, size_t len)
{
	struct fwc_unixfs_sink sink = {store_put, s};
	struct fwc_unixfs_result r;
	int rc = fwc_unixfs_import(&r, o, &sink, data, len);

	if (rc == FWC_OK)
		*root = r.root;
	return rc;
}

static uint8_t *pattern(size_t n)
{
	uint8_t *p = malloc(n ? n : 1);
	uint32_t x = 2463534242u; /* xorshift32 */

	for (size_t i = 0; p && i < n; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		p[i] = (uint8_t)x;
	}
	return p;
}

static void round_trip(const struct fwc_unixfs_options *o, size_t len, int depth)
{
	struct store s;
	struct obuf ob;
	struct fwc_cid root;
	struct fwc_dag_result res;
	uint8_t *data = pattern(len);

	memset(&s, 0, sizeof(s));
	memset(&ob, 0, sizeof(ob));
	ob.cap = len;
	ob.p = malloc(len ? len : 1);
	CHECK(data != NULL && ob.p != NULL);
	CHECK_RC(import(&s, &root, o, data, len), FWC_OK);
	CHECK_RC(reassemble(&s, &ob, &root, len, &res, NULL), FWC_OK);
	CHECK(ob.n == len && memcmp(ob.p, data, len) == 0);
	CHECK(res.size == len && res.blocks >= 1);
	CHECK(s.out == 0);		  /* every borrowed block given back */
	CHECK(s.max_out == depth + 1); /* one per level plus the leaf */
	free(data);
	free(ob.p);
	store_free(&s);
}

static void test_round_trips(void)
{
	struct fwc_unixfs_options o;

	fwc_unixfs_options_default(&o, 0);
	round_trip(&o, 0, 0);
	round_trip(&o, 11, 0);
	round_trip(&o, 3 * 262144 + 5, 1);
	fwc_unixfs_options_default(&o, 1);
	round_trip(&o, 0, 0);
	round_trip(&o, 262144, 0);
	round_trip(&o, 262145, 1);
	round_trip(&o, 174 * 262144 + 1, 2);
	/* small chunks and 3 links: 40 chunks -> 4 levels */
	o.chunk_size = 100;
	o.max_links = 3;
	round_trip(&o, 4000, 4);
	o.raw_leaves = 0;
	round_trip(&o, 4000, 4);
	fwc_unixfs_options_default(&o, 0);
	o.raw_leaves = 1;
	round_trip(&o, 2 * 262144, 1); /* v0 nodes over raw leaves */
}

/* A three-level file for the refusal tests (chunk 100, 3 links, 1000 bytes = 10 chunks). */
struct fixture {
	struct store s;
	struct obuf ob;
	struct fwc_cid root;
	uint8_t *data;
	size_t len;
};

static void fixture_init(struct fixture *f, int raw)
{
	struct fwc_unixfs_options o;

	memset(f, 0, sizeof(*f));
	fwc_unixfs_options_default(&o, 1);
	o.raw_leaves = raw;
	o.chunk_size = 100;
	o.max_links = 3;
	f->len = 1000;
	f->data = pattern(f->len);
	f->ob.cap = 1 << 20;
	f->ob.p = malloc(f->ob.cap);
	import(&f->s, &f->root, &o, f->data, f->len);
}

static void fixture_free(struct fixture *f)
{
	free(f->data);
	free(f->ob.p);
	store_free(&f->s);
}

/* The block holding file byte `off`'s leaf (the leaf CIDs are in store order). */
static struct blk *nth_leaf(struct fixture *f, size_t k)
{
	size_t seen = 0;

	for (size_t i = 0; i < f->s.n; i++) {
		struct fwc_dagpb_node nd;

		if (f->s.b[i].cid.codec == FWC_CID_CODEC_RAW ||
		    (fwc_dagpb_decode(&nd, f->s.b[i].data, f->s.b[i].len, NULL) == FWC_OK &&
		     nd.nlinks == 0)) {
			if (seen++ == k)
				return &f->s.b[i];
		}
	}
	return NULL;
}

static void test_tampered_and_truncated(void)
{
	for (int raw = 0; raw <= 1; raw++) {
		struct fixture f;
		struct fwc_errinfo ei;
		struct fwc_dag_result res = {7, 7, 7};
		struct blk *b;
		char cs[FWC_CID_STR_MAX];

		fixture_init(&f, raw);
		b = nth_leaf(&f, 4);
		CHECK(b != NULL);
		if (b == NULL) {
			fixture_free(&f);
			continue;
		}
		fwc_cid_format(cs, sizeof(cs), &b->cid);
		b->data[b->len - 1] ^= 1;
		CHECK_RC(reassemble(&f.s, &f.ob, &f.root, f.len, &res, &ei), FWC_ERR_HASH_MISMATCH);
		CHECK(strstr(ei.msg, cs) != NULL); /* the message names the bad block */
		CHECK(ei.offset == 400 && f.ob.n == 400); /* stopped before using it */
		CHECK(f.s.out == 0 && res.size == 7);
		b->data[b->len - 1] ^= 1;
		b->len--; /* truncated */
		CHECK_RC(reassemble(&f.s, &f.ob, &f.root, f.len, NULL, &ei), FWC_ERR_HASH_MISMATCH);
		CHECK(strstr(ei.msg, cs) != NULL);
		b->len++;
		CHECK_RC(reassemble(&f.s, &f.ob, &f.root, f.len, NULL, &ei), FWC_OK);
		/* a tampered root is refused before anything is written */
		f.s.b[f.s.n - 1].data[3] ^= 0x40;
		CHECK_RC(reassemble(&f.s, &f.ob, &f.root, f.len, NULL, &ei), FWC_ERR_HASH_MISMATCH);
		CHECK(f.ob.n == 0 && f.s.gets == 1);
		fixture_free(&f);
	}
}

static void test_wrong_and_missing(void)
{
	struct fixture f;
	struct fwc_errinfo ei;
	struct fwc_cid other;
	struct blk *a, *b;

	fixture_init(&f, 1);
	/* a source answering one CID with another (valid) block */
	a = nth_leaf(&f, 2);
	b = nth_leaf(&f, 3);
	f.s.swap_from = &a->cid;
	f.s.swap_to = &b->cid;
	CHECK_RC(reassemble(&f.s, &f.ob, &f.root, f.len, NULL, &ei), FWC_ERR_HASH_MISMATCH);
	CHECK(ei.offset == 200);
	f.s.swap_from = NULL;
	/* a root nobody has */
	fwc_cid_from_block(&other, 1, FWC_CID_CODEC_DAGPB, "nope", 4);
	CHECK_RC(reassemble(&f.s, &f.ob, &other, f.len, NULL, &ei), FWC_ERR_NOT_FOUND);
	CHECK(strstr(ei.msg, "cannot fetch") != NULL);
	/* a missing leaf */
	a = nth_leaf(&f, 9);
	a->cid.digest[0] ^= 1;
	CHECK_RC(reassemble(&f.s, &f.ob, &f.root, f.len, NULL, &ei), FWC_ERR_NOT_FOUND);
	CHECK(ei.offset == 900 && f.s.out == 0);
	fixture_free(&f);
}

static void test_oversize(void)
{
	struct fixture f;
	struct fwc_errinfo ei;
	struct fwc_cid leaf;
	struct fwc_dag_result res;

	fixture_init(&f, 1);
	CHECK_RC(reassemble(&f.s, &f.ob, &f.root, f.len, &res, NULL), FWC_OK);
	CHECK(res.size == f.len);
	CHECK_RC(reassemble(&f.s, &f.ob, &f.root, f.len - 1, NULL, &ei), FWC_ERR_TOO_LARGE);
	CHECK(f.s.gets == 1 && f.ob.n == 0); /* refused from the root's filesize alone */
	CHECK_RC(reassemble(&f.s, &f.ob, &f.root, 0, NULL, &ei), FWC_ERR_TOO_LARGE);
	/* a single raw leaf as root */
	leaf = nth_leaf(&f, 0)->cid;
	CHECK_RC(reassemble(&f.s, &f.ob, &leaf, 99, NULL, &ei), FWC_ERR_TOO_LARGE);
	CHECK(f.ob.n == 0);
	CHECK_RC(reassemble(&f.s, &f.ob, &leaf, 100, NULL, &ei), FWC_OK);
	CHECK(f.ob.n == 100);
	/* output errors pass through */
	f.ob.fail = 1;
	CHECK_RC(reassemble(&f.s, &f.ob, &f.root, f.len, NULL, &ei), FWC_ERR_IO);
	CHECK(f.s.out == 0);
	fixture_free(&f);
}

/* ---- hand-made nodes that lie about sizes or types ---- */

static struct fwc_cid make_node(struct store *s, const struct fwc_cid *kids, size_t n,
				const uint64_t *bsz, size_t nb, uint64_t type, int filesize_delta,
				int with_data)
{
	struct fwc_dagpb_link l[8];
	struct fwc_unixfs_data u;
	uint8_t ub[256], nb_[1024];
	size_t ul = 0, nl = 0;
	uint64_t sum = 0;
	struct fwc_cid c;

	memset(&u, 0, sizeof(u));
	for (size_t i = 0; i < n; i++) {
		memset(&l[i], 0, sizeof(l[i]));
		l[i].cid = kids[i];
		l[i].has_name = 1;
		l[i].name = (const uint8_t *)"";
	}
	for (size_t i = 0; i < nb; i++)
		sum += bsz[i];
	u.type = type;
	u.filesize = sum + (uint64_t)(int64_t)filesize_delta;
	u.has_filesize = 1;
	fwc_unixfs_data_encode(ub, sizeof(ub), &ul, &u, bsz, nb);
	fwc_dagpb_encode(nb_, sizeof(nb_), &nl, l, n, ub, ul, with_data);
	fwc_cid_from_block(&c, 1, FWC_CID_CODEC_DAGPB, nb_, nl);
	store_put(s, &c, nb_, nl);
	return c;
}

static void test_structure(void)
{
	struct store s;
	struct obuf ob;
	struct fwc_errinfo ei;
	struct fwc_cid leaf, leaf2, n, kids[2];
	uint64_t four = 4, five = 5, zero = 0, both[2] = {4, 4};
	uint8_t buf[64];

	memset(&s, 0, sizeof(s));
	ob.p = buf;
	ob.cap = sizeof(buf);
	ob.fail = 0;
	fwc_cid_from_block(&leaf, 1, FWC_CID_CODEC_RAW, "abcd", 4);
	store_put(&s, &leaf, (const uint8_t *)"abcd", 4);
	fwc_cid_from_block(&leaf2, 1, FWC_CID_CODEC_RAW, "", 0);
	store_put(&s, &leaf2, (const uint8_t *)"", 0);

	n = make_node(&s, &leaf, 1, &four, 1, FWC_UNIXFS_FILE, 0, 1);
	CHECK_RC(reassemble(&s, &ob, &n, 100, NULL, &ei), FWC_OK);
	CHECK(ob.n == 4 && memcmp(buf, "abcd", 4) == 0);

	n = make_node(&s, &leaf, 1, &five, 1, FWC_UNIXFS_FILE, 0, 1);
	CHECK_RC(reassemble(&s, &ob, &n, 100, NULL, &ei), FWC_ERR_MALFORMED);
	CHECK(strstr(ei.msg, "parent says 5") != NULL);

	n = make_node(&s, &leaf, 1, &four, 1, FWC_UNIXFS_FILE, 1, 1);
	CHECK_RC(reassemble(&s, &ob, &n, 100, NULL, &ei), FWC_ERR_MALFORMED);
	CHECK(strstr(ei.msg, "filesize 5") != NULL);

	kids[0] = leaf;
	kids[1] = leaf;
	n = make_node(&s, kids, 2, &four, 1, FWC_UNIXFS_FILE, 0, 1);
	CHECK_RC(reassemble(&s, &ob, &n, 100, NULL, &ei), FWC_ERR_MALFORMED);
	CHECK(strstr(ei.msg, "2 links but 1 blocksizes") != NULL);

	n = make_node(&s, kids, 2, both, 2, FWC_UNIXFS_FILE, 0, 1);
	CHECK_RC(reassemble(&s, &ob, &n, 100, NULL, &ei), FWC_OK);
	CHECK(ob.n == 8);

	n = make_node(&s, &leaf2, 1, &zero, 1, FWC_UNIXFS_FILE, 0, 1);
	CHECK_RC(reassemble(&s, &ob, &n, 100, NULL, &ei), FWC_ERR_MALFORMED);
	CHECK(strstr(ei.msg, "blocksize of 0") != NULL);

	n = make_node(&s, &leaf, 1, &four, 1, FWC_UNIXFS_DIRECTORY, 0, 1);
	CHECK_RC(reassemble(&s, &ob, &n, 100, NULL, &ei), FWC_ERR_UNSUPPORTED);
	CHECK(strstr(ei.msg, "not a file") != NULL);

	n = make_node(&s, &leaf, 1, &four, 1, FWC_UNIXFS_FILE, 0, 0);
	CHECK_RC(reassemble(&s, &ob, &n, 100, NULL, &ei), FWC_ERR_MALFORMED);
	CHECK(strstr(ei.msg, "without UnixFS Data") != NULL);

	/* a child that is a directory, under a good root */
	kids[0] = make_node(&s, &leaf, 1, &four, 1, FWC_UNIXFS_DIRECTORY, 0, 1);
	n = make_node(&s, kids, 1, &four, 1, FWC_UNIXFS_FILE, 0, 1);
	CHECK_RC(reassemble(&s, &ob, &n, 100, NULL, &ei), FWC_ERR_UNSUPPORTED);

	/* depth: a chain of single-child nodes; FWC_DAG_MAX_DEPTH levels above the leaf pass */
	n = leaf;
	for (int d = 1; d <= FWC_DAG_MAX_DEPTH + 1; d++) {
		n = make_node(&s, &n, 1, &four, 1, FWC_UNIXFS_FILE, 0, 1);
		if (d == FWC_DAG_MAX_DEPTH) {
			CHECK_RC(reassemble(&s, &ob, &n, 100, NULL, &ei), FWC_OK);
			CHECK(s.max_out == FWC_DAG_MAX_DEPTH + 1 && s.out == 0);
		}
	}
	CHECK_RC(reassemble(&s, &ob, &n, 100, NULL, &ei), FWC_ERR_TOO_DEEP);
	CHECK(s.out == 0 && s.max_out <= FWC_DAG_MAX_DEPTH + 1);

	/* a bad dag-pb block hashes fine but does not decode */
	{
		static const uint8_t junk[] = {0x1a, 0x00};

		fwc_cid_from_block(&n, 1, FWC_CID_CODEC_DAGPB, junk, sizeof(junk));
		store_put(&s, &n, junk, sizeof(junk));
		CHECK_RC(reassemble(&s, &ob, &n, 100, NULL, &ei), FWC_ERR_UNKNOWN_FIELD);
		CHECK(strstr(ei.msg, "unknown field 3") != NULL);
	}
	store_free(&s);
}

int main(void)
{
	RUN(test_round_trips);
	RUN(test_tampered_and_truncated);
	RUN(test_wrong_and_missing);
	RUN(test_oversize);
	RUN(test_structure);
	return test_done();
}
