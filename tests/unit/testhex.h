/* testhex.h -- test vectors written as hex: test_unhex() decodes "0011 2233 ..." (spaces
 * between bytes allowed, for readability) into OUT, which must hold strlen(HEX) / 2 bytes,
 * and returns the number of bytes written. A character that is not a hex digit fails the
 * test. Header only, so tests that do not link libtestutil can use it. */
#ifndef QUORUM_TESTHEX_H
#define QUORUM_TESTHEX_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <glib.h>

static inline size_t test_unhex(const char *hex, uint8_t *out)
{
	size_t n = 0;

	for (const char *p = hex; *p != '\0';) {
		unsigned v;

		if (*p == ' ') {
			p++;
			continue;
		}
		g_assert_true(g_ascii_isxdigit(p[0]) && g_ascii_isxdigit(p[1]));
		g_assert_true(sscanf(p, "%2x", &v) == 1);
		out[n++] = (uint8_t)v;
		p += 2;
	}
	return n;
}

#endif /* QUORUM_TESTHEX_H */
