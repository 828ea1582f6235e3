/* min-sources.c -- an example vendor stage plugin for quorumd, built out of tree with nothing
 * but the installed SDK headers and pkg-config file (see README.md here).
 *
 * Role: convergence. A vendor stage runs right after the built-in stage of its role, so this
 * one sees each local round's agreement once the built-in convergence stage has proposed it,
 * and before the control stage commits it. It refuses an agreement that fewer than
 * `min_accepted` authenticated authorities support (the built-in rule already needs n - f of
 * the n configured; a vendor may want an absolute floor as well), with the reason
 * "vendor_min_sources_not_met", which the host writes to the audit log like every refusal.
 *
 * Settings (its own group in quorum.conf, checked strictly by the host):
 *   min_accepted = 3;   # authenticated sources an agreement needs (default 1)
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <quorum/plugin.h>

struct min_sources {
	struct quorum_host *host;
	const struct quorum_api *api;
	int64_t min_accepted;
	uint64_t passed, refused;
};

static int min_sources_init(struct quorum_host *host, const struct quorum_api *api,
			    void **state)
{
	struct min_sources *m;

	/* The host's table grows by appending; check what this plugin calls is there. */
	if (!QUORUM_API_HAS(api, proposal))
		return -ENOTSUP;
	m = calloc(1, sizeof(*m));
	if (m == NULL)
		return -ENOMEM;
	m->host = host;
	m->api = api;
	m->min_accepted = 1;
	api->config_int(host, "min_accepted", &m->min_accepted);
	api->log(host, QUORUM_LOG_NOTICE, "min_sources.started min_accepted=%" PRId64,
		 m->min_accepted);
	*state = m;
	return 0;
}

static int min_sources_process(void *state, const struct quorum_event *event,
			       const char **reason)
{
	struct min_sources *m = state;
	struct quorum_agreement a;

	if (strcmp(event->state->event_id, QUORUM_EVENT_SYNC_ROUND) != 0 ||
	    m->api->proposal(m->host, event, &a) != 0 || !a.local)
		return QUORUM_CONTINUE; /* not a local agreement: nothing to judge */
	if ((int64_t)a.accepted < m->min_accepted) {
		m->refused++;
		*reason = "vendor_min_sources_not_met";
		return QUORUM_REJECT;
	}
	m->passed++;
	return QUORUM_CONTINUE;
}

static void min_sources_fini(void *state)
{
	struct min_sources *m = state;

	m->api->log(m->host, QUORUM_LOG_INFO,
		    "min_sources.stopped passed=%" PRIu64 " refused=%" PRIu64, m->passed,
		    m->refused);
	free(m);
}

static const struct quorum_setting min_sources_settings[] = {
	{ .name = "min_accepted",
	  .type = QUORUM_SETTING_INT,
	  .min = 1,
	  .max = 250,
	  .help = "authenticated sources an agreement needs (default 1)" },
	{ .type = QUORUM_SETTING_END },
};

static const struct quorum_stage_ops min_sources_ops = {
	.size = sizeof(struct quorum_stage_ops),
	.process = min_sources_process,
};

QUORUM_PLUGIN_EXPORT const struct quorum_plugin quorum_plugin = {
	QUORUM_PLUGIN_HEADER(QUORUM_PLUGIN_STAGE, "min-sources", "1.0",
			     QUORUM_ROLE_CONVERGENCE),
	.settings = min_sources_settings,
	.init = min_sources_init,
	.fini = min_sources_fini,
	.ops = &min_sources_ops,
};
