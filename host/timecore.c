/* timecore.c -- the host's time core on the peer link (UDP, one datagram each way): it
 * answers other nodes as an authority with signed attestations, and asks its configured
 * authorities (and plain NTP sources) in rounds, checks every answer, and ingests each round
 * as a uml001.worker.ntp_sync event so that the stages agree on it and commit it. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/timex.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <quorum/passport.h>
#include <quorum/sharedstate.h>

#include "clocks.h"
#include "dedup.h"
#include "listeners-internal.h"
#include "log-internal.h"
#include "orchestrator-internal.h"
#include "protodecode-internal.h"
#include "ratelimit.h"
#include "roundnonce.h"
#include "timecore-internal.h"
#include "util-internal.h"

#define SEQUENCE_LEASE 100000       /* sequences reserved per state write */
#define RECEIVE_BURST 64            /* datagrams handled per wake-up */
#define NTP_PACKET_LEN 48
#define NTP_UNIX_OFFSET 2208988800ULL /* seconds from 1900 to 1970 */
#define GOSSIP_RATE 200             /* gossip events per second ingested from one peer */
#define GOSSIP_BURST 400            /* ... and at most this many at once */
#define GOSSIP_SEEN_MAX		   65536 /* fingerprints of gossip ingested, to drop copies */
#define VERIFICATIONS_PER_QUESTION 8	 /* signature checks for the answers to one nonce */

_Static_assert(ROUND_NONCE_LEN == QUORUM_NONCE_LEN, "a round's nonces are the asker's nonces");

/* One source's question in the current round, and its accepted answer. */
struct pending {
	uint8_t nonce[QUORUM_NONCE_LEN];
	uint8_t prev_nonce[QUORUM_NONCE_LEN];
	int has_prev;
	size_t request_len; /* its requests are padded to its longest answer */
	uint8_t ntp_origin[8], prev_ntp_origin[8];
	int64_t sent_mono;
	int answered;
	int excluded; /* equivocated this round */
	int rejected; /* an answer of it to this round's question was refused */
	unsigned verifications;	   /* signatures checked for this round's question */
	const char *reject_reason; /* why (a static string) */
	int64_t recv_mono;
	int64_t sending_hint;           /* the authority's unsigned sending time */
	Uml001__PeerDatagram *datagram; /* owns the accepted SignedState */
	struct attestation attestation;
	uint8_t answer_digest[SHA256_DIGEST_LENGTH];
	uint8_t verified_digest[SHA256_DIGEST_LENGTH]; /* of the accepted SignedState */
	Uml001__TimeAttestation ntp;    /* an NTP source's reading */
};

/* What the peer link keeps for one configured source: its own answer budget (an authority
 * asks once a round, and nobody else can drain its share) and its gossip bucket, so that
 * one peer cannot flood the pipeline. */
struct source_budget {
	struct token_bucket answers;
	struct token_bucket gossip;
};

struct timecore {
	struct timecore_env env;
	struct conf *conf; /* reference: time settings cannot change on reload */
	EVP_PKEY *key;	   /* env.node_key */
	char key_id[KEY_ID_HEX_LEN + 1];
	struct authority_table authorities;
	struct nodestate state;
	int state_dirty;
	struct served_clock *clock;
	int fd;
	struct listener *listener; /* the peer link's socket, shared through the host */
	struct event *read_event;
	int ntp_fd;
	struct event *ntp_event;
	/* answering */
	uint64_t next_sequence;
	size_t answer_max_len;	      /* no request shorter than this is answered */
	struct token_bucket others;   /* every asker but the configured authorities */
	struct ratelimit *per_source; /* ... and each address of them */
	/* asking */
	struct event *round_timer;
	struct event *first_round;
	struct timeval interval;
	struct event *deadline_timer;
	uint64_t round;
	uint8_t round_seed[ROUND_SEED_LEN]; /* this round's nonces derive from it */
	int round_open;
	int decoding_own_round; /* our round is in the pipeline right now */
	struct pending *pending;
	/* gossip */
	uint8_t *receive_buffer;       /* GOSSIP_DATAGRAM_MAX + 1 bytes */
	struct source_budget *budgets; /* one per configured source */
	struct dedup *gossip_seen;     /* events ingested: later copies are dropped */
};

static const char *address_text(const struct sockaddr *sa, socklen_t len, char *buf,
				size_t size)
{
	char host[64], port[8];

	if (getnameinfo(sa, len, host, sizeof(host), port, sizeof(port),
			NI_NUMERICHOST | NI_NUMERICSERV) != 0)
		snprintf(buf, size, "?");
	else if (sa->sa_family == AF_INET6)
		snprintf(buf, size, "[%s]:%s", host, port);
	else
		snprintf(buf, size, "%s:%s", host, port);
	return buf;
}

/* Counts a refusal of an unauthenticated datagram from FROM: summarised, never audited one
 * by one (runtime_refused). */
static void peer_refused(struct timecore *c, const char *what, const char *reason,
			 const struct sockaddr *from, socklen_t from_len)
{
	char peer[96];

	c->env.refused(c->env.host, what, reason,
		       address_text(from, from_len, peer, sizeof(peer)));
}

/* ------------------------------- answering ------------------------------- */

/* The configured source whose peer-link address is FROM, or NULL. */
static struct authority *source_at(struct timecore *c, const struct sockaddr *from,
				   socklen_t from_len)
{
	for (size_t i = 0; i < c->authorities.count; i++) {
		struct authority *a = &c->authorities.items[i];

		if (a->type == QUORUM_AUTHORITY_QUORUMD && a->address_len == from_len &&
		    memcmp(&a->address, from, from_len) == 0)
			return a;
	}
	return NULL;
}

/*
 * Whether this node may answer a request from FROM now. A configured authority has a budget
 * of its own (it asks once a round); everybody else shares one, and each of their addresses
 * has a smaller one within it, so that no sender can drain what the authorities need or
 * what other askers get. RETURN VALUE: NULL, or the reason for refusing.
 */
static const char *answer_budget(struct timecore *c, const struct sockaddr *from,
				 socklen_t from_len, int64_t now)
{
	struct authority *a = source_at(c, from, from_len);
	char host[64];
	double rate;

	if (a != NULL) {
		rate = (double)c->conf->authority_rate_per_authority;
		return token_bucket_take(&c->budgets[a - c->authorities.items].answers, rate,
					 2 * rate, now)
			       ? NULL
			       : "rate_limited_authority";
	}
	if (getnameinfo(from, from_len, host, sizeof(host), NULL, 0, NI_NUMERICHOST) != 0 ||
	    !ratelimit_allow(c->per_source, host, now))
		return "rate_limited_source";
	rate = (double)c->conf->authority_rate;
	return token_bucket_take(&c->others, rate, rate, now) ? NULL : "rate_limited";
}

/* The attestation's status and radius: the configured radius, and with kernel_status the
 * kernel's own view (unsynchronised, and its maximum error). */
static void answer_quality(const struct timecore *c, uint32_t *status, uint64_t *radius)
{
	*status = QUORUM_AUTHORITY_SYNCHRONISED;
	*radius = (uint64_t)c->conf->authority_radius_ns;
	if (c->conf->authority_kernel_status) {
		struct timex tx = { 0 };
		int state = adjtimex(&tx);

		if (state == TIME_ERROR || (tx.status & STA_UNSYNC))
			*status = QUORUM_AUTHORITY_UNSYNCHRONISED;
		*radius += (uint64_t)tx.maxerror * 1000;
	}
}

static void answer(struct timecore *c, const struct datagram *d, const struct sockaddr *from,
		   socklen_t from_len, int64_t recv_mono, int64_t recv_real)
{
	struct quorum_attestation fields = { 0 };
	char why[ERRBUF_SIZE];
	const char *refusal;
	int64_t processing_mono;
	uint8_t *out;
	size_t len;

	/* Never more bytes out than in: whoever forges the source address gains nothing. */
	if (d->length < c->answer_max_len) {
		peer_refused(c, "peer", "request_unpadded", from, from_len);
		return;
	}
	refusal = answer_budget(c, from, from_len, recv_mono);
	if (refusal != NULL) {
		peer_refused(c, "peer", refusal, from, from_len);
		return;
	}
	if (c->next_sequence > c->state.sequence_lease) {
		uint64_t old_lease = c->state.sequence_lease;

		/* Sequences stay strictly increasing across restarts: a block is reserved on
		 * disk before any of it is used. */
		c->state.sequence_lease = c->next_sequence + SEQUENCE_LEASE;
		if (nodestate_save(&c->state, c->conf->node_id, c->key, &c->authorities, why,
				   sizeof(why)) != 0) {
			log_msg(QUORUM_LOG_ERROR, "timecore",
				"authority.unavailable reason=state_not_saved error=\"%s\"",
				why);
			c->state.sequence_lease = old_lease;
			return;
		}
		c->state_dirty = 0;
	}
	fields.authority_id = c->conf->node_id;
	fields.key_id = c->key_id;
	fields.nonce.data = d->nonce;
	fields.nonce.len = QUORUM_NONCE_LEN;
	fields.midpoint_ns = recv_real;
	fields.sequence = c->next_sequence++;
	answer_quality(c, &fields.status, &fields.radius_ns);
	processing_mono = clock_now_ns(CLOCK_MONOTONIC);
	fields.processing_ns = (uint64_t)(processing_mono - recv_mono);
	if (attestation_response(c->key, c->key_id, &fields, &out, &len) != 0) {
		log_msg(QUORUM_LOG_ERROR, "timecore", "authority.sign_failed");
		return;
	}
	/* Signing is not in the signed figure; say how long it took, unsigned, so the asker
	 * can place its estimate (not its bound) better. */
	len = datagram_append_sending(
		out, len, (uint64_t)(clock_now_ns(CLOCK_MONOTONIC) - processing_mono));
	/* A failed send goes to the summaries: the address may be anybody's forgery. */
	if (sendto(c->fd, out, len, 0, from, from_len) < 0)
		peer_refused(c, "peer",
			     errno == EAGAIN ? "answer_send_busy" : "answer_send_failed", from,
			     from_len);
	free(out);
}

/* ---------------------------------- asking ---------------------------------- */

static void pending_clear(struct pending *p)
{
	attestation_release(&p->attestation);
	if (p->datagram != NULL)
		uml001__peer_datagram__free_unpacked(p->datagram, NULL);
	p->datagram = NULL;
	p->sending_hint = 0;
	p->answered = 0;
	p->excluded = 0;
	p->rejected = 0;
	p->verifications = 0;
	p->reject_reason = NULL;
}

/*
 * A key of authority A other than its configured one: the key the passport stage's service
 * (QUORUM_PASSPORT_SERVICE) gives for KEY_ID, valid now for attesting time (a key rotated in
 * by a passport update, or an old one still in its overlap). The configured key stays
 * accepted whatever the passports say. RETURN VALUE: the key (borrowed: cached in A until
 * another key id is asked for), or NULL (no passport stage, or it does not vouch for it).
 */
static EVP_PKEY *passport_key(struct timecore *c, struct authority *a, const char *key_id_text)
{
	const struct quorum_passport_ops *ops;
	void *state;
	uint8_t pub[QUORUM_PUBLIC_KEY_LEN];
	char id[KEY_ID_HEX_LEN + 1];
	EVP_PKEY *key;

	if (a->type != QUORUM_AUTHORITY_QUORUMD || strcmp(key_id_text, a->key_id) == 0 ||
	    c->env.service_find(c->env.host, QUORUM_PASSPORT_SERVICE, (const void **)&ops,
				&state) != 0)
		return NULL;
	if (ops->size < offsetof(struct quorum_passport_ops, key_lookup) +
				sizeof(ops->key_lookup) ||
	    ops->key_lookup == NULL ||
	    ops->key_lookup(state, a->id, key_id_text, clock_now_ns(CLOCK_REALTIME),
			    QUORUM_CAPABILITY_ATTEST_TIME, pub) != 0)
		return NULL;
	if (a->passport_key != NULL && strcmp(a->passport_key_id, key_id_text) == 0)
		return a->passport_key; /* the same id: the same key (the id is its hash) */
	key = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub, sizeof(pub));
	if (key == NULL || key_id(key, id) != 0 || strcmp(id, key_id_text) != 0) {
		EVP_PKEY_free(key); /* a service answering with another key than asked for */
		return NULL;
	}
	EVP_PKEY_free(a->passport_key);
	a->passport_key = key;
	memcpy(a->passport_key_id, id, sizeof(id));
	log_msg(QUORUM_LOG_INFO, "timecore", "authority.passport_key source=%s key_id=%s",
		a->id, id);
	return key;
}

/*
 * Refuses an answer that can be held against source A: one that verifies under A's key (for
 * an NTP source: one that echoes the origin it was sent) and answers the question still open
 * to A. Audited with the seed's event name and reason, and it counts against A in this
 * round (the first reason is kept). Anything less is peer_refused: anybody could have sent
 * it, so it counts for and against nobody.
 */
static void observation_reject(struct timecore *c, struct authority *a, const char *reason,
			       const char *peer)
{
	struct pending *p = &c->pending[a - c->authorities.items];
	char fields[512];

	p->rejected = 1;
	if (p->reject_reason == NULL)
		p->reject_reason = reason;
	snprintf(fields, sizeof(fields), "reason=%s source=%s round=%" PRIu64 " peer=%s",
		 reason, a->id, c->round, peer);
	c->env.audit(c->env.host, "bft.observation.reject", fields);
}

/* Whether NONCE is the question open to P right now. */
static int nonce_open(const struct timecore *c, const struct pending *p, const uint8_t *nonce)
{
	return c->round_open && CRYPTO_memcmp(nonce, p->nonce, QUORUM_NONCE_LEN) == 0;
}

static void handle_response(struct timecore *c, struct datagram *d, const struct sockaddr *from,
			    socklen_t from_len, int64_t recv_mono)
{
	struct attestation a;
	struct authority *authority;
	struct pending *p;
	EVP_PKEY *rotated;
	const char *reason = NULL;
	uint8_t digest[SHA256_DIGEST_LENGTH];
	char peer[96];

	if (attestation_decode(d->message->time_response, &a, &reason) != 0) {
		peer_refused(c, "peer", reason, from, from_len);
		return;
	}
	authority = authorities_find(&c->authorities, a.fields.authority_id);
	if (authority == NULL || authority->type != QUORUM_AUTHORITY_QUORUMD) {
		peer_refused(c, "peer", "untrusted_authority", from, from_len);
		goto out_release;
	}
	/* Not an answer to the question open to the authority it names (a forgery, or a
	 * genuine answer replayed: anyone may ask an authority and resend what it signs): it
	 * says nothing about the authority, and costs no signature check. */
	p = &c->pending[authority - c->authorities.items];
	if (!nonce_open(c, p, a.fields.nonce.data)) {
		int late = (p->has_prev && CRYPTO_memcmp(a.fields.nonce.data, p->prev_nonce,
							 QUORUM_NONCE_LEN) == 0) ||
			   CRYPTO_memcmp(a.fields.nonce.data, p->nonce, QUORUM_NONCE_LEN) == 0;

		peer_refused(c, "peer", late ? "answer_too_old" : "nonce_mismatch", from,
			     from_len);
		goto out_release;
	}
	SHA256(d->message->time_response->payload.data, d->message->time_response->payload.len,
	       digest);
	if (p->answered && memcmp(digest, p->answer_digest, sizeof(digest)) == 0) {
		peer_refused(c, "peer", "duplicate_answer", from,
			     from_len); /* the same bytes */
		goto out_release;
	}
	/* Only someone who saw the nonce gets this far; they too get a few checks a round. */
	if (p->verifications >= VERIFICATIONS_PER_QUESTION) {
		peer_refused(c, "peer", "verifications_spent", from, from_len);
		goto out_release;
	}
	p->verifications++;
	/* Naming an authority proves nothing: until its key verifies the answer, nothing in
	 * it is held for or against the authority it names. */
	rotated = passport_key(c, authority, a.fields.key_id);
	reason = rotated != NULL
			 ? attestation_check(&a, authority->id, a.fields.key_id, rotated)
			 : attestation_check(&a, authority->id, authority->key_id,
					     authority->key);
	if (reason != NULL) {
		peer_refused(c, "peer", reason, from, from_len);
		goto out_release;
	}
	address_text(from, from_len, peer, sizeof(peer));
	if (p->answered && !p->excluded &&
	    a.fields.sequence == p->attestation.fields.sequence &&
	    memcmp(digest, p->answer_digest, sizeof(digest)) != 0) {
		/* Two different statements signed for one sequence: equivocation, and the
		 * authority does not count in this round at all. */
		p->excluded = 1;
		observation_reject(c, authority, "equivocation", peer);
		goto out_release;
	}
	if (p->answered || p->excluded || p->rejected) {
		/* A second answer to one question (anyone who saw the nonce can ask again): a
		 * duplicate, whatever its sequence; the first one stands. */
		peer_refused(c, "peer", "duplicate_answer", from, from_len);
		goto out_release;
	}
	if (a.fields.sequence <= authority->last_sequence) {
		observation_reject(c, authority, "stale_sequence", peer);
		goto out_release;
	}
	if (recv_mono - p->sent_mono > c->conf->round_timeout_ms * 1000000) {
		observation_reject(c, authority, "answer_too_old", peer);
		goto out_release;
	}
	/* Accepted: the pending entry takes the datagram that owns the SignedState. */
	if (attestation_digest(d->message->time_response, p->verified_digest) != 0)
		memset(p->verified_digest, 0, sizeof(p->verified_digest));
	p->answered = 1;
	p->recv_mono = recv_mono;
	p->sending_hint = (int64_t)d->sending_ns;
	memcpy(p->answer_digest, digest, sizeof(digest));
	p->datagram = d->message;
	d->message = NULL;
	p->attestation = a;
	authority->last_sequence = a.fields.sequence;
	c->state_dirty = 1;
	return;
out_release:
	attestation_release(&a);
}

static void ntp_send(struct timecore *c, struct authority *a, struct pending *p)
{
	uint8_t packet[NTP_PACKET_LEN] = { 0 };

	packet[0] = (0 << 6) | (4 << 3) | 3; /* LI 0, version 4, mode 3 (client) */
	/* The transmit timestamp is a random cookie the server must echo as origin. */
	memcpy(p->prev_ntp_origin, p->ntp_origin, sizeof(p->ntp_origin));
	RAND_bytes(p->ntp_origin, sizeof(p->ntp_origin));
	memcpy(packet + 40, p->ntp_origin, sizeof(p->ntp_origin));
	p->sent_mono = clock_now_ns(CLOCK_MONOTONIC);
	if (sendto(c->ntp_fd, packet, sizeof(packet), 0, (struct sockaddr *)&a->address,
		   a->address_len) < 0)
		log_msg(QUORUM_LOG_WARNING, "timecore",
			"ntp.send_failed source=%s error=\"%s\"", a->id, strerror(errno));
}

static void handle_ntp(struct timecore *c, const uint8_t *packet, size_t len,
		       const struct sockaddr *from, socklen_t from_len, int64_t recv_mono)
{
	struct authority *source = NULL;
	struct pending *p;
	struct ntp_reply reply;
	char peer[96];
	int64_t t2, t3;
	uint32_t leap, stratum;

	for (size_t i = 0; i < c->authorities.count; i++) {
		struct authority *a = &c->authorities.items[i];

		if (a->type == QUORUM_AUTHORITY_NTP && a->address_len == from_len &&
		    memcmp(&a->address, from, from_len) == 0)
			source = a;
	}
	if (source == NULL) {
		peer_refused(c, "ntp", "untrusted_authority", from, from_len);
		return;
	}
	/* NTP is unauthenticated: only a server reply echoing the origin this round sent the
	 * source (a random cookie) is held for or against it. */
	p = &c->pending[source - c->authorities.items];
	if (ntp_reply_fields(packet, len, &reply) != 0 || reply.mode != 4) {
		peer_refused(c, "ntp", "ntp_malformed", from, from_len);
		return;
	}
	if (!c->round_open || memcmp(reply.origin, p->ntp_origin, 8) != 0) {
		peer_refused(c, "ntp",
			     memcmp(reply.origin, p->prev_ntp_origin, 8) == 0 || !c->round_open
				     ? "answer_too_old"
				     : "nonce_mismatch",
			     from, from_len);
		return;
	}
	if (p->answered || p->rejected) {
		peer_refused(c, "ntp", "duplicate_answer", from, from_len);
		return;
	}
	address_text(from, from_len, peer, sizeof(peer));
	leap = reply.leap;
	stratum = reply.stratum;
	if (stratum == 0) {
		observation_reject(c, source, "ntp_kiss_of_death", peer);
		return;
	}
	t2 = reply.receive_ns;
	t3 = reply.transmit_ns;
	if (t3 < t2 || t2 <= 0 ||
	    recv_mono - p->sent_mono > c->conf->round_timeout_ms * 1000000) {
		observation_reject(c, source,
				   t3 < t2 || t2 <= 0 ? "ntp_malformed" : "answer_too_old",
				   peer);
		return;
	}
	uml001__time_attestation__init(&p->ntp);
	p->ntp.authority_id = (char *)source->id;
	p->ntp.midpoint_ns = t2;
	p->ntp.processing_ns = (uint64_t)(t3 - t2);
	/* The server's own distance to true time, as it claims it (unauthenticated: only the
	 * NTP sources' fault budget makes it count, docs/time-core.md): its dispersion plus
	 * its whole root delay, not the half RFC 5905's root distance takes, since nothing
	 * says its path to its reference was symmetric. */
	p->ntp.radius_ns = (uint64_t)(reply.root_dispersion_ns + reply.root_delay_ns);
	p->ntp.status = leap == 3 || stratum >= 16
				? UML001__AUTHORITY_STATUS__AUTHORITY_STATUS_UNSYNCHRONISED
				: UML001__AUTHORITY_STATUS__AUTHORITY_STATUS_SYNCHRONISED;
	p->answered = 1;
	p->recv_mono = recv_mono;
}

static int round_all_answered(const struct timecore *c)
{
	for (size_t i = 0; i < c->authorities.count; i++) {
		if (!c->pending[i].answered && !c->pending[i].excluded)
			return 0;
	}
	return 1;
}

static void round_finish(struct timecore *c);

/* Builds the round's payload, signs it as this node and ingests it. */
static void round_ingest(struct timecore *c, int64_t t_ref, int64_t real_ref)
{
	size_t count = c->authorities.count;
	Uml001__SyncRound r = UML001__SYNC_ROUND__INIT;
	Uml001__Observation *obs = calloc(count + 1, sizeof(*obs));
	Uml001__Observation **obs_list = calloc(count + 1, sizeof(*obs_list));
	char **rejected = calloc(count + 1, sizeof(*rejected));
	char **reasons = calloc(count + 1, sizeof(*reasons));
	struct quorum_signed_state view = { 0 };
	struct quorum_verdict verdict;
	uint8_t *payload = NULL, sig[KEY_SIGNATURE_LEN];
	size_t payload_len;

	if (obs == NULL || obs_list == NULL || rejected == NULL || reasons == NULL)
		goto out_free;
	r.node_id = (char *)c->conf->node_id;
	r.round = c->round;
	r.reference_mono_ns = t_ref;
	r.reference_realtime_ns = real_ref;
	r.drift_ppm = (uint32_t)c->conf->clock_max_drift_ppm;
	r.nonce_seed.data = c->round_seed; /* the round is over: it may be shown now */
	r.nonce_seed.len = sizeof(c->round_seed);
	for (size_t i = 0; i < count; i++) {
		struct pending *p = &c->pending[i];
		Uml001__Observation *o = &obs[r.n_observations];

		if (p->rejected || p->excluded) {
			reasons[r.n_rejected_sources] =
				(char *)(p->reject_reason != NULL ? p->reject_reason
								  : "equivocation");
			rejected[r.n_rejected_sources++] = (char *)c->authorities.items[i].id;
		}
		if (!p->answered || p->excluded)
			continue;
		uml001__observation__init(o);
		o->source_id = (char *)c->authorities.items[i].id;
		if (c->authorities.items[i].type == QUORUM_AUTHORITY_NTP)
			o->ntp = &p->ntp;
		else
			o->attestation = p->datagram->time_response;
		o->rtt_ns = p->recv_mono - p->sent_mono;
		o->age_ns = t_ref - p->recv_mono;
		/* Only a plausible hint travels on: it must fit in the unmeasured part. */
		if (c->authorities.items[i].type == QUORUM_AUTHORITY_QUORUMD &&
		    p->sending_hint <= o->rtt_ns - (int64_t)p->attestation.fields.processing_ns)
			o->sending_hint_ns = p->sending_hint;
		obs_list[r.n_observations++] = o;
	}
	r.observations = obs_list;
	r.rejected_sources = rejected;
	r.n_rejected_reasons = r.n_rejected_sources;
	r.rejected_reasons = reasons;
	if (proto_encode(&r.base, &payload, &payload_len) != 0)
		goto out_free;
	view.logical_time_ns = (uint64_t)real_ref;
	view.event_id = QUORUM_EVENT_SYNC_ROUND;
	view.key_id = c->key_id;
	view.payload.data = payload;
	view.payload.len = payload_len;
	if (signed_state_sign(c->key, &view, sig) != 0) {
		log_msg(QUORUM_LOG_ERROR, "timecore", "round.sign_failed round=%" PRIu64,
			c->round);
		goto out_free;
	}
	{
		/* Copies of this round that peers relay back are dropped on arrival. */
		uint8_t fp[DEDUP_FINGERPRINT_LEN];

		if (dedup_fingerprint(&view, fp) == 0)
			dedup_insert(c->gossip_seen, fp);
	}
	c->decoding_own_round = 1;
	orchestrator_ingest_view(c->env.orch, &view, "timecore", "", &verdict);
	c->decoding_own_round = 0;
	log_msg(QUORUM_LOG_DEBUG, "timecore",
		"round.done round=%" PRIu64
		" observations=%zu rejected=%zu verdict=%s reason=%s",
		c->round, r.n_observations, r.n_rejected_sources,
		verdict.code == QUORUM_CONTINUE ? "accept" : "reject", verdict.reason);
out_free:
	free(payload);
	free(rejected);
	free(reasons);
	free(obs_list);
	free(obs);
}

static void round_finish(struct timecore *c)
{
	char why[ERRBUF_SIZE];

	if (!c->round_open)
		return;
	c->round_open = 0;
	event_del(c->deadline_timer);
	{
		/* The round's reference instant on both clocks, read as one pair: the
		 * agreement is stated at the monotonic instant, and its drift from the system
		 * clock is only as good as the pair (two reads in argument order, unspecified,
		 * were 5 us apart on a busy machine). */
		int64_t t_ref = 0, real_ref = 0;

		clock_pair_ns(&t_ref, &real_ref);
		round_ingest(c, t_ref, real_ref);
	}
	for (size_t i = 0; i < c->authorities.count; i++)
		pending_clear(&c->pending[i]);
	if (c->state_dirty) {
		if (nodestate_save(&c->state, c->conf->node_id, c->key, &c->authorities, why,
				   sizeof(why)) != 0)
			log_msg(QUORUM_LOG_ERROR, "timecore", "state.save_failed error=\"%s\"",
				why);
		else
			c->state_dirty = 0;
	}
}

static void deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	round_finish(arg);
}

static void round_cb(evutil_socket_t fd, short what, void *arg)
{
	struct timecore *c = arg;
	uint8_t buf[1024];

	round_finish(c); /* a round never outlives the next one's start */
	c->round++;
	c->round_open = 1;
	if (RAND_bytes(c->round_seed, sizeof(c->round_seed)) != 1) {
		log_msg(QUORUM_LOG_ERROR, "timecore", "round.random_failed");
		c->round_open = 0;
		return;
	}
	for (size_t i = 0; i < c->authorities.count; i++) {
		struct authority *a = &c->authorities.items[i];
		struct pending *p = &c->pending[i];
		int len;

		if (a->quarantine_until_ns != 0) {
			if (authorities_quarantined(a, clock_now_ns(CLOCK_MONOTONIC))) {
				/* Not asked; a fresh unsent nonce, so nothing it says counts. */
				p->has_prev = 0;
				RAND_bytes(p->nonce, sizeof(p->nonce));
				continue;
			}
			a->quarantine_until_ns = 0;
			log_msg(QUORUM_LOG_NOTICE, "timecore",
				"source.quarantine_ended source=%s reason=%s", a->id,
				a->quarantine_reason);
		}
		if (a->type == QUORUM_AUTHORITY_NTP) {
			ntp_send(c, a, p);
			continue;
		}
		memcpy(p->prev_nonce, p->nonce, sizeof(p->nonce));
		p->has_prev = c->round > 1;
		round_nonce(c->round_seed, a->id, p->nonce);
		len = datagram_encode_request(p->nonce, c->conf->node_id, p->request_len, buf,
					      sizeof(buf));
		p->sent_mono = clock_now_ns(CLOCK_MONOTONIC);
		if (len < 0 || sendto(c->fd, buf, (size_t)len, 0, (struct sockaddr *)&a->address,
				      a->address_len) < 0)
			log_msg(QUORUM_LOG_WARNING, "timecore",
				"round.send_failed source=%s error=\"%s\"", a->id,
				len < 0 ? "encoding" : strerror(errno));
	}
	{
		struct timeval tv = { .tv_sec = c->conf->round_timeout_ms / 1000,
				      .tv_usec = (c->conf->round_timeout_ms % 1000) * 1000 };

		event_add(c->deadline_timer, &tv);
	}
}

/* The first round starts the periodic ones, at its own random phase. */
static void first_round_cb(evutil_socket_t fd, short what, void *arg)
{
	struct timecore *c = arg;

	round_cb(fd, what, arg);
	event_add(c->round_timer, &c->interval);
}

/* ------------------------------- the peer link ------------------------------- */

/*
 * Receives one datagram with the kernel's arrival timestamp (SO_TIMESTAMPNS, realtime), and
 * converts the arrival to CLOCK_MONOTONIC, so that time spent queued in this process (behind
 * other datagrams, signatures, verifications) counts as the measured processing of an
 * answer and is not mistaken for network delay in a round trip.
 * RETURN VALUE: the datagram's length, or -1 when the socket is drained.
 */
static ssize_t receive_stamped(int fd, uint8_t *buf, size_t size, struct sockaddr_storage *from,
			       socklen_t *from_len, int64_t *arrival_mono,
			       int64_t *arrival_real)
{
	union {
		char buf[CMSG_SPACE(sizeof(struct timespec))];
		struct cmsghdr align;
	} control;
	struct iovec iov = { .iov_base = buf, .iov_len = size };
	struct msghdr msg = { .msg_name = from,
			      .msg_namelen = *from_len,
			      .msg_iov = &iov,
			      .msg_iovlen = 1,
			      .msg_control = control.buf,
			      .msg_controllen = sizeof(control.buf) };
	ssize_t n = recvmsg(fd, &msg, MSG_DONTWAIT);
	int64_t now_real, now_mono;

	if (n < 0)
		return -1;
	/* Realtime first, monotonic after: if this thread is preempted between the two reads,
	 * the arrival converted to CLOCK_MONOTONIC comes out late, never early. Late is the
	 * safe side for both uses: an answer's processing figure comes out smaller (the
	 * asker's interval starts earlier) and an asker's round trip longer (it ends later).
	 * The other order once made processing exceed the round trip under load. */
	now_real = clock_now_ns(CLOCK_REALTIME);
	now_mono = clock_now_ns(CLOCK_MONOTONIC);
	*from_len = msg.msg_namelen;
	*arrival_mono = now_mono;
	*arrival_real = now_real;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c)) {
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
			struct timespec ts;
			int64_t queued;

			memcpy(&ts, CMSG_DATA(c), sizeof(ts));
			queued = now_real - ((int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec);
			/* A realtime step between arrival and now would show as a negative or
			 * absurd wait: ignore the stamp then. */
			if (queued >= 0 && queued < 1000000000) {
				*arrival_mono = now_mono - queued;
				*arrival_real = now_real - queued;
			}
		}
	}
	return n;
}

static void socket_timestamps(int fd)
{
	int one = 1;

	if (setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one)) != 0)
		log_msg(QUORUM_LOG_WARNING, "timecore",
			"peer.timestamps_unavailable error=\"%s\" (queueing widens the bounds)",
			strerror(errno));
}

/* ---------------------------------- gossip ---------------------------------- */

/* The configured quorumd authority (not this node) whose peer-link address is FROM. */
static struct authority *gossip_peer_of(struct timecore *c, const struct sockaddr *from,
					socklen_t from_len)
{
	struct authority *a = source_at(c, from, from_len);

	return a != NULL && strcmp(a->id, c->conf->node_id) != 0 ? a : NULL;
}

/*
 * Whether VIEW carries a valid signature of the key it names, when the host knows that key:
 * a configured authority's, or one the passport stage vouches for as its origin's. An event
 * signed by another key (an operator's, the trust root's) is left to the passport stage,
 * whose refusals are counted, not recorded. RETURN VALUE: NULL, or why it is refused.
 */
static const char *gossip_signature_check(struct timecore *c,
					  const struct quorum_signed_state *view)
{
	struct authority *origin = NULL;
	EVP_PKEY *key = NULL;

	for (size_t i = 0; i < c->authorities.count && key == NULL; i++) {
		struct authority *a = &c->authorities.items[i];

		if (a->type == QUORUM_AUTHORITY_QUORUMD && strcmp(a->key_id, view->key_id) == 0)
			key = a->key;
	}
	if (key == NULL && view->gossip != NULL &&
	    (origin = authorities_find(&c->authorities, view->gossip->origin_node_id)) != NULL)
		key = passport_key(c, origin, view->key_id);
	/* A shared state is signed over its text, not the envelope: the passport stage's. */
	if (key == NULL || strcmp(view->event_id, QUORUM_EVENT_SHARED_STATE) == 0)
		return NULL;
	return signed_state_verify(key, view) == 0 ? NULL : "signature_invalid";
}

/*
 * A gossip datagram: an event another node forwards. Only what a configured peer sends, what
 * this node has not ingested already (relayed copies of one event share its fingerprint) and
 * what verifies reaches the single ingest path, named after the peer; the stages (passport
 * first) decide what it is worth. Everything else is dropped here, before any stage could
 * write about it, and counted.
 */
static void handle_gossip(struct timecore *c, const struct datagram *d,
			  const struct sockaddr *from, socklen_t from_len, int64_t recv_mono)
{
	struct authority *a = gossip_peer_of(c, from, from_len);
	struct quorum_signed_state view;
	struct quorum_gossip gossip;
	struct quorum_anchor_proof anchor;
	struct quorum_verdict verdict;
	uint8_t fp[DEDUP_FINGERPRINT_LEN], *encoded;
	size_t encoded_len;
	const char *refusal;

	if (a == NULL) {
		peer_refused(c, "gossip", "unknown_peer", from, from_len);
		return;
	}
	envelope_view(d->message->gossip, &view, &gossip, &anchor);
	if (dedup_fingerprint(&view, fp) != 0)
		return;
	if (dedup_contains(c->gossip_seen, fp)) {
		peer_refused(c, "gossip", "duplicate", from, from_len);
		return;
	}
	if (!token_bucket_take(&c->budgets[a - c->authorities.items].gossip, GOSSIP_RATE,
			       GOSSIP_BURST, recv_mono)) {
		peer_refused(c, "gossip", "rate_limited", from, from_len);
		return;
	}
	refusal = gossip_signature_check(c, &view);
	if (refusal != NULL) {
		peer_refused(c, "gossip", refusal, from, from_len);
		return;
	}
	/* The stages get the copy as it came (its canonical bytes), gossip metadata and all:
	 * the gossip stage reads whom it was sent to already. */
	if (proto_encode(&d->message->gossip->base, &encoded, &encoded_len) != 0)
		return;
	orchestrator_ingest_encoded(c->env.orch, encoded, encoded_len, QUORUM_GOSSIP_SOURCE,
				    a->id, &verdict);
	free(encoded);
	/* Judged: later copies are dropped, unless the passport stage refused it unheard (an
	 * unknown key may be known after a passport update). */
	if (verdict.code == QUORUM_CONTINUE ||
	    orchestrator_stage_role(c->env.orch, verdict.stage) != QUORUM_ROLE_PASSPORT)
		dedup_insert(c->gossip_seen, fp);
	log_msg(QUORUM_LOG_DEBUG, "timecore",
		"peer.gossip source=%s event_id=%s verdict=%s reason=%s", a->id, view.event_id,
		verdict.code == QUORUM_CONTINUE ? "accept" : "reject", verdict.reason);
}

int timecore_gossip_send(struct timecore *c, const void *data, size_t len, const char *peer_id)
{
	struct envelope *e;
	const char *reason = NULL;
	uint8_t *datagram;
	size_t datagram_len;
	int err, sent = 0;

	if (c->fd < 0)
		return -ENOTCONN;
	if (len > GOSSIP_DATAGRAM_MAX)
		return -EMSGSIZE;
	/* What leaves is exactly what a receiver's strict decoder takes. */
	e = data != NULL ? envelope_decode(data, len, &reason) : NULL;
	if (e == NULL)
		return -EINVAL;
	envelope_free(e);
	err = datagram_encode_gossip(data, len, &datagram, &datagram_len);
	if (err != 0)
		return err;
	for (size_t i = 0; i < c->authorities.count; i++) {
		struct authority *a = &c->authorities.items[i];

		if (a->type != QUORUM_AUTHORITY_QUORUMD ||
		    strcmp(a->id, c->conf->node_id) == 0 ||
		    (peer_id != NULL && strcmp(a->id, peer_id) != 0))
			continue;
		sent++;
		if (sendto(c->fd, datagram, datagram_len, 0, (struct sockaddr *)&a->address,
			   a->address_len) < 0) {
			err = -errno;
			log_msg(QUORUM_LOG_WARNING, "timecore",
				"peer.gossip_send_failed source=%s error=\"%s\"", a->id,
				strerror(errno));
		}
	}
	free(datagram);
	return peer_id != NULL && sent == 0 ? -ENOENT : err;
}

static void peer_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct timecore *c = arg;

	for (int burst = 0; burst < RECEIVE_BURST; burst++) {
		uint8_t *buf = c->receive_buffer;
		struct sockaddr_storage from;
		socklen_t from_len = sizeof(from);
		int64_t recv_mono, recv_real;
		ssize_t n = receive_stamped(fd, buf, GOSSIP_DATAGRAM_MAX + 1, &from, &from_len,
					    &recv_mono, &recv_real);
		struct datagram d;
		const char *reason = NULL;

		if (n < 0)
			return; /* EAGAIN: drained */
		if (datagram_decode(buf, (size_t)n, &d, &reason) != 0) {
			peer_refused(c, "peer", reason, (struct sockaddr *)&from, from_len);
			continue;
		}
		if (d.kind == DATAGRAM_TIME_REQUEST)
			answer(c, &d, (struct sockaddr *)&from, from_len, recv_mono, recv_real);
		else if (d.kind == DATAGRAM_GOSSIP)
			handle_gossip(c, &d, (struct sockaddr *)&from, from_len, recv_mono);
		else if (c->authorities.count > 0)
			handle_response(c, &d, (struct sockaddr *)&from, from_len, recv_mono);
		else
			peer_refused(c, "peer", "not_asking", (struct sockaddr *)&from,
				     from_len);
		datagram_release(&d);
		if (c->round_open && round_all_answered(c))
			round_finish(c);
	}
}

static void ntp_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct timecore *c = arg;

	for (int burst = 0; burst < RECEIVE_BURST; burst++) {
		uint8_t buf[512];
		struct sockaddr_storage from;
		socklen_t from_len = sizeof(from);
		int64_t recv_mono, recv_real;
		ssize_t n = receive_stamped(fd, buf, sizeof(buf), &from, &from_len, &recv_mono,
					    &recv_real);

		if (n < 0)
			return;
		handle_ntp(c, buf, (size_t)n, (struct sockaddr *)&from, from_len, recv_mono);
		if (c->round_open && round_all_answered(c))
			round_finish(c);
	}
}

static int ntp_socket(struct timecore *c, char *why, size_t why_size)
{
	int family = AF_INET;

	for (size_t i = 0; i < c->authorities.count; i++) {
		if (c->authorities.items[i].type == QUORUM_AUTHORITY_NTP)
			family = c->authorities.items[i].address.ss_family;
	}
	c->ntp_fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->ntp_fd < 0) {
		errbuf_set(why, why_size, "cannot open the NTP client socket: %s",
			   strerror(errno));
		return -errno;
	}
	socket_timestamps(c->ntp_fd);
	c->ntp_event = event_new(c->env.base, c->ntp_fd, EV_READ | EV_PERSIST, ntp_read_cb, c);
	if (c->ntp_event == NULL || event_add(c->ntp_event, NULL) != 0)
		return -ENOMEM;
	return 0;
}

/* ------------------------------- life cycle ------------------------------- */

int timecore_start(const struct timecore_env *env, struct timecore **out, char *why,
		   size_t why_size)
{
	const struct conf *conf = env->conf;
	struct timecore *c = calloc(1, sizeof(*c));
	struct listener *listener;
	int err;

	if (c == NULL)
		return -ENOMEM;
	c->env = *env;
	c->conf = conf_ref(env->conf);
	c->fd = -1;
	c->ntp_fd = -1;
	err = served_clock_open(conf->clock_shm, (uint32_t)conf->clock_max_drift_ppm,
				(uint32_t)conf->clock_slew_ppm, conf->clock_max_error_ns,
				&c->clock, why, why_size);
	if (err != 0)
		goto out_stop;
	if (!conf->has_peer_link) {
		*out = c;
		return 0;
	}
	if (env->node_key == NULL) {
		errbuf_set(why, why_size, "the peer link needs the node key (node.key)");
		err = -EINVAL;
		goto out_stop;
	}
	c->key = env->node_key;
	key_id(c->key, c->key_id);
	err = authorities_load(&c->authorities, conf, why, why_size);
	if (err != 0)
		goto out_stop;
	err = nodestate_load(&c->state, conf->state_dir, conf->node_id, c->key, &c->authorities,
			     why, why_size);
	if (err != 0)
		goto out_stop;
	{
		/* Strictly increasing across restarts: past every sequence that may have been
		 * used, and past the time in microseconds in case the state was lost. */
		uint64_t floor_us = (uint64_t)(clock_now_ns(CLOCK_REALTIME) / 1000);

		c->next_sequence = c->state.sequence_lease + 1;
		if (c->next_sequence < floor_us)
			c->next_sequence = floor_us;
	}
	log_msg(QUORUM_LOG_NOTICE, "timecore",
		"bft.resume.startup status=%s last_round=%" PRIu64 " last_estimate_ns=%" PRId64
		" last_drift_ns=%" PRId64 " served=unsynchronised",
		c->state.has_agreement ? "loaded" : "fresh", c->state.last_round,
		c->state.last_estimate_ns, c->state.last_drift_ns);
	/* The peer link socket is the host's, shared by address like every listener. */
	err = listener_acquire(env->listeners, QUORUM_LISTEN_UDP, conf->peer_address,
			       conf->peer_port, 0, &listener, why, why_size);
	if (err != 0)
		goto out_stop;
	c->listener = listener;
	c->fd = listener->fds[0];
	socket_timestamps(c->fd);
	c->receive_buffer = malloc(GOSSIP_DATAGRAM_MAX + 1);
	c->budgets = calloc(c->authorities.count + 1, sizeof(*c->budgets));
	c->per_source = ratelimit_new(conf->authority_rate_per_source,
				      2 * conf->authority_rate_per_source);
	c->gossip_seen = dedup_new(GOSSIP_SEEN_MAX);
	if (c->receive_buffer == NULL || c->budgets == NULL || c->per_source == NULL ||
	    c->gossip_seen == NULL) {
		err = -ENOMEM;
		goto out_stop;
	}
	c->answer_max_len = attestation_response_max_len(conf->node_id);
	c->read_event = event_new(env->base, c->fd, EV_READ | EV_PERSIST, peer_read_cb, c);
	if (c->read_event == NULL || event_add(c->read_event, NULL) != 0) {
		err = -ENOMEM;
		goto out_stop;
	}
	if (c->authorities.count > 0) {
		struct timeval interval = { .tv_sec = conf->round_interval_ms / 1000,
					    .tv_usec =
						    (conf->round_interval_ms % 1000) * 1000 };

		c->pending = calloc(c->authorities.count, sizeof(*c->pending));
		c->round_timer = event_new(env->base, -1, EV_PERSIST, round_cb, c);
		c->deadline_timer = evtimer_new(env->base, deadline_cb, c);
		c->interval = interval;
		if (c->pending == NULL || c->round_timer == NULL || c->deadline_timer == NULL) {
			err = -ENOMEM;
			goto out_stop;
		}
		for (size_t i = 0; i < c->authorities.count; i++)
			c->pending[i].request_len =
				attestation_response_max_len(c->authorities.items[i].id);
		if (c->authorities.ntp > 0) {
			err = ntp_socket(c, why, why_size);
			if (err != 0)
				goto out_stop;
		}
		{
			/* The first round at a random phase of the interval, so that the nodes
			 * of a cluster do not all ask (and answer) in the same instant. */
			uint32_t r = 0;
			int64_t phase_ms;
			struct timeval first;

			RAND_bytes((uint8_t *)&r, sizeof(r));
			phase_ms = (int64_t)(r % (uint32_t)conf->round_interval_ms);
			first = (struct timeval){ .tv_sec = phase_ms / 1000,
						  .tv_usec = (phase_ms % 1000) * 1000 };
			c->first_round = evtimer_new(env->base, first_round_cb, c);
			if (c->first_round == NULL || event_add(c->first_round, &first) != 0) {
				err = -ENOMEM;
				goto out_stop;
			}
		}
	}
	log_msg(QUORUM_LOG_NOTICE, "timecore",
		"timecore.started node=%s key_id=%s peer_link=%s:%u n=%u f=%u ntp_sources=%u "
		"shm=%s",
		conf->node_id, c->key_id, conf->peer_address, conf->peer_port, c->authorities.n,
		c->authorities.f, c->authorities.ntp,
		conf->clock_shm ? conf->clock_shm : "none");
	*out = c;
	return 0;
out_stop:
	timecore_stop(c);
	return err;
}

void timecore_stop(struct timecore *c)
{
	if (c == NULL)
		return;
	if (c->round_timer != NULL)
		event_free(c->round_timer);
	if (c->first_round != NULL)
		event_free(c->first_round);
	if (c->deadline_timer != NULL)
		event_free(c->deadline_timer);
	if (c->read_event != NULL)
		event_free(c->read_event);
	if (c->ntp_event != NULL)
		event_free(c->ntp_event);
	if (c->ntp_fd >= 0)
		close(c->ntp_fd);
	if (c->listener != NULL)
		listener_release(c->env.listeners, c->listener);
	for (size_t i = 0; c->pending != NULL && i < c->authorities.count; i++)
		pending_clear(&c->pending[i]);
	free(c->pending);
	free(c->receive_buffer);
	free(c->budgets);
	ratelimit_free(c->per_source);
	dedup_free(c->gossip_seen);
	if (c->key != NULL && c->state_dirty) {
		char why[ERRBUF_SIZE];

		if (nodestate_save(&c->state, c->conf->node_id, c->key, &c->authorities, why,
				   sizeof(why)) != 0)
			log_msg(QUORUM_LOG_ERROR, "timecore", "state.save_failed error=\"%s\"",
				why);
	}
	nodestate_release(&c->state);
	authorities_release(&c->authorities);
	served_clock_close(c->clock, 1);
	conf_unref(c->conf);
	free(c);
}

struct served_clock *timecore_clock(struct timecore *c)
{
	return c->clock;
}

const struct authority_table *timecore_authorities(const struct timecore *c)
{
	return &c->authorities;
}

struct authority_table *timecore_authorities_mut(struct timecore *c)
{
	return &c->authorities;
}

const char *timecore_node_id(const struct timecore *c)
{
	return c->conf->node_id;
}

int timecore_commit(struct timecore *c, const struct quorum_agreement *a, int64_t max_step_ns)
{
	struct clock_commit_outcome outcome;
	struct nodestate saved = c->state;
	char why[ERRBUF_SIZE];

	if (served_clock_check(c->clock, a) != 0)
		return -EINVAL;
	if (c->key != NULL) {
		/* Saved first: a commit that cannot be recorded does not happen. */
		c->state.has_agreement = 1;
		c->state.last_round = a->round;
		c->state.last_estimate_ns = a->estimate_ns;
		c->state.last_error_ns = a->latest_ns - a->earliest_ns;
		c->state.last_drift_ns = a->drift_ns;
		if (nodestate_save(&c->state, c->conf->node_id, c->key, &c->authorities, why,
				   sizeof(why)) != 0) {
			c->state = saved;
			log_msg(QUORUM_LOG_ERROR, "timecore",
				"clock.commit_refused reason=state_not_saved error=\"%s\"",
				why);
			return -EIO;
		}
		c->state_dirty = 0;
	}
	served_clock_commit(c->clock, a, max_step_ns, &outcome);
	log_msg(QUORUM_LOG_INFO, "timecore",
		"clock.commit round=%" PRIu64 " estimate_ns=%" PRId64 " width_ns=%" PRId64
		" served_width_ns=%" PRId64 " drift_ns=%" PRId64 " step_ns=%" PRId64
		" first=%d slewed=%d clamped=%d narrowed=%d disjoint=%d accepted=%u n=%u f=%u"
		" ntp_used=%u",
		a->round, a->estimate_ns, a->latest_ns - a->earliest_ns,
		outcome.served_width_ns, a->drift_ns, outcome.step_ns, outcome.first,
		outcome.slewed, outcome.clamped, outcome.narrowed, outcome.disjoint,
		a->accepted, a->n, a->f, a->ntp_used);
	return 0;
}

static int lookup_source(void *arg, const char *id, const char *claimed_key_id,
			 const uint8_t digest[SHA256_DIGEST_LENGTH], uint32_t *type,
			 const char **key_id, EVP_PKEY **key, int *verified)
{
	struct timecore *c = arg;
	struct authority *a = authorities_find(&c->authorities, id);
	static const uint8_t zero[SHA256_DIGEST_LENGTH];
	EVP_PKEY *rotated;

	if (a == NULL)
		return -ENOENT;
	*type = a->type;
	*key_id = a->key_id;
	*key = a->key;
	rotated = claimed_key_id != NULL ? passport_key(c, a, claimed_key_id) : NULL;
	if (rotated != NULL) {
		*key_id = a->passport_key_id;
		*key = rotated;
	}
	/* This node's own round, decoded while it is being ingested: the host verified these
	 * very bytes when they arrived. */
	if (c->decoding_own_round && c->pending != NULL) {
		const struct pending *p = &c->pending[a - c->authorities.items];

		*verified = p->answered &&
			    memcmp(p->verified_digest, zero, sizeof(zero)) != 0 &&
			    memcmp(p->verified_digest, digest, SHA256_DIGEST_LENGTH) == 0;
	}
	return 0;
}

int timecore_authority_verify(struct timecore *c, const char *id, const char *key_id,
			      const void *msg, size_t len, const void *sig, size_t sig_len)
{
	struct authority *a = id != NULL ? authorities_find(&c->authorities, id) : NULL;
	EVP_PKEY *rotated;
	int err = authorities_verify(&c->authorities, id, key_id, msg, len, sig, sig_len);

	if (err != -ENOENT || a == NULL || key_id == NULL)
		return err;
	rotated = passport_key(c, a, key_id);
	if (rotated == NULL)
		return -ENOENT;
	if ((msg == NULL && len > 0) || sig == NULL)
		return -EBADMSG;
	err = key_verify(rotated, msg != NULL ? msg : "", len, sig, sig_len);
	return err == -ENOMEM ? -ENOMEM : err != 0 ? -EBADMSG : 0;
}

int timecore_round_decode(struct timecore *c, const struct quorum_bytes *payload,
			  struct round_view **out, const char **reason)
{
	return round_decode(payload, c->conf->node_id, lookup_source, c, out, reason);
}
