/* A small test runner: CHECK macros that count and report, and a closing line in the
 * "N passed, N failed" form that ctest's output and CI read. Each test file is one ctest. */
#ifndef FWC_TEST_H
#define FWC_TEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int t_checks, t_failed, t_tests, t_tests_failed;

#define CHECK(cond)                                                                            \
	do {                                                                                   \
		t_checks++;                                                                    \
		if (!(cond)) {                                                                 \
			t_failed++;                                                            \
			fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__,      \
				#cond);                                                        \
		}                                                                              \
	} while (0)

#define CHECK_RC(expr, want)                                                                   \
	do {                                                                                   \
		int rc_ = (expr);                                                              \
		t_checks++;                                                                    \
		if (rc_ != (want)) {                                                           \
			t_failed++;                                                            \
			fprintf(stderr, "%s:%d: %s returned %d, want %d\n", __FILE__, __LINE__,  \
				#expr, rc_, (int)(want));                                      \
		}                                                                              \
	} while (0)

#define CHECK_MEM(a, b, n) CHECK(memcmp((a), (b), (n)) == 0)

#define RUN(fn)                                                                                \
	do {                                                                                   \
		int before_ = t_failed;                                                        \
		t_tests++;                                                                     \
		fn();                                                                          \
		if (t_failed != before_) {                                                     \
			t_tests_failed++;                                                      \
			fprintf(stderr, "FAIL %s\n", #fn);                                     \
		}                                                                              \
	} while (0)

/* Print the closing line and turn the result into the exit code. A file that ran no check
 * fails: a test that asserts nothing is a defect. */
static inline int test_done(void)
{
	printf("%d checks; %d passed, %d failed\n", t_checks, t_tests - t_tests_failed,
	       t_tests_failed);
	return (t_failed == 0 && t_checks > 0) ? 0 : 1;
}

/* Path of a file in the checked-in vectors folder (FWC_VECTORS, set by ctest). */
static inline const char *test_vector_path(char *buf, size_t cap, const char *name)
{
	const char *dir = getenv("FWC_VECTORS");
	snprintf(buf, cap, "%s/%s", dir ? dir : "tests/vectors", name);
	return buf;
}

static inline size_t test_unhex(unsigned char *out, size_t cap, const char *hex)
{
	size_t n = 0;
	while (hex[0] && hex[1] && n < cap) {
		unsigned v;
		if (sscanf(hex, "%2x", &v) != 1)
			break;
		out[n++] = (unsigned char)v;
		hex += 2;
	}
	return n;
}

#endif
