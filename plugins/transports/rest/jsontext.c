/* jsontext.c -- compact JSON text from jansson values, the same bytes as jansson's own
 * json_dumps(JSON_COMPACT) (see jansson's dump.c, which this follows rule for rule). */
#include <errno.h>
#include <locale.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "jsontext.h"

#define DEPTH_MAX 64 /* deeper than any REST answer; jansson's own limit is 2048 */

struct text {
	char *p;
	size_t len, cap; /* cap excludes the final NUL */
	int err;
};

static void put(struct text *t, const char *s, size_t n)
{
	if (t->err != 0)
		return;
	if (n > t->cap - t->len) {
		t->err = -ENOSPC;
		return;
	}
	memcpy(t->p + t->len, s, n);
	t->len += n;
}

/* A string as jansson's dump_string writes it without flags: '"' and '\\' escaped, control
 * characters as \b \f \n \r \t or \u00XX (upper-case hex). Beyond ASCII: -EILSEQ, left to
 * jansson, which also validates the UTF-8. */
static void put_string(struct text *t, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t run = 0;

	put(t, "\"", 1);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		char seq[6] = { '\\', 'u', '0', '0', 0, 0 };
		const char *esc;
		size_t len = 2;

		if (c >= 0x80) {
			t->err = t->err != 0 ? t->err : -EILSEQ;
			return;
		}
		if (c != '"' && c != '\\' && c >= 0x20)
			continue;
		put(t, s + run, i - run);
		run = i + 1;
		switch (c) {
		case '"':
			esc = "\\\"";
			break;
		case '\\':
			esc = "\\\\";
			break;
		case '\b':
			esc = "\\b";
			break;
		case '\f':
			esc = "\\f";
			break;
		case '\n':
			esc = "\\n";
			break;
		case '\r':
			esc = "\\r";
			break;
		case '\t':
			esc = "\\t";
			break;
		default:
			seq[4] = hex[c >> 4];
			seq[5] = hex[c & 15];
			esc = seq;
			len = 6;
			break;
		}
		put(t, esc, len);
	}
	put(t, s + run, n - run);
	put(t, "\"", 1);
}

static void put_integer(struct text *t, json_int_t v)
{
	char buf[24], *p = buf + sizeof(buf);
	/* Through unsigned: -INT64_MIN does not fit json_int_t. */
	unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;

	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u != 0);
	if (v < 0)
		*--p = '-';
	put(t, p, (size_t)(buf + sizeof(buf) - p));
}

/* jansson's jsonp_dtostr with its default precision (17), into its 25-byte buffer: what
 * does not fit there makes jansson fail, so it is left to jansson here too. */
static void put_real(struct text *t, double v)
{
	enum { REAL_MAX = 25 }; /* jansson's MAX_REAL_STR_LENGTH (2.14, built without dtoa) */
	char buf[REAL_MAX], *start, *end;
	const char *point = localeconv()->decimal_point;
	int n = snprintf(buf, sizeof(buf), "%.17g", v);
	size_t len;

	if (n < 0 || (size_t)n >= sizeof(buf)) {
		t->err = t->err != 0 ? t->err : -EILSEQ;
		return;
	}
	len = (size_t)n;
	if (point[0] != '.' && point[0] != '\0' &&
	    point[1] == '\0') { /* jansson's from_locale */
		char *dot = strchr(buf, point[0]);

		if (dot != NULL)
			*dot = '.';
	}
	if (strchr(buf, '.') == NULL && strchr(buf, 'e') == NULL) { /* stays a real when read */
		if (len + 3 >= sizeof(buf)) {
			t->err = t->err != 0 ? t->err : -EILSEQ;
			return;
		}
		memcpy(buf + len, ".0", 3);
		len += 2;
	}
	start = strchr(buf, 'e'); /* no '+' nor leading zeros in the exponent */
	if (start != NULL) {
		start++;
		end = start + 1;
		if (*start == '-')
			start++;
		while (*end == '0')
			end++;
		if (end != start) {
			memmove(start, end, len - (size_t)(end - buf));
			len -= (size_t)(end - start);
		}
	}
	put(t, buf, len);
}

static void put_value(struct text *t, const json_t *v, int depth)
{
	if (t->err != 0)
		return;
	if (depth > DEPTH_MAX) {
		t->err = -EILSEQ;
		return;
	}
	switch (json_typeof(v)) {
	case JSON_OBJECT: {
		int first = 1;

		put(t, "{", 1);
		for (void *it = json_object_iter((json_t *)v); it != NULL && t->err == 0;
		     it = json_object_iter_next((json_t *)v, it)) {
			if (!first)
				put(t, ",", 1);
			first = 0;
			put_string(t, json_object_iter_key(it), json_object_iter_key_len(it));
			put(t, ":", 1);
			put_value(t, json_object_iter_value(it), depth + 1);
		}
		put(t, "}", 1);
		break;
	}
	case JSON_ARRAY:
		put(t, "[", 1);
		for (size_t i = 0; i < json_array_size(v) && t->err == 0; i++) {
			if (i > 0)
				put(t, ",", 1);
			put_value(t, json_array_get(v, i), depth + 1);
		}
		put(t, "]", 1);
		break;
	case JSON_STRING:
		put_string(t, json_string_value(v), json_string_length(v));
		break;
	case JSON_INTEGER:
		put_integer(t, json_integer_value(v));
		break;
	case JSON_REAL:
		put_real(t, json_real_value(v));
		break;
	case JSON_TRUE:
		put(t, "true", 4);
		break;
	case JSON_FALSE:
		put(t, "false", 5);
		break;
	case JSON_NULL:
		put(t, "null", 4);
		break;
	default:
		t->err = -EILSEQ;
		break;
	}
}

long jsontext_dump(const json_t *value, char *out, size_t size)
{
	struct text t = { .p = out, .cap = size > 0 ? size - 1 : 0 };

	if (size == 0)
		return -ENOSPC;
	if (!json_is_object(value) && !json_is_array(value))
		return -EILSEQ; /* json_dumps too writes only those without JSON_ENCODE_ANY */
	put_value(&t, value, 0);
	if (t.err != 0)
		return t.err;
	out[t.len] = '\0';
	return (long)t.len;
}
