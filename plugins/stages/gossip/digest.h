/* digest.h -- the gossip stage's compact digest of a round (issue 19): for each quorumd
 * authority's attestation in it, the authority, the sequence and the SHA-256 of the
 * attestation's signed bytes. Peers compare digests with the attestations they hold and
 * exchange a full signed attestation only where two disagree. Pure encoding, no I/O. */
#ifndef QUORUM_GOSSIP_DIGEST_H
#define QUORUM_GOSSIP_DIGEST_H

#include <stddef.h>
#include <stdint.h>

#include <quorum/event.h>
#include <quorum/time.h>

#define DIGEST_VERSION	   1
#define DIGEST_HASH_LEN	   32
#define DIGEST_ENTRIES_MAX QUORUM_AUTHORITIES_MAX

struct digest_entry {
	char authority[QUORUM_NODE_ID_MAX + 1];
	uint64_t sequence;
	uint8_t hash[DIGEST_HASH_LEN];
};

/*
 * digest_encode: COUNT entries (at most DIGEST_ENTRIES_MAX, each authority 1 ..
 * QUORUM_NODE_ID_MAX printable bytes) as a digest payload: the version byte, the count (16
 * bits, big-endian), then per entry the authority's length (one byte) and bytes, the
 * sequence (64 bits, big-endian) and the hash.
 * RETURN VALUE: 0 with *OUT (new, free()) and *LEN; -EINVAL (an entry out of bounds) or
 * -ENOMEM.
 */
int digest_encode(const struct digest_entry *entries, size_t count, uint8_t **out, size_t *len);

/*
 * digest_decode: the payload P (LEN bytes) into OUT (CAP entries): exactly the layout
 * digest_encode writes, nothing before or after, every authority printable.
 * RETURN VALUE: 0 with *COUNT, or -EINVAL with *WHY (static: "digest_version",
 * "digest_truncated", "digest_too_many", "digest_authority_invalid", "digest_trailing").
 */
int digest_decode(const uint8_t *p, size_t len, struct digest_entry *out, size_t cap,
		  size_t *count, const char **why);

#endif /* QUORUM_GOSSIP_DIGEST_H */
