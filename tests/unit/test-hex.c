/* test-hex.c -- common/hex.h, the one hex helper: encoding is lowercase with a NUL; decoding
 * takes exactly 2*LEN lowercase digits and refuses uppercase, other bytes and any other
 * length; hex_digit_any takes either case (HTTP chunk sizes, percent-escapes, key files).
 * Every byte value and every char value is checked, not a sample. */
#include "config.h"

#include <errno.h>
#include <string.h>

#include <glib.h>

#include "hex.h"

static void test_encode_known_bytes(void)
{
	static const uint8_t in[] = { 0x00, 0x01, 0x0f, 0x10, 0x7f, 0x80, 0xab, 0xff };
	char out[2 * sizeof(in) + 2];

	memset(out, 'x', sizeof(out));
	hex_encode(in, sizeof(in), out);
	g_assert_cmpstr(out, ==, "00010f107f80abff");
	g_assert_cmpint(out[2 * sizeof(in) + 1], ==, 'x'); /* nothing past the NUL */
	hex_encode(in, 0, out);
	g_assert_cmpstr(out, ==, "");
}

static void test_every_byte_round_trips(void)
{
	uint8_t all[256], back[256];
	char text[2 * 256 + 1];

	for (int i = 0; i < 256; i++)
		all[i] = (uint8_t)i;
	hex_encode(all, sizeof(all), text);
	g_assert_cmpuint(strlen(text), ==, 512);
	for (size_t i = 0; i < 512; i++)
		g_assert_nonnull(strchr("0123456789abcdef", text[i]));
	memset(back, 0, sizeof(back));
	g_assert_cmpint(hex_decode(text, 512, back, sizeof(back)), ==, 0);
	g_assert_cmpmem(back, sizeof(back), all, sizeof(all));
}

static void test_decode_refuses(void)
{
	uint8_t out[4];
	/* Not NUL-terminated: hex_decode reads TEXT_LEN bytes and no more. */
	const char exact[8] = { 'd', 'e', 'a', 'd', 'b', 'e', 'e', 'f' };

	g_assert_cmpint(hex_decode(exact, sizeof(exact), out, 4), ==, 0);
	g_assert_cmpuint(out[0], ==, 0xde);
	g_assert_cmpuint(out[3], ==, 0xef);
	g_assert_cmpint(hex_decode("DEADBEEF", 8, out, 4), ==, -EINVAL); /* one spelling */
	g_assert_cmpint(hex_decode("deadBeef", 8, out, 4), ==, -EINVAL);
	g_assert_cmpint(hex_decode("deadbee", 7, out, 4), ==, -EINVAL);	    /* short */
	g_assert_cmpint(hex_decode("deadbeef00", 10, out, 4), ==, -EINVAL); /* long */
	g_assert_cmpint(hex_decode("deadbeeg", 8, out, 4), ==, -EINVAL);
	g_assert_cmpint(hex_decode("dead bef", 8, out, 4), ==, -EINVAL);
	g_assert_cmpint(hex_decode("0x00beef", 8, out, 4), ==, -EINVAL);
	g_assert_cmpint(hex_decode("", 0, out, 0), ==, 0);
}

/* Every char: hex_digit knows exactly 0-9 a-f, hex_digit_any also A-F, with their values. */
static void test_digit_every_char(void)
{
	static const char lower[] = "0123456789abcdef", upper[] = "0123456789ABCDEF";

	for (int i = -128; i < 128; i++) {
		char c = (char)i;
		const char *l = c != '\0' ? strchr(lower, c) : NULL;
		const char *u = c != '\0' ? strchr(upper, c) : NULL;
		int want = l != NULL ? (int)(l - lower) : -1;
		int want_any = want >= 0 ? want : u != NULL ? (int)(u - upper) : -1;

		g_assert_cmpint(hex_digit(c), ==, want);
		g_assert_cmpint(hex_digit_any(c), ==, want_any);
	}
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/hex/encode/known-bytes-lowercase-nul", test_encode_known_bytes);
	g_test_add_func("/hex/every-byte-round-trips", test_every_byte_round_trips);
	g_test_add_func("/hex/decode/refuses-case-length-and-strangers", test_decode_refuses);
	g_test_add_func("/hex/digit/every-char", test_digit_every_char);
	return g_test_run();
}
