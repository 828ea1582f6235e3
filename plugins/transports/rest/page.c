/* page.c -- the REST transport's status page files: read once, whole and bounded, from
 * the page folder (installed with the plugin), then served from memory; all or none. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "page.h"

static const struct {
	const char *name, *type;
} page_files[REST_PAGE_FILES] = {
	{ "index.html", "text/html; charset=utf-8" },
	{ "status.js", "text/javascript; charset=utf-8" },
	{ "status.css", "text/css; charset=utf-8" },
	{ "favicon.svg", "image/svg+xml" }, /* else the browser asks for /favicon.ico */
};

/* Reads PATH whole into FILE. 0 or -errno with WHY. */
static int file_read(struct rest_page_file *file, const char *path, char *why, size_t why_size)
{
	struct stat st;
	FILE *in = fopen(path, "rb");
	int err = 0;

	if (in == NULL) {
		err = -errno;
		snprintf(why, why_size, "%s: %s", path, strerror(-err));
		return err;
	}
	if (fstat(fileno(in), &st) != 0) {
		err = -errno;
		snprintf(why, why_size, "%s: %s", path, strerror(-err));
		goto out_close;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > REST_PAGE_FILE_MAX) {
		err = S_ISREG(st.st_mode) ? -EFBIG : -EINVAL;
		snprintf(why, why_size, "%s: %s", path,
			 err == -EFBIG ? "larger than the 256 KiB a page file may be"
				       : "not a regular file");
		goto out_close;
	}
	file->body = malloc((size_t)st.st_size + 1);
	if (file->body == NULL) {
		err = -ENOMEM;
		snprintf(why, why_size, "%s: out of memory", path);
		goto out_close;
	}
	file->len = fread(file->body, 1, (size_t)st.st_size, in);
	if (file->len != (size_t)st.st_size || ferror(in)) {
		err = -EIO;
		snprintf(why, why_size, "%s: short read (%zu of %lld bytes)", path, file->len,
			 (long long)st.st_size);
		goto out_close;
	}
	file->body[file->len] = '\0';
out_close:
	fclose(in);
	return err;
}

int rest_page_load(struct rest_page *page, const char *dir, char *why, size_t why_size)
{
	memset(page, 0, sizeof(*page));
	for (size_t i = 0; i < REST_PAGE_FILES; i++) {
		struct rest_page_file *f = &page->files[i];
		char path[4096];
		int err;

		f->name = page_files[i].name;
		f->type = page_files[i].type;
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, f->name) >=
		    sizeof(path)) {
			snprintf(why, why_size, "%s: page folder name too long", dir);
			rest_page_release(page);
			return -ENAMETOOLONG;
		}
		err = file_read(f, path, why, why_size);
		if (err != 0) {
			rest_page_release(page); /* never half a page */
			return err;
		}
	}
	return 0;
}

static int page_index(const char *path)
{
	if (strcmp(path, "/") == 0 || strcmp(path, "/index.html") == 0)
		return 0;
	for (int i = 1; i < REST_PAGE_FILES; i++) {
		if (path[0] == '/' && strcmp(path + 1, page_files[i].name) == 0)
			return i;
	}
	return -1;
}

int rest_page_is_path(const char *path)
{
	return page_index(path) >= 0;
}

const struct rest_page_file *rest_page_find(const struct rest_page *page, const char *path)
{
	int i = page_index(path);

	return i < 0 || page->files[i].body == NULL ? NULL : &page->files[i];
}

void rest_page_release(struct rest_page *page)
{
	for (size_t i = 0; i < REST_PAGE_FILES; i++) {
		free(page->files[i].body);
		page->files[i].body = NULL;
	}
}
