/* http1-parse.c -- the TCP transports' HTTP/1.1 request parser: the request head, its
 * header fields and the query string, from untrusted bytes into struct http1_request,
 * strictly (see http1-parse.h). */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "http1-parse.h"
#include "query.h"

#define METHOD_MAX 32

/* RFC 9110 tchar: the characters of a method or a field name. */
static int is_tchar(unsigned char c)
{
	static const char extra[] = "!#$%&'*+-.^_`|~";

	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return 1;
	return c != '\0' && strchr(extra, c) != NULL;
}

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

size_t http1_head_length(const char *buf, size_t len)
{
	const char *end = buf + (len < HTTP1_HEAD_MAX ? len : HTTP1_HEAD_MAX);
	const char *p = buf;

	while ((p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		p++;
		if (p < end && p[0] == '\n')
			return (size_t)(p + 1 - buf);
		if (p + 1 < end && p[0] == '\r' && p[1] == '\n')
			return (size_t)(p + 2 - buf);
	}
	return 0;
}

/* Splits the request target T (NUL-terminated inside the head) into path and query, in
 * place: origin form "/p?q", absolute form "http://host/p?q", or "*". 0 or -1. */
static int parse_target(char *t, struct http1_request *req)
{
	char *path = t, *mark;

	req->query = "";
	if (strcmp(t, "*") == 0) {
		req->path = t;
		return 0;
	}
	if (strncasecmp(t, "http://", 7) == 0 || strncasecmp(t, "https://", 8) == 0) {
		path = strstr(t, "://") + 3;
		path += strcspn(path, "/?#");
	} else if (t[0] != '/') {
		return -1;
	}
	mark = strchr(path, '#'); /* a fragment is the client's business */
	if (mark != NULL)
		*mark = '\0';
	mark = strchr(path, '?');
	if (mark != NULL) {
		*mark = '\0';
		req->query = mark + 1;
	}
	req->path = path[0] == '\0' ? "/" : path;
	return 0;
}

/* Whether the comma-separated list VALUE holds TOKEN (case-insensitive). */
static int list_has(const char *value, const char *token)
{
	size_t n = strlen(token);

	while (*value != '\0') {
		size_t len;

		value += strspn(value, " \t,");
		len = strcspn(value, ",");
		while (len > 0 && (value[len - 1] == ' ' || value[len - 1] == '\t'))
			len--;
		if (len == n && strncasecmp(value, token, n) == 0)
			return 1;
		value += strcspn(value, ",");
	}
	return 0;
}

/* Content-Length: 1 to 18 digits (far beyond any max_body), nothing else. 0 or -1. */
static int parse_length(const char *v, uint64_t *out)
{
	uint64_t n = 0;
	size_t i;

	for (i = 0; is_digit(v[i]); i++) {
		if (i == 18)
			return -1;
		n = n * 10 + (uint64_t)(v[i] - '0');
	}
	if (i == 0 || v[i] != '\0')
		return -1;
	*out = n;
	return 0;
}

struct head_flags {
	int has_length, chunked, close, keep_alive;
};

/* What the fields the server itself obeys say. 0, or the refusing status with *WHY. */
static int apply_field(struct http1_request *req, struct head_flags *f, const char *name,
		       const char *value, const char **why)
{
	uint64_t n;

	switch (name[0] | 0x20) {
	case 'c':
		if (strcasecmp(name, "Content-Length") == 0) {
			if (parse_length(value, &n) != 0 ||
			    (f->has_length && n != req->content_length)) {
				*why = "bad request: invalid Content-Length";
				return 400;
			}
			f->has_length = 1;
			req->content_length = n;
		} else if (strcasecmp(name, "Connection") == 0) {
			f->close |= list_has(value, "close");
			f->keep_alive |= list_has(value, "keep-alive");
		}
		break;
	case 't':
		if (strcasecmp(name, "Transfer-Encoding") == 0)
			f->chunked = 1;
		break;
	case 'e':
		if (strcasecmp(name, "Expect") == 0 && req->version_minor == 1) {
			if (strcasecmp(value, "100-continue") != 0) {
				*why = "expectation failed: only Expect: 100-continue is "
				       "understood";
				return 417;
			}
			req->expect_continue = 1;
		}
		break;
	default:
		break;
	}
	return 0;
}

/* One header line [P, EOL) (EOL at its CR or LF): stored in REQ. 0, or the refusing status. */
static int parse_field(char *p, char *eol, struct http1_request *req, struct head_flags *f,
		       const char **why)
{
	char *q = p, *v, *ve;

	if (*p == ' ' || *p == '\t') {
		*why = "bad request: folded header lines are not accepted";
		return 400;
	}
	while (q < eol && is_tchar((unsigned char)*q))
		q++;
	if (q == p || q == eol || *q != ':') {
		*why = "bad request: malformed header field";
		return 400;
	}
	*q = '\0';
	v = q + 1;
	while (v < eol && (*v == ' ' || *v == '\t'))
		v++;
	ve = eol;
	while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
		ve--;
	for (const char *c = v; c < ve; c++) {
		unsigned char b = (unsigned char)*c;

		if ((b < 0x20 && b != '\t') || b == 0x7f) {
			*why = "bad request: control character in a header field";
			return 400;
		}
	}
	*ve = '\0';
	if (req->header_count == HTTP1_HEADERS_MAX) {
		*why = "request header fields too large: more than 64 fields";
		return 431;
	}
	req->headers[req->header_count].name = p;
	req->headers[req->header_count].value = v;
	req->header_count++;
	return apply_field(req, f, p, v, why);
}

/* The request line [P, EOL): method, target, version. 0, or the refusing status. */
static int parse_request_line(char *p, char *eol, struct http1_request *req, const char **why)
{
	char *q = p, *t, *v;

	*why = "bad request: malformed request line";
	while (q < eol && is_tchar((unsigned char)*q))
		q++;
	if (q == p || q - p > METHOD_MAX || q == eol || *q != ' ')
		return 400;
	*q = '\0';
	req->method = p;
	t = ++q;
	while (q < eol && (unsigned char)*q > 0x20 && (unsigned char)*q < 0x7f)
		q++;
	if (q == t || q == eol || *q != ' ')
		return 400;
	*q = '\0';
	v = q + 1;
	if (eol - v != 8 || memcmp(v, "HTTP/", 5) != 0 || !is_digit(v[5]) || v[6] != '.' ||
	    !is_digit(v[7]))
		return 400;
	if (v[5] != '1') {
		*why = "HTTP version not supported: HTTP/1.0 and HTTP/1.1 are served";
		return 505;
	}
	req->version_minor = v[7] == '0' ? 0 : 1; /* a later 1.x is answered as 1.1 */
	if (parse_target(t, req) != 0)
		return 400;
	return 0;
}

int http1_parse_head(char *buf, size_t len, struct http1_request *req, size_t *head_len,
		     const char **why)
{
	size_t n = http1_head_length(buf, len);
	struct head_flags f = { 0 };
	char *p = buf, *end = buf + n;
	int status = 0;

	if (n == 0)
		return HTTP1_INCOMPLETE;
	req->header_count = 0;
	req->content_length = 0;
	req->expect_continue = 0;
	req->answered = 0;
	req->body = NULL;
	req->body_len = 0;
	while (status == 0 && p < end) {
		char *nl = memchr(p, '\n', (size_t)(end - p)), *eol = nl;

		if (eol > p && eol[-1] == '\r')
			eol--;
		if (p == buf)
			status = parse_request_line(p, eol, req, why);
		else if (eol == p)
			break; /* the blank line */
		else
			status = parse_field(p, eol, req, &f, why);
		p = nl + 1;
	}
	if (status != 0)
		return status;
	if (f.chunked) {
		*why = f.has_length ? "bad request: both Transfer-Encoding and Content-Length"
				    : "length required: Transfer-Encoding (chunked) request "
				      "bodies are not accepted, send Content-Length";
		return f.has_length ? 400 : 411;
	}
	req->keep_alive = !f.close && (req->version_minor == 1 || f.keep_alive);
	req->head_only = strcmp(req->method, "HEAD") == 0;
	*head_len = n;
	return 0;
}

const char *http1_header(const struct http1_request *req, const char *name)
{
	for (size_t i = 0; i < req->header_count; i++)
		if (strcasecmp(req->headers[i].name, name) == 0)
			return req->headers[i].value;
	return NULL;
}

int http1_header_has(const struct http1_request *req, const char *name, const char *token)
{
	const char *value = http1_header(req, name);

	return value != NULL && list_has(value, token);
}

int http1_query_param(const struct http1_request *req, const char *name, char *out, size_t size)
{
	return query_param(req->query, name, out, size);
}

const char *http1_reason(int status)
{
	switch (status) {
	case 100:
		return "Continue";
	case 200:
		return "OK";
	case 204:
		return "No Content";
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 408:
		return "Request Timeout";
	case 411:
		return "Length Required";
	case 413:
		return "Content Too Large";
	case 417:
		return "Expectation Failed";
	case 426:
		return "Upgrade Required";
	case 429:
		return "Too Many Requests";
	case 431:
		return "Request Header Fields Too Large";
	case 500:
		return "Internal Server Error";
	case 501:
		return "Not Implemented";
	case 503:
		return "Service Unavailable";
	case 505:
		return "HTTP Version Not Supported";
	default:
		return status < 400 ? "OK" : "Error";
	}
}
