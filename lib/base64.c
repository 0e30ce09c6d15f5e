/* Strict RFC 4648 base64 with padding.
 *
 * Design choice: one decoder that validates completely before it writes anything, so a caller
 * can ask for the length only (out == NULL) and out-params stay untouched on failure. It is the
 * canonical-form gate for notes and checkpoints: two different strings never decode to the same
 * bytes, so a signature line or a root hash has exactly one textual form. */
#include "fwchain/base64.h"

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int fwc_base64_encode(char *out, size_t outcap, size_t *outlen, const uint8_t *in, size_t len)
{
	size_t need, o = 0, i = 0;

	if (out == NULL || (in == NULL && len != 0))
		return FWC_ERR_ARG;
	if (len > (SIZE_MAX / 4) * 3 - 3)
		return FWC_ERR_BUFSIZE;
	need = FWC_BASE64_LEN(len);
	if (outcap < need + 1)
		return FWC_ERR_BUFSIZE;
	for (; i + 3 <= len; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];

		out[o++] = alphabet[v >> 18];
		out[o++] = alphabet[(v >> 12) & 63];
		out[o++] = alphabet[(v >> 6) & 63];
		out[o++] = alphabet[v & 63];
	}
	if (len - i == 1) {
		uint32_t v = (uint32_t)in[i] << 16;

		out[o++] = alphabet[v >> 18];
		out[o++] = alphabet[(v >> 12) & 63];
		out[o++] = '=';
		out[o++] = '=';
	} else if (len - i == 2) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;

		out[o++] = alphabet[v >> 18];
		out[o++] = alphabet[(v >> 12) & 63];
		out[o++] = alphabet[(v >> 6) & 63];
		out[o++] = '=';
	}
	out[o] = '\0';
	if (outlen != NULL)
		*outlen = o;
	return FWC_OK;
}

static int value_of(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

int fwc_base64_decode(uint8_t *out, size_t outcap, size_t *outlen, const char *in, size_t len,
                      struct fwc_errinfo *ei)
{
	size_t pad = 0, n;

	if ((in == NULL && len != 0) || (out == NULL && outlen == NULL))
		return FWC_ERR_ARG;
	if (len % 4 != 0)
		return fwc_fail(ei, len, FWC_ERR_MALFORMED,
		                "base64 length %zu is not a multiple of 4", len);
	if (len > 0 && in[len - 1] == '=')
		pad = (len > 1 && in[len - 2] == '=') ? 2 : 1;
	for (size_t i = 0; i < len - pad; i++)
		if (value_of(in[i]) < 0)
			return fwc_fail(ei, i, FWC_ERR_MALFORMED,
			                in[i] == '=' ? "base64 padding before the end"
			                             : "character 0x%02x is not base64",
			                (unsigned char)in[i]);
	if (pad > 0) {
		/* The last full character carries bits that fall off the end; they must be 0. */
		int last = value_of(in[len - pad - 1]);

		if ((pad == 2 && (last & 0x0f) != 0) || (pad == 1 && (last & 0x03) != 0))
			return fwc_fail(ei, len - pad - 1, FWC_ERR_NONCANONICAL,
			                "base64 has non-zero bits after the last byte");
	}
	n = len / 4 * 3 - pad;
	if (out != NULL) {
		size_t o = 0;

		if (outcap < n)
			return FWC_ERR_BUFSIZE;
		for (size_t i = 0; i < len; i += 4) {
			uint32_t v = 0;

			for (size_t j = 0; j < 4; j++) {
				int c = (i + j < len - pad) ? value_of(in[i + j]) : 0;

				v = v << 6 | (uint32_t)c;
			}
			if (o < n)
				out[o++] = (uint8_t)(v >> 16);
			if (o < n)
				out[o++] = (uint8_t)(v >> 8);
			if (o < n)
				out[o++] = (uint8_t)v;
		}
	}
	if (outlen != NULL)
		*outlen = n;
	return FWC_OK;
}
