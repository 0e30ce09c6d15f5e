/* fwchaind replication: fetch the blocks of wanted DAGs from peers' trustless gateways.
 *
 * Design: one background thread, rounds. Each round it (1) learns its peers' primary pins
 * (GET /v1/pins; pins whose only origin is "replica" are not followed, so two nodes never keep
 * each other's copies alive after the owner unpinned), (2) checks its own pinned DAGs for
 * completeness (at start and every minute: a node restarted with an empty store finds every
 * pinned DAG incomplete and re-fetches it), and (3) walks every wanted or incomplete DAG in
 * waves — the blocks known at one depth, missing ones fetched in parallel through one curl
 * multi handle (bounded concurrency), then the children the fetched dag-pb nodes name. A block
 * is requested from one peer at a time (GET /ipfs/{cid}?format=raw), rotating the first peer
 * per block to spread load; verified blocks are appended by putter threads to one stage of the
 * block store per DAG walk (a pack made durable and visible with one sync when the walk ends,
 * as an upload's) while the transfers go on; an answer that is not 200, is longer than the
 * store's largest block (libcurl's max file size and our write callback both cut it), arrives
 * slower than the minimum rate (libcurl's low-speed limit), or does not hash to the CID is dropped
 * and the next peer is asked; a peer that failed is left alone for 1, 2, 4 ... backoff_max_s
 * seconds. Only bytes that hash to the requested CID reach the store,
 * through a pins session so a concurrent GC cannot collect a DAG half fetched; the DAG is pinned
 * (and its want removed) once complete. Everything is bounded: transfers by timeout_s, rounds by
 * the DAG limits, the thread's stop by the longest transfer in flight. */
#include "replicate.h"

#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fwchain/dagpb.h"
#include "fwchain/sha256.h"

#define PINS_ANSWER_MAX (64u << 20) /* a peer's GET /v1/pins answer */
#define STATUS_ANSWER_MAX (64u << 10)
#define FULL_CHECK_S 60
#define PEER_LIST_TIMEOUT_S 10

struct peer {
	char url[NODE_REPL_URL_MAX];
	unsigned failures; /* consecutive */
	uint64_t refused;  /* blocks that did not hash to their CID, were too long or cut */
	int64_t retry_at;  /* not asked before this time (Unix seconds) */
};

/* A verified block waiting to be stored. */
struct putjob {
	struct fwc_cid cid;
	uint8_t *data;
	size_t len;
	struct node_pins_session *sess;
	struct node_bs_stage *stage; /* the DAG's upload-like stage, or NULL: one file each */
};

#define PUTTERS 8

struct node_repl {
	struct node_repl_config cfg;
	/* putters: threads storing verified blocks (into the DAG's stage) while transfers go on */
	pthread_t putters[PUTTERS];
	unsigned nputters;
	pthread_mutex_t pmu;
	pthread_cond_t pcv;
	struct putjob pq[2 * PUTTERS];
	size_t pqhead, pqlen;
	unsigned pbusy;
	int pstop;
	uint64_t pfailed;            /* puts that failed (the DAG is then incomplete this round) */
	pthread_mutex_t smu;         /* one putter at a time appends to a stage */
	struct node_bs_stage *stage; /* the DAG being fetched (replication thread only) */
	struct node_pins *pins;
	struct node_bs *bs;
	sqlite3 *db;
	pthread_mutex_t db_mu;
	sqlite3_stmt *wst[4]; /* wants_sql's statements, prepared on first use (under db_mu) */
	struct peer peers[NODE_REPL_PEERS_MAX];
	size_t npeers;
	pthread_mutex_t mu; /* peers' state, stats, stop, kick */
	pthread_cond_t cv;
	pthread_t thread;
	int running, stop, kicked;
	struct node_repl_stats stats;
	unsigned rr;                  /* rotation of the first peer asked */
	char self[NODE_REPL_URL_MAX]; /* this node's URL, "" until known (under mu) */
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init_once(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

void node_repl_config_default(struct node_repl_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->interval_ms = 1000;
	cfg->concurrency = 4;
	cfg->timeout_s = 30;
	cfg->connect_ms = 2000;
	cfg->min_rate = 16384;
	cfg->low_speed_s = 3;
	cfg->backoff_max_s = 30;
	cfg->follow_peers = 1;
	cfg->max_block = 0;
}

static int64_t now_s(void)
{
	return (int64_t)time(NULL);
}

/* ---------------------------------------------------------------------------------------- */
/* Wants (SQLite)                                                                           */

static int db_exec(struct node_repl *r, const char *sql)
{
	return sqlite3_exec(r->db, sql, NULL, NULL, NULL) == SQLITE_OK ? FWC_OK : FWC_ERR_IO;
}

/* A plain http(s) base URL of a sane length: 1. */
static int url_ok(const char *u)
{
	if (u == NULL || (strncmp(u, "http://", 7) != 0 && strncmp(u, "https://", 8) != 0) ||
	    strlen(u) >= NODE_REPL_URL_MAX - 1 || strlen(u) < 9)
		return 0;
	for (const char *p = u; *p; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f || *p == '?' ||
		    *p == '#')
			return 0;
	return 1;
}

static void url_copy(char out[NODE_REPL_URL_MAX], const char *u)
{
	size_t n = strlen(u);

	memcpy(out, u, n + 1);
	while (n > 0 && out[n - 1] == '/')
		out[--n] = '\0';
}

int node_repl_open(struct node_repl **out, const struct node_repl_config *cfg,
                   struct node_pins *pins, const char *db_path, struct fwc_errinfo *ei)
{
	struct node_repl *r;

	if (out == NULL || cfg == NULL || pins == NULL || db_path == NULL)
		return fwc_fail(ei, 0, FWC_ERR_ARG, "replicate: missing argument");
	if (cfg->npeers > NODE_REPL_PEERS_MAX)
		return fwc_fail(ei, 0, FWC_ERR_ARG, "at most %d peers", NODE_REPL_PEERS_MAX);
	for (size_t i = 0; i < cfg->npeers; i++) {
		const char *u = cfg->peers[i];

		if (u == NULL ||
		    (strncmp(u, "http://", 7) != 0 && strncmp(u, "https://", 8) != 0) ||
		    strlen(u) >= NODE_REPL_URL_MAX - 1 || strlen(u) < 9)
			return fwc_fail(
			    ei, 0, FWC_ERR_ARG,
			    "peer '%.80s' is not an http:// or https:// URL (at most %d "
			    "bytes)",
			    u ? u : "", NODE_REPL_URL_MAX - 2);
		for (const char *p = u; *p; p++)
			if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f || *p == '?' ||
			    *p == '#')
				return fwc_fail(ei, 0, FWC_ERR_ARG,
				                "peer URL '%.80s' must be a plain base URL", u);
	}
	pthread_once(&curl_once, curl_init_once);
	r = calloc(1, sizeof(*r));
	if (r == NULL)
		return fwc_fail(ei, 0, FWC_ERR_NOMEM, "replicate: out of memory");
	r->cfg = *cfg;
	if (r->cfg.interval_ms == 0)
		r->cfg.interval_ms = 1000;
	if (r->cfg.concurrency == 0 || r->cfg.concurrency > 16)
		r->cfg.concurrency = r->cfg.concurrency ? 16 : 4;
	if (r->cfg.timeout_s == 0)
		r->cfg.timeout_s = 30;
	if (r->cfg.connect_ms == 0)
		r->cfg.connect_ms = 2000;
	if (r->cfg.low_speed_s == 0)
		r->cfg.low_speed_s = 3;
	if (r->cfg.backoff_max_s == 0)
		r->cfg.backoff_max_s = 30;
	r->pins = pins;
	r->bs = node_pins_store(pins);
	if (r->cfg.max_block == 0)
		r->cfg.max_block = node_bs_max_block(r->bs);
	for (size_t i = 0; i < cfg->npeers; i++) {
		size_t n = strlen(cfg->peers[i]);

		memcpy(r->peers[i].url, cfg->peers[i], n + 1);
		while (n > 0 && r->peers[i].url[n - 1] == '/')
			r->peers[i].url[--n] = '\0';
		r->cfg.peers[i] = NULL; /* the caller's strings are not kept */
	}
	r->npeers = cfg->npeers;
	if (cfg->self_url != NULL) {
		if (!url_ok(cfg->self_url)) {
			free(r);
			return fwc_fail(ei, 0, FWC_ERR_ARG,
			                "this node's URL '%.80s' is not an http:// or https:// URL",
			                cfg->self_url);
		}
		url_copy(r->self, cfg->self_url);
	}
	r->cfg.self_url = NULL;
	pthread_mutex_init(&r->mu, NULL);
	pthread_mutex_init(&r->pmu, NULL);
	pthread_mutex_init(&r->smu, NULL);
	pthread_cond_init(&r->pcv, NULL);
	pthread_mutex_init(&r->db_mu, NULL);
	pthread_cond_init(&r->cv, NULL);
	if (sqlite3_open_v2(db_path, &r->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
	        SQLITE_OK ||
	    sqlite3_busy_timeout(r->db, 5000) != SQLITE_OK ||
	    db_exec(r, "CREATE TABLE IF NOT EXISTS store_wants (cid BLOB NOT NULL, origin TEXT "
	               "NOT NULL, created INTEGER NOT NULL, PRIMARY KEY (cid, origin)) WITHOUT "
	               "ROWID") != FWC_OK) {
		fwc_fail(ei, 0, FWC_ERR_IO, "replicate: cannot open the wants table in %s: %s",
		         db_path, r->db ? sqlite3_errmsg(r->db) : "out of memory");
		node_repl_close(r);
		return FWC_ERR_IO;
	}
	*out = r;
	return FWC_OK;
}

static int key_of(uint8_t *out, size_t cap, size_t *len, const struct fwc_cid *root)
{
	struct fwc_cid v1;

	if (fwc_cid_to_v1(&v1, root) != FWC_OK)
		return FWC_ERR_ARG;
	return fwc_cid_encode(out, cap, len, &v1);
}

/* Run one statement with (cid, origin[, created]) bound; returns sqlite's step result. */
/* The statements on the wants table, each prepared once (after every block with releases the
 * producer runs them for each release's content). */
enum { W_DELETE, W_PINNED, W_ADD, W_COUNT };
static const char *const wants_sql[W_COUNT] = {
    [W_DELETE] = "DELETE FROM store_wants WHERE cid = ?1 AND origin = ?2",
    [W_PINNED] = "SELECT 1 FROM store_pins WHERE cid = ?1 AND origin = ?2",
    [W_ADD] = "INSERT OR IGNORE INTO store_wants (cid, origin, created) VALUES (?1, ?2, ?3)",
};
_Static_assert(W_COUNT <= sizeof(((struct node_repl *)0)->wst) / sizeof(sqlite3_stmt *),
               "struct node_repl has a slot for every wants statement");

static int wants_stmt(struct node_repl *r, int which, const struct fwc_cid *root,
                      const char *origin, int64_t created, int *changes)
{
	sqlite3_stmt *st;
	uint8_t key[FWC_CID_MAX_BINARY];
	size_t klen = 0;
	int rc = SQLITE_OK;

	if (key_of(key, sizeof(key), &klen, root) != FWC_OK)
		return SQLITE_MISUSE;
	pthread_mutex_lock(&r->db_mu);
	if (r->wst[which] == NULL)
		rc = sqlite3_prepare_v3(r->db, wants_sql[which], -1, SQLITE_PREPARE_PERSISTENT,
		                        &r->wst[which], NULL);
	st = r->wst[which];
	if (rc == SQLITE_OK) {
		sqlite3_bind_blob(st, 1, key, (int)klen, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, origin, -1, SQLITE_STATIC);
		if (sqlite3_bind_parameter_count(st) >= 3)
			sqlite3_bind_int64(st, 3, created);
		rc = sqlite3_step(st);
		if (changes)
			*changes = sqlite3_changes(r->db);
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
	}
	pthread_mutex_unlock(&r->db_mu);
	return rc;
}

int node_repl_want(struct node_repl *r, const struct fwc_cid *root, const char *origin, int *pinned,
                   struct fwc_cid *missing, struct fwc_errinfo *ei)
{
	struct fwc_cid miss;
	struct fwc_errinfo lei = {0};
	int rc;

	if (r == NULL || root == NULL || origin == NULL || *origin == '\0' ||
	    strlen(origin) > NODE_PIN_ORIGIN_MAX)
		return FWC_ERR_ARG;
	rc = node_pins_add(r->pins, root, origin, &miss, &lei);
	if (rc == FWC_OK) {
		wants_stmt(r, W_DELETE, root, origin, 0, NULL);
		if (pinned)
			*pinned = 1;
		return FWC_OK;
	}
	if (rc != FWC_ERR_NOT_FOUND) {
		if (ei)
			*ei = lei;
		return rc;
	}
	/* Already pinned under this origin (a store that lost blocks): the thread's check of
	 * every pin repairs it; no want needed. */
	if (wants_stmt(r, W_PINNED, root, origin, 0, NULL) == SQLITE_ROW) {
		if (pinned)
			*pinned = 1;
		node_repl_kick(r);
		return FWC_OK;
	}
	if (wants_stmt(r, W_ADD, root, origin, now_s(), NULL) != SQLITE_DONE)
		return fwc_fail(ei, 0, FWC_ERR_IO, "replicate: cannot record the want");
	if (pinned)
		*pinned = 0;
	if (missing)
		*missing = miss;
	node_repl_kick(r);
	return FWC_OK;
}

int node_repl_unwant(struct node_repl *r, const struct fwc_cid *root, const char *origin)
{
	int changes = 0;

	if (r == NULL || root == NULL || origin == NULL)
		return FWC_ERR_ARG;
	if (wants_stmt(r, W_DELETE, root, origin, 0, &changes) != SQLITE_DONE)
		return FWC_ERR_IO;
	return changes ? FWC_OK : FWC_ERR_NOT_FOUND;
}

int node_repl_wants(struct node_repl *r,
                    int (*fn)(void *ctx, const struct fwc_cid *root, const char *origin,
                              int64_t created),
                    void *ctx)
{
	sqlite3_stmt *st = NULL;
	int rc = FWC_OK, s;

	if (r == NULL || fn == NULL)
		return FWC_ERR_ARG;
	pthread_mutex_lock(&r->db_mu);
	if (sqlite3_prepare_v2(r->db,
	                       "SELECT cid, origin, created FROM store_wants ORDER BY cid, origin",
	                       -1, &st, NULL) != SQLITE_OK) {
		pthread_mutex_unlock(&r->db_mu);
		return FWC_ERR_IO;
	}
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		struct fwc_cid cid;
		const uint8_t *b = sqlite3_column_blob(st, 0);
		int n = sqlite3_column_bytes(st, 0);
		const char *o = (const char *)sqlite3_column_text(st, 1);

		if (b == NULL || o == NULL ||
		    fwc_cid_decode(&cid, NULL, b, (size_t)n, NULL) != FWC_OK)
			continue; /* a row we did not write: skip it */
		rc = fn(ctx, &cid, o, sqlite3_column_int64(st, 2));
		if (rc < 0)
			break;
		rc = FWC_OK;
	}
	if (s != SQLITE_ROW && s != SQLITE_DONE)
		rc = FWC_ERR_IO;
	sqlite3_finalize(st);
	pthread_mutex_unlock(&r->db_mu);
	return rc;
}

int node_repl_set_self(struct node_repl *r, const char *url)
{
	if (r == NULL || !url_ok(url))
		return FWC_ERR_ARG;
	pthread_mutex_lock(&r->mu);
	url_copy(r->self, url);
	pthread_mutex_unlock(&r->mu);
	return FWC_OK;
}

const char *node_repl_self(struct node_repl *r)
{
	return r != NULL ? r->self : NULL;
}

unsigned node_repl_factor(const struct node_repl *r)
{
	return r != NULL ? r->cfg.replication_factor : 0;
}

static uint64_t placement_weight(const char *url, const uint8_t digest[FWC_CID_DIGEST_LEN])
{
	static const char tag[] = "fwchain-placement";
	struct fwc_sha256 h;
	uint8_t out[32], zero = 0;
	uint64_t w = 0;

	fwc_sha256_init(&h);
	fwc_sha256_update(&h, tag, sizeof(tag) - 1);
	fwc_sha256_update(&h, &zero, 1);
	fwc_sha256_update(&h, url, strlen(url));
	fwc_sha256_update(&h, &zero, 1);
	fwc_sha256_update(&h, digest, FWC_CID_DIGEST_LEN);
	fwc_sha256_final(&h, out);
	fwc_sha256_cleanup(&h);
	for (int i = 0; i < 8; i++)
		w = w << 8 | out[i];
	return w;
}

int node_repl_placement(struct node_repl *r, const struct fwc_cid *root, const char **urls,
                        size_t cap, int *mine)
{
	const char *cand[NODE_REPL_PEERS_MAX + 1];
	uint64_t w[NODE_REPL_PEERS_MAX + 1];
	size_t n = 0, k;
	int self_in = 0;

	if (r == NULL || root == NULL || (urls == NULL && cap > 0))
		return FWC_ERR_ARG;
	pthread_mutex_lock(&r->mu);
	if (r->self[0] == '\0' && r->cfg.replication_factor > 0) {
		pthread_mutex_unlock(&r->mu);
		return FWC_ERR_STATE;
	}
	if (r->self[0] != '\0')
		cand[n++] = r->self;
	pthread_mutex_unlock(&r->mu);
	for (size_t i = 0; i < r->npeers; i++) {
		int dup = 0;

		for (size_t j = 0; j < n; j++)
			dup |= strcmp(cand[j], r->peers[i].url) == 0;
		if (!dup) /* a node listed twice (or itself as a peer) is one candidate */
			cand[n++] = r->peers[i].url;
	}
	for (size_t i = 0; i < n; i++)
		w[i] = placement_weight(cand[i], root->digest);
	/* Heaviest first; ties (never seen with SHA-256) by URL, so the order is total. */
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0 && (w[j] > w[j - 1] || (w[j] == w[j - 1] &&
		                                                 strcmp(cand[j], cand[j - 1]) < 0));
		     j--) {
			uint64_t tw = w[j];
			const char *tc = cand[j];

			w[j] = w[j - 1];
			cand[j] = cand[j - 1];
			w[j - 1] = tw;
			cand[j - 1] = tc;
		}
	k = r->cfg.replication_factor == 0 || r->cfg.replication_factor > n
	        ? n
	        : r->cfg.replication_factor;
	for (size_t i = 0; i < k; i++) {
		if (i < cap)
			urls[i] = cand[i];
		if (cand[i] == r->self)
			self_in = 1;
	}
	if (mine != NULL)
		*mine = self_in || r->cfg.replication_factor == 0;
	return (int)k;
}

/* 1 when this node should hold a replicated DAG (a release, a peer's pin), 0 when not, -1
 * when it cannot tell yet (its URL is not known). */
static int is_mine(struct node_repl *r, const struct fwc_cid *root)
{
	int mine = 0;

	if (r->cfg.replication_factor == 0)
		return 1;
	if (node_repl_placement(r, root, NULL, 0, &mine) < 0)
		return -1;
	return mine;
}

void node_repl_kick(struct node_repl *r)
{
	if (r == NULL)
		return;
	pthread_mutex_lock(&r->mu);
	r->kicked = 1;
	pthread_cond_signal(&r->cv);
	pthread_mutex_unlock(&r->mu);
}

void node_repl_get_stats(struct node_repl *r, struct node_repl_stats *st)
{
	pthread_mutex_lock(&r->mu);
	*st = r->stats;
	pthread_mutex_unlock(&r->mu);
}

size_t node_repl_npeers(struct node_repl *r)
{
	return r ? r->npeers : 0;
}

int node_repl_peer_info(struct node_repl *r, size_t i, char *url, size_t urlcap, unsigned *failures,
                        uint64_t *refused, int64_t *retry_in_s)
{
	int64_t now = now_s();

	if (r == NULL || i >= r->npeers)
		return FWC_ERR_RANGE;
	pthread_mutex_lock(&r->mu);
	snprintf(url, urlcap, "%s", r->peers[i].url);
	*failures = r->peers[i].failures;
	*refused = r->peers[i].refused;
	*retry_in_s = r->peers[i].retry_at > now ? r->peers[i].retry_at - now : 0;
	pthread_mutex_unlock(&r->mu);
	return FWC_OK;
}

/* ---------------------------------------------------------------------------------------- */
/* Peers' health                                                                            */

static int peer_available(struct node_repl *r, size_t i, int64_t now)
{
	int ok;

	pthread_mutex_lock(&r->mu);
	ok = r->peers[i].retry_at <= now;
	pthread_mutex_unlock(&r->mu);
	return ok;
}

static void peer_ok(struct node_repl *r, size_t i)
{
	pthread_mutex_lock(&r->mu);
	r->peers[i].failures = 0;
	r->peers[i].retry_at = 0;
	pthread_mutex_unlock(&r->mu);
}

/* Mark peer i as failing (refused: it sent bytes that are not the block). */
static void peer_fail(struct node_repl *r, size_t i, int refused, const char *why, const char *cid)
{
	unsigned f, wait;

	pthread_mutex_lock(&r->mu);
	f = ++r->peers[i].failures;
	if (refused) {
		r->peers[i].refused++;
		r->stats.blocks_refused++;
	} else {
		r->stats.fetch_errors++;
	}
	wait = f > 16 ? r->cfg.backoff_max_s : 1u << (f - 1);
	if (wait > r->cfg.backoff_max_s)
		wait = r->cfg.backoff_max_s;
	r->peers[i].retry_at = now_s() + wait;
	pthread_mutex_unlock(&r->mu);
	fprintf(stderr, "fwchaind: replicate: peer %s %s for %s: %s; not asked for %u s\n",
	        r->peers[i].url, refused ? "sent a bad block" : "failed", cid, why, wait);
}

static int stopping(struct node_repl *r)
{
	int s;

	pthread_mutex_lock(&r->mu);
	s = r->stop;
	pthread_mutex_unlock(&r->mu);
	return s;
}

static void *putter_main(void *arg)
{
	struct node_repl *r = arg;

	pthread_mutex_lock(&r->pmu);
	for (;;) {
		struct putjob j;
		struct fwc_errinfo ei = {0};
		char txt[FWC_CID_STR_MAX];
		int rc;

		while (r->pqlen == 0 && !r->pstop)
			pthread_cond_wait(&r->pcv, &r->pmu);
		if (r->pqlen == 0)
			break;
		j = r->pq[r->pqhead];
		r->pqhead = (r->pqhead + 1) % (2 * PUTTERS);
		r->pqlen--;
		r->pbusy++;
		pthread_cond_broadcast(&r->pcv);
		pthread_mutex_unlock(&r->pmu);
		/* The bytes hashed to the CID before they were queued. */
		if (j.stage != NULL) {
			pthread_mutex_lock(&r->smu);
			rc = node_pins_session_stage_put(r->pins, j.sess, j.stage, &j.cid, j.data,
			                                 j.len, NODE_BS_VERIFIED, &ei);
			pthread_mutex_unlock(&r->smu);
		} else {
			rc = node_pins_session_put(r->pins, j.sess, &j.cid, j.data, j.len,
			                           NODE_BS_DEFER_DIRSYNC | NODE_BS_VERIFIED, &ei);
		}
		if (rc != FWC_OK) {
			/* our store's problem (space, disk), not the peer's */
			fwc_cid_format(txt, sizeof(txt), &j.cid);
			fprintf(stderr, "fwchaind: replicate: cannot store %s: %s\n", txt,
			        ei.msg[0] ? ei.msg : fwc_strerror(rc));
		}
		free(j.data);
		pthread_mutex_lock(&r->pmu);
		r->pbusy--;
		if (rc != FWC_OK)
			r->pfailed++;
		pthread_cond_broadcast(&r->pcv);
	}
	pthread_mutex_unlock(&r->pmu);
	return NULL;
}

/* Queue a verified block (data taken) for the putters; waits while the queue is full. */
static void putter_put(struct node_repl *r, struct node_pins_session *sess,
                       struct node_bs_stage *stage, const struct fwc_cid *cid, uint8_t *data,
                       size_t len)
{
	pthread_mutex_lock(&r->pmu);
	while (r->pqlen == 2 * PUTTERS)
		pthread_cond_wait(&r->pcv, &r->pmu);
	r->pq[(r->pqhead + r->pqlen) % (2 * PUTTERS)] =
	    (struct putjob){*cid, data, len, sess, stage};
	r->pqlen++;
	pthread_cond_broadcast(&r->pcv);
	pthread_mutex_unlock(&r->pmu);
}

/* Wait until every queued block is stored; the number of failed puts so far. */
static uint64_t putter_drain(struct node_repl *r)
{
	uint64_t f;

	pthread_mutex_lock(&r->pmu);
	while (r->pqlen > 0 || r->pbusy > 0)
		pthread_cond_wait(&r->pcv, &r->pmu);
	f = r->pfailed;
	pthread_mutex_unlock(&r->pmu);
	return f;
}

/* ---------------------------------------------------------------------------------------- */
/* Transfers                                                                                */

struct buf {
	uint8_t *p;
	size_t len, cap, max;
	int too_long;
};

static size_t buf_write(char *data, size_t size, size_t nmemb, void *ctx)
{
	struct buf *b = ctx;
	size_t n = size * nmemb;

	if (n > b->max - b->len) {
		b->too_long = 1;
		return 0; /* aborts the transfer (CURLE_WRITE_ERROR) */
	}
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 16384;
		uint8_t *np;

		while (cap < b->len + n)
			cap = cap > b->max / 2 ? b->max : cap * 2;
		np = realloc(b->p, cap);
		if (np == NULL)
			return 0;
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, data, n);
	b->len += n;
	return n;
}

static CURL *easy_new(struct node_repl *r, const char *url, struct buf *b, long timeout_ms)
{
	CURL *e = curl_easy_init();

	if (e == NULL)
		return NULL;
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, buf_write);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, b);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)r->cfg.connect_ms);
	curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, r->cfg.min_rate);
	curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, (long)r->cfg.low_speed_s);
	curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)b->max);
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_USERAGENT, "fwchaind-replicate/1");
	return e;
}

/* A block being fetched. */
struct job {
	struct fwc_cid cid;
	char cidtxt[FWC_CID_STR_MAX];
	struct buf b;
	uint32_t tried; /* peers asked this round */
	int peer;
	int ok;
	CURL *easy;
	struct curl_slist *hdrs;
};

/* Pick the next peer for job j (starting from a per-job rotation), or -1. */
static int next_peer(struct node_repl *r, struct job *j, size_t idx)
{
	int64_t now = now_s();

	for (size_t k = 0; k < r->npeers; k++) {
		size_t i = (idx + r->rr + k) % r->npeers;

		if (!(j->tried & (1u << i)) && peer_available(r, i, now))
			return (int)i;
	}
	return -1;
}

static int job_start(struct node_repl *r, CURLM *m, struct job *j, size_t idx)
{
	char url[NODE_REPL_URL_MAX + FWC_CID_STR_MAX + 32];
	int p = next_peer(r, j, idx);

	if (p < 0)
		return -1;
	j->peer = p;
	j->tried |= 1u << p;
	j->b.len = 0;
	j->b.too_long = 0;
	snprintf(url, sizeof(url), "%s/ipfs/%s?format=raw", r->peers[p].url, j->cidtxt);
	j->easy = easy_new(r, url, &j->b, (long)r->cfg.timeout_s * 1000);
	if (j->easy == NULL)
		return -1;
	if (j->hdrs == NULL)
		j->hdrs = curl_slist_append(NULL, "Accept: application/vnd.ipld.raw");
	curl_easy_setopt(j->easy, CURLOPT_HTTPHEADER, j->hdrs);
	curl_easy_setopt(j->easy, CURLOPT_PRIVATE, j);
	if (curl_multi_add_handle(m, j->easy) != CURLM_OK) {
		curl_easy_cleanup(j->easy);
		j->easy = NULL;
		return -1;
	}
	return 0;
}

/* A finished transfer: keep the block (1), or say why not and mark the peer (0). */
static int job_finish(struct node_repl *r, struct node_pins_session *sess, struct job *j,
                      CURLcode code)
{
	long status = 0;
	char why[160];
	int refused = 0;

	curl_easy_getinfo(j->easy, CURLINFO_RESPONSE_CODE, &status);
	if (j->b.too_long || code == CURLE_FILESIZE_EXCEEDED) {
		snprintf(why, sizeof(why), "answer longer than %zu bytes", j->b.max);
		refused = 1;
	} else if (code == CURLE_PARTIAL_FILE) {
		snprintf(why, sizeof(why), "answer cut short (%zu bytes)", j->b.len);
		refused = 1;
	} else if (code != CURLE_OK) {
		snprintf(why, sizeof(why), "%s", curl_easy_strerror(code));
	} else if (status == 404) {
		return 0; /* it does not have it: not its fault, ask the next one */
	} else if (status != 200) {
		snprintf(why, sizeof(why), "HTTP status %ld", status);
	} else if (!fwc_cid_matches(&j->cid, j->b.p, j->b.len)) {
		snprintf(why, sizeof(why), "%zu bytes that do not hash to the CID", j->b.len);
		refused = 1;
	} else {
		/* Verified: stored by a putter. A dag-pb block is kept here too (its links name
		 * the next wave); a raw leaf's buffer goes to the putter. */
		uint8_t *data = j->b.p;

		if (j->cid.codec == FWC_CID_CODEC_DAGPB) {
			data = malloc(j->b.len ? j->b.len : 1);
			if (data == NULL)
				return -1;
			memcpy(data, j->b.p, j->b.len);
		} else {
			j->b.p = NULL;
			j->b.cap = 0;
		}
		putter_put(r, sess, r->stage, &j->cid, data, j->b.len);
		peer_ok(r, (size_t)j->peer);
		pthread_mutex_lock(&r->mu);
		r->stats.blocks_fetched++;
		r->stats.bytes_fetched += j->b.len;
		pthread_mutex_unlock(&r->mu);
		return 1;
	}
	peer_fail(r, (size_t)j->peer, refused, why, j->cidtxt);
	return 0;
}

/* Fetch jobs[0..n) in parallel (at most concurrency at once), each from one peer after
 * another until one gives the right bytes. j->ok tells which arrived (and were stored). */
static void fetch_all(struct node_repl *r, struct node_pins_session *sess, struct job *jobs,
                      size_t n)
{
	CURLM *m = curl_multi_init();
	size_t next = 0, active = 0;

	if (m == NULL)
		return;
	while ((next < n || active > 0) && !stopping(r)) {
		CURLMsg *msg;
		int left, still;

		while (active < r->cfg.concurrency && next < n) {
			if (job_start(r, m, &jobs[next], next) == 0)
				active++;
			next++;
		}
		curl_multi_perform(m, &still);
		while ((msg = curl_multi_info_read(m, &left)) != NULL) {
			struct job *j = NULL;
			int done;

			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&j);
			done = job_finish(r, sess, j, msg->data.result);
			curl_multi_remove_handle(m, j->easy);
			curl_easy_cleanup(j->easy);
			j->easy = NULL;
			active--;
			if (done == 1) {
				j->ok = 1;
			} else if (done == 0 && job_start(r, m, j, (size_t)(j - jobs)) == 0) {
				active++; /* the next peer */
			}
		}
		if (active > 0)
			curl_multi_poll(m, NULL, 0, 200, NULL);
	}
	for (size_t i = 0; i < n; i++) {
		if (jobs[i].easy) {
			curl_multi_remove_handle(m, jobs[i].easy);
			curl_easy_cleanup(jobs[i].easy);
			jobs[i].easy = NULL;
		}
	}
	curl_multi_cleanup(m);
}

/* ---------------------------------------------------------------------------------------- */
/* Walking a DAG                                                                            */

/* A set of digests (open addressing). */
struct set {
	uint8_t (*d)[FWC_CID_DIGEST_LEN];
	uint8_t *used;
	size_t cap, n;
};

static int set_add(struct set *s, const uint8_t *dg) /* 1 added, 0 present, -1 nomem */
{
	size_t i;

	if ((s->n + 1) * 2 > s->cap) {
		struct set ns = {0};

		ns.cap = s->cap ? s->cap * 2 : 1024;
		ns.d = malloc(ns.cap * sizeof(*ns.d));
		ns.used = calloc(ns.cap, 1);
		if (ns.d == NULL || ns.used == NULL) {
			free(ns.d);
			free(ns.used);
			return -1;
		}
		for (size_t k = 0; k < s->cap; k++)
			if (s->used[k])
				set_add(&ns, s->d[k]);
		free(s->d);
		free(s->used);
		*s = ns;
	}
	i = ((size_t)dg[0] | (size_t)dg[1] << 8 | (size_t)dg[2] << 16 | (size_t)dg[3] << 24) &
	    (s->cap - 1);
	while (s->used[i]) {
		if (memcmp(s->d[i], dg, FWC_CID_DIGEST_LEN) == 0)
			return 0;
		i = (i + 1) & (s->cap - 1);
	}
	s->used[i] = 1;
	memcpy(s->d[i], dg, FWC_CID_DIGEST_LEN);
	s->n++;
	return 1;
}

static void set_free(struct set *s)
{
	free(s->d);
	free(s->used);
	memset(s, 0, sizeof(*s));
}

struct cidvec {
	struct fwc_cid *v;
	size_t n, cap;
};

static int vec_push(struct cidvec *v, const struct fwc_cid *c)
{
	if (v->n == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 64;
		struct fwc_cid *nv = realloc(v->v, cap * sizeof(*nv));

		if (nv == NULL)
			return -1;
		v->v = nv;
		v->cap = cap;
	}
	v->v[v->n++] = *c;
	return 0;
}

/* Children of a dag-pb block into next. */
static int expand(struct cidvec *next, const struct fwc_cid *cid, const uint8_t *data, size_t len)
{
	struct fwc_dagpb_node node;
	struct fwc_dagpb_iter it;
	struct fwc_dagpb_link l;
	int rc;

	if (cid->codec != FWC_CID_CODEC_DAGPB)
		return 0;
	if (fwc_dagpb_decode(&node, data, len, NULL) != FWC_OK)
		return -1;
	fwc_dagpb_iter_init(&it, &node);
	while ((rc = fwc_dagpb_iter_next(&it, &l)) == 1)
		if (vec_push(next, &l.cid) != 0)
			return -1;
	return rc < 0 ? -1 : 0;
}

/* Make the DAG under root complete in the store, fetching what is missing. 1 complete,
 * 0 not (some block could not be had this round), -1 an error. */
static int replicate_dag(struct node_repl *r, const struct fwc_cid *root,
                         struct node_pins_session *sess)
{
	struct cidvec wave = {0}, next = {0};
	struct set seen = {0};
	char txt[FWC_CID_STR_MAX];
	int complete = 1, rc = 0;
	uint64_t failed_before = putter_drain(r);
	struct fwc_errinfo sei = {0};

	if (vec_push(&wave, root) != 0)
		return -1;
	/* The fetched blocks go into one pack, made durable and visible at once at the end
	 * (node/blockstore.h), as an upload's: one sync per DAG, not one per block. Without a
	 * stage (temp space refused), one durable file per block. */
	if (node_bs_stage_begin(r->bs, &r->stage, &sei) != FWC_OK)
		r->stage = NULL;
	while (wave.n > 0 && !stopping(r)) {
		struct job *jobs = calloc(wave.n, sizeof(*jobs));
		size_t nj = 0;

		if (jobs == NULL) {
			rc = -1;
			break;
		}
		next.n = 0;
		for (size_t i = 0; i < wave.n && rc == 0; i++) {
			const struct fwc_cid *c = &wave.v[i];
			uint8_t *data = NULL;
			size_t len = 0;
			int s = set_add(&seen, c->digest);

			if (s < 0 || seen.n > NODE_DAG_DEFAULT_MAX_BLOCKS) {
				rc = -1;
				break;
			}
			if (s == 0)
				continue;
			if (node_bs_has(r->bs, c, NULL) == 1) {
				if (c->codec != FWC_CID_CODEC_DAGPB)
					continue;
				s = node_bs_get(r->bs, c, &data, &len, NULL);
				if (s == FWC_OK) {
					if (expand(&next, c, data, len) != 0)
						rc = -1;
					free(data);
					continue;
				}
				if (s != FWC_ERR_HASH_MISMATCH) {
					rc = -1;
					break;
				}
				node_bs_delete(r->bs, c); /* corrupt on our disk: fetch it again */
			}
			jobs[nj].cid = *c;
			fwc_cid_format(jobs[nj].cidtxt, sizeof(jobs[nj].cidtxt), c);
			jobs[nj].b.max = r->cfg.max_block;
			nj++;
		}
		if (rc == 0 && nj > 0) {
			fetch_all(r, sess, jobs, nj);
			for (size_t i = 0; i < nj; i++) {
				if (!jobs[i].ok)
					complete = 0;
				else if (expand(&next, &jobs[i].cid, jobs[i].b.p, jobs[i].b.len) !=
				         0)
					rc = -1;
			}
		}
		for (size_t i = 0; i < nj; i++) {
			free(jobs[i].b.p);
			curl_slist_free_all(jobs[i].hdrs);
		}
		free(jobs);
		{
			struct cidvec t = wave;

			wave = next;
			next = t;
		}
		if (rc != 0)
			break;
	}
	/* Every verified block stored before the DAG is declared complete; what was fetched is
	 * kept even when the DAG is not complete yet (each block was verified). */
	if (putter_drain(r) != failed_before)
		complete = 0;
	if (r->stage != NULL) {
		if (node_bs_stage_commit(r->stage, &sei) != FWC_OK) {
			fprintf(stderr,
			        "fwchaind: replicate: cannot store the fetched blocks: %s\n",
			        sei.msg);
			complete = 0;
		}
		r->stage = NULL;
	}
	if (stopping(r))
		complete = 0;
	free(wave.v);
	free(next.v);
	set_free(&seen);
	if (rc != 0) {
		fwc_cid_format(txt, sizeof(txt), root);
		fprintf(stderr,
		        "fwchaind: replicate: cannot walk %s (a block does not decode, or "
		        "the DAG is too large)\n",
		        txt);
		return -1;
	}
	return complete;
}

/* ---------------------------------------------------------------------------------------- */
/* Rounds                                                                                   */

/* A list of (root, origin) pairs. */
struct pair {
	struct fwc_cid root;
	char origin[NODE_PIN_ORIGIN_MAX + 1];
};
/* A list of (root, origin) pairs with a hash index on the root, so that a round over a
 * ledger of many releases (or a peer listing many pins) stays linear: the index holds
 * position + 1 (0: empty) in open addressing, keyed by SipHash (libsodium's shorthash, a key
 * drawn per process) of the root's digest, since peers choose what they list. */
struct pairs {
	struct pair *v;
	size_t n, cap;
	size_t *ix, ixn; /* ixn: a power of two, at least twice n */
};

static uint8_t pairs_key[crypto_shorthash_KEYBYTES];
static pthread_once_t pairs_key_once = PTHREAD_ONCE_INIT;

static void pairs_key_init(void)
{
	if (sodium_init() < 0) /* randombytes works without it too, from the OS */
		fprintf(stderr, "fwchaind: replicate: libsodium did not initialise\n");
	randombytes_buf(pairs_key, sizeof(pairs_key));
}

static size_t pairs_hash(const struct fwc_cid *v1)
{
	uint8_t h[crypto_shorthash_BYTES];
	uint64_t x;

	pthread_once(&pairs_key_once, pairs_key_init);
	crypto_shorthash(h, v1->digest, sizeof(v1->digest), pairs_key);
	memcpy(&x, h, sizeof(x));
	return (size_t)x;
}

static void pairs_index(size_t *ix, size_t ixn, const struct pair *v, size_t i)
{
	size_t s = pairs_hash(&v[i].root) & (ixn - 1);

	while (ix[s] != 0)
		s = (s + 1) & (ixn - 1);
	ix[s] = i + 1;
}

static int pairs_push(struct pairs *p, const struct fwc_cid *root, const char *origin)
{
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 64;
		void *nv = realloc(p->v, cap * sizeof(*p->v));

		if (nv == NULL)
			return -1;
		p->v = nv;
		p->cap = cap;
	}
	if (2 * (p->n + 1) > p->ixn) {
		size_t ixn = p->ixn ? 2 * p->ixn : 128;
		size_t *ix = calloc(ixn, sizeof(*ix));

		if (ix == NULL)
			return -1;
		for (size_t i = 0; i < p->n; i++)
			pairs_index(ix, ixn, p->v, i);
		free(p->ix);
		p->ix = ix;
		p->ixn = ixn;
	}
	fwc_cid_to_v1(&p->v[p->n].root, root);
	snprintf(p->v[p->n].origin, sizeof(p->v[p->n].origin), "%s", origin);
	pairs_index(p->ix, p->ixn, p->v, p->n);
	p->n++;
	return 0;
}

static int pairs_has(const struct pairs *p, const struct fwc_cid *root, const char *origin)
{
	struct fwc_cid v1;
	size_t s;

	if (p->ixn == 0)
		return 0;
	fwc_cid_to_v1(&v1, root);
	for (s = pairs_hash(&v1) & (p->ixn - 1); p->ix[s] != 0; s = (s + 1) & (p->ixn - 1)) {
		const struct pair *e = &p->v[p->ix[s] - 1];

		if (fwc_cid_equal(&e->root, &v1) &&
		    (origin == NULL || strcmp(e->origin, origin) == 0))
			return 1;
	}
	return 0;
}

static void pairs_free(struct pairs *p)
{
	free(p->v);
	free(p->ix);
	memset(p, 0, sizeof(*p));
}

static int collect(void *ctx, const struct fwc_cid *root, const char *origin, int64_t created)
{
	(void)created;
	return pairs_push(ctx, root, origin) == 0 ? 0 : -1;
}

/* GET url/path into b (at most max bytes). 0 when a 200 arrived. */
static int http_get(struct node_repl *r, const char *url, struct buf *b, long timeout_ms)
{
	CURL *e = easy_new(r, url, b, timeout_ms);
	long status = 0;
	CURLcode c;

	if (e == NULL)
		return -1;
	curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 0L);
	c = curl_easy_perform(e);
	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(e);
	return c == CURLE_OK && status == 200 ? 0 : -1;
}

/* Learn the primary pins of every reachable peer into seen. Returns 1 when every peer
 * answered (so what none lists may be forgotten), 0 otherwise. */
static int learn_peer_pins(struct node_repl *r, struct pairs *seen)
{
	int all = 1;

	for (size_t i = 0; i < r->npeers && !stopping(r); i++) {
		char url[NODE_REPL_URL_MAX + 16];
		struct buf b = {0};
		json_t *j = NULL, *pins;
		size_t k;
		json_t *e;

		b.max = PINS_ANSWER_MAX;
		snprintf(url, sizeof(url), "%s/v1/pins", r->peers[i].url);
		if (http_get(r, url, &b, PEER_LIST_TIMEOUT_S * 1000L) != 0 ||
		    (j = json_loadb((const char *)b.p, b.len, 0, NULL)) == NULL ||
		    !json_is_array(pins = json_object_get(j, "pins"))) {
			all = 0;
			json_decref(j);
			free(b.p);
			continue;
		}
		json_array_foreach(pins, k, e)
		{
			const char *txt = json_string_value(json_object_get(e, "cid"));
			json_t *origins = json_object_get(e, "origins"), *o;
			struct fwc_cid cid;
			size_t q;
			int primary = 0;

			if (txt == NULL || !json_is_array(origins) ||
			    fwc_cid_parse(&cid, txt, strlen(txt), NULL) != FWC_OK)
				continue;
			json_array_foreach(origins, q, o)
			{
				const char *s = json_string_value(o);

				if (s && strcmp(s, NODE_REPL_ORIGIN_REPLICA) != 0)
					primary = 1;
			}
			if (primary && !pairs_has(seen, &cid, NULL))
				pairs_push(seen, &cid, NODE_REPL_ORIGIN_REPLICA);
		}
		if (json_object_get(j, "truncated") == json_true())
			all = 0;
		json_decref(j);
		free(b.p);
	}
	return all;
}

static void round_once(struct node_repl *r, int full_check)
{
	struct pairs local = {0}, wants = {0}, seen = {0}, work = {0};
	int all_answered = 0;

	node_pins_list(r->pins, collect, &local);
	if (r->cfg.follow_peers && r->npeers > 0) {
		all_answered = learn_peer_pins(r, &seen);
		for (size_t i = 0; i < seen.n; i++) {
			int pinned = 0;

			if (pairs_has(&local, &seen.v[i].root, NODE_REPL_ORIGIN_REPLICA) ||
			    is_mine(r, &seen.v[i].root) != 1)
				continue;
			node_repl_want(r, &seen.v[i].root, NODE_REPL_ORIGIN_REPLICA, &pinned, NULL,
			               NULL);
		}
		/* What no peer lists any more, or placement gives to other nodes, is no longer
		 * replicated here. */
		for (size_t i = 0; i < local.n; i++)
			if (strcmp(local.v[i].origin, NODE_REPL_ORIGIN_REPLICA) == 0 &&
			    ((all_answered && !pairs_has(&seen, &local.v[i].root, NULL)) ||
			     is_mine(r, &local.v[i].root) == 0))
				node_pins_remove(r->pins, &local.v[i].root,
				                 NODE_REPL_ORIGIN_REPLICA);
	}
	node_repl_wants(r, collect, &wants);
	for (size_t i = 0; i < wants.n; i++)
		if (strcmp(wants.v[i].origin, NODE_REPL_ORIGIN_REPLICA) == 0 &&
		    ((all_answered && !pairs_has(&seen, &wants.v[i].root, NULL)) ||
		     is_mine(r, &wants.v[i].root) == 0))
			node_repl_unwant(r, &wants.v[i].root, NODE_REPL_ORIGIN_REPLICA);
	for (size_t i = 0; i < wants.n; i++) {
		int replicated = strcmp(wants.v[i].origin, NODE_REPL_ORIGIN_REPLICA) == 0 ||
		                 strcmp(wants.v[i].origin, "release") == 0;

		/* A release or a peer's pin is fetched by the nodes placement chooses; the
		 * others leave it to them (the want stays: status shows it, and a change of
		 * peers or factor is followed). Operator pins are fetched wherever made. */
		if (replicated && is_mine(r, &wants.v[i].root) != 1)
			continue;
		if (!pairs_has(&work, &wants.v[i].root, NULL))
			pairs_push(&work, &wants.v[i].root, wants.v[i].origin);
	}
	if (full_check) {
		/* Pinned but incomplete (a store lost or emptied under the pins): fetch again. */
		for (size_t i = 0; i < local.n; i++)
			if (!pairs_has(&work, &local.v[i].root, NULL) &&
			    node_dag_check(r->bs, &local.v[i].root, NULL, NULL, NULL, NULL) ==
			        FWC_ERR_NOT_FOUND)
				pairs_push(&work, &local.v[i].root, local.v[i].origin);
	}
	for (size_t i = 0; i < work.n && !stopping(r) && r->npeers > 0; i++) {
		struct node_pins_session *sess = NULL;
		int done;

		if (node_pins_session_begin(r->pins, &sess) != FWC_OK)
			break;
		done = replicate_dag(r, &work.v[i].root, sess);
		if (done == 1 && node_bs_sync(r->bs, NULL) == FWC_OK) {
			/* Pin under every origin that wants it, before the session ends. */
			struct pairs w2 = {0};

			node_repl_wants(r, collect, &w2);
			for (size_t k = 0; k < w2.n; k++) {
				if (!fwc_cid_equal(&w2.v[k].root, &work.v[i].root))
					continue;
				if (node_pins_add(r->pins, &w2.v[k].root, w2.v[k].origin, NULL,
				                  NULL) == FWC_OK) {
					node_repl_unwant(r, &w2.v[k].root, w2.v[k].origin);
					pthread_mutex_lock(&r->mu);
					r->stats.pinned++;
					pthread_mutex_unlock(&r->mu);
				}
			}
			pairs_free(&w2);
		}
		node_pins_session_end(r->pins, sess);
	}
	pairs_free(&local);
	pairs_free(&wants);
	pairs_free(&seen);
	pairs_free(&work);
}

static void *repl_main(void *arg)
{
	struct node_repl *r = arg;
	int64_t last_full = 0;

	for (;;) {
		struct timespec dl;
		int64_t now = now_s();
		int full = now - last_full >= FULL_CHECK_S;

		if (stopping(r))
			break;
		round_once(r, full);
		if (full)
			last_full = now;
		pthread_mutex_lock(&r->mu);
		r->stats.rounds++;
		r->rr++;
		clock_gettime(CLOCK_REALTIME, &dl);
		dl.tv_sec += r->cfg.interval_ms / 1000;
		dl.tv_nsec += (long)(r->cfg.interval_ms % 1000) * 1000000L;
		if (dl.tv_nsec >= 1000000000L) {
			dl.tv_sec++;
			dl.tv_nsec -= 1000000000L;
		}
		while (!r->stop && !r->kicked)
			if (pthread_cond_timedwait(&r->cv, &r->mu, &dl) == ETIMEDOUT)
				break;
		if (r->kicked)
			last_full = 0; /* a new want: also look at every pin again */
		r->kicked = 0;
		pthread_mutex_unlock(&r->mu);
	}
	return NULL;
}

int node_repl_start(struct node_repl *r, struct fwc_errinfo *ei)
{
	if (r == NULL || r->running)
		return FWC_ERR_ARG;
	for (; r->nputters < PUTTERS; r->nputters++)
		if (pthread_create(&r->putters[r->nputters], NULL, putter_main, r) != 0)
			return fwc_fail(ei, 0, FWC_ERR_IO, "replicate: cannot start the threads");
	if (pthread_create(&r->thread, NULL, repl_main, r) != 0)
		return fwc_fail(ei, 0, FWC_ERR_IO, "replicate: cannot start the thread");
	r->running = 1;
	return FWC_OK;
}

void node_repl_close(struct node_repl *r)
{
	if (r == NULL)
		return;
	if (r->running) {
		pthread_mutex_lock(&r->mu);
		r->stop = 1;
		pthread_cond_signal(&r->cv);
		pthread_mutex_unlock(&r->mu);
		pthread_join(r->thread, NULL);
	}
	pthread_mutex_lock(&r->pmu);
	r->pstop = 1;
	pthread_cond_broadcast(&r->pcv);
	pthread_mutex_unlock(&r->pmu);
	for (unsigned i = 0; i < r->nputters; i++)
		pthread_join(r->putters[i], NULL);
	pthread_cond_destroy(&r->pcv);
	pthread_mutex_destroy(&r->pmu);
	pthread_mutex_destroy(&r->smu);
	for (int i = 0; i < W_COUNT; i++)
		sqlite3_finalize(r->wst[i]);
	sqlite3_close(r->db);
	pthread_cond_destroy(&r->cv);
	pthread_mutex_destroy(&r->mu);
	pthread_mutex_destroy(&r->db_mu);
	free(r);
}

/* ---------------------------------------------------------------------------------------- */
/* Peers' status of one DAG                                                                 */

void node_repl_peer_status(struct node_repl *r, const struct fwc_cid *root, unsigned timeout_ms,
                           void (*fn)(void *ctx, const char *url, int complete, const char *err),
                           void *ctx)
{
	CURLM *m;
	CURL *e[NODE_REPL_PEERS_MAX] = {0};
	struct buf b[NODE_REPL_PEERS_MAX];
	char txt[FWC_CID_STR_MAX];
	int still = 1;

	if (r == NULL || root == NULL || fn == NULL || r->npeers == 0)
		return;
	m = curl_multi_init();
	if (m == NULL)
		return;
	fwc_cid_format(txt, sizeof(txt), root);
	memset(b, 0, sizeof(b));
	for (size_t i = 0; i < r->npeers; i++) {
		char url[NODE_REPL_URL_MAX + FWC_CID_STR_MAX + 40];

		b[i].max = STATUS_ANSWER_MAX;
		snprintf(url, sizeof(url), "%s/v1/content/%s/status?local=1", r->peers[i].url, txt);
		e[i] = easy_new(r, url, &b[i], (long)timeout_ms);
		if (e[i]) {
			curl_easy_setopt(e[i], CURLOPT_LOW_SPEED_LIMIT, 0L);
			curl_multi_add_handle(m, e[i]);
		}
	}
	while (still > 0) {
		if (curl_multi_perform(m, &still) != CURLM_OK)
			break;
		if (still > 0)
			curl_multi_poll(m, NULL, 0, 100, NULL);
	}
	for (size_t i = 0; i < r->npeers; i++) {
		CURLMsg *msg;
		int left;
		long status = 0;
		json_t *j = NULL, *c;

		(void)msg;
		(void)left;
		if (e[i] == NULL) {
			fn(ctx, r->peers[i].url, 0, "out of memory");
			continue;
		}
		curl_easy_getinfo(e[i], CURLINFO_RESPONSE_CODE, &status);
		if (status == 200 && (j = json_loadb((const char *)b[i].p, b[i].len, 0, NULL)) &&
		    json_is_boolean(c = json_object_get(j, "complete")))
			fn(ctx, r->peers[i].url, json_is_true(c), NULL);
		else
			fn(ctx, r->peers[i].url, 0,
			   status ? "the peer's answer is not a status" : "no answer");
		json_decref(j);
		curl_multi_remove_handle(m, e[i]);
		curl_easy_cleanup(e[i]);
		free(b[i].p);
	}
	curl_multi_cleanup(m);
}
