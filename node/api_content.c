/* fwchaind content endpoints: the gateway, uploads, pins, GC, status (api_content.h).
 *
 * Design: the gateway handler only translates. node_gw_plan (node/gateway.c) decides the whole
 * answer first — status, headers, and the body as literal bytes plus ranges of stored block
 * files — and this file hands those pieces to the HTTP layer as a streamed body whose file
 * ranges are opened lazily from the block store, so a 256 MiB file is sent from its 1024 leaf
 * files without ever being copied into one buffer (one range: sendfile). Uploads are streamed
 * the same way in the other direction: the request signature is checked when the headers
 * arrive, so an unauthorised upload is refused before a byte of its body is read; each body
 * piece is hashed and pushed into node_import, and only when the body's SHA-256 matches the
 * signed one is the import finished (pinned). Writes need a signed request by a ledger member
 * with a role (docs/formats/content-auth.md); reads (gateway, pins list, status) are public,
 * as the content is public and peers replicate from them. */
#include "api_content.h"

#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <strings.h>
#include <time.h>

#include "fwchain/hex.h"
#include "fwchain/manifest.h"
#include "fwchain/payload.h"
#include "fwchain/reqsig.h"
#include "fwchain/sha256.h"
#include "fwchain/tx.h"
#include "gateway.h"
#include "import.h"
#include "replicate.h"
#include "state.h"

#define JSON_TYPE "application/json"
#define REPLAY_WINDOW_S (2 * FWC_REQSIG_MAX_SKEW)
#define PINS_LIST_MAX 100000 /* GET /v1/pins lists at most this many pins (then "truncated") */
#define STATUS_PEER_TIMEOUT_MS 3000

struct replay_slot {
	uint8_t digest[32];
	int64_t seen;
};

struct node_content {
	struct node_bs *bs;
	struct node_pins *pins;
	struct node_repl *repl;
	struct node_content_config cfg;
	char chain_id[128];
	char *ledger_path;
	/* member lookups: one read-only connection, opened on first use */
	pthread_mutex_t state_mu;
	sqlite3 *state_db;
	struct node_state state;
	int state_open;
	/* replay cache: a ring of recently accepted signatures */
	pthread_mutex_t replay_mu;
	struct replay_slot *replay;
	size_t replay_next, replay_used;
};

static int64_t now_s(const struct node_content *c)
{
	return c->cfg.now ? c->cfg.now() : (int64_t)time(NULL);
}

int node_content_open(struct node_content **out, const struct node_content_config *cfg,
                      struct node_bs *bs, struct node_pins *pins, struct fwc_errinfo *ei)
{
	struct node_content *c;

	if (out == NULL || cfg == NULL || bs == NULL || pins == NULL || cfg->chain_id == NULL ||
	    strlen(cfg->chain_id) >= sizeof(c->chain_id) ||
	    cfg->nbootstrap > NODE_CONTENT_BOOTSTRAP_MAX ||
	    (cfg->roles == NULL && cfg->ledger_path == NULL))
		return fwc_fail(ei, 0, FWC_ERR_ARG, "content: bad configuration");
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return fwc_fail(ei, 0, FWC_ERR_NOMEM, "content: out of memory");
	c->replay = calloc(NODE_CONTENT_REPLAY_SLOTS, sizeof(*c->replay));
	if (c->replay == NULL ||
	    (cfg->ledger_path && (c->ledger_path = strdup(cfg->ledger_path)) == NULL)) {
		free(c->replay);
		free(c);
		return fwc_fail(ei, 0, FWC_ERR_NOMEM, "content: out of memory");
	}
	c->bs = bs;
	c->pins = pins;
	c->cfg = *cfg;
	snprintf(c->chain_id, sizeof(c->chain_id), "%s", cfg->chain_id);
	c->cfg.chain_id = c->chain_id;
	c->cfg.ledger_path = c->ledger_path;
	if (c->cfg.max_upload == 0)
		c->cfg.max_upload = NODE_IMPORT_DEFAULT_MAX_BYTES;
	if (c->cfg.gc_grace_s < 0)
		c->cfg.gc_grace_s = 600;
	pthread_mutex_init(&c->state_mu, NULL);
	pthread_mutex_init(&c->replay_mu, NULL);
	*out = c;
	return FWC_OK;
}

void node_content_close(struct node_content *c)
{
	if (c == NULL)
		return;
	if (c->state_open)
		node_state_close(&c->state);
	sqlite3_close(c->state_db);
	pthread_mutex_destroy(&c->state_mu);
	pthread_mutex_destroy(&c->replay_mu);
	free(c->replay);
	free(c->ledger_path);
	free(c);
}

void node_content_set_repl(struct node_content *c, struct node_repl *r)
{
	if (c)
		c->repl = r;
}

/* ---------------------------------------------------------------------------------------- */
/* Answers                                                                                  */

static void respond_json(struct node_http_response *resp, unsigned status, json_t *obj)
{
	char *text = obj ? json_dumps(obj, JSON_COMPACT) : NULL;

	json_decref(obj);
	if (text == NULL) {
		node_http_respond_error(resp, 500, "internal", "out of memory");
		return;
	}
	node_http_respond_take(resp, status, JSON_TYPE, text, strlen(text));
}

static void cid_text(char out[FWC_CID_STR_MAX], const struct fwc_cid *cid)
{
	if (fwc_cid_format(out, FWC_CID_STR_MAX, cid) < 0)
		snprintf(out, FWC_CID_STR_MAX, "(unprintable)");
}

/* Parse a CID path segment; on failure answer 400 bad_cid and return -1. */
static int get_cid(struct node_http_response *resp, struct fwc_cid *cid, const char *text)
{
	struct fwc_errinfo ei = {0};
	int rc = fwc_cid_parse(cid, text, strlen(text), &ei);

	if (rc == FWC_OK)
		return 0;
	node_http_respond_error(
	    resp, 400, rc == FWC_ERR_UNSUPPORTED ? "unsupported_cid" : "bad_cid",
	    "invalid CID '%.80s': %s", text, ei.msg[0] ? ei.msg : fwc_strerror(rc));
	return -1;
}

/* ---------------------------------------------------------------------------------------- */
/* Request signatures                                                                       */

static int parse_i64(int64_t *out, const char *s)
{
	int64_t v = 0;

	if (s == NULL || *s == '\0' || strlen(s) > 18 || (s[0] == '0' && s[1] != '\0'))
		return -1;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		v = v * 10 + (*p - '0');
	}
	*out = v;
	return 0;
}

static int lower_hex(uint8_t *out, size_t n, const char *s)
{
	size_t got = 0;

	if (s == NULL || strlen(s) != 2 * n)
		return -1;
	for (const char *p = s; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return -1;
	return fwc_hex_decode(out, n, &got, s, 2 * n) == FWC_OK && got == n ? 0 : -1;
}

/* The read-only connection to the ledger (under state_mu), opened on first use. */
static sqlite3 *state_db(struct node_content *c)
{
	if (c->state_db == NULL && c->ledger_path != NULL &&
	    (sqlite3_open_v2(c->ledger_path, &c->state_db, SQLITE_OPEN_READWRITE, NULL) !=
	         SQLITE_OK ||
	     sqlite3_busy_timeout(c->state_db, 2000) != SQLITE_OK ||
	     sqlite3_exec(c->state_db, "PRAGMA query_only = 1", NULL, NULL, NULL) != SQLITE_OK)) {
		sqlite3_close(c->state_db);
		c->state_db = NULL;
	}
	return c->state_db;
}

/* Roles of key from the ledger's state tables (node_state bound on first use and again after
 * an error: the tables may appear after the node started). */
static int ledger_roles(struct node_content *c, const struct fwc_pubkey *key, uint32_t *roles)
{
	char org[NODE_STATE_ID_BUF];
	int rc;

	pthread_mutex_lock(&c->state_mu);
	if (!c->state_open) {
		if (state_db(c) == NULL || node_state_open(&c->state, c->state_db) != FWC_OK) {
			pthread_mutex_unlock(&c->state_mu);
			return FWC_ERR_IO;
		}
		c->state_open = 1;
	}
	rc = node_state_member(&c->state, key, org, roles);
	if (rc != FWC_OK && rc != FWC_ERR_NOT_FOUND) {
		node_state_close(&c->state);
		c->state_open = 0;
	}
	pthread_mutex_unlock(&c->state_mu);
	return rc;
}

/* Remember digest as used; -1 when it already was (replay), -2 when the ring holds nothing
 * old enough to forget (refuse rather than forget a signature still inside its window). */
static int replay_record(struct node_content *c, const uint8_t digest[32], int64_t now)
{
	int rc = 0;

	pthread_mutex_lock(&c->replay_mu);
	for (size_t i = 0; i < c->replay_used; i++)
		if (c->replay[i].seen > now - REPLAY_WINDOW_S &&
		    memcmp(c->replay[i].digest, digest, 32) == 0) {
			rc = -1;
			goto out;
		}
	if (c->replay_used == NODE_CONTENT_REPLAY_SLOTS &&
	    c->replay[c->replay_next].seen > now - REPLAY_WINDOW_S) {
		rc = -2;
		goto out;
	}
	memcpy(c->replay[c->replay_next].digest, digest, 32);
	c->replay[c->replay_next].seen = now;
	c->replay_next = (c->replay_next + 1) % NODE_CONTENT_REPLAY_SLOTS;
	if (c->replay_used < NODE_CONTENT_REPLAY_SLOTS)
		c->replay_used++;
out:
	pthread_mutex_unlock(&c->replay_mu);
	return rc;
}

/* Check the request's signature and that its key holds one of the roles in need (bit mask).
 * On success *body_sha gets the signed body hash; otherwise resp is the refusal. */
static int authorise(struct node_content *c, struct node_http_response *resp,
                     const struct node_http_request *req, uint32_t need, uint8_t body_sha[32])
{
	const char *hk = node_http_header(req, FWC_REQSIG_HDR_KEY);
	const char *ht = node_http_header(req, FWC_REQSIG_HDR_TIME);
	const char *hh = node_http_header(req, FWC_REQSIG_HDR_SHA256);
	const char *hs = node_http_header(req, FWC_REQSIG_HDR_SIG);
	struct fwc_pubkey pk;
	struct fwc_errinfo ei = {0};
	uint8_t sig[FWC_SIG_LEN], digest[32], sha[32];
	int64_t t, now = now_s(c);
	uint32_t roles = 0;
	int rc, boot = 0;

	if (hk == NULL || ht == NULL || hh == NULL || hs == NULL) {
		node_http_respond_error(resp, 401, "unauthenticated",
		                        "this request must be signed: headers %s, %s, %s and %s "
		                        "(docs/formats/content-auth.md)",
		                        FWC_REQSIG_HDR_KEY, FWC_REQSIG_HDR_TIME,
		                        FWC_REQSIG_HDR_SHA256, FWC_REQSIG_HDR_SIG);
		return -1;
	}
	if (fwc_pubkey_from_text(&pk, hk, strlen(hk), &ei) != FWC_OK) {
		node_http_respond_error(resp, 401, "bad_key", "%s: %s", FWC_REQSIG_HDR_KEY, ei.msg);
		return -1;
	}
	if (parse_i64(&t, ht) != 0 || t > now + FWC_REQSIG_MAX_SKEW ||
	    t < now - FWC_REQSIG_MAX_SKEW) {
		node_http_respond_error(
		    resp, 401, "stale_request",
		    "%s must be Unix seconds within %d s of the node's clock (%lld)",
		    FWC_REQSIG_HDR_TIME, FWC_REQSIG_MAX_SKEW, (long long)now);
		return -1;
	}
	if (lower_hex(sha, 32, hh) != 0 || lower_hex(sig, FWC_SIG_LEN, hs) != 0) {
		node_http_respond_error(resp, 401, "bad_signature",
		                        "%s must be 64 and %s 128 lowercase hex digits",
		                        FWC_REQSIG_HDR_SHA256, FWC_REQSIG_HDR_SIG);
		return -1;
	}
	rc = fwc_reqsig_digest(digest, c->chain_id, req->method, req->target ? req->target : "", t,
	                       sha, &ei);
	if (rc != FWC_OK || fwc_reqsig_verify(&pk, sig, digest) != FWC_OK) {
		node_http_respond_error(
		    resp, 401, "bad_signature",
		    "the signature does not verify for this chain, method, target, "
		    "time and body hash%s%s",
		    rc != FWC_OK ? ": " : "", rc != FWC_OK ? ei.msg : "");
		return -1;
	}
	for (size_t i = 0; i < c->cfg.nbootstrap; i++)
		if (fwc_pubkey_equal(&pk, &c->cfg.bootstrap[i]))
			boot = 1;
	if (!boot) {
		rc = c->cfg.roles ? c->cfg.roles(c->cfg.roles_ctx, &pk, &roles)
		                  : ledger_roles(c, &pk, &roles);
		if (rc != FWC_OK && rc != FWC_ERR_NOT_FOUND) {
			node_http_respond_error(
			    resp, 503, "state_unavailable",
			    "cannot read the ledger's members to check the signer");
			return -1;
		}
		if (rc == FWC_ERR_NOT_FOUND || (roles & need) == 0) {
			node_http_respond_error(
			    resp, 403, "forbidden", "%.80s is not a member with the %s role", hk,
			    need == FWC_ROLE_BIT(FWC_ROLE_OPERATOR) ? "operator"
			                                            : "release or operator");
			return -1;
		}
	}
	/* Last, so that refused requests do not fill the cache. */
	rc = replay_record(c, digest, now);
	if (rc == -1) {
		node_http_respond_error(resp, 401, "replayed",
		                        "this signed request was already used; sign it again");
		return -1;
	}
	if (rc == -2) {
		node_http_respond_error(resp, 503, "busy",
		                        "too many signed requests in the last %d s; retry later",
		                        REPLAY_WINDOW_S);
		return -1;
	}
	memcpy(body_sha, sha, 32);
	return 0;
}

/* Requests without a streamed body: the signed hash must be the body's. */
static int authorise_small(struct node_content *c, struct node_http_response *resp,
                           const struct node_http_request *req, uint32_t need)
{
	uint8_t want[32], got[32];

	if (authorise(c, resp, req, need, want) != 0)
		return -1;
	if (fwc_sha256(got, req->body ? req->body : (const uint8_t *)"", req->body_len) != FWC_OK ||
	    memcmp(got, want, 32) != 0) {
		node_http_respond_error(resp, 400, "body_mismatch",
		                        "the body's SHA-256 is not the signed %s",
		                        FWC_REQSIG_HDR_SHA256);
		return -1;
	}
	return 0;
}

/* ---------------------------------------------------------------------------------------- */
/* GET/HEAD /ipfs/{cid}[/{name}]                                                            */

/* A block segment's source: the block, and where its bytes started in its file (a pack
 * record's offset, or 0) when the answer was planned. */
struct gw_ref {
	uint8_t digest[FWC_CID_DIGEST_LEN];
	uint64_t base;
};

struct gw_body {
	struct node_gw_plan plan;
	struct node_bs *bs;
	struct gw_ref *refs; /* one per plan segment */
};

static void gw_cid(struct fwc_cid *cid, const uint8_t digest[FWC_CID_DIGEST_LEN])
{
	memset(cid, 0, sizeof(*cid));
	cid->version = 1;
	cid->codec = FWC_CID_CODEC_RAW;
	cid->mh_code = FWC_MH_SHA2_256;
	memcpy(cid->digest, digest, FWC_CID_DIGEST_LEN);
}

static int gw_open(void *ctx, const void *ref)
{
	struct gw_body *g = ctx;
	const struct gw_ref *r = ref;
	struct fwc_cid cid;
	uint64_t off, len;
	int fd = -1;

	gw_cid(&cid, r->digest);
	if (node_bs_open_fd(g->bs, &cid, &fd, &off, &len) != FWC_OK)
		return -1;
	if (off != r->base) { /* deleted and stored again elsewhere since: the segment is stale */
		close(fd);
		return -1;
	}
	return fd;
}

static void gw_release(void *ctx)
{
	struct gw_body *g = ctx;

	node_gw_plan_cleanup(&g->plan);
	free(g->refs);
	free(g);
}

/* A download name: one path segment, not "." or "..", no separators. */
static int name_ok(const char *n)
{
	return strcmp(n, ".") != 0 && strcmp(n, "..") != 0 && strchr(n, '/') == NULL &&
	       strchr(n, '\\') == NULL;
}

void node_content_h_ipfs(void *ctx, struct node_http_response *resp,
                         const struct node_http_request *req)
{
	struct node_content *c = ctx;
	struct node_gw_request gr;
	struct gw_body *g;
	const char *name = req->ncaptures > 1 ? req->captures[1] : NULL;
	const char *cc = node_http_header(req, "Cache-Control");
	struct node_gw_plan *p;
	int rc, err = 0;

	memset(&gr, 0, sizeof(gr));
	gr.cid = req->captures[0];
	gr.format = node_http_query(req, "format");
	gr.dag_scope = node_http_query(req, "dag-scope");
	gr.entity_bytes = node_http_query(req, "entity-bytes");
	gr.filename = node_http_query(req, "filename");
	gr.accept = node_http_header(req, "Accept");
	gr.range = node_http_header(req, "Range");
	if ((gr.filename && !name_ok(gr.filename)) || (name && !name_ok(name))) {
		node_http_respond_error(
		    resp, 400, "bad_filename",
		    "a download name is one file name, not a path ('.', '..', '/' "
		    "and '\\' are refused)");
		return;
	}
	g = calloc(1, sizeof(*g));
	if (g == NULL) {
		node_http_respond_error(resp, 500, "internal", "out of memory");
		return;
	}
	g->bs = c->bs;
	p = &g->plan;
	/* /ipfs/{cid}/{name}: fwchain serves files, not directories, so the trailing segment is
	 * the download's name (as ?filename= would give it), never a path looked up in the DAG.
	 * ?filename= wins when both are given. */
	if (gr.filename == NULL)
		gr.filename = name;
	rc = node_gw_plan(p, c->bs, &gr);
	if (rc == FWC_OK && name != NULL && p->format != NODE_GW_FILE) {
		node_http_respond_error(
		    resp, 400, "bad_request",
		    "raw blocks and CARs are served at /ipfs/{cid} only, without a "
		    "path");
		gw_release(g);
		return;
	}
	if (rc != FWC_OK || p->status >= 400) {
		if (p->status == 404 && cc && strstr(cc, "only-if-cached"))
			node_http_respond_error(resp, 412, "not_cached", "%s", p->error_msg);
		else
			node_http_respond_error(resp, p->status ? p->status : 500,
			                        p->error_code[0] ? p->error_code : "internal", "%s",
			                        p->error_msg);
		if (p->status == 416)
			node_http_add_header(resp, "Content-Range", p->content_range);
		gw_release(g);
		return;
	}
	/* Block segments become ranges of the files that hold them (block files, or pack
	 * records at an offset); located now, checked again when each is opened. */
	g->refs = calloc(p->nsegs ? p->nsegs : 1, sizeof(*g->refs));
	if (g->refs == NULL) {
		node_http_respond_error(resp, 500, "internal", "out of memory");
		gw_release(g);
		return;
	}
	for (size_t i = 0; i < p->nsegs; i++) {
		struct fwc_cid cid;
		uint64_t len;

		if (p->segs[i].literal)
			continue;
		memcpy(g->refs[i].digest, p->segs[i].digest, FWC_CID_DIGEST_LEN);
		gw_cid(&cid, p->segs[i].digest);
		if (node_bs_locate(c->bs, &cid, &g->refs[i].base, &len) != FWC_OK) {
			node_http_respond_error(
			    resp, 404, "not_found",
			    "a block of this DAG vanished while planning; retry");
			gw_release(g);
			return;
		}
	}
	if (node_http_respond_stream(resp, p->status, NULL, gw_open, gw_release, g) != FWC_OK)
		return; /* released; a 500 */
	resp->content_type = p->content_type;
	for (size_t i = 0; i < p->nsegs && !err; i++) {
		const struct node_gw_segment *s = &p->segs[i];

		err = s->literal ? node_http_stream_bytes(resp, p->lit + s->off, (size_t)s->len)
		                 : node_http_stream_ref(resp, &g->refs[i], g->refs[i].base + s->off,
		                                        s->len);
	}
	if (err) {
		node_http_response_cleanup(resp);
		memset(resp, 0, sizeof(*resp));
		node_http_respond_error(resp, 500, "internal", "out of memory");
		return;
	}
	snprintf(resp->etag, sizeof(resp->etag), "%s", p->etag);
	node_http_add_header(resp, "Cache-Control", NODE_GW_CACHE_CONTROL);
	node_http_add_header(resp, "X-Ipfs-Path", p->ipfs_path);
	node_http_add_header(resp, "X-Ipfs-Roots", p->ipfs_path + 6);
	node_http_add_header(resp, "Vary", "Accept");
	if (p->content_disposition[0])
		node_http_add_header(resp, "Content-Disposition", p->content_disposition);
	if (p->content_range[0])
		node_http_add_header(resp, "Content-Range", p->content_range);
	if (p->accept_ranges)
		node_http_add_header(resp, "Accept-Ranges", "bytes");
	if (p->nosniff)
		node_http_add_header(resp, "X-Content-Type-Options", "nosniff");
}

/* ---------------------------------------------------------------------------------------- */
/* POST /v1/content                                                                         */

struct upload {
	struct node_content *c;
	struct node_import *im;
	struct fwc_sha256 h;
	int h_ok;
	uint8_t want[32];
	enum node_import_kind kind;
	uint64_t bytes;
};

static void import_error(struct node_http_response *resp, int rc, const struct fwc_errinfo *ei)
{
	const char *msg = ei->msg[0] ? ei->msg : fwc_strerror(rc);

	switch (rc) {
	case FWC_ERR_TOO_LARGE:
		node_http_respond_error(resp, 413, "too_large", "%s", msg);
		break;
	case FWC_ERR_NOSPACE:
		node_http_respond_error(resp, 507, "insufficient_storage", "%s", msg);
		break;
	case FWC_ERR_IO:
	case FWC_ERR_NOMEM:
	case FWC_ERR_STATE:
		node_http_respond_error(resp, 500, "internal", "%s", msg);
		break;
	case FWC_ERR_NOT_FOUND:
		node_http_respond_error(resp, 400, "incomplete_car", "%s", msg);
		break;
	case FWC_ERR_UNSUPPORTED:
		node_http_respond_error(resp, 400, "unsupported", "%s", msg);
		break;
	default:
		node_http_respond_error(resp, 400, "bad_car", "%s", msg);
	}
}

void *node_content_up_begin(void *ctx, struct node_http_response *resp,
                            const struct node_http_request *req)
{
	struct node_content *c = ctx;
	struct node_import_options opt;
	struct fwc_errinfo ei = {0};
	const char *ct = req->content_type, *fmt = node_http_query(req, "format");
	const char *ver = node_http_query(req, "cid-version");
	struct upload *u;
	enum node_import_kind kind = NODE_IMPORT_FILE;
	int rc;

	if (c == NULL) {
		node_http_respond_error(resp, 503, "content_unavailable",
		                        "this node has no content store");
		return NULL;
	}
	for (size_t i = 0; i < req->nquery; i++)
		if (strcmp(req->query[i].key, "format") != 0 &&
		    strcmp(req->query[i].key, "cid-version") != 0) {
			node_http_respond_error(resp, 400, "bad_parameter",
			                        "unknown parameter '%.40s' (format, cid-version)",
			                        req->query[i].key);
			return NULL;
		}
	if ((fmt && strcmp(fmt, "car") == 0) ||
	    (ct && strncasecmp(ct, "application/vnd.ipld.car", 24) == 0))
		kind = NODE_IMPORT_CAR;
	else if (fmt && strcmp(fmt, "file") != 0) {
		node_http_respond_error(resp, 400, "bad_parameter", "format must be file or car");
		return NULL;
	}
	node_import_options_default(&opt, kind);
	if (ver) {
		if (kind == NODE_IMPORT_CAR || (strcmp(ver, "0") != 0 && strcmp(ver, "1") != 0)) {
			node_http_respond_error(resp, 400, "bad_parameter",
			                        "cid-version is 0 or 1, for file uploads only");
			return NULL;
		}
		opt.cid_version = (unsigned)(ver[0] - '0');
	}
	opt.max_bytes = c->cfg.max_upload;
	u = calloc(1, sizeof(*u));
	if (u == NULL) {
		node_http_respond_error(resp, 500, "internal", "out of memory");
		return NULL;
	}
	if (authorise(c, resp, req,
	              FWC_ROLE_BIT(FWC_ROLE_RELEASE) | FWC_ROLE_BIT(FWC_ROLE_OPERATOR),
	              u->want) != 0) {
		free(u);
		return NULL;
	}
	u->c = c;
	u->kind = kind;
	/* A file's SHA-256 is computed by the importer anyway (the manifest signs it): it checks
	 * the signed one itself, before pinning. A CAR's bytes are hashed here. */
	if (kind == NODE_IMPORT_FILE) {
		opt.expect_sha256 = u->want;
	} else {
		if (fwc_sha256_init(&u->h) != FWC_OK) {
			free(u);
			node_http_respond_error(resp, 500, "internal", "cannot hash");
			return NULL;
		}
		u->h_ok = 1;
	}
	rc = node_import_begin(&u->im, c->pins, &opt, &ei);
	if (rc != FWC_OK) {
		if (u->h_ok)
			fwc_sha256_cleanup(&u->h);
		free(u);
		import_error(resp, rc, &ei);
		return NULL;
	}
	return u;
}

int node_content_up_data(void *upload, struct node_http_response *resp, const uint8_t *data,
                         size_t len)
{
	struct upload *u = upload;
	struct fwc_errinfo ei = {0};
	int rc;

	if (u->h_ok && fwc_sha256_update(&u->h, data, len) != FWC_OK) {
		node_http_respond_error(resp, 500, "internal", "cannot hash");
		return -1;
	}
	u->bytes += len;
	rc = node_import_push(u->im, data, len, &ei);
	if (rc != FWC_OK) {
		import_error(resp, rc, &ei);
		return -1;
	}
	return 0;
}

void node_content_up_end(void *upload, struct node_http_response *resp,
                         const struct node_http_request *req)
{
	struct upload *u = upload;
	struct node_import_result r;
	struct fwc_errinfo ei = {0};
	uint8_t got[32];
	char cid[FWC_CID_STR_MAX], hex[65];
	json_t *obj;
	int rc;

	(void)req;
	if (u->h_ok && fwc_sha256_final(&u->h, got) != FWC_OK) {
		node_http_respond_error(resp, 500, "internal", "cannot hash");
		return;
	}
	if (u->h_ok && memcmp(got, u->want, 32) != 0) {
		/* Abandoned: the blocks already stored are unpinned and go at the next GC. */
		node_http_respond_error(resp, 400, "body_mismatch",
		                        "the body's SHA-256 is not the signed %s; upload discarded",
		                        FWC_REQSIG_HDR_SHA256);
		return;
	}
	rc = node_import_finish(u->im, &r, &ei);
	if (rc == FWC_ERR_HASH_MISMATCH && u->kind == NODE_IMPORT_FILE) {
		node_http_respond_error(resp, 400, "body_mismatch",
		                        "the body's SHA-256 is not the signed %s; upload discarded",
		                        FWC_REQSIG_HDR_SHA256);
		return;
	}
	if (rc != FWC_OK) {
		import_error(resp, rc, &ei);
		return;
	}
	cid_text(cid, &r.root);
	obj = json_pack("{s:s, s:I, s:I, s:I, s:s}", "cid", cid, "size",
	                (json_int_t)(u->kind == NODE_IMPORT_FILE ? r.size : r.dag_bytes), "blocks",
	                (json_int_t)r.blocks, "dag_bytes", (json_int_t)r.dag_bytes, "format",
	                u->kind == NODE_IMPORT_FILE ? "file" : "car");
	if (obj && u->kind == NODE_IMPORT_FILE) {
		fwc_hex_encode(hex, sizeof(hex), r.sha256, 32);
		json_object_set_new(obj, "sha256", json_string(hex));
	}
	respond_json(resp, 201, obj);
}

void node_content_up_release(void *upload)
{
	struct upload *u = upload;

	if (u == NULL)
		return;
	node_import_free(u->im);
	if (u->h_ok)
		fwc_sha256_cleanup(&u->h);
	free(u);
}

/* ---------------------------------------------------------------------------------------- */
/* Pins                                                                                     */

struct pins_list {
	json_t *arr;
	json_t *cur; /* the entry of the root being listed */
	struct fwc_cid cur_root;
	size_t n;
	int truncated, err;
};

static int pins_row(void *ctx, const struct fwc_cid *root, const char *origin, int64_t created)
{
	struct pins_list *l = ctx;
	char txt[FWC_CID_STR_MAX];

	if (l->cur == NULL || !fwc_cid_equal(&l->cur_root, root)) {
		if (l->n == PINS_LIST_MAX) {
			l->truncated = 1;
			return -1;
		}
		cid_text(txt, root);
		l->cur = json_pack("{s:s, s:[], s:I}", "cid", txt, "origins", "created",
		                   (json_int_t)created);
		if (l->cur == NULL || json_array_append_new(l->arr, l->cur) != 0) {
			l->err = 1;
			return -1;
		}
		l->cur_root = *root;
		l->n++;
	}
	if (json_array_append_new(json_object_get(l->cur, "origins"), json_string(origin)) != 0) {
		l->err = 1;
		return -1;
	}
	return 0;
}

static int wants_row(void *ctx, const struct fwc_cid *root, const char *origin, int64_t created)
{
	json_t *arr = ctx;
	char txt[FWC_CID_STR_MAX];

	cid_text(txt, root);
	return json_array_append_new(arr, json_pack("{s:s, s:s, s:I}", "cid", txt, "origin", origin,
	                                            "created", (json_int_t)created)) == 0
	           ? 0
	           : -1;
}

void node_content_h_pins(void *ctx, struct node_http_response *resp,
                         const struct node_http_request *req)
{
	struct node_content *c = ctx;
	struct pins_list l;
	json_t *wants = json_array();
	int rc;

	(void)req;
	memset(&l, 0, sizeof(l));
	l.arr = json_array();
	if (l.arr == NULL || wants == NULL) {
		json_decref(l.arr);
		json_decref(wants);
		node_http_respond_error(resp, 500, "internal", "out of memory");
		return;
	}
	rc = node_pins_list(c->pins, pins_row, &l);
	if ((rc < 0 && !l.truncated) || l.err ||
	    (c->repl && node_repl_wants(c->repl, wants_row, wants) < 0)) {
		json_decref(l.arr);
		json_decref(wants);
		node_http_respond_error(resp, 500, "internal", "cannot read the pins");
		return;
	}
	respond_json(
	    resp, 200,
	    json_pack("{s:o, s:o, s:b}", "pins", l.arr, "wanted", wants, "truncated", l.truncated));
}

void node_content_h_pin_add(void *ctx, struct node_http_response *resp,
                            const struct node_http_request *req)
{
	struct node_content *c = ctx;
	struct fwc_cid root, missing;
	struct fwc_errinfo ei = {0};
	char txt[FWC_CID_STR_MAX], mtxt[FWC_CID_STR_MAX];
	int rc, pinned = 0;

	if (get_cid(resp, &root, req->captures[0]) != 0 ||
	    authorise_small(c, resp, req, FWC_ROLE_BIT(FWC_ROLE_OPERATOR)) != 0)
		return;
	cid_text(txt, &root);
	if (c->repl) {
		rc = node_repl_want(c->repl, &root, "operator", &pinned, &missing, &ei);
	} else {
		rc = node_pins_add(c->pins, &root, "operator", &missing, &ei);
		pinned = rc == FWC_OK;
	}
	if (rc == FWC_OK && pinned) {
		respond_json(resp, 200,
		             json_pack("{s:s, s:s, s:s}", "cid", txt, "origin", "operator",
		                       "status", "pinned"));
		return;
	}
	if (rc == FWC_OK) {
		cid_text(mtxt, &missing);
		respond_json(resp, 202,
		             json_pack("{s:s, s:s, s:s, s:s}", "cid", txt, "origin", "operator",
		                       "status", "wanted", "missing", mtxt));
		return;
	}
	if (rc == FWC_ERR_NOT_FOUND)
		node_http_respond_error(resp, 409, "incomplete_dag",
		                        "%s (this node has no peers to fetch it from)", ei.msg);
	else if (rc == FWC_ERR_IO || rc == FWC_ERR_NOMEM)
		node_http_respond_error(resp, 500, "internal", "%s", ei.msg);
	else
		node_http_respond_error(resp, 409, "bad_dag", "%s",
		                        ei.msg[0] ? ei.msg : fwc_strerror(rc));
}

void node_content_h_pin_remove(void *ctx, struct node_http_response *resp,
                               const struct node_http_request *req)
{
	struct node_content *c = ctx;
	struct fwc_cid root;
	const char *origin = node_http_query(req, "origin");
	static const char *const removable[] = {"operator", "upload", NODE_REPL_ORIGIN_REPLICA};
	char txt[FWC_CID_STR_MAX];
	json_t *gone;
	int rc;

	if (get_cid(resp, &root, req->captures[0]) != 0)
		return;
	if (origin && strcmp(origin, "release") == 0) {
		node_http_respond_error(resp, 409, "release_pin",
		                        "release pins follow the ledger and cannot be removed");
		return;
	}
	if (authorise_small(c, resp, req, FWC_ROLE_BIT(FWC_ROLE_OPERATOR)) != 0)
		return;
	gone = json_array();
	for (size_t i = 0; gone && i < sizeof(removable) / sizeof(removable[0]); i++) {
		if (origin && strcmp(origin, removable[i]) != 0)
			continue;
		rc = node_pins_remove(c->pins, &root, removable[i]);
		if (c->repl && node_repl_unwant(c->repl, &root, removable[i]) == FWC_OK &&
		    rc != FWC_OK)
			rc = FWC_OK;
		if (rc == FWC_OK)
			json_array_append_new(gone, json_string(removable[i]));
		else if (rc != FWC_ERR_NOT_FOUND) {
			json_decref(gone);
			node_http_respond_error(resp, 500, "internal", "cannot remove the pin");
			return;
		}
	}
	cid_text(txt, &root);
	if (gone == NULL || json_array_size(gone) == 0) {
		json_decref(gone);
		rc = node_pins_is_pinned(c->pins, &root);
		node_http_respond_error(
		    resp, rc == 1 ? 409 : 404, rc == 1 ? "release_pin" : "not_pinned",
		    rc == 1 ? "%s is pinned only by a release" : "%s is not pinned%s", txt,
		    origin ? " under that origin" : "");
		return;
	}
	respond_json(resp, 200,
	             json_pack("{s:s, s:o, s:b}", "cid", txt, "removed", gone, "still_pinned",
	                       node_pins_is_pinned(c->pins, &root) == 1));
}

void node_content_h_gc(void *ctx, struct node_http_response *resp,
                       const struct node_http_request *req)
{
	struct node_content *c = ctx;
	struct node_gc_result r;
	struct fwc_errinfo ei = {0};
	const char *g = node_http_query(req, "grace");
	int64_t grace = c->cfg.gc_grace_s;
	int rc;

	if (g && (parse_i64(&grace, g) != 0 || grace > 86400 * 365)) {
		node_http_respond_error(resp, 400, "bad_parameter", "grace is 0..31536000 seconds");
		return;
	}
	if (authorise_small(c, resp, req, FWC_ROLE_BIT(FWC_ROLE_OPERATOR)) != 0)
		return;
	memset(&r, 0, sizeof(r));
	rc = node_pins_gc(c->pins, grace, &r, &ei);
	if (rc == FWC_ERR_STATE) {
		node_http_respond_error(resp, 409, "gc_running", "a garbage collection is running");
		return;
	}
	if (rc != FWC_OK) {
		node_http_respond_error(resp, rc == FWC_ERR_IO ? 500 : 409,
		                        rc == FWC_ERR_IO ? "internal" : "pinned_dag_incomplete",
		                        "nothing deleted: %s",
		                        ei.msg[0] ? ei.msg : fwc_strerror(rc));
		return;
	}
	respond_json(resp, 200,
	             json_pack("{s:I, s:I, s:I, s:I, s:I, s:I}", "pins", (json_int_t)r.pins,
	                       "marked", (json_int_t)r.marked, "kept_recent",
	                       (json_int_t)r.kept_recent, "removed", (json_int_t)r.removed,
	                       "removed_bytes", (json_int_t)r.removed_bytes, "grace",
	                       (json_int_t)grace));
}

/* ---------------------------------------------------------------------------------------- */
/* GET /v1/content/{cid}/status[?local=1]                                                   */

static void peer_row(void *ctx, const char *url, int complete, const char *err)
{
	json_t *arr = ctx;
	json_t *o = err ? json_pack("{s:s, s:n, s:s}", "url", url, "complete", "error", err)
	                : json_pack("{s:s, s:b}", "url", url, "complete", complete);

	json_array_append_new(arr, o);
}

/* Where the DAG should be (placement) and where it is (this node when complete here, and
 * every peer that said complete): {"factor": N or "all", "should_hold": [url...], "holds":
 * [url...], "self": url}. */
static json_t *placement_json(struct node_content *c, const struct fwc_cid *root, int here,
                              json_t *peers)
{
	const char *urls[NODE_REPL_PEERS_MAX + 1], *self = NULL;
	unsigned factor = node_repl_factor(c->repl);
	json_t *o, *should = json_array(), *holds = json_array(), *e;
	int n, mine = 0;
	size_t i;

	n = node_repl_placement(c->repl, root, urls, NODE_REPL_PEERS_MAX + 1, &mine);
	o = json_object();
	if (o == NULL || should == NULL || holds == NULL) {
		json_decref(o);
		json_decref(should);
		json_decref(holds);
		return json_null();
	}
	json_object_set_new(o, "factor",
	                    factor ? json_integer((json_int_t)factor) : json_string("all"));
	self = node_repl_self(c->repl);
	for (int k = 0; k < n && k < NODE_REPL_PEERS_MAX + 1; k++)
		json_array_append_new(should, json_string(urls[k]));
	if (here)
		json_array_append_new(holds, json_string(self && *self ? self : "self"));
	json_array_foreach(peers, i, e)
	{
		if (json_is_true(json_object_get(e, "complete")))
			json_array_append(holds, json_object_get(e, "url"));
	}
	json_object_set_new(o, "self", self && *self ? json_string(self) : json_null());
	json_object_set_new(o, "should_hold", n >= 0 ? should : json_null());
	if (n < 0)
		json_decref(should);
	json_object_set_new(o, "holds", holds);
	json_object_set_new(o, "here_by_placement", json_boolean(n >= 0 && mine));
	return o;
}

void node_content_h_status(void *ctx, struct node_http_response *resp,
                           const struct node_http_request *req)
{
	struct node_content *c = ctx;
	struct fwc_cid root, missing;
	struct node_dag_stats st = {0, 0};
	struct fwc_errinfo ei = {0};
	const char *local = node_http_query(req, "local");
	char txt[FWC_CID_STR_MAX], mtxt[FWC_CID_STR_MAX];
	json_t *obj, *peers;
	int rc, pinned;

	if (get_cid(resp, &root, req->captures[0]) != 0)
		return;
	cid_text(txt, &root);
	rc = node_dag_check(c->bs, &root, NULL, &missing, &st, &ei);
	if (rc != FWC_OK && rc != FWC_ERR_NOT_FOUND && rc != FWC_ERR_MALFORMED &&
	    rc != FWC_ERR_HASH_MISMATCH && rc != FWC_ERR_TOO_LARGE) {
		node_http_respond_error(resp, 500, "internal", "%s", ei.msg);
		return;
	}
	pinned = node_pins_is_pinned(c->pins, &root);
	obj = json_pack("{s:s, s:b, s:b}", "cid", txt, "complete", rc == FWC_OK, "pinned",
	                pinned == 1);
	if (obj == NULL) {
		node_http_respond_error(resp, 500, "internal", "out of memory");
		return;
	}
	if (rc == FWC_OK) {
		json_object_set_new(obj, "blocks", json_integer((json_int_t)st.blocks));
		json_object_set_new(obj, "bytes", json_integer((json_int_t)st.bytes));
	} else if (rc == FWC_ERR_NOT_FOUND) {
		cid_text(mtxt, &missing);
		json_object_set_new(obj, "missing", json_string(mtxt));
	} else {
		json_object_set_new(obj, "error", json_string(ei.msg));
	}
	if (local == NULL || strcmp(local, "1") != 0) {
		peers = json_array();
		if (peers && c->repl)
			node_repl_peer_status(c->repl, &root, STATUS_PEER_TIMEOUT_MS, peer_row,
			                      peers);
		json_object_set_new(obj, "peers", peers ? peers : json_null());
		if (c->repl && node_repl_npeers(c->repl) > 0) /* alone, nothing to place */
			json_object_set_new(obj, "replication",
			                    placement_json(c, &root, rc == FWC_OK, peers));
	}
	respond_json(resp, 200, obj);
}

/* GET /v1/replication: the replicator's peers and counters. */
void node_content_h_replication(void *ctx, struct node_http_response *resp,
                                const struct node_http_request *req)
{
	struct node_content *c = ctx;
	struct node_repl_stats st;
	json_t *peers;

	(void)req;
	if (c->repl == NULL) {
		respond_json(resp, 200, json_pack("{s:[], s:n}", "peers", "stats"));
		return;
	}
	peers = json_array();
	for (size_t i = 0; peers && i < node_repl_npeers(c->repl); i++) {
		char url[NODE_REPL_URL_MAX];
		unsigned failures = 0;
		uint64_t refused = 0;
		int64_t retry = 0;

		if (node_repl_peer_info(c->repl, i, url, sizeof(url), &failures, &refused,
		                        &retry) == FWC_OK)
			json_array_append_new(
			    peers, json_pack("{s:s, s:I, s:I, s:I}", "url", url, "failures",
			                     (json_int_t)failures, "refused_blocks",
			                     (json_int_t)refused, "retry_in_s", (json_int_t)retry));
	}
	node_repl_get_stats(c->repl, &st);
	respond_json(resp, 200,
	             json_pack("{s:o*, s:{s:I, s:I, s:I, s:I, s:I, s:I}}", "peers", peers, "stats",
	                       "rounds", (json_int_t)st.rounds, "blocks_fetched",
	                       (json_int_t)st.blocks_fetched, "bytes_fetched",
	                       (json_int_t)st.bytes_fetched, "blocks_refused",
	                       (json_int_t)st.blocks_refused, "fetch_errors",
	                       (json_int_t)st.fetch_errors, "pinned", (json_int_t)st.pinned));
}

/* ---------------------------------------------------------------------------------------- */
/* The ledger's hooks                                                                       */

/* The CID a RELEASE transaction's manifest names, or -1 when tx is not a readable RELEASE. */
static int release_cid(struct fwc_cid *cid, const uint8_t *tx, size_t len)
{
	struct fwc_signed_tx stx;
	struct fwc_pl_release pl;
	struct fwc_signed_manifest sm;
	size_t used = 0;

	if (fwc_tx_decode(&stx, tx, len, NULL) != FWC_OK || stx.tx.type != FWC_TX_RELEASE ||
	    fwc_pl_release_decode(&pl, stx.tx.payload.p, stx.tx.payload.len, NULL) != FWC_OK ||
	    fwc_signed_manifest_decode(&sm, pl.manifest.p, pl.manifest.len, NULL) != FWC_OK ||
	    fwc_cid_decode(cid, &used, sm.manifest.cid.p, sm.manifest.cid.len, NULL) != FWC_OK ||
	    used != sm.manifest.cid.len)
		return -1;
	return 0;
}

int node_content_check_tx(struct node_content *c, struct node_http_response *resp,
                          const uint8_t *tx, size_t len)
{
	struct fwc_cid cid, missing;
	struct fwc_errinfo ei = {0};
	char txt[FWC_CID_STR_MAX], mtxt[FWC_CID_STR_MAX];
	int rc;

	if (c == NULL || c->cfg.no_release_check || release_cid(&cid, tx, len) != 0)
		return FWC_OK;
	rc = node_dag_check(c->bs, &cid, NULL, &missing, NULL, &ei);
	if (rc == FWC_OK)
		return FWC_OK;
	cid_text(txt, &cid);
	if (rc == FWC_ERR_NOT_FOUND) {
		cid_text(mtxt, &missing);
		node_http_respond_error(
		    resp, 409, "content_unavailable",
		    "the release's content %s is not complete on this node: block "
		    "%s is missing; upload it first (POST /v1/content)",
		    txt, mtxt);
		return FWC_ERR_NOT_FOUND;
	}
	if (rc == FWC_ERR_IO || rc == FWC_ERR_NOMEM) {
		node_http_respond_error(resp, 500, "internal", "cannot read the content store");
		return FWC_ERR_IO;
	}
	node_http_respond_error(resp, 409, "content_unavailable",
	                        "the release's content %s is not usable on this node: %s", txt,
	                        ei.msg[0] ? ei.msg : fwc_strerror(rc));
	return FWC_ERR_NOT_FOUND;
}

int node_content_pin_release(struct node_content *c, const uint8_t *cidb, size_t cid_len,
                             struct fwc_errinfo *ei)
{
	struct fwc_cid cid;
	size_t used = 0;
	int rc, pinned = 0;

	if (c == NULL || cidb == NULL)
		return FWC_ERR_ARG;
	rc = fwc_cid_decode(&cid, &used, cidb, cid_len, ei);
	if (rc != FWC_OK)
		return rc;
	if (used != cid_len)
		return fwc_fail(ei, used, FWC_ERR_TRAILING, "bytes after the release's CID");
	if (c->repl)
		return node_repl_want(c->repl, &cid, "release", &pinned, NULL, ei);
	return node_pins_add(c->pins, &cid, "release", NULL, ei);
}

void node_content_pin_releases(struct node_content *c, uint64_t from_height)
{
	sqlite3_stmt *st = NULL;
	struct {
		uint8_t b[FWC_CID_MAX_BINARY];
		size_t n;
	} *cids = NULL;
	size_t n = 0, cap = 0;

	if (c == NULL)
		return;
	/* Read first, pin after: pinning walks DAGs and must not hold the reader open. */
	pthread_mutex_lock(&c->state_mu);
	if (state_db(c) != NULL &&
	    sqlite3_prepare_v2(c->state_db,
	                       "SELECT cid FROM state_releases WHERE height >= ?1 ORDER BY height",
	                       -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_int64(
		    st, 1, (sqlite3_int64)(from_height > INT64_MAX ? INT64_MAX : from_height));
		while (sqlite3_step(st) == SQLITE_ROW) {
			const void *b = sqlite3_column_blob(st, 0);
			int len = sqlite3_column_bytes(st, 0);

			if (b == NULL || len <= 0 || (size_t)len > FWC_CID_MAX_BINARY)
				continue;
			if (n == cap) {
				size_t nc = cap ? 2 * cap : 16;
				void *p = realloc(cids, nc * sizeof(*cids));

				if (p == NULL)
					break;
				cids = p;
				cap = nc;
			}
			memcpy(cids[n].b, b, (size_t)len);
			cids[n].n = (size_t)len;
			n++;
		}
	}
	sqlite3_finalize(st);
	pthread_mutex_unlock(&c->state_mu);
	for (size_t i = 0; i < n; i++) {
		struct fwc_errinfo ei = {0};
		int rc = node_content_pin_release(c, cids[i].b, cids[i].n, &ei);

		if (rc != FWC_OK)
			fprintf(stderr, "fwchaind: cannot pin a release's content: %s\n",
			        ei.msg[0] ? ei.msg : fwc_strerror(rc));
	}
	free(cids);
}

/* ---------------------------------------------------------------------------------------- */
/* Route tables                                                                             */

const struct node_http_route node_content_routes[] = {
    {"GET", "/ipfs/{}", node_content_h_ipfs},
    {"GET", "/ipfs/{}/{}", node_content_h_ipfs},
    {"GET", "/v1/pins", node_content_h_pins},
    {"POST", "/v1/pins/{}", node_content_h_pin_add},
    {"DELETE", "/v1/pins/{}", node_content_h_pin_remove},
    {"POST", "/v1/content/gc", node_content_h_gc},
    {"GET", "/v1/content/{}/status", node_content_h_status},
    {"GET", "/v1/replication", node_content_h_replication},
};
const size_t node_content_nroutes = sizeof(node_content_routes) / sizeof(node_content_routes[0]);

const struct node_http_upload_route node_content_uploads[] = {
    {"POST", "/v1/content", NODE_CONTENT_UPLOAD_MAX_BODY, node_content_up_begin,
     node_content_up_data, node_content_up_end, node_content_up_release},
};
const size_t node_content_nuploads = 1;
