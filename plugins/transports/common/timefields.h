/* timefields.h -- what REST, WebSocket and gRPC say about the served time beside the time
 * itself, computed in one place so each field name has one meaning on every transport:
 * the RFC 3339 text, the system clock's drift_ppm, the accepted and rejected sources. */
#ifndef QUORUM_TIMEFIELDS_H
#define QUORUM_TIMEFIELDS_H

#include <stddef.h>
#include <stdint.h>

#include <quorum/api.h>
#include <quorum/time.h>

#include "hex.h" /* hex_encode */

/* "YYYY-MM-DDTHH:MM:SS.ffffffZ" and its NUL. */
#define TIMEFIELDS_ISO8601_LEN 28

/*
 * timefields_iso8601: NS (since 1970, UTC, >= 0) as RFC 3339 with six fraction digits
 * (microseconds, truncated: never later than NS) and "Z" into OUT. Six digits are what
 * Python's `%f` and datetime.fromisoformat before 3.11 read, and what the reference bridge
 * wrote; the nanoseconds travel in fields of their own (unix_nanos, estimate_ns).
 */
void timefields_iso8601(int64_t ns, char out[TIMEFIELDS_ISO8601_LEN]);

/* The samples drift_ppm is measured from (see timefields_drift_ppm). */
#define TIMEFIELDS_DRIFT_SAMPLES 64
#define TIMEFIELDS_DRIFT_SPACING 10000000000LL /* ns of agreed time between two samples */
/* A change of drift_ns by more than this, plus this rate over the time between, is a step
 * of the system clock, not a rate (the estimates themselves are good to well under it). */
#define TIMEFIELDS_DRIFT_STEP_NS  1000000
#define TIMEFIELDS_DRIFT_STEP_PPM 500

struct timefields_drift {
	struct {
		int64_t agreed_ns; /* the agreement's estimate */
		int64_t drift_ns;  /* that estimate - the system clock, at the agreement */
	} samples[TIMEFIELDS_DRIFT_SAMPLES];
	size_t first, count; /* a ring, oldest at FIRST */
};

/*
 * timefields_drift_observe: takes the agreement NOW extrapolates as a sample when it is at
 * least TIMEFIELDS_DRIFT_SPACING of agreed time after the newest one (the oldest is dropped
 * when the ring is full: a window of about 10 minutes). A change of drift_ns since the
 * newest sample by more than TIMEFIELDS_DRIFT_STEP_NS + TIMEFIELDS_DRIFT_STEP_PPM of the
 * time between is a step of the system clock (an operator's, or an NTP daemon's), not a
 * rate: the measurement starts over from NOW.
 * Unsynchronised readings are ignored.
 */
void timefields_drift_observe(struct timefields_drift *d,
			      const struct quorum_clock_reading *now);

/*
 * timefields_drift_ppm: the rate of this node's system clock (CLOCK_REALTIME) against agreed
 * time, in parts per million, + when it runs fast: minus the change of drift_ns from the
 * oldest sample to the agreement NOW extrapolates, over the agreed time between them. 0 while
 * those are less than TIMEFIELDS_DRIFT_SPACING apart (nothing measured yet). Observes NOW.
 */
double timefields_drift_ppm(struct timefields_drift *d, const struct quorum_clock_reading *now);

/*
 * timefields_sources: splits the configured sources' status (STATUS, COUNT entries, from
 * api->sources_status) into the ids the node's last round accepted (counted, inside its
 * agreement) and those it did not (refused, outlier, unsynchronised, silent, no agreement);
 * sources no round has reported yet are in neither. ACCEPTED and REJECTED have room for
 * COUNT entries each and receive borrowed pointers to the ids (valid for the process).
 */
void timefields_sources(const struct quorum_source_status *status, size_t count,
			const char **accepted, size_t *n_accepted, const char **rejected,
			size_t *n_rejected);

/* What one transport keeps to fill these fields: the drift samples and room for the
 * sources' status. */
struct timefields {
	struct timefields_drift drift;
	struct quorum_source_status *status; /* QUORUM_AUTHORITIES_MAX */
	const char **ids; /* 2 x QUORUM_AUTHORITIES_MAX: accepted, rejected */
	/* from the last timefields_update: */
	double drift_ppm;
	const char **accepted, **rejected; /* into IDS */
	size_t n_accepted, n_rejected;
};

/* timefields_init: allocates T's room. RETURN VALUE: 0 or -ENOMEM (T released). */
int timefields_init(struct timefields *t);

/* timefields_release: frees T's room; a zeroed T is fine. */
void timefields_release(struct timefields *t);

/*
 * timefields_update: T's drift_ppm for the synchronised reading NOW; with SOURCES, also the
 * accepted and rejected ids from the host (api->sources_status; none on an older host).
 */
void timefields_update(struct timefields *t, struct quorum_host *host,
		       const struct quorum_api *api, const struct quorum_clock_reading *now,
		       int sources);

#endif /* QUORUM_TIMEFIELDS_H */
