/* Parser of the fwagent configuration file (docs/formats/agent-config.md).
 *
 * Main design choice: the same line discipline as the trust anchors file
 * (docs/formats/trust.md) — a version line, then `<keyword> <value>` lines, each value without
 * spaces, comments and empty lines ignored, unknown keywords refused (a device that skipped a
 * setting it does not know might trust or do more than its provisioner meant) — but keywords
 * in any order, each at most once. The trust anchors themselves stay in their own file, which
 * the configuration names, so one parser (fwc_trust_parse) reads them for the agent, the CLI
 * and the node alike. Relative paths are taken from the configuration file's folder, so a
 * provisioned folder can be moved as a whole. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fwchain/err.h"

enum kw {
	KW_NODE,
	KW_GATEWAY,
	KW_PRODUCT,
	KW_HWID,
	KW_CHANNEL,
	KW_DEVICE_DIR,
	KW_KEY,
	KW_PASSFILE,
	KW_TRUST,
	KW_ROOT_VERSION,
	KW_FLOOR,
	KW_SLOT_SIZE,
	KW_ERASE_UNIT,
	KW_POLL_INTERVAL,
	KW_POLL_JITTER,
	KW_COUNT
};

static const char *const keywords[KW_COUNT] = {
    "node",       "gateway",   "product",         "hwid",          "channel",
    "device-dir", "key",       "passphrase-file", "trust",         "root-version",
    "floor",      "slot-size", "erase-unit",      "poll-interval", "poll-jitter"};

static int fail(char *err, size_t cap, int rc, unsigned line, const char *fmt, ...)
{
	va_list ap;
	int n = 0;

	if (err != NULL && cap > 0) {
		if (line)
			n = snprintf(err, cap, "line %u: ", line);
		if (n < 0 || (size_t)n >= cap)
			n = 0;
		va_start(ap, fmt);
		vsnprintf(err + n, cap - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return rc;
}

/* Decimal without sign or leading zero, 0..2^63-1. */
static int parse_u64(uint64_t *out, const char *s, size_t n)
{
	uint64_t v = 0;

	if (n == 0 || n > 19 || (n > 1 && s[0] == '0'))
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v > INT64_MAX)
		return -1;
	*out = v;
	return 0;
}

static int url_ok(const char *v, size_t n)
{
	return (n > 7 && strncmp(v, "http://", 7) == 0) ||
	       (n > 8 && strncmp(v, "https://", 8) == 0);
}

static int path_join(char *out, size_t cap, const char *base, const char *v, size_t n)
{
	int w;

	if (v[0] == '/' || base == NULL || base[0] == '\0')
		w = snprintf(out, cap, "%.*s", (int)n, v);
	else
		w = snprintf(out, cap, "%s/%.*s", base, (int)n, v);
	return (w < 0 || (size_t)w >= cap) ? -1 : 0;
}

int agent_config_parse(struct agent_config *cfg, const char *text, size_t len, const char *base_dir,
                       char *err, size_t errcap)
{
	static const char header[] = "fwagent-config/v1";
	struct agent_config c;
	unsigned seen = 0, line = 0;
	size_t pos = 0;

	if (cfg == NULL || (text == NULL && len != 0))
		return FWC_ERR_ARG;
	if (len > AGENT_CONFIG_MAX_LEN)
		return fail(err, errcap, FWC_ERR_TOO_LARGE, 0, "more than %d bytes",
		            AGENT_CONFIG_MAX_LEN);
	memset(&c, 0, sizeof(c));
	strcpy(c.channel, "stable");
	c.root_version = 1;
	c.erase_unit = 4096;
	c.poll_interval = 3600;
	c.poll_jitter = 300;
	while (pos < len) {
		const char *l = text + pos, *nl = memchr(l, '\n', len - pos), *sp, *v;
		size_t ll, kl, vl;
		int k;

		line++;
		if (nl == NULL)
			return fail(err, errcap, FWC_ERR_MALFORMED, line, "no newline at the end");
		ll = (size_t)(nl - l);
		pos += ll + 1;
		for (size_t i = 0; i < ll; i++)
			if ((unsigned char)l[i] < 0x20 || l[i] == 0x7f)
				return fail(err, errcap, FWC_ERR_MALFORMED, line,
				            "control character at column %zu", i + 1);
		if (line == 1) {
			if (ll == sizeof(header) - 1 && memcmp(l, header, ll) == 0)
				continue;
			if (ll > 15 && memcmp(l, "fwagent-config/", 15) == 0)
				return fail(err, errcap, FWC_ERR_UNSUPPORTED, line,
				            "unsupported version '%.*s'", (int)(ll > 40 ? 40 : ll),
				            l);
			return fail(err, errcap, FWC_ERR_MALFORMED, line,
			            "expected 'fwagent-config/v1'");
		}
		if (ll == 0 || l[0] == '#')
			continue;
		sp = memchr(l, ' ', ll);
		if (sp == NULL || sp == l)
			return fail(err, errcap, FWC_ERR_MALFORMED, line,
			            "expected 'keyword value'");
		kl = (size_t)(sp - l);
		v = sp + 1;
		vl = ll - kl - 1;
		if (vl == 0 || memchr(v, ' ', vl) != NULL)
			return fail(err, errcap, FWC_ERR_MALFORMED, line,
			            "the value must be one word without spaces");
		if (vl > AGENT_CONFIG_VALUE_MAX)
			return fail(err, errcap, FWC_ERR_TOO_LARGE, line, "value over %d bytes",
			            AGENT_CONFIG_VALUE_MAX);
		for (k = 0; k < KW_COUNT; k++)
			if (strlen(keywords[k]) == kl && memcmp(keywords[k], l, kl) == 0)
				break;
		if (k == KW_COUNT)
			return fail(err, errcap, FWC_ERR_UNKNOWN_FIELD, line,
			            "unknown keyword '%.*s'", (int)(kl > 40 ? 40 : kl), l);
		if (seen & (1u << k))
			return fail(err, errcap, FWC_ERR_DUPLICATE, line, "'%s' given twice",
			            keywords[k]);
		seen |= 1u << k;
		switch (k) {
		case KW_NODE:
		case KW_GATEWAY:
			if (!url_ok(v, vl))
				return fail(err, errcap, FWC_ERR_MALFORMED, line,
				            "%s must be an http:// or https:// URL", keywords[k]);
			while (vl > 0 && v[vl - 1] == '/')
				vl--; /* the agent appends paths starting with '/' */
			if (!url_ok(v, vl))
				return fail(err, errcap, FWC_ERR_MALFORMED, line, "%s has no host",
				            keywords[k]);
			memcpy(k == KW_NODE ? c.node : c.gateway, v, vl);
			break;
		case KW_PRODUCT:
			memcpy(c.product, v, vl);
			break;
		case KW_HWID:
			memcpy(c.hwid, v, vl);
			break;
		case KW_CHANNEL:
			memset(c.channel, 0, sizeof(c.channel));
			memcpy(c.channel, v, vl);
			break;
		case KW_DEVICE_DIR:
		case KW_KEY:
		case KW_PASSFILE:
		case KW_TRUST: {
			char *dst = k == KW_DEVICE_DIR ? c.device_dir
			            : k == KW_KEY      ? c.key
			            : k == KW_PASSFILE ? c.passphrase_file
			                               : c.trust;

			if (path_join(dst, AGENT_CONFIG_PATH_MAX, base_dir, v, vl) < 0)
				return fail(err, errcap, FWC_ERR_TOO_LARGE, line, "path too long");
			break;
		}
		default: {
			uint64_t n;

			if (parse_u64(&n, v, vl) < 0)
				return fail(err, errcap, FWC_ERR_RANGE, line,
				            "%s must be a decimal number", keywords[k]);
			if ((k == KW_ROOT_VERSION && n == 0) ||
			    (k == KW_ERASE_UNIT &&
			     (n == 0 || (n & (n - 1)) != 0 || n > (1u << 30))) ||
			    (k == KW_SLOT_SIZE && n == 0) || (k == KW_POLL_INTERVAL && n == 0))
				return fail(err, errcap, FWC_ERR_RANGE, line, "%s out of range",
				            keywords[k]);
			*(k == KW_ROOT_VERSION    ? &c.root_version
			  : k == KW_FLOOR         ? &c.floor
			  : k == KW_SLOT_SIZE     ? &c.slot_size
			  : k == KW_ERASE_UNIT    ? &c.erase_unit
			  : k == KW_POLL_INTERVAL ? &c.poll_interval
			                          : &c.poll_jitter) = n;
			break;
		}
		}
	}
	if (line == 0)
		return fail(err, errcap, FWC_ERR_MALFORMED, 0, "empty file");
	{
		static const int required[] = {KW_NODE, KW_PRODUCT, KW_HWID, KW_DEVICE_DIR,
		                               KW_TRUST};

		for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++)
			if (!(seen & (1u << required[i])))
				return fail(err, errcap, FWC_ERR_MISSING_FIELD, 0, "missing '%s'",
				            keywords[required[i]]);
	}
	if (c.slot_size != 0 && c.slot_size % c.erase_unit != 0)
		return fail(err, errcap, FWC_ERR_RANGE, 0,
		            "slot-size must be a multiple of erase-unit");
	*cfg = c;
	return FWC_OK;
}

int agent_config_load(struct agent_config *cfg, const char *path, char *err, size_t errcap)
{
	static char text[AGENT_CONFIG_MAX_LEN + 1];
	char base[AGENT_CONFIG_PATH_MAX];
	const char *slash;
	size_t n;
	FILE *f;

	if (path == NULL)
		return FWC_ERR_ARG;
	if ((f = fopen(path, "rb")) == NULL)
		return fail(err, errcap, FWC_ERR_IO, 0, "cannot open %.200s", path);
	n = fread(text, 1, sizeof(text), f);
	fclose(f);
	if (n > AGENT_CONFIG_MAX_LEN)
		return fail(err, errcap, FWC_ERR_TOO_LARGE, 0, "more than %d bytes",
		            AGENT_CONFIG_MAX_LEN);
	slash = strrchr(path, '/');
	if (slash == NULL)
		strcpy(base, ".");
	else if ((size_t)(slash - path) >= sizeof(base))
		return fail(err, errcap, FWC_ERR_TOO_LARGE, 0, "path too long");
	else if (slash == path)
		strcpy(base, "/");
	else
		snprintf(base, sizeof(base), "%.*s", (int)(slash - path), path);
	return agent_config_parse(cfg, text, n, base, err, errcap);
}
