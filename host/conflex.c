/* conflex.c -- what libconfig 1.5 gets wrong, checked before it reads quorum.conf: integer
 * literals it would silently wrap, and an @include of a folder, which makes it exit. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "conflex-internal.h"
#include "util-internal.h"

#define CONFLEX_FILE_MAX  (4 << 20)
#define CONFLEX_DEPTH_MAX 10

static int ident_char(int c)
{
	return isalnum(c) || c == '_' || c == '-' || c == '*';
}

/* Whether the number token T (LEN bytes, optional sign) is an integer libconfig wraps. */
static int wraps(const char *t, size_t len)
{
	char buf[64];
	int negative = 0, hex;
	unsigned long long v;
	char *end;

	if (len >= sizeof(buf))
		return 1; /* far beyond 64 bits anyway */
	memcpy(buf, t, len);
	buf[len] = '\0';
	if (buf[len - 1] == 'L' || buf[len - 1] == 'l')
		return 0; /* libconfig's 64-bit form */
	if (buf[0] == '-' || buf[0] == '+') {
		negative = buf[0] == '-';
		memmove(buf, buf + 1, len);
	}
	hex = buf[0] == '0' && (buf[1] == 'x' || buf[1] == 'X');
	if (!hex && strpbrk(buf, ".eE") != NULL)
		return 0; /* a float */
	errno = 0;
	v = strtoull(buf, &end, hex ? 16 : 10);
	if (*end != '\0')
		return 0; /* not an integer libconfig accepts: its own parser says so */
	if (errno == ERANGE)
		return 1;
	if (hex)
		return v > 0xffffffffULL;
	return negative ? v > 2147483648ULL : v > 2147483647ULL;
}

/* Where the scan reports each @include. */
struct conflex_scan {
	conflex_include_fn on_include;
	void *arg;
};

static int check_file(const struct conflex_scan *scan, const char *path, const char *dir,
		      int depth, char *why, size_t why_size);

static int check_text(const struct conflex_scan *scan, const char *path, const char *dir,
		      const char *s, size_t n, int depth, char *why, size_t why_size)
{
	int line = 1;

	for (size_t i = 0; i < n;) {
		char c = s[i];

		if (c == '\n') {
			line++;
			i++;
		} else if (c == '#' || (c == '/' && i + 1 < n && s[i + 1] == '/')) {
			while (i < n && s[i] != '\n')
				i++;
		} else if (c == '/' && i + 1 < n && s[i + 1] == '*') {
			for (i += 2; i < n && !(s[i] == '*' && i + 1 < n && s[i + 1] == '/');
			     i++)
				line += s[i] == '\n';
			i += 2;
		} else if (c == '"') {
			for (i++; i < n && s[i] != '"'; i++) {
				if (s[i] == '\\' && i + 1 < n)
					i++;
				line += s[i] == '\n';
			}
			i++;
		} else if (c == '@' && n - i > 8 && strncmp(s + i, "@include", 8) == 0) {
			/* @include "file": checked too, as libconfig reads it */
			const char *q = memchr(s + i, '"', n - i), *e;
			char name[4096];
			struct stat st;
			int err;

			if (q == NULL ||
			    (e = memchr(q + 1, '"', (size_t)(s + n - q - 1))) == NULL)
				return 0; /* malformed: libconfig reports it */
			if (snprintf(name, sizeof(name), "%s%s%.*s", q[1] == '/' ? "" : dir,
				     q[1] == '/' ? "" : "/", (int)(e - q - 1),
				     q + 1) >= (int)sizeof(name))
				return 0;
			/* libconfig 1.5 exits the whole process ("input in flex scanner
			 * failed") when it includes a folder: a reload must be refused instead.
			 */
			if (stat(name, &st) == 0 && !S_ISREG(st.st_mode)) {
				errbuf_set(why, why_size,
					   "%s:%d: @include \"%.*s\" is not a regular file",
					   path, line, (int)(e - q - 1), q + 1);
				return -EINVAL;
			}
			if (scan->on_include != NULL) {
				err = scan->on_include(scan->arg, name, path, line);
				if (err != 0)
					return err;
			}
			err = check_file(scan, name, dir, depth + 1, why, why_size);
			if (err == -EINVAL)
				return err;
			i = (size_t)(e - s) + 1;
		} else if (isdigit((unsigned char)c) || ((c == '-' || c == '+') && i + 1 < n &&
							 isdigit((unsigned char)s[i + 1]))) {
			size_t start = i++;

			while (i < n && (isalnum((unsigned char)s[i]) || s[i] == '.' ||
					 ((s[i] == '-' || s[i] == '+') &&
					  (s[i - 1] == 'e' || s[i - 1] == 'E'))))
				i++;
			if (wraps(s + start, i - start)) {
				errbuf_set(
					why, why_size,
					"%s:%d: the integer %.*s does not fit in 32 bits, and "
					"libconfig would silently wrap it: write it with the L "
					"suffix "
					"(%.*sL)",
					path, line, (int)(i - start), s + start,
					(int)(i - start), s + start);
				return -EINVAL;
			}
		} else if (ident_char((unsigned char)c)) {
			/* a name: its digits are no number ("node1", "peers-2") */
			while (i < n && ident_char((unsigned char)s[i]))
				i++;
		} else {
			i++;
		}
	}
	return 0;
}

static int check_file(const struct conflex_scan *scan, const char *path, const char *dir,
		      int depth, char *why, size_t why_size)
{
	FILE *f;
	char *text;
	size_t n;
	int err;

	if (depth > CONFLEX_DEPTH_MAX)
		return 0; /* libconfig refuses the include loop itself */
	f = fopen(path, "rb");
	if (f == NULL)
		return -errno;
	text = malloc(CONFLEX_FILE_MAX);
	if (text == NULL) {
		fclose(f);
		return -ENOMEM;
	}
	n = fread(text, 1, CONFLEX_FILE_MAX, f);
	fclose(f);
	err = check_text(scan, path, dir, text, n, depth, why, why_size);
	free(text);
	return err;
}

int conflex_check(const char *path, const char *dir, conflex_include_fn on_include, void *arg,
		  char *why, size_t why_size)
{
	const struct conflex_scan scan = { .on_include = on_include, .arg = arg };

	return check_file(&scan, path, dir, 0, why, why_size);
}
