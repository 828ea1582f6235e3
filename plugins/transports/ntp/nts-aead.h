/* nts-aead.h -- AEAD_AES_SIV_CMAC_256 (RFC 5297's SIV mode with a 32-byte key), the one
 * algorithm NTS uses (RFC 8915), on OpenSSL's AES: seal and open under a prepared key. */
#ifndef QUORUM_NTS_AEAD_H
#define QUORUM_NTS_AEAD_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#define NTS_AEAD_KEY_LEN 32 /* K1 (CMAC) then K2 (CTR), 16 bytes each */
#define NTS_AEAD_TAG_LEN 16 /* the synthetic IV V, written before the ciphertext */
#define NTS_AEAD_AD_MAX	 8  /* associated-data components per message, the nonce included */

/* One associated-data component (RFC 5297 S1 ... Sn-1; a nonce is the last of them). */
struct nts_aead_ad {
	const uint8_t *data; /* borrowed; may be NULL when len is 0 */
	size_t len;
};

/*
 * A prepared key. The CMAC runs on an AES-128-CBC context whose chaining value is kept in
 * `chain` between messages (each CMAC starts by folding it out of its first block), so a
 * message costs no context set-up: only nts_aead_set_key schedules keys. One thread at a
 * time; contents owned by nts_aead_init / nts_aead_release.
 */
struct nts_aead {
	EVP_CIPHER_CTX *cbc; /* AES-128-CBC under K1, no padding: the CMAC's chain */
	EVP_CIPHER_CTX *ctr; /* AES-128-ECB under K2: CTR's counter blocks */
	uint8_t chain[16];   /* the CBC context's current chaining value */
	uint8_t sub1[16];    /* CMAC subkeys K1' = dbl(L), K1'' = dbl(dbl(L)), L = AES(K1, 0) */
	uint8_t sub2[16];
	uint8_t d0[16]; /* CMAC(K1, 0^128): S2V's first value, the same for every message */
	int keyed;
};

/* nts_aead_init: allocates A's contexts (no key yet). RETURN VALUE: 0 or -ENOMEM (A is then
 * released). */
int nts_aead_init(struct nts_aead *a);

/* nts_aead_set_key: prepares KEY (NTS_AEAD_KEY_LEN bytes, borrowed). 0 or -EIO. */
int nts_aead_set_key(struct nts_aead *a, const uint8_t *key);

/*
 * nts_aead_seal: encrypts PLAIN (LEN bytes; may be 0) with the NAD associated-data
 * components AD into OUT: V (16 bytes) then the ciphertext (LEN bytes). OUT must not
 * overlap PLAIN. RETURN VALUE: 0, -EINVAL (no key, too many components) or -EIO.
 */
int nts_aead_seal(struct nts_aead *a, const struct nts_aead_ad *ad, size_t nad,
		  const uint8_t *plain, size_t len, uint8_t *out);

/*
 * nts_aead_open: authenticates and decrypts IN (LEN >= 16 bytes: V then the ciphertext)
 * with the associated data AD into PLAIN (LEN - 16 bytes, not overlapping IN).
 * RETURN VALUE: 0, -EBADMSG (not authentic: PLAIN is wiped), -EINVAL or -EIO.
 */
int nts_aead_open(struct nts_aead *a, const struct nts_aead_ad *ad, size_t nad,
		  const uint8_t *in, size_t len, uint8_t *plain);

/* nts_aead_release: wipes the key material and frees the contexts; a released or zeroed A
 * is a no-op. */
void nts_aead_release(struct nts_aead *a);

#endif /* QUORUM_NTS_AEAD_H */
