/* testutil.c -- helpers shared by the g_test programs (see testutil.h). */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include <quorum/plugin.h>

#include "keys-internal.h"
#include "plugin-describe.h"
#include "plugin-sig-internal.h"
#include "settings-internal.h"
#include "testutil.h"
#include "util-internal.h"

char *testutil_scratch_new(void)
{
	GError *error = NULL;
	char *dir = g_dir_make_tmp("quorum-test-XXXXXX", &error);

	g_assert_no_error(error);
	return dir;
}

static void remove_tree(const char *path)
{
	GDir *dir = g_dir_open(path, 0, NULL);
	const char *name;

	if (dir != NULL) {
		while ((name = g_dir_read_name(dir)) != NULL) {
			char *child = g_build_filename(path, name, NULL);
			struct stat st;

			if (lstat(child, &st) == 0 && S_ISDIR(st.st_mode))
				remove_tree(child);
			else
				g_unlink(child);
			g_free(child);
		}
		g_dir_close(dir);
	}
	g_rmdir(path);
}

void testutil_scratch_free(char *dir)
{
	remove_tree(dir);
	g_free(dir);
}

char *testutil_path(const char *dir, const char *name)
{
	return g_strdup_printf("%s/%s", dir, name);
}

char *testutil_write(const char *dir, const char *name, const char *text, unsigned mode)
{
	char *path = testutil_path(dir, name);
	GError *error = NULL;

	g_file_set_contents(path, text, -1, &error);
	g_assert_no_error(error);
	g_assert_cmpint(chmod(path, mode), ==, 0);
	return path;
}

char *testutil_fixture(const char *dir, const char *fixture, const char *as)
{
	const char *fixtures = g_getenv("QUORUM_FIXTURES");
	char *src, *dst, *data;
	gsize len;
	GError *error = NULL;

	g_assert_nonnull(fixtures);
	src = g_strdup_printf("%s/%s.so", fixtures, fixture);
	dst = g_strdup_printf("%s/%s.so", dir, as);
	g_file_get_contents(src, &data, &len, &error);
	g_assert_no_error(error);
	g_file_set_contents(dst, data, (gssize)len, &error);
	g_assert_no_error(error);
	g_assert_cmpint(chmod(dst, 0644), ==, 0);
	g_free(data);
	g_free(src);
	return dst;
}

EVP_PKEY *testutil_key(const char *dir, const char *name)
{
	EVP_PKEY *key = key_generate();
	char *pub = g_strdup_printf("%s/%s.pub", dir, name);
	char *priv = g_strdup_printf("%s/%s.key", dir, name);
	char why[ERRBUF_SIZE];

	g_assert_nonnull(key);
	g_assert_cmpint(key_save_public(key, pub, 1, why, sizeof(why)), ==, 0);
	g_assert_cmpint(key_save_private(key, priv, 1, why, sizeof(why)), ==, 0);
	g_free(pub);
	g_free(priv);
	return key;
}

void testutil_sign(EVP_PKEY *key, const char *path, const char *name)
{
	struct plugin_statement st;
	char why[ERRBUF_SIZE];

	if (plugin_describe(path, &st, why, sizeof(why)) != 0)
		g_error("%s", why);
	snprintf(st.name, sizeof(st.name), "%s", name);
	testutil_sign_statement(key, path, 2, &st);
}

void testutil_sign_statement(EVP_PKEY *key, const char *path, unsigned format,
			     const struct plugin_statement *st)
{
	char *data, *text, *sig_path = g_strdup_printf("%s.sig", path), why[ERRBUF_SIZE];
	gsize len;
	size_t text_len;
	GError *error = NULL;

	g_file_get_contents(path, &data, &len, &error);
	g_assert_no_error(error);
	if (plugin_signature_create(key, format, st, (const uint8_t *)data, len, &text,
				    &text_len, why, sizeof(why)) != 0)
		g_error("%s", why);
	g_file_set_contents(sig_path, text, (gssize)text_len, &error);
	g_assert_no_error(error);
	g_assert_cmpint(chmod(sig_path, 0644), ==, 0);
	free(text);
	g_free(data);
	g_free(sig_path);
}

void testutil_flip_bit(const char *path, size_t offset, unsigned bit)
{
	int fd = open(path, O_RDWR);
	unsigned char byte;

	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpint(pread(fd, &byte, 1, (off_t)offset), ==, 1);
	byte ^= (unsigned char)(1u << bit);
	g_assert_cmpint(pwrite(fd, &byte, 1, (off_t)offset), ==, 1);
	close(fd);
}

size_t testutil_file_size(const char *path)
{
	struct stat st;

	g_assert_cmpint(stat(path, &st), ==, 0);
	return (size_t)st.st_size;
}

void testutil_signer_new(struct testutil_signer *s)
{
	size_t len = sizeof(s->pub);
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, NULL);

	s->key = NULL;
	g_assert_nonnull(ctx);
	g_assert_cmpint(EVP_PKEY_keygen_init(ctx), ==, 1);
	g_assert_cmpint(EVP_PKEY_keygen(ctx, &s->key), ==, 1);
	EVP_PKEY_CTX_free(ctx);
	g_assert_cmpint(EVP_PKEY_get_raw_public_key(s->key, s->pub, &len), ==, 1);
}

void testutil_signer_sign(const struct testutil_signer *s, const void *msg, size_t len,
			  uint8_t sig[64])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	size_t sig_len = 64;

	g_assert_nonnull(ctx);
	g_assert_cmpint(EVP_DigestSignInit(ctx, NULL, NULL, NULL, s->key), ==, 1);
	g_assert_cmpint(EVP_DigestSign(ctx, sig, &sig_len, msg, len), ==, 1);
	EVP_MD_CTX_free(ctx);
}

struct settings_struct *testutil_settings(const struct quorum_plugin *d, const char *group)
{
	struct settings_struct *st = NULL;
	char *text = g_strdup_printf("settings = { %s };\n", group != NULL ? group : "");
	char why[ERRBUF_SIZE] = "";
	config_t cfg;

	config_init(&cfg);
	if (config_read_string(&cfg, text) != CONFIG_TRUE)
		g_error("settings \"%s\": %s", text, config_error_text(&cfg));
	if (settings_struct_new(config_lookup(&cfg, "settings"), d->settings, d->settings_size,
				&st, why, sizeof(why)) != 0)
		g_error("settings \"%s\": %s", text, why);
	config_destroy(&cfg); /* the struct holds copies */
	g_free(text);
	return st;
}
