/* Writes the seed corpus of fuzz/agent_verify: honest proof bundles and checkpoint notes of the
 * fixed ledger of agent/tests/ledger.h (deterministic, so the files are reproducible), and a few
 * near misses. Run: agent_verify_seeds DIR. Not a test; the files are checked in. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger.h"

static struct ledger L;

static void put(const char *dir, const char *name, const void *p, size_t n)
{
	char path[1024];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "wb")) == NULL || fwrite(p, 1, n, f) != n || fclose(f) != 0) {
		perror(path);
		exit(1);
	}
}

int main(int argc, char **argv)
{
	const struct fwc_seckey *rel[3] = {&L.rel[0], &L.rel[1], &L.rel[2]};
	const struct fwc_seckey *roots[2] = {&L.root[0], &L.root[1]};
	const struct fwc_seckey *s[2] = {&L.rel[0], &L.rel[1]};
	uint64_t extra[2] = {0, 1};
	struct fwc_keyset ks;
	struct l_release r;
	size_t len = 0;
	uint8_t *b;
	char *note;

	if (argc != 2 || ledger_init(&L) != 0)
		return 2;
	l_keyset(&ks, 2, rel, 3);
	ledger_keyset(&L, FWC_ROTATE_RELEASE, 1, &ks, roots, 2);
	l_release_default(&r, 43);
	ledger_release(&L, &r, s, 2, 1);
	note = ledger_checkpoint(&L, 2, L_T0 + 100, 0x3);
	b = ledger_bundle(&L, &len, 1, extra, 1, 2, note);
	put(argv[1], "honest", b, len);
	put(argv[1], "note", note, strlen(note));
	b[len / 2] ^= 1;
	put(argv[1], "flipped", b, len);
	free(b);
	free(note);
	/* a rotation in between, and one cosignature only */
	ledger_keyset(&L, FWC_ROTATE_RELEASE, 2, &ks, roots, 2);
	ledger_release(&L, &r, s, 2, 1);
	note = ledger_checkpoint(&L, 4, L_T0 + 100, 0x1);
	b = ledger_bundle(&L, &len, 3, extra, 2, 4, note);
	put(argv[1], "two-extras-one-cosig", b, len);
	free(b);
	free(note);
	ledger_free(&L);
	return 0;
}
