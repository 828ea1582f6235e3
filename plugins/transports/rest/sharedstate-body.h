/* sharedstate-body.h -- the body of POST /time/shared-state, parsed strictly (the reference's
 * order of checks and messages) into the leader's signed fields, its signature and the
 * canonical text the control stage re-derives them from. */
#ifndef QUORUM_REST_SHAREDSTATE_BODY_H
#define QUORUM_REST_SHAREDSTATE_BODY_H

#include <stddef.h>
#include <stdint.h>

#include <quorum/sharedstate.h>

/* The 400 messages, in the order the body is checked. */
#define SHARED_BODY_INVALID_JSON "Invalid JSON"
#define SHARED_BODY_NOT_OBJECT	 "Shared-state must be a JSON object"
#define SHARED_BODY_UNKNOWN	 "Unknown shared-state fields are not allowed"
#define SHARED_BODY_MISSING	 "Missing required shared-state fields"
#define SHARED_BODY_TYPES	 "Invalid shared-state field types"

/* A body that is larger is refused with 413 before it is parsed: the 8 fields take ~420. */
#define SHARED_BODY_MAX 4096

struct shared_body {
	struct quorum_shared_state_fields fields;
	uint8_t signature[QUORUM_SHARED_STATE_SIGNATURE_LEN];
	char text[QUORUM_SHARED_STATE_TEXT_MAX]; /* the canonical signed text */
	size_t text_len;
};

/*
 * shared_body_parse: BODY (LEN bytes, untrusted) into *OUT. In order: not JSON (jansson,
 * duplicate keys refused; integers beyond 64 bits are not JSON to it either) -> Invalid
 * JSON; not an object; a member outside the 8 fields; one of them missing; a wrong type:
 * monotonic_version, shared_agreed_time and leader_system_time_at_sync JSON integers >= 0
 * (so at most 2^63 - 1), shared_applied_drift a JSON integer, warp_score a finite JSON
 * number (integer or real; its range is the control stage's business), signature_hex 128
 * lowercase hex digits, leader_id and key_id as quorum_shared_state_id_valid says (at most
 * QUORUM_NODE_ID_MAX and QUORUM_KEY_ID_MAX bytes). Nothing is coerced: "5", 5.0 and true are
 * not integers.
 * RETURN VALUE: 0, or -EINVAL with *MESSAGE one of the SHARED_BODY_* (static).
 */
int shared_body_parse(const void *body, size_t len, struct shared_body *out,
		      const char **message);

#endif /* QUORUM_REST_SHAREDSTATE_BODY_H */
