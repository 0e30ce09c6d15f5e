/* Tests node/blockstore.c: round trip, refusals that store nothing (wrong hash, oversize, disk
 * floor), a crash at every step of a put followed by a reopen, corruption detected on read,
 * delete and accounting, iteration, the single-opener lock, and exact counters under concurrent
 * puts of the same blocks. Expected CIDs are the Kubo/multiformats ones checked in
 * tests/unit/cid.c and docs/formats/car.md. */
#include "test.h"

#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "blockstore.h"
#include "store_util.h"

static char root[512];
static int direct_io; /* uploads' packs with O_DIRECT (4096-aligned records) in open_store */

static void path_in(char *out, size_t cap, const char *dir, const char *rel)
{
	snprintf(out, cap, "%s/%s", dir, rel);
}

static struct node_bs *open_store(const char *dir, size_t max_block, uint64_t floor_bytes,
                                  enum node_bs_crash crash)
{
	struct node_bs_options o;
	struct node_bs *bs = NULL;
	struct fwc_errinfo ei;

	node_bs_options_default(&o);
	o.max_block = max_block;
	o.floor_bytes = floor_bytes;
	o.crash = crash;
	o.no_direct_io = !direct_io;
	if (node_bs_open(&bs, dir, &o, &ei) != FWC_OK)
		fprintf(stderr, "open %s: %s\n", dir, ei.msg);
	CHECK(bs != NULL);
	return bs;
}

static void test_round_trip(void)
{
	char dir[600];
	struct node_bs *bs;
	struct node_bs_stats st;
	struct fwc_cid cid, cid0;
	uint8_t buf[64], *heap = NULL;
	size_t len = 0;
	uint64_t l64 = 0, off = 1;
	int fd = -1;

	path_in(dir, sizeof(dir), root, "rt");
	bs = open_store(dir, 1 << 20, 0, NODE_BS_CRASH_NONE);
	if (bs == NULL)
		return;
	CHECK_RC(fwc_cid_parse(&cid, "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e",
	                       59, NULL),
	         FWC_OK);
	CHECK_RC(node_bs_has(bs, &cid, NULL), 0);
	CHECK_RC(node_bs_read(bs, &cid, buf, sizeof(buf), &len, NULL), FWC_ERR_NOT_FOUND);
	CHECK_RC(node_bs_put(bs, &cid, (const uint8_t *)"hello world", 11, 0, NULL), FWC_OK);
	CHECK_RC(node_bs_has(bs, &cid, &l64), 1);
	CHECK(l64 == 11);
	CHECK_RC(node_bs_read(bs, &cid, buf, sizeof(buf), &len, NULL), FWC_OK);
	CHECK(len == 11 && memcmp(buf, "hello world", 11) == 0);
	CHECK_RC(node_bs_read(bs, &cid, buf, 5, &len, NULL), FWC_ERR_BUFSIZE);
	CHECK(len == 11);
	CHECK_RC(node_bs_get(bs, &cid, &heap, &len, NULL), FWC_OK);
	CHECK(heap != NULL && len == 11 && memcmp(heap, "hello world", 11) == 0);
	free(heap);
	CHECK_RC(node_bs_open_fd(bs, &cid, &fd, &off, &l64), FWC_OK);
	CHECK(off == 0 && l64 == 11 && pread(fd, buf, sizeof(buf), 0) == 11);
	CHECK(memcmp(buf, "hello world", 11) == 0);
	close(fd);
	/* the file sits where the doc says: blocks/<2 hex>/<64 hex of SHA-256> */
	{
		char p[800];
		struct stat sb;

		snprintf(p, sizeof(p),
		         "%s/blocks/b9/"
		         "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9",
		         dir);
		CHECK(stat(p, &sb) == 0 && sb.st_size == 11);
	}
	/* storing again is a no-op; the CIDv0 dag-pb name of the same bytes finds it too */
	CHECK_RC(node_bs_put(bs, &cid, (const uint8_t *)"hello world", 11, 0, NULL), FWC_OK);
	CHECK_RC(fwc_cid_parse(&cid0, "QmaozNR7DZHQK1ZcU9p7QdrshMvXqWK6gpu5rmrkPdT3L4", 46, NULL),
	         FWC_OK);
	CHECK_RC(node_bs_has(bs, &cid0, NULL), 1);
	CHECK_RC(node_bs_stats(bs, &st), FWC_OK);
	CHECK(st.blocks == 1 && st.bytes == 11 && st.free_bytes > 0);
	/* the empty block is a block too */
	CHECK_RC(fwc_cid_from_block(&cid, 1, FWC_CID_CODEC_RAW, "", 0), FWC_OK);
	CHECK_RC(node_bs_put(bs, &cid, NULL, 0, 0, NULL), FWC_OK);
	CHECK_RC(node_bs_read(bs, &cid, buf, sizeof(buf), &len, NULL), FWC_OK);
	CHECK(len == 0);
	node_bs_close(bs);
	/* counters survive a reopen (rebuilt by the scan) */
	bs = open_store(dir, 1 << 20, 0, NODE_BS_CRASH_NONE);
	if (bs == NULL)
		return;
	CHECK_RC(node_bs_stats(bs, &st), FWC_OK);
	CHECK(st.blocks == 2 && st.bytes == 11);
	node_bs_close(bs);
}

static void test_refusals(void)
{
	char dir[600], tmpd[700];
	struct node_bs *bs;
	struct node_bs_stats st;
	struct fwc_errinfo ei;
	struct fwc_cid cid;
	static uint8_t big[1001];

	path_in(dir, sizeof(dir), root, "ref");
	bs = open_store(dir, 1000, 0, NODE_BS_CRASH_NONE);
	if (bs == NULL)
		return;
	path_in(tmpd, sizeof(tmpd), dir, "tmp");
	/* wrong hash: the CID of other bytes */
	CHECK_RC(fwc_cid_from_block(&cid, 1, FWC_CID_CODEC_RAW, "hello world", 11), FWC_OK);
	CHECK_RC(node_bs_put(bs, &cid, (const uint8_t *)"hello worle", 11, 0, &ei),
	         FWC_ERR_HASH_MISMATCH);
	CHECK(strstr(ei.msg, "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e") !=
	      NULL);
	CHECK_RC(node_bs_has(bs, &cid, NULL), 0);
	/* oversize: 1001 bytes with a 1000-byte maximum; 1000 is fine */
	su_fill(big, sizeof(big), 1);
	CHECK_RC(fwc_cid_from_block(&cid, 1, FWC_CID_CODEC_RAW, big, 1001), FWC_OK);
	CHECK_RC(node_bs_put(bs, &cid, big, 1001, 0, &ei), FWC_ERR_TOO_LARGE);
	CHECK(strstr(ei.msg, "1001") != NULL);
	CHECK_RC(node_bs_has(bs, &cid, NULL), 0);
	CHECK_RC(fwc_cid_from_block(&cid, 1, FWC_CID_CODEC_RAW, big, 1000), FWC_OK);
	CHECK_RC(node_bs_put(bs, &cid, big, 1000, 0, NULL), FWC_OK);
	CHECK_RC(node_bs_stats(bs, &st), FWC_OK);
	CHECK(st.blocks == 1 && st.bytes == 1000);
	CHECK(su_count_entries(tmpd) == 0);
	node_bs_close(bs);

	/* disk floor: require more free space than the disk has */
	bs = open_store(dir, 1000, 0, NODE_BS_CRASH_NONE);
	if (bs == NULL)
		return;
	CHECK_RC(node_bs_stats(bs, &st), FWC_OK);
	node_bs_close(bs);
	bs = open_store(dir, 1000, st.free_bytes + (1ull << 30), NODE_BS_CRASH_NONE);
	if (bs == NULL)
		return;
	CHECK_RC(fwc_cid_from_block(&cid, 1, FWC_CID_CODEC_RAW, big, 999), FWC_OK);
	CHECK_RC(node_bs_put(bs, &cid, big, 999, 0, &ei), FWC_ERR_NOSPACE);
	CHECK(strstr(ei.msg, "floor") != NULL);
	CHECK_RC(node_bs_has(bs, &cid, NULL), 0);
	CHECK(su_count_entries(tmpd) == 0);
	/* a block already stored is still accepted (it needs no space) */
	CHECK_RC(fwc_cid_from_block(&cid, 1, FWC_CID_CODEC_RAW, big, 1000), FWC_OK);
	CHECK_RC(node_bs_put(bs, &cid, big, 1000, 0, NULL), FWC_OK);
	node_bs_close(bs);
}

static void test_crash_points(void)
{
	static const enum node_bs_crash points[] = {
	    NODE_BS_CRASH_AFTER_WRITE, NODE_BS_CRASH_AFTER_SYNC, NODE_BS_CRASH_AFTER_LINK};

	for (size_t i = 0; i < sizeof(points) / sizeof(points[0]); i++) {
		char dir[600], tmpd[700], name[32];
		struct node_bs *bs;
		struct node_bs_stats st;
		struct fwc_cid cid;
		uint8_t data[5000], back[5000];
		size_t len;

		snprintf(name, sizeof(name), "crash%zu", i);
		path_in(dir, sizeof(dir), root, name);
		path_in(tmpd, sizeof(tmpd), dir, "tmp");
		su_fill(data, sizeof(data), 100 + i);
		CHECK_RC(fwc_cid_from_block(&cid, 1, FWC_CID_CODEC_RAW, data, sizeof(data)),
		         FWC_OK);
		bs = open_store(dir, 1 << 20, 0, points[i]);
		if (bs == NULL)
			return;
		CHECK_RC(node_bs_put(bs, &cid, data, sizeof(data), 0, NULL), FWC_ERR_IO);
		CHECK(su_count_entries(tmpd) == 1); /* the crash left its temp file */
		node_bs_close(bs);
		/* restart: the temp file is gone; the block is there only if it was linked */
		bs = open_store(dir, 1 << 20, 0, NODE_BS_CRASH_NONE);
		if (bs == NULL)
			return;
		CHECK(su_count_entries(tmpd) == 0);
		CHECK_RC(node_bs_stats(bs, &st), FWC_OK);
		if (points[i] == NODE_BS_CRASH_AFTER_LINK) {
			CHECK(st.blocks == 1 && st.bytes == sizeof(data));
			CHECK_RC(node_bs_read(bs, &cid, back, sizeof(back), &len, NULL), FWC_OK);
			CHECK(len == sizeof(data) && memcmp(back, data, len) == 0);
		} else {
			CHECK(st.blocks == 0 && st.bytes == 0);
			CHECK_RC(node_bs_has(bs, &cid, NULL), 0);
		}
		/* retrying the put completes it */
		CHECK_RC(node_bs_put(bs, &cid, data, sizeof(data), 0, NULL), FWC_OK);
		CHECK_RC(node_bs_read(bs, &cid, back, sizeof(back), &len, NULL), FWC_OK);
		CHECK(len == sizeof(data) && memcmp(back, data, len) == 0);
		CHECK_RC(node_bs_stats(bs, &st), FWC_OK);
		CHECK(st.blocks == 1 && st.bytes == sizeof(data));
		node_bs_close(bs);
	}
	/* a stray partial temp file from some earlier crash is removed at open */
	{
		char dir[600], p[800];
		struct node_bs *bs;
		struct node_bs_stats st;
		FILE *f;

		path_in(dir, sizeof(dir), root, "crash0");
		path_in(p, sizeof(p), dir, "tmp/999-1.tmp");
		f = fopen(p, "wb");
		CHECK(f != NULL);
		if (f != NULL) {
			fwrite("partial", 1, 7, f);
			fclose(f);
		}
		bs = open_store(dir, 1 << 20, 0, NODE_BS_CRASH_NONE);
		if (bs == NULL)
			return;
		CHECK(access(p, F_OK) != 0);
		CHECK_RC(node_bs_stats(bs, &st), FWC_OK);
		CHECK(st.blocks == 1);
		node_bs_close(bs);
	}
}

static void test_corruption_and_delete(void)
{
	char dir[600], p[800];
	struct node_bs *bs;
	struct node_bs_stats st;
	struct fwc_cid cid;
	struct fwc_errinfo ei;
	uint8_t data[300], back[300], *heap = NULL;
	size_t len;
	int fd;

	path_in(dir, sizeof(dir), root, "corrupt");
	bs = open_store(dir, 1 << 20, 0, NODE_BS_CRASH_NONE);
	if (bs == NULL)
		return;
	su_fill(data, sizeof(data), 7);
	CHECK_RC(fwc_cid_from_block(&cid, 1, FWC_CID_CODEC_RAW, data, sizeof(data)), FWC_OK);
	CHECK_RC(node_bs_put(bs, &cid, data, sizeof(data), 0, NULL), FWC_OK);
	/* flip a byte of the stored file behind the store's back */
	{
		char hex[65];

		for (int i = 0; i < 32; i++)
			snprintf(hex + 2 * i, 3, "%02x", cid.digest[i]);
		snprintf(p, sizeof(p), "%s/blocks/%.2s/%s", dir, hex, hex);
	}
	chmod(p, 0644);
	fd = open(p, O_WRONLY);
	CHECK(fd >= 0);
	if (fd >= 0) {
		uint8_t b = data[10] ^ 0xff;

		CHECK(pwrite(fd, &b, 1, 10) == 1);
		close(fd);
	}
	CHECK_RC(node_bs_read(bs, &cid, back, sizeof(back), &len, &ei), FWC_ERR_HASH_MISMATCH);
	CHECK(strstr(ei.msg, "corrupt") != NULL);
	CHECK_RC(node_bs_get(bs, &cid, &heap, &len, NULL), FWC_ERR_HASH_MISMATCH);
	CHECK(heap == NULL);
	/* delete, then it is gone and counted out */
	CHECK_RC(node_bs_delete(bs, &cid), FWC_OK);
	CHECK_RC(node_bs_delete(bs, &cid), FWC_ERR_NOT_FOUND);
	CHECK_RC(node_bs_has(bs, &cid, NULL), 0);
	CHECK_RC(node_bs_stats(bs, &st), FWC_OK);
	CHECK(st.blocks == 0 && st.bytes == 0);
	node_bs_close(bs);
}

struct walk {
	int n;
	uint64_t bytes;
	int delete_odd;
	struct node_bs *bs;
};

static int walk_fn(void *ctx, const uint8_t digest[32], uint64_t len, int64_t mtime)
{
	struct walk *w = ctx;

	w->n++;
	w->bytes += len;
	CHECK(mtime > 0);
	if (w->delete_odd && (digest[31] & 1))
		CHECK_RC(node_bs_delete_digest(w->bs, digest), FWC_OK);
	return FWC_OK;
}

static void test_foreach_and_lock(void)
{
	char dir[600];
	struct node_bs *bs, *bs2 = NULL;
	struct node_bs_stats st;
	struct fwc_errinfo ei;
	struct walk w;
	uint64_t want_bytes = 0;
	int odd = 0;

	path_in(dir, sizeof(dir), root, "walk");
	bs = open_store(dir, 1 << 20, 0, NODE_BS_CRASH_NONE);
	if (bs == NULL)
		return;
	CHECK_RC(node_bs_open(&bs2, dir, NULL, &ei), FWC_ERR_STATE);
	CHECK(bs2 == NULL && strstr(ei.msg, "already open") != NULL);
	for (int i = 0; i < 40; i++) {
		uint8_t data[100 + 40];
		struct fwc_cid cid;

		su_fill(data, (size_t)(100 + i), 1000 + (uint64_t)i);
		CHECK_RC(fwc_cid_from_block(&cid, 1, FWC_CID_CODEC_RAW, data, (size_t)(100 + i)),
		         FWC_OK);
		CHECK_RC(
		    node_bs_put(bs, &cid, data, (size_t)(100 + i), NODE_BS_DEFER_DIRSYNC, NULL),
		    FWC_OK);
		want_bytes += (uint64_t)(100 + i);
		odd += cid.digest[31] & 1;
	}
	CHECK_RC(node_bs_sync(bs, NULL), FWC_OK);
	memset(&w, 0, sizeof(w));
	CHECK_RC(node_bs_foreach(bs, walk_fn, &w), FWC_OK);
	CHECK(w.n == 40 && w.bytes == want_bytes);
	memset(&w, 0, sizeof(w));
	w.delete_odd = 1;
	w.bs = bs;
	CHECK_RC(node_bs_foreach(bs, walk_fn, &w), FWC_OK);
	CHECK_RC(node_bs_stats(bs, &st), FWC_OK);
	CHECK(st.blocks == (uint64_t)(40 - odd));
	memset(&w, 0, sizeof(w));
	CHECK_RC(node_bs_foreach(bs, walk_fn, &w), FWC_OK);
	CHECK(w.n == 40 - odd && (uint64_t)w.bytes == st.bytes);
	node_bs_close(bs);
	/* once closed, it can be opened again */
	CHECK_RC(node_bs_open(&bs2, dir, NULL, NULL), FWC_OK);
	node_bs_close(bs2);
}

#define NTHREADS 4
#define NSHARED 30

struct worker {
	struct node_bs *bs;
	int errors;
};

static void *put_worker(void *arg)
{
	struct worker *w = arg;

	for (int i = 0; i < NSHARED; i++) {
		uint8_t data[2000];
		struct fwc_cid cid;

		su_fill(data, sizeof(data), 5000 + (uint64_t)i);
		if (fwc_cid_from_block(&cid, 1, FWC_CID_CODEC_RAW, data, sizeof(data)) != FWC_OK ||
		    node_bs_put(w->bs, &cid, data, sizeof(data), 0, NULL) != FWC_OK)
			w->errors++;
	}
	return NULL;
}

static void test_concurrent_puts(void)
{
	char dir[600];
	struct node_bs *bs;
	struct node_bs_stats st;
	pthread_t th[NTHREADS];
	struct worker w[NTHREADS];

	path_in(dir, sizeof(dir), root, "conc");
	bs = open_store(dir, 1 << 20, 0, NODE_BS_CRASH_NONE);
	if (bs == NULL)
		return;
	for (int i = 0; i < NTHREADS; i++) {
		w[i].bs = bs;
		w[i].errors = 0;
		pthread_create(&th[i], NULL, put_worker, &w[i]);
	}
	for (int i = 0; i < NTHREADS; i++) {
		pthread_join(th[i], NULL);
		CHECK(w[i].errors == 0);
	}
	/* every block counted exactly once although four writers stored it */
	CHECK_RC(node_bs_stats(bs, &st), FWC_OK);
	CHECK(st.blocks == NSHARED && st.bytes == NSHARED * 2000);
	node_bs_close(bs);
}

/* ---- staged uploads (packs) ---- */

static int count_cb(void *ctx, const uint8_t digest[FWC_CID_DIGEST_LEN], uint64_t len,
                    int64_t mtime)
{
	(void)digest;
	(void)len;
	(void)mtime;
	(*(int *)ctx)++;
	return FWC_OK;
}

/* The first pack file in dir/packs (its path in out); 0 when there is one. */
static int first_pack(char *out, size_t cap, const char *dir)
{
	char pd[700];
	struct dirent *e;
	DIR *d;
	int rc = -1;

	path_in(pd, sizeof(pd), dir, "packs");
	d = opendir(pd);
	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (strstr(e->d_name, ".pack") != NULL) {
			snprintf(out, cap, "%s/%s", pd, e->d_name);
			rc = 0;
			break;
		}
	closedir(d);
	return rc;
}

#define NSTAGE 6

static void make_blocks(uint8_t data[NSTAGE][3000], struct fwc_cid cids[NSTAGE], uint64_t seed)
{
	for (int i = 0; i < NSTAGE; i++) {
		su_fill(data[i], 3000, seed + (uint64_t)i);
		CHECK_RC(fwc_cid_from_block(&cids[i], 1, FWC_CID_CODEC_RAW, data[i], 3000), FWC_OK);
	}
}

/* A stage's blocks are invisible until commit, then readable (checked), served by offset
 * from one pack, counted once; a duplicate within the stage and a block already stored are
 * not written again; the index is rebuilt from the pack at open; a deleted packed block stays
 * deleted across a reopen, reclaim punches its bytes, and the pack file goes with its last
 * block; an aborted stage leaves nothing. */
static void test_stage_round_trip(void)
{
	static uint8_t data[NSTAGE][3000];
	struct fwc_cid cids[NSTAGE];
	char dir[600], tmpd[700], packd[700], packf[900];
	struct node_bs *bs;
	struct node_bs_stage *st = NULL;
	struct node_bs_stats sts;
	uint8_t back[3000];
	size_t len;
	int n;

	path_in(dir, sizeof(dir), root, "stage");
	path_in(tmpd, sizeof(tmpd), dir, "tmp");
	path_in(packd, sizeof(packd), dir, "packs");
	make_blocks(data, cids, 500);
	bs = open_store(dir, 1 << 20, 0, NODE_BS_CRASH_NONE);
	if (bs == NULL)
		return;
	/* block 0 is stored already, as a file */
	CHECK_RC(node_bs_put(bs, &cids[0], data[0], 3000, 0, NULL), FWC_OK);
	CHECK_RC(node_bs_stage_begin(bs, &st, NULL), FWC_OK);
	if (st == NULL)
		return;
	for (int i = 0; i < NSTAGE; i++)
		CHECK_RC(node_bs_stage_put(st, &cids[i], data[i], 3000, 0, NULL), FWC_OK);
	CHECK_RC(node_bs_stage_put(st, &cids[3], data[3], 3000, 0, NULL), FWC_OK); /* again */
	{
		struct fwc_errinfo ei;

		/* a wrong hash is refused as by node_bs_put, and the stage goes on */
		CHECK_RC(node_bs_stage_put(st, &cids[1], data[2], 3000, 0, &ei),
		         FWC_ERR_HASH_MISMATCH);
	}
	CHECK(su_count_entries(tmpd) == 1);
	CHECK_RC(node_bs_has(bs, &cids[1], NULL), 0); /* not visible before the commit */
	CHECK_RC(node_bs_stats(bs, &sts), FWC_OK);
	CHECK(sts.blocks == 1);
	CHECK_RC(node_bs_stage_commit(st, NULL), FWC_OK);
	CHECK(su_count_entries(tmpd) == 0 && su_count_entries(packd) == 1);
	CHECK_RC(node_bs_stats(bs, &sts), FWC_OK);
	CHECK(sts.blocks == NSTAGE && sts.bytes == NSTAGE * 3000);
	for (int i = 0; i < NSTAGE; i++) {
		CHECK_RC(node_bs_read(bs, &cids[i], back, sizeof(back), &len, NULL), FWC_OK);
		CHECK(len == 3000 && memcmp(back, data[i], 3000) == 0);
	}
	/* pack layout: 16-byte header, then 48-byte record headers before each block's bytes;
	 * blocks 1..5 in put order (block 0 was a file, the repeat of 3 not written) */
	{
		uint64_t off = 0, l = 0;
		int fd = -1;

		CHECK_RC(node_bs_open_fd(bs, &cids[1], &fd, &off, &l), FWC_OK);
		CHECK(off == 16 + 48 && l == 3000);
		CHECK(pread(fd, back, 3000, (off_t)off) == 3000 &&
		      memcmp(back, data[1], 3000) == 0);
		close(fd);
		CHECK_RC(node_bs_open_fd(bs, &cids[5], &fd, &off, &l), FWC_OK);
		CHECK(off == 16 + 4 * (48 + 3000) + 48);
		close(fd);
		CHECK_RC(node_bs_open_fd(bs, &cids[0], &fd, &off, &l), FWC_OK);
		CHECK(off == 0); /* the file */
		close(fd);
	}
	n = 0;
	CHECK_RC(node_bs_foreach(bs, count_cb, &n), FWC_OK);
	CHECK(n == NSTAGE);
	node_bs_close(bs);

	/* reopen: the index is rebuilt from the pack */
	bs = open_store(dir, 1 << 20, 0, NODE_BS_CRASH_NONE);
	if (bs == NULL)
		return;
	CHECK_RC(node_bs_stats(bs, &sts), FWC_OK);
	CHECK(sts.blocks == NSTAGE && sts.bytes == NSTAGE * 3000);
	CHECK_RC(node_bs_read(bs, &cids[4], back, sizeof(back), &len, NULL), FWC_OK);
	CHECK(len == 3000 && memcmp(back, data[4], 3000) == 0);
	/* delete a packed block: gone now and after a reopen; reclaim punches its bytes */
	CHECK_RC(node_bs_delete(bs, &cids[2]), FWC_OK);
	CHECK_RC(node_bs_delete(bs, &cids[2]), FWC_ERR_NOT_FOUND);
	CHECK_RC(node_bs_has(bs, &cids[2], NULL), 0);
	CHECK_RC(node_bs_reclaim(bs), FWC_OK);
	CHECK(first_pack(packf, sizeof(packf), dir) == 0);
	{
		/* the record's bytes now read as zeros (a hole), its neighbours are intact */
		FILE *f = fopen(packf, "rb");
		uint8_t z[3000], zero[3000];

		memset(zero, 0, sizeof(zero));
		CHECK(f != NULL);
		if (f != NULL) {
			CHECK(fseek(f, 16 + 48 + 3000 + 48, SEEK_SET) == 0);
			CHECK(fread(z, 1, sizeof(z), f) == sizeof(z));
			CHECK(memcmp(z, zero, sizeof(z)) == 0);
			fclose(f);
		}
	}
	node_bs_close(bs);
	bs = open_store(dir, 1 << 20, 0, NODE_BS_CRASH_NONE);
	if (bs == NULL)
		return;
	CHECK_RC(node_bs_has(bs, &cids[2], NULL), 0);
	CHECK_RC(node_bs_stats(bs, &sts), FWC_OK);
	CHECK(sts.blocks == NSTAGE - 1);
	CHECK_RC(node_bs_read(bs, &cids[3], back, sizeof(back), &len, NULL), FWC_OK);
	/* the pack goes with its last live block */
	for (int i = 1; i < NSTAGE; i++)
		if (i != 2)
			CHECK_RC(node_bs_delete(bs, &cids[i]), FWC_OK);
	CHECK(su_count_entries(packd) == 0);
	CHECK_RC(node_bs_stats(bs, &sts), FWC_OK);
	CHECK(sts.blocks == 1 && sts.bytes == 3000);
	/* an aborted stage: nothing visible, no file left */
	CHECK_RC(node_bs_stage_begin(bs, &st, NULL), FWC_OK);
	if (st != NULL) {
		CHECK_RC(node_bs_stage_put(st, &cids[1], data[1], 3000, 0, NULL), FWC_OK);
		node_bs_stage_abort(st);
	}
	CHECK(su_count_entries(tmpd) == 0 && su_count_entries(packd) == 0);
	CHECK_RC(node_bs_has(bs, &cids[1], NULL), 0);
	/* a stage whose blocks are all stored already commits to nothing */
	CHECK_RC(node_bs_stage_begin(bs, &st, NULL), FWC_OK);
	if (st != NULL) {
		CHECK_RC(node_bs_stage_put(st, &cids[0], data[0], 3000, 0, NULL), FWC_OK);
		CHECK_RC(node_bs_stage_commit(st, NULL), FWC_OK);
	}
	CHECK(su_count_entries(tmpd) == 0 && su_count_entries(packd) == 0);
	node_bs_close(bs);
}

/* A crash in the middle of a record, after the pack's sync, after its rename: the reopened
 * store has no temp file and either none of the stage's blocks or all of them, whole. */
static void test_stage_crash_points(void)
{
	static const enum node_bs_crash points[] = {
	    NODE_BS_CRASH_AFTER_WRITE, NODE_BS_CRASH_AFTER_SYNC, NODE_BS_CRASH_AFTER_LINK};
	static uint8_t data[NSTAGE][3000];
	struct fwc_cid cids[NSTAGE];

	make_blocks(data, cids, 700);
	for (size_t i = 0; i < sizeof(points) / sizeof(points[0]); i++) {
		char dir[600], tmpd[700], name[32];
		struct node_bs_options o;
		struct node_bs *bs = NULL;
		struct node_bs_stage *st = NULL;
		struct node_bs_stats sts;
		struct fwc_errinfo ei;
		int rc = FWC_OK;

		snprintf(name, sizeof(name), "scrash%zu", i);
		path_in(dir, sizeof(dir), root, name);
		path_in(tmpd, sizeof(tmpd), dir, "tmp");
		node_bs_options_default(&o);
		o.floor_bytes = 0;
		o.crash = points[i];
		o.crash_after = 3; /* AFTER_WRITE: the 4th block dies half written */
		CHECK_RC(node_bs_open(&bs, dir, &o, NULL), FWC_OK);
		if (bs == NULL)
			return;
		CHECK_RC(node_bs_stage_begin(bs, &st, NULL), FWC_OK);
		if (st == NULL)
			return;
		for (int b = 0; b < NSTAGE && rc == FWC_OK; b++) /* (O_DIRECT: the default) */
			rc = node_bs_stage_put(st, &cids[b], data[b], 3000, 0, &ei);
		if (points[i] == NODE_BS_CRASH_AFTER_WRITE) {
			CHECK_RC(rc, FWC_ERR_IO);
			CHECK_RC(node_bs_stage_commit(st, &ei), FWC_ERR_IO);
		} else {
			CHECK_RC(rc, FWC_OK);
			CHECK_RC(node_bs_stage_commit(st, &ei), FWC_ERR_IO);
		}
		CHECK(strstr(ei.msg, "simulated crash") != NULL);
		CHECK(su_count_entries(tmpd) == (points[i] == NODE_BS_CRASH_AFTER_LINK ? 0 : 1));
		node_bs_close(bs);
		bs = open_store(dir, 1 << 20, 0, NODE_BS_CRASH_NONE); /* restart */
		if (bs == NULL)
			return;
		CHECK(su_count_entries(tmpd) == 0);
		CHECK_RC(node_bs_stats(bs, &sts), FWC_OK);
		if (points[i] == NODE_BS_CRASH_AFTER_LINK) {
			CHECK(sts.blocks == NSTAGE);
			for (int b = 0; b < NSTAGE; b++) {
				uint8_t back[3000];
				size_t len;

				CHECK_RC(node_bs_read(bs, &cids[b], back, sizeof(back), &len, NULL),
				         FWC_OK);
			}
		} else {
			CHECK(sts.blocks == 0);
		}
		node_bs_close(bs);
	}
}

/* Two stages holding the same block commit one after the other: it is counted and indexed
 * once (the second copy is retired), also after a reopen; a pack cut short (damage) keeps the
 * blocks before the cut. */
static void test_stage_duplicates_and_damage(void)
{
	static uint8_t data[NSTAGE][3000];
	struct fwc_cid cids[NSTAGE];
	char dir[600], packd[700];
	struct node_bs *bs;
	struct node_bs_stage *a = NULL, *b = NULL;
	struct node_bs_stats sts;

	path_in(dir, sizeof(dir), root, "sdup");
	path_in(packd, sizeof(packd), dir, "packs");
	make_blocks(data, cids, 900);
	bs = open_store(dir, 1 << 20, 0, NODE_BS_CRASH_NONE);
	if (bs == NULL)
		return;
	CHECK_RC(node_bs_stage_begin(bs, &a, NULL), FWC_OK);
	CHECK_RC(node_bs_stage_begin(bs, &b, NULL), FWC_OK);
	if (a == NULL || b == NULL)
		return;
	CHECK_RC(node_bs_stage_put(a, &cids[0], data[0], 3000, 0, NULL), FWC_OK);
	CHECK_RC(node_bs_stage_put(a, &cids[1], data[1], 3000, 0, NULL), FWC_OK);
	CHECK_RC(node_bs_stage_put(b, &cids[1], data[1], 3000, 0, NULL), FWC_OK);
	CHECK_RC(node_bs_stage_put(b, &cids[2], data[2], 3000, 0, NULL), FWC_OK);
	CHECK_RC(node_bs_stage_commit(a, NULL), FWC_OK);
	CHECK_RC(node_bs_stage_commit(b, NULL), FWC_OK);
	CHECK_RC(node_bs_stats(bs, &sts), FWC_OK);
	CHECK(sts.blocks == 3 && sts.bytes == 3 * 3000);
	CHECK(su_count_entries(packd) == 2);
	node_bs_close(bs);
	bs = open_store(dir, 1 << 20, 0, NODE_BS_CRASH_NONE);
	if (bs == NULL)
		return;
	CHECK_RC(node_bs_stats(bs, &sts), FWC_OK);
	CHECK(sts.blocks == 3 && sts.bytes == 3 * 3000);
	/* deleting the block removes it everywhere */
	CHECK_RC(node_bs_delete(bs, &cids[1]), FWC_OK);
	CHECK_RC(node_bs_has(bs, &cids[1], NULL), 0);
	node_bs_close(bs);
	bs = open_store(dir, 1 << 20, 0, NODE_BS_CRASH_NONE);
	if (bs == NULL)
		return;
	CHECK_RC(node_bs_has(bs, &cids[1], NULL), 0);
	CHECK_RC(node_bs_stats(bs, &sts), FWC_OK);
	CHECK(sts.blocks == 2);
	/* damage: a new pack of three blocks cut in the middle of its third */
	CHECK_RC(node_bs_stage_begin(bs, &a, NULL), FWC_OK);
	if (a == NULL)
		return;
	for (int i = 3; i < 6; i++)
		CHECK_RC(node_bs_stage_put(a, &cids[i], data[i], 3000, 0, NULL), FWC_OK);
	CHECK_RC(node_bs_stage_commit(a, NULL), FWC_OK);
	node_bs_close(bs);
	{
		char pd[700], f[1000], newest[1000] = "";
		struct dirent *e;
		DIR *d;

		path_in(pd, sizeof(pd), dir, "packs");
		d = opendir(pd);
		while (d != NULL && (e = readdir(d)) != NULL)
			if (strstr(e->d_name, ".pack") != NULL) {
				snprintf(f, sizeof(f), "%s/%s", pd, e->d_name);
				if (strcmp(f, newest) >
				    0) /* ids grow: the last name is the new pack */
					snprintf(newest, sizeof(newest), "%s", f);
			}
		if (d != NULL)
			closedir(d);
		CHECK(newest[0] != 0 && truncate(newest, 16 + 3 * 48 + 2 * 3000 + 100) == 0);
	}
	bs = open_store(dir, 1 << 20, 0, NODE_BS_CRASH_NONE);
	if (bs == NULL)
		return;
	CHECK_RC(node_bs_has(bs, &cids[3], NULL), 1);
	CHECK_RC(node_bs_has(bs, &cids[4], NULL), 1);
	CHECK_RC(node_bs_has(bs, &cids[5], NULL), 0);
	node_bs_close(bs);
}

/* The same store with O_DIRECT packs (the default): records 4096-aligned, bytes read back,
 * index rebuilt at open, a deletion and its reclaim, two uploads. */
static void test_stage_direct(void)
{
	static uint8_t data[NSTAGE][3000];
	struct fwc_cid cids[NSTAGE];
	char dir[600];
	struct node_bs *bs;
	struct node_bs_stage *st = NULL;
	struct node_bs_stats sts;
	uint8_t back[3000];
	size_t len;

	direct_io = 1;
	path_in(dir, sizeof(dir), root, "sdirect");
	make_blocks(data, cids, 1100);
	bs = open_store(dir, 1 << 20, 0, NODE_BS_CRASH_NONE);
	if (bs == NULL)
		goto out;
	for (int half = 0; half < 2; half++) {
		CHECK_RC(node_bs_stage_begin(bs, &st, NULL), FWC_OK);
		if (st == NULL)
			goto out;
		for (int i = half * 3; i < half * 3 + 3; i++)
			CHECK_RC(node_bs_stage_put(st, &cids[i], data[i], 3000, 0, NULL), FWC_OK);
		CHECK_RC(node_bs_stage_commit(st, NULL), FWC_OK);
	}
	for (int i = 0; i < NSTAGE; i++) {
		uint64_t off = 1, l = 0;
		int fd = -1;

		CHECK_RC(node_bs_open_fd(bs, &cids[i], &fd, &off, &l), FWC_OK);
		CHECK(l == 3000 && off % 4096 == 0); /* every record on a 4096 boundary */
		CHECK(pread(fd, back, 3000, (off_t)off) == 3000 &&
		      memcmp(back, data[i], 3000) == 0);
		close(fd);
	}
	node_bs_close(bs);
	bs = open_store(dir, 1 << 20, 0, NODE_BS_CRASH_NONE);
	if (bs == NULL)
		goto out;
	CHECK_RC(node_bs_stats(bs, &sts), FWC_OK);
	CHECK(sts.blocks == NSTAGE && sts.bytes == NSTAGE * 3000);
	for (int i = 0; i < NSTAGE; i++) {
		CHECK_RC(node_bs_read(bs, &cids[i], back, sizeof(back), &len, NULL), FWC_OK);
		CHECK(len == 3000 && memcmp(back, data[i], 3000) == 0);
	}
	CHECK_RC(node_bs_delete(bs, &cids[1]), FWC_OK);
	CHECK_RC(node_bs_reclaim(bs), FWC_OK);
	CHECK_RC(node_bs_read(bs, &cids[2], back, sizeof(back), &len, NULL), FWC_OK);
	node_bs_close(bs);
	bs = open_store(dir, 1 << 20, 0, NODE_BS_CRASH_NONE);
	if (bs == NULL)
		goto out;
	CHECK_RC(node_bs_has(bs, &cids[1], NULL), 0);
	CHECK_RC(node_bs_read(bs, &cids[0], back, sizeof(back), &len, NULL), FWC_OK);
	CHECK_RC(node_bs_read(bs, &cids[2], back, sizeof(back), &len, NULL), FWC_OK);
	node_bs_close(bs);
out:
	direct_io = 0;
}

/* Many uploads do not hold descriptors: with the process limited to 48 open files, 120
 * committed packs are written, reopened and every block read back. */
static void test_many_packs(void)
{
	struct rlimit old, low;
	char dir[600];
	struct node_bs *bs;
	struct node_bs_stats sts;
	uint8_t data[600], back[600];
	size_t len;

	path_in(dir, sizeof(dir), root, "many");
	CHECK(getrlimit(RLIMIT_NOFILE, &old) == 0);
	low = old;
	low.rlim_cur = 48;
	CHECK(setrlimit(RLIMIT_NOFILE, &low) == 0);
	bs = open_store(dir, 1 << 20, 0, NODE_BS_CRASH_NONE);
	for (int round = 0; bs != NULL && round < 2; round++) {
		for (unsigned i = 0; i < 120; i++) {
			struct node_bs_stage *st = NULL;
			struct fwc_cid cid;

			su_fill(data, sizeof(data), 5000 + i);
			CHECK_RC(fwc_cid_from_block(&cid, 1, FWC_CID_CODEC_RAW, data, sizeof(data)),
			         FWC_OK);
			if (round == 0) {
				CHECK_RC(node_bs_stage_begin(bs, &st, NULL), FWC_OK);
				if (st == NULL)
					break;
				CHECK_RC(node_bs_stage_put(st, &cid, data, sizeof(data), 0, NULL),
				         FWC_OK);
				CHECK_RC(node_bs_stage_commit(st, NULL), FWC_OK);
			}
			CHECK_RC(node_bs_read(bs, &cid, back, sizeof(back), &len, NULL), FWC_OK);
		}
		CHECK_RC(node_bs_stats(bs, &sts), FWC_OK);
		CHECK(sts.blocks == 120);
		node_bs_close(bs);
		bs = round == 0 ? open_store(dir, 1 << 20, 0, NODE_BS_CRASH_NONE) : NULL;
	}
	CHECK(setrlimit(RLIMIT_NOFILE, &old) == 0);
}

int main(void)
{
	if (su_mkdtemp(root, sizeof(root), "bs") != 0) {
		perror("mkdtemp");
		return 1;
	}
	RUN(test_round_trip);
	RUN(test_refusals);
	RUN(test_crash_points);
	RUN(test_corruption_and_delete);
	RUN(test_foreach_and_lock);
	RUN(test_concurrent_puts);
	RUN(test_stage_round_trip);
	RUN(test_stage_crash_points);
	RUN(test_stage_duplicates_and_damage);
	RUN(test_stage_direct);
	RUN(test_many_packs);
	su_rmtree(root);
	return test_done();
}
