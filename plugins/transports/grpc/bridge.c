/* bridge.c -- aegisbridge.BridgeTimeService's messages from the served clock: the time in
 * the reference bridge's shape (seconds, remainder, RFC 3339 to the microsecond,
 * uncertainty in ms), and in GetTimeAttested the sources the last round accepted and those
 * it did not, the quorum hash and the system clock's measured drift. */
#include <stdio.h>
#include <string.h>

#include "bridge.h"

void bridge_time(const struct quorum_clock_reading *now, Aegisbridge__TimeResponse *r,
		 char iso[TIMEFIELDS_ISO8601_LEN])
{
	timefields_iso8601(now->estimate_ns, iso);
	r->unix_seconds = now->estimate_ns / 1000000000;
	r->unix_nanos = now->estimate_ns % 1000000000;
	r->iso8601 = iso;
	r->uncertainty_ms = (double)now->error_bound_ns / 1e6;
	r->earliest_ns = now->earliest_ns;
	r->latest_ns = now->latest_ns;
}

void bridge_attested(const struct quorum_clock_reading *now, const struct timefields *fields,
		     Aegisbridge__AttestedTimeResponse *r, char iso[TIMEFIELDS_ISO8601_LEN],
		     char hash[65])
{
	timefields_iso8601(now->estimate_ns, iso);
	r->unix_seconds = now->estimate_ns / 1000000000;
	r->unix_nanos = now->estimate_ns % 1000000000;
	r->iso8601 = iso;
	r->uncertainty_ms = (double)now->error_bound_ns / 1e6;
	r->drift_ppm = fields->drift_ppm;
	/* protobuf-c's repeated strings are char **; it only reads them here */
	r->n_accepted_sources = fields->n_accepted;
	r->accepted_sources = (char **)fields->accepted;
	r->n_rejected_sources = fields->n_rejected;
	r->rejected_sources = (char **)fields->rejected;
	hex_encode(now->quorum_hash, QUORUM_DIGEST_LEN, hash);
	r->quorum_hash = hash;
	r->earliest_ns = now->earliest_ns;
	r->latest_ns = now->latest_ns;
	r->round = now->round;
}
