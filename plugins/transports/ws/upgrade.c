/* upgrade.c -- the WebSocket opening handshake read from a parsed HTTP/1.1 request (see
 * upgrade.h). */
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/sha.h>

#include "upgrade.h"

#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11" /* RFC 6455 section 1.3 */

/* Whether KEY is 16 bytes in base64: 24 characters, the last two "==". */
static int key_valid(const char *key)
{
	unsigned char raw[18];

	if (strlen(key) != 24 || strcmp(key + 22, "==") != 0 ||
	    strspn(key, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/") !=
		    22)
		return 0;
	return EVP_DecodeBlock(raw, (const unsigned char *)key, 24) == 18;
}

int ws_upgrade_check(const struct http1_request *req, char accept[WS_ACCEPT_LEN],
		     const char **why)
{
	const char *version = http1_header(req, "Sec-WebSocket-Version");
	const char *key = http1_header(req, "Sec-WebSocket-Key");
	unsigned char digest[SHA_DIGEST_LENGTH];
	char source[24 + sizeof(WS_GUID)];

	*why = "expected GET ... HTTP/1.1";
	if (strcmp(req->method, "GET") != 0 || req->version_minor != 1)
		return 400;
	*why = "an upgrade request has no body";
	if (req->content_length != 0)
		return 400;
	*why = "not a WebSocket upgrade (version 13)";
	if (!http1_header_has(req, "Upgrade", "websocket") ||
	    !http1_header_has(req, "Connection", "upgrade") || key == NULL || !key_valid(key))
		return 400;
	*why = "WebSocket version 13 only";
	if (version == NULL || strcmp(version, "13") != 0)
		return 426; /* the answer says Sec-WebSocket-Version: 13 */
	snprintf(source, sizeof(source), "%s%s", key, WS_GUID);
	SHA1((const unsigned char *)source, strlen(source), digest);
	EVP_EncodeBlock((unsigned char *)accept, digest, SHA_DIGEST_LENGTH);
	return 0;
}
