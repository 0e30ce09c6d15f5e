/* The two memory primitives every secret-handling file needs, through libsodium, whose versions
 * are written not to be optimised away or to leak timing. This is the library's backend of the
 * declarations in hex.h; the device agent has its own (agent/core/crypto.c). */
#include "fwchain/hex.h"

#include <sodium.h>

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
