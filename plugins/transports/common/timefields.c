/* timefields.c -- the fields every time answer carries beside the time (see timefields.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "timefields.h"

void timefields_iso8601(int64_t ns, char out[TIMEFIELDS_ISO8601_LEN])
{
	time_t secs = (time_t)(ns / 1000000000);
	int micros = (int)(ns % 1000000000 / 1000);
	struct tm tm;
	char text[64]; /* room for any int the compiler imagines; years stay 4 digits */

	gmtime_r(&secs, &tm);
	snprintf(text, sizeof(text), "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, micros);
	memcpy(out, text, TIMEFIELDS_ISO8601_LEN - 1);
	out[TIMEFIELDS_ISO8601_LEN - 1] = '\0';
}

/* The estimate of the agreement NOW extrapolates (the served clock runs on from it). */
static int64_t agreed_of(const struct quorum_clock_reading *now)
{
	return now->estimate_ns - now->agreement_age_ns;
}

static int64_t abs64(int64_t v)
{
	return v < 0 ? -v : v;
}

void timefields_drift_observe(struct timefields_drift *d,
			      const struct quorum_clock_reading *now)
{
	int64_t agreed = agreed_of(now), span, change;
	size_t last, slot;

	if (now->status != QUORUM_CLOCK_SYNCHRONISED)
		return;
	if (d->count > 0) {
		last = (d->first + d->count - 1) % TIMEFIELDS_DRIFT_SAMPLES;
		span = agreed - d->samples[last].agreed_ns;
		change = abs64(now->drift_ns - d->samples[last].drift_ns);

		if (span < 0 || change > TIMEFIELDS_DRIFT_STEP_NS +
						 span / 1000000 * TIMEFIELDS_DRIFT_STEP_PPM) {
			d->count = 0; /* a step (or a new time line): start over */
		} else if (span < TIMEFIELDS_DRIFT_SPACING) {
			return;
		}
	}
	if (d->count == TIMEFIELDS_DRIFT_SAMPLES) {
		d->first = (d->first + 1) % TIMEFIELDS_DRIFT_SAMPLES;
		d->count--;
	}
	if (d->count == 0)
		d->first = 0;
	slot = (d->first + d->count) % TIMEFIELDS_DRIFT_SAMPLES;
	d->samples[slot].agreed_ns = agreed;
	d->samples[slot].drift_ns = now->drift_ns;
	d->count++;
}

double timefields_drift_ppm(struct timefields_drift *d, const struct quorum_clock_reading *now)
{
	int64_t span;

	timefields_drift_observe(d, now);
	if (now->status != QUORUM_CLOCK_SYNCHRONISED || d->count == 0)
		return 0.0;
	span = agreed_of(now) - d->samples[d->first].agreed_ns;
	if (span < TIMEFIELDS_DRIFT_SPACING)
		return 0.0;
	/* drift_ns = agreed - system: a system clock that runs fast gains, and drift_ns falls
	 */
	return -(double)(now->drift_ns - d->samples[d->first].drift_ns) / (double)span * 1e6;
}

void timefields_sources(const struct quorum_source_status *status, size_t count,
			const char **accepted, size_t *n_accepted, const char **rejected,
			size_t *n_rejected)
{
	*n_accepted = 0;
	*n_rejected = 0;
	for (size_t i = 0; i < count; i++) {
		if (status[i].state == QUORUM_SOURCE_ACCEPTED)
			accepted[(*n_accepted)++] = status[i].id;
		else if (status[i].state != QUORUM_SOURCE_UNKNOWN)
			rejected[(*n_rejected)++] = status[i].id;
	}
}

int timefields_init(struct timefields *t)
{
	*t = (struct timefields){ 0 };
	t->status = calloc(QUORUM_AUTHORITIES_MAX, sizeof(*t->status));
	t->ids = calloc(2 * QUORUM_AUTHORITIES_MAX, sizeof(*t->ids));
	if (t->status == NULL || t->ids == NULL) {
		timefields_release(t);
		return -ENOMEM;
	}
	t->accepted = t->ids;
	t->rejected = t->ids + QUORUM_AUTHORITIES_MAX;
	return 0;
}

void timefields_release(struct timefields *t)
{
	free(t->status);
	free(t->ids);
	t->status = NULL;
	t->ids = NULL;
}

void timefields_update(struct timefields *t, struct quorum_host *host,
		       const struct quorum_api *api, const struct quorum_clock_reading *now,
		       int sources)
{
	size_t count = 0;

	t->drift_ppm = timefields_drift_ppm(&t->drift, now);
	if (!sources)
		return;
	if (QUORUM_API_HAS(api, sources_status))
		api->sources_status(host, t->status, QUORUM_AUTHORITIES_MAX, &count);
	if (count > QUORUM_AUTHORITIES_MAX)
		count = QUORUM_AUTHORITIES_MAX;
	timefields_sources(t->status, count, t->accepted, &t->n_accepted, t->rejected,
			   &t->n_rejected);
}
