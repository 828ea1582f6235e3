/* mockhost.c -- the fuzz targets' host API table (see mockhost.h): a fixed served clock, a
 * fake signed attestation for attest_time, everything else absent or a no-op. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>

#include <quorum/plugin.h>

#include "mockhost.h"
#include "signed_state.pb-c.h"

static struct event_base *fuzz_base;
static int fuzz_synchronised = 1;

void fuzz_host_set(struct event_base *base, int synchronised)
{
	fuzz_base = base;
	fuzz_synchronised = synchronised;
}

static void mock_log(struct quorum_host *host, int level, const char *fmt, ...)
{
}

static void mock_vlog(struct quorum_host *host, int level, const char *fmt, va_list ap)
{
}

static int mock_audit(struct quorum_host *host, const char *type, const char *fmt, ...)
{
	return 0;
}

static int mock_config_string(struct quorum_host *host, const char *path, const char **out)
{
	return -ENOENT;
}

static int mock_config_int(struct quorum_host *host, const char *path, int64_t *out)
{
	return -ENOENT;
}

static int mock_config_bool(struct quorum_host *host, const char *path, int *out)
{
	return -ENOENT; /* every setting at its default */
}

static int mock_config_length(struct quorum_host *host, const char *path)
{
	return -ENOENT;
}

static int mock_config_path(struct quorum_host *host, const char *name, char *out, size_t size)
{
	return -ENAMETOOLONG;
}

static struct event_base *mock_event_base(struct quorum_host *host)
{
	return fuzz_base;
}

static struct quorum_timer *mock_timer_start(struct quorum_host *host, uint64_t after_ms,
					     uint64_t every_ms, quorum_callback cb, void *arg)
{
	return NULL;
}

static void mock_timer_stop(struct quorum_host *host, struct quorum_timer *timer)
{
}

static const char *mock_node_id(struct quorum_host *host)
{
	return "node-1";
}

static const char *mock_plugin_name(struct quorum_host *host)
{
	return "fuzz";
}

static int mock_authority_set(struct quorum_host *host, struct quorum_authority_set *out)
{
	*out = (struct quorum_authority_set){ .n = 4, .f = 1, .ntp_sources = 1 };
	return 0;
}

static int mock_clock_read(struct quorum_host *host, struct quorum_clock_reading *out)
{
	memset(out, 0, sizeof(*out));
	if (!fuzz_synchronised) {
		out->status = QUORUM_CLOCK_UNSYNCHRONISED;
		return 0;
	}
	out->status = QUORUM_CLOCK_SYNCHRONISED;
	out->n = 4;
	out->f = 1;
	out->accepted = 4;
	out->estimate_ns = 1750000000123456789LL;
	out->earliest_ns = out->estimate_ns - 2500000;
	out->latest_ns = out->estimate_ns + 2500000;
	out->error_bound_ns = 2500000;
	out->agreement_age_ns = 400000000;
	out->drift_ns = -1200;
	out->round = 42;
	out->warp_score = 0.25;
	memset(out->quorum_hash, 0xab, sizeof(out->quorum_hash));
	return 0;
}

/* A served-time SignedState as the host would encode it, with a fixed (unchecked)
 * signature: the transports only frame and forward it. */
static int mock_attest_time(struct quorum_host *host, const uint8_t *nonce, size_t nonce_len,
			    struct quorum_clock_reading *reading, uint8_t *out, size_t cap,
			    size_t *len)
{
	Uml001__SignedState s = UML001__SIGNED_STATE__INIT;
	uint8_t payload[64], sig[64];
	size_t need;

	mock_clock_read(host, reading);
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

static int mock_service_find(struct quorum_host *host, const char *name, const void **ops,
			     void **state)
{
	return -ENOENT;
}

static int mock_sources_status(struct quorum_host *host, struct quorum_source_status *out,
			       size_t cap, size_t *count)
{
	static const char *ids[] = { "node-1", "node-2", "node-3", "ntp-1" };

	*count = 4;
	for (size_t i = 0; i < 4 && i < cap; i++) {
		memset(&out[i], 0, sizeof(out[i]));
		out[i].id = ids[i];
		out[i].type = i == 3 ? QUORUM_AUTHORITY_NTP : QUORUM_AUTHORITY_QUORUMD;
		out[i].state = i == 2 ? QUORUM_SOURCE_REJECTED : QUORUM_SOURCE_ACCEPTED;
		if (i == 2)
			strcpy(out[i].problem, "signature_invalid");
		out[i].round = 42;
		out[i].offset_ns = (int64_t)i * 1000 - 1500;
		out[i].rtt_ns = 300000;
	}
	return 0;
}

const struct quorum_api fuzz_api = {
	.size = sizeof(struct quorum_api),
	.abi_major = QUORUM_ABI_MAJOR,
	.abi_minor = QUORUM_ABI_MINOR,
	.log = mock_log,
	.vlog = mock_vlog,
	.config_string = mock_config_string,
	.config_int = mock_config_int,
	.config_bool = mock_config_bool,
	.config_length = mock_config_length,
	.config_path = mock_config_path,
	.event_base = mock_event_base,
	.timer_start = mock_timer_start,
	.timer_stop = mock_timer_stop,
	.audit = mock_audit,
	.node_id = mock_node_id,
	.plugin_name = mock_plugin_name,
	.authority_set = mock_authority_set,
	.clock_read = mock_clock_read,
	.attest_time = mock_attest_time,
	.service_find = mock_service_find,
	.sources_status = mock_sources_status,
};
