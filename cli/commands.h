/* fwchain CLI — entry points of the command groups, called by the dispatch table in main.c.
 * Each takes the arguments from the command name on (argv[0] is "sign", "manifest", ...) and
 * returns the process exit code (CLI_EXIT_* in util.h). */
#ifndef FWCHAIN_CLI_COMMANDS_H
#define FWCHAIN_CLI_COMMANDS_H

#include "fwchain/key.h"

/* cmd_key.c */
int cmd_keygen(int argc, char **argv);
int cmd_key(int argc, char **argv);
/* Resolve a public key named on the command line: "bip340:<hex>" / "ed25519:<hex>" text, a file
 * holding that text (one line), or a keystore file (its public part; no passphrase needed).
 * Prints one line and returns CLI_EXIT_ERROR on failure. */
int cli_pubkey_resolve(const char *cmd, const char *arg, struct fwc_pubkey *pk);
/* Ask for the passphrase (see cli_passphrase_get) and decrypt the keystore at path.
 * Prints one line and returns CLI_EXIT_ERROR on failure. The caller wipes sk. */
int cli_seckey_load(const char *cmd, struct fwc_seckey *sk, const char *path, const char *passfile);

/* cmd_sign.c */
int cmd_sign(int argc, char **argv);
int cmd_verify_sig(int argc, char **argv);

/* cmd_cid.c */
struct fwc_unixfs_result;
int cmd_cid(int argc, char **argv);
/* Stream the file at path ("-" = standard input) through the UnixFS importer with `ipfs add`'s
 * defaults for cid_version (0 or 1): *res gets the root CID, size and flat SHA-256. Constant
 * memory. Prints one line and returns CLI_EXIT_ERROR on failure (*res then untouched). */
int cli_image_import(const char *cmd, struct fwc_unixfs_result *res, const char *path,
                     unsigned cid_version);
/* Parse a --cid-version value ("0" or "1"). Prints one line and returns CLI_EXIT_ERROR when
 * it is neither. */
int cli_cid_version_arg(const char *cmd, const char *val, unsigned *version);

/* cmd_manifest.c */
int cmd_manifest(int argc, char **argv);

#endif
