/* nts-internal.h -- what nts.c (settings, keys, the NTP side) and nts-ke.c (the NTS-KE
 * thread) share: the server's state, its counters, and the ring of master keys that both
 * seal cookies with. */
#ifndef QUORUM_NTS_INTERNAL_H
#define QUORUM_NTS_INTERNAL_H

#include <pthread.h>
#include <stdint.h>

#include <openssl/ssl.h>

#include "nts.h"

#define NTS_PATH_MAX	4096
#define NTS_WORKERS_MAX 65 /* the NTP readers (QUORUM_LISTEN_GROUP_MAX) and the KE thread */

/* Refusals counted on other threads, handed to api->refused by the loop. */
enum nts_refusal {
	NTS_REFUSED_COOKIE,	   /* a cookie no master key opens */
	NTS_REFUSED_AUTHENTICATOR, /* a valid cookie, a request its keys do not authenticate */
	NTS_REFUSED_MALFORMED,	   /* NTS fields that break RFC 8915's rules */
	NTSKE_REFUSED_HANDSHAKE,   /* a TLS handshake that failed (TLS 1.2, no ALPN, garbage) */
	NTSKE_REFUSED_REQUEST,	   /* a request answered with an Error record */
	NTSKE_REFUSED_TIMEOUT,	   /* a connection that did not finish within timeout_ms */
	NTSKE_REFUSED_BUSY,	   /* a connection over max_connections, closed at once */
	NTS_REFUSAL_KINDS,
};

/* A refusal tally: counted by one thread, read by the loop (both atomically). */
struct nts_tally {
	uint64_t count[NTS_REFUSAL_KINDS];
	uint64_t reported[NTS_REFUSAL_KINDS]; /* loop only: handed to api->refused so far */
	pthread_mutex_t peer_lock; /* the last refused peer; trylock by the counter */
	struct sockaddr_storage last_peer;
};

struct nts_config {
	char address[64]; /* NTS-KE listen address */
	int64_t port;
	char cert[NTS_PATH_MAX], key[NTS_PATH_MAX], state_dir[NTS_PATH_MAX];
	char ntp_server[256]; /* "" : no Server Negotiation record */
	int64_t ntp_port;     /* advertised in Port Negotiation */
	int64_t rotation_s;
	int64_t keys_kept;
	int64_t max_connections;
	int64_t timeout_ms;
};

struct nts_ke; /* the NTS-KE thread (nts-ke.c) */

struct nts_server {
	struct quorum_host *host;
	const struct quorum_api *api;
	struct nts_config cf;

	/* The master keys: written by the loop under the write lock, generation bumped after;
	 * readers copy them into their own AEAD contexts when the generation moved. */
	pthread_rwlock_t ring_lock;
	struct nts_keyring ring;
	uint64_t ring_generation; /* atomic */
	struct quorum_timer *rotation_timer;

	/* The TLS context new NTS-KE connections use (replaced by nts_refresh). */
	pthread_mutex_t ctx_lock;
	SSL_CTX *ctx;

	struct nts_ke *ke;
	struct quorum_timer *drain_timer;
	struct quorum_timer *flush_timer;

	/* The readers registered (loop thread), to hand their refusals to the host. */
	struct nts_worker *workers[NTS_WORKERS_MAX];
	unsigned nworkers;
	struct nts_tally retired; /* refusals of readers freed so far (loop only) */

	/* Answers of freed readers, for the stats line and fini. */
	uint64_t answered, naks, kisses;
};

/* nts_tally_count: one refusal of KIND from FROM (may be NULL), from any thread. */
void nts_tally_count(struct nts_tally *t, enum nts_refusal kind,
		     const struct sockaddr_storage *from);

/* nts_tally_report: hands T's refusals counted since the last report to the host (loop
 * thread), at most a bounded number of calls per kind per report (the rest next time). */
void nts_tally_report(struct nts_server *s, struct nts_tally *t);

/* nts_ring_copy: copies the ring into each of the AEAD contexts MASTER (NTS_KEYRING_MAX),
 * IDS and *COUNT, and *GENERATION, when S's generation differs from *GENERATION (any
 * thread). RETURN VALUE: 0, or -EIO (*COUNT is then 0: nothing opens or seals). */
int nts_ring_copy(struct nts_server *s, struct nts_aead *master, uint32_t *ids, unsigned *count,
		  uint64_t *generation);

/* ---- the NTS-KE thread (nts-ke.c) ---- */

/* nts_tls_context: a TLS server context from S's cert and key (TLS 1.3 only, ALPN ntske/1
 * required, no session tickets), the pair checked. RETURN VALUE: a new context
 * (SSL_CTX_free), or NULL (logged, naming the file and the reason). */
SSL_CTX *nts_tls_context(struct nts_server *s);

/* nts_ke_start: the thread serving NTS-KE on LISTEN_FD (owned from here on).
 * RETURN VALUE: 0 with S->ke, or -errno (logged; LISTEN_FD closed). */
int nts_ke_start(struct nts_server *s, int listen_fd);

/* nts_ke_drain: stops accepting. RETURN VALUE: 1 when no connection is in flight (the
 * thread has finished), else 0: call again later. */
int nts_ke_drain(struct nts_ke *ke);

/* nts_ke_stop: ends the thread (connections in flight closed) and frees KE; NULL: no-op. */
void nts_ke_stop(struct nts_ke *ke);

/* nts_ke_tally: the thread's refusal tally (read by the loop). */
struct nts_tally *nts_ke_tally(struct nts_ke *ke);

/* nts_ke_served: NTS-KE exchanges answered with keys so far. */
uint64_t nts_ke_served(struct nts_ke *ke);

#endif /* QUORUM_NTS_INTERNAL_H */
