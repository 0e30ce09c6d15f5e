/* Load generator for bench/node_tx.sh: real signed transactions POSTed to a running fwchaind
 * on 127.0.0.1, commit throughput and commit latency measured from outside.
 *
 *   bench_node_txload verify [SECONDS]
 *       single-thread BIP-340 verifications per second of raw libsecp256k1, key parse
 *       included (the reference the shell script measures on the node's core before the
 *       load); prints verify_per_s=N.
 *   bench_node_txload checkin-setup PORT DATADIR
 *       for bench/checkin.sh: registers a product (2-of-3 release keys), one device (hardware
 *       rev-b) and one release for it, and prints device=, product=, release=, hwid=, channel=.
 *   bench_node_txload fill PORT DATADIR RELEASES PRODUCTS SECONDS CONNS
 *       for bench/state_scale.sh: PRODUCTS products (2-of-3 release sets) and RELEASES
 *       releases over them on channel stable, POSTed through the node by CONNS release-role
 *       senders; prints the run's figures and product= (one of them) for the check-in.
 *   bench_node_txload run PORT DATADIR MODE COUNT SECONDS CONNS [RATE [BATCH]]
 *       MODE events:   device events, each sent by its device (sender = device key) in the
 *                      self-reported form: the event body in the payload, the envelope
 *                      signature the only one. Registers CONNS * 16 devices first.
 *       MODE releases: RELEASEs whose manifests carry 2 signatures of a 2-of-3 release key
 *                      set (3 signatures with the envelope), one release-role sender and
 *                      channel per connection, counters increasing.
 *       MODE envelope: device-event-shaped transactions from unregistered keys: only the
 *                      envelope is checked (what a node without the state machine does).
 *       The setup transactions (roles, product, key sets, devices) are submitted with the
 *       admin key of DATADIR (admin.keystore + admin.pass) and awaited before the clock
 *       starts. COUNT transactions are signed beforehand (signing is not measured), then
 *       CONNS keep-alive connections POST them, each connection one sender's transactions in
 *       nonce order, as fast as the node takes them or, with RATE, paced at RATE per second in
 *       all (RATE 0: as fast as possible). With BATCH > 1 (at most 4096) each connection
 *       POSTs its transactions BATCH at a time to /v1/txs/batch (a gateway relaying many
 *       events in one request); otherwise one per POST /v1/txs. Prints key=value lines:
 *       committed, seconds, tps, refused, p50_ms, p99_ms.
 *
 * Measurement: a monitor polls GET /v1/health every 2 ms; throughput is the growth of the
 * log from the first POST to the last growth observed (or the time bound, SECONDS). Latency is
 * measured for every transaction: its id (SHA-256 of its bytes) is known before it is sent,
 * the sender stamps the time just before the POST, and the monitor, whenever the height
 * moves, reads the new blocks (GET /v1/blocks/{h}, which lists their transaction ids and is
 * only served once the block is durable) and stamps ours with that poll's time. So it is
 * POST-to-committed as a client polling the node sees it, to within the 2 ms poll. Every loop is
 * bounded in count and in time. */
#define _GNU_SOURCE /* strcasestr */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <secp256k1.h>
#include <secp256k1_extrakeys.h>
#include <secp256k1_schnorrsig.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "fwchain/hex.h"
#include "fwchain/keystore.h"
#include "fwchain/sha256.h"

#include "../tests/node/txgen.h"

#define MAX_CONNS 64
#define DEVS_PER_CONN 16
#define MAX_COUNT 200000
#define RESP_MAX (1024 * 1024) /* a block of 2000 transaction ids is ~140 KB */

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---------------------------------------------------------------------------------------- */
/* A minimal HTTP/1.1 keep-alive client (Content-Length bodies only, as fwchaind answers)    */

struct conn {
	int fd;
	uint16_t port;
	char buf[RESP_MAX];
};

static int conn_open(struct conn *c)
{
	struct sockaddr_in sa;
	struct timeval tv = {10, 0};
	int one = 1;

	if (c->fd >= 0)
		close(c->fd);
	c->fd = socket(AF_INET, SOCK_STREAM, 0);
	if (c->fd < 0)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons(c->port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		close(c->fd);
		c->fd = -1;
		return -1;
	}
	return 0;
}

static int send_all(int fd, const void *p, size_t n)
{
	const uint8_t *b = p;

	while (n > 0) {
		ssize_t w = send(fd, b, n, MSG_NOSIGNAL);

		if (w <= 0)
			return -1;
		b += w;
		n -= (size_t)w;
	}
	return 0;
}

/* One request; returns the status (body NUL-terminated in c->buf + *body_off) or -1. One
 * reconnect and retry when the kept-alive connection was closed by the server. */
static int http(struct conn *c, const char *method, const char *path, const uint8_t *body,
                size_t len, size_t *body_off)
{
	char head[512];
	int hl, attempt;

	hl = snprintf(head, sizeof(head),
	              "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/cbor\r\n"
	              "Content-Length: %zu\r\n\r\n",
	              method, path, len);
	for (attempt = 0; attempt < 2; attempt++) {
		size_t got = 0, need = 0, hend = 0;
		int status = -1;

		if (c->fd < 0 && conn_open(c) != 0)
			return -1;
		if (send_all(c->fd, head, (size_t)hl) != 0 ||
		    (len && send_all(c->fd, body, len) != 0)) {
			conn_open(c);
			continue;
		}
		for (;;) {
			ssize_t r;

			if (got >= sizeof(c->buf) - 1)
				return -1;
			r = recv(c->fd, c->buf + got, sizeof(c->buf) - 1 - got, 0);
			if (r <= 0)
				break;
			got += (size_t)r;
			c->buf[got] = '\0';
			if (hend == 0) {
				char *e = strstr(c->buf, "\r\n\r\n"), *cl;

				if (e == NULL)
					continue;
				hend = (size_t)(e - c->buf) + 4;
				if (sscanf(c->buf, "HTTP/1.%*d %d", &status) != 1)
					return -1;
				cl = strcasestr(c->buf, "\r\ncontent-length:");
				need = hend + (cl && cl < e ? strtoul(cl + 17, NULL, 10) : 0);
			}
			if (hend && got >= need) {
				c->buf[need] = '\0';
				*body_off = hend;
				if (strcasestr(c->buf, "\r\nconnection: close") != NULL &&
				    strcasestr(c->buf, "\r\nconnection: close") < c->buf + hend) {
					close(c->fd);
					c->fd = -1;
				}
				return status;
			}
		}
		if (attempt == 0 && got == 0) {
			conn_open(c); /* the server closed an idle keep-alive connection */
			continue;
		}
		return -1;
	}
	return -1;
}

/* A JSON field's raw value after "name": (good enough for fwchaind's compact answers). */
static const char *json_field(const char *body, const char *name, char *out, size_t cap)
{
	char pat[64];
	const char *p;
	size_t n = 0;

	snprintf(pat, sizeof(pat), "\"%s\":", name);
	if ((p = strstr(body, pat)) == NULL)
		return NULL;
	p += strlen(pat);
	if (*p == '"')
		p++;
	while (*p && *p != '"' && *p != ',' && *p != '}' && n + 1 < cap)
		out[n++] = *p++;
	out[n] = '\0';
	return out;
}

/* ---------------------------------------------------------------------------------------- */
/* Transactions                                                                             */

struct tx {
	uint8_t *bytes;
	size_t len;
	uint8_t id[32];      /* SHA-256 of bytes: the id the node will list in its block */
	int64_t t_post;      /* ns, monotonic, when the POST was sent (atomic) */
	int64_t t_committed; /* ns, when the monitor first saw it in a block (atomic) */
};

static char chain_id[128];
static uint16_t port;

/* Submit, retrying while the mempool is full (at most ~10 s). Returns the status; the id (hex)
 * of an accepted transaction goes to idhex. */
static int submit(struct conn *c, const struct tx *t, char idhex[65], long *retries)
{
	size_t off = 0;

	for (int i = 0; i < 10000; i++) {
		int st = http(c, "POST", "/v1/txs", t->bytes, t->len, &off);

		if (st == 503 && strstr(c->buf + off, "mempool_full")) {
			(*retries)++;
			usleep(1000);
			continue;
		}
		if (st == 202 && idhex && json_field(c->buf + off, "id", idhex, 65) == NULL)
			return -1;
		return st;
	}
	return 503;
}

/* Wait until transaction idhex is committed (at most secs). 1 committed, 0 refused or timed
 * out. */
static int await(struct conn *c, const char *idhex, double secs)
{
	char path[128], status[32];
	double end = now() + secs;
	size_t off = 0;

	snprintf(path, sizeof(path), "/v1/txs/%s", idhex);
	while (now() < end) {
		if (http(c, "GET", path, NULL, 0, &off) == 200 &&
		    json_field(c->buf + off, "status", status, sizeof(status))) {
			if (strcmp(status, "committed") == 0)
				return 1;
			if (strcmp(status, "pending") != 0) {
				fprintf(stderr, "txload: %s: %s\n", idhex, c->buf + off);
				return 0;
			}
		}
		usleep(5000);
	}
	fprintf(stderr, "txload: %s not committed within %.0f s\n", idhex, secs);
	return 0;
}

static int make(struct tx *t, const struct txg_actor *a, uint32_t type, uint64_t nonce,
                const uint8_t *pl, size_t pl_len)
{
	static uint8_t buf[FWC_TX_MAX];
	size_t len = 0;

	if (txg_tx(buf, sizeof(buf), &len, a, type, nonce, chain_id, (uint64_t)time(NULL), pl,
	           pl_len) != FWC_OK ||
	    (t->bytes = malloc(len)) == NULL)
		return -1;
	memcpy(t->bytes, buf, len);
	t->len = len;
	t->t_post = t->t_committed = 0;
	return fwc_sha256(t->id, buf, len) == FWC_OK ? 0 : -1;
}

/* Submit setup transactions in order on one connection and wait for the last to commit. */
static int setup_submit(struct tx *txs, size_t n)
{
	struct conn *c = calloc(1, sizeof(*c));
	char id[65] = "";
	long retries = 0;
	int ok = n == 0;

	if (c == NULL)
		return -1;
	c->fd = -1;
	c->port = port;
	for (size_t i = 0; i < n; i++) {
		int st = submit(c, &txs[i], id, &retries);

		if (st != 202) {
			fprintf(stderr, "txload: setup transaction %zu refused (%d): %s\n", i, st,
			        c->fd >= 0 ? c->buf : "");
			goto out;
		}
	}
	if (n)
		ok = await(c, id, 60);
out:
	if (c->fd >= 0)
		close(c->fd);
	free(c);
	return ok ? 0 : -1;
}

/* ---------------------------------------------------------------------------------------- */
/* The load                                                                                 */

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static struct {
	pthread_mutex_t mu;
	long accepted, refused, retries;
	int senders_done;
	double t_start, deadline;
	double per_sender_rate; /* transactions per second per connection; 0: as fast as possible */
	size_t batch;           /* transactions per POST: 1 POST /v1/txs, more POST /v1/txs/batch */
} L = {.mu = PTHREAD_MUTEX_INITIALIZER, .batch = 1};

struct sender {
	pthread_t th;
	struct tx *txs;
	size_t n;
	struct conn *c;
};

/* A CBOR head (major type, argument) into out; its length. */
static size_t cbor_head(uint8_t *out, unsigned major, uint64_t v)
{
	if (v < 24) {
		out[0] = (uint8_t)(major << 5 | v);
		return 1;
	}
	if (v < 256) {
		out[0] = (uint8_t)(major << 5 | 24);
		out[1] = (uint8_t)v;
		return 2;
	}
	if (v < 65536) {
		out[0] = (uint8_t)(major << 5 | 25);
		out[1] = (uint8_t)(v >> 8);
		out[2] = (uint8_t)v;
		return 3;
	}
	out[0] = (uint8_t)(major << 5 | 26);
	for (int i = 0; i < 4; i++)
		out[1 + i] = (uint8_t)(v >> (24 - 8 * i));
	return 5;
}

/* POST txs[0..n) as one batch (docs/node.md: a CBOR array of byte strings); entries refused
 * as mempool_full (and those after them of the same senders, refused as nonce gaps) are sent
 * again from the first such entry, entries a resend finds already pending (duplicate) count
 * as accepted. Adds to *accepted and *refused. */
static void submit_batch(struct conn *c, struct tx *txs, size_t n, long *accepted, long *refused)
{
	static __thread uint8_t body[4u << 20];
	size_t start = 0;
	int resend = 0;

	for (int round = 0; start < n && round < 10000; round++) {
		size_t len = cbor_head(body, 4, n - start), off = 0, full = SIZE_MAX, j = 0;
		const char *p;
		int st;

		for (size_t i = start; i < n; i++) {
			if (len + 5 + txs[i].len > sizeof(body))
				return; /* cannot happen with the bench's sizes */
			len += cbor_head(body + len, 2, txs[i].len);
			memcpy(body + len, txs[i].bytes, txs[i].len);
			len += txs[i].len;
		}
		st = http(c, "POST", "/v1/txs/batch", body, len, &off);
		if (st != 200) {
			if (*refused < 3)
				fprintf(stderr, "txload: batch refused (%d): %s\n", st,
				        c->fd >= 0 ? c->buf + off : "");
			*refused += (long)(n - start);
			return;
		}
		for (p = strstr(c->buf + off, "\"status\":\""); p && j < n - start;
		     p = strstr(p, "\"status\":\""), j++) {
			char code[40] = "";

			p += 10;
			if (strncmp(p, "pending", 7) == 0) {
				if (full == SIZE_MAX)
					(*accepted)++;
				continue;
			}
			json_field(p, "code", code, sizeof(code));
			if (strcmp(code, "mempool_full") == 0 && full == SIZE_MAX)
				full = j;
			else if (full == SIZE_MAX && resend && strcmp(code, "duplicate") == 0)
				(*accepted)++;
			else if (full == SIZE_MAX) {
				if (*refused < 3)
					fprintf(stderr, "txload: refused in a batch: %.200s\n", p);
				(*refused)++;
			}
		}
		if (full == SIZE_MAX)
			return;
		L.retries++;
		start += full;
		resend = 1;
		usleep(1000);
	}
}

static void *sender_main(void *arg)
{
	struct sender *s = arg;

	for (size_t i = 0; L.batch > 1 && i < s->n && now() < L.deadline; i += L.batch) {
		size_t k = s->n - i < L.batch ? s->n - i : L.batch;
		long acc = 0, ref = 0;

		if (L.per_sender_rate > 0) {
			double due = L.t_start + (double)i / L.per_sender_rate, wait = due - now();

			if (wait > 0)
				usleep((useconds_t)(wait * 1e6));
		}
		for (size_t j = 0; j < k; j++)
			__atomic_store_n(&s->txs[i + j].t_post, now_ns(), __ATOMIC_RELEASE);
		submit_batch(s->c, s->txs + i, k, &acc, &ref);
		pthread_mutex_lock(&L.mu);
		L.accepted += acc;
		L.refused += ref;
		pthread_mutex_unlock(&L.mu);
	}
	for (size_t i = 0; L.batch <= 1 && i < s->n && now() < L.deadline; i++) {
		int st;

		if (L.per_sender_rate > 0) {
			double due = L.t_start + (double)i / L.per_sender_rate, wait = due - now();

			if (wait > 0)
				usleep((useconds_t)(wait * 1e6));
		}
		__atomic_store_n(&s->txs[i].t_post, now_ns(), __ATOMIC_RELEASE);
		st = submit(s->c, &s->txs[i], NULL, &L.retries);
		pthread_mutex_lock(&L.mu);
		if (st == 202) {
			L.accepted++;
		} else {
			if (L.refused < 3)
				fprintf(stderr, "txload: refused (%d): %s\n", st,
				        s->c->fd >= 0 ? s->c->buf : "");
			L.refused++;
		}
		pthread_mutex_unlock(&L.mu);
	}
	pthread_mutex_lock(&L.mu);
	L.senders_done++;
	pthread_mutex_unlock(&L.mu);
	return NULL;
}

static int health(struct conn *c, long long *log_size, long long *height)
{
	char v[32];
	size_t off = 0;

	if (http(c, "GET", "/v1/health", NULL, 0, &off) != 200 ||
	    !json_field(c->buf + off, "log_size", v, sizeof(v)))
		return -1;
	*log_size = atoll(v);
	if (!json_field(c->buf + off, "height", v, sizeof(v)))
		return -1;
	*height = atoll(v);
	return 0;
}

/* Open addressing over every measured transaction, by the first 8 bytes of its id. */
static struct tx **table;
static size_t table_cap;

static uint64_t id_key(const uint8_t *id)
{
	uint64_t k = 0;

	for (int i = 0; i < 8; i++)
		k = k << 8 | id[i];
	return k;
}

static int table_build(struct tx **per_conn, const size_t *n_per_conn, int conns, size_t total)
{
	table_cap = 1;
	while (table_cap < 2 * total + 2)
		table_cap <<= 1;
	if ((table = calloc(table_cap, sizeof(*table))) == NULL)
		return -1;
	for (int c = 0; c < conns; c++)
		for (size_t i = 0; i < n_per_conn[c]; i++) {
			size_t h = (size_t)id_key(per_conn[c][i].id) & (table_cap - 1);

			while (table[h])
				h = (h + 1) & (table_cap - 1);
			table[h] = &per_conn[c][i];
		}
	return 0;
}

static struct tx *table_find(const uint8_t id[32])
{
	size_t h = (size_t)id_key(id) & (table_cap - 1);

	for (size_t probes = 0; table[h] && probes < table_cap; probes++) {
		if (memcmp(table[h]->id, id, 32) == 0)
			return table[h];
		h = (h + 1) & (table_cap - 1);
	}
	return NULL;
}

/* Read block h's transaction ids and stamp ours with when. -1 when the block cannot be read. */
static int block_scan(struct conn *c, long long h, int64_t when)
{
	char path[64];
	const char *p;
	size_t off = 0;

	snprintf(path, sizeof(path), "/v1/blocks/%lld", h);
	if (http(c, "GET", path, NULL, 0, &off) != 200 ||
	    (p = strstr(c->buf + off, "\"txs\":[")) == NULL)
		return -1;
	p += 7;
	while (*p == '"') {
		uint8_t id[32];
		size_t n = 0;
		struct tx *t;

		if (fwc_hex_decode(id, sizeof(id), &n, p + 1, 64) != FWC_OK || n != 32)
			return -1;
		if ((t = table_find(id)) != NULL &&
		    __atomic_load_n(&t->t_committed, __ATOMIC_ACQUIRE) == 0)
			__atomic_store_n(&t->t_committed, when, __ATOMIC_RELEASE);
		p += 66;
		if (*p == ',')
			p++;
	}
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double pct(const double *v, size_t n, double p)
{
	size_t i;

	if (n == 0)
		return 0;
	i = (size_t)(p * (double)(n - 1) + 0.5);
	return v[i < n ? i : n - 1];
}

static int run_load(struct tx **per_conn, size_t *n_per_conn, int conns, double secs)
{
	struct sender snd[MAX_CONNS];
	struct conn *mon = calloc(1, sizeof(*mon));
	long long base = 0, size = 0, height = 0, scanned = -1;
	size_t total = 0, nl = 0;
	double t_last_growth, *lat;
	long polls = 0;
	int done = 0;

	if (mon == NULL)
		return -1;
	mon->fd = -1;
	mon->port = port;
	for (int i = 0; i < conns; i++)
		total += n_per_conn[i];
	if ((lat = calloc(total ? total : 1, sizeof(*lat))) == NULL ||
	    table_build(per_conn, n_per_conn, conns, total) != 0 ||
	    health(mon, &base, &scanned) != 0)
		return -1;
	L.t_start = now();
	L.deadline = L.t_start + secs;
	t_last_growth = L.t_start;
	for (int i = 0; i < conns; i++) {
		snd[i].txs = per_conn[i];
		snd[i].n = n_per_conn[i];
		snd[i].c = calloc(1, sizeof(struct conn));
		snd[i].c->fd = -1;
		snd[i].c->port = port;
		pthread_create(&snd[i].th, NULL, sender_main, &snd[i]);
	}
	/* Monitor: bounded by the deadline plus 30 s for the last blocks to commit. */
	while (!done && now() < L.deadline + 30 && polls < 10000000) {
		long long prev = size;
		int senders_done;
		long accepted;

		polls++;
		if (health(mon, &size, &height) != 0) {
			usleep(2000);
			continue;
		}
		if (size > prev)
			t_last_growth = now();
		if (height > scanned) {
			int64_t t = now_ns();

			/* Blocks are durable before /v1/health reports them: every transaction in
			 * them is committed as of this poll. */
			for (long long h = scanned + 1; h <= height; h++)
				if (block_scan(mon, h, t) != 0)
					fprintf(stderr, "txload: cannot read block %lld\n", h);
			scanned = height;
		}
		pthread_mutex_lock(&L.mu);
		senders_done = L.senders_done;
		accepted = L.accepted;
		pthread_mutex_unlock(&L.mu);
		if (senders_done == conns && size - base >= accepted)
			done = 1;
		else
			usleep(2000);
	}
	for (int i = 0; i < conns; i++) {
		pthread_join(snd[i].th, NULL);
		if (snd[i].c->fd >= 0)
			close(snd[i].c->fd);
		free(snd[i].c);
	}
	for (int c = 0; c < conns; c++)
		for (size_t i = 0; i < n_per_conn[c]; i++) {
			const struct tx *t = &per_conn[c][i];

			int64_t tc = __atomic_load_n(&t->t_committed, __ATOMIC_ACQUIRE);
			int64_t tp = __atomic_load_n(&t->t_post, __ATOMIC_ACQUIRE);

			if (tc && tp)
				lat[nl++] = (double)(tc - tp) / 1e6;
		}
	qsort(lat, nl, sizeof(lat[0]), cmp_double);
	printf("accepted=%ld\nrefused=%ld\nmempool_full_retries=%ld\n", L.accepted, L.refused,
	       L.retries);
	printf("committed=%lld\nseconds=%.3f\ntps=%.1f\n", size - base, t_last_growth - L.t_start,
	       t_last_growth > L.t_start ? (double)(size - base) / (t_last_growth - L.t_start) : 0);
	printf("latency_n=%zu\np50_ms=%.1f\np99_ms=%.1f\nall_committed=%d\n", nl,
	       pct(lat, nl, 0.50), pct(lat, nl, 0.99), done);
	if (mon->fd >= 0)
		close(mon->fd);
	free(mon);
	free(lat);
	free(table);
	return 0;
}

/* ---------------------------------------------------------------------------------------- */
/* Scenarios                                                                                */

static struct txg_actor admin;
static uint64_t admin_nonce;

static int load_admin(const char *dir)
{
	char path[1024], pass[256];
	size_t n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/admin.pass", dir);
	if ((f = fopen(path, "r")) == NULL) {
		fprintf(stderr, "txload: cannot read %s\n", path);
		return -1;
	}
	n = fread(pass, 1, sizeof(pass) - 1, f);
	fclose(f);
	while (n && (pass[n - 1] == '\n' || pass[n - 1] == '\r'))
		n--;
	pass[n] = '\0';
	snprintf(path, sizeof(path), "%s/admin.keystore", dir);
	memset(&admin, 0, sizeof(admin));
	if (fwc_keystore_load(&admin.sk, path, pass, n, NULL) != FWC_OK ||
	    fwc_key_public(&admin.pk, &admin.sk) != FWC_OK) {
		fprintf(stderr, "txload: cannot open the admin keystore %s\n", path);
		return -1;
	}
	return 0;
}

/* The admin's current nonce, from the audit trail (its last transaction's nonce). */
static int admin_nonce_get(void)
{
	struct conn *c = calloc(1, sizeof(*c));
	char key[FWC_PUBKEY_TEXT_MAX], path[256], v[32];
	size_t off = 0;
	int st;

	if (c == NULL)
		return -1;
	c->fd = -1;
	c->port = port;
	fwc_pubkey_to_text(key, sizeof(key), &admin.pk);
	snprintf(path, sizeof(path), "/v1/txs?sender=%s&order=desc&limit=1", key);
	st = http(c, "GET", path, NULL, 0, &off);
	admin_nonce = 0;
	if (st == 200 && json_field(c->buf + off, "nonce", v, sizeof(v)))
		admin_nonce = (uint64_t)atoll(v);
	if (c->fd >= 0)
		close(c->fd);
	free(c);
	return st == 200 ? 0 : -1;
}

static uint8_t pl[FWC_TX_PAYLOAD_MAX];
static size_t pl_len;

/* Admin transaction into the setup list. */
static int setup_add(struct tx *list, size_t *n, size_t cap, const struct txg_actor *who,
                     uint64_t *nonce, uint32_t type)
{
	if (*n >= cap || make(&list[*n], who, type, ++*nonce, pl, pl_len) != 0)
		return -1;
	(*n)++;
	return 0;
}

/* Release keys (tag 2), root keys (tag 3), release senders (tag 4), devices (tag 5). */
static struct txg_actor roots[3], rels[3], senders[MAX_CONNS], *devices;

static int scenario(const char *mode, long count, int conns, struct tx **per, size_t *nper)
{
	size_t cap = 64 + (size_t)conns * (DEVS_PER_CONN + 2), n = 0;
	struct tx *setup = calloc(cap, sizeof(*setup));
	const struct txg_actor *rp[3] = {&roots[0], &roots[1], &roots[2]};
	const struct txg_actor *rl[3] = {&rels[0], &rels[1], &rels[2]},
	                       *two[2] = {&rels[0], &rels[1]};
	int envelope = strcmp(mode, "envelope") == 0, events = strcmp(mode, "events") == 0;
	int ndev = conns * DEVS_PER_CONN;
	long per_conn = count / conns;
	char product[32];
	uint8_t rid[32];

	if (setup == NULL || (devices = calloc((size_t)ndev, sizeof(*devices))) == NULL)
		return -1;
	for (uint32_t i = 0; i < 3; i++)
		if (txg_actor_init(&roots[i], 3, i) || txg_actor_init(&rels[i], 2, i))
			return -1;
	/* Fresh keys per run (the ledger may hold an earlier run's): the time is in the tag. */
	for (int i = 0; i < conns; i++)
		if (txg_actor_init(&senders[i], 4,
		                   (uint32_t)(time(NULL) % 100000) * 64 + (uint32_t)i))
			return -1;
	for (int i = 0; i < ndev; i++)
		if (txg_actor_init(&devices[i], 5,
		                   (uint32_t)(time(NULL) % 100000) * 4096 + (uint32_t)i))
			return -1;
	snprintf(product, sizeof(product), "bench%ld", (long)(time(NULL) % 1000000));

	if (!envelope) {
		const char *groups[] = {"bench"};

		/* The admin (root organisation) takes the operator role (refused as role_held
		 * when an earlier run gave it: fine), each sender the release role; a product
		 * with 2-of-3 release keys. */
		if (admin_nonce_get() != 0 ||
		    txg_member_add(pl, sizeof(pl), &pl_len, &admin.pk, FWC_ROLE_OPERATOR, NULL) ||
		    setup_add(setup, &n, cap, &admin, &admin_nonce, FWC_TX_MEMBER_ADD))
			return -1;
		(void)setup_submit(setup, n);
		n = 0;
		if (admin_nonce_get() != 0)
			return -1;
		if (txg_product(pl, sizeof(pl), &pl_len, product, 2, rp, 3) ||
		    setup_add(setup, &n, cap, &admin, &admin_nonce, FWC_TX_PRODUCT_REGISTER) ||
		    txg_statement(pl, sizeof(pl), &pl_len, product, FWC_ROTATE_RELEASE, 1, 2, rl, 3,
		                  rp, 2) ||
		    setup_add(setup, &n, cap, &admin, &admin_nonce, FWC_TX_KEYSET_REGISTER))
			return -1;
		for (int i = 0; i < conns && !events; i++)
			if (txg_member_add(pl, sizeof(pl), &pl_len, &senders[i].pk,
			                   FWC_ROLE_RELEASE, NULL) ||
			    setup_add(setup, &n, cap, &admin, &admin_nonce, FWC_TX_MEMBER_ADD))
				return -1;
		for (int i = 0; i < ndev && events; i++)
			if (txg_device(pl, sizeof(pl), &pl_len, &devices[i].pk, product, "rev-b",
			               groups, 1, 0, 0) ||
			    setup_add(setup, &n, cap, &admin, &admin_nonce, FWC_TX_DEVICE_REGISTER))
				return -1;
		fprintf(stderr, "txload: setup: %zu transactions\n", n);
		if (setup_submit(setup, n) != 0)
			return -1;
	}
	/* The measured transactions, signed now. */
	for (int c = 0; c < conns; c++) {
		if ((per[c] = calloc((size_t)per_conn, sizeof(struct tx))) == NULL)
			return -1;
		nper[c] = 0;
		for (long k = 0; k < per_conn; k++) {
			struct txg_actor *dev = &devices[c * DEVS_PER_CONN + k % DEVS_PER_CONN];
			uint64_t round = (uint64_t)(k / DEVS_PER_CONN) + 1;
			struct txg_actor *who;
			uint32_t type;

			if (strcmp(mode, "releases") == 0) {
				char channel[16];

				snprintf(channel, sizeof(channel), "c%d", c);
				if (txg_release(pl, sizeof(pl), &pl_len, product, channel,
				                (uint64_t)k + 1, (uint64_t)time(NULL), NULL, two, 2,
				                rid, NULL, NULL))
					return -1;
				who = &senders[c];
				type = FWC_TX_RELEASE;
				if (make(&per[c][k], who, type, (uint64_t)k + 1, pl, pl_len))
					return -1;
			} else {
				/* Sent by the device itself: the self-reported form, whose one
				 * signature (the envelope's) covers the event. */
				if ((events ? txg_event_self : txg_event)(
				        pl, sizeof(pl), &pl_len, dev, round, FWC_EVENT_CHECKIN,
				        (uint64_t)time(NULL), NULL, NULL))
					return -1;
				if (make(&per[c][k], dev, FWC_TX_DEVICE_EVENT, round, pl, pl_len))
					return -1;
			}
			nper[c]++;
		}
	}
	return 0;
}

/* Give the admin a role; refused as role_held when an earlier run gave it, which is fine. */
static int admin_role(uint32_t role)
{
	struct tx t;

	if (admin_nonce_get() != 0 ||
	    txg_member_add(pl, sizeof(pl), &pl_len, &admin.pk, role, NULL) ||
	    make(&t, &admin, FWC_TX_MEMBER_ADD, admin_nonce + 1, pl, pl_len))
		return -1;
	(void)setup_submit(&t, 1);
	free(t.bytes);
	return admin_nonce_get();
}

/* A product with a 2-of-3 release set, one device (hardware rev-b) and one release for it on
 * channel stable; prints what a check-in names. */
static int cmd_checkin_setup(void)
{
	const struct txg_actor *rp[3] = {&roots[0], &roots[1], &roots[2]};
	const struct txg_actor *rl[3] = {&rels[0], &rels[1], &rels[2]},
	                       *two[2] = {&rels[0], &rels[1]};
	const char *groups[] = {"bench"};
	struct txg_actor dev;
	struct tx setup[4];
	char product[32], key[FWC_PUBKEY_TEXT_MAX], hex[65];
	uint8_t rid[32];
	size_t n = 0;

	for (uint32_t i = 0; i < 3; i++)
		if (txg_actor_init(&roots[i], 3, i) || txg_actor_init(&rels[i], 2, i))
			return 1;
	if (txg_actor_init(&dev, 6, (uint32_t)(time(NULL) % 1000000)) ||
	    admin_role(FWC_ROLE_OPERATOR) || admin_role(FWC_ROLE_RELEASE))
		return 1;
	snprintf(product, sizeof(product), "checkin%ld", (long)(time(NULL) % 1000000));
	if (txg_product(pl, sizeof(pl), &pl_len, product, 2, rp, 3) ||
	    setup_add(setup, &n, 4, &admin, &admin_nonce, FWC_TX_PRODUCT_REGISTER) ||
	    txg_statement(pl, sizeof(pl), &pl_len, product, FWC_ROTATE_RELEASE, 1, 2, rl, 3, rp,
	                  2) ||
	    setup_add(setup, &n, 4, &admin, &admin_nonce, FWC_TX_KEYSET_REGISTER) ||
	    txg_device(pl, sizeof(pl), &pl_len, &dev.pk, product, "rev-b", groups, 1, 0, 0) ||
	    setup_add(setup, &n, 4, &admin, &admin_nonce, FWC_TX_DEVICE_REGISTER) ||
	    txg_release(pl, sizeof(pl), &pl_len, product, "stable", 1, (uint64_t)time(NULL),
	                "{\"PID\":1,\"Ver\":\"1.0.1\"}", two, 2, rid, NULL, NULL) ||
	    setup_add(setup, &n, 4, &admin, &admin_nonce, FWC_TX_RELEASE) ||
	    setup_submit(setup, n) != 0)
		return 1;
	fwc_pubkey_to_text(key, sizeof(key), &dev.pk);
	fwc_hex_encode(hex, sizeof(hex), rid, 32);
	printf("device=%s\nproduct=%s\nrelease=%s\nhwid=rev-b\nchannel=stable\n", key, product,
	       hex);
	return 0;
}

/* fill: PRODUCTS products with 2-of-3 release sets and RELEASES releases over them (channel
 * stable, counters 1, 2, ... per product, hardware rev-b and rev-c), submitted through the
 * node like any client's: CONNS release-role senders, sender k publishing for the products
 * p = k (mod CONNS). Prints the products' id prefix for the check-in. */
static int cmd_fill(long releases, long products, double secs, int conns)
{
	static struct tx *per[MAX_CONNS];
	static size_t nper[MAX_CONNS];
	const struct txg_actor *rp[3] = {&roots[0], &roots[1], &roots[2]};
	const struct txg_actor *rl[3] = {&rels[0], &rels[1], &rels[2]},
	                       *two[2] = {&rels[0], &rels[1]};
	size_t cap = (size_t)(2 * products + conns + 8), n = 0;
	struct tx *setup = calloc(cap, sizeof(*setup));
	char prefix[32], id[48];
	uint8_t rid[32];
	long per_product = releases / products;

	if (setup == NULL || per_product < 1)
		return 1;
	for (uint32_t i = 0; i < 3; i++)
		if (txg_actor_init(&roots[i], 3, i) || txg_actor_init(&rels[i], 2, i))
			return 1;
	for (int i = 0; i < conns; i++)
		if (txg_actor_init(&senders[i], 4,
		                   (uint32_t)(time(NULL) % 100000) * 64 + (uint32_t)i))
			return 1;
	snprintf(prefix, sizeof(prefix), "f%ld", (long)(time(NULL) % 1000000));
	if (admin_nonce_get() != 0)
		return 1;
	for (long p = 0; p < products; p++) {
		snprintf(id, sizeof(id), "%s.p%04ld", prefix, p);
		if (txg_product(pl, sizeof(pl), &pl_len, id, 2, rp, 3) ||
		    setup_add(setup, &n, cap, &admin, &admin_nonce, FWC_TX_PRODUCT_REGISTER) ||
		    txg_statement(pl, sizeof(pl), &pl_len, id, FWC_ROTATE_RELEASE, 1, 2, rl, 3, rp,
		                  2) ||
		    setup_add(setup, &n, cap, &admin, &admin_nonce, FWC_TX_KEYSET_REGISTER))
			return 1;
	}
	for (int i = 0; i < conns; i++)
		if (txg_member_add(pl, sizeof(pl), &pl_len, &senders[i].pk, FWC_ROLE_RELEASE,
		                   NULL) ||
		    setup_add(setup, &n, cap, &admin, &admin_nonce, FWC_TX_MEMBER_ADD))
			return 1;
	if (setup_submit(setup, n) != 0)
		return 1;
	for (int c = 0; c < conns; c++) {
		long mine = 0;

		for (long p = c; p < products; p += conns)
			mine += per_product;
		if ((per[c] = calloc((size_t)(mine ? mine : 1), sizeof(struct tx))) == NULL)
			return 1;
		nper[c] = 0;
		/* Counter by counter across this sender's products, so every product grows. */
		for (long k = 1; k <= per_product; k++)
			for (long p = c; p < products; p += conns) {
				snprintf(id, sizeof(id), "%s.p%04ld", prefix, p);
				if (txg_release(pl, sizeof(pl), &pl_len, id, "stable", (uint64_t)k,
				                (uint64_t)time(NULL), NULL, two, 2, rid, NULL,
				                NULL) ||
				    make(&per[c][nper[c]], &senders[c], FWC_TX_RELEASE,
				         (uint64_t)nper[c] + 1, pl, pl_len))
					return 1;
				nper[c]++;
			}
	}
	if (run_load(per, nper, conns, secs) != 0)
		return 1;
	printf("product_prefix=%s\nproduct=%s.p0000\nper_product=%ld\n", prefix, prefix,
	       per_product);
	return 0;
}

/* V, the reference: BIP-340 verifications per second of the raw library on this thread, each
 * one as a verifier given (key, message, signature) bytes does it, the key's parse included
 * (secp256k1_xonly_pubkey_parse + secp256k1_schnorrsig_verify; no cache of ours in between). */
static int cmd_verify(double secs)
{
	struct {
		struct fwc_pubkey pk;
		uint8_t msg[32], sig[64];
	} it[64];
	double t0, t;
	long n = 0, ok = 0;

	for (int i = 0; i < 64; i++) {
		struct fwc_seckey sk;

		if (fwc_key_generate(&sk, FWC_ALG_BIP340) || fwc_key_public(&it[i].pk, &sk))
			return 1;
		memset(it[i].msg, i, 32);
		if (fwc_sign(it[i].sig, &sk, it[i].msg, 32))
			return 1;
		fwc_seckey_wipe(&sk);
	}
	t0 = now();
	do {
		for (int i = 0; i < 256; i++, n++) {
			secp256k1_xonly_pubkey xpk;

			ok += secp256k1_xonly_pubkey_parse(secp256k1_context_static, &xpk,
			                                   it[n % 64].pk.key) &&
			      secp256k1_schnorrsig_verify(secp256k1_context_static, it[n % 64].sig,
			                                  it[n % 64].msg, 32, &xpk);
		}
		t = now();
	} while (t - t0 < secs && n < 100000000);
	if (ok != n) {
		fprintf(stderr, "txload: a verification failed\n");
		return 1;
	}
	printf("verify_per_s=%.0f\n", (double)n / (t - t0));
	return 0;
}

int main(int argc, char **argv)
{
	static struct tx *per[MAX_CONNS];
	static size_t nper[MAX_CONNS];
	struct conn *c;
	size_t off = 0;
	long count;
	int conns;
	double secs;

	if (argc == 4 && strcmp(argv[1], "checkin-setup") == 0) {
		port = (uint16_t)atoi(argv[2]);
		if ((c = calloc(1, sizeof(*c))) == NULL)
			return 1;
		c->fd = -1;
		c->port = port;
		if (port == 0 || http(c, "GET", "/v1/health", NULL, 0, &off) != 200 ||
		    !json_field(c->buf + off, "chain_id", chain_id, sizeof(chain_id))) {
			fprintf(stderr, "txload: no fwchaind on 127.0.0.1:%s\n", argv[2]);
			return 1;
		}
		if (c->fd >= 0)
			close(c->fd);
		free(c);
		return load_admin(argv[3]) != 0 ? 1 : cmd_checkin_setup();
	}
	if (argc == 8 && strcmp(argv[1], "fill") == 0) {
		long r = atol(argv[4]), np = atol(argv[5]);
		double fs = atof(argv[6]);
		int fc = atoi(argv[7]);

		port = (uint16_t)atoi(argv[2]);
		if (port == 0 || r < 1 || r > MAX_COUNT || np < 1 || np > 10000 || np > r ||
		    fs <= 0 || fs > 3600 || fc < 1 || fc > MAX_CONNS) {
			fprintf(stderr, "txload: bad fill arguments\n");
			return 2;
		}
		if ((c = calloc(1, sizeof(*c))) == NULL)
			return 1;
		c->fd = -1;
		c->port = port;
		if (http(c, "GET", "/v1/health", NULL, 0, &off) != 200 ||
		    !json_field(c->buf + off, "chain_id", chain_id, sizeof(chain_id))) {
			fprintf(stderr, "txload: no fwchaind on 127.0.0.1:%s\n", argv[2]);
			return 1;
		}
		if (c->fd >= 0)
			close(c->fd);
		free(c);
		return load_admin(argv[3]) != 0 ? 1 : cmd_fill(r, np, fs, fc);
	}
	if (argc == 1) {
		/* bench/run.sh runs every bench_* without arguments: say who drives this one. */
		printf("bench_node_txload is driven by bench/node_tx.sh, bench/checkin.sh and "
		       "bench/state_scale.sh\n");
		return 0;
	}
	if (argc >= 2 && strcmp(argv[1], "verify") == 0)
		return cmd_verify(
		    argc >= 3 ? atof(argv[2]) > 0 && atof(argv[2]) < 60 ? atof(argv[2]) : 1.0
		              : 1.0);
	if ((argc < 8 || argc > 10) || strcmp(argv[1], "run") != 0) {
		fprintf(
		    stderr,
		    "usage: bench_node_txload verify [SECONDS]\n"
		    "       bench_node_txload run PORT DATADIR events|releases|envelope "
		    "COUNT SECONDS CONNS [RATE [BATCH]]\n"
		    "       bench_node_txload checkin-setup PORT DATADIR\n"
		    "       bench_node_txload fill PORT DATADIR RELEASES PRODUCTS SECONDS CONNS\n");
		return 2;
	}
	port = (uint16_t)atoi(argv[2]);
	count = atol(argv[5]);
	secs = atof(argv[6]);
	conns = atoi(argv[7]);
	L.per_sender_rate = argc >= 9 && atof(argv[8]) > 0 ? atof(argv[8]) / conns : 0;
	L.batch =
	    argc == 10 && atol(argv[9]) > 1 && atol(argv[9]) <= 4096 ? (size_t)atol(argv[9]) : 1;
	if (port == 0 || count < 1 || count > MAX_COUNT || secs <= 0 || secs > 600 || conns < 1 ||
	    conns > MAX_CONNS ||
	    (strcmp(argv[4], "events") && strcmp(argv[4], "releases") &&
	     strcmp(argv[4], "envelope"))) {
		fprintf(stderr,
		        "txload: bad arguments (COUNT 1..%d, SECONDS 0..600, CONNS 1..%d)\n",
		        MAX_COUNT, MAX_CONNS);
		return 2;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return 1;
	c->fd = -1;
	c->port = port;
	if (http(c, "GET", "/v1/health", NULL, 0, &off) != 200 ||
	    !json_field(c->buf + off, "chain_id", chain_id, sizeof(chain_id))) {
		fprintf(stderr, "txload: no fwchaind on 127.0.0.1:%u\n", port);
		return 1;
	}
	if (c->fd >= 0)
		close(c->fd);
	free(c);
	if (strcmp(argv[4], "envelope") != 0 && load_admin(argv[3]) != 0)
		return 1;
	if (scenario(argv[4], count, conns, per, nper) != 0) {
		fprintf(stderr, "txload: setup failed\n");
		return 1;
	}
	return run_load(per, nper, conns, secs) == 0 ? 0 : 1;
}
