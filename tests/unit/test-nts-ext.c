/* test-nts-ext.c -- unit tests of the NTS extension fields (nts-ext.c): a request as a
 * client writes it is read, authenticated and answered with as many cookies as it holds
 * cookies and placeholders, never longer than itself; the answer verifies on the client's
 * side and any changed byte of either is refused; plain packets stay plain; malformed NTS
 * fields are named; a NAK carries the Unique Identifier alone. */
#include <errno.h>
#include <string.h>

#include <glib.h>
#include <openssl/rand.h>

#include "nts-ext.h"

struct fixture {
	struct nts_aead c2s_client, s2c_client, c2s_server, s2c_server;
	uint8_t c2s[32], s2c[32], uid[32], nonce[16], cookie[NTS_COOKIE_LEN];
};

static void fixture_set_up(struct fixture *f, gconstpointer data)
{
	(void)data;
	RAND_bytes(f->c2s, sizeof(f->c2s));
	RAND_bytes(f->s2c, sizeof(f->s2c));
	RAND_bytes(f->uid, sizeof(f->uid));
	RAND_bytes(f->nonce, sizeof(f->nonce));
	RAND_bytes(f->cookie, sizeof(f->cookie));
	g_assert_cmpint(nts_aead_init(&f->c2s_client), ==, 0);
	g_assert_cmpint(nts_aead_init(&f->s2c_client), ==, 0);
	g_assert_cmpint(nts_aead_init(&f->c2s_server), ==, 0);
	g_assert_cmpint(nts_aead_init(&f->s2c_server), ==, 0);
	g_assert_cmpint(nts_aead_set_key(&f->c2s_client, f->c2s), ==, 0);
	g_assert_cmpint(nts_aead_set_key(&f->c2s_server, f->c2s), ==, 0);
	g_assert_cmpint(nts_aead_set_key(&f->s2c_client, f->s2c), ==, 0);
	g_assert_cmpint(nts_aead_set_key(&f->s2c_server, f->s2c), ==, 0);
}

static void fixture_tear_down(struct fixture *f, gconstpointer data)
{
	(void)data;
	nts_aead_release(&f->c2s_client);
	nts_aead_release(&f->s2c_client);
	nts_aead_release(&f->c2s_server);
	nts_aead_release(&f->s2c_server);
}

/* A client request with PLACEHOLDERS placeholders into PKT; its length. */
static size_t client_request(struct fixture *f, uint8_t *pkt, size_t cap, unsigned placeholders)
{
	int len;

	memset(pkt, 0, NTS_NTP_HEADER);
	pkt[0] = 0x23;
	memset(pkt + 40, 0x5a, 8);
	len = nts_client_request(&f->c2s_client, pkt, cap, f->uid, f->cookie, sizeof(f->cookie),
				 placeholders, f->nonce);
	g_assert_cmpint(len, >, NTS_NTP_HEADER);
	return (size_t)len;
}

/* The server's answer to REQ (LEN bytes) into OUT; its length. */
static size_t server_answer(struct fixture *f, const uint8_t *pkt, size_t len, uint8_t *out,
			    unsigned *ncookies)
{
	uint8_t plain[NTS_PLAINTEXT_MAX], cookies[NTS_COOKIES_MAX * NTS_COOKIE_LEN];
	uint8_t nonce[16];
	struct nts_request req;
	unsigned placeholders;
	int n;

	g_assert_cmpint(nts_request_parse(pkt, len, &req), ==, 0);
	g_assert_cmpint(nts_request_open(&f->c2s_server, pkt, &req, plain, &placeholders), ==,
			0);
	*ncookies = nts_response_cookies(&req, len, placeholders);
	for (unsigned i = 0; i < *ncookies; i++)
		memset(cookies + i * NTS_COOKIE_LEN, 'A' + (int)i, NTS_COOKIE_LEN);
	RAND_bytes(nonce, sizeof(nonce));
	memset(out, 0, NTS_NTP_HEADER);
	out[0] = 0x24;
	memcpy(out + 24, pkt + 40, 8);
	n = nts_response_build(&f->s2c_server, out, 2048, req.uid, req.uid_field_len, nonce,
			       cookies, *ncookies);
	g_assert_cmpint(n, >, NTS_NTP_HEADER);
	g_assert_cmpint(n, <=, (int)len);
	return (size_t)n;
}

static void test_request_answer_round_trip(struct fixture *f, gconstpointer data)
{
	uint8_t pkt[2048], out[2048], plain[NTS_PLAINTEXT_MAX];
	const uint8_t *cookies[NTS_COOKIES_MAX];
	size_t lens[NTS_COOKIES_MAX];
	struct nts_request req;
	size_t len, olen;
	unsigned n;

	(void)data;
	for (unsigned placeholders = 0; placeholders <= 9; placeholders++) {
		len = client_request(f, pkt, sizeof(pkt), placeholders);
		g_assert_cmpint(nts_request_parse(pkt, len, &req), ==, 0);
		g_assert_cmpuint(req.placeholders, ==, placeholders);
		g_assert_cmpuint(req.cookie_len, ==, NTS_COOKIE_LEN);
		g_assert_cmpmem(req.cookie, req.cookie_len, f->cookie, NTS_COOKIE_LEN);
		g_assert_cmpuint(req.uid_field_len, ==, 36);
		olen = server_answer(f, pkt, len, out, &n);
		g_assert_cmpuint(n, ==, placeholders + 1 > 8 ? 8 : placeholders + 1);
		/* one cookie per cookie and placeholder: exactly the request's length */
		if (placeholders < 8)
			g_assert_cmpuint(olen, ==, len);
		g_assert_cmpint(nts_client_response(&f->s2c_client, out, olen, f->uid, plain,
						    cookies, lens),
				==, (int)n);
		for (unsigned i = 0; i < n; i++) {
			g_assert_cmpuint(lens[i], ==, NTS_COOKIE_LEN);
			g_assert_cmpuint(cookies[i][0], ==, 'A' + i);
		}
	}
}

/* Any bit of a request changed: not authentic (or not well-formed). */
static void test_request_any_change_refused(struct fixture *f, gconstpointer data)
{
	uint8_t pkt[512], plain[NTS_PLAINTEXT_MAX];
	struct nts_request req;
	size_t len = client_request(f, pkt, sizeof(pkt), 1);
	unsigned placeholders;

	(void)data;
	for (size_t bit = 0; bit < len * 8; bit += 3) {
		int r;

		pkt[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		r = nts_request_parse(pkt, len, &req);
		if (r == 0)
			r = nts_request_open(&f->c2s_server, pkt, &req, plain, &placeholders);
		/* the cookie lies in the associated data: a changed one fails the tag too */
		g_assert_cmpint(r, !=, 0);
		pkt[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	}
}

/* Any bit of an answer changed: the client refuses it. */
static void test_answer_any_change_refused(struct fixture *f, gconstpointer data)
{
	uint8_t pkt[512], out[2048], plain[NTS_PLAINTEXT_MAX];
	size_t len = client_request(f, pkt, sizeof(pkt), 2), olen;
	unsigned n;

	(void)data;
	olen = server_answer(f, pkt, len, out, &n);
	g_assert_cmpint(
		nts_client_response(&f->s2c_client, out, olen, f->uid, plain, NULL, NULL), ==,
		3);
	for (size_t bit = 0; bit < olen * 8; bit++) {
		out[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		g_assert_cmpint(nts_client_response(&f->s2c_client, out, olen, f->uid, plain,
						    NULL, NULL),
				<, 0);
		out[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	}
	/* truncated, or answering another request's UID */
	g_assert_cmpint(
		nts_client_response(&f->s2c_client, out, olen - 4, f->uid, plain, NULL, NULL),
		==, -EBADMSG);
	f->uid[0] ^= 1;
	g_assert_cmpint(
		nts_client_response(&f->s2c_client, out, olen, f->uid, plain, NULL, NULL), ==,
		-EBADMSG);
}

/* Plain packets: no field, a legacy MAC, someone else's field: not NTS. */
static void test_plain_is_not_nts(void)
{
	uint8_t pkt[128] = { 0x23 };
	struct nts_request req;

	g_assert_cmpint(nts_request_parse(pkt, 48, &req), ==, NTS_NOT_NTS);
	g_assert_cmpint(nts_request_parse(pkt, 48 + 20, &req), ==,
			NTS_NOT_NTS); /* key id + MD5 */
	g_assert_cmpint(nts_request_parse(pkt, 48 + 24, &req), ==, NTS_NOT_NTS);
	pkt[48] = 0x20; /* type 0x2000, length 16 */
	pkt[51] = 16;
	g_assert_cmpint(nts_request_parse(pkt, 48 + 16, &req), ==, NTS_NOT_NTS);
}

/* Malformed NTS requests, each named. */
static void test_malformed_named(struct fixture *f, gconstpointer data)
{
	uint8_t pkt[512], copy[512];
	struct nts_request req;
	size_t len = client_request(f, pkt, sizeof(pkt), 0);

	(void)data;
	/* layout: UID 48..84, cookie 84..188, authenticator 188..228 */
	g_assert_cmpuint(len, ==, 228);

	memcpy(copy, pkt, len); /* a UID of 28 bytes: length 32 */
	copy[51] = 32;
	g_assert_cmpint(nts_request_parse(copy, len, &req), ==, -EBADMSG);

	memcpy(copy, pkt, len); /* the cookie field turned into a second UID */
	copy[84] = 0x01;
	g_assert_cmpint(nts_request_parse(copy, len, &req), ==, -EBADMSG);
	g_assert_cmpstr(req.cause, ==, "unique_identifier_malformed");

	memcpy(copy, pkt, len); /* the cookie turned into a placeholder: no cookie */
	copy[84] = 0x03;
	g_assert_cmpint(nts_request_parse(copy, len, &req), ==, -EBADMSG);
	g_assert_cmpstr(req.cause, ==, "no_cookie");

	g_assert_cmpint(nts_request_parse(pkt, 188, &req), ==, -EBADMSG); /* no authenticator */
	g_assert_cmpstr(req.cause, ==, "no_authenticator");

	memcpy(copy, pkt, len); /* a nonce of 12 bytes */
	copy[193] = 12;
	g_assert_cmpint(nts_request_parse(copy, len, &req), ==, -EBADMSG);
	g_assert_cmpstr(req.cause, ==, "authenticator_malformed");

	memcpy(copy, pkt, len); /* a field after the authenticator */
	memset(copy + len, 0, 16);
	copy[len] = 0x20;
	copy[len + 3] = 16;
	g_assert_cmpint(nts_request_parse(copy, len + 16, &req), ==, -EBADMSG);
	g_assert_cmpstr(req.cause, ==, "field_after_authenticator");

	g_assert_cmpint(nts_request_parse(pkt, len - 2, &req), ==, -EBADMSG); /* cut */
	g_assert_cmpstr(req.cause, ==, "field_malformed");
}

/* Placeholders shorter than a cookie (or too many): fewer cookies, never an answer longer
 * than the request. */
static void test_never_longer_than_request(struct fixture *f, gconstpointer data)
{
	uint8_t pkt[512], out[2048];
	struct nts_request req;
	size_t len;
	unsigned n;

	(void)data;
	g_assert_cmpuint(nts_response_length(36, 1), ==, 228);
	req = (struct nts_request){ .uid_field_len = 36 };
	g_assert_cmpuint(nts_response_cookies(&req, 228 + 48, 3), ==, 1);
	g_assert_cmpuint(nts_response_cookies(&req, 228 + 104, 3), ==, 2);
	g_assert_cmpuint(nts_response_cookies(&req, 228 + 3 * 104, 3), ==, 4);
	g_assert_cmpuint(nts_response_cookies(&req, 228 + 20 * 104, 20), ==, 8);
	g_assert_cmpuint(nts_response_cookies(&req, 200, 0), ==, 0);
	len = client_request(f, pkt, sizeof(pkt), 0);
	g_assert_cmpuint(server_answer(f, pkt, len, out, &n), ==, len);
	g_assert_cmpuint(n, ==, 1);
	g_assert_cmpint(nts_response_build(&f->s2c_server, out, 100, f->uid, 36, f->nonce,
					   f->cookie, 1),
			==, -ENOSPC);
}

/* A NAK: the header's kiss, the UID echoed, nothing sealed; the client tells it apart. */
static void test_nak(struct fixture *f, gconstpointer data)
{
	uint8_t pkt[512], out[512], plain[NTS_PLAINTEXT_MAX];
	struct nts_request req;
	size_t len = client_request(f, pkt, sizeof(pkt), 0);
	int n;

	(void)data;
	g_assert_cmpint(nts_request_parse(pkt, len, &req), ==, 0);
	memset(out, 0, 48);
	out[0] = 0xe4;
	memcpy(out + 12, "NTSN", 4);
	n = nts_nak_build(out, sizeof(out), req.uid, req.uid_field_len);
	g_assert_cmpint(n, ==, 48 + 36);
	g_assert_cmpint(
		nts_client_response(&f->s2c_client, out, (size_t)n, f->uid, plain, NULL, NULL),
		==, -EPROTO);
	memcpy(out + 12, "RATE", 4); /* an unsealed kiss of another kind is not a NAK */
	g_assert_cmpint(
		nts_client_response(&f->s2c_client, out, (size_t)n, f->uid, plain, NULL, NULL),
		==, -EBADMSG);
	g_assert_cmpint(nts_nak_build(out, 60, req.uid, req.uid_field_len), ==, -ENOSPC);
}

#define ADD(path, fn)                                                                          \
	g_test_add(path, struct fixture, NULL, fixture_set_up, fn, fixture_tear_down)

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	ADD("/nts-ext/request-answer-round-trip", test_request_answer_round_trip);
	ADD("/nts-ext/request-any-change-refused", test_request_any_change_refused);
	ADD("/nts-ext/answer-any-change-refused", test_answer_any_change_refused);
	g_test_add_func("/nts-ext/plain-is-not-nts", test_plain_is_not_nts);
	ADD("/nts-ext/malformed-named", test_malformed_named);
	ADD("/nts-ext/never-longer-than-request", test_never_longer_than_request);
	ADD("/nts-ext/nak-carries-uid-alone", test_nak);
	return g_test_run();
}
