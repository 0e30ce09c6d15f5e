/* Tests node/api_content.c: the gateway answers (file bytes, Range 206/416, HEAD, raw, CAR,
 * /ipfs/{cid}/{name} and ?filename=, bad and unsupported CIDs, path-like names, 404, 412,
 * 304), signed uploads (Kubo's known CIDs, a CAR round trip, CAR errors, every signature
 * refusal of docs/formats/content-auth.md, a body that is not the signed one leaves nothing
 * pinned), pins and unpins with their role rules, GC, status, the RELEASE availability check
 * and the release pin; then the same over a real server on 127.0.0.1 with libcurl (a 3 MiB
 * streamed upload, downloads through sendfile and the read callback). Roles come from a test
 * function; the ledger lookup is exercised by the node's shell tests. */
#include "test.h"

#include <curl/curl.h>
#include <jansson.h>
#include <time.h>

#include "api_content.h"
#include "fwchain/car.h"
#include "fwchain/dagpb.h"
#include "fwchain/hex.h"
#include "fwchain/manifest.h"
#include "fwchain/payload.h"
#include "fwchain/reqsig.h"
#include "fwchain/sha256.h"
#include "fwchain/tx.h"
#include "store_util.h"
#include "txgen.h"

#define CHAIN "fwchain-test-content"
#define HELLO_V1 "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e"
#define HELLO_V0 "Qmf412jQZiuVUtdgnB36FXFX7xg5V6KEbSJ4dpQuhkLyfD"

static struct txg_actor op, rel, aud, stranger, boot;
static int roles_broken;

static int test_roles(void *ctx, const struct fwc_pubkey *key, uint32_t *roles)
{
	(void)ctx;
	if (roles_broken)
		return FWC_ERR_IO;
	if (fwc_pubkey_equal(key, &op.pk))
		*roles = FWC_ROLE_BIT(FWC_ROLE_OPERATOR);
	else if (fwc_pubkey_equal(key, &rel.pk))
		*roles = FWC_ROLE_BIT(FWC_ROLE_RELEASE) | FWC_ROLE_BIT(FWC_ROLE_ADMIN);
	else if (fwc_pubkey_equal(key, &aud.pk))
		*roles = FWC_ROLE_BIT(FWC_ROLE_AUDITOR);
	else
		return FWC_ERR_NOT_FOUND;
	return FWC_OK;
}

static char dir[256];
static struct node_bs *bs;
static struct node_pins *pins;
static sqlite3 *db;
static struct node_content *content;

/* ---- requests in process ---------------------------------------------------------------- */

struct rq {
	struct node_http_request req;
	char pathbuf[1024], qbuf[1024];
	char target[1024];
	char hk[FWC_PUBKEY_TEXT_MAX], ht[24], hh[65], hs[129];
};

/* Signature tweaks for refusal tests. */
struct sigopt {
	const struct txg_actor *who; /* NULL: unsigned */
	int64_t time_delta;
	int wrong_target; /* sign another target */
	int wrong_chain;
	const uint8_t *sha_of; /* sign the hash of these bytes instead of the body */
	size_t sha_len;
	int drop_header; /* leave out the signature header */
	int upper_hex;
};

static void rq_init(struct rq *r, const char *method, const char *target, const uint8_t *body,
                    size_t blen, const struct sigopt *so)
{
	static unsigned seq;
	uint8_t sha[32], d[32], sig[64];
	int64_t delta;

	memset(r, 0, sizeof(*r));
	snprintf(r->target, sizeof(r->target), "%s", target);
	CHECK_RC(node_http_parse_target(&r->req, r->pathbuf, sizeof(r->pathbuf), r->qbuf,
	                                sizeof(r->qbuf), r->target, strlen(r->target), NULL),
	         FWC_OK);
	r->req.method = method;
	r->req.target = r->target;
	r->req.body = body;
	r->req.body_len = blen;
	if (so == NULL || so->who == NULL)
		return;
	/* Requests signed in the same second would be the same signed request (the node's
	 * replay cache refuses the second): step each one back by a second. */
	delta = so->time_delta ? so->time_delta : -(int64_t)(seq++ % 250);
	fwc_sha256(sha, so->sha_of ? so->sha_of : (body ? body : (const uint8_t *)""),
	           so->sha_of ? so->sha_len : blen);
	fwc_pubkey_to_text(r->hk, sizeof(r->hk), &so->who->pk);
	snprintf(r->ht, sizeof(r->ht), "%lld", (long long)(time(NULL) + delta));
	fwc_hex_encode(r->hh, sizeof(r->hh), sha, 32);
	CHECK_RC(fwc_reqsig_digest(d, so->wrong_chain ? "other-chain" : CHAIN, method,
	                           so->wrong_target ? "/elsewhere" : target, time(NULL) + delta,
	                           sha, NULL),
	         FWC_OK);
	CHECK_RC(fwc_reqsig_sign(sig, &so->who->sk, d), FWC_OK);
	fwc_hex_encode(r->hs, sizeof(r->hs), sig, 64);
	if (so->upper_hex)
		for (char *p = r->hs; *p; p++)
			if (*p >= 'a' && *p <= 'f')
				*p = (char)(*p - 32);
	r->req.headers[0].key = FWC_REQSIG_HDR_KEY;
	r->req.headers[0].val = r->hk;
	r->req.headers[1].key = FWC_REQSIG_HDR_TIME;
	r->req.headers[1].val = r->ht;
	r->req.headers[2].key = FWC_REQSIG_HDR_SHA256;
	r->req.headers[2].val = r->hh;
	r->req.headers[3].key = FWC_REQSIG_HDR_SIG;
	r->req.headers[3].val = r->hs;
	r->req.nheaders = so->drop_header ? 3 : 4;
}

static void rq_header(struct rq *r, const char *k, const char *v)
{
	r->req.headers[r->req.nheaders].key = k;
	r->req.headers[r->req.nheaders].val = v;
	r->req.nheaders++;
}

static void dispatch(struct node_http_response *resp, struct rq *r)
{
	memset(resp, 0, sizeof(*resp));
	node_http_dispatch(node_content_routes, node_content_nroutes, content, resp, &r->req);
}

/* The whole body of a response (plain or streamed), malloc'd. */
static uint8_t *body_of(struct node_http_response *resp, size_t *len)
{
	uint8_t *b;

	if (resp->stream == NULL) {
		b = malloc(resp->body_len + 1);
		if (b && resp->body_len)
			memcpy(b, resp->body, resp->body_len);
		*len = resp->body_len;
		return b;
	}
	b = malloc(resp->stream->length + 1);
	*len = 0;
	while (b && *len < resp->stream->length) {
		ssize_t n = node_http_body_read(resp->stream, *len, b + *len, 65536);

		if (n <= 0)
			break;
		*len += (size_t)n;
	}
	return b;
}

static const char *hdr(const struct node_http_response *resp, const char *name)
{
	for (size_t i = 0; i < resp->nheaders; i++)
		if (strcasecmp(resp->headers[i].name, name) == 0)
			return resp->headers[i].value;
	return NULL;
}

static int code_is(struct node_http_response *resp, unsigned status, const char *code)
{
	json_t *j = resp->body ? json_loadb(resp->body, resp->body_len, 0, NULL) : NULL;
	const char *c = j ? json_string_value(json_object_get(j, "code")) : NULL;
	int ok = resp->status == status && c && strcmp(c, code) == 0;

	if (!ok)
		fprintf(stderr, "  got %u %.*s (want %u %s)\n", resp->status, (int)resp->body_len,
		        resp->body ? resp->body : "", status, code);
	json_decref(j);
	return ok;
}

static json_t *json_of(struct node_http_response *resp)
{
	return resp->body ? json_loadb(resp->body, resp->body_len, 0, NULL) : NULL;
}

/* Upload body through the streamed-upload handlers in pieces of piece bytes. Returns the
 * response (caller cleans up). */
static void upload(struct node_http_response *resp, const char *target, const char *ctype,
                   const uint8_t *body, size_t len, size_t piece, const struct sigopt *so)
{
	struct rq r;
	void *u;

	rq_init(&r, "POST", target, NULL, 0, NULL);
	if (so && so->who) {
		struct sigopt s2 = *so;
		uint8_t dummy = 0;

		/* sign over the body hash: pass the body as "sha_of" unless overridden */
		if (s2.sha_of == NULL) {
			s2.sha_of = body ? body : &dummy;
			s2.sha_len = len;
		}
		rq_init(&r, "POST", target, NULL, 0, &s2);
	}
	r.req.content_type = ctype;
	memset(resp, 0, sizeof(*resp));
	u = node_content_up_begin(content, resp, &r.req);
	if (u == NULL)
		return;
	node_http_response_cleanup(resp);
	memset(resp, 0, sizeof(*resp));
	for (size_t off = 0; off < len;) {
		size_t n = len - off < piece ? len - off : piece;

		if (node_content_up_data(u, resp, body + off, n) != 0) {
			node_content_up_release(u);
			return;
		}
		off += n;
	}
	node_content_up_end(u, resp, &r.req);
	node_content_up_release(u);
}

static const char *json_str(json_t *j, const char *k)
{
	return json_string_value(json_object_get(j, k));
}

/* ---- set-up ----------------------------------------------------------------------------- */

static int setup(void)
{
	struct node_content_config cfg;
	char path[512];
	struct fwc_errinfo ei = {0};

	if (su_mkdtemp(dir, sizeof(dir), "api-content") != 0)
		return -1;
	snprintf(path, sizeof(path), "%s/store", dir);
	CHECK_RC(node_bs_open(&bs, path, NULL, &ei), FWC_OK);
	snprintf(path, sizeof(path), "%s/ledger.db", dir);
	CHECK(sqlite3_open(path, &db) == SQLITE_OK);
	CHECK_RC(node_pins_open(&pins, db, bs, &ei), FWC_OK);
	memset(&cfg, 0, sizeof(cfg));
	cfg.chain_id = CHAIN;
	cfg.roles = test_roles;
	cfg.gc_grace_s = 0;
	cfg.bootstrap[0] = boot.pk;
	cfg.nbootstrap = 1;
	CHECK_RC(node_content_open(&content, &cfg, bs, pins, &ei), FWC_OK);
	return content ? 0 : -1;
}

static void teardown(void)
{
	node_content_close(content);
	node_pins_close(pins);
	sqlite3_close(db);
	node_bs_close(bs);
	su_rmtree(dir);
}

/* ---- tests ------------------------------------------------------------------------------ */

static char big_cid[FWC_CID_STR_MAX];
static uint8_t *big;
#define BIG_LEN (3u * 1024u * 1024u + 777u)

static void test_upload_known_answers(void)
{
	struct node_http_response resp;
	struct sigopt so = {.who = &op};
	json_t *j;

	upload(&resp, "/v1/content", "application/octet-stream", (const uint8_t *)"hello world", 11,
	       4, &so);
	CHECK(resp.status == 201);
	j = json_of(&resp);
	CHECK(j && strcmp(json_str(j, "cid"), HELLO_V1) == 0);
	CHECK(j && json_integer_value(json_object_get(j, "size")) == 11);
	CHECK(j && json_integer_value(json_object_get(j, "blocks")) == 1);
	CHECK(j && strcmp(json_str(j, "sha256"),
	                  "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9") == 0);
	json_decref(j);
	node_http_response_cleanup(&resp);

	/* CIDv0 (Kubo's default), signed by a release-role key. */
	so.who = &rel;
	upload(&resp, "/v1/content?cid-version=0", NULL, (const uint8_t *)"hello world", 11, 100,
	       &so);
	CHECK(resp.status == 201);
	j = json_of(&resp);
	CHECK(j && strcmp(json_str(j, "cid"), HELLO_V0) == 0);
	json_decref(j);
	node_http_response_cleanup(&resp);

	/* A 3 MiB file: 13 leaves of 256 KiB under one dag-pb root; kept for the gateway. */
	big = malloc(BIG_LEN);
	CHECK(big != NULL);
	if (big == NULL)
		return;
	su_fill(big, BIG_LEN, 7);
	so.who = &boot; /* the bootstrap key needs no ledger role */
	upload(&resp, "/v1/content", NULL, big, BIG_LEN, 65536 + 13, &so);
	CHECK(resp.status == 201);
	j = json_of(&resp);
	CHECK(j && json_integer_value(json_object_get(j, "blocks")) == 14);
	CHECK(j && json_integer_value(json_object_get(j, "size")) == BIG_LEN);
	if (j && json_str(j, "cid"))
		snprintf(big_cid, sizeof(big_cid), "%s", json_str(j, "cid"));
	CHECK(strncmp(big_cid, "bafybei", 7) == 0);
	json_decref(j);
	node_http_response_cleanup(&resp);
}

static void test_upload_refusals(void)
{
	struct node_http_response resp;
	struct sigopt so = {.who = &op};
	const uint8_t *hw = (const uint8_t *)"hello world";
	uint8_t other[4] = {1, 2, 3, 4};
	struct rq r;
	char t[64];

	upload(&resp, "/v1/content", NULL, hw, 11, 11, NULL);
	CHECK(code_is(&resp, 401, "unauthenticated"));
	node_http_response_cleanup(&resp);
	so.drop_header = 1;
	upload(&resp, "/v1/content", NULL, hw, 11, 11, &so);
	CHECK(code_is(&resp, 401, "unauthenticated"));
	node_http_response_cleanup(&resp);
	so.drop_header = 0;
	so.time_delta = -FWC_REQSIG_MAX_SKEW - 5;
	upload(&resp, "/v1/content", NULL, hw, 11, 11, &so);
	CHECK(code_is(&resp, 401, "stale_request"));
	node_http_response_cleanup(&resp);
	so.time_delta = FWC_REQSIG_MAX_SKEW + 5;
	upload(&resp, "/v1/content", NULL, hw, 11, 11, &so);
	CHECK(code_is(&resp, 401, "stale_request"));
	node_http_response_cleanup(&resp);
	so.time_delta = 0;
	so.wrong_target = 1;
	upload(&resp, "/v1/content", NULL, hw, 11, 11, &so);
	CHECK(code_is(&resp, 401, "bad_signature"));
	node_http_response_cleanup(&resp);
	so.wrong_target = 0;
	so.wrong_chain = 1;
	upload(&resp, "/v1/content", NULL, hw, 11, 11, &so);
	CHECK(code_is(&resp, 401, "bad_signature"));
	node_http_response_cleanup(&resp);
	so.wrong_chain = 0;
	so.upper_hex = 1;
	upload(&resp, "/v1/content", NULL, hw, 11, 11, &so);
	CHECK(code_is(&resp, 401, "bad_signature"));
	node_http_response_cleanup(&resp);
	so.upper_hex = 0;

	/* A bad key text. */
	rq_init(&r, "POST", "/v1/content", NULL, 0, &so);
	snprintf(r.hk, sizeof(r.hk), "bip340:zz");
	memset(&resp, 0, sizeof(resp));
	CHECK(node_content_up_begin(content, &resp, &r.req) == NULL);
	CHECK(code_is(&resp, 401, "bad_key"));
	node_http_response_cleanup(&resp);

	/* Not a member; a member without the role; the ledger unreadable. */
	so.who = &stranger;
	upload(&resp, "/v1/content", NULL, hw, 11, 11, &so);
	CHECK(code_is(&resp, 403, "forbidden"));
	node_http_response_cleanup(&resp);
	so.who = &aud;
	upload(&resp, "/v1/content", NULL, hw, 11, 11, &so);
	CHECK(code_is(&resp, 403, "forbidden"));
	node_http_response_cleanup(&resp);
	so.who = &op;
	roles_broken = 1;
	upload(&resp, "/v1/content", NULL, hw, 11, 11, &so);
	CHECK(code_is(&resp, 503, "state_unavailable"));
	node_http_response_cleanup(&resp);
	roles_broken = 0;

	/* Replay: the same signed request twice. */
	rq_init(&r, "POST", "/v1/content", NULL, 0, &so);
	memset(&resp, 0, sizeof(resp));
	{
		void *u = node_content_up_begin(content, &resp, &r.req);

		CHECK(u != NULL);
		node_content_up_release(u);
		node_http_response_cleanup(&resp);
		memset(&resp, 0, sizeof(resp));
		CHECK(node_content_up_begin(content, &resp, &r.req) == NULL);
		CHECK(code_is(&resp, 401, "replayed"));
		node_http_response_cleanup(&resp);
	}

	/* The body is not the one signed: refused after the body, nothing pinned. */
	so.sha_of = other;
	so.sha_len = sizeof(other);
	upload(&resp, "/v1/content?cid-version=1", NULL, (const uint8_t *)"hello venus, not signed",
	       23, 5, &so);
	CHECK(code_is(&resp, 400, "body_mismatch"));
	node_http_response_cleanup(&resp);
	so.sha_of = NULL;
	{
		struct fwc_cid c;
		uint8_t sha[32];

		fwc_sha256(sha, "hello venus, not signed", 23);
		CHECK_RC(
		    fwc_cid_from_block(&c, 1, FWC_CID_CODEC_RAW, "hello venus, not signed", 23),
		    FWC_OK);
		CHECK(node_pins_is_pinned(pins, &c) == 0);
	}

	/* Parameters. */
	upload(&resp, "/v1/content?cid-version=2", NULL, hw, 11, 11, &so);
	CHECK(code_is(&resp, 400, "bad_parameter"));
	node_http_response_cleanup(&resp);
	upload(&resp, "/v1/content?pin=0", NULL, hw, 11, 11, &so);
	CHECK(code_is(&resp, 400, "bad_parameter"));
	node_http_response_cleanup(&resp);
	upload(&resp, "/v1/content?format=zip", NULL, hw, 11, 11, &so);
	CHECK(code_is(&resp, 400, "bad_parameter"));
	node_http_response_cleanup(&resp);
	/* Not a CAR, announced as one. */
	snprintf(t, sizeof(t), "/v1/content");
	upload(&resp, t, "application/vnd.ipld.car", hw, 11, 3, &so);
	CHECK(resp.status == 400);
	node_http_response_cleanup(&resp);
}

static void test_gateway(void)
{
	struct node_http_response resp;
	struct rq r;
	char t[256];
	uint8_t *b;
	size_t n = 0;

	/* The file's bytes, from 13 leaf files. */
	snprintf(t, sizeof(t), "/ipfs/%s", big_cid);
	rq_init(&r, "GET", t, NULL, 0, NULL);
	dispatch(&resp, &r);
	CHECK(resp.status == 200 && resp.stream && resp.stream->length == BIG_LEN);
	b = body_of(&resp, &n);
	CHECK(b && n == BIG_LEN && big && memcmp(b, big, n) == 0);
	free(b);
	CHECK(strcmp(resp.content_type, "application/octet-stream") == 0);
	CHECK(hdr(&resp, "Cache-Control") && strstr(hdr(&resp, "Cache-Control"), "immutable"));
	CHECK(hdr(&resp, "X-Ipfs-Path") && strcmp(hdr(&resp, "X-Ipfs-Path"), t) == 0);
	CHECK(hdr(&resp, "X-Ipfs-Roots") && strcmp(hdr(&resp, "X-Ipfs-Roots"), big_cid) == 0);
	CHECK(hdr(&resp, "Accept-Ranges") && hdr(&resp, "Vary"));
	CHECK(resp.etag[0] == '"' && strstr(resp.etag, big_cid) != NULL);
	node_http_response_cleanup(&resp);

	/* A range across a leaf boundary. */
	rq_init(&r, "GET", t, NULL, 0, NULL);
	rq_header(&r, "Range", "bytes=262100-262200");
	dispatch(&resp, &r);
	CHECK(resp.status == 206);
	b = body_of(&resp, &n);
	CHECK(b && n == 101 && big && memcmp(b, big + 262100, 101) == 0);
	free(b);
	snprintf(t, sizeof(t), "bytes 262100-262200/%u", BIG_LEN);
	CHECK(hdr(&resp, "Content-Range") && strcmp(hdr(&resp, "Content-Range"), t) == 0);
	node_http_response_cleanup(&resp);
	snprintf(t, sizeof(t), "/ipfs/%s", big_cid);
	rq_init(&r, "GET", t, NULL, 0, NULL);
	rq_header(&r, "Range", "bytes=99999999-");
	dispatch(&resp, &r);
	CHECK(code_is(&resp, 416, "range_not_satisfiable"));
	snprintf(t, sizeof(t), "bytes */%u", BIG_LEN);
	CHECK(hdr(&resp, "Content-Range") && strcmp(hdr(&resp, "Content-Range"), t) == 0);
	node_http_response_cleanup(&resp);

	/* If-None-Match with the ETag: 304. */
	snprintf(t, sizeof(t), "/ipfs/%s", big_cid);
	rq_init(&r, "GET", t, NULL, 0, NULL);
	{
		char inm[128];

		snprintf(inm, sizeof(inm), "\"%s\"", big_cid);
		r.req.if_none_match = inm;
		dispatch(&resp, &r);
		CHECK(resp.status == 304 && resp.stream == NULL);
		node_http_response_cleanup(&resp);
	}

	/* /ipfs/{cid}/{name}: the name is the download's name. */
	snprintf(t, sizeof(t), "/ipfs/%s/firmware-1.2.bin", HELLO_V1);
	rq_init(&r, "GET", t, NULL, 0, NULL);
	dispatch(&resp, &r);
	CHECK(resp.status == 200);
	b = body_of(&resp, &n);
	CHECK(b && n == 11 && memcmp(b, "hello world", 11) == 0);
	free(b);
	CHECK(hdr(&resp, "Content-Disposition") &&
	      strcmp(hdr(&resp, "Content-Disposition"), "inline; filename=\"firmware-1.2.bin\"") ==
	          0);
	node_http_response_cleanup(&resp);
	snprintf(t, sizeof(t), "/ipfs/%s?filename=a%%20b.bin", HELLO_V1);
	rq_init(&r, "GET", t, NULL, 0, NULL);
	dispatch(&resp, &r);
	CHECK(resp.status == 200 && hdr(&resp, "Content-Disposition") &&
	      strcmp(hdr(&resp, "Content-Disposition"), "inline; filename=\"a b.bin\"") == 0);
	node_http_response_cleanup(&resp);

	/* Path-like names are refused. */
	snprintf(t, sizeof(t), "/ipfs/%s/..", HELLO_V1);
	rq_init(&r, "GET", t, NULL, 0, NULL);
	dispatch(&resp, &r);
	CHECK(code_is(&resp, 400, "bad_filename"));
	node_http_response_cleanup(&resp);
	snprintf(t, sizeof(t), "/ipfs/%s?filename=..%%2F..%%2Fetc%%2Fpasswd", HELLO_V1);
	rq_init(&r, "GET", t, NULL, 0, NULL);
	dispatch(&resp, &r);
	CHECK(code_is(&resp, 400, "bad_filename"));
	node_http_response_cleanup(&resp);
	snprintf(t, sizeof(t), "/ipfs/%s?filename=a%%0Ab", HELLO_V1);
	rq_init(&r, "GET", t, NULL, 0, NULL);
	dispatch(&resp, &r);
	CHECK(code_is(&resp, 400, "bad_request"));
	node_http_response_cleanup(&resp);
	/* A raw block with a path: refused. */
	snprintf(t, sizeof(t), "/ipfs/%s/x?format=raw", HELLO_V1);
	rq_init(&r, "GET", t, NULL, 0, NULL);
	dispatch(&resp, &r);
	CHECK(code_is(&resp, 400, "bad_request"));
	node_http_response_cleanup(&resp);

	/* Raw block and CAR. */
	snprintf(t, sizeof(t), "/ipfs/%s?format=raw", big_cid);
	rq_init(&r, "GET", t, NULL, 0, NULL);
	dispatch(&resp, &r);
	CHECK(resp.status == 200 && strcmp(resp.content_type, "application/vnd.ipld.raw") == 0);
	CHECK(hdr(&resp, "X-Content-Type-Options") &&
	      strcmp(hdr(&resp, "X-Content-Type-Options"), "nosniff") == 0);
	CHECK(hdr(&resp, "Content-Disposition") &&
	      strncmp(hdr(&resp, "Content-Disposition"), "attachment", 10) == 0);
	b = body_of(&resp, &n);
	{
		struct fwc_cid c;

		CHECK(fwc_cid_parse(&c, big_cid, strlen(big_cid), NULL) == FWC_OK &&
		      fwc_cid_matches(&c, b, n));
	}
	free(b);
	node_http_response_cleanup(&resp);

	/* Bad, unsupported and absent CIDs. */
	rq_init(&r, "GET", "/ipfs/not-a-cid", NULL, 0, NULL);
	dispatch(&resp, &r);
	CHECK(code_is(&resp, 400, "bad_cid"));
	node_http_response_cleanup(&resp);
	/* dag-cbor (0x71) CIDv1 */
	rq_init(&r, "GET", "/ipfs/bafyreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku",
	        NULL, 0, NULL);
	dispatch(&resp, &r);
	CHECK(code_is(&resp, 400, "unsupported_cid"));
	node_http_response_cleanup(&resp);
	rq_init(&r, "GET", "/ipfs/bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku",
	        NULL, 0, NULL);
	dispatch(&resp, &r);
	CHECK(code_is(&resp, 404, "not_found"));
	node_http_response_cleanup(&resp);
	rq_init(&r, "GET", "/ipfs/bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku",
	        NULL, 0, NULL);
	rq_header(&r, "Cache-Control", "only-if-cached");
	dispatch(&resp, &r);
	CHECK(code_is(&resp, 412, "not_cached"));
	node_http_response_cleanup(&resp);
	/* entity-bytes reaches the planner: outside the 11-byte file is a 400 */
	snprintf(t, sizeof(t), "/ipfs/%s?format=car&entity-bytes=11:*", HELLO_V1);
	rq_init(&r, "GET", t, NULL, 0, NULL);
	dispatch(&resp, &r);
	CHECK(code_is(&resp, 400, "bad_request"));
	node_http_response_cleanup(&resp);
}

static void test_car_roundtrip(void)
{
	struct node_http_response resp;
	struct sigopt so = {.who = &op};
	struct rq r;
	char t[256];
	uint8_t *car = NULL, *bad;
	size_t carlen = 0;
	json_t *j;
	struct fwc_cid root;

	/* Export the 3 MiB file as a CAR. */
	snprintf(t, sizeof(t), "/ipfs/%s?format=car", big_cid);
	rq_init(&r, "GET", t, NULL, 0, NULL);
	dispatch(&resp, &r);
	CHECK(resp.status == 200 &&
	      strncmp(resp.content_type, "application/vnd.ipld.car", 24) == 0);
	car = body_of(&resp, &carlen);
	node_http_response_cleanup(&resp);
	CHECK(car && carlen > BIG_LEN);
	if (car == NULL)
		return;

	/* Remove every pin of it and collect: the blocks are gone. */
	CHECK(fwc_cid_parse(&root, big_cid, strlen(big_cid), NULL) == FWC_OK);
	node_pins_remove(pins, &root, "upload");
	CHECK(node_pins_is_pinned(pins, &root) == 0);
	rq_init(&r, "POST", "/v1/content/gc?grace=0", NULL, 0, &so);
	dispatch(&resp, &r);
	CHECK(resp.status == 200);
	j = json_of(&resp);
	CHECK(j && json_integer_value(json_object_get(j, "removed")) >= 14);
	json_decref(j);
	node_http_response_cleanup(&resp);
	CHECK(node_bs_has(bs, &root, NULL) == 0);

	/* A CAR missing one block (the third section cut out): refused, naming it. */
	bad = malloc(carlen);
	CHECK(bad != NULL);
	if (bad) {
		struct fwc_car_reader rd;
		struct fwc_car_header hd;
		struct fwc_car_block blk;
		uint64_t cut_at = 0, cut_end = 0;
		char miss[FWC_CID_STR_MAX] = "";
		size_t blen;

		CHECK_RC(fwc_car_reader_init(&rd, &hd, car, carlen, 2u << 20, NULL), FWC_OK);
		for (int i = 0; i < 4 && fwc_car_reader_next(&rd, &blk, NULL) == 1; i++) {
			if (i == 2) {
				cut_at = blk.offset;
				cut_end = (uint64_t)(blk.data - car) + blk.len;
				fwc_cid_format(miss, sizeof(miss), &blk.cid);
			}
		}
		CHECK(cut_end > cut_at && cut_at > 0);
		memcpy(bad, car, (size_t)cut_at);
		memcpy(bad + cut_at, car + cut_end, carlen - (size_t)cut_end);
		blen = carlen - (size_t)(cut_end - cut_at);
		upload(&resp, "/v1/content", "application/vnd.ipld.car", bad, blen, 70000, &so);
		CHECK(code_is(&resp, 400, "incomplete_car"));
		CHECK(resp.body && miss[0] && strstr(resp.body, miss) != NULL);
		node_http_response_cleanup(&resp);
		CHECK(node_pins_is_pinned(pins, &root) == 0);
		free(bad);
	}

	/* The CAR uploaded again gives the same root, pinned, and the same bytes. */
	upload(&resp, "/v1/content", "application/vnd.ipld.car", car, carlen, 100000, &so);
	CHECK(resp.status == 201);
	j = json_of(&resp);
	CHECK(j && strcmp(json_str(j, "cid"), big_cid) == 0);
	CHECK(j && strcmp(json_str(j, "format"), "car") == 0);
	CHECK(j && json_integer_value(json_object_get(j, "blocks")) == 14);
	json_decref(j);
	node_http_response_cleanup(&resp);
	CHECK(node_pins_is_pinned(pins, &root) == 1);
	CHECK_RC(node_dag_check(bs, &root, NULL, NULL, NULL, NULL), FWC_OK);

	/* A corrupted CAR (a flipped byte in a block): refused as bad_car, nothing pinned. */
	car[carlen - 10] ^= 1;
	node_pins_remove(pins, &root, "upload");
	upload(&resp, "/v1/content?format=car", NULL, car, carlen, 65536, &so);
	CHECK(code_is(&resp, 400, "bad_car"));
	node_http_response_cleanup(&resp);
	CHECK(node_pins_is_pinned(pins, &root) == 0);
	/* Pin it back (its blocks are still there from the good upload). */
	CHECK_RC(node_pins_add(pins, &root, "upload", NULL, NULL), FWC_OK);
	free(car);
}

static void test_pins(void)
{
	struct node_http_response resp;
	struct sigopt so = {.who = &op};
	struct rq r;
	char t[256];
	json_t *j, *arr;
	int found = 0;

	snprintf(t, sizeof(t), "/v1/pins/%s", HELLO_V1);
	rq_init(&r, "POST", t, NULL, 0, &so);
	dispatch(&resp, &r);
	CHECK(resp.status == 200);
	j = json_of(&resp);
	CHECK(j && strcmp(json_str(j, "status"), "pinned") == 0);
	json_decref(j);
	node_http_response_cleanup(&resp);

	/* A release key may upload but not pin. */
	so.who = &rel;
	rq_init(&r, "POST", t, NULL, 0, &so);
	dispatch(&resp, &r);
	CHECK(code_is(&resp, 403, "forbidden"));
	node_http_response_cleanup(&resp);
	so.who = &op;
	/* The signed body must be the body. */
	so.sha_of = (const uint8_t *)"x";
	so.sha_len = 1;
	rq_init(&r, "POST", t, NULL, 0, &so);
	dispatch(&resp, &r);
	CHECK(code_is(&resp, 400, "body_mismatch"));
	node_http_response_cleanup(&resp);
	so.sha_of = NULL;

	/* Incomplete DAG, no replicator: 409 naming the block. */
	rq_init(&r, "POST", "/v1/pins/bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku",
	        NULL, 0, &so);
	dispatch(&resp, &r);
	CHECK(code_is(&resp, 409, "incomplete_dag"));
	CHECK(resp.body &&
	      strstr(resp.body, "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"));
	node_http_response_cleanup(&resp);

	/* The list: the hello CID pinned by upload and operator. */
	rq_init(&r, "GET", "/v1/pins", NULL, 0, NULL);
	dispatch(&resp, &r);
	CHECK(resp.status == 200);
	j = json_of(&resp);
	arr = j ? json_object_get(j, "pins") : NULL;
	for (size_t i = 0; arr && i < json_array_size(arr); i++) {
		json_t *e = json_array_get(arr, i);

		if (strcmp(json_str(e, "cid"), HELLO_V1) == 0) {
			json_t *o = json_object_get(e, "origins");

			found = json_array_size(o) == 2 &&
			        strcmp(json_string_value(json_array_get(o, 0)), "operator") == 0 &&
			        strcmp(json_string_value(json_array_get(o, 1)), "upload") == 0;
		}
	}
	CHECK(found);
	json_decref(j);
	node_http_response_cleanup(&resp);

	/* Unpin the operator origin only, then everything removable. */
	snprintf(t, sizeof(t), "/v1/pins/%s?origin=operator", HELLO_V1);
	rq_init(&r, "DELETE", t, NULL, 0, &so);
	dispatch(&resp, &r);
	CHECK(resp.status == 200);
	j = json_of(&resp);
	CHECK(j && json_is_true(json_object_get(j, "still_pinned")));
	json_decref(j);
	node_http_response_cleanup(&resp);
	snprintf(t, sizeof(t), "/v1/pins/%s", HELLO_V1);
	rq_init(&r, "DELETE", t, NULL, 0, &so);
	dispatch(&resp, &r);
	CHECK(resp.status == 200);
	j = json_of(&resp);
	CHECK(j && json_is_false(json_object_get(j, "still_pinned")));
	json_decref(j);
	node_http_response_cleanup(&resp);
	rq_init(&r, "DELETE", t, NULL, 0, &so);
	dispatch(&resp, &r);
	CHECK(code_is(&resp, 404, "not_pinned"));
	node_http_response_cleanup(&resp);
	/* Release pins cannot be removed through the API. */
	snprintf(t, sizeof(t), "/v1/pins/%s?origin=release", HELLO_V1);
	rq_init(&r, "DELETE", t, NULL, 0, &so);
	dispatch(&resp, &r);
	CHECK(code_is(&resp, 409, "release_pin"));
	node_http_response_cleanup(&resp);
	rq_init(&r, "DELETE", "/v1/pins/Qmbad", NULL, 0, &so);
	dispatch(&resp, &r);
	CHECK(code_is(&resp, 400, "bad_cid"));
	node_http_response_cleanup(&resp);
	/* GC needs the operator role too. */
	so.who = &rel;
	rq_init(&r, "POST", "/v1/content/gc", NULL, 0, &so);
	dispatch(&resp, &r);
	CHECK(code_is(&resp, 403, "forbidden"));
	node_http_response_cleanup(&resp);
}

static void test_status(void)
{
	struct node_http_response resp;
	struct rq r;
	char t[256];
	json_t *j;

	snprintf(t, sizeof(t), "/v1/content/%s/status", big_cid);
	rq_init(&r, "GET", t, NULL, 0, NULL);
	dispatch(&resp, &r);
	CHECK(resp.status == 200);
	j = json_of(&resp);
	CHECK(j && json_is_true(json_object_get(j, "complete")));
	CHECK(j && json_is_true(json_object_get(j, "pinned")));
	CHECK(j && json_integer_value(json_object_get(j, "blocks")) == 14);
	CHECK(j && json_is_array(json_object_get(j, "peers")));
	json_decref(j);
	node_http_response_cleanup(&resp);
	rq_init(&r, "GET",
	        "/v1/content/bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku/"
	        "status?local=1",
	        NULL, 0, NULL);
	dispatch(&resp, &r);
	j = json_of(&resp);
	CHECK(j && json_is_false(json_object_get(j, "complete")));
	CHECK(j && json_str(j, "missing") &&
	      strcmp(json_str(j, "missing"),
	             "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku") == 0);
	CHECK(j && json_object_get(j, "peers") == NULL);
	json_decref(j);
	node_http_response_cleanup(&resp);
}

/* A RELEASE transaction whose manifest names cid. */
static int release_tx(uint8_t *out, size_t cap, size_t *len, const struct fwc_cid *cid)
{
	static uint8_t body[FWC_MANIFEST_BODY_MAX], sm[FWC_SIGNED_MANIFEST_MAX], pl[8192];
	struct fwc_manifest m;
	struct fwc_pl_release p;
	uint8_t cb[FWC_CID_MAX_BINARY];
	size_t cblen = 0, blen = 0, smlen = 0, plen = 0;
	int rc;

	memset(&m, 0, sizeof(m));
	fwc_cid_encode(cb, sizeof(cb), &cblen, cid);
	m.format = FWC_MANIFEST_VERSION;
	m.product = txg_str("thermo");
	m.version = txg_str("1.0.0");
	m.counter = 1;
	m.channel = txg_str("stable");
	m.cid.p = cb;
	m.cid.len = cblen;
	m.size = 11;
	m.n_hw = 1;
	m.hw[0] = txg_str("rev-b");
	m.created = 1700000000;
	if ((rc = fwc_manifest_encode(body, sizeof(body), &blen, &m, NULL)) != FWC_OK ||
	    (rc = fwc_signed_manifest_encode(sm, sizeof(sm), &smlen, body, blen, NULL, 0, NULL)) !=
	        FWC_OK)
		return rc;
	p.manifest.p = sm;
	p.manifest.len = smlen;
	if ((rc = fwc_pl_release_encode(pl, sizeof(pl), &plen, &p)) != FWC_OK)
		return rc;
	return txg_tx(out, cap, len, &rel, FWC_TX_RELEASE, 1, CHAIN, 1700000000, pl, plen);
}

static void test_release_hooks(void)
{
	struct node_http_response resp;
	uint8_t tx[16384], cb[FWC_CID_MAX_BINARY];
	size_t len = 0, cblen = 0;
	struct fwc_cid have, absent;
	struct fwc_errinfo ei = {0};

	fwc_cid_parse(&have, big_cid, strlen(big_cid), NULL);
	fwc_cid_parse(&absent, "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku", 59,
	              NULL);
	CHECK_RC(release_tx(tx, sizeof(tx), &len, &absent), FWC_OK);
	memset(&resp, 0, sizeof(resp));
	CHECK_RC(node_content_check_tx(content, &resp, tx, len), FWC_ERR_NOT_FOUND);
	CHECK(code_is(&resp, 409, "content_unavailable"));
	CHECK(resp.body &&
	      strstr(resp.body, "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"));
	node_http_response_cleanup(&resp);

	/* A DAG with one leaf gone: the missing leaf is named, not the root. */
	{
		uint8_t *root_block = NULL;
		size_t rl = 0;
		struct fwc_dagpb_node node;
		struct fwc_dagpb_iter it;
		struct fwc_dagpb_link l;

		CHECK_RC(node_bs_get(bs, &have, &root_block, &rl, NULL), FWC_OK);
		CHECK_RC(fwc_dagpb_decode(&node, root_block, rl, NULL), FWC_OK);
		fwc_dagpb_iter_init(&it, &node);
		for (int i = 0; i < 5; i++)
			CHECK(fwc_dagpb_iter_next(&it, &l) == 1);
		free(root_block);
		{
			uint8_t *leaf = NULL;
			size_t ll = 0;
			char lt[FWC_CID_STR_MAX];

			CHECK_RC(node_bs_get(bs, &l.cid, &leaf, &ll, NULL), FWC_OK);
			CHECK_RC(node_bs_delete(bs, &l.cid), FWC_OK);
			CHECK_RC(release_tx(tx, sizeof(tx), &len, &have), FWC_OK);
			memset(&resp, 0, sizeof(resp));
			CHECK_RC(node_content_check_tx(content, &resp, tx, len), FWC_ERR_NOT_FOUND);
			fwc_cid_format(lt, sizeof(lt), &l.cid);
			CHECK(resp.body && strstr(resp.body, lt) != NULL);
			node_http_response_cleanup(&resp);
			CHECK_RC(node_bs_put(bs, &l.cid, leaf, ll, 0, NULL), FWC_OK);
			free(leaf);
		}
	}
	memset(&resp, 0, sizeof(resp));
	CHECK_RC(node_content_check_tx(content, &resp, tx, len), FWC_OK);
	CHECK(resp.status == 0);
	/* Not a RELEASE: not checked. */
	CHECK_RC(node_content_check_tx(content, &resp, (const uint8_t *)"junk", 4), FWC_OK);
	CHECK_RC(node_content_check_tx(NULL, &resp, tx, len), FWC_OK);

	/* The release pin. */
	fwc_cid_encode(cb, sizeof(cb), &cblen, &have);
	CHECK_RC(node_content_pin_release(content, cb, cblen, &ei), FWC_OK);
	{
		struct node_http_response r2;
		struct rq r;
		char t[256];
		struct sigopt so = {.who = &op};

		snprintf(t, sizeof(t), "/v1/pins/%s?origin=release", big_cid);
		rq_init(&r, "DELETE", t, NULL, 0, &so);
		dispatch(&r2, &r);
		CHECK(code_is(&r2, 409, "release_pin"));
		node_http_response_cleanup(&r2);
		/* Removing the other origins leaves it pinned by the release. */
		snprintf(t, sizeof(t), "/v1/pins/%s", big_cid);
		rq_init(&r, "DELETE", t, NULL, 0, &so);
		dispatch(&r2, &r);
		CHECK(r2.status == 200);
		node_http_response_cleanup(&r2);
		CHECK(node_pins_is_pinned(pins, &have) == 1);
	}
	fwc_cid_encode(cb, sizeof(cb), &cblen, &absent);
	CHECK_RC(node_content_pin_release(content, cb, cblen, &ei), FWC_ERR_NOT_FOUND);
}

/* ---- over a real server ----------------------------------------------------------------- */

struct sink {
	uint8_t *p;
	size_t len, cap;
};

static size_t sink_write(char *d, size_t s, size_t n, void *ctx)
{
	struct sink *k = ctx;

	if (k->len + s * n > k->cap) {
		size_t cap = k->cap ? k->cap * 2 : 65536;
		uint8_t *np;

		while (cap < k->len + s * n)
			cap *= 2;
		np = realloc(k->p, cap);
		if (np == NULL)
			return 0;
		k->p = np;
		k->cap = cap;
	}
	memcpy(k->p + k->len, d, s * n);
	k->len += s * n;
	return s * n;
}

static long fetch(const char *url, const char *method, struct curl_slist *h, const uint8_t *body,
                  size_t blen, struct sink *out, char *ctype, size_t ctcap)
{
	CURL *e = curl_easy_init();
	long status = 0;
	char *ct = NULL;

	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, sink_write);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, out);
	curl_easy_setopt(e, CURLOPT_TIMEOUT, 20L);
	if (h)
		curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
	if (strcmp(method, "HEAD") == 0)
		curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
	else if (strcmp(method, "POST") == 0) {
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)blen);
	}
	if (curl_easy_perform(e) == CURLE_OK) {
		curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
		curl_easy_getinfo(e, CURLINFO_CONTENT_TYPE, &ct);
		if (ctype)
			snprintf(ctype, ctcap, "%s", ct ? ct : "");
	}
	curl_easy_cleanup(e);
	return status;
}

static void test_server(void)
{
	struct node_http_config cfg;
	struct node_http_server *srv = NULL;
	struct fwc_errinfo ei = {0};
	struct rq r;
	struct sigopt so = {.who = &op};
	struct curl_slist *h = NULL;
	struct sink out = {0};
	char url[512], line[300], ct[128];
	uint8_t *file = malloc(BIG_LEN);
	json_t *j;
	char cid[FWC_CID_STR_MAX] = "";

	node_http_config_default(&cfg);
	cfg.port = 0;
	cfg.uploads = node_content_uploads;
	cfg.nuploads = node_content_nuploads;
	CHECK_RC(node_http_server_start(&srv, &cfg, node_content_routes, node_content_nroutes,
	                                content, &ei),
	         FWC_OK);
	if (srv == NULL || file == NULL) {
		free(file);
		return;
	}
	su_fill(file, BIG_LEN, 99);
	/* Signed upload of a 3 MiB file, streamed. */
	{
		struct sigopt s2 = so;

		s2.sha_of = file;
		s2.sha_len = BIG_LEN;
		rq_init(&r, "POST", "/v1/content?cid-version=1", NULL, 0, &s2);
	}
	for (size_t i = 0; i < 4; i++) {
		snprintf(line, sizeof(line), "%s: %s", r.req.headers[i].key, r.req.headers[i].val);
		h = curl_slist_append(h, line);
	}
	h = curl_slist_append(h, "Content-Type: application/octet-stream");
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/v1/content?cid-version=1",
	         (unsigned)node_http_server_port(srv));
	CHECK(fetch(url, "POST", h, file, BIG_LEN, &out, NULL, 0) == 201);
	j = out.p ? json_loadb((const char *)out.p, out.len, 0, NULL) : NULL;
	if (j && json_str(j, "cid"))
		snprintf(cid, sizeof(cid), "%s", json_str(j, "cid"));
	CHECK(cid[0] == 'b');
	json_decref(j);
	curl_slist_free_all(h);
	h = NULL;
	/* The same signed request again: replayed. */
	out.len = 0;
	for (size_t i = 0; i < 4; i++) {
		snprintf(line, sizeof(line), "%s: %s", r.req.headers[i].key, r.req.headers[i].val);
		h = curl_slist_append(h, line);
	}
	CHECK(fetch(url, "POST", h, file, BIG_LEN, &out, NULL, 0) == 401);
	curl_slist_free_all(h);
	h = NULL;

	/* Download it: many leaves (read callback). */
	out.len = 0;
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/ipfs/%s",
	         (unsigned)node_http_server_port(srv), cid);
	CHECK(fetch(url, "GET", NULL, NULL, 0, &out, ct, sizeof(ct)) == 200);
	CHECK(out.len == BIG_LEN && memcmp(out.p, file, BIG_LEN) == 0);
	CHECK(strcmp(ct, "application/octet-stream") == 0);
	/* A range inside one leaf: one file range, sendfile. */
	out.len = 0;
	h = curl_slist_append(NULL, "Range: bytes=300000-300099");
	CHECK(fetch(url, "GET", h, NULL, 0, &out, NULL, 0) == 206);
	CHECK(out.len == 100 && memcmp(out.p, file + 300000, 100) == 0);
	curl_slist_free_all(h);
	/* HEAD */
	out.len = 0;
	CHECK(fetch(url, "HEAD", NULL, NULL, 0, &out, NULL, 0) == 200);
	CHECK(out.len == 0);
	/* CAR with Accept */
	out.len = 0;
	h = curl_slist_append(NULL, "Accept: application/vnd.ipld.car");
	CHECK(fetch(url, "GET", h, NULL, 0, &out, ct, sizeof(ct)) == 200);
	CHECK(strncmp(ct, "application/vnd.ipld.car", 24) == 0);
	CHECK(out.len > BIG_LEN);
	curl_slist_free_all(h);
	/* An unsigned upload is refused before its body is read. */
	out.len = 0;
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/v1/content",
	         (unsigned)node_http_server_port(srv));
	CHECK(fetch(url, "POST", NULL, file, BIG_LEN, &out, NULL, 0) == 401);
	free(out.p);
	free(file);
	node_http_server_stop(srv);
}

int main(void)
{
	if (txg_actor_init(&op, 7, 1) != FWC_OK || txg_actor_init(&rel, 7, 2) != FWC_OK ||
	    txg_actor_init(&aud, 7, 3) != FWC_OK || txg_actor_init(&stranger, 7, 4) != FWC_OK ||
	    txg_actor_init(&boot, 7, 5) != FWC_OK)
		return 1;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (setup() != 0) {
		CHECK(!"setup");
		return test_done();
	}
	RUN(test_upload_known_answers);
	RUN(test_upload_refusals);
	RUN(test_gateway);
	RUN(test_car_roundtrip);
	RUN(test_pins);
	RUN(test_status);
	RUN(test_release_hooks);
	RUN(test_server);
	free(big);
	teardown();
	curl_global_cleanup();
	return test_done();
}
