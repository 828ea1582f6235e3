/* tlsconf.c -- TLS settings and startup rules of the TCP transports (see tlsconf.h), and
 * the one TLS profile they all serve: Mozilla's "intermediate" (TLS 1.2 with ECDHE and
 * AEAD ciphers only, TLS 1.3's defaults), resumable with a client certificate, and naming
 * the acceptable client CAs in the handshake. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>

#include "tlsconf.h"

const char *const transport_modes[] = { "dev", "production", NULL };

/* TLS 1.2: forward secrecy (ECDHE) and AEAD (AES-GCM, ChaCha20-Poly1305) only; no static
 * RSA key exchange, no CBC, no SHA-1. Mozilla's "intermediate" profile without its DHE
 * suites (which need DH parameters of our own and add nothing a client lacks). */
#define TLS12_CIPHERS                                                                          \
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"                           \
	"ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"                           \
	"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"
/* TLS 1.3: its three default suites, named so that a system-wide setting cannot change
 * them behind our back. */
#define TLS13_CIPHERSUITES                                                                     \
	"TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256"

/* The profile and the client CA settings of CTX; CA_PATH NULL without mutual TLS. 1, or 0
 * with OpenSSL's error queue set. */
static int tls_profile(SSL_CTX *ctx, const char *prefix, const char *ca_path)
{
	struct stack_st_X509_NAME *names; /* STACK_OF(X509_NAME) */
	char sid_ctx[SSL_MAX_SID_CTX_LENGTH];
	int n;

	if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
	    SSL_CTX_set_cipher_list(ctx, TLS12_CIPHERS) != 1 ||
	    SSL_CTX_set_ciphersuites(ctx, TLS13_CIPHERSUITES) != 1)
		return 0;
	/* A session resumed with a client certificate must come from this context; without
	 * an id context OpenSSL refuses every such resumption (handshake failure). */
	n = snprintf(sid_ctx, sizeof(sid_ctx), "quorum-time/%s", prefix);
	if (n < 0 || (size_t)n >= sizeof(sid_ctx))
		n = (int)sizeof(sid_ctx) - 1;
	if (SSL_CTX_set_session_id_context(ctx, (const unsigned char *)sid_ctx,
					   (unsigned int)n) != 1)
		return 0;
	if (ca_path == NULL)
		return 1;
	if (SSL_CTX_load_verify_locations(ctx, ca_path, NULL) != 1)
		return 0;
	/* Tell clients which CAs we accept (CertificateRequest): a client with several
	 * certificates picks the right one. */
	names = SSL_load_client_CA_file(ca_path);
	if (names == NULL)
		return 0;
	SSL_CTX_set_client_CA_list(ctx, names);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	return 1;
}

int transport_mode_production(const struct transport_tls_settings *cfg)
{
	return cfg->mode != NULL && strcmp(cfg->mode, "production") == 0;
}

/* The TLS context from tls_cert / tls_key / tls_client_ca, or none; and the startup rules of
 * the reference: a key needs its certificate and the reverse, a client CA needs both,
 * production needs TLS, a client CA and a bearer token, dev allows cleartext on loopback
 * only. RETURN VALUE: 0, or -EINVAL with the reason logged. */
int transport_tls_setup(struct quorum_host *host, const struct quorum_api *api,
			const char *prefix, const struct transport_tls_settings *cfg,
			const char *address, int production, size_t token_count, SSL_CTX **out)
{
	const char *cert = cfg->cert, *key = cfg->key, *ca = cfg->client_ca;
	char cert_path[4096], key_path[4096], ca_path[4096], missing[160] = "";
	struct in_addr a4;
	struct in6_addr a6;
	SSL_CTX *ctx;
	int loopback;

	*out = NULL;
	if ((cert == NULL) != (key == NULL) || (ca != NULL && cert == NULL)) {
		api->log(host, QUORUM_LOG_ERROR, "%s.config_invalid reason=\"%s\"", prefix,
			 ca != NULL && cert == NULL ? "tls_client_ca needs tls_cert and tls_key"
						    : "tls_cert and tls_key go together");
		return -EINVAL;
	}
	if (production) {
		if (cert == NULL)
			strcat(missing, " tls_cert tls_key");
		if (ca == NULL)
			strcat(missing, " tls_client_ca");
		if (token_count == 0)
			strcat(missing, " bearer_token_files");
		if (missing[0] != '\0') {
			api->log(host, QUORUM_LOG_ERROR, "%s.production_refused missing=\"%s\"",
				 prefix, missing + 1);
			return -EINVAL;
		}
	}
	loopback = (inet_pton(AF_INET, address, &a4) == 1 && (ntohl(a4.s_addr) >> 24) == 127) ||
		   (inet_pton(AF_INET6, address, &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6));
	if (cert == NULL) {
		if (!loopback) {
			api->log(host, QUORUM_LOG_ERROR,
				 "%s.cleartext_refused address=%s reason=\"cleartext only on "
				 "loopback: set tls_cert and tls_key\"",
				 prefix, address);
			return -EINVAL;
		}
		return 0;
	}
	if (api->config_path(host, cert, cert_path, sizeof(cert_path)) != 0 ||
	    api->config_path(host, key, key_path, sizeof(key_path)) != 0 ||
	    (ca != NULL && api->config_path(host, ca, ca_path, sizeof(ca_path)) != 0))
		return -ENAMETOOLONG;
	ctx = SSL_CTX_new(TLS_server_method());
	if (ctx == NULL)
		return -ENOMEM;
	if (SSL_CTX_use_certificate_chain_file(ctx, cert_path) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, key_path, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1 ||
	    tls_profile(ctx, prefix, ca != NULL ? ca_path : NULL) != 1) {
		char err[256];

		ERR_error_string_n(ERR_get_error(), err, sizeof(err));
		api->log(host, QUORUM_LOG_ERROR,
			 "%s.tls_refused cert=\"%s\" key=\"%s\" client_ca=\"%s\" error=\"%s\"",
			 prefix, cert_path, key_path, ca != NULL ? ca_path : "-", err);
		SSL_CTX_free(ctx);
		return -EINVAL;
	}
	*out = ctx;
	return 0;
}

const char *transport_tls_name(SSL_CTX *tls)
{
	if (tls == NULL)
		return "off";
	return SSL_CTX_get_verify_mode(tls) & SSL_VERIFY_PEER ? "mtls" : "on";
}
