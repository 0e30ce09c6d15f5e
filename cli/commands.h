/* fwchain CLI — entry points of the command groups, called by the dispatch table in main.c.
 * Each takes the arguments from the command name on (argv[0] is "sign", "manifest", ...) and
 * returns the process exit code (CLI_EXIT_* in util.h). */
#ifndef FWCHAIN_CLI_COMMANDS_H
#define FWCHAIN_CLI_COMMANDS_H

#include <stddef.h>
#include <stdint.h>

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

/* cmd_trust.c */
struct fwc_keyset;
struct fwc_trust;
int cmd_trust(int argc, char **argv);
/* Build a k-of-n key set from key lists (each comma-separated; the strings are split in place)
 * naming public keys as cli_pubkey_resolve accepts them, with threshold 1..n. flag names the
 * option in messages. Prints one line and returns CLI_EXIT_ERROR on failure (*ks untouched). */
int cli_keyset_args(const char *cmd, struct fwc_keyset *ks, char **lists, size_t n_lists,
                    unsigned threshold, const char *flag);

/* cmd_proof.c */
int cmd_proof(int argc, char **argv);
/* Read and parse the trust file at path; *buf (caller frees) holds the text t points into.
 * Prints one line and returns CLI_EXIT_ERROR on failure. */
int cli_trust_load(const char *cmd, struct fwc_trust *t, uint8_t **buf, const char *path);

/* cmd_node.c */
int cmd_status(int argc, char **argv);
int cmd_checkpoint(int argc, char **argv);
int cmd_tx(int argc, char **argv);
/* A transaction type by name ("release") or number (1..17). Prints one line and returns
 * CLI_EXIT_ERROR when it is neither. */
int cli_tx_type_arg(const char *cmd, const char *s, uint32_t *type);

/* cmd_content.c */
struct cli_node;
struct fwc_cid;
struct json_t;
int cmd_content(int argc, char **argv);
/* Upload file (UnixFS, CID version cid_version; or, with car, a CAR) to the node, signed by
 * sk, after computing its CID locally (which must be expect when given: else CLI_EXIT_FAIL
 * before anything is sent); *cid gets the node's CID, which for a file must be the one
 * computed here (else CLI_EXIT_FAIL). *answer (caller json_decref's) is the node's JSON
 * answer. Prints one line and returns CLI_EXIT_ERROR on failure. */
int cli_content_upload(const char *cmd, struct cli_node *n, const struct fwc_seckey *sk,
                       const char *file, unsigned cid_version, int car,
                       const struct fwc_cid *expect, struct fwc_cid *cid, struct json_t **answer);

/* For release publish --image: upload image as o's key to o's node (CID version as the
 * manifest's CID cid[0..cid_len)) and require the node's CID to be that one. Prints one line
 * and returns CLI_EXIT_ERROR (or CLI_EXIT_FAIL for a CID mismatch) on failure. */
struct cli_txopts;
int cli_release_image_upload(const char *cmd, const struct cli_txopts *o, const char *image,
                             const uint8_t *cid, size_t cid_len);

/* cmd_ledger.c */
int cmd_org(int argc, char **argv);
int cmd_member(int argc, char **argv);
int cmd_product(int argc, char **argv);
int cmd_keyset(int argc, char **argv);
int cmd_device(int argc, char **argv);
int cmd_release(int argc, char **argv);
int cmd_rollout(int argc, char **argv);
int cmd_postpone(int argc, char **argv);
int cmd_config(int argc, char **argv);
int cmd_licence(int argc, char **argv);
int cmd_validators(int argc, char **argv);
int cmd_event(int argc, char **argv);
/* fwchain key revoke (dispatched from cmd_key). */
int cli_key_revoke(int argc, char **argv);

/* device_provision.c: fwchain device provision (dispatched from cmd_device). */
int cli_device_provision(int argc, char **argv);

/* cmd_query.c: read-only views over the node's query API */
int cmd_orgs(int argc, char **argv);
int cmd_products(int argc, char **argv);
int cmd_releases(int argc, char **argv);
int cmd_devices(int argc, char **argv);
int cmd_events(int argc, char **argv);
int cmd_txs(int argc, char **argv);
int cmd_audit(int argc, char **argv);
/* fwchain release show|list and device show|list (dispatched from cmd_release / cmd_device;
 * argv[1] is the subcommand). */
int cli_release_query(int argc, char **argv);
int cli_device_query(int argc, char **argv);

#endif
