/* test-quorumctl-http.c -- quorumctl's HTTP/1.1 client (tools/quorumctl-http.c) against a
 * real TCP server of the test's own that answers each connection with canned bytes: what a
 * node (or anything posing as one) may answer is taken only when well formed, never read
 * beyond what arrived, and the bearer token is read by the transports' rule. */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <glib.h>
#include <netinet/in.h>

#include "quorumctl-http.h"
#include "testutil.h"

struct server {
	int fd;
	char url[64];
	const char *answer; /* sent whole, then the connection is closed */
	size_t answer_len;
	char request[4096]; /* what the client sent (its head) */
	GThread *thread;
};

static gpointer server_run(gpointer arg)
{
	struct server *s = arg;
	size_t got = 0;
	int c = accept(s->fd, NULL, NULL);

	g_assert_cmpint(c, >=, 0);
	while (got < sizeof(s->request) - 1 && strstr(s->request, "\r\n\r\n") == NULL) {
		ssize_t n = recv(c, s->request + got, sizeof(s->request) - 1 - got, 0);

		if (n <= 0)
			break;
		got += (size_t)n;
		s->request[got] = '\0';
	}
	for (size_t sent = 0; sent < s->answer_len;) {
		ssize_t n = send(c, s->answer + sent, s->answer_len - sent, MSG_NOSIGNAL);

		if (n <= 0)
			break;
		sent += (size_t)n;
	}
	shutdown(c, SHUT_WR);
	close(c);
	return NULL;
}

/* Starts a server that answers one connection with ANSWER (LEN bytes). */
static void server_start(struct server *s, const char *answer, size_t len)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof(a);

	memset(s, 0, sizeof(*s));
	s->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	g_assert_cmpint(s->fd, >=, 0);
	g_assert_cmpint(bind(s->fd, (struct sockaddr *)&a, sizeof(a)), ==, 0);
	g_assert_cmpint(listen(s->fd, 1), ==, 0);
	g_assert_cmpint(getsockname(s->fd, (struct sockaddr *)&a, &alen), ==, 0);
	g_snprintf(s->url, sizeof(s->url), "http://127.0.0.1:%u", ntohs(a.sin_port));
	s->answer = answer;
	s->answer_len = len;
	s->thread = g_thread_new("server", server_run, s);
}

static void server_stop(struct server *s)
{
	g_thread_join(s->thread);
	close(s->fd);
}

/* GET /v1/status from a server answering ANSWER (a C string): http_get's return value, *OUT
 * filled on success (release it), WHY saying why not. */
static int get(const char *answer, const char *token, struct http_response *out, char *why,
	       size_t why_size, struct server *s)
{
	struct http_options o = { .token = token, .timeout_ms = 5000 };
	int rc;

	server_start(s, answer, strlen(answer));
	rc = http_get(s->url, "/v1/status", &o, out, why, why_size);
	server_stop(s);
	return rc;
}

static void test_content_length_and_token(void)
{
	struct http_response r;
	struct server s;
	char why[512] = "";

	g_assert_cmpint(get("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
			    "Content-Length: 11\r\n\r\n{\"a\": true}",
			    "0123456789abcdef-token", &r, why, sizeof(why), &s),
			==, 0);
	g_assert_cmpint(r.status, ==, 200);
	g_assert_cmpstr(r.content_type, ==, "application/json");
	g_assert_cmpuint(r.len, ==, 11);
	g_assert_cmpstr(r.body, ==, "{\"a\": true}");
	g_assert_nonnull(strstr(s.request, "GET /v1/status HTTP/1.1\r\n"));
	g_assert_nonnull(
		strstr(s.request, "\r\nAuthorization: Bearer 0123456789abcdef-token\r\n"));
	http_response_release(&r);

	/* without a token, no Authorization header; any status is an answer */
	g_assert_cmpint(get("HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n", NULL, &r,
			    why, sizeof(why), &s),
			==, 0);
	g_assert_cmpint(r.status, ==, 401);
	g_assert_cmpuint(r.len, ==, 0);
	g_assert_null(strstr(s.request, "Authorization"));
	http_response_release(&r);
}

static void test_chunked(void)
{
	struct http_response r;
	struct server s;
	char why[512] = "";

	g_assert_cmpint(get("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
			    "5;ext=1\r\nhello\r\nA\r\n, chunked!\r\n0\r\nX-Trailer: t\r\n\r\n",
			    NULL, &r, why, sizeof(why), &s),
			==, 0);
	g_assert_cmpint(r.status, ==, 200);
	g_assert_cmpstr(r.body, ==, "hello, chunked!");
	g_assert_cmpuint(r.len, ==, 15);
	http_response_release(&r);
}

/* Answers that must be refused, each with the reason http_get gives. */
static void test_malformed_refused(void)
{
	static const struct {
		const char *answer, *why;
	} cases[] = {
		/* the status must be right after "HTTP/1.x ", not found further on */
		{ "HTTP/1.1  \r\n\r\n200 taken from the body", "malformed HTTP answer" },
		{ "HTTP/1.1 2000 OK\r\nContent-Length: 0\r\n\r\n", "malformed HTTP answer" },
		{ "HTTP/1.1 20 OK\r\nContent-Length: 0\r\n\r\n", "malformed HTTP answer" },
		{ "HTTP/1.1 200 OK\r\nContent-Length: 5x\r\n\r\nhello",
		  "malformed HTTP answer" },
		{ "HTTP/1.1 200 OK\r\nContent-Length: -5\r\n\r\nhello",
		  "malformed HTTP answer" },
		{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nhello",
		  "malformed HTTP answer" },
		/* a chunk size is hex digits only: no white space, sign or 0x before them */
		{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n "
		  "5\r\nhello\r\n0\r\n\r\n",
		  "malformed chunked answer" },
		{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: "
		  "chunked\r\n\r\n+5\r\nhello\r\n0\r\n\r\n",
		  "malformed chunked answer" },
		{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: "
		  "chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\n",
		  "malformed chunked answer" },
		{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: "
		  "chunked\r\n\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
		  "malformed chunked answer" },
		{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXX0\r\n\r\n",
		  "malformed chunked answer" },
		{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
		  "fffffffffffffffff\r\nhello\r\n0\r\n\r\n",
		  "malformed chunked answer" },
		/* the answer ends before its length, or its last chunk */
		{ "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello", "ended early" },
		{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n",
		  "malformed chunked answer" },
		{ "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n", "ended early" },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		struct http_response r;
		struct server s;
		char why[512] = "";
		int rc = get(cases[i].answer, NULL, &r, why, sizeof(why), &s);

		if (rc == 0)
			g_error("case %zu accepted (status %d, body \"%s\"): %s", i, r.status,
				r.body, cases[i].answer);
		g_assert_cmpint(rc, ==, -EPROTO);
		g_assert_null(r.body);
		if (strstr(why, cases[i].why) == NULL)
			g_error("case %zu: \"%s\" does not say \"%s\"", i, why, cases[i].why);
		g_assert_nonnull(strstr(why, s.url));
	}
}

/* Answers of every length around the client's first read buffer (64 KiB), so that reads end
 * anywhere in the head, a chunk-size line, the data or the last chunk: each is taken whole. */
static void test_answers_at_buffer_edges(void)
{
	for (size_t body = 65536 - 80; body <= 65536 + 8; body++) {
		GString *a =
			g_string_new("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
		struct http_response r;
		struct server s;
		char why[512] = "";
		int rc;

		g_string_append_printf(a, "%zx\r\n", body);
		for (size_t i = 0; i < body; i++)
			g_string_append_c(a, "0123456789abcdef"[i % 16]);
		g_string_append(a, "\r\n0\r\n\r\n");
		rc = get(a->str, NULL, &r, why, sizeof(why), &s);
		g_assert_cmpint(rc, ==, 0);
		g_assert_cmpuint(r.len, ==, body);
		g_assert_cmpint(r.body[body - 1], ==, "0123456789abcdef"[(body - 1) % 16]);
		http_response_release(&r);
		g_string_free(a, TRUE);
	}
}

/* An answer of BODY bytes of 'x', with a Content-Length or in two chunks. */
static GString *big_answer(size_t body, int chunked)
{
	GString *a = g_string_new("HTTP/1.1 200 OK\r\n");

	if (chunked)
		g_string_append_printf(a, "Transfer-Encoding: chunked\r\n\r\n%zx\r\n",
				       body / 2);
	else
		g_string_append_printf(a, "Content-Length: %zu\r\n\r\n", body);
	for (size_t i = 0; i < body / 2; i++)
		g_string_append_c(a, 'x');
	if (chunked)
		g_string_append_printf(a, "\r\n%zx\r\n", body - body / 2);
	for (size_t i = body / 2; i < body; i++)
		g_string_append_c(a, 'x');
	if (chunked)
		g_string_append(a, "\r\n0\r\n\r\n");
	return a;
}

/* HTTP_BODY_MAX bytes are taken, one more is not, however the answer is framed. */
static void test_body_max(void)
{
	for (int chunked = 0; chunked <= 1; chunked++) {
		for (size_t extra = 0; extra <= 1; extra++) {
			GString *a = big_answer(HTTP_BODY_MAX + extra, chunked);
			struct http_response r;
			struct server s;
			char why[512] = "";
			int rc = get(a->str, NULL, &r, why, sizeof(why), &s);

			if (extra == 0) {
				g_assert_cmpint(rc, ==, 0);
				g_assert_cmpuint(r.len, ==, HTTP_BODY_MAX);
				http_response_release(&r);
			} else {
				g_assert_cmpint(rc, ==, -EMSGSIZE);
				g_assert_null(r.body);
				g_assert_nonnull(strstr(why, "exceeds"));
			}
			g_string_free(a, TRUE);
		}
	}
	/* a length claimed far beyond it is refused at once */
	struct http_response r;
	struct server s;
	char why[512] = "";

	g_assert_cmpint(get("HTTP/1.1 200 OK\r\nContent-Length: 99999999999\r\n\r\nxx", NULL,
			    &r, why, sizeof(why), &s),
			==, -EMSGSIZE);
}

static void test_token_file_rule(void)
{
	char *dir = testutil_scratch_new(), *path;
	char token[HTTP_TOKEN_MAX + 1], why[512] = "";

	path = testutil_write(dir, "ok", "0123456789abcdef-token\r\n", 0600);
	g_assert_cmpint(http_token_load(path, token, why, sizeof(why)), ==, 0);
	g_assert_cmpstr(token, ==, "0123456789abcdef-token");
	g_free(path);
	static const char *const bad[] = {
		"short\n",
		"0123456789abcdef-token\n0123456789abcdef-other\n",
		"0123456789abcdef token\n",
		"0123456789abcdef-token\n\n",
		"",
	};
	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		path = testutil_write(dir, "bad", bad[i], 0600);
		g_assert_cmpint(http_token_load(path, token, why, sizeof(why)), ==, -EINVAL);
		g_assert_nonnull(strstr(why, path));
		unlink(path);
		g_free(path);
	}
	path = testutil_path(dir, "missing");
	g_assert_cmpint(http_token_load(path, token, why, sizeof(why)), ==, -ENOENT);
	g_free(path);
	testutil_scratch_free(dir);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/quorumctl-http/content-length-and-token",
			test_content_length_and_token);
	g_test_add_func("/quorumctl-http/chunked", test_chunked);
	g_test_add_func("/quorumctl-http/malformed-refused", test_malformed_refused);
	g_test_add_func("/quorumctl-http/answers-at-buffer-edges",
			test_answers_at_buffer_edges);
	g_test_add_func("/quorumctl-http/body-max", test_body_max);
	g_test_add_func("/quorumctl-http/token-file-rule", test_token_file_rule);
	return g_test_run();
}
