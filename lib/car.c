/* CARv1 archives: header codec, section framing, zero-copy and push readers (docs/formats/car.md).
 *
 * Design: the CAR header is DAG-CBOR with tag 42 for CIDs, which lib/cbor.c (fwchain's signed
 * object profile) refuses on purpose, so this file carries its own tiny codec for exactly the one
 * header shape a CARv1 has, and accepts only its canonical encoding (minimal heads, keys in
 * DAG-CBOR length-first order). Both readers funnel every section through section_check(), so
 * the zero-copy and the push reader cannot disagree on what they accept, and no block leaves
 * either reader before its bytes were hashed and found equal to its CID's digest. The push
 * reader copies a section into the caller's buffer only when it arrives split across pushes. */
#include "fwchain/car.h"

#include <string.h>

#include "fwchain/multibase.h"

enum { PH_HLEN, PH_HBODY, PH_SLEN, PH_SBODY };

/* CBOR major types used by the header. */
enum { MT_UINT = 0, MT_BYTES = 2, MT_TEXT = 3, MT_ARRAY = 4, MT_MAP = 5, MT_TAG = 6 };

#define CID_TAG 42

/* Read one CBOR head at in[*pos..len): major type and argument, minimal encoding required. */
static int head_read(unsigned *major, uint64_t *arg, const uint8_t *in, size_t len, size_t *pos,
                     struct fwc_errinfo *ei)
{
	size_t p = *pos, n;
	unsigned ai;
	uint64_t v = 0;

	if (p >= len)
		return fwc_fail(ei, p, FWC_ERR_TRUNCATED, "CAR header ends inside a CBOR item");
	ai = in[p] & 0x1f;
	if (ai < 24) {
		v = ai;
		n = 0;
	} else if (ai <= 27) {
		n = (size_t)1 << (ai - 24);
		if (len - p - 1 < n)
			return fwc_fail(ei, p, FWC_ERR_TRUNCATED,
			                "CAR header ends inside a CBOR head");
		for (size_t i = 0; i < n; i++)
			v = (v << 8) | in[p + 1 + i];
		if ((n == 1 && v < 24) || (n == 2 && v <= 0xff) || (n == 4 && v <= 0xffff) ||
		    (n == 8 && v <= 0xffffffffu))
			return fwc_fail(ei, p, FWC_ERR_NONCANONICAL,
			                "CBOR head is not minimally encoded");
	} else if (ai == 31) {
		return fwc_fail(ei, p, FWC_ERR_INDEFINITE, "indefinite-length CBOR item");
	} else {
		return fwc_fail(ei, p, FWC_ERR_MALFORMED, "reserved CBOR additional info %u", ai);
	}
	*major = in[p] >> 5;
	*arg = v;
	*pos = p + 1 + n;
	return FWC_OK;
}

static int read_roots(struct fwc_car_header *h, const uint8_t *in, size_t len, size_t *pos,
                      struct fwc_errinfo *ei)
{
	unsigned mt;
	uint64_t n, v;
	size_t at = *pos;
	int rc;

	if ((rc = head_read(&mt, &n, in, len, pos, ei)) < 0)
		return rc;
	if (mt != MT_ARRAY)
		return fwc_fail(ei, at, FWC_ERR_TYPE, "CAR header: roots is not an array");
	if (n > FWC_CAR_MAX_ROOTS)
		return fwc_fail(ei, at, FWC_ERR_TOO_LARGE, "CAR header: %llu roots (at most %d)",
		                (unsigned long long)n, FWC_CAR_MAX_ROOTS);
	for (uint64_t i = 0; i < n; i++) {
		struct fwc_errinfo sub;

		at = *pos;
		if ((rc = head_read(&mt, &v, in, len, pos, ei)) < 0)
			return rc;
		if (mt != MT_TAG)
			return fwc_fail(ei, at, FWC_ERR_TYPE, "CAR header: root %llu is not a CID",
			                (unsigned long long)i);
		if (v != CID_TAG)
			return fwc_fail(ei, at, FWC_ERR_MALFORMED,
			                "CAR header: root %llu has tag %llu, want 42",
			                (unsigned long long)i, (unsigned long long)v);
		at = *pos;
		if ((rc = head_read(&mt, &v, in, len, pos, ei)) < 0)
			return rc;
		if (mt != MT_BYTES)
			return fwc_fail(ei, at, FWC_ERR_TYPE,
			                "CAR header: tag 42 does not hold a byte string");
		if (v > len - *pos)
			return fwc_fail(ei, at, FWC_ERR_TRUNCATED,
			                "CAR header ends inside a root CID");
		if (v == 0 || in[*pos] != 0x00)
			return fwc_fail(ei, *pos, FWC_ERR_MALFORMED,
			                "CAR header: root CID lacks the 0x00 multibase prefix");
		rc = fwc_cid_decode(&h->roots[i], NULL, in + *pos + 1, (size_t)v - 1, &sub);
		if (rc < 0)
			return fwc_fail(ei, *pos + 1 + sub.offset, rc, "CAR header: root %llu: %s",
			                (unsigned long long)i, sub.msg);
		*pos += (size_t)v;
	}
	h->nroots = (size_t)n;
	return FWC_OK;
}

int fwc_car_header_decode(struct fwc_car_header *hdr, const uint8_t *in, size_t len,
                          struct fwc_errinfo *ei)
{
	static const char k_roots[] = "roots", k_version[] = "version";
	struct fwc_car_header h;
	int have_roots = 0, have_version = 0, rc;
	size_t pos = 0, at;
	unsigned mt;
	uint64_t n, v;

	if (hdr == NULL || (in == NULL && len > 0))
		return FWC_ERR_ARG;
	if (len > FWC_CAR_MAX_HEADER)
		return fwc_fail(ei, 0, FWC_ERR_TOO_LARGE, "CAR header of %zu bytes (at most %d)",
		                len, FWC_CAR_MAX_HEADER);
	if (len == 0)
		return fwc_fail(ei, 0, FWC_ERR_MALFORMED, "CAR header is empty");
	memset(&h, 0, sizeof(h));
	if ((rc = head_read(&mt, &n, in, len, &pos, ei)) < 0)
		return rc;
	if (mt != MT_MAP)
		return fwc_fail(ei, 0, FWC_ERR_TYPE, "CAR header is not a map");
	for (uint64_t i = 0; i < n; i++) {
		at = pos;
		if ((rc = head_read(&mt, &v, in, len, &pos, ei)) < 0)
			return rc;
		if (mt != MT_TEXT)
			return fwc_fail(ei, at, FWC_ERR_TYPE, "CAR header: map key is not text");
		if (v > len - pos)
			return fwc_fail(ei, at, FWC_ERR_TRUNCATED, "CAR header ends inside a key");
		if (v == 5 && memcmp(in + pos, k_roots, 5) == 0) {
			pos += 5;
			if (have_roots)
				return fwc_fail(ei, at, FWC_ERR_DUPLICATE,
				                "CAR header: duplicate key \"roots\"");
			if (have_version)
				return fwc_fail(ei, at, FWC_ERR_UNSORTED,
				                "CAR header: \"roots\" must precede \"version\"");
			if ((rc = read_roots(&h, in, len, &pos, ei)) < 0)
				return rc;
			have_roots = 1;
		} else if (v == 7 && memcmp(in + pos, k_version, 7) == 0) {
			pos += 7;
			if (have_version)
				return fwc_fail(ei, at, FWC_ERR_DUPLICATE,
				                "CAR header: duplicate key \"version\"");
			at = pos;
			if ((rc = head_read(&mt, &v, in, len, &pos, ei)) < 0)
				return rc;
			if (mt != MT_UINT)
				return fwc_fail(ei, at, FWC_ERR_TYPE,
				                "CAR header: version is not an integer");
			if (v != 1)
				return fwc_fail(ei, at, FWC_ERR_UNSUPPORTED,
				                "CAR version %llu (only CARv1 is supported)",
				                (unsigned long long)v);
			have_version = 1;
		} else {
			return fwc_fail(ei, at, FWC_ERR_UNKNOWN_FIELD,
			                "CAR header: unknown key (want \"roots\", \"version\")");
		}
	}
	if (!have_version)
		return fwc_fail(ei, pos, FWC_ERR_MISSING_FIELD, "CAR header lacks \"version\"");
	if (!have_roots)
		return fwc_fail(ei, pos, FWC_ERR_MISSING_FIELD, "CAR header lacks \"roots\"");
	if (pos != len)
		return fwc_fail(ei, pos, FWC_ERR_TRAILING, "%zu bytes after the CAR header map",
		                len - pos);
	*hdr = h;
	return FWC_OK;
}

/* Body length of the header (without its varint prefix); 0 when a root cannot be encoded. */
static size_t header_body_len(const struct fwc_cid *roots, size_t n)
{
	uint8_t tmp[FWC_CID_MAX_BINARY];
	size_t total = 1 + 6 + 1 + 8 + 1, cl;

	for (size_t i = 0; i < n; i++) {
		if (fwc_cid_encode(tmp, sizeof(tmp), &cl, &roots[i]) < 0)
			return 0;
		total += 2 + 2 + 1 + cl; /* tag 42, byte string head, 0x00, CID */
	}
	return total;
}

size_t fwc_car_header_len(const struct fwc_cid *roots, size_t n)
{
	uint8_t v[FWC_VARINT_MAX];
	size_t body;

	if (n > FWC_CAR_MAX_ROOTS || (roots == NULL && n > 0))
		return 0;
	body = header_body_len(roots, n);
	if (body == 0)
		return 0;
	return fwc_varint_encode(v, body) + body;
}

int fwc_car_header_encode(uint8_t *out, size_t outcap, size_t *outlen, const struct fwc_cid *roots,
                          size_t n)
{
	uint8_t v[FWC_VARINT_MAX];
	size_t body, vl, pos, cl;

	if (out == NULL || outlen == NULL || (roots == NULL && n > 0))
		return FWC_ERR_ARG;
	if (n > FWC_CAR_MAX_ROOTS)
		return FWC_ERR_TOO_LARGE;
	body = header_body_len(roots, n);
	if (body == 0)
		return FWC_ERR_ARG;
	vl = fwc_varint_encode(v, body);
	if (outcap < vl + body)
		return FWC_ERR_BUFSIZE;
	memcpy(out, v, vl);
	pos = vl;
	out[pos++] = 0xa2;
	out[pos++] = 0x65;
	memcpy(out + pos, "roots", 5);
	pos += 5;
	out[pos++] = (uint8_t)(0x80 + n);
	for (size_t i = 0; i < n; i++) {
		out[pos++] = 0xd8;
		out[pos++] = CID_TAG;
		if (fwc_cid_encode(out + pos + 3, outcap - pos - 3, &cl, &roots[i]) < 0)
			return FWC_ERR_ARG;
		out[pos++] = 0x58; /* CIDs are 34..36 bytes: the 1-byte length form is minimal */
		out[pos++] = (uint8_t)(cl + 1);
		out[pos++] = 0x00;
		pos += cl;
	}
	out[pos++] = 0x67;
	memcpy(out + pos, "version", 7);
	pos += 7;
	out[pos++] = 0x01;
	*outlen = pos;
	return FWC_OK;
}

int fwc_car_section_head(uint8_t *out, size_t outcap, size_t *outlen, const struct fwc_cid *cid,
                         size_t block_len)
{
	uint8_t c[FWC_CID_MAX_BINARY], v[FWC_VARINT_MAX];
	size_t cl, vl;

	if (out == NULL || outlen == NULL || cid == NULL)
		return FWC_ERR_ARG;
	if (fwc_cid_encode(c, sizeof(c), &cl, cid) < 0)
		return FWC_ERR_ARG;
	if (block_len > ((uint64_t)1 << 62))
		return FWC_ERR_TOO_LARGE;
	vl = fwc_varint_encode(v, (uint64_t)block_len + cl);
	if (outcap < vl + cl)
		return FWC_ERR_BUFSIZE;
	memcpy(out, v, vl);
	memcpy(out + vl, c, cl);
	*outlen = vl + cl;
	return FWC_OK;
}

/* Bounds a section length before its bytes are read, so a stream can refuse it early. */
static int section_len_check(uint64_t seclen, size_t max_block, uint64_t at, struct fwc_errinfo *ei)
{
	if (seclen == 0)
		return fwc_fail(ei, (size_t)at, FWC_ERR_MALFORMED, "empty CAR section");
	if (seclen > (uint64_t)max_block + FWC_CID_MAX_BINARY)
		return fwc_fail(ei, (size_t)at, FWC_ERR_TOO_LARGE,
		                "CAR section of %llu bytes (blocks at most %zu)",
		                (unsigned long long)seclen, max_block);
	return FWC_OK;
}

/* Parse and verify one section body sec[0..seclen) that starts at CAR offset body_at. */
static int section_check(struct fwc_car_block *blk, const uint8_t *sec, size_t seclen,
                         uint64_t item_at, uint64_t body_at, size_t max_block,
                         struct fwc_errinfo *ei)
{
	struct fwc_errinfo sub;
	struct fwc_car_block b;
	size_t used;
	int rc;

	rc = fwc_cid_decode(&b.cid, &used, sec, seclen, &sub);
	if (rc < 0)
		return fwc_fail(ei, (size_t)(body_at + sub.offset), rc, "CAR section CID: %s",
		                sub.msg);
	b.data = sec + used;
	b.len = seclen - used;
	b.offset = item_at;
	if (b.len > max_block)
		return fwc_fail(ei, (size_t)body_at, FWC_ERR_TOO_LARGE,
		                "CAR block of %zu bytes (at most %zu)", b.len, max_block);
	if (!fwc_cid_matches(&b.cid, b.data, b.len)) {
		char txt[FWC_CID_STR_MAX];

		if (fwc_cid_format(txt, sizeof(txt), &b.cid) < 0)
			txt[0] = '\0';
		return fwc_fail(ei, (size_t)body_at, FWC_ERR_HASH_MISMATCH,
		                "CAR block at offset %llu does not hash to its CID %s",
		                (unsigned long long)item_at, txt);
	}
	*blk = b;
	return FWC_OK;
}

/* Decode the length varint at in[0..len) of the item starting at CAR offset at. */
static int varint_at(uint64_t *v, size_t *used, const uint8_t *in, size_t len, uint64_t at,
                     const char *what, struct fwc_errinfo *ei)
{
	struct fwc_errinfo sub;
	int rc = fwc_varint_decode(v, used, in, len, &sub);

	if (rc == FWC_ERR_TRUNCATED)
		return fwc_fail(ei, (size_t)at, rc, "input ends inside the %s length", what);
	if (rc < 0)
		return fwc_fail(ei, (size_t)at, rc, "%s length: %s", what, sub.msg);
	return FWC_OK;
}

static int header_at(struct fwc_car_header *hdr, const uint8_t *in, size_t len, uint64_t body_at,
                     struct fwc_errinfo *ei)
{
	struct fwc_errinfo sub;
	int rc = fwc_car_header_decode(hdr, in, len, &sub);

	if (rc < 0)
		return fwc_fail(ei, (size_t)(body_at + sub.offset), rc, "%s", sub.msg);
	return FWC_OK;
}

int fwc_car_reader_init(struct fwc_car_reader *r, struct fwc_car_header *hdr, const uint8_t *in,
                        size_t len, size_t max_block, struct fwc_errinfo *ei)
{
	struct fwc_car_header h;
	uint64_t hl;
	size_t used;
	int rc;

	if (r == NULL || hdr == NULL || (in == NULL && len > 0) || max_block == 0)
		return FWC_ERR_ARG;
	if (len == 0)
		return fwc_fail(ei, 0, FWC_ERR_TRUNCATED, "empty input, no CAR header");
	if ((rc = varint_at(&hl, &used, in, len, 0, "CAR header", ei)) < 0)
		return rc;
	if (hl > FWC_CAR_MAX_HEADER)
		return fwc_fail(ei, 0, FWC_ERR_TOO_LARGE, "CAR header of %llu bytes (at most %d)",
		                (unsigned long long)hl, FWC_CAR_MAX_HEADER);
	if (hl > len - used)
		return fwc_fail(ei, used, FWC_ERR_TRUNCATED, "input ends inside the CAR header");
	if ((rc = header_at(&h, in + used, (size_t)hl, used, ei)) < 0)
		return rc;
	r->in = in;
	r->len = len;
	r->off = used + (size_t)hl;
	r->max_block = max_block;
	r->failed = 0;
	*hdr = h;
	return FWC_OK;
}

int fwc_car_reader_next(struct fwc_car_reader *r, struct fwc_car_block *blk, struct fwc_errinfo *ei)
{
	uint64_t seclen;
	size_t used, at;
	int rc;

	if (r == NULL || blk == NULL)
		return FWC_ERR_ARG;
	if (r->failed)
		return fwc_fail(ei, r->off, FWC_ERR_STATE, "CAR reader already failed");
	if (r->off == r->len)
		return 0;
	at = r->off;
	rc = varint_at(&seclen, &used, r->in + at, r->len - at, at, "CAR section", ei);
	if (rc == FWC_OK)
		rc = section_len_check(seclen, r->max_block, at, ei);
	if (rc == FWC_OK && seclen > r->len - at - used)
		rc = fwc_fail(ei, at, FWC_ERR_TRUNCATED,
		              "input ends inside the CAR section at offset %zu", at);
	if (rc == FWC_OK)
		rc = section_check(blk, r->in + at + used, (size_t)seclen, at, at + used,
		                   r->max_block, ei);
	if (rc < 0) {
		r->failed = 1;
		return rc;
	}
	r->off = at + used + (size_t)seclen;
	return 1;
}

int fwc_car_stream_init(struct fwc_car_stream *s, const struct fwc_car_sink *sink, uint8_t *buf,
                        size_t bufcap, size_t max_block)
{
	if (s == NULL || sink == NULL || sink->block == NULL || buf == NULL || max_block == 0 ||
	    max_block > SIZE_MAX - FWC_CID_MAX_BINARY)
		return FWC_ERR_ARG;
	if (bufcap < max_block + FWC_CID_MAX_BINARY || bufcap < FWC_CAR_MAX_HEADER)
		return FWC_ERR_ARG;
	memset(s, 0, sizeof(*s));
	s->sink = *sink;
	s->buf = buf;
	s->bufcap = bufcap;
	s->max_block = max_block;
	s->phase = PH_HLEN;
	return FWC_OK;
}

/* The body of the current item is complete in body[0..s->need): check and deliver it. */
static int stream_item(struct fwc_car_stream *s, const uint8_t *body, struct fwc_errinfo *ei)
{
	uint64_t body_at = s->item_off + s->vlen;
	int rc;

	if (s->phase == PH_HBODY) {
		struct fwc_car_header h;

		if ((rc = header_at(&h, body, s->need, body_at, ei)) < 0)
			return rc;
		if (s->sink.header != NULL && (rc = s->sink.header(s->sink.ctx, &h)) < 0)
			return fwc_fail(ei, (size_t)s->item_off, rc, "CAR header refused: %s",
			                fwc_strerror(rc));
	} else {
		struct fwc_car_block b;

		rc = section_check(&b, body, s->need, s->item_off, body_at, s->max_block, ei);
		if (rc < 0)
			return rc;
		if ((rc = s->sink.block(s->sink.ctx, &b)) < 0)
			return fwc_fail(ei, (size_t)s->item_off, rc,
			                "CAR block at offset %llu refused: %s",
			                (unsigned long long)s->item_off, fwc_strerror(rc));
		s->blocks++;
	}
	s->phase = PH_SLEN;
	s->item_off = s->off;
	s->vlen = 0;
	s->need = s->have = 0;
	return FWC_OK;
}

/* A length varint is complete in s->vbuf: bound it and move on to the body. */
static int stream_length(struct fwc_car_stream *s, struct fwc_errinfo *ei)
{
	int header = s->phase == PH_HLEN;
	uint64_t v;
	size_t used;
	int rc;

	rc = varint_at(&v, &used, s->vbuf, s->vlen, s->item_off,
	               header ? "CAR header" : "CAR section", ei);
	if (rc < 0)
		return rc;
	if (header && v > FWC_CAR_MAX_HEADER)
		return fwc_fail(ei, (size_t)s->item_off, FWC_ERR_TOO_LARGE,
		                "CAR header of %llu bytes (at most %d)", (unsigned long long)v,
		                FWC_CAR_MAX_HEADER);
	if (!header && (rc = section_len_check(v, s->max_block, s->item_off, ei)) < 0)
		return rc;
	s->need = (size_t)v;
	s->have = 0;
	s->phase = header ? PH_HBODY : PH_SBODY;
	if (s->need == 0)
		return stream_item(s, s->buf, ei); /* an empty header: refused with its reason */
	return FWC_OK;
}

static int stream_run(struct fwc_car_stream *s, const uint8_t *p, size_t len,
                      struct fwc_errinfo *ei)
{
	int rc;

	while (len > 0) {
		if (s->phase == PH_HLEN || s->phase == PH_SLEN) {
			uint8_t b = *p++;

			len--;
			s->off++;
			s->vbuf[s->vlen++] = b;
			if ((b & 0x80) && s->vlen < sizeof(s->vbuf))
				continue;
			if ((rc = stream_length(s, ei)) < 0)
				return rc;
			continue;
		}
		if (s->have == 0 && len >= s->need) {
			/* The whole body is in this piece: check it where it lies. */
			const uint8_t *body = p;

			p += s->need;
			len -= s->need;
			s->off += s->need;
			if ((rc = stream_item(s, body, ei)) < 0)
				return rc;
			continue;
		}
		size_t take = s->need - s->have < len ? s->need - s->have : len;

		memcpy(s->buf + s->have, p, take);
		s->have += take;
		p += take;
		len -= take;
		s->off += take;
		if (s->have == s->need && (rc = stream_item(s, s->buf, ei)) < 0)
			return rc;
	}
	return FWC_OK;
}

int fwc_car_stream_push(struct fwc_car_stream *s, const void *data, size_t len,
                        struct fwc_errinfo *ei)
{
	int rc;

	if (s == NULL || (data == NULL && len > 0))
		return FWC_ERR_ARG;
	if (s->err < 0)
		return fwc_fail(ei, (size_t)s->off, s->err, "CAR stream already failed: %s",
		                fwc_strerror(s->err));
	rc = stream_run(s, data, len, ei);
	if (rc < 0)
		s->err = rc;
	return rc;
}

int fwc_car_stream_finish(struct fwc_car_stream *s, struct fwc_errinfo *ei)
{
	if (s == NULL)
		return FWC_ERR_ARG;
	if (s->err < 0)
		return fwc_fail(ei, (size_t)s->off, s->err, "CAR stream already failed: %s",
		                fwc_strerror(s->err));
	if (s->phase == PH_SLEN && s->vlen == 0)
		return FWC_OK;
	/* Offsets as the zero-copy reader reports them: the item's start, or the header body's. */
	s->err = FWC_ERR_TRUNCATED;
	if (s->phase == PH_HLEN)
		return fwc_fail(ei, 0, FWC_ERR_TRUNCATED,
		                s->off == 0 ? "empty input, no CAR header"
		                            : "input ends inside the CAR header length");
	if (s->phase == PH_HBODY)
		return fwc_fail(ei, (size_t)s->vlen, FWC_ERR_TRUNCATED,
		                "input ends inside the CAR header");
	return fwc_fail(ei, (size_t)s->item_off, FWC_ERR_TRUNCATED,
	                "input ends inside the CAR section at offset %llu",
	                (unsigned long long)s->item_off);
}
