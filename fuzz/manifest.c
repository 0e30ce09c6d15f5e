/* Fuzz target for lib/manifest.c (and the key set codec it relies on).
 *
 * The input is tried as a manifest body, as a signed manifest and as a key set. Property for
 * each: when decoding succeeds, re-encoding the decoded struct gives back the identical bytes
 * (the codecs admit exactly one encoding per value); anything else aborts. Signed manifests
 * are also run through threshold verification against a fixed key set, which must refuse or
 * accept without crashing. */
#include "fwchain/keyset.h"
#include "fwchain/manifest.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static uint8_t out[FWC_SIGNED_MANIFEST_MAX + 64];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fwc_manifest m;
	struct fwc_signed_manifest sm;
	struct fwc_keyset ks;
	struct fwc_errinfo ei;
	size_t len;

	if (fwc_manifest_decode(&m, data, size, &ei) == FWC_OK) {
		if (fwc_manifest_encode(out, sizeof(out), &len, &m, NULL) != FWC_OK ||
		    len != size || memcmp(out, data, size) != 0)
			abort();
	} else if (ei.msg[0] == '\0' && size > 0) {
		abort(); /* every refusal explains itself */
	}

	if (fwc_signed_manifest_decode(&sm, data, size, NULL) == FWC_OK) {
		unsigned valid = 0;

		if (fwc_signed_manifest_encode(out, sizeof(out), &len, sm.body, sm.body_len,
		                               sm.sigs, sm.n_sigs, NULL) != FWC_OK ||
		    len != size || memcmp(out, data, size) != 0)
			abort();
		/* a key set of one fixed key (x of G): verification must never crash */
		memset(&ks, 0, sizeof(ks));
		ks.n = 1;
		ks.threshold = 1;
		ks.keys[0].alg = FWC_ALG_BIP340;
		{
			static const uint8_t gx[32] = {
			    0x79, 0xbe, 0x66, 0x7e, 0xf9, 0xdc, 0xbb, 0xac, 0x55, 0xa0, 0x62,
			    0x95, 0xce, 0x87, 0x0b, 0x07, 0x02, 0x9b, 0xfc, 0xdb, 0x2d, 0xce,
			    0x28, 0xd9, 0x59, 0xf2, 0x81, 0x5b, 0x16, 0xf8, 0x17, 0x98};
			memcpy(ks.keys[0].key, gx, 32);
		}
		(void)fwc_signed_manifest_verify(&sm, &ks, &valid, NULL);
		if (valid > 1)
			abort();
	}

	if (fwc_keyset_decode(&ks, data, size, NULL) == FWC_OK) {
		if (fwc_keyset_encode(out, sizeof(out), &len, &ks) != FWC_OK || len != size ||
		    memcmp(out, data, size) != 0)
			abort();
	}
	return 0;
}
