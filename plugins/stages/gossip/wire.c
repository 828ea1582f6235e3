/* wire.c -- protobuf-c for the gossip stage (see wire.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <quorum/time.h>

#include "authority.pb-c.h"
#include "malfeasance-report.h"
#include "wire.h"

int wire_forward_copy(const struct quorum_bytes *encoded, const struct gossip_hop *hop,
		      int validated, uint8_t **out, size_t *len)
{
	Uml001__SignedState *s =
		uml001__signed_state__unpack(NULL, encoded->len, encoded->data);
	Uml001__GossipState g = UML001__GOSSIP_STATE__INIT;
	Uml001__GossipState *kept;

	if (s == NULL)
		return -EINVAL;
	g.hops = hop->hops;
	g.ttl = hop->ttl;
	g.validated = validated ? 1 : 0;
	g.origin_node_id = (char *)hop->origin;
	g.n_sent_to = hop->sent_to_count;
	g.sent_to = (char **)hop->sent_to;
	kept = s->gossip;
	s->gossip = &g;
	*len = uml001__signed_state__get_packed_size(s);
	*out = malloc(*len > 0 ? *len : 1);
	if (*out != NULL)
		uml001__signed_state__pack(s, *out);
	s->gossip = kept; /* freed with the message it came in */
	uml001__signed_state__free_unpacked(s, NULL);
	return *out != NULL ? 0 : -ENOMEM;
}

int wire_holders(const struct quorum_bytes *encoded, const char **ids, size_t cap,
		 size_t *count, void **owner)
{
	Uml001__SignedState *s =
		uml001__signed_state__unpack(NULL, encoded->len, encoded->data);

	*count = 0;
	*owner = NULL;
	if (s == NULL)
		return -EINVAL;
	for (size_t i = 0; s->gossip != NULL && i < s->gossip->n_sent_to && i < cap; i++)
		ids[(*count)++] = s->gossip->sent_to[i];
	*owner = s;
	return 0;
}

void wire_holders_free(void *owner)
{
	if (owner != NULL)
		uml001__signed_state__free_unpacked(owner, NULL);
}

static int attestation_of(const Uml001__SignedState *s, struct wire_attestation *out)
{
	/* The digest a malfeasance report gives the same attestation. */
	if (malfeasance_attestation_digest(s, out->digest) != 0)
		return -ENOMEM;
	out->len = uml001__signed_state__get_packed_size(s);
	out->encoded = malloc(out->len > 0 ? out->len : 1);
	if (out->encoded == NULL)
		return -ENOMEM;
	uml001__signed_state__pack(s, out->encoded);
	return 0;
}

int wire_round_attestations(const struct quorum_bytes *payload, struct wire_attestation **out,
			    size_t *count)
{
	Uml001__SyncRound *r = uml001__sync_round__unpack(NULL, payload->len, payload->data);
	struct wire_attestation *list;
	int err = 0;

	if (r == NULL)
		return -EINVAL;
	list = calloc(r->n_observations + 1, sizeof(*list));
	if (list == NULL) {
		uml001__sync_round__free_unpacked(r, NULL);
		return -ENOMEM;
	}
	for (size_t i = 0; i < r->n_observations && err == 0; i++) {
		if (r->observations[i]->attestation != NULL)
			err = attestation_of(r->observations[i]->attestation, &list[i]);
	}
	*count = r->n_observations;
	uml001__sync_round__free_unpacked(r, NULL);
	if (err != 0) {
		wire_attestations_free(list, *count);
		return err;
	}
	*out = list;
	return 0;
}

void wire_attestations_free(struct wire_attestation *list, size_t count)
{
	if (list == NULL)
		return;
	for (size_t i = 0; i < count; i++)
		free(list[i].encoded);
	free(list);
}

int wire_own_event(const struct quorum_signed_state *st, const char *origin, uint8_t **out,
		   size_t *len)
{
	Uml001__SignedState s = UML001__SIGNED_STATE__INIT;
	Uml001__GossipState g = UML001__GOSSIP_STATE__INIT;

	s.logical_time_ns = st->logical_time_ns;
	s.event_id = (char *)st->event_id;
	s.payload.data = (uint8_t *)st->payload.data;
	s.payload.len = st->payload.len;
	s.signature.data = (uint8_t *)st->signature.data;
	s.signature.len = st->signature.len;
	s.key_id = (char *)st->key_id;
	/* One hop, none further: a digest or an attestation is meant for its receiver. */
	g.hops = 1;
	g.ttl = 0;
	g.origin_node_id = (char *)origin;
	s.gossip = &g;
	*len = uml001__signed_state__get_packed_size(&s);
	*out = malloc(*len > 0 ? *len : 1);
	if (*out == NULL)
		return -ENOMEM;
	uml001__signed_state__pack(&s, *out);
	return 0;
}

int wire_attestation_parse(const uint8_t *data, size_t len,
			   char authority[QUORUM_NODE_ID_MAX + 1], uint64_t *sequence,
			   uint8_t digest[32])
{
	Uml001__SignedState *s = uml001__signed_state__unpack(NULL, len, data);
	Uml001__TimeAttestation *a = NULL;
	int err = -EINVAL;

	if (s == NULL)
		return -EINVAL;
	if (s->event_id == NULL || strcmp(s->event_id, QUORUM_EVENT_ATTESTATION) != 0)
		goto out_free;
	a = uml001__time_attestation__unpack(NULL, s->payload.len, s->payload.data);
	if (a == NULL || a->authority_id == NULL || a->authority_id[0] == '\0' ||
	    strlen(a->authority_id) > QUORUM_NODE_ID_MAX)
		goto out_free;
	strcpy(authority, a->authority_id);
	*sequence = a->sequence;
	err = malfeasance_attestation_digest(s, digest) == 0 ? 0 : -ENOMEM;
out_free:
	if (a != NULL)
		uml001__time_attestation__free_unpacked(a, NULL);
	uml001__signed_state__free_unpacked(s, NULL);
	return err;
}
