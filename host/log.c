/* log.c -- quorumd's logger: one line per event, key=value fields, stderr or syslog.
 * Lines are built in one buffer and written with one call, so threads never interleave. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log-internal.h"

#define LOG_LINE_MAX 2048

static enum log_destination log_destination = LOG_TO_STDERR;
static int log_level = QUORUM_LOG_INFO;

static const char *const log_level_names[] = {
	[QUORUM_LOG_ERROR] = "error",	[QUORUM_LOG_WARNING] = "warning",
	[QUORUM_LOG_NOTICE] = "notice", [QUORUM_LOG_INFO] = "info",
	[QUORUM_LOG_DEBUG] = "debug",
};

int log_level_parse(const char *name)
{
	for (int i = QUORUM_LOG_ERROR; i <= QUORUM_LOG_DEBUG; i++) {
		if (strcmp(name, log_level_names[i]) == 0)
			return i;
	}
	return -EINVAL;
}

void log_configure(enum log_destination destination, int max_level)
{
	if (destination == LOG_TO_SYSLOG && log_destination != LOG_TO_SYSLOG)
		openlog("quorumd", LOG_PID | LOG_NDELAY, LOG_DAEMON);
	else if (destination != LOG_TO_SYSLOG && log_destination == LOG_TO_SYSLOG)
		closelog();
	log_destination = destination;
	log_level = max_level;
}

int log_max_level(void)
{
	return log_level;
}

/* Replaces bytes that would break the one-line, key=value format. */
static void log_sanitize(char *text)
{
	for (unsigned char *p = (unsigned char *)text; *p != '\0'; p++) {
		if (*p < 0x20 || *p == 0x7f)
			*p = '?';
	}
}

void log_vmsg(int level, const char *component, const char *fmt, va_list ap)
{
	char line[LOG_LINE_MAX];
	size_t used = 0;
	int n;

	if (level > log_level)
		return;
	if (level < QUORUM_LOG_ERROR)
		level = QUORUM_LOG_ERROR;
	if (level > QUORUM_LOG_DEBUG)
		level = QUORUM_LOG_DEBUG;

	if (log_destination == LOG_TO_STDERR) {
		struct timespec now;
		struct tm tm;

		clock_gettime(CLOCK_REALTIME, &now);
		gmtime_r(&now.tv_sec, &tm);
		n = snprintf(line, sizeof(line), "ts=%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ ",
			     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
			     tm.tm_min, tm.tm_sec, now.tv_nsec / 1000);
		if (n > 0)
			used = (size_t)n;
	}
	n = snprintf(line + used, sizeof(line) - used,
		     "level=%s component=%s event=", log_level_names[level], component);
	if (n > 0)
		used += (size_t)n;
	if (used < sizeof(line))
		vsnprintf(line + used, sizeof(line) - used, fmt, ap);
	log_sanitize(line);

	if (log_destination == LOG_TO_SYSLOG) {
		syslog(level, "%s", line);
		return;
	}
	/* One fprintf per line: stdio's lock keeps lines from different threads whole. */
	fprintf(stderr, "%s\n", line);
}

void log_msg(int level, const char *component, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(level, component, fmt, ap);
	va_end(ap);
}
