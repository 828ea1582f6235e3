/* control.c -- the control stage: disposes of convergence's proposals. A local round's
 * agreement is committed to the served clock within the seed's guards (step limit
 * max_drift_step, ceiling max_total_drift, both scaled by the warp score), or refused with
 * the seed's reason; nothing else ever changes the served clock. It keeps the node's runtime
 * mode (the seed's table, modes.c): COLD_START until the first commit, then QUORUM_ACTIVE;
 * its circuit breaker sees the final verdict of each of this node's rounds and a streak of
 * rejections moves the node to DEGRADED until a run of accepted rounds closes it; ISOLATED
 * and HITL_HOLD commit nothing, RECOVERY nothing until an operator's rejoin. Every transition
 * is logged and audited (runtime.mode.transition). The mode and the breaker are published as
 * QUORUM_CONTROL_SERVICE for the transports. A source whose answers were refused as invalid
 * (bad signature, wrong key, replayed, stale, equivocating) in quarantine_after of this node's
 * rounds in a row is quarantined for quarantine_s: the host stops asking it (audited as
 * pipeline.quarantine, reason quarantine_logged). A leader's shared state
 * (uml001.rest.time.shared_state, sharedstate.c) is verified and recorded per leader, never
 * applied to the served clock. Operator commands (uml001.control.*, commands.c) are obeyed only
 * when signed by a configured operator key: set_mode, HITL approve / reject of an agreement
 * held because its step exceeded hitl_step_ns, and the recovery path (begin, epoch_verified
 * with another authority's signed checkpoint, rejoin after a fresh agreement); other stages may
 * register holds of the same gate (a passport update). A malfeasance report
 * (uml001.gossip.malfeasance, malfeasance.c), this node's or a peer's, is checked again with
 * this node's keys and quarantines the equivocating authority. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/sha.h>

#include <quorum/audit.h>
#include <quorum/control.h>
#include <quorum/gossip.h>
#include <quorum/plugin.h>

#include "commands.h"
#include "malfeasance.h"
#include "modes.h"
#include "sharedstate.h"
#include "note.h"
#include "clocks.h"

/* A local agreement held for a human: its step from the served clock was over hitl_step_ns.
 * An approval lets agreements stepping the same way, up to twice as far, commit until the
 * deadline; a rejection or the deadline ends the hold. */
struct hitl_hold {
	int active, approved;
	char id[COMMAND_HOLD_ID_LEN + 1];
	uint64_t round;
	int64_t step_ns;	  /* signed: estimate - served, at the agreement's reference */
	int64_t deadline_mono_ns; /* the hold (or the approval) ends here */
};

#define CONTROL_EVENT_HOLDS_MAX 16

struct control {
	struct quorum_host *host;
	const struct quorum_api *api;
	int64_t max_drift_step_ns;
	int64_t max_total_drift_ns;
	int warp_scaling;
	uint64_t committed, refused;
	struct modes modes;
	/* quarantine */
	int64_t quarantine_after, quarantine_s;
	struct quorum_source_status *sources; /* QUORUM_AUTHORITIES_MAX */
	uint32_t *strikes;		      /* per configured source, in order */
	uint64_t last_round_judged;
	/* leaders' shared states (sharedstate.c) */
	struct sharedstate shared;
	/* operator commands */
	struct operators operators;
	int64_t command_max_age_ns;
	/* human in the loop */
	int64_t hitl_step_ns; /* 0: no agreement is held */
	int64_t hitl_timeout_ns;
	struct hitl_hold hold;
	/* holds other stages registered (hold_register): the event in flight waits in that
	 * stage; an approval or rejection here lets it act */
	struct event_hold {
		char id[COMMAND_HOLD_ID_LEN + 1];
		char what[160];
		int64_t deadline_mono_ns;
	} event_holds[CONTROL_EVENT_HOLDS_MAX];
	size_t event_hold_count;
	/* recovery: the epoch (a peer's signed checkpoint) verified, then a fresh agreement */
	int epoch_verified;
	int64_t epoch_earliest_ns; /* the verified checkpoint's time witness */
	int64_t recovery_epoch_max_age_ns;
	int have_fresh; /* a good local agreement came after the epoch */
	/* the last agreement committed: where a new one's step is measured from */
	int have_last;
	int64_t last_estimate_ns, last_mono_ns;
	/* evidence of equivocation (malfeasance.c) */
	struct malfeasance malfeasance;
};

/* Why an answer was refused, as a strike toward quarantine: lies, not lateness. The host
 * reports a source rejected only for an answer that verified under its key and answered the
 * question open to it; what anybody could send (a forged signature, a replayed answer, a
 * second answer to one nonce) never reaches a source's report, so it cannot strike. */
static int is_strike(const char *problem)
{
	static const char *const strikes[] = { "signature_invalid", "key_id_mismatch",
					       "equivocation", "stale_sequence",
					       "interval_inconsistent" };

	for (size_t i = 0; i < sizeof(strikes) / sizeof(strikes[0]); i++)
		if (strcmp(problem, strikes[i]) == 0)
			return 1;
	return 0;
}

/* After one of this node's rounds: counts strikes and quarantines repeat offenders. */
static void judge_sources(struct control *c)
{
	size_t count = 0;

	if (c->quarantine_after <= 0 || !QUORUM_API_HAS(c->api, source_quarantine))
		return;
	c->api->sources_status(c->host, c->sources, QUORUM_AUTHORITIES_MAX, &count);
	if (count > QUORUM_AUTHORITIES_MAX)
		count = QUORUM_AUTHORITIES_MAX;
	if (count == 0 || c->sources[0].round == c->last_round_judged)
		return;
	c->last_round_judged = c->sources[0].round;
	for (size_t i = 0; i < count; i++) {
		const struct quorum_source_status *s = &c->sources[i];

		if (s->quarantined)
			continue;
		if (s->state == QUORUM_SOURCE_REJECTED && is_strike(s->problem))
			c->strikes[i]++;
		else if (s->state != QUORUM_SOURCE_SILENT)
			c->strikes[i] = 0; /* it answered acceptably (or said it cannot) */
		if (c->strikes[i] < (uint64_t)c->quarantine_after)
			continue;
		if (c->api->source_quarantine(c->host, s->id, c->quarantine_s * 1000000000LL,
					      s->problem) == 0)
			c->api->audit(c->host, "pipeline.quarantine",
				      "source=%s reason=quarantine_logged cause=%s strikes=%u "
				      "duration_s=%" PRId64,
				      s->id, s->problem, c->strikes[i], c->quarantine_s);
		c->strikes[i] = 0;
	}
}

/* Moves to TO for REASON: audited when it moves (runtime.mode.transition), when the table
 * refuses (runtime.mode.reject). 1 moved, 0 already there, -1 refused. */
static int mode_change(struct control *c, uint32_t to, const char *reason)
{
	uint32_t from = c->modes.mode;
	int moved = modes_set(&c->modes, to);

	if (moved > 0) {
		c->api->audit(c->host, "runtime.mode.transition", "from=%s to=%s reason=%s",
			      modes_name(from), modes_name(to), reason);
		if (from == QUORUM_MODE_RECOVERY) { /* leaving RECOVERY clears the epoch */
			c->epoch_verified = 0;
			c->have_fresh = 0;
		}
	} else if (moved < 0)
		c->api->audit(c->host, "runtime.mode.reject", "from=%s to=%s reason=%s",
			      modes_name(from), modes_name(to), "mode_transition_rejected");
	return moved;
}

/* ---- the service (quorum/control.h) ---- */

static uint32_t svc_mode(void *state)
{
	return ((struct control *)state)->modes.mode;
}

static const char *svc_mode_name(void *state)
{
	return modes_name(((struct control *)state)->modes.mode);
}

static int svc_breaker_tripped(void *state)
{
	return ((struct control *)state)->modes.tripped;
}

static uint32_t svc_rejection_streak(void *state)
{
	return ((struct control *)state)->modes.rejection_streak;
}

static uint64_t svc_transitions(void *state)
{
	return ((struct control *)state)->modes.transitions;
}

static int svc_shared_state(void *state, const char *leader_id,
			    struct quorum_shared_state_applied *out)
{
	const struct sharedstate_entry *e =
		leader_id == NULL
			? NULL
			: sharedstate_find(&((struct control *)state)->shared, leader_id);

	if (e == NULL)
		return -ENOENT;
	*out = e->applied;
	return 0;
}

static const char *svc_shared_state_last(void *state, uint64_t *decisions)
{
	const struct sharedstate *s = &((struct control *)state)->shared;

	*decisions = s->decisions;
	return s->last_reason;
}

/* Drops the registered holds whose time ran out (audited: never approved). */
static void event_holds_expire(struct control *c)
{
	int64_t now = mono_now_ns();

	for (size_t i = 0; i < c->event_hold_count;) {
		struct event_hold *h = &c->event_holds[i];

		if (now < h->deadline_mono_ns) {
			i++;
			continue;
		}
		c->api->audit(c->host, "hitl.expired",
			      "hold_id=%s %s reason=hitl_required_not_approved", h->id,
			      h->what);
		memmove(h, h + 1, (c->event_hold_count - i - 1) * sizeof(*h));
		c->event_hold_count--;
	}
}

/* Takes the registered hold ID out: 1 when it was there (and in time), else 0. */
static int event_hold_take(struct control *c, const char *id, char what[160])
{
	event_holds_expire(c);
	for (size_t i = 0; i < c->event_hold_count; i++) {
		struct event_hold *h = &c->event_holds[i];

		if (strcmp(h->id, id) != 0)
			continue;
		memcpy(what, h->what, sizeof(h->what));
		memmove(h, h + 1, (c->event_hold_count - i - 1) * sizeof(*h));
		c->event_hold_count--;
		return 1;
	}
	return 0;
}

static int svc_hold_register(void *state, const char *hold_id, const char *what)
{
	struct control *c = state;
	struct event_hold *h;

	if (hold_id == NULL || strlen(hold_id) != COMMAND_HOLD_ID_LEN ||
	    strspn(hold_id, "0123456789abcdef") != COMMAND_HOLD_ID_LEN)
		return -EINVAL;
	event_holds_expire(c);
	if (c->event_hold_count == CONTROL_EVENT_HOLDS_MAX)
		return -ENOSPC;
	h = &c->event_holds[c->event_hold_count++];
	snprintf(h->id, sizeof(h->id), "%s", hold_id);
	snprintf(h->what, sizeof(h->what), "%s", what != NULL ? what : "event");
	for (char *p = h->what; *p != '\0'; p++)
		if (*p < 0x20 || *p > 0x7e || *p == '"')
			*p = '?';
	h->deadline_mono_ns = mono_now_ns() + c->hitl_timeout_ns;
	c->api->audit(c->host, "hitl.hold", "hold_id=%s %s timeout_s=%" PRId64, h->id, h->what,
		      (int64_t)(c->hitl_timeout_ns / 1000000000));
	return 0;
}

static const struct quorum_control_ops control_service = {
	.size = sizeof(struct quorum_control_ops),
	.mode = svc_mode,
	.mode_name = svc_mode_name,
	.breaker_tripped = svc_breaker_tripped,
	.rejection_streak = svc_rejection_streak,
	.transitions = svc_transitions,
	.shared_state = svc_shared_state,
	.shared_state_last = svc_shared_state_last,
	.hold_register = svc_hold_register,
};

/* The seed's warp-score scaling: w <= 0: x; w >= 1: max(1, x/4); else
 * max(1, floor(x * (1 - 0.75 w))). */
static int64_t warp_scale(int64_t x, double w)
{
	int64_t scaled;

	if (w <= 0)
		return x;
	if (w >= 1)
		return x / 4 > 1 ? x / 4 : 1;
	scaled = (int64_t)((double)x * (1.0 - 0.75 * w));
	return scaled > 1 ? scaled : 1;
}

/* Opens the leaders' shared-state file NAME (shared_state_file; NULL: every shared state is
 * refused, as a replay could not be refused after a restart). 0 or -errno, logged. */
static int shared_state_open(struct control *c, const char *name)
{
	char path[4096], why[512] = "";
	int err;

	if (name != NULL && c->api->config_path(c->host, name, path, sizeof(path)) != 0)
		return -ENAMETOOLONG;
	err = sharedstate_open(&c->shared, name != NULL ? path : NULL, why, sizeof(why));
	if (err != 0)
		c->api->log(c->host, QUORUM_LOG_ERROR,
			    "control.shared_state.unreadable error=\"%s\"",
			    why[0] != '\0' ? why : strerror(-err));
	else if (name == NULL)
		c->api->log(
			c->host, QUORUM_LOG_NOTICE,
			"control.shared_state.off reason=no_shared_state_file; leaders' shared "
			"states are refused");
	return err;
}

static void control_free(struct control *c)
{
	sharedstate_release(&c->shared);
	free(c->sources);
	free(c->strikes);
	free(c);
}

/* Reads the operators list: ( { id = "..."; public_key = "file.pub"; }, ... ). A list of
 * groups cannot be bound to the settings struct (ABI 1.12 binds scalars only): it keeps its
 * reader. */
static int operators_load(struct control *c, struct quorum_host *host,
			  const struct quorum_api *api)
{
	int count = api->config_length(host, "operators");

	for (int i = 0; i < count; i++) {
		char path[256], file[4096], why[512];
		const char *id = NULL, *pub = NULL;

		snprintf(path, sizeof(path), "operators.[%d].id", i);
		api->config_string(host, path, &id);
		snprintf(path, sizeof(path), "operators.[%d].public_key", i);
		api->config_string(host, path, &pub);
		if (id == NULL || pub == NULL ||
		    api->config_path(host, pub, file, sizeof(file)) != 0) {
			api->log(host, QUORUM_LOG_ERROR, "control.operator_invalid index=%d",
				 i);
			return -EINVAL;
		}
		if (operators_add(&c->operators, id, file, why, sizeof(why)) != 0) {
			api->log(host, QUORUM_LOG_ERROR,
				 "control.operator_invalid id=%s error=\"%s\"", id, why);
			return -EINVAL;
		}
	}
	return 0;
}

/* The stage's settings, filled by the host from control_settings (defaults live only
 * there); `operators`, a list of groups, is read by operators_load. */
struct control_settings {
	int64_t max_drift_step_ns;
	int64_t max_total_drift_ns;
	int warp_scaling;
	int64_t breaker_trip_after;
	int64_t breaker_close_after;
	int64_t quarantine_after;
	int64_t quarantine_s;
	const char *shared_state_file;
	int64_t command_max_age_s;
	int64_t hitl_step_ns;
	int64_t hitl_timeout_s;
	int64_t recovery_epoch_max_age_s;
};

static int control_init(struct quorum_host *host, const struct quorum_api *api, void **state)
{
	const struct control_settings *cfg;
	struct control *c;
	int64_t trip_after, close_after;
	int err;

	if (!QUORUM_API_HAS(api, clock_commit) || !QUORUM_API_HAS(api, authority_verify) ||
	    !QUORUM_API_HAS(api, settings))
		return -ENOTSUP;
	cfg = api->settings(host);
	if (cfg == NULL)
		return -EINVAL;
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return -ENOMEM;
	c->host = host;
	c->api = api;
	c->max_drift_step_ns = cfg->max_drift_step_ns;
	c->max_total_drift_ns = cfg->max_total_drift_ns;
	c->warp_scaling = cfg->warp_scaling;
	trip_after = cfg->breaker_trip_after;
	close_after = cfg->breaker_close_after;
	modes_init(&c->modes, (uint32_t)trip_after, (uint32_t)close_after);
	c->quarantine_after = cfg->quarantine_after;
	c->quarantine_s = cfg->quarantine_s;
	if ((err = operators_load(c, host, api)) != 0) {
		control_free(c);
		return err;
	}
	c->command_max_age_ns = cfg->command_max_age_s * 1000000000LL;
	c->hitl_step_ns = cfg->hitl_step_ns;
	c->hitl_timeout_ns = cfg->hitl_timeout_s * 1000000000LL;
	c->recovery_epoch_max_age_ns = cfg->recovery_epoch_max_age_s * 1000000000LL;
	c->sources = calloc(QUORUM_AUTHORITIES_MAX, sizeof(*c->sources));
	c->strikes = calloc(QUORUM_AUTHORITIES_MAX, sizeof(*c->strikes));
	if (c->sources == NULL || c->strikes == NULL) {
		control_free(c);
		return -ENOMEM;
	}
	err = shared_state_open(c, cfg->shared_state_file);
	if (err != 0) {
		control_free(c);
		return err;
	}
	if (QUORUM_API_HAS(api, service_publish) &&
	    (err = api->service_publish(host, QUORUM_CONTROL_SERVICE, &control_service, c)) !=
		    0) {
		control_free(c);
		return err;
	}
	api->log(host, QUORUM_LOG_NOTICE,
		 "control.started mode=%s breaker_trip_after=%" PRId64
		 " breaker_close_after=%" PRId64 " quarantine_after=%" PRId64
		 " quarantine_s=%" PRId64 " shared_state_leaders=%zu"
		 " operators=%zu hitl_step_ns=%" PRId64,
		 modes_name(c->modes.mode), trip_after, close_after, c->quarantine_after,
		 c->quarantine_s, c->shared.count, c->operators.count, c->hitl_step_ns);
	*state = c;
	return 0;
}

static int refuse(struct control *c, const struct quorum_agreement *a, const char *reason,
		  const char **out)
{
	c->refused++;
	c->api->audit(c->host, "bft.sync.reject",
		      "reason=%s round=%" PRIu64 " drift_ns=%" PRId64 " warp_score=%.3f",
		      reason, a != NULL ? a->round : 0, a != NULL ? a->drift_ns : 0,
		      a != NULL ? a->warp_score : 0.0);
	*out = reason;
	return QUORUM_REJECT;
}

/* ---- human in the loop ---- */

/* The signed step AGREEMENT makes from the last agreement committed, extrapolated to its
 * reference instant; 0 before the first commit (there is nothing to step from). Not read
 * from the served clock: that goes unsynchronised while a step is held, and a held step
 * must not commit merely because the node waited long enough. */
static int64_t agreement_step(const struct control *c, const struct quorum_agreement *a)
{
	if (!c->have_last)
		return 0;
	return a->estimate_ns -
	       (c->last_estimate_ns + (a->reference_mono_ns - c->last_mono_ns));
}

/* Ends the hold when its deadline passed (audited: the step was never approved). */
static void hold_expire(struct control *c)
{
	if (!c->hold.active || mono_now_ns() < c->hold.deadline_mono_ns)
		return;
	c->api->audit(c->host, c->hold.approved ? "hitl.approval_expired" : "hitl.expired",
		      "hold_id=%s round=%" PRIu64 " step_ns=%" PRId64
		      " reason=hitl_required_not_approved",
		      c->hold.id, c->hold.round, c->hold.step_ns);
	c->hold.active = 0;
}

/* Whether the agreement with STEP may commit: 1 yes; 0 held (a hold is opened or kept). */
static int hitl_gate(struct control *c, const struct quorum_event *event,
		     const struct quorum_agreement *a, int64_t step)
{
	int64_t magnitude = step < 0 ? -step : step;
	uint8_t digest[SHA256_DIGEST_LENGTH];

	if (c->hitl_step_ns <= 0 || magnitude <= c->hitl_step_ns)
		return 1;
	hold_expire(c);
	if (c->hold.active && c->hold.approved && (step < 0) == (c->hold.step_ns < 0) &&
	    magnitude / 2 <= (c->hold.step_ns < 0 ? -c->hold.step_ns : c->hold.step_ns))
		return 1;
	if (c->hold.active && !c->hold.approved) {
		c->hold.round = a->round; /* the freshest agreement waits under the same id */
		c->hold.step_ns = step;
		return 0;
	}
	SHA256(event->encoded.data, event->encoded.len, digest);
	for (int i = 0; i < COMMAND_HOLD_ID_LEN / 2; i++)
		snprintf(c->hold.id + 2 * i, 3, "%02x", digest[i]);
	c->hold.active = 1;
	c->hold.approved = 0;
	c->hold.round = a->round;
	c->hold.step_ns = step;
	c->hold.deadline_mono_ns = mono_now_ns() + c->hitl_timeout_ns;
	c->api->audit(c->host, "hitl.hold",
		      "hold_id=%s round=%" PRIu64 " step_ns=%" PRId64 " threshold_ns=%" PRId64
		      " timeout_s=%" PRId64,
		      c->hold.id, a->round, step, c->hitl_step_ns,
		      (int64_t)(c->hitl_timeout_ns / 1000000000));
	return 0;
}

/* ---- operator commands ---- */

/* The reason a refused command of KIND gets when its payload or its moment is wrong. */
static const char *command_refusal(enum command_kind kind)
{
	switch (kind) {
	case COMMAND_SET_MODE:
		return "mode_set_payload_invalid";
	case COMMAND_HITL_APPROVE:
	case COMMAND_HITL_REJECT:
		return "hitl_payload_invalid";
	case COMMAND_RECOVERY_BEGIN:
		return "recovery_begin_rejected";
	case COMMAND_RECOVERY_EPOCH:
		return "recovery_epoch_verify_rejected";
	default:
		return "recovery_rejoin_rejected";
	}
}

static int command_reject(struct control *c, const struct quorum_event *event,
			  const char *reason, const char *detail, const char **out)
{
	c->api->audit(c->host, "control.command.reject", "event_id=%s reason=%s detail=\"%s\"",
		      event->state->event_id, reason, detail);
	*out = reason;
	return QUORUM_REJECT;
}

struct note_signer {
	struct control *c;
	const char *authority;
};

static int authority_signed(void *arg, const void *text, size_t len,
			    const uint8_t sig[NOTE_SIG_LEN])
{
	struct note_signer *ns = arg;

	return ns->c->api->authority_verify(ns->c->host, ns->authority, NULL, text, len, sig,
					    NOTE_SIG_LEN);
}

/* Whether NOTE carries a valid signature by the configured authority AUTHORITY (its key is
 * the host's: checked through api->authority_verify). 0, or -1 with *WHY. */
static int note_signature_check(struct control *c, const char *note, const char *origin,
				const char *authority, const char **why)
{
	struct note_signer ns = { c, authority };
	size_t text_len;

	if (!QUORUM_API_HAS(c->api, authority_verify)) {
		*why = "the host cannot check an authority's signature (ABI < 1.5)";
		return -1;
	}
	if (note_verify_by(note, strlen(note), origin, authority_signed, &ns, &text_len, why) !=
	    0)
		return -1;
	return 0;
}

/* Verifies the recovery epoch: a checkpoint signed by another configured authority, with a
 * synchronised time witness no older than recovery_epoch_max_age_s. 0, or -1 with *WHY. */
static int epoch_verify(struct control *c, const char *note, int64_t *earliest,
			const char **why)
{
	struct checkpoint cp;
	size_t text_len;
	const char *authority;

	if (note_text_length(note, strlen(note), &text_len) != 0 ||
	    checkpoint_parse(note, text_len, &cp, why) != 0) {
		if (*why == NULL)
			*why = "not a signed note";
		return -1;
	}
	if (strncmp(cp.origin, "quorum-time/", 12) != 0) {
		*why = "checkpoint origin is not quorum-time/<authority id>";
		return -1;
	}
	authority = cp.origin + 12;
	if (strcmp(authority, c->api->node_id(c->host)) == 0) {
		*why = "checkpoint is this node's own";
		return -1;
	}
	if (!cp.has_time || !cp.synchronised) {
		*why = "checkpoint carries no synchronised time";
		return -1;
	}
	if (realtime_now_ns() - cp.latest_ns > c->recovery_epoch_max_age_ns) {
		*why = "checkpoint is older than recovery_epoch_max_age_s";
		return -1;
	}
	if (note_signature_check(c, note, cp.origin, authority, why) != 0)
		return -1;
	*earliest = cp.earliest_ns;
	return 0;
}

static int control_command(struct control *c, const struct quorum_event *event,
			   enum command_kind kind, const char **reason)
{
	struct operator_key *who = NULL;
	enum operator_verdict v;
	struct command cmd;
	char what[160];
	const char *why = NULL;
	int moved;

	v = operators_check(&c->operators, event->state, realtime_now_ns(),
			    c->command_max_age_ns, &who);
	if (v != OPERATOR_OK)
		return command_reject(c, event,
				      v == OPERATOR_UNSIGNED   ? "passport_signature_missing"
				      : v == OPERATOR_STALE    ? "control_command_stale"
				      : v == OPERATOR_REPLAYED ? "control_command_replayed"
							       : "passport_signature_invalid",
				      operator_verdict_name(v), reason);
	if (command_decode(kind, event->state->payload.data, event->state->payload.len, &cmd,
			   &why) != 0)
		return command_reject(c, event, command_refusal(kind), why, reason);
	switch (kind) {
	case COMMAND_SET_MODE:
		/* RECOVERY is left for QUORUM_ACTIVE only through rejoin's checks. */
		if (c->modes.mode == QUORUM_MODE_RECOVERY &&
		    cmd.mode == QUORUM_MODE_QUORUM_ACTIVE)
			return command_reject(c, event, "mode_transition_rejected",
					      "leave RECOVERY through recovery.rejoin", reason);
		moved = mode_change(c, cmd.mode, "manual_set_mode");
		if (moved < 0)
			return command_reject(c, event, "mode_transition_rejected",
					      "the transition table refuses it", reason);
		if (cmd.mode == QUORUM_MODE_RECOVERY && moved > 0)
			c->epoch_verified = c->have_fresh = 0;
		break;
	case COMMAND_HITL_APPROVE:
	case COMMAND_HITL_REJECT:
		if (event_hold_take(c, cmd.hold_id, what)) {
			/* another stage's hold: it acts on this event's final verdict */
			c->api->audit(c->host,
				      kind == COMMAND_HITL_APPROVE ? "hitl_approve"
								   : "hitl_reject",
				      "hold_id=%s %s operator=%s reason=\"%s\"", cmd.hold_id,
				      what, who->id, cmd.reason);
			break;
		}
		hold_expire(c);
		if (!c->hold.active || strcmp(c->hold.id, cmd.hold_id) != 0 ||
		    (kind == COMMAND_HITL_APPROVE && c->hold.approved))
			return command_reject(c, event, "hitl_hold_unknown",
					      "no open hold has this id", reason);
		c->api->audit(c->host,
			      kind == COMMAND_HITL_APPROVE ? "hitl_approve" : "hitl_reject",
			      "hold_id=%s round=%" PRIu64 " step_ns=%" PRId64 " operator=%s"
			      " reason=\"%s\"",
			      c->hold.id, c->hold.round, c->hold.step_ns, who->id, cmd.reason);
		if (kind == COMMAND_HITL_APPROVE) {
			c->hold.approved = 1;
			c->hold.deadline_mono_ns = mono_now_ns() + c->hitl_timeout_ns;
		} else {
			c->hold.active = 0;
		}
		break;
	case COMMAND_RECOVERY_BEGIN:
		if (mode_change(c, QUORUM_MODE_RECOVERY, "recovery_begin") < 0)
			return command_reject(c, event, "recovery_begin_rejected",
					      "the transition table refuses it", reason);
		c->epoch_verified = c->have_fresh = 0;
		break;
	case COMMAND_RECOVERY_EPOCH:
		if (c->modes.mode != QUORUM_MODE_RECOVERY)
			return command_reject(c, event, "recovery_epoch_verify_rejected",
					      "not in RECOVERY", reason);
		if (epoch_verify(c, cmd.checkpoint, &c->epoch_earliest_ns, &why) != 0)
			return command_reject(c, event, "recovery_epoch_verify_rejected", why,
					      reason);
		c->epoch_verified = 1;
		c->have_fresh = 0;
		c->api->audit(c->host, "recovery_epoch_verified",
			      "operator=%s witness_earliest_ns=%" PRId64, who->id,
			      c->epoch_earliest_ns);
		break;
	case COMMAND_RECOVERY_REJOIN:
		if (c->modes.mode != QUORUM_MODE_RECOVERY)
			return command_reject(c, event, "recovery_rejoin_rejected",
					      "not in RECOVERY", reason);
		if (!c->epoch_verified)
			return command_reject(c, event, "recovery_rejoin_without_epoch",
					      "no verified epoch", reason);
		if (!c->have_fresh)
			return command_reject(c, event, "recovery_rejoin_rejected",
					      "no fresh agreement since the epoch", reason);
		mode_change(c, QUORUM_MODE_QUORUM_ACTIVE, "recovery_rejoin");
		break;
	default:
		break;
	}
	operators_accept(who, event->state);
	c->api->audit(c->host, "control.command",
		      "event_id=%s operator=%s key_id=%s reason=\"%s\"", event->state->event_id,
		      who->id, who->key_id, cmd.reason);
	return QUORUM_CONTINUE;
}

static int control_process(void *state, const struct quorum_event *event, const char **reason)
{
	struct control *c = state;
	struct quorum_agreement a;
	int64_t step, ceiling, drift;
	enum command_kind kind = command_kind_of(event->state->event_id);
	int err;

	/* Evidence that an authority equivocated: checked again here, then quarantined. */
	if (strcmp(event->state->event_id, QUORUM_EVENT_MALFEASANCE) == 0)
		return malfeasance_process(&c->malfeasance, c->host, c->api, event,
					   c->quarantine_after, c->quarantine_s, reason);
	/* Evidence that a log forked: checked again here, then its node quarantined. */
	if (strcmp(event->state->event_id, QUORUM_EVENT_LOG_MALFEASANCE) == 0)
		return log_malfeasance_process(&c->malfeasance, c->host, c->api, event,
					       c->quarantine_after, c->quarantine_s, reason);
	/* A leader's shared state: verified and recorded, never committed to the clock. */
	if (strcmp(event->state->event_id, QUORUM_EVENT_SHARED_STATE) == 0)
		return sharedstate_process(&c->shared, c->host, c->api, event,
					   c->max_total_drift_ns, reason);
	if (kind != COMMAND_NONE)
		return control_command(c, event, kind, reason);
	if (strcmp(event->state->event_id, QUORUM_EVENT_SYNC_ROUND) != 0)
		return QUORUM_CONTINUE;
	if (c->api->proposal(c->host, event, &a) != 0)
		return refuse(c, NULL, "worker_sync_not_converged", reason);
	if (!a.local)
		return QUORUM_CONTINUE; /* another node's round: its reference is not our clock
					 */
	/* By mode: an isolated node or one held for a human commits nothing. */
	if (c->modes.mode == QUORUM_MODE_ISOLATED)
		return refuse(c, &a, "mode_isolated_blocked", reason);
	if (c->modes.mode == QUORUM_MODE_HITL_HOLD)
		return refuse(c, &a, "hitl_hold_blocked", reason);
	step = c->max_drift_step_ns;
	ceiling = c->max_total_drift_ns;
	if (c->warp_scaling) {
		step = warp_scale(step, a.warp_score);
		ceiling = warp_scale(ceiling, a.warp_score);
	}
	drift = a.drift_ns < 0 ? -a.drift_ns : a.drift_ns;
	if (ceiling > 0 && drift > ceiling)
		return refuse(c, &a, "drift_ceiling_exceeded", reason);
	/* A recovering node commits nothing; after its epoch a good agreement (no earlier than
	 * the epoch's time witness) is what rejoin waits for. */
	if (c->modes.mode == QUORUM_MODE_RECOVERY) {
		if (c->epoch_verified && a.latest_ns >= c->epoch_earliest_ns)
			c->have_fresh = 1;
		return refuse(c, &a, "recovery_write_blocked", reason);
	}
	if (!hitl_gate(c, event, &a, agreement_step(c, &a))) {
		*reason = "hitl_required_not_approved";
		return QUORUM_HOLD;
	}
	err = c->api->clock_commit(c->host, &a, step);
	if (err != 0)
		return refuse(c, &a,
			      err == -EIO      ? "worker_sync_state_not_saved"
			      : err == -EAGAIN ? "worker_sync_audit_failing"
					       : "worker_sync_quorum_rejected",
			      reason);
	c->committed++;
	c->have_last = 1;
	c->last_estimate_ns = a.estimate_ns;
	c->last_mono_ns = a.reference_mono_ns;
	/* Each agreement the served clock takes is an audit record (the vault keeps it). */
	c->api->audit(c->host, "bft.sync.commit",
		      "round=%" PRIu64 " earliest_ns=%" PRId64 " estimate_ns=%" PRId64
		      " latest_ns=%" PRId64 " n=%u f=%u accepted=%u outliers=%u ntp_used=%u"
		      " drift_ns=%" PRId64 " warp_score=%.3f",
		      a.round, a.earliest_ns, a.estimate_ns, a.latest_ns, a.n, a.f, a.accepted,
		      a.outliers, a.ntp_used, a.drift_ns, a.warp_score);
	if (c->modes.mode == QUORUM_MODE_COLD_START)
		mode_change(c, QUORUM_MODE_QUORUM_ACTIVE, "first_agreement_committed");
	return QUORUM_CONTINUE;
}

/* Whether VERDICT refused a round only because the operator's mode says commit nothing
 * (ISOLATED, HITL_HOLD, RECOVERY): the agreement itself did not fail. */
static int blocked_by_mode(const struct quorum_verdict *verdict)
{
	return strcmp(verdict->stage, "control") == 0 &&
	       (strcmp(verdict->reason, "mode_isolated_blocked") == 0 ||
		strcmp(verdict->reason, "hitl_hold_blocked") == 0 ||
		strcmp(verdict->reason, "recovery_write_blocked") == 0);
}

/* The final verdict of each of this node's rounds feeds the circuit breaker (held ones are
 * not counted, nor those the operator's mode blocks: eight rounds spent in RECOVERY waiting
 * for the operator's epoch are no failing agreements, and tripping would throw the node out
 * of RECOVERY). Events from outside (operator commands, leaders' shared states, anything a
 * client posts) do not: eight unsigned posts must not degrade a node. */
static void control_observe(void *state, const struct quorum_event *event,
			    const struct quorum_verdict *verdict)
{
	struct control *c = state;
	uint32_t from = c->modes.mode;
	enum breaker_change change;

	if (strcmp(event->state->event_id, QUORUM_EVENT_SYNC_ROUND) != 0 ||
	    strcmp(event->source, "timecore") != 0)
		return; /* neither clients' posts nor peers' gossiped rounds: the node's own */
	judge_sources(c);
	if (verdict->code == QUORUM_HOLD || blocked_by_mode(verdict))
		return;
	change = modes_observe(&c->modes, verdict->code == QUORUM_REJECT);
	if (change == BREAKER_SAME)
		return;
	c->api->audit(c->host,
		      change == BREAKER_TRIPPED ? "circuit_breaker_trip"
						: "circuit_breaker_closed",
		      "streak=%u last_reason=%s last_stage=%s",
		      change == BREAKER_TRIPPED ? c->modes.trip_after : c->modes.close_after,
		      verdict->reason[0] != '\0' ? verdict->reason : "-",
		      verdict->stage[0] != '\0' ? verdict->stage : "-");
	if (c->modes.mode != from)
		c->api->audit(c->host, "runtime.mode.transition", "from=%s to=%s reason=%s",
			      modes_name(from), modes_name(c->modes.mode),
			      change == BREAKER_TRIPPED ? "circuit_breaker_trip"
							: "circuit_breaker_closed");
}

static void control_fini(void *state)
{
	struct control *c = state;

	c->api->log(c->host, QUORUM_LOG_INFO,
		    "control.stopped committed=%" PRIu64 " refused=%" PRIu64 " mode=%s"
		    " transitions=%" PRIu64 " shared_states_applied=%" PRIu64
		    " shared_states_refused=%" PRIu64,
		    c->committed, c->refused, modes_name(c->modes.mode), c->modes.transitions,
		    c->shared.applied, c->shared.refused);
	control_free(c);
}

static const struct quorum_setting operator_settings[] = {
	{ .name = "id",
	  .type = QUORUM_SETTING_STRING,
	  .flags = QUORUM_SETTING_REQUIRED,
	  .help = "the operator's name, for the log" },
	{ .name = "public_key",
	  .type = QUORUM_SETTING_STRING,
	  .flags = QUORUM_SETTING_REQUIRED,
	  .help = "the operator's Ed25519 public key (PEM, from quorum-keygen)" },
	{ .type = QUORUM_SETTING_END },
};

/* The seed's guards: a 60 s step, a 3600 s ceiling, breaker streaks of 8. */
static const struct quorum_setting control_settings[] = {
	QUORUM_SETTING_INT_AT("max_drift_step_ns", struct control_settings, max_drift_step_ns,
			      0, 86400000000000LL, "60000000000",
			      "largest forward step per agreement (0: none)"),
	QUORUM_SETTING_INT_AT("max_total_drift_ns", struct control_settings, max_total_drift_ns,
			      0, 3153600000000000000LL, "3600000000000",
			      "refuse agreements this far from the system clock (0: off)"),
	QUORUM_SETTING_BOOL_AT("warp_scaling", struct control_settings, warp_scaling, "true",
			       "shrink both limits as fewer authorities agree"),
	QUORUM_SETTING_INT_AT("breaker_trip_after", struct control_settings, breaker_trip_after,
			      1, 1000000, "8",
			      "rejected events in a row that trip the circuit breaker "
			      "(DEGRADED)"),
	QUORUM_SETTING_INT_AT("breaker_close_after", struct control_settings,
			      breaker_close_after, 1, 1000000, "8",
			      "accepted events in a row that close it again"),
	QUORUM_SETTING_INT_AT("quarantine_after", struct control_settings, quarantine_after, 0,
			      1000000, "3",
			      "rounds in a row with an invalid answer that quarantine a source "
			      "(0: never)"),
	QUORUM_SETTING_INT_AT("quarantine_s", struct control_settings, quarantine_s, 1,
			      31536000, "300", "how long a quarantined source is not asked"),
	QUORUM_SETTING_STRING_AT("shared_state_file", struct control_settings,
				 shared_state_file, NULL, NULL,
				 "where the last shared state applied from each leader is kept "
				 "across restarts (none: leaders' shared states are refused)"),
	{ .name = "operators",
	  .type = QUORUM_SETTING_LIST,
	  .children = operator_settings,
	  .help = "operator keys whose signed control events are obeyed" },
	QUORUM_SETTING_INT_AT("command_max_age_s", struct control_settings, command_max_age_s,
			      1, 86400, "300",
			      "a control event's logical time must be this close to now"),
	QUORUM_SETTING_INT_AT("hitl_step_ns", struct control_settings, hitl_step_ns, 0,
			      86400000000000LL, "0",
			      "hold an agreement stepping the served clock further for a human "
			      "(0: off)"),
	QUORUM_SETTING_INT_AT("hitl_timeout_s", struct control_settings, hitl_timeout_s, 1,
			      86400, "300", "a hold, or an approval, ends after this long"),
	QUORUM_SETTING_INT_AT("recovery_epoch_max_age_s", struct control_settings,
			      recovery_epoch_max_age_s, 1, 86400, "300",
			      "how old a recovery epoch's checkpoint may be"),
	{ .type = QUORUM_SETTING_END },
};

static const struct quorum_stage_ops control_ops = {
	.size = sizeof(struct quorum_stage_ops),
	.process = control_process,
	.observe = control_observe,
};

QUORUM_PLUGIN_EXPORT const struct quorum_plugin quorum_plugin = {
	QUORUM_PLUGIN_HEADER(QUORUM_PLUGIN_STAGE, "control", PACKAGE_VERSION,
			     QUORUM_ROLE_CONTROL),
	.settings = control_settings,
	.settings_size = sizeof(struct control_settings),
	.init = control_init,
	.fini = control_fini,
	.ops = &control_ops,
};
