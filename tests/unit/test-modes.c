/* test-modes.c -- the control plane's runtime modes: the seed's transition table, cell by
 * cell, and the circuit breaker (trip after a streak of rejections, close after a run of
 * accepted events, back to the mode the trip found). */
#include "config.h"

#include <glib.h>

#include "modes.h"

/* The seed's table (spec/pipeline.md), written out independently of modes.c. */
static const char *const table[][2] = {
	{ "COLD_START", "RECOVERY QUORUM_ACTIVE DEGRADED ISOLATED HITL_HOLD" },
	{ "RECOVERY", "QUORUM_ACTIVE DEGRADED ISOLATED HITL_HOLD" },
	{ "QUORUM_ACTIVE", "DEGRADED ISOLATED HITL_HOLD RECOVERY" },
	{ "DEGRADED", "QUORUM_ACTIVE ISOLATED HITL_HOLD RECOVERY" },
	{ "ISOLATED", "RECOVERY HITL_HOLD" },
	{ "HITL_HOLD", "RECOVERY DEGRADED ISOLATED QUORUM_ACTIVE" },
};

static void test_table(void)
{
	int cells = 0;

	for (size_t i = 0; i < G_N_ELEMENTS(table); i++) {
		uint32_t from, to;

		g_assert_cmpint(modes_parse(table[i][0], &from), ==, 0);
		g_assert_cmpstr(modes_name(from), ==, table[i][0]);
		for (size_t j = 0; j < G_N_ELEMENTS(table); j++) {
			char *padded = g_strdup_printf(" %s ", table[i][1]);
			char *needle = g_strdup_printf(" %s ", table[j][0]);
			int want = i == j || strstr(padded, needle) != NULL;
			struct modes m;

			g_assert_cmpint(modes_parse(table[j][0], &to), ==, 0);
			g_assert_cmpint(modes_allowed(from, to), ==, want);
			modes_init(&m, 8, 8);
			m.mode = from;
			g_assert_cmpint(modes_set(&m, to), ==, i == j ? 0 : want ? 1 : -1);
			g_assert_cmpuint(m.mode, ==, want ? to : from); /* refused: unchanged */
			g_assert_cmpuint(m.transitions, ==, want && i != j ? 1 : 0);
			cells++;
			g_free(padded);
			g_free(needle);
		}
	}
	g_assert_cmpint(cells, ==, 36);
	g_assert_cmpint(modes_parse("LEADER", &(uint32_t){ 0 }), ==, -1);
	g_assert_cmpstr(modes_name(42), ==, "UNKNOWN");
	g_assert_false(modes_allowed(42, QUORUM_MODE_DEGRADED));
}

static void test_breaker(void)
{
	struct modes m;

	modes_init(&m, 8, 3);
	g_assert_cmpuint(m.mode, ==, QUORUM_MODE_COLD_START);
	g_assert_cmpint(modes_set(&m, QUORUM_MODE_QUORUM_ACTIVE), ==, 1);
	/* seven rejections, an accepted event: the streak starts over */
	for (int i = 0; i < 7; i++)
		g_assert_cmpint(modes_observe(&m, 1), ==, BREAKER_SAME);
	g_assert_cmpuint(m.rejection_streak, ==, 7);
	g_assert_cmpint(modes_observe(&m, 0), ==, BREAKER_SAME);
	g_assert_cmpuint(m.rejection_streak, ==, 0);
	/* eight in a row trip it: DEGRADED */
	for (int i = 0; i < 7; i++)
		g_assert_cmpint(modes_observe(&m, 1), ==, BREAKER_SAME);
	g_assert_cmpint(modes_observe(&m, 1), ==, BREAKER_TRIPPED);
	g_assert_true(m.tripped);
	g_assert_cmpuint(m.mode, ==, QUORUM_MODE_DEGRADED);
	g_assert_cmpint(modes_observe(&m, 1), ==, BREAKER_SAME); /* tripped once */
	/* two accepted, one rejected: the run starts over; three in a row close it */
	g_assert_cmpint(modes_observe(&m, 0), ==, BREAKER_SAME);
	g_assert_cmpint(modes_observe(&m, 0), ==, BREAKER_SAME);
	g_assert_cmpint(modes_observe(&m, 1), ==, BREAKER_SAME);
	g_assert_cmpint(modes_observe(&m, 0), ==, BREAKER_SAME);
	g_assert_cmpint(modes_observe(&m, 0), ==, BREAKER_SAME);
	g_assert_cmpint(modes_observe(&m, 0), ==, BREAKER_CLOSED);
	g_assert_false(m.tripped);
	g_assert_cmpuint(m.mode, ==, QUORUM_MODE_QUORUM_ACTIVE);
	g_assert_cmpuint(m.transitions, ==, 3);
}

static void test_breaker_respects_the_table(void)
{
	struct modes m;

	/* From COLD_START a trip goes to DEGRADED, and closing it means QUORUM_ACTIVE. */
	modes_init(&m, 2, 1);
	modes_observe(&m, 1);
	g_assert_cmpint(modes_observe(&m, 1), ==, BREAKER_TRIPPED);
	g_assert_cmpuint(m.mode, ==, QUORUM_MODE_DEGRADED);
	g_assert_cmpint(modes_observe(&m, 0), ==, BREAKER_CLOSED);
	g_assert_cmpuint(m.mode, ==, QUORUM_MODE_QUORUM_ACTIVE);
	/* ISOLATED may not go to DEGRADED: the breaker trips, the mode stays. */
	modes_init(&m, 1, 1);
	g_assert_cmpint(modes_set(&m, QUORUM_MODE_ISOLATED), ==, 1);
	g_assert_cmpint(modes_observe(&m, 1), ==, BREAKER_TRIPPED);
	g_assert_cmpuint(m.mode, ==, QUORUM_MODE_ISOLATED);
	g_assert_cmpint(modes_observe(&m, 0), ==, BREAKER_CLOSED);
	g_assert_cmpuint(m.mode, ==, QUORUM_MODE_ISOLATED);
	/* A human moved it elsewhere meanwhile: closing does not override that. */
	modes_init(&m, 1, 1);
	modes_set(&m, QUORUM_MODE_QUORUM_ACTIVE);
	modes_observe(&m, 1);
	g_assert_cmpint(modes_set(&m, QUORUM_MODE_HITL_HOLD), ==, 1);
	g_assert_cmpint(modes_observe(&m, 0), ==, BREAKER_CLOSED);
	g_assert_cmpuint(m.mode, ==, QUORUM_MODE_HITL_HOLD);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/modes/seed-transition-table", test_table);
	g_test_add_func("/modes/breaker-trips-and-closes", test_breaker);
	g_test_add_func("/modes/breaker-respects-the-table", test_breaker_respects_the_table);
	return g_test_run();
}
