/* Tests lib/keystore.c: the worked example of docs/formats/keystore.md byte for byte, files
 * built from the format's definition with libsodium directly (a second implementation), round
 * trips for both algorithms, and every refusal: each single-byte change and each truncation of
 * a saved file, trailing bytes, group/other permissions, out-of-bounds KDF parameters, an
 * existing target, and a save that fails half-way (no temporary file may remain). The tests
 * use libsodium's minimum Argon2id cost (1 pass, 8 KiB) except one run of the defaults. */
#include "test.h"

#include "fwchain/err.h"
#include "fwchain/hex.h"
#include "fwchain/key.h"
#include "fwchain/keystore.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sodium.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

static const struct fwc_keystore_params fast = {1, 8192};
static char dir[64];

#define EX_SECRET "b7e151628aed2a6abf7158809cf4f3c762e7160f38b4da56a784d9045190cfef"
#define EX_PUBKEY "dff1d77f2a671c5f36183726db2341be58feae1da2deced843240f7b502ba659"
#define EX_PASS "fwchain example passphrase"
#define EX_FILE                                                                                    \
	"6677632d6b65790a010101000000000100000008000102030405060708090a0b0c0d0e0f101112131415"     \
	"161718191a1b1c1d1e1f2021222324252627dff1d77f2a671c5f36183726db2341be58feae1da2deced8"     \
	"43240f7b502ba659a0078e5cb83c34eb92137cf43eb34a8b45303d980e8322e9145f606a40e433edbd1d"     \
	"ba940c050b2cc10b5c1c3482c1ef"

static void unhex(uint8_t *out, size_t len, const char *hex)
{
	size_t got = 0;

	CHECK(fwc_hex_decode(out, len, &got, hex, strlen(hex)) == FWC_OK && got == len);
}

static void path_in_dir(char *out, size_t cap, const char *name)
{
	snprintf(out, cap, "%s/%s", dir, name);
}

static int write_file(const char *path, const uint8_t *buf, size_t len, mode_t mode)
{
	int fd;
	ssize_t w;

	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, mode);
	if (fd < 0)
		return -1;
	w = write(fd, buf, len);
	fchmod(fd, mode);
	close(fd);
	return w == (ssize_t)len ? 0 : -1;
}

static size_t read_file(uint8_t *buf, size_t cap, const char *path)
{
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return 0;
	n = read(fd, buf, cap);
	close(fd);
	return n < 0 ? 0 : (size_t)n;
}

/* Number of directory entries whose name starts with prefix. */
static int count_entries(const char *prefix)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (strncmp(e->d_name, prefix, strlen(prefix)) == 0)
			n++;
	closedir(d);
	return n;
}

/* A keystore file straight from docs/formats/keystore.md, with libsodium and no fwchain code. */
static void build_by_spec(uint8_t out[140], uint8_t alg, const uint8_t pk[32],
                          const uint8_t secret[32], const char *pass, uint32_t ops, uint32_t kib,
                          const uint8_t salt[16], const uint8_t nonce[24])
{
	uint8_t key[32];

	memcpy(out, "fwc-key\n", 8);
	out[8] = 1;
	out[9] = alg;
	out[10] = 1;
	out[11] = 0;
	for (int i = 0; i < 4; i++) {
		out[12 + i] = (uint8_t)(ops >> (24 - 8 * i));
		out[16 + i] = (uint8_t)(kib >> (24 - 8 * i));
	}
	memcpy(out + 20, salt, 16);
	memcpy(out + 36, nonce, 24);
	memcpy(out + 60, pk, 32);
	CHECK(crypto_pwhash(key, 32, pass, strlen(pass), salt, ops, (size_t)kib * 1024,
	                    crypto_pwhash_ALG_ARGON2ID13) == 0);
	CHECK(crypto_aead_xchacha20poly1305_ietf_encrypt(out + 92, NULL, secret, 32, out, 92, NULL,
	                                                 nonce, key) == 0);
}

/* Parse and decrypt an in-memory image: the load path without the file. */
static int open_buf(struct fwc_seckey *sk, const uint8_t *buf, size_t len, const char *pass)
{
	struct fwc_keystore_file kf;
	int rc = fwc_keystore_parse(&kf, buf, len, NULL);

	if (rc < 0)
		return rc;
	return fwc_keystore_decrypt(sk, &kf, pass, strlen(pass), NULL);
}

static void test_worked_example(void)
{
	uint8_t secret[32], salt[16], nonce[24], want[140], got[140], spec[140], pkb[32];
	struct fwc_seckey sk, back;
	struct fwc_pubkey pk;
	struct fwc_keystore_file kf;
	char docpath[512], doc[16384] = "";
	FILE *f;

	unhex(secret, 32, EX_SECRET);
	unhex(pkb, 32, EX_PUBKEY);
	unhex(want, 140, EX_FILE);
	for (int i = 0; i < 16; i++)
		salt[i] = (uint8_t)i;
	for (int i = 0; i < 24; i++)
		nonce[i] = (uint8_t)(0x10 + i);
	build_by_spec(spec, 1, pkb, secret, EX_PASS, 1, 8, salt, nonce);
	CHECK_MEM(spec, want, 140);

	CHECK_RC(fwc_key_from_secret(&sk, FWC_ALG_BIP340, secret), FWC_OK);
	CHECK_RC(fwc_keystore_encode(got, &sk, EX_PASS, strlen(EX_PASS), &fast, salt, nonce, NULL),
	         FWC_OK);
	CHECK_MEM(got, want, 140);

	CHECK_RC(fwc_keystore_parse(&kf, want, sizeof(want), NULL), FWC_OK);
	CHECK(kf.version == 1 && kf.kdf == 1 && kf.params.opslimit == 1 &&
	      kf.params.memlimit == 8192);
	CHECK(kf.pk.alg == FWC_ALG_BIP340 && memcmp(kf.pk.key, pkb, 32) == 0);
	CHECK(kf.salt == want + 20 && kf.nonce == want + 36 && kf.ct == want + 92);
	CHECK_RC(fwc_keystore_decrypt(&back, &kf, EX_PASS, strlen(EX_PASS), NULL), FWC_OK);
	CHECK(back.alg == FWC_ALG_BIP340 && memcmp(back.key, secret, 32) == 0);
	CHECK_RC(fwc_key_public(&pk, &back), FWC_OK);
	CHECK(memcmp(pk.key, pkb, 32) == 0);

	f = fopen(test_vector_path(docpath, sizeof(docpath), "../../docs/formats/keystore.md"),
	          "rb");
	CHECK(f != NULL);
	if (f != NULL) {
		doc[fread(doc, 1, sizeof(doc) - 1, f)] = '\0';
		fclose(f);
	}
	CHECK(strstr(doc, EX_FILE) != NULL);
	CHECK(strstr(doc, EX_SECRET) != NULL && strstr(doc, EX_PUBKEY) != NULL);
	CHECK(strstr(doc, EX_PASS) != NULL);
	fwc_seckey_wipe(&sk);
	fwc_seckey_wipe(&back);
}

static void test_round_trip(void)
{
	for (int alg = FWC_ALG_BIP340; alg <= FWC_ALG_ED25519; alg++) {
		struct fwc_seckey sk, back;
		struct fwc_pubkey pk, pk2;
		struct stat st;
		char path[128];
		uint8_t buf[512], secret[32];
		size_t n;

		snprintf(path, sizeof(path), "%s/rt-%d.key", dir, alg);
		CHECK_RC(fwc_key_generate(&sk, (enum fwc_alg)alg), FWC_OK);
		CHECK_RC(fwc_key_public(&pk, &sk), FWC_OK);
		CHECK_RC(fwc_keystore_save(path, &sk, "pw", 2, &fast, NULL), FWC_OK);
		CHECK(stat(path, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 07777) == 0600);
		n = read_file(buf, sizeof(buf), path);
		CHECK(n == 140);
		/* the secret is nowhere in the file in the clear */
		CHECK_RC(fwc_key_secret(secret, &sk), FWC_OK);
		for (size_t i = 0; i + 32 <= n; i++)
			CHECK(memcmp(buf + i, secret, 32) != 0);
		CHECK(buf[9] == alg && memcmp(buf + 60, pk.key, 32) == 0);

		memset(&back, 0, sizeof(back));
		CHECK_RC(fwc_keystore_load(&back, path, "pw", 2, NULL), FWC_OK);
		CHECK(back.alg == sk.alg && memcmp(back.key, sk.key, sizeof(sk.key)) == 0);
		CHECK_RC(fwc_keystore_peek(&pk2, path, NULL), FWC_OK);
		CHECK(fwc_pubkey_equal(&pk, &pk2));

		/* wrong passphrases, out-param untouched */
		memset(&back, 0x5A, sizeof(back));
		CHECK_RC(fwc_keystore_load(&back, path, "pW", 2, NULL), FWC_ERR_PASSPHRASE);
		CHECK_RC(fwc_keystore_load(&back, path, "pw ", 3, NULL), FWC_ERR_PASSPHRASE);
		CHECK_RC(fwc_keystore_load(&back, path, "p", 1, NULL), FWC_ERR_PASSPHRASE);
		CHECK_RC(fwc_keystore_load(&back, path, NULL, 0, NULL), FWC_ERR_PASSPHRASE);
		CHECK(back.alg == 0x5A && back.key[0] == 0x5A);
		/* only the final name exists: no temporary file stayed */
		CHECK(count_entries("rt-") == alg);
		fwc_seckey_wipe(&sk);
		fwc_wipe(secret, sizeof(secret));
	}
}

static void test_empty_passphrase_and_defaults(void)
{
	struct fwc_seckey sk, back;
	struct fwc_keystore_file kf;
	char path[128];
	uint8_t buf[256];
	size_t n;

	CHECK_RC(fwc_key_generate(&sk, FWC_ALG_BIP340), FWC_OK);
	path_in_dir(path, sizeof(path), "empty.key");
	CHECK_RC(fwc_keystore_save(path, &sk, NULL, 0, &fast, NULL), FWC_OK);
	CHECK_RC(fwc_keystore_load(&back, path, "", 0, NULL), FWC_OK);
	CHECK(memcmp(back.key, sk.key, 32) == 0);
	CHECK_RC(fwc_keystore_load(&back, path, "x", 1, NULL), FWC_ERR_PASSPHRASE);

	/* NULL params: libsodium's INTERACTIVE limits, 2 passes over 64 MiB */
	path_in_dir(path, sizeof(path), "default.key");
	CHECK_RC(fwc_keystore_save(path, &sk, "pw", 2, NULL, NULL), FWC_OK);
	n = read_file(buf, sizeof(buf), path);
	CHECK(n == 140);
	CHECK_RC(fwc_keystore_parse(&kf, buf, n, NULL), FWC_OK);
	CHECK(kf.params.opslimit == crypto_pwhash_argon2id_OPSLIMIT_INTERACTIVE);
	CHECK(kf.params.memlimit == crypto_pwhash_argon2id_MEMLIMIT_INTERACTIVE);
	CHECK(buf[12] == 0 && buf[15] == 2 && buf[16] == 0 && buf[17] == 1 && buf[18] == 0);
	memset(&back, 0, sizeof(back));
	CHECK_RC(fwc_keystore_load(&back, path, "pw", 2, NULL), FWC_OK);
	CHECK(memcmp(back.key, sk.key, 32) == 0);
	fwc_seckey_wipe(&sk);
	fwc_seckey_wipe(&back);
}

/* Every byte of a saved file matters: each change is refused, never yields a key. */
static void test_every_byte_flip(void)
{
	static const uint8_t masks[] = {0x01, 0x80, 0xff};
	struct fwc_seckey sk, back;
	char path[128], mpath[128];
	uint8_t orig[140], buf[140];

	CHECK_RC(fwc_key_generate(&sk, FWC_ALG_ED25519), FWC_OK);
	path_in_dir(path, sizeof(path), "flip.key");
	path_in_dir(mpath, sizeof(mpath), "flip-mutant.key");
	CHECK_RC(fwc_keystore_save(path, &sk, "pw", 2, &fast, NULL), FWC_OK);
	CHECK(read_file(orig, sizeof(orig), path) == 140);
	CHECK_RC(open_buf(&back, orig, 140, "pw"), FWC_OK);
	for (size_t i = 0; i < 140; i++) {
		for (size_t m = 0; m < sizeof(masks); m++) {
			int rc;

			memcpy(buf, orig, 140);
			buf[i] ^= masks[m];
			memset(&back, 0x5A, sizeof(back));
			if (m == 0) {
				/* through the file API too */
				CHECK(write_file(mpath, buf, 140, 0600) == 0);
				rc = fwc_keystore_load(&back, mpath, "pw", 2, NULL);
			} else {
				rc = open_buf(&back, buf, 140, "pw");
			}
			if (rc >= 0)
				fprintf(stderr, "byte %zu ^ %02x accepted\n", i, masks[m]);
			CHECK(rc < 0);
			CHECK(back.alg == 0x5A);
			/* in salt, nonce, ciphertext and tag only the AEAD can notice */
			if (i >= 20 && (i < 60 || i >= 92))
				CHECK_RC(rc, FWC_ERR_PASSPHRASE);
			/* the public key: an invalid point, or else the AEAD */
			if (i >= 60 && i < 92)
				CHECK(rc == FWC_ERR_KEY || rc == FWC_ERR_PASSPHRASE);
		}
	}
	unlink(mpath);
	fwc_seckey_wipe(&sk);
}

static void test_truncation_and_trailing(void)
{
	struct fwc_seckey sk, back;
	struct fwc_errinfo ei;
	char path[128], tpath[128];
	uint8_t orig[140], buf[400];

	CHECK_RC(fwc_key_generate(&sk, FWC_ALG_BIP340), FWC_OK);
	path_in_dir(path, sizeof(path), "trunc.key");
	path_in_dir(tpath, sizeof(tpath), "trunc-part.key");
	CHECK_RC(fwc_keystore_save(path, &sk, "pw", 2, &fast, NULL), FWC_OK);
	CHECK(read_file(orig, sizeof(orig), path) == 140);
	for (size_t len = 0; len < 140; len++) {
		struct fwc_keystore_file kf;
		struct fwc_pubkey pk;

		memset(&ei, 0, sizeof(ei));
		CHECK_RC(fwc_keystore_parse(&kf, len ? orig : NULL, len, &ei), FWC_ERR_TRUNCATED);
		CHECK(ei.offset == len && strstr(ei.msg, "truncated") != NULL);
		CHECK(write_file(tpath, orig, len, 0600) == 0);
		CHECK_RC(fwc_keystore_load(&back, tpath, "pw", 2, NULL), FWC_ERR_TRUNCATED);
		CHECK_RC(fwc_keystore_peek(&pk, tpath, NULL), FWC_ERR_TRUNCATED);
	}
	memcpy(buf, orig, 140);
	memset(buf + 140, 0, sizeof(buf) - 140);
	CHECK_RC(open_buf(&back, buf, 141, "pw"), FWC_ERR_TRAILING);
	CHECK(write_file(tpath, buf, 141, 0600) == 0);
	CHECK_RC(fwc_keystore_load(&back, tpath, "pw", 2, NULL), FWC_ERR_TRAILING);
	CHECK(write_file(tpath, buf, sizeof(buf), 0600) == 0);
	memset(&ei, 0, sizeof(ei));
	CHECK_RC(fwc_keystore_load(&back, tpath, "pw", 2, &ei), FWC_ERR_TRAILING);
	CHECK(ei.offset == 140);
	unlink(tpath);
	fwc_seckey_wipe(&sk);
}

static void test_permissions(void)
{
	static const mode_t refused[] = {0644, 0640, 0604, 0602, 0620,
	                                 0610, 0601, 0660, 0666, 0700 | 0040};
	struct fwc_seckey sk, back;
	struct fwc_pubkey pk;
	struct fwc_errinfo ei;
	char path[128];

	CHECK_RC(fwc_key_generate(&sk, FWC_ALG_BIP340), FWC_OK);
	path_in_dir(path, sizeof(path), "perm.key");
	CHECK_RC(fwc_keystore_save(path, &sk, "pw", 2, &fast, NULL), FWC_OK);
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		char want[16];

		CHECK(chmod(path, refused[i]) == 0);
		memset(&ei, 0, sizeof(ei));
		memset(&back, 0x5A, sizeof(back));
		CHECK_RC(fwc_keystore_load(&back, path, "pw", 2, &ei), FWC_ERR_PERMISSIONS);
		snprintf(want, sizeof(want), "%04o", (unsigned)refused[i]);
		CHECK(strstr(ei.msg, want) != NULL);
		CHECK(strstr(ei.msg, "chmod 600") != NULL);
		CHECK(back.alg == 0x5A);
		/* peek reads nothing secret and does not insist */
		CHECK_RC(fwc_keystore_peek(&pk, path, NULL), FWC_OK);
	}
	/* owner-only modes are fine, read-only included */
	CHECK(chmod(path, 0400) == 0);
	CHECK_RC(fwc_keystore_load(&back, path, "pw", 2, NULL), FWC_OK);
	CHECK(chmod(path, 0600) == 0);
	CHECK_RC(fwc_keystore_load(&back, path, "pw", 2, NULL), FWC_OK);
	fwc_seckey_wipe(&sk);
	fwc_seckey_wipe(&back);
}

/* Header fields set one at a time to a bad value, on a valid image. */
static void test_header_refusals(void)
{
	struct fwc_seckey sk, back;
	struct fwc_keystore_file kf;
	struct fwc_errinfo ei;
	uint8_t salt[16] = {1}, nonce[24] = {2}, good[140], b[140];
	static const struct {
		size_t off;
		uint8_t bytes[4];
		size_t n;
		int want;
	} cases[] = {
	    {0, {'F'}, 1, FWC_ERR_MALFORMED},
	    {7, {0}, 1, FWC_ERR_MALFORMED},
	    {8, {2}, 1, FWC_ERR_UNSUPPORTED},
	    {8, {0}, 1, FWC_ERR_UNSUPPORTED},
	    {9, {0}, 1, FWC_ERR_UNSUPPORTED},
	    {9, {3}, 1, FWC_ERR_UNSUPPORTED},
	    {10, {0}, 1, FWC_ERR_UNSUPPORTED},
	    {10, {2}, 1, FWC_ERR_UNSUPPORTED},
	    {11, {1}, 1, FWC_ERR_MALFORMED},
	    {12, {0, 0, 0, 0}, 4, FWC_ERR_MALFORMED},
	    {12, {0, 0, 0, 17}, 4, FWC_ERR_UNSUPPORTED},
	    {12, {0xff, 0xff, 0xff, 0xff}, 4, FWC_ERR_UNSUPPORTED},
	    {16, {0, 0, 0, 7}, 4, FWC_ERR_MALFORMED},
	    {16, {0, 0, 0, 0}, 4, FWC_ERR_MALFORMED},
	    {16, {0, 4, 0, 1}, 4, FWC_ERR_UNSUPPORTED}, /* 256 MiB + 1 KiB */
	    {16, {0xff, 0xff, 0xff, 0xff}, 4, FWC_ERR_UNSUPPORTED},
	};

	CHECK_RC(fwc_key_generate(&sk, FWC_ALG_BIP340), FWC_OK);
	CHECK_RC(fwc_keystore_encode(good, &sk, "pw", 2, &fast, salt, nonce, NULL), FWC_OK);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memcpy(b, good, 140);
		memcpy(b + cases[i].off, cases[i].bytes, cases[i].n);
		memset(&ei, 0, sizeof(ei));
		CHECK_RC(fwc_keystore_parse(&kf, b, 140, &ei), cases[i].want);
		CHECK(ei.msg[0] != '\0');
		CHECK(ei.offset <= cases[i].off);
	}
	/* not a keystore at all, whatever its length */
	CHECK_RC(fwc_keystore_parse(&kf, (const uint8_t *)"hello", 5, NULL), FWC_ERR_MALFORMED);
	/* the bounds themselves parse (no allocation happens in parse) */
	memcpy(b, good, 140);
	memcpy(b + 12, "\0\0\0\x10", 4);
	memcpy(b + 16, "\0\x04\0\0", 4);
	CHECK_RC(fwc_keystore_parse(&kf, b, 140, NULL), FWC_OK);
	CHECK(kf.params.opslimit == 16 && kf.params.memlimit == 256u * 1024 * 1024);
	/* in-bounds but different parameters: the AEAD refuses the downgrade */
	memcpy(b, good, 140);
	b[15] = 2;
	CHECK_RC(open_buf(&back, b, 140, "pw"), FWC_ERR_PASSPHRASE);
	/* the other algorithm id: the key is then an invalid point, or else the AEAD refuses */
	memcpy(b, good, 140);
	b[9] = FWC_ALG_ED25519;
	{
		int rc = open_buf(&back, b, 140, "pw");
		CHECK(rc == FWC_ERR_KEY || rc == FWC_ERR_PASSPHRASE);
	}
	fwc_seckey_wipe(&sk);
}

/* Files that authenticate but hold a secret that does not fit: only a faulty writer that
 * knew the passphrase makes these, and load must still refuse them. */
static void test_authenticated_but_wrong(void)
{
	uint8_t salt[16] = {3}, nonce[24] = {4}, file[140], secret[32], other_pk[32];
	struct fwc_seckey sk, other, back;
	struct fwc_pubkey pk;

	CHECK_RC(fwc_key_generate(&sk, FWC_ALG_BIP340), FWC_OK);
	CHECK_RC(fwc_key_generate(&other, FWC_ALG_BIP340), FWC_OK);
	CHECK_RC(fwc_key_public(&pk, &other), FWC_OK);
	memcpy(other_pk, pk.key, 32);
	CHECK_RC(fwc_key_secret(secret, &sk), FWC_OK);
	/* the spec builder reproduces fwc_keystore_encode for a matching key */
	CHECK_RC(fwc_key_public(&pk, &sk), FWC_OK);
	build_by_spec(file, 1, pk.key, secret, "pw", 1, 8, salt, nonce);
	CHECK_RC(open_buf(&back, file, 140, "pw"), FWC_OK);
	CHECK(memcmp(back.key, secret, 32) == 0);
	/* another key's public key */
	build_by_spec(file, 1, other_pk, secret, "pw", 1, 8, salt, nonce);
	CHECK_RC(open_buf(&back, file, 140, "pw"), FWC_ERR_KEY);
	/* a zero scalar is no bip340 key */
	memset(secret, 0, 32);
	build_by_spec(file, 1, other_pk, secret, "pw", 1, 8, salt, nonce);
	CHECK_RC(open_buf(&back, file, 140, "pw"), FWC_ERR_KEY);
	/* an ed25519 file of an ed25519 key, built by the spec, loads */
	CHECK_RC(fwc_key_generate(&other, FWC_ALG_ED25519), FWC_OK);
	CHECK_RC(fwc_key_public(&pk, &other), FWC_OK);
	CHECK_RC(fwc_key_secret(secret, &other), FWC_OK);
	build_by_spec(file, 2, pk.key, secret, "pw", 2, 16, salt, nonce);
	CHECK_RC(open_buf(&back, file, 140, "pw"), FWC_OK);
	CHECK(back.alg == FWC_ALG_ED25519 && memcmp(back.key, other.key, 64) == 0);
	fwc_seckey_wipe(&sk);
	fwc_seckey_wipe(&other);
	fwc_seckey_wipe(&back);
	fwc_wipe(secret, 32);
}

static void test_save_refusals(void)
{
	struct fwc_seckey sk;
	struct fwc_errinfo ei;
	char path[128], link_path[128];
	uint8_t before[140], after[140];
	struct fwc_keystore_params p;

	CHECK_RC(fwc_key_generate(&sk, FWC_ALG_BIP340), FWC_OK);
	path_in_dir(path, sizeof(path), "exists.key");
	CHECK_RC(fwc_keystore_save(path, &sk, "pw", 2, &fast, NULL), FWC_OK);
	CHECK(read_file(before, sizeof(before), path) == 140);
	memset(&ei, 0, sizeof(ei));
	CHECK_RC(fwc_keystore_save(path, &sk, "other", 5, &fast, &ei), FWC_ERR_EXISTS);
	CHECK(strstr(ei.msg, "exists") != NULL);
	CHECK(read_file(after, sizeof(after), path) == 140);
	CHECK_MEM(before, after, 140);
	CHECK(count_entries("exists") == 1);

	/* a dangling symlink counts as existing: never write through it */
	path_in_dir(link_path, sizeof(link_path), "dangling.key");
	CHECK(symlink("nowhere-target", link_path) == 0);
	CHECK_RC(fwc_keystore_save(link_path, &sk, "pw", 2, &fast, NULL), FWC_ERR_EXISTS);
	CHECK(count_entries("nowhere-target") == 0);
	CHECK(count_entries("dangling") == 1);
	unlink(link_path);

	/* bad arguments create nothing */
	path_in_dir(path, sizeof(path), "bad.key");
	p = fast;
	p.opslimit = 0;
	CHECK_RC(fwc_keystore_save(path, &sk, "pw", 2, &p, NULL), FWC_ERR_ARG);
	p = fast;
	p.opslimit = FWC_KEYSTORE_OPSLIMIT_MAX + 1;
	CHECK_RC(fwc_keystore_save(path, &sk, "pw", 2, &p, NULL), FWC_ERR_ARG);
	p = fast;
	p.memlimit = 4096;
	CHECK_RC(fwc_keystore_save(path, &sk, "pw", 2, &p, NULL), FWC_ERR_ARG);
	p.memlimit = 8192 + 100;
	CHECK_RC(fwc_keystore_save(path, &sk, "pw", 2, &p, NULL), FWC_ERR_ARG);
	p.memlimit = FWC_KEYSTORE_MEMLIMIT_MAX + 1024;
	CHECK_RC(fwc_keystore_save(path, &sk, "pw", 2, &p, NULL), FWC_ERR_ARG);
	CHECK_RC(fwc_keystore_save(path, &sk, NULL, 3, &fast, NULL), FWC_ERR_ARG);
	CHECK_RC(fwc_keystore_save(NULL, &sk, "pw", 2, &fast, NULL), FWC_ERR_ARG);
	CHECK_RC(fwc_keystore_save("", &sk, "pw", 2, &fast, NULL), FWC_ERR_ARG);
	snprintf(path, sizeof(path), "%s/", dir);
	CHECK_RC(fwc_keystore_save(path, &sk, "pw", 2, &fast, NULL), FWC_ERR_ARG);
	sk.alg = 9;
	path_in_dir(path, sizeof(path), "bad.key");
	CHECK_RC(fwc_keystore_save(path, &sk, "pw", 2, &fast, NULL), FWC_ERR_UNSUPPORTED);
	CHECK(count_entries("bad") == 0);
	/* a directory that does not exist */
	CHECK_RC(fwc_key_generate(&sk, FWC_ALG_BIP340), FWC_OK);
	snprintf(path, sizeof(path), "%s/no-such-dir/k.key", dir);
	memset(&ei, 0, sizeof(ei));
	CHECK_RC(fwc_keystore_save(path, &sk, "pw", 2, &fast, &ei), FWC_ERR_IO);
	CHECK(ei.msg[0] != '\0');
	fwc_seckey_wipe(&sk);
}

/* A save that fails after its temporary file exists (the file size limit makes write() fail
 * with EFBIG) must leave nothing behind: no temporary file, no final file. */
static void test_failed_save_leaves_nothing(void)
{
	struct fwc_seckey sk;
	struct fwc_errinfo ei;
	struct rlimit old, small;
	char path[128];
	void (*prev)(int);
	int rc;

	CHECK_RC(fwc_key_generate(&sk, FWC_ALG_ED25519), FWC_OK);
	path_in_dir(path, sizeof(path), "half.key");
	prev = signal(SIGXFSZ, SIG_IGN);
	CHECK(getrlimit(RLIMIT_FSIZE, &old) == 0);
	small = old;
	small.rlim_cur = 100; /* less than the 140 bytes of a keystore */
	CHECK(setrlimit(RLIMIT_FSIZE, &small) == 0);
	memset(&ei, 0, sizeof(ei));
	rc = fwc_keystore_save(path, &sk, "pw", 2, &fast, &ei);
	CHECK(setrlimit(RLIMIT_FSIZE, &old) == 0);
	signal(SIGXFSZ, prev);
	CHECK_RC(rc, FWC_ERR_IO);
	CHECK(strstr(ei.msg, "write") != NULL);
	CHECK(count_entries("half") == 0);
	/* and the same name works once the disk "has room" again */
	CHECK_RC(fwc_keystore_save(path, &sk, "pw", 2, &fast, NULL), FWC_OK);
	CHECK(count_entries("half") == 1);
	fwc_seckey_wipe(&sk);
}

static void test_io_refusals(void)
{
	struct fwc_seckey sk, back;
	struct fwc_pubkey pk;
	struct fwc_errinfo ei;
	char path[128];
	uint8_t junk[140];

	path_in_dir(path, sizeof(path), "missing.key");
	memset(&ei, 0, sizeof(ei));
	CHECK_RC(fwc_keystore_load(&back, path, "pw", 2, &ei), FWC_ERR_IO);
	CHECK(strstr(ei.msg, "missing.key") != NULL);
	CHECK_RC(fwc_keystore_peek(&pk, path, NULL), FWC_ERR_IO);
	/* a directory and a FIFO are not keystores, and the FIFO must not block */
	CHECK_RC(fwc_keystore_load(&back, dir, "pw", 2, NULL), FWC_ERR_IO);
	path_in_dir(path, sizeof(path), "fifo.key");
	CHECK(mkfifo(path, 0600) == 0);
	CHECK_RC(fwc_keystore_load(&back, path, "pw", 2, NULL), FWC_ERR_IO);
	CHECK_RC(fwc_keystore_peek(&pk, path, NULL), FWC_ERR_IO);
	unlink(path);
	/* a file of the right size that is something else */
	memset(junk, 'A', sizeof(junk));
	path_in_dir(path, sizeof(path), "junk.key");
	CHECK(write_file(path, junk, sizeof(junk), 0600) == 0);
	memset(&ei, 0, sizeof(ei));
	CHECK_RC(fwc_keystore_load(&back, path, "pw", 2, &ei), FWC_ERR_MALFORMED);
	CHECK(strstr(ei.msg, "not an fwchain keystore") != NULL);
	unlink(path);
	/* misuse */
	CHECK_RC(fwc_key_generate(&sk, FWC_ALG_BIP340), FWC_OK);
	CHECK_RC(fwc_keystore_load(NULL, path, "pw", 2, NULL), FWC_ERR_ARG);
	CHECK_RC(fwc_keystore_load(&back, NULL, "pw", 2, NULL), FWC_ERR_ARG);
	CHECK_RC(fwc_keystore_load(&back, path, NULL, 2, NULL), FWC_ERR_ARG);
	CHECK_RC(fwc_keystore_peek(NULL, path, NULL), FWC_ERR_ARG);
	CHECK_RC(fwc_keystore_parse(NULL, junk, 140, NULL), FWC_ERR_ARG);
	CHECK_RC(fwc_keystore_parse((struct fwc_keystore_file *)junk, NULL, 140, NULL),
	         FWC_ERR_ARG);
	fwc_seckey_wipe(&sk);
}

/* Remove what the tests left in dir, then dir itself. */
static void cleanup_dir(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[512];

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		unlink(path);
	}
	closedir(d);
	rmdir(dir);
}

int main(void)
{
	snprintf(dir, sizeof(dir), "/tmp/fwc-keystore-test-XXXXXX");
	if (mkdtemp(dir) == NULL || sodium_init() < 0) {
		perror("mkdtemp");
		return 1;
	}
	RUN(test_worked_example);
	RUN(test_round_trip);
	RUN(test_empty_passphrase_and_defaults);
	RUN(test_every_byte_flip);
	RUN(test_truncation_and_trailing);
	RUN(test_permissions);
	RUN(test_header_refusals);
	RUN(test_authenticated_but_wrong);
	RUN(test_save_refusals);
	RUN(test_failed_save_leaves_nothing);
	RUN(test_io_refusals);
	/* nothing but the names the tests chose may exist: no stray temporary files */
	CHECK(count_entries("") >= 2 && count_entries(".tmp") == 0);
	{
		DIR *d = opendir(dir);
		struct dirent *e;

		while (d != NULL && (e = readdir(d)) != NULL)
			CHECK(strstr(e->d_name, ".tmp-") == NULL);
		if (d != NULL)
			closedir(d);
	}
	cleanup_dir();
	return test_done();
}
