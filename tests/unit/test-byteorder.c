/* test-byteorder.c -- common/byteorder.h: each width in each order against the bytes written
 * out by hand (the vault's and the journal's little-endian fields, NTP's and NTS's network
 * order), at an odd address, and a write touches only its own bytes. */
#include "config.h"

#include <string.h>

#include <glib.h>

#include "byteorder.h"

static void test_little_endian(void)
{
	static const uint8_t want[8] = { 0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01 };
	uint8_t buf[11];

	memset(buf, 0xee, sizeof(buf));
	put_le64(buf + 1, 0x0102030405060708ULL); /* odd address: no alignment assumed */
	g_assert_cmpmem(buf + 1, 8, want, 8);
	g_assert_cmpuint(buf[0], ==, 0xee);
	g_assert_cmpuint(buf[9], ==, 0xee);
	g_assert_cmpuint(get_le64(buf + 1), ==, 0x0102030405060708ULL);
	g_assert_cmpuint(get_le32(buf + 1), ==, 0x05060708u);
	g_assert_cmpuint(get_le16(buf + 1), ==, 0x0708u);
	memset(buf, 0xee, sizeof(buf));
	put_le32(buf + 1, 0xa1b2c3d4u);
	put_le16(buf + 5, 0xe5f6u);
	g_assert_cmpmem(buf + 1, 6, ((const uint8_t[]){ 0xd4, 0xc3, 0xb2, 0xa1, 0xf6, 0xe5 }),
			6);
	g_assert_cmpuint(buf[7], ==, 0xee);
}

static void test_big_endian(void)
{
	static const uint8_t want[8] = { 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08 };
	uint8_t buf[11];

	memset(buf, 0xee, sizeof(buf));
	put_be64(buf + 1, 0x0102030405060708ULL);
	g_assert_cmpmem(buf + 1, 8, want, 8);
	g_assert_cmpuint(buf[0], ==, 0xee);
	g_assert_cmpuint(buf[9], ==, 0xee);
	g_assert_cmpuint(get_be64(buf + 1), ==, 0x0102030405060708ULL);
	g_assert_cmpuint(get_be32(buf + 1), ==, 0x01020304u);
	g_assert_cmpuint(get_be16(buf + 1), ==, 0x0102u);
	memset(buf, 0xee, sizeof(buf));
	put_be32(buf + 1, 0xa1b2c3d4u);
	put_be16(buf + 5, 0xe5f6u);
	g_assert_cmpmem(buf + 1, 6, ((const uint8_t[]){ 0xa1, 0xb2, 0xc3, 0xd4, 0xe5, 0xf6 }),
			6);
	g_assert_cmpuint(buf[7], ==, 0xee);
	/* the NTP era-0 timestamp of the Unix epoch: 2208988800 s, network order */
	g_assert_cmpuint(get_be32((const uint8_t[]){ 0x83, 0xaa, 0x7e, 0x80 }), ==,
			 2208988800u);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/byteorder/little-endian-every-width", test_little_endian);
	g_test_add_func("/byteorder/big-endian-every-width", test_big_endian);
	return g_test_run();
}
