/* fwchain CLI — node client: HTTP requests to fwchaind's REST API with libcurl, JSON answers
 * with jansson.
 *
 * Main design choice: the node is untrusted input like any file, so every answer is bounded
 * (CLI_NODE_RESPONSE_MAX, enforced while receiving: the write callback refuses the byte that
 * crosses the cap, which aborts the transfer) and every request has a connect and a total
 * timeout; redirects are not followed and only http and https are allowed, so a node cannot
 * send the tool elsewhere. Loopback addresses never go through a proxy configured in the
 * environment. Errors are the tool's usual one line: transport failures name the URL and
 * curl's reason, refusals by the node show its stable `code` and its message, so scripts can
 * match on the code. One curl handle is kept per node so that polling reuses the connection. */
#include "client.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

static int curl_ready;

int cli_node_init(struct cli_node *n, const char *cmd, const char *url_flag, unsigned timeout_s)
{
	const char *url = url_flag;
	size_t len;

	memset(n, 0, sizeof(*n));
	n->cmd = cmd;
	if (url == NULL || *url == '\0')
		url = getenv("FWCHAIN_NODE");
	if (url == NULL || *url == '\0')
		url = CLI_NODE_DEFAULT;
	len = strlen(url);
	if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0)
		return cli_err(cmd, "node URL '%.80s' must start with http:// or https://", url);
	if (len >= sizeof(n->url))
		return cli_err(cmd, "node URL is too long (%zu bytes, at most %zu)", len,
		               sizeof(n->url) - 1);
	memcpy(n->url, url, len + 1);
	while (len > 8 && n->url[len - 1] == '/')
		n->url[--len] = '\0';
	n->timeout_ms = timeout_s ? (long)timeout_s * 1000 : CLI_NODE_TIMEOUT_MS;
	if (!curl_ready) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
			return cli_err(cmd, "cannot initialise libcurl");
		curl_ready = 1;
	}
	n->curl = curl_easy_init();
	if (n->curl == NULL)
		return cli_err(cmd, "cannot initialise libcurl");
	return 0;
}

void cli_node_cleanup(struct cli_node *n)
{
	if (n->curl != NULL)
		curl_easy_cleanup(n->curl);
	n->curl = NULL;
}

void cli_http_response_cleanup(struct cli_http_response *r)
{
	free(r->body);
	memset(r, 0, sizeof(*r));
}

struct sink {
	char *buf;
	size_t len, cap, limit;
	int too_large;
};

static size_t on_data(char *data, size_t size, size_t nmemb, void *ud)
{
	struct sink *s = ud;
	size_t n = size * nmemb, want;
	char *nb;

	if (n > s->limit - s->len) {
		s->too_large = 1;
		return 0; /* curl aborts with CURLE_WRITE_ERROR */
	}
	if (s->len + n + 1 > s->cap) {
		want = s->cap ? s->cap : 4096;
		while (want < s->len + n + 1)
			want *= 2;
		if (want > s->limit + 1)
			want = s->limit + 1;
		nb = realloc(s->buf, want);
		if (nb == NULL)
			return 0;
		s->buf = nb;
		s->cap = want;
	}
	memcpy(s->buf + s->len, data, n);
	s->len += n;
	s->buf[s->len] = '\0';
	return n;
}

int cli_node_request(struct cli_node *n, struct cli_http_response *r, const char *method,
                     const char *path, const void *body, size_t len, const char *ctype, size_t cap)
{
	CURL *h = n->curl;
	struct curl_slist *hdrs = NULL;
	struct sink s = {NULL, 0, 0, cap, 0};
	char url[CLI_NODE_URL_MAX + 1024], ct[128], errbuf[CURL_ERROR_SIZE];
	CURLcode cc;
	long status = 0;
	int rc = CLI_EXIT_ERROR;

	if ((size_t)snprintf(url, sizeof(url), "%s%s", n->url, path) >= sizeof(url))
		return cli_err(n->cmd, "request URL too long");
	errbuf[0] = '\0';
	curl_easy_reset(h);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h, CURLOPT_NOPROXY, "127.0.0.1,localhost,::1");
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
	                 n->timeout_ms < CLI_NODE_CONNECT_TIMEOUT_MS ? n->timeout_ms
	                                                             : CLI_NODE_CONNECT_TIMEOUT_MS);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, n->timeout_ms);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "fwchain-cli/0.1");
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &s);
	/* No "Expect: 100-continue" round trip for small bodies. */
	hdrs = curl_slist_append(hdrs, "Expect:");
	hdrs = curl_slist_append(hdrs, "Accept: application/json, text/plain");
	if (ctype != NULL) {
		snprintf(ct, sizeof(ct), "Content-Type: %s", ctype);
		hdrs = curl_slist_append(hdrs, ct);
	}
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	if (strcmp(method, "POST") == 0) {
		curl_easy_setopt(h, CURLOPT_POST, 1L);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, body != NULL ? body : "");
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	} else if (strcmp(method, "GET") != 0) {
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	}
	cc = curl_easy_perform(h);
	curl_slist_free_all(hdrs);
	if (s.too_large) {
		cli_err(n->cmd, "%s %s: the node's answer is larger than %zu bytes", method, url,
		        cap);
		goto out;
	}
	if (cc != CURLE_OK) {
		cli_err(n->cmd, "%s %s: %s", method, url,
		        errbuf[0] ? errbuf : curl_easy_strerror(cc));
		goto out;
	}
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	if (s.buf == NULL && (s.buf = calloc(1, 1)) == NULL) {
		cli_err(n->cmd, "out of memory");
		goto out;
	}
	r->status = status;
	r->body = s.buf;
	r->len = s.len;
	s.buf = NULL;
	rc = 0;
out:
	free(s.buf);
	return rc;
}

const char *cli_json_string(const json_t *obj, const char *key)
{
	const json_t *v = json_object_get(obj, key);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

long long cli_json_int(const json_t *obj, const char *key)
{
	const json_t *v = json_object_get(obj, key);

	return json_is_integer(v) ? (long long)json_integer_value(v) : -1;
}

int cli_node_error(struct cli_node *n, const struct cli_http_response *r, const char *method,
                   const char *path, char *code_out, size_t code_cap)
{
	json_t *j = json_loadb(r->body, r->len, JSON_REJECT_DUPLICATES, NULL);
	const char *code = j != NULL ? cli_json_string(j, "code") : NULL;
	const char *msg = j != NULL ? cli_json_string(j, "message") : NULL;

	if (code_out != NULL && code_cap)
		snprintf(code_out, code_cap, "%s", code != NULL ? code : "");
	if (code != NULL)
		cli_err(n->cmd, "%s %s: node answered %ld %.64s: %.300s", method, path, r->status,
		        code, msg ? msg : "(no message)");
	else
		cli_err(n->cmd, "%s %s: node answered HTTP %ld: %.120s", method, path, r->status,
		        r->body);
	json_decref(j);
	return CLI_EXIT_ERROR;
}

int cli_node_json(struct cli_node *n, json_t **obj, const char *method, const char *path,
                  const void *body, size_t len, const char *ctype, char *code_out, size_t code_cap)
{
	struct cli_http_response r = {0};
	json_error_t jerr;
	json_t *j = NULL;
	int rc = CLI_EXIT_ERROR;

	if (code_out != NULL && code_cap)
		code_out[0] = '\0';
	if (cli_node_request(n, &r, method, path, body, len, ctype, CLI_NODE_RESPONSE_MAX) != 0)
		return CLI_EXIT_ERROR;
	if (r.status < 200 || r.status > 299) {
		cli_node_error(n, &r, method, path, code_out, code_cap);
		goto out;
	}
	j = json_loadb(r.body, r.len, JSON_REJECT_DUPLICATES, &jerr);
	if (j == NULL || !json_is_object(j)) {
		cli_err(n->cmd, "%s %s: the node's answer is not a JSON object (%s)", method, path,
		        j == NULL ? jerr.text : "another JSON type");
		goto out;
	}
	*obj = j;
	j = NULL;
	rc = 0;
out:
	json_decref(j);
	cli_http_response_cleanup(&r);
	return rc;
}

int cli_node_chain_id(struct cli_node *n, char *out, size_t cap)
{
	json_t *h = NULL;
	const char *id;
	int rc = CLI_EXIT_ERROR;

	if (cli_node_json(n, &h, "GET", "/v1/health", NULL, 0, NULL, NULL, 0) != 0)
		return CLI_EXIT_ERROR;
	id = cli_json_string(h, "chain_id");
	if (id == NULL || *id == '\0' || strlen(id) >= cap)
		cli_err(n->cmd, "the node's /v1/health has no usable chain_id");
	else {
		memcpy(out, id, strlen(id) + 1);
		rc = 0;
	}
	json_decref(h);
	return rc;
}
