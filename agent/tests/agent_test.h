/* Helpers shared by the agent's tests: a scratch device directory on the POSIX port, and
 * hashing through libfwchain (independent of the core, which hashes through the port). */
#ifndef FWAGENT_AGENT_TEST_H
#define FWAGENT_AGENT_TEST_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fwchain/sha256.h"
#include "port_posix.h"
#include "test.h"

/* Remove a scratch directory and what is in it (the tests create one level of folders). */
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
	char src[300];  /* the new image as a file: a download source */
	struct fwc_port port;
	struct fwc_agent_provision prov;
	uint8_t *factory;
	size_t factory_len;
	uint8_t *image;
	size_t image_len;
	struct fwc_agent_offer offer;
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

/* Add "file://path" as the next source of an offer. */
static inline void test_offer_source(struct fwc_agent_offer *o, const char *path)
{
	struct fwc_agent_source *s = &o->sources[o->source_count++];
	int n = snprintf(s->url, sizeof(s->url), "file://%s", path);

	s->len = (uint16_t)n;
}

/* An offer for img as a release with counter `counter`, chunks of chunk_size, no source yet.
 * Every digest is computed here with libfwchain, independently of the agent. */
static inline void test_offer_build(struct fwc_agent_offer *o, const uint8_t *img, size_t len,
                                    uint64_t counter, uint32_t chunk_size)
{
	memset(o, 0, sizeof(*o));
	o->counter = counter;
	o->size = len;
	fwc_sha256(o->sha256, img, len);
	fwc_tagged_hash(o->target, "fwagent-test/target", img, len);
	o->chunk_size = chunk_size;
	o->chunk_count = (uint32_t)((len + chunk_size - 1) / chunk_size);
	for (uint32_t c = 0; c < o->chunk_count && c < FWC_AGENT_MAX_CHUNKS; c++) {
		size_t off = (size_t)c * chunk_size;
		size_t n = len - off < chunk_size ? len - off : chunk_size;

		fwc_sha256(o->chunk_sha256[c], img + off, n);
	}
}

static inline int fixture_setup(struct fixture *fx, const char *tag, size_t image_len,
                                uint32_t chunk_size, uint32_t erase_unit)
{
	memset(fx, 0, sizeof(*fx));
	if (test_mkdtemp(fx->root, sizeof(fx->root), tag) != 0)
		return -1;
	snprintf(fx->dev, sizeof(fx->dev), "%s/dev", fx->root);
	snprintf(fx->src, sizeof(fx->src), "%s/image-43.bin", fx->root);
	fx->factory_len = TEST_FACTORY_LEN;
	fx->image_len = image_len;
	fx->factory = malloc(fx->factory_len);
	fx->image = malloc(image_len);
	if (fx->factory == NULL || fx->image == NULL)
		return -1;
	test_pattern(fx->factory, fx->factory_len, 1);
	test_pattern(fx->image, image_len, 2);
	if (test_write_file(fx->src, fx->image, image_len) != 0)
		return -1;
	if (fwc_posix_format(fx->dev, TEST_SLOT_SIZE, erase_unit) != FWC_OK ||
	    test_open(&fx->port, fx->dev) != FWC_OK ||
	    fwc_posix_factory_write(&fx->port, FWC_SLOT_A, fx->factory, fx->factory_len) != FWC_OK)
		return -1;
	test_offer_build(&fx->offer, fx->image, image_len, TEST_COUNTER, chunk_size);
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
