/* fwchaind HTTP layer: request-target parsing, a route table, JSON errors, ETags (pure code),
 * and a libmicrohttpd server that feeds it.
 *
 * Design: libmicrohttpd only moves bytes. We take the raw request target from its URI-log
 * callback (which also allocates our per-request state), accumulate the body under a hard cap,
 * and once the request is complete we hand a plain struct node_http_request to
 * node_http_dispatch(), which knows nothing of sockets; the fuzz target and the unit tests call
 * the same function. A response is queued only on a call after the first one for a request:
 * libmicrohttpd 0.9.75 drops keep-alive (measured ≈3× slower) when the first call queues it.
 * The one exception is a Content-Length above the cap, answered 413 at once so the body is never
 * read; libmicrohttpd then closes that connection, which is what we want for it. */
#include "http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define JSON_TYPE "application/json"
/* A body over the cap without a Content-Length (chunked) is read and dropped up to this much
 * more before we give up on answering 413 and close the connection. */
#define DISCARD_SLACK (256u * 1024u)

/* ---------------------------------------------------------------- streamed bodies */

void node_http_body_free(struct node_http_body *b)
{
	if (b == NULL)
		return;
	if (b->cur_fd >= 0 && b->cur_owned)
		close(b->cur_fd);
	for (size_t i = 0; i < b->nsegs; i++)
		if (b->segs[i].fd >= 0)
			close(b->segs[i].fd);
	free(b->segs);
	if (b->release)
		b->release(b->ctx);
	free(b);
}

/* Drop the body (plain or streamed), keep status and headers. */
static void body_clear(struct node_http_response *resp)
{
	free(resp->body);
	resp->body = NULL;
	resp->body_len = 0;
	node_http_body_free(resp->stream);
	resp->stream = NULL;
}

void node_http_response_cleanup(struct node_http_response *resp)
{
	if (resp == NULL)
		return;
	body_clear(resp);
	for (size_t i = 0; i < resp->nheaders; i++)
		free(resp->headers[i].name);
	resp->nheaders = 0;
}

int node_http_add_header(struct node_http_response *resp, const char *name, const char *value)
{
	size_t nl, vl;
	char *copy;

	if (resp == NULL || name == NULL || value == NULL)
		return FWC_ERR_ARG;
	nl = strlen(name);
	vl = strlen(value);
	if (nl == 0)
		return FWC_ERR_MALFORMED;
	for (size_t i = 0; i < nl; i++)
		if ((unsigned char)name[i] <= 0x20 || (unsigned char)name[i] >= 0x7f ||
		    name[i] == ':')
			return FWC_ERR_MALFORMED;
	for (size_t i = 0; i < vl; i++)
		if (((unsigned char)value[i] < 0x20 && value[i] != '\t') || value[i] == 0x7f)
			return FWC_ERR_MALFORMED;
	if (resp->nheaders == NODE_HTTP_MAX_RESP_HEADERS)
		return FWC_ERR_RANGE;
	copy = malloc(nl + vl + 2);
	if (copy == NULL)
		return FWC_ERR_NOMEM;
	memcpy(copy, name, nl + 1);
	memcpy(copy + nl + 1, value, vl + 1);
	resp->headers[resp->nheaders].name = copy;
	resp->headers[resp->nheaders].value = copy + nl + 1;
	resp->nheaders++;
	return FWC_OK;
}

int node_http_respond_stream(struct node_http_response *resp, unsigned status,
                             const char *content_type, int (*open_fn)(void *ctx, const void *ref),
                             void (*release)(void *ctx), void *ctx)
{
	struct node_http_body *b = calloc(1, sizeof(*b));

	body_clear(resp);
	if (b == NULL) {
		if (release)
			release(ctx);
		resp->status = 500;
		resp->content_type = NULL;
		return FWC_ERR_NOMEM;
	}
	b->open = open_fn;
	b->release = release;
	b->ctx = ctx;
	b->cur_fd = -1;
	resp->stream = b;
	resp->status = status;
	resp->content_type = content_type;
	return FWC_OK;
}

static int seg_add(struct node_http_response *resp, const uint8_t *data, int fd, const void *ref,
                   uint64_t off, uint64_t len)
{
	struct node_http_body *b = resp->stream;
	struct node_http_segment *s;

	if (b == NULL) {
		if (fd >= 0)
			close(fd);
		return FWC_ERR_STATE;
	}
	if (len == 0) {
		if (fd >= 0)
			close(fd);
		return FWC_OK;
	}
	if (b->nsegs == b->capsegs) {
		size_t cap = b->capsegs ? 2 * b->capsegs : 8;
		struct node_http_segment *ns = realloc(b->segs, cap * sizeof(*ns));

		if (ns == NULL) {
			if (fd >= 0)
				close(fd);
			body_clear(resp);
			resp->status = 500;
			resp->content_type = NULL;
			return FWC_ERR_NOMEM;
		}
		b->segs = ns;
		b->capsegs = cap;
	}
	s = &b->segs[b->nsegs++];
	s->data = data;
	s->fd = fd;
	s->ref = ref;
	s->off = off;
	s->len = len;
	s->start = b->length;
	b->length += len;
	return FWC_OK;
}

int node_http_stream_bytes(struct node_http_response *resp, const void *data, size_t len)
{
	if (data == NULL && len)
		return FWC_ERR_ARG;
	return seg_add(resp, data, -1, NULL, 0, len);
}

int node_http_stream_fd(struct node_http_response *resp, int fd, uint64_t off, uint64_t len)
{
	if (fd < 0)
		return FWC_ERR_ARG;
	return seg_add(resp, NULL, fd, NULL, off, len);
}

int node_http_stream_ref(struct node_http_response *resp, const void *ref, uint64_t off,
                         uint64_t len)
{
	return seg_add(resp, NULL, -1, ref, off, len);
}

/* The descriptor for segment i: its own, or the cached one, or a new one from open(). */
static int seg_fd(struct node_http_body *b, size_t i)
{
	const struct node_http_segment *s = &b->segs[i];

	if (s->fd >= 0)
		return s->fd;
	if (b->cur_fd >= 0 && b->cur_seg == i)
		return b->cur_fd;
	/* Consecutive segments often name the same file (a CAR's block after its head does not,
	 * but ranges cut from one block do); reuse the descriptor when the ref is the same. */
	if (b->cur_fd >= 0 && b->segs[b->cur_seg].ref == s->ref) {
		b->cur_seg = i;
		return b->cur_fd;
	}
	if (b->cur_fd >= 0 && b->cur_owned)
		close(b->cur_fd);
	b->cur_fd = -1;
	if (b->open == NULL)
		return -1;
	b->cur_fd = b->open(b->ctx, s->ref);
	b->cur_seg = i;
	b->cur_owned = 1;
	return b->cur_fd;
}

ssize_t node_http_body_read(struct node_http_body *b, uint64_t pos, uint8_t *buf, size_t max)
{
	size_t got = 0, lo = 0, hi;

	if (b == NULL || (buf == NULL && max))
		return -1;
	if (pos >= b->length || max == 0)
		return 0;
	hi = b->nsegs; /* find the last segment starting at or before pos */
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (b->segs[mid].start <= pos)
			lo = mid;
		else
			hi = mid;
	}
	for (size_t i = lo; i < b->nsegs && got < max; i++) {
		const struct node_http_segment *s = &b->segs[i];
		uint64_t in = pos + got - s->start;
		size_t n = s->len - in < max - got ? (size_t)(s->len - in) : max - got;

		if (s->data) {
			memcpy(buf + got, s->data + in, n);
		} else {
			int fd = seg_fd(b, i);

			if (fd < 0)
				return -1;
			for (size_t done = 0; done < n;) {
				ssize_t r = pread(fd, buf + got + done, n - done,
				                  (off_t)(s->off + in + done));

				if (r < 0 && errno == EINTR)
					continue;
				if (r <= 0) /* an error, or the file is shorter than planned */
					return -1;
				done += (size_t)r;
			}
		}
		got += n;
	}
	return (ssize_t)got;
}

/* ---------------------------------------------------------------- responses */

void node_http_respond_take(struct node_http_response *resp, unsigned status,
                            const char *content_type, char *body, size_t len)
{
	body_clear(resp);
	resp->body = body;
	resp->body_len = body ? len : 0;
	resp->status = status;
	resp->content_type = content_type;
}

void node_http_respond_bytes(struct node_http_response *resp, unsigned status,
                             const char *content_type, const void *data, size_t len)
{
	char *copy = malloc(len ? len : 1);

	if (copy == NULL) {
		node_http_respond_take(resp, 500, NULL, NULL, 0);
		return;
	}
	if (len)
		memcpy(copy, data, len);
	node_http_respond_take(resp, status, content_type, copy, len);
}

/* The JSON error body {"code", "message"[, "parameter"]} with status; msg is made printable. */
static void respond_json_error(struct node_http_response *resp, unsigned status, const char *code,
                               const char *param, char *msg)
{
	json_t *obj;
	char *text;

	/* Messages may quote client input; keep them printable ASCII so the JSON is always valid
	 * UTF-8 and a terminal showing it cannot be driven by escape codes. */
	for (char *p = msg; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
			*p = '?';
	obj = param ? json_pack("{s:s,s:s,s:s}", "code", code, "message", msg, "parameter", param)
	            : json_pack("{s:s,s:s}", "code", code, "message", msg);
	text = obj ? json_dumps(obj, JSON_COMPACT) : NULL;
	json_decref(obj);
	resp->etag[0] = '\0';
	if (text == NULL) {
		node_http_respond_take(resp, status, NULL, NULL, 0);
		return;
	}
	node_http_respond_take(resp, status, JSON_TYPE, text, strlen(text));
}

void node_http_respond_error(struct node_http_response *resp, unsigned status, const char *code,
                             const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	respond_json_error(resp, status, code, NULL, msg);
}

void node_http_respond_bad_param(struct node_http_response *resp, const char *param,
                                 const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	respond_json_error(resp, 400, "bad_parameter", param, msg);
}

void node_http_set_etag(struct node_http_response *resp, const char *tag)
{
	snprintf(resp->etag, sizeof(resp->etag), "\"%.*s\"", (int)sizeof(resp->etag) - 3, tag);
}

/* ---------------------------------------------------------------- request target */

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Percent-decode in[0..len) into out (capacity cap, NUL-terminated). plus_space turns '+' into
 * ' ' (query strings). Returns the decoded length or a negative fwc_err. */
static int pct_decode(char *out, size_t cap, const char *in, size_t len, int plus_space,
                      size_t base, struct fwc_errinfo *ei)
{
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		char c = in[i];

		if (c == '%') {
			int hi, lo;

			if (len - i < 3 || (hi = hexval(in[i + 1])) < 0 ||
			    (lo = hexval(in[i + 2])) < 0)
				return fwc_fail(ei, base + i, FWC_ERR_MALFORMED,
				                "bad percent escape at offset %zu", base + i);
			c = (char)(hi << 4 | lo);
			if (c == '\0')
				return fwc_fail(ei, base + i, FWC_ERR_MALFORMED,
				                "%%00 at offset %zu", base + i);
			i += 2;
		} else if (c == '\0') {
			return fwc_fail(ei, base + i, FWC_ERR_MALFORMED, "NUL byte at offset %zu",
			                base + i);
		} else if (c == '+' && plus_space) {
			c = ' ';
		}
		if (o + 1 >= cap)
			return fwc_fail(ei, base + i, FWC_ERR_TOO_LARGE, "request target too long");
		out[o++] = c;
	}
	out[o] = '\0';
	return (int)o;
}

int node_http_parse_target(struct node_http_request *req, char *pathbuf, size_t pathcap, char *qbuf,
                           size_t qcap, const char *target, size_t len, struct fwc_errinfo *ei)
{
	size_t plen = 0, qo = 0;
	int rc;

	if (req == NULL || pathbuf == NULL || qbuf == NULL || (target == NULL && len))
		return FWC_ERR_ARG;
	while (plen < len && target[plen] != '?')
		plen++;
	if (plen == 0 || target[0] != '/')
		return fwc_fail(ei, 0, FWC_ERR_MALFORMED, "request target must start with '/'");
	rc = pct_decode(pathbuf, pathcap, target, plen, 0, 0, ei);
	if (rc < 0)
		return rc;
	req->path = pathbuf;
	req->nquery = 0;
	/* Query: "k=v&k2=v2", each part decoded into its own NUL-terminated slot of qbuf. */
	for (size_t i = plen + 1; i < len;) {
		size_t end = i, eq;
		char *key, *val;

		while (end < len && target[end] != '&')
			end++;
		if (end == i) {
			i = end + 1;
			continue;
		}
		if (req->nquery == NODE_HTTP_MAX_QUERY)
			return fwc_fail(ei, i, FWC_ERR_TOO_LARGE, "more than %d query parameters",
			                NODE_HTTP_MAX_QUERY);
		for (eq = i; eq < end && target[eq] != '='; eq++)
			;
		if (qo >= qcap)
			return fwc_fail(ei, i, FWC_ERR_TOO_LARGE, "query string too long");
		key = qbuf + qo;
		rc = pct_decode(key, qcap - qo, target + i, eq - i, 1, i, ei);
		if (rc < 0)
			return rc;
		qo += (size_t)rc + 1;
		if (qo >= qcap)
			return fwc_fail(ei, i, FWC_ERR_TOO_LARGE, "query string too long");
		val = qbuf + qo;
		if (eq < end) {
			rc = pct_decode(val, qcap - qo, target + eq + 1, end - eq - 1, 1, eq + 1,
			                ei);
			if (rc < 0)
				return rc;
		} else {
			val[0] = '\0';
			rc = 0;
		}
		qo += (size_t)rc + 1;
		req->query[req->nquery].key = key;
		req->query[req->nquery].val = val;
		req->nquery++;
		i = end + 1;
	}
	return FWC_OK;
}

const char *node_http_query(const struct node_http_request *req, const char *key)
{
	for (size_t i = 0; i < req->nquery; i++)
		if (strcmp(req->query[i].key, key) == 0)
			return req->query[i].val;
	return NULL;
}

const char *node_http_header(const struct node_http_request *req, const char *name)
{
	for (size_t i = 0; i < req->nheaders && i < NODE_HTTP_MAX_HEADERS; i++)
		if (req->headers[i].key && strcasecmp(req->headers[i].key, name) == 0)
			return req->headers[i].val;
	return NULL;
}

/* ---------------------------------------------------------------- routing */

/* Match path against pattern; on success store each "{}" segment as a NUL-terminated copy in
 * capbuf (capacity capcap, at least strlen(path)+1) and point req->captures at them. */
static int route_match(const char *pattern, const char *path, char *capbuf, size_t capcap,
                       const char **caps, size_t *ncaps)
{
	const char *p = pattern, *s = path;
	size_t used = 0, n = 0;

	while (*p && *s) {
		if (p[0] == '{' && p[1] == '}') {
			size_t seg = strcspn(s, "/");

			if (seg == 0 || n == NODE_HTTP_MAX_CAPTURES || used + seg + 1 > capcap)
				return 0;
			memcpy(capbuf + used, s, seg);
			capbuf[used + seg] = '\0';
			caps[n++] = capbuf + used;
			used += seg + 1;
			s += seg;
			p += 2;
			continue;
		}
		if (*p != *s)
			return 0;
		p++;
		s++;
	}
	if (*p || *s)
		return 0;
	*ncaps = n;
	return 1;
}

static int method_is(const char *route_method, const char *method)
{
	if (strcmp(route_method, method) == 0)
		return 1;
	return strcmp(route_method, "GET") == 0 && strcmp(method, "HEAD") == 0;
}

/* If-None-Match (RFC 9110 §13.1.2) uses weak comparison: W/ prefixes are ignored, "*" matches
 * any current representation. */
static int etag_listed(const char *inm, const char *etag)
{
	size_t elen = strlen(etag);
	const char *p = inm;

	while (*p) {
		const char *start, *end;

		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (*p == '\0')
			break;
		start = p;
		end = strchr(p, ',');
		if (end == NULL)
			end = p + strlen(p);
		p = end;
		while (end > start && (end[-1] == ' ' || end[-1] == '\t'))
			end--;
		if (end - start == 1 && *start == '*')
			return 1;
		if (end - start > 2 && start[0] == 'W' && start[1] == '/')
			start += 2;
		if ((size_t)(end - start) == elen && memcmp(start, etag, elen) == 0)
			return 1;
	}
	return 0;
}

const struct node_http_upload_route *
node_http_upload_match(const struct node_http_upload_route *routes, size_t n,
                       struct node_http_request *req, char *capbuf, size_t capcap)
{
	if (req->method == NULL || req->path == NULL || capbuf == NULL ||
	    strlen(req->path) + 1 > capcap)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		const char *caps[NODE_HTTP_MAX_CAPTURES];
		size_t ncaps = 0;

		if (strcmp(routes[i].method, req->method) != 0 ||
		    !route_match(routes[i].pattern, req->path, capbuf, capcap, caps, &ncaps))
			continue;
		memcpy(req->captures, caps, sizeof(caps));
		req->ncaptures = ncaps;
		return &routes[i];
	}
	return NULL;
}

void node_http_dispatch(const struct node_http_route *routes, size_t n, void *ctx,
                        struct node_http_response *resp, struct node_http_request *req)
{
	char capbuf[NODE_HTTP_MAX_URI + 2];
	const struct node_http_route *hit = NULL;
	int path_known = 0;
	size_t allow_len = 0;

	resp->allow[0] = '\0';
	if (req->method == NULL || req->path == NULL) {
		node_http_respond_error(resp, 400, "bad_request", "request has no method or path");
		return;
	}
	if (strlen(req->path) > NODE_HTTP_MAX_URI) {
		node_http_respond_error(resp, 414, "uri_too_long", "request target longer than %d",
		                        NODE_HTTP_MAX_URI);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		const char *caps[NODE_HTTP_MAX_CAPTURES];
		size_t ncaps = 0;

		if (!route_match(routes[i].pattern, req->path, capbuf, sizeof(capbuf), caps,
		                 &ncaps))
			continue;
		path_known = 1;
		if (allow_len + strlen(routes[i].method) + 3 < sizeof(resp->allow) &&
		    strstr(resp->allow, routes[i].method) == NULL) {
			allow_len += (size_t)snprintf(resp->allow + allow_len,
			                              sizeof(resp->allow) - allow_len, "%s%s",
			                              allow_len ? ", " : "", routes[i].method);
		}
		if (hit == NULL && method_is(routes[i].method, req->method)) {
			hit = &routes[i];
			memcpy(req->captures, caps, sizeof(caps));
			req->ncaptures = ncaps;
			break;
		}
	}
	if (hit == NULL) {
		if (path_known)
			node_http_respond_error(resp, 405, "method_not_allowed",
			                        "method %.16s not allowed on %.200s (allowed: %s)",
			                        req->method, req->path, resp->allow);
		else
			node_http_respond_error(resp, 404, "not_found", "no such endpoint: %.200s",
			                        req->path);
		if (!path_known)
			resp->allow[0] = '\0';
		return;
	}
	resp->allow[0] = '\0';
	hit->handler(ctx, resp, req);
	if (resp->status == 0 || (resp->body == NULL && resp->status >= 400)) {
		node_http_response_cleanup(resp);
		resp->status = 0;
		node_http_respond_error(resp, 500, "internal", "the handler produced no answer");
		return;
	}
	/* If-None-Match is evaluated before Range (RFC 9110 section 13.2.2), so a 206 whose
	 * representation the client already holds is a 304 too. Headers stay (a 304 repeats
	 * Cache-Control, ETag and the like); the body goes. */
	if ((resp->status == 200 || resp->status == 206) && resp->etag[0] && req->if_none_match &&
	    etag_listed(req->if_none_match, resp->etag)) {
		body_clear(resp);
		resp->status = 304;
		resp->content_type = NULL;
	}
}

void node_http_config_default(struct node_http_config *cfg)
{
	cfg->bind_addr = NULL;
	cfg->port = 8080;
	cfg->threads = 2;
	cfg->timeout_s = 10;
	cfg->max_connections = 256;
	cfg->max_body = 1u << 20;
	cfg->uploads = NULL;
	cfg->nuploads = 0;
}

/* ---------------------------------------------------------------- the server */

struct node_http_server {
	struct MHD_Daemon *mhd;
	uint16_t port;
	const struct node_http_route *routes;
	size_t nroutes;
	const struct node_http_upload_route *uploads;
	size_t nuploads;
	void *ctx;
	size_t max_body;
};

/* Per-request state, born in the URI-log callback and freed in the completion callback. */
struct reqstate {
	int started;   /* the access handler has been called once */
	int too_large; /* body exceeded the cap: answer 413 once it is drained */
	int uri_too_long;
	size_t discarded; /* body bytes dropped after the cap was hit */
	uint8_t *body;
	size_t len, cap;
	/* a streamed upload: its route and state, and the refusal of a failed data() */
	const struct node_http_upload_route *up;
	void *upload;
	uint64_t up_len;
	int up_failed;
	struct node_http_response *up_resp;
	char uri[]; /* raw request target, NUL-terminated */
};

static void *uri_log_cb(void *cls, const char *uri, struct MHD_Connection *con)
{
	size_t len = strnlen(uri, NODE_HTTP_MAX_URI + 1);
	struct reqstate *st;

	(void)cls;
	(void)con;
	st = calloc(1, sizeof(*st) + (len > NODE_HTTP_MAX_URI ? 1 : len + 1));
	if (st == NULL)
		return NULL;
	if (len > NODE_HTTP_MAX_URI) {
		st->uri_too_long = 1;
		st->uri[0] = '\0';
	} else {
		memcpy(st->uri, uri, len + 1);
	}
	return st;
}

static void upload_release(struct reqstate *st)
{
	if (st->up && st->upload)
		st->up->release(st->upload);
	st->upload = NULL;
	if (st->up_resp) {
		node_http_response_cleanup(st->up_resp);
		free(st->up_resp);
		st->up_resp = NULL;
	}
}

static void completed_cb(void *cls, struct MHD_Connection *con, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
	struct reqstate *st = *con_cls;

	(void)cls;
	(void)con;
	(void)toe;
	if (st) {
		upload_release(st);
		free(st->body);
		free(st);
		*con_cls = NULL;
	}
}

/* MHD's reader and destructor for a streamed body of several segments. */
static ssize_t stream_read_cb(void *cls, uint64_t pos, char *buf, size_t max)
{
	ssize_t n = node_http_body_read(cls, pos, (uint8_t *)buf, max);

	if (n < 0)
		return MHD_CONTENT_READER_END_WITH_ERROR; /* cut: the client sees a short body */
	if (n == 0)
		return MHD_CONTENT_READER_END_OF_STREAM;
	return n;
}

static void stream_free_cb(void *cls)
{
	node_http_body_free(cls);
}

/* Buffer of a multi-segment streamed response: one leaf block per read call, so a 256 KiB
 * chunk costs one pread and few send calls. */
#define STREAM_BLOCK (256u * 1024u)

/* The MHD response for a streamed body, taking it from resp. One file range goes out with
 * sendfile(2) (libmicrohttpd's fd response); anything else through the read callback. */
static struct MHD_Response *stream_response(struct node_http_response *resp)
{
	struct node_http_body *b = resp->stream;
	struct MHD_Response *r;

	if (b->nsegs == 0) {
		node_http_body_free(b);
		resp->stream = NULL;
		return MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
	}
	if (b->nsegs == 1 && b->segs[0].data == NULL) {
		struct node_http_segment *sg = &b->segs[0];
		int fd = seg_fd(b, 0);

		if (fd < 0)
			return NULL;
		/* The response now owns fd: detach it from the body before freeing that. */
		if (sg->fd == fd)
			sg->fd = -1;
		else
			b->cur_fd = -1;
		r = MHD_create_response_from_fd_at_offset64(sg->len, fd, sg->off);
		if (r == NULL)
			close(fd);
		node_http_body_free(b);
		resp->stream = NULL;
		return r;
	}
	r = MHD_create_response_from_callback(b->length, STREAM_BLOCK, stream_read_cb, b,
	                                      stream_free_cb);
	if (r != NULL)
		resp->stream = NULL; /* MHD frees it through stream_free_cb */
	return r;
}

/* Turn resp into a libmicrohttpd response (taking its body) and queue it. */
static enum MHD_Result queue(struct MHD_Connection *con, struct node_http_response *resp)
{
	struct MHD_Response *r;
	enum MHD_Result ret;
	int cache_set = 0;

	if (resp->stream) {
		r = stream_response(resp);
		if (r == NULL)
			return MHD_NO;
	} else if (resp->body) {
		r = MHD_create_response_from_buffer_with_free_callback(resp->body_len, resp->body,
		                                                       free);
		if (r == NULL)
			return MHD_NO;
		resp->body = NULL;
		resp->body_len = 0;
	} else {
		r = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
		if (r == NULL)
			return MHD_NO;
	}
	if (resp->content_type)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, resp->content_type);
	if (resp->etag[0])
		MHD_add_response_header(r, MHD_HTTP_HEADER_ETAG, resp->etag);
	if (resp->allow[0])
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, resp->allow);
	for (size_t i = 0; i < resp->nheaders; i++) {
		if (strcasecmp(resp->headers[i].name, MHD_HTTP_HEADER_CACHE_CONTROL) == 0)
			cache_set = 1;
		MHD_add_response_header(r, resp->headers[i].name, resp->headers[i].value);
	}
	if (!cache_set)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
	ret = MHD_queue_response(con, resp->status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result queue_error(struct MHD_Connection *con, unsigned status, const char *code,
                                   const char *msg)
{
	struct node_http_response resp = {0};
	enum MHD_Result ret;

	node_http_respond_error(&resp, status, code, "%s", msg);
	ret = queue(con, &resp);
	node_http_response_cleanup(&resp);
	return ret;
}

/* Queue resp and release it. A handler that produced nothing is a 500. */
static enum MHD_Result queue_owned(struct MHD_Connection *con, struct node_http_response *resp)
{
	enum MHD_Result ret;

	if (resp->status == 0 || (resp->status >= 400 && resp->body == NULL)) {
		node_http_response_cleanup(resp);
		memset(resp, 0, sizeof(*resp));
		node_http_respond_error(resp, 500, "internal", "the handler produced no answer");
	}
	ret = queue(con, resp);
	node_http_response_cleanup(resp);
	return ret;
}

static int body_append(struct reqstate *st, const char *data, size_t n, size_t max)
{
	if (n > max - st->len)
		return -1;
	if (st->len + n > st->cap) {
		size_t ncap = st->cap ? st->cap : 4096;
		uint8_t *nb;

		while (ncap < st->len + n)
			ncap = ncap > max / 2 ? max : ncap * 2;
		nb = realloc(st->body, ncap);
		if (nb == NULL)
			return -1;
		st->body = nb;
		st->cap = ncap;
	}
	memcpy(st->body + st->len, data, n);
	st->len += n;
	return 0;
}

static enum MHD_Result header_cb(void *cls, enum MHD_ValueKind kind, const char *key,
                                 const char *value)
{
	struct node_http_request *req = cls;

	(void)kind;
	if (req->nheaders == NODE_HTTP_MAX_HEADERS)
		return MHD_NO;
	req->headers[req->nheaders].key = key;
	req->headers[req->nheaders].val = value ? value : "";
	req->nheaders++;
	return MHD_YES;
}

/* Fill req from the connection (method, target, headers); the path and query go into the
 * caller's buffers. FWC_OK or the parse error (in ei). */
static int build_request(struct node_http_request *req, struct MHD_Connection *con,
                         const char *method, struct reqstate *st, char *pathbuf, size_t pathcap,
                         char *qbuf, size_t qcap, struct fwc_errinfo *ei)
{
	int rc;

	memset(req, 0, sizeof(*req));
	rc =
	    node_http_parse_target(req, pathbuf, pathcap, qbuf, qcap, st->uri, strlen(st->uri), ei);
	if (rc != FWC_OK)
		return rc;
	req->method = method;
	req->target = st->uri;
	req->if_none_match =
	    MHD_lookup_connection_value(con, MHD_HEADER_KIND, MHD_HTTP_HEADER_IF_NONE_MATCH);
	req->content_type =
	    MHD_lookup_connection_value(con, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
	MHD_get_connection_values(con, MHD_HEADER_KIND, header_cb, req);
	return FWC_OK;
}

/* Content-Length as a number, or -1 when absent or not a plain decimal. */
static long long content_length(struct MHD_Connection *con)
{
	const char *cl =
	    MHD_lookup_connection_value(con, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	char *end;
	unsigned long long v;

	if (cl == NULL)
		return -1;
	errno = 0;
	v = strtoull(cl, &end, 10);
	if (errno || end == cl || *end != '\0' || v > (unsigned long long)INT64_MAX)
		return -1;
	return (long long)v;
}

/* The first call of an upload route: check the declared length, let begin() accept or refuse. */
static enum MHD_Result upload_begin(struct node_http_server *srv, struct MHD_Connection *con,
                                    struct reqstate *st, struct node_http_request *req)
{
	struct node_http_response resp;
	long long cl = content_length(con);

	if (cl >= 0 && (unsigned long long)cl > st->up->max_body)
		return queue_error(con, 413, "too_large", "request body larger than the limit");
	memset(&resp, 0, sizeof(resp));
	st->upload = st->up->begin(srv->ctx, &resp, req);
	if (st->upload == NULL) /* refused before the body: answered now, the body never read */
		return queue_owned(con, &resp);
	node_http_response_cleanup(&resp);
	return MHD_YES;
}

/* A piece of an upload's body. */
static enum MHD_Result upload_piece(struct reqstate *st, const char *data, size_t n)
{
	if (st->up_failed) {
		st->discarded += n;
		return st->discarded > NODE_HTTP_DISCARD_MAX ? MHD_NO : MHD_YES;
	}
	st->up_len += n;
	if (st->up_len > st->up->max_body) {
		st->up_resp = calloc(1, sizeof(*st->up_resp));
		if (st->up_resp == NULL)
			return MHD_NO;
		node_http_respond_error(st->up_resp, 413, "too_large",
		                        "request body larger than the limit");
		st->up_failed = 1;
		return MHD_YES;
	}
	st->up_resp = calloc(1, sizeof(*st->up_resp));
	if (st->up_resp == NULL)
		return MHD_NO;
	if (st->up->data(st->upload, st->up_resp, (const uint8_t *)data, n) != 0) {
		st->up_failed = 1;
		return MHD_YES;
	}
	node_http_response_cleanup(st->up_resp);
	free(st->up_resp);
	st->up_resp = NULL;
	return MHD_YES;
}

static enum MHD_Result access_cb(void *cls, struct MHD_Connection *con, const char *url,
                                 const char *method, const char *version, const char *upload_data,
                                 size_t *upload_data_size, void **con_cls)
{
	struct node_http_server *srv = cls;
	struct reqstate *st = *con_cls;
	struct node_http_request req;
	struct node_http_response resp;
	struct fwc_errinfo ei = {0};
	char pathbuf[NODE_HTTP_MAX_URI + 1], qbuf[NODE_HTTP_MAX_URI + 2 * NODE_HTTP_MAX_QUERY + 2];
	char capbuf[NODE_HTTP_MAX_URI + 2];

	(void)url;
	(void)version;
	if (st == NULL)
		return MHD_NO; /* the URI-log callback could not allocate: drop the connection */
	if (!st->started) {
		long long cl = content_length(con);

		st->started = 1;
		if (!st->uri_too_long && srv->nuploads &&
		    build_request(&req, con, method, st, pathbuf, sizeof(pathbuf), qbuf,
		                  sizeof(qbuf), &ei) == FWC_OK &&
		    (st->up = node_http_upload_match(srv->uploads, srv->nuploads, &req, capbuf,
		                                     sizeof(capbuf))) != NULL)
			return upload_begin(srv, con, st, &req);
		if (cl >= 0 && (unsigned long long)cl > srv->max_body)
			/* Answered before the body is read; libmicrohttpd closes after. */
			return queue_error(con, 413, "too_large",
			                   "request body larger than the limit");
		return MHD_YES;
	}
	if (*upload_data_size) {
		size_t n = *upload_data_size;

		*upload_data_size = 0;
		if (st->up)
			return upload_piece(st, upload_data, n);
		if (!st->too_large && body_append(st, upload_data, n, srv->max_body) != 0) {
			st->too_large = 1;
			free(st->body);
			st->body = NULL;
			st->len = st->cap = 0;
		}
		if (st->too_large) {
			st->discarded += n;
			if (st->discarded > srv->max_body + DISCARD_SLACK)
				return MHD_NO;
		}
		return MHD_YES;
	}
	if (st->up) {
		struct node_http_response *r = st->up_resp;
		enum MHD_Result ret;

		if (st->up_failed && r != NULL) {
			st->up_resp = NULL;
			ret = queue_owned(con, r);
			free(r);
			upload_release(st);
			return ret;
		}
		memset(&resp, 0, sizeof(resp));
		if (build_request(&req, con, method, st, pathbuf, sizeof(pathbuf), qbuf,
		                  sizeof(qbuf), &ei) != FWC_OK ||
		    node_http_upload_match(srv->uploads, srv->nuploads, &req, capbuf,
		                           sizeof(capbuf)) != st->up) {
			upload_release(st);
			return queue_error(con, 500, "internal", "upload request changed");
		}
		st->up->end(st->upload, &resp, &req);
		upload_release(st);
		return queue_owned(con, &resp);
	}
	if (st->too_large)
		return queue_error(con, 413, "too_large", "request body larger than the limit");
	if (st->uri_too_long)
		return queue_error(con, 414, "uri_too_long", "request target too long");

	memset(&resp, 0, sizeof(resp));
	if (build_request(&req, con, method, st, pathbuf, sizeof(pathbuf), qbuf, sizeof(qbuf),
	                  &ei) != FWC_OK)
		return queue_error(con, 400, "bad_request", ei.msg);
	req.body = st->len ? st->body : NULL;
	req.body_len = st->len;
	node_http_dispatch(srv->routes, srv->nroutes, srv->ctx, &resp, &req);
	return queue_owned(con, &resp);
}

int node_http_server_start(struct node_http_server **out, const struct node_http_config *cfg,
                           const struct node_http_route *routes, size_t nroutes, void *ctx,
                           struct fwc_errinfo *ei)
{
	struct node_http_server *srv = NULL;
	struct sockaddr_in sa;
	socklen_t salen = sizeof(sa);
	const char *addr;
	int fd = -1, one = 1, rc;
	unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD;

	if (out == NULL || cfg == NULL || (routes == NULL && nroutes) || cfg->threads < 1 ||
	    cfg->timeout_s < 1 || cfg->max_connections < 1)
		return FWC_ERR_ARG;
	addr = cfg->bind_addr ? cfg->bind_addr : "127.0.0.1";
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons(cfg->port);
	if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1)
		return fwc_fail(ei, 0, FWC_ERR_IO, "invalid IPv4 bind address '%.64s'", addr);

	/* We bind the socket ourselves so that "port in use" is reported with errno's words
	 * (libmicrohttpd would only say that it could not start), and so port 0 works. */
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		rc = fwc_fail(ei, 0, FWC_ERR_IO, "socket: %s", strerror(errno));
		goto out;
	}
	/* SO_REUSEADDR lets a restarted node rebind past TIME_WAIT; on Linux it does not let two
	 * listeners share a port, so "in use" is still detected. */
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		rc = fwc_fail(ei, 0, FWC_ERR_IO, "cannot bind %s:%u: %s", addr, (unsigned)cfg->port,
		              strerror(errno));
		goto out;
	}
	if (listen(fd, 128) != 0 || getsockname(fd, (struct sockaddr *)&sa, &salen) != 0) {
		rc = fwc_fail(ei, 0, FWC_ERR_IO, "cannot listen on %s:%u: %s", addr,
		              (unsigned)cfg->port, strerror(errno));
		goto out;
	}
	srv = calloc(1, sizeof(*srv));
	if (srv == NULL) {
		rc = FWC_ERR_NOMEM;
		goto out;
	}
	srv->port = ntohs(sa.sin_port);
	srv->routes = routes;
	srv->nroutes = nroutes;
	srv->ctx = ctx;
	srv->max_body = cfg->max_body;
	srv->uploads = cfg->uploads;
	srv->nuploads = cfg->uploads ? cfg->nuploads : 0;
	if (cfg->threads > 1)
		srv->mhd = MHD_start_daemon(
		    flags, 0, NULL, NULL, access_cb, srv, MHD_OPTION_LISTEN_SOCKET, fd,
		    MHD_OPTION_THREAD_POOL_SIZE, (unsigned)cfg->threads,
		    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)cfg->timeout_s,
		    MHD_OPTION_CONNECTION_LIMIT, (unsigned)cfg->max_connections,
		    MHD_OPTION_URI_LOG_CALLBACK, uri_log_cb, srv, MHD_OPTION_NOTIFY_COMPLETED,
		    completed_cb, srv, MHD_OPTION_END);
	else
		srv->mhd = MHD_start_daemon(
		    flags, 0, NULL, NULL, access_cb, srv, MHD_OPTION_LISTEN_SOCKET, fd,
		    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)cfg->timeout_s,
		    MHD_OPTION_CONNECTION_LIMIT, (unsigned)cfg->max_connections,
		    MHD_OPTION_URI_LOG_CALLBACK, uri_log_cb, srv, MHD_OPTION_NOTIFY_COMPLETED,
		    completed_cb, srv, MHD_OPTION_END);
	if (srv->mhd == NULL) {
		rc = fwc_fail(ei, 0, FWC_ERR_IO, "libmicrohttpd could not start on %s:%u", addr,
		              (unsigned)srv->port);
		goto out;
	}
	fd = -1; /* the daemon owns it now and closes it on stop */
	*out = srv;
	srv = NULL;
	rc = FWC_OK;
out:
	if (fd >= 0)
		close(fd);
	free(srv);
	return rc;
}

uint16_t node_http_server_port(const struct node_http_server *srv)
{
	return srv ? srv->port : 0;
}

void node_http_server_stop(struct node_http_server *srv)
{
	if (srv == NULL)
		return;
	MHD_stop_daemon(srv->mhd);
	free(srv);
}
