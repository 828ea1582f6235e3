/* dedup.c -- a bounded set of fingerprints (see dedup.h): a ring of entries, each chained
 * into a bucket of a power-of-two hash table keyed by the fingerprint's first bytes (they
 * are SHA-256 output: already uniform). */
#include <stdlib.h>
#include <string.h>

#include "dedup.h"

#define NONE UINT32_MAX

struct dedup_entry {
	uint8_t fp[DEDUP_FINGERPRINT_LEN];
	uint32_t next; /* next entry in the same bucket, or NONE */
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
	d->buckets = malloc(buckets * sizeof(*d->buckets));
	if (d->entries == NULL || d->buckets == NULL) {
		dedup_free(d);
		return NULL;
	}
	for (size_t i = 0; i < buckets; i++)
		d->buckets[i] = NONE;
	d->capacity = capacity;
	d->mask = buckets - 1;
	return d;
}

int dedup_contains(const struct dedup *d, const uint8_t fp[DEDUP_FINGERPRINT_LEN])
{
	for (uint32_t i = d->buckets[bucket_of(d, fp)]; i != NONE; i = d->entries[i].next) {
		if (memcmp(d->entries[i].fp, fp, DEDUP_FINGERPRINT_LEN) == 0)
			return 1;
	}
	return 0;
}

/* Unlinks entry I from its bucket. */
static void unlink_entry(struct dedup *d, uint32_t i)
{
	uint32_t *p = &d->buckets[bucket_of(d, d->entries[i].fp)];

	while (*p != NONE && *p != i)
		p = &d->entries[*p].next;
	if (*p == i)
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
	d->buckets[b] = slot;
	return 1;
}

size_t dedup_count(const struct dedup *d)
{
	return d->count;
}

void dedup_free(struct dedup *d)
{
	if (d == NULL)
		return;
	free(d->entries);
	free(d->buckets);
	free(d);
}
