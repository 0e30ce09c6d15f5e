/* fwchain CLI — the client of a node's REST API (docs/node.md), on libcurl and jansson.
 * Internal to the tool (cli_ prefix). Every function that can fail prints the tool's one-line
 * error and returns CLI_EXIT_ERROR, as cli/util.h's helpers do. */
#ifndef FWCHAIN_CLI_CLIENT_H
#define FWCHAIN_CLI_CLIENT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define CLI_NODE_DEFAULT "http://127.0.0.1:8080" /* fwchaind's default port */
#define CLI_NODE_URL_MAX 512
#define CLI_NODE_TIMEOUT_MS 30000 /* whole request */
#define CLI_NODE_CONNECT_TIMEOUT_MS 5000
#define CLI_NODE_RESPONSE_MAX ((size_t)4 * 1024 * 1024) /* bytes of one response body */

/* A node to talk to. */
struct cli_node {
	const char *cmd;            /* command name for messages */
	char url[CLI_NODE_URL_MAX]; /* base URL without a trailing slash */
	long timeout_ms;
	void *curl; /* CURL *, reused across requests (keep-alive) */
};

/* One HTTP answer. body is NUL-terminated (not counted in len); free it with
 * cli_http_response_cleanup. */
struct cli_http_response {
	long status;
	char *body;
	size_t len;
};

/* Pick the node URL: url_flag (--node) if not NULL, else FWCHAIN_NODE, else CLI_NODE_DEFAULT.
 * It must be http:// or https://, at most CLI_NODE_URL_MAX - 1 bytes; a trailing '/' is
 * dropped. timeout_s 0 means CLI_NODE_TIMEOUT_MS. Prints one line and returns CLI_EXIT_ERROR on
 * failure. */
int cli_node_init(struct cli_node *n, const char *cmd, const char *url_flag, unsigned timeout_s);
void cli_node_cleanup(struct cli_node *n);

/* Send METHOD url+path (path starts with '/') with body[0..len) (NULL for none) of content type
 * ctype, and read the answer, at most cap bytes of body. Returns 0 when an HTTP answer arrived,
 * whatever its status; CLI_EXIT_ERROR (after one line: connection refused, timeout, answer too
 * large, ...) otherwise. */
int cli_node_request(struct cli_node *n, struct cli_http_response *r, const char *method,
                     const char *path, const void *body, size_t len, const char *ctype, size_t cap);
void cli_http_response_cleanup(struct cli_http_response *r);

/* Request and parse a JSON object answer. A 2xx status gives *obj (caller json_decref's);
 * any other status is an error turned into one line from the node's {"code","message"} body:
 * "node answered 400 nonce_gap: nonce 3 skips ahead; the next is 1". When code_out is not NULL
 * it receives the error code (or "" for a transport error) so a caller can react to one. */
int cli_node_json(struct cli_node *n, json_t **obj, const char *method, const char *path,
                  const void *body, size_t len, const char *ctype, char *code_out, size_t code_cap);

/* Print the one-line error for a non-2xx answer r to METHOD path (the node's {"code","message"}
 * when the body has them, else the status and the start of the body) and return
 * CLI_EXIT_ERROR. code_out (optional) receives the code, "" when there is none. */
int cli_node_error(struct cli_node *n, const struct cli_http_response *r, const char *method,
                   const char *path, char *code_out, size_t code_cap);

/* Fetch GET /v1/health's chain id into out (NUL-terminated, at most cap - 1 bytes). */
int cli_node_chain_id(struct cli_node *n, char *out, size_t cap);

/* A string / integer member of obj, or NULL / -1 when absent or of another type. */
const char *cli_json_string(const json_t *obj, const char *key);
long long cli_json_int(const json_t *obj, const char *key);

#endif
