/* peerlink.c -- the time core's peer link: one UDP socket (the host's, shared by address),
 * datagrams received with the kernel's arrival stamps and dispatched (requests to answer.c,
 * answers to rounds.c, gossip here), and gossip sent and received, each peer within its
 * bucket and each event once. */
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

const char *peer_address_text(const struct sockaddr *sa, socklen_t len, char *buf, size_t size)
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
void peer_refused(struct timecore *c, const char *what, const char *reason,
		  const struct sockaddr *from, socklen_t from_len)
{
	char peer[96];

	c->env.refused(c->env.host, what, reason,
		       peer_address_text(from, from_len, peer, sizeof(peer)));
}

ssize_t peer_sendto(struct timecore *c, const void *buf, size_t len, const struct sockaddr *to,
		    socklen_t to_len)
{
	ssize_t n = sendto(c->fd, buf, len, 0, to, to_len);

	if (n >= 0) {
		c->bytes_out += (uint64_t)n;
		c->datagrams_out++;
	}
	return n;
}

/* The configured source whose peer-link address is FROM, or NULL. */
struct authority *peer_source_at(struct timecore *c, const struct sockaddr *from,
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

/* ------------------------------- the peer link ------------------------------- */

/*
 * Receives one datagram with the kernel's arrival timestamp (SO_TIMESTAMPNS, realtime), and
 * converts the arrival to CLOCK_MONOTONIC, so that time spent queued in this process (behind
 * other datagrams, signatures, verifications) counts as the measured processing of an
 * answer and is not mistaken for network delay in a round trip.
 * RETURN VALUE: the datagram's length, or -1 when the socket is drained.
 */
ssize_t peer_receive_stamped(int fd, uint8_t *buf, size_t size, struct sockaddr_storage *from,
			     socklen_t *from_len, int64_t *arrival_mono, int64_t *arrival_real)
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

void peer_socket_timestamps(int fd)
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
	struct authority *a = peer_source_at(c, from, from_len);

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
		key = timecore_passport_key(c, origin, view->key_id);
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
		if (peer_sendto(c, datagram, datagram_len, (struct sockaddr *)&a->address,
				a->address_len) < 0) {
			err = -errno;
			log_msg(QUORUM_LOG_WARNING, "timecore",
				"peer.gossip_send_failed source=%s error=\"%s\"", a->id,
				strerror(errno));
		} else {
			metric_add(c->metrics.sent[CORE_DATAGRAM_GOSSIP], 1);
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
		ssize_t n = peer_receive_stamped(fd, buf, GOSSIP_DATAGRAM_MAX + 1, &from,
						 &from_len, &recv_mono, &recv_real);
		struct datagram d;
		const char *reason = NULL;

		if (n < 0)
			return; /* EAGAIN: drained */
		c->bytes_in += (uint64_t)n;
		c->datagrams_in++;
		if (datagram_decode(buf, (size_t)n, &d, &reason) != 0) {
			metric_add(c->metrics.received[CORE_DATAGRAM_MALFORMED], 1);
			peer_refused(c, "peer", reason, (struct sockaddr *)&from, from_len);
			continue;
		}
		metric_add(c->metrics.received[d.kind == DATAGRAM_TIME_REQUEST
						       ? CORE_DATAGRAM_TIME_REQUEST
					       : d.kind == DATAGRAM_GOSSIP
						       ? CORE_DATAGRAM_GOSSIP
						       : CORE_DATAGRAM_TIME_RESPONSE],
			   1);
		if (d.kind == DATAGRAM_TIME_REQUEST)
			answer_request(c, &d, (struct sockaddr *)&from, from_len, recv_mono,
				       recv_real);
		else if (d.kind == DATAGRAM_GOSSIP)
			handle_gossip(c, &d, (struct sockaddr *)&from, from_len, recv_mono);
		else if (c->authorities.count > 0)
			rounds_handle_response(c, &d, (struct sockaddr *)&from, from_len,
					       recv_mono);
		else
			peer_refused(c, "peer", "not_asking", (struct sockaddr *)&from,
				     from_len);
		datagram_release(&d);
		if (c->round_open && rounds_all_answered(c))
			rounds_finish(c);
	}
}

/* ---------------------------- opening and closing ---------------------------- */

int peerlink_open(struct timecore *c, char *why, size_t why_size)
{
	struct listener *listener;
	int err;

	/* The peer link socket is the host's, shared by address like every listener. */
	err = listener_acquire(c->env.listeners, QUORUM_LISTEN_UDP, c->conf->peer_address,
			       c->conf->peer_port, 0, &listener, why, why_size);
	if (err != 0)
		return err;
	c->listener = listener;
	c->fd = listener->fds[0];
	peer_socket_timestamps(c->fd);
	c->receive_buffer = malloc(GOSSIP_DATAGRAM_MAX + 1);
	c->budgets = calloc(c->authorities.count + 1, sizeof(*c->budgets));
	c->per_source = ratelimit_new(c->conf->authority_rate_per_source,
				      2 * c->conf->authority_rate_per_source);
	c->gossip_seen = dedup_new(GOSSIP_SEEN_MAX);
	if (c->receive_buffer == NULL || c->budgets == NULL || c->per_source == NULL ||
	    c->gossip_seen == NULL)
		return -ENOMEM;
	c->answer_max_len = attestation_response_max_len(c->conf->node_id);
	c->read_event = event_new(c->env.base, c->fd, EV_READ | EV_PERSIST, peer_read_cb, c);
	if (c->read_event == NULL || event_add(c->read_event, NULL) != 0)
		return -ENOMEM;
	return 0;
}

void peerlink_close(struct timecore *c)
{
	if (c->fd >= 0)
		log_msg(QUORUM_LOG_INFO, "timecore",
			"peer.traffic bytes_in=%" PRIu64 " bytes_out=%" PRIu64
			" datagrams_in=%" PRIu64 " datagrams_out=%" PRIu64,
			c->bytes_in, c->bytes_out, c->datagrams_in, c->datagrams_out);
	if (c->read_event != NULL)
		event_free(c->read_event);
	if (c->listener != NULL)
		listener_release(c->env.listeners, c->listener);
	free(c->receive_buffer);
	free(c->budgets);
	ratelimit_free(c->per_source);
	dedup_free(c->gossip_seen);
}
