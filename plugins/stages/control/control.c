/* control.c -- the control stage, first form: disposes of convergence's proposals. A local
 * round's agreement is committed to the served clock within the seed's guards (step limit
 * max_drift_step, ceiling max_total_drift, both scaled by the warp score), or refused with
 * the seed's reason; nothing else ever changes the served clock. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <quorum/plugin.h>

struct control {
	struct quorum_host *host;
	const struct quorum_api *api;
	int64_t max_drift_step_ns;
	int64_t max_total_drift_ns;
	int warp_scaling;
	uint64_t committed, refused;
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
	return QUORUM_CONTINUE;
}

static void control_fini(void *state)
{
	struct control *c = state;

	c->api->log(c->host, QUORUM_LOG_INFO,
		    "control.stopped committed=%" PRIu64 " refused=%" PRIu64, c->committed,
		    c->refused);
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
	{ .type = QUORUM_SETTING_END },
};

static const struct quorum_stage_ops control_ops = {
	.size = sizeof(struct quorum_stage_ops),
	.process = control_process,
};

QUORUM_PLUGIN_EXPORT const struct quorum_plugin quorum_plugin = {
	QUORUM_PLUGIN_HEADER(QUORUM_PLUGIN_STAGE, "control", PACKAGE_VERSION, QUORUM_ROLE_CONTROL),
	.settings = control_settings,
	.init = control_init,
	.fini = control_fini,
	.ops = &control_ops,
};
