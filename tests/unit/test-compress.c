/* test-compress.c -- gRPC's message encodings: gzip and deflate both ways (zlib), the
 * decompressed size bound (a bomb is refused after CAP + 1 bytes), corrupt and trailing
 * input, and the grpc-encoding / grpc-accept-encoding names. */
#include <errno.h>
#include <glib.h>
#include <string.h>

#include <zlib.h>

#include "compress.h"

static void test_round_trip(void)
{
	static const int encodings[] = { GRPC_ENCODING_GZIP, GRPC_ENCODING_DEFLATE };
	uint8_t plain[5000], packed[6000], back[5000];

	for (size_t i = 0; i < sizeof(plain); i++)
		plain[i] = (uint8_t)(i % 7 == 0 ? i : 'a');
	for (size_t e = 0; e < 2; e++) {
		size_t n = 0, m = 0;

		g_assert_cmpint(grpc_deflate(encodings[e], plain, sizeof(plain), packed,
					     sizeof(packed), &n),
				==, 0);
		g_assert_cmpuint(n, <, sizeof(plain));
		/* gzip's magic, or zlib's header */
		if (encodings[e] == GRPC_ENCODING_GZIP)
			g_assert_true(packed[0] == 0x1f && packed[1] == 0x8b);
		else
			g_assert_cmpint((packed[0] << 8 | packed[1]) % 31, ==, 0);
		g_assert_cmpint(grpc_inflate(encodings[e], packed, n, back, sizeof(back), &m),
				==, 0);
		g_assert_cmpuint(m, ==, sizeof(plain));
		g_assert_true(memcmp(plain, back, m) == 0);
		/* exactly CAP bytes is fine; one byte less room is too large */
		g_assert_cmpint(grpc_inflate(encodings[e], packed, n, back, sizeof(plain), &m),
				==, 0);
		g_assert_cmpint(
			grpc_inflate(encodings[e], packed, n, back, sizeof(plain) - 1, &m), ==,
			-EMSGSIZE);
		/* the other encoding's stream, a cut one, one with bytes after it */
		g_assert_cmpint(
			grpc_inflate(encodings[1 - e], packed, n, back, sizeof(back), &m), ==,
			-EBADMSG);
		g_assert_cmpint(
			grpc_inflate(encodings[e], packed, n - 3, back, sizeof(back), &m), ==,
			-EBADMSG);
		packed[n] = 0;
		g_assert_cmpint(
			grpc_inflate(encodings[e], packed, n + 1, back, sizeof(back), &m), ==,
			-EBADMSG);
	}
	g_assert_cmpint(grpc_inflate(GRPC_ENCODING_IDENTITY, plain, 10, back, 10, NULL), ==,
			-EBADMSG);
}

static void test_bomb_refused(void)
{
	/* 64 MiB of zeros gzipped into about 64 KiB: refused at a 64 KiB message bound, having
	 * made no more than 64 KiB + 1 bytes */
	size_t big = 64u << 20, n = compressBound(big) + 64, m = 0;
	uint8_t *zeros = g_malloc0(big), *packed = g_malloc(n), *out = g_malloc(65536);
	size_t packed_len = 0;

	g_assert_cmpint(grpc_deflate(GRPC_ENCODING_GZIP, zeros, big, packed, n, &packed_len),
			==, 0);
	g_assert_cmpuint(packed_len, <, 65536 + 5);
	g_assert_cmpint(grpc_inflate(GRPC_ENCODING_GZIP, packed, packed_len, out, 65536, &m),
			==, -EMSGSIZE);
	g_free(zeros);
	g_free(packed);
	g_free(out);
}

static void test_deflate_no_room(void)
{
	uint8_t plain[256], packed[8];
	size_t n;

	for (size_t i = 0; i < sizeof(plain); i++)
		plain[i] = (uint8_t)(i * 131 + 7); /* hardly compressible */
	g_assert_cmpint(grpc_deflate(GRPC_ENCODING_GZIP, plain, sizeof(plain), packed,
				     sizeof(packed), &n),
			==, -ENOSPC);
}

static void test_names(void)
{
	g_assert_cmpint(grpc_encoding_parse(NULL), ==, GRPC_ENCODING_IDENTITY);
	g_assert_cmpint(grpc_encoding_parse(""), ==, GRPC_ENCODING_IDENTITY);
	g_assert_cmpint(grpc_encoding_parse("identity"), ==, GRPC_ENCODING_IDENTITY);
	g_assert_cmpint(grpc_encoding_parse("gzip"), ==, GRPC_ENCODING_GZIP);
	g_assert_cmpint(grpc_encoding_parse("deflate"), ==, GRPC_ENCODING_DEFLATE);
	g_assert_cmpint(grpc_encoding_parse("snappy"), ==, -1);
	g_assert_cmpint(grpc_encoding_parse("gzip,deflate"), ==, -1);
	g_assert_true(grpc_encoding_accepted("identity,deflate,gzip", GRPC_ENCODING_GZIP));
	g_assert_true(grpc_encoding_accepted(" identity , GZIP", GRPC_ENCODING_GZIP));
	g_assert_false(grpc_encoding_accepted("identity,gzipx", GRPC_ENCODING_GZIP));
	g_assert_false(grpc_encoding_accepted("xgzip", GRPC_ENCODING_GZIP));
	g_assert_false(grpc_encoding_accepted(NULL, GRPC_ENCODING_DEFLATE));
	g_assert_true(grpc_encoding_accepted(NULL, GRPC_ENCODING_IDENTITY));
	g_assert_cmpstr(grpc_encoding_name(GRPC_ENCODING_DEFLATE), ==, "deflate");
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/grpc/compress/round-trip-gzip-and-deflate", test_round_trip);
	g_test_add_func("/grpc/compress/bomb-refused-at-the-bound", test_bomb_refused);
	g_test_add_func("/grpc/compress/deflate-without-room", test_deflate_no_room);
	g_test_add_func("/grpc/compress/encoding-names", test_names);
	return g_test_run();
}
