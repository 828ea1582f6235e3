/* plugin-sig.c -- creating, parsing and verifying NAME.so.sig plugin signatures.
 * See plugin-sig-internal.h for the format; parsing is strict and canonical. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "plugin-sig-internal.h"
#include "util-internal.h"

int plugin_name_valid(const char *name)
{
	size_t len = strlen(name);

	if (len == 0 || len > PLUGIN_NAME_MAX || name[0] < 'a' || name[0] > 'z')
		return 0;
	for (size_t i = 0; i < len; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
			return 0;
	}
	return 1;
}

/* Writes the five signed lines into BUF; returns their length or -ENAMETOOLONG. */
static int plugin_signature_header(char *buf, size_t size, const char *key_id, const char *name,
				   const uint8_t sha[SHA256_DIGEST_LENGTH])
{
	char sha_hex[2 * SHA256_DIGEST_LENGTH + 1];
	int n;

	hex_encode(sha, SHA256_DIGEST_LENGTH, sha_hex);
	n = snprintf(buf, size, "%s\nalgorithm ed25519\nkey-id %s\nname %s\nfile-sha256 %s\n",
		     PLUGIN_SIG_DOMAIN, key_id, name, sha_hex);
	if (n < 0 || (size_t)n >= size)
		return -ENAMETOOLONG;
	return n;
}

int plugin_signature_create(EVP_PKEY *key, const char *name, const uint8_t *file, size_t len,
			    char **text, size_t *text_len, char *why, size_t why_size)
{
	uint8_t sha[SHA256_DIGEST_LENGTH], sig[KEY_SIGNATURE_LEN];
	char id[KEY_ID_HEX_LEN + 1], *buf;
	int header_len;

	if (!plugin_name_valid(name)) {
		errbuf_set(why, why_size,
			   "invalid plugin name '%s' (want [a-z][a-z0-9_-]{0,31})", name);
		return -EINVAL;
	}
	if (key_id(key, id) != 0) {
		errbuf_set(why, why_size, "the signing key is not an Ed25519 key");
		return -EINVAL;
	}
	buf = malloc(PLUGIN_SIG_MAX);
	if (buf == NULL)
		return -ENOMEM;
	SHA256(file, len, sha);
	header_len = plugin_signature_header(buf, PLUGIN_SIG_MAX, id, name, sha);
	if (header_len < 0 || key_sign(key, buf, (size_t)header_len, sig) != 0) {
		errbuf_set(why, why_size, "cannot sign plugin '%s'", name);
		free(buf);
		return -EIO;
	}
	strcpy(buf + header_len, "signature ");
	hex_encode(sig, sizeof(sig), buf + header_len + strlen("signature "));
	strcat(buf, "\n");
	*text = buf;
	*text_len = strlen(buf);
	return 0;
}

/* Reads one '\n'-terminated line starting with PREFIX from *CURSOR; returns the value's
 * start and length, or NULL when the line is missing, unterminated or has another prefix. */
static const char *sig_line(const char **cursor, const char *end, const char *prefix,
			    size_t *value_len)
{
	size_t prefix_len = strlen(prefix);
	const char *line = *cursor, *nl;

	if ((size_t)(end - line) < prefix_len || memcmp(line, prefix, prefix_len) != 0)
		return NULL;
	nl = memchr(line, '\n', (size_t)(end - line));
	if (nl == NULL)
		return NULL;
	*value_len = (size_t)(nl - line) - prefix_len;
	*cursor = nl + 1;
	return line + prefix_len;
}

int plugin_signature_parse(const uint8_t *text, size_t len, struct plugin_signature *out,
			   char *why, size_t why_size)
{
	const char *cur = (const char *)text, *end = cur + len, *value;
	char canonical[PLUGIN_SIG_MAX];
	uint8_t id_bytes[KEY_ID_BYTES];
	size_t value_len;
	int header_len;

	memset(out, 0, sizeof(*out));
	if (len > PLUGIN_SIG_MAX || memchr(text, '\0', len) != NULL) {
		errbuf_set(why, why_size, "not a plugin signature file (size or NUL byte)");
		return -EINVAL;
	}
	if (sig_line(&cur, end, PLUGIN_SIG_DOMAIN, &value_len) == NULL || value_len != 0) {
		errbuf_set(why, why_size, "line 1 is not '%s'", PLUGIN_SIG_DOMAIN);
		return -EINVAL;
	}
	value = sig_line(&cur, end, "algorithm ", &value_len);
	if (value == NULL || value_len != strlen("ed25519") ||
	    memcmp(value, "ed25519", value_len) != 0) {
		errbuf_set(why, why_size, "line 2 is not 'algorithm ed25519'");
		return -EINVAL;
	}
	value = sig_line(&cur, end, "key-id ", &value_len);
	if (value == NULL || hex_decode(value, value_len, id_bytes, sizeof(id_bytes)) != 0) {
		errbuf_set(why, why_size, "line 3 is not 'key-id <16 lowercase hex digits>'");
		return -EINVAL;
	}
	memcpy(out->key_id, value, KEY_ID_HEX_LEN);
	value = sig_line(&cur, end, "name ", &value_len);
	if (value == NULL || value_len == 0 || value_len > PLUGIN_NAME_MAX) {
		errbuf_set(why, why_size, "line 4 is not 'name <plugin name>'");
		return -EINVAL;
	}
	memcpy(out->name, value, value_len);
	if (!plugin_name_valid(out->name)) {
		errbuf_set(why, why_size, "line 4 holds an invalid plugin name");
		return -EINVAL;
	}
	value = sig_line(&cur, end, "file-sha256 ", &value_len);
	if (value == NULL ||
	    hex_decode(value, value_len, out->file_sha256, sizeof(out->file_sha256)) != 0) {
		errbuf_set(why, why_size,
			   "line 5 is not 'file-sha256 <64 lowercase hex digits>'");
		return -EINVAL;
	}
	out->signed_len = (size_t)(cur - (const char *)text);
	value = sig_line(&cur, end, "signature ", &value_len);
	if (value == NULL ||
	    hex_decode(value, value_len, out->signature, sizeof(out->signature)) != 0) {
		errbuf_set(why, why_size,
			   "line 6 is not 'signature <128 lowercase hex digits>'");
		return -EINVAL;
	}
	if (cur != end) {
		errbuf_set(why, why_size, "unexpected bytes after line 6");
		return -EINVAL;
	}
	/* Canonical form: the parsed fields must spell the signed bytes exactly. */
	header_len = plugin_signature_header(canonical, sizeof(canonical), out->key_id,
					     out->name, out->file_sha256);
	if (header_len < 0 || (size_t)header_len != out->signed_len ||
	    memcmp(canonical, text, out->signed_len) != 0) {
		errbuf_set(why, why_size, "not in canonical form");
		return -EINVAL;
	}
	return 0;
}

int plugin_signature_verify(const uint8_t *sig_text, size_t sig_len, const uint8_t *file,
			    size_t file_len, const char *expected_name,
			    const struct keyring *trusted, char *key_id_out, char *why,
			    size_t why_size)
{
	struct plugin_signature sig;
	uint8_t sha[SHA256_DIGEST_LENGTH];
	char detail[ERRBUF_SIZE];
	EVP_PKEY *key;
	int err;

	err = plugin_signature_parse(sig_text, sig_len, &sig, detail, sizeof(detail));
	if (err != 0) {
		errbuf_set(why, why_size, "malformed signature file: %s", detail);
		return err;
	}
	if (strcmp(sig.name, expected_name) != 0) {
		errbuf_set(why, why_size, "signature is for plugin '%s', not '%s'", sig.name,
			   expected_name);
		return -EACCES;
	}
	key = keyring_find(trusted, sig.key_id);
	if (key == NULL) {
		errbuf_set(why, why_size,
			   "signed by key %s, which is not in trusted_plugin_keys", sig.key_id);
		return -ENOKEY;
	}
	SHA256(file, file_len, sha);
	if (CRYPTO_memcmp(sha, sig.file_sha256, sizeof(sha)) != 0) {
		errbuf_set(why, why_size,
			   "the file's SHA-256 differs from the signed one (file changed)");
		return -EBADMSG;
	}
	if (key_verify(key, sig_text, sig.signed_len, sig.signature, sizeof(sig.signature)) !=
	    0) {
		errbuf_set(why, why_size, "the Ed25519 signature by key %s does not verify",
			   sig.key_id);
		return -EBADMSG;
	}
	if (key_id_out != NULL)
		memcpy(key_id_out, sig.key_id, sizeof(sig.key_id));
	return 0;
}
