/* nts-ke-records.c -- NTS-KE records (RFC 8915 section 4): requests read strictly,
 * responses written (see nts-ke-records.h). */
#include <errno.h>
#include <string.h>

#include "nts-ke-records.h"
#include "byteorder.h"

/* Whether the list of 16-bit values BODY (LEN bytes) holds WANT. */
static int list_has(const uint8_t *body, size_t len, uint16_t want)
{
	for (size_t i = 0; i + 1 < len; i += 2) {
		if (get_be16(body + i) == want)
			return 1;
	}
	return 0;
}

static int request_error(struct ntske_request *req, int code, const char *cause)
{
	req->error = code;
	req->cause = cause;
	return 0;
}

int ntske_request_parse(const uint8_t *buf, size_t len, struct ntske_request *req)
{
	size_t pos = 0;
	int next_protocols = 0, aead_records = 0;

	memset(req, 0, sizeof(*req));
	req->error = -1;
	req->cause = "";
	while (pos < len) {
		uint16_t head, type, body_len;
		int critical;
		const uint8_t *body;

		if (len - pos < 4)
			break; /* a header still arriving */
		head = get_be16(buf + pos);
		body_len = get_be16(buf + pos + 2);
		type = head & 0x7fffu;
		critical = (head & NTSKE_CRITICAL) != 0;
		if (pos + 4 + (size_t)body_len > NTSKE_REQUEST_MAX)
			return request_error(req, NTSKE_ERR_BAD_REQUEST, "request_too_long");
		if (len - pos - 4 < body_len)
			break; /* a body still arriving */
		body = buf + pos + 4;
		pos += 4 + (size_t)body_len;
		req->records++;
		switch (type) {
		case NTSKE_END_OF_MESSAGE:
			if (!critical || body_len != 0)
				return request_error(req, NTSKE_ERR_BAD_REQUEST,
						     "end_of_message_malformed");
			if (pos != len)
				return request_error(req, NTSKE_ERR_BAD_REQUEST,
						     "bytes_after_end_of_message");
			if (next_protocols != 1)
				return request_error(req, NTSKE_ERR_BAD_REQUEST,
						     "no_next_protocol");
			if (req->ntpv4 && aead_records != 1)
				return request_error(req, NTSKE_ERR_BAD_REQUEST, "no_aead");
			return 0;
		case NTSKE_NEXT_PROTOCOL:
			if (!critical || body_len % 2 != 0 || ++next_protocols > 1)
				return request_error(req, NTSKE_ERR_BAD_REQUEST,
						     "next_protocol_malformed");
			req->ntpv4 = list_has(body, body_len, NTSKE_PROTOCOL_NTPV4);
			break;
		case NTSKE_AEAD:
			if (body_len % 2 != 0 || ++aead_records > 1)
				return request_error(req, NTSKE_ERR_BAD_REQUEST,
						     "aead_malformed");
			req->aes_siv = list_has(body, body_len, NTSKE_AEAD_AES_SIV_CMAC_256);
			break;
		case NTSKE_ERROR:
		case NTSKE_WARNING:
			/* only servers send these */
			return request_error(req, NTSKE_ERR_BAD_REQUEST, "error_from_client");
		case NTSKE_SERVER:
			if (body_len == 0 || body_len > NTSKE_SERVER_MAX)
				return request_error(req, NTSKE_ERR_BAD_REQUEST,
						     "server_malformed");
			break; /* a client's wish: we say where our NTP is */
		case NTSKE_PORT:
			if (body_len != 2)
				return request_error(req, NTSKE_ERR_BAD_REQUEST,
						     "port_malformed");
			break;
		case NTSKE_NEW_COOKIE:
			break; /* meaningless from a client: ignored */
		default:
			if (critical)
				return request_error(req, NTSKE_ERR_UNRECOGNIZED_CRITICAL,
						     "unrecognized_critical_record");
			break; /* an unknown record without the critical bit is ignored */
		}
	}
	if (len >= NTSKE_REQUEST_MAX)
		return request_error(req, NTSKE_ERR_BAD_REQUEST, "request_too_long");
	return NTSKE_INCOMPLETE;
}

/* Appends one record to OUT at *POS. 0 or -ENOSPC. */
static int put_record(uint8_t *out, size_t cap, size_t *pos, uint16_t type, int critical,
		      const uint8_t *body, size_t len)
{
	if (len > 0xffff || cap - *pos < 4 + len)
		return -ENOSPC;
	put_be16(out + *pos, (uint16_t)(type | (critical ? NTSKE_CRITICAL : 0)));
	put_be16(out + *pos + 2, (uint16_t)len);
	if (len > 0)
		memcpy(out + *pos + 4, body, len);
	*pos += 4 + len;
	return 0;
}

int ntske_response_build(const struct ntske_answer *a, uint8_t *out, size_t cap)
{
	uint8_t v[2];
	size_t pos = 0;
	int err = 0;

	if (cap < 4 || a->ncookies > NTSKE_COOKIES_MAX ||
	    (a->server != NULL && strlen(a->server) > NTSKE_SERVER_MAX))
		return -EINVAL;
	if (a->error >= 0) {
		put_be16(v, (uint16_t)a->error);
		err = put_record(out, cap, &pos, NTSKE_ERROR, 1, v, 2);
		goto out_end;
	}
	put_be16(v, NTSKE_PROTOCOL_NTPV4);
	err = put_record(out, cap, &pos, NTSKE_NEXT_PROTOCOL, 1, v, a->ntpv4 ? 2 : 0);
	if (err != 0 || !a->ntpv4)
		goto out_end;
	put_be16(v, NTSKE_AEAD_AES_SIV_CMAC_256);
	err = put_record(out, cap, &pos, NTSKE_AEAD, 1, v, a->aes_siv ? 2 : 0);
	if (err != 0 || !a->aes_siv)
		goto out_end;
	if (a->server != NULL)
		err = put_record(out, cap, &pos, NTSKE_SERVER, 1, (const uint8_t *)a->server,
				 strlen(a->server));
	if (err == 0 && a->port > 0) {
		put_be16(v, (uint16_t)a->port);
		err = put_record(out, cap, &pos, NTSKE_PORT, 1, v, 2);
	}
	for (unsigned i = 0; err == 0 && i < a->ncookies; i++)
		err = put_record(out, cap, &pos, NTSKE_NEW_COOKIE, 0, a->cookies[i],
				 a->cookie_len);
out_end:
	if (err == 0)
		err = put_record(out, cap, &pos, NTSKE_END_OF_MESSAGE, 1, NULL, 0);
	return err != 0 ? err : (int)pos;
}

int ntske_response_parse(const uint8_t *buf, size_t len, struct ntske_response *resp)
{
	size_t pos = 0;

	memset(resp, 0, sizeof(*resp));
	resp->error = -1;
	resp->warning = -1;
	resp->aead = -1;
	while (pos + 4 <= len) {
		uint16_t head = get_be16(buf + pos), body_len = get_be16(buf + pos + 2);
		const uint8_t *body = buf + pos + 4;

		if (len - pos - 4 < body_len)
			return NTSKE_INCOMPLETE;
		pos += 4 + (size_t)body_len;
		switch (head & 0x7fffu) {
		case NTSKE_END_OF_MESSAGE:
			return pos == len ? 0 : -EBADMSG;
		case NTSKE_NEXT_PROTOCOL:
			resp->ntpv4 = body_len == 2 && get_be16(body) == NTSKE_PROTOCOL_NTPV4;
			break;
		case NTSKE_ERROR:
		case NTSKE_WARNING:
			if (body_len != 2)
				return -EBADMSG;
			if ((head & 0x7fffu) == NTSKE_ERROR)
				resp->error = get_be16(body);
			else
				resp->warning = get_be16(body);
			break;
		case NTSKE_AEAD:
			if (body_len != 0 && body_len != 2)
				return -EBADMSG;
			resp->aead = body_len == 2 ? get_be16(body) : -1;
			break;
		case NTSKE_NEW_COOKIE:
			if (resp->ncookies < NTSKE_COOKIES_MAX) {
				resp->cookies[resp->ncookies] = body;
				resp->cookie_len[resp->ncookies++] = body_len;
			}
			break;
		case NTSKE_SERVER:
			if (body_len == 0 || body_len > NTSKE_SERVER_MAX)
				return -EBADMSG;
			memcpy(resp->server, body, body_len);
			resp->server[body_len] = '\0';
			break;
		case NTSKE_PORT:
			if (body_len != 2)
				return -EBADMSG;
			resp->port = get_be16(body);
			break;
		default:
			if (head & NTSKE_CRITICAL)
				return -EBADMSG;
			break;
		}
	}
	return NTSKE_INCOMPLETE;
}

int ntske_request_build(uint8_t *out, size_t cap)
{
	uint8_t v[2];
	size_t pos = 0;
	int err;

	put_be16(v, NTSKE_PROTOCOL_NTPV4);
	err = put_record(out, cap, &pos, NTSKE_NEXT_PROTOCOL, 1, v, 2);
	put_be16(v, NTSKE_AEAD_AES_SIV_CMAC_256);
	if (err == 0)
		err = put_record(out, cap, &pos, NTSKE_AEAD, 1, v, 2);
	if (err == 0)
		err = put_record(out, cap, &pos, NTSKE_END_OF_MESSAGE, 1, NULL, 0);
	return err != 0 ? err : (int)pos;
}
