/* mockhost.c -- the unit tests' fake host (see mockhost.h): every entry answers from the
 * struct mockhost the host handle points at, and records what the plugin asked for. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mockhost.h"

struct quorum_host *mockhost_host(struct mockhost *m)
{
	return (struct quorum_host *)m;
}

struct mockhost *mockhost_of(struct quorum_host *host)
{
	return (struct mockhost *)host;
}

int mockhost_set(struct mockhost *m, const char *path, const char *value)
{
	for (size_t i = 0; i < m->config_count; i++) {
		if (strcmp(m->config[i].path, path) == 0) {
			m->config[i].value = value;
			return 0;
		}
	}
	if (m->config_count == MOCKHOST_CONFIG_MAX)
		return -ENOSPC;
	m->config[m->config_count].path = path;
	m->config[m->config_count++].value = value;
	return 0;
}

int mockhost_add_source(struct mockhost *m, const char *id)
{
	if (m->source_count == MOCKHOST_SOURCES_MAX)
		return -ENOSPC;
	m->sources[m->source_count++] =
		(struct quorum_source_status){ .id = id, .type = QUORUM_AUTHORITY_QUORUMD };
	return 0;
}

static const char *setting(struct mockhost *m, const char *path)
{
	for (size_t i = 0; i < m->config_count; i++) {
		if (strcmp(m->config[i].path, path) == 0)
			return m->config[i].value;
	}
	return NULL;
}

void mockhost_release(struct mockhost *m)
{
	free(m->log_all);
	m->log_all = NULL;
	m->log_all_len = 0;
}

const char *mockhost_logs(const struct mockhost *m)
{
	return m->log_all != NULL ? m->log_all : "";
}

/* The line is kept whole in the history (out of memory: abort, this is a test). */
static void mock_vlog(struct quorum_host *host, int level, const char *fmt, va_list ap)
{
	struct mockhost *m = mockhost_of(host);
	va_list again;
	int n;

	(void)level;
	m->logs++;
	va_copy(again, ap);
	n = vsnprintf(m->log, sizeof(m->log), fmt, ap);
	if (n >= 0) {
		char *grown = realloc(m->log_all, m->log_all_len + (size_t)n + 2);

		if (grown == NULL)
			abort();
		m->log_all = grown;
		vsnprintf(m->log_all + m->log_all_len, (size_t)n + 1, fmt, again);
		m->log_all_len += (size_t)n;
		m->log_all[m->log_all_len++] = '\n';
		m->log_all[m->log_all_len] = '\0';
	}
	va_end(again);
}

static void mock_log(struct quorum_host *host, int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	mock_vlog(host, level, fmt, ap);
	va_end(ap);
}

static int mock_audit(struct quorum_host *host, const char *type, const char *fmt, ...)
{
	struct mockhost *m = mockhost_of(host);
	va_list ap;
	int n = snprintf(m->audit, sizeof(m->audit), "%s ", type);

	if (n < 0 || (size_t)n >= sizeof(m->audit))
		return -ENOSPC;
	va_start(ap, fmt);
	vsnprintf(m->audit + n, sizeof(m->audit) - (size_t)n, fmt, ap);
	va_end(ap);
	m->audits++;
	return 0;
}

static void mock_refused(struct quorum_host *host, const char *reason, const char *peer)
{
	struct mockhost *m = mockhost_of(host);

	m->refusals++;
	snprintf(m->refusal, sizeof(m->refusal), "%s", reason);
	snprintf(m->refusal_peer, sizeof(m->refusal_peer), "%s", peer != NULL ? peer : "");
}

static int mock_config_string(struct quorum_host *host, const char *path, const char **out)
{
	const char *v = setting(mockhost_of(host), path);

	if (v == NULL)
		return -ENOENT;
	*out = v;
	return 0;
}

static int mock_config_int(struct quorum_host *host, const char *path, int64_t *out)
{
	const char *v = setting(mockhost_of(host), path);
	char *end;
	long long n;

	if (v == NULL)
		return -ENOENT;
	errno = 0;
	n = strtoll(v, &end, 10);
	if (errno != 0 || end == v || *end != '\0')
		return -EINVAL;
	*out = n;
	return 0;
}

static int mock_config_bool(struct quorum_host *host, const char *path, int *out)
{
	const char *v = setting(mockhost_of(host), path);

	if (v == NULL)
		return -ENOENT;
	if (strcmp(v, "true") != 0 && strcmp(v, "false") != 0)
		return -EINVAL;
	*out = strcmp(v, "true") == 0;
	return 0;
}

static int mock_config_length(struct quorum_host *host, const char *path)
{
	struct mockhost *m = mockhost_of(host);
	char element[256];
	int n = 0;

	for (;; n++) {
		int len = snprintf(element, sizeof(element), "%s.[%d]", path, n);

		if (len < 0 || (size_t)len >= sizeof(element) || setting(m, element) == NULL)
			break;
	}
	return n > 0 ? n : -ENOENT;
}

static int mock_config_path(struct quorum_host *host, const char *name, char *out, size_t size)
{
	struct mockhost *m = mockhost_of(host);
	int n;

	if (name[0] == '/')
		n = snprintf(out, size, "%s", name);
	else if (m->config_dir != NULL)
		n = snprintf(out, size, "%s/%s", m->config_dir, name);
	else
		return -ENOENT;
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

static struct event_base *mock_event_base(struct quorum_host *host)
{
	return mockhost_of(host)->base;
}

/* Recorded, never fired: a test runs a timer's callback itself when it wants it. */
static struct quorum_timer *mock_timer_start(struct quorum_host *host, uint64_t after_ms,
					     uint64_t every_ms, quorum_callback cb, void *arg)
{
	struct mockhost *m = mockhost_of(host);
	struct mockhost_timer *t;

	if (m->timer_count == MOCKHOST_TIMERS_MAX)
		return NULL;
	t = &m->timers[m->timer_count++];
	*t = (struct mockhost_timer){ after_ms, every_ms, cb, arg, 0 };
	return (struct quorum_timer *)t;
}

static void mock_timer_stop(struct quorum_host *host, struct quorum_timer *timer)
{
	(void)host;
	if (timer != NULL)
		((struct mockhost_timer *)timer)->stopped = 1;
}

int mockhost_timers_running(const struct mockhost *m)
{
	int n = 0;

	for (int i = 0; i < m->timer_count; i++)
		n += !m->timers[i].stopped;
	return n;
}

void *mockhost_service(const struct mockhost *m, const char *name, const void **ops)
{
	for (int i = m->service_count - 1; i >= 0; i--) {
		if (strcmp(m->services[i].name, name) == 0) {
			if (ops != NULL)
				*ops = m->services[i].ops;
			return m->services[i].state;
		}
	}
	return NULL;
}

static const char *mock_node_id(struct quorum_host *host)
{
	return mockhost_of(host)->node_id;
}

static const char *mock_plugin_name(struct quorum_host *host)
{
	return mockhost_of(host)->plugin_name;
}

static int mock_authority_set(struct quorum_host *host, struct quorum_authority_set *out)
{
	*out = mockhost_of(host)->authorities;
	return 0;
}

static int mock_clock_read(struct quorum_host *host, struct quorum_clock_reading *out)
{
	*out = mockhost_of(host)->clock;
	return 0;
}

static int mock_service_publish(struct quorum_host *host, const char *name, const void *ops,
				void *state)
{
	struct mockhost *m = mockhost_of(host);

	if (m->service_count == MOCKHOST_SERVICES_MAX)
		return -ENOSPC;
	m->services[m->service_count].name = name;
	m->services[m->service_count].ops = ops;
	m->services[m->service_count++].state = state;
	return 0;
}

static int mock_service_find(struct quorum_host *host, const char *name, const void **ops,
			     void **state)
{
	const void *found_ops = NULL;
	void *found = mockhost_service(mockhost_of(host), name, &found_ops);

	if (found_ops == NULL)
		return -ENOENT;
	*ops = found_ops;
	*state = found;
	return 0;
}

static int mock_sources_status(struct quorum_host *host, struct quorum_source_status *out,
			       size_t cap, size_t *count)
{
	struct mockhost *m = mockhost_of(host);

	for (size_t i = 0; i < m->source_count && i < cap; i++)
		out[i] = m->sources[i];
	*count = m->source_count;
	return 0;
}

/* The test's intervals, each named after its source; a struct smaller than ABI 1.13's is
 * refused as the host refuses it. */
static int mock_source_intervals(struct quorum_host *host, struct quorum_round_intervals *round,
				 size_t round_size, struct quorum_source_interval *sources,
				 size_t cap)
{
	struct mockhost *m = mockhost_of(host);

	if (round_size < sizeof(*round))
		return -EINVAL;
	memset(round, 0, round_size);
	*round = m->intervals;
	round->count = (uint32_t)m->source_count;
	for (size_t i = 0; i < m->source_count && i < cap; i++) {
		sources[i] = m->source_intervals[i];
		sources[i].id = m->sources[i].id;
	}
	return 0;
}

/* Recorded, and the source (when listed) is marked quarantined. */
static int mock_source_quarantine(struct quorum_host *host, const char *id, int64_t duration_ns,
				  const char *reason)
{
	struct mockhost *m = mockhost_of(host);

	m->quarantine_calls++;
	snprintf(m->quarantine_id, sizeof(m->quarantine_id), "%s", id);
	snprintf(m->quarantine_reason, sizeof(m->quarantine_reason), "%s", reason);
	m->quarantine_ns = duration_ns;
	for (size_t i = 0; i < m->source_count; i++) {
		if (strcmp(m->sources[i].id, id) == 0)
			m->sources[i].quarantined = 1;
	}
	return 0;
}

static int mock_authority_verify(struct quorum_host *host, const char *authority_id,
				 const char *claimed_key_id, const void *msg, size_t len,
				 const void *sig, size_t sig_len)
{
	struct mockhost *m = mockhost_of(host);

	m->verify_calls++;
	if (m->authority_verify == NULL)
		return -ENOENT;
	return m->authority_verify(m, authority_id, claimed_key_id, msg, len, sig, sig_len);
}

static const void *mock_settings(struct quorum_host *host)
{
	return mockhost_of(host)->settings;
}

void mockhost_init(struct mockhost *m)
{
	memset(m, 0, sizeof(*m));
	m->api = (struct quorum_api){
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
		.service_publish = mock_service_publish,
		.service_find = mock_service_find,
		.sources_status = mock_sources_status,
		.source_intervals = mock_source_intervals,
		.source_quarantine = mock_source_quarantine,
		.authority_verify = mock_authority_verify,
		.refused = mock_refused,
		.settings = mock_settings,
	};
	m->node_id = "node-1";
	m->plugin_name = "mock";
}
