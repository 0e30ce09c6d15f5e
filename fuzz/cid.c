/* Fuzz target: CID text and binary parsing, multibase and varint decoding (lib/cid.c,
 * lib/multibase.c).
 *
 * Properties checked beyond "no crash": a binary CID that decodes exactly re-encodes to the
 * same bytes; text that parses prints back identically unless it used the (accepted but not
 * printed) 'z' base58btc form, and always parses again to the same CID; a decoded varint
 * re-encodes to the bytes it came from; base32 text that decodes re-encodes identically. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fwchain/cid.h"
#include "fwchain/multibase.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fwc_cid c, c2;
	struct fwc_errinfo ei;
	uint8_t bin[FWC_CID_MAX_BINARY], buf[256];
	char txt[FWC_CID_STR_MAX];
	size_t n, used;
	uint64_t v;

	/* text */
	if (fwc_cid_parse(&c, (const char *)data, size, &ei) == FWC_OK) {
		if (fwc_cid_format(txt, sizeof(txt), &c) != FWC_OK)
			abort();
		if (size > 0 && data[0] != 'z' &&
		    (strlen(txt) != size || memcmp(txt, data, size) != 0))
			abort();
		if (fwc_cid_parse(&c2, txt, strlen(txt), NULL) != FWC_OK || !fwc_cid_equal(&c, &c2))
			abort();
	}
	/* binary, exact and as a prefix */
	if (fwc_cid_decode(&c, NULL, data, size, &ei) == FWC_OK) {
		if (fwc_cid_encode(bin, sizeof(bin), &n, &c) != FWC_OK || n != size ||
		    memcmp(bin, data, n) != 0)
			abort();
	}
	if (fwc_cid_decode(&c, &used, data, size, &ei) == FWC_OK && used > size)
		abort();
	/* varint */
	if (fwc_varint_decode(&v, &used, data, size, &ei) == FWC_OK) {
		uint8_t vb[FWC_VARINT_MAX];

		if (fwc_varint_encode(vb, v) != used || memcmp(vb, data, used) != 0)
			abort();
	}
	/* base32 */
	if (fwc_base32_decode(buf, sizeof(buf), &n, (const char *)data, size, &ei) == FWC_OK) {
		char t[512];
		size_t tl;

		if (fwc_base32_encode(t, sizeof(t), &tl, buf, n) != FWC_OK || tl != size ||
		    memcmp(t, data, size) != 0)
			abort();
	}
	/* base58 */
	if (fwc_base58_decode(buf, sizeof(buf), &n, (const char *)data, size, &ei) == FWC_OK) {
		char t[512];
		size_t tl;

		if (fwc_base58_encode(t, sizeof(t), &tl, buf, n) != FWC_OK || tl != size ||
		    memcmp(t, data, size) != 0)
			abort();
	}
	return 0;
}
