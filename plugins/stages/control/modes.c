/* modes.c -- the runtime modes' transition table (the seed's, kept) and the circuit breaker. */
#include <string.h>

#include "modes.h"

static const char *const names[] = { "COLD_START", "QUORUM_ACTIVE", "DEGRADED",
				     "ISOLATED",   "RECOVERY",	    "HITL_HOLD" };
#define MODE_COUNT (sizeof(names) / sizeof(names[0]))
#define BIT(m)	   (1u << (m))

/* allowed[from]: the modes FROM may go to (spec/pipeline.md, "Runtime modes"). */
static const uint32_t allowed[MODE_COUNT] = {
	[QUORUM_MODE_COLD_START] = BIT(QUORUM_MODE_RECOVERY) | BIT(QUORUM_MODE_QUORUM_ACTIVE) |
				   BIT(QUORUM_MODE_DEGRADED) | BIT(QUORUM_MODE_ISOLATED) |
				   BIT(QUORUM_MODE_HITL_HOLD),
	[QUORUM_MODE_RECOVERY] = BIT(QUORUM_MODE_QUORUM_ACTIVE) | BIT(QUORUM_MODE_DEGRADED) |
				 BIT(QUORUM_MODE_ISOLATED) | BIT(QUORUM_MODE_HITL_HOLD),
	[QUORUM_MODE_QUORUM_ACTIVE] = BIT(QUORUM_MODE_DEGRADED) | BIT(QUORUM_MODE_ISOLATED) |
				      BIT(QUORUM_MODE_HITL_HOLD) | BIT(QUORUM_MODE_RECOVERY),
	[QUORUM_MODE_DEGRADED] = BIT(QUORUM_MODE_QUORUM_ACTIVE) | BIT(QUORUM_MODE_ISOLATED) |
				 BIT(QUORUM_MODE_HITL_HOLD) | BIT(QUORUM_MODE_RECOVERY),
	[QUORUM_MODE_ISOLATED] = BIT(QUORUM_MODE_RECOVERY) | BIT(QUORUM_MODE_HITL_HOLD),
	[QUORUM_MODE_HITL_HOLD] = BIT(QUORUM_MODE_RECOVERY) | BIT(QUORUM_MODE_DEGRADED) |
				  BIT(QUORUM_MODE_ISOLATED) | BIT(QUORUM_MODE_QUORUM_ACTIVE),
};

const char *modes_name(uint32_t mode)
{
	return mode < MODE_COUNT ? names[mode] : "UNKNOWN";
}

int modes_parse(const char *name, uint32_t *mode)
{
	for (uint32_t i = 0; i < MODE_COUNT; i++) {
		if (strcmp(names[i], name) == 0) {
			*mode = i;
			return 0;
		}
	}
	return -1;
}

int modes_allowed(uint32_t from, uint32_t to)
{
	if (from >= MODE_COUNT || to >= MODE_COUNT)
		return 0;
	return from == to || (allowed[from] & BIT(to)) != 0;
}

void modes_init(struct modes *m, uint32_t trip_after, uint32_t close_after)
{
	memset(m, 0, sizeof(*m));
	m->mode = QUORUM_MODE_COLD_START;
	m->trip_after = trip_after > 0 ? trip_after : 1;
	m->close_after = close_after > 0 ? close_after : 1;
}

int modes_set(struct modes *m, uint32_t to)
{
	if (!modes_allowed(m->mode, to))
		return -1;
	if (m->mode == to)
		return 0;
	m->mode = to;
	m->transitions++;
	return 1;
}

enum breaker_change modes_observe(struct modes *m, int rejected)
{
	if (rejected) {
		m->success_streak = 0;
		if (m->rejection_streak < UINT32_MAX)
			m->rejection_streak++;
		if (m->tripped || m->rejection_streak < m->trip_after)
			return BREAKER_SAME;
		m->tripped = 1;
		m->mode_before_trip = m->mode;
		modes_set(m, QUORUM_MODE_DEGRADED); /* not from ISOLATED: the table says no */
		return BREAKER_TRIPPED;
	}
	m->rejection_streak = 0;
	if (!m->tripped)
		return BREAKER_SAME;
	if (++m->success_streak < m->close_after)
		return BREAKER_SAME;
	m->tripped = 0;
	m->success_streak = 0;
	/* Back to where the trip found the node, unless something else moved it since. */
	if (m->mode == QUORUM_MODE_DEGRADED)
		modes_set(m, m->mode_before_trip == QUORUM_MODE_COLD_START ||
					     m->mode_before_trip == QUORUM_MODE_DEGRADED
				     ? QUORUM_MODE_QUORUM_ACTIVE
				     : m->mode_before_trip);
	return BREAKER_CLOSED;
}
