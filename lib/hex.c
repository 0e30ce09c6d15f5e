/* Hex and decimal encoding.
 *
 * Decoding walks an explicit (pointer, length) pair and never relies on NUL termination, so
 * it can parse a field in the middle of a larger untrusted buffer. Nothing here depends on a
 * library or on the C library's formatted output, so the device agent builds this file as it
 * is; the two memory primitives of hex.h (wipe, constant-time compare) belong to a backend
 * (secmem.c, libsodium; agent/core/crypto.c on the device). */
#include "fwchain/hex.h"

#include "fwchain/err.h"

int fwc_hex_encode(char *out, size_t outcap, const uint8_t *in, size_t len)
{
	static const char digits[] = "0123456789abcdef";

	if (out == NULL || (in == NULL && len != 0))
		return FWC_ERR_ARG;
	if (len > (SIZE_MAX - 1) / 2 || outcap < 2 * len + 1)
		return FWC_ERR_BUFSIZE;
	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * len] = '\0';
	return FWC_OK;
}

/* Each byte's digit value plus one, 0 for a byte that is no hex digit: a table, not branches,
 * since the node decodes a device key per check-in and random keys' digits defeat branch
 * prediction. */
static const uint8_t nibble_of[256] = {
    ['0'] = 1,  ['1'] = 2,  ['2'] = 3,  ['3'] = 4,  ['4'] = 5,  ['5'] = 6,  ['6'] = 7,
    ['7'] = 8,  ['8'] = 9,  ['9'] = 10, ['a'] = 11, ['b'] = 12, ['c'] = 13, ['d'] = 14,
    ['e'] = 15, ['f'] = 16, ['A'] = 11, ['B'] = 12, ['C'] = 13, ['D'] = 14, ['E'] = 15,
    ['F'] = 16,
};

static int nibble(char c)
{
	return (int)nibble_of[(unsigned char)c] - 1;
}

int fwc_hex_decode(uint8_t *out, size_t outcap, size_t *outlen, const char *in, size_t inlen)
{
	if (out == NULL || outlen == NULL || (in == NULL && inlen != 0))
		return FWC_ERR_ARG;
	if (inlen % 2 != 0)
		return FWC_ERR_MALFORMED;
	if (inlen / 2 > outcap)
		return FWC_ERR_BUFSIZE;
	for (size_t i = 0; i < inlen; i += 2) {
		int hi = nibble(in[i]), lo = nibble(in[i + 1]);

		if ((hi | lo) < 0)
			return FWC_ERR_MALFORMED;
		out[i / 2] = (uint8_t)(hi << 4 | lo);
	}
	*outlen = inlen / 2;
	return FWC_OK;
}

int fwc_dec_encode(char *out, size_t outcap, size_t *outlen, uint64_t v)
{
	char tmp[20];
	size_t n = 0;

	if (out == NULL)
		return FWC_ERR_ARG;
	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	if (outcap < n + 1)
		return FWC_ERR_BUFSIZE;
	for (size_t i = 0; i < n; i++)
		out[i] = tmp[n - 1 - i];
	out[n] = '\0';
	if (outlen != NULL)
		*outlen = n;
	return FWC_OK;
}
