/* Verifying UnixFS reassembler (see include/fwchain/dag.h).
 *
 * Design: an explicit stack of frames, one per tree level, instead of recursion, so the depth
 * bound is a compile-time array size and the walker needs no heap (the device agent shares
 * this path). A frame borrows its block from the source and keeps zero-copy iterators over its
 * links and blocksizes; a child is fetched only when its parent has been verified, and every
 * size a parent promises (filesize, blocksizes) is checked against what its children really
 * produce, so a lying node is caught at the first byte it could mislead us with. A node's
 * filesize must fit the remaining budget before any of its children is fetched, so an
 * oversize image is refused after reading one block. */
#include "fwchain/dag.h"

#include <stdio.h>
#include <string.h>

#include "fwchain/dagpb.h"

struct frame {
	struct fwc_cid cid;
	const uint8_t *block;	     /* borrowed from the source, NULL when released */
	struct fwc_dagpb_iter links;
	struct fwc_unixfs_iter sizes;
	uint64_t start;		     /* file offset where this subtree begins */
	uint64_t total;		     /* file bytes this subtree must produce */
};

struct walk {
	const struct fwc_dag_source *src;
	const struct fwc_dag_output *out;
	struct fwc_errinfo *ei;
	uint64_t max, written, blocks, dag_size;
	struct frame st[FWC_DAG_MAX_DEPTH + 1];
	int depth; /* number of frames in use */
};

static const char *cidstr(char buf[FWC_CID_STR_MAX], const struct fwc_cid *c)
{
	if (fwc_cid_format(buf, FWC_CID_STR_MAX, c) < 0)
		snprintf(buf, FWC_CID_STR_MAX, "(unprintable CID)");
	return buf;
}

static void release(struct walk *w, const uint8_t *block)
{
	if (block && w->src->release)
		w->src->release(w->src->ctx, block);
}

static int emit(struct walk *w, const struct fwc_cid *cid, const uint8_t *p, size_t n)
{
	char cs[FWC_CID_STR_MAX];
	int rc;

	if (n == 0)
		return FWC_OK;
	if (n > w->max - w->written)
		return fwc_fail(w->ei, w->written, FWC_ERR_TOO_LARGE,
				"block %s takes the file past its limit of %llu bytes",
				cidstr(cs, cid), (unsigned long long)w->max);
	if (w->out && w->out->write && (rc = w->out->write(w->out->ctx, p, n)) < 0)
		return fwc_fail(w->ei, w->written, rc, "output refused the bytes of %s",
				cidstr(cs, cid));
	w->written += n;
	return FWC_OK;
}

/* Fetches and verifies the block for cid, which must produce `expect` file bytes (or any
 * number when has_expect is 0, for the root). Raw blocks are written at once; a dag-pb node
 * writes its Data and, when it has children, is pushed as a new frame. */
static int visit(struct walk *w, const struct fwc_cid *cid, uint64_t expect, int has_expect)
{
	char cs[FWC_CID_STR_MAX];
	const uint8_t *blk = NULL;
	size_t len = 0;
	struct fwc_dagpb_node node;
	struct fwc_unixfs_data u;
	struct fwc_unixfs_iter it;
	struct fwc_errinfo sub;
	uint64_t sum = 0, v;
	int rc;

	if ((rc = w->src->get(w->src->ctx, cid, &blk, &len)) < 0)
		return fwc_fail(w->ei, w->written, rc, "cannot fetch block %s", cidstr(cs, cid));
	if (blk == NULL && len > 0) {
		rc = fwc_fail(w->ei, w->written, FWC_ERR_ARG, "source returned no bytes for %s",
			      cidstr(cs, cid));
		goto fail;
	}
	if (len > FWC_DAG_MAX_BLOCK) {
		rc = fwc_fail(w->ei, w->written, FWC_ERR_TOO_LARGE,
			      "block %s is %zu bytes, more than %u", cidstr(cs, cid), len,
			      FWC_DAG_MAX_BLOCK);
		goto fail;
	}
	if (!fwc_cid_matches(cid, blk, len)) {
		rc = fwc_fail(w->ei, w->written, FWC_ERR_HASH_MISMATCH,
			      "block %s does not match its CID", cidstr(cs, cid));
		goto fail;
	}
	w->blocks++;
	w->dag_size += len;
	if (cid->codec == FWC_CID_CODEC_RAW) {
		if (has_expect && len != expect) {
			rc = fwc_fail(w->ei, w->written, FWC_ERR_MALFORMED,
				      "raw block %s has %zu bytes, its parent says %llu",
				      cidstr(cs, cid), len, (unsigned long long)expect);
			goto fail;
		}
		rc = emit(w, cid, blk, len);
		goto fail; /* not a failure: release the block either way */
	}
	if ((rc = fwc_dagpb_decode(&node, blk, len, &sub)) < 0) {
		rc = fwc_fail(w->ei, w->written, rc, "block %s: %.100s", cidstr(cs, cid), sub.msg);
		goto fail;
	}
	if (!node.has_data) {
		rc = fwc_fail(w->ei, w->written, FWC_ERR_MALFORMED,
			      "block %s is dag-pb without UnixFS Data", cidstr(cs, cid));
		goto fail;
	}
	if ((rc = fwc_unixfs_data_decode(&u, node.data, node.data_len, &sub)) < 0) {
		rc = fwc_fail(w->ei, w->written, rc, "block %s: %.100s", cidstr(cs, cid), sub.msg);
		goto fail;
	}
	if (u.type != FWC_UNIXFS_FILE && u.type != FWC_UNIXFS_RAW) {
		rc = fwc_fail(w->ei, w->written, FWC_ERR_UNSUPPORTED,
			      "block %s is a UnixFS type %llu node, not a file", cidstr(cs, cid),
			      (unsigned long long)u.type);
		goto fail;
	}
	if (u.nblocksizes != node.nlinks) {
		rc = fwc_fail(w->ei, w->written, FWC_ERR_MALFORMED,
			      "block %s has %zu links but %zu blocksizes", cidstr(cs, cid),
			      node.nlinks, u.nblocksizes);
		goto fail;
	}
	fwc_unixfs_blocksizes_init(&it, &u);
	while (fwc_unixfs_blocksizes_next(&it, &v) == 1) {
		if (v == 0 || v > UINT64_MAX - sum) {
			rc = fwc_fail(w->ei, w->written, FWC_ERR_MALFORMED,
				      "block %s has a blocksize of %llu", cidstr(cs, cid),
				      (unsigned long long)v);
			goto fail;
		}
		sum += v;
	}
	if (u.data_len > UINT64_MAX - sum ||
	    (u.has_filesize && u.filesize != sum + u.data_len)) {
		rc = fwc_fail(w->ei, w->written, FWC_ERR_MALFORMED,
			      "block %s: filesize %llu is not Data %zu + blocksizes %llu",
			      cidstr(cs, cid), (unsigned long long)u.filesize, u.data_len,
			      (unsigned long long)sum);
		goto fail;
	}
	sum += u.data_len;
	if (has_expect && sum != expect) {
		rc = fwc_fail(w->ei, w->written, FWC_ERR_MALFORMED,
			      "block %s holds %llu file bytes, its parent says %llu",
			      cidstr(cs, cid), (unsigned long long)sum,
			      (unsigned long long)expect);
		goto fail;
	}
	if (sum > w->max - w->written) {
		rc = fwc_fail(w->ei, w->written, FWC_ERR_TOO_LARGE,
			      "file is %llu bytes, more than the limit of %llu",
			      (unsigned long long)(w->written + sum), (unsigned long long)w->max);
		goto fail;
	}
	if ((rc = emit(w, cid, u.data, u.data_len)) < 0 || node.nlinks == 0)
		goto fail; /* a leaf (or an error): done with this block */
	if (w->depth >= FWC_DAG_MAX_DEPTH) {
		rc = fwc_fail(w->ei, w->written, FWC_ERR_TOO_DEEP,
			      "block %s is deeper than %d levels", cidstr(cs, cid),
			      FWC_DAG_MAX_DEPTH);
		goto fail;
	}
	{
		struct frame *f = &w->st[w->depth++];

		f->cid = *cid;
		f->block = blk;
		fwc_dagpb_iter_init(&f->links, &node);
		fwc_unixfs_blocksizes_init(&f->sizes, &u);
		f->start = w->written - u.data_len;
		f->total = sum;
	}
	return FWC_OK;
fail:
	release(w, blk);
	return rc;
}

int fwc_dag_reassemble(struct fwc_dag_result *res, const struct fwc_dag_source *src,
		       const struct fwc_dag_output *out, const struct fwc_cid *root,
		       uint64_t max_size, struct fwc_errinfo *ei)
{
	struct walk w;
	int rc;

	if (src == NULL || src->get == NULL || root == NULL)
		return FWC_ERR_ARG;
	memset(&w, 0, sizeof(w));
	w.src = src;
	w.out = out;
	w.ei = ei;
	w.max = max_size;
	rc = visit(&w, root, 0, 0);
	while (rc == FWC_OK && w.depth > 0) {
		struct frame *f = &w.st[w.depth - 1];
		struct fwc_dagpb_link l;
		uint64_t bs;
		int more = fwc_dagpb_iter_next(&f->links, &l);

		if (more < 0 || (more == 1 && fwc_unixfs_blocksizes_next(&f->sizes, &bs) != 1)) {
			rc = FWC_ERR_MALFORMED; /* validated bytes: cannot happen */
			break;
		}
		if (more == 1) {
			rc = visit(&w, &l.cid, bs, 1);
			continue;
		}
		/* All children done: they produced exactly what the blocksizes promised. */
		if (w.written - f->start != f->total) {
			char cs[FWC_CID_STR_MAX];

			rc = fwc_fail(ei, w.written, FWC_ERR_MALFORMED,
				      "block %s produced %llu bytes, not %llu", cidstr(cs, &f->cid),
				      (unsigned long long)(w.written - f->start),
				      (unsigned long long)f->total);
			break;
		}
		release(&w, f->block);
		f->block = NULL;
		w.depth--;
	}
	while (w.depth > 0) {
		release(&w, w.st[w.depth - 1].block);
		w.depth--;
	}
	if (rc < 0)
		return rc;
	if (res) {
		res->size = w.written;
		res->blocks = w.blocks;
		res->dag_size = w.dag_size;
	}
	return FWC_OK;
}
