/* Tests lib/bundle.c: the CBOR layout against bytes assembled by hand in this file, the worked
 * example of docs/formats/bundle.md (read from the doc itself, so doc and code cannot drift),
 * decode/encode round trips and refusals, the tlog-proof text form (round trip and the C2SP
 * example), and fwc_bundle_verify's per-check report for a good bundle and each way to break
 * one. Keys: tests/vectors/c2sp/fwchain-keys.txt. */
#include "test.h"

#include "fwchain/base64.h"
#include "fwchain/bundle.h"
#include "fwchain/err.h"
#include "fwchain/hex.h"
#include "fwchain/key.h"
#include "fwchain/merkle.h"
#include "fwchain/note.h"

#include <stdint.h>

static struct fwc_seckey w1;
static struct fwc_note_vkey vk[3];

static const char *txs[3] = {"keyset v1", "keyset v2", "release 1.2"};
static uint8_t leaves[3][32];
static char note_buf[2048];
static size_t note_len;

static size_t read_file(char *buf, size_t cap, const char *path)
{
	FILE *f = fopen(path, "rb");
	size_t n;

	if (f == NULL) {
		fprintf(stderr, "cannot open %s\n", path);
		return 0;
	}
	n = fread(buf, 1, cap - 1, f);
	fclose(f);
	buf[n] = '\0';
	return n;
}

/* w1's key from the checked-in seeds and the three witness vkeys. */
static void setup(void)
{
	static char buf[4096];
	static const char *names[3] = {"c2sp/fwchain-w1.vkey", "c2sp/fwchain-w2.vkey",
	                               "c2sp/fwchain-w3.vkey"};
	char path[512];
	const char *p;
	uint8_t seed[32];
	size_t n;

	n = read_file(buf, sizeof(buf),
	              test_vector_path(path, sizeof(path), "c2sp/fwchain-keys.txt"));
	p = strstr(buf, "witness.example.com/w1 4 ");
	CHECK(n > 0 && p != NULL);
	if (p == NULL)
		return;
	CHECK(test_unhex(seed, 32, p + strlen("witness.example.com/w1 4 ")) == 32);
	CHECK_RC(fwc_key_from_secret(&w1, FWC_ALG_ED25519, seed), FWC_OK);
	for (int i = 0; i < 3; i++) {
		n = read_file(buf, sizeof(buf), test_vector_path(path, sizeof(path), names[i]));
		CHECK_RC(fwc_note_vkey_parse(&vk[i], buf, n, NULL), FWC_OK);
	}
	for (int i = 0; i < 3; i++)
		CHECK_RC(fwc_merkle_leaf_hash(leaves[i], txs[i], strlen(txs[i])), FWC_OK);
}

/* The example of docs/formats/bundle.md: a tree of 3 transactions, the release at index 2, the
 * key-set rotation "keyset v1" at index 0 as an extra, a checkpoint cosigned by w1. */
static void example(struct fwc_bundle *b, uint8_t path_r[1][32], uint8_t path_x[2][32])
{
	uint8_t root[32];
	char text[512];
	size_t tl = 0;
	struct fwc_note_signer s = {"witness.example.com/w1", 22, FWC_NOTE_SIG_COSIG_V1, &w1,
	                            1700000000};
	static const struct fwc_note_line ext[1] = {{"height 3", 8}};

	CHECK_RC(fwc_merkle_root(root, (const uint8_t(*)[32])leaves, 3), FWC_OK);
	CHECK_RC(fwc_checkpoint_format(text, sizeof(text), &tl, "example.com/fwchain-test", 24, 3,
	                               root, ext, 1),
	         FWC_OK);
	CHECK_RC(fwc_note_sign_text(note_buf, sizeof(note_buf), &note_len, text, tl, &s), FWC_OK);
	/* RFC 6962 paths by hand: leaf 2 of 3 needs MTH(D[0:2]); leaf 0 needs D[1], then D[2]. */
	CHECK_RC(fwc_merkle_node_hash(path_r[0], leaves[0], leaves[1]), FWC_OK);
	memcpy(path_x[0], leaves[1], 32);
	memcpy(path_x[1], leaves[2], 32);
	memset(b, 0, sizeof(*b));
	b->release = (struct fwc_bundle_entry){(const uint8_t *)txs[2], strlen(txs[2]), 2,
	                                       (const uint8_t(*)[32])path_r, 1};
	b->size = 3;
	b->checkpoint = note_buf;
	b->checkpoint_len = note_len;
	b->n_extra = 1;
	b->extra[0] = (struct fwc_bundle_entry){(const uint8_t *)txs[0], strlen(txs[0]), 0,
	                                        (const uint8_t(*)[32])path_x, 2};
}

static size_t put(uint8_t *o, const void *p, size_t n)
{
	memcpy(o, p, n);
	return n;
}

static void test_layout(void)
{
	struct fwc_bundle b, d;
	uint8_t pr[1][32], px[2][32];
	static uint8_t enc[4096], want[4096];
	size_t el = 0, wl = 0;

	example(&b, pr, px);
	CHECK_RC(fwc_bundle_encode(enc, sizeof(enc), &el, &b), FWC_OK);
	/* The same map assembled byte by byte from RFC 8949 heads. */
	wl += put(want + wl, "\xa7\x00\x01", 3); /* map(7), 0: 1 */
	wl += put(want + wl, "\x01\x4b", 2);     /* 1: bytes(11) */
	wl += put(want + wl, txs[2], 11);
	wl += put(want + wl, "\x02\x02\x03\x03\x04\x58\x20", 7); /* 2: 2, 3: 3, 4: bytes(32) */
	wl += put(want + wl, pr[0], 32);
	want[wl++] = 0x05; /* 5: text(note_len) */
	want[wl++] = 0x78;
	want[wl++] = (uint8_t)note_len;
	wl += put(want + wl, note_buf, note_len);
	wl += put(want + wl, "\x06\x81\xa3\x01\x49", 5); /* 6: [ {1: bytes(9) */
	wl += put(want + wl, txs[0], 9);
	wl += put(want + wl, "\x02\x00\x04\x58\x40", 5); /* 2: 0, 4: bytes(64) } ] */
	wl += put(want + wl, px, 64);
	CHECK(note_len >= 24 && note_len < 256);
	CHECK(el == wl && memcmp(enc, want, wl) == 0);

	CHECK_RC(fwc_bundle_decode(&d, enc, el, NULL), FWC_OK);
	CHECK(d.release.tx_len == 11 && memcmp(d.release.tx, txs[2], 11) == 0);
	CHECK(d.release.index == 2 && d.size == 3 && d.release.path_len == 1);
	CHECK(d.release.path == (const uint8_t(*)[32])(enc + 3 + 11 + 2 + 7)); /* zero-copy */
	CHECK(d.checkpoint_len == note_len && memcmp(d.checkpoint, note_buf, note_len) == 0);
	CHECK(d.n_extra == 1 && d.extra[0].index == 0 && d.extra[0].path_len == 2);
	{
		static uint8_t again[4096];
		size_t al = 0;

		CHECK_RC(fwc_bundle_encode(again, sizeof(again), &al, &d), FWC_OK);
		CHECK(al == el && memcmp(again, enc, el) == 0);
		CHECK_RC(fwc_bundle_encode(NULL, 0, &al, &d), FWC_OK);
		CHECK(al == el);
		CHECK_RC(fwc_bundle_encode(again, el - 1, &al, &d), FWC_ERR_BUFSIZE);
	}
}

/* docs/formats/bundle.md carries the example's bytes in hex between two marker lines. */
static void test_doc_example(void)
{
	static char doc[65536], hex[8192];
	static uint8_t enc[4096], fromdoc[4096];
	char path[512];
	struct fwc_bundle b;
	uint8_t pr[1][32], px[2][32];
	const char *start, *end;
	size_t n, el = 0, hl = 0, dl = 0;

	n = read_file(doc, sizeof(doc),
	              test_vector_path(path, sizeof(path), "../../docs/formats/bundle.md"));
	CHECK(n > 0);
	start = strstr(doc, "<!-- example-bundle-hex -->");
	end = start ? strstr(start, "<!-- /example-bundle-hex -->") : NULL;
	CHECK(start != NULL && end != NULL);
	if (start == NULL || end == NULL)
		return;
	for (const char *p = start + strlen("<!-- example-bundle-hex -->"); p < end; p++)
		if ((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f'))
			hex[hl++] = *p;
	CHECK_RC(fwc_hex_decode(fromdoc, sizeof(fromdoc), &dl, hex, hl), FWC_OK);
	example(&b, pr, px);
	CHECK_RC(fwc_bundle_encode(enc, sizeof(enc), &el, &b), FWC_OK);
	CHECK(dl == el && memcmp(fromdoc, enc, el) == 0);
	if (dl != el || memcmp(fromdoc, enc, el) != 0) {
		fprintf(stderr, "docs/formats/bundle.md example should be:\n");
		for (size_t i = 0; i < el; i++)
			fprintf(stderr, "%02x%s", enc[i], (i % 32 == 31) ? "\n" : "");
		fprintf(stderr, "\n");
	}
}

static void test_decode_refusals(void)
{
	struct fwc_bundle b, d;
	uint8_t pr[1][32], px[2][32];
	static uint8_t enc[4096], bad[4096];
	struct fwc_errinfo ei;
	size_t el = 0;

	example(&b, pr, px);
	CHECK_RC(fwc_bundle_encode(enc, sizeof(enc), &el, &b), FWC_OK);

	memcpy(bad, enc, el);
	bad[el] = 0x00;
	CHECK_RC(fwc_bundle_decode(&d, bad, el + 1, &ei), FWC_ERR_TRAILING);
	CHECK_RC(fwc_bundle_decode(&d, enc, el - 1, &ei), FWC_ERR_TRUNCATED);
	memcpy(bad, enc, el);
	bad[2] = 0x02; /* version 2 */
	CHECK_RC(fwc_bundle_decode(&d, bad, el, &ei), FWC_ERR_UNSUPPORTED);
	CHECK(strstr(ei.msg, "version 2") != NULL);
	memcpy(bad, enc, el);
	bad[el - 67] = 0x07; /* extra entry key 4 -> 7 */
	CHECK_RC(fwc_bundle_decode(&d, bad, el, &ei), FWC_ERR_UNKNOWN_FIELD);

	/* Bundles assembled without the encoder's help. */
	{
		static const uint8_t missing[] = {0xa2, 0x00, 0x01, 0x01, 0x41, 0x78};
		static const uint8_t unknown[] = {0xa1, 0x07, 0x00};
		static const uint8_t unsorted[] = {0xa2, 0x01, 0x41, 0x78, 0x00, 0x01};
		static const uint8_t path33[] = {0xa1, 0x04, 0x58, 0x21, 0};
		static const uint8_t noextra[] = {0xa1, 0x06, 0x80};
		static const uint8_t notmap[] = {0x80};
		static uint8_t buf[64];

		CHECK_RC(fwc_bundle_decode(&d, missing, sizeof(missing), &ei),
		         FWC_ERR_MISSING_FIELD);
		CHECK(strstr(ei.msg, "index") != NULL);
		CHECK_RC(fwc_bundle_decode(&d, unknown, sizeof(unknown), &ei),
		         FWC_ERR_UNKNOWN_FIELD);
		CHECK_RC(fwc_bundle_decode(&d, unsorted, sizeof(unsorted), &ei), FWC_ERR_UNSORTED);
		memcpy(buf, path33, sizeof(path33));
		CHECK_RC(fwc_bundle_decode(&d, buf, 4 + 33, &ei), FWC_ERR_MALFORMED);
		CHECK(strstr(ei.msg, "not a multiple of 32") != NULL);
		CHECK_RC(fwc_bundle_decode(&d, noextra, sizeof(noextra), &ei),
		         FWC_ERR_NONCANONICAL);
		CHECK_RC(fwc_bundle_decode(&d, notmap, sizeof(notmap), &ei), FWC_ERR_TYPE);
	}
	/* Encoder bounds. */
	b.release.path_len = FWC_BUNDLE_MAX_PATH + 1;
	CHECK_RC(fwc_bundle_encode(enc, sizeof(enc), &el, &b), FWC_ERR_TOO_LARGE);
}

static int check_rc(const struct fwc_bundle_report *r, const char *name)
{
	for (size_t i = 0; i < r->n_checks; i++)
		if (strcmp(r->checks[i].name, name) == 0)
			return r->checks[i].rc;
	return 12345;
}

static void test_verify(void)
{
	static struct fwc_bundle_report rep;
	struct fwc_bundle b, t;
	uint8_t pr[1][32], px[2][32];
	struct fwc_bundle_trust trust = {vk, 3, 1, "example.com/fwchain-test", 24};
	struct fwc_errinfo ei;
	static char tampered[2048];
	char *p;

	example(&b, pr, px);
	CHECK_RC(fwc_bundle_verify(&rep, &b, &trust, leaves[2], &ei), FWC_OK);
	CHECK(rep.n_checks == 7);
	for (size_t i = 0; i < rep.n_checks; i++)
		CHECK(rep.checks[i].rc == FWC_OK);
	CHECK(strcmp(rep.checks[0].name, "checkpoint") == 0);
	CHECK(rep.n_signers == 1 && rep.signers[0].valid && rep.signers[0].timestamp == 1700000000);
	CHECK(rep.cp.size == 3 && memcmp(rep.leaf_hash, leaves[2], 32) == 0);
	CHECK(strstr(rep.checks[2].msg, "1 of 3 trusted keys signed; 1 required") != NULL);
	CHECK_RC(fwc_bundle_verify(NULL, &b, &trust, NULL, NULL), FWC_OK);

	/* Quorum 2: only w1 cosigned. */
	trust.quorum = 2;
	CHECK_RC(fwc_bundle_verify(&rep, &b, &trust, NULL, &ei), FWC_ERR_QUORUM);
	CHECK(check_rc(&rep, "cosignatures") == FWC_ERR_QUORUM && check_rc(&rep, "inclusion") == 0);
	CHECK(strstr(ei.msg, "cosignatures: 1 of 3") != NULL);
	trust.quorum = 1;

	/* Another origin. */
	trust.origin = "example.com/other";
	trust.origin_len = 17;
	CHECK_RC(fwc_bundle_verify(&rep, &b, &trust, NULL, &ei), FWC_ERR_PROOF);
	CHECK(check_rc(&rep, "origin") == FWC_ERR_PROOF);
	trust.origin = "example.com/fwchain-test";
	trust.origin_len = 24;

	/* A different transaction at the same index. */
	t = b;
	t.release.tx = (const uint8_t *)"release 1.3";
	CHECK_RC(fwc_bundle_verify(&rep, &t, &trust, leaves[2], &ei), FWC_ERR_PROOF);
	CHECK(check_rc(&rep, "inclusion") == FWC_ERR_PROOF);
	CHECK(check_rc(&rep, "expected transaction") == FWC_ERR_HASH_MISMATCH);
	CHECK(check_rc(&rep, "cosignatures") == FWC_OK);

	/* The expected transaction is another one (the bundle itself is sound). */
	CHECK_RC(fwc_bundle_verify(&rep, &b, &trust, leaves[1], &ei), FWC_ERR_HASH_MISMATCH);

	/* Wrong index, wrong size, truncated path, bad extra. */
	t = b;
	t.release.index = 1;
	CHECK_RC(fwc_bundle_verify(&rep, &t, &trust, NULL, &ei), FWC_ERR_PROOF);
	t = b;
	t.size = 4;
	CHECK_RC(fwc_bundle_verify(&rep, &t, &trust, NULL, &ei), FWC_ERR_PROOF);
	CHECK(check_rc(&rep, "tree size") == FWC_ERR_PROOF && check_rc(&rep, "inclusion") == 0);
	t = b;
	t.release.path_len = 0;
	CHECK_RC(fwc_bundle_verify(&rep, &t, &trust, NULL, &ei), FWC_ERR_PROOF);
	CHECK(strstr(ei.msg, "inclusion: inclusion path has 0 hashes") != NULL);
	t = b;
	t.extra[0].index = 1;
	CHECK_RC(fwc_bundle_verify(&rep, &t, &trust, NULL, &ei), FWC_ERR_PROOF);
	CHECK(check_rc(&rep, "extra 1 inclusion") == FWC_ERR_PROOF &&
	      check_rc(&rep, "inclusion") == FWC_OK);

	/* A cosignature by a trusted key that does not verify. */
	memcpy(tampered, note_buf, note_len);
	p = strstr(tampered, "\n\n") + 2;
	p = strchr(strchr(p, ' ') + 1, ' ') + 30;
	*p = (*p == 'A') ? 'B' : 'A';
	t = b;
	t.checkpoint = tampered;
	CHECK_RC(fwc_bundle_verify(&rep, &t, &trust, NULL, &ei), FWC_ERR_BADSIG);
	CHECK(check_rc(&rep, "cosignatures") == FWC_ERR_BADSIG);

	/* An unreadable checkpoint: the dependent checks are reported as not run. */
	t = b;
	t.checkpoint = "not a note";
	t.checkpoint_len = 10;
	CHECK_RC(fwc_bundle_verify(&rep, &t, &trust, NULL, &ei), FWC_ERR_MALFORMED);
	CHECK(check_rc(&rep, "checkpoint") == FWC_ERR_MALFORMED);
	CHECK(check_rc(&rep, "cosignatures") == FWC_ERR_STATE);
	CHECK(check_rc(&rep, "inclusion") == FWC_ERR_STATE);
	CHECK(check_rc(&rep, "extra 1 inclusion") == FWC_ERR_STATE);

	trust.quorum = 0;
	CHECK_RC(fwc_bundle_verify(&rep, &b, &trust, NULL, &ei), FWC_ERR_ARG);
}

static void test_text(void)
{
	struct fwc_bundle b, d;
	uint8_t pr[1][32], px[2][32];
	static char text[4096], want[4096], spec[4096];
	static uint8_t scratch[4096];
	struct fwc_bundle_trust trust = {vk, 3, 1, NULL, 0};
	struct fwc_errinfo ei;
	char path[512];
	size_t tl = 0, wl, sl;

	example(&b, pr, px);
	CHECK_RC(fwc_bundle_text_export(text, sizeof(text), &tl, &b, 0), FWC_OK);
	/* "release 1.2" in base64 is cmVsZWFzZSAxLjI=. */
	wl = (size_t)snprintf(want, sizeof(want),
	                      "c2sp.org/tlog-proof@v1\nextra cmVsZWFzZSAxLjI=\nindex 2\n");
	{
		char b64[64];
		size_t bl = 0;
		fwc_base64_encode(b64, sizeof(b64), &bl, pr[0], 32);
		wl += (size_t)snprintf(want + wl, sizeof(want) - wl, "%s\n\n", b64);
	}
	memcpy(want + wl, note_buf, note_len);
	wl += note_len;
	CHECK(tl == wl && memcmp(text, want, wl) == 0);
	/* ... and is what docs/formats/bundle.md shows. */
	{
		static char doc[65536];
		const char *a, *z;

		read_file(doc, sizeof(doc),
		          test_vector_path(path, sizeof(path), "../../docs/formats/bundle.md"));
		a = strstr(doc, "<!-- example-tlog-proof -->\n```\n");
		z = a ? strstr(a, "```\n<!-- /example-tlog-proof -->") : NULL;
		CHECK(a != NULL && z != NULL);
		if (a != NULL && z != NULL) {
			a += strlen("<!-- example-tlog-proof -->\n```\n");
			CHECK((size_t)(z - a) == tl && memcmp(a, text, tl) == 0);
		}
	}

	CHECK_RC(fwc_bundle_text_parse(&d, scratch, sizeof(scratch), text, tl, NULL), FWC_OK);
	CHECK(d.release.tx_len == 11 && memcmp(d.release.tx, txs[2], 11) == 0);
	CHECK(d.release.index == 2 && d.size == 3 && d.release.path_len == 1 && d.n_extra == 0);
	CHECK(memcmp(d.release.path[0], pr[0], 32) == 0);
	CHECK_RC(fwc_bundle_verify(NULL, &d, &trust, leaves[2], NULL), FWC_OK);

	/* The extra entry exports as its own proof document. */
	CHECK_RC(fwc_bundle_text_export(text, sizeof(text), &tl, &b, 1), FWC_OK);
	CHECK_RC(fwc_bundle_text_parse(&d, scratch, sizeof(scratch), text, tl, NULL), FWC_OK);
	CHECK(d.release.index == 0 && d.release.path_len == 2);
	CHECK_RC(fwc_bundle_verify(NULL, &d, &trust, leaves[0], NULL), FWC_OK);
	CHECK_RC(fwc_bundle_text_export(text, sizeof(text), &tl, &b, 2), FWC_ERR_ARG);
	CHECK_RC(fwc_bundle_text_parse(&d, scratch, 20, text, tl, NULL), FWC_ERR_BUFSIZE);

	/* The C2SP example: its proof lines parse; its signatures are elided ("[...]"), so the
	 * checkpoint is refused at its first signature line. */
	sl = read_file(spec, sizeof(spec),
	               test_vector_path(path, sizeof(path), "c2sp/tlog-proof-example.txt"));
	CHECK(sl > 0);
	CHECK_RC(fwc_bundle_text_parse(&d, scratch, sizeof(scratch), spec, sl, &ei),
	         FWC_ERR_MALFORMED);
	CHECK(ei.offset > 0 && ei.offset < sl &&
	      memcmp(spec + (strstr(spec, "\xe2\x80\x94 example.com/fancylog") - spec), "\xe2",
	             1) == 0 &&
	      spec + ei.offset > strstr(spec, "\xe2\x80\x94 example.com/fancylog"));
	CHECK(strstr(ei.msg, "base64") != NULL);

#define BAD_TEXT(s, code, m)                                                                       \
	do {                                                                                       \
		CHECK_RC(fwc_bundle_text_parse(&d, scratch, sizeof(scratch), s, strlen(s), &ei),   \
		         code);                                                                    \
		CHECK(strstr(ei.msg, m) != NULL);                                                  \
	} while (0)
	BAD_TEXT("c2sp.org/tlog-proof@v2\n", FWC_ERR_MALFORMED, "first line");
	BAD_TEXT("c2sp.org/tlog-proof@v1\nindex 1\n", FWC_ERR_MISSING_FIELD, "no extra line");
	BAD_TEXT("c2sp.org/tlog-proof@v1\nextra eA==\nindex 01\n", FWC_ERR_MALFORMED,
	         "leading zeros");
	BAD_TEXT("c2sp.org/tlog-proof@v1\nextra eA==\nindex 1\neA==\n", FWC_ERR_MALFORMED,
	         "not 32");
	BAD_TEXT("c2sp.org/tlog-proof@v1\nextra eA==\nindex 1\n", FWC_ERR_TRUNCATED, "blank line");
	BAD_TEXT("c2sp.org/tlog-proof@v1\nextra e===\nindex 1\n", FWC_ERR_MALFORMED, "padding");
}

int main(void)
{
	setup();
	RUN(test_layout);
	RUN(test_doc_example);
	RUN(test_decode_refusals);
	RUN(test_verify);
	RUN(test_text);
	fwc_seckey_wipe(&w1);
	return test_done();
}
