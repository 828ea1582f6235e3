/* test-page.c -- the status page's files: the page in the source tree loads whole, and a
 * folder missing a file, or holding one too large, loads nothing and names the file. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "page.h"

static void test_source_page_loads(void)
{
	struct rest_page page;
	const struct rest_page_file *f;
	char why[4200] = "";

	g_assert_cmpint(rest_page_load(&page, REST_PAGE_SRCDIR, why, sizeof(why)), ==, 0);
	f = rest_page_find(&page, "/");
	g_assert_nonnull(f);
	g_assert_cmpstr(f->type, ==, "text/html; charset=utf-8");
	g_assert_nonnull(strstr(f->body, "status.js"));
	g_assert_true(rest_page_find(&page, "/index.html") == f);
	f = rest_page_find(&page, "/status.js");
	g_assert_nonnull(f);
	g_assert_cmpuint(f->len, ==, strlen(f->body));
	g_assert_nonnull(rest_page_find(&page, "/status.css"));
	g_assert_cmpstr(rest_page_find(&page, "/favicon.svg")->type, ==, "image/svg+xml");
	/* only the page's own names: no folder walking, no other file */
	g_assert_null(rest_page_find(&page, "/../status.js"));
	g_assert_null(rest_page_find(&page, "/index.htm"));
	g_assert_null(rest_page_find(&page, "/v1/status"));
	g_assert_false(rest_page_is_path("/status.js/"));
	g_assert_true(rest_page_is_path("/status.css"));
	rest_page_release(&page);
	rest_page_release(&page); /* twice is fine */
}

static void write_file(const char *dir, const char *name, size_t size)
{
	char *path = g_build_filename(dir, name, NULL);
	char *body = g_malloc0(size + 1);

	memset(body, 'x', size);
	g_assert_true(g_file_set_contents(path, body, (gssize)size, NULL));
	g_free(body);
	g_free(path);
}

static void remove_files(const char *dir)
{
	const char *names[] = { "index.html", "status.js", "status.css", "favicon.svg" };

	for (size_t i = 0; i < G_N_ELEMENTS(names); i++) {
		char *path = g_build_filename(dir, names[i], NULL);

		g_unlink(path);
		g_free(path);
	}
	g_rmdir(dir);
}

static void test_missing_or_large_file_loads_nothing(void)
{
	char *dir = g_dir_make_tmp("test-page-XXXXXX", NULL);
	struct rest_page page;
	char why[4200] = "";

	g_assert_nonnull(dir);
	write_file(dir, "index.html", 10);
	write_file(dir, "status.js", 10);
	write_file(dir, "favicon.svg", 10);
	g_assert_cmpint(rest_page_load(&page, dir, why, sizeof(why)), ==, -ENOENT);
	g_assert_nonnull(strstr(why, "status.css"));
	/* never half a page: what was read before the failure is dropped */
	g_assert_null(rest_page_find(&page, "/"));
	rest_page_release(&page);
	write_file(dir, "status.css", REST_PAGE_FILE_MAX + 1);
	g_assert_cmpint(rest_page_load(&page, dir, why, sizeof(why)), ==, -EFBIG);
	g_assert_nonnull(strstr(why, "status.css"));
	g_assert_null(rest_page_find(&page, "/status.js"));
	rest_page_release(&page);
	write_file(dir, "status.css", REST_PAGE_FILE_MAX);
	g_assert_cmpint(rest_page_load(&page, dir, why, sizeof(why)), ==, 0);
	g_assert_cmpuint(rest_page_find(&page, "/status.css")->len, ==, REST_PAGE_FILE_MAX);
	rest_page_release(&page);
	remove_files(dir);
	g_free(dir);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/rest/page/source-tree-page-loads-and-serves-only-its-names",
			test_source_page_loads);
	g_test_add_func("/rest/page/missing-or-too-large-file-loads-nothing-naming-it",
			test_missing_or_large_file_loads_nothing);
	return g_test_run();
}
