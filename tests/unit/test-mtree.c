/* test-mtree.c -- the Merkle tree (audit/mtree): RFC 6962's published test vectors, every
 * proof of small trees and its tampered forms, random larger trees against a naive
 * recursive reference, level files restored, repaired and truncated on disk, and the
 * state folder's trust rule (audit/statedir: links, owners, modes). */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>
#include <openssl/evp.h>

#include "hex.h"
#include "mtree.h"
#include "statedir.h"

#define H MTREE_HASH_LEN

typedef uint8_t hash_t[H];

/* ---- RFC 6962 test data (certificate-transparency's reference tests, as kept in
 * transparency-dev/merkle proof/verify_test.go) ---- */

static const char *const std_leaves[] = {
	"",
	"00",
	"10",
	"2021",
	"3031",
	"40414243",
	"5051525354555657",
	"606162636465666768696a6b6c6d6e6f",
};

static const char *const std_roots[] = {
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", /* empty */
	"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
	"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
	"aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
	"d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
	"4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
	"76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
	"ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
	"5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
};

/* The published vectors number leaves from 1; here indexes are 0-based. */
struct vector {
	uint64_t a; /* leaf index, or old size */
	uint64_t size;
	const char *proof[3];
};

static const struct vector std_inclusion[] = {
	{ 0, 1, { NULL } },
	{ 0,
	  8,
	  { "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
	    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
	    "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4" } },
	{ 5,
	  8,
	  { "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
	    "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
	    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7" } },
	{ 2, 3, { "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125" } },
	{ 1,
	  5,
	  { "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
	    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
	    "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b" } },
};

static const struct vector std_consistency[] = {
	{ 1, 1, { NULL } },
	{ 1,
	  8,
	  { "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
	    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
	    "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4" } },
	{ 6,
	  8,
	  { "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
	    "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
	    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7" } },
	{ 2,
	  5,
	  { "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
	    "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b" } },
	{ 6,
	  7,
	  { "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
	    "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
	    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7" } },
};

/* ---- helpers ---- */

static size_t unhex(const char *hex, uint8_t *out, size_t cap)
{
	size_t n = strlen(hex) / 2;

	g_assert_cmpuint(strlen(hex) % 2, ==, 0);
	g_assert_cmpuint(n, <=, cap);
	g_assert_cmpint(hex_decode(hex, strlen(hex), out, n), ==, 0);
	return n;
}

static void unhex32(const char *hex, uint8_t out[H])
{
	g_assert_cmpuint(unhex(hex, out, H), ==, H);
}

static size_t vector_proof(const struct vector *v, hash_t *out)
{
	size_t n = 0;

	while (n < G_N_ELEMENTS(v->proof) && v->proof[n] != NULL) {
		unhex32(v->proof[n], out[n]);
		n++;
	}
	return n;
}

static void sha256(const void *data, size_t len, uint8_t out[H])
{
	g_assert_cmpint(EVP_Digest(data, len, out, NULL, EVP_sha256(), NULL), ==, 1);
}

static int verify_inclusion(uint64_t i, uint64_t n, const uint8_t leaf[H], hash_t *p, size_t c,
			    const uint8_t root[H])
{
	return mtree_verify_inclusion(i, n, leaf, (const hash_t *)p, c, root);
}

static int verify_consistency(uint64_t m, uint64_t n, const uint8_t r1[H], const uint8_t r2[H],
			      hash_t *p, size_t c)
{
	return mtree_verify_consistency(m, n, r1, r2, (const hash_t *)p, c);
}

/* The tree of the eight standard leaves; their leaf hashes to LEAVES if not NULL. */
static struct mtree *std_tree(hash_t *leaves)
{
	struct mtree *t = NULL;
	char why[256];

	g_assert_cmpint(mtree_open(NULL, &t, why, sizeof(why)), ==, 0);
	for (size_t i = 0; i < G_N_ELEMENTS(std_leaves); i++) {
		uint8_t data[16], leaf[H];
		size_t len = unhex(std_leaves[i], data, sizeof(data));

		mtree_leaf_hash(data, len, leaf);
		g_assert_cmpint(mtree_append(t, leaf), ==, 0);
		if (leaves != NULL)
			memcpy(leaves[i], leaf, H);
	}
	g_assert_cmpuint(mtree_size(t), ==, 8);
	return t;
}

/* ---- a naive reference: RFC 6962's recursive definitions, straight from the text ---- */

static uint64_t ref_split(uint64_t n)
{
	uint64_t k = 1;

	while (k * 2 < n)
		k *= 2;
	return k;
}

static void ref_mth(hash_t *d, uint64_t n, uint8_t out[H])
{
	uint8_t l[H], r[H];
	uint64_t k;

	if (n == 0) {
		sha256("", 0, out);
		return;
	}
	if (n == 1) {
		memcpy(out, d[0], H);
		return;
	}
	k = ref_split(n);
	ref_mth(d, k, l);
	ref_mth(d + k, n - k, r);
	mtree_node_hash(l, r, out);
}

static void ref_path(uint64_t m, hash_t *d, uint64_t n, hash_t *out, size_t *count)
{
	uint64_t k;

	if (n <= 1)
		return;
	k = ref_split(n);
	if (m < k) {
		ref_path(m, d, k, out, count);
		ref_mth(d + k, n - k, out[(*count)++]);
	} else {
		ref_path(m - k, d + k, n - k, out, count);
		ref_mth(d, k, out[(*count)++]);
	}
}

static void ref_subproof(uint64_t m, hash_t *d, uint64_t n, int b, hash_t *out, size_t *count)
{
	uint64_t k;

	if (m == n) {
		if (!b)
			ref_mth(d, n, out[(*count)++]);
		return;
	}
	k = ref_split(n);
	if (m <= k) {
		ref_subproof(m, d, k, b, out, count);
		ref_mth(d + k, n - k, out[(*count)++]);
	} else {
		ref_subproof(m - k, d + k, n - k, 0, out, count);
		ref_mth(d, k, out[(*count)++]);
	}
}

static size_t ref_consistency(uint64_t m, hash_t *d, uint64_t n, hash_t *out)
{
	size_t count = 0;

	if (m > 0 && m < n)
		ref_subproof(m, d, n, 1, out, &count);
	return count;
}

static void check_inclusion_matches_reference(struct mtree *t, hash_t *d, uint64_t i,
					      uint64_t n)
{
	hash_t got[MTREE_PROOF_MAX], want[MTREE_PROOF_MAX];
	size_t count, wcount = 0;

	ref_path(i, d, n, want, &wcount);
	g_assert_cmpint(mtree_inclusion_proof(t, i, n, got, MTREE_PROOF_MAX, &count), ==, 0);
	g_assert_cmpuint(count, ==, wcount);
	g_assert_cmpmem(got, count * H, want, wcount * H);
}

static void check_consistency_matches_reference(struct mtree *t, hash_t *d, uint64_t m,
						uint64_t n)
{
	hash_t got[MTREE_PROOF_MAX], want[MTREE_PROOF_MAX];
	size_t count, wcount = ref_consistency(m, d, n, want);

	g_assert_cmpint(mtree_consistency_proof(t, m, n, got, MTREE_PROOF_MAX, &count), ==, 0);
	g_assert_cmpuint(count, ==, wcount);
	g_assert_cmpmem(got, count * H, want, wcount * H);
}

/* ---- hashing and the published vectors ---- */

static void test_hash_prefixes(void)
{
	uint8_t data[65], want[H], got[H], l[H], r[H];

	/* leaf = SHA-256(0x00 || data) */
	data[0] = 0x00;
	memcpy(data + 1, "quorum", 6);
	sha256(data, 7, want);
	mtree_leaf_hash("quorum", 6, got);
	g_assert_cmpmem(got, H, want, H);
	/* ... also for a record longer than any stack buffer */
	{
		size_t big = 100000;
		uint8_t *buf = g_malloc(big + 1);

		buf[0] = 0x00;
		for (size_t i = 0; i < big; i++)
			buf[i + 1] = (uint8_t)(i * 7);
		sha256(buf, big + 1, want);
		mtree_leaf_hash(buf + 1, big, got);
		g_assert_cmpmem(got, H, want, H);
		g_free(buf);
	}
	/* node = SHA-256(0x01 || left || right), and order matters */
	mtree_leaf_hash("a", 1, l);
	mtree_leaf_hash("b", 1, r);
	data[0] = 0x01;
	memcpy(data + 1, l, H);
	memcpy(data + 1 + H, r, H);
	sha256(data, sizeof(data), want);
	mtree_node_hash(l, r, got);
	g_assert_cmpmem(got, H, want, H);
	mtree_node_hash(r, l, got);
	g_assert_true(memcmp(got, want, H) != 0);
	/* the one-leaf tree's root is its leaf hash: RFC 6962's first published root */
	unhex32(std_roots[1], want);
	mtree_leaf_hash("", 0, got);
	g_assert_cmpmem(got, H, want, H);
}

static void test_std_roots(void)
{
	struct mtree *t = std_tree(NULL);
	uint8_t root[H], want[H];

	for (uint64_t n = 0; n <= 8; n++) {
		unhex32(std_roots[n], want);
		g_assert_cmpint(mtree_root(t, n, root), ==, 0);
		g_assert_cmpmem(root, H, want, H);
	}
	g_assert_cmpint(mtree_root(t, 9, root), ==, -ERANGE);
	mtree_close(t);
}

static void test_std_inclusion(void)
{
	hash_t leaves[8], want[3], got[MTREE_PROOF_MAX], bad[MTREE_PROOF_MAX + 2];
	uint8_t root[H], some[H], empty[H];
	struct mtree *t = std_tree(leaves);
	size_t count;

	unhex32("abacaba000000000000000000000000000000000000000000060061e00123456", some);
	unhex32(std_roots[0], empty);
	for (size_t v = 0; v < G_N_ELEMENTS(std_inclusion); v++) {
		const struct vector *vec = &std_inclusion[v];
		uint64_t i = vec->a, n = vec->size;
		size_t len = vector_proof(vec, want);

		g_assert_cmpint(mtree_inclusion_proof(t, i, n, got, MTREE_PROOF_MAX, &count),
				==, 0);
		g_assert_cmpuint(count, ==, len);
		g_assert_cmpmem(got, count * H, want, len * H);
		unhex32(std_roots[n], root);
		g_assert_true(verify_inclusion(i, n, leaves[i], want, len, root));

		/* transparency-dev's corruptions of each published proof, all rejected */
		g_assert_false(verify_inclusion(i - 1, n, leaves[i], want, len, root));
		g_assert_false(verify_inclusion(i + 1, n, leaves[i], want, len, root));
		g_assert_false(verify_inclusion(i ^ 2, n, leaves[i], want, len, root));
		g_assert_false(verify_inclusion(i, n * 2, leaves[i], want, len, root));
		g_assert_false(verify_inclusion(i, n / 2, leaves[i], want, len, root));
		g_assert_false(verify_inclusion(i, n, some, want, len, root));
		g_assert_false(verify_inclusion(i, n, leaves[i], want, len, empty));
		g_assert_false(verify_inclusion(i, n, leaves[i], want, len, some));
		memcpy(bad, want, len * H);
		memcpy(bad[len], root, H);
		g_assert_false(verify_inclusion(i, n, leaves[i], bad, len + 1, root));
		memcpy(bad[0], root, H);
		memcpy(bad[1], want, len * H);
		g_assert_false(verify_inclusion(i, n, leaves[i], bad, len + 1, root));
		for (size_t k = 0; k < len; k++) {
			memcpy(bad, want, len * H);
			bad[k][0] ^= 8;
			g_assert_false(verify_inclusion(i, n, leaves[i], bad, len, root));
		}
		if (len > 0)
			g_assert_false(verify_inclusion(i, n, leaves[i], want, len - 1, root));
		if (len > 1) {
			memcpy(bad[0], want[0], H);
			memcpy(bad[1], some, H);
			memcpy(bad[2], want[1], (len - 1) * H);
			g_assert_false(verify_inclusion(i, n, leaves[i], bad, len + 1, root));
		}
	}
	mtree_close(t);
}

static void test_std_consistency(void)
{
	hash_t want[3], got[MTREE_PROOF_MAX], bad[MTREE_PROOF_MAX + 2];
	uint8_t r1[H], r2[H], wrong[H];
	struct mtree *t = std_tree(NULL);
	size_t count;

	memset(wrong, 0x5a, H);
	for (size_t v = 0; v < G_N_ELEMENTS(std_consistency); v++) {
		const struct vector *vec = &std_consistency[v];
		uint64_t m = vec->a, n = vec->size;
		size_t len = vector_proof(vec, want);

		g_assert_cmpint(mtree_consistency_proof(t, m, n, got, MTREE_PROOF_MAX, &count),
				==, 0);
		g_assert_cmpuint(count, ==, len);
		g_assert_cmpmem(got, count * H, want, len * H);
		unhex32(std_roots[m], r1);
		unhex32(std_roots[n], r2);
		g_assert_true(verify_consistency(m, n, r1, r2, want, len));
		if (len == 0)
			continue;

		/* transparency-dev's corruptions of each published proof, all rejected */
		g_assert_false(verify_consistency(m - 1, n, r1, r2, want, len));
		g_assert_false(verify_consistency(m + 1, n, r1, r2, want, len));
		g_assert_false(verify_consistency(m ^ 2, n, r1, r2, want, len));
		g_assert_false(verify_consistency(m, n * 2, r1, r2, want, len));
		g_assert_false(verify_consistency(m, n / 2, r1, r2, want, len));
		g_assert_false(verify_consistency(m, n, wrong, r2, want, len));
		g_assert_false(verify_consistency(m, n, r1, wrong, want, len));
		g_assert_false(verify_consistency(m, n, r2, r1, want, len));
		g_assert_false(verify_consistency(m, n, r1, r2, want, 0));
		const uint8_t *extra[] = { wrong, r1, r2, want[0] };
		for (size_t e = 0; e < G_N_ELEMENTS(extra); e++) {
			memcpy(bad, want, len * H);
			memcpy(bad[len], extra[e], H);
			g_assert_false(verify_consistency(m, n, r1, r2, bad, len + 1));
			memcpy(bad[0], extra[e], H);
			memcpy(bad[1], want, len * H);
			g_assert_false(verify_consistency(m, n, r1, r2, bad, len + 1));
		}
		g_assert_false(verify_consistency(m, n, r1, r2, want, len - 1));
		for (size_t k = 0; k < len; k++) {
			memcpy(bad, want, len * H);
			bad[k][0] ^= 16;
			g_assert_false(verify_consistency(m, n, r1, r2, bad, len));
		}
	}
	mtree_close(t);
}

/* RFC 9162's edge cases: sizes alone decide some answers, whatever the proof. */
static void test_verify_edges(void)
{
	uint8_t empty[H], a[H], b[H], leaf[H];
	hash_t none[1], one[1];

	unhex32(std_roots[0], empty);
	memset(a, 0xaa, H);
	memset(b, 0xbb, H);
	memcpy(one[0], empty, H);
	mtree_leaf_hash("data", 4, leaf);

	/* inclusion: no leaf in an empty tree, none beyond the size */
	g_assert_false(verify_inclusion(0, 0, a, none, 0, empty));
	g_assert_false(verify_inclusion(1, 0, a, none, 0, empty));
	g_assert_false(verify_inclusion(1, 1, a, none, 0, a));
	g_assert_false(verify_inclusion(2, 1, a, none, 0, a));
	g_assert_false(verify_inclusion(UINT64_MAX, UINT64_MAX, a, none, 0, a));
	/* a one-leaf tree's root is the leaf, with an empty proof */
	g_assert_true(verify_inclusion(0, 1, leaf, none, 0, leaf));
	g_assert_false(verify_inclusion(0, 1, leaf, none, 0, a));
	g_assert_false(verify_inclusion(0, 1, leaf, one, 1, leaf));

	/* consistency */
	g_assert_true(verify_consistency(0, 0, empty, empty, none, 0));
	g_assert_true(verify_consistency(1, 1, a, a, none, 0));
	g_assert_false(verify_consistency(1, 1, a, b, none, 0));
	g_assert_false(verify_consistency(1, 1, a, a, one, 1));
	g_assert_false(verify_consistency(0, 0, empty, empty, one, 1));
	g_assert_true(verify_consistency(0, 5, empty, b, none, 0));
	g_assert_false(verify_consistency(0, 5, a, b, none, 0));
	g_assert_false(verify_consistency(0, 5, empty, b, one, 1));
	g_assert_false(verify_consistency(1, 0, a, b, none, 0));
	g_assert_false(verify_consistency(2, 1, a, b, none, 0));
	g_assert_false(verify_consistency(1, 2, a, b, none, 0));
	g_assert_false(verify_consistency(3, UINT64_MAX, a, b, one, 1));
}

/* ---- every proof of the small trees, and its tampered forms ---- */

/* 1 when both proofs are the same hashes. */
static int same_proof(hash_t *a, size_t na, hash_t *b, size_t nb)
{
	return na == nb && memcmp(a, b, na * H) == 0;
}

static void test_small_inclusion(void)
{
	hash_t leaves[8], p[MTREE_PROOF_MAX], q[MTREE_PROOF_MAX], bad[MTREE_PROOF_MAX + 1];
	uint8_t roots[9][H];
	struct mtree *t = std_tree(leaves);
	size_t c, qc;

	for (uint64_t n = 0; n <= 8; n++)
		g_assert_cmpint(mtree_root(t, n, roots[n]), ==, 0);
	for (uint64_t n = 1; n <= 8; n++) {
		for (uint64_t i = 0; i < n; i++) {
			check_inclusion_matches_reference(t, leaves, i, n);
			g_assert_cmpint(mtree_inclusion_proof(t, i, n, p, MTREE_PROOF_MAX, &c),
					==, 0);
			g_assert_true(verify_inclusion(i, n, leaves[i], p, c, roots[n]));

			/* every bit of every hash matters */
			for (size_t k = 0; k < c; k++) {
				for (int bit = 0; bit < H * 8; bit++) {
					memcpy(bad, p, c * H);
					bad[k][bit / 8] ^= (uint8_t)(1u << (bit % 8));
					g_assert_false(verify_inclusion(i, n, leaves[i], bad, c,
									roots[n]));
				}
			}
			/* truncated, at either end; extended, at either end */
			if (c > 0) {
				g_assert_false(
					verify_inclusion(i, n, leaves[i], p, c - 1, roots[n]));
				g_assert_false(verify_inclusion(i, n, leaves[i], p + 1, c - 1,
								roots[n]));
			}
			memcpy(bad, p, c * H);
			memcpy(bad[c], roots[n], H);
			g_assert_false(verify_inclusion(i, n, leaves[i], bad, c + 1, roots[n]));
			memcpy(bad[0], leaves[i], H);
			memcpy(bad[1], p, c * H);
			g_assert_false(verify_inclusion(i, n, leaves[i], bad, c + 1, roots[n]));
			/* another index, another leaf, another root */
			for (uint64_t j = 0; j <= n; j++) {
				if (j != i)
					g_assert_false(verify_inclusion(j, n, leaves[i], p, c,
									roots[n]));
			}
			g_assert_false(
				verify_inclusion(UINT64_MAX, n, leaves[i], p, c, roots[n]));
			for (uint64_t j = 0; j < 8; j++) {
				if (j != i)
					g_assert_false(verify_inclusion(i, n, leaves[j], p, c,
									roots[n]));
			}
			for (uint64_t s = 0; s <= 8; s++) {
				if (s != n)
					g_assert_false(verify_inclusion(i, n, leaves[i], p, c,
									roots[s]));
			}
			/* another size with that size's true root: accepted only where both
			 * sizes give this leaf the very same proof */
			for (uint64_t s = i + 1; s <= 8; s++) {
				if (s == n)
					continue;
				g_assert_cmpint(
					mtree_inclusion_proof(t, i, s, q, MTREE_PROOF_MAX, &qc),
					==, 0);
				g_assert_cmpint(
					verify_inclusion(i, s, leaves[i], p, c, roots[s]), ==,
					same_proof(p, c, q, qc));
			}
			g_assert_false(verify_inclusion(i, n * 2, leaves[i], p, c, roots[n]));
		}
	}
	mtree_close(t);
}

static void test_small_consistency(void)
{
	hash_t leaves[8], p[MTREE_PROOF_MAX], q[MTREE_PROOF_MAX], bad[MTREE_PROOF_MAX + 1];
	uint8_t roots[9][H];
	struct mtree *t = std_tree(leaves);
	size_t c, qc;

	for (uint64_t n = 0; n <= 8; n++)
		g_assert_cmpint(mtree_root(t, n, roots[n]), ==, 0);
	for (uint64_t n = 0; n <= 8; n++) {
		for (uint64_t m = 0; m <= n; m++) {
			check_consistency_matches_reference(t, leaves, m, n);
			g_assert_cmpint(
				mtree_consistency_proof(t, m, n, p, MTREE_PROOF_MAX, &c), ==,
				0);
			g_assert_true(verify_consistency(m, n, roots[m], roots[n], p, c));
			if (m == 0 || m == n) {
				g_assert_cmpuint(c, ==, 0);
				continue;
			}
			g_assert_cmpuint(c, >, 0);
			for (size_t k = 0; k < c; k++) {
				for (int bit = 0; bit < H * 8; bit++) {
					memcpy(bad, p, c * H);
					bad[k][bit / 8] ^= (uint8_t)(1u << (bit % 8));
					g_assert_false(verify_consistency(m, n, roots[m],
									  roots[n], bad, c));
				}
			}
			g_assert_false(verify_consistency(m, n, roots[m], roots[n], p, 0));
			g_assert_false(verify_consistency(m, n, roots[m], roots[n], p, c - 1));
			g_assert_false(
				verify_consistency(m, n, roots[m], roots[n], p + 1, c - 1));
			memcpy(bad, p, c * H);
			memcpy(bad[c], roots[n], H);
			g_assert_false(
				verify_consistency(m, n, roots[m], roots[n], bad, c + 1));
			memcpy(bad[0], roots[m], H);
			memcpy(bad[1], p, c * H);
			g_assert_false(
				verify_consistency(m, n, roots[m], roots[n], bad, c + 1));
			g_assert_false(verify_consistency(m, n, roots[n], roots[m], p, c));
			g_assert_false(verify_consistency(n, m, roots[m], roots[n], p, c));
			/* other roots */
			for (uint64_t s = 0; s <= 8; s++) {
				if (s != m)
					g_assert_false(verify_consistency(m, n, roots[s],
									  roots[n], p, c));
				if (s != n)
					g_assert_false(verify_consistency(m, n, roots[m],
									  roots[s], p, c));
			}
			/* other sizes with their true roots: accepted only where the
			 * proof is the very same */
			for (uint64_t s = 1; s < n; s++) {
				if (s == m)
					continue;
				g_assert_cmpint(mtree_consistency_proof(t, s, n, q,
									MTREE_PROOF_MAX, &qc),
						==, 0);
				g_assert_cmpint(
					verify_consistency(s, n, roots[s], roots[n], p, c), ==,
					same_proof(p, c, q, qc));
			}
			for (uint64_t s = m + 1; s <= 8; s++) {
				if (s == n)
					continue;
				g_assert_cmpint(mtree_consistency_proof(t, m, s, q,
									MTREE_PROOF_MAX, &qc),
						==, 0);
				g_assert_cmpint(
					verify_consistency(m, s, roots[m], roots[s], p, c), ==,
					same_proof(p, c, q, qc));
			}
		}
	}
	mtree_close(t);
}

static void test_proof_errors(void)
{
	hash_t leaves[8], p[MTREE_PROOF_MAX];
	struct mtree *t = NULL;
	uint8_t root[H], want[H];
	size_t c = 99;

	/* the empty tree */
	g_assert_cmpint(mtree_open(NULL, &t, NULL, 0), ==, 0);
	g_assert_cmpuint(mtree_size(t), ==, 0);
	g_assert_cmpint(mtree_root(t, 0, root), ==, 0);
	unhex32(std_roots[0], want);
	g_assert_cmpmem(root, H, want, H);
	g_assert_cmpint(mtree_root(t, 1, root), ==, -ERANGE);
	g_assert_cmpint(mtree_leaf(t, 0, root), ==, -ERANGE);
	g_assert_cmpint(mtree_inclusion_proof(t, 0, 0, p, MTREE_PROOF_MAX, &c), ==, -ERANGE);
	g_assert_cmpuint(c, ==, 0);
	c = 99;
	g_assert_cmpint(mtree_consistency_proof(t, 0, 0, p, MTREE_PROOF_MAX, &c), ==, 0);
	g_assert_cmpuint(c, ==, 0);
	g_assert_cmpint(mtree_truncate(t, 1), ==, -EINVAL);
	mtree_close(t);
	mtree_close(NULL);

	t = std_tree(leaves);
	g_assert_cmpint(mtree_leaf(t, 7, root), ==, 0);
	g_assert_cmpmem(root, H, leaves[7], H);
	g_assert_cmpint(mtree_leaf(t, 8, root), ==, -ERANGE);
	g_assert_cmpint(mtree_inclusion_proof(t, 8, 8, p, MTREE_PROOF_MAX, &c), ==, -ERANGE);
	g_assert_cmpint(mtree_inclusion_proof(t, 0, 9, p, MTREE_PROOF_MAX, &c), ==, -ERANGE);
	g_assert_cmpint(mtree_consistency_proof(t, 5, 4, p, MTREE_PROOF_MAX, &c), ==, -ERANGE);
	g_assert_cmpint(mtree_consistency_proof(t, 1, 9, p, MTREE_PROOF_MAX, &c), ==, -ERANGE);
	/* too small an output: nothing written, *COUNT says how many are needed */
	memset(p, 0xee, sizeof(p));
	g_assert_cmpint(mtree_inclusion_proof(t, 0, 8, p, 2, &c), ==, -ENOSPC);
	g_assert_cmpuint(c, ==, 3);
	g_assert_cmpint(p[0][0], ==, 0xee);
	g_assert_cmpint(mtree_consistency_proof(t, 6, 7, p, 2, &c), ==, -ENOSPC);
	g_assert_cmpuint(c, ==, 3);
	g_assert_cmpint(mtree_inclusion_proof(t, 0, 8, p, 3, &c), ==, 0);
	g_assert_cmpuint(c, ==, 3);
	g_assert_cmpint(mtree_inclusion_proof(t, 0, 1, NULL, 0, &c), ==, 0);
	g_assert_cmpuint(c, ==, 0);
	mtree_close(t);
}

/* ---- random larger trees against the reference ---- */

static void random_leaf(hash_t *leaves, uint64_t i)
{
	uint8_t data[40];
	size_t len = (size_t)g_test_rand_int_range(0, sizeof(data) + 1);

	for (size_t k = 0; k < len; k++)
		data[k] = (uint8_t)g_test_rand_int_range(0, 256);
	mtree_leaf_hash(data, len, leaves[i]);
}

static void test_random_trees(void)
{
	enum { MAX = 3000 };
	hash_t *leaves = g_malloc(MAX * sizeof(hash_t)), p[MTREE_PROOF_MAX];
	uint8_t(*roots)[H] = g_malloc((MAX + 1) * H);
	uint64_t sizes[128];
	struct mtree *t = NULL;
	size_t nsizes = 0, c;
	uint8_t ref[H];

	g_assert_cmpint(mtree_open(NULL, &t, NULL, 0), ==, 0);
	for (uint64_t i = 0; i < MAX; i++) {
		random_leaf(leaves, i);
		g_assert_cmpint(mtree_append(t, leaves[i]), ==, 0);
	}
	/* every root is the reference's */
	for (uint64_t n = 0; n <= MAX; n++) {
		g_assert_cmpint(mtree_root(t, n, roots[n]), ==, 0);
		if (n <= 100 || n % 97 == 0 || n == MAX) {
			ref_mth(leaves, n, ref);
			g_assert_cmpmem(roots[n], H, ref, H);
		}
	}
	/* ... and for random sizes, and around the powers of two */
	for (uint64_t k = 1; k < MAX; k *= 2) {
		sizes[nsizes++] = k;
		sizes[nsizes++] = k + 1;
		if (k > 2)
			sizes[nsizes++] = k - 1;
	}
	sizes[nsizes++] = MAX;
	while (nsizes < 60)
		sizes[nsizes++] = (uint64_t)g_test_rand_int_range(1, MAX + 1);
	for (size_t s = 0; s < nsizes; s++) {
		uint64_t n = sizes[s];

		ref_mth(leaves, n, ref);
		g_assert_cmpmem(roots[n], H, ref, H);
		/* every inclusion proof and every consistency proof of this size verifies */
		for (uint64_t i = 0; i < n; i++) {
			g_assert_cmpint(mtree_inclusion_proof(t, i, n, p, MTREE_PROOF_MAX, &c),
					==, 0);
			g_assert_true(verify_inclusion(i, n, leaves[i], p, c, roots[n]));
		}
		for (uint64_t m = 0; m <= n; m++) {
			g_assert_cmpint(
				mtree_consistency_proof(t, m, n, p, MTREE_PROOF_MAX, &c), ==,
				0);
			g_assert_true(verify_consistency(m, n, roots[m], roots[n], p, c));
		}
		/* and some are exactly the reference's hashes; one altered hash fails */
		for (int j = 0; j < 12; j++) {
			uint64_t i = (uint64_t)g_test_rand_int_range(0, (gint32)n);
			uint64_t m = (uint64_t)g_test_rand_int_range(1, (gint32)n + 1);

			check_inclusion_matches_reference(t, leaves, i, n);
			check_consistency_matches_reference(t, leaves, m, n);
			g_assert_cmpint(mtree_inclusion_proof(t, i, n, p, MTREE_PROOF_MAX, &c),
					==, 0);
			if (c > 0) {
				p[c - 1][j % H] ^= 0x40;
				g_assert_false(
					verify_inclusion(i, n, leaves[i], p, c, roots[n]));
			}
			g_assert_cmpint(
				mtree_consistency_proof(t, m, n, p, MTREE_PROOF_MAX, &c), ==,
				0);
			if (c > 0) {
				p[0][j % H] ^= 0x02;
				g_assert_false(
					verify_consistency(m, n, roots[m], roots[n], p, c));
			}
		}
	}
	mtree_close(t);
	g_free(roots);
	g_free(leaves);
}

/* ---- level files ---- */

/* A tree started from the compact range of its first B leaves answers, for everything from
 * B on, exactly as the whole tree does, and refuses what would need a leaf before B. */
static void test_compact_range(void)
{
	enum { MAX = 70 };
	hash_t leaves[MAX], p[MTREE_PROOF_MAX], q[MTREE_PROOF_MAX];
	struct mtree *full = NULL;
	uint8_t a[H], b[H];
	size_t np, nq;

	for (uint64_t i = 0; i < MAX; i++)
		random_leaf(leaves, i);
	g_assert_cmpint(mtree_open(NULL, &full, NULL, 0), ==, 0);
	for (uint64_t i = 0; i < MAX; i++)
		g_assert_cmpint(mtree_append(full, leaves[i]), ==, 0);
	for (uint64_t base = 0; base <= MAX; base++) {
		struct mtree_range r;
		struct mtree *t = NULL;

		mtree_range_init(&r);
		for (uint64_t i = 0; i < base; i++)
			mtree_range_append(&r, leaves[i]);
		g_assert_true(mtree_range_valid(&r));
		mtree_range_root(&r, a);
		g_assert_cmpint(mtree_root(full, base, b), ==, 0);
		g_assert_cmpmem(a, H, b, H);
		g_assert_cmpint(mtree_open_range(&r, &t), ==, 0);
		g_assert_cmpuint(mtree_base(t), ==, base);
		for (uint64_t i = base; i < MAX; i++)
			g_assert_cmpint(mtree_append(t, leaves[i]), ==, 0);
		for (uint64_t n = base; n <= MAX; n++) {
			g_assert_cmpint(mtree_root(t, n, a), ==, 0);
			g_assert_cmpint(mtree_root(full, n, b), ==, 0);
			g_assert_cmpmem(a, H, b, H);
			for (uint64_t i = 0; i < n; i++) {
				int err =
					mtree_inclusion_proof(t, i, n, p, MTREE_PROOF_MAX, &np);

				if (i < base) {
					g_assert_cmpint(err, ==, -ERANGE);
					continue;
				}
				g_assert_cmpint(err, ==, 0);
				g_assert_cmpint(mtree_inclusion_proof(full, i, n, q,
								      MTREE_PROOF_MAX, &nq),
						==, 0);
				g_assert_true(same_proof(p, np, q, nq));
			}
			for (uint64_t m = 1; m <= n; m++) {
				int err = mtree_consistency_proof(t, m, n, p, MTREE_PROOF_MAX,
								  &np);

				if (m < base) {
					g_assert_cmpint(err, ==, -ERANGE);
					continue;
				}
				g_assert_cmpint(err, ==, 0);
				g_assert_cmpint(mtree_consistency_proof(full, m, n, q,
									MTREE_PROOF_MAX, &nq),
						==, 0);
				g_assert_true(same_proof(p, np, q, nq));
			}
		}
		if (base > 0) {
			g_assert_cmpint(mtree_leaf(t, base - 1, a), ==, -ERANGE);
			g_assert_cmpint(mtree_root(t, base - 1, a), ==, -ERANGE);
			g_assert_cmpint(mtree_truncate(t, base - 1), ==, -EINVAL);
		}
		g_assert_cmpint(mtree_truncate(t, base), ==, 0);
		g_assert_cmpint(mtree_root(t, base, a), ==, 0);
		mtree_close(t);
	}
	/* a range with a hash too many or too few is no compact range */
	{
		struct mtree_range r;
		struct mtree *t = NULL;

		mtree_range_init(&r);
		for (uint64_t i = 0; i < 5; i++)
			mtree_range_append(&r, leaves[i]);
		r.count = 3;
		g_assert_false(mtree_range_valid(&r));
		g_assert_cmpint(mtree_open_range(&r, &t), ==, -EINVAL);
	}
	mtree_close(full);
}

static char *level_path(const char *dir, int k)
{
	return g_strdup_printf("%s/level-%02d", dir, k);
}

static gint64 file_size(const char *dir, int k)
{
	char *path = level_path(dir, k);
	GStatBuf st;
	gint64 size = -1;

	if (g_stat(path, &st) == 0)
		size = st.st_size;
	g_free(path);
	return size;
}

static void append_bytes(const char *dir, int k, const void *data, size_t len)
{
	char *path = level_path(dir, k);
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT, 0600);

	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpint(write(fd, data, len), ==, (ssize_t)len);
	close(fd);
	g_free(path);
}

static void cut_bytes(const char *dir, int k, off_t drop)
{
	char *path = level_path(dir, k);

	g_assert_cmpint(truncate(path, file_size(dir, k) - drop), ==, 0);
	g_free(path);
}

static void remove_dir(const char *dir)
{
	GDir *d = g_dir_open(dir, 0, NULL);
	const char *name;

	g_assert_nonnull(d);
	while ((name = g_dir_read_name(d)) != NULL) {
		char *path = g_build_filename(dir, name, NULL);

		if (g_file_test(path, G_FILE_TEST_IS_DIR))
			remove_dir(path);
		else
			g_assert_cmpint(g_unlink(path), ==, 0);
		g_free(path);
	}
	g_dir_close(d);
	g_assert_cmpint(g_rmdir(dir), ==, 0);
}

/* Each level file holds exactly N >> k hashes, and the levels above none. */
static void assert_level_files(const char *dir, uint64_t n)
{
	for (int k = 0; k < 64; k++) {
		gint64 size = file_size(dir, k);

		if ((n >> k) == 0)
			g_assert_true(size <= 0);
		else
			g_assert_cmpint(size, ==, (gint64)((n >> k) * H));
	}
}

static void assert_same_tree(struct mtree *t, uint8_t (*roots)[H], hash_t *leaves, uint64_t n)
{
	uint8_t root[H];
	hash_t p[MTREE_PROOF_MAX];
	size_t c;

	g_assert_cmpuint(mtree_size(t), ==, n);
	for (uint64_t s = 0; s <= n; s++) {
		g_assert_cmpint(mtree_root(t, s, root), ==, 0);
		g_assert_cmpmem(root, H, roots[s], H);
	}
	for (uint64_t i = 0; i < n; i += 13) {
		g_assert_cmpint(mtree_leaf(t, i, root), ==, 0);
		g_assert_cmpmem(root, H, leaves[i], H);
		g_assert_cmpint(mtree_inclusion_proof(t, i, n, p, MTREE_PROOF_MAX, &c), ==, 0);
		g_assert_true(verify_inclusion(i, n, leaves[i], p, c, roots[n]));
	}
}

struct persisted {
	char *dir;
	hash_t *leaves;
	uint8_t (*roots)[H];
	uint64_t n;
};

/* A dir-backed tree of N leaves, closed; LEAVES and ROOTS from an in-memory twin. */
static void persisted_init(struct persisted *s, uint64_t n)
{
	struct mtree *t = NULL, *twin = NULL;
	char why[256] = "";

	s->dir = g_dir_make_tmp("test-mtree-XXXXXX", NULL);
	g_assert_nonnull(s->dir);
	s->n = n;
	s->leaves = g_malloc(n * sizeof(hash_t));
	s->roots = g_malloc((n + 1) * H);
	g_assert_cmpint(mtree_open(s->dir, &t, why, sizeof(why)), ==, 0);
	g_assert_cmpint(mtree_open(NULL, &twin, why, sizeof(why)), ==, 0);
	for (uint64_t i = 0; i < n; i++) {
		random_leaf(s->leaves, i);
		g_assert_cmpint(mtree_append(t, s->leaves[i]), ==, 0);
		g_assert_cmpint(mtree_append(twin, s->leaves[i]), ==, 0);
	}
	for (uint64_t i = 0; i <= n; i++)
		g_assert_cmpint(mtree_root(twin, i, s->roots[i]), ==, 0);
	assert_same_tree(t, s->roots, s->leaves, n);
	mtree_close(twin);
	mtree_close(t);
	assert_level_files(s->dir, n);
}

static void persisted_free(struct persisted *s)
{
	remove_dir(s->dir);
	g_free(s->dir);
	g_free(s->leaves);
	g_free(s->roots);
}

static void test_reopen(void)
{
	struct persisted s;
	struct mtree *t = NULL;
	char why[256] = "";

	persisted_init(&s, 1000);
	g_assert_cmpint(mtree_open(s.dir, &t, why, sizeof(why)), ==, 0);
	assert_same_tree(t, s.roots, s.leaves, s.n);
	mtree_close(t);
	assert_level_files(s.dir, s.n);
	persisted_free(&s);

	/* a directory that does not exist yet is created */
	{
		char *base = g_dir_make_tmp("test-mtree-XXXXXX", NULL);
		char *dir = g_build_filename(base, "merkle", NULL);

		g_assert_cmpint(mtree_open(dir, &t, why, sizeof(why)), ==, 0);
		g_assert_cmpuint(mtree_size(t), ==, 0);
		mtree_close(t);
		g_assert_true(g_file_test(dir, G_FILE_TEST_IS_DIR));
		remove_dir(base);
		g_free(dir);
		g_free(base);
	}
}

/* Flips bit 0 of entry J of level K's file. */
static void flip_entry(const char *dir, int k, uint64_t j)
{
	char *path = level_path(dir, k);
	int fd = open(path, O_RDWR);
	uint8_t b;

	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpint(pread(fd, &b, 1, (off_t)(j * H + 5)), ==, 1);
	b ^= 1;
	g_assert_cmpint(pwrite(fd, &b, 1, (off_t)(j * H + 5)), ==, 1);
	close(fd);
	g_free(path);
}

/* Stored hashes covering leaves from FROM on are compared with the leaves the log gives
 * and repaired, in memory and in the files; those wholly before FROM are left alone. */
static void test_recheck(void)
{
	struct persisted s;
	struct mtree *t = NULL;
	char why[256] = "";
	uint64_t repaired = 99, from = 600;

	persisted_init(&s, 1000);
	flip_entry(s.dir, 0, 700);	    /* a leaf after FROM */
	flip_entry(s.dir, 3, 1000 / 8 - 1); /* an upper hash after FROM */
	flip_entry(s.dir, 4, 600 / 16);	    /* leaves 592..607: partly after FROM */
	g_assert_cmpint(mtree_open(s.dir, &t, why, sizeof(why)), ==, 0);
	g_assert_cmpint(mtree_recheck(t, from, (const uint8_t(*)[H])s.leaves + from, s.n - from,
				      &repaired),
			==, 0);
	g_assert_cmpuint(repaired, ==, 3);
	assert_same_tree(t, s.roots, s.leaves, s.n);
	g_assert_cmpint(mtree_sync(t), ==, 0);
	mtree_close(t);
	/* repaired in the files too */
	g_assert_cmpint(mtree_open(s.dir, &t, why, sizeof(why)), ==, 0);
	assert_same_tree(t, s.roots, s.leaves, s.n);
	g_assert_cmpint(mtree_recheck(t, from, (const uint8_t(*)[H])s.leaves + from, s.n - from,
				      &repaired),
			==, 0);
	g_assert_cmpuint(repaired, ==, 0);
	g_assert_cmpint(
		mtree_recheck(t, from, (const uint8_t(*)[H])s.leaves + from, 3, &repaired), ==,
		-EINVAL);
	mtree_close(t);
	persisted_free(&s);
}

static void test_repair(void)
{
	struct persisted s;
	struct mtree *t = NULL;
	char why[256] = "";
	uint8_t junk[H], saved1[H];
	hash_t leaf;
	char *path;
	int fd;

	persisted_init(&s, 1000);
	/* a crash's leftovers: a torn leaf entry, a missing level-1 hash, a bogus level-2 one
	 */
	path = level_path(s.dir, 1);
	fd = open(path, O_RDONLY);
	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpint(pread(fd, saved1, H, (off_t)((s.n / 2 - 1) * H)), ==, H);
	close(fd);
	g_free(path);
	append_bytes(s.dir, 0, "garbage", 7);
	cut_bytes(s.dir, 1, H);
	memset(junk, 0x77, H);
	append_bytes(s.dir, 2, junk, H);
	g_assert_cmpint(mtree_open(s.dir, &t, why, sizeof(why)), ==, 0);
	assert_same_tree(t, s.roots, s.leaves, s.n);
	mtree_close(t);
	/* ... repaired on disk too: exact lengths, and the dropped hash written again */
	assert_level_files(s.dir, s.n);
	path = level_path(s.dir, 1);
	fd = open(path, O_RDONLY);
	g_assert_cmpint(pread(fd, junk, H, (off_t)((s.n / 2 - 1) * H)), ==, H);
	close(fd);
	g_free(path);
	g_assert_cmpmem(junk, H, saved1, H);

	/* worse: several upper levels lost, a stray level far above the top, and one more
	 * leaf than its upper levels know of (a crash between the level writes) */
	for (int k = 3; k <= 5; k++) {
		path = level_path(s.dir, k);
		g_assert_cmpint(g_unlink(path), ==, 0);
		g_free(path);
	}
	cut_bytes(s.dir, 7, H);
	append_bytes(s.dir, 40, junk, H);
	append_bytes(s.dir, 40, junk, 3);
	mtree_leaf_hash("one more", 8, leaf);
	append_bytes(s.dir, 0, leaf, H); /* leaf 1000: with it, levels 1..3 gain an entry */
	g_assert_cmpint(mtree_open(s.dir, &t, why, sizeof(why)), ==, 0);
	g_assert_cmpuint(mtree_size(t), ==, s.n + 1);
	{
		struct mtree *twin = NULL;
		uint8_t a[H], b[H];

		g_assert_cmpint(mtree_open(NULL, &twin, NULL, 0), ==, 0);
		for (uint64_t i = 0; i < s.n; i++)
			g_assert_cmpint(mtree_append(twin, s.leaves[i]), ==, 0);
		g_assert_cmpint(mtree_append(twin, leaf), ==, 0);
		for (uint64_t n = 0; n <= s.n + 1; n++) {
			g_assert_cmpint(mtree_root(t, n, a), ==, 0);
			g_assert_cmpint(mtree_root(twin, n, b), ==, 0);
			g_assert_cmpmem(a, H, b, H);
		}
		mtree_close(twin);
	}
	/* the log never had that leaf: the caller cuts it off again */
	g_assert_cmpint(mtree_truncate(t, s.n), ==, 0);
	assert_same_tree(t, s.roots, s.leaves, s.n);
	mtree_close(t);
	assert_level_files(s.dir, s.n);
	g_assert_cmpint(file_size(s.dir, 40), ==, 0);
	g_assert_cmpint(mtree_open(s.dir, &t, why, sizeof(why)), ==, 0);
	assert_same_tree(t, s.roots, s.leaves, s.n);
	mtree_close(t);
	persisted_free(&s);
}

static void test_truncate(void)
{
	struct persisted s;
	struct mtree *t = NULL;
	char why[256] = "";

	persisted_init(&s, 1000);
	g_assert_cmpint(mtree_open(s.dir, &t, why, sizeof(why)), ==, 0);
	g_assert_cmpint(mtree_truncate(t, 1001), ==, -EINVAL);
	g_assert_cmpint(mtree_truncate(t, 613), ==, 0);
	assert_same_tree(t, s.roots, s.leaves, 613);
	assert_level_files(s.dir, 613);
	mtree_close(t);

	/* it persists, and appending goes on from there to the same tree */
	g_assert_cmpint(mtree_open(s.dir, &t, why, sizeof(why)), ==, 0);
	assert_same_tree(t, s.roots, s.leaves, 613);
	for (uint64_t i = 613; i < s.n; i++)
		g_assert_cmpint(mtree_append(t, s.leaves[i]), ==, 0);
	assert_same_tree(t, s.roots, s.leaves, s.n);
	assert_level_files(s.dir, s.n);
	/* to a power of two, to nothing */
	g_assert_cmpint(mtree_truncate(t, 512), ==, 0);
	assert_level_files(s.dir, 512);
	g_assert_cmpint(mtree_truncate(t, 512), ==, 0);
	g_assert_cmpint(mtree_truncate(t, 0), ==, 0);
	assert_level_files(s.dir, 0);
	mtree_close(t);
	g_assert_cmpint(mtree_open(s.dir, &t, why, sizeof(why)), ==, 0);
	g_assert_cmpuint(mtree_size(t), ==, 0);
	for (uint64_t i = 0; i < 700; i++)
		g_assert_cmpint(mtree_append(t, s.leaves[i]), ==, 0);
	assert_same_tree(t, s.roots, s.leaves, 700);
	mtree_close(t);
	assert_level_files(s.dir, 700);
	persisted_free(&s);
}

/* A level file that cannot be written: the append fails, and leaves no trace. */
static void test_write_failure(void)
{
	char *dir = g_dir_make_tmp("test-mtree-XXXXXX", NULL), *blocker;
	struct mtree *t = NULL;
	hash_t leaves[4];
	uint8_t root[H], want[H];
	char why[256] = "";

	for (int i = 0; i < 4; i++) {
		char data[16];

		snprintf(data, sizeof(data), "%d", i);
		mtree_leaf_hash(data, strlen(data), leaves[i]);
	}
	g_assert_cmpint(mtree_open(dir, &t, why, sizeof(why)), ==, 0);
	g_assert_cmpint(mtree_append(t, leaves[0]), ==, 0);
	/* level-01 is created by the second leaf: make that impossible (a level file is only
	 * ever created new, so a name already taken is refused) */
	blocker = level_path(dir, 1);
	g_assert_cmpint(g_mkdir(blocker, 0700), ==, 0);
	g_assert_cmpint(mtree_append(t, leaves[1]), ==, -EEXIST);
	g_assert_cmpuint(mtree_size(t), ==, 1);
	g_assert_cmpint(file_size(dir, 0), ==, H); /* the level-0 hash was taken back */
	g_assert_cmpint(mtree_root(t, 1, root), ==, 0);
	g_assert_cmpmem(root, H, leaves[0], H);
	g_assert_cmpint(g_rmdir(blocker), ==, 0);
	for (int i = 1; i < 4; i++)
		g_assert_cmpint(mtree_append(t, leaves[i]), ==, 0);
	mtree_close(t);
	g_assert_cmpint(mtree_open(dir, &t, why, sizeof(why)), ==, 0);
	g_assert_cmpint(mtree_root(t, 4, root), ==, 0);
	mtree_node_hash(leaves[0], leaves[1], want);
	mtree_node_hash(leaves[2], leaves[3], root);
	mtree_node_hash(want, root, want);
	g_assert_cmpint(mtree_root(t, 4, root), ==, 0);
	g_assert_cmpmem(root, H, want, H);
	mtree_close(t);
	assert_level_files(dir, 4);

	/* open names the file it could not read */
	g_assert_cmpint(g_unlink(blocker), ==, 0);
	g_assert_cmpint(g_mkdir(blocker, 0700), ==, 0);
	t = NULL;
	g_assert_cmpint(mtree_open(dir, &t, why, sizeof(why)), ==, -EISDIR);
	g_assert_null(t);
	g_assert_nonnull(strstr(why, "level-01"));
	g_free(blocker);

	/* and a directory that is a file */
	blocker = level_path(dir, 0);
	g_assert_cmpint(mtree_open(blocker, &t, why, sizeof(why)), ==, -ENOTDIR);
	g_assert_nonnull(strstr(why, "level-00"));
	g_free(blocker);
	remove_dir(dir);
	g_free(dir);
}

/* ---- the state folder's trust rule ---- */

/* A root-only file outside the tree's folder, standing for /etc/shadow: LEN known bytes. */
static char *victim_new(const char *base, size_t len)
{
	char *path = g_build_filename(base, "victim", NULL);
	uint8_t data[256];
	int fd;

	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(0xa0 ^ i);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpint(write(fd, data, len), ==, (ssize_t)len);
	close(fd);
	return path;
}

static void assert_victim_intact(const char *path, size_t len)
{
	uint8_t data[256];
	gchar *got = NULL;
	gsize got_len = 0;

	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(0xa0 ^ i);
	g_assert_true(g_file_get_contents(path, &got, &got_len, NULL));
	g_assert_cmpmem(got, got_len, data, len);
	g_free(got);
}

/* A tree of 4 leaves in BASE/merkle, closed; its folder's path (new). */
static char *tree_of_four(const char *base)
{
	char *dir = g_build_filename(base, "merkle", NULL), why[256] = "";
	struct mtree *t = NULL;
	hash_t leaf;

	g_assert_cmpint(mtree_open(dir, &t, why, sizeof(why)), ==, 0);
	for (int i = 0; i < 4; i++) {
		mtree_leaf_hash(&i, sizeof(i), leaf);
		g_assert_cmpint(mtree_append(t, leaf), ==, 0);
	}
	mtree_close(t);
	return dir;
}

/* The attack: level-00 replaced by a link to a root-only file. Followed, open
 * would have read its first bytes as leaf hashes (to be signed into a checkpoint) and cut
 * it to whole entries; now the open is refused and the file is untouched. */
static void test_refuses_symlinked_level(void)
{
	char *base = g_dir_make_tmp("test-mtree-XXXXXX", NULL), *dir = tree_of_four(base);
	char *victim = victim_new(base, 40), *level = level_path(dir, 0), why[256] = "";
	struct mtree *t = NULL;
	hash_t leaf;

	g_assert_cmpint(g_unlink(level), ==, 0);
	g_assert_cmpint(symlink(victim, level), ==, 0);
	g_assert_cmpint(mtree_open(dir, &t, why, sizeof(why)), ==, -ELOOP);
	g_assert_null(t);
	g_assert_nonnull(strstr(why, "level-00 is a symbolic link"));
	assert_victim_intact(victim, 40);
	g_free(level);

	/* a level file created while the tree is open (level-02 by the fourth leaf of a
	 * three-leaf tree), planted as a link first: not written through */
	g_assert_cmpint(g_unlink(victim), ==, 0);
	g_free(victim);
	remove_dir(dir);
	victim = victim_new(base, 40);
	g_assert_cmpint(mtree_open(dir, &t, why, sizeof(why)), ==, 0);
	for (int i = 0; i < 3; i++) {
		mtree_leaf_hash(&i, sizeof(i), leaf);
		g_assert_cmpint(mtree_append(t, leaf), ==, 0);
	}
	level = level_path(dir, 2);
	g_assert_cmpint(symlink(victim, level), ==, 0);
	g_assert_cmpint(mtree_append(t, leaf), ==, -EEXIST);
	g_assert_cmpuint(mtree_size(t), ==, 3);
	assert_victim_intact(victim, 40);
	mtree_close(t);
	g_free(level);

	/* the folder itself as a link to another folder */
	{
		char *link = g_build_filename(base, "linked", NULL);

		g_assert_cmpint(symlink(dir, link), ==, 0);
		g_assert_cmpint(mtree_open(link, &t, why, sizeof(why)), ==, -ELOOP);
		g_assert_nonnull(strstr(why, "linked is a symbolic link"));
		g_assert_cmpint(g_unlink(link), ==, 0);
		g_free(link);
	}
	remove_dir(base);
	g_free(victim);
	g_free(dir);
	g_free(base);
}

static uid_t nobody_uid(void)
{
	struct passwd *pw = getpwnam("nobody");

	return pw != NULL ? pw->pw_uid : (uid_t)65534;
}

/* Changing owners needs root (make check runs as root in CI); skipped otherwise. */
static int need_root(void)
{
	if (geteuid() == 0)
		return 1;
	g_test_skip("changing a file's owner needs root");
	return 0;
}

/* Folders: one another user could have made (in a folder others may write, or in that
 * user's own) is refused, as is one others may write; one root handed over is taken. */
static void test_refuses_folder_of_another_user(void)
{
	char *base, *dir, *home, why[256] = "";
	uid_t nobody = nobody_uid();
	struct mtree *t = NULL;

	if (!need_root())
		return;
	base = g_dir_make_tmp("test-mtree-XXXXXX", NULL);
	dir = tree_of_four(base);
	/* made by another user in a shared folder (/tmp-like: sticky, writable by all) */
	g_assert_cmpint(chmod(base, 01777), ==, 0);
	g_assert_cmpint(chown(dir, nobody, (gid_t)-1), ==, 0);
	g_assert_cmpint(mtree_open(dir, &t, why, sizeof(why)), ==, -EPERM);
	g_assert_null(t);
	g_assert_nonnull(strstr(why, "not root's alone, so another user could have made it"));
	/* ... or in a folder of their own */
	g_assert_cmpint(chmod(base, 0755), ==, 0);
	g_assert_cmpint(chown(base, nobody, (gid_t)-1), ==, 0);
	g_assert_cmpint(mtree_open(dir, &t, why, sizeof(why)), ==, -EPERM);
	g_assert_nonnull(strstr(why, "belongs to uid"));
	/* ours, but writable by others: they could swap its files */
	g_assert_cmpint(chown(base, 0, (gid_t)-1), ==, 0);
	g_assert_cmpint(chown(dir, 0, (gid_t)-1), ==, 0);
	g_assert_cmpint(chmod(dir, 0777), ==, 0);
	g_assert_cmpint(mtree_open(dir, &t, why, sizeof(why)), ==, -EPERM);
	g_assert_nonnull(strstr(why, "writable by group or others"));
	g_assert_cmpint(chmod(dir, 01777), ==,
			0); /* sticky changes nothing for a state folder */
	g_assert_cmpint(mtree_open(dir, &t, why, sizeof(why)), ==, -EPERM);
	/* handed over by root (a parent only root writes): quorum.conf's `user` setup */
	g_assert_cmpint(chmod(dir, 0700), ==, 0);
	g_assert_cmpint(chown(dir, nobody, (gid_t)-1), ==, 0);
	g_assert_cmpint(mtree_open(dir, &t, why, sizeof(why)), ==, 0);
	g_assert_cmpuint(mtree_size(t), ==, 4);
	mtree_close(t);
	/* a new folder in a shared one is refused as soon as someone else owns it */
	home = g_build_filename(base, "shared", NULL);
	g_assert_cmpint(g_mkdir(home, 01777), ==, 0);
	g_assert_cmpint(chmod(home, 01777), ==, 0);
	g_free(dir);
	dir = g_build_filename(home, "merkle", NULL);
	g_assert_cmpint(g_mkdir(dir, 0700), ==, 0);
	g_assert_cmpint(chown(dir, nobody, (gid_t)-1), ==, 0);
	g_assert_cmpint(mtree_open(dir, &t, why, sizeof(why)), ==, -EPERM);
	remove_dir(base);
	g_free(home);
	g_free(dir);
	g_free(base);
}

/* Files: another user's level file, one others may write, one with a second name. */
static void test_refuses_file_of_another_user(void)
{
	char *base, *dir, *level, *alias, why[256] = "";
	struct mtree *t = NULL;

	if (!need_root())
		return;
	base = g_dir_make_tmp("test-mtree-XXXXXX", NULL);
	dir = tree_of_four(base);
	level = level_path(dir, 1);
	g_assert_cmpint(chown(level, nobody_uid(), (gid_t)-1), ==, 0);
	g_assert_cmpint(mtree_open(dir, &t, why, sizeof(why)), ==, -EPERM);
	g_assert_null(t);
	g_assert_nonnull(strstr(why, "level-01 belongs to uid"));
	g_assert_cmpint(chown(level, 0, (gid_t)-1), ==, 0);
	g_assert_cmpint(chmod(level, 0666), ==, 0);
	g_assert_cmpint(mtree_open(dir, &t, why, sizeof(why)), ==, -EPERM);
	g_assert_nonnull(strstr(why, "level-01 is writable by group or others"));
	g_assert_cmpint(chmod(level, 0600), ==, 0);
	alias = g_build_filename(base, "alias", NULL);
	g_assert_cmpint(link(level, alias), ==, 0);
	g_assert_cmpint(mtree_open(dir, &t, why, sizeof(why)), ==, -EPERM);
	g_assert_nonnull(strstr(why, "level-01 has 2 hard links"));
	g_assert_cmpint(g_unlink(alias), ==, 0);
	g_assert_cmpint(mtree_open(dir, &t, why, sizeof(why)), ==, 0);
	g_assert_cmpuint(mtree_size(t), ==, 4);
	mtree_close(t);
	remove_dir(base);
	g_free(alias);
	g_free(level);
	g_free(dir);
	g_free(base);
}

/* The merkle stage's checkpoint file goes through the same helper: a planted link is not
 * read (its bytes would be served as the latest checkpoint) nor written through, and a
 * temporary file is only ever new. */
static void test_statedir_checkpoint_file(void)
{
	char *base = g_dir_make_tmp("test-mtree-XXXXXX", NULL), *dir = tree_of_four(base);
	char *victim = victim_new(base, 40), *cp = g_build_filename(dir, "checkpoint", NULL);
	char why[256] = "";
	struct statedir d;
	int fd;

	g_assert_cmpint(statedir_open(&d, dir, 0, why, sizeof(why)), ==, 0);
	g_assert_cmpint(symlink(victim, cp), ==, 0);
	g_assert_cmpint(statedir_openat(&d, "checkpoint", O_RDONLY, 0, why, sizeof(why)), ==,
			-ELOOP);
	g_assert_nonnull(strstr(why, "checkpoint is a symbolic link"));
	g_assert_cmpint(statedir_openat(&d, "checkpoint", O_WRONLY | O_CREAT | O_TRUNC, 0644,
					why, sizeof(why)),
			==, -ELOOP);
	g_assert_cmpint(statedir_openat(&d, "checkpoint", O_WRONLY | O_CREAT | O_EXCL, 0644,
					why, sizeof(why)),
			==, -EEXIST);
	assert_victim_intact(victim, 40);
	g_assert_cmpint(g_unlink(cp), ==, 0);
	/* a new file gets exactly the mode asked for, whatever the umask */
	fd = statedir_openat(&d, "checkpoint", O_WRONLY | O_CREAT | O_EXCL, 0644, why,
			     sizeof(why));
	g_assert_cmpint(fd, >=, 0);
	{
		struct stat st;

		g_assert_cmpint(fstat(fd, &st), ==, 0);
		g_assert_cmpuint(st.st_mode & 07777, ==, 0644);
	}
	close(fd);
	/* O_TRUNC only once the file passed: an existing file of ours is cut */
	g_assert_true(g_file_set_contents(cp, "old", 3, NULL));
	g_assert_cmpint(chmod(cp, 0644), ==, 0);
	fd = statedir_openat(&d, "checkpoint", O_WRONLY | O_CREAT | O_TRUNC, 0644, why,
			     sizeof(why));
	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpint(lseek(fd, 0, SEEK_END), ==, 0);
	close(fd);
	statedir_close(&d);
	remove_dir(base);
	g_free(cp);
	g_free(victim);
	g_free(dir);
	g_free(base);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/mtree/hash/leaf-and-node-prefixes", test_hash_prefixes);
	g_test_add_func("/mtree/rfc6962/roots-of-the-standard-leaves", test_std_roots);
	g_test_add_func("/mtree/rfc6962/published-inclusion-proofs", test_std_inclusion);
	g_test_add_func("/mtree/rfc6962/published-consistency-proofs", test_std_consistency);
	g_test_add_func("/mtree/verify/size-edge-cases", test_verify_edges);
	g_test_add_func("/mtree/proofs/every-inclusion-to-8-and-its-tampered-forms",
			test_small_inclusion);
	g_test_add_func("/mtree/proofs/every-consistency-to-8-and-its-tampered-forms",
			test_small_consistency);
	g_test_add_func("/mtree/proofs/range-and-space-errors", test_proof_errors);
	g_test_add_func("/mtree/proofs/random-trees-match-the-reference", test_random_trees);
	g_test_add_func("/mtree/range/tree-from-a-compact-range-answers-as-the-whole",
			test_compact_range);
	g_test_add_func("/mtree/files/reopen-gives-the-same-tree", test_reopen);
	g_test_add_func("/mtree/files/repairs-torn-and-missing-levels", test_repair);
	g_test_add_func("/mtree/files/truncate-persists", test_truncate);
	g_test_add_func("/mtree/files/recheck-repairs-hashes-after-a-point", test_recheck);
	g_test_add_func("/mtree/files/failed-append-leaves-no-trace", test_write_failure);
	g_test_add_func("/mtree/trust/refuses-symlinked-level-file",
			test_refuses_symlinked_level);
	g_test_add_func("/mtree/trust/refuses-folder-another-user-could-make",
			test_refuses_folder_of_another_user);
	g_test_add_func("/mtree/trust/refuses-level-file-of-another-user",
			test_refuses_file_of_another_user);
	g_test_add_func("/mtree/trust/checkpoint-file-never-through-a-link",
			test_statedir_checkpoint_file);
	return g_test_run();
}
