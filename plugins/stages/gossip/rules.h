/* rules.h -- the gossip stage's pure rules: the seed's checks on a copy's gossip metadata
 * (self-echo, hop reset, overflow), which event ids travel, what a forwarded copy carries
 * (origin kept, hops + 1, ttl - 1, the nodes known to hold it) and to which peers it goes
 * (fanout, none that holds it already). No I/O. */
#ifndef QUORUM_GOSSIP_RULES_H
#define QUORUM_GOSSIP_RULES_H

#include <stddef.h>
#include <stdint.h>

#include <quorum/event.h>

/* The seed's reason strings (spec/pipeline.md). gossip_local_noop is not a refusal: it
 * names "nothing to check" (an event of this node's own). */
#define GOSSIP_LOCAL_NOOP      "gossip_local_noop"
#define GOSSIP_HOPS_RESET      "gossip_hops_reset_rejected"
#define GOSSIP_SELF_ECHO       "gossip_self_echo_rejected"
#define GOSSIP_HOPS_OVERFLOW   "gossip_hops_overflow_rejected"
#define GOSSIP_POLICY_REJECTED "gossip_policy_rejected"
#define GOSSIP_DUPLICATE       "gossip_duplicate_rejected"

#define GOSSIP_MAX_TTL_LIMIT 64

/*
 * gossip_check: the seed's rules for one event. FROM_PEER is 1 when it came over the peer
 * link (source QUORUM_GOSSIP_SOURCE), G its gossip metadata (NULL when absent). An event
 * without metadata (absent, or all fields zero) is this node's own: *LOCAL = 1 and nothing
 * is checked, unless it came from a peer (a copy whose hops were reset). Otherwise, in
 * order: the origin is this node (NODE_ID) -> self echo; hops 0 -> hops reset; hops above
 * MAX_TTL, or hops + ttl above MAX_TTL -> overflow; no origin -> policy.
 * RETURN VALUE: NULL when the event passes (see *LOCAL), else the reason (static).
 */
const char *gossip_check(uint32_t max_ttl, const char *node_id, const struct quorum_gossip *g,
			 int from_peer, int *local);

/* The gossip metadata of a copy about to be forwarded. */
struct gossip_hop {
	uint32_t hops, ttl;
	const char *origin; /* borrowed from NODE_ID or from the event */
	/* GossipState.sent_to of the copy: the nodes known to hold it (borrowed) */
	const char *const *sent_to;
	size_t sent_to_count;
};

/*
 * gossip_next: what a forwarded copy carries. This node's own event (LOCAL) starts at
 * hops 0 and ttl MAX_TTL, so it leaves with origin NODE_ID, hops 1, ttl MAX_TTL - 1; a
 * received copy (G) leaves with its origin, hops + 1 and ttl - 1.
 * RETURN VALUE: 0 with OUT, or -1 when it travels no further (its ttl is 0).
 */
int gossip_next(uint32_t max_ttl, const char *node_id, const struct quorum_gossip *g, int local,
		struct gossip_hop *out);

/* gossip_forwarded: whether EVENT_ID matches one of PATTERNS (COUNT of them): equal, or
 * a pattern ending in '*' that is a prefix of it ("uml001.control.*"). */
int gossip_forwarded(const char *const *patterns, size_t count, const char *event_id);

/*
 * gossip_pick: the peers a copy goes to, out of PEERS (COUNT ids, this node excluded by the
 * caller): never SENDER or ORIGIN (either may be NULL or "") nor a node of HOLDERS
 * (HOLDER_COUNT ids: the copy's sent_to, nodes known to have it), at most FANOUT of them
 * (0: all), taken in order from index START (modulo COUNT) so that successive copies
 * spread over the peers. Writes their indexes into OUT (COUNT entries).
 * RETURN VALUE: how many.
 */
size_t gossip_pick(const char *const *peers, size_t count, const char *sender,
		   const char *origin, const char *const *holders, size_t holder_count,
		   uint32_t fanout, size_t start, size_t *out);

/*
 * gossip_holders: the sent_to of a copy this node sends to PICKED (N indexes of PEERS):
 * the HOLDERS it came with (HOLDER_COUNT), this node (NODE_ID) and the picked peers, each
 * once, into OUT (CAP entries, borrowed pointers).
 * RETURN VALUE: how many (at most CAP; the rest is left out).
 */
size_t gossip_holders(const char *const *holders, size_t holder_count, const char *node_id,
		      const char *const *peers, const size_t *picked, size_t n,
		      const char **out, size_t cap);

#endif /* QUORUM_GOSSIP_RULES_H */
