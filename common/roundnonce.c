/* roundnonce.c -- a round's per-authority nonces from its seed (see roundnonce.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "roundnonce.h"

#define ROUND_NONCE_DOMAIN "quorum-round-nonce-v1" /* hashed with its NUL */

void round_nonce(const uint8_t seed[ROUND_SEED_LEN], const char *authority_id,
		 uint8_t out[ROUND_NONCE_LEN])
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();

	if (md == NULL || EVP_DigestInit_ex2(md, EVP_sha256(), NULL) != 1 ||
	    EVP_DigestUpdate(md, ROUND_NONCE_DOMAIN, sizeof(ROUND_NONCE_DOMAIN)) != 1 ||
	    EVP_DigestUpdate(md, seed, ROUND_SEED_LEN) != 1 ||
	    EVP_DigestUpdate(md, authority_id, strlen(authority_id)) != 1 ||
	    EVP_DigestFinal_ex(md, out, NULL) != 1) {
		fputs("round_nonce: libcrypto failed to compute SHA-256 (out of memory?)\n",
		      stderr);
		abort();
	}
	EVP_MD_CTX_free(md);
}
