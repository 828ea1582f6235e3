/* log-internal.h -- quorumd's logger: one line per event, key=value fields,
 * written to stderr (default, systemd style) or syslog. */
#ifndef QUORUM_LOG_INTERNAL_H
#define QUORUM_LOG_INTERNAL_H

#include <stdarg.h>

#include <quorum/api.h> /* QUORUM_LOG_* levels */

enum log_destination {
	LOG_TO_STDERR = 0,
	LOG_TO_SYSLOG = 1,
};

/*
 * log_level_parse: the level named NAME ("error", "warning", "notice", "info", "debug").
 * RETURN VALUE: a QUORUM_LOG_* level, or -EINVAL.
 */
int log_level_parse(const char *name);

/* log_configure: where lines go and the most verbose level written. Not thread-safe:
 * call from the loop thread while no other thread logs. */
void log_configure(enum log_destination destination, int max_level);

/* log_max_level: the most verbose level currently written. */
int log_max_level(void);

/*
 * log_msg: writes one line "ts=... level=... component=COMPONENT event=<fmt>".
 * FMT should produce "event.name key=value ..."; free text goes in a quoted value.
 * Control characters are replaced, so one call is always exactly one line. Thread-safe.
 */
void log_msg(int level, const char *component, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void log_vmsg(int level, const char *component, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

#endif /* QUORUM_LOG_INTERNAL_H */
