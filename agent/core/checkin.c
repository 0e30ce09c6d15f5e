/* CHECKIN and DECIDE: ask a node for the newest release, verify its proof bundle completely
 * (verify.c), turn the verified release into a download offer (the signed root CID, size and
 * SHA-256, and the sources to fetch blocks from), and apply the device's own policy to it.
 *
 * Main design choice: nothing the node or the gateway says is used before it is checked against
 * something signed. The bundle is verified against the provisioned trust anchors; the UnixFS
 * root block is fetched from the (untrusted) sources and used only after its SHA-256 matched
 * the CID the release keys signed; the download then checks every block of the DAG against the
 * CID its verified parent names, and the whole image against the signed SHA-256. A refusal of
 * anything signed is committed as a REFUSED event with its reason; a transport failure (no
 * answer, no source sending the right root block) is only an error, and the next check-in
 * tries again.
 *
 * The transport details of a check-in (the request URL and the shape of the answer) are in
 * checkin_request() and answer_kind() alone. */
#include "hooks.h"

#include <string.h>

#include "crypto.h"
#include "dag.h"
#include "fwchain/cid.h"
#include "fwchain/hex.h"
#include "fwchain/sha256.h"
#include "slots.h"
#include "util.h"

FWC_STATIC_ASSERT(url_room, FWC_AGENT_REQUEST_URL_MAX >= 128);

/* ---- building URLs ------------------------------------------------------------------------ */

struct ub {
	char *p;
	size_t cap, len;
	int overflow;
};

static void ub_put(struct ub *u, const char *s, size_t n)
{
	if (u->overflow || n > u->cap - u->len) {
		u->overflow = 1;
		return;
	}
	memcpy(u->p + u->len, s, n);
	u->len += n;
}

static void ub_str(struct ub *u, const char *s)
{
	size_t n = 0;

	while (s[n] != '\0')
		n++;
	ub_put(u, s, n);
}

/* s[0..n) percent-encoded: everything but RFC 3986's unreserved characters. */
static void ub_escaped(struct ub *u, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		char e[3];

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '.' || c == '_' || c == '~') {
			ub_put(u, (const char *)&s[i], 1);
			continue;
		}
		e[0] = '%';
		e[1] = hex[c >> 4];
		e[2] = hex[c & 15];
		ub_put(u, e, 3);
	}
}

static void ub_dec(struct ub *u, uint64_t v)
{
	char d[21];
	size_t n = 0;

	if (fwc_dec_encode(d, sizeof(d), &n, v) == FWC_OK)
		ub_put(u, d, n);
	else
		u->overflow = 1;
}

/* Add base[0..len) as the next download source of o (ignored when it is empty, too long or
 * the list is full). */
static void add_source(struct fwc_agent_offer *o, const char *base, size_t len)
{
	struct fwc_agent_source *src;

	if (base == NULL || len == 0 || len > FWC_AGENT_URL_MAX ||
	    o->source_count >= FWC_AGENT_MAX_SOURCES)
		return;
	src = &o->sources[o->source_count++];
	memcpy(src->url, base, len);
	src->len = (uint16_t)len;
}

/* "<base>/ipfs/<cid text>?format=raw" into u. */
static void ub_block_url(struct ub *u, const struct fwc_agent_source *src,
                         const struct fwc_cid *cid)
{
	char text[FWC_CID_STR_MAX];

	ub_put(u, src->url, src->len);
	ub_str(u, "/ipfs/");
	if (fwc_cid_format(text, sizeof(text), cid) != FWC_OK)
		u->overflow = 1;
	else
		ub_str(u, text);
	ub_str(u, "?format=raw");
}

/* ---- the check-in transport ---------------------------------------------------------------- */

/* Send the check-in and receive the answer into ctx->buf; *len gets its length.
 *   GET <node>/v1/updates?product=P&channel=C&hw=H&counter=N&device=bip340:<64 hex>
 * (docs/agent.md, "Check-in"). N is the floor (the counter of the newest confirmed release) or,
 * when higher, the counter of the newest release rolled back here: only newer ones are wanted. */
static int checkin_request(struct fwc_agent *ctx, size_t *len)
{
	const struct fwc_agent_provision *p = ctx->prov;
	struct ub u = {ctx->url, sizeof(ctx->url), 0, 0};
	uint8_t pub[32];
	char hex[65];
	size_t got = 0;
	int rc;

	if ((rc = fwc_port_device_pubkey(ctx->port, pub)) < 0)
		return rc;
	if (fwc_hex_encode(hex, sizeof(hex), pub, 32) != FWC_OK)
		return FWC_ERR_STATE;
	ub_put(&u, p->node_url, p->node_url_len);
	ub_str(&u, "/v1/updates?product=");
	ub_escaped(&u, p->id.product, p->id.product_len);
	ub_str(&u, "&channel=");
	ub_escaped(&u, p->id.channel, p->id.channel_len);
	ub_str(&u, "&hw=");
	ub_escaped(&u, p->id.hwid, p->id.hwid_len);
	ub_str(&u, "&counter=");
	ub_dec(&u, ctx->store.cur.abandoned > ctx->store.cur.floor ? ctx->store.cur.abandoned
	                                                           : ctx->store.cur.floor);
	ub_str(&u, "&device=bip340:");
	ub_put(&u, hex, 64);
	if (u.overflow)
		return FWC_ERR_TOO_LARGE;
	rc = fwc_port_http_get(ctx->port, ctx->buf, sizeof(ctx->buf), &got, u.p, u.len, 0);
	if (rc == FWC_ERR_NOT_FOUND) {
		*len = 0; /* no update, and no checkpoint to go with it */
		return FWC_OK;
	}
	if (rc < 0)
		return rc;
	if (got == sizeof(ctx->buf))
		return FWC_ERR_TOO_LARGE; /* it may go on: never parse a cut answer */
	*len = got;
	return FWC_OK;
}

enum answer {
	ANSWER_BUNDLE = 1, /* a proof bundle: an update is offered */
	ANSWER_NONE = 2,   /* no update; *note is the newest checkpoint (may be absent) */
};

/* What the node answered (docs/node.md, GET /v1/updates): a proof bundle (application/cbor),
 * or, when there is no update, the newest checkpoint note as text (text/plain). The port does
 * not report the content type, so the body tells: a bundle is a CBOR map, whose first byte is
 * 0xa0..0xbb, and a note starts with its origin, valid UTF-8 that never starts with a byte of
 * 0x80..0xbf. An empty body (or a 404) is "no update" without a checkpoint. Whatever the kind,
 * the verifier parses it strictly. */
static enum answer answer_kind(const uint8_t *buf, size_t len, const char **note, size_t *note_len)
{
	*note = NULL;
	*note_len = 0;
	if (len > 0 && buf[0] >= 0xa0 && buf[0] <= 0xbb)
		return ANSWER_BUNDLE;
	if (len > 0) {
		*note = (const char *)buf;
		*note_len = len;
	}
	return ANSWER_NONE;
}

/* ---- the offer ------------------------------------------------------------------------------ */

/* Fill ctx->offer from ctx->verified: the signed root CID, size and SHA-256, and the sources
 * (gateway, mirrors, node). The root block is fetched from the first source that serves one
 * matching the CID and checked: a raw root is the whole image (one leaf, at most
 * FWC_AGENT_MAX_CHUNK_SIZE); a dag-pb root is a leaf, or an interior node of a UnixFS file of
 * the signed size, which then stays in the buffer for the download's first walk. A root too
 * large for the buffer is used unchecked only when it starts like a leaf (the download checks
 * it whole). *reason gets a refusal reason when the signed content is something the agent
 * cannot install (0 for transport errors: no source served the root). */
static int content_offer(struct fwc_agent *ctx, int *reason)
{
	const struct fwc_agent_verified *v = &ctx->verified;
	const struct fwc_agent_provision *p = ctx->prov;
	struct fwc_agent_offer *o = &ctx->offer;
	struct fwc_agent_dag_ref first;
	struct fwc_cid cid;
	uint8_t digest[32];
	volatile uint32_t m;
	int rc, err = FWC_ERR_NOT_FOUND;

	*reason = FWC_AGENT_REFUSE_CONTENT;
	if ((rc = fwc_cid_decode(&cid, NULL, v->cid, v->cid_len, NULL)) < 0)
		return rc;
	if (cid.mh_code != FWC_MH_SHA2_256)
		return FWC_ERR_UNSUPPORTED;
	memset(o, 0, sizeof(*o));
	o->counter = v->counter;
	o->size = v->size;
	memcpy(o->sha256, v->sha256, 32);
	memcpy(o->target, cid.digest, 32);
	o->root_kind = cid.codec == FWC_CID_CODEC_RAW ? FWC_AGENT_CID_RAW
	               : cid.version == 0             ? FWC_AGENT_CID_PB0
	                                              : FWC_AGENT_CID_PB1;
	add_source(o, p->gateway_url, p->gateway_url_len);
	for (size_t i = 0; p->mirrors != NULL && i < p->mirror_count; i++)
		add_source(o, p->mirrors[i].url, p->mirrors[i].len);
	add_source(o, p->node_url, p->node_url_len);
	if (o->source_count == 0)
		return FWC_ERR_STATE;

	if (o->root_kind == FWC_AGENT_CID_RAW) {
		/* the whole image is one block, fetched and checked by the download */
		if (v->size > FWC_AGENT_MAX_CHUNK_SIZE)
			return FWC_ERR_TOO_LARGE;
		*reason = FWC_AGENT_REFUSE_NONE;
		return FWC_OK;
	}

	/* The root block: untrusted until it hashes to the signed CID. */
	*reason = FWC_AGENT_REFUSE_NONE;
	for (unsigned s = 0; s < o->source_count; s++) {
		struct ub u = {ctx->url, sizeof(ctx->url), 0, 0};
		size_t got = 0, hl = 0;
		uint64_t dl = 0, bl = 0;

		ub_block_url(&u, &o->sources[s], &cid);
		if (u.overflow) {
			err = FWC_ERR_TOO_LARGE;
			continue;
		}
		if ((rc = fwc_port_http_get(ctx->port, ctx->buf, sizeof(ctx->buf), &got, u.p, u.len,
		                            0)) < 0) {
			err = rc;
			continue;
		}
		if (got == sizeof(ctx->buf)) {
			if (fwc_agent_dag_leaf_header(&hl, &dl, &bl, ctx->buf, got) == FWC_OK &&
			    bl > got)
				return FWC_OK;   /* a one-leaf image larger than the buffer */
			err = FWC_ERR_TOO_LARGE; /* no root of `ipfs add` is that large */
			continue;
		}
		if ((rc = fwc_sha256(digest, ctx->buf, got)) < 0)
			return rc;
		m = fwc_ct_match(digest, cid.digest, 32);
		if (m != FWC_AGENT_MATCH) {
			err = FWC_ERR_HASH_MISMATCH;
			continue;
		}
		m = fwc_ct_match(digest, cid.digest, 32);
		if (m != FWC_AGENT_MATCH) {
			err = FWC_ERR_HASH_MISMATCH;
			continue;
		}
		/* A verified root: from here on, a shape the agent cannot use is the release's. */
		*reason = FWC_AGENT_REFUSE_CONTENT;
		if (fwc_agent_dag_leaf_header(&hl, &dl, &bl, ctx->buf, got) == FWC_OK) {
			if (bl != got || dl != v->size ||
			    fwc_agent_dag_leaf_trailer(ctx->buf + hl + dl, got - hl - (size_t)dl,
			                               dl) != FWC_OK)
				return FWC_ERR_MALFORMED;
		} else if ((rc = fwc_agent_dag_child(&first, ctx->buf, got, 0, v->size, 0)) < 0) {
			return rc;
		} else {
			/* the download's walk starts from this node, already checked */
			ctx->dag.valid = 1;
			ctx->dag.depth = 1;
			memcpy(ctx->dag.target, cid.digest, 32);
			ctx->dag.start = 0;
			ctx->dag.size = v->size;
			ctx->dag.len = (uint32_t)got;
		}
		*reason = FWC_AGENT_REFUSE_NONE;
		return FWC_OK;
	}
	return err;
}

/* ---- the hooks ------------------------------------------------------------------------------ */

static void verify_input(struct fwc_agent *ctx, struct fwc_agent_verify_in *in)
{
	const struct fwc_agent_record *r = &ctx->store.cur;

	memset(in, 0, sizeof(*in));
	in->trust = ctx->prov->trust;
	in->id = &ctx->prov->id;
	in->accepted = r->checkpoint;
	in->floor = r->floor;
	in->max_size = ctx->slot_size[fwc_agent_slot_other(r->active_slot)];
	in->have_clock = fwc_port_clock_now(ctx->port, &in->now) ? 1 : 0;
}

/* A refusal of something signed: queue the event, and say why in the log. */
static int refused(struct fwc_agent *ctx, int reason, int code, uint64_t counter,
                   const struct fwc_agent_checkpoint *cp)
{
	if (code >= 0)
		code = FWC_ERR_PROOF;
	fwc_port_log(ctx->port, FWC_LOG_WARN, "check-in refused", reason, code);
	(void)fwc_agent_queue_event(ctx, FWC_AGENT_EV_REFUSED, (uint8_t)reason, code, counter, cp);
	return code;
}

int fwc_agent_hook_checkin(struct fwc_agent *ctx)
{
	struct fwc_agent_verify_in in;
	struct fwc_agent_checkpoint cp;
	const char *note;
	size_t len = 0, note_len = 0;
	volatile int r;
	int rc, err = FWC_OK, reason;

	if (ctx == NULL)
		return FWC_ERR_ARG;
	ctx->have_verified = 0;
	if (ctx->prov == NULL || ctx->prov->trust == NULL || ctx->prov->node_url == NULL ||
	    ctx->prov->node_url_len == 0) {
		fwc_port_log(ctx->port, FWC_LOG_DEBUG, "not provisioned for check-in", 0, 0);
		return FWC_ERR_STATE;
	}
	if ((rc = checkin_request(ctx, &len)) < 0) {
		fwc_port_log(ctx->port, FWC_LOG_WARN, "check-in failed", rc, 0);
		return rc;
	}
	verify_input(ctx, &in);
	switch (answer_kind(ctx->buf, len, &note, &note_len)) {
	case ANSWER_NONE:
		if (note == NULL)
			return FWC_ERR_NOT_FOUND;
		r = fwc_agent_verify_checkpoint(&ctx->work, &cp, &err, note, note_len, &in);
		if (r != FWC_AGENT_VERIFIED)
			return refused(ctx, r, err, 0, NULL);
		if (r == FWC_AGENT_VERIFIED)
			(void)fwc_agent_accept_checkpoint(ctx, &cp, 0);
		return FWC_ERR_NOT_FOUND; /* nothing to install */
	default:
		break;
	}
	r = fwc_agent_verify_bundle(&ctx->work, &ctx->verified, &err, ctx->buf, len, &in);
	if (r != FWC_AGENT_VERIFIED)
		return refused(ctx, r, err, 0, NULL);
	if (r != FWC_AGENT_VERIFIED)
		return refused(ctx, FWC_AGENT_REFUSE_MALFORMED, FWC_ERR_STATE, 0, NULL);
	fwc_port_log(ctx->port, FWC_LOG_INFO, "release verified", (int64_t)ctx->verified.counter,
	             (int64_t)ctx->verified.size);
	if ((rc = content_offer(ctx, &reason)) < 0) {
		if (reason != FWC_AGENT_REFUSE_NONE)
			return refused(ctx, reason, rc, ctx->verified.counter,
			               &ctx->verified.checkpoint);
		fwc_port_log(ctx->port, FWC_LOG_WARN, "content root unavailable", rc, 0);
		return rc;
	}
	ctx->have_verified = 1;
	return FWC_OK;
}

int fwc_agent_hook_decide(struct fwc_agent *ctx)
{
	const struct fwc_agent_verified *v;
	uint64_t now = 0;

	if (ctx == NULL)
		return FWC_ERR_ARG;
	if (!ctx->have_verified)
		return FWC_ERR_STATE;
	v = &ctx->verified;
	/* The policy the manifest names. The chain verified, so its checkpoint is recorded with
	 * the refusal. */
	if (v->has_encryption) {
		ctx->have_verified = 0;
		return refused(ctx, FWC_AGENT_REFUSE_ENCRYPTED, FWC_ERR_UNSUPPORTED, v->counter,
		               &v->checkpoint);
	}
	if (v->has_licence) {
		ctx->have_verified = 0;
		return refused(ctx, FWC_AGENT_REFUSE_LICENCE, FWC_ERR_PERMISSIONS, v->counter,
		               &v->checkpoint);
	}
	if (v->has_not_before && fwc_port_clock_now(ctx->port, &now) && now < v->not_before) {
		/* postponed, not refused: the same release is offered again later */
		ctx->have_verified = 0;
		fwc_port_log(ctx->port, FWC_LOG_INFO, "release not before", (int64_t)v->not_before,
		             (int64_t)now);
		return FWC_ERR_RANGE;
	}
	return FWC_OK;
}
