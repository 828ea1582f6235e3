/* test-roundlog.c -- the vault's round log: rounds of real signed attestations (made with
 * the host's own code) shrunk into records and read back byte for byte, with their audit
 * lines and verdicts; what cannot be shrunk is kept as it was; broken records are refused. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <glib.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include "agreement.h"
#include "keys-internal.h"
#include "protodecode-internal.h"
#include "quorumctl-rounds.h"
#include "roundjournal.h"
#include "roundlog.h"
#include "roundlog.pb-c.h"
#include "roundnonce.h"
#include "testutil.h"
#include "timecodec-internal.h"

#define AUTHORITIES 4
#define ROUNDS	    20 /* more than the first allocation of rounds holds */
#define REAL0	    1796546746880000000LL

static const char *const ids[AUTHORITIES] = { "node-1", "node-2", "node-3", "node-4" };

struct fixture {
	EVP_PKEY *key[AUTHORITIES];
	char key_id[AUTHORITIES][KEY_ID_HEX_LEN + 1];
	uint64_t sequence[AUTHORITIES];
};

static void fixture_init(struct fixture *f)
{
	for (int i = 0; i < AUTHORITIES; i++) {
		f->key[i] = key_generate();
		g_assert_nonnull(f->key[i]);
		key_id(f->key[i], f->key_id[i]);
		f->sequence[i] = 1796546746000000ULL + (uint64_t)i * 1000;
	}
}

static void fixture_release(struct fixture *f)
{
	for (int i = 0; i < AUTHORITIES; i++)
		EVP_PKEY_free(f->key[i]);
}

/* How round_payload builds a round. */
struct shape {
	int random_nonces; /* ask with random nonces instead of the seed's */
	int gossip_on_one; /* one attestation carries gossip metadata (cannot be shrunk) */
	int no_seed;	   /* the round carries no seed */
	int no_rejected;   /* no source rejected (else one, node-9) */
};

/* Authority I's answer to NONCE at MIDPOINT, as the asker keeps it (decoded datagram). */
static void answer(struct fixture *f, int i, const uint8_t *nonce, int64_t midpoint,
		   struct datagram *d)
{
	struct quorum_attestation fields = { 0 };
	const char *reason = NULL;
	uint8_t *out;
	size_t len;

	fields.authority_id = ids[i];
	fields.key_id = f->key_id[i];
	fields.nonce.data = nonce;
	fields.nonce.len = QUORUM_NONCE_LEN;
	fields.midpoint_ns = midpoint;
	fields.radius_ns = 1000;
	fields.sequence = f->sequence[i];
	f->sequence[i] += 3 + (uint64_t)i;
	fields.status = QUORUM_AUTHORITY_SYNCHRONISED;
	fields.processing_ns = 3000 + (uint64_t)i * 77;
	g_assert_cmpint(attestation_response(f->key[i], f->key_id[i], &fields, &out, &len), ==,
			0);
	g_assert_cmpint(datagram_decode(out, len, d, &reason), ==, 0);
	free(out);
}

/* Round ROUND of node-1 at REAL: the four authorities, an NTP source, a refused source. */
static void round_payload(struct fixture *f, uint64_t round, int64_t real,
			  const struct shape *shape, uint8_t **out, size_t *len)
{
	Uml001__SyncRound r = UML001__SYNC_ROUND__INIT;
	Uml001__Observation obs[AUTHORITIES + 1], *list[AUTHORITIES + 1];
	Uml001__TimeAttestation ntp = UML001__TIME_ATTESTATION__INIT;
	Uml001__GossipState g = UML001__GOSSIP_STATE__INIT;
	struct datagram d[AUTHORITIES];
	uint8_t seed[ROUND_SEED_LEN], nonce[QUORUM_NONCE_LEN];
	char *rejected[] = { (char *)"node-9" }, *reasons[] = { (char *)"signature_invalid" };

	RAND_bytes(seed, sizeof(seed));
	for (int i = 0; i < AUTHORITIES; i++) {
		if (shape->random_nonces)
			RAND_bytes(nonce, sizeof(nonce));
		else
			round_nonce(seed, ids[i], nonce);
		answer(f, i, nonce, real - 2000000 + i * 12345, &d[i]);
		uml001__observation__init(&obs[i]);
		obs[i].source_id = (char *)ids[i];
		obs[i].attestation = d[i].message->time_response;
		obs[i].rtt_ns = 3500000 + i * 1000;
		obs[i].age_ns = 500000 - i * 1000;
		obs[i].sending_hint_ns = i == 2 ? 0 : 60000 + i;
		list[i] = &obs[i];
	}
	if (shape->gossip_on_one) {
		g.hops = 1;
		g.origin_node_id = (char *)"node-2";
		obs[1].attestation->gossip = &g;
	}
	ntp.authority_id = (char *)"pool";
	ntp.midpoint_ns = real - 1000000;
	ntp.radius_ns = 20000000;
	ntp.status = UML001__AUTHORITY_STATUS__AUTHORITY_STATUS_SYNCHRONISED;
	ntp.processing_ns = 20000;
	uml001__observation__init(&obs[AUTHORITIES]);
	obs[AUTHORITIES].source_id = (char *)"pool";
	obs[AUTHORITIES].ntp = &ntp;
	obs[AUTHORITIES].rtt_ns = 800000;
	list[AUTHORITIES] = &obs[AUTHORITIES];
	r.node_id = (char *)"node-1";
	r.round = round;
	r.reference_mono_ns = 4282057875395LL + (int64_t)round * 1000000000LL;
	r.reference_realtime_ns = real;
	r.drift_ppm = 50;
	r.n_observations = AUTHORITIES + 1;
	r.observations = list;
	r.n_rejected_sources = shape->no_rejected ? 0 : 1;
	r.rejected_sources = rejected;
	r.n_rejected_reasons = r.n_rejected_sources;
	r.rejected_reasons = reasons;
	if (!shape->no_seed) {
		r.nonce_seed.data = seed;
		r.nonce_seed.len = sizeof(seed);
	}
	g_assert_cmpint(proto_encode(&r.base, out, len), ==, 0);
	if (shape->gossip_on_one)
		obs[1].attestation->gossip = NULL; /* not ours to free */
	for (int i = 0; i < AUTHORITIES; i++)
		datagram_release(&d[i]);
}

/* The control stage's commit line of ROUND (the format control.c writes). */
static char *commit_text(uint64_t round, int64_t real, int64_t width)
{
	int64_t estimate = real + 123456, earliest = estimate - width / 2,
		latest = estimate + width / 2;

	return g_strdup_printf("bft.sync.commit plugin=control round=%" PRIu64
			       " earliest_ns=%" PRId64 " estimate_ns=%" PRId64
			       " latest_ns=%" PRId64 " n=4 f=1 accepted=4 outliers=0 ntp_used=0"
			       " drift_ns=%" PRId64 " warp_score=%.3f",
			       round, earliest, estimate, latest, estimate - real, 0.0);
}

struct added {
	uint8_t *payload;
	size_t len;
};

static void test_rebuilds_rounds(void)
{
	static const char mode_line[] =
		"runtime.mode.transition plugin=control from=COLD_START to=QUORUM_ACTIVE";
	struct fixture f;
	struct shape shape = { 0 };
	struct roundlog *log = roundlog_new("node-1");
	struct roundlog_view *v = NULL;
	struct added added[ROUNDS];
	char *commit[ROUNDS], why[256];
	uint8_t *rec;
	size_t len, total = 0;

	fixture_init(&f);
	roundlog_keep_all(log, 1); /* every round in full (the default: below) */
	g_assert_nonnull(log);
	g_assert_true(roundlog_empty(log));
	g_assert_cmpint(roundlog_audit(log, "x", 1), ==, -ENOENT);
	for (int i = 0; i < ROUNDS; i++) {
		int64_t real = REAL0 + (int64_t)i * 1000003217LL;

		round_payload(&f, 100 + (uint64_t)i, real, &shape, &added[i].payload,
			      &added[i].len);
		total += added[i].len;
		g_assert_cmpint(roundlog_add(log, added[i].payload, added[i].len), ==, 0);
		commit[i] = commit_text(100 + (uint64_t)i, real, 20000 + i);
		g_assert_cmpint(roundlog_audit(log, commit[i], strlen(commit[i])), ==, 0);
		if (i == 0)
			g_assert_cmpint(roundlog_audit(log, mode_line, strlen(mode_line)), ==,
					0);
		g_assert_cmpint(roundlog_verdict(log, ROUNDLOG_VERDICT_ACCEPT, "", ""), ==, 0);
		g_assert_cmpint(roundlog_peer(log, i % 2 ? "node-2" : "node-3"), ==, 0);
	}
	g_assert_cmpuint(roundlog_count(log), ==, ROUNDS);
	g_assert_cmpint(roundlog_encode(log, &rec, &len), ==, 0);
	g_assert_true(roundlog_empty(log));
	g_test_message("%d rounds of %zu bytes kept in %zu", ROUNDS, total, len);
	/* The envelopes, ids, key ids, nonces and the commit lines' text are gone. */
	g_assert_cmpuint(len * 100, <, total * 60);
	g_assert_cmpint(roundlog_decode(rec, len, &v, why, sizeof(why)), ==, 0);
	g_assert_cmpstr(v->node_id, ==, "node-1");
	g_assert_cmpuint(v->count, ==, ROUNDS);
	for (int i = 0; i < ROUNDS; i++) {
		const struct roundlog_round *r = &v->rounds[i];

		g_assert_true(r->shrunk);
		g_assert_cmpuint(r->round, ==, 100 + (uint64_t)i);
		g_assert_cmpmem(r->payload, r->len, added[i].payload, added[i].len);
		g_assert_cmpuint(r->audit_count, ==, i == 0 ? 2 : 1);
		g_assert_cmpstr(r->audit[0], ==, commit[i]);
		g_assert_true(r->committed);
		g_assert_cmpint(r->latest_ns - r->earliest_ns, ==, 20000 + i - (i % 2));
		g_assert_cmpuint(r->verdict, ==, ROUNDLOG_VERDICT_ACCEPT);
		g_assert_cmpstr(r->reason, ==, "");
	}
	g_assert_cmpstr(v->rounds[0].audit[1], ==, mode_line);
	g_assert_cmpuint(v->peer_count, ==, 2);
	g_assert_cmpstr(v->peers[0].node_id, ==, "node-3");
	g_assert_cmpuint(v->peers[0].rounds, ==, ROUNDS / 2);
	roundlog_view_free(v);
	/* The next record starts afresh: it reads on its own. */
	g_assert_cmpint(roundlog_add(log, added[ROUNDS - 1].payload, added[ROUNDS - 1].len), ==,
			0);
	free(rec);
	g_assert_cmpint(roundlog_encode(log, &rec, &len), ==, 0);
	g_assert_cmpint(roundlog_decode(rec, len, &v, why, sizeof(why)), ==, 0);
	g_assert_cmpuint(v->count, ==, 1);
	g_assert_true(v->rounds[0].shrunk);
	g_assert_false(v->rounds[0].committed);
	g_assert_cmpmem(v->rounds[0].payload, v->rounds[0].len, added[ROUNDS - 1].payload,
			added[ROUNDS - 1].len);
	roundlog_view_free(v);
	free(rec);
	for (int i = 0; i < ROUNDS; i++) {
		free(added[i].payload);
		g_free(commit[i]);
	}
	roundlog_free(log);
	fixture_release(&f);
}

static void test_keeps_what_it_cannot_shrink(void)
{
	struct fixture f;
	struct roundlog *log = roundlog_new("node-1");
	struct roundlog_view *v = NULL;
	struct shape random_nonces = { .random_nonces = 1 }, gossip = { .gossip_on_one = 1 },
		     seedless = { .no_seed = 1 };
	struct added a[4];
	char why[256], *wrong_round, *extra;
	uint8_t *rec, *twice;
	size_t len;

	fixture_init(&f);
	roundlog_keep_all(log, 1); /* every round in full (the default: below) */
	round_payload(&f, 7, REAL0, &random_nonces, &a[0].payload, &a[0].len);
	round_payload(&f, 8, REAL0 + 1000000000, &gossip, &a[1].payload, &a[1].len);
	round_payload(&f, 9, REAL0 + 2000000000, &seedless, &a[2].payload, &a[2].len);
	/* The same round with its node id written twice: valid protobuf, not canonical. */
	twice = malloc(a[2].len + 8);
	memcpy(twice, "\x0a\x06node-1", 8);
	memcpy(twice + 8, a[2].payload, a[2].len);
	a[3].payload = twice;
	a[3].len = a[2].len + 8;
	for (int i = 0; i < 4; i++)
		g_assert_cmpint(roundlog_add(log, a[i].payload, a[i].len), ==, 0);
	/* A commit line of another round, and one with a field more: kept as text. */
	wrong_round = commit_text(8, REAL0 + 3000000000, 100);
	{
		char *line = commit_text(9, REAL0 + 2000000000, 100);

		extra = g_strdup_printf("%s extra=1", line);
		g_free(line);
	}
	g_assert_cmpint(roundlog_audit(log, wrong_round, strlen(wrong_round)), ==, 0);
	g_assert_cmpint(roundlog_audit(log, extra, strlen(extra)), ==, 0);
	g_assert_cmpint(roundlog_verdict(log, ROUNDLOG_VERDICT_REJECT, "convergence",
					 "insufficient_quorum"),
			==, 0);
	g_assert_cmpint(roundlog_encode(log, &rec, &len), ==, 0);
	g_assert_cmpint(roundlog_decode(rec, len, &v, why, sizeof(why)), ==, 0);
	g_assert_cmpuint(v->count, ==, 4);
	for (int i = 0; i < 4; i++)
		g_assert_cmpmem(v->rounds[i].payload, v->rounds[i].len, a[i].payload, a[i].len);
	/* random nonces and a gossiping attestation: shrunk all the same (the nonces kept,
	 * that one attestation as it was); the seedless round too; not the non-canonical one */
	g_assert_true(v->rounds[0].shrunk);
	g_assert_true(v->rounds[1].shrunk);
	g_assert_true(v->rounds[2].shrunk);
	g_assert_false(v->rounds[3].shrunk);
	g_assert_false(v->rounds[3].committed);
	g_assert_cmpuint(v->rounds[3].audit_count, ==, 2);
	g_assert_cmpstr(v->rounds[3].audit[0], ==, wrong_round);
	g_assert_cmpstr(v->rounds[3].audit[1], ==, extra);
	g_assert_cmpuint(v->rounds[3].verdict, ==, ROUNDLOG_VERDICT_REJECT);
	g_assert_cmpstr(v->rounds[3].stage, ==, "convergence");
	g_assert_cmpstr(v->rounds[3].reason, ==, "insufficient_quorum");
	roundlog_view_free(v);
	/* Another node's round is not this log's. */
	{
		struct roundlog *other = roundlog_new("node-2");

		g_assert_cmpint(roundlog_add(other, a[0].payload, a[0].len), ==, -EINVAL);
		g_assert_cmpint(roundlog_add(other, (const uint8_t *)"\xff", 1), ==, -EINVAL);
		roundlog_free(other);
	}
	free(rec);
	g_free(wrong_round);
	g_free(extra);
	for (int i = 0; i < 4; i++)
		free(a[i].payload);
	roundlog_free(log);
	fixture_release(&f);
}

/* A record of one shrunk round, tampered with by EDIT, must be refused. */
static void assert_refused(const uint8_t *rec, size_t len, void (*edit)(Uml001__RoundLog *m),
			   const char *why_part)
{
	Uml001__RoundLog *m = uml001__round_log__unpack(NULL, len, rec);
	struct roundlog_view *v = NULL;
	char why[256];
	uint8_t *bad;
	size_t bad_len;

	g_assert_nonnull(m);
	edit(m);
	bad_len = uml001__round_log__get_packed_size(m);
	bad = malloc(bad_len + 1);
	uml001__round_log__pack(m, bad);
	g_assert_cmpint(roundlog_decode(bad, bad_len, &v, why, sizeof(why)), ==, -EBADMSG);
	g_assert_null(v);
	g_assert_nonnull(strstr(why, why_part));
	free(bad);
	uml001__round_log__free_unpacked(m, NULL);
}

static void edit_authority_index(Uml001__RoundLog *m)
{
	m->rounds[0]->observations[0]->authority = 9;
}

static void edit_no_seed(Uml001__RoundLog *m)
{
	m->rounds[0]->nonce_seed.len = 0;
}

static void edit_commit_without_plugin(Uml001__RoundLog *m)
{
	m->commit_plugin[0] = '\0'; /* in place: the unpacked message owns it */
}

static void test_refuses_broken_records(void)
{
	struct fixture f;
	struct shape shape = { 0 };
	struct roundlog *log = roundlog_new("node-1");
	struct roundlog_view *v = NULL;
	struct added a;
	char why[256], *commit;
	uint8_t *rec;
	size_t len;

	fixture_init(&f);
	roundlog_keep_all(log, 1); /* every round in full (the default: below) */
	g_assert_cmpint(roundlog_decode((const uint8_t *)"\xff\xff", 2, &v, why, sizeof(why)),
			==, -EBADMSG);
	g_assert_cmpstr(why, ==, "not a round log");
	round_payload(&f, 1, REAL0, &shape, &a.payload, &a.len);
	g_assert_cmpint(roundlog_add(log, a.payload, a.len), ==, 0);
	commit = commit_text(1, REAL0, 5000);
	g_assert_cmpint(roundlog_audit(log, commit, strlen(commit)), ==, 0);
	g_assert_cmpint(roundlog_encode(log, &rec, &len), ==, 0);
	assert_refused(rec, len, edit_authority_index, "names authority 9");
	assert_refused(rec, len, edit_no_seed, "no nonce and the round no seed");
	assert_refused(rec, len, edit_commit_without_plugin, "commit line has no place");
	free(rec);
	free(a.payload);
	g_free(commit);
	roundlog_free(log);
	fixture_release(&f);
}

static void edit_summary_hash(Uml001__RoundLog *m)
{
	m->rounds[1]->round_hash.len = ROUNDLOG_HASH_LEN - 1;
}

/* round 0's observations moved to the summary after it (the message still owns them) */
static void edit_summary_with_observations(Uml001__RoundLog *m)
{
	m->rounds[1]->n_observations = m->rounds[0]->n_observations;
	m->rounds[1]->observations = m->rounds[0]->observations;
	m->rounds[0]->n_observations = 0;
	m->rounds[0]->observations = NULL;
}

/* By default a round is kept as its summary (hash, numbers, verdict, commit line) unless it
 * is the record's first or disputed; the disputed ones keep their attestations. */
static void test_summarises_undisputed_rounds(void)
{
	static const char reject_line[] =
		"bft.observation.reject plugin=control source=node-3 reason=radius_too_wide";
	struct fixture f;
	struct shape shape = { .no_rejected = 1 }, rejecting = { 0 };
	struct roundlog *log = roundlog_new("node-1"), *all = roundlog_new("node-1");
	struct roundlog_view *v = NULL;
	struct added added[ROUNDS];
	char *commit[ROUNDS], why[256];
	uint8_t *rec, *rec_all, digest[ROUNDLOG_HASH_LEN];
	size_t len, len_all;

	fixture_init(&f);
	roundlog_keep_all(all, 1);
	for (int i = 0; i < ROUNDS; i++) {
		int64_t real = REAL0 + (int64_t)i * 1000003217LL;
		struct roundlog *both[2] = { log, all };

		round_payload(&f, 100 + (uint64_t)i, real, i == 14 ? &rejecting : &shape,
			      &added[i].payload, &added[i].len);
		commit[i] = commit_text(100 + (uint64_t)i, real, 20000 + i);
		if (i == 4) { /* an outlier left out */
			char *o = strstr(commit[i], "outliers=0");

			o[strlen("outliers=")] = '1';
		}
		for (int k = 0; k < 2; k++) {
			g_assert_cmpint(roundlog_add(both[k], added[i].payload, added[i].len),
					==, 0);
			if (i != 9) /* round 109: no commit line */
				g_assert_cmpint(
					roundlog_audit(both[k], commit[i], strlen(commit[i])),
					==, 0);
			if (i == 6)
				g_assert_cmpint(roundlog_audit(both[k], reject_line,
							       strlen(reject_line)),
						==, 0);
			g_assert_cmpint(roundlog_verdict(both[k],
							 i == 12 ? ROUNDLOG_VERDICT_REJECT
								 : ROUNDLOG_VERDICT_ACCEPT,
							 i == 12 ? "convergence" : "",
							 i == 12 ? "no_agreement" : ""),
					==, 0);
		}
	}
	g_assert_cmpint(roundlog_encode(log, &rec, &len), ==, 0);
	g_assert_cmpint(roundlog_encode(all, &rec_all, &len_all), ==, 0);
	g_test_message("%d rounds: %zu bytes summarised, %zu kept in full", ROUNDS, len,
		       len_all);
	g_assert_cmpuint(len * 2, <, len_all);
	g_assert_cmpint(roundlog_decode(rec, len, &v, why, sizeof(why)), ==, 0);
	g_assert_cmpuint(v->count, ==, ROUNDS);
	for (int i = 0; i < ROUNDS; i++) {
		const struct roundlog_round *r = &v->rounds[i];
		int full = i == 0 || i == 4 || i == 6 || i == 9 || i == 12 || i == 14;

		g_assert_cmpuint(r->round, ==, 100 + (uint64_t)i);
		g_assert_cmpint(r->reference_realtime_ns, ==,
				REAL0 + (int64_t)i * 1000003217LL);
		g_assert_cmpint(r->summary, ==, !full);
		g_assert_cmpint(r->shrunk, ==, full);
		g_assert_true(EVP_Digest(added[i].payload, added[i].len, digest, NULL,
					 EVP_sha256(), NULL) == 1);
		g_assert_cmpmem(r->hash, sizeof(r->hash), digest, sizeof(digest));
		if (full)
			g_assert_cmpmem(r->payload, r->len, added[i].payload, added[i].len);
		else
			g_assert_null(r->payload);
		g_assert_cmpint(r->committed, ==, i != 9);
		if (i != 9) {
			g_assert_cmpstr(r->audit[0], ==, commit[i]);
			g_assert_cmpint(r->latest_ns - r->earliest_ns, ==, 20000 + i - (i % 2));
		}
		g_assert_cmpuint(r->audit_count, ==, i == 9 ? 0 : i == 6 ? 2 : 1);
		g_assert_cmpuint(r->verdict, ==,
				 i == 12 ? ROUNDLOG_VERDICT_REJECT : ROUNDLOG_VERDICT_ACCEPT);
	}
	g_assert_cmpstr(v->rounds[6].audit[1], ==, reject_line);
	g_assert_cmpstr(v->rounds[12].reason, ==, "no_agreement");
	roundlog_view_free(v);
	/* a summary that is not one is refused */
	assert_refused(rec, len, edit_summary_hash, "holds more than its summary");
	assert_refused(rec, len, edit_summary_with_observations, "holds more than its summary");
	free(rec);
	free(rec_all);
	for (int i = 0; i < ROUNDS; i++) {
		free(added[i].payload);
		g_free(commit[i]);
	}
	roundlog_free(log);
	roundlog_free(all);
	fixture_release(&f);
}

/* What a journal replay handed back, as text: "R<len> A<text> V<code>/<stage>/<reason>". */
struct replayed {
	GString *items;
};

static int sink_round(void *arg, const uint8_t *payload, size_t len)
{
	g_string_append_printf(((struct replayed *)arg)->items, "R%zu ", len);
	return 0;
}

static int sink_audit(void *arg, const char *text, size_t len)
{
	g_string_append_printf(((struct replayed *)arg)->items, "A%.*s ", (int)len, text);
	return 0;
}

static int sink_verdict(void *arg, uint32_t verdict, const char *stage, const char *reason)
{
	g_string_append_printf(((struct replayed *)arg)->items, "V%u/%s/%s ", verdict, stage,
			       reason);
	return 0;
}

static const struct roundjournal_sink sink = { sink_round, sink_audit, sink_verdict };

static char *replay_with(const char *dir, const uint8_t *key, uint64_t *base, size_t *rounds,
			 uint64_t *dropped)
{
	struct roundjournal *j = NULL;
	struct replayed r = { g_string_new("") };
	char why[256];

	g_assert_cmpint(roundjournal_open(dir, key, &j, why, sizeof(why)), ==, 0);
	g_assert_cmpint(
		roundjournal_replay(j, &sink, &r, base, rounds, dropped, why, sizeof(why)), ==,
		0);
	roundjournal_close(j);
	return g_string_free(r.items, FALSE);
}

static char *replay(const char *dir, uint64_t *base, size_t *rounds, uint64_t *dropped)
{
	return replay_with(dir, NULL, base, rounds, dropped);
}

static void test_journal_replays(void)
{
	static const uint8_t payload[300] = { 1, 2, 3 };
	const uint8_t *key = NULL;
	char *dir = testutil_scratch_new(), *path = testutil_path(dir, ROUNDJOURNAL_NAME),
	     why[256], *got;
	struct roundjournal *j = NULL;
	uint64_t base, dropped;
	size_t rounds;
	FILE *f;

	g_assert_cmpint(chmod(dir, 0700), ==, 0);
	g_assert_cmpint(roundjournal_open(dir, key, &j, why, sizeof(why)), ==, 0);
	g_assert_false(roundjournal_dirty(j));
	g_assert_cmpint(roundjournal_start(j, 7), ==, 0);
	g_assert_cmpint(roundjournal_round(j, payload, sizeof(payload)), ==, 0);
	g_assert_cmpint(roundjournal_audit(j, "bft.sync.commit round=1", 23), ==, 0);
	g_assert_cmpint(roundjournal_verdict(j, 1, "convergence", "insufficient_quorum"), ==,
			0);
	g_assert_true(roundjournal_dirty(j));
	g_assert_cmpint(roundjournal_sync(j), ==, 0);
	g_assert_false(roundjournal_dirty(j));
	roundjournal_close(j);
	got = replay(dir, &base, &rounds, &dropped);
	g_assert_cmpstr(got, ==,
			"R300 Abft.sync.commit round=1 V1/convergence/insufficient_quorum ");
	g_assert_cmpuint(base, ==, 7);
	g_assert_cmpuint(rounds, ==, 1);
	g_assert_cmpuint(dropped, ==, 0);
	g_free(got);
	/* A crash inside a write: the torn item is left out, what came before stays. */
	f = fopen(path, "ab");
	g_assert_nonnull(f);
	fwrite("\x01\0\0\0\x10\0\0\0abc", 1, 11, f);
	fclose(f);
	got = replay(dir, &base, &rounds, &dropped);
	g_assert_cmpstr(got, ==,
			"R300 Abft.sync.commit round=1 V1/convergence/insufficient_quorum ");
	g_assert_cmpuint(dropped, ==, 11);
	g_free(got);
	/* A damaged item ends the replay there. */
	testutil_flip_bit(path, 48 + 8 + 100, 3);
	got = replay(dir, &base, &rounds, &dropped);
	g_assert_cmpstr(got, ==, "");
	g_assert_cmpuint(rounds, ==, 0);
	g_assert_cmpuint(dropped, >, 300);
	g_free(got);
	/* Started afresh: empty, with its new base. */
	g_assert_cmpint(roundjournal_open(dir, key, &j, why, sizeof(why)), ==, 0);
	g_assert_cmpint(roundjournal_start(j, 42), ==, 0);
	roundjournal_close(j);
	got = replay(dir, &base, &rounds, &dropped);
	g_assert_cmpstr(got, ==, "");
	g_assert_cmpuint(base, ==, 42);
	g_assert_cmpuint(dropped, ==, 0);
	g_free(got);
	/* A header that is not one: everything dropped, nothing handed back. */
	testutil_flip_bit(path, 3, 0);
	got = replay(dir, &base, &rounds, &dropped);
	g_assert_cmpstr(got, ==, "");
	g_assert_cmpuint(dropped, ==, 48);
	g_free(got);
	g_free(path);
	testutil_scratch_free(dir);
}

/* ---- quorumctl vault verify's check of the round log ---- */

static int check_lookup(void *arg, const char *id, const char *claimed_key_id,
			const uint8_t digest[SHA256_DIGEST_LENGTH], uint32_t *type,
			const char **key_id_out, EVP_PKEY **key, int *verified)
{
	struct fixture *f = arg;

	*verified = 0;
	*type = claimed_key_id == NULL ? QUORUM_AUTHORITY_NTP : QUORUM_AUTHORITY_QUORUMD;
	*key_id_out = "";
	*key = NULL;
	for (int i = 0; claimed_key_id != NULL && i < AUTHORITIES; i++) {
		if (strcmp(f->key_id[i], claimed_key_id) == 0) {
			*key_id_out = f->key_id[i];
			*key = f->key[i];
		}
	}
	return 0;
}

/* The commit line the node writes for ROUND (PAYLOAD): the agreement of its attestations,
 * its estimate moved by SHIFT ns. */
static char *agreed_line(struct fixture *f, const struct added *round, int64_t shift)
{
	struct quorum_bytes bytes = { round->payload, round->len };
	struct round_view *v = NULL;
	struct interval iv[AUTHORITIES];
	struct agreement_params params = { .n = 4, .f = 1 };
	struct agreement_result res;
	uint8_t scratch[AGREEMENT_SCRATCH(AUTHORITIES)];
	const char *reason = NULL;
	size_t k = 0;
	char *line;

	g_assert_cmpint(round_decode(&bytes, "node-1", check_lookup, f, &v, &reason), ==, 0);
	for (size_t i = 0; i < v->round.observation_count; i++) {
		const struct quorum_observation *o = &v->round.observations[i];

		if (o->type != QUORUM_AUTHORITY_QUORUMD)
			continue;
		g_assert_null(o->problem);
		g_assert_cmpint(agreement_interval(&o->attestation, o->rtt_ns, o->age_ns,
						   o->sending_hint_ns, v->round.drift_ppm,
						   &iv[k++]),
				==, 0);
	}
	g_assert_cmpint(agreement_compute(iv, k, &params, scratch, &res), ==, 0);
	line = g_strdup_printf(
		"bft.sync.commit plugin=control round=%" PRIu64 " earliest_ns=%" PRId64
		" estimate_ns=%" PRId64 " latest_ns=%" PRId64
		" n=4 f=1 accepted=%u outliers=%u ntp_used=0 drift_ns=%" PRId64
		" warp_score=%.3f",
		v->round.round, res.lo, res.estimate + shift, res.hi, res.inside, res.outliers,
		res.estimate + shift - v->round.reference_realtime_ns,
		(double)(4 - res.inside) / 4.0);
	round_view_free(v);
	return line;
}

/* Runs the check with the fixture's keys (or none) over REC; its report into *REPORT. */
static unsigned check_record(struct fixture *f, const char *dir, int with_keys,
			     const uint8_t *rec, size_t len, char **report)
{
	char *files[AUTHORITIES];
	struct rounds_check *c;
	size_t size = 0;
	unsigned problems;
	FILE *out;

	for (int i = 0; i < AUTHORITIES; i++) {
		char name[32];
		BIO *bio;

		snprintf(name, sizeof(name), "a%d.pub", i);
		files[i] = testutil_path(dir, name);
		bio = BIO_new_file(files[i], "w");
		g_assert_nonnull(bio);
		g_assert_cmpint(PEM_write_bio_PUBKEY(bio, f->key[i]), ==, 1);
		BIO_free(bio);
	}
	c = rounds_check_new((const char *const *)files, with_keys ? AUTHORITIES : 0);
	g_assert_nonnull(c);
	problems = rounds_check_record(c, 3, rec, len);
	out = open_memstream(report, &size);
	g_assert_cmpuint(rounds_check_report(c, out), ==, problems);
	fclose(out);
	rounds_check_free(c);
	for (int i = 0; i < AUTHORITIES; i++)
		g_free(files[i]);
	return problems;
}

static void test_check_rechecks_agreements(void)
{
	struct fixture f;
	struct shape shape = { .no_rejected = 1 };
	struct roundlog *log = roundlog_new("node-1");
	struct added a[3];
	char *dir = testutil_scratch_new(), *report, *line;
	uint8_t *rec;
	size_t len;

	fixture_init(&f);
	roundlog_keep_all(log, 1); /* every round in full (the default: below) */
	for (int i = 0; i < 3; i++) {
		round_payload(&f, 40 + (uint64_t)i, REAL0 + i * 1000000000LL, &shape,
			      &a[i].payload, &a[i].len);
		g_assert_cmpint(roundlog_add(log, a[i].payload, a[i].len), ==, 0);
		line = agreed_line(&f, &a[i], 0);
		g_assert_cmpint(roundlog_audit(log, line, strlen(line)), ==, 0);
		g_free(line);
	}
	g_assert_cmpint(roundlog_encode(log, &rec, &len), ==, 0);
	/* with the keys: every attestation verified, every agreement the same again */
	g_assert_cmpuint(check_record(&f, dir, 1, rec, len, &report), ==, 0);
	g_assert_nonnull(strstr(report,
				"rounds: 3 in 1 round log records (3 shrunk, 0 summaries: hash "
				"and decision only), 3 committed"));
	g_assert_nonnull(strstr(report, "attestations: 12 verified, 0 not checked"));
	g_assert_nonnull(strstr(report, "agreements: 3 computed again"));
	free(report);
	/* without them: nothing verified, nothing computed again, no problem either */
	g_assert_cmpuint(check_record(&f, dir, 0, rec, len, &report), ==, 0);
	g_assert_nonnull(strstr(report, "attestations: 0 verified, 12 not checked"));
	g_assert_nonnull(strstr(report, "agreements: 0 computed again from their attestations "
					"and equal, 3 not"));
	free(report);
	free(rec);
	/* a commit its attestations do not give (the estimate 1 ns off) */
	g_assert_cmpint(roundlog_add(log, a[0].payload, a[0].len), ==, 0);
	line = agreed_line(&f, &a[0], 1);
	g_assert_cmpint(roundlog_audit(log, line, strlen(line)), ==, 0);
	g_free(line);
	/* an attestation whose signature was changed */
	a[1].payload[a[1].len / 3] ^= 0x01;
	g_assert_cmpint(roundlog_add(log, a[1].payload, a[1].len), ==, 0);
	g_assert_cmpint(roundlog_encode(log, &rec, &len), ==, 0);
	g_assert_cmpuint(check_record(&f, dir, 1, rec, len, &report), >=, 2);
	free(report);
	/* not a round log at all */
	g_assert_cmpuint(check_record(&f, dir, 1, (const uint8_t *)"\xff\xff", 2, &report), ==,
			 1);
	free(report);
	free(rec);
	/* by default the first round is checked in full, the others are summaries */
	roundlog_keep_all(log, 0);
	for (int i = 0; i < 3; i++) {
		a[i].payload[a[i].len / 3] ^= i == 1 ? 0x01 : 0; /* the signature back */
		g_assert_cmpint(roundlog_add(log, a[i].payload, a[i].len), ==, 0);
		line = agreed_line(&f, &a[i], 0);
		g_assert_cmpint(roundlog_audit(log, line, strlen(line)), ==, 0);
		g_free(line);
	}
	g_assert_cmpint(roundlog_encode(log, &rec, &len), ==, 0);
	g_assert_cmpuint(check_record(&f, dir, 1, rec, len, &report), ==, 0);
	g_assert_nonnull(
		strstr(report, "rounds: 3 in 1 round log records (1 shrunk, 2 summaries"));
	g_assert_nonnull(strstr(report, "attestations: 4 verified, 0 not checked"));
	g_assert_nonnull(strstr(report, "agreements: 1 computed again"));
	free(report);
	free(rec);
	for (int i = 0; i < 3; i++)
		free(a[i].payload);
	roundlog_free(log);
	testutil_scratch_free(dir);
	fixture_release(&f);
}

/* With the vault's key nothing of a round is in clear on disk, and only that key reads it. */
static void test_journal_sealed(void)
{
	static const uint8_t key[ROUNDJOURNAL_KEY_LEN] = { 7, 7, 7 };
	static const uint8_t other[ROUNDJOURNAL_KEY_LEN] = { 8 };
	static const char secret[] = "bft.sync.commit round=4 secret";
	char *dir = testutil_scratch_new(), *path = testutil_path(dir, ROUNDJOURNAL_NAME),
	     why[256], *got, *bytes;
	struct roundjournal *j = NULL;
	uint64_t base, dropped;
	size_t rounds;
	gsize len;

	g_assert_cmpint(chmod(dir, 0700), ==, 0);
	g_assert_cmpint(roundjournal_open(dir, key, &j, why, sizeof(why)), ==, 0);
	g_assert_cmpint(roundjournal_start(j, 3), ==, 0);
	g_assert_cmpint(roundjournal_round(j, (const uint8_t *)"round-payload", 13), ==, 0);
	g_assert_cmpint(roundjournal_audit(j, secret, strlen(secret)), ==, 0);
	g_assert_cmpint(roundjournal_verdict(j, 0, "", ""), ==, 0);
	g_assert_cmpint(roundjournal_sync(j), ==, 0);
	roundjournal_close(j);
	g_assert_true(g_file_get_contents(path, &bytes, &len, NULL));
	g_assert_null(g_strstr_len(bytes, (gssize)len, "secret"));
	g_assert_null(g_strstr_len(bytes, (gssize)len, "round-payload"));
	g_free(bytes);
	got = replay_with(dir, key, &base, &rounds, &dropped);
	g_assert_cmpstr(got, ==, "R13 Abft.sync.commit round=4 secret V0// ");
	g_assert_cmpuint(dropped, ==, 0);
	g_free(got);
	/* another key, or none, reads nothing of it */
	got = replay_with(dir, other, &base, &rounds, &dropped);
	g_assert_cmpstr(got, ==, "");
	g_assert_cmpuint(dropped, >, 0);
	g_free(got);
	got = replay_with(dir, NULL, &base, &rounds, &dropped);
	g_assert_cmpstr(got, ==, "");
	g_free(got);
	g_free(path);
	testutil_scratch_free(dir);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/roundlog/rebuilds-rounds-byte-for-byte", test_rebuilds_rounds);
	g_test_add_func("/roundlog/keeps-what-it-cannot-shrink",
			test_keeps_what_it_cannot_shrink);
	g_test_add_func("/roundlog/refuses-broken-records", test_refuses_broken_records);
	g_test_add_func("/roundlog/summarises-undisputed-rounds",
			test_summarises_undisputed_rounds);
	g_test_add_func("/roundlog/journal/replays-up-to-a-torn-or-damaged-item",
			test_journal_replays);
	g_test_add_func("/roundlog/journal/sealed-with-the-vault-key", test_journal_sealed);
	g_test_add_func("/roundlog/verify/attestations-and-agreements-computed-again",
			test_check_rechecks_agreements);
	return g_test_run();
}
