/* test-http1.c -- REST's HTTP/1.1 core without the daemon: the head parser and query rules on
 * bytes, then the server on a real event loop through a mock host API, with real sockets:
 * keep-alive, pipelining, bodies, refusals, backpressure and drain. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>
#include <glib.h>

#include "http1.h"
#include "mockhost.h"
#include "query.h"

/* ---- the parser ---- */

/* Parses TEXT (copied); the status, with REQ filled. */
static int parse(const char *text, struct http1_request *req, char *buf, size_t *head_len)
{
	const char *why = NULL;
	int status;

	memcpy(buf, text, strlen(text));
	status = http1_parse_head(buf, strlen(text), req, head_len, &why);
	if (status > HTTP1_INCOMPLETE)
		g_assert_nonnull(why);
	return status;
}

static void test_parse_get(void)
{
	struct http1_request req;
	char buf[HTTP1_HEAD_MAX];
	size_t n;
	const char *text = "GET /v1/time?format=unix&nonce=ab HTTP/1.1\r\nHost: x\r\n"
			   "Authorization:  Bearer t0k  \r\n\r\nBODY";

	g_assert_cmpint(parse(text, &req, buf, &n), ==, 0);
	g_assert_cmpuint(n, ==, strlen(text) - 4);
	g_assert_cmpstr(req.method, ==, "GET");
	g_assert_cmpstr(req.path, ==, "/v1/time");
	g_assert_cmpstr(req.query, ==, "format=unix&nonce=ab");
	g_assert_cmpint(req.version_minor, ==, 1);
	g_assert_true(req.keep_alive);
	g_assert_false(req.head_only);
	g_assert_cmpuint(req.content_length, ==, 0);
	g_assert_cmpstr(http1_header(&req, "authorization"), ==, "Bearer t0k");
	g_assert_cmpstr(http1_header(&req, "HOST"), ==, "x");
	g_assert_null(http1_header(&req, "Cookie"));
}

static void test_parse_incomplete(void)
{
	const char *text = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
	char buf[64];

	for (size_t len = 0; len < strlen(text); len++) {
		struct http1_request req;
		const char *why;
		size_t n;

		memcpy(buf, text, len);
		g_assert_cmpint(http1_parse_head(buf, len, &req, &n, &why), ==,
				HTTP1_INCOMPLETE);
		g_assert_cmpint(memcmp(buf, text, len), ==, 0); /* untouched */
	}
}

static void test_parse_bare_lf_and_forms(void)
{
	struct http1_request req;
	char buf[HTTP1_HEAD_MAX];
	size_t n;

	g_assert_cmpint(
		parse("HEAD /healthz HTTP/1.0\nConnection: keep-alive\n\n", &req, buf, &n), ==,
		0);
	g_assert_true(req.head_only);
	g_assert_true(req.keep_alive);
	g_assert_cmpint(req.version_minor, ==, 0);
	g_assert_cmpint(parse("GET http://example.org:80/v1/status?x=1#frag HTTP/1.1\r\n\r\n",
			      &req, buf, &n),
			==, 0);
	g_assert_cmpstr(req.path, ==, "/v1/status");
	g_assert_cmpstr(req.query, ==, "x=1");
	g_assert_cmpint(parse("GET http://example.org HTTP/1.1\r\n\r\n", &req, buf, &n), ==, 0);
	g_assert_cmpstr(req.path, ==, "/");
	g_assert_cmpint(parse("GET /p#f?not-a-query HTTP/1.1\r\n\r\n", &req, buf, &n), ==, 0);
	g_assert_cmpstr(req.path, ==, "/p");
	g_assert_cmpstr(req.query, ==, "");
	g_assert_cmpint(parse("OPTIONS * HTTP/1.1\r\n\r\n", &req, buf, &n), ==, 0);
	g_assert_cmpstr(req.path, ==, "*");
	g_assert_cmpint(parse("GET / HTTP/1.2\r\n\r\n", &req, buf, &n), ==, 0);
	g_assert_cmpint(req.version_minor, ==, 1);
}

static void test_parse_connection(void)
{
	struct http1_request req;
	char buf[HTTP1_HEAD_MAX];
	size_t n;

	g_assert_cmpint(
		parse("GET / HTTP/1.1\r\nConnection: Keep-Alive, CLOSE\r\n\r\n", &req, buf, &n),
		==, 0);
	g_assert_false(req.keep_alive);
	g_assert_cmpint(parse("GET / HTTP/1.0\r\n\r\n", &req, buf, &n), ==, 0);
	g_assert_false(req.keep_alive);
	g_assert_cmpint(parse("GET / HTTP/1.1\r\nConnection: upgrade\r\n\r\n", &req, buf, &n),
			==, 0);
	g_assert_true(req.keep_alive);
}

static void test_parse_refusals(void)
{
	static const struct {
		const char *text;
		int status;
	} cases[] = {
		{ "GARBAGE\r\n\r\n", 400 },
		{ "GET /\r\n\r\n", 400 },
		{ "GET  / HTTP/1.1\r\n\r\n", 400 },
		{ "GET / HTTP/1.1 \r\n\r\n", 400 },
		{ "GET / http/1.1\r\n\r\n", 400 },
		{ "GET /a\x01 HTTP/1.1\r\n\r\n", 400 },
		{ "GET /caf\xc3\xa9 HTTP/1.1\r\n\r\n", 400 },
		{ "GET relative HTTP/1.1\r\n\r\n", 400 },
		{ "G(T / HTTP/1.1\r\n\r\n", 400 },
		{ "GARBAGE / HTTP/9.9\r\n\r\n", 505 },
		{ "GET / HTTP/2.0\r\n\r\n", 505 },
		{ "GET / HTTP/1.1\r\nHost : x\r\n\r\n", 400 },
		{ "GET / HTTP/1.1\r\nX: a\r\n b\r\n\r\n", 400 },
		{ "GET / HTTP/1.1\r\nNoColon\r\n\r\n", 400 },
		{ "GET / HTTP/1.1\r\nX: a\rb\r\n\r\n", 400 },
		{ "GET / HTTP/1.1\r\nX: a\x7f\r\n\r\n", 400 },
		{ "GET / HTTP/1.1\r\n: empty\r\n\r\n", 400 },
		{ "POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400 },
		{ "POST / HTTP/1.1\r\nContent-Length: 1x\r\n\r\n", 400 },
		{ "POST / HTTP/1.1\r\nContent-Length: 1, 1\r\n\r\n", 400 },
		{ "POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400 },
		{ "POST / HTTP/1.1\r\nContent-Length: 9999999999999999999\r\n\r\n", 400 },
		{ "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", 411 },
		{ "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n",
		  400 },
		{ "POST / HTTP/1.1\r\nExpect: something\r\n\r\n", 417 },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		struct http1_request req;
		char buf[HTTP1_HEAD_MAX];
		size_t n;

		if (g_test_verbose())
			g_printerr("%s", cases[i].text);
		g_assert_cmpint(parse(cases[i].text, &req, buf, &n), ==, cases[i].status);
	}
}

static void test_parse_bodies_and_expect(void)
{
	struct http1_request req;
	char buf[HTTP1_HEAD_MAX];
	size_t n;

	g_assert_cmpint(parse("POST / HTTP/1.1\r\nContent-Length: 12\r\ncontent-length: 12\r\n"
			      "Expect: 100-Continue\r\n\r\n",
			      &req, buf, &n),
			==, 0);
	g_assert_cmpuint(req.content_length, ==, 12);
	g_assert_true(req.expect_continue);
	/* HTTP/1.0 clients get no 100 Continue, whatever they expect (RFC 9110 10.1.1). */
	g_assert_cmpint(parse("POST / HTTP/1.0\r\nExpect: anything\r\n\r\n", &req, buf, &n), ==,
			0);
	g_assert_false(req.expect_continue);
}

static void test_parse_limits(void)
{
	GString *head = g_string_new("GET / HTTP/1.1\r\n");
	struct http1_request req;
	char *buf;
	size_t n;

	for (int i = 0; i < HTTP1_HEADERS_MAX; i++)
		g_string_append_printf(head, "X-%d: %d\r\n", i, i);
	buf = g_malloc(head->len + 64);
	g_string_append(head, "\r\n");
	g_assert_cmpint(parse(head->str, &req, buf, &n), ==, 0);
	g_assert_cmpuint(req.header_count, ==, HTTP1_HEADERS_MAX);
	g_string_insert(head, 16, "One-More: x\r\n");
	buf = g_realloc(buf, head->len + 64);
	g_assert_cmpint(parse(head->str, &req, buf, &n), ==, 431);
	/* A head longer than HTTP1_HEAD_MAX is never complete: the server refuses it (431). */
	g_string_assign(head, "GET / HTTP/1.1\r\nX: ");
	while (head->len < HTTP1_HEAD_MAX)
		g_string_append_c(head, 'a');
	g_string_append(head, "\r\n\r\n");
	g_assert_cmpuint(http1_head_length(head->str, head->len), ==, 0);
	g_free(buf);
	g_string_free(head, TRUE);
}

/* Queries are read strictly: a parameter without '=' has the empty value and never hides
 * the others; anything malformed makes the whole query malformed (-EINVAL: 400), never
 * "no parameters" or a value cut short. */
static void test_query_rules(void)
{
	static const struct {
		const char *query, *why;
	} malformed[] = {
		{ "format=unix&&x=1", "an empty parameter" },
		{ "format=unix&", "an empty parameter" },
		{ "&format=unix", "an empty parameter" },
		{ "=1&format=unix", "a parameter without a name" },
		{ "format=unix%00xml", "an escaped NUL (%00)" },
		{ "pct=%zz", "'%' not followed by two hex digits" },
		{ "pct=%4", "'%' not followed by two hex digits" },
		{ "token=a%2", "'%' not followed by two hex digits" },
		{ "format=unix&FORMAT=json", "a parameter given twice" },
		{ "f%6Frmat=unix&format=json", "a parameter given twice" },
		{ "x=\x01", "a byte that is not printable ASCII" },
	};
	struct http1_request req = { 0 };
	const char *why;
	char out[16];

	req.query = "format=unix&Nonce=a%2Fb+c&pretty&x=";
	g_assert_cmpint(query_check(req.query, &why), ==, 0);
	g_assert_cmpint(http1_query_param(&req, "format", out, sizeof(out)), ==, 0);
	g_assert_cmpstr(out, ==, "unix"); /* "pretty" hides nothing */
	g_assert_cmpint(http1_query_param(&req, "NONCE", out, sizeof(out)), ==, 0);
	g_assert_cmpstr(out, ==, "a/b c");
	g_assert_cmpint(http1_query_param(&req, "pretty", out, sizeof(out)), ==, 0);
	g_assert_cmpstr(out, ==, "");
	g_assert_cmpint(http1_query_param(&req, "x", out, sizeof(out)), ==, 0);
	g_assert_cmpstr(out, ==, "");
	g_assert_cmpint(http1_query_param(&req, "absent", out, sizeof(out)), ==, -ENOENT);
	g_assert_cmpint(http1_query_param(&req, "nonce", out, 5), ==, -ENOSPC);
	req.query = "flag&format=xml"; /* format is read: xml, which the caller refuses */
	g_assert_cmpint(http1_query_param(&req, "format", out, sizeof(out)), ==, 0);
	g_assert_cmpstr(out, ==, "xml");
	req.query = "format=%41%42";
	g_assert_cmpint(http1_query_param(&req, "format", out, sizeof(out)), ==, 0);
	g_assert_cmpstr(out, ==, "AB");
	req.query = "";
	g_assert_cmpint(query_check(req.query, &why), ==, 0);
	g_assert_cmpint(http1_query_param(&req, "format", out, sizeof(out)), ==, -ENOENT);
	for (size_t i = 0; i < G_N_ELEMENTS(malformed); i++) {
		req.query = malformed[i].query;
		g_test_message("%s", malformed[i].query);
		g_assert_cmpint(query_check(req.query, &why), ==, -EINVAL);
		g_assert_cmpstr(why, ==, malformed[i].why);
		g_assert_cmpint(http1_query_param(&req, "format", out, sizeof(out)), ==,
				-EINVAL);
		g_assert_cmpint(http1_query_param(&req, "absent", out, sizeof(out)), ==,
				-EINVAL);
	}
	/* at most QUERY_PARAMS_MAX parameters */
	{
		GString *q = g_string_new("");

		for (int i = 0; i < QUERY_PARAMS_MAX; i++)
			g_string_append_printf(q, "%sp%d=%d", i ? "&" : "", i, i);
		g_assert_cmpint(query_check(q->str, &why), ==, 0);
		g_string_append(q, "&one=more");
		g_assert_cmpint(query_check(q->str, &why), ==, -EINVAL);
		g_assert_cmpstr(why, ==, "too many parameters");
		g_string_free(q, TRUE);
	}
}

/* A value that does not fit: -ENOSPC, and OUT holds what fits. */
static void test_query_too_long(void)
{
	char out[5];

	g_assert_cmpint(query_param("token=abcdefgh", "token", out, sizeof(out)), ==, -ENOSPC);
	g_assert_cmpstr(out, ==, "abcd");
	g_assert_cmpint(query_param("token=ab", "token", out, 0), ==, -ENOSPC);
}

/* ---- the server, through a mock host API ---- */

struct fixture {
	struct event_base *base;
	struct mockhost mock; /* the host: the event base, and every line logged */
	struct http1_server *server;
	int port;
	int handled; /* requests the handler saw */
	int drained; /* drained callbacks */
	size_t big;  /* the size of /big's answer */
	char last_body[64];
	struct http1_deferred *deferred; /* /defer's answer, given later */
};

/* The next fixture's header_timeout_ms and idle_timeout_s (0: http1's defaults). */
static int64_t next_header_timeout_ms, next_idle_timeout_s;

/* Answers "METHOD PATH?QUERY n=BODY-LENGTH"; /big with F->big bytes; /none not at all. */
static void handler(struct http1_request *req, void *arg)
{
	struct fixture *f = arg;
	char text[256];
	int n;

	f->handled++;
	if (strcmp(req->path, "/none") == 0)
		return;
	if (strcmp(req->path, "/defer") == 0) {
		g_assert_null(f->deferred);
		f->deferred = http1_defer(req);
		g_assert_nonnull(f->deferred);
		return;
	}
	if (strcmp(req->path, "/big") == 0) {
		char *body = g_malloc(f->big);

		memset(body, 'b', f->big);
		g_assert_cmpint(http1_reply(req, 200, "text/plain", "", body, f->big), ==, 0);
		g_free(body);
		return;
	}
	snprintf(f->last_body, sizeof(f->last_body), "%.*s", (int)req->body_len,
		 req->body != NULL ? (const char *)req->body : "");
	n = snprintf(text, sizeof(text), "%s %s?%s n=%zu peer=%s", req->method, req->path,
		     req->query, req->body_len, req->peer);
	g_assert_cmpint(http1_reply(req, 200, "text/plain", "X-Test: 1\r\n", text, (size_t)n),
			==, 0);
	g_assert_cmpint(http1_reply(req, 200, "text/plain", "", "", 0), ==, -EALREADY);
}

static void on_drained(void *arg)
{
	((struct fixture *)arg)->drained++;
}

/* A server on 127.0.0.1 (a free port); SNDBUF (0: the default) for its connections. */
static struct fixture *fixture_new_with(size_t max_body, size_t max_connections, int sndbuf)
{
	struct fixture *f = g_new0(struct fixture, 1);
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	struct http1_config config = { 0 };
	int fd;

	f->base = event_base_new();
	mockhost_init(&f->mock);
	f->mock.base = f->base;
	config.host = mockhost_host(&f->mock);
	config.api = &f->mock.api;
	config.log_prefix = "test";
	config.max_body = max_body;
	config.max_connections = max_connections;
	config.header_timeout_ms = next_header_timeout_ms;
	config.idle_timeout_s = next_idle_timeout_s;
	config.handler = handler;
	config.handler_arg = f;
	g_assert_cmpint(http1_server_new(&config, &f->server), ==, 0);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (sndbuf > 0) /* accepted sockets inherit it */
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	g_assert_cmpint(bind(fd, (struct sockaddr *)&a, sizeof(a)), ==, 0);
	g_assert_cmpint(listen(fd, 64), ==, 0);
	g_assert_cmpint(getsockname(fd, (struct sockaddr *)&a, &len), ==, 0);
	f->port = ntohs(a.sin_port);
	g_assert_cmpint(http1_server_listen(f->server, fd), ==, 0);
	return f;
}

static struct fixture *fixture_new(size_t max_body, size_t max_connections)
{
	return fixture_new_with(max_body, max_connections, 0);
}

static void fixture_free(struct fixture *f)
{
	http1_server_free(f->server);
	event_base_free(f->base);
	mockhost_release(&f->mock);
	g_free(f);
	next_header_timeout_ms = next_idle_timeout_s = 0;
}

/* Runs the loop for MS milliseconds. */
static void pump(struct fixture *f, int ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	event_base_loopexit(f->base, &tv);
	event_base_dispatch(f->base);
}

/* A connected client socket; RCVBUF (0: the default) before connecting, so it binds. */
static int client_with(struct fixture *f, int rcvbuf)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
				 .sin_port = htons((uint16_t)f->port) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (rcvbuf > 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	g_assert_cmpint(connect(fd, (struct sockaddr *)&a, sizeof(a)), ==, 0);
	return fd;
}

static int client(struct fixture *f)
{
	return client_with(f, 0);
}

/* Everything the server sends FD until it closes, the loop turning without a pause. */
static GString *receive_all(struct fixture *f, int fd)
{
	GString *got = g_string_new("");
	gint64 deadline = g_get_monotonic_time() + 20 * G_USEC_PER_SEC;

	while (g_get_monotonic_time() < deadline) {
		char buf[65536];
		ssize_t n;
		struct pollfd p = { .fd = fd, .events = POLLIN };

		event_base_loop(f->base, EVLOOP_NONBLOCK);
		n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n > 0)
			g_string_append_len(got, buf, n);
		else if (n == 0)
			return got;
		else
			poll(&p, 1, 1);
	}
	g_assert_not_reached();
	return got;
}

static void send_all(int fd, const char *text, size_t len)
{
	g_assert_cmpint(send(fd, text, len, MSG_NOSIGNAL), ==, (ssize_t)len);
}

static void send_str(int fd, const char *text)
{
	send_all(fd, text, strlen(text));
}

/* What the server sent FD so far, pumping the loop meanwhile; *EOF set when it closed. */
static GString *receive(struct fixture *f, int fd, int *eof)
{
	GString *got = g_string_new("");

	*eof = 0;
	for (int round = 0; round < 10; round++) {
		char buf[65536];
		ssize_t n;

		pump(f, 20);
		while ((n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0)
			g_string_append_len(got, buf, n);
		if (n == 0 || (n < 0 && errno == ECONNRESET)) {
			*eof = 1;
			break;
		}
	}
	return got;
}

static int count_of(const char *haystack, const char *needle)
{
	int n = 0;

	for (const char *p = strstr(haystack, needle); p != NULL; p = strstr(p + 1, needle))
		n++;
	return n;
}

static void test_keep_alive_pipelining(void)
{
	struct fixture *f = fixture_new(1024, 16);
	int fd = client(f), eof;
	const char *two = "GET /a?x=1 HTTP/1.1\r\nHost: h\r\n\r\n\r\nGET /b HTTP/1.1\r\n\r\n";
	GString *got;

	send_str(fd, two);
	got = receive(f, fd, &eof);
	g_assert_false(eof);
	g_assert_cmpint(count_of(got->str, "HTTP/1.1 200 OK\r\n"), ==, 2);
	g_assert_nonnull(strstr(got->str, "X-Test: 1\r\n"));
	g_assert_nonnull(strstr(got->str, "Date: "));
	g_assert_nonnull(strstr(got->str, "Content-Type: text/plain\r\n"));
	g_assert_null(strstr(got->str, "Connection:"));
	g_assert_true(strstr(got->str, "GET /a?x=1 n=0 peer=127.0.0.1") <
		      strstr(got->str, "GET /b? n=0")); /* in order */
	g_string_free(got, TRUE);
	/* the same connection serves on, and HEAD gets the head only */
	send_str(fd, "HEAD /c HTTP/1.1\r\n\r\nGET /d HTTP/1.1\r\n\r\n");
	got = receive(f, fd, &eof);
	g_assert_cmpint(count_of(got->str, "HTTP/1.1 200 OK\r\n"), ==, 2);
	g_assert_null(strstr(got->str, "HEAD /c"));
	/* HEAD: the length of what GET would get, no body */
	g_assert_nonnull(
		strstr(got->str, "Content-Length: 27\r\n")); /* "HEAD /c? n=0 peer=.." */
	g_assert_nonnull(strstr(got->str, "GET /d? n=0"));
	g_assert_cmpint(f->handled, ==, 4);
	g_string_free(got, TRUE);
	close(fd);
	fixture_free(f);
}

/* An answer given later: the connection handles nothing behind it meanwhile, then the
 * answers go out in order; pipelined requests run after the resume. */
static void test_deferred_answer(void)
{
	struct fixture *f = fixture_new(1024, 16);
	int fd = client(f), eof;
	GString *got;

	send_str(fd, "GET /defer HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\n");
	got = receive(f, fd, &eof);
	g_assert_false(eof);
	g_assert_cmpuint(got->len, ==, 0); /* nothing yet, and /b waits behind */
	g_assert_cmpint(f->handled, ==, 1);
	g_assert_nonnull(f->deferred);
	g_string_free(got, TRUE);
	g_assert_cmpint(http1_reply(&f->deferred->req, 200, "text/plain", "", "later", 5), ==,
			0);
	http1_resume(f->deferred);
	f->deferred = NULL;
	got = receive(f, fd, &eof);
	g_assert_false(eof);
	g_assert_cmpint(count_of(got->str, "HTTP/1.1 200 OK\r\n"), ==, 2);
	g_assert_nonnull(strstr(got->str, "later"));
	g_assert_true(strstr(got->str, "later") < strstr(got->str, "GET /b? n=0"));
	g_assert_cmpint(f->handled, ==, 2);
	g_string_free(got, TRUE);
	/* resumed without an answer: 500, and the connection serves on */
	send_str(fd, "GET /defer HTTP/1.1\r\n\r\n");
	pump(f, 20);
	http1_resume(f->deferred);
	f->deferred = NULL;
	got = receive(f, fd, &eof);
	g_assert_nonnull(strstr(got->str, "HTTP/1.1 500 "));
	g_assert_false(eof);
	g_string_free(got, TRUE);
	close(fd);
	fixture_free(f);
}

/* Draining waits for a deferred answer, which then closes its connection; a server freed
 * under a deferred answer leaves a handle that only frees. */
static void test_deferred_drain_and_free(void)
{
	struct fixture *f = fixture_new(1024, 16);
	struct http1_deferred *d;
	int fd = client(f), eof;
	GString *got;

	send_str(fd, "GET /defer HTTP/1.1\r\n\r\n");
	pump(f, 20);
	g_assert_nonnull(f->deferred);
	g_assert_cmpint(http1_server_drain(f->server, on_drained, f), ==, QUORUM_AGAIN);
	pump(f, 400); /* past the drain's grace: a deferred connection is not idle */
	g_assert_cmpint(f->drained, ==, 0);
	g_assert_cmpint(http1_reply(&f->deferred->req, 200, "text/plain", "", "done", 4), ==,
			0);
	http1_resume(f->deferred);
	f->deferred = NULL;
	got = receive(f, fd, &eof);
	g_assert_true(eof);
	g_assert_nonnull(strstr(got->str, "Connection: close\r\n"));
	g_assert_nonnull(strstr(got->str, "done"));
	g_string_free(got, TRUE);
	close(fd); /* the lingering close ends: the last connection is gone */
	pump(f, 50);
	g_assert_cmpint(f->drained, ==, 1);
	fixture_free(f);

	f = fixture_new(1024, 16);
	fd = client(f);
	send_str(fd, "GET /defer HTTP/1.1\r\n\r\n");
	pump(f, 20);
	d = f->deferred;
	g_assert_nonnull(d);
	http1_server_free(f->server);
	f->server = NULL;
	g_assert_cmpint(http1_reply(&d->req, 200, "text/plain", "", "x", 1), ==, -ENOTCONN);
	http1_resume(d);
	close(fd);
	fixture_free(f);
}

static void test_close_rules(void)
{
	struct fixture *f = fixture_new(1024, 16);
	int fd = client(f), eof;
	GString *got;

	send_str(fd, "GET / HTTP/1.1\r\nConnection: close\r\n\r\nGET /never HTTP/1.1\r\n\r\n");
	got = receive(f, fd, &eof);
	g_assert_true(eof);
	g_assert_cmpint(count_of(got->str, "HTTP/1.1 200 OK\r\n"), ==, 1);
	g_assert_nonnull(strstr(got->str, "Connection: close\r\n"));
	g_string_free(got, TRUE);
	close(fd);
	fd = client(f);
	send_str(fd, "GET / HTTP/1.0\r\n\r\n");
	got = receive(f, fd, &eof);
	g_assert_true(eof);
	g_assert_true(g_str_has_prefix(got->str, "HTTP/1.0 200 OK\r\n"));
	g_string_free(got, TRUE);
	close(fd);
	fd = client(f);
	send_str(fd, "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
	got = receive(f, fd, &eof);
	g_assert_false(eof);
	g_assert_nonnull(strstr(got->str, "Connection: keep-alive\r\n"));
	g_assert_cmpint(f->handled, ==, 3);
	g_string_free(got, TRUE);
	close(fd);
	fixture_free(f);
}

static void test_bodies(void)
{
	struct fixture *f = fixture_new(1024, 16);
	int fd = client(f), eof;
	const char *head =
		"POST /p HTTP/1.1\r\nContent-Length: 10\r\nExpect: 100-continue\r\n\r\n";
	GString *got;

	send_str(fd, head);
	got = receive(f, fd, &eof);
	g_assert_cmpstr(got->str, ==, "HTTP/1.1 100 Continue\r\n\r\n");
	g_assert_cmpint(f->handled, ==, 0);
	g_string_free(got, TRUE);
	send_str(fd, "01234");
	pump(f, 20);
	g_assert_cmpint(f->handled, ==, 0);
	send_str(fd, "56789GET /after HTTP/1.1\r\n\r\n");
	got = receive(f, fd, &eof);
	g_assert_cmpint(count_of(got->str, "HTTP/1.1 200 OK\r\n"), ==, 2);
	g_assert_nonnull(strstr(got->str, "POST /p? n=10"));
	g_assert_nonnull(strstr(got->str, "GET /after? n=0"));
	g_assert_null(strstr(got->str, "100 Continue"));
	g_assert_cmpint(f->handled, ==, 2);
	g_string_free(got, TRUE);
	close(fd);
	fixture_free(f);
}

/* Sends TEXT on a new connection: the answer is STATUS, then the server closes; logged. */
static void assert_refused(struct fixture *f, const char *text, size_t len, int status)
{
	char line[64];
	int fd = client(f), eof;
	GString *got;

	send_all(fd, text, len);
	got = receive(f, fd, &eof);
	g_assert_true(eof);
	snprintf(line, sizeof(line), "HTTP/1.1 %d ", status);
	g_assert_true(g_str_has_prefix(got->str, line));
	g_assert_nonnull(strstr(got->str, "Connection: close\r\n"));
	g_assert_nonnull(strstr(got->str, "Content-Type: application/json\r\n"));
	g_assert_nonnull(strstr(got->str, "\r\n\r\n{\"error\":\""));
	snprintf(line, sizeof(line), "test.http_refused peer=127.0.0.1 status=%d ", status);
	g_assert_nonnull(strstr(mockhost_logs(&f->mock), line));
	g_string_free(got, TRUE);
	close(fd);
}

static void test_refusals(void)
{
	struct fixture *f = fixture_new(1024, 16);
	char *big = g_malloc(HTTP1_HEAD_MAX + 100);
	const char *body = "POST / HTTP/1.1\r\nContent-Length: 5000\r\n\r\n";
	char *with_body = g_strdup_printf("%s%0*d", body, 5000, 0);

	memcpy(big, "GET / HTTP/1.1\r\nX: ", 19);
	memset(big + 19, 'a', HTTP1_HEAD_MAX + 100 - 19);
	assert_refused(f, big, HTTP1_HEAD_MAX + 100, 431);
	assert_refused(f, "GARBAGE / HTTP/9.9\r\n\r\n", 22, 505);
	assert_refused(f, "NOT-HTTP\r\n\r\n", 12, 400);
	assert_refused(f, body, strlen(body), 413);
	/* the body arriving with the head: the answer survives (lingering close, no reset) */
	assert_refused(f, with_body, strlen(with_body), 413);
	assert_refused(f, "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", 47, 411);
	g_assert_cmpint(f->handled, ==, 0);
	g_free(with_body);
	g_free(big);
	fixture_free(f);
}

static void test_unanswered_is_500(void)
{
	struct fixture *f = fixture_new(1024, 16);
	int fd = client(f), eof;
	GString *got;

	send_str(fd, "GET /none HTTP/1.1\r\n\r\n");
	got = receive(f, fd, &eof);
	g_assert_true(g_str_has_prefix(got->str, "HTTP/1.1 500 Internal Server Error\r\n"));
	g_assert_nonnull(strstr(mockhost_logs(&f->mock),
				"test.http_unanswered peer=127.0.0.1 method=GET"));
	g_string_free(got, TRUE);
	close(fd);
	fixture_free(f);
}

static void test_connection_limit(void)
{
	struct fixture *f = fixture_new(1024, 2);
	int a = client(f), b = client(f), c = client(f), eof;
	GString *got;

	pump(f, 20);
	got = receive(f, c, &eof);
	g_assert_true(eof);
	g_assert_nonnull(
		strstr(mockhost_logs(&f->mock), "test.connection_refused peer=127.0.0.1"));
	g_string_free(got, TRUE);
	send_str(a, "GET / HTTP/1.1\r\n\r\n");
	got = receive(f, a, &eof);
	g_assert_true(g_str_has_prefix(got->str, "HTTP/1.1 200 OK\r\n"));
	g_string_free(got, TRUE);
	close(a);
	close(b);
	close(c);
	fixture_free(f);
}

/* Slowloris: a request head trickling in a byte at a time is closed at header_timeout_ms
 * after its first byte, however often bytes come (here every 50 ms against a 300 ms deadline:
 * never idle); meanwhile another client is served. No timing is asserted beyond "before the
 * 40 bytes, 2 s, were all sent". */
static void test_slow_head_deadline(void)
{
	const char *head = "GET /slow HTTP/1.1\r\nHost: h\r\nX-Slow: aaaaaaaaaaaaaaaaaaaa";
	struct fixture *f;
	int slow, fast, eof = 0, sent = 0;
	GString *got;

	next_header_timeout_ms = 300;
	f = fixture_new(1024, 16);
	slow = client(f);
	for (; sent < 40 && !eof; sent++) {
		char buf[256];
		ssize_t n;

		if (send(slow, head + sent, 1, MSG_NOSIGNAL) != 1)
			break; /* closed under our feet: a reset */
		pump(f, 50);
		n = recv(slow, buf, sizeof(buf), MSG_DONTWAIT);
		eof = n == 0 || (n < 0 && errno == ECONNRESET);
	}
	g_assert_true(eof || sent < 40);
	g_assert_cmpint(f->handled, ==, 0);
	g_assert_nonnull(strstr(mockhost_logs(&f->mock),
				"test.header_timeout peer=127.0.0.1 reason=\"request "
				"not complete within 300 ms: closed\" count=1"));
	fast = client(f);
	send_str(fast, "GET /fast HTTP/1.1\r\n\r\n");
	got = receive(f, fast, &eof);
	g_assert_true(g_str_has_prefix(got->str, "HTTP/1.1 200 OK\r\n"));
	g_string_free(got, TRUE);
	close(slow);
	close(fast);
	fixture_free(f);
}

/* A pipelining client whose every send ends one request and begins the next, so that a
 * request is always under way, keeps its connection past the header deadline: each handled
 * request starts the clock again. */
static void test_deadline_restarts_per_request(void)
{
	struct fixture *f;
	int fd, eof;
	GString *got = g_string_new("");

	next_header_timeout_ms = 300;
	f = fixture_new(1024, 16);
	fd = client(f);
	send_str(fd, "GET /piece HTTP/1.1\r\n");
	for (int i = 0; i < 12; i++) { /* 12 x 100 ms: four deadlines' worth */
		pump(f, 100);
		send_str(fd,
			 i < 11 ? "Host: h\r\n\r\nGET /piece HTTP/1.1\r\n" : "Host: h\r\n\r\n");
	}
	for (int round = 0; round < 5 && count_of(got->str, "HTTP/1.1 200 OK") < 12; round++) {
		GString *more = receive(f, fd, &eof);

		g_string_append(got, more->str);
		g_string_free(more, TRUE);
		g_assert_false(eof);
	}
	g_assert_cmpint(count_of(got->str, "HTTP/1.1 200 OK"), ==, 12);
	g_assert_null(strstr(mockhost_logs(&f->mock), "header_timeout"));
	g_string_free(got, TRUE);
	close(fd);
	fixture_free(f);
}

/* A connection that sends nothing is closed after idle_timeout_s; so is one idle after a
 * request (which holds no buffers meanwhile). */
static void test_idle_timeout(void)
{
	struct fixture *f;
	int silent, after, eof;
	GString *got;
	struct http1_stats st;

	next_idle_timeout_s = 1;
	f = fixture_new(1024, 16);
	silent = client(f);
	after = client(f);
	send_str(after, "GET /once HTTP/1.1\r\n\r\n");
	got = receive(f, after, &eof);
	g_assert_true(g_str_has_prefix(got->str, "HTTP/1.1 200 OK\r\n"));
	g_assert_false(eof);
	g_string_free(got, TRUE);
	g_string_free(receive_all(f, silent), TRUE); /* returns at EOF */
	g_string_free(receive_all(f, after), TRUE);
	http1_server_stats(f->server, &st);
	g_assert_cmpuint(st.idle_timeouts, ==, 2);
	g_assert_cmpuint(st.open, ==, 0);
	close(silent);
	close(after);
	fixture_free(f);
}

/* A client that sends and does not read: the server stops handling its requests once
 * HTTP1_OUTPUT_PENDING bytes wait for it, and goes on, in order, when it reads. (Small socket
 * buffers both sides, or the kernel's autotuning would take megabytes first.) */
static void test_backpressure(void)
{
	struct fixture *f = fixture_new_with(1024, 16, 16384);
	int fd;
	GString *all, *requests = g_string_new("");
	size_t want;

	f->big = 100000;
	fd = client_with(f, 4096);
	for (int i = 0; i < 100; i++)
		g_string_append(requests, "GET /big HTTP/1.1\r\n\r\n");
	g_string_append(requests, "GET /last HTTP/1.1\r\nConnection: close\r\n\r\n");
	send_all(fd, requests->str, requests->len);
	pump(f, 100);
	g_assert_cmpint(f->handled, >=, 1);
	g_assert_cmpint(f->handled, <=, 3); /* not 101: paused */
	want = 100 * f->big;
	all = receive_all(f, fd);
	g_assert_cmpint(f->handled, ==, 101);
	g_assert_cmpint(count_of(all->str, "HTTP/1.1 200 OK\r\n"), ==, 101);
	g_assert_cmpuint(all->len, >, want);
	g_assert_true(g_str_has_suffix(all->str, "GET /last? n=0 peer=127.0.0.1"));
	g_string_free(all, TRUE);
	g_string_free(requests, TRUE);
	close(fd);
	fixture_free(f);
}

static void test_drain(void)
{
	struct fixture *f = fixture_new(1024, 16);
	int idle = client(f), late = client(f), busy = client(f), refused, eof;
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
				 .sin_port = htons((uint16_t)f->port) };
	char byte;
	GString *got;

	send_str(idle, "GET / HTTP/1.1\r\n\r\n");
	got = receive(f, idle, &eof);
	g_string_free(got, TRUE);
	send_str(busy, "GET /half");
	pump(f, 20);
	g_assert_cmpint(http1_server_drain(f->server, on_drained, f), ==, QUORUM_AGAIN);
	/* no new connection: the listening socket is closed */
	refused = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	g_assert_cmpint(connect(refused, (struct sockaddr *)&a, sizeof(a)), ==, -1);
	close(refused);
	/* within the grace, idle connections stay, and a request on one is answered, closing */
	pump(f, 20);
	g_assert_cmpint(recv(idle, &byte, 1, MSG_DONTWAIT), ==, -1);
	send_str(late, "GET /late HTTP/1.1\r\n\r\n");
	got = receive(f, late, &eof);
	g_assert_true(eof);
	g_assert_true(g_str_has_prefix(got->str, "HTTP/1.1 200 OK\r\n"));
	g_assert_nonnull(strstr(got->str, "Connection: close\r\n"));
	g_string_free(got, TRUE);
	close(late);
	/* a request being received is finished and answered, closing */
	send_str(busy, " HTTP/1.1\r\n\r\n");
	got = receive(f, busy, &eof);
	g_assert_true(eof);
	g_assert_true(g_str_has_prefix(got->str, "HTTP/1.1 200 OK\r\n"));
	g_assert_nonnull(strstr(got->str, "Connection: close\r\n"));
	g_string_free(got, TRUE);
	close(busy);
	/* after the grace the idle connection is closed without a byte, and drain is done */
	pump(f, 300);
	got = receive(f, idle, &eof);
	g_assert_true(eof);
	g_assert_cmpuint(got->len, ==, 0);
	g_string_free(got, TRUE);
	g_assert_cmpint(f->drained, ==, 1);
	close(idle);
	g_assert_cmpint(http1_server_drain(f->server, on_drained, f), ==, 0); /* none open */
	fixture_free(f);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/http1/parse/get-with-query-and-headers", test_parse_get);
	g_test_add_func("/http1/parse/incomplete-until-the-blank-line", test_parse_incomplete);
	g_test_add_func("/http1/parse/bare-lf-head-absolute-and-asterisk-forms",
			test_parse_bare_lf_and_forms);
	g_test_add_func("/http1/parse/keep-alive-rules", test_parse_connection);
	g_test_add_func("/http1/parse/malformed-is-refused-with-its-status",
			test_parse_refusals);
	g_test_add_func("/http1/parse/content-length-and-expect", test_parse_bodies_and_expect);
	g_test_add_func("/http1/parse/limits-headers-and-head-size", test_parse_limits);
	g_test_add_func("/http1/query/strict-whole-query", test_query_rules);
	g_test_add_func("/http1/query/too-long-keeps-what-fits", test_query_too_long);
	g_test_add_func("/http1/serve/keep-alive-pipelining-in-order-head",
			test_keep_alive_pipelining);
	g_test_add_func("/http1/serve/connection-close-and-http10", test_close_rules);
	g_test_add_func("/http1/serve/deferred-answer-holds-the-connection-in-order",
			test_deferred_answer);
	g_test_add_func("/http1/serve/deferred-answer-drain-and-free",
			test_deferred_drain_and_free);
	g_test_add_func("/http1/serve/body-in-pieces-after-100-continue", test_bodies);
	g_test_add_func("/http1/serve/refusals-answer-close-and-log", test_refusals);
	g_test_add_func("/http1/serve/unanswered-request-is-500", test_unanswered_is_500);
	g_test_add_func("/http1/serve/connection-limit", test_connection_limit);
	g_test_add_func("/http1/serve/slow-head-closed-at-header-deadline",
			test_slow_head_deadline);
	g_test_add_func("/http1/serve/header-deadline-restarts-with-each-request",
			test_deadline_restarts_per_request);
	g_test_add_func("/http1/serve/idle-connections-closed-after-idle-timeout",
			test_idle_timeout);
	g_test_add_func("/http1/serve/backpressure-on-a-client-not-reading", test_backpressure);
	g_test_add_func("/http1/drain/in-flight-answered-idle-closed-after-grace", test_drain);
	return g_test_run();
}
