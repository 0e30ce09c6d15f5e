/* Tests node/config.c: the example configuration of docs/node.md (read from the page) parses to
 * the values it shows, defaults apply to absent fields, a relative validator key path is
 * resolved against the file's directory, and every refusal names the field. */
#include "test.h"

#include "config.h"

#include <fcntl.h>
#include <unistd.h>

/* The JSON block of docs/node.md between <!-- config-example --> and the next ```. */
static char *doc_example(void)
{
	char path[512], *buf, *start, *end;
	const char *vec = getenv("FWC_VECTORS");
	FILE *f;
	long n;

	snprintf(path, sizeof(path), "%s/../../docs/node.md", vec ? vec : "tests/vectors");
	f = fopen(path, "rb");
	if (f == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = calloc(1, (size_t)n + 1);
	if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	if (buf == NULL || (start = strstr(buf, "<!-- config-example -->")) == NULL ||
	    (start = strstr(start, "```json\n")) == NULL ||
	    (end = strstr(start + 8, "```")) == NULL) {
		free(buf);
		return NULL;
	}
	*end = '\0';
	memmove(buf, start + 8, strlen(start + 8) + 1);
	return buf;
}

static int parse(struct node_config *c, const char *json, struct fwc_errinfo *ei)
{
	return node_config_parse(c, json, strlen(json), "/etc/fwchain", ei);
}

static void test_example(void)
{
	struct node_config c;
	struct fwc_errinfo ei = {0};
	char *json = doc_example();

	CHECK(json != NULL);
	if (json == NULL)
		return;
	CHECK_RC(parse(&c, json, &ei), FWC_OK);
	CHECK(strcmp(c.listen_addr, "127.0.0.1") == 0 && c.port == 8080);
	CHECK(strcmp(c.validator_key, "/etc/fwchain/validator.key") == 0);
	CHECK(c.block_interval_ms == 500 && c.checkpoint_interval_s == 60);
	CHECK(c.block_max_txs == 2000 && c.mempool_max == 10000 && c.threads == 2);
	free(json);
}

static void test_defaults(void)
{
	struct node_config c;
	struct fwc_errinfo ei = {0};

	CHECK_RC(parse(&c,
	               "{\"format\":\"fwchaind-config/v1\",\"validator_key\":\"/k/v.key\","
	               "\"listen\":\"10.1.2.3:0\",\"threads\":8}",
	               &ei),
	         FWC_OK);
	CHECK(strcmp(c.validator_key, "/k/v.key") == 0); /* absolute: kept */
	CHECK(strcmp(c.listen_addr, "10.1.2.3") == 0 && c.port == 0 && c.threads == 8);
	CHECK(c.block_interval_ms == 500 && c.block_max_txs == 2000);
	{
		const char *t = "{\"format\":\"fwchaind-config/v1\",\"validator_key\":\"v\"}";

		CHECK_RC(node_config_parse(&c, t, strlen(t), NULL, &ei), FWC_OK);
	}
	CHECK(strcmp(c.validator_key, "v") == 0);
	CHECK(c.npeers == 0 && !c.has_replication_factor && c.advertise_url[0] == '\0');
}

/* The content replication fields. */
static void test_content(void)
{
	struct node_config c;
	struct fwc_errinfo ei = {0};

	CHECK_RC(parse(&c,
	               "{\"format\":\"fwchaind-config/v1\",\"validator_key\":\"v\","
	               "\"peers\":[\"http://10.0.0.2:8080\",\"https://n3.example/\"],"
	               "\"replication_factor\":2,\"advertise_url\":\"http://10.0.0.1:8080\"}",
	               &ei),
	         FWC_OK);
	CHECK(c.npeers == 2 && strcmp(c.peers[0], "http://10.0.0.2:8080") == 0 &&
	      strcmp(c.peers[1], "https://n3.example/") == 0);
	CHECK(c.has_replication_factor && c.replication_factor == 2);
	CHECK(strcmp(c.advertise_url, "http://10.0.0.1:8080") == 0);
	CHECK_RC(parse(&c,
	               "{\"format\":\"fwchaind-config/v1\",\"validator_key\":\"v\","
	               "\"replication_factor\":\"all\"}",
	               &ei),
	         FWC_OK);
	CHECK(c.has_replication_factor && c.replication_factor == 0);
}

static void test_refusals(void)
{
	static const struct {
		const char *json, *says;
	} bad[] = {
	    {"{\"format\":", "invalid JSON at line 1"},
	    {"[]", "not a JSON object"},
	    {"{\"format\":\"x\",\"validator_key\":\"v\"}", "\"format\" must be"},
	    {"{\"format\":\"fwchaind-config/v1\"}", "validator_key"},
	    {"{\"format\":\"fwchaind-config/v1\",\"validator_key\":\"v\",\"blok_interval_ms\":5}",
	     "unknown field \"blok_interval_ms\""},
	    {"{\"format\":\"fwchaind-config/"
	     "v1\",\"validator_key\":\"v\",\"listen\":\"localhost:1\"}",
	     "\"listen\""},
	    {"{\"format\":\"fwchaind-config/"
	     "v1\",\"validator_key\":\"v\",\"listen\":\"1.2.3.4:70000\"}",
	     "\"listen\""},
	    {"{\"format\":\"fwchaind-config/v1\",\"validator_key\":\"v\",\"listen\":8080}",
	     "\"listen\""},
	    {"{\"format\":\"fwchaind-config/v1\",\"validator_key\":\"v\",\"block_interval_ms\":5}",
	     "\"block_interval_ms\" must be an integer from 10"},
	    {"{\"format\":\"fwchaind-config/v1\",\"validator_key\":\"v\",\"threads\":\"2\"}",
	     "\"threads\""},
	    {"{\"format\":\"fwchaind-config/v1\",\"validator_key\":\"v\",\"block_max_txs\":50,"
	     "\"mempool_max\":10}",
	     "exceeds"},
	    {"{\"format\":\"fwchaind-config/v1\",\"validator_key\":\"v\",\"peers\":[\"ftp://x/\"]}",
	     "\"peers\"[0]"},
	    {"{\"format\":\"fwchaind-config/v1\",\"validator_key\":\"v\",\"peers\":\"http://a:1\"}",
	     "\"peers\" must be an array"},
	    {"{\"format\":\"fwchaind-config/v1\",\"validator_key\":\"v\",\"replication_factor\":0}",
	     "\"replication_factor\""},
	    {"{\"format\":\"fwchaind-config/"
	     "v1\",\"validator_key\":\"v\",\"replication_factor\":17}",
	     "\"replication_factor\""},
	    {"{\"format\":\"fwchaind-config/v1\",\"validator_key\":\"v\",\"advertise_url\":\"x "
	     "y\"}",
	     "\"advertise_url\""},
	};
	struct node_config c;
	struct fwc_errinfo ei;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&ei, 0, sizeof(ei));
		CHECK_RC(parse(&c, bad[i].json, &ei), FWC_ERR_MALFORMED);
		if (strstr(ei.msg, bad[i].says) == NULL)
			fprintf(stderr, "refusal %zu says '%s', want '%s'\n", i, ei.msg,
			        bad[i].says);
		CHECK(strstr(ei.msg, bad[i].says) != NULL);
	}
}

static void test_load(void)
{
	char dir[] = "/tmp/fwc-cfgtest-XXXXXX", p[300];
	struct node_config c;
	struct fwc_errinfo ei = {0};
	const char *text = "{\"format\":\"fwchaind-config/v1\",\"validator_key\":\"keys/v.key\"}";
	int fd;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(p, sizeof(p), "%s/node.json", dir);
	fd = open(p, O_CREAT | O_WRONLY | O_TRUNC, 0644);
	CHECK(fd >= 0 && write(fd, text, strlen(text)) == (ssize_t)strlen(text));
	close(fd);
	CHECK_RC(node_config_load(&c, p, &ei), FWC_OK);
	snprintf(p, sizeof(p), "%s/keys/v.key", dir);
	CHECK(strcmp(c.validator_key, p) == 0);
	snprintf(p, sizeof(p), "%s/missing.json", dir);
	CHECK_RC(node_config_load(&c, p, &ei), FWC_ERR_NOT_FOUND);
	CHECK(strstr(ei.msg, "missing.json") != NULL);
	snprintf(p, sizeof(p), "%s/node.json", dir);
	unlink(p);
	rmdir(dir);
}

int main(void)
{
	RUN(test_example);
	RUN(test_defaults);
	RUN(test_content);
	RUN(test_refusals);
	RUN(test_load);
	return test_done();
}
