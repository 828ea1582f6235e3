/* nts.h -- Network Time Security (RFC 8915) inside the NTP transport: what ntp.c calls.
 * With an `nts` group in the transport's settings, the instance serves NTS-KE (TLS 1.3,
 * ALPN ntske/1) from a thread of its own and answers NTS requests on the NTP workers' own
 * sockets, beside plain ones, with cookies sealed under master keys kept in a state folder
 * and rotated on a schedule. Without the group every function here is a no-op. */
#ifndef QUORUM_NTS_H
#define QUORUM_NTS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <quorum/plugin.h>

#include "nts-cookie.h"
#include "nts-ext.h"

struct nts_server;
struct nts_worker;

/* The settings group's schema (children of "nts"), for the transport's own schema. */
extern const struct quorum_setting nts_settings[];

/*
 * nts_init: reads the `nts` settings group (absent: *OUT is NULL, nothing to do) and loads
 * the TLS certificate and key (checked, so that --check-config catches a bad pair);
 * NTP_ADDRESS and NTP_PORT are the transport's (the defaults of the NTS-KE address and the
 * advertised port). RETURN VALUE: 0 with *OUT (new: nts_fini) or NULL, or -errno (logged,
 * naming the file and the reason).
 */
int nts_init(struct quorum_host *host, const struct quorum_api *api, const char *ntp_address,
	     int64_t ntp_port, struct nts_server **out);

/* nts_start: the master keys (loaded, or made and saved), the rotation timer, the NTS-KE
 * listener and its thread. RETURN VALUE: 0 or -errno (logged; nothing left running). */
int nts_start(struct nts_server *s);

/* nts_drain: stops accepting NTS-KE connections. RETURN VALUE: 0 once none is in flight,
 * else QUORUM_AGAIN and api->drained is called when the last one ends. */
int nts_drain(struct nts_server *s);

/* nts_refresh: reads the certificate and key again (SIGHUP with unchanged settings); new
 * NTS-KE connections use them. RETURN VALUE: 0, or -errno (logged; the old pair stays). */
int nts_refresh(struct nts_server *s);

/* nts_fini: stops everything (the NTS-KE thread joined) and frees S; NULL is a no-op. */
void nts_fini(struct nts_server *s);

/* nts_stats_line: "nts_answered=... ke_served=..." for the transport's stats line into OUT.
 * Loop thread. */
void nts_stats_line(struct nts_server *s, char *out, size_t size);

/* ---- the NTP readers (each worker thread, or the loop) ---- */

/* nts_worker_new: reader INDEX's own AEAD contexts and counters (loop thread; its series in
 * the node's metrics are registered, see api->metric_register). NULL when S is
 * NULL or on allocation failure (the caller then refuses to start). */
struct nts_worker *nts_worker_new(struct nts_server *s, unsigned index);

/* nts_worker_free: counts what W saw into S's totals (and the host's refusal counters) and
 * frees W (loop thread, W's reader stopped). NULL is a no-op. */
void nts_worker_free(struct nts_worker *w);

/* What a request is, for its answer. */
enum nts_verdict {
	NTS_PLAIN, /* no NTS field: a plain answer */
	NTS_VALID, /* authenticated: an authenticated answer with fresh cookies */
	NTS_NAK,   /* its cookie or authenticator failed: an NTS NAK (kiss NTSN) */
	NTS_DROP,  /* malformed NTS fields: no answer */
	NTS_KISS,  /* rate limited: the caller's kiss, with the Unique Identifier, unsealed */
};

/* One request between its check and its answer. */
struct nts_exchange {
	struct nts_request req;
	struct nts_cookie_keys keys;
	unsigned cookies;
};

/*
 * nts_worker_check: reads the NTS fields of request PKT (LEN bytes) and, unless
 * RATE_LIMITED (the answer is a RATE kiss: no cryptography is spent on it), opens its
 * cookie and authenticator. FROM is the sender (counted on refusals).
 * RETURN VALUE: the verdict; X holds what the answer needs.
 */
enum nts_verdict nts_worker_check(struct nts_worker *w, const uint8_t *pkt, size_t len,
				  int rate_limited, const struct sockaddr_storage *from,
				  struct nts_exchange *x);

/*
 * nts_worker_answer: completes the answer in OUT, whose 48-byte header is written (the
 * kiss NTSN for a NAK, RATE for a kiss): the Unique Identifier and, for NTS_VALID, the
 * authenticator with fresh cookies; REQUEST_LEN bounds its length. RETURN VALUE: the answer's
 * length (48 for NTS_PLAIN), or 0 when it cannot be sealed (no answer; counted).
 */
size_t nts_worker_answer(struct nts_worker *w, enum nts_verdict v, struct nts_exchange *x,
			 uint8_t *out, size_t cap, size_t request_len);

#endif /* QUORUM_NTS_H */
