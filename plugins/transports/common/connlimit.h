/* connlimit.h -- the bounds every TCP transport (REST, WebSocket, gRPC) puts on its client
 * connections: how many may be open, how long a request head may take to arrive however
 * slowly it trickles in, how long a connection may sit idle; their settings and defaults;
 * and counts of refusals logged at most once a second, so a flood never floods the log. */
#ifndef QUORUM_CONNLIMIT_H
#define QUORUM_CONNLIMIT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/time.h>

#include <quorum/plugin.h>

#define CONNLIMIT_HEADER_TIMEOUT_MS 10000
#define CONNLIMIT_IDLE_TIMEOUT_S    60
/* The default cap never takes more than a quarter of the descriptors the process may have
 * (three TCP transports leave the host at least a quarter: vault, tree, peer link, NTP),
 * nor fewer than this. */
#define CONNLIMIT_MIN_DEFAULT 64

/* The bound settings connlimit_read reads (struct transport_settings' `limits`). */
struct connlimit_settings {
	int64_t header_timeout_ms;
	int64_t idle_timeout_s;
};

/* The text of a number's default in a schema: CONNLIMIT_TEXT_(CONNLIMIT_IDLE_TIMEOUT_S). */
#define CONNLIMIT_TEXT__(n) #n
#define CONNLIMIT_TEXT_(n)  CONNLIMIT_TEXT__(n)

/*
 * The settings a transport declares to use connlimit_read (append to its schema): TYPE is
 * the transport's settings struct, whose member `transport` (struct transport_settings)
 * holds the bound ones. max_connections has no default in the table: the transport's, as
 * the descriptor limit allows, is computed at run time, so connlimit_read reads it.
 */
#define TRANSPORT_CONNECTION_SETTINGS(TYPE)                                                    \
	{ .name = "max_connections",                                                           \
	  .type = QUORUM_SETTING_INT,                                                          \
	  .min = 1,                                                                            \
	  .max = 1000000,                                                                      \
	  .help = "client connections open at once; beyond, a new one is closed at once "      \
		  "(default: the transport's, within a quarter of the descriptor limit)" },    \
		QUORUM_SETTING_INT_AT("header_timeout_ms", TYPE,                               \
				      transport.limits.header_timeout_ms, 100, 600000,         \
				      CONNLIMIT_TEXT_(CONNLIMIT_HEADER_TIMEOUT_MS),            \
				      "a request head (with its body), a TLS handshake, a "    \
				      "WebSocket upgrade, an HTTP/2 preface or header block "  \
				      "must arrive within this from its first byte, however "  \
				      "it trickles"),                                          \
		QUORUM_SETTING_INT_AT("idle_timeout_s", TYPE, transport.limits.idle_timeout_s, \
				      1, 86400, CONNLIMIT_TEXT_(CONNLIMIT_IDLE_TIMEOUT_S),     \
				      "a connection with no request in progress is closed "    \
				      "after this")

struct connlimit {
	size_t max_connections;
	struct timeval header_timeout; /* header_timeout_ms */
	struct timeval idle_timeout;   /* idle_timeout_s */
	int64_t header_timeout_ms, idle_timeout_s;
};

/*
 * connlimit_read: the connection limits into OUT: header_timeout_ms and idle_timeout_s from
 * CFG (filled by the host), max_connections from the plugin's settings. Without
 * max_connections the cap is DEFAULT_MAX, or a quarter of the descriptors the process may
 * have (RLIMIT_NOFILE) when that is less, but at least CONNLIMIT_MIN_DEFAULT.
 */
void connlimit_read(struct quorum_host *host, const struct quorum_api *api,
		    const struct connlimit_settings *cfg, size_t default_max,
		    struct connlimit *out);

/* connlimit_default_max: the cap connlimit_read uses when none is configured. */
size_t connlimit_default_max(size_t default_max);

/* One kind of event (a refusal, a timeout), counted, and logged at most once a second. */
struct connlimit_log {
	uint64_t total;	   /* every one so far */
	uint64_t unlogged; /* since the last line */
	int64_t last_sec;  /* CLOCK_MONOTONIC second of the last line; 0: none yet */
};

/*
 * connlimit_log_hit: counts one event.
 * RETURN VALUE: 0 when it is only counted (a line was logged this second already); else the
 * number of events the line the caller now logs stands for (this one and those counted
 * since the last line).
 */
uint64_t connlimit_log_hit(struct connlimit_log *log);

#endif /* QUORUM_CONNLIMIT_H */
