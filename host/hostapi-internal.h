/* hostapi-internal.h -- the host API table (<quorum/api.h>) every plugin's init receives:
 * hostapi.c, the one file that knows the runtime, the time core, the failsafe and the
 * orchestrator together. The runtime hands it to instances through their environment. */
#ifndef QUORUM_HOSTAPI_INTERNAL_H
#define QUORUM_HOSTAPI_INTERNAL_H

#include <quorum/api.h>

extern const struct quorum_api host_api;

#endif /* QUORUM_HOSTAPI_INTERNAL_H */
