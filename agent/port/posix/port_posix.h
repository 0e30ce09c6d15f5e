/* fwagent POSIX port — a device simulated in a directory.
 *
 * Layout of a device directory (created by fwc_posix_format()):
 *   geometry         "SLOT_SIZE ERASE_UNIT\n", decimal
 *   slot-a, slot-b   the two firmware slots, SLOT_SIZE bytes each, erased = 0xFF
 *   record-0, -1     the two state-record areas (files written in place with write + fsync)
 *   device.key       the device's BIP-340 secret key, 64 hex digits (mode 0600)
 *   unhealthy-a, -b  marker files: when present, the health check of that slot fails
 *
 * Reboot is simulated: fwc_port_reboot() only sets reboot_requested; the caller throws the
 * agent context away and calls fwc_posix_power_on() again, which runs the boot selection and
 * starts a fresh agent from what is on "flash".
 *
 * Power-loss simulation: every mutating storage operation (slot erase, slot write, record
 * write) has a number, counted in `ops`. When cut_at equals that number the operation is torn
 * (a deterministic pseudo-random prefix of it reaches the files, from nothing to everything)
 * and power is lost: every later storage operation fails with FWC_ERR_IO until the port is
 * closed and reopened, as after a real power cycle.
 *
 * Memory backend (port_mem.c, for the fleet simulator): a port opened with fwc_posix_mem_open()
 * keeps its slots and record areas in RAM instead of files. A slot is either erased, or a
 * read-only image shared by many devices (followed by erased bytes), or the device's own
 * buffer, made (copied) at its first erase or write; fwc_posix_mem_share() turns an own buffer
 * back into a shared image when its bytes equal one, so a fleet of identical devices costs
 * one buffer per distinct image, not one per device. The core still writes and reads back
 * every byte it installs, so its hash checks are real.
 *
 * Transport (http.c) keeps one libcurl handle per port (or one shared by many ports), so
 * requests to a node reuse its connection, and can read ahead: with readahead > 0 a GET of a
 * content-addressed URL ("/ipfs/" in the path: immutable, so a cached range stays right) fetches
 * up to readahead bytes at once and serves the following ranges from that window. */
#ifndef FWAGENT_PORT_POSIX_H
#define FWAGENT_PORT_POSIX_H

#include <stdbool.h>
#include <stdint.h>

#include "fwagent/agent.h"
#include "fwagent/port.h"
#include "fwchain/key.h"

#ifdef __cplusplus
extern "C" {
#endif

#define FWC_POSIX_PATH_MAX 512

/* What of the operation cut by a simulated power loss reaches storage. */
enum fwc_posix_tear {
	FWC_POSIX_TEAR_RANDOM = 0, /* a prefix of pseudo-random length in [0, len], by op number */
	FWC_POSIX_TEAR_NONE = 1,   /* nothing: power fails just before the operation */
	FWC_POSIX_TEAR_ALL = 2     /* everything: power fails just after it, before it returns */
};
#define FWC_POSIX_CMD_MAX 512

struct fwc_posix_mem;

struct fwc_port {
	char dir[FWC_POSIX_PATH_MAX];
	int slot_fd[2];
	int record_fd[2];
	uint64_t slot_size;
	uint32_t erase_unit;
	uint8_t running_slot;  /* set by fwc_posix_power_on() */
	bool reboot_requested; /* fwc_port_reboot() was called */

	/* settings (fwc_posix_open() sets the defaults given in brackets) */
	bool sync;         /* fsync after every mutation [true]; off in simulation tests */
	bool strict_flash; /* programming a byte that is not erased is an error [true] */
	bool no_clock;     /* behave as a device without a wall clock [false] */
	int log_level;     /* drop messages above this level [FWC_LOG_WARN, or FWC_AGENT_LOG] */
	char health_cmd[FWC_POSIX_CMD_MAX]; /* shell command run as the health check, with
	                                      FWC_AGENT_SLOT=a|b; empty: marker files [""] */

	/* power-loss simulation */
	long ops;        /* mutating storage operations so far */
	long cut_at;     /* number of the operation during which power fails, -1: never [-1] */
	int tear;        /* what of the cut operation reaches storage: FWC_POSIX_TEAR_* [RANDOM] */
	bool power_lost; /* the cut happened */

	/* test knobs and counters */
	uint64_t uptime_skew_ms; /* added to the monotonic clock */
	uint32_t get_delay_ms;   /* simulated duration of each GET, added to the skew */
	long gets;               /* GET requests made */
	long erases, writes, record_writes;

	bool have_key;
	struct fwc_seckey device_key;
	uint8_t device_pub[32];
	bool curl_ready;

	/* memory backend (port_mem.c): non-NULL instead of the files */
	struct fwc_posix_mem *mem;
	uint8_t slot_dirty; /* bit per slot written since the last sync (synced before a record
	                       write) */

	/* transport (http.c) */
	void *curl;       /* CURL easy handle reused for every request; NULL: made at first use */
	bool curl_shared; /* the handle belongs to someone else (fwc_posix_close leaves it) */
	size_t readahead; /* bytes fetched at once for /ipfs/ URLs; 0: exactly what is asked */
	uint8_t *ra_buf;  /* the read-ahead window (malloc'd, readahead bytes) */
	size_t ra_len;    /* bytes in the window */
	uint64_t ra_off;  /* resource offset of ra_buf[0] */
	uint64_t ra_next; /* offset just past the range last served from the window */
	char ra_url[FWC_AGENT_REQUEST_URL_MAX + 1]; /* the window's URL ("": empty window) */
	long http_requests;                         /* requests actually sent (GET and POST) */
	uint64_t http_bytes;                        /* response bytes received */
};

/* A read-only image shared by the slots of many memory-backed devices. */
struct fwc_posix_image {
	const uint8_t *data;
	size_t len;
};

/* A device's storage in RAM: the record areas and, per slot, its own buffer or a shared
 * image. Caller storage (the simulator keeps one per device); zero it before first use. */
struct fwc_posix_mem {
	uint8_t *own[2];                         /* the slot's bytes (slot_size), or NULL */
	const struct fwc_posix_image *shared[2]; /* when own is NULL: this image then 0xFF, or
	                                           NULL: all erased */
	uint8_t record[2][FWC_AGENT_RECORD_MAX];
	uint16_t record_len[2];
	bool unhealthy[2]; /* the health check of that slot fails */
};

/* Create (or re-create) a device directory: both slots erased to 0xFF, record areas empty, a
 * fresh device key, the geometry file. slot_size must be a multiple of erase_unit, and
 * erase_unit a power of two. Returns FWC_OK, FWC_ERR_ARG, FWC_ERR_IO. */
int fwc_posix_format(const char *dir, uint64_t slot_size, uint32_t erase_unit);

/* Open the device in dir (formatted before). port is caller storage; close it with
 * fwc_posix_close(). Returns FWC_OK, FWC_ERR_ARG, FWC_ERR_IO, FWC_ERR_MALFORMED (geometry). */
int fwc_posix_open(struct fwc_port *port, const char *dir);

/* Close the files and wipe the key. Safe on a port whose open failed. */
void fwc_posix_close(struct fwc_port *port);

/* Set the device key from a 32-byte BIP-340 secret (overrides the directory's device.key).
 * Returns FWC_OK or FWC_ERR_KEY. */
int fwc_posix_set_key(struct fwc_port *port, const uint8_t secret[32]);

/* Like fwc_posix_format() but leaves the device key alone (no device.key is made or changed:
 * the key may live elsewhere, e.g. a key file named by an fwagent configuration). */
int fwc_posix_format_slots(const char *dir, uint64_t slot_size, uint32_t erase_unit);

/* Open a memory-backed device: port gets the geometry and mem as its storage (both caller
 * storage; mem is kept by pointer and must outlive the port); label names it in log lines.
 * Returns FWC_OK or FWC_ERR_ARG. Close with fwc_posix_close() (which frees nothing of mem). */
int fwc_posix_mem_open(struct fwc_port *port, struct fwc_posix_mem *mem, const char *label,
                       uint64_t slot_size, uint32_t erase_unit);

/* Free the own slot buffers of mem (the device's slots become erased or shared as recorded). */
void fwc_posix_mem_release(struct fwc_posix_mem *mem);

/* For each slot of mem with an own buffer: when its bytes equal one of images[0..n) (that
 * image, then erased bytes), free the buffer and share the image instead. Returns the number
 * of slots still holding an own buffer. */
int fwc_posix_mem_share(struct fwc_posix_mem *mem, uint64_t slot_size,
                        const struct fwc_posix_image *images, size_t n);

/* Write img[0..len) into slot from offset 0 (erasing what it covers first), bypassing the
 * agent: the factory programming of the first image. Not counted as a power-loss operation. */
int fwc_posix_factory_write(struct fwc_port *port, uint8_t slot, const uint8_t *img, size_t len);

/* Simulated reset: run the boot selection (fwc_agent_boot_select()) with ctx as its scratch,
 * make its choice the running slot, then start the agent of that image in ctx
 * (fwc_agent_init()). *slot gets the started slot on FWC_OK (may be NULL).
 * Returns FWC_OK or the error of either call. */
int fwc_posix_power_on(struct fwc_agent *ctx, uint8_t *slot, struct fwc_port *port,
                       const struct fwc_agent_provision *prov);

/* Internal to the port: the memory backend's storage operations, called by port_posix.c's
 * fwc_port_slot_* and fwc_port_record_* after their argument checks and power-loss gate.
 * len bytes of a write/erase may be cut to `allowed` by the gate. */
int fwc_posix_mem_slot_read(struct fwc_port *port, uint8_t *buf, size_t len, uint8_t slot,
                            uint64_t off);
int fwc_posix_mem_slot_write(struct fwc_port *port, uint8_t slot, uint64_t off, const uint8_t *data,
                             size_t len);
int fwc_posix_mem_slot_fill(struct fwc_port *port, uint8_t slot, uint64_t off, uint64_t len);
int fwc_posix_mem_record_read(struct fwc_port *port, uint8_t *buf, size_t cap, size_t *got,
                              uint8_t copy);
int fwc_posix_mem_record_write(struct fwc_port *port, uint8_t copy, const uint8_t *data, size_t len,
                               size_t allowed);
/* Internal to the port (http.c): free the transport's handle and read-ahead window. */
void fwc_posix_http_close(struct fwc_port *port);

#ifdef __cplusplus
}
#endif
#endif
