/* fwchain orgs / products / releases / release show|list / devices / device show|list /
 * events / txs / audit: read-only views of the ledger over the node's query API
 * (docs/node.md, "Query API").
 *
 * Each command is a thin client of one GET endpoint: it checks its arguments locally (ids,
 * keys, times, types) so a typo is a one-line usage error before any request, builds the query
 * string (every value percent-encoded), and prints the answer either as a table for a human or,
 * with --json, the node's JSON byte for byte. One table engine serves every command: a command
 * is a list of columns naming JSON members, so the tool never interprets more of an answer
 * than it shows. Pagination follows the node's opaque keyset cursor: one page by default (with
 * a hint naming the next cursor), --cursor to resume, --all to follow every page, bounded by
 * QUERY_PAGES_MAX so a huge or misbehaving node cannot keep the tool looping; with --all and
 * --json the pages' rows are merged into one answer of the same shape whose next is null.
 * Untrusted text from the node goes to the terminal only through a filter that escapes
 * control bytes. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fwchain/key.h"
#include "client.h"
#include "commands.h"
#include "util.h"

#define QUERY_PAGES_MAX 1000 /* pages one --all may fetch */
#define QUERY_LIMIT_MAX 1000 /* the node's largest page */
#define QUERY_PATH_MAX 2048
#define QUERY_CELL_MAX 256 /* bytes of one table cell before it is cut */

enum {
	O_HELP = 1,
	O_NODE,
	O_TIMEOUT,
	O_JSON,
	O_LIMIT,
	O_CURSOR,
	O_ALL,
	O_ORG,
	O_PRODUCT,
	O_CHANNEL,
	O_GROUP,
	O_STATUS,
	O_DEVICE,
	O_KIND,
	O_SINCE,
	O_UNTIL,
	O_SENDER,
	O_TYPE,
	O_ACTOR,
	O_ORDER,
};

/* clang-format off */
#define QUERY_COMMON_OPTS                                                                        \
	{"help", O_HELP, 0}, {"node", O_NODE, 1}, {"timeout", O_TIMEOUT, 1}, {"json", O_JSON, 0}, \
	    {"limit", O_LIMIT, 1}, {"cursor", O_CURSOR, 1}, {"all", O_ALL, 0}
/* clang-format on */

#define QUERY_COMMON_HELP                                                                          \
	"  --limit N          at most N rows per page (1..1000; default the node's, 100)\n"        \
	"  --cursor C         start at the page the previous answer's 'next' names\n"              \
	"  --all              follow every page (at most 1000 pages)\n"                            \
	"  --json             print the node's JSON answer as it is (with --all: the pages'\n"     \
	"                     rows merged into one answer whose next is null)\n"                   \
	"  --node URL         the node (default $FWCHAIN_NODE, else " CLI_NODE_DEFAULT ")\n"       \
	"  --timeout SECONDS  per request (default 30)\n"                                          \
	"\n"                                                                                       \
	"Exit codes: 0 answered; 2 usage error, unknown id, node unreachable or in error.\n"

/* How a cell is shown. */
enum col_kind { C_TEXT, C_TIME, C_BOOL, C_LIST };

struct column {
	const char *head;
	const char *key; /* member of the row */
	int width;       /* 0: last column, unpadded */
	enum col_kind kind;
};

/* One query: the state shared by the option parser and the page loop. */
struct query {
	const char *cmd;
	const char *url;
	unsigned timeout;
	int json;
	int all;
	unsigned limit; /* 0: the node's default */
	const char *cursor;
	char path[QUERY_PATH_MAX]; /* path and filters, without limit/cursor */
	size_t plen;
	int has_query; /* path already has a '?' */
};

/* ---- arguments ---- */

static int query_common_opt(struct query *q, int id, const char *val, const char *help)
{
	unsigned long long v;

	switch (id) {
	case O_HELP:
		fputs(help, stdout);
		return cli_stdout_done(q->cmd) == 0 ? -1 : CLI_EXIT_ERROR;
	case O_NODE:
		q->url = val;
		return 1;
	case O_TIMEOUT:
		if (cli_u64_arg(q->cmd, "--timeout", val, 3600, &v) != 0)
			return CLI_EXIT_ERROR;
		if (v == 0)
			return cli_err(q->cmd, "--timeout must be 1..3600 seconds");
		q->timeout = (unsigned)v;
		return 1;
	case O_JSON:
		q->json = 1;
		return 1;
	case O_ALL:
		q->all = 1;
		return 1;
	case O_LIMIT:
		if (cli_u64_arg(q->cmd, "--limit", val, QUERY_LIMIT_MAX, &v) != 0)
			return CLI_EXIT_ERROR;
		if (v == 0)
			return cli_err(q->cmd, "--limit must be 1..%d", QUERY_LIMIT_MAX);
		q->limit = (unsigned)v;
		return 1;
	case O_CURSOR:
		if (val[0] == '\0' || strlen(val) > 512)
			return cli_err(q->cmd,
			               "--cursor must be 1..512 bytes (the 'next' of an answer)");
		q->cursor = val;
		return 1;
	default:
		return 0;
	}
}

/* An id of the ledger: [a-z0-9][a-z0-9._-]*, 1..max bytes (also keeps paths clean). */
static int id_check(const char *cmd, const char *what, const char *s, size_t max)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > max)
		return cli_usage_err(cmd, "%s must be 1..%zu bytes", what, max);
	for (i = 0; i < n; i++) {
		char c = s[i];
		int ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		         (i > 0 && (c == '.' || c == '_' || c == '-'));
		if (!ok)
			return cli_usage_err(cmd, "%s '%.64s' is not an id ([a-z0-9][a-z0-9._-]*)",
			                     what, s);
	}
	return 0;
}

/* A key as cli_pubkey_resolve takes it (ALG:HEX, key file, keystore), in text form. */
static int key_text(const char *cmd, const char *arg, char out[FWC_PUBKEY_TEXT_MAX])
{
	struct fwc_pubkey pk;

	if (cli_pubkey_resolve(cmd, arg, &pk) != 0)
		return CLI_EXIT_ERROR;
	if (fwc_pubkey_to_text(out, FWC_PUBKEY_TEXT_MAX, &pk) != 0)
		return cli_err(cmd, "cannot print a key");
	return 0;
}

static int release_id_check(const char *cmd, const char *s, char out[65])
{
	size_t i;

	if (strlen(s) != 64)
		return cli_usage_err(cmd, "a release id is 64 hex digits");
	for (i = 0; i < 64; i++) {
		char c = s[i];
		if (c >= 'A' && c <= 'F')
			c = (char)(c - 'A' + 'a');
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return cli_usage_err(cmd, "a release id is 64 hex digits");
		out[i] = c;
	}
	out[64] = '\0';
	return 0;
}

/* ---- the query string ---- */

static int path_put(struct query *q, const char *s, size_t n)
{
	if (n >= sizeof(q->path) - q->plen)
		return cli_err(q->cmd, "request path too long");
	memcpy(q->path + q->plen, s, n);
	q->plen += n;
	q->path[q->plen] = '\0';
	return 0;
}

/* Append "?name=value" or "&name=value", value percent-encoded (RFC 3986 unreserved kept). */
static int param_put(struct query *q, const char *name, const char *value)
{
	static const char hexd[] = "0123456789ABCDEF";
	const unsigned char *v = (const unsigned char *)value;
	char e[3];

	if (value == NULL)
		return 0;
	if (path_put(q, q->has_query ? "&" : "?", 1) != 0 || path_put(q, name, strlen(name)) != 0 ||
	    path_put(q, "=", 1) != 0)
		return CLI_EXIT_ERROR;
	q->has_query = 1;
	for (; *v != '\0'; v++) {
		if ((*v >= 'a' && *v <= 'z') || (*v >= 'A' && *v <= 'Z') ||
		    (*v >= '0' && *v <= '9') || *v == '-' || *v == '.' || *v == '_' || *v == '~') {
			if (path_put(q, (const char *)v, 1) != 0)
				return CLI_EXIT_ERROR;
			continue;
		}
		e[0] = '%';
		e[1] = hexd[*v >> 4];
		e[2] = hexd[*v & 15];
		if (path_put(q, e, 3) != 0)
			return CLI_EXIT_ERROR;
	}
	return 0;
}

static int param_u64(struct query *q, const char *name, uint64_t v, int set)
{
	char b[24];

	if (!set)
		return 0;
	snprintf(b, sizeof(b), "%llu", (unsigned long long)v);
	return param_put(q, name, b);
}

/* ---- output ---- */

/* s made safe for a terminal and cut to cap - 1 bytes: control bytes become '?', which keeps
 * columns aligned (cli_text_safe's \xNN would not). */
static void cell_safe(char *out, size_t cap, const char *s, size_t n)
{
	size_t i, o = 0;

	for (i = 0; i < n && o + 1 < cap; i++) {
		unsigned char c = (unsigned char)s[i];
		out[o++] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
	}
	out[o] = '\0';
}

static void time_text(char *out, size_t cap, long long t)
{
	struct tm tm;
	time_t tt = (time_t)t;

	if (t < 0 || gmtime_r(&tt, &tm) == NULL ||
	    strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(out, cap, "%lld", t);
}

/* The text of one value as a column of kind k shows it. */
static void value_text(char *out, size_t cap, const json_t *v, enum col_kind k)
{
	char tmp[QUERY_CELL_MAX];
	size_t i, o = 0;

	if (v == NULL || json_is_null(v)) {
		snprintf(out, cap, "-");
	} else if (json_is_string(v)) {
		cell_safe(out, cap, json_string_value(v), json_string_length(v));
		if (out[0] == '\0')
			snprintf(out, cap, "-");
	} else if (json_is_integer(v)) {
		if (k == C_TIME)
			time_text(out, cap, json_integer_value(v));
		else
			snprintf(out, cap, "%lld", (long long)json_integer_value(v));
	} else if (json_is_boolean(v)) {
		snprintf(out, cap, "%s", json_is_true(v) ? "yes" : "no");
	} else if (json_is_array(v)) {
		out[0] = '\0';
		for (i = 0; i < json_array_size(v); i++) {
			value_text(tmp, sizeof(tmp), json_array_get(v, i), C_TEXT);
			o += (size_t)snprintf(out + o, cap - o, "%s%s", i ? "," : "", tmp);
			if (o >= cap)
				break;
		}
		if (i == 0)
			snprintf(out, cap, "-");
	} else if (json_is_object(v)) {
		const char *key;
		json_t *x;

		out[0] = '\0';
		json_object_foreach((json_t *)v, key, x)
		{
			value_text(tmp, sizeof(tmp), x, C_TEXT);
			o += (size_t)snprintf(out + o, cap - o, "%s%s=%s", o ? "," : "", key, tmp);
			if (o >= cap)
				break;
		}
		if (o == 0)
			snprintf(out, cap, "-");
		else
			cell_safe(out, cap, out, strlen(out));
	} else {
		snprintf(out, cap, "?");
	}
}

static void table_head(const struct column *cols)
{
	for (; cols->head != NULL; cols++)
		if (cols->width)
			printf("%-*s ", cols->width, cols->head);
		else
			printf("%s\n", cols->head);
}

static void table_row(const struct column *cols, const json_t *row)
{
	char c[QUERY_CELL_MAX];

	for (; cols->head != NULL; cols++) {
		value_text(c, sizeof(c), json_object_get(row, cols->key), cols->kind);
		if (cols->width)
			printf("%-*s ", cols->width, c);
		else
			printf("%s\n", c);
	}
}

/* "name:  value" lines for the members of obj that fields names (a NULL-headed list). */
static void fields_print(const struct column *f, const json_t *obj)
{
	char c[QUERY_CELL_MAX * 4];

	for (; f->head != NULL; f++) {
		const json_t *v = json_object_get(obj, f->key);
		if (v == NULL)
			continue;
		value_text(c, sizeof(c), v, f->kind);
		printf("%-13s %s\n", f->head, c);
	}
}

/* ---- fetching ---- */

/* Where a page keeps its rows and its cursor: obj[container].items|arr and .next. */
struct listing {
	const char *container; /* NULL: the answer itself */
	const char *arr;       /* "items", "members" */
};

static json_t *listing_obj(json_t *page, const struct listing *l)
{
	return l->container ? json_object_get(page, l->container) : page;
}

/* GET the page at q->path (+limit, cursor); *obj the parsed answer, *r its bytes. */
static int page_get(struct query *q, struct cli_node *n, const char *cursor, json_t **obj,
                    struct cli_http_response *r)
{
	size_t keep = q->plen;
	int keep_q = q->has_query, rc = CLI_EXIT_ERROR;
	json_error_t je;

	if (param_u64(q, "limit", q->limit, q->limit != 0) != 0 ||
	    param_put(q, "cursor", cursor) != 0)
		goto out;
	if (cli_node_request(n, r, "GET", q->path, NULL, 0, NULL, CLI_NODE_RESPONSE_MAX) != 0)
		goto out;
	if (r->status < 200 || r->status > 299) {
		cli_node_error(n, r, "GET", q->path, NULL, 0);
		goto out;
	}
	*obj = json_loadb(r->body, r->len, 0, &je);
	if (*obj == NULL || !json_is_object(*obj)) {
		json_decref(*obj);
		*obj = NULL;
		cli_err(q->cmd, "the node's answer to GET %.200s is not a JSON object", q->path);
		goto out;
	}
	rc = 0;
out:
	q->plen = keep;
	q->path[keep] = '\0';
	q->has_query = keep_q;
	return rc;
}

/* Run the query. head (optional) prints the parts of the first page that are not rows (a
 * show command's fields) for a human; cols prints the rows; l says where they are. A single
 * object with no listing (release show) passes l NULL. */
static int query_run(struct query *q, const struct listing *l, const struct column *cols,
                     void (*head)(const json_t *obj))
{
	struct cli_node n;
	struct cli_http_response r = {0};
	json_t *first = NULL, *page = NULL, *rows, *lo;
	const char *next = NULL;
	char *cursor = NULL;
	size_t pages = 0, i, total = 0;
	int rc = CLI_EXIT_ERROR;

	if (cli_node_init(&n, q->cmd, q->url, q->timeout) != 0)
		return CLI_EXIT_ERROR;
	if (q->cursor != NULL && (cursor = strdup(q->cursor)) == NULL) {
		cli_err(q->cmd, "out of memory");
		goto out;
	}
	for (;;) {
		if (page_get(q, &n, cursor, &page, &r) != 0)
			goto out;
		pages++;
		if (l == NULL) { /* one object */
			if (q->json)
				fwrite(r.body, 1, r.len, stdout);
			else
				head(page);
			if (q->json && (r.len == 0 || r.body[r.len - 1] != '\n'))
				putchar('\n');
			break;
		}
		lo = listing_obj(page, l);
		rows = json_object_get(lo, l->arr);
		if (!json_is_array(rows)) {
			cli_err(q->cmd, "the node's answer lacks its '%s' list", l->arr);
			goto out;
		}
		next = json_is_string(json_object_get(lo, "next"))
		           ? json_string_value(json_object_get(lo, "next"))
		           : NULL;
		if (q->json && !q->all) {
			fwrite(r.body, 1, r.len, stdout);
			if (r.len == 0 || r.body[r.len - 1] != '\n')
				putchar('\n');
		} else if (q->json) {
			if (first == NULL) {
				first = json_incref(page);
			} else if (json_array_extend(json_object_get(listing_obj(first, l), l->arr),
			                             rows) != 0) {
				cli_err(q->cmd, "out of memory");
				goto out;
			}
		} else {
			if (pages == 1) {
				if (head != NULL)
					head(page);
				if (json_array_size(rows) > 0)
					table_head(cols);
			}
			for (i = 0; i < json_array_size(rows); i++)
				table_row(cols, json_array_get(rows, i));
		}
		total += json_array_size(rows);
		if (next == NULL || !q->all)
			break;
		if (pages >= QUERY_PAGES_MAX) {
			cli_err(q->cmd,
			        "more than %d pages; narrow the filters or page with --cursor",
			        QUERY_PAGES_MAX);
			goto out;
		}
		free(cursor);
		if ((cursor = strdup(next)) == NULL) {
			cli_err(q->cmd, "out of memory");
			goto out;
		}
		json_decref(page);
		page = NULL;
		cli_http_response_cleanup(&r);
	}
	if (l != NULL && q->json && q->all) {
		json_object_set_new(listing_obj(first, l), "next", json_null());
		if (json_dumpf(first, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER) != 0) {
			cli_err(q->cmd, "cannot write the answer");
			goto out;
		}
		putchar('\n');
	} else if (l != NULL && !q->json) {
		if (total == 0)
			printf("(no %s)\n", l->arr[0] == 'm' ? "members" : "rows");
		if (next != NULL && !q->all) {
			char c[QUERY_CELL_MAX];
			cell_safe(c, sizeof(c), next, strlen(next));
			printf("(more: --cursor '%s', or --all)\n", c);
		}
	}
	rc = cli_stdout_done(q->cmd);
out:
	free(cursor);
	json_decref(first);
	json_decref(page);
	cli_http_response_cleanup(&r);
	cli_node_cleanup(&n);
	return rc;
}

/* Parse q's common options and the command's own (own returns 1 taken, 0 not its, other an
 * exit code); positional arguments go to pos[0..maxpos). Returns 0, -1 (help printed) or an
 * exit code. */
static int query_parse(struct query *q, int argc, char **argv, int first,
                       const struct cli_opt *opts, const char *help, const char **pos, int maxpos,
                       int (*own)(struct query *q, int id, const char *val, void *st), void *st)
{
	struct cli_parser p;
	const char *val;
	int id, k, npos = 0;

	cli_parser_init(&p, q->cmd, argc, argv, first);
	while ((id = cli_next(&p, opts, &val)) != CLI_NEXT_END) {
		if (id == CLI_NEXT_BAD)
			return CLI_EXIT_ERROR;
		if (id == CLI_NEXT_POS) {
			if (npos >= maxpos)
				return cli_usage_err(q->cmd, "unexpected argument '%.64s'", val);
			pos[npos++] = val;
			continue;
		}
		k = query_common_opt(q, id, val, help);
		if (k == 0 && own != NULL)
			k = own(q, id, val, st);
		if (k == 0)
			return cli_usage_err(q->cmd, "unexpected option");
		if (k != 1)
			return k;
	}
	return 0;
}

#define QUERY_PARSE(q, argc, argv, first, opts, help, pos, maxpos, own, st)                        \
	do {                                                                                       \
		int prc_ = query_parse(q, argc, argv, first, opts, help, pos, maxpos, own, st);    \
		if (prc_ == -1)                                                                    \
			return 0;                                                                  \
		if (prc_ != 0)                                                                     \
			return prc_;                                                               \
	} while (0)

static void query_init(struct query *q, const char *cmd)
{
	memset(q, 0, sizeof(*q));
	q->cmd = cmd;
}

/* Filters collected by the commands' own options; keys held in text form. */
struct filters {
	const char *org, *product, *channel, *group, *status, *kind, *order;
	char device[FWC_PUBKEY_TEXT_MAX], sender[FWC_PUBKEY_TEXT_MAX], actor[FWC_PUBKEY_TEXT_MAX];
	int has_device, has_sender, has_actor, has_type, has_since, has_until;
	uint32_t type;
	uint64_t since, until;
};

static int filter_opt(struct query *q, int id, const char *val, void *st)
{
	struct filters *f = st;

	switch (id) {
	case O_ORG:
		f->org = val;
		return id_check(q->cmd, "--org", val, 64) == 0 ? 1 : CLI_EXIT_ERROR;
	case O_PRODUCT:
		f->product = val;
		return id_check(q->cmd, "--product", val, 64) == 0 ? 1 : CLI_EXIT_ERROR;
	case O_CHANNEL:
		f->channel = val;
		return id_check(q->cmd, "--channel", val, 64) == 0 ? 1 : CLI_EXIT_ERROR;
	case O_GROUP:
		f->group = val;
		return id_check(q->cmd, "--group", val, 32) == 0 ? 1 : CLI_EXIT_ERROR;
	case O_STATUS:
		f->status = val;
		return 1;
	case O_ORDER:
		if (strcmp(val, "asc") != 0 && strcmp(val, "desc") != 0)
			return cli_usage_err(q->cmd, "--order is asc or desc");
		f->order = val;
		return 1;
	case O_KIND:
		f->kind = val;
		return 1;
	case O_DEVICE:
		f->has_device = 1;
		return key_text(q->cmd, val, f->device) == 0 ? 1 : CLI_EXIT_ERROR;
	case O_SENDER:
		f->has_sender = 1;
		return key_text(q->cmd, val, f->sender) == 0 ? 1 : CLI_EXIT_ERROR;
	case O_ACTOR:
		f->has_actor = 1;
		return key_text(q->cmd, val, f->actor) == 0 ? 1 : CLI_EXIT_ERROR;
	case O_TYPE:
		f->has_type = 1;
		return cli_tx_type_arg(q->cmd, val, &f->type) == 0 ? 1 : CLI_EXIT_ERROR;
	case O_SINCE:
		f->has_since = 1;
		return cli_time_arg(q->cmd, "--since", val, &f->since) == 0 ? 1 : CLI_EXIT_ERROR;
	case O_UNTIL:
		f->has_until = 1;
		return cli_time_arg(q->cmd, "--until", val, &f->until) == 0 ? 1 : CLI_EXIT_ERROR;
	default:
		return 0;
	}
}

static int time_range_check(struct query *q, const struct filters *f)
{
	if (f->has_since && f->has_until && f->until < f->since)
		return cli_usage_err(q->cmd, "--until is before --since");
	return 0;
}

/* ---- orgs ---- */

static const char orgs_help[] =
    "usage: fwchain orgs [ID] [options]\n"
    "\n"
    "Lists the organisations (GET /v1/orgs) or, with ID, shows one and its members with their\n"
    "roles (GET /v1/orgs/ID; the pages are of members).\n"
    "\n" QUERY_COMMON_HELP;

static const struct column org_cols[] = {
    {"ID", "id", 20, C_TEXT},    {"CREATED", "created", 20, C_TIME},
    {"ROOT", "root", 4, C_BOOL}, {"NAME", "name", 0, C_TEXT},
    {NULL, NULL, 0, C_TEXT},
};
static const struct column member_cols[] = {
    {"KEY", "key", 71, C_TEXT},    {"SINCE", "since", 20, C_TIME}, {"ROLES", "roles", 24, C_LIST},
    {"LABEL", "label", 0, C_TEXT}, {NULL, NULL, 0, C_TEXT},
};
static const struct column org_fields[] = {
    {"id:", "id", 0, C_TEXT},     {"name:", "name", 0, C_TEXT}, {"created:", "created", 0, C_TIME},
    {"root:", "root", 0, C_BOOL}, {NULL, NULL, 0, C_TEXT},
};

static void org_head(const json_t *o)
{
	fields_print(org_fields, o);
	puts("members:");
}

int cmd_orgs(int argc, char **argv)
{
	static const struct cli_opt opts[] = {QUERY_COMMON_OPTS, {NULL, 0, 0}};
	static const struct listing list = {NULL, "items"}, members = {NULL, "members"};
	const char *pos[1] = {NULL};
	struct query q;

	query_init(&q, "orgs");
	QUERY_PARSE(&q, argc, argv, 1, opts, orgs_help, pos, 1, NULL, NULL);
	if (pos[0] == NULL) {
		if (path_put(&q, "/v1/orgs", 8) != 0)
			return CLI_EXIT_ERROR;
		return query_run(&q, &list, org_cols, NULL);
	}
	if (id_check(q.cmd, "an organisation id", pos[0], 64) != 0 ||
	    path_put(&q, "/v1/orgs/", 9) != 0 || path_put(&q, pos[0], strlen(pos[0])) != 0)
		return CLI_EXIT_ERROR;
	return query_run(&q, &members, member_cols, org_head);
}

/* ---- products ---- */

static const char products_help[] =
    "usage: fwchain products [--org ORG] [options]\n"
    "       fwchain products ID [--json] [--node URL] [--timeout SECONDS]\n"
    "\n"
    "Lists the products (GET /v1/products), only ORG's with --org, or shows one with its root\n"
    "and release key sets, revoked keys and revoked releases (GET /v1/products/ID).\n"
    "\n"
    "  --org ORG          only this organisation's products\n" QUERY_COMMON_HELP;

static const struct column product_cols[] = {
    {"ID", "id", 20, C_TEXT},
    {"ORG", "org", 16, C_TEXT},
    {"ROOT_V", "root_version", 6, C_TEXT},
    {"REL_V", "release_version", 5, C_TEXT},
    {"CREATED", "created", 20, C_TIME},
    {"NAME", "name", 0, C_TEXT},
    {NULL, NULL, 0, C_TEXT},
};
static const struct column product_fields[] = {
    {"id:", "id", 0, C_TEXT},           {"org:", "org", 0, C_TEXT}, {"name:", "name", 0, C_TEXT},
    {"created:", "created", 0, C_TIME}, {NULL, NULL, 0, C_TEXT},
};
static const struct column setkey_cols[] = {
    {"  KEY", "key", 73, C_TEXT},
    {"REVOKED", "revoked", 0, C_BOOL},
    {NULL, NULL, 0, C_TEXT},
};
static const struct column revkey_cols[] = {
    {"  KEY", "key", 73, C_TEXT},
    {"TIME", "time", 20, C_TIME},
    {"REASON", "reason", 0, C_TEXT},
    {NULL, NULL, 0, C_TEXT},
};
static const struct column revrel_cols[] = {
    {"  ID", "id", 66, C_TEXT},        {"CHANNEL", "channel", 12, C_TEXT},
    {"COUNTER", "counter", 8, C_TEXT}, {"VERSION", "version", 0, C_TEXT},
    {NULL, NULL, 0, C_TEXT},
};

static void sub_table(const char *title, const struct column *cols, const json_t *rows)
{
	size_t i;
	json_t *row, *copy;
	const char *k0 = cols[0].key;

	printf("%s", title);
	if (!json_is_array(rows) || json_array_size(rows) == 0) {
		puts(" none");
		return;
	}
	if (title[0] != '\0')
		putchar('\n');
	table_head(cols);
	for (i = 0; i < json_array_size(rows); i++) {
		/* the first column is indented by two spaces, as its heading is */
		row = json_array_get(rows, i);
		copy = json_deep_copy(row);
		if (copy != NULL && json_is_string(json_object_get(row, k0))) {
			char b[QUERY_CELL_MAX];
			snprintf(b, sizeof(b), "  %s", json_string_value(json_object_get(row, k0)));
			json_object_set_new(copy, k0, json_string(b));
		}
		table_row(cols, copy != NULL ? copy : row);
		json_decref(copy);
	}
}

static void keyset_print(const char *title, const json_t *set)
{
	if (!json_is_object(set)) {
		printf("%s none\n", title);
		return;
	}
	printf("%s version %lld, %lld of %zu keys\n", title, cli_json_int(set, "version"),
	       cli_json_int(set, "threshold"), json_array_size(json_object_get(set, "keys")));
	sub_table("", setkey_cols, json_object_get(set, "keys"));
}

static void product_show(const json_t *o)
{
	fields_print(product_fields, o);
	keyset_print("root set:", json_object_get(o, "root_set"));
	keyset_print("release set:", json_object_get(o, "release_set"));
	sub_table("revoked keys:", revkey_cols, json_object_get(o, "revoked_keys"));
	sub_table("revoked releases:", revrel_cols, json_object_get(o, "revoked_releases"));
	if (json_is_true(json_object_get(o, "revoked_releases_more")))
		puts("  (more: fwchain releases --product ID)");
}

int cmd_products(int argc, char **argv)
{
	static const struct cli_opt opts[] = {QUERY_COMMON_OPTS, {"org", O_ORG, 1}, {NULL, 0, 0}};
	static const struct listing list = {NULL, "items"};
	const char *pos[1] = {NULL};
	struct filters f;
	struct query q;

	memset(&f, 0, sizeof(f));
	query_init(&q, "products");
	QUERY_PARSE(&q, argc, argv, 1, opts, products_help, pos, 1, filter_opt, &f);
	if (pos[0] == NULL) {
		if (path_put(&q, "/v1/products", 12) != 0 || param_put(&q, "org", f.org) != 0)
			return CLI_EXIT_ERROR;
		return query_run(&q, &list, product_cols, NULL);
	}
	if (f.org != NULL || q.limit != 0 || q.cursor != NULL || q.all)
		return cli_usage_err(
		    q.cmd, "showing one product takes no --org, --limit, --cursor or --all");
	if (id_check(q.cmd, "a product id", pos[0], 64) != 0 ||
	    path_put(&q, "/v1/products/", 13) != 0 || path_put(&q, pos[0], strlen(pos[0])) != 0)
		return CLI_EXIT_ERROR;
	return query_run(&q, NULL, NULL, product_show);
}

/* ---- releases, release show|list ---- */

static const char releases_help[] =
    "usage: fwchain releases --product P [--channel C] [options]\n"
    "       (also: fwchain release list ...)\n"
    "\n"
    "Lists a product's releases, newest counter first, revoked ones included\n"
    "(GET /v1/products/P/releases).\n"
    "\n"
    "  --product P        the product (required)\n"
    "  --channel C        only this channel's\n" QUERY_COMMON_HELP;

static const struct column release_cols[] = {
    {"ID", "id", 64, C_TEXT},          {"CHANNEL", "channel", 10, C_TEXT},
    {"COUNTER", "counter", 7, C_TEXT}, {"ROLLOUT", "rollout", 7, C_TEXT},
    {"REVOKED", "revoked", 7, C_BOOL}, {"TIME", "time", 20, C_TIME},
    {"VERSION", "version", 0, C_TEXT}, {NULL, NULL, 0, C_TEXT},
};

static int releases_run(const char *cmd, int argc, char **argv, int first)
{
	static const struct cli_opt opts[] = {
	    QUERY_COMMON_OPTS, {"product", O_PRODUCT, 1}, {"channel", O_CHANNEL, 1}, {NULL, 0, 0}};
	static const struct listing list = {NULL, "items"};
	struct filters f;
	struct query q;

	memset(&f, 0, sizeof(f));
	query_init(&q, cmd);
	QUERY_PARSE(&q, argc, argv, first, opts, releases_help, NULL, 0, filter_opt, &f);
	if (f.product == NULL)
		return cli_usage_err(q.cmd, "missing --product");
	if (path_put(&q, "/v1/products/", 13) != 0 ||
	    path_put(&q, f.product, strlen(f.product)) != 0 || path_put(&q, "/releases", 9) != 0 ||
	    param_put(&q, "channel", f.channel) != 0)
		return CLI_EXIT_ERROR;
	return query_run(&q, &list, release_cols, NULL);
}

int cmd_releases(int argc, char **argv)
{
	return releases_run("releases", argc, argv, 1);
}

static const char release_show_help[] =
    "usage: fwchain release show ID [--json] [--node URL] [--timeout SECONDS]\n"
    "\n"
    "Shows a release (GET /v1/releases/ID; ID is the manifest digest, 64 hex digits): its\n"
    "ledger record and what its signed manifest says. --json also carries the signed manifest\n"
    "itself (base64).\n"
    "\n"
    "  --json             print the node's JSON answer as it is\n"
    "  --node URL         the node (default $FWCHAIN_NODE, else " CLI_NODE_DEFAULT ")\n"
    "  --timeout SECONDS  for the request (default 30)\n"
    "\n"
    "Exit codes: 0 answered; 2 usage error, unknown release, node unreachable or in error.\n";

static const struct column release_fields[] = {
    {"id:", "id", 0, C_TEXT},
    {"product:", "product", 0, C_TEXT},
    {"channel:", "channel", 0, C_TEXT},
    {"version:", "version", 0, C_TEXT},
    {"counter:", "counter", 0, C_TEXT},
    {"hardware:", "hardware", 0, C_LIST},
    {"cid:", "cid", 0, C_TEXT},
    {"size:", "size", 0, C_TEXT},
    {"sha256:", "sha256", 0, C_TEXT},
    {"created:", "created", 0, C_TIME},
    {"rollout:", "rollout", 0, C_TEXT},
    {"revoked:", "revoked", 0, C_BOOL},
    {"published:", "time", 0, C_TIME},
    {"height:", "height", 0, C_TEXT},
    {"tx:", "tx", 0, C_TEXT},
    {"signers:", "signers", 0, C_LIST},
    {NULL, NULL, 0, C_TEXT},
};

static void release_show_print(const json_t *o)
{
	const json_t *md = json_object_get(o, "metadata"), *rv = json_object_get(o, "revocation");
	char c[QUERY_CELL_MAX];

	fields_print(release_fields, o);
	if (json_is_object(md)) {
		const json_t *t = json_object_get(md, "text");
		value_text(c, sizeof(c), t != NULL ? t : json_object_get(md, "hex"), C_TEXT);
		printf("%-13s %s%s\n", "metadata:", t != NULL ? "" : "hex ", c);
	}
	if (json_is_object(rv)) {
		value_text(c, sizeof(c), json_object_get(rv, "reason"), C_TEXT);
		printf("%-13s %s, ", "revocation:", c);
		value_text(c, sizeof(c), json_object_get(rv, "time"), C_TIME);
		printf("%s\n", c);
	}
}

static int release_show(int argc, char **argv)
{
	static const struct cli_opt opts[] = {{"help", O_HELP, 0},
	                                      {"node", O_NODE, 1},
	                                      {"timeout", O_TIMEOUT, 1},
	                                      {"json", O_JSON, 0},
	                                      {NULL, 0, 0}};
	const char *pos[1] = {NULL};
	char rid[65];
	struct query q;

	query_init(&q, "release show");
	QUERY_PARSE(&q, argc, argv, 2, opts, release_show_help, pos, 1, NULL, NULL);
	if (pos[0] == NULL)
		return cli_usage_err(q.cmd, "missing release id");
	if (release_id_check(q.cmd, pos[0], rid) != 0 || path_put(&q, "/v1/releases/", 13) != 0 ||
	    path_put(&q, rid, 64) != 0)
		return CLI_EXIT_ERROR;
	return query_run(&q, NULL, NULL, release_show_print);
}

int cli_release_query(int argc, char **argv)
{
	if (strcmp(argv[1], "show") == 0)
		return release_show(argc, argv);
	return releases_run("release list", argc, argv, 2);
}

/* ---- devices, device show|list ---- */

static const char devices_help[] =
    "usage: fwchain devices [--product P] [--group G] [--status active|retired] [options]\n"
    "       (also: fwchain device list ...)\n"
    "\n"
    "Lists devices by key (GET /v1/devices).\n"
    "\n"
    "  --product P        only this product's\n"
    "  --group G          only those in group G (needs --product)\n"
    "  --status S         active or retired\n" QUERY_COMMON_HELP;

static const struct column device_cols[] = {
    {"KEY", "key", 71, C_TEXT},        {"PRODUCT", "product", 16, C_TEXT},
    {"HWID", "hwid", 10, C_TEXT},      {"STATUS", "status", 7, C_TEXT},
    {"COUNTER", "counter", 7, C_TEXT}, {"GROUPS", "groups", 0, C_LIST},
    {NULL, NULL, 0, C_TEXT},
};

static int status_check(struct query *q, const char *s, const char *a, const char *b)
{
	if (s != NULL && strcmp(s, a) != 0 && strcmp(s, b) != 0)
		return cli_usage_err(q->cmd, "--status is %s or %s", a, b);
	return 0;
}

static int devices_run(const char *cmd, int argc, char **argv, int first)
{
	static const struct cli_opt opts[] = {QUERY_COMMON_OPTS,
	                                      {"product", O_PRODUCT, 1},
	                                      {"group", O_GROUP, 1},
	                                      {"status", O_STATUS, 1},
	                                      {NULL, 0, 0}};
	static const struct listing list = {NULL, "items"};
	struct filters f;
	struct query q;

	memset(&f, 0, sizeof(f));
	query_init(&q, cmd);
	QUERY_PARSE(&q, argc, argv, first, opts, devices_help, NULL, 0, filter_opt, &f);
	if (status_check(&q, f.status, "active", "retired") != 0)
		return CLI_EXIT_ERROR;
	if (f.group != NULL && f.product == NULL)
		return cli_usage_err(q.cmd, "--group needs --product");
	if (path_put(&q, "/v1/devices", 11) != 0 || param_put(&q, "product", f.product) != 0 ||
	    param_put(&q, "group", f.group) != 0 || param_put(&q, "status", f.status) != 0)
		return CLI_EXIT_ERROR;
	return query_run(&q, &list, device_cols, NULL);
}

int cmd_devices(int argc, char **argv)
{
	return devices_run("devices", argc, argv, 1);
}

static const char device_show_help[] =
    "usage: fwchain device show KEY [options]\n"
    "\n"
    "Shows a device (GET /v1/devices/KEY): its registration, the release it last confirmed,\n"
    "and its history, newest event first (the pages are of history). KEY is ALG:HEX, a key\n"
    "file or a keystore.\n"
    "\n" QUERY_COMMON_HELP;

static const struct column device_fields[] = {
    {"key:", "key", 0, C_TEXT},         {"product:", "product", 0, C_TEXT},
    {"hwid:", "hwid", 0, C_TEXT},       {"region:", "region", 0, C_TEXT},
    {"groups:", "groups", 0, C_LIST},   {"attributes:", "attributes", 0, C_LIST},
    {"status:", "status", 0, C_TEXT},   {"registered:", "registered", 0, C_TIME},
    {"counter:", "counter", 0, C_TEXT}, {"last seq:", "last_seq", 0, C_TEXT},
    {"release:", "release", 0, C_TEXT}, {NULL, NULL, 0, C_TEXT},
};
static const struct column history_cols[] = {
    {"TIME", "time", 20, C_TIME},
    {"SEQ", "seq", 5, C_TEXT},
    {"KIND", "kind_name", 11, C_TEXT},
    {"DEV_TIME", "device_time", 10, C_TEXT},
    {"RELEASE", "release", 64, C_TEXT},
    {"DETAIL", "detail", 0, C_TEXT},
    {NULL, NULL, 0, C_TEXT},
};

static void device_head(const json_t *o)
{
	fields_print(device_fields, o);
	puts("history:");
}

static int device_show(int argc, char **argv)
{
	static const struct cli_opt opts[] = {QUERY_COMMON_OPTS, {NULL, 0, 0}};
	static const struct listing hist = {"history", "items"};
	const char *pos[1] = {NULL};
	char key[FWC_PUBKEY_TEXT_MAX];
	struct query q;

	query_init(&q, "device show");
	QUERY_PARSE(&q, argc, argv, 2, opts, device_show_help, pos, 1, NULL, NULL);
	if (pos[0] == NULL)
		return cli_usage_err(q.cmd, "missing device key");
	if (key_text(q.cmd, pos[0], key) != 0 || path_put(&q, "/v1/devices/", 12) != 0 ||
	    path_put(&q, key, strlen(key)) != 0)
		return CLI_EXIT_ERROR;
	return query_run(&q, &hist, history_cols, device_head);
}

int cli_device_query(int argc, char **argv)
{
	if (strcmp(argv[1], "show") == 0)
		return device_show(argc, argv);
	return devices_run("device list", argc, argv, 2);
}

/* ---- events ---- */

static const char events_help[] =
    "usage: fwchain events (--device KEY | --product P) [--kind K] [--since T] [--until T]\n"
    "                      [options]\n"
    "\n"
    "Lists device events, oldest first (GET /v1/events). At least one of --device and\n"
    "--product is required.\n"
    "\n"
    "  --device KEY       only this device's (ALG:HEX, key file or keystore)\n"
    "  --product P        only this product's devices'\n"
    "  --kind K           checkin, downloaded, installed, confirmed, rolled-back, failed,\n"
    "                     postponed, or a number\n"
    "  --since T          block time at or after T (seconds since 1970 or\n"
    "                     YYYY-MM-DDTHH:MM:SSZ)\n"
    "  --until T          block time at or before T\n" QUERY_COMMON_HELP;

static const struct column event_cols[] = {
    {"TIME", "time", 20, C_TIME},      {"DEVICE", "device", 71, C_TEXT},  {"SEQ", "seq", 5, C_TEXT},
    {"KIND", "kind_name", 11, C_TEXT}, {"RELEASE", "release", 0, C_TEXT}, {NULL, NULL, 0, C_TEXT},
};

int cmd_events(int argc, char **argv)
{
	static const struct cli_opt opts[] = {
	    QUERY_COMMON_OPTS,   {"device", O_DEVICE, 1}, {"product", O_PRODUCT, 1},
	    {"kind", O_KIND, 1}, {"since", O_SINCE, 1},   {"until", O_UNTIL, 1},
	    {NULL, 0, 0}};
	static const struct listing list = {NULL, "items"};
	struct filters f;
	struct query q;

	memset(&f, 0, sizeof(f));
	query_init(&q, "events");
	QUERY_PARSE(&q, argc, argv, 1, opts, events_help, NULL, 0, filter_opt, &f);
	if (!f.has_device && f.product == NULL)
		return cli_usage_err(q.cmd, "give --device or --product");
	if (time_range_check(&q, &f) != 0 || path_put(&q, "/v1/events", 10) != 0 ||
	    param_put(&q, "device", f.has_device ? f.device : NULL) != 0 ||
	    param_put(&q, "product", f.product) != 0 || param_put(&q, "kind", f.kind) != 0 ||
	    param_u64(&q, "from", f.since, f.has_since) != 0 ||
	    param_u64(&q, "to", f.until, f.has_until) != 0)
		return CLI_EXIT_ERROR;
	return query_run(&q, &list, event_cols, NULL);
}

/* ---- txs ---- */

static const char txs_help[] =
    "usage: fwchain txs --sender KEY [--type T] [--status applied|failed] [--order asc|desc]\n"
    "                   [options]\n"
    "\n"
    "Lists the transactions a key sent, in log order (GET /v1/txs), applied and failed ('failed'\n"
    "is in the log but refused by a rule; REFUSAL names it).\n"
    "\n"
    "  --sender KEY       the sender (ALG:HEX, key file or keystore)\n"
    "  --type T           a transaction type by name (release, device-event, ...) or number\n"
    "  --status S         applied or failed\n"
    "  --order O          asc (the default) or desc\n" QUERY_COMMON_HELP;

static const struct column tx_cols[] = {
    {"ID", "id", 64, C_TEXT},          {"TYPE", "type_name", 18, C_TEXT},
    {"NONCE", "nonce", 5, C_TEXT},     {"HEIGHT", "height", 6, C_TEXT},
    {"STATUS", "status", 7, C_TEXT},   {"REFUSAL", "refusal", 22, C_TEXT},
    {"SUBJECT", "subject", 0, C_TEXT}, {NULL, NULL, 0, C_TEXT},
};

int cmd_txs(int argc, char **argv)
{
	static const struct cli_opt opts[] = {QUERY_COMMON_OPTS,     {"sender", O_SENDER, 1},
	                                      {"type", O_TYPE, 1},   {"status", O_STATUS, 1},
	                                      {"order", O_ORDER, 1}, {NULL, 0, 0}};
	static const struct listing list = {NULL, "items"};
	struct filters f;
	struct query q;

	memset(&f, 0, sizeof(f));
	query_init(&q, "txs");
	QUERY_PARSE(&q, argc, argv, 1, opts, txs_help, NULL, 0, filter_opt, &f);
	if (!f.has_sender)
		return cli_usage_err(q.cmd, "missing --sender");
	if (status_check(&q, f.status, "applied", "failed") != 0 ||
	    path_put(&q, "/v1/txs", 7) != 0 || param_put(&q, "sender", f.sender) != 0 ||
	    param_u64(&q, "type", f.type, f.has_type) != 0 ||
	    param_put(&q, "status", f.status) != 0 || param_put(&q, "order", f.order) != 0)
		return CLI_EXIT_ERROR;
	return query_run(&q, &list, tx_cols, NULL);
}

/* ---- audit ---- */

static const char audit_help[] =
    "usage: fwchain audit [--actor KEY] [--org O] [--device KEY] [--product P] [--type T]\n"
    "                     [--status applied|failed] [--since T] [--until T]\n"
    "                     [--order asc|desc] [options]\n"
    "\n"
    "The audit trail: one row per transaction in the log, applied or failed, with its\n"
    "position SEQ (GET /v1/audit).\n"
    "\n"
    "  --actor KEY        sent by this key (ALG:HEX, key file or keystore)\n"
    "  --org O            about this organisation\n"
    "  --device KEY       about this device (registration, updates, events, postponements)\n"
    "  --product P        about this product\n"
    "  --type T           a transaction type by name or number\n"
    "  --status S         applied or failed\n"
    "  --since T, --until T  block-time bounds (seconds or YYYY-MM-DDTHH:MM:SSZ), inclusive\n"
    "  --order O          asc (the default) or desc\n" QUERY_COMMON_HELP;

static const struct column audit_cols[] = {
    {"SEQ", "seq", 5, C_TEXT},         {"TIME", "time", 20, C_TIME},
    {"TYPE", "type_name", 18, C_TEXT}, {"STATUS", "status", 7, C_TEXT},
    {"SENDER", "sender", 71, C_TEXT},  {"SUBJECT", "subject", 0, C_TEXT},
    {NULL, NULL, 0, C_TEXT},
};

int cmd_audit(int argc, char **argv)
{
	static const struct cli_opt opts[] = {QUERY_COMMON_OPTS,
	                                      {"actor", O_ACTOR, 1},
	                                      {"org", O_ORG, 1},
	                                      {"device", O_DEVICE, 1},
	                                      {"product", O_PRODUCT, 1},
	                                      {"type", O_TYPE, 1},
	                                      {"status", O_STATUS, 1},
	                                      {"since", O_SINCE, 1},
	                                      {"until", O_UNTIL, 1},
	                                      {"order", O_ORDER, 1},
	                                      {NULL, 0, 0}};
	static const struct listing list = {NULL, "items"};
	struct filters f;
	struct query q;

	memset(&f, 0, sizeof(f));
	query_init(&q, "audit");
	QUERY_PARSE(&q, argc, argv, 1, opts, audit_help, NULL, 0, filter_opt, &f);
	if (status_check(&q, f.status, "applied", "failed") != 0 || time_range_check(&q, &f) != 0 ||
	    path_put(&q, "/v1/audit", 9) != 0 ||
	    param_put(&q, "actor", f.has_actor ? f.actor : NULL) != 0 ||
	    param_put(&q, "org", f.org) != 0 ||
	    param_put(&q, "device", f.has_device ? f.device : NULL) != 0 ||
	    param_put(&q, "product", f.product) != 0 ||
	    param_u64(&q, "type", f.type, f.has_type) != 0 ||
	    param_put(&q, "status", f.status) != 0 ||
	    param_u64(&q, "from", f.since, f.has_since) != 0 ||
	    param_u64(&q, "to", f.until, f.has_until) != 0 || param_put(&q, "order", f.order) != 0)
		return CLI_EXIT_ERROR;
	return query_run(&q, &list, audit_cols, NULL);
}
