/* tlsconf.h -- TLS for the TCP transports (REST, WebSocket): the server context from a
 * plugin's tls_cert / tls_key / tls_client_ca settings, and the reference's startup rules
 * (a key needs its certificate and the reverse; a client CA needs both; mode "production"
 * needs TLS, a client CA and a bearer token; "dev" allows cleartext on loopback only). */
#ifndef QUORUM_TLSCONF_H
#define QUORUM_TLSCONF_H

#include <stddef.h>

#include <openssl/ssl.h>

#include <quorum/plugin.h>

/* The bound settings transport_tls_setup reads (struct transport_settings' `tls`): paths
 * as configured (relative to quorum.conf's folder), NULL when absent; mode never NULL. */
struct transport_tls_settings {
	const char *cert;      /* tls_cert */
	const char *key;       /* tls_key */
	const char *client_ca; /* tls_client_ca */
	const char *mode;      /* "dev" or "production" */
};

/* The settings a transport declares to use transport_tls_setup (append to its schema): TYPE
 * is the transport's settings struct, whose member `transport` (struct transport_settings)
 * holds the bound ones. */
#define TRANSPORT_TLS_SETTINGS(TYPE)                                                           \
	QUORUM_SETTING_STRING_AT("tls_cert", TYPE, transport.tls.cert, NULL, NULL,             \
				 "server certificate chain (PEM); with tls_key: TLS"),         \
		QUORUM_SETTING_STRING_AT("tls_key", TYPE, transport.tls.key, NULL, NULL,       \
					 "server private key (PEM)"),                          \
		QUORUM_SETTING_STRING_AT("tls_client_ca", TYPE, transport.tls.client_ca, NULL, \
					 NULL,                                                 \
					 "CA (PEM) client certificates must chain to: mutual " \
					 "TLS"),                                               \
		QUORUM_SETTING_STRING_AT("mode", TYPE, transport.tls.mode, transport_modes,    \
					 "dev",                                                \
					 "production: TLS, a client CA and a bearer token "    \
					 "required; dev: cleartext on loopback allowed")

extern const char *const transport_modes[]; /* "dev", "production", NULL */

/*
 * transport_tls_setup: the TLS context from CFG's settings, and the startup rules for a
 * listener on ADDRESS with TOKEN_COUNT bearer tokens in PRODUCTION mode or not. Log events
 * are named PREFIX.config_invalid, .production_refused, .cleartext_refused, .tls_refused.
 * RETURN VALUE: 0 with *OUT a new context (SSL_CTX_free) or NULL for cleartext; -EINVAL
 * (logged); -ENOMEM; -ENAMETOOLONG.
 */
int transport_tls_setup(struct quorum_host *host, const struct quorum_api *api,
			const char *prefix, const struct transport_tls_settings *cfg,
			const char *address, int production, size_t token_count, SSL_CTX **out);

/* transport_mode_production: 1 when CFG's mode is "production". */
int transport_mode_production(const struct transport_tls_settings *cfg);

/* transport_tls_name: what a listening log line says of TLS: "off", "on" or "mtls" (a
 * client certificate is verified). */
const char *transport_tls_name(SSL_CTX *tls);

#endif /* QUORUM_TLSCONF_H */
