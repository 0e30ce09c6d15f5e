/* A helper for bench/state_scale.sh, and its own self-test.
 *
 *   test_node_statefill build DB DEVICES RELEASES PRODUCTS MAX_SECONDS
 *       creates the state tables in the SQLite file DB (new) and fills them through the state
 *       machine: one root admin that registers PRODUCTS products (2-of-3 release key sets),
 *       RELEASES releases spread over them (channel "stable", counters 1, 2, ... per product,
 *       hardware rev-b and rev-c) and DEVICES devices (device i in product i % PRODUCTS,
 *       hardware rev-b). Every transaction is a real signed one applied with node_state_apply
 *       (signatures checked, rules applied, audit rows written), in SQLite transactions of
 *       10000, on a durable file (WAL, synchronous=FULL as the node runs). A second thread
 *       signs while the main thread applies. Stops at MAX_SECONDS (prints how far it got).
 *       Prints key=value lines: devices, releases, apply_seconds, apply_per_s, db_bytes.
 *   test_node_statefill build-node DATADIR KEYS DEVICES RELEASES PRODUCTS MAX_SECONDS
 *       the same fill, on the ledger.db of a stopped fwchaind's data directory (made by
 *       fwchaind --dev): signed for the node's chain by its admin (admin.keystore opened with
 *       admin.pass), at the wall clock's time, at the node's block height, so the node serves
 *       this state when it starts again. The transactions go into the state, not into blocks:
 *       the node cannot prove these releases (a check-in that gets "no update" works; one that
 *       needs a bundle does not). Writes device i's key in text form to line i of KEYS. Also
 *       prints refused= (transactions the state refused: must be 0).
 *   test_node_statefill checkin DB DEVICES SECONDS [MMAP_MIB]
 *       the check-in lookups, as a node's check-in path makes them, for 65536 random devices
 *       of the state (keys derived before the clock starts): node_state_device_get (product,
 *       hardware, counter), then node_state_release_latest (product, "stable", hardware,
 *       counter), in one read transaction, on a connection with SQLite's defaults or with
 *       PRAGMA mmap_size = MMAP_MIB. Prints checkins_per_s. Every lookup must find its device
 *       and a release.
 *
 * Run with no argument (as ctest does) it builds a small state (300 devices, 60 releases, 3
 * products) in a temp dir and checks it independently: row counts by SQL, every device's
 * newest applicable release is the highest counter of its product, the audit trail has one
 * row per transaction, and the checkin walk succeeds.
 *
 * Device keys are not derived from secrets (a million scalar multiplications would dominate
 * the build): device i's key is the first valid BIP-340 x coordinate among SHA-256("dev" ||
 * i || n) for n = 0, 1, ...; devices sign nothing here. */
#include "test.h"

#include <pthread.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fwchain/hex.h"
#include "fwchain/keystore.h"
#include "fwchain/sha256.h"

#include "state.h"
#include "txgen.h"

#define CHAIN "bench-chain"
#define T0 1700000000
#define BATCH 10000
#define RING 4096

/* The chain the transactions are signed for and their time: the bench chain at T0 for a
 * fresh file, the node's chain and the wall clock for a node's data directory. */
static char chain_id[NODE_STATE_CHAIN_ID_MAX + 1] = CHAIN;
static int64_t t_base = T0;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Device i's public key (see the file comment). */
static void device_key(struct fwc_pubkey *pk, uint64_t i)
{
	uint8_t in[16];

	pk->alg = FWC_ALG_BIP340;
	memcpy(in, "dev", 3);
	for (int b = 0; b < 8; b++)
		in[3 + b] = (uint8_t)(i >> (8 * b));
	for (uint32_t n = 0; n < 1000; n++) {
		in[11] = (uint8_t)n;
		in[12] = (uint8_t)(n >> 8);
		fwc_sha256(pk->key, in, 13);
		if (fwc_pubkey_check(pk) == FWC_OK)
			return;
	}
}

static void product_id(char *out, size_t cap, unsigned p)
{
	snprintf(out, cap, "p%04u", p);
}

/* ---------------------------------------------------------------------------------------- */
/* Producer: signs the transactions in order into a ring the applier drains                */

struct slot {
	uint8_t tx[2048];
	size_t len;
};

static struct {
	pthread_mutex_t mu;
	pthread_cond_t not_empty, not_full;
	struct slot *ring;
	size_t head, tail; /* produced, consumed */
	int done, stop, failed;
	uint64_t devices, releases;
	unsigned products;
	FILE *keys; /* the devices' keys in text form, one a line (NULL: not written) */
	struct txg_actor admin, roots[3], rels[3];
} P = {.mu = PTHREAD_MUTEX_INITIALIZER,
       .not_empty = PTHREAD_COND_INITIALIZER,
       .not_full = PTHREAD_COND_INITIALIZER};

static int put(uint32_t type, const uint8_t *pl, size_t pl_len)
{
	struct slot *s;
	size_t len = 0;

	pthread_mutex_lock(&P.mu);
	while (P.head - P.tail >= RING && !P.stop)
		pthread_cond_wait(&P.not_full, &P.mu);
	pthread_mutex_unlock(&P.mu);
	if (P.stop)
		return -1;
	s = &P.ring[P.head % RING];
	if (txg_tx(s->tx, sizeof(s->tx), &len, &P.admin, type, ++P.admin.nonce, chain_id,
	           (uint64_t)t_base, pl, pl_len) != FWC_OK)
		return -1;
	s->len = len;
	pthread_mutex_lock(&P.mu);
	P.head++;
	pthread_cond_signal(&P.not_empty);
	pthread_mutex_unlock(&P.mu);
	return 0;
}

static void *producer(void *arg)
{
	static uint8_t pl[FWC_TX_PAYLOAD_MAX];
	const struct txg_actor *rp[3] = {&P.roots[0], &P.roots[1], &P.roots[2]};
	const struct txg_actor *rl[3] = {&P.rels[0], &P.rels[1], &P.rels[2]};
	const struct txg_actor *two[2] = {&P.rels[0], &P.rels[1]};
	const char *groups[] = {"fleet"};
	size_t n = 0;
	uint8_t rid[32];
	char id[16];
	int rc = 0;

	(void)arg;
	/* Roles: the root admin also takes release and operator. */
	rc |= txg_member_add(pl, sizeof(pl), &n, &P.admin.pk, FWC_ROLE_RELEASE, NULL) ||
	      put(FWC_TX_MEMBER_ADD, pl, n);
	rc |= txg_member_add(pl, sizeof(pl), &n, &P.admin.pk, FWC_ROLE_OPERATOR, NULL) ||
	      put(FWC_TX_MEMBER_ADD, pl, n);
	for (unsigned p = 0; p < P.products && !rc; p++) {
		product_id(id, sizeof(id), p);
		rc |= txg_product(pl, sizeof(pl), &n, id, 2, rp, 3) ||
		      put(FWC_TX_PRODUCT_REGISTER, pl, n);
		rc |=
		    txg_statement(pl, sizeof(pl), &n, id, FWC_ROTATE_RELEASE, 1, 2, rl, 3, rp, 2) ||
		    put(FWC_TX_KEYSET_REGISTER, pl, n);
	}
	for (uint64_t r = 0; r < P.releases && !rc; r++) {
		product_id(id, sizeof(id), (unsigned)(r % P.products));
		rc |= txg_release(pl, sizeof(pl), &n, id, "stable", r / P.products + 1, t_base,
		                  NULL, two, 2, rid, NULL, NULL) ||
		      put(FWC_TX_RELEASE, pl, n);
	}
	for (uint64_t d = 0; d < P.devices && !rc; d++) {
		struct fwc_pubkey pk;

		device_key(&pk, d);
		if (P.keys != NULL) {
			char text[FWC_PUBKEY_TEXT_MAX];

			rc |= fwc_pubkey_to_text(text, sizeof(text), &pk) != FWC_OK ||
			      fprintf(P.keys, "%s\n", text) < 0;
		}
		product_id(id, sizeof(id), (unsigned)(d % P.products));
		rc |= txg_device(pl, sizeof(pl), &n, &pk, id, "rev-b", groups, 1, 0, 0) ||
		      put(FWC_TX_DEVICE_REGISTER, pl, n);
	}
	pthread_mutex_lock(&P.mu);
	P.done = 1;
	P.failed = rc != 0 && !P.stop;
	pthread_cond_signal(&P.not_empty);
	pthread_mutex_unlock(&P.mu);
	return NULL;
}

/* ---------------------------------------------------------------------------------------- */
/* Build                                                                                    */

static int open_db(sqlite3 **db, const char *path)
{
	if (sqlite3_open(path, db) != SQLITE_OK ||
	    sqlite3_exec(
	        *db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA cache_size=-262144;",
	        NULL, NULL, NULL) != SQLITE_OK)
		return -1;
	return 0;
}

static long long count(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *s = NULL;
	long long v = -1;

	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return v;
}

/* The admin of a node's data directory: its keystore, opened with admin.pass (as
 * bench_node_txload does). */
static int node_admin(struct txg_actor *a, const char *dir)
{
	char path[1024], pass[256];
	size_t n = 0;
	FILE *f;
	int rc;

	snprintf(path, sizeof(path), "%s/admin.pass", dir);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	n = fread(pass, 1, sizeof(pass) - 1, f);
	fclose(f);
	while (n && (pass[n - 1] == '\n' || pass[n - 1] == '\r'))
		n--;
	pass[n] = '\0';
	snprintf(path, sizeof(path), "%s/admin.keystore", dir);
	rc = fwc_keystore_load(&a->sk, path, pass, n, NULL) == FWC_OK &&
	             fwc_key_public(&a->pk, &a->sk) == FWC_OK
	         ? 0
	         : -1;
	fwc_wipe(pass, sizeof(pass));
	return rc;
}

/* Opens the state of a fresh file (path, node_dir NULL: creates the tables and a genesis of
 * the bench chain) or of a stopped node's data directory (node_dir: its ledger.db, chain,
 * admin and block height). 0 on success. */
static int build_open(sqlite3 **db, struct node_state *st, const char *path, const char *node_dir)
{
	struct node_refusal why;
	sqlite3_stmt *s = NULL;
	uint64_t nonce = 0, height = 0;
	int rc = -1;

	if (node_dir == NULL) {
		if (txg_actor_init(&P.admin, 1, 0) != FWC_OK || open_db(db, path) != 0 ||
		    node_state_schema(*db) != FWC_OK || node_state_open(st, *db) != FWC_OK ||
		    sqlite3_exec(*db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK ||
		    node_state_genesis(st, CHAIN, "root", "Root", &P.admin.pk, T0, &why) !=
		        FWC_OK ||
		    sqlite3_exec(*db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
			return -1;
		snprintf(chain_id, sizeof(chain_id), "%s", CHAIN);
		t_base = T0;
		node_state_set_height(st, 1);
		return 0;
	}
	if (node_admin(&P.admin, node_dir) != 0) {
		fprintf(stderr, "statefill: cannot open the admin keystore of %s\n", node_dir);
		return -1;
	}
	if (open_db(db, path) != 0 || node_state_open(st, *db) != FWC_OK || st->chain_id_len == 0 ||
	    node_state_nonce(st, &P.admin.pk, &nonce) != FWC_OK ||
	    sqlite3_prepare_v2(*db, "SELECT coalesce(max(height), 0) FROM blocks", -1, &s, NULL) !=
	        SQLITE_OK ||
	    sqlite3_step(s) != SQLITE_ROW)
		goto out;
	height = (uint64_t)sqlite3_column_int64(s, 0);
	snprintf(chain_id, sizeof(chain_id), "%.*s", (int)st->chain_id_len, st->chain_id);
	P.admin.nonce = nonce;
	/* The node's clock: its genesis is recent, and a transaction must be in its window. */
	t_base = (int64_t)time(NULL);
	node_state_set_height(st, height);
	rc = 0;
out:
	sqlite3_finalize(s);
	if (rc != 0)
		fprintf(stderr, "statefill: %s is not a stopped fwchaind's ledger\n", path);
	return rc;
}

/* Fills the state of path (or of node_dir's ledger, see build_open) and, when keys_path is
 * given, writes the devices' keys there. Returns 0 when everything asked was applied. */
static int build(const char *path, const char *node_dir, const char *keys_path, uint64_t devices,
                 uint64_t releases, unsigned products, double max_s, int quiet)
{
	sqlite3 *db = NULL;
	struct node_state st;
	struct node_refusal why;
	pthread_t th;
	long long refused = -1;
	uint64_t applied = 0, total = 2 + 2 * (uint64_t)products + releases + devices;
	double t0, t1;
	int in_txn = 0, rc = -1;
	struct stat sb;

	memset(&st, 0, sizeof(st));
	memset(&P.admin, 0, sizeof(P.admin));
	P.devices = devices;
	P.releases = releases;
	P.products = products;
	P.head = P.tail = 0;
	P.done = P.stop = P.failed = 0;
	P.keys = NULL;
	if ((P.ring = calloc(RING, sizeof(*P.ring))) == NULL)
		return -1;
	for (uint32_t i = 0; i < 3; i++)
		if (txg_actor_init(&P.roots[i], 3, i) || txg_actor_init(&P.rels[i], 2, i))
			goto out;
	if (build_open(&db, &st, path, node_dir) != 0)
		goto out;
	if (keys_path != NULL && (P.keys = fopen(keys_path, "w")) == NULL)
		goto out;
	t0 = now();
	pthread_create(&th, NULL, producer, NULL);
	for (;;) {
		struct slot *s;

		pthread_mutex_lock(&P.mu);
		while (P.head == P.tail && !P.done)
			pthread_cond_wait(&P.not_empty, &P.mu);
		if (P.head == P.tail && P.done) {
			pthread_mutex_unlock(&P.mu);
			break;
		}
		pthread_mutex_unlock(&P.mu);
		s = &P.ring[P.tail % RING];
		if (!in_txn) {
			if (sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
				break;
			if (node_dir == NULL)
				node_state_set_height(&st, applied / BATCH + 1);
			in_txn = 1;
		}
		if (node_state_apply(&st, db, s->tx, s->len, t_base, &why) != FWC_OK) {
			fprintf(stderr, "statefill: transaction %llu refused: %s %s\n",
			        (unsigned long long)applied, why.code, why.msg);
			break;
		}
		applied++;
		pthread_mutex_lock(&P.mu);
		P.tail++;
		pthread_cond_signal(&P.not_full);
		pthread_mutex_unlock(&P.mu);
		if (applied % BATCH == 0) {
			if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
				break;
			in_txn = 0;
			if (now() - t0 > max_s) {
				fprintf(stderr, "statefill: stopped at the %.0f s bound\n", max_s);
				break;
			}
		}
	}
	pthread_mutex_lock(&P.mu);
	P.stop = 1;
	pthread_cond_broadcast(&P.not_full);
	pthread_mutex_unlock(&P.mu);
	pthread_join(th, NULL);
	if (in_txn && sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		goto out;
	t1 = now();
	node_state_close(&st);
	/* Fold the WAL into the file so its size is the state's. */
	sqlite3_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
	sqlite3_close(db);
	db = NULL;
	if (!quiet) {
		/* Applied in this order: 2 roles, 2 per product, the releases, the devices. */
		uint64_t head = 2 + 2 * (uint64_t)products;
		uint64_t past = applied > head ? applied - head : 0;
		uint64_t r = past < releases ? past : releases, d = past - r;

		printf("transactions=%llu\ndevices=%llu\nreleases=%llu\n",
		       (unsigned long long)applied, (unsigned long long)d, (unsigned long long)r);
		printf("apply_seconds=%.1f\napply_per_s=%.0f\n", t1 - t0,
		       (double)applied / (t1 - t0 > 0 ? t1 - t0 : 1));
		if (stat(path, &sb) == 0)
			printf("db_bytes=%lld\n", (long long)sb.st_size);
	}
	/* A refused transaction is applied as a refusal (its audit row says why): none may be. */
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK)
		refused = count(db, "SELECT count(*) FROM state_audit WHERE refusal != ''");
	if (!quiet)
		printf("refused=%lld\n", refused);
	rc = applied == total && !P.failed && refused == 0 ? 0 : -1;
out:
	if (P.keys != NULL && fclose(P.keys) != 0)
		rc = -1;
	P.keys = NULL;
	node_state_close(&st);
	sqlite3_close(db);
	free(P.ring);
	P.ring = NULL;
	return rc;
}

/* ---------------------------------------------------------------------------------------- */
/* Check-in lookups                                                                         */

struct found {
	char product[NODE_STATE_ID_BUF], hwid[80];
	uint64_t counter;
	int n;
};

static int dev_cb(void *ctx, const struct node_device_row *d)
{
	struct found *f = ctx;

	snprintf(f->product, sizeof(f->product), "%s", d->product);
	snprintf(f->hwid, sizeof(f->hwid), "%s", d->hwid);
	f->counter = d->counter;
	f->n++;
	return 0;
}

static int rel_cb(void *ctx, const struct node_release_row *r)
{
	uint64_t *counter = ctx;

	*counter = r->counter;
	return 0;
}

/* One check-in of the device with key pk: 0 with *latest its newest applicable release
 * counter. */
static int checkin(struct node_state *st, const struct fwc_pubkey *pk, uint64_t *latest)
{
	struct found f;

	memset(&f, 0, sizeof(f));
	if (node_state_device_get(st, pk, dev_cb, &f) != FWC_OK || f.n != 1)
		return -1;
	return node_state_release_latest(st, f.product, "stable", f.hwid, f.counter, rel_cb,
	                                 latest) == FWC_OK
	           ? 0
	           : -1;
}

#define CHECKIN_KEYS 65536

/* Check-ins of random devices for secs (keys derived beforehand, so only the node's lookups
 * are timed), with the connection's memory map at mmap_mb MiB (0: SQLite's default, none). */
static int cmd_checkin(const char *path, uint64_t devices, double secs, unsigned mmap_mb)
{
	sqlite3 *db = NULL;
	struct node_state st;
	struct fwc_pubkey *keys = calloc(CHECKIN_KEYS, sizeof(*keys));
	uint64_t x = 88172645463325252ull, n = 0, latest = 0;
	char pragma[64];
	double t0, t;
	int rc = 1;

	memset(&st, 0, sizeof(st));
	if (keys == NULL)
		return 1;
	for (size_t k = 0; k < CHECKIN_KEYS; k++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17; /* xorshift64 */
		device_key(&keys[k], x % devices);
	}
	snprintf(pragma, sizeof(pragma), "PRAGMA mmap_size=%llu",
	         (unsigned long long)mmap_mb * 1048576ull);
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
	    sqlite3_exec(db, pragma, NULL, NULL, NULL) != SQLITE_OK ||
	    node_state_open(&st, db) != FWC_OK ||
	    sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
		goto out;
	t0 = now();
	do {
		for (int k = 0; k < 64; k++, n++) {
			if (checkin(&st, &keys[n % CHECKIN_KEYS], &latest) != 0) {
				fprintf(stderr, "statefill: a check-in failed\n");
				goto out;
			}
		}
		t = now();
	} while (t - t0 < secs && n < 1000000000ull);
	printf("checkins_per_s=%.0f\n", (double)n / (t - t0));
	rc = 0;
out:
	node_state_close(&st);
	sqlite3_close(db);
	free(keys);
	return rc;
}

/* ---------------------------------------------------------------------------------------- */
/* Self-test                                                                                */

static void self_test(void)
{
	char dir[] = "/tmp/fwc-statefill-XXXXXX", path[256], p2[300];
	sqlite3 *db = NULL;
	struct node_state st;
	const uint64_t D = 300, R = 60;
	const unsigned NP = 3;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/state.db", dir);
	CHECK(build(path, NULL, NULL, D, R, NP, 120, 1) == 0);
	CHECK(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK);
	CHECK(count(db, "SELECT count(*) FROM state_devices") == (long long)D);
	CHECK(count(db, "SELECT count(*) FROM state_releases") == (long long)R);
	CHECK(count(db, "SELECT count(*) FROM state_products") == NP);
	CHECK(count(db, "SELECT count(*) FROM state_devices WHERE product = 'p0001'") ==
	      (long long)(D / NP));
	/* One audit row per transaction: 2 roles, 2 per product, releases, devices; none failed. */
	CHECK(count(db, "SELECT count(*) FROM state_audit") == (long long)(2 + 2 * NP + R + D));
	CHECK(count(db, "SELECT count(*) FROM state_audit WHERE refusal != ''") == 0);
	memset(&st, 0, sizeof(st));
	CHECK_RC(node_state_open(&st, db), FWC_OK);
	/* Every device's newest applicable release is its product's highest counter, R / NP. */
	for (uint64_t i = 0; i < D; i += 7) {
		uint64_t latest = 0;
		struct fwc_pubkey pk;

		device_key(&pk, i);
		CHECK(checkin(&st, &pk, &latest) == 0);
		CHECK(latest == R / NP);
	}
	node_state_close(&st);
	sqlite3_close(db);
	CHECK(cmd_checkin(path, D, 0.05, 0) == 0);
	CHECK(cmd_checkin(path, D, 0.05, 64) == 0);
	unlink(path);
	snprintf(p2, sizeof(p2), "%s-wal", path);
	unlink(p2);
	snprintf(p2, sizeof(p2), "%s-shm", path);
	unlink(p2);
	rmdir(dir);
}

int main(int argc, char **argv)
{
	if (argc == 1) {
		RUN(self_test);
		return test_done();
	}
	if (argc == 7 && strcmp(argv[1], "build") == 0) {
		long long d = atoll(argv[3]), r = atoll(argv[4]), p = atoll(argv[5]);
		double s = atof(argv[6]);

		if (d < 1 || d > 100000000 || r < 1 || r > 10000000 || p < 1 || p > 10000 ||
		    r < p || s <= 0 || s > 3600) {
			fprintf(stderr, "statefill: bad build arguments\n");
			return 2;
		}
		if (access(argv[2], F_OK) == 0) {
			fprintf(stderr, "statefill: %s exists\n", argv[2]);
			return 2;
		}
		return build(argv[2], NULL, NULL, (uint64_t)d, (uint64_t)r, (unsigned)p, s, 0) == 0
		           ? 0
		           : 1;
	}
	if (argc == 8 && strcmp(argv[1], "build-node") == 0) {
		long long d = atoll(argv[4]), r = atoll(argv[5]), p = atoll(argv[6]);
		double s = atof(argv[7]);
		char path[1024];

		if (d < 1 || d > 100000000 || r < 1 || r > 10000000 || p < 1 || p > 10000 ||
		    r < p || s <= 0 || s > 3600) {
			fprintf(stderr, "statefill: bad build-node arguments\n");
			return 2;
		}
		snprintf(path, sizeof(path), "%s/ledger.db", argv[2]);
		return build(path, argv[2], argv[3], (uint64_t)d, (uint64_t)r, (unsigned)p, s, 0) ==
		               0
		           ? 0
		           : 1;
	}
	if ((argc == 5 || argc == 6) && strcmp(argv[1], "checkin") == 0) {
		long long d = atoll(argv[3]), mm = argc == 6 ? atoll(argv[5]) : 0;
		double s = atof(argv[4]);

		if (d < 1 || s <= 0 || s > 600 || mm < 0 || mm > 65536) {
			fprintf(stderr, "statefill: bad checkin arguments\n");
			return 2;
		}
		return cmd_checkin(argv[2], (uint64_t)d, s, (unsigned)mm);
	}
	fprintf(stderr, "usage: test_node_statefill [build DB DEVICES RELEASES PRODUCTS MAX_SECONDS"
	                " | build-node DATADIR KEYS DEVICES RELEASES PRODUCTS MAX_SECONDS"
	                " | checkin DB DEVICES SECONDS [MMAP_MIB]]\n");
	return 2;
}
