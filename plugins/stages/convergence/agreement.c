/* agreement.c -- fault-tolerant agreement over time intervals: Marzullo's sweep with a
 * coverage threshold of n - f, the Welch-Lynch fault-tolerant midpoint, NTP narrowing. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "agreement.h"

/* ceil(x * ppm / 1e6) for x >= 0 without overflow. */
static int64_t ppm_of(int64_t x, uint32_t ppm)
{
	return x / 1000000 * (int64_t)ppm + (x % 1000000 * (int64_t)ppm + 999999) / 1000000;
}

int agreement_interval(const struct quorum_attestation *a, int64_t rtt_ns, int64_t age_ns,
		       int64_t sending_hint_ns, uint32_t drift_ppm, struct interval *out)
{
	int64_t radius = (int64_t)a->radius_ns, processing = (int64_t)a->processing_ns;
	int64_t lo, hi, point, network;

	if (rtt_ns < 0 || age_ns < 0 || processing < 0 || radius < 0 ||
	    a->radius_ns > INT64_MAX / 4 || processing > rtt_ns + ppm_of(rtt_ns, drift_ppm))
		return -EINVAL;
	/* The source's own clock measured `processing`: it could run fast by drift_ppm. */
	lo = a->midpoint_ns - radius + (processing - ppm_of(processing, drift_ppm));
	hi = a->midpoint_ns + radius + rtt_ns + ppm_of(rtt_ns, drift_ppm);
	lo += age_ns - ppm_of(age_ns, drift_ppm);
	hi += age_ns + ppm_of(age_ns, drift_ppm);
	if (lo > hi)
		return -EINVAL;
	out->lo = lo;
	out->hi = hi;
	/* The estimate: the source's reading, plus all it said it spent, plus half of what is
	 * left of the round trip (the two network legs, taken as equal). */
	network = rtt_ns - processing;
	if (sending_hint_ns > 0 && sending_hint_ns <= network)
		network -= sending_hint_ns;
	else
		sending_hint_ns = 0;
	point = a->midpoint_ns + processing + sending_hint_ns + network / 2 + age_ns;
	out->mid = point < lo ? lo : point > hi ? hi : point;
	return 0;
}

/* Sweep events: position, then +1 (an interval opens) or -1 (one closes). */
struct edge {
	int64_t at;
	int64_t delta;
};

static int edge_compare(const void *x, const void *y)
{
	const struct edge *a = x, *b = y;

	if (a->at != b->at)
		return a->at < b->at ? -1 : 1;
	/* Closed intervals: at one point, opening ones count before closing ones. */
	return a->delta > b->delta ? -1 : a->delta < b->delta;
}

/* The hull of the points covered by at least THRESHOLD intervals; 0 when there is one. */
static int coverage_hull(const struct interval *iv, size_t k, uint32_t threshold,
			 struct edge *edges, int64_t *lo, int64_t *hi)
{
	int64_t count = 0;
	int found = 0;

	if (threshold == 0)
		threshold = 1;
	for (size_t i = 0; i < k; i++) {
		edges[2 * i] = (struct edge){ iv[i].lo, +1 };
		edges[2 * i + 1] = (struct edge){ iv[i].hi, -1 };
	}
	qsort(edges, 2 * k, sizeof(*edges), edge_compare);
	for (size_t i = 0; i < 2 * k; i++) {
		int64_t before = count;

		count += edges[i].delta;
		if (edges[i].delta > 0 && count >= (int64_t)threshold &&
		    before < (int64_t)threshold) {
			if (!found)
				*lo = edges[i].at;
			found = 1;
		}
		if (edges[i].delta < 0 && before >= (int64_t)threshold &&
		    count < (int64_t)threshold)
			*hi = edges[i].at;
	}
	return found ? 0 : -ENOENT;
}

static int int64_compare(const void *x, const void *y)
{
	int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;

	return a < b ? -1 : a > b;
}

int agreement_compute(const struct interval *iv, size_t k, const struct agreement_params *p,
		      void *scratch, struct agreement_result *out)
{
	uint32_t needed = p->n - p->f;
	int64_t *mids = scratch, lo_mid, hi_mid;
	struct edge *edges = scratch;
	size_t f = p->f, trim;

	memset(out, 0, sizeof(*out));
	out->threshold = p->n - p->f;
	if (p->min_quorum > needed)
		needed = p->min_quorum;
	if (p->n == 0 || k < needed || k > p->n) {
		out->reason = "insufficient_quorum";
		return -EAGAIN;
	}
	if (coverage_hull(iv, k, out->threshold, edges, &out->lo, &out->hi) != 0) {
		out->reason = "empty_cluster_after_trim";
		return -EAGAIN;
	}
	/* The agreeing midpoints, sorted; the skew is judged without the f most extreme on
	 * each side: one faulty source may overlap the agreement and still sit far off. */
	for (size_t i = 0; i < k; i++) {
		if (iv[i].hi < out->lo || iv[i].lo > out->hi) {
			out->outliers++;
			continue;
		}
		mids[out->inside++] = iv[i].mid;
	}
	qsort(mids, out->inside, sizeof(*mids), int64_compare);
	trim = out->inside > 2 * f ? f : (out->inside - 1) / 2;
	lo_mid = mids[trim];
	hi_mid = mids[out->inside - 1 - trim];
	if (p->max_cluster_skew_ns > 0 && hi_mid - lo_mid > p->max_cluster_skew_ns) {
		out->reason = "cluster_skew_exceeded";
		out->skew_lo = lo_mid;
		out->skew_hi = hi_mid;
		return -EAGAIN;
	}
	/* Welch-Lynch: drop the f lowest and f highest midpoints, halve the range left. */
	for (size_t i = 0; i < k; i++)
		mids[i] = iv[i].mid;
	qsort(mids, k, sizeof(*mids), int64_compare);
	if (k <= 2 * f)
		f = (k - 1) / 2;
	out->estimate = mids[f] + (mids[k - 1 - f] - mids[f]) / 2;
	if (out->estimate < out->lo)
		out->estimate = out->lo;
	if (out->estimate > out->hi)
		out->estimate = out->hi;
	return 0;
}

uint32_t agreement_ntp_max_faulty(uint32_t configured)
{
	return configured > 4 ? (configured - 1) / 3 : 1;
}

uint32_t agreement_narrow(const struct interval *ntp, size_t m, uint32_t configured,
			  uint32_t max_faulty, void *scratch, struct agreement_result *out)
{
	uint32_t threshold, used = 0;
	int64_t lo, hi;

	if (max_faulty == 0 || configured < 2 * max_faulty + 1)
		return 0; /* no fault model holds: NTP sources decide nothing */
	threshold = configured - max_faulty;
	if (m < threshold || coverage_hull(ntp, m, threshold, scratch, &lo, &hi) != 0)
		return 0;
	if (lo > out->hi || hi < out->lo)
		return 0; /* they disagree with the authorities: the authorities decide */
	if (lo > out->lo)
		out->lo = lo;
	if (hi < out->hi)
		out->hi = hi;
	if (out->estimate < out->lo)
		out->estimate = out->lo;
	if (out->estimate > out->hi)
		out->estimate = out->hi;
	for (size_t i = 0; i < m; i++)
		used += !(ntp[i].hi < out->lo || ntp[i].lo > out->hi);
	return used;
}

int agreement_best_cluster(const struct interval *iv, size_t k, void *scratch, int64_t *lo,
			   int64_t *hi, uint32_t *coverage)
{
	struct edge *edges = scratch;
	int64_t count = 0, best = 0;

	if (k == 0)
		return -ENOENT;
	for (size_t i = 0; i < k; i++) {
		edges[2 * i] = (struct edge){ iv[i].lo, +1 };
		edges[2 * i + 1] = (struct edge){ iv[i].hi, -1 };
	}
	qsort(edges, 2 * k, sizeof(*edges), edge_compare);
	for (size_t i = 0; i < 2 * k; i++) {
		count += edges[i].delta;
		if (edges[i].delta > 0 && count > best) {
			best = count;
			*lo = edges[i].at;
			/* it lasts until the next edge, which closes one (opens come first) */
			*hi = edges[i + 1].at;
		}
	}
	*coverage = (uint32_t)best;
	return 0;
}
