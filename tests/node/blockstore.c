/* Tests node/blockstore.c: round trip, refusals that store nothing (wrong hash, oversize, disk
 * floor), a crash at every step of a put followed by a reopen, corruption detected on read,
 * delete and accounting, iteration, the single-opener lock, and exact counters under concurrent
 * puts of the same blocks. Expected CIDs are the Kubo/multiformats ones checked in
 * tests/unit/cid.c and docs/formats/car.md. */
#include "test.h"

#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>

#include "blockstore.h"
#include "store_util.h"

static char root[512];

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
	su_rmtree(root);
	return test_done();
}
