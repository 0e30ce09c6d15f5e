/* fwchain content: add files to a node's content store, get them back verified through
 * trustless gateways, and manage pins and garbage collection (docs/cli.md, "content").
 *
 * `content add` computes the file's UnixFS DAG locally first (the CID `ipfs add` would print,
 * and the flat SHA-256), signs the upload request over that SHA-256
 * (docs/formats/content-auth.md), streams the file from disk and requires the node's answer to
 * name the same CID: the node is not trusted to have computed it. `content get` trusts no
 * gateway either: it fetches every block as a raw block (?format=raw), checks it against the
 * CID that named it, and reassembles the file with lib/dag.c, which checks the UnixFS
 * structure again. It writes FILE.part plus FILE.part.state (one line per leaf written: offset,
 * length, digest), so an interrupted download resumes after the last leaf whose bytes still
 * hash right, and only a complete, verified file is renamed to FILE. A block that one gateway
 * gets wrong is asked of the next --from. */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "client.h"
#include "commands.h"
#include "txsend.h"
#include "fwchain/dag.h"
#include "fwchain/dagpb.h"
#include "fwchain/hex.h"
#include "fwchain/reqsig.h"
#include "fwchain/sha256.h"
#include "fwchain/unixfs.h"
#include "util.h"

enum {
	O_HELP = 1,
	O_NODE,
	O_TIMEOUT,
	O_JSON,
	O_KEY,
	O_PASSFILE,
	O_CIDV,
	O_CAR,
	O_OUT,
	O_FROM,
	O_MAX_SIZE,
	O_ORIGIN,
	O_GRACE,
};

#define FROM_MAX 8
#define GET_MIN_RATE 4096 /* bytes/s: a block transfer slower than this for GET_LOW_SPEED_S */
#define GET_LOW_SPEED_S 5 /* seconds is abandoned for the next source */
#define STATE_LINE_MAX 128

static const char content_help[] =
    "usage: fwchain content add FILE [--cid-version 0|1] [--car] --key KEYSTORE [options]\n"
    "       fwchain content get CID -o FILE [--from URL]... [--max-size BYTES] [options]\n"
    "       fwchain content pin CID --key KEYSTORE [options]\n"
    "       fwchain content unpin CID [--origin ORIGIN] --key KEYSTORE [options]\n"
    "       fwchain content ls [options]\n"
    "       fwchain content gc [--grace SECONDS] --key KEYSTORE [options]\n"
    "       fwchain content status CID [options]\n"
    "\n"
    "add     compute FILE's CID locally (as `ipfs add`), upload it (signed), and check the\n"
    "        node's CID is the same; --car uploads FILE as a CAR of a DAG instead\n"
    "get     download CID through trustless gateways (--from, default the node), checking\n"
    "        every block; writes FILE.part (resumable) and renames it to FILE when complete\n"
    "pin     keep CID on the node (fetched from its peers when it does not hold it yet)\n"
    "unpin   drop the node's operator/upload/replica pins of CID (or only --origin's)\n"
    "ls      list the node's pins and wanted DAGs\n"
    "gc      delete blocks no pin reaches (older than --grace seconds, default 600)\n"
    "status  whether the node and its peers hold CID complete\n"
    "\n"
    "Options:\n"
    "  --key KEYSTORE          the signer: a ledger member with the operator role (add: or\n"
    "                          release); on a --dev node the genesis admin\n"
    "  --passphrase-file FILE  passphrase source (else FWCHAIN_PASSPHRASE, else a prompt)\n"
    "  --node URL              the node (default $FWCHAIN_NODE, else " CLI_NODE_DEFAULT ")\n"
    "  --timeout SECONDS       per request (default 30; add: an upload aborts when slower\n"
    "                          than 1 KiB/s for that long)\n"
    "  --json                  print the node's JSON answer\n"
    "\n"
    "A progress bar (bytes, rate, time left) is drawn on stderr when it is a terminal.\n";

/* ---------------------------------------------------------------------------------------- */
/* Progress                                                                                 */

struct progress {
	int on;
	double t0, last;
	const char *what;
};

static double mono_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void progress_init(struct progress *p, const char *what)
{
	p->on = isatty(STDERR_FILENO);
	p->t0 = p->last = mono_s();
	p->what = what;
}

static void human(char *out, size_t cap, double bytes)
{
	const char *u[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	int i = 0;

	while (bytes >= 1024 && i < 4) {
		bytes /= 1024;
		i++;
	}
	snprintf(out, cap, i ? "%.1f %s" : "%.0f %s", bytes, u[i]);
}

static void progress_show(struct progress *p, uint64_t done, uint64_t total, int final)
{
	double now = mono_s(), el, rate;
	char a[32], b[32], r[32], eta[32] = "";
	int pct, w = 24, fill;

	if (!p->on || (!final && now - p->last < 0.1))
		return;
	p->last = now;
	el = now - p->t0;
	rate = el > 0 ? (double)done / el : 0;
	human(a, sizeof(a), (double)done);
	human(b, sizeof(b), (double)total);
	human(r, sizeof(r), rate);
	pct = total ? (int)(100.0 * (double)done / (double)total) : 0;
	if (pct > 100)
		pct = 100;
	fill = pct * w / 100;
	if (total && rate > 0 && done < total)
		snprintf(eta, sizeof(eta), " ETA %.0fs", (double)(total - done) / rate);
	fprintf(stderr, "\r%s [%.*s%*s] %3d%% %s / %s %s/s%s\033[K", p->what, fill,
	        "########################", w - fill, "", pct, a, b, r, eta);
	if (final)
		fputc('\n', stderr);
}

/* ---------------------------------------------------------------------------------------- */
/* Requests                                                                                 */

struct sink {
	char *p;
	size_t len, cap, max;
	int too_large;
};

static size_t sink_write(char *d, size_t s, size_t n, void *ctx)
{
	struct sink *k = ctx;
	size_t len = s * n;

	if (len > k->max - k->len) {
		k->too_large = 1;
		return 0;
	}
	if (k->len + len + 1 > k->cap) {
		size_t cap = k->cap ? k->cap : 4096;
		char *np;

		while (cap < k->len + len + 1)
			cap *= 2;
		np = realloc(k->p, cap);
		if (np == NULL)
			return 0;
		k->p = np;
		k->cap = cap;
	}
	memcpy(k->p + k->len, d, len);
	k->len += len;
	k->p[k->len] = '\0';
	return len;
}

/* The four signature headers for METHOD target with a body of SHA-256 sha. */
static int sign_headers(const char *cmd, struct curl_slist **h, const struct fwc_seckey *sk,
                        const char *chain, const char *method, const char *target,
                        const uint8_t sha[32])
{
	struct fwc_pubkey pk;
	struct fwc_errinfo ei = {0};
	uint8_t d[32], sig[FWC_SIG_LEN];
	char key[FWC_PUBKEY_TEXT_MAX], hex[129], line[320];
	int64_t t = (int64_t)time(NULL);
	int rc;

	if ((rc = fwc_key_public(&pk, sk)) < 0 ||
	    (rc = fwc_pubkey_to_text(key, sizeof(key), &pk)) < 0)
		return cli_err_rc(cmd, rc, NULL, "the signing key");
	if ((rc = fwc_reqsig_digest(d, chain, method, target, t, sha, &ei)) < 0 ||
	    (rc = fwc_reqsig_sign(sig, sk, d)) < 0)
		return cli_err_rc(cmd, rc, &ei, "signing the request");
	snprintf(line, sizeof(line), "%s: %s", FWC_REQSIG_HDR_KEY, key);
	*h = curl_slist_append(*h, line);
	snprintf(line, sizeof(line), "%s: %lld", FWC_REQSIG_HDR_TIME, (long long)t);
	*h = curl_slist_append(*h, line);
	fwc_hex_encode(hex, sizeof(hex), sha, 32);
	snprintf(line, sizeof(line), "%s: %s", FWC_REQSIG_HDR_SHA256, hex);
	*h = curl_slist_append(*h, line);
	fwc_hex_encode(hex, sizeof(hex), sig, FWC_SIG_LEN);
	snprintf(line, sizeof(line), "%s: %s", FWC_REQSIG_HDR_SIG, hex);
	*h = curl_slist_append(*h, line);
	return *h ? 0 : cli_err(cmd, "out of memory");
}

/* Turn an answer into a JSON object (2xx) or the tool's one-line error. */
static int answer_json(const char *cmd, const char *method, const char *target, long status,
                       struct sink *s, json_t **out)
{
	json_t *j = s->p ? json_loadb(s->p, s->len, 0, NULL) : NULL;

	if (status < 200 || status > 299) {
		const char *code = j ? cli_json_string(j, "code") : NULL;
		const char *msg = j ? cli_json_string(j, "message") : NULL;

		if (code)
			cli_err(cmd, "%s %s: node answered %ld %.64s: %.300s", method, target,
			        status, code, msg ? msg : "(no message)");
		else
			cli_err(cmd, "%s %s: node answered HTTP %ld", method, target, status);
		json_decref(j);
		return CLI_EXIT_ERROR;
	}
	if (j == NULL || !json_is_object(j)) {
		json_decref(j);
		return cli_err(cmd, "%s %s: the node's answer is not a JSON object", method,
		               target);
	}
	*out = j;
	return 0;
}

static void easy_common(CURL *e, const char *url, char *errbuf, long timeout_ms)
{
	curl_easy_reset(e);
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(e, CURLOPT_NOPROXY, "127.0.0.1,localhost,::1");
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)CLI_NODE_CONNECT_TIMEOUT_MS);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "fwchain-cli/0.1");
	if (timeout_ms > 0)
		curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, timeout_ms);
}

/* A signed request with a small body (pin, unpin, gc). */
static int signed_json(const char *cmd, struct cli_node *n, const struct fwc_seckey *sk,
                       const char *chain, const char *method, const char *target, json_t **out)
{
	struct curl_slist *h = NULL;
	struct sink s = {NULL, 0, 0, CLI_NODE_RESPONSE_MAX, 0};
	char url[CLI_NODE_URL_MAX + 512], errbuf[CURL_ERROR_SIZE] = "";
	uint8_t sha[32];
	long status = 0;
	CURLcode cc;
	int rc;

	fwc_sha256(sha, "", 0);
	if (sign_headers(cmd, &h, sk, chain, method, target, sha) != 0)
		return CLI_EXIT_ERROR;
	snprintf(url, sizeof(url), "%s%s", n->url, target);
	easy_common(n->curl, url, errbuf, n->timeout_ms);
	h = curl_slist_append(h, "Expect:");
	curl_easy_setopt(n->curl, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(n->curl, CURLOPT_WRITEFUNCTION, sink_write);
	curl_easy_setopt(n->curl, CURLOPT_WRITEDATA, &s);
	if (strcmp(method, "POST") == 0) {
		curl_easy_setopt(n->curl, CURLOPT_POST, 1L);
		curl_easy_setopt(n->curl, CURLOPT_POSTFIELDS, "");
		curl_easy_setopt(n->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)0);
	} else {
		curl_easy_setopt(n->curl, CURLOPT_CUSTOMREQUEST, method);
	}
	cc = curl_easy_perform(n->curl);
	curl_slist_free_all(h);
	curl_easy_getinfo(n->curl, CURLINFO_RESPONSE_CODE, &status);
	if (cc != CURLE_OK)
		rc = cli_err(cmd, "%s %s: %s", method, url,
		             errbuf[0] ? errbuf : curl_easy_strerror(cc));
	else
		rc = answer_json(cmd, method, target, status, &s, out);
	free(s.p);
	return rc;
}

struct upload_src {
	int fd;
	uint64_t sent, size;
	struct progress pr;
	int read_error;
	struct fwc_unixfs_importer *ux; /* the local CID, computed as the bytes go out */
	int ux_error;
};

static size_t upload_read(char *buf, size_t size, size_t nitems, void *ctx)
{
	struct upload_src *u = ctx;
	ssize_t r;

	do
		r = read(u->fd, buf, size * nitems);
	while (r < 0 && errno == EINTR);
	if (r < 0) {
		u->read_error = errno;
		return CURL_READFUNC_ABORT;
	}
	if (u->ux != NULL && r > 0) {
		int rc = fwc_unixfs_importer_feed(u->ux, buf, (size_t)r);

		if (rc < 0) {
			u->ux_error = rc;
			return CURL_READFUNC_ABORT;
		}
	}
	u->sent += (uint64_t)r;
	return (size_t)r;
}

static int upload_progress(void *ctx, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
	struct upload_src *u = ctx;

	(void)dt;
	(void)dn;
	(void)ut;
	progress_show(&u->pr, (uint64_t)un, u->size, 0);
	return 0;
}

/* "replication": where the DAG should be (placement) and where it is. */
static void print_placement(json_t *r)
{
	json_t *f = json_object_get(r, "factor"), *e;
	size_t i;

	if (!json_is_object(r))
		return;
	if (json_is_integer(f))
		printf("replication factor %lld; should be on:", (long long)json_integer_value(f));
	else
		printf("replication factor all; should be on:");
	if (!json_is_array(json_object_get(r, "should_hold")))
		printf(" (unknown: the node does not know its own URL yet)");
	json_array_foreach(json_object_get(r, "should_hold"), i, e)
	    printf(" %s", json_string_value(e) ? json_string_value(e) : "?");
	printf("\nis on:");
	json_array_foreach(json_object_get(r, "holds"), i, e)
	    printf(" %s", json_string_value(e) ? json_string_value(e) : "?");
	printf("%s\n", json_array_size(json_object_get(r, "holds")) ? "" : " (no node)");
}

/* The SHA-256 of a file's bytes (the upload's signed body hash), on a thread of its own so
 * that `content add` hashes while the keystore is being unlocked (Argon2id, ~0.2 s). */
struct prehash {
	const char *file;
	uint8_t sha[32];
	int err; /* errno, or -1 out of memory */
	pthread_t t;
	int started;
};

static void *prehash_main(void *arg)
{
	struct prehash *ph = arg;
	struct fwc_sha256 hs;
	uint8_t *buf = malloc(1u << 20);
	int fd = open(ph->file, O_RDONLY | O_CLOEXEC);
	ssize_t r = 0;

	if (fd < 0 || buf == NULL) {
		ph->err = fd < 0 ? errno : -1;
		free(buf);
		if (fd >= 0)
			close(fd);
		return NULL;
	}
#ifdef POSIX_FADV_SEQUENTIAL
	(void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
#endif
	fwc_sha256_init(&hs);
	while ((r = read(fd, buf, 1u << 20)) > 0 || (r < 0 && errno == EINTR))
		if (r > 0)
			fwc_sha256_update(&hs, buf, (size_t)r);
	if (r < 0)
		ph->err = errno;
	fwc_sha256_final(&hs, ph->sha);
	fwc_sha256_cleanup(&hs);
	close(fd);
	free(buf);
	return NULL;
}

static void prehash_start(struct prehash *ph, const char *file)
{
	memset(ph, 0, sizeof(*ph));
	ph->file = file;
	ph->started = pthread_create(&ph->t, NULL, prehash_main, ph) == 0;
}

/* The hash, joining the thread (or computing it here when it could not start). */
static int prehash_finish(const char *cmd, struct prehash *ph, uint8_t sha[32])
{
	if (ph->started) {
		pthread_join(ph->t, NULL);
		ph->started = 0;
	} else {
		prehash_main(ph);
	}
	if (ph->err != 0)
		return cli_err(cmd, "cannot open %s: %s", ph->file,
		               ph->err < 0 ? "out of memory" : strerror(ph->err));
	memcpy(sha, ph->sha, 32);
	return 0;
}

static int upload_file(const char *cmd, struct cli_node *n, const struct fwc_seckey *sk,
                       const char *file, unsigned cid_version, int car,
                       const struct fwc_cid *expect, struct prehash *ph, struct fwc_cid *cid,
                       struct json_t **answer);

int cli_content_upload(const char *cmd, struct cli_node *n, const struct fwc_seckey *sk,
                       const char *file, unsigned cid_version, int car,
                       const struct fwc_cid *expect, struct fwc_cid *cid, struct json_t **answer)
{
	return upload_file(cmd, n, sk, file, cid_version, car, expect, NULL, cid, answer);
}

/* ph: the body's hash, started by the caller (NULL: computed here). */
static int upload_file(const char *cmd, struct cli_node *n, const struct fwc_seckey *sk,
                       const char *file, unsigned cid_version, int car,
                       const struct fwc_cid *expect, struct prehash *ph, struct fwc_cid *cid,
                       struct json_t **answer)
{
	struct fwc_unixfs_result ux;
	struct upload_src u;
	struct curl_slist *h = NULL;
	struct sink s = {NULL, 0, 0, CLI_NODE_RESPONSE_MAX, 0};
	struct stat st;
	char chain[128], target[64], url[CLI_NODE_URL_MAX + 64], errbuf[CURL_ERROR_SIZE] = "";
	char want[FWC_CID_STR_MAX];
	const char *got;
	uint8_t sha[32];
	json_t *j = NULL;
	long status = 0;
	CURLcode cc;
	int rc = CLI_EXIT_ERROR;

	memset(&u, 0, sizeof(u));
	u.fd = -1;
	if (car || expect == NULL) {
		/* The body's hash first (the request's signature covers it). A CAR's DAG is
		 * whatever it holds: the node names the root. A file's CID is computed while it
		 * is sent (upload_read), which overlaps the leaf hashing with the node's work
		 * instead of adding a second pass before the upload. */
		struct prehash own;

		if (ph == NULL) {
			prehash_start(&own, file);
			ph = &own;
		}
		if (prehash_finish(cmd, ph, sha) != 0)
			return CLI_EXIT_ERROR;
		if (!car) {
			struct fwc_unixfs_options uo;
			int lrc;

			fwc_unixfs_options_default(&uo, cid_version);
			if ((lrc = fwc_unixfs_importer_new(&u.ux, &uo, NULL)) < 0)
				return cli_err_rc(cmd, lrc, NULL, "starting the UnixFS importer");
		}
	} else {
		/* release publish --image: the image must be the manifest's before anything is
		 * sent, so its CID is computed first. */
		if (cli_image_import(cmd, &ux, file, cid_version) != 0)
			return CLI_EXIT_ERROR;
		memcpy(sha, ux.sha256, 32);
		fwc_cid_format(want, sizeof(want), &ux.root);
		if (!fwc_cid_equal(expect, &ux.root)) {
			char et[FWC_CID_STR_MAX];

			fwc_cid_format(et, sizeof(et), expect);
			cli_err(cmd,
			        "%s is %s, not the manifest's %s: is it the image the manifest "
			        "was made from?",
			        file, want, et);
			return CLI_EXIT_FAIL;
		}
	}
	if (cli_node_chain_id(n, chain, sizeof(chain)) != 0)
		return CLI_EXIT_ERROR;
	snprintf(target, sizeof(target),
	         car ? "/v1/content?format=car" : "/v1/content?cid-version=%u", cid_version);
	if (sign_headers(cmd, &h, sk, chain, "POST", target, sha) != 0)
		goto out;
	u.fd = open(file, O_RDONLY | O_CLOEXEC);
	if (u.fd < 0 || fstat(u.fd, &st) != 0) {
		cli_err(cmd, "cannot open %s: %s", file, strerror(errno));
		goto out;
	}
	u.size = (uint64_t)st.st_size;
	progress_init(&u.pr, "upload");
	h = curl_slist_append(h, car ? "Content-Type: application/vnd.ipld.car"
	                             : "Content-Type: application/octet-stream");
	snprintf(url, sizeof(url), "%s%s", n->url, target);
	easy_common(n->curl, url, errbuf, 0);
	curl_easy_setopt(n->curl, CURLOPT_LOW_SPEED_LIMIT, 1024L);
	curl_easy_setopt(n->curl, CURLOPT_LOW_SPEED_TIME, n->timeout_ms / 1000);
	curl_easy_setopt(n->curl, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(n->curl, CURLOPT_POST, 1L);
	curl_easy_setopt(n->curl, CURLOPT_READFUNCTION, upload_read);
	curl_easy_setopt(n->curl, CURLOPT_READDATA, &u);
	curl_easy_setopt(n->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)u.size);
	/* Fewer, larger reads and sends than the 64 KiB default. */
	curl_easy_setopt(n->curl, CURLOPT_UPLOAD_BUFFERSIZE, 512L * 1024L);
	curl_easy_setopt(n->curl, CURLOPT_WRITEFUNCTION, sink_write);
	curl_easy_setopt(n->curl, CURLOPT_WRITEDATA, &s);
	curl_easy_setopt(n->curl, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(n->curl, CURLOPT_XFERINFOFUNCTION, upload_progress);
	curl_easy_setopt(n->curl, CURLOPT_XFERINFODATA, &u);
	cc = curl_easy_perform(n->curl);
	curl_easy_getinfo(n->curl, CURLINFO_RESPONSE_CODE, &status);
	if (cc == CURLE_OK)
		progress_show(&u.pr, u.sent, u.size, 1);
	else if (u.pr.on)
		fputc('\n', stderr);
	if (u.read_error) {
		cli_err(cmd, "cannot read %s: %s", file, strerror(u.read_error));
		goto out;
	}
	if (u.ux_error) {
		cli_err_rc(cmd, u.ux_error, NULL, "importing %s", file);
		goto out;
	}
	/* A refusal can arrive before the whole body was sent; its answer still says why. */
	if (cc != CURLE_OK && !(status >= 400 && s.len > 0)) {
		cli_err(cmd, "POST %s: %s", url, errbuf[0] ? errbuf : curl_easy_strerror(cc));
		goto out;
	}
	if (answer_json(cmd, "POST", target, status, &s, &j) != 0)
		goto out;
	got = cli_json_string(j, "cid");
	if (got == NULL || fwc_cid_parse(cid, got, strlen(got), NULL) != FWC_OK) {
		cli_err(cmd, "the node's answer names no CID");
		goto out;
	}
	if (u.ux != NULL) {
		int lrc;

		if (u.sent != u.size) {
			cli_err(cmd, "%s changed size while it was uploaded", file);
			goto out;
		}
		if ((lrc = fwc_unixfs_importer_finish(u.ux, &ux)) < 0) {
			cli_err_rc(cmd, lrc, NULL, "importing %s", file);
			goto out;
		}
		fwc_cid_format(want, sizeof(want), &ux.root);
		/* The bytes sent were hashed here as they went: a file changed between the
		 * signed hash and the upload is caught by the node (body_mismatch) or here. */
		if (memcmp(ux.sha256, sha, 32) != 0) {
			cli_err(cmd, "%s changed while it was uploaded", file);
			goto out;
		}
	}
	if (!car && !fwc_cid_equal(cid, &ux.root)) {
		cli_err(cmd, "the node stored %.64s, not %s as computed here: do not use it", got,
		        want);
		rc = CLI_EXIT_FAIL;
		goto out;
	}
	*answer = j;
	j = NULL;
	rc = 0;
out:
	if (u.fd >= 0)
		close(u.fd);
	fwc_unixfs_importer_free(u.ux);
	curl_slist_free_all(h);
	json_decref(j);
	free(s.p);
	return rc;
}

int cli_release_image_upload(const char *cmd, const struct cli_txopts *o, const char *image,
                             const uint8_t *cidb, size_t cid_len)
{
	struct fwc_cid want, got;
	struct fwc_errinfo ei = {0};
	struct fwc_seckey sk;
	struct cli_node n;
	json_t *j = NULL;
	int rc;

	if ((rc = fwc_cid_decode(&want, NULL, cidb, cid_len, &ei)) < 0)
		return cli_err_rc(cmd, rc, &ei, "the manifest's CID");
	if (o->key == NULL)
		return cli_usage_err(cmd, "missing --key KEYSTORE");
	if (cli_node_init(&n, cmd, o->node, o->timeout) != 0)
		return CLI_EXIT_ERROR;
	memset(&sk, 0, sizeof(sk));
	rc = cli_seckey_load(cmd, &sk, o->key, o->passfile);
	if (rc == 0)
		rc = cli_content_upload(cmd, &n, &sk, image, want.version, 0, &want, &got, &j);
	json_decref(j);
	fwc_seckey_wipe(&sk);
	cli_node_cleanup(&n);
	return rc;
}

/* ---------------------------------------------------------------------------------------- */
/* content get                                                                              */

struct leaf {
	uint64_t off, len;
	uint8_t digest[32];
};

struct getter {
	const char *cmd;
	CURL *curl;
	const char *from[FROM_MAX];
	size_t nfrom;
	long timeout_ms;
	int part_fd;
	FILE *state;
	/* resume: leaves already in FILE.part, in file order */
	struct leaf *old;
	size_t nold, next_old;
	uint64_t resume_end; /* bytes of FILE.part known good (end of the last old leaf used) */
	/* the raw leaf get() handed out last, recorded once written */
	int pending;
	uint8_t pending_digest[32];
	uint64_t pending_len;
	uint64_t written, total, fetched;
	unsigned since_sync;
	size_t good; /* the source that gave the last good block: asked first */
	struct progress pr;
	char last_err[256];
};

/* A dag-pb leaf of a file (CIDv0 and `ipfs add` without raw leaves): no links, UnixFS File
 * or Raw with data. Its data's length in *dlen; 1 when it is one. */
static int pb_leaf_len(const uint8_t *b, size_t n, uint64_t *dlen)
{
	struct fwc_dagpb_node node;
	struct fwc_unixfs_data u;

	if (fwc_dagpb_decode(&node, b, n, NULL) != FWC_OK || node.nlinks != 0 || !node.has_data ||
	    fwc_unixfs_data_decode(&u, node.data, node.data_len, NULL) != FWC_OK ||
	    (u.type != FWC_UNIXFS_FILE && u.type != FWC_UNIXFS_RAW) || !u.has_data ||
	    u.data_len == 0)
		return 0;
	*dlen = u.data_len;
	return 1;
}

/* The dag-pb leaf `ipfs add` builds around a chunk: PBNode{Data: UnixFS{Type: File, Data:
 * chunk, filesize}} (lib/unixfs.c). FILE.part holds only the chunk, so a resumed CIDv0
 * download rebuilds the block from it; the caller checks it hashes to the CID (a leaf made
 * another way simply is fetched again). Heap block in *out, or NULL. */
static uint8_t *pb_leaf_build(const uint8_t *chunk, size_t n, size_t *outlen)
{
	struct fwc_unixfs_data u;
	size_t ulen = 0, cap = n + 64;
	uint8_t *ubuf = malloc(cap), *out = malloc(cap + 16);

	memset(&u, 0, sizeof(u));
	u.type = FWC_UNIXFS_FILE;
	u.data = chunk;
	u.data_len = n;
	u.has_data = 1;
	u.filesize = n;
	u.has_filesize = 1;
	if (ubuf == NULL || out == NULL ||
	    fwc_unixfs_data_encode(ubuf, cap, &ulen, &u, NULL, 0) < 0 ||
	    fwc_dagpb_encode(out, cap + 16, outlen, NULL, 0, ubuf, ulen, 1) < 0) {
		free(ubuf);
		free(out);
		return NULL;
	}
	free(ubuf);
	return out;
}

/* Read a leaf back from FILE.part when it is the next one recorded there: a raw leaf's bytes
 * are the block; a dag-pb leaf (CIDv0) is rebuilt around them. Either must hash to the CID. */
static int get_from_part(struct getter *g, const struct fwc_cid *cid, uint8_t **data, size_t *len)
{
	const struct leaf *l;
	uint8_t *b, *blk = NULL;
	size_t blen = 0;

	if (g->next_old >= g->nold ||
	    (cid->codec != FWC_CID_CODEC_RAW && cid->codec != FWC_CID_CODEC_DAGPB))
		return 0;
	l = &g->old[g->next_old];
	if (memcmp(l->digest, cid->digest, 32) != 0 || l->off != g->written)
		return 0;
	b = malloc(l->len ? l->len : 1);
	if (b != NULL && cid->codec == FWC_CID_CODEC_DAGPB &&
	    pread(g->part_fd, b, l->len, (off_t)l->off) == (ssize_t)l->len &&
	    (blk = pb_leaf_build(b, (size_t)l->len, &blen)) != NULL &&
	    fwc_cid_matches(cid, blk, blen)) {
		free(b);
		g->next_old++;
		g->resume_end = l->off + l->len;
		*data = blk;
		*len = blen;
		return 1;
	}
	free(blk);
	if (b == NULL || cid->codec != FWC_CID_CODEC_RAW ||
	    pread(g->part_fd, b, l->len, (off_t)l->off) != (ssize_t)l->len ||
	    !fwc_cid_matches(cid, b, l->len)) {
		/* Not what the record says (a crash before the bytes reached the disk): stop
		 * resuming here and fetch from now on. */
		free(b);
		g->nold = g->next_old;
		return 0;
	}
	g->next_old++;
	g->resume_end = l->off + l->len;
	*data = b;
	*len = l->len;
	return 1;
}

static int fetch_block(struct getter *g, const struct fwc_cid *cid, uint8_t **data, size_t *len)
{
	char txt[FWC_CID_STR_MAX], url[CLI_NODE_URL_MAX + FWC_CID_STR_MAX + 32];
	char errbuf[CURL_ERROR_SIZE];
	struct curl_slist *h = curl_slist_append(NULL, "Accept: application/vnd.ipld.raw");

	fwc_cid_format(txt, sizeof(txt), cid);
	for (size_t k = 0; k < g->nfrom; k++) {
		size_t i = (g->good + k) % g->nfrom;
		struct sink s = {NULL, 0, 0, FWC_DAG_MAX_BLOCK, 0};
		long status = 0;
		CURLcode cc;

		errbuf[0] = '\0';
		snprintf(url, sizeof(url), "%s/ipfs/%s?format=raw", g->from[i], txt);
		easy_common(g->curl, url, errbuf, g->timeout_ms);
		curl_easy_setopt(g->curl, CURLOPT_HTTPHEADER, h);
		curl_easy_setopt(g->curl, CURLOPT_WRITEFUNCTION, sink_write);
		curl_easy_setopt(g->curl, CURLOPT_WRITEDATA, &s);
		curl_easy_setopt(g->curl, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)FWC_DAG_MAX_BLOCK);
		/* A source slower than this is left for the next one. */
		curl_easy_setopt(g->curl, CURLOPT_LOW_SPEED_LIMIT, (long)GET_MIN_RATE);
		curl_easy_setopt(g->curl, CURLOPT_LOW_SPEED_TIME, (long)GET_LOW_SPEED_S);
		cc = curl_easy_perform(g->curl);
		curl_easy_getinfo(g->curl, CURLINFO_RESPONSE_CODE, &status);
		if (cc != CURLE_OK)
			snprintf(g->last_err, sizeof(g->last_err), "%s: %s", g->from[i],
			         s.too_large ? "block larger than 2 MiB"
			                     : (errbuf[0] ? errbuf : curl_easy_strerror(cc)));
		else if (status != 200)
			snprintf(g->last_err, sizeof(g->last_err), "%s: HTTP %ld", g->from[i],
			         status);
		else if (!fwc_cid_matches(cid, s.p ? s.p : "", s.len))
			snprintf(g->last_err, sizeof(g->last_err),
			         "%s sent %zu bytes that do not hash to the CID", g->from[i],
			         s.len);
		else {
			curl_slist_free_all(h);
			if (s.p == NULL && (s.p = malloc(1)) == NULL)
				return FWC_ERR_NOMEM;
			*data = (uint8_t *)s.p;
			*len = s.len;
			g->fetched += s.len;
			g->good = i;
			return FWC_OK;
		}
		free(s.p);
		/* A warning while another source remains; the last failure is in the error line. */
		if (k + 1 < g->nfrom) {
			if (g->pr.on)
				fputc('\n', stderr);
			fprintf(stderr, "fwchain: %s: block %s: %s; trying the next source\n",
			        g->cmd, txt, g->last_err);
		}
	}
	curl_slist_free_all(h);
	return FWC_ERR_NOT_FOUND;
}

static int src_get(void *ctx, const struct fwc_cid *cid, const uint8_t **data, size_t *len)
{
	struct getter *g = ctx;
	uint8_t *b = NULL;
	size_t n = 0;
	int rc;

	if (get_from_part(g, cid, &b, &n))
		rc = FWC_OK;
	else
		rc = fetch_block(g, cid, &b, &n);
	if (rc != FWC_OK)
		return rc;
	/* A leaf whose bytes are about to be written: recorded once they are. A dag-pb leaf
	 * (CIDv0) writes its data, not the whole block. */
	g->pending = cid->codec == FWC_CID_CODEC_RAW;
	g->pending_len = n;
	if (cid->codec == FWC_CID_CODEC_DAGPB && pb_leaf_len(b, n, &g->pending_len))
		g->pending = 1;
	memcpy(g->pending_digest, cid->digest, 32);
	*data = b;
	*len = n;
	return FWC_OK;
}

static void src_release(void *ctx, const uint8_t *data)
{
	(void)ctx;
	free((void *)data);
}

static int out_write(void *ctx, const uint8_t *data, size_t len)
{
	struct getter *g = ctx;
	char hex[65];

	if (g->written + len > g->resume_end) {
		/* Not yet in FILE.part: write it. */
		for (size_t done = 0; done < len;) {
			ssize_t w =
			    pwrite(g->part_fd, data + done, len - done, (off_t)(g->written + done));

			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				return FWC_ERR_IO;
			done += (size_t)w;
		}
		if (g->pending && g->pending_len == len) {
			fwc_hex_encode(hex, sizeof(hex), g->pending_digest, 32);
			fprintf(g->state, "%" PRIu64 " %zu %s\n", g->written, len, hex);
			/* The record must not be durable before the bytes it describes. */
			if (++g->since_sync >= 64) {
				if (fdatasync(g->part_fd) != 0 || fflush(g->state) != 0 ||
				    fdatasync(fileno(g->state)) != 0)
					return FWC_ERR_IO;
				g->since_sync = 0;
			}
		}
	}
	g->pending = 0;
	g->written += len;
	progress_show(&g->pr, g->written, g->total, 0);
	return FWC_OK;
}

/* Load FILE.part.state: "fwchain-content-get v1 <cid>" then leaves. Returns the number of
 * leaves whose records are consistent (contiguous from 0, within FILE.part). */
static void load_state(struct getter *g, const char *state_path, const char *cidtxt)
{
	FILE *f = fopen(state_path, "r");
	char line[STATE_LINE_MAX], want[FWC_CID_STR_MAX + 32];
	struct stat st;
	uint64_t end = 0;

	if (f == NULL)
		return;
	snprintf(want, sizeof(want), "fwchain-content-get v1 %s\n", cidtxt);
	if (fgets(line, sizeof(line), f) == NULL || strcmp(line, want) != 0 ||
	    fstat(g->part_fd, &st) != 0) {
		fclose(f);
		return;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		unsigned long long off, len;
		char hex[65];
		size_t n = 0;
		struct leaf *nl;

		if (sscanf(line, "%llu %llu %64s", &off, &len, hex) != 3 || off != end ||
		    off + len > (unsigned long long)st.st_size)
			break;
		nl = realloc(g->old, (g->nold + 1) * sizeof(*nl));
		if (nl == NULL)
			break;
		g->old = nl;
		if (fwc_hex_decode(g->old[g->nold].digest, 32, &n, hex, 64) != FWC_OK || n != 32)
			break;
		g->old[g->nold].off = off;
		g->old[g->nold].len = len;
		g->nold++;
		end = off + len;
	}
	fclose(f);
}

/* Size of the file behind cid, asked with HEAD (for the progress bar only; untrusted). */
static uint64_t head_size(struct getter *g, const char *cidtxt)
{
	char url[CLI_NODE_URL_MAX + FWC_CID_STR_MAX + 16], errbuf[CURL_ERROR_SIZE];
	curl_off_t cl = -1;
	long status = 0;

	snprintf(url, sizeof(url), "%s/ipfs/%s", g->from[0], cidtxt);
	easy_common(g->curl, url, errbuf, 5000);
	curl_easy_setopt(g->curl, CURLOPT_NOBODY, 1L);
	if (curl_easy_perform(g->curl) != CURLE_OK)
		return 0;
	curl_easy_getinfo(g->curl, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_getinfo(g->curl, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl);
	return status == 200 && cl > 0 ? (uint64_t)cl : 0;
}

static int content_get(const char *cmd, struct cli_node *n, const char *cidtxt, const char *out,
                       const char **from, size_t nfrom, uint64_t max_size, int json)
{
	struct getter g;
	struct fwc_cid cid;
	struct fwc_errinfo ei = {0};
	struct fwc_dag_source src;
	struct fwc_dag_output dst;
	struct fwc_dag_result res;
	char part[4096], state[4200], dirbuf[4096];
	char *slash;
	int rc = CLI_EXIT_ERROR, lrc, dfd;

	if ((lrc = fwc_cid_parse(&cid, cidtxt, strlen(cidtxt), &ei)) < 0)
		return cli_err_rc(cmd, lrc, &ei, "CID '%.80s'", cidtxt);
	if ((size_t)snprintf(part, sizeof(part), "%s.part", out) >= sizeof(part) ||
	    (size_t)snprintf(state, sizeof(state), "%s.part.state", out) >= sizeof(state))
		return cli_err(cmd, "output path too long");
	memset(&g, 0, sizeof(g));
	g.cmd = cmd;
	g.curl = n->curl;
	g.timeout_ms = n->timeout_ms;
	for (size_t i = 0; i < nfrom; i++)
		g.from[g.nfrom++] = from[i];
	if (g.nfrom == 0)
		g.from[g.nfrom++] = n->url;
	g.part_fd = open(part, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (g.part_fd < 0)
		return cli_err(cmd, "cannot open %s: %s", part, strerror(errno));
	load_state(&g, state, cidtxt);
	/* Keep only the records we can use; rewrite the state file with them. */
	g.state = fopen(state, "w");
	if (g.state == NULL) {
		cli_err(cmd, "cannot write %s: %s", state, strerror(errno));
		goto out;
	}
	fprintf(g.state, "fwchain-content-get v1 %s\n", cidtxt);
	for (size_t i = 0; i < g.nold; i++) {
		char hex[65];

		fwc_hex_encode(hex, sizeof(hex), g.old[i].digest, 32);
		fprintf(g.state, "%" PRIu64 " %" PRIu64 " %s\n", g.old[i].off, g.old[i].len, hex);
	}
	if (fflush(g.state) != 0) {
		cli_err(cmd, "cannot write %s: %s", state, strerror(errno));
		goto out;
	}
	if (g.nold > 0)
		fprintf(stderr, "fwchain: %s: resuming %s after %" PRIu64 " bytes (%zu blocks)\n",
		        cmd, part, g.old[g.nold - 1].off + g.old[g.nold - 1].len, g.nold);
	progress_init(&g.pr, "download");
	if (g.pr.on)
		g.total = head_size(&g, cidtxt);
	src.get = src_get;
	src.release = src_release;
	src.ctx = &g;
	dst.write = out_write;
	dst.ctx = &g;
	lrc = fwc_dag_reassemble(&res, &src, &dst, &cid, max_size, &ei);
	if (g.pr.on)
		progress_show(&g.pr, g.written, g.total ? g.total : g.written, 1);
	if (lrc < 0) {
		if (lrc == FWC_ERR_NOT_FOUND && g.last_err[0])
			cli_err(cmd,
			        "%s: no source gave a good copy of a block (last: %s); %s is kept "
			        "for a later retry",
			        cidtxt, g.last_err, part);
		else
			cli_err_rc(cmd, lrc, &ei, "%s at file offset %zu; %s is kept", cidtxt,
			           ei.offset, part);
		goto out;
	}
	/* Complete and verified: exactly the file's bytes, durable, then renamed into place. */
	if (ftruncate(g.part_fd, (off_t)res.size) != 0 || fsync(g.part_fd) != 0 ||
	    rename(part, out) != 0) {
		cli_err(cmd, "cannot finish %s: %s", out, strerror(errno));
		goto out;
	}
	snprintf(dirbuf, sizeof(dirbuf), "%s", out);
	slash = strrchr(dirbuf, '/');
	if (slash)
		*(slash == dirbuf ? slash + 1 : slash) = '\0';
	dfd = open(slash ? dirbuf : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	fclose(g.state);
	g.state = NULL;
	unlink(state);
	if (json)
		printf("{\"cid\":\"%s\",\"file\":", cidtxt);
	if (json) {
		cli_json_str(stdout, out, strlen(out));
		printf(",\"size\":%" PRIu64 ",\"blocks\":%" PRIu64 ",\"fetched_bytes\":%" PRIu64
		       "}\n",
		       res.size, res.blocks, g.fetched);
	} else
		printf("%s: %" PRIu64 " bytes, %" PRIu64 " blocks verified (%" PRIu64
		       " bytes fetched)\n",
		       out, res.size, res.blocks, g.fetched);
	rc = cli_stdout_done(cmd);
out:
	if (g.state)
		fclose(g.state);
	if (g.part_fd >= 0)
		close(g.part_fd);
	free(g.old);
	return rc;
}

/* ---------------------------------------------------------------------------------------- */
/* The command                                                                              */

static void print_json(json_t *j)
{
	char *t = json_dumps(j, JSON_COMPACT);

	if (t)
		puts(t);
	free(t);
}

static void print_pins(json_t *j)
{
	json_t *pins = json_object_get(j, "pins"), *wanted = json_object_get(j, "wanted"), *e;
	size_t i;

	json_array_foreach(pins, i, e)
	{
		json_t *o;
		size_t k;

		printf("%s pinned", cli_json_string(e, "cid") ? cli_json_string(e, "cid") : "?");
		json_array_foreach(json_object_get(e, "origins"), k, o) printf(
		    "%s%s", k ? "," : " ", json_string_value(o) ? json_string_value(o) : "?");
		putchar('\n');
	}
	json_array_foreach(wanted, i, e)
	    printf("%s wanted %s\n", cli_json_string(e, "cid") ? cli_json_string(e, "cid") : "?",
	           cli_json_string(e, "origin") ? cli_json_string(e, "origin") : "?");
	if (json_is_true(json_object_get(j, "truncated")))
		puts("(list truncated by the node)");
}

int cmd_content(int argc, char **argv)
{
	static const struct cli_opt opts[] = {
	    {"help", O_HELP, 0},         {"node", O_NODE, 1},
	    {"timeout", O_TIMEOUT, 1},   {"json", O_JSON, 0},
	    {"key", O_KEY, 1},           {"passphrase-file", O_PASSFILE, 1},
	    {"cid-version", O_CIDV, 1},  {"car", O_CAR, 0},
	    {"output", O_OUT, 1},        {"from", O_FROM, 1},
	    {"max-size", O_MAX_SIZE, 1}, {"origin", O_ORIGIN, 1},
	    {"grace", O_GRACE, 1},       {NULL, 0, 0},
	};
	const char *sub, *val, *node = NULL, *key = NULL, *passfile = NULL, *out = NULL,
	                       *origin = NULL, *grace = NULL, *arg = NULL, *from[FROM_MAX];
	char cmd[32], target[512];
	unsigned long long timeout = 0, max_size = FWC_DAG_UNLIMITED;
	unsigned cidv = 1;
	size_t nfrom = 0;
	int json = 0, car = 0, id, rc = CLI_EXIT_ERROR, signs;
	struct cli_parser p;
	struct cli_node n;
	struct fwc_seckey sk;
	struct prehash ph;
	json_t *j = NULL;

	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		if (argc < 2)
			return cli_usage_err(
			    "content", "missing subcommand (add, get, pin, unpin, ls, gc, status)");
		fputs(content_help, stdout);
		return cli_stdout_done("content");
	}
	sub = argv[1];
	if (strcmp(sub, "add") && strcmp(sub, "get") && strcmp(sub, "pin") &&
	    strcmp(sub, "unpin") && strcmp(sub, "ls") && strcmp(sub, "gc") && strcmp(sub, "status"))
		return cli_usage_err("content",
		                     "unknown subcommand '%.32s' (add, get, pin, unpin, "
		                     "ls, gc, status)",
		                     sub);
	snprintf(cmd, sizeof(cmd), "content %s", sub);
	/* -o FILE, as curl and wget spell it, is --output FILE. */
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		if (strcmp(argv[i], "-o") == 0)
			argv[i] = (char *)"--output";
	}
	cli_parser_init(&p, cmd, argc, argv, 2);
	while ((id = cli_next(&p, opts, &val)) != CLI_NEXT_END) {
		switch (id) {
		case CLI_NEXT_BAD:
			return CLI_EXIT_ERROR;
		case O_HELP:
			fputs(content_help, stdout);
			return cli_stdout_done(cmd);
		case O_NODE:
			node = val;
			break;
		case O_TIMEOUT:
			if (cli_u64_arg(cmd, "--timeout", val, 86400, &timeout) != 0 ||
			    timeout == 0)
				return timeout == 0 ? cli_usage_err(cmd, "--timeout wants 1..86400")
				                    : CLI_EXIT_ERROR;
			break;
		case O_JSON:
			json = 1;
			break;
		case O_KEY:
			key = val;
			break;
		case O_PASSFILE:
			passfile = val;
			break;
		case O_CIDV:
			if (cli_cid_version_arg(cmd, val, &cidv) != 0)
				return CLI_EXIT_ERROR;
			break;
		case O_CAR:
			car = 1;
			break;
		case O_OUT:
			out = val;
			break;
		case O_FROM:
			if (nfrom == FROM_MAX)
				return cli_usage_err(cmd, "at most %d --from", FROM_MAX);
			if (strncmp(val, "http://", 7) != 0 && strncmp(val, "https://", 8) != 0)
				return cli_usage_err(cmd, "--from '%.80s' is not an http(s) URL",
				                     val);
			from[nfrom++] = val;
			break;
		case O_MAX_SIZE:
			if (cli_u64_arg(cmd, "--max-size", val, UINT64_MAX - 1, &max_size) != 0)
				return CLI_EXIT_ERROR;
			break;
		case O_ORIGIN:
			origin = val;
			break;
		case O_GRACE:
			grace = val;
			break;
		case CLI_NEXT_POS:
			if (arg != NULL || strcmp(sub, "ls") == 0 || strcmp(sub, "gc") == 0)
				return cli_usage_err(cmd, "unexpected argument '%.64s'", val);
			arg = val;
			break;
		default:
			return CLI_EXIT_ERROR;
		}
	}
	if (arg == NULL && strcmp(sub, "ls") != 0 && strcmp(sub, "gc") != 0)
		return cli_usage_err(cmd, "missing %s", strcmp(sub, "add") == 0 ? "FILE" : "CID");
	if (strcmp(sub, "get") == 0 && out == NULL)
		return cli_usage_err(cmd, "missing -o FILE");
	if ((origin && strcmp(sub, "unpin") != 0) || (grace && strcmp(sub, "gc") != 0) ||
	    ((car || cidv != 1) && strcmp(sub, "add") != 0) ||
	    ((out || nfrom || max_size != FWC_DAG_UNLIMITED) && strcmp(sub, "get") != 0))
		return cli_usage_err(cmd, "an option given is not one of this subcommand's");
	if (car && cidv != 1)
		return cli_usage_err(cmd, "--cid-version is for file uploads, not --car");
	signs = strcmp(sub, "add") == 0 || strcmp(sub, "pin") == 0 || strcmp(sub, "unpin") == 0 ||
	        strcmp(sub, "gc") == 0;
	if (signs && key == NULL)
		return cli_usage_err(cmd, "missing --key KEYSTORE (the request is signed)");
	if (!signs && (key || passfile))
		return cli_usage_err(cmd, "--key is for add, pin, unpin and gc");
	if (cli_node_init(&n, cmd, node, (unsigned)timeout) != 0)
		return CLI_EXIT_ERROR;
	memset(&sk, 0, sizeof(sk));
	if (strcmp(sub, "add") == 0)
		prehash_start(&ph, arg); /* hashes while the key is unlocked */
	if (signs && cli_seckey_load(cmd, &sk, key, passfile) != 0) {
		uint8_t unused[32];

		if (strcmp(sub, "add") == 0)
			(void)prehash_finish(cmd, &ph, unused);
		goto out;
	}

	if (strcmp(sub, "add") == 0) {
		struct fwc_cid cid;

		rc = upload_file(cmd, &n, &sk, arg, cidv, car, NULL, &ph, &cid, &j);
		if (rc == 0) {
			if (json)
				print_json(j);
			else
				printf("%s\n", cli_json_string(j, "cid"));
			rc = cli_stdout_done(cmd);
		}
		goto out;
	}
	if (strcmp(sub, "get") == 0) {
		rc = content_get(cmd, &n, arg, out, from, nfrom, max_size, json);
		goto out;
	}
	if (arg) {
		struct fwc_cid c;
		struct fwc_errinfo ei = {0};
		int lrc = fwc_cid_parse(&c, arg, strlen(arg), &ei);

		if (lrc < 0) {
			rc = cli_err_rc(cmd, lrc, &ei, "CID '%.80s'", arg);
			goto out;
		}
	}
	if (strcmp(sub, "ls") == 0) {
		if ((rc = cli_node_json(&n, &j, "GET", "/v1/pins", NULL, 0, NULL, NULL, 0)) == 0) {
			json ? print_json(j) : print_pins(j);
			rc = cli_stdout_done(cmd);
		}
		goto out;
	}
	if (strcmp(sub, "status") == 0) {
		snprintf(target, sizeof(target), "/v1/content/%s/status", arg);
		if ((rc = cli_node_json(&n, &j, "GET", target, NULL, 0, NULL, NULL, 0)) == 0) {
			if (json) {
				print_json(j);
			} else {
				json_t *peers = json_object_get(j, "peers"), *e;
				size_t i;

				printf("this node: %s%s%s\n",
				       json_is_true(json_object_get(j, "complete")) ? "complete"
				                                                    : "incomplete",
				       json_is_true(json_object_get(j, "pinned")) ? ", pinned" : "",
				       cli_json_string(j, "missing") ? " (a block is missing)"
				                                     : "");
				json_array_foreach(peers, i, e)
				{
					const char *u = cli_json_string(e, "url");
					const char *err = cli_json_string(e, "error");

					printf("peer %s: %s\n", u ? u : "?",
					       err ? err
					       : json_is_true(json_object_get(e, "complete"))
					           ? "complete"
					           : "incomplete");
				}
				print_placement(json_object_get(j, "replication"));
			}
			rc = cli_stdout_done(cmd);
		}
		goto out;
	}
	{
		char chain[128];
		const char *method = strcmp(sub, "unpin") == 0 ? "DELETE" : "POST";

		if (strcmp(sub, "gc") == 0)
			snprintf(target, sizeof(target), "/v1/content/gc%s%s",
			         grace ? "?grace=" : "", grace ? grace : "");
		else
			snprintf(target, sizeof(target), "/v1/pins/%s%s%s", arg,
			         origin ? "?origin=" : "", origin ? origin : "");
		if (strchr(target, ' ') || strchr(target, '&') || strchr(target, '#')) {
			rc = cli_usage_err(cmd, "bad characters in --origin or --grace");
			goto out;
		}
		if ((rc = cli_node_chain_id(&n, chain, sizeof(chain))) != 0 ||
		    (rc = signed_json(cmd, &n, &sk, chain, method, target, &j)) != 0)
			goto out;
		if (json) {
			print_json(j);
		} else if (strcmp(sub, "gc") == 0) {
			printf("removed %lld blocks (%lld bytes); kept %lld pinned, %lld recent\n",
			       cli_json_int(j, "removed"), cli_json_int(j, "removed_bytes"),
			       cli_json_int(j, "marked"), cli_json_int(j, "kept_recent"));
		} else if (strcmp(sub, "pin") == 0) {
			const char *st = cli_json_string(j, "status");
			const char *miss = cli_json_string(j, "missing");

			if (miss)
				printf("%s %s (fetching from peers; first missing block %s)\n", arg,
				       st ? st : "?", miss);
			else
				printf("%s %s\n", arg, st ? st : "?");
		} else {
			printf("%s unpinned%s\n", arg,
			       json_is_true(json_object_get(j, "still_pinned"))
			           ? " (still pinned by a release)"
			           : "");
		}
		rc = cli_stdout_done(cmd);
	}
out:
	json_decref(j);
	fwc_seckey_wipe(&sk);
	cli_node_cleanup(&n);
	return rc;
}
