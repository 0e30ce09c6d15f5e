/* Tests of the fwagent configuration parser (agent/port/posix/config.c) against its format
 * page: the example of docs/formats/agent-config.md is read from the page and must mean what
 * the page says it means; each refusal the page lists is tried. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "fwchain/err.h"
#include "test.h"

static char doc[32768];
static char example[4096];

static size_t doc_block(char *out, size_t cap, const char *name)
{
	char open[128], close[128];
	const char *a, *z;

	snprintf(open, sizeof(open), "<!-- %s -->\n```\n", name);
	snprintf(close, sizeof(close), "```\n<!-- /%s -->", name);
	a = strstr(doc, open);
	z = a ? strstr(a, close) : NULL;
	CHECK(a != NULL && z != NULL);
	if (a == NULL || z == NULL)
		return 0;
	a += strlen(open);
	if ((size_t)(z - a) >= cap)
		return 0;
	memcpy(out, a, (size_t)(z - a));
	out[z - a] = '\0';
	return (size_t)(z - a);
}

static void test_example(void)
{
	struct agent_config c;
	char err[200] = "";
	size_t n = doc_block(example, sizeof(example), "example-agent-config");

	CHECK(n == 396); /* the size the page states */
	CHECK_RC(agent_config_parse(&c, example, n, "/etc/fwagent", err, sizeof(err)), FWC_OK);
	CHECK(strcmp(c.node, "http://127.0.0.1:8080") == 0);
	CHECK(strcmp(c.gateway, "http://127.0.0.1:8081") == 0);
	CHECK(strcmp(c.product, "acme-thermostat") == 0);
	CHECK(strcmp(c.hwid, "tstat-rev-b") == 0);
	CHECK(strcmp(c.channel, "stable") == 0);
	CHECK(strcmp(c.device_dir, "/etc/fwagent/slots") == 0);
	CHECK(strcmp(c.key, "/etc/fwagent/device.key") == 0);
	CHECK(strcmp(c.trust, "/etc/fwagent/trust.txt") == 0);
	CHECK(c.passphrase_file[0] == '\0');
	CHECK(c.root_version == 2);
	CHECK(c.floor == 11);
	CHECK(c.slot_size == 16777216);
	CHECK(c.erase_unit == 4096);
	CHECK(c.poll_interval == 3600);
	CHECK(c.poll_jitter == 300);
}

static void test_defaults(void)
{
	static const char t[] = "fwagent-config/v1\n"
	                        "\n"
	                        "trust /abs/trust.txt\n"
	                        "hwid h\n"
	                        "device-dir d\n"
	                        "product p\n"
	                        "node https://n.example\n";
	struct agent_config c;
	char err[200];

	CHECK_RC(agent_config_parse(&c, t, strlen(t), "base", err, sizeof(err)), FWC_OK);
	CHECK(strcmp(c.channel, "stable") == 0);
	CHECK(c.gateway[0] == '\0' && c.key[0] == '\0');
	CHECK(strcmp(c.trust, "/abs/trust.txt") == 0);
	CHECK(strcmp(c.device_dir, "base/d") == 0);
	CHECK(c.root_version == 1 && c.floor == 0 && c.slot_size == 0 && c.erase_unit == 4096);
	CHECK(c.poll_interval == 3600 && c.poll_jitter == 300);
}

/* The example with line `line` (0-based, after the header) replaced by repl (NULL: removed),
 * or with extra appended; must be refused with rc. */
static void refused(const char *text, int rc, const char *what)
{
	struct agent_config c;
	char err[200] = "";

	memset(&c, 0x5a, sizeof(c));
	int got = agent_config_parse(&c, text, strlen(text), ".", err, sizeof(err));
	if (got != rc)
		fprintf(stderr, "refusal '%s': got %d (%s), want %d\n", what, got, err, rc);
	CHECK(got == rc);
	CHECK(err[0] != '\0');
	CHECK(((unsigned char *)&c)[0] == 0x5a); /* untouched on failure */
}

static void test_refusals(void)
{
	static char t[8400];
	const char *body = strchr(example, '\n') + 1;

	refused("fwagent-config/v2\nnode http://x\n", FWC_ERR_UNSUPPORTED, "version");
	refused("fwchain-trust/v1\n", FWC_ERR_MALFORMED, "header");
	snprintf(t, sizeof(t), "%.*s", (int)(strlen(example) - 1), example);
	refused(t, FWC_ERR_MALFORMED, "no final newline");
	snprintf(t, sizeof(t), "%sfloor\t1\n", example);
	refused(t, FWC_ERR_MALFORMED, "tab");
	snprintf(t, sizeof(t), "%sfloor 1\r\n", example);
	refused(t, FWC_ERR_MALFORMED, "CR");
	snprintf(t, sizeof(t), "fwagent-config/v1\nnode  http://x\n%s", body);
	refused(t, FWC_ERR_MALFORMED, "double space");
	snprintf(t, sizeof(t), "fwagent-config/v1\nhwid a b\n");
	refused(t, FWC_ERR_MALFORMED, "value with a space");
	snprintf(t, sizeof(t), "%smode fast\n", example);
	refused(t, FWC_ERR_UNKNOWN_FIELD, "unknown keyword");
	snprintf(t, sizeof(t), "%sproduct other\n", example);
	refused(t, FWC_ERR_DUPLICATE, "twice");
	snprintf(t, sizeof(t), "fwagent-config/v1\nnode ftp://x\n");
	refused(t, FWC_ERR_MALFORMED, "not http");
	snprintf(t, sizeof(t), "fwagent-config/v1\nfloor 01\n");
	refused(t, FWC_ERR_RANGE, "leading zero");
	snprintf(t, sizeof(t), "fwagent-config/v1\nfloor -1\n");
	refused(t, FWC_ERR_RANGE, "sign");
	snprintf(t, sizeof(t), "fwagent-config/v1\nfloor 9223372036854775808\n");
	refused(t, FWC_ERR_RANGE, "2^63");
	snprintf(t, sizeof(t), "fwagent-config/v1\nerase-unit 3000\n");
	refused(t, FWC_ERR_RANGE, "erase unit");
	snprintf(t, sizeof(t), "fwagent-config/v1\nroot-version 0\n");
	refused(t, FWC_ERR_RANGE, "root version 0");
	snprintf(t, sizeof(t),
	         "fwagent-config/v1\nnode http://x\nproduct p\nhwid h\ndevice-dir d\n");
	refused(t, FWC_ERR_MISSING_FIELD, "no trust");
	snprintf(t, sizeof(t), "fwagent-config/v1\nproduct p\nhwid h\ndevice-dir d\ntrust t\n");
	refused(t, FWC_ERR_MISSING_FIELD, "no node");
	snprintf(t, sizeof(t), "%sslot-size 5000\n", example);
	/* the example has slot-size already: use a copy without it */
	{
		static char u[8400];
		const char *s = strstr(example, "slot-size ");
		const char *e = strchr(s, '\n') + 1;

		snprintf(u, sizeof(u), "%.*s%sslot-size 5000\n", (int)(s - example), example, e);
		refused(u, FWC_ERR_RANGE, "slot size not a multiple of the erase unit");
	}
	memset(t, 'a', sizeof(t) - 1);
	t[sizeof(t) - 1] = '\0';
	refused(t, FWC_ERR_TOO_LARGE, "file size");
	{
		char v[260];

		memset(v, 'x', 201);
		v[201] = '\0';
		snprintf(t, sizeof(t), "fwagent-config/v1\nhwid %s\n", v);
		refused(t, FWC_ERR_TOO_LARGE, "value size");
	}
}

int main(void)
{
	FILE *f = fopen(FWC_SOURCE_DIR "/docs/formats/agent-config.md", "rb");
	size_t n = 0;

	CHECK(f != NULL);
	if (f != NULL) {
		n = fread(doc, 1, sizeof(doc) - 1, f);
		fclose(f);
	}
	doc[n] = '\0';
	RUN(test_example);
	RUN(test_defaults);
	RUN(test_refusals);
	return test_done();
}
