/* test-agreement.c -- the convergence stage's agreement, table-driven and randomised: with
 * at most f faulty authorities (lying in any way, or silent) the agreed interval contains
 * the truth; with f+1 colluding liars there is no agreement rather than a wrong one. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "agreement.h"

#define US    1000LL
#define MS    1000000LL
#define TRUTH 1795000000000000000LL

static struct interval iv(int64_t lo, int64_t hi)
{
	return (struct interval){ .lo = lo, .hi = hi, .mid = lo + (hi - lo) / 2 };
}

static int compute(const struct interval *v, size_t k, uint32_t n, uint32_t min_quorum,
		   int64_t skew, struct agreement_result *out)
{
	struct agreement_params p = {
		.n = n, .f = (n - 1) / 3, .min_quorum = min_quorum, .max_cluster_skew_ns = skew
	};
	void *scratch = g_malloc(AGREEMENT_SCRATCH(k + 1));
	int err = agreement_compute(v, k, &p, scratch, out);

	g_free(scratch);
	return err;
}

/* ---- intervals from observations ---- */

static void test_interval_arithmetic(void)
{
	struct quorum_attestation a = { .midpoint_ns = TRUTH,
					.radius_ns = 1000,
					.processing_ns = 30 * US };
	struct interval out;

	/* No drift: [mid - r + processing, mid + r + rtt], then both ends moved by age. */
	g_assert_cmpint(agreement_interval(&a, 100 * US, 0, 0, 0, &out), ==, 0);
	g_assert_cmpint(out.lo, ==, TRUTH - 1000 + 30 * US);
	g_assert_cmpint(out.hi, ==, TRUTH + 1000 + 100 * US);
	g_assert_cmpint(out.mid, ==, out.lo + (out.hi - out.lo) / 2);
	g_assert_cmpint(agreement_interval(&a, 100 * US, 5 * MS, 0, 0, &out), ==, 0);
	g_assert_cmpint(out.lo, ==, TRUTH - 1000 + 30 * US + 5 * MS);
	g_assert_cmpint(out.hi, ==, TRUTH + 1000 + 100 * US + 5 * MS);
	/* 50 ppm: processing shrinks by ceil(1.5 ns) = 2, rtt grows by 5, age by 250 each way.
	 */
	g_assert_cmpint(agreement_interval(&a, 100 * US, 5 * MS, 0, 50, &out), ==, 0);
	g_assert_cmpint(out.lo, ==, TRUTH - 1000 + (30 * US - 2) + (5 * MS - 250));
	g_assert_cmpint(out.hi, ==, TRUTH + 1000 + (100 * US + 5) + (5 * MS + 250));
}

/* The unsigned sending hint moves the point estimate, never the bound. */
static void test_interval_hint(void)
{
	struct quorum_attestation a = { .midpoint_ns = TRUTH,
					.radius_ns = 1000,
					.processing_ns = 30 * US };
	struct interval plain, hinted, forged;

	g_assert_cmpint(agreement_interval(&a, 100 * US, 0, 0, 0, &plain), ==, 0);
	/* 70 us unmeasured; 40 of it spent signing: the network took 15 us each way. */
	g_assert_cmpint(agreement_interval(&a, 100 * US, 0, 40 * US, 0, &hinted), ==, 0);
	g_assert_cmpint(hinted.lo, ==, plain.lo);
	g_assert_cmpint(hinted.hi, ==, plain.hi);
	g_assert_cmpint(plain.mid, ==, TRUTH + 30 * US + 35 * US);
	g_assert_cmpint(hinted.mid, ==, TRUTH + 30 * US + 40 * US + 15 * US);
	/* A hint larger than the unmeasured part is not believed. */
	g_assert_cmpint(agreement_interval(&a, 100 * US, 0, 71 * US, 0, &forged), ==, 0);
	g_assert_cmpint(forged.mid, ==, plain.mid);
	g_assert_cmpint(forged.lo, ==, plain.lo);
	g_assert_cmpint(forged.hi, ==, plain.hi);
}

static void test_interval_refusals(void)
{
	struct quorum_attestation a = { .midpoint_ns = TRUTH,
					.radius_ns = 0,
					.processing_ns = 200 * US };
	struct interval out;

	/* Processing longer than the whole round trip cannot be honest arithmetic. */
	g_assert_cmpint(agreement_interval(&a, 100 * US, 0, 0, 50, &out), ==, -EINVAL);
	a.processing_ns = 10 * US;
	g_assert_cmpint(agreement_interval(&a, -1, 0, 0, 50, &out), ==, -EINVAL);
	g_assert_cmpint(agreement_interval(&a, 100 * US, -1, 0, 50, &out), ==, -EINVAL);
	a.radius_ns = UINT64_MAX;
	g_assert_cmpint(agreement_interval(&a, 100 * US, 0, 0, 50, &out), ==, -EINVAL);
}

/* ---- table-driven agreement ---- */

struct table_case {
	const char *name;
	uint32_t n, min_quorum;
	int64_t skew;
	size_t k;
	int64_t lo[10], hi[10]; /* offsets from TRUTH, in us */
	const char *reason;	/* NULL: must agree and contain TRUTH */
	uint32_t inside, outliers;
};

static const struct table_case table[] = {
	{ "n4 all honest", 4, 0, 0, 4, { -10, -5, -20, -8 }, { 10, 30, 5, 12 }, NULL, 4, 0 },
	{ "n4 constant liar far away",
	  4,
	  0,
	  0,
	  4,
	  { -10, -5, -20, 900000 },
	  { 10, 30, 5, 900050 },
	  NULL,
	  3,
	  1 },
	/* Touching the lowest (highest) honest endpoint: outside the hull [-5, 5] covered by 3.
	 */
	{ "n4 liar at the low edge",
	  4,
	  0,
	  0,
	  4,
	  { -10, -5, -20, -60 },
	  { 10, 30, 5, -20 },
	  NULL,
	  3,
	  1 },
	{ "n4 liar at the high edge",
	  4,
	  0,
	  0,
	  4,
	  { -10, -5, -20, 30 },
	  { 10, 30, 5, 90 },
	  NULL,
	  3,
	  1 },
	/* Overlapping the honest ones: it counts as inside, and the truth stays in the hull. */
	{ "n4 liar overlapping the honest edge",
	  4,
	  0,
	  0,
	  4,
	  { -10, -5, -20, -15 },
	  { 10, 30, 5, -4 },
	  NULL,
	  4,
	  0 },
	{ "n4 one silent", 4, 0, 0, 3, { -10, -5, -20 }, { 10, 30, 5 }, NULL, 3, 0 },
	{ "n4 two silent", 4, 0, 0, 2, { -10, -5 }, { 10, 30 }, "insufficient_quorum", 0, 0 },
	{ "n4 more answers than authorities",
	  4,
	  0,
	  0,
	  5,
	  { -1, -1, -1, -1, -1 },
	  { 1, 1, 1, 1, 1 },
	  "insufficient_quorum",
	  0,
	  0 },
	{ "n4 min_quorum 4 with 3",
	  4,
	  4,
	  0,
	  3,
	  { -10, -5, -20 },
	  { 10, 30, 5 },
	  "insufficient_quorum",
	  0,
	  0 },
	{ "n4 two colluding liars far away",
	  4,
	  0,
	  0,
	  4,
	  { -10, -5, 1000000, 1000001 },
	  { 10, 30, 1000050, 1000040 },
	  "empty_cluster_after_trim",
	  0,
	  0 },
	/* midpoints 0, 12.5, -7.5, 2: the trimmed spread (0 to 2) is within 5 us ... */
	{ "n4 one extreme midpoint is trimmed",
	  4,
	  0,
	  5 * US,
	  4,
	  { -10, -5, -20, -8 },
	  { 10, 30, 5, 12 },
	  NULL,
	  4,
	  0 },
	/* ... and of 0, 2, 20, 0 (0 to 2 after the trim): one imprecise source, its midpoint
	 * far off but its interval overlapping, does not stop the others ... */
	{ "n4 one imprecise source far off but overlapping",
	  4,
	  0,
	  5 * US,
	  4,
	  { -10, -8, -1000, -10 },
	  { 10, 12, 1040, 10 },
	  NULL,
	  4,
	  0 },
	/* ... but two of four far apart do: -20, -10, 10, 20 (-10 to 10 after the trim) */
	{ "n4 skew over the limit",
	  4,
	  0,
	  5 * US,
	  4,
	  { -40, -20, 0, 0 },
	  { 0, 0, 20, 40 },
	  "cluster_skew_exceeded",
	  0,
	  0 },
	{ "n7 two liars on either side",
	  7,
	  0,
	  0,
	  7,
	  { -10, -5, -20, -8, -3, -500000, 400000 },
	  { 10, 30, 5, 12, 4, -499000, 401000 },
	  NULL,
	  5,
	  2 },
	{ "n7 one liar one silent",
	  7,
	  0,
	  0,
	  6,
	  { -10, -5, -20, -8, -3, 77777 },
	  { 10, 30, 5, 12, 4, 77800 },
	  NULL,
	  5,
	  1 },
	{ "n7 three colluding liars",
	  7,
	  0,
	  0,
	  7,
	  { -10, -5, -20, -8, 5000, 5001, 5002 },
	  { 10, 30, 5, 12, 5100, 5100, 5100 },
	  "empty_cluster_after_trim",
	  0,
	  0 },
	{ "n10 three liars",
	  10,
	  0,
	  0,
	  10,
	  { -9, -8, -7, -6, -5, -4, -3, -900, 800, 1e6 },
	  { 1, 2, 3, 4, 5, 6, 7, -800, 900, 1e6 + 1 },
	  NULL,
	  7,
	  3 },
};

static void test_table(void)
{
	for (size_t t = 0; t < G_N_ELEMENTS(table); t++) {
		const struct table_case *c = &table[t];
		struct interval v[10];
		struct agreement_result r;
		int err;

		for (size_t i = 0; i < c->k; i++)
			v[i] = iv(TRUTH + c->lo[i] * US, TRUTH + c->hi[i] * US);
		err = compute(v, c->k, c->n, c->min_quorum, c->skew, &r);
		g_test_message("case '%s': err %d reason %s", c->name, err,
			       r.reason ? r.reason : "-");
		g_assert_cmpuint(r.threshold, ==, c->n - (c->n - 1) / 3);
		if (c->reason != NULL) {
			g_assert_cmpint(err, ==, -EAGAIN);
			g_assert_cmpstr(r.reason, ==, c->reason);
			continue;
		}
		g_assert_cmpint(err, ==, 0);
		g_assert_null(r.reason);
		g_assert_cmpint(r.lo, <=, TRUTH);
		g_assert_cmpint(r.hi, >=, TRUTH);
		g_assert_cmpint(r.lo, <=, r.estimate);
		g_assert_cmpint(r.estimate, <=, r.hi);
		g_assert_cmpuint(r.inside, ==, c->inside);
		g_assert_cmpuint(r.outliers, ==, c->outliers);
	}
}

/* n = 4, all honest: the hull of the points covered by 3 is [3rd lo, 2nd hi]. */
static void test_hull_is_exact(void)
{
	struct interval v[4] = { iv(0, 100), iv(10, 90), iv(20, 120), iv(30, 80) };
	struct agreement_result r;

	g_assert_cmpint(compute(v, 4, 4, 0, 0, &r), ==, 0);
	g_assert_cmpint(r.lo, ==, 20);
	g_assert_cmpint(r.hi, ==, 90);
	/* Fault-tolerant midpoint: midpoints 50, 50, 70, 55 -> drop 50 and 70 -> 50..55. */
	g_assert_cmpint(r.estimate, ==, 52);
}

/* ---- randomised properties ---- */

static int64_t rand_range(int64_t lo, int64_t hi)
{
	return lo + (int64_t)(g_test_rand_double() * (double)(hi - lo));
}

enum liar_kind {
	LIAR_CONSTANT,
	LIAR_RANDOM,
	LIAR_LOW_EDGE,
	LIAR_HIGH_EDGE,
	LIAR_WIDE,
	LIAR_NARROW,
	LIAR_KINDS
};

/* One trial: N authorities, SILENT of them silent, LIARS lying (SILENT + LIARS <= f). */
static void trial(uint32_t n, uint32_t silent, uint32_t liars, enum liar_kind kind)
{
	size_t k = n - silent, honest = k - liars;
	struct interval *v = g_new0(struct interval, k);
	int64_t truth = TRUTH + rand_range(-1000 * MS, 1000 * MS);
	int64_t honest_lo = INT64_MAX, honest_hi = INT64_MIN,
		shared = rand_range(-5 * MS, 5 * MS);
	struct agreement_result r;

	for (size_t i = 0; i < honest; i++) {
		int64_t width = rand_range(1 * US, 1 * MS);
		int64_t lo = truth - (int64_t)(g_test_rand_double() * (double)width);

		v[i] = iv(lo, lo + width);
		honest_lo = MIN(honest_lo, v[i].lo);
		honest_hi = MAX(honest_hi, v[i].hi);
	}
	for (size_t i = honest; i < k; i++) {
		int64_t width = rand_range(1 * US, 1 * MS), at;

		switch (kind) {
		case LIAR_CONSTANT: /* the liars agree on one wrong time */
			v[i] = iv(truth + shared, truth + shared + 100 * US);
			break;
		case LIAR_RANDOM:
			at = truth + rand_range(-1000 * MS, 1000 * MS);
			v[i] = iv(at, at + width);
			break;
		case LIAR_LOW_EDGE: /* ending just on the lowest honest point */
			v[i] = iv(honest_lo - width, honest_lo);
			break;
		case LIAR_HIGH_EDGE:
			v[i] = iv(honest_hi, honest_hi + width);
			break;
		case LIAR_WIDE: /* covering everything */
			v[i] = iv(truth - 1000 * MS, truth + 1000 * MS);
			break;
		default: /* a point just beside the truth */
			at = truth + (g_test_rand_bit() ? 1 : -1) * rand_range(1, 2 * MS);
			v[i] = iv(at, at);
			break;
		}
	}
	/* Shuffle, so position never matters. */
	for (size_t i = k; i > 1; i--) {
		size_t j = (size_t)g_test_rand_int_range(0, (gint32)i);
		struct interval tmp = v[i - 1];

		v[i - 1] = v[j];
		v[j] = tmp;
	}
	if (compute(v, k, n, 0, 0, &r) != 0)
		g_error("n=%u silent=%u liars=%u kind=%d: refused (%s) although the truth is "
			"covered by %zu >= n-f honest intervals",
			n, silent, liars, kind, r.reason, honest);
	if (r.lo > truth || r.hi < truth)
		g_error("n=%u silent=%u liars=%u kind=%d: [%" G_GINT64_FORMAT
			", %" G_GINT64_FORMAT "] misses the truth %" G_GINT64_FORMAT,
			n, silent, liars, kind, r.lo, r.hi, truth);
	g_assert_cmpint(r.lo, <=, r.estimate);
	g_assert_cmpint(r.estimate, <=, r.hi);
	/* Every point covered by n - f intervals lies in an honest one (n - f > f). */
	g_assert_cmpint(r.lo, >=, honest_lo);
	g_assert_cmpint(r.hi, <=, honest_hi);
	g_free(v);
}

static void test_random_within_fault_model(void)
{
	static const uint32_t sizes[] = { 4, 7, 10, 31 };
	int trials = g_test_slow() ? 200000 : 20000;

	for (size_t s = 0; s < G_N_ELEMENTS(sizes); s++) {
		uint32_t n = sizes[s], f = (n - 1) / 3;

		for (int t = 0; t < trials; t++) {
			uint32_t faulty = (uint32_t)g_test_rand_int_range(0, (gint32)f + 1);
			uint32_t silent =
				(uint32_t)g_test_rand_int_range(0, (gint32)faulty + 1);

			trial(n, silent, faulty - silent,
			      (enum liar_kind)g_test_rand_int_range(0, LIAR_KINDS));
		}
	}
	g_test_message("%d random trials for each n in 4, 7, 10, 31", trials);
}

/* f+1 liars agreeing on a time far from the truth: no agreement, with or without silent
 * honest authorities. (f+1 liars whose intervals overlap the honest ones can bias the result
 * within the honest widths: beyond f faults no rule can tell them apart.) */
static void test_random_colluding_beyond_f(void)
{
	static const uint32_t sizes[] = { 4, 7, 10, 31 };

	for (size_t s = 0; s < G_N_ELEMENTS(sizes); s++) {
		uint32_t n = sizes[s], f = (n - 1) / 3;

		for (int t = 0; t < 500; t++) {
			uint32_t silent = (uint32_t)g_test_rand_int_range(0, (gint32)f + 1);
			size_t k = n - silent, liars = f + 1, honest = k - liars;
			struct interval *v = g_new0(struct interval, k);
			int64_t lie = TRUTH + (g_test_rand_bit() ? 1 : -1) *
						      rand_range(10 * MS, 1000 * MS);
			struct agreement_result r;

			for (size_t i = 0; i < honest; i++) {
				int64_t width = rand_range(1 * US, 1 * MS);
				int64_t lo =
					TRUTH - (int64_t)(g_test_rand_double() * (double)width);

				v[i] = iv(lo, lo + width);
			}
			for (size_t i = honest; i < k; i++) {
				int64_t width = rand_range(1 * US, 1 * MS);

				v[i] = iv(lie - width / 2, lie + width / 2);
			}
			g_assert_cmpint(compute(v, k, n, 0, 0, &r), ==, -EAGAIN);
			g_assert_nonnull(r.reason);
			g_free(v);
		}
	}
}

/* ---- NTP narrowing ---- */

static void test_narrow(void)
{
	struct interval ntp[3] = { iv(TRUTH - 30, TRUTH + 5), iv(TRUTH - 40, TRUTH + 8),
				   iv(TRUTH - 35, TRUTH + 50) };
	struct interval far[3] = { iv(TRUTH + 1000, TRUTH + 1100),
				   iv(TRUTH + 1000, TRUTH + 1100),
				   iv(TRUTH + 1000, TRUTH + 1100) };
	struct agreement_result base = { .lo = TRUTH - 100,
					 .estimate = TRUTH + 60,
					 .hi = TRUTH + 100 };
	struct agreement_result r;
	void *scratch = g_malloc(AGREEMENT_SCRATCH(8));

	/* 3 configured, one may be faulty: 2 must cover a point: [TRUTH-35, TRUTH+8]. */
	g_assert_cmpuint(agreement_ntp_max_faulty(3), ==, 1);
	r = base;
	g_assert_cmpuint(agreement_narrow(ntp, 3, 3, 1, scratch, &r), ==, 3);
	g_assert_cmpint(r.lo, ==, TRUTH - 35);
	g_assert_cmpint(r.hi, ==, TRUTH + 8);
	g_assert_cmpint(r.estimate, ==, TRUTH + 8); /* kept inside */
	g_assert_cmpint(r.lo, <=, TRUTH);
	/* Disjoint from the agreement: ignored. */
	r = base;
	g_assert_cmpuint(agreement_narrow(far, 3, 3, 1, scratch, &r), ==, 0);
	g_assert_cmpint(r.lo, ==, base.lo);
	g_assert_cmpint(r.hi, ==, base.hi);
	/* Fewer answers than their threshold: ignored. */
	r = base;
	g_assert_cmpuint(agreement_narrow(ntp, 1, 3, 1, scratch, &r), ==, 0);
	g_assert_cmpint(r.hi, ==, base.hi);
	/* Never widened: NTP hull wider than the agreement leaves it as it is. */
	r = base;
	r.lo = TRUTH - 10;
	r.hi = TRUTH + 1;
	g_assert_cmpuint(agreement_narrow(ntp, 3, 3, 1, scratch, &r), ==, 3);
	g_assert_cmpint(r.lo, ==, TRUTH - 10);
	g_assert_cmpint(r.hi, ==, TRUTH + 1);
	/* No fault model with fewer than 2f + 1 sources, or f = 0: one or two sources never
	 * narrow, however precise they claim to be. */
	r = base;
	g_assert_cmpuint(agreement_narrow(ntp, 1, 1, agreement_ntp_max_faulty(1), scratch, &r),
			 ==, 0);
	g_assert_cmpuint(agreement_narrow(ntp, 2, 2, agreement_ntp_max_faulty(2), scratch, &r),
			 ==, 0);
	g_assert_cmpuint(agreement_narrow(ntp, 3, 3, 0, scratch, &r), ==, 0);
	g_assert_cmpint(r.lo, ==, base.lo);
	g_assert_cmpint(r.hi, ==, base.hi);
	g_free(scratch);
}

/* What issue 13 showed: NTP sources claiming no dispersion and 10 us fast, one of them
 * alone, then 2 of 7: the narrowed agreement always contains the truth. */
static void test_narrow_liars_within_budget(void)
{
	struct agreement_result base = { .lo = TRUTH - 80 * US,
					 .estimate = TRUTH,
					 .hi = TRUTH + 70 * US };
	struct interval ntp[7];
	void *scratch = g_malloc(AGREEMENT_SCRATCH(8));

	for (int trial = 0; trial < 1000; trial++) {
		struct agreement_result r = base;
		/* a liar's interval: [its reading - 0, its reading + rtt], reading 10 us fast,
		 * seen a random network leg after the truth */
		int64_t leg = g_test_rand_int_range(0, 20 * US);
		int64_t rtt = 2 * leg + g_test_rand_int_range(0, 5 * US);
		struct interval liar = iv(TRUTH - leg + 10 * US, TRUTH - leg + 10 * US + rtt);

		g_assert_cmpuint(
			agreement_narrow(&liar, 1, 1, agreement_ntp_max_faulty(1), scratch, &r),
			==, 0);
		g_assert_true(r.lo <= TRUTH && TRUTH <= r.hi);
		for (int i = 0; i < 7; i++) {
			int64_t radius = 15 * US + g_test_rand_int_range(0, 50 * US);

			ntp[i] = i < 2 ? liar
				       : iv(TRUTH - radius - g_test_rand_int_range(0, 10 * US),
					    TRUTH + radius + g_test_rand_int_range(0, 40 * US));
		}
		r = base;
		agreement_narrow(ntp, 7, 7, agreement_ntp_max_faulty(7), scratch, &r);
		g_assert_true(r.lo <= TRUTH && TRUTH <= r.hi);
	}
	g_free(scratch);
}

/* A failed round names its culprits: the stretch most intervals share. */
static void test_best_cluster(void)
{
	struct interval v[4] = { iv(0, 100), iv(10, 90), iv(5000, 6000), iv(7000, 8000) };
	void *scratch = g_malloc(AGREEMENT_SCRATCH(4));
	int64_t lo, hi;
	uint32_t coverage;

	g_assert_cmpint(agreement_best_cluster(v, 4, scratch, &lo, &hi, &coverage), ==, 0);
	g_assert_cmpint(lo, ==, 10);
	g_assert_cmpint(hi, ==, 90);
	g_assert_cmpuint(coverage, ==, 2);
	g_assert_cmpint(agreement_best_cluster(v, 0, scratch, &lo, &hi, &coverage), ==,
			-ENOENT);
	g_free(scratch);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/agreement/interval/arithmetic-with-and-without-drift",
			test_interval_arithmetic);
	g_test_add_func("/agreement/interval/refuses-contradictions", test_interval_refusals);
	g_test_add_func("/agreement/interval/sending-hint-moves-estimate-not-bound",
			test_interval_hint);
	g_test_add_func("/agreement/table/liars-silence-and-refusals", test_table);
	g_test_add_func("/agreement/hull-and-fault-tolerant-midpoint-exact",
			test_hull_is_exact);
	g_test_add_func("/agreement/random/contains-truth-with-up-to-f-faults",
			test_random_within_fault_model);
	g_test_add_func("/agreement/random/no-agreement-with-f-plus-1-colluding-liars",
			test_random_colluding_beyond_f);
	g_test_add_func("/agreement/ntp/narrows-never-widens-never-decides", test_narrow);
	g_test_add_func("/agreement/ntp/liars-within-the-ntp-budget-never-exclude-truth",
			test_narrow_liars_within_budget);
	g_test_add_func("/agreement/failed-round/best-cluster-names-the-culprits",
			test_best_cluster);
	return g_test_run();
}
