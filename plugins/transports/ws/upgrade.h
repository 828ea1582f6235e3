/* upgrade.h -- what makes an HTTP/1.1 request a WebSocket opening handshake (RFC 6455
 * section 4.2.1), read from the request the one HTTP/1 parser made (http1-parse.h), and the
 * answer's Sec-WebSocket-Accept. No I/O: ws.c answers; fuzz/fuzz-http1.c fuzzes it with the
 * parser. */
#ifndef QUORUM_WS_UPGRADE_H
#define QUORUM_WS_UPGRADE_H

#include "http1-parse.h"

/* Sec-WebSocket-Accept: base64 of a SHA-1, and its NUL. */
#define WS_ACCEPT_LEN 29

/*
 * ws_upgrade_check: whether REQ asks to open a WebSocket: GET over HTTP/1.1 without a body,
 * Upgrade naming websocket, Connection naming Upgrade, Sec-WebSocket-Version 13 and a
 * Sec-WebSocket-Key that is 16 bytes in base64. The path is the caller's business.
 * RETURN VALUE: 0 with ACCEPT the answer's Sec-WebSocket-Accept; or 400 (426 for another
 * version), *WHY then a static, printable reason for the client.
 */
int ws_upgrade_check(const struct http1_request *req, char accept[WS_ACCEPT_LEN],
		     const char **why);

#endif /* QUORUM_WS_UPGRADE_H */
