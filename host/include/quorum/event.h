/* quorum/event.h -- the typed view of a SignedState envelope and its event context.
 * The host decodes untrusted bytes into these structs in one place; stages only read them. */
#ifndef QUORUM_EVENT_H
#define QUORUM_EVENT_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

#define QUORUM_EVENT_MAGIC 0x56455551u /* "QEVT" little-endian */

/* Bounds the host enforces on every envelope, decoded or built by a plugin. */
#define QUORUM_EVENT_ID_MAX	128   /* printable ASCII, non-empty */
#define QUORUM_KEY_ID_MAX	64    /* printable ASCII */
#define QUORUM_NODE_ID_MAX	64    /* printable ASCII */
#define QUORUM_SIGNATURE_MAX	512   /* bytes */
#define QUORUM_PAYLOAD_MAX	65536 /* bytes */
#define QUORUM_ANCHOR_FIELD_MAX 256   /* bytes of each anchor_proof string */
#define QUORUM_ENVELOPE_MAX	(QUORUM_PAYLOAD_MAX + 4096)

struct quorum_bytes {
	const uint8_t *data; /* borrowed; NULL when len == 0 */
	size_t len;
};

/* SignedState.gossip (proto/signed_state.proto GossipState). */
struct quorum_gossip {
	uint32_t hops;
	uint32_t ttl;
	int validated;
	const char *origin_node_id; /* "" when unset, never NULL */
};

/* SignedState.anchor_proof (proto/signed_state.proto AnchorProof). Strings "" when unset. */
struct quorum_anchor_proof {
	uint32_t version;
	int is_merkle_root;
	const char *observation_hash;
	uint32_t quorum_size;
	const char *authority_set;
	const char *event_id;
	const char *event_hash;
};

/* The envelope: uml001.SignedState. All pointers borrowed. */
struct quorum_signed_state {
	uint64_t logical_time_ns;
	const char *event_id; /* e.g. "uml001.worker.ntp_sync" */
	struct quorum_bytes payload;
	struct quorum_bytes signature;
	const char *key_id;				/* "" when unset, never NULL */
	const struct quorum_gossip *gossip;		/* NULL when absent */
	const struct quorum_anchor_proof *anchor_proof; /* NULL when absent */
};

/* One event as the stages see it. Owned by the host, borrowed by stages during a call. */
struct quorum_event {
	uint32_t magic; /* QUORUM_EVENT_MAGIC */
	uint32_t size;	/* sizeof(struct quorum_event) in the host */
	const struct quorum_signed_state *state;
	struct quorum_bytes encoded; /* canonical protobuf encoding of *state */
	const char *source;	     /* plugin that ingested it, or "host" */
	const char *peer;	     /* remote identity or address; "" when local */
	int64_t received_ns;	     /* CLOCK_REALTIME when ingested */
	uint64_t sequence;	     /* the host's ingest counter, 1-based, per process */
	void *reserved[6];
};

/* The domain string that starts the bytes every SignedState signature covers. */
#define QUORUM_SIGNED_STATE_DOMAIN "uml001.signed-state.v1"

/*
 * quorum_signed_state_message_len: the length of the bytes STATE's Ed25519 signature covers
 * (see quorum_signed_state_message). STATE is borrowed; its event_id and key_id must be
 * NUL-terminated (never NULL).
 */
static inline size_t quorum_signed_state_message_len(const struct quorum_signed_state *state)
{
	return sizeof(QUORUM_SIGNED_STATE_DOMAIN) + strlen(state->event_id) + 1 +
	       strlen(state->key_id) + 1 + 8 + state->payload.len;
}

/*
 * quorum_signed_state_message: writes the bytes a SignedState's Ed25519 signature covers,
 *   "uml001.signed-state.v1" NUL event_id NUL key_id NUL logical_time_ns (8 bytes,
 *   big-endian) payload
 * so the signature binds the event id, the key id and the time as well as the payload. The
 * host signs and verifies exactly these bytes; a stage checking an event's signature (the
 * passport role) rebuilds them with this function.
 * ARGUMENTS: STATE borrowed; OUT (CAP bytes, caller-owned) receives the bytes.
 * RETURN VALUE: the number of bytes written (quorum_signed_state_message_len), or -ENOSPC
 * when CAP is too small (nothing written).
 */
static inline long quorum_signed_state_message(const struct quorum_signed_state *state,
					       uint8_t *out, size_t cap)
{
	size_t id_len = strlen(state->event_id), key_len = strlen(state->key_id);
	size_t total = quorum_signed_state_message_len(state);
	uint8_t *p = out;

	if (total > cap)
		return -ENOSPC;
	memcpy(p, QUORUM_SIGNED_STATE_DOMAIN, sizeof(QUORUM_SIGNED_STATE_DOMAIN)); /* its NUL */
	p += sizeof(QUORUM_SIGNED_STATE_DOMAIN);
	memcpy(p, state->event_id, id_len + 1);
	p += id_len + 1;
	memcpy(p, state->key_id, key_len + 1);
	p += key_len + 1;
	for (int i = 7; i >= 0; i--)
		*p++ = (uint8_t)(state->logical_time_ns >> (8 * i));
	if (state->payload.len > 0)
		memcpy(p, state->payload.data, state->payload.len);
	return (long)total;
}

#ifdef __cplusplus
}
#endif

#endif /* QUORUM_EVENT_H */
