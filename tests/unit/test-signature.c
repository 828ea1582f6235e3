/* test-signature.c -- plugin signatures and keys: the .sig format is canonical, so any
 * changed bit of the signature or the plugin is refused, and names and keys are bound. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <glib.h>
#include <openssl/evp.h>

#include <quorum/plugin.h>

#include "keys-internal.h"
#include "plugin-sig-internal.h"
#include "testutil.h"
#include "util-internal.h"

struct fixture {
	char *dir;
	EVP_PKEY *key;
	struct keyring ring;
	uint8_t file[4096];
	struct plugin_statement st;
	char *sig;
	size_t sig_len;
};

static const struct plugin_statement rest_statement = {
	.name = "rest",
	.kind = QUORUM_PLUGIN_TRANSPORT,
	.role = QUORUM_ROLE_NONE,
	.version = "1.2.3",
	.abi_major = QUORUM_ABI_MAJOR,
	.abi_minor = QUORUM_ABI_MINOR,
};

static int create(EVP_PKEY *key, unsigned format, const struct plugin_statement *st,
		  const uint8_t *file, size_t len, char **sig, size_t *sig_len)
{
	char why[ERRBUF_SIZE];

	return plugin_signature_create(key, format, st, file, len, sig, sig_len, why,
				       sizeof(why));
}

/* F->ring: the trusted key alone. */
static void setup_ring(struct fixture *f)
{
	char why[ERRBUF_SIZE], *pub = testutil_path(f->dir, "trusted.pub");

	memset(&f->ring, 0, sizeof(f->ring));
	g_assert_cmpint(keyring_add_file(&f->ring, pub, why, sizeof(why)), ==, 0);
	g_free(pub);
}

static void setup(struct fixture *f, gconstpointer data)
{
	f->dir = testutil_scratch_new();
	f->key = testutil_key(f->dir, "trusted");
	setup_ring(f);
	for (size_t i = 0; i < sizeof(f->file); i++)
		f->file[i] = (uint8_t)g_random_int();
	f->st = rest_statement;
	g_assert_cmpint(
		create(f->key, 2, &f->st, f->file, sizeof(f->file), &f->sig, &f->sig_len), ==,
		0);
}

static void teardown(struct fixture *f, gconstpointer data)
{
	free(f->sig);
	keyring_release(&f->ring);
	EVP_PKEY_free(f->key);
	testutil_scratch_free(f->dir);
}

static int verify(struct fixture *f, const char *sig, size_t sig_len, const uint8_t *file,
		  size_t len, const char *name, char *why)
{
	return plugin_signature_verify((const uint8_t *)sig, sig_len, file, len, name, &f->ring,
				       NULL, why, ERRBUF_SIZE);
}

static void test_roundtrip(struct fixture *f, gconstpointer data)
{
	char why[ERRBUF_SIZE], id[KEY_ID_HEX_LEN + 1], *expected;
	struct plugin_signature verified;

	g_assert_cmpint(plugin_signature_verify((const uint8_t *)f->sig, f->sig_len, f->file,
						sizeof(f->file), "rest", &f->ring, &verified,
						why, sizeof(why)),
			==, 0);
	g_assert_cmpint(key_id(f->key, id), ==, 0);
	g_assert_cmpstr(verified.key_id, ==, id);
	g_assert_cmpuint(verified.format, ==, 2);
	g_assert_cmpstr(verified.statement.name, ==, "rest");
	g_assert_cmpuint(verified.statement.kind, ==, QUORUM_PLUGIN_TRANSPORT);
	g_assert_cmpuint(verified.statement.role, ==, QUORUM_ROLE_NONE);
	g_assert_cmpstr(verified.statement.version, ==, "1.2.3");
	g_assert_cmpuint(verified.statement.abi_major, ==, QUORUM_ABI_MAJOR);
	g_assert_cmpuint(verified.statement.abi_minor, ==, QUORUM_ABI_MINOR);
	expected = g_strdup_printf("quorum-plugin-signature-v2\nalgorithm ed25519\nkey-id %s\n"
				   "name rest\nkind transport\nrole none\nversion 1.2.3\n"
				   "abi %d.%d\nfile-sha256 ",
				   id, QUORUM_ABI_MAJOR, QUORUM_ABI_MINOR);
	g_assert_true(g_str_has_prefix(f->sig, expected));
	g_free(expected);
}

/* The legacy format still parses and verifies (quorumd decides whether to accept it), and
 * any changed bit of it is refused too. */
static void test_legacy_format(struct fixture *f, gconstpointer data)
{
	struct plugin_signature verified;
	char why[ERRBUF_SIZE], *sig;
	size_t sig_len;

	g_assert_cmpint(create(f->key, 1, &f->st, f->file, sizeof(f->file), &sig, &sig_len), ==,
			0);
	g_assert_true(g_str_has_prefix(sig, "quorum-plugin-signature-v1\nalgorithm ed25519\n"));
	g_assert_cmpint(plugin_signature_verify((const uint8_t *)sig, sig_len, f->file,
						sizeof(f->file), "rest", &f->ring, &verified,
						why, sizeof(why)),
			==, 0);
	g_assert_cmpuint(verified.format, ==, 1);
	g_assert_cmpstr(verified.statement.version, ==, "");
	for (size_t i = 0; i < sig_len; i++) {
		for (unsigned bit = 0; bit < 8; bit++) {
			sig[i] ^= (char)(1u << bit);
			if (plugin_signature_verify((const uint8_t *)sig, sig_len, f->file,
						    sizeof(f->file), "rest", &f->ring, NULL,
						    why, sizeof(why)) == 0)
				g_error("legacy: bit %u of byte %zu flipped, accepted", bit, i);
			sig[i] ^= (char)(1u << bit);
		}
	}
	free(sig);
}

/* A statement changed after signing, still well-formed, fails the signature; one that no
 * longer makes sense is refused as malformed. */
static void test_changed_statement_refused(struct fixture *f, gconstpointer data)
{
	static const struct {
		const char *from, *to;
		int expected;
	} edits[] = {
		{ "version 1.2.3\n", "version 1.2.4\n", -EBADMSG },
		{ "version 1.2.3\n", "version 9.2.3\n", -EBADMSG },
		{ "\nabi ", "\nabi 1", -EBADMSG },
		{ "kind transport\nrole none", "kind stage\nrole vault", -EBADMSG },
		{ "kind transport\n", "kind stage\n", -EINVAL },    /* a stage without a role */
		{ "role none\n", "role vault\n", -EINVAL },	    /* a transport with one */
		{ "version 1.2.3\n", "version 1.2.3a\n", -EINVAL }, /* not a version */
		{ "version 1.2.3\n", "version 01.2.3\n", -EINVAL }, /* not canonical */
		{ "\nabi ", "\nabi 0", -EINVAL }, /* abi 01.7: not canonical */
	};
	char why[ERRBUF_SIZE];

	for (size_t i = 0; i < G_N_ELEMENTS(edits); i++) {
		char *at = strstr(f->sig, edits[i].from), *copy;
		int err;

		g_assert_nonnull(at);
		copy = g_strdup_printf("%.*s%s%s", (int)(at - f->sig), f->sig, edits[i].to,
				       at + strlen(edits[i].from));
		err = plugin_signature_verify((const uint8_t *)copy, strlen(copy), f->file,
					      sizeof(f->file), "rest", &f->ring, NULL, why,
					      sizeof(why));
		if (err != edits[i].expected)
			g_error("'%s' -> '%s': %d (%s), expected %d", edits[i].from,
				edits[i].to, err, why, edits[i].expected);
		g_free(copy);
	}
}

/* Only a statement that makes sense can be signed. */
static void test_statement_checked_at_signing(struct fixture *f, gconstpointer data)
{
	static const char *const bad_versions[] = {
		"",	"1.0-rc1",    "v2",   "1..2",
		"01.2", "1.2.",	      ".1",   "1.2.3.4.5",
		"-1",	"1000000000", "1 .2", "1.2.3.4.5.6.7.8.9.10.11.12.13.14.15.16"
	};
	struct plugin_statement st = f->st;
	char *sig, why[ERRBUF_SIZE];
	size_t len;

	for (size_t i = 0; i < G_N_ELEMENTS(bad_versions); i++) {
		snprintf(st.version, sizeof(st.version), "%s", bad_versions[i]);
		g_assert_cmpint(plugin_signature_create(f->key, 2, &st, f->file, 16, &sig, &len,
							why, sizeof(why)),
				==, -EINVAL);
		g_assert_nonnull(strstr(why, "dotted decimal numbers"));
	}
	st = f->st;
	st.kind = QUORUM_PLUGIN_STAGE;
	g_assert_cmpint(create(f->key, 2, &st, f->file, 16, &sig, &len), ==, -EINVAL);
	st.role = QUORUM_ROLE_CONTROL;
	g_assert_cmpint(create(f->key, 2, &st, f->file, 16, &sig, &len), ==, 0);
	free(sig);
	st.kind = QUORUM_PLUGIN_TRANSPORT;
	g_assert_cmpint(create(f->key, 2, &st, f->file, 16, &sig, &len), ==, -EINVAL);
	st.kind = 7;
	g_assert_cmpint(create(f->key, 2, &st, f->file, 16, &sig, &len), ==, -EINVAL);
}

static void test_versions(void)
{
	/* Each older than the next. */
	static const char *const ordered[] = { "0",    "0.1",  "0.1.1",	   "0.2",
					       "0.10", "1",    "1.0.0.1",  "1.2",
					       "2",    "10.0", "999999999" };
	struct plugin_version a, b;

	for (size_t i = 0; i + 1 < G_N_ELEMENTS(ordered); i++) {
		g_assert_cmpint(plugin_version_parse(ordered[i], &a), ==, 0);
		g_assert_cmpint(plugin_version_parse(ordered[i + 1], &b), ==, 0);
		g_assert_cmpint(plugin_version_compare(&a, &b), <, 0);
		g_assert_cmpint(plugin_version_compare(&b, &a), >, 0);
		g_assert_cmpint(plugin_version_compare(&a, &a), ==, 0);
	}
	g_assert_cmpint(plugin_version_parse("1.0", &a), ==, 0);
	g_assert_cmpint(plugin_version_parse("1.0.0", &b), ==, 0);
	g_assert_cmpint(plugin_version_compare(&a, &b), ==, 0);
	g_assert_cmpint(plugin_version_parse("1.2.3.4", &a), ==, 0);
	g_assert_cmpint(plugin_version_parse("1.2.3.4.5", &a), ==, -EINVAL);
	g_assert_cmpint(plugin_version_parse("1.", &a), ==, -EINVAL);
	g_assert_cmpint(plugin_version_parse("+1", &a), ==, -EINVAL);
}

/* Every single-bit change anywhere in the .sig is refused (format, canonical form, key id,
 * name, hash or signature). */
static void test_every_flipped_sig_bit_refused(struct fixture *f, gconstpointer data)
{
	char why[ERRBUF_SIZE];

	for (size_t i = 0; i < f->sig_len; i++) {
		for (unsigned bit = 0; bit < 8; bit++) {
			char *copy = g_memdup2(f->sig, f->sig_len);

			copy[i] ^= (char)(1u << bit);
			if (verify(f, copy, f->sig_len, f->file, sizeof(f->file), "rest",
				   why) == 0)
				g_error("flipping bit %u of byte %zu of the signature was "
					"accepted",
					bit, i);
			g_free(copy);
		}
	}
}

/* Every byte of the plugin, each with one bit flipped, is refused as a hash mismatch. */
static void test_every_flipped_file_byte_refused(struct fixture *f, gconstpointer data)
{
	char why[ERRBUF_SIZE];

	for (size_t i = 0; i < sizeof(f->file); i++) {
		uint8_t copy[sizeof(f->file)];

		memcpy(copy, f->file, sizeof(copy));
		copy[i] ^= (uint8_t)(1u << (i % 8));
		g_assert_cmpint(verify(f, f->sig, f->sig_len, copy, sizeof(copy), "rest", why),
				==, -EBADMSG);
	}
	g_assert_nonnull(strstr(why, "SHA-256"));
}

static void test_other_name_refused(struct fixture *f, gconstpointer data)
{
	char why[ERRBUF_SIZE];

	g_assert_cmpint(verify(f, f->sig, f->sig_len, f->file, sizeof(f->file), "grpc", why),
			==, -EACCES);
	g_assert_cmpstr(why, ==, "signature is for plugin 'rest', not 'grpc'");
}

static void test_untrusted_key_refused(struct fixture *f, gconstpointer data)
{
	EVP_PKEY *other = key_generate();
	char why[ERRBUF_SIZE], *sig, id[KEY_ID_HEX_LEN + 1];
	size_t sig_len;

	g_assert_cmpint(create(other, 2, &f->st, f->file, sizeof(f->file), &sig, &sig_len), ==,
			0);
	g_assert_cmpint(verify(f, sig, sig_len, f->file, sizeof(f->file), "rest", why), ==,
			-ENOKEY);
	key_id(other, id);
	g_assert_nonnull(strstr(why, id));
	g_assert_nonnull(strstr(why, "not in trusted_plugin_keys"));
	free(sig);
	EVP_PKEY_free(other);
}

/* A signature by a trusted key but with the key id of another trusted key fails to verify. */
static void test_signature_checked_with_named_key(struct fixture *f, gconstpointer data)
{
	EVP_PKEY *second = testutil_key(f->dir, "second");
	char *pub = testutil_path(f->dir, "second.pub"), why[ERRBUF_SIZE], *sig, *at;
	char id1[KEY_ID_HEX_LEN + 1], id2[KEY_ID_HEX_LEN + 1];
	size_t sig_len;

	g_assert_cmpint(keyring_add_file(&f->ring, pub, why, sizeof(why)), ==, 0);
	g_assert_cmpint(create(second, 2, &f->st, f->file, sizeof(f->file), &sig, &sig_len), ==,
			0);
	key_id(f->key, id1);
	key_id(second, id2);
	at = strstr(sig, id2);
	g_assert_nonnull(at);
	memcpy(at, id1, KEY_ID_HEX_LEN);
	g_assert_cmpint(verify(f, sig, sig_len, f->file, sizeof(f->file), "rest", why), ==,
			-EBADMSG);
	free(sig);
	g_free(pub);
	EVP_PKEY_free(second);
}

/* A scoped key signs only the names it is given (plugin_key_scopes). */
static void test_scoped_key(struct fixture *f, gconstpointer data)
{
	static const char *const grpc[] = { "grpc" }, *const both[] = { "grpc", "rest" };
	char why[ERRBUF_SIZE], id[KEY_ID_HEX_LEN + 1], *expected;

	key_id(f->key, id);
	g_assert_cmpint(keyring_scope(&f->ring, "0000000000000000", grpc, 1), ==, -ENOENT);
	g_assert_cmpint(keyring_scope(&f->ring, id, grpc, 1), ==, 0);
	g_assert_cmpint(keyring_scope(&f->ring, id, both, 2), ==, -EEXIST);
	g_assert_cmpint(verify(f, f->sig, f->sig_len, f->file, sizeof(f->file), "rest", why),
			==, -EACCES);
	expected = g_strdup_printf("signed by key %s, which may sign only grpc "
				   "(plugin_key_scopes), not 'rest'",
				   id);
	g_assert_cmpstr(why, ==, expected);
	g_free(expected);
	keyring_release(&f->ring);
	setup_ring(f);
	g_assert_cmpint(keyring_scope(&f->ring, id, both, 2), ==, 0);
	g_assert_cmpint(verify(f, f->sig, f->sig_len, f->file, sizeof(f->file), "rest", why),
			==, 0);
}

static void test_uppercase_hex_refused(struct fixture *f, gconstpointer data)
{
	char why[ERRBUF_SIZE], *copy = g_strndup(f->sig, f->sig_len);
	char *sig_line = strstr(copy, "\nsignature ") + strlen("\nsignature ");

	for (char *p = sig_line; *p != '\n'; p++)
		*p = g_ascii_toupper(*p);
	g_assert_cmpint(verify(f, copy, f->sig_len, f->file, sizeof(f->file), "rest", why), ==,
			-EINVAL);
	if (strstr(why, "line 10") == NULL)
		g_error("%s", why);
	g_free(copy);
}

static void test_trailing_bytes_refused(struct fixture *f, gconstpointer data)
{
	char why[ERRBUF_SIZE], *copy = g_strdup_printf("%s\n", f->sig);

	g_assert_cmpint(verify(f, copy, f->sig_len + 1, f->file, sizeof(f->file), "rest", why),
			==, -EINVAL);
	g_assert_nonnull(strstr(why, "after line 10"));
	g_free(copy);
}

static void test_truncated_refused(struct fixture *f, gconstpointer data)
{
	char why[ERRBUF_SIZE];

	for (size_t len = 0; len < f->sig_len; len++)
		g_assert_cmpint(verify(f, f->sig, len, f->file, sizeof(f->file), "rest", why),
				==, -EINVAL);
}

static void test_plugin_names(void)
{
	g_assert_true(plugin_name_valid("rest"));
	g_assert_true(plugin_name_valid("fixture-stage_2"));
	g_assert_false(plugin_name_valid(""));
	g_assert_false(plugin_name_valid("Rest"));
	g_assert_false(plugin_name_valid("2rest"));
	g_assert_false(plugin_name_valid("../rest"));
	g_assert_false(plugin_name_valid("a-name-that-is-longer-than-32-chars"));
}

static void test_private_key_mode_checked(void)
{
	char *dir = testutil_scratch_new(), why[ERRBUF_SIZE], *path;
	EVP_PKEY *key = testutil_key(dir, "k"), *loaded = NULL;
	struct stat st;

	path = testutil_path(dir, "k.key");
	g_assert_cmpint(stat(path, &st), ==, 0);
	g_assert_cmpint(st.st_mode & 0777, ==, 0600);
	g_assert_cmpint(key_load_private(path, &loaded, why, sizeof(why)), ==, 0);
	EVP_PKEY_free(loaded);
	g_assert_cmpint(chmod(path, 0640), ==, 0);
	g_assert_cmpint(key_load_private(path, &loaded, why, sizeof(why)), ==, -EPERM);
	g_assert_nonnull(strstr(why, "must be 0600"));
	g_free(path);
	EVP_PKEY_free(key);
	testutil_scratch_free(dir);
}

static void test_key_id_matches_public_half(void)
{
	char *dir = testutil_scratch_new(), why[ERRBUF_SIZE], *pub;
	EVP_PKEY *key = testutil_key(dir, "k"), *loaded = NULL;
	char a[KEY_ID_HEX_LEN + 1], b[KEY_ID_HEX_LEN + 1];

	pub = testutil_path(dir, "k.pub");
	g_assert_cmpint(key_load_public(pub, &loaded, why, sizeof(why)), ==, 0);
	key_id(key, a);
	key_id(loaded, b);
	g_assert_cmpstr(a, ==, b);
	g_assert_cmpuint(strlen(a), ==, KEY_ID_HEX_LEN);
	g_free(pub);
	EVP_PKEY_free(loaded);
	EVP_PKEY_free(key);
	testutil_scratch_free(dir);
}

static void test_keyring_refuses_duplicate(void)
{
	char *dir = testutil_scratch_new(), why[ERRBUF_SIZE], *pub;
	EVP_PKEY *key = testutil_key(dir, "k");
	struct keyring ring = { 0 };

	pub = testutil_path(dir, "k.pub");
	g_assert_cmpint(keyring_add_file(&ring, pub, why, sizeof(why)), ==, 0);
	g_assert_cmpint(keyring_add_file(&ring, pub, why, sizeof(why)), ==, -EEXIST);
	keyring_release(&ring);
	g_free(pub);
	EVP_PKEY_free(key);
	testutil_scratch_free(dir);
}

/* Signs with KEY's own fresh context, as OpenSSL does without key_sign's kept one. */
static void plain_sign(EVP_PKEY *key, const void *msg, size_t len, uint8_t sig[64])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	size_t sig_len = 64;

	g_assert_cmpint(EVP_DigestSignInit(ctx, NULL, NULL, NULL, key), ==, 1);
	g_assert_cmpint(EVP_DigestSign(ctx, sig, &sig_len, msg, len), ==, 1);
	EVP_MD_CTX_free(ctx);
}

static int plain_verify(EVP_PKEY *key, const void *msg, size_t len, const uint8_t sig[64])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ok = EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, key) == 1 &&
		 EVP_DigestVerify(ctx, sig, 64, msg, len) == 1;

	EVP_MD_CTX_free(ctx);
	return ok;
}

/* key_sign and key_verify set each key's contexts up once and reuse them: every use gives
 * what OpenSSL gives with fresh ones, for several keys, for a key's duplicate and after a
 * key is freed. */
static void test_kept_contexts(void)
{
	EVP_PKEY *a = key_generate(), *b = key_generate(), *dup;
	uint8_t sig[KEY_SIGNATURE_LEN], plain[KEY_SIGNATURE_LEN];
	char msg[64];

	g_assert_nonnull(a);
	g_assert_nonnull(b);
	for (int i = 0; i < 50; i++) {
		EVP_PKEY *k = i % 2 ? a : b, *other = i % 2 ? b : a;

		snprintf(msg, sizeof(msg), "statement %d", i);
		g_assert_cmpint(key_sign(k, msg, strlen(msg), sig), ==, 0);
		plain_sign(k, msg, strlen(msg), plain);
		g_assert_cmpmem(sig, sizeof(sig), plain,
				sizeof(plain)); /* Ed25519: deterministic */
		g_assert_true(plain_verify(k, msg, strlen(msg), sig));
		g_assert_cmpint(key_verify(k, msg, strlen(msg), sig, sizeof(sig)), ==, 0);
		g_assert_cmpint(key_verify(other, msg, strlen(msg), sig, sizeof(sig)), ==,
				-EBADMSG);
		sig[i % KEY_SIGNATURE_LEN] ^= 0x20;
		g_assert_cmpint(key_verify(k, msg, strlen(msg), sig, sizeof(sig)), ==,
				-EBADMSG);
		msg[0] = 'S';
		g_assert_cmpint(key_verify(k, msg, strlen(msg), plain, sizeof(plain)), ==,
				-EBADMSG);
	}
	/* a duplicate has contexts of its own; each key frees its own */
	dup = EVP_PKEY_dup(a);
	g_assert_nonnull(dup);
	EVP_PKEY_free(a);
	g_assert_cmpint(key_sign(dup, "x", 1, sig), ==, 0);
	g_assert_cmpint(key_verify(dup, "x", 1, sig, sizeof(sig)), ==, 0);
	g_assert_true(plain_verify(dup, "x", 1, sig));
	EVP_PKEY_free(dup);
	EVP_PKEY_free(b);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
#define ADD(path, fn) g_test_add(path, struct fixture, NULL, setup, fn, teardown)
	ADD("/signature/roundtrip", test_roundtrip);
	ADD("/signature/legacy-format-1-parses-and-verifies", test_legacy_format);
	ADD("/signature/refuses/changed-statement", test_changed_statement_refused);
	ADD("/signature/statement-checked-at-signing", test_statement_checked_at_signing);
	g_test_add_func("/signature/versions/parse-and-order", test_versions);
	g_test_add_func("/signature/keys/kept-contexts-sign-and-verify-as-fresh-ones",
			test_kept_contexts);
	ADD("/signature/refuses/every-flipped-bit-of-the-sig",
	    test_every_flipped_sig_bit_refused);
	ADD("/signature/refuses/a-flipped-bit-in-every-byte-of-the-plugin",
	    test_every_flipped_file_byte_refused);
	ADD("/signature/refuses/signature-made-for-another-name", test_other_name_refused);
	ADD("/signature/refuses/key-not-trusted", test_untrusted_key_refused);
	ADD("/signature/refuses/key-id-of-another-trusted-key",
	    test_signature_checked_with_named_key);
	ADD("/signature/refuses/uppercase-hex", test_uppercase_hex_refused);
	ADD("/signature/refuses/name-outside-the-key-scope", test_scoped_key);
	ADD("/signature/refuses/trailing-bytes", test_trailing_bytes_refused);
	ADD("/signature/refuses/every-truncation", test_truncated_refused);
	g_test_add_func("/signature/plugin-names", test_plugin_names);
	g_test_add_func("/keys/private-key-must-be-0600", test_private_key_mode_checked);
	g_test_add_func("/keys/id-matches-public-half", test_key_id_matches_public_half);
	g_test_add_func("/keys/keyring-refuses-duplicate", test_keyring_refuses_duplicate);
	return g_test_run();
}
