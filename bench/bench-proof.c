/* bench-proof.c -- the Merkle tree at 1,000,000 records: build time, inclusion and
 * consistency proof generation (median, p99; target: inclusion under 20 us), proof sizes
 * (ceil(log2 n) x 32 bytes at most), and the restore time of the level files. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mtree.h"

#define LEAVES 1000000ULL
#define SAMPLES 100000

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int rm_level_files(const char *dir)
{
	char path[4200];

	for (int k = 0; k < 64; k++) {
		snprintf(path, sizeof(path), "%s/level-%02d", dir, k);
		unlink(path);
	}
	return rmdir(dir);
}

int main(void)
{
	char dir[] = "/tmp/bench-proof-XXXXXX";
	static double t[SAMPLES];
	uint8_t proof[MTREE_PROOF_MAX][MTREE_HASH_LEN], h[MTREE_HASH_LEN], root[MTREE_HASH_LEN];
	struct mtree *tree;
	uint64_t state = 0x9e3779b97f4a7c15ULL, bytes_min = ~0ULL, bytes_max = 0, at_max = 0;
	unsigned ceil_log2 = 0;
	double start, open_ms;
	size_t count;

	if (mkdtemp(dir) == NULL || mtree_open(dir, &tree, NULL, 0) != 0)
		return 1;
	while ((1ULL << ceil_log2) < LEAVES)
		ceil_log2++;
	start = now_ns();
	for (uint64_t i = 0; i < LEAVES; i++) {
		char rec[120];
		int n = snprintf(rec, sizeof(rec), "record %llu of the vault, about 100 bytes long "
						   "like an audit line ........................",
				 (unsigned long long)i);

		mtree_leaf_hash(rec, (size_t)n, h);
		if (mtree_append(tree, h) != 0)
			return 1;
	}
	printf("built a %llu-leaf tree (leaf hashing included) in %.2f s\n", LEAVES,
	       (now_ns() - start) / 1e9);
	mtree_root(tree, LEAVES, root);
	for (int i = 0; i < SAMPLES; i++) {
		uint64_t m;
		double t0;

		state ^= state << 13, state ^= state >> 7, state ^= state << 17;
		m = state % LEAVES;
		t0 = now_ns();
		mtree_inclusion_proof(tree, m, LEAVES, proof, MTREE_PROOF_MAX, &count);
		t[i] = now_ns() - t0;
		mtree_leaf(tree, m, h);
		if (!mtree_verify_inclusion(m, LEAVES, h, proof, count, root)) {
			printf("proof of %llu does not verify\n", (unsigned long long)m);
			return 1;
		}
		if (count * MTREE_HASH_LEN < bytes_min)
			bytes_min = count * MTREE_HASH_LEN;
		if (count * MTREE_HASH_LEN > bytes_max)
			bytes_max = count * MTREE_HASH_LEN;
		at_max += count == ceil_log2;
	}
	qsort(t, SAMPLES, sizeof(t[0]), cmp_double);
	printf("inclusion proof at n = %llu: median %.2f us, p99 %.2f us, max %.2f us over %d "
	       "random leaves (target: under 20 us) %s\n",
	       LEAVES, t[SAMPLES / 2] / 1e3, t[SAMPLES * 99 / 100] / 1e3, t[SAMPLES - 1] / 1e3,
	       SAMPLES, t[SAMPLES / 2] < 20000 ? "MET" : "MISSED");
	printf("proof size: %llu..%llu bytes; ceil(log2 n) x 32 = %u bytes; %llu of %d proofs "
	       "have exactly that size, none more %s\n",
	       (unsigned long long)bytes_min, (unsigned long long)bytes_max, ceil_log2 * 32,
	       (unsigned long long)at_max, SAMPLES,
	       bytes_max == ceil_log2 * 32ULL ? "(as required)" : "(UNEXPECTED)");
	for (int i = 0; i < SAMPLES / 10; i++) {
		uint64_t a;
		double t0;

		state ^= state << 13, state ^= state >> 7, state ^= state << 17;
		a = 1 + state % (LEAVES - 1);
		t0 = now_ns();
		mtree_consistency_proof(tree, a, LEAVES, proof, MTREE_PROOF_MAX, &count);
		t[i] = now_ns() - t0;
	}
	qsort(t, SAMPLES / 10, sizeof(t[0]), cmp_double);
	printf("consistency proof to n = %llu: median %.2f us, p99 %.2f us\n", LEAVES,
	       t[SAMPLES / 20] / 1e3, t[SAMPLES / 10 * 99 / 100] / 1e3);
	mtree_close(tree);
	start = now_ns();
	if (mtree_open(dir, &tree, NULL, 0) != 0)
		return 1;
	open_ms = (now_ns() - start) / 1e6;
	mtree_root(tree, LEAVES, h);
	printf("restore of the level files at %llu leaves (no rehash): %.1f ms, root %s\n",
	       (unsigned long long)mtree_size(tree), open_ms,
	       memcmp(h, root, MTREE_HASH_LEN) == 0 ? "unchanged" : "CHANGED");
	mtree_close(tree);
	rm_level_files(dir);
	return 0;
}
