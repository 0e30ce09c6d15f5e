/* fwchaind block store: one file per block, dir/blocks/<first 2 hex>/<64 hex of the SHA-256>.
 *
 * Design: files rather than SQLite blobs, chosen by bench/blockstore.c (docs/content-store.md):
 * serving is the hot path (every device of a fleet downloads every image) and a file can be
 * handed to sendfile(2); deleting returns space to the file system at once, which keeps the
 * disk-space floor honest; writers never wait on one database lock. Atomicity comes from the
 * file system: a block is written to dir/tmp/, fsync'd, then link(2)ed to its final name — link
 * fails with EEXIST rather than replacing, so two writers of one block cannot double-count it —
 * and the temp name is removed. The final name therefore only ever holds a complete, synced,
 * hash-checked block; a crash leaves at most a temp file, which the next open deletes. The
 * directory fsync that makes the new name durable can be deferred and done once per shard for
 * a whole upload (NODE_BS_DEFER_DIRSYNC + node_bs_sync). Counters (blocks, bytes) are computed
 * by a scan at open and kept under a mutex afterwards. */
#include "blockstore.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "fwchain/hex.h"

#define NSHARDS 256
#define REL_MAX 96 /* "blocks/ab/" + 64 hex + NUL, or a temp name */

struct node_bs {
	int rootfd;
	int lockfd;
	struct node_bs_options opt;
	pthread_mutex_t mu;
	uint64_t blocks, bytes;
	uint8_t dirty[NSHARDS / 8]; /* shard directories with deferred, unsynced entries */
	uint64_t tmp_seq;
	uint64_t writes; /* new blocks written, for the crash hook */
};

void node_bs_options_default(struct node_bs_options *opt)
{
	opt->max_block = NODE_BS_DEFAULT_MAX_BLOCK;
	opt->floor_bytes = NODE_BS_DEFAULT_FLOOR;
	opt->crash = NODE_BS_CRASH_NONE;
	opt->crash_after = 0;
}

static void rel_path(char out[REL_MAX], const uint8_t digest[FWC_CID_DIGEST_LEN])
{
	char hex[2 * FWC_CID_DIGEST_LEN + 1];

	fwc_hex_encode(hex, sizeof(hex), digest, FWC_CID_DIGEST_LEN);
	snprintf(out, REL_MAX, "blocks/%.2s/%s", hex, hex);
}

static int io_fail(struct fwc_errinfo *ei, const char *what, const char *path, int err)
{
	int code = (err == ENOSPC || err == EDQUOT) ? FWC_ERR_NOSPACE : FWC_ERR_IO;

	return fwc_fail(ei, 0, code, "block store: %s %s: %s", what, path, strerror(err));
}

static int fsync_dir(int rootfd, const char *rel)
{
	int fd = openat(rootfd, rel, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc = 0;

	if (fd < 0)
		return -1;
	if (fsync(fd) != 0)
		rc = -1;
	close(fd);
	return rc;
}

/* Parse a 64-lowercase-hex file name; 1 on success. */
static int name_digest(uint8_t digest[FWC_CID_DIGEST_LEN], const char *name)
{
	size_t n;

	if (strlen(name) != 2 * FWC_CID_DIGEST_LEN)
		return 0;
	for (const char *p = name; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return 0;
	return fwc_hex_decode(digest, FWC_CID_DIGEST_LEN, &n, name, 2 * FWC_CID_DIGEST_LEN) ==
	       FWC_OK;
}

/* Remove every leftover temp file: they belong to puts that never completed. */
static int clean_tmp(int rootfd, struct fwc_errinfo *ei)
{
	int fd = openat(rootfd, "tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct dirent *e;
	DIR *d;

	if (fd < 0)
		return io_fail(ei, "open", "tmp", errno);
	d = fdopendir(fd);
	if (d == NULL) {
		int err = errno;
		close(fd);
		return io_fail(ei, "open", "tmp", err);
	}
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (unlinkat(dirfd(d), e->d_name, 0) != 0 && errno != ENOENT) {
			int err = errno;
			closedir(d);
			return io_fail(ei, "remove", "tmp file", err);
		}
	}
	closedir(d);
	return FWC_OK;
}

static int for_shard(int rootfd, unsigned shard,
                     int (*fn)(void *ctx, const uint8_t digest[FWC_CID_DIGEST_LEN], uint64_t len,
                               int64_t mtime),
                     void *ctx)
{
	char rel[REL_MAX];
	struct dirent *e;
	DIR *d;
	int fd, rc = FWC_OK;

	snprintf(rel, sizeof(rel), "blocks/%02x", shard);
	fd = openat(rootfd, rel, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? FWC_OK : FWC_ERR_IO;
	d = fdopendir(fd);
	if (d == NULL) {
		close(fd);
		return FWC_ERR_IO;
	}
	while (rc >= 0 && (e = readdir(d)) != NULL) {
		uint8_t digest[FWC_CID_DIGEST_LEN];
		struct stat st;

		if (!name_digest(digest, e->d_name) || digest[0] != shard)
			continue; /* not a block file: left alone */
		if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
		    !S_ISREG(st.st_mode))
			continue;
		rc = fn(ctx, digest, (uint64_t)st.st_size, (int64_t)st.st_mtime);
	}
	closedir(d);
	return rc;
}

static int count_one(void *ctx, const uint8_t digest[FWC_CID_DIGEST_LEN], uint64_t len,
                     int64_t mtime)
{
	struct node_bs *bs = ctx;

	(void)digest;
	(void)mtime;
	bs->blocks++;
	bs->bytes += len;
	return FWC_OK;
}

int node_bs_open(struct node_bs **out, const char *dir, const struct node_bs_options *opt,
                 struct fwc_errinfo *ei)
{
	struct node_bs *bs;
	char rel[REL_MAX];
	int rc;

	if (out == NULL || dir == NULL)
		return FWC_ERR_ARG;
	bs = calloc(1, sizeof(*bs));
	if (bs == NULL)
		return FWC_ERR_NOMEM;
	bs->rootfd = bs->lockfd = -1;
	if (opt != NULL)
		bs->opt = *opt;
	else
		node_bs_options_default(&bs->opt);
	if (bs->opt.max_block == 0) {
		free(bs);
		return FWC_ERR_ARG;
	}
	pthread_mutex_init(&bs->mu, NULL);
	if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
		rc = io_fail(ei, "create", dir, errno);
		goto out;
	}
	bs->rootfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (bs->rootfd < 0) {
		rc = io_fail(ei, "open", dir, errno);
		goto out;
	}
	bs->lockfd = openat(bs->rootfd, "LOCK", O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (bs->lockfd < 0) {
		rc = io_fail(ei, "create", "LOCK", errno);
		goto out;
	}
	if (flock(bs->lockfd, LOCK_EX | LOCK_NB) != 0) {
		rc = errno == EWOULDBLOCK
		         ? fwc_fail(ei, 0, FWC_ERR_STATE,
		                    "block store %s is already open (by this or another process)",
		                    dir)
		         : io_fail(ei, "lock", dir, errno);
		goto out;
	}
	if ((mkdirat(bs->rootfd, "blocks", 0755) != 0 && errno != EEXIST) ||
	    (mkdirat(bs->rootfd, "tmp", 0755) != 0 && errno != EEXIST)) {
		rc = io_fail(ei, "create", "blocks/ or tmp/ in", errno);
		goto out;
	}
	for (unsigned i = 0; i < NSHARDS; i++) {
		snprintf(rel, sizeof(rel), "blocks/%02x", i);
		if (mkdirat(bs->rootfd, rel, 0755) != 0 && errno != EEXIST) {
			rc = io_fail(ei, "create", rel, errno);
			goto out;
		}
	}
	if (fsync_dir(bs->rootfd, "blocks") != 0 || fsync(bs->rootfd) != 0) {
		rc = io_fail(ei, "sync", dir, errno);
		goto out;
	}
	if ((rc = clean_tmp(bs->rootfd, ei)) < 0)
		goto out;
	for (unsigned i = 0; i < NSHARDS; i++) {
		if ((rc = for_shard(bs->rootfd, i, count_one, bs)) < 0) {
			rc = fwc_fail(ei, 0, rc, "block store: cannot scan blocks/%02x", i);
			goto out;
		}
	}
	*out = bs;
	bs = NULL;
	rc = FWC_OK;
out:
	node_bs_close(bs);
	return rc;
}

void node_bs_close(struct node_bs *bs)
{
	if (bs == NULL)
		return;
	if (bs->lockfd >= 0)
		close(bs->lockfd); /* releases the flock */
	if (bs->rootfd >= 0)
		close(bs->rootfd);
	pthread_mutex_destroy(&bs->mu);
	free(bs);
}

size_t node_bs_max_block(const struct node_bs *bs)
{
	return bs->opt.max_block;
}

static int write_all(int fd, const uint8_t *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int floor_check(struct node_bs *bs, size_t len, struct fwc_errinfo *ei)
{
	struct statvfs sv;
	uint64_t avail;

	if (fstatvfs(bs->rootfd, &sv) != 0)
		return io_fail(ei, "statvfs", "", errno);
	avail = (uint64_t)sv.f_bavail * (uint64_t)sv.f_frsize;
	if (avail < bs->opt.floor_bytes || avail - bs->opt.floor_bytes < len)
		return fwc_fail(ei, 0, FWC_ERR_NOSPACE,
		                "block store: %llu bytes free; storing a %zu-byte block would go "
		                "below the floor of %llu bytes",
		                (unsigned long long)avail, len,
		                (unsigned long long)bs->opt.floor_bytes);
	return FWC_OK;
}

int node_bs_put(struct node_bs *bs, const struct fwc_cid *cid, const uint8_t *data, size_t len,
                unsigned flags, struct fwc_errinfo *ei)
{
	char rel[REL_MAX], tmp[REL_MAX], txt[FWC_CID_STR_MAX];
	enum node_bs_crash crash;
	uint8_t shard;
	int fd = -1, rc, linked = 0;

	if (bs == NULL || cid == NULL || (data == NULL && len > 0))
		return FWC_ERR_ARG;
	if (fwc_cid_format(txt, sizeof(txt), cid) < 0)
		return FWC_ERR_ARG;
	if (len > bs->opt.max_block)
		return fwc_fail(ei, 0, FWC_ERR_TOO_LARGE,
		                "block %s is %zu bytes, more than the maximum of %zu", txt, len,
		                bs->opt.max_block);
	if (!(flags & NODE_BS_VERIFIED) && !fwc_cid_matches(cid, data, len))
		return fwc_fail(ei, 0, FWC_ERR_HASH_MISMATCH, "block bytes do not hash to %s", txt);
	rel_path(rel, cid->digest);
	shard = cid->digest[0];
	if (utimensat(bs->rootfd, rel, NULL, 0) == 0)
		return FWC_OK; /* already stored; refreshed for the GC grace period */
	if ((rc = floor_check(bs, len, ei)) < 0)
		return rc;

	pthread_mutex_lock(&bs->mu);
	snprintf(tmp, sizeof(tmp), "tmp/%ld-%llu.tmp", (long)getpid(),
	         (unsigned long long)bs->tmp_seq++);
	crash = bs->opt.crash != NODE_BS_CRASH_NONE && bs->writes++ >= bs->opt.crash_after
	            ? bs->opt.crash
	            : NODE_BS_CRASH_NONE;
	pthread_mutex_unlock(&bs->mu);
	fd = openat(bs->rootfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444);
	if (fd < 0)
		return io_fail(ei, "create", tmp, errno);
	if (write_all(fd, data, len) != 0) {
		rc = io_fail(ei, "write", tmp, errno);
		goto out;
	}
	if (crash == NODE_BS_CRASH_AFTER_WRITE)
		goto crash;
	if (fsync(fd) != 0) {
		rc = io_fail(ei, "sync", tmp, errno);
		goto out;
	}
	if (crash == NODE_BS_CRASH_AFTER_SYNC)
		goto crash;
	if (linkat(bs->rootfd, tmp, bs->rootfd, rel, 0) == 0) {
		linked = 1;
	} else if (errno != EEXIST) {
		rc = io_fail(ei, "link", rel, errno);
		goto out;
	}
	if (crash == NODE_BS_CRASH_AFTER_LINK)
		goto crash;
	pthread_mutex_lock(&bs->mu);
	if (linked) {
		bs->blocks++;
		bs->bytes += len;
	}
	if (flags & NODE_BS_DEFER_DIRSYNC)
		bs->dirty[shard / 8] |= (uint8_t)(1u << (shard % 8));
	pthread_mutex_unlock(&bs->mu);
	rc = FWC_OK;
out:
	close(fd);
	unlinkat(bs->rootfd, tmp, 0);
	if (rc == FWC_OK && linked && !(flags & NODE_BS_DEFER_DIRSYNC)) {
		char sdir[REL_MAX];

		snprintf(sdir, sizeof(sdir), "blocks/%02x", shard);
		if (fsync_dir(bs->rootfd, sdir) != 0)
			rc = io_fail(ei, "sync", sdir, errno);
	}
	return rc;
crash:
	close(fd);
	return fwc_fail(ei, 0, FWC_ERR_IO, "block store: simulated crash");
}

int node_bs_sync(struct node_bs *bs, struct fwc_errinfo *ei)
{
	uint8_t dirty[NSHARDS / 8];
	char sdir[REL_MAX];
	int rc = FWC_OK;

	if (bs == NULL)
		return FWC_ERR_ARG;
	pthread_mutex_lock(&bs->mu);
	memcpy(dirty, bs->dirty, sizeof(dirty));
	memset(bs->dirty, 0, sizeof(bs->dirty));
	pthread_mutex_unlock(&bs->mu);
	for (unsigned i = 0; i < NSHARDS; i++) {
		if (!(dirty[i / 8] & (1u << (i % 8))))
			continue;
		snprintf(sdir, sizeof(sdir), "blocks/%02x", i);
		if (fsync_dir(bs->rootfd, sdir) != 0 && rc == FWC_OK) {
			rc = io_fail(ei, "sync", sdir, errno);
			pthread_mutex_lock(&bs->mu);
			bs->dirty[i / 8] |= (uint8_t)(1u << (i % 8)); /* retry next time */
			pthread_mutex_unlock(&bs->mu);
		}
	}
	return rc;
}

int node_bs_has(struct node_bs *bs, const struct fwc_cid *cid, uint64_t *len)
{
	char rel[REL_MAX];
	struct stat st;

	if (bs == NULL || cid == NULL)
		return FWC_ERR_ARG;
	rel_path(rel, cid->digest);
	if (fstatat(bs->rootfd, rel, &st, AT_SYMLINK_NOFOLLOW) != 0)
		return errno == ENOENT ? 0 : FWC_ERR_IO;
	if (len != NULL)
		*len = (uint64_t)st.st_size;
	return 1;
}

int node_bs_open_fd(struct node_bs *bs, const struct fwc_cid *cid, int *fd, uint64_t *len)
{
	char rel[REL_MAX];
	struct stat st;
	int f;

	if (bs == NULL || cid == NULL || fd == NULL || len == NULL)
		return FWC_ERR_ARG;
	rel_path(rel, cid->digest);
	f = openat(bs->rootfd, rel, O_RDONLY | O_CLOEXEC);
	if (f < 0)
		return errno == ENOENT ? FWC_ERR_NOT_FOUND : FWC_ERR_IO;
	if (fstat(f, &st) != 0) {
		close(f);
		return FWC_ERR_IO;
	}
	*fd = f;
	*len = (uint64_t)st.st_size;
	return FWC_OK;
}

static int read_verified(struct node_bs *bs, const struct fwc_cid *cid, uint8_t **heap,
                         uint8_t *buf, size_t cap, size_t *len, struct fwc_errinfo *ei)
{
	char txt[FWC_CID_STR_MAX];
	uint8_t *p = buf;
	uint64_t size;
	size_t got = 0;
	int fd, rc;

	if (fwc_cid_format(txt, sizeof(txt), cid) < 0)
		return FWC_ERR_ARG;
	rc = node_bs_open_fd(bs, cid, &fd, &size);
	if (rc == FWC_ERR_NOT_FOUND)
		return fwc_fail(ei, 0, rc, "block %s is not in the store", txt);
	if (rc < 0)
		return fwc_fail(ei, 0, rc, "block store: cannot open %s: %s", txt, strerror(errno));
	if (heap != NULL) {
		if (size > bs->opt.max_block) {
			rc = fwc_fail(ei, 0, FWC_ERR_TOO_LARGE,
			              "stored block %s is %llu bytes, over the maximum", txt,
			              (unsigned long long)size);
			goto out;
		}
		p = malloc(size ? (size_t)size : 1);
		if (p == NULL) {
			rc = FWC_ERR_NOMEM;
			goto out;
		}
	} else if (size > cap) {
		*len = (size_t)size;
		rc = FWC_ERR_BUFSIZE;
		goto out;
	}
	while (got < size) {
		ssize_t n = pread(fd, p + got, (size_t)size - got, (off_t)got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = fwc_fail(ei, 0, FWC_ERR_IO, "block store: cannot read %s: %s", txt,
			              n < 0 ? strerror(errno) : "file shrank");
			goto out;
		}
		got += (size_t)n;
	}
	if (!fwc_cid_matches(cid, p, got)) {
		rc = fwc_fail(ei, 0, FWC_ERR_HASH_MISMATCH, "stored block %s is corrupt", txt);
		goto out;
	}
	*len = got;
	if (heap != NULL) {
		*heap = p;
		p = NULL;
	}
	rc = FWC_OK;
out:
	close(fd);
	if (heap != NULL)
		free(p);
	return rc;
}

int node_bs_read(struct node_bs *bs, const struct fwc_cid *cid, uint8_t *buf, size_t cap,
                 size_t *len, struct fwc_errinfo *ei)
{
	if (bs == NULL || cid == NULL || (buf == NULL && cap > 0) || len == NULL)
		return FWC_ERR_ARG;
	return read_verified(bs, cid, NULL, buf, cap, len, ei);
}

int node_bs_get(struct node_bs *bs, const struct fwc_cid *cid, uint8_t **out, size_t *len,
                struct fwc_errinfo *ei)
{
	if (bs == NULL || cid == NULL || out == NULL || len == NULL)
		return FWC_ERR_ARG;
	return read_verified(bs, cid, out, NULL, 0, len, ei);
}

int node_bs_delete_digest(struct node_bs *bs, const uint8_t digest[FWC_CID_DIGEST_LEN])
{
	char rel[REL_MAX];
	struct stat st;

	if (bs == NULL || digest == NULL)
		return FWC_ERR_ARG;
	rel_path(rel, digest);
	if (fstatat(bs->rootfd, rel, &st, AT_SYMLINK_NOFOLLOW) != 0)
		return errno == ENOENT ? FWC_ERR_NOT_FOUND : FWC_ERR_IO;
	if (unlinkat(bs->rootfd, rel, 0) != 0)
		return errno == ENOENT ? FWC_ERR_NOT_FOUND : FWC_ERR_IO;
	pthread_mutex_lock(&bs->mu);
	bs->blocks--;
	bs->bytes -= (uint64_t)st.st_size;
	pthread_mutex_unlock(&bs->mu);
	return FWC_OK;
}

int node_bs_delete(struct node_bs *bs, const struct fwc_cid *cid)
{
	if (cid == NULL)
		return FWC_ERR_ARG;
	return node_bs_delete_digest(bs, cid->digest);
}

int node_bs_stats(struct node_bs *bs, struct node_bs_stats *st)
{
	struct statvfs sv;

	if (bs == NULL || st == NULL)
		return FWC_ERR_ARG;
	if (fstatvfs(bs->rootfd, &sv) != 0)
		return FWC_ERR_IO;
	pthread_mutex_lock(&bs->mu);
	st->blocks = bs->blocks;
	st->bytes = bs->bytes;
	pthread_mutex_unlock(&bs->mu);
	st->free_bytes = (uint64_t)sv.f_bavail * (uint64_t)sv.f_frsize;
	return FWC_OK;
}

int node_bs_foreach(struct node_bs *bs,
                    int (*fn)(void *ctx, const uint8_t digest[FWC_CID_DIGEST_LEN], uint64_t len,
                              int64_t mtime),
                    void *ctx)
{
	if (bs == NULL || fn == NULL)
		return FWC_ERR_ARG;
	for (unsigned i = 0; i < NSHARDS; i++) {
		int rc = for_shard(bs->rootfd, i, fn, ctx);

		if (rc < 0)
			return rc;
	}
	return FWC_OK;
}
