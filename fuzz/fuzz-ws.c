/* fuzz-ws.c -- libFuzzer target: the WebSocket transport (plugins/transports/ws/ws.c,
 * compiled in whole so its static callbacks run as libevent would call them) on one
 * connection, adopted by the TCP server core, whose received bytes are the input: the
 * upgrade request head (conn_handshake: the one HTTP/1 parser, common/http1-parse.c, the
 * query's format and token, the gate, upgrade.c's checks), then client frames through
 * wslay's server context with the transport's callbacks (masking, fragmentation, control
 * frames, the 4 KiB message bound, close) and each text message through the subscription
 * parser (ws_msg_cb). No socket: the connection's bufferevent has no descriptor, its input
 * buffer is filled here and its output only accumulates. Input: one byte of flags (bit 0:
 * a valid upgrade head is sent first, so the input is frames; bit 1: a bearer token is
 * required; bit 2: the served clock is synchronised; bit 3: a backlog bound of 512 bytes, so
 * the slow-consumer path is taken), then the bytes, handed over in up to 4 reads split at
 * the bytes "\xff\xfe" (a read boundary). */
#define _GNU_SOURCE /* memmem */
#include "ws.c"	    /* first: the plugin's own includes, in its order */

#include "fuzz.h"
#include "mockhost.h"

static struct event_base *base;

static const char upgrade[] = "GET /v1/stream?format=json HTTP/1.1\r\nHost: 127.0.0.1\r\n"
			      "Upgrade: websocket\r\nConnection: Upgrade\r\n"
			      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
			      "Sec-WebSocket-Version: 13\r\n"
			      "Authorization: Bearer fuzz-token\r\n\r\n";

/* What the connection receives: a socket bufferevent's input only takes bytes from the
 * socket (its end is frozen), so they are put in here the same way. */
static void receive(struct bufferevent *bev, const void *data, size_t len)
{
	struct evbuffer *in = bufferevent_get_input(bev);

	evbuffer_unfreeze(in, 0);
	FUZZ_ASSERT(evbuffer_add(in, data, len) == 0);
	evbuffer_freeze(in, 0);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	base = event_base_new();
	return base != NULL ? 0 : -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ws_server *s;
	struct ws_conn *c;
	size_t off = 1;

	if (size < 1)
		return 0;
	fuzz_host_set(base, (data[0] & 4) != 0);
	s = calloc(1, sizeof(*s));
	FUZZ_ASSERT(s != NULL);
	s->api = &fuzz_mock.api;
	s->host = mockhost_host(&fuzz_mock);
	s->max_backlog = (data[0] & 8) ? 512 : 1 << 20;
	s->t.api = &fuzz_mock.api;
	s->t.host = mockhost_host(&fuzz_mock);
	s->t.name = "ws";
	s->t.limits.max_connections = 16;
	s->t.limits.header_timeout.tv_sec = 10;
	s->t.limits.header_timeout_ms = 10000;
	s->t.limits.idle_timeout.tv_sec = 60;
	s->t.limits.idle_timeout_s = 60;
	/* Unlimited: the limiter's clock would make runs differ. */
	s->t.limit = ratelimit_new(0, 0);
	FUZZ_ASSERT(s->t.limit != NULL && timefields_init(&s->t.fields) == 0);
	if (data[0] & 2) {
		strcpy(s->t.tokens.tokens[0], "fuzz-token");
		s->t.tokens.count = 1;
	}
	FUZZ_ASSERT(transport_server_new(&s->t, &conn_ops, s) == 0);
	/* One connection as the core accepts it, on no socket. */
	c = (struct ws_conn *)tcp_server_adopt(s->t.tcp, -1, "127.0.0.1");
	FUZZ_ASSERT(c != NULL);
	if (data[0] & 1)
		receive(c->bev, upgrade, sizeof(upgrade) - 1);
	for (int reads = 0; reads < 4 && tcp_server_first(s->t.tcp) != NULL && !c->closing;
	     reads++) {
		const uint8_t *cut =
			off < size ? memmem(data + off, size - off, "\xff\xfe", 2) : NULL;
		size_t end = cut != NULL && reads < 3 ? (size_t)(cut - data) : size;

		receive(c->bev, data + off, end - off);
		off = end < size ? end + 2 : size;
		if (evbuffer_get_length(bufferevent_get_input(c->bev)) == 0)
			break;
		conn_read_cb(c->bev, c);
	}
	if (tcp_server_first(s->t.tcp) != NULL)
		conn_free(c);
	FUZZ_ASSERT(tcp_server_first(s->t.tcp) == NULL);
	transport_release(&s->t);
	free(s);
	/* libevent finishes freeing a bufferevent from the loop. */
	event_base_loop(base, EVLOOP_NONBLOCK);
	return 0;
}
