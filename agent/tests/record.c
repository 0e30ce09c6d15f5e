/* Tests agent/core/record.c: the byte layout against the worked example in
 * docs/formats/agent-record.md (bytes produced by an independent encoder), every decoding rule,
 * and the two-copy store: newest copy wins, a torn newest copy falls back to the older one at
 * every tear point, both corrupt gives the factory state, every single-byte corruption of
 * either copy is survived, sequence numbers order across the 32-bit wrap. */
#include "agent_test.h"

#include "fwagent/record.h"

static char dir[256];
static struct fwc_port port;

static void setup(void)
{
	CHECK(test_mkdtemp(dir, sizeof(dir), "record") == 0);
	CHECK_RC(fwc_posix_format(dir, 65536, 4096), FWC_OK);
	CHECK_RC(test_open(&port, dir), FWC_OK);
}

static void teardown(void)
{
	fwc_posix_close(&port);
	test_rmtree(dir);
}

/* Recompute the trailing hash of an L-byte record after a test modified it. */
static void rehash(uint8_t *rec, size_t len)
{
	fwc_sha256(rec + len - 32, rec, len - 32);
}

/* The example record of docs/formats/agent-record.md, built from its table. */
static void example_record(struct fwc_agent_record *r)
{
	static uint8_t zeros[1048576];

	memset(r, 0, sizeof(*r));
	r->seq = 7;
	r->active_slot = FWC_SLOT_B;
	r->pending_slot = FWC_SLOT_NONE;
	r->floor = 42;
	r->active.counter = 42;
	r->active.size = sizeof(zeros);
	fwc_sha256(r->active.sha256, zeros, sizeof(zeros));
	r->checkpoint.size = 1234;
	r->checkpoint.time = 1700000000;
	memset(r->checkpoint.hash, 0x11, 32);
	r->download.active = 1;
	r->download.slot = FWC_SLOT_A;
	memset(r->download.target, 0x22, 32);
	r->download.image.counter = 43;
	r->download.image.size = 2097152;
	memset(r->download.image.sha256, 0x33, 32);
	r->download.verified = 524288;
	r->next_event_seq = 3;
	r->tx_nonce = 5;
	r->abandoned = 40;
	r->event_count = 2;
	r->events[0] = (struct fwc_agent_event){1, FWC_AGENT_EV_CONFIRMED, 0, 0, 42, 1700000100};
	r->events[1] = (struct fwc_agent_event){
	    2, FWC_AGENT_EV_DOWNLOAD_FAILED, 0, FWC_ERR_HASH_MISMATCH, 43, 1700000200};
}

/* Parse the hex dump that follows marker in the format page. */
static size_t doc_block(uint8_t *out, size_t cap, const char *marker)
{
	char *doc = test_read_file(FWC_SOURCE_DIR "/docs/formats/agent-record.md", NULL);
	const char *p, *end;
	size_t n = 0;

	if (doc == NULL)
		return 0;
	p = strstr(doc, marker);
	p = p ? strstr(p, "```text\n") : NULL;
	end = p ? strstr(p + 8, "```") : NULL;
	if (p == NULL || end == NULL) {
		free(doc);
		return 0;
	}
	for (p += 8; p < end;) {
		const char *colon = strchr(p, ':'), *eol = strchr(p, '\n');

		if (colon == NULL || eol == NULL || eol > end)
			break;
		for (p = colon + 1; p < eol; p++) {
			unsigned v;

			if (*p == ' ')
				continue;
			if (n >= cap || sscanf(p, "%2x", &v) != 1)
				break;
			out[n++] = (uint8_t)v;
			p++;
		}
		p = eol + 1;
	}
	free(doc);
	return n;
}

static size_t doc_example(uint8_t *out, size_t cap)
{
	return doc_block(out, cap, "<!-- agent-record-example -->");
}

static void check_example_fields(const struct fwc_agent_record *r)
{
	struct fwc_agent_record want;

	example_record(&want);
	CHECK(r->seq == 7 && r->active_slot == FWC_SLOT_B && r->pending_slot == FWC_SLOT_NONE);
	CHECK(r->boot_attempts == 0 && r->floor == 42);
	CHECK(r->active.counter == 42 && r->active.size == 1048576);
	CHECK_MEM(r->active.sha256, want.active.sha256, 32);
	CHECK(r->pending.size == 0 && r->pending.counter == 0);
	CHECK(r->checkpoint.size == 1234 && r->checkpoint.time == 1700000000);
	CHECK_MEM(r->checkpoint.hash, want.checkpoint.hash, 32);
	CHECK(r->download.active == 1 && r->download.slot == FWC_SLOT_A);
	CHECK_MEM(r->download.target, want.download.target, 32);
	CHECK(r->download.image.counter == 43 && r->download.image.size == 2097152);
	CHECK(r->download.verified == 524288);
	CHECK(r->next_event_seq == 3 && r->events_dropped == 0 && r->event_count == 2);
	CHECK(r->tx_nonce == 5 && r->abandoned == 40);
	CHECK(r->events[0].seq == 1 && r->events[0].type == FWC_AGENT_EV_CONFIRMED);
	CHECK(r->events[0].counter == 42 && r->events[0].time == 1700000100);
	CHECK(r->events[1].seq == 2 && r->events[1].type == FWC_AGENT_EV_DOWNLOAD_FAILED);
	CHECK(r->events[1].code == -14 && r->events[1].counter == 43);
	CHECK(r->events[1].time == 1700000200);
}

static void test_worked_example(void)
{
	uint8_t doc[FWC_AGENT_RECORD_MAX], enc[FWC_AGENT_RECORD_MAX];
	struct fwc_agent_record r, back;
	size_t n = doc_example(doc, sizeof(doc)), len = 0;

	CHECK(n == 512);
	CHECK(FWC_AGENT_RECORD_LEN == 512);
	example_record(&r);
	CHECK_RC(fwc_agent_record_encode(&port, enc, sizeof(enc), &len, &r), FWC_OK);
	CHECK(len == 512);
	CHECK(n == len && memcmp(doc, enc, len) == 0);
	CHECK_RC(fwc_agent_record_decode(&port, &back, doc, n), FWC_OK);
	check_example_fields(&back);
	/* the area may be longer than the record: trailing bytes are ignored */
	memset(doc + n, 0xA5, sizeof(doc) - n);
	CHECK_RC(fwc_agent_record_decode(&port, &back, doc, sizeof(doc)), FWC_OK);
	CHECK_RC(fwc_agent_record_encode(&port, enc, 511, &len, &r), FWC_ERR_BUFSIZE);
}

/* A version 1 record (no transaction nonce) is read with nonce 0 and abandoned 0, and
 * rewritten as version 3. */
static void test_version_1(void)
{
	uint8_t doc[FWC_AGENT_RECORD_MAX], enc[FWC_AGENT_RECORD_MAX], v3[FWC_AGENT_RECORD_MAX];
	struct fwc_agent_record r;
	size_t n = doc_block(doc, sizeof(doc), "<!-- agent-record-example-v1 -->"), len = 0;

	CHECK(n == 496 && doc[4] == 1);
	CHECK_RC(fwc_agent_record_decode(&port, &r, doc, n), FWC_OK);
	CHECK(r.tx_nonce == 0 && r.abandoned == 0);
	r.tx_nonce = 5;
	r.abandoned = 40;
	check_example_fields(&r);
	CHECK_RC(fwc_agent_record_encode(&port, enc, sizeof(enc), &len, &r), FWC_OK);
	CHECK(len == 512 && doc_example(v3, sizeof(v3)) == 512 && memcmp(enc, v3, 512) == 0);
	/* its own layout rules: a wrong length, a used reserved byte */
	doc[6] = (uint8_t)(504 & 0xff);
	doc[7] = (uint8_t)(504 >> 8);
	CHECK_RC(fwc_agent_record_decode(&port, &r, doc, sizeof(doc)), FWC_ERR_MALFORMED);
}

/* A version 2 record (no abandoned counter) is read with abandoned 0, and the store's next
 * commit upgrades it to version 3 without losing a field. */
static void test_version_2(void)
{
	uint8_t doc[FWC_AGENT_RECORD_MAX], enc[FWC_AGENT_RECORD_MAX], v3[FWC_AGENT_RECORD_MAX];
	struct fwc_agent_store st;
	struct fwc_agent_record r;
	size_t n = doc_block(doc, sizeof(doc), "<!-- agent-record-example-v2 -->"), len = 0,
	       got = 0;

	CHECK(n == 504 && doc[4] == 2);
	CHECK_RC(fwc_agent_record_decode(&port, &r, doc, n), FWC_OK);
	CHECK(r.tx_nonce == 5 && r.abandoned == 0);
	r.abandoned = 40;
	check_example_fields(&r);
	CHECK_RC(fwc_agent_record_encode(&port, enc, sizeof(enc), &len, &r), FWC_OK);
	CHECK(len == 512 && doc_example(v3, sizeof(v3)) == 512 && memcmp(enc, v3, 512) == 0);
	/* a version 2 length under version 3, and the reverse, are malformed */
	doc[4] = 3;
	CHECK_RC(fwc_agent_record_decode(&port, &r, doc, sizeof(doc)), FWC_ERR_MALFORMED);
	v3[4] = 2;
	CHECK_RC(fwc_agent_record_decode(&port, &r, v3, sizeof(v3)), FWC_ERR_MALFORMED);
	doc[4] = 2;

	/* in the store: copy 0 holds the version 2 record (seq 7) */
	CHECK_RC(fwc_port_record_write(&port, 0, doc, n), FWC_OK);
	CHECK_RC(fwc_agent_store_load(&st, &port, 777), FWC_OK);
	CHECK(st.status == FWC_AGENT_LOAD_ONE && st.newest == 0);
	CHECK(st.cur.floor == 42 && st.cur.tx_nonce == 5 && st.cur.abandoned == 0);
	r = st.cur;
	r.abandoned = 44;
	CHECK_RC(fwc_agent_store_commit(&st, &r), FWC_OK);
	CHECK_RC(fwc_port_record_read(&port, enc, sizeof(enc), &got, 1), FWC_OK);
	CHECK(got >= 512 && enc[4] == 3 && enc[6] == 0x00 && enc[7] == 0x02);
	CHECK_RC(fwc_agent_store_load(&st, &port, 777), FWC_OK);
	CHECK(st.status == FWC_AGENT_LOAD_BOTH && st.newest == 1 && st.cur.seq == 8);
	CHECK(st.cur.abandoned == 44 && st.cur.tx_nonce == 5 && st.cur.event_count == 2);
	CHECK(st.cur.download.verified == 524288 && st.cur.checkpoint.size == 1234);
}

static void test_decode_rules(void)
{
	uint8_t good[FWC_AGENT_RECORD_MAX], b[FWC_AGENT_RECORD_MAX];
	struct fwc_agent_record r, out;
	const size_t L = FWC_AGENT_RECORD_LEN;
	size_t len = 0;

	example_record(&r);
	CHECK_RC(fwc_agent_record_encode(&port, good, sizeof(good), &len, &r), FWC_OK);

	memcpy(b, good, L);
	CHECK_RC(fwc_agent_record_decode(&port, &out, b, 7), FWC_ERR_TRUNCATED);
	CHECK_RC(fwc_agent_record_decode(&port, &out, b, L - 1), FWC_ERR_TRUNCATED);
	b[0] = 'X';
	CHECK_RC(fwc_agent_record_decode(&port, &out, b, L), FWC_ERR_MALFORMED);
	memcpy(b, good, L);
	b[4] = 4;
	CHECK_RC(fwc_agent_record_decode(&port, &out, b, L), FWC_ERR_UNSUPPORTED);
	memcpy(b, good, L);
	b[4] = 1; /* versions 1 and 2 have other lengths */
	CHECK_RC(fwc_agent_record_decode(&port, &out, b, L), FWC_ERR_MALFORMED);
	b[4] = 2;
	CHECK_RC(fwc_agent_record_decode(&port, &out, b, L), FWC_ERR_MALFORMED);
	memcpy(b, good, L);
	b[6] ^= 1; /* length no longer 320 + 24 Q */
	CHECK_RC(fwc_agent_record_decode(&port, &out, b, L), FWC_ERR_MALFORMED);
	memcpy(b, good, L);
	b[5] = 0;
	CHECK_RC(fwc_agent_record_decode(&port, &out, b, L), FWC_ERR_MALFORMED);
	memcpy(b, good, L);
	b[100] ^= 0x40;
	CHECK_RC(fwc_agent_record_decode(&port, &out, b, L), FWC_ERR_HASH_MISMATCH);

	/* reserved bytes and unused event entries must be zero, even under a right hash */
	static const size_t zero_bytes[] = {169, 170, 171, 269, 270, 271, 288 + 48, 479};
	for (size_t i = 0; i < sizeof(zero_bytes) / sizeof(zero_bytes[0]); i++) {
		memcpy(b, good, L);
		b[zero_bytes[i]] = 1;
		rehash(b, L);
		CHECK_RC(fwc_agent_record_decode(&port, &out, b, L), FWC_ERR_MALFORMED);
	}

	/* value rules */
	struct {
		size_t off;
		uint8_t val;
	} range[] = {
	    {12, 2},      /* active slot out of range */
	    {13, 1},      /* pending == active (B) */
	    {13, 7},      /* pending slot out of range */
	    {14, 1},      /* attempts without a pending image */
	    {15, 2},      /* download state out of range */
	    {168, 1},     /* download into the active slot */
	    {268, 9},     /* more events than the queue holds */
	    {288 + 4, 0}, /* a used event entry with type 0 */
	    {72 + 8, 1},  /* pending image data with nothing pending */
	};
	for (size_t i = 0; i < sizeof(range) / sizeof(range[0]); i++) {
		memcpy(b, good, L);
		b[range[i].off] = range[i].val;
		rehash(b, L);
		CHECK_RC(fwc_agent_record_decode(&port, &out, b, L), FWC_ERR_RANGE);
	}
	/* verified beyond the image size */
	memcpy(b, good, L);
	b[252 + 3] = 0x40; /* 0x40080000 > 2 MiB */
	rehash(b, L);
	CHECK_RC(fwc_agent_record_decode(&port, &out, b, L), FWC_ERR_RANGE);
	/* a download while an image is pending */
	memcpy(b, good, L);
	b[13] = 0;
	b[72 + 8] = 1; /* pending size 1 */
	rehash(b, L);
	CHECK_RC(fwc_agent_record_decode(&port, &out, b, L), FWC_ERR_RANGE);
	/* the same with no download is a valid record */
	memset(b + 168, 0, 92);
	b[15] = 0;
	rehash(b, L);
	CHECK_RC(fwc_agent_record_decode(&port, &out, b, L), FWC_OK);
	CHECK(out.pending_slot == FWC_SLOT_A && out.pending.size == 1);

	/* encode refuses what decode would refuse */
	r.active_slot = 3;
	CHECK_RC(fwc_agent_record_encode(&port, b, sizeof(b), &len, &r), FWC_ERR_RANGE);
	example_record(&r);
	r.download.verified = r.download.image.size + 1;
	CHECK_RC(fwc_agent_record_encode(&port, b, sizeof(b), &len, &r), FWC_ERR_RANGE);
}

/* A record written by a build with a 10-event queue keeps its newest 8 events here. */
static void test_other_queue_size(void)
{
	uint8_t b[FWC_AGENT_RECORD_MAX];
	struct fwc_agent_record r, out;
	size_t len = 0, L10 = FWC_AGENT_RECORD_LEN_Q(10);

	example_record(&r);
	CHECK_RC(fwc_agent_record_encode(&port, b, sizeof(b), &len, &r), FWC_OK);
	b[5] = 10;
	b[6] = (uint8_t)L10;
	b[7] = (uint8_t)(L10 >> 8);
	b[268] = 10;
	memset(b + 288, 0, 240);
	for (int i = 0; i < 10; i++) {
		uint8_t *e = b + 288 + 24 * i;

		e[0] = (uint8_t)(100 + i); /* seq */
		e[4] = FWC_AGENT_EV_ROLLED_BACK;
		e[8] = (uint8_t)i; /* counter */
	}
	b[264] = 5; /* already 5 dropped */
	rehash(b, L10);
	CHECK_RC(fwc_agent_record_decode(&port, &out, b, L10), FWC_OK);
	CHECK(out.event_count == 8 && out.events_dropped == 7);
	CHECK(out.events[0].seq == 102 && out.events[7].seq == 109 && out.events[7].counter == 9);
}

static void test_push_event(void)
{
	struct fwc_agent_record r;

	fwc_agent_record_factory(&r, 9);
	CHECK(r.active_slot == FWC_SLOT_A && r.pending_slot == FWC_SLOT_NONE && r.floor == 9);
	for (int i = 0; i < 10; i++)
		fwc_agent_record_push_event(&r, FWC_AGENT_EV_CONFIRMED, 0, -100000, (uint64_t)i, 0);
	CHECK(r.event_count == FWC_AGENT_EVENT_QUEUE && r.events_dropped == 2);
	CHECK(r.events[0].seq == 2 && r.events[0].counter == 2);
	CHECK(r.events[7].seq == 9 && r.next_event_seq == 10);
	CHECK(r.events[7].code == -32768); /* clamped to the 16-bit field */
}

static uint64_t load_floor(struct fwc_agent_store *st, uint8_t *status)
{
	CHECK_RC(fwc_agent_store_load(st, &port, 777), FWC_OK);
	*status = st->status;
	return st->cur.floor;
}

static void commit_floor(struct fwc_agent_store *st, uint64_t floor)
{
	struct fwc_agent_record n = st->cur;

	n.floor = floor;
	CHECK_RC(fwc_agent_store_commit(st, &n), FWC_OK);
}

static void test_store_alternates(void)
{
	static struct fwc_agent_store st, st2;
	uint8_t status;

	setup();
	CHECK(load_floor(&st, &status) == 777 && status == FWC_AGENT_LOAD_BLANK);
	CHECK(st.newest == FWC_SLOT_NONE);
	commit_floor(&st, 1);
	CHECK(st.newest == 0 && st.cur.seq == 1);
	commit_floor(&st, 2);
	CHECK(st.newest == 1 && st.cur.seq == 2);
	commit_floor(&st, 3);
	CHECK(st.newest == 0 && st.cur.seq == 3);
	CHECK(port.record_writes == 3);
	/* both valid: the newest (copy 0, seq 3) wins over copy 1 (seq 2) */
	CHECK(load_floor(&st2, &status) == 3 && status == FWC_AGENT_LOAD_BOTH);
	CHECK(st2.newest == 0 && st2.cur.seq == 3 && st2.valid_mask == 3);
	commit_floor(&st2, 4);
	CHECK(st2.newest == 1);
	CHECK(load_floor(&st, &status) == 4 && st.newest == 1);
	teardown();
}

/* The newest copy torn at every possible point: the older copy's state comes back. */
static void test_torn_newest(void)
{
	static struct fwc_agent_store st, ld;
	uint8_t old0[FWC_AGENT_RECORD_MAX], newer[FWC_AGENT_RECORD_MAX];
	uint8_t mixed[FWC_AGENT_RECORD_MAX];
	const size_t L = FWC_AGENT_RECORD_LEN;
	struct fwc_agent_record n;
	size_t got = 0, len = 0;
	uint8_t status;
	int bad = 0;

	setup();
	load_floor(&st, &status);
	commit_floor(&st, 10); /* copy 0, seq 1 */
	commit_floor(&st, 11); /* copy 1, seq 2 */
	CHECK_RC(fwc_port_record_read(&port, old0, sizeof(old0), &got, 0), FWC_OK);
	CHECK(got == L);
	/* the next version (seq 3, floor 12) goes over copy 0; tear it after k bytes */
	n = st.cur;
	n.floor = 12;
	n.seq = 3;
	CHECK_RC(fwc_agent_record_encode(&port, newer, sizeof(newer), &len, &n), FWC_OK);
	for (size_t k = 0; k <= L; k++) {
		memcpy(mixed, newer, k);
		memcpy(mixed + k, old0 + k, L - k);
		CHECK_RC(fwc_port_record_write(&port, 0, mixed, L), FWC_OK);
		CHECK_RC(fwc_agent_store_load(&ld, &port, 777), FWC_OK);
		if (k == L)
			bad += !(ld.cur.floor == 12 && ld.cur.seq == 3 && ld.newest == 0);
		else
			bad += !(ld.cur.floor == 11 && ld.cur.seq == 2 && ld.newest == 1);
	}
	CHECK(bad == 0);

	/* The same through the port's power-loss injector: a commit cut at its write. */
	CHECK_RC(fwc_port_record_write(&port, 0, old0, L), FWC_OK);
	for (int i = 0; i < 40; i++) {
		static struct fwc_agent_store s2;
		uint64_t before;

		CHECK_RC(fwc_agent_store_load(&s2, &port, 777), FWC_OK);
		before = s2.cur.floor;
		n = s2.cur;
		n.floor = before + 1;
		port.cut_at = port.ops;
		CHECK_RC(fwc_agent_store_commit(&s2, &n), FWC_ERR_IO);
		CHECK(port.power_lost);
		/* power cycle */
		fwc_posix_close(&port);
		CHECK_RC(test_open(&port, dir), FWC_OK);
		port.ops = 1000 + i; /* vary the tear point */
		CHECK_RC(fwc_agent_store_load(&s2, &port, 777), FWC_OK);
		CHECK(s2.cur.floor == before || s2.cur.floor == before + 1);
		CHECK(s2.status == FWC_AGENT_LOAD_BOTH || s2.status == FWC_AGENT_LOAD_ONE);
	}
	teardown();
}

/* Both copies corrupt (or both blank) gives the factory state, never an error. */
static void test_both_corrupt(void)
{
	static struct fwc_agent_store st;
	uint8_t junk[FWC_AGENT_RECORD_LEN];
	uint8_t status;

	setup();
	load_floor(&st, &status);
	commit_floor(&st, 50);
	commit_floor(&st, 51);
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)(i * 37 + 1);
	CHECK_RC(fwc_port_record_write(&port, 0, junk, sizeof(junk)), FWC_OK);
	CHECK_RC(fwc_port_record_write(&port, 1, junk, 100), FWC_OK);
	CHECK(load_floor(&st, &status) == 777 && status == FWC_AGENT_LOAD_CORRUPT);
	CHECK(st.cur.active_slot == FWC_SLOT_A && st.cur.pending_slot == FWC_SLOT_NONE);
	CHECK(st.valid_mask == 0 && st.newest == FWC_SLOT_NONE);
	/* erased flash in both areas is blank, not corrupt */
	memset(junk, 0xFF, sizeof(junk));
	CHECK_RC(fwc_port_record_write(&port, 0, junk, sizeof(junk)), FWC_OK);
	CHECK_RC(fwc_port_record_write(&port, 1, junk, sizeof(junk)), FWC_OK);
	CHECK(load_floor(&st, &status) == 777 && status == FWC_AGENT_LOAD_BLANK);
	/* one copy torn, the other blank: a first commit torn, a fresh device */
	CHECK_RC(fwc_port_record_write(&port, 0, junk, 0), FWC_OK);
	junk[7] = 0;
	CHECK_RC(fwc_port_record_write(&port, 1, junk, sizeof(junk)), FWC_OK);
	CHECK(load_floor(&st, &status) == 777 && status == FWC_AGENT_LOAD_BLANK);
	/* and the store recovers: the next commit makes a valid record again */
	commit_floor(&st, 52);
	CHECK(load_floor(&st, &status) == 52 && status == FWC_AGENT_LOAD_ONE);
	teardown();
}

/* Every single-byte corruption of either copy: the other copy's state is loaded. */
static void test_every_byte(void)
{
	static struct fwc_agent_store st;
	uint8_t c0[FWC_AGENT_RECORD_MAX], c1[FWC_AGENT_RECORD_MAX], b[FWC_AGENT_RECORD_MAX];
	static const uint8_t flips[] = {0x01, 0x80, 0xFF, 0x5A};
	const size_t L = FWC_AGENT_RECORD_LEN;
	size_t got = 0;
	uint8_t status;
	int bad = 0, cases = 0;

	setup();
	load_floor(&st, &status);
	{
		struct fwc_agent_record n;

		example_record(&n); /* every field in use */
		n.download.active = 0;
		memset(&n.download, 0, sizeof(n.download));
		n.floor = 20;
		CHECK_RC(fwc_agent_store_commit(&st, &n), FWC_OK); /* copy 0, seq 1 */
		n.floor = 21;
		CHECK_RC(fwc_agent_store_commit(&st, &n), FWC_OK); /* copy 1, seq 2 */
	}
	CHECK_RC(fwc_port_record_read(&port, c0, sizeof(c0), &got, 0), FWC_OK);
	CHECK_RC(fwc_port_record_read(&port, c1, sizeof(c1), &got, 1), FWC_OK);
	for (int copy = 0; copy < 2; copy++) {
		for (size_t pos = 0; pos < L; pos++) {
			for (size_t f = 0; f < sizeof(flips); f++) {
				memcpy(b, copy == 0 ? c0 : c1, L);
				b[pos] ^= flips[f];
				CHECK_RC(fwc_port_record_write(&port, (uint8_t)copy, b, L), FWC_OK);
				CHECK_RC(fwc_agent_store_load(&st, &port, 777), FWC_OK);
				/* corrupting copy 0 (older) leaves 21, copy 1 (newest) gives 20 */
				bad += st.cur.floor != (copy == 0 ? 21u : 20u);
				bad += st.status != FWC_AGENT_LOAD_ONE;
				bad += st.cur.event_count != 2;
				cases++;
			}
		}
		CHECK_RC(fwc_port_record_write(&port, (uint8_t)copy, copy == 0 ? c0 : c1, L),
		         FWC_OK);
	}
	CHECK(cases == 2 * 512 * 4);
	CHECK(bad == 0);
	teardown();
}

/* Sequence numbers order correctly across the 32-bit wrap. */
static void test_seq_wrap(void)
{
	static struct fwc_agent_store st;
	uint8_t b[FWC_AGENT_RECORD_MAX];
	struct fwc_agent_record r;
	size_t len = 0;

	setup();
	for (int order = 0; order < 2; order++) {
		fwc_agent_record_factory(&r, 0);
		r.seq = 0xFFFFFFFFu;
		r.floor = 1;
		CHECK_RC(fwc_agent_record_encode(&port, b, sizeof(b), &len, &r), FWC_OK);
		CHECK_RC(fwc_port_record_write(&port, (uint8_t)order, b, len), FWC_OK);
		r.seq = 0; /* one after 0xFFFFFFFF */
		r.floor = 2;
		CHECK_RC(fwc_agent_record_encode(&port, b, sizeof(b), &len, &r), FWC_OK);
		CHECK_RC(fwc_port_record_write(&port, (uint8_t)!order, b, len), FWC_OK);
		CHECK_RC(fwc_agent_store_load(&st, &port, 0), FWC_OK);
		CHECK(st.cur.floor == 2 && st.cur.seq == 0 && st.newest == !order);
		/* and the next commit goes over the 0xFFFFFFFF copy with seq 1 */
		r = st.cur;
		r.floor = 3;
		CHECK_RC(fwc_agent_store_commit(&st, &r), FWC_OK);
		CHECK(st.cur.seq == 1 && st.newest == order);
	}
	teardown();
}

int main(void)
{
	setup();
	RUN(test_worked_example);
	RUN(test_version_1);
	RUN(test_version_2);
	RUN(test_decode_rules);
	RUN(test_other_queue_size);
	RUN(test_push_event);
	teardown();
	RUN(test_store_alternates);
	RUN(test_torn_newest);
	RUN(test_both_corrupt);
	RUN(test_every_byte);
	RUN(test_seq_wrap);
	return test_done();
}
