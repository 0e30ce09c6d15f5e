/* Tests node/http.c: request-target parsing, routing (captures, 404, 405, HEAD), JSON error
 * bodies, ETag/If-None-Match, and the real libmicrohttpd server on 127.0.0.1: keep-alive across
 * two requests, body echo, the 413 body cap (with and without Content-Length), the idle timeout,
 * and a clear error when the port is in use. Every socket read has a 5 s receive timeout. */
#include "test.h"

#include "http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

/* ---------------------------------------------------------------- handlers under test */

static void h_ping(void *ctx, struct node_http_response *resp, const struct node_http_request *req)
{
	(void)ctx;
	(void)req;
	node_http_respond_bytes(resp, 200, "text/plain", "pong", 4);
	node_http_set_etag(resp, "v1");
}

static void h_echo(void *ctx, struct node_http_response *resp, const struct node_http_request *req)
{
	(void)ctx;
	node_http_respond_bytes(resp, 200, "application/octet-stream", req->body, req->body_len);
}

/* Writes "a|b|q" from the two captures and the query parameter q. */
static void h_pair(void *ctx, struct node_http_response *resp, const struct node_http_request *req)
{
	char buf[256];
	const char *q = node_http_query(req, "q");
	int n;

	(void)ctx;
	n = snprintf(buf, sizeof(buf), "%s|%s|%s", req->ncaptures > 0 ? req->captures[0] : "-",
	             req->ncaptures > 1 ? req->captures[1] : "-", q ? q : "-");
	node_http_respond_bytes(resp, 200, "text/plain", buf, (size_t)n);
}

static void h_silent(void *ctx, struct node_http_response *resp,
                     const struct node_http_request *req)
{
	(void)ctx;
	(void)resp;
	(void)req;
}

static const struct node_http_route routes[] = {
    {"GET", "/ping", h_ping},      {"POST", "/echo", h_echo},    {"PUT", "/echo", h_echo},
    {"GET", "/a/{}/b/{}", h_pair}, {"GET", "/silent", h_silent},
};
#define NROUTES (sizeof(routes) / sizeof(routes[0]))

/* Parse a JSON error body and check its "code". */
static int json_code_is(const char *body, size_t len, const char *code)
{
	json_t *j = json_loadb(body, len, 0, NULL);
	const char *c = j ? json_string_value(json_object_get(j, "code")) : NULL;
	int ok = c && strcmp(c, code) == 0 && json_is_string(json_object_get(j, "message"));

	json_decref(j);
	return ok;
}

static void run(struct node_http_response *resp, const char *method, const char *target,
                const char *inm)
{
	struct node_http_request req;
	char pathbuf[512], qbuf[512];

	memset(&req, 0, sizeof(req));
	memset(resp, 0, sizeof(*resp));
	if (node_http_parse_target(&req, pathbuf, sizeof(pathbuf), qbuf, sizeof(qbuf), target,
	                           strlen(target), NULL) != FWC_OK) {
		resp->status = 999;
		return;
	}
	req.method = method;
	req.if_none_match = inm;
	node_http_dispatch(routes, NROUTES, NULL, resp, &req);
}

static void test_parse_target(void)
{
	struct node_http_request req;
	char pathbuf[64], qbuf[64];
	struct fwc_errinfo ei = {0};
	const char *t;

	memset(&req, 0, sizeof(req));
	t = "/v1/a%2Fb?from=1&to=%32+3&flag&&x=";
	CHECK_RC(node_http_parse_target(&req, pathbuf, sizeof(pathbuf), qbuf, sizeof(qbuf), t,
	                                strlen(t), &ei),
	         FWC_OK);
	CHECK(strcmp(req.path, "/v1/a/b") == 0);
	CHECK(req.nquery == 4);
	CHECK(strcmp(node_http_query(&req, "from"), "1") == 0);
	CHECK(strcmp(node_http_query(&req, "to"), "2 3") == 0);
	CHECK(strcmp(node_http_query(&req, "flag"), "") == 0);
	CHECK(strcmp(node_http_query(&req, "x"), "") == 0);
	CHECK(node_http_query(&req, "nope") == NULL);

	t = "/bad%zz";
	CHECK_RC(node_http_parse_target(&req, pathbuf, sizeof(pathbuf), qbuf, sizeof(qbuf), t,
	                                strlen(t), &ei),
	         FWC_ERR_MALFORMED);
	CHECK(ei.offset == 4);
	t = "/bad%2";
	CHECK_RC(node_http_parse_target(&req, pathbuf, sizeof(pathbuf), qbuf, sizeof(qbuf), t,
	                                strlen(t), &ei),
	         FWC_ERR_MALFORMED);
	t = "/nul%00";
	CHECK_RC(node_http_parse_target(&req, pathbuf, sizeof(pathbuf), qbuf, sizeof(qbuf), t,
	                                strlen(t), &ei),
	         FWC_ERR_MALFORMED);
	t = "/q?a=%00";
	CHECK_RC(node_http_parse_target(&req, pathbuf, sizeof(pathbuf), qbuf, sizeof(qbuf), t,
	                                strlen(t), &ei),
	         FWC_ERR_MALFORMED);
	t = "http://host/x";
	CHECK_RC(node_http_parse_target(&req, pathbuf, sizeof(pathbuf), qbuf, sizeof(qbuf), t,
	                                strlen(t), &ei),
	         FWC_ERR_MALFORMED);
	CHECK_RC(
	    node_http_parse_target(&req, pathbuf, sizeof(pathbuf), qbuf, sizeof(qbuf), "", 0, &ei),
	    FWC_ERR_MALFORMED);
	/* An embedded NUL inside the given length is refused, not silently cut. */
	CHECK_RC(node_http_parse_target(&req, pathbuf, sizeof(pathbuf), qbuf, sizeof(qbuf), "/a\0b",
	                                4, &ei),
	         FWC_ERR_MALFORMED);
	t = "/q?a&b&c&d&e&f&g&h&i&j&k&l&m&n&o&p&q";
	CHECK_RC(node_http_parse_target(&req, pathbuf, sizeof(pathbuf), qbuf, sizeof(qbuf), t,
	                                strlen(t), &ei),
	         FWC_ERR_TOO_LARGE);
	t = "/this-path-is-longer-than-the-sixteen-bytes";
	CHECK_RC(node_http_parse_target(&req, pathbuf, 16, qbuf, sizeof(qbuf), t, strlen(t), &ei),
	         FWC_ERR_TOO_LARGE);
	t = "/q?key=this-value-is-longer-than-sixteen";
	CHECK_RC(
	    node_http_parse_target(&req, pathbuf, sizeof(pathbuf), qbuf, 16, t, strlen(t), &ei),
	    FWC_ERR_TOO_LARGE);
}

static void test_dispatch(void)
{
	struct node_http_response resp;

	run(&resp, "GET", "/ping", NULL);
	CHECK(resp.status == 200 && resp.body_len == 4 && memcmp(resp.body, "pong", 4) == 0);
	CHECK(strcmp(resp.etag, "\"v1\"") == 0);
	node_http_response_cleanup(&resp);

	run(&resp, "HEAD", "/ping", NULL);
	CHECK(resp.status == 200);
	node_http_response_cleanup(&resp);

	run(&resp, "GET", "/a/x1/b/y2?q=z", NULL);
	CHECK(resp.status == 200 && resp.body_len == 7 && memcmp(resp.body, "x1|y2|z", 7) == 0);
	node_http_response_cleanup(&resp);

	/* A capture never matches an empty segment or spans a '/'. */
	run(&resp, "GET", "/a//b/y", NULL);
	CHECK(resp.status == 404);
	node_http_response_cleanup(&resp);
	run(&resp, "GET", "/a/x/y/b/z", NULL);
	CHECK(resp.status == 404);
	node_http_response_cleanup(&resp);

	run(&resp, "GET", "/nowhere", NULL);
	CHECK(resp.status == 404);
	CHECK(resp.content_type && strcmp(resp.content_type, "application/json") == 0);
	CHECK(json_code_is(resp.body, resp.body_len, "not_found"));
	CHECK(resp.allow[0] == '\0');
	node_http_response_cleanup(&resp);

	run(&resp, "GET", "/ping/", NULL);
	CHECK(resp.status == 404);
	node_http_response_cleanup(&resp);

	run(&resp, "DELETE", "/echo", NULL);
	CHECK(resp.status == 405);
	CHECK(json_code_is(resp.body, resp.body_len, "method_not_allowed"));
	CHECK(strcmp(resp.allow, "POST, PUT") == 0);
	node_http_response_cleanup(&resp);

	run(&resp, "GET", "/silent", NULL);
	CHECK(resp.status == 500);
	CHECK(json_code_is(resp.body, resp.body_len, "internal"));
	node_http_response_cleanup(&resp);

	/* Non-printable bytes in the path never reach the JSON message raw. */
	run(&resp, "GET", "/%1b%ff", NULL);
	CHECK(resp.status == 404 && json_code_is(resp.body, resp.body_len, "not_found"));
	CHECK(memchr(resp.body, 0x1b, resp.body_len) == NULL);
	node_http_response_cleanup(&resp);
}

static void test_etag(void)
{
	struct node_http_response resp;

	run(&resp, "GET", "/ping", "\"v1\"");
	CHECK(resp.status == 304 && resp.body == NULL && strcmp(resp.etag, "\"v1\"") == 0);
	node_http_response_cleanup(&resp);
	run(&resp, "GET", "/ping", "\"zz\", W/\"v1\"");
	CHECK(resp.status == 304);
	node_http_response_cleanup(&resp);
	run(&resp, "GET", "/ping", "*");
	CHECK(resp.status == 304);
	node_http_response_cleanup(&resp);
	run(&resp, "GET", "/ping", "\"v2\"");
	CHECK(resp.status == 200);
	node_http_response_cleanup(&resp);
	run(&resp, "GET", "/ping", "\"v1");
	CHECK(resp.status == 200);
	node_http_response_cleanup(&resp);
	/* A response without an ETag is never turned into 304. */
	run(&resp, "GET", "/a/1/b/2", "*");
	CHECK(resp.status == 200);
	node_http_response_cleanup(&resp);
}

/* ---------------------------------------------------------------- over real sockets */

static int connect_to(uint16_t port)
{
	struct sockaddr_in sa;
	struct timeval tv = {5, 0};
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons(port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static int send_all(int fd, const void *p, size_t n)
{
	const char *c = p;

	while (n) {
		ssize_t w = send(fd, c, n, MSG_NOSIGNAL);

		if (w <= 0)
			return -1;
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Read one response: status code, Connection: close flag and body (Content-Length framed).
 * Returns the status or -1. */
static int read_response(int fd, char *body, size_t bodycap, size_t *bodylen, int *closes)
{
	char buf[8192];
	size_t have = 0, clen = 0, hdr_end;
	char *p;
	int status;

	for (;;) {
		ssize_t r;

		buf[have] = '\0';
		if ((p = strstr(buf, "\r\n\r\n")) != NULL)
			break;
		if (have + 1 >= sizeof(buf))
			return -1;
		r = recv(fd, buf + have, 1, 0); /* byte by byte: never read past this response */
		if (r <= 0)
			return -1;
		have += (size_t)r;
	}
	hdr_end = (size_t)(p - buf) + 4;
	if (sscanf(buf, "HTTP/1.1 %d", &status) != 1)
		return -1;
	for (char *h = buf; h && h < buf + hdr_end; h = strstr(h, "\r\n")) {
		if (*h == '\r')
			h += 2;
		if (strncasecmp(h, "Content-Length:", 15) == 0)
			clen = strtoul(h + 15, NULL, 10);
		if (closes && strncasecmp(h, "Connection: close", 17) == 0)
			*closes = 1;
	}
	if (clen > bodycap)
		return -1;
	for (size_t got = 0; got < clen;) {
		ssize_t r = recv(fd, body + got, clen - got, 0);

		if (r <= 0)
			return -1;
		got += (size_t)r;
	}
	*bodylen = clen;
	return status;
}

static void test_server(void)
{
	struct node_http_config cfg;
	struct node_http_server *srv = NULL, *srv2 = (void *)1;
	struct fwc_errinfo ei = {0};
	char body[4096], big[3000];
	size_t blen = 0;
	int fd, closes = 0;
	uint16_t port;
	const char *req;

	node_http_config_default(&cfg);
	cfg.port = 0;
	cfg.threads = 2;
	cfg.timeout_s = 1;
	cfg.max_body = 2048;
	CHECK_RC(node_http_server_start(&srv, &cfg, routes, NROUTES, NULL, &ei), FWC_OK);
	if (srv == NULL)
		return;
	port = node_http_server_port(srv);
	CHECK(port != 0);

	/* Keep-alive: two requests answered on one connection, no Connection: close. */
	fd = connect_to(port);
	CHECK(fd >= 0);
	req = "GET /ping HTTP/1.1\r\nHost: x\r\n\r\n";
	CHECK(send_all(fd, req, strlen(req)) == 0);
	CHECK(read_response(fd, body, sizeof(body), &blen, &closes) == 200);
	CHECK(blen == 4 && memcmp(body, "pong", 4) == 0);
	req = "GET /ping HTTP/1.1\r\nHost: x\r\nIf-None-Match: \"v1\"\r\n\r\n";
	CHECK(send_all(fd, req, strlen(req)) == 0);
	CHECK(read_response(fd, body, sizeof(body), &blen, &closes) == 304);
	req = "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello";
	CHECK(send_all(fd, req, strlen(req)) == 0);
	CHECK(read_response(fd, body, sizeof(body), &blen, &closes) == 200);
	CHECK(blen == 5 && memcmp(body, "hello", 5) == 0);
	req = "GET /missing HTTP/1.1\r\nHost: x\r\n\r\n";
	CHECK(send_all(fd, req, strlen(req)) == 0);
	CHECK(read_response(fd, body, sizeof(body), &blen, &closes) == 404);
	CHECK(json_code_is(body, blen, "not_found"));
	req = "GET /bad%zz HTTP/1.1\r\nHost: x\r\n\r\n";
	CHECK(send_all(fd, req, strlen(req)) == 0);
	CHECK(read_response(fd, body, sizeof(body), &blen, &closes) == 400);
	CHECK(json_code_is(body, blen, "bad_request"));
	CHECK(closes == 0);
	close(fd);

	/* Declared oversize body: 413 JSON before the body is sent. */
	fd = connect_to(port);
	req = "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n";
	CHECK(send_all(fd, req, strlen(req)) == 0);
	CHECK(read_response(fd, body, sizeof(body), &blen, NULL) == 413);
	CHECK(json_code_is(body, blen, "too_large"));
	close(fd);

	/* Chunked oversize body: drained, then 413. */
	fd = connect_to(port);
	memset(big, 'x', sizeof(big));
	req = "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nbb8\r\n";
	CHECK(send_all(fd, req, strlen(req)) == 0);
	CHECK(send_all(fd, big, sizeof(big)) == 0);
	CHECK(send_all(fd, "\r\n0\r\n\r\n", 7) == 0);
	CHECK(read_response(fd, body, sizeof(body), &blen, NULL) == 413);
	CHECK(json_code_is(body, blen, "too_large"));
	close(fd);

	/* A body exactly at the cap is accepted. */
	fd = connect_to(port);
	snprintf(body, sizeof(body), "PUT /echo HTTP/1.1\r\nHost: x\r\nContent-Length: %zu\r\n\r\n",
	         cfg.max_body);
	CHECK(send_all(fd, body, strlen(body)) == 0);
	CHECK(send_all(fd, big, cfg.max_body) == 0);
	CHECK(read_response(fd, body, sizeof(body), &blen, NULL) == 200);
	CHECK(blen == cfg.max_body);
	close(fd);

	/* Slow client: half a request line, then silence; the server cuts it after ~1 s. */
	{
		struct timespec t0, t1;
		char c;
		ssize_t r;

		fd = connect_to(port);
		CHECK(send_all(fd, "GET /pi", 7) == 0);
		clock_gettime(CLOCK_MONOTONIC, &t0);
		r = recv(fd, &c, 1, 0);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		CHECK(r == 0); /* closed by the server, not our 5 s receive timeout */
		CHECK(t1.tv_sec - t0.tv_sec < 4);
		close(fd);
	}

	/* Port in use: a clear error naming the address and the reason. */
	cfg.port = port;
	memset(&ei, 0, sizeof(ei));
	CHECK_RC(node_http_server_start(&srv2, &cfg, routes, NROUTES, NULL, &ei), FWC_ERR_IO);
	CHECK(srv2 == (void *)1);
	CHECK(strstr(ei.msg, "127.0.0.1") != NULL && strstr(ei.msg, "in use") != NULL);

	cfg.bind_addr = "not-an-address";
	CHECK_RC(node_http_server_start(&srv2, &cfg, routes, NROUTES, NULL, &ei), FWC_ERR_IO);
	node_http_server_stop(srv);
	node_http_server_stop(NULL);
}

int main(void)
{
	RUN(test_parse_target);
	RUN(test_dispatch);
	RUN(test_etag);
	RUN(test_server);
	return test_done();
}
