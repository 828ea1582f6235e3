/* vaultlog.h -- the vault's storage: an append-only, hash-chained log of binary records in
 * segment files, with fsync on request, rotation by size and age, optional AES-256-GCM
 * sealing of payloads, crash recovery and full offline verification.
 *
 * Files under the vault directory:
 *   segment-NNNNNNNNNNNN.qv   segments 1, 2, ... (12 decimal digits), consecutive. Each is a
 *                             104-byte header then records; a new segment is written under a
 *                             temporary name with its first record, fsynced and renamed, so a
 *                             segment file is never empty or half-created.
 *   vault.state               the last checkpoint: position and hash of a durable record the
 *                             chain was verified up to (written atomically by
 *                             vault_mark_checkpoint); recovery verifies from there.
 *   vault.anchor              once retention removed the oldest segments (vault_retain): the
 *                             first segment and record kept, the hash the chain continues
 *                             from, and what the Merkle tree needs of the removed records
 *                             (format in vaultlog.c).
 *
 * Segment header (little-endian):
 *    0 u8[8]  magic "QVAULT1\n"
 *    8 u64    segment number (1-based; equals the file name's)
 *   16 u64    index of the segment's first record
 *   24 u8[32] hash of the previous segment's last record (zeros for segment 1)
 *   56 i64    created, CLOCK_REALTIME ns (rotation by age)
 *   64 u32    flags: bit 0, payloads are sealed
 *   68 u32    reserved, 0
 *   72 u8[32] SHA-256("quorum-vault-segment-v1\0" || bytes 0..71)
 * Record (little-endian):
 *    0 u32    length: the whole record, this field and the hash included (>= 88)
 *    4 u16    type (VAULT_RECORD_*, or the caller's own)
 *    6 u16    flags: bit 0, payload sealed = nonce[12] || ciphertext || tag[16], with bytes
 *             0..55 as additional data; a fresh random nonce per record
 *    8 u64    index: the record's position in the whole log, 0-based, consecutive
 *   16 i64    timestamp, CLOCK_REALTIME ns at append
 *   24 u8[32] the previous record's hash (zeros before record 0)
 *   56 u8[]   payload (length - 88 bytes)
 *  L-32 u8[32] hash = SHA-256("quorum-vault-record-v1\0" || bytes 0..L-33)
 * Record 0 has type VAULT_RECORD_BOOT; every later segment starts with VAULT_RECORD_ROTATE.
 * After retention the log starts at the anchor's segment: its header's first index and
 * previous hash must be the anchor's, and the segments are numbered on from it.
 *
 * Recovery at open: segment headers are checked (magic, hash, number, first index and
 * previous hash against the previous segment's end); records are verified (length, index,
 * previous hash, hash) from the last checkpoint to the end, or from record 0 when there is
 * none or the options ask for a full verification. Each segment before the checkpoint's
 * has its last record found from the file's end and checked (index, hash) against the
 * next segment's header: the chain links across every file. What lies inside those older
 * segments is checked in the background (vault_verifier_step). A torn tail -- the last segment
 * ending inside a record (fewer bytes than its length says, or a zero length) -- is truncated
 * and logged. Any other failure is corruption: the open fails, naming the segment file, the
 * byte offset and what failed; nothing is changed on disk.
 * Not thread-safe; one writer per directory (the open takes an exclusive flock). */
#ifndef QUORUM_VAULTLOG_H
#define QUORUM_VAULTLOG_H

#include <stddef.h>
#include <stdint.h>

#define VAULT_HASH_LEN	     32
#define VAULT_KEY_LEN	     32		/* AES-256-GCM */
#define VAULT_RECORD_HEADER  56		/* bytes before the payload */
#define VAULT_RECORD_MIN     88		/* header + hash, empty payload */
#define VAULT_PAYLOAD_MAX    (1u << 20) /* plaintext bytes */
#define VAULT_SEGMENT_HEADER 104

/* Record types written by the log itself; callers use their own values from 16 up. */
#define VAULT_RECORD_BOOT 1 /* record 0: payload "vault.initial_boot" text */
#define VAULT_RECORD_ROTATE                                                                    \
	2 /* first record of each later segment: "vault.rotate_boundary"                       \
	   */

#define VAULT_FLAG_SEALED 0x0001

/* Log callback: LEVEL is a syslog level (3 error .. 7 debug), MSG one line of key=value
 * fields, e.g. "vault.recover.torn_tail segment=segment-000000000003.qv offset=1234 bytes=17".
 */
typedef void (*vault_log_fn)(void *arg, int level, const char *msg);

struct vault_options {
	const char *dir;	    /* created (0700) when missing, unless read_only */
	uint64_t segment_max_bytes; /* rotate before a segment grows past this; 0: 10 MiB */
	int64_t segment_max_age_ns; /* rotate when the segment is older; 0: 86400 s */
	const uint8_t *key;	    /* VAULT_KEY_LEN bytes to seal payloads, or NULL */
	const char *boot_text;	    /* payload of the boot record; NULL: "vault.initial_boot" */
	int read_only;		    /* open for reading and verifying: no repair, no writes */
	int full_verify;	    /* verify every record, ignoring vault.state */
	vault_log_fn log;	    /* may be NULL */
	void *log_arg;
};

/* One record as read or appended. Pointers are borrowed: valid until the next call on the
 * vault (or until the iterate callback returns). */
struct vault_record {
	uint64_t index;
	uint16_t type;
	uint16_t flags;
	int64_t timestamp_ns;
	const uint8_t *prev_hash; /* VAULT_HASH_LEN bytes */
	const uint8_t *hash;	  /* VAULT_HASH_LEN bytes */
	const uint8_t *payload;	  /* plaintext, or the sealed bytes when sealed is set */
	size_t payload_len;
	int sealed;	    /* payload is sealed and the vault has no key */
	const uint8_t *raw; /* the stored bytes of the whole record (the Merkle leaf data) */
	size_t raw_len;
	uint64_t segment; /* segment number */
	uint64_t offset;  /* byte offset of the record in its segment file */
};

struct vault;

/*
 * vault_open: opens (or creates) the vault in OPT->dir and recovers it as described above.
 * WHY (WHY_SIZE bytes) gets the reason of a failure, e.g.
 * "segment-000000000002.qv offset 8192: record 1041 hash mismatch".
 * RETURN VALUE: 0 with *OUT (new: vault_close); -EBADMSG corruption; -ENOKEY sealed records
 * and no key, or the key does not open them; -EWOULDBLOCK another process has the vault
 * open; other -errno for I/O errors.
 */
int vault_open(const struct vault_options *opt, struct vault **out, char *why, size_t why_size);

/* vault_close: syncs (unless read-only) and frees; NULL is a no-op. */
void vault_close(struct vault *vault);

/* vault_count: records in the log (the next record's index).
 * vault_durable: records known to be on stable storage (fsynced). */
uint64_t vault_count(const struct vault *vault);
uint64_t vault_durable(const struct vault *vault);

/* vault_last_hash: the hash of the last record. */
const uint8_t *vault_last_hash(const struct vault *vault);

/*
 * vault_append: appends one record of TYPE with PAYLOAD (LEN <= VAULT_PAYLOAD_MAX bytes,
 * sealed when the vault has a key), rotating first when the segment is full or old. The
 * record is held in the write-behind buffer and written, with every record appended since,
 * by one write(2) at the next vault_sync (or vault_iterate, or rotation): a group commit
 * costs one write and one fdatasync. It counts as durable after vault_sync; a crash before
 * it loses it.
 * *REC (may be NULL) describes the appended record. RETURN VALUE: 0, -EINVAL, -EROFS
 * (read-only), or -errno (nothing was appended). A write that fails at the flush is cut
 * back and poisons the handle (vault_sync returns its error from then on).
 */
int vault_append(struct vault *vault, uint16_t type, const void *payload, size_t len,
		 struct vault_record *rec);

/* vault_sync: makes every appended record durable (fdatasync). RETURN VALUE: 0 or -errno. */
int vault_sync(struct vault *vault);

/*
 * vault_iterate: calls CB for each record with index in [FROM, TO) (TO clamped to
 * vault_count), in order, each read back from its segment and checked against its hash.
 * CB returns 0 to go on, anything else to stop (returned).
 * RETURN VALUE: 0, CB's value, -ERANGE (FROM > count, or FROM before vault_first and the
 * range not empty), -EBADMSG (a record failed its
 * check; WHY says where), -errno.
 */
int vault_iterate(struct vault *vault, uint64_t from, uint64_t to,
		  int (*cb)(void *arg, const struct vault_record *rec), void *arg, char *why,
		  size_t why_size);

/* vault_mark_checkpoint: records that the chain is verified up to and including record
 * INDEX (which must be durable), so the next open verifies from there. Written atomically.
 * RETURN VALUE: 0, -ERANGE (not durable), -errno. */
int vault_mark_checkpoint(struct vault *vault, uint64_t index);

/* vault_segment_count: the number of segment files. */
uint64_t vault_segment_count(const struct vault *vault);

/*
 * The background verification of the whole log, a step at a time (the caller bounds the
 * rate): every durable record from the first is read back with its own file handle and
 * buffer and checked (segment headers, length, index, previous hash, hash, the bytes
 * between records); at the end of the durable records a pass is complete and the next
 * starts over. vault_verifier_new: a verifier for VAULT (new: vault_verifier_free; 0 or
 * -ENOMEM). vault_verifier_step: verifies up to MAX more records.
 * RETURN VALUE: the records verified (>= 0); -EBADMSG corruption (WHY names the segment
 * file, the offset and what failed), -errno. vault_verifier_progress: the next record to
 * verify and the complete passes.
 */
struct vault_verifier;
int vault_verifier_new(struct vault *vault, struct vault_verifier **out);
int vault_verifier_step(struct vault *vault, struct vault_verifier *verifier, uint64_t max,
			char *why, size_t why_size);
void vault_verifier_progress(const struct vault_verifier *verifier, uint64_t *next,
			     uint64_t *passes);
void vault_verifier_free(struct vault_verifier *verifier);

/* One segment of the log, for retention. */
struct vault_segment_info {
	uint64_t number;
	uint64_t first_index;
	uint64_t count; /* records */
	uint64_t bytes; /* header included */
	int64_t created_ns;
};

/* vault_segment_info: segment I (0: the first kept) into *OUT. 0 or -ERANGE. */
int vault_segment_info(const struct vault *vault, size_t i, struct vault_segment_info *out);

/*
 * What retention removed: the records before FIRST_INDEX, and what a Merkle tree over the
 * log needs of them (audit/mtree.h): the compact range of its first TREE_BASE leaves and
 * the leaf hashes of the records from TREE_BASE to FIRST_INDEX (TREE_BASE is at most
 * FIRST_INDEX: the size of a signed checkpoint the kept log holds, so that every kept
 * checkpoint can be checked).
 */
struct vault_anchor {
	uint64_t segment;		   /* the first segment kept */
	uint64_t first_index;		   /* its first record */
	uint8_t prev_hash[VAULT_HASH_LEN]; /* the hash of the record before it */
	uint64_t tree_base;
	size_t range_count; /* popcount(tree_base) */
	uint8_t range[64][VAULT_HASH_LEN];
	size_t leaf_count; /* first_index - tree_base, at most 65536 */
	uint8_t (*leaves)[VAULT_HASH_LEN];
};

/* vault_anchor: what retention removed (borrowed, valid until the next vault_retain), or
 * NULL when the log still starts at record 0. vault_first: the first record kept (0 without
 * an anchor); vault_iterate refuses a range that starts before it. */
const struct vault_anchor *vault_anchor(const struct vault *vault);
uint64_t vault_first(const struct vault *vault);

/*
 * vault_retain: removes the segments before NEXT->segment (which becomes the first; the last
 * segment and the one vault.state names always stay), or moves them into ARCHIVE_DIR (a
 * folder on the same file system, created 0700 when missing; NULL: removed). NEXT gives the
 * tree base, its compact range and the leaf hashes from it to the new first record (whose
 * index and previous hash the log fills in). vault.anchor is replaced first, then the files
 * go: a crash in between leaves files the next open ignores and the next retention removes.
 * RETURN VALUE: 0; -ERANGE (that segment cannot start the log; WHY says why), -EINVAL (the
 * counts do not fit the new first record), -EROFS, or -errno (WHY says what failed; when
 * the anchor was written the log starts at NEXT->segment all the same).
 */
int vault_retain(struct vault *vault, const struct vault_anchor *next, const char *archive_dir,
		 char *why, size_t why_size);

/* vault_load_key: reads a 32-byte key from PATH: 32 raw bytes, or 64 hex digits and an
 * optional newline. The file must be a regular file not readable by group or others.
 * RETURN VALUE: 0, -EINVAL (bad content, WHY says), -EPERM (permissions), -errno. */
int vault_load_key(const char *path, uint8_t key[VAULT_KEY_LEN], char *why, size_t why_size);

#endif /* QUORUM_VAULTLOG_H */
