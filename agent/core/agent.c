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
 * trial image active.
 *
 * Security decisions (image hash matches, health check passed) compare against distinct
 * non-zero values and are checked twice before the agent acts (STYLE.md, as in mcuboot). */
#include "fwagent/agent.h"

#include <string.h>

#include "crypto.h"
#include "hooks.h"
#include "slots.h"
#include "util.h"

FWC_STATIC_ASSERT(context_fits, sizeof(struct fwc_agent) <= FWC_AGENT_CONTEXT_MAX);
FWC_STATIC_ASSERT(block_pow2, FWC_AGENT_BLOCK_SIZE >= 64 &&
                                  (FWC_AGENT_BLOCK_SIZE & (FWC_AGENT_BLOCK_SIZE - 1)) == 0);
FWC_STATIC_ASSERT(chunk_blocks, FWC_AGENT_MAX_CHUNK_SIZE % FWC_AGENT_BLOCK_SIZE == 0);
FWC_STATIC_ASSERT(chunks_bound, FWC_AGENT_MAX_CHUNKS >= 1 && FWC_AGENT_MAX_CHUNKS <= 65535);
FWC_STATIC_ASSERT(sources_bound, FWC_AGENT_MAX_SOURCES >= 1 && FWC_AGENT_MAX_SOURCES <= 255);
FWC_STATIC_ASSERT(url_bound, FWC_AGENT_URL_MAX >= 8 && FWC_AGENT_URL_MAX <= 65535);
FWC_STATIC_ASSERT(rounds_bound, FWC_AGENT_SOURCE_ROUNDS >= 1 &&
                                    FWC_AGENT_SOURCE_ROUNDS * FWC_AGENT_MAX_SOURCES <= 255);
FWC_STATIC_ASSERT(attempts_bound,
                  FWC_AGENT_MAX_BOOT_ATTEMPTS >= 1 && FWC_AGENT_MAX_BOOT_ATTEMPTS <= 254);

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
	uint64_t csize = o->chunk_size;

	if (o->counter <= ctx->store.cur.floor)
		return FWC_ERR_RANGE; /* rollback protection */
	if (o->size == 0 || csize == 0 || csize % FWC_AGENT_BLOCK_SIZE != 0 ||
	    csize > FWC_AGENT_MAX_CHUNK_SIZE)
		return FWC_ERR_MALFORMED;
	if (o->size > ctx->slot_size[slot])
		return FWC_ERR_TOO_LARGE;
	if (o->chunk_count == 0 || o->chunk_count > FWC_AGENT_MAX_CHUNKS)
		return FWC_ERR_TOO_LARGE;
	if ((uint64_t)(o->chunk_count - 1) * csize >= o->size ||
	    (uint64_t)o->chunk_count * csize < o->size)
		return FWC_ERR_MALFORMED;
	/* a restart point must be both a chunk and an erase-unit boundary */
	if (csize % ctx->erase_unit != 0 && ctx->erase_unit % csize != 0)
		return FWC_ERR_UNSUPPORTED;
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

/* Fetch chunk [pos, pos + len) from the current source, programming each block into slot and
 * hashing it on the way. *local is set when a failure is the device's own (storage, hash
 * engine) rather than the source's. digest is written on FWC_OK. */
static int fetch_chunk(struct fwc_agent *ctx, uint8_t digest[32], int *local, uint8_t slot,
                       uint64_t pos, uint64_t len)
{
	const struct fwc_agent_source *src = &ctx->offer.sources[ctx->source];
	uint64_t t0 = fwc_port_uptime_ms(ctx->port);
	uint8_t out[32];
	int rc, rc2;

	*local = 1;
	if ((rc = fwc_port_sha256_init(ctx->port, &ctx->hash)) < 0)
		return rc;
	for (uint64_t done = 0; done < len;) {
		size_t n =
		    len - done < FWC_AGENT_BLOCK_SIZE ? (size_t)(len - done) : FWC_AGENT_BLOCK_SIZE;
		size_t got = 0;
		uint64_t elapsed;

		rc = fwc_port_http_get(ctx->port, ctx->block, n, &got, src->url, src->len,
		                       pos + done);
		if (rc == FWC_OK && got != n)
			rc = FWC_ERR_TRUNCATED;
		if (rc < 0) {
			*local = 0;
			break;
		}
		if ((rc = fwc_agent_slot_program(ctx->port, slot, ctx->slot_size[slot],
		                                 ctx->erase_unit, pos + done, ctx->block, n)) < 0)
			break;
		if ((rc = fwc_port_sha256_update(ctx->port, &ctx->hash, ctx->block, n)) < 0)
			break;
		done += n;
		elapsed = fwc_port_uptime_ms(ctx->port) - t0;
		if (done < len && elapsed > FWC_AGENT_MIN_RATE_GRACE_MS &&
		    done * 1000u / elapsed < FWC_AGENT_MIN_RATE) {
			fwc_port_log(ctx->port, FWC_LOG_WARN, "source below minimum rate",
			             ctx->source, (int64_t)(done * 1000u / elapsed));
			rc = FWC_ERR_IO;
			*local = 0;
			break;
		}
	}
	rc2 = fwc_port_sha256_final(ctx->port, &ctx->hash, out);
	if (rc < 0)
		return rc;
	if (rc2 < 0)
		return rc2;
	memcpy(digest, out, 32);
	return FWC_OK;
}

/* The current source failed the current chunk: fail over, or give the download up. */
static enum fwc_agent_state source_failed(struct fwc_agent *ctx, int err)
{
	struct fwc_agent_record *n;
	uint64_t counter;

	fwc_port_log(ctx->port, FWC_LOG_WARN, "source failed", ctx->source, err);
	ctx->last_err = err;
	ctx->clean_pos = UINT64_MAX; /* the failed attempt may have programmed past pos */
	ctx->chunk_failures++;
	ctx->source = (uint8_t)((ctx->source + 1) % ctx->offer.source_count);
	if (ctx->chunk_failures < ctx->offer.source_count * FWC_AGENT_SOURCE_ROUNDS)
		return FWC_AGENT_DOWNLOAD;
	n = prepare(ctx);
	counter = n->download.image.counter;
	memset(&n->download, 0, sizeof(n->download));
	fwc_agent_record_push_event(n, FWC_AGENT_EV_DOWNLOAD_FAILED, FWC_AGENT_REASON_NONE, err,
	                            counter, now_or_zero(ctx));
	ctx->have_offer = 0;
	if (commit(ctx) < 0)
		return FWC_AGENT_IDLE;
	return FWC_AGENT_REPORT;
}

static enum fwc_agent_state step_download(struct fwc_agent *ctx)
{
	const struct fwc_agent_download *d = &ctx->store.cur.download;
	uint64_t pos, len, chunk;
	uint8_t digest[32];
	volatile uint32_t m;
	int rc, local;

	if (!d->active)
		return fail(ctx, FWC_ERR_STATE, "no download recorded", FWC_AGENT_IDLE);
	if (!ctx->have_offer || !same_download(d, &ctx->offer))
		/* the offer (sources, chunk digests) lives in RAM: check-in brings it back */
		return fail(ctx, FWC_ERR_STATE, "download needs its offer", FWC_AGENT_IDLE);
	if (d->verified >= d->image.size)
		return FWC_AGENT_VERIFY;

	pos = d->verified;
	if (pos % ctx->erase_unit != 0 && pos != ctx->clean_pos) {
		/* pos lies inside an erase unit (units larger than chunks) whose rest this
		 * session has not just left erased: a reset or a failed attempt may have
		 * programmed it, and flash cannot be programmed twice. Restart at the unit's
		 * start, which gets erased again; move the recorded progress back first, so the
		 * record never claims bytes that are about to be erased. */
		pos -= pos % ctx->erase_unit;
		prepare(ctx)->download.verified = pos;
		if ((rc = commit(ctx)) < 0)
			return fail(ctx, rc, "cannot rewind download", FWC_AGENT_IDLE);
		d = &ctx->store.cur.download;
	}
	chunk = pos / ctx->offer.chunk_size;
	len = d->image.size - pos < ctx->offer.chunk_size ? d->image.size - pos
	                                                  : ctx->offer.chunk_size;
	rc = fetch_chunk(ctx, digest, &local, d->slot, pos, len);
	ctx->clean_pos = UINT64_MAX;
	if (rc < 0 && local)
		return fail(ctx, rc, "download storage failure", FWC_AGENT_IDLE);
	if (rc < 0)
		return source_failed(ctx, rc);
	m = fwc_ct_match(digest, ctx->offer.chunk_sha256[chunk], 32);
	if (m != FWC_AGENT_MATCH)
		return source_failed(ctx, FWC_ERR_HASH_MISMATCH);
	m = fwc_ct_match(digest, ctx->offer.chunk_sha256[chunk], 32);
	if (m != FWC_AGENT_MATCH)
		return source_failed(ctx, FWC_ERR_HASH_MISMATCH);

	ctx->chunk_failures = 0;
	prepare(ctx)->download.verified = pos + len;
	if ((rc = commit(ctx)) < 0)
		return fail(ctx, rc, "cannot record download progress", FWC_AGENT_IDLE);
	ctx->clean_pos = pos + len;
	return pos + len == d->image.size ? FWC_AGENT_VERIFY : FWC_AGENT_DOWNLOAD;
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
