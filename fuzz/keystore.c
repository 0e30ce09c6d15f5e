/* Fuzz target for the keystore parser (lib/keystore.c, docs/formats/keystore.md).
 *
 * Every input goes through fwc_keystore_parse(), which must refuse or accept it without
 * crashing or reading outside the buffer, and on acceptance must describe a 140-byte image
 * whose pointers lie inside the input and whose public key is valid. Decryption runs only for
 * images asking for the cheapest Argon2id cost (1 pass, at most 16 KiB), so each run stays
 * fast while the AEAD and key checks are still reached (with the worked example's passphrase,
 * the seed corpus holds images that decrypt). */
#include "fwchain/keystore.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const char pass[] = "fwchain example passphrase";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fwc_keystore_file kf;
	struct fwc_errinfo ei;
	struct fwc_seckey sk;
	struct fwc_pubkey pk;
	int rc;

	memset(&ei, 0, sizeof(ei));
	rc = fwc_keystore_parse(&kf, data, size, &ei);
	if (rc < 0) {
		/* a refusal always says why, within the input */
		if (ei.msg[0] == '\0' || ei.offset > size)
			abort();
		return 0;
	}
	if (size != FWC_KEYSTORE_LEN || kf.header != data || kf.salt != data + 20 ||
	    kf.nonce != data + 36 || kf.ct != data + FWC_KEYSTORE_HEADER_LEN ||
	    fwc_pubkey_check(&kf.pk) != FWC_OK || kf.params.opslimit > FWC_KEYSTORE_OPSLIMIT_MAX ||
	    kf.params.memlimit > FWC_KEYSTORE_MEMLIMIT_MAX)
		abort();
	if (kf.params.opslimit != 1 || kf.params.memlimit > 16 * 1024)
		return 0;
	rc = fwc_keystore_decrypt(&sk, &kf, pass, strlen(pass), NULL);
	if (rc == FWC_OK) {
		/* whatever decrypts is a usable key matching the stored public key */
		if (fwc_key_public(&pk, &sk) != FWC_OK || !fwc_pubkey_equal(&pk, &kf.pk))
			abort();
		fwc_seckey_wipe(&sk);
	} else if (rc != FWC_ERR_PASSPHRASE && rc != FWC_ERR_KEY) {
		abort();
	}
	return 0;
}
