/* sharedstate.h -- the control stage's part of a leader's shared state (POST
 * /time/shared-state): the signed text decoded back into its fields, the checks after the
 * signature, and the last version applied from each leader, kept in a small state file so
 * a replay is refused after a restart too. Applying records and audits; it never moves the
 * served clock. */
#ifndef QUORUM_CONTROL_SHAREDSTATE_H
#define QUORUM_CONTROL_SHAREDSTATE_H

#include <stddef.h>
#include <stdint.h>

#include <quorum/control.h>
#include <quorum/plugin.h>
#include <quorum/sharedstate.h>

/* Leaders remembered at most (one per configured authority is the most it ever needs). */
#define SHAREDSTATE_LEADERS_MAX QUORUM_AUTHORITIES_MAX
/* The state file's first line, and its size at most. */
#define SHAREDSTATE_FILE_HEADER "quorum-control-shared-state-v1"
#define SHAREDSTATE_FILE_MAX	(256u * 1024u)

struct sharedstate_entry {
	char leader_id[QUORUM_NODE_ID_MAX + 1];
	struct quorum_shared_state_applied applied;
};

struct sharedstate {
	char *path; /* the state file; NULL: none configured, every shared state is refused */
	struct sharedstate_entry *entries; /* COUNT of them, in the order first applied */
	size_t count;
	uint64_t decisions;	 /* shared-state events decided */
	const char *last_reason; /* of the last one: "" applied, else the specific reason */
	uint64_t applied, refused;
};

/*
 * sharedstate_decode: the fields of the canonical text TEXT (LEN bytes; not NUL-terminated)
 * into *OUT. Every byte is checked: the domain, exactly 8 fields, the ids, decimal integers
 * within their bounds, a finite warp score, and that the fields written back with
 * quorum_shared_state_format give exactly TEXT (one spelling per state).
 * RETURN VALUE: 0, or -EINVAL (*OUT is then unspecified).
 */
int sharedstate_decode(const void *text, size_t len, struct quorum_shared_state_fields *out);

/*
 * sharedstate_judge: the checks after the leader's signature, in order: the version must be
 * greater than the last applied from that leader (stale_version); the leader's time must not
 * be later than LATEST_NS, the latest instant this node's served clock allows (its clock
 * unsynchronised: clock_unsynchronised, later: leader_time_in_future); |drift| must not be
 * over MAX_DRIFT_NS (drift_ceiling_exceeded; 0: no ceiling); the warp score must lie in
 * [0, 1] (warp_out_of_range). SYNCHRONISED is 1 when the served clock is.
 * RETURN VALUE: NULL when F may be applied, else the reason (static).
 */
const char *sharedstate_judge(const struct sharedstate *s,
			      const struct quorum_shared_state_fields *f, int synchronised,
			      int64_t latest_ns, int64_t max_drift_ns);

/* sharedstate_find: the entry of LEADER_ID, borrowed from S, or NULL. */
const struct sharedstate_entry *sharedstate_find(const struct sharedstate *s,
						 const char *leader_id);

/*
 * sharedstate_open: S for the state file PATH (NULL: none), loaded when it exists (a missing
 * file is a fresh start; its folder is created, mode 0700, when missing). The file must be a
 * regular file (not a symbolic link) writable by its owner only, and every line must parse.
 * RETURN VALUE: 0, or -errno with a description in WHY (WHY_SIZE bytes); S is then empty.
 */
int sharedstate_open(struct sharedstate *s, const char *path, char *why, size_t why_size);

/*
 * sharedstate_record: F becomes the last state applied from its leader (APPLIED_AT_NS this
 * node's served estimate), and the state file is rewritten atomically (a temporary file,
 * fsync, rename, fsync of the folder) before it returns. Nothing changes when it fails.
 * RETURN VALUE: 0, -ENOSPC (SHAREDSTATE_LEADERS_MAX leaders already), -EINVAL (no state
 * file configured) or -errno of the write, with WHY.
 */
int sharedstate_record(struct sharedstate *s, const struct quorum_shared_state_fields *f,
		       int64_t applied_at_ns, char *why, size_t why_size);

/* sharedstate_release: frees the contents of S (not S). */
void sharedstate_release(struct sharedstate *s);

/*
 * sharedstate_process: the control stage's process() for a QUORUM_EVENT_SHARED_STATE event:
 * decodes the payload (else REJECT, *REASON "shared_state_payload_decode_failed"), has the
 * host verify the leader's signature (api->authority_verify: unknown_leader, bad_signature),
 * judges it (sharedstate_judge) against the served clock and MAX_DRIFT_NS, records it, and
 * audits bft.shared_state.apply (CONTINUE) or bft.shared_state.reject reason=... (REJECT,
 * *REASON "shared_state_apply_rejected"). The specific reason is kept in S->last_reason.
 */
int sharedstate_process(struct sharedstate *s, struct quorum_host *host,
			const struct quorum_api *api, const struct quorum_event *event,
			int64_t max_drift_ns, const char **reason);

#endif /* QUORUM_CONTROL_SHAREDSTATE_H */
