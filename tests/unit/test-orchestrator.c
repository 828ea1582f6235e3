/* test-orchestrator.c -- the single ingest path: fixed role order whatever the order stages
 * were added in, reject and hold stop the run, every rejection reaches the audit hook with
 * its reason, observers see final verdicts; and the strict envelope decoder in front. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "orchestrator-internal.h"

/* A stage that records its name into a shared trace and answers as configured. */
struct recorder {
	const char *name;
	GString *trace;
	int verdict;
	const char *reason;
	int observed;
	struct quorum_verdict last;
	struct orchestrator *orch; /* for re-entrant ingest */
	int reenter;
};

static int recorder_process(void *state, const struct quorum_event *event, const char **reason)
{
	struct recorder *r = state;

	g_assert_cmpuint(event->magic, ==, QUORUM_EVENT_MAGIC);
	g_assert_cmpuint(event->size, ==, sizeof(struct quorum_event));
	g_string_append_printf(r->trace, "%s%s", r->trace->len ? "," : "", r->name);
	if (r->reenter > 0) {
		struct quorum_signed_state view = { .event_id = "test.nested", .key_id = "" };
		struct quorum_verdict v;

		r->reenter--;
		g_assert_cmpint(orchestrator_ingest_view(r->orch, &view, "test", "", &v), ==,
				QUORUM_AGAIN);
		g_assert_cmpstr(v.reason, ==, "queued");
	}
	*reason = r->reason;
	return r->verdict;
}

static void recorder_observe(void *state, const struct quorum_event *event,
			     const struct quorum_verdict *verdict)
{
	struct recorder *r = state;

	r->observed++;
	r->last = *verdict;
}

static const struct quorum_stage_ops recorder_ops = {
	.size = sizeof(struct quorum_stage_ops),
	.process = recorder_process,
	.observe = recorder_observe,
};

struct audit_log {
	GPtrArray *lines;
};

static void audit_hook(void *arg, const char *type, const char *fields)
{
	struct audit_log *log = arg;

	g_ptr_array_add(log->lines, g_strdup_printf("%s %s", type, fields));
}

struct fixture {
	struct orchestrator *orch;
	struct audit_log audit;
	GString *trace;
	struct recorder stages[8];
	size_t count;
};

static void setup(struct fixture *f, gconstpointer data)
{
	f->audit.lines = g_ptr_array_new_with_free_func(g_free);
	f->orch = orchestrator_new(audit_hook, &f->audit);
	f->trace = g_string_new("");
	f->count = 0;
}

static void teardown(struct fixture *f, gconstpointer data)
{
	orchestrator_free(f->orch);
	g_string_free(f->trace, TRUE);
	g_ptr_array_free(f->audit.lines, TRUE);
}

static struct recorder *add(struct fixture *f, const char *name, uint32_t role)
{
	struct recorder *r = &f->stages[f->count++];
	struct orchestrator_stage stage = {
		.name = name, .role = role, .ops = &recorder_ops, .state = r
	};

	*r = (struct recorder){
		.name = name, .trace = f->trace, .verdict = QUORUM_CONTINUE, .orch = f->orch
	};
	g_assert_cmpint(orchestrator_add_stage(f->orch, &stage), ==, 0);
	return r;
}

static int ingest(struct fixture *f, const char *event_id, struct quorum_verdict *out)
{
	struct quorum_signed_state view = { .logical_time_ns = 1,
					    .event_id = event_id,
					    .key_id = "k1" };

	g_string_truncate(f->trace, 0);
	return orchestrator_ingest_view(f->orch, &view, "unit", "peer-1", out);
}

static void test_role_order(struct fixture *f, gconstpointer data)
{
	struct quorum_verdict v;
	GString *order = g_string_new("");

	/* Added in a scrambled order, with a vendor stage before its role's built-in. */
	add(f, "control", QUORUM_ROLE_CONTROL);
	add(f, "merkle", QUORUM_ROLE_MERKLE);
	add(f, "vendor-vault", QUORUM_ROLE_VAULT);
	add(f, "passport", QUORUM_ROLE_PASSPORT);
	add(f, "convergence", QUORUM_ROLE_CONVERGENCE);
	add(f, "vault", QUORUM_ROLE_VAULT);
	add(f, "gossip", QUORUM_ROLE_GOSSIP);
	add(f, "vendor-passport", QUORUM_ROLE_PASSPORT);

	g_assert_cmpint(ingest(f, "uml001.worker.ntp_sync", &v), ==, 0);
	g_assert_cmpint(v.code, ==, QUORUM_CONTINUE);
	g_assert_cmpstr(f->trace->str, ==,
			"passport,vendor-passport,vault,vendor-vault,gossip,merkle,convergence,"
			"control");
	for (size_t i = 0; i < orchestrator_stage_count(f->orch); i++)
		g_string_append_printf(order, "%s ", orchestrator_stage_name(f->orch, i));
	g_assert_cmpstr(order->str, ==,
			"passport vendor-passport vault vendor-vault gossip merkle convergence "
			"control ");
	g_assert_cmpuint(f->audit.lines->len, ==, 0);
	g_string_free(order, TRUE);
}

static void test_reject_stops_and_is_audited(struct fixture *f, gconstpointer data)
{
	struct recorder *vault, *control;
	struct quorum_verdict v;
	const char *line;

	add(f, "passport", QUORUM_ROLE_PASSPORT);
	vault = add(f, "vault", QUORUM_ROLE_VAULT);
	add(f, "gossip", QUORUM_ROLE_GOSSIP);
	control = add(f, "control", QUORUM_ROLE_CONTROL);
	vault->verdict = QUORUM_REJECT;
	vault->reason = "signed_state_serialize_failed";

	g_assert_cmpint(ingest(f, "uml001.rest.time.sync", &v), ==, 0);
	g_assert_cmpint(v.code, ==, QUORUM_REJECT);
	g_assert_cmpstr(v.reason, ==, "signed_state_serialize_failed");
	g_assert_cmpstr(v.stage, ==, "vault");
	/* Later stages did not process it ... */
	g_assert_cmpstr(f->trace->str, ==, "passport,vault");
	/* ... but observed its final verdict. */
	g_assert_cmpint(control->observed, ==, 1);
	g_assert_cmpint(control->last.code, ==, QUORUM_REJECT);
	g_assert_cmpstr(control->last.reason, ==, "signed_state_serialize_failed");
	/* The audit hook has the reason. */
	g_assert_cmpuint(f->audit.lines->len, ==, 1);
	line = g_ptr_array_index(f->audit.lines, 0);
	g_assert_true(g_str_has_prefix(line,
				       "pipeline.event verdict=reject stage=vault "
				       "reason=signed_state_serialize_failed "
				       "event_id=uml001.rest.time.sync seq=1 source=unit"));
}

static void test_hold_stops_and_is_audited(struct fixture *f, gconstpointer data)
{
	struct recorder *convergence, *control;
	struct quorum_verdict v;

	add(f, "passport", QUORUM_ROLE_PASSPORT);
	convergence = add(f, "convergence", QUORUM_ROLE_CONVERGENCE);
	control = add(f, "control", QUORUM_ROLE_CONTROL);
	convergence->verdict = QUORUM_HOLD;
	convergence->reason = "hitl_required_not_approved";

	g_assert_cmpint(ingest(f, "uml001.worker.ntp_sync", &v), ==, 0);
	g_assert_cmpint(v.code, ==, QUORUM_HOLD);
	g_assert_cmpstr(v.stage, ==, "convergence");
	g_assert_cmpstr(f->trace->str, ==, "passport,convergence");
	g_assert_cmpint(control->last.code, ==, QUORUM_HOLD);
	g_assert_cmpuint(f->audit.lines->len, ==, 1);
	g_assert_true(g_str_has_prefix(g_ptr_array_index(f->audit.lines, 0),
				       "pipeline.event verdict=hold stage=convergence "
				       "reason=hitl_required_not_approved"));
}

static void test_accept_reaches_all(struct fixture *f, gconstpointer data)
{
	struct recorder *a = add(f, "passport", QUORUM_ROLE_PASSPORT);
	struct recorder *b = add(f, "control", QUORUM_ROLE_CONTROL);
	struct quorum_verdict v;

	g_assert_cmpint(ingest(f, "x", &v), ==, 0);
	g_assert_cmpint(v.code, ==, QUORUM_CONTINUE);
	g_assert_cmpstr(v.reason, ==, "");
	g_assert_cmpint(a->observed, ==, 1);
	g_assert_cmpint(b->observed, ==, 1);
	g_assert_cmpuint(orchestrator_ingested(f->orch), ==, 1);
}

static void test_bad_stage_answers(struct fixture *f, gconstpointer data)
{
	struct recorder *r = add(f, "vault", QUORUM_ROLE_VAULT);
	struct quorum_verdict v;

	r->verdict = 42;
	g_assert_cmpint(ingest(f, "x", &v), ==, 0);
	g_assert_cmpint(v.code, ==, QUORUM_REJECT);
	g_assert_cmpstr(v.reason, ==, "stage_verdict_invalid");
	r->verdict = QUORUM_REJECT;
	r->reason = NULL;
	g_assert_cmpint(ingest(f, "x", &v), ==, 0);
	g_assert_cmpstr(v.reason, ==, "reason_missing");
	r->reason = "two words";
	g_assert_cmpint(ingest(f, "x", &v), ==, 0);
	g_assert_cmpstr(v.reason, ==, "reason_invalid");
}

static void test_reentrant_ingest_queued(struct fixture *f, gconstpointer data)
{
	struct recorder *r = add(f, "gossip", QUORUM_ROLE_GOSSIP);
	struct quorum_verdict v;

	r->reenter = 2;
	g_assert_cmpint(ingest(f, "test.outer", &v), ==, 0);
	/* The outer event, then the two it ingested, each once, in order. */
	g_assert_cmpstr(f->trace->str, ==, "gossip,gossip,gossip");
	g_assert_cmpint(r->observed, ==, 3);
	g_assert_cmpuint(orchestrator_ingested(f->orch), ==, 3);
}

static void test_duplicate_and_bad_role_refused(struct fixture *f, gconstpointer data)
{
	struct orchestrator_stage stage = { .name = "vault",
					    .role = QUORUM_ROLE_VAULT,
					    .ops = &recorder_ops };

	add(f, "vault", QUORUM_ROLE_VAULT);
	g_assert_cmpint(orchestrator_add_stage(f->orch, &stage), ==, -EEXIST);
	stage.name = "other";
	stage.role = 0;
	g_assert_cmpint(orchestrator_add_stage(f->orch, &stage), ==, -EINVAL);
	stage.role = 7;
	g_assert_cmpint(orchestrator_add_stage(f->orch, &stage), ==, -EINVAL);
}

/* ---- the envelope in front of the stages ---- */

static void test_encoded_roundtrip(struct fixture *f, gconstpointer data)
{
	struct quorum_gossip gossip = { .hops = 1, .ttl = 4, .origin_node_id = "node-2" };
	struct quorum_anchor_proof anchor = { .version = 1,
					      .observation_hash = "ab",
					      .authority_set = "a,b",
					      .event_id = "e",
					      .event_hash = "cd" };
	uint8_t payload[3] = { 1, 2, 3 }, sig[64] = { 9 };
	struct quorum_signed_state view = {
		.logical_time_ns = 1234567890123456789ull,
		.event_id = "uml001.worker.ntp_sync",
		.payload = { payload, 3 },
		.signature = { sig, 64 },
		.key_id = "k1",
		.gossip = &gossip,
		.anchor_proof = &anchor,
	};
	const char *reason = NULL;
	struct envelope *e = envelope_build(&view, &reason), *d;

	g_assert_nonnull(e);
	d = envelope_decode(e->encoded, e->encoded_len, &reason);
	g_assert_nonnull(d);
	g_assert_cmpuint(d->view.logical_time_ns, ==, 1234567890123456789ull);
	g_assert_cmpstr(d->view.event_id, ==, "uml001.worker.ntp_sync");
	g_assert_cmpmem(d->view.payload.data, d->view.payload.len, payload, 3);
	g_assert_cmpuint(d->view.signature.len, ==, 64);
	g_assert_nonnull(d->view.gossip);
	g_assert_cmpuint(d->view.gossip->ttl, ==, 4);
	g_assert_cmpstr(d->view.gossip->origin_node_id, ==, "node-2");
	g_assert_cmpstr(d->view.anchor_proof->authority_set, ==, "a,b");
	envelope_free(d);
	envelope_free(e);
}

static void assert_decode_refused(const void *data, size_t len, const char *expected)
{
	const char *reason = NULL;
	struct envelope *e = envelope_decode(data, len, &reason);

	g_assert_null(e);
	g_assert_cmpstr(reason, ==, expected);
}

static void test_decode_refusals(struct fixture *f, gconstpointer data)
{
	/* field 2 (event_id) = "ok" */
	static const uint8_t good[] = { 0x12, 0x02, 'o', 'k' };
	/* an unknown field 15 (varint 1) after it */
	static const uint8_t unknown[] = { 0x12, 0x02, 'o', 'k', 0x78, 0x01 };
	/* event_id given twice: valid protobuf (last wins) but not canonical */
	static const uint8_t twice[] = { 0x12, 0x01, 'x', 0x12, 0x02, 'o', 'k' };
	/* logical_time_ns = 0 written explicitly: not canonical */
	static const uint8_t explicit_default[] = { 0x08, 0x00, 0x12, 0x02, 'o', 'k' };
	/* event_id with an embedded NUL */
	static const uint8_t nul[] = { 0x12, 0x03, 'o', 0x00, 'k' };
	/* event_id with a space */
	static const uint8_t space[] = { 0x12, 0x03, 'o', ' ', 'k' };
	/* truncated length */
	static const uint8_t truncated[] = { 0x12, 0x05, 'o', 'k' };
	static const uint8_t empty_id[] = { 0x08, 0x01 };
	/* gossip (field 6) naming a holder (sent_to, field 5) "a", then "" and "a b" */
	static const uint8_t sent_to[] = { 0x12, 0x02, 'o', 'k', 0x32, 0x03, 0x2a, 0x01, 'a' };
	static const uint8_t sent_to_empty[] = { 0x12, 0x02, 'o', 'k', 0x32, 0x02, 0x2a, 0x00 };
	static const uint8_t sent_to_space[] = { 0x12, 0x02, 'o', 'k', 0x32, 0x05,
						 0x2a, 0x03, 'a', ' ', 'b' };
	const char *reason;
	struct envelope *e = envelope_decode(good, sizeof(good), &reason);
	uint8_t *big;

	g_assert_nonnull(e);
	envelope_free(e);
	assert_decode_refused(unknown, sizeof(unknown), "envelope_unknown_field");
	assert_decode_refused(twice, sizeof(twice), "envelope_not_canonical");
	assert_decode_refused(explicit_default, sizeof(explicit_default),
			      "envelope_not_canonical");
	assert_decode_refused(nul, sizeof(nul), "envelope_not_canonical");
	assert_decode_refused(space, sizeof(space), "envelope_event_id_invalid");
	assert_decode_refused(truncated, sizeof(truncated), "envelope_decode_failed");
	assert_decode_refused(empty_id, sizeof(empty_id), "envelope_event_id_invalid");
	e = envelope_decode(sent_to, sizeof(sent_to), &reason);
	g_assert_nonnull(e);
	envelope_free(e);
	assert_decode_refused(sent_to_empty, sizeof(sent_to_empty),
			      "envelope_gossip_sent_to_invalid");
	assert_decode_refused(sent_to_space, sizeof(sent_to_space),
			      "envelope_gossip_sent_to_invalid");
	big = g_malloc0(QUORUM_ENVELOPE_MAX + 1);
	assert_decode_refused(big, QUORUM_ENVELOPE_MAX + 1, "envelope_too_large");
	g_free(big);
}

static void test_build_refusals(struct fixture *f, gconstpointer data)
{
	uint8_t *payload = g_malloc0(QUORUM_PAYLOAD_MAX + 1);
	struct quorum_signed_state view = { .event_id = "x", .key_id = "k" };
	const char *reason = NULL;

	view.payload.data = payload;
	view.payload.len = QUORUM_PAYLOAD_MAX + 1;
	g_assert_null(envelope_build(&view, &reason));
	g_assert_cmpstr(reason, ==, "envelope_payload_too_large");
	view.payload.len = 0;
	view.key_id = "has space";
	g_assert_null(envelope_build(&view, &reason));
	g_assert_cmpstr(reason, ==, "envelope_key_id_invalid");
	view.key_id = NULL;
	g_assert_null(envelope_build(&view, &reason));
	g_assert_cmpstr(reason, ==, "envelope_field_missing");
	g_free(payload);
}

/* A refused envelope is a rejection by the host: no stage sees it, the audit hook does. */
static void test_malformed_rejected_by_host_and_audited(struct fixture *f, gconstpointer data)
{
	static const uint8_t garbage[] = { 0xff, 0xff, 0xff };
	struct recorder *r = add(f, "passport", QUORUM_ROLE_PASSPORT);
	struct quorum_verdict v;

	g_assert_cmpint(orchestrator_ingest_encoded(f->orch, garbage, sizeof(garbage), "unit",
						    "1.2.3.4:5", &v),
			==, -EINVAL);
	g_assert_cmpint(v.code, ==, QUORUM_REJECT);
	g_assert_cmpstr(v.stage, ==, "host");
	g_assert_cmpstr(v.reason, ==, "envelope_decode_failed");
	g_assert_cmpstr(f->trace->str, ==, "");
	g_assert_cmpint(r->observed, ==, 0);
	g_assert_cmpuint(f->audit.lines->len, ==, 1);
	g_assert_true(g_str_has_prefix(g_ptr_array_index(f->audit.lines, 0),
				       "pipeline.event verdict=reject stage=host "
				       "reason=envelope_decode_failed"));
}

static void refused_hook(void *arg, const char *what, const char *reason, const char *peer)
{
	struct audit_log *log = arg;

	g_ptr_array_add(log->lines, g_strdup_printf("refused %s %s %s", what, reason, peer));
}

/* With a refusal hook, what no signature vouches for (a passport-role stage's rejection,
 * a refused envelope) is only counted; a later stage's rejection is still audited. */
static void test_unsigned_rejections_counted_not_audited(struct fixture *f, gconstpointer data)
{
	static const uint8_t garbage[] = { 0xff, 0xff, 0xff };
	struct recorder *passport = add(f, "vendor-passport", QUORUM_ROLE_PASSPORT);
	struct recorder *convergence = add(f, "convergence", QUORUM_ROLE_CONVERGENCE);
	struct audit_log refusals = { g_ptr_array_new_with_free_func(g_free) };
	struct quorum_verdict v;

	orchestrator_set_refused(f->orch, refused_hook, &refusals);
	g_assert_cmpint(orchestrator_stage_role(f->orch, "vendor-passport"), ==,
			QUORUM_ROLE_PASSPORT);
	g_assert_cmpint(orchestrator_stage_role(f->orch, "host"), ==, -1);
	passport->verdict = QUORUM_REJECT;
	passport->reason = "passport_signature_invalid";
	g_assert_cmpint(ingest(f, "uml001.worker.ntp_sync", &v), ==, 0);
	g_assert_cmpstr(v.reason, ==, "passport_signature_invalid");
	g_assert_cmpint(
		orchestrator_ingest_encoded(f->orch, garbage, sizeof(garbage), "unit", "", &v),
		==, -EINVAL);
	g_assert_cmpuint(f->audit.lines->len, ==, 0);
	g_assert_cmpuint(refusals.lines->len, ==, 2);
	g_assert_cmpstr(g_ptr_array_index(refusals.lines, 0), ==,
			"refused pipeline passport_signature_invalid peer-1");
	g_assert_cmpstr(g_ptr_array_index(refusals.lines, 1), ==,
			"refused pipeline envelope_decode_failed unit");
	/* past the passport stage, a rejection concerns a signed event: audited */
	passport->verdict = QUORUM_CONTINUE;
	convergence->verdict = QUORUM_REJECT;
	convergence->reason = "insufficient_quorum";
	g_assert_cmpint(ingest(f, "uml001.worker.ntp_sync", &v), ==, 0);
	g_assert_cmpuint(refusals.lines->len, ==, 2);
	g_assert_cmpuint(f->audit.lines->len, ==, 1);
	g_assert_true(g_str_has_prefix(g_ptr_array_index(f->audit.lines, 0),
				       "pipeline.event verdict=reject stage=convergence "
				       "reason=insufficient_quorum"));
	g_ptr_array_free(refusals.lines, TRUE);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
#define ADD(path, fn) g_test_add(path, struct fixture, NULL, setup, fn, teardown)
	ADD("/orchestrator/runs-stages-in-fixed-role-order", test_role_order);
	ADD("/orchestrator/reject-stops-pipeline-and-reason-reaches-audit",
	    test_reject_stops_and_is_audited);
	ADD("/orchestrator/hold-stops-pipeline-and-reaches-audit",
	    test_hold_stops_and_is_audited);
	ADD("/orchestrator/accepted-event-reaches-every-stage", test_accept_reaches_all);
	ADD("/orchestrator/invalid-stage-answers-become-rejections", test_bad_stage_answers);
	ADD("/orchestrator/ingest-from-a-stage-is-queued", test_reentrant_ingest_queued);
	ADD("/orchestrator/refuses-duplicate-name-and-unknown-role",
	    test_duplicate_and_bad_role_refused);
	ADD("/orchestrator/malformed-envelope-rejected-by-host-and-audited",
	    test_malformed_rejected_by_host_and_audited);
	ADD("/orchestrator/unsigned-rejections-are-counted-not-audited",
	    test_unsigned_rejections_counted_not_audited);
	ADD("/envelope/roundtrip", test_encoded_roundtrip);
	ADD("/envelope/refuses-malformed-unknown-and-non-canonical", test_decode_refusals);
	ADD("/envelope/refuses-out-of-bounds-views", test_build_refusals);
	return g_test_run();
}
