/* mtree-proofs.c -- prints an in-memory Merkle tree's leaves, roots and proofs as text for
 * the independent Python verifier (tests/tools/rfc6962_verify.py). Leaf I's data is the
 * decimal text of I. Lines:
 *   leaf INDEX DATA_HEX
 *   root SIZE HASH_HEX
 *   inclusion INDEX SIZE HASH_HEX...   (leaf-first, as RFC 9162 orders them)
 *   consistency OLD NEW HASH_HEX...
 * Every pair for sizes up to SMALL, then pseudo-random pairs (a fixed xorshift seed, so
 * the output is the same on every run) for sizes around the powers of two and others.
 * Usage: mtree-proofs [LEAVES] (default 1000). Exit 0, or 2 with a message on stderr. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mtree.h"

#define SMALL	    16	    /* sizes with every inclusion and consistency pair */
#define PER_SIZE    8	    /* random pairs of each larger size */
#define RANDOM_SIZE 40	    /* larger sizes chosen at random */
#define LEAVES_MAX  1000000 /* bounds the run time, not the tree */

static uint64_t rng = 0x2545f4914f6cdd1dULL;

static uint64_t next_random(uint64_t bound)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng % bound;
}

static void print_hashes(const uint8_t (*h)[MTREE_HASH_LEN], size_t n)
{
	for (size_t i = 0; i < n; i++) {
		putchar(' ');
		for (int j = 0; j < MTREE_HASH_LEN; j++)
			printf("%02x", h[i][j]);
	}
	putchar('\n');
}

static int fail(const char *what, int err)
{
	fprintf(stderr, "mtree-proofs: %s: %s\n", what, strerror(-err));
	return 2;
}

static int print_root(struct mtree *t, uint64_t size)
{
	uint8_t root[1][MTREE_HASH_LEN];
	int err = mtree_root(t, size, root[0]);

	if (err != 0)
		return fail("mtree_root", err);
	printf("root %" PRIu64, size);
	print_hashes((const uint8_t(*)[MTREE_HASH_LEN])root, 1);
	return 0;
}

static int print_inclusion(struct mtree *t, uint64_t index, uint64_t size)
{
	uint8_t proof[MTREE_PROOF_MAX][MTREE_HASH_LEN];
	size_t count;
	int err = mtree_inclusion_proof(t, index, size, proof, MTREE_PROOF_MAX, &count);

	if (err != 0)
		return fail("mtree_inclusion_proof", err);
	printf("inclusion %" PRIu64 " %" PRIu64, index, size);
	print_hashes((const uint8_t(*)[MTREE_HASH_LEN])proof, count);
	return 0;
}

static int print_consistency(struct mtree *t, uint64_t old_size, uint64_t size)
{
	uint8_t proof[MTREE_PROOF_MAX][MTREE_HASH_LEN];
	size_t count;
	int err = mtree_consistency_proof(t, old_size, size, proof, MTREE_PROOF_MAX, &count);

	if (err != 0)
		return fail("mtree_consistency_proof", err);
	printf("consistency %" PRIu64 " %" PRIu64, old_size, size);
	print_hashes((const uint8_t(*)[MTREE_HASH_LEN])proof, count);
	return 0;
}

/* Every pair of SIZE when it is small, else PER_SIZE random ones. */
static int print_size(struct mtree *t, uint64_t size)
{
	int rc = print_root(t, size);

	if (size <= SMALL) {
		for (uint64_t i = 0; rc == 0 && i < size; i++)
			rc = print_inclusion(t, i, size);
		for (uint64_t m = 0; rc == 0 && m <= size; m++)
			rc = print_consistency(t, m, size);
		return rc;
	}
	for (int j = 0; rc == 0 && j < PER_SIZE; j++) {
		rc = print_inclusion(t, next_random(size), size);
		if (rc == 0)
			rc = print_consistency(t, next_random(size + 1), size);
	}
	return rc;
}

int main(int argc, char **argv)
{
	uint64_t n = 1000;
	struct mtree *t = NULL;
	char why[256] = "";
	int err, rc = 0;

	if (argc > 2) {
		fprintf(stderr, "usage: mtree-proofs [LEAVES]\n");
		return 2;
	}
	if (argc == 2) {
		char *end;

		errno = 0;
		n = strtoull(argv[1], &end, 10);
		if (errno != 0 || end == argv[1] || *end != '\0' || n == 0 || n > LEAVES_MAX) {
			fprintf(stderr, "mtree-proofs: LEAVES must be 1..%d, not \"%s\"\n",
				LEAVES_MAX, argv[1]);
			return 2;
		}
	}
	err = mtree_open(NULL, &t, why, sizeof(why));
	if (err != 0) {
		fprintf(stderr, "mtree-proofs: mtree_open: %s\n",
			why[0] ? why : strerror(-err));
		return 2;
	}
	for (uint64_t i = 0; i < n; i++) {
		uint8_t leaf[MTREE_HASH_LEN];
		char data[24];
		int len = snprintf(data, sizeof(data), "%" PRIu64, i);

		printf("leaf %" PRIu64 " ", i);
		for (int j = 0; j < len; j++)
			printf("%02x", (unsigned char)data[j]);
		putchar('\n');
		mtree_leaf_hash(data, (size_t)len, leaf);
		err = mtree_append(t, leaf);
		if (err != 0) {
			rc = fail("mtree_append", err);
			goto out;
		}
	}
	rc = print_root(t, 0);
	for (uint64_t size = 1; rc == 0 && size <= n && size <= SMALL; size++)
		rc = print_size(t, size);
	/* around every power of two: where the tree's shape changes */
	for (uint64_t p = 2 * SMALL; rc == 0 && p / 2 < n; p *= 2) {
		for (uint64_t size = p - 1; rc == 0 && size <= p + 1 && size <= n; size++)
			rc = print_size(t, size);
	}
	for (int j = 0; rc == 0 && j < RANDOM_SIZE && n > SMALL; j++)
		rc = print_size(t, SMALL + 1 + next_random(n - SMALL));
	if (rc == 0 && n > SMALL)
		rc = print_size(t, n);
out:
	mtree_close(t);
	if (rc == 0 && (fflush(stdout) != 0 || ferror(stdout))) {
		fprintf(stderr, "mtree-proofs: writing stdout failed\n");
		rc = 2;
	}
	return rc;
}
