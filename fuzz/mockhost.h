/* mockhost.h -- the host for the fuzz targets that run a transport plugin's own code
 * (compiled into the target) without the daemon: tests/mockhost with no network, no
 * settings, and a served clock the target sets. */
#ifndef QUORUM_FUZZ_MOCKHOST_H
#define QUORUM_FUZZ_MOCKHOST_H

#include <stdint.h>

#include <quorum/api.h>
#include <quorum/time.h>

#include "../tests/mockhost.h"

/* The host: hand mockhost_host(&fuzz_mock) and &fuzz_mock.api to the plugin. Every setting
 * answers -ENOENT (the plugin's defaults apply). */
extern struct mockhost fuzz_mock;

/* fuzz_host_set: starts a run's host afresh: the event loop BASE (borrowed) and whether the
 * served clock is synchronised; the reading is fixed otherwise, so every run is
 * deterministic. */
void fuzz_host_set(struct event_base *base, int synchronised);

#endif /* QUORUM_FUZZ_MOCKHOST_H */
