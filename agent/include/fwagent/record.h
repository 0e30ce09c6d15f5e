/* fwagent — the persistent state record: what the agent must remember across resets.
 *
 * One fixed-size record holds the slot states, the release-counter floor, the newest accepted
 * checkpoint, the progress of a download and the queue of unreported device events. It is kept
 * in two copies (the port's two record areas), each with a sequence number and a SHA-256 over
 * its content; a new version always overwrites the older copy, and loading takes the newest
 * copy whose hash is right. A write torn by a power loss therefore only ever loses the write in
 * progress. Byte layout: docs/formats/agent-record.md. */
#ifndef FWAGENT_RECORD_H
#define FWAGENT_RECORD_H

#include <stdint.h>

#include "fwagent/config.h"
#include "fwagent/port.h"

#ifdef __cplusplus
extern "C" {
#endif

#define FWC_AGENT_RECORD_VERSION 3 /* written; version 1 and 2 records are still read */
#define FWC_AGENT_RECORD_FIXED 288 /* bytes before the event entries */
#define FWC_AGENT_RECORD_FIXED_V2 280
#define FWC_AGENT_RECORD_FIXED_V1 272
#define FWC_AGENT_EVENT_LEN 24 /* bytes per event entry */
/* Encoded length of a record with a queue of q events. */
#define FWC_AGENT_RECORD_LEN_Q(q) (FWC_AGENT_RECORD_FIXED + (q)*FWC_AGENT_EVENT_LEN + 32)
#define FWC_AGENT_RECORD_LEN FWC_AGENT_RECORD_LEN_Q(FWC_AGENT_EVENT_QUEUE)

/* What a slot holds, as the agent recorded it when it wrote the image. size 0 means "not
 * recorded" (the factory image, whose hash the agent never saw). */
struct fwc_agent_image {
	uint64_t counter;   /* release counter */
	uint64_t size;      /* image bytes */
	uint8_t sha256[32]; /* SHA-256 of the image bytes */
};

/* The newest checkpoint the device accepted (freeze and rollback of the log). All zero: none
 * yet. */
struct fwc_agent_checkpoint {
	uint64_t size;    /* tree size */
	uint64_t time;    /* the quorum-th newest cosignature time, Unix seconds */
	uint8_t hash[32]; /* the tree's root hash (same size, other root: another tree) */
};

/* A download in progress into the inactive slot. */
struct fwc_agent_download {
	uint8_t active;               /* 0: no download; 1: the fields below are valid */
	uint8_t slot;                 /* slot being written */
	uint8_t target[32];           /* identifies the download (the signed root CID's digest) */
	struct fwc_agent_image image; /* signed counter, size and hash of the image */
	uint64_t verified;            /* bytes from offset 0 written and hash-checked: the end of
	                                 a verified leaf of the image DAG (or an erase-unit start
	                                 the download was moved back to) */
};

enum fwc_agent_event_type {
	FWC_AGENT_EV_CONFIRMED = 1,       /* a new image passed its health check and is active */
	FWC_AGENT_EV_ROLLED_BACK = 2,     /* a trial image was abandoned; reason says why */
	FWC_AGENT_EV_DOWNLOAD_FAILED = 3, /* every source failed for a block of the image */
	FWC_AGENT_EV_VERIFY_FAILED = 4,   /* the complete image in the slot did not match */
	FWC_AGENT_EV_RECORD_RESET = 5,    /* both record copies were corrupt: factory state */
	FWC_AGENT_EV_REFUSED = 6 /* a check-in answer or release was refused; the reason is an
	                            enum fwc_agent_refusal (fwagent/verify.h) */
};

enum fwc_agent_reason {
	FWC_AGENT_REASON_NONE = 0,
	FWC_AGENT_REASON_HEALTH = 1,   /* the health check failed on every trial boot */
	FWC_AGENT_REASON_ATTEMPTS = 2, /* the image never reached its health check */
	FWC_AGENT_REASON_HASH = 3,     /* the slot's content no longer matches the recorded hash */
	FWC_AGENT_REASON_NOT_BOOTED = 4, /* the platform booted another slot than the trial one */
	FWC_AGENT_REASON_STORAGE = 5     /* the slot could not be read */
};

struct fwc_agent_event {
	uint32_t seq;     /* device event sequence number */
	uint8_t type;     /* enum fwc_agent_event_type */
	uint8_t reason;   /* enum fwc_agent_reason */
	int16_t code;     /* enum fwc_err value behind the event, or 0 */
	uint64_t counter; /* release counter the event is about */
	uint64_t time;    /* Unix seconds, 0 when the device has no clock */
};

struct fwc_agent_record {
	uint32_t seq;          /* copy sequence number; set by fwc_agent_store_commit() */
	uint8_t active_slot;   /* confirmed slot */
	uint8_t pending_slot;  /* slot on trial, FWC_SLOT_NONE when none */
	uint8_t boot_attempts; /* trial boots of the pending slot so far */
	uint64_t floor;        /* release-counter floor: only higher counters are installed */
	struct fwc_agent_image active;
	struct fwc_agent_image pending;
	struct fwc_agent_checkpoint checkpoint;
	struct fwc_agent_download download;
	uint64_t tx_nonce;       /* nonce of the device's next ledger transaction (its event
	                            reports); 0 until the first is sent (then 1 is used) */
	uint64_t abandoned;      /* counter of the newest release rolled back on this device (0:
	                            none); it and older ones are never installed again, a higher
	                            one is (counters rise strictly per product and channel) */
	uint32_t next_event_seq; /* sequence number the next event gets */
	uint32_t events_dropped; /* events lost to a full queue since the last report */
	uint8_t event_count;
	struct fwc_agent_event events[FWC_AGENT_EVENT_QUEUE]; /* oldest first */
};

/* The factory state: slot A confirmed, nothing pending, floor `floor`, no events. */
void fwc_agent_record_factory(struct fwc_agent_record *rec, uint64_t floor);

/* Serialise rec into out (capacity cap >= FWC_AGENT_RECORD_LEN), hashing with the port's
 * SHA-256. *len gets FWC_AGENT_RECORD_LEN. rec is checked like a decoded record (a record that
 * would not decode is refused with FWC_ERR_RANGE), so what is written can always be read back.
 * Returns FWC_OK, FWC_ERR_ARG, FWC_ERR_BUFSIZE, FWC_ERR_RANGE, or the port's hash error. */
int fwc_agent_record_encode(struct fwc_port *port, uint8_t *out, size_t cap, size_t *len,
                            const struct fwc_agent_record *rec);

/* Parse and check one record copy. in[0..len) is the area content; bytes after the record's
 * own length are ignored (an area is larger than the record). A record written with a
 * different event-queue size is accepted; when it holds more events than this build's queue,
 * the oldest are dropped and counted in events_dropped. rec is written only on FWC_OK.
 * Returns FWC_OK, FWC_ERR_TRUNCATED, FWC_ERR_MALFORMED (magic, length, layout rule),
 * FWC_ERR_UNSUPPORTED (version), FWC_ERR_HASH_MISMATCH, FWC_ERR_RANGE (a field out of range),
 * or the port's hash error. */
int fwc_agent_record_decode(struct fwc_port *port, struct fwc_agent_record *rec, const uint8_t *in,
                            size_t len);

/* Queue an event (oldest dropped and counted when the queue is full); it gets the next
 * sequence number. Only changes rec in memory. */
void fwc_agent_record_push_event(struct fwc_agent_record *rec, uint8_t type, uint8_t reason,
                                 int code, uint64_t counter, uint64_t time);

/* Remove the oldest queued event (it was reported). Only changes rec in memory; nothing
 * happens on an empty queue. */
void fwc_agent_record_pop_event(struct fwc_agent_record *rec);

/* How fwc_agent_store_load() found the two copies. */
enum fwc_agent_load_status {
	FWC_AGENT_LOAD_BOTH = 0,   /* both copies valid; the newer one is used */
	FWC_AGENT_LOAD_ONE = 1,    /* one copy valid (the other torn, corrupt or never written) */
	FWC_AGENT_LOAD_BLANK = 2,  /* no valid copy and at least one copy blank (never written,
	                              or only a first write that was torn): factory state */
	FWC_AGENT_LOAD_CORRUPT = 3 /* both copies hold something and neither is valid: factory
	                              state, and the caller should report it */
};

/* The two copies and the newest valid state. Caller storage (the agent keeps one in its
 * context); no pointer inside survives a call except port. */
struct fwc_agent_store {
	struct fwc_port *port;
	struct fwc_agent_record cur; /* newest durable state (or factory state) */
	uint8_t newest;              /* copy holding cur: 0, 1, or FWC_SLOT_NONE when neither */
	uint8_t valid_mask;          /* bit c set: copy c held a valid record at load */
	uint8_t status;              /* enum fwc_agent_load_status of the last load */
	struct fwc_agent_record scratch;
	struct fwc_port_sha256 hash;
	uint8_t buf[FWC_AGENT_RECORD_MAX];
	uint8_t check[FWC_AGENT_RECORD_MAX];
};

/* Read both copies and make st->cur the newest valid one (ties: copy 0), or the factory state
 * with floor factory_floor when neither is valid. A torn or corrupt copy is never an error.
 * Returns FWC_OK or FWC_ERR_ARG. */
int fwc_agent_store_load(struct fwc_agent_store *st, struct fwc_port *port, uint64_t factory_floor);

/* Make next the durable state: encode it with sequence number cur.seq + 1, write it over the
 * older copy (the one not holding cur), read it back and compare. On FWC_OK st->cur is next
 * (with its new seq). On failure st->cur is unchanged: the durable state is then cur (the other
 * copy is intact) or, if the write reached the medium before the failure, next — both are
 * states the caller knew. Returns FWC_OK, FWC_ERR_RANGE (next would not decode), FWC_ERR_IO
 * (write failed or the read-back differs), or the port's hash error. */
int fwc_agent_store_commit(struct fwc_agent_store *st, const struct fwc_agent_record *next);

#ifdef __cplusplus
}
#endif
#endif
