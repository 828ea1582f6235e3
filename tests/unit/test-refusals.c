/* test-refusals.c -- the table behind the host's refusal summaries (one line and one record per
 * kind per interval, whatever the flood) and the token bucket the peer link and transports
 * budget with. */
#include "config.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <glib.h>

#include "ratelimit.h"
#include "refusals-internal.h"

static void collect(void *arg, const struct refusal_kind *k)
{
	g_ptr_array_add(arg, g_strdup_printf("%s %s %" PRIu64 " %" PRIu64 " %s", k->what,
					     k->reason, k->pending, k->total, k->last_peer));
}

/* A million refusals of two kinds make two summaries, with their counts and last peers;
 * the next interval summarises only what was refused in it. */
static void test_summaries_per_kind(void)
{
	struct refusals r;
	GPtrArray *out = g_ptr_array_new_with_free_func(g_free);

	refusals_init(&r);
	for (int i = 0; i < 1000000; i++)
		refusals_count(&r, "peer", i % 4 ? "rate_limited" : "signature_invalid",
			       i % 4 ? "10.0.0.1:9" : "10.0.0.2:9");
	g_assert_cmpuint(refusals_count(&r, "gossip", "duplicate", NULL), ==, 1);
	g_assert_cmpuint(refusals_count(&r, "gossip", "duplicate", ""), ==, 2);
	g_assert_cmpuint(refusals_summarise(&r, collect, out), ==, 3);
	g_assert_cmpstr(g_ptr_array_index(out, 0), ==,
			"peer signature_invalid 250000 250000 10.0.0.2:9");
	g_assert_cmpstr(g_ptr_array_index(out, 1), ==,
			"peer rate_limited 750000 750000 10.0.0.1:9");
	g_assert_cmpstr(g_ptr_array_index(out, 2), ==, "gossip duplicate 2 2 -");
	g_assert_cmpuint(refusals_summarise(&r, collect, out), ==, 0); /* a quiet interval */
	refusals_count(&r, "peer", "rate_limited", "10.0.0.3:9");
	g_assert_cmpuint(refusals_summarise(&r, collect, out), ==, 1);
	g_assert_cmpstr(g_ptr_array_index(out, 3), ==, "peer rate_limited 1 750001 10.0.0.3:9");
	g_assert_cmpuint(refusals_total(&r, "peer", NULL), ==, 1000001);
	g_assert_cmpuint(refusals_total(&r, NULL, "duplicate"), ==, 2);
	g_assert_cmpuint(refusals_total(&r, NULL, NULL), ==, 1000003);
	g_ptr_array_free(out, TRUE);
}

/* More kinds than the table holds: the rest share ("other", "other"), nothing overflows. */
static void test_table_is_bounded(void)
{
	struct refusals r;
	char reason[32];

	refusals_init(&r);
	for (int i = 0; i < 3 * REFUSALS_KINDS_MAX; i++) {
		snprintf(reason, sizeof(reason), "reason_%d", i);
		refusals_count(&r, "plugin", reason, "x");
	}
	g_assert_cmpuint(r.count, ==, REFUSALS_KINDS_MAX);
	g_assert_cmpuint(refusals_total(&r, "other", "other"), ==, 2 * REFUSALS_KINDS_MAX + 1);
	g_assert_cmpuint(refusals_total(&r, NULL, NULL), ==, 3 * REFUSALS_KINDS_MAX);
	/* long strings are cut to their fields, never past them */
	refusals_init(&r);
	memset(reason, 'r', sizeof(reason) - 1);
	reason[sizeof(reason) - 1] = '\0';
	refusals_count(&r, "a-plugin-name-far-longer-than-its-field", reason, reason);
	g_assert_cmpuint(strlen(r.kinds[0].what), ==, REFUSALS_WHAT_MAX - 1);
}

/* A bucket starts full, refills at its rate up to its burst, and never goes negative. */
static void test_token_bucket(void)
{
	struct token_bucket b = { 0 };
	const int64_t s = 1000000000;
	int taken = 0;

	for (int i = 0; i < 100; i++)
		taken += token_bucket_take(&b, 10, 20, 5 * s);
	g_assert_cmpint(taken, ==, 20); /* the burst */
	g_assert_false(token_bucket_take(&b, 10, 20, 5 * s));
	taken = 0;
	for (int i = 0; i < 100; i++)
		taken += token_bucket_take(&b, 10, 20, 5 * s + s / 2);
	g_assert_cmpint(taken, ==, 5); /* half a second at 10 a second */
	taken = 0;
	for (int i = 0; i < 100; i++)
		taken += token_bucket_take(&b, 10, 20, 3600 * s);
	g_assert_cmpint(taken, ==, 20); /* an hour later: full again, not more */
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/refusals/one-summary-per-kind-per-interval", test_summaries_per_kind);
	g_test_add_func("/refusals/table-is-bounded", test_table_is_bounded);
	g_test_add_func("/ratelimit/token-bucket-refills-to-its-burst", test_token_bucket);
	return g_test_run();
}
