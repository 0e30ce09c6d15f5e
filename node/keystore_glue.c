/* The admin key goes to libfwchain's keystore with its default Argon2id limits (see
 * docs/formats/keystore.md); fwc_keystore_save() writes it atomically with mode 0600 and never
 * overwrites a file. */
#include "keystore_glue.h"

#include "fwchain/keystore.h"

int node_keystore_save(const char *path, const struct fwc_seckey *sk, const char *pass,
                       size_t passlen, struct fwc_errinfo *ei)
{
	return fwc_keystore_save(path, sk, pass, passlen, NULL, ei);
}
