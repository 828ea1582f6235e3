/* chrony.c -- the chrony transport: makes the machine's own clock follow the quorum by
 * feeding chronyd's SOCK refclock (`refclock SOCK PATH`). At each agreement this node commits
 * it sends one sample, the served estimate's offset from the system clock at that instant;
 * while the node is unsynchronised it sends nothing, so chrony finds the refclock silent and
 * stops using it. chronyd disciplines the clock (and keeps serving NTP to the LAN); this
 * transport only tells it what the quorum agreed. It looks for new agreements on the loop
 * every CHRONY_WATCH_MS, as the WebSocket transport does, reading the served clock through
 * api->clock_read. Settings change by a fresh instance (no in-place reload). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <quorum/plugin.h>

#include "sample.h"
#include "clocks.h"

#define CHRONY_WATCH_MS 20 /* how often the served clock is looked at for a new agreement */

struct chrony_feed {
	struct quorum_host *host;
	const struct quorum_api *api;
	struct sockaddr_un to;
	socklen_t to_len;
	int fd;
	struct quorum_timer *watch;
	uint64_t last_round; /* the agreement a sample was last sent for (0: none yet) */
	int synchronised;    /* as of the last look: transitions are logged */
	int send_error;	     /* the errno of the last failing send, 0 while they succeed */
	uint64_t sent, failed, retried;
};

/* Sends SAMPLE; logs the first failure of a run of them and the recovery. 0 or -errno. */
static int feed_send(struct chrony_feed *c, const struct chrony_sock_sample *sample)
{
	ssize_t n = sendto(c->fd, sample, sizeof(*sample), MSG_DONTWAIT,
			   (const struct sockaddr *)&c->to, c->to_len);
	int err = n == (ssize_t)sizeof(*sample) ? 0 : n < 0 ? errno : EMSGSIZE;

	if (err != 0) {
		c->failed++;
		if (c->send_error ==
		    0) /* the first of a run of failures, whatever their errno */
			c->api->log(
				c->host, QUORUM_LOG_WARNING,
				"chrony.send_failed socket=%s error=\"%s\" "
				"effect=chrony_gets_no_sample hint=\"is chronyd running with "
				"refclock SOCK %s?\"",
				c->to.sun_path, strerror(err), c->to.sun_path);
		c->send_error = err;
		return -err;
	}
	if (c->send_error != 0)
		c->api->log(c->host, QUORUM_LOG_NOTICE,
			    "chrony.send_recovered socket=%s failed=%" PRIu64, c->to.sun_path,
			    c->failed);
	c->send_error = 0;
	c->sent++;
	return 0;
}

/* The watch: a sample for each agreement committed since the last look. */
static void feed_watch_cb(void *arg)
{
	struct chrony_feed *c = arg;
	struct quorum_clock_reading now;
	struct chrony_sock_sample sample;
	int64_t before, after;
	int err;

	before = realtime_now_ns();
	c->api->clock_read(c->host, &now);
	after = realtime_now_ns();
	if ((now.status == QUORUM_CLOCK_SYNCHRONISED) != c->synchronised) {
		c->synchronised = now.status == QUORUM_CLOCK_SYNCHRONISED;
		c->api->log(c->host, QUORUM_LOG_NOTICE, "chrony.%s socket=%s%s",
			    c->synchronised ? "feeding" : "silent", c->to.sun_path,
			    c->synchronised ? "" : " reason=unsynchronised effect=no_samples");
	}
	if (!c->synchronised || now.round == c->last_round)
		return;
	err = chrony_sample_build(&now, before, after, &sample);
	if (err == -ERANGE) {
		c->retried++; /* preempted between the readings: the next look reads again */
		return;
	}
	if (err != 0)
		return;
	c->last_round = now.round;
	if (feed_send(c, &sample) == 0)
		c->api->log(c->host, QUORUM_LOG_DEBUG,
			    "chrony.sample round=%" PRIu64 " offset_ns=%" PRId64
			    " bound_ns=%" PRId64,
			    now.round, (int64_t)(sample.offset * 1e9), now.error_bound_ns);
}

/* ---- settings and lifecycle ---- */

/* The transport's settings, filled by the host from chrony_settings (the default lives
 * only there). */
struct chrony_settings {
	const char *socket;
};

static int chrony_init(struct quorum_host *host, const struct quorum_api *api, void **state)
{
	const struct chrony_settings *cfg;
	const char *socket_path;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path) + 64];
	struct chrony_feed *c;

	if (!QUORUM_API_HAS(api, clock_read) || !QUORUM_API_HAS(api, settings))
		return -ENOTSUP;
	cfg = api->settings(host);
	if (cfg == NULL)
		return -EINVAL;
	socket_path = cfg->socket != NULL ? cfg->socket : "";
	if (socket_path[0] == '\0' ||
	    api->config_path(host, socket_path, path, sizeof(path)) != 0 ||
	    strlen(path) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
		api->log(host, QUORUM_LOG_ERROR,
			 "chrony.config_invalid setting=socket path=\"%s\" reason=\"empty, or "
			 "longer than a Unix socket address takes (%zu bytes)\"",
			 socket_path, sizeof(((struct sockaddr_un *)0)->sun_path) - 1);
		return -EINVAL;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return -ENOMEM;
	c->host = host;
	c->api = api;
	c->fd = -1;
	c->to.sun_family = AF_UNIX;
	memcpy(c->to.sun_path, path, strlen(path) + 1);
	c->to_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(path) + 1);
	*state = c;
	return 0;
}

static int chrony_start(void *state)
{
	struct chrony_feed *c = state;

	c->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		int err = errno;

		c->api->log(c->host, QUORUM_LOG_ERROR, "chrony.start_failed error=\"%s\"",
			    strerror(err));
		return -err;
	}
	c->watch = c->api->timer_start(c->host, CHRONY_WATCH_MS, CHRONY_WATCH_MS, feed_watch_cb,
				       c);
	if (c->watch == NULL)
		return -ENOMEM;
	c->api->log(c->host, QUORUM_LOG_NOTICE,
		    "chrony.started socket=%s watch_ms=%d effect=a_sample_per_agreement",
		    c->to.sun_path, CHRONY_WATCH_MS);
	return 0;
}

/* Nothing is ever in flight: stops looking for agreements. */
static int chrony_drain(void *state)
{
	struct chrony_feed *c = state;

	c->api->timer_stop(c->host, c->watch);
	c->watch = NULL;
	return 0;
}

static void chrony_fini(void *state)
{
	struct chrony_feed *c = state;

	if (c->watch != NULL)
		c->api->timer_stop(c->host, c->watch);
	c->api->log(c->host, QUORUM_LOG_INFO,
		    "chrony.stopped socket=%s sent=%" PRIu64 " failed=%" PRIu64
		    " reread=%" PRIu64,
		    c->to.sun_path, c->sent, c->failed, c->retried);
	if (c->fd >= 0)
		close(c->fd);
	free(c);
}

static const struct quorum_setting chrony_settings[] = {
	QUORUM_SETTING_STRING_AT(
		"socket", struct chrony_settings, socket, NULL, CHRONY_SOCKET_DEFAULT,
		"chronyd's SOCK refclock socket, as chrony.conf's `refclock SOCK "
		"PATH` names it (relative to quorum.conf's folder)"),
	{ .type = QUORUM_SETTING_END },
};

QUORUM_PLUGIN_EXPORT const struct quorum_plugin quorum_plugin = {
	QUORUM_PLUGIN_HEADER(QUORUM_PLUGIN_TRANSPORT, "chrony", PACKAGE_VERSION,
			     QUORUM_ROLE_NONE),
	.settings = chrony_settings,
	.settings_size = sizeof(struct chrony_settings),
	.init = chrony_init,
	.start = chrony_start,
	.drain = chrony_drain,
	.fini = chrony_fini,
};
