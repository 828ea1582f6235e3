/* fuzz-nts-ext.c -- libFuzzer target: the NTS extension-field parser (nts-ext.c) and the
 * server's whole path through it, on fixed keys (nts-fuzz.h): the request's fields read,
 * its cookie opened, its authenticator checked, its encrypted fields read, an answer built;
 * and the client's reading of an answer. Input: one flags byte, then an NTP packet. Flag
 * bit 0 re-seals the authenticator under the fixed C2S key (its ciphertext's bytes after
 * the tag become the plaintext), so that mutated encrypted fields reach their parser.
 * Properties: every field the parser returns lies inside the packet; an answer is never
 * longer than its request and verifies under S2C with the cookie count the server chose;
 * its cookies open under the master key to the request cookie's keys. */
#include <string.h>

#include "fuzz.h"
#include "nts-ext.h"
#include "nts-fuzz.h"

#define PACKET_MAX 2048

static struct nts_aead c2s, s2c, master;
static uint8_t c2s_key[32], s2c_key[32];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	uint8_t key[32];

	(void)argc;
	(void)argv;
	if (nts_aead_init(&c2s) != 0 || nts_aead_init(&s2c) != 0 || nts_aead_init(&master) != 0)
		abort();
	nts_fuzz_key(1, c2s_key);
	nts_fuzz_key(2, s2c_key);
	nts_fuzz_key(3, key);
	if (nts_aead_set_key(&master, key) != 0 || nts_aead_set_key(&c2s, c2s_key) != 0 ||
	    nts_aead_set_key(&s2c, s2c_key) != 0)
		abort();
	return 0;
}

static int inside(const uint8_t *p, size_t len, const uint8_t *pkt, size_t size)
{
	return p >= pkt && p + len <= pkt + size;
}

/* Seals REQ's authenticator again under C2S, in place. */
static void reseal(uint8_t *pkt, const struct nts_request *req)
{
	uint8_t plain[NTS_PLAINTEXT_MAX];
	size_t plain_len = req->ciphertext_len - NTS_AEAD_TAG_LEN;
	struct nts_aead_ad ad[2] = { { pkt, req->ad_len }, { req->nonce, req->nonce_len } };
	uint8_t *ct = pkt + (req->ciphertext - pkt);

	if (plain_len > sizeof(plain))
		return;
	memcpy(plain, ct + NTS_AEAD_TAG_LEN, plain_len);
	FUZZ_ASSERT(nts_aead_seal(&c2s, ad, 2, plain, plain_len, ct) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t pkt[PACKET_MAX], plain[NTS_PLAINTEXT_MAX], out[PACKET_MAX];
	uint8_t cookies[NTS_COOKIES_MAX * NTS_COOKIE_LEN], nonce[16] = { 7 };
	const uint8_t *got[NTS_COOKIES_MAX];
	size_t got_len[NTS_COOKIES_MAX], len;
	struct nts_cookie_keys keys;
	struct nts_request req;
	unsigned placeholders, n;
	uint32_t id;
	int r;

	if (size < 1 || size - 1 > sizeof(pkt))
		return 0;
	len = size - 1;
	memcpy(pkt, data + 1, len);
	/* The client's side: any bytes as an answer to a fixed UID. */
	nts_client_response(&s2c, pkt, len, pkt + (len > 84 ? 52 : 0), plain, got, got_len);

	r = nts_request_parse(pkt, len, &req);
	FUZZ_ASSERT(r == 0 || r == NTS_NOT_NTS || r == -EBADMSG);
	if (r != 0)
		return 0;
	FUZZ_ASSERT(inside(req.uid, req.uid_field_len, pkt, len) && req.uid_field_len >= 36);
	FUZZ_ASSERT(inside(req.cookie, req.cookie_len, pkt, len));
	FUZZ_ASSERT(inside(req.nonce, req.nonce_len, pkt, len) && req.nonce_len >= 16);
	FUZZ_ASSERT(inside(req.ciphertext, req.ciphertext_len, pkt, len));
	FUZZ_ASSERT(req.ad_len < len && req.ciphertext > pkt + req.ad_len);
	if (data[0] & 1)
		reseal(pkt, &req);
	if (nts_cookie_key_id(req.cookie, req.cookie_len, &id) != 0 || id != NTS_FUZZ_KEY_ID ||
	    nts_cookie_open(&master, req.cookie, req.cookie_len, &keys) != 0) {
		/* a cookie the master key does not open: go on with the fixed keys */
		memcpy(keys.c2s, c2s_key, sizeof(keys.c2s));
		memcpy(keys.s2c, s2c_key, sizeof(keys.s2c));
	}
	if (memcmp(keys.c2s, c2s_key, sizeof(keys.c2s)) != 0)
		return 0; /* a cookie sealing other keys: nothing verifies further */
	if (nts_request_open(&c2s, pkt, &req, plain, &placeholders) != 0)
		return 0;
	n = nts_response_cookies(&req, len, placeholders);
	FUZZ_ASSERT(n <= NTS_COOKIES_MAX && n <= placeholders + 1);
	for (unsigned i = 0; i < n; i++)
		FUZZ_ASSERT(nts_cookie_seal(&master, NTS_FUZZ_KEY_ID, nonce, &keys,
					    cookies + i * NTS_COOKIE_LEN) == 0);
	memcpy(out, pkt, NTS_NTP_HEADER);
	r = nts_response_build(&s2c, out, sizeof(out), req.uid, req.uid_field_len, nonce,
			       cookies, n);
	FUZZ_ASSERT(r > 0 && (size_t)r <= len);
	/* Our client reads it back when the UID is one it could have sent (32 bytes). */
	if (req.uid_field_len == 36) {
		int count = nts_client_response(&s2c, out, (size_t)r, req.uid + 4, plain, got,
						got_len);

		FUZZ_ASSERT(count == (int)n);
		for (int i = 0; i < count; i++) {
			struct nts_cookie_keys back;

			FUZZ_ASSERT(got_len[i] == NTS_COOKIE_LEN);
			FUZZ_ASSERT(nts_cookie_open(&master, got[i], got_len[i], &back) == 0);
			FUZZ_ASSERT(memcmp(&back, &keys, sizeof(keys)) == 0);
		}
	}
	return 0;
}
