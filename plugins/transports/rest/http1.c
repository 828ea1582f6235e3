/* http1.c -- the REST transport's HTTP/1.1 server: its connections' buffers and I/O on
 * libevent over the TCP server core (common/tcpserver.c: accepting, limits, deadlines),
 * requests read by the one HTTP/1 parser (common/http1-parse.c); cleartext on the socket
 * itself, TLS through bufferevent_openssl. The cleartext fast path costs one recv() and one
 * send() per request: the read event stays registered, and the write event is armed only
 * while an answer waits for the client. */
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <openssl/err.h>

#include "http1.h"
#include "tcpserver.h"

/* After the last answer, the client's leftovers are read (and dropped) so long and so many
 * at most, then the socket is closed. */
#define LINGER_S     2
#define LINGER_BYTES 65536
/* Connection-level refusals logged per second at most; the others are counted. */
#define LOG_PER_SECOND 10
/* Draining: idle connections close after this (see http1_server_drain). */
#define DRAIN_GRACE_MS	 250
#define OUTPUT_MIN_ALLOC 4096
#define CONTINUE_LINE	 "HTTP/1.1 100 Continue\r\n\r\n"

enum conn_state {
	CONN_OPEN,    /* reading and answering requests */
	CONN_CLOSING, /* the last answer is queued: closed once the client has it */
	CONN_LINGER,  /* cleartext: answer sent, write side shut, leftovers read until EOF */
};

struct http1_conn {
	struct tcp_conn tcp; /* first: the core's (socket, peer, deadline) */
	struct http1_server *server;
	evutil_socket_t fd;			/* tcp.fd (owned by bev under TLS) */
	struct event *read_event, *write_event; /* cleartext */
	struct bufferevent *bev;		/* TLS; NULL: cleartext */
	enum conn_state state;
	/* Answers wait for the client: nothing is read or handled meanwhile. */
	int paused;
	int dead;	   /* an I/O error: freed by the callback running */
	int continue_sent; /* "100 Continue" sent for the request in progress */
	int handshaking;   /* TLS: the handshake is not done */
	int progressed;	   /* a request was handled (or the handshake done) in this callback */
	size_t body_wait;  /* head and body length of the request whose body is arriving */
	/* Received, not yet handled: in[0, in_len). Both buffers are given back between
	 * requests (NULL): an idle connection holds none. */
	char *in;
	size_t in_len, in_cap;
	char *out; /* answers not yet sent (cleartext): out[out_sent, out_len) */
	size_t out_len, out_sent, out_cap;
	size_t lingered;
	/* A deferred answer (http1_defer): nothing is read or handled until http1_resume,
	 * whose work runs from RESUME on a fresh turn of the loop. */
	struct http1_deferred *deferred;
	struct event *resume;
	const char *peer; /* tcp.peer */
};

struct http1_server {
	struct http1_config config;
	struct tcp_server *tcp; /* accepting, the connections, their limits and deadlines */
	struct event_base *base;
	struct event *drain_grace;
	struct timeval idle_tv; /* config.idle_timeout_s, for bufferevents */
	/* The same as a common timeout of the loop, when it has one: re-arming it is a queue
	 * append, not a heap update. */
	const struct timeval *idle;
	int draining;
	int grace_over;	 /* draining, and idle connections are closed */
	time_t date_sec; /* the Date header, formatted once per second */
	char date[40];
	time_t log_sec; /* refusals logged in that second, and since suppressed */
	unsigned log_count;
	uint64_t log_suppressed;
	/* The request being handled: answers are synchronous, so one for all connections.
	 * Its head is parsed in SCRATCH, a copy, so that a connection's buffer keeps the bytes
	 * as they came while a body is still arriving. */
	struct http1_request req;
	char scratch[HTTP1_HEAD_MAX];
};

static void conn_flush(struct http1_conn *c);

/* ---- logging, rate-limited: a flood of bad requests must not become a flood of lines ---- */

static void log_limited(struct http1_server *s, int level, const char *event, const char *fmt,
			...) __attribute__((format(printf, 4, 5)));

static void log_limited(struct http1_server *s, int level, const char *event, const char *fmt,
			...)
{
	const struct quorum_api *api = s->config.api;
	struct timeval now;
	char msg[384];
	va_list ap;

	event_base_gettimeofday_cached(s->base, &now);
	if (now.tv_sec != s->log_sec) {
		s->log_sec = now.tv_sec;
		s->log_count = 0;
	}
	if (s->log_count >= LOG_PER_SECOND) {
		s->log_suppressed++;
		return;
	}
	s->log_count++;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (s->log_suppressed > 0) /* how many went unlogged before this one */
		api->log(s->config.host, level, "%s.%s %s suppressed=%" PRIu64,
			 s->config.log_prefix, event, msg, s->log_suppressed);
	else
		api->log(s->config.host, level, "%s.%s %s", s->config.log_prefix, event, msg);
	s->log_suppressed = 0;
}

/* ---- connections ---- */

/* Between requests, with nothing buffered either way. */
static int conn_idle(const struct http1_conn *c)
{
	if (c->state != CONN_OPEN || c->paused || c->deferred != NULL || c->in_len > 0 ||
	    c->out_len > c->out_sent)
		return 0;
	return c->bev == NULL || (evbuffer_get_length(bufferevent_get_input(c->bev)) == 0 &&
				  evbuffer_get_length(bufferevent_get_output(c->bev)) == 0);
}

/* The core's release: C's I/O and buffers (the core unlinks and frees C). */
static void conn_release(struct tcp_conn *tc, void *arg)
{
	struct http1_conn *c = (struct http1_conn *)tc;

	(void)arg;
	if (c->resume != NULL)
		event_free(c->resume);
	if (c->deferred != NULL)
		c->deferred->req.conn = NULL; /* its owner still resumes it: it is only freed */
	if (c->bev != NULL) {
		bufferevent_free(c->bev); /* closes the socket, frees the SSL */
	} else {
		event_free(c->read_event);
		event_free(c->write_event);
		evutil_closesocket(c->fd);
	}
	free(c->in);
	free(c->out);
}

static void conn_free(struct http1_conn *c)
{
	tcp_conn_close(&c->tcp);
}

/* The input buffer, allocated when bytes come. 0 or -ENOMEM. */
static int conn_in_alloc(struct http1_conn *c)
{
	if (c->in != NULL)
		return 0;
	c->in = malloc(HTTP1_HEAD_MAX);
	if (c->in == NULL)
		return -ENOMEM;
	c->in_cap = HTTP1_HEAD_MAX;
	return 0;
}

/* Between requests, with nothing received and every answer sent, a connection gives its
 * buffers back: a connection waiting for a request costs its struct and events only. */
static void conn_release_buffers(struct http1_conn *c)
{
	if (c->state != CONN_OPEN || c->in_len > 0 || c->out_len > c->out_sent)
		return;
	free(c->in);
	free(c->out);
	c->in = c->out = NULL;
	c->in_cap = c->out_cap = c->out_len = c->out_sent = 0;
}

/* A request (or the TLS handshake) is under way: its deadline runs. */
static int conn_receiving(const struct http1_conn *c)
{
	return c->handshaking ||
	       (c->state == CONN_OPEN && !c->paused && c->deferred == NULL && c->in_len > 0);
}

/* Arms the header deadline when a request (or handshake) is under way and it is not armed
 * yet: bytes trickling in never extend it, only a request handled does (pipelined clients
 * keep theirs). Disarms it when nothing is under way. Marks C dead when it cannot. */
static void conn_deadline(struct http1_conn *c)
{
	int armed = tcp_conn_deadline_kind(&c->tcp) == TCP_DEADLINE_HEADER;
	int receiving = conn_receiving(c);

	if (armed && (c->progressed || !receiving)) {
		tcp_conn_deadline_clear(&c->tcp);
		armed = 0;
	}
	c->progressed = 0;
	if (armed || !receiving)
		return;
	if (tcp_conn_deadline_start(&c->tcp, TCP_DEADLINE_HEADER,
				    c->handshaking ? "TLS handshake" : "request") != 0)
		c->dead = 1;
}

/* Room for MORE bytes after out_len. 0 or -ENOMEM. */
static int out_reserve(struct http1_conn *c, size_t more)
{
	size_t cap;
	char *p;

	if (c->out_sent > 0 && c->out_len + more > c->out_cap) {
		memmove(c->out, c->out + c->out_sent, c->out_len - c->out_sent);
		c->out_len -= c->out_sent;
		c->out_sent = 0;
	}
	if (c->out_len + more <= c->out_cap)
		return 0;
	cap = c->out_cap * 2 > c->out_len + more ? c->out_cap * 2 : c->out_len + more;
	if (cap < OUTPUT_MIN_ALLOC)
		cap = OUTPUT_MIN_ALLOC;
	p = realloc(c->out, cap);
	if (p == NULL)
		return -ENOMEM;
	c->out = p;
	c->out_cap = cap;
	return 0;
}

/* The Date header's value (RFC 9110 IMF-fixdate), formatted once per second. */
static const char *http_date(struct http1_server *s)
{
	static const char days[7][4] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char months[12][4] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					    "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	struct timeval now;
	struct tm tm;

	event_base_gettimeofday_cached(s->base, &now);
	if (now.tv_sec != s->date_sec || s->date[0] == '\0') {
		time_t t = now.tv_sec;

		gmtime_r(&t, &tm);
		snprintf(s->date, sizeof(s->date), "%s, %02d %s %04d %02d:%02d:%02d GMT",
			 days[tm.tm_wday % 7], tm.tm_mday, months[tm.tm_mon % 12],
			 tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
		s->date_sec = now.tv_sec;
	}
	return s->date;
}

int http1_reply(struct http1_request *req, int status, const char *content_type,
		const char *extra_headers, const void *body, size_t len)
{
	struct http1_conn *c = req->conn;
	size_t type_len = content_type != NULL ? strlen(content_type) : 0;
	size_t extra_len = extra_headers != NULL ? strlen(extra_headers) : 0;
	size_t body_out = req->head_only ? 0 : len;
	size_t head_max = 224 + type_len + extra_len;
	const char *connection = !req->keep_alive	   ? "Connection: close\r\n"
				 : req->version_minor == 0 ? "Connection: keep-alive\r\n"
							   : "";
	int n;

	if (c == NULL)
		return -ENOTCONN;
	if (req->answered)
		return -EALREADY;
	if (c->server->draining &&
	    req->keep_alive) { /* a deferred answer, given while draining */
		req->keep_alive = 0;
		connection = "Connection: close\r\n";
	}
	if (head_max + body_out > HTTP1_ANSWER_MAX)
		return -EMSGSIZE;
	if (out_reserve(c, head_max + body_out) != 0)
		return -ENOMEM;
	n = snprintf(c->out + c->out_len, head_max,
		     "HTTP/1.%d %d %s\r\nDate: %s\r\n%s%s%sContent-Length: %zu\r\n%s%s\r\n",
		     req->version_minor, status, http1_reason(status), http_date(c->server),
		     content_type != NULL ? "Content-Type: " : "",
		     content_type != NULL ? content_type : "",
		     content_type != NULL ? "\r\n" : "", len, connection,
		     extra_headers != NULL ? extra_headers : "");
	if (n < 0 || (size_t)n >= head_max)
		return -EMSGSIZE; /* cannot happen: head_max counts every part */
	if (body_out > 0)
		memcpy(c->out + c->out_len + n, body, body_out);
	c->out_len += (size_t)n + body_out;
	req->answered = 1;
	return 0;
}

/* Answers a request the server itself refuses (STATUS, WHY static and printable, JSON-safe),
 * then the connection closes: after a bad head, its byte stream cannot be trusted. */
static void conn_refuse(struct http1_conn *c, int status, const char *why)
{
	struct http1_server *s = c->server;
	struct http1_request *req = &s->req;
	char body[256];
	int n;

	log_limited(s, QUORUM_LOG_INFO, "http_refused", "peer=%s status=%d reason=\"%s\"",
		    c->peer, status, why);
	n = snprintf(body, sizeof(body), "{\"error\":\"%s\"}", why);
	req->conn = c;
	req->version_minor = 1;
	req->keep_alive = 0;
	req->head_only = 0;
	req->answered = 0;
	if (n < 0 ||
	    http1_reply(req, status, "application/json", "Cache-Control: no-store\r\n", body,
			(size_t)n < sizeof(body) ? (size_t)n : sizeof(body) - 1) != 0)
		c->dead = 1;
	c->state = CONN_CLOSING;
}

static void conn_dispatch(struct http1_conn *c, struct http1_request *req)
{
	struct http1_server *s = c->server;
	static const char internal[] = "{\"error\":\"internal error: no answer\"}";

	req->conn = c;
	req->peer = c->peer;
	c->progressed = 1;
	if (s->draining)
		req->keep_alive = 0;
	s->config.handler(req, s->config.handler_arg);
	if (c->deferred != NULL)
		return; /* answered, and its connection's fate decided, at http1_resume */
	if (!req->answered) {
		s->config.api->log(s->config.host, QUORUM_LOG_ERROR,
				   "%s.http_unanswered peer=%s method=%s path=%s; answered 500",
				   s->config.log_prefix, c->peer, req->method, req->path);
		if (http1_reply(req, 500, "application/json", "Cache-Control: no-store\r\n",
				internal, sizeof(internal) - 1) != 0)
			c->dead = 1;
	}
	if (!req->keep_alive)
		c->state = CONN_CLOSING;
}

/* The request at in[0] has its head (HEAD_LEN bytes) and waits for its body: TOTAL bytes in
 * all, at most HTTP1_HEAD_MAX + max_body. */
static void conn_wait_body(struct http1_conn *c, const struct http1_request *req,
			   size_t head_len, size_t total)
{
	if (c->in_cap < total) {
		char *p = realloc(c->in, total);

		if (p == NULL) {
			c->dead = 1;
			return;
		}
		c->in = p;
		c->in_cap = total;
	}
	c->body_wait = total;
	/* RFC 9110 10.1.1: the client waits for this before it sends the body. */
	if (req->expect_continue && !c->continue_sent && c->in_len == head_len) {
		if (out_reserve(c, sizeof(CONTINUE_LINE) - 1) != 0) {
			c->dead = 1;
			return;
		}
		memcpy(c->out + c->out_len, CONTINUE_LINE, sizeof(CONTINUE_LINE) - 1);
		c->out_len += sizeof(CONTINUE_LINE) - 1;
		c->continue_sent = 1;
	}
}

/* Handles the complete requests in IN, in order, while the connection is open and its
 * answers are taken; leaves a partial request at in[0]. */
static void conn_process(struct http1_conn *c)
{
	struct http1_server *s = c->server;
	struct http1_request *req = &s->req;
	size_t off = 0;

	if (c->in == NULL)
		return; /* nothing received since the last request */
	while (c->state == CONN_OPEN && !c->paused && c->deferred == NULL && !c->dead) {
		char *p = c->in + off;
		size_t avail = c->in_len - off, head_len, parsed, total;
		const char *why = "bad request";
		int status;

		/* Empty lines before a request line are ignored (RFC 9112 2.2). */
		while (avail > 0 && (*p == '\r' || *p == '\n')) {
			p++;
			off++;
			avail--;
		}
		if (avail == 0)
			break;
		head_len = http1_head_length(p, avail);
		if (head_len == 0) {
			if (avail >= HTTP1_HEAD_MAX)
				conn_refuse(c, 431,
					    "request header fields too large: the head is over "
					    "8 KiB");
			break;
		}
		memcpy(s->scratch, p, head_len);
		status = http1_parse_head(s->scratch, head_len, req, &parsed, &why);
		if (status != 0) {
			conn_refuse(c, status == HTTP1_INCOMPLETE ? 400 : status, why);
			break;
		}
		if (req->content_length > s->config.max_body) {
			conn_refuse(c, 413,
				    "content too large: the body is over max_body_bytes");
			break;
		}
		total = head_len + (size_t)req->content_length;
		if (avail < total) {
			if (off > 0) { /* the request goes first in the buffer */
				memmove(c->in, p, avail);
				c->in_len = avail;
				off = 0;
			}
			conn_wait_body(c, req, head_len, total);
			break;
		}
		req->body =
			req->content_length > 0 ? (const unsigned char *)p + head_len : NULL;
		req->body_len = (size_t)req->content_length;
		c->body_wait = 0;
		c->continue_sent = 0;
		conn_dispatch(c, req);
		off += total;
		if (c->out_len - c->out_sent >= HTTP1_OUTPUT_PENDING)
			conn_flush(c);
	}
	if (off > 0) {
		memmove(c->in, c->in + off, c->in_len - off);
		c->in_len -= off;
	}
	if (c->body_wait == 0 && c->in_cap > HTTP1_HEAD_MAX && c->in_len < HTTP1_HEAD_MAX) {
		char *p =
			realloc(c->in, HTTP1_HEAD_MAX); /* a large body went by: shrink back */

		if (p != NULL) {
			c->in = p;
			c->in_cap = HTTP1_HEAD_MAX;
		}
	}
}

/* ---- cleartext I/O ---- */

static void conn_pause(struct http1_conn *c)
{
	struct http1_server *s = c->server;

	c->paused = 1;
	if (c->bev != NULL) {
		bufferevent_disable(c->bev, EV_READ);
		return;
	}
	event_del(c->read_event);
	if (event_add(c->write_event, s->idle) != 0)
		c->dead = 1;
}

static void conn_resume(struct http1_conn *c)
{
	struct http1_server *s = c->server;

	c->paused = 0;
	if (c->bev != NULL) {
		if (c->state == CONN_OPEN && c->deferred == NULL)
			bufferevent_enable(c->bev, EV_READ);
		return;
	}
	event_del(c->write_event);
	if (c->state == CONN_OPEN && c->deferred == NULL &&
	    event_add(c->read_event, s->idle) != 0)
		c->dead = 1;
}

/* Sends what is queued, as far as the client takes it; pauses the connection when it does
 * not take everything. */
static void conn_flush(struct http1_conn *c)
{
	if (c->dead)
		return;
	if (c->bev != NULL) {
		if (c->out_len > c->out_sent &&
		    bufferevent_write(c->bev, c->out + c->out_sent, c->out_len - c->out_sent) !=
			    0) {
			c->dead = 1;
			return;
		}
		c->out_len = c->out_sent = 0;
		if (!c->paused &&
		    evbuffer_get_length(bufferevent_get_output(c->bev)) >= HTTP1_OUTPUT_PENDING)
			conn_pause(c);
		return;
	}
	while (c->out_sent < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_sent, c->out_len - c->out_sent,
				 MSG_NOSIGNAL);

		if (n > 0) {
			c->out_sent += (size_t)n;
		} else if (n < 0 && errno == EINTR) {
			continue;
		} else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (!c->paused)
				conn_pause(c);
			return;
		} else {
			c->dead = 1;
			return;
		}
	}
	c->out_len = c->out_sent = 0;
}

/* After every callback: frees a dead connection, closes an idle one while draining, and
 * starts closing one whose last answer is out. */
static void conn_settle(struct http1_conn *c)
{
	struct http1_server *s = c->server;
	struct timeval linger = { LINGER_S, 0 };

	if (!c->dead)
		conn_deadline(c);
	if (c->dead || (s->grace_over && conn_idle(c))) {
		conn_free(c);
		return;
	}
	conn_release_buffers(c);
	if (c->state != CONN_CLOSING || c->out_len > c->out_sent)
		return;
	if (c->bev != NULL) {
		if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
			conn_free(c);
		return; /* else the write callback comes back here once it is out */
	}
	/* Lingering close: the client may still be sending (a body refused with 413); closing
	 * with unread bytes would reset the connection and could destroy our answer. */
	shutdown(c->fd, SHUT_WR);
	c->state = CONN_LINGER;
	event_del(c->write_event);
	if (event_add(c->read_event, &linger) != 0)
		conn_free(c);
}

static void linger_read(struct http1_conn *c)
{
	char sink[4096];

	for (;;) {
		ssize_t n = recv(c->fd, sink, sizeof(sink), 0);

		if (n > 0) {
			c->lingered += (size_t)n;
			if (c->lingered <= LINGER_BYTES)
				continue;
		} else if (n < 0 && errno == EINTR) {
			continue;
		} else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			return;
		}
		conn_free(c); /* EOF, error, or too much */
		return;
	}
}

static void read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct http1_conn *c = arg;
	ssize_t n;

	if (what & EV_TIMEOUT) { /* idle, or the linger is over */
		if (c->state == CONN_OPEN)
			tcp_conn_timed_out(&c->tcp, TCP_DEADLINE_IDLE, "idle");
		else
			conn_free(c);
		return;
	}
	if (c->state == CONN_LINGER) {
		linger_read(c);
		return;
	}
	if (conn_in_alloc(c) != 0 || c->in_len == c->in_cap) {
		/* out of memory; or cannot happen: a full buffer is refused or handled */
		conn_free(c);
		return;
	}
	n = recv(fd, c->in + c->in_len, c->in_cap - c->in_len, 0);
	if (n <= 0) {
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
			return;
		conn_free(c); /* the client closed (between requests, or giving up on one) */
		return;
	}
	c->in_len += (size_t)n;
	conn_process(c);
	conn_flush(c);
	conn_settle(c);
}

static void write_cb(evutil_socket_t fd, short what, void *arg)
{
	struct http1_conn *c = arg;

	(void)fd;
	if (what & EV_TIMEOUT) { /* the client has taken nothing for idle_timeout_s */
		log_limited(c->server, QUORUM_LOG_INFO, "http_refused",
			    "peer=%s reason=\"client not reading its answers: closed\"",
			    c->peer);
		tcp_conn_timed_out(&c->tcp, TCP_DEADLINE_IDLE, "idle");
		return;
	}
	conn_flush(c);
	if (!c->dead && c->out_len == 0) {
		conn_resume(c);
		conn_process(c); /* requests that came pipelined behind */
		conn_flush(c);
	}
	conn_settle(c);
}

/* ---- TLS I/O: the same connection logic over a bufferevent_openssl ---- */

/* Handles what is buffered, pulling from the bufferevent as far as the buffer takes it. */
static void tls_pump(struct http1_conn *c)
{
	struct evbuffer *input = bufferevent_get_input(c->bev);

	for (;;) {
		int n;

		conn_process(c);
		conn_flush(c);
		if (c->dead || c->state != CONN_OPEN || c->paused || c->deferred != NULL)
			return;
		if (evbuffer_get_length(input) == 0)
			return;
		if (conn_in_alloc(c) != 0) {
			c->dead = 1;
			return;
		}
		if (c->in_len == c->in_cap)
			return;
		n = evbuffer_remove(input, c->in + c->in_len, c->in_cap - c->in_len);
		if (n <= 0)
			return;
		c->in_len += (size_t)n;
	}
}

static void tls_read_cb(struct bufferevent *bev, void *arg)
{
	struct http1_conn *c = arg;

	if (c->state != CONN_OPEN) { /* the last answer is on its way: leftovers are dropped */
		struct evbuffer *input = bufferevent_get_input(bev);

		evbuffer_drain(input, evbuffer_get_length(input));
		return;
	}
	tls_pump(c);
	conn_settle(c);
}

static void tls_write_cb(struct bufferevent *bev, void *arg)
{
	struct http1_conn *c = arg;

	(void)bev;
	if (c->paused) {
		conn_resume(c);
		if (c->state == CONN_OPEN)
			tls_pump(c);
	}
	conn_settle(c);
}

static void tls_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct http1_conn *c = arg;
	unsigned long err;
	char text[160] = "";

	if (what & BEV_EVENT_CONNECTED) { /* the handshake is done: its deadline with it */
		c->handshaking = 0;
		c->progressed = 1;
		conn_settle(c);
		return;
	}
	if (what & BEV_EVENT_ERROR) {
		while ((err = bufferevent_get_openssl_error(bev)) != 0)
			if (text[0] == '\0')
				ERR_error_string_n(err, text, sizeof(text));
		if (text[0] != '\0') /* a refused handshake (mTLS), not a mere reset */
			log_limited(c->server, QUORUM_LOG_INFO, "tls_failed",
				    "peer=%s error=\"%s\"", c->peer, text);
	}
	if (what & BEV_EVENT_TIMEOUT && c->state == CONN_OPEN && c->paused)
		log_limited(c->server, QUORUM_LOG_INFO, "http_refused",
			    "peer=%s reason=\"client not reading its answers: closed\"",
			    c->peer);
	if (what & BEV_EVENT_TIMEOUT) /* idle, or not reading, for idle_timeout_s */
		tcp_conn_timed_out(&c->tcp, TCP_DEADLINE_IDLE, "idle");
	else
		conn_free(c); /* EOF or error */
}

/* ---- deferred answers ---- */

/* After http1_resume, on a fresh turn of the loop: the answer goes out, then the connection
 * reads and handles requests again (or closes, when the answer was its last). */
static void resume_cb(evutil_socket_t fd, short what, void *arg)
{
	struct http1_conn *c = arg;

	(void)fd;
	(void)what;
	conn_flush(c);
	if (!c->dead && !c->paused && c->state == CONN_OPEN) {
		if (c->bev != NULL) {
			bufferevent_enable(c->bev, EV_READ);
			tls_pump(c);
		} else if (event_add(c->read_event, c->server->idle) != 0) {
			c->dead = 1;
		} else {
			conn_process(c); /* requests that came pipelined behind */
			conn_flush(c);
		}
	}
	conn_settle(c);
}

struct http1_deferred *http1_defer(struct http1_request *req)
{
	struct http1_conn *c = req->conn;
	struct http1_deferred *d;

	if (c == NULL || c->deferred != NULL || req->answered)
		return NULL;
	if (c->resume == NULL)
		c->resume = evtimer_new(c->server->base, resume_cb, c);
	d = calloc(1, sizeof(*d));
	if (c->resume == NULL || d == NULL) {
		free(d);
		return NULL;
	}
	d->req.conn = c;
	d->req.version_minor = req->version_minor;
	d->req.keep_alive = req->keep_alive;
	d->req.head_only = req->head_only;
	d->req.query = "";
	c->deferred = d;
	/* Nothing more is read until the answer: the bytes behind wait in the socket. */
	if (c->bev != NULL)
		bufferevent_disable(c->bev, EV_READ);
	else if (!c->paused)
		event_del(c->read_event);
	return d;
}

void http1_resume(struct http1_deferred *d)
{
	static const char internal[] = "{\"error\":\"internal error: no answer\"}";
	struct http1_conn *c = d->req.conn;

	if (c != NULL) {
		if (!d->req.answered &&
		    http1_reply(&d->req, 500, "application/json", "Cache-Control: no-store\r\n",
				internal, sizeof(internal) - 1) != 0)
			c->dead = 1;
		if (!d->req.keep_alive)
			c->state = CONN_CLOSING;
		c->deferred = NULL;
		c->progressed = 1;
		event_active(c->resume, EV_TIMEOUT, 0);
	}
	free(d);
}

/* ---- accepting ---- */

static int conn_start_tls(struct http1_conn *c)
{
	struct http1_server *s = c->server;

	c->bev = tcp_conn_bufferevent(&c->tcp, s->config.tls);
	if (c->bev == NULL)
		return -ENOMEM;
	c->handshaking = 1;
	bufferevent_setcb(c->bev, tls_read_cb, tls_write_cb, tls_event_cb, c);
	bufferevent_set_timeouts(c->bev, &s->idle_tv, &s->idle_tv);
	/* What waits in the bufferevent is bounded too: it stops reading beyond this. */
	bufferevent_setwatermark(c->bev, EV_READ, 0, HTTP1_HEAD_MAX * 2);
	return bufferevent_enable(c->bev, EV_READ | EV_WRITE) == 0 ? 0 : -ENOMEM;
}

static int conn_start_cleartext(struct http1_conn *c)
{
	struct http1_server *s = c->server;

	c->read_event = event_new(s->base, c->fd, EV_READ | EV_PERSIST, read_cb, c);
	c->write_event = event_new(s->base, c->fd, EV_WRITE | EV_PERSIST, write_cb, c);
	if (c->read_event == NULL || c->write_event == NULL ||
	    event_add(c->read_event, s->idle) != 0) {
		if (c->read_event != NULL)
			event_free(c->read_event);
		if (c->write_event != NULL)
			event_free(c->write_event);
		return -ENOMEM;
	}
	return 0;
}

/* The core's open: a new connection's I/O, cleartext or TLS. 0 or -ENOMEM. */
static int conn_open(struct tcp_conn *tc, void *arg)
{
	struct http1_conn *c = (struct http1_conn *)tc;
	struct http1_server *s = arg;
	int one = 1, err;

	c->server = s;
	c->fd = tc->fd;
	c->peer = tc->peer;
	/* Each answer goes out in one send(): never held back waiting for an ACK. */
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	err = s->config.tls != NULL ? conn_start_tls(c) : conn_start_cleartext(c);
	if (err == 0) {
		conn_deadline(c); /* TLS: the handshake's */
		if (!c->dead)
			return 0;
		err = -ENOMEM;
	}
	if (c->bev != NULL) {
		bufferevent_free(c->bev); /* it closed the socket */
		tc->fd = -1;
	} else if (c->read_event != NULL) {
		event_free(c->read_event);
		event_free(c->write_event);
	}
	return err;
}

/* ---- the server ---- */

static void drain_grace_cb(evutil_socket_t fd, short what, void *arg)
{
	struct http1_server *s = arg;

	(void)fd;
	(void)what;
	s->grace_over = 1;
	for (struct tcp_conn *c = tcp_server_first(s->tcp), *next; c != NULL; c = next) {
		next = tcp_conn_next(c);
		if (conn_idle((struct http1_conn *)c))
			tcp_conn_close(c); /* the last one ends the drain */
	}
}

static const struct tcp_server_ops conn_ops = {
	.conn_size = sizeof(struct http1_conn),
	.open = conn_open,
	.release = conn_release,
};

int http1_server_new(const struct http1_config *config, struct http1_server **out)
{
	struct http1_server *s = calloc(1, sizeof(*s));
	struct tcp_server_config tcp = {
		.host = config->host,
		.api = config->api,
		.log_prefix = config->log_prefix,
		.ops = &conn_ops,
		.arg = s,
	};
	int64_t ms;
	int err;

	if (s == NULL)
		return -ENOMEM;
	s->config = *config;
	s->base = config->api->event_base(config->host);
	tcp.limits.max_connections = config->max_connections;
	tcp.limits.idle_timeout_s =
		config->idle_timeout_s > 0 ? config->idle_timeout_s : CONNLIMIT_IDLE_TIMEOUT_S;
	ms = config->header_timeout_ms > 0 ? config->header_timeout_ms
					   : CONNLIMIT_HEADER_TIMEOUT_MS;
	tcp.limits.header_timeout_ms = ms;
	tcp.limits.header_timeout.tv_sec = (time_t)(ms / 1000);
	tcp.limits.header_timeout.tv_usec = (suseconds_t)(ms % 1000 * 1000);
	tcp.limits.idle_timeout.tv_sec = (time_t)tcp.limits.idle_timeout_s;
	s->idle_tv = tcp.limits.idle_timeout;
	s->drain_grace = evtimer_new(s->base, drain_grace_cb, s);
	err = s->drain_grace == NULL ? -ENOMEM : tcp_server_new(&tcp, &s->tcp);
	if (err != 0) {
		if (s->drain_grace != NULL)
			event_free(s->drain_grace);
		free(s);
		return err;
	}
	/* a common timeout: re-arming it on every read is a queue append, not a heap update */
	s->idle = tcp_server_timeout(s->tcp, TCP_DEADLINE_IDLE);
	*out = s;
	return 0;
}

int http1_server_listen(struct http1_server *s, int fd)
{
	return tcp_server_listen(s->tcp, fd);
}

int http1_server_drain(struct http1_server *s, http1_drained_cb done, void *arg)
{
	struct timeval grace = { 0, DRAIN_GRACE_MS * 1000 };

	s->draining = 1;
	if (tcp_server_drain(s->tcp, done, arg) == 0)
		return 0;
	/* Answers are synchronous, so right now every busy client is between two requests, its
	 * next one perhaps already on the wire: closing at once would reset it. Requests that
	 * arrive within the grace are answered ("Connection: close"); then idle ones close. */
	if (event_add(s->drain_grace, &grace) != 0)
		drain_grace_cb(-1, 0, s);
	return QUORUM_AGAIN;
}

struct tcp_server *http1_server_tcp(struct http1_server *s)
{
	return s->tcp;
}

void http1_server_stats(const struct http1_server *s, struct http1_stats *out)
{
	struct tcp_stats st;

	tcp_server_stats(s->tcp, &st);
	out->open = st.open;
	out->refused = st.refused;
	out->header_timeouts = st.header_timeouts;
	out->idle_timeouts = st.idle_timeouts;
}

void http1_server_free(struct http1_server *s)
{
	if (s == NULL)
		return;
	tcp_server_free(s->tcp);
	event_free(s->drain_grace);
	free(s);
}
