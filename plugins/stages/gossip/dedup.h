/* dedup.h -- the gossip stage's forwarding set: the fingerprints (SHA-256 of the signed
 * bytes and the signature) of the last CAPACITY events it forwarded or received, in a ring
 * (the oldest evicted first) with a hash index. In memory only: after a restart the passport
 * stage's persisted replay window still refuses what was seen. */
#ifndef QUORUM_GOSSIP_DEDUP_H
#define QUORUM_GOSSIP_DEDUP_H

#include <stddef.h>
#include <stdint.h>

#define DEDUP_FINGERPRINT_LEN 32
#define DEDUP_CAPACITY_MAX    10000000u

struct dedup;

/* dedup_new: an empty set of CAPACITY (1 .. DEDUP_CAPACITY_MAX). NULL when out of memory
 * or CAPACITY is out of range. */
struct dedup *dedup_new(size_t capacity);

/* dedup_contains: 1 when FP is in the set, else 0. */
int dedup_contains(const struct dedup *d, const uint8_t fp[DEDUP_FINGERPRINT_LEN]);

/* dedup_insert: adds FP, evicting the oldest when full. RETURN VALUE: 1 added, 0 it was
 * there already (nothing changes). */
int dedup_insert(struct dedup *d, const uint8_t fp[DEDUP_FINGERPRINT_LEN]);

/* dedup_count: fingerprints held. */
size_t dedup_count(const struct dedup *d);

/* dedup_free: NULL is a no-op. */
void dedup_free(struct dedup *d);

#endif /* QUORUM_GOSSIP_DEDUP_H */
