/* main.c -- quorumd's command line: read quorum.conf, check it or run the daemon in the
 * foreground (systemd style) until SIGTERM/SIGINT; SIGHUP reloads the transports. */
#include "config.h"

#include <errno.h>
#include <malloc.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf-internal.h"
#include "log-internal.h"
#include "notify-internal.h"
#include "pidfile-internal.h"
#include "plugin-floor-internal.h"
#include "privileges-internal.h"
#include "runtime-internal.h"
#include "util-internal.h"

#ifndef QUORUM_SYSCONFDIR
#define QUORUM_SYSCONFDIR "/etc"
#endif
#ifndef QUORUM_PLUGINDIR
#define QUORUM_PLUGINDIR "/usr/lib/quorum-time"
#endif

#define DEFAULT_CONFIG QUORUM_SYSCONFDIR "/quorum/quorum.conf"

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: quorumd [OPTION]...\n"
		"Quorum Time daemon: Byzantine-fault-tolerant trusted time, served by "
		"plugins.\n"
		"\n"
		"  -c, --config FILE    configuration file (default %s)\n"
		"  -t, --check-config   verify the configuration and every plugin, then exit\n"
		"  -p, --pidfile FILE   write the pid to FILE (overrides the pidfile setting)\n"
		"      --set-plugin-floor NAME=VERSION\n"
		"                       set the lowest version of plugin NAME this node loads\n"
		"                       (lower it to allow an older build), then exit\n"
		"  -h, --help           show this help\n"
		"  -V, --version        show the version and plugin ABI\n"
		"\n"
		"quorumd stays in the foreground and logs to stderr unless log.destination is\n"
		"\"syslog\". SIGTERM or SIGINT stop it (exit 0); SIGHUP reloads the "
		"transports.\n",
		DEFAULT_CONFIG);
}

#define MMAP_THRESHOLD_BYTES (32 * 1024)

/* --set-plugin-floor NAME=VERSION: the operator lowers (or raises) a version floor. */
static int set_plugin_floor(const struct conf *conf, const char *spec)
{
	char name[PLUGIN_NAME_MAX + 1], previous[PLUGIN_VERSION_MAX + 1], why[ERRBUF_SIZE];
	const char *eq = strchr(spec, '=');
	struct plugin_floors floors;
	uid_t uid;
	gid_t gid;
	int err;

	if (eq == NULL || (size_t)(eq - spec) > PLUGIN_NAME_MAX) {
		fprintf(stderr, "quorumd: --set-plugin-floor wants NAME=VERSION\n");
		return 2;
	}
	snprintf(name, sizeof(name), "%.*s", (int)(eq - spec), spec);
	if (conf->state_dir == NULL) {
		log_msg(QUORUM_LOG_ERROR, "host",
			"plugin.floor.failed name=%s error=\"%s: node.state_dir is not set: "
			"the floors live in memory and a restart forgets them\"",
			name, conf->path);
		return 1;
	}
	uid = geteuid();
	gid = getegid();
	err = conf->user != NULL ? privileges_lookup(conf->user, &uid, &gid, why, sizeof(why))
				 : 0;
	if (err == 0)
		err = plugin_floors_open(&floors, conf->state_dir, 1, uid, gid, why,
					 sizeof(why));
	if (err == 0) {
		err = plugin_floor_set(&floors, name, eq + 1, previous, why, sizeof(why));
		plugin_floors_release(&floors);
	}
	if (err != 0) {
		log_msg(QUORUM_LOG_ERROR, "host", "plugin.floor.failed name=%s error=\"%s\"",
			name, why);
		return 1;
	}
	log_msg(QUORUM_LOG_NOTICE, "host", "plugin.floor.set name=%s version=%s previous=%s",
		name, eq + 1, previous[0] != '\0' ? previous : "none");
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check-config", no_argument, NULL, 't' },
		{ "pidfile", required_argument, NULL, 'p' },
		{ "set-plugin-floor", required_argument, NULL, 'F' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config_path = DEFAULT_CONFIG, *pidfile = NULL, *set_floor = NULL;
	char why[ERRBUF_SIZE];
	struct runtime rt;
	struct conf *conf;
	int check_only = 0, opt, err, status, pid_fd = -1;

	/* A fixed threshold: every block of 128 KiB or more is its own mapping, given back
	 * when freed (glibc would otherwise raise the threshold past the plugin files read at
	 * start, and serve the big, mostly untouched tables of the stages from the heap, where
	 * calloc must clear them: resident for nothing). */
	mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES);
	while ((opt = getopt_long(argc, argv, "c:tp:hV", options, NULL)) != -1) {
		switch (opt) {
		case 'c':
			config_path = optarg;
			break;
		case 't':
			check_only = 1;
			break;
		case 'p':
			pidfile = optarg;
			break;
		case 'F':
			set_floor = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("quorumd %s (plugin ABI %d.%d)\n", PACKAGE_VERSION,
			       QUORUM_ABI_MAJOR, QUORUM_ABI_MINOR);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "quorumd: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}

	err = conf_load(config_path, QUORUM_PLUGINDIR, &conf, why, sizeof(why));
	if (err == 0) {
		/* StrictModes on the configuration and the keys it names, before using them. */
		uid_t service_uid;

		err = conf_check_trust(conf, &service_uid, why, sizeof(why));
		if (err != 0)
			conf_unref(conf);
	}
	if (err != 0) {
		log_msg(QUORUM_LOG_ERROR, "config", "config.invalid error=\"%s\"", why);
		return 1;
	}
	if (set_floor != NULL) {
		status = set_plugin_floor(conf, set_floor);
		conf_unref(conf);
		return status;
	}
	if (check_only) {
		err = runtime_check_config(conf, NULL, why, sizeof(why));
		if (err != 0)
			log_msg(QUORUM_LOG_ERROR, "config", "config.invalid error=\"%s\"", why);
		else
			log_msg(QUORUM_LOG_NOTICE, "config",
				"config.ok file=%s stages=%zu transports=%zu", conf->path,
				conf->stage_count, conf->transport_count);
		conf_unref(conf);
		return err != 0 ? 1 : 0;
	}

	if (pidfile == NULL)
		pidfile = conf->pidfile;
	if (pidfile != NULL) {
		pid_fd = pidfile_create(pidfile, why, sizeof(why));
		if (pid_fd < 0) {
			log_msg(QUORUM_LOG_ERROR, "host", "start.failed error=\"%s\"", why);
			conf_unref(conf);
			return 1;
		}
	}
	err = runtime_init(&rt, conf, NULL, why, sizeof(why));
	malloc_trim(0); /* what bring-up freed (the plugin files read to be verified) */
	if (err == 0 && conf->user != NULL) {
		/* Listeners are bound and keys read: the rest runs unprivileged. */
		err = privileges_drop(conf->user, why, sizeof(why));
		if (err == 0)
			log_msg(QUORUM_LOG_NOTICE, "host",
				"privileges.dropped user=%s uid=%u gid=%u "
				"kept=CAP_NET_BIND_SERVICE",
				conf->user, (unsigned)getuid(), (unsigned)getgid());
	}
	if (err != 0) {
		log_msg(QUORUM_LOG_ERROR, "host", "start.failed error=\"%s\"", why);
		status = 1;
	} else {
		/* Ready once every plugin started and every listener is bound; until its first
		 * agreement the node answers "unsynchronised", which is a correct answer. */
		notify_systemd("READY=1\nSTATUS=started; serving (unsynchronised until the "
			       "first agreement)");
		status = runtime_run(&rt);
	}
	runtime_release(&rt);
	pidfile_remove(pidfile, pid_fd);
	conf_unref(conf);
	return status;
}
