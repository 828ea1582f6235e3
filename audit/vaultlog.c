/* vaultlog.c -- the vault's storage: hash-chained records in segment files, their rotation,
 * sealing, crash recovery and verification (formats and contract in vaultlog.h).
 *
 * vault.state, the checkpoint (96 bytes, little-endian, replaced atomically):
 *    0 u8[8]  magic "QVSTATE1"
 *    8 u64    segment number of the checkpointed record
 *   16 u64    byte offset of that record in its segment file
 *   24 u64    index of that record
 *   32 u8[32] that record's hash
 *   64 u8[32] SHA-256("quorum-vault-state-v1\0" || bytes 0..63)
 *
 * Bounds: the append buffer holds one segment header and one record (at most
 * RECORD_MAX + VAULT_SEGMENT_HEADER bytes); the read buffer holds max(READ_CHUNK,
 * RECORD_MAX) bytes; the plaintext buffer VAULT_PAYLOAD_MAX bytes; the segment table one
 * entry (~100 bytes) per segment file, whose numbers have 12 digits. At most one segment
 * file descriptor is kept open (the writer's last segment).
 *
 * vault.anchor, what retention removed (present once segments were removed; replaced
 * atomically before any segment goes), little-endian:
 *    0 u8[8]  magic "QVANCHR1"
 *    8 u64    the first segment kept
 *   16 u64    the first record kept (every record before it was removed)
 *   24 u8[32] the hash of the record before it (the first kept segment's previous hash)
 *   56 u64    tree base B (<= the first record kept)
 *   64 u32    R, the compact range's hashes (popcount(B)); 68 u32 L (first record - B)
 *   72 u8[32 * R] the compact range of the first B Merkle leaves, largest subtree first,
 *      then u8[32 * L] the leaf hashes of records B .. first - 1
 *   .. u8[32] SHA-256("quorum-vault-anchor-v1\0" || everything before)
 * Segment files numbered below the first kept one that are still there (a crash between
 * the anchor's replacement and their removal) are not part of the log; the next retention
 * removes them.
 *
 * Failure policy: a failed fdatasync/fsync of a segment or of the directory poisons the
 * handle (every later write returns the same error): after such a failure Linux may have
 * dropped the dirty pages, so a retry could report success for data that is gone. The
 * caller closes and reopens, and recovery reads what really is on disk. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "statedir.h"
#include "vaultlog.h"
#include "clocks.h"
#include "hex.h"
#include "byteorder.h"

#define SEGMENT_MAGIC	     "QVAULT1\n"
#define SEGMENT_DOMAIN	     "quorum-vault-segment-v1" /* hashed with its NUL */
#define RECORD_DOMAIN	     "quorum-vault-record-v1"
#define STATE_DOMAIN	     "quorum-vault-state-v1"
#define ANCHOR_DOMAIN	     "quorum-vault-anchor-v1"
#define ANCHOR_MAGIC	     "QVANCHR1"
#define ANCHOR_NAME	     "vault.anchor"
#define ANCHOR_TMP_NAME	     "vault.anchor.tmp"
#define ANCHOR_HEAD	     72
#define ANCHOR_LEAVES_MAX    65536u
#define STATE_MAGIC	     "QVSTATE1"
#define STATE_NAME	     "vault.state"
#define STATE_TMP_NAME	     "vault.state.tmp"
#define LOCK_NAME	     ".lock"
#define STATE_SIZE	     96
#define SEGMENT_HASHED	     72 /* header bytes covered by the header hash */
#define SEGMENT_SEALED	     0x0001u
#define SEAL_NONCE	     12
#define SEAL_TAG	     16
#define SEAL_OVERHEAD	     (SEAL_NONCE + SEAL_TAG)
#define RECORD_MAX	     (VAULT_RECORD_MIN + VAULT_PAYLOAD_MAX + SEAL_OVERHEAD)
#define RECORD_TYPE_CALLER   16		     /* types below are the log's own */
#define SEGMENT_NUMBER_MAX   999999999999ull /* 12 decimal digits */
#define DEFAULT_SEGMENT_SIZE (10ull << 20)
#define DEFAULT_SEGMENT_AGE  (86400ll * 1000000000ll)
#define READ_CHUNK	     (1u << 20)
#define NAME_SIZE	     32 /* ".segment-NNNNNNNNNNNN.tmp" and NUL fit */
#define MSG_SIZE	     512

/* What the log knows of one segment file. */
struct vault_segment {
	uint64_t number;
	uint64_t first_index;
	uint64_t count; /* records */
	uint64_t size;	/* bytes, header included */
	int64_t created_ns;
	uint32_t flags;
	uint8_t prev_hash[VAULT_HASH_LEN]; /* from the header */
	uint8_t last_hash[VAULT_HASH_LEN]; /* of its last record */
};

/* Buffered pread over one segment file: records are parsed where they lie in BUF. */
struct reader {
	int fd;
	uint64_t end;  /* bytes of the file that may be read */
	uint64_t base; /* file offset of buf[0] */
	size_t len;    /* valid bytes in buf */
	uint8_t *buf;
	size_t cap;
};

struct vault_state {
	uint64_t segment;
	uint64_t offset;
	uint64_t index;
	uint8_t hash[VAULT_HASH_LEN];
};

struct segment_header {
	uint64_t number;
	uint64_t first_index;
	uint8_t prev_hash[VAULT_HASH_LEN];
	int64_t created_ns;
	uint32_t flags;
};

struct vault {
	char *dir;
	struct statedir folder; /* opened by statedir.h's trust rule */
	int lock_fd;
	int seg_fd; /* writer: the last segment, O_APPEND; -1 when read-only */
	int read_only;
	int full_verify;
	int failed; /* 0, or the -errno that poisoned the handle */
	uint64_t max_bytes;
	int64_t max_age_ns;
	vault_log_fn log;
	void *log_arg;

	struct vault_segment *segments;
	size_t nseg, seg_cap;
	uint64_t first_segment;	     /* the number of segments[0]: 1, or the anchor's */
	struct vault_anchor *anchor; /* what retention removed, or NULL */
	uint64_t count;
	uint64_t durable;
	uint64_t last_offset; /* of the last record, in the last segment */
	uint8_t last_hash[VAULT_HASH_LEN];

	int has_key;
	uint8_t key[VAULT_KEY_LEN];
	EVP_MD *sha256;
	EVP_MD_CTX *md;
	EVP_CIPHER *gcm;
	EVP_CIPHER_CTX *aead;

	uint8_t *abuf; /* one encoded record */
	size_t abuf_cap;
	uint8_t *wbuf; /* write-behind: records appended since the last flush, written to the
			  last segment with one write(2) by vault_flush (at each sync) */
	size_t wbuf_len, wbuf_cap;
	uint8_t *pbuf; /* plaintext of an unsealed payload */
	size_t pbuf_cap;
	struct reader rd;
};

/* ---- small helpers ---- */

static void segment_name(char name[NAME_SIZE], uint64_t number)
{
	snprintf(name, NAME_SIZE, "segment-%012" PRIu64 ".qv", number);
}

static void segment_tmp_name(char name[NAME_SIZE], uint64_t number)
{
	snprintf(name, NAME_SIZE, ".segment-%" PRIu64 ".tmp", number);
}

/* "segment-NNNNNNNNNNNN.qv" with a number >= 0; anything else is not a segment file. */
static int parse_segment_name(const char *name, uint64_t *number)
{
	uint64_t n = 0;

	if (strlen(name) != 23 || strncmp(name, "segment-", 8) != 0 || strcmp(name + 20, ".qv"))
		return 0;
	for (int i = 8; i < 20; i++) {
		if (name[i] < '0' || name[i] > '9')
			return 0;
		n = n * 10 + (uint64_t)(name[i] - '0');
	}
	*number = n;
	return 1;
}

__attribute__((format(printf, 3, 4))) static void set_why(char *why, size_t why_size,
							  const char *fmt, ...)
{
	va_list ap;

	if (why == NULL || why_size == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(why, why_size, fmt, ap);
	va_end(ap);
}

/* Sets WHY and returns -EBADMSG: the one way corruption is reported. */
__attribute__((format(printf, 3, 4))) static int corrupt(char *why, size_t why_size,
							 const char *fmt, ...)
{
	va_list ap;

	if (why != NULL && why_size > 0) {
		va_start(ap, fmt);
		vsnprintf(why, why_size, fmt, ap);
		va_end(ap);
	}
	return -EBADMSG;
}

__attribute__((format(printf, 3, 4))) static void vault_log(const struct vault *v, int level,
							    const char *fmt, ...)
{
	char msg[MSG_SIZE];
	va_list ap;

	if (v->log == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	v->log(v->log_arg, level, msg);
}

/* ---- I/O: EINTR and short transfers handled here, nowhere else ---- */

static int write_full(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EIO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Returns the bytes read (fewer than LEN only at end of file) or -errno. */
static ssize_t pread_full(int fd, void *buf, size_t len, uint64_t off)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = pread(fd, (uint8_t *)buf + done, len - done, (off_t)(off + done));

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			break;
		done += (size_t)n;
	}
	return (ssize_t)done;
}

static int sync_fd(int fd, int data_only)
{
	int rc;

	do
		rc = data_only ? fdatasync(fd) : fsync(fd);
	while (rc < 0 && errno == EINTR);
	return rc < 0 ? -errno : 0;
}

static int truncate_fd(int fd, uint64_t size)
{
	int rc;

	do
		rc = ftruncate(fd, (off_t)size);
	while (rc < 0 && errno == EINTR);
	return rc < 0 ? -errno : 0;
}

static int grow(uint8_t **buf, size_t *cap, size_t need)
{
	uint8_t *p;

	if (need <= *cap)
		return 0;
	p = realloc(*buf, need);
	if (p == NULL)
		return -ENOMEM;
	*buf = p;
	*cap = need;
	return 0;
}

static void reader_reset(struct reader *r, int fd, uint64_t end)
{
	r->fd = fd;
	r->end = end;
	r->base = 0;
	r->len = 0;
}

/* Makes bytes [OFF, OFF+N) of the file available at *OUT (valid until the next call).
 * RETURN VALUE: 0, -ENODATA (the file is shorter than R->end says), -errno. */
static int reader_map(struct reader *r, uint64_t off, size_t n, const uint8_t **out)
{
	size_t want;
	ssize_t got;
	int err;

	if (off >= r->base && off - r->base <= r->len && n <= r->len - (off - r->base)) {
		*out = r->buf + (off - r->base);
		return 0;
	}
	if (off > r->end || n > r->end - off)
		return -ENODATA;
	want = n > READ_CHUNK ? n : READ_CHUNK;
	if (want > r->end - off)
		want = (size_t)(r->end - off);
	err = grow(&r->buf, &r->cap, want);
	if (err)
		return err;
	r->len = 0;
	got = pread_full(r->fd, r->buf, want, off);
	if (got < 0)
		return (int)got;
	r->base = off;
	r->len = (size_t)got;
	if ((size_t)got < n)
		return -ENODATA;
	*out = r->buf;
	return 0;
}

/* ---- hashing and sealing ---- */

static int hash_domain(struct vault *v, const char *domain, size_t domain_len,
		       const uint8_t *data, size_t len, uint8_t out[VAULT_HASH_LEN])
{
	if (EVP_DigestInit_ex2(v->md, v->sha256, NULL) != 1 ||
	    EVP_DigestUpdate(v->md, domain, domain_len) != 1 ||
	    EVP_DigestUpdate(v->md, data, len) != 1 ||
	    EVP_DigestFinal_ex(v->md, out, NULL) != 1)
		return -EIO;
	return 0;
}

#define HASH(v, domain, data, len, out) hash_domain(v, domain, sizeof(domain), data, len, out)

/* Seals LEN bytes of PT to OUT (LEN + SEAL_OVERHEAD bytes) with AAD, the record's first
 * VAULT_RECORD_HEADER bytes. */
static int seal(struct vault *v, const uint8_t *aad, const uint8_t *pt, size_t len,
		uint8_t *out)
{
	uint8_t *ct = out + SEAL_NONCE;
	int n;

	if (RAND_bytes(out, SEAL_NONCE) != 1)
		return -EIO;
	if (EVP_EncryptInit_ex2(v->aead, v->gcm, v->key, out, NULL) != 1 ||
	    EVP_EncryptUpdate(v->aead, NULL, &n, aad, VAULT_RECORD_HEADER) != 1)
		return -EIO;
	if (len > 0 && EVP_EncryptUpdate(v->aead, ct, &n, pt, (int)len) != 1)
		return -EIO;
	if (EVP_EncryptFinal_ex(v->aead, ct + len, &n) != 1 ||
	    EVP_CIPHER_CTX_ctrl(v->aead, EVP_CTRL_AEAD_GET_TAG, SEAL_TAG, ct + len) != 1)
		return -EIO;
	return 0;
}

/* Opens SEALED (LEN >= SEAL_OVERHEAD bytes) into v->pbuf.
 * RETURN VALUE: 0, -EBADMSG (the key does not open it), -ENOMEM, -EIO. */
static int unseal(struct vault *v, const uint8_t *aad, const uint8_t *sealed, size_t len)
{
	size_t pt_len = len - SEAL_OVERHEAD;
	uint8_t tag[SEAL_TAG];
	int n, err;

	err = grow(&v->pbuf, &v->pbuf_cap, pt_len > 0 ? pt_len : 1);
	if (err)
		return err;
	memcpy(tag, sealed + len - SEAL_TAG, SEAL_TAG);
	if (EVP_DecryptInit_ex2(v->aead, v->gcm, v->key, sealed, NULL) != 1 ||
	    EVP_DecryptUpdate(v->aead, NULL, &n, aad, VAULT_RECORD_HEADER) != 1)
		return -EIO;
	if (pt_len > 0 &&
	    EVP_DecryptUpdate(v->aead, v->pbuf, &n, sealed + SEAL_NONCE, (int)pt_len) != 1)
		return -EIO;
	if (EVP_CIPHER_CTX_ctrl(v->aead, EVP_CTRL_AEAD_SET_TAG, SEAL_TAG, tag) != 1)
		return -EIO;
	if (EVP_DecryptFinal_ex(v->aead, v->pbuf + pt_len, &n) != 1)
		return -EBADMSG;
	return 0;
}

/* ---- formats ---- */

static uint32_t record_length(const struct vault *v, size_t payload_len)
{
	return (uint32_t)(VAULT_RECORD_MIN + payload_len + (v->has_key ? SEAL_OVERHEAD : 0));
}

/* Encodes a record of REC_LEN bytes at DST, sealing the payload when the vault has a key. */
static int record_encode(struct vault *v, uint8_t *dst, uint32_t rec_len, uint16_t type,
			 uint64_t index, int64_t ts, const uint8_t *prev, const void *payload,
			 size_t len)
{
	int err;

	put_le32(dst, rec_len);
	put_le16(dst + 4, type);
	put_le16(dst + 6, v->has_key ? VAULT_FLAG_SEALED : 0);
	put_le64(dst + 8, index);
	put_le64(dst + 16, (uint64_t)ts);
	memcpy(dst + 24, prev, VAULT_HASH_LEN);
	if (v->has_key) {
		err = seal(v, dst, payload, len, dst + VAULT_RECORD_HEADER);
		if (err)
			return err;
	} else if (len > 0) {
		memcpy(dst + VAULT_RECORD_HEADER, payload, len);
	}
	return HASH(v, RECORD_DOMAIN, dst, rec_len - VAULT_HASH_LEN,
		    dst + rec_len - VAULT_HASH_LEN);
}

static void record_fill(struct vault_record *rec, const uint8_t *p, uint32_t len,
			uint64_t segment, uint64_t offset)
{
	rec->index = get_le64(p + 8);
	rec->type = get_le16(p + 4);
	rec->flags = get_le16(p + 6);
	rec->timestamp_ns = (int64_t)get_le64(p + 16);
	rec->prev_hash = p + 24;
	rec->hash = p + len - VAULT_HASH_LEN;
	rec->payload = p + VAULT_RECORD_HEADER;
	rec->payload_len = len - VAULT_RECORD_MIN;
	rec->sealed = 0;
	rec->raw = p;
	rec->raw_len = len;
	rec->segment = segment;
	rec->offset = offset;
}

static int header_encode(struct vault *v, const struct segment_header *h, uint8_t *out)
{
	memcpy(out, SEGMENT_MAGIC, 8);
	put_le64(out + 8, h->number);
	put_le64(out + 16, h->first_index);
	memcpy(out + 24, h->prev_hash, VAULT_HASH_LEN);
	put_le64(out + 56, (uint64_t)h->created_ns);
	put_le32(out + 64, h->flags);
	put_le32(out + 68, 0);
	return HASH(v, SEGMENT_DOMAIN, out, SEGMENT_HASHED, out + SEGMENT_HASHED);
}

/* Parses and checks the header RAW of the file for segment NUMBER into *H. */
static int header_check(struct vault *v, const uint8_t *raw, uint64_t number,
			struct segment_header *h, char *why, size_t why_size)
{
	char name[NAME_SIZE];
	uint8_t hash[VAULT_HASH_LEN];
	int err;

	segment_name(name, number);
	if (memcmp(raw, SEGMENT_MAGIC, 8) != 0)
		return corrupt(why, why_size, "%s offset 0: bad segment magic", name);
	err = HASH(v, SEGMENT_DOMAIN, raw, SEGMENT_HASHED, hash);
	if (err) {
		set_why(why, why_size, "%s: SHA-256 failed", name);
		return err;
	}
	if (memcmp(hash, raw + SEGMENT_HASHED, VAULT_HASH_LEN) != 0)
		return corrupt(why, why_size, "%s offset 0: segment header hash mismatch",
			       name);
	h->number = get_le64(raw + 8);
	h->first_index = get_le64(raw + 16);
	memcpy(h->prev_hash, raw + 24, VAULT_HASH_LEN);
	h->created_ns = (int64_t)get_le64(raw + 56);
	h->flags = get_le32(raw + 64);
	if (h->number != number)
		return corrupt(why, why_size, "%s offset 8: header names segment %" PRIu64,
			       name, h->number);
	if (h->flags & ~SEGMENT_SEALED)
		return corrupt(why, why_size, "%s offset 64: unknown segment flags 0x%" PRIx32,
			       name, h->flags);
	if (get_le32(raw + 68) != 0)
		return corrupt(why, why_size, "%s offset 68: reserved field is not zero", name);
	return 0;
}

/* Checks one complete record P (LEN bytes, within bounds) at OFF of segment SEG: INDEX is
 * the index the chain expects, PREV (NULL: unknown) the previous record's hash. The hash
 * the record should carry is written to HASH. */
static int record_check(struct vault *v, const struct vault_segment *seg, uint64_t off,
			const uint8_t *p, uint32_t len, uint64_t index, const uint8_t *prev,
			uint8_t hash[VAULT_HASH_LEN], char *why, size_t why_size)
{
	uint16_t want_flags = (seg->flags & SEGMENT_SEALED) ? VAULT_FLAG_SEALED : 0;
	uint16_t type = get_le16(p + 4), flags = get_le16(p + 6);
	uint64_t got = get_le64(p + 8);
	char name[NAME_SIZE];
	int err;

	segment_name(name, seg->number);
	if (got != index)
		return corrupt(why, why_size,
			       "%s offset %" PRIu64 ": index %" PRIu64 " where %" PRIu64
			       " was expected",
			       name, off, got, index);
	if (flags != want_flags)
		return corrupt(why, why_size,
			       "%s offset %" PRIu64 ": record %" PRIu64
			       " flags 0x%x where the segment header says 0x%x",
			       name, off, index, flags, want_flags);
	if (off == VAULT_SEGMENT_HEADER) {
		uint16_t want = seg->number == 1 ? VAULT_RECORD_BOOT : VAULT_RECORD_ROTATE;

		if (type != want)
			return corrupt(why, why_size,
				       "%s offset %" PRIu64 ": record %" PRIu64
				       " type %u where %u opens the segment",
				       name, off, index, type, want);
	} else if (type < RECORD_TYPE_CALLER) {
		return corrupt(why, why_size,
			       "%s offset %" PRIu64 ": record %" PRIu64
			       " has the log's type %u inside the segment",
			       name, off, index, type);
	}
	if ((flags & VAULT_FLAG_SEALED) && len - VAULT_RECORD_MIN < SEAL_OVERHEAD)
		return corrupt(why, why_size,
			       "%s offset %" PRIu64 ": record %" PRIu64
			       " sealed payload too short",
			       name, off, index);
	if (prev != NULL && memcmp(p + 24, prev, VAULT_HASH_LEN) != 0)
		return corrupt(why, why_size,
			       "%s offset %" PRIu64 ": record %" PRIu64
			       " previous hash mismatch",
			       name, off, index);
	err = HASH(v, RECORD_DOMAIN, p, len - VAULT_HASH_LEN, hash);
	if (err) {
		set_why(why, why_size, "%s: SHA-256 failed", name);
		return err;
	}
	if (memcmp(hash, p + len - VAULT_HASH_LEN, VAULT_HASH_LEN) != 0)
		return corrupt(why, why_size,
			       "%s offset %" PRIu64 ": record %" PRIu64 " hash mismatch", name,
			       off, index);
	return 0;
}

/* ---- vault.state ---- */

/* Reads vault.state into *ST; *PRESENT is 0 when there is none. */
static int state_read(struct vault *v, struct vault_state *st, int *present, char *why,
		      size_t why_size)
{
	uint8_t raw[STATE_SIZE + 1], hash[VAULT_HASH_LEN];
	ssize_t n;
	int fd, err;

	*present = 0;
	fd = statedir_openat(&v->folder, STATE_NAME, O_RDONLY, 0, why, why_size);
	if (fd == -ENOENT) {
		set_why(why, why_size, "%s", "");
		return 0;
	}
	if (fd < 0)
		return fd;
	n = pread_full(fd, raw, sizeof(raw), 0);
	close(fd);
	if (n < 0) {
		set_why(why, why_size, "%s: %s", STATE_NAME, strerror((int)-n));
		return (int)n;
	}
	if (n != STATE_SIZE)
		return corrupt(why, why_size, "%s: %zd bytes where %d were expected",
			       STATE_NAME, n, STATE_SIZE);
	if (memcmp(raw, STATE_MAGIC, 8) != 0)
		return corrupt(why, why_size, "%s: bad magic", STATE_NAME);
	err = HASH(v, STATE_DOMAIN, raw, 64, hash);
	if (err) {
		set_why(why, why_size, "%s: SHA-256 failed", STATE_NAME);
		return err;
	}
	if (memcmp(hash, raw + 64, VAULT_HASH_LEN) != 0)
		return corrupt(why, why_size, "%s: checksum mismatch", STATE_NAME);
	st->segment = get_le64(raw + 8);
	st->offset = get_le64(raw + 16);
	st->index = get_le64(raw + 24);
	memcpy(st->hash, raw + 32, VAULT_HASH_LEN);
	if (st->segment == 0 || st->offset < VAULT_SEGMENT_HEADER)
		return corrupt(why, why_size,
			       "%s: names segment %" PRIu64 " offset %" PRIu64
			       ", which cannot hold a record",
			       STATE_NAME, st->segment, st->offset);
	*present = 1;
	return 0;
}

/* Replaces vault.state atomically: temporary file, fsync, rename, directory fsync. */
static int list_segments(struct vault *v, uint64_t **out, size_t *n_out, char *why,
			 size_t why_size);

static int state_write(struct vault *v, const struct vault_state *st)
{
	uint8_t raw[STATE_SIZE];
	int fd, err;

	memcpy(raw, STATE_MAGIC, 8);
	put_le64(raw + 8, st->segment);
	put_le64(raw + 16, st->offset);
	put_le64(raw + 24, st->index);
	memcpy(raw + 32, st->hash, VAULT_HASH_LEN);
	err = HASH(v, STATE_DOMAIN, raw, 64, raw + 64);
	if (err)
		return err;
	/* A leftover of a failed write goes first: the temporary file is only ever new. */
	unlinkat(v->folder.fd, STATE_TMP_NAME, 0);
	fd = statedir_openat(&v->folder, STATE_TMP_NAME, O_WRONLY | O_CREAT | O_EXCL, 0600,
			     NULL, 0);
	if (fd < 0)
		return fd;
	err = write_full(fd, raw, sizeof(raw));
	if (!err)
		err = sync_fd(fd, 0);
	close(fd);
	if (!err && renameat(v->folder.fd, STATE_TMP_NAME, v->folder.fd, STATE_NAME) < 0)
		err = -errno;
	if (err) {
		unlinkat(v->folder.fd, STATE_TMP_NAME, 0);
		return err;
	}
	return sync_fd(v->folder.fd, 0);
}

/* ---- vault.anchor: what retention removed ---- */

static size_t anchor_size(const struct vault_anchor *a)
{
	return ANCHOR_HEAD + (a->range_count + a->leaf_count) * VAULT_HASH_LEN + VAULT_HASH_LEN;
}

/* Checks A's counts against each other: one range hash per set bit of the tree base, one
 * leaf hash per record from it to the first kept. */
static int anchor_consistent(const struct vault_anchor *a)
{
	return a->segment > 1 && a->first_index > 0 && a->tree_base <= a->first_index &&
	       a->range_count == (size_t)__builtin_popcountll(a->tree_base) &&
	       a->leaf_count == a->first_index - a->tree_base &&
	       a->leaf_count <= ANCHOR_LEAVES_MAX;
}

/* Reads vault.anchor, when there is one, into v->anchor and v->first_segment. */
static int anchor_read(struct vault *v, char *why, size_t why_size)
{
	struct vault_anchor *a = NULL;
	uint8_t *raw = NULL, hash[VAULT_HASH_LEN];
	struct stat sb;
	ssize_t n;
	size_t len;
	int fd, err;

	fd = statedir_openat(&v->folder, ANCHOR_NAME, O_RDONLY, 0, why, why_size);
	if (fd == -ENOENT) {
		set_why(why, why_size, "%s", "");
		return 0;
	}
	if (fd < 0)
		return fd;
	if (fstat(fd, &sb) != 0) {
		err = -errno;
		goto out;
	}
	len = (size_t)sb.st_size;
	err = -EBADMSG;
	if (len < ANCHOR_HEAD + VAULT_HASH_LEN ||
	    len > ANCHOR_HEAD + (64 + ANCHOR_LEAVES_MAX) * VAULT_HASH_LEN + VAULT_HASH_LEN)
		goto out_corrupt;
	raw = malloc(len);
	a = calloc(1, sizeof(*a));
	if (raw == NULL || a == NULL) {
		err = -ENOMEM;
		goto out;
	}
	n = pread_full(fd, raw, len, 0);
	if (n != (ssize_t)len) {
		err = n < 0 ? (int)n : -EBADMSG;
		goto out_corrupt;
	}
	if (memcmp(raw, ANCHOR_MAGIC, 8) != 0)
		goto out_corrupt;
	a->segment = get_le64(raw + 8);
	a->first_index = get_le64(raw + 16);
	memcpy(a->prev_hash, raw + 24, VAULT_HASH_LEN);
	a->tree_base = get_le64(raw + 56);
	a->range_count = get_le32(raw + 64);
	a->leaf_count = get_le32(raw + 68);
	if (a->range_count > 64 || a->leaf_count > ANCHOR_LEAVES_MAX || anchor_size(a) != len ||
	    !anchor_consistent(a))
		goto out_corrupt;
	err = HASH(v, ANCHOR_DOMAIN, raw, len - VAULT_HASH_LEN, hash);
	if (err)
		goto out;
	err = -EBADMSG;
	if (memcmp(hash, raw + len - VAULT_HASH_LEN, VAULT_HASH_LEN) != 0)
		goto out_corrupt;
	memcpy(a->range, raw + ANCHOR_HEAD, a->range_count * VAULT_HASH_LEN);
	a->leaves = malloc(a->leaf_count * VAULT_HASH_LEN + 1);
	if (a->leaves == NULL) {
		err = -ENOMEM;
		goto out;
	}
	memcpy(a->leaves, raw + ANCHOR_HEAD + a->range_count * VAULT_HASH_LEN,
	       a->leaf_count * VAULT_HASH_LEN);
	v->anchor = a;
	v->first_segment = a->segment;
	a = NULL;
	err = 0;
	goto out;
out_corrupt:
	err = corrupt(why, why_size, "%s: not a valid anchor (%zu bytes)", ANCHOR_NAME, len);
out:
	if (a != NULL)
		free(a->leaves);
	free(a);
	free(raw);
	close(fd);
	if (err != 0 && err != -EBADMSG && why != NULL && why[0] == '\0')
		set_why(why, why_size, "%s: %s", ANCHOR_NAME, strerror(-err));
	return err;
}

/* Replaces vault.anchor with A atomically: temporary file, fsync, rename, folder fsync. */
static int anchor_write(struct vault *v, const struct vault_anchor *a)
{
	size_t len = anchor_size(a);
	uint8_t *raw = malloc(len);
	int fd, err;

	if (raw == NULL)
		return -ENOMEM;
	memcpy(raw, ANCHOR_MAGIC, 8);
	put_le64(raw + 8, a->segment);
	put_le64(raw + 16, a->first_index);
	memcpy(raw + 24, a->prev_hash, VAULT_HASH_LEN);
	put_le64(raw + 56, a->tree_base);
	put_le32(raw + 64, (uint32_t)a->range_count);
	put_le32(raw + 68, (uint32_t)a->leaf_count);
	memcpy(raw + ANCHOR_HEAD, a->range, a->range_count * VAULT_HASH_LEN);
	if (a->leaf_count > 0)
		memcpy(raw + ANCHOR_HEAD + a->range_count * VAULT_HASH_LEN, a->leaves,
		       a->leaf_count * VAULT_HASH_LEN);
	err = HASH(v, ANCHOR_DOMAIN, raw, len - VAULT_HASH_LEN, raw + len - VAULT_HASH_LEN);
	if (err)
		goto out;
	unlinkat(v->folder.fd, ANCHOR_TMP_NAME, 0);
	fd = statedir_openat(&v->folder, ANCHOR_TMP_NAME, O_WRONLY | O_CREAT | O_EXCL, 0600,
			     NULL, 0);
	if (fd < 0) {
		err = fd;
		goto out;
	}
	err = write_full(fd, raw, len);
	if (!err)
		err = sync_fd(fd, 0);
	close(fd);
	if (!err && renameat(v->folder.fd, ANCHOR_TMP_NAME, v->folder.fd, ANCHOR_NAME) < 0)
		err = -errno;
	if (err)
		unlinkat(v->folder.fd, ANCHOR_TMP_NAME, 0);
	else
		err = sync_fd(v->folder.fd, 0);
out:
	free(raw);
	return err;
}

/* Removes segment file NUMBER, or moves it into ARCHIVE (a folder of the same file
 * system) when not NULL. */
static int segment_retire(struct vault *v, uint64_t number, const struct statedir *archive)
{
	char name[NAME_SIZE];

	segment_name(name, number);
	if (archive != NULL)
		return renameat(v->folder.fd, name, archive->fd, name) < 0 ? -errno : 0;
	return unlinkat(v->folder.fd, name, 0) < 0 && errno != ENOENT ? -errno : 0;
}

int vault_retain(struct vault *vault, const struct vault_anchor *next, const char *archive_dir,
		 char *why, size_t why_size)
{
	struct vault *v = vault;
	struct vault_anchor *a;
	struct statedir archive = { .fd = -1 };
	struct vault_state st;
	uint64_t *numbers = NULL;
	size_t keep, n = 0;
	int err, have_state;

	set_why(why, why_size, "%s", "");
	if (v == NULL || next == NULL)
		return -EINVAL;
	if (v->read_only)
		return -EROFS;
	if (v->failed)
		return v->failed;
	if (next->segment <= v->first_segment || next->segment >= v->first_segment + v->nseg) {
		set_why(why, why_size,
			"segment %" PRIu64 " cannot start the log (it has %" PRIu64
			" to %" PRIu64 "; the last one stays)",
			next->segment, v->first_segment, v->first_segment + v->nseg - 1);
		return -ERANGE;
	}
	keep = (size_t)(next->segment - v->first_segment);
	err = state_read(v, &st, &have_state, why, why_size);
	if (err)
		return err;
	if (have_state && st.segment < next->segment) {
		set_why(why, why_size, "%s names segment %" PRIu64 ": it stays", STATE_NAME,
			st.segment);
		return -ERANGE;
	}
	a = calloc(1, sizeof(*a));
	if (a == NULL)
		return -ENOMEM;
	*a = *next;
	a->first_index = v->segments[keep].first_index;
	memcpy(a->prev_hash, v->segments[keep].prev_hash, VAULT_HASH_LEN);
	a->leaves = NULL;
	if (!anchor_consistent(a)) {
		set_why(why, why_size,
			"an anchor at record %" PRIu64 " needs %d range hashes and %" PRIu64
			" leaf hashes from tree base %" PRIu64,
			a->first_index, __builtin_popcountll(a->tree_base),
			a->first_index - a->tree_base, a->tree_base);
		free(a);
		return -EINVAL;
	}
	a->leaves = malloc(a->leaf_count * VAULT_HASH_LEN + 1);
	if (a->leaves == NULL) {
		free(a);
		return -ENOMEM;
	}
	if (a->leaf_count > 0)
		memcpy(a->leaves, next->leaves, a->leaf_count * VAULT_HASH_LEN);
	if (archive_dir != NULL) {
		err = statedir_open(&archive, archive_dir, STATEDIR_CREATE, why, why_size);
		if (err)
			goto fail;
	}
	/* The anchor first: from now on the log starts at its segment, whatever is left. */
	err = anchor_write(v, a);
	if (err) {
		set_why(why, why_size, "%s/%s: %s", v->dir, ANCHOR_NAME, strerror(-err));
		goto fail;
	}
	err = list_segments(v, &numbers, &n, why, why_size);
	for (size_t i = 0; err == 0 && i < n && numbers[i] < a->segment; i++) {
		err = segment_retire(v, numbers[i], archive_dir != NULL ? &archive : NULL);
		if (err)
			set_why(why, why_size, "segment %" PRIu64 " (to %s): %s", numbers[i],
				archive_dir != NULL ? archive_dir : "nowhere", strerror(-err));
	}
	if (err == 0)
		err = sync_fd(v->folder.fd, 0);
	if (err == 0 && archive_dir != NULL)
		err = sync_fd(archive.fd, 0);
	/* The anchor is in place: the log is the kept segments, whatever failed after it. */
	memmove(v->segments, v->segments + keep, (v->nseg - keep) * sizeof(*v->segments));
	v->nseg -= keep;
	v->first_segment = a->segment;
	if (v->anchor != NULL)
		free(v->anchor->leaves);
	free(v->anchor);
	v->anchor = a;
	vault_log(v, 5,
		  "vault.retained first_segment=%" PRIu64 " first_index=%" PRIu64
		  " tree_base=%" PRIu64 " archive=%s",
		  a->segment, a->first_index, a->tree_base, archive_dir != NULL ? "yes" : "no");
	free(numbers);
	statedir_close(&archive);
	return err;
fail:
	free(a->leaves);
	free(a);
	statedir_close(&archive);
	return err;
}

const struct vault_anchor *vault_anchor(const struct vault *vault)
{
	return vault != NULL ? vault->anchor : NULL;
}

uint64_t vault_first(const struct vault *vault)
{
	return vault != NULL && vault->anchor != NULL ? vault->anchor->first_index : 0;
}

int vault_segment_info(const struct vault *vault, size_t i, struct vault_segment_info *out)
{
	const struct vault_segment *seg;

	if (vault == NULL || i >= vault->nseg)
		return -ERANGE;
	seg = &vault->segments[i];
	out->number = seg->number;
	out->first_index = seg->first_index;
	out->count = seg->count;
	out->bytes = seg->size;
	out->created_ns = seg->created_ns;
	return 0;
}

/* ---- segments ---- */

static int segments_reserve(struct vault *v, size_t n)
{
	struct vault_segment *p;
	size_t cap;

	if (n <= v->seg_cap)
		return 0;
	cap = v->seg_cap ? v->seg_cap * 2 : 16;
	if (cap < n)
		cap = n;
	p = realloc(v->segments, cap * sizeof(*p));
	if (p == NULL)
		return -ENOMEM;
	v->segments = p;
	v->seg_cap = cap;
	return 0;
}

/* Writes segment NUMBER, its header and first record (TYPE, PAYLOAD), under a temporary
 * name, fsyncs it, renames it into place and fsyncs the directory. On success *SEG
 * describes it and *FD is open on it (O_RDWR | O_APPEND). Once the rename is done the
 * segment exists: a failed directory fsync still returns 0 with *DIR_ERR set, so the
 * caller switches to the new segment and poisons the handle. */
static int segment_create(struct vault *v, uint64_t number, uint64_t first_index,
			  const uint8_t *prev, uint16_t type, const char *payload,
			  struct vault_segment *seg, int *fd_out, int *dir_err, char *why,
			  size_t why_size)
{
	size_t len = strlen(payload);
	uint32_t rec_len = record_length(v, len);
	char name[NAME_SIZE], tmp[NAME_SIZE];
	struct segment_header h;
	int fd, err;

	*dir_err = 0;
	segment_name(name, number);
	segment_tmp_name(tmp, number);
	err = grow(&v->abuf, &v->abuf_cap, VAULT_SEGMENT_HEADER + rec_len);
	if (err)
		return err;
	h.number = number;
	h.first_index = first_index;
	memcpy(h.prev_hash, prev, VAULT_HASH_LEN);
	h.created_ns = realtime_now_ns();
	h.flags = v->has_key ? SEGMENT_SEALED : 0;
	err = header_encode(v, &h, v->abuf);
	if (!err)
		err = record_encode(v, v->abuf + VAULT_SEGMENT_HEADER, rec_len, type,
				    first_index, h.created_ns, prev, payload, len);
	if (err) {
		set_why(why, why_size, "%s: OpenSSL failed", name);
		return err;
	}
	unlinkat(v->folder.fd, tmp, 0); /* a leftover: the temporary file is only ever new */
	fd = statedir_openat(&v->folder, tmp, O_RDWR | O_CREAT | O_EXCL | O_APPEND, 0600, why,
			     why_size);
	if (fd < 0)
		return fd;
	err = write_full(fd, v->abuf, VAULT_SEGMENT_HEADER + rec_len);
	if (!err)
		err = sync_fd(fd, 0);
	if (!err && renameat(v->folder.fd, tmp, v->folder.fd, name) < 0)
		err = -errno;
	if (err) {
		set_why(why, why_size, "%s/%s: %s", v->dir, tmp, strerror(-err));
		close(fd);
		unlinkat(v->folder.fd, tmp, 0);
		return err;
	}
	*dir_err = sync_fd(v->folder.fd, 0);
	seg->number = number;
	seg->first_index = first_index;
	seg->count = 1;
	seg->size = VAULT_SEGMENT_HEADER + rec_len;
	seg->created_ns = h.created_ns;
	seg->flags = h.flags;
	memcpy(seg->prev_hash, prev, VAULT_HASH_LEN);
	memcpy(seg->last_hash, v->abuf + VAULT_SEGMENT_HEADER + rec_len - VAULT_HASH_LEN,
	       VAULT_HASH_LEN);
	*fd_out = fd;
	return 0;
}

/* Makes the new segment NEW (open on FD) the last one. */
static void segment_switch(struct vault *v, const struct vault_segment *seg, int fd)
{
	if (v->seg_fd >= 0)
		close(v->seg_fd);
	v->seg_fd = fd;
	v->segments[v->nseg++] = *seg;
	v->count = seg->first_index + 1;
	v->last_offset = VAULT_SEGMENT_HEADER;
	memcpy(v->last_hash, seg->last_hash, VAULT_HASH_LEN);
}

/* Writes the records held in the write-behind buffer to the last segment (one write).
 * A failed write is undone (the file cut back to its flushed size) and poisons the handle:
 * those records were never durable, so never acknowledged, and the next open recovers the
 * log as it is on disk. RETURN VALUE: 0 or -errno. */
static int vault_flush(struct vault *v)
{
	const struct vault_segment *seg;
	uint64_t flushed;
	int err, undo;

	if (v->wbuf_len == 0 || v->read_only)
		return 0;
	if (v->failed)
		return v->failed;
	seg = &v->segments[v->nseg - 1];
	flushed = seg->size - v->wbuf_len;
	err = write_full(v->seg_fd, v->wbuf, v->wbuf_len);
	if (err) {
		undo = truncate_fd(v->seg_fd, flushed);
		v->failed = err;
		vault_log(v, 3,
			  "vault.write_failed segment=%" PRIu64
			  " records_lost=unsynced error=\"%s\"%s",
			  seg->number, strerror(-err), undo ? " undo=failed" : "");
		return err;
	}
	v->wbuf_len = 0;
	return 0;
}

/* Closes the last segment (made durable first) and starts the next with a ROTATE record. */
static int segment_rotate(struct vault *v, const char *reason)
{
	char payload[128], why[MSG_SIZE], name[NAME_SIZE];
	const struct vault_segment *cur;
	struct vault_segment seg;
	int fd, err, dir_err;

	err = segments_reserve(v, v->nseg + 1); /* may move the table: before CUR */
	if (err)
		return err;
	cur = &v->segments[v->nseg - 1];
	segment_name(name, cur->number);
	if (cur->number >= SEGMENT_NUMBER_MAX)
		return -EFBIG;
	err = vault_flush(v);
	if (err)
		return err;
	err = sync_fd(v->seg_fd, 1);
	if (err) {
		v->failed = err;
		vault_log(v, 3, "vault.sync_failed segment=%s error=\"%s\"", name,
			  strerror(-err));
		return err;
	}
	v->durable = v->count;
	snprintf(payload, sizeof(payload),
		 "vault.rotate_boundary previous_segment=%" PRIu64 " reason=%s", cur->number,
		 reason);
	err = segment_create(v, cur->number + 1, v->count, v->last_hash, VAULT_RECORD_ROTATE,
			     payload, &seg, &fd, &dir_err, why, sizeof(why));
	if (err) {
		vault_log(v, 3, "vault.rotate_failed error=\"%s\"", why);
		return err;
	}
	segment_switch(v, &seg, fd);
	if (dir_err) {
		v->failed = dir_err;
		vault_log(v, 3, "vault.sync_failed dir=%s error=\"%s\"", v->dir,
			  strerror(-dir_err));
		return dir_err;
	}
	v->durable = v->count;
	vault_log(v, 6, "vault.rotate segment=%" PRIu64 " first_index=%" PRIu64 " reason=%s",
		  seg.number, seg.first_index, reason);
	return 0;
}

/* ---- recovery ---- */

/* One segment's scan at open. */
struct scan {
	struct vault_segment *seg;
	int last;			 /* the log's last segment: its torn tail may be cut */
	int probe;			 /* decrypt the first sealed record (the key check) */
	int decrypt_all;		 /* decrypt every sealed record (full verification) */
	const struct vault_state *state; /* a checkpoint to meet on the way, or NULL */
	int state_met;
	uint64_t off, index;
	uint8_t prev[VAULT_HASH_LEN];
	int torn;
	uint64_t torn_off, torn_bytes;
	uint64_t last_off;
};

static int scan_decrypt(struct vault *v, struct scan *s, const uint8_t *p, uint32_t len,
			char *why, size_t why_size)
{
	char name[NAME_SIZE];
	int err;

	if (!v->has_key || !(get_le16(p + 6) & VAULT_FLAG_SEALED))
		return 0;
	if (!s->decrypt_all && !s->probe)
		return 0;
	s->probe = 0;
	err = unseal(v, p, p + VAULT_RECORD_HEADER, len - VAULT_RECORD_MIN);
	if (err == -EBADMSG) {
		segment_name(name, s->seg->number);
		set_why(why, why_size,
			"%s offset %" PRIu64 ": record %" PRIu64 " does not open with this key",
			name, s->off, s->index);
		return -ENOKEY;
	}
	return err;
}

/* The record vault.state names must be there, whole, and carry the hash it names. Recovery
 * then goes on from the record after it. */
static int scan_from_state(struct vault *v, struct scan *s, const struct vault_state *st,
			   char *why, size_t why_size)
{
	uint8_t hash[VAULT_HASH_LEN];
	char name[NAME_SIZE];
	const uint8_t *p;
	uint32_t len;
	int err;

	segment_name(name, s->seg->number);
	s->off = st->offset;
	s->index = st->index;
	err = reader_map(&v->rd, st->offset, 4, &p);
	if (err == -ENODATA)
		goto no_record;
	if (err)
		goto io_error;
	len = get_le32(p);
	if (len < VAULT_RECORD_MIN || len > RECORD_MAX)
		goto no_record;
	err = reader_map(&v->rd, st->offset, len, &p);
	if (err == -ENODATA)
		goto no_record;
	if (err)
		goto io_error;
	if (get_le64(p + 8) != st->index)
		return corrupt(why, why_size,
			       "%s names record %" PRIu64 " at %s offset %" PRIu64
			       ", which holds record %" PRIu64,
			       STATE_NAME, st->index, name, st->offset, get_le64(p + 8));
	err = record_check(v, s->seg, st->offset, p, len, st->index, NULL, hash, why, why_size);
	if (err)
		return err;
	if (memcmp(hash, st->hash, VAULT_HASH_LEN) != 0)
		return corrupt(why, why_size,
			       "%s names record %" PRIu64 " at %s offset %" PRIu64
			       " with another hash (record hash mismatch)",
			       STATE_NAME, st->index, name, st->offset);
	err = scan_decrypt(v, s, p, len, why, why_size);
	if (err)
		return err;
	s->state_met = 1;
	s->last_off = st->offset;
	memcpy(s->prev, hash, VAULT_HASH_LEN);
	s->off += len;
	s->index++;
	return 0;

no_record:
	return corrupt(why, why_size,
		       "%s names record %" PRIu64 " at %s offset %" PRIu64
		       ", where there is no whole record",
		       STATE_NAME, st->index, name, st->offset);
io_error:
	set_why(why, why_size, "%s: %s", name, strerror(-err));
	return err;
}

/* Verifies the records of S->seg from S->off (the chain expecting S->index after S->prev)
 * to the end of the file (v->rd). A torn tail of the last segment is noted, not cut. */
static int scan_segment(struct vault *v, struct scan *s, char *why, size_t why_size)
{
	const struct vault_state *st = s->state;
	uint64_t end = v->rd.end;
	uint8_t hash[VAULT_HASH_LEN];
	char name[NAME_SIZE];
	const uint8_t *p;
	uint32_t len = 0;
	int err;

	segment_name(name, s->seg->number);
	while (s->off < end) {
		uint64_t left = end - s->off;

		len = 0;
		if (left < 4)
			goto torn;
		err = reader_map(&v->rd, s->off, 4, &p);
		if (err)
			goto io_error;
		len = get_le32(p);
		if (len == 0)
			goto torn;
		if (len < VAULT_RECORD_MIN || len > RECORD_MAX)
			return corrupt(why, why_size,
				       "%s offset %" PRIu64 ": record %" PRIu64
				       " length %" PRIu32 " out of range",
				       name, s->off, s->index, len);
		if (len > left)
			goto torn;
		err = reader_map(&v->rd, s->off, len, &p);
		if (err)
			goto io_error;
		err = record_check(v, s->seg, s->off, p, len, s->index, s->prev, hash, why,
				   why_size);
		if (err)
			return err;
		if (st != NULL && st->segment == s->seg->number && st->offset == s->off) {
			if (st->index != s->index ||
			    memcmp(st->hash, hash, VAULT_HASH_LEN) != 0)
				return corrupt(
					why, why_size,
					"%s names record %" PRIu64 " at %s offset %" PRIu64
					", which is record %" PRIu64 " (record hash mismatch)",
					STATE_NAME, st->index, name, s->off, s->index);
			s->state_met = 1;
		}
		err = scan_decrypt(v, s, p, len, why, why_size);
		if (err)
			return err;
		memcpy(s->prev, hash, VAULT_HASH_LEN);
		s->last_off = s->off;
		s->off += len;
		s->index++;
	}
	return 0;

torn:
	if (!s->last)
		return corrupt(
			why, why_size,
			"%s offset %" PRIu64 ": %" PRIu64
			" bytes that are not a whole record end a segment that is not the "
			"last",
			name, s->off, end - s->off);
	if (v->read_only)
		return corrupt(why, why_size,
			       "%s offset %" PRIu64 ": torn tail (%" PRIu64
			       " bytes, record length %" PRIu32 "); a writer would truncate it",
			       name, s->off, end - s->off, len);
	if (s->off == VAULT_SEGMENT_HEADER)
		return corrupt(why, why_size,
			       "%s offset %" PRIu64
			       ": the segment's first record is incomplete",
			       name, s->off);
	s->torn = 1;
	s->torn_off = s->off;
	s->torn_bytes = end - s->off;
	return 0;

io_error:
	if (err == -ENODATA)
		return corrupt(why, why_size,
			       "%s offset %" PRIu64 ": the file shrank while read", name,
			       s->off);
	set_why(why, why_size, "%s: %s", name, strerror(-err));
	return err;
}

static int compare_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* A stream over the vault directory (closedir) in *OUT. RETURN VALUE: 0 or -errno. */
static int dir_stream(struct vault *v, DIR **out)
{
	int fd, err;

	fd = openat(v->folder.fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	*out = fdopendir(fd);
	if (*out == NULL) {
		err = -errno;
		close(fd);
		return err;
	}
	return 0;
}

/* The numbers of the segment files in the directory, sorted (new array in *OUT). */
static int list_segments(struct vault *v, uint64_t **out, size_t *n_out, char *why,
			 size_t why_size)
{
	uint64_t *numbers = NULL, *p, number;
	size_t n = 0, cap = 0;
	struct dirent *de;
	DIR *d;
	int err;

	err = dir_stream(v, &d);
	if (err) {
		set_why(why, why_size, "%s: %s", v->dir, strerror(-err));
		return err;
	}
	for (;;) {
		errno = 0;
		de = readdir(d);
		if (de == NULL) {
			if (errno) {
				err = -errno;
				set_why(why, why_size, "%s: %s", v->dir, strerror(errno));
			}
			break;
		}
		if (!parse_segment_name(de->d_name, &number))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			p = realloc(numbers, cap * sizeof(*p));
			if (p == NULL) {
				err = -ENOMEM;
				break;
			}
			numbers = p;
		}
		numbers[n++] = number;
	}
	closedir(d);
	if (err) {
		free(numbers);
		return err;
	}
	if (n > 1)
		qsort(numbers, n, sizeof(*numbers), compare_u64);
	*out = numbers;
	*n_out = n;
	return 0;
}

/* Removes what a crash can leave: a segment or vault.state never renamed into place. */
static void remove_leftovers(struct vault *v)
{
	struct dirent *de;
	DIR *d;
	int err;

	err = dir_stream(v, &d);
	if (err) {
		vault_log(v, 4, "vault.recover.leftovers_unchecked dir=%s error=\"%s\"", v->dir,
			  strerror(-err));
		return;
	}
	for (;;) {
		size_t len;
		int is_tmp;

		de = readdir(d);
		if (de == NULL)
			break;
		len = strlen(de->d_name);
		is_tmp = strcmp(de->d_name, STATE_TMP_NAME) == 0 ||
			 strcmp(de->d_name, ANCHOR_TMP_NAME) == 0 ||
			 (strncmp(de->d_name, ".segment-", 9) == 0 && len > 13 &&
			  strcmp(de->d_name + len - 4, ".tmp") == 0);
		if (!is_tmp)
			continue;
		if (unlinkat(v->folder.fd, de->d_name, 0) < 0)
			vault_log(v, 4, "vault.recover.leftover_kept file=%s error=\"%s\"",
				  de->d_name, strerror(errno));
		else
			vault_log(v, 5, "vault.recover.leftover_removed file=%s", de->d_name);
	}
	closedir(d);
}

/* Reads and checks the header of every segment file into v->segments. */
static int load_headers(struct vault *v, const uint64_t *numbers, size_t n, char *why,
			size_t why_size)
{
	uint8_t raw[VAULT_SEGMENT_HEADER];
	char name[NAME_SIZE];
	int err;

	err = segments_reserve(v, n + 1);
	if (err)
		return err;
	for (size_t i = 0; i < n; i++) {
		struct vault_segment *seg = &v->segments[i];
		uint64_t number = v->first_segment + i;
		struct segment_header h;
		struct stat sb;
		ssize_t got;
		int fd;

		segment_name(name, number);
		if (numbers[i] == 0)
			return corrupt(why, why_size,
				       "segment-%012d.qv: segment number 0 is not valid", 0);
		if (numbers[i] != number)
			return corrupt(why, why_size,
				       "%s: segment %" PRIu64 " missing (found segment %" PRIu64
				       ")",
				       name, number, numbers[i]);
		fd = statedir_openat(&v->folder, name, O_RDONLY, 0, why, why_size);
		if (fd == -EINVAL || fd == -EISDIR)
			return corrupt(why, why_size, "%s: not a regular file", name);
		if (fd < 0)
			return fd;
		got = fstat(fd, &sb) < 0 ? -errno : pread_full(fd, raw, sizeof(raw), 0);
		close(fd);
		if (got < 0) {
			set_why(why, why_size, "%s: %s", name, strerror((int)-got));
			return (int)got;
		}
		if (!S_ISREG(sb.st_mode))
			return corrupt(why, why_size, "%s: not a regular file", name);
		if (got < VAULT_SEGMENT_HEADER)
			return corrupt(why, why_size,
				       "%s offset 0: %zd bytes, shorter than a segment header",
				       name, got);
		err = header_check(v, raw, number, &h, why, why_size);
		if (err)
			return err;
		/* The first segment starts the log, or where retention left it off. */
		if (i == 0 && h.first_index != (v->anchor ? v->anchor->first_index : 0))
			return corrupt(why, why_size,
				       "%s offset 16: first index %" PRIu64 " where %" PRIu64
				       " was expected%s",
				       name, h.first_index,
				       v->anchor ? v->anchor->first_index : 0,
				       v->anchor ? " (" ANCHOR_NAME ")" : "");
		if (i == 0 && CRYPTO_memcmp(h.prev_hash,
					    v->anchor ? v->anchor->prev_hash
						      : (uint8_t[VAULT_HASH_LEN]){ 0 },
					    VAULT_HASH_LEN) != 0)
			return corrupt(why, why_size, "%s offset 24: previous hash is not %s",
				       name,
				       v->anchor ? "the one " ANCHOR_NAME " names" : "zero");
		if (i > 0 && h.first_index <= v->segments[i - 1].first_index)
			return corrupt(why, why_size,
				       "%s offset 16: first index %" PRIu64
				       " is not after segment %" PRIu64 "'s %" PRIu64,
				       name, h.first_index, number - 1,
				       v->segments[i - 1].first_index);
		seg->number = h.number;
		seg->first_index = h.first_index;
		seg->count = 0;
		seg->size = (uint64_t)sb.st_size;
		seg->created_ns = h.created_ns;
		seg->flags = h.flags;
		memcpy(seg->prev_hash, h.prev_hash, VAULT_HASH_LEN);
		memset(seg->last_hash, 0, VAULT_HASH_LEN);
	}
	v->nseg = n;
	return 0;
}

/* Checks that segment I (not the last) ends with a complete, valid record whose index is
 * the one before segment I+1's first and whose hash is the previous hash segment I+1's
 * header names: the chain's linkage across the two files. The last record is found from
 * the end of the file (its length field says how far back it starts). */
static int segment_link_check(struct vault *v, size_t i, char *why, size_t why_size)
{
	const struct vault_segment *seg = &v->segments[i], *next = &v->segments[i + 1];
	uint64_t body = seg->size - VAULT_SEGMENT_HEADER, want = next->first_index - 1;
	uint8_t hash[VAULT_HASH_LEN], *buf = NULL;
	char name[NAME_SIZE];
	size_t window = 65536;
	int fd, err = 0, found = 0;

	segment_name(name, seg->number);
	if (next->first_index <= seg->first_index || body < VAULT_RECORD_MIN)
		return corrupt(why, why_size,
			       "%s: no record before segment %" PRIu64 "'s first", name,
			       next->number);
	fd = statedir_openat(&v->folder, name, O_RDONLY, 0, why, why_size);
	if (fd < 0)
		return fd;
	for (;;) {
		ssize_t got;

		if (window > body)
			window = (size_t)body;
		free(buf);
		buf = malloc(window);
		if (buf == NULL) {
			err = -ENOMEM;
			break;
		}
		got = pread_full(fd, buf, window, seg->size - window);
		if (got < 0 || (size_t)got != window) {
			err = got < 0 ? (int)got : -EIO;
			set_why(why, why_size, "%s: %s", name, strerror(-err));
			break;
		}
		for (size_t back = VAULT_RECORD_MIN; back <= window && !found; back++) {
			const uint8_t *p = buf + window - back;

			if (get_le32(p) != back || get_le64(p + 8) != want)
				continue;
			found = 1;
			err = record_check(v, seg, seg->size - back, p, (uint32_t)back, want,
					   NULL, hash, why, why_size);
		}
		if (found || window == body || window >= RECORD_MAX)
			break;
		window *= 16;
	}
	free(buf);
	close(fd);
	if (err)
		return err;
	if (!found)
		return corrupt(why, why_size,
			       "%s: does not end with record %" PRIu64
			       " (the one before segment %" PRIu64
			       "'s first): the chain does not link",
			       name, want, next->number);
	if (memcmp(hash, next->prev_hash, VAULT_HASH_LEN) != 0)
		return corrupt(
			why, why_size,
			"%s: its last record's hash is not the previous hash segment %" PRIu64
			"'s header names: the chain does not link",
			name, next->number);
	return 0;
}

/* Verifies segments from START (0-based) to the last, from the checkpoint ST when
 * FROM_STATE; *STATE_MET tells whether the record ST names was met on the way, and
 * *LAST_SCAN is the last segment's scan (its torn tail, if any, is noted, not cut). */
static int verify_segments(struct vault *v, size_t start, const struct vault_state *st,
			   int from_state, int *state_met, struct scan *last_scan, char *why,
			   size_t why_size)
{
	char name[NAME_SIZE];
	int err;

	*state_met = 0;
	for (size_t i = 0; i < start; i++) {
		v->segments[i].count =
			v->segments[i + 1].first_index - v->segments[i].first_index;
		memcpy(v->segments[i].last_hash, v->segments[i + 1].prev_hash, VAULT_HASH_LEN);
		/* Not verified record by record (vault.state is later): the link to the next
		 * segment is, which costs one read and one hash per segment. */
		err = segment_link_check(v, i, why, why_size);
		if (err)
			return err;
	}
	for (size_t i = start; i < v->nseg; i++) {
		struct vault_segment *seg = &v->segments[i];
		struct scan s = { .seg = seg, .last = i + 1 == v->nseg, .state = st };
		int fd;

		segment_name(name, seg->number);
		if (i > start) {
			const struct vault_segment *prev = &v->segments[i - 1];

			if (seg->first_index != prev->first_index + prev->count)
				return corrupt(why, why_size,
					       "%s offset 16: first index %" PRIu64
					       " where %" PRIu64 " was expected",
					       name, seg->first_index,
					       prev->first_index + prev->count);
			if (memcmp(seg->prev_hash, prev->last_hash, VAULT_HASH_LEN) != 0)
				return corrupt(why, why_size,
					       "%s offset 24: previous segment hash mismatch",
					       name);
		}
		s.probe = s.last;
		s.decrypt_all = v->full_verify;
		s.off = VAULT_SEGMENT_HEADER;
		s.index = seg->first_index;
		memcpy(s.prev, seg->prev_hash, VAULT_HASH_LEN);
		fd = statedir_openat(&v->folder, name, O_RDONLY, 0, why, why_size);
		if (fd < 0)
			return fd;
		reader_reset(&v->rd, fd, seg->size);
		err = 0;
		if (i == start && from_state) {
			if (st->index < seg->first_index ||
			    (i + 1 < v->nseg && st->index >= v->segments[i + 1].first_index))
				err = corrupt(why, why_size,
					      "%s names record %" PRIu64 " in %s, which holds "
					      "records from %" PRIu64,
					      STATE_NAME, st->index, name, seg->first_index);
			else
				err = scan_from_state(v, &s, st, why, why_size);
		}
		if (!err)
			err = scan_segment(v, &s, why, why_size);
		close(fd);
		reader_reset(&v->rd, -1, 0);
		if (err)
			return err;
		seg->count = s.index - seg->first_index;
		memcpy(seg->last_hash, s.prev, VAULT_HASH_LEN);
		if (s.state_met)
			*state_met = 1;
		if (s.last)
			*last_scan = s;
	}
	return 0;
}

static int recover(struct vault *v, char *why, size_t why_size)
{
	struct scan last = { 0 };
	struct vault_state st;
	struct vault_segment *seg;
	uint64_t *numbers = NULL;
	char name[NAME_SIZE];
	size_t n = 0, start = 0;
	int err, have_state, from_state, state_met;

	err = anchor_read(v, why, why_size);
	if (err)
		return err;
	err = list_segments(v, &numbers, &n, why, why_size);
	if (err)
		return err;
	/* Segments below the first kept one: the rest of a retention a crash cut short. */
	while (n > 0 && numbers[0] < v->first_segment) {
		vault_log(v, 5, "vault.recover.retained_segment_ignored segment=%" PRIu64,
			  numbers[0]);
		memmove(numbers, numbers + 1, --n * sizeof(*numbers));
	}
	err = state_read(v, &st, &have_state, why, why_size);
	if (err)
		goto out;
	if (n == 0 && v->anchor != NULL) {
		err = corrupt(why, why_size, "%s names segment %" PRIu64 ", which is missing",
			      ANCHOR_NAME, v->first_segment);
		goto out;
	}
	if (n == 0) {
		if (have_state) {
			err = corrupt(why, why_size, "%s exists but there is no segment file",
				      STATE_NAME);
			goto out;
		}
		if (v->read_only) {
			set_why(why, why_size, "%s: no segment file: not a vault", v->dir);
			err = -ENOENT;
			goto out;
		}
		goto out; /* a new vault: vault_open writes segment 1 */
	}
	err = load_headers(v, numbers, n, why, why_size);
	if (err)
		goto out;
	from_state = have_state && !v->full_verify;
	if (have_state && st.segment < v->first_segment) {
		err = corrupt(why, why_size,
			      "%s names segment %" PRIu64
			      ", before the first one kept (%" PRIu64 ")",
			      STATE_NAME, st.segment, v->first_segment);
		goto out;
	}
	if (from_state) {
		if (st.segment - v->first_segment >= n) {
			err = corrupt(why, why_size,
				      "%s names segment %" PRIu64
				      " but the last is segment %" PRIu64,
				      STATE_NAME, st.segment, v->first_segment + n - 1);
			goto out;
		}
		start = (size_t)(st.segment - v->first_segment);
	}
	err = verify_segments(v, start, have_state ? &st : NULL, from_state, &state_met, &last,
			      why, why_size);
	if (err)
		goto out;
	if (have_state && !state_met) {
		err = corrupt(why, why_size,
			      "%s names record %" PRIu64 " at segment %" PRIu64
			      " offset %" PRIu64 ", where the log has no such record",
			      STATE_NAME, st.index, st.segment, st.offset);
		goto out;
	}
	seg = &v->segments[n - 1];
	segment_name(name, seg->number);
	if (!v->read_only && (seg->flags & SEGMENT_SEALED) && !v->has_key) {
		set_why(why, why_size, "%s is sealed and no key was given", name);
		err = -ENOKEY;
		goto out;
	}
	v->count = seg->first_index + seg->count;
	v->last_offset = last.last_off;
	memcpy(v->last_hash, seg->last_hash, VAULT_HASH_LEN);
	vault_log(v, 6, "vault.recover segments=%zu records=%" PRIu64 " verified_from=%" PRIu64,
		  n, v->count, from_state ? st.index : 0);
	if (v->read_only) {
		v->durable = v->count;
		goto out;
	}
	/* Everything is verified: only now is anything changed on disk. */
	v->seg_fd = statedir_openat(&v->folder, name, O_RDWR | O_APPEND, 0, why, why_size);
	if (v->seg_fd < 0) {
		err = v->seg_fd;
		goto out;
	}
	if (last.torn) {
		err = truncate_fd(v->seg_fd, last.torn_off);
		if (err) {
			set_why(why, why_size, "%s: cannot truncate its torn tail: %s", name,
				strerror(-err));
			goto out;
		}
		seg->size = last.torn_off;
		vault_log(v, 4,
			  "vault.recover.torn_tail segment=%s offset=%" PRIu64
			  " bytes=%" PRIu64,
			  name, last.torn_off, last.torn_bytes);
	}
	err = sync_fd(v->seg_fd, 1);
	if (err) {
		set_why(why, why_size, "%s: fdatasync: %s", name, strerror(-err));
		goto out;
	}
	v->durable = v->count;
	remove_leftovers(v);
out:
	free(numbers);
	return err;
}

/* ---- opening and closing ---- */

static int open_dir(struct vault *v, char *why, size_t why_size)
{
	int created = 0, err, fd;

	err = statedir_open(&v->folder, v->dir,
			    v->read_only ? STATEDIR_READ_ONLY : STATEDIR_CREATE, why, why_size);
	if (err)
		return err;
	created = v->folder.created;
	v->lock_fd = statedir_openat(&v->folder, LOCK_NAME,
				     v->read_only ? O_RDONLY : O_RDWR | O_CREAT, 0600, why,
				     why_size);
	if (v->lock_fd == -ENOENT && v->read_only)
		set_why(why, why_size, "%s", "");
	else if (v->lock_fd < 0)
		return v->lock_fd;
	/* Readers take it shared: no writer may repair or append under an audit. */
	while (v->lock_fd >= 0 &&
	       flock(v->lock_fd, (v->read_only ? LOCK_SH : LOCK_EX) | LOCK_NB) < 0) {
		if (errno == EINTR)
			continue;
		if (errno == EWOULDBLOCK) {
			set_why(why, why_size, "%s is open by another process (lock %s/%s)",
				v->dir, v->dir, LOCK_NAME);
			return -EWOULDBLOCK;
		}
		goto fail;
	}
	if (created) {
		/* The new directory's entry must be durable before its first segment. */
		fd = openat(v->folder.fd, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0)
			goto fail;
		err = sync_fd(fd, 0);
		close(fd);
		if (err) {
			errno = -err;
			goto fail;
		}
	}
	return 0;
fail:
	err = -errno;
	set_why(why, why_size, "%s: %s", v->dir, strerror(errno));
	return err;
}

static void vault_free(struct vault *v)
{
	if (v == NULL)
		return;
	if (v->seg_fd >= 0)
		close(v->seg_fd);
	if (v->lock_fd >= 0)
		close(v->lock_fd);
	statedir_close(&v->folder);
	EVP_MD_CTX_free(v->md);
	EVP_MD_free(v->sha256);
	EVP_CIPHER_CTX_free(v->aead);
	EVP_CIPHER_free(v->gcm);
	OPENSSL_cleanse(v->key, sizeof(v->key));
	if (v->pbuf != NULL)
		OPENSSL_cleanse(v->pbuf, v->pbuf_cap);
	free(v->pbuf);
	free(v->abuf);
	free(v->wbuf);
	free(v->rd.buf);
	free(v->segments);
	if (v->anchor != NULL)
		free(v->anchor->leaves);
	free(v->anchor);
	free(v->dir);
	free(v);
}

int vault_open(const struct vault_options *opt, struct vault **out, char *why, size_t why_size)
{
	const char *boot;
	struct vault *v;
	int err;

	set_why(why, why_size, "%s", "");
	if (out == NULL)
		return -EINVAL;
	*out = NULL;
	if (opt == NULL || opt->dir == NULL || opt->dir[0] == '\0' ||
	    (opt->boot_text != NULL && strlen(opt->boot_text) > VAULT_PAYLOAD_MAX)) {
		set_why(why, why_size, "invalid vault options");
		return -EINVAL;
	}
	v = calloc(1, sizeof(*v));
	if (v == NULL)
		return -ENOMEM;
	v->folder.fd = v->lock_fd = v->seg_fd = -1;
	v->rd.fd = -1;
	v->first_segment = 1;
	v->dir = strdup(opt->dir);
	v->read_only = opt->read_only != 0;
	v->full_verify = opt->full_verify != 0;
	v->max_bytes = opt->segment_max_bytes ? opt->segment_max_bytes : DEFAULT_SEGMENT_SIZE;
	v->max_age_ns =
		opt->segment_max_age_ns > 0 ? opt->segment_max_age_ns : DEFAULT_SEGMENT_AGE;
	v->log = opt->log;
	v->log_arg = opt->log_arg;
	if (opt->key != NULL) {
		memcpy(v->key, opt->key, VAULT_KEY_LEN);
		v->has_key = 1;
	}
	v->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
	v->md = EVP_MD_CTX_new();
	v->gcm = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
	v->aead = EVP_CIPHER_CTX_new();
	if (v->dir == NULL || !v->sha256 || !v->md || !v->gcm || !v->aead) {
		set_why(why, why_size, "OpenSSL: cannot set up SHA-256 and AES-256-GCM");
		err = -ENOMEM;
		goto fail;
	}
	err = open_dir(v, why, why_size);
	if (err)
		goto fail;
	err = recover(v, why, why_size);
	if (err)
		goto fail;
	if (v->nseg == 0) {
		struct vault_segment seg;
		uint8_t zero[VAULT_HASH_LEN] = { 0 };
		int fd, dir_err;

		boot = opt->boot_text ? opt->boot_text : "vault.initial_boot";
		err = segments_reserve(v, 1);
		if (!err)
			err = segment_create(v, 1, 0, zero, VAULT_RECORD_BOOT, boot, &seg, &fd,
					     &dir_err, why, why_size);
		if (err)
			goto fail;
		segment_switch(v, &seg, fd);
		if (dir_err) {
			err = dir_err;
			set_why(why, why_size, "%s: fsync: %s", v->dir, strerror(-err));
			goto fail;
		}
		v->durable = v->count;
		remove_leftovers(v);
		vault_log(v, 5, "vault.created dir=%s sealed=%d", v->dir, v->has_key);
	}
	*out = v;
	return 0;
fail:
	vault_free(v);
	return err;
}

void vault_close(struct vault *vault)
{
	int err;

	if (vault == NULL)
		return;
	if (!vault->read_only && !vault->failed) {
		err = vault_sync(vault);
		if (err)
			vault_log(vault, 3, "vault.close.sync_failed dir=%s error=\"%s\"",
				  vault->dir, strerror(-err));
	}
	vault_free(vault);
}

uint64_t vault_count(const struct vault *vault)
{
	return vault ? vault->count : 0;
}

uint64_t vault_durable(const struct vault *vault)
{
	return vault ? vault->durable : 0;
}

const uint8_t *vault_last_hash(const struct vault *vault)
{
	return vault ? vault->last_hash : NULL;
}

uint64_t vault_segment_count(const struct vault *vault)
{
	return vault ? vault->nseg : 0;
}

/* ---- appending ---- */

static const char *rotation_reason(const struct vault *v, uint32_t rec_len, int64_t now)
{
	const struct vault_segment *seg = &v->segments[v->nseg - 1];

	if (!!(seg->flags & SEGMENT_SEALED) != v->has_key)
		return "seal";
	/* A segment always takes one record after its first, however large. */
	if (seg->count > 1 && seg->size + rec_len > v->max_bytes)
		return "size";
	/* created_ns comes from the segment's header, any value: NOW - CREATED could overflow.
	 * NOW >= 0 and the maximum age > 0, so NOW - MAX_AGE cannot. */
	if (seg->created_ns <= now - v->max_age_ns)
		return "age";
	return NULL;
}

int vault_append(struct vault *vault, uint16_t type, const void *payload, size_t len,
		 struct vault_record *rec)
{
	struct vault *v = vault;
	struct vault_segment *seg;
	const char *reason;
	uint32_t rec_len;
	uint64_t offset;
	int64_t now;
	int err;

	if (v == NULL || type < RECORD_TYPE_CALLER || len > VAULT_PAYLOAD_MAX ||
	    (payload == NULL && len > 0))
		return -EINVAL;
	if (v->read_only)
		return -EROFS;
	if (v->failed)
		return v->failed;
	if (v->count == UINT64_MAX)
		return -EOVERFLOW;
	rec_len = record_length(v, len);
	now = realtime_now_ns();
	reason = rotation_reason(v, rec_len, now);
	if (reason != NULL) {
		err = segment_rotate(v, reason);
		if (err)
			return err;
	}
	seg = &v->segments[v->nseg - 1];
	err = grow(&v->abuf, &v->abuf_cap, rec_len);
	if (err)
		return err;
	err = record_encode(v, v->abuf, rec_len, type, v->count, now, v->last_hash, payload,
			    len);
	if (err)
		return err;
	/* Held until the next flush: a group commit costs one write(2) and one fdatasync. */
	err = grow(&v->wbuf, &v->wbuf_cap, v->wbuf_len + rec_len);
	if (err)
		return err;
	memcpy(v->wbuf + v->wbuf_len, v->abuf, rec_len);
	v->wbuf_len += rec_len;
	offset = seg->size;
	seg->size += rec_len;
	seg->count++;
	memcpy(seg->last_hash, v->abuf + rec_len - VAULT_HASH_LEN, VAULT_HASH_LEN);
	memcpy(v->last_hash, seg->last_hash, VAULT_HASH_LEN);
	v->last_offset = offset;
	v->count++;
	if (rec != NULL) {
		record_fill(rec, v->abuf, rec_len, seg->number, offset);
		if (v->has_key) {
			err = grow(&v->pbuf, &v->pbuf_cap, len > 0 ? len : 1);
			if (err)
				return err; /* appended all the same; only the echo is missing
					     */
			if (len > 0)
				memcpy(v->pbuf, payload, len);
			rec->payload = v->pbuf;
			rec->payload_len = len;
		}
	}
	return 0;
}

int vault_sync(struct vault *vault)
{
	int err;

	if (vault == NULL)
		return -EINVAL;
	if (vault->read_only)
		return 0;
	if (vault->failed)
		return vault->failed;
	if (vault->durable == vault->count)
		return 0;
	err = vault_flush(vault);
	if (err)
		return err;
	err = sync_fd(vault->seg_fd, 1);
	if (err) {
		vault->failed = err;
		vault_log(vault, 3, "vault.sync_failed dir=%s error=\"%s\"", vault->dir,
			  strerror(-err));
		return err;
	}
	vault->durable = vault->count;
	return 0;
}

/* ---- reading ---- */

/* The segment holding record INDEX (< count). */
static size_t segment_find(const struct vault *v, uint64_t index)
{
	size_t lo = 0, hi = v->nseg;

	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (v->segments[mid].first_index <= index)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

/* Calls CB for records [FROM, TO) of segment SEG, read from FD. */
static int iterate_segment(struct vault *v, const struct vault_segment *seg, int fd,
			   uint64_t from, uint64_t to,
			   int (*cb)(void *arg, const struct vault_record *rec), void *arg,
			   char *why, size_t why_size)
{
	uint64_t end_index = seg->first_index + seg->count, index = seg->first_index;
	uint64_t off = VAULT_SEGMENT_HEADER;
	uint8_t raw[VAULT_SEGMENT_HEADER], prev[VAULT_HASH_LEN], hash[VAULT_HASH_LEN];
	struct segment_header h;
	struct vault_record rec;
	char name[NAME_SIZE];
	const uint8_t *p;
	ssize_t got;
	uint32_t len;
	int err;

	segment_name(name, seg->number);
	got = pread_full(fd, raw, sizeof(raw), 0);
	if (got < 0) {
		set_why(why, why_size, "%s: %s", name, strerror((int)-got));
		return (int)got;
	}
	if (got < VAULT_SEGMENT_HEADER)
		return corrupt(why, why_size, "%s offset 0: segment header truncated", name);
	err = header_check(v, raw, seg->number, &h, why, why_size);
	if (err)
		return err;
	if (h.first_index != seg->first_index || h.flags != seg->flags ||
	    memcmp(h.prev_hash, seg->prev_hash, VAULT_HASH_LEN) != 0)
		return corrupt(why, why_size, "%s offset 0: segment header changed since open",
			       name);
	memcpy(prev, seg->prev_hash, VAULT_HASH_LEN);
	reader_reset(&v->rd, fd, seg->size);
	while (index < end_index && index < to) {
		if (seg->size - off < 4)
			return corrupt(why, why_size,
				       "%s offset %" PRIu64 ": record %" PRIu64
				       " missing before the end of the segment",
				       name, off, index);
		err = reader_map(&v->rd, off, 4, &p);
		if (err)
			goto read_error;
		len = get_le32(p);
		if (len < VAULT_RECORD_MIN || len > RECORD_MAX || len > seg->size - off)
			return corrupt(why, why_size,
				       "%s offset %" PRIu64 ": record %" PRIu64
				       " length %" PRIu32 " out of range",
				       name, off, index, len);
		err = reader_map(&v->rd, off, len, &p);
		if (err)
			goto read_error;
		if (index < from) {
			/* Skipped on the way: only its place in the chain is checked. */
			if (get_le64(p + 8) != index)
				return corrupt(why, why_size,
					       "%s offset %" PRIu64 ": index %" PRIu64
					       " where %" PRIu64 " was expected",
					       name, off, get_le64(p + 8), index);
			memcpy(prev, p + len - VAULT_HASH_LEN, VAULT_HASH_LEN);
			off += len;
			index++;
			continue;
		}
		err = record_check(v, seg, off, p, len, index, prev, hash, why, why_size);
		if (err)
			return err;
		record_fill(&rec, p, len, seg->number, off);
		if (rec.flags & VAULT_FLAG_SEALED) {
			if (v->has_key) {
				err = unseal(v, p, p + VAULT_RECORD_HEADER,
					     len - VAULT_RECORD_MIN);
				if (err == -EBADMSG)
					return corrupt(why, why_size,
						       "%s offset %" PRIu64 ": record %" PRIu64
						       " does not open with the vault's key",
						       name, off, index);
				if (err)
					return err;
				rec.payload = v->pbuf;
				rec.payload_len = len - VAULT_RECORD_MIN - SEAL_OVERHEAD;
			} else {
				rec.sealed = 1;
			}
		}
		memcpy(prev, hash, VAULT_HASH_LEN);
		err = cb(arg, &rec);
		if (err)
			return err;
		off += len;
		index++;
	}
	if (index == end_index && off != seg->size)
		return corrupt(why, why_size,
			       "%s offset %" PRIu64 ": %" PRIu64 " bytes after the last record",
			       name, off, seg->size - off);
	return 0;

read_error:
	if (err == -ENODATA)
		return corrupt(why, why_size,
			       "%s offset %" PRIu64 ": the file shrank since open", name, off);
	set_why(why, why_size, "%s: %s", name, strerror(-err));
	return err;
}

int vault_iterate(struct vault *vault, uint64_t from, uint64_t to,
		  int (*cb)(void *arg, const struct vault_record *rec), void *arg, char *why,
		  size_t why_size)
{
	struct vault *v = vault;
	char name[NAME_SIZE];
	int err = 0;

	set_why(why, why_size, "%s", "");
	if (v == NULL || cb == NULL)
		return -EINVAL;
	if (from > v->count || (from < vault_first(v) && from < to))
		return -ERANGE;
	err = vault_flush(v); /* read back what was appended, not only what was flushed */
	if (err) {
		set_why(why, why_size, "cannot write the appended records: %s", strerror(-err));
		return err;
	}
	if (to > v->count)
		to = v->count;
	for (size_t i = from < to ? segment_find(v, from) : v->nseg; i < v->nseg; i++) {
		const struct vault_segment *seg = &v->segments[i];
		int fd = v->seg_fd, own = 0;

		if (seg->first_index >= to)
			break;
		if (i + 1 < v->nseg || fd < 0) {
			segment_name(name, seg->number);
			fd = statedir_openat(&v->folder, name, O_RDONLY, 0, why, why_size);
			if (fd < 0) {
				err = fd;
				break;
			}
			own = 1;
		}
		err = iterate_segment(v, seg, fd, from, to, cb, arg, why, why_size);
		if (own)
			close(fd);
		reader_reset(&v->rd, -1, 0);
		if (err)
			break;
	}
	return err;
}

struct locate {
	uint64_t segment, offset;
	uint8_t hash[VAULT_HASH_LEN];
};

static int locate_cb(void *arg, const struct vault_record *rec)
{
	struct locate *l = arg;

	l->segment = rec->segment;
	l->offset = rec->offset;
	memcpy(l->hash, rec->hash, VAULT_HASH_LEN);
	return 0;
}

int vault_mark_checkpoint(struct vault *vault, uint64_t index)
{
	struct vault *v = vault;
	struct vault_state st;
	struct locate l;
	char why[MSG_SIZE];
	int err;

	if (v == NULL)
		return -EINVAL;
	if (v->read_only)
		return -EROFS;
	if (v->failed)
		return v->failed;
	if (index >= v->durable)
		return -ERANGE;
	if (index + 1 == v->count) {
		l.segment = v->segments[v->nseg - 1].number;
		l.offset = v->last_offset;
		memcpy(l.hash, v->last_hash, VAULT_HASH_LEN);
	} else {
		err = vault_iterate(v, index, index + 1, locate_cb, &l, why, sizeof(why));
		if (err) {
			vault_log(v, 3,
				  "vault.checkpoint_failed index=%" PRIu64 " error=\"%s\"",
				  index, why);
			return err;
		}
	}
	st.segment = l.segment;
	st.offset = l.offset;
	st.index = index;
	memcpy(st.hash, l.hash, VAULT_HASH_LEN);
	return state_write(v, &st);
}

/* ---- keys ---- */

int vault_load_key(const char *path, uint8_t key[VAULT_KEY_LEN], char *why, size_t why_size)
{
	uint8_t buf[2 * VAULT_KEY_LEN + 2];
	struct stat sb;
	ssize_t n;
	int fd, err = 0;

	set_why(why, why_size, "%s", "");
	if (path == NULL || key == NULL)
		return -EINVAL;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		err = -errno;
		set_why(why, why_size, "%s: %s", path, strerror(errno));
		return err;
	}
	if (fstat(fd, &sb) < 0) {
		err = -errno;
		set_why(why, why_size, "%s: %s", path, strerror(errno));
		goto out_close;
	}
	if (!S_ISREG(sb.st_mode)) {
		set_why(why, why_size, "%s: not a regular file", path);
		err = -EINVAL;
		goto out_close;
	}
	if (sb.st_mode & (S_IRWXG | S_IRWXO)) {
		set_why(why, why_size, "%s: mode %04o lets group or others in (chmod 600 it)",
			path, (unsigned)(sb.st_mode & 07777));
		err = -EPERM;
		goto out_close;
	}
	n = pread_full(fd, buf, sizeof(buf), 0);
	if (n < 0) {
		err = (int)n;
		set_why(why, why_size, "%s: %s", path, strerror(-err));
		goto out_wipe;
	}
	if (n == VAULT_KEY_LEN) {
		memcpy(key, buf, VAULT_KEY_LEN);
		goto out_wipe;
	}
	if (n == 2 * VAULT_KEY_LEN || (n == 2 * VAULT_KEY_LEN + 1 && buf[n - 1] == '\n')) {
		for (int i = 0; i < VAULT_KEY_LEN; i++) {
			int hi = hex_digit_any((char)buf[2 * i]),
			    lo = hex_digit_any((char)buf[2 * i + 1]);

			if (hi < 0 || lo < 0) {
				set_why(why, why_size, "%s: byte %d is not a hex digit", path,
					hi < 0 ? 2 * i : 2 * i + 1);
				OPENSSL_cleanse(key, VAULT_KEY_LEN);
				err = -EINVAL;
				goto out_wipe;
			}
			key[i] = (uint8_t)(hi << 4 | lo);
		}
		goto out_wipe;
	}
	set_why(why, why_size, "%s: %zd bytes: expected 32 raw bytes or 64 hex digits", path,
		n == (ssize_t)sizeof(buf) ? (ssize_t)sb.st_size : n);
	err = -EINVAL;
out_wipe:
	OPENSSL_cleanse(buf, sizeof(buf));
out_close:
	close(fd);
	return err;
}

/* ---- background verification ---- */

struct vault_verifier {
	uint64_t next;	 /* the next record to verify */
	uint64_t passes; /* complete passes */
	size_t seg;	 /* its segment (index into the vault's table) */
	uint64_t off;	 /* its offset there; 0: the segment is not open yet */
	uint8_t prev[VAULT_HASH_LEN];
	int fd;
	struct reader rd;
};

int vault_verifier_new(struct vault *vault, struct vault_verifier **out)
{
	struct vault_verifier *c = calloc(1, sizeof(*c));

	(void)vault;
	if (c == NULL)
		return -ENOMEM;
	c->fd = -1;
	*out = c;
	return 0;
}

static void verifier_close(struct vault_verifier *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->off = 0;
	reader_reset(&c->rd, -1, 0);
}

void vault_verifier_free(struct vault_verifier *c)
{
	if (c == NULL)
		return;
	verifier_close(c);
	free(c->rd.buf);
	free(c);
}

void vault_verifier_progress(const struct vault_verifier *c, uint64_t *next, uint64_t *passes)
{
	*next = c->next;
	*passes = c->passes;
}

/* Opens segment C->seg and checks its header against the table and the chain so far. */
static int verifier_open_segment(struct vault *v, struct vault_verifier *c, char *why,
				 size_t why_size)
{
	const struct vault_segment *seg = &v->segments[c->seg];
	uint8_t raw[VAULT_SEGMENT_HEADER];
	struct segment_header h;
	char name[NAME_SIZE];
	ssize_t got;
	int err;

	segment_name(name, seg->number);
	c->fd = statedir_openat(&v->folder, name, O_RDONLY, 0, why, why_size);
	if (c->fd < 0) {
		err = c->fd;
		c->fd = -1;
		return err;
	}
	got = pread_full(c->fd, raw, sizeof(raw), 0);
	if (got < 0) {
		set_why(why, why_size, "%s: %s", name, strerror((int)-got));
		return (int)got;
	}
	if (got < VAULT_SEGMENT_HEADER)
		return corrupt(why, why_size, "%s offset 0: segment header truncated", name);
	err = header_check(v, raw, seg->number, &h, why, why_size);
	if (err)
		return err;
	if (h.first_index != c->next || memcmp(h.prev_hash, c->prev, VAULT_HASH_LEN) != 0)
		return corrupt(
			why, why_size,
			"%s offset 16: the header does not continue the chain (first index "
			"%" PRIu64 " where %" PRIu64 " was expected, or its previous hash)",
			name, h.first_index, c->next);
	c->off = VAULT_SEGMENT_HEADER;
	return 0;
}

int vault_verifier_step(struct vault *vault, struct vault_verifier *c, uint64_t max, char *why,
			size_t why_size)
{
	struct vault *v = vault;
	uint64_t done = 0;
	char name[NAME_SIZE];
	int err;

	set_why(why, why_size, "%s", "");
	if (v->nseg == 0)
		return 0;
	if (c->next == 0 && c->off == 0 && c->seg == 0) /* a pass starts */
		memcpy(c->prev, v->segments[0].prev_hash, VAULT_HASH_LEN),
			c->next = v->segments[0].first_index;
	while (done < max) {
		const struct vault_segment *seg;
		uint64_t end;
		const uint8_t *p;
		uint8_t hash[VAULT_HASH_LEN];
		uint32_t len;

		if (c->next >= v->durable) { /* every durable record checked: a pass is done */
			verifier_close(c);
			c->passes++;
			c->seg = 0;
			c->next = v->segments[0].first_index;
			memcpy(c->prev, v->segments[0].prev_hash, VAULT_HASH_LEN);
			break;
		}
		if (c->seg >= v->nseg)
			return corrupt(why, why_size, "record %" PRIu64 " is in no segment",
				       c->next);
		seg = &v->segments[c->seg];
		segment_name(name, seg->number);
		if (c->off == 0) {
			err = verifier_open_segment(v, c, why, why_size);
			if (err)
				return err;
		}
		/* bytes on disk: the last segment's write-behind buffer is not */
		end = seg->size - (c->seg + 1 == v->nseg ? v->wbuf_len : 0);
		if (c->next == seg->first_index + seg->count && c->seg + 1 < v->nseg) {
			if (c->off != end)
				return corrupt(why, why_size,
					       "%s offset %" PRIu64 ": %" PRIu64
					       " bytes after the last record",
					       name, c->off, end - c->off);
			verifier_close(c);
			c->seg++;
			continue;
		}
		if (c->rd.fd != c->fd)
			reader_reset(&c->rd, c->fd, end);
		c->rd.end = end;
		err = reader_map(&c->rd, c->off, 4, &p);
		if (err == 0) {
			len = get_le32(p);
			if (len < VAULT_RECORD_MIN || len > RECORD_MAX || len > end - c->off)
				return corrupt(why, why_size,
					       "%s offset %" PRIu64 ": record %" PRIu64
					       " length %" PRIu32 " out of range",
					       name, c->off, c->next, len);
			err = reader_map(&c->rd, c->off, len, &p);
		}
		if (err == -ENODATA)
			return corrupt(why, why_size,
				       "%s offset %" PRIu64 ": record %" PRIu64
				       " missing before the end of the segment",
				       name, c->off, c->next);
		if (err) {
			set_why(why, why_size, "%s: %s", name, strerror(-err));
			return err;
		}
		err = record_check(v, seg, c->off, p, len, c->next, c->prev, hash, why,
				   why_size);
		if (err)
			return err;
		memcpy(c->prev, hash, VAULT_HASH_LEN);
		c->off += len;
		c->next++;
		done++;
	}
	return (int)(done > INT32_MAX ? INT32_MAX : done);
}
