/* digest.c -- the compact digest of a round (see digest.h): a strict, bounded binary
 * layout, parsed here and nowhere else. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "digest.h"

#define ENTRY_FIXED (1 + 8 + DIGEST_HASH_LEN) /* length byte, sequence, hash */

static int authority_valid(const char *p, size_t len)
{
	if (len == 0 || len > QUORUM_NODE_ID_MAX)
		return 0;
	for (size_t i = 0; i < len; i++) {
		if (p[i] < 0x21 || p[i] > 0x7e)
			return 0;
	}
	return 1;
}

int digest_encode(const struct digest_entry *entries, size_t count, uint8_t **out, size_t *len)
{
	size_t size = 3;
	uint8_t *buf, *w;

	if (count > DIGEST_ENTRIES_MAX)
		return -EINVAL;
	for (size_t i = 0; i < count; i++) {
		size_t a = strnlen(entries[i].authority, QUORUM_NODE_ID_MAX + 1);

		if (!authority_valid(entries[i].authority, a))
			return -EINVAL;
		size += ENTRY_FIXED + a;
	}
	buf = malloc(size);
	if (buf == NULL)
		return -ENOMEM;
	w = buf;
	*w++ = DIGEST_VERSION;
	*w++ = (uint8_t)(count >> 8);
	*w++ = (uint8_t)count;
	for (size_t i = 0; i < count; i++) {
		size_t a = strlen(entries[i].authority);

		*w++ = (uint8_t)a;
		memcpy(w, entries[i].authority, a);
		w += a;
		for (int b = 7; b >= 0; b--)
			*w++ = (uint8_t)(entries[i].sequence >> (8 * b));
		memcpy(w, entries[i].hash, DIGEST_HASH_LEN);
		w += DIGEST_HASH_LEN;
	}
	*out = buf;
	*len = size;
	return 0;
}

int digest_decode(const uint8_t *p, size_t len, struct digest_entry *out, size_t cap,
		  size_t *count, const char **why)
{
	size_t n, off = 3;

	if (len < 3 || p[0] != DIGEST_VERSION) {
		*why = len < 3 ? "digest_truncated" : "digest_version";
		return -EINVAL;
	}
	n = ((size_t)p[1] << 8) | p[2];
	if (n > cap || n > DIGEST_ENTRIES_MAX) {
		*why = "digest_too_many";
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i++) {
		size_t a;

		if (off >= len || len - off < ENTRY_FIXED || len - off - ENTRY_FIXED < p[off]) {
			*why = "digest_truncated";
			return -EINVAL;
		}
		a = p[off++];
		if (!authority_valid((const char *)p + off, a)) {
			*why = "digest_authority_invalid";
			return -EINVAL;
		}
		memcpy(out[i].authority, p + off, a);
		out[i].authority[a] = '\0';
		off += a;
		out[i].sequence = 0;
		for (int b = 0; b < 8; b++)
			out[i].sequence = (out[i].sequence << 8) | p[off++];
		memcpy(out[i].hash, p + off, DIGEST_HASH_LEN);
		off += DIGEST_HASH_LEN;
	}
	if (off != len) {
		*why = "digest_trailing";
		return -EINVAL;
	}
	*count = n;
	return 0;
}
