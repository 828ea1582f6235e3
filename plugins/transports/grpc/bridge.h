/* bridge.h -- the messages of aegisbridge.BridgeTimeService (proto/bridge_service.proto)
 * built from a reading of the served clock and the node's source status. No I/O: grpc.c
 * serves them. */
#ifndef QUORUM_GRPC_BRIDGE_H
#define QUORUM_GRPC_BRIDGE_H

#include <stddef.h>
#include <stdint.h>

#include <quorum/time.h>

#include "bridge_service.pb-c.h"

/* The rate of the system clock against agreed time, from two agreements far enough apart. */
struct bridge_drift {
	int have_first;
	int64_t first_estimate_ns, first_drift_ns;
	uint64_t first_round;
};

/* Fills R (strings point into ISO, 40 bytes) from a synchronised reading NOW. */
void bridge_time(const struct quorum_clock_reading *now, Aegisbridge__TimeResponse *r,
		 char iso[40]);

/* Fills R from NOW, the sources' status (SOURCES, COUNT) and the drift tracker D (updated).
 * ACCEPTED and REJECTED (COUNT entries each) receive the ids R's repeated fields point to;
 * HASH (65 bytes) the hex quorum hash. The attestation is the caller's. */
void bridge_attested(const struct quorum_clock_reading *now,
		     const struct quorum_source_status *sources, size_t count,
		     struct bridge_drift *d, Aegisbridge__AttestedTimeResponse *r, char iso[40],
		     char **accepted, char **rejected, char hash[65]);

/* The drift in ppm that D measures at NOW (+: the system clock runs fast), 0 until two
 * agreements at least 10 s apart were seen. Updates D. */
double bridge_drift_ppm(struct bridge_drift *d, const struct quorum_clock_reading *now);

#endif /* QUORUM_GRPC_BRIDGE_H */
