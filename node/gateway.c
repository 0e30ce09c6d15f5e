/* fwchaind gateway planner: GET/HEAD /ipfs/{cid} as status + headers + body segments.
 *
 * Design: plan first, send later. Everything that can fail — a bad CID, format or scope, a
 * missing block anywhere in the DAG, a UnixFS node that is not a file, an unsatisfiable range
 * — is found before the first byte goes out, so a client never receives a 200 that breaks off.
 * The body is described, not copied: CAR framing is a few literal bytes, everything else is a
 * (block digest, offset, length) range of a stored block file. For a plain UnixFS file the plan
 * reads only the interior dag-pb nodes; raw leaves are sized by stat and dag-pb leaves by
 * decoding them, and each leaf's data is a range of its file, so the transport can sendfile(2)
 * it. A Range header then only cuts the segment list. The structure checks mirror lib/dag.c
 * (blocksizes = children's sizes, filesize = data + blocksizes, file/raw nodes only, bounded
 * depth): the store verified every block's hash when it was put, and the client verifies
 * again, so serving does not re-hash leaves. Trustless gateway spec: specs.ipfs.tech. */
#include "gateway.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "fwchain/car.h"
#include "fwchain/dag.h"
#include "fwchain/dagpb.h"
#include "fwchain/multibase.h"
#include "fwchain/sha256.h"
#include "pins.h"

#include <sodium.h>

enum scope { SCOPE_ALL, SCOPE_ENTITY, SCOPE_BLOCK };

static int plan_fail(struct node_gw_plan *p, unsigned status, const char *code, const char *fmt,
                     ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

static int plan_fail(struct node_gw_plan *p, unsigned status, const char *code, const char *fmt,
                     ...)
{
	va_list ap;

	p->status = status;
	snprintf(p->error_code, sizeof(p->error_code), "%s", code);
	va_start(ap, fmt);
	vsnprintf(p->error_msg, sizeof(p->error_msg), fmt, ap);
	va_end(ap);
	p->nsegs = 0;
	p->length = 0;
	switch (status) {
	case 400:
		return FWC_ERR_MALFORMED;
	case 404:
		return FWC_ERR_NOT_FOUND;
	case 406:
	case 501:
		return FWC_ERR_UNSUPPORTED;
	case 416:
		return FWC_ERR_RANGE;
	default:
		return FWC_ERR_IO;
	}
}

static int seg_push(struct node_gw_plan *p, int literal, const uint8_t *digest, uint64_t off,
                    uint64_t len)
{
	struct node_gw_segment *s;

	if (len == 0)
		return FWC_OK;
	if (p->nsegs == p->capsegs) {
		size_t cap = p->capsegs ? 2 * p->capsegs : 16;
		struct node_gw_segment *ns = realloc(p->segs, cap * sizeof(*ns));

		if (ns == NULL)
			return FWC_ERR_NOMEM;
		p->segs = ns;
		p->capsegs = cap;
	}
	s = &p->segs[p->nsegs++];
	memset(s, 0, sizeof(*s));
	s->literal = literal;
	if (digest != NULL)
		memcpy(s->digest, digest, FWC_CID_DIGEST_LEN);
	s->off = off;
	s->len = len;
	s->start = p->length;
	p->length += len;
	return FWC_OK;
}

static int lit_push(struct node_gw_plan *p, const uint8_t *data, size_t len)
{
	if (len > p->litcap - p->litlen) {
		size_t cap = p->litcap ? p->litcap : 256;
		uint8_t *nl;

		while (cap - p->litlen < len)
			cap *= 2;
		nl = realloc(p->lit, cap);
		if (nl == NULL)
			return FWC_ERR_NOMEM;
		p->lit = nl;
		p->litcap = cap;
	}
	memcpy(p->lit + p->litlen, data, len);
	p->litlen += len;
	return seg_push(p, 1, NULL, p->litlen - len, len);
}

/* ---- request parsing -------------------------------------------------------------------- */

/* Does the media range list accept name (case-insensitive type, parameters after ';')? Sets
 * *params to the parameter text of the first match. Returns its position in the list, or -1. */
static int accept_pos(const char *accept, const char *name, const char **params)
{
	size_t nl = strlen(name);
	int idx = 0;

	for (const char *p = accept; *p; idx++) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		const char *q = p;

		while (q < p + len && (*q == ' ' || *q == '\t'))
			q++;
		if ((size_t)(p + len - q) >= nl && strncasecmp(q, name, nl) == 0 &&
		    (q + nl == p + len || q[nl] == ';' || q[nl] == ' ')) {
			*params = q + nl;
			return idx;
		}
		if (end == NULL)
			break;
		p = end + 1;
	}
	return -1;
}

static int pick_format(struct node_gw_plan *p, const struct node_gw_request *req)
{
	const char *rp = NULL, *cp = NULL;
	int r, c;

	if (req->format != NULL) {
		if (strcmp(req->format, "raw") == 0)
			p->format = NODE_GW_RAW;
		else if (strcmp(req->format, "car") == 0)
			p->format = NODE_GW_CAR;
		else
			return plan_fail(p, 400, "bad_request",
			                 "format must be raw or car (got \"%.40s\")", req->format);
		return FWC_OK;
	}
	p->format = NODE_GW_FILE;
	if (req->accept == NULL)
		return FWC_OK;
	r = accept_pos(req->accept, "application/vnd.ipld.raw", &rp);
	c = accept_pos(req->accept, "application/vnd.ipld.car", &cp);
	if (c >= 0 && (r < 0 || c < r)) {
		const char *v = strstr(cp, "version=");
		const char *stop = strchr(cp, ',');

		if (v != NULL && (stop == NULL || v < stop) &&
		    !(v[8] == '1' && (v[9] == '\0' || strchr(";, ", v[9]) != NULL)))
			return plan_fail(p, 406, "not_acceptable", "only CAR version 1 is served");
		p->format = NODE_GW_CAR;
	} else if (r >= 0) {
		p->format = NODE_GW_RAW;
	}
	return FWC_OK;
}

/* Parse a single "bytes=" range against total. 1 = satisfiable [*a, *b]; 0 = no usable Range
 * (absent, another unit, several ranges, bad syntax: RFC 9110 lets a server ignore it);
 * -1 = unsatisfiable. */
static int parse_range(const char *h, uint64_t total, uint64_t *a, uint64_t *b)
{
	uint64_t x = 0, y = 0;
	int hx = 0, hy = 0, dx = 0, dy = 0;
	const char *p;

	if (h == NULL || strncasecmp(h, "bytes=", 6) != 0 || strchr(h, ',') != NULL)
		return 0;
	p = h + 6;
	while (*p == ' ')
		p++;
	for (; isdigit((unsigned char)*p); p++, dx++) {
		if (dx == 19)
			return 0;
		x = x * 10 + (uint64_t)(*p - '0');
		hx = 1;
	}
	if (*p++ != '-')
		return 0;
	for (; isdigit((unsigned char)*p); p++, dy++) {
		if (dy == 19)
			return 0;
		y = y * 10 + (uint64_t)(*p - '0');
		hy = 1;
	}
	while (*p == ' ')
		p++;
	if (*p != '\0' || (!hx && !hy) || (hx && hy && y < x))
		return 0;
	if (!hx) { /* suffix: the last y bytes */
		if (y == 0 || total == 0)
			return -1;
		*a = total - (y < total ? y : total);
		*b = total - 1;
		return 1;
	}
	if (x >= total)
		return -1;
	*a = x;
	*b = hy && y < total ? y : total - 1;
	return 1;
}

/* Keep only body bytes [a, b]. */
static void cut(struct node_gw_plan *p, uint64_t a, uint64_t b)
{
	size_t n = 0;
	uint64_t pos = 0;

	for (size_t i = 0; i < p->nsegs; i++) {
		struct node_gw_segment s = p->segs[i];
		uint64_t lo = s.start, hi = s.start + s.len; /* [lo, hi) */

		if (hi <= a || lo > b)
			continue;
		if (lo < a) {
			s.off += a - lo;
			lo = a;
		}
		if (hi > b + 1)
			hi = b + 1;
		s.len = hi - lo;
		s.start = pos;
		pos += s.len;
		p->segs[n++] = s;
	}
	p->nsegs = n;
	p->length = pos;
}

/* The filename for Content-Disposition: refuse control characters, keep a quoted ASCII form
 * (anything else becomes '_') and, when that changed it, an RFC 8187 UTF-8 form. */
static int disposition(struct node_gw_plan *p, const char *kind, const char *name)
{
	char ascii[NODE_GW_FILENAME_MAX + 1], ext[3 * NODE_GW_FILENAME_MAX + 1];
	size_t n = strlen(name), e = 0;
	int changed = 0;

	if (n == 0 || n > NODE_GW_FILENAME_MAX)
		return plan_fail(p, 400, "bad_request", "filename must be 1..%d bytes",
		                 NODE_GW_FILENAME_MAX);
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)name[i];

		if (ch < 0x20 || ch == 0x7f)
			return plan_fail(p, 400, "bad_request",
			                 "filename contains a control character");
		if (isalnum(ch) || strchr(" ._-()+,@", ch) != NULL) {
			ascii[i] = (char)ch;
		} else {
			ascii[i] = '_';
			changed = 1;
		}
		if (isalnum(ch) || strchr("!#$&+-.^_`|~", ch) != NULL) {
			ext[e++] = (char)ch;
		} else {
			snprintf(ext + e, 4, "%%%02X", ch);
			e += 3;
		}
	}
	ascii[n] = '\0';
	ext[e] = '\0';
	if (changed)
		snprintf(p->content_disposition, sizeof(p->content_disposition),
		         "%s; filename=\"%s\"; filename*=UTF-8''%s", kind, ascii, ext);
	else
		snprintf(p->content_disposition, sizeof(p->content_disposition),
		         "%s; filename=\"%s\"", kind, ascii);
	return FWC_OK;
}

/* ---- bodies ----------------------------------------------------------------------------- */

static int car_visit(void *ctx, const struct fwc_cid *cid, uint64_t len)
{
	struct node_gw_plan *p = ctx;
	uint8_t head[FWC_CAR_SECTION_OVERHEAD];
	size_t hl;
	int rc;

	if ((rc = fwc_car_section_head(head, sizeof(head), &hl, cid, (size_t)len)) < 0 ||
	    (rc = lit_push(p, head, hl)) < 0)
		return rc;
	return seg_push(p, 0, cid->digest, 0, len);
}

struct file_walk {
	struct node_gw_plan *p;
	struct node_bs *bs;
	uint8_t *bufs[FWC_DAG_MAX_DEPTH + 1];
	size_t bufcap;
	struct fwc_cid bad; /* the block a failure is about */
	char why[160];
};

/* Append the file bytes under cid; expect = the size its parent's blocksizes promise. */
static int file_node(struct file_walk *w, const struct fwc_cid *cid, int has_expect,
                     uint64_t expect, unsigned depth)
{
	struct fwc_dagpb_node node;
	struct fwc_unixfs_data u;
	struct fwc_dagpb_iter li;
	struct fwc_dagpb_link link;
	struct fwc_unixfs_iter bi;
	struct fwc_errinfo sub;
	uint64_t sum, bsz, blen;
	uint8_t *buf;
	size_t len;
	int rc;

	w->bad = *cid;
	if (depth > FWC_DAG_MAX_DEPTH) {
		snprintf(w->why, sizeof(w->why), "deeper than %d levels", FWC_DAG_MAX_DEPTH);
		return FWC_ERR_TOO_DEEP;
	}
	if (cid->codec == FWC_CID_CODEC_RAW) {
		rc = node_bs_has(w->bs, cid, &blen);
		if (rc <= 0)
			return rc == 0 ? FWC_ERR_NOT_FOUND : rc;
		if (has_expect && blen != expect) {
			snprintf(w->why, sizeof(w->why), "raw leaf of %llu bytes, parent says %llu",
			         (unsigned long long)blen, (unsigned long long)expect);
			return FWC_ERR_MALFORMED;
		}
		return seg_push(w->p, 0, cid->digest, 0, blen);
	}
	if (w->bufs[depth] == NULL && (w->bufs[depth] = malloc(w->bufcap)) == NULL)
		return FWC_ERR_NOMEM;
	buf = w->bufs[depth];
	rc = node_bs_read(w->bs, cid, buf, w->bufcap, &len, &sub);
	if (rc < 0) {
		snprintf(w->why, sizeof(w->why), "%s", sub.msg);
		return rc;
	}
	rc = fwc_dagpb_decode(&node, buf, len, &sub);
	if (rc == FWC_OK && !node.has_data) {
		rc = FWC_ERR_MALFORMED;
		snprintf(sub.msg, sizeof(sub.msg), "no Data field");
	}
	if (rc == FWC_OK)
		rc = fwc_unixfs_data_decode(&u, node.data, node.data_len, &sub);
	if (rc < 0) {
		snprintf(w->why, sizeof(w->why), "not a UnixFS node we serve: %s", sub.msg);
		return rc;
	}
	if (u.type != FWC_UNIXFS_FILE && u.type != FWC_UNIXFS_RAW) {
		snprintf(w->why, sizeof(w->why), "a UnixFS %s, not a file",
		         u.type == FWC_UNIXFS_DIRECTORY   ? "directory"
		         : u.type == FWC_UNIXFS_HAMTSHARD ? "sharded directory"
		         : u.type == FWC_UNIXFS_SYMLINK   ? "symlink"
		                                          : "metadata node");
		return FWC_ERR_UNSUPPORTED;
	}
	if (node.nlinks != u.nblocksizes) {
		snprintf(w->why, sizeof(w->why), "%zu links but %zu blocksizes", node.nlinks,
		         u.nblocksizes);
		return FWC_ERR_MALFORMED;
	}
	sum = u.has_data ? u.data_len : 0;
	if (u.has_data &&
	    (rc = seg_push(w->p, 0, cid->digest, (uint64_t)(u.data - buf), u.data_len)) < 0)
		return rc;
	fwc_dagpb_iter_init(&li, &node);
	fwc_unixfs_blocksizes_init(&bi, &u);
	while ((rc = fwc_dagpb_iter_next(&li, &link)) == 1) {
		if (fwc_unixfs_blocksizes_next(&bi, &bsz) != 1)
			return FWC_ERR_MALFORMED; /* counts were checked equal */
		if ((rc = file_node(w, &link.cid, 1, bsz, depth + 1)) < 0)
			return rc;
		sum += bsz;
	}
	if (rc < 0)
		return rc;
	w->bad = *cid;
	if ((u.has_filesize && u.filesize != sum) || (has_expect && sum != expect)) {
		snprintf(w->why, sizeof(w->why), "sizes do not add up (%llu bytes below it)",
		         (unsigned long long)sum);
		return FWC_ERR_MALFORMED;
	}
	return FWC_OK;
}

static int plan_file(struct node_gw_plan *p, struct node_bs *bs, const struct fwc_cid *root)
{
	struct file_walk w;
	char txt[FWC_CID_STR_MAX];
	int rc;

	memset(&w, 0, sizeof(w));
	w.p = p;
	w.bs = bs;
	w.bufcap = node_bs_max_block(bs);
	rc = file_node(&w, root, 0, 0, 0);
	for (int i = 0; i <= FWC_DAG_MAX_DEPTH; i++)
		free(w.bufs[i]);
	if (rc == FWC_OK)
		return FWC_OK;
	if (fwc_cid_format(txt, sizeof(txt), &w.bad) < 0)
		txt[0] = '\0';
	if (rc == FWC_ERR_NOT_FOUND)
		return plan_fail(p, 404, "not_found", "block %s is not in the store", txt);
	if (rc == FWC_ERR_UNSUPPORTED)
		return plan_fail(p, 501, "not_implemented",
		                 "%s is %s; only files are served as bytes (use ?format=car)", txt,
		                 w.why);
	if (rc == FWC_ERR_NOMEM)
		return plan_fail(p, 500, "internal", "out of memory");
	return plan_fail(p, 500, "bad_dag", "cannot serve %s: %s", txt,
	                 w.why[0] ? w.why : fwc_strerror(rc));
}

/* dag-scope=entity on a directory is the directory node itself; on a file, the whole file. */
static int is_directory(struct node_bs *bs, const struct fwc_cid *root)
{
	struct fwc_dagpb_node node;
	struct fwc_unixfs_data u;
	uint8_t *blk = NULL;
	size_t len;
	int dir = 0;

	if (root->codec != FWC_CID_CODEC_DAGPB || node_bs_get(bs, root, &blk, &len, NULL) < 0)
		return 0;
	if (fwc_dagpb_decode(&node, blk, len, NULL) == FWC_OK && node.has_data &&
	    fwc_unixfs_data_decode(&u, node.data, node.data_len, NULL) == FWC_OK)
		dir = u.type == FWC_UNIXFS_DIRECTORY || u.type == FWC_UNIXFS_HAMTSHARD;
	free(blk);
	return dir;
}

/* ---- entity-bytes ----------------------------------------------------------------------- */

/* "from:to" of the trustless gateway spec: from an integer (negative: from the end), to an
 * integer (negative: from the end) or "*" (the end). 0 on success. */
static int parse_entity_bytes(const char *s, int64_t *from, int64_t *to, int *to_end)
{
	const char *colon = strchr(s, ':');
	int64_t v[2] = {0, 0};

	if (colon == NULL)
		return -1;
	for (int k = 0; k < 2; k++) {
		const char *q = k == 0 ? s : colon + 1, *end = k == 0 ? colon : q + strlen(q);
		int neg = 0;
		size_t nd = 0;

		if (k == 1 && strcmp(q, "*") == 0) {
			*to_end = 1;
			break;
		}
		if (k == 1)
			*to_end = 0;
		if (q < end && *q == '-') {
			neg = 1;
			q++;
		}
		if (q == end || end - q > 18)
			return -1;
		for (; q < end; q++, nd++) {
			if (*q < '0' || *q > '9')
				return -1;
			v[k] = v[k] * 10 + (*q - '0');
		}
		if (neg)
			v[k] = -v[k];
	}
	*from = v[0];
	*to = v[1];
	return 0;
}

/* Digests already in the CAR (dups=n), keyed SipHash: open addressing. */
struct dig_set {
	uint8_t (*v)[FWC_CID_DIGEST_LEN];
	uint8_t *used;
	size_t cap, n;
	uint8_t key[crypto_shorthash_KEYBYTES];
};

static size_t dig_slot(const struct dig_set *d, const uint8_t *dg)
{
	uint8_t h[crypto_shorthash_BYTES];
	uint64_t x = 0;

	crypto_shorthash(h, dg, FWC_CID_DIGEST_LEN, d->key);
	for (int i = 0; i < 8; i++)
		x |= (uint64_t)h[i] << (8 * i);
	return (size_t)x & (d->cap - 1);
}

/* 1 added, 0 present, -1 out of memory. */
static int dig_add(struct dig_set *d, const uint8_t *dg)
{
	size_t i;

	if ((d->n + 1) * 2 > d->cap) {
		struct dig_set g = *d;

		g.cap = d->cap ? 2 * d->cap : 64;
		g.n = 0;
		g.v = calloc(g.cap, sizeof(*g.v));
		g.used = calloc(g.cap, 1);
		if (g.v == NULL || g.used == NULL) {
			free(g.v);
			free(g.used);
			return -1;
		}
		for (size_t k = 0; k < d->cap; k++)
			if (d->used[k]) {
				size_t j = dig_slot(&g, d->v[k]);

				while (g.used[j])
					j = (j + 1) & (g.cap - 1);
				memcpy(g.v[j], d->v[k], FWC_CID_DIGEST_LEN);
				g.used[j] = 1;
				g.n++;
			}
		free(d->v);
		free(d->used);
		*d = g;
	}
	for (i = dig_slot(d, dg); d->used[i]; i = (i + 1) & (d->cap - 1))
		if (memcmp(d->v[i], dg, FWC_CID_DIGEST_LEN) == 0)
			return 0;
	memcpy(d->v[i], dg, FWC_CID_DIGEST_LEN);
	d->used[i] = 1;
	d->n++;
	return 1;
}

struct range_walk {
	struct file_walk w;
	struct dig_set seen;
	uint64_t from, to; /* inclusive */
};

/* Emit the blocks needed to verify bytes [from, to] of the file under cid, whose bytes start
 * at file offset start: this block, then — depth first, in link order — the children whose
 * byte range meets [from, to]. */
static int range_node(struct range_walk *r, const struct fwc_cid *cid, uint64_t start,
                      unsigned depth)
{
	struct fwc_dagpb_node node;
	struct fwc_unixfs_data u;
	struct fwc_dagpb_iter li;
	struct fwc_dagpb_link link;
	struct fwc_unixfs_iter bi;
	struct fwc_errinfo sub;
	uint64_t pos, bsz, blen;
	uint8_t *buf;
	size_t len;
	int rc;

	r->w.bad = *cid;
	if (depth > FWC_DAG_MAX_DEPTH) {
		snprintf(r->w.why, sizeof(r->w.why), "deeper than %d levels", FWC_DAG_MAX_DEPTH);
		return FWC_ERR_TOO_DEEP;
	}
	rc = node_bs_has(r->w.bs, cid, &blen);
	if (rc <= 0)
		return rc == 0 ? FWC_ERR_NOT_FOUND : rc;
	if ((rc = dig_add(&r->seen, cid->digest)) < 0)
		return FWC_ERR_NOMEM;
	if (rc == 1 && (rc = car_visit(r->w.p, cid, blen)) < 0)
		return rc;
	if (cid->codec == FWC_CID_CODEC_RAW)
		return FWC_OK;
	if (r->w.bufs[depth] == NULL && (r->w.bufs[depth] = malloc(r->w.bufcap)) == NULL)
		return FWC_ERR_NOMEM;
	buf = r->w.bufs[depth];
	rc = node_bs_read(r->w.bs, cid, buf, r->w.bufcap, &len, &sub);
	if (rc == FWC_OK)
		rc = fwc_dagpb_decode(&node, buf, len, &sub);
	if (rc == FWC_OK && !node.has_data)
		rc = FWC_ERR_MALFORMED;
	if (rc == FWC_OK)
		rc = fwc_unixfs_data_decode(&u, node.data, node.data_len, &sub);
	if (rc == FWC_OK && node.nlinks != u.nblocksizes)
		rc = FWC_ERR_MALFORMED;
	if (rc < 0) {
		snprintf(r->w.why, sizeof(r->w.why), "not a UnixFS file node: %s",
		         rc == FWC_ERR_MALFORMED ? "links and blocksizes disagree" : sub.msg);
		return rc;
	}
	pos = start + (u.has_data ? u.data_len : 0);
	fwc_dagpb_iter_init(&li, &node);
	fwc_unixfs_blocksizes_init(&bi, &u);
	while (pos <= r->to && (rc = fwc_dagpb_iter_next(&li, &link)) == 1) {
		if (fwc_unixfs_blocksizes_next(&bi, &bsz) != 1)
			return FWC_ERR_MALFORMED;
		if (bsz > 0 && pos + bsz > r->from &&
		    (rc = range_node(r, &link.cid, pos, depth + 1)) < 0)
			return rc;
		pos += bsz;
	}
	return rc < 0 ? rc : FWC_OK;
}

/* The file's size and whether root is a UnixFS file (or a raw block): 1 file, 0 not a file
 * (the parameter is then ignored), < 0 an error. */
static int file_size(struct node_bs *bs, const struct fwc_cid *root, uint64_t root_len,
                     uint64_t *size)
{
	struct fwc_dagpb_node node;
	struct fwc_unixfs_data u;
	uint8_t *blk = NULL;
	size_t len;
	int rc, file = 0;

	if (root->codec == FWC_CID_CODEC_RAW) {
		*size = root_len;
		return 1;
	}
	if (root->codec != FWC_CID_CODEC_DAGPB)
		return 0;
	if ((rc = node_bs_get(bs, root, &blk, &len, NULL)) < 0)
		return rc;
	if (fwc_dagpb_decode(&node, blk, len, NULL) == FWC_OK && node.has_data &&
	    fwc_unixfs_data_decode(&u, node.data, node.data_len, NULL) == FWC_OK &&
	    (u.type == FWC_UNIXFS_FILE || u.type == FWC_UNIXFS_RAW)) {
		uint64_t sum = u.has_data ? u.data_len : 0, bsz;
		struct fwc_unixfs_iter bi;

		fwc_unixfs_blocksizes_init(&bi, &u);
		while (fwc_unixfs_blocksizes_next(&bi, &bsz) == 1)
			sum += bsz;
		*size = u.has_filesize ? u.filesize : sum;
		file = 1;
	}
	free(blk);
	return file;
}

static int plan_car_range(struct node_gw_plan *p, struct node_bs *bs, const struct fwc_cid *root,
                          uint64_t from, uint64_t to)
{
	struct range_walk r;
	char txt[FWC_CID_STR_MAX];
	int rc;

	memset(&r, 0, sizeof(r));
	r.w.p = p;
	r.w.bs = bs;
	r.w.bufcap = node_bs_max_block(bs);
	r.from = from;
	r.to = to;
	randombytes_buf(r.seen.key, sizeof(r.seen.key));
	rc = range_node(&r, root, 0, 0);
	for (int i = 0; i <= FWC_DAG_MAX_DEPTH; i++)
		free(r.w.bufs[i]);
	free(r.seen.v);
	free(r.seen.used);
	if (rc == FWC_OK)
		return FWC_OK;
	if (fwc_cid_format(txt, sizeof(txt), &r.w.bad) < 0)
		txt[0] = '\0';
	if (rc == FWC_ERR_NOT_FOUND)
		return plan_fail(p, 404, "not_found", "block %s is not in the store", txt);
	if (rc == FWC_ERR_NOMEM)
		return plan_fail(p, 500, "internal", "out of memory");
	return plan_fail(p, 500, "bad_dag", "cannot serve %s: %s", txt,
	                 r.w.why[0] ? r.w.why : fwc_strerror(rc));
}

static int plan_car(struct node_gw_plan *p, struct node_bs *bs, const struct fwc_cid *root,
                    enum scope scope, uint64_t root_len)
{
	uint8_t hdr[FWC_CAR_MAX_HEADER + FWC_VARINT_MAX];
	struct fwc_errinfo ei;
	struct fwc_cid missing;
	char txt[FWC_CID_STR_MAX];
	size_t hl;
	int rc;

	if ((rc = fwc_car_header_encode(hdr, sizeof(hdr), &hl, root, 1)) < 0 ||
	    (rc = lit_push(p, hdr, hl)) < 0)
		return plan_fail(p, 500, "internal", "cannot frame the CAR: %s", fwc_strerror(rc));
	if (scope == SCOPE_BLOCK || (scope == SCOPE_ENTITY && is_directory(bs, root))) {
		rc = car_visit(p, root, root_len);
		return rc < 0 ? plan_fail(p, 500, "internal", "out of memory") : FWC_OK;
	}
	rc = node_dag_walk(bs, root, NULL, car_visit, p, &missing, &ei);
	if (rc == FWC_OK)
		return FWC_OK;
	if (rc == FWC_ERR_NOT_FOUND) {
		if (fwc_cid_format(txt, sizeof(txt), &missing) < 0)
			txt[0] = '\0';
		return plan_fail(p, 404, "not_found", "block %s is not in the store", txt);
	}
	return plan_fail(p, 500, "bad_dag", "%s", ei.msg);
}

void node_gw_plan_cleanup(struct node_gw_plan *plan)
{
	if (plan == NULL)
		return;
	if (plan->fd >= 0)
		close(plan->fd);
	free(plan->segs);
	free(plan->lit);
	memset(plan, 0, sizeof(*plan));
	plan->fd = -1;
}

int node_gw_plan(struct node_gw_plan *p, struct node_bs *bs, const struct node_gw_request *req)
{
	struct fwc_errinfo ei;
	struct fwc_cid root;
	char txt[FWC_CID_STR_MAX];
	enum scope scope = SCOPE_ALL;
	uint64_t root_len = 0, a, b;
	int rc;

	if (p == NULL)
		return FWC_ERR_ARG;
	memset(p, 0, sizeof(*p));
	p->fd = -1;
	if (bs == NULL || req == NULL || req->cid == NULL)
		return plan_fail(p, 500, "internal", "gateway called without a store or CID");
	if ((rc = fwc_cid_parse(&root, req->cid, strlen(req->cid), &ei)) < 0)
		return plan_fail(p, 400, rc == FWC_ERR_UNSUPPORTED ? "unsupported_cid" : "bad_cid",
		                 "invalid CID: %s", ei.msg);
	if ((rc = pick_format(p, req)) < 0)
		return rc;
	if (req->entity_bytes != NULL && p->format != NODE_GW_CAR)
		return plan_fail(p, 400, "bad_request",
		                 "entity-bytes is for CAR requests (use Range for file bytes)");
	if (req->dag_scope != NULL) {
		if (strcmp(req->dag_scope, "all") == 0)
			scope = SCOPE_ALL;
		else if (strcmp(req->dag_scope, "entity") == 0)
			scope = SCOPE_ENTITY;
		else if (strcmp(req->dag_scope, "block") == 0)
			scope = SCOPE_BLOCK;
		else
			return plan_fail(p, 400, "bad_request",
			                 "dag-scope must be all, entity or block");
	}
	fwc_cid_format(txt, sizeof(txt), &root);
	rc = node_bs_has(bs, &root, &root_len);
	if (rc < 0)
		return plan_fail(p, 500, "internal", "block store error");
	if (rc == 0)
		return plan_fail(p, 404, "not_found", "block %s is not in the store", txt);

	switch (p->format) {
	case NODE_GW_RAW:
		snprintf(p->content_type, sizeof(p->content_type), "application/vnd.ipld.raw");
		snprintf(p->etag, sizeof(p->etag), "\"%s.raw\"", txt);
		rc = seg_push(p, 0, root.digest, 0, root_len);
		if (rc < 0)
			return plan_fail(p, 500, "internal", "out of memory");
		break;
	case NODE_GW_CAR:
		snprintf(p->content_type, sizeof(p->content_type),
		         "application/vnd.ipld.car; version=1; order=dfs; dups=n");
		snprintf(p->etag, sizeof(p->etag), "\"%s.car.%s\"", txt,
		         scope == SCOPE_BLOCK    ? "block"
		         : scope == SCOPE_ENTITY ? "entity"
		                                 : "all");
		if (req->entity_bytes != NULL) {
			int64_t from, to;
			int to_end = 0, isfile;
			uint64_t size = 0, f, t;

			/* A trustless Range: implies dag-scope=entity; only the blocks that
			 * verify bytes [from, to] of the file (trustless-gateway spec). */
			if (parse_entity_bytes(req->entity_bytes, &from, &to, &to_end) != 0)
				return plan_fail(p, 400, "bad_request",
				                 "entity-bytes must be from:to (integers, negative "
				                 "from the end, to may be *)");
			if ((isfile = file_size(bs, &root, root_len, &size)) < 0)
				return plan_fail(p, 500, "internal", "cannot read the root block");
			if (!isfile) { /* not bytes (a directory): the parameter is ignored */
				snprintf(p->etag, sizeof(p->etag), "\"%s.car.entity\"", txt);
				if ((rc = plan_car(p, bs, &root, SCOPE_ENTITY, root_len)) < 0)
					return rc;
				break;
			}
			f = from < 0 ? ((uint64_t)-from > size ? 0 : size - (uint64_t)-from)
			             : (uint64_t)from;
			t = to_end   ? (size ? size - 1 : 0)
			    : to < 0 ? ((uint64_t)-to > size ? 0 : size - (uint64_t)-to)
			             : (uint64_t)to;
			if (size > 0 && t >= size)
				t = size - 1; /* a range partly past the end: what exists */
			if (size > 0 &&
			    (f >= size || t < f || (!to_end && to < 0 && (uint64_t)-to > size)))
				return plan_fail(
				    p, 400, "bad_request",
				    "entity-bytes %.40s is outside the file's %llu bytes",
				    req->entity_bytes, (unsigned long long)size);
			{
				/* The ETag names the resolved range (so "-1500:*" and "18500:19999"
				 * of a 20000-byte file share one), hashed to stay within an HTTP
				 * ETag's 80 bytes. */
				char rtxt[48];
				uint8_t h[32];

				snprintf(rtxt, sizeof(rtxt), "%llu-%llu", (unsigned long long)f,
				         (unsigned long long)t);
				fwc_sha256(h, rtxt, strlen(rtxt));
				snprintf(p->etag, sizeof(p->etag), "\"%s.car.eb%02x%02x%02x%02x\"",
				         txt, h[0], h[1], h[2], h[3]);
			}
			{
				uint8_t hdr[FWC_CAR_MAX_HEADER + FWC_VARINT_MAX];
				size_t hl;

				if ((rc = fwc_car_header_encode(hdr, sizeof(hdr), &hl, &root, 1)) <
				        0 ||
				    (rc = lit_push(p, hdr, hl)) < 0)
					return plan_fail(p, 500, "internal",
					                 "cannot frame the CAR");
			}
			if (size == 0) { /* nothing to range over: the root, as dag-scope=block */
				if (car_visit(p, &root, root_len) < 0)
					return plan_fail(p, 500, "internal", "out of memory");
				break;
			}
			if ((rc = plan_car_range(p, bs, &root, f, t)) < 0)
				return rc;
			break;
		}
		if ((rc = plan_car(p, bs, &root, scope, root_len)) < 0)
			return rc;
		break;
	default:
		snprintf(p->content_type, sizeof(p->content_type), "application/octet-stream");
		snprintf(p->etag, sizeof(p->etag), "\"%s\"", txt);
		if ((rc = plan_file(p, bs, &root)) < 0)
			return rc;
		break;
	}
	p->nosniff = p->format != NODE_GW_FILE;
	snprintf(p->ipfs_path, sizeof(p->ipfs_path), "/ipfs/%s", txt);
	if (req->filename != NULL) {
		rc = disposition(p, p->format == NODE_GW_FILE ? "inline" : "attachment",
		                 req->filename);
	} else if (p->format != NODE_GW_FILE) {
		char name[FWC_CID_STR_MAX + 8];

		snprintf(name, sizeof(name), "%s.%s", txt,
		         p->format == NODE_GW_RAW ? "bin" : "car");
		rc = disposition(p, "attachment", name);
	}
	if (rc < 0)
		return rc;

	p->status = 200;
	p->total = p->length;
	if (p->format == NODE_GW_CAR)
		return FWC_OK; /* ranges of a CAR are not served: the whole CAR, 200 */
	p->accept_ranges = 1;
	rc = parse_range(req->range, p->total, &a, &b);
	if (rc < 0) {
		uint64_t total = p->total;

		rc = plan_fail(p, 416, "range_not_satisfiable",
		               "the range is outside the %llu-byte representation",
		               (unsigned long long)total);
		snprintf(p->content_range, sizeof(p->content_range), "bytes */%llu",
		         (unsigned long long)total);
		return rc;
	}
	if (rc == 1) {
		cut(p, a, b);
		p->status = 206;
		snprintf(p->content_range, sizeof(p->content_range), "bytes %llu-%llu/%llu",
		         (unsigned long long)a, (unsigned long long)b,
		         (unsigned long long)p->total);
	}
	return FWC_OK;
}

ssize_t node_gw_read(struct node_gw_plan *p, struct node_bs *bs, uint64_t pos, uint8_t *buf,
                     size_t max)
{
	size_t got = 0, lo = 0, hi;

	if (p == NULL || bs == NULL || (buf == NULL && max > 0))
		return -1;
	if (pos >= p->length || max == 0 || p->nsegs == 0)
		return 0;
	/* the last segment starting at or before pos */
	hi = p->nsegs;
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (p->segs[mid].start <= pos)
			lo = mid;
		else
			hi = mid;
	}
	for (size_t i = lo; i < p->nsegs && got < max; i++) {
		const struct node_gw_segment *s = &p->segs[i];
		uint64_t in = pos + got - s->start;
		size_t n = s->len - in < max - got ? (size_t)(s->len - in) : max - got;

		if (s->literal) {
			memcpy(buf + got, p->lit + s->off + in, n);
		} else {
			if (p->fd < 0 || memcmp(p->fd_digest, s->digest, FWC_CID_DIGEST_LEN) != 0) {
				struct fwc_cid c;
				uint64_t flen;

				if (p->fd >= 0)
					close(p->fd);
				p->fd = -1;
				memset(&c, 0, sizeof(c));
				c.version = 1;
				c.codec = FWC_CID_CODEC_RAW;
				c.mh_code = FWC_MH_SHA2_256;
				memcpy(c.digest, s->digest, FWC_CID_DIGEST_LEN);
				if (node_bs_open_fd(bs, &c, &p->fd, &p->fd_base, &flen) < 0)
					return -1;
				memcpy(p->fd_digest, s->digest, FWC_CID_DIGEST_LEN);
			}
			for (size_t done = 0; done < n;) {
				ssize_t r = pread(p->fd, buf + got + done, n - done,
				                  (off_t)(p->fd_base + s->off + in + done));

				if (r < 0 && errno == EINTR)
					continue;
				if (r <= 0)
					return -1;
				done += (size_t)r;
			}
		}
		got += n;
	}
	return (ssize_t)got;
}
