/* nts-cookie.c -- NTS cookies sealed under the server's master keys, and the ring of those
 * keys with its text form (see nts-cookie.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "nts-cookie.h"
#include "hex.h"
#include "byteorder.h"

#define KEYRING_HEADER "quorum-nts-keys-v1\n"

/* ---- the ring ---- */

int nts_keyring_rotate(struct nts_keyring *r, unsigned kept, int64_t now_s)
{
	struct nts_master_key fresh;
	unsigned keep;

	memset(&fresh, 0, sizeof(fresh));
	if (kept < 1 || kept > NTS_KEYRING_MAX)
		return -EINVAL;
	if (RAND_bytes(fresh.key, sizeof(fresh.key)) != 1)
		return -EIO;
	if (r->count > 0) {
		fresh.id = r->keys[0].id + 1;
	} else if (RAND_bytes((uint8_t *)&fresh.id, sizeof(fresh.id)) != 1) {
		OPENSSL_cleanse(&fresh, sizeof(fresh));
		return -EIO;
	}
	fresh.created_s = now_s;
	keep = r->count + 1 < kept ? r->count + 1 : kept;
	for (unsigned i = keep - 1; i < r->count; i++)
		OPENSSL_cleanse(&r->keys[i], sizeof(r->keys[i])); /* dropped */
	memmove(&r->keys[1], &r->keys[0], (keep - 1) * sizeof(r->keys[0]));
	r->keys[0] = fresh;
	r->count = keep;
	OPENSSL_cleanse(&fresh, sizeof(fresh));
	return 0;
}

const struct nts_master_key *nts_keyring_find(const struct nts_keyring *r, uint32_t id)
{
	for (unsigned i = 0; i < r->count; i++) {
		if (r->keys[i].id == id)
			return &r->keys[i];
	}
	return NULL;
}

int nts_keyring_equal(const struct nts_keyring *a, const struct nts_keyring *b)
{
	if (a->count != b->count)
		return 0;
	for (unsigned i = 0; i < a->count; i++) {
		if (a->keys[i].id != b->keys[i].id ||
		    a->keys[i].created_s != b->keys[i].created_s ||
		    CRYPTO_memcmp(a->keys[i].key, b->keys[i].key, sizeof(a->keys[i].key)) != 0)
			return 0;
	}
	return 1;
}

void nts_keyring_wipe(struct nts_keyring *r)
{
	OPENSSL_cleanse(r, sizeof(*r));
}

int nts_keyring_format(const struct nts_keyring *r, char *out, size_t cap)
{
	size_t len = 0;
	int n;

	n = snprintf(out, cap, "%s", KEYRING_HEADER);
	if (n < 0 || (size_t)n >= cap)
		return -ENOSPC;
	len = (size_t)n;
	for (unsigned i = 0; i < r->count; i++) {
		const struct nts_master_key *k = &r->keys[i];

		n = snprintf(out + len, cap - len, "%08" PRIx32 " %" PRId64 " ", k->id,
			     k->created_s);
		if (n < 0 || (size_t)n >= cap - len)
			return -ENOSPC;
		len += (size_t)n;
		if (cap - len < 2 * sizeof(k->key) + 2)
			return -ENOSPC;
		for (size_t j = 0; j < sizeof(k->key); j++)
			snprintf(out + len + 2 * j, 3, "%02x", k->key[j]);
		len += 2 * sizeof(k->key);
		out[len++] = '\n';
		out[len] = '\0';
	}
	return (int)len;
}

/* One "ID CREATED KEY" line (without its newline) into K. 0 or -EINVAL. */
static int parse_key_line(const char *line, size_t len, struct nts_master_key *k)
{
	uint32_t id = 0;
	int64_t created = 0;
	size_t i = 0;

	for (; i < 8; i++) {
		int v = i < len ? hex_digit(line[i]) : -1;

		if (v < 0)
			return -EINVAL;
		id = id << 4 | (uint32_t)v;
	}
	if (i >= len || line[i++] != ' ' || i >= len || line[i] < '0' || line[i] > '9' ||
	    (line[i] == '0' && i + 1 < len && line[i + 1] != ' '))
		return -EINVAL;
	for (; i < len && line[i] >= '0' && line[i] <= '9'; i++) {
		if (created > (INT64_MAX - 9) / 10)
			return -EINVAL;
		created = created * 10 + (line[i] - '0');
	}
	if (i >= len || line[i++] != ' ' || len - i != 2 * NTS_AEAD_KEY_LEN)
		return -EINVAL;
	for (size_t j = 0; j < NTS_AEAD_KEY_LEN; j++) {
		int hi = hex_digit(line[i + 2 * j]), lo = hex_digit(line[i + 2 * j + 1]);

		if (hi < 0 || lo < 0)
			return -EINVAL;
		k->key[j] = (uint8_t)(hi << 4 | lo);
	}
	k->id = id;
	k->created_s = created;
	return 0;
}

int nts_keyring_parse(const char *text, size_t len, struct nts_keyring *r, char *why,
		      size_t why_size)
{
	size_t pos = strlen(KEYRING_HEADER);
	unsigned line_no = 1;

	memset(r, 0, sizeof(*r));
	if (len < pos || memcmp(text, KEYRING_HEADER, pos) != 0) {
		snprintf(why, why_size, "line 1: not \"%.*s\"", (int)pos - 1, KEYRING_HEADER);
		return -EINVAL;
	}
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		struct nts_master_key k;

		memset(&k, 0, sizeof(k));
		line_no++;
		if (nl == NULL) {
			snprintf(why, why_size, "line %u: no newline at its end", line_no);
			goto out_invalid;
		}
		if (r->count == NTS_KEYRING_MAX) {
			snprintf(why, why_size, "line %u: more than %d keys", line_no,
				 NTS_KEYRING_MAX);
			goto out_invalid;
		}
		if (parse_key_line(text + pos, (size_t)(nl - (text + pos)), &k) != 0) {
			snprintf(why, why_size,
				 "line %u: not \"ID CREATED KEY\" (8 hex digits, Unix seconds, "
				 "64 "
				 "hex digits)",
				 line_no);
			goto out_invalid;
		}
		if (nts_keyring_find(r, k.id) != NULL ||
		    (r->count > 0 && k.created_s > r->keys[r->count - 1].created_s)) {
			snprintf(why, why_size,
				 "line %u: key %08" PRIx32
				 " repeats an id or is newer than the "
				 "key before it",
				 line_no, k.id);
			OPENSSL_cleanse(&k, sizeof(k));
			goto out_invalid;
		}
		r->keys[r->count++] = k;
		OPENSSL_cleanse(&k, sizeof(k));
		pos = (size_t)(nl - text) + 1;
	}
	if (r->count == 0) {
		snprintf(why, why_size, "no key");
		goto out_invalid;
	}
	return 0;

out_invalid:
	nts_keyring_wipe(r);
	return -EINVAL;
}

/* ---- cookies ---- */

int nts_cookie_seal(struct nts_aead *master, uint32_t key_id, const uint8_t *nonce,
		    const struct nts_cookie_keys *keys, uint8_t *out)
{
	uint8_t plain[2 * NTS_AEAD_KEY_LEN];
	struct nts_aead_ad ad[2];
	int err;

	put_be32(out, key_id);
	memcpy(out + 4, nonce, NTS_COOKIE_NONCE_LEN);
	memcpy(plain, keys->c2s, NTS_AEAD_KEY_LEN);
	memcpy(plain + NTS_AEAD_KEY_LEN, keys->s2c, NTS_AEAD_KEY_LEN);
	ad[0] = (struct nts_aead_ad){ out, 4 };
	ad[1] = (struct nts_aead_ad){ out + 4, NTS_COOKIE_NONCE_LEN };
	err = nts_aead_seal(master, ad, 2, plain, sizeof(plain),
			    out + 4 + NTS_COOKIE_NONCE_LEN);
	OPENSSL_cleanse(plain, sizeof(plain));
	return err;
}

int nts_cookie_key_id(const uint8_t *cookie, size_t len, uint32_t *id)
{
	if (len != NTS_COOKIE_LEN)
		return -EINVAL;
	*id = get_be32(cookie);
	return 0;
}

int nts_cookie_open(struct nts_aead *master, const uint8_t *cookie, size_t len,
		    struct nts_cookie_keys *keys)
{
	uint8_t plain[2 * NTS_AEAD_KEY_LEN];
	struct nts_aead_ad ad[2];
	int err;

	if (len != NTS_COOKIE_LEN)
		return -EINVAL;
	ad[0] = (struct nts_aead_ad){ cookie, 4 };
	ad[1] = (struct nts_aead_ad){ cookie + 4, NTS_COOKIE_NONCE_LEN };
	err = nts_aead_open(master, ad, 2, cookie + 4 + NTS_COOKIE_NONCE_LEN,
			    NTS_COOKIE_LEN - 4 - NTS_COOKIE_NONCE_LEN, plain);
	if (err == 0) {
		memcpy(keys->c2s, plain, NTS_AEAD_KEY_LEN);
		memcpy(keys->s2c, plain + NTS_AEAD_KEY_LEN, NTS_AEAD_KEY_LEN);
	} else {
		OPENSSL_cleanse(keys, sizeof(*keys));
	}
	OPENSSL_cleanse(plain, sizeof(plain));
	return err;
}
