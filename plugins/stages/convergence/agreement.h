/* agreement.h -- the convergence stage's fault-tolerant agreement, as pure functions:
 * observations become intervals that contain true time if their source is honest;
 * Marzullo's sweep keeps the points covered by at least n - f of them; Welch and Lynch's
 * fault-tolerant midpoint is the estimate. No I/O, no host: unit-tested directly. */
#ifndef QUORUM_AGREEMENT_H
#define QUORUM_AGREEMENT_H

#include <stddef.h>
#include <stdint.h>

#include <quorum/time.h>

/* An interval at the round's reference instant, ns since 1970. */
struct interval {
	int64_t lo, hi;
	int64_t mid; /* the best point estimate inside [lo, hi]: by default (lo + hi) / 2 */
};

/*
 * agreement_interval: where true time lies at the reference instant if the source of A was
 * honest. The source read its clock (midpoint, within radius) after the question left and
 * `processing` before its answer left, so at the answer's arrival true time lies in
 *   [midpoint - radius + processing, midpoint + radius + rtt]
 * and AGE later both ends moved by age; every duration is widened by DRIFT_PPM for the rate
 * error of the clock that measured it. The point estimate `mid` assumes the network took as
 * long each way; SENDING_HINT_NS (unsigned: the source's time between its signed processing
 * figure and sending, 0 when unknown) moves it, but only within [lo, hi]: a false hint can
 * cost accuracy inside the bound, never the bound.
 * RETURN VALUE: 0, or -EINVAL when the numbers contradict each other (processing longer
 * than the round trip) or overflow.
 */
int agreement_interval(const struct quorum_attestation *a, int64_t rtt_ns, int64_t age_ns,
		       int64_t sending_hint_ns, uint32_t drift_ppm, struct interval *out);

struct agreement_params {
	uint32_t n;		     /* configured authenticated authorities */
	uint32_t f;		     /* floor((n - 1) / 3) */
	uint32_t min_quorum;	     /* at least this many counted intervals (0: n - f) */
	int64_t max_cluster_skew_ns; /* spread of the agreeing midpoints, the f most extreme
				      * on each side left out (0: unchecked) */
};

struct agreement_result {
	const char *reason; /* NULL on agreement; else the seed's bft.sync.reject reason */
	uint32_t threshold; /* n - f */
	uint32_t inside;    /* intervals that overlap the agreement */
	uint32_t outliers;  /* counted intervals that do not */
	int64_t lo, estimate, hi;
	/* Refused for its skew: the agreeing midpoints kept after the trim spread over
	 * [skew_lo, skew_hi], wider than allowed; an interval whose midpoint lies outside
	 * its central max_cluster_skew_ns is one that made it fail. */
	int64_t skew_lo, skew_hi;
};

/*
 * agreement_compute: the agreement of K intervals from distinct, authenticated,
 * synchronised sources. Refused ("insufficient_quorum") with fewer than max(n - f,
 * min_quorum) intervals; refused ("empty_cluster_after_trim") when no point is covered by
 * n - f of them; refused ("cluster_skew_exceeded") when the midpoints of those that agree,
 * the f lowest and the f highest left out, spread wider than max_cluster_skew_ns (so that
 * one faulty source overlapping the agreement, imprecise rather than lying, cannot stop
 * it). Otherwise [lo, hi] is the hull of the points
 * covered by at least n - f intervals: with at most f faulty sources (silent ones included)
 * true time is covered by at least n - f honest intervals, so it lies inside. The estimate
 * is the fault-tolerant midpoint of the intervals' point estimates (f dropped on each side),
 * kept within [lo, hi]. SCRATCH holds 2*K int64 pairs (see AGREEMENT_SCRATCH).
 * RETURN VALUE: 0 with OUT->reason NULL, or -EAGAIN with OUT->reason set.
 */
int agreement_compute(const struct interval *intervals, size_t k,
		      const struct agreement_params *params, void *scratch,
		      struct agreement_result *out);

/* Bytes of scratch agreement_compute needs for K intervals. */
#define AGREEMENT_SCRATCH(k) ((k)*2 * 2 * sizeof(int64_t) + 16)

/*
 * agreement_narrow: narrows OUT with M unauthenticated intervals (plain NTP sources, a
 * second quorum with its own fault budget) of which at most MAX_FAULTY (at least 1) of the
 * CONFIGURED may be wrong or silent: then at least CONFIGURED - MAX_FAULTY honest
 * intervals contain true time, so the hull of the points covered by that many contains it
 * too, and is intersected with [lo, hi] when the two overlap. Nothing is narrowed with
 * fewer than 2 * MAX_FAULTY + 1 configured sources (the honest ones must outnumber the
 * faulty ones in every count that narrows) or fewer answers than the threshold. NTP
 * sources can never widen or move the agreement outside what the authorities decided.
 * RETURN VALUE: how many NTP intervals overlapped the narrowed result (0: none used).
 */
uint32_t agreement_narrow(const struct interval *ntp, size_t m, uint32_t configured,
			  uint32_t max_faulty, void *scratch, struct agreement_result *out);

/* agreement_ntp_max_faulty: the NTP fault budget by default for CONFIGURED sources:
 * floor((CONFIGURED - 1) / 3), and at least 1. */
uint32_t agreement_ntp_max_faulty(uint32_t configured);

/*
 * agreement_best_cluster: where the most of K intervals overlap: *LO, *HI bound the
 * first stretch covered by the most of them, *COVERAGE how many. For a round that found
 * no agreement, an interval that misses [*LO, *HI] is one that kept the others from it.
 * RETURN VALUE: 0, or -ENOENT when K is 0.
 */
int agreement_best_cluster(const struct interval *intervals, size_t k, void *scratch,
			   int64_t *lo, int64_t *hi, uint32_t *coverage);

#endif /* QUORUM_AGREEMENT_H */
