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
 * closed and reopened, as after a real power cycle. */
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

/* Write img[0..len) into slot from offset 0 (erasing what it covers first), bypassing the
 * agent: the factory programming of the first image. Not counted as a power-loss operation. */
int fwc_posix_factory_write(struct fwc_port *port, uint8_t slot, const uint8_t *img, size_t len);

/* Simulated reset: run the boot selection (fwc_agent_boot_select()) with ctx as its scratch,
 * make its choice the running slot, then start the agent of that image in ctx
 * (fwc_agent_init()). *slot gets the started slot on FWC_OK (may be NULL).
 * Returns FWC_OK or the error of either call. */
int fwc_posix_power_on(struct fwc_agent *ctx, uint8_t *slot, struct fwc_port *port,
                       const struct fwc_agent_provision *prov);

#ifdef __cplusplus
}
#endif
#endif
