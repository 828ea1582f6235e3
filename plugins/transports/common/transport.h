/* transport.h -- what REST, WebSocket and gRPC read and hold alike: the listen address and
 * port, the mode, the per-address rate limit, the bearer tokens, TLS and the connection
 * limits, by one set of rules; the listening socket and its log line; and the gate every
 * request passes before anything else: the rate limit, then the token. */
#ifndef QUORUM_TRANSPORT_H
#define QUORUM_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

#include <quorum/plugin.h>

#include "bearer.h"
#include "connlimit.h"
#include "ratelimit.h"
#include "tcpserver.h"
#include "timefields.h"
#include "tlsconf.h"

/*
 * The settings every TCP transport binds (ABI 1.12): the host fills them, defaults first,
 * into the member `transport` of the transport's own settings struct (declared with
 * TRANSPORT_PLUGIN_BOUND), and transport_init reads them from there. bearer_token_files (a
 * list), rate_burst (its default is the rate_limit configured) and max_connections (its
 * default depends on the descriptor limit) are not bound: transport_init, bearer_load and
 * connlimit_read read them.
 */
struct transport_settings {
	const char *address;
	int64_t port;
	int64_t rate_limit;
	struct transport_tls_settings tls;
	struct connlimit_settings limits;
};

/*
 * The settings transport_init reads besides TLS and the connection limits (append them with
 * TRANSPORT_TLS_SETTINGS and TRANSPORT_CONNECTION_SETTINGS to a schema): TYPE is the
 * transport's settings struct, with a member `transport` (struct transport_settings); PORT
 * the transport's default port, as text ("8080"); TOKEN_IN where clients send a token; UNIT
 * what the rate limit counts ("requests").
 */
#define TRANSPORT_SETTINGS(TYPE, PORT, TOKEN_IN, UNIT)                                         \
	QUORUM_SETTING_STRING_AT("address", TYPE, transport.address, NULL, "127.0.0.1",        \
				 "listen address"),                                            \
		QUORUM_SETTING_INT_AT("port", TYPE, transport.port, 1, 65535, PORT,            \
				      "TCP port"),                                             \
		{ .name = "bearer_token_files",                                                \
		  .type = QUORUM_SETTING_STRINGS,                                              \
		  .help = "files of accepted bearer tokens, one each (" TOKEN_IN               \
			  "); none: no auth" },                                                \
		QUORUM_SETTING_INT_AT("rate_limit", TYPE, transport.rate_limit, 0, 10000000,   \
				      "100", UNIT " per second per client address (0: none)"), \
	{                                                                                      \
		.name = "rate_burst", .type = QUORUM_SETTING_INT, .min = 1, .max = 10000000,   \
		.help = UNIT " a client may make at once (default: rate_limit)"                \
	}

/* The descriptor of the TCP transport NAME whose functions and settings are PREFIX_init,
 * PREFIX_start, PREFIX_drain, PREFIX_fini and PREFIX_settings; the host fills its settings
 * into a struct SETTINGS_STRUCT (ABI 1.12 bindings in PREFIX_settings; read with
 * api->settings), whose member `transport` is transport_init's. */
#define TRANSPORT_PLUGIN_BOUND(NAME, PREFIX, SETTINGS_STRUCT)                                  \
	QUORUM_PLUGIN_EXPORT const struct quorum_plugin quorum_plugin = {                      \
		QUORUM_PLUGIN_HEADER(QUORUM_PLUGIN_TRANSPORT, NAME, PACKAGE_VERSION,           \
				     QUORUM_ROLE_NONE),                                        \
		.settings = PREFIX##_settings,                                                 \
		.settings_size = sizeof(SETTINGS_STRUCT),                                      \
		.init = PREFIX##_init,                                                         \
		.start = PREFIX##_start,                                                       \
		.drain = PREFIX##_drain,                                                       \
		.fini = PREFIX##_fini,                                                         \
	}

struct transport {
	struct quorum_host *host;     /* borrowed */
	const struct quorum_api *api; /* borrowed */
	const char *name;	      /* static: "rest", "ws", "grpc" (the log's prefix) */
	char address[64];
	int64_t port, rate, burst;
	int production; /* mode = "production" */
	struct connlimit limits;
	struct ratelimit *limit; /* per client address */
	struct bearer_tokens tokens;
	SSL_CTX *tls;			      /* owned; NULL: cleartext */
	struct tcp_server *tcp;		      /* owned; NULL until transport_server_new */
	struct timefields fields;	      /* drift_ppm and the sources of time answers */
	struct quorum_timer *watch;	      /* transport_start's */
	uint64_t rate_limited, auth_failures; /* refused by the gate */
};

/*
 * transport_init: T for the plugin NAME from its settings: CFG (filled by the host from the
 * table: address, port, rate_limit, TLS, mode, the connection timeouts), rate_burst (default
 * the rate), max_connections (default MAX_CONNECTIONS, within a quarter of the
 * descriptors), bearer_token_files and TLS, by their rules (bearer.h, tlsconf.h); and room
 * for the fields of time answers (timefields.h). CFG must outlive T (api->settings' struct
 * does: until fini).
 * RETURN VALUE: 0, or -errno with the reason logged and T released.
 */
int transport_init(struct transport *t, struct quorum_host *host, const struct quorum_api *api,
		   const char *name, const struct transport_settings *cfg,
		   size_t max_connections);

/*
 * transport_new: a transport's state of SIZE bytes, zeroed, whose first member is its
 * struct transport, made by transport_init. RETURN VALUE: 0 with *OUT the state (free it
 * with transport_stop or transport_free), or -errno (logged).
 */
int transport_new(size_t size, struct quorum_host *host, const struct quorum_api *api,
		  const char *name, const struct transport_settings *cfg,
		  size_t max_connections, void **out);

/* transport_free: releases T (transport_release) and frees the state transport_new made. */
void transport_free(struct transport *t);

/* transport_server_new: T's TCP server core with OPS and ARG. 0 or -ENOMEM. */
int transport_server_new(struct transport *t, const struct tcp_server_ops *ops, void *arg);

/*
 * transport_start: listens (transport_listen) with SERVER (T's when NULL), then calls
 * WATCH(ARG) every WATCH_MS on the loop (the transport's pushes, drift samples).
 * RETURN VALUE: 0, or -errno (logged).
 */
int transport_start(struct transport *t, struct tcp_server *server, uint64_t watch_ms,
		    void (*watch)(void *arg), void *arg);

/*
 * transport_listen: the host's listening socket for T's address and port (shared with a
 * predecessor during a reload), accepted on by SERVER (T's, or one of the transport's own).
 * RETURN VALUE: 0, or -errno with the reason logged.
 */
int transport_listen(struct transport *t, struct tcp_server *server);

/* transport_log_listening: T's "NAME.listening" line (notice): address, port, TLS, tokens,
 * rate limit, mode and connection limits, then EXTRA (printf format, may be "") if any. */
void transport_log_listening(const struct transport *t, const char *extra, ...)
	__attribute__((format(printf, 2, 3)));

/* transport_stop: T's "NAME.stopped" line (info): EXTRA (printf format) then what the gate
 * refused and SERVER's counts (T's when NULL); then frees T (transport_free). */
void transport_stop(struct transport *t, const struct tcp_server *server, const char *extra,
		    ...) __attribute__((format(printf, 3, 4)));

/* transport_release: frees T's server (closing its connections), TLS context, limiter and
 * tokens. A zeroed T is fine. */
void transport_release(struct transport *t);

/*
 * transport_rate_allow, transport_token_allow: the gate's two steps, in this order. A
 * refusal is counted (rate_limited, auth_failures) and reported to the host
 * (api->refused: summarised, never audited one by one). AUTHORIZATION is the
 * Authorization header's value, or NULL. RETURN VALUE: 1 allowed, 0 refused.
 */
int transport_rate_allow(struct transport *t, const char *peer);
int transport_token_allow(struct transport *t, const char *peer, const char *authorization);

/* transport_drained: for tcp_server_drain's DONE, ARG the transport (struct transport *):
 * tells the host the drain is over (api->drained). */
void transport_drained(void *arg);

/* transport_refused: reports a refusal of PEER for REASON to the host (api->refused). */
void transport_refused(struct transport *t, const char *peer, const char *reason);

#endif /* QUORUM_TRANSPORT_H */
