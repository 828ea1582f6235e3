/* failsafe.c -- no time served while the audit plane cannot write. */
#include "config.h"

#include <errno.h>
#include <string.h>

#include <event2/event.h>

#include "failsafe-internal.h"
#include "log-internal.h"
#include "timecore-internal.h"

#define FAILSAFE_PERIOD_US 100000

int failsafe_failing(const struct failsafe *fs, char *why, size_t size)
{
	/* Services found once (failsafe_start): a clock read, twice per NTP answer, must not
	 * walk the service list. */
	if (fs->vault != NULL && fs->vault->failing(fs->vault_state, why, size))
		return 1;
	return fs->merkle != NULL && fs->merkle->failing(fs->merkle_state, why, size);
}

int failsafe_check(struct failsafe *fs)
{
	char why[256] = "";
	int failing = failsafe_failing(fs, why, sizeof(why));

	if (failing && fs->clock != NULL && served_clock_suspend(fs->clock))
		log_msg(QUORUM_LOG_ERROR, "host",
			"clock.suspended reason=audit_not_writable error=\"%s\" "
			"effect=unsynchronised_until_the_audit_log_writes_again",
			why);
	if (failing != fs->failing && !failing)
		log_msg(QUORUM_LOG_NOTICE, "host",
			"audit.writable again=1 effect=time_served_after_the_next_agreement");
	fs->failing = failing;
	return failing;
}

static void failsafe_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	failsafe_check(arg);
}

int failsafe_start(struct failsafe *fs, struct event_base *base,
		   const struct quorum_vault_ops *vault, void *vault_state,
		   const struct quorum_merkle_ops *merkle, void *merkle_state,
		   struct served_clock *clock)
{
	struct timeval period = { 0, FAILSAFE_PERIOD_US };

	/* failing() was taken from the reserved slots: stages built before leave it NULL. */
	if (vault != NULL && vault->size >= sizeof(*vault) && vault->failing != NULL) {
		fs->vault = vault;
		fs->vault_state = vault_state;
	}
	if (merkle != NULL && merkle->size >= sizeof(*merkle) && merkle->failing != NULL) {
		fs->merkle = merkle;
		fs->merkle_state = merkle_state;
	}
	fs->clock = clock;
	fs->timer = event_new(base, -1, EV_PERSIST, failsafe_cb, fs);
	if (fs->timer == NULL || event_add(fs->timer, &period) != 0)
		return -ENOMEM;
	return 0;
}

void failsafe_stop(struct failsafe *fs)
{
	fs->vault = NULL; /* the stages stop next: their services go with them */
	fs->merkle = NULL;
	fs->clock = NULL;
	if (fs->timer != NULL)
		event_free(fs->timer);
	fs->timer = NULL;
}
