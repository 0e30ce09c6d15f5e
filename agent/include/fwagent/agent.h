/* fwagent — the device agent's public API: a state machine driven by a step function.
 *
 * The platform owns one struct fwc_agent per device (static storage on an MCU; it holds every
 * buffer the agent uses, no heap) and calls fwc_agent_step() whenever it has time; each call
 * does the work of one state and returns the next state. Every transition that must survive a
 * power loss is committed to the persistent record (fwagent/record.h) before the agent acts on
 * it, so after a reset at any point fwc_agent_init() finds from the record where to resume.
 *
 * A reset runs in two parts, as on a device with a boot loader:
 *   1. fwc_agent_boot_select() — the boot loader's decision: which slot to start, counting
 *      trial boots of a new image, checking its hash, and rolling back when it must;
 *   2. the chosen image starts, and its agent calls fwc_agent_init() then fwc_agent_step().
 * The POSIX port runs both in one process (fwc_posix_power_on()).
 *
 * States and transitions: docs/agent.md. */
#ifndef FWAGENT_AGENT_H
#define FWAGENT_AGENT_H

#include <stdint.h>

#include "fwagent/config.h"
#include "fwagent/port.h"
#include "fwagent/record.h"
#include "fwagent/verify.h"

#ifdef __cplusplus
extern "C" {
#endif

enum fwc_agent_state {
	FWC_AGENT_IDLE = 0,       /* nothing under way; the next step checks in */
	FWC_AGENT_CHECKIN = 1,    /* ask a node for the newest release and its proof bundle */
	FWC_AGENT_DECIDE = 2,     /* apply local policy to a verified offer */
	FWC_AGENT_DOWNLOAD = 3,   /* fetch, hash-check and program one leaf block per step */
	FWC_AGENT_VERIFY = 4,     /* re-read the whole image from the slot and check its hash */
	FWC_AGENT_INSTALL = 5,    /* mark the slot pending (trial boot) */
	FWC_AGENT_REBOOT = 6,     /* reset into the boot selection */
	FWC_AGENT_BOOT_CHECK = 7, /* running a trial image: run its health check */
	FWC_AGENT_CONFIRM = 8,    /* make the trial image the active one; raise the floor */
	FWC_AGENT_ROLLBACK = 9,   /* abandon the trial image */
	FWC_AGENT_REPORT = 10     /* send queued device events */
};

/* How a block of an image is named: the kinds of CID the agent fetches (sha2-256 always). */
enum fwc_agent_cid_kind {
	FWC_AGENT_CID_RAW = 1, /* CIDv1 raw: the block is file bytes (a leaf) */
	FWC_AGENT_CID_PB1 = 2, /* CIDv1 dag-pb: a UnixFS node (interior, or a leaf) */
	FWC_AGENT_CID_PB0 = 3  /* CIDv0 ("Qm..."): the same, named the old way */
};

/* A verified update offer: what the check-in and decision steps hand to the download once the
 * proof bundle has been verified (checkpoint quorum, inclusion proof, release-key threshold,
 * product and hardware match; docs/agent.md). Every field but the sources is then trusted:
 * the sources are where blocks are asked for, and every block fetched from them is checked
 * against its CID, starting from the signed root. */
struct fwc_agent_source {
	uint16_t len;                /* bytes of url used */
	char url[FWC_AGENT_URL_MAX]; /* base URL, not NUL-terminated: blocks are fetched as
	                                <url>/ipfs/<cid>?format=raw (a trustless gateway) */
};

struct fwc_agent_offer {
	uint64_t counter;     /* release counter (must exceed the floor) */
	uint64_t size;        /* signed image size: never more is fetched */
	uint8_t sha256[32];   /* signed SHA-256 of the whole image */
	uint8_t target[32];   /* the signed root CID's digest; identifies the download */
	uint8_t root_kind;    /* enum fwc_agent_cid_kind of the signed root CID */
	uint8_t source_count; /* 1..FWC_AGENT_MAX_SOURCES, tried in order */
	struct fwc_agent_source sources[FWC_AGENT_MAX_SOURCES];
};

/* A URL the platform keeps (on an MCU: a constant in flash). */
struct fwc_agent_url {
	const char *url; /* not NUL-terminated */
	size_t len;
};

/* What manufacturing provisions. factory_floor is used only when no valid record exists; the
 * rest is read at every check-in. Every pointer must outlive the contexts given this struct
 * (on an MCU: constants in flash); the struct itself is kept by pointer. */
struct fwc_agent_provision {
	uint64_t factory_floor; /* release-counter floor of a device in factory state */
	const struct fwc_agent_trust *trust; /* trust anchors; NULL: the device cannot check in
	                                        (CHECKIN fails with FWC_ERR_STATE) */
	struct fwc_agent_identity id;        /* product, hardware id, channel */
	const char *node_url; /* base URL of a node ("http://host:port", no '/' at the end):
	                         check-ins and device events go there */
	size_t node_url_len;
	const char *gateway_url; /* base URL of a content gateway serving /ipfs/; NULL: node_url */
	size_t gateway_url_len;
	/* More trustless gateways to fetch blocks from. The sources of a download are, in this
	 * order: gateway_url, these, node_url (at most FWC_AGENT_MAX_SOURCES). */
	const struct fwc_agent_url *mirrors;
	size_t mirror_count;
};

/* The interior node of the image DAG that the download holds (in the check-in buffer, which
 * is free while downloading): the walk's only state besides the record's progress. */
struct fwc_agent_dag {
	uint8_t valid;      /* buf[0..len) holds a node that matched its CID */
	uint8_t depth;      /* its level: the root is 1 */
	uint8_t target[32]; /* root digest of the image it belongs to */
	uint64_t start;     /* first file byte under it */
	uint64_t size;      /* file bytes under it */
	uint32_t len;       /* block bytes in buf */
};

/* The agent context: all of the agent's memory. Treat the fields as private. */
struct fwc_agent {
	struct fwc_port *port;
	uint8_t state;          /* enum fwc_agent_state */
	uint8_t halted;         /* a simulated reboot happened: the context is dead */
	uint8_t running_slot;   /* slot the running image came from */
	uint8_t have_offer;     /* offer below is valid */
	uint8_t source;         /* offer source for the next fetch */
	uint8_t chunk_failures; /* failed attempts at the current leaf */
	uint8_t rollback_reason;
	int last_err;
	int rollback_code;
	uint32_t erase_unit;
	uint64_t clean_pos; /* download offset up to which this session programmed its erase
	                       unit, the rest of which is still erased; UINT64_MAX: unknown */
	uint64_t progress;  /* verified end of the recorded download reached in this session; the
	                       record lags behind it by < FWC_AGENT_PROGRESS_BYTES (0: none) */
	uint64_t slot_size[2];
	uint64_t factory_floor;
	struct fwc_agent_store store;
	struct fwc_agent_record next; /* the state being prepared for the next commit */
	struct fwc_agent_offer offer;
	struct fwc_agent_dag dag;
	struct fwc_port_sha256 hash;
	uint8_t block[FWC_AGENT_BLOCK_SIZE];
	/* check-in: what was provisioned, the verified release, and the buffers of a check-in
	 * (the answer, then the content's root block), of a report (one event transaction) and
	 * of the download (the interior node it walks, see dag above) */
	const struct fwc_agent_provision *prov;
	uint8_t have_verified; /* verified below holds the release of the current offer */
	uint8_t last_refusal;  /* reason of the last refusal queued since power-on (0: none) */
	int16_t last_refusal_code;
	uint64_t last_refusal_counter;
	struct fwc_agent_verified verified;
	char url[FWC_AGENT_REQUEST_URL_MAX];
	struct fwc_agent_verify_work work;
	uint8_t buf[FWC_AGENT_BUNDLE_MAX];
};

/* Boot selection, the boot loader's part of a reset: load the record and decide which slot to
 * start. With a trial image pending it checks the image's hash against the record and counts
 * the trial boot in the record before choosing it; once FWC_AGENT_MAX_BOOT_ATTEMPTS trial boots
 * have not led to a confirmation, or when the hash no longer matches, it rolls back (clears
 * the pending slot, queues an event, floor unchanged) and chooses the confirmed slot. With
 * FWC_AGENT_VALIDATE_ACTIVE it also re-hashes the confirmed image when its hash is recorded.
 *   ctx    scratch storage only; call fwc_agent_init() afterwards before stepping.
 *   slot   the slot to start, written on FWC_OK.
 * Returns FWC_OK, FWC_ERR_ARG, FWC_ERR_HASH_MISMATCH (the confirmed image is damaged and there
 * is nothing to fall back to: the platform's recovery decides), FWC_ERR_IO (slot geometry). */
int fwc_agent_boot_select(struct fwc_agent *ctx, uint8_t *slot, struct fwc_port *port,
                          const struct fwc_agent_provision *prov);

/* Start the agent of the running image: load the record, read the slot geometry and the
 * running slot from the port, and set the state from which to resume (a trial boot goes to
 * BOOT_CHECK, a complete download to VERIFY, anything else to IDLE). The port pointer is kept;
 * the port must outlive the context. Returns FWC_OK, FWC_ERR_ARG, FWC_ERR_IO (geometry or
 * running slot unknown), FWC_ERR_UNSUPPORTED (erase unit incompatible with the block size). */
int fwc_agent_init(struct fwc_agent *ctx, struct fwc_port *port,
                   const struct fwc_agent_provision *prov);

/* Do the work of the current state and return the next one. Errors do not stop the machine:
 * they are logged, kept for fwc_agent_last_error(), and the agent falls back to a safe state
 * (usually IDLE, from which the record decides again). After a simulated reboot the context is
 * dead and every call returns FWC_AGENT_REBOOT. */
enum fwc_agent_state fwc_agent_step(struct fwc_agent *ctx);

/* Current state, and the error of the most recent step (FWC_OK when it succeeded). */
enum fwc_agent_state fwc_agent_state(const struct fwc_agent *ctx);
int fwc_agent_last_error(const struct fwc_agent *ctx);

/* The durable state (read only; valid until the next step). */
const struct fwc_agent_record *fwc_agent_record(const struct fwc_agent *ctx);

/* Static name of a state ("IDLE", ...), "?" when unknown. */
const char *fwc_agent_state_name(int state);

#ifdef FWC_AGENT_TEST_ENTRY
/* TEST ONLY — compiled only with FWC_AGENT_TEST_ENTRY (the test build of the core, never the
 * product build). Hands the agent an offer as if check-in and decision had verified it, so the
 * download/install/confirm path can be tested before the proof-bundle verification exists.
 * Allowed in IDLE. Applies every check the agent itself makes (counter above the floor, size
 * within the slot, root kind, sources), then starts or resumes the download.
 * Returns FWC_OK, FWC_ERR_STATE, FWC_ERR_RANGE, FWC_ERR_TOO_LARGE, FWC_ERR_MALFORMED,
 * FWC_ERR_UNSUPPORTED, or a commit error. */
int fwc_agent_test_offer(struct fwc_agent *ctx, const struct fwc_agent_offer *offer);

/* TEST ONLY — the test build's stand-in for FWC_AGENT_PROGRESS_BYTES, so one test core can
 * commit download progress after every leaf (0, the default here: what most tests count on)
 * or batched (the resume and power-loss tests set it). */
extern unsigned long fwc_agent_test_progress_bytes;
#endif

#ifdef __cplusplus
}
#endif
#endif
