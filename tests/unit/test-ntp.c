/* test-ntp.c -- unit tests of the NTP transport's arrival timestamps (ntp.c compiled in
 * whole, its helpers being static): when a kernel arrival time may turn a reading into the
 * served time of the request's arrival, and when a step of the system clock forbids it. */
#include "ntp.c" /* first: it sets _GNU_SOURCE itself */

#include <glib.h>

#define MS 1000000LL
#define US 1000LL

static struct quorum_clock_reading synchronised(void)
{
	return (struct quorum_clock_reading){ .status = QUORUM_CLOCK_SYNCHRONISED,
					      .estimate_ns = 1000000 * MS,
					      .earliest_ns = 1000000 * MS - 50 * US,
					      .latest_ns = 1000000 * MS + 50 * US,
					      .error_bound_ns = 50 * US,
					      .agreement_age_ns = 800 * MS };
}

/* An arrival 2 ms before the reading: the reading moves back by 2 ms, the agreement keeps
 * its instant, and the bound widens by 1000 ppm of the age (2 us, +1 ns rounding). */
static void test_arrival_moves_the_reading_back(void)
{
	struct quorum_clock_reading rx = synchronised(), at;
	int64_t read_real = 5000 * MS;

	g_assert_cmpint(reading_at_arrival(&rx, read_real, read_real - 2 * MS, 1, &at), ==, 1);
	g_assert_cmpint(at.estimate_ns, ==, rx.estimate_ns - 2 * MS);
	g_assert_cmpint(at.earliest_ns, ==, rx.earliest_ns - 2 * MS);
	g_assert_cmpint(at.latest_ns, ==, rx.latest_ns - 2 * MS);
	g_assert_cmpint(at.estimate_ns - at.agreement_age_ns, ==,
			rx.estimate_ns - rx.agreement_age_ns);
	g_assert_cmpint(at.error_bound_ns, ==, rx.error_bound_ns + 2 * US + 1);
}

/* Each condition that makes the age untrustworthy keeps the reading as it was read. */
static void test_arrival_refused(void)
{
	struct quorum_clock_reading rx = synchronised(), at, unsync = { 0 };
	int64_t read_real = 5000 * MS;

	/* the system clock was stepped since the last batch */
	g_assert_cmpint(reading_at_arrival(&rx, read_real, read_real - 2 * MS, 0, &at), ==, 0);
	g_assert_cmpint(at.estimate_ns, ==, rx.estimate_ns);
	/* no arrival time (no control message) */
	g_assert_cmpint(reading_at_arrival(&rx, read_real, 0, 1, &at), ==, 0);
	/* an arrival after the reading, or at its instant */
	g_assert_cmpint(reading_at_arrival(&rx, read_real, read_real + 1, 1, &at), ==, 0);
	g_assert_cmpint(reading_at_arrival(&rx, read_real, read_real, 1, &at), ==, 0);
	/* waited longer than ARRIVAL_AGE_MAX_NS */
	g_assert_cmpint(
		reading_at_arrival(&rx, read_real, read_real - ARRIVAL_AGE_MAX_NS - 1, 1, &at),
		==, 0);
	/* arrived before the agreement being served was committed */
	rx.agreement_age_ns = 1 * MS;
	g_assert_cmpint(reading_at_arrival(&rx, read_real, read_real - 2 * MS, 1, &at), ==, 0);
	g_assert_cmpint(at.estimate_ns, ==, rx.estimate_ns);
	/* unsynchronised: nothing to move */
	g_assert_cmpint(reading_at_arrival(&unsync, read_real, read_real - 2 * MS, 1, &at), ==,
			0);
	g_assert_cmpuint(at.status, ==, QUORUM_CLOCK_UNSYNCHRONISED);
}

/* CLOCK_REALTIME - CLOCK_MONOTONIC may move by 500 ppm of the elapsed time plus 20 us
 * between batches (adjtime's slew); more is a step. The first batch has nothing to compare
 * with and is not trusted. */
static void test_realtime_steps_detected(void)
{
	struct ntp_worker w = { 0 };
	int64_t mono = 100 * 1000 * MS, real = mono + 7 * MS;

	g_assert_false(realtime_steady(&w, real, mono));
	/* 1 s later, slewed by 400 ppm: steady */
	mono += 1000 * MS;
	real += 1000 * MS + 400 * US;
	g_assert_true(realtime_steady(&w, real, mono));
	/* 10 ms later, 1 ms ahead: a step */
	mono += 10 * MS;
	real += 10 * MS + 1 * MS;
	g_assert_false(realtime_steady(&w, real, mono));
	/* then steady again from the new offset, backwards steps too */
	mono += 10 * MS;
	real += 10 * MS;
	g_assert_true(realtime_steady(&w, real, mono));
	mono += 10 * MS;
	real += 10 * MS - 30 * US;
	g_assert_false(realtime_steady(&w, real, mono));
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/ntp/arrival/moves-the-reading-back",
			test_arrival_moves_the_reading_back);
	g_test_add_func("/ntp/arrival/refused-when-the-age-is-untrustworthy",
			test_arrival_refused);
	g_test_add_func("/ntp/arrival/realtime-steps-detected", test_realtime_steps_detected);
	return g_test_run();
}
