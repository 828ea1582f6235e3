/* quorum/control.h -- the control stage's service: the node's runtime mode, its circuit
 * breaker and the leaders' shared states it applied, for the transports that report them
 * (REST /v1/status, POST /time/shared-state). The control stage plugin publishes it with
 * api->service_publish; others find it with api->service_find. Every function runs on the
 * loop thread. */
#ifndef QUORUM_CONTROL_H
#define QUORUM_CONTROL_H

#include <stdint.h>

#include <quorum/event.h>

#ifdef __cplusplus
extern "C" {
#endif

#define QUORUM_CONTROL_SERVICE "quorum.control/1"

/* The seed's runtime modes. */
enum quorum_mode {
	QUORUM_MODE_COLD_START = 0,
	QUORUM_MODE_QUORUM_ACTIVE = 1,
	QUORUM_MODE_DEGRADED = 2,
	QUORUM_MODE_ISOLATED = 3,
	QUORUM_MODE_RECOVERY = 4,
	QUORUM_MODE_HITL_HOLD = 5,
};

/* A leader's shared state as the control stage last applied it (<quorum/sharedstate.h>):
 * what the leader signed, and when this node recorded it. Applying never moves the served
 * clock: the node records and verifies it only. */
struct quorum_shared_state_applied {
	uint64_t version;	  /* monotonic_version */
	int64_t agreed_time_ns;	  /* shared_agreed_time */
	int64_t applied_drift_ns; /* shared_applied_drift */
	int64_t leader_time_ns;	  /* leader_system_time_at_sync */
	double warp_score;
	int64_t applied_at_ns; /* this node's served estimate when it applied it */
	char key_id[QUORUM_KEY_ID_MAX + 1];
	uint64_t reserved[4];
};

struct quorum_control_ops {
	uint32_t size; /* sizeof(struct quorum_control_ops) as the control stage was built */
	/* The current mode (enum quorum_mode) and its name ("QUORUM_ACTIVE", ...; static). */
	uint32_t (*mode)(void *control);
	const char *(*mode_name)(void *control);
	/* The circuit breaker: 1 while tripped; the current streak of rejected events. */
	int (*breaker_tripped)(void *control);
	uint32_t (*rejection_streak)(void *control);
	/* Mode transitions since the start. */
	uint64_t (*transitions)(void *control);
	/* ---- carved out of the reserved slots with ABI 1.5, so the table keeps its size:
	 * NULL in a control stage built before; test the member before calling it ---- */
	/* The shared state last applied from leader LEADER_ID into *OUT. 0 or -ENOENT. */
	int (*shared_state)(void *control, const char *leader_id,
			    struct quorum_shared_state_applied *out);
	/* The specific reason of the last shared-state event the control stage decided
	 * ("stale_version", ...; "" when it was applied; static), and in *DECISIONS how many it
	 * has decided so far: a transport that reads DECISIONS before it ingests one and finds
	 * it one higher after knows the reason is its event's. */
	const char *(*shared_state_last)(void *control, uint64_t *decisions);
	/* ---- carved out with ABI 1.6 ---- */
	/* Another stage holds the event in flight for an operator (it returns QUORUM_HOLD):
	 * HOLD_ID (16 lowercase hex digits: the first 8 bytes of SHA-256 of the encoded event)
	 * becomes a hold of the HITL gate, WHAT (printable, for the audit log) says what waits.
	 * An operator's signed hitl.approve / hitl.reject naming it is then accepted by the
	 * control stage (once, before hitl_timeout_s); the holding stage acts when it sees
	 * that event's final verdict. 0, or -EINVAL / -ENOSPC. */
	int (*hold_register)(void *control, const char *hold_id, const char *what);
	void *reserved[5];
};

#ifdef __cplusplus
}
#endif

#endif /* QUORUM_CONTROL_H */
