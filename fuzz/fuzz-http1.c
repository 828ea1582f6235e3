/* fuzz-http1.c -- libFuzzer target: all HTTP/1.1 request parsing, the one parser
 * (plugins/transports/common/http1-parse.c) that REST's server and the WebSocket upgrade
 * both read requests with: bytes as a connection receives them, walked as rest/http1.c's
 * conn_process does: empty lines skipped, each complete head parsed from a copy of exactly
 * its bytes, its body (Content-Length) skipped, the next pipelined request after it. Each
 * parsed request is queried as rest.c does (header fields, query parameters) and read as
 * the WebSocket transport reads an upgrade (plugins/transports/ws/upgrade.c). Properties:
 * the head length is the one http1_head_length found, at most HTTP1_HEAD_MAX, every string
 * of the request lies inside the head (but a constant "/" or ""), and an accepted upgrade
 * is a GET over HTTP/1.1 without a body, answered with a 28-character accept. */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "fuzz.h"
#include "http1-parse.h"
#include "query.h"
#include "upgrade.h"

static int inside(const char *s, const char *head, size_t len)
{
	return s >= head && s < head + len && memchr(s, '\0', (size_t)(head + len - s)) != NULL;
}

static void query(const struct http1_request *req, const char *head, size_t head_len)
{
	static const char *const names[] = { "Host",	   "authorization", "Content-Length",
					     "Connection", "Expect",	    "X-Forwarded-For" };
	static const char *const params[] = { "format", "nonce", "token", "" };
	char value[65], tiny[1];

	FUZZ_ASSERT(inside(req->method, head, head_len));
	/* An absolute-form target without a path has the path "/" (a static string). */
	FUZZ_ASSERT(inside(req->path, head, head_len) || strcmp(req->path, "/") == 0);
	FUZZ_ASSERT(inside(req->query, head, head_len) || req->query[0] == '\0');
	FUZZ_ASSERT(req->header_count <= HTTP1_HEADERS_MAX);
	for (size_t i = 0; i < req->header_count; i++)
		FUZZ_ASSERT(inside(req->headers[i].name, head, head_len) &&
			    inside(req->headers[i].value, head, head_len));
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		(void)http1_header(req, names[i]);
	for (size_t i = 0; i < sizeof(params) / sizeof(params[0]); i++) {
		int rc = http1_query_param(req, params[i], value, sizeof(value));

		/* -EINVAL: a malformed query, refused whole (its own target, fuzz-query, holds
		 * query.c to a reference reading) */
		FUZZ_ASSERT(rc == 0 || rc == -ENOENT || rc == -ENOSPC || rc == -EINVAL);
		FUZZ_ASSERT((rc == -EINVAL) == (query_check(req->query, NULL) != 0));
		if (rc == 0)
			FUZZ_ASSERT(strlen(value) < sizeof(value));
		rc = http1_query_param(req, params[i], tiny, sizeof(tiny));
		FUZZ_ASSERT(rc != 0 || tiny[0] == '\0');
	}
	(void)http1_reason(req->version_minor == 1 ? 200 : 505);
}

/* The WebSocket transport's reading of the same request as an upgrade. */
static void upgrade(const struct http1_request *req)
{
	char accept[WS_ACCEPT_LEN];
	const char *why = NULL;
	int status = ws_upgrade_check(req, accept, &why);

	if (status != 0) {
		FUZZ_ASSERT((status == 400 || status == 426) && why != NULL);
		return;
	}
	FUZZ_ASSERT(strcmp(req->method, "GET") == 0 && req->version_minor == 1 &&
		    req->content_length == 0 && strlen(accept) == WS_ACCEPT_LEN - 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data;
	size_t off = 0;

	while (off < size) {
		struct http1_request req;
		size_t avail, head_len, parsed = 0;
		const char *why = NULL;
		char *head;
		int status;

		while (off < size && (in[off] == '\r' || in[off] == '\n'))
			off++;
		avail = size - off;
		head_len = http1_head_length(in + off, avail);
		if (head_len == 0)
			break;
		FUZZ_ASSERT(head_len <= avail && head_len <= HTTP1_HEAD_MAX);
		head = malloc(head_len); /* exactly the head: a read past it is caught */
		FUZZ_ASSERT(head != NULL);
		memcpy(head, in + off, head_len);
		memset(&req, 0, sizeof(req));
		status = http1_parse_head(head, head_len, &req, &parsed, &why);
		if (status != 0) {
			FUZZ_ASSERT(status >= 400 && status <= 505 && why != NULL);
			FUZZ_ASSERT(strcmp(http1_reason(status), "") != 0);
			free(head);
			break;
		}
		FUZZ_ASSERT(parsed == head_len);
		query(&req, head, head_len);
		upgrade(&req);
		free(head);
		if (req.content_length > avail - head_len)
			break; /* waits for its body */
		off += head_len + (size_t)req.content_length;
	}
	return 0;
}
