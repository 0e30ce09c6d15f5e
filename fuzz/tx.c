/* Fuzz target for lib/tx.c.
 *
 * The input is tried as a transaction body and as a signed transaction. Property: whatever
 * decodes re-encodes to the identical bytes (body through fwc_tx_encode_body, envelope through
 * the CBOR encoder with the decoded body and signature); anything else aborts. Signed
 * transactions also go through fwc_tx_verify, which must not crash. */
#include "fwchain/cbor.h"
#include "fwchain/tx.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static uint8_t out[FWC_TX_MAX + 64];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fwc_tx tx;
	struct fwc_signed_tx stx;
	struct fwc_errinfo ei;
	size_t len;

	if (fwc_tx_decode_body(&tx, data, size, &ei) == FWC_OK) {
		if (fwc_tx_encode_body(out, sizeof(out), &len, &tx, NULL) != FWC_OK ||
		    len != size || memcmp(out, data, size) != 0)
			abort();
	} else if (ei.msg[0] == '\0' && size > 0) {
		abort();
	}

	if (fwc_tx_decode(&stx, data, size, NULL) == FWC_OK) {
		struct fwc_cbor_enc e;
		uint8_t id[FWC_TX_ID_LEN];

		fwc_cbor_enc_init(&e, out, sizeof(out));
		fwc_cbor_put_map(&e, 2);
		fwc_cbor_put_uint(&e, 1);
		fwc_cbor_put_bytes(&e, stx.body, stx.body_len);
		fwc_cbor_put_uint(&e, 2);
		fwc_cbor_put_bytes(&e, stx.sig, FWC_SIG_LEN);
		if (fwc_cbor_enc_finish(&e, &len) != FWC_OK || len != size ||
		    memcmp(out, data, size) != 0)
			abort();
		(void)fwc_tx_verify(&stx, NULL);
		if (fwc_tx_id(id, data, size) != FWC_OK)
			abort();
	}
	return 0;
}
