/* evidence.h -- the gossip stage's index of signed attestations: (authority, sequence) ->
 * the SHA-256 of the attestation's signed bytes and the attestation itself (its SignedState
 * encoding), for the last CAPACITY attestations seen in any round, this node's or a peer's.
 * A second attestation for the same authority and sequence with other signed bytes is the
 * raw material of a malfeasance report: an honest authority signs each sequence once. */
#ifndef QUORUM_GOSSIP_EVIDENCE_H
#define QUORUM_GOSSIP_EVIDENCE_H

#include <stddef.h>
#include <stdint.h>

#include <quorum/event.h>

#define EVIDENCE_DIGEST_LEN   32
#define EVIDENCE_CAPACITY_MAX 1000000u

struct evidence_entry {
	char authority[QUORUM_NODE_ID_MAX + 1];
	uint64_t sequence;
	uint8_t digest[EVIDENCE_DIGEST_LEN]; /* of the signed bytes */
	uint8_t *encoded;		     /* the attestation's SignedState, owned */
	size_t len;
	int reported; /* a conflict with it has been reported already */
	uint32_t next;
};

enum evidence_result {
	EVIDENCE_NEW = 0,      /* recorded */
	EVIDENCE_SAME = 1,     /* this attestation was recorded before */
	EVIDENCE_CONFLICT = 2, /* another attestation has this authority and sequence */
};

struct evidence;

/* evidence_new: an empty index of CAPACITY (1 .. EVIDENCE_CAPACITY_MAX) attestations.
 * NULL when out of memory or out of range. */
struct evidence *evidence_new(size_t capacity);

/*
 * evidence_offer: one attestation of AUTHORITY (at most QUORUM_NODE_ID_MAX bytes) with
 * SEQUENCE, DIGEST (of its signed bytes) and ENCODED (LEN bytes, copied when recorded).
 * The oldest entry is evicted when the index is full.
 * RETURN VALUE: EVIDENCE_NEW, EVIDENCE_SAME, EVIDENCE_CONFLICT with *PREVIOUS the recorded
 * one (borrowed: valid until the next evidence_offer), or -ENOMEM / -EINVAL (nothing
 * recorded).
 */
int evidence_offer(struct evidence *e, const char *authority, uint64_t sequence,
		   const uint8_t digest[EVIDENCE_DIGEST_LEN], const uint8_t *encoded,
		   size_t len, struct evidence_entry **previous);

/* evidence_find: the attestation recorded for AUTHORITY and SEQUENCE (borrowed: valid until
 * the next evidence_offer), or NULL. */
struct evidence_entry *evidence_find(const struct evidence *e, const char *authority,
				     uint64_t sequence);

/* evidence_count: attestations held. */
size_t evidence_count(const struct evidence *e);

/* evidence_free: NULL is a no-op. */
void evidence_free(struct evidence *e);

#endif /* QUORUM_GOSSIP_EVIDENCE_H */
