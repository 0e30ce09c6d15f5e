/* The POSIX port of the agent: slots and record areas as files in a device directory, SHA-256
 * through OpenSSL, signatures through libfwchain, time and randomness from the OS, a simulated
 * reset, and power-loss injection. Transport is in http.c, the simulated power-on in boot.c.
 *
 * Main design choice: behave like flash, not like a file system, so that the core is tested
 * against the constraints it will meet on a device. Slots read 0xFF when erased and (with
 * strict_flash) refuse to program a byte twice without an erase; record areas are rewritten
 * in place, so a torn write leaves a mix of old and new bytes exactly as on a flash sector. The
 * power-loss injector tears one chosen operation and then fails every later one, which models
 * "power fails here" without forking processes.
 *
 * Slot writes are not synced one by one: the port syncs the slot files before it writes a
 * record area (a write barrier), which is all the core needs, since nothing it has not
 * committed in the record counts, and it avoids one fsync per 4 KiB block. A device whose
 * storage is RAM (port_mem.c) takes the same path after the checks and the gate. */
#include "port_posix.h"

#include <errno.h>
#include <fcntl.h>
#include <secp256k1.h>
#include <secp256k1_extrakeys.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fwchain/hex.h"
#include "fwchain/sha256.h"

_Static_assert(sizeof(EVP_MD_CTX *) <= FWC_PORT_SHA256_CTX_SIZE,
               "an EVP context pointer must fit the port's hash context");

static const char *const slot_files[2] = {"slot-a", "slot-b"};
static const char *const record_files[2] = {"record-0", "record-1"};

static int path_in(char *out, size_t cap, const char *dir, const char *name)
{
	int n = snprintf(out, cap, "%s/%s", dir, name);

	return (n < 0 || (size_t)n >= cap) ? FWC_ERR_ARG : FWC_OK;
}

static int write_all(int fd, const uint8_t *p, size_t len, off_t off)
{
	while (len > 0) {
		ssize_t n = pwrite(fd, p, len, off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return FWC_ERR_IO;
		p += n;
		len -= (size_t)n;
		off += n;
	}
	return FWC_OK;
}

/* Read up to len bytes; *got gets how many there were before end of file. */
static int read_upto(int fd, uint8_t *p, size_t len, off_t off, size_t *got)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = pread(fd, p + done, len - done, off + (off_t)done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return FWC_ERR_IO;
		if (n == 0)
			break;
		done += (size_t)n;
	}
	*got = done;
	return FWC_OK;
}

/* Fill [off, off + len) of fd with 0xFF. */
static int fill_ff(int fd, off_t off, uint64_t len)
{
	static const size_t chunk = 65536;
	uint8_t ff[65536];

	memset(ff, 0xFF, sizeof(ff));
	while (len > 0) {
		size_t n = len < chunk ? (size_t)len : chunk;
		int rc = write_all(fd, ff, n, off);

		if (rc < 0)
			return rc;
		off += (off_t)n;
		len -= n;
	}
	return FWC_OK;
}

static int sync_fd(struct fwc_port *port, int fd)
{
	if (port->sync && fsync(fd) != 0)
		return FWC_ERR_IO;
	return FWC_OK;
}

/* Slot data only (its size never changes after format): fdatasync is enough. */
static int sync_slot(struct fwc_port *port, int fd)
{
	if (port->sync && fdatasync(fd) != 0)
		return FWC_ERR_IO;
	return FWC_OK;
}

/* The power-loss gate, passed by every mutating operation. Returns FWC_OK with *allowed = len
 * normally; when this operation is the one to be cut, marks the power as lost and sets
 * *allowed to the prefix that still reaches storage (returns 1 so the caller applies it and
 * then fails); FWC_ERR_IO when the power is already gone. */
static int power_gate(struct fwc_port *port, size_t *allowed, uint64_t len)
{
	long op;

	if (port->power_lost)
		return FWC_ERR_IO;
	op = port->ops++;
	*allowed = (size_t)len;
	if (port->cut_at >= 0 && op == port->cut_at) {
		/* Knuth's multiplicative hash spreads the tear point over [0, len] */
		uint64_t h = (uint64_t)(op + 1) * 2654435761u;

		port->power_lost = true;
		*allowed = port->tear == FWC_POSIX_TEAR_NONE  ? 0
		           : port->tear == FWC_POSIX_TEAR_ALL ? (size_t)len
		                                              : (size_t)(h % (len + 1));
		return 1;
	}
	return FWC_OK;
}

/* ---- device directory ------------------------------------------------------------------- */

int fwc_posix_format_slots(const char *dir, uint64_t slot_size, uint32_t erase_unit)
{
	char path[FWC_POSIX_PATH_MAX], text[80];
	int rc = FWC_ERR_IO, fd = -1, n;

	if (dir == NULL || erase_unit == 0 || (erase_unit & (erase_unit - 1)) != 0 ||
	    slot_size == 0 || slot_size % erase_unit != 0)
		return FWC_ERR_ARG;
	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return FWC_ERR_IO;
	for (int s = 0; s < 2; s++) {
		if (path_in(path, sizeof(path), dir, slot_files[s]) < 0)
			return FWC_ERR_ARG;
		fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (fd < 0)
			return FWC_ERR_IO;
		rc = fill_ff(fd, 0, slot_size);
		/* durable now, so the first record commit does not pay for the whole slot */
		if (rc == FWC_OK && fdatasync(fd) != 0)
			rc = FWC_ERR_IO;
		close(fd);
		if (rc < 0)
			return rc;
		if (path_in(path, sizeof(path), dir, record_files[s]) < 0)
			return FWC_ERR_ARG;
		fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (fd < 0)
			return FWC_ERR_IO;
		close(fd);
		snprintf(text, sizeof(text), "unhealthy-%c", 'a' + s);
		if (path_in(path, sizeof(path), dir, text) == FWC_OK)
			unlink(path);
	}
	if (path_in(path, sizeof(path), dir, "geometry") < 0)
		return FWC_ERR_ARG;
	n = snprintf(text, sizeof(text), "%" PRIu64 " %" PRIu32 "\n", slot_size, erase_unit);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return FWC_ERR_IO;
	rc = write_all(fd, (const uint8_t *)text, (size_t)n, 0);
	close(fd);
	return rc;
}

int fwc_posix_format(const char *dir, uint64_t slot_size, uint32_t erase_unit)
{
	char path[FWC_POSIX_PATH_MAX], text[80];
	struct fwc_seckey sk;
	uint8_t secret[32];
	int rc, fd;

	if ((rc = fwc_posix_format_slots(dir, slot_size, erase_unit)) < 0)
		return rc;
	/* device key, hex in a private file */
	if ((rc = fwc_key_generate(&sk, FWC_ALG_BIP340)) < 0)
		return rc;
	rc = fwc_key_secret(secret, &sk);
	fwc_seckey_wipe(&sk);
	if (rc < 0)
		return rc;
	fwc_hex_encode(text, sizeof(text), secret, sizeof(secret));
	fwc_wipe(secret, sizeof(secret));
	rc = FWC_ERR_IO;
	if (path_in(path, sizeof(path), dir, "device.key") == FWC_OK &&
	    (fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) >= 0) {
		rc = write_all(fd, (const uint8_t *)text, 64, 0);
		close(fd);
	}
	fwc_wipe(text, sizeof(text));
	return rc;
}

/* x-only public key of a BIP-340 secret. Done here with a signing-capable context rather
 * than through fwc_key_public(), which (in the skeleton's lib/key.c) passes libsecp256k1's
 * static context to secp256k1_keypair_create and so aborts in libsecp256k1 0.2.0. */
static int bip340_public(uint8_t pub[32], const uint8_t secret[32])
{
	secp256k1_context *c = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
	secp256k1_keypair kp;
	secp256k1_xonly_pubkey xpk;
	int rc = FWC_ERR_KEY;

	if (c == NULL)
		return FWC_ERR_NOMEM;
	if (secp256k1_keypair_create(c, &kp, secret) &&
	    secp256k1_keypair_xonly_pub(c, &xpk, NULL, &kp) &&
	    secp256k1_xonly_pubkey_serialize(c, pub, &xpk))
		rc = FWC_OK;
	fwc_wipe(&kp, sizeof(kp));
	secp256k1_context_destroy(c);
	return rc;
}

static int load_key(struct fwc_port *port)
{
	char path[FWC_POSIX_PATH_MAX], hex[64];
	uint8_t secret[32];
	size_t got = 0, n = 0;
	int fd, rc;

	if (path_in(path, sizeof(path), port->dir, "device.key") < 0)
		return FWC_ERR_ARG;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return FWC_ERR_NOT_FOUND;
	rc = read_upto(fd, (uint8_t *)hex, sizeof(hex), 0, &got);
	close(fd);
	if (rc == FWC_OK && got == sizeof(hex))
		rc = fwc_hex_decode(secret, sizeof(secret), &n, hex, sizeof(hex));
	else if (rc == FWC_OK)
		rc = FWC_ERR_MALFORMED;
	if (rc == FWC_OK && n == sizeof(secret))
		rc = fwc_key_from_secret(&port->device_key, FWC_ALG_BIP340, secret);
	if (rc == FWC_OK)
		rc = bip340_public(port->device_pub, secret);
	fwc_wipe(secret, sizeof(secret));
	fwc_wipe(hex, sizeof(hex));
	if (rc == FWC_OK)
		port->have_key = true;
	return rc;
}

int fwc_posix_set_key(struct fwc_port *port, const uint8_t secret[32])
{
	int rc;

	if (port == NULL || secret == NULL)
		return FWC_ERR_ARG;
	fwc_seckey_wipe(&port->device_key);
	port->have_key = false;
	rc = fwc_key_from_secret(&port->device_key, FWC_ALG_BIP340, secret);
	if (rc == FWC_OK)
		rc = bip340_public(port->device_pub, secret);
	if (rc < 0) {
		fwc_seckey_wipe(&port->device_key);
		return FWC_ERR_KEY;
	}
	port->have_key = true;
	return FWC_OK;
}

int fwc_posix_open(struct fwc_port *port, const char *dir)
{
	char path[FWC_POSIX_PATH_MAX], text[80];
	unsigned long long size = 0;
	unsigned long unit = 0;
	size_t got = 0;
	const char *level;
	int fd, rc;

	if (port == NULL || dir == NULL)
		return FWC_ERR_ARG;
	memset(port, 0, sizeof(*port));
	port->slot_fd[0] = port->slot_fd[1] = port->record_fd[0] = port->record_fd[1] = -1;
	port->running_slot = FWC_SLOT_NONE;
	port->sync = true;
	port->strict_flash = true;
	port->cut_at = -1;
	port->log_level = FWC_LOG_WARN;
	level = getenv("FWC_AGENT_LOG");
	if (level != NULL && level[0] >= '0' && level[0] <= '3')
		port->log_level = level[0] - '0';
	if (strlen(dir) >= sizeof(port->dir))
		return FWC_ERR_ARG;
	strcpy(port->dir, dir);

	if (path_in(path, sizeof(path), dir, "geometry") < 0)
		return FWC_ERR_ARG;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return FWC_ERR_IO;
	rc = read_upto(fd, (uint8_t *)text, sizeof(text) - 1, 0, &got);
	close(fd);
	if (rc < 0)
		return rc;
	text[got] = '\0';
	if (sscanf(text, "%llu %lu", &size, &unit) != 2 || size == 0 || unit == 0 ||
	    (unit & (unit - 1)) != 0 || size % unit != 0 || unit > UINT32_MAX)
		return FWC_ERR_MALFORMED;
	port->slot_size = size;
	port->erase_unit = (uint32_t)unit;
	for (int i = 0; i < 2; i++) {
		if (path_in(path, sizeof(path), dir, slot_files[i]) < 0)
			goto fail;
		if ((port->slot_fd[i] = open(path, O_RDWR | O_CLOEXEC)) < 0)
			goto fail;
		if (path_in(path, sizeof(path), dir, record_files[i]) < 0)
			goto fail;
		if ((port->record_fd[i] = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0)
			goto fail;
	}
	/* a device without a key can still install; it only cannot sign its events */
	(void)load_key(port);
	return FWC_OK;
fail:
	fwc_posix_close(port);
	return FWC_ERR_IO;
}

void fwc_posix_close(struct fwc_port *port)
{
	if (port == NULL)
		return;
	for (int i = 0; i < 2; i++) {
		if (port->slot_fd[i] >= 0)
			close(port->slot_fd[i]);
		if (port->record_fd[i] >= 0)
			close(port->record_fd[i]);
		port->slot_fd[i] = port->record_fd[i] = -1;
	}
	fwc_posix_http_close(port);
	fwc_seckey_wipe(&port->device_key);
	port->have_key = false;
}

int fwc_posix_factory_write(struct fwc_port *port, uint8_t slot, const uint8_t *img, size_t len)
{
	uint64_t elen;
	int rc;

	if (port == NULL || slot > 1 || (img == NULL && len != 0) || len > port->slot_size)
		return FWC_ERR_ARG;
	elen = (len + port->erase_unit - 1) / port->erase_unit * port->erase_unit;
	if (port->mem != NULL) {
		if ((rc = fwc_posix_mem_slot_fill(port, slot, 0, elen)) < 0)
			return rc;
		return len ? fwc_posix_mem_slot_write(port, slot, 0, img, len) : FWC_OK;
	}
	if ((rc = fill_ff(port->slot_fd[slot], 0, elen)) < 0)
		return rc;
	if ((rc = write_all(port->slot_fd[slot], img, len, 0)) < 0)
		return rc;
	return sync_fd(port, port->slot_fd[slot]);
}

/* ---- slots ------------------------------------------------------------------------------ */

static int slot_range_ok(struct fwc_port *port, uint8_t slot, uint64_t off, uint64_t len)
{
	return port != NULL && slot <= 1 && off <= port->slot_size && len <= port->slot_size - off;
}

int fwc_port_slot_info(struct fwc_port *port, struct fwc_port_slot_info *info, uint8_t slot)
{
	if (port == NULL || info == NULL || slot > 1)
		return FWC_ERR_ARG;
	info->size = port->slot_size;
	info->erase_unit = port->erase_unit;
	return FWC_OK;
}

int fwc_port_slot_read(struct fwc_port *port, uint8_t *buf, size_t len, uint8_t slot, uint64_t off)
{
	size_t got = 0;

	if (buf == NULL || !slot_range_ok(port, slot, off, len))
		return FWC_ERR_ARG;
	if (port->power_lost)
		return FWC_ERR_IO;
	if (port->mem != NULL)
		return fwc_posix_mem_slot_read(port, buf, len, slot, off);
	if (read_upto(port->slot_fd[slot], buf, len, (off_t)off, &got) < 0 || got != len)
		return FWC_ERR_IO;
	return FWC_OK;
}

int fwc_port_slot_write(struct fwc_port *port, uint8_t slot, uint64_t off, const uint8_t *data,
                        size_t len)
{
	uint8_t cur[FWC_AGENT_BLOCK_SIZE];
	size_t allowed, got = 0;
	int gate, rc;

	if (data == NULL || len == 0 || len > sizeof(cur) || !slot_range_ok(port, slot, off, len))
		return FWC_ERR_ARG;
	if (port->strict_flash && !port->power_lost) {
		if (port->mem != NULL)
			fwc_posix_mem_slot_read(port, cur, len, slot, off);
		else if (read_upto(port->slot_fd[slot], cur, len, (off_t)off, &got) < 0 ||
		         got != len)
			return FWC_ERR_IO;
		for (size_t i = 0; i < len; i++) {
			if (cur[i] != 0xFF) {
				fwc_port_log(port, FWC_LOG_ERROR, "programming unerased flash",
				             (int64_t)(off + i), slot);
				return FWC_ERR_IO;
			}
		}
	}
	if ((gate = power_gate(port, &allowed, len)) < 0)
		return gate;
	port->writes++;
	if (port->mem != NULL)
		rc = allowed ? fwc_posix_mem_slot_write(port, slot, off, data, allowed) : FWC_OK;
	else
		rc = write_all(port->slot_fd[slot], data, allowed, (off_t)off);
	if (rc < 0)
		return rc;
	port->slot_dirty |= (uint8_t)(1u << slot);
	return gate == 1 ? FWC_ERR_IO : FWC_OK;
}

int fwc_port_slot_erase(struct fwc_port *port, uint8_t slot, uint64_t off, uint64_t len)
{
	size_t allowed;
	int gate, rc;

	if (!slot_range_ok(port, slot, off, len) || off % port->erase_unit != 0 ||
	    len % port->erase_unit != 0)
		return FWC_ERR_ARG;
	if ((gate = power_gate(port, &allowed, len)) < 0)
		return gate;
	port->erases++;
	if (port->mem != NULL)
		rc = allowed ? fwc_posix_mem_slot_fill(port, slot, off, allowed) : FWC_OK;
	else
		rc = fill_ff(port->slot_fd[slot], (off_t)off, allowed);
	if (rc < 0)
		return rc;
	port->slot_dirty |= (uint8_t)(1u << slot);
	return gate == 1 ? FWC_ERR_IO : FWC_OK;
}

int fwc_port_running_slot(struct fwc_port *port, uint8_t *slot)
{
	if (port == NULL || slot == NULL)
		return FWC_ERR_ARG;
	if (port->running_slot > 1)
		return FWC_ERR_IO;
	*slot = port->running_slot;
	return FWC_OK;
}

/* ---- record areas ----------------------------------------------------------------------- */

int fwc_port_record_read(struct fwc_port *port, uint8_t *buf, size_t cap, size_t *got, uint8_t copy)
{
	if (port == NULL || buf == NULL || got == NULL || copy > 1)
		return FWC_ERR_ARG;
	if (port->power_lost)
		return FWC_ERR_IO;
	if (port->mem != NULL)
		return fwc_posix_mem_record_read(port, buf, cap, got, copy);
	return read_upto(port->record_fd[copy], buf, cap, 0, got);
}

int fwc_port_record_write(struct fwc_port *port, uint8_t copy, const uint8_t *data, size_t len)
{
	size_t allowed;
	int gate, rc;

	if (port == NULL || data == NULL || copy > 1 || len > FWC_AGENT_RECORD_MAX)
		return FWC_ERR_ARG;
	/* write barrier: the slot bytes a record commit counts are durable before it */
	if (port->mem == NULL) {
		for (int s = 0; s < 2; s++)
			if ((port->slot_dirty & (1u << s)) &&
			    (rc = sync_slot(port, port->slot_fd[s])) < 0)
				return rc;
	}
	port->slot_dirty = 0;
	if ((gate = power_gate(port, &allowed, len)) < 0)
		return gate;
	port->record_writes++;
	if (port->mem != NULL) {
		fwc_posix_mem_record_write(port, copy, data, len, allowed);
		return gate == 1 ? FWC_ERR_IO : FWC_OK;
	}
	/* In place, like a flash sector: a torn write leaves new bytes then old bytes. */
	if ((rc = write_all(port->record_fd[copy], data, allowed, 0)) < 0)
		return rc;
	if (gate == 1)
		return FWC_ERR_IO;
	if (ftruncate(port->record_fd[copy], (off_t)len) != 0)
		return FWC_ERR_IO;
	return sync_fd(port, port->record_fd[copy]);
}

/* ---- time, randomness, logging, reset, health ------------------------------------------- */

bool fwc_port_clock_now(struct fwc_port *port, uint64_t *unix_seconds)
{
	struct timespec ts;

	if (port == NULL || unix_seconds == NULL || port->no_clock)
		return false;
	if (clock_gettime(CLOCK_REALTIME, &ts) != 0 || ts.tv_sec < 0)
		return false;
	*unix_seconds = (uint64_t)ts.tv_sec;
	return true;
}

uint64_t fwc_port_uptime_ms(struct fwc_port *port)
{
	struct timespec ts;
	uint64_t ms = 0;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) == 0)
		ms = (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
	return ms + (port != NULL ? port->uptime_skew_ms : 0);
}

int fwc_port_random(struct fwc_port *port, uint8_t *buf, size_t len)
{
	size_t done = 0;

	if (buf == NULL && len != 0)
		return FWC_ERR_ARG;
	while (done < len) {
		ssize_t n = getrandom(buf + done, len - done, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return FWC_ERR_CRYPTO;
		done += (size_t)n;
	}
	return FWC_OK;
}

void fwc_port_log(struct fwc_port *port, int level, const char *msg, int64_t a, int64_t b)
{
	static const char *const names[] = {"error", "warn", "info", "debug"};
	int max = port != NULL ? port->log_level : FWC_LOG_WARN;

	if (level > max || level < 0 || level > 3 || msg == NULL)
		return;
	fprintf(stderr, "fwagent %s: %s (%" PRId64 ", %" PRId64 ")%s%s\n", names[level], msg, a, b,
	        port != NULL ? " " : "", port != NULL ? port->dir : "");
}

void fwc_port_reboot(struct fwc_port *port)
{
	if (port != NULL)
		port->reboot_requested = true;
}

int fwc_port_health_check(struct fwc_port *port, uint8_t slot)
{
	char path[FWC_POSIX_PATH_MAX], name[16];
	struct stat st;

	if (port == NULL || slot > 1)
		return FWC_ERR_ARG;
	if (port->mem != NULL && port->health_cmd[0] == '\0')
		return port->mem->unhealthy[slot] ? FWC_ERR_STATE : FWC_PORT_HEALTHY;
	if (port->health_cmd[0] != '\0') {
		char cmd[FWC_POSIX_CMD_MAX + 64];
		int status;

		snprintf(cmd, sizeof(cmd), "FWC_AGENT_SLOT=%c; export FWC_AGENT_SLOT; %s",
		         'a' + slot, port->health_cmd);
		status = system(cmd);
		return status == 0 ? FWC_PORT_HEALTHY : FWC_ERR_STATE;
	}
	snprintf(name, sizeof(name), "unhealthy-%c", 'a' + slot);
	if (path_in(path, sizeof(path), port->dir, name) < 0)
		return FWC_ERR_ARG;
	return stat(path, &st) == 0 ? FWC_ERR_STATE : FWC_PORT_HEALTHY;
}

/* ---- SHA-256 through OpenSSL ------------------------------------------------------------- */

/* The port's hash state is a pointer to an EVP context, used directly rather than through
 * libfwchain's fwc_sha256: the core's own fwc_sha256 is built on these functions, so the port
 * must not depend on that layer (nor on its context size). */
static EVP_MD_CTX **evp_of(struct fwc_port_sha256 *h)
{
	return (EVP_MD_CTX **)(void *)h->u.bytes;
}

int fwc_port_sha256_init(struct fwc_port *port, struct fwc_port_sha256 *h)
{
	EVP_MD_CTX *md;

	if (h == NULL)
		return FWC_ERR_ARG;
	if ((md = EVP_MD_CTX_new()) == NULL)
		return FWC_ERR_NOMEM;
	if (EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(md);
		return FWC_ERR_CRYPTO;
	}
	*evp_of(h) = md;
	return FWC_OK;
}

int fwc_port_sha256_update(struct fwc_port *port, struct fwc_port_sha256 *h, const void *data,
                           size_t len)
{
	if (h == NULL || *evp_of(h) == NULL || (data == NULL && len != 0))
		return FWC_ERR_ARG;
	if (len == 0)
		return FWC_OK;
	return EVP_DigestUpdate(*evp_of(h), data, len) == 1 ? FWC_OK : FWC_ERR_CRYPTO;
}

int fwc_port_sha256_final(struct fwc_port *port, struct fwc_port_sha256 *h, uint8_t out[32])
{
	unsigned char tmp[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	int rc = FWC_OK;

	if (h == NULL || out == NULL)
		return FWC_ERR_ARG;
	if (*evp_of(h) == NULL)
		return FWC_ERR_ARG;
	if (EVP_DigestFinal_ex(*evp_of(h), tmp, &n) != 1 || n != 32)
		rc = FWC_ERR_CRYPTO;
	else
		memcpy(out, tmp, 32);
	EVP_MD_CTX_free(*evp_of(h));
	*evp_of(h) = NULL;
	return rc;
}

/* ---- signatures ------------------------------------------------------------------------- */

int fwc_port_device_pubkey(struct fwc_port *port, uint8_t pub[32])
{
	if (port == NULL || pub == NULL)
		return FWC_ERR_ARG;
	if (!port->have_key)
		return FWC_ERR_NOT_FOUND;
	memcpy(pub, port->device_pub, 32);
	return FWC_OK;
}

int fwc_port_device_sign(struct fwc_port *port, uint8_t sig[64], const uint8_t msg32[32])
{
	if (port == NULL || sig == NULL || msg32 == NULL)
		return FWC_ERR_ARG;
	if (!port->have_key)
		return FWC_ERR_NOT_FOUND;
	return fwc_sign(sig, &port->device_key, msg32, 32);
}

static int verify_alg(uint8_t alg, const uint8_t pub[32], const uint8_t sig[64], const uint8_t *msg,
                      size_t len)
{
	struct fwc_pubkey pk;
	int rc;

	if (pub == NULL || sig == NULL || (msg == NULL && len != 0))
		return FWC_ERR_ARG;
	pk.alg = alg;
	memcpy(pk.key, pub, 32);
	rc = fwc_verify(&pk, sig, msg, len);
	if (rc == FWC_OK)
		return FWC_PORT_VALID;
	return rc == FWC_ERR_BADSIG ? FWC_ERR_BADSIG : FWC_ERR_CRYPTO;
}

int fwc_port_bip340_verify(struct fwc_port *port, const uint8_t pub[32], const uint8_t sig[64],
                           const uint8_t *msg, size_t len)
{
	return verify_alg(FWC_ALG_BIP340, pub, sig, msg, len);
}

int fwc_port_ed25519_verify(struct fwc_port *port, const uint8_t pub[32], const uint8_t sig[64],
                            const uint8_t *msg, size_t len)
{
	return verify_alg(FWC_ALG_ED25519, pub, sig, msg, len);
}
