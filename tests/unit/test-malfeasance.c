/* test-malfeasance.c -- the control stage's answer to a malfeasance report, through a mock
 * host API: a report of two attestations validly signed by one authority for one sequence
 * quarantines it (audited, cause equivocation); a report that does not verify with this
 * node's keys is refused; an authority already quarantined is not quarantined again; with
 * quarantine off the report is only recorded. The same for evidence that a node's log forked
 * (two checkpoints it signed, one size, two roots): its node is quarantined (cause log_fork),
 * not on evidence signed by another key, and never this node itself. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <glib.h>

#include <quorum/gossip.h>
#include <quorum/plugin.h>

#include "cosign.h"
#include "keys-internal.h"
#include "mockhost.h"
#include "malfeasance-report.h"
#include "malfeasance.h"
#include "protodecode-internal.h"
#include "timecodec-internal.h"

/* The host: node-1, which knows node-4 (one source) by KEY. */
static struct mockhost mock;
static EVP_PKEY *mock_key; /* node-4's, as this node knows it */

static int verify(struct mockhost *m, const char *authority_id, const char *claimed_key_id,
		  const void *msg, size_t len, const void *sig, size_t sig_len)
{
	char id[KEY_ID_HEX_LEN + 1];

	key_id(mock_key, id);
	/* No key id: the authority's configured key (a signed note names only a key hash). */
	if ((strcmp(authority_id, "node-4") != 0 && strcmp(authority_id, "node-1") != 0) ||
	    (claimed_key_id != NULL && strcmp(claimed_key_id, id) != 0))
		return -ENOENT;
	return key_verify(mock_key, msg, len, sig, sig_len) == 0 ? 0 : -EBADMSG;
}

static void mock_reset(void)
{
	mockhost_release(&mock); /* the log history of the run before */
	mockhost_init(&mock);
	g_assert_cmpint(mockhost_add_source(&mock, "node-4"), ==, 0);
	mock.authority_verify = verify;
	mock_key = NULL;
}

/* A signed attestation of node-4 (KEY) for SEQUENCE at MIDPOINT: its SignedState. */
static void attestation(EVP_PKEY *key, uint64_t sequence, int64_t midpoint, uint8_t **out,
			size_t *len)
{
	static const uint8_t nonce[QUORUM_NONCE_LEN] = { 1 };
	char id[KEY_ID_HEX_LEN + 1];
	struct quorum_attestation f = { .authority_id = "node-4",
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

	key_id(key, id);
	g_assert_cmpint(attestation_response(key, id, &f, &datagram, &datagram_len), ==, 0);
	g_assert_cmpint(datagram_decode(datagram, datagram_len, &d, &reason), ==, 0);
	g_assert_cmpint(proto_encode(&d.message->time_response->base, out, len), ==, 0);
	datagram_release(&d);
	free(datagram);
}

/* Runs the report PAYLOAD (LEN bytes) through malfeasance_process. */
static int run(struct malfeasance *m, const uint8_t *payload, size_t len,
	       int64_t quarantine_after, const char **reason)
{
	static const uint8_t sig[64];
	struct quorum_signed_state st = { .event_id = QUORUM_EVENT_MALFEASANCE,
					  .payload = { payload, len },
					  .signature = { sig, sizeof(sig) },
					  .key_id = "node-2-key" };
	struct quorum_event event = { .magic = QUORUM_EVENT_MAGIC,
				      .size = sizeof(event),
				      .state = &st,
				      .source = QUORUM_GOSSIP_SOURCE,
				      .peer = "node-2" };

	*reason = NULL;
	mock.audit[0] = '\0';
	return malfeasance_process(m, mockhost_host(&mock), &mock.api, &event, quarantine_after,
				   300, reason);
}

static void test_malfeasance(void)
{
	EVP_PKEY *key = key_generate(), *other = key_generate();
	struct malfeasance m = { 0 };
	uint8_t *a, *b, *report;
	size_t a_len, b_len, len;
	const char *reason;

	mock_reset();
	attestation(key, 42, 1800000000000000000LL, &a, &a_len);
	attestation(key, 42, 1800000000007000000LL, &b, &b_len);
	g_assert_cmpint(malfeasance_report_encode("node-4", 42, a, a_len, b, b_len, "node-2",
						  &report, &len),
			==, 0);

	/* this node does not know the key that signed them: a peer's word is not evidence */
	mock_key = other;
	g_assert_cmpint(run(&m, report, len, 3, &reason), ==, QUORUM_REJECT);
	g_assert_cmpstr(reason, ==, MALFEASANCE_REPORT_INVALID);
	g_assert_nonnull(strstr(mock.audit, "gossip.malfeasance.reject reason=unknown_key"));
	g_assert_cmpint(mock.quarantine_calls, ==, 0);
	g_assert_cmpuint(m.refused, ==, 1);

	/* with node-4's key: evidence, quarantine for quarantine_s, audited */
	mock_key = key;
	g_assert_cmpint(run(&m, report, len, 3, &reason), ==, QUORUM_CONTINUE);
	g_assert_cmpint(mock.quarantine_calls, ==, 1);
	g_assert_cmpstr(mock.quarantine_id, ==, "node-4");
	g_assert_cmpstr(mock.quarantine_reason, ==, "equivocation");
	g_assert_cmpint(mock.quarantine_ns, ==, 300000000000LL);
	g_assert_nonnull(strstr(mock.audit, "pipeline.quarantine source=node-4 "
					    "reason=quarantine_logged cause=equivocation "
					    "sequence=42 reporter=node-2 "));
	g_assert_cmpuint(m.acted, ==, 1);

	/* a second report while it is quarantined: accepted, no second quarantine */
	g_assert_cmpint(run(&m, report, len, 3, &reason), ==, QUORUM_CONTINUE);
	g_assert_cmpint(mock.quarantine_calls, ==, 1);
	g_assert_cmpuint(m.known, ==, 1);

	/* quarantine off (quarantine_after = 0): recorded only */
	mock.sources[0].quarantined = 0;
	g_assert_cmpint(run(&m, report, len, 0, &reason), ==, QUORUM_CONTINUE);
	g_assert_cmpint(mock.quarantine_calls, ==, 1);
	g_assert_nonnull(strstr(mock.audit, "gossip.malfeasance.recorded authority=node-4 "
					    "sequence=42 reporter=node-2"));
	g_assert_nonnull(strstr(mock.audit, "quarantine=off"));

	/* a payload that is no report */
	g_assert_cmpint(run(&m, (const uint8_t *)"nonsense", 8, 3, &reason), ==, QUORUM_REJECT);
	g_assert_cmpstr(reason, ==, MALFEASANCE_REPORT_INVALID);
	free(report);
	free(a);
	free(b);
	EVP_PKEY_free(key);
	EVP_PKEY_free(other);
}

/* A checkpoint of ORIGIN, SIZE, root all BYTE, signed by KEY: its signed note into OUT. */
static size_t checkpoint_note(EVP_PKEY *key, const char *origin, uint64_t size, uint8_t byte,
			      char out[NOTE_MAX])
{
	struct checkpoint cp = { .size = size };
	uint8_t sig[64], pub[32];
	size_t pub_len = sizeof(pub);
	char body[512];
	int blen, n;

	g_strlcpy(cp.origin, origin, sizeof(cp.origin));
	memset(cp.root, byte, sizeof(cp.root));
	blen = checkpoint_format(&cp, body, sizeof(body));
	g_assert_cmpint(blen, >, 0);
	g_assert_cmpint(key_sign(key, body, (size_t)blen, sig), ==, 0);
	g_assert_cmpint(EVP_PKEY_get_raw_public_key(key, pub, &pub_len), ==, 1);
	n = note_format(body, (size_t)blen, origin, pub, sig, out, NOTE_MAX);
	g_assert_cmpint(n, >, 0);
	return (size_t)n;
}

/* Evidence against LOG: two checkpoints of 500 records signed by KEY, roots 1s and 2s. */
static char *fork_evidence(EVP_PKEY *key, const char *log, size_t *len)
{
	char a[NOTE_MAX], b[NOTE_MAX], origin[64], *payload;
	struct log_evidence e = { .kind = LOG_EVIDENCE_SAME_SIZE };

	snprintf(origin, sizeof(origin), "quorum-time/%s", log);
	g_strlcpy(e.log, log, sizeof(e.log));
	g_strlcpy(e.reporter, "node-2", sizeof(e.reporter));
	e.first = a;
	e.first_len = checkpoint_note(key, origin, 500, 1, a);
	e.second = b;
	e.second_len = checkpoint_note(key, origin, 500, 2, b);
	g_assert_cmpint(log_evidence_format(&e, &payload, len), ==, 0);
	return payload;
}

static int run_log(struct malfeasance *m, const char *payload, size_t len,
		   int64_t quarantine_after, const char **reason)
{
	static const uint8_t sig[64];
	struct quorum_signed_state st = { .event_id = QUORUM_EVENT_LOG_MALFEASANCE,
					  .payload = { (const uint8_t *)payload, len },
					  .signature = { sig, sizeof(sig) },
					  .key_id = "node-2-key" };
	struct quorum_event event = { .magic = QUORUM_EVENT_MAGIC,
				      .size = sizeof(event),
				      .state = &st,
				      .source = QUORUM_GOSSIP_SOURCE,
				      .peer = "node-2" };

	*reason = NULL;
	mock.audit[0] = '\0';
	return log_malfeasance_process(m, mockhost_host(&mock), &mock.api, &event,
				       quarantine_after, 300, reason);
}

static void test_log_fork(void)
{
	EVP_PKEY *key = key_generate(), *other = key_generate();
	struct malfeasance m = { 0 };
	const char *reason;
	char *evidence;
	size_t len;

	mock_reset();
	evidence = fork_evidence(key, "node-4", &len);

	/* signed by a key this node does not know as node-4's: nothing against node-4 */
	mock_key = other;
	g_assert_cmpint(run_log(&m, evidence, len, 3, &reason), ==, QUORUM_REJECT);
	g_assert_cmpstr(reason, ==, LOG_MALFEASANCE_INVALID);
	g_assert_nonnull(strstr(mock.audit, "merkle.malfeasance.reject reason="
					    "evidence_checkpoint_not_signed_by_log"));
	g_assert_cmpint(mock.quarantine_calls, ==, 0);

	/* node-4's key: quarantined for quarantine_s, audited with the sizes */
	mock_key = key;
	g_assert_cmpint(run_log(&m, evidence, len, 3, &reason), ==, QUORUM_CONTINUE);
	g_assert_cmpint(mock.quarantine_calls, ==, 1);
	g_assert_cmpstr(mock.quarantine_id, ==, "node-4");
	g_assert_cmpstr(mock.quarantine_reason, ==, "log_fork");
	g_assert_nonnull(strstr(mock.audit,
				"pipeline.quarantine source=node-4 "
				"reason=quarantine_logged cause=log_fork kind=same_size "
				"origin=quorum-time/node-4 size=500 other_size=500 "
				"reporter=node-2"));
	/* again while quarantined: no second quarantine */
	g_assert_cmpint(run_log(&m, evidence, len, 3, &reason), ==, QUORUM_CONTINUE);
	g_assert_cmpint(mock.quarantine_calls, ==, 1);
	/* one byte off: not canonical, refused */
	evidence[len - 2] ^= 1;
	g_assert_cmpint(run_log(&m, evidence, len, 3, &reason), ==, QUORUM_REJECT);
	free(evidence);

	/* evidence against this node itself: recorded, nobody quarantines itself */
	mock.sources[0].quarantined = 0;
	evidence = fork_evidence(key, "node-1", &len);
	g_assert_cmpint(run_log(&m, evidence, len, 3, &reason), ==, QUORUM_CONTINUE);
	g_assert_cmpint(mock.quarantine_calls, ==, 1);
	g_assert_nonnull(strstr(mock.audit, "merkle.malfeasance.recorded log=node-1 "));
	free(evidence);
	EVP_PKEY_free(key);
	EVP_PKEY_free(other);
	mockhost_release(&mock);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/control/malfeasance/evidence-quarantines-once-refuses-unproven",
			test_malfeasance);
	g_test_add_func("/control/malfeasance/log-fork-quarantines-its-node-refuses-unproven",
			test_log_fork);
	return g_test_run();
}
