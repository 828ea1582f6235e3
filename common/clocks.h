/* clocks.h -- the clocks as nanosecond counts, for the host, the plugins and the tools (one
 * definition instead of a wrapper per file). Header-only: every module inlines its own copy. */
#ifndef QUORUM_COMMON_CLOCKS_H
#define QUORUM_COMMON_CLOCKS_H

#include <stdint.h>
#include <time.h>

/* clock_now_ns: clock ID in nanoseconds (clock_gettime cannot fail for the clocks we use). */
static inline int64_t clock_now_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static inline int64_t mono_now_ns(void)
{
	return clock_now_ns(CLOCK_MONOTONIC);
}

static inline int64_t realtime_now_ns(void)
{
	return clock_now_ns(CLOCK_REALTIME);
}

/* How many tries clock_pair_ns makes for a tight bracket, and what counts as tight. */
#define CLOCK_PAIR_TRIES    8
#define CLOCK_PAIR_TIGHT_NS 2000

/*
 * clock_pair_ns: the system clock (CLOCK_REALTIME) and CLOCK_MONOTONIC read at one instant,
 * as far as two reads can be: REALTIME is read between two MONOTONIC reads and *MONO is
 * their midpoint, so the pair is off by at most half the bracket. A thread preempted between
 * the reads (a busy machine) makes a wide bracket: the tightest of up to CLOCK_PAIR_TRIES is
 * kept, stopping at the first within CLOCK_PAIR_TIGHT_NS.
 * RETURN VALUE: the bracket's width in nanoseconds (the pair's uncertainty, twice over).
 */
static inline int64_t clock_pair_ns(int64_t *mono, int64_t *real)
{
	int64_t best = INT64_MAX;

	for (int i = 0; i < CLOCK_PAIR_TRIES && best > CLOCK_PAIR_TIGHT_NS; i++) {
		int64_t m1 = mono_now_ns();
		int64_t r = realtime_now_ns();
		int64_t m2 = mono_now_ns();

		if (m2 - m1 < best) {
			best = m2 - m1;
			*mono = m1 + best / 2;
			*real = r;
		}
	}
	return best;
}

#endif /* QUORUM_COMMON_CLOCKS_H */
