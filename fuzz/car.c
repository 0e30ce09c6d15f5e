/* Fuzz target for lib/car.c.
 *
 * Properties: the zero-copy reader and the push stream (fed in pieces whose sizes come from the
 * input's first byte) agree on every verdict — the same blocks in the same order, the same error
 * code at the same offset; every block either hands out hashes to its CID; and a header that
 * decodes re-encodes to the identical bytes (the codec admits one encoding per header). Any
 * disagreement aborts. */
#include "fwchain/car.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAXB 4096
#define MAXBLOCKS 64

struct seen {
	size_t n;
	uint64_t off[MAXBLOCKS];
	size_t len[MAXBLOCKS];
	int headers;
};

static int on_header(void *ctx, const struct fwc_car_header *h)
{
	struct seen *s = ctx;

	(void)h;
	s->headers++;
	return FWC_OK;
}

static int on_block(void *ctx, const struct fwc_car_block *b)
{
	struct seen *s = ctx;

	if (!fwc_cid_matches(&b->cid, b->data, b->len))
		abort();
	if (s->n < MAXBLOCKS) {
		s->off[s->n] = b->offset;
		s->len[s->n] = b->len;
	}
	s->n++;
	return FWC_OK;
}

static uint8_t sbuf[MAXB + FWC_CID_MAX_BINARY];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fwc_car_reader r;
	struct fwc_car_header h;
	struct fwc_car_block b;
	struct fwc_errinfo e1, e2;
	struct seen rs, ss;
	struct fwc_car_sink sink = {on_header, on_block, &ss};
	struct fwc_car_stream st;
	size_t piece, pos;
	int rc1, rc2;

	if (size < 1)
		return 0;
	piece = (size_t)data[0] + 1;
	data++;
	size--;
	memset(&rs, 0, sizeof(rs));
	memset(&ss, 0, sizeof(ss));
	memset(&e1, 0, sizeof(e1));
	memset(&e2, 0, sizeof(e2));

	rc1 = fwc_car_reader_init(&r, &h, data, size, MAXB, &e1);
	if (rc1 == FWC_OK) {
		uint8_t enc[FWC_CAR_MAX_HEADER + 16];
		size_t n;

		if (fwc_car_header_encode(enc, sizeof(enc), &n, h.roots, h.nroots) != FWC_OK)
			abort();
		if (n != r.off || memcmp(enc, data, n) != 0)
			abort();
		rs.headers = 1;
		while ((rc1 = fwc_car_reader_next(&r, &b, &e1)) == 1) {
			if (!fwc_cid_matches(&b.cid, b.data, b.len))
				abort();
			if (rs.n < MAXBLOCKS) {
				rs.off[rs.n] = b.offset;
				rs.len[rs.n] = b.len;
			}
			rs.n++;
		}
	}

	if (fwc_car_stream_init(&st, &sink, sbuf, sizeof(sbuf), MAXB) != FWC_OK)
		abort();
	rc2 = FWC_OK;
	for (pos = 0; pos < size && rc2 == FWC_OK; pos += piece) {
		size_t n = size - pos < piece ? size - pos : piece;

		rc2 = fwc_car_stream_push(&st, data + pos, n, &e2);
	}
	if (rc2 == FWC_OK)
		rc2 = fwc_car_stream_finish(&st, &e2);

	if (rc1 != rc2 || rs.n != ss.n || rs.headers != ss.headers)
		abort();
	if (rc1 < 0 && e1.offset != e2.offset)
		abort();
	for (size_t i = 0; i < rs.n && i < MAXBLOCKS; i++)
		if (rs.off[i] != ss.off[i] || rs.len[i] != ss.len[i])
			abort();
	return 0;
}
