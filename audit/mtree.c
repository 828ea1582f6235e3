/* mtree.c -- the RFC 6962 / RFC 9162 Merkle tree (see mtree.h): complete-subtree hashes per
 * level, in memory and in append-only level files, proofs composed from them. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/sha.h>

#include "mtree.h"

#define LEVELS 64
#define DIR_MAX 4000		   /* longest directory name accepted */
#define PATH_BUF (DIR_MAX + 16) /* DIR/level-KK */

struct level {
	uint8_t (*h)[MTREE_HASH_LEN];
	uint64_t len, cap;
	int fd; /* DIR/level-KK, or -1 (in memory, or not created yet) */
};

struct mtree {
	char *dir; /* NULL: in memory */
	struct level levels[LEVELS];
	uint64_t size;
};

/* WHY gets "PATH: what failed". */
static void set_why(char *why, size_t size, const char *path, int err)
{
	if (why != NULL && size > 0)
		snprintf(why, size, "%s: %s", path, strerror(err));
}

/* ---- hashing ---- */

/* SHA-256(PREFIX || A || B): one-shot from a stack buffer for the common small inputs (a
 * node is 65 bytes), streamed for large records. */
static void hash2(const uint8_t prefix, const void *a, size_t alen, const void *b, size_t blen,
		  uint8_t out[MTREE_HASH_LEN])
{
	uint8_t buf[1024];
	EVP_MD_CTX *md;
	unsigned int n = MTREE_HASH_LEN;

	if (1 + alen + blen <= sizeof(buf)) {
		buf[0] = prefix;
		memcpy(buf + 1, a, alen);
		if (blen > 0)
			memcpy(buf + 1 + alen, b, blen);
		SHA256(buf, 1 + alen + blen, out);
		return;
	}
	md = EVP_MD_CTX_new();
	if (md == NULL || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1 ||
	    EVP_DigestUpdate(md, &prefix, 1) != 1 || EVP_DigestUpdate(md, a, alen) != 1 ||
	    (blen > 0 && EVP_DigestUpdate(md, b, blen) != 1) ||
	    EVP_DigestFinal_ex(md, out, &n) != 1)
		abort(); /* out of memory in libcrypto: no hash may be silently wrong */
	EVP_MD_CTX_free(md);
}

void mtree_leaf_hash(const void *data, size_t len, uint8_t out[MTREE_HASH_LEN])
{
	hash2(0x00, data, len, NULL, 0, out);
}

void mtree_node_hash(const uint8_t left[MTREE_HASH_LEN], const uint8_t right[MTREE_HASH_LEN],
		     uint8_t out[MTREE_HASH_LEN])
{
	hash2(0x01, left, MTREE_HASH_LEN, right, MTREE_HASH_LEN, out);
}

/* ---- levels ---- */

static int level_reserve(struct level *l, uint64_t n)
{
	void *p;
	uint64_t cap;

	if (n <= l->cap)
		return 0;
	cap = l->cap != 0 ? l->cap : 64;
	while (cap < n)
		cap *= 2;
	p = realloc(l->h, cap * MTREE_HASH_LEN);
	if (p == NULL)
		return -ENOMEM;
	l->h = p;
	l->cap = cap;
	return 0;
}

static int level_open_file(struct mtree *t, int k)
{
	char path[PATH_BUF];

	if (t->dir == NULL || t->levels[k].fd >= 0)
		return 0;
	snprintf(path, sizeof(path), "%s/level-%02d", t->dir, k);
	t->levels[k].fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	return t->levels[k].fd < 0 ? -errno : 0;
}

static int pwrite_full(int fd, const void *buf, size_t len, off_t off)
{
	const uint8_t *p = buf;

	while (len > 0) {
		ssize_t n = pwrite(fd, p, len, off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
		off += n;
	}
	return 0;
}

/* Appends HASH to level K (memory and file). */
static int level_push(struct mtree *t, int k, const uint8_t hash[MTREE_HASH_LEN])
{
	struct level *l = &t->levels[k];
	int err = level_reserve(l, l->len + 1);

	if (err == 0)
		err = level_open_file(t, k);
	if (err == 0 && l->fd >= 0)
		err = pwrite_full(l->fd, hash, MTREE_HASH_LEN, (off_t)(l->len * MTREE_HASH_LEN));
	if (err != 0)
		return err;
	memcpy(l->h[l->len], hash, MTREE_HASH_LEN);
	l->len++;
	return 0;
}

static int level_cut(struct mtree *t, int k, uint64_t len)
{
	struct level *l = &t->levels[k];

	if (l->len <= len)
		return 0;
	l->len = len;
	if (l->fd >= 0 && ftruncate(l->fd, (off_t)(len * MTREE_HASH_LEN)) != 0)
		return -errno;
	return 0;
}

/* ---- open / close ---- */

/* Reads level K's file: whole entries only (a torn tail is dropped). */
static int level_load(struct mtree *t, int k, char *why, size_t why_size)
{
	struct level *l = &t->levels[k];
	struct stat st;
	uint64_t n;
	char path[PATH_BUF];

	snprintf(path, sizeof(path), "%s/level-%02d", t->dir, k);
	l->fd = open(path, O_RDWR | O_CLOEXEC);
	if (l->fd < 0) {
		if (errno == ENOENT)
			return 0;
		set_why(why, why_size, path, errno);
		return -errno;
	}
	if (fstat(l->fd, &st) != 0) {
		set_why(why, why_size, path, errno);
		return -errno;
	}
	n = (uint64_t)st.st_size / MTREE_HASH_LEN;
	if (level_reserve(l, n) != 0)
		return -ENOMEM;
	for (uint64_t done = 0; done < n * MTREE_HASH_LEN;) {
		ssize_t r = pread(l->fd, (uint8_t *)l->h + done, n * MTREE_HASH_LEN - done,
				  (off_t)done);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			set_why(why, why_size, path, r < 0 ? errno : EIO);
			return r < 0 ? -errno : -EIO;
		}
		done += (uint64_t)r;
	}
	l->len = n;
	if ((uint64_t)st.st_size != n * MTREE_HASH_LEN &&
	    ftruncate(l->fd, (off_t)(n * MTREE_HASH_LEN)) != 0)
		return -errno;
	return 0;
}

/* Makes every level agree with level 0: level k has exactly len0 >> k entries. */
static int levels_repair(struct mtree *t)
{
	uint64_t n = t->levels[0].len;
	int err;

	for (int k = 1; k < LEVELS; k++) {
		uint64_t want = n >> k;
		struct level *below = &t->levels[k - 1];

		err = level_cut(t, k, want);
		if (err != 0)
			return err;
		while (t->levels[k].len < want) {
			uint64_t j = t->levels[k].len;
			uint8_t h[MTREE_HASH_LEN];

			mtree_node_hash(below->h[2 * j], below->h[2 * j + 1], h);
			err = level_push(t, k, h);
			if (err != 0)
				return err;
		}
	}
	t->size = n;
	return 0;
}

int mtree_open(const char *dir, struct mtree **out, char *why, size_t why_size)
{
	struct mtree *t = calloc(1, sizeof(*t));
	int err = 0;

	if (t == NULL)
		return -ENOMEM;
	for (int k = 0; k < LEVELS; k++)
		t->levels[k].fd = -1;
	if (dir != NULL) {
		if (strlen(dir) > DIR_MAX) {
			set_why(why, why_size, dir, ENAMETOOLONG);
			free(t);
			return -ENAMETOOLONG;
		}
		t->dir = strdup(dir);
		if (t->dir == NULL) {
			free(t);
			return -ENOMEM;
		}
		if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
			err = -errno;
			set_why(why, why_size, dir, errno);
			goto fail;
		}
		for (int k = 0; k < LEVELS && err == 0; k++)
			err = level_load(t, k, why, why_size);
		if (err == 0)
			err = levels_repair(t);
		if (err != 0)
			goto fail;
	}
	*out = t;
	return 0;
fail:
	mtree_close(t);
	return err;
}

void mtree_close(struct mtree *tree)
{
	if (tree == NULL)
		return;
	for (int k = 0; k < LEVELS; k++) {
		if (tree->levels[k].fd >= 0)
			close(tree->levels[k].fd);
		free(tree->levels[k].h);
	}
	free(tree->dir);
	free(tree);
}

uint64_t mtree_size(const struct mtree *tree)
{
	return tree->size;
}

int mtree_append(struct mtree *tree, const uint8_t leaf_hash[MTREE_HASH_LEN])
{
	uint64_t n = tree->size + 1;
	int err = level_push(tree, 0, leaf_hash);

	/* Level k gains an entry whenever n becomes a multiple of 2^k. */
	for (int k = 1; err == 0 && k < LEVELS && (n & ((UINT64_C(1) << k) - 1)) == 0; k++) {
		const struct level *below = &tree->levels[k - 1];
		uint8_t h[MTREE_HASH_LEN];

		mtree_node_hash(below->h[below->len - 2], below->h[below->len - 1], h);
		err = level_push(tree, k, h);
	}
	if (err != 0) {
		/* Leave the tree as it was: every level back to its length for size n - 1. */
		for (int k = 0; k < LEVELS; k++)
			level_cut(tree, k, tree->size >> k);
		return err;
	}
	tree->size = n;
	return 0;
}

int mtree_truncate(struct mtree *tree, uint64_t size)
{
	int err = 0;

	if (size > tree->size)
		return -EINVAL;
	for (int k = 0; k < LEVELS && err == 0; k++)
		err = level_cut(tree, k, size >> k);
	if (err == 0)
		tree->size = size;
	return err;
}

int mtree_leaf(const struct mtree *tree, uint64_t index, uint8_t out[MTREE_HASH_LEN])
{
	if (index >= tree->size)
		return -ERANGE;
	memcpy(out, tree->levels[0].h[index], MTREE_HASH_LEN);
	return 0;
}

/* ---- subtree hashes ---- */

/* The largest power of two strictly below N (N >= 2). */
static uint64_t split_point(uint64_t n)
{
	uint64_t k = UINT64_C(1) << (63 - __builtin_clzll(n - 1));

	return k;
}

/* MTH(D[start:end]) for a range of the RFC's recursion (START a multiple of the largest
 * power of two not above END - START, as every such range is). */
static void range_hash(const struct mtree *t, uint64_t start, uint64_t end,
		       uint8_t out[MTREE_HASH_LEN])
{
	uint64_t n = end - start;

	if ((n & (n - 1)) == 0 && start % n == 0) {
		int k = __builtin_ctzll(n);

		memcpy(out, t->levels[k].h[start >> k], MTREE_HASH_LEN);
		return;
	}
	{
		uint64_t k = split_point(n);
		uint8_t l[MTREE_HASH_LEN], r[MTREE_HASH_LEN];

		range_hash(t, start, start + k, l);
		range_hash(t, start + k, end, r);
		mtree_node_hash(l, r, out);
	}
}

int mtree_root(const struct mtree *tree, uint64_t size, uint8_t out[MTREE_HASH_LEN])
{
	if (size > tree->size)
		return -ERANGE;
	if (size == 0) {
		SHA256((const uint8_t *)"", 0, out);
		return 0;
	}
	range_hash(tree, 0, size, out);
	return 0;
}

int mtree_inclusion_proof(const struct mtree *tree, uint64_t index, uint64_t size,
			  uint8_t (*out)[MTREE_HASH_LEN], size_t cap, size_t *count)
{
	uint8_t path[MTREE_PROOF_MAX][MTREE_HASH_LEN];
	uint64_t start = 0, end = size;
	size_t n = 0;

	if (size > tree->size || index >= size)
		return -ERANGE;
	/* Walk down from the root; the siblings come out root-first, the proof is
	 * leaf-first. */
	while (end - start > 1) {
		uint64_t k = split_point(end - start);

		if (index < start + k) {
			range_hash(tree, start + k, end, path[n++]);
			end = start + k;
		} else {
			range_hash(tree, start, start + k, path[n++]);
			start += k;
		}
	}
	if (n > cap)
		return -ENOSPC;
	for (size_t i = 0; i < n; i++)
		memcpy(out[i], path[n - 1 - i], MTREE_HASH_LEN);
	*count = n;
	return 0;
}

int mtree_consistency_proof(const struct mtree *tree, uint64_t old_size, uint64_t new_size,
			    uint8_t (*out)[MTREE_HASH_LEN], size_t cap, size_t *count)
{
	uint8_t path[MTREE_PROOF_MAX][MTREE_HASH_LEN];
	uint64_t start = 0, end = new_size, m = old_size;
	int whole = 1; /* b in RFC 9162's SUBPROOF: D[start:end] is the old tree's own root */
	size_t n = 0;

	if (old_size > new_size || new_size > tree->size)
		return -ERANGE;
	*count = 0;
	if (old_size == 0 || old_size == new_size)
		return 0;
	/* SUBPROOF(m, D[start:end], whole), iteratively; nodes come out root-first. */
	for (;;) {
		uint64_t len = end - start, k;

		if (m == len) {
			if (!whole)
				range_hash(tree, start, end, path[n++]);
			break;
		}
		k = split_point(len);
		if (m <= k) {
			range_hash(tree, start + k, end, path[n++]);
			end = start + k;
		} else {
			range_hash(tree, start, start + k, path[n++]);
			start += k;
			m -= k;
			whole = 0;
		}
	}
	if (n > cap)
		return -ENOSPC;
	for (size_t i = 0; i < n; i++)
		memcpy(out[i], path[n - 1 - i], MTREE_HASH_LEN);
	*count = n;
	return 0;
}

/* ---- verification (RFC 9162 sections 2.1.3.2 and 2.1.4.2) ---- */

int mtree_verify_inclusion(uint64_t index, uint64_t size, const uint8_t leaf_hash[MTREE_HASH_LEN],
			   const uint8_t (*proof)[MTREE_HASH_LEN], size_t count,
			   const uint8_t root[MTREE_HASH_LEN])
{
	uint64_t fn = index, sn;
	uint8_t r[MTREE_HASH_LEN];

	if (index >= size)
		return 0;
	sn = size - 1;
	memcpy(r, leaf_hash, MTREE_HASH_LEN);
	for (size_t i = 0; i < count; i++) {
		if (sn == 0)
			return 0;
		if ((fn & 1) || fn == sn) {
			mtree_node_hash(proof[i], r, r);
			if (!(fn & 1)) {
				while (!(fn & 1) && fn != 0) {
					fn >>= 1;
					sn >>= 1;
				}
			}
		} else {
			mtree_node_hash(r, proof[i], r);
		}
		fn >>= 1;
		sn >>= 1;
	}
	return sn == 0 && memcmp(r, root, MTREE_HASH_LEN) == 0;
}

int mtree_verify_consistency(uint64_t old_size, uint64_t new_size,
			     const uint8_t old_root[MTREE_HASH_LEN],
			     const uint8_t new_root[MTREE_HASH_LEN],
			     const uint8_t (*proof)[MTREE_HASH_LEN], size_t count)
{
	uint8_t fr[MTREE_HASH_LEN], sr[MTREE_HASH_LEN];
	uint64_t fn, sn;
	size_t i = 0;

	if (old_size > new_size)
		return 0;
	if (old_size == new_size)
		return count == 0 && memcmp(old_root, new_root, MTREE_HASH_LEN) == 0;
	if (old_size == 0)
		return count == 0; /* every tree extends the empty one */
	if (count == 0)
		return 0;
	/* The RFC prepends old_root when old_size is a power of two: start from it then. */
	if ((old_size & (old_size - 1)) == 0) {
		memcpy(fr, old_root, MTREE_HASH_LEN);
	} else {
		memcpy(fr, proof[0], MTREE_HASH_LEN);
		i = 1;
	}
	memcpy(sr, fr, MTREE_HASH_LEN);
	fn = old_size - 1;
	sn = new_size - 1;
	while (fn & 1) {
		fn >>= 1;
		sn >>= 1;
	}
	for (; i < count; i++) {
		if (sn == 0)
			return 0;
		if ((fn & 1) || fn == sn) {
			mtree_node_hash(proof[i], fr, fr);
			mtree_node_hash(proof[i], sr, sr);
			if (!(fn & 1)) {
				while (!(fn & 1) && fn != 0) {
					fn >>= 1;
					sn >>= 1;
				}
			}
		} else {
			mtree_node_hash(sr, proof[i], sr);
		}
		fn >>= 1;
		sn >>= 1;
	}
	return sn == 0 && memcmp(fr, old_root, MTREE_HASH_LEN) == 0 &&
	       memcmp(sr, new_root, MTREE_HASH_LEN) == 0;
}
