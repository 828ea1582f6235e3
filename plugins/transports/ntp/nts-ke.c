/* nts-ke.c -- the NTS-KE server (RFC 8915 section 4) on a thread of its own: TLS 1.3 with
 * ALPN ntske/1 on non-blocking sockets under epoll, one request and one response per
 * connection (keys exported from TLS, eight cookies), every connection bounded by a
 * deadline, a buffer and a count. The TLS context is built here too. */
#define _GNU_SOURCE /* accept4 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "nts-internal.h"
#include "nts-ke-records.h"
#include "clocks.h"

#define KE_RESPONSE_MAX 2048 /* 8 cookie records and the rest: about 1.1 KiB */
#define KE_EVENTS	64
#define KE_LINGER_MS	1000 /* after close_notify, the client's last bytes are read */
#define KE_EXPORTER	"EXPORTER-network-time-security"
#define EV_LISTEN	0
#define EV_STOP		1
#define EV_CONN		2 /* and up: connection index + EV_CONN */

static const unsigned char alpn_ntske[] = "\x07ntske/1";

enum conn_state {
	CONN_FREE,
	CONN_HANDSHAKE, /* TLS handshake */
	CONN_READ,	/* reading the request's records */
	CONN_WRITE,	/* writing the response */
	CONN_SHUTDOWN,	/* sending close_notify */
	CONN_LINGER,	/* reading what the client still sends, until it closes */
};

struct ke_conn {
	enum conn_state state;
	int fd;
	SSL *ssl;
	int64_t deadline_ms;
	uint32_t events; /* the epoll interest set now */
	struct sockaddr_storage peer;
	uint8_t in[NTSKE_REQUEST_MAX];
	size_t in_len;
	uint8_t out[KE_RESPONSE_MAX];
	size_t out_len;
};

struct nts_ke {
	struct nts_server *s;
	int listen_fd, epoll_fd, stop_fd;
	pthread_t thread;
	int joined;
	int draining; /* atomic */
	int stopping; /* atomic */
	int finished; /* atomic: the thread has returned */
	int listening;
	struct ke_conn *conns;
	unsigned nconns, active;
	uint32_t ids[NTS_KEYRING_MAX];
	struct nts_aead masters[NTS_KEYRING_MAX];
	unsigned nkeys;
	uint64_t generation;
	struct nts_tally tally;
	uint64_t served; /* atomic */
};

static int64_t mono_ms(void)
{
	return mono_now_ns() / 1000000;
}

/* ---- the TLS context ---- */

/* A ClientHello without ALPN is refused before any key exchange (RFC 8915 section 4: the
 * protocol is negotiated with ALPN "ntske/1"). */
static int hello_cb(SSL *ssl, int *alert, void *arg)
{
	const unsigned char *ext;
	size_t len;

	(void)arg;
	if (SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_application_layer_protocol_negotiation,
				      &ext, &len) != 1) {
		*alert = SSL_AD_NO_APPLICATION_PROTOCOL;
		return SSL_CLIENT_HELLO_ERROR;
	}
	return SSL_CLIENT_HELLO_SUCCESS;
}

static int alpn_cb(SSL *ssl, const unsigned char **out, unsigned char *outlen,
		   const unsigned char *in, unsigned int inlen, void *arg)
{
	unsigned char *selected;

	(void)ssl;
	(void)arg;
	if (SSL_select_next_proto(&selected, outlen, alpn_ntske, sizeof(alpn_ntske) - 1, in,
				  inlen) != OPENSSL_NPN_NEGOTIATED)
		return SSL_TLSEXT_ERR_ALERT_FATAL; /* no_application_protocol */
	*out = selected;
	return SSL_TLSEXT_ERR_OK;
}

/* OpenSSL's first queued error, for a log line. */
static const char *tls_error(char *buf, size_t size)
{
	unsigned long e = ERR_get_error();

	if (e == 0)
		return "unknown error";
	ERR_error_string_n(e, buf, size);
	ERR_clear_error();
	return buf;
}

SSL_CTX *nts_tls_context(struct nts_server *s)
{
	char err[256];
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	X509 *cert;

	if (ctx == NULL || SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) != 1) {
		s->api->log(s->host, QUORUM_LOG_ERROR, "nts.tls_failed error=\"%s\"",
			    tls_error(err, sizeof(err)));
		SSL_CTX_free(ctx);
		return NULL;
	}
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION);
	SSL_CTX_set_num_tickets(ctx, 0); /* one exchange per connection: nothing to resume */
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_client_hello_cb(ctx, hello_cb, NULL);
	SSL_CTX_set_alpn_select_cb(ctx, alpn_cb, NULL);
	if (SSL_CTX_use_certificate_chain_file(ctx, s->cf.cert) != 1) {
		s->api->log(s->host, QUORUM_LOG_ERROR,
			    "nts.certificate_refused file=%s error=\"%s\"", s->cf.cert,
			    tls_error(err, sizeof(err)));
		goto out_free;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, s->cf.key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		s->api->log(s->host, QUORUM_LOG_ERROR,
			    "nts.key_refused file=%s certificate=%s error=\"%s\"", s->cf.key,
			    s->cf.cert, tls_error(err, sizeof(err)));
		goto out_free;
	}
	cert = SSL_CTX_get0_certificate(ctx);
	if (cert == NULL || X509_cmp_current_time(X509_get0_notAfter(cert)) <= 0) {
		s->api->log(s->host, QUORUM_LOG_ERROR,
			    "nts.certificate_refused file=%s error=\"expired\"", s->cf.cert);
		goto out_free;
	}
	if (X509_cmp_current_time(X509_get0_notBefore(cert)) >= 0)
		s->api->log(s->host, QUORUM_LOG_WARNING,
			    "nts.certificate_not_yet_valid file=%s effect=clients_refuse_it",
			    s->cf.cert);
	return ctx;

out_free:
	SSL_CTX_free(ctx);
	return NULL;
}

/* ---- connections ---- */

static void conn_close(struct nts_ke *ke, struct ke_conn *c)
{
	epoll_ctl(ke->epoll_fd, EPOLL_CTL_DEL, c->fd, NULL);
	SSL_free(c->ssl);
	close(c->fd);
	OPENSSL_cleanse(c->in, c->in_len);
	OPENSSL_cleanse(c->out, c->out_len);
	c->ssl = NULL;
	c->fd = -1;
	c->state = CONN_FREE;
	ke->active--;
}

static void conn_refuse(struct nts_ke *ke, struct ke_conn *c, enum nts_refusal why)
{
	nts_tally_count(&ke->tally, why, &c->peer);
	conn_close(ke, c);
}

/* Sets C's epoll interest to EVENTS. 0 or -1 (then closed). */
static int conn_want(struct nts_ke *ke, struct ke_conn *c, uint32_t events)
{
	struct epoll_event ev = { .events = events,
				  .data.u64 = (uint64_t)(c - ke->conns) + EV_CONN };

	if (c->events == events)
		return 0;
	if (epoll_ctl(ke->epoll_fd, EPOLL_CTL_MOD, c->fd, &ev) != 0) {
		conn_close(ke, c);
		return -1;
	}
	c->events = events;
	return 0;
}

/* The response to the request in C->in (parsed into REQ) into C->out. */
static void conn_respond(struct nts_ke *ke, struct ke_conn *c, const struct ntske_request *req)
{
	static const uint8_t ctx_c2s[5] = { 0, NTSKE_PROTOCOL_NTPV4, 0,
					    NTSKE_AEAD_AES_SIV_CMAC_256, 0 };
	static const uint8_t ctx_s2c[5] = { 0, NTSKE_PROTOCOL_NTPV4, 0,
					    NTSKE_AEAD_AES_SIV_CMAC_256, 1 };
	uint8_t cookies[NTSKE_COOKIES_MAX][NTS_COOKIE_LEN];
	uint8_t nonces[NTSKE_COOKIES_MAX * NTS_COOKIE_NONCE_LEN];
	const uint8_t *list[NTSKE_COOKIES_MAX];
	struct nts_cookie_keys keys;
	struct ntske_answer a = { .error = req->error };
	struct nts_server *s = ke->s;
	int len, err = 0;

	if (req->error >= 0) {
		nts_tally_count(&ke->tally, NTSKE_REFUSED_REQUEST, &c->peer);
	} else if (req->ntpv4 && req->aes_siv) {
		if (nts_ring_copy(s, ke->masters, ke->ids, &ke->nkeys, &ke->generation) != 0)
			ke->nkeys = 0;
		if (ke->nkeys == 0 ||
		    SSL_export_keying_material(c->ssl, keys.c2s, sizeof(keys.c2s), KE_EXPORTER,
					       strlen(KE_EXPORTER), ctx_c2s, sizeof(ctx_c2s),
					       1) != 1 ||
		    SSL_export_keying_material(c->ssl, keys.s2c, sizeof(keys.s2c), KE_EXPORTER,
					       strlen(KE_EXPORTER), ctx_s2c, sizeof(ctx_s2c),
					       1) != 1 ||
		    RAND_bytes(nonces, sizeof(nonces)) != 1)
			err = -EIO;
		for (unsigned i = 0; err == 0 && i < NTSKE_COOKIES_MAX; i++) {
			err = nts_cookie_seal(&ke->masters[0], ke->ids[0],
					      nonces + i * NTS_COOKIE_NONCE_LEN, &keys,
					      cookies[i]);
			list[i] = cookies[i];
		}
		OPENSSL_cleanse(&keys, sizeof(keys));
		a.ntpv4 = a.aes_siv = 1;
		a.server = s->cf.ntp_server[0] != '\0' ? s->cf.ntp_server : NULL;
		a.port = (int)s->cf.ntp_port;
		a.cookies = list;
		a.ncookies = NTSKE_COOKIES_MAX;
		a.cookie_len = NTS_COOKIE_LEN;
		if (err != 0)
			a = (struct ntske_answer){ .error = NTSKE_ERR_INTERNAL };
	} else {
		a.ntpv4 = req->ntpv4; /* an empty Next Protocol or AEAD record: no agreement */
		a.aes_siv = 0;
	}
	len = ntske_response_build(&a, c->out, sizeof(c->out));
	OPENSSL_cleanse(cookies, sizeof(cookies));
	if (len < 0) {
		a = (struct ntske_answer){ .error = NTSKE_ERR_INTERNAL };
		len = ntske_response_build(&a, c->out, sizeof(c->out));
	}
	c->out_len = (size_t)len;
	if (a.ncookies > 0)
		__atomic_add_fetch(&ke->served, 1, __ATOMIC_RELAXED);
}

/* SSL's wish after a call that returned R: 0 to wait (interest set), -1 when C is gone. */
static int conn_wait(struct nts_ke *ke, struct ke_conn *c, int r, enum nts_refusal why)
{
	switch (SSL_get_error(c->ssl, r)) {
	case SSL_ERROR_WANT_READ:
		return conn_want(ke, c, EPOLLIN);
	case SSL_ERROR_WANT_WRITE:
		return conn_want(ke, c, EPOLLOUT);
	default:
		ERR_clear_error();
		conn_refuse(ke, c, why);
		return -1;
	}
}

/* Moves C as far as its socket allows. */
static void conn_step(struct nts_ke *ke, struct ke_conn *c)
{
	struct ntske_request req;
	int r;

	if (c->state == CONN_HANDSHAKE) {
		r = SSL_accept(c->ssl);
		if (r != 1) {
			conn_wait(ke, c, r, NTSKE_REFUSED_HANDSHAKE);
			return;
		}
		c->state = CONN_READ;
	}
	while (c->state == CONN_READ) {
		r = SSL_read(c->ssl, c->in + c->in_len, (int)(sizeof(c->in) - c->in_len));
		if (r <= 0) {
			conn_wait(ke, c, r, NTSKE_REFUSED_REQUEST);
			return;
		}
		c->in_len += (size_t)r;
		if (ntske_request_parse(c->in, c->in_len, &req) == NTSKE_INCOMPLETE)
			continue;
		conn_respond(ke, c, &req);
		c->state = CONN_WRITE;
	}
	if (c->state == CONN_WRITE) {
		r = SSL_write(c->ssl, c->out, (int)c->out_len);
		if (r <= 0) {
			conn_wait(ke, c, r, NTSKE_REFUSED_REQUEST);
			return;
		}
		c->state = CONN_SHUTDOWN;
	}
	if (c->state == CONN_SHUTDOWN) {
		r = SSL_shutdown(c->ssl);
		if (r < 0) {
			if (SSL_get_error(c->ssl, r) == SSL_ERROR_WANT_WRITE) {
				conn_want(ke, c, EPOLLOUT);
				return;
			}
			ERR_clear_error();
			conn_close(ke, c); /* the response was delivered: no refusal */
			return;
		}
		/* Closing with unread bytes would reset the connection and could destroy the
		 * response in flight: half-close, then read until the client closes. */
		shutdown(c->fd, SHUT_WR);
		c->state = CONN_LINGER;
		c->deadline_ms = mono_ms() + KE_LINGER_MS;
		if (conn_want(ke, c, EPOLLIN) != 0)
			return;
	}
	if (c->state == CONN_LINGER) {
		uint8_t sink[512];
		ssize_t n;

		do
			n = read(c->fd, sink, sizeof(sink));
		while (n > 0);
		if (n == 0 || (errno != EAGAIN && errno != EINTR))
			conn_close(ke, c);
	}
}

/* Accepts what waits on the listening socket; over max_connections, closes at once. */
static void accept_all(struct nts_ke *ke)
{
	for (;;) {
		struct sockaddr_storage peer;
		socklen_t plen = sizeof(peer);
		struct ke_conn *c = NULL;
		struct epoll_event ev;
		int fd = accept4(ke->listen_fd, (struct sockaddr *)&peer, &plen,
				 SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0)
			return; /* EAGAIN, or an error the next readiness shows again */
		for (unsigned i = 0; i < ke->nconns && c == NULL; i++) {
			if (ke->conns[i].state == CONN_FREE)
				c = &ke->conns[i];
		}
		if (c == NULL) {
			nts_tally_count(&ke->tally, NTSKE_REFUSED_BUSY, &peer);
			close(fd);
			continue;
		}
		memset(c, 0, offsetof(struct ke_conn, in));
		c->in_len = 0;
		c->out_len = 0;
		c->fd = fd;
		c->peer = peer;
		c->deadline_ms = mono_ms() + ke->s->cf.timeout_ms;
		pthread_mutex_lock(&ke->s->ctx_lock);
		c->ssl = SSL_new(ke->s->ctx);
		pthread_mutex_unlock(&ke->s->ctx_lock);
		ev = (struct epoll_event){ .events = EPOLLIN,
					   .data.u64 = (uint64_t)(c - ke->conns) + EV_CONN };
		if (c->ssl == NULL || SSL_set_fd(c->ssl, fd) != 1 ||
		    epoll_ctl(ke->epoll_fd, EPOLL_CTL_ADD, fd, &ev) != 0) {
			SSL_free(c->ssl);
			close(fd);
			ERR_clear_error();
			continue;
		}
		c->events = EPOLLIN;
		c->state = CONN_HANDSHAKE;
		ke->active++;
		conn_step(ke, c); /* the ClientHello is often there already */
	}
}

/* Closes connections past their deadline; returns the milliseconds to the next one (-1:
 * none). */
static int expire(struct nts_ke *ke)
{
	int64_t now = mono_ms(), next = -1;

	for (unsigned i = 0; i < ke->nconns; i++) {
		struct ke_conn *c = &ke->conns[i];

		if (c->state == CONN_FREE)
			continue;
		if (c->deadline_ms <= now) {
			if (c->state == CONN_LINGER || c->state == CONN_SHUTDOWN)
				conn_close(ke, c); /* answered already */
			else
				conn_refuse(ke, c, NTSKE_REFUSED_TIMEOUT);
			continue;
		}
		if (next < 0 || c->deadline_ms - now < next)
			next = c->deadline_ms - now;
	}
	return (int)next;
}

static void *ke_main(void *arg)
{
	struct nts_ke *ke = arg;
	struct epoll_event evs[KE_EVENTS];

	for (;;) {
		int timeout = expire(ke), n;

		if (__atomic_load_n(&ke->stopping, __ATOMIC_ACQUIRE))
			break;
		if (__atomic_load_n(&ke->draining, __ATOMIC_ACQUIRE)) {
			if (ke->listening) {
				epoll_ctl(ke->epoll_fd, EPOLL_CTL_DEL, ke->listen_fd, NULL);
				ke->listening = 0;
			}
			if (ke->active == 0)
				break;
		}
		n = epoll_wait(ke->epoll_fd, evs, KE_EVENTS, timeout);
		for (int i = 0; i < n; i++) {
			uint64_t tag = evs[i].data.u64;

			if (tag == EV_LISTEN) {
				accept_all(ke);
			} else if (tag == EV_STOP) {
				uint64_t v;

				if (read(ke->stop_fd, &v, sizeof(v)) < 0)
					continue; /* the flags are read above either way */
			} else if (tag - EV_CONN < ke->nconns &&
				   ke->conns[tag - EV_CONN].state != CONN_FREE) {
				conn_step(ke, &ke->conns[tag - EV_CONN]);
			}
		}
	}
	for (unsigned i = 0; i < ke->nconns; i++) {
		if (ke->conns[i].state != CONN_FREE)
			conn_close(ke,
				   &ke->conns[i]); /* stopped: whatever was in flight ends */
	}
	__atomic_store_n(&ke->finished, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* ---- lifecycle ---- */

static void ke_free(struct nts_ke *ke)
{
	if (ke->listen_fd >= 0)
		close(ke->listen_fd);
	if (ke->epoll_fd >= 0)
		close(ke->epoll_fd);
	if (ke->stop_fd >= 0)
		close(ke->stop_fd);
	for (unsigned i = 0; i < NTS_KEYRING_MAX; i++)
		nts_aead_release(&ke->masters[i]);
	free(ke->conns);
	pthread_mutex_destroy(&ke->tally.peer_lock);
	free(ke);
}

int nts_ke_start(struct nts_server *s, int listen_fd)
{
	struct nts_ke *ke = calloc(1, sizeof(*ke));
	struct epoll_event ev_listen = { .events = EPOLLIN, .data.u64 = EV_LISTEN };
	struct epoll_event ev_stop = { .events = EPOLLIN, .data.u64 = EV_STOP };
	sigset_t all, old;
	int err = 0;

	if (ke == NULL) {
		close(listen_fd);
		return -ENOMEM;
	}
	ke->s = s;
	ke->listen_fd = listen_fd;
	ke->nconns = (unsigned)s->cf.max_connections;
	ke->conns = calloc(ke->nconns, sizeof(*ke->conns));
	ke->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	ke->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	pthread_mutex_init(&ke->tally.peer_lock, NULL);
	for (unsigned i = 0; i < NTS_KEYRING_MAX && err == 0; i++)
		err = nts_aead_init(&ke->masters[i]);
	if (err == 0 && (ke->conns == NULL || ke->epoll_fd < 0 || ke->stop_fd < 0))
		err = -ENOMEM;
	if (err == 0 && (epoll_ctl(ke->epoll_fd, EPOLL_CTL_ADD, listen_fd, &ev_listen) != 0 ||
			 epoll_ctl(ke->epoll_fd, EPOLL_CTL_ADD, ke->stop_fd, &ev_stop) != 0))
		err = -errno;
	if (err == 0)
		err = nts_ring_copy(s, ke->masters, ke->ids, &ke->nkeys, &ke->generation);
	if (err == 0) {
		ke->listening = 1;
		sigfillset(&all);
		pthread_sigmask(SIG_SETMASK, &all, &old); /* signals stay with the loop */
		err = -pthread_create(&ke->thread, NULL, ke_main, ke);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
	}
	if (err != 0) {
		s->api->log(s->host, QUORUM_LOG_ERROR, "nts.ke_start_failed error=\"%s\"",
			    strerror(-err));
		ke_free(ke);
		return err;
	}
	pthread_setname_np(ke->thread, "nts-ke");
	s->ke = ke;
	return 0;
}

static void ke_wake(struct nts_ke *ke)
{
	uint64_t one = 1;

	if (write(ke->stop_fd, &one, sizeof(one)) != sizeof(one) && errno != EAGAIN)
		ke->s->api->log(ke->s->host, QUORUM_LOG_ERROR,
				"nts.ke_wake_failed error=\"%s\"", strerror(errno));
}

int nts_ke_drain(struct nts_ke *ke)
{
	if (!__atomic_load_n(&ke->draining, __ATOMIC_ACQUIRE)) {
		__atomic_store_n(&ke->draining, 1, __ATOMIC_RELEASE);
		ke_wake(ke);
	}
	if (!__atomic_load_n(&ke->finished, __ATOMIC_ACQUIRE))
		return 0;
	if (!ke->joined) {
		pthread_join(ke->thread, NULL);
		ke->joined = 1;
	}
	return 1;
}

void nts_ke_stop(struct nts_ke *ke)
{
	if (ke == NULL)
		return;
	if (!ke->joined) {
		__atomic_store_n(&ke->stopping, 1, __ATOMIC_RELEASE);
		ke_wake(ke);
		pthread_join(ke->thread, NULL);
	}
	ke_free(ke);
}

struct nts_tally *nts_ke_tally(struct nts_ke *ke)
{
	return &ke->tally;
}

uint64_t nts_ke_served(struct nts_ke *ke)
{
	return __atomic_load_n(&ke->served, __ATOMIC_RELAXED);
}
