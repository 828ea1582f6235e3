/* test-timefields.c -- the fields beside the time: RFC 3339 to the microsecond, drift_ppm
 * measured from agreements (rate, steps, window), and the sources split by state. */
#include <glib.h>
#include <string.h>

#include "timefields.h"

#define S 1000000000LL

static void test_iso8601_microseconds(void)
{
	char out[TIMEFIELDS_ISO8601_LEN];

	timefields_iso8601(1795606177046702999LL, out);
	g_assert_cmpstr(out, ==, "2026-11-25T11:29:37.046702Z"); /* truncated, not rounded */
	timefields_iso8601(0, out);
	g_assert_cmpstr(out, ==, "1970-01-01T00:00:00.000000Z");
	timefields_iso8601(951782400LL * S + 999999999, out); /* a leap day's last instant */
	g_assert_cmpstr(out, ==, "2000-02-29T00:00:00.999999Z");
	g_assert_cmpuint(strlen(out), ==, TIMEFIELDS_ISO8601_LEN - 1);
}

/* A reading of the agreement reached at AGREED (age AGE), whose drift_ns is DRIFT. */
static struct quorum_clock_reading reading(int64_t agreed, int64_t age, int64_t drift)
{
	struct quorum_clock_reading r = { .status = QUORUM_CLOCK_SYNCHRONISED };

	r.estimate_ns = agreed + age;
	r.agreement_age_ns = age;
	r.drift_ns = drift;
	return r;
}

/* Agreements every second from T0 for SECONDS, the system clock running PPM fast (it gains
 * on agreed time: drift_ns = agreed - system falls), plus OFFSET; read twice each. RETURN
 * VALUE: the last drift_ppm. */
static double run(struct timefields_drift *d, int64_t t0, int seconds, double ppm,
		  int64_t offset)
{
	double last = 0;

	for (int i = 0; i <= seconds; i++) {
		int64_t agreed = t0 + i * S;
		int64_t drift = offset - (int64_t)(ppm * (double)(agreed - 1000 * S) / 1e6);
		struct quorum_clock_reading early = reading(agreed, 300000000, drift);
		struct quorum_clock_reading late = reading(agreed, 700000000, drift);

		timefields_drift_observe(d, &(struct quorum_clock_reading){ 0 }); /* ignored */
		last = timefields_drift_ppm(d, &early);
		timefields_drift_observe(d, &late);
	}
	return last;
}

static void test_drift_zero_until_measured(void)
{
	struct timefields_drift d = { 0 };

	g_assert_cmpfloat(run(&d, 1000 * S, 9, 20.0, 0), ==, 0.0);
	g_assert_cmpfloat_with_epsilon(run(&d, 1010 * S, 0, 20.0, 0), 20.0, 0.01);
}

static void test_drift_measures_the_rate(void)
{
	struct timefields_drift d = { 0 };

	g_assert_cmpfloat_with_epsilon(run(&d, 1000 * S, 60, 20.0, 0), 20.0, 0.01);
	d = (struct timefields_drift){ 0 };
	g_assert_cmpfloat_with_epsilon(run(&d, 1000 * S, 60, -7.5, 123456), -7.5, 0.01);
}

static void test_drift_step_starts_over(void)
{
	struct timefields_drift d = { 0 };

	g_assert_cmpfloat_with_epsilon(run(&d, 1000 * S, 30, 20.0, 0), 20.0, 0.01);
	/* the system clock is stepped back by 2 ms: not a rate of 66 ppm over 30 s */
	g_assert_cmpfloat(run(&d, 1031 * S, 5, 20.0, 2000000), ==, 0.0);
	g_assert_cmpfloat_with_epsilon(run(&d, 1037 * S, 10, 20.0, 2000000), 20.0, 0.01);
	/* and a time line that goes back (a restart of the agreement) starts over too */
	g_assert_cmpfloat(run(&d, 500 * S, 3, 20.0, 0), ==, 0.0);
}

static void test_drift_window_slides(void)
{
	struct timefields_drift d = { 0 };
	int64_t end = 1000 * S + 700 * S;

	run(&d, 1000 * S, 700, 20.0, 0);
	/* then 15 minutes at 5 ppm, continuing from where the 20 ppm left drift_ns */
	g_assert_cmpfloat_with_epsilon(
		run(&d, end + S, 900, 5.0,
		    -(int64_t)(20.0 * (double)(end - 1000 * S) / 1e6) +
			    (int64_t)(5.0 * (double)(end - 1000 * S) / 1e6)),
		5.0, 0.05);
	g_assert_cmpuint(d.count, ==, TIMEFIELDS_DRIFT_SAMPLES);
}

static void test_sources_split(void)
{
	struct quorum_source_status st[6] = {
		{ .id = "a", .state = QUORUM_SOURCE_ACCEPTED },
		{ .id = "b", .state = QUORUM_SOURCE_OUTLIER },
		{ .id = "c", .state = QUORUM_SOURCE_UNKNOWN },
		{ .id = "d", .state = QUORUM_SOURCE_SILENT },
		{ .id = "e", .state = QUORUM_SOURCE_ACCEPTED },
		{ .id = "f", .state = QUORUM_SOURCE_REJECTED },
	};
	const char *acc[6], *rej[6];
	size_t na, nr;

	timefields_sources(st, 6, acc, &na, rej, &nr);
	g_assert_cmpuint(na, ==, 2);
	g_assert_cmpstr(acc[0], ==, "a");
	g_assert_cmpstr(acc[1], ==, "e");
	g_assert_cmpuint(nr, ==, 3);
	g_assert_cmpstr(rej[0], ==, "b");
	g_assert_cmpstr(rej[1], ==, "d");
	g_assert_cmpstr(rej[2], ==, "f");
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/timefields/iso8601/microseconds-truncated",
			test_iso8601_microseconds);
	g_test_add_func("/timefields/drift/zero-until-measured",
			test_drift_zero_until_measured);
	g_test_add_func("/timefields/drift/measures-the-rate", test_drift_measures_the_rate);
	g_test_add_func("/timefields/drift/step-starts-over", test_drift_step_starts_over);
	g_test_add_func("/timefields/drift/window-slides", test_drift_window_slides);
	g_test_add_func("/timefields/sources/split-by-state", test_sources_split);
	return g_test_run();
}
