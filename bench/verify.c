/* Signature verification throughput: fwc_verify() against the raw library calls it wraps.
 *
 * For each algorithm the same 4096 (key, 32-byte message, signature) triples are verified
 * through fwc_verify() and through the libraries directly — libsecp256k1's
 * secp256k1_xonly_pubkey_parse + secp256k1_schnorrsig_verify on secp256k1_context_static, and
 * libsodium's crypto_sign_verify_detached — in alternating batches within each round (the order
 * flips every round), so both sides see the same machine load. Batches are sized from a
 * warm-up to last about 0.1 s; the result is the median over the rounds of each rate and of
 * the per-round lib/raw ratio. Total run time is a few seconds. Every verification must
 * succeed, or the benchmark fails. 4096 keys are four times what fwc_verify's per-thread cache
 * of lifted keys holds (lib/key_verify.c), so nearly every call parses its key as the raw
 * calls do: this measures the wrapper, not the cache (bench/node_tx.sh shows the cache's gain
 * on a node that sees the same senders again).
 *
 * Usage: bench_verify [rounds]   (default 7, at most 50) */
#include "fwchain/key.h"

#include <secp256k1.h>
#include <secp256k1_extrakeys.h>
#include <secp256k1_schnorrsig.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NKEYS 4096
#define MAX_ROUNDS 50
#define BATCH_SECONDS 0.1

struct item {
	struct fwc_pubkey pk;
	uint8_t msg[32];
	uint8_t sig[64];
};

static struct item items[2][NKEYS];
static int failures;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int verify_raw(const struct item *it)
{
	secp256k1_xonly_pubkey xpk;

	if (it->pk.alg == FWC_ALG_BIP340)
		return secp256k1_xonly_pubkey_parse(secp256k1_context_static, &xpk, it->pk.key) &&
		       secp256k1_schnorrsig_verify(secp256k1_context_static, it->sig, it->msg,
		                                   sizeof(it->msg), &xpk);
	return crypto_sign_verify_detached(it->sig, it->msg, sizeof(it->msg), it->pk.key) == 0;
}

static int verify_lib(const struct item *it)
{
	return fwc_verify(&it->pk, it->sig, it->msg, sizeof(it->msg)) == FWC_OK;
}

/* Verifications per second of n calls through fn over the items of one algorithm. */
static double run_batch(int (*fn)(const struct item *), const struct item *set, long n)
{
	double t0 = now(), dt;
	long ok = 0;

	for (long i = 0; i < n; i++)
		ok += fn(&set[i % NKEYS]);
	dt = now() - t0;
	if (ok != n)
		failures++;
	return dt > 0 ? (double)n / dt : 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(v[0]), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static int setup(void)
{
	for (int a = 0; a < 2; a++)
		for (int i = 0; i < NKEYS; i++) {
			struct fwc_seckey sk;
			struct item *it = &items[a][i];

			if (fwc_key_generate(&sk, a == 0 ? FWC_ALG_BIP340 : FWC_ALG_ED25519) < 0 ||
			    fwc_key_public(&it->pk, &sk) < 0)
				return -1;
			randombytes_buf(it->msg, sizeof(it->msg));
			if (fwc_sign(it->sig, &sk, it->msg, sizeof(it->msg)) < 0)
				return -1;
			fwc_seckey_wipe(&sk);
		}
	return 0;
}

int main(int argc, char **argv)
{
	int rounds = argc > 1 ? atoi(argv[1]) : 7;
	static const char *const names[2] = {"bip340", "ed25519"};

	if (rounds < 1 || rounds > MAX_ROUNDS) {
		fprintf(stderr, "usage: bench_verify [rounds 1..%d]\n", MAX_ROUNDS);
		return 2;
	}
	if (sodium_init() < 0 || setup() < 0) {
		fprintf(stderr, "bench_verify: setup failed\n");
		return 1;
	}
	printf("bench_verify: %d rounds, batches of ~%.2f s, median of rounds, 1 thread\n", rounds,
	       BATCH_SECONDS);
	for (int a = 0; a < 2; a++) {
		double lib[MAX_ROUNDS], raw[MAX_ROUNDS], ratio[MAX_ROUNDS], warm;
		long n;

		/* warm-up, and batch size from its rate */
		warm = run_batch(verify_raw, items[a], 200);
		run_batch(verify_lib, items[a], 200);
		n = (long)(warm * BATCH_SECONDS);
		if (n < 100)
			n = 100;
		if (n > 100000)
			n = 100000;
		for (int r = 0; r < rounds; r++) {
			if (r % 2 == 0) {
				lib[r] = run_batch(verify_lib, items[a], n);
				raw[r] = run_batch(verify_raw, items[a], n);
			} else {
				raw[r] = run_batch(verify_raw, items[a], n);
				lib[r] = run_batch(verify_lib, items[a], n);
			}
			ratio[r] = raw[r] > 0 ? lib[r] / raw[r] : 0;
		}
		printf("%-8s fwc_verify %8.0f/s   raw %8.0f/s   lib/raw %.3f   (%ld per batch)\n",
		       names[a], median(lib, rounds), median(raw, rounds), median(ratio, rounds),
		       n);
	}
	if (failures) {
		fprintf(stderr, "bench_verify: %d batches had failed verifications\n", failures);
		return 1;
	}
	return 0;
}
