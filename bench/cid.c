/* Benchmark: UnixFS import (CID + flat SHA-256 in one pass) versus plain SHA-256 over the same
 * in-memory bytes, measured in the same run. The importer hashes every byte twice (its leaf and
 * the flat hash), so its ideal ratio to one SHA-256 pass is about 0.5; the requirement (>= 0.8)
 * is stated against coreutils sha256sum, which bench/cid.sh measures with the CLI.
 *
 * Usage: bench_cid [MiB]   (default 256; content is xorshift32 bytes, best of 3 runs) */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "fwchain/cid.h"
#include "fwchain/sha256.h"
#include "fwchain/unixfs.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	size_t mib = argc > 1 ? (size_t)strtoul(argv[1], NULL, 10) : 256;
	size_t n = mib << 20;
	uint8_t *buf, h[32];
	uint32_t x = 2463534242u;
	double best_sha = 1e9, best_v1 = 1e9, best_v0 = 1e9;
	char cid[FWC_CID_STR_MAX];

	if (mib == 0 || mib > 4096 || (buf = malloc(n)) == NULL) {
		fprintf(stderr, "usage: bench_cid [MiB 1..4096]\n");
		return 2;
	}
	for (size_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		buf[i] = (uint8_t)x;
	}
	for (int run = 0; run < 3; run++) {
		struct fwc_unixfs_result r;
		struct fwc_unixfs_options o;
		double t;

		t = now();
		if (fwc_sha256(h, buf, n) != FWC_OK)
			return 1;
		t = now() - t;
		best_sha = t < best_sha ? t : best_sha;

		fwc_unixfs_options_default(&o, 1);
		t = now();
		if (fwc_unixfs_import(&r, &o, NULL, buf, n) != FWC_OK)
			return 1;
		t = now() - t;
		best_v1 = t < best_v1 ? t : best_v1;
		fwc_cid_format(cid, sizeof(cid), &r.root);

		fwc_unixfs_options_default(&o, 0);
		t = now();
		if (fwc_unixfs_import(&r, &o, NULL, buf, n) != FWC_OK)
			return 1;
		t = now() - t;
		best_v0 = t < best_v0 ? t : best_v0;
	}
	printf("input             %zu MiB (in memory, best of 3)\n", mib);
	printf("sha256 (EVP)      %8.1f MB/s\n", n / best_sha / 1e6);
	printf("import v1 raw     %8.1f MB/s  ratio %.2f  root %s\n", n / best_v1 / 1e6,
	       best_sha / best_v1, cid);
	printf("import v0 dag-pb  %8.1f MB/s  ratio %.2f\n", n / best_v0 / 1e6, best_sha / best_v0);
	free(buf);
	return 0;
}
