/* sample.c -- chrony's SOCK refclock sample from a served-clock reading, and the chrony.conf
 * line that reads it (see sample.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "sample.h"

#define NS_PER_S  ((int64_t)1000000000)
#define NS_PER_US ((int64_t)1000)

int chrony_sample_build(const struct quorum_clock_reading *reading, int64_t realtime_before_ns,
			int64_t realtime_after_ns, struct chrony_sock_sample *out)
{
	int64_t gap, mid, sec, rem;

	if (reading->status != QUORUM_CLOCK_SYNCHRONISED)
		return -EAGAIN;
	if (realtime_after_ns < realtime_before_ns)
		return -ERANGE;
	gap = realtime_after_ns - realtime_before_ns;
	if (gap > CHRONY_READ_GAP_MAX_NS)
		return -ERANGE;
	mid = realtime_before_ns + gap / 2;
	/* floor division: a timeval's microseconds are never negative */
	sec = mid / NS_PER_S;
	rem = mid % NS_PER_S;
	if (rem < 0) {
		sec--;
		rem += NS_PER_S;
	}
	memset(out, 0, sizeof(*out));
	out->tv.tv_sec = (time_t)sec;
	out->tv.tv_usec = (suseconds_t)(rem / NS_PER_US);
	/* The estimate belongs to MID, not to tv (MID less its sub-microsecond part): the
	 * offset is the same at both instants, as both clocks advance together. */
	out->offset = (double)(reading->estimate_ns - mid) / 1e9;
	out->pulse = 0;
	out->leap = 0;
	out->magic = CHRONY_SOCK_MAGIC;
	return 0;
}

int chrony_refclock_params(int64_t bound_ns, int64_t interval_ms,
			   struct chrony_refclock_params *out)
{
	int64_t span_ms, delay_us;
	int poll = 0;

	/* an hour between commits, or a bound of a day, is no clock chrony should follow */
	if (interval_ms <= 0 || interval_ms > 3600000 || bound_ns < 0 ||
	    bound_ns > 86400 * NS_PER_S)
		return -EINVAL;
	span_ms = interval_ms * CHRONY_SAMPLES_PER_POLL;
	while (poll < 10 && ((int64_t)1000 << poll) < span_ms)
		poll++;
	delay_us = (2 * bound_ns + NS_PER_US - 1) / NS_PER_US;
	out->poll = poll;
	out->delay_ns = (delay_us > 0 ? delay_us : 1) * NS_PER_US;
	out->precision_ns = CHRONY_READ_GAP_MAX_NS / 2;
	return 0;
}

/* NS as seconds in decimal, without trailing zeros ("0.0002", "1.5", "3"). */
static void seconds_text(int64_t ns, char *out, size_t cap)
{
	size_t len;

	snprintf(out, cap, "%" PRId64 ".%09" PRId64, ns / NS_PER_S, ns % NS_PER_S);
	len = strlen(out);
	while (len > 0 && out[len - 1] == '0')
		out[--len] = '\0';
	if (len > 0 && out[len - 1] == '.')
		out[--len] = '\0';
}

int chrony_refclock_line(const char *socket_path, int64_t bound_ns, int64_t interval_ms,
			 char *out, size_t cap)
{
	struct chrony_refclock_params p;
	char delay[32], precision[32];
	int n;

	if (socket_path == NULL || socket_path[0] != '/' ||
	    strpbrk(socket_path, " \t\r\n\v\f") != NULL ||
	    chrony_refclock_params(bound_ns, interval_ms, &p) != 0)
		return -EINVAL;
	seconds_text(p.delay_ns, delay, sizeof(delay));
	seconds_text(p.precision_ns, precision, sizeof(precision));
	n = snprintf(out, cap, "refclock SOCK %s refid QTIM poll %d precision %s delay %s\n",
		     socket_path, p.poll, precision, delay);
	if (n < 0 || (size_t)n >= cap)
		return -ENOSPC;
	return n;
}
