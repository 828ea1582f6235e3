/* nts-aead.c -- AEAD_AES_SIV_CMAC_256 (RFC 5297 sections 2.4-2.7 and 6) on OpenSSL's AES:
 * S2V over CMAC (an AES-128-CBC chain with the CMAC subkeys) and CTR for the ciphertext
 * (counter blocks through an AES-128-ECB context, so that a message sets no IV).
 * OpenSSL 3.0's own "AES-128-SIV" computes no tag for an empty plaintext (which every NTS
 * request carries) and allocates per component; see docs/design-departures.md. */
#include <endian.h>
#include <errno.h>
#include <string.h>

#include <openssl/crypto.h>

#include "nts-aead.h"
#include "byteorder.h"

#define BLOCK	      16
#define CHUNK_BLOCKS  32 /* blocks handed to the CBC context per call */
#define AD_COMPONENTS (NTS_AEAD_AD_MAX)

static void xor_block(uint8_t *to, const uint8_t *from)
{
	for (int i = 0; i < BLOCK; i++)
		to[i] ^= from[i];
}

/* dbl (RFC 5297 section 2.3): a left shift by one bit, folding 0x87 in on a carry; on two
 * 64-bit words (a byte loop was 7 % of a message's instructions). */
static void dbl(uint8_t *b)
{
	uint64_t hi = get_be64(b), lo = get_be64(b + 8);
	uint64_t carry = hi >> 63;

	put_be64(b, hi << 1 | lo >> 63);
	put_be64(b + 8, lo << 1 ^ (0x87 & (0 - carry)));
}

int nts_aead_init(struct nts_aead *a)
{
	memset(a, 0, sizeof(*a));
	a->cbc = EVP_CIPHER_CTX_new();
	a->ctr = EVP_CIPHER_CTX_new();
	/* The ciphers are fetched once here; set_key then only schedules keys. Only whole
	 * blocks are encrypted and nothing is finalised: no padding. */
	if (a->cbc == NULL || a->ctr == NULL ||
	    EVP_EncryptInit_ex2(a->cbc, EVP_aes_128_cbc(), NULL, NULL, NULL) != 1 ||
	    EVP_EncryptInit_ex2(a->ctr, EVP_aes_128_ecb(), NULL, NULL, NULL) != 1 ||
	    EVP_CIPHER_CTX_set_padding(a->cbc, 0) != 1 ||
	    EVP_CIPHER_CTX_set_padding(a->ctr, 0) != 1) {
		nts_aead_release(a);
		return -ENOMEM;
	}
	return 0;
}

void nts_aead_release(struct nts_aead *a)
{
	EVP_CIPHER_CTX_free(a->cbc); /* wipes the key schedules */
	EVP_CIPHER_CTX_free(a->ctr);
	OPENSSL_cleanse(a, sizeof(*a));
	a->cbc = NULL;
	a->ctr = NULL;
}

/*
 * CMAC (NIST SP 800-38B) of M (LEN bytes) under K1; TAIL, when given (LEN >= 16), is XORed
 * into the last 16 bytes of M first (S2V's "xorend"). The CBC context is never reset: the
 * chaining value left by the previous message is XORed into this one's first block, which
 * is the same as starting from a zero IV.
 */
static int cmac(struct nts_aead *a, const uint8_t *m, size_t len, const uint8_t *tail,
		uint8_t mac[BLOCK])
{
	uint8_t in[CHUNK_BLOCKS * BLOCK], out[CHUNK_BLOCKS * BLOCK];
	size_t blocks = len == 0 ? 1 : (len + BLOCK - 1) / BLOCK, k = 0;
	size_t tail_from = tail != NULL ? len - BLOCK : len;
	int outl, err = 0;

	for (size_t i = 0; i < blocks; i++) {
		uint8_t *b = in + BLOCK * k;
		size_t off = BLOCK * i, have = len - off < BLOCK ? len - off : BLOCK;

		if (have == BLOCK) {
			memcpy(b, m + off, BLOCK);
		} else {
			memset(b, 0, BLOCK);
			if (have > 0)
				memcpy(b, m + off, have);
		}
		/* the bytes of this block from tail_from on get TAIL's */
		for (size_t j = off > tail_from ? off : tail_from; j < off + have; j++)
			b[j - off] ^= tail[j - tail_from];
		if (i == blocks - 1) {
			if (have == BLOCK) {
				xor_block(b, a->sub1);
			} else {
				b[have] = 0x80;
				xor_block(b, a->sub2);
			}
		}
		if (i == 0)
			xor_block(b, a->chain);
		if (++k == CHUNK_BLOCKS || i == blocks - 1) {
			if (EVP_EncryptUpdate(a->cbc, out, &outl, in, (int)(BLOCK * k)) != 1 ||
			    outl != (int)(BLOCK * k)) {
				err = -EIO;
				break;
			}
			memcpy(a->chain, out + BLOCK * (k - 1), BLOCK);
			k = 0;
		}
	}
	memcpy(mac, a->chain, BLOCK);
	/* only what was written: a whole-buffer wipe per message showed in the profile */
	OPENSSL_cleanse(in, BLOCK * (blocks < CHUNK_BLOCKS ? blocks : CHUNK_BLOCKS));
	return err;
}

int nts_aead_set_key(struct nts_aead *a, const uint8_t *key)
{
	static const uint8_t zero[BLOCK];
	uint8_t l[BLOCK];
	int outl;

	a->keyed = 0;
	/* EVP_EncryptInit_ex: the cipher kept, no parameters to look up (half ex2's cost). */
	if (EVP_EncryptInit_ex(a->cbc, NULL, NULL, key, zero) != 1 ||
	    EVP_EncryptInit_ex(a->ctr, NULL, NULL, key + BLOCK, NULL) != 1)
		return -EIO;
	/* L = AES(K1, 0): one CBC block from a zero chaining value. */
	if (EVP_EncryptUpdate(a->cbc, l, &outl, zero, BLOCK) != 1 || outl != BLOCK)
		return -EIO;
	memcpy(a->chain, l, BLOCK);
	memcpy(a->sub1, l, BLOCK);
	dbl(a->sub1);
	memcpy(a->sub2, a->sub1, BLOCK);
	dbl(a->sub2);
	OPENSSL_cleanse(l, sizeof(l));
	if (cmac(a, zero, BLOCK, NULL, a->d0) != 0)
		return -EIO;
	a->keyed = 1;
	return 0;
}

/* S2V (RFC 5297 section 2.4) of AD's components then PLAIN into V. */
static int s2v(struct nts_aead *a, const struct nts_aead_ad *ad, size_t nad,
	       const uint8_t *plain, size_t len, uint8_t v[BLOCK])
{
	uint8_t d[BLOCK], mac[BLOCK];
	int err = 0;

	memcpy(d, a->d0, BLOCK);
	for (size_t i = 0; i < nad && err == 0; i++) {
		err = cmac(a, ad[i].data, ad[i].len, NULL, mac);
		dbl(d);
		xor_block(d, mac);
	}
	if (err == 0 && len >= BLOCK) {
		err = cmac(a, plain, len, d, v);
	} else if (err == 0) {
		uint8_t t[BLOCK] = { 0 };

		dbl(d);
		if (len > 0)
			memcpy(t, plain, len);
		t[len] = 0x80;
		xor_block(t, d);
		err = cmac(a, t, BLOCK, NULL, v);
		OPENSSL_cleanse(t, sizeof(t));
	}
	OPENSSL_cleanse(d, sizeof(d));
	return err;
}

/* OUT = IN ^ PAD over LEN bytes, eight at a time. */
static void xor_bytes(uint8_t *out, const uint8_t *in, const uint8_t *pad, size_t len)
{
	size_t i = 0;

	for (; i + 8 <= len; i += 8) {
		uint64_t a, b;

		memcpy(&a, in + i, 8);
		memcpy(&b, pad + i, 8);
		a ^= b;
		memcpy(out + i, &a, 8);
	}
	for (; i < len; i++)
		out[i] = in[i] ^ pad[i];
}

/*
 * CTR (RFC 5297 section 2.5) from Q = V with bits 31 and 63 cleared, over IN into OUT: the
 * counter blocks Q, Q + 1, ... encrypted under K2 (ECB), CHUNK_BLOCKS at a time, and XORed
 * in. With bit 31 of Q clear, a message shorter than 2^31 blocks only ever increments Q's
 * last 32 bits, without a carry out of them.
 */
static int ctr(struct nts_aead *a, const uint8_t v[BLOCK], const uint8_t *in, size_t len,
	       uint8_t *out)
{
	uint8_t q[CHUNK_BLOCKS * BLOCK], pad[CHUNK_BLOCKS * BLOCK];
	uint32_t counter;
	size_t done = 0,
	       used = len < sizeof(pad) ? (len + BLOCK - 1) / BLOCK * BLOCK : sizeof(pad);
	int outl, err = 0;

	if (len == 0)
		return 0;
	if (len > (size_t)INT32_MAX)
		return -EIO;
	counter = (uint32_t)(v[12] & 0x7f) << 24 | (uint32_t)v[13] << 16 |
		  (uint32_t)v[14] << 8 | v[15];
	while (done < len && err == 0) {
		size_t n = len - done < sizeof(pad) ? len - done : sizeof(pad);
		size_t blocks = (n + BLOCK - 1) / BLOCK;

		for (size_t i = 0; i < blocks; i++, counter++) {
			uint8_t *b = q + BLOCK * i;
			uint32_t be = htobe32(counter);

			memcpy(b, v, 12);
			b[8] &= 0x7f;
			memcpy(b + 12, &be, sizeof(be));
		}
		if (EVP_EncryptUpdate(a->ctr, pad, &outl, q, (int)(BLOCK * blocks)) != 1 ||
		    outl != (int)(BLOCK * blocks)) {
			err = -EIO;
			break;
		}
		xor_bytes(out + done, in + done, pad, n);
		done += n;
	}
	OPENSSL_cleanse(pad, used);
	return err;
}

int nts_aead_seal(struct nts_aead *a, const struct nts_aead_ad *ad, size_t nad,
		  const uint8_t *plain, size_t len, uint8_t *out)
{
	int err;

	if (!a->keyed || nad > AD_COMPONENTS)
		return -EINVAL;
	err = s2v(a, ad, nad, plain, len, out);
	if (err == 0)
		err = ctr(a, out, plain, len, out + NTS_AEAD_TAG_LEN);
	return err;
}

int nts_aead_open(struct nts_aead *a, const struct nts_aead_ad *ad, size_t nad,
		  const uint8_t *in, size_t len, uint8_t *plain)
{
	uint8_t v[BLOCK];
	int err;

	if (!a->keyed || nad > AD_COMPONENTS || len < NTS_AEAD_TAG_LEN)
		return -EINVAL;
	err = ctr(a, in, in + NTS_AEAD_TAG_LEN, len - NTS_AEAD_TAG_LEN, plain);
	if (err == 0)
		err = s2v(a, ad, nad, plain, len - NTS_AEAD_TAG_LEN, v);
	if (err == 0 && CRYPTO_memcmp(v, in, BLOCK) != 0)
		err = -EBADMSG;
	if (err != 0 && len > NTS_AEAD_TAG_LEN)
		OPENSSL_cleanse(plain, len - NTS_AEAD_TAG_LEN);
	return err;
}
