/* quorumctl-chrony.c -- `quorumctl chrony-conf`: prints the chrony.conf line through which
 * chronyd reads what the chrony transport sends, with the delay derived from the bound the
 * node serves and the poll from how often it commits (the transport's own sample.c). */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libconfig.h>

#include "conf-internal.h"
#include "quorum/clock.h"
#include "quorumctl-chrony.h"
#include "sample.h"

static void chrony_usage(FILE *out)
{
	fprintf(out,
		"Usage: quorumctl chrony-conf [--config QUORUM.CONF] [--socket PATH]\n"
		"                             [--interval-ms MS] [--bound NS | --clock PATH]\n"
		"\n"
		"Prints the chrony.conf line that makes chronyd read the chrony transport's\n"
		"samples: refclock SOCK PATH refid QTIM poll P precision X delay Y, where\n"
		"  delay     is twice the bound the node serves (chrony counts half the delay "
		"in\n"
		"            its maximum error), rounded up to a microsecond;\n"
		"  poll      spans %d agreements at rounds.interval_ms (chrony's filter needs "
		"4\n"
		"            samples a poll);\n"
		"  precision is how well a sample's instant is known (%d ns).\n"
		"The socket, interval and clock page come from QUORUM.CONF (the transport "
		"named\n"
		"\"chrony\", rounds.interval_ms, clock.shm) unless given; the bound is read "
		"from\n"
		"the clock page now (synchronised only) unless --bound gives it.\n",
		CHRONY_SAMPLES_PER_POLL, CHRONY_READ_GAP_MAX_NS / 2);
}

/* A decimal in [0, INT64_MAX] from TEXT into *OUT. 0 or -1. */
static int parse_count(const char *text, int64_t *out)
{
	char *end;

	if (text[0] < '0' || text[0] > '9')
		return -1;
	errno = 0;
	*out = strtoll(text, &end, 10);
	return errno != 0 || *end != '\0' ? -1 : 0;
}

/* What quorum.conf says: the chrony transport's socket (resolved; the default when the
 * transport has none), rounds.interval_ms and clock.shm. 0, or 2 (said why). */
static int from_config(const char *path, char *socket_path, size_t socket_size,
		       int64_t *interval_ms, char *clock, size_t clock_size)
{
	const struct conf_plugin *t;
	const char *name = CHRONY_SOCKET_DEFAULT;
	struct conf *conf;
	char why[512];

	if (conf_load(path, QUORUM_PLUGINDIR, &conf, why, sizeof(why)) != 0) {
		fprintf(stderr, "quorumctl: %s\n", why);
		return 2;
	}
	t = conf_find_transport(conf, "chrony");
	if (t == NULL) {
		fprintf(stderr,
			"quorumctl: %s enables no transport named \"chrony\": nothing would "
			"feed "
			"chronyd (see quorum.conf(5), CHRONY TRANSPORT)\n",
			conf->path);
		conf_unref(conf);
		return 2;
	}
	if (t->settings != NULL) {
		const config_setting_t *s = config_setting_get_member(t->settings, "socket");

		if (s != NULL && config_setting_type(s) != CONFIG_TYPE_STRING) {
			fprintf(stderr,
				"quorumctl: %s:%d: the chrony transport's socket is no "
				"string\n",
				t->file, config_setting_source_line(s));
			conf_unref(conf);
			return 2;
		}
		if (s != NULL)
			name = config_setting_get_string(s);
	}
	if (socket_path[0] == '\0' &&
	    conf_resolve(conf->dir, name, socket_path, socket_size) != 0)
		socket_path[0] = '\0';
	if (*interval_ms == 0)
		*interval_ms = conf->round_interval_ms;
	if (clock[0] == '\0' && conf->clock_shm != NULL)
		snprintf(clock, clock_size, "%s", conf->clock_shm);
	conf_unref(conf);
	return 0;
}

/* The bound the clock page at PATH (NULL: the default) serves now into *BOUND_NS.
 * 0, 1 (unsynchronised) or 2 (cannot read it), said why. */
static int bound_now(const char *path, int64_t *bound_ns)
{
	struct quorum_clock *clock;
	struct quorum_now now;
	char why[512];
	int err;

	err = quorum_clock_open_why(path, &clock, why, sizeof(why));
	if (err != 0) {
		fprintf(stderr,
			"quorumctl: cannot read the bound from the clock page: %s (or give "
			"--bound NS)\n",
			why);
		return 2;
	}
	err = quorum_clock_now(clock, &now);
	quorum_clock_close(clock);
	if (err != 0 || now.status != QUORUM_NOW_SYNCHRONISED) {
		fprintf(stderr,
			"quorumctl: the node is unsynchronised: it serves no bound to derive "
			"the delay from (wait for an agreement, or give --bound NS)\n");
		return 1;
	}
	*bound_ns = now.latest_ns - now.estimate_ns > now.estimate_ns - now.earliest_ns
			    ? now.latest_ns - now.estimate_ns
			    : now.estimate_ns - now.earliest_ns;
	return 0;
}

int cmd_chrony_conf(int argc, char **argv)
{
	static const struct option options[] = {
		{ "config", required_argument, NULL, 'f' },
		{ "socket", required_argument, NULL, 's' },
		{ "interval-ms", required_argument, NULL, 'i' },
		{ "bound", required_argument, NULL, 'b' },
		{ "clock", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char socket_path[PATH_MAX] = "", clock[PATH_MAX] = "", line[PATH_MAX + 128];
	const char *config = NULL;
	int64_t interval_ms = 0, bound_ns = -1;
	struct chrony_refclock_params p;
	int opt, rc;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		if (opt == 'f') {
			config = optarg;
		} else if (opt == 's') {
			snprintf(socket_path, sizeof(socket_path), "%s", optarg);
		} else if (opt == 'i') {
			if (parse_count(optarg, &interval_ms) != 0 || interval_ms == 0) {
				fprintf(stderr, "quorumctl: --interval-ms takes a positive "
						"number of milliseconds\n");
				return 2;
			}
		} else if (opt == 'b') {
			if (parse_count(optarg, &bound_ns) != 0) {
				fprintf(stderr,
					"quorumctl: --bound takes nanoseconds (>= 0)\n");
				return 2;
			}
		} else if (opt == 'c') {
			snprintf(clock, sizeof(clock), "%s", optarg);
		} else if (opt == 'h') {
			chrony_usage(stdout);
			return 0;
		} else {
			chrony_usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		chrony_usage(stderr);
		return 2;
	}
	if (config != NULL) {
		rc = from_config(config, socket_path, sizeof(socket_path), &interval_ms, clock,
				 sizeof(clock));
		if (rc != 0)
			return rc;
	}
	if (socket_path[0] == '\0')
		snprintf(socket_path, sizeof(socket_path), "%s", CHRONY_SOCKET_DEFAULT);
	if (interval_ms == 0)
		interval_ms = 1000; /* rounds.interval_ms's default */
	if (bound_ns < 0) {
		rc = bound_now(clock[0] != '\0' ? clock : NULL, &bound_ns);
		if (rc != 0)
			return rc;
	}
	if (chrony_refclock_params(bound_ns, interval_ms, &p) != 0 ||
	    chrony_refclock_line(socket_path, bound_ns, interval_ms, line, sizeof(line)) < 0) {
		fprintf(stderr,
			"quorumctl: no chrony.conf line for socket \"%s\", bound %" PRId64
			" ns, interval %" PRId64 " ms: chrony needs an absolute path without "
			"spaces, and the interval at most an hour, the bound at most a day\n",
			socket_path, bound_ns, interval_ms);
		return 2;
	}
	printf("# chronyd reads quorumd's agreed time (quorum.conf: the \"chrony\" "
	       "transport).\n"
	       "# delay %.3f us = 2 x the bound %.3f us; poll 2^%d s spans %d agreements of "
	       "%" PRId64 " ms.\n%s",
	       (double)p.delay_ns / 1e3, (double)bound_ns / 1e3, p.poll,
	       CHRONY_SAMPLES_PER_POLL, interval_ms, line);
	return 0;
}
