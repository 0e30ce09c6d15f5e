/* Fuzz target for lib/trust.c: the trust anchors file parser and formatter.
 *
 * Properties (abort on violation): the parser never reads outside the input and never crashes;
 * whatever parses formats (fwc_trust_format) to a text that parses again to the same values
 * and formats to the same bytes (one canonical form); a parsed input without comment or empty
 * lines is already canonical, so it formats back byte-identical; pointers into the input stay
 * inside it; the freshness rule never reports an age for a failed quorum. */
#include "fwchain/trust.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static int has_comments(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((i == 0 || s[i - 1] == '\n') && (s[i] == '#' || s[i] == '\n'))
			return 1;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fwc_trust t, t2;
	static char out[FWC_TRUST_MAX_LEN + 1], out2[FWC_TRUST_MAX_LEN + 1];
	const char *s = (const char *)data;
	struct fwc_note_check sig[FWC_TRUST_MAX_VALIDATORS];
	size_t n = 0, n2 = 0, i;
	uint64_t age = 12345;
	int rc;

	if (fwc_trust_parse(&t, s, size, NULL) != FWC_OK)
		return 0;
	if (t.origin < s || t.origin + t.origin_len > s + size || t.n_validators == 0 ||
	    t.quorum == 0 || t.quorum > t.n_validators)
		abort();
	for (i = 0; i < t.n_products; i++)
		if (t.products[i].id < s || t.products[i].id + t.products[i].id_len > s + size ||
		    !(t.products[i].has_root || t.products[i].has_release))
			abort();
	if (fwc_trust_format(out, sizeof(out), &n, &t, NULL) != FWC_OK)
		abort();
	if (fwc_trust_parse(&t2, out, n, NULL) != FWC_OK ||
	    fwc_trust_format(out2, sizeof(out2), &n2, &t2, NULL) != FWC_OK || n2 != n ||
	    memcmp(out, out2, n) != 0)
		abort();
	if (t2.n_validators != t.n_validators || t2.quorum != t.quorum || t2.max_age != t.max_age ||
	    t2.n_products != t.n_products)
		abort();
	if (!has_comments(s, size) && (n != size || memcmp(out, s, n) != 0))
		abort();
	/* Freshness over signer states derived from the input bytes. */
	for (i = 0; i < t.n_validators; i++) {
		sig[i].valid = size > i ? data[i] & 1 : 0;
		sig[i].timestamp = size > i ? (uint64_t)data[i] * 1000u : 0;
		sig[i].sig_index = 0;
	}
	rc = fwc_trust_check_fresh(&age, &t, sig, t.n_validators, 200000, NULL);
	if (rc == FWC_ERR_QUORUM && age != 12345)
		abort();
	if (rc != FWC_OK && rc != FWC_ERR_QUORUM && rc != FWC_ERR_STALE)
		abort();
	return 0;
}
