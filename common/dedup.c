/* dedup.c -- a bounded set of fingerprints (see dedup.h): a ring of entries, each chained
 * into a bucket of a power-of-two hash table keyed by the fingerprint's first bytes (they
 * are SHA-256 output: already uniform). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include <quorum/event.h>

#include "dedup.h"

/* Links (bucket heads, next) hold an entry's index + 1; 0 is the end of a chain, so the
 * tables start as calloc's zeroes and a page costs memory only once written. */
#define NONE 0u

struct dedup_entry {
	uint8_t fp[DEDUP_FINGERPRINT_LEN];
	uint32_t next; /* the next entry in the same bucket (index + 1), or NONE */
};

struct dedup {
	struct dedup_entry *entries; /* the ring */
	size_t capacity, count, oldest;
	uint32_t *buckets;
	size_t mask;
};

static size_t bucket_of(const struct dedup *d, const uint8_t *fp)
{
	uint64_t h;

	memcpy(&h, fp, sizeof(h));
	return (size_t)h & d->mask;
}

struct dedup *dedup_new(size_t capacity)
{
	struct dedup *d;
	size_t buckets = 16;

	if (capacity == 0 || capacity > DEDUP_CAPACITY_MAX)
		return NULL;
	while (buckets < capacity)
		buckets <<= 1;
	d = calloc(1, sizeof(*d));
	if (d == NULL)
		return NULL;
	d->entries = calloc(capacity, sizeof(*d->entries));
	d->buckets = calloc(buckets, sizeof(*d->buckets)); /* NONE everywhere */
	if (d->entries == NULL || d->buckets == NULL) {
		dedup_free(d);
		return NULL;
	}
	d->capacity = capacity;
	d->mask = buckets - 1;
	return d;
}

int dedup_contains(const struct dedup *d, const uint8_t fp[DEDUP_FINGERPRINT_LEN])
{
	for (uint32_t l = d->buckets[bucket_of(d, fp)]; l != NONE; l = d->entries[l - 1].next) {
		if (memcmp(d->entries[l - 1].fp, fp, DEDUP_FINGERPRINT_LEN) == 0)
			return 1;
	}
	return 0;
}

/* Unlinks entry I from its bucket. */
static void unlink_entry(struct dedup *d, uint32_t i)
{
	uint32_t *p = &d->buckets[bucket_of(d, d->entries[i].fp)];

	while (*p != NONE && *p != i + 1)
		p = &d->entries[*p - 1].next;
	if (*p == i + 1)
		*p = d->entries[i].next;
}

int dedup_insert(struct dedup *d, const uint8_t fp[DEDUP_FINGERPRINT_LEN])
{
	uint32_t slot;
	size_t b;

	if (dedup_contains(d, fp))
		return 0;
	if (d->count == d->capacity) {
		slot = (uint32_t)d->oldest;
		unlink_entry(d, slot);
		d->oldest = (d->oldest + 1) % d->capacity;
	} else {
		slot = (uint32_t)((d->oldest + d->count) % d->capacity);
		d->count++;
	}
	memcpy(d->entries[slot].fp, fp, DEDUP_FINGERPRINT_LEN);
	b = bucket_of(d, fp);
	d->entries[slot].next = d->buckets[b];
	d->buckets[b] = slot + 1;
	return 1;
}

size_t dedup_count(const struct dedup *d)
{
	return d->count;
}

const uint8_t *dedup_at(const struct dedup *d, size_t i)
{
	if (i >= d->count)
		return NULL;
	return d->entries[(d->oldest + i) % d->capacity].fp;
}

void dedup_free(struct dedup *d)
{
	if (d == NULL)
		return;
	free(d->entries);
	free(d->buckets);
	free(d);
}

int dedup_fingerprint(const struct quorum_signed_state *st, uint8_t out[DEDUP_FINGERPRINT_LEN])
{
	size_t len = quorum_signed_state_message_len(st);
	uint8_t *msg = malloc(len);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ok = msg != NULL && ctx != NULL;

	if (ok) {
		quorum_signed_state_message(st, msg, len);
		ok = EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 &&
		     EVP_DigestUpdate(ctx, msg, len) == 1 &&
		     (st->signature.len == 0 ||
		      EVP_DigestUpdate(ctx, st->signature.data, st->signature.len) == 1) &&
		     EVP_DigestFinal_ex(ctx, out, NULL) == 1;
	}
	EVP_MD_CTX_free(ctx);
	free(msg);
	return ok ? 0 : -ENOMEM;
}
