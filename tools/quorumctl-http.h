/* quorumctl-http.h -- the little HTTP/1.1 client quorumctl reads a node's REST transport with:
 * one GET per connection, plain or TLS (OpenSSL, the server's certificate checked against a
 * CA file or the system's, an optional client certificate for mTLS), a bearer token read from
 * a file by the transports' own rule, bounded answers. */
#ifndef QUORUMCTL_HTTP_H
#define QUORUMCTL_HTTP_H

#include <stddef.h>

#define HTTP_BODY_MAX  (4u << 20) /* the largest answer body taken */
#define HTTP_TOKEN_MAX 255	  /* characters of a bearer token (bearer.h's rule) */

struct http_options {
	const char *cacert;	/* PEM CA file for https; NULL: the system's trust store */
	const char *cert, *key; /* client certificate and key (mTLS); NULL: none */
	const char *token;	/* bearer token; NULL: none (borrowed) */
	int timeout_ms;		/* for connecting, and for each read and write */
};

struct http_response {
	int status;	       /* 200, 404, ... */
	char *body;	       /* NUL-terminated (owned: http_response_release) */
	size_t len;	       /* of body, without the NUL */
	char content_type[96]; /* "" when absent */
};

/*
 * http_get: GET BASE_URL's PATH ("/v1/status?x=y"; appended to the URL's own path, if any).
 * BASE_URL is http://HOST[:PORT][/PREFIX] or https://...; HOST a name, an IPv4 address or
 * [IPv6]. Any status is an answer: the caller judges it.
 * RETURN VALUE: 0 with *OUT filled (http_response_release), or -errno with WHY naming the URL
 * and what failed (resolving, connecting, TLS, timing out, a malformed or oversized answer).
 */
int http_get(const char *base_url, const char *path, const struct http_options *options,
	     struct http_response *out, char *why, size_t why_size);

/* http_response_release: frees R's body; R may be zeroed or released already. */
void http_response_release(struct http_response *r);

/*
 * http_token_load: the bearer token in file PATH into OUT (HTTP_TOKEN_MAX + 1 bytes), by the
 * transports' rule: 16 to 255 printable ASCII characters without spaces, then at most one line
 * ending and nothing else. A file group or others may read is used, with a warning on stderr
 * (the token is a password).
 * RETURN VALUE: 0, or -errno with WHY naming the file.
 */
int http_token_load(const char *path, char out[HTTP_TOKEN_MAX + 1], char *why, size_t why_size);

#endif /* QUORUMCTL_HTTP_H */
