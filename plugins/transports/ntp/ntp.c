/* ntp.c -- the NTP transport: an NTPv4 server (RFC 5905) on UDP serving the node's agreed
 * time. Mode 4 answers to mode 3 requests: the client's transmit timestamp returned as
 * origin, receive and transmit timestamps from the served clock, root dispersion = our
 * error bound (so a client's own bound contains ours), reference time = the agreement's.
 * Unsynchronised: leap indicator 3, stratum 0, kiss code INIT and no time at all -- never a
 * wrong one. Per-source rate limiting (token bucket) answers an excess with a RATE
 * kiss-o'-death (at most one a second per source); malformed, short and non-client packets
 * are dropped without reply and counted. Datagrams are read and answered in batches
 * (recvmmsg / sendmmsg). */
#define _GNU_SOURCE /* recvmmsg, sendmmsg */
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include <quorum/plugin.h>

#define NTP_PACKET	48
#define NTP_BATCH	64
#define NTP_RECV_MAX	1024 /* a request with extension fields and a MAC fits */
#define UNIX_TO_NTP	2208988800ULL
#define RATE_BUCKETS	4096
#define KOD_INTERVAL_NS 1000000000LL

struct bucket {
	uint8_t key[17]; /* family byte + address */
	double tokens;
	int64_t last_ns;
	int64_t kod_ns;
};

struct ntp_config {
	char address[64];
	int64_t port;
	int64_t stratum;
	char refid[5];
	int64_t rate;  /* requests per second per source; 0: no limit */
	int64_t burst; /* bucket size */
};

struct ntp_server {
	struct quorum_host *host;
	const struct quorum_api *api;
	int fd;
	struct event *ev;
	struct ntp_config cf;
	struct bucket *buckets;
	uint64_t answered, unsynchronised, rate_limited, kod, dropped;
};

static int64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Unix ns -> 64-bit NTP timestamp (era 0), big-endian into P. */
static void put_ntp_time(uint8_t *p, int64_t unix_ns)
{
	uint64_t sec = (uint64_t)(unix_ns / 1000000000) + UNIX_TO_NTP;
	uint64_t frac = ((uint64_t)(unix_ns % 1000000000) << 32) / 1000000000ULL;
	uint64_t v = (sec << 32) | (frac & 0xffffffffULL);

	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

/* NTP short format (16.16 seconds), rounded up: a dispersion is never understated. */
static uint32_t ntp_short_ceil(int64_t ns)
{
	uint64_t v;

	if (ns <= 0)
		return 0;
	v = ((uint64_t)ns << 16) / 1000000000ULL;
	if ((((uint64_t)ns << 16) % 1000000000ULL) != 0)
		v++;
	return v > 0xffffffffULL ? 0xffffffffU : (uint32_t)v;
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static struct bucket *bucket_for(struct ntp_server *s, const struct sockaddr_storage *from)
{
	uint8_t key[17] = { 0 };
	uint32_t h = 2166136261u;
	struct bucket *b;

	key[0] = (uint8_t)from->ss_family;
	if (from->ss_family == AF_INET)
		memcpy(key + 1, &((const struct sockaddr_in *)from)->sin_addr, 4);
	else if (from->ss_family == AF_INET6)
		memcpy(key + 1, &((const struct sockaddr_in6 *)from)->sin6_addr, 16);
	for (size_t i = 0; i < sizeof(key); i++)
		h = (h ^ key[i]) * 16777619u;
	b = &s->buckets[h % RATE_BUCKETS];
	if (memcmp(b->key, key, sizeof(key)) != 0) {
		/* A new source takes the slot (an evicted one starts again with a full bucket:
		 * eviction can only make the limit looser, never refuse an honest client). */
		memcpy(b->key, key, sizeof(key));
		b->tokens = (double)s->cf.burst;
		b->last_ns = mono_ns();
		b->kod_ns = 0;
	}
	return b;
}

/* Token bucket: 1 when the request may be answered. */
static int rate_allows(struct ntp_server *s, struct bucket *b, int64_t now)
{
	double refill;

	if (s->cf.rate <= 0)
		return 1;
	refill = (double)(now - b->last_ns) * (double)s->cf.rate / 1e9;
	b->tokens = b->tokens + refill > (double)s->cf.burst ? (double)s->cf.burst : b->tokens + refill;
	b->last_ns = now;
	if (b->tokens >= 1.0) {
		b->tokens -= 1.0;
		return 1;
	}
	return 0;
}

/* Writes the answer to REQ into OUT (48 bytes). KISS: a kiss code, or NULL for time. */
static void build_reply(struct ntp_server *s, const uint8_t *req, uint8_t *out,
			const struct quorum_clock_reading *rx, const char *kiss)
{
	struct quorum_clock_reading tx;
	unsigned version = (req[0] >> 3) & 7;
	int8_t poll = (int8_t)req[2];

	memset(out, 0, NTP_PACKET);
	memcpy(out + 24, req + 40, 8); /* origin = the client's transmit timestamp */
	out[2] = (uint8_t)(poll < 4 ? 4 : poll > 17 ? 17 : poll);
	out[3] = (uint8_t)(int8_t)-20; /* ~1 us: the served clock's resolution in practice */
	if (kiss != NULL || rx->status != QUORUM_CLOCK_SYNCHRONISED) {
		out[0] = (uint8_t)(3u << 6 | version << 3 | 4u); /* LI 3: unsynchronised */
		out[1] = 0;					  /* stratum 0: kiss-o'-death */
		memcpy(out + 12, kiss != NULL ? kiss : "INIT", 4);
		return; /* no timestamps: never a wrong time */
	}
	out[0] = (uint8_t)(0u << 6 | version << 3 | 4u);
	out[1] = (uint8_t)s->cf.stratum;
	put_be32(out + 4, 0); /* root delay: we are the reference */
	put_be32(out + 8, ntp_short_ceil(rx->error_bound_ns));
	memcpy(out + 12, s->cf.refid, 4);
	put_ntp_time(out + 16, rx->estimate_ns - rx->agreement_age_ns); /* the agreement */
	put_ntp_time(out + 32, rx->estimate_ns);			 /* receive */
	s->api->clock_read(s->host, &tx);
	if (tx.status != QUORUM_CLOCK_SYNCHRONISED) { /* it lapsed just now: no time */
		build_reply(s, req, out, &tx, NULL);
		return;
	}
	/* The bound grows with time: the dispersion covers the later of the two readings. */
	put_be32(out + 8, ntp_short_ceil(tx.error_bound_ns > rx->error_bound_ns
						 ? tx.error_bound_ns
						 : rx->error_bound_ns));
	put_ntp_time(out + 40, tx.estimate_ns); /* transmit */
}

static void ntp_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ntp_server *s = arg;
	static uint8_t in[NTP_BATCH][NTP_RECV_MAX];
	static uint8_t out[NTP_BATCH][NTP_PACKET];
	struct mmsghdr msgs[NTP_BATCH], replies[NTP_BATCH];
	struct sockaddr_storage from[NTP_BATCH];
	struct iovec iov[NTP_BATCH], oiov[NTP_BATCH];
	struct quorum_clock_reading rx;
	int n, nout = 0;
	int64_t now;

	for (int i = 0; i < NTP_BATCH; i++) {
		iov[i] = (struct iovec){ in[i], sizeof(in[i]) };
		msgs[i].msg_hdr = (struct msghdr){ .msg_name = &from[i],
						   .msg_namelen = sizeof(from[i]),
						   .msg_iov = &iov[i],
						   .msg_iovlen = 1 };
	}
	n = recvmmsg((int)fd, msgs, NTP_BATCH, MSG_DONTWAIT, NULL);
	if (n <= 0)
		return;
	s->api->clock_read(s->host, &rx);
	now = mono_ns();
	for (int i = 0; i < n; i++) {
		const uint8_t *req = in[i];
		size_t len = msgs[i].msg_len;
		unsigned version = (req[0] >> 3) & 7, mode = req[0] & 7;
		const char *kiss = NULL;
		struct bucket *b;

		/* A client request: 48 bytes or more (extension fields, a MAC), version 1-4,
		 * mode 3. Everything else gets no answer. */
		if (len < NTP_PACKET || version < 1 || version > 4 || mode != 3 ||
		    (msgs[i].msg_hdr.msg_flags & MSG_TRUNC)) {
			s->dropped++;
			continue;
		}
		b = bucket_for(s, &from[i]);
		if (!rate_allows(s, b, now)) {
			s->rate_limited++;
			if (b->kod_ns != 0 && now - b->kod_ns < KOD_INTERVAL_NS)
				continue; /* one RATE kiss a second is enough */
			b->kod_ns = now;
			kiss = "RATE";
			s->kod++;
		}
		build_reply(s, req, out[nout], &rx, kiss);
		if (kiss == NULL) {
			if (rx.status == QUORUM_CLOCK_SYNCHRONISED)
				s->answered++;
			else
				s->unsynchronised++;
		}
		oiov[nout] = (struct iovec){ out[nout], NTP_PACKET };
		replies[nout].msg_hdr = (struct msghdr){ .msg_name = &from[i],
							 .msg_namelen = msgs[i].msg_hdr.msg_namelen,
							 .msg_iov = &oiov[nout],
							 .msg_iovlen = 1 };
		nout++;
	}
	for (int sent = 0; sent < nout;) {
		int k = sendmmsg((int)fd, replies + sent, (unsigned)(nout - sent), MSG_DONTWAIT);

		if (k <= 0)
			break; /* a full socket buffer: those answers are lost, like datagrams */
		sent += k;
	}
}

/* ---- settings and lifecycle ---- */

/* Reads the settings group into CF. RETURN VALUE: 0 or -EINVAL (logged). */
static int read_settings(struct ntp_server *s, struct ntp_config *cf)
{
	const char *address = "127.0.0.1", *refid = "BFTQ";

	memset(cf, 0, sizeof(*cf));
	cf->port = 1123;
	cf->stratum = 1;
	cf->rate = 64;
	cf->burst = 128;
	s->api->config_string(s->host, "address", &address);
	s->api->config_int(s->host, "port", &cf->port);
	s->api->config_int(s->host, "stratum", &cf->stratum);
	s->api->config_string(s->host, "refid", &refid);
	s->api->config_int(s->host, "rate_limit", &cf->rate);
	s->api->config_int(s->host, "rate_burst", &cf->burst);
	if (strlen(address) >= sizeof(cf->address) || strlen(refid) == 0 || strlen(refid) > 4) {
		s->api->log(s->host, QUORUM_LOG_ERROR,
			    "ntp.config_invalid reason=\"address too long or refid not 1-4 characters\"");
		return -EINVAL;
	}
	snprintf(cf->address, sizeof(cf->address), "%s", address);
	memcpy(cf->refid, refid, strlen(refid));
	return 0;
}

/* Listens on CF's address (through the host, which hands an unchanged address's socket
 * over between generations) and replaces the current socket only once that succeeded. */
static int ntp_bind(struct ntp_server *s, const struct ntp_config *cf)
{
	struct event *ev;
	int fd, err;

	err = s->api->listen(s->host, QUORUM_LISTEN_UDP, cf->address, (uint16_t)cf->port, &fd);
	if (err != 0)
		return err;
	ev = event_new(s->api->event_base(s->host), fd, EV_READ | EV_PERSIST, ntp_read_cb, s);
	if (ev == NULL || event_add(ev, NULL) != 0) {
		if (ev != NULL)
			event_free(ev);
		close(fd);
		return -ENOMEM;
	}
	if (s->ev != NULL) {
		event_free(s->ev);
		close(s->fd);
	}
	s->ev = ev;
	s->fd = fd;
	return 0;
}

static int ntp_init(struct quorum_host *host, const struct quorum_api *api, void **state)
{
	struct ntp_server *s;
	int err;

	if (!QUORUM_API_HAS(api, clock_read))
		return -ENOTSUP;
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return -ENOMEM;
	s->buckets = calloc(RATE_BUCKETS, sizeof(*s->buckets));
	if (s->buckets == NULL) {
		free(s);
		return -ENOMEM;
	}
	s->host = host;
	s->api = api;
	s->fd = -1;
	err = read_settings(s, &s->cf);
	if (err != 0) {
		free(s->buckets);
		free(s);
		return err;
	}
	*state = s;
	return 0;
}

static int ntp_start(void *state)
{
	struct ntp_server *s = state;
	int err = ntp_bind(s, &s->cf);

	if (err == 0)
		s->api->log(s->host, QUORUM_LOG_NOTICE,
			    "ntp.listening address=%s port=%" PRId64 " stratum=%" PRId64
			    " rate_limit=%" PRId64,
			    s->cf.address, s->cf.port, s->cf.stratum, s->cf.rate);
	return err;
}

static int ntp_reload(void *state)
{
	struct ntp_server *s = state;
	struct ntp_config next;
	int err;

	err = read_settings(s, &next);
	if (err != 0)
		return err;
	if (strcmp(next.address, s->cf.address) != 0 || next.port != s->cf.port) {
		err = ntp_bind(s, &next); /* on failure the old socket still serves */
		if (err != 0)
			return err;
	}
	s->cf = next;
	s->api->log(s->host, QUORUM_LOG_NOTICE,
		    "ntp.reloaded address=%s port=%" PRId64 " stratum=%" PRId64
		    " rate_limit=%" PRId64,
		    s->cf.address, s->cf.port, s->cf.stratum, s->cf.rate);
	return 0;
}

static int ntp_drain(void *state)
{
	struct ntp_server *s = state;

	if (s->ev != NULL)
		event_del(s->ev); /* datagrams: nothing is ever in flight */
	return 0;
}

static void ntp_fini(void *state)
{
	struct ntp_server *s = state;

	s->api->log(s->host, QUORUM_LOG_INFO,
		    "ntp.stopped answered=%" PRIu64 " unsynchronised=%" PRIu64
		    " rate_limited=%" PRIu64 " kod=%" PRIu64 " dropped=%" PRIu64,
		    s->answered, s->unsynchronised, s->rate_limited, s->kod, s->dropped);
	if (s->ev != NULL)
		event_free(s->ev);
	if (s->fd >= 0)
		close(s->fd);
	free(s->buckets);
	free(s);
}

static const struct quorum_setting ntp_settings[] = {
	{ .name = "address", .type = QUORUM_SETTING_STRING,
	  .help = "listen address (default 127.0.0.1)" },
	{ .name = "port", .type = QUORUM_SETTING_INT, .min = 1, .max = 65535,
	  .help = "UDP port (default 1123; 123 is NTP's own)" },
	{ .name = "stratum", .type = QUORUM_SETTING_INT, .min = 1, .max = 15,
	  .help = "stratum announced while synchronised (default 1)" },
	{ .name = "refid", .type = QUORUM_SETTING_STRING,
	  .help = "reference id, 1-4 ASCII characters (default BFTQ)" },
	{ .name = "rate_limit", .type = QUORUM_SETTING_INT, .min = 0, .max = 1000000,
	  .help = "requests per second per source before RATE kisses (0: none; default 64)" },
	{ .name = "rate_burst", .type = QUORUM_SETTING_INT, .min = 1, .max = 1000000,
	  .help = "requests a source may send at once (default 128)" },
	{ .type = QUORUM_SETTING_END },
};

QUORUM_PLUGIN_EXPORT const struct quorum_plugin quorum_plugin = {
	QUORUM_PLUGIN_HEADER(QUORUM_PLUGIN_TRANSPORT, "ntp", PACKAGE_VERSION, QUORUM_ROLE_NONE),
	.settings = ntp_settings,
	.init = ntp_init,
	.start = ntp_start,
	.reload = ntp_reload,
	.drain = ntp_drain,
	.fini = ntp_fini,
};
