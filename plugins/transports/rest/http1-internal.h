/* http1-internal.h -- the HTTP/1.1 request head parser behind http1.c: untrusted bytes in,
 * a typed struct http1_request out, in one place (unit-tested by test-http1.c). */
#ifndef QUORUM_REST_HTTP1_INTERNAL_H
#define QUORUM_REST_HTTP1_INTERNAL_H

#include <stddef.h>

#include "http1.h"

#define HTTP1_INCOMPLETE 1 /* http1_parse_head: no blank line yet */

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

/* The reason phrase for STATUS ("Not Found"); static. */
const char *http1_reason(int status);

#endif /* QUORUM_REST_HTTP1_INTERNAL_H */
