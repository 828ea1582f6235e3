/* quorum/sharedstate.h -- a leader's shared state (the seed's bft_shared_state): its 8 fields
 * and the canonical text its Ed25519 signature covers, written in this one place for every
 * writer (the REST transport, quorumctl) and re-derived from by the control stage.
 *
 * The canonical text (printable ASCII, no newline, no NUL):
 *
 *   uml001.shared_state.v1|LEADER_ID|KEY_ID|AGREED|DRIFT|LEADER_TIME|VERSION|WARP
 *
 * AGREED (shared_agreed_time), LEADER_TIME (leader_system_time_at_sync) and VERSION
 * (monotonic_version) are unsigned decimals, DRIFT (shared_applied_drift) a signed decimal,
 * all without leading zeros or '+' ("0" and "-1" are fine, "-0" is not); WARP (warp_score)
 * is printf's "%.17g" of a finite double in the C locale (-0 written as 0), so it reads
 * back to the same double. The unsigned fields are bounded to [0, 2^63 - 1]: JSON (jansson)
 * carries no larger integer, and nanoseconds since 1970 stay below it until 2262. LEADER_ID
 * (at most QUORUM_NODE_ID_MAX bytes) and KEY_ID (at most QUORUM_KEY_ID_MAX) are printable
 * ASCII without spaces, '|' (the separator), '"', '\' or '=' (they end up in JSON strings
 * and key=value log fields unescaped).
 * One set of fields has exactly one text, and the control stage refuses any other spelling.
 * The leader signs exactly these bytes (Ed25519, 64 bytes; over REST as 128 lowercase hex
 * digits), and the text travels as the payload of a QUORUM_EVENT_SHARED_STATE event whose
 * signature is those 64 bytes and whose key_id is KEY_ID. */
#ifndef QUORUM_SHAREDSTATE_H
#define QUORUM_SHAREDSTATE_H

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <quorum/event.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The event id (the seed's), and the domain that starts the signed text. */
#define QUORUM_EVENT_SHARED_STATE  "uml001.rest.time.shared_state"
#define QUORUM_SHARED_STATE_DOMAIN "uml001.shared_state.v1"
/* The longest canonical text is 258 bytes; buffers of this size hold any, with its NUL. */
#define QUORUM_SHARED_STATE_TEXT_MAX	  320
#define QUORUM_SHARED_STATE_SIGNATURE_LEN 64
#define QUORUM_SHARED_STATE_UNSIGNED_MAX  ((uint64_t)INT64_MAX)

/* The signed fields. Plain data; the names are the JSON body's. */
struct quorum_shared_state_fields {
	char leader_id[QUORUM_NODE_ID_MAX + 1];
	char key_id[QUORUM_KEY_ID_MAX + 1];
	uint64_t monotonic_version;	     /* <= QUORUM_SHARED_STATE_UNSIGNED_MAX */
	uint64_t shared_agreed_time;	     /* ns since 1970, <= ..._UNSIGNED_MAX */
	int64_t shared_applied_drift;	     /* ns */
	uint64_t leader_system_time_at_sync; /* ns since 1970, <= ..._UNSIGNED_MAX */
	double warp_score;		     /* finite; the control stage wants [0, 1] */
};

/* quorum_shared_state_id_valid: whether S (NUL-terminated) is a valid LEADER_ID or KEY_ID of
 * at most MAX bytes: non-empty printable ASCII without spaces, '|', '"', '\' or '='. */
static inline int quorum_shared_state_id_valid(const char *s, size_t max)
{
	size_t len = strlen(s);

	if (len == 0 || len > max)
		return 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < 0x21 || s[i] > 0x7e || s[i] == '|' || s[i] == '"' || s[i] == '\\' ||
		    s[i] == '=')
			return 0;
	}
	return 1;
}

/*
 * quorum_shared_state_format: the canonical text of F into OUT (CAP bytes, NUL-terminated;
 * QUORUM_SHARED_STATE_TEXT_MAX always suffices).
 * RETURN VALUE: its length (without the NUL), -EINVAL (a field out of its bounds: an id,
 * an unsigned field over 2^63 - 1, a warp score that is not finite) or -ENOSPC.
 */
static inline int quorum_shared_state_format(const struct quorum_shared_state_fields *f,
					     char *out, size_t cap)
{
	double warp = f->warp_score == 0 ? 0.0 : f->warp_score; /* -0 is written "0" */
	int n;

	if (!quorum_shared_state_id_valid(f->leader_id, QUORUM_NODE_ID_MAX) ||
	    !quorum_shared_state_id_valid(f->key_id, QUORUM_KEY_ID_MAX) ||
	    f->monotonic_version > QUORUM_SHARED_STATE_UNSIGNED_MAX ||
	    f->shared_agreed_time > QUORUM_SHARED_STATE_UNSIGNED_MAX ||
	    f->leader_system_time_at_sync > QUORUM_SHARED_STATE_UNSIGNED_MAX ||
	    !isfinite(f->warp_score))
		return -EINVAL;
	n = snprintf(out, cap, "%s|%s|%s|%" PRIu64 "|%" PRId64 "|%" PRIu64 "|%" PRIu64 "|%.17g",
		     QUORUM_SHARED_STATE_DOMAIN, f->leader_id, f->key_id, f->shared_agreed_time,
		     f->shared_applied_drift, f->leader_system_time_at_sync,
		     f->monotonic_version, warp);
	if (n < 0 || (size_t)n >= cap)
		return -ENOSPC;
	return n;
}

#ifdef __cplusplus
}
#endif

#endif /* QUORUM_SHAREDSTATE_H */
