/* tcpserver.h -- the one TCP server core of REST, WebSocket and gRPC: accepting (with a
 * back-off when descriptors run out), the list of connections, max_connections, header and
 * idle deadlines with their counts and rate-limited log lines, and the end of a drain. Each
 * transport keeps only its protocol: it sets up a connection's I/O when the core has
 * accepted it and says when its deadlines run. */
#ifndef QUORUM_TCPSERVER_H
#define QUORUM_TCPSERVER_H

#include <stddef.h>
#include <stdint.h>

#include <arpa/inet.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <openssl/ssl.h>

#include <quorum/plugin.h>

#include "connlimit.h"
#include "clocks.h" /* mono_now_ns */

struct tcp_server;

/* What a deadline of a connection stands for. */
enum tcp_deadline {
	TCP_DEADLINE_NONE = 0,
	/* a request (head and body, an upgrade, an HTTP/2 preface or request, a TLS handshake)
	 * must be in by header_timeout_ms from its first byte, however it trickles */
	TCP_DEADLINE_HEADER,
	/* nothing under way, or a client taking nothing of our answers, for idle_timeout_s */
	TCP_DEADLINE_IDLE,
};

/*
 * One accepted connection. A transport's connection struct starts with it (the core
 * allocates ops->conn_size bytes, zeroed); the transport reads the public part.
 */
struct tcp_conn {
	struct tcp_server *server;
	evutil_socket_t fd;	     /* owned by the transport's I/O once open() succeeded */
	char peer[INET6_ADDRSTRLEN]; /* the client's numeric address */
	/* ---- private to the core ---- */
	struct tcp_conn *prev, *next;
	struct event *timer; /* the deadline, created the first time one is set */
	enum tcp_deadline due_kind;
	const char *due_what;
	int64_t due_ns; /* CLOCK_MONOTONIC */
};

struct tcp_server_ops {
	size_t conn_size; /* the transport's connection struct, struct tcp_conn first */
	/*
	 * open: C was accepted (fd and peer set): set up its I/O. RETURN VALUE: 0, the I/O then
	 * owning C->fd; or -errno, having freed what it made: the core closes C->fd unless the
	 * transport set it to -1 (its bufferevent closed it).
	 */
	int (*open)(struct tcp_conn *c, void *arg);
	/* release: C is being closed: free its I/O and state, closing C->fd. */
	void (*release)(struct tcp_conn *c, void *arg);
	/*
	 * expired (optional): C's deadline of KIND passed (already counted, and logged for a
	 * header deadline). RETURN VALUE: 0 to have C closed now, 1 when the transport closes
	 * it itself later (after a goodbye it sends first). NULL: closed now.
	 */
	int (*expired)(struct tcp_conn *c, enum tcp_deadline kind, void *arg);
	/*
	 * due (optional): for a transport whose deadlines follow from its state (gRPC's, from
	 * its streams): when C's timer fires, the deadline C has now: RETURN VALUE its
	 * CLOCK_MONOTONIC time with *KIND and *WHAT, or 0 for none. A later one re-arms the
	 * timer instead of expiring. NULL: the deadline as set.
	 */
	int64_t (*due)(struct tcp_conn *c, enum tcp_deadline *kind, const char **what,
		       void *arg);
};

struct tcp_server_config {
	struct quorum_host *host;     /* borrowed: the event loop and the log */
	const struct quorum_api *api; /* borrowed */
	const char *log_prefix;	      /* static: "rest", "ws", "grpc" */
	struct connlimit limits;
	const struct tcp_server_ops *ops; /* static */
	void *arg;			  /* given to every op */
};

/* What a server's connections came to, for metrics and the last log line. */
struct tcp_stats {
	size_t open;		  /* connections open now */
	uint64_t refused;	  /* closed at once: max_connections were open */
	uint64_t header_timeouts; /* closed: a request not in by its deadline */
	uint64_t idle_timeouts;	  /* closed: idle, or not reading, for idle_timeout_s */
};

/*
 * tcp_server_new: a server for CONFIG (copied; its pointers are borrowed), not accepting
 * yet. RETURN VALUE: 0 with *OUT a new server (tcp_server_free), or -ENOMEM.
 */
int tcp_server_new(const struct tcp_server_config *config, struct tcp_server **out);

/*
 * tcp_server_listen: accepts on FD (listening, non-blocking; the host's, already listening
 * with its backlog). The server owns FD from the call on, also when it fails (closed then).
 * Past max_connections a new connection is closed at once (counted, logged at most once a
 * second); when accept() fails for want of descriptors or memory, accepting pauses 100 ms.
 * RETURN VALUE: 0, -EBUSY (already listening) or -ENOMEM.
 */
int tcp_server_listen(struct tcp_server *s, int fd);

/*
 * tcp_server_adopt: what accepting does for the connected socket FD from PEER (numeric):
 * the max_connections check, the transport's open, the list. accept() calls it; so do
 * tests and fuzzers, which have no listening socket (FD may be -1 there).
 * RETURN VALUE: the connection (borrowed), or NULL: refused or out of memory, FD closed.
 */
struct tcp_conn *tcp_server_adopt(struct tcp_server *s, evutil_socket_t fd, const char *peer);

/*
 * tcp_server_drain: stops accepting (closes the listening socket); the transport then tells
 * its connections goodbye. RETURN VALUE: 0 when no connection is open, else QUORUM_AGAIN:
 * DONE(ARG) is called once, when the last one has closed (never if the server is freed
 * first).
 */
int tcp_server_drain(struct tcp_server *s, void (*done)(void *arg), void *arg);

/* tcp_server_draining: whether tcp_server_drain was called. */
int tcp_server_draining(const struct tcp_server *s);

/* tcp_server_free: closes every connection (release) and the listening socket; frees S.
 * NULL is a no-op. */
void tcp_server_free(struct tcp_server *s);

/* tcp_server_first, tcp_conn_next: the open connections, newest first (borrowed). Closing
 * the one in hand is fine once its next was taken. */
struct tcp_conn *tcp_server_first(const struct tcp_server *s);
struct tcp_conn *tcp_conn_next(const struct tcp_conn *c);

/* tcp_server_stats: S's counts into OUT. */
void tcp_server_stats(const struct tcp_server *s, struct tcp_stats *out);

/* tcp_server_base: the event loop. */
struct event_base *tcp_server_base(const struct tcp_server *s);

/* tcp_server_timeout: header_timeout_ms or idle_timeout_s as a timeval, a common timeout of
 * the loop where it has one (re-arming is then a queue append): for a transport whose I/O
 * keeps such a timeout itself (an event's, a bufferevent's). Borrowed from S. */
const struct timeval *tcp_server_timeout(const struct tcp_server *s, enum tcp_deadline kind);

/* tcp_server_timeout_ns: the same in nanoseconds. */
int64_t tcp_server_timeout_ns(const struct tcp_server *s, enum tcp_deadline kind);

/*
 * tcp_conn_bufferevent: a bufferevent over C's socket, owning it (freeing it closes the
 * socket): through TLS (accepting; a client closing without close_notify is no error) when
 * TLS is not NULL. RETURN VALUE: the bufferevent, or NULL (C->fd untouched).
 */
struct bufferevent *tcp_conn_bufferevent(struct tcp_conn *c, SSL_CTX *tls);

/* tcp_conn_close: releases C (ops->release), unlinks and frees it; the last one closed in a
 * drain calls its DONE. */
void tcp_conn_close(struct tcp_conn *c);

/*
 * tcp_conn_deadline_start: C's deadline of KIND runs from now, for its duration, WHAT
 * ("request", "TLS handshake", ...: static) naming it in the log; unless one of KIND is
 * armed already (bytes trickling in never extend a header deadline). RETURN VALUE: 0 or
 * -ENOMEM.
 */
int tcp_conn_deadline_start(struct tcp_conn *c, enum tcp_deadline kind, const char *what);

/* tcp_conn_deadline_at: C's deadline is KIND at DUE_NS (CLOCK_MONOTONIC), replacing any.
 * RETURN VALUE: 0 or -ENOMEM. */
int tcp_conn_deadline_at(struct tcp_conn *c, enum tcp_deadline kind, int64_t due_ns,
			 const char *what);

/* tcp_conn_deadline_clear: no deadline runs for C. */
void tcp_conn_deadline_clear(struct tcp_conn *c);

/* tcp_conn_deadline_kind: the kind of C's armed deadline, or TCP_DEADLINE_NONE. */
enum tcp_deadline tcp_conn_deadline_kind(const struct tcp_conn *c);

/* tcp_conn_deadline_due: when C's armed deadline falls (CLOCK_MONOTONIC ns), 0 for none. */
int64_t tcp_conn_deadline_due(const struct tcp_conn *c);

/*
 * tcp_conn_timed_out: C's own I/O saw a timeout of KIND (an event's or a bufferevent's
 * idle timeout: the client sent or took nothing): counted and logged as the core's own
 * deadlines are, then C is closed (no goodbye: the client is not reading).
 */
void tcp_conn_timed_out(struct tcp_conn *c, enum tcp_deadline kind, const char *what);

#endif /* QUORUM_TCPSERVER_H */
