/* Encrypted keystore: one secret key per file, sealed with a passphrase.
 *
 * The file is a fixed 140-byte record (docs/formats/keystore.md): a clear header carrying
 * magic, version, algorithm, Argon2id parameters, salt, nonce and the public key, then the
 * XChaCha20-Poly1305 encryption of the 32-byte secret with the whole header as associated
 * data, so changing any byte of the file makes decryption fail. Parsing is split from
 * decryption and works on a caller's buffer, with no allocation and no KDF, so the header
 * parser can be fuzzed cheaply and the public key read without the passphrase. The parser
 * bounds the Argon2 parameters before anything runs them, because they come from the file.
 * Saving never overwrites: it writes a 0600 temporary file in the target's directory, fsyncs
 * it and hard-links it to the final name (link() fails atomically when the name exists, which
 * rename() would silently replace), then removes the temporary name and fsyncs the directory. */
#include "fwchain/keystore.h"

#include "fwchain/hex.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sodium.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* "fwc-key\n": readable in a hex dump, and the newline catches text-mode mangling. */
static const uint8_t magic[8] = {'f', 'w', 'c', '-', 'k', 'e', 'y', '\n'};

/* Offsets of the fields; docs/formats/keystore.md has the same table. */
enum {
	OFF_MAGIC = 0,
	OFF_VERSION = 8,
	OFF_ALG = 9,
	OFF_KDF = 10,
	OFF_RESERVED = 11,
	OFF_OPSLIMIT = 12,
	OFF_MEMLIMIT = 16,
	OFF_SALT = 20,
	OFF_NONCE = 36,
	OFF_PUBKEY = 60,
	OFF_CT = 92,
};

#define KEY_LEN crypto_aead_xchacha20poly1305_ietf_KEYBYTES
#define SECRET_LEN 32

_Static_assert(OFF_CT == FWC_KEYSTORE_HEADER_LEN, "header layout");
_Static_assert(OFF_CT + FWC_KEYSTORE_CT_LEN == FWC_KEYSTORE_LEN, "file layout");
_Static_assert(FWC_KEYSTORE_CT_LEN == SECRET_LEN + crypto_aead_xchacha20poly1305_ietf_ABYTES,
               "ciphertext length");
_Static_assert(FWC_KEYSTORE_SALT_LEN == crypto_pwhash_argon2id_SALTBYTES, "salt length");
_Static_assert(FWC_KEYSTORE_NONCE_LEN == crypto_aead_xchacha20poly1305_ietf_NPUBBYTES,
               "nonce length");
_Static_assert(FWC_KEYSTORE_OPSLIMIT_MIN >= crypto_pwhash_argon2id_OPSLIMIT_MIN, "ops min");
_Static_assert(FWC_KEYSTORE_MEMLIMIT_MIN >= crypto_pwhash_argon2id_MEMLIMIT_MIN, "mem min");

static const struct fwc_keystore_params default_params = {
    crypto_pwhash_argon2id_OPSLIMIT_INTERACTIVE,
    crypto_pwhash_argon2id_MEMLIMIT_INTERACTIVE,
};

static uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static int params_check(const struct fwc_keystore_params *p)
{
	return p->opslimit >= FWC_KEYSTORE_OPSLIMIT_MIN &&
	       p->opslimit <= FWC_KEYSTORE_OPSLIMIT_MAX &&
	       p->memlimit >= FWC_KEYSTORE_MEMLIMIT_MIN &&
	       p->memlimit <= FWC_KEYSTORE_MEMLIMIT_MAX && p->memlimit % 1024 == 0;
}

/* Argon2id(pass, salt) -> AEAD key. The parameters were bounded by the caller. */
static int derive(uint8_t key[KEY_LEN], const char *pass, size_t passlen, const uint8_t *salt,
                  const struct fwc_keystore_params *p, struct fwc_errinfo *ei)
{
	static const char empty[1];

	if (passlen > crypto_pwhash_argon2id_PASSWD_MAX)
		return fwc_fail(ei, 0, FWC_ERR_ARG, "passphrase too long");
	if (pass == NULL)
		pass = empty;
	if (crypto_pwhash(key, KEY_LEN, pass, passlen, salt, p->opslimit, p->memlimit,
	                  crypto_pwhash_ALG_ARGON2ID13) != 0)
		return fwc_fail(ei, 0, FWC_ERR_NOMEM,
		                "Argon2id could not allocate %zu KiB of memory",
		                p->memlimit / 1024);
	return FWC_OK;
}

int fwc_keystore_encode(uint8_t out[FWC_KEYSTORE_LEN], const struct fwc_seckey *sk,
                        const char *pass, size_t passlen, const struct fwc_keystore_params *params,
                        const uint8_t salt[FWC_KEYSTORE_SALT_LEN],
                        const uint8_t nonce[FWC_KEYSTORE_NONCE_LEN], struct fwc_errinfo *ei)
{
	uint8_t buf[FWC_KEYSTORE_LEN], key[KEY_LEN], secret[SECRET_LEN];
	unsigned long long ctlen = 0;
	struct fwc_pubkey pk;
	int rc;

	if (out == NULL || sk == NULL || (pass == NULL && passlen != 0) || salt == NULL ||
	    nonce == NULL)
		return fwc_fail(ei, 0, FWC_ERR_ARG, "missing argument");
	if (params == NULL)
		params = &default_params;
	if (!params_check(params))
		return fwc_fail(ei, 0, FWC_ERR_ARG,
		                "Argon2id parameters out of bounds: opslimit %llu (%llu..%llu), "
		                "memlimit %zu (%zu..%zu, whole KiB)",
		                params->opslimit, FWC_KEYSTORE_OPSLIMIT_MIN,
		                FWC_KEYSTORE_OPSLIMIT_MAX, params->memlimit,
		                FWC_KEYSTORE_MEMLIMIT_MIN, FWC_KEYSTORE_MEMLIMIT_MAX);
	if (sodium_init() < 0)
		return fwc_fail(ei, 0, FWC_ERR_CRYPTO, "libsodium failed to initialise");
	/* Deriving the public key also proves the secret key is usable. */
	if ((rc = fwc_key_public(&pk, sk)) < 0)
		return fwc_fail(ei, 0, rc, "secret key is not a usable %s key",
		                fwc_alg_name(sk->alg) ? fwc_alg_name(sk->alg) : "(unknown)");

	memcpy(buf + OFF_MAGIC, magic, sizeof(magic));
	buf[OFF_VERSION] = FWC_KEYSTORE_VERSION;
	buf[OFF_ALG] = pk.alg;
	buf[OFF_KDF] = FWC_KEYSTORE_KDF_ARGON2ID;
	buf[OFF_RESERVED] = 0;
	put_be32(buf + OFF_OPSLIMIT, (uint32_t)params->opslimit);
	put_be32(buf + OFF_MEMLIMIT, (uint32_t)(params->memlimit / 1024));
	memcpy(buf + OFF_SALT, salt, FWC_KEYSTORE_SALT_LEN);
	memcpy(buf + OFF_NONCE, nonce, FWC_KEYSTORE_NONCE_LEN);
	memcpy(buf + OFF_PUBKEY, pk.key, FWC_PUBKEY_LEN);

	if ((rc = fwc_key_secret(secret, sk)) < 0)
		goto out;
	if ((rc = derive(key, pass, passlen, salt, params, ei)) < 0)
		goto out;
	if (crypto_aead_xchacha20poly1305_ietf_encrypt(buf + OFF_CT, &ctlen, secret, SECRET_LEN,
	                                               buf, OFF_CT, NULL, nonce, key) != 0 ||
	    ctlen != FWC_KEYSTORE_CT_LEN) {
		rc = fwc_fail(ei, 0, FWC_ERR_CRYPTO, "encryption failed");
		goto out;
	}
	memcpy(out, buf, FWC_KEYSTORE_LEN);
	rc = FWC_OK;
out:
	fwc_wipe(secret, sizeof(secret));
	fwc_wipe(key, sizeof(key));
	fwc_wipe(buf, sizeof(buf));
	return rc;
}

int fwc_keystore_parse(struct fwc_keystore_file *kf, const uint8_t *buf, size_t len,
                       struct fwc_errinfo *ei)
{
	struct fwc_keystore_file tmp;
	size_t n = len < sizeof(magic) ? len : sizeof(magic);
	uint32_t ops, kib;

	if (kf == NULL || (buf == NULL && len != 0))
		return FWC_ERR_ARG;
	/* Magic and version come before the length so that a file of another kind, or of a
	 * future version with another size, gets the message that names its real problem. */
	if (n > 0 && memcmp(buf, magic, n) != 0)
		return fwc_fail(ei, 0, FWC_ERR_MALFORMED,
		                "not an fwchain keystore (bad magic bytes)");
	if (len > OFF_VERSION && buf[OFF_VERSION] != FWC_KEYSTORE_VERSION)
		return fwc_fail(ei, OFF_VERSION, FWC_ERR_UNSUPPORTED,
		                "keystore version %u is not supported (only %u)", buf[OFF_VERSION],
		                FWC_KEYSTORE_VERSION);
	if (len < FWC_KEYSTORE_LEN)
		return fwc_fail(ei, len, FWC_ERR_TRUNCATED,
		                "keystore is truncated: %zu bytes, a version 1 keystore has %u",
		                len, FWC_KEYSTORE_LEN);
	if (len > FWC_KEYSTORE_LEN)
		return fwc_fail(ei, FWC_KEYSTORE_LEN, FWC_ERR_TRAILING,
		                "keystore has %zu bytes after its end (byte %u)",
		                len - FWC_KEYSTORE_LEN, FWC_KEYSTORE_LEN);
	if (fwc_alg_name(buf[OFF_ALG]) == NULL)
		return fwc_fail(ei, OFF_ALG, FWC_ERR_UNSUPPORTED,
		                "unknown key algorithm %u in keystore", buf[OFF_ALG]);
	if (buf[OFF_KDF] != FWC_KEYSTORE_KDF_ARGON2ID)
		return fwc_fail(ei, OFF_KDF, FWC_ERR_UNSUPPORTED,
		                "unknown key derivation function %u in keystore (1 = Argon2id)",
		                buf[OFF_KDF]);
	if (buf[OFF_RESERVED] != 0)
		return fwc_fail(ei, OFF_RESERVED, FWC_ERR_MALFORMED,
		                "reserved keystore byte is %u, must be 0", buf[OFF_RESERVED]);
	ops = get_be32(buf + OFF_OPSLIMIT);
	if (ops < FWC_KEYSTORE_OPSLIMIT_MIN)
		return fwc_fail(ei, OFF_OPSLIMIT, FWC_ERR_MALFORMED,
		                "Argon2id pass count %lu is below the minimum %llu",
		                (unsigned long)ops, FWC_KEYSTORE_OPSLIMIT_MIN);
	if (ops > FWC_KEYSTORE_OPSLIMIT_MAX)
		return fwc_fail(ei, OFF_OPSLIMIT, FWC_ERR_UNSUPPORTED,
		                "Argon2id pass count %lu is above the supported maximum %llu",
		                (unsigned long)ops, FWC_KEYSTORE_OPSLIMIT_MAX);
	kib = get_be32(buf + OFF_MEMLIMIT);
	if (kib < FWC_KEYSTORE_MEMLIMIT_MIN / 1024)
		return fwc_fail(ei, OFF_MEMLIMIT, FWC_ERR_MALFORMED,
		                "Argon2id memory %lu KiB is below the minimum %zu KiB",
		                (unsigned long)kib, FWC_KEYSTORE_MEMLIMIT_MIN / 1024);
	if (kib > FWC_KEYSTORE_MEMLIMIT_MAX / 1024)
		return fwc_fail(ei, OFF_MEMLIMIT, FWC_ERR_UNSUPPORTED,
		                "Argon2id memory %lu KiB is above the supported maximum %zu KiB",
		                (unsigned long)kib, FWC_KEYSTORE_MEMLIMIT_MAX / 1024);
	tmp.pk.alg = buf[OFF_ALG];
	memcpy(tmp.pk.key, buf + OFF_PUBKEY, FWC_PUBKEY_LEN);
	if (fwc_pubkey_check(&tmp.pk) < 0)
		return fwc_fail(ei, OFF_PUBKEY, FWC_ERR_KEY,
		                "keystore's %s public key is not a valid curve point",
		                fwc_alg_name(tmp.pk.alg));
	tmp.version = buf[OFF_VERSION];
	tmp.kdf = buf[OFF_KDF];
	tmp.params.opslimit = ops;
	tmp.params.memlimit = (size_t)kib * 1024;
	tmp.salt = buf + OFF_SALT;
	tmp.nonce = buf + OFF_NONCE;
	tmp.header = buf;
	tmp.ct = buf + OFF_CT;
	*kf = tmp;
	return FWC_OK;
}

int fwc_keystore_decrypt(struct fwc_seckey *sk, const struct fwc_keystore_file *kf,
                         const char *pass, size_t passlen, struct fwc_errinfo *ei)
{
	uint8_t key[KEY_LEN], secret[SECRET_LEN];
	unsigned long long n = 0;
	struct fwc_seckey tmp;
	struct fwc_pubkey pk;
	int rc;

	if (sk == NULL || kf == NULL || (pass == NULL && passlen != 0))
		return fwc_fail(ei, 0, FWC_ERR_ARG, "missing argument");
	/* kf may have been filled by hand: hold it to the parser's bounds before Argon2 runs. */
	if (!params_check(&kf->params) || kf->header == NULL || kf->ct == NULL ||
	    kf->salt == NULL || kf->nonce == NULL)
		return fwc_fail(ei, 0, FWC_ERR_ARG, "keystore not parsed");
	if (sodium_init() < 0)
		return fwc_fail(ei, 0, FWC_ERR_CRYPTO, "libsodium failed to initialise");
	memset(&tmp, 0, sizeof(tmp));
	if ((rc = derive(key, pass, passlen, kf->salt, &kf->params, ei)) < 0)
		goto out;
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(
	        secret, &n, NULL, kf->ct, FWC_KEYSTORE_CT_LEN, kf->header, FWC_KEYSTORE_HEADER_LEN,
	        kf->nonce, key) != 0 ||
	    n != SECRET_LEN) {
		rc = fwc_fail(ei, 0, FWC_ERR_PASSPHRASE,
		              "wrong passphrase, or the keystore file was modified");
		goto out;
	}
	if ((rc = fwc_key_from_secret(&tmp, (enum fwc_alg)kf->pk.alg, secret)) < 0 ||
	    (rc = fwc_key_public(&pk, &tmp)) < 0) {
		rc = fwc_fail(ei, OFF_CT, FWC_ERR_KEY, "keystore holds an unusable secret key");
		goto out;
	}
	if (!fwc_pubkey_equal(&pk, &kf->pk)) {
		rc = fwc_fail(ei, OFF_PUBKEY, FWC_ERR_KEY,
		              "keystore's public key does not belong to its secret key");
		goto out;
	}
	*sk = tmp;
	rc = FWC_OK;
out:
	fwc_seckey_wipe(&tmp);
	fwc_wipe(secret, sizeof(secret));
	fwc_wipe(key, sizeof(key));
	return rc;
}

/* Read the whole keystore at path into buf (cap bytes, one more than a valid file so that
 * trailing bytes are seen). check_mode refuses a file others can access, before reading. */
static int read_keystore(uint8_t *buf, size_t cap, size_t *len, const char *path, int check_mode,
                         struct fwc_errinfo *ei)
{
	struct stat st;
	size_t got = 0;
	int fd, rc = FWC_OK;

	/* O_NONBLOCK so that a FIFO planted at path cannot hang us before fstat() rejects it. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return fwc_fail(ei, 0, FWC_ERR_IO, "cannot open keystore %s: %s", path,
		                strerror(errno));
	if (fstat(fd, &st) != 0) {
		rc = fwc_fail(ei, 0, FWC_ERR_IO, "cannot stat keystore %s: %s", path,
		              strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = fwc_fail(ei, 0, FWC_ERR_IO, "keystore %s is not a regular file", path);
		goto out;
	}
	if (check_mode && (st.st_mode & 077) != 0) {
		rc = fwc_fail(ei, 0, FWC_ERR_PERMISSIONS,
		              "keystore %s has mode %04o, readable or writable by others; "
		              "run: chmod 600 %s",
		              path, (unsigned)(st.st_mode & 07777), path);
		goto out;
	}
	while (got < cap) {
		ssize_t r = read(fd, buf + got, cap - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = fwc_fail(ei, got, FWC_ERR_IO, "cannot read keystore %s: %s", path,
			              strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	*len = got;
out:
	close(fd);
	return rc;
}

int fwc_keystore_load(struct fwc_seckey *sk, const char *path, const char *pass, size_t passlen,
                      struct fwc_errinfo *ei)
{
	uint8_t buf[FWC_KEYSTORE_LEN + 1];
	struct fwc_keystore_file kf;
	size_t len = 0;
	int rc;

	if (sk == NULL || path == NULL || (pass == NULL && passlen != 0))
		return fwc_fail(ei, 0, FWC_ERR_ARG, "missing argument");
	if ((rc = read_keystore(buf, sizeof(buf), &len, path, 1, ei)) < 0)
		goto out;
	if ((rc = fwc_keystore_parse(&kf, buf, len, ei)) < 0)
		goto out;
	rc = fwc_keystore_decrypt(sk, &kf, pass, passlen, ei);
out:
	fwc_wipe(buf, sizeof(buf));
	return rc;
}

int fwc_keystore_peek(struct fwc_pubkey *pk, const char *path, struct fwc_errinfo *ei)
{
	uint8_t buf[FWC_KEYSTORE_LEN + 1];
	struct fwc_keystore_file kf;
	size_t len = 0;
	int rc;

	if (pk == NULL || path == NULL)
		return fwc_fail(ei, 0, FWC_ERR_ARG, "missing argument");
	if ((rc = read_keystore(buf, sizeof(buf), &len, path, 0, ei)) < 0)
		return rc;
	if ((rc = fwc_keystore_parse(&kf, buf, len, ei)) < 0)
		return rc;
	*pk = kf.pk;
	return FWC_OK;
}

/* The directory part of path ("." when there is none) into dir[cap]. */
static int dir_of(char *dir, size_t cap, const char *path, size_t len)
{
	size_t slash = len;

	while (slash > 0 && path[slash - 1] != '/')
		slash--;
	if (slash == 0) {
		memcpy(dir, ".", 2);
		return FWC_OK;
	}
	slash--; /* index of the last '/' */
	if (slash == 0)
		slash = 1; /* keep "/" for a file in the root */
	if (slash + 1 > cap)
		return FWC_ERR_ARG;
	memcpy(dir, path, slash);
	dir[slash] = '\0';
	return FWC_OK;
}

static int write_all(int fd, const uint8_t *p, size_t len)
{
	while (len > 0) {
		ssize_t w = write(fd, p, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

/* Create a fresh temporary file next to path, mode exactly 0600 whatever the umask. */
static int create_temp(char *tmp, size_t cap, const char *path, struct fwc_errinfo *ei)
{
	for (int tries = 0; tries < 16; tries++) {
		uint8_t rnd[8];
		char hex[17];
		int fd;

		randombytes_buf(rnd, sizeof(rnd));
		fwc_hex_encode(hex, sizeof(hex), rnd, sizeof(rnd));
		if ((size_t)snprintf(tmp, cap, "%s.tmp-%s", path, hex) >= cap)
			return fwc_fail(ei, 0, FWC_ERR_ARG, "keystore path too long");
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0 && errno == EEXIST)
			continue;
		if (fd < 0)
			return fwc_fail(ei, 0, FWC_ERR_IO, "cannot create %s: %s", tmp,
			                strerror(errno));
		if (fchmod(fd, 0600) != 0) {
			int e = errno;

			close(fd);
			unlink(tmp);
			return fwc_fail(ei, 0, FWC_ERR_IO, "cannot chmod %s: %s", tmp, strerror(e));
		}
		return fd;
	}
	return fwc_fail(ei, 0, FWC_ERR_IO, "cannot find a free temporary name next to %s", path);
}

int fwc_keystore_save(const char *path, const struct fwc_seckey *sk, const char *pass,
                      size_t passlen, const struct fwc_keystore_params *params,
                      struct fwc_errinfo *ei)
{
	uint8_t buf[FWC_KEYSTORE_LEN], salt[FWC_KEYSTORE_SALT_LEN], nonce[FWC_KEYSTORE_NONCE_LEN];
	char tmp[PATH_MAX], dir[PATH_MAX];
	struct stat st;
	size_t plen;
	int fd = -1, dfd, rc, have_tmp = 0;

	if (path == NULL || sk == NULL || (pass == NULL && passlen != 0))
		return fwc_fail(ei, 0, FWC_ERR_ARG, "missing argument");
	plen = strlen(path);
	if (plen == 0 || path[plen - 1] == '/')
		return fwc_fail(ei, 0, FWC_ERR_ARG, "keystore path '%s' names no file", path);
	if (dir_of(dir, sizeof(dir), path, plen) < 0)
		return fwc_fail(ei, 0, FWC_ERR_ARG, "keystore path too long");
	/* Early, friendly refusal before the slow KDF; link() below is what makes it safe. */
	if (lstat(path, &st) == 0)
		return fwc_fail(ei, 0, FWC_ERR_EXISTS,
		                "%s already exists; refusing to overwrite a keystore", path);
	if (errno != ENOENT)
		return fwc_fail(ei, 0, FWC_ERR_IO, "cannot check %s: %s", path, strerror(errno));
	if (sodium_init() < 0)
		return fwc_fail(ei, 0, FWC_ERR_CRYPTO, "libsodium failed to initialise");
	randombytes_buf(salt, sizeof(salt));
	randombytes_buf(nonce, sizeof(nonce));
	if ((rc = fwc_keystore_encode(buf, sk, pass, passlen, params, salt, nonce, ei)) < 0)
		goto out;

	if ((fd = create_temp(tmp, sizeof(tmp), path, ei)) < 0) {
		rc = fd;
		goto out;
	}
	have_tmp = 1;
	if (write_all(fd, buf, sizeof(buf)) != 0) {
		rc = fwc_fail(ei, 0, FWC_ERR_IO, "cannot write %s: %s", tmp, strerror(errno));
		goto out;
	}
	if (fsync(fd) != 0) {
		rc = fwc_fail(ei, 0, FWC_ERR_IO, "cannot fsync %s: %s", tmp, strerror(errno));
		goto out;
	}
	rc = close(fd);
	fd = -1;
	if (rc != 0) {
		rc = fwc_fail(ei, 0, FWC_ERR_IO, "cannot close %s: %s", tmp, strerror(errno));
		goto out;
	}
	if (link(tmp, path) != 0) {
		if (errno == EEXIST)
			rc = fwc_fail(ei, 0, FWC_ERR_EXISTS,
			              "%s already exists; refusing to overwrite a keystore", path);
		else
			rc = fwc_fail(ei, 0, FWC_ERR_IO, "cannot create %s: %s", path,
			              strerror(errno));
		goto out;
	}
	rc = FWC_OK;
out:
	if (fd >= 0)
		close(fd);
	/* Only the final name may remain, whatever happened. */
	if (have_tmp && unlink(tmp) != 0 && rc == FWC_OK)
		rc = fwc_fail(ei, 0, FWC_ERR_IO, "keystore written to %s, but cannot remove %s: %s",
		              path, tmp, strerror(errno));
	/* The new name (and the removed temporary one) are durable only once the directory
	 * itself is synced. */
	if (rc == FWC_OK) {
		dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd < 0 || fsync(dfd) != 0)
			rc = fwc_fail(ei, 0, FWC_ERR_IO,
			              "keystore written to %s, but cannot sync directory %s: %s",
			              path, dir, strerror(errno));
		if (dfd >= 0)
			close(dfd);
	}
	fwc_wipe(buf, sizeof(buf));
	return rc;
}
