/* control.c -- the control stage: disposes of convergence's proposals. A local round's
 * agreement is committed to the served clock within the seed's guards (step limit
 * max_drift_step, ceiling max_total_drift, both scaled by the warp score), or refused with
 * the seed's reason; nothing else ever changes the served clock. It keeps the node's runtime
 * mode (the seed's table, modes.c): COLD_START until the first commit, then QUORUM_ACTIVE;
 * its circuit breaker sees every event's final verdict and a streak of rejections moves the
 * node to DEGRADED until a run of accepted events closes it; ISOLATED and HITL_HOLD commit
 * nothing. Every transition is logged and audited (runtime.mode.transition). The mode and
 * the breaker are published as QUORUM_CONTROL_SERVICE for the transports. A source whose
 * answers were refused as invalid (bad signature, wrong key, replayed, stale, equivocating)
 * in quarantine_after of this node's rounds in a row is quarantined for quarantine_s: the
 * host stops asking it (audited as pipeline.quarantine, reason quarantine_logged). A leader's
 * shared state (uml001.rest.time.shared_state, sharedstate.c) is verified and recorded per
 * leader, never applied to the served clock. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <quorum/control.h>
#include <quorum/plugin.h>

#include "modes.h"
#include "sharedstate.h"

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
	uint32_t *strikes;                    /* per configured source, in order */
	uint64_t last_round_judged;
	/* leaders' shared states (sharedstate.c) */
	struct sharedstate shared;
};

/* Why an answer was refused, as a strike toward quarantine: lies, not lateness. */
static int is_strike(const char *problem)
{
	static const char *const strikes[] = { "signature_invalid", "key_id_mismatch",
					       "equivocation",	    "stale_sequence",
					       "nonce_mismatch",    "duplicate_in_round",
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

	if (moved > 0)
		c->api->audit(c->host, "runtime.mode.transition", "from=%s to=%s reason=%s",
			      modes_name(from), modes_name(to), reason);
	else if (moved < 0)
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
		leader_id == NULL ? NULL
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

static const struct quorum_control_ops control_service = {
	.size = sizeof(struct quorum_control_ops),
	.mode = svc_mode,
	.mode_name = svc_mode_name,
	.breaker_tripped = svc_breaker_tripped,
	.rejection_streak = svc_rejection_streak,
	.transitions = svc_transitions,
	.shared_state = svc_shared_state,
	.shared_state_last = svc_shared_state_last,
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

/* Opens the leaders' shared-state file (shared_state_file; none: every shared state is
 * refused, as a replay could not be refused after a restart). 0 or -errno, logged. */
static int shared_state_open(struct control *c)
{
	const char *name = NULL;
	char path[4096], why[512] = "";
	int err;

	if (c->api->config_string(c->host, "shared_state_file", &name) == 0 &&
	    c->api->config_path(c->host, name, path, sizeof(path)) != 0)
		return -ENAMETOOLONG;
	err = sharedstate_open(&c->shared, name != NULL ? path : NULL, why, sizeof(why));
	if (err != 0)
		c->api->log(c->host, QUORUM_LOG_ERROR, "control.shared_state.unreadable error=\"%s\"",
			    why[0] != '\0' ? why : strerror(-err));
	else if (name == NULL)
		c->api->log(c->host, QUORUM_LOG_NOTICE,
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

static int control_init(struct quorum_host *host, const struct quorum_api *api, void **state)
{
	struct control *c;
	int64_t trip_after = 8, close_after = 8; /* the seed's streak of 8 */
	int err;

	if (!QUORUM_API_HAS(api, clock_commit) || !QUORUM_API_HAS(api, authority_verify))
		return -ENOTSUP;
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return -ENOMEM;
	c->host = host;
	c->api = api;
	c->max_drift_step_ns = 60000000000LL;    /* the seed's 60 s */
	c->max_total_drift_ns = 3600000000000LL; /* the seed's 3600 s */
	c->warp_scaling = 1;
	api->config_int(host, "max_drift_step_ns", &c->max_drift_step_ns);
	api->config_int(host, "max_total_drift_ns", &c->max_total_drift_ns);
	api->config_bool(host, "warp_scaling", &c->warp_scaling);
	api->config_int(host, "breaker_trip_after", &trip_after);
	api->config_int(host, "breaker_close_after", &close_after);
	modes_init(&c->modes, (uint32_t)trip_after, (uint32_t)close_after);
	c->quarantine_after = 3;
	c->quarantine_s = 300;
	api->config_int(host, "quarantine_after", &c->quarantine_after);
	api->config_int(host, "quarantine_s", &c->quarantine_s);
	c->sources = calloc(QUORUM_AUTHORITIES_MAX, sizeof(*c->sources));
	c->strikes = calloc(QUORUM_AUTHORITIES_MAX, sizeof(*c->strikes));
	if (c->sources == NULL || c->strikes == NULL) {
		control_free(c);
		return -ENOMEM;
	}
	err = shared_state_open(c);
	if (err != 0) {
		control_free(c);
		return err;
	}
	if (QUORUM_API_HAS(api, service_publish) &&
	    (err = api->service_publish(host, QUORUM_CONTROL_SERVICE, &control_service, c)) != 0) {
		control_free(c);
		return err;
	}
	api->log(host, QUORUM_LOG_NOTICE,
		 "control.started mode=%s breaker_trip_after=%" PRId64 " breaker_close_after=%" PRId64
		 " quarantine_after=%" PRId64 " quarantine_s=%" PRId64 " shared_state_leaders=%zu",
		 modes_name(c->modes.mode), trip_after, close_after, c->quarantine_after,
		 c->quarantine_s, c->shared.count);
	*state = c;
	return 0;
}

static int refuse(struct control *c, const struct quorum_agreement *a, const char *reason,
		  const char **out)
{
	c->refused++;
	c->api->audit(c->host, "bft.sync.reject",
		      "reason=%s round=%" PRIu64 " drift_ns=%" PRId64 " warp_score=%.3f", reason,
		      a != NULL ? a->round : 0, a != NULL ? a->drift_ns : 0,
		      a != NULL ? a->warp_score : 0.0);
	*out = reason;
	return QUORUM_REJECT;
}

static int control_process(void *state, const struct quorum_event *event, const char **reason)
{
	struct control *c = state;
	struct quorum_agreement a;
	int64_t step, ceiling, drift;
	int err;

	/* A leader's shared state: verified and recorded, never committed to the clock. */
	if (strcmp(event->state->event_id, QUORUM_EVENT_SHARED_STATE) == 0)
		return sharedstate_process(&c->shared, c->host, c->api, event,
					   c->max_total_drift_ns, reason);
	if (strcmp(event->state->event_id, QUORUM_EVENT_SYNC_ROUND) != 0)
		return QUORUM_CONTINUE;
	if (c->api->proposal(c->host, event, &a) != 0)
		return refuse(c, NULL, "worker_sync_not_converged", reason);
	if (!a.local)
		return QUORUM_CONTINUE; /* another node's round: its reference is not our clock */
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
	err = c->api->clock_commit(c->host, &a, step);
	if (err != 0)
		return refuse(c, &a, err == -EIO ? "worker_sync_state_not_saved"
						 : "worker_sync_quorum_rejected",
			      reason);
	c->committed++;
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

/* Every event's final verdict feeds the circuit breaker (held ones are not counted). */
static void control_observe(void *state, const struct quorum_event *event,
			    const struct quorum_verdict *verdict)
{
	struct control *c = state;
	uint32_t from = c->modes.mode;
	enum breaker_change change;

	if (strcmp(event->state->event_id, QUORUM_EVENT_SYNC_ROUND) == 0)
		judge_sources(c);
	if (verdict->code == QUORUM_HOLD)
		return;
	change = modes_observe(&c->modes, verdict->code == QUORUM_REJECT);
	if (change == BREAKER_SAME)
		return;
	c->api->audit(c->host, change == BREAKER_TRIPPED ? "circuit_breaker_trip"
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

static const struct quorum_setting control_settings[] = {
	{ .name = "max_drift_step_ns", .type = QUORUM_SETTING_INT, .min = 0,
	  .max = 86400000000000LL, .help = "largest forward step per agreement (0: none)" },
	{ .name = "max_total_drift_ns", .type = QUORUM_SETTING_INT, .min = 0,
	  .max = 3153600000000000000LL,
	  .help = "refuse agreements this far from the system clock (0: off)" },
	{ .name = "warp_scaling", .type = QUORUM_SETTING_BOOL,
	  .help = "shrink both limits as fewer authorities agree" },
	{ .name = "breaker_trip_after", .type = QUORUM_SETTING_INT, .min = 1, .max = 1000000,
	  .help = "rejected events in a row that trip the circuit breaker (DEGRADED; default 8)" },
	{ .name = "breaker_close_after", .type = QUORUM_SETTING_INT, .min = 1, .max = 1000000,
	  .help = "accepted events in a row that close it again (default 8)" },
	{ .name = "quarantine_after", .type = QUORUM_SETTING_INT, .min = 0, .max = 1000000,
	  .help = "rounds in a row with an invalid answer that quarantine a source (default 3; "
		  "0: never)" },
	{ .name = "quarantine_s", .type = QUORUM_SETTING_INT, .min = 1, .max = 31536000,
	  .help = "how long a quarantined source is not asked (default 300)" },
	{ .name = "shared_state_file", .type = QUORUM_SETTING_STRING,
	  .help = "where the last shared state applied from each leader is kept across "
		  "restarts (none: leaders' shared states are refused)" },
	{ .type = QUORUM_SETTING_END },
};

static const struct quorum_stage_ops control_ops = {
	.size = sizeof(struct quorum_stage_ops),
	.process = control_process,
	.observe = control_observe,
};

QUORUM_PLUGIN_EXPORT const struct quorum_plugin quorum_plugin = {
	QUORUM_PLUGIN_HEADER(QUORUM_PLUGIN_STAGE, "control", PACKAGE_VERSION, QUORUM_ROLE_CONTROL),
	.settings = control_settings,
	.init = control_init,
	.fini = control_fini,
	.ops = &control_ops,
};
