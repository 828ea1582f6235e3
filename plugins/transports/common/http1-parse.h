/* http1-parse.h -- the one HTTP/1.1 request parser of the TCP transports: untrusted bytes
 * in, a typed struct http1_request out, strictly and in one place. REST's server (rest/http1.c)
 * reads every request with it, the WebSocket transport its upgrade request; unit-tested by
 * tests/unit/test-http1.c, fuzzed by fuzz/fuzz-http1.c. */
#ifndef QUORUM_HTTP1_PARSE_H
#define QUORUM_HTTP1_PARSE_H

#include <stddef.h>
#include <stdint.h>

/* The request line, the header fields and the blank line at most; beyond: 431. */
#define HTTP1_HEAD_MAX 8192
/* Header fields in one request at most; beyond: 431. */
#define HTTP1_HEADERS_MAX 64

#define HTTP1_INCOMPLETE 1 /* http1_parse_head: no blank line yet */

struct http1_conn; /* REST's connection (rest/http1.c); opaque here */

/* One header field of a request: name and value NUL-terminated, value without the spaces
 * around it. Borrowed from the request. */
struct http1_header {
	const char *name;
	const char *value;
};

/*
 * One request. Every pointer is borrowed from the buffer its head was parsed in (or the
 * server's): valid while that is. The strings are NUL-terminated.
 */
struct http1_request {
	const char *method;	   /* as sent, case-sensitive: "GET" */
	const char *path;	   /* the target's path, not percent-decoded: "/v1/time" */
	const char *query;	   /* the raw query after '?' ("" when none), no fragment */
	const char *peer;	   /* the client's numeric address: "127.0.0.1", "::1" */
	const unsigned char *body; /* Content-Length bytes; NULL when there are none */
	size_t body_len;
	int version_minor; /* 0: HTTP/1.0, 1: HTTP/1.1 */

	/* ---- what the parser found for the server that reads the request ---- */
	struct http1_header headers[HTTP1_HEADERS_MAX];
	size_t header_count;
	uint64_t content_length;
	int keep_alive;	     /* the connection stays open after this answer */
	int head_only;	     /* HEAD: the answer's head without its body */
	int expect_continue; /* "Expect: 100-continue" */
	/* ---- private to REST's server (rest/http1.c) ---- */
	struct http1_conn *conn;
	int answered;
};

/* http1_head_length: the length of the request head at the start of BUF (LEN bytes received
 * so far) through its blank line, or 0 while it is incomplete. Only the first HTTP1_HEAD_MAX
 * bytes are looked at: a longer head is never complete. BUF is not touched. */
size_t http1_head_length(const char *buf, size_t len);

/*
 * http1_parse_head: parses the request head at the start of BUF (LEN bytes received so far).
 * Lines end in CRLF or a bare LF. When the head is complete it is parsed in place: the
 * method, path, query, header names and values are NUL-terminated inside BUF, and REQ's
 * public fields (but peer, body) and its header list, content_length, keep_alive,
 * head_only and expect_continue point into BUF or describe it; BUF is not touched otherwise.
 * RETURN VALUE: 0 with *HEAD_LEN the head's length including its blank line;
 * HTTP1_INCOMPLETE (BUF untouched); or the status refusing the request (400, 411, 417,
 * 431, 505), *WHY then a static, printable explanation for the client.
 */
int http1_parse_head(char *buf, size_t len, struct http1_request *req, size_t *head_len,
		     const char **why);

/* http1_header: the value of REQ's first header field named NAME (case-insensitive),
 * borrowed from REQ; NULL when there is none. */
const char *http1_header(const struct http1_request *req, const char *name);

/* http1_header_has: whether REQ's header field NAME, a comma-separated list, holds TOKEN
 * (case-insensitive; "Connection: keep-alive, Upgrade" has "upgrade"). */
int http1_header_has(const struct http1_request *req, const char *name, const char *token);

/*
 * http1_query_param: the value of the first query parameter of REQ named NAME (compared
 * case-insensitively), percent-decoded ('+' is a space), copied into OUT (SIZE bytes,
 * NUL-terminated), by query.c's strict rules.
 * RETURN VALUE: 0, -ENOENT (absent), -EINVAL (a malformed query) or -ENOSPC (the value
 * does not fit).
 */
int http1_query_param(const struct http1_request *req, const char *name, char *out,
		      size_t size);

/* The reason phrase for STATUS ("Not Found"); static. */
const char *http1_reason(int status);

#endif /* QUORUM_HTTP1_PARSE_H */
