/* Helpers shared by the agent's tests: a scratch device directory on the POSIX port, and
 * hashing through libfwchain (independent of the core, which hashes through the port). */
#ifndef FWAGENT_AGENT_TEST_H
#define FWAGENT_AGENT_TEST_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/stat.h>

#include "fwchain/cid.h"
#include "fwchain/sha256.h"
#include "fwchain/unixfs.h"
#include "port_posix.h"
#include "test.h"

/* Remove a scratch directory and what is in it (the tests create a few levels of folders). */
static inline void test_rmtree(const char *dir)
{
	DIR *d = dir != NULL && dir[0] != '\0' ? opendir(dir) : NULL;
	struct dirent *e;
	char path[1024];

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (unlink(path) != 0)
			test_rmtree(path); /* a subdirectory */
	}
	closedir(d);
	rmdir(dir);
}

/* Make a fresh scratch directory name like /tmp/fwagent-TAG-XXXXXX in out. */
static inline int test_mkdtemp(char *out, size_t cap, const char *tag)
{
	const char *base = getenv("TMPDIR");

	snprintf(out, cap, "%s/fwagent-%s-XXXXXX", base ? base : "/tmp", tag);
	return mkdtemp(out) != NULL ? 0 : -1;
}

/* Open a device directory for a test: no fsync (power loss is simulated, not real). */
static inline int test_open(struct fwc_port *port, const char *dir)
{
	int rc = fwc_posix_open(port, dir);

	if (rc == FWC_OK)
		port->sync = false;
	return rc;
}

/* Read a whole file into a malloc'd buffer (NUL-terminated); NULL on failure. */
static inline char *test_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long n;

	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
	    (buf = malloc((size_t)n + 1)) != NULL) {
		if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
			free(buf);
			buf = NULL;
		} else {
			buf[n] = '\0';
			if (len)
				*len = (size_t)n;
		}
	}
	fclose(f);
	return buf;
}

/* ---- an agent fixture: a device with a factory image in slot A and a new image to offer -- */

#define TEST_SLOT_SIZE (1024u * 1024u + 131072u)
#define TEST_FACTORY_LEN 300000u
#define TEST_COUNTER 43u

struct fixture {
	char root[256]; /* scratch folder */
	char dev[300];  /* device directory */
	char src[300];  /* the new image's blocks: a download source (file://src) */
	struct fwc_port port;
	struct fwc_agent_provision prov;
	uint8_t *factory;
	size_t factory_len;
	uint8_t *image;
	size_t image_len;
	struct fwc_agent_offer offer;
	uint32_t chunk_size; /* leaves of the offer's DAG */
};

/* Deterministic bytes (xorshift32), so images differ from each other and from 0xFF. */
static inline void test_pattern(uint8_t *p, size_t n, uint32_t seed)
{
	uint32_t x = seed ? seed : 1;

	for (size_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		p[i] = (uint8_t)x;
	}
}

static inline int test_write_file(const char *path, const uint8_t *p, size_t n)
{
	FILE *f = fopen(path, "wb");
	int ok;

	if (f == NULL)
		return -1;
	ok = fwrite(p, 1, n, f) == n;
	return (fclose(f) == 0 && ok) ? 0 : -1;
}

/* Add "file://dir" as the next source of an offer: its blocks are the files
 * dir/ipfs/<cid>?format=raw (what the agent asks a trustless gateway for). */
static inline void test_offer_source(struct fwc_agent_offer *o, const char *dir)
{
	struct fwc_agent_source *s = &o->sources[o->source_count++];
	int n = snprintf(s->url, sizeof(s->url), "file://%s", dir);

	s->len = (uint16_t)n;
}

/* The file a source directory holds block cid in. */
static inline void test_block_path(char *out, size_t cap, const char *dir,
                                   const struct fwc_cid *cid)
{
	char text[FWC_CID_STR_MAX];

	fwc_cid_format(text, sizeof(text), cid);
	snprintf(out, cap, "%s/ipfs/%s?format=raw", dir, text);
}

struct test_dag_sink {
	const char *dir;
	int err;
};

static inline int test_dag_emit(void *ctx, const struct fwc_cid *cid, const uint8_t *block,
                                size_t len)
{
	struct test_dag_sink *s = ctx;
	char path[512];

	test_block_path(path, sizeof(path), s->dir, cid);
	if (test_write_file(path, block, len) != 0)
		s->err = -1;
	return FWC_OK;
}

/* Import img with the library's UnixFS importer (opt NULL: CIDv1, raw leaves, chunks of
 * chunk_size) and write every block into dir/ipfs/. *root gets the file's CID. */
static inline int test_dag_write(struct fwc_cid *root, const char *dir, const uint8_t *img,
                                 size_t len, const struct fwc_unixfs_options *opt,
                                 uint32_t chunk_size)
{
	struct fwc_unixfs_options o;
	struct test_dag_sink ts = {dir, 0};
	struct fwc_unixfs_sink sink = {test_dag_emit, &ts};
	struct fwc_unixfs_result res;
	char sub[512];

	if (opt != NULL) {
		o = *opt;
	} else {
		fwc_unixfs_options_default(&o, 1);
		o.chunk_size = chunk_size;
	}
	mkdir(dir, 0755);
	snprintf(sub, sizeof(sub), "%s/ipfs", dir);
	mkdir(sub, 0755);
	if (fwc_unixfs_import(&res, &o, &sink, img, len) != FWC_OK || ts.err != 0)
		return -1;
	*root = res.root;
	return 0;
}

/* The CIDv1 raw leaf of chunk i (chunks of chunk_size) of img. */
static inline void test_leaf_cid(struct fwc_cid *cid, const uint8_t *img, size_t len,
                                 uint32_t chunk_size, size_t i)
{
	size_t off = i * chunk_size, n = len - off < chunk_size ? len - off : chunk_size;

	fwc_cid_from_block(cid, 1, FWC_CID_CODEC_RAW, img + off, n);
}

/* An offer for img as a release with counter `counter`, whose DAG (CIDv1, raw leaves of
 * chunk_size) is written into dir; no source yet. The root CID, size and hash are computed
 * here with libfwchain, independently of the agent. */
static inline int test_offer_build(struct fwc_agent_offer *o, const uint8_t *img, size_t len,
                                   uint64_t counter, uint32_t chunk_size, const char *dir)
{
	struct fwc_cid root;

	memset(o, 0, sizeof(*o));
	if (test_dag_write(&root, dir, img, len, NULL, chunk_size) != 0)
		return -1;
	o->counter = counter;
	o->size = len;
	fwc_sha256(o->sha256, img, len);
	memcpy(o->target, root.digest, 32);
	o->root_kind = root.codec == FWC_CID_CODEC_RAW ? FWC_AGENT_CID_RAW
	               : root.version == 0             ? FWC_AGENT_CID_PB0
	                                               : FWC_AGENT_CID_PB1;
	return 0;
}

enum test_tamper { TAMPER_FLIP = 1, TAMPER_SHORT = 2, TAMPER_LONG = 3, TAMPER_DROP = 4 };

/* Write fx-like image img's DAG (raw leaves of chunk_size) into dir, then spoil the block of
 * leaf i: one byte flipped, one byte short, 4 KiB too long, or missing. */
static inline int test_dag_tamper(const char *dir, const uint8_t *img, size_t len,
                                  uint32_t chunk_size, size_t i, enum test_tamper how)
{
	struct fwc_cid root, leaf;
	char path[512];
	size_t off = i * chunk_size, n = len - off < chunk_size ? len - off : chunk_size;
	uint8_t *copy;
	int rc = 0;

	if (test_dag_write(&root, dir, img, len, NULL, chunk_size) != 0)
		return -1;
	test_leaf_cid(&leaf, img, len, chunk_size, i);
	test_block_path(path, sizeof(path), dir, &leaf);
	if (how == TAMPER_DROP)
		return unlink(path);
	if ((copy = malloc(n + 4096)) == NULL)
		return -1;
	memcpy(copy, img + off, n);
	test_pattern(copy + n, 4096, 7);
	if (how == TAMPER_FLIP)
		copy[n / 2] ^= 1;
	rc = test_write_file(path, copy,
	                     how == TAMPER_SHORT  ? n - 1
	                     : how == TAMPER_LONG ? n + 4096
	                                          : n);
	free(copy);
	return rc;
}

static inline int fixture_setup(struct fixture *fx, const char *tag, size_t image_len,
                                uint32_t chunk_size, uint32_t erase_unit)
{
	memset(fx, 0, sizeof(*fx));
	if (test_mkdtemp(fx->root, sizeof(fx->root), tag) != 0)
		return -1;
	snprintf(fx->dev, sizeof(fx->dev), "%s/dev", fx->root);
	snprintf(fx->src, sizeof(fx->src), "%s/blocks", fx->root);
	fx->factory_len = TEST_FACTORY_LEN;
	fx->image_len = image_len;
	fx->factory = malloc(fx->factory_len);
	fx->image = malloc(image_len);
	if (fx->factory == NULL || fx->image == NULL)
		return -1;
	test_pattern(fx->factory, fx->factory_len, 1);
	test_pattern(fx->image, image_len, 2);
	if (fwc_posix_format(fx->dev, TEST_SLOT_SIZE, erase_unit) != FWC_OK ||
	    test_open(&fx->port, fx->dev) != FWC_OK ||
	    fwc_posix_factory_write(&fx->port, FWC_SLOT_A, fx->factory, fx->factory_len) != FWC_OK)
		return -1;
	if (test_offer_build(&fx->offer, fx->image, image_len, TEST_COUNTER, chunk_size, fx->src) !=
	    0)
		return -1;
	fx->chunk_size = chunk_size;
	test_offer_source(&fx->offer, fx->src);
	return 0;
}

static inline void fixture_teardown(struct fixture *fx)
{
	fwc_posix_close(&fx->port);
	free(fx->factory);
	free(fx->image);
	test_rmtree(fx->root);
}

/* Power cycle after a simulated power loss: reopen the device (the port's power comes back),
 * keeping the operation counter so later cuts keep their numbers. */
static inline int fixture_power_back(struct fixture *fx)
{
	long ops = fx->port.ops;
	int rc;

	fwc_posix_close(&fx->port);
	rc = test_open(&fx->port, fx->dev);
	fx->port.ops = ops;
	return rc;
}

/* 1 when the first n bytes of slot equal want. */
static inline int slot_holds(struct fwc_port *port, uint8_t slot, const uint8_t *want, size_t n)
{
	uint8_t *buf = malloc(n ? n : 1);
	int same;

	if (buf == NULL)
		return 0;
	same = fwc_port_slot_read(port, buf, n, slot, 0) == FWC_OK && memcmp(buf, want, n) == 0;
	free(buf);
	return same;
}

/* Step until the agent finishes its cycle (IDLE), asks for a reboot, or loses power;
 * at most max steps. Returns the last state. */
static inline enum fwc_agent_state run_agent(struct fwc_agent *a, struct fwc_port *port, int max)
{
	enum fwc_agent_state s = fwc_agent_state(a);

	for (int i = 0; i < max; i++) {
		s = fwc_agent_step(a);
		if (s == FWC_AGENT_IDLE || port->reboot_requested || port->power_lost)
			break;
	}
	return s;
}

/* Power on and run until the agent is idle, powering on again whenever it reboots (at most
 * max_resets times). Returns the number of power-ons, or -1 on a power-on error (kept in
 * *err when err is not NULL). */
static inline int boot_until_idle(struct fwc_agent *a, struct fwc_port *port,
                                  const struct fwc_agent_provision *prov, int max_resets, int *err)
{
	for (int n = 1; n <= max_resets; n++) {
		int rc = fwc_posix_power_on(a, NULL, port, prov);

		if (rc < 0) {
			if (err)
				*err = rc;
			return -1;
		}
		if (fwc_agent_state(a) == FWC_AGENT_IDLE)
			return n;
		run_agent(a, port, 10000);
		if (!port->reboot_requested)
			return n;
	}
	return max_resets + 1;
}

#endif
