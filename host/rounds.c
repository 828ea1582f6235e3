/* rounds.c -- asking in rounds: every round_interval_ms the configured authorities get
 * a fresh nonce (derived from the round's seed) and the NTP sources a request; each answer is
 * verified and attributed to its question, and the round, closed when all answered or at its
 * deadline, is signed and ingested as a uml001.worker.ntp_sync event. */
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
#include "metrics-internal.h"
#include "orchestrator-internal.h"
#include "protodecode-internal.h"
#include "ratelimit.h"
#include "roundnonce.h"
#include "timecore-internal.h"
#include "timecore-parts-internal.h"
#include "util-internal.h"

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

void rounds_handle_response(struct timecore *c, struct datagram *d, const struct sockaddr *from,
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
	rotated = timecore_passport_key(c, authority, a.fields.key_id);
	reason = rotated != NULL
			 ? attestation_check(&a, authority->id, a.fields.key_id, rotated)
			 : attestation_check(&a, authority->id, authority->key_id,
					     authority->key);
	if (reason != NULL) {
		peer_refused(c, "peer", reason, from, from_len);
		goto out_release;
	}
	peer_address_text(from, from_len, peer, sizeof(peer));
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
	peer_address_text(from, from_len, peer, sizeof(peer));
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

int rounds_all_answered(const struct timecore *c)
{
	for (size_t i = 0; i < c->authorities.count; i++) {
		if (!c->pending[i].answered && !c->pending[i].excluded)
			return 0;
	}
	return 1;
}

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
	metric_add(c->metrics.rounds[verdict.code == QUORUM_CONTINUE ? CORE_ROUND_ACCEPTED
				     : verdict.code == QUORUM_HOLD   ? CORE_ROUND_HELD
								     : CORE_ROUND_REJECTED],
		   1);
	metric_add(c->metrics.observations_used, (int64_t)r.n_observations);
	metric_add(c->metrics.observations_rejected, (int64_t)r.n_rejected_sources);
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

void rounds_finish(struct timecore *c)
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
	rounds_finish(arg);
}

static void round_cb(evutil_socket_t fd, short what, void *arg)
{
	struct timecore *c = arg;
	uint8_t buf[1024];

	rounds_finish(c); /* a round never outlives the next one's start */
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
				/* Not asked; a fresh unsent nonce, so nothing it says counts.
				 */
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
		if (len < 0 || peer_sendto(c, buf, (size_t)len, (struct sockaddr *)&a->address,
					   a->address_len) < 0)
			log_msg(QUORUM_LOG_WARNING, "timecore",
				"round.send_failed source=%s error=\"%s\"", a->id,
				len < 0 ? "encoding" : strerror(errno));
		else
			metric_add(c->metrics.sent[CORE_DATAGRAM_TIME_REQUEST], 1);
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

static void ntp_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct timecore *c = arg;

	for (int burst = 0; burst < RECEIVE_BURST; burst++) {
		uint8_t buf[512];
		struct sockaddr_storage from;
		socklen_t from_len = sizeof(from);
		int64_t recv_mono, recv_real;
		ssize_t n = peer_receive_stamped(fd, buf, sizeof(buf), &from, &from_len,
						 &recv_mono, &recv_real);

		if (n < 0)
			return;
		handle_ntp(c, buf, (size_t)n, (struct sockaddr *)&from, from_len, recv_mono);
		if (c->round_open && rounds_all_answered(c))
			rounds_finish(c);
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
	peer_socket_timestamps(c->ntp_fd);
	c->ntp_event = event_new(c->env.base, c->ntp_fd, EV_READ | EV_PERSIST, ntp_read_cb, c);
	if (c->ntp_event == NULL || event_add(c->ntp_event, NULL) != 0)
		return -ENOMEM;
	return 0;
}

/* ---------------------------- opening and closing ---------------------------- */

int rounds_open(struct timecore *c, char *why, size_t why_size)
{
	struct timeval interval = { .tv_sec = c->conf->round_interval_ms / 1000,
				    .tv_usec = (c->conf->round_interval_ms % 1000) * 1000 };
	int err;

	if (c->authorities.count == 0)
		return 0; /* answering only */

	c->pending = calloc(c->authorities.count, sizeof(*c->pending));
	c->round_timer = event_new(c->env.base, -1, EV_PERSIST, round_cb, c);
	c->deadline_timer = evtimer_new(c->env.base, deadline_cb, c);
	c->interval = interval;
	if (c->pending == NULL || c->round_timer == NULL || c->deadline_timer == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < c->authorities.count; i++)
		c->pending[i].request_len =
			attestation_response_max_len(c->authorities.items[i].id);
	if (c->authorities.ntp > 0) {
		err = ntp_socket(c, why, why_size);
		if (err != 0)
			return err;
	}
	{
		/* The first round at a random phase of the interval, so that the nodes
		 * of a cluster do not all ask (and answer) in the same instant. */
		uint32_t r = 0;
		int64_t phase_ms;
		struct timeval first;

		RAND_bytes((uint8_t *)&r, sizeof(r));
		phase_ms = (int64_t)(r % (uint32_t)c->conf->round_interval_ms);
		first = (struct timeval){ .tv_sec = phase_ms / 1000,
					  .tv_usec = (phase_ms % 1000) * 1000 };
		c->first_round = evtimer_new(c->env.base, first_round_cb, c);
		if (c->first_round == NULL || event_add(c->first_round, &first) != 0)
			return -ENOMEM;
	}
	return 0;
}

void rounds_close(struct timecore *c)
{
	if (c->round_timer != NULL)
		event_free(c->round_timer);
	if (c->first_round != NULL)
		event_free(c->first_round);
	if (c->deadline_timer != NULL)
		event_free(c->deadline_timer);
	if (c->ntp_event != NULL)
		event_free(c->ntp_event);
	if (c->ntp_fd >= 0)
		close(c->ntp_fd);
	for (size_t i = 0; c->pending != NULL && i < c->authorities.count; i++)
		pending_clear(&c->pending[i]);
	free(c->pending);
}
