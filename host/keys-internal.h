/* keys-internal.h -- Ed25519 keys: generation, PEM files, key ids, signing and verifying,
 * and the keyring of trusted public keys. Used by quorumd and the quorum-* tools. */
#ifndef QUORUM_KEYS_INTERNAL_H
#define QUORUM_KEYS_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#define KEY_ID_BYTES	  8
#define KEY_ID_HEX_LEN	  (2 * KEY_ID_BYTES)
#define KEY_SIGNATURE_LEN 64
#define KEY_PUBLIC_LEN	  32
#define KEY_FILE_MAX	  16384

/* key_generate: a new Ed25519 key pair. RETURN VALUE: new reference, or NULL. */
EVP_PKEY *key_generate(void);

/*
 * key_id: the id of KEY's public half: hex of the first 8 bytes of SHA-256(raw public key).
 * OUT receives 17 bytes (16 hex digits and a NUL). RETURN VALUE: 0 or -EINVAL.
 */
int key_id(EVP_PKEY *key, char out[KEY_ID_HEX_LEN + 1]);

/*
 * key_load_private / key_load_public: read a PEM file (PKCS#8 private key, SubjectPublicKeyInfo
 * public key) holding an Ed25519 key. A private key file must not be accessible by group or
 * others. RETURN VALUE: 0 with *OUT a new reference, or -errno with a description in WHY.
 */
int key_load_private(const char *path, EVP_PKEY **out, char *why, size_t why_size);
int key_load_public(const char *path, EVP_PKEY **out, char *why, size_t why_size);

/* key_load_public_raw: key_load_public, then the key's KEY_PUBLIC_LEN raw bytes into PUB.
 * RETURN VALUE: 0, or -errno with a description in WHY. */
int key_load_public_raw(const char *path, uint8_t pub[KEY_PUBLIC_LEN], char *why,
			size_t why_size);

/* key_save_private (mode 0600) / key_save_public (0644): write PEM to a new file; fails if
 * it exists unless REPLACE. RETURN VALUE: 0 or -errno with WHY. */
int key_save_private(EVP_PKEY *key, const char *path, int replace, char *why, size_t why_size);
int key_save_public(EVP_PKEY *key, const char *path, int replace, char *why, size_t why_size);

/* key_sign: Ed25519 signature of MSG into SIG (64 bytes). RETURN VALUE: 0 or -EIO. */
int key_sign(EVP_PKEY *key, const void *msg, size_t len, uint8_t sig[KEY_SIGNATURE_LEN]);

/* key_verify: RETURN VALUE: 0 when SIG is KEY's valid signature of MSG, else -EBADMSG. */
int key_verify(EVP_PKEY *key, const void *msg, size_t len, const uint8_t *sig, size_t sig_len);

/* A set of trusted public keys, found by key id. */
struct keyring {
	size_t count;
	struct keyring_entry {
		char id[KEY_ID_HEX_LEN + 1];
		char *source; /* file the key came from */
		EVP_PKEY *key;
		char **names; /* the only plugin names it may sign, or NULL: any */
		size_t name_count;
	} * entries;
};

/* keyring_add_file: loads the public key in PATH into RING.
 * RETURN VALUE: 0, -EEXIST when a key with the same id is already there, or -errno; WHY. */
int keyring_add_file(struct keyring *ring, const char *path, char *why, size_t why_size);

/* keyring_find: the key with id ID, borrowed from RING, or NULL. */
EVP_PKEY *keyring_find(const struct keyring *ring, const char *id);

/* keyring_scope: restricts the key with id ID to signing the COUNT plugin NAMES (copied).
 * RETURN VALUE: 0, -ENOENT (no such key), -EEXIST (already scoped) or -ENOMEM. */
int keyring_scope(struct keyring *ring, const char *id, const char *const *names, size_t count);

/* keyring_may_sign: 1 when the key with id ID may sign plugin NAME (unscoped, or NAME is
 * among its names), else 0. When not, *SCOPE (may be NULL) receives its names, joined by
 * ", " into SCOPE_SIZE bytes. */
int keyring_may_sign(const struct keyring *ring, const char *id, const char *name, char *scope,
		     size_t scope_size);

/* keyring_release: frees the contents of RING (not RING itself); RING is empty after. */
void keyring_release(struct keyring *ring);

#endif /* QUORUM_KEYS_INTERNAL_H */
