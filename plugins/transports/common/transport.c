/* transport.c -- the settings, listening socket and gate every TCP transport shares (see
 * transport.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "transport.h"

int transport_init(struct transport *t, struct quorum_host *host, const struct quorum_api *api,
		   const char *name, const struct transport_settings *cfg,
		   size_t max_connections)
{
	const char *address = cfg->address != NULL ? cfg->address : "";
	int err;

	*t = (struct transport){ .host = host,
				 .api = api,
				 .name = name,
				 .port = cfg->port,
				 .rate = cfg->rate_limit,
				 .burst = -1 };
	/* read, not bound: its default is the rate_limit configured (ratelimit_new) */
	api->config_int(host, "rate_burst", &t->burst);
	connlimit_read(host, api, &cfg->limits, max_connections, &t->limits);
	if (strlen(address) >= sizeof(t->address)) {
		api->log(host, QUORUM_LOG_ERROR,
			 "%s.config_invalid reason=\"address longer than %zu characters\"",
			 name, sizeof(t->address) - 1);
		return -EINVAL;
	}
	snprintf(t->address, sizeof(t->address), "%s", address);
	t->production = transport_mode_production(&cfg->tls);
	t->limit = ratelimit_new(t->rate, t->burst);
	err = t->limit == NULL || timefields_init(&t->fields) != 0
		      ? -ENOMEM
		      : bearer_load(host, api, name, t->production, &t->tokens);
	if (err == 0)
		err = transport_tls_setup(host, api, name, &cfg->tls, t->address, t->production,
					  t->tokens.count, &t->tls);
	if (err != 0)
		transport_release(t);
	return err;
}

int transport_new(size_t size, struct quorum_host *host, const struct quorum_api *api,
		  const char *name, const struct transport_settings *cfg,
		  size_t max_connections, void **out)
{
	struct transport *t = calloc(1, size);
	int err =
		t == NULL ? -ENOMEM : transport_init(t, host, api, name, cfg, max_connections);

	if (err != 0) {
		free(t);
		return err;
	}
	*out = t;
	return 0;
}

void transport_free(struct transport *t)
{
	transport_release(t);
	free(t);
}

int transport_server_new(struct transport *t, const struct tcp_server_ops *ops, void *arg)
{
	struct tcp_server_config config = { .host = t->host,
					    .api = t->api,
					    .log_prefix = t->name,
					    .limits = t->limits,
					    .ops = ops,
					    .arg = arg };

	return tcp_server_new(&config, &t->tcp);
}

int transport_start(struct transport *t, struct tcp_server *server, uint64_t watch_ms,
		    void (*watch)(void *arg), void *arg)
{
	int err = transport_listen(t, server != NULL ? server : t->tcp);

	if (err != 0)
		return err;
	t->watch = t->api->timer_start(t->host, watch_ms, watch_ms, watch, arg);
	return t->watch != NULL ? 0 : -ENOMEM;
}

int transport_listen(struct transport *t, struct tcp_server *server)
{
	int fd, err;

	err = t->api->listen(t->host, QUORUM_LISTEN_TCP, t->address, (uint16_t)t->port, &fd);
	if (err == 0) /* the core owns FD from here, also when it fails */
		err = tcp_server_listen(server, fd);
	if (err != 0)
		t->api->log(t->host, QUORUM_LOG_ERROR,
			    "%s.listen_failed address=%s port=%" PRId64 " error=\"%s\"",
			    t->name, t->address, t->port, strerror(-err));
	return err;
}

void transport_log_listening(const struct transport *t, const char *extra, ...)
{
	char more[256] = "";
	va_list ap;

	va_start(ap, extra);
	vsnprintf(more, sizeof(more), extra, ap);
	va_end(ap);
	t->api->log(t->host, QUORUM_LOG_NOTICE,
		    "%s.listening address=%s port=%" PRId64
		    "%s%s tls=%s mode=%s bearer_tokens=%zu"
		    " rate_limit=%" PRId64 " max_connections=%zu header_timeout_ms=%" PRId64
		    " idle_timeout_s=%" PRId64,
		    t->name, t->address, t->port, more[0] != '\0' ? " " : "", more,
		    transport_tls_name(t->tls), t->production ? "production" : "dev",
		    t->tokens.count, t->rate, t->limits.max_connections,
		    t->limits.header_timeout_ms, t->limits.idle_timeout_s);
}

void transport_stop(struct transport *t, const struct tcp_server *server, const char *extra,
		    ...)
{
	char more[256] = "";
	struct tcp_stats st = { 0 };
	va_list ap;

	va_start(ap, extra);
	vsnprintf(more, sizeof(more), extra, ap);
	va_end(ap);
	if (server == NULL)
		server = t->tcp;
	if (server != NULL)
		tcp_server_stats(server, &st);
	t->api->log(t->host, QUORUM_LOG_INFO,
		    "%s.stopped %s%srate_limited=%" PRIu64 " auth_failures=%" PRIu64
		    " refused_at_cap=%" PRIu64 " header_timeouts=%" PRIu64
		    " idle_timeouts=%" PRIu64,
		    t->name, more, more[0] != '\0' ? " " : "", t->rate_limited,
		    t->auth_failures, st.refused, st.header_timeouts, st.idle_timeouts);
	transport_free(t);
}

void transport_release(struct transport *t)
{
	tcp_server_free(t->tcp);
	t->tcp = NULL;
	if (t->tls != NULL)
		SSL_CTX_free(t->tls);
	t->tls = NULL;
	ratelimit_free(t->limit);
	t->limit = NULL;
	bearer_clear(&t->tokens);
	timefields_release(&t->fields);
}

void transport_drained(void *arg)
{
	struct transport *t = arg;

	t->api->drained(t->host);
}

void transport_refused(struct transport *t, const char *peer, const char *reason)
{
	if (QUORUM_API_HAS(t->api, refused))
		t->api->refused(t->host, reason, peer);
}

int transport_rate_allow(struct transport *t, const char *peer)
{
	if (ratelimit_allow(t->limit, peer, mono_now_ns()))
		return 1;
	t->rate_limited++;
	transport_refused(t, peer, "rate_limited");
	return 0;
}

int transport_token_allow(struct transport *t, const char *peer, const char *authorization)
{
	if (bearer_allowed(&t->tokens, authorization))
		return 1;
	t->auth_failures++;
	transport_refused(t, peer, "unauthorised");
	return 0;
}
