/* bench-agreement.c -- cost of the convergence stage's agreement for n = 4, 31 and 301
 * authorities (intervals built from observations, then agreed), and Ed25519 signatures and
 * verifications per second through the host's key code (OpenSSL 3). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agreement.h"
#include "keys-internal.h"

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int compare_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Median and 99th percentile of the per-call cost over ROUNDS timed batches. */
static void agreement_bench(uint32_t n)
{
	enum { ROUNDS = 200 };
	uint32_t f = (n - 1) / 3;
	struct quorum_attestation *obs = calloc(n, sizeof(*obs));
	struct interval *iv = calloc(n, sizeof(*iv));
	void *scratch = malloc(AGREEMENT_SCRATCH(n));
	struct agreement_params params = { .n = n, .f = f };
	struct agreement_result result;
	double samples[ROUNDS];
	int64_t truth = 1795000000000000000LL;
	int batch = n < 50 ? 2000 : 100, failures = 0;

	srand(42);
	for (uint32_t i = 0; i < n; i++) {
		obs[i].midpoint_ns = truth - 40000 + rand() % 1000;
		obs[i].radius_ns = 1000;
		obs[i].processing_ns = 20000 + (uint64_t)(rand() % 5000);
		if (i < f) /* f liars, a second off */
			obs[i].midpoint_ns += 1000000000LL + rand() % 1000000;
	}
	for (int r = 0; r < ROUNDS; r++) {
		double t0 = now_ns();

		for (int b = 0; b < batch; b++) {
			for (uint32_t i = 0; i < n; i++)
				agreement_interval(&obs[i], 80000 + (i % 7) * 1000, 1000, 0, 50,
						   &iv[i]);
			failures += agreement_compute(iv, n, &params, scratch, &result) != 0;
		}
		samples[r] = (now_ns() - t0) / batch;
	}
	qsort(samples, ROUNDS, sizeof(double), compare_double);
	printf("agreement n=%-4u f=%-3u median_ns=%-9.0f p99_ns=%-9.0f width_ns=%lld%s\n", n, f,
	       samples[ROUNDS / 2], samples[ROUNDS * 99 / 100],
	       (long long)(result.hi - result.lo), failures ? " (REFUSED)" : "");
	free(scratch);
	free(iv);
	free(obs);
}

static void signature_bench(void)
{
	EVP_PKEY *key = key_generate();
	uint8_t msg[150], sig[KEY_SIGNATURE_LEN];
	double t0, seconds;
	long signs = 0, verifies = 0, bad = 0;

	memset(msg, 0x5a, sizeof(msg));
	t0 = now_ns();
	while ((seconds = (now_ns() - t0) / 1e9) < 1.0) {
		key_sign(key, msg, sizeof(msg), sig);
		signs++;
	}
	printf("ed25519 sign     per_second=%.0f\n", (double)signs / seconds);
	t0 = now_ns();
	while ((seconds = (now_ns() - t0) / 1e9) < 1.0) {
		bad += key_verify(key, msg, sizeof(msg), sig, sizeof(sig)) != 0;
		verifies++;
	}
	printf("ed25519 verify   per_second=%.0f%s\n", (double)verifies / seconds,
	       bad ? " (FAILED)" : "");
	EVP_PKEY_free(key);
}

int main(void)
{
	agreement_bench(4);
	agreement_bench(31);
	agreement_bench(301);
	signature_bench();
	return 0;
}
