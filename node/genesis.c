/* fwchaind dev data directory: first-start genesis creation, later-start checks, the lock.
 *
 * Main design choice: genesis.json is the commit point of a first start. Everything else (keys,
 * the admin keystore, an empty ledger.db) is written first; genesis.json is written last,
 * atomically (temporary file, fsync, rename, fsync of the directory). A directory without
 * genesis.json therefore holds at most the debris of an interrupted first start, which is
 * recognised (only our file names, and a ledger with no block) and redone; anything else in it
 * is refused rather than overwritten. Blocks are only ever produced after genesis.json exists,
 * so redoing a first start never throws away a block. The validator key is a plain 0600 file
 * (a validator must restart unattended, as with other BFT validators' key files) and the node
 * refuses to start when it is readable by others; the admin key, which signs organisation
 * transactions, goes to an encrypted keystore. */
#include "genesis.h"

#include "db.h"
#include "keystore_glue.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fwchain/hex.h"
#include "fwchain/note.h"
#include "fwchain/payload.h"

#define GENESIS_FORMAT "fwchain-genesis/v1"
#define GENESIS_MAX (64u * 1024u)
#define VKEY_PREFIX "ed25519-seed:"

/* ---------------------------------------------------------------- genesis JSON */

static int get_str(char *out, size_t cap, json_t *obj, const char *key, const char *where,
                   struct fwc_errinfo *ei)
{
	json_t *v = json_object_get(obj, key);
	const char *s = json_string_value(v);

	if (s == NULL)
		return fwc_fail(ei, 0, FWC_ERR_MALFORMED, "%s: \"%s\" missing or not a string",
		                where, key);
	if (strlen(s) == 0 || strlen(s) >= cap)
		return fwc_fail(ei, 0, FWC_ERR_MALFORMED, "%s: \"%s\" empty or longer than %zu",
		                where, key, cap - 1);
	snprintf(out, cap, "%s", s);
	return FWC_OK;
}

static int get_key(struct fwc_pubkey *pk, json_t *obj, int alg, const char *where,
                   struct fwc_errinfo *ei)
{
	char text[FWC_PUBKEY_TEXT_MAX];
	struct fwc_errinfo kei = {0};
	int rc = get_str(text, sizeof(text), obj, "key", where, ei);

	if (rc != FWC_OK)
		return rc;
	if (fwc_pubkey_from_text(pk, text, strlen(text), &kei) != FWC_OK)
		return fwc_fail(ei, 0, FWC_ERR_MALFORMED, "%s: bad key text: %s", where, kei.msg);
	if (alg && pk->alg != alg)
		return fwc_fail(ei, 0, FWC_ERR_MALFORMED, "%s: key must be %s", where,
		                fwc_alg_name(alg));
	return FWC_OK;
}

static int parse_validators(struct node_genesis *g, json_t *vals, struct fwc_errinfo *ei)
{
	if (!json_is_array(vals) || json_array_size(vals) < 1 ||
	    json_array_size(vals) > NODE_GENESIS_VALIDATORS_MAX)
		return fwc_fail(ei, 0, FWC_ERR_MALFORMED,
		                "\"validators\" must be an array of 1..%d validators",
		                NODE_GENESIS_VALIDATORS_MAX);
	g->n_validators = json_array_size(vals);
	for (size_t i = 0; i < g->n_validators; i++) {
		struct node_genesis_validator *v = &g->validators[i];
		json_t *o = json_array_get(vals, i);
		char where[48];

		snprintf(where, sizeof(where), "validators[%zu]", i);
		if (!json_is_object(o))
			return fwc_fail(ei, 0, FWC_ERR_MALFORMED, "%s is not an object", where);
		if (get_str(v->name, sizeof(v->name), o, "name", where, ei) ||
		    get_key(&v->key, o, FWC_ALG_ED25519, where, ei))
			return FWC_ERR_MALFORMED;
		if (fwc_note_name_check(v->name, strlen(v->name), NULL) != FWC_OK)
			return fwc_fail(ei, 0, FWC_ERR_MALFORMED,
			                "%s: \"name\" is not a note key name (no spaces or '+')",
			                where);
		for (size_t j = 0; j < i; j++)
			if (strcmp(g->validators[j].name, v->name) == 0 ||
			    fwc_pubkey_equal(&g->validators[j].key, &v->key))
				return fwc_fail(ei, 0, FWC_ERR_MALFORMED,
				                "%s repeats the name or key of validators[%zu]",
				                where, j);
	}
	return FWC_OK;
}

static int parse_org(struct node_genesis_org *o, json_t *obj, const char *where,
                     struct fwc_errinfo *ei)
{
	json_t *admin = json_object_get(obj, "admin");
	char w[64];

	if (!json_is_object(obj))
		return fwc_fail(ei, 0, FWC_ERR_MALFORMED, "%s is not an object", where);
	if (get_str(o->id, sizeof(o->id), obj, "id", where, ei) ||
	    get_str(o->name, sizeof(o->name), obj, "name", where, ei))
		return FWC_ERR_MALFORMED;
	if (!fwc_pl_id_valid(o->id, strlen(o->id), FWC_PL_ID_MAX))
		return fwc_fail(ei, 0, FWC_ERR_MALFORMED,
		                "%s: \"id\" must match [a-z0-9][a-z0-9._-]*", where);
	snprintf(w, sizeof(w), "%s.admin", where);
	if (!json_is_object(admin))
		return fwc_fail(ei, 0, FWC_ERR_MALFORMED, "%s missing or not an object", w);
	if (get_str(o->admin_name, sizeof(o->admin_name), admin, "name", w, ei) ||
	    get_key(&o->admin, admin, 0, w, ei))
		return FWC_ERR_MALFORMED;
	return FWC_OK;
}

int node_genesis_parse(struct node_genesis *g, const char *json, size_t len, struct fwc_errinfo *ei)
{
	struct node_genesis tmp;
	json_error_t jerr;
	json_t *root, *v, *admin, *orgs;
	const char *fmt;
	int rc = FWC_ERR_MALFORMED;

	if (g == NULL || (json == NULL && len))
		return FWC_ERR_ARG;
	memset(&tmp, 0, sizeof(tmp));
	root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL)
		return fwc_fail(ei, (size_t)(jerr.position > 0 ? jerr.position : 0),
		                FWC_ERR_MALFORMED, "invalid JSON at line %d column %d: %s",
		                jerr.line, jerr.column, jerr.text);
	if (!json_is_object(root)) {
		fwc_fail(ei, 0, rc, "genesis is not a JSON object");
		goto out;
	}
	fmt = json_string_value(json_object_get(root, "format"));
	if (fmt == NULL || strcmp(fmt, GENESIS_FORMAT) != 0) {
		fwc_fail(ei, 0, rc, "\"format\" must be \"%s\"", GENESIS_FORMAT);
		goto out;
	}
	if (get_str(tmp.chain_id, sizeof(tmp.chain_id), root, "chain_id", "genesis", ei))
		goto out;
	for (const char *c = tmp.chain_id; *c; c++)
		if (*c <= ' ' || *c > '~') {
			fwc_fail(ei, 0, rc, "\"chain_id\" must be printable ASCII without spaces");
			goto out;
		}
	v = json_object_get(root, "genesis_time");
	if (!json_is_integer(v) || json_integer_value(v) < 0) {
		fwc_fail(ei, 0, rc, "\"genesis_time\" missing or not a non-negative integer");
		goto out;
	}
	tmp.time = (int64_t)json_integer_value(v);
	if (parse_validators(&tmp, json_object_get(root, "validators"), ei) != FWC_OK)
		goto out;
	v = json_object_get(root, "quorum");
	if (!json_is_integer(v) || json_integer_value(v) < 1 ||
	    (size_t)json_integer_value(v) > tmp.n_validators) {
		fwc_fail(ei, 0, rc, "\"quorum\" must be an integer from 1 to the %zu validators",
		         tmp.n_validators);
		goto out;
	}
	tmp.quorum = (unsigned)json_integer_value(v);
	admin = json_object_get(root, "admin");
	orgs = json_object_get(root, "organisations");
	if ((admin == NULL) == (orgs == NULL)) {
		fwc_fail(ei, 0, rc, "give exactly one of \"organisations\" and \"admin\"");
		goto out;
	}
	if (admin) {
		/* The first dev form: the root organisation's admin alone. */
		struct node_genesis_org *o = &tmp.orgs[0];

		if (!json_is_object(admin)) {
			fwc_fail(ei, 0, rc, "\"admin\" is not an object");
			goto out;
		}
		snprintf(o->id, sizeof(o->id), "%s", NODE_ROOT_ORG_ID);
		snprintf(o->name, sizeof(o->name), "%s", NODE_ROOT_ORG_NAME);
		if (get_str(o->admin_name, sizeof(o->admin_name), admin, "name", "admin", ei) ||
		    get_key(&o->admin, admin, FWC_ALG_BIP340, "admin", ei))
			goto out;
		tmp.n_orgs = 1;
	} else {
		if (!json_is_array(orgs) || json_array_size(orgs) < 1 ||
		    json_array_size(orgs) > NODE_GENESIS_ORGS_MAX) {
			fwc_fail(ei, 0, rc,
			         "\"organisations\" must be an array of 1..%d organisations",
			         NODE_GENESIS_ORGS_MAX);
			goto out;
		}
		tmp.n_orgs = json_array_size(orgs);
		for (size_t i = 0; i < tmp.n_orgs; i++) {
			char where[48];

			snprintf(where, sizeof(where), "organisations[%zu]", i);
			if (parse_org(&tmp.orgs[i], json_array_get(orgs, i), where, ei) != FWC_OK)
				goto out;
			for (size_t j = 0; j < i; j++)
				if (strcmp(tmp.orgs[j].id, tmp.orgs[i].id) == 0 ||
				    fwc_pubkey_equal(&tmp.orgs[j].admin, &tmp.orgs[i].admin)) {
					fwc_fail(ei, 0, rc,
					         "%s repeats the id or admin key of"
					         " organisations[%zu]",
					         where, j);
					goto out;
				}
		}
	}
	*g = tmp;
	rc = FWC_OK;
out:
	json_decref(root);
	return rc;
}

int node_genesis_format(char **out, const struct node_genesis *g)
{
	char key[FWC_PUBKEY_TEXT_MAX];
	json_t *root, *vals, *orgs;
	char *text = NULL;

	if (out == NULL || g == NULL)
		return FWC_ERR_ARG;
	root = json_object();
	vals = json_array();
	orgs = json_array();
	if (root == NULL || vals == NULL || orgs == NULL)
		goto nomem;
	for (size_t i = 0; i < g->n_validators; i++) {
		if (fwc_pubkey_to_text(key, sizeof(key), &g->validators[i].key) != FWC_OK)
			goto arg;
		if (json_array_append_new(
		        vals, json_pack("{s:s, s:s}", "name", g->validators[i].name, "key", key)))
			goto nomem;
	}
	for (size_t i = 0; i < g->n_orgs; i++) {
		const struct node_genesis_org *o = &g->orgs[i];

		if (fwc_pubkey_to_text(key, sizeof(key), &o->admin) != FWC_OK)
			goto arg;
		if (json_array_append_new(orgs, json_pack("{s:s, s:s, s:{s:s, s:s}}", "id", o->id,
		                                          "name", o->name, "admin", "name",
		                                          o->admin_name, "key", key)))
			goto nomem;
	}
	if (json_object_set_new(root, "format", json_string(GENESIS_FORMAT)) ||
	    json_object_set_new(root, "chain_id", json_string(g->chain_id)) ||
	    json_object_set_new(root, "genesis_time", json_integer((json_int_t)g->time)) ||
	    json_object_set(root, "validators", vals) ||
	    json_object_set_new(root, "quorum", json_integer((json_int_t)g->quorum)) ||
	    json_object_set(root, "organisations", orgs))
		goto nomem;
	text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
nomem:
	json_decref(root);
	json_decref(vals);
	json_decref(orgs);
	if (text == NULL)
		return FWC_ERR_NOMEM;
	*out = text;
	return FWC_OK;
arg:
	json_decref(root);
	json_decref(vals);
	json_decref(orgs);
	return FWC_ERR_ARG;
}

/* ---------------------------------------------------------------- files */

int node_datadir_path(char *out, size_t cap, const struct node_datadir *dd, const char *name)
{
	int n = snprintf(out, cap, "%s/%s", dd->dir, name);

	return (n < 0 || (size_t)n >= cap) ? FWC_ERR_BUFSIZE : FWC_OK;
}

static int fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc;

	if (fd < 0)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

/* Write data to path atomically and durably with the given mode. */
static int write_atomic(const char *dir, const char *path, const void *data, size_t len,
                        mode_t mode, struct fwc_errinfo *ei)
{
	char tmp[NODE_PATH_MAX + 8];
	const char *p = data;
	int fd;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	if (fd < 0)
		return fwc_fail(ei, 0, FWC_ERR_IO, "cannot create %s: %s", tmp, strerror(errno));
	while (len) {
		ssize_t w = write(fd, p, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			fwc_fail(ei, 0, FWC_ERR_IO, "cannot write %s: %s", tmp, strerror(errno));
			close(fd);
			unlink(tmp);
			return FWC_ERR_IO;
		}
		p += w;
		len -= (size_t)w;
	}
	if (fsync(fd) != 0 || close(fd) != 0 || rename(tmp, path) != 0 || fsync_dir(dir) != 0) {
		fwc_fail(ei, 0, FWC_ERR_IO, "cannot write %s: %s", path, strerror(errno));
		unlink(tmp);
		return FWC_ERR_IO;
	}
	return FWC_OK;
}

/* Read a whole file of at most max bytes (malloc'd, NUL appended). */
static int read_small(char **out, size_t *outlen, const char *path, size_t max,
                      struct fwc_errinfo *ei)
{
	struct stat st;
	char *buf;
	size_t got = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return fwc_fail(ei, 0, errno == ENOENT ? FWC_ERR_NOT_FOUND : FWC_ERR_IO,
		                "cannot open %s: %s", path, strerror(errno));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (size_t)st.st_size > max) {
		close(fd);
		return fwc_fail(ei, 0, FWC_ERR_MALFORMED,
		                "%s is not a regular file of at most %zu"
		                " bytes",
		                path, max);
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
	buf[got] = '\0';
	*out = buf;
	*outlen = got;
	return FWC_OK;
}

/* ---------------------------------------------------------------- validator key file */

static int vkey_load(struct fwc_seckey *sk, const char *path, struct fwc_errinfo *ei)
{
	struct stat st;
	uint8_t seed[32];
	size_t n = 0, len = 0;
	char *text = NULL;
	int rc;

	if (stat(path, &st) != 0)
		return fwc_fail(ei, 0, FWC_ERR_MALFORMED, "validator key %s is missing: %s", path,
		                strerror(errno));
	if (st.st_mode & 077)
		return fwc_fail(
		    ei, 0, FWC_ERR_PERMISSIONS,
		    "validator key %s is accessible by others (mode %03o); chmod 600 it", path,
		    (unsigned)(st.st_mode & 0777));
	rc = read_small(&text, &len, path, 256, ei);
	if (rc != FWC_OK)
		return rc;
	if (len != strlen(VKEY_PREFIX) + 64 + 1 || strncmp(text, VKEY_PREFIX, 13) != 0 ||
	    text[len - 1] != '\n' ||
	    fwc_hex_decode(seed, sizeof(seed), &n, text + 13, 64) != FWC_OK || n != 32) {
		rc = fwc_fail(ei, 0, FWC_ERR_MALFORMED,
		              "validator key %s: expected one line \"" VKEY_PREFIX "<64 hex>\"",
		              path);
		goto out;
	}
	rc = fwc_key_from_secret(sk, FWC_ALG_ED25519, seed);
	if (rc != FWC_OK)
		fwc_fail(ei, 0, rc, "validator key %s: %s", path, fwc_strerror(rc));
out:
	fwc_wipe(seed, sizeof(seed));
	fwc_wipe(text, len);
	free(text);
	return rc;
}

static int vkey_save(const char *dir, const char *path, const struct fwc_seckey *sk,
                     struct fwc_errinfo *ei)
{
	char line[sizeof(VKEY_PREFIX) + 64 + 2];
	uint8_t seed[32];
	int rc = fwc_key_secret(seed, sk);

	if (rc != FWC_OK)
		return rc;
	memcpy(line, VKEY_PREFIX, 13);
	fwc_hex_encode(line + 13, 65, seed, 32);
	line[13 + 64] = '\n';
	rc = write_atomic(dir, path, line, 13 + 64 + 1, 0600, ei);
	fwc_wipe(seed, sizeof(seed));
	fwc_wipe(line, sizeof(line));
	return rc;
}

/* ---------------------------------------------------------------- the directory */

static int known_debris(const char *name)
{
	static const char *const names[] = {
	    NODE_FILE_LOCK,
	    NODE_FILE_VALIDATOR_KEY,
	    NODE_FILE_ADMIN_KEYSTORE,
	    NODE_FILE_ADMIN_PASS,
	    NODE_FILE_LEDGER,
	    NODE_FILE_LEDGER "-wal",
	    NODE_FILE_LEDGER "-shm",
	    NODE_FILE_GENESIS ".tmp",
	    NODE_FILE_VALIDATOR_KEY ".tmp",
	    NODE_FILE_ADMIN_PASS ".tmp",
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(name, names[i]) == 0)
			return 1;
	return strncmp(name, NODE_FILE_ADMIN_KEYSTORE, strlen(NODE_FILE_ADMIN_KEYSTORE)) == 0;
}

/* No genesis.json: is the directory empty or the debris of an interrupted first start? */
static int check_fresh(struct node_datadir *dd, struct fwc_errinfo *ei)
{
	DIR *d = opendir(dd->dir);
	struct dirent *e;
	char p[NODE_PATH_MAX];
	int rc = FWC_OK;

	if (d == NULL)
		return fwc_fail(ei, 0, FWC_ERR_IO, "cannot read %s: %s", dd->dir, strerror(errno));
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (!known_debris(e->d_name)) {
			rc = fwc_fail(ei, 0, FWC_ERR_STATE,
			              "%s is not empty and has no " NODE_FILE_GENESIS
			              " (found '%.64s'): not an fwchaind data directory;"
			              " give a new or empty directory",
			              dd->dir, e->d_name);
			break;
		}
	}
	closedir(d);
	if (rc != FWC_OK)
		return rc;
	/* A ledger with a block in it was made by a node that had a genesis: never discard it. */
	if (node_datadir_path(p, sizeof(p), dd, NODE_FILE_LEDGER) == FWC_OK &&
	    access(p, F_OK) == 0) {
		struct node_db *db = NULL;
		struct node_db_block head = {0};
		struct fwc_errinfo dei = {0};
		int hrc = FWC_ERR_IO;

		if (node_db_open(&db, p, 0, &dei) == FWC_OK)
			hrc = node_db_head(db, &head);
		node_db_block_cleanup(&head);
		node_db_close(db);
		if (hrc != FWC_ERR_NOT_FOUND)
			return fwc_fail(ei, 0, FWC_ERR_STATE,
			                "%s has a ledger but no " NODE_FILE_GENESIS
			                ": the data directory is damaged (restore genesis.json"
			                " from a backup)",
			                dd->dir);
	}
	return FWC_OK;
}

static void remove_debris(struct node_datadir *dd)
{
	static const char *const names[] = {
	    NODE_FILE_VALIDATOR_KEY,  NODE_FILE_ADMIN_KEYSTORE, NODE_FILE_ADMIN_PASS,
	    NODE_FILE_LEDGER,         NODE_FILE_LEDGER "-wal",  NODE_FILE_LEDGER "-shm",
	    NODE_FILE_GENESIS ".tmp",
	};
	char p[NODE_PATH_MAX];

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (node_datadir_path(p, sizeof(p), dd, names[i]) == FWC_OK)
			unlink(p);
}

static int random_hex(char *out, size_t nbytes)
{
	uint8_t b[32];

	if (nbytes > sizeof(b) || getrandom(b, nbytes, 0) != (ssize_t)nbytes)
		return FWC_ERR_IO;
	fwc_hex_encode(out, nbytes * 2 + 1, b, nbytes);
	fwc_wipe(b, sizeof(b));
	return FWC_OK;
}

static int create_genesis(struct node_datadir *dd, struct fwc_errinfo *ei)
{
	struct node_genesis *g = &dd->genesis;
	struct fwc_seckey admin_sk;
	struct node_db *db = NULL;
	char p[NODE_PATH_MAX], pass[65], hex8[9], *json = NULL;
	const char *env = getenv("FWCHAIN_PASSPHRASE");
	size_t passlen;
	int rc;

	memset(&admin_sk, 0, sizeof(admin_sk));
	remove_debris(dd);
	memset(g, 0, sizeof(*g));
	rc = random_hex(hex8, 4);
	if (rc != FWC_OK) {
		fwc_fail(ei, 0, rc, "no randomness from the OS");
		goto out;
	}
	snprintf(g->chain_id, sizeof(g->chain_id), "fwchain-dev-%s", hex8);
	g->n_validators = 1;
	snprintf(g->validators[0].name, sizeof(g->validators[0].name), "%.40s/validator-0",
	         g->chain_id);
	g->n_orgs = 1;
	snprintf(g->orgs[0].id, sizeof(g->orgs[0].id), "%s", NODE_ROOT_ORG_ID);
	snprintf(g->orgs[0].name, sizeof(g->orgs[0].name), "%s", NODE_ROOT_ORG_NAME);
	snprintf(g->orgs[0].admin_name, sizeof(g->orgs[0].admin_name), "dev-admin");
	g->time = (int64_t)time(NULL);
	g->quorum = 1;
	rc = fwc_key_generate(&dd->validator_sk, FWC_ALG_ED25519);
	if (rc == FWC_OK)
		rc = fwc_key_public(&g->validators[0].key, &dd->validator_sk);
	if (rc == FWC_OK)
		rc = fwc_key_generate(&admin_sk, FWC_ALG_BIP340);
	if (rc == FWC_OK)
		rc = fwc_key_public(&g->orgs[0].admin, &admin_sk);
	if (rc != FWC_OK) {
		fwc_fail(ei, 0, rc, "key generation failed: %s", fwc_strerror(rc));
		goto out;
	}
	if ((rc = node_datadir_path(p, sizeof(p), dd, NODE_FILE_VALIDATOR_KEY)) != FWC_OK ||
	    (rc = vkey_save(dd->dir, p, &dd->validator_sk, ei)) != FWC_OK)
		goto out;

	/* The admin keystore's passphrase: the operator's, or a generated one kept beside it. */
	if (env && *env) {
		passlen = strlen(env);
		if (passlen >= sizeof(pass)) {
			rc = fwc_fail(ei, 0, FWC_ERR_RANGE,
			              "FWCHAIN_PASSPHRASE longer than %zu bytes", sizeof(pass) - 1);
			goto out;
		}
		memcpy(pass, env, passlen + 1);
		dd->admin_pass[0] = '\0';
	} else {
		rc = random_hex(pass, 16);
		if (rc != FWC_OK)
			goto out;
		passlen = 32;
		pass[32] = '\n';
		if ((rc = node_datadir_path(dd->admin_pass, sizeof(dd->admin_pass), dd,
		                            NODE_FILE_ADMIN_PASS)) != FWC_OK ||
		    (rc = write_atomic(dd->dir, dd->admin_pass, pass, 33, 0600, ei)) != FWC_OK)
			goto out;
		pass[32] = '\0';
	}
	if ((rc = node_datadir_path(dd->admin_keystore, sizeof(dd->admin_keystore), dd,
	                            NODE_FILE_ADMIN_KEYSTORE)) != FWC_OK ||
	    (rc = node_keystore_save(dd->admin_keystore, &admin_sk, pass, passlen, ei)) != FWC_OK)
		goto out;

	/* An empty ledger that already knows its chain, then the commit point. */
	if ((rc = node_datadir_path(p, sizeof(p), dd, NODE_FILE_LEDGER)) != FWC_OK ||
	    (rc = node_db_open(&db, p, 1, ei)) != FWC_OK)
		goto out;
	rc = node_db_meta_put(db, "chain_id", g->chain_id, strlen(g->chain_id));
	if (rc != FWC_OK) {
		fwc_fail(ei, 0, rc, "cannot write %s", p);
		goto out;
	}
	if ((rc = node_genesis_format(&json, g)) != FWC_OK ||
	    (rc = node_datadir_path(p, sizeof(p), dd, NODE_FILE_GENESIS)) != FWC_OK ||
	    (rc = write_atomic(dd->dir, p, json, strlen(json), 0644, ei)) != FWC_OK)
		goto out;
	dd->created = 1;
out:
	node_db_close(db);
	free(json);
	fwc_wipe(pass, sizeof(pass));
	fwc_seckey_wipe(&admin_sk);
	return rc;
}

static int load_genesis(struct node_datadir *dd, struct fwc_errinfo *ei)
{
	struct fwc_errinfo gei = {0};
	struct fwc_pubkey pk;
	char p[NODE_PATH_MAX], *json = NULL;
	size_t len = 0;
	int rc;

	if ((rc = node_datadir_path(p, sizeof(p), dd, NODE_FILE_GENESIS)) != FWC_OK ||
	    (rc = read_small(&json, &len, p, GENESIS_MAX, ei)) != FWC_OK)
		return rc;
	rc = node_genesis_parse(&dd->genesis, json, len, &gei);
	free(json);
	if (rc != FWC_OK)
		return fwc_fail(ei, 0, rc, "%s: %s", p, gei.msg);
	if ((rc = node_datadir_path(p, sizeof(p), dd, NODE_FILE_LEDGER)) != FWC_OK)
		return rc;
	if (access(p, F_OK) != 0)
		return fwc_fail(ei, 0, FWC_ERR_STATE,
		                "%s is missing although %s has a genesis: the data directory is"
		                " damaged",
		                p, dd->dir);
	if ((rc = node_datadir_path(p, sizeof(p), dd, NODE_FILE_VALIDATOR_KEY)) != FWC_OK ||
	    (rc = vkey_load(&dd->validator_sk, p, ei)) != FWC_OK)
		return rc;
	rc = fwc_key_public(&pk, &dd->validator_sk);
	if (rc != FWC_OK || dd->genesis.n_validators != 1 ||
	    !fwc_pubkey_equal(&pk, &dd->genesis.validators[0].key))
		return fwc_fail(ei, 0, FWC_ERR_STATE,
		                "%s does not hold the key of the genesis validator", p);
	dd->validator_index = 0;
	node_datadir_path(dd->admin_keystore, sizeof(dd->admin_keystore), dd,
	                  NODE_FILE_ADMIN_KEYSTORE);
	node_datadir_path(p, sizeof(p), dd, NODE_FILE_ADMIN_PASS);
	snprintf(dd->admin_pass, sizeof(dd->admin_pass), "%s", access(p, F_OK) == 0 ? p : "");
	return FWC_OK;
}

/* Create dir when missing, and lock it. */
static int dir_lock(struct node_datadir *dd, const char *dir, struct fwc_errinfo *ei)
{
	struct stat st;
	char p[NODE_PATH_MAX];
	int rc;

	memset(dd, 0, sizeof(*dd));
	dd->lock_fd = -1;
	if (strlen(dir) >= sizeof(dd->dir) - 32)
		return fwc_fail(ei, 0, FWC_ERR_RANGE, "data directory path too long");
	snprintf(dd->dir, sizeof(dd->dir), "%s", dir);
	if (stat(dir, &st) != 0) {
		if (errno != ENOENT || mkdir(dir, 0700) != 0)
			return fwc_fail(ei, 0, FWC_ERR_IO, "cannot create data directory %s: %s",
			                dir, strerror(errno));
	} else if (!S_ISDIR(st.st_mode)) {
		return fwc_fail(ei, 0, FWC_ERR_STATE, "%s exists and is not a directory", dir);
	}
	if ((rc = node_datadir_path(p, sizeof(p), dd, NODE_FILE_LOCK)) != FWC_OK)
		return rc;
	dd->lock_fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (dd->lock_fd < 0)
		return fwc_fail(ei, 0, FWC_ERR_IO, "cannot open %s: %s", p, strerror(errno));
	if (flock(dd->lock_fd, LOCK_EX | LOCK_NB) != 0)
		return fwc_fail(ei, 0, FWC_ERR_STATE,
		                errno == EWOULDBLOCK
		                    ? "data directory %s is in use by another fwchaind"
		                    : "cannot lock data directory %s",
		                dir);
	return FWC_OK;
}

int node_datadir_open(struct node_datadir *dd, const char *dir, struct fwc_errinfo *ei)
{
	char p[NODE_PATH_MAX];
	int rc;

	if (dd == NULL || dir == NULL || *dir == '\0')
		return FWC_ERR_ARG;
	if ((rc = dir_lock(dd, dir, ei)) != FWC_OK)
		goto fail;
	if ((rc = node_datadir_path(p, sizeof(p), dd, NODE_FILE_GENESIS)) != FWC_OK)
		goto fail;
	if (access(p, F_OK) == 0) {
		rc = load_genesis(dd, ei);
	} else {
		rc = check_fresh(dd, ei);
		if (rc == FWC_OK)
			rc = create_genesis(dd, ei);
	}
	if (rc != FWC_OK)
		goto fail;
	return FWC_OK;
fail:
	node_datadir_cleanup(dd);
	return rc;
}

/* Read and parse a genesis file; messages name the file. */
static int genesis_read(struct node_genesis *g, const char *path, struct fwc_errinfo *ei)
{
	struct fwc_errinfo gei = {0};
	char *json = NULL;
	size_t len = 0;
	int rc = read_small(&json, &len, path, GENESIS_MAX, ei);

	if (rc != FWC_OK)
		return rc;
	rc = node_genesis_parse(g, json, len, &gei);
	free(json);
	if (rc != FWC_OK)
		return fwc_fail(ei, 0, rc, "%s: %s", path, gei.msg);
	return FWC_OK;
}

int node_datadir_open_genesis(struct node_datadir *dd, const char *dir, const char *genesis_path,
                              const char *vkey_path, struct fwc_errinfo *ei)
{
	struct node_genesis stored;
	struct node_db *db = NULL;
	struct fwc_pubkey pk;
	char p[NODE_PATH_MAX], *want = NULL, *have = NULL;
	size_t i;
	int rc;

	if (dd == NULL || dir == NULL || *dir == '\0' || genesis_path == NULL || vkey_path == NULL)
		return FWC_ERR_ARG;
	if ((rc = dir_lock(dd, dir, ei)) != FWC_OK)
		goto out;
	if ((rc = genesis_read(&dd->genesis, genesis_path, ei)) != FWC_OK)
		goto out;
	if ((rc = vkey_load(&dd->validator_sk, vkey_path, ei)) != FWC_OK)
		goto out;
	rc = fwc_key_public(&pk, &dd->validator_sk);
	for (i = 0; rc == FWC_OK && i < dd->genesis.n_validators; i++)
		if (fwc_pubkey_equal(&pk, &dd->genesis.validators[i].key))
			break;
	if (rc != FWC_OK || i == dd->genesis.n_validators) {
		rc = fwc_fail(ei, 0, FWC_ERR_STATE,
		              "validator key %s is not the key of any validator of genesis %s",
		              vkey_path, genesis_path);
		goto out;
	}
	dd->validator_index = i;
	if ((rc = node_genesis_format(&want, &dd->genesis)) != FWC_OK ||
	    (rc = node_datadir_path(p, sizeof(p), dd, NODE_FILE_GENESIS)) != FWC_OK)
		goto out;
	if (access(p, F_OK) == 0) {
		/* A later start: the directory's genesis must be this one. */
		if ((rc = genesis_read(&stored, p, ei)) != FWC_OK)
			goto out;
		if (strcmp(stored.chain_id, dd->genesis.chain_id) != 0) {
			rc = fwc_fail(ei, 0, FWC_ERR_STATE,
			              "genesis %s is for chain '%s' but data directory %s holds"
			              " chain '%s'",
			              genesis_path, dd->genesis.chain_id, dd->dir, stored.chain_id);
			goto out;
		}
		if ((rc = node_genesis_format(&have, &stored)) != FWC_OK)
			goto out;
		if (strcmp(have, want) != 0) {
			rc = fwc_fail(ei, 0, FWC_ERR_STATE,
			              "genesis %s differs from the genesis data directory %s was"
			              " made with (%s), although both name chain '%s'",
			              genesis_path, dd->dir, p, stored.chain_id);
			goto out;
		}
		if ((rc = node_datadir_path(p, sizeof(p), dd, NODE_FILE_LEDGER)) != FWC_OK)
			goto out;
		if (access(p, F_OK) != 0) {
			rc = fwc_fail(ei, 0, FWC_ERR_STATE,
			              "%s is missing although %s has a genesis: the data directory"
			              " is damaged",
			              p, dd->dir);
			goto out;
		}
		goto out;
	}
	/* First start: an empty ledger that knows its chain, then the genesis copy (the commit
	 * point, as for dev directories). */
	if ((rc = check_fresh(dd, ei)) != FWC_OK)
		goto out;
	if ((rc = node_datadir_path(p, sizeof(p), dd, NODE_FILE_LEDGER)) != FWC_OK)
		goto out;
	unlink(p);
	if ((rc = node_db_open(&db, p, 1, ei)) != FWC_OK)
		goto out;
	if (node_db_meta_put(db, "chain_id", dd->genesis.chain_id, strlen(dd->genesis.chain_id)) !=
	    FWC_OK) {
		rc = fwc_fail(ei, 0, FWC_ERR_IO, "cannot write %s", p);
		goto out;
	}
	node_db_close(db);
	db = NULL;
	if ((rc = node_datadir_path(p, sizeof(p), dd, NODE_FILE_GENESIS)) != FWC_OK ||
	    (rc = write_atomic(dd->dir, p, want, strlen(want), 0644, ei)) != FWC_OK)
		goto out;
	dd->created = 1;
out:
	node_db_close(db);
	free(want);
	free(have);
	if (rc != FWC_OK)
		node_datadir_cleanup(dd);
	return rc;
}

void node_datadir_cleanup(struct node_datadir *dd)
{
	if (dd == NULL)
		return;
	fwc_seckey_wipe(&dd->validator_sk);
	if (dd->lock_fd >= 0)
		close(dd->lock_fd);
	dd->lock_fd = -1;
}
