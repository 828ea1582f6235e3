/* test-mtree.c -- the RFC 6962 Merkle tree: the published test vectors (roots for the
 * eight standard leaves, inclusion and consistency proofs), every proof of small trees and
 * of random larger ones against a naive recursive reference, rejection of altered proofs,
 * and level files restored and repaired after a crash. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>
#include <openssl/sha.h>

#include "mtree.h"

/* RFC 6962's test leaves (certificate-transparency's reference test data). */
static const char *const leaves_hex[] = {
	"", "00", "10", "2021", "3031", "40414243", "5051525354555657",
	"606162636465666768696a6b6c6d6e6f",
};
static const char *const roots_hex[] = {
	"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
	"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
	"aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
	"d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
	"4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
	"76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
	"ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
	"5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
};

/* Published proofs for the same tree: {index or old size, size, hashes...}. */
struct vector {
	uint64_t a, size;
	const char *hashes[4];
};
static const struct vector inclusion_vectors[] = {
	{ 0, 8,
	  { "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
	    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
	    "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4" } },
	{ 0, 1, { NULL } },
};
static const struct vector consistency_vectors[] = {
	{ 1, 1, { NULL } },
	{ 6, 8,
	  { "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
	    "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
	    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7" } },
	{ 2, 5,
	  { "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
	    "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b" } },
};

static void unhex(const char *hex, uint8_t *out, size_t *len)
{
	size_t n = strlen(hex) / 2;

	for (size_t i = 0; i < n; i++) {
		unsigned v;

		g_assert_cmpint(sscanf(hex + 2 * i, "%2x", &v), ==, 1);
		out[i] = (uint8_t)v;
	}
	*len = n;
}

static struct mtree *standard_tree(void)
{
	struct mtree *t = NULL;

	g_assert_cmpint(mtree_open(NULL, &t, NULL, 0), ==, 0);
	for (size_t i = 0; i < G_N_ELEMENTS(leaves_hex); i++) {
		uint8_t data[64], leaf[MTREE_HASH_LEN];
		size_t len;

		unhex(leaves_hex[i], data, &len);
		mtree_leaf_hash(data, len, leaf);
		g_assert_cmpint(mtree_append(t, leaf), ==, 0);
	}
	return t;
}

static void test_known_roots(void)
{
	struct mtree *t = standard_tree();
	uint8_t root[MTREE_HASH_LEN], want[MTREE_HASH_LEN];
	size_t len;

	for (uint64_t n = 1; n <= 8; n++) {
		unhex(roots_hex[n - 1], want, &len);
		g_assert_cmpint(mtree_root(t, n, root), ==, 0);
		g_assert_cmpmem(root, MTREE_HASH_LEN, want, MTREE_HASH_LEN);
	}
	/* the empty tree's root is SHA-256 of nothing */
	SHA256((const uint8_t *)"", 0, want);
	g_assert_cmpint(mtree_root(t, 0, root), ==, 0);
	g_assert_cmpmem(root, MTREE_HASH_LEN, want, MTREE_HASH_LEN);
	g_assert_cmpint(mtree_root(t, 9, root), ==, -ERANGE);
	mtree_close(t);
}

static size_t vector_hashes(const struct vector *v, uint8_t (*out)[MTREE_HASH_LEN])
{
	size_t n = 0, len;

	while (n < 4 && v->hashes[n] != NULL) {
		unhex(v->hashes[n], out[n], &len);
		n++;
	}
	return n;
}

static void test_known_proofs(void)
{
	struct mtree *t = standard_tree();
	uint8_t want[4][MTREE_HASH_LEN], got[MTREE_PROOF_MAX][MTREE_HASH_LEN];
	uint8_t root[MTREE_HASH_LEN], old_root[MTREE_HASH_LEN], leaf[MTREE_HASH_LEN];
	size_t n, count;

	for (size_t i = 0; i < G_N_ELEMENTS(inclusion_vectors); i++) {
		const struct vector *v = &inclusion_vectors[i];

		n = vector_hashes(v, want);
		g_assert_cmpint(mtree_inclusion_proof(t, v->a, v->size, got, MTREE_PROOF_MAX,
						      &count),
				==, 0);
		g_assert_cmpuint(count, ==, n);
		g_assert_cmpmem(got, n * MTREE_HASH_LEN, want, n * MTREE_HASH_LEN);
		mtree_root(t, v->size, root);
		mtree_leaf(t, v->a, leaf);
		g_assert_true(mtree_verify_inclusion(v->a, v->size, leaf, want, n, root));
	}
	for (size_t i = 0; i < G_N_ELEMENTS(consistency_vectors); i++) {
		const struct vector *v = &consistency_vectors[i];

		n = vector_hashes(v, want);
		g_assert_cmpint(mtree_consistency_proof(t, v->a, v->size, got, MTREE_PROOF_MAX,
							&count),
				==, 0);
		g_assert_cmpuint(count, ==, n);
		g_assert_cmpmem(got, n * MTREE_HASH_LEN, want, n * MTREE_HASH_LEN);
		mtree_root(t, v->a, old_root);
		mtree_root(t, v->size, root);
		g_assert_true(mtree_verify_consistency(v->a, v->size, old_root, root, want, n));
	}
	mtree_close(t);
}

/* ---- a naive reference: RFC 6962's recursive definitions over the leaf hashes ---- */

static uint64_t ref_split(uint64_t n)
{
	uint64_t k = 1;

	while (k * 2 < n)
		k *= 2;
	return k;
}

static void ref_mth(uint8_t (*leaves)[MTREE_HASH_LEN], uint64_t n, uint8_t out[MTREE_HASH_LEN])
{
	uint8_t l[MTREE_HASH_LEN], r[MTREE_HASH_LEN];
	uint64_t k;

	if (n == 1) {
		memcpy(out, leaves[0], MTREE_HASH_LEN);
		return;
	}
	k = ref_split(n);
	ref_mth(leaves, k, l);
	ref_mth(leaves + k, n - k, r);
	mtree_node_hash(l, r, out);
}

static void ref_path(uint64_t m, uint8_t (*leaves)[MTREE_HASH_LEN], uint64_t n,
		     uint8_t (*out)[MTREE_HASH_LEN], size_t *count)
{
	uint64_t k;

	if (n <= 1)
		return;
	k = ref_split(n);
	if (m < k) {
		ref_path(m, leaves, k, out, count);
		ref_mth(leaves + k, n - k, out[(*count)++]);
	} else {
		ref_path(m - k, leaves + k, n - k, out, count);
		ref_mth(leaves, k, out[(*count)++]);
	}
}

static void ref_subproof(uint64_t m, uint8_t (*leaves)[MTREE_HASH_LEN], uint64_t n, int b,
			 uint8_t (*out)[MTREE_HASH_LEN], size_t *count)
{
	uint64_t k;

	if (m == n) {
		if (!b)
			ref_mth(leaves, n, out[(*count)++]);
		return;
	}
	k = ref_split(n);
	if (m <= k) {
		ref_subproof(m, leaves, k, b, out, count);
		ref_mth(leaves + k, n - k, out[(*count)++]);
	} else {
		ref_subproof(m - k, leaves + k, n - k, 0, out, count);
		ref_mth(leaves, k, out[(*count)++]);
	}
}

static void random_leaves(uint8_t (*leaves)[MTREE_HASH_LEN], uint64_t n, struct mtree *t)
{
	for (uint64_t i = 0; i < n; i++) {
		char data[32];

		snprintf(data, sizeof(data), "record %" G_GUINT64_FORMAT, i);
		mtree_leaf_hash(data, strlen(data), leaves[i]);
		if (t != NULL)
			g_assert_cmpint(mtree_append(t, leaves[i]), ==, 0);
	}
}

/* Every altered form of a valid proof must fail. */
static void check_inclusion_strict(uint64_t m, uint64_t n, const uint8_t leaf[MTREE_HASH_LEN],
				   uint8_t (*p)[MTREE_HASH_LEN], size_t count,
				   const uint8_t root[MTREE_HASH_LEN])
{
	g_assert_true(mtree_verify_inclusion(m, n, leaf, p, count, root));
	for (size_t i = 0; i < count; i++) {
		p[i][i % MTREE_HASH_LEN] ^= 0x10;
		g_assert_false(mtree_verify_inclusion(m, n, leaf, p, count, root));
		p[i][i % MTREE_HASH_LEN] ^= 0x10;
	}
	if (count > 0)
		g_assert_false(mtree_verify_inclusion(m, n, leaf, p, count - 1, root));
	/* the leaf claimed at another index (its sibling's, or its neighbour's) */
	if (n > 1)
		g_assert_false(mtree_verify_inclusion(m > 0 ? m - 1 : 1, n, leaf, p, count, root));
	g_assert_false(mtree_verify_inclusion(n, n, leaf, p, count, root));
}

static void test_against_reference(void)
{
	enum { MAX = 300 };
	uint8_t(*leaves)[MTREE_HASH_LEN] = g_malloc(3000 * MTREE_HASH_LEN);
	uint8_t got[MTREE_PROOF_MAX][MTREE_HASH_LEN], want[MTREE_PROOF_MAX][MTREE_HASH_LEN];
	uint8_t root[MTREE_HASH_LEN], ref[MTREE_HASH_LEN], old_root[MTREE_HASH_LEN];
	struct mtree *t = NULL;
	size_t count, wcount;

	g_assert_cmpint(mtree_open(NULL, &t, NULL, 0), ==, 0);
	random_leaves(leaves, 3000, t);
	/* every (index, size) and (old, new) pair of trees up to 64 leaves, then random pairs */
	for (uint64_t n = 1; n <= 3000; n += n < 64 ? 1 : (uint64_t)g_random_int_range(1, 97)) {
		mtree_root(t, n, root);
		ref_mth(leaves, n, ref);
		g_assert_cmpmem(root, MTREE_HASH_LEN, ref, MTREE_HASH_LEN);
		for (uint64_t j = 0; j < (n <= 64 ? n : 20); j++) {
			uint64_t m = n <= 64 ? j : (uint64_t)g_random_int_range(0, (gint32)n);

			wcount = 0;
			ref_path(m, leaves, n, want, &wcount);
			g_assert_cmpint(mtree_inclusion_proof(t, m, n, got, MTREE_PROOF_MAX, &count),
					==, 0);
			g_assert_cmpuint(count, ==, wcount);
			g_assert_cmpmem(got, count * MTREE_HASH_LEN, want, count * MTREE_HASH_LEN);
			check_inclusion_strict(m, n, leaves[m], got, count, root);

			m = n <= 64 ? j + 1 : (uint64_t)g_random_int_range(1, (gint32)n + 1);
			wcount = 0;
			if (m < n)
				ref_subproof(m, leaves, n, 1, want, &wcount);
			g_assert_cmpint(mtree_consistency_proof(t, m, n, got, MTREE_PROOF_MAX,
								&count),
					==, 0);
			g_assert_cmpuint(count, ==, wcount);
			g_assert_cmpmem(got, count * MTREE_HASH_LEN, want, count * MTREE_HASH_LEN);
			mtree_root(t, m, old_root);
			g_assert_true(mtree_verify_consistency(m, n, old_root, root, got, count));
			for (size_t i = 0; i < count; i++) {
				got[i][0] ^= 1;
				g_assert_false(
					mtree_verify_consistency(m, n, old_root, root, got, count));
				got[i][0] ^= 1;
			}
			if (m < n) {
				old_root[5] ^= 4;
				g_assert_false(
					mtree_verify_consistency(m, n, old_root, root, got, count));
			}
		}
	}
	g_assert_cmpint(mtree_inclusion_proof(t, 5, 5, got, MTREE_PROOF_MAX, &count), ==, -ERANGE);
	g_assert_cmpint(mtree_inclusion_proof(t, 0, 3001, got, MTREE_PROOF_MAX, &count), ==,
			-ERANGE);
	g_assert_cmpint(mtree_consistency_proof(t, 6, 5, got, MTREE_PROOF_MAX, &count), ==,
			-ERANGE);
	g_assert_cmpint(mtree_inclusion_proof(t, 0, 3000, got, 3, &count), ==, -ENOSPC);
	mtree_close(t);
	g_free(leaves);
}

/* ---- persistence ---- */

static char *level_path(const char *dir, int k)
{
	return g_strdup_printf("%s/level-%02d", dir, k);
}

static void append_bytes(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT, 0644);

	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpint(write(fd, data, len), ==, (ssize_t)len);
	close(fd);
}

static void cut_bytes(const char *path, off_t drop)
{
	GStatBuf st;

	g_assert_cmpint(g_stat(path, &st), ==, 0);
	g_assert_cmpint(truncate(path, st.st_size - drop), ==, 0);
}

static void test_persistence(void)
{
	char *dir = g_dir_make_tmp("test-mtree-XXXXXX", NULL), *p;
	uint8_t(*leaves)[MTREE_HASH_LEN] = g_malloc(1000 * MTREE_HASH_LEN);
	uint8_t roots[1001][MTREE_HASH_LEN], root[MTREE_HASH_LEN];
	struct mtree *t = NULL;
	char why[256];

	g_assert_nonnull(dir);
	g_assert_cmpint(mtree_open(dir, &t, why, sizeof(why)), ==, 0);
	random_leaves(leaves, 1000, t);
	for (uint64_t n = 0; n <= 1000; n++)
		mtree_root(t, n, roots[n]);
	mtree_close(t);

	/* reopened: the same tree, no rehash of the log needed */
	g_assert_cmpint(mtree_open(dir, &t, why, sizeof(why)), ==, 0);
	g_assert_cmpuint(mtree_size(t), ==, 1000);
	for (uint64_t n = 0; n <= 1000; n += 7) {
		mtree_root(t, n, root);
		g_assert_cmpmem(root, MTREE_HASH_LEN, roots[n], MTREE_HASH_LEN);
	}
	mtree_close(t);

	/* a crash's leftovers: a torn leaf entry, a missing level-1 hash, an extra level-2 */
	p = level_path(dir, 0);
	append_bytes(p, "garbage", 7);
	g_free(p);
	p = level_path(dir, 1);
	cut_bytes(p, MTREE_HASH_LEN);
	g_free(p);
	p = level_path(dir, 2);
	append_bytes(p, leaves[0], MTREE_HASH_LEN);
	g_free(p);
	g_assert_cmpint(mtree_open(dir, &t, why, sizeof(why)), ==, 0);
	g_assert_cmpuint(mtree_size(t), ==, 1000);
	for (uint64_t n = 0; n <= 1000; n++) {
		mtree_root(t, n, root);
		g_assert_cmpmem(root, MTREE_HASH_LEN, roots[n], MTREE_HASH_LEN);
	}
	/* truncation (the log lost its tail) persists, and appending goes on from there */
	g_assert_cmpint(mtree_truncate(t, 613), ==, 0);
	g_assert_cmpint(mtree_truncate(t, 700), ==, -EINVAL);
	mtree_close(t);
	g_assert_cmpint(mtree_open(dir, &t, why, sizeof(why)), ==, 0);
	g_assert_cmpuint(mtree_size(t), ==, 613);
	for (uint64_t i = 613; i < 1000; i++)
		g_assert_cmpint(mtree_append(t, leaves[i]), ==, 0);
	mtree_root(t, 1000, root);
	g_assert_cmpmem(root, MTREE_HASH_LEN, roots[1000], MTREE_HASH_LEN);
	mtree_close(t);

	for (int k = 0; k < 64; k++) {
		p = level_path(dir, k);
		g_unlink(p);
		g_free(p);
	}
	g_rmdir(dir);
	g_free(dir);
	g_free(leaves);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/mtree/known-roots", test_known_roots);
	g_test_add_func("/mtree/known-proofs", test_known_proofs);
	g_test_add_func("/mtree/against-reference", test_against_reference);
	g_test_add_func("/mtree/persistence", test_persistence);
	return g_test_run();
}
