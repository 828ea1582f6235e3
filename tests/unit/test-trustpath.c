/* test-trustpath.c -- StrictModes for trust material: every way a file or a folder on its
 * path can be changed by someone other than root or the service user is refused by name. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "testutil.h"
#include "trustpath-internal.h"
#include "util-internal.h"

#define NOBODY 65534u

struct fixture {
	char *dir;  /* a fresh 0700 folder (under /tmp: a sticky ancestor) */
	char *file; /* dir/trust.pub, 0644 */
	uid_t uid;  /* the service user: ours */
	char why[ERRBUF_SIZE];
};

static void setup(struct fixture *f, gconstpointer data)
{
	f->dir = testutil_scratch_new();
	f->file = testutil_write(f->dir, "trust.pub", "key\n", 0644);
	f->uid = geteuid();
}

static void teardown(struct fixture *f, gconstpointer data)
{
	g_free(f->file);
	testutil_scratch_free(f->dir);
}

static int check(struct fixture *f, const char *path, unsigned flags)
{
	f->why[0] = '\0';
	return trust_path_check(path, f->uid, flags, f->why, sizeof(f->why));
}

static void assert_refused(struct fixture *f, const char *path, unsigned flags, int expected,
			   const char *fragment)
{
	int err = check(f, path, flags);

	if (err != expected || strstr(f->why, fragment) == NULL)
		g_error("%s: expected %d with \"%s\", got %d: %s", path, expected, fragment,
			err, f->why);
}

/* chown needs root; the ownership tests are skipped otherwise. */
static int can_chown(void)
{
	if (geteuid() == 0)
		return 1;
	g_test_skip("needs root to give a file to another user");
	return 0;
}

static void test_accepts_private_folder(struct fixture *f, gconstpointer data)
{
	g_assert_cmpint(check(f, f->file, 0), ==, 0);
	g_assert_cmpint(check(f, f->dir, TRUST_PATH_DIRECTORY), ==, 0);
}

static void test_refuses_writable_file(struct fixture *f, gconstpointer data)
{
	char *expected =
		g_strdup_printf("%s is writable by group or others (mode 0664)", f->file);

	g_assert_cmpint(chmod(f->file, 0664), ==, 0);
	assert_refused(f, f->file, 0, -EPERM, expected);
	g_assert_cmpint(chmod(f->file, 0646), ==, 0);
	assert_refused(f, f->file, 0, -EPERM, "(mode 0646)");
	g_free(expected);
}

static void test_refuses_writable_folder_on_the_way(struct fixture *f, gconstpointer data)
{
	char *sub = testutil_path(f->dir, "conf");
	char *file, *expected;

	g_assert_cmpint(g_mkdir(sub, 0755), ==, 0);
	file = testutil_write(sub, "quorum.conf", "x", 0644);
	g_assert_cmpint(check(f, file, 0), ==, 0);
	g_assert_cmpint(chmod(sub, 0777), ==, 0);
	expected = g_strdup_printf("folder %s is writable by group or others (mode 0777)", sub);
	assert_refused(f, file, 0, -EPERM, expected);
	g_assert_cmpint(chmod(sub, 0775), ==, 0);
	assert_refused(f, file, 0, -EPERM, "(mode 0775)");
	/* The folder itself, as plugin_dir: refused too. */
	g_free(expected);
	expected = g_strdup_printf("%s is writable by group or others (mode 0775)", sub);
	assert_refused(f, sub, TRUST_PATH_DIRECTORY, -EPERM, expected);
	g_free(expected);
	g_free(file);
	g_free(sub);
}

/* A sticky folder like /tmp may be on the way, but a sticky folder is not trusted itself. */
static void test_sticky_folder_on_the_way(struct fixture *f, gconstpointer data)
{
	char *sub = testutil_path(f->dir, "tmp");
	char *file;

	g_assert_cmpint(g_mkdir(sub, 0755), ==, 0);
	g_assert_cmpint(chmod(sub, 01777), ==, 0);
	file = testutil_write(sub, "node.pub", "x", 0644);
	g_assert_cmpint(check(f, file, 0), ==, 0);
	assert_refused(f, sub, TRUST_PATH_DIRECTORY, -EPERM, "(mode 1777)");
	g_free(file);
	g_free(sub);
}

static void test_refuses_file_of_another_user(struct fixture *f, gconstpointer data)
{
	char *expected;

	if (!can_chown())
		return;
	g_assert_cmpint(chown(f->file, NOBODY, NOBODY), ==, 0);
	expected = g_strdup_printf("file %s is owned by uid %u, not by root or the service "
				   "user (uid %u)",
				   f->file, NOBODY, (unsigned)f->uid);
	assert_refused(f, f->file, 0, -EPERM, expected);
	/* That user is the service user: accepted. */
	g_assert_cmpint(trust_path_check(f->file, NOBODY, 0, f->why, sizeof(f->why)), ==, 0);
	g_free(expected);
}

static void test_refuses_folder_of_another_user(struct fixture *f, gconstpointer data)
{
	char *sub = testutil_path(f->dir, "plugins"), *file, *expected;

	if (!can_chown()) {
		g_free(sub);
		return;
	}
	g_assert_cmpint(g_mkdir(sub, 0755), ==, 0);
	file = testutil_write(sub, "rest.so", "x", 0644);
	g_assert_cmpint(chown(sub, NOBODY, NOBODY), ==, 0);
	expected = g_strdup_printf("folder %s is owned by uid %u", sub, NOBODY);
	assert_refused(f, file, 0, -EPERM, expected);
	g_free(expected);
	g_free(file);
	g_free(sub);
}

static void test_private_file(struct fixture *f, gconstpointer data)
{
	g_assert_cmpint(chmod(f->file, 0600), ==, 0);
	g_assert_cmpint(check(f, f->file, TRUST_PATH_PRIVATE), ==, 0);
	g_assert_cmpint(chmod(f->file, 0640), ==, 0);
	assert_refused(f, f->file, TRUST_PATH_PRIVATE, -EPERM, "(mode 0640); it must be 0600");
	g_assert_cmpint(chmod(f->file, 0604), ==, 0);
	assert_refused(f, f->file, TRUST_PATH_PRIVATE, -EPERM, "(mode 0604)");
}

/* A link is followed, and both the folder holding it and everything on the way to its
 * target are checked. */
static void test_links_checked_on_both_sides(struct fixture *f, gconstpointer data)
{
	char *open_dir = testutil_path(f->dir, "open"), *safe = testutil_path(f->dir, "safe");
	char *target, *link_in_safe, *link_in_open, *expected;

	g_assert_cmpint(g_mkdir(open_dir, 0755), ==, 0);
	g_assert_cmpint(g_mkdir(safe, 0755), ==, 0);
	target = testutil_write(open_dir, "key.pub", "x", 0644);
	link_in_safe = testutil_path(safe, "key.pub");
	link_in_open = testutil_path(open_dir, "link.pub");
	g_assert_cmpint(symlink(target, link_in_safe), ==, 0);
	g_assert_cmpint(symlink("key.pub", link_in_open), ==, 0); /* relative */
	g_assert_cmpint(check(f, link_in_safe, 0), ==, 0);
	g_assert_cmpint(check(f, link_in_open, 0), ==, 0);

	g_assert_cmpint(chmod(open_dir, 0777), ==, 0);
	expected = g_strdup_printf("folder %s is writable by group or others", open_dir);
	assert_refused(f, link_in_safe, 0, -EPERM, expected); /* the target's folder */
	assert_refused(f, link_in_open, 0, -EPERM, expected); /* the link's folder */
	/* A link to a folder on the way. */
	g_assert_cmpint(chmod(open_dir, 0755), ==, 0);
	g_free(link_in_safe);
	link_in_safe = testutil_path(safe, "dirlink");
	g_assert_cmpint(symlink("../open", link_in_safe), ==, 0);
	g_free(target);
	target = g_strdup_printf("%s/key.pub", link_in_safe);
	g_assert_cmpint(check(f, target, 0), ==, 0);
	g_assert_cmpint(chmod(open_dir, 0757), ==, 0);
	assert_refused(f, target, 0, -EPERM, expected);
	g_free(expected);
	g_free(target);
	g_free(link_in_open);
	g_free(link_in_safe);
	g_free(safe);
	g_free(open_dir);
}

static void test_dot_dot_checks_the_folder_reached(struct fixture *f, gconstpointer data)
{
	char *sub = testutil_path(f->dir, "a"), *path, *expected;

	g_assert_cmpint(g_mkdir(sub, 0755), ==, 0);
	path = g_strdup_printf("%s/../trust.pub", sub);
	g_assert_cmpint(check(f, path, 0), ==, 0);
	g_assert_cmpint(chmod(f->dir, 0777), ==, 0);
	expected = g_strdup_printf("folder %s is writable", f->dir);
	assert_refused(f, path, 0, -EPERM, expected);
	g_assert_cmpint(chmod(f->dir, 0700), ==, 0);
	g_free(expected);
	g_free(path);
	g_free(sub);
}

static void test_refuses_missing_wrong_type_and_loops(struct fixture *f, gconstpointer data)
{
	char *missing = testutil_path(f->dir, "absent.pub"), *expected;
	char *loop = testutil_path(f->dir, "loop"), *fifo = testutil_path(f->dir, "fifo");

	expected = g_strdup_printf("cannot open %s: No such file or directory", missing);
	assert_refused(f, missing, 0, -ENOENT, expected);
	assert_refused(f, f->dir, 0, -EINVAL, "is not a regular file");
	assert_refused(f, f->file, TRUST_PATH_DIRECTORY, -ENOTDIR, "is not a folder");
	g_assert_cmpint(mkfifo(fifo, 0644), ==, 0);
	assert_refused(f, fifo, 0, -EINVAL, "is not a regular file");
	g_assert_cmpint(symlink("loop", loop), ==, 0);
	assert_refused(f, loop, 0, -ELOOP, "too many symbolic links");
	assert_refused(f, "relative/quorum.conf", 0, -EINVAL, "is not an absolute path");
	g_free(expected);
	g_free(fifo);
	g_free(loop);
	g_free(missing);
}

static void test_service_uid(void)
{
	char why[ERRBUF_SIZE];
	uid_t uid = 12345;

	g_assert_cmpint(trust_service_uid(NULL, &uid, why, sizeof(why)), ==, 0);
	g_assert_cmpuint(uid, ==, geteuid());
	g_assert_cmpint(trust_service_uid("root", &uid, why, sizeof(why)), ==, 0);
	g_assert_cmpuint(uid, ==, 0);
	g_assert_cmpint(trust_service_uid("no-such-user-here", &uid, why, sizeof(why)), ==,
			-ENOENT);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
#define ADD(path, fn) g_test_add(path, struct fixture, NULL, setup, fn, teardown)
	ADD("/trustpath/accepts-a-private-folder", test_accepts_private_folder);
	ADD("/trustpath/refuses/file-writable-by-group-or-others", test_refuses_writable_file);
	ADD("/trustpath/refuses/folder-on-the-way-writable-by-others",
	    test_refuses_writable_folder_on_the_way);
	ADD("/trustpath/sticky-folder-accepted-on-the-way-only", test_sticky_folder_on_the_way);
	ADD("/trustpath/refuses/file-of-another-user", test_refuses_file_of_another_user);
	ADD("/trustpath/refuses/folder-of-another-user", test_refuses_folder_of_another_user);
	ADD("/trustpath/private-file-not-accessible-by-others", test_private_file);
	ADD("/trustpath/links-checked-on-both-sides", test_links_checked_on_both_sides);
	ADD("/trustpath/dot-dot-checks-the-folder-reached",
	    test_dot_dot_checks_the_folder_reached);
	ADD("/trustpath/refuses/missing-wrong-type-and-loops",
	    test_refuses_missing_wrong_type_and_loops);
	g_test_add_func("/trustpath/service-uid", test_service_uid);
	return g_test_run();
}
