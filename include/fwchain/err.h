/* fwchain — error codes shared by every part of the project.
 *
 * One enum for the whole library; numbers never change once released, new codes are added at
 * the end. 0 is success and every error is negative, so `if (rc < 0)` is the error check.
 * Decoders of untrusted bytes also fill an optional struct fwc_errinfo that says what was wrong
 * and at which byte offset, so the tools can print a precise one-line message. */
#ifndef FWCHAIN_ERR_H
#define FWCHAIN_ERR_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

enum fwc_err {
	FWC_OK = 0,
	FWC_ERR_ARG = -1,          /* caller misuse: NULL context, impossible argument */
	FWC_ERR_NOMEM = -2,        /* allocation failed */
	FWC_ERR_IO = -3,           /* read/write/open failed (errno kept by the caller) */
	FWC_ERR_CRYPTO = -4,       /* the crypto library failed internally */
	FWC_ERR_BADSIG = -5,       /* a signature does not verify */
	FWC_ERR_MALFORMED = -6,    /* input does not follow its format */
	FWC_ERR_NONCANONICAL = -7, /* valid but not the one canonical encoding */
	FWC_ERR_TRUNCATED = -8,    /* input ends before the item does */
	FWC_ERR_TRAILING = -9,     /* bytes after the end of the item */
	FWC_ERR_TOO_LARGE = -10,   /* an item exceeds its size limit */
	FWC_ERR_TOO_DEEP = -11,    /* nesting deeper than the fixed bound */
	FWC_ERR_UNSUPPORTED = -12, /* well-formed but a variant we do not implement */
	FWC_ERR_BUFSIZE = -13,     /* the caller's output buffer is too small */
	FWC_ERR_HASH_MISMATCH = -14, /* content does not match its hash */
	FWC_ERR_THRESHOLD = -15,   /* fewer valid distinct signatures than required */
	FWC_ERR_NOT_FOUND = -16,   /* a looked-up item does not exist */
	FWC_ERR_PASSPHRASE = -17,  /* wrong passphrase or tampered keystore */
	FWC_ERR_PERMISSIONS = -18, /* a secret file is readable by others */
	FWC_ERR_PROOF = -19,       /* a Merkle proof does not verify */
	FWC_ERR_QUORUM = -20,      /* not enough valid cosignatures */
	FWC_ERR_DUPLICATE = -21,   /* duplicate map key / duplicate entry */
	FWC_ERR_UNSORTED = -22,    /* map keys not in canonical order */
	FWC_ERR_INDEFINITE = -23,  /* CBOR indefinite length item */
	FWC_ERR_TYPE = -24,        /* an item has the wrong type */
	FWC_ERR_UNKNOWN_FIELD = -25, /* an unknown critical field */
	FWC_ERR_MISSING_FIELD = -26, /* a required field is absent */
	FWC_ERR_RANGE = -27,       /* a value is outside its allowed range */
	FWC_ERR_STATE = -28,       /* operation not allowed in the current state */
	FWC_ERR_KEY = -29,         /* invalid key (not on the curve, wrong algorithm) */
	FWC_ERR_EXISTS = -30,      /* refusing to overwrite an existing file */
	FWC_ERR_STALE = -31,       /* a checkpoint is older than the configured maximum age */
	FWC_ERR_NOSPACE = -32,     /* not enough disk space (or below the configured floor) */
};

/* Where and why a decoder refused its input. Optional everywhere (pass NULL). */
struct fwc_errinfo {
	size_t offset;  /* byte offset in the input where the problem was found */
	char msg[160];  /* NUL-terminated human-readable reason */
};

/* Static, never NULL, English description of an error code. */
const char *fwc_strerror(int err);

/* Record `code` with a printf-style reason at `offset` in `ei` (ignored when ei is NULL) and
 * return `code`, so decoders can write `return fwc_fail(ei, off, FWC_ERR_X, "...")`. */
int fwc_fail(struct fwc_errinfo *ei, size_t offset, int code, const char *fmt, ...)
#if defined(__GNUC__)
	__attribute__((format(printf, 4, 5)))
#endif
	;

#ifdef __cplusplus
}
#endif
#endif
