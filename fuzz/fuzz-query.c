/* fuzz-query.c -- libFuzzer target with a property: the transports' strict query reader
 * (plugins/transports/common/query.c) answers exactly as a plain reference reading, written
 * here from query.h's rules alone, for every query and every parameter name. The input is
 * NAME, a NUL, then the query. */
#include "config.h"

#include <string.h>
#include <strings.h>

#include "fuzz.h"
#include "query.h"

#define REF_MAX 4096

struct ref_param {
	char name[REF_MAX], value[REF_MAX];
	size_t name_len, value_len;
};

static int ref_hex(char c)
{
	return c >= '0' && c <= '9'   ? c - '0'
	       : c >= 'a' && c <= 'f' ? c - 'a' + 10
	       : c >= 'A' && c <= 'F' ? c - 'A' + 10
				      : -1;
}

/* Decodes TEXT[0..LEN) into OUT; -1 when it breaks a rule. */
static int ref_decode(const char *text, size_t len, char *out, size_t *out_len)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];

		if (c < 0x21 || c > 0x7e)
			return -1;
		if (c == '%') {
			if (i + 2 >= len)
				return -1;
			if (ref_hex(text[i + 1]) < 0 || ref_hex(text[i + 2]) < 0)
				return -1;
			c = (unsigned char)(ref_hex(text[i + 1]) * 16 + ref_hex(text[i + 2]));
			if (c == 0)
				return -1;
			i += 2;
		} else if (c == '+') {
			c = ' ';
		}
		out[n++] = (char)c;
	}
	out[n] = '\0';
	*out_len = n;
	return 0;
}

/* The reference reading: the parameters of QUERY, or -1 when it is malformed. */
static int ref_parse(const char *query, struct ref_param *params, int max)
{
	size_t len = strlen(query), start = 0;
	int count = 0;

	if (len == 0)
		return 0;
	for (size_t i = 0; i <= len; i++) {
		size_t eq;

		if (i < len && query[i] != '&')
			continue;
		if (i == start || count == max)
			return -1; /* an empty parameter, or too many */
		for (eq = start; eq < i && query[eq] != '='; eq++)
			;
		if (eq == start)
			return -1; /* no name */
		if (ref_decode(query + start, eq - start, params[count].name,
			       &params[count].name_len) != 0 ||
		    ref_decode(query + (eq < i ? eq + 1 : i), eq < i ? i - eq - 1 : 0,
			       params[count].value, &params[count].value_len) != 0)
			return -1;
		for (int k = 0; k < count; k++)
			if (params[k].name_len == params[count].name_len &&
			    strcasecmp(params[k].name, params[count].name) == 0)
				return -1;
		count++;
		start = i + 1;
	}
	return count;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ref_param params[QUERY_PARAMS_MAX];
	char text[REF_MAX + 1], out[64];
	const char *name, *query;
	size_t name_len;
	int count, rc, expected = -ENOENT;

	if (size > REF_MAX || memchr(data, 0, size) == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	name = text;
	name_len = strlen(name);
	query = text + name_len + 1;
	if ((size_t)(query - text) > size || name_len == 0 || strpbrk(name, "%+&=") != NULL)
		return 0;
	for (const char *c = name; *c != '\0'; c++)
		if ((unsigned char)*c < 0x21 || (unsigned char)*c > 0x7e)
			return 0;
	count = ref_parse(query, params, QUERY_PARAMS_MAX);
	rc = query_param(query, name, out, sizeof(out));
	FUZZ_ASSERT((query_check(query, NULL) == 0) == (count >= 0));
	if (count < 0) {
		FUZZ_ASSERT(rc == -EINVAL);
		return 0;
	}
	for (int i = 0; i < count; i++) {
		if (params[i].name_len != name_len || strcasecmp(params[i].name, name) != 0)
			continue;
		expected = params[i].value_len < sizeof(out) ? 0 : -ENOSPC;
		FUZZ_ASSERT(rc == expected);
		/* the value, or (too long) as much of it as fits */
		FUZZ_ASSERT(strncmp(out, params[i].value, sizeof(out) - 1) == 0);
		return 0;
	}
	FUZZ_ASSERT(rc == -ENOENT);
	return 0;
}
