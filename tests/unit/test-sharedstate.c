/* test-sharedstate.c -- a leader's shared state at the control stage, without the host: the
 * canonical text decoded strictly (one spelling per state), the checks after the signature
 * in the seed's order, the per-leader state file across a restart (and refused when
 * tampered with), and the stage's decision through a mock host API table. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "mockhost.h"
#include "sharedstate.h"

static void assert_same(const struct quorum_shared_state_fields *a,
			const struct quorum_shared_state_fields *b)
{
	g_assert_cmpstr(a->leader_id, ==, b->leader_id);
	g_assert_cmpstr(a->key_id, ==, b->key_id);
	g_assert_cmpuint(a->monotonic_version, ==, b->monotonic_version);
	g_assert_cmpuint(a->shared_agreed_time, ==, b->shared_agreed_time);
	g_assert_cmpint(a->shared_applied_drift, ==, b->shared_applied_drift);
	g_assert_cmpuint(a->leader_system_time_at_sync, ==, b->leader_system_time_at_sync);
	g_assert_true(a->warp_score == b->warp_score);
}

static struct quorum_shared_state_fields sample(void)
{
	struct quorum_shared_state_fields f = {
		.leader_id = "node-2",
		.key_id = "b257dde96ec7840b",
		.monotonic_version = 7,
		.shared_agreed_time = 1795796697932630258ULL,
		.shared_applied_drift = -1234,
		.leader_system_time_at_sync = 1795796697932630000ULL,
		.warp_score = 0.25,
	};

	return f;
}

/* ---- the canonical text ---- */

static void test_decode_roundtrip(void)
{
	struct quorum_shared_state_fields f = sample(), g;
	const double warps[] = { 0, 1, 0.25, 1e-5, 0.1, 1.0 / 3, -0.0 };
	char text[QUORUM_SHARED_STATE_TEXT_MAX];
	int n;

	n = quorum_shared_state_format(&f, text, sizeof(text));
	g_assert_cmpstr(
		text, ==,
		"uml001.shared_state.v1|node-2|b257dde96ec7840b|1795796697932630258|-1234|"
		"1795796697932630000|7|0.25");
	g_assert_cmpint(n, ==, (int)strlen(text));
	g_assert_cmpint(sharedstate_decode(text, (size_t)n, &g), ==, 0);
	assert_same(&f, &g);
	for (size_t i = 0; i < G_N_ELEMENTS(warps); i++) {
		f.warp_score = warps[i];
		n = quorum_shared_state_format(&f, text, sizeof(text));
		g_assert_cmpint(sharedstate_decode(text, (size_t)n, &g), ==, 0);
		g_assert_true(g.warp_score == warps[i]); /* "%.17g" reads back exactly */
	}
	/* the extremes: the longest ids, every bound */
	memset(f.leader_id, 'L', QUORUM_NODE_ID_MAX);
	f.leader_id[QUORUM_NODE_ID_MAX] = '\0';
	memset(f.key_id, 'K', QUORUM_KEY_ID_MAX);
	f.key_id[QUORUM_KEY_ID_MAX] = '\0';
	f.monotonic_version = QUORUM_SHARED_STATE_UNSIGNED_MAX;
	f.shared_agreed_time = QUORUM_SHARED_STATE_UNSIGNED_MAX;
	f.leader_system_time_at_sync = QUORUM_SHARED_STATE_UNSIGNED_MAX;
	f.shared_applied_drift = INT64_MIN;
	f.warp_score = -2.2250738585072014e-308;
	n = quorum_shared_state_format(&f, text, sizeof(text));
	g_assert_cmpint(n, ==, 258); /* the longest text there is */
	g_assert_cmpint(sharedstate_decode(text, (size_t)n, &g), ==, 0);
	assert_same(&f, &g);
	/* the formatter refuses what no text may hold */
	f = sample();
	f.monotonic_version = QUORUM_SHARED_STATE_UNSIGNED_MAX + 1;
	g_assert_cmpint(quorum_shared_state_format(&f, text, sizeof(text)), ==, -EINVAL);
	f = sample();
	f.warp_score = INFINITY;
	g_assert_cmpint(quorum_shared_state_format(&f, text, sizeof(text)), ==, -EINVAL);
	f = sample();
	snprintf(f.leader_id, sizeof(f.leader_id), "a|b");
	g_assert_cmpint(quorum_shared_state_format(&f, text, sizeof(text)), ==, -EINVAL);
	f = sample();
	g_assert_cmpint(quorum_shared_state_format(&f, text, 20), ==, -ENOSPC);
}

static void test_decode_refusals(void)
{
	static const char *const bad[] = {
		"",
		"uml001.shared_state.v2|node-2|k|1|2|3|4|0.5",	 /* another domain */
		"uml001.shared_state.v1|node-2|k|1|2|3|4",	 /* 7 fields */
		"uml001.shared_state.v1|node-2|k|1|2|3|4|0.5|9", /* 9 fields */
		"uml001.shared_state.v1||k|1|2|3|4|0.5",	 /* an empty leader */
		"uml001.shared_state.v1|node-2||1|2|3|4|0.5",	 /* an empty key id */
		"uml001.shared_state.v1|no\"de|k|1|2|3|4|0.5",	 /* a quote */
		"uml001.shared_state.v1|no=de|k|1|2|3|4|0.5",	 /* an equals sign */
		"uml001.shared_state.v1|no\\de|k|1|2|3|4|0.5",	 /* a backslash */
		"uml001.shared_state.v1|node 2|k|1|2|3|4|0.5",	 /* a space */
		"uml001.shared_state.v1|node-2|k|01|2|3|4|0.5",	 /* a leading zero */
		"uml001.shared_state.v1|node-2|k|+1|2|3|4|0.5",	 /* a plus sign */
		"uml001.shared_state.v1|node-2|k|-1|2|3|4|0.5",	 /* a negative agreed time */
		"uml001.shared_state.v1|node-2|k|1|-0|3|4|0.5",	 /* minus zero */
		"uml001.shared_state.v1|node-2|k|1|--2|3|4|0.5", /* two minus signs */
		"uml001.shared_state.v1|node-2|k|1|2|3|9223372036854775808|0.5", /* 2^63 */
		"uml001.shared_state.v1|node-2|k|1|-9223372036854775809|3|4|0.5",
		"uml001.shared_state.v1|node-2|k|1|2|3|99999999999999999999|0.5",
		"uml001.shared_state.v1|node-2|k|1|2|3|4|0.50", /* not "%.17g" */
		"uml001.shared_state.v1|node-2|k|1|2|3|4|5e-1",
		"uml001.shared_state.v1|node-2|k|1|2|3|4|0x1p-1",
		"uml001.shared_state.v1|node-2|k|1|2|3|4|nan",
		"uml001.shared_state.v1|node-2|k|1|2|3|4|inf",
		"uml001.shared_state.v1|node-2|k|1|2|3|4|",
		"uml001.shared_state.v1|node-2|k|1|2|3|4|0.5\n", /* a trailing newline */
		"uml001.shared_state.v1|node-2|k|1|2|3|4|0.5 ",
		"uml001.shared_state.v1|node-2|k|1|2|3|4|0.1", /* 0.1 is 0.10000000000000001 */
		"uml001.shared_state.v1|node-2|k|1|2|3|4|-0",  /* minus zero is written 0 */
	};
	struct quorum_shared_state_fields f;
	char text[QUORUM_SHARED_STATE_TEXT_MAX + 8];

	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		if (sharedstate_decode(bad[i], strlen(bad[i]), &f) != -EINVAL)
			g_error("accepted: %s", bad[i]);
	}
	g_assert_cmpint(
		sharedstate_decode("uml001.shared_state.v1|node-2|k|1|2|3|4|0.5",
				   strlen("uml001.shared_state.v1|node-2|k|1|2|3|4|0.5"), &f),
		==, 0);
	g_assert_cmpint(sharedstate_decode(NULL, 0, &f), ==, -EINVAL);
	/* a NUL inside: the length counts, not the terminator */
	memcpy(text, "uml001.shared_state.v1|node-2|k|1|2|3|4|0.5\0x", 45);
	g_assert_cmpint(sharedstate_decode(text, 45, &f), ==, -EINVAL);
	/* too long to be any shared state */
	memset(text, 'a', sizeof(text));
	g_assert_cmpint(sharedstate_decode(text, QUORUM_SHARED_STATE_TEXT_MAX, &f), ==,
			-EINVAL);
}

/* ---- the checks after the signature ---- */

static void test_judge_order(void)
{
	struct sharedstate_entry entry = { .leader_id = "node-2", .applied = { .version = 7 } };
	struct sharedstate s = { .entries = &entry, .count = 1 };
	struct quorum_shared_state_fields f = sample();
	const int64_t latest = (int64_t)f.leader_system_time_at_sync;
	const int64_t ceiling = 3600000000000LL;

	/* version 7 again: stale, whatever else is wrong too */
	f.warp_score = 3;
	f.leader_system_time_at_sync += 1;
	g_assert_cmpstr(sharedstate_judge(&s, &f, 1, latest, ceiling), ==, "stale_version");
	f.monotonic_version = 8;
	g_assert_cmpstr(sharedstate_judge(&s, &f, 0, latest, ceiling), ==,
			"clock_unsynchronised");
	g_assert_cmpstr(sharedstate_judge(&s, &f, 1, latest, ceiling), ==,
			"leader_time_in_future");
	f.leader_system_time_at_sync -= 1; /* exactly the latest instant is fine */
	f.shared_applied_drift = -ceiling - 1;
	g_assert_cmpstr(sharedstate_judge(&s, &f, 1, latest, ceiling), ==,
			"drift_ceiling_exceeded");
	f.shared_applied_drift = INT64_MIN; /* its magnitude does not overflow */
	g_assert_cmpstr(sharedstate_judge(&s, &f, 1, latest, ceiling), ==,
			"drift_ceiling_exceeded");
	g_assert_cmpstr(sharedstate_judge(&s, &f, 1, latest, 0), ==, "warp_out_of_range");
	f.shared_applied_drift = ceiling;
	g_assert_cmpstr(sharedstate_judge(&s, &f, 1, latest, ceiling), ==, "warp_out_of_range");
	f.warp_score = -0.001;
	g_assert_cmpstr(sharedstate_judge(&s, &f, 1, latest, ceiling), ==, "warp_out_of_range");
	f.warp_score = 1;
	g_assert_null(sharedstate_judge(&s, &f, 1, latest, ceiling));
	f.warp_score = 0;
	g_assert_null(sharedstate_judge(&s, &f, 1, latest, ceiling));
	/* another leader starts from nothing: version 0 is fine */
	snprintf(f.leader_id, sizeof(f.leader_id), "node-3");
	f.monotonic_version = 0;
	g_assert_null(sharedstate_judge(&s, &f, 1, latest, ceiling));
}

/* ---- the state file ---- */

static char *file_text(const char *path)
{
	char *text = NULL;

	g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
	return text;
}

static void test_file_restart_and_tampering(void)
{
	char *dir = g_dir_make_tmp("sharedstate-XXXXXX", NULL);
	char *path = g_build_filename(dir, "state", "shared-state", NULL);
	char *folder = g_build_filename(dir, "state", NULL);
	char *tmp = g_build_filename(dir, "state", ".shared-state.tmp", NULL), *text, why[512];
	struct quorum_shared_state_fields f = sample();
	struct sharedstate s;
	const struct sharedstate_entry *e;
	struct stat st;

	/* a fresh start creates the folder; nothing is written until something is applied */
	g_assert_cmpint(sharedstate_open(&s, path, why, sizeof(why)), ==, 0);
	g_assert_cmpuint(s.count, ==, 0);
	g_assert_cmpint(stat(folder, &st), ==, 0);
	g_assert_cmpuint(st.st_mode & 0777, ==, 0700);
	g_assert_cmpint(access(path, F_OK), ==, -1);
	g_assert_cmpint(sharedstate_record(&s, &f, 1795796697955230904LL, why, sizeof(why)), ==,
			0);
	snprintf(f.leader_id, sizeof(f.leader_id), "node-3");
	f.warp_score = 0.1;
	f.monotonic_version = 1;
	g_assert_cmpint(sharedstate_record(&s, &f, 5, why, sizeof(why)), ==, 0);
	f.monotonic_version = 2;
	g_assert_cmpint(sharedstate_record(&s, &f, 6, why, sizeof(why)), ==, 0);
	sharedstate_release(&s);
	g_assert_cmpint(stat(path, &st), ==, 0);
	g_assert_cmpuint(st.st_mode & 0777, ==, 0600);
	g_assert_cmpint(access(tmp, F_OK), ==, -1);
	text = file_text(path);
	g_assert_cmpstr(
		text, ==,
		"quorum-control-shared-state-v1\n"
		"node-2 b257dde96ec7840b 7 1795796697932630258 -1234 1795796697932630000 "
		"0.25 1795796697955230904\n"
		"node-3 b257dde96ec7840b 2 1795796697932630258 -1234 1795796697932630000 "
		"0.10000000000000001 6\n");
	g_free(text);
	/* a restart: both leaders back, exactly; version 7 of node-2 is stale still */
	g_assert_cmpint(sharedstate_open(&s, path, why, sizeof(why)), ==, 0);
	g_assert_cmpuint(s.count, ==, 2);
	e = sharedstate_find(&s, "node-2");
	g_assert_nonnull(e);
	g_assert_cmpuint(e->applied.version, ==, 7);
	g_assert_cmpint(e->applied.applied_drift_ns, ==, -1234);
	g_assert_true(e->applied.warp_score == 0.25);
	g_assert_cmpint(e->applied.applied_at_ns, ==, 1795796697955230904LL);
	g_assert_cmpstr(e->applied.key_id, ==, "b257dde96ec7840b");
	g_assert_true(sharedstate_find(&s, "node-3")->applied.warp_score == 0.1);
	f = sample();
	g_assert_cmpstr(sharedstate_judge(&s, &f, 1, INT64_MAX, 0), ==, "stale_version");
	/* a state that cannot be saved was never applied */
	g_assert_cmpint(chmod(folder, 0500), ==, 0);
	if (access(folder, W_OK) != 0) { /* root writes anyway */
		f.monotonic_version = 8;
		g_assert_cmpint(sharedstate_record(&s, &f, 9, why, sizeof(why)), <, 0);
		g_assert_cmpuint(sharedstate_find(&s, "node-2")->applied.version, ==, 7);
		snprintf(f.leader_id, sizeof(f.leader_id), "node-4");
		g_assert_cmpint(sharedstate_record(&s, &f, 9, why, sizeof(why)), <, 0);
		g_assert_cmpuint(s.count, ==, 2);
	}
	g_assert_cmpint(chmod(folder, 0700), ==, 0);
	sharedstate_release(&s);
	/* writable by others, a symbolic link, an edited line, a line repeated: refused */
	g_assert_cmpint(chmod(path, 0622), ==, 0);
	g_assert_cmpint(sharedstate_open(&s, path, why, sizeof(why)), ==, -EPERM);
	g_assert_cmpint(chmod(path, 0600), ==, 0);
	{
		char *link = g_build_filename(dir, "link", NULL);

		g_assert_cmpint(symlink(path, link), ==, 0);
		g_assert_cmpint(sharedstate_open(&s, link, why, sizeof(why)), <, 0);
		g_unlink(link);
		g_free(link);
	}
	text = file_text(path);
	{
		char *edited = g_strdup(text);
		char *seven = strstr(edited, " 7 ");

		seven[1] = '6'; /* node-2's version lowered: a replay would pass */
		g_assert_true(g_file_set_contents(path, edited, -1, NULL));
		g_assert_cmpint(chmod(path, 0600), ==, 0);
		g_assert_cmpint(sharedstate_open(&s, path, why, sizeof(why)), ==, 0);
		/* A well-formed edit reads: the file is as trusted as the daemon's user (see
		 * docs/design-departures.md); only malformed ones are caught. */
		sharedstate_release(&s);
		seven[1] = 'x';
		g_assert_true(g_file_set_contents(path, edited, -1, NULL));
		g_assert_cmpint(sharedstate_open(&s, path, why, sizeof(why)), ==, -EINVAL);
		g_assert_nonnull(strstr(why, "line 2"));
		g_assert_nonnull(strstr(why, "remove it to start afresh"));
		g_free(edited);
		edited = g_strdup_printf("%s%s", text, strchr(text, '\n') + 1);
		g_assert_true(g_file_set_contents(path, edited, -1, NULL));
		g_assert_cmpint(sharedstate_open(&s, path, why, sizeof(why)), ==, -EINVAL);
		g_free(edited);
		g_assert_true(g_file_set_contents(path, "quorum-control-shared-state-v2\n", -1,
						  NULL));
		g_assert_cmpint(sharedstate_open(&s, path, why, sizeof(why)), ==, -EINVAL);
		g_assert_true(g_file_set_contents(path, text, (gssize)strlen(text) - 1, NULL));
		g_assert_cmpint(sharedstate_open(&s, path, why, sizeof(why)), ==, -EINVAL);
	}
	g_free(text);
	/* without a file nothing can be recorded */
	g_assert_cmpint(sharedstate_open(&s, NULL, why, sizeof(why)), ==, 0);
	g_assert_cmpint(sharedstate_record(&s, &f, 1, why, sizeof(why)), ==, -EINVAL);
	sharedstate_release(&s);
	g_unlink(path);
	g_rmdir(folder);
	g_rmdir(dir);
	g_free(tmp);
	g_free(folder);
	g_free(path);
	g_free(dir);
}

/* ---- the stage's decision through a mock host API ---- */

static struct mockhost mock;
static int verify_result; /* what authority_verify answers */

static int verify(struct mockhost *m, const char *authority_id, const char *key_id,
		  const void *msg, size_t len, const void *sig, size_t sig_len)
{
	return verify_result;
}

/* Runs TEXT (key id KEY_ID in the envelope) through sharedstate_process. */
static int run(struct sharedstate *s, const char *text, const char *key_id, const char **reason)
{
	static const uint8_t sig[64];
	struct quorum_signed_state st = {
		.event_id = QUORUM_EVENT_SHARED_STATE,
		.payload = { (const uint8_t *)text, strlen(text) },
		.signature = { sig, sizeof(sig) },
		.key_id = key_id,
	};
	struct quorum_event event = { .magic = QUORUM_EVENT_MAGIC,
				      .size = sizeof(event),
				      .state = &st,
				      .source = "rest",
				      .peer = "127.0.0.1" };

	*reason = NULL;
	mock.audit[0] = '\0';
	return sharedstate_process(s, mockhost_host(&mock), &mock.api, &event, 3600000000000LL,
				   reason);
}

static void test_process(void)
{
	char *dir = g_dir_make_tmp("sharedstate-XXXXXX", NULL);
	char *path = g_build_filename(dir, "shared-state", NULL),
	     text[QUORUM_SHARED_STATE_TEXT_MAX];
	struct quorum_shared_state_fields f = sample();
	struct sharedstate s, none;
	struct quorum_shared_state_applied applied;
	const char *reason;
	char why[512];
	uint64_t decisions;

	mockhost_init(&mock);
	mock.authority_verify = verify;
	mock.clock = (struct quorum_clock_reading){
		.status = QUORUM_CLOCK_SYNCHRONISED,
		.estimate_ns = (int64_t)f.leader_system_time_at_sync + 500,
		.latest_ns = (int64_t)f.leader_system_time_at_sync + 1000,
	};
	quorum_shared_state_format(&f, text, sizeof(text));
	g_assert_cmpint(sharedstate_open(&s, path, why, sizeof(why)), ==, 0);
	/* undecodable: the seed's decode reason, the audit says so without the text */
	g_assert_cmpint(run(&s, "uml001.shared_state.v1|x", f.key_id, &reason), ==,
			QUORUM_REJECT);
	g_assert_cmpstr(reason, ==, "shared_state_payload_decode_failed");
	g_assert_cmpstr(mock.audit, ==,
			"bft.shared_state.reject reason=payload_decode_failed payload_len=24 "
			"peer=\"127.0.0.1\"");
	g_assert_cmpstr(s.last_reason, ==, "payload_decode_failed");
	/* the envelope's key id must be the text's */
	g_assert_cmpint(run(&s, text, "other", &reason), ==, QUORUM_REJECT);
	g_assert_cmpstr(reason, ==, "shared_state_apply_rejected");
	g_assert_cmpstr(s.last_reason, ==, "key_id_mismatch");
	g_assert_cmpint(mock.verify_calls, ==, 0);
	/* the host's verdict on the signature */
	verify_result = -ENOENT;
	g_assert_cmpint(run(&s, text, f.key_id, &reason), ==, QUORUM_REJECT);
	g_assert_cmpstr(s.last_reason, ==, "unknown_leader");
	g_assert_cmpstr(mock.audit, ==,
			"bft.shared_state.reject reason=unknown_leader leader=node-2 "
			"key_id=b257dde96ec7840b version=7 peer=\"127.0.0.1\"");
	verify_result = -EBADMSG;
	g_assert_cmpint(run(&s, text, f.key_id, &reason), ==, QUORUM_REJECT);
	g_assert_cmpstr(s.last_reason, ==, "bad_signature");
	verify_result = 0;
	/* applied: recorded, audited, in the file */
	g_assert_cmpint(run(&s, text, f.key_id, &reason), ==, QUORUM_CONTINUE);
	g_assert_null(reason);
	g_assert_cmpstr(s.last_reason, ==, "");
	g_assert_cmpstr(
		mock.audit, ==,
		"bft.shared_state.apply leader=node-2 version=7 agreed_ns=1795796697932630258 "
		"drift_ns=-1234 warp=0.25 key_id=b257dde96ec7840b "
		"leader_time_ns=1795796697932630000 applied_at_ns=1795796697932630500 "
		"peer=\"127.0.0.1\"");
	g_assert_nonnull(sharedstate_find(&s, "node-2"));
	applied = sharedstate_find(&s, "node-2")->applied;
	g_assert_cmpint(applied.applied_at_ns, ==, mock.clock.estimate_ns);
	/* the same again: stale */
	g_assert_cmpint(run(&s, text, f.key_id, &reason), ==, QUORUM_REJECT);
	g_assert_cmpstr(s.last_reason, ==, "stale_version");
	/* the served clock decides what "the future" is */
	f.monotonic_version = 8;
	f.leader_system_time_at_sync = (uint64_t)mock.clock.latest_ns + 1;
	quorum_shared_state_format(&f, text, sizeof(text));
	g_assert_cmpint(run(&s, text, f.key_id, &reason), ==, QUORUM_REJECT);
	g_assert_cmpstr(s.last_reason, ==, "leader_time_in_future");
	g_assert_cmpuint(s.decisions, ==, 7);
	g_assert_cmpuint(s.applied, ==, 1);
	g_assert_cmpuint(s.refused, ==, 6);
	sharedstate_release(&s);
	/* no state file: refused after the signature, as a replay could not be refused later */
	g_assert_cmpint(sharedstate_open(&none, NULL, why, sizeof(why)), ==, 0);
	f = sample();
	quorum_shared_state_format(&f, text, sizeof(text));
	g_assert_cmpint(run(&none, text, f.key_id, &reason), ==, QUORUM_REJECT);
	g_assert_cmpstr(none.last_reason, ==, "no_state_file");
	decisions = none.decisions;
	g_assert_cmpuint(decisions, ==, 1);
	sharedstate_release(&none);
	mockhost_release(&mock);
	g_unlink(path);
	g_rmdir(dir);
	g_free(path);
	g_free(dir);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	umask(022); /* the files written here must not be group-writable */
	g_test_add_func("/sharedstate/decode/canonical-text-roundtrip", test_decode_roundtrip);
	g_test_add_func("/sharedstate/decode/refuses-every-other-spelling",
			test_decode_refusals);
	g_test_add_func("/sharedstate/judge/seed-order-after-the-signature", test_judge_order);
	g_test_add_func("/sharedstate/file/survives-restart-refuses-tampering",
			test_file_restart_and_tampering);
	g_test_add_func("/sharedstate/process/verifies-records-and-audits", test_process);
	return g_test_run();
}
