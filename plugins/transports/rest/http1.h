/* http1.h -- the REST transport's HTTP/1.1 server on libevent, over the TCP server core
 * (common/tcpserver.c): reads each request with the one HTTP/1 parser (common/http1-parse.c)
 * and calls one handler per request. */
#ifndef QUORUM_REST_HTTP1_H
#define QUORUM_REST_HTTP1_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

#include <quorum/plugin.h>

#include "connlimit.h"
#include "http1-parse.h"
#include "tcpserver.h"

/* Bounds, each per connection: HTTP1_HEAD_MAX, HTTP1_HEADERS_MAX (http1-parse.h), and: */
/* Answer bytes waiting for the client beyond which no further pipelined request is handled
 * and nothing is read until the client has taken them. */
#define HTTP1_OUTPUT_PENDING 65536
/* One answer, head and body, at most; beyond: 500. */
#define HTTP1_ANSWER_MAX (4 << 20)

struct http1_server; /* opaque */

/* The callback answering each request: it must call http1_reply once before it returns
 * (when it does not, or the answer cannot be queued, the client gets a 500 and it is
 * logged). REQ is borrowed (see struct http1_request). */
typedef void (*http1_handler)(struct http1_request *req, void *arg);

/* Called once, when a drain that returned QUORUM_AGAIN has closed the last connection. */
typedef void (*http1_drained_cb)(void *arg);

struct http1_config {
	struct quorum_host *host;     /* borrowed: the event loop and the log */
	const struct quorum_api *api; /* borrowed */
	/* Borrowed, static: log events are PREFIX.http_refused, PREFIX.accept_failed,
	 * PREFIX.tls_failed, PREFIX.connection_refused for want of memory (info, at most 10 a
	 * second in all); PREFIX.connection_refused at max_connections and
	 * PREFIX.header_timeout (info, at most one a second each, saying how many they stand
	 * for); PREFIX.http_unanswered (error). */
	const char *log_prefix;
	SSL_CTX *tls;		   /* borrowed, outlives the server; NULL: cleartext */
	size_t max_body;	   /* the largest request body; beyond: 413, and close */
	size_t max_connections;	   /* open connections at most; beyond: accepted and closed */
	int64_t header_timeout_ms; /* 0: CONNLIMIT_HEADER_TIMEOUT_MS (connlimit.h) */
	int64_t idle_timeout_s;	   /* 0: CONNLIMIT_IDLE_TIMEOUT_S */
	http1_handler handler;
	void *handler_arg;
};

/* What a server's connections came to, for metrics. */
struct http1_stats {
	size_t open;		  /* connections open now */
	uint64_t refused;	  /* closed at once: max_connections were open */
	uint64_t header_timeouts; /* closed: a request (or handshake) not in by its deadline */
	uint64_t idle_timeouts;	  /* closed: idle (or not reading) for idle_timeout_s */
};

/*
 * http1_server_new: a server for CONFIG (copied; its pointers are borrowed), not accepting
 * yet.
 * RETURN VALUE: 0 with *OUT a new server (http1_server_free), or -ENOMEM.
 */
int http1_server_new(const struct http1_config *config, struct http1_server **out);

/*
 * http1_server_listen: starts accepting connections on FD, a listening, non-blocking TCP
 * socket. The server owns FD from the call on, also when it fails (then FD is closed).
 * RETURN VALUE: 0, -EBUSY (already listening), or -ENOMEM.
 */
int http1_server_listen(struct http1_server *server, int fd);

/*
 * http1_server_drain: stops accepting (closing the listening socket); each connection
 * finishes the request it is receiving or answering, that answer saying "Connection: close",
 * then closes. Connections idle between requests are closed after a short grace (250 ms),
 * in which a request already on its way is still answered (and closes its connection).
 * RETURN VALUE: 0 when no connection is open, or QUORUM_AGAIN: DONE(ARG) is then called once,
 * from the event loop, when the last one has closed (never if the server is freed first).
 */
int http1_server_drain(struct http1_server *server, http1_drained_cb done, void *arg);

/* http1_server_tcp: SERVER's TCP server core (borrowed), to listen on. */
struct tcp_server *http1_server_tcp(struct http1_server *server);

/* http1_server_stats: SERVER's counts into OUT. */
void http1_server_stats(const struct http1_server *server, struct http1_stats *out);

/* http1_server_free: closes every connection and the listening socket, frees SERVER. NULL is
 * a no-op. */
void http1_server_free(struct http1_server *server);

/*
 * http1_reply: answers REQ (from the handler, once) with STATUS, a Content-Type, EXTRA_HEADERS
 * (zero or more complete header lines, each ending in "\r\n", written as they are: never
 * put bytes from the client there; "" for none) and the body BODY (LEN bytes; dropped for
 * HEAD). Date, Content-Length and Connection are added here. Everything is copied.
 * RETURN VALUE: 0 (queued, sent as soon as the client takes it), -EALREADY (already
 * answered), -EMSGSIZE (over HTTP1_ANSWER_MAX), -ENOTCONN (a deferred request whose
 * connection is gone) or -ENOMEM; after an error the client gets a 500 once the handler
 * returns (or at http1_resume).
 */
int http1_reply(struct http1_request *req, int status, const char *content_type,
		const char *extra_headers, const void *body, size_t len);

/* An answer given later (http1_defer). REQ is a copy of the request's answering part only:
 * its method, path, query, peer, body and headers are NULL/empty. */
struct http1_deferred {
	struct http1_request req;
};

/*
 * http1_defer: from the handler, instead of answering now: the handler returns, and the
 * answer is given later with http1_reply(&D->req, ...) then http1_resume(D), from the event
 * loop (e.g. once what it acknowledges is durable). Meanwhile the connection reads and
 * handles nothing else (requests pipelined behind wait), and no timeout closes it: the one
 * who deferred must resume. When the connection closes first (the server is freed),
 * http1_reply on D returns -ENOTCONN and http1_resume only frees D.
 * RETURN VALUE: a new handle (given back by http1_resume), or NULL (out of memory: the
 * handler answers now instead).
 */
struct http1_deferred *http1_defer(struct http1_request *req);

/*
 * http1_resume: sends D's answer (a 500 when none was given) and goes on with the requests
 * behind it on a fresh turn of the loop (never from inside the caller). Frees D.
 */
void http1_resume(struct http1_deferred *d);

/* http1_header: the value of REQ's first header field named NAME (case-insensitive),
 * borrowed from REQ; NULL when there is none. */
const char *http1_header(const struct http1_request *req, const char *name);

/*
 * http1_query_param: the value of the first query parameter of REQ named NAME (compared
 * case-insensitively), percent-decoded ('+' is a space), copied into OUT (SIZE bytes,
 * NUL-terminated). As libevent's evhttp_parse_query_str, a query with a parameter without
 * '=' or with an empty name has no parameters at all.
 * RETURN VALUE: 0, -ENOENT (absent, or a malformed query), or -ENOSPC (the value does not fit).
 */
int http1_query_param(const struct http1_request *req, const char *name, char *out,
		      size_t size);

#endif /* QUORUM_REST_HTTP1_H */
