/* The agent's state machine: boot selection, download, verification, install, trial boot,
 * confirmation, rollback — driven by fwc_agent_step(), one state's work per call.
 *
 * Main design choice: the persistent record is the only truth about progress. Every step that
 * changes what must survive a reset prepares the next record in ctx->next and commits it (two
 * copies, fwagent/record.h) BEFORE acting on it; the in-memory state is only a cache of "what
 * to do next", recomputed from the record by resume_state() after every reset and after every
 * failure. So a power loss between any two storage operations leaves either the old or the new
 * record, and from either one resume_state() picks a step that is safe to (re)do: programming
 * the inactive slot, re-verifying a complete image, re-counting a trial boot. The active slot is
 * never written while it is active, and the floor is raised in the same commit that makes the
 * trial image active. Download progress is committed only every FWC_AGENT_PROGRESS_BYTES (each
 * commit costs the port two syncs): the record may lag behind what the session verified, never
 * run ahead of it, so a reset only re-fetches. A rollback records the abandoned release's
 * counter in the same commit, and no release at or below it is accepted again.
 *
 * Security decisions (image hash matches, health check passed) compare against distinct
 * non-zero values and are checked twice before the agent acts (STYLE.md, as in mcuboot). */
#include "fwagent/agent.h"

#include <string.h>

#include "crypto.h"
#include "dag.h"
#include "fwchain/cid.h"
#include "fwchain/sha256.h"
#include "hooks.h"
#include "slots.h"
#include "util.h"

FWC_STATIC_ASSERT(context_fits, sizeof(struct fwc_agent) <= FWC_AGENT_CONTEXT_MAX);
FWC_STATIC_ASSERT(block_pow2, FWC_AGENT_BLOCK_SIZE >= 64 &&
                                  (FWC_AGENT_BLOCK_SIZE & (FWC_AGENT_BLOCK_SIZE - 1)) == 0);
FWC_STATIC_ASSERT(chunk_blocks, FWC_AGENT_MAX_CHUNK_SIZE % FWC_AGENT_BLOCK_SIZE == 0);
FWC_STATIC_ASSERT(depth_bound, FWC_AGENT_DAG_DEPTH >= 1 && FWC_AGENT_DAG_DEPTH <= 16);
FWC_STATIC_ASSERT(node_room, FWC_AGENT_BUNDLE_MAX >= FWC_AGENT_DAG_PREFIX &&
                                 FWC_AGENT_BUNDLE_MAX <= UINT32_MAX);
FWC_STATIC_ASSERT(prefix_room, FWC_AGENT_BLOCK_SIZE >= FWC_AGENT_DAG_PREFIX);
FWC_STATIC_ASSERT(sources_bound, FWC_AGENT_MAX_SOURCES >= 1 && FWC_AGENT_MAX_SOURCES <= 255);
FWC_STATIC_ASSERT(url_bound, FWC_AGENT_URL_MAX >= 8 && FWC_AGENT_URL_MAX <= 65535);
FWC_STATIC_ASSERT(rounds_bound, FWC_AGENT_SOURCE_ROUNDS >= 1 &&
                                    FWC_AGENT_SOURCE_ROUNDS * FWC_AGENT_MAX_SOURCES <= 255);
FWC_STATIC_ASSERT(attempts_bound,
                  FWC_AGENT_MAX_BOOT_ATTEMPTS >= 1 && FWC_AGENT_MAX_BOOT_ATTEMPTS <= 254);

#ifdef FWC_AGENT_TEST_ENTRY
unsigned long fwc_agent_test_progress_bytes = 0;
#define PROGRESS_BYTES fwc_agent_test_progress_bytes
#else
#define PROGRESS_BYTES FWC_AGENT_PROGRESS_BYTES
#endif

static const char *const state_names[] = {
    "IDLE",   "CHECKIN",    "DECIDE",  "DOWNLOAD", "VERIFY", "INSTALL",
    "REBOOT", "BOOT_CHECK", "CONFIRM", "ROLLBACK", "REPORT",
};

const char *fwc_agent_state_name(int state)
{
	if (state < 0 || (size_t)state >= sizeof(state_names) / sizeof(state_names[0]))
		return "?";
	return state_names[state];
}

static uint64_t now_or_zero(struct fwc_agent *ctx)
{
	uint64_t t = 0;

	return fwc_port_clock_now(ctx->port, &t) ? t : 0;
}

/* Start preparing the next durable state from the current one. */
static struct fwc_agent_record *prepare(struct fwc_agent *ctx)
{
	ctx->next = ctx->store.cur;
	return &ctx->next;
}

static int commit(struct fwc_agent *ctx)
{
	int rc = fwc_agent_store_commit(&ctx->store, &ctx->next);

	if (rc < 0)
		fwc_port_log(ctx->port, FWC_LOG_ERROR, "record commit failed", rc, ctx->state);
	return rc;
}

/* Record an error and go to `next`: the step's work is abandoned, the record stays as it was
 * (or as the last commit left it), and resume_state() decides again from there. */
static enum fwc_agent_state fail(struct fwc_agent *ctx, int err, const char *msg,
                                 enum fwc_agent_state next)
{
	ctx->last_err = err;
	fwc_port_log(ctx->port, FWC_LOG_WARN, msg, err, ctx->state);
	return next;
}

static int same_download(const struct fwc_agent_download *d, const struct fwc_agent_offer *o)
{
	return d->active && d->image.counter == o->counter && d->image.size == o->size &&
	       memcmp(d->image.sha256, o->sha256, 32) == 0 && memcmp(d->target, o->target, 32) == 0;
}

/* Where to go from the durable record alone (after a reset, or after a failed step). */
static enum fwc_agent_state resume_state(struct fwc_agent *ctx)
{
	const struct fwc_agent_record *r = &ctx->store.cur;

	if (r->pending_slot != FWC_SLOT_NONE) {
		if (ctx->running_slot == r->pending_slot)
			return FWC_AGENT_BOOT_CHECK;
		/* The trial image is not what runs: the boot selection was not ours or the
		 * platform fell back. Counting on another boot would only loop; roll back. */
		ctx->rollback_reason = FWC_AGENT_REASON_NOT_BOOTED;
		ctx->rollback_code = FWC_ERR_STATE;
		return FWC_AGENT_ROLLBACK;
	}
	if (ctx->running_slot != r->active_slot)
		return FWC_AGENT_REBOOT; /* rolled back, but the abandoned image still runs */
	if (r->download.active && r->download.verified == r->download.image.size)
		return FWC_AGENT_VERIFY;
	if (r->download.active && ctx->have_offer && same_download(&r->download, &ctx->offer))
		return FWC_AGENT_DOWNLOAD;
	return FWC_AGENT_IDLE;
}

/* Load the record and the slot geometry: common to the boot selection and the agent. */
static int load(struct fwc_agent *ctx, struct fwc_port *port,
                const struct fwc_agent_provision *prov)
{
	struct fwc_port_slot_info info[2];
	int rc;

	memset(ctx, 0, sizeof(*ctx));
	ctx->port = port;
	ctx->prov = prov;
	ctx->running_slot = FWC_SLOT_NONE;
	ctx->factory_floor = prov != NULL ? prov->factory_floor : 0;
	if ((rc = fwc_agent_store_load(&ctx->store, port, ctx->factory_floor)) < 0)
		return rc;
	if (ctx->store.status == FWC_AGENT_LOAD_CORRUPT) {
		/* Both copies destroyed: the floor may have been lost. Say so durably, so the
		 * ledger learns that this device's rollback protection was reset. */
		fwc_port_log(port, FWC_LOG_ERROR, "record corrupt: factory state", 0, 0);
		fwc_agent_record_push_event(prepare(ctx), FWC_AGENT_EV_RECORD_RESET,
		                            FWC_AGENT_REASON_NONE, FWC_ERR_HASH_MISMATCH, 0,
		                            now_or_zero(ctx));
		(void)commit(ctx);
	} else if (ctx->store.status == FWC_AGENT_LOAD_BLANK) {
		/* First power-on: make the provisioned state durable, so the floor no longer
		 * depends on what the platform passes at each boot. A failure is harmless: the
		 * record stays blank and the next start tries again. */
		prepare(ctx);
		(void)commit(ctx);
	}
	for (uint8_t s = 0; s < 2; s++)
		if ((rc = fwc_port_slot_info(port, &info[s], s)) < 0)
			return FWC_ERR_IO;
	if (info[0].erase_unit != info[1].erase_unit ||
	    !fwc_agent_slot_geometry_ok(info[0].erase_unit, info[0].size) ||
	    !fwc_agent_slot_geometry_ok(info[1].erase_unit, info[1].size))
		return FWC_ERR_UNSUPPORTED;
	ctx->erase_unit = info[0].erase_unit;
	ctx->slot_size[0] = info[0].size;
	ctx->slot_size[1] = info[1].size;
	return FWC_OK;
}

/* FWC_AGENT_MATCH when slot's first img->size bytes hash to img->sha256. *err gets the read
 * or hash error when the slot could not be hashed (the result is then FWC_AGENT_NOMATCH). */
static uint32_t slot_matches(struct fwc_agent *ctx, int *err, uint8_t slot,
                             const struct fwc_agent_image *img)
{
	uint8_t digest[32];
	volatile uint32_t m;
	int rc;

	*err = FWC_OK;
	if (img->size == 0 || img->size > ctx->slot_size[slot]) {
		*err = FWC_ERR_RANGE;
		return FWC_AGENT_NOMATCH;
	}
	rc = fwc_agent_slot_hash(ctx->port, &ctx->hash, digest, ctx->block, sizeof(ctx->block),
	                         slot, img->size);
	if (rc < 0) {
		*err = rc;
		return FWC_AGENT_NOMATCH;
	}
	m = fwc_ct_match(digest, img->sha256, 32);
	if (m != FWC_AGENT_MATCH)
		return FWC_AGENT_NOMATCH;
	/* again: a single glitch must not turn a mismatch into a match */
	m = fwc_ct_match(digest, img->sha256, 32);
	if (m != FWC_AGENT_MATCH)
		return FWC_AGENT_NOMATCH;
	return FWC_AGENT_MATCH;
}

/* Abandon the pending image in the record (floor unchanged) and queue the event. */
static int record_rollback(struct fwc_agent *ctx, uint8_t reason, int code)
{
	struct fwc_agent_record *n = prepare(ctx);
	uint64_t counter = n->pending.counter;

	n->pending_slot = FWC_SLOT_NONE;
	memset(&n->pending, 0, sizeof(n->pending));
	n->boot_attempts = 0;
	/* remembered in the same commit, so the release is never offered to itself again */
	if (counter > n->abandoned)
		n->abandoned = counter;
	fwc_agent_record_push_event(n, FWC_AGENT_EV_ROLLED_BACK, reason, code, counter,
	                            now_or_zero(ctx));
	fwc_port_log(ctx->port, FWC_LOG_WARN, "rolling back", reason, code);
	return commit(ctx);
}

int fwc_agent_boot_select(struct fwc_agent *ctx, uint8_t *slot, struct fwc_port *port,
                          const struct fwc_agent_provision *prov)
{
	const struct fwc_agent_record *r;
	uint32_t m;
	int rc, err;

	if (ctx == NULL || slot == NULL)
		return FWC_ERR_ARG;
	if ((rc = load(ctx, port, prov)) < 0)
		return rc;
	r = &ctx->store.cur;
	if (r->pending_slot != FWC_SLOT_NONE) {
		if (r->boot_attempts >= FWC_AGENT_MAX_BOOT_ATTEMPTS) {
			/* every trial boot ended before a confirmation or a rollback */
			(void)record_rollback(ctx, FWC_AGENT_REASON_ATTEMPTS, FWC_ERR_STATE);
		} else if ((m = slot_matches(ctx, &err, r->pending_slot, &r->pending)) !=
		           FWC_AGENT_MATCH) {
			(void)record_rollback(
			    ctx, err < 0 ? FWC_AGENT_REASON_STORAGE : FWC_AGENT_REASON_HASH,
			    err < 0 ? err : FWC_ERR_HASH_MISMATCH);
		} else if (m == FWC_AGENT_MATCH) {
			/* Count the trial boot before starting it, so an image that crashes
			 * before its health check still uses up its attempts. If the count
			 * cannot be recorded the trial does not happen (the agent of the
			 * confirmed image then rolls back): an uncounted trial could loop. */
			struct fwc_agent_record *n = prepare(ctx);

			n->boot_attempts++;
			if (commit(ctx) == FWC_OK) {
				*slot = n->pending_slot;
				return FWC_OK;
			}
		}
	}
	r = &ctx->store.cur;
#if FWC_AGENT_VALIDATE_ACTIVE
	if (r->active.size != 0) {
		if (slot_matches(ctx, &err, r->active_slot, &r->active) != FWC_AGENT_MATCH) {
			fwc_port_log(port, FWC_LOG_ERROR, "confirmed image damaged", r->active_slot,
			             err);
			return FWC_ERR_HASH_MISMATCH;
		}
	}
#endif
	*slot = r->active_slot;
	return FWC_OK;
}

int fwc_agent_init(struct fwc_agent *ctx, struct fwc_port *port,
                   const struct fwc_agent_provision *prov)
{
	uint8_t running = FWC_SLOT_NONE;
	int rc;

	if (ctx == NULL)
		return FWC_ERR_ARG;
	if ((rc = load(ctx, port, prov)) < 0)
		return rc;
	if (fwc_port_running_slot(port, &running) < 0 ||
	    (running != FWC_SLOT_A && running != FWC_SLOT_B))
		return FWC_ERR_IO;
	ctx->running_slot = running;
	ctx->state = (uint8_t)resume_state(ctx);
	fwc_port_log(port, FWC_LOG_INFO, "agent started", running, ctx->state);
	return FWC_OK;
}

/* ---- offers and the download ------------------------------------------------------------ */

static int check_offer(const struct fwc_agent *ctx, const struct fwc_agent_offer *o, uint8_t slot)
{
	if (o->counter <= ctx->store.cur.floor)
		return FWC_ERR_RANGE; /* rollback protection */
	if (o->size == 0)
		return FWC_ERR_MALFORMED;
	if (o->size > ctx->slot_size[slot])
		return FWC_ERR_TOO_LARGE;
	if (o->root_kind != FWC_AGENT_CID_RAW && o->root_kind != FWC_AGENT_CID_PB1 &&
	    o->root_kind != FWC_AGENT_CID_PB0)
		return FWC_ERR_MALFORMED;
	if (o->root_kind == FWC_AGENT_CID_RAW && o->size > FWC_AGENT_MAX_CHUNK_SIZE)
		return FWC_ERR_TOO_LARGE; /* one leaf is one step's work */
	if (o->source_count == 0 || o->source_count > FWC_AGENT_MAX_SOURCES)
		return FWC_ERR_MALFORMED;
	for (unsigned i = 0; i < o->source_count; i++)
		if (o->sources[i].len == 0 || o->sources[i].len > FWC_AGENT_URL_MAX)
			return FWC_ERR_MALFORMED;
	return FWC_OK;
}

/* 1 when cp should replace the recorded checkpoint rec: a larger tree, or a newer time (by at
 * least FWC_AGENT_CHECKPOINT_MIN_ADVANCE seconds unless force). Never an older one. */
static int checkpoint_newer(const struct fwc_agent_checkpoint *cp,
                            const struct fwc_agent_checkpoint *rec, int force)
{
	if (cp->size < rec->size || cp->time < rec->time)
		return 0;
	if (cp->size > rec->size)
		return 1;
	if (force)
		return cp->time > rec->time || memcmp(cp->hash, rec->hash, 32) != 0;
	return cp->time - rec->time >= FWC_AGENT_CHECKPOINT_MIN_ADVANCE;
}

int fwc_agent_accept_checkpoint(struct fwc_agent *ctx, const struct fwc_agent_checkpoint *cp,
                                int force)
{
	if (ctx == NULL || cp == NULL)
		return FWC_ERR_ARG;
	if (!checkpoint_newer(cp, &ctx->store.cur.checkpoint, force))
		return FWC_OK;
	prepare(ctx)->checkpoint = *cp;
	return commit(ctx);
}

int fwc_agent_queue_event(struct fwc_agent *ctx, uint8_t type, uint8_t reason, int code,
                          uint64_t counter, const struct fwc_agent_checkpoint *cp)
{
	const struct fwc_agent_record *r;
	struct fwc_agent_record *n;
	int changed = 0;

	if (ctx == NULL)
		return FWC_ERR_ARG;
	r = &ctx->store.cur;
	n = prepare(ctx);
	if (cp != NULL && checkpoint_newer(cp, &r->checkpoint, 1)) {
		n->checkpoint = *cp;
		changed = 1;
	}
	/* a refusal equal to the newest queued event, or (once reported) to the last one queued
	 * since power-on, is not queued again: a node repeating a bad answer at every poll must
	 * not make the device write its record and the ledger at every poll */
	if (type == FWC_AGENT_EV_REFUSED && ctx->last_refusal == reason &&
	    ctx->last_refusal_code == code && ctx->last_refusal_counter == counter) {
		/* nothing new */
	} else if (r->event_count == 0 || r->events[r->event_count - 1].type != type ||
	           r->events[r->event_count - 1].reason != reason ||
	           r->events[r->event_count - 1].code != code ||
	           r->events[r->event_count - 1].counter != counter) {
		fwc_agent_record_push_event(n, type, reason, code, counter, now_or_zero(ctx));
		changed = 1;
	}
	if (type == FWC_AGENT_EV_REFUSED) {
		ctx->last_refusal = reason;
		ctx->last_refusal_code = (int16_t)(code < -32768 ? -32768 : code);
		ctx->last_refusal_counter = counter;
	}
	return changed ? commit(ctx) : FWC_OK;
}

/* FWC_AGENT_NOMATCH only when counter is above the newest release rolled back on this device
 * (checked twice: a glitch must not turn a refusal into an install). */
static uint32_t abandoned_release(const struct fwc_agent *ctx, uint64_t counter)
{
	volatile uint64_t c = counter;

	if (c <= ctx->store.cur.abandoned)
		return FWC_AGENT_MATCH;
	if (c <= ctx->store.cur.abandoned)
		return FWC_AGENT_MATCH;
	return FWC_AGENT_NOMATCH;
}

/* Take ctx->offer: start a download into the inactive slot, or resume the recorded one. */
static int accept_offer(struct fwc_agent *ctx)
{
	const struct fwc_agent_record *r = &ctx->store.cur;
	const struct fwc_agent_offer *o = &ctx->offer;
	struct fwc_agent_record *n;
	uint8_t slot = fwc_agent_slot_other(r->active_slot);
	int rc;

	ctx->have_offer = 0;
	if (r->pending_slot != FWC_SLOT_NONE)
		return FWC_ERR_STATE;
	if (abandoned_release(ctx, o->counter) != FWC_AGENT_NOMATCH) {
		/* Rolled back on this device: installing it again would only fail again, in a
		 * loop. Check-in asks for newer releases only, so a node offering it anyway is
		 * refused with an event (once per power-on, like the other refusals). */
		fwc_port_log(ctx->port, FWC_LOG_WARN, "release was rolled back",
		             (int64_t)o->counter, (int64_t)r->abandoned);
		(void)fwc_agent_queue_event(ctx, FWC_AGENT_EV_REFUSED, FWC_AGENT_REFUSE_ROLLBACK,
		                            FWC_ERR_RANGE, o->counter,
		                            ctx->have_verified ? &ctx->verified.checkpoint : NULL);
		return FWC_ERR_RANGE;
	}
	if ((rc = check_offer(ctx, o, slot)) < 0)
		return rc;
	ctx->source = 0;
	ctx->chunk_failures = 0;
	ctx->clean_pos = UINT64_MAX;
	if (same_download(&r->download, o) && r->download.slot == slot) {
		fwc_port_log(ctx->port, FWC_LOG_INFO, "resuming download", (int64_t)o->counter,
		             (int64_t)r->download.verified);
		ctx->have_offer = 1;
		return FWC_OK;
	}
	n = prepare(ctx);
	ctx->progress = 0;
	memset(&n->download, 0, sizeof(n->download));
	n->download.active = 1;
	n->download.slot = slot;
	memcpy(n->download.target, o->target, 32);
	n->download.image.counter = o->counter;
	n->download.image.size = o->size;
	memcpy(n->download.image.sha256, o->sha256, 32);
	/* the checkpoint the offer was proven under becomes the newest accepted one in the same
	 * commit: the whole chain verified */
	if (ctx->have_verified && checkpoint_newer(&ctx->verified.checkpoint, &n->checkpoint, 1))
		n->checkpoint = ctx->verified.checkpoint;
	if ((rc = commit(ctx)) < 0)
		return rc;
	fwc_port_log(ctx->port, FWC_LOG_INFO, "download started", (int64_t)o->counter,
	             (int64_t)o->size);
	ctx->have_offer = 1;
	return FWC_OK;
}

/* Why a download step failed: the device itself (storage, hash engine: try again later), the
 * source (error, short or wrong block, too slow: the next source), or the release's DAG (a
 * block that matched its CID but has a shape the agent cannot use: give the download up). */
enum blame { BLAME_LOCAL = 1, BLAME_SOURCE = 2, BLAME_CONTENT = 3 };

/* "<source>/ipfs/<cid>?format=raw" into ctx->url; *len gets its length. */
static int block_url(struct fwc_agent *ctx, size_t *len, const struct fwc_agent_dag_ref *b)
{
	const struct fwc_agent_source *src = &ctx->offer.sources[ctx->source];
	static const char ipfs[] = "/ipfs/", raw[] = "?format=raw";
	char text[FWC_CID_STR_MAX];
	struct fwc_cid cid;
	size_t n = 0, t = 0;

	memset(&cid, 0, sizeof(cid));
	cid.version = b->kind == FWC_AGENT_CID_PB0 ? 0 : 1;
	cid.codec = b->kind == FWC_AGENT_CID_RAW ? FWC_CID_CODEC_RAW : FWC_CID_CODEC_DAGPB;
	cid.mh_code = FWC_MH_SHA2_256;
	memcpy(cid.digest, b->digest, 32);
	if (fwc_cid_format(text, sizeof(text), &cid) != FWC_OK)
		return FWC_ERR_STATE;
	while (t < sizeof(text) && text[t] != '\0')
		t++;
	if ((size_t)src->len + sizeof(ipfs) - 1 + t + sizeof(raw) - 1 > sizeof(ctx->url))
		return FWC_ERR_TOO_LARGE;
	memcpy(ctx->url, src->url, src->len);
	n = src->len;
	memcpy(ctx->url + n, ipfs, sizeof(ipfs) - 1);
	n += sizeof(ipfs) - 1;
	memcpy(ctx->url + n, text, t);
	n += t;
	memcpy(ctx->url + n, raw, sizeof(raw) - 1);
	n += sizeof(raw) - 1;
	*len = n;
	return FWC_OK;
}

/* FWC_AGENT_MATCH when the hash just finalised into digest is the block's (twice). */
static uint32_t digest_matches(const uint8_t digest[32], const struct fwc_agent_dag_ref *b)
{
	volatile uint32_t m = fwc_ct_match(digest, b->digest, 32);

	if (m != FWC_AGENT_MATCH)
		return FWC_AGENT_NOMATCH;
	m = fwc_ct_match(digest, b->digest, 32);
	return m == FWC_AGENT_MATCH ? FWC_AGENT_MATCH : FWC_AGENT_NOMATCH;
}

/* Fetch the interior node b into ctx->buf from the current source and check it against its
 * CID; on FWC_OK ctx->dag holds it (at level depth). *blame is set on failure. */
static int fetch_node(struct fwc_agent *ctx, int *blame, const struct fwc_agent_dag_ref *b,
                      uint8_t depth)
{
	uint8_t digest[32];
	size_t ul = 0, got = 0;
	int rc;

	*blame = BLAME_LOCAL;
	ctx->dag.valid = 0; /* the buffer is about to change */
	if ((rc = block_url(ctx, &ul, b)) < 0)
		return rc;
	*blame = BLAME_SOURCE;
	if ((rc = fwc_port_http_get(ctx->port, ctx->buf, sizeof(ctx->buf), &got, ctx->url, ul, 0)) <
	    0)
		return rc;
	if (got == 0)
		return FWC_ERR_TRUNCATED;
	if (got == sizeof(ctx->buf))
		return FWC_ERR_TOO_LARGE; /* no node of `ipfs add` is that large: a source's lie */
	*blame = BLAME_LOCAL;
	if ((rc = fwc_sha256(digest, ctx->buf, got)) < 0)
		return rc;
	*blame = BLAME_SOURCE;
	if (digest_matches(digest, b) != FWC_AGENT_MATCH)
		return FWC_ERR_HASH_MISMATCH;
	ctx->dag.valid = 1;
	ctx->dag.depth = depth;
	memcpy(ctx->dag.target, ctx->offer.target, 32);
	ctx->dag.start = b->start;
	ctx->dag.size = b->size;
	ctx->dag.len = (uint32_t)got;
	return FWC_OK;
}

/* Find the leaf that holds file byte pos: from the node held in ctx->buf when it covers pos,
 * else from the signed root, fetching and checking each interior node on the way down (at
 * most FWC_AGENT_DAG_DEPTH blocks per path). A dag-pb child is a leaf when its first bytes
 * parse as a leaf's header (Data first), else an interior node (Links first); the guess costs
 * nothing when a source lies, since every block is hash-checked before anything counts it.
 * *leaf is written on FWC_OK; *blame is set on failure. */
static int dag_locate(struct fwc_agent *ctx, struct fwc_agent_dag_ref *leaf, int *blame,
                      uint64_t pos)
{
	struct fwc_agent_dag *c = &ctx->dag;
	struct fwc_agent_dag_ref cur;
	uint8_t level;
	int rc;

	memset(&cur, 0, sizeof(cur));
	if (c->valid && memcmp(c->target, ctx->offer.target, 32) == 0 && pos >= c->start &&
	    pos - c->start < c->size) {
		level = c->depth;
	} else {
		cur.kind = ctx->offer.root_kind;
		memcpy(cur.digest, ctx->offer.target, 32);
		cur.size = ctx->offer.size;
		level = 0;
	}
	for (unsigned guard = 0; guard <= FWC_AGENT_DAG_DEPTH; guard++) {
		if (level > 0) {
			/* the held node (level) names the next block down */
			*blame = BLAME_CONTENT;
			if ((rc = fwc_agent_dag_child(&cur, ctx->buf, c->len, c->start, c->size,
			                              pos)) < 0) {
				c->valid = 0;
				return rc;
			}
		}
		level++; /* cur's level */
		if (cur.kind != FWC_AGENT_CID_RAW) {
			size_t ul = 0, got = 0, hl;
			uint64_t dl, bl;

			*blame = BLAME_LOCAL;
			if ((rc = block_url(ctx, &ul, &cur)) < 0)
				return rc;
			*blame = BLAME_SOURCE;
			if ((rc = fwc_port_http_get(ctx->port, ctx->block, FWC_AGENT_DAG_PREFIX,
			                            &got, ctx->url, ul, 0)) < 0)
				return rc;
			if (fwc_agent_dag_leaf_header(&hl, &dl, &bl, ctx->block, got) == FWC_OK) {
				*leaf = cur;
				return FWC_OK;
			}
			if ((rc = fetch_node(ctx, blame, &cur, level)) < 0)
				return rc;
			if (ctx->buf[0] == 0x0a &&
			    fwc_agent_dag_leaf_header(&hl, &dl, &bl, ctx->buf, c->len) == FWC_OK) {
				/* a leaf after all (the first bytes lied) */
				c->valid = 0;
				*leaf = cur;
				return FWC_OK;
			}
			*blame = BLAME_CONTENT;
			if (level >= FWC_AGENT_DAG_DEPTH) {
				c->valid = 0;
				return FWC_ERR_TOO_LARGE; /* deeper than this device walks */
			}
			continue;
		}
		*leaf = cur;
		return FWC_OK;
	}
	*blame = BLAME_CONTENT;
	return FWC_ERR_TOO_LARGE;
}

/* GET [off, off + n) of the block at ctx->url[0..ul) into ctx->block: exactly n bytes. */
static int get_exact(struct fwc_agent *ctx, size_t ul, uint64_t off, size_t n)
{
	size_t got = 0;
	int rc = fwc_port_http_get(ctx->port, ctx->block, n, &got, ctx->url, ul, off);

	if (rc == FWC_OK && got != n)
		rc = FWC_ERR_TRUNCATED;
	return rc;
}

/* Fetch leaf from the current source, hashing the whole block and programming its file bytes
 * at and after pos into slot (bytes before pos are in an erase unit this pass keeps: a resume
 * inside the leaf), one block-buffer at a time; the minimum-rate rule applies from the leaf's
 * first byte. On FWC_OK the block matched the leaf's CID (checked twice) and, for a dag-pb
 * leaf, its header and trailer say what was programmed. *blame is set on failure. */
static int fetch_leaf(struct fwc_agent *ctx, int *blame, uint8_t slot,
                      const struct fwc_agent_dag_ref *leaf, uint64_t pos)
{
	uint64_t t0 = fwc_port_uptime_ms(ctx->port), boff = 0, fetched = 0, blen = leaf->size;
	uint8_t out[32], trailer[FWC_AGENT_DAG_TRAILER_MAX];
	size_t ul = 0, tl = 0;
	int rc, rc2;

	*blame = BLAME_CONTENT;
	if (leaf->size > FWC_AGENT_MAX_CHUNK_SIZE || leaf->start % FWC_AGENT_BLOCK_SIZE != 0)
		return FWC_ERR_UNSUPPORTED; /* a leaf must be one step and start a block */
	*blame = BLAME_LOCAL;
	if ((rc = block_url(ctx, &ul, leaf)) < 0)
		return rc;
	if ((rc = fwc_port_sha256_init(ctx->port, &ctx->hash)) < 0)
		return rc;
	if (leaf->kind != FWC_AGENT_CID_RAW) {
		size_t hl = 0, got = 0;
		uint64_t dl = 0;

		*blame = BLAME_SOURCE;
		rc = fwc_port_http_get(ctx->port, ctx->block, FWC_AGENT_DAG_PREFIX, &got, ctx->url,
		                       ul, 0);
		if (rc == FWC_OK)
			rc = fwc_agent_dag_leaf_header(&hl, &dl, &blen, ctx->block, got);
		if (rc == FWC_OK && dl != leaf->size)
			rc = FWC_ERR_MALFORMED; /* not what the parent says (yet unverified) */
		if (rc < 0)
			goto out;
		*blame = BLAME_LOCAL;
		if ((rc = fwc_port_sha256_update(ctx->port, &ctx->hash, ctx->block, hl)) < 0)
			goto out;
		boff = hl;
		tl = (size_t)(blen - hl - dl);
		fetched = hl;
	}
	for (uint64_t done = 0; done < leaf->size;) {
		size_t n = leaf->size - done < FWC_AGENT_BLOCK_SIZE ? (size_t)(leaf->size - done)
		                                                    : FWC_AGENT_BLOCK_SIZE;
		uint64_t at = leaf->start + done, elapsed;

		*blame = BLAME_SOURCE;
		if ((rc = get_exact(ctx, ul, boff + done, n)) < 0)
			goto out;
		*blame = BLAME_LOCAL;
		if (at >= pos &&
		    (rc = fwc_agent_slot_program(ctx->port, slot, ctx->slot_size[slot],
		                                 ctx->erase_unit, at, ctx->block, n)) < 0)
			goto out;
		if ((rc = fwc_port_sha256_update(ctx->port, &ctx->hash, ctx->block, n)) < 0)
			goto out;
		done += n;
		fetched += n;
		elapsed = fwc_port_uptime_ms(ctx->port) - t0;
		if (done < leaf->size && elapsed > FWC_AGENT_MIN_RATE_GRACE_MS &&
		    fetched * 1000u / elapsed < FWC_AGENT_MIN_RATE) {
			fwc_port_log(ctx->port, FWC_LOG_WARN, "source below minimum rate",
			             ctx->source, (int64_t)(fetched * 1000u / elapsed));
			*blame = BLAME_SOURCE;
			rc = FWC_ERR_IO;
			goto out;
		}
	}
	if (tl > 0) {
		*blame = BLAME_SOURCE;
		if ((rc = get_exact(ctx, ul, boff + leaf->size, tl)) < 0)
			goto out;
		memcpy(trailer, ctx->block, tl);
		*blame = BLAME_LOCAL;
		if ((rc = fwc_port_sha256_update(ctx->port, &ctx->hash, trailer, tl)) < 0)
			goto out;
	}
	rc = FWC_OK;
out:
	rc2 = fwc_port_sha256_final(ctx->port, &ctx->hash, out);
	if (rc < 0)
		return rc;
	if (rc2 < 0)
		return rc2;
	*blame = BLAME_SOURCE;
	if (digest_matches(out, leaf) != FWC_AGENT_MATCH)
		return FWC_ERR_HASH_MISMATCH;
	*blame = BLAME_CONTENT;
	if (tl > 0 && fwc_agent_dag_leaf_trailer(trailer, tl, leaf->size) != FWC_OK)
		return FWC_ERR_MALFORMED;
	return FWC_OK;
}

/* Give the download up with an event (the record forgets it in the same commit). A refusal
 * equal to the last one since power-on is not queued again (a release whose DAG the agent
 * cannot use is offered again at every check-in, as a refused bundle is). */
static enum fwc_agent_state abandon(struct fwc_agent *ctx, uint8_t type, uint8_t reason, int err)
{
	struct fwc_agent_record *n = prepare(ctx);
	uint64_t counter = n->download.image.counter;

	memset(&n->download, 0, sizeof(n->download));
	ctx->progress = 0;
	if (type != FWC_AGENT_EV_REFUSED || ctx->last_refusal != reason ||
	    ctx->last_refusal_code != err || ctx->last_refusal_counter != counter)
		fwc_agent_record_push_event(n, type, reason, err, counter, now_or_zero(ctx));
	if (type == FWC_AGENT_EV_REFUSED) {
		ctx->last_refusal = reason;
		ctx->last_refusal_code = (int16_t)(err < -32768 ? -32768 : err);
		ctx->last_refusal_counter = counter;
	}
	ctx->have_offer = 0;
	ctx->dag.valid = 0;
	if (commit(ctx) < 0)
		return FWC_AGENT_IDLE;
	return FWC_AGENT_REPORT;
}

/* The current source failed the current block: fail over, or give the download up. */
static enum fwc_agent_state source_failed(struct fwc_agent *ctx, int err)
{
	fwc_port_log(ctx->port, FWC_LOG_WARN, "source failed", ctx->source, err);
	ctx->last_err = err;
	ctx->clean_pos = UINT64_MAX; /* the failed attempt may have programmed past pos */
	ctx->chunk_failures++;
	ctx->source = (uint8_t)((ctx->source + 1) % ctx->offer.source_count);
	if (ctx->chunk_failures < ctx->offer.source_count * FWC_AGENT_SOURCE_ROUNDS)
		return FWC_AGENT_DOWNLOAD;
	return abandon(ctx, FWC_AGENT_EV_DOWNLOAD_FAILED, FWC_AGENT_REASON_NONE, err);
}

static enum fwc_agent_state step_download(struct fwc_agent *ctx)
{
	const struct fwc_agent_download *d = &ctx->store.cur.download;
	struct fwc_agent_dag_ref leaf;
	uint64_t pos, end;
	int rc, blame = BLAME_LOCAL;

	if (!d->active)
		return fail(ctx, FWC_ERR_STATE, "no download recorded", FWC_AGENT_IDLE);
	if (!ctx->have_offer || !same_download(d, &ctx->offer))
		/* the offer (root kind, sources) lives in RAM: check-in brings it back */
		return fail(ctx, FWC_ERR_STATE, "download needs its offer", FWC_AGENT_IDLE);
	if (d->verified >= d->image.size)
		return FWC_AGENT_VERIFY;

	/* Progress is committed only every FWC_AGENT_PROGRESS_BYTES: this session continues from
	 * what it verified itself, a reset from the record (re-fetching what it lost). */
	pos = d->verified;
	if (ctx->progress > pos && ctx->progress < d->image.size)
		pos = ctx->progress;
	if (pos % ctx->erase_unit != 0 && pos != ctx->clean_pos) {
		/* pos lies inside an erase unit (units larger than leaves) whose rest this
		 * session has not just left erased: a reset or a failed attempt may have
		 * programmed it, and flash cannot be programmed twice. Restart at the unit's
		 * start, which gets erased again; move the recorded progress back first, so the
		 * record never claims bytes that are about to be erased. */
		pos -= pos % ctx->erase_unit;
		prepare(ctx)->download.verified = pos;
		if ((rc = commit(ctx)) < 0)
			return fail(ctx, rc, "cannot rewind download", FWC_AGENT_IDLE);
		d = &ctx->store.cur.download;
		ctx->progress = pos;
	}
	rc = dag_locate(ctx, &leaf, &blame, pos);
	if (rc == FWC_OK)
		rc = fetch_leaf(ctx, &blame, d->slot, &leaf, pos);
	ctx->clean_pos = UINT64_MAX;
	if (rc < 0 && blame == BLAME_LOCAL)
		return fail(ctx, rc, "download storage failure", FWC_AGENT_IDLE);
	if (rc < 0 && blame == BLAME_CONTENT) {
		/* a block that matched its signed CID: the release itself cannot be installed */
		fwc_port_log(ctx->port, FWC_LOG_WARN, "image DAG refused", rc, (int64_t)pos);
		ctx->last_err = rc;
		return abandon(ctx, FWC_AGENT_EV_REFUSED, FWC_AGENT_REFUSE_CONTENT, rc);
	}
	if (rc < 0)
		return source_failed(ctx, rc);

	ctx->chunk_failures = 0;
	end = leaf.start + leaf.size;
	ctx->progress = end;
	if (end == d->image.size || end >= d->verified + PROGRESS_BYTES) {
		/* the port syncs the slot before the record claims its bytes */
		prepare(ctx)->download.verified = end;
		if ((rc = commit(ctx)) < 0)
			return fail(ctx, rc, "cannot record download progress", FWC_AGENT_IDLE);
	}
	ctx->clean_pos = end;
	return end == d->image.size ? FWC_AGENT_VERIFY : FWC_AGENT_DOWNLOAD;
}

static enum fwc_agent_state step_verify(struct fwc_agent *ctx)
{
	const struct fwc_agent_download *d = &ctx->store.cur.download;
	struct fwc_agent_record *n;
	uint64_t counter;
	uint32_t m;
	int err;

	if (!d->active || d->verified != d->image.size)
		return fail(ctx, FWC_ERR_STATE, "no complete download", FWC_AGENT_IDLE);
	m = slot_matches(ctx, &err, d->slot, &d->image);
	if (m == FWC_AGENT_MATCH)
		return FWC_AGENT_INSTALL;
	if (err < 0)
		/* a read failure proves nothing about the image: try again later */
		return fail(ctx, err, "cannot read image back", FWC_AGENT_IDLE);
	n = prepare(ctx);
	counter = n->download.image.counter;
	memset(&n->download, 0, sizeof(n->download));
	fwc_agent_record_push_event(n, FWC_AGENT_EV_VERIFY_FAILED, FWC_AGENT_REASON_HASH,
	                            FWC_ERR_HASH_MISMATCH, counter, now_or_zero(ctx));
	ctx->have_offer = 0;
	if (commit(ctx) < 0)
		return fail(ctx, FWC_ERR_IO, "cannot record failed verification", FWC_AGENT_IDLE);
	return fail(ctx, FWC_ERR_HASH_MISMATCH, "image in slot does not match", FWC_AGENT_REPORT);
}

static enum fwc_agent_state step_install(struct fwc_agent *ctx)
{
	const struct fwc_agent_download *d = &ctx->store.cur.download;
	struct fwc_agent_record *n;
	int rc;

	if (!d->active || d->verified != d->image.size)
		return fail(ctx, FWC_ERR_STATE, "nothing to install", FWC_AGENT_IDLE);
	n = prepare(ctx);
	n->pending_slot = d->slot;
	n->pending = d->image;
	n->boot_attempts = 0;
	memset(&n->download, 0, sizeof(n->download));
	if ((rc = commit(ctx)) < 0)
		return fail(ctx, rc, "cannot mark image pending", FWC_AGENT_IDLE);
	ctx->have_offer = 0;
	fwc_port_log(ctx->port, FWC_LOG_INFO, "image pending, rebooting",
	             ctx->store.cur.pending_slot, (int64_t)ctx->store.cur.pending.counter);
	return FWC_AGENT_REBOOT;
}

/* ---- after the reset --------------------------------------------------------------------- */

static enum fwc_agent_state step_boot_check(struct fwc_agent *ctx)
{
	const struct fwc_agent_record *r = &ctx->store.cur;
	volatile int health;

	if (r->pending_slot == FWC_SLOT_NONE || ctx->running_slot != r->pending_slot)
		return resume_state(ctx);
	health = fwc_port_health_check(ctx->port, ctx->running_slot);
	if (health == FWC_PORT_HEALTHY) {
		if (health == FWC_PORT_HEALTHY)
			return FWC_AGENT_CONFIRM;
	}
	ctx->last_err = health < 0 ? health : FWC_ERR_STATE;
	fwc_port_log(ctx->port, FWC_LOG_WARN, "health check failed", r->boot_attempts, health);
	if (r->boot_attempts >= FWC_AGENT_MAX_BOOT_ATTEMPTS) {
		ctx->rollback_reason = FWC_AGENT_REASON_HEALTH;
		ctx->rollback_code = ctx->last_err;
		return FWC_AGENT_ROLLBACK;
	}
	return FWC_AGENT_REBOOT; /* the boot selection counts the next trial */
}

static enum fwc_agent_state step_confirm(struct fwc_agent *ctx)
{
	const struct fwc_agent_record *r = &ctx->store.cur;
	struct fwc_agent_record *n;
	int rc;

	if (r->pending_slot == FWC_SLOT_NONE || ctx->running_slot != r->pending_slot)
		return resume_state(ctx);
	n = prepare(ctx);
	n->active_slot = n->pending_slot;
	n->active = n->pending;
	/* the only place the floor rises: the new image runs and passed its health check */
	if (n->pending.counter > n->floor)
		n->floor = n->pending.counter;
	n->pending_slot = FWC_SLOT_NONE;
	memset(&n->pending, 0, sizeof(n->pending));
	n->boot_attempts = 0;
	fwc_agent_record_push_event(n, FWC_AGENT_EV_CONFIRMED, FWC_AGENT_REASON_NONE, FWC_OK,
	                            n->active.counter, now_or_zero(ctx));
	if ((rc = commit(ctx)) < 0)
		return fail(ctx, rc, "cannot confirm", FWC_AGENT_IDLE);
	fwc_port_log(ctx->port, FWC_LOG_INFO, "image confirmed", ctx->store.cur.active_slot,
	             (int64_t)ctx->store.cur.floor);
	return FWC_AGENT_REPORT;
}

static enum fwc_agent_state step_rollback(struct fwc_agent *ctx)
{
	int rc;

	if (ctx->store.cur.pending_slot == FWC_SLOT_NONE)
		return resume_state(ctx);
	if ((rc = record_rollback(ctx, ctx->rollback_reason, ctx->rollback_code)) < 0)
		return fail(ctx, rc, "cannot record rollback", FWC_AGENT_IDLE);
	/* still running the abandoned image: reset into the confirmed one */
	return ctx->running_slot != ctx->store.cur.active_slot ? FWC_AGENT_REBOOT
	                                                       : FWC_AGENT_REPORT;
}

static enum fwc_agent_state step_report(struct fwc_agent *ctx)
{
	int rc;

	ctx->dag.valid = 0; /* the report uses the buffer of the download's node */
	if (ctx->store.cur.event_count == 0)
		return FWC_AGENT_IDLE;
	if ((rc = fwc_agent_hook_report(ctx)) < 0)
		ctx->last_err = rc;
	return FWC_AGENT_IDLE;
}

static enum fwc_agent_state after_checkin_failure(struct fwc_agent *ctx, int rc)
{
	ctx->last_err = rc;
	return ctx->store.cur.event_count ? FWC_AGENT_REPORT : FWC_AGENT_IDLE;
}

enum fwc_agent_state fwc_agent_step(struct fwc_agent *ctx)
{
	enum fwc_agent_state next;
	int rc;

	if (ctx == NULL)
		return FWC_AGENT_IDLE;
	if (ctx->halted) {
		ctx->last_err = FWC_ERR_STATE;
		return FWC_AGENT_REBOOT;
	}
	ctx->last_err = FWC_OK;
	/* the library code the steps run hashes and verifies through this device's port */
	(void)fwc_agent_crypto_bind(ctx->port);
	switch (ctx->state) {
	case FWC_AGENT_IDLE:
		next = resume_state(ctx);
		if (next == FWC_AGENT_IDLE)
			next = FWC_AGENT_CHECKIN;
		break;
	case FWC_AGENT_CHECKIN:
		ctx->dag.valid = 0; /* the check-in buffer is about to change */
		rc = fwc_agent_hook_checkin(ctx);
		next = rc < 0 ? after_checkin_failure(ctx, rc) : FWC_AGENT_DECIDE;
		break;
	case FWC_AGENT_DECIDE:
		rc = fwc_agent_hook_decide(ctx);
		if (rc == FWC_OK)
			rc = accept_offer(ctx);
		ctx->have_verified = 0;
		next = rc < 0 ? after_checkin_failure(ctx, rc) : FWC_AGENT_DOWNLOAD;
		break;
	case FWC_AGENT_DOWNLOAD:
		next = step_download(ctx);
		break;
	case FWC_AGENT_VERIFY:
		next = step_verify(ctx);
		break;
	case FWC_AGENT_INSTALL:
		next = step_install(ctx);
		break;
	case FWC_AGENT_REBOOT:
		fwc_port_log(ctx->port, FWC_LOG_INFO, "reboot", ctx->running_slot, 0);
		fwc_port_reboot(ctx->port);
		/* only a simulating port gets here: this context is now dead */
		ctx->halted = 1;
		next = FWC_AGENT_REBOOT;
		break;
	case FWC_AGENT_BOOT_CHECK:
		next = step_boot_check(ctx);
		break;
	case FWC_AGENT_CONFIRM:
		next = step_confirm(ctx);
		break;
	case FWC_AGENT_ROLLBACK:
		next = step_rollback(ctx);
		break;
	case FWC_AGENT_REPORT:
		next = step_report(ctx);
		break;
	default:
		next = fail(ctx, FWC_ERR_STATE, "unknown state", FWC_AGENT_IDLE);
		break;
	}
	ctx->state = (uint8_t)next;
	return next;
}

enum fwc_agent_state fwc_agent_state(const struct fwc_agent *ctx)
{
	return ctx != NULL ? (enum fwc_agent_state)ctx->state : FWC_AGENT_IDLE;
}

int fwc_agent_last_error(const struct fwc_agent *ctx)
{
	return ctx != NULL ? ctx->last_err : FWC_ERR_ARG;
}

const struct fwc_agent_record *fwc_agent_record(const struct fwc_agent *ctx)
{
	return ctx != NULL ? &ctx->store.cur : NULL;
}

#ifdef FWC_AGENT_TEST_ENTRY
int fwc_agent_test_offer(struct fwc_agent *ctx, const struct fwc_agent_offer *offer)
{
	int rc;

	if (ctx == NULL || offer == NULL)
		return FWC_ERR_ARG;
	if (ctx->halted || ctx->state != FWC_AGENT_IDLE)
		return FWC_ERR_STATE;
	if (offer != &ctx->offer)
		ctx->offer = *offer;
	ctx->have_verified = 0; /* nothing verified: the record's checkpoint stays */
	if ((rc = accept_offer(ctx)) < 0)
		return rc;
	ctx->state = FWC_AGENT_DOWNLOAD;
	return FWC_OK;
}
#endif
