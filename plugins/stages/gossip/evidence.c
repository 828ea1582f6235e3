/* evidence.c -- the bounded (authority, sequence) index of attestations (see evidence.h): a
 * ring of entries chained into the buckets of a power-of-two hash table (FNV-1a over the
 * authority id and the sequence). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "evidence.h"

/* Links (bucket heads, next) hold an entry's index + 1; 0 is the end of a chain, so the
 * tables start as calloc's zeroes and a page costs memory only once written. */
#define NONE 0u

struct evidence {
	struct evidence_entry *entries;
	size_t capacity, count, oldest;
	uint32_t *buckets;
	size_t mask;
};

static size_t bucket_of(const struct evidence *e, const char *authority, uint64_t sequence)
{
	uint64_t h = 14695981039346656037ULL;

	for (const char *p = authority; *p != '\0'; p++)
		h = (h ^ (uint8_t)*p) * 1099511628211ULL;
	for (int i = 0; i < 8; i++)
		h = (h ^ (uint8_t)(sequence >> (8 * i))) * 1099511628211ULL;
	return (size_t)h & e->mask;
}

struct evidence *evidence_new(size_t capacity)
{
	struct evidence *e;
	size_t buckets = 16;

	if (capacity == 0 || capacity > EVIDENCE_CAPACITY_MAX)
		return NULL;
	while (buckets < capacity)
		buckets <<= 1;
	e = calloc(1, sizeof(*e));
	if (e == NULL)
		return NULL;
	e->entries = calloc(capacity, sizeof(*e->entries));
	e->buckets = calloc(buckets, sizeof(*e->buckets)); /* NONE everywhere */
	if (e->entries == NULL || e->buckets == NULL) {
		evidence_free(e);
		return NULL;
	}
	e->capacity = capacity;
	e->mask = buckets - 1;
	return e;
}

static struct evidence_entry *find(const struct evidence *e, const char *authority,
				   uint64_t sequence)
{
	for (uint32_t l = e->buckets[bucket_of(e, authority, sequence)]; l != NONE;
	     l = e->entries[l - 1].next) {
		struct evidence_entry *x = &e->entries[l - 1];

		if (x->sequence == sequence && strcmp(x->authority, authority) == 0)
			return x;
	}
	return NULL;
}

/* Frees entry I's attestation and unlinks it from its bucket. */
static void evict(struct evidence *e, uint32_t i)
{
	struct evidence_entry *x = &e->entries[i];
	uint32_t *p = &e->buckets[bucket_of(e, x->authority, x->sequence)];

	while (*p != NONE && *p != i + 1)
		p = &e->entries[*p - 1].next;
	if (*p == i + 1)
		*p = x->next;
	free(x->encoded);
	memset(x, 0, sizeof(*x));
}

int evidence_offer(struct evidence *e, const char *authority, uint64_t sequence,
		   const uint8_t digest[EVIDENCE_DIGEST_LEN], const uint8_t *encoded,
		   size_t len, struct evidence_entry **previous)
{
	struct evidence_entry *x = find(e, authority, sequence);
	uint8_t *copy;
	uint32_t slot;
	size_t b;

	if (x != NULL) {
		if (memcmp(x->digest, digest, EVIDENCE_DIGEST_LEN) == 0)
			return EVIDENCE_SAME;
		*previous = x;
		return EVIDENCE_CONFLICT;
	}
	if (strlen(authority) > QUORUM_NODE_ID_MAX || len == 0)
		return -EINVAL;
	copy = malloc(len);
	if (copy == NULL)
		return -ENOMEM;
	memcpy(copy, encoded, len);
	if (e->count == e->capacity) {
		slot = (uint32_t)e->oldest;
		evict(e, slot);
		e->oldest = (e->oldest + 1) % e->capacity;
	} else {
		slot = (uint32_t)((e->oldest + e->count) % e->capacity);
		e->count++;
	}
	x = &e->entries[slot];
	strcpy(x->authority, authority);
	x->sequence = sequence;
	memcpy(x->digest, digest, EVIDENCE_DIGEST_LEN);
	x->encoded = copy;
	x->len = len;
	x->reported = 0;
	b = bucket_of(e, authority, sequence);
	x->next = e->buckets[b];
	e->buckets[b] = slot + 1;
	return EVIDENCE_NEW;
}

struct evidence_entry *evidence_find(const struct evidence *e, const char *authority,
				     uint64_t sequence)
{
	return find(e, authority, sequence);
}

size_t evidence_count(const struct evidence *e)
{
	return e->count;
}

void evidence_free(struct evidence *e)
{
	if (e == NULL)
		return;
	for (size_t i = 0; e->entries != NULL && i < e->count; i++) /* written slots only */
		free(e->entries[(e->oldest + i) % e->capacity].encoded);
	free(e->entries);
	free(e->buckets);
	free(e);
}
