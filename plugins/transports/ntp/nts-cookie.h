/* nts-cookie.h -- NTS cookies (RFC 8915 section 6): the client's two keys sealed under a
 * server master key with AES-SIV, the key's id in the clear; and the ring of master keys,
 * rotated on a schedule, the previous few kept so that cookies already issued stay valid,
 * with its text form for the state folder. Pure: no files, no threads. */
#ifndef QUORUM_NTS_COOKIE_H
#define QUORUM_NTS_COOKIE_H

#include <stddef.h>
#include <stdint.h>

#include "nts-aead.h"

/* A cookie: key id (4, big-endian) | nonce (16) | V (16) | encrypted C2S and S2C keys (64).
 * The key id and the nonce are its associated data. */
#define NTS_COOKIE_NONCE_LEN 16
#define NTS_COOKIE_LEN	     (4 + NTS_COOKIE_NONCE_LEN + NTS_AEAD_TAG_LEN + 2 * NTS_AEAD_KEY_LEN)

#define NTS_KEYRING_MAX 16 /* master keys kept at most (the current one included) */

/* The keys a client and the server share after NTS-KE (RFC 8915 section 5.1). */
struct nts_cookie_keys {
	uint8_t c2s[NTS_AEAD_KEY_LEN]; /* the client's requests are sealed with this */
	uint8_t s2c[NTS_AEAD_KEY_LEN]; /* the server's answers */
};

struct nts_master_key {
	uint32_t id;
	int64_t created_s; /* Unix seconds */
	uint8_t key[NTS_AEAD_KEY_LEN];
};

/* The master keys, newest (the one that seals) first. */
struct nts_keyring {
	struct nts_master_key keys[NTS_KEYRING_MAX];
	unsigned count;
};

/*
 * nts_keyring_rotate: puts a new random key in front of R (created NOW_S, its id one above
 * the newest's, or random for an empty ring) and keeps at most KEPT keys (1 to
 * NTS_KEYRING_MAX), wiping those dropped. RETURN VALUE: 0, -EINVAL (KEPT out of range) or
 * -EIO (no randomness: R unchanged).
 */
int nts_keyring_rotate(struct nts_keyring *r, unsigned kept, int64_t now_s);

/* nts_keyring_find: the key of R with ID, or NULL (borrowed from R). */
const struct nts_master_key *nts_keyring_find(const struct nts_keyring *r, uint32_t id);

/* nts_keyring_equal: 1 when A and B hold the same keys in the same order, else 0. */
int nts_keyring_equal(const struct nts_keyring *a, const struct nts_keyring *b);

/* nts_keyring_wipe: forgets every key of R (wiped). */
void nts_keyring_wipe(struct nts_keyring *r);

/*
 * nts_keyring_format: R as text into OUT (CAP bytes, NUL-terminated): the line
 * "quorum-nts-keys-v1", then one "ID CREATED KEY" line per key, newest first (ID 8 hex
 * digits, CREATED decimal Unix seconds, KEY 64 hex digits). RETURN VALUE: its length, or
 * -ENOSPC.
 */
int nts_keyring_format(const struct nts_keyring *r, char *out, size_t cap);

/*
 * nts_keyring_parse: reads TEXT (LEN bytes) in nts_keyring_format's form into R, strictly:
 * the header, 1 to NTS_KEYRING_MAX lines, newest first (creation times not increasing), ids
 * distinct. RETURN VALUE: 0, or -EINVAL with WHY naming the line (R then wiped).
 */
int nts_keyring_parse(const char *text, size_t len, struct nts_keyring *r, char *why,
		      size_t why_size);

/*
 * nts_cookie_seal: a cookie for KEYS under the master key KEY_ID, whose prepared AEAD is
 * MASTER, with NONCE (NTS_COOKIE_NONCE_LEN fresh random bytes), into OUT
 * (NTS_COOKIE_LEN bytes). RETURN VALUE: 0 or an nts_aead_seal error.
 */
int nts_cookie_seal(struct nts_aead *master, uint32_t key_id, const uint8_t *nonce,
		    const struct nts_cookie_keys *keys, uint8_t *out);

/* nts_cookie_key_id: the master key id COOKIE (LEN bytes) names. 0, or -EINVAL when LEN is
 * not NTS_COOKIE_LEN. */
int nts_cookie_key_id(const uint8_t *cookie, size_t len, uint32_t *id);

/*
 * nts_cookie_open: the keys in COOKIE (LEN bytes) when MASTER (prepared with the key the
 * cookie names) authenticates it. RETURN VALUE: 0 with *KEYS, -EINVAL (wrong length),
 * -EBADMSG (forged or altered) or -EIO; *KEYS is wiped on failure.
 */
int nts_cookie_open(struct nts_aead *master, const uint8_t *cookie, size_t len,
		    struct nts_cookie_keys *keys);

#endif /* QUORUM_NTS_COOKIE_H */
