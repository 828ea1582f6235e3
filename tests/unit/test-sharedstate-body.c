/* test-sharedstate-body.c -- POST /time/shared-state's body: the reference's order of checks
 * and messages (bad JSON, not an object, unknown field, missing field, wrong type), strict
 * types without coercion, and the canonical signed text built from a valid body. */
#include "config.h"

#include <string.h>

#include <glib.h>

#include "sharedstate-body.h"

#define SIG128                                                                                 \
	"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"                     \
	"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

/* A valid body with member NAME's value replaced by VALUE (NULL: NAME left out; NAME not a
 * field: added). */
static char *body_with(const char *name, const char *value)
{
	static const char *const names[] = { "monotonic_version",
					     "warp_score",
					     "shared_agreed_time",
					     "shared_applied_drift",
					     "leader_system_time_at_sync",
					     "signature_hex",
					     "leader_id",
					     "key_id" };
	static const char *const values[] = { "7",
					      "0.25",
					      "1795796697932630258",
					      "-1234",
					      "1795796697932630000",
					      "\"" SIG128 "\"",
					      "\"node-2\"",
					      "\"b257dde96ec7840b\"" };
	GString *s = g_string_new("{");
	int found = 0;

	for (size_t i = 0; i < G_N_ELEMENTS(names); i++) {
		const char *v = values[i];

		if (name != NULL && strcmp(name, names[i]) == 0) {
			found = 1;
			if (value == NULL)
				continue;
			v = value;
		}
		g_string_append_printf(s, "%s\"%s\":%s", s->len > 1 ? "," : "", names[i], v);
	}
	if (name != NULL && !found)
		g_string_append_printf(s, ",\"%s\":%s", name, value);
	g_string_append(s, "}");
	return g_string_free(s, FALSE);
}

static const char *message_of(const char *text)
{
	struct shared_body b;
	const char *message = NULL;

	if (shared_body_parse(text, strlen(text), &b, &message) == 0)
		return "ok";
	return message;
}

static void expect(const char *name, const char *value, const char *want)
{
	char *text = body_with(name, value);
	const char *got = message_of(text);

	if (strcmp(got, want) != 0)
		g_error("%s: got \"%s\", wanted \"%s\"", text, got, want);
	g_free(text);
}

static void test_valid(void)
{
	char *text = body_with(NULL, NULL);
	struct shared_body b;
	const char *message = "unset";

	g_assert_cmpint(shared_body_parse(text, strlen(text), &b, &message), ==, 0);
	g_assert_null(message);
	g_assert_cmpstr(
		b.text, ==,
		"uml001.shared_state.v1|node-2|b257dde96ec7840b|1795796697932630258|-1234|"
		"1795796697932630000|7|0.25");
	g_assert_cmpuint(b.text_len, ==, strlen(b.text));
	g_assert_cmpuint(b.signature[0], ==, 0x00);
	g_assert_cmpuint(b.signature[1], ==, 0x11);
	g_assert_cmpuint(b.signature[63], ==, 0xff);
	g_free(text);
	/* a warp score may be a JSON integer, a drift negative, the unsigned ones 0 */
	expect("warp_score", "1", "ok");
	expect("warp_score", "1e-5", "ok");
	expect("warp_score", "7.5", "ok"); /* its range is the control stage's business */
	expect("monotonic_version", "0", "ok");
	expect("shared_applied_drift", "-9223372036854775808", "ok");
	expect("leader_system_time_at_sync", "9223372036854775807", "ok");
}

static void test_order(void)
{
	static const char *const not_json[] = {
		"", "{", "{\"a\":1", "nul", "{} x", "{'a':1}", "{\"a\":NaN}", "{\"a\":1e400}"
	};

	for (size_t i = 0; i < G_N_ELEMENTS(not_json); i++)
		g_assert_cmpstr(message_of(not_json[i]), ==, SHARED_BODY_INVALID_JSON);
	/* duplicate keys, a NUL in a key, an integer beyond 64 bits: not JSON to jansson */
	expect("key_id", "\"a\",\"key_id\":\"b\"", SHARED_BODY_INVALID_JSON);
	expect("le\\u0000ader", "1", SHARED_BODY_INVALID_JSON);
	expect("monotonic_version", "18446744073709551616", SHARED_BODY_INVALID_JSON);
	g_assert_cmpstr(message_of("[1]"), ==, SHARED_BODY_NOT_OBJECT);
	g_assert_cmpstr(message_of("\"x\""), ==, SHARED_BODY_NOT_OBJECT);
	g_assert_cmpstr(message_of("5"), ==, SHARED_BODY_NOT_OBJECT);
	g_assert_cmpstr(message_of("null"), ==, SHARED_BODY_NOT_OBJECT);
	/* unknown before missing, missing before types */
	g_assert_cmpstr(message_of("{\"a\":1}"), ==, SHARED_BODY_UNKNOWN);
	g_assert_cmpstr(message_of("{\"leader_id\":5,\"extra\":1}"), ==, SHARED_BODY_UNKNOWN);
	expect("Leader_id", "\"x\"", SHARED_BODY_UNKNOWN);
	g_assert_cmpstr(message_of("{}"), ==, SHARED_BODY_MISSING);
	g_assert_cmpstr(message_of("{\"leader_id\":5}"), ==, SHARED_BODY_MISSING);
	expect("key_id", NULL, SHARED_BODY_MISSING);
	expect("warp_score", NULL, SHARED_BODY_MISSING);
}

static void test_types(void)
{
	static const char *const cases[][2] = {
		{ "monotonic_version", "7.0" },	  /* a real, even a whole one */
		{ "monotonic_version", "\"7\"" }, /* a string */
		{ "monotonic_version", "-1" },	  /* negative */
		{ "monotonic_version", "true" },
		{ "monotonic_version", "null" },
		{ "shared_agreed_time", "1.7e18" },
		{ "shared_agreed_time", "-5" },
		{ "shared_applied_drift", "1.5" },
		{ "shared_applied_drift", "\"-5\"" },
		{ "leader_system_time_at_sync", "-1" },
		{ "leader_system_time_at_sync", "[1]" },
		{ "warp_score", "\"0.5\"" },
		{ "warp_score", "false" },
		{ "warp_score", "{}" },
		{ "signature_hex", "\"" SIG128 "00\"" }, /* 130 digits */
		{ "signature_hex", "\"" SIG128 "\"x" },	 /* not JSON */
		{ "signature_hex", "\"0" SIG128 "\"" },	 /* 129 */
		{ "signature_hex",
		  "\"AA112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
		  "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\"" },
		{ "signature_hex",
		  "\"zz112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
		  "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\"" },
		{ "signature_hex", "128" },
		{ "leader_id", "\"\"" },
		{ "leader_id", "\"node 2\"" },
		{ "leader_id", "\"a|b\"" },
		{ "leader_id", "\"a=b\"" },
		{ "leader_id", "\"a\\\"b\"" },
		{ "leader_id", "\"a\\\\b\"" },
		{ "leader_id", "\"n\\u00f6de\"" },
		{ "leader_id", "\"tab\\there\"" },
		{ "leader_id", "2" },
		{ "leader_id", "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
			       "aaaa\"" }, /* 65 */
		{ "key_id", "\"\"" },
		{ "key_id", "null" },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		size_t n = strlen(cases[i][1]);
		/* the one case that breaks the JSON itself ends in "x */
		const char *want = n >= 2 && strcmp(cases[i][1] + n - 2, "\"x") == 0
					   ? SHARED_BODY_INVALID_JSON
					   : SHARED_BODY_TYPES;

		expect(cases[i][0], cases[i][1], want);
	}
	/* 64 characters is the bound, not beyond */
	expect("leader_id",
	       "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"", "ok");
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/rest/shared-state-body/valid-body-gives-canonical-text", test_valid);
	g_test_add_func("/rest/shared-state-body/reference-order-of-checks", test_order);
	g_test_add_func("/rest/shared-state-body/strict-types-no-coercion", test_types);
	return g_test_run();
}
