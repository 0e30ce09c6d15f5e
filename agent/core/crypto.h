/* fwagent core — the crypto backend under the library code the core compiles (lib/cbor.c,
 * lib/note.c, ...): SHA-256 and signature checks go to the port, error messages are dropped.
 * Internal to the core; see crypto.c. */
#ifndef FWAGENT_CORE_CRYPTO_H
#define FWAGENT_CORE_CRYPTO_H

#include "fwagent/port.h"

/* Make port the one the library code's hash and signature calls (fwc_sha256_*, fwc_verify)
 * use, until the next call; NULL unbinds (those calls then fail with FWC_ERR_STATE). The core
 * binds its device's port at the start of every step that runs library code. Returns the
 * previously bound port, so a caller can restore it. */
struct fwc_port *fwc_agent_crypto_bind(struct fwc_port *port);

/* The bound port, or NULL. */
struct fwc_port *fwc_agent_crypto_port(void);

#endif
