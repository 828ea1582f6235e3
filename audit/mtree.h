/* mtree.h -- an RFC 6962 / RFC 9162 Merkle tree over a log's records: leaf and node hashing,
 * incremental appends, inclusion and consistency proofs, and their verification.
 *
 * The tree keeps every complete subtree hash: level k holds the hashes of the subtrees of
 * 2^k leaves (level 0 is the leaf hashes), so a root or a proof for any size costs
 * O(log n) lookups and no rehashing. With a directory, level k lives in the append-only file
 * DIR/level-KK (32 bytes per hash); they are derived data (the log can rebuild them), written
 * without fsync until mtree_sync, and restored at open without rehashing the log
 * (mtree_recheck compares them with leaves recomputed from the log and repairs them).
 *
 * Hashes are SHA-256: leaf = H(0x00 || data), node = H(0x01 || left || right), and the
 * root of the empty tree is H(""). Proofs are arrays of 32-byte hashes in RFC 9162 order.
 * Not thread-safe; one writer. */
#ifndef QUORUM_MTREE_H
#define QUORUM_MTREE_H

#include <stddef.h>
#include <stdint.h>

#define MTREE_HASH_LEN 32
/* The longest proof for any size below 2^63. */
#define MTREE_PROOF_MAX 64

/* mtree_leaf_hash / mtree_node_hash: RFC 6962 section 2.1's two hash functions. Thread-safe.
 * They cannot fail short of libcrypto running out of memory, which aborts the process (a
 * wrong hash must never come out silently). */
void mtree_leaf_hash(const void *data, size_t len, uint8_t out[MTREE_HASH_LEN]);
void mtree_node_hash(const uint8_t left[MTREE_HASH_LEN], const uint8_t right[MTREE_HASH_LEN],
		     uint8_t out[MTREE_HASH_LEN]);

struct mtree;

/*
 * mtree_open: the tree stored under DIR (created when missing), or an in-memory tree when
 * DIR is NULL. Level files that a crash left inconsistent (a torn 32-byte entry, a level
 * longer or shorter than level 0 implies) are repaired: torn entries are dropped, missing
 * upper-level hashes recomputed from the level below. Level 0 alone decides the size, so
 * it may end up with leaves the log lost in the same crash (or lack some): the caller
 * compares mtree_size with its log and truncates or appends. WHY (WHY_SIZE bytes, may be
 * NULL) says what failed, naming the file. DIR (borrowed) is copied.
 * RETURN VALUE: 0 with *OUT (new: mtree_close), or -errno.
 */
int mtree_open(const char *dir, struct mtree **out, char *why, size_t why_size);

/* mtree_close: closes the level files (nothing is buffered) and frees; NULL is a no-op. */
void mtree_close(struct mtree *tree);

/* mtree_size: the number of leaves. */
uint64_t mtree_size(const struct mtree *tree);

/* mtree_base: the leaves before it are known only by their compact range (a tree from
 * mtree_open_range); 0 for any other tree. */
uint64_t mtree_base(const struct mtree *tree);

/*
 * The compact range of the first SIZE leaves of a log: the roots of the complete subtrees
 * they make up, one per set bit of SIZE, the largest first (the "left frontier"). It is all
 * a tree needs of leaves a log no longer keeps: the root of every later size, and the proofs
 * of every later leaf and from every later size.
 */
struct mtree_range {
	uint64_t size;
	size_t count;
	uint8_t hash[MTREE_PROOF_MAX][MTREE_HASH_LEN];
};

/* mtree_range_init: the compact range of no leaf. mtree_range_append: adds leaf LEAF_HASH
 * (mtree_leaf_hash of the record). mtree_range_root: the root of the first SIZE leaves. */
void mtree_range_init(struct mtree_range *r);
void mtree_range_append(struct mtree_range *r, const uint8_t leaf_hash[MTREE_HASH_LEN]);
void mtree_range_root(const struct mtree_range *r, uint8_t out[MTREE_HASH_LEN]);

/* mtree_range_valid: 1 when R has one hash per set bit of its size (one read from a file
 * must be checked with it), else 0. */
int mtree_range_valid(const struct mtree_range *r);

/*
 * mtree_open_range: an in-memory tree whose first R->size leaves are known only by their
 * compact range R (borrowed): leaves appended next take the indexes from R->size on. Its
 * roots of sizes >= R->size, inclusion proofs of leaves >= R->size and consistency proofs
 * from sizes >= R->size (or 0) are those of the whole log; anything that would need a leaf
 * or a subtree before R->size is -ERANGE (mtree_leaf, mtree_root, the proofs).
 * RETURN VALUE: 0 with *OUT (mtree_close), -EINVAL (R is not a valid compact range), or
 * -ENOMEM.
 */
int mtree_open_range(const struct mtree_range *r, struct mtree **out);

/* mtree_append: adds one leaf by its leaf hash (mtree_leaf_hash of the record), writing
 * the new level-0 hash and every upper-level hash it completes.
 * RETURN VALUE: 0, or -errno (a level file could not be written, or -ENOMEM; the tree is
 * unchanged). If the partial write could not be taken back either, the tree refuses
 * appends with that same error until a successful mtree_truncate or a reopen. */
int mtree_append(struct mtree *tree, const uint8_t leaf_hash[MTREE_HASH_LEN]);

/* mtree_truncate: drops the leaves from SIZE on (the log lost its torn tail), in memory
 * and in the level files (ftruncate).
 * RETURN VALUE: 0, -EINVAL (SIZE > mtree_size), or -errno: level 0's file could not be cut
 * (the tree is unchanged), or an upper level's could not (the tree has SIZE leaves but
 * refuses appends until a later mtree_truncate succeeds). */
int mtree_truncate(struct mtree *tree, uint64_t size);

/* mtree_sync: makes every hash written so far durable (fdatasync of each level file
 * written since the last call, fsync of the folder). RETURN VALUE: 0 or -errno. */
int mtree_sync(struct mtree *tree);

/*
 * mtree_recheck: compares every stored hash that covers a leaf from FROM on with what LEAVES
 * (COUNT = mtree_size - FROM leaf hashes, recomputed by the caller from its log) imply:
 * level 0's entries from FROM, then at each level every entry whose subtree holds one of
 * them, from the level below. Hashes of subtrees wholly before FROM are taken as they are.
 * A differing entry is repaired in memory and in its file; *REPAIRED counts them.
 * RETURN VALUE: 0, -EINVAL (COUNT does not match), -errno (a repair could not be written:
 * the tree is then not to be used).
 */
int mtree_recheck(struct mtree *tree, uint64_t from, const uint8_t (*leaves)[MTREE_HASH_LEN],
		  uint64_t count, uint64_t *repaired);

/* mtree_leaf: the leaf hash at INDEX. RETURN VALUE: 0 or -ERANGE. */
int mtree_leaf(const struct mtree *tree, uint64_t index, uint8_t out[MTREE_HASH_LEN]);

/* mtree_root: the root of the tree of the first SIZE leaves (the tree as it was at that
 * size). RETURN VALUE: 0 or -ERANGE (SIZE > mtree_size). */
int mtree_root(const struct mtree *tree, uint64_t size, uint8_t out[MTREE_HASH_LEN]);

/*
 * mtree_inclusion_proof: the audit path of leaf INDEX in the tree of the first SIZE leaves
 * (RFC 9162 section 2.1.3.1). Writes *COUNT hashes (at most MTREE_PROOF_MAX) to OUT, which
 * holds CAP hashes. RETURN VALUE: 0, -ERANGE (INDEX >= SIZE or SIZE > mtree_size; *COUNT is
 * 0), -ENOSPC (*COUNT is the number of hashes needed, nothing written).
 */
int mtree_inclusion_proof(const struct mtree *tree, uint64_t index, uint64_t size,
			  uint8_t (*out)[MTREE_HASH_LEN], size_t cap, size_t *count);

/*
 * mtree_consistency_proof: the proof that the tree of OLD_SIZE leaves is a prefix of the tree
 * of NEW_SIZE leaves (RFC 9162 section 2.1.4.1); empty when OLD_SIZE is 0 or equals
 * NEW_SIZE. RETURN VALUE: 0, -ERANGE (OLD_SIZE > NEW_SIZE or NEW_SIZE > mtree_size; *COUNT
 * is 0), -ENOSPC (*COUNT is the number of hashes needed, nothing written).
 */
int mtree_consistency_proof(const struct mtree *tree, uint64_t old_size, uint64_t new_size,
			    uint8_t (*out)[MTREE_HASH_LEN], size_t cap, size_t *count);

/* mtree_verify_inclusion: RFC 9162 section 2.1.3.2. 1 when PROOF (COUNT hashes) proves that
 * LEAF_HASH is leaf INDEX of the tree of SIZE leaves whose root is ROOT, else 0. */
int mtree_verify_inclusion(uint64_t index, uint64_t size,
			   const uint8_t leaf_hash[MTREE_HASH_LEN],
			   const uint8_t (*proof)[MTREE_HASH_LEN], size_t count,
			   const uint8_t root[MTREE_HASH_LEN]);

/* mtree_verify_consistency: RFC 9162 section 2.1.4.2. 1 when PROOF proves that OLD_ROOT (of
 * OLD_SIZE leaves) and NEW_ROOT (of NEW_SIZE leaves) are consistent, else 0. Equal sizes
 * need an empty proof and equal roots; OLD_SIZE 0 needs an empty proof and OLD_ROOT equal
 * to the empty tree's root, SHA-256(""). */
int mtree_verify_consistency(uint64_t old_size, uint64_t new_size,
			     const uint8_t old_root[MTREE_HASH_LEN],
			     const uint8_t new_root[MTREE_HASH_LEN],
			     const uint8_t (*proof)[MTREE_HASH_LEN], size_t count);

#endif /* QUORUM_MTREE_H */
