/* modes.h -- the control plane's state machine, without I/O: the seed's runtime modes and
 * their table of allowed transitions, and the circuit breaker (a streak of rejected events
 * trips it into DEGRADED; a run of accepted ones closes it again). control.c logs and audits
 * what these functions decide. */
#ifndef QUORUM_CONTROL_MODES_H
#define QUORUM_CONTROL_MODES_H

#include <stdint.h>

#include <quorum/control.h>

struct modes {
	uint32_t mode; /* enum quorum_mode */
	uint64_t transitions;
	/* breaker */
	uint32_t trip_after;  /* rejections in a row that trip it (the seed's 8) */
	uint32_t close_after; /* accepted events in a row that close it */
	uint32_t rejection_streak, success_streak;
	int tripped;
	uint32_t mode_before_trip; /* where a closing breaker returns to */
};

/* The name of MODE ("COLD_START", ...), or "UNKNOWN". */
const char *modes_name(uint32_t mode);

/* modes_parse: the mode named NAME into *MODE. 0 or -1. */
int modes_parse(const char *name, uint32_t *mode);

/* Whether the table allows FROM -> TO (a transition to the current mode is allowed: a no-op).
 */
int modes_allowed(uint32_t from, uint32_t to);

/* modes_init: COLD_START, breaker closed. */
void modes_init(struct modes *m, uint32_t trip_after, uint32_t close_after);

/* modes_set: moves to TO when the table allows it. RETURN VALUE: 1 moved, 0 already there,
 * -1 refused (nothing changed). */
int modes_set(struct modes *m, uint32_t to);

/* What one event's final verdict did to the breaker. */
enum breaker_change { BREAKER_SAME = 0, BREAKER_TRIPPED, BREAKER_CLOSED };

/* modes_observe: counts one final verdict (REJECTED 1: refused; 0: accepted). When the
 * breaker trips the mode becomes DEGRADED (if the table allows); when it closes, the mode
 * the trip left (QUORUM_ACTIVE when that was COLD_START). RETURN VALUE: the change. */
enum breaker_change modes_observe(struct modes *m, int rejected);

#endif /* QUORUM_CONTROL_MODES_H */
