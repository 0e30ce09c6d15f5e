/* fwchaind configuration file: a small JSON object read once at start.
 *
 * Design: every field is optional except the validator key, has the same bounds as the
 * matching command-line option, and an unknown field is an error (a misspelt
 * "block_interval_ms" must not silently fall back to the default). A relative validator key
 * path is taken relative to the configuration file, so a directory of files can move. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CONFIG_FORMAT "fwchaind-config/v1"
#define CONFIG_MAX (64u * 1024u)

static const struct {
	const char *name;
	long long lo, hi;
} ranges[] = {
    {"block_interval_ms", 10, 600000},
    {"checkpoint_interval_s", 1, 86400},
    {"block_max_txs", 1, 100000},
    {"mempool_max", 1, 1000000},
    {"threads", 1, 64},
};

static int num(long long *out, json_t *root, const char *name, struct fwc_errinfo *ei)
{
	json_t *v = json_object_get(root, name);

	if (v == NULL)
		return 0;
	for (size_t i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++) {
		if (strcmp(ranges[i].name, name) != 0)
			continue;
		if (!json_is_integer(v) || json_integer_value(v) < ranges[i].lo ||
		    json_integer_value(v) > ranges[i].hi)
			return fwc_fail(ei, 0, FWC_ERR_MALFORMED,
			                "\"%s\" must be an integer from %lld to %lld", name,
			                ranges[i].lo, ranges[i].hi);
		*out = json_integer_value(v);
		return 1;
	}
	return 0;
}

/* "a.b.c.d:port" */
static int parse_listen(struct node_config *c, const char *s, struct fwc_errinfo *ei)
{
	const char *colon = strrchr(s, ':');
	struct in_addr a;
	char addr[16];
	char *end;
	long port;

	if (colon == NULL || (size_t)(colon - s) >= sizeof(addr) || colon == s)
		goto bad;
	memcpy(addr, s, (size_t)(colon - s));
	addr[colon - s] = '\0';
	if (inet_pton(AF_INET, addr, &a) != 1)
		goto bad;
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	if (errno || end == colon + 1 || *end != '\0' || port < 0 || port > 65535)
		goto bad;
	snprintf(c->listen_addr, sizeof(c->listen_addr), "%s", addr);
	c->port = (uint16_t)port;
	return FWC_OK;
bad:
	return fwc_fail(ei, 0, FWC_ERR_MALFORMED,
	                "\"listen\" must be an IPv4 address and a port, e.g. \"127.0.0.1:8080\"");
}

/* An http(s) base URL without spaces, query or fragment, shorter than the buffer. */
static int url_ok(const char *u)
{
	if ((strncmp(u, "http://", 7) != 0 && strncmp(u, "https://", 8) != 0) || strlen(u) < 9 ||
	    strlen(u) >= NODE_CONFIG_URL_MAX - 1)
		return 0;
	for (const char *p = u; *p; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f || *p == '?' ||
		    *p == '#')
			return 0;
	return 1;
}

/* The content replication fields: "peers", "replication_factor", "advertise_url". */
static int parse_content(struct node_config *c, json_t *root, struct fwc_errinfo *ei)
{
	json_t *v = json_object_get(root, "peers"), *e;
	size_t i;

	if (v != NULL) {
		if (!json_is_array(v) || json_array_size(v) > NODE_CONFIG_PEERS_MAX)
			return fwc_fail(ei, 0, FWC_ERR_MALFORMED,
			                "\"peers\" must be an array of at most %d URLs",
			                NODE_CONFIG_PEERS_MAX);
		json_array_foreach(v, i, e)
		{
			const char *u = json_string_value(e);

			if (u == NULL || !url_ok(u))
				return fwc_fail(
				    ei, 0, FWC_ERR_MALFORMED,
				    "\"peers\"[%zu] is not an http:// or https:// base URL", i);
			snprintf(c->peers[i], sizeof(c->peers[i]), "%s", u);
		}
		c->npeers = json_array_size(v);
	}
	v = json_object_get(root, "replication_factor");
	if (v != NULL) {
		if (json_is_string(v) && strcmp(json_string_value(v), "all") == 0)
			c->replication_factor = 0;
		else if (json_is_integer(v) && json_integer_value(v) >= 1 &&
		         json_integer_value(v) <= NODE_CONFIG_PEERS_MAX)
			c->replication_factor = (unsigned)json_integer_value(v);
		else
			return fwc_fail(ei, 0, FWC_ERR_MALFORMED,
			                "\"replication_factor\" must be an integer from 1 to %d or "
			                "\"all\"",
			                NODE_CONFIG_PEERS_MAX);
		c->has_replication_factor = 1;
	}
	v = json_object_get(root, "advertise_url");
	if (v != NULL) {
		if (!json_is_string(v) || !url_ok(json_string_value(v)))
			return fwc_fail(
			    ei, 0, FWC_ERR_MALFORMED,
			    "\"advertise_url\" must be an http:// or https:// base URL");
		snprintf(c->advertise_url, sizeof(c->advertise_url), "%s", json_string_value(v));
	}
	return FWC_OK;
}

int node_config_parse(struct node_config *cfg, const char *json, size_t len, const char *base_dir,
                      struct fwc_errinfo *ei)
{
	static const char *const known[] = {
	    "format",
	    "listen",
	    "validator_key",
	    "block_interval_ms",
	    "block_max_txs",
	    "mempool_max",
	    "checkpoint_interval_s",
	    "threads",
	    "peers",
	    "replication_factor",
	    "advertise_url",
	};
	struct node_config c;
	json_error_t jerr;
	json_t *root, *v;
	const char *key, *s;
	long long n;
	int rc = FWC_ERR_MALFORMED, got;

	if (cfg == NULL || (json == NULL && len))
		return FWC_ERR_ARG;
	memset(&c, 0, sizeof(c));
	snprintf(c.listen_addr, sizeof(c.listen_addr), "127.0.0.1");
	c.port = 8080;
	c.block_interval_ms = 500;
	c.checkpoint_interval_s = 60;
	c.block_max_txs = 2000;
	c.mempool_max = 10000;
	c.threads = 2;
	root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL)
		return fwc_fail(ei, (size_t)(jerr.position > 0 ? jerr.position : 0),
		                FWC_ERR_MALFORMED, "invalid JSON at line %d column %d: %s",
		                jerr.line, jerr.column, jerr.text);
	if (!json_is_object(root)) {
		fwc_fail(ei, 0, rc, "the configuration is not a JSON object");
		goto out;
	}
	json_object_foreach(root, key, v)
	{
		size_t i;

		for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
			if (strcmp(key, known[i]) == 0)
				break;
		if (i == sizeof(known) / sizeof(known[0])) {
			fwc_fail(ei, 0, rc, "unknown field \"%.64s\"", key);
			goto out;
		}
	}
	s = json_string_value(json_object_get(root, "format"));
	if (s == NULL || strcmp(s, CONFIG_FORMAT) != 0) {
		fwc_fail(ei, 0, rc, "\"format\" must be \"%s\"", CONFIG_FORMAT);
		goto out;
	}
	v = json_object_get(root, "listen");
	if (v && (!json_is_string(v) || parse_listen(&c, json_string_value(v), ei) != FWC_OK)) {
		if (!json_is_string(v))
			fwc_fail(ei, 0, rc, "\"listen\" must be a string");
		goto out;
	}
	s = json_string_value(json_object_get(root, "validator_key"));
	if (s == NULL || *s == '\0') {
		fwc_fail(ei, 0, rc, "\"validator_key\" (the validator's key file) is missing");
		goto out;
	}
	if (s[0] == '/' || base_dir == NULL)
		got = snprintf(c.validator_key, sizeof(c.validator_key), "%s", s);
	else
		got = snprintf(c.validator_key, sizeof(c.validator_key), "%s/%s", base_dir, s);
	if (got < 0 || (size_t)got >= sizeof(c.validator_key)) {
		fwc_fail(ei, 0, rc, "\"validator_key\" path too long");
		goto out;
	}
	if ((got = num(&n, root, "block_interval_ms", ei)) < 0)
		goto out;
	if (got)
		c.block_interval_ms = (unsigned)n;
	if ((got = num(&n, root, "checkpoint_interval_s", ei)) < 0)
		goto out;
	if (got)
		c.checkpoint_interval_s = (unsigned)n;
	if ((got = num(&n, root, "block_max_txs", ei)) < 0)
		goto out;
	if (got)
		c.block_max_txs = (size_t)n;
	if ((got = num(&n, root, "mempool_max", ei)) < 0)
		goto out;
	if (got)
		c.mempool_max = (size_t)n;
	if ((got = num(&n, root, "threads", ei)) < 0)
		goto out;
	if (got)
		c.threads = (unsigned)n;
	if (parse_content(&c, root, ei) != FWC_OK)
		goto out;
	if (c.block_max_txs > c.mempool_max) {
		fwc_fail(ei, 0, rc, "\"block_max_txs\" (%zu) exceeds \"mempool_max\" (%zu)",
		         c.block_max_txs, c.mempool_max);
		goto out;
	}
	*cfg = c;
	rc = FWC_OK;
out:
	json_decref(root);
	return rc;
}

int node_config_load(struct node_config *cfg, const char *path, struct fwc_errinfo *ei)
{
	struct fwc_errinfo pei = {0};
	struct stat st;
	char dir[NODE_CONFIG_PATH_MAX], *buf, *slash;
	size_t got = 0;
	int fd, rc;

	if (cfg == NULL || path == NULL)
		return FWC_ERR_ARG;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return fwc_fail(ei, 0, errno == ENOENT ? FWC_ERR_NOT_FOUND : FWC_ERR_IO,
		                "cannot open %s: %s", path, strerror(errno));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (size_t)st.st_size > CONFIG_MAX) {
		close(fd);
		return fwc_fail(ei, 0, FWC_ERR_MALFORMED,
		                "%s is not a regular file of at most %u bytes", path, CONFIG_MAX);
	}
	buf = malloc((size_t)st.st_size + 1);
	if (buf == NULL) {
		close(fd);
		return FWC_ERR_NOMEM;
	}
	while (got < (size_t)st.st_size) {
		ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	if (got != (size_t)st.st_size) {
		free(buf);
		return fwc_fail(ei, 0, FWC_ERR_IO, "cannot read %s", path);
	}
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash == dir)
		slash[1] = '\0';
	else if (slash)
		*slash = '\0';
	else
		snprintf(dir, sizeof(dir), ".");
	rc = node_config_parse(cfg, buf, got, dir, &pei);
	free(buf);
	if (rc != FWC_OK)
		return fwc_fail(ei, 0, rc, "%s: %s", path, pei.msg);
	return FWC_OK;
}
