/* fwchaind REST API handlers.
 *
 * Every handler answers JSON (or the checkpoint as text/plain) and every refusal is a 4xx with
 * {"code", "message"}: the code is stable for clients, the message is for people. Handlers only
 * read: the one write, POST /v1/txs, hands the bytes to node_chain_submit() and reports 202
 * (accepted into the mempool), never "committed": that is only known once a block is durable,
 * and GET /v1/txs/{id} says so. POST /v1/txs/batch does the same for many transactions in one
 * request (node_chain_submit_many: one ledger snapshot and one mempool lock for the batch) and
 * answers one result per entry. Immutable objects (blocks) carry an ETag so pollers get 304. */
#include "api.h"
#include "txbatch.h"
#include "api_content.h"
#include "api_query.h"
#include "updates.h"

#include <errno.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fwchain/hex.h"
#include "fwchain/merkle.h"
#include "fwchain/sha256.h"
#include "fwchain/tx.h"

#define JSON_TYPE "application/json"

void node_api_init(struct node_api *api, struct node_chain *chain, struct node_db *db,
                   const char *chain_id)
{
	memset(api, 0, sizeof(*api));
	api->chain = chain;
	api->db = db;
	snprintf(api->chain_id, sizeof(api->chain_id), "%s", chain_id);
}

/* Answer status with obj as the body (takes the reference). */
static void respond_json(struct node_http_response *resp, unsigned status, json_t *obj)
{
	char *text = obj ? json_dumps(obj, JSON_COMPACT) : NULL;

	json_decref(obj);
	if (text == NULL) {
		node_http_respond_error(resp, 500, "internal_error", "out of memory");
		return;
	}
	node_http_respond_take(resp, status, JSON_TYPE, text, strlen(text));
}

/* A decimal uint64 with no sign, no spaces, no leading zeros beyond "0". */
static int parse_u64(uint64_t *out, const char *s)
{
	uint64_t v = 0;

	if (s == NULL || *s == '\0' || strlen(s) > 20 || (s[0] == '0' && s[1] != '\0'))
		return -1;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9' || v > (UINT64_MAX - (uint64_t)(*p - '0')) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	*out = v;
	return 0;
}

/* A JSON array of base64 hashes. */
static json_t *hash_array(const uint8_t (*h)[32], size_t n)
{
	json_t *arr = json_array();

	for (size_t i = 0; arr && i < n; i++) {
		char b64[48];

		sodium_bin2base64(b64, sizeof(b64), h[i], 32, sodium_base64_VARIANT_ORIGINAL);
		if (json_array_append_new(arr, json_string(b64)) != 0) {
			json_decref(arr);
			return NULL;
		}
	}
	return arr;
}

static void h_health(void *ctx, struct node_http_response *resp,
                     const struct node_http_request *req)
{
	struct node_api *api = ctx;
	uint64_t height = 0, size = 0;
	size_t depth = 0;

	(void)req;
	if (node_chain_head(api->chain, &height, &size, &depth, NULL, NULL) != FWC_OK) {
		node_http_respond_error(resp, 500, "internal_error", "cannot read the chain head");
		return;
	}
	respond_json(resp, 200,
	             json_pack("{s:s, s:s, s:I, s:I, s:I}", "status", "ok", "chain_id",
	                       api->chain_id, "height", (json_int_t)height, "log_size",
	                       (json_int_t)size, "mempool", (json_int_t)depth));
}

static void h_checkpoint(void *ctx, struct node_http_response *resp,
                         const struct node_http_request *req)
{
	struct node_api *api = ctx;
	uint8_t h[32];
	char *note = NULL, tag[17];
	size_t len = 0;

	(void)req;
	if (node_chain_head(api->chain, NULL, NULL, NULL, &note, &len) != FWC_OK) {
		node_http_respond_error(resp, 500, "internal_error", "cannot read the checkpoint");
		return;
	}
	node_http_respond_take(resp, 200, "text/plain; charset=utf-8", note, len);
	if (fwc_sha256(h, note, len) == FWC_OK) {
		fwc_hex_encode(tag, sizeof(tag), h, 8);
		node_http_set_etag(resp, tag);
	}
}

static unsigned submit_status(int rc, const struct node_refusal *r);

static void h_submit(void *ctx, struct node_http_response *resp,
                     const struct node_http_request *req)
{
	struct node_api *api = ctx;
	struct node_refusal r;
	uint8_t id[32];
	char hex[65];
	unsigned status;
	int rc;

	memset(&r, 0, sizeof(r));
	if (req->body_len == 0) {
		node_http_respond_error(resp, 400, "malformed_tx",
		                        "empty body: POST the transaction's CBOR bytes");
		return;
	}
	/* Availability before acceptance: a RELEASE whose content this node lacks is refused. */
	if (node_content_check_tx(api->content, resp, req->body, req->body_len) != FWC_OK)
		return;
	rc = node_chain_submit(api->chain, id, &r, req->body, req->body_len);
	if (rc == FWC_OK) {
		fwc_hex_encode(hex, sizeof(hex), id, 32);
		respond_json(resp, 202, json_pack("{s:s, s:s}", "id", hex, "status", "pending"));
		return;
	}
	status = submit_status(rc, &r);
	node_http_respond_error(resp, status, r.code[0] ? r.code : "malformed_tx", "%s",
	                        r.msg[0] ? r.msg : fwc_strerror(rc));
}

/* The HTTP status of a refused submission (docs/node.md, POST /v1/txs). */
static unsigned submit_status(int rc, const struct node_refusal *r)
{
	unsigned status;

	switch (rc) {
	case FWC_ERR_TOO_LARGE:
		status = 413;
		break;
	case FWC_ERR_DUPLICATE:
		status = 409;
		break;
	case FWC_ERR_PERMISSIONS:
		status = 403;
		break;
	case FWC_ERR_RANGE:
		status = strcmp(r->code, "mempool_full") == 0 ? 503 : 400;
		break;
	case FWC_ERR_IO:
	case FWC_ERR_NOMEM:
	case FWC_ERR_CRYPTO:
		status = 500;
		break;
	default:
		status = 400;
	}
	return status;
}

/* ---------------------------------------------------------------- POST /v1/txs/batch */

/* The batch body is collected by the HTTP layer's upload path, which lets this route take up
 * to NODE_TXBATCH_BYTES while single requests stay at the server's small body limit. */
struct batch_up {
	struct node_api *api;
	uint8_t *buf;
	size_t len, cap;
};

void *node_api_batch_begin(void *ctx, struct node_http_response *resp,
                         const struct node_http_request *req)
{
	struct batch_up *b = calloc(1, sizeof(*b));

	(void)req;
	if (b == NULL) {
		node_http_respond_error(resp, 500, "internal_error", "out of memory");
		return NULL;
	}
	b->api = ctx;
	return b;
}

int node_api_batch_data(void *upload, struct node_http_response *resp, const uint8_t *data,
                      size_t len)
{
	struct batch_up *b = upload;

	if (len > NODE_TXBATCH_BYTES - b->len) {
		node_http_respond_error(resp, 413, "too_large", "a batch body is at most %u bytes",
		                        NODE_TXBATCH_BYTES);
		return -1;
	}
	if (b->len + len > b->cap) {
		size_t ncap = b->cap ? b->cap : 64 * 1024;
		uint8_t *nb;

		while (ncap < b->len + len)
			ncap *= 2;
		if (ncap > NODE_TXBATCH_BYTES)
			ncap = NODE_TXBATCH_BYTES;
		if ((nb = realloc(b->buf, ncap)) == NULL) {
			node_http_respond_error(resp, 500, "internal_error", "out of memory");
			return -1;
		}
		b->buf = nb;
		b->cap = ncap;
	}
	memcpy(b->buf + b->len, data, len);
	b->len += len;
	return 0;
}

/* A growable text buffer for the answer (JSON written by hand: thousands of entries, most of
 * them one fixed shape). */
struct text {
	char *p;
	size_t len, cap;
	int oom;
};

static void text_put(struct text *t, const char *s, size_t n)
{
	if (t->oom)
		return;
	if (t->len + n + 1 > t->cap) {
		size_t ncap = t->cap ? t->cap * 2 : 4096;
		char *np;

		while (ncap < t->len + n + 1)
			ncap *= 2;
		if ((np = realloc(t->p, ncap)) == NULL) {
			t->oom = 1;
			return;
		}
		t->p = np;
		t->cap = ncap;
	}
	memcpy(t->p + t->len, s, n);
	t->len += n;
	t->p[t->len] = '\0';
}

/* The code and message of an error answer a handler wrote into r (a JSON body). */
static void refusal_of(struct node_refusal *out, const struct node_http_response *r)
{
	json_t *o = r->body ? json_loadb(r->body, r->body_len, 0, NULL) : NULL;
	const char *code = o ? json_string_value(json_object_get(o, "code")) : NULL;
	const char *msg = o ? json_string_value(json_object_get(o, "message")) : NULL;

	snprintf(out->code, sizeof(out->code), "%s", code ? code : "internal_error");
	snprintf(out->msg, sizeof(out->msg), "%s", msg ? msg : "refused");
	json_decref(o);
}

/* One entry's result: {"id", "status": "pending"} or {"id", "status": "refused", "http",
 * "code", "message"} where http is what POST /v1/txs would have answered. */
static void result_put(struct text *t, const uint8_t *tx, size_t len, const uint8_t id[32],
                       unsigned http, const struct node_refusal *r)
{
	uint8_t rid[32];
	char hex[65], *e;
	json_t *o;

	if (http == 0) {
		char line[128];
		int n;

		fwc_hex_encode(hex, sizeof(hex), id, 32);
		n = snprintf(line, sizeof(line), "{\"id\":\"%s\",\"status\":\"pending\"}", hex);
		text_put(t, line, (size_t)n);
		return;
	}
	/* A refused entry's id is still the SHA-256 of its bytes, whatever they are. */
	if (fwc_tx_id(rid, tx, len) != FWC_OK)
		memset(rid, 0, sizeof(rid));
	fwc_hex_encode(hex, sizeof(hex), rid, 32);
	o = json_pack("{s:s, s:s, s:i, s:s, s:s}", "id", hex, "status", "refused", "http",
	              (int)http, "code", r->code[0] ? r->code : "malformed_tx", "message",
	              r->msg);
	e = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	if (e == NULL) {
		t->oom = 1;
		return;
	}
	text_put(t, e, strlen(e));
	free(e);
}

void node_api_batch_end(void *upload, struct node_http_response *resp,
                      const struct node_http_request *req)
{
	struct batch_up *b = upload;
	struct node_api *api = b->api;
	struct node_txbatch_item *items = NULL;
	struct node_submit *subs = NULL;
	unsigned *http = NULL;
	struct fwc_errinfo ei = {0};
	struct text t = {0};
	size_t n = 0, accepted = 0;
	char head[96];
	int rc;

	(void)req;
	items = malloc(NODE_TXBATCH_MAX * sizeof(*items));
	if (items == NULL) {
		node_http_respond_error(resp, 500, "internal_error", "out of memory");
		return;
	}
	rc = node_txbatch_decode(items, NODE_TXBATCH_MAX, &n, b->buf, b->len, &ei);
	if (rc != FWC_OK) {
		node_http_respond_error(resp, rc == FWC_ERR_TOO_LARGE ? 413 : 400,
		                        rc == FWC_ERR_TOO_LARGE ? "too_large" : "malformed_batch",
		                        "byte %zu: %s", ei.offset,
		                        ei.msg[0] ? ei.msg : fwc_strerror(rc));
		goto out;
	}
	/* Availability before acceptance, entry by entry as for a single POST; then the rest are
	 * submitted together (one ledger snapshot and one mempool lock for the batch). */
	subs = calloc(n, sizeof(*subs));
	http = calloc(n, sizeof(*http));
	if (subs == NULL || http == NULL) {
		node_http_respond_error(resp, 500, "internal_error", "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		struct node_http_response cr;

		memset(&cr, 0, sizeof(cr));
		if (node_content_check_tx(api->content, &cr, items[i].p, items[i].len) != FWC_OK) {
			http[i] = cr.status ? cr.status : 500;
			refusal_of(&subs[i].r, &cr);
		}
		node_http_response_cleanup(&cr);
		/* An entry refused here is left out of the submission (zero length: skipped). */
		subs[i].tx = http[i] ? NULL : items[i].p;
		subs[i].len = http[i] ? 0 : items[i].len;
	}
	{
		/* Compact the entries still to submit, submit them, and spread the outcomes back. */
		size_t m = 0;
		struct node_submit *todo = calloc(n, sizeof(*todo));

		if (todo == NULL) {
			node_http_respond_error(resp, 500, "internal_error", "out of memory");
			goto out;
		}
		for (size_t i = 0; i < n; i++)
			if (!http[i])
				todo[m++] = subs[i];
		rc = node_chain_submit_many(api->chain, todo, m);
		for (size_t i = 0, k = 0; rc == FWC_OK && i < n; i++)
			if (!http[i])
				subs[i] = todo[k++];
		free(todo);
		if (rc != FWC_OK) {
			node_http_respond_error(resp, 500, "internal_error", "%s", fwc_strerror(rc));
			goto out;
		}
	}
	text_put(&t, "[", 1);
	for (size_t i = 0; i < n; i++) {
		if (i)
			text_put(&t, ",", 1);
		if (http[i] == 0 && subs[i].rc == FWC_OK) {
			accepted++;
		} else if (http[i] == 0) {
			http[i] = submit_status(subs[i].rc, &subs[i].r);
			if (subs[i].r.msg[0] == '\0')
				snprintf(subs[i].r.msg, sizeof(subs[i].r.msg), "%s",
				         fwc_strerror(subs[i].rc));
		}
		result_put(&t, items[i].p, items[i].len, subs[i].id, http[i], &subs[i].r);
	}
	text_put(&t, "]}", 2);
	if (t.oom) {
		node_http_respond_error(resp, 500, "internal_error", "out of memory");
		goto out;
	}
	{
		/* {"accepted":A,"refused":R,"results":[...]}: the head goes in front. */
		int hl = snprintf(head, sizeof(head), "{\"accepted\":%zu,\"refused\":%zu,\"results\":",
		                  accepted, n - accepted);
		char *body = malloc((size_t)hl + t.len + 1);

		if (body == NULL) {
			node_http_respond_error(resp, 500, "internal_error", "out of memory");
			goto out;
		}
		memcpy(body, head, (size_t)hl);
		memcpy(body + hl, t.p, t.len + 1);
		node_http_respond_take(resp, 200, JSON_TYPE, body, (size_t)hl + t.len);
	}
out:
	free(t.p);
	free(subs);
	free(http);
	free(items);
}

void node_api_batch_release(void *upload)
{
	struct batch_up *b = upload;

	if (b == NULL)
		return;
	free(b->buf);
	free(b);
}


static void h_tx(void *ctx, struct node_http_response *resp, const struct node_http_request *req)
{
	struct node_api *api = ctx;
	struct node_refusal r;
	struct node_db_tx t;
	uint8_t id[32];
	size_t n = 0;
	char hex[65];
	enum node_tx_where w;

	if (strlen(req->captures[0]) != 64 ||
	    fwc_hex_decode(id, sizeof(id), &n, req->captures[0], 64) != FWC_OK || n != 32) {
		node_http_respond_error(resp, 400, "bad_id",
		                        "a transaction id is 64 hex digits (SHA-256 of its bytes)");
		return;
	}
	fwc_hex_encode(hex, sizeof(hex), id, 32);
	memset(&r, 0, sizeof(r));
	w = node_chain_tx_where(api->chain, id, &r);
	if (w == NODE_TX_PENDING) {
		respond_json(resp, 200, json_pack("{s:s, s:s}", "id", hex, "status", "pending"));
		return;
	}
	if (w == NODE_TX_REJECTED) {
		respond_json(resp, 200,
		             json_pack("{s:s, s:s, s:s, s:s}", "id", hex, "status", "rejected",
		                       "code", r.code, "message", r.msg));
		return;
	}
	if (w == NODE_TX_UNKNOWN || node_db_tx_get(api->db, &t, id) != FWC_OK) {
		node_http_respond_error(resp, 404, "unknown_tx", "no transaction %s is known", hex);
		return;
	}
	{
		/* Prove inclusion in the current head; the checkpoint comes with it, read in the
		 * same instant as the size, so the client verifies against what it is given. */
		struct fwc_merkle_source src;
		uint8_t path[FWC_MERKLE_MAX_PROOF][32];
		size_t plen = 0;
		uint64_t size = 0;
		char *note = NULL, lh[48];
		size_t note_len = 0;
		int rc = node_chain_head(api->chain, NULL, &size, NULL, &note, &note_len);

		node_db_merkle_source(api->db, &src);
		if (rc == FWC_OK)
			rc = fwc_merkle_prove_inclusion(path, FWC_MERKLE_MAX_PROOF, &plen, &src,
			                                t.leaf_index, size);
		if (rc != FWC_OK) {
			node_http_respond_error(resp, 500, "internal_error",
			                        "cannot build the inclusion proof: %s",
			                        fwc_strerror(rc));
		} else {
			/* A failed transaction is in the log too, with the state machine's code. */
			int failed = t.status == NODE_TX_FAILED;
			json_t *obj;

			sodium_bin2base64(lh, sizeof(lh), t.leaf_hash, 32,
			                  sodium_base64_VARIANT_ORIGINAL);
			obj =
			    json_pack("{s:s, s:s, s:I, s:I, s:i, s:{s:s, s:I, s:I, s:o*, s:s%}}",
			              "id", hex, "status", failed ? "failed" : "committed", "block",
			              (json_int_t)t.height, "leaf_index", (json_int_t)t.leaf_index,
			              "type", t.type, "inclusion", "leaf_hash", lh, "leaf_index",
			              (json_int_t)t.leaf_index, "tree_size", (json_int_t)size,
			              "hashes", hash_array((const uint8_t(*)[32])path, plen),
			              "checkpoint", note, note_len);
			if (obj && failed) {
				json_object_set_new(obj, "code", json_string(t.code));
				if (r.code[0])
					json_object_set_new(obj, "message", json_string(r.msg));
			}
			respond_json(resp, 200, obj);
		}
		free(note);
	}
	node_db_tx_cleanup(&t);
}

static void h_block(void *ctx, struct node_http_response *resp, const struct node_http_request *req)
{
	struct node_api *api = ctx;
	struct node_db_block b = {0};
	uint8_t(*ids)[32] = NULL;
	size_t n = 0;
	uint64_t height;
	json_t *obj, *arr;
	char tag[32];
	int rc;

	if (parse_u64(&height, req->captures[0]) != 0 || height > INT64_MAX) {
		node_http_respond_error(resp, 400, "bad_height",
		                        "a block height is a decimal number without sign or leading"
		                        " zeros");
		return;
	}
	rc = node_db_block_get(api->db, &b, height);
	if (rc == FWC_OK)
		rc = node_db_block_tx_ids(api->db, &ids, &n, height);
	if (rc == FWC_ERR_NOT_FOUND) {
		node_db_block_cleanup(&b);
		node_http_respond_error(resp, 404, "unknown_block", "no block at height %llu",
		                        (unsigned long long)height);
		return;
	}
	if (rc != FWC_OK) {
		node_db_block_cleanup(&b);
		node_http_respond_error(resp, 500, "internal_error", "ledger read failed");
		return;
	}
	arr = json_array();
	for (size_t i = 0; arr && i < n; i++) {
		char hex[65];

		fwc_hex_encode(hex, sizeof(hex), ids[i], 32);
		json_array_append_new(arr, json_string(hex));
	}
	obj = json_pack("{s:I, s:I, s:I, s:I, s:s%, s:o}", "height", (json_int_t)b.height, "time",
	                (json_int_t)b.time, "tx_count", (json_int_t)b.tx_count, "log_size",
	                (json_int_t)b.log_size, "checkpoint", b.checkpoint, b.checkpoint_len, "txs",
	                arr);
	respond_json(resp, 200, obj);
	/* A committed block never changes. */
	snprintf(tag, sizeof(tag), "block-%llu", (unsigned long long)height);
	node_http_set_etag(resp, tag);
	free(ids);
	node_db_block_cleanup(&b);
}

static void h_consistency(void *ctx, struct node_http_response *resp,
                          const struct node_http_request *req)
{
	struct node_api *api = ctx;
	struct fwc_merkle_source src;
	uint8_t proof[FWC_MERKLE_MAX_PROOF][32];
	size_t plen = 0;
	uint64_t from, to, size = 0;
	char tag[64];
	int rc;

	if (parse_u64(&from, node_http_query(req, "from")) != 0 ||
	    parse_u64(&to, node_http_query(req, "to")) != 0 || from > to) {
		node_http_respond_error(resp, 400, "bad_range",
		                        "give ?from=M&to=N with decimal tree sizes, M <= N");
		return;
	}
	if (node_chain_head(api->chain, NULL, &size, NULL, NULL, NULL) != FWC_OK) {
		node_http_respond_error(resp, 500, "internal_error", "cannot read the chain head");
		return;
	}
	if (to > size) {
		node_http_respond_error(resp, 400, "bad_range",
		                        "to=%llu is beyond the log (size %llu)",
		                        (unsigned long long)to, (unsigned long long)size);
		return;
	}
	node_db_merkle_source(api->db, &src);
	rc = fwc_merkle_prove_consistency(proof, FWC_MERKLE_MAX_PROOF, &plen, &src, from, to);
	if (rc != FWC_OK) {
		node_http_respond_error(resp, 500, "internal_error",
		                        "cannot build the consistency proof: %s", fwc_strerror(rc));
		return;
	}
	respond_json(resp, 200,
	             json_pack("{s:I, s:I, s:o*}", "from", (json_int_t)from, "to", (json_int_t)to,
	                       "hashes", hash_array((const uint8_t(*)[32])proof, plen)));
	/* A proof between two fixed sizes never changes. */
	snprintf(tag, sizeof(tag), "cons-%llu-%llu", (unsigned long long)from,
	         (unsigned long long)to);
	node_http_set_etag(resp, tag);
}

/* GET /v1/updates: the device check-in (node/updates.c). */
static void h_updates(void *ctx, struct node_http_response *resp,
                      const struct node_http_request *req)
{
	node_updates_handle(((struct node_api *)ctx)->updates, resp, req);
}

/* GET /v1/accounts/{key}: a sender's nonces (committed and pending) and membership, so a
 * client can number its next transaction without keeping state. */
static void h_account(void *ctx, struct node_http_response *resp,
                      const struct node_http_request *req)
{
	static const char *const role_names[] = {"admin", "release", "operator", "gateway",
	                                         "auditor"};
	struct node_api *api = ctx;
	const char *text = req->captures[0];
	struct fwc_errinfo ei = {0};
	struct fwc_pubkey pk;
	struct node_db_reader *rd;
	char org[NODE_STATE_ID_BUF], canon[FWC_PUBKEY_TEXT_MAX];
	uint64_t last = 0, top = 0;
	uint32_t roles = 0;
	size_t npending = 0;
	json_t *obj, *arr;
	int rc;

	if (fwc_pubkey_from_text(&pk, text, strlen(text), &ei) < 0 ||
	    fwc_pubkey_to_text(canon, sizeof(canon), &pk) < 0) {
		node_http_respond_error(resp, 400, "bad_key",
		                        "'%.80s' is not a public key (alg:hex): %s", text,
		                        ei.msg[0] ? ei.msg : "malformed");
		return;
	}
	if (node_chain_account(api->chain, &pk, &last, &top, &npending) != FWC_OK ||
	    node_db_reader_get(api->db, &rd) != FWC_OK) {
		node_http_respond_error(resp, 500, "internal_error", "ledger read failed");
		return;
	}
	rc = node_state_member(node_db_reader_state(rd), &pk, org, &roles);
	node_db_reader_put(rd);
	if (rc != FWC_OK && rc != FWC_ERR_NOT_FOUND) {
		node_http_respond_error(resp, 500, "internal_error", "ledger read failed");
		return;
	}
	arr = json_array();
	for (unsigned i = 0; rc == FWC_OK && arr && i < 5; i++)
		if (roles & (1u << i))
			json_array_append_new(arr, json_string(role_names[i]));
	obj = json_pack("{s:s, s:I, s:I, s:I, s:s?, s:o*}", "key", canon, "next_nonce",
	                (json_int_t)((top > last ? top : last) + 1), "last_committed_nonce",
	                (json_int_t)last, "pending", (json_int_t)npending, "org",
	                rc == FWC_OK ? org : NULL, "roles", arr);
	respond_json(resp, 200, obj);
}

const struct node_http_route node_api_routes[] = {
    {"GET", "/v1/health", h_health},   {"GET", "/v1/checkpoint", h_checkpoint},
    {"POST", "/v1/txs", h_submit},     {"GET", "/v1/txs/{}", h_tx},
    {"GET", "/v1/blocks/{}", h_block}, {"GET", "/v1/proofs/consistency", h_consistency},
    {"GET", "/v1/updates", h_updates}, {"GET", "/v1/accounts/{}", h_account},
    NODE_API_QUERY_ROUTES,             NODE_API_CONTENT_ROUTES,
};
const size_t node_api_nroutes = sizeof(node_api_routes) / sizeof(node_api_routes[0]);
