/* nts-ext.c -- NTS extension fields for NTPv4 (RFC 8915 section 5): requests read and
 * opened, answers and NAKs written, and a client's side of the same (see nts-ext.h). */
#include <errno.h>
#include <string.h>

#include <openssl/crypto.h>

#include "nts-ext.h"
#include "byteorder.h"

#define EF_HEADER 4
#define EF_MIN	  16 /* RFC 7822: the shortest extension field */
#define UID_LEN	  32 /* what our own client sends */

struct field {
	uint16_t type;
	size_t offset; /* from the start of the buffer walked */
	size_t len;    /* the whole field, header included */
	const uint8_t *body;
	size_t body_len;
};

static size_t pad4(size_t n)
{
	return (n + 3) & ~(size_t)3;
}

/* The field at *POS of BUF (LEN bytes), *POS moved past it. RETURN VALUE: 1 with *F, 0 at
 * the end, -1 when what follows is no well-formed field (RFC 7822: at least 16 bytes, a
 * multiple of 4, within the buffer). */
static int field_next(const uint8_t *buf, size_t len, size_t *pos, struct field *f)
{
	size_t flen;

	if (*pos == len)
		return 0;
	if (len - *pos < EF_HEADER)
		return -1;
	flen = get_be16(buf + *pos + 2);
	if (flen < EF_MIN || flen % 4 != 0 || flen > len - *pos)
		return -1;
	f->type = get_be16(buf + *pos);
	f->offset = *pos;
	f->len = flen;
	f->body = buf + *pos + EF_HEADER;
	f->body_len = flen - EF_HEADER;
	*pos += flen;
	return 1;
}

/* The authenticator's body: nonce and ciphertext lengths, each padded to 4 bytes. 0 or -1. */
static int authenticator_read(const struct field *f, const uint8_t **nonce, size_t *nonce_len,
			      const uint8_t **ciphertext, size_t *ciphertext_len)
{
	size_t nl, cl;

	if (f->body_len < 4)
		return -1;
	nl = get_be16(f->body);
	cl = get_be16(f->body + 2);
	if (4 + pad4(nl) + pad4(cl) > f->body_len)
		return -1;
	*nonce = f->body + 4;
	*nonce_len = nl;
	*ciphertext = f->body + 4 + pad4(nl);
	*ciphertext_len = cl;
	return 0;
}

static int malformed(struct nts_request *req, const char *cause)
{
	req->cause = cause;
	return -EBADMSG;
}

int nts_request_parse(const uint8_t *pkt, size_t len, struct nts_request *req)
{
	size_t pos = NTS_NTP_HEADER;
	int seen = 0, authenticated = 0;
	struct field f;

	memset(req, 0, sizeof(*req));
	req->cause = "";
	if (len <= NTS_NTP_HEADER)
		return NTS_NOT_NTS;
	for (;;) {
		int r = field_next(pkt, len, &pos, &f);

		if (r == 0)
			break;
		if (r < 0) /* before any NTS field: a MAC, or someone else's fields */
			return seen ? malformed(req, "field_malformed") : NTS_NOT_NTS;
		if (authenticated) /* RFC 8915 5.6: nothing follows the authenticator */
			return malformed(req, "field_after_authenticator");
		switch (f.type) {
		case NTS_EF_UNIQUE_ID:
			if (req->uid != NULL || f.body_len < NTS_UID_MIN)
				return malformed(req, "unique_identifier_malformed");
			req->uid = pkt + f.offset;
			req->uid_field_len = f.len;
			seen = 1;
			break;
		case NTS_EF_COOKIE:
			if (req->cookie != NULL)
				return malformed(req, "cookie_repeated");
			req->cookie = f.body;
			req->cookie_len = f.body_len;
			seen = 1;
			break;
		case NTS_EF_PLACEHOLDER:
			req->placeholders++;
			seen = 1;
			break;
		case NTS_EF_AUTHENTICATOR:
			if (authenticator_read(&f, &req->nonce, &req->nonce_len,
					       &req->ciphertext, &req->ciphertext_len) != 0 ||
			    req->nonce_len < NTS_NONCE_MIN ||
			    req->ciphertext_len < NTS_AEAD_TAG_LEN)
				return malformed(req, "authenticator_malformed");
			req->ad_len = f.offset;
			authenticated = 1;
			seen = 1;
			break;
		default:
			break; /* another field: associated data like the header */
		}
	}
	if (!seen)
		return NTS_NOT_NTS;
	if (req->uid == NULL)
		return malformed(req, "no_unique_identifier");
	if (req->cookie == NULL)
		return malformed(req, "no_cookie");
	if (!authenticated)
		return malformed(req, "no_authenticator");
	return 0;
}

/* Placeholders among the fields in PLAIN (LEN bytes). 0, or -1 when they are malformed. */
static int count_placeholders(const uint8_t *plain, size_t len, unsigned *count)
{
	size_t pos = 0;
	struct field f;
	int r;

	*count = 0;
	while ((r = field_next(plain, len, &pos, &f)) > 0) {
		if (f.type == NTS_EF_PLACEHOLDER)
			(*count)++;
	}
	return r;
}

int nts_request_open(struct nts_aead *c2s, const uint8_t *pkt, const struct nts_request *req,
		     uint8_t *plain, unsigned *placeholders)
{
	struct nts_aead_ad ad[2] = { { pkt, req->ad_len }, { req->nonce, req->nonce_len } };
	size_t plain_len = req->ciphertext_len - NTS_AEAD_TAG_LEN;
	unsigned inner = 0;
	int err;

	if (plain_len > NTS_PLAINTEXT_MAX)
		return -EMSGSIZE;
	err = nts_aead_open(c2s, ad, 2, req->ciphertext, req->ciphertext_len, plain);
	if (err != 0)
		return err;
	if (count_placeholders(plain, plain_len, &inner) != 0)
		return -EBADMSG;
	*placeholders = req->placeholders + inner;
	return 0;
}

size_t nts_response_length(size_t uid_field_len, unsigned ncookies)
{
	return NTS_NTP_HEADER + uid_field_len + EF_HEADER + 4 + NTS_NONCE_MIN +
	       NTS_AEAD_TAG_LEN + ncookies * (EF_HEADER + NTS_COOKIE_LEN);
}

unsigned nts_response_cookies(const struct nts_request *req, size_t len, unsigned placeholders)
{
	unsigned n = placeholders >= NTS_COOKIES_MAX ? NTS_COOKIES_MAX : 1 + placeholders;

	while (n > 0 && nts_response_length(req->uid_field_len, n) > len)
		n--; /* never an answer longer than its request */
	return n;
}

int nts_response_build(struct nts_aead *s2c, uint8_t *out, size_t cap, const uint8_t *uid,
		       size_t uid_field_len, const uint8_t *nonce, const uint8_t *cookies,
		       unsigned ncookies)
{
	uint8_t plain[NTS_COOKIES_MAX * (EF_HEADER + NTS_COOKIE_LEN)];
	size_t total = nts_response_length(uid_field_len, ncookies), auth, plain_len = 0;
	struct nts_aead_ad ad[2];
	int err;

	if (total > cap || ncookies > NTS_COOKIES_MAX)
		return -ENOSPC;
	memcpy(out + NTS_NTP_HEADER, uid, uid_field_len);
	auth = NTS_NTP_HEADER + uid_field_len;
	for (unsigned i = 0; i < ncookies; i++) {
		put_be16(plain + plain_len, NTS_EF_COOKIE);
		put_be16(plain + plain_len + 2, EF_HEADER + NTS_COOKIE_LEN);
		memcpy(plain + plain_len + EF_HEADER, cookies + (size_t)i * NTS_COOKIE_LEN,
		       NTS_COOKIE_LEN);
		plain_len += EF_HEADER + NTS_COOKIE_LEN;
	}
	put_be16(out + auth, NTS_EF_AUTHENTICATOR);
	put_be16(out + auth + 2, total - auth);
	put_be16(out + auth + 4, NTS_NONCE_MIN);
	put_be16(out + auth + 6, NTS_AEAD_TAG_LEN + plain_len);
	memcpy(out + auth + 8, nonce, NTS_NONCE_MIN);
	ad[0] = (struct nts_aead_ad){ out, auth };
	ad[1] = (struct nts_aead_ad){ out + auth + 8, NTS_NONCE_MIN };
	err = nts_aead_seal(s2c, ad, 2, plain, plain_len, out + auth + 8 + NTS_NONCE_MIN);
	OPENSSL_cleanse(plain, plain_len);
	return err != 0 ? err : (int)total;
}

int nts_nak_build(uint8_t *out, size_t cap, const uint8_t *uid, size_t uid_field_len)
{
	if (NTS_NTP_HEADER + uid_field_len > cap)
		return -ENOSPC;
	memcpy(out + NTS_NTP_HEADER, uid, uid_field_len);
	return (int)(NTS_NTP_HEADER + uid_field_len);
}

/* ---- a client's side ---- */

/* Appends a field of TYPE with BODY (LEN bytes, NULL: zeros), padded to 4 and to 16 bytes. */
static int put_field(uint8_t *out, size_t cap, size_t *pos, uint16_t type, const uint8_t *body,
		     size_t len)
{
	size_t flen = EF_HEADER + pad4(len);

	if (flen < EF_MIN)
		flen = EF_MIN;
	if (flen > 0xffff || cap - *pos < flen)
		return -ENOSPC;
	put_be16(out + *pos, type);
	put_be16(out + *pos + 2, flen);
	memset(out + *pos + EF_HEADER, 0, flen - EF_HEADER);
	if (body != NULL)
		memcpy(out + *pos + EF_HEADER, body, len);
	*pos += flen;
	return 0;
}

int nts_client_request(struct nts_aead *c2s, uint8_t *out, size_t cap, const uint8_t *uid,
		       const uint8_t *cookie, size_t cookie_len, unsigned placeholders,
		       const uint8_t *nonce)
{
	size_t pos = NTS_NTP_HEADER, auth;
	struct nts_aead_ad ad[2];
	int err;

	if (cap < NTS_NTP_HEADER)
		return -ENOSPC;
	err = put_field(out, cap, &pos, NTS_EF_UNIQUE_ID, uid, UID_LEN);
	if (err == 0)
		err = put_field(out, cap, &pos, NTS_EF_COOKIE, cookie, cookie_len);
	for (unsigned i = 0; err == 0 && i < placeholders; i++)
		err = put_field(out, cap, &pos, NTS_EF_PLACEHOLDER, NULL, cookie_len);
	if (err != 0)
		return err;
	auth = pos;
	if (cap - auth < EF_HEADER + 4 + NTS_NONCE_MIN + NTS_AEAD_TAG_LEN)
		return -ENOSPC;
	put_be16(out + auth, NTS_EF_AUTHENTICATOR);
	put_be16(out + auth + 2, EF_HEADER + 4 + NTS_NONCE_MIN + NTS_AEAD_TAG_LEN);
	put_be16(out + auth + 4, NTS_NONCE_MIN);
	put_be16(out + auth + 6, NTS_AEAD_TAG_LEN);
	memcpy(out + auth + 8, nonce, NTS_NONCE_MIN);
	ad[0] = (struct nts_aead_ad){ out, auth };
	ad[1] = (struct nts_aead_ad){ out + auth + 8, NTS_NONCE_MIN };
	err = nts_aead_seal(c2s, ad, 2, NULL, 0, out + auth + 8 + NTS_NONCE_MIN);
	return err != 0 ? err : (int)(auth + EF_HEADER + 4 + NTS_NONCE_MIN + NTS_AEAD_TAG_LEN);
}

int nts_client_response(struct nts_aead *s2c, const uint8_t *pkt, size_t len,
			const uint8_t *uid, uint8_t *plain, const uint8_t **cookies,
			size_t *cookie_lens)
{
	const uint8_t *nonce = NULL, *ciphertext = NULL;
	size_t pos = NTS_NTP_HEADER, nonce_len = 0, ciphertext_len = 0, plain_len;
	int uid_ok = 0, authenticated = 0, count = 0, r;
	struct nts_aead_ad ad[2];
	struct field f;

	if (len < NTS_NTP_HEADER)
		return -EBADMSG;
	while ((r = field_next(pkt, len, &pos, &f)) > 0) {
		if (authenticated)
			return -EBADMSG;
		if (f.type == NTS_EF_UNIQUE_ID) {
			if (uid_ok || f.body_len != UID_LEN ||
			    CRYPTO_memcmp(f.body, uid, UID_LEN) != 0)
				return -EBADMSG;
			uid_ok = 1;
		} else if (f.type == NTS_EF_AUTHENTICATOR) {
			if (authenticator_read(&f, &nonce, &nonce_len, &ciphertext,
					       &ciphertext_len) != 0 ||
			    ciphertext_len < NTS_AEAD_TAG_LEN ||
			    ciphertext_len - NTS_AEAD_TAG_LEN > NTS_PLAINTEXT_MAX)
				return -EBADMSG;
			ad[0] = (struct nts_aead_ad){ pkt, f.offset };
			authenticated = 1;
		}
	}
	if (r < 0 || !uid_ok)
		return -EBADMSG;
	if (!authenticated) /* a kiss with our UID and nothing sealed: a NAK, or forged */
		return pkt[1] == 0 && memcmp(pkt + 12, "NTSN", 4) == 0 ? -EPROTO : -EBADMSG;
	ad[1] = (struct nts_aead_ad){ nonce, nonce_len };
	if (nts_aead_open(s2c, ad, 2, ciphertext, ciphertext_len, plain) != 0)
		return -EBADMSG;
	plain_len = ciphertext_len - NTS_AEAD_TAG_LEN;
	pos = 0;
	while ((r = field_next(plain, plain_len, &pos, &f)) > 0) {
		if (f.type != NTS_EF_COOKIE)
			continue;
		if (cookies != NULL && count < NTS_COOKIES_MAX) {
			cookies[count] = f.body;
			cookie_lens[count] = f.body_len;
		}
		if (count < NTS_COOKIES_MAX)
			count++;
	}
	return r < 0 ? -EBADMSG : count;
}
