/* plugin-sig-internal.h -- the NAME.so.sig format: an Ed25519 signature, by a key named by
 * its id, over a domain line, the plugin's name and the SHA-256 of the plugin file. */
#ifndef QUORUM_PLUGIN_SIG_INTERNAL_H
#define QUORUM_PLUGIN_SIG_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/sha.h>

#include "keys-internal.h"

/*
 * The file is exactly these six lines, each ended by '\n', hex in lowercase:
 *   quorum-plugin-signature-v1
 *   algorithm ed25519
 *   key-id <16 hex>
 *   name <plugin name>
 *   file-sha256 <64 hex>
 *   signature <128 hex>
 * The signature covers the bytes of the first five lines. Parsing is canonical: the parsed
 * fields must re-serialise to the same bytes, so no bit of the file can change unnoticed.
 */
#define PLUGIN_SIG_DOMAIN "quorum-plugin-signature-v1"
#define PLUGIN_SIG_MAX	  1024
#define PLUGIN_NAME_MAX	  32

struct plugin_signature {
	char key_id[KEY_ID_HEX_LEN + 1];
	char name[PLUGIN_NAME_MAX + 1];
	uint8_t file_sha256[SHA256_DIGEST_LENGTH];
	uint8_t signature[KEY_SIGNATURE_LEN];
	size_t signed_len; /* bytes of the text that the signature covers */
};

/* plugin_name_valid: 1 when NAME is [a-z0-9_-]{1,32} and starts with a letter, else 0. */
int plugin_name_valid(const char *name);

/*
 * plugin_signature_create: signs FILE (LEN bytes) as plugin NAME with KEY.
 * RETURN VALUE: 0 with *TEXT (new, free()) and *TEXT_LEN, or -errno with WHY.
 */
int plugin_signature_create(EVP_PKEY *key, const char *name, const uint8_t *file, size_t len,
			    char **text, size_t *text_len, char *why, size_t why_size);

/* plugin_signature_parse: strict, canonical parse of a .sig file's TEXT.
 * RETURN VALUE: 0 with OUT filled, or -EINVAL with WHY naming the first bad line. */
int plugin_signature_parse(const uint8_t *text, size_t len, struct plugin_signature *out,
			   char *why, size_t why_size);

/*
 * plugin_signature_verify: checks that SIG_TEXT signs FILE as plugin EXPECTED_NAME with a key
 * from TRUSTED. On success KEY_ID_OUT (17 bytes, may be NULL) receives the signer's key id.
 * RETURN VALUE: 0, or a negative code with WHY: -EINVAL malformed signature file,
 * -EACCES name mismatch, -ENOKEY key not trusted, -EBADMSG hash or signature mismatch.
 */
int plugin_signature_verify(const uint8_t *sig_text, size_t sig_len, const uint8_t *file,
			    size_t file_len, const char *expected_name,
			    const struct keyring *trusted, char *key_id_out, char *why,
			    size_t why_size);

#endif /* QUORUM_PLUGIN_SIG_INTERNAL_H */
