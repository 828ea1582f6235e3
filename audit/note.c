/* note.c -- C2SP tlog-checkpoint text and signed notes (see note.h). */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/sha.h>

#include "note.h"

#define EM_DASH "\xe2\x80\x94" /* U+2014, which starts every signature line */

static int origin_valid(const char *origin)
{
	if (origin[0] == '\0')
		return 0;
	for (const char *p = origin; *p != '\0'; p++) {
		if (*p <= 0x20 || *p > 0x7e || *p == '+')
			return 0;
	}
	return 1;
}

int checkpoint_format(const struct checkpoint *cp, char *out, size_t cap)
{
	char root64[48];
	int n;

	if (!origin_valid(cp->origin))
		return -EINVAL;
	EVP_EncodeBlock((unsigned char *)root64, cp->root, NOTE_HASH_LEN);
	if (cp->has_time)
		n = snprintf(out, cap, "%s\n%" PRIu64 "\n%s\ntime %" PRId64 " %" PRId64 " %s\n",
			     cp->origin, cp->size, root64, cp->earliest_ns, cp->latest_ns,
			     cp->synchronised ? "synchronised" : "unsynchronised");
	else
		n = snprintf(out, cap, "%s\n%" PRIu64 "\n%s\n", cp->origin, cp->size, root64);
	if (n < 0 || (size_t)n >= cap)
		return -ENOSPC;
	return n;
}

/* Copies the line starting at *POS (without its newline) into LINE; advances *POS. */
static int next_line(const char *text, size_t len, size_t *pos, char *line, size_t cap)
{
	const char *nl;
	size_t n;

	if (*pos >= len)
		return -1;
	nl = memchr(text + *pos, '\n', len - *pos);
	if (nl == NULL)
		return -1;
	n = (size_t)(nl - (text + *pos));
	if (n >= cap)
		return -1;
	memcpy(line, text + *pos, n);
	line[n] = '\0';
	*pos += n + 1;
	return 0;
}

static int parse_u64(const char *s, uint64_t *out)
{
	char *end;

	if (s[0] < '0' || s[0] > '9' || (s[0] == '0' && s[1] != '\0') || strlen(s) > 20)
		return -1;
	errno = 0;
	*out = strtoull(s, &end, 10);
	return errno != 0 || *end != '\0' ? -1 : 0;
}

static int parse_time_line(const char *line, struct checkpoint *cp)
{
	char status[32];
	long long e, l;
	int used = 0;

	if (sscanf(line, "time %lld %lld %31s%n", &e, &l, status, &used) != 3 ||
	    line[used] != '\0' || e > l)
		return -1;
	if (strcmp(status, "synchronised") == 0)
		cp->synchronised = 1;
	else if (strcmp(status, "unsynchronised") == 0)
		cp->synchronised = 0;
	else
		return -1;
	cp->has_time = 1;
	cp->earliest_ns = e;
	cp->latest_ns = l;
	return 0;
}

int checkpoint_parse(const char *text, size_t len, struct checkpoint *cp, const char **why)
{
	char line[512];
	unsigned char raw[48];
	size_t pos = 0, raw_len = 0;

	memset(cp, 0, sizeof(*cp));
	if (memchr(text, '\0', len) != NULL) {
		*why = "checkpoint_contains_nul";
		return -EINVAL;
	}
	if (next_line(text, len, &pos, line, sizeof(line)) != 0 ||
	    strlen(line) >= sizeof(cp->origin) || !origin_valid(line)) {
		*why = "checkpoint_origin_invalid";
		return -EINVAL;
	}
	memcpy(cp->origin, line, strlen(line) + 1);
	if (next_line(text, len, &pos, line, sizeof(line)) != 0 || parse_u64(line, &cp->size)) {
		*why = "checkpoint_size_invalid";
		return -EINVAL;
	}
	if (next_line(text, len, &pos, line, sizeof(line)) != 0 ||
	    note_base64_decode(line, strlen(line), raw, sizeof(raw), &raw_len) != 0 ||
	    raw_len != NOTE_HASH_LEN) {
		*why = "checkpoint_root_invalid";
		return -EINVAL;
	}
	memcpy(cp->root, raw, NOTE_HASH_LEN);
	while (pos < len) {
		if (next_line(text, len, &pos, line, sizeof(line)) != 0 || line[0] == '\0') {
			*why = "checkpoint_extension_invalid";
			return -EINVAL;
		}
		if (strncmp(line, "time ", 5) == 0 && parse_time_line(line, cp) != 0) {
			*why = "checkpoint_time_invalid";
			return -EINVAL;
		}
	}
	return 0;
}

uint32_t note_key_hash(const char *name, const uint8_t pub[NOTE_PUB_LEN])
{
	uint8_t digest[SHA256_DIGEST_LENGTH];
	uint8_t buf[NOTE_ORIGIN_MAX + 2 + NOTE_PUB_LEN];
	size_t n = strnlen(name, NOTE_ORIGIN_MAX);

	memcpy(buf, name, n);
	buf[n] = '\n';
	buf[n + 1] = 0x01; /* the Ed25519 algorithm byte */
	memcpy(buf + n + 2, pub, NOTE_PUB_LEN);
	SHA256(buf, n + 2 + NOTE_PUB_LEN, digest);
	return (uint32_t)digest[0] << 24 | (uint32_t)digest[1] << 16 |
	       (uint32_t)digest[2] << 8 | digest[3];
}

int note_format(const char *text, size_t len, const char *name, const uint8_t pub[NOTE_PUB_LEN],
		const uint8_t sig[NOTE_SIG_LEN], char *out, size_t cap)
{
	uint8_t blob[4 + NOTE_SIG_LEN];
	char blob64[96];
	uint32_t kh = note_key_hash(name, pub);
	int n;

	if (len == 0 || text[len - 1] != '\n' || !origin_valid(name))
		return -EINVAL;
	blob[0] = (uint8_t)(kh >> 24);
	blob[1] = (uint8_t)(kh >> 16);
	blob[2] = (uint8_t)(kh >> 8);
	blob[3] = (uint8_t)kh;
	memcpy(blob + 4, sig, NOTE_SIG_LEN);
	EVP_EncodeBlock((unsigned char *)blob64, blob, sizeof(blob));
	n = snprintf(out, cap, "%.*s\n" EM_DASH " %s %s\n", (int)len, text, name, blob64);
	if (n < 0 || (size_t)n >= cap)
		return -ENOSPC;
	return n;
}

int note_text_length(const char *note, size_t len, size_t *text_len)
{
	/* The text ends at the LAST empty line (C2SP signed-note): the text itself may hold
	 * empty lines, signature lines never do. The text is non-empty and ends in '\n'. */
	for (size_t i = len >= 2 ? len - 2 : 0; len >= 2; i--) {
		if (note[i] == '\n' && note[i + 1] == '\n') {
			if (i == 0)
				return -EBADMSG;
			*text_len = i + 1;
			return 0;
		}
		if (i == 0)
			break;
	}
	return -EBADMSG;
}

/* Whether NOTE (LEN bytes) is valid UTF-8 without ASCII control characters but '\n' (C2SP
 * signed-note: no NUL, no CR, no tab). */
static int note_chars_valid(const char *note, size_t len)
{
	const unsigned char *p = (const unsigned char *)note, *end = p + len;

	while (p < end) {
		unsigned char b = *p;
		uint32_t cp;
		size_t more;

		if (b < 0x80) {
			if (b < 0x20 && b != '\n')
				return 0;
			p++;
			continue;
		}
		if (b >= 0xc2 && b <= 0xdf)
			more = 1, cp = b & 0x1f;
		else if (b >= 0xe0 && b <= 0xef)
			more = 2, cp = b & 0x0f;
		else if (b >= 0xf0 && b <= 0xf4)
			more = 3, cp = b & 0x07;
		else
			return 0;
		if ((size_t)(end - p) <= more)
			return 0;
		for (size_t k = 1; k <= more; k++) {
			if ((p[k] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (p[k] & 0x3f);
		}
		/* overlong forms, surrogates, beyond U+10FFFF; C1 controls (U+0080..U+009F) */
		if ((more == 2 && cp < 0x800) ||
		    (more == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
		    (cp >= 0xd800 && cp <= 0xdfff) || (cp >= 0x80 && cp <= 0x9f))
			return 0;
		p += more + 1;
	}
	return 1;
}

static int b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

int note_base64_decode(const char *in, size_t len, uint8_t *out, size_t cap, size_t *out_len)
{
	size_t n = 0;

	if (len == 0 || len % 4 != 0)
		return -EINVAL;
	for (size_t i = 0; i < len; i += 4) {
		int v[4], pad = 0;
		uint32_t bits;

		for (int k = 0; k < 4; k++) {
			unsigned char c = (unsigned char)in[i + k];

			if (c == '=' && i + 4 == len && k >= 2) {
				v[k] = 0;
				pad++;
				continue;
			}
			if (pad > 0) /* a character after '=' */
				return -EINVAL;
			v[k] = b64_value(c);
			if (v[k] < 0)
				return -EINVAL;
		}
		bits = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 |
		       (uint32_t)v[3];
		/* canonical: the bits a padded group leaves over are zero */
		if ((pad == 1 && (bits & 0xff) != 0) || (pad == 2 && (bits & 0xffff) != 0))
			return -EINVAL;
		if (n + 3 - (size_t)pad > cap)
			return -ENOSPC;
		out[n++] = (uint8_t)(bits >> 16);
		if (pad < 2)
			out[n++] = (uint8_t)(bits >> 8);
		if (pad < 1)
			out[n++] = (uint8_t)bits;
	}
	*out_len = n;
	return 0;
}

int note_ed25519_verify(const uint8_t pub[NOTE_PUB_LEN], const void *msg, size_t len,
			const uint8_t sig[NOTE_SIG_LEN])
{
	EVP_PKEY *key = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub, NOTE_PUB_LEN);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ok = 0;

	if (key != NULL && ctx != NULL && EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, key) == 1)
		ok = EVP_DigestVerify(ctx, sig, NOTE_SIG_LEN, msg, len) == 1;
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(key);
	return ok;
}

/* Says whether a signature line by the signer's name is the signer's: CHECK(ARG, key hash,
 * signature (SIG_LEN bytes), text, text length) returns 1 verified, 0 another key's
 * (ignored), -1 the signer's key but not a valid signature (the note is refused). */
typedef int (*note_check_fn)(void *arg, uint32_t key_hash, const uint8_t *sig, size_t sig_len,
			     const char *text, size_t text_len);

/* Whether the UTF-8 character at P (N bytes left) is a Unicode space (Zs) other than
 * U+0020, or a line or paragraph separator: none may be in a key name. */
static int unicode_space(const unsigned char *p, size_t n)
{
	if (n >= 2 && p[0] == 0xc2 && p[1] == 0xa0) /* U+00A0 */
		return 1;
	if (n >= 3 && p[0] == 0xe1 && p[1] == 0x9a && p[2] == 0x80) /* U+1680 */
		return 1;
	if (n >= 3 && p[0] == 0xe2 && p[1] == 0x80 &&
	    (p[2] <= 0x8a || p[2] == 0xa8 || p[2] == 0xa9 || p[2] == 0xaf)) /* U+2000.. */
		return 1;
	if (n >= 3 && p[0] == 0xe2 && p[1] == 0x81 && p[2] == 0x9f) /* U+205F */
		return 1;
	return n >= 3 && p[0] == 0xe3 && p[1] == 0x80 && p[2] == 0x80; /* U+3000 */
}

/* One signature line (without its newline) into its name and decoded blob. 0 or -1. */
static int signature_line_parse(const char *line, size_t n, const char **name, size_t *name_len,
				uint8_t *blob, size_t cap, size_t *blob_len)
{
	const char *sp;

	if (n < 4 || memcmp(line, EM_DASH " ", 4) != 0)
		return -1;
	line += 4;
	n -= 4;
	sp = memchr(line, ' ', n);
	if (sp == NULL || sp == line)
		return -1;
	*name = line;
	*name_len = (size_t)(sp - line);
	for (size_t i = 0; i < *name_len; i++) /* no spaces, no '+' in a key name */
		if (line[i] == '+' ||
		    unicode_space((const unsigned char *)line + i, *name_len - i))
			return -1;
	n -= *name_len + 1;
	/* base64 of the 4-byte key hash and at least one signature byte, canonical only */
	if (note_base64_decode(sp + 1, n, blob, cap, blob_len) != 0 || *blob_len < 5)
		return -1;
	return 0;
}

static int note_walk(const char *note, size_t len, const char *name, note_check_fn check,
		     void *arg, size_t *text_len, const char **why)
{
	size_t pos, tlen, name_len = strlen(name);
	int lines = 0, invalid = 0, verified = 0;

	if (len == 0 || note[len - 1] != '\n' || !note_chars_valid(note, len) ||
	    note_text_length(note, len, &tlen) != 0) {
		*why = "note_malformed";
		return -EBADMSG;
	}
	pos = tlen + 1; /* past the empty line */
	while (pos < len) {
		const char *line = note + pos, *nl = memchr(line, '\n', len - pos), *lname;
		size_t n = (size_t)(nl - line), lname_len, blob_len;
		uint8_t blob[NOTE_MAX];
		int verdict;
		uint32_t kh;

		pos += n + 1;
		if (++lines > NOTE_SIGNATURES_MAX) {
			*why = "note_too_many_signatures";
			return -EBADMSG;
		}
		if (signature_line_parse(line, n, &lname, &lname_len, blob, sizeof(blob),
					 &blob_len) != 0) {
			*why = "note_signature_line_malformed";
			return -EBADMSG;
		}
		if (lname_len != name_len || memcmp(lname, name, name_len) != 0)
			continue; /* another signer's line */
		kh = (uint32_t)blob[0] << 24 | (uint32_t)blob[1] << 16 |
		     (uint32_t)blob[2] << 8 | blob[3];
		verdict = check(arg, kh, blob + 4, blob_len - 4, note, tlen);
		if (verdict == 0)
			continue; /* same name, another key: unknown, ignored */
		if (verdict < 0) {
			/* A known key's signature that fails refuses the note (C2SP: SHOULD),
			 * wherever it is, also when another line verifies. */
			invalid = 1;
			continue;
		}
		verified = 1;
	}
	if (invalid) {
		*why = "note_signature_invalid";
		return -EPERM;
	}
	if (verified) {
		*text_len = tlen;
		return 0;
	}
	*why = lines == 0 ? "note_unsigned" : "note_no_signature_by_key";
	return -ENOKEY;
}

struct pub_check {
	const uint8_t *pub;
	uint32_t key_hash;
};

static int check_with_pub(void *arg, uint32_t key_hash, const uint8_t *sig, size_t sig_len,
			  const char *text, size_t text_len)
{
	struct pub_check *pc = arg;

	if (key_hash != pc->key_hash)
		return 0; /* another key of the same name: ignored */
	if (sig_len != NOTE_SIG_LEN)
		return -1;
	return note_ed25519_verify(pc->pub, text, text_len, sig) ? 1 : -1;
}

int note_verify(const char *note, size_t len, const char *name, const uint8_t pub[NOTE_PUB_LEN],
		size_t *text_len, const char **why)
{
	struct pub_check pc = { pub, note_key_hash(name, pub) };

	return note_walk(note, len, name, check_with_pub, &pc, text_len, why);
}

struct fn_check {
	note_verify_fn verify;
	void *arg;
};

static int check_with_fn(void *arg, uint32_t key_hash, const uint8_t *sig, size_t sig_len,
			 const char *text, size_t text_len)
{
	struct fn_check *fc = arg;

	(void)key_hash;
	if (sig_len != NOTE_SIG_LEN)
		return 0; /* not an Ed25519 signature: another key's */
	/* Without the key its hash cannot be compared: a line whose signature does not verify
	 * under the signer's key is taken as another key's (ignored). */
	return fc->verify(fc->arg, text, text_len, sig) == 0 ? 1 : 0;
}

int note_verify_by(const char *note, size_t len, const char *name, note_verify_fn verify,
		   void *arg, size_t *text_len, const char **why)
{
	struct fn_check fc = { verify, arg };

	return note_walk(note, len, name, check_with_fn, &fc, text_len, why);
}
