/* dedup.h -- a bounded set of event fingerprints (SHA-256 of the signed bytes and the
 * signature): the last CAPACITY added, in a ring (the oldest evicted first) with a hash index.
 * The gossip stage's forwarding set, the host's set of gossip already ingested, and the
 * memory of the passport stage's replay window (which also persists it: replay.h). */
#ifndef QUORUM_GOSSIP_DEDUP_H
#define QUORUM_GOSSIP_DEDUP_H

#include <stddef.h>
#include <stdint.h>

#define DEDUP_FINGERPRINT_LEN 32
#define DEDUP_CAPACITY_MAX    10000000u

struct dedup;
struct quorum_signed_state;

/* dedup_fingerprint: the fingerprint of event ST (borrowed): SHA-256 of the bytes its
 * signature covers (quorum_signed_state_message: the gossip metadata is not among them, so
 * every relayed copy of one event has one fingerprint) and of the signature.
 * RETURN VALUE: 0, or -ENOMEM. */
int dedup_fingerprint(const struct quorum_signed_state *st, uint8_t out[DEDUP_FINGERPRINT_LEN]);

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

/* dedup_at: the I-th fingerprint held, oldest first (I = 0 is the next evicted), borrowed
 * until the next dedup_insert; NULL when I >= dedup_count. */
const uint8_t *dedup_at(const struct dedup *d, size_t i);

/* dedup_free: NULL is a no-op. */
void dedup_free(struct dedup *d);

#endif /* QUORUM_GOSSIP_DEDUP_H */
