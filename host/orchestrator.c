/* orchestrator.c -- the single ingest path. Stages run in the fixed role order; the first
 * reject or hold ends the run; every stage with an observer then sees the final verdict;
 * rejections and holds reach the audit hook with their reason. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log-internal.h"
#include "orchestrator-internal.h"
#include "util-internal.h"
#include "clocks.h"

struct queued_event {
	struct envelope *envelope;
	char source[QUORUM_STAGE_NAME_MAX];
	char peer[128];
	struct queued_event *next;
};

struct orchestrator {
	struct orchestrator_stage *stages;
	size_t stage_count;
	orchestrator_audit_fn audit;
	void *audit_arg;
	orchestrator_refused_fn refused;
	void *refused_arg;
	uint64_t sequence;
	int running;
	/* The event in flight, the stage processing it, and what convergence proposed. */
	const struct quorum_event *current;
	const struct orchestrator_stage *current_stage;
	struct quorum_agreement proposal;
	int has_proposal;
	struct queued_event *queue_head, *queue_tail;
	size_t queue_len;
};

struct orchestrator *orchestrator_new(orchestrator_audit_fn audit, void *audit_arg)
{
	struct orchestrator *orch = calloc(1, sizeof(*orch));

	if (orch == NULL)
		return NULL;
	orch->audit = audit;
	orch->audit_arg = audit_arg;
	return orch;
}

void orchestrator_set_refused(struct orchestrator *orch, orchestrator_refused_fn refused,
			      void *arg)
{
	orch->refused = refused;
	orch->refused_arg = arg;
}

void orchestrator_free(struct orchestrator *orch)
{
	if (orch == NULL)
		return;
	while (orch->queue_head != NULL) {
		struct queued_event *q = orch->queue_head;

		orch->queue_head = q->next;
		envelope_free(q->envelope);
		free(q);
	}
	free(orch->stages);
	free(orch);
}

static int stage_is_builtin(const struct orchestrator_stage *s)
{
	return strcmp(s->name, quorum_role_name(s->role)) == 0;
}

int orchestrator_add_stage(struct orchestrator *orch, const struct orchestrator_stage *stage)
{
	struct orchestrator_stage *grown;
	size_t at;

	if (stage->role < QUORUM_ROLE_PASSPORT || stage->role > QUORUM_ROLE_CONTROL ||
	    stage->ops == NULL || stage->ops->process == NULL)
		return -EINVAL;
	for (size_t i = 0; i < orch->stage_count; i++) {
		if (strcmp(orch->stages[i].name, stage->name) == 0)
			return -EEXIST;
	}
	/* Place: after every stage of a lower role and every stage of the same role, except
	 * that a built-in goes before the vendor stages of its role. */
	for (at = 0; at < orch->stage_count; at++) {
		const struct orchestrator_stage *s = &orch->stages[at];

		if (s->role > stage->role)
			break;
		if (s->role == stage->role && stage_is_builtin(stage) && !stage_is_builtin(s))
			break;
	}
	grown = realloc(orch->stages, (orch->stage_count + 1) * sizeof(*grown));
	if (grown == NULL)
		return -ENOMEM;
	orch->stages = grown;
	memmove(&grown[at + 1], &grown[at], (orch->stage_count - at) * sizeof(*grown));
	grown[at] = *stage;
	orch->stage_count++;
	return 0;
}

int orchestrator_stage_role(const struct orchestrator *orch, const char *name)
{
	for (size_t i = 0; i < orch->stage_count; i++) {
		if (strcmp(orch->stages[i].name, name) == 0)
			return (int)orch->stages[i].role;
	}
	return -1;
}

size_t orchestrator_stage_count(const struct orchestrator *orch)
{
	return orch->stage_count;
}

const char *orchestrator_stage_name(const struct orchestrator *orch, size_t index)
{
	return index < orch->stage_count ? orch->stages[index].name : NULL;
}

uint64_t orchestrator_ingested(const struct orchestrator *orch)
{
	return orch->sequence;
}

int orchestrator_in_process(const struct orchestrator *orch, const struct quorum_event *event,
			    const void *stage_state)
{
	return orch->current != NULL && orch->current == event && orch->current_stage != NULL &&
	       orch->current_stage->state == stage_state;
}

const struct quorum_event *orchestrator_current_event(const struct orchestrator *orch)
{
	return orch->current;
}

int orchestrator_propose(struct orchestrator *orch, const struct quorum_event *event,
			 const struct quorum_agreement *agreement)
{
	if (orch->current == NULL || orch->current != event)
		return -EPERM;
	orch->proposal = *agreement;
	orch->has_proposal = 1;
	return 0;
}

int orchestrator_proposal(const struct orchestrator *orch, const struct quorum_event *event,
			  struct quorum_agreement *out)
{
	if (orch->current == NULL || orch->current != event || !orch->has_proposal)
		return -ENOENT;
	*out = orch->proposal;
	return 0;
}

static void verdict_set(struct quorum_verdict *out, int code, const char *reason,
			const char *stage)
{
	if (out == NULL)
		return;
	out->code = code;
	snprintf(out->reason, sizeof(out->reason), "%s", reason);
	snprintf(out->stage, sizeof(out->stage), "%s", stage);
}

/* A reason from a stage must be a short printable token; anything else is replaced. */
static const char *reason_sanitize(const char *reason)
{
	size_t len;

	if (reason == NULL)
		return "reason_missing";
	len = strlen(reason);
	if (len == 0 || len >= QUORUM_REASON_MAX)
		return "reason_invalid";
	for (size_t i = 0; i < len; i++) {
		if (reason[i] < 0x21 || reason[i] > 0x7e)
			return "reason_invalid";
	}
	return reason;
}

/* Audits V, or only counts it when UNSIGNED (the event's signature was not accepted). */
static void orchestrator_audit(struct orchestrator *orch, const char *event_id, uint64_t seq,
			       const char *source, const char *peer,
			       const struct quorum_verdict *v, int unsigned_event)
{
	char fields[512];

	if (unsigned_event && v->code == QUORUM_REJECT && orch->refused != NULL) {
		orch->refused(orch->refused_arg, "pipeline", v->reason,
			      peer[0] != '\0' ? peer : source);
		return;
	}
	if (orch->audit == NULL)
		return;
	snprintf(fields, sizeof(fields),
		 "verdict=%s stage=%s reason=%s event_id=%s seq=%" PRIu64
		 " source=%s peer=\"%s\"",
		 v->code == QUORUM_HOLD ? "hold" : "reject", v->stage, v->reason, event_id, seq,
		 source, peer);
	orch->audit(orch->audit_arg, "pipeline.event", fields);
}

/* Runs one envelope through the stages; consumes ENVELOPE. */
static void orchestrator_run(struct orchestrator *orch, struct envelope *envelope,
			     const char *source, const char *peer, struct quorum_verdict *out)
{
	struct quorum_event event = {
		.magic = QUORUM_EVENT_MAGIC,
		.size = sizeof(struct quorum_event),
		.state = &envelope->view,
		.encoded = { envelope->encoded, envelope->encoded_len },
		.source = source,
		.peer = peer,
		.received_ns = realtime_now_ns(),
		.sequence = ++orch->sequence,
	};
	struct quorum_verdict verdict = { .code = QUORUM_CONTINUE };
	int rejected_by_passport = 0;

	orch->current = &event;
	orch->has_proposal = 0;
	for (size_t i = 0; i < orch->stage_count; i++) {
		const struct orchestrator_stage *s = &orch->stages[i];
		const char *reason = NULL;
		int code;

		orch->current_stage = s;
		code = s->ops->process(s->state, &event, &reason);
		orch->current_stage = NULL;

		if (code == QUORUM_CONTINUE)
			continue;
		if (code != QUORUM_REJECT && code != QUORUM_HOLD) {
			log_msg(QUORUM_LOG_ERROR, "orchestrator",
				"stage.verdict.invalid stage=%s verdict=%d", s->name, code);
			code = QUORUM_REJECT;
			reason = "stage_verdict_invalid";
		}
		verdict_set(&verdict, code, reason_sanitize(reason), s->name);
		rejected_by_passport = s->role == QUORUM_ROLE_PASSPORT;
		break;
	}
	if (verdict.code != QUORUM_CONTINUE)
		orchestrator_audit(orch, envelope->view.event_id, event.sequence, source, peer,
				   &verdict, rejected_by_passport);
	else
		log_msg(QUORUM_LOG_DEBUG, "orchestrator",
			"pipeline.event verdict=accept event_id=%s seq=%" PRIu64 " source=%s",
			envelope->view.event_id, event.sequence, source);
	for (size_t i = 0; i < orch->stage_count; i++) {
		const struct orchestrator_stage *s = &orch->stages[i];

		if (s->ops->observe != NULL)
			s->ops->observe(s->state, &event, &verdict);
	}
	orch->current = NULL;
	orch->has_proposal = 0;
	if (out != NULL)
		*out = verdict;
	envelope_free(envelope);
}

static int orchestrator_enqueue(struct orchestrator *orch, struct envelope *envelope,
				const char *source, const char *peer,
				struct quorum_verdict *out)
{
	struct queued_event *q;

	q = orch->queue_len < ORCHESTRATOR_QUEUE_MAX ? calloc(1, sizeof(*q)) : NULL;
	if (q == NULL) {
		struct quorum_verdict v;

		verdict_set(&v, QUORUM_REJECT, "pipeline_queue_full", "host");
		orchestrator_audit(orch, envelope->view.event_id, 0, source, peer, &v, 1);
		envelope_free(envelope);
		if (out != NULL)
			*out = v;
		return -EBUSY;
	}
	q->envelope = envelope;
	snprintf(q->source, sizeof(q->source), "%s", source);
	snprintf(q->peer, sizeof(q->peer), "%s", peer);
	if (orch->queue_tail != NULL)
		orch->queue_tail->next = q;
	else
		orch->queue_head = q;
	orch->queue_tail = q;
	orch->queue_len++;
	verdict_set(out, QUORUM_CONTINUE, "queued", "");
	return QUORUM_AGAIN;
}

static int orchestrator_ingest(struct orchestrator *orch, struct envelope *envelope,
			       const char *source, const char *peer, struct quorum_verdict *out)
{
	if (orch->running)
		return orchestrator_enqueue(orch, envelope, source, peer, out);
	orch->running = 1;
	orchestrator_run(orch, envelope, source, peer, out);
	/* Events that stages ingested meanwhile run now, in order; their verdicts reach the
	 * audit hook and the observers, not the caller. */
	while (orch->queue_head != NULL) {
		struct queued_event *q = orch->queue_head;

		orch->queue_head = q->next;
		if (orch->queue_head == NULL)
			orch->queue_tail = NULL;
		orch->queue_len--;
		orchestrator_run(orch, q->envelope, q->source, q->peer, NULL);
		free(q);
	}
	orch->running = 0;
	return 0;
}

static int orchestrator_refuse(struct orchestrator *orch, const char *reason,
			       const char *source, const char *peer, struct quorum_verdict *out)
{
	struct quorum_verdict v;

	verdict_set(&v, QUORUM_REJECT, reason, "host");
	orchestrator_audit(orch, "-", 0, source, peer, &v, 1);
	if (out != NULL)
		*out = v;
	return -EINVAL;
}

int orchestrator_ingest_encoded(struct orchestrator *orch, const void *data, size_t len,
				const char *source, const char *peer,
				struct quorum_verdict *out)
{
	const char *reason = NULL;
	struct envelope *envelope = envelope_decode(data, len, &reason);

	if (envelope == NULL)
		return orchestrator_refuse(orch, reason, source, peer, out);
	return orchestrator_ingest(orch, envelope, source, peer, out);
}

int orchestrator_ingest_view(struct orchestrator *orch, const struct quorum_signed_state *view,
			     const char *source, const char *peer, struct quorum_verdict *out)
{
	const char *reason = NULL;
	struct envelope *envelope = envelope_build(view, &reason);

	if (envelope == NULL)
		return orchestrator_refuse(orch, reason, source, peer, out);
	return orchestrator_ingest(orch, envelope, source, peer, out);
}
