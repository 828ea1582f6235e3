/* tlsconf.h -- TLS for the TCP transports (REST, WebSocket): the server context from a
 * plugin's tls_cert / tls_key / tls_client_ca settings, and the reference's startup rules
 * (a key needs its certificate and the reverse; a client CA needs both; mode "production"
 * needs TLS, a client CA and a bearer token; "dev" allows cleartext on loopback only). */
#ifndef QUORUM_TLSCONF_H
#define QUORUM_TLSCONF_H

#include <stddef.h>

#include <openssl/ssl.h>

#include <quorum/plugin.h>

/* The settings a transport declares to use transport_tls_setup (append to its schema). */
#define TRANSPORT_TLS_SETTINGS                                                                 \
	{ .name = "tls_cert",                                                                  \
	  .type = QUORUM_SETTING_STRING,                                                       \
	  .help = "server certificate chain (PEM); with tls_key: TLS" },                       \
		{ .name = "tls_key",                                                           \
		  .type = QUORUM_SETTING_STRING,                                               \
		  .help = "server private key (PEM)" },                                        \
		{ .name = "tls_client_ca",                                                     \
		  .type = QUORUM_SETTING_STRING,                                               \
		  .help = "CA (PEM) client certificates must chain to: mutual TLS" },          \
	{                                                                                      \
		.name = "mode", .type = QUORUM_SETTING_STRING, .choices = transport_modes,     \
		.help = "production: TLS, a client CA and a bearer token required; dev "       \
			"(default): cleartext on loopback allowed"                             \
	}

extern const char *const transport_modes[]; /* "dev", "production", NULL */

/*
 * transport_tls_setup: reads the plugin's TLS settings and checks the startup rules for a
 * listener on ADDRESS with TOKEN_COUNT bearer tokens in PRODUCTION mode or not. Log events
 * are named PREFIX.config_invalid, .production_refused, .cleartext_refused, .tls_refused.
 * RETURN VALUE: 0 with *OUT a new context (SSL_CTX_free) or NULL for cleartext; -EINVAL
 * (logged); -ENOMEM; -ENAMETOOLONG.
 */
int transport_tls_setup(struct quorum_host *host, const struct quorum_api *api,
			const char *prefix, const char *address, int production,
			size_t token_count, SSL_CTX **out);

/* transport_mode_production: 1 when the plugin's "mode" setting is "production". */
int transport_mode_production(struct quorum_host *host, const struct quorum_api *api);

/* transport_tls_name: what a listening log line says of TLS: "off", "on" or "mtls" (a
 * client certificate is verified). */
const char *transport_tls_name(SSL_CTX *tls);

#endif /* QUORUM_TLSCONF_H */
