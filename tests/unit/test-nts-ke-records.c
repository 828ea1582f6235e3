/* test-nts-ke-records.c -- unit tests of the NTS-KE record parser and writer
 * (nts-ke-records.c): a request as chrony sends it, arriving byte by byte; each rule of
 * RFC 8915 section 4 that makes a request an error, and the code answered; the response
 * written and read back. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <glib.h>

#include "nts-ke-records.h"
#include "testhex.h"

/* chrony 4.3's request: Next Protocol {NTPv4}, AEAD {15}, End of Message, all critical. */
#define CHRONY_REQUEST "8001 0002 0000  8004 0002 000f  8000 0000"

static void test_chrony_request_byte_by_byte(void)
{
	uint8_t buf[64];
	size_t len = test_unhex(CHRONY_REQUEST, buf);
	struct ntske_request req;

	for (size_t i = 0; i < len; i++)
		g_assert_cmpint(ntske_request_parse(buf, i, &req), ==, NTSKE_INCOMPLETE);
	g_assert_cmpint(ntske_request_parse(buf, len, &req), ==, 0);
	g_assert_cmpint(req.error, ==, -1);
	g_assert_true(req.ntpv4);
	g_assert_true(req.aes_siv);
	g_assert_cmpuint(req.records, ==, 3);
}

/* Offers that do not include ours: valid requests, without agreement. */
static void test_offers_without_ours(void)
{
	uint8_t buf[64];
	struct ntske_request req;
	size_t len = test_unhex("8001 0004 8000 0001  8004 0004 0001 0002  8000 0000", buf);

	g_assert_cmpint(ntske_request_parse(buf, len, &req), ==, 0);
	g_assert_cmpint(req.error, ==, -1);
	g_assert_false(req.ntpv4);
	len = test_unhex("8001 0002 0000  8004 0004 0001 0002  8000 0000", buf);
	g_assert_cmpint(ntske_request_parse(buf, len, &req), ==, 0);
	g_assert_true(req.ntpv4);
	g_assert_false(req.aes_siv);
	/* unknown non-critical records, a client's server and port wishes: ignored */
	len = test_unhex("4321 0003 aabbcc 8001 0002 0000 0006 0004 686f7374 0007 0002 007b "
			 "8004 0002 000f 8000 0000",
			 buf);
	g_assert_cmpint(ntske_request_parse(buf, len, &req), ==, 0);
	g_assert_cmpint(req.error, ==, -1);
	g_assert_true(req.aes_siv);
}

/* Each broken request and the Error code it is answered with. */
static void test_errors(void)
{
	static const struct {
		const char *hex;
		int code;
		const char *cause;
	} cases[] = {
		{ "8001 0002 0000  8004 0002 000f  c123 0000  8000 0000",
		  NTSKE_ERR_UNRECOGNIZED_CRITICAL, "unrecognized_critical_record" },
		{ "8004 0002 000f  8000 0000", NTSKE_ERR_BAD_REQUEST, "no_next_protocol" },
		{ "8001 0002 0000  8000 0000", NTSKE_ERR_BAD_REQUEST, "no_aead" },
		{ "0001 0002 0000  8004 0002 000f  8000 0000", NTSKE_ERR_BAD_REQUEST,
		  "next_protocol_malformed" },
		{ "8001 0003 000000  8004 0002 000f  8000 0000", NTSKE_ERR_BAD_REQUEST,
		  "next_protocol_malformed" },
		{ "8001 0002 0000  8001 0002 0000  8004 0002 000f  8000 0000",
		  NTSKE_ERR_BAD_REQUEST, "next_protocol_malformed" },
		{ "8001 0002 0000  8004 0001 00  8000 0000", NTSKE_ERR_BAD_REQUEST,
		  "aead_malformed" },
		{ "8001 0002 0000  8004 0002 000f  8004 0002 000f  8000 0000",
		  NTSKE_ERR_BAD_REQUEST, "aead_malformed" },
		{ "8001 0002 0000  8004 0002 000f  8002 0002 0001  8000 0000",
		  NTSKE_ERR_BAD_REQUEST, "error_from_client" },
		{ "8001 0002 0000  8004 0002 000f  0003 0002 0000  8000 0000",
		  NTSKE_ERR_BAD_REQUEST, "error_from_client" },
		{ "8001 0002 0000  8004 0002 000f  0007 0003 000000  8000 0000",
		  NTSKE_ERR_BAD_REQUEST, "port_malformed" },
		{ "8001 0002 0000  8004 0002 000f  0006 0000  8000 0000", NTSKE_ERR_BAD_REQUEST,
		  "server_malformed" },
		{ "8001 0002 0000  8004 0002 000f  0000 0000", NTSKE_ERR_BAD_REQUEST,
		  "end_of_message_malformed" },
		{ "8001 0002 0000  8004 0002 000f  8000 0001 00", NTSKE_ERR_BAD_REQUEST,
		  "end_of_message_malformed" },
		{ "8001 0002 0000  8004 0002 000f  8000 0000  00", NTSKE_ERR_BAD_REQUEST,
		  "bytes_after_end_of_message" },
		{ "0021 ffff", NTSKE_ERR_BAD_REQUEST, "request_too_long" },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		uint8_t buf[256];
		struct ntske_request req;
		size_t len = test_unhex(cases[i].hex, buf);

		g_test_message("case %zu: %s", i, cases[i].hex);
		g_assert_cmpint(ntske_request_parse(buf, len, &req), ==, 0);
		g_assert_cmpint(req.error, ==, cases[i].code);
		g_assert_cmpstr(req.cause, ==, cases[i].cause);
	}
}

/* A request that never ends is cut at NTSKE_REQUEST_MAX bytes. */
static void test_endless_request_bounded(void)
{
	uint8_t buf[NTSKE_REQUEST_MAX + 8] = { 0 };
	struct ntske_request req;
	size_t len = 0;

	/* non-critical unknown records of 12 bytes each, no End of Message */
	while (len + 12 <= sizeof(buf)) {
		buf[len] = 0x12;
		buf[len + 3] = 8;
		len += 12;
	}
	g_assert_cmpint(ntske_request_parse(buf, 1020, &req), ==, NTSKE_INCOMPLETE);
	g_assert_cmpint(ntske_request_parse(buf, len, &req), ==, 0);
	g_assert_cmpint(req.error, ==, NTSKE_ERR_BAD_REQUEST);
}

/* The response written and read back: every record, eight cookies, End last; an error
 * response is Error then End. */
static void test_response_round_trip(void)
{
	uint8_t cookie_bytes[8][100], out[2048];
	const uint8_t *cookies[8];
	struct ntske_answer a = { .error = -1,
				  .ntpv4 = 1,
				  .aes_siv = 1,
				  .server = "127.0.0.3",
				  .port = 11123,
				  .cookies = cookies,
				  .ncookies = 8,
				  .cookie_len = 100 };
	struct ntske_response r;
	int len;

	for (int i = 0; i < 8; i++) {
		memset(cookie_bytes[i], 'a' + i, sizeof(cookie_bytes[i]));
		cookies[i] = cookie_bytes[i];
	}
	len = ntske_response_build(&a, out, sizeof(out));
	g_assert_cmpint(len, ==, 6 + 6 + 4 + 9 + 6 + 8 * 104 + 4);
	g_assert_cmpint(ntske_response_parse(out, (size_t)len, &r), ==, 0);
	g_assert_cmpint(r.error, ==, -1);
	g_assert_true(r.ntpv4);
	g_assert_cmpint(r.aead, ==, NTSKE_AEAD_AES_SIV_CMAC_256);
	g_assert_cmpstr(r.server, ==, "127.0.0.3");
	g_assert_cmpint(r.port, ==, 11123);
	g_assert_cmpuint(r.ncookies, ==, 8);
	g_assert_cmpmem(r.cookies[7], r.cookie_len[7], cookie_bytes[7], 100);
	g_assert_cmpint(ntske_response_parse(out, (size_t)len - 1, &r), ==, NTSKE_INCOMPLETE);
	g_assert_cmpint(ntske_response_build(&a, out, 100), ==, -ENOSPC);

	a = (struct ntske_answer){ .error = NTSKE_ERR_BAD_REQUEST };
	len = ntske_response_build(&a, out, sizeof(out));
	g_assert_cmpint(len, ==, 10);
	g_assert_cmpmem(out, 10, "\x80\x02\x00\x02\x00\x01\x80\x00\x00\x00", 10);

	a = (struct ntske_answer){ .error = -1, .ntpv4 = 0 };
	len = ntske_response_build(&a, out, sizeof(out));
	g_assert_cmpmem(out, (size_t)len, "\x80\x01\x00\x00\x80\x00\x00\x00", 8);
}

/* Our own client's request is what the server reads as valid. */
static void test_client_request_accepted(void)
{
	uint8_t buf[64];
	struct ntske_request req;
	int len = ntske_request_build(buf, sizeof(buf));

	g_assert_cmpint(len, >, 0);
	g_assert_cmpint(ntske_request_parse(buf, (size_t)len, &req), ==, 0);
	g_assert_cmpint(req.error, ==, -1);
	g_assert_true(req.ntpv4 && req.aes_siv);
	g_assert_cmpint(ntske_request_build(buf, 8), ==, -ENOSPC);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/ntske/request/chrony-byte-by-byte", test_chrony_request_byte_by_byte);
	g_test_add_func("/ntske/request/offers-without-ours", test_offers_without_ours);
	g_test_add_func("/ntske/request/errors-and-their-codes", test_errors);
	g_test_add_func("/ntske/request/endless-request-bounded", test_endless_request_bounded);
	g_test_add_func("/ntske/response/round-trip", test_response_round_trip);
	g_test_add_func("/ntske/request/own-client-accepted", test_client_request_accepted);
	return g_test_run();
}
