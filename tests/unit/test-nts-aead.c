/* test-nts-aead.c -- unit tests of AEAD_AES_SIV_CMAC_256 (nts-aead.c): RFC 5297's test
 * vectors, agreement with OpenSSL's own AES-128-SIV wherever that computes a tag, the empty
 * plaintext against an S2V written here on OpenSSL's CMAC, and refusal of any change. */
#include <stdio.h>
#include <string.h>

#include <glib.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "nts-aead.h"
#include "testhex.h"

static void assert_hex(const uint8_t *got, size_t len, const char *want_hex)
{
	uint8_t want[256];
	size_t n = test_unhex(want_hex, want);

	g_assert_cmpuint(len, ==, n);
	g_assert_cmpmem(got, len, want, n);
}

/* RFC 5297 appendix A.1: deterministic use, one associated-data component. */
static void test_rfc5297_deterministic(void)
{
	struct nts_aead a;
	uint8_t key[32], ad[64], plain[64], out[128], back[64];
	size_t adl, pl;
	struct nts_aead_ad comp[1];

	test_unhex("fffefdfcfbfaf9f8f7f6f5f4f3f2f1f0 f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff", key);
	adl = test_unhex("101112131415161718191a1b1c1d1e1f 2021222324252627", ad);
	pl = test_unhex("112233445566778899aabbccddee", plain);
	comp[0] = (struct nts_aead_ad){ ad, adl };
	g_assert_cmpint(nts_aead_init(&a), ==, 0);
	g_assert_cmpint(nts_aead_set_key(&a, key), ==, 0);
	g_assert_cmpint(nts_aead_seal(&a, comp, 1, plain, pl, out), ==, 0);
	assert_hex(out, 16 + pl,
		   "85632d07c6e8f37f950acd320a2ecc93 40c02b9690c4dc04daef7f6afe5c");
	g_assert_cmpint(nts_aead_open(&a, comp, 1, out, 16 + pl, back), ==, 0);
	g_assert_cmpmem(back, pl, plain, pl);
	nts_aead_release(&a);
}

/* RFC 5297 appendix A.2: nonce-based use, two components and the nonce last. */
static void test_rfc5297_nonce_based(void)
{
	struct nts_aead a;
	uint8_t key[32], ad1[64], ad2[16], nonce[16], plain[64], out[128], back[64];
	size_t l1, l2, ln, pl;
	struct nts_aead_ad comp[3];

	test_unhex("7f7e7d7c7b7a79787776757473727170 404142434445464748494a4b4c4d4e4f", key);
	l1 = test_unhex("00112233445566778899aabbccddeeff deaddadadeaddadaffeeddccbbaa9988"
			"7766554433221100",
			ad1);
	l2 = test_unhex("102030405060708090a0", ad2);
	ln = test_unhex("09f911029d74e35bd84156c5635688c0", nonce);
	pl = test_unhex("7468697320697320736f6d6520706c61 696e7465787420746f20656e63727970"
			"74207573696e67205349562d414553",
			plain);
	comp[0] = (struct nts_aead_ad){ ad1, l1 };
	comp[1] = (struct nts_aead_ad){ ad2, l2 };
	comp[2] = (struct nts_aead_ad){ nonce, ln };
	g_assert_cmpint(nts_aead_init(&a), ==, 0);
	g_assert_cmpint(nts_aead_set_key(&a, key), ==, 0);
	g_assert_cmpint(nts_aead_seal(&a, comp, 3, plain, pl, out), ==, 0);
	assert_hex(out, 16 + pl,
		   "7bdb6e3b432667eb06f4d14bff2fbd0f cb900f2fddbe404326601965c889bf17"
		   "dba77ceb094fa663b7a3f748ba8af829 ea64ad544a272e9c485b62a3fd5c0d");
	g_assert_cmpint(nts_aead_open(&a, comp, 3, out, 16 + pl, back), ==, 0);
	g_assert_cmpmem(back, pl, plain, pl);
	nts_aead_release(&a);
}

/* OpenSSL's AES-128-SIV of the same message (it needs a non-empty plaintext). */
static void openssl_siv(const uint8_t *key, const struct nts_aead_ad *ad, size_t nad,
			const uint8_t *plain, size_t len, uint8_t *out)
{
	EVP_CIPHER *siv = EVP_CIPHER_fetch(NULL, "AES-128-SIV", NULL);
	EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
	int outl, fin;

	g_assert_nonnull(siv);
	g_assert_cmpint(EVP_EncryptInit_ex2(x, siv, key, NULL, NULL), ==, 1);
	for (size_t i = 0; i < nad; i++)
		g_assert_cmpint(EVP_EncryptUpdate(x, NULL, &outl, ad[i].data, (int)ad[i].len),
				==, 1);
	g_assert_cmpint(EVP_EncryptUpdate(x, out + 16, &outl, plain, (int)len), ==, 1);
	g_assert_cmpint(EVP_EncryptFinal_ex(x, out + 16 + outl, &fin), ==, 1);
	g_assert_cmpint(EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_AEAD_GET_TAG, 16, out), ==, 1);
	EVP_CIPHER_CTX_free(x);
	EVP_CIPHER_free(siv);
}

/* Random keys, components of 0..300 bytes and plaintexts of 1..1100 (several of CTR's and
 * CMAC's chunks of 32 blocks): the same bytes as OpenSSL's SIV, and one key serves many
 * messages in a row (the CMAC chain carried over is folded out each time). */
static void test_agrees_with_openssl(void)
{
	struct nts_aead a;
	uint8_t key[32], data[4][320], plain[1100], ours[1116], theirs[1116], back[1100];

	g_assert_cmpint(nts_aead_init(&a), ==, 0);
	for (int round = 0; round < 400; round++) {
		size_t len = 1 + (size_t)g_random_int_range(0, 1100);
		size_t nad = (size_t)g_random_int_range(0, 4);
		struct nts_aead_ad ad[4];

		if (round % 50 == 0) {
			RAND_bytes(key, sizeof(key));
			g_assert_cmpint(nts_aead_set_key(&a, key), ==, 0);
		}
		RAND_bytes(plain, (int)len);
		for (size_t i = 0; i < nad; i++) {
			ad[i].len = (size_t)g_random_int_range(0, 300);
			RAND_bytes(data[i], 320);
			ad[i].data = data[i];
		}
		g_assert_cmpint(nts_aead_seal(&a, ad, nad, plain, len, ours), ==, 0);
		openssl_siv(key, ad, nad, plain, len, theirs);
		g_assert_cmpmem(ours, 16 + len, theirs, 16 + len);
		g_assert_cmpint(nts_aead_open(&a, ad, nad, ours, 16 + len, back), ==, 0);
		g_assert_cmpmem(back, len, plain, len);
	}
	nts_aead_release(&a);
}

/* CMAC of M under the first half of KEY, through OpenSSL's EVP_MAC. */
static void reference_cmac(const uint8_t *key, const uint8_t *m, size_t len, uint8_t mac[16])
{
	EVP_MAC *alg = EVP_MAC_fetch(NULL, "CMAC", NULL);
	EVP_MAC_CTX *ctx = EVP_MAC_CTX_new(alg);
	OSSL_PARAM params[] = { OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_CIPHER,
								 (char *)"AES-128-CBC", 0),
				OSSL_PARAM_construct_end() };
	size_t outl;

	g_assert_cmpint(EVP_MAC_init(ctx, key, 16, params), ==, 1);
	g_assert_cmpint(EVP_MAC_update(ctx, m, len), ==, 1);
	g_assert_cmpint(EVP_MAC_final(ctx, mac, &outl, 16), ==, 1);
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(alg);
}

static void reference_dbl(uint8_t *b)
{
	int carry = b[0] >> 7;

	for (int i = 0; i < 15; i++)
		b[i] = (uint8_t)(b[i] << 1 | b[i + 1] >> 7);
	b[15] = (uint8_t)(b[15] << 1);
	if (carry)
		b[15] ^= 0x87;
}

/* An empty plaintext (what every NTS request encrypts): V is S2V computed here from RFC 5297
 * with OpenSSL's CMAC, the ciphertext is V alone, and it opens to nothing. */
static void test_empty_plaintext(void)
{
	static const uint8_t zero[16];
	struct nts_aead a;
	uint8_t key[32], ad[200], nonce[16], out[16], d[16], mac[16], t[16] = { 0 };
	struct nts_aead_ad comp[2] = { { ad, sizeof(ad) }, { nonce, sizeof(nonce) } };

	RAND_bytes(key, sizeof(key));
	RAND_bytes(ad, sizeof(ad));
	RAND_bytes(nonce, sizeof(nonce));
	g_assert_cmpint(nts_aead_init(&a), ==, 0);
	g_assert_cmpint(nts_aead_set_key(&a, key), ==, 0);
	g_assert_cmpint(nts_aead_seal(&a, comp, 2, NULL, 0, out), ==, 0);

	reference_cmac(key, zero, 16, d);
	for (int i = 0; i < 2; i++) {
		reference_cmac(key, comp[i].data, comp[i].len, mac);
		reference_dbl(d);
		for (int j = 0; j < 16; j++)
			d[j] ^= mac[j];
	}
	reference_dbl(d);
	t[0] = 0x80;
	for (int j = 0; j < 16; j++)
		t[j] ^= d[j];
	reference_cmac(key, t, 16, mac);
	g_assert_cmpmem(out, 16, mac, 16);
	g_assert_cmpint(nts_aead_open(&a, comp, 2, out, 16, NULL), ==, 0);
	out[3] ^= 0x10;
	g_assert_cmpint(nts_aead_open(&a, comp, 2, out, 16, NULL), ==, -EBADMSG);
	nts_aead_release(&a);
}

/* Any bit changed in the tag, the ciphertext, a component or the nonce: refused, and the
 * plaintext buffer is wiped. */
static void test_any_change_refused(void)
{
	struct nts_aead a;
	uint8_t key[32], ad[40], nonce[16], plain[70], out[86], back[70];
	struct nts_aead_ad comp[2] = { { ad, sizeof(ad) }, { nonce, sizeof(nonce) } };

	RAND_bytes(key, sizeof(key));
	RAND_bytes(ad, sizeof(ad));
	RAND_bytes(nonce, sizeof(nonce));
	RAND_bytes(plain, sizeof(plain));
	g_assert_cmpint(nts_aead_init(&a), ==, 0);
	g_assert_cmpint(nts_aead_set_key(&a, key), ==, 0);
	g_assert_cmpint(nts_aead_seal(&a, comp, 2, plain, sizeof(plain), out), ==, 0);
	for (size_t i = 0; i < sizeof(out) * 8; i += 7) {
		out[i / 8] ^= (uint8_t)(1u << (i % 8));
		memset(back, 0xaa, sizeof(back));
		g_assert_cmpint(nts_aead_open(&a, comp, 2, out, sizeof(out), back), ==,
				-EBADMSG);
		for (size_t j = 0; j < sizeof(back); j++)
			g_assert_cmpuint(back[j], ==, 0);
		out[i / 8] ^= (uint8_t)(1u << (i % 8));
	}
	ad[5] ^= 1;
	g_assert_cmpint(nts_aead_open(&a, comp, 2, out, sizeof(out), back), ==, -EBADMSG);
	ad[5] ^= 1;
	nonce[15] ^= 0x80;
	g_assert_cmpint(nts_aead_open(&a, comp, 2, out, sizeof(out), back), ==, -EBADMSG);
	nonce[15] ^= 0x80;
	g_assert_cmpint(nts_aead_open(&a, comp, 1, out, sizeof(out), back), ==, -EBADMSG);
	g_assert_cmpint(nts_aead_open(&a, comp, 2, out, sizeof(out), back), ==, 0);
	g_assert_cmpint(nts_aead_open(&a, comp, 2, out, 15, back), ==, -EINVAL);
	nts_aead_release(&a);
}

/* No key, no seal: a prepared context is required. */
static void test_unkeyed_refused(void)
{
	struct nts_aead a;
	uint8_t out[32];

	g_assert_cmpint(nts_aead_init(&a), ==, 0);
	g_assert_cmpint(nts_aead_seal(&a, NULL, 0, NULL, 0, out), ==, -EINVAL);
	nts_aead_release(&a);
	nts_aead_release(&a); /* twice: a no-op */
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/nts-aead/rfc5297/deterministic", test_rfc5297_deterministic);
	g_test_add_func("/nts-aead/rfc5297/nonce-based", test_rfc5297_nonce_based);
	g_test_add_func("/nts-aead/agrees-with-openssl-aes-128-siv", test_agrees_with_openssl);
	g_test_add_func("/nts-aead/empty-plaintext-matches-s2v", test_empty_plaintext);
	g_test_add_func("/nts-aead/any-change-refused", test_any_change_refused);
	g_test_add_func("/nts-aead/unkeyed-refused", test_unkeyed_refused);
	return g_test_run();
}
