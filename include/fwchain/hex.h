/* fwchain — hexadecimal, decimal and constant-time helpers used across the library and tools. */
#ifndef FWCHAIN_HEX_H
#define FWCHAIN_HEX_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Write 2*len lowercase hex digits and a NUL to out (capacity outcap >= 2*len+1).
 * Returns FWC_OK or FWC_ERR_BUFSIZE. */
int fwc_hex_encode(char *out, size_t outcap, const uint8_t *in, size_t len);

/* Parse exactly inlen hex digits (either case, no separators) into out. *outlen gets the byte
 * count. Returns FWC_OK, FWC_ERR_MALFORMED (odd length, non-hex digit) or FWC_ERR_BUFSIZE. */
int fwc_hex_decode(uint8_t *out, size_t outcap, size_t *outlen, const char *in, size_t inlen);

/* Write the decimal digits of v (no sign, no leading zeros; "0" for 0) and a NUL to out.
 * *outlen (optional) gets the number of digits. Returns FWC_OK, FWC_ERR_ARG or FWC_ERR_BUFSIZE
 * (outcap below digits + 1; 21 is always enough). */
int fwc_dec_encode(char *out, size_t outcap, size_t *outlen, uint64_t v);

/* Constant-time equality of two len-byte buffers: 1 when equal, 0 otherwise. */
int fwc_ct_equal(const void *a, const void *b, size_t len);

/* Wipe len bytes in a way the compiler may not remove. */
void fwc_wipe(void *p, size_t len);

#ifdef __cplusplus
}
#endif
#endif
