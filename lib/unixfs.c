/* Streaming UnixFS importer reproducing Kubo's `ipfs add` DAG (docs/formats/unixfs.md).
 *
 * Kubo's balanced builder fills a node with up to 174 children and, while data remains, makes
 * the full tree the first child of a new, one level deeper root. The same tree comes out of a
 * stream with one pending (partly filled) node per level: a leaf is appended to level 0; a
 * level is turned into a block only when it is full AND another child arrives for it (so a full
 * level stays pending until we know more data follows — exactly when Kubo grows the tree); at
 * the end the pending levels are closed bottom-up and the highest one is the root. A file of
 * one chunk has no level-1 node: its leaf is the root.
 *
 * Speed: each input byte is hashed once for its leaf and once for the flat SHA-256. dag-pb
 * leaves are built in place around the chunk (the chunk buffer has headroom for the protobuf
 * header and room for the trailing filesize), so no byte is copied twice; with raw leaves, whole
 * chunks are hashed straight from the caller's buffer without copying at all. */
#include "fwchain/unixfs.h"

#include <stdlib.h>
#include <string.h>

#include "fwchain/dagpb.h"
#include "fwchain/sha256.h"

#define HEADROOM 32 /* 0a varint(ulen) 08 02 12 varint(dlen) is at most 24 bytes */
#define TAILROOM 16 /* 18 varint(dlen) is at most 11 bytes */
#define MAX_LEVELS 64

struct entry {
	struct fwc_cid cid;
	uint64_t tsize; /* bytes of all blocks under and including this one */
	uint64_t fsize; /* file bytes under this one */
};

struct fwc_unixfs_importer {
	struct fwc_unixfs_options opt;
	struct fwc_unixfs_sink sink;
	struct fwc_sha256 flat, blockh;
	uint8_t *chunk;	       /* HEADROOM + chunk_size + TAILROOM */
	size_t fill;	       /* bytes in chunk + HEADROOM */
	struct entry *lv[MAX_LEVELS];
	size_t nlv[MAX_LEVELS];
	struct fwc_dagpb_link *links; /* scratch for encoding one node */
	uint8_t *ubuf, *nbuf;	      /* scratch: UnixFS message, encoded node */
	size_t ucap, ncap;
	uint64_t size, leaves, blocks;
	int failed, finished;
};

void fwc_unixfs_options_default(struct fwc_unixfs_options *opt, unsigned cid_version)
{
	memset(opt, 0, sizeof(*opt));
	opt->cid_version = cid_version;
	opt->raw_leaves = cid_version == 1;
	opt->chunk_size = FWC_UNIXFS_CHUNK_SIZE;
	opt->max_links = FWC_UNIXFS_MAX_LINKS;
}

void fwc_unixfs_importer_free(struct fwc_unixfs_importer *im)
{
	if (im == NULL)
		return;
	fwc_sha256_cleanup(&im->flat);
	fwc_sha256_cleanup(&im->blockh);
	for (int i = 0; i < MAX_LEVELS; i++)
		free(im->lv[i]);
	free(im->chunk);
	free(im->links);
	free(im->ubuf);
	free(im->nbuf);
	free(im);
}

int fwc_unixfs_importer_new(struct fwc_unixfs_importer **out,
			    const struct fwc_unixfs_options *opt,
			    const struct fwc_unixfs_sink *sink)
{
	struct fwc_unixfs_importer *im;
	struct fwc_unixfs_options o;
	int rc = FWC_ERR_NOMEM;

	if (out == NULL)
		return FWC_ERR_ARG;
	if (opt == NULL)
		fwc_unixfs_options_default(&o, 1);
	else
		o = *opt;
	if (o.chunk_size == 0)
		o.chunk_size = FWC_UNIXFS_CHUNK_SIZE;
	if (o.max_links == 0)
		o.max_links = FWC_UNIXFS_MAX_LINKS;
	if (o.cid_version > 1 || o.chunk_size > FWC_UNIXFS_MAX_CHUNK || o.max_links < 2 ||
	    o.max_links > FWC_DAGPB_MAX_LINKS)
		return FWC_ERR_ARG;
	im = calloc(1, sizeof(*im));
	if (im == NULL)
		return FWC_ERR_NOMEM;
	im->opt = o;
	if (sink)
		im->sink = *sink;
	im->fill = HEADROOM;
	/* A link is at most 1+1 + 1+1+36 + 1+1 + 1+10 bytes; blocksizes at most 11 each. */
	im->ucap = 32 + 11 * o.max_links;
	im->ncap = 64 * o.max_links + im->ucap + 16;
	im->chunk = malloc(HEADROOM + o.chunk_size + TAILROOM);
	im->links = calloc(o.max_links, sizeof(*im->links));
	im->ubuf = malloc(im->ucap);
	im->nbuf = malloc(im->ncap);
	if (im->chunk == NULL || im->links == NULL || im->ubuf == NULL || im->nbuf == NULL)
		goto out;
	if ((rc = fwc_sha256_init(&im->flat)) < 0 || (rc = fwc_sha256_init(&im->blockh)) < 0)
		goto out;
	*out = im;
	return FWC_OK;
out:
	fwc_unixfs_importer_free(im);
	return rc;
}

/* Hashes a finished block, names it and hands it to the sink. */
static int emit_block(struct fwc_unixfs_importer *im, struct fwc_cid *cid, unsigned version,
		      uint64_t codec, const uint8_t *block, size_t len)
{
	int rc;

	memset(cid, 0, sizeof(*cid));
	cid->version = (uint8_t)version;
	cid->codec = codec;
	cid->mh_code = FWC_MH_SHA2_256;
	if ((rc = fwc_sha256_update(&im->blockh, block, len)) < 0 ||
	    (rc = fwc_sha256_final(&im->blockh, cid->digest)) < 0)
		return rc;
	im->blocks++;
	if (im->sink.emit)
		return im->sink.emit(im->sink.ctx, cid, block, len);
	return FWC_OK;
}

static int add_link(struct fwc_unixfs_importer *im, int h, const struct entry *e);

/* Turns pending level h into one dag-pb block and adds it as a child of level h+1. */
static int flush_level(struct fwc_unixfs_importer *im, int h, struct entry *node_out)
{
	struct fwc_unixfs_data u;
	struct entry e;
	size_t n = im->nlv[h], ulen, nlen;
	int rc;

	memset(&e, 0, sizeof(e));
	memset(&u, 0, sizeof(u));
	for (size_t i = 0; i < n; i++) {
		struct fwc_dagpb_link *l = &im->links[i];

		memset(l, 0, sizeof(*l));
		l->cid = im->lv[h][i].cid;
		l->name = (const uint8_t *)"";
		l->has_name = 1; /* Kubo always writes an empty Name */
		l->tsize = im->lv[h][i].tsize;
		l->has_tsize = 1;
		e.fsize += im->lv[h][i].fsize;
		e.tsize += im->lv[h][i].tsize;
	}
	/* The UnixFS message: Type=File, filesize, then one blocksizes entry per child. */
	u.type = FWC_UNIXFS_FILE;
	u.filesize = e.fsize;
	u.has_filesize = 1;
	if ((rc = fwc_unixfs_data_encode(im->ubuf, im->ucap, &ulen, &u, NULL, 0)) < 0)
		return rc;
	for (size_t i = 0; i < n; i++) {
		uint64_t v = im->lv[h][i].fsize;

		im->ubuf[ulen++] = 0x20;
		ulen += fwc_pb_varint_put(im->ubuf + ulen, v);
	}
	rc = fwc_dagpb_encode(im->nbuf, im->ncap, &nlen, im->links, n, im->ubuf, ulen, 1);
	if (rc < 0)
		return rc;
	rc = emit_block(im, &e.cid, im->opt.cid_version, FWC_CID_CODEC_DAGPB, im->nbuf, nlen);
	if (rc < 0)
		return rc;
	e.tsize += nlen;
	im->nlv[h] = 0;
	if (node_out) {
		*node_out = e;
		return FWC_OK;
	}
	return add_link(im, h + 1, &e);
}

static int add_link(struct fwc_unixfs_importer *im, int h, const struct entry *e)
{
	int rc;

	if (h >= MAX_LEVELS)
		return FWC_ERR_TOO_DEEP; /* unreachable: 2^64 bytes need fewer levels */
	if (im->lv[h] == NULL) {
		im->lv[h] = malloc(im->opt.max_links * sizeof(struct entry));
		if (im->lv[h] == NULL)
			return FWC_ERR_NOMEM;
	}
	if (im->nlv[h] == im->opt.max_links && (rc = flush_level(im, h, NULL)) < 0)
		return rc;
	im->lv[h][im->nlv[h]++] = *e;
	return FWC_OK;
}

/* Closes one leaf of dlen bytes at data (inside im->chunk + HEADROOM, or, for raw leaves, any
 * caller buffer) and links it into level 0. */
static int leaf_done(struct fwc_unixfs_importer *im, const uint8_t *data, size_t dlen)
{
	struct entry e;
	int rc;

	memset(&e, 0, sizeof(e));
	e.fsize = dlen;
	if (im->opt.raw_leaves) {
		rc = emit_block(im, &e.cid, 1, FWC_CID_CODEC_RAW, data, dlen);
		e.tsize = dlen;
	} else {
		/* PBNode{Data: UnixFS{Type: File, Data: chunk (omitted when empty), filesize}} */
		uint8_t *d = (uint8_t *)data, hdr[HEADROOM], *start;
		size_t hl = 0, tl = 0, ulen, blen;

		ulen = 2 + (dlen ? 1 + fwc_pb_varint_len(dlen) + dlen : 0) + 1 +
		       fwc_pb_varint_len(dlen);
		hdr[hl++] = 0x0a;
		hl += fwc_pb_varint_put(hdr + hl, ulen);
		hdr[hl++] = 0x08;
		hdr[hl++] = FWC_UNIXFS_FILE;
		if (dlen) {
			hdr[hl++] = 0x12;
			hl += fwc_pb_varint_put(hdr + hl, dlen);
		}
		start = d - hl;
		memcpy(start, hdr, hl);
		d[dlen + tl++] = 0x18;
		tl += fwc_pb_varint_put(d + dlen + tl, dlen);
		blen = hl + dlen + tl;
		rc = emit_block(im, &e.cid, im->opt.cid_version, FWC_CID_CODEC_DAGPB, start, blen);
		e.tsize = blen;
	}
	if (rc < 0)
		return rc;
	im->leaves++;
	return add_link(im, 0, &e);
}

int fwc_unixfs_importer_feed(struct fwc_unixfs_importer *im, const void *data, size_t len)
{
	const uint8_t *p = data;
	size_t cs;
	int rc;

	if (im == NULL || (data == NULL && len > 0))
		return FWC_ERR_ARG;
	if (im->failed || im->finished)
		return FWC_ERR_STATE;
	if ((rc = fwc_sha256_update(&im->flat, data, len)) < 0)
		goto out;
	im->size += len;
	cs = im->opt.chunk_size;
	while (len > 0) {
		size_t have = im->fill - HEADROOM, take;

		/* A chunk can never be the last one while more input follows, except that Kubo
		 * closes a full chunk right away; so do we. */
		if (have == 0 && im->opt.raw_leaves && len >= cs) {
			if ((rc = leaf_done(im, p, cs)) < 0)
				goto out;
			p += cs;
			len -= cs;
			continue;
		}
		take = cs - have < len ? cs - have : len;
		memcpy(im->chunk + im->fill, p, take);
		im->fill += take;
		p += take;
		len -= take;
		if (im->fill - HEADROOM == cs) {
			if ((rc = leaf_done(im, im->chunk + HEADROOM, cs)) < 0)
				goto out;
			im->fill = HEADROOM;
		}
	}
	return FWC_OK;
out:
	im->failed = 1;
	return rc;
}

int fwc_unixfs_importer_finish(struct fwc_unixfs_importer *im, struct fwc_unixfs_result *res)
{
	struct fwc_unixfs_result r;
	struct entry root;
	int rc, h;

	if (im == NULL || res == NULL)
		return FWC_ERR_ARG;
	if (im->failed || im->finished)
		return FWC_ERR_STATE;
	im->finished = 1;
	/* The last partial chunk; an empty file is one empty leaf, as in Kubo. */
	if (im->fill > HEADROOM || im->leaves == 0) {
		if ((rc = leaf_done(im, im->chunk + HEADROOM, im->fill - HEADROOM)) < 0)
			goto out;
		im->fill = HEADROOM;
	}
	for (h = 0;; h++) {
		int higher = 0;

		for (int k = h + 1; k < MAX_LEVELS; k++)
			higher |= im->nlv[k] > 0;
		if (higher) {
			if ((rc = flush_level(im, h, NULL)) < 0)
				goto out;
			continue;
		}
		if (h == 0 && im->nlv[0] == 1)
			root = im->lv[0][0]; /* one chunk: the leaf is the file */
		else if ((rc = flush_level(im, h, &root)) < 0)
			goto out;
		break;
	}
	memset(&r, 0, sizeof(r));
	r.root = root.cid;
	r.size = im->size;
	r.blocks = im->blocks;
	r.dag_size = root.tsize;
	if ((rc = fwc_sha256_final(&im->flat, r.sha256)) < 0)
		goto out;
	*res = r;
	return FWC_OK;
out:
	im->failed = 1;
	return rc;
}

int fwc_unixfs_import(struct fwc_unixfs_result *res, const struct fwc_unixfs_options *opt,
		      const struct fwc_unixfs_sink *sink, const void *data, size_t len)
{
	struct fwc_unixfs_importer *im = NULL;
	int rc;

	if ((rc = fwc_unixfs_importer_new(&im, opt, sink)) < 0)
		return rc;
	if ((rc = fwc_unixfs_importer_feed(im, data, len)) == FWC_OK)
		rc = fwc_unixfs_importer_finish(im, res);
	fwc_unixfs_importer_free(im);
	return rc;
}
