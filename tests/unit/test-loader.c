/* test-loader.c -- the plugin loader: every refusal of the issue has its own test, and the
 * code that runs is the code that was verified, even if the file is replaced meanwhile. */
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "loader-internal.h"
#include "plugin-sig-internal.h"
#include "testutil.h"
#include "util-internal.h"

struct fixture {
	char *dir;
	EVP_PKEY *key;
	struct keyring ring;
	char why[ERRBUF_SIZE];
};

static void setup(struct fixture *f, gconstpointer data)
{
	char *pub;

	f->dir = testutil_scratch_new();
	f->key = testutil_key(f->dir, "trusted");
	pub = testutil_path(f->dir, "trusted.pub");
	memset(&f->ring, 0, sizeof(f->ring));
	g_assert_cmpint(keyring_add_file(&f->ring, pub, f->why, sizeof(f->why)), ==, 0);
	g_free(pub);
	g_assert_cmpint(loader_init(), ==, 0);
}

static void teardown(struct fixture *f, gconstpointer data)
{
	loader_exit();
	keyring_release(&f->ring);
	EVP_PKEY_free(f->key);
	testutil_scratch_free(f->dir);
}

/* Copies FIXTURE as NAME.so, signs it as NAME with the trusted key; returns the path. */
static char *signed_fixture(struct fixture *f, const char *fixture, const char *name)
{
	char *path = testutil_fixture(f->dir, fixture, name);

	testutil_sign(f->key, path, name);
	return path;
}

static int load_with(struct fixture *f, const char *path, const char *name, uint32_t kind,
		     int allow_legacy, const struct loader_options *options,
		     struct plugin_module **out)
{
	struct plugin_policy policy = { .trusted = &f->ring,
					.service_uid = geteuid(),
					.check_paths = 1,
					.allow_legacy = allow_legacy };

	f->why[0] = '\0';
	return plugin_load(path, name, kind, &policy, options, out, f->why, sizeof(f->why));
}

static int load(struct fixture *f, const char *path, const char *name, uint32_t kind,
		const struct loader_options *options, struct plugin_module **out)
{
	return load_with(f, path, name, kind, 0, options, out);
}

/* What the fixture transport's descriptor says, as a statement to sign. */
static struct plugin_statement transport_statement(const char *version)
{
	struct plugin_statement st = { .name = "fixture-transport",
				       .kind = QUORUM_PLUGIN_TRANSPORT,
				       .role = QUORUM_ROLE_NONE,
				       .abi_major = QUORUM_ABI_MAJOR,
				       .abi_minor = QUORUM_ABI_MINOR };

	snprintf(st.version, sizeof(st.version), "%s", version);
	return st;
}

static void assert_refused(struct fixture *f, const char *path, const char *name, uint32_t kind,
			   int expected, const char *fragment)
{
	struct plugin_module *module = NULL;
	int err = load(f, path, name, kind, NULL, &module);

	if (err != expected || strstr(f->why, fragment) == NULL)
		g_error("expected %d with \"%s\", got %d: %s", expected, fragment, err, f->why);
	g_assert_null(module);
	/* One line, naming the plugin. */
	g_assert_null(strchr(f->why, '\n'));
	g_assert_nonnull(strstr(f->why, name));
}

static void test_loads_signed_plugin(struct fixture *f, gconstpointer data)
{
	char *path = signed_fixture(f, "fixture-transport", "fixture-transport");
	struct plugin_module *module = NULL;
	int seals;

	g_assert_cmpint(
		load(f, path, "fixture-transport", QUORUM_PLUGIN_TRANSPORT, NULL, &module), ==,
		0);
	g_assert_nonnull(module);
	g_assert_cmpstr(module->descriptor->name, ==, "fixture-transport");
	g_assert_cmpstr(module->descriptor->version, ==, "1.0");
	g_assert_false(module->private_copy);
	/* The loaded bytes sit in a memfd that can no longer change. */
	seals = fcntl(module->fd, F_GET_SEALS);
	g_assert_cmpint(seals & (F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL), ==,
			F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL);
	plugin_module_unload(module);
	g_free(path);
}

static void test_refuses_unsigned(struct fixture *f, gconstpointer data)
{
	char *path = testutil_fixture(f->dir, "fixture-transport", "fixture-transport");

	assert_refused(f, path, "fixture-transport", QUORUM_PLUGIN_TRANSPORT, -ENOENT,
		       "unsigned");
	g_free(path);
}

/* Flipped bits at the start, in the middle, at the end and at random places of the .so. */
static void test_refuses_flipped_bit_in_so(struct fixture *f, gconstpointer data)
{
	char *path = signed_fixture(f, "fixture-transport", "fixture-transport");
	size_t size = testutil_file_size(path);
	size_t offsets[16] = { 0, 1, size / 2, size - 1 };

	for (size_t i = 4; i < G_N_ELEMENTS(offsets); i++)
		offsets[i] = (size_t)g_random_int_range(0, (gint32)size);
	for (size_t i = 0; i < G_N_ELEMENTS(offsets); i++) {
		unsigned bit = (unsigned)g_random_int_range(0, 8);

		testutil_flip_bit(path, offsets[i], bit);
		assert_refused(f, path, "fixture-transport", QUORUM_PLUGIN_TRANSPORT, -EBADMSG,
			       "SHA-256");
		testutil_flip_bit(path, offsets[i], bit);
	}
	g_free(path);
}

/* Every bit of the .sig file, through the loader. */
static void test_refuses_flipped_bit_in_sig(struct fixture *f, gconstpointer data)
{
	char *path = signed_fixture(f, "fixture-transport", "fixture-transport");
	char *sig = g_strdup_printf("%s.sig", path);
	size_t size = testutil_file_size(sig);

	for (size_t i = 0; i < size; i++) {
		for (unsigned bit = 0; bit < 8; bit++) {
			struct plugin_module *module = NULL;

			testutil_flip_bit(sig, i, bit);
			if (load(f, path, "fixture-transport", QUORUM_PLUGIN_TRANSPORT, NULL,
				 &module) == 0)
				g_error("bit %u of byte %zu of the .sig flipped, still loaded",
					bit, i);
			testutil_flip_bit(sig, i, bit);
		}
	}
	g_free(sig);
	g_free(path);
}

static void test_refuses_signature_for_other_name(struct fixture *f, gconstpointer data)
{
	char *path = testutil_fixture(f->dir, "fixture-transport", "fixture-transport");

	testutil_sign(f->key, path, "rest");
	assert_refused(f, path, "fixture-transport", QUORUM_PLUGIN_TRANSPORT, -EACCES,
		       "signature is for plugin 'rest', not 'fixture-transport'");
	g_free(path);
}

static void test_refuses_untrusted_key(struct fixture *f, gconstpointer data)
{
	char *path = testutil_fixture(f->dir, "fixture-transport", "fixture-transport");
	EVP_PKEY *stranger = testutil_key(f->dir, "stranger");

	testutil_sign(stranger, path, "fixture-transport");
	assert_refused(f, path, "fixture-transport", QUORUM_PLUGIN_TRANSPORT, -ENOKEY,
		       "not in trusted_plugin_keys");
	EVP_PKEY_free(stranger);
	g_free(path);
}

static void test_refuses_bad_magic(struct fixture *f, gconstpointer data)
{
	char *path = testutil_fixture(f->dir, "fixture-bad-magic", "fixture-transport");
	struct plugin_statement st = transport_statement("1.0");

	/* quorum-sign cannot read such a descriptor: signed with an explicit statement. */
	testutil_sign_statement(f->key, path, 2, &st);
	assert_refused(f, path, "fixture-transport", QUORUM_PLUGIN_TRANSPORT, -EPROTO,
		       "bad descriptor magic 0x12345678");
	g_free(path);
}

static void test_refuses_other_major(struct fixture *f, gconstpointer data)
{
	char *path = signed_fixture(f, "fixture-bad-major", "fixture-transport");
	char *expected = g_strdup_printf(
		"plugin ABI %d.%d, host ABI %d.%d: the major versions differ",
		QUORUM_ABI_MAJOR + 1, QUORUM_ABI_MINOR, QUORUM_ABI_MAJOR, QUORUM_ABI_MINOR);

	assert_refused(f, path, "fixture-transport", QUORUM_PLUGIN_TRANSPORT, -EPROTO,
		       expected);
	g_free(expected);
	g_free(path);
}

static void test_refuses_newer_minor(struct fixture *f, gconstpointer data)
{
	char *path = signed_fixture(f, "fixture-new-minor", "fixture-transport");
	char *expected = g_strdup_printf("plugin ABI %d.%d is newer than the host's ABI %d.%d",
					 QUORUM_ABI_MAJOR, QUORUM_ABI_MINOR + 1,
					 QUORUM_ABI_MAJOR, QUORUM_ABI_MINOR);

	assert_refused(f, path, "fixture-transport", QUORUM_PLUGIN_TRANSPORT, -EPROTO,
		       expected);
	g_free(expected);
	g_free(path);
}

/* ABI 1.12 carved settings_size and the schema's default_value and offset out of reserved
 * slots: a plugin built against 1.11 (those slots NULL) loads unchanged. */
static void test_loads_older_minor(struct fixture *f, gconstpointer data)
{
	char *path = signed_fixture(f, "fixture-old-minor", "fixture-transport");
	struct plugin_module *module = NULL;

	g_assert_cmpint(
		load(f, path, "fixture-transport", QUORUM_PLUGIN_TRANSPORT, NULL, &module), ==,
		0);
	g_assert_cmpuint(module->descriptor->abi_minor, ==, 11);
	g_assert_cmpuint(module->descriptor->settings_size, ==, 0);
	g_assert_nonnull(module->descriptor->settings);
	for (size_t i = 0; module->descriptor->settings[i].type != QUORUM_SETTING_END; i++) {
		g_assert_null(module->descriptor->settings[i].default_value);
		g_assert_cmpuint(module->descriptor->settings[i].offset, ==, 0);
	}
	plugin_module_unload(module);
	g_free(path);
}

static void mark_loaded(void *arg)
{
	*(int *)arg = 1;
}

/* A signed ABI the host cannot load, or a signed kind other than the configured one, is
 * refused from the signature, before any of the plugin's code is loaded. */
static void test_refuses_before_loading(struct fixture *f, gconstpointer data)
{
	char *major = signed_fixture(f, "fixture-bad-major", "fixture-transport");
	char *stage = signed_fixture(f, "fixture-stage", "fixture-stage");
	int loaded = 0;
	struct loader_options options = { .after_verify = mark_loaded, .arg = &loaded };
	struct plugin_module *module = NULL;

	g_assert_cmpint(
		load(f, major, "fixture-transport", QUORUM_PLUGIN_TRANSPORT, &options, &module),
		==, -EPROTO);
	g_assert_nonnull(strstr(f->why, "the major versions differ"));
	g_assert_cmpint(
		load(f, stage, "fixture-stage", QUORUM_PLUGIN_TRANSPORT, &options, &module), ==,
		-EINVAL);
	g_assert_nonnull(strstr(f->why, "plugin is a stage, configured as a transport"));
	g_assert_false(loaded);
	g_assert_null(module);
	g_free(stage);
	g_free(major);
}

/* The loaded descriptor must say what was signed; else the code is unloaded and refused. */
static void test_refuses_descriptor_other_than_signed(struct fixture *f, gconstpointer data)
{
	char *path = testutil_fixture(f->dir, "fixture-transport", "fixture-transport");
	struct plugin_statement st = transport_statement("2.0");
	int loaded = 0;
	struct loader_options options = { .after_verify = mark_loaded, .arg = &loaded };
	struct plugin_module *module = NULL;

	testutil_sign_statement(f->key, path, 2, &st);
	g_assert_cmpint(
		load(f, path, "fixture-transport", QUORUM_PLUGIN_TRANSPORT, &options, &module),
		==, -EBADMSG);
	g_assert_true(loaded); /* it took loading the code to see it */
	g_assert_null(module);
	g_assert_nonnull(strstr(f->why, "the descriptor says version 1.0, the signature "
					"version 2.0"));
	st = transport_statement("1.0");
	st.abi_minor = 0;
	testutil_sign_statement(f->key, path, 2, &st);
	g_assert_cmpint(
		load(f, path, "fixture-transport", QUORUM_PLUGIN_TRANSPORT, NULL, &module), ==,
		-EBADMSG);
	g_assert_nonnull(strstr(f->why, "the signature ABI 1.0"));
	g_free(path);
}

/* Rollback: a version below the floor is refused from its signature, before loading; with
 * a legacy signature (allowed), from its descriptor, once loaded. */
static void test_refuses_rollback(struct fixture *f, gconstpointer data)
{
	char *path = signed_fixture(f, "fixture-transport", "fixture-transport");
	struct plugin_floors floors;
	struct plugin_policy policy = { .trusted = &f->ring,
					.service_uid = geteuid(),
					.check_paths = 1,
					.floors = &floors };
	struct plugin_statement st = transport_statement("1.0");
	int loaded = 0;
	struct loader_options options = { .after_verify = mark_loaded, .arg = &loaded };
	struct plugin_module *module = NULL;

	g_assert_cmpint(plugin_floors_open(&floors, NULL, 1, geteuid(), getegid(), f->why,
					   sizeof(f->why)),
			==, 0);
	g_assert_cmpint(plugin_load(path, "fixture-transport", QUORUM_PLUGIN_TRANSPORT, &policy,
				    NULL, &module, f->why, sizeof(f->why)),
			==, 0);
	plugin_module_unload(module);
	module = NULL;
	g_assert_cmpint(
		plugin_floor_raise(&floors, "fixture-transport", "2.0", f->why, sizeof(f->why)),
		==, 1);
	g_assert_cmpint(plugin_load(path, "fixture-transport", QUORUM_PLUGIN_TRANSPORT, &policy,
				    &options, &module, f->why, sizeof(f->why)),
			==, -ESTALE);
	g_assert_false(loaded);
	g_assert_nonnull(strstr(f->why, "plugin 'fixture-transport' refused: version 1.0 is "
					"older than 2.0"));
	testutil_sign_statement(f->key, path, 1, &st);
	policy.allow_legacy = 1;
	g_assert_cmpint(plugin_load(path, "fixture-transport", QUORUM_PLUGIN_TRANSPORT, &policy,
				    &options, &module, f->why, sizeof(f->why)),
			==, -ESTALE);
	g_assert_true(loaded);
	g_assert_null(module);
	g_assert_nonnull(strstr(f->why, "version 1.0 is older than 2.0"));
	plugin_floors_release(&floors);
	g_free(path);
}

/* A format-1 signature is refused unless allowed; allowed, the plugin loads. */
static void test_legacy_signature(struct fixture *f, gconstpointer data)
{
	char *path = testutil_fixture(f->dir, "fixture-transport", "fixture-transport");
	struct plugin_statement st = transport_statement("1.0");
	struct plugin_module *module = NULL;

	testutil_sign_statement(f->key, path, 1, &st);
	assert_refused(f, path, "fixture-transport", QUORUM_PLUGIN_TRANSPORT, -EPERM,
		       "legacy format 1");
	g_assert_nonnull(strstr(f->why, "allow_legacy_signatures = true"));
	g_assert_cmpint(load_with(f, path, "fixture-transport", QUORUM_PLUGIN_TRANSPORT, 1,
				  NULL, &module),
			==, 0);
	g_assert_cmpuint(module->sig_format, ==, 1);
	g_assert_cmpstr(module->descriptor->version, ==, "1.0");
	plugin_module_unload(module);
	g_free(path);
}

static void test_refuses_group_writable(struct fixture *f, gconstpointer data)
{
	char *path = signed_fixture(f, "fixture-transport", "fixture-transport");

	g_assert_cmpint(chmod(path, 0664), ==, 0);
	assert_refused(f, path, "fixture-transport", QUORUM_PLUGIN_TRANSPORT, -EPERM,
		       "writable by group or others (mode 0664)");
	g_assert_cmpint(chmod(path, 0646), ==, 0);
	assert_refused(f, path, "fixture-transport", QUORUM_PLUGIN_TRANSPORT, -EPERM,
		       "writable by group or others (mode 0646)");
	g_free(path);
}

static void test_refuses_writable_signature(struct fixture *f, gconstpointer data)
{
	char *path = signed_fixture(f, "fixture-transport", "fixture-transport");
	char *sig = g_strdup_printf("%s.sig", path);

	g_assert_cmpint(chmod(sig, 0666), ==, 0);
	assert_refused(f, path, "fixture-transport", QUORUM_PLUGIN_TRANSPORT, -EPERM,
		       ".sig is writable by group or others");
	g_free(sig);
	g_free(path);
}

/* StrictModes: the plugin, its signature and their folders belong to root or the service
 * user and are writable by nobody else. */
static void test_refuses_plugin_of_another_user(struct fixture *f, gconstpointer data)
{
	char *path = signed_fixture(f, "fixture-transport", "fixture-transport");
	char *sig = g_strdup_printf("%s.sig", path);

	if (geteuid() != 0) {
		g_test_skip("needs root to give a file to another user");
		goto out_free;
	}
	g_assert_cmpint(chown(path, 65534, 65534), ==, 0);
	assert_refused(f, path, "fixture-transport", QUORUM_PLUGIN_TRANSPORT, -EPERM,
		       "fixture-transport.so is owned by uid 65534, not by root or the service "
		       "user (uid 0)");
	g_assert_cmpint(chown(path, 0, 0), ==, 0);
	g_assert_cmpint(chown(sig, 65534, 65534), ==, 0);
	assert_refused(f, path, "fixture-transport", QUORUM_PLUGIN_TRANSPORT, -EPERM,
		       "fixture-transport.so.sig is owned by uid 65534");
out_free:
	g_free(sig);
	g_free(path);
}

static void test_refuses_writable_plugin_folder(struct fixture *f, gconstpointer data)
{
	char *path = signed_fixture(f, "fixture-transport", "fixture-transport");
	char *expected =
		g_strdup_printf("folder %s is writable by group or others (mode 0777)", f->dir);

	g_assert_cmpint(chmod(f->dir, 0777), ==, 0);
	assert_refused(f, path, "fixture-transport", QUORUM_PLUGIN_TRANSPORT, -EPERM, expected);
	g_assert_cmpint(chmod(f->dir, 0700), ==, 0);
	g_free(expected);
	g_free(path);
}

static void test_refuses_directory(struct fixture *f, gconstpointer data)
{
	char *path = testutil_path(f->dir, "fixture-transport.so");

	g_assert_cmpint(g_mkdir(path, 0755), ==, 0);
	assert_refused(f, path, "fixture-transport", QUORUM_PLUGIN_TRANSPORT, -EINVAL,
		       "is not a regular file");
	g_free(path);
}

static void test_refuses_fifo(struct fixture *f, gconstpointer data)
{
	char *path = testutil_path(f->dir, "fixture-transport.so");

	g_assert_cmpint(mkfifo(path, 0644), ==, 0);
	assert_refused(f, path, "fixture-transport", QUORUM_PLUGIN_TRANSPORT, -EINVAL,
		       "is not a regular file");
	g_free(path);
}

static void test_refuses_symlink(struct fixture *f, gconstpointer data)
{
	char *real = signed_fixture(f, "fixture-transport", "real");
	char *path = testutil_path(f->dir, "fixture-transport.so");

	g_assert_cmpint(symlink(real, path), ==, 0);
	assert_refused(f, path, "fixture-transport", QUORUM_PLUGIN_TRANSPORT, -ELOOP,
		       "symbolic link");
	g_free(path);
	g_free(real);
}

static void test_refuses_wrong_kind(struct fixture *f, gconstpointer data)
{
	char *path = signed_fixture(f, "fixture-stage", "fixture-stage");

	assert_refused(f, path, "fixture-stage", QUORUM_PLUGIN_TRANSPORT, -EINVAL,
		       "plugin is a stage, configured as a transport");
	g_free(path);
}

/* The file is replaced by another validly signed build of the same plugin right after
 * verification: the bytes verified (version 1.0) are what runs. */
struct swap {
	const char *path;
	const char *replacement;
	int done;
};

static void swap_file(void *arg)
{
	struct swap *swap = arg;

	g_assert_cmpint(g_rename(swap->replacement, swap->path), ==, 0);
	swap->done = 1;
}

static void test_loads_verified_bytes_not_replaced_file(struct fixture *f, gconstpointer data)
{
	char *path = signed_fixture(f, "fixture-transport", "fixture-transport");
	char *v2 = testutil_fixture(f->dir, "fixture-transport-v2", "v2");
	struct swap swap = { .path = path, .replacement = v2 };
	struct loader_options options = { .after_verify = swap_file, .arg = &swap };
	struct plugin_module *module = NULL;
	char *data_now;
	gsize len;

	g_assert_cmpint(
		load(f, path, "fixture-transport", QUORUM_PLUGIN_TRANSPORT, &options, &module),
		==, 0);
	g_assert_true(swap.done);
	/* The file on disk is now version 2.0 ... */
	g_assert_true(g_file_get_contents(path, &data_now, &len, NULL));
	g_assert_nonnull(memmem(data_now, len, "2.0", 4));
	g_free(data_now);
	/* ... but the code that was loaded is the verified 1.0. */
	g_assert_cmpstr(module->descriptor->version, ==, "1.0");
	plugin_module_unload(module);
	/* And the replaced file, its signature no longer matching, is refused. */
	assert_refused(f, path, "fixture-transport", QUORUM_PLUGIN_TRANSPORT, -EBADMSG,
		       "SHA-256");
	g_free(v2);
	g_free(path);
}

static void test_private_copy_fallback(struct fixture *f, gconstpointer data)
{
	char *path = signed_fixture(f, "fixture-transport", "fixture-transport");
	struct loader_options options = { .force_private_copy = 1 };
	struct plugin_module *module = NULL;
	char link[64], target[256];
	ssize_t n;

	g_setenv("TMPDIR", f->dir, TRUE);
	g_assert_cmpint(
		load(f, path, "fixture-transport", QUORUM_PLUGIN_TRANSPORT, &options, &module),
		==, 0);
	g_unsetenv("TMPDIR");
	g_assert_true(module->private_copy);
	g_assert_cmpstr(module->descriptor->name, ==, "fixture-transport");
	/* The copy was unlinked at once: only our descriptor reaches it. */
	snprintf(link, sizeof(link), "/proc/self/fd/%d", module->fd);
	n = readlink(link, target, sizeof(target) - 1);
	g_assert_cmpint(n, >, 0);
	target[n] = '\0';
	g_assert_nonnull(strstr(target, "(deleted)"));
	plugin_module_unload(module);
	g_free(path);
}

/* Two loads of one plugin are two independent copies (no shared globals, no stale handle
 * after an unload and a reused fd number). */
static void test_independent_loads(struct fixture *f, gconstpointer data)
{
	char *path = signed_fixture(f, "fixture-transport", "fixture-transport");
	struct plugin_module *a = NULL, *b = NULL, *c = NULL;

	g_assert_cmpint(load(f, path, "fixture-transport", QUORUM_PLUGIN_TRANSPORT, NULL, &a),
			==, 0);
	g_assert_cmpint(load(f, path, "fixture-transport", QUORUM_PLUGIN_TRANSPORT, NULL, &b),
			==, 0);
	g_assert_true(a->descriptor != b->descriptor);
	plugin_module_unload(a);
	g_assert_cmpint(load(f, path, "fixture-transport", QUORUM_PLUGIN_TRANSPORT, NULL, &c),
			==, 0);
	g_assert_true(c->descriptor != b->descriptor);
	plugin_module_unload(b);
	plugin_module_unload(c);
	g_free(path);
}

/* A plugin linked with -z nodelete stays loaded after its unload, under the name it was
 * opened by: that descriptor number stays taken, and the next load runs its own code. */
static void test_nodelete_reload_runs_new_code(struct fixture *f, gconstpointer data)
{
	char *v1 = signed_fixture(f, "fixture-nodelete", "fixture-transport");
	char *v2 = testutil_fixture(f->dir, "fixture-nodelete-v2", "v2");
	struct plugin_module *module = NULL;
	int fd;

	testutil_sign(f->key, v2, "fixture-transport");
	g_assert_cmpint(
		load(f, v1, "fixture-transport", QUORUM_PLUGIN_TRANSPORT, NULL, &module), ==,
		0);
	g_assert_cmpstr(module->descriptor->version, ==, "1.0");
	fd = module->fd;
	plugin_module_unload(module);
	g_assert_cmpint(fcntl(fd, F_GETFD), !=, -1); /* kept: the object is still there */
	g_assert_cmpint(
		load(f, v2, "fixture-transport", QUORUM_PLUGIN_TRANSPORT, NULL, &module), ==,
		0);
	g_assert_cmpint(module->fd, !=, fd);
	g_assert_cmpstr(module->descriptor->version, ==, "2.0");
	plugin_module_unload(module);
	g_free(v2);
	g_free(v1);
}

/* Should an object be loaded under the name of the memfd's descriptor number anyway, the
 * loader sees that the code it got is not the image it verified, and refuses it. */
static void test_refuses_object_left_under_the_name(struct fixture *f, gconstpointer data)
{
	char *path = signed_fixture(f, "fixture-transport", "fixture-transport");
	char *other = testutil_fixture(f->dir, "fixture-transport-v2", "other");
	char proc_path[64];
	struct plugin_module *module = NULL;
	void *stale;
	int fd = open(other, O_RDONLY | O_CLOEXEC);

	/* What the host's loader did before: dlopen by /proc/self/fd/N, then N closed. */
	g_assert_cmpint(fd, >=, 0);
	snprintf(proc_path, sizeof(proc_path), "/proc/self/fd/%d", fd);
	stale = dlopen(proc_path, RTLD_NOW | RTLD_LOCAL);
	g_assert_nonnull(stale);
	g_assert_cmpint(close(fd), ==, 0);
	/* The next memfd takes the lowest free number: N. */
	g_assert_cmpint(
		load(f, path, "fixture-transport", QUORUM_PLUGIN_TRANSPORT, NULL, &module), ==,
		-ENOEXEC);
	g_assert_null(module);
	if (strstr(f->why, "is not the verified image") == NULL)
		g_error("%s", f->why);
	g_assert_nonnull(strstr(f->why, proc_path));
	dlclose(stale);
	g_free(other);
	g_free(path);
}

static int fake_init(struct quorum_host *host, const struct quorum_api *api, void **state)
{
	(void)host;
	(void)api;
	*state = NULL;
	return 0;
}

static void fake_fini(void *state)
{
	(void)state;
}

static int fake_refresh(void *state)
{
	(void)state;
	return 0;
}

/* ABI 1.10: a transport's ops may carry refresh; the slots still reserved must stay NULL. */
static void test_transport_refresh_slot(void)
{
	static const struct quorum_setting none[] = { { .type = QUORUM_SETTING_END } };
	struct quorum_transport_ops ops = { .size = sizeof(ops), .refresh = fake_refresh };
	struct quorum_plugin d = {
		QUORUM_PLUGIN_HEADER(QUORUM_PLUGIN_TRANSPORT, "t", "1.0", QUORUM_ROLE_NONE),
		.settings = none,
		.init = fake_init,
		.fini = fake_fini,
		.ops = &ops,
	};
	char why[256] = "";

	g_assert_cmpint(
		plugin_descriptor_check(&d, "t", QUORUM_PLUGIN_TRANSPORT, why, sizeof(why)), ==,
		0);
	ops.reserved[0] = &ops;
	g_assert_cmpint(
		plugin_descriptor_check(&d, "t", QUORUM_PLUGIN_TRANSPORT, why, sizeof(why)), ==,
		-EINVAL);
	g_assert_nonnull(strstr(why, "reserved slots"));
}

struct fake_settings {
	int64_t limit;
};

/* ABI 1.12: settings_size and a schema's defaults and bindings are accepted from a 1.12
 * plugin, checked against the struct, and refused from an older one (reserved slots). */
static void test_settings_binding_slots(void)
{
	static const struct quorum_setting bound[] = {
		QUORUM_SETTING_INT_AT("limit", struct fake_settings, limit, 1, 10, "5",
				      "limit"),
		{ .type = QUORUM_SETTING_END },
	};
	static const struct quorum_setting child_default[] = {
		{ .name = "x", .type = QUORUM_SETTING_INT, .default_value = "1" },
		{ .type = QUORUM_SETTING_END },
	};
	static const struct quorum_setting nested[] = {
		{ .name = "g", .type = QUORUM_SETTING_GROUP, .children = child_default },
		{ .type = QUORUM_SETTING_END },
	};
	struct quorum_plugin d = {
		QUORUM_PLUGIN_HEADER(QUORUM_PLUGIN_TRANSPORT, "t", "1.0", QUORUM_ROLE_NONE),
		.settings = bound,
		.settings_size = sizeof(struct fake_settings),
		.init = fake_init,
		.fini = fake_fini,
	};
	char why[256] = "";

	g_assert_cmpint(
		plugin_descriptor_check(&d, "t", QUORUM_PLUGIN_TRANSPORT, why, sizeof(why)), ==,
		0);
	d.settings_size = sizeof(int32_t); /* too small for the int64_t bound at offset 0 */
	g_assert_cmpint(
		plugin_descriptor_check(&d, "t", QUORUM_PLUGIN_TRANSPORT, why, sizeof(why)), ==,
		-EINVAL);
	g_assert_nonnull(strstr(why, "bad settings schema: setting 'limit' is bound"));
	d.settings_size = sizeof(struct fake_settings);
	d.abi_minor = 11;
	g_assert_cmpint(
		plugin_descriptor_check(&d, "t", QUORUM_PLUGIN_TRANSPORT, why, sizeof(why)), ==,
		-EPROTO);
	g_assert_nonnull(strstr(why, "reserved slots unknown to ABI 1.11"));
	d.settings = nested; /* a default deep in an older plugin's schema */
	d.settings_size = 0;
	g_assert_cmpint(
		plugin_descriptor_check(&d, "t", QUORUM_PLUGIN_TRANSPORT, why, sizeof(why)), ==,
		-EPROTO);
	d.abi_minor = QUORUM_ABI_MINOR;
	g_assert_cmpint(
		plugin_descriptor_check(&d, "t", QUORUM_PLUGIN_TRANSPORT, why, sizeof(why)), ==,
		0);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/loader/descriptor/transport-refresh-slot",
			test_transport_refresh_slot);
	g_test_add_func("/loader/descriptor/settings-binding-slots",
			test_settings_binding_slots);
#define ADD(path, fn) g_test_add(path, struct fixture, NULL, setup, fn, teardown)
	ADD("/loader/loads-signed-plugin-from-sealed-memfd", test_loads_signed_plugin);
	ADD("/loader/refuses/unsigned-plugin", test_refuses_unsigned);
	ADD("/loader/refuses/flipped-bit-in-so", test_refuses_flipped_bit_in_so);
	ADD("/loader/refuses/flipped-bit-anywhere-in-sig", test_refuses_flipped_bit_in_sig);
	ADD("/loader/refuses/signature-for-another-name",
	    test_refuses_signature_for_other_name);
	ADD("/loader/refuses/key-not-trusted", test_refuses_untrusted_key);
	ADD("/loader/refuses/abi-magic-mismatch", test_refuses_bad_magic);
	ADD("/loader/refuses/abi-other-major", test_refuses_other_major);
	ADD("/loader/refuses/abi-newer-minor", test_refuses_newer_minor);
	ADD("/loader/refuses/writable-by-group-or-others", test_refuses_group_writable);
	ADD("/loader/refuses/writable-signature", test_refuses_writable_signature);
	ADD("/loader/refuses/plugin-or-signature-of-another-user",
	    test_refuses_plugin_of_another_user);
	ADD("/loader/refuses/plugin-folder-writable-by-others",
	    test_refuses_writable_plugin_folder);
	ADD("/loader/refuses/not-regular-file/directory", test_refuses_directory);
	ADD("/loader/refuses/not-regular-file/fifo", test_refuses_fifo);
	ADD("/loader/refuses/symlink", test_refuses_symlink);
	ADD("/loader/refuses/wrong-kind", test_refuses_wrong_kind);
	ADD("/loader/refuses/before-loading/signed-abi-or-kind", test_refuses_before_loading);
	ADD("/loader/refuses/descriptor-other-than-signed",
	    test_refuses_descriptor_other_than_signed);
	ADD("/loader/refuses/legacy-signature-unless-allowed", test_legacy_signature);
	ADD("/loader/refuses/rollback-below-the-version-floor", test_refuses_rollback);
	ADD("/loader/loads-verified-bytes-when-file-replaced-after-verification",
	    test_loads_verified_bytes_not_replaced_file);
	ADD("/loader/private-copy-fallback-for-noexec-memfd", test_private_copy_fallback);
	ADD("/loader/loads-are-independent-copies", test_independent_loads);
	ADD("/loader/loads-plugin-of-older-minor-abi", test_loads_older_minor);
	ADD("/loader/nodelete-plugin-reload-runs-the-new-code",
	    test_nodelete_reload_runs_new_code);
	ADD("/loader/refuses/object-left-loaded-under-the-memfd-name",
	    test_refuses_object_left_under_the_name);
	return g_test_run();
}
