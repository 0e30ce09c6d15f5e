/* Tests node/genesis.c: the worked example of docs/formats/genesis.md parses to the values it
 * shows (read from the doc itself, so doc and code cannot drift), every refusal the doc lists,
 * format/parse round trip, and the data directory: first open creates genesis, keys and
 * keystore (modes 0600), a second open while the first holds the lock is refused, a reopen
 * loads the same genesis, and damaged or foreign directories are refused without being touched. */
#include "test.h"

#include "genesis.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fwchain/hex.h"
#include "fwchain/keystore.h"

static char tmpdir[] = "/tmp/fwc-gentest-XXXXXX";

/* The JSON block of docs/formats/genesis.md (between "```json" and "```"). */
static char *doc_example(void)
{
	char path[512], *buf, *start, *end;
	const char *vec = getenv("FWC_VECTORS");
	FILE *f;
	long n;

	snprintf(path, sizeof(path), "%s/../../docs/formats/genesis.md",
	         vec ? vec : "tests/vectors");
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
	if (buf == NULL || (start = strstr(buf, "```json\n")) == NULL ||
	    (end = strstr(start + 8, "```")) == NULL) {
		free(buf);
		return NULL;
	}
	*end = '\0';
	memmove(buf, start + 8, strlen(start + 8) + 1);
	return buf;
}

static int parse(struct node_genesis *g, const char *json, struct fwc_errinfo *ei)
{
	return node_genesis_parse(g, json, strlen(json), ei);
}

static void test_doc_example(void)
{
	struct node_genesis g, g2;
	struct fwc_errinfo ei = {0};
	char *json = doc_example(), *out = NULL, hex[65];

	CHECK(json != NULL);
	if (json == NULL)
		return;
	CHECK_RC(parse(&g, json, &ei), FWC_OK);
	CHECK(strcmp(g.chain_id, "fwchain-dev-1d9c204f") == 0);
	CHECK(g.time == 1795239126);
	CHECK(g.n_validators == 1);
	CHECK(strcmp(g.validators[0].name, "fwchain-dev-1d9c204f/validator-0") == 0);
	CHECK(g.validators[0].key.alg == FWC_ALG_ED25519);
	fwc_hex_encode(hex, sizeof(hex), g.validators[0].key.key, 32);
	CHECK(strcmp(hex, "79e8bf218a8aaea6dfa1a3d65a2680b953c2002187d319d2062afaebb71b1b7a") == 0);
	CHECK(g.n_orgs == 1 && strcmp(g.orgs[0].id, "root") == 0 &&
	      strcmp(g.orgs[0].name, "Root organisation") == 0);
	CHECK(g.quorum == 1 && strcmp(g.orgs[0].admin_name, "dev-admin") == 0);
	CHECK(g.orgs[0].admin.alg == FWC_ALG_BIP340);
	fwc_hex_encode(hex, sizeof(hex), g.orgs[0].admin.key, 32);
	CHECK(strcmp(hex, "e58743365fc6814dc2d3ed0e888b33b2355624c0cb33a09c6ca429dec6133a58") == 0);
	/* The node writes exactly the doc's bytes for these values. */
	CHECK_RC(node_genesis_format(&out, &g), FWC_OK);
	CHECK(out && strncmp(out, json, strlen(out)) == 0 && strlen(json) == strlen(out) + 1);
	CHECK_RC(parse(&g2, out, &ei), FWC_OK);
	CHECK(memcmp(&g, &g2, sizeof(g)) == 0);
	free(out);
	free(json);
}

/* The first dev form ("admin" instead of "organisations") reads as the same genesis. */
static void test_legacy_admin(void)
{
	static const char legacy[] =
	    "{\"format\":\"fwchain-genesis/v1\",\"chain_id\":\"fwchain-dev-1d9c204f\","
	    "\"genesis_time\":1795239126,\"validators\":[{\"name\":\"fwchain-dev-1d9c204f/"
	    "validator-0\",\"key\":\"ed25519:79e8bf218a8aaea6dfa1a3d65a2680b953c2002187d319d2062"
	    "afaebb71b1b7a\"}],\"quorum\":1,\"admin\":{\"name\":\"dev-admin\",\"key\":"
	    "\"bip340:e58743365fc6814dc2d3ed0e888b33b2355624c0cb33a09c6ca429dec6133a58\"}}";
	struct node_genesis g, g2;
	struct fwc_errinfo ei = {0};
	char *json = doc_example();

	CHECK(json != NULL);
	if (json == NULL)
		return;
	CHECK_RC(parse(&g, legacy, &ei), FWC_OK);
	CHECK_RC(parse(&g2, json, &ei), FWC_OK);
	CHECK(memcmp(&g, &g2, sizeof(g)) == 0);
	free(json);
}

/* Several validators with a quorum, several organisations. */
static void test_consortium(void)
{
	static const char text[] =
	    "{\"format\":\"fwchain-genesis/v1\",\"chain_id\":\"acme-fleet\",\"genesis_time\":5,"
	    "\"validators\":[{\"name\":\"v1\",\"key\":\"ed25519:79e8bf218a8aaea6dfa1a3d65a2680b9"
	    "53c2002187d319d2062afaebb71b1b7a\"},{\"name\":\"v2\",\"key\":\"ed25519:d75a980182b10a"
	    "b7d54bfed3c964073a0ee172f3daa62325af021a68f707511a\"}],\"quorum\":2,"
	    "\"organisations\":[{\"id\":\"consortium\",\"name\":\"C\",\"admin\":{\"name\":\"a\","
	    "\"key\":\"bip340:e58743365fc6814dc2d3ed0e888b33b2355624c0cb33a09c6ca429dec6133a58\"}},"
	    "{\"id\":\"acme\",\"name\":\"ACME\",\"admin\":{\"name\":\"b\",\"key\":\"ed25519:"
	    "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a\"}}]}";
	struct node_genesis g, g2;
	struct fwc_errinfo ei = {0};
	char *out = NULL;

	CHECK_RC(parse(&g, text, &ei), FWC_OK);
	CHECK(g.n_validators == 2 && g.quorum == 2 && g.n_orgs == 2);
	CHECK(strcmp(g.orgs[1].id, "acme") == 0 && g.orgs[1].admin.alg == FWC_ALG_ED25519);
	CHECK_RC(node_genesis_format(&out, &g), FWC_OK);
	CHECK_RC(parse(&g2, out, &ei), FWC_OK);
	CHECK(memcmp(&g, &g2, sizeof(g)) == 0);
	free(out);
}

static void test_refusals(void)
{
	static const char *const bad[] = {
	    "{\"format\": ",
	    "[]",
	    "{\"format\":\"fwchain-genesis/v2\"}",
	    /* each below is the valid shape with one defect */
	    "{\"format\":\"fwchain-genesis/v1\",\"chain_id\":\"has space\",\"genesis_time\":1,"
	    "\"validators\":[{\"name\":\"v\",\"key\":\"ed25519:79e8bf218a8aaea6dfa1a3d65a2680b953c2"
	    "002187d319d2062afaebb71b1b7a\"}],\"quorum\":1,\"admin\":{\"name\":\"a\",\"key\":"
	    "\"bip340:e58743365fc6814dc2d3ed0e888b33b2355624c0cb33a09c6ca429dec6133a58\"}}",
	    "{\"format\":\"fwchain-genesis/v1\",\"chain_id\":\"c\",\"genesis_time\":-1,"
	    "\"validators\":[{\"name\":\"v\",\"key\":\"ed25519:79e8bf218a8aaea6dfa1a3d65a2680b953c2"
	    "002187d319d2062afaebb71b1b7a\"}],\"quorum\":1,\"admin\":{\"name\":\"a\",\"key\":"
	    "\"bip340:e58743365fc6814dc2d3ed0e888b33b2355624c0cb33a09c6ca429dec6133a58\"}}",
	    "{\"format\":\"fwchain-genesis/v1\",\"chain_id\":\"c\",\"genesis_time\":1,"
	    "\"validators\":[],\"quorum\":1,\"admin\":{\"name\":\"a\",\"key\":"
	    "\"bip340:e58743365fc6814dc2d3ed0e888b33b2355624c0cb33a09c6ca429dec6133a58\"}}",
	    "{\"format\":\"fwchain-genesis/v1\",\"chain_id\":\"c\",\"genesis_time\":1,"
	    "\"validators\":[{\"name\":\"v\",\"key\":\"ed25519:79e8bf218a8aaea6dfa1a3d65a2680b953c2"
	    "002187d319d2062afaebb71b1b7a\"}],\"quorum\":2,\"admin\":{\"name\":\"a\",\"key\":"
	    "\"bip340:e58743365fc6814dc2d3ed0e888b33b2355624c0cb33a09c6ca429dec6133a58\"}}",
	    /* validator key of the wrong algorithm */
	    "{\"format\":\"fwchain-genesis/v1\",\"chain_id\":\"c\",\"genesis_time\":1,"
	    "\"validators\":[{\"name\":\"v\",\"key\":\"bip340:e58743365fc6814dc2d3ed0e888b33b2355"
	    "624c0cb33a09c6ca429dec6133a58\"}],\"quorum\":1,\"admin\":{\"name\":\"a\",\"key\":"
	    "\"bip340:e58743365fc6814dc2d3ed0e888b33b2355624c0cb33a09c6ca429dec6133a58\"}}",
	    /* admin missing */
	    "{\"format\":\"fwchain-genesis/v1\",\"chain_id\":\"c\",\"genesis_time\":1,"
	    "\"validators\":[{\"name\":\"v\",\"key\":\"ed25519:79e8bf218a8aaea6dfa1a3d65a2680b953c2"
	    "002187d319d2062afaebb71b1b7a\"}],\"quorum\":1}",
	    /* duplicate key */
	    "{\"format\":\"fwchain-genesis/v1\",\"format\":\"fwchain-genesis/v1\"}",
	    /* both admin and organisations */
	    "{\"format\":\"fwchain-genesis/v1\",\"chain_id\":\"c\",\"genesis_time\":1,"
	    "\"validators\":[{\"name\":\"v\",\"key\":\"ed25519:79e8bf218a8aaea6dfa1a3d65a2680b953c2"
	    "002187d319d2062afaebb71b1b7a\"}],\"quorum\":1,\"admin\":{\"name\":\"a\",\"key\":"
	    "\"bip340:e58743365fc6814dc2d3ed0e888b33b2355624c0cb33a09c6ca429dec6133a58\"},"
	    "\"organisations\":[]}",
	    /* an organisation id that is not an id */
	    "{\"format\":\"fwchain-genesis/v1\",\"chain_id\":\"c\",\"genesis_time\":1,"
	    "\"validators\":[{\"name\":\"v\",\"key\":\"ed25519:79e8bf218a8aaea6dfa1a3d65a2680b953c2"
	    "002187d319d2062afaebb71b1b7a\"}],\"quorum\":1,\"organisations\":[{\"id\":\"Big Co\","
	    "\"name\":\"n\",\"admin\":{\"name\":\"a\",\"key\":\"bip340:e58743365fc6814dc2d3ed0e8"
	    "88b33b2355624c0cb33a09c6ca429dec6133a58\"}}]}",
	    /* two validators with one key */
	    "{\"format\":\"fwchain-genesis/v1\",\"chain_id\":\"c\",\"genesis_time\":1,"
	    "\"validators\":[{\"name\":\"v\",\"key\":\"ed25519:79e8bf218a8aaea6dfa1a3d65a2680b953c2"
	    "002187d319d2062afaebb71b1b7a\"},{\"name\":\"w\",\"key\":\"ed25519:"
	    "79e8bf218a8aaea6dfa1a3"
	    "d65a2680b953c2002187d319d2062afaebb71b1b7a\"}],\"quorum\":1,\"organisations\":[{"
	    "\"id\":"
	    "\"o\",\"name\":\"n\",\"admin\":{\"name\":\"a\",\"key\":\"bip340:e58743365fc6814dc2d3"
	    "ed0e888b33b2355624c0cb33a09c6ca429dec6133a58\"}}]}",
	};
	struct node_genesis g;
	struct fwc_errinfo ei;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&ei, 0, sizeof(ei));
		CHECK_RC(parse(&g, bad[i], &ei), FWC_ERR_MALFORMED);
		CHECK(ei.msg[0] != '\0');
	}
	memset(&ei, 0, sizeof(ei));
	parse(&g, bad[0], &ei);
	CHECK(strstr(ei.msg, "line 1") != NULL);
}

static mode_t mode_of(const char *dir, const char *name)
{
	char p[NODE_PATH_MAX];
	struct stat st;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return stat(p, &st) == 0 ? (st.st_mode & 0777) : (mode_t)-1;
}

static void test_datadir(void)
{
	struct node_datadir dd, dd2;
	struct fwc_errinfo ei = {0};
	struct fwc_pubkey pk, apk;
	char dir[256], p[NODE_PATH_MAX], chain[NODE_CHAIN_ID_MAX];

	snprintf(dir, sizeof(dir), "%s/data", tmpdir);
	unsetenv("FWCHAIN_PASSPHRASE");
	CHECK_RC(node_datadir_open(&dd, dir, &ei), FWC_OK);
	CHECK(dd.created == 1);
	CHECK(strncmp(dd.genesis.chain_id, "fwchain-dev-", 12) == 0 &&
	      strlen(dd.genesis.chain_id) == 20);
	CHECK(mode_of(dir, NODE_FILE_VALIDATOR_KEY) == 0600);
	CHECK(mode_of(dir, NODE_FILE_ADMIN_KEYSTORE) == 0600);
	CHECK(mode_of(dir, NODE_FILE_ADMIN_PASS) == 0600);
	CHECK_RC(fwc_key_public(&pk, &dd.validator_sk), FWC_OK);
	CHECK(fwc_pubkey_equal(&pk, &dd.genesis.validators[0].key));
	/* The keystore holds the genesis admin key. */
	CHECK_RC(fwc_keystore_peek(&apk, dd.admin_keystore, NULL), FWC_OK);
	CHECK(fwc_pubkey_equal(&apk, &dd.genesis.orgs[0].admin));
	snprintf(chain, sizeof(chain), "%s", dd.genesis.chain_id);

	/* Locked while open. */
	CHECK_RC(node_datadir_open(&dd2, dir, &ei), FWC_ERR_STATE);
	CHECK(strstr(ei.msg, "in use") != NULL);
	node_datadir_cleanup(&dd);

	CHECK_RC(node_datadir_open(&dd, dir, &ei), FWC_OK);
	CHECK(dd.created == 0 && strcmp(dd.genesis.chain_id, chain) == 0);
	node_datadir_cleanup(&dd);

	/* Validator key readable by others. */
	snprintf(p, sizeof(p), "%s/%s", dir, NODE_FILE_VALIDATOR_KEY);
	chmod(p, 0640);
	CHECK_RC(node_datadir_open(&dd, dir, &ei), FWC_ERR_PERMISSIONS);
	chmod(p, 0600);

	/* A foreign directory is refused and left alone. */
	snprintf(dir, sizeof(dir), "%s/foreign", tmpdir);
	mkdir(dir, 0700);
	snprintf(p, sizeof(p), "%s/notes.txt", dir);
	close(open(p, O_CREAT | O_WRONLY, 0600));
	CHECK_RC(node_datadir_open(&dd, dir, &ei), FWC_ERR_STATE);
	CHECK(strstr(ei.msg, "not an fwchaind data directory") != NULL);
	CHECK(access(p, F_OK) == 0);

	/* The debris of a first start interrupted before genesis.json is redone. */
	snprintf(dir, sizeof(dir), "%s/debris", tmpdir);
	mkdir(dir, 0700);
	snprintf(p, sizeof(p), "%s/%s", dir, NODE_FILE_ADMIN_PASS);
	close(open(p, O_CREAT | O_WRONLY, 0600));
	snprintf(p, sizeof(p), "%s/%s", dir, NODE_FILE_ADMIN_KEYSTORE);
	close(open(p, O_CREAT | O_WRONLY, 0600));
	CHECK_RC(node_datadir_open(&dd, dir, &ei), FWC_OK);
	CHECK(dd.created == 1);
	node_datadir_cleanup(&dd);

	/* With FWCHAIN_PASSPHRASE no admin.pass is written. */
	snprintf(dir, sizeof(dir), "%s/withpass", tmpdir);
	setenv("FWCHAIN_PASSPHRASE", "correct horse battery staple", 1);
	CHECK_RC(node_datadir_open(&dd, dir, &ei), FWC_OK);
	CHECK(dd.admin_pass[0] == '\0' && mode_of(dir, NODE_FILE_ADMIN_PASS) == (mode_t)-1);
	{
		struct fwc_seckey sk;
		struct fwc_pubkey k;
		const char *pass = "correct horse battery staple";

		CHECK_RC(fwc_keystore_load(&sk, dd.admin_keystore, pass, strlen(pass), NULL),
		         FWC_OK);
		CHECK_RC(fwc_key_public(&k, &sk), FWC_OK);
		CHECK(fwc_pubkey_equal(&k, &dd.genesis.orgs[0].admin));
		fwc_seckey_wipe(&sk);
	}
	node_datadir_cleanup(&dd);
	unsetenv("FWCHAIN_PASSPHRASE");
}

static void write_file(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, mode);

	CHECK(fd >= 0);
	if (fd >= 0) {
		CHECK(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
		close(fd);
	}
	chmod(path, mode);
}

/* A genesis given with --genesis: the first open creates the directory and a copy; later
 * opens need the same genesis; a key that is no validator, a genesis of another chain and a
 * different genesis of the same chain are refused with messages naming them. */
static void test_datadir_genesis(void)
{
	static const char vkey[] =
	    "ed25519-seed:0909090000000000000000000000000000000000000000000000000000000000\n";
	struct node_datadir dd;
	struct fwc_errinfo ei = {0};
	struct fwc_seckey sk;
	struct fwc_pubkey pk;
	uint8_t seed[32] = {9, 9, 9};
	char dir[256], gpath[256], kpath[256], g2path[256], kt[FWC_PUBKEY_TEXT_MAX], *text;
	size_t tlen;

	fwc_key_from_secret(&sk, FWC_ALG_ED25519, seed);
	fwc_key_public(&pk, &sk);
	fwc_seckey_wipe(&sk);
	fwc_pubkey_to_text(kt, sizeof(kt), &pk);
	tlen = 2048;
	text = malloc(tlen);
	snprintf(text, tlen,
	         "{\"format\":\"fwchain-genesis/v1\",\"chain_id\":\"acme-fleet\","
	         "\"genesis_time\":5,\"validators\":[{\"name\":\"acme/v0\",\"key\":\"%s\"}],"
	         "\"quorum\":1,\"organisations\":[{\"id\":\"consortium\",\"name\":\"C\","
	         "\"admin\":{\"name\":\"a\",\"key\":\"bip340:e58743365fc6814dc2d3ed0e888b33b2355"
	         "624c0cb33a09c6ca429dec6133a58\"}}]}",
	         kt);
	snprintf(dir, sizeof(dir), "%s/node", tmpdir);
	snprintf(gpath, sizeof(gpath), "%s/genesis-acme.json", tmpdir);
	snprintf(g2path, sizeof(g2path), "%s/genesis-other.json", tmpdir);
	snprintf(kpath, sizeof(kpath), "%s/v0.key", tmpdir);
	write_file(gpath, text, 0644);
	write_file(kpath, vkey, 0600);

	CHECK_RC(node_datadir_open_genesis(&dd, dir, gpath, kpath, &ei), FWC_OK);
	CHECK(dd.created == 1 && dd.validator_index == 0);
	CHECK(strcmp(dd.genesis.chain_id, "acme-fleet") == 0);
	CHECK(mode_of(dir, NODE_FILE_GENESIS) == 0644 &&
	      mode_of(dir, NODE_FILE_LEDGER) != (mode_t)-1);
	node_datadir_cleanup(&dd);
	CHECK_RC(node_datadir_open_genesis(&dd, dir, gpath, kpath, &ei), FWC_OK);
	CHECK(dd.created == 0);
	node_datadir_cleanup(&dd);

	/* Another chain's genesis. */
	{
		char *other = strdup(text), *at = strstr(other, "acme-fleet");

		memcpy(at, "beta-fleet", 10);
		write_file(g2path, other, 0644);
		CHECK_RC(node_datadir_open_genesis(&dd, dir, g2path, kpath, &ei), FWC_ERR_STATE);
		CHECK(strstr(ei.msg, "is for chain 'beta-fleet'") != NULL &&
		      strstr(ei.msg, "holds chain 'acme-fleet'") != NULL);
		/* Same chain id, another organisation name. */
		memcpy(at, "acme-fleet", 10);
		at = strstr(other, "\"name\":\"C\"");
		at[8] = 'D';
		write_file(g2path, other, 0644);
		CHECK_RC(node_datadir_open_genesis(&dd, dir, g2path, kpath, &ei), FWC_ERR_STATE);
		CHECK(strstr(ei.msg, "differs") != NULL);
		free(other);
	}
	/* A key that is no validator of the genesis. */
	write_file(
	    kpath,
	    "ed25519-seed:0808080000000000000000000000000000000000000000000000000000000000\n",
	    0600);
	CHECK_RC(node_datadir_open_genesis(&dd, dir, gpath, kpath, &ei), FWC_ERR_STATE);
	CHECK(strstr(ei.msg, "not the key of any validator") != NULL);
	/* A damaged genesis names the file. */
	write_file(g2path, "{\"format\": 3}", 0644);
	CHECK_RC(node_datadir_open_genesis(&dd, dir, g2path, kpath, &ei), FWC_ERR_MALFORMED);
	CHECK(strstr(ei.msg, "genesis-other.json") != NULL);
	free(text);
}

int main(void)
{
	char cmd[128];

	if (mkdtemp(tmpdir) == NULL)
		return 1;
	RUN(test_doc_example);
	RUN(test_legacy_admin);
	RUN(test_consortium);
	RUN(test_refusals);
	RUN(test_datadir);
	RUN(test_datadir_genesis);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", tmpdir);
	return test_done();
}
