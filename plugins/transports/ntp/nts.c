/* nts.c -- Network Time Security in the NTP transport: the `nts` settings, the master keys
 * (loaded from the state folder, rotated on a timer, copied into each reader's AEAD
 * contexts), the refusals other threads count, and the NTS side of each NTP request:
 * cookie opened, request authenticated, answer sealed with fresh cookies or an NTS NAK. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "nts-internal.h"
#include "nts-keystore.h"

#define FLUSH_MS	   1000	 /* refusals reach the host's counters this often */
#define REPORT_CALLS_MAX   20000 /* api->refused calls per kind per flush (the rest later) */
#define ROTATION_CHECK_MAX 60	 /* seconds between looks at the key file */

static const char *const refusal_reasons[NTS_REFUSAL_KINDS] = {
	[NTS_REFUSED_COOKIE] = "nts_bad_cookie",
	[NTS_REFUSED_AUTHENTICATOR] = "nts_bad_authenticator",
	[NTS_REFUSED_MALFORMED] = "nts_malformed",
	[NTSKE_REFUSED_HANDSHAKE] = "ntske_handshake_failed",
	[NTSKE_REFUSED_REQUEST] = "ntske_bad_request",
	[NTSKE_REFUSED_TIMEOUT] = "ntske_timeout",
	[NTSKE_REFUSED_BUSY] = "ntske_busy",
};

/* Nonces are drawn from a per-reader pool refilled by one RAND_bytes: a call costs about
 * 4 us here (the DRBG's fork check is a getpid system call), more than the rest of an
 * answer's cryptography. Nonces are sent in the clear; they need only be unpredictable
 * and unique, which the DRBG's output is however it is cut. */
#define NONCE_POOL (256 * NTS_COOKIE_NONCE_LEN)

struct nts_worker {
	struct nts_server *s;
	uint8_t nonce_pool[NONCE_POOL];
	size_t nonce_left; /* unused bytes at the pool's end */
	struct nts_aead c2s, s2c;
	struct nts_aead master[NTS_KEYRING_MAX];
	uint32_t ids[NTS_KEYRING_MAX];
	unsigned nkeys;
	uint64_t generation;
	uint8_t plain[NTS_PLAINTEXT_MAX];
	uint8_t cookies[NTS_COOKIES_MAX * NTS_COOKIE_LEN];
	struct nts_tally tally;
	uint64_t answered, naks, kisses, unsealed; /* one writer, read by the loop */
	/* The same in the node's metrics (ABI 1.11; NULL on an older host). */
	struct quorum_metric *m_answered, *m_naks, *m_kisses, *m_unsealed;
};

#define BUMP(field) __atomic_store_n(&(field), (field) + 1, __ATOMIC_RELAXED)
/* BUMP and the metric beside it (any thread). */
#define BUMP_METRIC(w, field)                                                                  \
	do {                                                                                   \
		BUMP((w)->field);                                                              \
		if ((w)->m_##field != NULL)                                                    \
			(w)->s->api->metric_add((w)->m_##field, 1);                            \
	} while (0)

/* A reader's series: quorum_nts_answers_total{worker="INDEX",result=...}. */
static struct quorum_metric *nts_metric(struct nts_server *s, unsigned index,
					const char *result)
{
	char labels[64];

	if (!QUORUM_API_HAS(s->api, metric_register))
		return NULL;
	snprintf(labels, sizeof(labels), "worker=\"%u\",result=\"%s\"", index, result);
	return s->api->metric_register(
		s->host, QUORUM_METRIC_COUNTER, "quorum_nts_answers_total", labels,
		"Authenticated NTP (NTS) requests by reader and what they "
		"got: sealed answer, NTS NAK, rate kiss, or nothing "
		"(unsealed: an internal failure).",
		1.0);
}

static int64_t real_seconds(void)
{
	return (int64_t)time(NULL);
}

/* ---- refusals counted on other threads ---- */

void nts_tally_count(struct nts_tally *t, enum nts_refusal kind,
		     const struct sockaddr_storage *from)
{
	__atomic_add_fetch(&t->count[kind], 1, __ATOMIC_RELAXED);
	if (from != NULL && pthread_mutex_trylock(&t->peer_lock) == 0) {
		t->last_peer = *from;
		pthread_mutex_unlock(&t->peer_lock);
	}
}

static void peer_text(const struct sockaddr_storage *a, char *out, size_t size)
{
	out[0] = '\0';
	if (a->ss_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)a)->sin_addr, out,
			  (socklen_t)size);
	else if (a->ss_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)a)->sin6_addr, out,
			  (socklen_t)size);
}

void nts_tally_report(struct nts_server *s, struct nts_tally *t)
{
	char peer[INET6_ADDRSTRLEN] = "";
	int have_peer = 0;

	for (int k = 0; k < NTS_REFUSAL_KINDS; k++) {
		uint64_t now = __atomic_load_n(&t->count[k], __ATOMIC_RELAXED);
		uint64_t calls = now - t->reported[k];

		if (calls == 0)
			continue;
		if (!have_peer) {
			pthread_mutex_lock(&t->peer_lock);
			peer_text(&t->last_peer, peer, sizeof(peer));
			pthread_mutex_unlock(&t->peer_lock);
			have_peer = 1;
		}
		if (calls > REPORT_CALLS_MAX)
			calls = REPORT_CALLS_MAX;
		for (uint64_t i = 0; i < calls; i++)
			s->api->refused(s->host, refusal_reasons[k],
					peer[0] != '\0' ? peer : NULL);
		t->reported[k] += calls;
	}
}

static void tally_init(struct nts_tally *t)
{
	memset(t, 0, sizeof(*t));
	pthread_mutex_init(&t->peer_lock, NULL);
}

/* Moves what FROM counted into TO (both loop-owned now) without reporting it twice. */
static void tally_retire(struct nts_tally *to, struct nts_tally *from)
{
	for (int k = 0; k < NTS_REFUSAL_KINDS; k++) {
		to->count[k] += from->count[k];
		to->reported[k] += from->reported[k];
	}
	if (from->last_peer.ss_family != 0)
		to->last_peer = from->last_peer;
	pthread_mutex_destroy(&from->peer_lock);
}

static void flush_cb(void *arg)
{
	struct nts_server *s = arg;

	for (unsigned i = 0; i < s->nworkers; i++)
		nts_tally_report(s, &s->workers[i]->tally);
	nts_tally_report(s, &s->retired);
	if (s->ke != NULL)
		nts_tally_report(s, nts_ke_tally(s->ke));
}

/* ---- master keys ---- */

int nts_ring_copy(struct nts_server *s, struct nts_aead *master, uint32_t *ids, unsigned *count,
		  uint64_t *generation)
{
	uint64_t g = __atomic_load_n(&s->ring_generation, __ATOMIC_ACQUIRE);
	int err = 0;

	if (g == *generation)
		return 0;
	pthread_rwlock_rdlock(&s->ring_lock);
	*count = 0;
	for (unsigned i = 0; i < s->ring.count && err == 0; i++) {
		err = nts_aead_set_key(&master[i], s->ring.keys[i].key);
		ids[i] = s->ring.keys[i].id;
	}
	if (err == 0)
		*count = s->ring.count;
	*generation = __atomic_load_n(&s->ring_generation, __ATOMIC_ACQUIRE);
	pthread_rwlock_unlock(&s->ring_lock);
	return err;
}

/* Reads the key file (rotating it when due) and publishes a changed ring. 0 or -errno
 * (logged). */
static int ring_sync(struct nts_server *s)
{
	struct nts_keyring fresh;
	char why[512] = "";
	int rotated, err, changed;

	err = nts_keystore_sync(s->cf.state_dir, s->cf.rotation_s, (unsigned)s->cf.keys_kept,
				real_seconds(), &fresh, &rotated, why, sizeof(why));
	if (err != 0) {
		s->api->log(s->host, QUORUM_LOG_ERROR, "nts.keys_failed error=\"%s\" effect=%s",
			    why, s->ring.count > 0 ? "keeping_the_keys_in_memory" : "no_nts");
		return err;
	}
	pthread_rwlock_wrlock(&s->ring_lock);
	changed = !nts_keyring_equal(&fresh, &s->ring);
	if (changed)
		s->ring = fresh;
	pthread_rwlock_unlock(&s->ring_lock);
	if (changed)
		__atomic_add_fetch(&s->ring_generation, 1, __ATOMIC_RELEASE);
	if (rotated || changed)
		s->api->log(s->host, QUORUM_LOG_NOTICE,
			    "nts.keys %s key_id=%08" PRIx32 " kept=%u rotation_s=%" PRId64
			    " dir=%s",
			    rotated ? "rotated=1" : "loaded=1", fresh.keys[0].id, fresh.count,
			    s->cf.rotation_s, s->cf.state_dir);
	nts_keyring_wipe(&fresh);
	return 0;
}

static void rotation_cb(void *arg)
{
	ring_sync(arg);
}

/* ---- settings ---- */

/* The children of the transport's `nts` group. They are not bound to a settings struct:
 * the host binds only top-level settings and refuses a binding inside a group, so
 * read_settings keeps its readers and their defaults, which the help texts state (the
 * generated man block lists only the top-level entries). address and ntp_port default to
 * the NTP transport's own values, known only at run time. */
const struct quorum_setting nts_settings[] = {
	{ .name = "address",
	  .type = QUORUM_SETTING_STRING,
	  .help = "NTS-KE listen address (default: the NTP address)" },
	{ .name = "port",
	  .type = QUORUM_SETTING_INT,
	  .min = 1,
	  .max = 65535,
	  .help = "NTS-KE TCP port (default 4460)" },
	{ .name = "cert",
	  .type = QUORUM_SETTING_STRING,
	  .flags = QUORUM_SETTING_REQUIRED,
	  .help = "TLS certificate chain (PEM) clients verify the server's name against" },
	{ .name = "key",
	  .type = QUORUM_SETTING_STRING,
	  .flags = QUORUM_SETTING_REQUIRED,
	  .help = "the certificate's private key (PEM)" },
	{ .name = "state_dir",
	  .type = QUORUM_SETTING_STRING,
	  .help = "folder of the cookie master keys, file nts-keys, mode 0600 (default "
		  "\"nts\" beside quorum.conf)" },
	{ .name = "ntp_server",
	  .type = QUORUM_SETTING_STRING,
	  .help = "name or address sent in NTPv4 Server Negotiation (default: none, clients "
		  "use the NTS-KE server's)" },
	{ .name = "ntp_port",
	  .type = QUORUM_SETTING_INT,
	  .min = 1,
	  .max = 65535,
	  .help = "port sent in NTPv4 Port Negotiation (default: the NTP port)" },
	{ .name = "key_rotation_s",
	  .type = QUORUM_SETTING_INT,
	  .min = 1,
	  .max = 31536000,
	  .help = "a new cookie master key this often (default 86400)" },
	{ .name = "keys_kept",
	  .type = QUORUM_SETTING_INT,
	  .min = 1,
	  .max = NTS_KEYRING_MAX,
	  .help = "master keys kept, the current one included: cookies stay valid for "
		  "(keys_kept - 1) x key_rotation_s (default 4)" },
	{ .name = "max_connections",
	  .type = QUORUM_SETTING_INT,
	  .min = 1,
	  .max = 4096,
	  .help = "NTS-KE connections at once; more are closed at once (default 128)" },
	{ .name = "timeout_ms",
	  .type = QUORUM_SETTING_INT,
	  .min = 100,
	  .max = 60000,
	  .help = "an NTS-KE connection's whole exchange must end within this (default "
		  "5000)" },
	{ .type = QUORUM_SETTING_END },
};

/* Resolves setting PATH (a file name, default DEFAULT_NAME or required) into OUT. */
static int setting_path(struct nts_server *s, const char *path, const char *default_name,
			char *out, size_t size)
{
	const char *name = default_name;

	s->api->config_string(s->host, path, &name);
	if (name == NULL || name[0] == '\0' ||
	    s->api->config_path(s->host, name, out, size) != 0) {
		s->api->log(
			s->host, QUORUM_LOG_ERROR,
			"nts.config_invalid setting=%s reason=\"missing, empty or too long\"",
			path);
		return -EINVAL;
	}
	return 0;
}

static int read_settings(struct nts_server *s, const char *ntp_address, int64_t ntp_port)
{
	struct nts_config *cf = &s->cf;
	const char *address = ntp_address, *server = "";
	int err;

	cf->port = 4460;
	cf->ntp_port = ntp_port;
	cf->rotation_s = 86400;
	cf->keys_kept = 4;
	cf->max_connections = 128;
	cf->timeout_ms = 5000;
	s->api->config_string(s->host, "nts.address", &address);
	s->api->config_int(s->host, "nts.port", &cf->port);
	s->api->config_string(s->host, "nts.ntp_server", &server);
	s->api->config_int(s->host, "nts.ntp_port", &cf->ntp_port);
	s->api->config_int(s->host, "nts.key_rotation_s", &cf->rotation_s);
	s->api->config_int(s->host, "nts.keys_kept", &cf->keys_kept);
	s->api->config_int(s->host, "nts.max_connections", &cf->max_connections);
	s->api->config_int(s->host, "nts.timeout_ms", &cf->timeout_ms);
	if (strlen(address) >= sizeof(cf->address) ||
	    strlen(server) >= sizeof(cf->ntp_server) || cf->keys_kept < 1 ||
	    cf->keys_kept > NTS_KEYRING_MAX) {
		s->api->log(s->host, QUORUM_LOG_ERROR,
			    "nts.config_invalid reason=\"address or ntp_server too long, or "
			    "keys_kept not 1-%d\"",
			    NTS_KEYRING_MAX);
		return -EINVAL;
	}
	snprintf(cf->address, sizeof(cf->address), "%s", address);
	snprintf(cf->ntp_server, sizeof(cf->ntp_server), "%s", server);
	err = setting_path(s, "nts.cert", NULL, cf->cert, sizeof(cf->cert));
	if (err == 0)
		err = setting_path(s, "nts.key", NULL, cf->key, sizeof(cf->key));
	if (err == 0)
		err = setting_path(s, "nts.state_dir", "nts", cf->state_dir,
				   sizeof(cf->state_dir));
	return err;
}

/* ---- lifecycle ---- */

int nts_init(struct quorum_host *host, const struct quorum_api *api, const char *ntp_address,
	     int64_t ntp_port, struct nts_server **out)
{
	struct nts_server *s;
	int err;

	*out = NULL;
	if (api->config_length(host, "nts") < 0)
		return 0; /* no nts group: plain NTP only */
	if (!QUORUM_API_HAS(api, refused) || !QUORUM_API_HAS(api, listen)) {
		api->log(host, QUORUM_LOG_ERROR,
			 "nts.init_failed reason=\"the host lacks refused (ABI 1.8)\"");
		return -ENOTSUP;
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return -ENOMEM;
	s->host = host;
	s->api = api;
	pthread_rwlock_init(&s->ring_lock, NULL);
	pthread_mutex_init(&s->ctx_lock, NULL);
	tally_init(&s->retired);
	err = read_settings(s, ntp_address, ntp_port);
	if (err == 0) {
		s->ctx = nts_tls_context(s);
		if (s->ctx == NULL)
			err = -EINVAL;
	}
	if (err != 0) {
		nts_fini(s);
		return err;
	}
	*out = s;
	return 0;
}

int nts_start(struct nts_server *s)
{
	int64_t check_s;
	int fd, err;

	if (s == NULL)
		return 0;
	err = ring_sync(s);
	if (err != 0)
		return err;
	check_s = s->cf.rotation_s / 4 < 1		      ? 1
		  : s->cf.rotation_s / 4 > ROTATION_CHECK_MAX ? ROTATION_CHECK_MAX
							      : s->cf.rotation_s / 4;
	s->rotation_timer = s->api->timer_start(s->host, (uint64_t)check_s * 1000,
						(uint64_t)check_s * 1000, rotation_cb, s);
	s->flush_timer = s->api->timer_start(s->host, FLUSH_MS, FLUSH_MS, flush_cb, s);
	if (s->rotation_timer == NULL || s->flush_timer == NULL)
		return -ENOMEM;
	err = s->api->listen(s->host, QUORUM_LISTEN_TCP, s->cf.address, (uint16_t)s->cf.port,
			     &fd);
	if (err != 0) {
		s->api->log(s->host, QUORUM_LOG_ERROR,
			    "nts.listen_failed address=%s port=%" PRId64 " error=\"%s\"",
			    s->cf.address, s->cf.port, strerror(-err));
		return err;
	}
	err = nts_ke_start(s, fd);
	if (err != 0)
		return err;
	s->api->log(s->host, QUORUM_LOG_NOTICE,
		    "nts.listening address=%s port=%" PRId64 " ntp_port=%" PRId64
		    " ntp_server=%s key_id=%08" PRIx32 " keys=%u max_connections=%" PRId64
		    " timeout_ms=%" PRId64,
		    s->cf.address, s->cf.port, s->cf.ntp_port,
		    s->cf.ntp_server[0] != '\0' ? s->cf.ntp_server : "-", s->ring.keys[0].id,
		    s->ring.count, s->cf.max_connections, s->cf.timeout_ms);
	return 0;
}

static void drain_cb(void *arg)
{
	struct nts_server *s = arg;

	if (!nts_ke_drain(s->ke))
		return;
	s->api->timer_stop(s->host, s->drain_timer);
	s->drain_timer = NULL;
	s->api->drained(s->host);
}

int nts_drain(struct nts_server *s)
{
	if (s == NULL)
		return 0;
	if (s->rotation_timer != NULL) {
		s->api->timer_stop(s->host, s->rotation_timer);
		s->rotation_timer = NULL;
	}
	if (s->ke == NULL || nts_ke_drain(s->ke))
		return 0;
	s->drain_timer = s->api->timer_start(s->host, 50, 50, drain_cb, s);
	return s->drain_timer != NULL ? QUORUM_AGAIN : 0;
}

int nts_refresh(struct nts_server *s)
{
	SSL_CTX *fresh, *old;

	if (s == NULL)
		return 0;
	fresh = nts_tls_context(s);
	if (fresh == NULL)
		return -EINVAL; /* logged; the running pair stays */
	pthread_mutex_lock(&s->ctx_lock);
	old = s->ctx;
	s->ctx = fresh;
	pthread_mutex_unlock(&s->ctx_lock);
	SSL_CTX_free(old); /* connections in flight hold their own reference */
	s->api->log(s->host, QUORUM_LOG_NOTICE, "nts.certificate_reloaded cert=%s key=%s",
		    s->cf.cert, s->cf.key);
	return 0;
}

void nts_stats_line(struct nts_server *s, char *out, size_t size)
{
	uint64_t answered = s->answered, naks = s->naks, kisses = s->kisses;

	for (unsigned i = 0; i < s->nworkers; i++) {
		answered += __atomic_load_n(&s->workers[i]->answered, __ATOMIC_RELAXED);
		naks += __atomic_load_n(&s->workers[i]->naks, __ATOMIC_RELAXED);
		kisses += __atomic_load_n(&s->workers[i]->kisses, __ATOMIC_RELAXED);
	}
	snprintf(out, size,
		 " nts_answered=%" PRIu64 " nts_naks=%" PRIu64 " nts_kisses=%" PRIu64
		 " ntske_served=%" PRIu64,
		 answered, naks, kisses, s->ke != NULL ? nts_ke_served(s->ke) : 0);
}

void nts_fini(struct nts_server *s)
{
	if (s == NULL)
		return;
	if (s->drain_timer != NULL)
		s->api->timer_stop(s->host, s->drain_timer);
	if (s->rotation_timer != NULL)
		s->api->timer_stop(s->host, s->rotation_timer);
	if (s->ke != NULL) {
		nts_tally_report(s, nts_ke_tally(s->ke));
		nts_ke_stop(s->ke);
	}
	if (s->flush_timer != NULL)
		s->api->timer_stop(s->host, s->flush_timer);
	nts_tally_report(s, &s->retired);
	SSL_CTX_free(s->ctx);
	nts_keyring_wipe(&s->ring);
	pthread_rwlock_destroy(&s->ring_lock);
	pthread_mutex_destroy(&s->ctx_lock);
	pthread_mutex_destroy(&s->retired.peer_lock);
	free(s);
}

/* ---- the NTP readers ---- */

struct nts_worker *nts_worker_new(struct nts_server *s, unsigned index)
{
	struct nts_worker *w;
	int err;

	if (s == NULL || s->nworkers >= NTS_WORKERS_MAX)
		return NULL;
	w = calloc(1, sizeof(*w));
	if (w == NULL)
		return NULL;
	w->s = s;
	w->m_answered = nts_metric(s, index, "answered");
	w->m_naks = nts_metric(s, index, "nak");
	w->m_kisses = nts_metric(s, index, "kiss");
	w->m_unsealed = nts_metric(s, index, "unsealed");
	tally_init(&w->tally);
	err = nts_aead_init(&w->c2s);
	if (err == 0)
		err = nts_aead_init(&w->s2c);
	for (unsigned i = 0; err == 0 && i < NTS_KEYRING_MAX; i++)
		err = nts_aead_init(&w->master[i]);
	if (err == 0)
		err = nts_ring_copy(s, w->master, w->ids, &w->nkeys, &w->generation);
	if (err != 0) {
		s->workers[s->nworkers++] = w; /* so that free finds it */
		nts_worker_free(w);
		return NULL;
	}
	s->workers[s->nworkers++] = w;
	return w;
}

void nts_worker_free(struct nts_worker *w)
{
	struct nts_server *s;

	if (w == NULL)
		return;
	s = w->s;
	nts_tally_report(s, &w->tally);
	tally_retire(&s->retired, &w->tally);
	s->answered += w->answered;
	s->naks += w->naks;
	s->kisses += w->kisses;
	for (unsigned i = 0; i < s->nworkers; i++) {
		if (s->workers[i] == w) {
			s->workers[i] = s->workers[--s->nworkers];
			break;
		}
	}
	nts_aead_release(&w->c2s);
	nts_aead_release(&w->s2c);
	for (unsigned i = 0; i < NTS_KEYRING_MAX; i++)
		nts_aead_release(&w->master[i]);
	OPENSSL_cleanse(w->plain, sizeof(w->plain));
	OPENSSL_cleanse(w->nonce_pool, sizeof(w->nonce_pool));
	free(w);
}

/* The reader's context of master key ID, or NULL. */
static struct nts_aead *worker_master(struct nts_worker *w, uint32_t id)
{
	for (unsigned i = 0; i < w->nkeys; i++) {
		if (w->ids[i] == id)
			return &w->master[i];
	}
	return NULL;
}

enum nts_verdict nts_worker_check(struct nts_worker *w, const uint8_t *pkt, size_t len,
				  int rate_limited, const struct sockaddr_storage *from,
				  struct nts_exchange *x)
{
	struct nts_aead *master;
	unsigned placeholders = 0;
	uint32_t id;
	int r;

	r = nts_request_parse(pkt, len, &x->req);
	if (r == NTS_NOT_NTS)
		return NTS_PLAIN;
	if (r != 0) {
		nts_tally_count(&w->tally, NTS_REFUSED_MALFORMED, from);
		return NTS_DROP;
	}
	if (rate_limited)
		return NTS_KISS; /* no cryptography for a client over its rate */
	if (nts_ring_copy(w->s, w->master, w->ids, &w->nkeys, &w->generation) != 0)
		w->nkeys = 0; /* nothing opens: NAKs until the next rotation copies again */
	master = nts_cookie_key_id(x->req.cookie, x->req.cookie_len, &id) == 0
			 ? worker_master(w, id)
			 : NULL;
	if (master == NULL ||
	    nts_cookie_open(master, x->req.cookie, x->req.cookie_len, &x->keys) != 0) {
		nts_tally_count(&w->tally, NTS_REFUSED_COOKIE, from);
		return NTS_NAK;
	}
	r = nts_aead_set_key(&w->c2s, x->keys.c2s);
	if (r == 0)
		r = nts_request_open(&w->c2s, pkt, &x->req, w->plain, &placeholders);
	if (r == -EMSGSIZE) {
		OPENSSL_cleanse(&x->keys, sizeof(x->keys));
		nts_tally_count(&w->tally, NTS_REFUSED_MALFORMED, from);
		return NTS_DROP;
	}
	if (r != 0) {
		OPENSSL_cleanse(&x->keys, sizeof(x->keys));
		nts_tally_count(&w->tally, NTS_REFUSED_AUTHENTICATOR, from);
		return NTS_NAK;
	}
	x->cookies = nts_response_cookies(&x->req, len, placeholders);
	return NTS_VALID;
}

/* LEN (at most NONCE_POOL) fresh random bytes into OUT, from W's pool. 0 or -EIO. */
static int worker_nonces(struct nts_worker *w, uint8_t *out, size_t len)
{
	uint8_t *from;

	if (len > w->nonce_left) {
		if (RAND_bytes(w->nonce_pool, NONCE_POOL) != 1)
			return -EIO;
		w->nonce_left = NONCE_POOL;
	}
	from = w->nonce_pool + NONCE_POOL - w->nonce_left;
	memcpy(out, from, len);
	OPENSSL_cleanse(from, len); /* each byte handed out once */
	w->nonce_left -= len;
	return 0;
}

size_t nts_worker_answer(struct nts_worker *w, enum nts_verdict v, struct nts_exchange *x,
			 uint8_t *out, size_t cap, size_t request_len)
{
	uint8_t nonces[(1 + NTS_COOKIES_MAX) * NTS_COOKIE_NONCE_LEN];
	int len, err = 0;

	switch (v) {
	case NTS_PLAIN:
		return NTS_NTP_HEADER;
	case NTS_DROP:
		return 0;
	case NTS_NAK:
	case NTS_KISS:
		len = nts_nak_build(out, cap, x->req.uid, x->req.uid_field_len);
		if (len < 0)
			return 0;
		if (v == NTS_NAK)
			BUMP_METRIC(w, naks);
		else
			BUMP_METRIC(w, kisses);
		return (size_t)len;
	case NTS_VALID:
		break;
	}
	if (w->nkeys == 0 ||
	    worker_nonces(w, nonces, (1 + x->cookies) * NTS_COOKIE_NONCE_LEN) != 0)
		err = -EIO;
	for (unsigned i = 0; err == 0 && i < x->cookies; i++)
		err = nts_cookie_seal(&w->master[0], w->ids[0],
				      nonces + (1 + i) * NTS_COOKIE_NONCE_LEN, &x->keys,
				      w->cookies + (size_t)i * NTS_COOKIE_LEN);
	if (err == 0)
		err = nts_aead_set_key(&w->s2c, x->keys.s2c);
	OPENSSL_cleanse(&x->keys, sizeof(x->keys));
	len = err != 0 ? err
		       : nts_response_build(&w->s2c, out, cap, x->req.uid, x->req.uid_field_len,
					    nonces, w->cookies, x->cookies);
	if (len < 0 || (size_t)len > request_len) {
		BUMP_METRIC(w, unsealed);
		return 0;
	}
	BUMP_METRIC(w, answered);
	return (size_t)len;
}
