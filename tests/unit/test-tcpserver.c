/* test-tcpserver.c -- the TCP server core of REST, WebSocket and gRPC without a transport:
 * max_connections, the deadlines and the ops that defer or move them, the end of a drain,
 * and accepting that backs off when descriptors run out, on a real loop and real sockets. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>
#include <glib.h>

#include "mockhost.h"
#include "tcpserver.h"

struct test_conn {
	struct tcp_conn tcp; /* first, as the core requires */
	int serial;
};

struct fixture {
	struct event_base *base;
	struct mockhost mock; /* the host: the event base, and every line logged */
	struct tcp_server *server;
	int opened, released, expired, drained;
	enum tcp_deadline expired_kind;
	int defer_close;       /* expired answers 1: the transport closes later */
	int64_t due_ns;	       /* the due op's answer (0: none) */
	int64_t expired_at;    /* CLOCK_MONOTONIC ns of the last expiry */
	struct tcp_conn *kept; /* the connection whose close was deferred */
};

static int op_open(struct tcp_conn *c, void *arg)
{
	struct fixture *f = arg;

	((struct test_conn *)c)->serial = ++f->opened;
	return 0;
}

static void op_release(struct tcp_conn *c, void *arg)
{
	struct fixture *f = arg;

	f->released++;
	if (c->fd >= 0)
		close(c->fd);
}

static int op_expired(struct tcp_conn *c, enum tcp_deadline kind, void *arg)
{
	struct fixture *f = arg;

	f->expired++;
	f->expired_kind = kind;
	f->expired_at = mono_now_ns();
	if (f->defer_close)
		f->kept = c;
	return f->defer_close;
}

static int64_t op_due(struct tcp_conn *c, enum tcp_deadline *kind, const char **what, void *arg)
{
	struct fixture *f = arg;

	(void)c;
	*kind = TCP_DEADLINE_HEADER;
	*what = "header block";
	return f->due_ns;
}

static const struct tcp_server_ops plain_ops = {
	.conn_size = sizeof(struct test_conn),
	.open = op_open,
	.release = op_release,
};

static const struct tcp_server_ops deferring_ops = {
	.conn_size = sizeof(struct test_conn),
	.open = op_open,
	.release = op_release,
	.expired = op_expired,
};

static const struct tcp_server_ops due_ops = {
	.conn_size = sizeof(struct test_conn),
	.open = op_open,
	.release = op_release,
	.expired = op_expired,
	.due = op_due,
};

static struct fixture *fixture_new(const struct tcp_server_ops *ops, size_t max_connections,
				   int64_t header_timeout_ms)
{
	struct fixture *f = g_new0(struct fixture, 1);
	struct tcp_server_config config = { 0 };

	f->base = event_base_new();
	mockhost_init(&f->mock);
	f->mock.base = f->base;
	config.host = mockhost_host(&f->mock);
	config.api = &f->mock.api;
	config.log_prefix = "test";
	config.ops = ops;
	config.arg = f;
	config.limits.max_connections = max_connections;
	config.limits.header_timeout_ms = header_timeout_ms;
	config.limits.header_timeout.tv_sec = (time_t)(header_timeout_ms / 1000);
	config.limits.header_timeout.tv_usec = (suseconds_t)(header_timeout_ms % 1000 * 1000);
	config.limits.idle_timeout_s = 60;
	config.limits.idle_timeout.tv_sec = 60;
	g_assert_cmpint(tcp_server_new(&config, &f->server), ==, 0);
	return f;
}

static void fixture_free(struct fixture *f)
{
	tcp_server_free(f->server);
	g_assert_cmpint(f->released, ==, f->opened); /* every one opened was released */
	event_base_free(f->base);
	mockhost_release(&f->mock);
	g_free(f);
}

static void pump(struct fixture *f, int ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	event_base_loopexit(f->base, &tv);
	event_base_dispatch(f->base);
}

/* A connected socket for the core (the other end, *PEER, is the test's). */
static int socket_pair(int *peer)
{
	int sv[2];

	g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), ==, 0);
	*peer = sv[1];
	return sv[0];
}

/* Whether the other end of PEER was closed. */
static int peer_closed(int peer)
{
	char c;

	return recv(peer, &c, 1, MSG_DONTWAIT) == 0;
}

static void test_max_connections(void)
{
	struct fixture *f = fixture_new(&plain_ops, 2, 1000);
	int pa, pb, pc;
	struct tcp_conn *a = tcp_server_adopt(f->server, socket_pair(&pa), "192.0.2.1");
	struct tcp_conn *b = tcp_server_adopt(f->server, socket_pair(&pb), "192.0.2.2");
	struct tcp_conn *c = tcp_server_adopt(f->server, socket_pair(&pc), "192.0.2.3");
	struct tcp_stats st;

	g_assert_nonnull(a);
	g_assert_nonnull(b);
	g_assert_null(c); /* closed at once, before the transport saw it */
	g_assert_true(peer_closed(pc));
	g_assert_false(peer_closed(pa));
	g_assert_cmpint(f->opened, ==, 2);
	g_assert_cmpstr(b->peer, ==, "192.0.2.2");
	g_assert_true(tcp_server_first(f->server) == b); /* newest first */
	g_assert_true(tcp_conn_next(b) == a);
	tcp_server_stats(f->server, &st);
	g_assert_cmpuint(st.open, ==, 2);
	g_assert_cmpuint(st.refused, ==, 1);
	g_assert_nonnull(strstr(mockhost_logs(&f->mock),
				"test.connection_refused peer=192.0.2.3 "
				"reason=\"2 connections open, max_connections\" "
				"count=1 total=1"));
	tcp_conn_close(a); /* room again */
	g_assert_true(peer_closed(pa));
	g_assert_nonnull(tcp_server_adopt(f->server, socket_pair(&pc), "192.0.2.3"));
	close(pa);
	close(pb);
	close(pc);
	fixture_free(f);
}

/* A header deadline runs from its start, is not extended by a second start, and closes the
 * connection when it passes: counted and logged. */
static void test_header_deadline(void)
{
	struct fixture *f = fixture_new(&plain_ops, 4, 100);
	int pa, pb;
	struct tcp_conn *a = tcp_server_adopt(f->server, socket_pair(&pa), "192.0.2.1");
	struct tcp_conn *b = tcp_server_adopt(f->server, socket_pair(&pb), "192.0.2.2");
	struct tcp_stats st;
	int64_t due;

	g_assert_cmpint(tcp_conn_deadline_start(a, TCP_DEADLINE_HEADER, "request"), ==, 0);
	due = tcp_conn_deadline_due(a);
	g_usleep(20000); /* more bytes come later (the loop not run: nothing can expire) */
	g_assert_cmpint(tcp_conn_deadline_start(a, TCP_DEADLINE_HEADER, "request"), ==, 0);
	g_assert_cmpint(tcp_conn_deadline_due(a), ==, due); /* trickling never extends it */
	g_assert_cmpint(tcp_conn_deadline_start(b, TCP_DEADLINE_HEADER, "request"), ==, 0);
	tcp_conn_deadline_clear(b); /* b's request came in time */
	g_assert_cmpint(tcp_conn_deadline_kind(b), ==, TCP_DEADLINE_NONE);
	pump(f, 150);
	g_assert_cmpint(f->released, ==, 1);
	g_assert_true(peer_closed(pa));
	g_assert_false(peer_closed(pb));
	tcp_server_stats(f->server, &st);
	g_assert_cmpuint(st.open, ==, 1);
	g_assert_cmpuint(st.header_timeouts, ==, 1);
	g_assert_nonnull(strstr(mockhost_logs(&f->mock),
				"test.header_timeout peer=192.0.2.1 reason=\"request "
				"not complete within 100 ms: closed\""));
	close(pa);
	close(pb);
	fixture_free(f);
}

/* A transport that says goodbye first keeps the connection past its deadline, and closes it
 * itself (gRPC's GOAWAY); its own I/O's timeouts are counted as the core's. */
static void test_expired_op_defers_close(void)
{
	struct fixture *f = fixture_new(&deferring_ops, 4, 60);
	int pa, pb;
	struct tcp_conn *a = tcp_server_adopt(f->server, socket_pair(&pa), "192.0.2.1");
	struct tcp_conn *b = tcp_server_adopt(f->server, socket_pair(&pb), "192.0.2.2");
	struct tcp_stats st;

	f->defer_close = 1;
	g_assert_cmpint(tcp_conn_deadline_start(a, TCP_DEADLINE_HEADER, "preface"), ==, 0);
	pump(f, 150);
	g_assert_cmpint(f->expired, ==, 1);
	g_assert_cmpint(f->expired_kind, ==, TCP_DEADLINE_HEADER);
	g_assert_true(f->kept == a);
	g_assert_cmpint(f->released, ==, 0);
	g_assert_false(peer_closed(pa));
	tcp_conn_close(a); /* its goodbye is out */
	g_assert_true(peer_closed(pa));
	tcp_conn_timed_out(b, TCP_DEADLINE_IDLE, "idle");
	g_assert_true(peer_closed(pb));
	tcp_server_stats(f->server, &st);
	g_assert_cmpuint(st.open, ==, 0);
	g_assert_cmpuint(st.header_timeouts, ==, 1);
	g_assert_cmpuint(st.idle_timeouts, ==, 1);
	close(pa);
	close(pb);
	fixture_free(f);
}

/* A transport whose deadlines follow from its state (gRPC's streams) moves them: when the
 * timer fires early for what is due now, it is re-armed, never expired early. */
static void test_due_op_moves_the_deadline(void)
{
	struct fixture *f = fixture_new(&due_ops, 4, 1000);
	int pa;
	struct tcp_conn *a = tcp_server_adopt(f->server, socket_pair(&pa), "192.0.2.1");
	int64_t later;

	g_assert_cmpint(
		tcp_conn_deadline_at(a, TCP_DEADLINE_IDLE, mono_now_ns() + 30000000, "idle"),
		==, 0);
	later = mono_now_ns() + 300000000; /* a request began: due 300 ms from now */
	f->due_ns = later;
	pump(f, 80);
	if (mono_now_ns() < later) { /* (a loaded machine may have slept past it) */
		g_assert_cmpint(f->expired, ==, 0); /* fired at 30 ms, moved on */
		g_assert_cmpint(tcp_conn_deadline_kind(a), ==, TCP_DEADLINE_HEADER);
		g_assert_cmpint(tcp_conn_deadline_due(a), ==, later);
	}
	pump(f, 400);
	g_assert_cmpint(f->expired, ==, 1);
	g_assert_cmpint(f->expired_at, >=, later);
	g_assert_true(peer_closed(pa));
	g_assert_nonnull(
		strstr(mockhost_logs(&f->mock), "reason=\"header block not complete within"));
	/* nothing due: the timer fires and nothing happens */
	a = tcp_server_adopt(f->server, socket_pair(&pa), "192.0.2.1");
	g_assert_cmpint(
		tcp_conn_deadline_at(a, TCP_DEADLINE_IDLE, mono_now_ns() + 20000000, "idle"),
		==, 0);
	f->due_ns = 0;
	pump(f, 60);
	g_assert_cmpint(f->expired, ==, 1);
	g_assert_false(peer_closed(pa));
	close(pa);
	fixture_free(f);
}

static void on_drained(void *arg)
{
	((struct fixture *)arg)->drained++;
}

static void test_drain_ends_with_the_last_connection(void)
{
	struct fixture *f = fixture_new(&plain_ops, 4, 1000);
	int pa, pb;
	struct tcp_conn *a = tcp_server_adopt(f->server, socket_pair(&pa), "192.0.2.1");
	struct tcp_conn *b = tcp_server_adopt(f->server, socket_pair(&pb), "192.0.2.2");

	g_assert_false(tcp_server_draining(f->server));
	g_assert_cmpint(tcp_server_drain(f->server, on_drained, f), ==, QUORUM_AGAIN);
	g_assert_true(tcp_server_draining(f->server));
	tcp_conn_close(a);
	g_assert_cmpint(f->drained, ==, 0);
	tcp_conn_close(b);
	g_assert_cmpint(f->drained, ==, 1);
	close(pa);
	close(pb);
	fixture_free(f);
	/* nothing open: over at once, DONE never called */
	f = fixture_new(&plain_ops, 4, 1000);
	g_assert_cmpint(tcp_server_drain(f->server, on_drained, f), ==, 0);
	g_assert_cmpint(f->drained, ==, 0);
	fixture_free(f);
}

/* Out of descriptors, accept() fails while the listening socket stays readable: the core
 * pauses 100 ms between tries instead of spinning, logs once a second, and accepts the
 * waiting connections once descriptors are back. */
static void test_accept_backs_off_without_descriptors(void)
{
	struct fixture *f = fixture_new(&plain_ops, 16, 1000);
	struct sockaddr_in addr = { .sin_family = AF_INET,
				    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(addr);
	int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int clients[3], lowest;
	struct rlimit saved, low;
	const char *line;
	unsigned long long count, total;
	struct tcp_stats st;

	g_assert_cmpint(bind(lfd, (struct sockaddr *)&addr, sizeof(addr)), ==, 0);
	g_assert_cmpint(listen(lfd, 16), ==, 0);
	g_assert_cmpint(getsockname(lfd, (struct sockaddr *)&addr, &len), ==, 0);
	g_assert_cmpint(tcp_server_listen(f->server, lfd), ==, 0);
	for (int i = 0; i < 3; i++) {
		clients[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		g_assert_cmpint(connect(clients[i], (struct sockaddr *)&addr, sizeof(addr)), ==,
				0); /* in the backlog */
	}
	/* No descriptor left: the limit is the lowest free one. */
	lowest = dup(0);
	g_assert_cmpint(lowest, >=, 0);
	close(lowest);
	g_assert_cmpint(getrlimit(RLIMIT_NOFILE, &saved), ==, 0);
	low = saved;
	low.rlim_cur = (rlim_t)lowest;
	g_assert_cmpint(setrlimit(RLIMIT_NOFILE, &low), ==, 0);
	pump(f, 1300); /* past a second: the second line counts the tries meanwhile */
	g_assert_cmpint(setrlimit(RLIMIT_NOFILE, &saved), ==, 0);
	tcp_server_stats(f->server, &st);
	g_assert_cmpuint(st.open, ==, 0);
	g_assert_nonnull(strstr(mockhost_logs(&f->mock),
				"test.accept_failed peer=- reason=\"Too many open "
				"files\" count=1 total=1"));
	line = strrchr(mockhost_logs(&f->mock), '\n');
	while (line > mockhost_logs(&f->mock) && line[-1] != '\n')
		line--; /* the last line */
	g_assert_cmpint(sscanf(strstr(line, "count="), "count=%llu total=%llu", &count, &total),
			==, 2);
	g_test_message("accept() failed %llu times in 1.3 s", total);
	g_assert_cmpuint(total, >=, 2);
	g_assert_cmpuint(total, <=,
			 30); /* about one try per 100 ms; a spinning loop: millions */
	pump(f, 250);
	tcp_server_stats(f->server, &st);
	g_assert_cmpuint(st.open, ==, 3);
	for (int i = 0; i < 3; i++)
		close(clients[i]);
	fixture_free(f);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/tcpserver/accept/refuses-past-max-connections", test_max_connections);
	g_test_add_func("/tcpserver/accept/backs-off-without-descriptors",
			test_accept_backs_off_without_descriptors);
	g_test_add_func("/tcpserver/deadline/header-closes-counted-and-logged",
			test_header_deadline);
	g_test_add_func("/tcpserver/deadline/expired-op-defers-the-close",
			test_expired_op_defers_close);
	g_test_add_func("/tcpserver/deadline/due-op-moves-it-never-early",
			test_due_op_moves_the_deadline);
	g_test_add_func("/tcpserver/drain/ends-with-the-last-connection",
			test_drain_ends_with_the_last_connection);
	return g_test_run();
}
