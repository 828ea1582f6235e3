/* page.h -- the REST transport's status page: the HTML, CSS and JavaScript files served at
 * /, read once from the page folder when the plugin starts. They carry no data. */
#ifndef QUORUM_REST_PAGE_H
#define QUORUM_REST_PAGE_H

#include <stddef.h>

#define REST_PAGE_FILE_MAX (256 * 1024) /* the largest page file read */
#define REST_PAGE_FILES	   4

struct rest_page_file {
	const char *name; /* in the page folder: "index.html", "status.js", ... */
	const char *type; /* its Content-Type */
	char *body;	  /* NULL until loaded */
	size_t len;
};

struct rest_page {
	struct rest_page_file files[REST_PAGE_FILES];
};

/*
 * rest_page_load: reads every page file from DIR into PAGE (initialised here; release it
 * with rest_page_release whatever the result).
 * RETURN VALUE: 0, or -errno with WHY naming the file and why (-ENOENT missing, -EFBIG
 * larger than REST_PAGE_FILE_MAX, -ENAMETOOLONG, another read error).
 */
int rest_page_load(struct rest_page *page, const char *dir, char *why, size_t why_size);

/* rest_page_find: the file served at request PATH ("/" and "/index.html" are the page),
 * borrowed, or NULL when PATH is none of them or the files are not loaded. */
const struct rest_page_file *rest_page_find(const struct rest_page *page, const char *path);

/* rest_page_is_path: whether PATH is one of the page's paths, loaded or not. */
int rest_page_is_path(const char *path);

/* rest_page_release: frees the files' contents. A zeroed PAGE is fine. */
void rest_page_release(struct rest_page *page);

#endif /* QUORUM_REST_PAGE_H */
