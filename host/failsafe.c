/* failsafe.c -- no time served while the audit plane cannot write. */
#include "config.h"

#include <errno.h>

#include <event2/event.h>
#include <string.h>

#include <quorum/audit.h>

#include "failsafe-internal.h"
#include "log-internal.h"
#include "runtime-internal.h"
#include "timecore-internal.h"

#define FAILSAFE_PERIOD_US 100000

/* SERVICE's failing(), when it has one (taken from its reserved slots: older stages lack it). */
static int service_failing(const struct runtime *rt, const char *name, char *why, size_t size)
{
	const void *ops;
	void *state;

	if (runtime_service_find(rt, name, &ops, &state) != 0)
		return 0;
	if (strcmp(name, QUORUM_VAULT_SERVICE) == 0) {
		const struct quorum_vault_ops *v = ops;

		return v->size >= sizeof(*v) && v->failing != NULL && v->failing(state, why, size);
	}
	{
		const struct quorum_merkle_ops *m = ops;

		return m->size >= sizeof(*m) && m->failing != NULL && m->failing(state, why, size);
	}
}

int failsafe_failing(const struct runtime *rt, char *why, size_t size)
{
	return service_failing(rt, QUORUM_VAULT_SERVICE, why, size) ||
	       service_failing(rt, QUORUM_MERKLE_SERVICE, why, size);
}

int failsafe_check(struct runtime *rt)
{
	char why[256] = "";
	int failing = failsafe_failing(rt, why, sizeof(why));

	if (failing && rt->timecore != NULL && served_clock_suspend(timecore_clock(rt->timecore)))
		log_msg(QUORUM_LOG_ERROR, "host",
			"clock.suspended reason=audit_not_writable error=\"%s\" "
			"effect=unsynchronised_until_the_audit_log_writes_again",
			why);
	if (failing != rt->failsafe_failing && !failing)
		log_msg(QUORUM_LOG_NOTICE, "host",
			"audit.writable again=1 effect=time_served_after_the_next_agreement");
	rt->failsafe_failing = failing;
	return failing;
}

static void failsafe_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	failsafe_check(arg);
}

int failsafe_start(struct runtime *rt)
{
	struct timeval period = { 0, FAILSAFE_PERIOD_US };

	rt->failsafe_timer = event_new(rt->base, -1, EV_PERSIST, failsafe_cb, rt);
	if (rt->failsafe_timer == NULL || event_add(rt->failsafe_timer, &period) != 0)
		return -ENOMEM;
	return 0;
}

void failsafe_stop(struct runtime *rt)
{
	if (rt->failsafe_timer != NULL)
		event_free(rt->failsafe_timer);
	rt->failsafe_timer = NULL;
}
