/* bench-nts.c -- NTS (RFC 8915) load for bench/nts-throughput.sh, against any NTS server
 * (quorumd's NTP transport, chronyd): NTS-KE handshakes per second, and NTS answers per
 * second from a closed loop like bench-ntp's.
 *
 * Usage: bench-nts ntp HOST KE_PORT CA.pem [SECONDS]
 *          one NTS-KE exchange, then udploop.h's closed loop (16 sockets each keep 16
 *          authenticated requests in flight) to the negotiated NTP port for SECONDS (a
 *          request unanswered after 200 ms counts as lost and is replaced). The requests are
 * sealed beforehand (a pool under the exchange's C2S key, with the eight cookies it gave), so
 * the generator spends nothing on cryptography; the first 256 answers are checked in full (UID,
 * authenticator, fresh cookies) and one that fails stops the run. bench-nts ke HOST KE_PORT
 * CA.pem [SECONDS] [THREADS] THREADS threads each run complete NTS-KE exchanges one after the
 * other (TLS 1.3, ALPN ntske/1, the certificate verified against CA.pem for HOST, the request,
 * the eight cookies read, the keys exported). Both print one line starting with the rate. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "nts-aead.h"
#include "nts-ext.h"
#include "nts-ke-records.h"
#include "clocks.h"
#include "udploop.h"

#define WINDOW	 UDPLOOP_WINDOW
#define POOL	 4096 /* distinct sealed requests, sent round robin */
#define CHECKED	 256  /* answers verified in full */
#define PKT_MAX	 512
#define EXPORTER "EXPORTER-network-time-security"

static const char *host;
static int ke_port;
static const char *ca_file;

/* What one NTS-KE exchange yields. */
struct ke_result {
	uint8_t c2s[32], s2c[32];
	uint8_t cookies[NTSKE_COOKIES_MAX][PKT_MAX / 2];
	size_t cookie_len[NTSKE_COOKIES_MAX];
	unsigned ncookies;
	int ntp_port; /* 0: none negotiated */
};

static SSL_CTX *client_ctx(void)
{
	static const unsigned char alpn[] = "\x07ntske/1";
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	if (ctx == NULL || SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) != 1 ||
	    SSL_CTX_load_verify_locations(ctx, ca_file, NULL) != 1 ||
	    SSL_CTX_set_alpn_protos(ctx, alpn, sizeof(alpn) - 1) != 0) {
		fprintf(stderr, "bench-nts: TLS context with CA %s failed\n", ca_file);
		ERR_print_errors_fp(stderr);
		exit(1);
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF); /* full handshakes only */
	return ctx;
}

/* One NTS-KE exchange on CTX; KEEP (or NULL) gets the keys and cookies. RETURN VALUE: 0 or
 * -1 (a message on stderr when VERBOSE). */
static int ke_exchange(SSL_CTX *ctx, struct ke_result *keep, int verbose)
{
	static const uint8_t context_c2s[5] = { 0, 0, 0, NTSKE_AEAD_AES_SIV_CMAC_256, 0 };
	static const uint8_t context_s2c[5] = { 0, 0, 0, NTSKE_AEAD_AES_SIV_CMAC_256, 1 };
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons((uint16_t)ke_port) };
	uint8_t req[64], buf[4096];
	struct ntske_response resp;
	size_t got = 0;
	int fd, len, r = -1, parsed = NTSKE_INCOMPLETE, one = 1;
	SSL *ssl = NULL;

	inet_pton(AF_INET, host, &to.sin_addr);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0 ||
	    connect(fd, (struct sockaddr *)&to, sizeof(to)) != 0)
		goto out_close;
	ssl = SSL_new(ctx);
	if (ssl == NULL || SSL_set_fd(ssl, fd) != 1 || SSL_set1_host(ssl, host) != 1)
		goto out_close;
	len = ntske_request_build(req, sizeof(req));
	if (SSL_connect(ssl) != 1 || len < 0 || SSL_write(ssl, req, len) != len)
		goto out_close;
	while (parsed == NTSKE_INCOMPLETE && got < sizeof(buf)) {
		int n = SSL_read(ssl, buf + got, (int)(sizeof(buf) - got));

		if (n <= 0)
			break;
		got += (size_t)n;
		parsed = ntske_response_parse(buf, got, &resp);
	}
	if (parsed != 0 || resp.error >= 0 || !resp.ntpv4 ||
	    resp.aead != NTSKE_AEAD_AES_SIV_CMAC_256 || resp.ncookies != NTSKE_COOKIES_MAX)
		goto out_close;
	if (keep != NULL) {
		if (SSL_export_keying_material(ssl, keep->c2s, 32, EXPORTER, strlen(EXPORTER),
					       context_c2s, sizeof(context_c2s), 1) != 1 ||
		    SSL_export_keying_material(ssl, keep->s2c, 32, EXPORTER, strlen(EXPORTER),
					       context_s2c, sizeof(context_s2c), 1) != 1)
			goto out_close;
		for (unsigned i = 0; i < resp.ncookies; i++) {
			if (resp.cookie_len[i] > sizeof(keep->cookies[i]))
				goto out_close;
			memcpy(keep->cookies[i], resp.cookies[i], resp.cookie_len[i]);
			keep->cookie_len[i] = resp.cookie_len[i];
		}
		keep->ncookies = resp.ncookies;
		keep->ntp_port = resp.port;
	} else {
		uint8_t k[32];

		if (SSL_export_keying_material(ssl, k, 32, EXPORTER, strlen(EXPORTER),
					       context_c2s, sizeof(context_c2s), 1) != 1)
			goto out_close;
	}
	r = 0;
	SSL_shutdown(ssl);
out_close:
	if (r != 0 && verbose) {
		fprintf(stderr, "bench-nts: NTS-KE exchange with %s:%d failed\n", host,
			ke_port);
		ERR_print_errors_fp(stderr);
	}
	SSL_free(ssl);
	if (fd >= 0)
		close(fd);
	return r;
}

/* ---- NTS-KE handshakes per second ---- */

static atomic_ullong handshakes, handshake_failures;
static int64_t ke_end;
static SSL_CTX *ke_ctx;

static void *ke_thread(void *arg)
{
	(void)arg;
	while (mono_now_ns() < ke_end) {
		if (ke_exchange(ke_ctx, NULL, 0) == 0)
			atomic_fetch_add(&handshakes, 1);
		else
			atomic_fetch_add(&handshake_failures, 1);
	}
	return NULL;
}

static int run_ke(double seconds, int threads)
{
	pthread_t tid[64];
	int64_t start;

	if (threads < 1 || threads > 64)
		return 2;
	ke_ctx = client_ctx();
	if (ke_exchange(ke_ctx, NULL, 1) != 0)
		return 1;
	start = mono_now_ns();
	ke_end = start + (int64_t)(seconds * 1e9);
	for (int i = 0; i < threads; i++)
		pthread_create(&tid[i], NULL, ke_thread, NULL);
	for (int i = 0; i < threads; i++)
		pthread_join(tid[i], NULL);
	printf("%.0f handshakes/s over %.1f s (%llu complete, %llu failed, %d threads)\n",
	       (double)atomic_load(&handshakes) / ((double)(mono_now_ns() - start) / 1e9),
	       seconds, atomic_load(&handshakes), atomic_load(&handshake_failures), threads);
	SSL_CTX_free(ke_ctx);
	return atomic_load(&handshake_failures) == 0 ? 0 : 1;
}

/* ---- NTS answers per second ---- */

static uint8_t pool[POOL][PKT_MAX];
static size_t pool_len[POOL];

/* Seals POOL requests, each with its own UID and transmit time, over the exchange's
 * cookies in turn. */
static int build_pool(const struct ke_result *ke, struct nts_aead *c2s)
{
	for (int i = 0; i < POOL; i++) {
		uint8_t uid[32], nonce[16];
		int len;

		memset(pool[i], 0, NTS_NTP_HEADER);
		pool[i][0] = 0x23; /* version 4, mode 3 */
		if (RAND_bytes(uid, sizeof(uid)) != 1 ||
		    RAND_bytes(nonce, sizeof(nonce)) != 1 || RAND_bytes(pool[i] + 40, 8) != 1)
			return -1;
		len = nts_client_request(c2s, pool[i], PKT_MAX, uid,
					 ke->cookies[i % ke->ncookies],
					 ke->cookie_len[i % ke->ncookies], 0, nonce);
		if (len < 0)
			return -1;
		pool_len[i] = (size_t)len;
	}
	return 0;
}

/* Sends COUNT pooled requests on FD in one sendmmsg, from *NEXT on. RETURN VALUE: how many
 * the kernel took. */
static int send_batch(int fd, unsigned *next, int count)
{
	struct mmsghdr msgs[WINDOW];
	struct iovec iov[WINDOW];
	int sent;

	for (int k = 0; k < count; k++) {
		unsigned i = (*next + (unsigned)k) % POOL;

		iov[k] = (struct iovec){ pool[i], pool_len[i] };
		msgs[k].msg_hdr = (struct msghdr){ .msg_iov = &iov[k], .msg_iovlen = 1 };
	}
	sent = sendmmsg(fd, msgs, (unsigned)count, MSG_DONTWAIT);
	if (sent > 0)
		*next += (unsigned)sent;
	return sent < 0 ? 0 : sent;
}

/* An answer that verifies under S2C and carries one fresh cookie; else says why. */
static int answer_checks(struct nts_aead *s2c, const uint8_t *pkt, size_t len)
{
	static uint8_t plain[NTS_PLAINTEXT_MAX];
	int r = -1;

	/* the UID field follows the header: 2 type, 2 length, then the UID */
	if (len >= NTS_NTP_HEADER + 36 && (pkt[0] & 7) == 4 && pkt[1] != 0)
		r = nts_client_response(s2c, pkt, len, pkt + NTS_NTP_HEADER + 4, plain, NULL,
					NULL);
	if (r != 1)
		fprintf(stderr,
			"bench-nts: an answer does not verify (%zu bytes, mode %d, stratum %d, "
			"kiss \"%.4s\", %d cookies or error %d)\n",
			len, len > 0 ? pkt[0] & 7 : -1, len > 1 ? pkt[1] : -1,
			len >= 16 ? (const char *)pkt + 12 : "", r, r);
	return r == 1;
}

/* The NTS side of the loop: the pooled requests out, each answer counted, the first
 * CHECKED verified in full (one that fails stops the run). */
struct nts_loop {
	unsigned next;
	struct nts_aead *s2c;
	uint64_t checked;
};

static int nts_send(void *arg, int fd, int count)
{
	return send_batch(fd, &((struct nts_loop *)arg)->next, count);
}

static int nts_answer(void *arg, const uint8_t *pkt, size_t len)
{
	struct nts_loop *n = arg;

	if (n->checked < CHECKED) {
		if (!answer_checks(n->s2c, pkt, len))
			return -1;
		n->checked++;
	}
	return len > NTS_NTP_HEADER + 36 && pkt[1] != 0;
}

static int run_ntp(double seconds)
{
	struct sockaddr_in to = { .sin_family = AF_INET };
	struct ke_result ke;
	struct nts_aead c2s, s2c;
	struct nts_loop n = { .s2c = &s2c };
	struct udploop loop = { .send = nts_send, .answer = nts_answer, .arg = &n };
	SSL_CTX *ctx = client_ctx();
	int err;

	if (ke_exchange(ctx, &ke, 1) != 0)
		return 1;
	SSL_CTX_free(ctx);
	if (nts_aead_init(&c2s) != 0 || nts_aead_init(&s2c) != 0 ||
	    nts_aead_set_key(&c2s, ke.c2s) != 0 || nts_aead_set_key(&s2c, ke.s2c) != 0 ||
	    build_pool(&ke, &c2s) != 0) {
		fprintf(stderr, "bench-nts: sealing the requests failed\n");
		return 1;
	}
	inet_pton(AF_INET, host, &to.sin_addr);
	to.sin_port = htons((uint16_t)(ke.ntp_port ? ke.ntp_port : 123));
	fprintf(stderr, "bench-nts: NTS-KE gave %u cookies of %zu bytes, NTP port %d\n",
		ke.ncookies, ke.cookie_len[0], ke.ntp_port ? ke.ntp_port : 123);
	err = udploop_run(&loop, &to, seconds, "bench-nts");
	if (err == 0)
		printf("%.0f answers/s over %.1f s (%llu answered, %llu sent, %llu lost, "
		       "%.2f%% loss; %zu-byte requests, first %llu verified)\n",
		       (double)loop.answered / loop.elapsed_s, seconds,
		       (unsigned long long)loop.answered, (unsigned long long)loop.sent,
		       (unsigned long long)loop.lost,
		       loop.sent ? 100.0 * (double)loop.lost / (double)loop.sent : 0.0,
		       pool_len[0], (unsigned long long)n.checked);
	nts_aead_release(&c2s);
	nts_aead_release(&s2c);
	return err == 0 && n.checked > 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
	struct in_addr a;

	if (argc < 5 || inet_pton(AF_INET, argv[2], &a) != 1 ||
	    (strcmp(argv[1], "ntp") != 0 && strcmp(argv[1], "ke") != 0)) {
		fprintf(stderr,
			"usage: bench-nts ntp HOST KE_PORT CA.pem [SECONDS]\n"
			"       bench-nts ke HOST KE_PORT CA.pem [SECONDS] [THREADS]\n");
		return 2;
	}
	host = argv[2];
	ke_port = atoi(argv[3]);
	ca_file = argv[4];
	if (strcmp(argv[1], "ke") == 0)
		return run_ke(argc > 5 ? atof(argv[5]) : 3.0, argc > 6 ? atoi(argv[6]) : 4);
	return run_ntp(argc > 5 ? atof(argv[5]) : 3.0);
}
