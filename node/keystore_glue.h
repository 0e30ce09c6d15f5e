/* fwchaind — where the node saves the admin organisation's secret key: the library's encrypted
 * keystore (include/fwchain/keystore.h, Argon2id + XChaCha20-Poly1305). Kept behind this one
 * function so the data-directory code does not depend on the keystore's parameter struct. */
#ifndef FWC_NODE_KEYSTORE_GLUE_H
#define FWC_NODE_KEYSTORE_GLUE_H

#include <stddef.h>

#include "fwchain/err.h"
#include "fwchain/key.h"

/* Save sk encrypted under pass[0..passlen) at path (mode 0600) with the keystore's default
 * parameters. FWC_OK, or the keystore's error with a message in ei (FWC_ERR_EXISTS when path
 * exists). */
int node_keystore_save(const char *path, const struct fwc_seckey *sk, const char *pass,
                       size_t passlen, struct fwc_errinfo *ei);

#endif
