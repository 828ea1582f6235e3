/* quorumctl-rounds.h -- `quorumctl vault verify` on the round log (QUORUM_RECORD_ROUNDS):
 * every kept round rebuilt, every authority's attestation checked against the
 * authorities' public keys given, and every committed agreement computed again from them
 * (a summarised round has its hash and decision only: counted, nothing to recheck). */
#ifndef QUORUM_QUORUMCTL_ROUNDS_H
#define QUORUM_QUORUMCTL_ROUNDS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct rounds_check;

/*
 * rounds_check_new: a check with the authorities' public keys in the PEM files KEY_FILES
 * (COUNT of them; each found by its key id). RETURN VALUE: new (rounds_check_free), or
 * NULL when a file cannot be read (said on standard error) or out of memory.
 */
struct rounds_check *rounds_check_new(const char *const *key_files, size_t count);

/* rounds_check_free: NULL is a no-op. */
void rounds_check_free(struct rounds_check *check);

/*
 * rounds_check_record: checks the round log record INDEX (PAYLOAD, LEN bytes): it must
 * decode and rebuild; each attestation whose key was given must verify; each committed
 * agreement whose attestations all verified must follow from them. Each problem is printed
 * on standard output. RETURN VALUE: the problems found (0: none).
 */
unsigned rounds_check_record(struct rounds_check *check, uint64_t index, const uint8_t *payload,
			     size_t len);

/* rounds_check_report: prints what was checked (one line each: rounds, attestations,
 * agreements) to OUT. RETURN VALUE: the problems found over every record. */
uint64_t rounds_check_report(const struct rounds_check *check, FILE *out);

#endif /* QUORUM_QUORUMCTL_ROUNDS_H */
