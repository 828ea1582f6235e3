/* test-passport.c -- the passport stage: the passport document (strict parsing, the bytes the
 * trust root signs, its signature), the registry (validity windows, capabilities, rotation
 * overlap, serials, persistence), the replay window (bounded eviction, persistence,
 * compaction), the signed-state bytes of <quorum/event.h>, and the stage itself through a
 * mock host API: every rule with its reason string and audit record. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <quorum/passport.h>
#include <quorum/plugin.h>

#include "passportdoc.h"
#include "mockhost.h"
#include "registry.h"
#include "replay.h"
#include "settings-internal.h"
#include "testutil.h"
#include "clocks.h"

#define S 1000000000LL /* one second in ns */

/* ------------------------------- helpers ------------------------------- */

static EVP_PKEY *key_new(void)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, NULL);
	EVP_PKEY *key = NULL;

	g_assert_nonnull(ctx);
	g_assert_cmpint(EVP_PKEY_keygen_init(ctx), ==, 1);
	g_assert_cmpint(EVP_PKEY_keygen(ctx, &key), ==, 1);
	EVP_PKEY_CTX_free(ctx);
	return key;
}

static void key_raw(EVP_PKEY *key, uint8_t raw[PASSPORT_PUBLIC_LEN])
{
	size_t len = PASSPORT_PUBLIC_LEN;

	g_assert_cmpint(EVP_PKEY_get_raw_public_key(key, raw, &len), ==, 1);
}

static char *key_id_new(EVP_PKEY *key)
{
	char id[PASSPORT_KEY_ID_LEN + 1];

	g_assert_cmpint(passport_key_id_of_pkey(key, id), ==, 0);
	return g_strdup(id);
}

static json_t *key_json(EVP_PKEY *key, int64_t not_before, int64_t not_after)
{
	uint8_t raw[PASSPORT_PUBLIC_LEN];
	char id[PASSPORT_KEY_ID_LEN + 1], text[64];

	key_raw(key, raw);
	passport_key_id_of(raw, id);
	passport_base64_encode(raw, sizeof(raw), text);
	return json_pack("{s:s, s:s, s:I, s:I}", "key_id", id, "public_key", text,
			 "not_before_ns", (json_int_t)not_before, "not_after_ns",
			 (json_int_t)not_after);
}

/* An unsigned passport document of AUTHORITY with KEYS (NULL-terminated), each valid over
 * [BEFORE, AFTER), and the capabilities CAPS ("attest_time,control", "" for none). */
static json_t *doc_new(const char *authority, int64_t serial, const char *caps,
		       EVP_PKEY *const *keys, int64_t before, int64_t after)
{
	json_t *doc, *list = json_array(), *capabilities = json_array();
	char **names = g_strsplit(caps, ",", -1);

	for (char **n = names; *n != NULL; n++)
		if (**n != '\0')
			json_array_append_new(capabilities, json_string(*n));
	g_strfreev(names);
	for (size_t i = 0; keys[i] != NULL; i++)
		json_array_append_new(list, key_json(keys[i], before, after));
	doc = json_pack("{s:s, s:s, s:I, s:I, s:o, s:o}", "format", PASSPORT_FORMAT,
			"authority_id", authority, "serial", (json_int_t)serial, "issued_ns",
			(json_int_t)(before > 0 ? before : 1), "capabilities", capabilities,
			"keys", list);
	g_assert_nonnull(doc);
	return doc;
}

/* The text of DOC signed by ROOT (DOC is changed: its signature set). g_free. */
static char *doc_signed(json_t *doc, EVP_PKEY *root)
{
	char *text, *copy;

	g_assert_cmpint(passport_sign_document(doc, root), ==, 0);
	text = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	copy = g_strdup(text);
	free(text);
	return copy;
}

static struct passport *parsed(const char *text)
{
	struct passport *p = NULL;
	char why[512] = "";

	g_assert_cmpint(passport_parse(text, strlen(text), &p, why, sizeof(why)), ==, 0);
	return p;
}

/* A signed, parsed passport (one call for the registry tests). */
static struct passport *passport_new(EVP_PKEY *root, const char *authority, int64_t serial,
				     const char *caps, EVP_PKEY *const *keys, int64_t before,
				     int64_t after)
{
	json_t *doc = doc_new(authority, serial, caps, keys, before, after);
	char *text = doc_signed(doc, root);
	struct passport *p = parsed(text);

	g_free(text);
	json_decref(doc);
	return p;
}

static char *write_file(const char *dir, const char *name, const char *text)
{
	char *path = g_build_filename(dir, name, NULL);
	GError *error = NULL;

	g_file_set_contents(path, text, -1, &error);
	g_assert_no_error(error);
	return path;
}

static char *read_file(const char *path, gsize *len);

/* ------------------------------- the document ------------------------------- */

/* DOC (borrowed) dumped and parsed must fail with a message containing NEEDLE. */
static void expect_refused(json_t *doc, const char *needle)
{
	char *text = json_dumps(doc, JSON_COMPACT);
	struct passport *p = NULL;
	char why[512] = "";

	g_assert_nonnull(text);
	g_assert_cmpint(passport_parse(text, strlen(text), &p, why, sizeof(why)), ==, -EINVAL);
	g_assert_null(p);
	if (strstr(why, needle) == NULL)
		g_error("refused with \"%s\", expected \"%s\"", why, needle);
	free(text);
}

static void expect_text_refused(const char *text, const char *needle)
{
	struct passport *p = NULL;
	char why[512] = "";

	g_assert_cmpint(passport_parse(text, strlen(text), &p, why, sizeof(why)), ==, -EINVAL);
	if (strstr(why, needle) == NULL)
		g_error("refused with \"%s\", expected \"%s\"", why, needle);
}

static void test_doc_parses(void)
{
	EVP_PKEY *root = key_new(), *a = key_new(), *b = key_new(), *keys[] = { a, b, NULL };
	json_t *doc = doc_new("node-2", 7, "attest_time,control", keys, 10 * S, 20 * S);
	char *text = doc_signed(doc, root), *root_id = key_id_new(root), *a_id = key_id_new(a);
	struct passport *p = parsed(text);
	uint8_t raw[PASSPORT_PUBLIC_LEN];
	char why[256];

	g_assert_cmpstr(p->authority_id, ==, "node-2");
	g_assert_cmpint(p->serial, ==, 7);
	g_assert_cmpuint(p->capabilities, ==, PASSPORT_CAP_ATTEST_TIME | PASSPORT_CAP_CONTROL);
	g_assert_cmpuint(p->key_count, ==, 2);
	g_assert_cmpstr(p->keys[0].key_id, ==, a_id);
	key_raw(a, raw);
	g_assert_cmpmem(p->keys[0].public_key, 32, raw, 32);
	g_assert_cmpint(p->keys[0].not_before_ns, ==, 10 * S);
	g_assert_cmpint(p->keys[1].not_after_ns, ==, 20 * S);
	g_assert_cmpstr(p->signer_key_id, ==, root_id);
	g_assert_true(passport_find_key(p, a_id) == &p->keys[0]);
	g_assert_null(passport_find_key(p, "0000000000000000"));
	g_assert_cmpmem(p->raw, p->raw_len, text, strlen(text));
	g_assert_cmpint(passport_verify(p, root, root_id, why, sizeof(why)), ==, 0);
	passport_free(p);
	passport_free(NULL);
	g_free(text);
	g_free(root_id);
	g_free(a_id);
	json_decref(doc);
	EVP_PKEY_free(root);
	EVP_PKEY_free(a);
	EVP_PKEY_free(b);
}

static void test_doc_refusals(void)
{
	EVP_PKEY *root = key_new(), *a = key_new(), *keys[] = { a, NULL }, *many[18];
	json_t *base = doc_new("node-2", 1, "attest_time", keys, 10 * S, 20 * S), *d, *k;
	char *text;

	g_free(doc_signed(base, root));
	/* not JSON, or duplicate members */
	expect_text_refused("{\"format\":", "not JSON");
	expect_text_refused("[1, 2]", "passport: not an object");
	text = json_dumps(base, JSON_COMPACT);
	{
		GString *dup = g_string_new(text);

		g_string_insert(dup, 1, "\"serial\":2,");
		expect_text_refused(dup->str, "duplicate");
		g_string_free(dup, TRUE);
	}
	free(text);
#define MUTATE(stmt, needle)                                                                   \
	do {                                                                                   \
		d = json_deep_copy(base);                                                      \
		k = json_array_get(json_object_get(d, "keys"), 0);                             \
		(void)k;                                                                       \
		stmt;                                                                          \
		expect_refused(d, needle);                                                     \
		json_decref(d);                                                                \
	} while (0)
	/* members: unknown and missing, at every level */
	MUTATE(json_object_set_new(d, "extra", json_true()),
	       "passport: unknown member \"extra\"");
	MUTATE(json_object_del(d, "issued_ns"), "member \"issued_ns\" is missing");
	MUTATE(json_object_set_new(k, "comment", json_string("x")),
	       "keys[0]: unknown member \"comment\"");
	MUTATE(json_object_del(k, "not_after_ns"),
	       "keys[0]: member \"not_after_ns\" is missing");
	MUTATE(json_object_set_new(json_object_get(d, "signature"), "alg", json_string("ed")),
	       "signature: unknown member \"alg\"");
	MUTATE(json_object_set_new(d, "signature", json_string("x")),
	       "signature: not an object");
	/* types and values */
	MUTATE(json_object_set_new(d, "format", json_string("quorum-passport/2")),
	       "format: not");
	MUTATE(json_object_set_new(d, "authority_id", json_integer(2)),
	       "authority_id: not a string");
	MUTATE(json_object_set_new(d, "authority_id", json_string("node 2")),
	       "authority_id: not");
	MUTATE(json_object_set_new(d, "authority_id", json_string("../etc")),
	       "authority_id: not");
	MUTATE(json_object_set_new(d, "authority_id", json_string("")), "authority_id: not");
	MUTATE(json_object_set_new(d, "serial", json_string("1")), "serial: not an integer");
	MUTATE(json_object_set_new(d, "serial", json_real(1.0)), "serial: not an integer");
	MUTATE(json_object_set_new(d, "serial", json_integer(0)), "serial: 0 is below 1");
	MUTATE(json_object_set_new(d, "issued_ns", json_integer(-1)),
	       "issued_ns: -1 is below 0");
	MUTATE(json_object_set_new(d, "capabilities", json_string("control")),
	       "capabilities: not an array");
	MUTATE(json_array_append_new(json_object_get(d, "capabilities"), json_string("admin")),
	       "capabilities[1]: not \"attest_time\" or \"control\"");
	MUTATE(json_array_append_new(json_object_get(d, "capabilities"),
				     json_string("attest_time")),
	       "capabilities[1]: \"attest_time\" listed twice");
	/* keys */
	MUTATE(json_array_clear(json_object_get(d, "keys")), "keys: 0 keys, not 1 to 16");
	MUTATE(json_object_set_new(d, "keys", json_object()), "keys: not an array");
	MUTATE(json_array_append(json_object_get(d, "keys"), k), "keys[1].key_id: ");
	MUTATE(json_object_set_new(k, "key_id", json_string("ABCDEF0123456789")),
	       "keys[0].key_id: not 16 lowercase hex digits");
	MUTATE(json_object_set_new(k, "key_id", json_string("0123456789abcdef")),
	       "is not the id of its public_key");
	MUTATE(json_object_set_new(k, "public_key", json_string("AAAA")),
	       "keys[0].public_key: not the base64 of a 32-byte");
	MUTATE(json_object_set_new(k, "public_key", json_string("not base64 at all!!")),
	       "keys[0].public_key: not the base64");
	MUTATE(json_object_set_new(k, "not_after_ns", json_integer(10 * S)),
	       "keys[0].not_after_ns: not after not_before_ns");
	MUTATE(json_object_set_new(k, "not_before_ns", json_string("0")),
	       "keys[0].not_before_ns: not an integer");
	/* the signature member */
	MUTATE(json_object_set_new(json_object_get(d, "signature"), "key_id",
				   json_string("xyz")),
	       "signature.key_id: not 16 lowercase hex digits");
	MUTATE(json_object_set_new(json_object_get(d, "signature"), "ed25519",
				   json_string("AAAA")),
	       "signature.ed25519: not the base64 of a 64-byte");
#undef MUTATE
	/* bounds: 17 keys, and a document larger than PASSPORT_DOCUMENT_MAX */
	for (int i = 0; i < 17; i++)
		many[i] = key_new();
	many[17] = NULL;
	d = doc_new("node-2", 1, "attest_time", many, 10 * S, 20 * S);
	json_object_set(d, "signature", json_object_get(base, "signature"));
	expect_refused(d, "keys: 17 keys, not 1 to 16");
	json_decref(d);
	for (int i = 0; i < 17; i++)
		EVP_PKEY_free(many[i]);
	text = g_malloc0(PASSPORT_DOCUMENT_MAX + 2);
	memset(text, ' ', PASSPORT_DOCUMENT_MAX + 1);
	expect_text_refused(text, "more than 65536");
	g_free(text);
	json_decref(base);
	EVP_PKEY_free(root);
	EVP_PKEY_free(a);
}

static void test_doc_root_signature(void)
{
	EVP_PKEY *root = key_new(), *other = key_new(), *a = key_new(), *keys[] = { a, NULL };
	json_t *doc = doc_new("node-2", 1, "attest_time", keys, 10 * S, 20 * S), *sig;
	char *text = doc_signed(doc, root), *root_id = key_id_new(root),
	     *other_id = key_id_new(other), why[256];
	struct passport *p = parsed(text);

	g_free(text);
	g_assert_cmpint(passport_verify(p, root, root_id, why, sizeof(why)), ==, 0);
	/* another root does not trust it */
	g_assert_cmpint(passport_verify(p, other, other_id, why, sizeof(why)), ==,
			-EKEYREJECTED);
	g_assert_nonnull(strstr(why, "not by the trust root"));
	passport_free(p);
	/* a changed member breaks the signature */
	json_object_set_new(doc, "serial", json_integer(2));
	text = json_dumps(doc, JSON_COMPACT);
	p = parsed(text);
	free(text);
	g_assert_cmpint(passport_verify(p, root, root_id, why, sizeof(why)), ==, -EBADMSG);
	g_assert_nonnull(strstr(why, "does not verify"));
	passport_free(p);
	/* signed by another key that claims the root's key id */
	json_object_set_new(doc, "serial", json_integer(1));
	g_assert_cmpint(passport_sign_document(doc, other), ==, 0);
	sig = json_object_get(doc, "signature");
	json_object_set_new(sig, "key_id", json_string(root_id));
	text = json_dumps(doc, JSON_COMPACT);
	p = parsed(text);
	free(text);
	g_assert_cmpint(passport_verify(p, root, root_id, why, sizeof(why)), ==, -EBADMSG);
	passport_free(p);
	g_free(root_id);
	g_free(other_id);
	json_decref(doc);
	EVP_PKEY_free(root);
	EVP_PKEY_free(other);
	EVP_PKEY_free(a);
}

/* The signed bytes: the domain, then the compact document with sorted keys and without its
 * signature, whatever the file's layout and order. */
static void test_doc_signed_bytes(void)
{
	EVP_PKEY *root = key_new(), *a = key_new(), *keys[] = { a, NULL };
	json_t *doc = doc_new("n", 3, "control", keys, 1, 2);
	char *pretty = doc_signed(doc, root), *compact, *expected;
	struct passport *p1, *p2;
	size_t len;
	uint8_t *bytes;
	json_t *unsigned_doc = json_deep_copy(doc);

	json_object_del(unsigned_doc, "signature");
	compact = json_dumps(unsigned_doc, JSON_COMPACT | JSON_SORT_KEYS);
	expected = g_strconcat("quorum-time passport v1\n", compact, NULL);
	g_assert_true(g_str_has_prefix(compact,
				       "{\"authority_id\":\"n\",\"capabilities\":"
				       "[\"control\"],\"format\":\"quorum-passport/1\","
				       "\"issued_ns\":1,\"keys\":[{\"key_id\":"));
	bytes = passport_signed_bytes(doc, &len); /* the signature member is left out */
	g_assert_cmpmem(bytes, len, expected, strlen(expected));
	free(bytes);
	p1 = parsed(pretty);
	free(compact);
	compact = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS); /* another layout and order */
	p2 = parsed(compact);
	g_assert_cmpmem(p1->signed_bytes, p1->signed_len, expected, strlen(expected));
	g_assert_true(passport_same(p1, p2));
	passport_free(p1);
	passport_free(p2);
	free(compact);
	g_free(expected);
	g_free(pretty);
	json_decref(unsigned_doc);
	json_decref(doc);
	EVP_PKEY_free(root);
	EVP_PKEY_free(a);
}

/* The schema's canonical example (schemas/examples/passport.example.json) is a passport the
 * stage parses: the schema and the parser describe the same document. */
static void test_doc_schema_example(void)
{
	const char *srcdir = g_getenv("QUORUM_SRCDIR");
	char *path, *text;
	struct passport *p;
	gsize len;

	if (srcdir == NULL) {
		g_test_skip("QUORUM_SRCDIR is not set (run through make check)");
		return;
	}
	path = g_build_filename(srcdir, "schemas", "examples", "passport.example.json", NULL);
	text = read_file(path, &len);
	p = parsed(text);
	g_assert_cmpstr(p->authority_id, ==, "node-2");
	g_assert_cmpuint(p->key_count, ==, 2);
	g_assert_cmpuint(p->capabilities, ==, PASSPORT_CAP_ATTEST_TIME | PASSPORT_CAP_CONTROL);
	passport_free(p);
	g_free(text);
	g_free(path);
}

static void test_doc_base64(void)
{
	uint8_t data[5] = { 0xfb, 0xff, 0x00, 0x10, 0x41 }, out[5];
	char text[16];

	for (size_t len = 0; len <= sizeof(data); len++) {
		passport_base64_encode(data, len, text);
		g_assert_cmpint(passport_base64_decode(text, out, len), ==, 0);
		g_assert_cmpmem(out, len, data, len);
	}
	g_assert_cmpstr(text, ==, "+/8AEEE=");
	g_assert_cmpint(passport_base64_decode("+/8AEEF=", out, 5), ==, -EINVAL); /* bits */
	g_assert_cmpint(passport_base64_decode("+/8AEEE", out, 5), ==, -EINVAL);
	g_assert_cmpint(passport_base64_decode("+/8AEE==", out, 5), ==, -EINVAL);
	g_assert_cmpint(passport_base64_decode("+/8A EE=", out, 5), ==, -EINVAL);
	g_assert_cmpint(passport_base64_decode("+/8AEEE=", out, 4), ==, -EINVAL);
}

static void test_capability_mapping(void)
{
	g_assert_cmpuint(passport_event_capability("uml001.worker.ntp_sync"), ==,
			 PASSPORT_CAP_ATTEST_TIME);
	g_assert_cmpuint(passport_event_capability("uml001.rest.time.shared_state"), ==,
			 PASSPORT_CAP_ATTEST_TIME);
	g_assert_cmpuint(passport_event_capability("uml001.control.set_mode"), ==,
			 PASSPORT_CAP_CONTROL);
	g_assert_cmpuint(passport_event_capability("uml001.control.hitl.approve"), ==,
			 PASSPORT_CAP_CONTROL);
	g_assert_cmpuint(passport_event_capability("uml001.controls"), ==,
			 PASSPORT_CAP_ATTEST_TIME);
	g_assert_cmpuint(passport_event_capability(QUORUM_EVENT_PASSPORT_UPDATE), ==,
			 PASSPORT_CAP_ROOT);
	g_assert_cmpuint(passport_capability_bit("attest_time"), ==, PASSPORT_CAP_ATTEST_TIME);
	g_assert_cmpuint(passport_capability_bit(QUORUM_CAPABILITY_CONTROL), ==,
			 PASSPORT_CAP_CONTROL);
	g_assert_cmpuint(passport_capability_bit("root"), ==, 0);
	g_assert_cmpstr(passport_capability_name(PASSPORT_CAP_CONTROL), ==, "control");
}

/* ------------------------------- the registry ------------------------------- */

static void test_registry_windows(void)
{
	EVP_PKEY *root = key_new(), *a = key_new(), *c = key_new(), *ka[] = { a, NULL },
		 *kc[] = { c, NULL };
	char *a_id = key_id_new(a), *c_id = key_id_new(c), why[256];
	struct registry r;
	struct registry_match m;

	g_assert_cmpint(registry_init(&r, 180 * S), ==, 0);
	g_assert_cmpint(registry_set(&r,
				     passport_new(root, "node-1", 1, "attest_time", ka, 100 * S,
						  200 * S),
				     why, sizeof(why)),
			==, 0);
	g_assert_cmpint(registry_set(&r,
				     passport_new(root, "ctl", 1, "control", kc, 0, 1000 * S),
				     why, sizeof(why)),
			==, 0);
	/* the window is [not_before, not_after) */
	g_assert_cmpint(
		registry_lookup(&r, NULL, a_id, 100 * S - 1, PASSPORT_CAP_ATTEST_TIME, &m), ==,
		REGISTRY_NOT_YET_VALID);
	g_assert_cmpstr(m.passport->authority_id, ==, "node-1");
	g_assert_cmpint(registry_lookup(&r, NULL, a_id, 100 * S, PASSPORT_CAP_ATTEST_TIME, &m),
			==, REGISTRY_OK);
	g_assert_false(m.retired);
	g_assert_cmpint(
		registry_lookup(&r, NULL, a_id, 200 * S - 1, PASSPORT_CAP_ATTEST_TIME, &m), ==,
		REGISTRY_OK);
	g_assert_cmpint(registry_lookup(&r, NULL, a_id, 200 * S, PASSPORT_CAP_ATTEST_TIME, &m),
			==, REGISTRY_EXPIRED);
	/* capabilities */
	g_assert_cmpint(registry_lookup(&r, NULL, a_id, 150 * S, PASSPORT_CAP_CONTROL, &m), ==,
			REGISTRY_CAPABILITY_MISSING);
	g_assert_cmpint(registry_lookup(&r, NULL, c_id, 150 * S, PASSPORT_CAP_CONTROL, &m), ==,
			REGISTRY_OK);
	g_assert_cmpint(registry_lookup(&r, NULL, c_id, 150 * S, PASSPORT_CAP_ATTEST_TIME, &m),
			==, REGISTRY_CAPABILITY_MISSING);
	g_assert_cmpint(registry_lookup(&r, NULL, c_id, 150 * S, 0, &m), ==, REGISTRY_OK);
	/* unknown keys, and keys of another authority than asked */
	g_assert_cmpint(registry_lookup(&r, NULL, "0011223344556677", 150 * S, 0, &m), ==,
			REGISTRY_UNKNOWN_KEY);
	g_assert_null(m.passport);
	g_assert_cmpint(registry_lookup(&r, "ctl", a_id, 150 * S, 0, &m), ==,
			REGISTRY_UNKNOWN_KEY);
	g_assert_cmpint(registry_lookup(&r, "node-1", a_id, 150 * S, 0, &m), ==, REGISTRY_OK);
	g_assert_cmpstr(registry_result_name(REGISTRY_NOT_YET_VALID), ==, "key_not_yet_valid");
	g_assert_cmpstr(registry_result_name(REGISTRY_EXPIRED), ==, "key_expired");
	g_assert_cmpstr(registry_result_name(REGISTRY_UNKNOWN_KEY), ==, "unknown_key");
	g_assert_cmpstr(registry_result_name(REGISTRY_CAPABILITY_MISSING), ==,
			"capability_missing");
	/* a key may belong to one authority only */
	{
		struct passport *thief =
			passport_new(root, "thief", 1, "attest_time", ka, 0, 1000 * S);

		g_assert_cmpint(registry_set(&r, thief, why, sizeof(why)), ==, -EEXIST);
		g_assert_nonnull(strstr(why, "is also a key of authority node-1"));
		passport_free(thief);
	}
	registry_release(&r);
	g_free(a_id);
	g_free(c_id);
	EVP_PKEY_free(root);
	EVP_PKEY_free(a);
	EVP_PKEY_free(c);
}

static void test_registry_serials(void)
{
	EVP_PKEY *root = key_new(), *a = key_new(), *b = key_new(), *ka[] = { a, NULL },
		 *kb[] = { b, NULL };
	struct registry r;
	struct passport *held = passport_new(root, "node-1", 5, "attest_time", ka, 0, 100 * S);
	struct passport *same = passport_new(root, "node-1", 5, "attest_time", ka, 0, 100 * S);
	struct passport *other = passport_new(root, "node-1", 5, "attest_time", kb, 0, 100 * S);
	struct passport *older = passport_new(root, "node-1", 4, "attest_time", ka, 0, 100 * S);
	struct passport *newer = passport_new(root, "node-1", 6, "attest_time", kb, 0, 100 * S);
	struct passport *stranger =
		passport_new(root, "node-9", 1, "attest_time", kb, 0, 100 * S);
	char why[256];

	g_assert_cmpint(registry_init(&r, 180 * S), ==, 0);
	g_assert_cmpint(registry_check_update(&r, held), ==, REGISTRY_UPDATE_NEWER);
	g_assert_cmpint(registry_set(&r, held, why, sizeof(why)), ==, 0);
	/* the same signed bytes (issued_ns is the same: byte-identical documents) */
	g_assert_true(passport_same(held, same));
	g_assert_cmpint(registry_check_update(&r, same), ==, REGISTRY_UPDATE_DUPLICATE);
	g_assert_cmpint(registry_check_update(&r, other), ==, REGISTRY_UPDATE_STALE);
	g_assert_cmpint(registry_check_update(&r, older), ==, REGISTRY_UPDATE_STALE);
	g_assert_cmpint(registry_check_update(&r, newer), ==, REGISTRY_UPDATE_NEWER);
	g_assert_cmpint(registry_check_update(&r, stranger), ==, REGISTRY_UPDATE_NEWER);
	registry_release(&r);
	passport_free(same);
	passport_free(other);
	passport_free(older);
	passport_free(newer);
	passport_free(stranger);
	EVP_PKEY_free(root);
	EVP_PKEY_free(a);
	EVP_PKEY_free(b);
}

/* An update dropping key A for key B at T: A counts until T + overlap, B at once. */
static void test_registry_rotation_overlap(void)
{
	EVP_PKEY *root = key_new(), *a = key_new(), *b = key_new(), *c = key_new(),
		 *ka[] = { a, NULL }, *kb[] = { b, NULL }, *kc[] = { c, NULL };
	char *a_id = key_id_new(a), *b_id = key_id_new(b), *c_id = key_id_new(c), why[256];
	struct registry r;
	struct registry_match m;
	struct registry_change change;
	const int64_t T = 1000 * S;

	g_assert_cmpint(registry_init(&r, 180 * S), ==, 0);
	g_assert_cmpint(registry_install(&r,
					 passport_new(root, "node-1", 1, "attest_time", ka, 0,
						      100000 * S),
					 T - 500 * S, NULL, &change, why, sizeof(why)),
			==, 0);
	g_assert_cmpstr(change.added, ==, a_id);
	g_assert_cmpstr(change.retired, ==, "-");
	g_assert_cmpint(change.previous_serial, ==, 0);
	g_assert_cmpint(registry_install(&r,
					 passport_new(root, "node-1", 2, "attest_time", kb, 0,
						      100000 * S),
					 T, NULL, &change, why, sizeof(why)),
			==, 0);
	g_assert_cmpstr(change.added, ==, b_id);
	g_assert_cmpstr(change.retired, ==, a_id);
	g_assert_cmpint(change.previous_serial, ==, 1);
	g_assert_cmpint(registry_get(&r, "node-1")->serial, ==, 2);
	g_assert_cmpint(registry_lookup(&r, NULL, b_id, T, PASSPORT_CAP_ATTEST_TIME, &m), ==,
			REGISTRY_OK);
	g_assert_cmpint(
		registry_lookup(&r, NULL, a_id, T + 180 * S - 1, PASSPORT_CAP_ATTEST_TIME, &m),
		==, REGISTRY_OK);
	g_assert_true(m.retired);
	g_assert_cmpint(m.until_ns, ==, T + 180 * S);
	g_assert_cmpstr(m.passport->authority_id, ==, "node-1");
	g_assert_cmpint(
		registry_lookup(&r, "node-1", a_id, T + 180 * S, PASSPORT_CAP_ATTEST_TIME, &m),
		==, REGISTRY_EXPIRED);
	/* the overlap carries the current passport's capabilities, not the old one's */
	g_assert_cmpint(
		registry_install(&r,
				 passport_new(root, "node-1", 3, "control", kc, 0, 100000 * S),
				 T + 10 * S, NULL, &change, why, sizeof(why)),
		==, 0);
	g_assert_cmpstr(change.retired, ==, b_id);
	g_assert_cmpint(
		registry_lookup(&r, NULL, b_id, T + 20 * S, PASSPORT_CAP_ATTEST_TIME, &m), ==,
		REGISTRY_CAPABILITY_MISSING);
	g_assert_cmpint(registry_lookup(&r, NULL, b_id, T + 20 * S, PASSPORT_CAP_CONTROL, &m),
			==, REGISTRY_OK);
	g_assert_cmpint(registry_lookup(&r, NULL, c_id, T + 20 * S, PASSPORT_CAP_CONTROL, &m),
			==, REGISTRY_OK);
	/* both superseded passports are kept while they matter; an install after the
	 * overlaps ended drops them */
	g_assert_cmpuint(r.entries[0].previous_count, ==, 2);
	g_assert_cmpint(
		registry_install(&r,
				 passport_new(root, "node-1", 4, "control", kc, 0, 100000 * S),
				 T + 1000 * S, NULL, &change, why, sizeof(why)),
		==, 0);
	g_assert_cmpstr(change.added, ==, "-");
	g_assert_cmpstr(change.retired, ==, "-");
	g_assert_cmpuint(r.entries[0].previous_count, ==, 0);
	g_assert_cmpint(registry_lookup(&r, NULL, a_id, T + 1000 * S, 0, &m), ==,
			REGISTRY_UNKNOWN_KEY);
	registry_release(&r);
	g_free(a_id);
	g_free(b_id);
	g_free(c_id);
	EVP_PKEY_free(root);
	EVP_PKEY_free(a);
	EVP_PKEY_free(b);
	EVP_PKEY_free(c);
}

/* A rotation written to the state folder survives a restart: the state's newer passport
 * overrides the configured folder's, and the dropped key keeps its overlap. */
static void test_registry_persistence(void)
{
	char *dir = testutil_scratch_new(),
	     *conf_dir = g_build_filename(dir, "passports", NULL),
	     *state = g_build_filename(dir, "state", NULL), *sub, *text, why[512];
	EVP_PKEY *root = key_new(), *a = key_new(), *b = key_new(), *ka[] = { a, NULL },
		 *kb[] = { b, NULL };
	char *root_id = key_id_new(root), *a_id = key_id_new(a), *b_id = key_id_new(b);
	int64_t now = realtime_now_ns();
	json_t *doc;
	struct registry r;
	struct registry_match m;
	struct registry_change change;
	size_t loaded, ignored, restored;

	g_assert_cmpint(g_mkdir(conf_dir, 0700), ==, 0);
	g_assert_cmpint(g_mkdir(state, 0700), ==, 0);
	sub = g_build_filename(state, "passports", NULL);
	g_assert_cmpint(g_mkdir(sub, 0700), ==, 0);
	g_free(sub);
	sub = g_build_filename(state, "retired", NULL);
	g_assert_cmpint(g_mkdir(sub, 0700), ==, 0);
	g_free(sub);
	doc = doc_new("node-1", 1, "attest_time", ka, 0, now + 1000 * S);
	text = doc_signed(doc, root);
	g_free(write_file(conf_dir, "node-1.json", text));
	g_free(text);
	json_decref(doc);

	g_assert_cmpint(registry_init(&r, 180 * S), ==, 0);
	g_assert_cmpint(registry_load_folder(&r, conf_dir, root, root_id, 0, &loaded, NULL, why,
					     sizeof(why)),
			==, 0);
	g_assert_cmpuint(loaded, ==, 1);
	g_assert_cmpint(registry_install(&r,
					 passport_new(root, "node-1", 2, "attest_time", kb, 0,
						      now + 1000 * S),
					 now - 10 * S, state, &change, why, sizeof(why)),
			==, 0);
	registry_release(&r);

	/* a restart: configured folder, then the state, then the retired keys */
	g_assert_cmpint(registry_init(&r, 180 * S), ==, 0);
	g_assert_cmpint(registry_load_folder(&r, conf_dir, root, root_id, 0, &loaded, NULL, why,
					     sizeof(why)),
			==, 0);
	sub = g_build_filename(state, "passports", NULL);
	g_assert_cmpint(registry_load_folder(&r, sub, root, root_id, 1, &loaded, &ignored, why,
					     sizeof(why)),
			==, 0);
	g_assert_cmpuint(loaded, ==, 1);
	g_assert_cmpuint(ignored, ==, 0);
	g_assert_cmpint(registry_load_retired(&r, state, root, root_id, now, &restored, why,
					      sizeof(why)),
			==, 0);
	g_assert_cmpuint(restored, ==, 1);
	g_assert_cmpint(registry_get(&r, "node-1")->serial, ==, 2);
	g_assert_cmpint(registry_lookup(&r, NULL, b_id, now, PASSPORT_CAP_ATTEST_TIME, &m), ==,
			REGISTRY_OK);
	g_assert_cmpint(registry_lookup(&r, NULL, a_id, now, PASSPORT_CAP_ATTEST_TIME, &m), ==,
			REGISTRY_OK);
	g_assert_true(m.retired);
	g_assert_cmpint(m.until_ns, ==, now - 10 * S + 180 * S);
	registry_release(&r);

	/* once the overlap has ended, a restart does not bring the old key back */
	g_assert_cmpint(registry_init(&r, 180 * S), ==, 0);
	g_assert_cmpint(registry_load_folder(&r, sub, root, root_id, 1, &loaded, &ignored, why,
					     sizeof(why)),
			==, 0);
	g_assert_cmpint(registry_load_retired(&r, state, root, root_id, now + 171 * S,
					      &restored, why, sizeof(why)),
			==, 0);
	g_assert_cmpuint(restored, ==, 0);
	g_assert_cmpint(registry_lookup(&r, NULL, a_id, now + 171 * S, 0, &m), ==,
			REGISTRY_UNKNOWN_KEY);
	registry_release(&r);

	/* a newer passport put in the configured folder wins over the state's */
	doc = doc_new("node-1", 3, "attest_time", ka, 0, now + 1000 * S);
	text = doc_signed(doc, root);
	g_free(write_file(conf_dir, "node-1.json", text));
	g_free(text);
	json_decref(doc);
	g_assert_cmpint(registry_init(&r, 180 * S), ==, 0);
	g_assert_cmpint(registry_load_folder(&r, conf_dir, root, root_id, 0, &loaded, NULL, why,
					     sizeof(why)),
			==, 0);
	g_assert_cmpint(registry_load_folder(&r, sub, root, root_id, 1, &loaded, &ignored, why,
					     sizeof(why)),
			==, 0);
	g_assert_cmpuint(ignored, ==, 1);
	g_assert_cmpint(registry_get(&r, "node-1")->serial, ==, 3);
	registry_release(&r);
	g_free(sub);
	g_free(root_id);
	g_free(a_id);
	g_free(b_id);
	g_free(conf_dir);
	g_free(state);
	testutil_scratch_free(dir);
	EVP_PKEY_free(root);
	EVP_PKEY_free(a);
	EVP_PKEY_free(b);
}

/* The configured folder: an invalid file is named with what is wrong; two passports of one
 * authority are refused; a state file must be named after its authority. */
static void test_registry_load_errors(void)
{
	char *dir = testutil_scratch_new(), why[512], *text, *root_id;
	EVP_PKEY *root = key_new(), *other = key_new(), *a = key_new(), *b = key_new(),
		 *ka[] = { a, NULL }, *kb[] = { b, NULL };
	json_t *doc;
	struct registry r;

	root_id = key_id_new(root);
	doc = doc_new("node-1", 1, "attest_time", ka, 0, 100 * S);
	text = doc_signed(doc, root);
	g_free(write_file(dir, "a.json", text));
	g_free(write_file(dir, "notes.txt", "not a passport, not read"));
	g_free(text);
	json_decref(doc);
	doc = doc_new("node-1", 2, "attest_time", kb, 0, 100 * S);
	text = doc_signed(doc, root);
	g_free(write_file(dir, "b.json", text));
	g_free(text);
	json_decref(doc);
	g_assert_cmpint(registry_init(&r, 0), ==, 0);
	g_assert_cmpint(
		registry_load_folder(&r, dir, root, root_id, 0, NULL, NULL, why, sizeof(why)),
		==, -EEXIST);
	g_assert_nonnull(strstr(why, "b.json: a second passport of authority node-1"));
	registry_release(&r);
	/* as a state folder, a.json and b.json are not named after node-1 */
	g_assert_cmpint(registry_init(&r, 0), ==, 0);
	g_assert_cmpint(
		registry_load_folder(&r, dir, root, root_id, 1, NULL, NULL, why, sizeof(why)),
		==, -EINVAL);
	g_assert_nonnull(strstr(why, "a.json: the passport of authority node-1, in a file not "
				     "named node-1.json"));
	registry_release(&r);
	/* signed by another root */
	doc = doc_new("node-2", 1, "attest_time", kb, 0, 100 * S);
	text = doc_signed(doc, other);
	g_free(write_file(dir, "b.json", text));
	g_free(text);
	json_decref(doc);
	g_assert_cmpint(registry_init(&r, 0), ==, 0);
	g_assert_cmpint(
		registry_load_folder(&r, dir, root, root_id, 0, NULL, NULL, why, sizeof(why)),
		==, -EKEYREJECTED);
	g_assert_nonnull(strstr(why, "b.json: signed by key"));
	registry_release(&r);
	/* malformed */
	g_free(write_file(dir, "b.json", "{\"format\":\"quorum-passport/1\"}"));
	g_assert_cmpint(registry_init(&r, 0), ==, 0);
	g_assert_cmpint(
		registry_load_folder(&r, dir, root, root_id, 0, NULL, NULL, why, sizeof(why)),
		==, -EINVAL);
	g_assert_nonnull(strstr(why, "b.json: passport: member \"authority_id\" is missing"));
	g_assert_null(registry_get(&r, "node-2"));
	registry_release(&r);
	g_free(root_id);
	testutil_scratch_free(dir);
	EVP_PKEY_free(root);
	EVP_PKEY_free(other);
	EVP_PKEY_free(a);
	EVP_PKEY_free(b);
}

/* ------------------------------- the replay window ------------------------------- */

static void fp_of(unsigned i, uint8_t fp[REPLAY_FINGERPRINT_LEN])
{
	memset(fp, 0, REPLAY_FINGERPRINT_LEN);
	/* the same first bytes for every fourth: chains of several entries */
	fp[0] = (uint8_t)(i % 4);
	memcpy(fp + 8, &i, sizeof(i));
}

static void test_replay_bounded(void)
{
	struct replay_window *w;
	uint8_t fp[REPLAY_FINGERPRINT_LEN];
	char why[256];

	g_assert_cmpint(replay_open(NULL, 0, &w, why, sizeof(why)), ==, -EINVAL);
	g_assert_cmpint(replay_open(NULL, 5, &w, why, sizeof(why)), ==, 0);
	for (unsigned i = 0; i < 5; i++) {
		fp_of(i, fp);
		g_assert_false(replay_contains(w, fp));
		g_assert_cmpint(replay_insert(w, fp, why, sizeof(why)), ==, 0);
		g_assert_true(replay_contains(w, fp));
	}
	fp_of(2, fp);
	g_assert_cmpint(replay_insert(w, fp, why, sizeof(why)), ==, 0); /* present: nothing */
	g_assert_cmpuint(replay_count(w), ==, 5);
	/* full: each new fingerprint evicts the oldest */
	for (unsigned i = 5; i < 12; i++) {
		fp_of(i, fp);
		g_assert_cmpint(replay_insert(w, fp, why, sizeof(why)), ==, 0);
		g_assert_cmpuint(replay_count(w), ==, 5);
		for (unsigned j = 0; j <= i; j++) {
			fp_of(j, fp);
			g_assert_cmpint(replay_contains(w, fp), ==, j + 5 > i);
		}
	}
	replay_close(w);
	replay_close(NULL);
}

static char *read_file(const char *path, gsize *len)
{
	char *data = NULL;
	GError *error = NULL;

	g_file_get_contents(path, &data, len, &error);
	g_assert_no_error(error);
	return data;
}

static void test_replay_persistence(void)
{
	char *dir = testutil_scratch_new(),
	     *path = g_build_filename(dir, REPLAY_FILE_NAME, NULL), why[256];
	struct replay_window *w;
	uint8_t fp[REPLAY_FINGERPRINT_LEN];
	gsize len;
	char *data;
	FILE *f;

	g_assert_cmpint(replay_open(dir, 4, &w, why, sizeof(why)), ==, 0);
	for (unsigned i = 0; i < 7; i++) {
		fp_of(i, fp);
		g_assert_cmpint(replay_insert(w, fp, why, sizeof(why)), ==, 0);
	}
	g_assert_cmpuint(replay_file_records(w), ==, 7); /* append-only below 2 x 4 */
	g_assert_cmpint(replay_sync(w), ==, 0);
	replay_close(w);
	data = read_file(path, &len);
	g_assert_cmpuint(len, ==, 7 * REPLAY_FINGERPRINT_LEN);
	g_free(data);
	/* reopened: the last four are there, the older ones evicted as before */
	g_assert_cmpint(replay_open(dir, 4, &w, why, sizeof(why)), ==, 0);
	g_assert_cmpuint(replay_count(w), ==, 4);
	for (unsigned i = 0; i < 7; i++) {
		fp_of(i, fp);
		g_assert_cmpint(replay_contains(w, fp), ==, i >= 3);
	}
	/* the eighth record reaches 2 x 4: compacted to the window, oldest first */
	fp_of(7, fp);
	g_assert_cmpint(replay_insert(w, fp, why, sizeof(why)), ==, 0);
	g_assert_cmpuint(replay_file_records(w), ==, 4);
	data = read_file(path, &len);
	g_assert_cmpuint(len, ==, 4 * REPLAY_FINGERPRINT_LEN);
	fp_of(4, fp);
	g_assert_cmpmem(data, REPLAY_FINGERPRINT_LEN, fp, REPLAY_FINGERPRINT_LEN);
	g_free(data);
	fp_of(8, fp);
	g_assert_cmpint(replay_insert(w, fp, why, sizeof(why)), ==, 0);
	replay_close(w);
	/* a torn record (a crash in mid-append) is dropped, and the file rewritten */
	f = fopen(path, "ab");
	g_assert_nonnull(f);
	fwrite("torn", 1, 4, f);
	fclose(f);
	g_assert_cmpint(replay_open(dir, 4, &w, why, sizeof(why)), ==, 0);
	g_assert_cmpuint(replay_count(w), ==, 4);
	g_assert_cmpuint(replay_file_records(w), ==, 4);
	fp_of(8, fp);
	g_assert_true(replay_contains(w, fp));
	fp_of(4, fp);
	g_assert_false(replay_contains(w, fp));
	replay_close(w);
	data = read_file(path, &len);
	g_assert_cmpuint(len, ==, 4 * REPLAY_FINGERPRINT_LEN);
	g_free(data);
	/* a smaller window on restart keeps the newest */
	g_assert_cmpint(replay_open(dir, 2, &w, why, sizeof(why)), ==, 0);
	g_assert_cmpuint(replay_count(w), ==, 2);
	g_assert_cmpuint(replay_file_records(w), ==, 2); /* 4 >= 2 x 2: compacted */
	fp_of(7, fp);
	g_assert_true(replay_contains(w, fp));
	fp_of(6, fp);
	g_assert_false(replay_contains(w, fp));
	replay_close(w);
	g_free(path);
	testutil_scratch_free(dir);
}

/* ------------------------------- signed-state bytes ------------------------------- */

static void test_signed_state_message(void)
{
	static const uint8_t payload[] = { 0xde, 0xad };
	struct quorum_signed_state st = {
		.logical_time_ns = 0x0102030405060708ULL,
		.event_id = "e.v",
		.key_id = "k1",
		.payload = { payload, sizeof(payload) },
	};
	static const uint8_t expected[] = "uml001.signed-state.v1\0e.v\0k1\0"
					  "\x01\x02\x03\x04\x05\x06\x07\x08\xde\xad";
	uint8_t out[64];

	g_assert_cmpuint(quorum_signed_state_message_len(&st), ==, sizeof(expected) - 1);
	g_assert_cmpint(quorum_signed_state_message(&st, out, sizeof(out)), ==,
			(long)sizeof(expected) - 1);
	g_assert_cmpmem(out, sizeof(expected) - 1, expected, sizeof(expected) - 1);
	g_assert_cmpint(quorum_signed_state_message(&st, out, sizeof(expected) - 2), ==,
			-ENOSPC);
	st.payload = (struct quorum_bytes){ NULL, 0 };
	st.key_id = "";
	g_assert_cmpint(quorum_signed_state_message(&st, out, sizeof(out)), ==, 23 + 4 + 1 + 8);
}

/* ------------------------------- the stage, through a mock host
 * ------------------------------- */

extern const struct quorum_plugin quorum_plugin;

static struct mockhost *the;
static struct settings_struct *the_settings; /* api->settings: the table's defaults */

/* The host: tests/mockhost with the stage's files under DIR (borrowed). */
static struct mockhost *mock_new(const char *dir)
{
	struct mockhost *m = g_new0(struct mockhost, 1);

	mockhost_init(m);
	m->config_dir = dir;
	g_assert_cmpint(mockhost_set(m, "trust_root", "root.pub"), ==, 0);
	g_assert_cmpint(mockhost_set(m, "passports", "passports"), ==, 0);
	g_assert_cmpint(mockhost_set(m, "state_dir", "state"), ==, 0);
	the_settings = testutil_settings(&quorum_plugin, NULL);
	m->settings = settings_struct_data(the_settings);
	the = m;
	return m;
}

static void mock_free(struct mockhost *m)
{
	mockhost_release(m);
	settings_struct_free(the_settings);
	the_settings = NULL;
	g_free(m);
	the = NULL;
}

/* The served clock: synchronised at NS, or (0) unsynchronised. */
static void served_set(struct mockhost *m, int64_t ns)
{
	memset(&m->clock, 0, sizeof(m->clock));
	if (ns != 0) {
		m->clock.status = QUORUM_CLOCK_SYNCHRONISED;
		m->clock.earliest_ns = m->clock.estimate_ns = m->clock.latest_ns = ns;
	}
}

/* The last audit record, or "". */
static const char *last_audit(void)
{
	return the->audit;
}

/* The last log line, or "". */
static const char *last_log(void)
{
	return the->log;
}

static int logged(const char *needle)
{
	return strstr(mockhost_logs(the), needle) != NULL;
}

/* A signed event: EVENT_ID with PAYLOAD, signed by KEY under KEY_ID (NULL: KEY's id). */
struct test_event {
	struct quorum_signed_state st;
	struct quorum_event ev;
	uint8_t sig[64];
	char key_id[32];
	char *payload;
};

static void event_make(struct test_event *t, const char *event_id, const char *payload,
		       EVP_PKEY *key, const char *key_id, int64_t logical, int64_t received)
{
	uint8_t msg[8192];
	size_t sig_len = sizeof(t->sig);
	long len;
	EVP_MD_CTX *ctx;

	memset(t, 0, sizeof(*t));
	t->payload = g_strdup(payload);
	if (key_id != NULL)
		snprintf(t->key_id, sizeof(t->key_id), "%s", key_id);
	else if (key != NULL)
		g_assert_cmpint(passport_key_id_of_pkey(key, t->key_id), ==, 0);
	t->st.logical_time_ns = (uint64_t)logical;
	t->st.event_id = event_id;
	t->st.key_id = t->key_id;
	t->st.payload =
		(struct quorum_bytes){ (const uint8_t *)t->payload, strlen(t->payload) };
	if (key != NULL) {
		len = quorum_signed_state_message(&t->st, msg, sizeof(msg));
		g_assert_cmpint(len, >, 0);
		ctx = EVP_MD_CTX_new();
		g_assert_cmpint(EVP_DigestSignInit(ctx, NULL, NULL, NULL, key), ==, 1);
		g_assert_cmpint(EVP_DigestSign(ctx, t->sig, &sig_len, msg, (size_t)len), ==, 1);
		EVP_MD_CTX_free(ctx);
		t->st.signature = (struct quorum_bytes){ t->sig, sizeof(t->sig) };
	}
	t->ev.magic = QUORUM_EVENT_MAGIC;
	t->ev.size = sizeof(t->ev);
	t->ev.state = &t->st;
	t->ev.source = "test";
	t->ev.peer = "peer-1";
	t->ev.received_ns = received;
}

static void event_free(struct test_event *t)
{
	g_free(t->payload);
}

/* Runs T through the stage: the verdict, with *REASON (NULL when accepted). */
static int run(void *state, struct test_event *t, const char **reason)
{
	const struct quorum_stage_ops *ops = quorum_plugin.ops;

	*reason = NULL;
	return ops->process(state, &t->ev, reason);
}

/* Expects T refused with REASON, counted by the host as WHY (api->refused: nobody can be
 * held to an event without a valid signature, or a replay, so no audit record each) and
 * logged as passport.reject with it; no audit record. */
static void expect_reject(void *state, struct test_event *t, const char *reason,
			  const char *why)
{
	const char *got;
	char *needle = g_strdup_printf("passport.reject reason=%s ", why);
	int audits = the->audits, refusals = the->refusals;

	g_assert_cmpint(run(state, t, &got), ==, QUORUM_REJECT);
	g_assert_cmpstr(got, ==, reason);
	g_assert_cmpint(the->refusals, ==, refusals + 1);
	g_assert_cmpstr(the->refusal, ==, why);
	g_assert_cmpstr(the->refusal_peer, ==, "peer-1");
	g_assert_cmpint(the->audits, ==, audits);
	if (strstr(last_log(), needle) == NULL)
		g_error("log \"%s\", expected \"%s\"", last_log(), needle);
	g_free(needle);
}

/* Expects T refused with REASON and audited as passport.reject with AUDIT_REASON: an update
 * the trust root did sign, but which is no valid passport, is the root's to answer for. */
static void expect_reject_audited(void *state, struct test_event *t, const char *reason,
				  const char *audit_reason)
{
	const char *got;
	char *needle = g_strdup_printf("passport.reject reason=%s ", audit_reason);

	g_assert_cmpint(run(state, t, &got), ==, QUORUM_REJECT);
	g_assert_cmpstr(got, ==, reason);
	if (strstr(last_audit(), needle) == NULL)
		g_error("audit \"%s\", expected \"%s\"", last_audit(), needle);
	g_free(needle);
}

static void expect_accept(void *state, struct test_event *t)
{
	const char *got;

	if (run(state, t, &got) != QUORUM_CONTINUE)
		g_error("refused: %s (audit: %s)", got, last_audit());
}

static void write_pem_public(EVP_PKEY *key, const char *path)
{
	FILE *f = fopen(path, "w");

	g_assert_nonnull(f);
	g_assert_cmpint(PEM_write_PUBKEY(f, key), ==, 1);
	fclose(f);
}

static char *passport_file(const char *dir, const char *name, EVP_PKEY *root,
			   const char *authority, int64_t serial, const char *caps,
			   EVP_PKEY *const *keys, int64_t before, int64_t after)
{
	json_t *doc = doc_new(authority, serial, caps, keys, before, after);
	char *text = doc_signed(doc, root);

	json_decref(doc);
	if (dir != NULL)
		g_free(write_file(dir, name, text));
	return text;
}

static void test_stage_rules(void)
{
	char *dir = testutil_scratch_new(), *pdir = g_build_filename(dir, "passports", NULL),
	     *path, *text;
	EVP_PKEY *root = key_new(), *other = key_new(), *a = key_new(), *a2 = key_new(),
		 *c = key_new(), *f = key_new(), *o = key_new(), *stranger = key_new();
	EVP_PKEY *ka[] = { a, NULL }, *ka2[] = { a2, NULL }, *kc[] = { c, NULL },
		 *kf[] = { f, NULL }, *ko[] = { o, NULL };
	int64_t now = realtime_now_ns();
	char *root_id = key_id_new(root), *a_id = key_id_new(a), *a2_id = key_id_new(a2);
	struct mockhost *m = mock_new(dir);
	const struct quorum_passport_ops *service = NULL;
	void *service_state;
	struct test_event t, u;
	void *state = NULL;
	uint8_t pub[32], raw[32];

	g_assert_cmpint(g_mkdir(pdir, 0700), ==, 0);
	path = g_build_filename(dir, "root.pub", NULL);
	write_pem_public(root, path);
	g_free(path);
	g_free(passport_file(pdir, "node-1.json", root, "node-1", 1, "attest_time", ka,
			     now - 60 * S, now + 3600 * S));
	g_free(passport_file(pdir, "ctl.json", root, "ctl", 1, "control", kc, now - 60 * S,
			     now + 3600 * S));
	g_free(passport_file(pdir, "future.json", root, "future", 1, "attest_time", kf,
			     now + 3600 * S, now + 7200 * S));
	g_free(passport_file(pdir, "old.json", root, "old", 1, "attest_time", ko,
			     now - 7200 * S, now - 3600 * S));
	g_assert_cmpint(quorum_plugin.role, ==, QUORUM_ROLE_PASSPORT);
	g_assert_cmpstr(quorum_plugin.name, ==, "passport");
	g_assert_cmpint(quorum_plugin.init(mockhost_host(m), &m->api, &state), ==, 0);
	g_assert_cmpint(quorum_plugin.start(state), ==, 0);
	g_assert_true(logged("passport.started root_key_id="));
	service_state = mockhost_service(m, QUORUM_PASSPORT_SERVICE, (const void **)&service);
	g_assert_nonnull(service);

	/* accepted once; the same event again is a replay, never applied twice */
	event_make(&t, "uml001.worker.ntp_sync", "round 1", a, NULL, now, now);
	expect_accept(state, &t);
	expect_reject(state, &t, "gossip_duplicate_rejected", "replay");
	event_free(&t);
	/* no signature, or no key id */
	event_make(&t, "uml001.worker.ntp_sync", "round 2", NULL, a_id, now, now);
	expect_reject(state, &t, "passport_signature_missing", "signature_missing");
	event_free(&t);
	event_make(&t, "uml001.worker.ntp_sync", "round 2", a, "", now, now);
	expect_reject(state, &t, "passport_signature_missing", "signature_missing");
	event_free(&t);
	/* a key in no passport */
	event_make(&t, "uml001.worker.ntp_sync", "round 3", stranger, NULL, now, now);
	expect_reject(state, &t, "passport_signature_invalid", "unknown_key");
	g_assert_nonnull(strstr(last_log(), "authority=- key_id="));
	g_assert_nonnull(strstr(last_log(), " event=uml001.worker.ntp_sync"));
	event_free(&t);
	/* outside the key's window */
	event_make(&t, "uml001.worker.ntp_sync", "round 4", f, NULL, now, now);
	expect_reject(state, &t, "passport_signature_invalid", "key_not_yet_valid");
	g_assert_nonnull(strstr(last_log(), "authority=future "));
	event_free(&t);
	event_make(&t, "uml001.worker.ntp_sync", "round 5", o, NULL, now, now);
	expect_reject(state, &t, "passport_signature_invalid", "key_expired");
	event_free(&t);
	/* synchronised, the window is judged at the served time, not on the system clock (a
	 * system clock an hour and a half behind the served time) */
	served_set(m, now + 5400 * S);
	event_make(&t, "uml001.worker.ntp_sync", "round 4b", f, NULL, now, now);
	expect_accept(state, &t);
	event_free(&t);
	event_make(&t, "uml001.worker.ntp_sync", "round 4c", a, NULL, now, now);
	expect_reject(state, &t, "passport_signature_invalid", "key_expired");
	event_free(&t);
	served_set(m, 0);
	/* capabilities: control events need "control", others "attest_time" */
	event_make(&t, "uml001.control.set_mode", "DEGRADED", a, NULL, now, now);
	expect_reject(state, &t, "passport_signature_invalid", "capability_missing");
	g_assert_nonnull(strstr(last_log(), "authority=node-1 "));
	event_free(&t);
	event_make(&t, "uml001.control.set_mode", "DEGRADED", c, NULL, now, now);
	expect_accept(state, &t);
	event_free(&t);
	event_make(&t, "uml001.worker.ntp_sync", "round 6", c, NULL, now, now);
	expect_reject(state, &t, "passport_signature_invalid", "capability_missing");
	event_free(&t);
	/* a bad signature: another key under the right key id, or a changed payload */
	event_make(&t, "uml001.worker.ntp_sync", "round 7", stranger, a_id, now, now);
	expect_reject(state, &t, "passport_signature_invalid", "bad_signature");
	event_free(&t);
	event_make(&t, "uml001.worker.ntp_sync", "round 8", a, NULL, now, now);
	t.payload[0] = 'R';
	expect_reject(state, &t, "passport_signature_invalid", "bad_signature");
	event_free(&t);
	/* the signature covers the time and the event id too */
	event_make(&t, "uml001.worker.ntp_sync", "round 9", a, NULL, now, now);
	t.st.logical_time_ns++;
	expect_reject(state, &t, "passport_signature_invalid", "bad_signature");
	t.st.logical_time_ns--;
	t.st.event_id = "uml001.worker.ntp_synd";
	expect_reject(state, &t, "passport_signature_invalid", "bad_signature");
	t.st.event_id = "uml001.worker.ntp_sync";
	expect_accept(state, &t);
	event_free(&t);

	/* ---- passport updates ---- */
	/* only the trust root issues them */
	text = passport_file(NULL, NULL, root, "node-1", 2, "attest_time", ka2, now - 60 * S,
			     now + 3600 * S);
	event_make(&t, QUORUM_EVENT_PASSPORT_UPDATE, text, a, NULL, now, now);
	expect_reject(state, &t, "passport_signature_invalid", "capability_missing");
	event_free(&t);
	event_make(&t, QUORUM_EVENT_PASSPORT_UPDATE, text, stranger, NULL, now, now);
	expect_reject(state, &t, "passport_signature_invalid", "unknown_key");
	event_free(&t);
	event_make(&t, QUORUM_EVENT_PASSPORT_UPDATE, text, other, root_id, now, now);
	expect_reject(state, &t, "passport_signature_invalid", "bad_signature");
	event_free(&t);
	/* a malformed payload, a passport of another root */
	event_make(&t, QUORUM_EVENT_PASSPORT_UPDATE, "{\"format\":1}", root, NULL, now, now);
	expect_reject_audited(state, &t, "passport_update_invalid", "update_invalid");
	g_assert_nonnull(
		strstr(last_audit(), "detail=\"passport: member 'authority_id' is missing\""));
	event_free(&t);
	{
		char *foreign = passport_file(NULL, NULL, other, "node-1", 2, "attest_time",
					      ka2, now - 60 * S, now + 3600 * S);

		event_make(&t, QUORUM_EVENT_PASSPORT_UPDATE, foreign, root, NULL, now, now);
		expect_reject_audited(state, &t, "passport_signature_invalid", "bad_signature");
		event_free(&t);
		g_free(foreign);
	}
	/* not newer than what is held */
	{
		char *stale = passport_file(NULL, NULL, root, "node-1", 1, "attest_time", ka2,
					    now - 60 * S, now + 3600 * S);

		event_make(&t, QUORUM_EVENT_PASSPORT_UPDATE, stale, root, NULL, now, now);
		expect_reject(state, &t, "passport_serial_stale", "serial_stale");
		g_assert_true(logged("serial=1 installed_serial=1"));
		event_free(&t);
		g_free(stale);
	}
	/* a newer passport is installed: key a2 at once, key a for the overlap */
	event_make(&t, QUORUM_EVENT_PASSPORT_UPDATE, text, root, NULL, now, now);
	expect_accept(state, &t);
	{
		char *rotation = g_strdup_printf("passport.rotation authority=node-1 serial=2 "
						 "previous_serial=1 added=%s retired=%s "
						 "overlap_s=180",
						 a2_id, a_id);
		char *audited = g_strdup_printf("%s approved_hold=-", rotation);

		g_assert_cmpstr(strstr(last_audit(), "passport.rotation"), ==, audited);
		g_free(audited);
		g_assert_true(logged(rotation));
		g_free(rotation);
	}
	/* the same envelope again, or the same passport in a new envelope: replays */
	expect_reject(state, &t, "gossip_duplicate_rejected", "replay");
	event_free(&t);
	event_make(&t, QUORUM_EVENT_PASSPORT_UPDATE, text, root, NULL, now + 1, now);
	expect_reject(state, &t, "gossip_duplicate_rejected", "replay");
	g_assert_nonnull(strstr(last_log(), "authority=node-1 "));
	event_free(&t);
	event_make(&t, "uml001.worker.ntp_sync", "round 10", a2, NULL, now, now);
	expect_accept(state, &t);
	event_free(&t);
	event_make(&t, "uml001.worker.ntp_sync", "round 11", a, NULL, now, now + 179 * S);
	expect_accept(state, &t);
	event_free(&t);
	event_make(&t, "uml001.worker.ntp_sync", "round 12", a, NULL, now, now + 180 * S);
	expect_reject(state, &t, "passport_signature_invalid", "key_expired");
	event_free(&t);

	/* the service the host asks for rotated keys */
	key_raw(a2, raw);
	g_assert_cmpint(service->key_lookup(service_state, "node-1", a2_id, now,
					    QUORUM_CAPABILITY_ATTEST_TIME, pub),
			==, 0);
	g_assert_cmpmem(pub, 32, raw, 32);
	g_assert_cmpint(service->key_lookup(service_state, "node-1", a_id, now + 10 * S,
					    "attest_time", pub),
			==, 0);
	g_assert_cmpint(service->key_lookup(service_state, "node-1", a_id, now + 200 * S,
					    "attest_time", pub),
			==, -EKEYEXPIRED);
	g_assert_cmpint(
		service->key_lookup(service_state, "node-1", a2_id, now, "control", pub), ==,
		-EPERM);
	g_assert_cmpint(service->key_lookup(service_state, "node-1", a2_id, now, "root", pub),
			==, -EPERM);
	g_assert_cmpint(service->key_lookup(service_state, "ctl", a2_id, now, NULL, pub), ==,
			-ENOENT);
	g_assert_cmpint(service->key_lookup(service_state, "nobody", a2_id, now, NULL, pub), ==,
			-ENOENT);
	{
		char *f_id = key_id_new(f);

		g_assert_cmpint(
			service->key_lookup(service_state, "future", f_id, now, NULL, pub), ==,
			-EKEYEXPIRED);
		g_free(f_id);
	}
	quorum_plugin.fini(state);
	g_assert_cmpint(mockhost_timers_running(m), ==, 0);
	g_assert_true(logged("passport.stopped accepted=7 rejected="));

	/* a restart keeps the rotation and the replay window */
	mockhost_release(m);
	state = NULL;
	g_assert_cmpint(quorum_plugin.init(mockhost_host(m), &m->api, &state), ==, 0);
	g_assert_true(logged("from_state=1 superseded=0 retired_kept=1"));
	g_assert_true(logged("replay_entries=7"));
	event_make(&t, "uml001.worker.ntp_sync", "round 10", a2, NULL, now, now);
	expect_reject(state, &t, "gossip_duplicate_rejected", "replay");
	event_free(&t);
	event_make(&u, "uml001.worker.ntp_sync", "round 13", a, NULL, now, now + 10 * S);
	expect_accept(state, &u);
	event_free(&u);
	event_make(&u, "uml001.worker.ntp_sync", "round 14", a2, NULL, now, now);
	expect_accept(state, &u);
	event_free(&u);
	quorum_plugin.fini(state);
	g_free(text);

	/* an invalid passport in the folder stops the start, naming the file and the fault */
	g_free(write_file(pdir, "zz-broken.json",
			  "{\"format\":\"quorum-passport/1\",\"x\":1}"));
	mockhost_release(m);
	g_assert_cmpint(quorum_plugin.init(mockhost_host(m), &m->api, &state), ==, -EINVAL);
	g_assert_true(logged("zz-broken.json: passport: unknown member"));
	/* so does a missing trust root */
	g_assert_cmpint(mockhost_set(m, "trust_root", "missing.pub"), ==, 0);
	g_assert_cmpint(quorum_plugin.init(mockhost_host(m), &m->api, &state), ==, -ENOENT);
	g_assert_true(logged("passport.trust_root_invalid file="));

	mock_free(m);
	g_free(root_id);
	g_free(a_id);
	g_free(a2_id);
	g_free(pdir);
	testutil_scratch_free(dir);
	EVP_PKEY_free(root);
	EVP_PKEY_free(other);
	EVP_PKEY_free(a);
	EVP_PKEY_free(a2);
	EVP_PKEY_free(c);
	EVP_PKEY_free(f);
	EVP_PKEY_free(o);
	EVP_PKEY_free(stranger);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/passport/document/parses-every-member", test_doc_parses);
	g_test_add_func("/passport/document/refuses-malformed-with-a-precise-message",
			test_doc_refusals);
	g_test_add_func("/passport/document/root-signature-verifies-only-the-root",
			test_doc_root_signature);
	g_test_add_func("/passport/document/signed-bytes-are-domain-and-canonical-json",
			test_doc_signed_bytes);
	g_test_add_func("/passport/document/schema-example-parses", test_doc_schema_example);
	g_test_add_func("/passport/document/base64-is-canonical", test_doc_base64);
	g_test_add_func("/passport/capabilities/event-mapping", test_capability_mapping);
	g_test_add_func("/passport/registry/validity-windows-and-capabilities",
			test_registry_windows);
	g_test_add_func("/passport/registry/serials-newer-duplicate-stale",
			test_registry_serials);
	g_test_add_func("/passport/registry/rotation-overlap", test_registry_rotation_overlap);
	g_test_add_func("/passport/registry/rotation-persists-across-restart",
			test_registry_persistence);
	g_test_add_func("/passport/registry/load-errors-name-the-file",
			test_registry_load_errors);
	g_test_add_func("/passport/replay/bounded-eviction", test_replay_bounded);
	g_test_add_func("/passport/replay/persists-compacts-and-drops-torn-tail",
			test_replay_persistence);
	g_test_add_func("/passport/signed-state/message-bytes", test_signed_state_message);
	g_test_add_func("/passport/stage/every-rule-and-reason", test_stage_rules);
	return g_test_run();
}
