/* ratelimit.c -- per-address token buckets in a fixed table (FNV-1a slots). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ratelimit.h"

#define RATE_BUCKETS 4096

struct bucket {
	char addr[64];
	struct token_bucket tb;
};

struct ratelimit {
	int64_t rate, burst;
	struct bucket *buckets;
};

int token_bucket_take(struct token_bucket *b, double rate, double burst, int64_t now_ns)
{
	double tokens = b->last_ns == 0
				? burst
				: b->tokens + (double)(now_ns - b->last_ns) * rate / 1e9;

	b->tokens = tokens > burst ? burst : tokens;
	b->last_ns = now_ns;
	if (b->tokens < 1.0)
		return 0;
	b->tokens -= 1.0;
	return 1;
}

struct ratelimit *ratelimit_new(int64_t rate, int64_t burst)
{
	struct ratelimit *rl = calloc(1, sizeof(*rl));

	if (rl == NULL)
		return NULL;
	rl->rate = rate;
	rl->burst = burst >= 1 ? burst : rate > 0 ? rate : 1;
	rl->buckets = rate > 0 ? calloc(RATE_BUCKETS, sizeof(*rl->buckets)) : NULL;
	if (rate > 0 && rl->buckets == NULL) {
		free(rl);
		return NULL;
	}
	return rl;
}

int ratelimit_allow(struct ratelimit *rl, const char *addr, int64_t now_ns)
{
	uint32_t h = 2166136261u;
	struct bucket *b;

	if (rl->rate <= 0)
		return 1;
	for (const char *p = addr; *p != '\0'; p++)
		h = (h ^ (uint8_t)*p) * 16777619u;
	b = &rl->buckets[h % RATE_BUCKETS];
	if (strcmp(b->addr, addr) != 0) {
		snprintf(b->addr, sizeof(b->addr), "%s", addr);
		/* a new address starts with a full bucket */
		memset(&b->tb, 0, sizeof(b->tb));
	}
	return token_bucket_take(&b->tb, (double)rl->rate, (double)rl->burst, now_ns);
}

int64_t ratelimit_rate(const struct ratelimit *rl)
{
	return rl->rate;
}

int64_t ratelimit_burst(const struct ratelimit *rl)
{
	return rl->burst;
}

void ratelimit_free(struct ratelimit *rl)
{
	if (rl == NULL)
		return;
	free(rl->buckets);
	free(rl);
}
