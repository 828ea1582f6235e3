/* tcpserver.c -- the TCP server core every TCP transport runs on (see tcpserver.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/bufferevent_ssl.h>
#include <event2/listener.h>

#include "tcpserver.h"

#define ACCEPT_RETRY_MS 100 /* after accept() failed for want of descriptors or memory */

struct tcp_server {
	struct tcp_server_config config;
	struct event_base *base;
	struct evconnlistener *listener;
	struct event *accept_retry;
	struct tcp_conn *conns;
	size_t count;
	int draining;
	void (*drained)(void *arg);
	void *drained_arg;
	struct timeval header_tv, idle_tv;
	const struct timeval *header, *idle; /* the same, as common timeouts where possible */
	struct connlimit_log refused, header_timeouts, accept_failures;
	uint64_t idle_timeouts;
	/* The same in the node's metrics, labelled with the transport (ABI 1.11; NULL on an
	 * older host). A reloaded transport's server adds into the same series. */
	struct quorum_metric *m_open, *m_accepted, *m_refused, *m_header, *m_idle;
};

static void server_metric_add(const struct tcp_server *s, struct quorum_metric *m, int64_t d)
{
	if (m != NULL)
		s->config.api->metric_add(m, d);
}

/* S's series: quorum_transport_connections_*{transport="rest|ws|grpc"}. */
static void server_metrics_register(struct tcp_server *s)
{
	static const char closed[] = "Client connections the server closed: refused at "
				     "max_connections, a request not in by header_timeout_ms, "
				     "idle for idle_timeout_s.";
	const struct quorum_api *api = s->config.api;
	struct quorum_host *host = s->config.host;
	char labels[96];
	size_t n;

	if (!QUORUM_API_HAS(api, metric_register))
		return;
	n = (size_t)snprintf(labels, sizeof(labels), "transport=\"%s\"", s->config.log_prefix);
	if (n >= sizeof(labels) - 32)
		return;
	s->m_open = api->metric_register(host, QUORUM_METRIC_GAUGE,
					 "quorum_transport_connections_open", labels,
					 "Client connections open now.", 1.0);
	s->m_accepted = api->metric_register(host, QUORUM_METRIC_COUNTER,
					     "quorum_transport_connections_accepted_total",
					     labels, "Client connections taken on.", 1.0);
	snprintf(labels + n, sizeof(labels) - n, ",reason=\"refused\"");
	s->m_refused = api->metric_register(host, QUORUM_METRIC_COUNTER,
					    "quorum_transport_connections_closed_total", labels,
					    closed, 1.0);
	snprintf(labels + n, sizeof(labels) - n, ",reason=\"header_timeout\"");
	s->m_header = api->metric_register(host, QUORUM_METRIC_COUNTER,
					   "quorum_transport_connections_closed_total", labels,
					   closed, 1.0);
	snprintf(labels + n, sizeof(labels) - n, ",reason=\"idle_timeout\"");
	s->m_idle = api->metric_register(host, QUORUM_METRIC_COUNTER,
					 "quorum_transport_connections_closed_total", labels,
					 closed, 1.0);
}

static void format_peer(const struct sockaddr *addr, char out[INET6_ADDRSTRLEN])
{
	const void *a = NULL;

	if (addr->sa_family == AF_INET)
		a = &((const struct sockaddr_in *)addr)->sin_addr;
	else if (addr->sa_family == AF_INET6)
		a = &((const struct sockaddr_in6 *)addr)->sin6_addr;
	if (a == NULL || inet_ntop(addr->sa_family, a, out, INET6_ADDRSTRLEN) == NULL)
		snprintf(out, INET6_ADDRSTRLEN, "-");
}

/* ---- connections ---- */

void tcp_conn_close(struct tcp_conn *c)
{
	struct tcp_server *s = c->server;

	s->config.ops->release(c, s->config.arg);
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	s->count--;
	server_metric_add(s, s->m_open, -1);
	if (c->timer != NULL)
		event_free(c->timer);
	free(c);
	if (s->draining && s->count == 0 && s->drained != NULL) {
		void (*done)(void *) = s->drained;

		s->drained = NULL;
		done(s->drained_arg);
	}
}

/* Counts (and for a header deadline logs, at most once a second) a deadline that passed. */
static void count_expired(struct tcp_conn *c, enum tcp_deadline kind, const char *what)
{
	struct tcp_server *s = c->server;

	server_metric_add(s, kind == TCP_DEADLINE_HEADER ? s->m_header : s->m_idle, 1);
	if (kind == TCP_DEADLINE_HEADER) {
		uint64_t n = connlimit_log_hit(&s->header_timeouts);

		if (n > 0)
			s->config.api->log(s->config.host, QUORUM_LOG_INFO,
					   "%s.header_timeout peer=%s reason=\"%s not complete "
					   "within %" PRId64 " ms: closed\" count=%" PRIu64
					   " total=%" PRIu64,
					   s->config.log_prefix, c->peer,
					   what != NULL ? what : "request",
					   s->config.limits.header_timeout_ms, n,
					   s->header_timeouts.total);
	} else {
		s->idle_timeouts++;
	}
}

/* A deadline of the core's passed: counted, then the transport says goodbye, or C closes. */
static void conn_expired(struct tcp_conn *c, enum tcp_deadline kind, const char *what)
{
	const struct tcp_server_ops *ops = c->server->config.ops;

	count_expired(c, kind, what);
	if (ops->expired == NULL || ops->expired(c, kind, c->server->config.arg) == 0)
		tcp_conn_close(c);
}

void tcp_conn_timed_out(struct tcp_conn *c, enum tcp_deadline kind, const char *what)
{
	count_expired(c, kind, what);
	tcp_conn_close(c);
}

static void timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct tcp_conn *c = arg;
	const struct tcp_server_ops *ops = c->server->config.ops;
	enum tcp_deadline kind = c->due_kind;

	(void)fd;
	(void)what;
	if (kind == TCP_DEADLINE_NONE)
		return;
	if (ops->due != NULL) { /* the deadline C has now */
		c->due_ns = ops->due(c, &c->due_kind, &c->due_what, c->server->config.arg);
		kind = c->due_ns != 0 ? c->due_kind : TCP_DEADLINE_NONE;
		c->due_kind = kind;
		if (kind == TCP_DEADLINE_NONE)
			return;
	}
	if (mono_now_ns() < c->due_ns) { /* not yet (or a clock read ran ahead of the timer) */
		if (tcp_conn_deadline_at(c, kind, c->due_ns, c->due_what) != 0)
			tcp_conn_close(c);
		return;
	}
	c->due_kind = TCP_DEADLINE_NONE;
	conn_expired(c, kind, c->due_what);
}

static int timer_arm(struct tcp_conn *c, const struct timeval *tv)
{
	if (c->timer == NULL) {
		c->timer = evtimer_new(c->server->base, timer_cb, c);
		if (c->timer == NULL)
			return -ENOMEM;
	}
	return evtimer_add(c->timer, tv) == 0 ? 0 : -ENOMEM;
}

int tcp_conn_deadline_start(struct tcp_conn *c, enum tcp_deadline kind, const char *what)
{
	struct tcp_server *s = c->server;
	int err;

	if (c->due_kind == kind)
		return 0;
	err = timer_arm(c, kind == TCP_DEADLINE_HEADER ? s->header : s->idle);
	if (err != 0)
		return err;
	c->due_kind = kind;
	c->due_what = what;
	c->due_ns = mono_now_ns() + tcp_server_timeout_ns(s, kind);
	return 0;
}

int tcp_conn_deadline_at(struct tcp_conn *c, enum tcp_deadline kind, int64_t due_ns,
			 const char *what)
{
	/* never early: the deadline has passed when the timer fires */
	int64_t wait_us = (due_ns - mono_now_ns()) / 1000 + 1;
	struct timeval tv;
	int err;

	if (wait_us < 1)
		wait_us = 1;
	tv.tv_sec = (time_t)(wait_us / 1000000);
	tv.tv_usec = (suseconds_t)(wait_us % 1000000);
	err = timer_arm(c, &tv);
	if (err != 0)
		return err;
	c->due_kind = kind;
	c->due_what = what;
	c->due_ns = due_ns;
	return 0;
}

void tcp_conn_deadline_clear(struct tcp_conn *c)
{
	if (c->due_kind == TCP_DEADLINE_NONE)
		return;
	c->due_kind = TCP_DEADLINE_NONE;
	evtimer_del(c->timer);
}

enum tcp_deadline tcp_conn_deadline_kind(const struct tcp_conn *c)
{
	return c->due_kind;
}

int64_t tcp_conn_deadline_due(const struct tcp_conn *c)
{
	return c->due_kind != TCP_DEADLINE_NONE ? c->due_ns : 0;
}

struct tcp_conn *tcp_conn_next(const struct tcp_conn *c)
{
	return c->next;
}

struct bufferevent *tcp_conn_bufferevent(struct tcp_conn *c, SSL_CTX *tls)
{
	struct event_base *base = c->server->base;
	struct bufferevent *bev;
	SSL *ssl;

	if (tls == NULL)
		return bufferevent_socket_new(base, c->fd, BEV_OPT_CLOSE_ON_FREE);
	ssl = SSL_new(tls);
	if (ssl == NULL)
		return NULL;
	bev = bufferevent_openssl_socket_new(base, c->fd, ssl, BUFFEREVENT_SSL_ACCEPTING,
					     BEV_OPT_CLOSE_ON_FREE);
	if (bev == NULL) {
		SSL_free(ssl);
		return NULL;
	}
	bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	return bev;
}

/* ---- accepting ---- */

/* Logs a refusal of a new connection, at most once a second (LOG counts them). */
static void log_refusal(struct tcp_server *s, struct connlimit_log *log, int level,
			const char *event, const char *peer, const char *reason)
{
	uint64_t n = connlimit_log_hit(log);

	if (n > 0)
		s->config.api->log(s->config.host, level,
				   "%s.%s peer=%s reason=\"%s\" count=%" PRIu64
				   " total=%" PRIu64,
				   s->config.log_prefix, event, peer, reason, n, log->total);
}

struct tcp_conn *tcp_server_adopt(struct tcp_server *s, evutil_socket_t fd, const char *peer)
{
	struct tcp_conn *c;
	char reason[96];

	if (s->count >=
	    s->config.limits.max_connections) { /* closed at once, before any cost */
		snprintf(reason, sizeof(reason), "%zu connections open, max_connections",
			 s->count);
		log_refusal(s, &s->refused, QUORUM_LOG_INFO, "connection_refused", peer,
			    reason);
		server_metric_add(s, s->m_refused, 1);
		evutil_closesocket(fd);
		return NULL;
	}
	c = calloc(1, s->config.ops->conn_size);
	if (c != NULL) {
		c->server = s;
		c->fd = fd;
		snprintf(c->peer, sizeof(c->peer), "%s", peer);
		if (s->config.ops->open(c, s->config.arg) != 0) {
			fd = c->fd; /* -1 when the transport's I/O closed it */
			if (c->timer != NULL)
				event_free(c->timer);
			free(c);
			c = NULL;
		}
	}
	if (c == NULL) {
		log_refusal(s, &s->accept_failures, QUORUM_LOG_WARNING, "connection_refused",
			    peer, "out of memory");
		if (fd >= 0)
			evutil_closesocket(fd);
		return NULL;
	}
	c->next = s->conns;
	if (s->conns != NULL)
		s->conns->prev = c;
	s->conns = c;
	s->count++;
	server_metric_add(s, s->m_open, 1);
	server_metric_add(s, s->m_accepted, 1);
	return c;
}

static void accept_cb(struct evconnlistener *listener, evutil_socket_t fd,
		      struct sockaddr *addr, int socklen, void *arg)
{
	char peer[INET6_ADDRSTRLEN];

	(void)listener;
	(void)socklen;
	format_peer(addr, peer);
	tcp_server_adopt(arg, fd, peer);
}

static void accept_retry_cb(evutil_socket_t fd, short what, void *arg)
{
	struct tcp_server *s = arg;

	(void)fd;
	(void)what;
	if (s->listener != NULL)
		evconnlistener_enable(s->listener);
}

/* Out of descriptors (or memory) the listening socket stays readable: pause, or the loop
 * spins on accept(). */
static void accept_error_cb(struct evconnlistener *listener, void *arg)
{
	struct tcp_server *s = arg;
	struct timeval retry = { 0, ACCEPT_RETRY_MS * 1000 };

	log_refusal(s, &s->accept_failures, QUORUM_LOG_WARNING, "accept_failed", "-",
		    strerror(EVUTIL_SOCKET_ERROR()));
	evconnlistener_disable(listener);
	event_add(s->accept_retry, &retry);
}

/* ---- the server ---- */

int tcp_server_new(const struct tcp_server_config *config, struct tcp_server **out)
{
	struct tcp_server *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return -ENOMEM;
	s->config = *config;
	server_metrics_register(s);
	s->base = config->api->event_base(config->host);
	s->header_tv = config->limits.header_timeout;
	s->idle_tv = config->limits.idle_timeout;
	s->header = event_base_init_common_timeout(s->base, &s->header_tv);
	if (s->header == NULL)
		s->header = &s->header_tv;
	s->idle = event_base_init_common_timeout(s->base, &s->idle_tv);
	if (s->idle == NULL)
		s->idle = &s->idle_tv;
	s->accept_retry = evtimer_new(s->base, accept_retry_cb, s);
	if (s->accept_retry == NULL) {
		free(s);
		return -ENOMEM;
	}
	*out = s;
	return 0;
}

int tcp_server_listen(struct tcp_server *s, int fd)
{
	if (s->listener != NULL) {
		close(fd);
		return -EBUSY;
	}
	/* Backlog 0: the host's socket listens already, with its backlog (511); -1 would have
	 * libevent listen() again with 128, and bursts of connections overflow that. */
	s->listener = evconnlistener_new(s->base, accept_cb, s, LEV_OPT_CLOSE_ON_FREE, 0, fd);
	if (s->listener == NULL) {
		close(fd);
		return -ENOMEM;
	}
	evconnlistener_set_error_cb(s->listener, accept_error_cb);
	return 0;
}

int tcp_server_drain(struct tcp_server *s, void (*done)(void *arg), void *arg)
{
	s->draining = 1;
	if (s->listener != NULL) {
		evconnlistener_free(s->listener);
		s->listener = NULL;
	}
	event_del(s->accept_retry);
	if (s->count == 0)
		return 0;
	s->drained = done;
	s->drained_arg = arg;
	return QUORUM_AGAIN;
}

int tcp_server_draining(const struct tcp_server *s)
{
	return s->draining;
}

void tcp_server_free(struct tcp_server *s)
{
	if (s == NULL)
		return;
	s->drained = NULL;
	if (s->listener != NULL)
		evconnlistener_free(s->listener);
	while (s->conns != NULL)
		tcp_conn_close(s->conns);
	event_free(s->accept_retry);
	free(s);
}

struct tcp_conn *tcp_server_first(const struct tcp_server *s)
{
	return s->conns;
}

void tcp_server_stats(const struct tcp_server *s, struct tcp_stats *out)
{
	out->open = s->count;
	out->refused = s->refused.total;
	out->header_timeouts = s->header_timeouts.total;
	out->idle_timeouts = s->idle_timeouts;
}

struct event_base *tcp_server_base(const struct tcp_server *s)
{
	return s->base;
}

const struct timeval *tcp_server_timeout(const struct tcp_server *s, enum tcp_deadline kind)
{
	return kind == TCP_DEADLINE_HEADER ? s->header : s->idle;
}

int64_t tcp_server_timeout_ns(const struct tcp_server *s, enum tcp_deadline kind)
{
	const struct timeval *tv = kind == TCP_DEADLINE_HEADER ? &s->header_tv : &s->idle_tv;

	return (int64_t)tv->tv_sec * 1000000000 + (int64_t)tv->tv_usec * 1000;
}
