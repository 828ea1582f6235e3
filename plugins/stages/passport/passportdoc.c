/* passportdoc.c -- an authority's passport: strict JSON parsing into struct passport, the
 * canonical bytes the trust root signs, Ed25519 signing and verifying, key ids, base64. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "passportdoc.h"
#include "hex.h"

#define WHY(...) snprintf(why, why_size, __VA_ARGS__)

/* ---------------------------------- base64 ---------------------------------- */

static const char b64_alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void passport_base64_encode(const uint8_t *data, size_t len, char *out)
{
	size_t i = 0;

	for (; i + 2 < len; i += 3) {
		uint32_t v = (uint32_t)data[i] << 16 | (uint32_t)data[i + 1] << 8 | data[i + 2];

		*out++ = b64_alphabet[v >> 18 & 63];
		*out++ = b64_alphabet[v >> 12 & 63];
		*out++ = b64_alphabet[v >> 6 & 63];
		*out++ = b64_alphabet[v & 63];
	}
	if (i < len) {
		uint32_t v = (uint32_t)data[i] << 16 |
			     (i + 1 < len ? (uint32_t)data[i + 1] << 8 : 0);

		*out++ = b64_alphabet[v >> 18 & 63];
		*out++ = b64_alphabet[v >> 12 & 63];
		*out++ = i + 1 < len ? b64_alphabet[v >> 6 & 63] : '=';
		*out++ = '=';
	}
	*out = '\0';
}

static int b64_value(char c)
{
	const char *p = c != '\0' ? strchr(b64_alphabet, c) : NULL;

	return p != NULL ? (int)(p - b64_alphabet) : -1;
}

int passport_base64_decode(const char *text, uint8_t *out, size_t len)
{
	size_t text_len = strlen(text), o = 0, pad = (3 - len % 3) % 3;

	if (text_len != 4 * ((len + 2) / 3))
		return -EINVAL;
	for (size_t i = 0; i < text_len; i += 4) {
		int v[4], last = i + 4 == text_len;
		uint32_t w;

		for (int j = 0; j < 4; j++) {
			if (last && j >= 4 - (int)pad) {
				if (text[i + j] != '=')
					return -EINVAL;
				v[j] = 0;
				continue;
			}
			v[j] = b64_value(text[i + j]);
			if (v[j] < 0)
				return -EINVAL;
		}
		/* Canonical only: the bits the padding leaves unused must be zero, so each
		 * value has one spelling. */
		if (last && ((pad == 1 && (v[2] & 3) != 0) || (pad == 2 && (v[1] & 15) != 0)))
			return -EINVAL;
		w = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 |
		    (uint32_t)v[3];
		for (int j = 0; j < 3 && o < len; j++)
			out[o++] = (uint8_t)(w >> (16 - 8 * j));
	}
	return 0;
}

/* ---------------------------------- keys ---------------------------------- */

void passport_key_id_of(const uint8_t public_key[PASSPORT_PUBLIC_LEN],
			char out[PASSPORT_KEY_ID_LEN + 1])
{
	uint8_t digest[SHA256_DIGEST_LENGTH];

	SHA256(public_key, PASSPORT_PUBLIC_LEN, digest);
	hex_encode(digest, PASSPORT_KEY_ID_LEN / 2, out);
}

int passport_key_id_of_pkey(EVP_PKEY *key, char out[PASSPORT_KEY_ID_LEN + 1])
{
	uint8_t raw[PASSPORT_PUBLIC_LEN];
	size_t len = sizeof(raw);

	if (EVP_PKEY_get_id(key) != EVP_PKEY_ED25519 ||
	    EVP_PKEY_get_raw_public_key(key, raw, &len) != 1 || len != sizeof(raw))
		return -EINVAL;
	passport_key_id_of(raw, out);
	return 0;
}

int passport_ed25519_verify(EVP_PKEY *key, const void *msg, size_t len, const uint8_t *sig,
			    size_t sig_len)
{
	EVP_MD_CTX *ctx;
	int ok;

	if (sig_len != PASSPORT_SIGNATURE_LEN)
		return -EBADMSG;
	ctx = EVP_MD_CTX_new();
	if (ctx == NULL)
		return -EBADMSG; /* fail closed */
	/* One-shot: OpenSSL 3.0's streaming API does not do Ed25519. */
	ok = EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, key) == 1 &&
	     EVP_DigestVerify(ctx, sig, sig_len, msg, len) == 1;
	EVP_MD_CTX_free(ctx);
	return ok ? 0 : -EBADMSG;
}

/* ------------------------------- capabilities ------------------------------- */

unsigned passport_event_capability(const char *event_id)
{
	static const char control_prefix[] = "uml001.control.";

	if (strcmp(event_id, "uml001.passport.update") == 0)
		return PASSPORT_CAP_ROOT;
	if (strncmp(event_id, control_prefix, sizeof(control_prefix) - 1) == 0)
		return PASSPORT_CAP_CONTROL;
	return PASSPORT_CAP_ATTEST_TIME;
}

unsigned passport_capability_bit(const char *name)
{
	if (strcmp(name, "attest_time") == 0)
		return PASSPORT_CAP_ATTEST_TIME;
	if (strcmp(name, "control") == 0)
		return PASSPORT_CAP_CONTROL;
	return 0;
}

const char *passport_capability_name(unsigned bit)
{
	switch (bit) {
	case PASSPORT_CAP_ATTEST_TIME:
		return "attest_time";
	case PASSPORT_CAP_CONTROL:
		return "control";
	case PASSPORT_CAP_ROOT:
		return "root";
	default:
		return "unknown";
	}
}

/* ------------------------------- signed bytes ------------------------------- */

uint8_t *passport_signed_bytes(const json_t *doc, size_t *len)
{
	json_t *copy = json_copy((json_t *)doc); /* shallow: only the top level changes */
	char *text;
	uint8_t *out = NULL;
	size_t text_len;

	if (copy == NULL)
		return NULL;
	json_object_del(copy, "signature");
	text = json_dumps(copy, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(copy);
	if (text == NULL)
		return NULL;
	text_len = strlen(text);
	out = malloc(sizeof(PASSPORT_DOMAIN) - 1 + text_len);
	if (out != NULL) {
		memcpy(out, PASSPORT_DOMAIN, sizeof(PASSPORT_DOMAIN) - 1);
		memcpy(out + sizeof(PASSPORT_DOMAIN) - 1, text, text_len);
		*len = sizeof(PASSPORT_DOMAIN) - 1 + text_len;
	}
	free(text);
	return out;
}

int passport_sign_document(json_t *doc, EVP_PKEY *root)
{
	char key_id[PASSPORT_KEY_ID_LEN + 1];
	char text[4 * ((PASSPORT_SIGNATURE_LEN + 2) / 3) + 1];
	uint8_t sig[PASSPORT_SIGNATURE_LEN], *msg;
	size_t len, sig_len = sizeof(sig);
	EVP_MD_CTX *ctx;
	json_t *signature;
	int ok;

	if (passport_key_id_of_pkey(root, key_id) != 0)
		return -EINVAL;
	msg = passport_signed_bytes(doc, &len);
	if (msg == NULL)
		return -ENOMEM;
	ctx = EVP_MD_CTX_new();
	ok = ctx != NULL && EVP_DigestSignInit(ctx, NULL, NULL, NULL, root) == 1 &&
	     EVP_DigestSign(ctx, sig, &sig_len, msg, len) == 1 && sig_len == sizeof(sig);
	EVP_MD_CTX_free(ctx);
	free(msg);
	if (!ok)
		return -EIO;
	passport_base64_encode(sig, sizeof(sig), text);
	signature = json_pack("{s:s, s:s}", "key_id", key_id, "ed25519", text);
	if (signature == NULL || json_object_set_new(doc, "signature", signature) != 0)
		return -ENOMEM;
	return 0;
}

/* --------------------------------- parsing --------------------------------- */

/* OBJ has exactly the members NAMES (all required). WHERE names OBJ in messages. */
static int members_exact(json_t *obj, const char *const *names, size_t count, const char *where,
			 char *why, size_t why_size)
{
	const char *key;
	json_t *value;

	if (!json_is_object(obj)) {
		WHY("%s: not an object", where);
		return -EINVAL;
	}
	json_object_foreach(obj, key, value)
	{
		size_t i = 0;

		while (i < count && strcmp(key, names[i]) != 0)
			i++;
		if (i == count) {
			WHY("%s: unknown member \"%.64s\"", where, key);
			return -EINVAL;
		}
	}
	for (size_t i = 0; i < count; i++) {
		if (json_object_get(obj, names[i]) == NULL) {
			WHY("%s: member \"%s\" is missing", where, names[i]);
			return -EINVAL;
		}
	}
	return 0;
}

static int get_int(json_t *obj, const char *name, int64_t min, const char *where, int64_t *out,
		   char *why, size_t why_size)
{
	json_t *v = json_object_get(obj, name);

	if (!json_is_integer(v)) {
		WHY("%s%s: not an integer", where, name);
		return -EINVAL;
	}
	if (json_integer_value(v) < min) {
		WHY("%s%s: %" JSON_INTEGER_FORMAT " is below %" PRId64, where, name,
		    json_integer_value(v), min);
		return -EINVAL;
	}
	*out = (int64_t)json_integer_value(v);
	return 0;
}

static int get_string(json_t *obj, const char *name, const char *where, const char **out,
		      char *why, size_t why_size)
{
	json_t *v = json_object_get(obj, name);

	if (!json_is_string(v)) {
		WHY("%s%s: not a string", where, name);
		return -EINVAL;
	}
	*out = json_string_value(v);
	return 0;
}

static int is_key_id(const char *s)
{
	if (strlen(s) != PASSPORT_KEY_ID_LEN)
		return 0;
	for (size_t i = 0; i < PASSPORT_KEY_ID_LEN; i++) {
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	}
	return 1;
}

/* An authority id is also a file name in the stage's state_dir: [A-Za-z0-9_][A-Za-z0-9._-]*. */
static int is_authority_id(const char *s)
{
	size_t len = strlen(s);

	if (len == 0 || len > PASSPORT_AUTHORITY_MAX || s[0] == '.' || s[0] == '-')
		return 0;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
			return 0;
	}
	return 1;
}

static int parse_key(json_t *obj, size_t index, struct passport_key *k, char *why,
		     size_t why_size)
{
	static const char *const names[] = { "key_id", "public_key", "not_before_ns",
					     "not_after_ns" };
	char where[32], computed[PASSPORT_KEY_ID_LEN + 1];
	const char *key_id, *public_key;
	int err;

	snprintf(where, sizeof(where), "keys[%zu]", index);
	err = members_exact(obj, names, 4, where, why, why_size);
	if (err != 0)
		return err;
	strcat(where, ".");
	if (get_string(obj, "key_id", where, &key_id, why, why_size) != 0 ||
	    get_string(obj, "public_key", where, &public_key, why, why_size) != 0 ||
	    get_int(obj, "not_before_ns", 0, where, &k->not_before_ns, why, why_size) != 0 ||
	    get_int(obj, "not_after_ns", 0, where, &k->not_after_ns, why, why_size) != 0)
		return -EINVAL;
	if (!is_key_id(key_id)) {
		WHY("%skey_id: not 16 lowercase hex digits", where);
		return -EINVAL;
	}
	if (passport_base64_decode(public_key, k->public_key, PASSPORT_PUBLIC_LEN) != 0) {
		WHY("%spublic_key: not the base64 of a 32-byte Ed25519 public key", where);
		return -EINVAL;
	}
	passport_key_id_of(k->public_key, computed);
	if (strcmp(computed, key_id) != 0) {
		WHY("%skey_id: %s is not the id of its public_key (%s)", where, key_id,
		    computed);
		return -EINVAL;
	}
	memcpy(k->key_id, key_id, sizeof(k->key_id));
	if (k->not_before_ns >= k->not_after_ns) {
		WHY("%snot_after_ns: not after not_before_ns", where);
		return -EINVAL;
	}
	k->key = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, k->public_key,
					     PASSPORT_PUBLIC_LEN);
	if (k->key == NULL) {
		WHY("%spublic_key: not a usable Ed25519 public key", where);
		return -EINVAL;
	}
	return 0;
}

static int parse_document(json_t *doc, struct passport *p, char *why, size_t why_size)
{
	static const char *const names[] = { "format",	  "authority_id", "serial",
					     "issued_ns", "capabilities", "keys",
					     "signature" };
	static const char *const signature_names[] = { "key_id", "ed25519" };
	const char *format, *authority, *signer, *signature;
	json_t *caps, *keys, *sig, *v;
	size_t i;
	int err;

	err = members_exact(doc, names, 7, "passport", why, why_size);
	if (err != 0)
		return err;
	if (get_string(doc, "format", "", &format, why, why_size) != 0)
		return -EINVAL;
	if (strcmp(format, PASSPORT_FORMAT) != 0) {
		WHY("format: not \"%s\"", PASSPORT_FORMAT);
		return -EINVAL;
	}
	if (get_string(doc, "authority_id", "", &authority, why, why_size) != 0)
		return -EINVAL;
	if (!is_authority_id(authority)) {
		WHY("authority_id: not 1 to %d of [A-Za-z0-9._-], starting with a letter, "
		    "digit "
		    "or _",
		    PASSPORT_AUTHORITY_MAX);
		return -EINVAL;
	}
	strcpy(p->authority_id, authority);
	if (get_int(doc, "serial", 1, "", &p->serial, why, why_size) != 0 ||
	    get_int(doc, "issued_ns", 0, "", &p->issued_ns, why, why_size) != 0)
		return -EINVAL;
	caps = json_object_get(doc, "capabilities");
	if (!json_is_array(caps)) {
		WHY("capabilities: not an array");
		return -EINVAL;
	}
	json_array_foreach(caps, i, v)
	{
		unsigned bit =
			json_is_string(v) ? passport_capability_bit(json_string_value(v)) : 0;

		if (bit == 0) {
			WHY("capabilities[%zu]: not \"attest_time\" or \"control\"", i);
			return -EINVAL;
		}
		if (p->capabilities & bit) {
			WHY("capabilities[%zu]: \"%s\" listed twice", i, json_string_value(v));
			return -EINVAL;
		}
		p->capabilities |= bit;
	}
	keys = json_object_get(doc, "keys");
	if (!json_is_array(keys)) {
		WHY("keys: not an array");
		return -EINVAL;
	}
	if (json_array_size(keys) == 0 || json_array_size(keys) > PASSPORT_KEYS_MAX) {
		WHY("keys: %zu keys, not 1 to %d", json_array_size(keys), PASSPORT_KEYS_MAX);
		return -EINVAL;
	}
	json_array_foreach(keys, i, v)
	{
		err = parse_key(v, i, &p->keys[i], why, why_size);
		p->key_count = i + 1; /* freed by passport_free, also when it failed */
		if (err != 0)
			return err;
		for (size_t j = 0; j < i; j++) {
			if (strcmp(p->keys[j].key_id, p->keys[i].key_id) == 0) {
				WHY("keys[%zu].key_id: %s is also keys[%zu]", i,
				    p->keys[i].key_id, j);
				return -EINVAL;
			}
		}
	}
	sig = json_object_get(doc, "signature");
	err = members_exact(sig, signature_names, 2, "signature", why, why_size);
	if (err != 0)
		return err;
	if (get_string(sig, "key_id", "signature.", &signer, why, why_size) != 0 ||
	    get_string(sig, "ed25519", "signature.", &signature, why, why_size) != 0)
		return -EINVAL;
	if (!is_key_id(signer)) {
		WHY("signature.key_id: not 16 lowercase hex digits");
		return -EINVAL;
	}
	strcpy(p->signer_key_id, signer);
	if (passport_base64_decode(signature, p->signature, PASSPORT_SIGNATURE_LEN) != 0) {
		WHY("signature.ed25519: not the base64 of a 64-byte Ed25519 signature");
		return -EINVAL;
	}
	p->signed_bytes = passport_signed_bytes(doc, &p->signed_len);
	if (p->signed_bytes == NULL) {
		WHY("out of memory");
		return -ENOMEM;
	}
	return 0;
}

int passport_parse(const void *data, size_t len, struct passport **out, char *why,
		   size_t why_size)
{
	struct passport *p;
	json_error_t error;
	json_t *doc;
	int err;

	if (len > PASSPORT_DOCUMENT_MAX) {
		WHY("%zu bytes, more than %d", len, PASSPORT_DOCUMENT_MAX);
		return -EINVAL;
	}
	doc = json_loadb(data, len, JSON_REJECT_DUPLICATES, &error);
	if (doc == NULL) {
		WHY("not JSON: %s (line %d, column %d)", error.text, error.line, error.column);
		return -EINVAL;
	}
	p = calloc(1, sizeof(*p));
	if (p == NULL) {
		json_decref(doc);
		WHY("out of memory");
		return -ENOMEM;
	}
	err = parse_document(doc, p, why, why_size);
	json_decref(doc);
	if (err == 0) {
		p->raw = malloc(len + 1);
		if (p->raw == NULL) {
			WHY("out of memory");
			err = -ENOMEM;
		} else {
			memcpy(p->raw, data, len);
			p->raw[len] = '\0';
			p->raw_len = len;
		}
	}
	if (err != 0) {
		passport_free(p);
		return err;
	}
	*out = p;
	return 0;
}

int passport_verify(const struct passport *p, EVP_PKEY *root, const char *root_key_id,
		    char *why, size_t why_size)
{
	if (strcmp(p->signer_key_id, root_key_id) != 0) {
		WHY("signed by key %s, not by the trust root %s", p->signer_key_id,
		    root_key_id);
		return -EKEYREJECTED;
	}
	if (passport_ed25519_verify(root, p->signed_bytes, p->signed_len, p->signature,
				    sizeof(p->signature)) != 0) {
		WHY("the trust root's signature (key %s) does not verify", root_key_id);
		return -EBADMSG;
	}
	return 0;
}

void passport_free(struct passport *p)
{
	if (p == NULL)
		return;
	for (size_t i = 0; i < p->key_count; i++)
		EVP_PKEY_free(p->keys[i].key);
	free(p->signed_bytes);
	free(p->raw);
	free(p);
}

int passport_same(const struct passport *a, const struct passport *b)
{
	return a->signed_len == b->signed_len &&
	       memcmp(a->signed_bytes, b->signed_bytes, a->signed_len) == 0 &&
	       CRYPTO_memcmp(a->signature, b->signature, sizeof(a->signature)) == 0;
}

const struct passport_key *passport_find_key(const struct passport *p, const char *key_id)
{
	for (size_t i = 0; i < p->key_count; i++) {
		if (strcmp(p->keys[i].key_id, key_id) == 0)
			return &p->keys[i];
	}
	return NULL;
}
