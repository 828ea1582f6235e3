/* quorum/control.h -- the control stage's service: the node's runtime mode and its circuit
 * breaker, for the transports that report them (REST /v1/status). The control stage plugin
 * publishes it with api->service_publish; others find it with api->service_find. Every
 * function runs on the loop thread. */
#ifndef QUORUM_CONTROL_H
#define QUORUM_CONTROL_H

#include <stdint.h>

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
	void *reserved[8];
};

#ifdef __cplusplus
}
#endif

#endif /* QUORUM_CONTROL_H */
