/* plugin-sig-internal.h -- the NAME.so.sig format: an Ed25519 signature, by a key named by
 * its id, over what the plugin is (name, kind, role, version, ABI) and its file's SHA-256. */
#ifndef QUORUM_PLUGIN_SIG_INTERNAL_H
#define QUORUM_PLUGIN_SIG_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/sha.h>

#include "keys-internal.h"

/*
 * Format 2 (this release): the first line names the format ("-v2", the format's version
 * byte) and the signed statement binds what the plugin is, not only its bytes, so the host
 * can refuse a wrong kind, an ABI it cannot load or an older version before running any of
 * its code. The file is exactly these ten lines, each ended by '\n', hex in lowercase:
 *   quorum-plugin-signature-v2
 *   algorithm ed25519
 *   key-id <16 hex>
 *   name <plugin name>
 *   kind stage|transport
 *   role none|passport|vault|gossip|merkle|convergence|control   (none for a transport)
 *   version <plugin version: see plugin_version_parse>
 *   abi <major>.<minor>      (decimal, as the plugin was built: its descriptor's)
 *   file-sha256 <64 hex>
 *   signature <128 hex>
 * The signature covers the bytes of the first nine lines.
 *
 * Format 1 (legacy, before it): six lines, the same first four and last two
 *   quorum-plugin-signature-v1 / algorithm / key-id / name / file-sha256 / signature
 * binding only the name and the file's hash; quorumd refuses it unless
 * allow_legacy_signatures is set.
 *
 * Parsing is canonical: the parsed fields must re-serialise to the same bytes, so no bit of
 * the file can change unnoticed.
 */
#define PLUGIN_SIG_DOMAIN_V1	"quorum-plugin-signature-v1"
#define PLUGIN_SIG_DOMAIN_V2	"quorum-plugin-signature-v2"
#define PLUGIN_SIG_MAX		1024
#define PLUGIN_NAME_MAX		32
#define PLUGIN_VERSION_MAX	31 /* characters of a version string */
#define PLUGIN_VERSION_PARTS	4  /* at most 4 dotted numbers */
#define PLUGIN_VERSION_PART_MAX 999999999u

/* What a format-2 signature states about the plugin besides the file's hash. */
struct plugin_statement {
	char name[PLUGIN_NAME_MAX + 1];
	uint32_t kind; /* QUORUM_PLUGIN_STAGE or QUORUM_PLUGIN_TRANSPORT */
	uint32_t role; /* QUORUM_ROLE_*: a stage's role, NONE for a transport */
	char version[PLUGIN_VERSION_MAX + 1];
	uint16_t abi_major;
	uint16_t abi_minor;
};

struct plugin_signature {
	unsigned format; /* 1 or 2 */
	char key_id[KEY_ID_HEX_LEN + 1];
	struct plugin_statement statement; /* format 1: only the name */
	uint8_t file_sha256[SHA256_DIGEST_LENGTH];
	uint8_t signature[KEY_SIGNATURE_LEN];
	size_t signed_len; /* bytes of the text that the signature covers */
};

/* A parsed version: dotted decimal numbers, compared number by number. */
struct plugin_version {
	uint32_t parts[PLUGIN_VERSION_PARTS];
	unsigned count;
};

/* plugin_name_valid: 1 when NAME is [a-z0-9_-]{1,32} and starts with a letter, else 0. */
int plugin_name_valid(const char *name);

/*
 * plugin_version_parse: TEXT as a plugin version: 1 to PLUGIN_VERSION_PARTS decimal numbers
 * (each 0 to PLUGIN_VERSION_PART_MAX, no sign, no leading zero but in "0") joined by single
 * dots, at most PLUGIN_VERSION_MAX characters: "1", "0.1.0", "2.10.3". Anything else
 * ("1.0-rc1", "v2", "1..2", "01.2") is refused, so that every version has one spelling and an
 * order. RETURN VALUE: 0 with OUT (may be NULL), or -EINVAL.
 */
int plugin_version_parse(const char *text, struct plugin_version *out);

/* plugin_version_compare: <0, 0 or >0 as A is older than, as old as or newer than B; missing
 * trailing numbers count as 0 ("1.0" == "1.0.0" < "1.0.1" < "1.2" < "1.10"). */
int plugin_version_compare(const struct plugin_version *a, const struct plugin_version *b);

/* plugin_statement_check: whether ST can be signed: a valid name, a known kind, a role fitting
 * the kind (a stage role for a stage, none for a transport), a valid version.
 * RETURN VALUE: 0, or -EINVAL with WHY. */
int plugin_statement_check(const struct plugin_statement *st, char *why, size_t why_size);

/* plugin_kind_parse / plugin_role_parse: "stage"/"transport", and the role names of
 * quorum_role_name ("none", "passport" ... "control"). RETURN VALUE: 0 with *OUT, or -EINVAL.
 */
int plugin_kind_parse(const char *text, size_t len, uint32_t *out);
int plugin_role_parse(const char *text, size_t len, uint32_t *out);

/*
 * plugin_signature_create: signs FILE (LEN bytes) with KEY in FORMAT 2, stating ST (checked
 * with plugin_statement_check), or in legacy FORMAT 1 (ST's name only) for hosts older than
 * format 2.
 * RETURN VALUE: 0 with *TEXT (new, free()) and *TEXT_LEN, or -errno with WHY.
 */
int plugin_signature_create(EVP_PKEY *key, unsigned format, const struct plugin_statement *st,
			    const uint8_t *file, size_t len, char **text, size_t *text_len,
			    char *why, size_t why_size);

/* plugin_signature_parse: strict, canonical parse of a .sig file's TEXT, either format.
 * RETURN VALUE: 0 with OUT filled, or -EINVAL with WHY naming the first bad line. */
int plugin_signature_parse(const uint8_t *text, size_t len, struct plugin_signature *out,
			   char *why, size_t why_size);

/*
 * plugin_signature_verify: checks that SIG_TEXT signs FILE as plugin EXPECTED_NAME with a key
 * from TRUSTED, in either format (the caller decides whether format 1 is acceptable). On
 * success OUT (may be NULL) receives the parsed signature: format, key id, statement.
 * RETURN VALUE: 0, or a negative code with WHY: -EINVAL malformed signature file,
 * -EACCES name mismatch, -ENOKEY key not trusted, -EBADMSG hash or signature mismatch.
 */
int plugin_signature_verify(const uint8_t *sig_text, size_t sig_len, const uint8_t *file,
			    size_t file_len, const char *expected_name,
			    const struct keyring *trusted, struct plugin_signature *out,
			    char *why, size_t why_size);

#endif /* QUORUM_PLUGIN_SIG_INTERNAL_H */
