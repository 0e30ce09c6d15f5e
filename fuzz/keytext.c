/* Fuzz target for the public key decoders of lib/key.c: fwc_pubkey_from_text() and
 * fwc_pubkey_from_bin() on the same bytes (docs/formats/keys.md).
 *
 * Both forms are canonical, so an accepted input must re-encode to exactly the same bytes;
 * a refusal must carry a message and an offset inside the input. */
#include "fwchain/key.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void check_refusal(const struct fwc_errinfo *ei, size_t size)
{
	if (ei->msg[0] == '\0' || ei->offset > size)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fwc_pubkey pk;
	struct fwc_errinfo ei;
	char text[FWC_PUBKEY_TEXT_MAX];
	uint8_t bin[FWC_PUBKEY_BIN_LEN], id[FWC_KEYID_LEN], sig[FWC_SIG_LEN];

	memset(&ei, 0, sizeof(ei));
	if (fwc_pubkey_from_text(&pk, (const char *)data, size, &ei) == FWC_OK) {
		if (fwc_pubkey_to_text(text, sizeof(text), &pk) != FWC_OK || strlen(text) != size ||
		    memcmp(text, data, size) != 0 || fwc_pubkey_check(&pk) != FWC_OK ||
		    fwc_key_id(id, &pk) != FWC_OK)
			abort();
	} else {
		check_refusal(&ei, size);
	}

	memset(&ei, 0, sizeof(ei));
	if (fwc_pubkey_from_bin(&pk, data, size, &ei) == FWC_OK) {
		if (size != FWC_PUBKEY_BIN_LEN || fwc_pubkey_to_bin(bin, &pk) != FWC_OK ||
		    memcmp(bin, data, size) != 0 || fwc_pubkey_check(&pk) != FWC_OK)
			abort();
		/* a valid key with an arbitrary signature: any verdict, no crash */
		memset(sig, 0x5c, sizeof(sig));
		if (fwc_verify(&pk, sig, data, size) == FWC_OK)
			abort();
	} else {
		check_refusal(&ei, size);
	}
	return 0;
}
