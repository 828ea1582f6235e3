/* quorumctl-http.c -- a small HTTP/1.1 GET client, plain or over TLS, with bounded answers
 * (see quorumctl-http.h). One request per connection ("Connection: close"); the answer ends
 * where its Content-Length or its last chunk says, or, in cleartext only, at the close. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "quorumctl-http.h"
#include "hex.h"

#define HEAD_MAX 16384 /* bytes of status line and headers */

struct url {
	int tls;
	char host[256]; /* without brackets */
	char port[8];
	char prefix[1024]; /* "" or "/a/b" (no trailing slash) */
};

struct conn {
	int fd;
	SSL_CTX *ctx;
	SSL *ssl;
	char tls_error[160]; /* why the last TLS read failed, "" when it did not */
};

static void say(char *why, size_t why_size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void say(char *why, size_t why_size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, why_size, fmt, ap);
	va_end(ap);
}

/* Splits TEXT into U. 0 or -EINVAL. */
static int url_parse(const char *text, struct url *u)
{
	const char *p, *end, *colon = NULL;
	size_t len;

	memset(u, 0, sizeof(*u));
	if (strncmp(text, "http://", 7) == 0) {
		p = text + 7;
	} else if (strncmp(text, "https://", 8) == 0) {
		p = text + 8;
		u->tls = 1;
	} else {
		return -EINVAL;
	}
	if (strpbrk(p, "@?# \t\r\n") != NULL)
		return -EINVAL;
	end = p + strcspn(p, "/");
	if (*p == '[') {
		const char *close = memchr(p, ']', (size_t)(end - p));

		if (close == NULL || (close + 1 != end && close[1] != ':'))
			return -EINVAL;
		len = (size_t)(close - p - 1);
		if (len == 0 || len >= sizeof(u->host))
			return -EINVAL;
		memcpy(u->host, p + 1, len);
		colon = close + 1 != end ? close + 1 : NULL;
	} else {
		colon = memchr(p, ':', (size_t)(end - p));
		len = (size_t)((colon != NULL ? colon : end) - p);
		if (len == 0 || len >= sizeof(u->host))
			return -EINVAL;
		memcpy(u->host, p, len);
	}
	if (colon != NULL) {
		len = (size_t)(end - colon - 1);
		if (len == 0 || len >= sizeof(u->port) ||
		    strspn(colon + 1, "0123456789") < len || atoi(colon + 1) < 1 ||
		    atoi(colon + 1) > 65535)
			return -EINVAL;
		memcpy(u->port, colon + 1, len);
	} else {
		strcpy(u->port, u->tls ? "443" : "80");
	}
	len = strlen(end);
	while (len > 0 && end[len - 1] == '/')
		len--;
	if (len >= sizeof(u->prefix))
		return -EINVAL;
	memcpy(u->prefix, end, len);
	return 0;
}

/* A connected TCP socket to U (blocking, with TIMEOUT_MS on every read and write). */
static int tcp_connect(const struct url *u, int timeout_ms, char *why, size_t why_size)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res = NULL;
	struct timeval tv = { .tv_sec = timeout_ms / 1000,
			      .tv_usec = (timeout_ms % 1000) * 1000 };
	int fd = -1, err = -EHOSTUNREACH, rc;

	rc = getaddrinfo(u->host, u->port, &hints, &res);
	if (rc != 0) {
		say(why, why_size, "cannot resolve %s: %s", u->host, gai_strerror(rc));
		return -EHOSTUNREACH;
	}
	for (struct addrinfo *a = res; a != NULL; a = a->ai_next) {
		struct pollfd pfd;
		int soerr = 0;
		socklen_t sl = sizeof(soerr);

		fd = socket(a->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0) {
			err = -errno;
			continue;
		}
		if (connect(fd, a->ai_addr, a->ai_addrlen) != 0 && errno != EINPROGRESS) {
			err = -errno;
			goto next;
		}
		pfd = (struct pollfd){ .fd = fd, .events = POLLOUT };
		rc = poll(&pfd, 1, timeout_ms);
		if (rc == 0) {
			err = -ETIMEDOUT;
			goto next;
		}
		if (rc < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0 ||
		    soerr != 0) {
			err = soerr != 0 ? -soerr : -errno;
			goto next;
		}
		if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) != 0 ||
		    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0 ||
		    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) != 0) {
			err = -errno;
			goto next;
		}
		freeaddrinfo(res);
		return fd;
	next:
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	say(why, why_size, "cannot connect to %s port %s: %s", u->host, u->port,
	    strerror(-err));
	return err;
}

/* OpenSSL's last error as text into WHY, after PREFIX. */
static void say_tls(char *why, size_t why_size, const char *prefix, SSL *ssl)
{
	unsigned long e = ERR_get_error();
	long verify = ssl != NULL ? SSL_get_verify_result(ssl) : X509_V_OK;

	if (verify != X509_V_OK)
		say(why, why_size, "%s: the server's certificate: %s", prefix,
		    X509_verify_cert_error_string(verify));
	else
		say(why, why_size, "%s: %s", prefix,
		    e != 0 ? ERR_reason_error_string(e) : "the connection failed");
	ERR_clear_error();
}

static int tls_start(struct conn *c, const struct url *u, const struct http_options *o,
		     char *why, size_t why_size)
{
	struct in6_addr a6;
	struct in_addr a4;
	int ip =
		inet_pton(AF_INET, u->host, &a4) == 1 || inet_pton(AF_INET6, u->host, &a6) == 1;

	c->ctx = SSL_CTX_new(TLS_client_method());
	if (c->ctx == NULL || SSL_CTX_set_min_proto_version(c->ctx, TLS1_2_VERSION) != 1) {
		say_tls(why, why_size, "TLS", NULL);
		return -ENOMEM;
	}
	SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER, NULL);
	if ((o->cacert != NULL ? SSL_CTX_load_verify_locations(c->ctx, o->cacert, NULL)
			       : SSL_CTX_set_default_verify_paths(c->ctx)) != 1) {
		say_tls(why, why_size, o->cacert != NULL ? o->cacert : "the system's CA store",
			NULL);
		return -EINVAL;
	}
	if (o->cert != NULL &&
	    (SSL_CTX_use_certificate_chain_file(c->ctx, o->cert) != 1 ||
	     SSL_CTX_use_PrivateKey_file(c->ctx, o->key != NULL ? o->key : o->cert,
					 SSL_FILETYPE_PEM) != 1 ||
	     SSL_CTX_check_private_key(c->ctx) != 1)) {
		say_tls(why, why_size, o->cert, NULL);
		return -EINVAL;
	}
	/* The answer is framed by its length: a close without close_notify is no truncation. */
	SSL_CTX_set_options(c->ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
	c->ssl = SSL_new(c->ctx);
	if (c->ssl == NULL || SSL_set_fd(c->ssl, c->fd) != 1) {
		say_tls(why, why_size, "TLS", NULL);
		return -ENOMEM;
	}
	if (ip ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl), u->host) != 1
	       : (SSL_set_tlsext_host_name(c->ssl, u->host) != 1 ||
		  SSL_set1_host(c->ssl, u->host) != 1)) {
		say_tls(why, why_size, "TLS", NULL);
		return -EINVAL;
	}
	if (SSL_connect(c->ssl) != 1) {
		char prefix[300];

		snprintf(prefix, sizeof(prefix), "TLS with %s port %s", u->host, u->port);
		say_tls(why, why_size, prefix, c->ssl);
		return -EPROTO;
	}
	return 0;
}

static void conn_close(struct conn *c)
{
	if (c->ssl != NULL)
		SSL_free(c->ssl);
	if (c->ctx != NULL)
		SSL_CTX_free(c->ctx);
	if (c->fd >= 0)
		close(c->fd);
}

static int conn_write(struct conn *c, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t n;

		if (c->ssl != NULL) {
			size_t written = 0;

			n = SSL_write_ex(c->ssl, data, len, &written) == 1 ? (ssize_t)written
									   : -1;
		} else {
			n = send(c->fd, data, len, MSG_NOSIGNAL);
		}
		if (n <= 0)
			return errno != 0 ? -errno : -EIO;
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Up to CAP bytes into BUF: their number, 0 at the end, or -errno. */
static ssize_t conn_read(struct conn *c, char *buf, size_t cap)
{
	if (c->ssl != NULL) {
		size_t got = 0;
		int e;

		errno = 0;
		if (SSL_read_ex(c->ssl, buf, cap, &got) == 1)
			return (ssize_t)got;
		e = SSL_get_error(c->ssl, 0);
		if (e == SSL_ERROR_ZERO_RETURN || (e == SSL_ERROR_SYSCALL && errno == 0))
			return 0;
		if (e == SSL_ERROR_SSL && ERR_peek_error() != 0) {
			/* e.g. the server's alert when it wants a client certificate */
			snprintf(c->tls_error, sizeof(c->tls_error), "TLS: %s",
				 ERR_reason_error_string(ERR_peek_error()));
			ERR_clear_error();
			return -EPROTO;
		}
		ERR_clear_error();
		return errno == EAGAIN || errno == EWOULDBLOCK ? -ETIMEDOUT : -EIO;
	}
	for (;;) {
		ssize_t n = recv(c->fd, buf, cap, 0);

		if (n >= 0)
			return n;
		if (errno != EINTR)
			return errno == EAGAIN || errno == EWOULDBLOCK ? -ETIMEDOUT : -errno;
	}
}

/* The head of an answer, once BUF holds all of it. */
struct head {
	size_t len; /* through the empty line */
	int status;
	long long content_length; /* -1: none */
	int chunked;
	char content_type[96];
};

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* The value of hex digit C, or -1. */
/* 1 with *H when BUF (LEN bytes) holds a whole head, 0 when not yet, -1 when malformed. */
static int head_parse(const char *buf, size_t len, struct head *h)
{
	const char *end = NULL, *line, *next;

	for (size_t i = 3; i < len; i++) {
		if (memcmp(buf + i - 3, "\r\n\r\n", 4) == 0) {
			end = buf + i + 1;
			break;
		}
	}
	if (end == NULL)
		return len > HEAD_MAX ? -1 : 0;
	memset(h, 0, sizeof(*h));
	h->len = (size_t)(end - buf);
	h->content_length = -1;
	/* "HTTP/1.x NNN" then a space or the line's end: the status read where it stands */
	if (h->len < 14 || strncmp(buf, "HTTP/1.", 7) != 0 || buf[8] != ' ' ||
	    !is_digit(buf[9]) || !is_digit(buf[10]) || !is_digit(buf[11]) ||
	    (buf[12] != ' ' && buf[12] != '\r'))
		return -1;
	h->status = (buf[9] - '0') * 100 + (buf[10] - '0') * 10 + (buf[11] - '0');
	if (h->status < 100 || h->status > 599)
		return -1;
	for (line = (const char *)memchr(buf, '\n', h->len) + 1; line < end - 2;
	     line = next + 1) {
		char name[32], value[128];
		const char *colon;
		size_t n, vlen;

		next = memchr(line, '\n', (size_t)(end - line));
		colon = memchr(line, ':', (size_t)(next - line));
		if (colon == NULL)
			return -1;
		n = (size_t)(colon - line);
		if (n >= sizeof(name))
			continue; /* a header we do not read */
		memcpy(name, line, n);
		name[n] = '\0';
		colon++;
		while (*colon == ' ' || *colon == '\t')
			colon++;
		vlen = (size_t)(next - colon);
		while (vlen > 0 && (colon[vlen - 1] == '\r' || colon[vlen - 1] == ' '))
			vlen--;
		if (vlen >= sizeof(value))
			vlen = sizeof(value) - 1;
		memcpy(value, colon, vlen);
		value[vlen] = '\0';
		if (strcasecmp(name, "Content-Length") == 0) {
			char *e;

			errno = 0;
			h->content_length = strtoll(value, &e, 10);
			if (errno != 0 || *e != '\0' || value[0] < '0' || value[0] > '9')
				return -1;
		} else if (strcasecmp(name, "Transfer-Encoding") == 0) {
			h->chunked = strcasecmp(value, "chunked") == 0;
			if (!h->chunked)
				return -1;
		} else if (strcasecmp(name, "Content-Type") == 0) {
			snprintf(h->content_type, sizeof(h->content_type), "%.95s", value);
		}
	}
	return 1;
}

/* Decodes the chunked body IN (LEN bytes) into OUT (at least LEN bytes) and *OUT_LEN:
 * 1 complete, 0 not yet, -1 malformed. */
static int chunks_decode(const char *in, size_t len, char *out, size_t *out_len)
{
	size_t pos = 0, n = 0;

	*out_len = 0;
	for (;;) {
		const char *nl = memchr(in + pos, '\n', len - pos), *e;
		size_t size = 0;

		if (nl == NULL)
			return 0;
		/* chunk-size = 1*HEXDIG, read within its line (no white space, sign or "0x"
		 * first), then an extension or the line's end */
		for (e = in + pos; e < nl && hex_digit_any(*e) >= 0; e++) {
			size = size * 16 + (size_t)hex_digit_any(*e);
			if (size > HTTP_BODY_MAX)
				return -1;
		}
		if (e == in + pos || (*e != '\r' && *e != ';' && *e != '\n'))
			return -1;
		pos = (size_t)(nl - in) + 1;
		if (size == 0) /* trailers, if any, then an empty line */
			return memmem(in + pos - 2, len - pos + 2, "\r\n\r\n", 4) != NULL;
		if (len - pos < size + 2)
			return 0;
		memcpy(out + n, in + pos, size);
		n += size;
		*out_len = n;
		pos += size;
		if (memcmp(in + pos, "\r\n", 2) != 0)
			return -1;
		pos += 2;
	}
}

/* Reads the answer into OUT. 0 or -errno with WHY. */
static int read_answer(struct conn *c, struct http_response *out, char *why, size_t why_size)
{
	size_t cap = 65536, len = 0;
	char *buf = malloc(cap + 1);
	struct head h = { 0 };
	int have_head = 0, err = 0;

	if (buf == NULL)
		return -ENOMEM;
	for (;;) {
		ssize_t n;
		int done = 0;

		if (len == cap) {
			char *grown;

			if (cap >= HTTP_BODY_MAX + HEAD_MAX) {
				say(why, why_size, "the answer exceeds %u bytes",
				    HTTP_BODY_MAX);
				err = -EMSGSIZE;
				goto out;
			}
			cap = cap * 2 < HTTP_BODY_MAX + HEAD_MAX ? cap * 2
								 : HTTP_BODY_MAX + HEAD_MAX;
			grown = realloc(buf, cap + 1);
			if (grown == NULL) {
				err = -ENOMEM;
				goto out;
			}
			buf = grown;
		}
		n = conn_read(c, buf + len, cap - len);
		if (n < 0) {
			say(why, why_size, "reading the answer: %s",
			    c->tls_error[0] != '\0' ? c->tls_error : strerror((int)-n));
			err = (int)n;
			goto out;
		}
		len += (size_t)n;
		buf[len] = '\0'; /* a NUL after what arrived (cap + 1 bytes allocated) */
		if (!have_head) {
			int rc = head_parse(buf, len, &h);

			if (rc < 0) {
				say(why, why_size, "a malformed HTTP answer");
				err = -EPROTO;
				goto out;
			}
			have_head = rc == 1;
			if (have_head && h.content_length > (long long)HTTP_BODY_MAX) {
				say(why, why_size, "the answer exceeds %u bytes",
				    HTTP_BODY_MAX);
				err = -EMSGSIZE;
				goto out;
			}
		}
		if (have_head && h.content_length >= 0)
			done = len >= h.len + (size_t)h.content_length;
		else if (have_head && h.chunked)
			done = n == 0; /* decoded below once whole */
		if (n == 0 || done)
			break;
		if (have_head && h.chunked) {
			size_t body_len = 0;
			char *tmp = malloc(len - h.len + 1);
			int rc;

			if (tmp == NULL) {
				err = -ENOMEM;
				goto out;
			}
			rc = chunks_decode(buf + h.len, len - h.len, tmp, &body_len);
			free(tmp);
			if (rc != 0)
				break;
		}
	}
	if (!have_head || (h.content_length >= 0 && len < h.len + (size_t)h.content_length) ||
	    (c->ssl != NULL && h.content_length < 0 && !h.chunked)) {
		say(why, why_size, "the answer ended early, or without a length");
		err = -EPROTO;
		goto out;
	}
	out->status = h.status;
	snprintf(out->content_type, sizeof(out->content_type), "%s", h.content_type);
	if (h.chunked) {
		out->body = malloc(len - h.len + 1);
		if (out->body == NULL) {
			err = -ENOMEM;
			goto out;
		}
		if (chunks_decode(buf + h.len, len - h.len, out->body, &out->len) != 1) {
			say(why, why_size, "a malformed chunked answer");
			free(out->body);
			out->body = NULL;
			err = -EPROTO;
			goto out;
		}
	} else {
		out->len = h.content_length >= 0 ? (size_t)h.content_length : len - h.len;
		out->body = malloc(out->len + 1);
		if (out->body == NULL) {
			err = -ENOMEM;
			goto out;
		}
		memcpy(out->body, buf + h.len, out->len);
	}
	out->body[out->len] = '\0';
	if (out->len > HTTP_BODY_MAX) { /* chunked, or to the close: counted once whole */
		say(why, why_size, "the answer exceeds %u bytes", HTTP_BODY_MAX);
		err = -EMSGSIZE;
	}
out:
	free(buf);
	return err;
}

int http_get(const char *base_url, const char *path, const struct http_options *options,
	     struct http_response *out, char *why, size_t why_size)
{
	struct conn c = { .fd = -1 };
	struct url u;
	char request[4096], detail[512] = "";
	int n, err;

	memset(out, 0, sizeof(*out));
	if (url_parse(base_url, &u) != 0) {
		say(why, why_size,
		    "%s: not a URL quorumctl reads (http://HOST[:PORT] or https://...)",
		    base_url);
		return -EINVAL;
	}
	n = snprintf(request, sizeof(request),
		     "GET %s%s HTTP/1.1\r\nHost: %s%s%s:%s\r\nUser-Agent: quorumctl/%s\r\n"
		     "Accept: application/json, text/plain\r\nConnection: close\r\n%s%s%s\r\n",
		     u.prefix, path, strchr(u.host, ':') != NULL ? "[" : "", u.host,
		     strchr(u.host, ':') != NULL ? "]" : "", u.port, PACKAGE_VERSION,
		     options->token != NULL ? "Authorization: Bearer " : "",
		     options->token != NULL ? options->token : "",
		     options->token != NULL ? "\r\n" : "");
	if (n < 0 || (size_t)n >= sizeof(request)) {
		say(why, why_size, "%s%s: the request is too long", base_url, path);
		return -EINVAL;
	}
	c.fd = tcp_connect(&u, options->timeout_ms, detail, sizeof(detail));
	err = c.fd < 0 ? c.fd : 0;
	if (err == 0 && u.tls)
		err = tls_start(&c, &u, options, detail, sizeof(detail));
	if (err == 0) {
		errno = 0;
		err = conn_write(&c, request, (size_t)n);
		if (err != 0)
			snprintf(detail, sizeof(detail), "sending the request: %s",
				 strerror(-err));
	}
	if (err == 0)
		err = read_answer(&c, out, detail, sizeof(detail));
	OPENSSL_cleanse(request, sizeof(request)); /* it carried the token */
	conn_close(&c);
	if (err != 0) {
		http_response_release(out);
		say(why, why_size, "%s%s: %s", base_url, path, detail);
	}
	return err;
}

void http_response_release(struct http_response *r)
{
	free(r->body);
	r->body = NULL;
	r->len = 0;
}

int http_token_load(const char *path, char out[HTTP_TOKEN_MAX + 1], char *why, size_t why_size)
{
	char buf[HTTP_TOKEN_MAX + 4];
	struct stat st;
	size_t len = 0, tok;
	int fd, err = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0 || fstat(fd, &st) != 0) {
		err = -errno;
		say(why, why_size, "token file %s: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		err = -EINVAL;
		say(why, why_size, "token file %s is not a regular file", path);
		goto out;
	}
	for (;;) {
		ssize_t n = read(fd, buf + len, sizeof(buf) - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = -errno;
			say(why, why_size, "token file %s: %s", path, strerror(errno));
			goto out;
		}
		if (n == 0 || len + (size_t)n == sizeof(buf)) {
			len += (size_t)n;
			break;
		}
		len += (size_t)n;
	}
	for (tok = 0; tok < len && buf[tok] > 0x20 && buf[tok] < 0x7f; tok++)
		;
	if (tok < 16 || tok > HTTP_TOKEN_MAX ||
	    !(tok == len || (len - tok == 1 && buf[tok] == '\n') ||
	      (len - tok == 2 && buf[tok] == '\r' && buf[tok + 1] == '\n'))) {
		err = -EINVAL;
		say(why, why_size,
		    "token file %s must hold one token: 16 to 255 printable characters without "
		    "spaces, then at most one line ending",
		    path);
		goto out;
	}
	memcpy(out, buf, tok);
	out[tok] = '\0';
	if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0)
		fprintf(stderr,
			"quorumctl: warning: token file %s may be read by group or others "
			"(mode "
			"%04o): the token is a password\n",
			path, (unsigned)(st.st_mode & 07777));
out:
	OPENSSL_cleanse(buf, sizeof(buf));
	if (fd >= 0)
		close(fd);
	return err;
}
