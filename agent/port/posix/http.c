/* The POSIX port's transport: ranged GET and POST over libcurl, plus "file://" URLs read
 * directly (the tests use local files as download sources without a server).
 *
 * Main design choice: the caller's buffer is the hard limit. The write callback copies at most
 * the requested length and aborts the transfer when a server sends more, so a hostile or broken
 * server can neither overflow the agent's block buffer nor make it read an endless body. A
 * server that ignores the Range header is accepted only for a request starting at offset 0,
 * where its first bytes are the right ones.
 *
 * One easy handle per port (or one shared by the simulator's ports) is reused for every
 * request, so libcurl keeps the connection to the node alive instead of opening one per 4 KiB
 * block. With port->readahead set, GETs of content-addressed URLs ("/ipfs/" in them, immutable
 * by construction) fetch a window of up to readahead bytes and serve the next ranges from it:
 * the core still receives exactly the bytes it asked for and hashes them, and the port never
 * reads more than one window past what the core asked. */
#include "port_posix.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define HTTP_TIMEOUT_MS 30000L
#define HTTP_CONNECT_TIMEOUT_MS 5000L

struct sink {
	uint8_t *buf;
	size_t cap;
	size_t len;
	bool overflow;
};

static size_t on_body(char *data, size_t size, size_t nmemb, void *user)
{
	struct sink *s = user;
	size_t n = size * nmemb, room = s->cap - s->len;

	if (n > room) {
		memcpy(s->buf + s->len, data, room);
		s->len += room;
		s->overflow = true;
		return 0; /* abort: more than asked for */
	}
	memcpy(s->buf + s->len, data, n);
	s->len += n;
	return n;
}

/* NUL-terminated copy of url[0..len) into out, refusing embedded NULs. */
static int url_copy(char *out, size_t cap, const char *url, size_t len)
{
	if (url == NULL || len == 0 || len >= cap || memchr(url, '\0', len) != NULL)
		return FWC_ERR_ARG;
	memcpy(out, url, len);
	out[len] = '\0';
	return FWC_OK;
}

static int scheme_is(const char *url, const char *scheme)
{
	size_t n = strlen(scheme);

	return strncmp(url, scheme, n) == 0;
}

static int file_get(uint8_t *buf, size_t len, size_t *got, const char *path, uint64_t offset)
{
	size_t done = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return errno == ENOENT ? FWC_ERR_NOT_FOUND : FWC_ERR_IO;
	while (done < len) {
		ssize_t n = pread(fd, buf + done, len - done, (off_t)(offset + done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			close(fd);
			return FWC_ERR_IO;
		}
		if (n == 0)
			break;
		done += (size_t)n;
	}
	close(fd);
	*got = done;
	return FWC_OK;
}

static int curl_ready(struct fwc_port *port)
{
	if (!port->curl_ready) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
			return FWC_ERR_IO;
		port->curl_ready = true;
	}
	return FWC_OK;
}

void fwc_posix_http_close(struct fwc_port *port)
{
	if (port->curl != NULL && !port->curl_shared)
		curl_easy_cleanup(port->curl);
	port->curl = NULL;
	free(port->ra_buf);
	port->ra_buf = NULL;
	port->ra_len = 0;
	port->ra_url[0] = '\0';
}

/* The port's handle, reset to no options (its connection cache stays). */
static CURL *easy_new(struct fwc_port *port, const char *url, struct sink *s)
{
	CURL *c = port->curl;

	if (c == NULL) {
		if ((c = curl_easy_init()) == NULL)
			return NULL;
		port->curl = c;
		port->curl_shared = false;
	} else {
		curl_easy_reset(c);
	}
	port->http_requests++;
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, HTTP_TIMEOUT_MS);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, HTTP_CONNECT_TIMEOUT_MS);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, s);
	return c;
}

/* One ranged GET of [offset, offset + len) of u into buf; *got as fwc_port_http_get. */
static int http_get_range(struct fwc_port *port, uint8_t *buf, size_t len, size_t *got,
                          const char *u, uint64_t offset)
{
	char range[64];
	struct sink s = {buf, len, 0, false};
	long status = 0;
	CURLcode cc;
	CURL *c;
	int rc;

	if ((rc = curl_ready(port)) < 0)
		return rc;
	if ((c = easy_new(port, u, &s)) == NULL)
		return FWC_ERR_IO;
	snprintf(range, sizeof(range), "%" PRIu64 "-%" PRIu64, offset, offset + len - 1);
	curl_easy_setopt(c, CURLOPT_RANGE, range);
	cc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	port->http_bytes += s.len;
	if (status == 404 || status == 416)
		return FWC_ERR_NOT_FOUND;
	if (status != 206 && !(status == 200 && offset == 0))
		return FWC_ERR_IO;
	/* a full buffer is success even when the transfer was aborted for sending more */
	if (cc != CURLE_OK && !(s.overflow && s.len == len))
		return FWC_ERR_IO;
	*got = s.len;
	return FWC_OK;
}

int fwc_port_http_get(struct fwc_port *port, uint8_t *buf, size_t len, size_t *got, const char *url,
                      size_t url_len, uint64_t offset)
{
	char u[FWC_AGENT_REQUEST_URL_MAX + 1];
	size_t n = 0;
	int rc;

	if (port == NULL || buf == NULL || got == NULL || len == 0)
		return FWC_ERR_ARG;
	if ((rc = url_copy(u, sizeof(u), url, url_len)) < 0)
		return rc;
	port->gets++;
	port->uptime_skew_ms += port->get_delay_ms;
	if (scheme_is(u, "file://"))
		return file_get(buf, len, got, u + 7, offset);
	if (!scheme_is(u, "http://") && !scheme_is(u, "https://"))
		return FWC_ERR_UNSUPPORTED;
	if (port->readahead <= len || strstr(u, "/ipfs/") == NULL)
		return http_get_range(port, buf, len, got, u, offset);

	/* served from the window when the range follows the previous one (a sequential read;
	 * any other offset, such as the core trying a chunk again after a bad hash, is fetched
	 * anew) and the window covers it, or reaches the end of the resource */
	if (strcmp(port->ra_url, u) != 0 || offset != port->ra_next ||
	    offset >= port->ra_off + port->ra_len ||
	    (offset + len > port->ra_off + port->ra_len && port->ra_len == port->readahead)) {
		port->ra_url[0] = '\0';
		if (port->ra_buf == NULL && (port->ra_buf = malloc(port->readahead)) == NULL)
			return FWC_ERR_NOMEM;
		if ((rc = http_get_range(port, port->ra_buf, port->readahead, &n, u, offset)) < 0)
			return rc;
		port->ra_off = offset;
		port->ra_len = n;
		strcpy(port->ra_url, u);
	}
	n = port->ra_off + port->ra_len - offset;
	if (n > len)
		n = len;
	memcpy(buf, port->ra_buf + (offset - port->ra_off), n);
	port->ra_next = offset + n;
	*got = n;
	return FWC_OK;
}

int fwc_port_http_post(struct fwc_port *port, uint8_t *resp, size_t resp_cap, size_t *resp_len,
                       int *status_out, const char *url, size_t url_len, const uint8_t *body,
                       size_t body_len)
{
	char u[FWC_AGENT_REQUEST_URL_MAX + 1];
	struct sink s = {resp, resp_cap, 0, false};
	struct curl_slist *hdr = NULL;
	long status = 0;
	CURLcode cc;
	CURL *c;
	int rc;

	if (port == NULL || resp == NULL || resp_len == NULL || (body == NULL && body_len != 0))
		return FWC_ERR_ARG;
	if ((rc = url_copy(u, sizeof(u), url, url_len)) < 0)
		return rc;
	if (!scheme_is(u, "http://") && !scheme_is(u, "https://"))
		return FWC_ERR_UNSUPPORTED;
	if ((rc = curl_ready(port)) < 0)
		return rc;
	if ((c = easy_new(port, u, &s)) == NULL)
		return FWC_ERR_IO;
	hdr = curl_slist_append(NULL, "Content-Type: application/cbor");
	if (hdr == NULL) {
		curl_easy_cleanup(c);
		return FWC_ERR_NOMEM;
	}
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body_len ? (const char *)body : "");
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)body_len);
	cc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	port->http_bytes += s.len;
	curl_easy_reset(c); /* the header list is freed next: the handle must not keep it */
	curl_slist_free_all(hdr);
	if (s.overflow)
		return FWC_ERR_TOO_LARGE;
	if (cc != CURLE_OK)
		return FWC_ERR_IO;
	/* an answer, whatever its status: the caller may read why it was refused */
	*resp_len = s.len;
	if (status_out != NULL)
		*status_out = (int)status;
	if (status == 404)
		return FWC_ERR_NOT_FOUND;
	if (status < 200 || status > 299)
		return FWC_ERR_IO;
	return FWC_OK;
}
