/* mtree.c -- the RFC 6962 / RFC 9162 Merkle tree (contract in mtree.h): complete-subtree
 * hashes per level, in memory and in append-only level files, proofs composed from them.
 *
 * Level k holds MTH of every complete, aligned subtree of 2^k leaves: entry j is the hash of
 * leaves [j * 2^k, (j + 1) * 2^k). A tree of n leaves has exactly n >> k entries at level k,
 * and every range the RFC's recursion visits, [start, start + len) with START a multiple of
 * the smallest power of two >= LEN, is one such subtree per set bit of LEN. So a root costs
 * popcount(n) lookups and popcount(n) - 1 hashes, and a proof at most one such composition
 * plus one lookup per level.
 *
 * Level files: DIR/level-KK, 32 bytes per entry, entry j at byte offset 32 * j. Entries are
 * written with pwrite() at their own offset, so a failed or partial write leaves nothing
 * the next write of that entry does not overwrite; fsynced by mtree_sync (the merkle stage
 * calls it before it signs a checkpoint over them).
 * The folder and its files are opened by statedir.h's trust rule: no symbolic link, no
 * folder or file another user could have planted (level files are only ever created new).
 * Bounds: 64 bytes of memory per leaf (the levels sum to < 2n entries) and one file
 * descriptor per level that has entries (at most 63). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "mtree.h"
#include "statedir.h"

#define LEVELS	      64			/* level 63 would need 2^63 leaves */
#define SIZE_MAX_TREE ((UINT64_C(1) << 63) - 1) /* keeps every proof <= MTREE_PROOF_MAX */
#define LEAF_INLINE   1024			/* leaf data hashed from a stack buffer */
#define LEVEL_MIN_CAP 64

struct mtree_level {
	uint8_t (*hash)[MTREE_HASH_LEN]; /* entry j at hash[j - first] */
	uint64_t len;			 /* entries valid in memory and in the file */
	uint64_t cap;			 /* entries allocated */
	uint64_t first; /* the first entry held: 0 but in a tree from a compact range */
	int fd;		/* DIR/level-KK, or -1 (in memory, or not created yet) */
	int dirty;	/* written since the last mtree_sync */
};

struct mtree {
	char *dir;		/* NULL: in memory */
	struct statedir folder; /* fd -1: in memory */
	uint64_t size;
	uint64_t base; /* leaves before it are known only by their compact range */
	/* Nonzero (a -errno) when a level file may hold hashes past its level's length that
	 * a cleanup could not cut: appends then fail with it, since a crash in a later append
	 * could let open take such a stale hash for a new one. A successful mtree_truncate
	 * cuts every file again and clears it. */
	int poisoned;
	struct mtree_level level[LEVELS];
};

/* ---- hashing ---- */

/* EVP_sha256(): libcrypto's own static implementation handle. A fetched one would be a
 * little faster, but nothing could free it: in a plugin it would leak at every unload. */
static const EVP_MD *sha256(void)
{
	return EVP_sha256();
}

/* A hash is never allowed to come out wrong: libcrypto failing here (out of memory) is
 * fatal, and the two public hash functions have no error return to carry it. */
static void hash_failed(void)
{
	fputs("mtree: libcrypto failed to compute SHA-256 (out of memory?)\n", stderr);
	abort();
}

static void sha256_oneshot(const void *data, size_t len, uint8_t out[MTREE_HASH_LEN])
{
	if (EVP_Digest(data, len, out, NULL, sha256(), NULL) != 1)
		hash_failed();
}

void mtree_leaf_hash(const void *data, size_t len, uint8_t out[MTREE_HASH_LEN])
{
	static const uint8_t prefix = 0x00;
	uint8_t buf[1 + LEAF_INLINE];
	EVP_MD_CTX *ctx;

	if (len <= LEAF_INLINE) {
		buf[0] = prefix;
		if (len > 0)
			memcpy(buf + 1, data, len);
		sha256_oneshot(buf, 1 + len, out);
		return;
	}
	ctx = EVP_MD_CTX_new();
	if (ctx == NULL || EVP_DigestInit_ex2(ctx, sha256(), NULL) != 1 ||
	    EVP_DigestUpdate(ctx, &prefix, 1) != 1 || EVP_DigestUpdate(ctx, data, len) != 1 ||
	    EVP_DigestFinal_ex(ctx, out, NULL) != 1)
		hash_failed();
	EVP_MD_CTX_free(ctx);
}

void mtree_node_hash(const uint8_t left[MTREE_HASH_LEN], const uint8_t right[MTREE_HASH_LEN],
		     uint8_t out[MTREE_HASH_LEN])
{
	uint8_t buf[1 + 2 * MTREE_HASH_LEN];

	buf[0] = 0x01;
	memcpy(buf + 1, left, MTREE_HASH_LEN);
	memcpy(buf + 1 + MTREE_HASH_LEN, right, MTREE_HASH_LEN);
	sha256_oneshot(buf, sizeof(buf), out);
}

static int hash_equal(const uint8_t a[MTREE_HASH_LEN], const uint8_t b[MTREE_HASH_LEN])
{
	return CRYPTO_memcmp(a, b, MTREE_HASH_LEN) == 0;
}

/* Entry J of level L, which must hold it (J >= L->first). */
static uint8_t *entry(const struct mtree_level *l, uint64_t j)
{
	return l->hash[j - l->first];
}

/* ---- level files ---- */

/* WHY gets "DIR/level-KK: WHAT: error". */
static void level_say(char *why, size_t why_size, const struct mtree *t, int k,
		      const char *what, int err)
{
	if (why != NULL && why_size > 0)
		snprintf(why, why_size, "%s/level-%02d: %s: %s", t->dir, k, what,
			 strerror(err));
}

static int level_reserve(struct mtree_level *l, uint64_t n)
{
	uint64_t cap = l->cap != 0 ? l->cap : LEVEL_MIN_CAP;
	void *p;

	if (n <= l->cap)
		return 0;
	while (cap < n)
		cap *= 2;
	if (cap > SIZE_MAX / MTREE_HASH_LEN)
		return -ENOMEM;
	p = realloc(l->hash, (size_t)cap * MTREE_HASH_LEN);
	if (p == NULL)
		return -ENOMEM;
	l->hash = p;
	l->cap = cap;
	return 0;
}

/* Opens DIR/level-K, an existing file, or a new one when CREATE is set (a level's file is
 * created only when open found none). 0, -ENOENT (absent, !CREATE) or -errno with WHY (may
 * be NULL). */
static int level_file_open(struct mtree *t, int k, int create, char *why, size_t why_size)
{
	char name[24]; /* "level-KK" for any int K */
	int fd;

	snprintf(name, sizeof(name), "level-%02d", k);
	fd = statedir_openat(&t->folder, name, O_RDWR | (create ? O_CREAT | O_EXCL : 0), 0600,
			     why, why_size);
	if (fd < 0)
		return fd;
	t->level[k].fd = fd;
	return 0;
}

static int write_at(int fd, const void *buf, size_t len, uint64_t offset)
{
	const uint8_t *p = buf;

	while (len > 0) {
		ssize_t n = pwrite(fd, p, len, (off_t)offset);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO;
		p += n;
		len -= (size_t)n;
		offset += (uint64_t)n;
	}
	return 0;
}

static int read_at(int fd, void *buf, size_t len, uint64_t offset)
{
	uint8_t *p = buf;

	while (len > 0) {
		ssize_t n = pread(fd, p, len, (off_t)offset);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO; /* shorter than fstat said: someone else writes here */
		p += n;
		len -= (size_t)n;
		offset += (uint64_t)n;
	}
	return 0;
}

/* Stores HASH as entry l->len of level K's file (created on first use). The memory copy
 * is the caller's. */
static int level_file_write(struct mtree *t, int k, const uint8_t hash[MTREE_HASH_LEN])
{
	struct mtree_level *l = &t->level[k];
	int err;

	if (t->dir == NULL)
		return 0;
	if (l->fd < 0) {
		err = level_file_open(t, k, 1, NULL, 0);
		if (err != 0)
			return err;
	}
	l->dirty = 1;
	return write_at(l->fd, hash, MTREE_HASH_LEN, l->len * MTREE_HASH_LEN);
}

static int level_file_cut(struct mtree *t, int k, uint64_t len)
{
	if (t->level[k].fd >= 0 &&
	    ftruncate(t->level[k].fd, (off_t)(len * MTREE_HASH_LEN)) != 0)
		return -errno;
	return 0;
}

/* ---- open: restore the levels from their files ---- */

/* Reads up to WANT whole entries of level K's file into memory and cuts the file to what
 * was read: a torn tail and entries beyond WANT go. */
static int level_load(struct mtree *t, int k, uint64_t want, char *why, size_t why_size)
{
	struct mtree_level *l = &t->level[k];
	uint64_t have;
	struct stat st;
	int err;

	err = level_file_open(t, k, 0, why, why_size);
	if (err == -ENOENT) {
		if (why != NULL && why_size > 0)
			why[0] = '\0';
		return 0;
	}
	if (err != 0)
		return err;
	if (fstat(l->fd, &st) != 0) {
		err = -errno;
		level_say(why, why_size, t, k, "fstat", -err);
		return err;
	}
	have = (uint64_t)st.st_size / MTREE_HASH_LEN;
	if (have > want)
		have = want;
	err = level_reserve(l, have);
	if (err != 0) {
		level_say(why, why_size, t, k, "allocating its hashes", -err);
		return err;
	}
	err = read_at(l->fd, l->hash, (size_t)(have * MTREE_HASH_LEN), 0);
	if (err != 0) {
		level_say(why, why_size, t, k, "read", -err);
		return err;
	}
	l->len = have;
	if ((uint64_t)st.st_size != have * MTREE_HASH_LEN) {
		err = level_file_cut(t, k, have);
		if (err != 0) {
			level_say(why, why_size, t, k, "cutting entries a crash left", -err);
			return err;
		}
	}
	return 0;
}

/* Recomputes the entries of level K (>= 1) a crash left unwritten, from level K - 1. */
static int level_complete(struct mtree *t, int k, uint64_t want, char *why, size_t why_size)
{
	struct mtree_level *l = &t->level[k];
	const struct mtree_level *below = &t->level[k - 1];
	int err = level_reserve(l, want);

	if (err != 0) {
		level_say(why, why_size, t, k, "allocating its hashes", -err);
		return err;
	}
	while (l->len < want) {
		uint8_t h[MTREE_HASH_LEN];

		mtree_node_hash(below->hash[2 * l->len], below->hash[2 * l->len + 1], h);
		err = level_file_write(t, k, h);
		if (err != 0) {
			level_say(why, why_size, t, k, "writing a recomputed hash", -err);
			return err;
		}
		memcpy(l->hash[l->len], h, MTREE_HASH_LEN);
		l->len++;
	}
	return 0;
}

static int tree_restore(struct mtree *t, char *why, size_t why_size)
{
	uint64_t leaves;
	int err;

	err = statedir_open(&t->folder, t->dir, STATEDIR_CREATE, why, why_size);
	if (err != 0)
		return err;
	/* Level 0 says how many leaves there are; every other level follows from it. */
	err = level_load(t, 0, SIZE_MAX_TREE, why, why_size);
	if (err != 0)
		return err;
	leaves = t->level[0].len;
	for (int k = 1; k < LEVELS; k++) {
		err = level_load(t, k, leaves >> k, why, why_size);
		if (err == 0)
			err = level_complete(t, k, leaves >> k, why, why_size);
		if (err != 0)
			return err;
	}
	t->size = leaves;
	return 0;
}

int mtree_open(const char *dir, struct mtree **out, char *why, size_t why_size)
{
	struct mtree *t;
	int err;

	if (why != NULL && why_size > 0)
		why[0] = '\0';
	t = calloc(1, sizeof(*t));
	if (t == NULL) {
		err = -ENOMEM;
		goto out_fail;
	}
	t->folder.fd = -1;
	for (int k = 0; k < LEVELS; k++)
		t->level[k].fd = -1;
	if (dir != NULL) {
		t->dir = strdup(dir);
		if (t->dir == NULL) {
			err = -ENOMEM;
			goto out_close;
		}
		err = tree_restore(t, why, why_size);
		if (err != 0)
			goto out_close;
	}
	*out = t;
	return 0;

out_close:
	mtree_close(t);
out_fail:
	if (err == -ENOMEM && why != NULL && why_size > 0 && why[0] == '\0')
		snprintf(why, why_size, "out of memory");
	return err;
}

void mtree_close(struct mtree *tree)
{
	if (tree == NULL)
		return;
	/* Nothing is buffered: every hash went to its file when it was added. */
	for (int k = 0; k < LEVELS; k++) {
		if (tree->level[k].fd >= 0)
			close(tree->level[k].fd);
		free(tree->level[k].hash);
	}
	statedir_close(&tree->folder);
	free(tree->dir);
	free(tree);
}

uint64_t mtree_size(const struct mtree *tree)
{
	return tree->size;
}

uint64_t mtree_base(const struct mtree *tree)
{
	return tree->base;
}

/* ---- compact ranges ---- */

void mtree_range_init(struct mtree_range *r)
{
	memset(r, 0, sizeof(*r));
}

void mtree_range_append(struct mtree_range *r, const uint8_t leaf[MTREE_HASH_LEN])
{
	uint8_t h[MTREE_HASH_LEN];

	/* The new leaf merges with the subtrees of the size's lowest set bits, smallest
	 * (last) first, as appending it to a tree completes them. */
	memcpy(h, leaf, MTREE_HASH_LEN);
	for (uint64_t size = r->size; size & 1; size >>= 1)
		mtree_node_hash(r->hash[--r->count], h, h);
	memcpy(r->hash[r->count++], h, MTREE_HASH_LEN);
	r->size++;
}

void mtree_range_root(const struct mtree_range *r, uint8_t out[MTREE_HASH_LEN])
{
	if (r->count == 0) {
		sha256_oneshot("", 0, out);
		return;
	}
	memcpy(out, r->hash[r->count - 1], MTREE_HASH_LEN);
	for (size_t i = r->count - 1; i-- > 0;)
		mtree_node_hash(r->hash[i], out, out);
}

int mtree_range_valid(const struct mtree_range *r)
{
	return r->size < SIZE_MAX_TREE && r->count == (size_t)__builtin_popcountll(r->size);
}

int mtree_open_range(const struct mtree_range *r, struct mtree **out)
{
	struct mtree *t;
	size_t next = 0;

	if (!mtree_range_valid(r))
		return -EINVAL;
	t = calloc(1, sizeof(*t));
	if (t == NULL)
		return -ENOMEM;
	t->folder.fd = -1;
	/* Level k holds, of the first SIZE leaves, only the compact range's subtree of 2^k
	 * leaves when bit k of SIZE is set: what later appends and proofs of later leaves
	 * need. The largest subtree comes first in R. */
	for (int k = LEVELS - 1; k >= 0; k--) {
		struct mtree_level *l = &t->level[k];
		uint64_t n = r->size >> k;

		l->fd = -1;
		l->len = n;
		l->first = n;
		if ((n & 1) == 0)
			continue;
		l->first = n - 1;
		if (level_reserve(l, 1) != 0) {
			mtree_close(t);
			return -ENOMEM;
		}
		memcpy(l->hash[0], r->hash[next++], MTREE_HASH_LEN);
	}
	t->size = t->base = r->size;
	*out = t;
	return 0;
}

/* ---- append, truncate ---- */

int mtree_append(struct mtree *tree, const uint8_t leaf_hash[MTREE_HASH_LEN])
{
	uint8_t add[LEVELS][MTREE_HASH_LEN];
	uint64_t index = tree->size;
	int top = 0, k, err;

	if (tree->poisoned != 0)
		return tree->poisoned;
	if (tree->size >= SIZE_MAX_TREE)
		return -EOVERFLOW;
	/* The new leaf completes the subtree of 2^k leaves ending with it at every level k
	 * up to the first where that subtree is a left child. */
	memcpy(add[0], leaf_hash, MTREE_HASH_LEN);
	while (index & 1) {
		mtree_node_hash(entry(&tree->level[top], index - 1), add[top], add[top + 1]);
		index >>= 1;
		top++;
	}
	for (k = 0; k <= top; k++) {
		err = level_reserve(&tree->level[k],
				    tree->level[k].len - tree->level[k].first + 1);
		if (err != 0)
			return err;
	}
	for (k = 0; k <= top; k++) {
		err = level_file_write(tree, k, add[k]);
		if (err != 0)
			goto out_undo;
	}
	for (k = 0; k <= top; k++) {
		memcpy(tree->level[k].hash[tree->level[k].len - tree->level[k].first], add[k],
		       MTREE_HASH_LEN);
		tree->level[k].len++;
	}
	tree->size++;
	return 0;

out_undo:
	/* Take back what reached the files (level K may hold part of its entry), so that no
	 * file holds a hash the tree does not. */
	for (int j = 0; j <= k; j++) {
		if (level_file_cut(tree, j, tree->level[j].len) != 0)
			tree->poisoned = err;
	}
	return err;
}

int mtree_truncate(struct mtree *tree, uint64_t size)
{
	int err;

	if (size > tree->size || size < tree->base)
		return -EINVAL;
	/* Level 0 first: it alone decides the size at the next open, so if it cannot be cut
	 * nothing changes. Every file is cut, also those already short enough, so that a
	 * successful truncation clears a poisoned tree. */
	err = level_file_cut(tree, 0, size);
	if (err != 0)
		return err;
	for (int k = 0; k < LEVELS; k++) {
		if (tree->level[k].len > size >> k)
			tree->level[k].len = size >> k;
		if (tree->level[k].len < tree->level[k].first) /* below a compact range's */
			tree->level[k].len = tree->level[k].first;
	}
	tree->size = size;
	for (int k = 1; k < LEVELS; k++) {
		int e = level_file_cut(tree, k, tree->level[k].len);

		if (e != 0 && err == 0)
			err = e;
	}
	tree->poisoned = err;
	return err;
}

int mtree_sync(struct mtree *tree)
{
	int err = 0;

	for (int k = 0; k < LEVELS; k++) {
		struct mtree_level *l = &tree->level[k];

		if (l->fd < 0 || !l->dirty)
			continue;
		if (fdatasync(l->fd) != 0) {
			if (err == 0)
				err = -errno;
			continue;
		}
		l->dirty = 0;
	}
	if (err == 0 && tree->folder.fd >= 0 && fsync(tree->folder.fd) != 0)
		err = -errno; /* a level file created since: its name too */
	return err;
}

/* Replaces entry J of level K with HASH, in memory and in its file. */
static int level_entry_fix(struct mtree *t, int k, uint64_t j,
			   const uint8_t hash[MTREE_HASH_LEN])
{
	struct mtree_level *l = &t->level[k];
	int err;

	if (t->dir != NULL) {
		if (l->fd < 0)
			return -EIO; /* cannot be: the entry was read from it */
		err = write_at(l->fd, hash, MTREE_HASH_LEN, j * MTREE_HASH_LEN);
		if (err != 0)
			return err;
		l->dirty = 1;
	}
	memcpy(l->hash[j], hash, MTREE_HASH_LEN);
	return 0;
}

int mtree_recheck(struct mtree *tree, uint64_t from, const uint8_t (*leaves)[MTREE_HASH_LEN],
		  uint64_t count, uint64_t *repaired)
{
	uint8_t h[MTREE_HASH_LEN];
	int err;

	*repaired = 0;
	if (from > tree->size || count != tree->size - from)
		return -EINVAL;
	for (uint64_t i = 0; i < count; i++) {
		if (hash_equal(tree->level[0].hash[from + i], leaves[i]))
			continue;
		err = level_entry_fix(tree, 0, from + i, leaves[i]);
		if (err != 0)
			return err;
		(*repaired)++;
	}
	/* Level by level upwards, every entry whose subtree holds a leaf from FROM on, from
	 * the level below (already checked where it covers such leaves). */
	for (int k = 1; k < LEVELS && (tree->size >> k) > 0; k++) {
		const struct mtree_level *below = &tree->level[k - 1];

		for (uint64_t j = from >> k; j < tree->level[k].len; j++) {
			mtree_node_hash(below->hash[2 * j], below->hash[2 * j + 1], h);
			if (hash_equal(tree->level[k].hash[j], h))
				continue;
			err = level_entry_fix(tree, k, j, h);
			if (err != 0)
				return err;
			(*repaired)++;
		}
	}
	return 0;
}

int mtree_leaf(const struct mtree *tree, uint64_t index, uint8_t out[MTREE_HASH_LEN])
{
	if (index >= tree->size || index < tree->base)
		return -ERANGE;
	memcpy(out, entry(&tree->level[0], index), MTREE_HASH_LEN);
	return 0;
}

/* ---- roots and proofs ---- */

/* The largest power of two strictly below N (N >= 2): where RFC 6962 splits D[n]. */
static uint64_t split_point(uint64_t n)
{
	return UINT64_C(1) << (63 - __builtin_clzll(n - 1));
}

/* MTH(D[start:start+len]) for LEN >= 1 and START a multiple of the smallest power of two
 * >= LEN, as every range of the RFC's recursion is. D[start:start+len] is the run of
 * complete subtrees of LEN's set bits, largest first; the recursion nests them to the
 * right, so they are folded from the smallest (rightmost) one. */
static int range_hash(const struct mtree *t, uint64_t start, uint64_t len,
		      uint8_t out[MTREE_HASH_LEN])
{
	uint64_t end = start + len;
	int first = 1;

	for (int k = 0; k < LEVELS && (len >> k) != 0; k++) {
		if (((len >> k) & 1) == 0)
			continue;
		end -= UINT64_C(1) << k;
		/* A subtree inside a compact range, not one of its own: not held. */
		if ((end >> k) < t->level[k].first)
			return -ERANGE;
		if (first)
			memcpy(out, entry(&t->level[k], end >> k), MTREE_HASH_LEN);
		else
			mtree_node_hash(entry(&t->level[k], end >> k), out, out);
		first = 0;
	}
	return 0;
}

int mtree_root(const struct mtree *tree, uint64_t size, uint8_t out[MTREE_HASH_LEN])
{
	if (size > tree->size || size < tree->base)
		return -ERANGE;
	if (size == 0)
		sha256_oneshot("", 0, out);
	else if (range_hash(tree, 0, size, out) != 0)
		return -ERANGE;
	return 0;
}

/* PATH and SUBPROOF yield their nodes root-first; proofs list them leaf-first. */
static int proof_out(uint8_t (*nodes)[MTREE_HASH_LEN], size_t n, uint8_t (*out)[MTREE_HASH_LEN],
		     size_t cap, size_t *count)
{
	*count = n;
	if (n > cap)
		return -ENOSPC;
	for (size_t i = 0; i < n; i++)
		memcpy(out[i], nodes[n - 1 - i], MTREE_HASH_LEN);
	return 0;
}

int mtree_inclusion_proof(const struct mtree *tree, uint64_t index, uint64_t size,
			  uint8_t (*out)[MTREE_HASH_LEN], size_t cap, size_t *count)
{
	uint8_t nodes[MTREE_PROOF_MAX][MTREE_HASH_LEN];
	uint64_t start = 0, len = size, m = index;
	size_t n = 0;

	*count = 0;
	if (size > tree->size || index >= size || index < tree->base)
		return -ERANGE;
	/* PATH(m, D[start:start+len]) (RFC 9162 2.1.3.1), unrolled from the top. Once the
	 * leaf is in a left part, LEN is a power of two and every later node a lookup. */
	while (len > 1) {
		uint64_t k = split_point(len);
		int err;

		if (m < k) {
			err = range_hash(tree, start + k, len - k, nodes[n++]);
			len = k;
		} else {
			err = range_hash(tree, start, k, nodes[n++]);
			start += k;
			m -= k;
			len -= k;
		}
		if (err != 0)
			return err;
	}
	return proof_out(nodes, n, out, cap, count);
}

int mtree_consistency_proof(const struct mtree *tree, uint64_t old_size, uint64_t new_size,
			    uint8_t (*out)[MTREE_HASH_LEN], size_t cap, size_t *count)
{
	uint8_t nodes[MTREE_PROOF_MAX][MTREE_HASH_LEN];
	uint64_t start = 0, len = new_size, m = old_size;
	int whole = 1; /* b of SUBPROOF: D[start:start+m] is the whole old tree */
	size_t n = 0;

	*count = 0;
	if (old_size > new_size || new_size > tree->size ||
	    (old_size != 0 && old_size < tree->base))
		return -ERANGE;
	if (old_size == 0 || old_size == new_size)
		return 0;
	/* SUBPROOF(m, D[start:start+len], whole) (RFC 9162 2.1.4.1), unrolled. */
	while (m != len) {
		uint64_t k = split_point(len);
		int err;

		if (m <= k) {
			err = range_hash(tree, start + k, len - k, nodes[n++]);
			len = k;
		} else {
			err = range_hash(tree, start, k, nodes[n++]);
			start += k;
			m -= k;
			len -= k;
			whole = 0;
		}
		if (err != 0)
			return err;
	}
	if (!whole && range_hash(tree, start, len, nodes[n++]) != 0)
		return -ERANGE;
	return proof_out(nodes, n, out, cap, count);
}

/* ---- verification (RFC 9162 sections 2.1.3.2 and 2.1.4.2) ---- */

int mtree_verify_inclusion(uint64_t index, uint64_t size,
			   const uint8_t leaf_hash[MTREE_HASH_LEN],
			   const uint8_t (*proof)[MTREE_HASH_LEN], size_t count,
			   const uint8_t root[MTREE_HASH_LEN])
{
	uint8_t r[MTREE_HASH_LEN];
	uint64_t fn, sn;

	if (index >= size)
		return 0;
	fn = index;
	sn = size - 1;
	memcpy(r, leaf_hash, MTREE_HASH_LEN);
	for (size_t i = 0; i < count; i++) {
		if (sn == 0)
			return 0;
		if ((fn & 1) != 0 || fn == sn) {
			mtree_node_hash(proof[i], r, r);
			while ((fn & 1) == 0 && fn != 0) {
				fn >>= 1;
				sn >>= 1;
			}
		} else {
			mtree_node_hash(r, proof[i], r);
		}
		fn >>= 1;
		sn >>= 1;
	}
	return sn == 0 && hash_equal(r, root);
}

int mtree_verify_consistency(uint64_t old_size, uint64_t new_size,
			     const uint8_t old_root[MTREE_HASH_LEN],
			     const uint8_t new_root[MTREE_HASH_LEN],
			     const uint8_t (*proof)[MTREE_HASH_LEN], size_t count)
{
	uint8_t fr[MTREE_HASH_LEN], sr[MTREE_HASH_LEN], empty[MTREE_HASH_LEN];
	uint64_t fn, sn;
	size_t i;

	if (old_size > new_size)
		return 0;
	if (old_size == new_size)
		return count == 0 && hash_equal(old_root, new_root);
	if (old_size == 0) {
		/* Every tree extends the empty one, whose root is SHA-256(""). */
		sha256_oneshot("", 0, empty);
		return count == 0 && hash_equal(old_root, empty);
	}
	if (count == 0)
		return 0;
	/* Step 2 prepends old_root when old_size is a power of two: start from it then
	 * instead of from proof[0]. */
	if ((old_size & (old_size - 1)) == 0) {
		memcpy(fr, old_root, MTREE_HASH_LEN);
		i = 0;
	} else {
		memcpy(fr, proof[0], MTREE_HASH_LEN);
		i = 1;
	}
	memcpy(sr, fr, MTREE_HASH_LEN);
	fn = old_size - 1;
	sn = new_size - 1;
	while ((fn & 1) != 0) {
		fn >>= 1;
		sn >>= 1;
	}
	for (; i < count; i++) {
		if (sn == 0)
			return 0;
		if ((fn & 1) != 0 || fn == sn) {
			mtree_node_hash(proof[i], fr, fr);
			mtree_node_hash(proof[i], sr, sr);
			while ((fn & 1) == 0 && fn != 0) {
				fn >>= 1;
				sn >>= 1;
			}
		} else {
			mtree_node_hash(sr, proof[i], sr);
		}
		fn >>= 1;
		sn >>= 1;
	}
	return sn == 0 && hash_equal(fr, old_root) && hash_equal(sr, new_root);
}
