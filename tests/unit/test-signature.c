/* test-signature.c -- plugin signatures and keys: the .sig format is canonical, so any
 * changed bit of the signature or the plugin is refused, and names and keys are bound. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <glib.h>

#include "keys-internal.h"
#include "plugin-sig-internal.h"
#include "testutil.h"
#include "util-internal.h"

struct fixture {
	char *dir;
	EVP_PKEY *key;
	struct keyring ring;
	uint8_t file[4096];
	char *sig;
	size_t sig_len;
};

static void setup(struct fixture *f, gconstpointer data)
{
	char why[ERRBUF_SIZE], *pub;

	f->dir = testutil_scratch_new();
	f->key = testutil_key(f->dir, "trusted");
	pub = testutil_path(f->dir, "trusted.pub");
	memset(&f->ring, 0, sizeof(f->ring));
	g_assert_cmpint(keyring_add_file(&f->ring, pub, why, sizeof(why)), ==, 0);
	g_free(pub);
	for (size_t i = 0; i < sizeof(f->file); i++)
		f->file[i] = (uint8_t)g_random_int();
	g_assert_cmpint(plugin_signature_create(f->key, "rest", f->file, sizeof(f->file),
						&f->sig, &f->sig_len, why, sizeof(why)),
			==, 0);
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
	char why[ERRBUF_SIZE], id[KEY_ID_HEX_LEN + 1], key_id_out[KEY_ID_HEX_LEN + 1];
	struct plugin_signature parsed;

	g_assert_cmpint(plugin_signature_verify((const uint8_t *)f->sig, f->sig_len, f->file,
						sizeof(f->file), "rest", &f->ring, key_id_out,
						why, sizeof(why)),
			==, 0);
	g_assert_cmpint(key_id(f->key, id), ==, 0);
	g_assert_cmpstr(key_id_out, ==, id);
	g_assert_cmpint(plugin_signature_parse((const uint8_t *)f->sig, f->sig_len, &parsed,
					       why, sizeof(why)),
			==, 0);
	g_assert_cmpstr(parsed.name, ==, "rest");
	g_assert_true(
		g_str_has_prefix(f->sig, "quorum-plugin-signature-v1\nalgorithm ed25519\n"));
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

	g_assert_cmpint(plugin_signature_create(other, "rest", f->file, sizeof(f->file), &sig,
						&sig_len, why, sizeof(why)),
			==, 0);
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
	g_assert_cmpint(plugin_signature_create(second, "rest", f->file, sizeof(f->file), &sig,
						&sig_len, why, sizeof(why)),
			==, 0);
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

static void test_uppercase_hex_refused(struct fixture *f, gconstpointer data)
{
	char why[ERRBUF_SIZE], *copy = g_strndup(f->sig, f->sig_len);
	char *sig_line = strstr(copy, "\nsignature ") + strlen("\nsignature ");

	for (char *p = sig_line; *p != '\n'; p++)
		*p = g_ascii_toupper(*p);
	g_assert_cmpint(verify(f, copy, f->sig_len, f->file, sizeof(f->file), "rest", why), ==,
			-EINVAL);
	g_assert_nonnull(strstr(why, "line 6"));
	g_free(copy);
}

static void test_trailing_bytes_refused(struct fixture *f, gconstpointer data)
{
	char why[ERRBUF_SIZE], *copy = g_strdup_printf("%s\n", f->sig);

	g_assert_cmpint(verify(f, copy, f->sig_len + 1, f->file, sizeof(f->file), "rest", why),
			==, -EINVAL);
	g_assert_nonnull(strstr(why, "after line 6"));
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

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
#define ADD(path, fn) g_test_add(path, struct fixture, NULL, setup, fn, teardown)
	ADD("/signature/roundtrip", test_roundtrip);
	ADD("/signature/refuses/every-flipped-bit-of-the-sig",
	    test_every_flipped_sig_bit_refused);
	ADD("/signature/refuses/a-flipped-bit-in-every-byte-of-the-plugin",
	    test_every_flipped_file_byte_refused);
	ADD("/signature/refuses/signature-made-for-another-name", test_other_name_refused);
	ADD("/signature/refuses/key-not-trusted", test_untrusted_key_refused);
	ADD("/signature/refuses/key-id-of-another-trusted-key",
	    test_signature_checked_with_named_key);
	ADD("/signature/refuses/uppercase-hex", test_uppercase_hex_refused);
	ADD("/signature/refuses/trailing-bytes", test_trailing_bytes_refused);
	ADD("/signature/refuses/every-truncation", test_truncated_refused);
	g_test_add_func("/signature/plugin-names", test_plugin_names);
	g_test_add_func("/keys/private-key-must-be-0600", test_private_key_mode_checked);
	g_test_add_func("/keys/id-matches-public-half", test_key_id_matches_public_half);
	g_test_add_func("/keys/keyring-refuses-duplicate", test_keyring_refuses_duplicate);
	return g_test_run();
}
