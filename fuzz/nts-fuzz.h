/* nts-fuzz.h -- the fixed NTS keys the nts-ext fuzz target and its seeds (make-seeds.c)
 * share, so that seeded requests carry cookies and authenticators that verify. */
#ifndef QUORUM_NTS_FUZZ_H
#define QUORUM_NTS_FUZZ_H

#include <stdint.h>

#define NTS_FUZZ_KEY_ID 0x01020304u

/* Fills KEY (32 bytes) with the fixed key WHICH: 1 C2S, 2 S2C, 3 the master key. */
static inline void nts_fuzz_key(int which, uint8_t *key)
{
	for (int i = 0; i < 32; i++)
		key[i] = (uint8_t)(which * 0x11 + i);
}

#endif /* QUORUM_NTS_FUZZ_H */
