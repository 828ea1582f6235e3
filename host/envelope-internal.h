/* envelope-internal.h -- the SignedState envelope: the one place where untrusted bytes are
 * decoded (strictly: bounds, no unknown fields, canonical encoding) into a typed view. */
#ifndef QUORUM_ENVELOPE_INTERNAL_H
#define QUORUM_ENVELOPE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <quorum/event.h>

#include "signed_state.pb-c.h"

/* A decoded, checked envelope that owns its memory. */
struct envelope {
	Uml001__SignedState *message; /* protobuf-c's tree; the view points into it */
	struct quorum_signed_state view;
	struct quorum_gossip gossip;
	struct quorum_anchor_proof anchor;
	uint8_t *encoded; /* canonical encoding (== the bytes decoded) */
	size_t encoded_len;
};

/*
 * envelope_decode: decodes LEN bytes at DATA. Refused: more than QUORUM_ENVELOPE_MAX bytes,
 * a protobuf error, unknown fields, a non-canonical encoding (so one event has exactly one
 * byte form), and any field outside the bounds of quorum/event.h.
 * RETURN VALUE: a new envelope (envelope_free), or NULL with *REASON set to a static reason
 * string ("envelope_decode_failed", ...).
 */
struct envelope *envelope_decode(const void *data, size_t len, const char **reason);

/* envelope_build: the same from a typed view a plugin filled (the view is borrowed; the
 * envelope copies everything). RETURN VALUE: new envelope, or NULL with *REASON. */
struct envelope *envelope_build(const struct quorum_signed_state *view, const char **reason);

/* envelope_free: NULL is a no-op. */
void envelope_free(struct envelope *envelope);

/* envelope_check: the bounds of quorum/event.h applied to a decoded SignedState (also one
 * nested in another message). RETURN VALUE: NULL, or a static reason string. */
const char *envelope_check(const Uml001__SignedState *message);

/* envelope_view: fills VIEW (and GOSSIP, ANCHOR, which VIEW may point to) from MESSAGE;
 * every pointer borrows from MESSAGE. */
void envelope_view(const Uml001__SignedState *message, struct quorum_signed_state *view,
		   struct quorum_gossip *gossip, struct quorum_anchor_proof *anchor);

#endif /* QUORUM_ENVELOPE_INTERNAL_H */
