/* fwchaind — the HTTP layer: a route table, request parsing, JSON error bodies and ETags,
 * served by libmicrohttpd.
 *
 * The routing half (node_http_dispatch and the request/response structs) is pure code with no
 * sockets, so unit tests and the fuzz target drive every handler in-process; the server half
 * (node_http_server_*) only moves bytes between libmicrohttpd and that dispatcher. */
#ifndef FWC_NODE_HTTP_H
#define FWC_NODE_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "fwchain/err.h"

#define NODE_HTTP_MAX_CAPTURES 2
#define NODE_HTTP_MAX_QUERY 16
#define NODE_HTTP_MAX_URI 4096 /* longer request targets are refused with 414 */
#define NODE_HTTP_ETAG_MAX 80
#define NODE_HTTP_ALLOW_MAX 64
#define NODE_HTTP_MAX_HEADERS 48      /* request headers kept for handlers; later ones ignored */
#define NODE_HTTP_MAX_RESP_HEADERS 12 /* extra response headers a handler may add */

struct node_http_param {
	const char *key; /* NUL-terminated, percent-decoded */
	const char *val; /* NUL-terminated, percent-decoded ("" when the parameter had no '=') */
};

/* One parsed request as the handlers see it. Every pointer points into storage owned by the
 * dispatcher's caller and lives until the handler returns. */
struct node_http_request {
	const char *method; /* "GET", "POST", ... */
	const char *path;   /* percent-decoded path, NUL-terminated, no NUL inside */
	struct node_http_param query[NODE_HTTP_MAX_QUERY];
	size_t nquery;
	const char *captures[NODE_HTTP_MAX_CAPTURES]; /* segments matched by "{}" in the route */
	size_t ncaptures;
	const uint8_t *body; /* request body; NULL when empty */
	size_t body_len;
	const char *if_none_match; /* If-None-Match header, or NULL */
	const char *content_type;  /* Content-Type header, or NULL */
	const char *target;        /* raw request target as received (not decoded), or NULL */
	struct node_http_param headers[NODE_HTTP_MAX_HEADERS]; /* name, value as received */
	size_t nheaders;
};

/* One piece of a streamed body: literal bytes (data != NULL), or bytes [off, off + len) of a
 * file — an fd the body owns, or (fd < 0) one the body's open callback opens from ref when
 * the bytes are first needed. start is the piece's offset in the body. */
struct node_http_segment {
	const uint8_t *data;
	int fd;
	const void *ref;
	uint64_t off, len;
	uint64_t start;
};

/* A streamed body: segments served in order, with one file descriptor open at a time.
 * open(ctx, ref) returns a new descriptor the body then owns (or -1); release(ctx) frees
 * whatever the segments point into, once the body is done with. Build it with the
 * node_http_stream_* functions; the server sends it with sendfile(2) when it is one file range
 * and through a read callback otherwise. */
struct node_http_body {
	struct node_http_segment *segs;
	size_t nsegs, capsegs;
	uint64_t length;
	int (*open)(void *ctx, const void *ref);
	void (*release)(void *ctx);
	void *ctx;
	int cur_fd;     /* descriptor of the segment read last, or -1 */
	size_t cur_seg; /* which segment it belongs to */
	int cur_owned;  /* 1 when cur_fd came from open() and must be closed */
};

struct node_http_header {
	char *name; /* one allocation "name\0value"; value points inside it */
	const char *value;
};

/* What a handler fills in. The body is heap memory owned by the response (released by
 * node_http_response_cleanup). A handler that leaves status at 0 produces a 500. */
struct node_http_response {
	unsigned status;
	const char *content_type; /* static string */
	char *body;
	size_t body_len;
	char etag[NODE_HTTP_ETAG_MAX];   /* quoted strong ETag, or "" for none */
	char allow[NODE_HTTP_ALLOW_MAX]; /* Allow header for 405, or "" */
	struct node_http_body *stream;   /* a streamed body (owned), used instead of body */
	struct node_http_header headers[NODE_HTTP_MAX_RESP_HEADERS]; /* extra headers (owned) */
	size_t nheaders;
};

typedef void node_http_handler_fn(void *ctx, struct node_http_response *resp,
                                  const struct node_http_request *req);

/* A route whose request body is streamed to the handler as it arrives instead of being
 * collected (uploads). begin() runs once the headers are in, before any body byte is read: it
 * returns the upload's state, or NULL after filling resp to refuse at once (the server then
 * answers without reading the body, and closes the connection). data() takes each piece of
 * the body; non-zero refuses, after filling resp: the rest of the body is read and dropped (up
 * to NODE_HTTP_DISCARD_MAX bytes, else the connection is closed unanswered) and resp is the
 * answer. end() runs when the whole body is in and fills resp. release() frees the state and
 * is called exactly once, also when the client goes away mid-body. max_body caps the body
 * (413). req passed to begin and end is valid during the call only. */
struct node_http_upload_route {
	const char *method;
	const char *pattern;
	uint64_t max_body;
	void *(*begin)(void *ctx, struct node_http_response *resp,
	               const struct node_http_request *req);
	int (*data)(void *upload, struct node_http_response *resp, const uint8_t *data, size_t len);
	void (*end)(void *upload, struct node_http_response *resp,
	            const struct node_http_request *req);
	void (*release)(void *upload);
};

/* Body bytes of a refused upload still read and dropped so the refusal can be answered. */
#define NODE_HTTP_DISCARD_MAX (64ull << 20)

/* A route: method and a path pattern whose "{}" segments each match one non-empty path
 * segment (at most NODE_HTTP_MAX_CAPTURES of them), e.g. "/v1/txs/{}". GET routes also
 * answer HEAD. */
struct node_http_route {
	const char *method;
	const char *pattern;
	node_http_handler_fn *handler;
};

/* --- pure request handling (no sockets) --- */

/* Split a raw request target "path?query" of len bytes into req->path (percent-decoded into
 * pathbuf, capacity pathcap) and req->query (decoded into qbuf, capacity qcap). Returns FWC_OK,
 * FWC_ERR_MALFORMED (bad escape, %00, path not starting with '/'), FWC_ERR_TOO_LARGE (more than
 * NODE_HTTP_MAX_QUERY parameters, or a buffer too small) with a reason in ei. req is partly
 * written on failure. */
int node_http_parse_target(struct node_http_request *req, char *pathbuf, size_t pathcap, char *qbuf,
                           size_t qcap, const char *target, size_t len, struct fwc_errinfo *ei);

/* Route req (method, path, query, body already set) through routes[0..n) and fill resp:
 * the matching handler's answer, 404 (no pattern matches the path), 405 (a pattern matches,
 * not the method; Allow is set), and 304 when the answer is a 200 with an ETag that
 * If-None-Match names. Every error answer has a JSON body {"code": ..., "message": ...}.
 * resp must be zeroed by the caller; release it with node_http_response_cleanup(). */
void node_http_dispatch(const struct node_http_route *routes, size_t n, void *ctx,
                        struct node_http_response *resp, struct node_http_request *req);

/* Value of query parameter key, or NULL when absent. */
const char *node_http_query(const struct node_http_request *req, const char *key);

/* Value of request header name (case-insensitive), or NULL when absent. The first of repeated
 * headers. */
const char *node_http_header(const struct node_http_request *req, const char *name);

/* The upload route of routes[0..n) matching req's method and path, or NULL. req->captures
 * are set to copies in capbuf (capacity capcap, at least strlen(req->path) + 1), which must
 * outlive their use. Pure, like node_http_dispatch; the server calls it before reading a body. */
const struct node_http_upload_route *
node_http_upload_match(const struct node_http_upload_route *routes, size_t n,
                       struct node_http_request *req, char *capbuf, size_t capcap);

/* Set a JSON error body {"code": code, "message": printf(fmt, ...)} and the status. */
void node_http_respond_error(struct node_http_response *resp, unsigned status, const char *code,
                             const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

/* 400 {"code": "bad_parameter", "message": printf(fmt, ...), "parameter": param}: a query
 * parameter that is missing or malformed, named so clients can tell which. */
void node_http_respond_bad_param(struct node_http_response *resp, const char *param,
                                 const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* Set the body to a copy of data[0..len) with the given static content type and status.
 * On allocation failure the response becomes a 500 (with an empty body). */
void node_http_respond_bytes(struct node_http_response *resp, unsigned status,
                             const char *content_type, const void *data, size_t len);

/* Take ownership of a malloc'd body (free()d by node_http_response_cleanup). */
void node_http_respond_take(struct node_http_response *resp, unsigned status,
                            const char *content_type, char *body, size_t len);

/* Set a strong ETag from an opaque tag text (quoted by this call; truncated to fit). */
void node_http_set_etag(struct node_http_response *resp, const char *tag);

/* Add a response header (copied). Cache-Control replaces the default "no-cache". Returns
 * FWC_OK, FWC_ERR_MALFORMED (CR, LF or another control character in name or value),
 * FWC_ERR_RANGE (more than NODE_HTTP_MAX_RESP_HEADERS), FWC_ERR_NOMEM. */
int node_http_add_header(struct node_http_response *resp, const char *name, const char *value);

/* Start a streamed body (replacing any body): status and content type as for the other
 * respond functions; open and release as in struct node_http_body (either may be NULL; release
 * runs even when this call fails). Then add segments in body order. FWC_OK or FWC_ERR_NOMEM
 * (the response is then a 500). */
int node_http_respond_stream(struct node_http_response *resp, unsigned status,
                             const char *content_type, int (*open)(void *ctx, const void *ref),
                             void (*release)(void *ctx), void *ctx);

/* Append literal bytes (not copied: they must live until release), bytes [off, off+len) of fd
 * (taken: the body closes it, also on failure), or of the file the open callback opens from ref.
 * Empty pieces are skipped. FWC_OK, FWC_ERR_STATE (no stream), FWC_ERR_NOMEM. */
int node_http_stream_bytes(struct node_http_response *resp, const void *data, size_t len);
int node_http_stream_fd(struct node_http_response *resp, int fd, uint64_t off, uint64_t len);
int node_http_stream_ref(struct node_http_response *resp, const void *ref, uint64_t off,
                         uint64_t len);

/* Copy up to max bytes of the streamed body starting at pos into buf: the count (0 at the end),
 * or -1 when a file cannot be opened or read, or is shorter than its segment says. */
ssize_t node_http_body_read(struct node_http_body *b, uint64_t pos, uint8_t *buf, size_t max);

/* Free a body (closing its descriptors, calling release). NULL is fine. */
void node_http_body_free(struct node_http_body *b);

/* Release the body and headers; the struct may be reused after zeroing. */
void node_http_response_cleanup(struct node_http_response *resp);

/* --- the server --- */

struct node_http_config {
	const char *bind_addr; /* IPv4 address text; NULL means "127.0.0.1" */
	uint16_t port;         /* 0 picks a free port (read it back with node_http_server_port) */
	unsigned threads;      /* thread pool size, >= 1 */
	unsigned timeout_s;    /* idle time after which a connection is closed, >= 1 */
	unsigned max_connections;
	size_t max_body; /* larger request bodies get 413 (upload routes have their own cap) */
	const struct node_http_upload_route *uploads; /* matched before routes; may be NULL */
	size_t nuploads;
};

/* Defaults: 127.0.0.1, port 8080, 2 threads, 10 s timeout, 256 connections, 1 MiB body. */
void node_http_config_default(struct node_http_config *cfg);

struct node_http_server;

/* Bind, listen and start serving routes (the table and ctx must outlive the server).
 * *out is set only on success. Returns FWC_OK, FWC_ERR_ARG, FWC_ERR_IO (address invalid,
 * port in use, ... — ei says which, with the system's reason), FWC_ERR_NOMEM. */
int node_http_server_start(struct node_http_server **out, const struct node_http_config *cfg,
                           const struct node_http_route *routes, size_t nroutes, void *ctx,
                           struct fwc_errinfo *ei);

/* The port the server listens on. */
uint16_t node_http_server_port(const struct node_http_server *srv);

/* Stop serving, close every connection and free the server. NULL is fine. */
void node_http_server_stop(struct node_http_server *srv);

#endif
