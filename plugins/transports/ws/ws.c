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
 * startup rules. Connections (the TCP server core, common/tcpserver.c): at most
 * max_connections (beyond, closed at once); the upgrade request, read by the one HTTP/1
 * parser (common/http1-parse.c) and upgrade.c, must arrive (under TLS with the handshake)
 * within header_timeout_ms of its first byte (of the connection under TLS), however it
 * trickles; a connection that sends nothing is closed after idle_timeout_s, and so is a
 * stream whose client takes nothing for as long. */
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
#include <jansson.h>
#include <openssl/crypto.h>
#include <wslay/wslay.h>

#include <quorum/control.h>
#include <quorum/plugin.h>

#include "connlimit.h"
#include "bearer.h"
#include "http1-parse.h"
#include "query.h"
#include "ratelimit.h"
#include "tcpserver.h"
#include "timefields.h"
#include "timejson.h"
#include "tlsconf.h"
#include "transport.h"
#include "upgrade.h"

#define TOKEN_MAX (BEARER_TOKEN_MAX + 1)
#define WATCH_MS  20 /* how often agreements and checkpoints are looked for */
/* Streams at most by default: each may hold max_backlog_bytes (256 KiB) for a slow client,
 * so 1024 bound that at 256 MiB. */
#define CONNECTIONS_DEFAULT 1024

struct ws_server;

struct ws_conn {
	struct tcp_conn tcp; /* first: the core's (socket, peer, deadline) */
	struct ws_server *s;
	struct bufferevent *bev;
	wslay_event_context_ptr ctx; /* NULL until the upgrade */
	char format[16];
	const char *peer; /* tcp.peer */
	int want_agreements, want_checkpoints, want_modes;
	int closing;
	int dropped; /* a slow consumer: closed at once, its backlog discarded */
};

struct ws_server {
	/* first: address, limits, rate limit (of upgrades), tokens, TLS, the TCP server */
	struct transport t;
	struct quorum_host *host;
	const struct quorum_api *api;
	int64_t push_ms, max_backlog;
	int64_t last_push_ns;
	uint64_t last_round;
	uint64_t last_transitions; /* the control stage's count of mode transitions seen */
	char last_checkpoint[80];  /* the first line + size of the latest checkpoint seen */
	uint64_t accepted, refused, slow_dropped, messages;
	int query_token; /* ?token= accepted (without an Authorization header) */
};

/* ---- connections ---- */

/* The core's release: C's WebSocket context and bufferevent (closing the socket). */
static void conn_release(struct tcp_conn *tc, void *arg)
{
	struct ws_conn *c = (struct ws_conn *)tc;

	(void)arg;
	if (c->ctx != NULL)
		wslay_event_context_free(c->ctx);
	bufferevent_free(c->bev);
}

/* Closes C; the last one in a drain ends it (its goodbye delivered, or the host's
 * drain_timeout_ms over). */
static void conn_free(struct ws_conn *c)
{
	tcp_conn_close(&c->tcp);
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
		conn_send_json(c, timejson_body(now, &c->s->t.fields, c->format));
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

/* Refuses the upgrade with STATUS, the JSON body JSON and EXTRA_HEADER (complete lines, ""
 * for none); the connection closes once it is out. */
static void http_refuse(struct ws_conn *c, int status, const char *json,
			const char *extra_header)
{
	evbuffer_add_printf(bufferevent_get_output(c->bev),
			    "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\n"
			    "Content-Length: %zu\r\nConnection: close\r\n%s\r\n%s",
			    status, http1_reason(status), strlen(json), extra_header, json);
	c->s->refused++;
	c->closing = 1;
}

/* The gate, in the reference's order: the rate limit (429), then the token (401): from the
 * Authorization header, or without one from ?token= (QUERY_TOKEN) where query_token allows
 * it. 0 when the request may go on; else it was refused. */
static int upgrade_gate(struct ws_conn *c, const struct http1_request *req,
			const char *query_token)
{
	struct ws_server *s = c->s;
	const char *auth = http1_header(req, "Authorization");
	char bearer[TOKEN_MAX + 8];

	if (!transport_rate_allow(&s->t, c->peer)) {
		http_refuse(c, 429, "{\"detail\":\"Rate limit exceeded\"}",
			    "Retry-After: 1\r\n");
		return -1;
	}
	if (auth == NULL && query_token[0] != '\0' && s->t.tokens.count > 0 &&
	    !s->query_token) {
		transport_refused(&s->t, c->peer, "query_token_refused");
		http_refuse(c, 401,
			    "{\"detail\":\"Unauthorized: a token in the query string is not "
			    "accepted (it ends up in logs and proxies); send it in an "
			    "Authorization: Bearer header, or set query_token = true\"}",
			    "WWW-Authenticate: Bearer error=\"invalid_request\", "
			    "error_description=\"token in the query string refused; send an "
			    "Authorization: Bearer header\"\r\n");
		return -1;
	}
	/* the header wins; ?token= counts only without one */
	if (auth == NULL && query_token[0] != '\0') {
		snprintf(bearer, sizeof(bearer), "Bearer %s", query_token);
		auth = bearer;
	}
	if (!transport_token_allow(&s->t, c->peer, auth)) {
		http_refuse(c, 401, "{\"detail\":\"Unauthorized\"}",
			    "WWW-Authenticate: Bearer\r\n");
		return -1;
	}
	return 0;
}

/* Accepts the upgrade REQ (ACCEPT its Sec-WebSocket-Accept) in the format ASKED: the 101,
 * then the stream's first snapshot (or, for an unknown format, an error frame and close
 * 1008). */
static void upgrade_accept(struct ws_conn *c, const char *accept, const char *asked)
{
	struct ws_server *s = c->s;
	struct quorum_clock_reading now;
	char format[16];

	evbuffer_add_printf(bufferevent_get_output(c->bev),
			    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
			    "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n",
			    accept);
	if (wslay_event_context_server_init(&c->ctx, &ws_callbacks, c) != 0) {
		c->closing = 1;
		return;
	}
	wslay_event_config_set_max_recv_msg_length(c->ctx, 4096);
	tcp_conn_deadline_clear(&c->tcp);
	/* A stream may listen quietly for ever, but must take what it is sent. */
	bufferevent_set_timeouts(c->bev, NULL, &s->t.limits.idle_timeout);
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
		timefields_update(&s->t.fields, s->host, s->api, &now, 1);
	conn_send_snapshot(c, &now);
	conn_flush(c);
}

/* Reads the upgrade request once its head is in (the one HTTP/1 parser), then the gate, the
 * query, the path and the handshake (upgrade.c), in that order; accepts or refuses. */
static void conn_handshake(struct ws_conn *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);
	size_t len = evbuffer_get_length(in), head_len;
	char head[HTTP1_HEAD_MAX], query_token[TOKEN_MAX] = "", asked[64] = "json";
	char accept[WS_ACCEPT_LEN], body[160];
	const char *why = NULL, *malformed = NULL;
	struct http1_request req;
	int status, query_malformed;
	ev_ssize_t n;

	n = evbuffer_copyout(in, head, len < sizeof(head) ? len : sizeof(head));
	status = n < 0 ? 400 : http1_parse_head(head, (size_t)n, &req, &head_len, &why);
	if (status == HTTP1_INCOMPLETE) {
		if (len >= HTTP1_HEAD_MAX)
			http_refuse(c, 431, "{\"error\":\"request head too large\"}", "");
		return;
	}
	if (status != 0) {
		snprintf(body, sizeof(body), "{\"error\":\"%s\"}",
			 why != NULL ? why : "bad request");
		http_refuse(c, status, body, "");
		return;
	}
	evbuffer_drain(in, head_len);
	/* A malformed query is read as nothing (its token cannot count) and refused with 400
	 * once the caller is authorised; a format too long is no format we serve. */
	query_malformed = query_check(req.query, &malformed) != 0;
	if (!query_malformed) {
		char wanted[sizeof(asked)];
		int err = query_param(req.query, "format", wanted, sizeof(wanted));

		if (err == 0)
			memcpy(asked, wanted, sizeof(asked));
		else if (err == -ENOSPC)
			snprintf(asked, sizeof(asked), "%s", "(too long)");
		if (query_param(req.query, "token", query_token, sizeof(query_token)) != 0)
			query_token[0] = '\0';
	}
	if (upgrade_gate(c, &req, query_token) != 0)
		return;
	if (query_malformed) {
		snprintf(body, sizeof(body), "{\"error\":\"malformed query: %s\"}", malformed);
		http_refuse(c, 400, body, "");
		return;
	}
	if (strcmp(req.path, "/v1/stream") != 0) {
		http_refuse(c, 404, "{\"error\":\"not found: use /v1/stream\"}", "");
		return;
	}
	status = ws_upgrade_check(&req, accept, &why);
	if (status != 0) {
		snprintf(body, sizeof(body), "{\"error\":\"%s\"}", why);
		http_refuse(c, status, body,
			    status == 426 ? "Sec-WebSocket-Version: 13\r\n" : "");
		return;
	}
	upgrade_accept(c, accept, asked);
}

static void conn_read_cb(struct bufferevent *bev, void *arg)
{
	struct ws_conn *c = arg;

	if (c->closing)
		return;
	if (c->ctx == NULL) {
		/* the upgrade's deadline runs from its first byte; trickling never extends it
		 */
		if (tcp_conn_deadline_start(&c->tcp, TCP_DEADLINE_HEADER, "upgrade") != 0) {
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

	(void)bev;
	if (what & BEV_EVENT_TIMEOUT) /* silent before its upgrade, or not taking its stream */
		tcp_conn_timed_out(&c->tcp, TCP_DEADLINE_IDLE, "idle");
	else if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
		conn_free(c);
}

/* The core's open: a bufferevent (TLS or not) for a new connection. 0 or -ENOMEM. */
static int conn_open(struct tcp_conn *tc, void *arg)
{
	struct ws_conn *c = (struct ws_conn *)tc;
	struct ws_server *s = arg;
	/* The kernel's share of a slow client's backlog is bounded too (no autotuning up to
	 * megabytes): what it cannot take queues here, where the limit applies. */
	int sndbuf = s->max_backlog > 1 << 20 ? 1 << 20 : (int)s->max_backlog;

	c->s = s;
	c->peer = tc->peer;
	setsockopt(tc->fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	c->bev = tcp_conn_bufferevent(tc, s->t.tls);
	if (c->bev == NULL)
		return -ENOMEM;
	bufferevent_setcb(c->bev, conn_read_cb, conn_write_cb, conn_event_cb, c);
	/* Silent until its first byte: idle. Under TLS the handshake is part of the upgrade,
	 * whose deadline then runs from the connection. */
	bufferevent_set_timeouts(c->bev, &s->t.limits.idle_timeout, &s->t.limits.idle_timeout);
	if (bufferevent_enable(c->bev, EV_READ | EV_WRITE) != 0 ||
	    (s->t.tls != NULL &&
	     tcp_conn_deadline_start(tc, TCP_DEADLINE_HEADER, "upgrade") != 0)) {
		bufferevent_free(c->bev); /* it closed the socket */
		tc->fd = -1;
		return -ENOMEM;
	}
	return 0;
}

static const struct tcp_server_ops conn_ops = {
	.conn_size = sizeof(struct ws_conn),
	.open = conn_open,
	.release = conn_release,
};

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
	int64_t t = mono_now_ns();
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
	timefields_drift_observe(&s->t.fields.drift, &now);
	if (!agreement && !checkpoint && !periodic && !mode)
		return;
	if (agreement || periodic)
		s->last_push_ns = t;
	if ((agreement || periodic) && now.status == QUORUM_CLOCK_SYNCHRONISED &&
	    tcp_server_first(s->t.tcp) != NULL)
		timefields_update(&s->t.fields, s->host, s->api, &now, 1);
	for (struct tcp_conn *tc = tcp_server_first(s->t.tcp), *next; tc != NULL; tc = next) {
		struct ws_conn *c = (struct ws_conn *)tc;

		next = tcp_conn_next(tc);
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

/* The WebSocket transport's settings the host fills from ws_settings (their defaults live
 * only there): the transport's shared ones (transport_init's), then its own. max_clients,
 * max_connections' older name, is read by ws_init: it counts only when max_connections is
 * absent, which a bound field cannot tell. */
struct ws_settings {
	struct transport_settings transport;
	int64_t push_interval_ms;
	int64_t max_backlog_bytes;
	int query_token;
};

static int ws_init(struct quorum_host *host, const struct quorum_api *api, void **state)
{
	const struct ws_settings *cfg;
	struct ws_server *s;
	int64_t older = 0;
	int err;

	if (!QUORUM_API_HAS(api, service_find) || !QUORUM_API_HAS(api, settings))
		return -ENOTSUP;
	cfg = api->settings(host);
	if (cfg == NULL)
		return -EINVAL;
	err = transport_new(sizeof(*s), host, api, "ws", &cfg->transport, CONNECTIONS_DEFAULT,
			    (void **)&s);
	if (err != 0)
		return err;
	s->host = host;
	s->api = api;
	s->push_ms = cfg->push_interval_ms;
	s->max_backlog = cfg->max_backlog_bytes;
	s->query_token = cfg->query_token;
	if (api->config_int(host, "max_connections", &older) == -ENOENT &&
	    api->config_int(host, "max_clients", &older) == 0) /* its older name */
		s->t.limits.max_connections = (size_t)older;
	err = transport_server_new(&s->t, &conn_ops, s);
	if (err != 0) {
		transport_free(&s->t);
		return err;
	}
	*state = s;
	return 0;
}

static int ws_start(void *state)
{
	struct ws_server *s = state;
	int err = transport_start(&s->t, NULL, WATCH_MS, watch_cb, s);

	if (err != 0)
		return err;
	s->last_push_ns = mono_now_ns();
	transport_log_listening(&s->t, "push_interval_ms=%" PRId64 " query_token=%s",
				s->push_ms, s->query_token ? "on" : "off");
	return 0;
}

static int ws_drain(void *state)
{
	struct ws_server *s = state;

	/* Streams never end by themselves: tell each client, going away (1001), and finish
	 * once every close frame is out and answered (the host's drain_timeout_ms bounds
	 * the wait for clients that never answer). A connection still upgrading is closed.
	 * (Nothing is accepted meanwhile: this runs on the loop.) */
	for (struct tcp_conn *tc = tcp_server_first(s->t.tcp), *next; tc != NULL; tc = next) {
		struct ws_conn *c = (struct ws_conn *)tc;

		next = tcp_conn_next(tc);
		if (c->ctx == NULL)
			conn_free(c);
		else if (!c->closing) {
			wslay_event_queue_close(c->ctx, 1001, (const uint8_t *)"server reload",
						13);
			conn_flush(c);
		}
	}
	return tcp_server_drain(s->t.tcp, transport_drained, &s->t);
}

static void ws_fini(void *state)
{
	struct ws_server *s = state;

	transport_stop(&s->t, NULL,
		       "accepted=%" PRIu64 " refused=%" PRIu64 " messages=%" PRIu64
		       " slow_dropped=%" PRIu64,
		       s->accepted, s->refused, s->messages, s->slow_dropped);
}

static const struct quorum_setting ws_settings[] = {
	TRANSPORT_SETTINGS(struct ws_settings, "8081", "Authorization: Bearer", "upgrades"),
	QUORUM_SETTING_INT_AT("push_interval_ms", struct ws_settings, push_interval_ms, 10,
			      3600000, "1000",
			      "longest time between snapshots (also one per agreement)"),
	QUORUM_SETTING_BOOL_AT("query_token", struct ws_settings, query_token, "false",
			       "also accept ?token= without an Authorization header (a token "
			       "in a URL leaks into logs and proxies)"),
	QUORUM_SETTING_INT_AT("max_backlog_bytes", struct ws_settings, max_backlog_bytes, 4096,
			      1073741824, "262144",
			      "unsent bytes before a slow client is dropped"),
	{ .name = "max_clients",
	  .type = QUORUM_SETTING_INT,
	  .min = 1,
	  .max = 1000000,
	  .help = "max_connections' older name (max_connections wins)" },
	TRANSPORT_TLS_SETTINGS(struct ws_settings),
	TRANSPORT_CONNECTION_SETTINGS(struct ws_settings),
	{ .type = QUORUM_SETTING_END },
};

TRANSPORT_PLUGIN_BOUND("ws", ws, struct ws_settings);
