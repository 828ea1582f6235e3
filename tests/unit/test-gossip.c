/* test-gossip.c -- the gossip stage: its pure rules (every seed reason, the next hop, the
 * forward list, the choice of peers), the forwarding set, the evidence index, the epochs,
 * the wire helpers and the malfeasance report, then the stage itself through a mock host
 * API table: the reasons it gives, what it forwards to whom, and the report it makes from
 * two validly signed attestations of one authority for one sequence. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <glib.h>
#include <openssl/sha.h>

#include <quorum/gossip.h>
#include <quorum/plugin.h>

#include "authority.pb-c.h"
#include "dedup.h"
#include "digest.h"
#include "epochs.h"
#include "evidence.h"
#include "keys-internal.h"
#include "malfeasance-report.h"
#include "mockhost.h"
#include "protodecode-internal.h"
#include "rules.h"
#include "settings-internal.h"
#include "testutil.h"
#include "timecodec-internal.h"
#include "wire.h"

/* ------------------------------- the rules ------------------------------- */

static const char *check(const struct quorum_gossip *g, int from_peer, int *local)
{
	return gossip_check(4, "node-1", g, from_peer, local);
}

static void test_rules_local_noop(void)
{
	struct quorum_gossip zero = { .origin_node_id = "" };
	int local = 0;

	g_assert_null(check(NULL, 0, &local));
	g_assert_cmpint(local, ==, 1);
	local = 0;
	g_assert_null(check(&zero, 0, &local)); /* present, all defaults: the same */
	g_assert_cmpint(local, ==, 1);
}

static void test_rules_hops_reset(void)
{
	struct quorum_gossip reset = { .hops = 0, .ttl = 4, .origin_node_id = "node-2" };
	struct quorum_gossip zero = { .origin_node_id = "" };
	int local;

	/* a peer's copy must say how far it came */
	g_assert_cmpstr(check(NULL, 1, &local), ==, GOSSIP_HOPS_RESET);
	g_assert_cmpint(local, ==, 0);
	g_assert_cmpstr(check(&zero, 1, &local), ==, GOSSIP_HOPS_RESET);
	g_assert_cmpstr(check(&reset, 1, &local), ==, GOSSIP_HOPS_RESET);
	g_assert_cmpstr(check(&reset, 0, &local), ==, GOSSIP_HOPS_RESET);
}

static void test_rules_self_echo(void)
{
	struct quorum_gossip echo = { .hops = 2, .ttl = 2, .origin_node_id = "node-1" };
	struct quorum_gossip reset_echo = { .hops = 0, .ttl = 0, .origin_node_id = "node-1" };
	int local;

	g_assert_cmpstr(check(&echo, 1, &local), ==, GOSSIP_SELF_ECHO);
	g_assert_cmpstr(check(&reset_echo, 1, &local), ==, GOSSIP_SELF_ECHO);
}

static void test_rules_overflow(void)
{
	static const struct {
		uint32_t hops, ttl;
		int overflow;
	} cases[] = {
		{ 1, 3, 0 },	      { 4, 0, 0 },	    { 2, 2, 0 }, { 1, 0, 0 },
		{ 5, 0, 1 },	      { 1, 4, 1 },	    { 2, 3, 1 }, { 4, 1, 1 },
		{ UINT32_MAX, 0, 1 }, { 1, UINT32_MAX, 1 },
	};
	int local;

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		struct quorum_gossip g = { .hops = cases[i].hops,
					   .ttl = cases[i].ttl,
					   .origin_node_id = "node-2" };
		const char *why = check(&g, 1, &local);

		if (cases[i].overflow)
			g_assert_cmpstr(why, ==, GOSSIP_HOPS_OVERFLOW);
		else
			g_assert_null(why);
		g_assert_cmpint(local, ==, 0);
	}
}

static void test_rules_origin_missing(void)
{
	struct quorum_gossip g = { .hops = 1, .ttl = 3, .origin_node_id = "" };
	int local;

	g_assert_cmpstr(check(&g, 1, &local), ==, GOSSIP_POLICY_REJECTED);
}

static void test_rules_forward_list(void)
{
	static const char *const list[] = { "uml001.worker.ntp_sync", "uml001.control.*" };
	static const char *const all[] = { "*" };

	g_assert_true(gossip_forwarded(list, 2, "uml001.worker.ntp_sync"));
	g_assert_false(gossip_forwarded(list, 2, "uml001.worker.ntp_sync.x"));
	g_assert_true(gossip_forwarded(list, 2, "uml001.control.set_mode"));
	g_assert_false(gossip_forwarded(list, 2, "uml001.controls"));
	g_assert_false(gossip_forwarded(list, 2, "uml001.passport.update"));
	g_assert_false(gossip_forwarded(list, 0, "uml001.worker.ntp_sync"));
	g_assert_true(gossip_forwarded(all, 1, "anything"));
}

static void test_rules_next_hop(void)
{
	struct quorum_gossip received = { .hops = 1, .ttl = 3, .origin_node_id = "node-3" };
	struct quorum_gossip last = { .hops = 4, .ttl = 0, .origin_node_id = "node-3" };
	struct gossip_hop hop;

	/* own events start at hops 0, ttl max: they leave with hops 1, ttl max - 1 */
	g_assert_cmpint(gossip_next(4, "node-1", NULL, 1, &hop), ==, 0);
	g_assert_cmpuint(hop.hops, ==, 1);
	g_assert_cmpuint(hop.ttl, ==, 3);
	g_assert_cmpstr(hop.origin, ==, "node-1");
	/* a copy keeps its origin, gains a hop, loses a ttl */
	g_assert_cmpint(gossip_next(4, "node-1", &received, 0, &hop), ==, 0);
	g_assert_cmpuint(hop.hops, ==, 2);
	g_assert_cmpuint(hop.ttl, ==, 2);
	g_assert_cmpstr(hop.origin, ==, "node-3");
	/* ttl 0: it travels no further */
	g_assert_cmpint(gossip_next(4, "node-1", &last, 0, &hop), ==, -1);
	g_assert_cmpint(gossip_next(4, "node-1", NULL, 0, &hop), ==, -1);
	/* max_ttl 1: one hop, and the receiver keeps it */
	g_assert_cmpint(gossip_next(1, "node-1", NULL, 1, &hop), ==, 0);
	g_assert_cmpuint(hop.hops, ==, 1);
	g_assert_cmpuint(hop.ttl, ==, 0);
	/* whatever is forwarded passes the next node's check */
	{
		struct quorum_gossip g = { .hops = hop.hops,
					   .ttl = hop.ttl,
					   .origin_node_id = "x" };
		int local;

		g_assert_null(gossip_check(1, "node-2", &g, 1, &local));
	}
}

static void test_rules_pick(void)
{
	static const char *const peers[] = { "node-2", "node-3", "node-4" };
	static const char *const held[] = { "node-4", "node-9" };
	size_t out[3], n;

	n = gossip_pick(peers, 3, NULL, "node-1", NULL, 0, 0, 0, out);
	g_assert_cmpuint(n, ==, 3);
	/* never back to the sender nor to the origin */
	n = gossip_pick(peers, 3, "node-2", "node-3", NULL, 0, 0, 0, out);
	g_assert_cmpuint(n, ==, 1);
	g_assert_cmpstr(peers[out[0]], ==, "node-4");
	n = gossip_pick(peers, 3, "node-2", "node-2", NULL, 0, 0, 0, out);
	g_assert_cmpuint(n, ==, 2);
	/* nor to a node the copy says has it already */
	n = gossip_pick(peers, 3, "node-2", "node-1", held, 2, 0, 0, out);
	g_assert_cmpuint(n, ==, 1);
	g_assert_cmpstr(peers[out[0]], ==, "node-3");
	n = gossip_pick(peers, 3, "node-2", "node-3", held, 2, 0, 0, out);
	g_assert_cmpuint(n, ==, 0);
	/* fanout limits, and the start spreads successive copies */
	n = gossip_pick(peers, 3, NULL, "node-1", NULL, 0, 1, 0, out);
	g_assert_cmpuint(n, ==, 1);
	g_assert_cmpstr(peers[out[0]], ==, "node-2");
	n = gossip_pick(peers, 3, NULL, "node-1", NULL, 0, 1, 1, out);
	g_assert_cmpstr(peers[out[0]], ==, "node-3");
	n = gossip_pick(peers, 3, NULL, "node-1", NULL, 0, 2, 2, out);
	g_assert_cmpuint(n, ==, 2);
	g_assert_cmpstr(peers[out[0]], ==, "node-4");
	g_assert_cmpstr(peers[out[1]], ==, "node-2");
	/* the excluded ones do not use up the fanout */
	n = gossip_pick(peers, 3, "node-2", NULL, held, 2, 1, 0, out);
	g_assert_cmpuint(n, ==, 1);
	g_assert_cmpstr(peers[out[0]], ==, "node-3");
	g_assert_cmpuint(gossip_pick(peers, 0, NULL, NULL, NULL, 0, 0, 0, out), ==, 0);
}

static void test_rules_holders(void)
{
	static const char *const peers[] = { "node-2", "node-3", "node-4" };
	static const char *const held[] = { "node-3", "node-2" };
	const size_t picked[] = { 2, 1 };
	const char *out[8];

	/* what came, this node, then the peers it sends to, each once */
	g_assert_cmpuint(gossip_holders(held, 2, "node-1", peers, picked, 2, out, 8), ==, 4);
	g_assert_cmpstr(out[0], ==, "node-3");
	g_assert_cmpstr(out[1], ==, "node-2");
	g_assert_cmpstr(out[2], ==, "node-1");
	g_assert_cmpstr(out[3], ==, "node-4");
	/* an origin's copy: itself and every peer */
	g_assert_cmpuint(gossip_holders(NULL, 0, "node-1", peers, picked, 2, out, 8), ==, 3);
	g_assert_cmpstr(out[0], ==, "node-1");
	g_assert_cmpstr(out[1], ==, "node-4");
	g_assert_cmpstr(out[2], ==, "node-3");
	/* bounded by CAP */
	g_assert_cmpuint(gossip_holders(held, 2, "node-1", peers, picked, 2, out, 3), ==, 3);
}

/* ------------------------------ the dedup set ------------------------------ */

static void fp_of(uint32_t i, uint8_t fp[DEDUP_FINGERPRINT_LEN])
{
	SHA256((const uint8_t *)&i, sizeof(i), fp);
}

static void test_dedup_window(void)
{
	struct dedup *d = dedup_new(100);
	uint8_t fp[DEDUP_FINGERPRINT_LEN];

	g_assert_nonnull(d);
	g_assert_null(dedup_new(0));
	fp_of(0, fp);
	g_assert_cmpint(dedup_contains(d, fp), ==, 0);
	g_assert_cmpint(dedup_insert(d, fp), ==, 1);
	g_assert_cmpint(dedup_insert(d, fp), ==, 0); /* a duplicate */
	g_assert_cmpint(dedup_contains(d, fp), ==, 1);
	for (uint32_t i = 1; i < 1000; i++) {
		fp_of(i, fp);
		g_assert_cmpint(dedup_insert(d, fp), ==, 1);
	}
	g_assert_cmpuint(dedup_count(d), ==, 100);
	/* the oldest are gone, the last 100 are there */
	for (uint32_t i = 0; i < 1000; i++) {
		fp_of(i, fp);
		g_assert_cmpint(dedup_contains(d, fp), ==, i >= 900);
	}
	fp_of(5, fp); /* evicted long ago: new again */
	g_assert_cmpint(dedup_insert(d, fp), ==, 1);
	fp_of(900, fp); /* ... which evicted the oldest, 900 */
	g_assert_cmpint(dedup_contains(d, fp), ==, 0);
	/* oldest first: 901 .. 999, then 5 (the replay window's compaction order) */
	for (uint32_t i = 0; i < 99; i++) {
		fp_of(901 + i, fp);
		g_assert_cmpmem(dedup_at(d, i), DEDUP_FINGERPRINT_LEN, fp, sizeof(fp));
	}
	fp_of(5, fp);
	g_assert_cmpmem(dedup_at(d, 99), DEDUP_FINGERPRINT_LEN, fp, sizeof(fp));
	g_assert_null(dedup_at(d, 100));
	dedup_free(d);
	dedup_free(NULL);
}

/* ---------------------- attestations, rounds, reports ---------------------- */

/* A signed attestation of AUTHORITY (KEY) for SEQUENCE at MIDPOINT: its SignedState. */
static void attestation(EVP_PKEY *key, const char *authority, uint64_t sequence,
			int64_t midpoint, uint8_t **out, size_t *len)
{
	static const uint8_t nonce[QUORUM_NONCE_LEN] = { 7 };
	char id[KEY_ID_HEX_LEN + 1];
	struct quorum_attestation f = { .authority_id = authority,
					.key_id = id,
					.nonce = { nonce, sizeof(nonce) },
					.midpoint_ns = midpoint,
					.radius_ns = 1000,
					.sequence = sequence,
					.status = QUORUM_AUTHORITY_SYNCHRONISED };
	struct datagram d;
	const char *reason;
	uint8_t *datagram;
	size_t datagram_len;

	g_assert_cmpint(key_id(key, id), ==, 0);
	g_assert_cmpint(attestation_response(key, id, &f, &datagram, &datagram_len), ==, 0);
	g_assert_cmpint(datagram_decode(datagram, datagram_len, &d, &reason), ==, 0);
	g_assert_cmpint(proto_encode(&d.message->time_response->base, out, len), ==, 0);
	datagram_release(&d);
	free(datagram);
}

/* The SHA-256 of an attestation's signed-state bytes. */
static void signed_digest(const uint8_t *encoded, size_t len, uint8_t out[32])
{
	Uml001__SignedState *s = uml001__signed_state__unpack(NULL, len, encoded);
	struct quorum_signed_state view = { .logical_time_ns = s->logical_time_ns,
					    .event_id = s->event_id,
					    .key_id = s->key_id,
					    .payload = { s->payload.data, s->payload.len } };
	uint8_t msg[1024];
	long n = quorum_signed_state_message(&view, msg, sizeof(msg));

	g_assert_cmpint(n, >, 0);
	SHA256(msg, (size_t)n, out);
	uml001__signed_state__free_unpacked(s, NULL);
}

static void test_evidence_index(void)
{
	struct evidence *e = evidence_new(3);
	struct evidence_entry *prev = NULL;
	uint8_t d1[32], d2[32];
	static const uint8_t enc1[] = "first", enc2[] = "second";

	memset(d1, 1, sizeof(d1));
	memset(d2, 2, sizeof(d2));
	g_assert_cmpint(evidence_offer(e, "node-4", 7, d1, enc1, sizeof(enc1), &prev), ==,
			EVIDENCE_NEW);
	g_assert_cmpint(evidence_offer(e, "node-4", 7, d1, enc1, sizeof(enc1), &prev), ==,
			EVIDENCE_SAME);
	g_assert_cmpint(evidence_offer(e, "node-4", 7, d2, enc2, sizeof(enc2), &prev), ==,
			EVIDENCE_CONFLICT);
	g_assert_nonnull(prev);
	g_assert_cmpmem(prev->encoded, prev->len, enc1, sizeof(enc1)); /* the first is kept */
	g_assert_cmpuint(prev->sequence, ==, 7);
	/* another sequence, another authority: no conflict */
	g_assert_cmpint(evidence_offer(e, "node-4", 8, d2, enc2, sizeof(enc2), &prev), ==,
			EVIDENCE_NEW);
	g_assert_cmpint(evidence_offer(e, "node-3", 7, d2, enc2, sizeof(enc2), &prev), ==,
			EVIDENCE_NEW);
	g_assert_cmpuint(evidence_count(e), ==, 3);
	/* bounded: one more evicts (node-4, 7), whose conflict can no longer be seen */
	g_assert_cmpint(evidence_offer(e, "node-2", 1, d1, enc1, sizeof(enc1), &prev), ==,
			EVIDENCE_NEW);
	g_assert_cmpuint(evidence_count(e), ==, 3);
	g_assert_cmpint(evidence_offer(e, "node-4", 7, d2, enc2, sizeof(enc2), &prev), ==,
			EVIDENCE_NEW);
	g_assert_cmpint(evidence_offer(e, "node-4", 8, d1, enc1, sizeof(enc1), &prev), ==,
			EVIDENCE_NEW); /* (node-4, 8) went too */
	g_assert_cmpint(evidence_offer(e, "node-4", 9, d1, enc1, 0, &prev), ==, -EINVAL);
	evidence_free(e);
	evidence_free(NULL);
}

/* The verifier of the tests: KEY for AUTHORITY, under its key id. */
struct keybook {
	const char *authority;
	EVP_PKEY *key;
	int calls;
};

static int keybook_verify(void *arg, const char *authority_id, const char *claimed_key_id,
			  const void *msg, size_t len, const void *sig, size_t sig_len)
{
	struct keybook *k = arg;
	char id[KEY_ID_HEX_LEN + 1];

	k->calls++;
	key_id(k->key, id);
	if (strcmp(authority_id, k->authority) != 0 || strcmp(claimed_key_id, id) != 0)
		return -ENOENT;
	return key_verify(k->key, msg, len, sig, sig_len) == 0 ? 0 : -EBADMSG;
}

static int report_check(const uint8_t *report, size_t len, struct keybook *k,
			struct malfeasance_summary *sum, const char **why)
{
	*why = NULL;
	return malfeasance_report_check(report, len, keybook_verify, k, sum, why);
}

static void test_report_two_attestations(void)
{
	EVP_PKEY *key = key_generate(), *other = key_generate();
	struct keybook book = { "node-4", key, 0 };
	struct malfeasance_summary sum;
	uint8_t *a, *b, *c, *x, *report, *swapped, da[32], db[32];
	size_t a_len, b_len, c_len, x_len, len, swapped_len;
	const char *why;
	char hex[65];

	attestation(key, "node-4", 7, 1800000000000000000LL, &a, &a_len);
	attestation(key, "node-4", 7, 1800000000005000000LL, &b, &b_len);
	signed_digest(a, a_len, da);
	signed_digest(b, b_len, db);
	g_assert_cmpint(malfeasance_report_encode("node-4", 7, a, a_len, b, b_len, "node-1",
						  &report, &len),
			==, 0);
	g_assert_cmpint(report_check(report, len, &book, &sum, &why), ==, 0);
	g_assert_cmpint(book.calls, ==, 2); /* both signatures */
	g_assert_cmpstr(sum.authority_id, ==, "node-4");
	g_assert_cmpstr(sum.reporter, ==, "node-1");
	g_assert_cmpuint(sum.sequence, ==, 7);
	/* one pair, one order: the lower digest first, whichever was seen first */
	g_assert_cmpmem(sum.first_digest, 32, memcmp(da, db, 32) < 0 ? da : db, 32);
	g_assert_cmpmem(sum.second_digest, 32, memcmp(da, db, 32) < 0 ? db : da, 32);
	g_assert_cmpint(malfeasance_report_encode("node-4", 7, b, b_len, a, a_len, "node-1",
						  &swapped, &swapped_len),
			==, 0);
	g_assert_cmpmem(swapped, swapped_len, report, len);
	free(swapped);
	hex_encode(sum.first_digest, MALFEASANCE_DIGEST_LEN, hex);
	g_assert_cmpuint(strlen(hex), ==, 64);
	/* another key's view: the signatures do not verify */
	book.key = other;
	g_assert_cmpint(report_check(report, len, &book, &sum, &why), ==, -1);
	g_assert_cmpstr(why, ==, "unknown_key");
	book.key = key;
	free(report);

	/* the same attestation twice is no evidence */
	g_assert_cmpint(malfeasance_report_encode("node-4", 7, a, a_len, a, a_len, "node-1",
						  &report, &len),
			==, 0);
	g_assert_cmpint(report_check(report, len, &book, &sum, &why), ==, -1);
	g_assert_cmpstr(why, ==, "attestations_identical");
	free(report);
	/* another sequence, another authority */
	attestation(key, "node-4", 8, 1800000000000000000LL, &c, &c_len);
	g_assert_cmpint(malfeasance_report_encode("node-4", 7, a, a_len, c, c_len, "node-1",
						  &report, &len),
			==, 0);
	g_assert_cmpint(report_check(report, len, &book, &sum, &why), ==, -1);
	g_assert_cmpstr(why, ==, "attestation_other_sequence");
	free(report);
	attestation(key, "node-3", 7, 1800000000000000000LL, &x, &x_len);
	g_assert_cmpint(malfeasance_report_encode("node-4", 7, a, a_len, x, x_len, "node-1",
						  &report, &len),
			==, 0);
	g_assert_cmpint(report_check(report, len, &book, &sum, &why), ==, -1);
	g_assert_cmpstr(why, ==, "attestation_other_authority");
	free(report);
	free(x);
	/* signed by another key under the authority's key id: a forgery proves nothing */
	{
		char id[KEY_ID_HEX_LEN + 1];
		Uml001__SignedState *s = uml001__signed_state__unpack(NULL, b_len, b);
		struct quorum_signed_state view = { .logical_time_ns = s->logical_time_ns,
						    .event_id = s->event_id,
						    .key_id = s->key_id,
						    .payload = { s->payload.data,
								 s->payload.len } };
		uint8_t sig[KEY_SIGNATURE_LEN], *forged;
		size_t forged_len;

		key_id(key, id);
		g_assert_cmpint(signed_state_sign(other, &view, sig), ==, 0);
		memcpy(s->signature.data, sig, sizeof(sig));
		g_assert_cmpint(proto_encode(&s->base, &forged, &forged_len), ==, 0);
		uml001__signed_state__free_unpacked(s, NULL);
		g_assert_cmpint(malfeasance_report_encode("node-4", 7, a, a_len, forged,
							  forged_len, "node-1", &report, &len),
				==, 0);
		g_assert_cmpint(report_check(report, len, &book, &sum, &why), ==, -1);
		g_assert_cmpstr(why, ==, "signature_invalid");
		free(report);
		free(forged);
	}
	/* strictness: an unknown field, a missing reporter, the wrong order, garbage */
	g_assert_cmpint(malfeasance_report_encode("node-4", 7, a, a_len, b, b_len, "node-1",
						  &report, &len),
			==, 0);
	{
		uint8_t *longer = g_malloc(len + 2);

		memcpy(longer, report, len);
		longer[len] = 15 << 3 | 0; /* field 15, varint 1 */
		longer[len + 1] = 1;
		g_assert_cmpint(report_check(longer, len + 2, &book, &sum, &why), ==, -1);
		g_assert_cmpstr(why, ==, "report_not_canonical");
		g_free(longer);
	}
	{
		Uml001__MalfeasanceReport *r =
			uml001__malfeasance_report__unpack(NULL, len, report);
		Uml001__SignedState *t;
		char *reporter = r->reporter_node_id;
		uint8_t *again;
		size_t again_len;

		t = r->first;
		r->first = r->second;
		r->second = t;
		g_assert_cmpint(proto_encode(&r->base, &again, &again_len), ==, 0);
		g_assert_cmpint(report_check(again, again_len, &book, &sum, &why), ==, -1);
		g_assert_cmpstr(why, ==, "attestations_unordered");
		free(again);
		r->reporter_node_id = (char *)"";
		g_assert_cmpint(proto_encode(&r->base, &again, &again_len), ==, 0);
		g_assert_cmpint(report_check(again, again_len, &book, &sum, &why), ==, -1);
		g_assert_cmpstr(why, ==, "report_malformed");
		free(again);
		r->reporter_node_id = reporter; /* the unpacked one, freed with the message */
		protobuf_c_message_free_unpacked(&r->base, NULL);
	}
	g_assert_cmpint(report_check((const uint8_t *)"\xff\xff", 2, &book, &sum, &why), ==,
			-1);
	g_assert_cmpstr(why, ==, "report_undecodable");
	free(report);
	free(a);
	free(b);
	free(c);
	EVP_PKEY_free(key);
	EVP_PKEY_free(other);
}

/* ------------------------------- the epochs ------------------------------- */

static void test_epochs_count(void)
{
	struct epochs e;
	const int64_t ms = 1000000, now = 1800000000123 * ms;
	int64_t epoch;
	uint32_t count;

	epochs_init(&e, 1000 * ms);
	g_assert_cmpint(epochs_of(&e, now), ==, 1800000000);
	g_assert_cmpint(epochs_of(&e, -1), ==, -1);
	g_assert_cmpint(epochs_of(&e, -1000 * ms), ==, -1);
	g_assert_cmpint(epochs_of(&e, -1000 * ms - 1), ==, -2);
	/* threshold n - f = 3: two authorities are not enough, the same one twice neither */
	g_assert_cmpint(epochs_add(&e, 0, now, now, 3, &epoch, &count), ==, 0);
	g_assert_cmpint(epochs_add(&e, 1, now - 100 * ms, now, 3, &epoch, &count), ==, 0);
	g_assert_cmpint(epochs_add(&e, 1, now + 500 * ms, now, 3, &epoch, &count), ==, 0);
	g_assert_cmpuint(count, ==, 2);
	g_assert_cmpuint(e.converged, ==, 0);
	g_assert_false(e.has_last);
	/* the third distinct one converges it, once */
	g_assert_cmpint(epochs_add(&e, 2, now, now, 3, &epoch, &count), ==, 1);
	g_assert_cmpint(epoch, ==, 1800000000);
	g_assert_cmpuint(count, ==, 3);
	g_assert_cmpint(epochs_add(&e, 3, now, now, 3, &epoch, &count), ==, 0);
	g_assert_cmpuint(e.converged, ==, 1);
	g_assert_true(e.has_last);
	g_assert_cmpint(e.last_epoch, ==, 1800000000);
	g_assert_cmpuint(e.last_count, ==, 4);
	g_assert_cmpuint(e.last_threshold, ==, 3);
	/* the epoch before converging later does not move the last one back */
	for (uint32_t i = 0; i < 3; i++)
		epochs_add(&e, i, now - 1000 * ms, now, 3, &epoch, &count);
	g_assert_cmpuint(e.converged, ==, 2);
	g_assert_cmpint(e.last_epoch, ==, 1800000000);
	/* the window: one epoch ahead counts, two do not; EPOCHS_WINDOW back does not */
	g_assert_cmpint(epochs_add(&e, 0, now + 1000 * ms, now, 3, &epoch, &count), ==, 0);
	g_assert_cmpint(epochs_add(&e, 0, now + 2000 * ms, now, 3, &epoch, &count), ==, -1);
	g_assert_cmpint(
		epochs_add(&e, 0, now - EPOCHS_WINDOW * 1000 * ms, now, 3, &epoch, &count), ==,
		-1);
	g_assert_cmpint(epochs_add(&e, QUORUM_AUTHORITIES_MAX, now, now, 3, &epoch, &count), ==,
			-1);
	/* a slot is reused by a later epoch (EPOCHS_WINDOW on), counting from zero */
	{
		int64_t later = now + EPOCHS_WINDOW * 1000 * ms;

		g_assert_cmpint(epochs_add(&e, 0, later, later, 3, &epoch, &count), ==, 0);
		g_assert_cmpuint(count, ==, 1);
		/* ... and the epoch it replaced is now out of the window */
		g_assert_cmpint(epochs_add(&e, 1, now, later, 3, &epoch, &count), ==, -1);
	}
	/* threshold 0 (no authorities configured) counts nothing as converged */
	epochs_init(&e, 1000 * ms);
	g_assert_cmpint(epochs_add(&e, 0, now, now, 0, &epoch, &count), ==, 0);
	g_assert_cmpuint(e.converged, ==, 0);
}

/* -------------------------------- the wire -------------------------------- */

static void test_wire_forward_copy(void)
{
	EVP_PKEY *key = key_generate();
	uint8_t *a, *copy;
	size_t a_len, len;
	struct quorum_bytes enc;
	static const char *const holders[] = { "node-3", "node-1" };
	struct gossip_hop hop = {
		.hops = 2, .ttl = 2, .origin = "node-3", .sent_to = holders, .sent_to_count = 2
	};
	const char *ids[4];
	size_t held;
	void *owner;
	Uml001__SignedState *in, *out;
	uint8_t din[32], dout[32];

	attestation(key, "node-4", 7, 1800000000000000000LL, &a, &a_len);
	enc = (struct quorum_bytes){ a, a_len };
	g_assert_cmpint(wire_forward_copy(&enc, &hop, 1, &copy, &len), ==, 0);
	in = uml001__signed_state__unpack(NULL, a_len, a);
	out = uml001__signed_state__unpack(NULL, len, copy);
	g_assert_nonnull(out);
	g_assert_nonnull(out->gossip);
	g_assert_cmpuint(out->gossip->hops, ==, 2);
	g_assert_cmpuint(out->gossip->ttl, ==, 2);
	g_assert_true(out->gossip->validated);
	g_assert_cmpstr(out->gossip->origin_node_id, ==, "node-3");
	g_assert_cmpuint(out->gossip->n_sent_to, ==, 2);
	g_assert_cmpstr(out->gossip->sent_to[1], ==, "node-1");
	/* ... which the next node reads back */
	g_assert_cmpint(
		wire_holders(&(struct quorum_bytes){ copy, len }, ids, 4, &held, &owner), ==,
		0);
	g_assert_cmpuint(held, ==, 2);
	g_assert_cmpstr(ids[0], ==, "node-3");
	wire_holders_free(owner);
	g_assert_cmpint(wire_holders(&enc, ids, 4, &held, &owner), ==, 0);
	g_assert_cmpuint(held, ==, 0);
	wire_holders_free(owner);
	/* the signed part is untouched: the copy needs no key */
	g_assert_cmpstr(out->event_id, ==, in->event_id);
	g_assert_cmpstr(out->key_id, ==, in->key_id);
	g_assert_cmpmem(out->signature.data, out->signature.len, in->signature.data,
			in->signature.len);
	signed_digest(a, a_len, din);
	signed_digest(copy, len, dout);
	g_assert_cmpmem(din, 32, dout, 32);
	/* canonical: the host's strict decoder takes it as it is */
	{
		const char *reason = NULL;
		ProtobufCMessage *m = proto_decode_strict(&uml001__signed_state__descriptor,
							  copy, len, "envelope", &reason);

		g_assert_nonnull(m);
		protobuf_c_message_free_unpacked(m, NULL);
	}
	uml001__signed_state__free_unpacked(in, NULL);
	uml001__signed_state__free_unpacked(out, NULL);
	free(copy);
	enc = (struct quorum_bytes){ (const uint8_t *)"\xff", 1 };
	g_assert_cmpint(wire_forward_copy(&enc, &hop, 0, &copy, &len), ==, -EINVAL);
	free(a);
	EVP_PKEY_free(key);
}

/* A SyncRound of NODE with the attestations ATT (COUNT; NULL: an NTP observation). */
static void round_payload(const char *node, uint8_t *const *att, const size_t *att_len,
			  size_t count, uint8_t **out, size_t *len)
{
	Uml001__SyncRound r = UML001__SYNC_ROUND__INIT;
	Uml001__Observation obs[4], *list[4];
	Uml001__SignedState *states[4] = { NULL };
	Uml001__TimeAttestation ntp = UML001__TIME_ATTESTATION__INIT;

	g_assert_cmpuint(count, <=, 4);
	r.node_id = (char *)node;
	r.round = 1;
	for (size_t i = 0; i < count; i++) {
		uml001__observation__init(&obs[i]);
		obs[i].source_id = (char *)"src";
		if (att[i] != NULL) {
			states[i] = uml001__signed_state__unpack(NULL, att_len[i], att[i]);
			obs[i].attestation = states[i];
		} else {
			ntp.midpoint_ns = 1;
			obs[i].ntp = &ntp;
		}
		list[i] = &obs[i];
	}
	r.n_observations = count;
	r.observations = list;
	g_assert_cmpint(proto_encode(&r.base, out, len), ==, 0);
	for (size_t i = 0; i < count; i++) {
		if (states[i] != NULL)
			uml001__signed_state__free_unpacked(states[i], NULL);
	}
}

static void test_wire_round_attestations(void)
{
	EVP_PKEY *key = key_generate();
	uint8_t *a, *payload, digest[32];
	size_t a_len, len, count;
	uint8_t *att[2];
	size_t att_len[2];
	struct wire_attestation *list;
	struct quorum_bytes p;

	attestation(key, "node-4", 7, 1800000000000000000LL, &a, &a_len);
	att[0] = a;
	att_len[0] = a_len;
	att[1] = NULL;
	att_len[1] = 0;
	round_payload("node-2", att, att_len, 2, &payload, &len);
	p = (struct quorum_bytes){ payload, len };
	g_assert_cmpint(wire_round_attestations(&p, &list, &count), ==, 0);
	g_assert_cmpuint(count, ==, 2);
	g_assert_cmpmem(list[0].encoded, list[0].len, a, a_len);
	signed_digest(a, a_len, digest);
	g_assert_cmpmem(list[0].digest, 32, digest, 32);
	g_assert_null(list[1].encoded); /* an NTP reading is signed by nobody */
	wire_attestations_free(list, count);
	p = (struct quorum_bytes){ (const uint8_t *)"\xff", 1 };
	g_assert_cmpint(wire_round_attestations(&p, &list, &count), ==, -EINVAL);
	free(payload);
	free(a);
	EVP_PKEY_free(key);
}

/* ------------------------ the stage, with a mock host ------------------------ */

#define SENT_MAX 64

/* The host: tests/mockhost, with the entries only these tests can answer (what was sent,
 * signed and ingested, the round a sync event decodes to) recorded here. */
static struct mockhost host;

static struct {
	int signed_own;		    /* digests and attestations this node signed */
	struct quorum_round *round; /* what round_decode answers (NULL: -EINVAL) */
	EVP_PKEY *authority_key;    /* node-4's, for authority_verify */
	int sent;
	char sent_to[SENT_MAX][16];
	Uml001__SignedState *sent_state[SENT_MAX];
	int ingested, signed_events;
	char ingested_event[QUORUM_EVENT_ID_MAX + 1];
	uint8_t *ingested_payload;
	size_t ingested_len;
	const void *service;
	void *service_state;
	struct settings_struct *settings; /* api->settings: made by stage_new */
} mock;

static int mock_round_decode(struct quorum_host *h, const struct quorum_event *event,
			     struct quorum_round **out, const char **reason)
{
	if (mock.round == NULL) {
		*reason = "round_decode_failed";
		return -EINVAL;
	}
	*out = mock.round;
	return 0;
}

static void mock_round_free(struct quorum_host *h, struct quorum_round *round)
{
}

static int mock_authority_verify(struct mockhost *m, const char *authority_id,
				 const char *claimed_key_id, const void *msg, size_t len,
				 const void *sig, size_t sig_len)
{
	struct keybook book = { "node-4", mock.authority_key, 0 };

	return keybook_verify(&book, authority_id, claimed_key_id, msg, len, sig, sig_len);
}

static int mock_gossip_send(struct quorum_host *h, const void *data, size_t len,
			    const char *peer_id)
{
	g_assert_nonnull(peer_id);
	g_assert_cmpint(mock.sent, <, SENT_MAX);
	snprintf(mock.sent_to[mock.sent], sizeof(mock.sent_to[0]), "%s", peer_id);
	mock.sent_state[mock.sent] = uml001__signed_state__unpack(NULL, len, data);
	g_assert_nonnull(mock.sent_state[mock.sent]);
	mock.sent++;
	return 0;
}

static int mock_sign_event(struct quorum_host *h, struct quorum_signed_state *state,
			   uint8_t sig[64])
{
	memset(sig, 0x5a, 64);
	state->key_id = "node-1-key";
	state->signature.data = sig;
	state->signature.len = 64;
	if (strcmp(state->event_id, QUORUM_EVENT_DIGEST) == 0 ||
	    strcmp(state->event_id, QUORUM_EVENT_GOSSIP_ATTESTATION) == 0) {
		mock.signed_own++;
		return 0;
	}
	g_assert_cmpstr(state->event_id, ==, QUORUM_EVENT_MALFEASANCE);
	mock.signed_events++;
	return 0;
}

static int mock_ingest(struct quorum_host *h, const struct quorum_signed_state *state,
		       const char *peer, struct quorum_verdict *out)
{
	mock.ingested++;
	snprintf(mock.ingested_event, sizeof(mock.ingested_event), "%s", state->event_id);
	free(mock.ingested_payload);
	mock.ingested_payload = g_memdup2(state->payload.data, state->payload.len);
	mock.ingested_len = state->payload.len;
	g_assert_cmpuint(state->signature.len, ==, 64);
	return QUORUM_AGAIN; /* queued behind the event in flight */
}

extern const struct quorum_plugin quorum_plugin;

static void sent_clear(void)
{
	for (int i = 0; i < mock.sent; i++)
		uml001__signed_state__free_unpacked(mock.sent_state[i], NULL);
	mock.sent = 0;
}

/* Unless default_forward: forward = the rounds whole, the reports, the merkle events (the
 * default before issue 19, still a configuration). digest_fanout is 0 unless DIGEST_FANOUT
 * (a number) says otherwise; fanout and max_ttl are the stage's defaults unless set. */
static void mock_setup(int default_forward, const char *digest_fanout)
{
	static const char *const ids[] = { "node-1", "node-2", "node-3", "node-4" };

	sent_clear();
	free(mock.ingested_payload);
	settings_struct_free(mock.settings);
	memset(&mock, 0, sizeof(mock));
	mockhost_release(&host);
	mockhost_init(&host);
	host.authorities = (struct quorum_authority_set){ .n = 4, .f = 1 };
	host.authority_verify = mock_authority_verify;
	host.api.ingest = mock_ingest;
	host.api.round_decode = mock_round_decode;
	host.api.round_free = mock_round_free;
	host.api.gossip_send = mock_gossip_send;
	host.api.sign_event = mock_sign_event;
	for (int i = 0; i < 4; i++)
		g_assert_cmpint(mockhost_add_source(&host, ids[i]), ==, 0);
	g_assert_cmpint(mockhost_set(&host, "digest_fanout", digest_fanout), ==, 0);
	if (!default_forward) {
		g_assert_cmpint(mockhost_set(&host, "forward.[0]", QUORUM_EVENT_SYNC_ROUND), ==,
				0);
		g_assert_cmpint(mockhost_set(&host, "forward.[1]", QUORUM_EVENT_MALFEASANCE),
				==, 0);
		g_assert_cmpint(mockhost_set(&host, "forward.[2]", "uml001.merkle.*"), ==, 0);
	}
}

static void mock_reset(void)
{
	mock_setup(0, "0");
}

static void *stage_new(void)
{
	void *state = NULL;
	/* The struct the host fills: the table's defaults, then the scalars the test set with
	 * mockhost_set (lists such as forward stay with config_length and config_string). */
	GString *group = g_string_new(NULL);

	for (size_t i = 0; i < host.config_count; i++)
		if (strchr(host.config[i].path, '.') == NULL)
			g_string_append_printf(group, "%s = %s; ", host.config[i].path,
					       host.config[i].value);
	settings_struct_free(mock.settings);
	mock.settings = testutil_settings(&quorum_plugin, group->str);
	g_string_free(group, TRUE);
	host.settings = settings_struct_data(mock.settings);

	g_assert_cmpint(quorum_plugin.init(mockhost_host(&host), &host.api, &state), ==, 0);
	mock.service_state = mockhost_service(&host, QUORUM_GOSSIP_SERVICE, &mock.service);
	g_assert_nonnull(mock.service);
	return state;
}

static const struct quorum_stage_ops *ops(void)
{
	return quorum_plugin.ops;
}

/* An event: EVENT_ID with PAYLOAD from SOURCE (PEER), gossip metadata G (may be NULL). */
struct test_event {
	struct quorum_signed_state st;
	struct quorum_event ev;
	uint8_t *encoded;
	uint8_t sig[64];
};

/* The sent_to list event_make gives a copy with gossip metadata (NULL-terminated). */
static const char *const *event_sent_to;

static void event_make(struct test_event *t, const char *event_id, const char *payload,
		       const char *source, const char *peer, const struct quorum_gossip *g)
{
	Uml001__SignedState s = UML001__SIGNED_STATE__INIT;
	Uml001__GossipState gs = UML001__GOSSIP_STATE__INIT;
	size_t len;

	memset(t, 0, sizeof(*t));
	memset(t->sig, payload[0], sizeof(t->sig));
	t->st = (struct quorum_signed_state){
		.logical_time_ns = 1800000000000000000ULL,
		.event_id = event_id,
		.payload = { (const uint8_t *)payload, strlen(payload) },
		.signature = { t->sig, sizeof(t->sig) },
		.key_id = "k",
		.gossip = g,
	};
	s.logical_time_ns = t->st.logical_time_ns;
	s.event_id = (char *)event_id;
	s.payload.data = (uint8_t *)payload;
	s.payload.len = strlen(payload);
	s.signature.data = t->sig;
	s.signature.len = sizeof(t->sig);
	s.key_id = (char *)"k";
	if (g != NULL) {
		gs.hops = g->hops;
		gs.ttl = g->ttl;
		gs.origin_node_id = (char *)g->origin_node_id;
		for (gs.n_sent_to = 0;
		     event_sent_to != NULL && event_sent_to[gs.n_sent_to] != NULL;
		     gs.n_sent_to++)
			;
		gs.sent_to = (char **)event_sent_to;
		s.gossip = &gs;
	}
	g_assert_cmpint(proto_encode(&s.base, &t->encoded, &len), ==, 0);
	t->ev = (struct quorum_event){ .magic = QUORUM_EVENT_MAGIC,
				       .size = sizeof(t->ev),
				       .state = &t->st,
				       .encoded = { t->encoded, len },
				       .source = source,
				       .peer = peer,
				       .received_ns = 1800000000000000000LL };
}

static int process(void *state, struct test_event *t, const char **reason)
{
	*reason = NULL;
	return ops()->process(state, &t->ev, reason);
}

static void observe(void *state, struct test_event *t, int code)
{
	struct quorum_verdict v = { .code = code };

	ops()->observe(state, &t->ev, &v);
}

static void test_stage_reasons(void)
{
	struct quorum_gossip echo = { 1, 3, 0, "node-1" }, reset = { 0, 4, 0, "node-2" },
			     over = { 3, 2, 0, "node-2" }, ok = { 1, 3, 0, "node-2" };
	struct test_event t;
	const char *reason;
	void *s;

	mock_reset();
	s = stage_new();
	/* this node's own round: nothing to check (gossip_local_noop) */
	event_make(&t, QUORUM_EVENT_SYNC_ROUND, "a", "timecore", "", NULL);
	g_assert_cmpint(process(s, &t, &reason), ==, QUORUM_CONTINUE);
	free(t.encoded);
	/* from a peer: each seed reason */
	event_make(&t, QUORUM_EVENT_SYNC_ROUND, "b", QUORUM_GOSSIP_SOURCE, "node-2", NULL);
	g_assert_cmpint(process(s, &t, &reason), ==, QUORUM_REJECT);
	g_assert_cmpstr(reason, ==, "gossip_hops_reset_rejected");
	free(t.encoded);
	event_make(&t, QUORUM_EVENT_SYNC_ROUND, "c", QUORUM_GOSSIP_SOURCE, "node-2", &echo);
	g_assert_cmpint(process(s, &t, &reason), ==, QUORUM_REJECT);
	g_assert_cmpstr(reason, ==, "gossip_self_echo_rejected");
	free(t.encoded);
	event_make(&t, QUORUM_EVENT_SYNC_ROUND, "d", QUORUM_GOSSIP_SOURCE, "node-2", &reset);
	g_assert_cmpint(process(s, &t, &reason), ==, QUORUM_REJECT);
	g_assert_cmpstr(reason, ==, "gossip_hops_reset_rejected");
	free(t.encoded);
	event_make(&t, QUORUM_EVENT_SYNC_ROUND, "e", QUORUM_GOSSIP_SOURCE, "node-2", &over);
	g_assert_cmpint(process(s, &t, &reason), ==, QUORUM_REJECT);
	g_assert_cmpstr(reason, ==, "gossip_hops_overflow_rejected");
	free(t.encoded);
	event_make(&t, "uml001.control.set_mode", "f", QUORUM_GOSSIP_SOURCE, "node-2", &ok);
	g_assert_cmpint(process(s, &t, &reason), ==, QUORUM_REJECT);
	g_assert_cmpstr(reason, ==, "gossip_policy_rejected");
	free(t.encoded);
	/* a good copy passes, the same one again is a duplicate (even with other metadata) */
	event_make(&t, QUORUM_EVENT_SYNC_ROUND, "g", QUORUM_GOSSIP_SOURCE, "node-2", &ok);
	g_assert_cmpint(process(s, &t, &reason), ==, QUORUM_CONTINUE);
	free(t.encoded);
	ok.hops = 2;
	ok.ttl = 2;
	event_make(&t, QUORUM_EVENT_SYNC_ROUND, "g", QUORUM_GOSSIP_SOURCE, "node-3", &ok);
	g_assert_cmpint(process(s, &t, &reason), ==, QUORUM_REJECT);
	g_assert_cmpstr(reason, ==, "gossip_duplicate_rejected");
	free(t.encoded);
	/* the malfeasance reports travel by default */
	ok.hops = 1;
	event_make(&t, QUORUM_EVENT_MALFEASANCE, "h", QUORUM_GOSSIP_SOURCE, "node-2", &ok);
	g_assert_cmpint(process(s, &t, &reason), ==, QUORUM_CONTINUE);
	free(t.encoded);
	quorum_plugin.fini(s);
	mock_reset();
}

/* Whether copy I went to PEER with HOPS, TTL and ORIGIN. */
static void assert_sent(int i, const char *peer, uint32_t hops, uint32_t ttl,
			const char *origin)
{
	g_assert_cmpint(i, <, mock.sent);
	g_assert_cmpstr(mock.sent_to[i], ==, peer);
	g_assert_nonnull(mock.sent_state[i]->gossip);
	g_assert_cmpuint(mock.sent_state[i]->gossip->hops, ==, hops);
	g_assert_cmpuint(mock.sent_state[i]->gossip->ttl, ==, ttl);
	g_assert_cmpstr(mock.sent_state[i]->gossip->origin_node_id, ==, origin);
}

static void test_stage_forwarding(void)
{
	struct quorum_gossip from2 = { 1, 3, 0, "node-3" }, last = { 4, 0, 0, "node-3" };
	struct test_event t;
	const char *reason;
	void *s;

	mock_reset();
	s = stage_new();
	/* this node's round: to every peer, hops 1, ttl max_ttl - 1, origin this node */
	event_make(&t, QUORUM_EVENT_SYNC_ROUND, "a", "timecore", "", NULL);
	g_assert_cmpint(process(s, &t, &reason), ==, QUORUM_CONTINUE);
	observe(s, &t, QUORUM_CONTINUE);
	g_assert_cmpint(mock.sent, ==, 3);
	assert_sent(0, "node-2", 1, 3, "node-1");
	assert_sent(1, "node-3", 1, 3, "node-1");
	assert_sent(2, "node-4", 1, 3, "node-1");
	/* ... each saying who has it now: this node and the three it went to */
	g_assert_cmpuint(mock.sent_state[0]->gossip->n_sent_to, ==, 4);
	g_assert_cmpstr(mock.sent_state[0]->gossip->sent_to[0], ==, "node-1");
	g_assert_cmpstr(mock.sent_state[0]->gossip->sent_to[3], ==, "node-4");
	/* the copy is the event itself: same signature, same payload */
	g_assert_cmpmem(mock.sent_state[0]->signature.data, 64, t.sig, 64);
	free(t.encoded);
	/* a copy from node-2 that node-3 started: only to node-4, hops + 1, ttl - 1 */
	sent_clear();
	event_make(&t, QUORUM_EVENT_SYNC_ROUND, "b", QUORUM_GOSSIP_SOURCE, "node-2", &from2);
	g_assert_cmpint(process(s, &t, &reason), ==, QUORUM_CONTINUE);
	observe(s, &t, QUORUM_CONTINUE);
	g_assert_cmpint(mock.sent, ==, 1);
	assert_sent(0, "node-4", 2, 2, "node-3");
	g_assert_cmpuint(mock.sent_state[0]->gossip->n_sent_to, ==, 2);
	g_assert_cmpstr(mock.sent_state[0]->gossip->sent_to[0], ==, "node-1");
	g_assert_cmpstr(mock.sent_state[0]->gossip->sent_to[1], ==, "node-4");
	free(t.encoded);
	/* the same from a copy node-3 already sent to node-4: nobody is left to tell */
	sent_clear();
	event_sent_to = (const char *const[]){ "node-3", "node-1", "node-2", "node-4", NULL };
	event_make(&t, QUORUM_EVENT_SYNC_ROUND, "B", QUORUM_GOSSIP_SOURCE, "node-2", &from2);
	event_sent_to = NULL;
	g_assert_cmpint(process(s, &t, &reason), ==, QUORUM_CONTINUE);
	observe(s, &t, QUORUM_CONTINUE);
	g_assert_cmpint(mock.sent, ==, 0);
	free(t.encoded);
	/* a malfeasance report goes on whatever the copy says: "sent to" is not "received" */
	sent_clear();
	event_sent_to = (const char *const[]){ "node-3", "node-1", "node-2", "node-4", NULL };
	event_make(&t, QUORUM_EVENT_MALFEASANCE, "R", QUORUM_GOSSIP_SOURCE, "node-2", &from2);
	event_sent_to = NULL;
	g_assert_cmpint(process(s, &t, &reason), ==, QUORUM_CONTINUE);
	observe(s, &t, QUORUM_CONTINUE);
	g_assert_cmpint(mock.sent, ==, 1);
	assert_sent(0, "node-4", 2, 2, "node-3");
	free(t.encoded);
	sent_clear();
	/* refused by a later stage: not forwarded; ttl spent: not forwarded */
	event_make(&t, QUORUM_EVENT_SYNC_ROUND, "c", QUORUM_GOSSIP_SOURCE, "node-2", &from2);
	g_assert_cmpint(process(s, &t, &reason), ==, QUORUM_CONTINUE);
	observe(s, &t, QUORUM_REJECT);
	free(t.encoded);
	event_make(&t, QUORUM_EVENT_SYNC_ROUND, "d", QUORUM_GOSSIP_SOURCE, "node-2", &last);
	g_assert_cmpint(process(s, &t, &reason), ==, QUORUM_CONTINUE);
	observe(s, &t, QUORUM_CONTINUE);
	free(t.encoded);
	/* an id not in the forward list (an operator's command posted here) stays here */
	event_make(&t, "uml001.control.set_mode", "e", "rest", "127.0.0.1", NULL);
	g_assert_cmpint(process(s, &t, &reason), ==, QUORUM_CONTINUE);
	observe(s, &t, QUORUM_CONTINUE);
	free(t.encoded);
	g_assert_cmpint(mock.sent, ==, 0);
	/* what the service says about the peers */
	{
		const struct quorum_gossip_ops *g = mock.service;
		struct quorum_gossip_peer peers[4];

		g_assert_cmpuint(g->peers_heard(mock.service_state, peers, 4), ==, 3);
		g_assert_cmpstr(peers[0].id, ==, "node-2");
		g_assert_cmpuint(peers[0].received, ==, 5); /* with the report */
		g_assert_cmpuint(peers[0].accepted, ==, 4);
		g_assert_cmpint(peers[0].last_seen_ns, >, 0);
		g_assert_cmpuint(peers[1].received, ==, 0);
		g_assert_cmpint(peers[1].last_seen_ns, ==, 0);
	}
	sent_clear();
	quorum_plugin.fini(s);

	/* fanout 1: one peer per event, taking turns */
	mock_reset();
	g_assert_cmpint(mockhost_set(&host, "fanout", "1"), ==, 0);
	s = stage_new();
	for (int i = 0; i < 3; i++) {
		char payload[8];

		snprintf(payload, sizeof(payload), "r%d", i);
		event_make(&t, QUORUM_EVENT_SYNC_ROUND, payload, "timecore", "", NULL);
		g_assert_cmpint(process(s, &t, &reason), ==, QUORUM_CONTINUE);
		observe(s, &t, QUORUM_CONTINUE);
		free(t.encoded);
	}
	g_assert_cmpint(mock.sent, ==, 3);
	g_assert_cmpstr(mock.sent_to[0], ==, "node-2");
	g_assert_cmpstr(mock.sent_to[1], ==, "node-3");
	g_assert_cmpstr(mock.sent_to[2], ==, "node-4");
	quorum_plugin.fini(s);
	mock_reset();
}

/* A round of NODE holding, for each authority I < COUNT, the attestation ATT[I]. */
struct test_round {
	struct quorum_round round;
	struct quorum_observation obs[4];
	uint8_t *payload;
	size_t len;
};

static void round_make(struct test_round *r, const char *node, uint8_t *const *att,
		       const size_t *att_len, const char *const *authorities,
		       const uint64_t *sequences, const int64_t *midpoints, size_t count)
{
	memset(r, 0, sizeof(*r));
	round_payload(node, att, att_len, count, &r->payload, &r->len);
	for (size_t i = 0; i < count; i++)
		r->obs[i] = (struct quorum_observation){
			.source_id = authorities[i],
			.type = QUORUM_AUTHORITY_QUORUMD,
			.attestation = { .authority_id = authorities[i],
					 .key_id = "k",
					 .midpoint_ns = midpoints[i],
					 .sequence = sequences[i],
					 .status = QUORUM_AUTHORITY_SYNCHRONISED },
		};
	r->round = (struct quorum_round){
		.node_id = node, .round = 1, .observation_count = count, .observations = r->obs
	};
}

static void test_stage_equivocation(void)
{
	EVP_PKEY *key = key_generate();
	const int64_t t0 = 1800000000000000000LL;
	uint8_t *a, *b;
	size_t a_len, b_len;
	struct test_round r1, r2, r3;
	struct test_event e1, e2, e3;
	struct quorum_gossip from2 = { 1, 3, 0, "node-2" }, from3 = { 1, 3, 0, "node-3" };
	const char *const who[] = { "node-4" };
	const uint64_t seq[] = { 7 };
	const int64_t mid1[] = { t0 }, mid2[] = { t0 + 5000000 };
	struct malfeasance_summary sum;
	struct keybook book = { "node-4", key, 0 };
	const char *reason, *why;
	void *s;

	mock_reset();
	mock.authority_key = key;
	s = stage_new();
	attestation(key, "node-4", 7, t0, &a, &a_len);
	attestation(key, "node-4", 7, t0 + 5000000, &b, &b_len);
	/* node-1's own round holds node-4's answer with sequence 7 */
	round_make(&r1, "node-1", &a, &a_len, who, seq, mid1, 1);
	event_make(&e1, QUORUM_EVENT_SYNC_ROUND, "x", "timecore", "", NULL);
	e1.st.payload = (struct quorum_bytes){ r1.payload, r1.len };
	mock.round = &r1.round;
	g_assert_cmpint(process(s, &e1, &reason), ==, QUORUM_CONTINUE);
	g_assert_cmpint(mock.ingested, ==, 0);
	/* node-2's round, by gossip, holds another answer of node-4, same sequence */
	round_make(&r2, "node-2", &b, &b_len, who, seq, mid2, 1);
	event_make(&e2, QUORUM_EVENT_SYNC_ROUND, "y", QUORUM_GOSSIP_SOURCE, "node-2", &from2);
	e2.st.payload = (struct quorum_bytes){ r2.payload, r2.len };
	mock.round = &r2.round;
	g_assert_cmpint(process(s, &e2, &reason), ==, QUORUM_CONTINUE);
	/* evidence: a report, signed by the host, queued behind this event, audited */
	g_assert_cmpint(mock.signed_events, ==, 1);
	g_assert_cmpint(mock.ingested, ==, 1);
	g_assert_cmpstr(mock.ingested_event, ==, QUORUM_EVENT_MALFEASANCE);
	g_assert_nonnull(strstr(host.audit, "gossip.malfeasance authority=node-4 sequence=7 "));
	g_assert_nonnull(strstr(host.audit, " reporter=node-1"));
	why = NULL;
	g_assert_cmpint(malfeasance_report_check(mock.ingested_payload, mock.ingested_len,
						 keybook_verify, &book, &sum, &why),
			==, 0);
	g_assert_cmpstr(sum.authority_id, ==, "node-4");
	g_assert_cmpstr(sum.reporter, ==, "node-1");
	g_assert_cmpuint(
		((const struct quorum_gossip_ops *)mock.service)->reports(mock.service_state),
		==, 1);
	/* the same conflict again (node-3's copy of node-2's view): reported once */
	event_make(&e3, QUORUM_EVENT_SYNC_ROUND, "z", QUORUM_GOSSIP_SOURCE, "node-3", &from3);
	e3.st.payload = (struct quorum_bytes){ r2.payload, r2.len };
	g_assert_cmpint(process(s, &e3, &reason), ==, QUORUM_CONTINUE);
	g_assert_cmpint(mock.ingested, ==, 1);
	free(e3.encoded);
	quorum_plugin.fini(s);

	/* a peer's round whose "attestation" is no signature of node-4 (the host would have
	 * flagged it; here it did not): the stage's own check finds no evidence */
	mock_reset();
	mock.authority_key = key_generate();
	s = stage_new();
	mock.round = &r1.round;
	g_assert_cmpint(process(s, &e1, &reason), ==, QUORUM_CONTINUE);
	mock.round = &r2.round;
	free(e2.encoded);
	event_make(&e2, QUORUM_EVENT_SYNC_ROUND, "y", QUORUM_GOSSIP_SOURCE, "node-2", &from2);
	e2.st.payload = (struct quorum_bytes){ r2.payload, r2.len };
	g_assert_cmpint(process(s, &e2, &reason), ==, QUORUM_CONTINUE);
	g_assert_cmpint(mock.ingested, ==, 0);
	g_assert_cmpint(mock.signed_events, ==, 0);
	quorum_plugin.fini(s);
	EVP_PKEY_free(mock.authority_key);

	/* the same attestation in two rounds is no conflict */
	mock_reset();
	mock.authority_key = key;
	s = stage_new();
	round_make(&r3, "node-2", &a, &a_len, who, seq, mid1, 1);
	mock.round = &r1.round;
	g_assert_cmpint(process(s, &e1, &reason), ==, QUORUM_CONTINUE);
	mock.round = &r3.round;
	free(e2.encoded);
	event_make(&e2, QUORUM_EVENT_SYNC_ROUND, "y", QUORUM_GOSSIP_SOURCE, "node-2", &from2);
	e2.st.payload = (struct quorum_bytes){ r3.payload, r3.len };
	g_assert_cmpint(process(s, &e2, &reason), ==, QUORUM_CONTINUE);
	g_assert_cmpint(mock.ingested, ==, 0);
	quorum_plugin.fini(s);
	free(e1.encoded);
	free(e2.encoded);
	free(r1.payload);
	free(r2.payload);
	free(r3.payload);
	free(a);
	free(b);
	EVP_PKEY_free(key);
	mock_reset();
}

/* ------------------------------ digests (issue 19) ------------------------------ */

static void test_digest_encoding(void)
{
	struct digest_entry in[3] = { { "node-1", 1, { 1 } },
				      { "node-22", UINT64_MAX, { 2 } },
				      { "a", 0, { 3 } } },
			    out[3];
	uint8_t *p, bad[200];
	size_t len, count = 0;
	const char *why = NULL;

	g_assert_cmpint(digest_encode(in, 3, &p, &len), ==, 0);
	g_assert_cmpuint(len, ==, 3 + 3 * (1 + 8 + 32) + 6 + 7 + 1);
	g_assert_cmpint(digest_decode(p, len, out, 3, &count, &why), ==, 0);
	g_assert_cmpuint(count, ==, 3);
	for (int i = 0; i < 3; i++) {
		g_assert_cmpstr(out[i].authority, ==, in[i].authority);
		g_assert_cmpuint(out[i].sequence, ==, in[i].sequence);
		g_assert_cmpmem(out[i].hash, 32, in[i].hash, 32);
	}
	/* every shorter prefix is refused, and so is a byte more */
	for (size_t cut = 0; cut < len; cut++)
		g_assert_cmpint(digest_decode(p, cut, out, 3, &count, &why), ==, -EINVAL);
	g_assert_cmpuint(len + 1, <=, sizeof(bad));
	memcpy(bad, p, len);
	bad[len] = 0;
	g_assert_cmpint(digest_decode(bad, len + 1, out, 3, &count, &why), ==, -EINVAL);
	g_assert_cmpstr(why, ==, "digest_trailing");
	/* more entries than the caller has room for */
	g_assert_cmpint(digest_decode(p, len, out, 2, &count, &why), ==, -EINVAL);
	g_assert_cmpstr(why, ==, "digest_too_many");
	/* another version; an authority that is not printable */
	memcpy(bad, p, len);
	bad[0] = DIGEST_VERSION + 1;
	g_assert_cmpint(digest_decode(bad, len, out, 3, &count, &why), ==, -EINVAL);
	g_assert_cmpstr(why, ==, "digest_version");
	memcpy(bad, p, len);
	bad[4] = '\n'; /* inside "node-1" */
	g_assert_cmpint(digest_decode(bad, len, out, 3, &count, &why), ==, -EINVAL);
	g_assert_cmpstr(why, ==, "digest_authority_invalid");
	free(p);
	/* nothing unencodable leaves */
	strcpy(in[0].authority, "");
	g_assert_cmpint(digest_encode(in, 1, &p, &len), ==, -EINVAL);
}

/* A digest event from PEER (origin ORIGIN) about node-4's SEQUENCE with the digest of
 * ENCODED. */
static void digest_event(struct test_event *t, struct quorum_gossip *g, const char *peer,
			 const char *origin, uint64_t sequence, const uint8_t *encoded,
			 size_t len, uint8_t **payload)
{
	struct digest_entry e = { "node-4", sequence, { 0 } };
	size_t payload_len;

	signed_digest(encoded, len, e.hash);
	g_assert_cmpint(digest_encode(&e, 1, payload, &payload_len), ==, 0);
	*g = (struct quorum_gossip){ 1, 0, 0, origin };
	event_make(t, QUORUM_EVENT_DIGEST, "d", QUORUM_GOSSIP_SOURCE, peer, g);
	t->st.payload = (struct quorum_bytes){ *payload, payload_len };
}

static void test_stage_digests(void)
{
	EVP_PKEY *key = key_generate();
	const int64_t t0 = 1800000000000000000LL;
	uint8_t *a, *b, *pd, *pd2, hash_a[32];
	size_t a_len, b_len, count = 0;
	struct test_round r1, r2;
	struct test_event e1, e2, ed, ea, er;
	struct quorum_gossip gd, ga = { 1, 0, 0, "node-2" }, from2 = { 1, 3, 0, "node-2" };
	const char *const who[] = { "node-4" };
	const uint64_t seq[] = { 7 };
	const int64_t mid1[] = { t0 }, mid2[] = { t0 + 5000000 };
	struct digest_entry entries[4];
	struct malfeasance_summary sum;
	struct keybook book = { "node-4", key, 0 };
	const char *reason, *why = NULL;
	void *s;

	mock_setup(1, "2");
	mock.authority_key = key;
	s = stage_new();
	attestation(key, "node-4", 7, t0, &a, &a_len);
	attestation(key, "node-4", 7, t0 + 5000000, &b, &b_len);
	signed_digest(a, a_len, hash_a);
	/* node-1's own round: its digest goes to two peers, one hop, signed by node-1 */
	round_make(&r1, "node-1", &a, &a_len, who, seq, mid1, 1);
	r1.round.local = 1; /* the host's view of this node's own round */
	event_make(&e1, QUORUM_EVENT_SYNC_ROUND, "x", "timecore", "", NULL);
	e1.st.payload = (struct quorum_bytes){ r1.payload, r1.len };
	mock.round = &r1.round;
	g_assert_cmpint(process(s, &e1, &reason), ==, QUORUM_CONTINUE);
	g_assert_cmpint(mock.sent, ==, 2);
	g_assert_cmpstr(mock.sent_to[0], !=, mock.sent_to[1]);
	for (int i = 0; i < 2; i++) {
		Uml001__SignedState *d = mock.sent_state[i];

		g_assert_cmpstr(d->event_id, ==, QUORUM_EVENT_DIGEST);
		g_assert_cmpstr(d->key_id, ==, "node-1-key");
		g_assert_cmpuint(d->gossip->hops, ==, 1);
		g_assert_cmpuint(d->gossip->ttl, ==, 0);
		g_assert_cmpstr(d->gossip->origin_node_id, ==, "node-1");
		g_assert_cmpint(digest_decode(d->payload.data, d->payload.len, entries, 4,
					      &count, &why),
				==, 0);
		g_assert_cmpuint(count, ==, 1);
		g_assert_cmpstr(entries[0].authority, ==, "node-4");
		g_assert_cmpuint(entries[0].sequence, ==, 7);
		g_assert_cmpmem(entries[0].hash, 32, hash_a, 32);
	}
	sent_clear();
	/* a peer's whole round is no longer accepted by default: rounds travel as digests */
	round_make(&r2, "node-2", &b, &b_len, who, seq, mid2, 1);
	event_make(&e2, QUORUM_EVENT_SYNC_ROUND, "y", QUORUM_GOSSIP_SOURCE, "node-2", &from2);
	e2.st.payload = (struct quorum_bytes){ r2.payload, r2.len };
	mock.round = &r2.round;
	g_assert_cmpint(process(s, &e2, &reason), ==, QUORUM_REJECT);
	g_assert_cmpstr(reason, ==, "gossip_policy_rejected");
	/* node-2's digest says node-4 signed other bytes for sequence 7: node-1's copy goes
	 * back to node-2 alone, no report yet (a digest is no evidence) */
	digest_event(&ed, &gd, "node-2", "node-2", 7, b, b_len, &pd);
	g_assert_cmpint(process(s, &ed, &reason), ==, QUORUM_CONTINUE);
	g_assert_cmpint(mock.sent, ==, 1);
	g_assert_cmpstr(mock.sent_to[0], ==, "node-2");
	g_assert_cmpstr(mock.sent_state[0]->event_id, ==, QUORUM_EVENT_GOSSIP_ATTESTATION);
	g_assert_cmpmem(mock.sent_state[0]->payload.data, mock.sent_state[0]->payload.len, a,
			a_len);
	g_assert_cmpint(mock.signed_events, ==, 0);
	g_assert_cmpint(mock.ingested, ==, 0);
	/* ... and never forwarded */
	observe(s, &ed, QUORUM_CONTINUE);
	g_assert_cmpint(mock.sent, ==, 1);
	/* a digest relayed by someone else than its signer is refused */
	free(ed.encoded);
	free(pd);
	digest_event(&ed, &gd, "node-3", "node-2", 8, b, b_len, &pd);
	g_assert_cmpint(process(s, &ed, &reason), ==, QUORUM_REJECT);
	g_assert_cmpstr(reason, ==, "gossip_digest_relayed");
	/* node-2 answers with its signed attestation: both verify, a report is made */
	event_make(&ea, QUORUM_EVENT_GOSSIP_ATTESTATION, "a", QUORUM_GOSSIP_SOURCE, "node-2",
		   &ga);
	ea.st.payload = (struct quorum_bytes){ b, b_len };
	g_assert_cmpint(process(s, &ea, &reason), ==, QUORUM_CONTINUE);
	g_assert_cmpint(mock.signed_events, ==, 1);
	g_assert_cmpint(mock.ingested, ==, 1);
	g_assert_cmpstr(mock.ingested_event, ==, QUORUM_EVENT_MALFEASANCE);
	g_assert_cmpint(malfeasance_report_check(mock.ingested_payload, mock.ingested_len,
						 keybook_verify, &book, &sum, &why),
			==, 0);
	g_assert_cmpstr(sum.reporter, ==, "node-1");
	/* an attestation that is not one is refused */
	free(ea.encoded);
	event_make(&ea, QUORUM_EVENT_GOSSIP_ATTESTATION, "a", QUORUM_GOSSIP_SOURCE, "node-2",
		   &ga);
	g_assert_cmpint(process(s, &ea, &reason), ==, QUORUM_REJECT);
	g_assert_cmpstr(reason, ==, "gossip_attestation_malformed");
	quorum_plugin.fini(s);

	/* a digest heard before this node's own round closed: compared when it closes */
	mock_setup(1, "0");
	mock.authority_key = key;
	s = stage_new();
	free(ed.encoded);
	free(pd);
	digest_event(&ed, &gd, "node-2", "node-2", 7, b, b_len, &pd);
	g_assert_cmpint(process(s, &ed, &reason), ==, QUORUM_CONTINUE);
	g_assert_cmpint(mock.sent, ==, 0);
	mock.round = &r1.round;
	g_assert_cmpint(process(s, &e1, &reason), ==, QUORUM_CONTINUE);
	g_assert_cmpint(mock.sent, ==, 1); /* digest_fanout 0 here: the attestation alone */
	g_assert_cmpstr(mock.sent_to[0], ==, "node-2");
	g_assert_cmpstr(mock.sent_state[0]->event_id, ==, QUORUM_EVENT_GOSSIP_ATTESTATION);
	/* the same attestation in a digest is no disagreement */
	sent_clear();
	digest_event(&er, &gd, "node-3", "node-3", 7, a, a_len, &pd2);
	g_assert_cmpint(process(s, &er, &reason), ==, QUORUM_CONTINUE);
	g_assert_cmpint(mock.sent, ==, 0);
	quorum_plugin.fini(s);
	free(er.encoded);
	free(pd2);
	free(ed.encoded);
	free(pd);
	free(ea.encoded);
	free(e1.encoded);
	free(e2.encoded);
	free(r1.payload);
	free(r2.payload);
	free(a);
	free(b);
	EVP_PKEY_free(key);
	mock_reset();
}

static void test_stage_epochs(void)
{
	EVP_PKEY *keys[4];
	uint8_t *att[4];
	size_t att_len[4];
	const char *const who[] = { "node-1", "node-2", "node-3", "node-4" };
	const uint64_t seq[] = { 1, 2, 3, 4 };
	const int64_t t0 = 1800000000000000000LL;
	const int64_t mid[] = { t0 + 1000, t0 + 2000, t0 + 3000, t0 + 4000 };
	const struct quorum_gossip_ops *g;
	struct quorum_gossip_epoch last;
	struct quorum_gossip from2 = { 1, 3, 0, "node-2" };
	struct test_round r;
	struct test_event e;
	const char *reason;
	void *s;

	mock_reset();
	s = stage_new();
	g = mock.service;
	g_assert_cmpint(g->last_converged_epoch(mock.service_state, &last), ==, -ENOENT);
	for (int i = 0; i < 4; i++) {
		keys[i] = key_generate();
		attestation(keys[i], who[i], seq[i], mid[i], &att[i], &att_len[i]);
	}
	/* two authorities in a round: n - f = 3 not reached */
	round_make(&r, "node-1", att, att_len, who, seq, mid, 2);
	event_make(&e, QUORUM_EVENT_SYNC_ROUND, "a", "timecore", "", NULL);
	e.st.payload = (struct quorum_bytes){ r.payload, r.len };
	mock.round = &r.round;
	g_assert_cmpint(process(s, &e, &reason), ==, QUORUM_CONTINUE);
	g_assert_cmpuint(g->converged_epochs(mock.service_state), ==, 0);
	free(r.payload);
	free(e.encoded);
	/* a peer's round brings a third distinct authority into the epoch: converged */
	round_make(&r, "node-2", att + 1, att_len + 1, who + 1, seq + 1, mid + 1, 3);
	event_make(&e, QUORUM_EVENT_SYNC_ROUND, "b", QUORUM_GOSSIP_SOURCE, "node-2", &from2);
	e.st.payload = (struct quorum_bytes){ r.payload, r.len };
	mock.round = &r.round;
	g_assert_cmpint(process(s, &e, &reason), ==, QUORUM_CONTINUE);
	g_assert_cmpuint(g->converged_epochs(mock.service_state), ==, 1);
	g_assert_cmpint(g->last_converged_epoch(mock.service_state, &last), ==, 0);
	g_assert_cmpint(last.epoch, ==, t0 / 1000000000);
	g_assert_cmpint(last.epoch_ns, ==, 1000000000);
	g_assert_cmpuint(last.authorities, ==, 4);
	g_assert_cmpuint(last.threshold, ==, 3);
	/* an observation the host could not verify does not count */
	free(r.payload);
	free(e.encoded);
	quorum_plugin.fini(s);
	for (int i = 0; i < 4; i++) {
		free(att[i]);
		EVP_PKEY_free(keys[i]);
	}
	mock_reset();
}

static void test_stage_unverified_not_counted(void)
{
	EVP_PKEY *key = key_generate();
	uint8_t *att[3];
	size_t att_len[3];
	const char *const who[] = { "node-2", "node-3", "node-4" };
	const uint64_t seq[] = { 1, 2, 3 };
	const int64_t t0 = 1800000000000000000LL, mid[] = { t0, t0, t0 };
	struct test_round r;
	struct test_event e;
	const char *reason;
	void *s;

	mock_reset();
	s = stage_new();
	for (int i = 0; i < 3; i++)
		attestation(key, who[i], seq[i], mid[i], &att[i], &att_len[i]);
	round_make(&r, "node-1", att, att_len, who, seq, mid, 3);
	r.obs[2].problem = "signature_invalid";
	event_make(&e, QUORUM_EVENT_SYNC_ROUND, "a", "timecore", "", NULL);
	e.st.payload = (struct quorum_bytes){ r.payload, r.len };
	mock.round = &r.round;
	g_assert_cmpint(process(s, &e, &reason), ==, QUORUM_CONTINUE);
	g_assert_cmpuint(((const struct quorum_gossip_ops *)mock.service)
				 ->converged_epochs(mock.service_state),
			 ==, 0);
	quorum_plugin.fini(s);
	free(r.payload);
	free(e.encoded);
	for (int i = 0; i < 3; i++)
		free(att[i]);
	EVP_PKEY_free(key);
	mock_reset();
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/gossip/rules/own-event-is-local-noop", test_rules_local_noop);
	g_test_add_func("/gossip/rules/hops-reset-rejected", test_rules_hops_reset);
	g_test_add_func("/gossip/rules/self-echo-rejected", test_rules_self_echo);
	g_test_add_func("/gossip/rules/hops-overflow-rejected", test_rules_overflow);
	g_test_add_func("/gossip/rules/copy-without-origin-is-policy",
			test_rules_origin_missing);
	g_test_add_func("/gossip/rules/forward-list-exact-and-prefix", test_rules_forward_list);
	g_test_add_func("/gossip/rules/holders-this-node-and-picked-once", test_rules_holders);
	g_test_add_func("/gossip/rules/next-hop-keeps-origin-hops-up-ttl-down",
			test_rules_next_hop);
	g_test_add_func("/gossip/rules/pick-skips-sender-origin-and-holders-within-fanout",
			test_rules_pick);
	g_test_add_func("/gossip/dedup/bounded-window-evicts-oldest", test_dedup_window);
	g_test_add_func("/gossip/evidence/index-finds-conflicting-attestation",
			test_evidence_index);
	g_test_add_func("/gossip/evidence/report-of-two-signed-attestations",
			test_report_two_attestations);
	g_test_add_func("/gossip/epochs/n-minus-f-distinct-authorities", test_epochs_count);
	g_test_add_func("/gossip/wire/forward-copy-changes-only-gossip",
			test_wire_forward_copy);
	g_test_add_func("/gossip/wire/round-attestations-raw", test_wire_round_attestations);
	g_test_add_func("/gossip/stage/seed-reasons", test_stage_reasons);
	g_test_add_func("/gossip/stage/forwarding-decisions", test_stage_forwarding);
	g_test_add_func("/gossip/stage/equivocation-reported-once", test_stage_equivocation);
	g_test_add_func("/gossip/stage/epoch-converges-with-peer-round", test_stage_epochs);
	g_test_add_func("/gossip/digest/encoding-is-strict", test_digest_encoding);
	g_test_add_func("/gossip/stage/digests-exchange-attestations-on-disagreement",
			test_stage_digests);
	g_test_add_func("/gossip/stage/unverified-attestation-not-counted",
			test_stage_unverified_not_counted);
	return g_test_run();
}
