/* Error strings and the errinfo helper.
 *
 * The table is indexed by the negated code so fwc_strerror() is a bounds check and a load; an
 * unknown code (a newer library, a caller bug) gets a generic string rather than NULL. */
#include "fwchain/err.h"

#include <stdarg.h>
#include <stdio.h>

static const char *const msgs[] = {
	"ok",
	"invalid argument",
	"out of memory",
	"input/output error",
	"crypto library failure",
	"bad signature",
	"malformed input",
	"non-canonical encoding",
	"truncated input",
	"trailing bytes after item",
	"item too large",
	"nesting too deep",
	"unsupported variant",
	"output buffer too small",
	"hash mismatch",
	"signature threshold not met",
	"not found",
	"wrong passphrase or tampered keystore",
	"file permissions too open",
	"proof does not verify",
	"cosignature quorum not met",
	"duplicate entry",
	"map keys not in canonical order",
	"indefinite-length item",
	"wrong item type",
	"unknown critical field",
	"missing required field",
	"value out of range",
	"operation not allowed in this state",
	"invalid key",
	"file already exists",
	"checkpoint too old",
	"not enough disk space",
};

const char *fwc_strerror(int err)
{
	unsigned idx = err <= 0 ? (unsigned)-err : 0u;

	if (err > 0 || idx >= sizeof(msgs) / sizeof(msgs[0]))
		return "unknown error";
	return msgs[idx];
}

int fwc_fail(struct fwc_errinfo *ei, size_t offset, int code, const char *fmt, ...)
{
	va_list ap;

	if (ei == NULL)
		return code;
	ei->offset = offset;
	va_start(ap, fmt);
	vsnprintf(ei->msg, sizeof(ei->msg), fmt, ap);
	va_end(ap);
	return code;
}
