/* query.c -- one parameter of a URL query string (see query.h). */
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "query.h"

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int query_param(const char *query, const char *name, char *out, size_t size)
{
	const char *q = query, *found = NULL;
	size_t name_len = strlen(name), found_len = 0, j = 0;

	if (size == 0)
		return -ENOSPC;
	out[0] = '\0';
	if (q == NULL || *q == '\0')
		return -ENOENT;
	for (;;) {
		const char *amp = strchr(q, '&');
		const char *arg_end = amp != NULL ? amp : q + strlen(q);
		const char *eq = memchr(q, '=', (size_t)(arg_end - q));

		if (eq == NULL || eq == q)
			return -ENOENT; /* evhttp's rule: then the query has no parameters */
		if (found == NULL && (size_t)(eq - q) == name_len &&
		    strncasecmp(q, name, name_len) == 0) {
			found = eq + 1;
			found_len = (size_t)(arg_end - found);
		}
		if (amp == NULL || amp[1] == '\0')
			break;
		q = amp + 1;
	}
	if (found == NULL)
		return -ENOENT;
	for (size_t i = 0; i < found_len; i++) {
		char c = found[i];

		if (c == '+') {
			c = ' ';
		} else if (c == '%' && i + 2 < found_len && hex_value(found[i + 1]) >= 0 &&
			   hex_value(found[i + 2]) >= 0) {
			c = (char)(hex_value(found[i + 1]) * 16 + hex_value(found[i + 2]));
			i += 2;
		}
		if (j + 1 >= size) {
			out[j] = '\0';
			return -ENOSPC;
		}
		out[j++] = c;
	}
	out[j] = '\0';
	return 0;
}
