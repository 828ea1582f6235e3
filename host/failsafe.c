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

int failsafe_failing(const struct runtime *rt, char *why, size_t size)
{
	/* Services found once (failsafe_start): a clock read, twice per NTP answer, must not
	 * walk the service list. */
	if (rt->failsafe_vault != NULL &&
	    rt->failsafe_vault->failing(rt->failsafe_vault_state, why, size))
		return 1;
	return rt->failsafe_merkle != NULL &&
	       rt->failsafe_merkle->failing(rt->failsafe_merkle_state, why, size);
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
	const void *ops;
	void *state;

	/* failing() was taken from the reserved slots: stages built before leave it NULL. */
	if (runtime_service_find(rt, QUORUM_VAULT_SERVICE, &ops, &state) == 0 &&
	    ((const struct quorum_vault_ops *)ops)->size >= sizeof(struct quorum_vault_ops) &&
	    ((const struct quorum_vault_ops *)ops)->failing != NULL) {
		rt->failsafe_vault = ops;
		rt->failsafe_vault_state = state;
	}
	if (runtime_service_find(rt, QUORUM_MERKLE_SERVICE, &ops, &state) == 0 &&
	    ((const struct quorum_merkle_ops *)ops)->size >= sizeof(struct quorum_merkle_ops) &&
	    ((const struct quorum_merkle_ops *)ops)->failing != NULL) {
		rt->failsafe_merkle = ops;
		rt->failsafe_merkle_state = state;
	}

	rt->failsafe_timer = event_new(rt->base, -1, EV_PERSIST, failsafe_cb, rt);
	if (rt->failsafe_timer == NULL || event_add(rt->failsafe_timer, &period) != 0)
		return -ENOMEM;
	return 0;
}

void failsafe_stop(struct runtime *rt)
{
	rt->failsafe_vault = NULL; /* the stages stop next: their services go with them */
	rt->failsafe_merkle = NULL;
	if (rt->failsafe_timer != NULL)
		event_free(rt->failsafe_timer);
	rt->failsafe_timer = NULL;
}
