/* bridge.h -- the messages of aegisbridge.BridgeTimeService (proto/bridge_service.proto)
 * built from a reading of the served clock and the fields every transport derives from it
 * (timefields.h). No I/O: grpc.c serves them. */
#ifndef QUORUM_GRPC_BRIDGE_H
#define QUORUM_GRPC_BRIDGE_H

#include <stddef.h>
#include <stdint.h>

#include <quorum/time.h>

#include "bridge_service.pb-c.h"
#include "timefields.h"

/* Fills R (strings point into ISO) from a synchronised reading NOW. */
void bridge_time(const struct quorum_clock_reading *now, Aegisbridge__TimeResponse *r,
		 char iso[TIMEFIELDS_ISO8601_LEN]);

/* Fills R from NOW and FIELDS (timefields_update for NOW, with sources): R's repeated fields
 * point into FIELDS, its strings into ISO and HASH (65 bytes, the hex quorum hash). The
 * attestation is the caller's. */
void bridge_attested(const struct quorum_clock_reading *now, const struct timefields *fields,
		     Aegisbridge__AttestedTimeResponse *r, char iso[TIMEFIELDS_ISO8601_LEN],
		     char hash[65]);

#endif /* QUORUM_GRPC_BRIDGE_H */
