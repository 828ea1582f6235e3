/* envelope.c -- strict decoding of uml001.SignedState with protobuf-c; plugins' events are
 * encoded and then decoded through the same path, so every event meets the same checks. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <quorum/time.h>

#include "envelope-internal.h"
#include "protodecode-internal.h"

/* Printable ASCII without spaces: ids end up as key=value log fields. */
static int id_valid(const char *s, size_t max, int allow_empty)
{
	size_t len = strlen(s);

	if ((len == 0 && !allow_empty) || len > max)
		return 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < 0x21 || s[i] > 0x7e)
			return 0;
	}
	return 1;
}

static int text_valid(const char *s)
{
	size_t len = strlen(s);

	if (len > QUORUM_ANCHOR_FIELD_MAX)
		return 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < 0x20 || s[i] > 0x7e)
			return 0;
	}
	return 1;
}

const char *envelope_check(const Uml001__SignedState *m)
{
	if (!id_valid(m->event_id, QUORUM_EVENT_ID_MAX, 0))
		return "envelope_event_id_invalid";
	if (!id_valid(m->key_id, QUORUM_KEY_ID_MAX, 1))
		return "envelope_key_id_invalid";
	if (m->payload.len > QUORUM_PAYLOAD_MAX)
		return "envelope_payload_too_large";
	if (m->signature.len > QUORUM_SIGNATURE_MAX)
		return "envelope_signature_too_large";
	if (m->gossip != NULL && !id_valid(m->gossip->origin_node_id, QUORUM_NODE_ID_MAX, 1))
		return "envelope_gossip_origin_invalid";
	if (m->gossip != NULL && m->gossip->n_sent_to > QUORUM_AUTHORITIES_MAX)
		return "envelope_gossip_sent_to_invalid";
	for (size_t i = 0; m->gossip != NULL && i < m->gossip->n_sent_to; i++) {
		if (!id_valid(m->gossip->sent_to[i], QUORUM_NODE_ID_MAX, 0))
			return "envelope_gossip_sent_to_invalid";
	}
	if (m->anchor_proof != NULL && (!text_valid(m->anchor_proof->observation_hash) ||
					!text_valid(m->anchor_proof->authority_set) ||
					!text_valid(m->anchor_proof->event_id) ||
					!text_valid(m->anchor_proof->event_hash)))
		return "envelope_anchor_proof_invalid";
	return NULL;
}

void envelope_view(const Uml001__SignedState *m, struct quorum_signed_state *view,
		   struct quorum_gossip *gossip, struct quorum_anchor_proof *anchor)
{
	memset(view, 0, sizeof(*view));
	view->logical_time_ns = m->logical_time_ns;
	view->event_id = m->event_id;
	view->payload.data = m->payload.len ? m->payload.data : NULL;
	view->payload.len = m->payload.len;
	view->signature.data = m->signature.len ? m->signature.data : NULL;
	view->signature.len = m->signature.len;
	view->key_id = m->key_id;
	if (m->gossip != NULL) {
		gossip->hops = m->gossip->hops;
		gossip->ttl = m->gossip->ttl;
		gossip->validated = m->gossip->validated ? 1 : 0;
		gossip->origin_node_id = m->gossip->origin_node_id;
		view->gossip = gossip;
	}
	if (m->anchor_proof != NULL) {
		const Uml001__AnchorProof *a = m->anchor_proof;

		anchor->version = a->version;
		anchor->is_merkle_root = a->is_merkle_root ? 1 : 0;
		anchor->observation_hash = a->observation_hash;
		anchor->quorum_size = a->quorum_size;
		anchor->authority_set = a->authority_set;
		anchor->event_id = a->event_id;
		anchor->event_hash = a->event_hash;
		view->anchor_proof = anchor;
	}
}

struct envelope *envelope_decode(const void *data, size_t len, const char **reason)
{
	struct envelope *e;

	if (len > QUORUM_ENVELOPE_MAX) {
		*reason = "envelope_too_large";
		return NULL;
	}
	e = calloc(1, sizeof(*e));
	if (e == NULL) {
		*reason = "host_out_of_memory";
		return NULL;
	}
	e->message = (Uml001__SignedState *)proto_decode_strict(
		&uml001__signed_state__descriptor, data, len, "envelope", reason);
	if (e->message == NULL)
		goto out_free;
	*reason = envelope_check(e->message);
	if (*reason != NULL)
		goto out_free;
	e->encoded = malloc(len > 0 ? len : 1);
	if (e->encoded == NULL) {
		*reason = "host_out_of_memory";
		goto out_free;
	}
	memcpy(e->encoded, data, len);
	e->encoded_len = len;
	envelope_view(e->message, &e->view, &e->gossip, &e->anchor);
	return e;
out_free:
	envelope_free(e);
	return NULL;
}

struct envelope *envelope_build(const struct quorum_signed_state *view, const char **reason)
{
	Uml001__SignedState m = UML001__SIGNED_STATE__INIT;
	Uml001__GossipState g = UML001__GOSSIP_STATE__INIT;
	Uml001__AnchorProof a = UML001__ANCHOR_PROOF__INIT;
	struct envelope *e;
	uint8_t *buf;
	size_t len;

	if (view->event_id == NULL || view->key_id == NULL ||
	    (view->payload.len > 0 && view->payload.data == NULL) ||
	    (view->signature.len > 0 && view->signature.data == NULL)) {
		*reason = "envelope_field_missing";
		return NULL;
	}
	if (view->payload.len > QUORUM_PAYLOAD_MAX) {
		*reason = "envelope_payload_too_large";
		return NULL;
	}
	if (view->signature.len > QUORUM_SIGNATURE_MAX) {
		*reason = "envelope_signature_too_large";
		return NULL;
	}
	m.logical_time_ns = view->logical_time_ns;
	m.event_id = (char *)view->event_id;
	m.payload.data = (uint8_t *)view->payload.data;
	m.payload.len = view->payload.len;
	m.signature.data = (uint8_t *)view->signature.data;
	m.signature.len = view->signature.len;
	m.key_id = (char *)view->key_id;
	if (view->gossip != NULL) {
		g.hops = view->gossip->hops;
		g.ttl = view->gossip->ttl;
		g.validated = view->gossip->validated != 0;
		g.origin_node_id = (char *)(view->gossip->origin_node_id != NULL
						    ? view->gossip->origin_node_id
						    : "");
		m.gossip = &g;
	}
	if (view->anchor_proof != NULL) {
		const struct quorum_anchor_proof *p = view->anchor_proof;

		if (p->observation_hash == NULL || p->authority_set == NULL ||
		    p->event_id == NULL || p->event_hash == NULL) {
			*reason = "envelope_field_missing";
			return NULL;
		}
		a.version = p->version;
		a.is_merkle_root = p->is_merkle_root != 0;
		a.observation_hash = (char *)p->observation_hash;
		a.quorum_size = p->quorum_size;
		a.authority_set = (char *)p->authority_set;
		a.event_id = (char *)p->event_id;
		a.event_hash = (char *)p->event_hash;
		m.anchor_proof = &a;
	}
	len = uml001__signed_state__get_packed_size(&m);
	if (len > QUORUM_ENVELOPE_MAX) {
		*reason = "envelope_too_large";
		return NULL;
	}
	buf = malloc(len > 0 ? len : 1);
	if (buf == NULL) {
		*reason = "host_out_of_memory";
		return NULL;
	}
	len = uml001__signed_state__pack(&m, buf);
	e = envelope_decode(buf, len, reason);
	free(buf);
	return e;
}

void envelope_free(struct envelope *e)
{
	if (e == NULL)
		return;
	if (e->message != NULL)
		uml001__signed_state__free_unpacked(e->message, NULL);
	free(e->encoded);
	free(e);
}
