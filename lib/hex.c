/* Hex encoding and the two memory primitives every secret-handling file needs.
 *
 * Decoding walks an explicit (pointer, length) pair and never relies on NUL termination, so
 * it can parse a field in the middle of a larger untrusted buffer. Wiping and comparison go
 * through libsodium, whose versions are written not to be optimised away or to leak timing. */
#include "fwchain/hex.h"

#include "fwchain/err.h"

#include <sodium.h>

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

static int nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
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

		if (hi < 0 || lo < 0)
			return FWC_ERR_MALFORMED;
		out[i / 2] = (uint8_t)(hi << 4 | lo);
	}
	*outlen = inlen / 2;
	return FWC_OK;
}

int fwc_ct_equal(const void *a, const void *b, size_t len)
{
	if (len == 0)
		return 1;
	return sodium_memcmp(a, b, len) == 0;
}

void fwc_wipe(void *p, size_t len)
{
	if (p != NULL && len != 0)
		sodium_memzero(p, len);
}
