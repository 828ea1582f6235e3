/* roundjournal.c -- the round log's journal (format and contract in roundjournal.h).
 * Bounds: an item holds at most ITEM_MAX bytes; a replay reads at most READ_MAX bytes of the
 * file (the journal of one round log record is a few hundred KiB at most). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "roundjournal.h"
#include "statedir.h"
#include "byteorder.h"

#define MAGIC	      "QVRJRNL1"
#define HEADER_DOMAIN "quorum-round-journal-v1" /* hashed with its NUL */
#define ITEM_DOMAIN   "quorum-round-journal-item-v1"
#define HEADER_LEN    48
#define ITEM_HEAD     8
#define ITEM_CHECK    8
#define ITEM_MAX      (1u << 20)
#define ITEM_SEALED   0x01 /* flags, byte 1 of an item */
#define SEAL_NONCE    12
#define SEAL_TAG      16
#define READ_MAX      (64u << 20)

enum { ITEM_ROUND = 1, ITEM_AUDIT = 2, ITEM_VERDICT = 3 };

struct roundjournal {
	char *dir;
	struct statedir folder;
	int fd;
	int dirty;
	int has_key;
	uint8_t key[ROUNDJOURNAL_KEY_LEN];
};

static void set_why(char *why, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set_why(char *why, size_t size, const char *fmt, ...)
{
	va_list ap;

	if (why == NULL || size == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(why, size, fmt, ap);
	va_end(ap);
}

/* SHA-256(DOMAIN NUL || A || B) into OUT. 0 or -EIO. */
static int digest(const char *domain, const uint8_t *a, size_t alen, const uint8_t *b,
		  size_t blen, uint8_t out[32])
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	int ok = md != NULL && EVP_DigestInit_ex2(md, EVP_sha256(), NULL) == 1 &&
		 EVP_DigestUpdate(md, domain, strlen(domain) + 1) == 1 &&
		 EVP_DigestUpdate(md, a, alen) == 1 &&
		 (blen == 0 || EVP_DigestUpdate(md, b, blen) == 1) &&
		 EVP_DigestFinal_ex(md, out, NULL) == 1;

	EVP_MD_CTX_free(md);
	return ok ? 0 : -EIO;
}

static int write_full(int fd, const uint8_t *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int roundjournal_open(const char *dir, const uint8_t *key, struct roundjournal **out, char *why,
		      size_t why_size)
{
	struct roundjournal *j = calloc(1, sizeof(*j));
	int err;

	*out = NULL;
	if (j == NULL)
		return -ENOMEM;
	if (key != NULL) {
		memcpy(j->key, key, ROUNDJOURNAL_KEY_LEN);
		j->has_key = 1;
	}
	j->fd = -1;
	j->folder.fd = -1;
	j->dir = strdup(dir);
	if (j->dir == NULL) {
		free(j);
		return -ENOMEM;
	}
	err = statedir_open(&j->folder, j->dir, 0, why, why_size);
	if (err == 0) {
		j->fd = statedir_openat(&j->folder, ROUNDJOURNAL_NAME,
					O_RDWR | O_CREAT | O_APPEND, 0600, why, why_size);
		err = j->fd < 0 ? j->fd : 0;
	}
	if (err != 0) {
		roundjournal_close(j);
		return err;
	}
	*out = j;
	return 0;
}

void roundjournal_close(struct roundjournal *j)
{
	if (j == NULL)
		return;
	if (j->fd >= 0)
		close(j->fd);
	statedir_close(&j->folder);
	OPENSSL_cleanse(j->key, sizeof(j->key));
	free(j->dir);
	free(j);
}

/* AES-256-GCM of LEN bytes IN into OUT (nonce, ciphertext, tag), HEAD (the item's first
 * ITEM_HEAD bytes) authenticated with it. 0 or -EIO. */
static int seal(const struct roundjournal *j, const uint8_t *head, const uint8_t *in,
		size_t len, uint8_t *out)
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int n, ok = c != NULL && RAND_bytes(out, SEAL_NONCE) == 1 &&
		    EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), NULL, j->key, out) == 1 &&
		    EVP_EncryptUpdate(c, NULL, &n, head, ITEM_HEAD) == 1 &&
		    (len == 0 ||
		     EVP_EncryptUpdate(c, out + SEAL_NONCE, &n, in, (int)len) == 1) &&
		    EVP_EncryptFinal_ex(c, out + SEAL_NONCE + len, &n) == 1 &&
		    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, SEAL_TAG,
					out + SEAL_NONCE + len) == 1;

	EVP_CIPHER_CTX_free(c);
	return ok ? 0 : -EIO;
}

/* Opens a sealed item's LEN bytes IN into OUT (LEN - nonce - tag bytes). 0 or -EBADMSG. */
static int unseal(const struct roundjournal *j, const uint8_t *head, const uint8_t *in,
		  size_t len, uint8_t *out)
{
	EVP_CIPHER_CTX *c;
	uint8_t tag[SEAL_TAG];
	size_t pt;
	int n, ok;

	if (len < SEAL_NONCE + SEAL_TAG)
		return -EBADMSG;
	pt = len - SEAL_NONCE - SEAL_TAG;
	memcpy(tag, in + len - SEAL_TAG, SEAL_TAG);
	c = EVP_CIPHER_CTX_new();
	ok = c != NULL && EVP_DecryptInit_ex(c, EVP_aes_256_gcm(), NULL, j->key, in) == 1 &&
	     EVP_DecryptUpdate(c, NULL, &n, head, ITEM_HEAD) == 1 &&
	     (pt == 0 || EVP_DecryptUpdate(c, out, &n, in + SEAL_NONCE, (int)pt) == 1) &&
	     EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, SEAL_TAG, tag) == 1 &&
	     EVP_DecryptFinal_ex(c, out + pt, &n) == 1;
	EVP_CIPHER_CTX_free(c);
	return ok ? 0 : -EBADMSG;
}

/* Reads the whole file (at most READ_MAX bytes) into *BUF. */
static int read_all(struct roundjournal *j, uint8_t **buf, size_t *len)
{
	struct stat st;
	size_t size, done = 0;

	if (fstat(j->fd, &st) != 0)
		return -errno;
	size = (uint64_t)st.st_size > READ_MAX ? READ_MAX : (size_t)st.st_size;
	*buf = malloc(size > 0 ? size : 1);
	if (*buf == NULL)
		return -ENOMEM;
	while (done < size) {
		ssize_t n = pread(j->fd, *buf + done, size - done, (off_t)done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int err = -errno;

			free(*buf);
			return err;
		}
		if (n == 0)
			break;
		done += (size_t)n;
	}
	*len = done;
	return 0;
}

/* Hands item KIND (DATA, LEN bytes) to SINK. 0, the sink's value, or 1 (malformed). */
static int item_hand(const struct roundjournal_sink *sink, void *arg, unsigned kind,
		     const uint8_t *data, size_t len, size_t *rounds)
{
	const char *stage, *reason, *end;

	switch (kind) {
	case ITEM_ROUND:
		(*rounds)++;
		return sink->round(arg, data, len);
	case ITEM_AUDIT:
		return sink->audit(arg, (const char *)data, len);
	case ITEM_VERDICT:
		if (len < 6)
			return 1;
		stage = (const char *)data + 4;
		end = memchr(stage, '\0', len - 4);
		if (end == NULL)
			return 1;
		reason = end + 1;
		if (memchr(reason, '\0', len - 4 - (size_t)(reason - stage)) == NULL)
			return 1;
		return sink->verdict(arg, get_le32(data), stage, reason);
	default:
		return 1;
	}
}

int roundjournal_replay(struct roundjournal *j, const struct roundjournal_sink *sink, void *arg,
			uint64_t *base, size_t *rounds, uint64_t *dropped, char *why,
			size_t why_size)
{
	uint8_t *buf = NULL, *plain = NULL, check[32];
	size_t len = 0, off = HEADER_LEN;
	int err;

	*base = 0;
	*rounds = 0;
	*dropped = 0;
	set_why(why, why_size, "%s", "");
	err = read_all(j, &buf, &len);
	if (err != 0) {
		set_why(why, why_size, "%s/%s: %s", j->dir, ROUNDJOURNAL_NAME, strerror(-err));
		return err;
	}
	if (len == 0)
		goto out;
	plain = malloc(ITEM_MAX + 1);
	if (plain == NULL) {
		err = -ENOMEM;
		goto out;
	}
	if (len < HEADER_LEN || memcmp(buf, MAGIC, 8) != 0 ||
	    digest(HEADER_DOMAIN, buf, 16, NULL, 0, check) != 0 ||
	    memcmp(check, buf + 16, 32) != 0) {
		*dropped = len;
		set_why(why, why_size, "%s/%s: no valid header", j->dir, ROUNDJOURNAL_NAME);
		goto out;
	}
	*base = get_le64(buf + 8);
	while (off < len) {
		const uint8_t *data;
		uint32_t item_len, stored;
		unsigned kind, flags;

		if (len - off < ITEM_HEAD + ITEM_CHECK)
			break;
		kind = buf[off];
		flags = buf[off + 1];
		item_len = stored = get_le32(buf + off + 4);
		if ((flags & ~ITEM_SEALED) != 0 || buf[off + 2] != 0 || buf[off + 3] != 0 ||
		    item_len > ITEM_MAX || len - off - ITEM_HEAD - ITEM_CHECK < item_len)
			break;
		if (digest(ITEM_DOMAIN, buf + off, ITEM_HEAD + item_len, NULL, 0, check) != 0 ||
		    memcmp(check, buf + off + ITEM_HEAD + item_len, ITEM_CHECK) != 0)
			break;
		data = buf + off + ITEM_HEAD;
		if (flags & ITEM_SEALED) {
			if (!j->has_key || unseal(j, buf + off, data, item_len, plain) != 0) {
				set_why(why, why_size, "%s/%s offset %zu: a sealed item %s",
					j->dir, ROUNDJOURNAL_NAME, off,
					j->has_key ? "the key does not open" : "and no key");
				break;
			}
			data = plain;
			item_len -= SEAL_NONCE + SEAL_TAG;
		}
		err = item_hand(sink, arg, kind, data, item_len, rounds);
		if (err == 1)
			break;
		if (err != 0)
			goto out;
		off += ITEM_HEAD + stored + ITEM_CHECK;
	}
	if (off < len) {
		*dropped = len - off;
		if (why == NULL || why[0] == '\0')
			set_why(why, why_size,
				"%s/%s offset %zu: %zu bytes that are not a whole item", j->dir,
				ROUNDJOURNAL_NAME, off, len - off);
	}
	err = 0;
out:
	if (plain != NULL)
		OPENSSL_cleanse(plain, ITEM_MAX + 1);
	free(plain);
	free(buf);
	return err;
}

int roundjournal_start(struct roundjournal *j, uint64_t base)
{
	uint8_t header[HEADER_LEN];
	int err;

	memcpy(header, MAGIC, 8);
	for (int i = 0; i < 8; i++)
		header[8 + i] = (uint8_t)(base >> (8 * i));
	if (digest(HEADER_DOMAIN, header, 16, NULL, 0, header + 16) != 0)
		return -EIO;
	if (ftruncate(j->fd, 0) != 0)
		return -errno;
	err = write_full(j->fd, header, sizeof(header));
	if (err != 0)
		return err;
	j->dirty = 1;
	return roundjournal_sync(j);
}

/* Appends item KIND: HEAD (its data's first HEAD_LEN bytes) then DATA, with one write. */
static int item_write(struct roundjournal *j, unsigned kind, const uint8_t *head,
		      size_t head_len, const uint8_t *data, size_t len)
{
	size_t plain_len = head_len + len;
	size_t item_len = plain_len + (j->has_key ? SEAL_NONCE + SEAL_TAG : 0);
	uint8_t *buf, *plain, check[32];
	int err = 0;

	if (item_len > ITEM_MAX)
		return -EMSGSIZE;
	buf = malloc(ITEM_HEAD + item_len + ITEM_CHECK);
	plain = malloc(plain_len + 1);
	if (buf == NULL || plain == NULL) {
		free(buf);
		free(plain);
		return -ENOMEM;
	}
	memset(buf, 0, ITEM_HEAD);
	buf[0] = (uint8_t)kind;
	buf[1] = j->has_key ? ITEM_SEALED : 0;
	put_le32(buf + 4, (uint32_t)item_len);
	if (head_len > 0)
		memcpy(plain, head, head_len);
	if (len > 0)
		memcpy(plain + head_len, data, len);
	/* With the vault's key the journal keeps nothing in clear either. */
	if (j->has_key)
		err = seal(j, buf, plain, plain_len, buf + ITEM_HEAD);
	else
		memcpy(buf + ITEM_HEAD, plain, plain_len);
	OPENSSL_cleanse(plain, plain_len);
	free(plain);
	if (err == 0)
		err = digest(ITEM_DOMAIN, buf, ITEM_HEAD + item_len, NULL, 0, check);
	if (err == 0) {
		memcpy(buf + ITEM_HEAD + item_len, check, ITEM_CHECK);
		err = write_full(j->fd, buf, ITEM_HEAD + item_len + ITEM_CHECK);
	}
	free(buf);
	if (err == 0)
		j->dirty = 1;
	return err;
}

int roundjournal_round(struct roundjournal *j, const uint8_t *payload, size_t len)
{
	return item_write(j, ITEM_ROUND, NULL, 0, payload, len);
}

int roundjournal_audit(struct roundjournal *j, const char *text, size_t len)
{
	return item_write(j, ITEM_AUDIT, NULL, 0, (const uint8_t *)text, len);
}

int roundjournal_verdict(struct roundjournal *j, uint32_t verdict, const char *stage,
			 const char *reason)
{
	size_t slen = strlen(stage) + 1, rlen = strlen(reason) + 1;
	uint8_t head[4], *text = malloc(slen + rlen);
	int err;

	if (text == NULL)
		return -ENOMEM;
	put_le32(head, verdict);
	memcpy(text, stage, slen);
	memcpy(text + slen, reason, rlen);
	err = item_write(j, ITEM_VERDICT, head, sizeof(head), text, slen + rlen);
	free(text);
	return err;
}

int roundjournal_dirty(const struct roundjournal *j)
{
	return j != NULL && j->dirty;
}

int roundjournal_sync(struct roundjournal *j)
{
	int rc;

	if (!j->dirty)
		return 0;
	do
		rc = fdatasync(j->fd);
	while (rc < 0 && errno == EINTR);
	if (rc < 0)
		return -errno;
	j->dirty = 0;
	return 0;
}
