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
	size_t pos = 0;

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
	if (next_line(text, len, &pos, line, sizeof(line)) != 0 || strlen(line) != 44 ||
	    EVP_DecodeBlock(raw, (const unsigned char *)line, 44) != 33 || line[43] != '=' ||
	    line[42] == '=') {
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
	return (uint32_t)digest[0] << 24 | (uint32_t)digest[1] << 16 | (uint32_t)digest[2] << 8 |
	       digest[3];
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
	/* The text ends at the first empty line: "\n\n" (the text is non-empty). */
	for (size_t i = 0; i + 1 < len; i++) {
		if (note[i] == '\n' && note[i + 1] == '\n') {
			*text_len = i + 1;
			return 0;
		}
	}
	return -EBADMSG;
}

static int ed25519_verify(const uint8_t pub[NOTE_PUB_LEN], const void *msg, size_t len,
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

/* Walks NOTE's signature lines by NAME; CHECK(ARG, key hash, signature, text, text length)
 * says whether a line is the signer's: 1 verified, 0 another key, -1 not its signature. */
typedef int (*note_check_fn)(void *arg, uint32_t key_hash, const uint8_t sig[NOTE_SIG_LEN],
			     const char *text, size_t text_len);

static int note_walk(const char *note, size_t len, const char *name, note_check_fn check,
		     void *arg, size_t *text_len, const char **why)
{
	size_t pos, tlen;
	int seen_lines = 0;

	if (len == 0 || note[len - 1] != '\n' || memchr(note, '\0', len) != NULL ||
	    note_text_length(note, len, &tlen) != 0) {
		*why = "note_malformed";
		return -EBADMSG;
	}
	pos = tlen + 1; /* past the empty line */
	while (pos < len) {
		const char *line = note + pos, *nl = memchr(line, '\n', len - pos);
		size_t n = (size_t)(nl - line), name_len;
		const char *sp;
		unsigned char blob[80];
		int dec, verdict;
		uint32_t kh;

		pos += n + 1;
		seen_lines++;
		if (n < 4 || memcmp(line, EM_DASH " ", 4) != 0) {
			*why = "note_signature_line_malformed";
			return -EBADMSG;
		}
		line += 4;
		n -= 4;
		sp = memchr(line, ' ', n);
		if (sp == NULL) {
			*why = "note_signature_line_malformed";
			return -EBADMSG;
		}
		name_len = (size_t)(sp - line);
		if (name_len != strlen(name) || memcmp(line, name, name_len) != 0)
			continue; /* another signer's line */
		n -= name_len + 1;
		/* 4 + 64 bytes encode to 92 base64 characters with no padding beyond "==" */
		if (n != 92) {
			*why = "note_signature_malformed";
			return -EBADMSG;
		}
		dec = EVP_DecodeBlock(blob, (const unsigned char *)sp + 1, (int)n);
		if (dec != 69) { /* 68 bytes and one pad byte */
			*why = "note_signature_malformed";
			return -EBADMSG;
		}
		kh = (uint32_t)blob[0] << 24 | (uint32_t)blob[1] << 16 | (uint32_t)blob[2] << 8 |
		     blob[3];
		verdict = check(arg, kh, blob + 4, note, tlen);
		if (verdict == 0)
			continue;
		if (verdict < 0) {
			*why = "note_signature_invalid";
			return -EPERM;
		}
		*text_len = tlen;
		return 0;
	}
	*why = seen_lines == 0 ? "note_unsigned" : "note_no_signature_by_key";
	return -ENOKEY;
}

struct pub_check {
	const uint8_t *pub;
	uint32_t key_hash;
};

static int check_with_pub(void *arg, uint32_t key_hash, const uint8_t sig[NOTE_SIG_LEN],
			  const char *text, size_t text_len)
{
	struct pub_check *pc = arg;

	if (key_hash != pc->key_hash)
		return 0;
	return ed25519_verify(pc->pub, text, text_len, sig) ? 1 : -1;
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

static int check_with_fn(void *arg, uint32_t key_hash, const uint8_t sig[NOTE_SIG_LEN],
			 const char *text, size_t text_len)
{
	struct fn_check *fc = arg;

	(void)key_hash;
	return fc->verify(fc->arg, text, text_len, sig) == 0 ? 1 : -1;
}

int note_verify_by(const char *note, size_t len, const char *name, note_verify_fn verify,
		   void *arg, size_t *text_len, const char **why)
{
	struct fn_check fc = { verify, arg };

	return note_walk(note, len, name, check_with_fn, &fc, text_len, why);
}
