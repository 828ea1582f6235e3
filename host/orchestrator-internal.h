/* orchestrator-internal.h -- the single ingest path: every event runs through the stages in
 * the fixed role order; each stage continues, rejects with a reason, or holds it. */
#ifndef QUORUM_ORCHESTRATOR_INTERNAL_H
#define QUORUM_ORCHESTRATOR_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <quorum/plugin.h>

#include "envelope-internal.h"

/* Events ingested while the pipeline runs wait here; beyond this they are refused. */
#define ORCHESTRATOR_QUEUE_MAX 1024

/* The audit hook: TYPE ("pipeline.event") and its key=value FIELDS, both borrowed. */
typedef void (*orchestrator_audit_fn)(void *arg, const char *type, const char *fields);

/* One stage as the orchestrator runs it; all pointers borrowed for the stage's lifetime. */
struct orchestrator_stage {
	const char *name;
	uint32_t role; /* enum quorum_stage_role */
	const struct quorum_stage_ops *ops;
	void *state;
};

/* The refusal hook: a rejection nobody can be held to (see orchestrator_set_refused). */
typedef void (*orchestrator_refused_fn)(void *arg, const char *what, const char *reason,
					const char *peer);

struct orchestrator;

/* orchestrator_new: an orchestrator with no stages. AUDIT receives every rejection and hold.
 * RETURN VALUE: new (orchestrator_free), or NULL. */
struct orchestrator *orchestrator_new(orchestrator_audit_fn audit, void *audit_arg);

/*
 * orchestrator_set_refused: REFUSED (with ARG) receives, instead of the audit hook, the
 * rejections of events whose signature was not accepted: those the host refuses before any
 * stage (an envelope that does not decode, a full queue) and those the passport-role stages
 * reject (no valid signature of a known key, or a replay of one). Such an event says nothing
 * about who sent it, so it is counted (what "pipeline") rather than recorded one by one; a
 * rejection by a later stage concerns an event some key signed, and is audited.
 */
void orchestrator_set_refused(struct orchestrator *orch, orchestrator_refused_fn refused,
			      void *arg);

/* orchestrator_free: frees it and any queued events; NULL is a no-op. */
void orchestrator_free(struct orchestrator *orch);

/*
 * orchestrator_add_stage: adds STAGE (copied) at its place in the fixed order: by role;
 * within a role, the built-in stage (the one named after the role) first, then the others in
 * the order they were added. RETURN VALUE: 0, -EEXIST (name taken), -EINVAL (bad role),
 * -ENOMEM.
 */
int orchestrator_add_stage(struct orchestrator *orch, const struct orchestrator_stage *stage);

/* orchestrator_stage_role: the role of the stage named NAME, or -1 (none: "host" too). */
int orchestrator_stage_role(const struct orchestrator *orch, const char *name);

/* orchestrator_stage_count / orchestrator_stage_name: the stages in run order. */
size_t orchestrator_stage_count(const struct orchestrator *orch);
const char *orchestrator_stage_name(const struct orchestrator *orch, size_t index);

/*
 * orchestrator_ingest_encoded / orchestrator_ingest_view: decode (or build) an envelope and
 * run it through the stages. SOURCE names the ingesting plugin (or "host"); PEER the remote
 * party ("" when local); both borrowed. The verdict goes to OUT (may be NULL).
 * A refused envelope is rejected with stage "host" and audited like any rejection.
 * RETURN VALUE: 0 when the pipeline ran (see OUT); QUORUM_AGAIN when called from inside a
 * stage, the event then runs right after the current one (OUT says "queued");
 * -EINVAL when the envelope was refused; -EBUSY when the queue is full.
 */
int orchestrator_ingest_encoded(struct orchestrator *orch, const void *data, size_t len,
				const char *source, const char *peer,
				struct quorum_verdict *out);
int orchestrator_ingest_view(struct orchestrator *orch, const struct quorum_signed_state *view,
			     const char *source, const char *peer, struct quorum_verdict *out);

/* orchestrator_ingested: events run through the pipeline so far (the last sequence). */
uint64_t orchestrator_ingested(const struct orchestrator *orch);

/*
 * orchestrator_current: whether EVENT is the event in flight and STATE the state of the
 * stage processing it right now (the check behind every "only from the pipeline" rule).
 */
int orchestrator_in_process(const struct orchestrator *orch, const struct quorum_event *event,
			    const void *stage_state);

/* orchestrator_current_event: the event in flight, or NULL. */
const struct quorum_event *orchestrator_current_event(const struct orchestrator *orch);

/* orchestrator_propose: attaches AGREEMENT (copied) to the event in flight, which must be
 * EVENT. RETURN VALUE: 0 or -EPERM. */
int orchestrator_propose(struct orchestrator *orch, const struct quorum_event *event,
			 const struct quorum_agreement *agreement);

/* orchestrator_proposal: the agreement attached to EVENT (the event in flight), copied to
 * OUT. RETURN VALUE: 0 or -ENOENT. */
int orchestrator_proposal(const struct orchestrator *orch, const struct quorum_event *event,
			  struct quorum_agreement *out);

#endif /* QUORUM_ORCHESTRATOR_INTERNAL_H */
