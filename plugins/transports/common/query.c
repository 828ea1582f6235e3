/* query.c -- URL query strings, read strictly (see query.h): one pass that checks the whole
 * query and finds the parameter asked for. */
#include <ctype.h>
#include <errno.h>
#include <string.h>

#include "query.h"
#include "hex.h"

/* One piece of a parameter, [P, END), as it is on the wire. */
struct span {
	const char *p, *end;
};

/* Decodes S into OUT (SIZE bytes, may be 0 to only check it); *LEN its decoded length.
 * RETURN VALUE: 0, -EINVAL (a malformed escape, %00, or a byte that is not printable
 * ASCII: *WHY says which), or -ENOSPC (OUT is too small; what fits is written). */
static int decode(struct span s, char *out, size_t size, size_t *len, const char **why)
{
	size_t n = 0;
	int err = 0;

	for (const char *c = s.p; c < s.end; c++) {
		int v = (unsigned char)*c;

		if (v < 0x21 || v > 0x7e) {
			*why = "a byte that is not printable ASCII";
			return -EINVAL;
		}
		if (v == '+') {
			v = ' ';
		} else if (v == '%') {
			if (s.end - c < 3 || hex_digit_any(c[1]) < 0 ||
			    hex_digit_any(c[2]) < 0) {
				*why = "'%' not followed by two hex digits";
				return -EINVAL;
			}
			v = hex_digit_any(c[1]) * 16 + hex_digit_any(c[2]);
			c += 2;
			if (v == 0) {
				*why = "an escaped NUL (%00)";
				return -EINVAL;
			}
		}
		if (n + 1 < size)
			out[n] = (char)v;
		else if (size > 0)
			err = -ENOSPC;
		n++;
	}
	if (size > 0)
		out[n < size ? n : size - 1] = '\0';
	*len = n;
	return err;
}

/* The next decoded byte of *S (a span already checked by decode), advancing it; -1 at its
 * end. */
static int next_byte(struct span *s)
{
	int v;

	if (s->p >= s->end)
		return -1;
	v = (unsigned char)*s->p++;
	if (v == '+')
		return ' ';
	if (v == '%') {
		v = hex_digit_any(s->p[0]) * 16 + hex_digit_any(s->p[1]);
		s->p += 2;
	}
	return v;
}

/* Whether the decoded names A and B (well-formed spans) are equal, case-insensitively. */
static int same_name(struct span a, struct span b)
{
	for (;;) {
		int x = next_byte(&a), y = next_byte(&b);

		if (x < 0 || y < 0)
			return x == y;
		if (tolower(x) != tolower(y))
			return 0;
	}
}

/* Splits QUERY into NAMES and VALUES (at most QUERY_PARAMS_MAX), checking it whole.
 * RETURN VALUE: the parameter count, or -EINVAL with *WHY. */
static int query_split(const char *query, struct span *names, struct span *values,
		       const char **why)
{
	const char *q = query;
	int count = 0;

	if (q == NULL || *q == '\0')
		return 0;
	for (;;) {
		const char *end = strchr(q, '&'), *eq;
		size_t len;
		char scratch[1];

		if (end == NULL)
			end = q + strlen(q);
		if (end == q) {
			*why = "an empty parameter";
			return -EINVAL;
		}
		if (count == QUERY_PARAMS_MAX) {
			*why = "too many parameters";
			return -EINVAL;
		}
		eq = memchr(q, '=', (size_t)(end - q));
		names[count] = (struct span){ q, eq != NULL ? eq : end };
		values[count] = (struct span){ eq != NULL ? eq + 1 : end, end };
		if (names[count].p == names[count].end) {
			*why = "a parameter without a name";
			return -EINVAL;
		}
		if (decode(names[count], scratch, 0, &len, why) != 0 ||
		    decode(values[count], scratch, 0, &len, why) != 0)
			return -EINVAL;
		for (int i = 0; i < count; i++) {
			if (same_name(names[i], names[count])) {
				*why = "a parameter given twice";
				return -EINVAL;
			}
		}
		count++;
		if (*end == '\0')
			return count;
		q = end + 1;
	}
}

int query_check(const char *query, const char **why)
{
	struct span names[QUERY_PARAMS_MAX], values[QUERY_PARAMS_MAX];
	const char *ignored;
	int count = query_split(query, names, values, why != NULL ? why : &ignored);

	return count < 0 ? -EINVAL : 0;
}

int query_param(const char *query, const char *name, char *out, size_t size)
{
	struct span names[QUERY_PARAMS_MAX], values[QUERY_PARAMS_MAX];
	struct span wanted = { name, name + strlen(name) };
	const char *why;
	size_t len;
	int count;

	if (size == 0)
		return -ENOSPC;
	out[0] = '\0';
	count = query_split(query, names, values, &why);
	if (count < 0)
		return -EINVAL;
	for (int i = 0; i < count; i++) {
		if (same_name(names[i], wanted))
			return decode(values[i], out, size, &len, &why);
	}
	return -ENOENT;
}
