/* Fuzz target for lib/note.c and lib/base64.c.
 *
 * The first byte picks the parser, the rest is its input:
 *   0: signed note, then verification against fixed trusted keys (the vectors' w1..w3 and log
 *      key, so seeds built from tests/vectors/c2sp/fwchain-checkpoint.note reach Ed25519), then
 *      the note text as a checkpoint;
 *   1: verifier key text;
 *   2: base64.
 * Properties (abort on violation): the parsers never read outside the input; whatever parses
 * prints back byte-identical (checkpoint via fwc_checkpoint_format, vkey via
 * fwc_note_vkey_format, base64 via fwc_base64_encode), since each has one canonical form; a
 * parsed note's pointers stay inside the input. */
#include "fwchain/base64.h"
#include "fwchain/note.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const char *const trusted[] = {
    "example.com/fwchain-log+8a9ef88b+AbONpotqlkoJoo6AiUURI/QC/3A+z/mGSIb9xwLTL3Zn",
    "witness.example.com/w1+7ec980b1+BCSwK8N8yAWJCrOpyLSLkfMePJIz24EyNBZgLWDIsaSW",
    "witness.example.com/w2+a3390d8f+BOEZrAjv0RxNKesLlTXAkHvH3Eagb4/Hx0sHD7YTHs5G",
    "witness.example.com/w3+55294815+BBTCoZ+S1Fc9wlgvrGgVCpM+UmiOZiR0e43OZhF1d1H5",
};

static struct fwc_note_vkey vk[4];
static int have_vk;

static void fuzz_note(const char *s, size_t n)
{
	static struct fwc_note note;
	struct fwc_note_check res[4];
	struct fwc_checkpoint cp;
	static char out[FWC_NOTE_MAX_LEN + 1];
	size_t nvalid, ol = 0;

	if (fwc_note_parse(&note, s, n, NULL) != FWC_OK)
		return;
	if (note.text != s || note.text_len > n || note.nsigs == 0 ||
	    note.nsigs > FWC_NOTE_MAX_SIGS)
		abort();
	for (size_t i = 0; i < note.nsigs; i++) {
		const struct fwc_note_sig *g = &note.sigs[i];

		if (g->line < s || g->line + g->line_len > s + n || g->b64 + g->b64_len > s + n ||
		    g->sig_len == 0)
			abort();
	}
	(void)fwc_note_verify(res, &note, vk, 4, NULL);
	(void)fwc_note_verify_quorum(res, &nvalid, &note, vk + 1, 3, 2, NULL);
	if (fwc_checkpoint_parse(&cp, note.text, note.text_len, NULL) != FWC_OK)
		return;
	if (fwc_checkpoint_format(out, sizeof(out), &ol, cp.origin, cp.origin_len, cp.size, cp.root,
	                          cp.ext, cp.n_ext) != FWC_OK ||
	    ol != note.text_len || memcmp(out, note.text, ol) != 0)
		abort();
}

static void fuzz_vkey(const char *s, size_t n)
{
	struct fwc_note_vkey v;
	char out[FWC_NOTE_VKEY_TEXT_MAX];

	if (fwc_note_vkey_parse(&v, s, n, NULL) != FWC_OK)
		return;
	if (fwc_note_vkey_format(out, sizeof(out), &v) != FWC_OK || strlen(out) != n ||
	    memcmp(out, s, n) != 0)
		abort();
}

static void fuzz_base64(const char *s, size_t n)
{
	static uint8_t bin[65536];
	static char out[65536 / 3 * 4 + 8];
	size_t bl = 0, ol = 0;

	if (n > 65536 || fwc_base64_decode(bin, sizeof(bin), &bl, s, n, NULL) != FWC_OK)
		return;
	if (fwc_base64_encode(out, sizeof(out), &ol, bin, bl) != FWC_OK || ol != n ||
	    memcmp(out, s, n) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s;
	size_t n;
	char *copy;

	if (!have_vk) {
		for (int i = 0; i < 4; i++)
			if (fwc_note_vkey_parse(&vk[i], trusted[i], strlen(trusted[i]), NULL) != 0)
				abort();
		have_vk = 1;
	}
	if (size < 1)
		return 0;
	/* An exact-size heap copy so ASan sees any read past the end. */
	n = size - 1;
	copy = malloc(n ? n : 1);
	if (copy == NULL)
		return 0;
	memcpy(copy, data + 1, n);
	s = copy;
	switch (data[0] % 3) {
	case 0:
		fuzz_note(s, n);
		break;
	case 1:
		fuzz_vkey(s, n);
		break;
	default:
		fuzz_base64(s, n);
		break;
	}
	free(copy);
	return 0;
}
