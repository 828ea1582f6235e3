/* passportdoc.h -- an authority's passport (schemas/passport.json): strict parsing into a
 * typed struct, the bytes its trust-root signature covers, signing and verifying, key ids,
 * capabilities. Pure functions over jansson and libcrypto: no host, unit-tested directly, and
 * shared with `quorumctl passport`. */
#ifndef QUORUM_PASSPORTDOC_H
#define QUORUM_PASSPORTDOC_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <openssl/evp.h>

#define PASSPORT_FORMAT	       "quorum-passport/1"
#define PASSPORT_DOMAIN	       "quorum-time passport v1\n" /* starts the signed bytes */
#define PASSPORT_KEY_ID_LEN    16			   /* hex digits */
#define PASSPORT_PUBLIC_LEN    32			   /* raw Ed25519 public key */
#define PASSPORT_SIGNATURE_LEN 64
#define PASSPORT_AUTHORITY_MAX 64    /* characters of authority_id */
#define PASSPORT_KEYS_MAX      16    /* keys in one passport */
#define PASSPORT_DOCUMENT_MAX  65536 /* bytes of a passport file or update payload */

/* Capabilities, as bits. */
#define PASSPORT_CAP_ATTEST_TIME 0x1u /* "attest_time": time answers, rounds, other events */
#define PASSPORT_CAP_CONTROL	 0x2u /* "control": uml001.control.* events */
#define PASSPORT_CAP_ROOT                                                                      \
	0x80u /* not a passport capability: the trust root's own                               \
		 (uml001.passport.update) */

struct passport_key {
	char key_id[PASSPORT_KEY_ID_LEN + 1];
	uint8_t public_key[PASSPORT_PUBLIC_LEN];
	int64_t not_before_ns; /* valid from this instant ... */
	int64_t not_after_ns;  /* ... up to, not including, this one */
	EVP_PKEY *key;	       /* owned: public_key, ready to verify with */
};

/* A parsed passport. Owned by whoever parsed it (passport_free). */
struct passport {
	char authority_id[PASSPORT_AUTHORITY_MAX + 1];
	int64_t serial;	       /* >= 1; a newer passport of the authority has a greater one */
	int64_t issued_ns;     /* >= 0 */
	unsigned capabilities; /* PASSPORT_CAP_* */
	size_t key_count;      /* 1 .. PASSPORT_KEYS_MAX */
	struct passport_key keys[PASSPORT_KEYS_MAX];
	char signer_key_id[PASSPORT_KEY_ID_LEN + 1];
	uint8_t signature[PASSPORT_SIGNATURE_LEN];
	uint8_t *signed_bytes; /* owned: PASSPORT_DOMAIN + the canonical document without its
				  signature (see passport_signed_bytes) */
	size_t signed_len;
	uint8_t *
		raw; /* owned: the document exactly as parsed (NUL-terminated beyond raw_len) */
	size_t raw_len;
};

/*
 * passport_parse: strict parsing of the passport JSON in DATA (LEN bytes): duplicate
 * members, unknown members, wrong types, values out of range, a key_id that is not the id of
 * its public_key, not_before_ns >= not_after_ns, no keys or a key listed twice are all
 * refused. The root signature is not checked (passport_verify).
 * RETURN VALUE: 0 with *OUT (new: passport_free), or -EINVAL (WHY says what is wrong and
 * where, e.g. "keys[0].not_after_ns: not after not_before_ns") or -ENOMEM.
 */
int passport_parse(const void *data, size_t len, struct passport **out, char *why,
		   size_t why_size);

/*
 * passport_verify: P carries the signature of the trust root whose raw public key is ROOT
 * (its id ROOT_KEY_ID) over P's signed bytes.
 * RETURN VALUE: 0, -EKEYREJECTED (signed by another key id) or -EBADMSG (a bad
 * signature), with WHY.
 */
int passport_verify(const struct passport *p, EVP_PKEY *root, const char *root_key_id,
		    char *why, size_t why_size);

/* passport_free: frees P and its keys; NULL is a no-op. */
void passport_free(struct passport *p);

/* passport_same: 1 when A and B are the same passport (signed bytes and signature). */
int passport_same(const struct passport *a, const struct passport *b);

/* passport_find_key: the key of P with id KEY_ID (borrowed from P), or NULL. */
const struct passport_key *passport_find_key(const struct passport *p, const char *key_id);

/*
 * passport_signed_bytes: what a passport's root signature covers: PASSPORT_DOMAIN followed
 * by json_dumps(DOC, JSON_COMPACT | JSON_SORT_KEYS), DOC being the passport object without
 * its "signature" member (a "signature" member of DOC is left out). DOC borrowed.
 * RETURN VALUE: new bytes (free()) with *LEN, or NULL (out of memory).
 */
uint8_t *passport_signed_bytes(const json_t *doc, size_t *len);

/*
 * passport_sign_document: signs DOC (a passport object, borrowed and changed: its
 * "signature" member is replaced) with the trust root's private key ROOT.
 * RETURN VALUE: 0, -EINVAL (ROOT is not an Ed25519 key), -ENOMEM or -EIO.
 */
int passport_sign_document(json_t *doc, EVP_PKEY *root);

/* passport_key_id_of: the key id of a raw Ed25519 public key: the hex of the first 8 bytes
 * of its SHA-256 (as quorumd's keys). OUT receives 17 bytes. */
void passport_key_id_of(const uint8_t public_key[PASSPORT_PUBLIC_LEN],
			char out[PASSPORT_KEY_ID_LEN + 1]);

/* passport_key_id_of_pkey: the same for an EVP_PKEY (private or public). 0 or -EINVAL. */
int passport_key_id_of_pkey(EVP_PKEY *key, char out[PASSPORT_KEY_ID_LEN + 1]);

/* passport_ed25519_verify: 0 when SIG (SIG_LEN bytes) is KEY's Ed25519 signature of MSG,
 * else -EBADMSG. */
int passport_ed25519_verify(EVP_PKEY *key, const void *msg, size_t len, const uint8_t *sig,
			    size_t sig_len);

/* passport_event_capability: what signing EVENT_ID needs: PASSPORT_CAP_ROOT for
 * uml001.passport.update, PASSPORT_CAP_CONTROL for uml001.control.*, else
 * PASSPORT_CAP_ATTEST_TIME. */
unsigned passport_event_capability(const char *event_id);

/* passport_capability_bit: the bit of capability NAME ("attest_time", "control"), or 0. */
unsigned passport_capability_bit(const char *name);

/* passport_capability_name: the name of one capability bit ("attest_time", "control",
 * "root"), or "unknown". */
const char *passport_capability_name(unsigned bit);

/* passport_base64_encode: standard base64 with padding of DATA (LEN bytes) into OUT
 * (4 * ((LEN + 2) / 3) + 1 bytes). */
void passport_base64_encode(const uint8_t *data, size_t len, char *out);

/* passport_base64_decode: TEXT, canonical standard base64 with padding, decoded to exactly
 * LEN bytes into OUT. RETURN VALUE: 0 or -EINVAL. */
int passport_base64_decode(const char *text, uint8_t *out, size_t len);

#endif /* QUORUM_PASSPORTDOC_H */
