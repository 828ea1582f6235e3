/* mtree-proofs.c -- prints a Merkle tree's leaves, roots and proofs as text lines for the
 * independent Python verifier (tests/tools/rfc6962_verify.py):
 *   leaf INDEX DATA_HEX / root SIZE HASH / inclusion INDEX SIZE HASH... /
 *   consistency OLD NEW HASH...
 * Leaf I's data is the decimal text of I. Usage: mtree-proofs [LEAVES] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mtree.h"

static void print_hashes(uint8_t (*h)[MTREE_HASH_LEN], size_t n)
{
	for (size_t i = 0; i < n; i++) {
		putchar(' ');
		for (int j = 0; j < MTREE_HASH_LEN; j++)
			printf("%02x", h[i][j]);
	}
	putchar('\n');
}

int main(int argc, char **argv)
{
	uint64_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 1000, state = 88172645463325252ULL;
	uint8_t proof[MTREE_PROOF_MAX][MTREE_HASH_LEN], h[MTREE_HASH_LEN];
	struct mtree *t;
	size_t count;

	if (n == 0 || mtree_open(NULL, &t, NULL, 0) != 0)
		return 2;
	for (uint64_t i = 0; i < n; i++) {
		char data[24];
		int len = snprintf(data, sizeof(data), "%llu", (unsigned long long)i);

		printf("leaf %llu ", (unsigned long long)i);
		for (int j = 0; j < len; j++)
			printf("%02x", (unsigned char)data[j]);
		putchar('\n');
		mtree_leaf_hash(data, (size_t)len, h);
		if (mtree_append(t, h) != 0)
			return 2;
	}
	for (uint64_t size = 1; size <= n; size++) {
		int all = size <= 17;

		if (!all && size % 37 != 0 && size != n)
			continue;
		mtree_root(t, size, h);
		printf("root %llu", (unsigned long long)size);
		print_hashes(&h, 1);
		for (uint64_t k = 0; k < (all ? size : 5); k++) {
			uint64_t m;

			state ^= state << 13, state ^= state >> 7, state ^= state << 17;
			m = all ? k : state % size;
			if (mtree_inclusion_proof(t, m, size, proof, MTREE_PROOF_MAX, &count) != 0)
				return 2;
			printf("inclusion %llu %llu", (unsigned long long)m, (unsigned long long)size);
			print_hashes(proof, count);
			m = all ? k + 1 : 1 + state % size;
			if (mtree_consistency_proof(t, m, size, proof, MTREE_PROOF_MAX, &count) != 0)
				return 2;
			printf("consistency %llu %llu", (unsigned long long)m, (unsigned long long)size);
			print_hashes(proof, count);
		}
	}
	mtree_close(t);
	return 0;
}
