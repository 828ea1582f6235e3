/* note.h -- signed checkpoints: the C2SP tlog-checkpoint text (origin, tree size, base64
 * root, extension lines) and the C2SP signed-note envelope with Ed25519 signatures.
 *
 * A Quorum Time checkpoint carries one extension line, the node's served time when it was
 * made, so a checkpoint doubles as a signed time witness:
 *   time EARLIEST_NS LATEST_NS synchronised|unsynchronised
 * A signed note is the text, an empty line, then one line per signature:
 *   "\u2014 " KEY_NAME " " base64(key hash[4] || Ed25519 signature[64])
 * where key hash = SHA-256(KEY_NAME || "\n" || 0x01 || public key[32]), first 4 bytes. */
#ifndef QUORUM_NOTE_H
#define QUORUM_NOTE_H

#include <stddef.h>
#include <stdint.h>

#define NOTE_ORIGIN_MAX	    128
#define NOTE_MAX	    4096 /* bytes of a whole signed checkpoint */
#define NOTE_HASH_LEN	    32
#define NOTE_PUB_LEN	    32
#define NOTE_SIG_LEN	    64
#define NOTE_SIGNATURES_MAX 100 /* signature lines in one note at most */

struct checkpoint {
	char origin[NOTE_ORIGIN_MAX]; /* printable ASCII, no spaces, non-empty */
	uint64_t size;		      /* leaves (records) the tree covers */
	uint8_t root[NOTE_HASH_LEN];
	int has_time; /* the "time" extension line is present */
	int64_t earliest_ns, latest_ns;
	int synchronised;
};

/* checkpoint_format: CP's text into OUT (CAP bytes, NUL-terminated).
 * RETURN VALUE: the text's length, -EINVAL (bad origin) or -ENOSPC. */
int checkpoint_format(const struct checkpoint *cp, char *out, size_t cap);

/* checkpoint_parse: parses checkpoint TEXT (LEN bytes, the note's text without
 * signatures). Unknown extension lines are allowed and skipped; a malformed "time" line is
 * not. RETURN VALUE: 0, or -EINVAL with *WHY a static reason. */
int checkpoint_parse(const char *text, size_t len, struct checkpoint *cp, const char **why);

/* note_key_hash: the 4-byte key hash of an Ed25519 key NAME/PUB, as a big-endian number. */
uint32_t note_key_hash(const char *name, const uint8_t pub[NOTE_PUB_LEN]);

/* note_format: the signed note of TEXT (LEN bytes, ending in a newline) with one signature
 * line by NAME into OUT (CAP bytes, NUL-terminated).
 * RETURN VALUE: the note's length, or -EINVAL / -ENOSPC. */
int note_format(const char *text, size_t len, const char *name, const uint8_t pub[NOTE_PUB_LEN],
		const uint8_t sig[NOTE_SIG_LEN], char *out, size_t cap);

/*
 * note_verify: checks that NOTE (LEN bytes) is a well-formed C2SP signed note with a
 * signature line by NAME whose key hash matches PUB and whose Ed25519 signature over the
 * text verifies. Well-formed: valid UTF-8 with no ASCII control character but '\n', ending in
 * '\n'; the text ends at the LAST empty line; then 1 to NOTE_SIGNATURES_MAX lines
 * "\u2014 NAME BASE64", each name without spaces or '+', each BASE64 canonical (RFC 4648,
 * padded, unused bits zero) of a 4-byte key hash and a signature. A line counts only when
 * its name AND key hash are NAME's and PUB's: lines by other names or keys (also a
 * same-name line from another key, wherever it is) are ignored.
 * *TEXT_LEN gets the length of the signed text (the note's first bytes).
 * RETURN VALUE: 0; -EBADMSG malformed (*WHY says how); -ENOKEY no signature by that
 * name and key; -EPERM a line by that name and key whose signature does not verify
 * (C2SP: a known key's failed signature refuses the note, wherever the line is).
 */
int note_verify(const char *note, size_t len, const char *name, const uint8_t pub[NOTE_PUB_LEN],
		size_t *text_len, const char **why);

/* Checks SIG over TEXT (LEN bytes) by the signer note_verify_by was asked about: 0 valid. */
typedef int (*note_verify_fn)(void *arg, const void *text, size_t len,
			      const uint8_t sig[NOTE_SIG_LEN]);

/* note_verify_by: as note_verify, for a signer whose key the caller cannot hand over (a
 * plugin asking the host to check an authority's signature): every Ed25519-sized
 * signature line by NAME is checked with VERIFY(ARG, ...) until one verifies; as the key
 * hash cannot be compared, lines that do not verify count as other keys' (ignored), and
 * none verifying is -ENOKEY. Same return values otherwise. */
int note_verify_by(const char *note, size_t len, const char *name, note_verify_fn verify,
		   void *arg, size_t *text_len, const char **why);

/* note_ed25519_verify: 1 when SIG is PUB's valid Ed25519 signature of MSG (LEN bytes), else
 * 0. Shared by notes and cosignatures. */
int note_ed25519_verify(const uint8_t pub[NOTE_PUB_LEN], const void *msg, size_t len,
			const uint8_t sig[NOTE_SIG_LEN]);

/* note_text_length: the length of NOTE's signed text (through the newline before the LAST
 * empty line, C2SP), or -EBADMSG when there is none. */
int note_text_length(const char *note, size_t len, size_t *text_len);

/* note_base64_decode: strict, canonical RFC 4648 base64 (padded; no whitespace; the bits
 * a padded group leaves over zero) of IN (LEN characters) into OUT (CAP bytes).
 * RETURN VALUE: 0 with *OUT_LEN, -EINVAL (not canonical base64) or -ENOSPC. */
int note_base64_decode(const char *in, size_t len, uint8_t *out, size_t cap, size_t *out_len);

#endif /* QUORUM_NOTE_H */
