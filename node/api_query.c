/* fwchaind JSON query endpoints over the state machine's tables (docs/node.md, "Query API").
 *
 * Every handler first validates its whole query string (unknown or repeated parameters and
 * bad values are a 400 bad_parameter naming the parameter) before it touches the database,
 * then takes a reader from the pool, reads inside one read transaction (one snapshot even
 * across several queries), and answers JSON. Listings are keyset-paginated: `limit` (1..1000)
 * rows, and `next`, an opaque cursor to pass back as `cursor`, present while more rows follow
 * (the query asks for limit + 1 rows to know). Every 200 carries an ETag that is a digest of
 * the body, so it changes exactly when the answer does and pollers of unchanged objects get
 * 304; answers about immutable things (a release's manifest, a committed page of the audit
 * trail) simply keep theirs.
 *
 * Design choice: a request borrows a whole connection of node/db.c's reader pool (the one
 * pool of read-only connections of the node, shared with the check-in and the log's reads)
 * instead of sharing one connection under a lock, so slow listings never queue behind each
 * other or behind the block producer; SQLite's WAL mode gives each reader a consistent
 * snapshot while blocks commit. The state_query statements of each connection are prepared
 * once and kept in a struct node_stateq_pool. */
#include "api_query.h"

#include <jansson.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fwchain/base64.h"
#include "fwchain/cbor.h"
#include "fwchain/cid.h"
#include "fwchain/hex.h"
#include "fwchain/keyset.h"
#include "fwchain/manifest.h"
#include "fwchain/payload.h"
#include "fwchain/sha256.h"
#include "fwchain/tx.h"

#include "db.h"
#include "state.h"
#include "state_query.h"
#include "stateq_pool.h"

#define JSON_TYPE "application/json"
#define REVOKED_RELEASES_MAX 100 /* revoked releases listed inline with a product */
#define CURSOR_MAX 192

/* ---------------------------------------------------------------------------------------- */
/* Readers: node/db.c's pool                                                                */

/* What a handler reads through: a borrowed node/db.c reader, the state machine queries bound
 * to its connection, and this module's statements for the same connection. */
struct reader {
	struct node_db_reader *dr;
	struct node_state *st;
	struct node_stateq *q;
};

struct node_query {
	struct node_db *db;
	struct node_stateq_pool qpool;
};

int node_query_open(struct node_query **out, struct node_db *db, struct fwc_errinfo *ei)
{
	struct node_query *q;

	if (out == NULL || db == NULL)
		return fwc_fail(ei, 0, FWC_ERR_ARG, "query endpoints: want a ledger");
	q = calloc(1, sizeof(*q));
	if (q == NULL || node_stateq_pool_init(&q->qpool) != FWC_OK) {
		free(q);
		return fwc_fail(ei, 0, FWC_ERR_NOMEM, "query endpoints: out of memory");
	}
	q->db = db;
	*out = q;
	return FWC_OK;
}

void node_query_close(struct node_query *q)
{
	if (q == NULL)
		return;
	node_stateq_pool_cleanup(&q->qpool);
	free(q);
}

static void reader_put(struct node_query *q, struct reader *r)
{
	(void)q;
	/* Ends the snapshot; a read transaction cannot fail to end in a way that matters. */
	node_db_reader_end(r->dr);
	node_db_reader_put(r->dr);
	r->dr = NULL;
}

/* A reader with an open read transaction, or NULL with resp set (503). The struct is the
 * calling thread's: an HTTP worker runs one request at a time and a handler holds one reader
 * at a time, from reader_get to reader_put. */
static struct reader *reader_get(struct node_query *q, struct node_http_response *resp)
{
	static __thread struct reader r;

	if (q == NULL) {
		node_http_respond_error(resp, 503, "state_unavailable",
		                        "this node serves no state queries");
		return NULL;
	}
	if (node_db_reader_get(q->db, &r.dr) != FWC_OK) {
		node_http_respond_error(resp, 503, "state_unavailable",
		                        "the ledger cannot be read");
		return NULL;
	}
	r.st = node_db_reader_state(r.dr);
	r.q = node_stateq_pool_get(&q->qpool, node_db_reader_handle(r.dr));
	if (r.st == NULL || r.q == NULL || node_db_reader_begin(r.dr) != FWC_OK) {
		node_db_reader_put(r.dr);
		node_http_respond_error(resp, 503, "state_unavailable",
		                        "the ledger cannot be read");
		return NULL;
	}
	return &r;
}

/* ---------------------------------------------------------------------------------------- */
/* Answers                                                                                  */

static void internal(struct node_http_response *resp, const char *what)
{
	node_http_respond_error(resp, 500, "internal_error", "%s", what);
}

/* 200 with obj as the body (reference taken) and an ETag digesting the body. */
static void respond_ok(struct node_http_response *resp, json_t *obj)
{
	char *text = obj ? json_dumps(obj, JSON_COMPACT) : NULL;
	uint8_t h[32];
	char tag[40];

	json_decref(obj);
	if (text == NULL) {
		internal(resp, "cannot build the answer (out of memory)");
		return;
	}
	node_http_respond_take(resp, 200, JSON_TYPE, text, strlen(text));
	if (fwc_sha256(h, text, strlen(text)) == FWC_OK) {
		tag[0] = 'q';
		fwc_hex_encode(tag + 1, sizeof(tag) - 1, h, 16);
		node_http_set_etag(resp, tag);
	}
}

/* A NUL-terminated string as JSON text: jansson refuses invalid UTF-8, which the state
 * machine's decoders never let in; should one get there, it is shown replaced, not dropped. */
static json_t *jstr(const char *s)
{
	json_t *j = json_string(s ? s : "");

	return j ? j : json_string("\xef\xbf\xbd");
}

static json_t *jhex(const uint8_t *p, size_t n)
{
	char hex[2 * 64 + 1];

	if (p == NULL || n > 64 || fwc_hex_encode(hex, sizeof(hex), p, n) != FWC_OK)
		return json_null();
	return json_string(hex);
}

static json_t *jkey(const struct fwc_pubkey *pk)
{
	char t[FWC_PUBKEY_TEXT_MAX];

	if (fwc_pubkey_to_text(t, sizeof(t), pk) != FWC_OK)
		return json_null();
	return json_string(t);
}

static json_t *jint(int64_t v)
{
	return json_integer((json_int_t)v);
}

/* Unsigned values above INT64_MAX cannot be JSON integers in jansson: they go out as text. */
static json_t *juint(uint64_t v)
{
	char t[24];

	if (v <= INT64_MAX)
		return json_integer((json_int_t)v);
	snprintf(t, sizeof(t), "%llu", (unsigned long long)v);
	return json_string(t);
}

/* Set o[k] = v; any failure (v NULL included) marks *err. */
static void put(json_t *o, const char *k, json_t *v, int *err)
{
	if (o == NULL || v == NULL || json_object_set_new(o, k, v) != 0)
		*err = 1;
}

static void push(json_t *a, json_t *v, int *err)
{
	if (a == NULL || v == NULL || json_array_append_new(a, v) != 0)
		*err = 1;
}

static json_t *cid_text(const uint8_t *bin, size_t len)
{
	struct fwc_cid cid;
	char t[FWC_CID_STR_MAX];

	if (bin == NULL || fwc_cid_decode(&cid, NULL, bin, len, NULL) != FWC_OK ||
	    fwc_cid_format(t, sizeof(t), &cid) != FWC_OK)
		return jhex(bin, len < 64 ? len : 0);
	return json_string(t);
}

/* ---------------------------------------------------------------------------------------- */
/* Parameters                                                                               */

/* Refuse parameters outside allowed (NULL-terminated) and repeated ones. 0 when fine. */
static int params_check(struct node_http_response *resp, const struct node_http_request *req,
                        const char *const *allowed)
{
	for (size_t i = 0; i < req->nquery; i++) {
		const char *k = req->query[i].key;
		size_t j;

		for (j = 0; allowed[j] && strcmp(allowed[j], k) != 0; j++)
			;
		if (allowed[j] == NULL) {
			char list[256] = "";
			size_t n = 0;

			for (j = 0; allowed[j] && n < sizeof(list); j++)
				n += (size_t)snprintf(list + n, sizeof(list) - n, "%s%s",
				                      j ? ", " : "", allowed[j]);
			node_http_respond_bad_param(
			    resp, k[0] ? k : "(empty)",
			    "unknown parameter '%.64s'; this endpoint takes: %s", k,
			    j ? list : "none");
			return -1;
		}
		for (size_t m = 0; m < i; m++) {
			if (strcmp(req->query[m].key, k) == 0) {
				node_http_respond_bad_param(resp, k, "parameter '%s' given twice",
				                            k);
				return -1;
			}
		}
	}
	return 0;
}

/* A decimal number without sign or leading zeros, at most max. */
static int parse_dec(uint64_t *out, const char *s, uint64_t max)
{
	uint64_t v = 0;

	if (s == NULL || *s == '\0' || strlen(s) > 20 || (s[0] == '0' && s[1] != '\0'))
		return -1;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9' || v > (UINT64_MAX - (uint64_t)(*p - '0')) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	if (v > max)
		return -1;
	*out = v;
	return 0;
}

/* An identifier as the payloads define it: [a-z0-9][a-z0-9._-]*, 1..max bytes. */
static int valid_id(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n == 0 || n > max || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= '0' && s[0] <= '9')))
		return 0;
	for (size_t i = 1; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		      c == '-'))
			return 0;
	}
	return 1;
}

/* limit: default NODE_QUERY_LIMIT_DEFAULT, 1..NODE_QUERY_LIMIT_MAX. */
static int get_limit(struct node_http_response *resp, const struct node_http_request *req,
                     unsigned *limit)
{
	const char *s = node_http_query(req, "limit");
	uint64_t v;

	if (s == NULL) {
		*limit = NODE_QUERY_LIMIT_DEFAULT;
		return 0;
	}
	if (parse_dec(&v, s, NODE_QUERY_LIMIT_MAX) != 0 || v == 0) {
		node_http_respond_bad_param(resp, "limit", "limit is a number of rows, 1..%d",
		                            NODE_QUERY_LIMIT_MAX);
		return -1;
	}
	*limit = (unsigned)v;
	return 0;
}

/* An optional id-shaped parameter (max bytes); *out NULL when absent. */
static int get_id(struct node_http_response *resp, const struct node_http_request *req,
                  const char *name, size_t max, const char **out)
{
	const char *s = node_http_query(req, name);

	if (s != NULL && !valid_id(s, max)) {
		node_http_respond_bad_param(
		    resp, name, "%s is an identifier: [a-z0-9][a-z0-9._-]*, 1..%zu bytes", name,
		    max);
		return -1;
	}
	*out = s;
	return 0;
}

/* An optional public key parameter in text form; *has 0 when absent. */
static int get_key(struct node_http_response *resp, const struct node_http_request *req,
                   const char *name, struct fwc_pubkey *pk, int *has)
{
	const char *s = node_http_query(req, name);
	struct fwc_errinfo ei = {0};

	*has = 0;
	if (s == NULL)
		return 0;
	if (fwc_pubkey_from_text(pk, s, strlen(s), &ei) != FWC_OK) {
		node_http_respond_bad_param(resp, name,
		                            "%s is a key, bip340:<64 hex> or ed25519:<64 hex>: %s",
		                            name, ei.msg[0] ? ei.msg : "not a valid key");
		return -1;
	}
	*has = 1;
	return 0;
}

/* An optional Unix time in seconds; *has 0 when absent. */
static int get_time(struct node_http_response *resp, const struct node_http_request *req,
                    const char *name, int64_t *t, int *has)
{
	const char *s = node_http_query(req, name);
	uint64_t v;

	*has = 0;
	if (s == NULL)
		return 0;
	if (parse_dec(&v, s, INT64_MAX) != 0) {
		node_http_respond_bad_param(
		    resp, name, "%s is a time in Unix seconds (a decimal number)", name);
		return -1;
	}
	*t = (int64_t)v;
	*has = 1;
	return 0;
}

/* from <= to when both are given (the error names "to"). */
static int get_range(struct node_http_response *resp, const struct node_http_request *req,
                     int64_t *from, int *has_from, int64_t *to, int *has_to)
{
	if (get_time(resp, req, "from", from, has_from) || get_time(resp, req, "to", to, has_to))
		return -1;
	if (*has_from && *has_to && *to < *from) {
		node_http_respond_bad_param(resp, "to", "to (%lld) is before from (%lld)",
		                            (long long)*to, (long long)*from);
		return -1;
	}
	return 0;
}

/* An optional choice among names (NULL-terminated); *idx -1 when absent. */
static int get_choice(struct node_http_response *resp, const struct node_http_request *req,
                      const char *name, const char *const *names, int *idx)
{
	const char *s = node_http_query(req, name);

	*idx = -1;
	if (s == NULL)
		return 0;
	for (int i = 0; names[i]; i++) {
		if (strcmp(s, names[i]) == 0) {
			*idx = i;
			return 0;
		}
	}
	node_http_respond_bad_param(resp, name, "%s is one of: %s%s%s%s%s", name, names[0],
	                            names[1] ? ", " : "", names[1] ? names[1] : "",
	                            names[1] && names[2] ? ", " : "",
	                            names[1] && names[2] ? names[2] : "");
	return -1;
}

/* type: a transaction type number (1..17) or its name ("release"); *type -1 when absent. */
static int get_type(struct node_http_response *resp, const struct node_http_request *req, int *type)
{
	const char *s = node_http_query(req, "type");
	uint64_t v;

	*type = -1;
	if (s == NULL)
		return 0;
	if (parse_dec(&v, s, FWC_TX_TYPE_MAX) == 0 && v >= 1) {
		*type = (int)v;
		return 0;
	}
	for (int t = 1; t <= FWC_TX_TYPE_MAX; t++) {
		const char *n = fwc_tx_type_name(t);

		if (n && strcmp(n, s) == 0) {
			*type = t;
			return 0;
		}
	}
	node_http_respond_bad_param(
	    resp, "type",
	    "type is a transaction type, 1..%d or its name (org-register, release, ...)",
	    FWC_TX_TYPE_MAX);
	return -1;
}

static const char *const kind_names[] = {NULL,        "checkin",     "downloaded", "installed",
                                         "confirmed", "rolled-back", "failed",     "postponed"};

/* kind: an event kind, 1..7 or >= 64 (vendor), or a name; *kind 0 when absent. */
static int get_kind(struct node_http_response *resp, const struct node_http_request *req,
                    uint64_t *kind)
{
	const char *s = node_http_query(req, "kind");
	uint64_t v;

	*kind = 0;
	if (s == NULL)
		return 0;
	if (parse_dec(&v, s, INT64_MAX) == 0 &&
	    ((v >= FWC_EVENT_CHECKIN && v <= FWC_EVENT_POSTPONED) || v >= FWC_EVENT_VENDOR_MIN)) {
		*kind = v;
		return 0;
	}
	for (uint64_t k = FWC_EVENT_CHECKIN; k <= FWC_EVENT_POSTPONED; k++) {
		if (strcmp(kind_names[k], s) == 0) {
			*kind = k;
			return 0;
		}
	}
	node_http_respond_bad_param(
	    resp, "kind",
	    "kind is an event kind: 1..7 (checkin, downloaded, installed, confirmed, "
	    "rolled-back, failed, postponed) or a vendor kind >= 64");
	return -1;
}

static int bad_cursor(struct node_http_response *resp)
{
	node_http_respond_bad_param(resp, "cursor",
	                            "cursor is the 'next' value of the previous page, unchanged");
	return -1;
}

/* A cursor that is a decimal position (audit and transaction listings). */
static int get_seq_cursor(struct node_http_response *resp, const struct node_http_request *req,
                          uint64_t *seq)
{
	const char *s = node_http_query(req, "cursor");

	*seq = 0;
	if (s == NULL)
		return 0;
	if (parse_dec(seq, s, INT64_MAX) != 0 || *seq == 0)
		return bad_cursor(resp);
	return 0;
}

/* ---------------------------------------------------------------------------------------- */
/* Pages                                                                                    */

/* A listing being built: rows go to items until limit; one more row means a next page. */
struct page {
	json_t *items;
	unsigned limit, n;
	int more, err;
	char cursor[CURSOR_MAX]; /* position of the last row in items */
	struct reader *r;
};

static int page_init(struct page *pg, unsigned limit, struct reader *r)
{
	memset(pg, 0, sizeof(*pg));
	pg->items = json_array();
	pg->limit = limit;
	pg->r = r;
	return pg->items ? 0 : -1;
}

/* 1 when this row is the one past the page (stop the walk), else 0. */
static int page_full(struct page *pg)
{
	if (pg->n < pg->limit)
		return 0;
	pg->more = 1;
	return 1;
}

/* Put the items and the next cursor into obj under the given names. */
static void page_finish(struct page *pg, json_t *obj, const char *items_name, int *err)
{
	put(obj, items_name, pg->items, err);
	pg->items = NULL;
	put(obj, "next", pg->more ? json_string(pg->cursor) : json_null(), err);
	if (pg->err)
		*err = 1;
}

/* ---------------------------------------------------------------------------------------- */
/* Row to JSON                                                                              */

static const char *const role_names[] = {"admin", "release", "operator", "gateway", "auditor"};

static json_t *roles_json(uint32_t roles)
{
	json_t *a = json_array();
	int err = 0;

	for (unsigned i = 0; i < 5; i++)
		if (roles & FWC_ROLE_BIT(i + 1))
			push(a, json_string(role_names[i]), &err);
	if (err) {
		json_decref(a);
		return NULL;
	}
	return a;
}

static json_t *org_json(const struct node_org_row *o)
{
	json_t *j = json_object();
	int err = 0;

	put(j, "id", jstr(o->id), &err);
	put(j, "name", jstr(o->name), &err);
	put(j, "created", jint(o->created), &err);
	put(j, "root", json_boolean(o->root), &err);
	if (err) {
		json_decref(j);
		return NULL;
	}
	return j;
}

static json_t *keyset_json(const uint8_t *enc, size_t len, uint64_t version)
{
	struct fwc_keyset ks;
	json_t *j, *keys;
	int err = 0;

	if (fwc_keyset_decode(&ks, enc, len, NULL) != FWC_OK)
		return NULL;
	j = json_object();
	keys = json_array();
	for (size_t i = 0; i < ks.n; i++) {
		json_t *k = json_object();

		put(k, "key", jkey(&ks.keys[i]), &err);
		put(k, "revoked", json_boolean(ks.revoked[i]), &err);
		push(keys, k, &err);
	}
	put(j, "version", juint(version), &err);
	put(j, "threshold", juint(ks.threshold), &err);
	put(j, "keys", keys, &err);
	if (err) {
		json_decref(j);
		return NULL;
	}
	return j;
}

static const char *const rollout_names[] = {"active", "paused", "halted"};

static json_t *release_json(const struct node_release_row *r)
{
	json_t *j = json_object();
	int err = 0;

	put(j, "id", jhex(r->id, 32), &err);
	put(j, "product", jstr(r->product), &err);
	put(j, "channel", jstr(r->channel), &err);
	put(j, "version", jstr(r->version), &err);
	put(j, "counter", juint(r->counter), &err);
	put(j, "cid", cid_text(r->cid, r->cid_len), &err);
	put(j, "size", juint(r->size), &err);
	put(j, "sha256", jhex(r->sha256, 32), &err);
	put(j, "rollout",
	    json_string(r->rollout >= 0 && r->rollout <= 2 ? rollout_names[r->rollout] : "unknown"),
	    &err);
	put(j, "revoked", json_boolean(r->revoked), &err);
	put(j, "time", jint(r->time), &err);
	put(j, "height", juint(r->height), &err);
	put(j, "tx", jhex(r->txid, 32), &err);
	if (err) {
		json_decref(j);
		return NULL;
	}
	return j;
}

/* A device's attributes: a CBOR map text -> text (as node/state.c stores them). */
static json_t *attrs_json(const uint8_t *p, size_t len)
{
	struct fwc_cbor_dec d;
	uint64_t n = 0;
	json_t *o = json_object();
	int err = 0;

	if (p == NULL || len == 0)
		return o;
	fwc_cbor_dec_init(&d, p, len, 256, NULL);
	if (fwc_cbor_get_map(&d, &n) != FWC_OK)
		err = 1;
	for (uint64_t i = 0; !err && i < n; i++) {
		const char *k, *v;
		size_t kl, vl;
		char kb[64], vb[256];

		if (fwc_cbor_get_text(&d, &k, &kl) != FWC_OK ||
		    fwc_cbor_get_text(&d, &v, &vl) != FWC_OK || kl >= sizeof(kb) ||
		    vl >= sizeof(vb)) {
			err = 1;
			break;
		}
		memcpy(kb, k, kl);
		kb[kl] = '\0';
		memcpy(vb, v, vl);
		vb[vl] = '\0';
		put(o, kb, jstr(vb), &err);
	}
	if (err) {
		json_decref(o);
		return json_null(); /* stored by another version; the rest of the row stands */
	}
	return o;
}

static json_t *groups_json(const char *groups)
{
	json_t *a = json_array();
	int err = 0;

	for (const char *p = groups; p && *p;) {
		const char *e = strchr(p, ',');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		char g[64];

		if (n > 0 && n < sizeof(g)) {
			memcpy(g, p, n);
			g[n] = '\0';
			push(a, jstr(g), &err);
		}
		p += n + (e ? 1 : 0);
	}
	if (err) {
		json_decref(a);
		return NULL;
	}
	return a;
}

static json_t *device_json(const struct node_device_row *d)
{
	json_t *j = json_object();
	int err = 0;

	put(j, "key", jkey(&d->key), &err);
	put(j, "product", jstr(d->product), &err);
	put(j, "hwid", jstr(d->hwid), &err);
	put(j, "region", jstr(d->region), &err);
	put(j, "groups", groups_json(d->groups), &err);
	put(j, "attributes", attrs_json(d->attrs, d->attrs_len), &err);
	put(j, "counter", juint(d->counter), &err);
	put(j, "last_seq", juint(d->last_seq), &err);
	put(j, "status", json_string(d->retired ? "retired" : "active"), &err);
	put(j, "registered", jint(d->registered), &err);
	if (err) {
		json_decref(j);
		return NULL;
	}
	return j;
}

static json_t *event_json(const struct node_event_row *e)
{
	json_t *j = json_object();
	int err = 0;

	put(j, "device", jkey(&e->device), &err);
	put(j, "product", jstr(e->product), &err);
	put(j, "seq", juint(e->seq), &err);
	put(j, "kind", juint(e->kind), &err);
	put(j, "kind_name",
	    json_string(e->kind >= 1 && e->kind <= 7 ? kind_names[e->kind] : "vendor"), &err);
	put(j, "device_time", juint(e->device_time), &err);
	put(j, "release", e->release ? jhex(e->release, 32) : json_null(), &err);
	if (e->has_counter)
		put(j, "counter", juint(e->counter), &err);
	put(j, "detail", jstr(e->detail), &err);
	put(j, "relay", jkey(&e->relay), &err);
	put(j, "time", jint(e->time), &err);
	put(j, "height", juint(e->height), &err);
	if (err) {
		json_decref(j);
		return NULL;
	}
	return j;
}

/* ---------------------------------------------------------------------------------------- */
/* GET /v1/orgs, /v1/orgs/{id}                                                              */

static int orgs_row(void *ctx, const struct node_org_row *o)
{
	struct page *pg = ctx;
	json_t *j;

	if (page_full(pg))
		return 1;
	if ((j = org_json(o)) == NULL) {
		pg->err = 1;
		return 1;
	}
	push(pg->items, j, &pg->err);
	snprintf(pg->cursor, sizeof(pg->cursor), "%s", o->id);
	pg->n++;
	return pg->err;
}

void node_query_h_orgs(void *ctx, struct node_http_response *resp,
                       const struct node_http_request *req)
{
	static const char *const allowed[] = {"limit", "cursor", NULL};
	struct node_query *q = ctx;
	const char *cursor;
	struct reader *r;
	struct page pg;
	unsigned limit;
	json_t *obj;
	int err = 0, rc;

	if (params_check(resp, req, allowed) || get_limit(resp, req, &limit) ||
	    get_id(resp, req, "cursor", 64, &cursor) || (r = reader_get(q, resp)) == NULL)
		return;
	if (page_init(&pg, limit, r) != 0) {
		reader_put(q, r);
		internal(resp, "out of memory");
		return;
	}
	rc = node_stateq_orgs(r->q, cursor, limit + 1, orgs_row, &pg);
	reader_put(q, r);
	if (rc != FWC_OK) {
		json_decref(pg.items);
		internal(resp, "state read failed");
		return;
	}
	obj = json_object();
	page_finish(&pg, obj, "items", &err);
	if (err) {
		json_decref(obj);
		internal(resp, "cannot build the answer");
		return;
	}
	respond_ok(resp, obj);
}

struct one {
	json_t *obj;
	int err;
};

static int org_one(void *ctx, const struct node_org_row *o)
{
	struct one *one = ctx;

	one->obj = org_json(o);
	one->err = one->obj == NULL;
	return 1;
}

static int members_row(void *ctx, const struct node_member_row *m)
{
	struct page *pg = ctx;
	json_t *j;
	char t[FWC_PUBKEY_TEXT_MAX];

	if (page_full(pg))
		return 1;
	j = json_object();
	put(j, "key", jkey(&m->key), &pg->err);
	put(j, "roles", roles_json(m->roles), &pg->err);
	put(j, "label", jstr(m->label), &pg->err);
	put(j, "since", jint(m->since), &pg->err);
	push(pg->items, j, &pg->err);
	if (fwc_pubkey_to_text(t, sizeof(t), &m->key) == FWC_OK)
		snprintf(pg->cursor, sizeof(pg->cursor), "%s", t);
	pg->n++;
	return pg->err;
}

void node_query_h_org(void *ctx, struct node_http_response *resp,
                      const struct node_http_request *req)
{
	static const char *const allowed[] = {"limit", "cursor", NULL};
	struct node_query *q = ctx;
	struct fwc_pubkey after;
	struct one one = {NULL, 0};
	struct reader *r;
	struct page pg;
	unsigned limit;
	int has_after = 0, rc, err = 0;
	const char *id = req->captures[0];

	if (!valid_id(id, 64)) {
		node_http_respond_error(resp, 400, "bad_id",
		                        "an organisation id is [a-z0-9][a-z0-9._-]*, 1..64 bytes");
		return;
	}
	if (params_check(resp, req, allowed) || get_limit(resp, req, &limit) ||
	    get_key(resp, req, "cursor", &after, &has_after) || (r = reader_get(q, resp)) == NULL)
		return;
	rc = node_stateq_org_get(r->q, id, org_one, &one);
	if (rc == FWC_ERR_NOT_FOUND || rc != FWC_OK || one.err) {
		reader_put(q, r);
		json_decref(one.obj);
		if (rc == FWC_ERR_NOT_FOUND)
			node_http_respond_error(resp, 404, "unknown_org", "no organisation '%s'",
			                        id);
		else
			internal(resp, "state read failed");
		return;
	}
	if (page_init(&pg, limit, r) != 0) {
		reader_put(q, r);
		json_decref(one.obj);
		internal(resp, "out of memory");
		return;
	}
	rc = node_stateq_members(r->q, id, has_after ? &after : NULL, limit + 1, members_row, &pg);
	reader_put(q, r);
	page_finish(&pg, one.obj, "members", &err);
	if (rc != FWC_OK || err) {
		json_decref(one.obj);
		internal(resp, "state read failed");
		return;
	}
	respond_ok(resp, one.obj);
}

/* ---------------------------------------------------------------------------------------- */
/* GET /v1/products, /v1/products/{id}                                                      */

static int products_row(void *ctx, const struct node_product_row *p)
{
	struct page *pg = ctx;
	json_t *j;

	if (page_full(pg))
		return 1;
	j = json_object();
	put(j, "id", jstr(p->id), &pg->err);
	put(j, "org", jstr(p->org), &pg->err);
	put(j, "name", jstr(p->name), &pg->err);
	put(j, "created", jint(p->created), &pg->err);
	put(j, "root_version", juint(p->root_version), &pg->err);
	put(j, "release_version", juint(p->release_version), &pg->err);
	push(pg->items, j, &pg->err);
	snprintf(pg->cursor, sizeof(pg->cursor), "%s", p->id);
	pg->n++;
	return pg->err;
}

void node_query_h_products(void *ctx, struct node_http_response *resp,
                           const struct node_http_request *req)
{
	static const char *const allowed[] = {"org", "limit", "cursor", NULL};
	struct node_query *q = ctx;
	const char *org, *cursor;
	struct reader *r;
	struct page pg;
	unsigned limit;
	json_t *obj;
	int err = 0, rc;

	if (params_check(resp, req, allowed) || get_id(resp, req, "org", 64, &org) ||
	    get_limit(resp, req, &limit) || get_id(resp, req, "cursor", 64, &cursor) ||
	    (r = reader_get(q, resp)) == NULL)
		return;
	if (page_init(&pg, limit, r) != 0) {
		reader_put(q, r);
		internal(resp, "out of memory");
		return;
	}
	rc = node_stateq_products(r->q, org, cursor, limit + 1, products_row, &pg);
	reader_put(q, r);
	obj = json_object();
	page_finish(&pg, obj, "items", &err);
	if (rc != FWC_OK || err) {
		json_decref(obj);
		internal(resp, "state read failed");
		return;
	}
	respond_ok(resp, obj);
}

static int product_one(void *ctx, const struct node_product_row *p)
{
	struct one *one = ctx;
	json_t *j = json_object();

	put(j, "id", jstr(p->id), &one->err);
	put(j, "org", jstr(p->org), &one->err);
	put(j, "name", jstr(p->name), &one->err);
	put(j, "created", jint(p->created), &one->err);
	put(j, "root_set", keyset_json(p->root_set, p->root_set_len, p->root_version), &one->err);
	put(j, "release_set",
	    p->release_set ? keyset_json(p->release_set, p->release_set_len, p->release_version)
	                   : json_null(),
	    &one->err);
	one->obj = j;
	return 1;
}

static int revoked_key_row(void *ctx, const struct node_revoked_key_row *rk)
{
	struct page *pg = ctx;
	json_t *j = json_object();

	put(j, "key", jkey(&rk->key), &pg->err);
	put(j, "org", jstr(rk->org), &pg->err);
	put(j, "reason", jstr(rk->reason), &pg->err);
	put(j, "time", jint(rk->time), &pg->err);
	put(j, "tx", jhex(rk->txid, 32), &pg->err);
	push(pg->items, j, &pg->err);
	return pg->err;
}

static int revoked_release_row(void *ctx, const struct node_release_row *rel)
{
	struct page *pg = ctx;
	json_t *j;

	if (page_full(pg))
		return 1;
	j = json_object();
	put(j, "id", jhex(rel->id, 32), &pg->err);
	put(j, "channel", jstr(rel->channel), &pg->err);
	put(j, "counter", juint(rel->counter), &pg->err);
	put(j, "version", jstr(rel->version), &pg->err);
	push(pg->items, j, &pg->err);
	pg->n++;
	return pg->err;
}

void node_query_h_product(void *ctx, struct node_http_response *resp,
                          const struct node_http_request *req)
{
	static const char *const allowed[] = {NULL};
	struct node_query *q = ctx;
	struct one one = {NULL, 0};
	struct page keys, rels;
	struct reader *r;
	const char *id = req->captures[0];
	int rc, err = 0;

	if (!valid_id(id, 64)) {
		node_http_respond_error(resp, 400, "bad_id",
		                        "a product id is [a-z0-9][a-z0-9._-]*, 1..64 bytes");
		return;
	}
	if (params_check(resp, req, allowed) || (r = reader_get(q, resp)) == NULL)
		return;
	rc = node_stateq_product_get(r->q, id, product_one, &one);
	if (rc != FWC_OK || one.err) {
		reader_put(q, r);
		json_decref(one.obj);
		if (rc == FWC_ERR_NOT_FOUND)
			node_http_respond_error(resp, 404, "unknown_product", "no product '%s'",
			                        id);
		else
			internal(resp, "state read failed");
		return;
	}
	if (page_init(&keys, 0, r) != 0 || page_init(&rels, REVOKED_RELEASES_MAX, r) != 0) {
		json_decref(keys.items);
		reader_put(q, r);
		json_decref(one.obj);
		internal(resp, "out of memory");
		return;
	}
	rc = node_stateq_product_revoked_keys(r->q, id, revoked_key_row, &keys);
	if (rc == FWC_OK)
		rc = node_stateq_releases(r->q, id, NULL, 0, 0, NULL, 1, REVOKED_RELEASES_MAX + 1,
		                          revoked_release_row, &rels);
	reader_put(q, r);
	put(one.obj, "revoked_keys", keys.items, &err);
	put(one.obj, "revoked_releases", rels.items, &err);
	put(one.obj, "revoked_releases_more", json_boolean(rels.more), &err);
	if (rc != FWC_OK || err || keys.err || rels.err) {
		json_decref(one.obj);
		internal(resp, "state read failed");
		return;
	}
	respond_ok(resp, one.obj);
}

/* ---------------------------------------------------------------------------------------- */
/* GET /v1/products/{id}/releases, /v1/releases/{id}                                        */

static int releases_row(void *ctx, const struct node_release_row *rel)
{
	struct page *pg = ctx;
	json_t *j;
	char ch[2 * FWC_MANIFEST_CHANNEL_MAX + 1] = "";
	size_t cl = strlen(rel->channel);

	if (page_full(pg))
		return 1;
	if ((j = release_json(rel)) == NULL) {
		pg->err = 1;
		return 1;
	}
	push(pg->items, j, &pg->err);
	/* The position: counter, then the channel in hex (any bytes survive a URL that way). */
	if (cl <= FWC_MANIFEST_CHANNEL_MAX)
		fwc_hex_encode(ch, sizeof(ch), (const uint8_t *)rel->channel, cl);
	snprintf(pg->cursor, sizeof(pg->cursor), "%llu.%s", (unsigned long long)rel->counter, ch);
	pg->n++;
	return pg->err;
}

/* "<counter>.<channel hex>" */
static int parse_release_cursor(const char *s, uint64_t *counter, char *channel, size_t cap)
{
	const char *dot = strchr(s, '.');
	char num[24];
	size_t hl, n = 0;

	if (dot == NULL || (size_t)(dot - s) >= sizeof(num))
		return -1;
	memcpy(num, s, (size_t)(dot - s));
	num[dot - s] = '\0';
	hl = strlen(dot + 1);
	if (parse_dec(counter, num, INT64_MAX) != 0 || hl == 0 || hl / 2 >= cap ||
	    fwc_hex_decode((uint8_t *)channel, cap - 1, &n, dot + 1, hl) != FWC_OK ||
	    memchr(channel, '\0', n) != NULL)
		return -1;
	channel[n] = '\0';
	return 0;
}

static int product_exists(void *ctx, const struct node_product_row *p)
{
	(void)ctx;
	(void)p;
	return 1;
}

void node_query_h_product_releases(void *ctx, struct node_http_response *resp,
                                   const struct node_http_request *req)
{
	static const char *const allowed[] = {"channel", "limit", "cursor", NULL};
	struct node_query *q = ctx;
	const char *id = req->captures[0], *channel = node_http_query(req, "channel");
	const char *cursor = node_http_query(req, "cursor");
	char after_channel[FWC_MANIFEST_CHANNEL_MAX + 1] = "";
	uint64_t after_counter = 0;
	struct reader *r;
	struct page pg;
	unsigned limit;
	json_t *obj;
	int rc, err = 0;

	if (!valid_id(id, 64)) {
		node_http_respond_error(resp, 400, "bad_id",
		                        "a product id is [a-z0-9][a-z0-9._-]*, 1..64 bytes");
		return;
	}
	if (params_check(resp, req, allowed) || get_limit(resp, req, &limit))
		return;
	if (channel && (channel[0] == '\0' || strlen(channel) > FWC_MANIFEST_CHANNEL_MAX)) {
		node_http_respond_bad_param(resp, "channel",
		                            "channel is 1..%d bytes (\"stable\", \"beta\")",
		                            FWC_MANIFEST_CHANNEL_MAX);
		return;
	}
	if (cursor && parse_release_cursor(cursor, &after_counter, after_channel,
	                                   sizeof(after_channel)) != 0) {
		bad_cursor(resp);
		return;
	}
	if ((r = reader_get(q, resp)) == NULL)
		return;
	rc = node_stateq_product_get(r->q, id, product_exists, NULL);
	if (rc != FWC_OK) {
		reader_put(q, r);
		if (rc == FWC_ERR_NOT_FOUND)
			node_http_respond_error(resp, 404, "unknown_product", "no product '%s'",
			                        id);
		else
			internal(resp, "state read failed");
		return;
	}
	if (page_init(&pg, limit, r) != 0) {
		reader_put(q, r);
		internal(resp, "out of memory");
		return;
	}
	rc = node_stateq_releases(r->q, id, channel, cursor != NULL, after_counter, after_channel,
	                          -1, limit + 1, releases_row, &pg);
	reader_put(q, r);
	obj = json_object();
	page_finish(&pg, obj, "items", &err);
	if (rc != FWC_OK || err) {
		json_decref(obj);
		internal(resp, "state read failed");
		return;
	}
	respond_ok(resp, obj);
}

/* Manifest fields beyond the release row: hardware, rollout policy, encryption, licence,
 * metadata and signers, decoded from the signed manifest as published. */
static void manifest_details(json_t *j, const uint8_t *sm_bytes, size_t len, int *err)
{
	struct fwc_signed_manifest sm;
	const struct fwc_manifest *m = &sm.manifest;
	json_t *hw, *signers, *md;
	char buf[FWC_MANIFEST_META_MAX + 1];

	if (fwc_signed_manifest_decode(&sm, sm_bytes, len, NULL) != FWC_OK) {
		*err = 1;
		return;
	}
	hw = json_array();
	for (size_t i = 0; i < m->n_hw; i++) {
		snprintf(buf, sizeof(buf), "%.*s", (int)m->hw[i].len, m->hw[i].p);
		push(hw, jstr(buf), err);
	}
	put(j, "hardware", hw, err);
	put(j, "created", juint(m->created), err);
	if (m->has_rollout) {
		json_t *ro = json_object(), *g = json_array(), *rg = json_array();

		if (m->rollout.has_bps)
			put(ro, "percent_bps", juint(m->rollout.bps), err);
		if (m->rollout.has_not_before)
			put(ro, "not_before", juint(m->rollout.not_before), err);
		for (size_t i = 0; i < m->rollout.n_groups; i++) {
			snprintf(buf, sizeof(buf), "%.*s", (int)m->rollout.groups[i].len,
			         m->rollout.groups[i].p);
			push(g, jstr(buf), err);
		}
		for (size_t i = 0; i < m->rollout.n_regions; i++) {
			snprintf(buf, sizeof(buf), "%.*s", (int)m->rollout.regions[i].len,
			         m->rollout.regions[i].p);
			push(rg, jstr(buf), err);
		}
		put(ro, "groups", g, err);
		put(ro, "regions", rg, err);
		put(j, "rollout_policy", ro, err);
	}
	if (m->has_encryption) {
		json_t *en = json_object();

		snprintf(buf, sizeof(buf), "%.*s", (int)m->encryption.alg.len, m->encryption.alg.p);
		put(en, "alg", jstr(buf), err);
		put(en, "key_id", jhex(m->encryption.key_id.p, m->encryption.key_id.len), err);
		put(j, "encryption", en, err);
	}
	if (m->has_licence) {
		snprintf(buf, sizeof(buf), "%.*s", (int)m->licence.len, m->licence.p);
		put(j, "licence", jstr(buf), err);
	}
	if (m->has_metadata) {
		/* Free bytes: hex always, and as text too when they are UTF-8 without NUL. */
		char hex[2 * FWC_MANIFEST_META_MAX + 1] = "";

		md = json_object();
		fwc_hex_encode(hex, sizeof(hex), m->metadata.p, m->metadata.len);
		put(md, "hex", json_string(hex), err);
		if (fwc_utf8_valid(m->metadata.p, m->metadata.len, NULL) &&
		    memchr(m->metadata.p, '\0', m->metadata.len) == NULL)
			put(md, "text", json_stringn((const char *)m->metadata.p, m->metadata.len),
			    err);
		put(j, "metadata", md, err);
	}
	signers = json_array();
	for (size_t i = 0; i < sm.n_sigs; i++) {
		struct fwc_pubkey pk;

		if (fwc_pubkey_from_bin(&pk, sm.sigs[i].pubkey, FWC_PUBKEY_BIN_LEN, NULL) == FWC_OK)
			push(signers, jkey(&pk), err);
	}
	put(j, "signers", signers, err);
}

struct release_one {
	json_t *obj;
	int err;
	uint8_t *manifest;
	size_t manifest_len;
};

static int release_one(void *ctx, const struct node_release_row *rel)
{
	struct release_one *one = ctx;

	one->obj = release_json(rel);
	one->manifest = malloc(rel->manifest_len ? rel->manifest_len : 1);
	if (one->obj == NULL || one->manifest == NULL) {
		one->err = 1;
		return 1;
	}
	memcpy(one->manifest, rel->manifest, rel->manifest_len);
	one->manifest_len = rel->manifest_len;
	return 1;
}

void node_query_h_release(void *ctx, struct node_http_response *resp,
                          const struct node_http_request *req)
{
	static const char *const allowed[] = {NULL};
	struct node_query *q = ctx;
	struct release_one one = {NULL, 0, NULL, 0};
	struct reader *r;
	uint8_t id[32];
	size_t n = 0;
	char reason[256], *b64 = NULL;
	int64_t rtime = 0;
	int revoked = 0, rc, err = 0;

	if (strlen(req->captures[0]) != 64 ||
	    fwc_hex_decode(id, sizeof(id), &n, req->captures[0], 64) != FWC_OK || n != 32) {
		node_http_respond_error(resp, 400, "bad_id",
		                        "a release id is 64 hex digits (the manifest digest)");
		return;
	}
	if (params_check(resp, req, allowed) || (r = reader_get(q, resp)) == NULL)
		return;
	rc = node_state_release_get(r->st, id, release_one, &one);
	if (rc == FWC_OK && !one.err)
		rc = node_stateq_release_revocation(r->q, id, &revoked, reason, sizeof(reason),
		                                    &rtime);
	reader_put(q, r);
	if (rc != FWC_OK || one.err) {
		json_decref(one.obj);
		free(one.manifest);
		if (rc == FWC_ERR_NOT_FOUND)
			node_http_respond_error(resp, 404, "unknown_release", "no release %s",
			                        req->captures[0]);
		else
			internal(resp, "state read failed");
		return;
	}
	manifest_details(one.obj, one.manifest, one.manifest_len, &err);
	if (revoked) {
		json_t *rv = json_object();

		put(rv, "reason", jstr(reason), &err);
		put(rv, "time", jint(rtime), &err);
		put(one.obj, "revocation", rv, &err);
	}
	/* The signed manifest as published: what a device verifies, byte for byte. */
	b64 = malloc(FWC_BASE64_LEN(one.manifest_len) + 1);
	if (b64 == NULL || fwc_base64_encode(b64, FWC_BASE64_LEN(one.manifest_len) + 1, NULL,
	                                     one.manifest, one.manifest_len) != FWC_OK)
		err = 1;
	else
		put(one.obj, "manifest", json_string(b64), &err);
	free(b64);
	free(one.manifest);
	if (err) {
		json_decref(one.obj);
		internal(resp, "cannot describe the release");
		return;
	}
	respond_ok(resp, one.obj);
}

/* ---------------------------------------------------------------------------------------- */
/* GET /v1/devices, /v1/devices/{key}                                                       */

static int devices_row(void *ctx, const struct node_device_row *d)
{
	struct page *pg = ctx;
	json_t *j;
	char t[FWC_PUBKEY_TEXT_MAX];

	if (page_full(pg))
		return 1;
	if ((j = device_json(d)) == NULL) {
		pg->err = 1;
		return 1;
	}
	push(pg->items, j, &pg->err);
	if (fwc_pubkey_to_text(t, sizeof(t), &d->key) == FWC_OK)
		snprintf(pg->cursor, sizeof(pg->cursor), "%s", t);
	pg->n++;
	return pg->err;
}

static const char *const device_status_names[] = {"active", "retired", NULL};

void node_query_h_devices(void *ctx, struct node_http_response *resp,
                          const struct node_http_request *req)
{
	static const char *const allowed[] = {"product", "group",  "status",
	                                      "limit",   "cursor", NULL};
	struct node_query *q = ctx;
	struct node_device_filter f;
	struct fwc_pubkey after;
	struct reader *r;
	struct page pg;
	json_t *obj;
	int has_after = 0, status, rc, err = 0;

	memset(&f, 0, sizeof(f));
	if (params_check(resp, req, allowed) || get_id(resp, req, "product", 64, &f.product) ||
	    get_id(resp, req, "group", 32, &f.group) ||
	    get_choice(resp, req, "status", device_status_names, &status) ||
	    get_limit(resp, req, &f.limit) || get_key(resp, req, "cursor", &after, &has_after))
		return;
	if (f.group && f.product == NULL) {
		node_http_respond_bad_param(resp, "group",
		                            "group needs product: group names belong to a product");
		return;
	}
	f.retired = status;
	f.after = has_after ? &after : NULL;
	if ((r = reader_get(q, resp)) == NULL)
		return;
	if (page_init(&pg, f.limit, r) != 0) {
		reader_put(q, r);
		internal(resp, "out of memory");
		return;
	}
	f.limit++;
	rc = node_stateq_devices(r->q, &f, devices_row, &pg);
	reader_put(q, r);
	obj = json_object();
	page_finish(&pg, obj, "items", &err);
	if (rc != FWC_OK || err) {
		json_decref(obj);
		internal(resp, "state read failed");
		return;
	}
	respond_ok(resp, obj);
}

static int device_one(void *ctx, const struct node_device_row *d)
{
	struct one *one = ctx;

	one->obj = device_json(d);
	one->err = one->obj == NULL;
	return 1;
}

/* Event cursor: "<time>.<seq>.<device key text>". */
static void event_cursor(char *out, size_t cap, const struct node_event_row *e)
{
	char t[FWC_PUBKEY_TEXT_MAX] = "";

	(void)fwc_pubkey_to_text(t, sizeof(t), &e->device);
	snprintf(out, cap, "%lld.%llu.%s", (long long)e->time, (unsigned long long)e->seq, t);
}

static int parse_event_cursor(const char *s, struct node_event_filter *f)
{
	const char *d1 = strchr(s, '.'), *d2 = d1 ? strchr(d1 + 1, '.') : NULL;
	char num[24];
	uint64_t t;

	if (d1 == NULL || d2 == NULL || (size_t)(d1 - s) >= sizeof(num) ||
	    (size_t)(d2 - d1 - 1) >= sizeof(num))
		return -1;
	memcpy(num, s, (size_t)(d1 - s));
	num[d1 - s] = '\0';
	if (parse_dec(&t, num, INT64_MAX) != 0)
		return -1;
	memcpy(num, d1 + 1, (size_t)(d2 - d1 - 1));
	num[d2 - d1 - 1] = '\0';
	if (parse_dec(&f->after_seq, num, INT64_MAX) != 0 ||
	    fwc_pubkey_from_text(&f->after_device, d2 + 1, strlen(d2 + 1), NULL) != FWC_OK)
		return -1;
	f->after_time = (int64_t)t;
	f->has_after = 1;
	return 0;
}

static int events_row(void *ctx, const struct node_event_row *e)
{
	struct page *pg = ctx;
	json_t *j;

	if (page_full(pg))
		return 1;
	if ((j = event_json(e)) == NULL) {
		pg->err = 1;
		return 1;
	}
	push(pg->items, j, &pg->err);
	event_cursor(pg->cursor, sizeof(pg->cursor), e);
	pg->n++;
	return pg->err;
}

void node_query_h_device(void *ctx, struct node_http_response *resp,
                         const struct node_http_request *req)
{
	static const char *const allowed[] = {"limit", "cursor", NULL};
	struct node_query *q = ctx;
	struct node_event_filter f;
	struct fwc_pubkey key;
	struct one one = {NULL, 0};
	struct reader *r;
	struct page pg;
	json_t *hist;
	uint8_t rid[32];
	const char *cursor = node_http_query(req, "cursor");
	int has = 0, rc, err = 0;

	if (fwc_pubkey_from_text(&key, req->captures[0], strlen(req->captures[0]), NULL) !=
	    FWC_OK) {
		node_http_respond_error(resp, 400, "bad_id",
		                        "a device is named by its key: bip340:<64 hex> or "
		                        "ed25519:<64 hex>");
		return;
	}
	memset(&f, 0, sizeof(f));
	if (params_check(resp, req, allowed) || get_limit(resp, req, &f.limit))
		return;
	if (cursor && parse_event_cursor(cursor, &f) != 0) {
		bad_cursor(resp);
		return;
	}
	if ((r = reader_get(q, resp)) == NULL)
		return;
	rc = node_state_device_get(r->st, &key, device_one, &one);
	if (rc == FWC_OK && !one.err)
		rc = node_stateq_device_release(r->q, &key, rid, &has);
	if (rc != FWC_OK || one.err) {
		reader_put(q, r);
		json_decref(one.obj);
		if (rc == FWC_ERR_NOT_FOUND)
			node_http_respond_error(resp, 404, "unknown_device", "no device %s",
			                        req->captures[0]);
		else
			internal(resp, "state read failed");
		return;
	}
	put(one.obj, "release", has ? jhex(rid, 32) : json_null(), &err);
	if (page_init(&pg, f.limit, r) != 0) {
		reader_put(q, r);
		json_decref(one.obj);
		internal(resp, "out of memory");
		return;
	}
	/* The history: this device's events, newest first. */
	f.device = &key;
	f.desc = 1;
	f.limit++;
	rc = node_stateq_events(r->q, &f, events_row, &pg);
	reader_put(q, r);
	hist = json_object();
	page_finish(&pg, hist, "items", &err);
	put(one.obj, "history", hist, &err);
	if (rc != FWC_OK || err) {
		json_decref(one.obj);
		internal(resp, "state read failed");
		return;
	}
	respond_ok(resp, one.obj);
}

/* ---------------------------------------------------------------------------------------- */
/* GET /v1/events                                                                           */

void node_query_h_events(void *ctx, struct node_http_response *resp,
                         const struct node_http_request *req)
{
	static const char *const allowed[] = {"device", "product", "kind",   "from",
	                                      "to",     "limit",   "cursor", NULL};
	struct node_query *q = ctx;
	struct node_event_filter f;
	struct fwc_pubkey dev;
	struct reader *r;
	struct page pg;
	const char *cursor = node_http_query(req, "cursor");
	json_t *obj;
	int has_dev = 0, rc, err = 0;

	memset(&f, 0, sizeof(f));
	if (params_check(resp, req, allowed) || get_key(resp, req, "device", &dev, &has_dev) ||
	    get_id(resp, req, "product", 64, &f.product) || get_kind(resp, req, &f.kind) ||
	    get_range(resp, req, &f.from, &f.has_from, &f.to, &f.has_to) ||
	    get_limit(resp, req, &f.limit))
		return;
	if (!has_dev && f.product == NULL) {
		node_http_respond_bad_param(resp, "product", "give product= or device= (or both)");
		return;
	}
	f.device = has_dev ? &dev : NULL;
	if (cursor && parse_event_cursor(cursor, &f) != 0) {
		bad_cursor(resp);
		return;
	}
	if ((r = reader_get(q, resp)) == NULL)
		return;
	if (page_init(&pg, f.limit, r) != 0) {
		reader_put(q, r);
		internal(resp, "out of memory");
		return;
	}
	f.limit++;
	rc = node_stateq_events(r->q, &f, events_row, &pg);
	reader_put(q, r);
	obj = json_object();
	page_finish(&pg, obj, "items", &err);
	if (rc != FWC_OK || err) {
		json_decref(obj);
		internal(resp, "state read failed");
		return;
	}
	respond_ok(resp, obj);
}

/* ---------------------------------------------------------------------------------------- */
/* GET /v1/txs, /v1/audit                                                                   */

struct audit_page {
	struct page pg;
	int as_txs; /* the /v1/txs shape rather than the audit one */
};

static int audit_row(void *ctx, const struct node_audit_log_row *row)
{
	struct audit_page *ap = ctx;
	struct page *pg = &ap->pg;
	const struct node_audit_row *a = &row->a;
	const char *tn = fwc_tx_type_name(a->type);
	json_t *j;

	if (page_full(pg))
		return 1;
	j = json_object();
	if (ap->as_txs) {
		put(j, "id", jhex(a->txid, 32), &pg->err);
	} else {
		put(j, "seq", juint(a->seq), &pg->err);
		put(j, "tx", jhex(a->txid, 32), &pg->err);
	}
	put(j, "type", jint(a->type), &pg->err);
	put(j, "type_name", jstr(tn ? tn : "unknown"), &pg->err);
	put(j, "sender", jkey(&a->sender), &pg->err);
	if (row->in_log) {
		put(j, "nonce", juint(row->nonce), &pg->err);
		put(j, "leaf_index", juint(row->leaf_index), &pg->err);
	}
	put(j, "height", juint(a->height), &pg->err);
	put(j, "time", jint(a->time), &pg->err);
	put(j, "status", json_string(a->refusal[0] ? "failed" : "applied"), &pg->err);
	if (a->refusal[0])
		put(j, "refusal", jstr(a->refusal), &pg->err);
	put(j, "org", jstr(a->org), &pg->err);
	put(j, "product", jstr(a->product), &pg->err);
	put(j, "subject", jstr(a->subject), &pg->err);
	push(pg->items, j, &pg->err);
	snprintf(pg->cursor, sizeof(pg->cursor), "%llu", (unsigned long long)a->seq);
	pg->n++;
	return pg->err;
}

static const char *const audit_status_names[] = {"applied", "failed", NULL};
static const char *const order_names[] = {"asc", "desc", NULL};

static void audit_answer(struct node_query *q, struct node_http_response *resp,
                         struct node_audit_query *f, int as_txs)
{
	struct audit_page ap;
	struct reader *r;
	json_t *obj;
	int rc, err = 0;

	if ((r = reader_get(q, resp)) == NULL)
		return;
	if (page_init(&ap.pg, f->limit, r) != 0) {
		reader_put(q, r);
		internal(resp, "out of memory");
		return;
	}
	ap.as_txs = as_txs;
	f->limit++;
	rc = node_stateq_audit(r->q, f, audit_row, &ap);
	reader_put(q, r);
	obj = json_object();
	page_finish(&ap.pg, obj, "items", &err);
	if (rc != FWC_OK || err) {
		json_decref(obj);
		internal(resp, "state read failed");
		return;
	}
	respond_ok(resp, obj);
}

void node_query_h_txs(void *ctx, struct node_http_response *resp,
                      const struct node_http_request *req)
{
	static const char *const allowed[] = {"sender", "type",   "status", "order",
	                                      "limit",  "cursor", NULL};
	struct node_audit_query f;
	struct fwc_pubkey sender;
	int has_sender = 0, status, order;

	memset(&f, 0, sizeof(f));
	if (params_check(resp, req, allowed) ||
	    get_key(resp, req, "sender", &sender, &has_sender) || get_type(resp, req, &f.type) ||
	    get_choice(resp, req, "status", audit_status_names, &status) ||
	    get_choice(resp, req, "order", order_names, &order) || get_limit(resp, req, &f.limit) ||
	    get_seq_cursor(resp, req, &f.after))
		return;
	f.sender = has_sender ? &sender : NULL;
	f.failed = status;
	f.desc = order == 1;
	f.with_log = 1;
	audit_answer(ctx, resp, &f, 1);
}

void node_query_h_audit(void *ctx, struct node_http_response *resp,
                        const struct node_http_request *req)
{
	static const char *const allowed[] = {"actor", "org",    "device", "product",
	                                      "type",  "status", "from",   "to",
	                                      "order", "limit",  "cursor", NULL};
	struct node_audit_query f;
	struct fwc_pubkey actor, device;
	char subject[FWC_PUBKEY_TEXT_MAX];
	int has_actor = 0, has_device = 0, status, order;

	memset(&f, 0, sizeof(f));
	if (params_check(resp, req, allowed) || get_key(resp, req, "actor", &actor, &has_actor) ||
	    get_id(resp, req, "org", 64, &f.org) ||
	    get_key(resp, req, "device", &device, &has_device) ||
	    get_id(resp, req, "product", 64, &f.product) || get_type(resp, req, &f.type) ||
	    get_choice(resp, req, "status", audit_status_names, &status) ||
	    get_range(resp, req, &f.from, &f.has_from, &f.to, &f.has_to) ||
	    get_choice(resp, req, "order", order_names, &order) || get_limit(resp, req, &f.limit) ||
	    get_seq_cursor(resp, req, &f.after))
		return;
	f.sender = has_actor ? &actor : NULL;
	/* A device's rows are those whose subject is its key (registration, updates, events,
	 * postponements): node/state.c writes the key's text form there. */
	if (has_device && fwc_pubkey_to_text(subject, sizeof(subject), &device) == FWC_OK)
		f.subject = subject;
	f.failed = status;
	f.desc = order == 1;
	audit_answer(ctx, resp, &f, 0);
}

/* ---------------------------------------------------------------------------------------- */

const struct node_http_route node_query_routes[] = {
    {"GET", "/v1/orgs", node_query_h_orgs},
    {"GET", "/v1/orgs/{}", node_query_h_org},
    {"GET", "/v1/products", node_query_h_products},
    {"GET", "/v1/products/{}", node_query_h_product},
    {"GET", "/v1/products/{}/releases", node_query_h_product_releases},
    {"GET", "/v1/releases/{}", node_query_h_release},
    {"GET", "/v1/devices", node_query_h_devices},
    {"GET", "/v1/devices/{}", node_query_h_device},
    {"GET", "/v1/events", node_query_h_events},
    {"GET", "/v1/txs", node_query_h_txs},
    {"GET", "/v1/audit", node_query_h_audit},
};
const size_t node_query_nroutes = sizeof(node_query_routes) / sizeof(node_query_routes[0]);
