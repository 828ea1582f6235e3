/* test-metrics.c -- the node's metrics registry behind api->metric_register: names and labels
 * checked, a series shared by its owners and gone with the last, counts from many threads,
 * and the Prometheus text it writes. */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include <quorum/api.h>

#include "metrics-internal.h"

/* The exposition of M as a new string. */
static char *exposition(const struct metrics *m)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	g_assert_nonnull(f);
	g_assert_cmpint(metrics_write(m, f), ==, 0);
	g_assert_cmpint(fclose(f), ==, 0);
	return buf;
}

/* Names outside quorum_, counters without _total, gauges with it, bad labels, help with a
 * line break and a family registered again with another type are all refused. */
static void test_rules(void)
{
	struct metrics m;
	int owner, err = 0;
	static const struct {
		int type;
		const char *name, *labels, *help;
	} bad[] = {
		{ QUORUM_METRIC_COUNTER, "rest_requests_total", NULL, "h" },
		{ QUORUM_METRIC_COUNTER, "quorum_requests", NULL, "h" },
		{ QUORUM_METRIC_GAUGE, "quorum_open_total", NULL, "h" },
		{ QUORUM_METRIC_COUNTER, "quorum_Requests_total", NULL, "h" },
		{ QUORUM_METRIC_COUNTER, "quorum_requests_total", "kind=ntp", "h" },
		{ QUORUM_METRIC_COUNTER, "quorum_requests_total", "kind=\"a\"b\"", "h" },
		{ QUORUM_METRIC_COUNTER, "quorum_requests_total", "kind=\"a\\\"", "h" },
		{ QUORUM_METRIC_COUNTER, "quorum_requests_total", "kind=\"a\",", "h" },
		{ QUORUM_METRIC_COUNTER, "quorum_requests_total", "9k=\"a\"", "h" },
		{ QUORUM_METRIC_COUNTER, "quorum_requests_total", NULL, "two\nlines" },
		{ 3, "quorum_requests_total", NULL, "h" },
	};

	metrics_init(&m);
	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_assert_null(metrics_register(&m, &owner, bad[i].type, bad[i].name,
					       bad[i].labels, bad[i].help, 1.0, &err));
		g_assert_cmpint(err, ==, -EINVAL);
	}
	g_assert_nonnull(metrics_register(&m, &owner, QUORUM_METRIC_COUNTER,
					  "quorum_requests_total", "kind=\"a\",code=\"RATE\"",
					  "Requests.", 1.0, &err));
	g_assert_null(metrics_register(&m, &owner, QUORUM_METRIC_COUNTER,
				       "quorum_requests_total", "kind=\"b\"", "Other help.",
				       1.0, &err));
	g_assert_cmpint(err, ==, -EINVAL);
	g_assert_null(metrics_register(&m, &owner, QUORUM_METRIC_COUNTER,
				       "quorum_requests_total", "kind=\"b\"", "Requests.", 1e-9,
				       &err));
	g_assert_cmpint(err, ==, -EINVAL);
	g_assert_cmpuint(m.count, ==, 1);
	metrics_release(&m);
}

/* Two owners of one series (an old and a new generation of a transport) add into it; it
 * stays while either holds it; registering again is no new reference. */
static void test_shared_series(void)
{
	struct metrics m;
	int old_gen, new_gen, err;
	struct quorum_metric *a, *b;

	metrics_init(&m);
	a = metrics_register(&m, &old_gen, QUORUM_METRIC_COUNTER, "quorum_x_total", NULL, "X.",
			     1.0, &err);
	metric_add(a, 5);
	for (int i = 0; i < 10; i++)
		b = metrics_register(&m, &new_gen, QUORUM_METRIC_COUNTER, "quorum_x_total",
				     NULL, "X.", 1.0, &err);
	g_assert_true(a == b);
	g_assert_cmpuint(m.ref_count, ==, 2);
	metric_add(b, 2);
	metric_add(b, -7); /* a counter never goes down */
	metric_set(b, 0);
	g_assert_cmpint(atomic_load(&a->value), ==, 7);
	metrics_withdraw(&m, &old_gen);
	g_assert_true(metrics_find(&m, "quorum_x_total", NULL) == b);
	metrics_withdraw(&m, &new_gen);
	g_assert_null(metrics_find(&m, "quorum_x_total", NULL));
	g_assert_cmpuint(m.count, ==, 0);
	g_assert_cmpuint(m.ref_count, ==, 0);
	/* the list's tail follows: a new series after the last went is found */
	a = metrics_register(&m, NULL, QUORUM_METRIC_GAUGE, "quorum_y", NULL, "Y.", 1.0, &err);
	g_assert_true(metrics_find(&m, "quorum_y", NULL) == a);
	metrics_release(&m);
}

static void *adder(void *arg)
{
	for (int i = 0; i < 100000; i++)
		metric_add(arg, 1);
	return NULL;
}

/* Four threads adding into one series lose nothing. */
static void test_threads(void)
{
	struct metrics m;
	struct quorum_metric *s;
	pthread_t t[4];
	int err;

	metrics_init(&m);
	s = metrics_register(&m, NULL, QUORUM_METRIC_COUNTER, "quorum_answers_total", NULL,
			     "Answers.", 1.0, &err);
	for (int i = 0; i < 4; i++)
		g_assert_cmpint(pthread_create(&t[i], NULL, adder, s), ==, 0);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	g_assert_cmpint(atomic_load(&s->value), ==, 400000);
	metrics_release(&m);
}

/* One HELP and TYPE per family, its series together even when registered apart, labels
 * in braces, a scaled gauge in its base unit. */
static void test_exposition(void)
{
	struct metrics m;
	int err;
	char *text;

	metrics_init(&m);
	metric_add(metrics_register(&m, NULL, QUORUM_METRIC_COUNTER, "quorum_rounds_total",
				    "outcome=\"accepted\"", "Rounds.", 1.0, &err),
		   3);
	metric_set(metrics_register(&m, NULL, QUORUM_METRIC_GAUGE, "quorum_bound_seconds", NULL,
				    "Bound.", 1e-9, &err),
		   1500000);
	metrics_register(&m, NULL, QUORUM_METRIC_COUNTER, "quorum_rounds_total",
			 "outcome=\"rejected\"", "Rounds.", 1.0, &err);
	text = exposition(&m);
	g_assert_cmpstr(text, ==,
			"# HELP quorum_rounds_total Rounds.\n"
			"# TYPE quorum_rounds_total counter\n"
			"quorum_rounds_total{outcome=\"accepted\"} 3\n"
			"quorum_rounds_total{outcome=\"rejected\"} 0\n"
			"# HELP quorum_bound_seconds Bound.\n"
			"# TYPE quorum_bound_seconds gauge\n"
			"quorum_bound_seconds 0.0015\n");
	free(text);
	metrics_release(&m);
}

/* Past METRICS_SERIES_MAX series the registry refuses with -ENOSPC. */
static void test_bounded(void)
{
	struct metrics m;
	char labels[32];
	int err = 0;

	metrics_init(&m);
	for (int i = 0; i < METRICS_SERIES_MAX; i++) {
		snprintf(labels, sizeof(labels), "i=\"%d\"", i);
		g_assert_nonnull(metrics_register(&m, NULL, QUORUM_METRIC_COUNTER,
						  "quorum_many_total", labels, "Many.", 1.0,
						  &err));
	}
	g_assert_null(metrics_register(&m, NULL, QUORUM_METRIC_COUNTER, "quorum_many_total",
				       "i=\"-1\"", "Many.", 1.0, &err));
	g_assert_cmpint(err, ==, -ENOSPC);
	metrics_release(&m);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/metrics/register/refuses-names-labels-and-mismatches", test_rules);
	g_test_add_func("/metrics/register/series-shared-by-owners", test_shared_series);
	g_test_add_func("/metrics/add/atomic-across-threads", test_threads);
	g_test_add_func("/metrics/write/families-together-in-base-units", test_exposition);
	g_test_add_func("/metrics/register/bounded", test_bounded);
	return g_test_run();
}
