/* fuzz.h -- what every fuzz target shares: the libFuzzer entry point's prototype and
 * FUZZ_ASSERT, which stops the run (so libFuzzer keeps the input) when a property of the
 * code under test does not hold. */
#ifndef QUORUM_FUZZ_H
#define QUORUM_FUZZ_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define FUZZ_ASSERT(cond)                                                                      \
	do {                                                                                   \
		if (!(cond)) {                                                                 \
			fprintf(stderr, "%s:%d: property does not hold: %s\n", __FILE__,       \
				__LINE__, #cond);                                              \
			abort();                                                               \
		}                                                                              \
	} while (0)

#endif /* QUORUM_FUZZ_H */
