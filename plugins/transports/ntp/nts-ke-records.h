/* nts-ke-records.h -- NTS Key Establishment records (RFC 8915 section 4): a client's request
 * read into a typed struct with every rule checked in one place (critical bits, counts,
 * sizes, End of Message last), the server's response written, and a response read back
 * (for our own clients: tests, benchmarks). Pure: bytes in, bytes out. */
#ifndef QUORUM_NTS_KE_RECORDS_H
#define QUORUM_NTS_KE_RECORDS_H

#include <stddef.h>
#include <stdint.h>

/* Record types (RFC 8915 section 7.6) and the critical bit. */
#define NTSKE_END_OF_MESSAGE 0
#define NTSKE_NEXT_PROTOCOL  1
#define NTSKE_ERROR	     2
#define NTSKE_WARNING	     3
#define NTSKE_AEAD	     4
#define NTSKE_NEW_COOKIE     5
#define NTSKE_SERVER	     6
#define NTSKE_PORT	     7
#define NTSKE_CRITICAL	     0x8000u

#define NTSKE_PROTOCOL_NTPV4	    0
#define NTSKE_AEAD_AES_SIV_CMAC_256 15

/* Error codes (section 4.1.3). */
#define NTSKE_ERR_UNRECOGNIZED_CRITICAL 0
#define NTSKE_ERR_BAD_REQUEST		1
#define NTSKE_ERR_INTERNAL		2

#define NTSKE_REQUEST_MAX 1024 /* a request (all its records) is at most this long */
#define NTSKE_SERVER_MAX  255  /* an NTPv4 Server Negotiation name */
#define NTSKE_COOKIES_MAX 8

/* ntske_request_parse's outcomes besides 0. */
#define NTSKE_INCOMPLETE 1 /* no End of Message yet, nothing wrong so far: read more */

/* What a client asked for. */
struct ntske_request {
	int error;	   /* -1: a valid request; else the Error code to answer with */
	int ntpv4;	   /* NTPv4 is among the offered next protocols */
	int aes_siv;	   /* AEAD_AES_SIV_CMAC_256 is among the offered algorithms */
	unsigned records;  /* records read, End of Message included */
	const char *cause; /* static: what made it an error ("" when valid), for the log */
};

/*
 * ntske_request_parse: reads the request in BUF (LEN bytes: everything the client sent so
 * far). RETURN VALUE: NTSKE_INCOMPLETE (more bytes needed), or 0 with *REQ filled: error -1
 * for a request to answer with keys, else the Error code. A request longer than
 * NTSKE_REQUEST_MAX, bytes after End of Message, a malformed or misplaced record, an
 * unrecognised critical record: each an error. Nothing in *REQ points into BUF.
 */
int ntske_request_parse(const uint8_t *buf, size_t len, struct ntske_request *req);

/* What the server answers. */
struct ntske_answer {
	int error;	    /* >= 0: only an Error record with this code (and End) */
	int ntpv4;	    /* NTPv4 agreed (else the Next Protocol record is empty) */
	int aes_siv;	    /* the AEAD agreed (else the AEAD record is empty, no cookies) */
	const char *server; /* NTPv4 Server Negotiation, or NULL */
	int port;	    /* NTPv4 Port Negotiation (1-65535), or 0 for none */
	const uint8_t *const *cookies; /* NCOOKIES cookies of COOKIE_LEN bytes each */
	unsigned ncookies;
	size_t cookie_len;
};

/* ntske_response_build: A's records into OUT (CAP bytes). RETURN VALUE: the length, or
 * -ENOSPC / -EINVAL (a server name longer than NTSKE_SERVER_MAX, too many cookies). */
int ntske_response_build(const struct ntske_answer *a, uint8_t *out, size_t cap);

/* A server's response as a client reads it; pointers into the parsed buffer. */
struct ntske_response {
	int error;			   /* the Error code, or -1 */
	int warning;			   /* the Warning code, or -1 */
	int ntpv4;			   /* the Next Protocol record names NTPv4 */
	int aead;			   /* the agreed algorithm, or -1 */
	char server[NTSKE_SERVER_MAX + 1]; /* "" when none */
	int port;			   /* 0 when none */
	const uint8_t *cookies[NTSKE_COOKIES_MAX];
	size_t cookie_len[NTSKE_COOKIES_MAX];
	unsigned ncookies; /* cookies beyond NTSKE_COOKIES_MAX are not kept */
};

/* ntske_response_parse: the response in BUF (LEN bytes, ending with End of Message).
 * RETURN VALUE: 0 with *RESP, NTSKE_INCOMPLETE, or -EBADMSG (malformed). */
int ntske_response_parse(const uint8_t *buf, size_t len, struct ntske_response *resp);

/* ntske_request_build: a client's request offering NTPv4 and AES-SIV-CMAC-256 into OUT
 * (CAP bytes). RETURN VALUE: the length or -ENOSPC. */
int ntske_request_build(uint8_t *out, size_t cap);

#endif /* QUORUM_NTS_KE_RECORDS_H */
