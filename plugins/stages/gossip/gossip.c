/* gossip.c -- the gossip stage, third of the pipeline: tells the peers. Every event this
 * node accepts whose id is in `forward` is sent to `fanout` configured quorumd authorities
 * over the host's peer link (api->gossip_send) with the seed's rules: a copy keeps its
 * origin, gains a hop and loses a ttl, and names the nodes it was sent to (sent_to), so
 * that no node relays it to one that has it already; copies that echo this node, had their
 * hops reset, overflow max_ttl, carry an id nobody forwards, or were seen already are
 * refused with the seed's reasons. It also reads every round it sees, this node's or a peer's:
 * an authority that signed two different attestations for one sequence is reported (a
 * malfeasance report, Roughtime's idea: an event signed by this node that the vault records,
 * the control stage acts on and the peers receive), and an epoch whose attestations come from n
 * - f distinct authorities has converged (published as QUORUM_GOSSIP_SERVICE). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <quorum/gossip.h>
#include <quorum/passport.h>
#include <quorum/plugin.h>

#include "dedup.h"
#include "digest.h"
#include "epochs.h"
#include "evidence.h"
#include "malfeasance-report.h"
#include "rules.h"
#include "wire.h"
#include "clocks.h"

#define FORWARD_MAX	  64
#define REPORT_HOLDOFF_NS 10000000000LL /* one report per authority per 10 s at most */
#define HEARD_MAX	  4096 /* digest entries of peers kept to compare later rounds with */
#define PUSHES_PER_DIGEST 4    /* attestations sent back for one disagreeing digest */

/* A configured quorumd authority but this node: a peer gossip goes to and comes from. */
struct gossip_peer_state {
	const char *id; /* borrowed from the host, valid for the process lifetime */
	uint64_t received, accepted;
	int64_t last_seen_mono;
};

struct gossip_stage {
	struct quorum_host *host;
	const struct quorum_api *api;
	const char *node_id;
	uint32_t fanout, max_ttl;
	const char *forward[FORWARD_MAX]; /* borrowed from the settings */
	size_t forward_count;
	struct dedup *dedup;
	struct evidence *evidence;
	struct epochs epochs;
	/* the configured sources, read once the time core runs (after the stages start) */
	struct quorum_source_status *sources; /* QUORUM_AUTHORITIES_MAX */
	size_t source_count;
	int64_t *last_report_mono; /* per source */
	struct gossip_peer_state *peers;
	const char **peer_ids;
	size_t peer_count;
	int sources_loaded;
	size_t rotate; /* where the next copy's choice of peers starts */
	uint64_t local, refused, forwarded, send_failed, reports;
	/* The same in the node's metrics (ABI 1.11; NULL on an older host). */
	struct quorum_metric *metric_local, *metric_refused, *metric_forwarded,
		*metric_send_failed, *metric_spared;
	uint64_t spared; /* copies not sent: the peer was the sender or origin, or had it */
	int send_failure_logged;
	/* digests (issue 19): what this node asked, told to a few peers a round */
	uint32_t digest_fanout;
	size_t digest_rotate;
	struct heard_entry *heard; /* HEARD_MAX entries of peers' digests not held here */
	size_t heard_next;
	uint64_t digests_sent, digests_heard, disagreements, pushed;
};

/* A peer's digest entry for an attestation this node did not hold when it came. */
struct heard_entry {
	struct digest_entry entry;
	const char *peer; /* borrowed from peers; NULL: slot unused */
};

/* The configured sources and, among them, the peers. */
static void sources_load(struct gossip_stage *s)
{
	size_t count = 0;

	if (s->sources_loaded)
		return;
	s->api->sources_status(s->host, s->sources, QUORUM_AUTHORITIES_MAX, &count);
	if (count == 0)
		return; /* no time core yet: ask again later */
	if (count > QUORUM_AUTHORITIES_MAX)
		count = QUORUM_AUTHORITIES_MAX;
	s->source_count = count;
	for (size_t i = 0; i < count; i++) {
		const struct quorum_source_status *src = &s->sources[i];

		if (src->type != QUORUM_AUTHORITY_QUORUMD || strcmp(src->id, s->node_id) == 0)
			continue;
		s->peers[s->peer_count].id = src->id;
		s->peer_ids[s->peer_count++] = src->id;
	}
	s->sources_loaded = 1;
}

/* The place of quorumd authority ID among the configured sources, or -1. */
static int source_index(const struct gossip_stage *s, const char *id)
{
	for (size_t i = 0; i < s->source_count; i++) {
		if (s->sources[i].type == QUORUM_AUTHORITY_QUORUMD &&
		    strcmp(s->sources[i].id, id) == 0)
			return (int)i;
	}
	return -1;
}

static struct gossip_peer_state *peer_find(struct gossip_stage *s, const char *id)
{
	for (size_t i = 0; i < s->peer_count; i++) {
		if (strcmp(s->peers[i].id, id) == 0)
			return &s->peers[i];
	}
	return NULL;
}

/* SHA-256 of the signed bytes and the signature: the passport stage's fingerprint. */
/* ---- evidence of equivocation ---- */

static int verify_cb(void *arg, const char *authority_id, const char *key_id, const void *msg,
		     size_t len, const void *sig, size_t sig_len)
{
	struct gossip_stage *s = arg;

	return s->api->authority_verify(s->host, authority_id, key_id, msg, len, sig, sig_len);
}

/* Whether source I is quarantined right now. */
static int quarantined(struct gossip_stage *s, int i)
{
	size_t count = 0;

	s->api->sources_status(s->host, s->sources, QUORUM_AUTHORITIES_MAX, &count);
	return i >= 0 && (size_t)i < count && s->sources[i].quarantined;
}

/* PREVIOUS and CURRENT are two different attestations of AUTHORITY for SEQUENCE: checked
 * exactly as the control stage will check them, the report is signed by this node and
 * ingested (queued behind the event in flight), audited as gossip.malfeasance. */
static void report(struct gossip_stage *s, struct evidence_entry *previous,
		   const struct wire_attestation *current, const char *authority,
		   uint64_t sequence)
{
	int i = source_index(s, authority);
	int64_t now = clock_now_ns(CLOCK_MONOTONIC);
	struct quorum_signed_state st = { 0 };
	struct malfeasance_summary sum;
	struct quorum_verdict verdict;
	char first[65], second[65];
	const char *why = NULL;
	uint8_t *payload = NULL, sig[64];
	size_t len;
	int err;

	if (i < 0 || quarantined(s, i) ||
	    (s->last_report_mono[i] != 0 && now - s->last_report_mono[i] < REPORT_HOLDOFF_NS))
		return; /* already dealt with */
	err = malfeasance_report_encode(authority, sequence, previous->encoded, previous->len,
					current->encoded, current->len, s->node_id, &payload,
					&len);
	if (err != 0) {
		s->api->log(s->host, QUORUM_LOG_ERROR,
			    "gossip.malfeasance_not_reported authority=%s sequence=%" PRIu64
			    " error=\"%s\"",
			    authority, sequence, strerror(-err));
		return;
	}
	/* Evidence only when both signatures verify here: a peer's round is not proof. */
	if (malfeasance_report_check(payload, len, verify_cb, s, &sum, &why) != 0) {
		s->api->log(s->host, QUORUM_LOG_NOTICE,
			    "gossip.malfeasance_unproven authority=%s sequence=%" PRIu64
			    " why=%s",
			    authority, sequence, why);
		goto out_free;
	}
	previous->reported = 1;
	st.logical_time_ns = (uint64_t)clock_now_ns(CLOCK_REALTIME);
	st.event_id = QUORUM_EVENT_MALFEASANCE;
	st.payload.data = payload;
	st.payload.len = len;
	err = s->api->sign_event(s->host, &st, sig);
	if (err != 0) {
		s->api->log(s->host, QUORUM_LOG_ERROR,
			    "gossip.malfeasance_not_reported authority=%s sequence=%" PRIu64
			    " error=\"cannot sign: %s\"",
			    authority, sequence, strerror(-err));
		goto out_free;
	}
	s->last_report_mono[i] = now;
	s->reports++;
	hex_encode(sum.first_digest, MALFEASANCE_DIGEST_LEN, first);
	hex_encode(sum.second_digest, MALFEASANCE_DIGEST_LEN, second);
	s->api->audit(s->host, "gossip.malfeasance",
		      "authority=%s sequence=%" PRIu64 " first_digest=%s second_digest=%s "
		      "reporter=%s",
		      authority, sequence, first, second, s->node_id);
	s->api->log(s->host, QUORUM_LOG_WARNING,
		    "gossip.malfeasance authority=%s sequence=%" PRIu64
		    " effect=report_ingested",
		    authority, sequence);
	err = s->api->ingest(s->host, &st, NULL, &verdict);
	if (err < 0)
		s->api->log(s->host, QUORUM_LOG_ERROR,
			    "gossip.malfeasance_not_ingested authority=%s reason=%s", authority,
			    verdict.reason);
out_free:
	free(payload);
}

/* ---- digests (issue 19) ---- */

/* Signs an event EVENT_ID with PAYLOAD as this node and sends it to PEER_ID alone, one hop.
 * RETURN VALUE: 0 or -errno. */
static int send_own(struct gossip_stage *s, const char *event_id, const uint8_t *payload,
		    size_t len, const char *peer_id)
{
	struct quorum_signed_state st = { 0 };
	uint8_t sig[64], *copy;
	size_t copy_len;
	int err;

	st.logical_time_ns = (uint64_t)clock_now_ns(CLOCK_REALTIME);
	st.event_id = event_id;
	st.payload.data = payload;
	st.payload.len = len;
	err = s->api->sign_event(s->host, &st, sig);
	if (err == 0)
		err = wire_own_event(&st, s->node_id, &copy, &copy_len);
	if (err != 0)
		return err;
	err = s->api->gossip_send(s->host, copy, copy_len, peer_id);
	free(copy);
	if (err != 0) {
		s->send_failed++;
		if (!s->send_failure_logged)
			s->api->log(s->host, QUORUM_LOG_WARNING,
				    "gossip.send_failed peer=%s event_id=%s error=\"%s\"",
				    peer_id, event_id, strerror(-err));
		s->send_failure_logged = 1;
	}
	return err;
}

/* Sends this node's copy of an attestation (ENCODED, LEN bytes) to PEER_ID, whose digest
 * says it holds another one for the same authority and sequence. */
static void push_attestation(struct gossip_stage *s, const char *authority, uint64_t sequence,
			     const uint8_t *encoded, size_t len, const char *peer_id)
{
	s->disagreements++;
	s->api->log(s->host, QUORUM_LOG_NOTICE,
		    "gossip.digest_disagrees authority=%s sequence=%" PRIu64
		    " peer=%s effect=attestation_sent",
		    authority, sequence, peer_id);
	if (send_own(s, QUORUM_EVENT_GOSSIP_ATTESTATION, encoded, len, peer_id) == 0)
		s->pushed++;
}

/* This node's round, as a digest of its quorumd attestations (RAW, COUNT of them, those
 * the round's view ROUND verified), to digest_fanout peers, taken in turn. Peers' digest
 * entries heard before this round closed are compared with it first. */
static void send_digest(struct gossip_stage *s, const struct quorum_round *round,
			const struct wire_attestation *raw, size_t count)
{
	struct digest_entry *entries = calloc(count + 1, sizeof(*entries));
	size_t n = 0, picked[QUORUM_AUTHORITIES_MAX], k;
	uint8_t *payload = NULL;
	size_t len;

	if (entries == NULL)
		return;
	for (size_t i = 0; i < count; i++) {
		const struct quorum_observation *o = &round->observations[i];

		if (o->problem != NULL || o->type != QUORUM_AUTHORITY_QUORUMD ||
		    raw[i].encoded == NULL ||
		    strlen(o->attestation.authority_id) > QUORUM_NODE_ID_MAX)
			continue;
		strcpy(entries[n].authority, o->attestation.authority_id);
		entries[n].sequence = o->attestation.sequence;
		memcpy(entries[n].hash, raw[i].digest, DIGEST_HASH_LEN);
		for (size_t h = 0; h < HEARD_MAX; h++) {
			struct heard_entry *e = &s->heard[h];

			if (e->peer == NULL || e->entry.sequence != entries[n].sequence ||
			    strcmp(e->entry.authority, entries[n].authority) != 0)
				continue;
			if (memcmp(e->entry.hash, entries[n].hash, DIGEST_HASH_LEN) != 0)
				push_attestation(s, entries[n].authority, entries[n].sequence,
						 raw[i].encoded, raw[i].len, e->peer);
			e->peer = NULL; /* compared: done with */
		}
		n++;
	}
	if (n == 0 || s->peer_count == 0 || s->digest_fanout == 0 ||
	    digest_encode(entries, n, &payload, &len) != 0)
		goto out_free;
	k = gossip_pick(s->peer_ids, s->peer_count, NULL, NULL, NULL, 0, s->digest_fanout,
			s->digest_rotate % s->peer_count, picked);
	s->digest_rotate += k;
	for (size_t i = 0; i < k; i++) {
		if (send_own(s, QUORUM_EVENT_DIGEST, payload, len, s->peer_ids[picked[i]]) == 0)
			s->digests_sent++;
	}
out_free:
	free(payload);
	free(entries);
}

/* A peer's digest: each entry this node holds another attestation for gets this node's
 * copy sent back (a few a digest); an entry it does not hold is kept to compare with its
 * next rounds. RETURN VALUE: NULL, or why the digest is refused. */
static const char *digest_heard(struct gossip_stage *s, const struct quorum_event *event)
{
	const struct quorum_signed_state *st = event->state;
	struct gossip_peer_state *p = peer_find(s, event->peer);
	struct digest_entry *entries;
	size_t count = 0, pushes = 0;
	const char *why = NULL;

	if (p == NULL)
		return "gossip_digest_unknown_peer";
	entries = calloc(DIGEST_ENTRIES_MAX, sizeof(*entries));
	if (entries == NULL)
		return "gossip_out_of_memory";
	if (digest_decode(st->payload.data, st->payload.len, entries, DIGEST_ENTRIES_MAX,
			  &count, &why) != 0) {
		free(entries);
		return why;
	}
	s->digests_heard++;
	for (size_t i = 0; i < count; i++) {
		struct evidence_entry *x =
			evidence_find(s->evidence, entries[i].authority, entries[i].sequence);

		if (x == NULL) {
			s->heard[s->heard_next].entry = entries[i];
			s->heard[s->heard_next].peer = p->id;
			s->heard_next = (s->heard_next + 1) % HEARD_MAX;
		} else if (memcmp(x->digest, entries[i].hash, DIGEST_HASH_LEN) != 0 &&
			   !x->reported && pushes < PUSHES_PER_DIGEST) {
			pushes++;
			push_attestation(s, x->authority, x->sequence, x->encoded, x->len,
					 p->id);
		}
	}
	free(entries);
	return NULL;
}

/* A peer's copy of an attestation this node holds another one of (it answered a digest of
 * ours): when the two differ, the report is made here, after both signatures verify.
 * Attestations this node does not hold are not kept: nothing here vouches for them. */
static const char *attestation_heard(struct gossip_stage *s, const struct quorum_event *event)
{
	const struct quorum_signed_state *st = event->state;
	struct wire_attestation current = { 0 };
	struct evidence_entry *x;
	char authority[QUORUM_NODE_ID_MAX + 1];
	uint64_t sequence;

	sources_load(s);
	if (wire_attestation_parse(st->payload.data, st->payload.len, authority, &sequence,
				   current.digest) != 0)
		return "gossip_attestation_malformed";
	if (source_index(s, authority) < 0)
		return "gossip_attestation_unknown_authority";
	x = evidence_find(s->evidence, authority, sequence);
	if (x != NULL && memcmp(x->digest, current.digest, EVIDENCE_DIGEST_LEN) != 0 &&
	    !x->reported) {
		current.encoded = (uint8_t *)st->payload.data;
		current.len = st->payload.len;
		report(s, x, &current, authority, sequence);
	}
	return NULL;
}

static int own_protocol(const char *event_id)
{
	return strcmp(event_id, QUORUM_EVENT_DIGEST) == 0 ||
	       strcmp(event_id, QUORUM_EVENT_GOSSIP_ATTESTATION) == 0;
}

/* Reads a round (this node's or a peer's): each verified attestation of a quorumd authority
 * counts toward its epoch, and joins the index where a second one for its sequence is
 * evidence. */
static void examine_round(struct gossip_stage *s, const struct quorum_event *event)
{
	struct quorum_round *round = NULL;
	struct wire_attestation *raw = NULL;
	struct quorum_authority_set set;
	uint32_t threshold;
	size_t count = 0;
	const char *why = NULL;

	sources_load(s);
	if (s->api->round_decode(s->host, event, &round, &why) != 0)
		return; /* convergence refuses it with the reason */
	if (wire_round_attestations(&event->state->payload, &raw, &count) != 0 ||
	    count != round->observation_count)
		goto out_free;
	s->api->authority_set(s->host, &set);
	threshold = set.n > set.f ? set.n - set.f : 0;
	for (size_t i = 0; i < count; i++) {
		const struct quorum_observation *o = &round->observations[i];
		const struct quorum_attestation *a = &o->attestation;
		struct evidence_entry *previous = NULL;
		int index, r;

		if (o->problem != NULL || o->type != QUORUM_AUTHORITY_QUORUMD ||
		    raw[i].encoded == NULL)
			continue;
		index = source_index(s, a->authority_id);
		if (index >= 0 && a->status == QUORUM_AUTHORITY_SYNCHRONISED) {
			int64_t epoch;
			uint32_t seen;

			if (epochs_add(&s->epochs, (uint32_t)index, a->midpoint_ns,
				       event->received_ns, threshold, &epoch, &seen) == 1)
				s->api->log(s->host, QUORUM_LOG_INFO,
					    "gossip.converged epoch=%" PRId64 " authorities=%u"
					    " threshold=%u epoch_ms=%" PRId64 " by=%s",
					    epoch, seen, threshold,
					    s->epochs.epoch_ns / 1000000,
					    round->local ? "local" : round->node_id);
		}
		r = evidence_offer(s->evidence, a->authority_id, a->sequence, raw[i].digest,
				   raw[i].encoded, raw[i].len, &previous);
		if (r == EVIDENCE_CONFLICT && !previous->reported)
			report(s, previous, &raw[i], a->authority_id, a->sequence);
	}
	if (round->local)
		send_digest(s, round, raw, count);
out_free:
	wire_attestations_free(raw, count);
	s->api->round_free(s->host, round);
}

/* ---- the stage ---- */

static int from_peer(const struct quorum_event *event)
{
	return strcmp(event->source, QUORUM_GOSSIP_SOURCE) == 0 && event->peer[0] != '\0';
}

static void gossip_metric_add(struct gossip_stage *s, struct quorum_metric *m, int64_t delta)
{
	if (m != NULL)
		s->api->metric_add(m, delta);
}

/* The stage's series in the node's metrics (ABI 1.11). */
static void gossip_metrics_register(struct gossip_stage *s)
{
	static const char help[] = "Gossiped events by what the gossip stage did: passed this "
				   "node's own, refused a peer's (duplicate, policy, TTL), "
				   "forwarded a copy to a peer, or failed to send it.";
	const struct quorum_api *api = s->api;

	if (!QUORUM_API_HAS(api, metric_register))
		return;
	s->metric_local = api->metric_register(s->host, QUORUM_METRIC_COUNTER,
					       "quorum_gossip_events_total", "result=\"local\"",
					       help, 1.0);
	s->metric_refused = api->metric_register(s->host, QUORUM_METRIC_COUNTER,
						 "quorum_gossip_events_total",
						 "result=\"refused\"", help, 1.0);
	s->metric_forwarded = api->metric_register(s->host, QUORUM_METRIC_COUNTER,
						   "quorum_gossip_events_total",
						   "result=\"forwarded\"", help, 1.0);
	s->metric_send_failed = api->metric_register(s->host, QUORUM_METRIC_COUNTER,
						     "quorum_gossip_events_total",
						     "result=\"send_failed\"", help, 1.0);
	s->metric_spared = api->metric_register(
		s->host, QUORUM_METRIC_COUNTER, "quorum_gossip_copies_spared_total", NULL,
		"Copies not sent: the peer was the sender or the origin, or had it.", 1.0);
}

static int gossip_process(void *state, const struct quorum_event *event, const char **reason)
{
	struct gossip_stage *s = state;
	const struct quorum_signed_state *st = event->state;
	int local = 0;
	uint8_t fp[DEDUP_FINGERPRINT_LEN];
	const char *why =
		gossip_check(s->max_ttl, s->node_id, st->gossip, from_peer(event), &local);

	if (why == NULL && !local && !own_protocol(st->event_id) &&
	    !gossip_forwarded(s->forward, s->forward_count, st->event_id))
		why = GOSSIP_POLICY_REJECTED; /* nobody here forwards what a peer may not send
					       */
	if (why == NULL && !local) {
		if (dedup_fingerprint(st, fp) != 0)
			why = "gossip_out_of_memory";
		else if (dedup_insert(s->dedup, fp) == 0)
			why = GOSSIP_DUPLICATE;
	}
	if (why != NULL) {
		s->refused++;
		gossip_metric_add(s, s->metric_refused, 1);
		*reason = why;
		return QUORUM_REJECT;
	}
	if (local) { /* this node's own event: nothing to check */
		s->local++;
		gossip_metric_add(s, s->metric_local, 1);
		s->api->log(s->host, QUORUM_LOG_DEBUG, "gossip.pass event_id=%s reason=%s",
			    st->event_id, GOSSIP_LOCAL_NOOP);
	}
	if (own_protocol(st->event_id)) {
		/* Only the peer that signed it sends it: digests and attestations are never
		 * relayed (ttl 0). */
		sources_load(s);
		if (local || strcmp(st->gossip->origin_node_id, event->peer) != 0)
			why = "gossip_digest_relayed";
		else if (strcmp(st->event_id, QUORUM_EVENT_DIGEST) == 0)
			why = digest_heard(s, event);
		else
			why = attestation_heard(s, event);
		if (why != NULL) {
			s->refused++;
			*reason = why;
			return QUORUM_REJECT;
		}
		return QUORUM_CONTINUE;
	}
	if (strcmp(st->event_id, QUORUM_EVENT_SYNC_ROUND) == 0)
		examine_round(s, event);
	return QUORUM_CONTINUE;
}

/* Sends the copy of an accepted event on to the peers. */
static void gossip_observe(void *state, const struct quorum_event *event,
			   const struct quorum_verdict *verdict)
{
	struct gossip_stage *s = state;
	const struct quorum_signed_state *st = event->state;
	int peer = from_peer(event), local = 0, passport, report;
	struct gossip_peer_state *p = NULL;
	struct gossip_hop hop;
	size_t picked[QUORUM_AUTHORITIES_MAX], n, held;
	const char *holders[QUORUM_AUTHORITIES_MAX], *sent_to[2 * QUORUM_AUTHORITIES_MAX + 1];
	uint8_t *copy, fp[DEDUP_FINGERPRINT_LEN];
	size_t len;
	const void *ops;
	void *svc, *owner;
	int err;

	sources_load(s);
	if (peer && (p = peer_find(s, event->peer)) != NULL) {
		p->received++;
		p->accepted += verdict->code == QUORUM_CONTINUE;
		p->last_seen_mono = clock_now_ns(CLOCK_MONOTONIC);
	}
	if (verdict->code != QUORUM_CONTINUE ||
	    !gossip_forwarded(s->forward, s->forward_count, st->event_id) ||
	    gossip_check(s->max_ttl, s->node_id, st->gossip, peer, &local) != NULL ||
	    gossip_next(s->max_ttl, s->node_id, st->gossip, local, &hop) != 0 ||
	    s->peer_count == 0)
		return;
	if (local && dedup_fingerprint(st, fp) == 0)
		dedup_insert(s->dedup, fp); /* our own: never forwarded twice */
	/* Nobody gets a copy it has: the sender, the origin and whoever the copy says it was
	 * sent to already. A malfeasance report is the exception: sent to every peer but the
	 * sender and the origin whatever the copy says, because "sent to" is not "received"
	 * (a datagram lost on a busy link would otherwise leave that peer without the
	 * evidence for good). Reports are rare: n - 2 datagrams a node, once each. */
	if (wire_holders(&event->encoded, holders, QUORUM_AUTHORITIES_MAX, &held, &owner) != 0)
		return;
	report = strcmp(st->event_id, QUORUM_EVENT_MALFEASANCE) == 0;
	n = gossip_pick(s->peer_ids, s->peer_count, peer ? event->peer : NULL, hop.origin,
			report ? NULL : holders, report ? 0 : held, report ? 0 : s->fanout,
			s->rotate++ % s->peer_count, picked);
	s->spared += s->peer_count - n;
	gossip_metric_add(s, s->metric_spared, (int64_t)(s->peer_count - n));
	hop.sent_to = sent_to;
	hop.sent_to_count = gossip_holders(holders, held, s->node_id, s->peer_ids, picked, n,
					   sent_to, 2 * QUORUM_AUTHORITIES_MAX + 1);
	passport = s->api->service_find(s->host, QUORUM_PASSPORT_SERVICE, &ops, &svc) == 0;
	err = n > 0 ? wire_forward_copy(&event->encoded, &hop, passport, &copy, &len) : -ENOENT;
	wire_holders_free(owner);
	if (err != 0)
		return;
	for (size_t i = 0; i < n; i++) {
		err = s->api->gossip_send(s->host, copy, len, s->peer_ids[picked[i]]);

		if (err == 0) {
			s->forwarded++;
			gossip_metric_add(s, s->metric_forwarded, 1);
			continue;
		}
		s->send_failed++;
		gossip_metric_add(s, s->metric_send_failed, 1);
		if (!s->send_failure_logged || err == -EMSGSIZE)
			s->api->log(
				s->host, QUORUM_LOG_WARNING,
				"gossip.send_failed peer=%s event_id=%s bytes=%zu error=\"%s\"",
				s->peer_ids[picked[i]], st->event_id, len, strerror(-err));
		s->send_failure_logged = 1;
	}
	free(copy);
}

/* ---- the service (quorum/gossip.h) ---- */

static uint64_t svc_converged_epochs(void *state)
{
	return ((struct gossip_stage *)state)->epochs.converged;
}

static int svc_last_converged_epoch(void *state, struct quorum_gossip_epoch *out)
{
	const struct epochs *e = &((struct gossip_stage *)state)->epochs;

	if (!e->has_last)
		return -ENOENT;
	memset(out, 0, sizeof(*out));
	out->epoch = e->last_epoch;
	out->epoch_ns = e->epoch_ns;
	out->authorities = e->last_count;
	out->threshold = e->last_threshold;
	return 0;
}

static size_t svc_peers_heard(void *state, struct quorum_gossip_peer *out, size_t cap)
{
	struct gossip_stage *s = state;

	sources_load(s);
	for (size_t i = 0; i < s->peer_count && i < cap; i++)
		out[i] = (struct quorum_gossip_peer){ .id = s->peers[i].id,
						      .received = s->peers[i].received,
						      .accepted = s->peers[i].accepted,
						      .last_seen_ns =
							      s->peers[i].last_seen_mono };
	return s->peer_count;
}

static uint64_t svc_reports(void *state)
{
	return ((struct gossip_stage *)state)->reports;
}

static const struct quorum_gossip_ops gossip_service = {
	.size = sizeof(struct quorum_gossip_ops),
	.converged_epochs = svc_converged_epochs,
	.last_converged_epoch = svc_last_converged_epoch,
	.peers_heard = svc_peers_heard,
	.reports = svc_reports,
};

/* ---- lifecycle ---- */

static void gossip_free(struct gossip_stage *s)
{
	dedup_free(s->dedup);
	evidence_free(s->evidence);
	free(s->sources);
	free(s->last_report_mono);
	free(s->peers);
	free(s->peer_ids);
	free(s->heard);
	free(s);
}

/* The forward list: the setting, or the malfeasance reports and the merkle
 * stages' witnessed checkpoints (sent one hop: only their evidence travels further). */
static int forward_load(struct gossip_stage *s)
{
	int count = s->api->config_length(s->host, "forward");

	if (count < 0) {
		/* Rounds no longer travel whole: each node sends digests of its own (issue
		 * 19); forward = [ "uml001.worker.ntp_sync", ... ] still relays them. */
		s->forward[0] = QUORUM_EVENT_MALFEASANCE;
		s->forward[1] = "uml001.merkle.*";
		s->forward_count = 2;
		return 0;
	}
	if (count > FORWARD_MAX) {
		s->api->log(s->host, QUORUM_LOG_ERROR,
			    "gossip.config_invalid setting=forward "
			    "reason=\"more than %d event ids\"",
			    FORWARD_MAX);
		return -EINVAL;
	}
	for (int i = 0; i < count; i++) {
		char path[32];
		const char *id = NULL;

		snprintf(path, sizeof(path), "forward.[%d]", i);
		if (s->api->config_string(s->host, path, &id) != 0 || id[0] == '\0' ||
		    strlen(id) > QUORUM_EVENT_ID_MAX) {
			s->api->log(s->host, QUORUM_LOG_ERROR,
				    "gossip.config_invalid setting=forward index=%d", i);
			return -EINVAL;
		}
		s->forward[s->forward_count++] = id;
	}
	return 0;
}

/* The stage's scalar settings, filled by the host from gossip_settings (defaults there);
 * `forward`, a list, is read by forward_load. */
struct gossip_settings {
	int64_t fanout;
	int64_t digest_fanout;
	int64_t max_ttl;
	int64_t dedup_window;
	int64_t evidence_window;
	int64_t epoch_ms;
};

static int gossip_init(struct quorum_host *host, const struct quorum_api *api, void **state)
{
	const struct gossip_settings *cfg;
	struct gossip_stage *s;
	int64_t fanout, max_ttl, dedup_window, evidence_window, epoch_ms, digest_fanout;
	uint32_t start = 0;
	int err;

	if (!QUORUM_API_HAS(api, sign_event) || !QUORUM_API_HAS(api, settings))
		return -ENOTSUP; /* a host without gossip (ABI < 1.6) or bindings */
	cfg = api->settings(host);
	if (cfg == NULL)
		return -EINVAL;
	fanout = cfg->fanout;
	max_ttl = cfg->max_ttl;
	dedup_window = cfg->dedup_window;
	evidence_window = cfg->evidence_window;
	epoch_ms = cfg->epoch_ms;
	digest_fanout = cfg->digest_fanout;
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return -ENOMEM;
	s->host = host;
	s->api = api;
	gossip_metrics_register(s);
	s->node_id = api->node_id(host);
	s->digest_fanout = (uint32_t)digest_fanout;
	/* Each node starts its turns at its own place, so that a round's digests spread. */
	RAND_bytes((uint8_t *)&start, sizeof(start));
	s->digest_rotate = start;
	s->fanout = (uint32_t)fanout;
	s->max_ttl = (uint32_t)max_ttl;
	epochs_init(&s->epochs, epoch_ms * 1000000);
	err = forward_load(s);
	if (err != 0)
		goto out_free;
	s->dedup = dedup_new((size_t)dedup_window);
	s->evidence = evidence_new((size_t)evidence_window);
	s->sources = calloc(QUORUM_AUTHORITIES_MAX, sizeof(*s->sources));
	s->last_report_mono = calloc(QUORUM_AUTHORITIES_MAX, sizeof(*s->last_report_mono));
	s->peers = calloc(QUORUM_AUTHORITIES_MAX, sizeof(*s->peers));
	s->peer_ids = calloc(QUORUM_AUTHORITIES_MAX, sizeof(*s->peer_ids));
	s->heard = calloc(HEARD_MAX, sizeof(*s->heard));
	if (s->heard == NULL || s->dedup == NULL || s->evidence == NULL || s->sources == NULL ||
	    s->last_report_mono == NULL || s->peers == NULL || s->peer_ids == NULL) {
		err = -ENOMEM;
		goto out_free;
	}
	err = api->service_publish(host, QUORUM_GOSSIP_SERVICE, &gossip_service, s);
	if (err != 0)
		goto out_free;
	api->log(host, QUORUM_LOG_NOTICE,
		 "gossip.started fanout=%" PRId64 " digest_fanout=%" PRId64 " max_ttl=%" PRId64
		 " forward=%zu"
		 " dedup_window=%" PRId64 " evidence_window=%" PRId64 " epoch_ms=%" PRId64,
		 fanout, digest_fanout, max_ttl, s->forward_count, dedup_window,
		 evidence_window, epoch_ms);
	*state = s;
	return 0;
out_free:
	gossip_free(s);
	return err;
}

static void gossip_fini(void *state)
{
	struct gossip_stage *s = state;

	s->api->log(s->host, QUORUM_LOG_INFO,
		    "gossip.stopped local=%" PRIu64 " refused=%" PRIu64 " forwarded=%" PRIu64
		    " spared=%" PRIu64 " send_failed=%" PRIu64 " epochs_converged=%" PRIu64
		    " reports=%" PRIu64 " digests_sent=%" PRIu64 " digests_heard=%" PRIu64
		    " disagreements=%" PRIu64 " attestations_sent=%" PRIu64,
		    s->local, s->refused, s->forwarded, s->spared, s->send_failed,
		    s->epochs.converged, s->reports, s->digests_sent, s->digests_heard,
		    s->disagreements, s->pushed);
	gossip_free(s);
}

static const struct quorum_setting gossip_settings[] = {
	QUORUM_SETTING_INT_AT("fanout", struct gossip_settings, fanout, 0,
			      QUORUM_AUTHORITIES_MAX, "0",
			      "peers each forwarded event is sent to (0: all)"),
	QUORUM_SETTING_INT_AT("digest_fanout", struct gossip_settings, digest_fanout, 0,
			      QUORUM_AUTHORITIES_MAX, "3",
			      "peers each round's digest is sent to, in turn (0: none)"),
	QUORUM_SETTING_INT_AT("max_ttl", struct gossip_settings, max_ttl, 1,
			      GOSSIP_MAX_TTL_LIMIT, "4",
			      "hops an event may make; copies claiming more are refused"),
	{ .name = "forward",
	  .type = QUORUM_SETTING_STRINGS,
	  .help = "event ids forwarded and accepted from peers; \"prefix*\" matches a prefix "
		  "(default: uml001.gossip.malfeasance, uml001.merkle.*)" },
	QUORUM_SETTING_INT_AT("dedup_window", struct gossip_settings, dedup_window, 1,
			      DEDUP_CAPACITY_MAX, "50000",
			      "fingerprints of forwarded events kept to refuse a copy seen "
			      "before"),
	QUORUM_SETTING_INT_AT("evidence_window", struct gossip_settings, evidence_window, 1,
			      EVIDENCE_CAPACITY_MAX, "4096",
			      "attestations kept to catch an authority signing one sequence "
			      "twice"),
	QUORUM_SETTING_INT_AT("epoch_ms", struct gossip_settings, epoch_ms, 1, 3600000, "1000",
			      "length of a convergence epoch; keep it equal to "
			      "rounds.interval_ms"),
	{ .type = QUORUM_SETTING_END },
};

static const struct quorum_stage_ops gossip_ops = {
	.size = sizeof(struct quorum_stage_ops),
	.process = gossip_process,
	.observe = gossip_observe,
};

QUORUM_PLUGIN_EXPORT const struct quorum_plugin quorum_plugin = {
	QUORUM_PLUGIN_HEADER(QUORUM_PLUGIN_STAGE, "gossip", PACKAGE_VERSION,
			     QUORUM_ROLE_GOSSIP),
	.settings = gossip_settings,
	.settings_size = sizeof(struct gossip_settings),
	.init = gossip_init,
	.fini = gossip_fini,
	.ops = &gossip_ops,
};
