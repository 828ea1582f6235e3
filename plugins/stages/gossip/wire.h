/* wire.h -- the gossip stage's protobuf work: a forwarded copy of an event (the same
 * envelope with new gossip metadata: the signature does not cover it), and the raw signed
 * attestations inside a sync round, which the host's typed round view does not carry. */
#ifndef QUORUM_GOSSIP_WIRE_H
#define QUORUM_GOSSIP_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include <quorum/event.h>

#include "rules.h"

/*
 * wire_forward_copy: ENCODED (an envelope's canonical encoding) with its GossipState set to
 * HOP, its sent_to included (VALIDATED: this node's passport stage checked it), re-encoded
 * into *OUT (new, free()) and *LEN. RETURN VALUE: 0, -EINVAL (not a SignedState) or
 * -ENOMEM.
 */
int wire_forward_copy(const struct quorum_bytes *encoded, const struct gossip_hop *hop,
		      int validated, uint8_t **out, size_t *len);

/*
 * wire_holders: the sent_to list of the envelope ENCODED (the nodes its sender says hold it
 * already), at most CAP ids into IDS, *COUNT of them. They are borrowed from *OWNER (new:
 * wire_holders_free). RETURN VALUE: 0 or -EINVAL (not a SignedState).
 */
int wire_holders(const struct quorum_bytes *encoded, const char **ids, size_t cap,
		 size_t *count, void **owner);

/* wire_holders_free: frees what wire_holders returned; NULL is a no-op. */
void wire_holders_free(void *owner);

/* One authority's signed answer inside a round, as the asker received it. */
struct wire_attestation {
	uint8_t *encoded; /* the SignedState's encoding (owned) */
	size_t len;
	uint8_t digest[32]; /* SHA-256 of its signed-state bytes */
};

/*
 * wire_round_attestations: the signed attestation of each observation of the SyncRound
 * PAYLOAD, in the round's order, into *OUT (COUNT entries, new: wire_attestations_free; an
 * entry's encoded is NULL for an NTP observation). The host's round_decode has checked the
 * payload; this only extracts. RETURN VALUE: 0, -EINVAL or -ENOMEM.
 */
int wire_round_attestations(const struct quorum_bytes *payload, struct wire_attestation **out,
			    size_t *count);

/* wire_attestations_free: frees COUNT entries and the array; NULL is a no-op. */
void wire_attestations_free(struct wire_attestation *list, size_t count);

#endif /* QUORUM_GOSSIP_WIRE_H */
