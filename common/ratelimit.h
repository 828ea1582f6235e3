/* ratelimit.h -- token buckets: one on its own (struct token_bucket), and one per client
 * address in a bounded table (the reference's rate limit, without its unbounded map): RATE
 * requests per second, bursts of BURST. Two addresses that share a slot share a bucket only
 * until the slot is reclaimed, so the table never grows. Used by the transports and the
 * host's peer link on their loop thread; not thread-safe. */
#ifndef QUORUM_RATELIMIT_H
#define QUORUM_RATELIMIT_H

#include <stdint.h>

/* One bucket; zero-initialised it is full at its first use. */
struct token_bucket {
	double tokens;
	int64_t last_ns; /* CLOCK_MONOTONIC of the last take; 0: never used */
};

/* token_bucket_take: refills B at RATE per second up to BURST (>= 1) for the time since its
 * last use, then takes one token at NOW_NS. RETURN VALUE: 1 taken, 0 empty (refused). */
int token_bucket_take(struct token_bucket *b, double rate, double burst, int64_t now_ns);

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
