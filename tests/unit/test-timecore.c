/* test-timecore.c -- the time core's parts on their own: signed attestations and rounds on
 * the wire (every refusal), the served clock (bound growth, fail closed and back, never
 * backwards, capped steps, the page read through libquorum-clock, whose page is trusted by
 * writer and reader), the signed node state. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <glib.h>

#include "protodecode-internal.h"
#include "quorum/clock.h"
#include "roundnonce.h"
#include "testutil.h"
#include "timecore-internal.h"
#include "util-internal.h"
#include "clocks.h"

static const uint8_t test_nonce[QUORUM_NONCE_LEN] = { 1, 2, 3, 4, 5, 6, 7, 8 };

/* A signed answer of authority ID, decoded back into its datagram; it claims key id CLAIM
 * (NULL: KEY's own). */
static void make_answer_claiming(EVP_PKEY *key, const char *claim, const char *id,
				 int64_t midpoint, uint64_t sequence, struct datagram *out)
{
	char key_id_text[KEY_ID_HEX_LEN + 1];
	struct quorum_attestation fields = {
		.authority_id = id,
		.nonce = { test_nonce, QUORUM_NONCE_LEN },
		.midpoint_ns = midpoint,
		.radius_ns = 1000,
		.sequence = sequence,
		.status = QUORUM_AUTHORITY_SYNCHRONISED,
		.processing_ns = 5000,
	};
	const char *reason = NULL;
	uint8_t *bytes;
	size_t len;

	key_id(key, key_id_text);
	if (claim != NULL)
		snprintf(key_id_text, sizeof(key_id_text), "%s", claim);
	fields.key_id = key_id_text;
	g_assert_cmpint(attestation_response(key, key_id_text, &fields, &bytes, &len), ==, 0);
	g_assert_cmpint(datagram_decode(bytes, len, out, &reason), ==, 0);
	g_assert_cmpint(out->kind, ==, DATAGRAM_TIME_RESPONSE);
	free(bytes);
}

static void make_answer(EVP_PKEY *key, const char *id, int64_t midpoint, uint64_t sequence,
			struct datagram *out)
{
	make_answer_claiming(key, NULL, id, midpoint, sequence, out);
}

static void test_attestation_roundtrip(void)
{
	EVP_PKEY *key = key_generate(), *other = key_generate();
	char id[KEY_ID_HEX_LEN + 1];
	struct datagram d;
	struct attestation a;
	const char *reason = NULL;

	key_id(key, id);
	make_answer(key, "node-1", 1795000000000000000LL, 42, &d);
	g_assert_cmpint(attestation_decode(d.message->time_response, &a, &reason), ==, 0);
	g_assert_cmpstr(a.fields.authority_id, ==, "node-1");
	g_assert_cmpint(a.fields.midpoint_ns, ==, 1795000000000000000LL);
	g_assert_cmpuint(a.fields.sequence, ==, 42);
	g_assert_cmpuint(a.fields.processing_ns, ==, 5000);
	g_assert_cmpmem(a.fields.nonce.data, a.fields.nonce.len, test_nonce, QUORUM_NONCE_LEN);
	g_assert_null(attestation_check(&a, "node-1", id, key));
	g_assert_cmpstr(attestation_check(&a, "node-2", id, key), ==, "untrusted_authority");
	g_assert_cmpstr(attestation_check(&a, "node-1", "0000000000000000", key), ==,
			"key_id_mismatch");
	g_assert_cmpstr(attestation_check(&a, "node-1", id, other), ==, "signature_invalid");
	attestation_release(&a);
	datagram_release(&d);
	EVP_PKEY_free(key);
	EVP_PKEY_free(other);
}

/* The signature binds the event id, the key id, the time and the payload. */
static void test_signature_covers_every_field(void)
{
	EVP_PKEY *key = key_generate();
	uint8_t payload[] = { 1, 2, 3 }, sig[KEY_SIGNATURE_LEN];
	struct quorum_signed_state s = { .logical_time_ns = 7,
					 .event_id = "uml001.test",
					 .key_id = "k",
					 .payload = { payload, 3 } };
	struct quorum_signed_state changed;

	g_assert_cmpint(signed_state_sign(key, &s, sig), ==, 0);
	g_assert_cmpint(signed_state_verify(key, &s), ==, 0);
	changed = s;
	changed.event_id = "uml001.other";
	g_assert_cmpint(signed_state_verify(key, &changed), ==, -EBADMSG);
	changed = s;
	changed.key_id = "j";
	g_assert_cmpint(signed_state_verify(key, &changed), ==, -EBADMSG);
	changed = s;
	changed.logical_time_ns = 8;
	g_assert_cmpint(signed_state_verify(key, &changed), ==, -EBADMSG);
	payload[0] ^= 1;
	g_assert_cmpint(signed_state_verify(key, &s), ==, -EBADMSG);
	EVP_PKEY_free(key);
}

static void assert_datagram_refused(const void *data, size_t len, const char *expected)
{
	struct datagram d;
	const char *reason = NULL;

	g_assert_cmpint(datagram_decode(data, len, &d, &reason), ==, -EINVAL);
	g_assert_cmpstr(reason, ==, expected);
}

static void test_datagram_refusals(void)
{
	/* PeerDatagram{time_request{nonce: 3 bytes}} */
	static const uint8_t short_nonce[] = { 0x0a, 0x05, 0x0a, 0x03, 1, 2, 3 };
	/* an empty datagram: no body */
	static const uint8_t empty[] = { 0 };
	/* an unknown field 9 */
	static const uint8_t unknown[] = { 0x48, 0x01 };
	uint8_t *big = g_malloc0(DATAGRAM_MAX + 1), ok[256];
	struct datagram d;
	const char *reason = NULL;
	int len;

	assert_datagram_refused(short_nonce, sizeof(short_nonce), "request_malformed");
	assert_datagram_refused(empty, 0, "datagram_empty");
	assert_datagram_refused(unknown, sizeof(unknown), "datagram_unknown_field");
	assert_datagram_refused(big, DATAGRAM_MAX + 1, "datagram_decode_failed");
	len = datagram_encode_request(test_nonce, "node-9", 0, ok, sizeof(ok));
	g_assert_cmpint(len, >, 0);
	g_assert_cmpint(datagram_decode(ok, (size_t)len, &d, &reason), ==, 0);
	g_assert_cmpint(d.kind, ==, DATAGRAM_TIME_REQUEST);
	g_assert_cmpstr(d.asker_id, ==, "node-9");
	datagram_release(&d);
	g_free(big);
}

/* A request to authority ID is padded to at least the longest answer ID can send: an answer
 * with every number at its longest, and its sending hint, never exceeds it; so an authority
 * that answers only requests of that length never amplifies. */
static void test_request_padding(void)
{
	static const char *const ids[] = { "a", "node-1", NULL };
	EVP_PKEY *key = key_generate();
	char key_id_text[KEY_ID_HEX_LEN + 1], longest[QUORUM_NODE_ID_MAX + 1];

	key_id(key, key_id_text);
	memset(longest, 'z', QUORUM_NODE_ID_MAX);
	longest[QUORUM_NODE_ID_MAX] = '\0';
	for (size_t i = 0; i < 3; i++) {
		const char *id = i < 2 ? ids[i] : longest;
		size_t max = attestation_response_max_len(id), len;
		struct quorum_attestation fields = {
			.authority_id = id,
			.key_id = key_id_text,
			.nonce = { test_nonce, QUORUM_NONCE_LEN },
			.midpoint_ns = INT64_MIN,
			.radius_ns = UINT64_MAX,
			.sequence = UINT64_MAX,
			.status = QUORUM_AUTHORITY_UNSYNCHRONISED,
			.processing_ns = UINT64_MAX,
		};
		uint8_t request[1024], *answer;
		struct datagram d;
		const char *reason = NULL;
		int n;

		g_assert_cmpint(attestation_response(key, key_id_text, &fields, &answer, &len),
				==, 0);
		len = datagram_append_sending(answer, len, UINT64_MAX);
		g_assert_cmpuint(len, <=, max);
		free(answer);
		g_assert_cmpuint(max, <=, attestation_response_max_len(NULL));
		/* every request length up to well past the bound: at least what was asked, at
		 * most two bytes more (the padding field's own tag and length), or the bare
		 * request when that is longer */
		int bare = datagram_encode_request(test_nonce, "node-9", 0, request,
						   sizeof(request));

		for (size_t want = 0; want < max + 300; want++) {
			n = datagram_encode_request(test_nonce, "node-9", want, request,
						    sizeof(request));
			g_assert_cmpint(n, >=, (int)want);
			g_assert_cmpint(n, <=, MAX((int)want + 2, bare));
			g_assert_cmpint(datagram_decode(request, (size_t)n, &d, &reason), ==,
					0);
			g_assert_cmpuint(d.length, ==, (size_t)n);
			g_assert_cmpint(d.kind, ==, DATAGRAM_TIME_REQUEST);
			datagram_release(&d);
		}
		g_assert_cmpint(datagram_encode_request(test_nonce, "node-9",
							sizeof(request) + 1, request,
							sizeof(request)),
				==, -ENOSPC);
	}
	EVP_PKEY_free(key);
}

/* A gossip datagram around a SignedState of EVENT_ID with PAYLOAD_LEN bytes, gossip
 * {hops 1, ttl 3, origin node-2}. */
static void gossip_datagram(const char *event_id, size_t payload_len, uint8_t **out,
			    size_t *len)
{
	Uml001__SignedState s = UML001__SIGNED_STATE__INIT;
	Uml001__GossipState g = UML001__GOSSIP_STATE__INIT;
	uint8_t *payload = g_malloc0(payload_len + 1), *encoded;
	size_t encoded_len;

	s.logical_time_ns = 1800000000000000000ULL;
	s.event_id = (char *)event_id;
	s.payload.data = payload;
	s.payload.len = payload_len;
	s.key_id = (char *)"abcd";
	g.hops = 1;
	g.ttl = 3;
	g.origin_node_id = (char *)"node-2";
	s.gossip = &g;
	g_assert_cmpint(proto_encode(&s.base, &encoded, &encoded_len), ==, 0);
	g_assert_cmpint(datagram_encode_gossip(encoded, encoded_len, out, len), ==, 0);
	free(encoded);
	g_free(payload);
}

/* PeerDatagram.gossip: an event, decoded strictly, up to GOSSIP_DATAGRAM_MAX bytes, while
 * the time protocol's datagrams stay within DATAGRAM_MAX. */
static void test_gossip_datagrams(void)
{
	struct datagram d;
	const char *reason = NULL;
	uint8_t *dg, *big, request[DATAGRAM_MAX + 256];
	size_t len;
	char *asker = g_malloc(DATAGRAM_MAX + 1);
	int n;

	gossip_datagram(QUORUM_EVENT_SYNC_ROUND, 100, &dg, &len);
	g_assert_cmpint(datagram_decode(dg, len, &d, &reason), ==, 0);
	g_assert_cmpint(d.kind, ==, DATAGRAM_GOSSIP);
	g_assert_cmpstr(d.message->gossip->event_id, ==, QUORUM_EVENT_SYNC_ROUND);
	g_assert_cmpuint(d.message->gossip->gossip->hops, ==, 1);
	g_assert_cmpstr(d.message->gossip->gossip->origin_node_id, ==, "node-2");
	datagram_release(&d);
	/* an unsigned sending hint belongs to time answers only */
	dg = g_realloc(dg, len + 11);
	len = datagram_append_sending(dg, len, 5);
	assert_datagram_refused(dg, len, "gossip_malformed");
	free(dg);
	/* the envelope's bounds apply inside */
	gossip_datagram("bad id", 10, &dg, &len);
	assert_datagram_refused(dg, len, "envelope_event_id_invalid");
	free(dg);
	/* larger than a time datagram may be, as gossip: fine */
	gossip_datagram(QUORUM_EVENT_SYNC_ROUND, 20000, &dg, &len);
	g_assert_cmpuint(len, >, DATAGRAM_MAX);
	g_assert_cmpint(datagram_decode(dg, len, &d, &reason), ==, 0);
	datagram_release(&d);
	free(dg);
	/* ... but not as a time request */
	memset(asker, 'a', DATAGRAM_MAX);
	asker[DATAGRAM_MAX] = '\0';
	n = datagram_encode_request(test_nonce, asker, 0, request, sizeof(request));
	g_assert_cmpint(n, >, DATAGRAM_MAX);
	assert_datagram_refused(request, (size_t)n, "datagram_too_large");
	/* the bound of any datagram, and of what can be sent */
	big = g_malloc0(GOSSIP_DATAGRAM_MAX + 1);
	assert_datagram_refused(big, GOSSIP_DATAGRAM_MAX + 1, "datagram_too_large");
	g_assert_cmpint(datagram_encode_gossip(big, GOSSIP_DATAGRAM_MAX, &dg, &len), ==,
			-EMSGSIZE);
	g_assert_cmpint(datagram_encode_gossip(big, GOSSIP_DATAGRAM_MAX - 4, &dg, &len), ==, 0);
	g_assert_cmpuint(len, ==, GOSSIP_DATAGRAM_MAX);
	free(dg);
	g_free(big);
	g_free(asker);
}

/* A TimeAttestation inside a SignedState, built by hand so it can be wrong. */
static int decode_built(const char *event_id, const char *key_id, uint64_t time,
			size_t nonce_len, const char **reason)
{
	Uml001__TimeAttestation t = UML001__TIME_ATTESTATION__INIT;
	Uml001__SignedState s = UML001__SIGNED_STATE__INIT;
	uint8_t nonce[64] = { 0 }, *payload;
	size_t len;
	struct attestation a;
	int err;

	t.authority_id = "node-1";
	t.key_id = (char *)key_id;
	t.nonce.data = nonce;
	t.nonce.len = nonce_len;
	t.midpoint_ns = 1000;
	t.status = UML001__AUTHORITY_STATUS__AUTHORITY_STATUS_SYNCHRONISED;
	g_assert_cmpint(proto_encode(&t.base, &payload, &len), ==, 0);
	s.event_id = (char *)event_id;
	s.key_id = "k1";
	s.logical_time_ns = time;
	s.payload.data = payload;
	s.payload.len = len;
	err = attestation_decode(&s, &a, reason);
	if (err == 0)
		attestation_release(&a);
	free(payload);
	return err;
}

static void test_attestation_refusals(void)
{
	const char *reason = NULL;

	g_assert_cmpint(decode_built(QUORUM_EVENT_ATTESTATION, "k1", 1000, 32, &reason), ==, 0);
	g_assert_cmpint(decode_built("uml001.other", "k1", 1000, 32, &reason), ==, -EINVAL);
	g_assert_cmpstr(reason, ==, "attestation_wrong_event");
	g_assert_cmpint(decode_built(QUORUM_EVENT_ATTESTATION, "k1", 1000, 31, &reason), ==,
			-EINVAL);
	g_assert_cmpstr(reason, ==, "attestation_malformed");
	g_assert_cmpint(decode_built(QUORUM_EVENT_ATTESTATION, "k2", 1000, 32, &reason), ==,
			-EINVAL);
	g_assert_cmpstr(reason, ==, "attestation_inconsistent");
	g_assert_cmpint(decode_built(QUORUM_EVENT_ATTESTATION, "k1", 999, 32, &reason), ==,
			-EINVAL);
	g_assert_cmpstr(reason, ==, "attestation_inconsistent");
}

/* ---- rounds: every problem an observation can have ---- */

struct sources {
	EVP_PKEY *key1, *key2;
	char id1[KEY_ID_HEX_LEN + 1], id2[KEY_ID_HEX_LEN + 1];
};

static int lookup(void *arg, const char *id, const char *claimed_key_id,
		  const uint8_t digest[SHA256_DIGEST_LENGTH], uint32_t *type,
		  const char **key_id, EVP_PKEY **key, int *verified)
{
	struct sources *s = arg;

	*verified = 0;
	if (strcmp(id, "node-1") == 0) {
		*type = QUORUM_AUTHORITY_QUORUMD;
		*key_id = s->id1;
		*key = s->key1;
		return 0;
	}
	if (strcmp(id, "node-2") == 0) {
		*type = QUORUM_AUTHORITY_QUORUMD;
		*key_id = s->id2;
		*key = s->key2;
		return 0;
	}
	if (strcmp(id, "pool") == 0) {
		*type = QUORUM_AUTHORITY_NTP;
		*key_id = "";
		*key = NULL;
		return 0;
	}
	return -ENOENT;
}

static void test_round_problems(void)
{
	struct sources s = { .key1 = key_generate(), .key2 = key_generate() };
	struct datagram a1, a2, forged;
	Uml001__Observation obs[7];
	Uml001__Observation *list[7];
	Uml001__TimeAttestation ntp = UML001__TIME_ATTESTATION__INIT;
	Uml001__SyncRound r = UML001__SYNC_ROUND__INIT;
	const char *ids[] = { "node-1", "node-2", "stranger", "node-1",
			      "pool",	"node-1", "node-2" };
	const char *expected[] = {
		NULL, "signature_invalid",    "untrusted_authority",  "duplicate_in_round",
		NULL, "source_type_mismatch", "observation_malformed"
	};
	struct quorum_bytes payload;
	struct round_view *view = NULL;
	const char *reason = NULL;
	uint8_t *bytes;
	size_t len;

	key_id(s.key1, s.id1);
	key_id(s.key2, s.id2);
	make_answer(s.key1, "node-1", 2000000000, 1, &a1);
	make_answer(s.key2, "node-2", 2000000000, 1, &a2);
	/* node-2's name and key id, node-1's signature */
	make_answer_claiming(s.key1, s.id2, "node-2", 2000000000, 1, &forged);
	ntp.authority_id = "pool";
	ntp.midpoint_ns = 2000000000;
	ntp.radius_ns = 100;
	ntp.status = UML001__AUTHORITY_STATUS__AUTHORITY_STATUS_SYNCHRONISED;
	for (int i = 0; i < 7; i++) {
		uml001__observation__init(&obs[i]);
		obs[i].source_id = (char *)ids[i];
		obs[i].rtt_ns = 100000;
		obs[i].age_ns = 10;
		obs[i].attestation = a1.message->time_response;
		list[i] = &obs[i];
	}
	obs[1].attestation = forged.message->time_response;
	obs[4].attestation = NULL;
	obs[4].ntp = &ntp;
	obs[5].source_id = "pool"; /* an NTP source that sends a signed answer */
	obs[6].rtt_ns = -1;
	obs[6].attestation = a2.message->time_response;
	r.node_id = "node-1";
	r.round = 9;
	r.reference_mono_ns = 5;
	r.n_observations = 7;
	r.observations = list;
	g_assert_cmpint(proto_encode(&r.base, &bytes, &len), ==, 0);
	payload = (struct quorum_bytes){ bytes, len };
	g_assert_cmpint(round_decode(&payload, "node-1", lookup, &s, &view, &reason), ==, 0);
	g_assert_true(view->round.local);
	g_assert_cmpuint(view->round.round, ==, 9);
	g_assert_cmpuint(view->round.observation_count, ==, 7);
	for (int i = 0; i < 7; i++)
		g_assert_cmpstr(view->round.observations[i].problem, ==, expected[i]);
	g_assert_cmpuint(view->round.observations[4].type, ==, QUORUM_AUTHORITY_NTP);
	round_view_free(view);
	/* Seen from another node, the same round is not local. */
	g_assert_cmpint(round_decode(&payload, "node-2", lookup, &s, &view, &reason), ==, 0);
	g_assert_false(view->round.local);
	round_view_free(view);
	/* A truncated payload is refused as a whole. */
	payload.len--;
	g_assert_cmpint(round_decode(&payload, "node-1", lookup, &s, &view, &reason), ==,
			-EINVAL);
	g_assert_cmpstr(reason, ==, "round_decode_failed");
	free(bytes);
	/* A nonce seed is 32 bytes, or none (a node drawing each nonce on its own). */
	{
		static const uint8_t seed[33] = { 1 };

		r.nonce_seed.data = (uint8_t *)seed;
		r.nonce_seed.len = 32;
		g_assert_cmpint(proto_encode(&r.base, &bytes, &len), ==, 0);
		payload = (struct quorum_bytes){ bytes, len };
		g_assert_cmpint(round_decode(&payload, "node-1", lookup, &s, &view, &reason),
				==, 0);
		round_view_free(view);
		free(bytes);
		r.nonce_seed.len = 33;
		g_assert_cmpint(proto_encode(&r.base, &bytes, &len), ==, 0);
		payload = (struct quorum_bytes){ bytes, len };
		g_assert_cmpint(round_decode(&payload, "node-1", lookup, &s, &view, &reason),
				==, -EINVAL);
		g_assert_cmpstr(reason, ==, "round_malformed");
		free(bytes);
	}
	datagram_release(&a1);
	datagram_release(&a2);
	datagram_release(&forged);
	EVP_PKEY_free(s.key1);
	EVP_PKEY_free(s.key2);
}

/* A round's nonces: one per authority from the round's seed, none predictable from another,
 * and this exact function (the round log rebuilds them with it). */
static void test_round_nonces(void)
{
	static const uint8_t seed[ROUND_SEED_LEN] = { 0x42 };
	static const char domain[] = "quorum-round-nonce-v1";
	uint8_t a[ROUND_NONCE_LEN], b[ROUND_NONCE_LEN], want[ROUND_NONCE_LEN];
	uint8_t msg[sizeof(domain) + ROUND_SEED_LEN + 6];

	round_nonce(seed, "node-1", a);
	round_nonce(seed, "node-2", b);
	g_assert_cmpint(memcmp(a, b, sizeof(a)), !=, 0);
	memcpy(msg, domain, sizeof(domain));
	memcpy(msg + sizeof(domain), seed, ROUND_SEED_LEN);
	memcpy(msg + sizeof(domain) + ROUND_SEED_LEN, "node-1", 6);
	SHA256(msg, sizeof(msg), want);
	g_assert_cmpmem(a, sizeof(a), want, sizeof(want));
}

/* ---- the served clock ---- */

#define MS 1000000LL
#define US 1000LL

static struct quorum_agreement agreement_at(int64_t mono, int64_t estimate, int64_t half_width)
{
	return (struct quorum_agreement){ .size = sizeof(struct quorum_agreement),
					  .n = 4,
					  .f = 1,
					  .accepted = 4,
					  .local = 1,
					  .round = 1,
					  .reference_mono_ns = mono,
					  .earliest_ns = estimate - half_width,
					  .estimate_ns = estimate,
					  .latest_ns = estimate + half_width };
}

static void eval_at(struct served_clock *clock, const char *path, int64_t mono,
		    struct quorum_clock_eval *out)
{
	struct quorum_clock_page page;
	FILE *f = fopen(path, "rb");

	g_assert_nonnull(f);
	g_assert_cmpint(fread(&page, sizeof(page), 1, f), ==, 1);
	fclose(f);
	quorum_clock_page_eval(&page, mono, out);
}

struct clock_fixture {
	char *dir, *path;
	struct served_clock *clock;
};

static void clock_setup(struct clock_fixture *f, gconstpointer data)
{
	char why[ERRBUF_SIZE];

	f->dir = testutil_scratch_new();
	f->path = testutil_path(f->dir, "clock");
	/* 50 ppm growth, 500 ppm slew, unsynchronised beyond 200 us */
	g_assert_cmpint(
		served_clock_open(f->path, 50, 500, 200 * US, &f->clock, why, sizeof(why)), ==,
		0);
}

static void clock_teardown(struct clock_fixture *f, gconstpointer data)
{
	served_clock_close(f->clock, 1);
	g_free(f->path);
	testutil_scratch_free(f->dir);
}

static void test_clock_unsynchronised_until_commit(struct clock_fixture *f, gconstpointer data)
{
	struct quorum_clock_reading reading;
	struct quorum_clock_eval eval;

	served_clock_read(f->clock, &reading);
	g_assert_cmpuint(reading.status, ==, QUORUM_CLOCK_UNSYNCHRONISED);
	g_assert_cmpint(reading.estimate_ns, ==, 0); /* never a wrong time */
	eval_at(f->clock, f->path, mono_now_ns(), &eval);
	g_assert_false(eval.synchronised);
}

static void test_clock_bound_grows_with_drift(struct clock_fixture *f, gconstpointer data)
{
	int64_t t0 = mono_now_ns();
	struct quorum_agreement a = agreement_at(t0, 1000 * 1000000000LL, 10 * US);
	struct clock_commit_outcome outcome;
	struct quorum_clock_eval eval;

	g_assert_cmpint(served_clock_check(f->clock, &a), ==, 0);
	served_clock_commit(f->clock, &a, 0, &outcome);
	g_assert_true(outcome.first);
	eval_at(f->clock, f->path, t0, &eval);
	g_assert_true(eval.synchronised);
	g_assert_cmpint(eval.estimate_ns, ==, a.estimate_ns);
	g_assert_cmpint(eval.earliest_ns, ==, a.earliest_ns);
	g_assert_cmpint(eval.latest_ns, ==, a.latest_ns);
	/* One second later: the estimate moved by a second, each end by 50 us more. */
	eval_at(f->clock, f->path, t0 + 1000 * MS, &eval);
	g_assert_cmpint(eval.estimate_ns, ==, a.estimate_ns + 1000 * MS);
	g_assert_cmpint(eval.earliest_ns, ==, a.earliest_ns + 1000 * MS - 50 * US);
	g_assert_cmpint(eval.latest_ns, ==, a.latest_ns + 1000 * MS + 50 * US);
	g_assert_cmpint(eval.error_bound_ns, ==, 60 * US);
	g_assert_true(eval.synchronised);
}

/* Fail closed when the bound passes max_error, and back after the next agreement: no latch. */
static void test_clock_fails_closed_and_recovers(struct clock_fixture *f, gconstpointer data)
{
	int64_t t0 = mono_now_ns() - 10000 * MS; /* an agreement 10 s old ... */
	struct quorum_agreement a = agreement_at(t0, 2000 * 1000000000LL, 10 * US);
	struct clock_commit_outcome outcome;
	struct quorum_clock_eval eval;
	struct quorum_clock_reading reading;

	served_clock_commit(f->clock, &a, 0, &outcome);
	/* ... after 3.8 s its bound reached 10 + 190 = 200 us: still synchronised; after 4 s,
	 * 210 us > 200 us: unsynchronised. */
	eval_at(f->clock, f->path, t0 + 3800 * MS, &eval);
	g_assert_true(eval.synchronised);
	eval_at(f->clock, f->path, t0 + 4000 * MS, &eval);
	g_assert_false(eval.synchronised);
	served_clock_read(f->clock, &reading);
	g_assert_cmpuint(reading.status, ==, QUORUM_CLOCK_UNSYNCHRONISED);
	/* A fresh agreement, in line with what was served, brings it back at once. */
	{
		int64_t now = mono_now_ns();

		eval_at(f->clock, f->path, now, &eval);
		a = agreement_at(now, eval.estimate_ns, 10 * US);
	}
	served_clock_commit(f->clock, &a, 0, &outcome);
	served_clock_read(f->clock, &reading);
	g_assert_cmpuint(reading.status, ==, QUORUM_CLOCK_SYNCHRONISED);
	g_assert_cmpint(reading.error_bound_ns, <=, 200 * US);
}

/* A correction backwards is slewed: the estimate never decreases, the bound always holds
 * the estimate, and the agreement's line is reached at the slew rate. */
static void test_clock_never_backwards(struct clock_fixture *f, gconstpointer data)
{
	int64_t t0 = mono_now_ns() - 100 * MS, tc, prev = INT64_MIN;
	struct quorum_agreement a = agreement_at(t0, 3000 * 1000000000LL, 20 * US);
	struct clock_commit_outcome outcome;
	struct quorum_clock_eval eval;

	served_clock_commit(f->clock, &a, 0, &outcome);
	/* The next agreement says the clock ran 100 us fast. */
	tc = mono_now_ns();
	a = agreement_at(tc, 3000 * 1000000000LL + (tc - t0) - 100 * US, 20 * US);
	served_clock_commit(f->clock, &a, 0, &outcome);
	g_assert_true(outcome.slewed);
	g_assert_cmpint(outcome.step_ns, <, -90 * US);
	for (int64_t t = tc; t < tc + 400 * MS; t += MS) {
		eval_at(f->clock, f->path, t, &eval);
		g_assert_cmpint(eval.estimate_ns, >=, prev);
		g_assert_cmpint(eval.earliest_ns, <=, eval.estimate_ns);
		g_assert_cmpint(eval.latest_ns, >=, eval.estimate_ns);
		prev = eval.estimate_ns;
	}
	/* 100 us at 500 ppm: caught up after 200 ms, then it is the agreement's line. */
	eval_at(f->clock, f->path, tc + 250 * MS, &eval);
	g_assert_cmpint(eval.estimate_ns, ==, a.estimate_ns + 250 * MS);
	g_assert_cmpint(eval.latest_ns, ==, a.latest_ns + 250 * MS + 12500 /* 50 ppm growth */);
}

static void test_clock_forward_step_capped(struct clock_fixture *f, gconstpointer data)
{
	int64_t t0 = mono_now_ns() - 50 * MS, tc;
	struct quorum_agreement a = agreement_at(t0, 4000 * 1000000000LL, 20 * US);
	struct clock_commit_outcome outcome;
	struct quorum_clock_eval before, after;

	served_clock_commit(f->clock, &a, 0, &outcome);
	tc = mono_now_ns();
	eval_at(f->clock, f->path, tc, &before);
	/* The next agreement is 1 s ahead, the step limit 1 ms. */
	a = agreement_at(tc, before.estimate_ns + 1000 * MS, 20 * US);
	served_clock_commit(f->clock, &a, 1 * MS, &outcome);
	g_assert_true(outcome.clamped);
	eval_at(f->clock, f->path, tc + 10 * MS, &after);
	g_assert_cmpint(after.estimate_ns, <=,
			before.estimate_ns + 10 * MS + 1 * MS + 100 * US);
	g_assert_cmpint(after.estimate_ns, >=, before.estimate_ns + 10 * MS);
	/* Served that far from the agreement, the node cannot claim a small bound. */
	g_assert_false(after.synchronised);
}

/* A round measured through a stall (a wide interval around the same time) does not widen
 * what is served: the previous bound, grown by the drift since, still holds true time, and
 * the clock serves the intersection. A disjoint agreement is served alone. */
static void test_clock_keeps_the_tighter_bound(struct clock_fixture *f, gconstpointer data)
{
	int64_t t0 = mono_now_ns() - 400 * MS, t1 = t0 + 400 * MS;
	struct quorum_agreement a = agreement_at(t0, 6000 * 1000000000LL, 20 * US);
	struct clock_commit_outcome outcome;
	struct quorum_clock_eval eval;

	served_clock_commit(f->clock, &a, 0, &outcome);
	g_assert_false(outcome.narrowed);
	/* 400 ms later, an agreement 3 ms wide around the same line: alone it would be
	 * unsynchronised (max_error 200 us). The previous bound at t1 is 20 + 20 us each way.
	 */
	a = agreement_at(t1, 6000 * 1000000000LL + 400 * MS + 5 * US, 1500 * US);
	served_clock_commit(f->clock, &a, 0, &outcome);
	g_assert_true(outcome.narrowed);
	g_assert_false(outcome.disjoint);
	g_assert_cmpint(outcome.served_width_ns, ==, 80 * US);
	eval_at(f->clock, f->path, t1, &eval);
	g_assert_true(eval.synchronised);
	g_assert_cmpint(eval.earliest_ns, ==, 6000 * 1000000000LL + 400 * MS - 40 * US);
	g_assert_cmpint(eval.latest_ns, ==, 6000 * 1000000000LL + 400 * MS + 40 * US);
	g_assert_cmpint(eval.estimate_ns, ==, a.estimate_ns);
	/* An agreement narrower than what is served replaces it (intersection = itself). */
	a = agreement_at(t1, 6000 * 1000000000LL + 400 * MS + 10 * US, 5 * US);
	served_clock_commit(f->clock, &a, 0, &outcome);
	g_assert_false(outcome.narrowed);
	g_assert_cmpint(outcome.served_width_ns, ==, 10 * US);
	/* The estimate is kept inside the intersection. */
	a = agreement_at(t1, 6000 * 1000000000LL + 400 * MS + 14 * US, 1000 * US);
	a.estimate_ns = a.latest_ns;
	served_clock_commit(f->clock, &a, 0, &outcome);
	eval_at(f->clock, f->path, t1, &eval);
	g_assert_cmpint(eval.latest_ns, ==, 6000 * 1000000000LL + 400 * MS + 15 * US);
	g_assert_cmpint(eval.estimate_ns, <=, eval.latest_ns);
	/* Disjoint (the new agreement is 10 ms ahead): served alone, step capped or slewed. */
	a = agreement_at(t1, 6000 * 1000000000LL + 410 * MS, 20 * US);
	served_clock_commit(f->clock, &a, 0, &outcome);
	g_assert_true(outcome.disjoint);
	g_assert_cmpint(outcome.served_width_ns, ==, 40 * US);
}

static void test_clock_check_refuses(struct clock_fixture *f, gconstpointer data)
{
	struct quorum_agreement a = agreement_at(mono_now_ns(), 5000 * 1000000000LL, 10 * US);

	g_assert_cmpint(served_clock_check(f->clock, &a), ==, 0);
	a.local = 0;
	g_assert_cmpint(served_clock_check(f->clock, &a), ==, -EINVAL);
	a = agreement_at(mono_now_ns(), 5000 * 1000000000LL, 10 * US);
	a.earliest_ns = a.latest_ns + 1;
	g_assert_cmpint(served_clock_check(f->clock, &a), ==, -EINVAL);
	a = agreement_at(mono_now_ns() - 120000 * MS, 5000 * 1000000000LL, 10 * US);
	g_assert_cmpint(served_clock_check(f->clock, &a), ==, -EINVAL);
	a = agreement_at(mono_now_ns() + 1000 * MS, 5000 * 1000000000LL, 10 * US);
	g_assert_cmpint(served_clock_check(f->clock, &a), ==, -EINVAL);
}

/* The page as a program sees it through libquorum-clock; a second writer is refused. */
static void test_clock_page_through_client(struct clock_fixture *f, gconstpointer data)
{
	struct quorum_clock *client;
	struct quorum_now now;
	struct served_clock *second;
	char why[ERRBUF_SIZE];
	int64_t real;
	struct quorum_agreement a;
	struct clock_commit_outcome outcome;

	g_assert_cmpint(quorum_clock_open(f->path, &client), ==, 0);
	g_assert_cmpint(quorum_clock_now(client, &now), ==, 0);
	g_assert_cmpint(now.status, ==, QUORUM_NOW_UNSYNCHRONISED);
	real = realtime_now_ns();
	a = agreement_at(mono_now_ns(), real, 50 * US);
	served_clock_commit(f->clock, &a, 0, &outcome);
	g_assert_cmpint(quorum_clock_now(client, &now), ==, 0);
	g_assert_cmpint(now.status, ==, QUORUM_NOW_SYNCHRONISED);
	g_assert_cmpint(now.earliest_ns, <=, now.estimate_ns);
	g_assert_cmpint(now.estimate_ns, <=, now.latest_ns);
	g_assert_cmpint(now.estimate_ns, >=, real);
	g_assert_cmpint(
		served_clock_open(f->path, 50, 500, 200 * US, &second, why, sizeof(why)), ==,
		-EBUSY);
	g_assert_nonnull(strstr(why, "held by another quorumd"));
	quorum_clock_close(client);
	g_assert_cmpint(quorum_clock_open("/nonexistent/clock", &client), ==, -ENOENT);
}

/* ---- whose page is trusted (clock-page.h) ---- */

#define NOBODY ((uid_t)65534)

/* The forged page: "synchronised", an hour ahead, with a 2 us bound, written to
 * PATH with MODE and owned by UID. */
static void forge_page(const char *path, uid_t uid, mode_t mode)
{
	struct quorum_clock_page p = { 0 };
	int64_t ahead;
	int fd;

	ahead = realtime_now_ns() + 3600 * 1000000000LL;
	p.magic = QUORUM_CLOCK_PAGE_MAGIC;
	p.version = QUORUM_CLOCK_PAGE_VERSION;
	p.size = sizeof(p);
	p.generation = 2;
	p.status = 1;
	p.slew_ppm = 500;
	p.ref_mono_ns = p.line_mono_ns = mono_now_ns();
	p.ref_estimate_ns = ahead;
	p.ref_earliest_ns = ahead - 1000;
	p.ref_latest_ns = ahead + 1000;
	p.floor_base_ns = INT64_MIN;
	p.cap_base_ns = INT64_MAX;
	p.max_error_ns = 1000000000;
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpint(write(fd, &p, sizeof(p)), ==, (ssize_t)sizeof(p));
	g_assert_cmpint(ftruncate(fd, QUORUM_CLOCK_PAGE_SIZE), ==, 0);
	g_assert_cmpint(fchmod(fd, mode), ==, 0);
	g_assert_cmpint(fchown(fd, uid, (gid_t)-1), ==, 0);
	close(fd);
}

/* 0 when the page at PATH opens, else the error; WHY gets the reason. */
static int reader_open(const char *path, char *why, size_t why_size)
{
	struct quorum_clock *clock = NULL;
	int err = quorum_clock_open_why(path, &clock, why, why_size);

	if (err == 0) {
		g_assert_nonnull(clock);
		quorum_clock_close(clock);
	}
	return err;
}

static char *folder_new(const char *base, const char *name, mode_t mode, uid_t uid)
{
	char *dir = testutil_path(base, name);

	g_assert_cmpint(mkdir(dir, 0700), ==, 0);
	g_assert_cmpint(chmod(dir, mode), ==, 0);
	g_assert_cmpint(chown(dir, uid, (gid_t)-1), ==, 0);
	return dir;
}

/* A reader refuses a page another user could have forged; it reads root's, its own, and
 * the service user's in a folder root handed over. */
static void test_page_reader_refuses_forged_page(void)
{
	char *base, *shared, *open_dir, *handed, *page, *link, why[ERRBUF_SIZE];
	struct quorum_clock *clock;
	struct quorum_now now;

	if (geteuid() != 0) {
		g_test_skip("owners other than the caller need root");
		return;
	}
	base = testutil_scratch_new(); /* root's, 0700 */
	/* in a shared folder (sticky, writable by all, as /tmp): another user's page */
	shared = folder_new(base, "shared", 01777, 0);
	page = testutil_path(shared, "clock");
	forge_page(page, NOBODY, 0644);
	g_assert_cmpint(reader_open(page, why, sizeof(why)), ==, -EPERM);
	g_assert_nonnull(strstr(why, "belongs to uid 65534: neither root, nor this user"));
	/* ... also through $QUORUM_CLOCK and quorum_now()'s default path (secure_getenv) */
	g_setenv("QUORUM_CLOCK", page, TRUE);
	g_assert_cmpint(reader_open(NULL, why, sizeof(why)), ==, -EPERM);
	g_unsetenv("QUORUM_CLOCK");
	/* the same bytes written by root would be read: the refusal is about who wrote it */
	g_assert_cmpint(chown(page, 0, (gid_t)-1), ==, 0);
	g_assert_cmpint(quorum_clock_open_why(page, &clock, why, sizeof(why)), ==, 0);
	g_assert_cmpint(quorum_clock_now(clock, &now), ==, 0);
	g_assert_cmpint(now.status, ==, QUORUM_NOW_SYNCHRONISED);
	quorum_clock_close(clock);
	/* a page others may write */
	g_assert_cmpint(chmod(page, 0666), ==, 0);
	g_assert_cmpint(reader_open(page, why, sizeof(why)), ==, -EPERM);
	g_assert_nonnull(strstr(why, "writable by group or others"));
	g_free(page);
	/* root's page, but in a folder where anyone may replace it (no sticky bit) */
	open_dir = folder_new(base, "open", 0777, 0);
	page = testutil_path(open_dir, "clock");
	forge_page(page, 0, 0644);
	g_assert_cmpint(reader_open(page, why, sizeof(why)), ==, -EPERM);
	g_assert_nonnull(strstr(why, "without the sticky bit"));
	/* a link to a page is not followed */
	link = testutil_path(base, "link");
	g_assert_cmpint(chmod(open_dir, 0755), ==, 0);
	g_assert_cmpint(symlink(page, link), ==, 0);
	g_assert_cmpint(reader_open(link, why, sizeof(why)), ==, -ELOOP);
	g_assert_nonnull(strstr(why, "symbolic link"));
	g_free(page);
	/* the service user's page in the folder root gave it (RuntimeDirectory=) */
	handed = folder_new(base, "run", 0755, NOBODY);
	page = testutil_path(handed, "clock");
	forge_page(page, NOBODY, 0644);
	g_assert_cmpint(reader_open(page, why, sizeof(why)), ==, 0);
	/* ... unless another user could have made that folder */
	g_assert_cmpint(chmod(base, 01777), ==, 0);
	g_assert_cmpint(reader_open(page, why, sizeof(why)), ==, -EPERM);
	g_assert_cmpint(chmod(base, 0700), ==, 0);
	g_free(page);
	g_free(link);
	g_free(handed);
	g_free(open_dir);
	g_free(shared);
	testutil_scratch_free(base);
}

/* quorumd refuses a page it did not make, and makes a new one 0644 in a shared folder. */
static void test_page_writer_refuses_planted_page(void)
{
	char *base, *shared, *page, why[ERRBUF_SIZE];
	struct served_clock *clock = NULL;
	struct stat st;

	if (geteuid() != 0) {
		g_test_skip("owners other than the caller need root");
		return;
	}
	base = testutil_scratch_new();
	shared = folder_new(base, "shared", 01777, 0);
	page = testutil_path(shared, "clock");
	forge_page(page, NOBODY, 0644);
	g_assert_cmpint(served_clock_open(page, 50, 500, 200 * US, &clock, why, sizeof(why)),
			==, -EPERM);
	g_assert_null(clock);
	g_assert_nonnull(strstr(why, "was not made by quorumd (owner uid 65534"));
	g_assert_cmpint(stat(page, &st), ==, 0);
	g_assert_cmpuint(st.st_uid, ==, NOBODY); /* left alone: neither taken nor written */
	/* ours, but others may write it, or it has a second name */
	g_assert_cmpint(chown(page, 0, (gid_t)-1), ==, 0);
	g_assert_cmpint(chmod(page, 0646), ==, 0);
	g_assert_cmpint(served_clock_open(page, 50, 500, 200 * US, &clock, why, sizeof(why)),
			==, -EPERM);
	g_assert_cmpint(chmod(page, 0644), ==, 0);
	{
		char *alias = testutil_path(base, "alias");

		g_assert_cmpint(link(page, alias), ==, 0);
		g_assert_cmpint(
			served_clock_open(page, 50, 500, 200 * US, &clock, why, sizeof(why)),
			==, -EPERM);
		g_assert_nonnull(strstr(why, "2 links"));
		g_assert_cmpint(unlink(alias), ==, 0);
		g_free(alias);
	}
	/* a link planted for it */
	g_assert_cmpint(unlink(page), ==, 0);
	g_assert_cmpint(symlink("/etc/passwd", page), ==, 0);
	g_assert_cmpint(served_clock_open(page, 50, 500, 200 * US, &clock, why, sizeof(why)),
			==, -ELOOP);
	g_assert_cmpint(unlink(page), ==, 0);
	/* made new: ours, 0644 so readers can read it, even with a strict umask */
	{
		mode_t old = umask(077);

		g_assert_cmpint(
			served_clock_open(page, 50, 500, 200 * US, &clock, why, sizeof(why)),
			==, 0);
		umask(old);
	}
	g_assert_cmpint(stat(page, &st), ==, 0);
	g_assert_cmpuint(st.st_mode & 07777, ==, 0644);
	g_assert_cmpuint(st.st_uid, ==, 0);
	g_assert_cmpint(reader_open(page, why, sizeof(why)), ==, 0);
	served_clock_close(clock, 1);
	/* a folder where anyone may replace the page (no sticky bit) */
	g_assert_cmpint(chmod(shared, 0777), ==, 0);
	clock = NULL;
	g_assert_cmpint(served_clock_open(page, 50, 500, 200 * US, &clock, why, sizeof(why)),
			==, -EPERM);
	g_assert_nonnull(strstr(why, "without the sticky bit"));
	g_free(page);
	g_free(shared);
	testutil_scratch_free(base);
}

/* ---- the node state ---- */

static void test_nodestate_roundtrip_and_tamper(void)
{
	char *dir = testutil_scratch_new(), why[ERRBUF_SIZE], *file;
	EVP_PKEY *key = key_generate(), *other = key_generate();
	struct authority items[2] = { { .id = "node-1" }, { .id = "node-2" } };
	struct authority_table table = { .items = items, .count = 2 };
	struct nodestate state, loaded;

	g_assert_cmpint(nodestate_load(&state, dir, "node-1", key, &table, why, sizeof(why)),
			==, 0);
	g_assert_false(state.has_agreement); /* a fresh start */
	state.sequence_lease = 12345;
	state.has_agreement = 1;
	state.last_round = 77;
	state.last_drift_ns = -42;
	items[1].last_sequence = 999;
	g_assert_cmpint(nodestate_save(&state, "node-1", key, &table, why, sizeof(why)), ==, 0);
	items[1].last_sequence = 0;
	g_assert_cmpint(nodestate_load(&loaded, dir, "node-1", key, &table, why, sizeof(why)),
			==, 0);
	g_assert_cmpuint(loaded.sequence_lease, ==, 12345);
	g_assert_cmpuint(loaded.last_round, ==, 77);
	g_assert_cmpint(loaded.last_drift_ns, ==, -42);
	g_assert_cmpuint(items[1].last_sequence, ==, 999);
	nodestate_release(&loaded);
	/* Another node's key, another node id, one flipped bit: each refused. */
	g_assert_cmpint(nodestate_load(&loaded, dir, "node-1", other, &table, why, sizeof(why)),
			==, -EINVAL);
	g_assert_nonnull(strstr(why, "not signed by this node's key"));
	nodestate_release(&loaded);
	g_assert_cmpint(nodestate_load(&loaded, dir, "node-2", key, &table, why, sizeof(why)),
			==, -EINVAL);
	nodestate_release(&loaded);
	file = testutil_path(dir, "node.state");
	testutil_flip_bit(file, 10, 0);
	g_assert_cmpint(nodestate_load(&loaded, dir, "node-1", key, &table, why, sizeof(why)),
			==, -EINVAL);
	g_assert_nonnull(strstr(why, "remove it to start afresh"));
	nodestate_release(&loaded);
	nodestate_release(&state);
	g_free(file);
	EVP_PKEY_free(key);
	EVP_PKEY_free(other);
	testutil_scratch_free(dir);
}

/* ---- what the last round made of each source ---- */

static void test_sources_report(void)
{
	struct authority items[3] = { { .id = "a", .type = QUORUM_AUTHORITY_QUORUMD },
				      { .id = "b", .type = QUORUM_AUTHORITY_QUORUMD },
				      { .id = "ntp-1", .type = QUORUM_AUTHORITY_NTP } };
	struct authority_table t = { .items = items, .count = 3, .n = 2, .ntp = 1 };
	struct quorum_source_report r[] = {
		{ .source_id = "a",
		  .state = QUORUM_SOURCE_ACCEPTED,
		  .offset_ns = -5,
		  .rtt_ns = 90 },
		{ .source_id = "stranger",
		  .state = QUORUM_SOURCE_REJECTED,
		  .problem = "untrusted_authority" },
		{ .source_id = "a",
		  .state = QUORUM_SOURCE_REJECTED,
		  .problem = "duplicate_in_round" },
		{ .source_id = "ntp-1", .state = QUORUM_SOURCE_OUTLIER, .offset_ns = 7000000 },
	};
	struct quorum_source_status st[4];
	size_t count = 0;

	authorities_status(&t, st, 4, &count);
	g_assert_cmpuint(count, ==, 3);
	g_assert_cmpuint(st[0].state, ==, QUORUM_SOURCE_UNKNOWN);
	g_assert_cmpint(st[0].age_ns, ==, 0);
	g_assert_cmpint(authorities_report(&t, 7, r, G_N_ELEMENTS(r)), ==, 0);
	authorities_status(&t, st, 4, &count);
	/* the first report of a wins; b, not named, is silent; the stranger is skipped */
	g_assert_cmpstr(st[0].id, ==, "a");
	g_assert_cmpstr(quorum_source_state_name(st[0].state), ==, "accepted");
	g_assert_cmpstr(st[0].problem, ==, "");
	g_assert_cmpint(st[0].offset_ns, ==, -5);
	g_assert_cmpint(st[0].rtt_ns, ==, 90);
	g_assert_cmpuint(st[0].round, ==, 7);
	g_assert_cmpint(st[0].age_ns, >=, 0);
	g_assert_cmpstr(quorum_source_state_name(st[1].state), ==, "silent");
	g_assert_cmpuint(st[1].round, ==, 7);
	g_assert_cmpuint(st[2].type, ==, QUORUM_AUTHORITY_NTP);
	g_assert_cmpstr(quorum_source_state_name(st[2].state), ==, "outlier");
	/* a state out of range changes nothing */
	r[0].state = 99;
	g_assert_cmpint(authorities_report(&t, 8, r, 1), ==, -EINVAL);
	authorities_status(&t, st, 1, &count);
	g_assert_cmpuint(count, ==, 3);
	g_assert_cmpuint(st[0].round, ==, 7);
	g_assert_cmpstr(quorum_source_state_name(99), ==, "unknown");
	/* a rejection keeps its reason */
	r[0] = (struct quorum_source_report){ .source_id = "b",
					      .state = QUORUM_SOURCE_REJECTED,
					      .problem = "signature_invalid" };
	g_assert_cmpint(authorities_report(&t, 9, r, 1), ==, 0);
	authorities_status(&t, st, 4, &count);
	g_assert_cmpstr(st[1].problem, ==, "signature_invalid");
	g_assert_cmpstr(quorum_source_state_name(st[0].state), ==, "silent");
}

/* ---- each source's interval from the last round (api source_intervals, ABI 1.13) ---- */

static void test_source_intervals(void)
{
	struct authority items[3] = { { .id = "a", .type = QUORUM_AUTHORITY_QUORUMD },
				      { .id = "b", .type = QUORUM_AUTHORITY_QUORUMD },
				      { .id = "c", .type = QUORUM_AUTHORITY_QUORUMD } };
	struct authority_table t = { .items = items, .count = 3, .n = 3 };
	struct quorum_round_intervals round = { .round = 7,
						.agreed = 1,
						.reference_ns = 1000,
						.earliest_ns = 990,
						.estimate_ns = 1000,
						.latest_ns = 1010,
						.authorities_earliest_ns = 985,
						.authorities_latest_ns = 1012 },
				      got;
	struct quorum_source_interval s[] = {
		{ .id = "a",
		  .has_interval = 1,
		  .earliest_ns = 980,
		  .estimate_ns = 1001,
		  .latest_ns = 1020 },
		{ .id = "stranger",
		  .has_interval = 1,
		  .earliest_ns = 1,
		  .estimate_ns = 2,
		  .latest_ns = 3 },
		{ .id = "a",
		  .has_interval = 1,
		  .earliest_ns = 0,
		  .estimate_ns = 0,
		  .latest_ns = 0 },
		{ .id = "c",
		  .has_interval = 0,
		  .earliest_ns = 5,
		  .estimate_ns = 6,
		  .latest_ns = 7 },
	};
	struct quorum_source_interval out[3];

	authorities_intervals(&t, &got, out, 3);
	g_assert_cmpuint(got.round, ==, 0);
	g_assert_cmpuint(got.count, ==, 3);
	g_assert_cmpint(got.age_ns, ==, 0);
	g_assert_cmpstr(out[1].id, ==, "b");
	g_assert_cmpuint(out[1].has_interval, ==, 0);
	g_assert_cmpint(authorities_report_intervals(&t, &round, s, G_N_ELEMENTS(s)), ==, 0);
	authorities_intervals(&t, &got, out, 3);
	g_assert_cmpuint(got.round, ==, 7);
	g_assert_cmpuint(got.agreed, ==, 1);
	g_assert_cmpuint(got.count, ==, 3);
	g_assert_cmpint(got.earliest_ns, ==, 990);
	g_assert_cmpint(got.authorities_latest_ns, ==, 1012);
	g_assert_cmpint(got.age_ns, >=, 0);
	/* the first interval of a wins; b, not named, has none; c said it has none */
	g_assert_cmpstr(out[0].id, ==, "a");
	g_assert_cmpuint(out[0].has_interval, ==, 1);
	g_assert_cmpint(out[0].earliest_ns, ==, 980);
	g_assert_cmpint(out[0].estimate_ns, ==, 1001);
	g_assert_cmpint(out[0].latest_ns, ==, 1020);
	g_assert_cmpuint(out[1].has_interval, ==, 0);
	g_assert_cmpuint(out[2].has_interval, ==, 0);
	g_assert_cmpint(out[2].latest_ns, ==, 0);
	/* an interval whose ends are out of order changes nothing */
	s[0].earliest_ns = 2000;
	round.round = 8;
	g_assert_cmpint(authorities_report_intervals(&t, &round, s, 1), ==, -EINVAL);
	authorities_intervals(&t, &got, out, 3);
	g_assert_cmpuint(got.round, ==, 7);
	g_assert_cmpint(out[0].earliest_ns, ==, 980);
	/* so does an agreement out of order */
	s[0].earliest_ns = 980;
	round.earliest_ns = 1005;
	g_assert_cmpint(authorities_report_intervals(&t, &round, s, 1), ==, -EINVAL);
	/* a round without agreement keeps the intervals, not the agreement's ends */
	round = (struct quorum_round_intervals){ .round = 9, .reference_ns = 1000 };
	g_assert_cmpint(authorities_report_intervals(&t, &round, s, 1), ==, 0);
	authorities_intervals(&t, &got, out, 3);
	g_assert_cmpuint(got.round, ==, 9);
	g_assert_cmpuint(got.agreed, ==, 0);
	g_assert_cmpuint(out[0].has_interval, ==, 1);
}

/* ---- a configured authority's signature (api->authority_verify, ABI 1.5) ---- */

static void test_authorities_verify(void)
{
	EVP_PKEY *k1 = key_generate(), *k2 = key_generate();
	struct authority items[3] = {
		{ .id = "a", .type = QUORUM_AUTHORITY_QUORUMD, .key = k1 },
		{ .id = "b", .type = QUORUM_AUTHORITY_QUORUMD, .key = k2 },
		{ .id = "ntp-1", .type = QUORUM_AUTHORITY_NTP }
	};
	struct authority_table t = { .items = items, .count = 3, .n = 2, .ntp = 1 };
	static const char msg[] = "uml001.shared_state.v1|a|...";
	uint8_t sig[KEY_SIGNATURE_LEN];

	key_id(k1, items[0].key_id);
	key_id(k2, items[1].key_id);
	g_assert_cmpint(key_sign(k1, msg, sizeof(msg) - 1, sig), ==, 0);
	g_assert_cmpint(authorities_verify(&t, "a", items[0].key_id, msg, sizeof(msg) - 1, sig,
					   sizeof(sig)),
			==, 0);
	/* another authority's key id, an unknown authority, an NTP source: -ENOENT */
	g_assert_cmpint(authorities_verify(&t, "a", items[1].key_id, msg, sizeof(msg) - 1, sig,
					   sizeof(sig)),
			==, -ENOENT);
	g_assert_cmpint(authorities_verify(&t, "c", items[0].key_id, msg, sizeof(msg) - 1, sig,
					   sizeof(sig)),
			==, -ENOENT);
	g_assert_cmpint(
		authorities_verify(&t, "ntp-1", "", msg, sizeof(msg) - 1, sig, sizeof(sig)), ==,
		-ENOENT);
	/* b's key id but a's signature; a shorter signature; one more byte signed: -EBADMSG */
	g_assert_cmpint(authorities_verify(&t, "b", items[1].key_id, msg, sizeof(msg) - 1, sig,
					   sizeof(sig)),
			==, -EBADMSG);
	g_assert_cmpint(authorities_verify(&t, "a", items[0].key_id, msg, sizeof(msg) - 1, sig,
					   sizeof(sig) - 1),
			==, -EBADMSG);
	g_assert_cmpint(authorities_verify(&t, "a", items[0].key_id, msg, sizeof(msg), sig,
					   sizeof(sig)),
			==, -EBADMSG);
	/* No key id: the authority's configured key (a signed note names only a key hash). */
	g_assert_cmpint(
		authorities_verify(&t, "a", NULL, msg, sizeof(msg) - 1, sig, sizeof(sig)), ==,
		0);
	g_assert_cmpint(
		authorities_verify(&t, "b", NULL, msg, sizeof(msg) - 1, sig, sizeof(sig)), ==,
		-EBADMSG);
	sig[7] ^= 0x10;
	g_assert_cmpint(authorities_verify(&t, "a", items[0].key_id, msg, sizeof(msg) - 1, sig,
					   sizeof(sig)),
			==, -EBADMSG);
	EVP_PKEY_free(k1);
	EVP_PKEY_free(k2);
}

/* Readers on other threads (the NTP transport's workers) while the loop commits: every
 * reading is one whole page (the round and the quorum hash always match), its bound holds
 * its estimate, and a reader never sees the served time go backwards. */
struct concurrent_reader {
	struct served_clock *clock;
	int *stop;
	unsigned long reads, synchronised, busy;
	int torn, backwards, unordered;
};

static void *concurrent_reader_main(void *arg)
{
	struct concurrent_reader *r = arg;
	int64_t prev = INT64_MIN;

	while (!__atomic_load_n(r->stop, __ATOMIC_ACQUIRE)) {
		struct quorum_clock_reading reading;

		if (served_clock_read_concurrent(r->clock, &reading) != 0) {
			r->busy++;
			continue;
		}
		r->reads++;
		if (reading.status != QUORUM_CLOCK_SYNCHRONISED)
			continue;
		r->synchronised++;
		for (size_t i = 0; i < sizeof(reading.quorum_hash); i++)
			r->torn |= reading.quorum_hash[i] != (uint8_t)reading.round;
		r->unordered |= reading.earliest_ns > reading.estimate_ns ||
				reading.estimate_ns > reading.latest_ns;
		r->backwards |= reading.estimate_ns < prev;
		prev = reading.estimate_ns;
	}
	return NULL;
}

/* A libquorum-clock reader beside them: the agreement a reading comes from (round,
 * accepted) is read in the same snapshot as the time (quorumctl time --json used a second,
 * separate read of the page). The writer commits round R with R % 4 + 1 accepted. */
struct library_reader {
	const char *path;
	int *stop;
	unsigned long checked;
	int mismatched;
};

static void *library_reader_main(void *arg)
{
	struct library_reader *r = arg;
	struct quorum_clock *clock;

	g_assert_cmpint(quorum_clock_open(r->path, &clock), ==, 0);
	while (!__atomic_load_n(r->stop, __ATOMIC_ACQUIRE)) {
		struct quorum_agreement_info info;
		struct quorum_now now;

		if (quorum_clock_now_agreement(clock, &now, &info) != 0 ||
		    now.status != QUORUM_NOW_SYNCHRONISED || info.round < 2)
			continue;
		r->checked++;
		r->mismatched |= info.accepted != info.round % 4 + 1;
	}
	quorum_clock_close(clock);
	return NULL;
}

static void test_clock_concurrent_readers(struct clock_fixture *f, gconstpointer data)
{
	struct concurrent_reader readers[2];
	struct library_reader library;
	pthread_t threads[2], library_thread;
	int stop = 0;
	int64_t t0 = mono_now_ns();
	struct quorum_agreement a = agreement_at(t0, 4000 * 1000000000LL, 20 * US);
	struct clock_commit_outcome outcome;

	memset(a.quorum_hash, 1, sizeof(a.quorum_hash)); /* round 1's */
	served_clock_commit(f->clock, &a, 0, &outcome);
	for (int i = 0; i < 2; i++) {
		readers[i] = (struct concurrent_reader){ .clock = f->clock, .stop = &stop };
		g_assert_cmpint(
			pthread_create(&threads[i], NULL, concurrent_reader_main, &readers[i]),
			==, 0);
	}
	library = (struct library_reader){ .path = f->path, .stop = &stop };
	g_assert_cmpint(pthread_create(&library_thread, NULL, library_reader_main, &library),
			==, 0);
	/* 5,000 commits 100 us apart (a round a second in service), each 30 us ahead of or
	 * behind the served clock (slewed back). */
	for (uint64_t round = 2; round < 5002; round++) {
		struct quorum_clock_reading now;
		int64_t mono = mono_now_ns();

		served_clock_read(f->clock, &now);
		g_assert_cmpuint(now.status, ==, QUORUM_CLOCK_SYNCHRONISED);
		a = agreement_at(mono, now.estimate_ns + (round % 2 ? 30 : -30) * US, 20 * US);
		a.round = round;
		a.accepted = (uint32_t)(round % 4 + 1);
		memset(a.quorum_hash, (int)(uint8_t)round, sizeof(a.quorum_hash));
		served_clock_commit(f->clock, &a, 0, &outcome);
		g_usleep(100);
	}
	__atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
	g_assert_cmpint(pthread_join(library_thread, NULL), ==, 0);
	g_test_message("library reader: %lu synchronised readings checked", library.checked);
	g_assert_cmpuint(library.checked, >, 0);
	g_assert_false(library.mismatched);
	for (int i = 0; i < 2; i++) {
		g_assert_cmpint(pthread_join(threads[i], NULL), ==, 0);
		g_test_message("reader %d: %lu reads, %lu synchronised, %lu busy", i,
			       readers[i].reads, readers[i].synchronised, readers[i].busy);
		g_assert_cmpuint(readers[i].synchronised, >, 0);
		g_assert_cmpuint(readers[i].busy, <=, readers[i].reads / 100);
		g_assert_false(readers[i].torn);
		g_assert_false(readers[i].unordered);
		g_assert_false(readers[i].backwards);
	}
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/timecodec/attestation-roundtrip-and-checks",
			test_attestation_roundtrip);
	g_test_add_func("/authorities/sources-report-and-status", test_sources_report);
	g_test_add_func("/authorities/source-intervals-first-named-wins-order-checked",
			test_source_intervals);
	g_test_add_func("/authorities/verify-checks-authority-key-id-and-signature",
			test_authorities_verify);
	g_test_add_func("/timecodec/signature-covers-event-id-key-id-time-payload",
			test_signature_covers_every_field);
	g_test_add_func("/timecodec/refuses-bad-datagrams", test_datagram_refusals);
	g_test_add_func("/timecodec/requests-padded-to-the-longest-answer",
			test_request_padding);
	g_test_add_func("/timecodec/gossip-datagram-carries-an-event-within-bounds",
			test_gossip_datagrams);
	g_test_add_func("/timecodec/refuses-bad-attestations", test_attestation_refusals);
	g_test_add_func("/timecodec/round-nonces-derive-from-the-seed", test_round_nonces);
	g_test_add_func("/timecodec/round-reports-every-observation-problem",
			test_round_problems);
#define ADD(path, fn)                                                                          \
	g_test_add(path, struct clock_fixture, NULL, clock_setup, fn, clock_teardown)
	ADD("/clock/unsynchronised-until-first-commit", test_clock_unsynchronised_until_commit);
	ADD("/clock/bound-grows-with-max-drift", test_clock_bound_grows_with_drift);
	ADD("/clock/fails-closed-beyond-max-error-and-recovers",
	    test_clock_fails_closed_and_recovers);
	ADD("/clock/never-backwards-slews-corrections", test_clock_never_backwards);
	ADD("/clock/forward-step-capped", test_clock_forward_step_capped);
	ADD("/clock/keeps-the-tighter-bound", test_clock_keeps_the_tighter_bound);
	ADD("/clock/check-refuses-remote-unordered-stale-future", test_clock_check_refuses);
	ADD("/clock/page-read-through-libquorum-clock", test_clock_page_through_client);
	ADD("/clock/concurrent-readers-see-whole-pages-never-backwards",
	    test_clock_concurrent_readers);
	g_test_add_func("/clock/page/reader-refuses-a-page-others-could-forge",
			test_page_reader_refuses_forged_page);
	g_test_add_func("/clock/page/writer-refuses-a-planted-page",
			test_page_writer_refuses_planted_page);
	g_test_add_func("/nodestate/roundtrip-and-refuses-tampering",
			test_nodestate_roundtrip_and_tamper);
	return g_test_run();
}
