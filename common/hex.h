/* hex.h -- hexadecimal text for bytes, one definition for the host, the plugins, the tools and
 * the tests instead of a copy per file. Header-only like clocks.h: every module inlines its
 * own copy (a plugin never links against host symbols), and no source list has to name it.
 * What we write is always lowercase; what we read is lowercase only (key ids, digests, state
 * files we wrote: one spelling per value) unless the format says otherwise (HTTP chunk sizes,
 * percent-escapes, key files an operator may have typed): hex_digit_any. */
#ifndef QUORUM_COMMON_HEX_H
#define QUORUM_COMMON_HEX_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>

/* hex_encode: writes 2*LEN lowercase hex digits and a NUL into OUT (2*LEN+1 bytes). */
static inline void hex_encode(const uint8_t *data, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[data[i] >> 4];
		out[2 * i + 1] = digits[data[i] & 0xf];
	}
	out[2 * len] = '\0';
}

/* hex_digit: the value of lowercase hex digit C, or -1 (uppercase is not a digit here). */
static inline int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* hex_digit_any: the value of hex digit C in either case, or -1. */
static inline int hex_digit_any(char c)
{
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return hex_digit(c);
}

/* hex_decode: decodes exactly 2*LEN lowercase hex digits from TEXT (TEXT_LEN bytes, no NUL
 * needed) into OUT. RETURN VALUE: 0, or -EINVAL (wrong length or a byte that is not a
 * lowercase hex digit; OUT may then hold part of the value). */
static inline int hex_decode(const char *text, size_t text_len, uint8_t *out, size_t len)
{
	if (text_len != 2 * len)
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		int hi = hex_digit(text[2 * i]);
		int lo = hex_digit(text[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -EINVAL;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

#endif /* QUORUM_COMMON_HEX_H */
