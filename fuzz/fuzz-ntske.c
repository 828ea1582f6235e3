/* fuzz-ntske.c -- libFuzzer target: the NTS-KE record parser (nts-ke-records.c) on the
 * bytes a client sends, read as the server reads them (after every byte received), and the
 * client-side response parser on the same bytes. Properties: a prefix the server found
 * complete stays complete and identical for every longer input read no further (the server
 * stops reading there); a complete request is answered with a response that our own response
 * parser reads back to the same error, protocol, algorithm and cookie count. */
#include <string.h>

#include "fuzz.h"
#include "nts-ke-records.h"

static void check_answer(const struct ntske_request *req)
{
	static const uint8_t cookie[100] = { 1, 2, 3 };
	const uint8_t *cookies[NTSKE_COOKIES_MAX];
	struct ntske_answer a = { .error = req->error };
	struct ntske_response r;
	uint8_t out[2048];
	int len;

	for (int i = 0; i < NTSKE_COOKIES_MAX; i++)
		cookies[i] = cookie;
	if (req->error < 0) {
		a.ntpv4 = req->ntpv4;
		a.aes_siv = req->ntpv4 && req->aes_siv;
		if (a.aes_siv) {
			a.cookies = cookies;
			a.ncookies = NTSKE_COOKIES_MAX;
			a.cookie_len = sizeof(cookie);
			a.port = 123;
		}
	}
	len = ntske_response_build(&a, out, sizeof(out));
	FUZZ_ASSERT(len > 0);
	FUZZ_ASSERT(ntske_response_parse(out, (size_t)len, &r) == 0);
	FUZZ_ASSERT(r.error == req->error);
	if (req->error < 0) {
		FUZZ_ASSERT(r.ntpv4 == a.ntpv4);
		FUZZ_ASSERT(r.aead == (a.aes_siv ? NTSKE_AEAD_AES_SIV_CMAC_256 : -1) ||
			    !a.ntpv4);
		FUZZ_ASSERT(r.ncookies == a.ncookies);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ntske_request req, first;
	struct ntske_response resp;
	size_t complete = 0;

	/* The server parses what it has after each read; model reads of one byte. */
	for (size_t len = 0; len <= size && len <= NTSKE_REQUEST_MAX; len++) {
		int r = ntske_request_parse(data, len, &req);

		FUZZ_ASSERT(r == 0 || r == NTSKE_INCOMPLETE);
		if (r == 0) {
			complete = len;
			first = req;
			break;
		}
	}
	if (complete > 0) {
		FUZZ_ASSERT(first.records >= 1 || first.error >= 0);
		FUZZ_ASSERT(first.error >= -1 && first.error <= NTSKE_ERR_INTERNAL);
		FUZZ_ASSERT((first.error == -1) == (first.cause[0] == '\0'));
		FUZZ_ASSERT(ntske_request_parse(data, complete, &req) == 0);
		FUZZ_ASSERT(memcmp(&req, &first, sizeof(req)) == 0);
		check_answer(&first);
	}
	/* The client side reads the same bytes as a response: no crash, bounded results. */
	if (ntske_response_parse(data, size, &resp) == 0)
		FUZZ_ASSERT(resp.ncookies <= NTSKE_COOKIES_MAX && strlen(resp.server) <= 255);
	return 0;
}
