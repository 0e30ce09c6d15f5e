/* REPORT: the queued device events, each signed with the device key and sent to the ledger as
 * a DEVICE_EVENT transaction of the device itself (docs/state-machine.md §4.14: a device key
 * may send transactions of this type only, with its own events).
 *
 * Each event's body goes, in the self-reported form (docs/formats/payloads.md, payload field 2:
 * the body without an event signature), into a transaction whose sender is the device key,
 * signed over tagged_hash("fwchain/tx/v1", body): that one signature, from
 * fwc_port_device_sign so the key never leaves the port, is the device's signature over the
 * event too, and the node checks one signature per event instead of two. (A gateway relaying
 * for a device needs the signed event object instead; this agent talks to the ledger itself.)
 * An event leaves the queue only when the node accepted its transaction, in the same commit
 * that advances the transaction nonce.
 *
 * Main design choice: the nonce. The ledger wants exactly last + 1 per sender. The record keeps
 * the next nonce; a node that answers "nonce_replay" (an earlier report was accepted but its
 * commit was lost to a reset) or "nonce_gap" (an accepted transaction was lost from a mempool)
 * moves it, to the value its message names when it names one, else by one, and the event is
 * sent again. The event's own sequence number never changes, and the ledger refuses an event
 * sequence number twice, so a resent event cannot be recorded twice. */
#include "hooks.h"

#include <string.h>

#include "crypto.h"
#include "fwchain/hex.h"
#include "fwchain/payload.h"
#include "fwchain/sha256.h"
#include "fwchain/tx.h"
#include "util.h"

/* Regions of ctx->buf for one report. */
enum {
	R_BODY = 0,       /* the event body */
	R_PAYLOAD = 1152, /* the device-event payload */
	R_TXBODY = 1792,  /* the transaction body */
	R_TX = 2560,      /* the signed transaction */
	R_RESP = 3584,    /* the node's answer */
	R_END = 4096
};
FWC_STATIC_ASSERT(report_room, R_END <= FWC_AGENT_BUNDLE_MAX);

/* Posts per report step, nonce corrections included: the queue, and a few retries. */
#define MAX_POSTS (FWC_AGENT_EVENT_QUEUE + 4)

static const char *const type_names[] = {
    "?", "confirmed", "rolled_back", "download_failed", "verify_failed", "record_reset", "refused"};
static const char *const rollback_reasons[] = {"",     "health",     "attempts",
                                               "hash", "not_booted", "storage"};

struct text {
	char *p;
	size_t cap, len;
};

static void put(struct text *t, const char *s)
{
	while (*s != '\0' && t->len + 1 < t->cap)
		t->p[t->len++] = *s++;
	t->p[t->len] = '\0';
}

static void put_int(struct text *t, int64_t v)
{
	char d[21];

	if (v < 0) {
		put(t, "-");
		v = -v;
	}
	if (fwc_dec_encode(d, sizeof(d), NULL, (uint64_t)v) == FWC_OK)
		put(t, d);
}

/* The ledger's kind of a record event (payload.h enum fwc_event_kind). */
static uint64_t event_kind(uint8_t type)
{
	switch (type) {
	case FWC_AGENT_EV_CONFIRMED:
		return FWC_EVENT_CONFIRMED;
	case FWC_AGENT_EV_ROLLED_BACK:
		return FWC_EVENT_ROLLED_BACK;
	case FWC_AGENT_EV_RECORD_RESET:
		return FWC_EVENT_VENDOR_MIN; /* 64: "the device's record was reset" */
	default:
		return FWC_EVENT_FAILED; /* downloads, verifications and refusals that failed */
	}
}

/* "<type>[ <reason>][ <code>][ dropped <n>]", e.g. "refused quorum -20". */
static void event_detail(struct text *t, const struct fwc_agent_event *ev, uint32_t dropped)
{
	put(t, ev->type < sizeof(type_names) / sizeof(type_names[0]) ? type_names[ev->type] : "?");
	if (ev->type == FWC_AGENT_EV_REFUSED) {
		put(t, " ");
		put(t, fwc_agent_refusal_name(ev->reason));
	} else if (ev->reason != 0 &&
	           ev->reason < sizeof(rollback_reasons) / sizeof(rollback_reasons[0])) {
		put(t, " ");
		put(t, rollback_reasons[ev->reason]);
	}
	if (ev->code != 0) {
		put(t, " ");
		put_int(t, ev->code);
	}
	if (dropped != 0) {
		put(t, " dropped ");
		put_int(t, dropped);
	}
}

/* The signed transaction reporting ev with nonce into ctx->buf + R_TX; *len gets its size. */
static int build_tx(struct fwc_agent *ctx, size_t *len, const struct fwc_agent_event *ev,
                    uint64_t nonce)
{
	const struct fwc_agent_trust *t = ctx->prov->trust;
	uint8_t *b = ctx->buf, digest[32], sig[64];
	char detail[96];
	struct text dt = {detail, sizeof(detail), 0};
	struct fwc_event e;
	struct fwc_pl_device_event pl;
	struct fwc_tx tx;
	size_t blen = 0, plen = 0, tlen = 0;
	uint64_t now = 0;
	int rc;

	memset(&e, 0, sizeof(e));
	e.device.alg = FWC_ALG_BIP340;
	if ((rc = fwc_port_device_pubkey(ctx->port, e.device.key)) < 0)
		return rc;
	e.seq = (uint64_t)ev->seq + 1; /* the ledger's sequence numbers start at 1 */
	e.time = ev->time;
	e.kind = event_kind(ev->type);
	e.has_counter = ev->counter != 0;
	e.counter = ev->counter;
	event_detail(&dt, ev, ctx->store.cur.events_dropped);
	e.detail.p = detail;
	e.detail.len = dt.len;
	if ((rc = fwc_event_body_encode(b + R_BODY, R_PAYLOAD - R_BODY, &blen, &e)) < 0)
		return rc;
	memset(&pl, 0, sizeof(pl));
	pl.body.p = b + R_BODY;
	pl.body.len = blen;
	if ((rc = fwc_pl_device_event_encode(b + R_PAYLOAD, R_TXBODY - R_PAYLOAD, &plen, &pl)) < 0)
		return rc;

	/* The transaction's time must be within a day of the block's: the clock, or without
	 * one the newest checkpoint the device accepted. */
	if (!fwc_port_clock_now(ctx->port, &now))
		now = ctx->store.cur.checkpoint.time;
	memset(&tx, 0, sizeof(tx));
	tx.type = FWC_TX_DEVICE_EVENT;
	tx.chain_id.p = t->chain_id;
	tx.chain_id.len = t->chain_id_len;
	tx.sender = e.device;
	tx.nonce = nonce;
	tx.time = now;
	tx.payload.p = b + R_PAYLOAD;
	tx.payload.len = plen;
	if ((rc = fwc_tx_encode_body(b + R_TXBODY, R_TX - R_TXBODY, &tlen, &tx, NULL)) < 0 ||
	    (rc = fwc_tx_digest(digest, b + R_TXBODY, tlen)) < 0 ||
	    (rc = fwc_port_device_sign(ctx->port, sig, digest)) < 0)
		return rc;
	return fwc_tx_encode_signed(b + R_TX, R_RESP - R_TX, len, b + R_TXBODY, tlen, sig);
}

/* 1 when the answer a[0..n) contains s. */
static int has(const uint8_t *a, size_t n, const char *s)
{
	size_t k = 0;

	while (s[k] != '\0')
		k++;
	for (size_t i = 0; i + k <= n; i++)
		if (memcmp(a + i, s, k) == 0)
			return 1;
	return 0;
}

/* The nonce a refusal's message names ("... the next is N"), or 0. */
static uint64_t named_nonce(const uint8_t *a, size_t n)
{
	static const char key[] = "next is ";
	const size_t k = sizeof(key) - 1;

	for (size_t i = 0; i + k < n; i++) {
		uint64_t v = 0;
		size_t j = i + k;

		if (memcmp(a + i, key, k) != 0)
			continue;
		for (; j < n && a[j] >= '0' && a[j] <= '9' && v < UINT64_MAX / 10 - 1; j++)
			v = v * 10 + (uint64_t)(a[j] - '0');
		return j > i + k ? v : 0;
	}
	return 0;
}

/* Commit the nonce to use next (and, when reported, the oldest event's removal). */
static int advance(struct fwc_agent *ctx, uint64_t next_nonce, int reported)
{
	struct fwc_agent_record *n = &ctx->next;

	*n = ctx->store.cur;
	n->tx_nonce = next_nonce;
	if (reported) {
		fwc_agent_record_pop_event(n);
		n->events_dropped = 0; /* they were named in this event's detail */
	}
	return fwc_agent_store_commit(&ctx->store, n);
}

int fwc_agent_hook_report(struct fwc_agent *ctx)
{
	const struct fwc_agent_provision *p;
	struct {
		char *p;
		size_t cap, len;
	} u;
	int rc = FWC_OK;

	if (ctx == NULL)
		return FWC_ERR_ARG;
	p = ctx->prov;
	if (p == NULL || p->trust == NULL || p->node_url == NULL || p->node_url_len == 0)
		return FWC_ERR_STATE; /* not provisioned: events stay queued */
	u.p = ctx->url;
	u.cap = sizeof(ctx->url);
	if (p->node_url_len + 8 > u.cap)
		return FWC_ERR_TOO_LARGE;
	memcpy(u.p, p->node_url, p->node_url_len);
	memcpy(u.p + p->node_url_len, "/v1/txs", 7);
	u.len = p->node_url_len + 7;

	for (int posts = 0; ctx->store.cur.event_count > 0 && posts < MAX_POSTS; posts++) {
		uint64_t nonce = ctx->store.cur.tx_nonce ? ctx->store.cur.tx_nonce : 1, hint;
		size_t len = 0, rlen = 0;
		int status = 0;

		if ((rc = build_tx(ctx, &len, &ctx->store.cur.events[0], nonce)) < 0)
			return rc;
		rc = fwc_port_http_post(ctx->port, ctx->buf + R_RESP, R_END - R_RESP, &rlen,
		                        &status, u.p, u.len, ctx->buf + R_TX, len);
		if (rc == FWC_OK || status == 409) {
			/* accepted (409: these very bytes were accepted before) */
			if ((rc = advance(ctx, nonce + 1, 1)) < 0)
				return rc;
			continue;
		}
		if (status != 400) {
			/* no answer, the node is unwell, or it refuses the sender (403: the device
			 * is not registered, or retired): the events stay queued */
			fwc_port_log(ctx->port, FWC_LOG_WARN, "event report not taken", status, rc);
			return rc < 0 ? rc : FWC_ERR_IO;
		}
		hint = named_nonce(ctx->buf + R_RESP, rlen);
		if (has(ctx->buf + R_RESP, rlen, "\"nonce_replay\"")) {
			rc = advance(ctx, hint > nonce ? hint : nonce + 1, 0);
		} else if (has(ctx->buf + R_RESP, rlen, "\"nonce_gap\"")) {
			rc = advance(
			    ctx, hint != 0 && hint < nonce ? hint : (nonce > 1 ? nonce - 1 : 1), 0);
		} else {
			/* refused for a reason the device cannot repair (not registered, ...): the
			 * events stay queued, the next report tries again */
			fwc_port_log(ctx->port, FWC_LOG_WARN, "event report refused", status,
			             (int64_t)nonce);
			return FWC_ERR_PERMISSIONS;
		}
		if (rc < 0)
			return rc;
		fwc_port_log(ctx->port, FWC_LOG_INFO, "event nonce corrected",
		             (int64_t)ctx->store.cur.tx_nonce, (int64_t)nonce);
	}
	return ctx->store.cur.event_count == 0 ? FWC_OK : FWC_ERR_STATE;
}
