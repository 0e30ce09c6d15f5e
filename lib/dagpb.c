/* dag-pb PBNode/PBLink and the UnixFS Data message: strict zero-copy decoders and encoders.
 *
 * Design: one small protobuf reader (struct rd: base pointer, position, end) that every field
 * goes through, so bounds, varint minimality and error offsets are checked in one place. The
 * node decoder validates everything once (including each link's CID) and keeps only the span of
 * the Links fields; the link iterator re-reads those validated bytes, so a node costs a few words
 * of memory no matter how many links it has. Strictness follows the dag-pb spec's "Protobuf
 * Strictness" section, plus minimal varints so decode/encode round-trips byte for byte. */
#include "fwchain/dagpb.h"

#include <string.h>

struct rd {
	const uint8_t *base;
	size_t pos, end;
	struct fwc_errinfo *ei;
};

size_t fwc_pb_varint_len(uint64_t v)
{
	size_t n = 1;

	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

size_t fwc_pb_varint_put(uint8_t *out, uint64_t v)
{
	size_t n = 0;

	while (v >= 0x80) {
		out[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	out[n++] = (uint8_t)v;
	return n;
}

/* A protobuf varint: at most 10 bytes, value within 64 bits, minimally encoded. */
static int rd_varint(struct rd *r, uint64_t *v, const char *what)
{
	uint64_t acc = 0;
	size_t start = r->pos;

	for (unsigned i = 0; i < 10; i++) {
		uint8_t b;

		if (r->pos >= r->end)
			return fwc_fail(r->ei, r->pos, FWC_ERR_TRUNCATED, "input ends inside %s",
					what);
		b = r->base[r->pos++];
		if (i == 9 && b > 1)
			return fwc_fail(r->ei, start, FWC_ERR_TOO_LARGE,
					"%s does not fit in 64 bits", what);
		acc |= (uint64_t)(b & 0x7f) << (7 * i);
		if ((b & 0x80) == 0) {
			if (i > 0 && b == 0)
				return fwc_fail(r->ei, start, FWC_ERR_NONCANONICAL,
						"%s is not minimally encoded", what);
			*v = acc;
			return FWC_OK;
		}
	}
	return fwc_fail(r->ei, start, FWC_ERR_TOO_LARGE, "%s is longer than 10 bytes", what);
}

/* Reads a length prefix and returns the span [*start, *start + *len) it covers. */
static int rd_bytes(struct rd *r, size_t *start, size_t *len, const char *what)
{
	uint64_t n;
	size_t at = r->pos;
	int rc = rd_varint(r, &n, what);

	if (rc < 0)
		return rc;
	if (n > r->end - r->pos)
		return fwc_fail(r->ei, at, FWC_ERR_TRUNCATED,
				"%s length %llu runs past the end (%zu bytes left)", what,
				(unsigned long long)n, r->end - r->pos);
	*start = r->pos;
	*len = (size_t)n;
	r->pos += (size_t)n;
	return FWC_OK;
}

/* Reads a field tag; returns field number and wire type. */
static int rd_tag(struct rd *r, uint64_t *field, unsigned *wt)
{
	uint64_t t;
	int rc = rd_varint(r, &t, "a field tag");

	if (rc < 0)
		return rc;
	*field = t >> 3;
	*wt = (unsigned)(t & 7);
	return FWC_OK;
}

static int decode_link(struct rd *r, struct fwc_dagpb_link *l)
{
	struct fwc_dagpb_link out;
	uint64_t last = 0;
	size_t lstart = r->pos;
	int has_hash = 0;

	memset(&out, 0, sizeof(out));
	while (r->pos < r->end) {
		size_t at = r->pos, s = 0, n = 0;
		uint64_t f;
		unsigned wt;
		int rc;

		if ((rc = rd_tag(r, &f, &wt)) < 0)
			return rc;
		if (f < 1 || f > 3)
			return fwc_fail(r->ei, at, FWC_ERR_UNKNOWN_FIELD,
					"PBLink has unknown field %llu", (unsigned long long)f);
		if (f == last)
			return fwc_fail(r->ei, at, FWC_ERR_DUPLICATE,
					"PBLink field %llu appears twice", (unsigned long long)f);
		if (f < last)
			return fwc_fail(r->ei, at, FWC_ERR_MALFORMED,
					"PBLink field %llu after field %llu (must be in order)",
					(unsigned long long)f, (unsigned long long)last);
		if (wt != (f == 3 ? 0u : 2u))
			return fwc_fail(r->ei, at, FWC_ERR_MALFORMED,
					"PBLink field %llu has wire type %u",
					(unsigned long long)f, wt);
		last = f;
		if (f == 3) {
			if ((rc = rd_varint(r, &out.tsize, "Tsize")) < 0)
				return rc;
			out.has_tsize = 1;
			continue;
		}
		if ((rc = rd_bytes(r, &s, &n, f == 1 ? "Hash" : "Name")) < 0)
			return rc;
		if (f == 1) {
			struct fwc_errinfo sub;

			has_hash = 1;
			rc = fwc_cid_decode(&out.cid, NULL, r->base + s, n, r->ei ? &sub : NULL);
			if (rc < 0) {
				if (r->ei == NULL)
					return rc;
				return fwc_fail(r->ei, s + sub.offset, rc,
						"link Hash is not a usable CID: %.120s", sub.msg);
			}
		} else {
			out.name = r->base + s;
			out.name_len = n;
			out.has_name = 1;
		}
	}
	if (!has_hash)
		return fwc_fail(r->ei, lstart, FWC_ERR_MISSING_FIELD, "PBLink without a Hash");
	*l = out;
	return FWC_OK;
}

int fwc_dagpb_decode(struct fwc_dagpb_node *node, const uint8_t *in, size_t len,
		     struct fwc_errinfo *ei)
{
	struct rd r = {in, 0, len, ei};
	struct fwc_dagpb_node out;
	size_t links_start = 0, links_end = 0;
	int links_closed = 0; /* a Data field came after some links: no more links allowed */

	if (node == NULL || (in == NULL && len > 0))
		return FWC_ERR_ARG;
	if (len > FWC_DAGPB_MAX_BLOCK)
		return fwc_fail(ei, FWC_DAGPB_MAX_BLOCK, FWC_ERR_TOO_LARGE,
				"block of %zu bytes exceeds %u", len, FWC_DAGPB_MAX_BLOCK);
	memset(&out, 0, sizeof(out));
	while (r.pos < r.end) {
		size_t at = r.pos, s = 0, n = 0;
		uint64_t f;
		unsigned wt;
		int rc;

		if ((rc = rd_tag(&r, &f, &wt)) < 0)
			return rc;
		if (f != 1 && f != 2)
			return fwc_fail(ei, at, FWC_ERR_UNKNOWN_FIELD,
					"PBNode has unknown field %llu", (unsigned long long)f);
		if (wt != 2)
			return fwc_fail(ei, at, FWC_ERR_MALFORMED,
					"PBNode field %llu has wire type %u",
					(unsigned long long)f, wt);
		if ((rc = rd_bytes(&r, &s, &n, f == 1 ? "Data" : "a link")) < 0)
			return rc;
		if (f == 1) {
			if (out.has_data)
				return fwc_fail(ei, at, FWC_ERR_DUPLICATE,
						"PBNode has two Data fields");
			out.has_data = 1;
			out.data = in + s;
			out.data_len = n;
			if (out.nlinks > 0)
				links_closed = 1;
			else
				out.data_first = 1;
		} else {
			struct rd sub = {in, s, s + n, ei};
			struct fwc_dagpb_link l;

			if (links_closed)
				return fwc_fail(ei, at, FWC_ERR_MALFORMED,
						"a link after Data that followed other links");
			if (out.nlinks == FWC_DAGPB_MAX_LINKS)
				return fwc_fail(ei, at, FWC_ERR_TOO_LARGE,
						"more than %d links", FWC_DAGPB_MAX_LINKS);
			if ((rc = decode_link(&sub, &l)) < 0)
				return rc;
			if (out.nlinks == 0)
				links_start = at;
			links_end = r.pos;
			out.nlinks++;
		}
	}
	if (out.nlinks == 0)
		out.data_first = 0; /* nothing to be out of order with */
	out.links = in + links_start;
	out.links_len = links_end - links_start;
	*node = out;
	return FWC_OK;
}

void fwc_dagpb_iter_init(struct fwc_dagpb_iter *it, const struct fwc_dagpb_node *node)
{
	it->p = node->links;
	it->left = node->links_len;
}

int fwc_dagpb_iter_next(struct fwc_dagpb_iter *it, struct fwc_dagpb_link *link)
{
	struct rd r = {it->p, 0, it->left, NULL};
	uint64_t f;
	unsigned wt;
	size_t s = 0, n = 0;
	int rc;

	if (it->left == 0)
		return 0;
	if ((rc = rd_tag(&r, &f, &wt)) < 0)
		return rc;
	if (f != 2 || wt != 2)
		return FWC_ERR_MALFORMED;
	if ((rc = rd_bytes(&r, &s, &n, "a link")) < 0)
		return rc;
	{
		struct rd sub = {it->p, s, s + n, NULL};

		if ((rc = decode_link(&sub, link)) < 0)
			return rc;
	}
	it->p += r.pos;
	it->left -= r.pos;
	return 1;
}

static size_t link_body_len(const struct fwc_dagpb_link *l, size_t cidlen)
{
	size_t n = 1 + fwc_pb_varint_len(cidlen) + cidlen;

	if (l->has_name)
		n += 1 + fwc_pb_varint_len(l->name_len) + l->name_len;
	if (l->has_tsize)
		n += 1 + fwc_pb_varint_len(l->tsize);
	return n;
}

static size_t cid_len(const struct fwc_cid *c)
{
	return c->version == 0 ? 34 : 1 + fwc_pb_varint_len(c->codec) + 34;
}

size_t fwc_dagpb_encoded_len(const struct fwc_dagpb_link *links, size_t nlinks, size_t data_len,
			     int has_data)
{
	size_t n = 0;

	for (size_t i = 0; i < nlinks; i++) {
		size_t b = link_body_len(&links[i], cid_len(&links[i].cid));

		n += 1 + fwc_pb_varint_len(b) + b;
	}
	if (has_data)
		n += 1 + fwc_pb_varint_len(data_len) + data_len;
	return n;
}

int fwc_dagpb_encode(uint8_t *out, size_t outcap, size_t *outlen,
		     const struct fwc_dagpb_link *links, size_t nlinks, const uint8_t *data,
		     size_t data_len, int has_data)
{
	size_t need, n = 0;

	if (out == NULL || outlen == NULL || (links == NULL && nlinks > 0) ||
	    (data == NULL && has_data && data_len > 0))
		return FWC_ERR_ARG;
	if (nlinks > FWC_DAGPB_MAX_LINKS)
		return FWC_ERR_TOO_LARGE;
	need = fwc_dagpb_encoded_len(links, nlinks, data_len, has_data);
	if (need > outcap)
		return FWC_ERR_BUFSIZE;
	for (size_t i = 0; i < nlinks; i++) {
		const struct fwc_dagpb_link *l = &links[i];
		uint8_t cb[FWC_CID_MAX_BINARY + 8];
		size_t cl;
		int rc = fwc_cid_encode(cb, sizeof(cb), &cl, &l->cid);

		if (rc < 0)
			return rc;
		out[n++] = 0x12;
		n += fwc_pb_varint_put(out + n, link_body_len(l, cl));
		out[n++] = 0x0a;
		n += fwc_pb_varint_put(out + n, cl);
		memcpy(out + n, cb, cl);
		n += cl;
		if (l->has_name) {
			out[n++] = 0x12;
			n += fwc_pb_varint_put(out + n, l->name_len);
			if (l->name_len)
				memcpy(out + n, l->name, l->name_len);
			n += l->name_len;
		}
		if (l->has_tsize) {
			out[n++] = 0x18;
			n += fwc_pb_varint_put(out + n, l->tsize);
		}
	}
	if (has_data) {
		out[n++] = 0x0a;
		n += fwc_pb_varint_put(out + n, data_len);
		if (data_len)
			memcpy(out + n, data, data_len);
		n += data_len;
	}
	*outlen = n;
	return FWC_OK;
}

int fwc_unixfs_data_decode(struct fwc_unixfs_data *u, const uint8_t *in, size_t len,
			   struct fwc_errinfo *ei)
{
	struct rd r = {in, 0, len, ei};
	struct fwc_unixfs_data out;
	uint64_t last = 0;

	if (u == NULL || (in == NULL && len > 0))
		return FWC_ERR_ARG;
	memset(&out, 0, sizeof(out));
	while (r.pos < r.end) {
		size_t at = r.pos, s = 0, n = 0;
		uint64_t f, v;
		unsigned wt;
		int rc;

		if ((rc = rd_tag(&r, &f, &wt)) < 0)
			return rc;
		if (f == 7 || f == 8)
			return fwc_fail(ei, at, FWC_ERR_UNSUPPORTED,
					"UnixFS %s metadata is not supported",
					f == 7 ? "mode" : "mtime");
		if (f < 1 || f > 6)
			return fwc_fail(ei, at, FWC_ERR_UNKNOWN_FIELD,
					"UnixFS Data has unknown field %llu",
					(unsigned long long)f);
		if (f < last)
			return fwc_fail(ei, at, FWC_ERR_MALFORMED,
					"UnixFS field %llu after field %llu (must be in order)",
					(unsigned long long)f, (unsigned long long)last);
		if (f == last && f != 4)
			return fwc_fail(ei, at, FWC_ERR_DUPLICATE,
					"UnixFS field %llu appears twice", (unsigned long long)f);
		if (wt != (f == 2 ? 2u : 0u))
			return fwc_fail(ei, at, FWC_ERR_MALFORMED,
					"UnixFS field %llu has wire type %u",
					(unsigned long long)f, wt);
		if (last == 0 && f != 1)
			return fwc_fail(ei, at, FWC_ERR_MISSING_FIELD,
					"UnixFS Data does not start with its Type");
		last = f;
		if (f == 2) {
			if ((rc = rd_bytes(&r, &s, &n, "UnixFS Data")) < 0)
				return rc;
			out.data = in + s;
			out.data_len = n;
			out.has_data = 1;
			continue;
		}
		if ((rc = rd_varint(&r, &v, "a UnixFS field")) < 0)
			return rc;
		switch (f) {
		case 1:
			if (v > FWC_UNIXFS_HAMTSHARD)
				return fwc_fail(ei, at, FWC_ERR_UNSUPPORTED,
						"UnixFS type %llu is unknown",
						(unsigned long long)v);
			out.type = v;
			break;
		case 3:
			out.filesize = v;
			out.has_filesize = 1;
			break;
		case 4:
			if (out.nblocksizes == FWC_DAGPB_MAX_LINKS)
				return fwc_fail(ei, at, FWC_ERR_TOO_LARGE,
						"more than %d blocksizes", FWC_DAGPB_MAX_LINKS);
			if (out.nblocksizes == 0)
				out.blocksizes = in + at;
			out.nblocksizes++;
			out.blocksizes_len = r.pos - (size_t)(out.blocksizes - in);
			break;
		case 5:
			out.hash_type = v;
			out.has_hash_type = 1;
			break;
		default:
			out.fanout = v;
			out.has_fanout = 1;
			break;
		}
	}
	if (last == 0)
		return fwc_fail(ei, 0, FWC_ERR_MISSING_FIELD, "UnixFS Data without a Type");
	*u = out;
	return FWC_OK;
}

void fwc_unixfs_blocksizes_init(struct fwc_unixfs_iter *it, const struct fwc_unixfs_data *u)
{
	it->p = u->blocksizes;
	it->left = u->blocksizes_len;
}

int fwc_unixfs_blocksizes_next(struct fwc_unixfs_iter *it, uint64_t *v)
{
	struct rd r = {it->p, 0, it->left, NULL};
	uint64_t f;
	unsigned wt;
	int rc;

	if (it->left == 0)
		return 0;
	if ((rc = rd_tag(&r, &f, &wt)) < 0)
		return rc;
	if (f != 4 || wt != 0)
		return FWC_ERR_MALFORMED;
	if ((rc = rd_varint(&r, v, "a blocksize")) < 0)
		return rc;
	it->p += r.pos;
	it->left -= r.pos;
	return 1;
}

int fwc_unixfs_data_encode(uint8_t *out, size_t outcap, size_t *outlen,
			   const struct fwc_unixfs_data *u, const uint64_t *blocksizes, size_t n)
{
	size_t need, k = 0;

	if (out == NULL || outlen == NULL || u == NULL || (blocksizes == NULL && n > 0) ||
	    (u->data == NULL && u->has_data && u->data_len > 0))
		return FWC_ERR_ARG;
	if (n > FWC_DAGPB_MAX_LINKS)
		return FWC_ERR_TOO_LARGE;
	need = 1 + fwc_pb_varint_len(u->type);
	if (u->has_data)
		need += 1 + fwc_pb_varint_len(u->data_len) + u->data_len;
	if (u->has_filesize)
		need += 1 + fwc_pb_varint_len(u->filesize);
	for (size_t i = 0; i < n; i++)
		need += 1 + fwc_pb_varint_len(blocksizes[i]);
	if (u->has_hash_type)
		need += 1 + fwc_pb_varint_len(u->hash_type);
	if (u->has_fanout)
		need += 1 + fwc_pb_varint_len(u->fanout);
	if (need > outcap)
		return FWC_ERR_BUFSIZE;
	out[k++] = 0x08;
	k += fwc_pb_varint_put(out + k, u->type);
	if (u->has_data) {
		out[k++] = 0x12;
		k += fwc_pb_varint_put(out + k, u->data_len);
		if (u->data_len)
			memcpy(out + k, u->data, u->data_len);
		k += u->data_len;
	}
	if (u->has_filesize) {
		out[k++] = 0x18;
		k += fwc_pb_varint_put(out + k, u->filesize);
	}
	for (size_t i = 0; i < n; i++) {
		out[k++] = 0x20;
		k += fwc_pb_varint_put(out + k, blocksizes[i]);
	}
	if (u->has_hash_type) {
		out[k++] = 0x28;
		k += fwc_pb_varint_put(out + k, u->hash_type);
	}
	if (u->has_fanout) {
		out[k++] = 0x30;
		k += fwc_pb_varint_put(out + k, u->fanout);
	}
	*outlen = k;
	return FWC_OK;
}
