/* ratelimit.h -- a token bucket per client address in a bounded table (the reference's
 * rate limit, without its unbounded map): RATE requests per second, bursts of BURST. Two
 * addresses that share a slot share a bucket only until the slot is reclaimed, so the table
 * never grows. Used by the transports on their loop thread; not thread-safe. */
#ifndef QUORUM_RATELIMIT_H
#define QUORUM_RATELIMIT_H

#include <stdint.h>

struct ratelimit;

/* ratelimit_new: a limiter of RATE per second (<= 0: unlimited) and BURST (< 1: RATE, at
 * least 1). RETURN VALUE: the limiter (free with ratelimit_free), or NULL (out of memory). */
struct ratelimit *ratelimit_new(int64_t rate, int64_t burst);

/* ratelimit_allow: takes one token for ADDR at CLOCK_MONOTONIC NOW_NS.
 * RETURN VALUE: 1 allowed, 0 refused (the caller answers 429 / RESOURCE_EXHAUSTED). */
int ratelimit_allow(struct ratelimit *rl, const char *addr, int64_t now_ns);

/* The configured rate and burst. */
int64_t ratelimit_rate(const struct ratelimit *rl);
int64_t ratelimit_burst(const struct ratelimit *rl);

/* ratelimit_free: NULL is a no-op. */
void ratelimit_free(struct ratelimit *rl);

#endif /* QUORUM_RATELIMIT_H */
