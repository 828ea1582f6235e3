/* malfeasance-report.h -- the payload of uml001.gossip.malfeasance (proto
 * uml001.MalfeasanceReport): two different attestations an authority signed for one
 * sequence. Shared by the gossip stage, which writes a report and checks it before sending
 * it, and the control stage, which checks it again before it quarantines anybody: both
 * accept exactly the same reports. Compiled into each of the two plugins. */
#ifndef QUORUM_MALFEASANCE_REPORT_H
#define QUORUM_MALFEASANCE_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include <quorum/event.h>

#include "hex.h" /* hex_encode */

#define MALFEASANCE_DIGEST_LEN 32

/* Verifies SIG (SIG_LEN bytes) over MSG (LEN bytes) as AUTHORITY_ID's Ed25519 signature
 * with its key KEY_ID: api->authority_verify's contract (0, -ENOENT, -EBADMSG, -ENOMEM). */
typedef int (*malfeasance_verify_fn)(void *arg, const char *authority_id, const char *key_id,
				     const void *msg, size_t len, const void *sig,
				     size_t sig_len);

/* What a checked report says. */
struct malfeasance_summary {
	char authority_id[QUORUM_NODE_ID_MAX + 1];
	char reporter[QUORUM_NODE_ID_MAX + 1];
	uint64_t sequence;
	uint8_t first_digest[MALFEASANCE_DIGEST_LEN]; /* SHA-256 of the signed bytes */
	uint8_t second_digest[MALFEASANCE_DIGEST_LEN];
};

/*
 * malfeasance_report_encode: the report that AUTHORITY_ID signed the attestations A and B
 * (each a SignedState's encoding, A_LEN and B_LEN bytes) for SEQUENCE, by REPORTER. The two
 * are put in the order of their digests (the lower first), so one pair has one report.
 * Nothing is checked here: see malfeasance_report_check.
 * RETURN VALUE: 0 with *OUT (new, free()) and *LEN; -EINVAL (A or B is no SignedState) or
 * -ENOMEM.
 */
int malfeasance_report_encode(const char *authority_id, uint64_t sequence, const uint8_t *a,
			      size_t a_len, const uint8_t *b, size_t b_len,
			      const char *reporter, uint8_t **out, size_t *len);

/*
 * malfeasance_report_check: whether PAYLOAD (LEN bytes) is evidence: a canonical report
 * without unknown fields, naming an authority and a reporter, holding two attestations
 * (event uml001.authority.attestation, a canonical TimeAttestation payload) by that
 * authority for that sequence, each consistent with its envelope (key id, time), with
 * different signed bytes in digest order, and each signature valid by VERIFY (ARG passed
 * through) for the authority and the key id it names.
 * RETURN VALUE: 0 with OUT filled, or -1 with *WHY (static: "report_undecodable",
 * "report_not_canonical", "report_malformed", "attestation_malformed",
 * "attestation_other_authority", "attestation_other_sequence", "attestations_identical",
 * "attestations_unordered", "unknown_key", "signature_invalid").
 */
int malfeasance_report_check(const uint8_t *payload, size_t len, malfeasance_verify_fn verify,
			     void *arg, struct malfeasance_summary *out, const char **why);

struct Uml001__SignedState;

/* malfeasance_attestation_digest: the SHA-256 of S's signed-state bytes (<quorum/event.h>):
 * what tells two attestations apart, here and in the gossip stage's evidence index.
 * RETURN VALUE: 0 or -ENOMEM. */
int malfeasance_attestation_digest(const struct Uml001__SignedState *s,
				   uint8_t digest[MALFEASANCE_DIGEST_LEN]);

#endif /* QUORUM_MALFEASANCE_REPORT_H */
