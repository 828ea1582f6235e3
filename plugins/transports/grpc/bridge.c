/* bridge.c -- aegisbridge.BridgeTimeService's messages from the served clock: the time in
 * the reference bridge's shape (seconds, remainder, RFC 3339, uncertainty in ms), and in
 * GetTimeAttested the sources the last agreement accepted and those it did not, the quorum
 * hash and the system clock's measured drift. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "bridge.h"

#define DRIFT_BASELINE_NS 10000000000LL /* 10 s between the two agreements compared */

static void iso8601(int64_t ns, char out[40])
{
	time_t secs = (time_t)(ns / 1000000000);
	struct tm tm;
	char day[24];

	gmtime_r(&secs, &tm);
	strftime(day, sizeof(day), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, 40, "%s.%09dZ", day, (int)(ns % 1000000000));
}

void bridge_time(const struct quorum_clock_reading *now, Aegisbridge__TimeResponse *r,
		 char iso[40])
{
	iso8601(now->estimate_ns, iso);
	r->unix_seconds = now->estimate_ns / 1000000000;
	r->unix_nanos = now->estimate_ns % 1000000000;
	r->iso8601 = iso;
	r->uncertainty_ms = (double)now->error_bound_ns / 1e6;
	r->earliest_ns = now->earliest_ns;
	r->latest_ns = now->latest_ns;
}

double bridge_drift_ppm(struct bridge_drift *d, const struct quorum_clock_reading *now)
{
	/* drift_ns = agreed - system at each agreement: when the system clock runs fast it
	 * gains on agreed time, and drift_ns falls. */
	int64_t agreed = now->estimate_ns - now->agreement_age_ns;

	if (!d->have_first) {
		d->have_first = 1;
		d->first_estimate_ns = agreed;
		d->first_drift_ns = now->drift_ns;
		d->first_round = now->round;
		return 0.0;
	}
	if (now->round == d->first_round || agreed - d->first_estimate_ns < DRIFT_BASELINE_NS)
		return 0.0;
	return -(double)(now->drift_ns - d->first_drift_ns) /
	       (double)(agreed - d->first_estimate_ns) * 1e6;
}

void bridge_attested(const struct quorum_clock_reading *now,
		     const struct quorum_source_status *sources, size_t count,
		     struct bridge_drift *d, Aegisbridge__AttestedTimeResponse *r, char iso[40],
		     char **accepted, char **rejected, char hash[65])
{
	static const char hex[] = "0123456789abcdef";

	iso8601(now->estimate_ns, iso);
	r->unix_seconds = now->estimate_ns / 1000000000;
	r->unix_nanos = now->estimate_ns % 1000000000;
	r->iso8601 = iso;
	r->uncertainty_ms = (double)now->error_bound_ns / 1e6;
	r->drift_ppm = bridge_drift_ppm(d, now);
	r->n_accepted_sources = 0;
	r->n_rejected_sources = 0;
	for (size_t i = 0; i < count; i++) {
		if (sources[i].state == QUORUM_SOURCE_ACCEPTED)
			accepted[r->n_accepted_sources++] = (char *)sources[i].id;
		else if (sources[i].state != QUORUM_SOURCE_UNKNOWN)
			rejected[r->n_rejected_sources++] = (char *)sources[i].id;
	}
	r->accepted_sources = accepted;
	r->rejected_sources = rejected;
	for (size_t i = 0; i < QUORUM_DIGEST_LEN; i++) {
		hash[2 * i] = hex[now->quorum_hash[i] >> 4];
		hash[2 * i + 1] = hex[now->quorum_hash[i] & 15];
	}
	hash[2 * QUORUM_DIGEST_LEN] = '\0';
	r->quorum_hash = hash;
	r->earliest_ns = now->earliest_ns;
	r->latest_ns = now->latest_ns;
	r->round = now->round;
}
