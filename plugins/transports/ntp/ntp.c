/* ntp.c -- the NTP transport: an NTPv4 server (RFC 5905) on UDP serving the node's agreed
 * time. Mode 4 answers to mode 3 requests: the client's transmit timestamp returned as
 * origin, receive and transmit timestamps from the served clock, root dispersion = our
 * error bound (so a client's own bound contains ours), reference time = the agreement's.
 * Unsynchronised: leap indicator 3, stratum 0, kiss code INIT and no time at all -- never a
 * wrong one. Per-source rate limiting (token bucket) answers an excess with a RATE
 * kiss-o'-death (at most one a second per source); malformed, short and non-client packets
 * are dropped without reply and counted. Datagrams are read and answered in batches
 * (recvmmsg / sendmmsg) by WORKERS threads, each reading its own socket of an SO_REUSEPORT
 * group and the served clock from the shared page, so an answer never waits for the
 * loop's rounds, fsyncs or other transports (workers = 0: on the event loop instead).
 * Settings change by a fresh instance (no in-place reload): it inherits the socket group
 * when the address and the number of workers stay, so no datagram is refused. With an
 * `nts` settings group, Network Time Security (RFC 8915, nts.c) answers NTS requests on
 * the same sockets and serves NTS-KE; a SIGHUP reads its certificate again (refresh). */
#define _GNU_SOURCE /* recvmmsg, sendmmsg */
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include <quorum/plugin.h>

#include "nts.h"
#include "clocks.h"
#include "byteorder.h"

#define NTP_PACKET	48
#define NTP_BATCH	64
#define NTP_RECV_MAX	1024 /* a request with extension fields and a MAC fits */
#define UNIX_TO_NTP	2208988800ULL
#define RATE_BUCKETS	4096
#define RATE_LOCKS	64
#define NTP_WORKERS_MAX QUORUM_LISTEN_GROUP_MAX
/* Arrival times: used up to this age (a longer wait is counted as the client's delay).
 * An age measured in CLOCK_REALTIME is true elapsed time within AGE_RATE_ERROR_PPM (the
 * kernel's frequency and offset slews, 500 ppm each at most), which the bound absorbs;
 * between two batches CLOCK_REALTIME - CLOCK_MONOTONIC moves by at most MAX_SLEW_PPM
 * (adjtime's offset slew) plus REALTIME_JITTER_NS of sampling, or the clock was stepped. */
#define NTP_STATS_MS 10000 /* the loop looks at the workers' counters this often, */
			   /* or every stats_interval_s when that is shorter */
#define ARRIVAL_AGE_MAX_NS 1000000000LL
#define AGE_RATE_ERROR_PPM 1000
#define MAX_SLEW_PPM	   500
#define REALTIME_JITTER_NS 20000LL
#define KOD_INTERVAL_NS	   1000000000LL

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
	int64_t rate;	 /* requests per second per source; 0: no limit */
	int64_t burst;	 /* bucket size */
	int64_t workers; /* 0: answered on the event loop; N: N threads, a socket each */
	int arrival; /* receive timestamps from the kernel's arrival time (SO_TIMESTAMPNS) */
	int64_t stats_interval_s; /* an ntp.stats line this often (0: none) */
};

struct ntp_counters {
	uint64_t answered, unsynchronised, rate_limited, kod, dropped, errors;
	uint64_t batches; /* recvmmsg calls that returned datagrams */
	uint64_t arrival; /* answers whose receive timestamp is the datagram's arrival */
};

/* A worker's counters have one writer (its thread) and one reader besides it (the loop's
 * stats timer): relaxed atomic stores and loads, plain moves on the machines we run on. */
/* The same counts are series of the node's metrics (ABI 1.11; NULL on an older host):
 * metric_add is a relaxed atomic add on a series only this worker writes. */
struct ntp_metrics {
	struct quorum_metric *answered, *unsynchronised, *rate_limited, *kod, *dropped, *errors;
	struct quorum_metric *batches, *arrival;
};

#define COUNT(w, field)                                                                        \
	do {                                                                                   \
		__atomic_store_n(&(w)->count.field, (w)->count.field + 1, __ATOMIC_RELAXED);   \
		if ((w)->metric.field != NULL)                                                 \
			(w)->s->api->metric_add((w)->metric.field, 1);                         \
	} while (0)

struct ntp_server;

/* One reader of one socket: the event loop (workers = 0) or a thread of its own. Its
 * buffers are its own, so that readers never share a line but the rate buckets'. */
struct ntp_worker {
	struct ntp_server *s;
	int fd; /* borrowed from the server's socket group */
	int threaded;
	unsigned index;
	pthread_t thread;
	struct ntp_counters count;
	struct ntp_metrics metric;
	int last_error; /* atomic: the errno of the last error counted */
	struct mmsghdr msgs[NTP_BATCH], replies[NTP_BATCH];
	struct iovec iov[NTP_BATCH], oiov[NTP_BATCH];
	struct sockaddr_storage from[NTP_BATCH];
	uint8_t in[NTP_BATCH][NTP_RECV_MAX];
	uint8_t out[NTP_BATCH][NTP_RECV_MAX]; /* an NTS answer is as long as its request */
	struct nts_worker *nts;		      /* NULL without NTS */
	union {				      /* aligned for struct cmsghdr */
		struct cmsghdr align;
		uint8_t buf[CMSG_SPACE(sizeof(struct timespec))];
	} ctrl[NTP_BATCH];
	/* CLOCK_REALTIME - CLOCK_MONOTONIC at the last batch, and when: a step of the system
	 * clock since then makes the kernel's arrival times unusable for this batch. */
	int64_t last_offset_ns, last_mono_ns;
};

struct ntp_server {
	struct quorum_host *host;
	const struct quorum_api *api;
	struct ntp_config cf;
	int fds[NTP_WORKERS_MAX]; /* the socket group (one socket for workers = 0) */
	unsigned nfds;
	struct ntp_worker *workers[NTP_WORKERS_MAX];
	unsigned nworkers;
	struct event *ev; /* workers = 0: the loop's read event */
	int stop_fd;	  /* eventfd, readable once the threads must stop; -1 */
	int stopping;	  /* atomic: set before stop_fd is written */
	struct bucket *buckets;
	pthread_mutex_t locks[RATE_LOCKS]; /* bucket i is under locks[i % RATE_LOCKS] */
	struct ntp_counters total;	   /* of the workers stopped so far */
	struct quorum_timer *stats_timer;  /* the loop's look at the counters */
	struct ntp_counters reported;	   /* as of the last stats line */
	uint64_t errors_reported;	   /* errors as of the last warning */
	unsigned stats_ticks, stats_every; /* ticks so far, ticks a stats line (0: none) */
	uint64_t stats_period_ms;
	struct nts_server *nts; /* the `nts` group's server, or NULL */
};

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

/* ---- per-source rate limit, shared by every reader ---- */

enum rate_verdict {
	RATE_ANSWER, /* within the limit */
	RATE_KISS,   /* over it: a RATE kiss-o'-death */
	RATE_SILENT, /* over it, and kissed less than a second ago: nothing */
};

/* Token bucket of FROM's address (SO_REUSEPORT spreads one address's ports over several
 * workers, so the table is shared, under striped locks). */
static enum rate_verdict rate_check(struct ntp_server *s, const struct sockaddr_storage *from,
				    int64_t now)
{
	uint8_t key[17] = { 0 };
	uint32_t h = 2166136261u;
	enum rate_verdict verdict;
	struct bucket *b;
	pthread_mutex_t *lock;
	double refill;

	key[0] = (uint8_t)from->ss_family;
	if (from->ss_family == AF_INET)
		memcpy(key + 1, &((const struct sockaddr_in *)from)->sin_addr, 4);
	else if (from->ss_family == AF_INET6)
		memcpy(key + 1, &((const struct sockaddr_in6 *)from)->sin6_addr, 16);
	for (size_t i = 0; i < sizeof(key); i++)
		h = (h ^ key[i]) * 16777619u;
	b = &s->buckets[h % RATE_BUCKETS];
	lock = &s->locks[(h % RATE_BUCKETS) % RATE_LOCKS];
	pthread_mutex_lock(lock);
	if (memcmp(b->key, key, sizeof(key)) != 0) {
		/* A new source takes the slot (an evicted one starts again with a full bucket:
		 * eviction can only make the limit looser, never refuse an honest client). */
		memcpy(b->key, key, sizeof(key));
		b->tokens = (double)s->cf.burst;
		b->last_ns = now;
		b->kod_ns = 0;
	}
	refill = (double)(now - b->last_ns) * (double)s->cf.rate / 1e9;
	if (refill > 0) {
		b->tokens = b->tokens + refill > (double)s->cf.burst ? (double)s->cf.burst
								     : b->tokens + refill;
		b->last_ns = now;
	}
	if (b->tokens >= 1.0) {
		b->tokens -= 1.0;
		verdict = RATE_ANSWER;
	} else if (b->kod_ns != 0 && now - b->kod_ns < KOD_INTERVAL_NS) {
		verdict = RATE_SILENT; /* one RATE kiss a second is enough */
	} else {
		b->kod_ns = now;
		verdict = RATE_KISS;
	}
	pthread_mutex_unlock(lock);
	return verdict;
}

/* ---- answering ---- */

/* The served clock now: a worker thread reads the shared page, the loop asks the host. */
static void worker_clock_read(struct ntp_worker *w, struct quorum_clock_reading *out)
{
	if (w->threaded)
		w->s->api->clock_read_concurrent(w->s->host, out);
	else
		w->s->api->clock_read(w->s->host, out);
}

/* Writes the answer to REQ into OUT (48 bytes). KISS: a kiss code, or NULL for time. */
static void build_reply(struct ntp_worker *w, const uint8_t *req, uint8_t *out,
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
		out[1] = 0;					 /* stratum 0: kiss-o'-death */
		memcpy(out + 12, kiss != NULL ? kiss : "INIT", 4);
		return; /* no timestamps: never a wrong time */
	}
	out[0] = (uint8_t)(0u << 6 | version << 3 | 4u);
	out[1] = (uint8_t)w->s->cf.stratum;
	put_be32(out + 4, 0); /* root delay: we are the reference */
	put_be32(out + 8, ntp_short_ceil(rx->error_bound_ns));
	memcpy(out + 12, w->s->cf.refid, 4);
	put_ntp_time(out + 16, rx->estimate_ns - rx->agreement_age_ns); /* the agreement */
	put_ntp_time(out + 32, rx->estimate_ns);			/* receive */
	worker_clock_read(w, &tx);
	if (tx.status != QUORUM_CLOCK_SYNCHRONISED) { /* it lapsed just now: no time */
		build_reply(w, req, out, &tx, NULL);
		return;
	}
	/* The bound grows with time: the dispersion covers the later of the two readings. */
	put_be32(out + 8,
		 ntp_short_ceil(tx.error_bound_ns > rx->error_bound_ns ? tx.error_bound_ns
								       : rx->error_bound_ns));
	put_ntp_time(out + 40, tx.estimate_ns); /* transmit */
}

/* The kernel's arrival time of message M (CLOCK_REALTIME ns), or 0 when it has none. */
static int64_t arrival_of(const struct mmsghdr *m)
{
	struct msghdr *h = (struct msghdr *)&m->msg_hdr;

	for (struct cmsghdr *c = CMSG_FIRSTHDR(h); c != NULL; c = CMSG_NXTHDR(h, c)) {
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS &&
		    c->cmsg_len >= CMSG_LEN(sizeof(struct timespec))) {
			struct timespec ts;

			memcpy(&ts, CMSG_DATA(c), sizeof(ts));
			return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
		}
	}
	return 0;
}

/*
 * The served clock when a datagram arrived, from RX (read at CLOCK_REALTIME READ_REAL, after
 * the batch was received): the kernel stamps arrivals in CLOCK_REALTIME, which the served
 * clock does not follow, so an arrival AGE ago is taken back from the reading only when
 * nothing can have made that age wrong: the system clock was not stepped since the last
 * batch (TRUSTED), the age is positive and at most ARRIVAL_AGE_MAX_NS, and the agreement
 * being served was already served then. The bound grows by what the age may differ from
 * true elapsed time (AGE_RATE_ERROR_PPM of it). RETURN VALUE: 1 when *AT is the arrival's,
 * 0 when it is RX (a queued request then reads as received when it was read, which its
 * client counts as delay).
 */
static int reading_at_arrival(const struct quorum_clock_reading *rx, int64_t read_real,
			      int64_t arrival, int trusted, struct quorum_clock_reading *at)
{
	int64_t age = read_real - arrival;

	*at = *rx;
	if (!trusted || arrival == 0 || rx->status != QUORUM_CLOCK_SYNCHRONISED || age <= 0 ||
	    age > ARRIVAL_AGE_MAX_NS || age > rx->agreement_age_ns)
		return 0;
	at->estimate_ns -= age;
	at->earliest_ns -= age;
	at->latest_ns -= age;
	at->agreement_age_ns -= age;
	at->error_bound_ns += age / (1000000 / AGE_RATE_ERROR_PPM) + 1;
	return 1;
}

/* Whether the system clock kept its pace since W's last batch (no step, no slew faster
 * than MAX_SLEW_PPM): the condition for turning arrival ages into served time. Records
 * this batch's offset for the next. */
static int realtime_steady(struct ntp_worker *w, int64_t real, int64_t mono)
{
	int64_t offset = real - mono, elapsed = mono - w->last_mono_ns, drift;
	int steady;

	drift = offset > w->last_offset_ns ? offset - w->last_offset_ns
					   : w->last_offset_ns - offset;
	steady = w->last_mono_ns != 0 &&
		 drift <= elapsed / (1000000 / MAX_SLEW_PPM) + REALTIME_JITTER_NS;
	w->last_offset_ns = offset;
	w->last_mono_ns = mono;
	return steady;
}

/* Reads one batch of datagrams from W's socket and answers it. RETURN VALUE: how many were
 * read (NTP_BATCH: more may be waiting), 0 when none was, or -errno. */
static int ntp_serve_batch(struct ntp_worker *w)
{
	struct ntp_server *s = w->s;
	struct quorum_clock_reading rx;
	int n, nout = 0, trusted;
	int64_t now, read_real;

	for (int i = 0; i < NTP_BATCH; i++) {
		w->iov[i] = (struct iovec){ w->in[i], sizeof(w->in[i]) };
		w->msgs[i].msg_hdr = (struct msghdr){ .msg_name = &w->from[i],
						      .msg_namelen = sizeof(w->from[i]),
						      .msg_iov = &w->iov[i],
						      .msg_iovlen = 1 };
		if (s->cf.arrival) {
			w->msgs[i].msg_hdr.msg_control = w->ctrl[i].buf;
			w->msgs[i].msg_hdr.msg_controllen = sizeof(w->ctrl[i].buf);
		}
	}
	n = recvmmsg(w->fd, w->msgs, NTP_BATCH, MSG_DONTWAIT, NULL);
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0 : -errno;
	if (n == 0)
		return 0;
	COUNT(w, batches);
	read_real = realtime_now_ns();
	worker_clock_read(w, &rx);
	read_real += (realtime_now_ns() - read_real) /
		     2; /* the reading's instant, in CLOCK_REALTIME */
	now = mono_now_ns();
	trusted = s->cf.arrival && realtime_steady(w, read_real, now);
	for (int i = 0; i < n; i++) {
		const uint8_t *req = w->in[i];
		size_t len = w->msgs[i].msg_len;
		unsigned version = (req[0] >> 3) & 7, mode = req[0] & 7;
		const char *kiss = NULL;
		enum nts_verdict nts = NTS_PLAIN;
		struct nts_exchange exchange;
		size_t out_len = NTP_PACKET;

		/* A client request: 48 bytes or more (extension fields, a MAC), version 1-4,
		 * mode 3. Everything else gets no answer. */
		if (len < NTP_PACKET || version < 1 || version > 4 || mode != 3 ||
		    (w->msgs[i].msg_hdr.msg_flags & MSG_TRUNC)) {
			COUNT(w, dropped);
			continue;
		}
		if (s->cf.rate > 0) {
			enum rate_verdict verdict = rate_check(s, &w->from[i], now);

			if (verdict != RATE_ANSWER)
				COUNT(w, rate_limited);
			if (verdict == RATE_SILENT)
				continue;
			if (verdict == RATE_KISS) {
				kiss = "RATE";
				COUNT(w, kod);
			}
		}
		if (w->nts != NULL && len > NTP_PACKET) {
			/* NTS (RFC 8915): checked before the time is read, sealed after. */
			nts = nts_worker_check(w->nts, req, len, kiss != NULL, &w->from[i],
					       &exchange);
			if (nts == NTS_DROP) {
				COUNT(w, dropped);
				continue;
			}
			if (nts == NTS_NAK)
				kiss = "NTSN";
		}
		{
			struct quorum_clock_reading at;

			if (reading_at_arrival(&rx, read_real, arrival_of(&w->msgs[i]), trusted,
					       &at) &&
			    kiss == NULL)
				COUNT(w, arrival);
			build_reply(w, req, w->out[nout], &at, kiss);
		}
		if (nts != NTS_PLAIN) {
			out_len = nts_worker_answer(w->nts, nts, &exchange, w->out[nout],
						    sizeof(w->out[nout]), len);
			if (out_len == 0) {
				COUNT(w, errors);
				continue;
			}
		}
		if (kiss == NULL) {
			if (rx.status == QUORUM_CLOCK_SYNCHRONISED)
				COUNT(w, answered);
			else
				COUNT(w, unsynchronised);
		}
		w->oiov[nout] = (struct iovec){ w->out[nout], out_len };
		w->replies[nout].msg_hdr =
			(struct msghdr){ .msg_name = &w->from[i],
					 .msg_namelen = w->msgs[i].msg_hdr.msg_namelen,
					 .msg_iov = &w->oiov[nout],
					 .msg_iovlen = 1 };
		nout++;
	}
	for (int sent = 0; sent < nout;) {
		int k = sendmmsg(w->fd, w->replies + sent, (unsigned)(nout - sent),
				 MSG_DONTWAIT);

		if (k <= 0) {
			/* a full socket buffer: those answers are lost */
			__atomic_store_n(&w->last_error, k < 0 ? errno : EAGAIN,
					 __ATOMIC_RELAXED);
			COUNT(w, errors);
			break;
		}
		sent += k;
	}
	return n;
}

/* The loop's read event (workers = 0): one batch per turn, fair to the loop's other work. */
static void ntp_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ntp_worker *w = arg;

	int n;

	(void)fd;
	(void)what;
	n = ntp_serve_batch(w);
	if (n < 0) {
		w->last_error = -n;
		COUNT(w, errors);
	}
}

/* A worker thread: answers batches while they come full, waits in poll() otherwise, and
 * ends once the server's stop_fd is readable. */
static void *ntp_worker_main(void *arg)
{
	struct ntp_worker *w = arg;
	struct pollfd p[2] = { { .fd = w->fd, .events = POLLIN },
			       { .fd = w->s->stop_fd, .events = POLLIN } };

	while (!__atomic_load_n(&w->s->stopping, __ATOMIC_ACQUIRE)) {
		int n = ntp_serve_batch(w);

		if (n < 0) {
			__atomic_store_n(&w->last_error, -n, __ATOMIC_RELAXED);
			COUNT(w, errors);
		}
		if (n == NTP_BATCH)
			continue; /* more are likely waiting: no poll() in between */
		if (poll(p, 2, -1) < 0 && errno != EINTR) {
			/* Never a silent end: the socket keeps its share of the clients, so the
			 * thread keeps trying; the loop's stats timer reports the errors. */
			struct timespec pause = { 0, 10000000 };

			__atomic_store_n(&w->last_error, errno, __ATOMIC_RELAXED);
			COUNT(w, errors);
			nanosleep(&pause, NULL);
			continue;
		}
		if (p[1].revents != 0)
			break;
	}
	return NULL;
}

/* ---- workers ---- */

/* Adds FROM (a running worker's too: its fields are read atomically) to TO. */
static void counters_add(struct ntp_counters *to, const struct ntp_counters *from)
{
#define ADD(field) to->field += __atomic_load_n(&from->field, __ATOMIC_RELAXED)
	ADD(answered);
	ADD(unsynchronised);
	ADD(rate_limited);
	ADD(kod);
	ADD(dropped);
	ADD(errors);
	ADD(batches);
	ADD(arrival);
#undef ADD
}

/* Everything counted so far: the stopped workers' and the running ones'. Loop thread. */
static void counters_now(const struct ntp_server *s, struct ntp_counters *out)
{
	*out = s->total;
	for (unsigned i = 0; i < s->nworkers; i++)
		counters_add(out, &s->workers[i]->count);
}

/* The loop's look at the counters, every stats_period_ms: a warning as soon as errors
 * (lost answers, failed reads) were counted, and a line of totals every stats_every ticks
 * (stats_interval_s) when anything was answered. */
static void ntp_stats_cb(void *arg)
{
	struct ntp_server *s = arg;
	struct ntp_counters now;
	int last_error = 0;
	char nts[160];

	counters_now(s, &now);
	for (unsigned i = 0; i < s->nworkers; i++) {
		int e = __atomic_load_n(&s->workers[i]->last_error, __ATOMIC_RELAXED);

		if (e != 0)
			last_error = e;
	}
	if (now.errors > s->errors_reported) {
		s->api->log(s->host, QUORUM_LOG_WARNING,
			    "ntp.errors new=%" PRIu64 " total=%" PRIu64 " last_error=\"%s\" "
			    "effect=answers_lost_or_reads_failed",
			    now.errors - s->errors_reported, now.errors,
			    last_error != 0 ? strerror(last_error) : "none");
		s->errors_reported = now.errors;
	}
	if (s->stats_every == 0 || ++s->stats_ticks < s->stats_every)
		return;
	s->stats_ticks = 0;
	if (now.answered + now.unsynchronised + now.kod ==
	    s->reported.answered + s->reported.unsynchronised + s->reported.kod)
		return;
	nts[0] = '\0';
	if (s->nts != NULL)
		nts_stats_line(s->nts, nts, sizeof(nts));
	s->api->log(s->host, QUORUM_LOG_INFO,
		    "ntp.stats answered=%" PRIu64 " per_second=%" PRIu64
		    " unsynchronised=%" PRIu64 " rate_limited=%" PRIu64 " kod=%" PRIu64
		    " dropped=%" PRIu64 " arrival_stamped=%" PRIu64 " errors=%" PRIu64
		    " workers=%u%s",
		    now.answered,
		    (now.answered - s->reported.answered) * 1000 /
			    (s->stats_period_ms * s->stats_every),
		    now.unsynchronised, now.rate_limited, now.kod, now.dropped, now.arrival,
		    now.errors, s->nworkers, nts);
	s->reported = now;
}

/* One series of reader INDEX: NAME{worker="INDEX"[,EXTRA]}. NULL on a host before 1.11. */
static struct quorum_metric *ntp_metric(struct ntp_server *s, unsigned index, const char *name,
					const char *extra, const char *help)
{
	char labels[96];

	if (!QUORUM_API_HAS(s->api, metric_register))
		return NULL;
	snprintf(labels, sizeof(labels), "worker=\"%u\"%s%s", index, extra != NULL ? "," : "",
		 extra != NULL ? extra : "");
	return s->api->metric_register(s->host, QUORUM_METRIC_COUNTER, name, labels, help, 1.0);
}

/* Reader INDEX's series in the node's metrics. */
static void worker_metrics(struct ntp_server *s, unsigned index, struct ntp_metrics *m)
{
	static const char answers[] = "NTP requests answered with the time by reader and the "
				      "clock's state (an unsynchronised answer says leap=3).";

	m->answered = ntp_metric(s, index, "quorum_ntp_answers_total",
				 "status=\"synchronised\"", answers);
	m->unsynchronised = ntp_metric(s, index, "quorum_ntp_answers_total",
				       "status=\"unsynchronised\"", answers);
	m->rate_limited = ntp_metric(s, index, "quorum_ntp_rate_limited_total", NULL,
				     "NTP requests over a source's rate (kissed or dropped).");
	m->kod = ntp_metric(s, index, "quorum_ntp_kisses_total", "code=\"RATE\"",
			    "Kiss-o'-Death answers sent, by kiss code.");
	m->dropped = ntp_metric(s, index, "quorum_ntp_dropped_total", NULL,
				"Datagrams dropped unanswered: not a client request, or an NTS "
				"request that does not authenticate.");
	m->errors = ntp_metric(s, index, "quorum_ntp_errors_total", NULL,
			       "Answers lost and reads failed.");
	m->batches = ntp_metric(s, index, "quorum_ntp_batches_total", NULL,
				"recvmmsg calls that returned datagrams.");
	m->arrival =
		ntp_metric(s, index, "quorum_ntp_arrival_stamped_total", NULL,
			   "Answers whose receive timestamp is the kernel's arrival time.");
}

static struct ntp_worker *worker_new(struct ntp_server *s, int fd, int threaded, unsigned index)
{
	struct ntp_worker *w = calloc(1, sizeof(*w));

	if (w == NULL)
		return NULL;
	w->s = s;
	w->fd = fd;
	w->threaded = threaded;
	w->index = index;
	worker_metrics(s, index, &w->metric);
	if (s->nts != NULL) {
		w->nts = nts_worker_new(s->nts, index);
		if (w->nts == NULL) {
			free(w);
			return NULL;
		}
	}
	return w;
}

/* Stops every reader (threads joined: after this, none touches the sockets or the clock)
 * and adds their counts to the total. */
static void workers_stop(struct ntp_server *s)
{
	if (s->ev != NULL) {
		event_free(s->ev);
		s->ev = NULL;
	}
	if (s->stop_fd >= 0) {
		uint64_t one = 1;

		__atomic_store_n(&s->stopping, 1, __ATOMIC_RELEASE);
		if (write(s->stop_fd, &one, sizeof(one)) != sizeof(one))
			s->api->log(s->host, QUORUM_LOG_ERROR,
				    "ntp.stop_signal_failed error=\"%s\"", strerror(errno));
		for (unsigned i = 0; i < s->nworkers; i++)
			pthread_join(s->workers[i]->thread, NULL);
		close(s->stop_fd);
		s->stop_fd = -1;
	}
	for (unsigned i = 0; i < s->nworkers; i++) {
		counters_add(&s->total, &s->workers[i]->count);
		nts_worker_free(s->workers[i]->nts);
		free(s->workers[i]);
		s->workers[i] = NULL;
	}
	s->nworkers = 0;
}

/* Starts the readers of the socket group: the loop's event, or one thread per socket (all
 * signals blocked in them: the loop's thread handles SIGHUP and SIGTERM).
 * RETURN VALUE: 0, or -errno with nothing left running. */
static int workers_start(struct ntp_server *s)
{
	sigset_t all, old;
	int err = 0;

	if (s->cf.workers == 0) {
		s->workers[0] = worker_new(s, s->fds[0], 0, 0);
		if (s->workers[0] == NULL)
			return -ENOMEM;
		s->nworkers = 1;
		s->ev = event_new(s->api->event_base(s->host), s->fds[0], EV_READ | EV_PERSIST,
				  ntp_read_cb, s->workers[0]);
		if (s->ev == NULL || event_add(s->ev, NULL) != 0) {
			workers_stop(s);
			return -ENOMEM;
		}
		return 0;
	}
	s->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (s->stop_fd < 0)
		return -errno;
	__atomic_store_n(&s->stopping, 0, __ATOMIC_RELEASE);
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (unsigned i = 0; i < s->nfds; i++) {
		struct ntp_worker *w = worker_new(s, s->fds[i], 1, i);
		int rc;

		if (w == NULL) {
			err = -ENOMEM;
			break;
		}
		rc = pthread_create(&w->thread, NULL, ntp_worker_main, w);
		if (rc != 0) {
			nts_worker_free(w->nts);
			free(w);
			err = -rc;
			break;
		}
		{
			char name[16]; /* the kernel's limit, NUL included */

			snprintf(name, sizeof(name), "ntp-worker-%u", i % 100); /* i < 64 */
			pthread_setname_np(w->thread, name); /* ps -L, top -H */
		}
		s->workers[s->nworkers++] = w;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err != 0) {
		s->api->log(s->host, QUORUM_LOG_ERROR,
			    "ntp.workers_failed started=%u wanted=%u error=\"%s\"", s->nworkers,
			    s->nfds, strerror(-err));
		workers_stop(s);
	}
	return err;
}

/* ---- settings and lifecycle ---- */

/* The transport's scalar settings, filled by the host from ntp_settings (the defaults
 * there). The `nts` group keeps its readers in nts.c: the host binds only top-level
 * settings (a binding inside a group is refused when the plugin loads). */
struct ntp_settings {
	const char *address;
	int64_t port;
	int64_t stratum;
	const char *refid;
	int64_t rate_limit;
	int64_t rate_burst;
	int64_t workers;
	int arrival_timestamps;
	int64_t stats_interval_s;
};

/* Copies the settings struct the host filled into CF. RETURN VALUE: 0 or -EINVAL (logged,
 * unless the host handed no struct). */
static int read_settings(struct ntp_server *s, struct ntp_config *cf)
{
	const struct ntp_settings *set = s->api->settings(s->host);
	const char *address, *refid;

	if (set == NULL)
		return -EINVAL;
	memset(cf, 0, sizeof(*cf));
	address = set->address != NULL ? set->address : "";
	refid = set->refid != NULL ? set->refid : "";
	cf->port = set->port;
	cf->stratum = set->stratum;
	cf->rate = set->rate_limit;
	cf->burst = set->rate_burst;
	cf->workers = set->workers;
	cf->arrival = set->arrival_timestamps;
	cf->stats_interval_s = set->stats_interval_s;
	if (strlen(address) >= sizeof(cf->address) || strlen(refid) == 0 || strlen(refid) > 4) {
		s->api->log(s->host, QUORUM_LOG_ERROR,
			    "ntp.config_invalid reason=\"address too long or refid not 1-4 "
			    "characters\"");
		return -EINVAL;
	}
	if (cf->workers < 0 || cf->workers > NTP_WORKERS_MAX) {
		s->api->log(s->host, QUORUM_LOG_ERROR,
			    "ntp.config_invalid reason=\"workers must be 0 to %d\"",
			    NTP_WORKERS_MAX);
		return -EINVAL;
	}
	snprintf(cf->address, sizeof(cf->address), "%s", address);
	memcpy(cf->refid, refid, strlen(refid));
	return 0;
}

static int ntp_init(struct quorum_host *host, const struct quorum_api *api, void **state)
{
	struct ntp_server *s;
	int err;

	if (!QUORUM_API_HAS(api, clock_read) || !QUORUM_API_HAS(api, settings))
		return -ENOTSUP; /* a host without the served clock or bindings (ABI < 1.12) */
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return -ENOMEM;
	s->buckets = calloc(RATE_BUCKETS, sizeof(*s->buckets));
	if (s->buckets == NULL) {
		free(s);
		return -ENOMEM;
	}
	for (int i = 0; i < RATE_LOCKS; i++)
		pthread_mutex_init(&s->locks[i], NULL);
	s->host = host;
	s->api = api;
	s->stop_fd = -1;
	err = read_settings(s, &s->cf);
	if (err == 0)
		err = nts_init(host, api, s->cf.address, s->cf.port, &s->nts);
	if (err != 0) {
		free(s->buckets);
		free(s);
		return err;
	}
	*state = s;
	return 0;
}

/* Binds (or inherits from the generation before) the socket group: one SO_REUSEPORT
 * socket per worker thread, or one for the loop. */
static int ntp_bind(struct ntp_server *s)
{
	unsigned count = s->cf.workers > 0 ? (unsigned)s->cf.workers : 1;
	int err;

	if (!QUORUM_API_HAS(s->api, listen_group) ||
	    (s->cf.workers > 0 && !QUORUM_API_HAS(s->api, clock_read_concurrent))) {
		s->api->log(s->host, QUORUM_LOG_ERROR,
			    "ntp.start_failed reason=\"the host lacks listen_group or "
			    "clock_read_concurrent (ABI 1.7)\"");
		return -ENOTSUP;
	}
	err = s->api->listen_group(s->host, QUORUM_LISTEN_UDP, s->cf.address,
				   (uint16_t)s->cf.port, count, s->fds);
	if (err != 0)
		return err;
	s->nfds = count;
	/* Set either way: the sockets may come from a generation with the other setting. */
	for (unsigned i = 0; i < count; i++) {
		int on = s->cf.arrival;

		if (setsockopt(s->fds[i], SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof(on)) != 0 &&
		    s->cf.arrival) {
			s->api->log(s->host, QUORUM_LOG_WARNING,
				    "ntp.arrival_timestamps_unavailable error=\"%s\" "
				    "effect=receive_timestamp_is_the_read_time",
				    strerror(errno));
			s->cf.arrival = 0;
		}
	}
	return 0;
}

static int ntp_start(void *state)
{
	struct ntp_server *s = state;
	int err = ntp_bind(s);

	if (err == 0)
		err = nts_start(s->nts); /* before the readers: they copy its keys */
	if (err != 0)
		return err;
	err = workers_start(s);
	if (err != 0)
		return err;
	s->stats_period_ms = NTP_STATS_MS;
	if (s->cf.stats_interval_s > 0 &&
	    (uint64_t)s->cf.stats_interval_s * 1000 < NTP_STATS_MS)
		s->stats_period_ms = (uint64_t)s->cf.stats_interval_s * 1000;
	s->stats_every =
		(unsigned)((uint64_t)s->cf.stats_interval_s * 1000 / s->stats_period_ms);
	s->stats_timer = s->api->timer_start(s->host, s->stats_period_ms, s->stats_period_ms,
					     ntp_stats_cb, s);
	s->api->log(s->host, QUORUM_LOG_NOTICE,
		    "ntp.listening address=%s port=%" PRId64 " stratum=%" PRId64
		    " rate_limit=%" PRId64 " workers=%" PRId64 "%s arrival_timestamps=%d",
		    s->cf.address, s->cf.port, s->cf.stratum, s->cf.rate, s->cf.workers,
		    s->cf.workers > 0 ? " reuseport=1" : " on_loop=1", s->cf.arrival);
	return 0;
}

/* Datagrams: nothing is ever in flight. Stops the readers (threads joined); the sockets
 * stay open for a successor that inherits them. NTS-KE connections in flight finish
 * (QUORUM_AGAIN until they have). */
static int ntp_drain(void *state)
{
	struct ntp_server *s = state;

	if (s->stats_timer != NULL) {
		ntp_stats_cb(s); /* what the last tick did not see yet */
		s->api->timer_stop(s->host, s->stats_timer);
		s->stats_timer = NULL;
	}
	workers_stop(s);
	return nts_drain(s->nts);
}

/* SIGHUP with the settings unchanged: the NTS certificate and key are read again. */
static int ntp_refresh(void *state)
{
	struct ntp_server *s = state;

	return nts_refresh(s->nts);
}

static void ntp_fini(void *state)
{
	struct ntp_server *s = state;

	if (s->stats_timer != NULL)
		s->api->timer_stop(s->host, s->stats_timer);
	workers_stop(s);
	s->api->log(s->host, QUORUM_LOG_INFO,
		    "ntp.stopped answered=%" PRIu64 " unsynchronised=%" PRIu64
		    " rate_limited=%" PRIu64 " kod=%" PRIu64 " dropped=%" PRIu64
		    " errors=%" PRIu64 " batches=%" PRIu64 " arrival_stamped=%" PRIu64,
		    s->total.answered, s->total.unsynchronised, s->total.rate_limited,
		    s->total.kod, s->total.dropped, s->total.errors, s->total.batches,
		    s->total.arrival);
	nts_fini(s->nts);
	for (unsigned i = 0; i < s->nfds; i++)
		close(s->fds[i]);
	for (int i = 0; i < RATE_LOCKS; i++)
		pthread_mutex_destroy(&s->locks[i]);
	free(s->buckets);
	free(s);
}

static const struct quorum_setting ntp_settings[] = {
	QUORUM_SETTING_STRING_AT("address", struct ntp_settings, address, NULL, "127.0.0.1",
				 "listen address"),
	QUORUM_SETTING_INT_AT("port", struct ntp_settings, port, 1, 65535, "1123",
			      "UDP port (123 is NTP's own)"),
	QUORUM_SETTING_INT_AT("stratum", struct ntp_settings, stratum, 1, 15, "1",
			      "stratum announced while synchronised"),
	QUORUM_SETTING_STRING_AT("refid", struct ntp_settings, refid, NULL, "BFTQ",
				 "reference id, 1-4 ASCII characters"),
	QUORUM_SETTING_INT_AT("rate_limit", struct ntp_settings, rate_limit, 0, 1000000, "64",
			      "requests per second per source before RATE kisses (0: none)"),
	QUORUM_SETTING_INT_AT("rate_burst", struct ntp_settings, rate_burst, 1, 1000000, "128",
			      "requests a source may send at once"),
	QUORUM_SETTING_INT_AT(
		"workers", struct ntp_settings, workers, 0, NTP_WORKERS_MAX, "1",
		"threads answering, each on its own SO_REUSEPORT socket (0: on the "
		"event loop; up to the number of cores for a busy public server)"),
	QUORUM_SETTING_BOOL_AT(
		"arrival_timestamps", struct ntp_settings, arrival_timestamps, "true",
		"receive timestamps from the kernel's arrival time of each request "
		"(SO_TIMESTAMPNS), so a request that waited in the socket's queue "
		"is not stamped late"),
	QUORUM_SETTING_INT_AT("stats_interval_s", struct ntp_settings, stats_interval_s, 0,
			      86400, "60",
			      "an ntp.stats line of the counters this often, when anything was "
			      "answered (0: none); errors are reported within 10 s either way"),
	{ .name = "nts",
	  .type = QUORUM_SETTING_GROUP,
	  .children = nts_settings,
	  .help = "Network Time Security (RFC 8915): NTS-KE over TLS 1.3 and authenticated "
		  "answers on this NTP port (absent: plain NTP only)" },
	{ .type = QUORUM_SETTING_END },
};

static const struct quorum_transport_ops ntp_ops = {
	.size = sizeof(struct quorum_transport_ops),
	.refresh = ntp_refresh,
};

QUORUM_PLUGIN_EXPORT const struct quorum_plugin quorum_plugin = {
	QUORUM_PLUGIN_HEADER(QUORUM_PLUGIN_TRANSPORT, "ntp", PACKAGE_VERSION, QUORUM_ROLE_NONE),
	.settings = ntp_settings,
	.settings_size = sizeof(struct ntp_settings),
	.init = ntp_init,
	.start = ntp_start,
	.drain = ntp_drain,
	.fini = ntp_fini,
	.ops = &ntp_ops,
};
