/* fwchain — strict standard base64 (RFC 4648 §4, with padding), as C2SP notes and checkpoints
 * use it. The decoder accepts only the one canonical encoding of a byte string: padding present
 * and only at the end, no whitespace, unused trailing bits zero. */
#ifndef FWCHAIN_BASE64_H
#define FWCHAIN_BASE64_H

#include <stddef.h>
#include <stdint.h>

#include "fwchain/err.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Characters needed to encode len bytes (without the NUL). */
#define FWC_BASE64_LEN(len) ((((len) + 2) / 3) * 4)

/* Encode in[0..len) and a terminating NUL into out (outcap >= FWC_BASE64_LEN(len) + 1).
 * *outlen (optional) gets the character count. FWC_OK or FWC_ERR_BUFSIZE (out untouched). */
int fwc_base64_encode(char *out, size_t outcap, size_t *outlen, const uint8_t *in, size_t len);

/* Decode exactly in[0..len). With out == NULL only validates and reports the decoded length.
 * Returns FWC_OK, FWC_ERR_MALFORMED (length not a multiple of 4, a character outside the
 * alphabet, misplaced padding), FWC_ERR_NONCANONICAL (non-zero unused bits) or FWC_ERR_BUFSIZE;
 * ei (optional) gets the offset of the offending character. Outputs are written only on
 * success. */
int fwc_base64_decode(uint8_t *out, size_t outcap, size_t *outlen, const char *in, size_t len,
                      struct fwc_errinfo *ei);

#ifdef __cplusplus
}
#endif
#endif
