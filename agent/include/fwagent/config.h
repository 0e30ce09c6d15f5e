/* fwagent — compile-time configuration of the agent core.
 *
 * Every buffer and every loop bound in the core comes from a value here, so the agent's RAM is
 * known at compile time (the context is one struct; see docs/agent.md for its size). A platform
 * overrides a value by defining it before this header is seen, typically on the compiler's
 * command line (-DFWC_AGENT_BLOCK_SIZE=1024). Inconsistent combinations are refused at compile
 * time by the checks in agent/core/agent.c and agent/core/record.c.
 *
 * Only C99 preprocessor features are used: the core compiles as C99 or C11, freestanding. */
#ifndef FWAGENT_CONFIG_H
#define FWAGENT_CONFIG_H

/* Bytes fetched, programmed and hashed at a time. This is the agent's one large buffer. Must be
 * a power of two; the port's erase unit must divide it or be a multiple of it. */
#ifndef FWC_AGENT_BLOCK_SIZE
#define FWC_AGENT_BLOCK_SIZE 4096
#endif

/* Most blocks on a path from the root of an image's UnixFS DAG to a leaf, the root and the
 * leaf included. The download holds one interior node at a time (in the check-in buffer) and
 * walks down from the root again when it leaves it, so this bounds the fetches of that walk,
 * not RAM. With `ipfs add`'s layout (174 links per node, 256 KiB leaves) depth 1 is one leaf
 * (256 KiB), 2 covers 174 leaves (43.5 MiB), 3 covers 174^2 leaves (7.4 GiB). */
#ifndef FWC_AGENT_DAG_DEPTH
#define FWC_AGENT_DAG_DEPTH 3
#endif

/* Largest leaf (file bytes). A leaf is fetched, programmed and hashed within one call of
 * fwc_agent_step(), so this bounds the work of one step. 1 MiB is the largest chunk `ipfs add`
 * allows (its default is 256 KiB). */
#ifndef FWC_AGENT_MAX_CHUNK_SIZE
#define FWC_AGENT_MAX_CHUNK_SIZE (1024UL * 1024UL)
#endif

/* Download progress is committed to the record (after the slot is synced) once at least this
 * many newly verified bytes have accumulated since the last commit, and at the end of the
 * image. A reset resumes from the last committed verified leaf end, so it re-fetches at most
 * about this many bytes (plus one leaf); a smaller value costs two storage syncs per commit on
 * fast links. 0 commits after every leaf. */
#ifndef FWC_AGENT_PROGRESS_BYTES
#define FWC_AGENT_PROGRESS_BYTES (4096UL * 1024UL)
#endif

/* Download sources (mirrors) per offer, and the longest URL of one source in bytes. */
#ifndef FWC_AGENT_MAX_SOURCES
#define FWC_AGENT_MAX_SOURCES 4
#endif
#ifndef FWC_AGENT_URL_MAX
#define FWC_AGENT_URL_MAX 200
#endif

/* How many times every source is tried for one block before the download is abandoned. */
#ifndef FWC_AGENT_SOURCE_ROUNDS
#define FWC_AGENT_SOURCE_ROUNDS 2
#endif

/* Minimum-rate rule: once a leaf has taken longer than the grace period, a source delivering
 * less than FWC_AGENT_MIN_RATE bytes per second is abandoned for the next one (slow-drip
 * attacks that keep a device downloading forever). */
#ifndef FWC_AGENT_MIN_RATE
#define FWC_AGENT_MIN_RATE 256
#endif
#ifndef FWC_AGENT_MIN_RATE_GRACE_MS
#define FWC_AGENT_MIN_RATE_GRACE_MS 10000
#endif

/* Validators a device can be provisioned with (their verifier keys are checked against a
 * checkpoint's cosignature lines). At most FWC_NOTE_MAX_VERIFIERS (64). */
#ifndef FWC_AGENT_MAX_VALIDATORS
#define FWC_AGENT_MAX_VALIDATORS 16
#endif

/* Bytes of the check-in answer (a proof bundle) and of an interior node of the image DAG,
 * which share one buffer. A bundle with a release and two key-set statements is about 3 KiB;
 * an interior node of `ipfs add` with 174 links about 8.7 KiB (raw leaves below it) and at
 * most 9060 bytes (the root of a 7.4 GiB image: 174 dag-pb links, 4-byte sizes). */
#ifndef FWC_AGENT_BUNDLE_MAX
#define FWC_AGENT_BUNDLE_MAX 9216
#endif

/* Longest URL the agent builds for a request (a check-in carries the product, channel,
 * hardware id, counter and device key in its query). */
#ifndef FWC_AGENT_REQUEST_URL_MAX
#define FWC_AGENT_REQUEST_URL_MAX 512
#endif

/* A verified checkpoint that arrives without an update (an idle ledger makes one every minute)
 * is committed to the record only when its time is this many seconds past the recorded one,
 * which bounds the record writes of a polling device. 0 commits every newer one. */
#ifndef FWC_AGENT_CHECKPOINT_MIN_ADVANCE
#define FWC_AGENT_CHECKPOINT_MIN_ADVANCE 3600
#endif

/* Device events kept in the persistent record until they are reported. When the queue is full
 * the oldest event is dropped and counted (docs/formats/agent-record.md). */
#ifndef FWC_AGENT_EVENT_QUEUE
#define FWC_AGENT_EVENT_QUEUE 8
#endif

/* Trial boots of a new image before the agent rolls back to the confirmed one. */
#ifndef FWC_AGENT_MAX_BOOT_ATTEMPTS
#define FWC_AGENT_MAX_BOOT_ATTEMPTS 3
#endif

/* Bytes read from a record area; the encoded record must fit (it is 320 + 24 * queue bytes). */
#ifndef FWC_AGENT_RECORD_MAX
#define FWC_AGENT_RECORD_MAX 1024
#endif

/* 1: the boot selection re-hashes the confirmed image at every boot and refuses to start it
 * when it no longer matches the recorded hash. 0: only trial images are checked. */
#ifndef FWC_AGENT_VALIDATE_ACTIVE
#define FWC_AGENT_VALIDATE_ACTIVE 1
#endif

/* Bytes of caller storage the port's SHA-256 context may use (a software SHA-256 needs 104,
 * a pointer to a hardware or library context needs 8). */
#ifndef FWC_PORT_SHA256_CTX_SIZE
#define FWC_PORT_SHA256_CTX_SIZE 128
#endif

/* Upper bound on sizeof(struct fwc_agent), checked at compile time. */
#ifndef FWC_AGENT_CONTEXT_MAX
#define FWC_AGENT_CONTEXT_MAX (32UL * 1024UL)
#endif

#endif
