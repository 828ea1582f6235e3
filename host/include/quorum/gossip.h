/* quorum/gossip.h -- the gossip stage's service and the names gossip shares with the host:
 * which round epochs this node has seen converge (attestations of at least n - f distinct
 * authorities), what it heard from each peer, and the equivocation reports it made. The
 * gossip stage plugin publishes the service with api->service_publish; transports (REST
 * /v1/status) find it with api->service_find. Every function runs on the loop thread. */
#ifndef QUORUM_GOSSIP_H
#define QUORUM_GOSSIP_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define QUORUM_GOSSIP_SERVICE "quorum.gossip/1"

/* event->source of the events the host's peer link received as gossip; event->peer is then
 * the id of the configured quorumd authority whose address sent the datagram, never "".
 * (An event the gossip stage ingests itself through api->ingest carries the stage's
 * plugin name as its source, also "gossip" for the built-in one, and an empty peer.) */
#define QUORUM_GOSSIP_SOURCE "gossip"

/* A peer-link datagram carrying gossip (PeerDatagram.gossip) is at most this long, so an
 * event forwarded by api->gossip_send fits in one UDP datagram (ABI 1.6). */
#define QUORUM_GOSSIP_DATAGRAM_MAX 61440

/* Evidence that an authority signed two different attestations for one sequence: the
 * payload is a proto uml001.MalfeasanceReport (proto/authority.proto), the envelope is
 * signed by the reporting node (api->sign_event). */
#define QUORUM_EVENT_MALFEASANCE "uml001.gossip.malfeasance"
/* A compact digest of a round (authority, sequence, SHA-256 of each attestation), signed by
 * the node that asked, sent to a few peers and never relayed (issue 19). */
#define QUORUM_EVENT_DIGEST "uml001.gossip.digest"
/* One authority's signed attestation, payload its SignedState's encoding: sent, signed by
 * the sender, to a peer whose digest disagrees with it about that authority's sequence. */
#define QUORUM_EVENT_GOSSIP_ATTESTATION "uml001.gossip.attestation"

/* What this node heard from one peer by gossip. */
struct quorum_gossip_peer {
	const char *id;	      /* the configured authority; borrowed, valid until fini */
	uint64_t received;    /* gossip events from it that reached the pipeline, any verdict */
	uint64_t accepted;    /* ... of which the pipeline accepted */
	int64_t last_seen_ns; /* CLOCK_MONOTONIC of the last one; 0: never */
	uint64_t reserved[4];
};

/* The last epoch that converged. Epochs are floor(midpoint_ns / epoch_ns) of the
 * attestations' signed midpoints. */
struct quorum_gossip_epoch {
	int64_t epoch;
	int64_t epoch_ns;
	uint32_t authorities; /* distinct quorumd authorities whose attestations it holds */
	uint32_t threshold;   /* n - f when it converged */
	uint64_t reserved[4];
};

struct quorum_gossip_ops {
	uint32_t size; /* sizeof(struct quorum_gossip_ops) as the gossip stage was built */
	/* Epochs that reached n - f distinct authorities since the start. */
	uint64_t (*converged_epochs)(void *gossip);
	/* The latest epoch that converged into *OUT. 0, or -ENOENT (none yet). */
	int (*last_converged_epoch)(void *gossip, struct quorum_gossip_epoch *out);
	/* The peers (configured quorumd authorities but this node), in configuration order,
	 * into OUT (up to CAP). RETURN VALUE: how many there are. */
	size_t (*peers_heard)(void *gossip, struct quorum_gossip_peer *out, size_t cap);
	/* Malfeasance reports this node made (each an event QUORUM_EVENT_MALFEASANCE). */
	uint64_t (*reports)(void *gossip);
	void *reserved[8];
};

#ifdef __cplusplus
}
#endif

#endif /* QUORUM_GOSSIP_H */
