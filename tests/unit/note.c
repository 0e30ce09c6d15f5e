/* Tests lib/note.c and lib/base64.c: the C2SP spec examples and the Go sumdb/note example byte
 * for byte (tests/vectors/c2sp/README.md says where each comes from), cosignatures produced by an
 * independent implementation (Python + OpenSSL Ed25519), round trips, quorum 2 of 3, a bad
 * signature by a known key, unknown keys ignored, duplicate lines, and malformed notes, vkeys and
 * checkpoints rejected with the message that says why. */
#include "test.h"

#include "fwchain/base64.h"
#include "fwchain/err.h"
#include "fwchain/hex.h"
#include "fwchain/key.h"
#include "fwchain/note.h"

#include <stdint.h>

static char bufs[8][8192];

/* Read a vectors file into bufs[slot]; returns its length (0 when missing, which fails). */
static size_t load(int slot, const char *name)
{
	char path[512];
	FILE *f = fopen(test_vector_path(path, sizeof(path), name), "rb");
	size_t n = 0;

	if (f == NULL) {
		fprintf(stderr, "cannot open %s\n", path);
		CHECK(0);
		return 0;
	}
	n = fread(bufs[slot], 1, sizeof(bufs[slot]) - 1, f);
	fclose(f);
	bufs[slot][n] = '\0';
	CHECK(n > 0);
	return n;
}

static int contains(const struct fwc_errinfo *ei, const char *s)
{
	if (strstr(ei->msg, s) != NULL)
		return 1;
	fprintf(stderr, "message \"%s\" lacks \"%s\"\n", ei->msg, s);
	return 0;
}

static void test_base64(void)
{
	uint8_t out[8];
	size_t n = 0;
	char s[16];
	struct fwc_errinfo ei;

	/* RFC 4648 §10 test vectors. */
	static const char *enc[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
	for (size_t i = 0; i < 7; i++) {
		CHECK_RC(fwc_base64_encode(s, sizeof(s), &n, (const uint8_t *)"foobar", i), FWC_OK);
		CHECK(n == strlen(enc[i]) && strcmp(s, enc[i]) == 0);
		CHECK_RC(fwc_base64_decode(out, sizeof(out), &n, enc[i], strlen(enc[i]), NULL),
		         FWC_OK);
		CHECK(n == i && memcmp(out, "foobar", i) == 0);
	}
	CHECK_RC(fwc_base64_decode(out, sizeof(out), &n, "Zh==", 4, &ei), FWC_ERR_NONCANONICAL);
	CHECK_RC(fwc_base64_decode(out, sizeof(out), &n, "Zm9=", 4, &ei), FWC_ERR_NONCANONICAL);
	CHECK_RC(fwc_base64_decode(out, sizeof(out), &n, "Zg=", 3, &ei), FWC_ERR_MALFORMED);
	CHECK_RC(fwc_base64_decode(out, sizeof(out), &n, "Zg", 2, &ei), FWC_ERR_MALFORMED);
	CHECK_RC(fwc_base64_decode(out, sizeof(out), &n, "Z=g=", 4, &ei), FWC_ERR_MALFORMED);
	CHECK(ei.offset == 1 && contains(&ei, "padding"));
	CHECK_RC(fwc_base64_decode(out, sizeof(out), &n, "Zm 9", 4, &ei), FWC_ERR_MALFORMED);
	CHECK(ei.offset == 2);
	CHECK_RC(fwc_base64_decode(out, sizeof(out), &n, "Zm9v-A==", 8, &ei), FWC_ERR_MALFORMED);
	CHECK_RC(fwc_base64_decode(out, sizeof(out), &n, "====", 4, &ei), FWC_ERR_MALFORMED);
	CHECK_RC(fwc_base64_decode(out, 2, &n, "Zm9v", 4, NULL), FWC_ERR_BUFSIZE);
	CHECK_RC(fwc_base64_encode(s, 4, &n, (const uint8_t *)"foo", 3), FWC_ERR_BUFSIZE);
	CHECK_RC(fwc_base64_decode(NULL, 0, &n, "Zm9vYg==", 8, NULL), FWC_OK);
	CHECK(n == 4);
}

/* c2sp.org/signed-note "Verifier keys / Example". */
static void test_spec_signed_note(void)
{
	size_t vl = load(0, "c2sp/signed-note-example.vkey");
	size_t nl = load(1, "c2sp/signed-note-example.note");
	struct fwc_note_vkey vk;
	static struct fwc_note note;
	struct fwc_note_check res[1];
	char text[FWC_NOTE_VKEY_TEXT_MAX];
	size_t nvalid = 0;

	CHECK_RC(fwc_note_vkey_parse(&vk, bufs[0], vl, NULL), FWC_OK);
	CHECK(vk.name_len == 15 && strcmp(vk.name, "example.com/foo") == 0);
	CHECK(vk.type == FWC_NOTE_SIG_ED25519);
	CHECK_MEM(vk.keyid, "\x53\x0d\x90\x3a", 4);
	CHECK_RC(fwc_note_vkey_format(text, sizeof(text), &vk), FWC_OK);
	CHECK(strlen(text) == vl && memcmp(text, bufs[0], vl) == 0);

	CHECK_RC(fwc_note_parse(&note, bufs[1], nl, NULL), FWC_OK);
	CHECK(note.text_len == 28 && memcmp(note.text, "This is an example message.\n", 28) == 0);
	CHECK(note.nsigs == 1);
	CHECK(note.sigs[0].name_len == 15 && note.sigs[0].sig_len == 64);
	CHECK_RC(fwc_note_verify_quorum(res, &nvalid, &note, &vk, 1, 1, NULL), FWC_OK);
	CHECK(nvalid == 1 && res[0].valid == 1 && res[0].timestamp == 0);
}

/* The quasimodo note (a text with a blank line in it) and the checkpoint/cosignature examples:
 * no published keys, so parse, read key ids and timestamps, and treat the signers as unknown. */
static void test_spec_examples_parse(void)
{
	static struct fwc_note note;
	struct fwc_checkpoint cp;
	struct fwc_note_vkey vk;
	struct fwc_note_check res[1];
	struct fwc_errinfo ei;
	uint8_t root[32];
	uint64_t t = 0;
	size_t n, vl;

	n = load(1, "c2sp/signed-note-quasimodo.note");
	CHECK_RC(fwc_note_parse(&note, bufs[1], n, NULL), FWC_OK);
	CHECK(note.nsigs == 1);
	CHECK(note.text_len ==
	      strlen("Ognuno sta solo sul cuor della terra\n"
	             "trafitto da un raggio di sole:\n\ned \xc3\xa8 subito sera.\n"));
	CHECK(note.sigs[0].name_len == 27 &&
	      memcmp(note.sigs[0].name, "quasimodo.example/salvatore", 27) == 0);
	CHECK_MEM(note.sigs[0].keyid, "\x36\x7b\xa0\x4b", 4);
	CHECK_RC(fwc_note_sig_timestamp(&t, &note.sigs[0]), FWC_ERR_TYPE);
	/* An unrelated trusted key: the note is ignored-signature-only, so no quorum. */
	vl = load(0, "c2sp/signed-note-example.vkey");
	CHECK_RC(fwc_note_vkey_parse(&vk, bufs[0], vl, NULL), FWC_OK);
	CHECK_RC(fwc_note_verify(res, &note, &vk, 1, NULL), FWC_OK);
	CHECK(res[0].valid == 0);
	CHECK_RC(fwc_note_verify_quorum(NULL, NULL, &note, &vk, 1, 1, &ei), FWC_ERR_QUORUM);
	CHECK(contains(&ei, "0 of 1 trusted keys"));

	n = load(1, "c2sp/tlog-checkpoint-example.note");
	CHECK_RC(fwc_note_parse(&note, bufs[1], n, NULL), FWC_OK);
	CHECK(note.nsigs == 1 && note.sigs[0].sig_len == 64);
	CHECK_MEM(note.sigs[0].keyid, "\x03\x3d\xe0\xae", 4);
	CHECK_RC(fwc_checkpoint_parse(&cp, note.text, note.text_len, NULL), FWC_OK);
	CHECK(cp.origin_len == 27 && memcmp(cp.origin, "example.com/behind-the-sofa", 27) == 0);
	CHECK(cp.size == 20852163);
	test_unhex(root, 32, "0ac5186a91863e8e1d90c808014aa89bf5da8e3ee1d9f07630f0378f68f1ab62");
	CHECK_MEM(cp.root, root, 32);
	CHECK(cp.n_ext == 0);

	n = load(1, "c2sp/tlog-cosignature-example.note");
	CHECK_RC(fwc_note_parse(&note, bufs[1], n, NULL), FWC_OK);
	CHECK(note.nsigs == 2);
	CHECK(note.sigs[1].name_len == 22 &&
	      memcmp(note.sigs[1].name, "witness.example.com/w1", 22) == 0);
	CHECK_MEM(note.sigs[1].keyid, "\x8d\x66\xcf\x3f", 4);
	CHECK(note.sigs[1].sig_len == 72);
	CHECK_RC(fwc_note_sig_timestamp(&t, &note.sigs[1]), FWC_OK);
	CHECK(t == 1679315147);
	CHECK_RC(fwc_checkpoint_parse(&cp, note.text, note.text_len, NULL), FWC_OK);
	CHECK(cp.size == 20852163);
}

/* golang.org/x/mod/sumdb/note's documented example: sign with the seed, get the note exactly. */
static void test_go_reference(void)
{
	size_t vl = load(0, "c2sp/go-sumdb-peterneumann.vkey");
	size_t sl = load(2, "c2sp/go-sumdb-peterneumann.skey");
	size_t nl = load(1, "c2sp/go-sumdb-peterneumann.note");
	static const char prefix[] = "PRIVATE+KEY+PeterNeumann+c74f20a3+";
	static struct fwc_note note;
	struct fwc_note_vkey vk;
	struct fwc_seckey sk;
	struct fwc_note_signer s;
	uint8_t raw[40];
	size_t rl = 0, outl = 0;
	char out[1024];

	CHECK_RC(fwc_note_vkey_parse(&vk, bufs[0], vl, NULL), FWC_OK);
	CHECK(sl > strlen(prefix) && memcmp(bufs[2], prefix, strlen(prefix)) == 0);
	CHECK_RC(fwc_base64_decode(raw, sizeof(raw), &rl, bufs[2] + strlen(prefix),
	                           sl - strlen(prefix), NULL),
	         FWC_OK);
	CHECK(rl == 33 && raw[0] == 0x01);
	CHECK_RC(fwc_key_from_secret(&sk, FWC_ALG_ED25519, raw + 1), FWC_OK);
	s = (struct fwc_note_signer){"PeterNeumann", 12, FWC_NOTE_SIG_ED25519, &sk, 0};
	CHECK_RC(fwc_note_parse(&note, bufs[1], nl, NULL), FWC_OK);
	CHECK_RC(fwc_note_sign_text(out, sizeof(out), &outl, note.text, note.text_len, &s), FWC_OK);
	CHECK(outl == nl && memcmp(out, bufs[1], nl) == 0);
	CHECK_RC(fwc_note_verify_quorum(NULL, NULL, &note, &vk, 1, 1, NULL), FWC_OK);
	fwc_seckey_wipe(&sk);
}

/* Keys of tests/vectors/c2sp/fwchain-keys.txt: log (ed25519), w1, w2, w3 (cosignature/v1). */
static struct fwc_seckey keys[4];
static const char *key_names[4] = {"example.com/fwchain-log", "witness.example.com/w1",
                                   "witness.example.com/w2", "witness.example.com/w3"};

static void load_keys(void)
{
	size_t n = load(3, "c2sp/fwchain-keys.txt");
	const char *p = bufs[3], *end = bufs[3] + n;
	int k = 0;

	while (p < end && k < 4) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *sp;
		uint8_t seed[32];

		if (eol == NULL)
			eol = end;
		if (*p != '#' && (sp = memchr(p, ' ', (size_t)(eol - p))) != NULL) {
			CHECK((size_t)(sp - p) == strlen(key_names[k]) &&
			      memcmp(p, key_names[k], (size_t)(sp - p)) == 0);
			CHECK(test_unhex(seed, 32, eol - 64) == 32);
			CHECK_RC(fwc_key_from_secret(&keys[k], FWC_ALG_ED25519, seed), FWC_OK);
			k++;
		}
		p = eol + 1;
	}
	CHECK(k == 4);
}

static void load_vkeys(struct fwc_note_vkey vk[4])
{
	static const char *files[4] = {"c2sp/fwchain-log.vkey", "c2sp/fwchain-w1.vkey",
	                               "c2sp/fwchain-w2.vkey", "c2sp/fwchain-w3.vkey"};

	for (int i = 0; i < 4; i++) {
		size_t n = load(0, files[i]);
		struct fwc_pubkey pk;
		struct fwc_note_vkey mine;

		CHECK_RC(fwc_note_vkey_parse(&vk[i], bufs[0], n, NULL), FWC_OK);
		/* The vkey we derive from the seed is the one Python printed. */
		CHECK_RC(fwc_key_public(&pk, &keys[i]), FWC_OK);
		CHECK_RC(fwc_note_vkey_init(&mine, key_names[i], strlen(key_names[i]),
		                            i == 0 ? FWC_NOTE_SIG_ED25519 : FWC_NOTE_SIG_COSIG_V1,
		                            &pk),
		         FWC_OK);
		CHECK_MEM(mine.keyid, vk[i].keyid, 4);
		CHECK_MEM(mine.pubkey, vk[i].pubkey, 32);
	}
}

static void test_fwchain_checkpoint(void)
{
	struct fwc_note_vkey vk[4];
	static struct fwc_note note, n2;
	struct fwc_checkpoint cp;
	struct fwc_note_check res[3];
	struct fwc_errinfo ei;
	struct fwc_note_signer s;
	static char a[4096], b[4096];
	size_t nl, al = 0, bl = 0, nvalid = 0, vl;
	const char *v;

	load_keys();
	load_vkeys(vk);
	nl = load(1, "c2sp/fwchain-checkpoint.note");
	CHECK_RC(fwc_note_parse(&note, bufs[1], nl, NULL), FWC_OK);
	CHECK(note.nsigs == 3);

	/* Our signer reproduces the independently generated note byte for byte. */
	s = (struct fwc_note_signer){key_names[0], strlen(key_names[0]), FWC_NOTE_SIG_ED25519,
	                             &keys[0], 0};
	CHECK_RC(fwc_note_sign_text(a, sizeof(a), &al, note.text, note.text_len, &s), FWC_OK);
	CHECK_RC(fwc_note_parse(&n2, a, al, NULL), FWC_OK);
	s = (struct fwc_note_signer){key_names[1], strlen(key_names[1]), FWC_NOTE_SIG_COSIG_V1,
	                             &keys[1], 1700000001};
	CHECK_RC(fwc_note_sign(b, sizeof(b), &bl, &n2, &s), FWC_OK);
	CHECK_RC(fwc_note_parse(&n2, b, bl, NULL), FWC_OK);
	s = (struct fwc_note_signer){key_names[2], strlen(key_names[2]), FWC_NOTE_SIG_COSIG_V1,
	                             &keys[2], 1700000002};
	CHECK_RC(fwc_note_sign(a, sizeof(a), &al, &n2, &s), FWC_OK);
	CHECK(al == nl && memcmp(a, bufs[1], nl) == 0);

	/* Quorum 2 of the 3 witnesses: w1 and w2 signed, w3 did not; the log line is unknown to
	 * this verifier set and ignored. */
	CHECK_RC(fwc_note_verify_quorum(res, &nvalid, &note, vk + 1, 3, 2, NULL), FWC_OK);
	CHECK(nvalid == 2);
	CHECK(res[0].valid && res[0].timestamp == 1700000001 && res[0].sig_index == 1);
	CHECK(res[1].valid && res[1].timestamp == 1700000002 && res[1].sig_index == 2);
	CHECK(!res[2].valid);
	CHECK_RC(fwc_note_verify_quorum(res, &nvalid, &note, vk + 1, 3, 3, &ei), FWC_ERR_QUORUM);
	CHECK(contains(&ei, "2 of 3 trusted keys signed the note; 3 required"));
	/* The log key alone, and all four together. */
	CHECK_RC(fwc_note_verify_quorum(res, &nvalid, &note, vk, 1, 1, NULL), FWC_OK);
	CHECK_RC(fwc_note_verify_quorum(NULL, &nvalid, &note, vk, 4, 3, NULL), FWC_OK);
	CHECK(nvalid == 3);
	CHECK_RC(fwc_note_verify_quorum(NULL, NULL, &note, vk, 4, 0, NULL), FWC_ERR_ARG);
	CHECK_RC(fwc_note_verify_quorum(NULL, NULL, &note, vk, 4, 5, NULL), FWC_ERR_ARG);

	/* The checkpoint and its extension lines. */
	CHECK_RC(fwc_checkpoint_parse(&cp, note.text, note.text_len, NULL), FWC_OK);
	CHECK(cp.size == 42 && cp.n_ext == 2);
	CHECK_RC(fwc_checkpoint_ext_find(&v, &vl, &cp, "height", 6), FWC_OK);
	CHECK(vl == 2 && memcmp(v, "12", 2) == 0);
	CHECK_RC(fwc_checkpoint_ext_find(&v, &vl, &cp, "time", 4), FWC_OK);
	CHECK(vl == 10 && memcmp(v, "1700000000", 10) == 0);
	CHECK_RC(fwc_checkpoint_ext_find(&v, &vl, &cp, "heigh", 5), FWC_ERR_NOT_FOUND);

	/* The spec's checkpoint cosigned over the spec's printed message verifies. */
	nl = load(1, "c2sp/fwchain-spec-cosigned.note");
	CHECK_RC(fwc_note_parse(&note, bufs[1], nl, NULL), FWC_OK);
	CHECK_RC(fwc_note_verify_quorum(res, NULL, &note, vk + 1, 1, 1, NULL), FWC_OK);
	CHECK(res[0].timestamp == 1679315147);
	nl = load(2, "c2sp/tlog-cosignature-message.txt");
	CHECK(nl > note.text_len &&
	      memcmp(bufs[2] + nl - note.text_len, note.text, note.text_len) == 0);
}

static void replace(char *buf, size_t len, const char *from, const char *to)
{
	char *p = NULL;
	size_t fl = strlen(from);

	for (size_t i = 0; i + fl <= len; i++)
		if (memcmp(buf + i, from, fl) == 0) {
			p = buf + i;
			break;
		}
	CHECK(p != NULL && strlen(to) == fl);
	if (p != NULL)
		memcpy(p, to, fl);
}

static void test_bad_and_unknown_signatures(void)
{
	struct fwc_note_vkey vk[4], amb[2], other;
	static struct fwc_note note;
	struct fwc_note_check res[3];
	struct fwc_errinfo ei;
	struct fwc_pubkey pk;
	static char dup[8192];
	size_t nl, dl;
	const char *w1line;

	load_vkeys(vk);
	nl = load(1, "c2sp/fwchain-checkpoint.note");
	/* Tamper inside w1's signature bytes (a middle character; base64 stays canonical). */
	replace(bufs[1], nl, "uqvjLhF3", "uqvjLhF4");
	CHECK_RC(fwc_note_parse(&note, bufs[1], nl, NULL), FWC_OK);
	CHECK_RC(fwc_note_verify_quorum(res, NULL, &note, vk + 1, 3, 1, &ei), FWC_ERR_BADSIG);
	CHECK(contains(&ei, "witness.example.com/w1+7ec980b1 does not verify"));
	CHECK(ei.offset == (size_t)(note.sigs[1].line - note.text));
	/* The same note with a verifier set that does not know w1: the bad line is ignored. */
	CHECK_RC(fwc_note_verify_quorum(res, NULL, &note, vk + 2, 1, 1, NULL), FWC_OK);
	/* A key with w1's name but another public key has another key id: also ignored. */
	CHECK_RC(fwc_key_public(&pk, &keys[3]), FWC_OK);
	CHECK_RC(
	    fwc_note_vkey_init(&other, "witness.example.com/w1", 22, FWC_NOTE_SIG_COSIG_V1, &pk),
	    FWC_OK);
	CHECK_RC(fwc_note_verify(res, &note, &other, 1, NULL), FWC_OK);
	CHECK(res[0].valid == 0);
	/* w1's key as a plain Ed25519 verifier has another key id (type byte): ignored too. */
	CHECK_RC(fwc_key_public(&pk, &keys[1]), FWC_OK);
	CHECK_RC(
	    fwc_note_vkey_init(&other, "witness.example.com/w1", 22, FWC_NOTE_SIG_ED25519, &pk),
	    FWC_OK);
	CHECK_RC(fwc_note_verify(res, &note, &other, 1, NULL), FWC_OK);
	CHECK(res[0].valid == 0);

	/* Two verifiers with the same name and key id are ambiguous. */
	amb[0] = vk[1];
	amb[1] = vk[1];
	CHECK_RC(fwc_note_verify(res, &note, amb, 2, &ei), FWC_ERR_DUPLICATE);

	/* Duplicate lines by one key: the key counts once; a bad duplicate rejects the note. */
	nl = load(1, "c2sp/fwchain-checkpoint.note");
	CHECK_RC(fwc_note_parse(&note, bufs[1], nl, NULL), FWC_OK);
	w1line = note.sigs[1].line;
	dl = 0;
	memcpy(dup, bufs[1], nl);
	dl = nl;
	memcpy(dup + dl, w1line, note.sigs[1].line_len);
	dl += note.sigs[1].line_len;
	dup[dl++] = '\n';
	CHECK_RC(fwc_note_parse(&note, dup, dl, NULL), FWC_OK);
	CHECK(note.nsigs == 4);
	CHECK_RC(fwc_note_verify_quorum(res, NULL, &note, vk + 1, 3, 2, NULL), FWC_OK);
	CHECK_RC(fwc_note_verify_quorum(res, NULL, &note, vk + 1, 3, 3, NULL), FWC_ERR_QUORUM);
	replace(dup + nl, dl - nl, "uqvjLhF3", "uqvjLhF4");
	CHECK_RC(fwc_note_parse(&note, dup, dl, NULL), FWC_OK);
	CHECK_RC(fwc_note_verify(res, &note, vk + 1, 3, &ei), FWC_ERR_BADSIG);
	CHECK(ei.offset == nl);
}

static void test_round_trip(void)
{
	struct fwc_seckey sk[3];
	struct fwc_pubkey pk;
	struct fwc_note_vkey vk[3];
	struct fwc_note_signer s;
	static struct fwc_note note;
	struct fwc_note_check res[3];
	static char a[4096], b[4096], text[512];
	static const struct fwc_note_line ext[2] = {{"height 7", 8}, {"prev abc", 8}};
	struct fwc_checkpoint cp;
	uint8_t root[32];
	size_t al = 0, bl = 0, tl = 0, nvalid = 0;

	for (int i = 0; i < 32; i++)
		root[i] = (uint8_t)(i * 3);
	CHECK_RC(fwc_checkpoint_format(text, sizeof(text), &tl, "fwchain.example/chain-1", 23,
	                               18446744073709551615ull, root, ext, 2),
	         FWC_OK);
	CHECK(strcmp(text,
	             "fwchain.example/chain-1\n18446744073709551615\n"
	             "AAMGCQwPEhUYGx4hJCcqLTAzNjk8P0JFSEtOUVRXWl0=\nheight 7\nprev abc\n") == 0);
	CHECK_RC(fwc_checkpoint_parse(&cp, text, tl, NULL), FWC_OK);
	CHECK(cp.size == UINT64_MAX && memcmp(cp.root, root, 32) == 0 && cp.n_ext == 2);

	for (int i = 0; i < 3; i++) {
		char name[32];

		snprintf(name, sizeof(name), "validator-%d.example", i);
		CHECK_RC(fwc_key_generate(&sk[i], FWC_ALG_ED25519), FWC_OK);
		CHECK_RC(fwc_key_public(&pk, &sk[i]), FWC_OK);
		CHECK_RC(fwc_note_vkey_init(&vk[i], name, strlen(name), FWC_NOTE_SIG_COSIG_V1, &pk),
		         FWC_OK);
	}
	s = (struct fwc_note_signer){vk[0].name, vk[0].name_len, FWC_NOTE_SIG_COSIG_V1, &sk[0],
	                             100};
	CHECK_RC(fwc_note_sign_text(a, sizeof(a), &al, text, tl, &s), FWC_OK);
	CHECK_RC(fwc_note_parse(&note, a, al, NULL), FWC_OK);
	s = (struct fwc_note_signer){vk[2].name, vk[2].name_len, FWC_NOTE_SIG_COSIG_V1, &sk[2],
	                             200};
	CHECK_RC(fwc_note_sign(b, sizeof(b), &bl, &note, &s), FWC_OK);
	CHECK_RC(fwc_note_parse(&note, b, bl, NULL), FWC_OK);
	CHECK_RC(fwc_note_verify_quorum(res, &nvalid, &note, vk, 3, 2, NULL), FWC_OK);
	CHECK(nvalid == 2 && res[0].timestamp == 100 && !res[1].valid && res[2].timestamp == 200);
	/* Re-cosigning replaces validator 0's line instead of adding one. */
	s = (struct fwc_note_signer){vk[0].name, vk[0].name_len, FWC_NOTE_SIG_COSIG_V1, &sk[0],
	                             300};
	CHECK_RC(fwc_note_sign(a, sizeof(a), &al, &note, &s), FWC_OK);
	CHECK_RC(fwc_note_parse(&note, a, al, NULL), FWC_OK);
	CHECK(note.nsigs == 2);
	CHECK_RC(fwc_note_verify_quorum(res, &nvalid, &note, vk, 3, 2, NULL), FWC_OK);
	CHECK(res[0].timestamp == 300 && res[0].sig_index == 1);
	/* Misuse: cosignatures only over checkpoints, a bip340 key, a bad name, a too-large time,
	 * a too-small buffer. */
	s.timestamp = FWC_NOTE_TIMESTAMP_MAX + 1;
	CHECK_RC(fwc_note_sign(b, sizeof(b), &bl, &note, &s), FWC_ERR_RANGE);
	s.timestamp = 1;
	CHECK_RC(fwc_note_sign_text(b, sizeof(b), &bl, "hello\n", 6, &s), FWC_ERR_MALFORMED);
	CHECK_RC(fwc_note_sign_text(b, 20, &bl, text, tl, &s), FWC_ERR_BUFSIZE);
	s.name = "bad name";
	s.name_len = 8;
	CHECK_RC(fwc_note_sign_text(b, sizeof(b), &bl, text, tl, &s), FWC_ERR_MALFORMED);
	s = (struct fwc_note_signer){"plain", 5, FWC_NOTE_SIG_ED25519, &sk[1], 0};
	CHECK_RC(fwc_note_sign_text(b, sizeof(b), &bl, "hello\n", 6, &s), FWC_OK);
	CHECK_RC(fwc_note_sign_text(b, sizeof(b), &bl, "hello", 5, &s), FWC_ERR_MALFORMED);
	CHECK_RC(fwc_note_sign_text(b, sizeof(b), &bl, "he\tllo\n", 7, &s), FWC_ERR_MALFORMED);
	{
		struct fwc_seckey bip;

		CHECK_RC(fwc_key_generate(&bip, FWC_ALG_BIP340), FWC_OK);
		s.sk = &bip;
		CHECK_RC(fwc_note_sign_text(b, sizeof(b), &bl, "hello\n", 6, &s), FWC_ERR_KEY);
		fwc_seckey_wipe(&bip);
	}
	for (int i = 0; i < 3; i++)
		fwc_seckey_wipe(&sk[i]);
}

static void test_known_vkeys(void)
{
	static const char *good[] = {
	    "remora.n621.de+da77ade7+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2",
	    "TEST+7997405c+AQcC+FTVKf0jlTdHDY3rbevmnKxxPjigCXlVtGe6RIr6",
	};
	struct fwc_note_vkey vk;
	struct fwc_errinfo ei;
	char text[FWC_NOTE_VKEY_TEXT_MAX];
	static struct fwc_note note;
	static const char ts_note[] =
	    "x\n\n\xe2\x80\x94 n ZGhGuQAAAABm/qTPeyKXD+R2rzyQsxPiP8mXum7qq/iF0u4vanlqJyocWODBt97w9"
	    "uL+8qT7S5gxEHWWOworDcFiEBYJXORmnFBOBA==\n";
	uint64_t t = 0;

	for (int i = 0; i < 2; i++) {
		CHECK_RC(fwc_note_vkey_parse(&vk, good[i], strlen(good[i]), NULL), FWC_OK);
		CHECK_RC(fwc_note_vkey_format(text, sizeof(text), &vk), FWC_OK);
		CHECK(strcmp(text, good[i]) == 0);
	}
	CHECK(vk.type == FWC_NOTE_SIG_ED25519);
	CHECK_RC(fwc_note_vkey_parse(&vk, good[0], strlen(good[0]), NULL), FWC_OK);
	CHECK(vk.type == FWC_NOTE_SIG_COSIG_V1);
	CHECK_RC(fwc_note_vkey_format(text, 20, &vk), FWC_ERR_BUFSIZE);

	CHECK_RC(fwc_note_parse(&note, ts_note, sizeof(ts_note) - 1, NULL), FWC_OK);
	CHECK_RC(fwc_note_sig_timestamp(&t, &note.sigs[0]), FWC_OK);
	CHECK(t == 1727964367);

#define BAD_VKEY(s, code, msg)                                                                     \
	do {                                                                                       \
		CHECK_RC(fwc_note_vkey_parse(&vk, s, strlen(s), &ei), code);                       \
		CHECK(contains(&ei, msg));                                                         \
	} while (0)
	BAD_VKEY("remora.n621.de+DA77ADE7+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2",
	         FWC_ERR_MALFORMED, "lowercase hex");
	BAD_VKEY("remora.n621.de+da77ade8+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2",
	         FWC_ERR_MALFORMED, "does not match");
	BAD_VKEY("remora.n621.de+da77ade7BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2",
	         FWC_ERR_MALFORMED, "followed by '+'");
	BAD_VKEY("remora.n621.de", FWC_ERR_MALFORMED, "no '+'");
	BAD_VKEY("+da77ade7+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2", FWC_ERR_MALFORMED,
	         "empty key name");
	BAD_VKEY("a b+da77ade7+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2", FWC_ERR_MALFORMED,
	         "space");
	BAD_VKEY("a\xc2\xa0"
	         "b+da77ade7+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2",
	         FWC_ERR_MALFORMED, "space");
	/* Go's own "unknown algorithm" and "wrong length" examples (key ids adjusted by Go). */
	BAD_VKEY("PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
	         FWC_ERR_UNSUPPORTED, "type 0x65");
	/* Go's own decoder tolerates the non-zero trailing bits of "BADKEY=="; we do not. */
	BAD_VKEY("PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==",
	         FWC_ERR_NONCANONICAL, "non-zero bits");
	BAD_VKEY("PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWAA==",
	         FWC_ERR_MALFORMED, "33 key bytes, not 32");
	BAD_VKEY("remora.n621.de+da77ade7+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw3",
	         FWC_ERR_MALFORMED, "does not match");
}

static void test_malformed_notes(void)
{
	static struct fwc_note note;
	struct fwc_errinfo ei;
	static char big[FWC_NOTE_MAX_LEN + 2];
	static const char sig[] = "\xe2\x80\x94 a.example "
	                          "Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYj"
	                          "OBH3mFXmRKuwHjG1Yu72IneyaQM=\n";
	size_t sl = sizeof(sig) - 1, o;

#define BAD_NOTE(s, code, msg)                                                                     \
	do {                                                                                       \
		CHECK_RC(fwc_note_parse(&note, s, sizeof(s) - 1, &ei), code);                      \
		CHECK(contains(&ei, msg));                                                         \
	} while (0)
	BAD_NOTE("text\n\xe2\x80\x94 a AAAAAAA=\n", FWC_ERR_MALFORMED, "no blank line");
	BAD_NOTE("text\n\n", FWC_ERR_MALFORMED, "no signature lines");
	BAD_NOTE("text\n\n\xe2\x80\x94 a AAAAAAA=", FWC_ERR_MALFORMED, "end with a newline");
	BAD_NOTE("text\n\n- a AAAAAAA=\n", FWC_ERR_MALFORMED, "em dash");
	BAD_NOTE("text\n\n\xe2\x80\x94"
	         "a AAAAAAA=\n",
	         FWC_ERR_MALFORMED, "em dash");
	BAD_NOTE("text\n\n\xe2\x80\x94 aAAAAAAA=\n", FWC_ERR_MALFORMED, "no space");
	BAD_NOTE("text\n\n\xe2\x80\x94 a+b AAAAAAA=\n", FWC_ERR_MALFORMED, "'+'");
	BAD_NOTE("text\n\n\xe2\x80\x94  AAAAAAA=\n", FWC_ERR_MALFORMED, "empty key name");
	BAD_NOTE("text\n\n\xe2\x80\x94 a \n", FWC_ERR_MALFORMED, "is empty");
	BAD_NOTE("text\n\n\xe2\x80\x94 a AAAA\n", FWC_ERR_MALFORMED, "fewer than a key id");
	BAD_NOTE("text\n\n\xe2\x80\x94 a AAAAAAB=\n", FWC_ERR_NONCANONICAL, "non-zero bits");
	BAD_NOTE("text\n\n\xe2\x80\x94 a AAAAAAA\n", FWC_ERR_MALFORMED, "multiple of 4");
	BAD_NOTE("text\n\n\xe2\x80\x94 a AAAAAAA= \n", FWC_ERR_MALFORMED, "multiple of 4");
	BAD_NOTE("te\txt\n\n\xe2\x80\x94 a AAAAAAA=\n", FWC_ERR_MALFORMED, "control character");
	BAD_NOTE("te\rxt\n\n\xe2\x80\x94 a AAAAAAA=\n", FWC_ERR_MALFORMED, "control character");
	BAD_NOTE("te\xffxt\n\n\xe2\x80\x94 a AAAAAAA=\n", FWC_ERR_MALFORMED, "invalid UTF-8");
	BAD_NOTE("te\xc0\xafxt\n\n\xe2\x80\x94 a AAAAAAA=\n", FWC_ERR_MALFORMED, "invalid UTF-8");
	BAD_NOTE("te\xed\xa0\x80xt\n\n\xe2\x80\x94 a AAAAAAA=\n", FWC_ERR_MALFORMED,
	         "invalid UTF-8");
	BAD_NOTE("text\n\n\xe2\x80\x94 a AAAAAAA=\n\n\xe2\x80\x94 b AAAAAAA=\x00\n",
	         FWC_ERR_MALFORMED, "control character");
	/* The text may hold blank lines; the last blank line ends it. A blank line after a
	 * signature line makes that line part of the text. */
	CHECK_RC(fwc_note_parse(&note, "a\n\nb\n\n\xe2\x80\x94 a AAAAAAA=\n", 21, NULL), FWC_OK);
	CHECK(note.text_len == 5 && note.nsigs == 1);

	/* 100 signatures parse, 101 do not. */
	memcpy(big, "text\n\n", 6);
	o = 6;
	for (int i = 0; i < FWC_NOTE_MAX_SIGS; i++) {
		memcpy(big + o, sig, sl);
		o += sl;
	}
	CHECK_RC(fwc_note_parse(&note, big, o, NULL), FWC_OK);
	CHECK(note.nsigs == FWC_NOTE_MAX_SIGS);
	memcpy(big + o, sig, sl);
	CHECK_RC(fwc_note_parse(&note, big, o + sl, &ei), FWC_ERR_TOO_LARGE);
	CHECK(contains(&ei, "more than 100 signatures"));
	memset(big, 'a', sizeof(big));
	CHECK_RC(fwc_note_parse(&note, big, FWC_NOTE_MAX_LEN + 1, &ei), FWC_ERR_TOO_LARGE);
}

static void test_malformed_checkpoints(void)
{
	struct fwc_checkpoint cp;
	struct fwc_errinfo ei;
	static char many[2048];
	uint8_t root[32] = {0};
	size_t o;
	struct fwc_note_line bad = {"a\nb", 3};
	char out[256];

#define R "Q7U8FA778/sD/ujJobpmL3sZauNqwTgRHL95OndYX6E=\n"
#define BAD_CP(s, code, msg)                                                                       \
	do {                                                                                       \
		CHECK_RC(fwc_checkpoint_parse(&cp, s, sizeof(s) - 1, &ei), code);                  \
		CHECK(contains(&ei, msg));                                                         \
	} while (0)
	BAD_CP("o\n0042\n" R, FWC_ERR_MALFORMED, "leading zero");
	BAD_CP("o\n00\n" R, FWC_ERR_MALFORMED, "leading zero");
	BAD_CP("o\n+42\n" R, FWC_ERR_MALFORMED, "not a decimal");
	BAD_CP("o\n4 2\n" R, FWC_ERR_MALFORMED, "not a decimal");
	BAD_CP("o\n18446744073709551616\n" R, FWC_ERR_RANGE, "exceeds");
	BAD_CP("o\n42\nQ7U8FA778/sD/ujJobpmL3sZauNqwTgRHL95OndYX6E\n", FWC_ERR_MALFORMED,
	       "multiple of 4");
	BAD_CP("o\n42\nQ7U8FA778/sD/ujJobpmL3sZauNqwTgRHL95OndYX6F=\n", FWC_ERR_NONCANONICAL,
	       "non-zero");
	BAD_CP("o\n42\nQ7U8FA778/sD/ujJobpmL3sZauNqwTgRHL95OndY\n", FWC_ERR_MALFORMED,
	       "has 30 bytes");
	BAD_CP("o\n42\n", FWC_ERR_MALFORMED, "origin, size and root");
	BAD_CP("\n42\n" R, FWC_ERR_MALFORMED, "line 1 is empty");
	BAD_CP("o\n42\n" R "\n", FWC_ERR_MALFORMED, "line 4 is empty");
	BAD_CP("o\n42\n" R "ext", FWC_ERR_MALFORMED, "newline");
	CHECK_RC(fwc_checkpoint_parse(&cp, "o\n0\n" R, 4 + sizeof(R) - 1, NULL), FWC_OK);
	CHECK(cp.size == 0);
	o = (size_t)snprintf(many, sizeof(many), "o\n1\n" R);
	for (int i = 0; i < FWC_CHECKPOINT_MAX_EXT; i++)
		o += (size_t)snprintf(many + o, sizeof(many) - o, "ext %d\n", i);
	CHECK_RC(fwc_checkpoint_parse(&cp, many, o, NULL), FWC_OK);
	CHECK(cp.n_ext == FWC_CHECKPOINT_MAX_EXT);
	o += (size_t)snprintf(many + o, sizeof(many) - o, "one more\n");
	CHECK_RC(fwc_checkpoint_parse(&cp, many, o, &ei), FWC_ERR_TOO_LARGE);
	CHECK(contains(&ei, "more than 16 extension lines"));

	CHECK_RC(fwc_checkpoint_format(out, sizeof(out), NULL, "", 0, 1, root, NULL, 0),
	         FWC_ERR_MALFORMED);
	CHECK_RC(fwc_checkpoint_format(out, sizeof(out), NULL, "o", 1, 1, root, &bad, 1),
	         FWC_ERR_MALFORMED);
	CHECK_RC(fwc_checkpoint_format(out, 10, NULL, "o", 1, 1, root, NULL, 0), FWC_ERR_BUFSIZE);
}

/* Text between "<!-- tag -->\n```\n" and "```\n<!-- /tag -->" in docs/formats/checkpoint.md. */
static int doc_block(const char **start, size_t *len, const char *doc, const char *tag)
{
	char open[64], close[64];
	const char *a, *z;

	snprintf(open, sizeof(open), "<!-- %s -->\n```\n", tag);
	snprintf(close, sizeof(close), "```\n<!-- /%s -->", tag);
	a = strstr(doc, open);
	z = a ? strstr(a, close) : NULL;
	if (a == NULL || z == NULL)
		return 0;
	*start = a + strlen(open);
	*len = (size_t)(z - *start);
	return 1;
}

static void test_doc_example(void)
{
	static char doc[32768];
	static const char *vk[4] = {"c2sp/fwchain-log.vkey", "c2sp/fwchain-w1.vkey",
	                            "c2sp/fwchain-w2.vkey", "c2sp/fwchain-w3.vkey"};
	const char *p;
	size_t n, dl, o = 0;
	char path[512];
	FILE *f =
	    fopen(test_vector_path(path, sizeof(path), "../../docs/formats/checkpoint.md"), "rb");

	CHECK(f != NULL);
	if (f == NULL)
		return;
	dl = fread(doc, 1, sizeof(doc) - 1, f);
	fclose(f);
	doc[dl] = '\0';
	CHECK(doc_block(&p, &dl, doc, "example-note"));
	n = load(1, "c2sp/fwchain-checkpoint.note");
	CHECK(dl == n && memcmp(p, bufs[1], n) == 0);
	CHECK(doc_block(&p, &dl, doc, "example-vkeys"));
	for (int i = 0; i < 4; i++) {
		n = load(0, vk[i]);
		CHECK(o + n < dl && memcmp(p + o, bufs[0], n) == 0 && p[o + n] == '\n');
		o += n + 1;
	}
	CHECK(o == dl);
}

int main(void)
{
	RUN(test_base64);
	RUN(test_spec_signed_note);
	RUN(test_spec_examples_parse);
	RUN(test_go_reference);
	RUN(test_fwchain_checkpoint);
	RUN(test_bad_and_unknown_signatures);
	RUN(test_round_trip);
	RUN(test_known_vkeys);
	RUN(test_malformed_notes);
	RUN(test_malformed_checkpoints);
	RUN(test_doc_example);
	for (int i = 0; i < 4; i++)
		fwc_seckey_wipe(&keys[i]);
	return test_done();
}
