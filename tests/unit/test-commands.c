/* test-commands.c -- the control plane's operator commands: each payload rule of
 * command_decode, and operators_check's verdicts (unsigned, unknown key, bad signature,
 * stale, replayed, accepted) on events signed as quorumctl signs them. */
#include "config.h"

#include <string.h>

#include <glib.h>

#include "commands.h"
#include "keys-internal.h"
#include "testutil.h"
#include "timecodec-internal.h"

static int decode(enum command_kind kind, const char *json, struct command *out,
		  const char **why)
{
	*why = NULL;
	return command_decode(kind, (const uint8_t *)json, strlen(json), out, why);
}

static void test_kinds(void)
{
	g_assert_cmpint(command_kind_of("uml001.control.set_mode"), ==, COMMAND_SET_MODE);
	g_assert_cmpint(command_kind_of("uml001.control.hitl.approve"), ==,
			COMMAND_HITL_APPROVE);
	g_assert_cmpint(command_kind_of("uml001.control.hitl.reject"), ==, COMMAND_HITL_REJECT);
	g_assert_cmpint(command_kind_of("uml001.control.recovery.begin"), ==,
			COMMAND_RECOVERY_BEGIN);
	g_assert_cmpint(command_kind_of("uml001.control.recovery.epoch_verified"), ==,
			COMMAND_RECOVERY_EPOCH);
	g_assert_cmpint(command_kind_of("uml001.control.recovery.rejoin"), ==,
			COMMAND_RECOVERY_REJOIN);
	g_assert_cmpint(command_kind_of("uml001.worker.ntp_sync"), ==, COMMAND_NONE);
	g_assert_cmpint(command_kind_of("uml001.control.set_mode.extra"), ==, COMMAND_NONE);
}

static void test_decode(void)
{
	struct command c;
	const char *why;

	g_assert_cmpint(decode(COMMAND_SET_MODE, "{\"mode\":\"DEGRADED\",\"reason\":\"maint\"}",
			       &c, &why),
			==, 0);
	g_assert_cmpuint(c.mode, ==, 2);
	g_assert_cmpstr(c.reason, ==, "maint");
	g_assert_cmpint(decode(COMMAND_SET_MODE, "{}", &c, &why), ==, -1);
	g_assert_cmpstr(why, ==, "mode is missing");
	g_assert_cmpint(decode(COMMAND_SET_MODE, "{\"mode\":\"SLEEPING\"}", &c, &why), ==, -1);
	g_assert_cmpstr(why, ==, "mode is not one of the runtime modes");
	g_assert_cmpint(decode(COMMAND_SET_MODE, "{\"mode\":2}", &c, &why), ==, -1);
	g_assert_cmpint(
		decode(COMMAND_SET_MODE, "{\"mode\":\"DEGRADED\",\"force\":true}", &c, &why),
		==, -1);
	g_assert_cmpstr(why, ==, "payload has a field this command does not take");
	g_assert_cmpint(decode(COMMAND_SET_MODE,
			       "{\"mode\":\"DEGRADED\",\"mode\":\"ISOLATED\"}", &c, &why),
			==, -1);
	g_assert_cmpstr(why, ==, "payload is not JSON (or repeats a key)");
	g_assert_cmpint(decode(COMMAND_SET_MODE, "[\"DEGRADED\"]", &c, &why), ==, -1);
	g_assert_cmpstr(why, ==, "payload is not a JSON object");
	g_assert_cmpint(decode(COMMAND_SET_MODE, "{\"mode\":\"DEGRADED\",\"reason\":\"a\\nb\"}",
			       &c, &why),
			==, -1);

	g_assert_cmpint(
		decode(COMMAND_HITL_APPROVE, "{\"hold_id\":\"0123456789abcdef\"}", &c, &why),
		==, 0);
	g_assert_cmpstr(c.hold_id, ==, "0123456789abcdef");
	g_assert_cmpint(
		decode(COMMAND_HITL_REJECT, "{\"hold_id\":\"0123456789ABCDEF\"}", &c, &why), ==,
		-1);
	g_assert_cmpint(decode(COMMAND_HITL_REJECT, "{\"hold_id\":\"0123\"}", &c, &why), ==,
			-1);
	g_assert_cmpint(decode(COMMAND_HITL_APPROVE, "{\"mode\":\"DEGRADED\"}", &c, &why), ==,
			-1);

	g_assert_cmpint(decode(COMMAND_RECOVERY_BEGIN, "{}", &c, &why), ==, 0);
	g_assert_cmpint(decode(COMMAND_RECOVERY_REJOIN, "{\"reason\":\"ok\"}", &c, &why), ==,
			0);
	g_assert_cmpint(decode(COMMAND_RECOVERY_BEGIN, "{\"checkpoint\":\"x\"}", &c, &why), ==,
			-1);
	g_assert_cmpint(
		decode(COMMAND_RECOVERY_EPOCH, "{\"checkpoint\":\"a\\nb\\n\"}", &c, &why), ==,
		0);
	g_assert_cmpstr(c.checkpoint, ==, "a\nb\n");
	g_assert_cmpint(decode(COMMAND_RECOVERY_EPOCH, "{}", &c, &why), ==, -1);
	g_assert_cmpstr(why, ==, "checkpoint is missing");
	g_assert_cmpint(decode(COMMAND_NONE, "{}", &c, &why), ==, -1);
}

struct signed_event {
	struct quorum_signed_state view;
	uint8_t sig[KEY_SIGNATURE_LEN];
	char key_id[KEY_ID_HEX_LEN + 1];
};

static void sign_event(EVP_PKEY *key, struct signed_event *e, uint64_t logical_time_ns,
		       const char *payload)
{
	memset(e, 0, sizeof(*e));
	g_assert_cmpint(key_id(key, e->key_id), ==, 0);
	e->view.logical_time_ns = logical_time_ns;
	e->view.event_id = "uml001.control.set_mode";
	e->view.key_id = e->key_id;
	e->view.payload.data = (const uint8_t *)payload;
	e->view.payload.len = strlen(payload);
	g_assert_cmpint(signed_state_sign(key, &e->view, e->sig), ==, 0);
}

static void test_operators(void)
{
	char *dir = testutil_scratch_new(), why[256];
	EVP_PKEY *ops_key = testutil_key(dir, "ops"), *other = testutil_key(dir, "other");
	char *ops_pub = testutil_path(dir, "ops.pub"),
	     *other_pub = testutil_path(dir, "other.pub");
	const int64_t now = 1800000000000000000LL, minute = 60000000000LL;
	struct operators ops = { 0 };
	struct operator_key *who;
	struct signed_event e;
	uint8_t flipped[KEY_SIGNATURE_LEN];

	g_assert_cmpint(operators_add(&ops, "ops", ops_pub, why, sizeof(why)), ==, 0);
	g_assert_cmpint(operators_add(&ops, "ops", other_pub, why, sizeof(why)), ==, -1);
	g_assert_cmpint(operators_add(&ops, "again", ops_pub, why, sizeof(why)), ==, -1);
	g_assert_cmpint(operators_add(&ops, "missing", "/nonexistent.pub", why, sizeof(why)),
			==, -1);
	g_assert_nonnull(strstr(why, "/nonexistent.pub"));
	g_assert_cmpuint(ops.count, ==, 1);

	sign_event(ops_key, &e, (uint64_t)now, "{\"mode\":\"DEGRADED\"}");
	g_assert_cmpint(operators_check(&ops, &e.view, now, 5 * minute, &who), ==, OPERATOR_OK);
	g_assert_cmpstr(who->id, ==, "ops");
	operators_accept(who, &e.view);
	g_assert_cmpint(operators_check(&ops, &e.view, now, 5 * minute, &who), ==,
			OPERATOR_REPLAYED);
	g_assert_null(who);
	sign_event(ops_key, &e, (uint64_t)(now + 1), "{\"mode\":\"DEGRADED\"}");
	g_assert_cmpint(operators_check(&ops, &e.view, now, 5 * minute, &who), ==, OPERATOR_OK);

	sign_event(ops_key, &e, (uint64_t)(now - 6 * minute), "{\"mode\":\"DEGRADED\"}");
	g_assert_cmpint(operators_check(&ops, &e.view, now, 5 * minute, &who), ==,
			OPERATOR_STALE);
	sign_event(ops_key, &e, (uint64_t)(now + 6 * minute), "{\"mode\":\"DEGRADED\"}");
	g_assert_cmpint(operators_check(&ops, &e.view, now, 5 * minute, &who), ==,
			OPERATOR_STALE);

	sign_event(other, &e, (uint64_t)now + 2, "{\"mode\":\"DEGRADED\"}");
	g_assert_cmpint(operators_check(&ops, &e.view, now, 5 * minute, &who), ==,
			OPERATOR_UNKNOWN_KEY);

	sign_event(ops_key, &e, (uint64_t)now + 3, "{\"mode\":\"DEGRADED\"}");
	e.view.payload.data =
		(const uint8_t *)"{\"mode\":\"ISOLATED\"}"; /* changed after signing */
	g_assert_cmpint(operators_check(&ops, &e.view, now, 5 * minute, &who), ==,
			OPERATOR_BAD_SIGNATURE);
	sign_event(ops_key, &e, (uint64_t)now + 4, "{\"mode\":\"DEGRADED\"}");
	memcpy(flipped, e.sig, sizeof(flipped));
	flipped[10] ^= 0x01;
	e.view.signature.data = flipped;
	g_assert_cmpint(operators_check(&ops, &e.view, now, 5 * minute, &who), ==,
			OPERATOR_BAD_SIGNATURE);
	e.view.signature.len = 0;
	g_assert_cmpint(operators_check(&ops, &e.view, now, 5 * minute, &who), ==,
			OPERATOR_UNSIGNED);
	sign_event(ops_key, &e, (uint64_t)now + 5, "{\"mode\":\"DEGRADED\"}");
	e.view.key_id = "";
	g_assert_cmpint(operators_check(&ops, &e.view, now, 5 * minute, &who), ==,
			OPERATOR_UNSIGNED);
	g_assert_cmpstr(operator_verdict_name(OPERATOR_REPLAYED), ==, "replayed");

	EVP_PKEY_free(ops_key);
	EVP_PKEY_free(other);
	g_free(ops_pub);
	g_free(other_pub);
	testutil_scratch_free(dir);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/commands/kinds", test_kinds);
	g_test_add_func("/commands/decode", test_decode);
	g_test_add_func("/commands/operators", test_operators);
	return g_test_run();
}
