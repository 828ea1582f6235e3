/* mockhost.h -- a host API table for the fuzz targets that run a transport plugin's own code
 * (compiled into the target) without the daemon: no network, no configuration, a served
 * clock the target sets, and logs and audit records dropped. */
#ifndef QUORUM_FUZZ_MOCKHOST_H
#define QUORUM_FUZZ_MOCKHOST_H

#include <stdint.h>

#include <quorum/api.h>
#include <quorum/time.h>

/* The table: every configuration lookup answers -ENOENT (the plugin's defaults apply). */
extern const struct quorum_api fuzz_api;

/* fuzz_host_set: the event loop BASE (borrowed) and whether the served clock is
 * synchronised; the reading is fixed otherwise, so every run is deterministic. */
void fuzz_host_set(struct event_base *base, int synchronised);

#endif /* QUORUM_FUZZ_MOCKHOST_H */
