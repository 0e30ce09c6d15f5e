/* Multibase (base32 lower, base58btc) and multiformats unsigned varints.
 *
 * Design: strict, allocation-free codecs over (pointer, length) pairs. base32 works in 5-bit
 * groups with an explicit bit accumulator and rejects non-zero leftover bits, so every byte
 * string has exactly one accepted spelling. base58 uses the schoolbook base conversion over a
 * fixed-size stack buffer; its quadratic cost is fine because inputs are bounded to
 * FWC_BASE58_MAX_BYTES (CIDs are 34-36 bytes). */
#include "fwchain/multibase.h"

#include <string.h>

static const char b32_alpha[] = "abcdefghijklmnopqrstuvwxyz234567";
static const char b58_alpha[] = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

size_t fwc_base32_encoded_len(size_t len)
{
	return (len / 5) * 8 + ((len % 5) * 8 + 4) / 5;
}

int fwc_base32_encode(char *out, size_t outcap, size_t *outlen, const uint8_t *in, size_t len)
{
	size_t need = fwc_base32_encoded_len(len), n = 0;
	uint32_t acc = 0;
	unsigned bits = 0;

	if (out == NULL || (in == NULL && len > 0))
		return FWC_ERR_ARG;
	if (outcap < need + 1)
		return FWC_ERR_BUFSIZE;
	for (size_t i = 0; i < len; i++) {
		acc = (acc << 8) | in[i];
		bits += 8;
		while (bits >= 5) {
			bits -= 5;
			out[n++] = b32_alpha[(acc >> bits) & 31];
		}
	}
	if (bits > 0)
		out[n++] = b32_alpha[(acc << (5 - bits)) & 31];
	out[n] = '\0';
	if (outlen)
		*outlen = n;
	return FWC_OK;
}

static int b32_value(char c)
{
	if (c >= 'a' && c <= 'z')
		return c - 'a';
	if (c >= '2' && c <= '7')
		return c - '2' + 26;
	return -1;
}

int fwc_base32_decode(uint8_t *out, size_t outcap, size_t *outlen, const char *in, size_t inlen,
		      struct fwc_errinfo *ei)
{
	size_t rem = inlen % 8, need = (inlen / 8) * 5, n = 0;
	uint32_t acc = 0;
	unsigned bits = 0;

	if (out == NULL || (in == NULL && inlen > 0))
		return FWC_ERR_ARG;
	if (rem == 1 || rem == 3 || rem == 6)
		return fwc_fail(ei, inlen, FWC_ERR_MALFORMED,
				"base32 length %zu is impossible (length mod 8 is %zu)", inlen, rem);
	need += (rem * 5) / 8;
	if (outcap < need)
		return FWC_ERR_BUFSIZE;
	for (size_t i = 0; i < inlen; i++) {
		int v = b32_value(in[i]);

		if (v < 0)
			return fwc_fail(ei, i, FWC_ERR_MALFORMED,
					"character 0x%02x is not lowercase base32",
					(unsigned)(unsigned char)in[i]);
		acc = (acc << 5) | (uint32_t)v;
		bits += 5;
		if (bits >= 8) {
			bits -= 8;
			out[n++] = (uint8_t)(acc >> bits);
		}
	}
	if (bits > 0 && (acc & ((1u << bits) - 1)) != 0)
		return fwc_fail(ei, inlen - 1, FWC_ERR_NONCANONICAL,
				"base32 text has non-zero unused trailing bits");
	if (outlen)
		*outlen = n;
	return FWC_OK;
}

int fwc_base58_encode(char *out, size_t outcap, size_t *outlen, const uint8_t *in, size_t len)
{
	/* digits[] holds the number in base 58, least significant first. */
	uint8_t digits[FWC_BASE58_MAX_CHARS];
	size_t ndig = 0, zeros = 0, n = 0;

	if (out == NULL || (in == NULL && len > 0))
		return FWC_ERR_ARG;
	if (len > FWC_BASE58_MAX_BYTES)
		return FWC_ERR_TOO_LARGE;
	while (zeros < len && in[zeros] == 0)
		zeros++;
	for (size_t i = zeros; i < len; i++) {
		uint32_t carry = in[i];

		for (size_t j = 0; j < ndig; j++) {
			carry += (uint32_t)digits[j] << 8;
			digits[j] = (uint8_t)(carry % 58);
			carry /= 58;
		}
		while (carry > 0) {
			digits[ndig++] = (uint8_t)(carry % 58);
			carry /= 58;
		}
	}
	if (outcap < zeros + ndig + 1)
		return FWC_ERR_BUFSIZE;
	for (size_t i = 0; i < zeros; i++)
		out[n++] = '1';
	while (ndig > 0)
		out[n++] = b58_alpha[digits[--ndig]];
	out[n] = '\0';
	if (outlen)
		*outlen = n;
	return FWC_OK;
}

static int b58_value(char c)
{
	const char *p;

	if (c == '\0')
		return -1;
	p = memchr(b58_alpha, c, sizeof(b58_alpha) - 1);
	return p ? (int)(p - b58_alpha) : -1;
}

int fwc_base58_decode(uint8_t *out, size_t outcap, size_t *outlen, const char *in, size_t inlen,
		      struct fwc_errinfo *ei)
{
	/* bytes[] holds the number in base 256, least significant first. */
	uint8_t bytes[FWC_BASE58_MAX_CHARS];
	size_t nbytes = 0, zeros = 0;

	if (out == NULL || (in == NULL && inlen > 0))
		return FWC_ERR_ARG;
	if (inlen > FWC_BASE58_MAX_CHARS)
		return fwc_fail(ei, FWC_BASE58_MAX_CHARS, FWC_ERR_TOO_LARGE,
				"base58 text longer than %d characters", FWC_BASE58_MAX_CHARS);
	while (zeros < inlen && in[zeros] == '1')
		zeros++;
	for (size_t i = zeros; i < inlen; i++) {
		int v = b58_value(in[i]);
		uint32_t carry;

		if (v < 0)
			return fwc_fail(ei, i, FWC_ERR_MALFORMED,
					"character 0x%02x is not base58btc",
					(unsigned)(unsigned char)in[i]);
		carry = (uint32_t)v;
		for (size_t j = 0; j < nbytes; j++) {
			carry += (uint32_t)bytes[j] * 58;
			bytes[j] = (uint8_t)carry;
			carry >>= 8;
		}
		while (carry > 0) {
			bytes[nbytes++] = (uint8_t)carry;
			carry >>= 8;
		}
	}
	if (zeros + nbytes > FWC_BASE58_MAX_BYTES)
		return fwc_fail(ei, 0, FWC_ERR_TOO_LARGE,
				"base58 text decodes to more than %d bytes", FWC_BASE58_MAX_BYTES);
	if (outcap < zeros + nbytes)
		return FWC_ERR_BUFSIZE;
	memset(out, 0, zeros);
	for (size_t i = 0; i < nbytes; i++)
		out[zeros + i] = bytes[nbytes - 1 - i];
	if (outlen)
		*outlen = zeros + nbytes;
	return FWC_OK;
}

int fwc_multibase_encode(char *out, size_t outcap, size_t *outlen, char base, const uint8_t *in,
			 size_t len)
{
	size_t n = 0;
	int rc;

	if (out == NULL)
		return FWC_ERR_ARG;
	if (base != FWC_MULTIBASE_BASE32 && base != FWC_MULTIBASE_BASE58BTC)
		return FWC_ERR_UNSUPPORTED;
	if (outcap < 2)
		return FWC_ERR_BUFSIZE;
	if (base == FWC_MULTIBASE_BASE32)
		rc = fwc_base32_encode(out + 1, outcap - 1, &n, in, len);
	else
		rc = fwc_base58_encode(out + 1, outcap - 1, &n, in, len);
	if (rc < 0)
		return rc;
	out[0] = base;
	if (outlen)
		*outlen = n + 1;
	return FWC_OK;
}

int fwc_multibase_decode(uint8_t *out, size_t outcap, size_t *outlen, char *base, const char *in,
			 size_t inlen, struct fwc_errinfo *ei)
{
	int rc;

	if (out == NULL || (in == NULL && inlen > 0))
		return FWC_ERR_ARG;
	if (inlen == 0)
		return fwc_fail(ei, 0, FWC_ERR_MALFORMED, "empty multibase text");
	if (in[0] == FWC_MULTIBASE_BASE32)
		rc = fwc_base32_decode(out, outcap, outlen, in + 1, inlen - 1, ei);
	else if (in[0] == FWC_MULTIBASE_BASE58BTC)
		rc = fwc_base58_decode(out, outcap, outlen, in + 1, inlen - 1, ei);
	else
		return fwc_fail(ei, 0, FWC_ERR_UNSUPPORTED,
				"multibase prefix 0x%02x is not 'b' (base32) or 'z' (base58btc)",
				(unsigned)(unsigned char)in[0]);
	if (rc < 0) {
		if (ei)
			ei->offset += 1; /* account for the prefix character */
		return rc;
	}
	if (base)
		*base = in[0];
	return FWC_OK;
}

size_t fwc_varint_encode(uint8_t out[FWC_VARINT_MAX], uint64_t v)
{
	size_t n = 0;

	if (v >> 63)
		return 0;
	while (v >= 0x80) {
		out[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	out[n++] = (uint8_t)v;
	return n;
}

int fwc_varint_decode(uint64_t *v, size_t *used, const uint8_t *in, size_t len,
		      struct fwc_errinfo *ei)
{
	uint64_t acc = 0;

	if (v == NULL || used == NULL || (in == NULL && len > 0))
		return FWC_ERR_ARG;
	for (size_t i = 0; i < FWC_VARINT_MAX; i++) {
		if (i >= len)
			return fwc_fail(ei, i, FWC_ERR_TRUNCATED, "input ends inside a varint");
		acc |= (uint64_t)(in[i] & 0x7f) << (7 * i);
		if ((in[i] & 0x80) == 0) {
			if (i > 0 && in[i] == 0)
				return fwc_fail(ei, i, FWC_ERR_NONCANONICAL,
						"varint is not minimally encoded");
			*v = acc;
			*used = i + 1;
			return FWC_OK;
		}
	}
	return fwc_fail(ei, FWC_VARINT_MAX, FWC_ERR_TOO_LARGE, "varint longer than %d bytes",
			FWC_VARINT_MAX);
}
