/* fuzz-grpc.c -- libFuzzer target: the gRPC transport (plugins/transports/grpc/grpc.c,
 * compiled in whole so its nghttp2 callbacks run as on a real connection) on one h2c
 * connection whose received bytes are the input: nghttp2's server session
 * (nghttp2_session_mem_recv, via the transport's read callback) with the transport's
 * callbacks, the gRPC length-prefixed framing, the metadata (path, authorization,
 * grpc-timeout, content-type) and the protobuf-c decoding of each service's request message.
 * No socket: the connection's bufferevent has no descriptor and its output only
 * accumulates. Input: one byte of flags (bit 0: the client preface is sent first; bit 1: a
 * bearer token is required; bit 2: the served clock is synchronised; bit 3: structured),
 * then either the raw bytes, or (structured) one request that an nghttp2 client session
 * encodes here: a method byte (one of the six, or an unknown path), then the
 * authorization, grpc-timeout and content-type values each up to a NUL, then the DATA
 * bytes (framing included, as the client would send it). */
#include "grpc.c" /* first: the plugin's own includes, in its order */

#include "fuzz.h"
#include "mockhost.h"

static struct event_base *base;

static const char preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

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

/* ---- structured inputs: one request encoded by an nghttp2 client ---- */

struct encoded {
	uint8_t *bytes;
	size_t len;
	const uint8_t *body;
	size_t body_len, body_off;
};

static ssize_t client_send_cb(nghttp2_session *session, const uint8_t *data, size_t length,
			      int flags, void *user_data)
{
	struct encoded *e = user_data;
	uint8_t *p = realloc(e->bytes, e->len + length);

	if (p == NULL)
		return NGHTTP2_ERR_CALLBACK_FAILURE;
	memcpy(p + e->len, data, length);
	e->bytes = p;
	e->len += length;
	return (ssize_t)length;
}

static ssize_t client_body_cb(nghttp2_session *session, int32_t stream_id, uint8_t *buf,
			      size_t length, uint32_t *data_flags, nghttp2_data_source *source,
			      void *user_data)
{
	struct encoded *e = user_data;
	size_t n = e->body_len - e->body_off;

	if (n > length)
		n = length;
	if (n > 0)
		memcpy(buf, e->body + e->body_off, n);
	e->body_off += n;
	if (e->body_off == e->body_len)
		*data_flags |= NGHTTP2_DATA_FLAG_EOF;
	return (ssize_t)n;
}

/* The next NUL-terminated field of DATA at *OFF (the rest when there is no NUL). */
static const char *field(const uint8_t *data, size_t size, size_t *off, size_t *len)
{
	const uint8_t *start = data + *off, *nul = memchr(start, '\0', size - *off);

	*len = nul != NULL ? (size_t)(nul - start) : size - *off;
	*off += *len + (nul != NULL);
	return (const char *)start;
}

static void encode_request(const uint8_t *data, size_t size, struct encoded *e)
{
	static const char *const paths[] = {
		"/uml001.ClockService/GetTime",
		"/uml001.ClockService/GetStatus",
		"/uml001.ClockService/AlignTime",
		"/uml001.ClockService/WatchTime",
		"/aegisbridge.BridgeTimeService/GetTime",
		"/aegisbridge.BridgeTimeService/GetTimeAttested",
		"/uml001.ClockService/Nothing",
	};
	nghttp2_session_callbacks *cbs;
	nghttp2_session *client;
	nghttp2_nv nv[8];
	size_t off = 1, n = 0, len;
	const char *v;
	nghttp2_data_provider body = { .read_callback = client_body_cb };

	memset(e, 0, sizeof(*e));
	if (size < 1)
		return;
#define ADD(name, value, value_len)                                                            \
	nv[n++] = (nghttp2_nv){ (uint8_t *)(name), (uint8_t *)(value), sizeof(name) - 1,       \
				(value_len), NGHTTP2_NV_FLAG_NONE }
	ADD(":method", "POST", 4);
	ADD(":scheme", "http", 4);
	ADD(":path", paths[data[0] % 7], strlen(paths[data[0] % 7]));
	ADD(":authority", "127.0.0.1:9090", 14);
	v = field(data, size, &off, &len);
	if (len > 0)
		ADD("authorization", v, len);
	v = field(data, size, &off, &len);
	if (len > 0)
		ADD("grpc-timeout", v, len);
	v = field(data, size, &off, &len);
	ADD("content-type", len > 0 ? v : "application/grpc", len > 0 ? len : 16);
	ADD("te", "trailers", 8);
#undef ADD
	e->body = data + off;
	e->body_len = size - off;
	FUZZ_ASSERT(nghttp2_session_callbacks_new(&cbs) == 0);
	nghttp2_session_callbacks_set_send_callback(cbs, client_send_cb);
	FUZZ_ASSERT(nghttp2_session_client_new(&client, cbs, e) == 0);
	nghttp2_session_callbacks_del(cbs);
	nghttp2_submit_settings(client, NGHTTP2_FLAG_NONE, NULL, 0);
	/* Invalid header values are refused by the client: then only the preface goes. */
	(void)nghttp2_submit_request(client, NULL, nv, n, &body, NULL);
	(void)nghttp2_session_send(client);
	nghttp2_session_del(client);
}

/* ---- the connection ---- */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	nghttp2_settings_entry settings[] = { { NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS,
						100 } };
	struct grpc_server *s;
	struct conn *c;
	struct encoded e = { 0 };

	if (size < 1)
		return 0;
	fuzz_host_set(base, (data[0] & 4) != 0);
	s = calloc(1, sizeof(*s));
	FUZZ_ASSERT(s != NULL);
	s->api = &fuzz_mock.api;
	s->host = mockhost_host(&fuzz_mock);
	/* Unlimited: the limiter's clock would make runs differ. */
	s->t.limit = ratelimit_new(0, 0);
	s->h2_callbacks = callbacks_new();
	FUZZ_ASSERT(s->t.limit != NULL && s->h2_callbacks != NULL &&
		    timefields_init(&s->t.fields) == 0);
	if (data[0] & 2) {
		strcpy(s->t.tokens.tokens[0], "fuzz-token");
		s->t.tokens.count = 1;
	}
	s->t.api = &fuzz_mock.api;
	s->t.host = mockhost_host(&fuzz_mock);
	s->t.name = "grpc";
	s->t.limits.max_connections = 16;
	s->t.limits.header_timeout.tv_sec = 10;
	s->t.limits.header_timeout_ms = 10000;
	s->t.limits.idle_timeout.tv_sec = 60;
	s->t.limits.idle_timeout_s = 60;
	FUZZ_ASSERT(transport_server_new(&s->t, &conn_ops, s) == 0);
	/* One connection as the core accepts it, on no socket, its session begun. */
	c = (struct conn *)tcp_server_adopt(s->t.tcp, -1, "127.0.0.1");
	FUZZ_ASSERT(c != NULL && nghttp2_session_server_new(&c->h2, s->h2_callbacks, c) == 0);
	nghttp2_submit_settings(c->h2, NGHTTP2_FLAG_NONE, settings, 1);
	if (conn_flush(c) != 0)
		goto out;
	if (data[0] & 8) {
		encode_request(data + 1, size - 1, &e);
		receive(c->bev, e.bytes, e.len);
		free(e.bytes);
	} else {
		if (data[0] & 1)
			receive(c->bev, preface, sizeof(preface) - 1);
		receive(c->bev, data + 1, size - 1);
	}
	conn_read_cb(c->bev, c);
	/* What a watch stream sends on the next agreement, while the connection lives. */
	for (struct stream *st = s->watchers, *next;
	     tcp_server_first(s->t.tcp) != NULL && st != NULL; st = next) {
		next = st->next;
		watch_send(st);
	}
	if (tcp_server_first(s->t.tcp) != NULL)
		conn_flush((struct conn *)tcp_server_first(s->t.tcp));
out:
	if (tcp_server_first(s->t.tcp) != NULL)
		conn_free((struct conn *)tcp_server_first(s->t.tcp));
	FUZZ_ASSERT(tcp_server_first(s->t.tcp) == NULL && s->watchers == NULL);
	transport_release(&s->t);
	nghttp2_session_callbacks_del(s->h2_callbacks);
	free(s);
	/* libevent finishes freeing a bufferevent from the loop. */
	event_base_loop(base, EVLOOP_NONBLOCK);
	return 0;
}
