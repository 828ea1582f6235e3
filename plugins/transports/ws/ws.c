/* ws.c -- the WebSocket transport (RFC 6455 framing by wslay, on libevent bufferevents):
 *   GET /v1/stream?format=unix|iso8601|json    with an Authorization: Bearer header
 * The rate limit (429) and the bearer token (401) are checked before the upgrade is
 * accepted. The header is the token's place: a token in the query string (?token=) ends
 * up in access logs and proxies, so it is refused (401, saying why) unless query_token is
 * set for clients that cannot send headers (browsers); the header wins when both come. On
 * connect the client gets a snapshot, then one on every agreement and at least every
 * push_interval_ms: the same JSON as REST's /v1/time. Fail-closed: while unsynchronised it
 * sends {"status":"unsynchronised", ...} instead of a time. A client may send
 * {"subscribe":["agreements","checkpoints","modes"]} to also get those events (modes: the
 * runtime mode at once, then each change). A bad format gets an
 * error frame and close 1008; a message over 4 KiB closes with 1009; a consumer whose unsent
 * data passes max_backlog_bytes is disconnected, so no client can block the loop or grow our
 * memory without bound. TLS (wss://) and mutual TLS as REST, with the same production/dev
 * startup rules. Connections: at most max_connections (beyond, closed at once); the upgrade
 * request (under TLS with the handshake) must arrive within header_timeout_ms of its first
 * byte (of the connection under TLS), however it trickles; a connection that sends nothing
 * is closed after idle_timeout_s, and so is a stream whose client takes nothing for as long. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <wslay/wslay.h>

#include <quorum/control.h>
#include <quorum/plugin.h>

#include "connlimit.h"
#include "bearer.h"
#include "query.h"
#include "ratelimit.h"
#include "timefields.h"
#include "timejson.h"
#include "tlsconf.h"

#define HANDSHAKE_MAX 8192
#define TOKEN_MAX     (BEARER_TOKEN_MAX + 1)
#define WATCH_MS      20 /* how often agreements and checkpoints are looked for */
/* Streams at most by default: each may hold max_backlog_bytes (256 KiB) for a slow client,
 * so 1024 bound that at 256 MiB. */
#define CONNECTIONS_DEFAULT 1024
#define ACCEPT_RETRY_MS	    100 /* after accept() failed for want of descriptors */
#define WS_GUID		    "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

struct ws_server;

struct ws_conn {
	struct ws_server *s;
	struct bufferevent *bev;
	wslay_event_context_ptr ctx; /* NULL until the upgrade */
	struct event *deadline;	     /* the upgrade's (header_timeout_ms); then NULL */
	char format[16];
	char peer[64];
	int want_agreements, want_checkpoints, want_modes;
	int closing;
	int dropped; /* a slow consumer: closed at once, its backlog discarded */
	struct ws_conn *prev, *next;
};

/* Where a drain stands: goodbyes being queued, waiting for them to go out, done. */
enum drain_state { DRAIN_NONE, DRAIN_STARTED, DRAIN_WAITING, DRAIN_DONE };

struct ws_server {
	struct quorum_host *host;
	const struct quorum_api *api;
	enum drain_state draining;
	struct evconnlistener *listener;
	struct event *accept_retry;
	char address[64];
	int64_t port, push_ms, max_backlog, rate, burst;
	struct connlimit limits;
	struct connlimit_log refused_at_cap, upgrade_timeouts;
	uint64_t idle_timeouts;
	struct ratelimit *limit; /* upgrades per client address */
	struct bearer_tokens tokens;
	struct ws_conn *conns;
	size_t nconns;
	struct quorum_timer *watch;
	int64_t last_push_ns;
	uint64_t last_round;
	uint64_t last_transitions; /* the control stage's count of mode transitions seen */
	char last_checkpoint[80];  /* the first line + size of the latest checkpoint seen */
	uint64_t accepted, refused, slow_dropped, messages, rate_limited;
	SSL_CTX *tls; /* NULL: cleartext (ws://) */
	int production;
	int query_token;	  /* ?token= accepted (without an Authorization header) */
	struct timefields fields; /* drift_ppm and the sources of the time frames */
};

static int64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ---- connections ---- */

static void conn_free(struct ws_conn *c)
{
	struct ws_server *s = c->s;

	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	s->nconns--;
	if (c->deadline != NULL)
		event_free(c->deadline);
	if (c->ctx != NULL)
		wslay_event_context_free(c->ctx);
	bufferevent_free(c->bev);
	free(c);
	/* A drain ends with the last goodbye delivered (or the host's drain timeout). */
	if (s->draining == DRAIN_WAITING && s->conns == NULL) {
		s->draining = DRAIN_DONE;
		s->api->drained(s->host);
	}
}

/* Lets wslay write what it queued; closes the connection when the exchange is over. */
static void conn_flush(struct ws_conn *c)
{
	int err = wslay_event_send(c->ctx);

	if (err != 0 && c->dropped) {
		conn_free(c);
		return;
	}
	if (err != 0 || (!wslay_event_want_read(c->ctx) && !wslay_event_want_write(c->ctx))) {
		c->closing = 1;
		if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
			conn_free(c);
	}
}

/* Queues one text message (TEXT is copied by wslay). */
static void conn_send_text(struct ws_conn *c, const char *text)
{
	struct wslay_event_msg msg = { WSLAY_TEXT_FRAME, (const uint8_t *)text, strlen(text) };

	if (c->closing || wslay_event_queue_msg(c->ctx, &msg) != 0)
		return;
	c->s->messages++;
}

static void conn_send_json(struct ws_conn *c, json_t *json)
{
	char *text = json != NULL ? json_dumps(json, JSON_COMPACT) : NULL;

	json_decref(json);
	if (text != NULL) {
		conn_send_text(c, text);
		free(text);
	}
}

/* The current time in C's format (the fields beside it as timefields_update last made
 * them for NOW), or the fail-closed status. */
static void conn_send_snapshot(struct ws_conn *c, const struct quorum_clock_reading *now)
{
	if (now->status != QUORUM_CLOCK_SYNCHRONISED)
		conn_send_json(
			c, json_pack("{s:s, s:s}", "status", "unsynchronised", "error",
				     "no agreement within the error bound; no time is served"));
	else
		conn_send_json(c, timejson_body(now, &c->s->fields, c->format));
}

/* The control stage's service (mode, breaker), when one runs. 0 or -ENOENT. */
static int control_find(struct ws_server *s, const struct quorum_control_ops **ops, void **cs)
{
	const void *found;

	if (s->api->service_find(s->host, QUORUM_CONTROL_SERVICE, &found, cs) != 0 ||
	    ((const struct quorum_control_ops *)found)->size <
		    sizeof(struct quorum_control_ops))
		return -ENOENT;
	*ops = found;
	return 0;
}

/* The node's runtime mode: {"event":"mode","mode":"QUORUM_ACTIVE","transitions":N,
 * "breaker_tripped":false}. Nothing when no control stage runs. */
static void conn_send_mode(struct ws_conn *c)
{
	const struct quorum_control_ops *control;
	void *cs;

	if (control_find(c->s, &control, &cs) != 0)
		return;
	conn_send_json(c, json_pack("{s:s, s:s, s:I, s:b}", "event", "mode", "mode",
				    control->mode_name(cs), "transitions",
				    (json_int_t)control->transitions(cs), "breaker_tripped",
				    control->breaker_tripped(cs)));
}

/* ---- wslay callbacks ---- */

static ssize_t ws_recv_cb(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags,
			  void *user_data)
{
	struct ws_conn *c = user_data;
	int n = evbuffer_remove(bufferevent_get_input(c->bev), buf, len);

	if (n <= 0) {
		wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
		return -1;
	}
	return n;
}

static ssize_t ws_send_cb(wslay_event_context_ptr ctx, const uint8_t *data, size_t len,
			  int flags, void *user_data)
{
	struct ws_conn *c = user_data;
	struct evbuffer *out = bufferevent_get_output(c->bev);

	if ((int64_t)evbuffer_get_length(out) > c->s->max_backlog) {
		/* A consumer that does not read: dropped, never buffered without bound. */
		if (!c->closing)
			c->s->api->log(c->s->host, QUORUM_LOG_WARNING,
				       "ws.slow_consumer_dropped peer=%s backlog=%zu", c->peer,
				       evbuffer_get_length(out));
		c->s->slow_dropped++;
		c->closing = 1;
		c->dropped = 1;
		wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
		return -1;
	}
	if (evbuffer_add(out, data, len) != 0) {
		wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
		return -1;
	}
	return (ssize_t)len;
}

static void ws_msg_cb(wslay_event_context_ptr ctx,
		      const struct wslay_event_on_msg_recv_arg *arg, void *user_data)
{
	struct ws_conn *c = user_data;
	json_t *doc, *list;
	json_error_t err;
	size_t i;
	json_t *v;

	if (arg->opcode != WSLAY_TEXT_FRAME)
		return; /* pings are answered by wslay; binary frames mean nothing here */
	doc = json_loadb((const char *)arg->msg, arg->msg_length, JSON_REJECT_DUPLICATES, &err);
	list = doc != NULL ? json_object_get(doc, "subscribe") : NULL;
	if (!json_is_array(list) || json_object_size(doc) != 1) {
		conn_send_json(
			c,
			json_pack("{s:s}", "error",
				  "expected {\"subscribe\": [\"agreements\", \"checkpoints\", "
				  "\"modes\"]}"));
		json_decref(doc);
		return;
	}
	/* All or nothing: a request naming something unknown changes no subscription. */
	json_array_foreach(list, i, v)
	{
		const char *name = json_string_value(v);

		if (name == NULL ||
		    (strcmp(name, "agreements") != 0 && strcmp(name, "checkpoints") != 0 &&
		     strcmp(name, "modes") != 0)) {
			conn_send_json(c,
				       json_pack("{s:s, s:s}", "error", "unknown subscription",
						 "subscription", name != NULL ? name : "?"));
			json_decref(doc);
			return;
		}
	}
	json_array_foreach(list, i, v)
	{
		const char *name = json_string_value(v);

		c->want_agreements |= strcmp(name, "agreements") == 0;
		c->want_checkpoints |= strcmp(name, "checkpoints") == 0;
		c->want_modes |= strcmp(name, "modes") == 0;
	}
	conn_send_json(c, json_pack("{s:O}", "subscribed", list));
	json_decref(doc);
	if (c->want_modes)
		conn_send_mode(c); /* where things stand, then each change */
}

static const struct wslay_event_callbacks ws_callbacks = {
	.recv_callback = ws_recv_cb,
	.send_callback = ws_send_cb,
	.on_msg_recv_callback = ws_msg_cb,
};

/* ---- the upgrade ---- */

static void http_refuse(struct ws_conn *c, int status, const char *reason, const char *json,
			const char *extra_header)
{
	evbuffer_add_printf(bufferevent_get_output(c->bev),
			    "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\n"
			    "Content-Length: %zu\r\nConnection: close\r\n%s\r\n%s",
			    status, reason, strlen(json), extra_header, json);
	c->s->refused++;
	c->closing = 1;
}

/* The value of header NAME in the request head HEAD (case-insensitive), into OUT. */
static int header_value(const char *head, const char *name, char *out, size_t size)
{
	size_t n = strlen(name);

	for (const char *line = strstr(head, "\r\n"); line != NULL;
	     line = strstr(line + 2, "\r\n")) {
		const char *p = line + 2, *end;

		if (strncasecmp(p, name, n) != 0 || p[n] != ':')
			continue;
		p += n + 1;
		while (*p == ' ' || *p == '\t')
			p++;
		end = strstr(p, "\r\n");
		if (end == NULL || (size_t)(end - p) >= size)
			return -1;
		memcpy(out, p, (size_t)(end - p));
		out[end - p] = '\0';
		return 0;
	}
	return -1;
}

/* Parses the request head once it is complete; accepts or refuses the upgrade. */
static void conn_handshake(struct ws_conn *c)
{
	struct ws_server *s = c->s;
	struct evbuffer *in = bufferevent_get_input(c->bev);
	struct evbuffer_ptr end = evbuffer_search(in, "\r\n\r\n", 4, NULL);
	char head[HANDSHAKE_MAX + 1], target[1024], key[64], value[256], token[TOKEN_MAX];
	char query_token[TOKEN_MAX] = "";
	const char *malformed = NULL;
	int query_malformed;
	char accept_src[128], format[16] = "json", asked[64] = "json";
	unsigned char digest[SHA_DIGEST_LENGTH], accept[64];
	struct quorum_clock_reading now;
	const char *query;
	size_t len;

	if (end.pos < 0) {
		if (evbuffer_get_length(in) > HANDSHAKE_MAX)
			http_refuse(c, 431, "Request Header Fields Too Large",
				    "{\"error\":\"request head too large\"}", "");
		return;
	}
	len = (size_t)end.pos + 4;
	evbuffer_remove(in, head, len);
	head[len] = '\0';
	if (sscanf(head, "GET %1023s HTTP/1.1\r\n", target) != 1) {
		http_refuse(c, 400, "Bad Request", "{\"error\":\"expected GET ... HTTP/1.1\"}",
			    "");
		return;
	}
	/* The reference's order: the rate limit (429), then the token (401), then the rest. */
	if (!ratelimit_allow(s->limit, c->peer, mono_ns())) {
		s->rate_limited++;
		if (QUORUM_API_HAS(s->api, refused))
			s->api->refused(s->host, "rate_limited", c->peer);
		http_refuse(c, 429, "Too Many Requests", "{\"detail\":\"Rate limit exceeded\"}",
			    "Retry-After: 1\r\n");
		return;
	}
	token[0] = '\0';
	query = strchr(target, '?');
	/* A malformed query is read as nothing (its token cannot count) and refused with 400
	 * once the caller is authorised; a format too long is no format we serve. */
	query_malformed = query != NULL && query_check(query + 1, &malformed) != 0;
	if (query != NULL && !query_malformed) {
		char wanted[sizeof(asked)];
		int err = query_param(query + 1, "format", wanted, sizeof(wanted));

		if (err == 0)
			memcpy(asked, wanted, sizeof(asked));
		else if (err == -ENOSPC)
			snprintf(asked, sizeof(asked), "%s", "(too long)");
		if (query_param(query + 1, "token", query_token, sizeof(query_token)) != 0)
			query_token[0] = '\0';
	}
	/* The header wins; ?token= counts only without one, and only when allowed. */
	if (header_value(head, "Authorization", value, sizeof(value)) == 0 &&
	    strncasecmp(value, "Bearer ", 7) == 0)
		snprintf(token, sizeof(token), "%s", value + 7);
	else if (query_token[0] != '\0' && s->query_token)
		snprintf(token, sizeof(token), "%s", query_token);
	if (token[0] == '\0' && query_token[0] != '\0' && s->tokens.count > 0 &&
	    !s->query_token) {
		if (QUORUM_API_HAS(s->api, refused))
			s->api->refused(s->host, "query_token_refused", c->peer);
		http_refuse(c, 401, "Unauthorized",
			    "{\"detail\":\"Unauthorized: a token in the query string is not "
			    "accepted (it ends up in logs and proxies); send it in an "
			    "Authorization: Bearer header, or set query_token = true\"}",
			    "WWW-Authenticate: Bearer error=\"invalid_request\", "
			    "error_description=\"token in the query string refused; send an "
			    "Authorization: Bearer header\"\r\n");
		return;
	}
	if (!bearer_token_allowed(&s->tokens, token)) {
		/* Counted and summarised by the host, never audited one by one. */
		if (QUORUM_API_HAS(s->api, refused))
			s->api->refused(s->host, "unauthorised", c->peer);
		http_refuse(c, 401, "Unauthorized", "{\"detail\":\"Unauthorized\"}",
			    "WWW-Authenticate: Bearer\r\n");
		return;
	}
	if (query_malformed) {
		char body[160];

		snprintf(body, sizeof(body), "{\"error\":\"malformed query: %s\"}", malformed);
		http_refuse(c, 400, "Bad Request", body, "");
		return;
	}
	if (strncmp(target, "/v1/stream", 10) != 0 ||
	    (target[10] != '\0' && target[10] != '?')) {
		http_refuse(c, 404, "Not Found", "{\"error\":\"not found: use /v1/stream\"}",
			    "");
		return;
	}
	if (header_value(head, "Upgrade", value, sizeof(value)) != 0 ||
	    strcasecmp(value, "websocket") != 0 ||
	    header_value(head, "Sec-WebSocket-Version", value, sizeof(value)) != 0 ||
	    strcmp(value, "13") != 0 ||
	    header_value(head, "Sec-WebSocket-Key", key, sizeof(key)) != 0 ||
	    strlen(key) != 24) {
		http_refuse(c, 400, "Bad Request",
			    "{\"error\":\"not a WebSocket upgrade (version 13)\"}", "");
		return;
	}
	snprintf(accept_src, sizeof(accept_src), "%s" WS_GUID, key);
	SHA1((const unsigned char *)accept_src, strlen(accept_src), digest);
	EVP_EncodeBlock(accept, digest, SHA_DIGEST_LENGTH);
	evbuffer_add_printf(bufferevent_get_output(c->bev),
			    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
			    "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n",
			    accept);
	if (wslay_event_context_server_init(&c->ctx, &ws_callbacks, c) != 0) {
		c->closing = 1;
		return;
	}
	wslay_event_config_set_max_recv_msg_length(c->ctx, 4096);
	if (c->deadline != NULL)
		event_free(c->deadline);
	c->deadline = NULL;
	/* A stream may listen quietly for ever, but must take what it is sent. */
	bufferevent_set_timeouts(c->bev, NULL, &s->limits.idle_timeout);
	s->accepted++;
	if (timejson_format(asked, format) != 0) {
		char msg[128];

		timejson_unknown_format(asked, msg, sizeof(msg));
		conn_send_json(c, json_pack("{s:s}", "error", msg));
		/* wslay sends control frames first: the error goes out before the close. */
		wslay_event_send(c->ctx);
		wslay_event_queue_close(c->ctx, 1008, (const uint8_t *)"unknown format", 14);
		conn_flush(c);
		return;
	}
	memcpy(c->format, format, sizeof(c->format));
	s->api->clock_read(s->host, &now);
	if (now.status == QUORUM_CLOCK_SYNCHRONISED)
		timefields_update(&s->fields, s->host, s->api, &now, 1);
	conn_send_snapshot(c, &now);
	conn_flush(c);
}

/* The upgrade was not complete by its deadline: slow (slowloris), or a refusal not taken. */
static void conn_deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ws_conn *c = arg;
	struct ws_server *s = c->s;
	uint64_t n = connlimit_log_hit(&s->upgrade_timeouts);

	(void)fd;
	(void)what;
	if (n > 0)
		s->api->log(s->host, QUORUM_LOG_INFO,
			    "ws.header_timeout peer=%s reason=\"upgrade not complete within "
			    "%" PRId64 " ms: closed\" count=%" PRIu64 " total=%" PRIu64,
			    c->peer, s->limits.header_timeout_ms, n, s->upgrade_timeouts.total);
	conn_free(c);
}

/* Arms the upgrade's deadline (once: bytes trickling in never extend it). 0 or -ENOMEM. */
static int conn_arm_deadline(struct ws_conn *c)
{
	struct ws_server *s = c->s;

	if (c->deadline != NULL)
		return 0;
	c->deadline = evtimer_new(s->api->event_base(s->host), conn_deadline_cb, c);
	if (c->deadline == NULL || evtimer_add(c->deadline, &s->limits.header_timeout) != 0)
		return -ENOMEM;
	return 0;
}

static void conn_read_cb(struct bufferevent *bev, void *arg)
{
	struct ws_conn *c = arg;

	if (c->closing)
		return;
	if (c->ctx == NULL) {
		if (conn_arm_deadline(c) != 0) { /* from the request's first byte */
			conn_free(c);
			return;
		}
		conn_handshake(c);
		if (c->closing && c->ctx == NULL)
			bufferevent_disable(bev, EV_READ);
		return;
	}
	if (wslay_event_recv(c->ctx) != 0) {
		c->closing = 1;
		if (evbuffer_get_length(bufferevent_get_output(bev)) == 0)
			conn_free(c);
		return;
	}
	conn_flush(c);
}

static void conn_write_cb(struct bufferevent *bev, void *arg)
{
	struct ws_conn *c = arg;

	if (c->closing && evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		conn_free(c);
}

static void conn_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct ws_conn *c = arg;

	if (what & BEV_EVENT_TIMEOUT) /* silent before its upgrade, or not taking its stream */
		c->s->idle_timeouts++;
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT))
		conn_free(c);
}

/* Token bucket per address is REST's job; here: a cap on clients and on handshake time. */
static void accept_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *addr,
		      int socklen, void *arg)
{
	struct ws_server *s = arg;
	struct ws_conn *c;

	if (s->nconns >= s->limits.max_connections) { /* closed at once, before any cost */
		uint64_t n = connlimit_log_hit(&s->refused_at_cap);

		if (n > 0)
			s->api->log(s->host, QUORUM_LOG_INFO,
				    "ws.connection_refused reason=\"%zu connections open, "
				    "max_connections\" count=%" PRIu64 " total=%" PRIu64,
				    s->nconns, n, s->refused_at_cap.total);
		evutil_closesocket(fd);
		return;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		evutil_closesocket(fd);
		return;
	}
	c->s = s;
	{
		/* The kernel's share of a slow client's backlog is bounded too (no autotuning
		 * up to megabytes): what it cannot take queues here, where the limit applies.
		 */
		int sndbuf = s->max_backlog > 1 << 20 ? 1 << 20 : (int)s->max_backlog;

		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	}
	if (s->tls != NULL) {
		SSL *ssl = SSL_new(s->tls);

		c->bev = ssl == NULL
				 ? NULL
				 : bufferevent_openssl_socket_new(
					   s->api->event_base(s->host), fd, ssl,
					   BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
		if (c->bev == NULL && ssl != NULL)
			SSL_free(ssl);
	} else {
		c->bev = bufferevent_socket_new(s->api->event_base(s->host), fd,
						BEV_OPT_CLOSE_ON_FREE);
	}
	if (c->bev == NULL) {
		evutil_closesocket(fd);
		free(c);
		return;
	}
	if (addr->sa_family == AF_INET) {
		const struct sockaddr_in *in4 = (const struct sockaddr_in *)addr;
		const uint8_t *b = (const uint8_t *)&in4->sin_addr;

		snprintf(c->peer, sizeof(c->peer), "%u.%u.%u.%u", b[0], b[1], b[2], b[3]);
	} else {
		snprintf(c->peer, sizeof(c->peer), "ipv6");
	}
	c->next = s->conns;
	if (s->conns != NULL)
		s->conns->prev = c;
	s->conns = c;
	s->nconns++;
	bufferevent_setcb(c->bev, conn_read_cb, conn_write_cb, conn_event_cb, c);
	/* Silent until its first byte: idle. Under TLS the handshake is part of the upgrade,
	 * whose deadline then runs from the connection. */
	bufferevent_set_timeouts(c->bev, &s->limits.idle_timeout, &s->limits.idle_timeout);
	if (bufferevent_enable(c->bev, EV_READ | EV_WRITE) != 0 ||
	    (s->tls != NULL && conn_arm_deadline(c) != 0))
		conn_free(c);
}

static void accept_retry_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ws_server *s = arg;

	(void)fd;
	(void)what;
	if (s->listener != NULL)
		evconnlistener_enable(s->listener);
}

/* Out of descriptors (or memory) the listening socket stays readable: pause, or the loop
 * spins on accept(). */
static void accept_error_cb(struct evconnlistener *l, void *arg)
{
	struct ws_server *s = arg;
	struct timeval retry = { 0, ACCEPT_RETRY_MS * 1000 };
	int err = EVUTIL_SOCKET_ERROR();

	s->api->log(s->host, QUORUM_LOG_WARNING, "ws.accept_failed error=\"%s\"",
		    strerror(err));
	evconnlistener_disable(l);
	event_add(s->accept_retry, &retry);
}

/* ---- pushes ---- */

static void watch_cb(void *arg)
{
	struct ws_server *s = arg;
	struct quorum_clock_reading now;
	const struct quorum_merkle_ops *merkle = NULL;
	const void *ops;
	void *ms = NULL;
	const char *note = NULL;
	char head[sizeof(s->last_checkpoint)] = "";
	int64_t t = mono_ns();
	int agreement, checkpoint, periodic, mode = 0;
	const struct quorum_control_ops *control;
	void *cs;

	s->api->clock_read(s->host, &now);
	if (s->api->service_find(s->host, QUORUM_MERKLE_SERVICE, &ops, &ms) == 0) {
		merkle = ops;
		note = merkle->checkpoint(ms);
	}
	if (note != NULL) {
		const char *nl = strchr(note, '\n');
		const char *nl2 = nl != NULL ? strchr(nl + 1, '\n') : NULL;

		if (nl2 != NULL && (size_t)(nl2 - note) < sizeof(head)) {
			memcpy(head, note, (size_t)(nl2 - note));
			head[nl2 - note] = '\0';
		}
	}
	if (control_find(s, &control, &cs) == 0 &&
	    control->transitions(cs) != s->last_transitions) {
		s->last_transitions = control->transitions(cs);
		mode = 1;
	}
	agreement = now.status == QUORUM_CLOCK_SYNCHRONISED && now.round != s->last_round;
	checkpoint = head[0] != '\0' && strcmp(head, s->last_checkpoint) != 0;
	periodic = t - s->last_push_ns >= s->push_ms * 1000000LL;
	if (agreement)
		s->last_round = now.round;
	if (checkpoint)
		memcpy(s->last_checkpoint, head, sizeof(head));
	timefields_drift_observe(&s->fields.drift, &now);
	if (!agreement && !checkpoint && !periodic && !mode)
		return;
	if (agreement || periodic)
		s->last_push_ns = t;
	if ((agreement || periodic) && now.status == QUORUM_CLOCK_SYNCHRONISED &&
	    s->conns != NULL)
		timefields_update(&s->fields, s->host, s->api, &now, 1);
	for (struct ws_conn *c = s->conns, *next; c != NULL; c = next) {
		next = c->next;
		if (c->ctx == NULL || c->closing)
			continue;
		if (agreement || periodic)
			conn_send_snapshot(c, &now);
		if (agreement && c->want_agreements)
			conn_send_json(c,
				       json_pack("{s:s, s:I, s:I, s:I, s:I, s:i, s:i}", "event",
						 "agreement", "round", (json_int_t)now.round,
						 "earliest_ns", (json_int_t)now.earliest_ns,
						 "estimate_ns", (json_int_t)now.estimate_ns,
						 "latest_ns", (json_int_t)now.latest_ns, "n",
						 (int)now.n, "accepted", (int)now.accepted));
		if (checkpoint && c->want_checkpoints)
			conn_send_json(c, json_pack("{s:s, s:s}", "event", "checkpoint", "note",
						    note));
		if (mode && c->want_modes)
			conn_send_mode(c);
		conn_flush(c); /* may free c */
	}
}

/* ---- settings and lifecycle ---- */

static int ws_init(struct quorum_host *host, const struct quorum_api *api, void **state)
{
	struct ws_server *s;
	const char *address = "127.0.0.1";
	int64_t older = 0;
	int err;

	if (!QUORUM_API_HAS(api, service_find))
		return -ENOTSUP;
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return -ENOMEM;
	s->host = host;
	s->api = api;
	s->port = 8081;
	s->push_ms = 1000;
	s->max_backlog = 256 * 1024;
	s->rate = 100;
	s->burst = -1;
	api->config_string(host, "address", &address);
	api->config_int(host, "rate_limit", &s->rate);
	api->config_int(host, "rate_burst", &s->burst);
	api->config_int(host, "port", &s->port);
	api->config_int(host, "push_interval_ms", &s->push_ms);
	api->config_int(host, "max_backlog_bytes", &s->max_backlog);
	connlimit_read(host, api, CONNECTIONS_DEFAULT, &s->limits);
	if (api->config_int(host, "max_connections", &older) == -ENOENT &&
	    api->config_int(host, "max_clients", &older) == 0) /* its older name */
		s->limits.max_connections = (size_t)older;
	snprintf(s->address, sizeof(s->address), "%s", address);
	s->production = transport_mode_production(host, api);
	api->config_bool(host, "query_token", &s->query_token);
	s->limit = ratelimit_new(s->rate, s->burst);
	s->accept_retry = evtimer_new(api->event_base(host), accept_retry_cb, s);
	err = s->limit == NULL || s->accept_retry == NULL || timefields_init(&s->fields) != 0
		      ? -ENOMEM
		      : bearer_load(host, api, "ws", s->production, &s->tokens);
	if (err == 0)
		err = transport_tls_setup(host, api, "ws", s->address, s->production,
					  s->tokens.count, &s->tls);
	if (err != 0) {
		if (s->accept_retry != NULL)
			event_free(s->accept_retry);
		ratelimit_free(s->limit);
		timefields_release(&s->fields);
		free(s);
		return err;
	}
	*state = s;
	return 0;
}

static int ws_start(void *state)
{
	struct ws_server *s = state;
	int fd, err;

	err = s->api->listen(s->host, QUORUM_LISTEN_TCP, s->address, (uint16_t)s->port, &fd);
	if (err != 0)
		return err;
	/* Backlog 0: the host's socket listens already (see http1.c). */
	s->listener = evconnlistener_new(s->api->event_base(s->host), accept_cb, s,
					 LEV_OPT_CLOSE_ON_FREE, 0, fd);
	if (s->listener == NULL) {
		close(fd);
		return -ENOMEM;
	}
	evconnlistener_set_error_cb(s->listener, accept_error_cb);
	s->watch = s->api->timer_start(s->host, WATCH_MS, WATCH_MS, watch_cb, s);
	if (s->watch == NULL)
		return -ENOMEM;
	s->last_push_ns = mono_ns();
	s->api->log(s->host, QUORUM_LOG_NOTICE,
		    "ws.listening address=%s port=%" PRId64 " push_interval_ms=%" PRId64
		    " bearer_tokens=%zu query_token=%s rate_limit=%" PRId64 " tls=%s mode=%s"
		    " max_connections=%zu header_timeout_ms=%" PRId64
		    " idle_timeout_s=%" PRId64,
		    s->address, s->port, s->push_ms, s->tokens.count,
		    s->query_token ? "on" : "off", s->rate,
		    s->tls == NULL					? "off"
		    : SSL_CTX_get_verify_mode(s->tls) & SSL_VERIFY_PEER ? "mtls"
									: "on",
		    s->production ? "production" : "dev", s->limits.max_connections,
		    s->limits.header_timeout_ms, s->limits.idle_timeout_s);
	return 0;
}

static int ws_drain(void *state)
{
	struct ws_server *s = state;

	if (s->listener != NULL) {
		evconnlistener_free(s->listener);
		s->listener = NULL;
	}
	event_del(s->accept_retry);
	/* Streams never end by themselves: tell each client, going away (1001), and finish
	 * once every close frame is out and answered (the host's drain_timeout_ms bounds
	 * the wait for clients that never answer). A connection still upgrading is closed. */
	s->draining = DRAIN_STARTED;
	for (struct ws_conn *c = s->conns, *next; c != NULL; c = next) {
		next = c->next;
		if (c->ctx == NULL)
			conn_free(c);
		else if (!c->closing) {
			wslay_event_queue_close(c->ctx, 1001, (const uint8_t *)"server reload",
						13);
			conn_flush(c);
		}
	}
	if (s->conns == NULL)
		return 0;
	s->draining = DRAIN_WAITING;
	return QUORUM_AGAIN;
}

static void ws_fini(void *state)
{
	struct ws_server *s = state;

	while (s->conns != NULL)
		conn_free(s->conns);
	if (s->listener != NULL)
		evconnlistener_free(s->listener);
	event_free(s->accept_retry);
	if (s->tls != NULL)
		SSL_CTX_free(s->tls);
	s->api->log(s->host, QUORUM_LOG_INFO,
		    "ws.stopped accepted=%" PRIu64 " refused=%" PRIu64 " messages=%" PRIu64
		    " slow_dropped=%" PRIu64 " rate_limited=%" PRIu64 " refused_at_cap=%" PRIu64
		    " header_timeouts=%" PRIu64 " idle_timeouts=%" PRIu64,
		    s->accepted, s->refused, s->messages, s->slow_dropped, s->rate_limited,
		    s->refused_at_cap.total, s->upgrade_timeouts.total, s->idle_timeouts);
	ratelimit_free(s->limit);
	bearer_clear(&s->tokens);
	timefields_release(&s->fields);
	free(s);
}

static const struct quorum_setting ws_settings[] = {
	{ .name = "address",
	  .type = QUORUM_SETTING_STRING,
	  .help = "listen address (default 127.0.0.1)" },
	{ .name = "port",
	  .type = QUORUM_SETTING_INT,
	  .min = 1,
	  .max = 65535,
	  .help = "TCP port (default 8081)" },
	{ .name = "push_interval_ms",
	  .type = QUORUM_SETTING_INT,
	  .min = 10,
	  .max = 3600000,
	  .help = "longest time between snapshots (default 1000; also one per agreement)" },
	{ .name = "bearer_token_files",
	  .type = QUORUM_SETTING_STRINGS,
	  .help = "files of accepted bearer tokens (Authorization: Bearer); none: no auth" },
	{ .name = "query_token",
	  .type = QUORUM_SETTING_BOOL,
	  .help = "also accept ?token= without an Authorization header (default false: it "
		  "leaks into logs and proxies)" },
	{ .name = "max_backlog_bytes",
	  .type = QUORUM_SETTING_INT,
	  .min = 4096,
	  .max = 1073741824,
	  .help = "unsent bytes before a slow client is dropped (256 KiB)" },
	{ .name = "max_clients",
	  .type = QUORUM_SETTING_INT,
	  .min = 1,
	  .max = 1000000,
	  .help = "max_connections' older name (max_connections wins)" },
	{ .name = "rate_limit",
	  .type = QUORUM_SETTING_INT,
	  .min = 0,
	  .max = 10000000,
	  .help = "upgrades per second per client address (default 100; 0: none)" },
	{ .name = "rate_burst",
	  .type = QUORUM_SETTING_INT,
	  .min = 1,
	  .max = 10000000,
	  .help = "upgrades a client may ask at once (default: rate_limit)" },
	TRANSPORT_TLS_SETTINGS,
	TRANSPORT_CONNECTION_SETTINGS,
	{ .type = QUORUM_SETTING_END },
};

QUORUM_PLUGIN_EXPORT const struct quorum_plugin quorum_plugin = {
	QUORUM_PLUGIN_HEADER(QUORUM_PLUGIN_TRANSPORT, "ws", PACKAGE_VERSION, QUORUM_ROLE_NONE),
	.settings = ws_settings,
	.init = ws_init,
	.start = ws_start,
	.drain = ws_drain,
	.fini = ws_fini,
};
