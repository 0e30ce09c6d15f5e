/* Helpers shared by the content store tests (tests/node/{blockstore,pins,import}.c): scratch
 * directories and deterministic pseudo-random bytes. */
#ifndef FWC_TEST_STORE_UTIL_H
#define FWC_TEST_STORE_UTIL_H

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Remove a directory tree (best effort, no symlink following). */
static inline void su_rmtree(const char *path)
{
	struct stat st;
	struct dirent *e;
	DIR *d;

	if (lstat(path, &st) != 0)
		return;
	if (!S_ISDIR(st.st_mode)) {
		unlink(path);
		return;
	}
	d = opendir(path);
	if (d != NULL) {
		while ((e = readdir(d)) != NULL) {
			char sub[1024];

			if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
				continue;
			snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name);
			su_rmtree(sub);
		}
		closedir(d);
	}
	rmdir(path);
}

/* A fresh scratch directory under $TMPDIR (or /tmp); path written to out. */
static inline int su_mkdtemp(char *out, size_t cap, const char *tag)
{
	const char *base = getenv("TMPDIR");

	snprintf(out, cap, "%s/fwc-%s-XXXXXX", base && *base ? base : "/tmp", tag);
	return mkdtemp(out) != NULL ? 0 : -1;
}

/* Deterministic bytes (xorshift64*), so failures reproduce. */
static inline void su_fill(uint8_t *p, size_t n, uint64_t seed)
{
	uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;

	for (size_t i = 0; i < n; i++) {
		x ^= x >> 12;
		x ^= x << 25;
		x ^= x >> 27;
		p[i] = (uint8_t)((x * 0x2545F4914F6CDD1Dull) >> 56);
	}
}

/* Number of entries (other than . and ..) in a directory, -1 if it cannot be read. */
static inline int su_count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

#endif
