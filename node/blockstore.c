/* fwchaind block store: single blocks as one file each, uploads as one pack file each.
 *
 * Design: two homes for a block, one index of digests. A block put on its own (the replicator,
 * an operator tool) is a file dir/blocks/<first 2 hex>/<64 hex of the SHA-256>, written to
 * dir/tmp/, fsync'd, link(2)ed to its final name (link fails with EEXIST rather than
 * replacing, so two writers of one block count it once) and the temp name removed. An upload
 * is staged: its blocks are appended, unsynced, to one temp file dir/tmp/<pid>-<n>.pack; at
 * commit that file is fdatasync'd once, renamed to dir/packs/<id>.pack, the packs directory
 * fsync'd once, and only then do its blocks enter the in-memory index (digest -> pack, offset,
 * length). So an upload costs one file creation and O(1) syncs whatever its size — on this
 * project's VMs creating a file costs ~1 ms and a per-block fsync 1.5-5 ms, which made
 * one-file-per-block uploads run at a third of sha256sum's speed — and the crash model stays
 * simple: before the rename only a temp file exists (the next open deletes it), after it whole,
 * hash-checked, synced blocks. Files and pack records alike are served with sendfile(2) from
 * (descriptor, offset). A pack is immutable except for one flags word per record: deleting a
 * packed block sets its "deleted" bit (and the index forgets it); the space comes back when the
 * last live block of the pack goes (the file is unlinked) or, for a partly dead pack, when
 * node_bs_reclaim syncs the flags and punches holes over the dead records. The index is rebuilt
 * at open by reading the record headers of every pack (48 bytes per block). Format and crash
 * model: docs/content-store.md. */
#define _GNU_SOURCE /* fallocate(FALLOC_FL_PUNCH_HOLE), sync_file_range */
#include "blockstore.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "fwchain/hex.h"

#define NSHARDS 256
#define REL_MAX 96 /* "blocks/ab/" + 64 hex + NUL, or a temp or pack name */

/* Pack file format (little-endian): a file header "FWCPACK1", the alignment A (u32: 1, or a
 * power of two up to 64 KiB), 4 zero bytes, zero-padded to A; then records, each starting at a
 * multiple of A: magic "FWB1", flags (bit 0: deleted), length, 4 zero bytes, the 32-byte
 * SHA-256, zero-padded to A (to 48 bytes when A = 1), then the block's bytes, zero-padded to A.
 * A is 4096 when the upload was written with O_DIRECT (which needs aligned offsets, lengths
 * and buffers), 1 otherwise. */
#define PACK_MAGIC "FWCPACK1"
#define PACK_HDR 16u
#define REC_MAGIC "FWB1"
#define REC_HDR 48u
#define REC_DELETED 1u
#define DIRECT_ALIGN 4096u
#define ALIGN_MAX 65536u
/* An upload's pack asks the kernel to start writing back every this many bytes, so the one
 * fdatasync at commit finds little left to write. */
#define STAGE_WRITEBACK (16u << 20)

/* A committed pack. No descriptor is kept: a node with thousands of uploads would run out of
 * them; readers open the pack by name, as they open a block file. */
struct pack {
	uint32_t align; /* of its records */
	uint64_t id;    /* dir/packs/<id as 16 hex>.pack */
	uint64_t live;  /* records the index points at */
	int dirty;      /* records deleted since the last reclaim */
};

/* One indexed block: in pack `pack` (a slot of bs->packs), bytes [off, off + len). */
struct ient {
	uint8_t digest[FWC_CID_DIGEST_LEN];
	uint32_t pack;
	uint32_t len;
	uint64_t off;
	int64_t mtime;
	uint8_t used;
};

/* Open addressing, linear probing, backward-shift deletion; slots hashed with keyed SipHash so
 * uploaded content cannot be ground to collide. */
struct itab {
	struct ient *v;
	size_t cap, n; /* cap a power of two, or 0 */
	uint8_t key[crypto_shorthash_KEYBYTES];
};

struct node_bs {
	int rootfd;
	int lockfd;
	struct node_bs_options opt;
	pthread_mutex_t mu;
	uint64_t blocks, bytes;
	uint8_t dirty[NSHARDS / 8]; /* shard directories with deferred, unsynced entries */
	uint64_t tmp_seq;
	uint64_t writes; /* new blocks written, for the crash hook */
	struct itab idx; /* packed blocks */
	struct pack **packs;
	size_t npacks; /* slots; NULL slots are free */
	uint64_t next_pack;
};

struct srec {
	uint8_t digest[FWC_CID_DIGEST_LEN];
	uint64_t off; /* of the data */
	uint32_t len;
};

struct node_bs_stage {
	struct node_bs *bs;
	int fd;
	int direct;      /* written with O_DIRECT, through bounce */
	uint32_t align;  /* DIRECT_ALIGN when direct, else 1 */
	uint8_t *bounce; /* aligned: a record header and the largest block, padded */
	size_t bounce_cap;
	char tmp[REL_MAX];
	uint64_t size, synced_to;
	struct srec *recs;
	size_t nrecs, caprecs;
	struct itab seen; /* digests in this stage (value: record number in pack field) */
	int dead;
	int crashed; /* the crash hook fired: leave the temp file as a crash would */
};

void node_bs_options_default(struct node_bs_options *opt)
{
	opt->max_block = NODE_BS_DEFAULT_MAX_BLOCK;
	opt->floor_bytes = NODE_BS_DEFAULT_FLOOR;
	opt->crash = NODE_BS_CRASH_NONE;
	opt->crash_after = 0;
	opt->no_direct_io = 0;
}

/* ---- the digest index ------------------------------------------------------------------- */

static size_t itab_slot(const struct itab *t, const uint8_t digest[FWC_CID_DIGEST_LEN])
{
	uint8_t h[crypto_shorthash_BYTES];
	uint64_t x = 0;

	crypto_shorthash(h, digest, FWC_CID_DIGEST_LEN, t->key);
	for (int i = 0; i < 8; i++)
		x |= (uint64_t)h[i] << (8 * i);
	return (size_t)x & (t->cap - 1);
}

static struct ient *itab_get(const struct itab *t, const uint8_t digest[FWC_CID_DIGEST_LEN])
{
	if (t->cap == 0)
		return NULL;
	for (size_t i = itab_slot(t, digest);; i = (i + 1) & (t->cap - 1)) {
		if (!t->v[i].used)
			return NULL;
		if (memcmp(t->v[i].digest, digest, FWC_CID_DIGEST_LEN) == 0)
			return &t->v[i];
	}
}

static int itab_grow(struct itab *t)
{
	size_t ncap = t->cap ? 2 * t->cap : 256;
	struct ient *old = t->v, *nv = calloc(ncap, sizeof(*nv));
	size_t ocap = t->cap;

	if (nv == NULL)
		return FWC_ERR_NOMEM;
	t->v = nv;
	t->cap = ncap;
	for (size_t i = 0; i < ocap; i++) {
		if (!old[i].used)
			continue;
		size_t j = itab_slot(t, old[i].digest);
		while (t->v[j].used)
			j = (j + 1) & (ncap - 1);
		t->v[j] = old[i];
	}
	free(old);
	return FWC_OK;
}

/* Insert e (its digest must be absent). */
static int itab_put(struct itab *t, const struct ient *e)
{
	size_t i;

	if ((t->n + 1) * 4 > t->cap * 3 && itab_grow(t) < 0)
		return FWC_ERR_NOMEM;
	i = itab_slot(t, e->digest);
	while (t->v[i].used)
		i = (i + 1) & (t->cap - 1);
	t->v[i] = *e;
	t->v[i].used = 1;
	t->n++;
	return FWC_OK;
}

static void itab_del(struct itab *t, struct ient *e)
{
	size_t i = (size_t)(e - t->v), j = i;

	t->v[i].used = 0;
	t->n--;
	/* Backward shift: move later members of the probe run into the hole when their home
	 * slot does not lie cyclically in (hole, position]. */
	for (;;) {
		size_t home;

		j = (j + 1) & (t->cap - 1);
		if (!t->v[j].used)
			return;
		home = itab_slot(t, t->v[j].digest);
		if (((j - home) & (t->cap - 1)) >= ((j - i) & (t->cap - 1))) {
			t->v[i] = t->v[j];
			t->v[j].used = 0;
			i = j;
		}
	}
}

static void itab_init(struct itab *t)
{
	memset(t, 0, sizeof(*t));
	randombytes_buf(t->key, sizeof(t->key));
}

static void itab_free(struct itab *t)
{
	free(t->v);
	t->v = NULL;
	t->cap = t->n = 0;
}

/* ---- helpers ---------------------------------------------------------------------------- */

static uint64_t align_up(uint64_t x, uint32_t a)
{
	return a <= 1 ? x : (x + a - 1) / a * a;
}

/* Where a record's bytes start, from where its header starts. */
static uint64_t hdr_span(uint32_t a)
{
	return align_up(REC_HDR, a);
}

static void rel_path(char out[REL_MAX], const uint8_t digest[FWC_CID_DIGEST_LEN])
{
	char hex[2 * FWC_CID_DIGEST_LEN + 1];

	fwc_hex_encode(hex, sizeof(hex), digest, FWC_CID_DIGEST_LEN);
	snprintf(out, REL_MAX, "blocks/%.2s/%s", hex, hex);
}

static void pack_path(char out[REL_MAX], uint64_t id)
{
	snprintf(out, REL_MAX, "packs/%016" PRIx64 ".pack", id);
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

static void le32_put(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t le32_get(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static int pread_all(int fd, void *buf, size_t len, uint64_t off)
{
	uint8_t *p = buf;

	while (len > 0) {
		ssize_t n = pread(fd, p, len, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

static int pwrite_all(int fd, const void *buf, size_t len, uint64_t off)
{
	const uint8_t *p = buf;

	while (len > 0) {
		ssize_t n = pwrite(fd, p, len, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		p += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
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

/* Remove every leftover temp file: they belong to puts and uploads that never completed. */
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

/* ---- packs ------------------------------------------------------------------------------ */

/* A free slot for p (bs->mu held, or single-threaded at open); its number, or -1. */
static int64_t pack_slot_add(struct node_bs *bs, struct pack *p)
{
	for (size_t i = 0; i < bs->npacks; i++)
		if (bs->packs[i] == NULL) {
			bs->packs[i] = p;
			return (int64_t)i;
		}
	if (bs->npacks >= UINT32_MAX)
		return -1;
	struct pack **nv = realloc(bs->packs, (bs->npacks + 1) * sizeof(*nv));
	if (nv == NULL)
		return -1;
	bs->packs = nv;
	bs->packs[bs->npacks] = p;
	return (int64_t)bs->npacks++;
}

/* Drop a pack with no live record left: its file goes (descriptors dup'ed for serving keep
 * reading it). bs->mu held. */
static void pack_drop(struct node_bs *bs, uint32_t slot)
{
	struct pack *p = bs->packs[slot];
	char rel[REL_MAX];

	pack_path(rel, p->id);
	unlinkat(bs->rootfd, rel, 0);
	free(p);
	bs->packs[slot] = NULL;
}

static int pack_open(struct node_bs *bs, uint64_t id, int flags)
{
	char rel[REL_MAX];

	pack_path(rel, id);
	return openat(bs->rootfd, rel, flags | O_CLOEXEC);
}

static void rec_mark_deleted(int fd, uint64_t data_off, uint32_t align)
{
	uint8_t f[4];

	le32_put(f, REC_DELETED);
	/* Best effort: a flag that does not reach the disk only brings a whole garbage block back
	 * at the next open, where the GC finds it again. */
	(void)pwrite_all(fd, f, sizeof(f), data_off - hdr_span(align) + 4);
}

/* Walk the records of an open pack: fn(ctx, header, data offset) for each well-formed one;
 * stops at the end of the file or at the first header that does not parse (a pack is only
 * renamed into place complete, so that is damage, and what follows it is not trusted). */
static int pack_walk(int fd, uint64_t size, size_t max_block,
                     int (*fn)(void *ctx, const uint8_t hdr[REC_HDR], uint64_t off), void *ctx)
{
	uint8_t h[REC_HDR];
	uint32_t align;
	uint64_t pos, hs;

	if (size < PACK_HDR || pread_all(fd, h, PACK_HDR, 0) != 0 || memcmp(h, PACK_MAGIC, 8) != 0)
		return FWC_ERR_MALFORMED;
	align = le32_get(h + 8);
	if (align == 0 || align > ALIGN_MAX || (align & (align - 1)) != 0)
		return FWC_ERR_MALFORMED;
	pos = align_up(PACK_HDR, align);
	hs = hdr_span(align);
	while (pos + hs <= size) {
		uint32_t len;
		int rc;

		if (pread_all(fd, h, REC_HDR, pos) != 0)
			return FWC_ERR_IO;
		len = le32_get(h + 8);
		if (memcmp(h, REC_MAGIC, 4) != 0 || len > max_block || len > size - pos - hs)
			return FWC_ERR_MALFORMED;
		if ((rc = fn(ctx, h, pos + hs)) < 0)
			return rc;
		pos += align_up(hs + len, align);
	}
	return FWC_OK;
}

struct load_ctx {
	struct node_bs *bs;
	struct pack *p;
	int fd;
	uint32_t slot;
	int64_t mtime;
};

static int load_rec(void *ctx, const uint8_t hdr[REC_HDR], uint64_t off)
{
	struct load_ctx *l = ctx;
	struct ient e;
	char rel[REL_MAX];
	struct stat st;

	if (le32_get(hdr + 4) & REC_DELETED) {
		l->p->dirty = 1; /* its hole may not be punched yet */
		return FWC_OK;
	}
	memset(&e, 0, sizeof(e));
	memcpy(e.digest, hdr + 16, FWC_CID_DIGEST_LEN);
	rel_path(rel, e.digest);
	if (itab_get(&l->bs->idx, e.digest) != NULL ||
	    fstatat(l->bs->rootfd, rel, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		/* A second copy (two uploads of one block raced, or a crash came before the
		 * duplicate was flagged): keep the first, retire this one. */
		rec_mark_deleted(l->fd, off, l->p->align);
		l->p->dirty = 1;
		return FWC_OK;
	}
	e.pack = l->slot;
	e.len = le32_get(hdr + 8);
	e.off = off;
	e.mtime = l->mtime;
	if (itab_put(&l->bs->idx, &e) < 0)
		return FWC_ERR_NOMEM;
	l->p->live++;
	l->bs->blocks++;
	l->bs->bytes += e.len;
	return FWC_OK;
}

/* Punch holes over the deleted records of a pack, after making their flags durable (a hole
 * under a record the disk still calls live would serve zeros after a crash). */
static int punch_one(void *ctx, const uint8_t hdr[REC_HDR], uint64_t off)
{
	int fd = *(int *)ctx;
	uint32_t len = le32_get(hdr + 8);

	if ((le32_get(hdr + 4) & REC_DELETED) && len > 0)
		(void)fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)off,
		                (off_t)len); /* not every file system can; the space then stays */
	return FWC_OK;
}

static int pack_punch(struct node_bs *bs, int fd)
{
	struct stat st;

	if (fdatasync(fd) != 0 || fstat(fd, &st) != 0)
		return FWC_ERR_IO;
	return pack_walk(fd, (uint64_t)st.st_size, bs->opt.max_block, punch_one, &fd);
}

static int load_packs(struct node_bs *bs, struct fwc_errinfo *ei)
{
	int dfd = openat(bs->rootfd, "packs", O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc = FWC_OK;
	struct dirent *e;
	DIR *d;

	if (dfd < 0)
		return io_fail(ei, "open", "packs", errno);
	d = fdopendir(dfd);
	if (d == NULL) {
		int err = errno;
		close(dfd);
		return io_fail(ei, "open", "packs", err);
	}
	while (rc >= 0 && (e = readdir(d)) != NULL) {
		char rel[REL_MAX];
		struct load_ctx l;
		struct stat st;
		uint64_t id;
		int64_t slot;
		char *end;

		if (strlen(e->d_name) != 21 || strcmp(e->d_name + 16, ".pack") != 0)
			continue; /* not a pack: left alone */
		errno = 0;
		id = strtoull(e->d_name, &end, 16);
		if (errno != 0 || end != e->d_name + 16)
			continue;
		pack_path(rel, id);
		memset(&l, 0, sizeof(l));
		l.bs = bs;
		l.p = calloc(1, sizeof(*l.p));
		if (l.p == NULL) {
			rc = FWC_ERR_NOMEM;
			break;
		}
		l.p->id = id;
		l.fd = openat(bs->rootfd, rel, O_RDWR | O_CLOEXEC);
		if (l.fd < 0 || fstat(l.fd, &st) != 0) {
			rc = io_fail(ei, "open", rel, errno);
			if (l.fd >= 0)
				close(l.fd);
			free(l.p);
			break;
		}
		if (id >= bs->next_pack)
			bs->next_pack = id + 1;
		slot = pack_slot_add(bs, l.p);
		if (slot < 0) {
			close(l.fd);
			free(l.p);
			rc = FWC_ERR_NOMEM;
			break;
		}
		l.slot = (uint32_t)slot;
		l.mtime = (int64_t)st.st_mtime;
		/* The alignment first: load_rec needs it to flag a duplicate. */
		{
			uint8_t fh[PACK_HDR];

			l.p->align = pread_all(l.fd, fh, PACK_HDR, 0) == 0 &&
			                     le32_get(fh + 8) > 0 && le32_get(fh + 8) <= ALIGN_MAX
			                 ? le32_get(fh + 8)
			                 : 1;
		}
		rc = pack_walk(l.fd, (uint64_t)st.st_size, bs->opt.max_block, load_rec, &l);
		if (rc == FWC_ERR_MALFORMED) {
			/* Damage: the records before it stay served (each is checked when read). */
			fprintf(stderr,
			        "fwchaind: block store: %s is damaged after %" PRIu64
			        " blocks; the rest of it is ignored\n",
			        rel, l.p->live);
			rc = FWC_OK;
		}
		if (rc < 0) {
			close(l.fd);
			rc = fwc_fail(ei, 0, rc, "block store: cannot read %s", rel);
			break;
		}
		if (l.p->live == 0)
			pack_drop(bs, l.slot);
		else if (l.p->dirty && pack_punch(bs, l.fd) == FWC_OK)
			l.p->dirty = 0;
		close(l.fd);
	}
	closedir(d);
	return rc;
}

/* ---- open, close ------------------------------------------------------------------------ */

int node_bs_open(struct node_bs **out, const char *dir, const struct node_bs_options *opt,
                 struct fwc_errinfo *ei)
{
	struct node_bs *bs;
	char rel[REL_MAX];
	int rc;

	if (out == NULL || dir == NULL)
		return FWC_ERR_ARG;
	if (sodium_init() < 0)
		return FWC_ERR_IO;
	bs = calloc(1, sizeof(*bs));
	if (bs == NULL)
		return FWC_ERR_NOMEM;
	bs->rootfd = bs->lockfd = -1;
	if (opt != NULL)
		bs->opt = *opt;
	else
		node_bs_options_default(&bs->opt);
	if (bs->opt.max_block == 0 || bs->opt.max_block > UINT32_MAX) {
		free(bs);
		return FWC_ERR_ARG;
	}
	pthread_mutex_init(&bs->mu, NULL);
	itab_init(&bs->idx);
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
	    (mkdirat(bs->rootfd, "packs", 0755) != 0 && errno != EEXIST) ||
	    (mkdirat(bs->rootfd, "tmp", 0755) != 0 && errno != EEXIST)) {
		rc = io_fail(ei, "create", "blocks/, packs/ or tmp/ in", errno);
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
	/* After the files: a packed copy of a block that also has a file is the one retired. */
	if ((rc = load_packs(bs, ei)) < 0)
		goto out;
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
	for (size_t i = 0; i < bs->npacks; i++) {
		free(bs->packs[i]);
	}
	free(bs->packs);
	itab_free(&bs->idx);
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

/* The checks every put makes first: size, hash. */
static int put_checks(struct node_bs *bs, const struct fwc_cid *cid, const uint8_t *data,
                      size_t len, unsigned flags, struct fwc_errinfo *ei)
{
	char txt[FWC_CID_STR_MAX];

	if (fwc_cid_format(txt, sizeof(txt), cid) < 0)
		return FWC_ERR_ARG;
	if (len > bs->opt.max_block)
		return fwc_fail(ei, 0, FWC_ERR_TOO_LARGE,
		                "block %s is %zu bytes, more than the maximum of %zu", txt, len,
		                bs->opt.max_block);
	if (!(flags & NODE_BS_VERIFIED) && !fwc_cid_matches(cid, data, len))
		return fwc_fail(ei, 0, FWC_ERR_HASH_MISMATCH, "block bytes do not hash to %s", txt);
	return FWC_OK;
}

/* Already stored (packed or as a file)? Then refresh its time for the GC grace period. */
static int refresh_present(struct node_bs *bs, const uint8_t digest[FWC_CID_DIGEST_LEN])
{
	char rel[REL_MAX];
	struct ient *e;

	pthread_mutex_lock(&bs->mu);
	e = itab_get(&bs->idx, digest);
	if (e != NULL)
		e->mtime = (int64_t)time(NULL);
	pthread_mutex_unlock(&bs->mu);
	if (e != NULL)
		return 1;
	rel_path(rel, digest);
	return utimensat(bs->rootfd, rel, NULL, 0) == 0;
}

/* Count a write for the crash hook; the crash point when it fires now (or fired before). */
static enum node_bs_crash crash_point(struct node_bs *bs)
{
	enum node_bs_crash c = NODE_BS_CRASH_NONE;

	pthread_mutex_lock(&bs->mu);
	if (bs->opt.crash != NODE_BS_CRASH_NONE && bs->writes++ >= bs->opt.crash_after)
		c = bs->opt.crash;
	pthread_mutex_unlock(&bs->mu);
	return c;
}

static int simulated_crash(struct fwc_errinfo *ei)
{
	return fwc_fail(ei, 0, FWC_ERR_IO, "block store: simulated crash");
}

int node_bs_put(struct node_bs *bs, const struct fwc_cid *cid, const uint8_t *data, size_t len,
                unsigned flags, struct fwc_errinfo *ei)
{
	char rel[REL_MAX], tmp[REL_MAX];
	enum node_bs_crash crash;
	uint8_t shard;
	int fd = -1, rc, linked = 0;

	if (bs == NULL || cid == NULL || (data == NULL && len > 0))
		return FWC_ERR_ARG;
	if ((rc = put_checks(bs, cid, data, len, flags, ei)) < 0)
		return rc;
	rel_path(rel, cid->digest);
	shard = cid->digest[0];
	if (refresh_present(bs, cid->digest))
		return FWC_OK; /* already stored; refreshed for the GC grace period */
	if ((rc = floor_check(bs, len, ei)) < 0)
		return rc;

	crash = crash_point(bs);
	pthread_mutex_lock(&bs->mu);
	snprintf(tmp, sizeof(tmp), "tmp/%ld-%llu.tmp", (long)getpid(),
	         (unsigned long long)bs->tmp_seq++);
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
	return simulated_crash(ei);
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

/* ---- staged uploads --------------------------------------------------------------------- */

int node_bs_stage_begin(struct node_bs *bs, struct node_bs_stage **out, struct fwc_errinfo *ei)
{
	struct node_bs_stage *st;
	uint8_t h[PACK_HDR];
	int rc;

	if (bs == NULL || out == NULL)
		return FWC_ERR_ARG;
	st = calloc(1, sizeof(*st));
	if (st == NULL)
		return FWC_ERR_NOMEM;
	st->bs = bs;
	itab_init(&st->seen);
	pthread_mutex_lock(&bs->mu);
	snprintf(st->tmp, sizeof(st->tmp), "tmp/%ld-%llu.pack", (long)getpid(),
	         (unsigned long long)bs->tmp_seq++);
	pthread_mutex_unlock(&bs->mu);
	/* 0644, not 0444 like block files: deletions update a record's flags in place.
	 * O_DIRECT: the upload's bytes go from our buffer to the disk, not through the page
	 * cache, whose copy was a third of the node's CPU time for an upload; the write waits
	 * for the device instead, on the upload's writer thread. */
	st->direct = !bs->opt.no_direct_io;
	st->fd = openat(bs->rootfd, st->tmp,
	                O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | (st->direct ? O_DIRECT : 0), 0644);
	if (st->fd < 0 && st->direct && errno == EINVAL) {
		/* A file system without direct I/O (tmpfs before Linux 6.6): buffered. The
		 * refused open may have created the name already. */
		st->direct = 0;
		unlinkat(bs->rootfd, st->tmp, 0);
		st->fd = openat(bs->rootfd, st->tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	}
	if (st->fd < 0) {
		rc = io_fail(ei, "create", st->tmp, errno);
		itab_free(&st->seen);
		free(st);
		return rc;
	}
	if (st->direct) {
		st->bounce_cap =
		    (size_t)align_up(hdr_span(DIRECT_ALIGN) + bs->opt.max_block, DIRECT_ALIGN);
		if (posix_memalign((void **)&st->bounce, DIRECT_ALIGN, st->bounce_cap) != 0) {
			st->bounce = NULL;
			node_bs_stage_abort(st);
			return FWC_ERR_NOMEM;
		}
	}
	for (;;) {
		st->align = st->direct ? DIRECT_ALIGN : 1;
		memset(h, 0, sizeof(h));
		memcpy(h, PACK_MAGIC, 8);
		le32_put(h + 8, st->align);
		if (st->direct) {
			memset(st->bounce, 0, DIRECT_ALIGN);
			memcpy(st->bounce, h, sizeof(h));
			if (pwrite_all(st->fd, st->bounce, DIRECT_ALIGN, 0) == 0)
				break;
			if (errno != EINVAL)
				goto fail;
			/* A file system that opens but cannot do direct I/O: buffered then. */
			if (fcntl(st->fd, F_SETFL, fcntl(st->fd, F_GETFL) & ~O_DIRECT) != 0)
				goto fail;
			st->direct = 0;
			continue;
		}
		if (pwrite_all(st->fd, h, sizeof(h), 0) != 0)
			goto fail;
		break;
	}
	st->size = align_up(PACK_HDR, st->align);
	*out = st;
	return FWC_OK;
fail:
	rc = io_fail(ei, "write", st->tmp, errno);
	node_bs_stage_abort(st);
	return rc;
}

int node_bs_stage_put(struct node_bs_stage *st, const struct fwc_cid *cid, const uint8_t *data,
                      size_t len, unsigned flags, struct fwc_errinfo *ei)
{
	struct node_bs *bs;
	uint8_t h[REC_HDR];
	struct iovec iov[2];
	struct ient e;
	uint64_t hs;
	size_t want;
	ssize_t n;
	int rc;

	if (st == NULL || cid == NULL || (data == NULL && len > 0))
		return FWC_ERR_ARG;
	bs = st->bs;
	if (st->dead)
		return fwc_fail(ei, 0, FWC_ERR_STATE, "block store: this upload's pack failed");
	if ((rc = put_checks(bs, cid, data, len, flags, ei)) < 0)
		return rc;
	if (itab_get(&st->seen, cid->digest) != NULL || refresh_present(bs, cid->digest))
		return FWC_OK; /* once per pack, and not at all when stored already */
	hs = hdr_span(st->align);
	want = (size_t)align_up(hs + len, st->align);
	if ((rc = floor_check(bs, want, ei)) < 0)
		return rc;
	memset(h, 0, sizeof(h));
	memcpy(h, REC_MAGIC, 4);
	le32_put(h + 8, (uint32_t)len);
	memcpy(h + 16, cid->digest, FWC_CID_DIGEST_LEN);
	if (crash_point(bs) == NODE_BS_CRASH_AFTER_WRITE) {
		/* Die in the middle of the record: a torn temp pack is what a crash leaves (with
		 * O_DIRECT: the header's aligned span only). */
		if (st->direct) {
			memset(st->bounce, 0, (size_t)hs);
			memcpy(st->bounce, h, sizeof(h));
			(void)pwrite_all(st->fd, st->bounce, (size_t)hs, st->size);
		} else {
			(void)pwrite_all(st->fd, h, sizeof(h), st->size);
			(void)pwrite_all(st->fd, data, len / 2, st->size + REC_HDR);
		}
		st->dead = 1;
		st->crashed = 1;
		return simulated_crash(ei);
	}
	if (st->direct) {
		/* One aligned write of header, bytes and zero padding. */
		memset(st->bounce, 0, (size_t)hs);
		memcpy(st->bounce, h, sizeof(h));
		if (len)
			memcpy(st->bounce + hs, data, len);
		memset(st->bounce + hs + len, 0, want - (size_t)hs - len);
		if (pwrite_all(st->fd, st->bounce, want, st->size) != 0) {
			st->dead = 1;
			return io_fail(ei, "write", st->tmp, errno);
		}
		goto written;
	}
	iov[0].iov_base = h;
	iov[0].iov_len = sizeof(h);
	iov[1].iov_base = (void *)(uintptr_t)data;
	iov[1].iov_len = len;
	want = sizeof(h) + len;
	do
		n = pwritev(st->fd, iov, 2, (off_t)st->size);
	while (n < 0 && errno == EINTR);
	if (n >= 0 && (size_t)n < want) { /* short write (a signal, a full disk): the rest */
		size_t done = (size_t)n, hd = done < sizeof(h) ? done : sizeof(h);

		n = pwrite_all(st->fd, h + hd, sizeof(h) - hd, st->size + hd) == 0 &&
		            pwrite_all(st->fd, data + (done - hd), len - (done - hd),
		                       st->size + sizeof(h) + (done - hd)) == 0
		        ? (ssize_t)want
		        : -1;
	}
	if (n < 0) {
		st->dead = 1;
		return io_fail(ei, "write", st->tmp, errno);
	}
written:
	memset(&e, 0, sizeof(e));
	memcpy(e.digest, cid->digest, FWC_CID_DIGEST_LEN);
	e.pack = (uint32_t)st->nrecs;
	if (st->nrecs == st->caprecs) {
		size_t cap = st->caprecs ? 2 * st->caprecs : 64;
		struct srec *nv = realloc(st->recs, cap * sizeof(*nv));

		if (nv == NULL) {
			st->dead = 1;
			return FWC_ERR_NOMEM;
		}
		st->recs = nv;
		st->caprecs = cap;
	}
	if (itab_put(&st->seen, &e) < 0) {
		st->dead = 1;
		return FWC_ERR_NOMEM;
	}
	memcpy(st->recs[st->nrecs].digest, cid->digest, FWC_CID_DIGEST_LEN);
	st->recs[st->nrecs].off = st->size + hs;
	st->recs[st->nrecs].len = (uint32_t)len;
	st->nrecs++;
	st->size += want;
	if (!st->direct && st->size - st->synced_to >= STAGE_WRITEBACK) {
		/* Start the write-back now, asynchronously: the disk works while the upload goes
		 * on, and commit's fdatasync waits for little. */
		(void)sync_file_range(st->fd, (off_t)st->synced_to,
		                      (off_t)(st->size - st->synced_to), SYNC_FILE_RANGE_WRITE);
		st->synced_to = st->size;
	}
	return FWC_OK;
}

static void stage_free(struct node_bs_stage *st)
{
	free(st->bounce);
	if (st->fd >= 0)
		close(st->fd);
	itab_free(&st->seen);
	free(st->recs);
	free(st);
}

void node_bs_stage_abort(struct node_bs_stage *st)
{
	if (st == NULL)
		return;
	if (!st->crashed)
		unlinkat(st->bs->rootfd, st->tmp, 0);
	stage_free(st);
}

int node_bs_stage_commit(struct node_bs_stage *st, struct fwc_errinfo *ei)
{
	struct node_bs *bs;
	enum node_bs_crash crash;
	struct pack *p = NULL;
	char rel[REL_MAX];
	uint64_t id;
	int64_t slot;
	int rc;

	if (st == NULL)
		return FWC_ERR_ARG;
	bs = st->bs;
	if (st->dead) {
		int crashed = st->crashed;

		node_bs_stage_abort(st);
		if (crashed)
			return simulated_crash(ei);
		return fwc_fail(ei, 0, FWC_ERR_STATE, "block store: this upload's pack failed");
	}
	if (st->nrecs == 0) { /* every block was stored already */
		node_bs_stage_abort(st);
		return FWC_OK;
	}
	crash = crash_point(bs);
	if (fdatasync(st->fd) != 0) {
		rc = io_fail(ei, "sync", st->tmp, errno);
		goto fail;
	}
	if (crash == NODE_BS_CRASH_AFTER_SYNC)
		goto crash;
	/* From now on the descriptor serves reads (sendfile, pread at any offset) and flag
	 * updates: buffered. */
	if (st->direct && fcntl(st->fd, F_SETFL, fcntl(st->fd, F_GETFL) & ~O_DIRECT) != 0) {
		rc = io_fail(ei, "reopen", st->tmp, errno);
		goto fail;
	}
	pthread_mutex_lock(&bs->mu);
	id = bs->next_pack++;
	pthread_mutex_unlock(&bs->mu);
	pack_path(rel, id);
	/* rename, not link: the temp name must not survive (one directory operation), and ids
	 * are never reused while the store is open, so nothing is replaced. */
	if (renameat(bs->rootfd, st->tmp, bs->rootfd, rel) != 0) {
		rc = io_fail(ei, "rename into place", rel, errno);
		goto fail;
	}
	if (crash == NODE_BS_CRASH_AFTER_LINK)
		goto crash;
	if (fsync_dir(bs->rootfd, "packs") != 0) {
		/* The pack may or may not survive a crash; either way it holds whole blocks.
		 * Nothing is indexed, so the upload fails and leaves only collectable garbage. */
		rc = io_fail(ei, "sync", "packs", errno);
		unlinkat(bs->rootfd, rel, 0);
		stage_free(st);
		return rc;
	}
	p = calloc(1, sizeof(*p));
	if (p == NULL) {
		unlinkat(bs->rootfd, rel, 0);
		stage_free(st);
		return FWC_ERR_NOMEM;
	}
	p->id = id;
	p->align = st->align;
	rc = FWC_OK;
	pthread_mutex_lock(&bs->mu);
	slot = pack_slot_add(bs, p);
	if (slot < 0) {
		pthread_mutex_unlock(&bs->mu);
		unlinkat(bs->rootfd, rel, 0);
		free(p);
		stage_free(st);
		return fwc_fail(ei, 0, FWC_ERR_NOMEM, "block store: out of memory");
	}
	for (size_t i = 0; i < st->nrecs && rc == FWC_OK; i++) {
		const struct srec *r = &st->recs[i];
		struct stat sb;
		struct ient e;

		rel_path(rel, r->digest);
		if (itab_get(&bs->idx, r->digest) != NULL ||
		    fstatat(bs->rootfd, rel, &sb, AT_SYMLINK_NOFOLLOW) == 0) {
			/* Stored meanwhile by another upload or put: that copy serves. */
			rec_mark_deleted(st->fd, r->off, p->align);
			p->dirty = 1;
			continue;
		}
		memset(&e, 0, sizeof(e));
		memcpy(e.digest, r->digest, FWC_CID_DIGEST_LEN);
		e.pack = (uint32_t)slot;
		e.off = r->off;
		e.len = r->len;
		e.mtime = (int64_t)time(NULL);
		if (itab_put(&bs->idx, &e) < 0) {
			rc = FWC_ERR_NOMEM;
			break;
		}
		p->live++;
		bs->blocks++;
		bs->bytes += r->len;
	}
	if (p->live == 0)
		pack_drop(bs, (uint32_t)slot);
	pthread_mutex_unlock(&bs->mu);
	stage_free(st);
	if (rc < 0)
		return fwc_fail(ei, 0, rc, "block store: out of memory indexing an upload");
	return FWC_OK;
crash:
	close(st->fd);
	st->fd = -1;
	stage_free(st);
	return simulated_crash(ei);
fail:
	node_bs_stage_abort(st);
	return rc;
}

/* ---- lookups ---------------------------------------------------------------------------- */

/* Where a packed block is: 1 (descriptor dup'ed when fd != NULL), 0 when not packed, or an
 * error. */
static int packed_locate(struct node_bs *bs, const uint8_t digest[FWC_CID_DIGEST_LEN], int *fd,
                         uint64_t *off, uint64_t *len)
{
	struct ient *e;
	uint64_t id = 0, o = 0, l = 0;

	pthread_mutex_lock(&bs->mu);
	e = itab_get(&bs->idx, digest);
	if (e != NULL) {
		id = bs->packs[e->pack]->id;
		o = e->off;
		l = e->len;
	}
	pthread_mutex_unlock(&bs->mu);
	if (e == NULL)
		return 0;
	if (fd != NULL) {
		/* Outside the lock. Pack ids are never reused while the store is open, so a
		 * name that is gone means the whole pack was collected meanwhile. */
		*fd = pack_open(bs, id, O_RDONLY);
		if (*fd < 0)
			return errno == ENOENT ? 0 : FWC_ERR_IO;
	}
	if (off != NULL)
		*off = o;
	if (len != NULL)
		*len = l;
	return 1;
}

int node_bs_has(struct node_bs *bs, const struct fwc_cid *cid, uint64_t *len)
{
	char rel[REL_MAX];
	struct stat st;
	uint64_t l;

	if (bs == NULL || cid == NULL)
		return FWC_ERR_ARG;
	if (packed_locate(bs, cid->digest, NULL, NULL, &l) == 1) {
		if (len != NULL)
			*len = l;
		return 1;
	}
	rel_path(rel, cid->digest);
	if (fstatat(bs->rootfd, rel, &st, AT_SYMLINK_NOFOLLOW) != 0)
		return errno == ENOENT ? 0 : FWC_ERR_IO;
	if (len != NULL)
		*len = (uint64_t)st.st_size;
	return 1;
}

int node_bs_locate(struct node_bs *bs, const struct fwc_cid *cid, uint64_t *off, uint64_t *len)
{
	uint64_t o = 0, l = 0;
	int rc;

	if (bs == NULL || cid == NULL || off == NULL || len == NULL)
		return FWC_ERR_ARG;
	rc = packed_locate(bs, cid->digest, NULL, &o, &l);
	if (rc < 0)
		return rc;
	if (rc == 0) {
		char rel[REL_MAX];
		struct stat st;

		rel_path(rel, cid->digest);
		if (fstatat(bs->rootfd, rel, &st, AT_SYMLINK_NOFOLLOW) != 0)
			return errno == ENOENT ? FWC_ERR_NOT_FOUND : FWC_ERR_IO;
		l = (uint64_t)st.st_size;
	}
	*off = o;
	*len = l;
	return FWC_OK;
}

int node_bs_open_fd(struct node_bs *bs, const struct fwc_cid *cid, int *fd, uint64_t *off,
                    uint64_t *len)
{
	char rel[REL_MAX];
	struct stat st;
	uint64_t o, l;
	int f, rc;

	if (bs == NULL || cid == NULL || fd == NULL || off == NULL || len == NULL)
		return FWC_ERR_ARG;
	rc = packed_locate(bs, cid->digest, &f, &o, &l);
	if (rc < 0)
		return rc;
	if (rc == 1) {
		*fd = f;
		*off = o;
		*len = l;
		return FWC_OK;
	}
	rel_path(rel, cid->digest);
	f = openat(bs->rootfd, rel, O_RDONLY | O_CLOEXEC);
	if (f < 0)
		return errno == ENOENT ? FWC_ERR_NOT_FOUND : FWC_ERR_IO;
	if (fstat(f, &st) != 0) {
		close(f);
		return FWC_ERR_IO;
	}
	*fd = f;
	*off = 0;
	*len = (uint64_t)st.st_size;
	return FWC_OK;
}

static int read_verified(struct node_bs *bs, const struct fwc_cid *cid, uint8_t **heap,
                         uint8_t *buf, size_t cap, size_t *len, struct fwc_errinfo *ei)
{
	char txt[FWC_CID_STR_MAX];
	uint8_t *p = buf;
	uint64_t size, off;
	int fd, rc;

	if (fwc_cid_format(txt, sizeof(txt), cid) < 0)
		return FWC_ERR_ARG;
	rc = node_bs_open_fd(bs, cid, &fd, &off, &size);
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
	if (size > 0 && pread_all(fd, p, (size_t)size, off) != 0) {
		rc = fwc_fail(ei, 0, FWC_ERR_IO, "block store: cannot read %s: %s", txt,
		              errno ? strerror(errno) : "file shrank");
		goto out;
	}
	if (!fwc_cid_matches(cid, p, (size_t)size)) {
		rc = fwc_fail(ei, 0, FWC_ERR_HASH_MISMATCH, "stored block %s is corrupt", txt);
		goto out;
	}
	*len = (size_t)size;
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

/* ---- deletion, reclaim ------------------------------------------------------------------ */

int node_bs_delete_digest(struct node_bs *bs, const uint8_t digest[FWC_CID_DIGEST_LEN])
{
	char rel[REL_MAX];
	struct stat st;
	struct ient *e;
	int found = 0;

	if (bs == NULL || digest == NULL)
		return FWC_ERR_ARG;
	pthread_mutex_lock(&bs->mu);
	e = itab_get(&bs->idx, digest);
	if (e != NULL) {
		uint32_t slot = e->pack;
		struct pack *p = bs->packs[slot];

		bs->blocks--;
		bs->bytes -= e->len;
		if (--p->live == 0) {
			pack_drop(bs, slot); /* the whole file goes: no flag needed */
		} else {
			int pfd = pack_open(bs, p->id, O_RDWR);

			if (pfd >= 0) {
				rec_mark_deleted(pfd, e->off, p->align);
				close(pfd);
			}
			p->dirty = 1;
		}
		itab_del(&bs->idx, e);
		found = 1;
	}
	pthread_mutex_unlock(&bs->mu);
	rel_path(rel, digest);
	if (fstatat(bs->rootfd, rel, &st, AT_SYMLINK_NOFOLLOW) != 0) {
		if (errno != ENOENT)
			return FWC_ERR_IO;
		return found ? FWC_OK : FWC_ERR_NOT_FOUND;
	}
	if (unlinkat(bs->rootfd, rel, 0) != 0) {
		if (errno != ENOENT)
			return FWC_ERR_IO;
		return found ? FWC_OK : FWC_ERR_NOT_FOUND;
	}
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

int node_bs_reclaim(struct node_bs *bs)
{
	int rc = FWC_OK;

	if (bs == NULL)
		return FWC_ERR_ARG;
	for (size_t i = 0;; i++) {
		int fd = -1, r;

		pthread_mutex_lock(&bs->mu);
		if (i >= bs->npacks) {
			pthread_mutex_unlock(&bs->mu);
			break;
		}
		if (bs->packs[i] != NULL && bs->packs[i]->dirty) {
			fd = pack_open(bs, bs->packs[i]->id, O_RDWR);
			bs->packs[i]->dirty = 0;
		}
		pthread_mutex_unlock(&bs->mu);
		if (fd < 0)
			continue;
		/* Flags set after this sync are the next reclaim's; a record is only punched
		 * when its flag was read back set, i.e. after its pwrite. */
		if ((r = pack_punch(bs, fd)) < 0 && rc == FWC_OK)
			rc = r;
		close(fd);
	}
	return rc;
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
	struct ient *snap = NULL;
	size_t n = 0;
	int rc = FWC_OK;

	if (bs == NULL || fn == NULL)
		return FWC_ERR_ARG;
	/* Packed blocks from a snapshot, so that fn may delete (and the index change). */
	pthread_mutex_lock(&bs->mu);
	if (bs->idx.n > 0) {
		snap = malloc(bs->idx.n * sizeof(*snap));
		if (snap == NULL)
			rc = FWC_ERR_NOMEM;
		for (size_t i = 0; snap != NULL && i < bs->idx.cap; i++)
			if (bs->idx.v[i].used)
				snap[n++] = bs->idx.v[i];
	}
	pthread_mutex_unlock(&bs->mu);
	for (size_t i = 0; i < n && rc >= 0; i++)
		rc = fn(ctx, snap[i].digest, snap[i].len, snap[i].mtime);
	free(snap);
	for (unsigned i = 0; i < NSHARDS && rc >= 0; i++)
		rc = for_shard(bs->rootfd, i, fn, ctx);
	return rc < 0 ? rc : FWC_OK;
}
