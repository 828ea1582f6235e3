/* nts-ext.h -- NTS extension fields for NTPv4 (RFC 8915 section 5, on RFC 7822's field
 * format): a request's fields read into a typed view with every bound checked in one
 * place, its authenticator opened, and the answer's fields written (the Unique Identifier
 * echoed, fresh cookies sealed in the encrypted field, or an NTS NAK); plus a client's side
 * of the same for tests and benchmarks. Pure: no sockets, no clocks, no threads. */
#ifndef QUORUM_NTS_EXT_H
#define QUORUM_NTS_EXT_H

#include <stddef.h>
#include <stdint.h>

#include "nts-aead.h"
#include "nts-cookie.h"

#define NTS_NTP_HEADER 48

/* Extension field types (RFC 8915 section 7.5). */
#define NTS_EF_UNIQUE_ID     0x0104
#define NTS_EF_COOKIE	     0x0204
#define NTS_EF_PLACEHOLDER   0x0304
#define NTS_EF_AUTHENTICATOR 0x0404

#define NTS_UID_MIN	  32 /* a Unique Identifier's body is at least this long */
#define NTS_NONCE_MIN	  16 /* the request's nonce; our answers use this length */
#define NTS_COOKIES_MAX	  8  /* cookies returned in one answer at most */
#define NTS_PLAINTEXT_MAX 1024

/* nts_request_parse's outcomes besides 0. */
#define NTS_NOT_NTS 1 /* no NTS field: a plain request (its fields, or a MAC, ignored) */

/* The NTS fields of a request; pointers into the packet. */
struct nts_request {
	const uint8_t *uid; /* the Unique Identifier field, header included */
	size_t uid_field_len;
	const uint8_t *cookie; /* the NTS Cookie's body */
	size_t cookie_len;
	unsigned placeholders; /* NTS Cookie Placeholder fields outside the encrypted field */
	size_t ad_len;	       /* associated data: the packet up to the authenticator */
	const uint8_t *nonce;
	size_t nonce_len;
	const uint8_t *ciphertext; /* V then the encrypted fields */
	size_t ciphertext_len;
	const char *cause; /* static: why a malformed request was refused, for counters */
};

/*
 * nts_request_parse: the extension fields of the NTP request PKT (LEN > 48 bytes).
 * RETURN VALUE: 0 with *REQ for a well-formed NTS request (one Unique Identifier of at
 * least 32 bytes, one cookie, one authenticator, the last field, with a nonce of at least
 * 16 bytes and a ciphertext of at least 16); NTS_NOT_NTS when the packet has no NTS field
 * (its fields and MAC are a plain client's business); -EBADMSG for a malformed NTS request
 * (REQ->cause says what), which gets no answer.
 */
int nts_request_parse(const uint8_t *pkt, size_t len, struct nts_request *req);

/*
 * nts_request_open: authenticates REQ (of packet PKT) under C2S and reads the fields it
 * encrypted (PLAIN, NTS_PLAINTEXT_MAX bytes of scratch): placeholders there count like
 * those outside. RETURN VALUE: 0 with *PLACEHOLDERS (all of them), -EBADMSG (not
 * authentic, or its encrypted fields malformed), -EMSGSIZE (more than NTS_PLAINTEXT_MAX),
 * or -EIO.
 */
int nts_request_open(struct nts_aead *c2s, const uint8_t *pkt, const struct nts_request *req,
		     uint8_t *plain, unsigned *placeholders);

/* nts_response_length: the length of an answer echoing a UID field of UID_FIELD_LEN bytes
 * with NCOOKIES cookies. */
size_t nts_response_length(size_t uid_field_len, unsigned ncookies);

/* nts_response_cookies: how many cookies an answer to REQ (LEN bytes, PLACEHOLDERS in all)
 * carries: one per cookie and placeholder, at most NTS_COOKIES_MAX, and fewer while the
 * answer would be longer than the request (at least 0). */
unsigned nts_response_cookies(const struct nts_request *req, size_t len, unsigned placeholders);

/*
 * nts_response_build: after the 48-byte header already in OUT, the request's Unique
 * Identifier field (UID, UID_FIELD_LEN bytes) and an authenticator with a 16-byte NONCE
 * sealing NCOOKIES cookie fields (COOKIES: NCOOKIES x NTS_COOKIE_LEN bytes) under S2C,
 * the header and UID as associated data. RETURN VALUE: the answer's length, -ENOSPC (more
 * than CAP) or an nts_aead_seal error.
 */
int nts_response_build(struct nts_aead *s2c, uint8_t *out, size_t cap, const uint8_t *uid,
		       size_t uid_field_len, const uint8_t *nonce, const uint8_t *cookies,
		       unsigned ncookies);

/* nts_nak_build: an NTS NAK's fields after the header in OUT (the kiss code is the
 * caller's): the Unique Identifier alone. RETURN VALUE: the length, or -ENOSPC. */
int nts_nak_build(uint8_t *out, size_t cap, const uint8_t *uid, size_t uid_field_len);

/* ---- a client's side (tests, benchmarks) ---- */

/*
 * nts_client_request: writes after the 48-byte header in OUT (CAP bytes) a Unique
 * Identifier (UID, 32 bytes), COOKIE (COOKIE_LEN bytes), PLACEHOLDERS placeholders and an
 * authenticator with NONCE (16 bytes) and an empty encrypted field, sealed under C2S.
 * RETURN VALUE: the length, or -ENOSPC / an nts_aead_seal error.
 */
int nts_client_request(struct nts_aead *c2s, uint8_t *out, size_t cap, const uint8_t *uid,
		       const uint8_t *cookie, size_t cookie_len, unsigned placeholders,
		       const uint8_t *nonce);

/*
 * nts_client_response: checks the answer PKT (LEN bytes) to a request with UID (32 bytes)
 * under S2C: its Unique Identifier, its authenticator (the last field) and the fields it
 * encrypted, decrypted into PLAIN (NTS_PLAINTEXT_MAX bytes of scratch); COOKIES and
 * COOKIE_LENS (NTS_COOKIES_MAX slots each, or both NULL) get the cookies, pointing into
 * PLAIN. RETURN VALUE: the number of cookies (counted up to NTS_COOKIES_MAX); -EBADMSG for
 * anything not authentic or malformed; -EPROTO for an NTS NAK (a kiss carrying the UID and
 * no authenticator).
 */
int nts_client_response(struct nts_aead *s2c, const uint8_t *pkt, size_t len,
			const uint8_t *uid, uint8_t *plain, const uint8_t **cookies,
			size_t *cookie_lens);

#endif /* QUORUM_NTS_EXT_H */
