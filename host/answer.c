/* answer.c -- answering as an authority: a request on the peer link gets a signed
 * attestation of this node's clock, within a budget of its own for each configured
 * authority and a shared one, with a budget per address inside it, for everybody else. */
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

/* ------------------------------- answering ------------------------------- */

/*
 * Whether this node may answer a request from FROM now. A configured authority has a budget
 * of its own (it asks once a round); everybody else shares one, and each of their addresses
 * has a smaller one within it, so that no sender can drain what the authorities need or
 * what other askers get. RETURN VALUE: NULL, or the reason for refusing.
 */
static const char *answer_budget(struct timecore *c, const struct sockaddr *from,
				 socklen_t from_len, int64_t now)
{
	struct authority *a = peer_source_at(c, from, from_len);
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

void answer_request(struct timecore *c, const struct datagram *d, const struct sockaddr *from,
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
	if (peer_sendto(c, out, len, from, from_len) < 0)
		peer_refused(c, "peer",
			     errno == EAGAIN ? "answer_send_busy" : "answer_send_failed", from,
			     from_len);
	else
		metric_add(c->metrics.sent[CORE_DATAGRAM_TIME_RESPONSE], 1);
	free(out);
}
