/* epochs.h -- the gossip stage's convergence gate: which distinct quorumd authorities have
 * signed an attestation whose midpoint falls in each recent epoch (floor(midpoint_ns /
 * epoch_ns)), counted over every round this node sees, its own and its peers'. An epoch
 * converges when n - f distinct authorities attested it. The last EPOCHS_WINDOW epochs are
 * kept; epochs further back, or more than one ahead of now, are not counted (an authority
 * whose clock is far off cannot open epochs of its own). */
#ifndef QUORUM_GOSSIP_EPOCHS_H
#define QUORUM_GOSSIP_EPOCHS_H

#include <stddef.h>
#include <stdint.h>

#include <quorum/time.h>

#define EPOCHS_WINDOW 64

struct epoch_slot {
	int64_t epoch;
	int used;
	int converged;
	uint32_t count;
	uint8_t seen[QUORUM_AUTHORITIES_MAX / 8];
};

struct epochs {
	int64_t epoch_ns;
	struct epoch_slot slots[EPOCHS_WINDOW];
	uint64_t converged; /* epochs that reached their threshold */
	int has_last;
	int64_t last_epoch;  /* the latest epoch that converged */
	uint32_t last_count; /* its distinct authorities so far */
	uint32_t last_threshold;
};

/* epochs_init: no epoch seen; EPOCH_NS > 0. */
void epochs_init(struct epochs *e, int64_t epoch_ns);

/* epochs_of: the epoch of NS (floor division, also before 1970). */
int64_t epochs_of(const struct epochs *e, int64_t ns);

/*
 * epochs_add: authority INDEX (< QUORUM_AUTHORITIES_MAX, its place among the configured
 * sources) attested MIDPOINT_NS; NOW_NS (this node's CLOCK_REALTIME) places the window.
 * THRESHOLD is n - f (0 counts nothing). *EPOCH gets the epoch, *COUNT its distinct
 * authorities so far.
 * RETURN VALUE: 1 when this attestation made the epoch converge, 0 when it was counted (or
 * the authority was already), -1 when the epoch is outside the window or INDEX too large.
 */
int epochs_add(struct epochs *e, uint32_t index, int64_t midpoint_ns, int64_t now_ns,
	       uint32_t threshold, int64_t *epoch, uint32_t *count);

#endif /* QUORUM_GOSSIP_EPOCHS_H */
