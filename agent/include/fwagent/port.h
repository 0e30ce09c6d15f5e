/* fwagent — the port: everything a platform supplies to the agent core, in one header.
 *
 * The core is portable C (C99/C11, freestanding, no heap, no OS headers). Whatever touches
 * hardware, the network, time or keys is a function declared here and defined by exactly one
 * port (agent/port/posix/ is the reference port; an MCU port is a second set of definitions).
 * The functions are resolved at link time, like mcuboot's flash_area_*: no function pointers
 * in the core, and an unimplemented function is a link error, not a run-time surprise.
 *
 * struct fwc_port is opaque to the core: each port defines it, the platform creates one per
 * device and passes it to fwc_agent_init(), and the core hands the same pointer back as the
 * first argument of every call. One process can therefore run many virtual devices.
 *
 * Return values. Every `int` function returns FWC_OK (0) or a negative enum fwc_err code from
 * "fwchain/err.h" (a plain enum header with no OS dependencies; nothing else of libfwchain is
 * used by the core). The codes a port is expected to use are listed per function; the core
 * treats any other negative value like FWC_ERR_IO. The three functions whose answer is a
 * security decision (signature checks, the health check) return a distinct non-zero value on
 * success instead of 0, so that a glitched or zeroed register cannot pass for "yes"; the core
 * compares against that value twice before acting (docs/agent.md, "hardening").
 *
 * Ownership. Every buffer passed to a port function belongs to the caller and is only used for
 * the duration of the call; a port keeps no pointer into core memory. Out-parameters are
 * written only on success unless a function says otherwise.
 *
 * Concurrency. The core calls the port from one thread, one call at a time, per device. */
#ifndef FWAGENT_PORT_H
#define FWAGENT_PORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fwagent/config.h"
#include "fwchain/err.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Defined by the port (agent/port/posix/port_posix.h for the POSIX port). */
struct fwc_port;

/* Success values of the security decisions (see the file comment). Positive, so that they can
 * never be mistaken for an enum fwc_err code, and far from 0 and 1 in Hamming distance. */
#define FWC_PORT_VALID 0x3C5AA5C3   /* a signature verifies */
#define FWC_PORT_HEALTHY 0x5AC33CA5 /* the running image passed its health check */

/* The two firmware slots. */
enum fwc_slot {
	FWC_SLOT_A = 0,
	FWC_SLOT_B = 1,
	FWC_SLOT_NONE = 0xFF /* "no slot", used in the record for "nothing pending" */
};

/* ------------------------------------------------------------------------------------------
 * Transport: HTTP-like requests to a URL the core gives as (pointer, length), not
 * NUL-terminated. "http://" and "https://" are expected; a port may accept others (the POSIX
 * port also reads "file://" paths, which the tests use).
 * ------------------------------------------------------------------------------------------ */

/* Fetch bytes [offset, offset + len) of the resource at url into buf.
 *   buf, len   caller buffer; the port writes at most len bytes, however much the server sends
 *              (a server that ignores the range or sends more must not overflow it).
 *   got        set to the number of bytes stored, on FWC_OK. A value below len means the
 *              resource ended early; the core treats it as a failure of this source.
 * Returns FWC_OK, FWC_ERR_NOT_FOUND (the resource does not exist, HTTP 404/416),
 * FWC_ERR_UNSUPPORTED (scheme not supported by this port), FWC_ERR_IO (anything else:
 * connection, timeout, unexpected status). The port bounds the time a request may take. */
int fwc_port_http_get(struct fwc_port *port, uint8_t *buf, size_t len, size_t *got, const char *url,
                      size_t url_len, uint64_t offset);

/* POST body[0..body_len) to url (content type application/cbor) and store the response body.
 *   resp, resp_cap   caller buffer for the response; a longer response is an error
 *                    (FWC_ERR_TOO_LARGE), never truncated silently.
 *   resp_len         the response length.
 *   status           optional: the HTTP status of the answer.
 * Unlike other out-parameters, resp, *resp_len and *status are set whenever the server
 * answered, whatever the status, so the caller can read an error answer (the node explains a
 * refused transaction in its body).
 * Returns FWC_OK for a 2xx answer, FWC_ERR_NOT_FOUND (404), FWC_ERR_TOO_LARGE,
 * FWC_ERR_UNSUPPORTED, FWC_ERR_IO (no answer, or another status). */
int fwc_port_http_post(struct fwc_port *port, uint8_t *resp, size_t resp_cap, size_t *resp_len,
                       int *status, const char *url, size_t url_len, const uint8_t *body,
                       size_t body_len);

/* ------------------------------------------------------------------------------------------
 * Slot storage: two firmware slots (A and B) of flash-like memory. Bytes read as 0xFF after an
 * erase; programming an erased byte sets it once; the core never programs a byte twice
 * without erasing it first.
 * ------------------------------------------------------------------------------------------ */

struct fwc_port_slot_info {
	uint64_t size;       /* usable bytes, a multiple of erase_unit */
	uint32_t erase_unit; /* erase granularity in bytes, a power of two */
};

/* Geometry of slot `slot` (FWC_SLOT_A or FWC_SLOT_B). Both slots must report the same
 * erase_unit. Returns FWC_OK or FWC_ERR_ARG (no such slot), FWC_ERR_IO. */
int fwc_port_slot_info(struct fwc_port *port, struct fwc_port_slot_info *info, uint8_t slot);

/* Read len bytes at offset off of slot into buf. The range lies inside the slot.
 * Returns FWC_OK, FWC_ERR_ARG (range outside the slot), FWC_ERR_IO. */
int fwc_port_slot_read(struct fwc_port *port, uint8_t *buf, size_t len, uint8_t slot, uint64_t off);

/* Program len bytes (1..FWC_AGENT_BLOCK_SIZE) at offset off of slot. off is a multiple of
 * FWC_AGENT_BLOCK_SIZE; len is FWC_AGENT_BLOCK_SIZE except for the last block of an image. A
 * port whose flash needs a wider write alignment pads the tail with 0xFF. The range was erased
 * by fwc_port_slot_erase() beforehand. Returns FWC_OK, FWC_ERR_ARG, FWC_ERR_IO. A power loss
 * during the call may leave any prefix of the range programmed. */
int fwc_port_slot_write(struct fwc_port *port, uint8_t slot, uint64_t off, const uint8_t *data,
                        size_t len);

/* Erase [off, off + len) of slot to 0xFF; off and len are multiples of the erase unit.
 * Returns FWC_OK, FWC_ERR_ARG, FWC_ERR_IO. A power loss may leave the range partly erased. */
int fwc_port_slot_erase(struct fwc_port *port, uint8_t slot, uint64_t off, uint64_t len);

/* The slot the running image was started from (what the boot selection chose at the last
 * reset). Returns FWC_OK or FWC_ERR_IO when the platform cannot tell. */
int fwc_port_running_slot(struct fwc_port *port, uint8_t *slot);

/* ------------------------------------------------------------------------------------------
 * Persistent state record: two independent areas ("copies" 0 and 1) of at least
 * FWC_AGENT_RECORD_MAX bytes each, e.g. two flash sectors or two files. The core keeps its
 * state record in them alternately (docs/formats/agent-record.md), so a write torn by a power
 * loss destroys at most the copy being written and never the other one. The two areas must not
 * share an erase unit.
 * ------------------------------------------------------------------------------------------ */

/* Read up to cap bytes from the start of area `copy` (0 or 1) into buf; *got receives how many
 * bytes the area holds (a never-written area may hold 0 bytes or erased bytes; both simply fail
 * the core's validation). Returns FWC_OK, FWC_ERR_ARG, FWC_ERR_IO. */
int fwc_port_record_read(struct fwc_port *port, uint8_t *buf, size_t cap, size_t *got,
                         uint8_t copy);

/* Replace the content of area `copy` with data[0..len), len <= FWC_AGENT_RECORD_MAX, and make
 * it durable (erase + program + flush, or write + fsync) before returning FWC_OK. Must not
 * touch the other area. Returns FWC_OK, FWC_ERR_ARG, FWC_ERR_IO. A power loss during the call
 * may leave the area with any mix of old and new bytes; the core detects that by the hash. */
int fwc_port_record_write(struct fwc_port *port, uint8_t copy, const uint8_t *data, size_t len);

/* ------------------------------------------------------------------------------------------
 * Time, randomness, logging, reset, health.
 * ------------------------------------------------------------------------------------------ */

/* Wall-clock time in seconds since 1970-01-01 UTC. Returns false when the device has no
 * trustworthy clock (the core then skips the checks that need one); *unix_seconds is written
 * only when true is returned. */
bool fwc_port_clock_now(struct fwc_port *port, uint64_t *unix_seconds);

/* Milliseconds since an arbitrary origin (boot), never going backwards. Used for the
 * download's minimum-rate rule. Every platform has some tick counter; required. */
uint64_t fwc_port_uptime_ms(struct fwc_port *port);

/* Fill buf[0..len) with cryptographically secure random bytes.
 * Returns FWC_OK or FWC_ERR_CRYPTO when no secure source is available (buf then undefined). */
int fwc_port_random(struct fwc_port *port, uint8_t *buf, size_t len);

enum fwc_port_log_level {
	FWC_LOG_ERROR = 0,
	FWC_LOG_WARN = 1,
	FWC_LOG_INFO = 2,
	FWC_LOG_DEBUG = 3
};

/* Log one event. The core never formats text: msg is a static NUL-terminated string from the
 * core (it stays valid forever) and a, b are two integers whose meaning msg names. The port may
 * drop messages by level; it must not fail. */
void fwc_port_log(struct fwc_port *port, int level, const char *msg, int64_t a, int64_t b);

/* Reset the device so that the boot selection runs and starts an image (see
 * fwc_agent_boot_select()). On hardware this does not return. A port that simulates the
 * reset (the POSIX port) returns; the core then refuses to do anything else
 * (fwc_agent_step() keeps returning FWC_AGENT_REBOOT) and the platform must discard the
 * context and start over as after a power-on. */
void fwc_port_reboot(struct fwc_port *port);

/* Post-boot health check of the running image in `slot`: the application's own self-test
 * (peripherals up, network reachable, watchdog fed...). Returns FWC_PORT_HEALTHY when it
 * passed; any other value (conventionally FWC_ERR_STATE) means it failed. Called once per
 * trial boot, before the image is confirmed. */
int fwc_port_health_check(struct fwc_port *port, uint8_t slot);

/* ------------------------------------------------------------------------------------------
 * SHA-256, streaming over caller storage. The core depends on no crypto library: a port maps
 * these to a hardware engine, a software SHA-256 or a library (the POSIX port uses
 * libfwchain's fwc_sha256, i.e. OpenSSL).
 * ------------------------------------------------------------------------------------------ */

/* Caller storage for one hash computation. The port decides what it holds; the core only
 * allocates it (inside struct fwc_agent) and passes it back. */
struct fwc_port_sha256 {
	union {
		uint64_t align_u64;
		void *align_ptr;
		uint8_t bytes[FWC_PORT_SHA256_CTX_SIZE];
	} u;
};

/* Start a hash in h. Returns FWC_OK or FWC_ERR_CRYPTO / FWC_ERR_NOMEM (then h needs nothing
 * more). After a successful init the core always calls fwc_port_sha256_final() exactly once,
 * on error paths too, so a port may hold resources between the two calls. */
int fwc_port_sha256_init(struct fwc_port *port, struct fwc_port_sha256 *h);

/* Absorb data[0..len) (data may be NULL when len is 0). Returns FWC_OK or FWC_ERR_CRYPTO. */
int fwc_port_sha256_update(struct fwc_port *port, struct fwc_port_sha256 *h, const void *data,
                           size_t len);

/* Write the digest to out and release whatever init took; h is dead afterwards (a new init is
 * needed to hash again). Returns FWC_OK or FWC_ERR_CRYPTO (out then undefined; h still
 * released). */
int fwc_port_sha256_final(struct fwc_port *port, struct fwc_port_sha256 *h, uint8_t out[32]);

/* ------------------------------------------------------------------------------------------
 * Signatures. The device key never leaves the port (a secure element on hardware, a key file
 * in the POSIX port); the core only asks for signatures.
 * ------------------------------------------------------------------------------------------ */

/* The device's BIP-340 public key (32-byte x-only form, as registered on the ledger).
 * Returns FWC_OK, FWC_ERR_NOT_FOUND (device not provisioned), FWC_ERR_IO. */
int fwc_port_device_pubkey(struct fwc_port *port, uint8_t pub[32]);

/* BIP-340 signature by the device key of the 32-byte message msg32 (the core passes the tagged
 * hash of a device event). sig is written only on FWC_OK.
 * Returns FWC_OK, FWC_ERR_NOT_FOUND (no key), FWC_ERR_CRYPTO. */
int fwc_port_device_sign(struct fwc_port *port, uint8_t sig[64], const uint8_t msg32[32]);

/* BIP-340 verification of sig over msg[0..len) by the x-only public key pub.
 * Returns FWC_PORT_VALID when it verifies, FWC_ERR_BADSIG when it does not (including a pub
 * that is not a valid key), FWC_ERR_CRYPTO on an internal failure. */
int fwc_port_bip340_verify(struct fwc_port *port, const uint8_t pub[32], const uint8_t sig[64],
                           const uint8_t *msg, size_t len);

/* RFC 8032 Ed25519 verification of sig over msg[0..len) by pub (validator cosignatures).
 * Returns FWC_PORT_VALID, FWC_ERR_BADSIG or FWC_ERR_CRYPTO, as above. */
int fwc_port_ed25519_verify(struct fwc_port *port, const uint8_t pub[32], const uint8_t sig[64],
                            const uint8_t *msg, size_t len);

#ifdef __cplusplus
}
#endif
#endif
