/* fwchain — encrypted keystore: one secret key in a file, sealed with a passphrase.
 *
 * Argon2id turns the passphrase into a key for XChaCha20-Poly1305, which encrypts the 32-byte
 * secret; the header (algorithm, KDF parameters, salt, nonce, public key) is in the clear and
 * authenticated as associated data. Byte layout: docs/formats/keystore.md. */
#ifndef FWCHAIN_KEYSTORE_H
#define FWCHAIN_KEYSTORE_H

#include <stddef.h>
#include <stdint.h>

#include "fwchain/err.h"
#include "fwchain/key.h"

#ifdef __cplusplus
extern "C" {
#endif

#define FWC_KEYSTORE_VERSION 1
#define FWC_KEYSTORE_KDF_ARGON2ID 1
#define FWC_KEYSTORE_SALT_LEN 16
#define FWC_KEYSTORE_NONCE_LEN 24
#define FWC_KEYSTORE_HEADER_LEN 92 /* authenticated (AAD) part, up to the ciphertext */
#define FWC_KEYSTORE_CT_LEN 48     /* 32-byte secret + 16-byte Poly1305 tag */
#define FWC_KEYSTORE_LEN 140       /* whole file */

/* Bounds on the Argon2id parameters a file may ask for. The minimums are libsodium's; the
 * maximums keep a hostile file from making us allocate more than 256 MiB or spin for minutes
 * (libsodium's MODERATE limits are 3 passes over 256 MiB). */
#define FWC_KEYSTORE_OPSLIMIT_MIN 1ULL
#define FWC_KEYSTORE_OPSLIMIT_MAX 16ULL
#define FWC_KEYSTORE_MEMLIMIT_MIN ((size_t)8192)
#define FWC_KEYSTORE_MEMLIMIT_MAX ((size_t)256 * 1024 * 1024)

/* Argon2id cost. opslimit is the number of passes, memlimit the memory in bytes (a multiple of
 * 1024, since the file stores KiB). */
struct fwc_keystore_params {
	unsigned long long opslimit;
	size_t memlimit;
};

/* A parsed keystore file. The pointers point into the buffer given to fwc_keystore_parse() and
 * are valid as long as that buffer is. */
struct fwc_keystore_file {
	uint8_t version;
	uint8_t kdf;
	struct fwc_keystore_params params;
	const uint8_t *salt;   /* FWC_KEYSTORE_SALT_LEN bytes */
	const uint8_t *nonce;  /* FWC_KEYSTORE_NONCE_LEN bytes */
	struct fwc_pubkey pk;  /* as stored; authenticated only once decryption succeeds */
	const uint8_t *header; /* FWC_KEYSTORE_HEADER_LEN bytes: the associated data */
	const uint8_t *ct;     /* FWC_KEYSTORE_CT_LEN bytes: ciphertext then tag */
};

/* Write sk to a new file at path, encrypted under pass[0..passlen) (any bytes, may be empty).
 * params NULL means the defaults: Argon2id with libsodium's INTERACTIVE limits (2 passes,
 * 64 MiB), about a tenth of a second here: the passphrase is asked for at every signing, and
 * the file is meant to stay on the operator's machine with mode 0600 (see keystore.md).
 * Never overwrites: FWC_ERR_EXISTS when path exists (even as a dangling symlink). The file
 * appears atomically, complete and fsynced, with mode 0600; on any failure nothing is left
 * behind (no temporary file, no partial file) and the secret is never written in the clear.
 * Returns FWC_OK, FWC_ERR_ARG (NULL, params out of bounds), FWC_ERR_KEY (unusable sk),
 * FWC_ERR_EXISTS, FWC_ERR_IO (with ei saying which system call failed and why),
 * FWC_ERR_NOMEM/FWC_ERR_CRYPTO (Argon2 could not run). */
int fwc_keystore_save(const char *path, const struct fwc_seckey *sk, const char *pass,
                      size_t passlen, const struct fwc_keystore_params *params,
                      struct fwc_errinfo *ei);

/* Read and decrypt the keystore at path into *sk (written only on success; the caller wipes
 * it with fwc_seckey_wipe()). Refuses, in this order: a path that is not a regular file or
 * cannot be read (FWC_ERR_IO), a file whose mode gives any access to group or others
 * (FWC_ERR_PERMISSIONS, before reading a byte), then whatever fwc_keystore_parse() and
 * fwc_keystore_decrypt() refuse. */
int fwc_keystore_load(struct fwc_seckey *sk, const char *path, const char *pass, size_t passlen,
                      struct fwc_errinfo *ei);

/* The public key stored in the keystore at path, without the passphrase and without
 * checking the file's mode (nothing secret is read). The key is not authenticated by this
 * call: it is whatever the file says, checked only to be a valid point. */
int fwc_keystore_peek(struct fwc_pubkey *pk, const char *path, struct fwc_errinfo *ei);

/* Parse a keystore image buf[0..len) without decrypting it (no allocation, no KDF). *kf is
 * written only on success and points into buf. Errors, with ei saying what and where:
 * FWC_ERR_MALFORMED (not a keystore: bad magic; a nonzero reserved byte; parameters below
 * libsodium's minimums), FWC_ERR_KEY (the stored public key is not a valid point),
 * FWC_ERR_UNSUPPORTED (unknown version, algorithm or KDF; parameters above
 * FWC_KEYSTORE_*_MAX), FWC_ERR_TRUNCATED (shorter than FWC_KEYSTORE_LEN),
 * FWC_ERR_TRAILING (longer). */
int fwc_keystore_parse(struct fwc_keystore_file *kf, const uint8_t *buf, size_t len,
                       struct fwc_errinfo *ei);

/* Derive the key from pass and open a parsed file's ciphertext into *sk (written only on
 * success). FWC_ERR_PASSPHRASE when the passphrase is wrong or any byte of the file was
 * changed; FWC_ERR_KEY when the decrypted secret is unusable or its public key is not the
 * stored one (a file written by a faulty tool that knew the passphrase);
 * FWC_ERR_NOMEM/FWC_ERR_CRYPTO when Argon2 cannot run. Costs one Argon2id run of the
 * file's parameters, which fwc_keystore_parse() has bounded. */
int fwc_keystore_decrypt(struct fwc_seckey *sk, const struct fwc_keystore_file *kf,
                         const char *pass, size_t passlen, struct fwc_errinfo *ei);

/* Build a keystore image in out with the given salt and nonce (fwc_keystore_save() draws them
 * from the OS; passing fixed ones is for known-answer tests and the format's worked example
 * only: reusing a (passphrase, salt, nonce) triple for two keys leaks both). params NULL means
 * the defaults. Returns as fwc_keystore_save() minus the file errors. */
int fwc_keystore_encode(uint8_t out[FWC_KEYSTORE_LEN], const struct fwc_seckey *sk,
                        const char *pass, size_t passlen, const struct fwc_keystore_params *params,
                        const uint8_t salt[FWC_KEYSTORE_SALT_LEN],
                        const uint8_t nonce[FWC_KEYSTORE_NONCE_LEN], struct fwc_errinfo *ei);

#ifdef __cplusplus
}
#endif
#endif
