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

/* Remove a scratch device directory (flat: the POSIX port creates no subdirectories). */
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
		unlink(path);
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

#endif
