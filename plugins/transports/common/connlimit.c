/* connlimit.c -- connection caps, timeouts and once-a-second refusal logs of the TCP
 * transports (see connlimit.h). */
#include <sys/resource.h>
#include <time.h>

#include "connlimit.h"

size_t connlimit_default_max(size_t default_max)
{
	struct rlimit rl;
	rlim_t quarter;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
		return default_max;
	quarter = rl.rlim_cur / 4;
	if (quarter < CONNLIMIT_MIN_DEFAULT)
		quarter = CONNLIMIT_MIN_DEFAULT;
	return quarter < default_max ? (size_t)quarter : default_max;
}

void connlimit_read(struct quorum_host *host, const struct quorum_api *api,
		    const struct connlimit_settings *cfg, size_t default_max,
		    struct connlimit *out)
{
	int64_t max = 0;

	out->header_timeout_ms = cfg->header_timeout_ms;
	out->idle_timeout_s = cfg->idle_timeout_s;
	/* read, not bound: its default is computed (connlimit_default_max) */
	api->config_int(host, "max_connections", &max);
	out->max_connections = max > 0 ? (size_t)max : connlimit_default_max(default_max);
	out->header_timeout.tv_sec = (time_t)(out->header_timeout_ms / 1000);
	out->header_timeout.tv_usec = (suseconds_t)(out->header_timeout_ms % 1000 * 1000);
	out->idle_timeout.tv_sec = (time_t)out->idle_timeout_s;
	out->idle_timeout.tv_usec = 0;
}

uint64_t connlimit_log_hit(struct connlimit_log *log)
{
	struct timespec ts;
	uint64_t n;

	log->total++;
	log->unlogged++;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	if (log->last_sec != 0 && (int64_t)ts.tv_sec == log->last_sec)
		return 0;
	log->last_sec = (int64_t)ts.tv_sec;
	n = log->unlogged;
	log->unlogged = 0;
	return n;
}
