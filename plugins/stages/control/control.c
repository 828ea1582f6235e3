/* control.c -- the control stage: disposes of convergence's proposals. A local round's
 * agreement is committed to the served clock within the seed's guards (step limit
 * max_drift_step, ceiling max_total_drift, both scaled by the warp score), or refused with
 * the seed's reason; nothing else ever changes the served clock. It keeps the node's runtime
 * mode (the seed's table, modes.c): COLD_START until the first commit, then QUORUM_ACTIVE;
 * its circuit breaker sees every event's final verdict and a streak of rejections moves the
 * node to DEGRADED until a run of accepted events closes it; ISOLATED and HITL_HOLD commit
 * nothing. Every transition is logged and audited (runtime.mode.transition). The mode and
 * the breaker are published as QUORUM_CONTROL_SERVICE for the transports. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <quorum/control.h>
#include <quorum/plugin.h>

#include "modes.h"

struct control {
	struct quorum_host *host;
	const struct quorum_api *api;
	int64_t max_drift_step_ns;
	int64_t max_total_drift_ns;
	int warp_scaling;
	uint64_t committed, refused;
	struct modes modes;
};

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

static const struct quorum_control_ops control_service = {
	.size = sizeof(struct quorum_control_ops),
	.mode = svc_mode,
	.mode_name = svc_mode_name,
	.breaker_tripped = svc_breaker_tripped,
	.rejection_streak = svc_rejection_streak,
	.transitions = svc_transitions,
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

static int control_init(struct quorum_host *host, const struct quorum_api *api, void **state)
{
	struct control *c;
	int64_t trip_after = 8, close_after = 8; /* the seed's streak of 8 */
	int err;

	if (!QUORUM_API_HAS(api, clock_commit))
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
	if (QUORUM_API_HAS(api, service_publish) &&
	    (err = api->service_publish(host, QUORUM_CONTROL_SERVICE, &control_service, c)) != 0) {
		free(c);
		return err;
	}
	api->log(host, QUORUM_LOG_NOTICE,
		 "control.started mode=%s breaker_trip_after=%" PRId64 " breaker_close_after=%" PRId64,
		 modes_name(c->modes.mode), trip_after, close_after);
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

	(void)event;
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
		    " transitions=%" PRIu64,
		    c->committed, c->refused, modes_name(c->modes.mode), c->modes.transitions);
	free(c);
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
