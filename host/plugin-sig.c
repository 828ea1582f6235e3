/* plugin-sig.c -- creating, parsing and verifying NAME.so.sig plugin signatures, and plugin
 * version strings. See plugin-sig-internal.h for the formats; parsing is strict and canonical.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include <quorum/plugin.h>

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

/* A decimal number of LEN digits at TEXT, no sign, no leading zero but in "0", at most MAX. */
static int decimal_parse(const char *text, size_t len, uint32_t max, uint32_t *out)
{
	uint64_t value = 0;

	if (len == 0 || (text[0] == '0' && len > 1))
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		if (text[i] < '0' || text[i] > '9')
			return -EINVAL;
		value = value * 10 + (uint64_t)(text[i] - '0');
		if (value > max)
			return -EINVAL;
	}
	*out = (uint32_t)value;
	return 0;
}

int plugin_version_parse(const char *text, struct plugin_version *out)
{
	struct plugin_version version = { .count = 0 };
	size_t len = strlen(text);
	const char *part = text;

	if (len == 0 || len > PLUGIN_VERSION_MAX)
		return -EINVAL;
	for (;;) {
		size_t part_len = strcspn(part, ".");

		if (version.count == PLUGIN_VERSION_PARTS ||
		    decimal_parse(part, part_len, PLUGIN_VERSION_PART_MAX,
				  &version.parts[version.count]) != 0)
			return -EINVAL;
		version.count++;
		if (part[part_len] == '\0')
			break;
		part += part_len + 1; /* past the dot; an empty part is refused above */
	}
	if (out != NULL)
		*out = version;
	return 0;
}

int plugin_version_compare(const struct plugin_version *a, const struct plugin_version *b)
{
	unsigned count = a->count > b->count ? a->count : b->count;

	for (unsigned i = 0; i < count; i++) {
		uint32_t x = i < a->count ? a->parts[i] : 0;
		uint32_t y = i < b->count ? b->parts[i] : 0;

		if (x != y)
			return x < y ? -1 : 1;
	}
	return 0;
}

static const char *kind_text(uint32_t kind)
{
	return kind == QUORUM_PLUGIN_STAGE	 ? "stage"
	       : kind == QUORUM_PLUGIN_TRANSPORT ? "transport"
						 : "unknown";
}

int plugin_kind_parse(const char *text, size_t len, uint32_t *out)
{
	static const uint32_t kinds[] = { QUORUM_PLUGIN_STAGE, QUORUM_PLUGIN_TRANSPORT };

	for (size_t i = 0; i < ARRAY_SIZE(kinds); i++) {
		const char *name = kind_text(kinds[i]);

		if (strlen(name) == len && memcmp(name, text, len) == 0) {
			*out = kinds[i];
			return 0;
		}
	}
	return -EINVAL;
}

int plugin_role_parse(const char *text, size_t len, uint32_t *out)
{
	for (uint32_t role = QUORUM_ROLE_NONE; role <= QUORUM_ROLE_COUNT; role++) {
		const char *name = quorum_role_name(role);

		if (strlen(name) == len && memcmp(name, text, len) == 0) {
			*out = role;
			return 0;
		}
	}
	return -EINVAL;
}

int plugin_statement_check(const struct plugin_statement *st, char *why, size_t why_size)
{
	if (!plugin_name_valid(st->name)) {
		errbuf_set(why, why_size,
			   "invalid plugin name '%s' (want [a-z][a-z0-9_-]{0,31})", st->name);
		return -EINVAL;
	}
	if (st->kind != QUORUM_PLUGIN_STAGE && st->kind != QUORUM_PLUGIN_TRANSPORT) {
		errbuf_set(why, why_size, "unknown plugin kind %u", st->kind);
		return -EINVAL;
	}
	if (st->kind == QUORUM_PLUGIN_STAGE &&
	    (st->role < QUORUM_ROLE_PASSPORT || st->role > QUORUM_ROLE_CONTROL)) {
		errbuf_set(why, why_size, "a stage needs a stage role, not %s",
			   quorum_role_name(st->role));
		return -EINVAL;
	}
	if (st->kind == QUORUM_PLUGIN_TRANSPORT && st->role != QUORUM_ROLE_NONE) {
		errbuf_set(why, why_size, "a transport has role none, not %s",
			   quorum_role_name(st->role));
		return -EINVAL;
	}
	if (plugin_version_parse(st->version, NULL) != 0) {
		errbuf_set(why, why_size,
			   "version '%s' is not 1 to %d dotted decimal numbers (like 1.4.2)",
			   st->version, PLUGIN_VERSION_PARTS);
		return -EINVAL;
	}
	return 0;
}

/* Writes the signed lines of FORMAT into BUF; returns their length or -ENAMETOOLONG. */
static int plugin_signature_header(char *buf, size_t size, unsigned format, const char *key_id,
				   const struct plugin_statement *st,
				   const uint8_t sha[SHA256_DIGEST_LENGTH])
{
	char sha_hex[2 * SHA256_DIGEST_LENGTH + 1];
	int n;

	hex_encode(sha, SHA256_DIGEST_LENGTH, sha_hex);
	if (format == 1)
		n = snprintf(buf, size,
			     "%s\nalgorithm ed25519\nkey-id %s\nname %s\nfile-sha256 %s\n",
			     PLUGIN_SIG_DOMAIN_V1, key_id, st->name, sha_hex);
	else
		n = snprintf(buf, size,
			     "%s\nalgorithm ed25519\nkey-id %s\nname %s\nkind %s\nrole %s\n"
			     "version %s\nabi %u.%u\nfile-sha256 %s\n",
			     PLUGIN_SIG_DOMAIN_V2, key_id, st->name, kind_text(st->kind),
			     quorum_role_name(st->role), st->version, (unsigned)st->abi_major,
			     (unsigned)st->abi_minor, sha_hex);
	if (n < 0 || (size_t)n >= size)
		return -ENAMETOOLONG;
	return n;
}

int plugin_signature_create(EVP_PKEY *key, unsigned format, const struct plugin_statement *st,
			    const uint8_t *file, size_t len, char **text, size_t *text_len,
			    char *why, size_t why_size)
{
	uint8_t sha[SHA256_DIGEST_LENGTH], sig[KEY_SIGNATURE_LEN];
	char id[KEY_ID_HEX_LEN + 1], *buf;
	int header_len, err;

	if (format != 1 && format != 2) {
		errbuf_set(why, why_size, "unknown signature format %u (1 or 2)", format);
		return -EINVAL;
	}
	err = format == 2 ? plugin_statement_check(st, why, why_size) : 0;
	if (err == 0 && !plugin_name_valid(st->name)) {
		errbuf_set(why, why_size,
			   "invalid plugin name '%s' (want [a-z][a-z0-9_-]{0,31})", st->name);
		err = -EINVAL;
	}
	if (err != 0)
		return err;
	if (key_id(key, id) != 0) {
		errbuf_set(why, why_size, "the signing key is not an Ed25519 key");
		return -EINVAL;
	}
	buf = malloc(PLUGIN_SIG_MAX);
	if (buf == NULL)
		return -ENOMEM;
	SHA256(file, len, sha);
	header_len = plugin_signature_header(buf, PLUGIN_SIG_MAX, format, id, st, sha);
	if (header_len < 0 || key_sign(key, buf, (size_t)header_len, sig) != 0) {
		errbuf_set(why, why_size, "cannot sign plugin '%s'", st->name);
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

/* The text being parsed, and the number of the line the cursor stands on. */
struct sig_cursor {
	const char *at;
	const char *end;
	int line;
};

/* Reads one '\n'-terminated line starting with PREFIX; returns the value's start and
 * length, or NULL when the line is missing, unterminated or has another prefix. */
static const char *sig_line(struct sig_cursor *c, const char *prefix, size_t *value_len)
{
	size_t prefix_len = strlen(prefix);
	const char *line = c->at, *nl;

	if ((size_t)(c->end - line) < prefix_len || memcmp(line, prefix, prefix_len) != 0)
		return NULL;
	nl = memchr(line, '\n', (size_t)(c->end - line));
	if (nl == NULL)
		return NULL;
	*value_len = (size_t)(nl - line) - prefix_len;
	c->at = nl + 1;
	c->line++;
	return line + prefix_len;
}

/* The "abi M.N" value. */
static int abi_parse(const char *text, size_t len, uint16_t *major, uint16_t *minor)
{
	const char *dot = memchr(text, '.', len);
	uint32_t a, b;

	if (dot == NULL || decimal_parse(text, (size_t)(dot - text), UINT16_MAX, &a) != 0 ||
	    decimal_parse(dot + 1, len - (size_t)(dot - text) - 1, UINT16_MAX, &b) != 0)
		return -EINVAL;
	*major = (uint16_t)a;
	*minor = (uint16_t)b;
	return 0;
}

/* The statement lines of format 2: kind, role, version, abi. */
static int sig_parse_statement(struct sig_cursor *c, struct plugin_statement *st, char *why,
			       size_t why_size)
{
	const char *value;
	size_t len;
	int line = c->line + 1; /* lines 5 to 8 */

	value = sig_line(c, "kind ", &len);
	if (value == NULL || plugin_kind_parse(value, len, &st->kind) != 0) {
		errbuf_set(why, why_size, "line %d is not 'kind stage|transport'", line);
		return -EINVAL;
	}
	value = sig_line(c, "role ", &len);
	if (value == NULL || plugin_role_parse(value, len, &st->role) != 0) {
		errbuf_set(why, why_size, "line %d is not 'role <stage role or none>'",
			   line + 1);
		return -EINVAL;
	}
	value = sig_line(c, "version ", &len);
	if (value == NULL || len == 0 || len > PLUGIN_VERSION_MAX) {
		errbuf_set(why, why_size, "line %d is not 'version <dotted numbers>'",
			   line + 2);
		return -EINVAL;
	}
	memcpy(st->version, value, len);
	value = sig_line(c, "abi ", &len);
	if (value == NULL || abi_parse(value, len, &st->abi_major, &st->abi_minor) != 0) {
		errbuf_set(why, why_size, "line %d is not 'abi <major>.<minor>'", line + 3);
		return -EINVAL;
	}
	return plugin_statement_check(st, why, why_size);
}

int plugin_signature_parse(const uint8_t *text, size_t len, struct plugin_signature *out,
			   char *why, size_t why_size)
{
	struct sig_cursor c = { .at = (const char *)text, .end = (const char *)text + len };
	char canonical[PLUGIN_SIG_MAX], detail[ERRBUF_SIZE];
	uint8_t id_bytes[KEY_ID_BYTES];
	const char *value;
	size_t value_len;
	int header_len, line;

	memset(out, 0, sizeof(*out));
	if (len > PLUGIN_SIG_MAX || memchr(text, '\0', len) != NULL) {
		errbuf_set(why, why_size, "not a plugin signature file (size or NUL byte)");
		return -EINVAL;
	}
	if (sig_line(&c, PLUGIN_SIG_DOMAIN_V2, &value_len) != NULL && value_len == 0) {
		out->format = 2;
	} else if (sig_line(&c, PLUGIN_SIG_DOMAIN_V1, &value_len) != NULL && value_len == 0) {
		out->format = 1;
	} else {
		errbuf_set(why, why_size, "line 1 is not '%s' (or the legacy '%s')",
			   PLUGIN_SIG_DOMAIN_V2, PLUGIN_SIG_DOMAIN_V1);
		return -EINVAL;
	}
	value = sig_line(&c, "algorithm ", &value_len);
	if (value == NULL || value_len != strlen("ed25519") ||
	    memcmp(value, "ed25519", value_len) != 0) {
		errbuf_set(why, why_size, "line 2 is not 'algorithm ed25519'");
		return -EINVAL;
	}
	value = sig_line(&c, "key-id ", &value_len);
	if (value == NULL || hex_decode(value, value_len, id_bytes, sizeof(id_bytes)) != 0) {
		errbuf_set(why, why_size, "line 3 is not 'key-id <16 lowercase hex digits>'");
		return -EINVAL;
	}
	memcpy(out->key_id, value, KEY_ID_HEX_LEN);
	value = sig_line(&c, "name ", &value_len);
	if (value == NULL || value_len == 0 || value_len > PLUGIN_NAME_MAX) {
		errbuf_set(why, why_size, "line 4 is not 'name <plugin name>'");
		return -EINVAL;
	}
	memcpy(out->statement.name, value, value_len);
	if (!plugin_name_valid(out->statement.name)) {
		errbuf_set(why, why_size, "line 4 holds an invalid plugin name");
		return -EINVAL;
	}
	if (out->format == 2 &&
	    sig_parse_statement(&c, &out->statement, detail, sizeof(detail)) != 0) {
		errbuf_set(why, why_size, "%s", detail);
		return -EINVAL;
	}
	line = c.line + 1;
	value = sig_line(&c, "file-sha256 ", &value_len);
	if (value == NULL ||
	    hex_decode(value, value_len, out->file_sha256, sizeof(out->file_sha256)) != 0) {
		errbuf_set(why, why_size,
			   "line %d is not 'file-sha256 <64 lowercase hex digits>'", line);
		return -EINVAL;
	}
	out->signed_len = (size_t)(c.at - (const char *)text);
	value = sig_line(&c, "signature ", &value_len);
	if (value == NULL ||
	    hex_decode(value, value_len, out->signature, sizeof(out->signature)) != 0) {
		errbuf_set(why, why_size,
			   "line %d is not 'signature <128 lowercase hex digits>'", line + 1);
		return -EINVAL;
	}
	if (c.at != c.end) {
		errbuf_set(why, why_size, "unexpected bytes after line %d", c.line);
		return -EINVAL;
	}
	/* Canonical form: the parsed fields must spell the signed bytes exactly. */
	header_len = plugin_signature_header(canonical, sizeof(canonical), out->format,
					     out->key_id, &out->statement, out->file_sha256);
	if (header_len < 0 || (size_t)header_len != out->signed_len ||
	    memcmp(canonical, text, out->signed_len) != 0) {
		errbuf_set(why, why_size, "not in canonical form");
		return -EINVAL;
	}
	return 0;
}

int plugin_signature_verify(const uint8_t *sig_text, size_t sig_len, const uint8_t *file,
			    size_t file_len, const char *expected_name,
			    const struct keyring *trusted, struct plugin_signature *out,
			    char *why, size_t why_size)
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
	if (strcmp(sig.statement.name, expected_name) != 0) {
		errbuf_set(why, why_size, "signature is for plugin '%s', not '%s'",
			   sig.statement.name, expected_name);
		return -EACCES;
	}
	key = keyring_find(trusted, sig.key_id);
	if (key == NULL) {
		errbuf_set(why, why_size,
			   "signed by key %s, which is not in trusted_plugin_keys", sig.key_id);
		return -ENOKEY;
	}
	if (!keyring_may_sign(trusted, sig.key_id, expected_name, detail, sizeof(detail))) {
		errbuf_set(why, why_size,
			   "signed by key %s, which may sign only %s (plugin_key_scopes), not "
			   "'%s'",
			   sig.key_id, detail, expected_name);
		return -EACCES;
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
	if (out != NULL)
		*out = sig;
	return 0;
}
