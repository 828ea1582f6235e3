/* roundnonce.h -- the nonce a node asks each quorumd authority with in one round, derived
 * from one random seed per round (proto/authority.proto SyncRound.nonce_seed), so that a
 * log can keep the round's seed instead of every answer's nonce. */
#ifndef QUORUM_ROUNDNONCE_H
#define QUORUM_ROUNDNONCE_H

#include <stdint.h>

#define ROUND_SEED_LEN	32
#define ROUND_NONCE_LEN 32 /* QUORUM_NONCE_LEN */

/*
 * round_nonce: SHA-256("quorum-round-nonce-v1" NUL || SEED || AUTHORITY_ID) into OUT. The
 * seed is fresh random bytes the asker shows nobody until the round is over, so each
 * nonce is as unpredictable as a random one, and one authority's nonce says nothing about
 * another's. Thread-safe. Aborts only if libcrypto cannot compute SHA-256 (out of memory):
 * a wrong nonce must never come out silently.
 */
void round_nonce(const uint8_t seed[ROUND_SEED_LEN], const char *authority_id,
		 uint8_t out[ROUND_NONCE_LEN]);

#endif /* QUORUM_ROUNDNONCE_H */
