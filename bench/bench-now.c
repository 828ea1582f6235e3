/* bench-now.c -- read latency of quorum_now() (libquorum-clock on a real, synchronised clock
 * page written by the host's served-clock code) as a ratio to clock_gettime(CLOCK_REALTIME),
 * measured in interleaved blocks of the same run. Target: a ratio under 2. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "quorum/clock.h"
#include "timecore-internal.h"
#include "util-internal.h"
#include "clocks.h"

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int compare_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(void)
{
	enum { BLOCKS = 41, CALLS = 200000 };
	char dir[] = "/tmp/quorum-bench-now-XXXXXX", path[64], why[ERRBUF_SIZE];
	struct served_clock *served;
	struct clock_commit_outcome outcome;
	struct quorum_agreement a = {
		.size = sizeof(a), .n = 4, .f = 1, .accepted = 4, .local = 1
	};
	struct quorum_clock *clock;
	struct quorum_now now;
	struct timespec ts;
	double quorum[BLOCKS], realtime[BLOCKS], ratio[BLOCKS];
	volatile int64_t sink = 0;

	if (mkdtemp(dir) == NULL)
		return 1;
	snprintf(path, sizeof(path), "%s/clock", dir);
	if (served_clock_open(path, 50, 500, 10000000, &served, why, sizeof(why)) != 0) {
		fprintf(stderr, "bench-now: %s\n", why);
		return 1;
	}
	a.reference_mono_ns = mono_now_ns();
	a.estimate_ns = realtime_now_ns();
	a.earliest_ns = a.estimate_ns - 50000;
	a.latest_ns = a.estimate_ns + 50000;
	served_clock_commit(served, &a, 0, &outcome);
	if (quorum_clock_open(path, &clock) != 0 || quorum_clock_now(clock, &now) != 0 ||
	    now.status != QUORUM_NOW_SYNCHRONISED) {
		fprintf(stderr, "bench-now: the page is not synchronised\n");
		return 1;
	}
	for (int b = 0; b < BLOCKS; b++) {
		double t0 = now_ns();

		for (int i = 0; i < CALLS; i++) {
			quorum_clock_now(clock, &now);
			sink += now.estimate_ns;
		}
		quorum[b] = (now_ns() - t0) / CALLS;
		t0 = now_ns();
		for (int i = 0; i < CALLS; i++) {
			clock_gettime(CLOCK_REALTIME, &ts);
			sink += ts.tv_nsec;
		}
		realtime[b] = (now_ns() - t0) / CALLS;
		ratio[b] = quorum[b] / realtime[b];
	}
	qsort(quorum, BLOCKS, sizeof(double), compare_double);
	qsort(realtime, BLOCKS, sizeof(double), compare_double);
	qsort(ratio, BLOCKS, sizeof(double), compare_double);
	printf("quorum_now()                  median_ns=%.1f (status synchronised)\n",
	       quorum[BLOCKS / 2]);
	printf("clock_gettime(CLOCK_REALTIME) median_ns=%.1f\n", realtime[BLOCKS / 2]);
	printf("ratio quorum_now/clock_gettime median=%.2f min=%.2f max=%.2f (target < 2)\n",
	       ratio[BLOCKS / 2], ratio[0], ratio[BLOCKS - 1]);
	quorum_clock_close(clock);
	served_clock_close(served, 1);
	unlink(path);
	rmdir(dir);
	return sink == 42; /* keeps the loops from being optimised away */
}
