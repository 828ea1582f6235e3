/* test-floor.c -- plugin version floors: a version below the highest loaded is refused,
 * the floors survive a restart in the state folder, and only the operator lowers them. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "plugin-floor-internal.h"
#include "testutil.h"
#include "util-internal.h"

struct fixture {
	char *dir;   /* the node's state folder (not created yet) */
	char *floor; /* dir/plugin-floors */
	struct plugin_floors floors;
	char why[ERRBUF_SIZE];
};

static void setup(struct fixture *f, gconstpointer data)
{
	char *scratch = testutil_scratch_new();

	f->dir = testutil_path(scratch, "state");
	f->floor = testutil_path(f->dir, PLUGIN_FLOORS_DIR);
	g_free(scratch);
	memset(&f->floors, 0, sizeof(f->floors));
}

static void teardown(struct fixture *f, gconstpointer data)
{
	char *scratch = g_path_get_dirname(f->dir);

	plugin_floors_release(&f->floors);
	testutil_scratch_free(scratch);
	g_free(f->floor);
	g_free(f->dir);
}

static void open_floors(struct fixture *f, const char *state_dir, int create)
{
	plugin_floors_release(&f->floors);
	if (plugin_floors_open(&f->floors, state_dir, create, geteuid(), getegid(), f->why,
			       sizeof(f->why)) != 0)
		g_error("%s", f->why);
}

static int check(struct fixture *f, const char *version)
{
	f->why[0] = '\0';
	return plugin_floor_check(&f->floors, "rest", version, f->why, sizeof(f->why));
}

static int raise_to(struct fixture *f, const char *version)
{
	return plugin_floor_raise(&f->floors, "rest", version, f->why, sizeof(f->why));
}

/* The rules, the same with or without a state folder. */
static void assert_floor_rules(struct fixture *f)
{
	g_assert_cmpint(check(f, "1.0"), ==, 0); /* no floor yet */
	g_assert_cmpint(raise_to(f, "2.0"), ==, 1);
	g_assert_cmpint(check(f, "1.0"), ==, -ESTALE);
	g_assert_nonnull(strstr(f->why, "version 1.0 is older than 2.0, the highest version of "
					"'rest' this node has loaded"));
	g_assert_nonnull(strstr(f->why, "--set-plugin-floor rest=1.0"));
	g_assert_cmpint(check(f, "1.99.99"), ==, -ESTALE);
	g_assert_cmpint(check(f, "2"), ==, 0); /* 2 == 2.0 */
	g_assert_cmpint(check(f, "2.0.1"), ==, 0);
	g_assert_cmpint(check(f, "10.0"), ==, 0);
	g_assert_cmpint(raise_to(f, "1.5"), ==, 0); /* never lowered by a load */
	g_assert_cmpint(check(f, "1.5"), ==, -ESTALE);
	g_assert_cmpint(raise_to(f, "2.10"), ==, 1);
	g_assert_cmpint(check(f, "2.9"), ==, -ESTALE);
	/* Another name has its own floor. */
	g_assert_cmpint(plugin_floor_check(&f->floors, "ws", "0.1", f->why, sizeof(f->why)), ==,
			0);
	/* A version that cannot be ordered is refused. */
	g_assert_cmpint(check(f, "3.0-rc1"), ==, -EINVAL);
	g_assert_cmpint(raise_to(f, "3.0-rc1"), ==, -EINVAL);
}

static void test_in_memory(struct fixture *f, gconstpointer data)
{
	open_floors(f, NULL, 1);
	assert_floor_rules(f);
	g_assert_false(g_file_test(f->dir, G_FILE_TEST_EXISTS));
}

static void test_persisted(struct fixture *f, gconstpointer data)
{
	char *path = testutil_path(f->floor, "rest"),
	     *tmp = testutil_path(f->floor, ".rest.tmp");
	char *text;
	struct stat st;

	open_floors(f, f->dir, 1);
	assert_floor_rules(f);
	/* One small file per name, replaced atomically, private. */
	g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
	g_assert_cmpstr(text, ==, "2.10\n");
	g_free(text);
	g_assert_cmpint(stat(path, &st), ==, 0);
	g_assert_cmpint(st.st_mode & 07777, ==, 0600);
	g_assert_false(g_file_test(tmp, G_FILE_TEST_EXISTS));
	/* A restart (here, reopening) keeps it. */
	open_floors(f, f->dir, 0);
	g_assert_cmpint(check(f, "2.9"), ==, -ESTALE);
	g_assert_cmpint(check(f, "2.10"), ==, 0);
	g_free(tmp);
	g_free(path);
}

/* The operator's command lowers the floor (or raises it); the next load obeys. */
static void test_operator_sets_floor(struct fixture *f, gconstpointer data)
{
	char previous[PLUGIN_VERSION_MAX + 1];

	open_floors(f, f->dir, 1);
	g_assert_cmpint(raise_to(f, "2.0"), ==, 1);
	g_assert_cmpint(
		plugin_floor_set(&f->floors, "rest", "1.0", previous, f->why, sizeof(f->why)),
		==, 0);
	g_assert_cmpstr(previous, ==, "2.0");
	g_assert_cmpint(check(f, "1.0"), ==, 0);
	g_assert_cmpint(check(f, "0.9"), ==, -ESTALE);
	g_assert_cmpint(
		plugin_floor_set(&f->floors, "ws", "1.0", previous, f->why, sizeof(f->why)), ==,
		0);
	g_assert_cmpstr(previous, ==, "");
	g_assert_cmpint(plugin_floor_set(&f->floors, "rest", "1.0-rc1", previous, f->why,
					 sizeof(f->why)),
			==, -EINVAL);
	g_assert_cmpint(
		plugin_floor_set(&f->floors, "../x", "1.0", previous, f->why, sizeof(f->why)),
		==, -EINVAL);
}

/* --check-config reads the floors and creates nothing. */
static void test_check_creates_nothing(struct fixture *f, gconstpointer data)
{
	open_floors(f, f->dir, 0);
	g_assert_cmpint(check(f, "0.1"), ==, 0);
	g_assert_false(g_file_test(f->dir, G_FILE_TEST_EXISTS));
}

/* A floor file that holds no version fails closed, and the operator can repair it. */
static void test_corrupt_floor(struct fixture *f, gconstpointer data)
{
	char previous[PLUGIN_VERSION_MAX + 1];
	char *path;

	open_floors(f, f->dir, 1);
	path = testutil_write(f->floor, "rest", "2.0\ngarbage\n", 0600);
	g_assert_cmpint(check(f, "9.0"), ==, -EINVAL);
	g_assert_nonnull(strstr(f->why, "holds no version"));
	g_assert_cmpint(raise_to(f, "9.0"), ==, -EINVAL);
	g_free(testutil_write(f->floor, "rest", "", 0600));
	g_assert_cmpint(check(f, "9.0"), ==, -EINVAL);
	g_assert_cmpint(
		plugin_floor_set(&f->floors, "rest", "3.0", previous, f->why, sizeof(f->why)),
		==, 0);
	g_assert_cmpint(check(f, "2.0"), ==, -ESTALE);
	g_assert_cmpint(chmod(path, 0666), ==, 0); /* writable by others: refused */
	g_assert_cmpint(check(f, "3.0"), ==, -EPERM);
	g_free(path);
}

/* The floors folder is trust material: StrictModes. */
static void test_untrusted_folder(struct fixture *f, gconstpointer data)
{
	open_floors(f, f->dir, 1);
	g_assert_cmpint(chmod(f->floor, 0777), ==, 0);
	plugin_floors_release(&f->floors);
	g_assert_cmpint(plugin_floors_open(&f->floors, f->dir, 0, geteuid(), getegid(), f->why,
					   sizeof(f->why)),
			==, -EPERM);
	g_assert_nonnull(strstr(f->why, "writable by group or others"));
}

/* Started as root with a service user, the floors stay writable by that user. */
static void test_given_to_service_user(struct fixture *f, gconstpointer data)
{
	char *path = testutil_path(f->floor, "rest");
	struct stat st;

	if (geteuid() != 0) {
		g_test_skip("needs root");
		g_free(path);
		return;
	}
	g_assert_cmpint(
		plugin_floors_open(&f->floors, f->dir, 1, 65534, 65534, f->why, sizeof(f->why)),
		==, 0);
	g_assert_cmpint(raise_to(f, "1.0"), ==, 1);
	g_assert_cmpint(stat(f->floor, &st), ==, 0);
	g_assert_cmpuint(st.st_uid, ==, 65534);
	g_assert_cmpint(stat(path, &st), ==, 0);
	g_assert_cmpuint(st.st_uid, ==, 65534);
	g_free(path);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
#define ADD(path, fn) g_test_add(path, struct fixture, NULL, setup, fn, teardown)
	ADD("/floor/in-memory-without-state-folder", test_in_memory);
	ADD("/floor/persisted-in-state-folder", test_persisted);
	ADD("/floor/operator-lowers-or-raises-it", test_operator_sets_floor);
	ADD("/floor/check-config-creates-nothing", test_check_creates_nothing);
	ADD("/floor/corrupt-floor-fails-closed", test_corrupt_floor);
	ADD("/floor/refuses/untrusted-folder", test_untrusted_folder);
	ADD("/floor/given-to-the-service-user", test_given_to_service_user);
	return g_test_run();
}
