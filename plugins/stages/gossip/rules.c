/* rules.c -- the gossip stage's pure rules (see rules.h): the seed's checks on gossip
 * metadata, the forward list, the next hop's metadata, the choice of peers and the nodes a
 * copy is known to have reached. */
#include <string.h>

#include "rules.h"

static int metadata_empty(const struct quorum_gossip *g)
{
	return g == NULL || (g->hops == 0 && g->ttl == 0 &&
			     (g->origin_node_id == NULL || g->origin_node_id[0] == '\0'));
}

const char *gossip_check(uint32_t max_ttl, const char *node_id, const struct quorum_gossip *g,
			 int from_peer, int *local)
{
	*local = 0;
	if (metadata_empty(g)) {
		/* A copy from a peer always says where it comes from and how far it went. */
		if (from_peer)
			return GOSSIP_HOPS_RESET;
		*local = 1;
		return NULL;
	}
	if (g->origin_node_id != NULL && strcmp(g->origin_node_id, node_id) == 0)
		return GOSSIP_SELF_ECHO;
	if (g->hops == 0)
		return GOSSIP_HOPS_RESET;
	if (g->hops > max_ttl || g->ttl > max_ttl - g->hops)
		return GOSSIP_HOPS_OVERFLOW;
	if (g->origin_node_id == NULL || g->origin_node_id[0] == '\0')
		return GOSSIP_POLICY_REJECTED;
	return NULL;
}

int gossip_next(uint32_t max_ttl, const char *node_id, const struct quorum_gossip *g, int local,
		struct gossip_hop *out)
{
	if (local) {
		if (max_ttl == 0)
			return -1;
		*out = (struct gossip_hop){ .hops = 1, .ttl = max_ttl - 1, .origin = node_id };
		return 0;
	}
	if (g == NULL || g->ttl == 0)
		return -1;
	*out = (struct gossip_hop){ .hops = g->hops + 1,
				    .ttl = g->ttl - 1,
				    .origin = g->origin_node_id };
	return 0;
}

int gossip_forwarded(const char *const *patterns, size_t count, const char *event_id)
{
	for (size_t i = 0; i < count; i++) {
		size_t len = strlen(patterns[i]);

		if (len > 0 && patterns[i][len - 1] == '*') {
			if (strncmp(patterns[i], event_id, len - 1) == 0)
				return 1;
		} else if (strcmp(patterns[i], event_id) == 0) {
			return 1;
		}
	}
	return 0;
}

static int same(const char *a, const char *b)
{
	return a != NULL && b != NULL && strcmp(a, b) == 0;
}

static int listed(const char *id, const char *const *list, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		if (same(id, list[i]))
			return 1;
	}
	return 0;
}

size_t gossip_pick(const char *const *peers, size_t count, const char *sender,
		   const char *origin, const char *const *holders, size_t holder_count,
		   uint32_t fanout, size_t start, size_t *out)
{
	size_t n = 0;

	for (size_t k = 0; k < count; k++) {
		size_t i = (start + k) % count;

		if (fanout > 0 && n >= fanout)
			break;
		if (same(peers[i], sender) || same(peers[i], origin) ||
		    listed(peers[i], holders, holder_count))
			continue;
		out[n++] = i;
	}
	return n;
}

size_t gossip_holders(const char *const *holders, size_t holder_count, const char *node_id,
		      const char *const *peers, const size_t *picked, size_t n,
		      const char **out, size_t cap)
{
	size_t count = 0;

	for (size_t i = 0; i < holder_count + 1 + n && count < cap; i++) {
		const char *id = i < holder_count    ? holders[i]
				 : i == holder_count ? node_id
						     : peers[picked[i - holder_count - 1]];

		if (!listed(id, out, count))
			out[count++] = id;
	}
	return count;
}
