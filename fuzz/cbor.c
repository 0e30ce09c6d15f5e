/* Fuzz target for lib/cbor.c.
 *
 * Property: whatever fwc_cbor_validate accepts, the pull decoder reads completely, and its
 * canonical re-encoding by the encoder is byte-identical to the input (the profile admits
 * exactly one encoding per value). validate and the full decode must also agree on the verdict
 * and the error code. Any disagreement aborts. */
#include "fwchain/cbor.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ITEM 4096

static int copy_item(struct fwc_cbor_dec *d, struct fwc_cbor_enc *e)
{
	enum fwc_cbor_type t;
	uint64_t u, n;
	const uint8_t *p;
	const char *s;
	size_t len;
	int b, rc = fwc_cbor_peek(d, &t);

	if (rc != FWC_OK)
		return rc;
	switch (t) {
	case FWC_CBOR_UINT:
		if ((rc = fwc_cbor_get_uint(d, &u)) == FWC_OK)
			fwc_cbor_put_uint(e, u);
		return rc;
	case FWC_CBOR_NINT:
		if ((rc = fwc_cbor_get_nint(d, &u)) == FWC_OK)
			fwc_cbor_put_nint(e, u);
		return rc;
	case FWC_CBOR_BYTES:
		if ((rc = fwc_cbor_get_bytes(d, &p, &len)) == FWC_OK)
			fwc_cbor_put_bytes(e, p, len);
		return rc;
	case FWC_CBOR_TEXT:
		if ((rc = fwc_cbor_get_text(d, &s, &len)) == FWC_OK)
			fwc_cbor_put_text(e, s, len);
		return rc;
	case FWC_CBOR_BOOL:
		if ((rc = fwc_cbor_get_bool(d, &b)) == FWC_OK)
			fwc_cbor_put_bool(e, b);
		return rc;
	case FWC_CBOR_NULL:
		if ((rc = fwc_cbor_get_null(d)) == FWC_OK)
			fwc_cbor_put_null(e);
		return rc;
	case FWC_CBOR_ARRAY:
	case FWC_CBOR_MAP:
		rc = t == FWC_CBOR_ARRAY ? fwc_cbor_get_array(d, &n) : fwc_cbor_get_map(d, &n);
		if (rc != FWC_OK)
			return rc;
		if (t == FWC_CBOR_ARRAY) {
			fwc_cbor_put_array(e, n);
		} else {
			fwc_cbor_put_map(e, n);
			n *= 2; /* n <= MAX_ITEM, no overflow */
		}
		/* Recursion depth is bounded by FWC_CBOR_MAX_DEPTH: the decoder refuses deeper. */
		for (uint64_t i = 0; i < n; i++)
			if ((rc = copy_item(d, e)) != FWC_OK)
				return rc;
		return FWC_OK;
	}
	abort(); /* peek returned a type that does not exist */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fwc_cbor_dec d;
	struct fwc_cbor_enc e;
	struct fwc_errinfo ei;
	uint8_t *out = malloc(size ? size : 1);
	int rc, rv;

	if (out == NULL)
		return 0;
	rv = fwc_cbor_validate(data, size, MAX_ITEM, &ei);
	fwc_cbor_dec_init(&d, data, size, MAX_ITEM, NULL);
	fwc_cbor_enc_init(&e, out, size);
	rc = copy_item(&d, &e);
	if (rc == FWC_OK)
		rc = fwc_cbor_finish(&d);
	if (rc != rv)
		abort();
	if (rc == FWC_OK && (e.err != FWC_OK || e.len != size || memcmp(out, data, size) != 0))
		abort();
	if (rc != FWC_OK && (rc >= 0 || ei.offset > size || ei.msg[0] == '\0'))
		abort();
	free(out);
	return 0;
}
