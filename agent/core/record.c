/* The agent's persistent state record: byte layout, validation, and the two-copy store.
 *
 * The record is serialised field by field in little-endian order (never a memcpy of the
 * struct, whose padding and byte order belong to the compiler), followed by a SHA-256 over
 * everything before it; docs/formats/agent-record.md gives the layout byte by byte. Decoding is
 * strict: reserved bytes and the fields of absent parts must be zero and every value must be in
 * range, so the only bytes that decode are bytes fwc_agent_record_encode() produces, and a
 * decoded record always re-encodes to the same bytes (the fuzz target checks this).
 *
 * The store keeps two copies. A commit writes the copy that does NOT hold the newest valid
 * state, with the next sequence number, then reads it back. Whatever a power loss does to the
 * copy being written, the other copy still holds the previous state, and loading takes the
 * newest copy whose hash is right: each commit is atomic (old state or new state, never a mix).
 * Sequence numbers are compared in serial-number arithmetic (RFC 1982), so even a wrapped
 * 32-bit counter orders the two copies correctly. */
#include "fwagent/record.h"

#include <string.h>

#include "util.h"

FWC_STATIC_ASSERT(record_fits, FWC_AGENT_RECORD_LEN <= FWC_AGENT_RECORD_MAX);
FWC_STATIC_ASSERT(queue_nonempty, FWC_AGENT_EVENT_QUEUE >= 1 && FWC_AGENT_EVENT_QUEUE <= 255);

/* Offsets of the layout (docs/formats/agent-record.md). */
enum {
	OFF_MAGIC = 0,
	OFF_VERSION = 4,
	OFF_QUEUE = 5,
	OFF_LENGTH = 6,
	OFF_SEQ = 8,
	OFF_ACTIVE_SLOT = 12,
	OFF_PENDING_SLOT = 13,
	OFF_ATTEMPTS = 14,
	OFF_DL_STATE = 15,
	OFF_FLOOR = 16,
	OFF_ACTIVE = 24,
	OFF_PENDING = 72,
	OFF_CHECKPOINT = 120,
	OFF_DL_SLOT = 168,
	OFF_DL_RESERVED = 169,
	OFF_DL_TARGET = 172,
	OFF_DL_IMAGE = 204,
	OFF_DL_VERIFIED = 252,
	OFF_NEXT_EVENT = 260,
	OFF_DROPPED = 264,
	OFF_EVENT_COUNT = 268,
	OFF_EV_RESERVED = 269,
	OFF_TX_NONCE = 272,  /* versions 2 and 3 */
	OFF_ABANDONED = 280, /* version 3 */
	OFF_EVENTS = 288,
	OFF_EVENTS_V2 = 280,
	OFF_EVENTS_V1 = 272,
	IMAGE_LEN = 48
};

FWC_STATIC_ASSERT(layout_fixed, OFF_EVENTS == FWC_AGENT_RECORD_FIXED &&
                                    OFF_EVENTS_V2 == FWC_AGENT_RECORD_FIXED_V2 &&
                                    OFF_EVENTS_V1 == FWC_AGENT_RECORD_FIXED_V1);

static const uint8_t magic[4] = {'F', 'W', 'A', 'R'};

static int hash_buf(struct fwc_port *port, struct fwc_port_sha256 *h, uint8_t out[32],
                    const uint8_t *data, size_t len)
{
	int rc = fwc_port_sha256_init(port, h);
	int rc2;

	if (rc < 0)
		return rc;
	rc = fwc_port_sha256_update(port, h, data, len);
	/* final runs on every path: it releases what init took (port.h) */
	rc2 = fwc_port_sha256_final(port, h, out);
	return rc < 0 ? rc : rc2;
}

static void put_image(uint8_t *p, const struct fwc_agent_image *img)
{
	fwc_put_le64(p, img->counter);
	fwc_put_le64(p + 8, img->size);
	memcpy(p + 16, img->sha256, 32);
}

static void get_image(struct fwc_agent_image *img, const uint8_t *p)
{
	img->counter = fwc_get_le64(p);
	img->size = fwc_get_le64(p + 8);
	memcpy(img->sha256, p + 16, 32);
}

static int image_is_zero(const struct fwc_agent_image *img)
{
	return img->counter == 0 && img->size == 0 && fwc_all_zero(img->sha256, 32);
}

/* The value rules every stored record obeys, shared by encode and decode so that both accept
 * exactly the same records. q is the queue capacity of the record being checked. */
static int check_record(const struct fwc_agent_record *r, unsigned q)
{
	const struct fwc_agent_download *d = &r->download;

	if (r->active_slot != FWC_SLOT_A && r->active_slot != FWC_SLOT_B)
		return FWC_ERR_RANGE;
	if (r->pending_slot == FWC_SLOT_NONE) {
		if (r->boot_attempts != 0 || !image_is_zero(&r->pending))
			return FWC_ERR_RANGE;
	} else if ((r->pending_slot != FWC_SLOT_A && r->pending_slot != FWC_SLOT_B) ||
	           r->pending_slot == r->active_slot || r->pending.size == 0) {
		return FWC_ERR_RANGE;
	}
	if (d->active == 0) {
		if (d->slot != 0 || !fwc_all_zero(d->target, 32) || !image_is_zero(&d->image) ||
		    d->verified != 0)
			return FWC_ERR_RANGE;
	} else if (d->active != 1 || (d->slot != FWC_SLOT_A && d->slot != FWC_SLOT_B) ||
	           d->slot == r->active_slot || r->pending_slot != FWC_SLOT_NONE ||
	           d->image.size == 0 || d->verified > d->image.size) {
		/* a download only ever runs into the inactive slot while nothing is pending */
		return FWC_ERR_RANGE;
	}
	if (r->event_count > q)
		return FWC_ERR_RANGE;
	for (unsigned i = 0; i < r->event_count && i < FWC_AGENT_EVENT_QUEUE; i++)
		if (r->events[i].type == 0)
			return FWC_ERR_RANGE;
	return FWC_OK;
}

void fwc_agent_record_factory(struct fwc_agent_record *rec, uint64_t floor)
{
	if (rec == NULL)
		return;
	memset(rec, 0, sizeof(*rec));
	rec->active_slot = FWC_SLOT_A;
	rec->pending_slot = FWC_SLOT_NONE;
	rec->floor = floor;
}

int fwc_agent_record_encode(struct fwc_port *port, uint8_t *out, size_t cap, size_t *len,
                            const struct fwc_agent_record *rec)
{
	struct fwc_port_sha256 h;
	const size_t body = FWC_AGENT_RECORD_LEN - 32;
	int rc;

	if (out == NULL || len == NULL || rec == NULL)
		return FWC_ERR_ARG;
	if (cap < FWC_AGENT_RECORD_LEN)
		return FWC_ERR_BUFSIZE;
	if ((rc = check_record(rec, FWC_AGENT_EVENT_QUEUE)) < 0)
		return rc;

	memset(out, 0, FWC_AGENT_RECORD_LEN);
	memcpy(out + OFF_MAGIC, magic, 4);
	out[OFF_VERSION] = FWC_AGENT_RECORD_VERSION;
	out[OFF_QUEUE] = (uint8_t)FWC_AGENT_EVENT_QUEUE;
	fwc_put_le16(out + OFF_LENGTH, (uint16_t)FWC_AGENT_RECORD_LEN);
	fwc_put_le32(out + OFF_SEQ, rec->seq);
	out[OFF_ACTIVE_SLOT] = rec->active_slot;
	out[OFF_PENDING_SLOT] = rec->pending_slot;
	out[OFF_ATTEMPTS] = rec->boot_attempts;
	out[OFF_DL_STATE] = rec->download.active;
	fwc_put_le64(out + OFF_FLOOR, rec->floor);
	put_image(out + OFF_ACTIVE, &rec->active);
	put_image(out + OFF_PENDING, &rec->pending);
	fwc_put_le64(out + OFF_CHECKPOINT, rec->checkpoint.size);
	fwc_put_le64(out + OFF_CHECKPOINT + 8, rec->checkpoint.time);
	memcpy(out + OFF_CHECKPOINT + 16, rec->checkpoint.hash, 32);
	out[OFF_DL_SLOT] = rec->download.slot;
	memcpy(out + OFF_DL_TARGET, rec->download.target, 32);
	put_image(out + OFF_DL_IMAGE, &rec->download.image);
	fwc_put_le64(out + OFF_DL_VERIFIED, rec->download.verified);
	fwc_put_le32(out + OFF_NEXT_EVENT, rec->next_event_seq);
	fwc_put_le32(out + OFF_DROPPED, rec->events_dropped);
	out[OFF_EVENT_COUNT] = rec->event_count;
	fwc_put_le64(out + OFF_TX_NONCE, rec->tx_nonce);
	fwc_put_le64(out + OFF_ABANDONED, rec->abandoned);
	for (unsigned i = 0; i < rec->event_count; i++) {
		const struct fwc_agent_event *ev = &rec->events[i];
		uint8_t *p = out + OFF_EVENTS + i * FWC_AGENT_EVENT_LEN;

		fwc_put_le32(p, ev->seq);
		p[4] = ev->type;
		p[5] = ev->reason;
		fwc_put_le16(p + 6, (uint16_t)ev->code);
		fwc_put_le64(p + 8, ev->counter);
		fwc_put_le64(p + 16, ev->time);
	}
	if ((rc = hash_buf(port, &h, out + body, out, body)) < 0)
		return rc;
	*len = FWC_AGENT_RECORD_LEN;
	return FWC_OK;
}

static int16_t get_i16(const uint8_t *p)
{
	uint16_t v = fwc_get_le16(p);

	/* two's complement by arithmetic, not by an implementation-defined conversion */
	return v >= 0x8000u ? (int16_t)((int32_t)v - 0x10000) : (int16_t)v;
}

int fwc_agent_record_decode(struct fwc_port *port, struct fwc_agent_record *rec, const uint8_t *in,
                            size_t len)
{
	struct fwc_port_sha256 h;
	struct fwc_agent_record r;
	uint8_t digest[32];
	unsigned q, count, skip;
	size_t rlen, body, fixed;
	int rc;

	if (rec == NULL || (in == NULL && len != 0))
		return FWC_ERR_ARG;
	if (len < OFF_SEQ)
		return FWC_ERR_TRUNCATED;
	if (memcmp(in + OFF_MAGIC, magic, 4) != 0)
		return FWC_ERR_MALFORMED;
	/* version 2 is version 3 without the abandoned counter, version 1 is version 2 without
	 * the transaction nonce; both missing fields are read as 0 */
	if (in[OFF_VERSION] == FWC_AGENT_RECORD_VERSION)
		fixed = OFF_EVENTS;
	else if (in[OFF_VERSION] == 2)
		fixed = OFF_EVENTS_V2;
	else if (in[OFF_VERSION] == 1)
		fixed = OFF_EVENTS_V1;
	else
		return FWC_ERR_UNSUPPORTED;
	q = in[OFF_QUEUE];
	rlen = fwc_get_le16(in + OFF_LENGTH);
	if (q == 0 || rlen != fixed + (size_t)q * FWC_AGENT_EVENT_LEN + 32)
		return FWC_ERR_MALFORMED;
	if (rlen > len)
		return FWC_ERR_TRUNCATED;
	body = rlen - 32;
	if ((rc = hash_buf(port, &h, digest, in, body)) < 0)
		return rc;
	if (fwc_ct_match(digest, in + body, 32) != FWC_AGENT_MATCH)
		return FWC_ERR_HASH_MISMATCH;

	/* Layout rules on the raw bytes: reserved bytes and unused event entries are zero. */
	count = in[OFF_EVENT_COUNT];
	if (!fwc_all_zero(in + OFF_DL_RESERVED, 3) || !fwc_all_zero(in + OFF_EV_RESERVED, 3))
		return FWC_ERR_MALFORMED;
	if (count > q)
		return FWC_ERR_RANGE;
	if (!fwc_all_zero(in + fixed + (size_t)count * FWC_AGENT_EVENT_LEN,
	                  (size_t)(q - count) * FWC_AGENT_EVENT_LEN))
		return FWC_ERR_MALFORMED;

	memset(&r, 0, sizeof(r));
	r.seq = fwc_get_le32(in + OFF_SEQ);
	r.active_slot = in[OFF_ACTIVE_SLOT];
	r.pending_slot = in[OFF_PENDING_SLOT];
	r.boot_attempts = in[OFF_ATTEMPTS];
	r.download.active = in[OFF_DL_STATE];
	r.floor = fwc_get_le64(in + OFF_FLOOR);
	get_image(&r.active, in + OFF_ACTIVE);
	get_image(&r.pending, in + OFF_PENDING);
	r.checkpoint.size = fwc_get_le64(in + OFF_CHECKPOINT);
	r.checkpoint.time = fwc_get_le64(in + OFF_CHECKPOINT + 8);
	memcpy(r.checkpoint.hash, in + OFF_CHECKPOINT + 16, 32);
	r.download.slot = in[OFF_DL_SLOT];
	memcpy(r.download.target, in + OFF_DL_TARGET, 32);
	get_image(&r.download.image, in + OFF_DL_IMAGE);
	r.download.verified = fwc_get_le64(in + OFF_DL_VERIFIED);
	r.next_event_seq = fwc_get_le32(in + OFF_NEXT_EVENT);
	r.events_dropped = fwc_get_le32(in + OFF_DROPPED);
	if (fixed >= OFF_EVENTS_V2)
		r.tx_nonce = fwc_get_le64(in + OFF_TX_NONCE);
	if (fixed >= OFF_EVENTS)
		r.abandoned = fwc_get_le64(in + OFF_ABANDONED);

	/* A record from a build with a longer queue keeps its newest events. */
	skip = count > FWC_AGENT_EVENT_QUEUE ? count - FWC_AGENT_EVENT_QUEUE : 0;
	for (unsigned i = 0; i < count; i++) {
		const uint8_t *p = in + fixed + (size_t)i * FWC_AGENT_EVENT_LEN;
		struct fwc_agent_event *ev;

		if (p[4] == 0)
			return FWC_ERR_RANGE;
		if (i < skip)
			continue;
		ev = &r.events[i - skip];
		ev->seq = fwc_get_le32(p);
		ev->type = p[4];
		ev->reason = p[5];
		ev->code = get_i16(p + 6);
		ev->counter = fwc_get_le64(p + 8);
		ev->time = fwc_get_le64(p + 16);
	}
	r.event_count = (uint8_t)(count - skip);
	r.events_dropped =
	    (r.events_dropped > UINT32_MAX - skip) ? UINT32_MAX : r.events_dropped + skip;
	if ((rc = check_record(&r, FWC_AGENT_EVENT_QUEUE)) < 0)
		return rc;
	*rec = r;
	return FWC_OK;
}

void fwc_agent_record_pop_event(struct fwc_agent_record *rec)
{
	if (rec == NULL || rec->event_count == 0)
		return;
	memmove(&rec->events[0], &rec->events[1],
	        (size_t)(rec->event_count - 1) * sizeof(rec->events[0]));
	rec->event_count--;
	memset(&rec->events[rec->event_count], 0, sizeof(rec->events[0]));
}

void fwc_agent_record_push_event(struct fwc_agent_record *rec, uint8_t type, uint8_t reason,
                                 int code, uint64_t counter, uint64_t time)
{
	struct fwc_agent_event *ev;

	if (rec == NULL || type == 0)
		return;
	if (rec->event_count >= FWC_AGENT_EVENT_QUEUE) {
		/* Keep the newest: the latest outcome is what the fleet operator needs most; the
		 * dropped count tells the ledger that history is missing. */
		memmove(&rec->events[0], &rec->events[1],
		        (FWC_AGENT_EVENT_QUEUE - 1) * sizeof(rec->events[0]));
		rec->event_count = FWC_AGENT_EVENT_QUEUE - 1;
		if (rec->events_dropped != UINT32_MAX)
			rec->events_dropped++;
	}
	ev = &rec->events[rec->event_count++];
	memset(ev, 0, sizeof(*ev));
	ev->seq = rec->next_event_seq++;
	ev->type = type;
	ev->reason = reason;
	ev->code = (int16_t)(code < -32768 ? -32768 : code > 32767 ? 32767 : code);
	ev->counter = counter;
	ev->time = time;
}

/* 1 when a is a later sequence number than b (serial-number arithmetic, RFC 1982). */
static int seq_newer(uint32_t a, uint32_t b)
{
	uint32_t d = a - b;

	return d != 0 && d < 0x80000000u;
}

/* An area that was never written reads as nothing, or as erased flash (0xFF), or as zeros. */
static int area_blank(const uint8_t *p, size_t len)
{
	int ff = 1, zero = 1;

	for (size_t i = 0; i < len; i++) {
		ff &= p[i] == 0xFF;
		zero &= p[i] == 0x00;
	}
	return ff || zero;
}

int fwc_agent_store_load(struct fwc_agent_store *st, struct fwc_port *port, uint64_t factory_floor)
{
	int written = 0; /* copies that hold something (or could not be read) */

	if (st == NULL)
		return FWC_ERR_ARG;
	st->port = port;
	st->newest = FWC_SLOT_NONE;
	st->valid_mask = 0;
	for (uint8_t c = 0; c < 2; c++) {
		size_t got = 0;
		int rc = fwc_port_record_read(port, st->buf, sizeof(st->buf), &got, c);

		if (rc < 0) {
			/* unreadable is not evidence of a blank device */
			written++;
			fwc_port_log(port, FWC_LOG_WARN, "record copy unreadable", c, rc);
			continue;
		}
		if (got > sizeof(st->buf))
			got = sizeof(st->buf);
		if (!area_blank(st->buf, got))
			written++;
		rc = fwc_agent_record_decode(port, c == 0 ? &st->cur : &st->scratch, st->buf, got);
		if (rc == FWC_OK)
			st->valid_mask |= (uint8_t)(1u << c);
		else if (got > 0)
			fwc_port_log(port, FWC_LOG_DEBUG, "record copy invalid", c, rc);
	}
	switch (st->valid_mask) {
	case 3:
		st->status = FWC_AGENT_LOAD_BOTH;
		st->newest = 0;
		if (seq_newer(st->scratch.seq, st->cur.seq)) {
			st->cur = st->scratch;
			st->newest = 1;
		}
		break;
	case 1:
		st->status = FWC_AGENT_LOAD_ONE;
		st->newest = 0;
		break;
	case 2:
		st->status = FWC_AGENT_LOAD_ONE;
		st->cur = st->scratch;
		st->newest = 1;
		break;
	default:
		/* One blank copy means at most one commit was ever attempted (the second goes
		 * to the other copy), and no single commit can have raised the floor above
		 * the factory value: a torn first write is a fresh device, not a corrupt one. */
		st->status = written == 2 ? FWC_AGENT_LOAD_CORRUPT : FWC_AGENT_LOAD_BLANK;
		fwc_agent_record_factory(&st->cur, factory_floor);
		break;
	}
	return FWC_OK;
}

int fwc_agent_store_commit(struct fwc_agent_store *st, const struct fwc_agent_record *next)
{
	uint8_t target;
	size_t len = 0, got = 0;
	int rc;

	if (st == NULL || next == NULL)
		return FWC_ERR_ARG;
	if (next != &st->scratch)
		st->scratch = *next;
	st->scratch.seq = st->cur.seq + 1;
	/* the copy not holding the newest state: after a torn write that is the torn one */
	target = st->newest == 0 ? 1 : 0;
	if ((rc = fwc_agent_record_encode(st->port, st->buf, sizeof(st->buf), &len, &st->scratch)) <
	    0)
		return rc;
	if ((rc = fwc_port_record_write(st->port, target, st->buf, len)) < 0)
		return FWC_ERR_IO;
	if ((rc = fwc_port_record_read(st->port, st->check, sizeof(st->check), &got, target)) < 0 ||
	    got < len || memcmp(st->check, st->buf, len) != 0) {
		fwc_port_log(st->port, FWC_LOG_ERROR, "record read-back differs", target, rc);
		return FWC_ERR_IO;
	}
	st->cur = st->scratch;
	st->newest = target;
	st->valid_mask |= (uint8_t)(1u << target);
	return FWC_OK;
}
