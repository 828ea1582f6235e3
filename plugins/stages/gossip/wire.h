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

/*
 * wire_own_event: ST (signed by this node) as an envelope for one peer: gossip metadata
 * origin ORIGIN, hops 1, ttl 0 (no receiver relays it). RETURN VALUE: 0 with *OUT (new,
 * free()) and *LEN, or -ENOMEM.
 */
int wire_own_event(const struct quorum_signed_state *st, const char *origin, uint8_t **out,
		   size_t *len);

/*
 * wire_attestation_parse: DATA (LEN bytes) as an authority's signed attestation (a
 * SignedState of event QUORUM_EVENT_ATTESTATION whose payload is a TimeAttestation): its
 * AUTHORITY (QUORUM_NODE_ID_MAX + 1 bytes), *SEQUENCE and DIGEST (as the evidence index and
 * a malfeasance report give it). Nothing is verified here.
 * RETURN VALUE: 0, -EINVAL (not such an attestation) or -ENOMEM.
 */
int wire_attestation_parse(const uint8_t *data, size_t len,
			   char authority[QUORUM_NODE_ID_MAX + 1], uint64_t *sequence,
			   uint8_t digest[32]);

#endif /* QUORUM_GOSSIP_WIRE_H */
