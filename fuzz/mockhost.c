/* mockhost.c -- the fuzz targets' host (see mockhost.h): tests/mockhost configured with a
 * fixed served clock, four sources and a fake signed attestation for attest_time. */
#include "config.h"

#include <errno.h>
#include <string.h>

#include <quorum/plugin.h>

#include "mockhost.h"
#include "signed_state.pb-c.h"

struct mockhost fuzz_mock;

/* No state folder: every name is too long. */
static int fuzz_config_path(struct quorum_host *host, const char *name, char *out, size_t size)
{
	return -ENAMETOOLONG;
}

/* A served-time SignedState as the host would encode it, with a fixed (unchecked)
 * signature: the transports only frame and forward it. */
static int fuzz_attest_time(struct quorum_host *host, const uint8_t *nonce, size_t nonce_len,
			    struct quorum_clock_reading *reading, uint8_t *out, size_t cap,
			    size_t *len)
{
	Uml001__SignedState s = UML001__SIGNED_STATE__INIT;
	uint8_t payload[64], sig[64];
	size_t need;

	fuzz_mock.api.clock_read(host, reading);
	if (reading->status != QUORUM_CLOCK_SYNCHRONISED)
		return -EAGAIN;
	if (nonce_len > 64)
		return -EINVAL;
	memset(payload, 0, sizeof(payload));
	if (nonce_len > 0)
		memcpy(payload, nonce, nonce_len);
	memset(sig, 0x5a, sizeof(sig));
	s.logical_time_ns = (uint64_t)reading->estimate_ns;
	s.event_id = (char *)"uml001.served_time";
	s.key_id = (char *)"00112233445566778899aabbccddeeff";
	s.payload.data = payload;
	s.payload.len = sizeof(payload);
	s.signature.data = sig;
	s.signature.len = sizeof(sig);
	need = uml001__signed_state__get_packed_size(&s);
	if (need > cap)
		return -ENOSPC;
	*len = uml001__signed_state__pack(&s, out);
	return 0;
}

void fuzz_host_set(struct event_base *base, int synchronised)
{
	static const char *ids[] = { "node-1", "node-2", "node-3", "ntp-1" };
	struct quorum_clock_reading *c = &fuzz_mock.clock;

	mockhost_release(&fuzz_mock);
	mockhost_init(&fuzz_mock);
	fuzz_mock.plugin_name = "fuzz";
	fuzz_mock.base = base;
	fuzz_mock.authorities =
		(struct quorum_authority_set){ .n = 4, .f = 1, .ntp_sources = 1 };
	fuzz_mock.api.config_path = fuzz_config_path;
	fuzz_mock.api.attest_time = fuzz_attest_time;
	if (!synchronised) {
		c->status = QUORUM_CLOCK_UNSYNCHRONISED;
	} else {
		c->status = QUORUM_CLOCK_SYNCHRONISED;
		c->n = 4;
		c->f = 1;
		c->accepted = 4;
		c->estimate_ns = 1750000000123456789LL;
		c->earliest_ns = c->estimate_ns - 2500000;
		c->latest_ns = c->estimate_ns + 2500000;
		c->error_bound_ns = 2500000;
		c->agreement_age_ns = 400000000;
		c->drift_ns = -1200;
		c->round = 42;
		c->warp_score = 0.25;
		memset(c->quorum_hash, 0xab, sizeof(c->quorum_hash));
	}
	for (size_t i = 0; i < 4; i++) {
		struct quorum_source_status *s = &fuzz_mock.sources[i];

		mockhost_add_source(&fuzz_mock, ids[i]);
		s->type = i == 3 ? QUORUM_AUTHORITY_NTP : QUORUM_AUTHORITY_QUORUMD;
		s->state = i == 2 ? QUORUM_SOURCE_REJECTED : QUORUM_SOURCE_ACCEPTED;
		if (i == 2)
			strcpy(s->problem, "signature_invalid");
		s->round = 42;
		s->offset_ns = (int64_t)i * 1000 - 1500;
		s->rtt_ns = 300000;
	}
}
