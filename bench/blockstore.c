/* Block store layouts compared: one file per block versus SQLite blobs, for 256 KiB blocks.
 *
 * The node stores IPFS blocks of up to ~1 MiB (firmware images chunked at 256 KiB), writes each
 * one durably (whole or not at all) and serves them over HTTP. This measures the candidate
 * layouts doing exactly that, in the same run, on the same disk:
 *   files      temp file, write, fsync, link into blocks/xx/<hex>, unlink temp, fsync the dir
 *   files/dirs once   the same, the touched shard directories fsync'd once at the end (what a
 *              whole upload can do: nothing is pinned before that final sync)
 *   files/batch       write every temp file, fsync each, then link each, dirs once
 *   files/O_TMPFILE   an anonymous temp file linked into place (no temp name), dirs once
 *   sqlite     WAL, synchronous=FULL, one INSERT transaction per block (separate DB file)
 *   sqlite/one txn    every block of a round in one transaction
 *   pack       what node/blockstore.c does for an upload: every block appended (with a 4 KiB
 *              record header) to one temp file opened O_DIRECT, one fdatasync, a rename into
 *              packs/ and one directory fsync
 * (both SQLite variants end with a WAL checkpoint inside the timing: the data is not in the
 * database file before it)
 * then, for both layouts, a get of every block in random order into a buffer (hot page cache,
 * and "cold" after posix_fadvise(DONTNEED) on the files / the database), and "serve": send every
 * block into a socket drained by a thread — sendfile(2) from the block file versus
 * sqlite3_blob_read in 64 KiB pieces plus write(2), the best SQLite offers. For scale, SHA-256
 * over the same blocks (every stored block is hashed once on ingest). Reported: the median
 * over rounds of MB/s and blocks/s, the ratio to the files layout, and bytes on disk per block.
 *
 * Usage: bench_blockstore [dir] [blocks per round] [rounds]  (defaults: a new folder in ".",
 * 160 blocks = 40 MiB, 3 rounds). Everything it creates is removed at the end. */
#define _GNU_SOURCE /* O_TMPFILE */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fwchain/hex.h"
#include "fwchain/sha256.h"

/* snprintf whose truncation (impossible with the path lengths used here) is a hard error. */
static void fmt(char *out, size_t cap, const char *f, ...)
{
	va_list ap;
	int n;

	va_start(ap, f);
	n = vsnprintf(out, cap, f, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= cap) {
		fprintf(stderr, "bench_blockstore: path too long\n");
		exit(1);
	}
}

#define BLOCK (256 * 1024)
#define MAX_ROUNDS 15
#define MAX_BLOCKS 4096
#define PIECE 65536

enum {
	T_FILES,
	T_FILES_ND,
	T_FILES_B,
	T_FILES_TF,
	T_SQLITE,
	T_SQLITE_B,
	T_PACK,
	T_GET_F,
	T_GET_S,
	T_GETC_F,
	T_GETC_S,
	T_SERVE_F,
	T_SERVE_S,
	T_SHA,
	NT
};
static const char *names[NT] = {"put files (fsync file+dir)",
                                "put files (fsync file, dirs once)",
                                "put files (batch: write, fsync, link)",
                                "put files (O_TMPFILE, dirs once)",
                                "put sqlite (txn per block)",
                                "put sqlite (one txn)",
                                "put pack (O_DIRECT, 1 sync)",
                                "get files (hot)",
                                "get sqlite (hot)",
                                "get files (cold)",
                                "get sqlite (cold)",
                                "serve files (sendfile)",
                                "serve sqlite (blob_read+write)",
                                "sha256 of the blocks (ingest)"};

static uint8_t *blocks;
static uint8_t digests[MAX_BLOCKS][32];
static size_t nblocks;
static char root[4096];
static double results[NT][MAX_ROUNDS];

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void die(const char *what)
{
	fprintf(stderr, "bench_blockstore: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void block_path(char *out, size_t cap, const char *dir, size_t i)
{
	char hex[65];

	fwc_hex_encode(hex, sizeof(hex), digests[i], 32);
	fmt(out, cap, "%s/%.2s/%s", dir, hex, hex);
}

static void sync_dir(const char *path)
{
	int dfd = open(path, O_RDONLY | O_DIRECTORY);

	if (dfd < 0 || fsync(dfd) != 0)
		die("fsync dir");
	close(dfd);
}

static void sync_shards(const char *dir, const unsigned char touched[256])
{
	char shard[4200];

	for (int i = 0; i < 256; i++) {
		if (!touched[i])
			continue;
		fmt(shard, sizeof(shard), "%s/%02x", dir, i);
		sync_dir(shard);
	}
}

/* mode 0: fsync file and shard dir per block; 1: fsync file per block, shard dirs once at the
 * end; 2: write every temp file, then fsync each, then link each, then the dirs once;
 * 3: like 1 with an anonymous O_TMPFILE linked into place (no temp name to create and
 * remove). */
static void put_files(const char *dir, int mode)
{
	static int fds[MAX_BLOCKS];
	unsigned char touched[256] = {0};
	char tmp[4200], fin[4200], shard[4200], tdir[4200];

	fmt(tdir, sizeof(tdir), "%s/tmp", dir);
	for (size_t i = 0; i < nblocks; i++) {
		int fd;

		fmt(tmp, sizeof(tmp), "%s/%zu.tmp", tdir, i);
		block_path(fin, sizeof(fin), dir, i);
		fmt(shard, sizeof(shard), "%.*s", (int)(strrchr(fin, '/') - fin), fin);
		if (mkdir(shard, 0755) != 0 && errno != EEXIST)
			die("mkdir");
		touched[digests[i][0]] = 1;
		if (mode == 3) {
			char proc[64];

			fd = open(tdir, O_TMPFILE | O_WRONLY, 0444);
			if (fd < 0 || write(fd, blocks + i * BLOCK, BLOCK) != BLOCK ||
			    fsync(fd) != 0)
				die("O_TMPFILE write");
			fmt(proc, sizeof(proc), "/proc/self/fd/%d", fd);
			if (linkat(AT_FDCWD, proc, AT_FDCWD, fin, AT_SYMLINK_FOLLOW) != 0)
				die("linkat");
			close(fd);
			continue;
		}
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0444);
		if (fd < 0 || write(fd, blocks + i * BLOCK, BLOCK) != BLOCK)
			die("write");
		if (mode == 2) {
			fds[i] = fd;
			continue;
		}
		if (fsync(fd) != 0)
			die("fsync");
		close(fd);
		if (link(tmp, fin) != 0 || unlink(tmp) != 0)
			die("link");
		if (mode == 0)
			sync_dir(shard);
	}
	if (mode == 2) {
		for (size_t i = 0; i < nblocks; i++) {
			if (fsync(fds[i]) != 0)
				die("fsync");
			close(fds[i]);
		}
		for (size_t i = 0; i < nblocks; i++) {
			fmt(tmp, sizeof(tmp), "%s/%zu.tmp", tdir, i);
			block_path(fin, sizeof(fin), dir, i);
			if (link(tmp, fin) != 0 || unlink(tmp) != 0)
				die("link");
		}
	}
	if (mode != 0)
		sync_shards(dir, touched);
}

static void put_pack(const char *dir)
{
	char tmp[4200], fin[4200], pdir[4200];
	size_t rec = 4096 + BLOCK;
	uint8_t *buf;
	int fd;

	fmt(tmp, sizeof(tmp), "%s/tmp/upload.pack", dir);
	fmt(pdir, sizeof(pdir), "%s/packs", dir);
	fmt(fin, sizeof(fin), "%s/packs/0000000000000001.pack", dir);
	if (mkdir(pdir, 0755) != 0 && errno != EEXIST)
		die("mkdir packs");
	if (posix_memalign((void **)&buf, 4096, rec) != 0)
		die("posix_memalign");
	memset(buf, 0, 4096);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_DIRECT, 0644);
	if (fd < 0)
		die("open O_DIRECT");
	for (size_t i = 0; i < nblocks; i++) {
		memcpy(buf + 16, digests[i], 32); /* the record header, as the store writes it */
		memcpy(buf + 4096, blocks + i * BLOCK, BLOCK);
		if (pwrite(fd, buf, rec, (off_t)(4096 + i * rec)) != (ssize_t)rec)
			die("pwrite O_DIRECT");
	}
	if (fdatasync(fd) != 0)
		die("fdatasync");
	close(fd);
	if (rename(tmp, fin) != 0)
		die("rename");
	sync_dir(pdir);
	free(buf);
}

static void sql(sqlite3 *db, const char *s)
{
	char *err = NULL;

	if (sqlite3_exec(db, s, NULL, NULL, &err) != SQLITE_OK) {
		fprintf(stderr, "bench_blockstore: %s: %s\n", s, err);
		exit(1);
	}
}

static sqlite3 *db_open(const char *path)
{
	sqlite3 *db;

	if (sqlite3_open(path, &db) != SQLITE_OK)
		die("sqlite3_open");
	sql(db, "PRAGMA journal_mode=WAL");
	sql(db, "PRAGMA synchronous=FULL");
	sql(db, "CREATE TABLE IF NOT EXISTS blocks(id INTEGER PRIMARY KEY, digest BLOB UNIQUE "
	        "NOT NULL, data BLOB NOT NULL)");
	return db;
}

static void put_sqlite(sqlite3 *db, int batch)
{
	sqlite3_stmt *st;

	if (sqlite3_prepare_v2(db, "INSERT INTO blocks(digest, data) VALUES(?, ?)", -1, &st,
	                       NULL) != SQLITE_OK)
		die("prepare");
	if (batch)
		sql(db, "BEGIN");
	for (size_t i = 0; i < nblocks; i++) {
		if (!batch)
			sql(db, "BEGIN");
		sqlite3_bind_blob(st, 1, digests[i], 32, SQLITE_STATIC);
		sqlite3_bind_blob(st, 2, blocks + i * BLOCK, BLOCK, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE)
			die("insert");
		sqlite3_reset(st);
		if (!batch)
			sql(db, "COMMIT");
	}
	if (batch)
		sql(db, "COMMIT");
	sqlite3_finalize(st);
	/* the WAL's content must reach the database file too: count that copy */
	sql(db, "PRAGMA wal_checkpoint(TRUNCATE)");
}

static size_t order[MAX_BLOCKS];
static uint8_t rbuf[BLOCK];

static void shuffle(unsigned seed)
{
	for (size_t i = 0; i < nblocks; i++)
		order[i] = i;
	for (size_t i = nblocks - 1; i > 0; i--) {
		size_t j;

		seed = seed * 1103515245u + 12345u;
		j = (seed >> 8) % (i + 1);
		size_t t = order[i];
		order[i] = order[j];
		order[j] = t;
	}
}

static void get_files(const char *dir)
{
	char p[4200];

	for (size_t k = 0; k < nblocks; k++) {
		size_t i = order[k];
		int fd;

		block_path(p, sizeof(p), dir, i);
		fd = open(p, O_RDONLY);
		if (fd < 0 || read(fd, rbuf, BLOCK) != BLOCK)
			die("read");
		close(fd);
		if (memcmp(rbuf, blocks + i * BLOCK, 64) != 0)
			die("content");
	}
}

static void get_sqlite(sqlite3 *db)
{
	sqlite3_stmt *st;

	if (sqlite3_prepare_v2(db, "SELECT data FROM blocks WHERE digest = ?", -1, &st, NULL) !=
	    SQLITE_OK)
		die("prepare");
	for (size_t k = 0; k < nblocks; k++) {
		size_t i = order[k];

		sqlite3_bind_blob(st, 1, digests[i], 32, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_ROW || sqlite3_column_bytes(st, 0) != BLOCK)
			die("select");
		memcpy(rbuf, sqlite3_column_blob(st, 0), BLOCK);
		sqlite3_reset(st);
		if (memcmp(rbuf, blocks + i * BLOCK, 64) != 0)
			die("content");
	}
	sqlite3_finalize(st);
}

static void drop_cache_file(const char *p)
{
	int fd = open(p, O_RDONLY);

	if (fd >= 0) {
		fdatasync(fd);
		posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
		close(fd);
	}
}

static void drop_cache_files(const char *dir)
{
	char p[4200];

	for (size_t i = 0; i < nblocks; i++) {
		block_path(p, sizeof(p), dir, i);
		drop_cache_file(p);
	}
}

static void *drain(void *arg)
{
	int fd = *(int *)arg;
	static uint8_t sink[1 << 20];

	while (read(fd, sink, sizeof(sink)) > 0)
		;
	return NULL;
}

static void serve_files(const char *dir, int out)
{
	char p[4200];

	for (size_t k = 0; k < nblocks; k++) {
		size_t i = order[k];
		off_t off = 0;
		int fd;

		block_path(p, sizeof(p), dir, i);
		fd = open(p, O_RDONLY);
		if (fd < 0)
			die("open");
		while (off < BLOCK)
			if (sendfile(out, fd, &off, BLOCK - (size_t)off) <= 0)
				die("sendfile");
		close(fd);
	}
}

static void serve_sqlite(sqlite3 *db, int out)
{
	sqlite3_stmt *st;
	static uint8_t piece[PIECE];

	if (sqlite3_prepare_v2(db, "SELECT id FROM blocks WHERE digest = ?", -1, &st, NULL) !=
	    SQLITE_OK)
		die("prepare");
	for (size_t k = 0; k < nblocks; k++) {
		size_t i = order[k];
		sqlite3_blob *b;
		sqlite3_int64 id;

		sqlite3_bind_blob(st, 1, digests[i], 32, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_ROW)
			die("select");
		id = sqlite3_column_int64(st, 0);
		sqlite3_reset(st);
		if (sqlite3_blob_open(db, "main", "blocks", "data", id, 0, &b) != SQLITE_OK)
			die("blob_open");
		for (int off = 0; off < BLOCK; off += PIECE) {
			if (sqlite3_blob_read(b, piece, PIECE, off) != SQLITE_OK)
				die("blob_read");
			for (size_t w = 0; w < PIECE;) {
				ssize_t n = write(out, piece + w, PIECE - w);
				if (n <= 0)
					die("write");
				w += (size_t)n;
			}
		}
		sqlite3_blob_close(b);
	}
	sqlite3_finalize(st);
}

static void rm_tree(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	char p[4200];

	if (d == NULL) {
		unlink(path);
		return;
	}
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		fmt(p, sizeof(p), "%s/%s", path, e->d_name);
		rm_tree(p);
	}
	closedir(d);
	rmdir(path);
}

static long long du(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	struct stat st;
	char p[4200];
	long long total = 0;

	if (d == NULL)
		return stat(path, &st) == 0 ? (long long)st.st_blocks * 512 : 0;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		fmt(p, sizeof(p), "%s/%s", path, e->d_name);
		total += du(p);
	}
	closedir(d);
	return total;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	double t[MAX_ROUNDS];

	memcpy(t, v, sizeof(double) * (size_t)n);
	qsort(t, (size_t)n, sizeof(double), cmp_double);
	return n % 2 ? t[n / 2] : (t[n / 2 - 1] + t[n / 2]) / 2;
}

int main(int argc, char **argv)
{
	int rounds = argc > 3 ? atoi(argv[3]) : 3;
	long long du_files = 0, du_sqlite = 0;

	nblocks = argc > 2 ? (size_t)atoi(argv[2]) : 160;
	if (nblocks < 2 || nblocks > MAX_BLOCKS || rounds < 1 || rounds > MAX_ROUNDS) {
		fprintf(stderr, "usage: bench_blockstore [dir] [blocks 2..%d] [rounds 1..%d]\n",
		        MAX_BLOCKS, MAX_ROUNDS);
		return 2;
	}
	fmt(root, sizeof(root), "%s/bench-blockstore-XXXXXX", argc > 1 ? argv[1] : ".");
	if (mkdtemp(root) == NULL)
		die("mkdtemp");
	blocks = malloc(nblocks * BLOCK);
	if (blocks == NULL)
		die("malloc");
	printf("%zu blocks of %d KiB per round, %d rounds, in %s\n", nblocks, BLOCK / 1024, rounds,
	       root);

	for (int r = 0; r < rounds; r++) {
		char fdir[5][4200], dbp[4200], dbp2[4200], p[4300];
		sqlite3 *db, *db2;
		int sv[2];
		pthread_t th;
		double t0;

		/* fresh random content each round, so nothing is deduplicated */
		for (size_t i = 0; i < nblocks * BLOCK; i += 4) {
			uint32_t x = (uint32_t)rand() ^ ((uint32_t)r << 24);
			memcpy(blocks + i, &x, 4);
		}
		t0 = now();
		for (size_t i = 0; i < nblocks; i++)
			fwc_sha256(digests[i], blocks + i * BLOCK, BLOCK);
		results[T_SHA][r] = now() - t0;
		for (int m = 0; m < 5; m++) {
			fmt(fdir[m], sizeof(fdir[m]), "%s/files%d-%d", root, r, m);
			mkdir(fdir[m], 0755);
			fmt(p, sizeof(p), "%s/tmp", fdir[m]);
			mkdir(p, 0755);
		}
		fmt(dbp, sizeof(dbp), "%s/blocks%d.db", root, r);
		fmt(dbp2, sizeof(dbp2), "%s/blocksb%d.db", root, r);
		db = db_open(dbp);
		db2 = db_open(dbp2);

		/* rotate which layout goes first */
		for (int k = 0; k < 7; k++) {
			int which = (k + r) % 7;

			t0 = now();
			if (which < 4)
				put_files(fdir[which], which);
			else if (which < 6)
				put_sqlite(which == 4 ? db : db2, which == 5);
			else
				put_pack(fdir[4]);
			results[T_FILES + which][r] = now() - t0;
		}
		shuffle((unsigned)r + 1);
		for (int k = 0; k < 2; k++) {
			t0 = now();
			if ((k + r) % 2 == 0)
				get_files(fdir[0]);
			else
				get_sqlite(db);
			results[(k + r) % 2 == 0 ? T_GET_F : T_GET_S][r] = now() - t0;
		}
		drop_cache_files(fdir[0]);
		drop_cache_file(dbp);
		t0 = now();
		get_files(fdir[0]);
		results[T_GETC_F][r] = now() - t0;
		t0 = now();
		get_sqlite(db);
		results[T_GETC_S][r] = now() - t0;
		for (int k = 0; k < 2; k++) {
			if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
				die("socketpair");
			pthread_create(&th, NULL, drain, &sv[1]);
			t0 = now();
			if ((k + r) % 2 == 0)
				serve_files(fdir[0], sv[0]);
			else
				serve_sqlite(db, sv[0]);
			results[(k + r) % 2 == 0 ? T_SERVE_F : T_SERVE_S][r] = now() - t0;
			close(sv[0]);
			pthread_join(th, NULL);
			close(sv[1]);
		}
		sqlite3_close(db);
		sqlite3_close(db2);
		if (r == 0) {
			du_files = du(fdir[0]);
			du_sqlite = du(dbp);
			fmt(p, sizeof(p), "%s-wal", dbp);
			du_sqlite += du(p);
		}
	}

	printf("%-34s %10s %10s %8s\n", "operation", "MB/s", "blocks/s", "vs files");
	for (int t = 0; t < NT; t++) {
		double m = median(results[t], rounds);
		double ref = median(results[t <= T_PACK                      ? T_FILES
		                            : t == T_GET_F || t == T_GET_S   ? T_GET_F
		                            : t == T_GETC_F || t == T_GETC_S ? T_GETC_F
		                            : t == T_SHA                     ? T_FILES
		                                                             : T_SERVE_F],
		                    rounds);

		printf("%-34s %10.1f %10.1f %8.2f\n", names[t], (double)nblocks * BLOCK / m / 1e6,
		       (double)nblocks / m, ref / m);
	}
	printf("disk per block: files %.1f KiB, sqlite %.1f KiB (block %d KiB)\n",
	       (double)du_files / (double)nblocks / 1024,
	       (double)du_sqlite / (double)nblocks / 1024, BLOCK / 1024);
	rm_tree(root);
	free(blocks);
	return 0;
}
