/* grpc.c -- the gRPC transport: uml001.ClockService (proto/clock_service.proto) over HTTP/2
 * (nghttp2 on libevent bufferevents), cleartext h2c with prior knowledge for local use, or
 * TLS with ALPN "h2" (and mutual TLS) with the REST transport's production/dev rules.
 *   GetTime     the served time with every field real: the node's signed answer
 *               (attestation), its signature and key id, the agreement round and hash
 *   GetStatus   operational only while synchronised; n - f; the round
 *   AlignTime   peer_id and local_anchor required (INVALID_ARGUMENT with the reference's
 *               message); a signed answer bound to them
 *   WatchTime   a server stream: one TimeResponse per agreement, until max_updates, the
 *               grpc-timeout deadline (DEADLINE_EXCEEDED) or loss of sync (UNAVAILABLE)
 * and the reference bridge's aegisbridge.BridgeTimeService (proto/bridge_service.proto):
 *   GetTime          seconds, remainder, RFC 3339, uncertainty_ms (and the bound)
 *   GetTimeAttested  the same, signed, with the sources the last agreement accepted and
 *                    those it did not, the quorum hash and the system clock's drift
 * Unsynchronised: UNAVAILABLE, never a time. Bearer tokens in the authorization metadata
 * (UNAUTHENTICATED), a per-address rate limit (RESOURCE_EXHAUSTED), unknown methods
 * UNIMPLEMENTED, messages framed and bounded (64 KiB). Each answer ends with grpc-status
 * trailers. */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <nghttp2/nghttp2.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <openssl/ssl.h>

#include <quorum/plugin.h>

#include "bridge.h"
#include "clock_service.pb-c.h"
#include "signed_state.pb-c.h"
#include "ratelimit.h"
#include "tlsconf.h"

#define TOKENS_MAX	 16
#define TOKEN_MAX	 256
#define MESSAGE_MAX	 65536
#define WATCH_MS	 20
#define ATTESTATION_MAX	 1024

enum grpc_code {
	GRPC_OK = 0,
	GRPC_INVALID_ARGUMENT = 3,
	GRPC_DEADLINE_EXCEEDED = 4,
	GRPC_RESOURCE_EXHAUSTED = 8,
	GRPC_UNIMPLEMENTED = 12,
	GRPC_INTERNAL = 13,
	GRPC_UNAVAILABLE = 14,
	GRPC_UNAUTHENTICATED = 16,
};

struct grpc_server;
struct conn;

struct stream {
	struct conn *conn;
	int32_t id;
	char path[128];
	char auth[TOKEN_MAX + 16];
	char timeout[24];
	char content_type[64];
	uint8_t *body;
	size_t body_len;
	int too_big;
	/* the answer: framed messages waiting to be sent, then the trailers */
	uint8_t *out;
	size_t out_len, out_off, out_cap;
	int done;		 /* no more messages: trailers after what is queued */
	int status;		 /* grpc-status of the trailers */
	char message[160];	 /* grpc-message */
	int watching;		 /* a WatchTime stream */
	uint32_t max_updates, sent;
	uint64_t last_round;
	int64_t deadline_ns;	 /* CLOCK_MONOTONIC, 0: none */
	struct stream *next;	 /* the server's list of watch streams */
	struct stream *prev;
	struct stream *conn_next; /* the connection's list of its streams */
	struct stream *conn_prev;
};

struct conn {
	struct grpc_server *s;
	struct bufferevent *bev;
	nghttp2_session *h2;
	/* Every stream of the session: nghttp2_session_del frees its own stream records
	 * without a close callback, so conn_free frees ours from this list. */
	struct stream *streams;
	char peer[64];
	int closing;
	struct conn *next, *prev;
};

struct grpc_server {
	struct quorum_host *host;
	const struct quorum_api *api;
	struct evconnlistener *listener;
	char address[64];
	int64_t port, rate, burst;
	int production;
	SSL_CTX *tls;
	char tokens[TOKENS_MAX][TOKEN_MAX];
	size_t token_count;
	struct ratelimit *limit;
	struct conn *conns;
	struct stream *watchers;
	struct quorum_timer *watch;
	nghttp2_session_callbacks *h2_callbacks; /* owned; shared by every session */
	struct quorum_source_status *sources;    /* QUORUM_AUTHORITIES_MAX, for the bridge */
	char **source_ids;                       /* 2 x QUORUM_AUTHORITIES_MAX, ditto */
	struct bridge_drift drift;
	uint64_t calls, errors, rate_limited, auth_failures;
};

static int64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ---- the answer of a stream ---- */

/* Appends one gRPC-framed message (flag 0, 4-byte length, bytes). 0 or -ENOMEM. */
static int stream_queue(struct stream *st, const ProtobufCMessage *msg)
{
	size_t n = protobuf_c_message_get_packed_size(msg);

	if (st->out_len + n + 5 > st->out_cap) {
		size_t cap = (st->out_len + n + 5) * 2;
		uint8_t *p = realloc(st->out, cap);

		if (p == NULL)
			return -ENOMEM;
		st->out = p;
		st->out_cap = cap;
	}
	st->out[st->out_len] = 0;
	st->out[st->out_len + 1] = (uint8_t)(n >> 24);
	st->out[st->out_len + 2] = (uint8_t)(n >> 16);
	st->out[st->out_len + 3] = (uint8_t)(n >> 8);
	st->out[st->out_len + 4] = (uint8_t)n;
	protobuf_c_message_pack(msg, st->out + st->out_len + 5);
	st->out_len += n + 5;
	return 0;
}

static void stream_unwatch(struct stream *st)
{
	struct grpc_server *s = st->conn->s;

	if (!st->watching)
		return;
	if (st->prev != NULL)
		st->prev->next = st->next;
	else
		s->watchers = st->next;
	if (st->next != NULL)
		st->next->prev = st->prev;
	st->watching = 0;
	st->next = st->prev = NULL;
}

static void stream_free(struct stream *st)
{
	struct conn *c = st->conn;

	stream_unwatch(st);
	if (st->conn_prev != NULL)
		st->conn_prev->conn_next = st->conn_next;
	else
		c->streams = st->conn_next;
	if (st->conn_next != NULL)
		st->conn_next->conn_prev = st->conn_prev;
	free(st->body);
	free(st->out);
	free(st);
}

static ssize_t data_read_cb(nghttp2_session *session, int32_t stream_id, uint8_t *buf,
			    size_t length, uint32_t *data_flags, nghttp2_data_source *source,
			    void *user_data)
{
	struct stream *st = source->ptr;
	size_t n = st->out_len - st->out_off;

	if (n > length)
		n = length;
	memcpy(buf, st->out + st->out_off, n);
	st->out_off += n;
	if (st->out_off == st->out_len) {
		st->out_off = st->out_len = 0;
		if (!st->done)
			return n > 0 ? (ssize_t)n : NGHTTP2_ERR_DEFERRED;
		{
			char code[16];
			nghttp2_nv trailers[2] = {
				{ (uint8_t *)"grpc-status", (uint8_t *)code, 11, 0,
				  NGHTTP2_NV_FLAG_NONE },
				{ (uint8_t *)"grpc-message", (uint8_t *)st->message, 12,
				  strlen(st->message), NGHTTP2_NV_FLAG_NONE },
			};

			snprintf(code, sizeof(code), "%d", st->status);
			trailers[0].valuelen = strlen(code);
			*data_flags |= NGHTTP2_DATA_FLAG_EOF | NGHTTP2_DATA_FLAG_NO_END_STREAM;
			if (nghttp2_submit_trailer(session, stream_id, trailers,
						   st->message[0] != '\0' ? 2 : 1) != 0)
				return NGHTTP2_ERR_CALLBACK_FAILURE;
		}
	}
	return (ssize_t)n;
}

#define NV(name, value)                                                                        \
	{ (uint8_t *)(name), (uint8_t *)(value), sizeof(name) - 1, strlen(value),              \
	  NGHTTP2_NV_FLAG_NONE }

/* Starts the answer: headers, then the queued messages and trailers through data_read_cb. */
static void stream_respond(struct stream *st)
{
	nghttp2_nv headers[] = { NV(":status", "200"), NV("content-type", "application/grpc") };
	nghttp2_data_provider provider = { .source.ptr = st, .read_callback = data_read_cb };

	nghttp2_submit_response(st->conn->h2, st->id, headers, 2, &provider);
}

/* A Trailers-Only answer: the status in the one HEADERS frame that ends the stream. */
static void stream_fail(struct stream *st, int code, const char *message)
{
	char status[16];
	nghttp2_nv headers[4] = { NV(":status", "200"), NV("content-type", "application/grpc") };

	snprintf(status, sizeof(status), "%d", code);
	headers[2] = (nghttp2_nv)NV("grpc-status", status);
	headers[3] = (nghttp2_nv)NV("grpc-message", message);
	st->conn->s->errors++;
	stream_unwatch(st);
	nghttp2_submit_response(st->conn->h2, st->id, headers, 4, NULL);
}

/* Ends a started answer with CODE after what is queued. */
static void stream_finish(struct stream *st, int code, const char *message)
{
	st->done = 1;
	st->status = code;
	snprintf(st->message, sizeof(st->message), "%s", message);
	stream_unwatch(st);
	nghttp2_session_resume_data(st->conn->h2, st->id);
}

/* ---- the methods ---- */

static void hexify(const uint8_t *p, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * n] = '\0';
}

/* Fills R from a fresh signed reading (NONCE bound into it). 0, or a gRPC code. */
static int time_response(struct grpc_server *s, const uint8_t *nonce, size_t nonce_len,
			 Uml001__TimeResponse *r, uint8_t *att, size_t *att_len, char *sig_hex,
			 char *hash_hex, struct quorum_clock_reading *now)
{
	Uml001__SignedState *signed_state;
	int err = s->api->attest_time(s->host, nonce, nonce_len, now, att, ATTESTATION_MAX,
				      att_len);

	if (err == -EAGAIN)
		return GRPC_UNAVAILABLE;
	if (err != 0)
		return GRPC_INTERNAL;
	signed_state = uml001__signed_state__unpack(NULL, *att_len, att);
	if (signed_state == NULL || signed_state->signature.len != 64)
		return GRPC_INTERNAL;
	hexify(signed_state->signature.data, 64, sig_hex);
	uml001__signed_state__free_unpacked(signed_state, NULL);
	hexify(now->quorum_hash, QUORUM_DIGEST_LEN, hash_hex);
	r->unix_timestamp = (uint64_t)(now->estimate_ns / 1000000000);
	r->unix_nanos = now->estimate_ns % 1000000000;
	r->drift_applied = now->drift_ns;
	r->last_updated_unix = (uint64_t)((now->estimate_ns - now->agreement_age_ns) / 1000000000);
	r->monotonic_version = now->round;
	r->signature = sig_hex;
	r->leader_id = (char *)s->api->node_id(s->host);
	r->alignment_context_id = hash_hex;
	r->earliest_ns = now->earliest_ns;
	r->latest_ns = now->latest_ns;
	r->attestation.data = att;
	r->attestation.len = *att_len;
	return GRPC_OK;
}

/* The key id of the node: the envelope of our own attestation says it. */
static void fill_key_id(const uint8_t *att, size_t len, char *out, size_t size)
{
	Uml001__SignedState *st = uml001__signed_state__unpack(NULL, len, att);

	snprintf(out, size, "%s", st != NULL && st->key_id != NULL ? st->key_id : "");
	if (st != NULL)
		uml001__signed_state__free_unpacked(st, NULL);
}

static void method_get_time(struct stream *st)
{
	struct grpc_server *s = st->conn->s;
	Uml001__TimeResponse r = UML001__TIME_RESPONSE__INIT;
	struct quorum_clock_reading now;
	uint8_t att[ATTESTATION_MAX];
	size_t att_len = 0;
	char sig[129], hash[2 * QUORUM_DIGEST_LEN + 1], key[80];
	int code = time_response(s, NULL, 0, &r, att, &att_len, sig, hash, &now);

	if (code != GRPC_OK) {
		stream_fail(st, code, code == GRPC_UNAVAILABLE
					      ? "unsynchronised: no agreement within the error bound"
					      : "the time could not be signed");
		return;
	}
	fill_key_id(att, att_len, key, sizeof(key));
	r.key_id = key;
	if (stream_queue(st, &r.base) != 0) {
		stream_fail(st, GRPC_INTERNAL, "out of memory");
		return;
	}
	st->done = 1;
	stream_respond(st);
}

static void method_get_status(struct stream *st)
{
	struct grpc_server *s = st->conn->s;
	Uml001__StatusResponse r = UML001__STATUS_RESPONSE__INIT;
	struct quorum_clock_reading now;

	struct quorum_authority_set set;

	s->api->clock_read(s->host, &now);
	s->api->authority_set(s->host, &set); /* configured n and f, also when unsynchronised */
	r.operational = now.status == QUORUM_CLOCK_SYNCHRONISED;
	r.n = set.n;
	r.f = set.f;
	r.quorum_threshold = set.n - set.f;
	r.current_version = now.round;
	r.accepted = now.accepted;
	r.uncertainty_ms = (double)now.error_bound_ns / 1e6;
	stream_queue(st, &r.base);
	st->done = 1;
	stream_respond(st);
}

/* aegisbridge.BridgeTimeService/GetTime: the served time, UNAVAILABLE when unsynchronised. */
static void method_bridge_get_time(struct stream *st)
{
	struct grpc_server *s = st->conn->s;
	Aegisbridge__TimeResponse r = AEGISBRIDGE__TIME_RESPONSE__INIT;
	struct quorum_clock_reading now;
	char iso[40];

	s->api->clock_read(s->host, &now);
	if (now.status != QUORUM_CLOCK_SYNCHRONISED) {
		stream_fail(st, GRPC_UNAVAILABLE, "unsynchronised: no agreement within the error bound");
		return;
	}
	bridge_time(&now, &r, iso);
	if (stream_queue(st, &r.base) != 0) {
		stream_fail(st, GRPC_INTERNAL, "out of memory");
		return;
	}
	st->done = 1;
	stream_respond(st);
}

/* aegisbridge.BridgeTimeService/GetTimeAttested: the time as signed, with the sources. */
static void method_bridge_get_time_attested(struct stream *st)
{
	struct grpc_server *s = st->conn->s;
	Aegisbridge__AttestedTimeResponse r = AEGISBRIDGE__ATTESTED_TIME_RESPONSE__INIT;
	struct quorum_clock_reading now;
	uint8_t att[ATTESTATION_MAX];
	size_t att_len = 0, count = 0;
	char iso[40], hash[2 * QUORUM_DIGEST_LEN + 1];
	int err = s->api->attest_time(s->host, NULL, 0, &now, att, sizeof(att), &att_len);

	if (err != 0) {
		stream_fail(st, err == -EAGAIN ? GRPC_UNAVAILABLE : GRPC_INTERNAL,
			    err == -EAGAIN ? "unsynchronised: no agreement within the error bound"
					   : "the time could not be signed");
		return;
	}
	if (QUORUM_API_HAS(s->api, sources_status))
		s->api->sources_status(s->host, s->sources, QUORUM_AUTHORITIES_MAX, &count);
	if (count > QUORUM_AUTHORITIES_MAX)
		count = QUORUM_AUTHORITIES_MAX;
	bridge_attested(&now, s->sources, count, &s->drift, &r, iso, s->source_ids,
			s->source_ids + QUORUM_AUTHORITIES_MAX, hash);
	r.attestation.data = att;
	r.attestation.len = att_len;
	if (stream_queue(st, &r.base) != 0) {
		stream_fail(st, GRPC_INTERNAL, "out of memory");
		return;
	}
	st->done = 1;
	stream_respond(st);
}

static void method_align_time(struct stream *st, const uint8_t *msg, size_t len)
{
	struct grpc_server *s = st->conn->s;
	Uml001__AlignTimeRequest *req = uml001__align_time_request__unpack(NULL, len, msg);
	Uml001__AlignTimeResponse r = UML001__ALIGN_TIME_RESPONSE__INIT;
	Uml001__TimeResponse t = UML001__TIME_RESPONSE__INIT;
	struct quorum_clock_reading now;
	uint8_t nonce[SHA256_DIGEST_LENGTH], att[ATTESTATION_MAX], session[16], anchor[8];
	char sig[129], hash[2 * QUORUM_DIGEST_LEN + 1], session_hex[33];
	size_t att_len = 0;
	int code;

	if (req == NULL) {
		stream_fail(st, GRPC_INVALID_ARGUMENT, "request is not a uml001.AlignTimeRequest");
		return;
	}
	if (req->peer_id == NULL || req->peer_id[0] == '\0' || req->local_anchor.len == 0) {
		uml001__align_time_request__free_unpacked(req, NULL);
		stream_fail(st, GRPC_INVALID_ARGUMENT, "peer_id and local_anchor are required");
		return;
	}
	{
		/* The signed answer is bound to who asked and with what: the nonce. */
		size_t idl = strlen(req->peer_id), n = idl + 1 + req->local_anchor.len;
		uint8_t *buf = malloc(n);

		if (buf == NULL) {
			uml001__align_time_request__free_unpacked(req, NULL);
			stream_fail(st, GRPC_INTERNAL, "out of memory");
			return;
		}
		memcpy(buf, req->peer_id, idl);
		buf[idl] = 0;
		memcpy(buf + idl + 1, req->local_anchor.data, req->local_anchor.len);
		SHA256(buf, n, nonce);
		free(buf);
	}
	uml001__align_time_request__free_unpacked(req, NULL);
	code = time_response(s, nonce, sizeof(nonce), &t, att, &att_len, sig, hash, &now);
	if (code != GRPC_OK) {
		stream_fail(st, code, code == GRPC_UNAVAILABLE
					      ? "unsynchronised: no agreement within the error bound"
					      : "the time could not be signed");
		return;
	}
	RAND_bytes(session, sizeof(session));
	hexify(session, sizeof(session), session_hex);
	for (int i = 0; i < 8; i++)
		anchor[i] = (uint8_t)((uint64_t)now.estimate_ns >> (56 - 8 * i));
	r.session_id = session_hex;
	r.remote_anchor.data = anchor;
	r.remote_anchor.len = sizeof(anchor);
	r.signature_proof.data = att;
	r.signature_proof.len = att_len;
	r.server_timestamp = (uint64_t)(now.estimate_ns / 1000000000);
	stream_queue(st, &r.base);
	st->done = 1;
	stream_respond(st);
}

/* grpc-timeout: 1 to 8 digits and a unit (H M S m u n), as the gRPC protocol has it. 0 when
 * absent or malformed, and (no deadline) beyond 73 years: 99999999H does not fit in 64 bits
 * of nanoseconds, and a deadline must stay addable to CLOCK_MONOTONIC. */
static int64_t parse_timeout(const char *v)
{
	size_t digits = strspn(v, "0123456789");
	int64_t unit, n = 0;

	if (digits == 0 || digits > 8 || v[digits] == '\0' || v[digits + 1] != '\0')
		return 0;
	switch (v[digits]) {
	case 'H': unit = 3600000000000LL; break;
	case 'M': unit = 60000000000LL; break;
	case 'S': unit = 1000000000LL; break;
	case 'm': unit = 1000000LL; break;
	case 'u': unit = 1000LL; break;
	case 'n': unit = 1; break;
	default: return 0;
	}
	for (size_t i = 0; i < digits; i++)
		n = n * 10 + (v[i] - '0');
	if (n == 0 || n > INT64_MAX / 4 / unit)
		return 0;
	return n * unit;
}

/* Queues the current time on a watch stream; ends it when the clock is lost. */
static void watch_send(struct stream *st)
{
	Uml001__TimeResponse r = UML001__TIME_RESPONSE__INIT;
	struct quorum_clock_reading now;
	uint8_t att[ATTESTATION_MAX];
	size_t att_len = 0;
	char sig[129], hash[2 * QUORUM_DIGEST_LEN + 1], key[80];
	int code = time_response(st->conn->s, NULL, 0, &r, att, &att_len, sig, hash, &now);

	if (code != GRPC_OK) {
		stream_finish(st, code, "unsynchronised: the watch ends");
		return;
	}
	fill_key_id(att, att_len, key, sizeof(key));
	r.key_id = key;
	st->last_round = now.round;
	stream_queue(st, &r.base);
	st->sent++;
	if (st->max_updates != 0 && st->sent >= st->max_updates)
		stream_finish(st, GRPC_OK, "");
	else
		nghttp2_session_resume_data(st->conn->h2, st->id);
}

static void method_watch_time(struct stream *st, const uint8_t *msg, size_t len)
{
	struct grpc_server *s = st->conn->s;
	Uml001__WatchTimeRequest *req = uml001__watch_time_request__unpack(NULL, len, msg);
	struct quorum_clock_reading now;
	int64_t timeout = parse_timeout(st->timeout);

	if (req == NULL) {
		stream_fail(st, GRPC_INVALID_ARGUMENT, "request is not a uml001.WatchTimeRequest");
		return;
	}
	st->max_updates = req->max_updates;
	uml001__watch_time_request__free_unpacked(req, NULL);
	s->api->clock_read(s->host, &now);
	if (now.status != QUORUM_CLOCK_SYNCHRONISED) {
		stream_fail(st, GRPC_UNAVAILABLE, "unsynchronised: no agreement within the error bound");
		return;
	}
	st->deadline_ns = timeout > 0 ? mono_ns() + timeout : 0;
	st->watching = 1;
	st->next = s->watchers;
	if (s->watchers != NULL)
		s->watchers->prev = st;
	s->watchers = st;
	stream_respond(st);
	watch_send(st);
}

/* ---- requests ---- */

static int authorised(struct grpc_server *s, const char *auth)
{
	char padded[TOKEN_MAX] = { 0 };
	const char *token;
	size_t len;
	int ok = 0;

	if (s->token_count == 0)
		return 1;
	if (strncasecmp(auth, "Bearer ", 7) != 0)
		return 0;
	token = auth + 7;
	len = strlen(token);
	if (len == 0 || len >= TOKEN_MAX)
		return 0;
	memcpy(padded, token, len);
	for (size_t i = 0; i < s->token_count; i++)
		ok |= strlen(s->tokens[i]) == len &&
		      CRYPTO_memcmp(padded, s->tokens[i], TOKEN_MAX) == 0;
	return ok;
}

static void handle_request(struct stream *st)
{
	struct grpc_server *s = st->conn->s;
	const uint8_t *msg = st->body != NULL ? st->body + 5 : NULL;
	size_t len;

	s->calls++;
	if (!ratelimit_allow(s->limit, st->conn->peer, mono_ns())) {
		s->rate_limited++;
		stream_fail(st, GRPC_RESOURCE_EXHAUSTED, "Rate limit exceeded");
		return;
	}
	if (!authorised(s, st->auth)) {
		s->auth_failures++;
		s->api->audit(s->host, "grpc.auth.failed", "peer=%s method=%s", st->conn->peer,
			      st->path);
		stream_fail(st, GRPC_UNAUTHENTICATED, "Unauthorized");
		return;
	}
	if (strncmp(st->content_type, "application/grpc", 16) != 0) {
		stream_fail(st, GRPC_INVALID_ARGUMENT, "content-type must be application/grpc");
		return;
	}
	if (st->too_big) {
		stream_fail(st, GRPC_RESOURCE_EXHAUSTED, "request message too large");
		return;
	}
	if (st->body_len < 5 || st->body[0] != 0) {
		stream_fail(st, st->body_len >= 5 ? GRPC_UNIMPLEMENTED : GRPC_INVALID_ARGUMENT,
			    st->body_len >= 5 ? "compressed messages are not supported"
					      : "one length-prefixed message expected");
		return;
	}
	len = (size_t)st->body[1] << 24 | (size_t)st->body[2] << 16 | (size_t)st->body[3] << 8 |
	      st->body[4];
	if (len != st->body_len - 5) {
		stream_fail(st, GRPC_INVALID_ARGUMENT, "one length-prefixed message expected");
		return;
	}
	if (strcmp(st->path, "/uml001.ClockService/GetTime") == 0)
		method_get_time(st);
	else if (strcmp(st->path, "/uml001.ClockService/GetStatus") == 0)
		method_get_status(st);
	else if (strcmp(st->path, "/uml001.ClockService/AlignTime") == 0)
		method_align_time(st, msg, len);
	else if (strcmp(st->path, "/uml001.ClockService/WatchTime") == 0)
		method_watch_time(st, msg, len);
	else if (strcmp(st->path, "/aegisbridge.BridgeTimeService/GetTime") == 0)
		method_bridge_get_time(st);
	else if (strcmp(st->path, "/aegisbridge.BridgeTimeService/GetTimeAttested") == 0)
		method_bridge_get_time_attested(st);
	else
		stream_fail(st, GRPC_UNIMPLEMENTED, "unknown method");
}

/* ---- HTTP/2 ---- */

static ssize_t h2_send_cb(nghttp2_session *session, const uint8_t *data, size_t length,
			  int flags, void *user_data)
{
	struct conn *c = user_data;

	if (evbuffer_add(bufferevent_get_output(c->bev), data, length) != 0)
		return NGHTTP2_ERR_CALLBACK_FAILURE;
	return (ssize_t)length;
}

static int h2_begin_headers_cb(nghttp2_session *session, const nghttp2_frame *frame,
			       void *user_data)
{
	struct stream *st;

	if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST)
		return 0;
	st = calloc(1, sizeof(*st));
	if (st == NULL)
		return NGHTTP2_ERR_CALLBACK_FAILURE;
	st->conn = user_data;
	st->id = frame->hd.stream_id;
	st->conn_next = st->conn->streams;
	if (st->conn->streams != NULL)
		st->conn->streams->conn_prev = st;
	st->conn->streams = st;
	nghttp2_session_set_stream_user_data(session, st->id, st);
	return 0;
}

static void copy_value(char *out, size_t size, const uint8_t *value, size_t len)
{
	if (len >= size)
		len = size - 1;
	memcpy(out, value, len);
	out[len] = '\0';
}

static int h2_header_cb(nghttp2_session *session, const nghttp2_frame *frame,
			const uint8_t *name, size_t namelen, const uint8_t *value, size_t valuelen,
			uint8_t flags, void *user_data)
{
	struct stream *st = nghttp2_session_get_stream_user_data(session, frame->hd.stream_id);

	if (st == NULL || frame->hd.type != NGHTTP2_HEADERS)
		return 0;
	if (namelen == 5 && memcmp(name, ":path", 5) == 0)
		copy_value(st->path, sizeof(st->path), value, valuelen);
	else if (namelen == 13 && memcmp(name, "authorization", 13) == 0)
		copy_value(st->auth, sizeof(st->auth), value, valuelen);
	else if (namelen == 12 && memcmp(name, "grpc-timeout", 12) == 0)
		copy_value(st->timeout, sizeof(st->timeout), value, valuelen);
	else if (namelen == 12 && memcmp(name, "content-type", 12) == 0)
		copy_value(st->content_type, sizeof(st->content_type), value, valuelen);
	return 0;
}

static int h2_data_cb(nghttp2_session *session, uint8_t flags, int32_t stream_id,
		      const uint8_t *data, size_t len, void *user_data)
{
	struct stream *st = nghttp2_session_get_stream_user_data(session, stream_id);
	uint8_t *p;

	if (st == NULL || st->too_big)
		return 0;
	if (st->body_len + len > MESSAGE_MAX + 5) {
		st->too_big = 1;
		return 0;
	}
	p = realloc(st->body, st->body_len + len);
	if (p == NULL)
		return NGHTTP2_ERR_CALLBACK_FAILURE;
	memcpy(p + st->body_len, data, len);
	st->body = p;
	st->body_len += len;
	return 0;
}

static int h2_frame_recv_cb(nghttp2_session *session, const nghttp2_frame *frame,
			    void *user_data)
{
	struct stream *st;

	if ((frame->hd.type != NGHTTP2_HEADERS && frame->hd.type != NGHTTP2_DATA) ||
	    !(frame->hd.flags & NGHTTP2_FLAG_END_STREAM))
		return 0;
	st = nghttp2_session_get_stream_user_data(session, frame->hd.stream_id);
	if (st != NULL)
		handle_request(st);
	return 0;
}

static int h2_stream_close_cb(nghttp2_session *session, int32_t stream_id, uint32_t error_code,
			      void *user_data)
{
	struct stream *st = nghttp2_session_get_stream_user_data(session, stream_id);

	if (st != NULL) {
		nghttp2_session_set_stream_user_data(session, stream_id, NULL);
		stream_free(st);
	}
	return 0;
}

/* ---- connections ---- */

static void conn_free(struct conn *c)
{
	struct grpc_server *s = c->s;

	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	if (c->h2 != NULL)
		nghttp2_session_del(c->h2); /* calls no stream close callback */
	/* Streams still open (a client gone mid-call, a watch, a protocol error): ours go
	 * now, out of the watch list too, so no timer reaches them through C. */
	while (c->streams != NULL)
		stream_free(c->streams);
	bufferevent_free(c->bev);
	free(c);
}

/* Sends what nghttp2 has; frees C when the session is over. 0, or -1 when C was freed. */
static int conn_flush(struct conn *c)
{
	if (nghttp2_session_send(c->h2) != 0 ||
	    (!nghttp2_session_want_read(c->h2) && !nghttp2_session_want_write(c->h2))) {
		if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0) {
			conn_free(c);
			return -1;
		}
		c->closing = 1;
	}
	return 0;
}

static void conn_read_cb(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	size_t len = evbuffer_get_length(in);
	ssize_t used;

	if (c->closing)
		return;
	used = nghttp2_session_mem_recv(c->h2, evbuffer_pullup(in, -1), len);
	if (used < 0) {
		conn_free(c); /* not HTTP/2, or a protocol error */
		return;
	}
	evbuffer_drain(in, (size_t)used);
	conn_flush(c);
}

static void conn_write_cb(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;

	if (evbuffer_get_length(bufferevent_get_output(bev)) > 0)
		return;
	if (c->closing)
		conn_free(c);
}

static void conn_event_cb(struct bufferevent *bev, short what, void *arg)
{
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT))
		conn_free(arg);
}

/* The server's nghttp2 callbacks. Returns NULL when out of memory; the caller owns the table
 * (nghttp2_session_callbacks_del). */
static nghttp2_session_callbacks *callbacks_new(void)
{
	nghttp2_session_callbacks *cbs;

	if (nghttp2_session_callbacks_new(&cbs) != 0)
		return NULL;
	nghttp2_session_callbacks_set_send_callback(cbs, h2_send_cb);
	nghttp2_session_callbacks_set_on_begin_headers_callback(cbs, h2_begin_headers_cb);
	nghttp2_session_callbacks_set_on_header_callback(cbs, h2_header_cb);
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, h2_data_cb);
	nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, h2_frame_recv_cb);
	nghttp2_session_callbacks_set_on_stream_close_callback(cbs, h2_stream_close_cb);
	return cbs;
}

static void accept_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *addr,
		      int socklen, void *arg)
{
	struct grpc_server *s = arg;
	nghttp2_settings_entry settings[] = { { NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, 100 } };
	struct conn *c = calloc(1, sizeof(*c));

	if (c == NULL) {
		free(c);
		evutil_closesocket(fd);
		return;
	}
	c->s = s;
	if (addr->sa_family == AF_INET)
		inet_ntop(AF_INET, &((struct sockaddr_in *)addr)->sin_addr, c->peer, sizeof(c->peer));
	else if (addr->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)addr)->sin6_addr, c->peer,
			  sizeof(c->peer));
	if (s->tls != NULL) {
		SSL *ssl = SSL_new(s->tls);

		c->bev = ssl == NULL ? NULL
				     : bufferevent_openssl_socket_new(
					       s->api->event_base(s->host), fd, ssl,
					       BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
		if (c->bev == NULL && ssl != NULL)
			SSL_free(ssl);
	} else {
		c->bev = bufferevent_socket_new(s->api->event_base(s->host), fd,
						BEV_OPT_CLOSE_ON_FREE);
	}
	if (c->bev == NULL || nghttp2_session_server_new(&c->h2, s->h2_callbacks, c) != 0) {
		if (c->bev != NULL)
			bufferevent_free(c->bev);
		else
			evutil_closesocket(fd);
		free(c);
		return;
	}
	c->next = s->conns;
	if (s->conns != NULL)
		s->conns->prev = c;
	s->conns = c;
	nghttp2_submit_settings(c->h2, NGHTTP2_FLAG_NONE, settings, 1);
	bufferevent_setcb(c->bev, conn_read_cb, conn_write_cb, conn_event_cb, c);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	conn_flush(c);
}

/* ALPN: HTTP/2 only. */
static int alpn_select_cb(SSL *ssl, const unsigned char **out, unsigned char *outlen,
			  const unsigned char *in, unsigned int inlen, void *arg)
{
	for (unsigned int i = 0; i < inlen; i += in[i] + 1u) {
		if (in[i] == 2 && i + 2 < inlen && memcmp(in + i + 1, "h2", 2) == 0) {
			*out = in + i + 1;
			*outlen = 2;
			return SSL_TLSEXT_ERR_OK;
		}
	}
	return SSL_TLSEXT_ERR_ALERT_FATAL;
}

/* Every WATCH_MS: a new agreement goes to each watch stream; deadlines end them. */
static void watch_cb(void *arg)
{
	struct grpc_server *s = arg;
	struct quorum_clock_reading now;
	int64_t t = mono_ns();
	int queued = 0;

	s->api->clock_read(s->host, &now);
	if (now.status == QUORUM_CLOCK_SYNCHRONISED)
		bridge_drift_ppm(&s->drift, &now); /* the drift's baseline, taken early */
	if (s->watchers == NULL)
		return;
	/* Queue first, then flush: a flush may free a connection and all its streams, which
	 * can be any of the watchers still to visit. */
	for (struct stream *st = s->watchers, *next; st != NULL; st = next) {
		next = st->next;
		if (st->deadline_ns != 0 && t >= st->deadline_ns)
			stream_finish(st, GRPC_DEADLINE_EXCEEDED, "deadline exceeded");
		else if (now.status != QUORUM_CLOCK_SYNCHRONISED)
			stream_finish(st, GRPC_UNAVAILABLE, "unsynchronised: the watch ends");
		else if (now.round != st->last_round)
			watch_send(st);
		else
			continue;
		queued = 1;
	}
	for (struct conn *c = s->conns, *next; queued && c != NULL; c = next) {
		next = c->next;
		conn_flush(c); /* may free c: NEXT was taken first */
	}
}

/* ---- settings and lifecycle ---- */

static int load_tokens(struct grpc_server *s)
{
	int n = s->api->config_length(s->host, "bearer_token_files");

	for (int i = 0; i < n && i < TOKENS_MAX; i++) {
		char key[64], path[4096], buf[TOKEN_MAX + 2];
		const char *file;
		FILE *f;
		size_t got;

		snprintf(key, sizeof(key), "bearer_token_files.[%d]", i);
		if (s->api->config_string(s->host, key, &file) != 0 ||
		    s->api->config_path(s->host, file, path, sizeof(path)) != 0)
			return -EINVAL;
		f = fopen(path, "re");
		if (f == NULL) {
			s->api->log(s->host, QUORUM_LOG_ERROR,
				    "grpc.token_unreadable file=\"%s\" error=\"%s\"", path,
				    strerror(errno));
			return -EINVAL;
		}
		got = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
		buf[got] = '\0';
		buf[strcspn(buf, "\r\n")] = '\0';
		if (strlen(buf) < 16 || strlen(buf) >= TOKEN_MAX) {
			s->api->log(s->host, QUORUM_LOG_ERROR,
				    "grpc.token_invalid file=\"%s\" reason=\"16 to 255 characters\"",
				    path);
			return -EINVAL;
		}
		memcpy(s->tokens[s->token_count++], buf, strlen(buf) + 1);
	}
	return 0;
}

static int grpc_init(struct quorum_host *host, const struct quorum_api *api, void **state)
{
	struct grpc_server *s;
	const char *address = "127.0.0.1";
	int err;

	if (!QUORUM_API_HAS(api, attest_time))
		return -ENOTSUP;
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return -ENOMEM;
	s->host = host;
	s->api = api;
	s->port = 9090;
	s->rate = 100;
	s->burst = -1;
	api->config_string(host, "address", &address);
	api->config_int(host, "port", &s->port);
	api->config_int(host, "rate_limit", &s->rate);
	api->config_int(host, "rate_burst", &s->burst);
	s->limit = ratelimit_new(s->rate, s->burst);
	snprintf(s->address, sizeof(s->address), "%s", address);
	s->production = transport_mode_production(host, api);
	s->h2_callbacks = callbacks_new();
	s->sources = calloc(QUORUM_AUTHORITIES_MAX, sizeof(*s->sources));
	s->source_ids = calloc(2 * QUORUM_AUTHORITIES_MAX, sizeof(*s->source_ids));
	err = s->limit == NULL || s->h2_callbacks == NULL || s->sources == NULL ||
			      s->source_ids == NULL
		      ? -ENOMEM
		      : load_tokens(s);
	if (err == 0)
		err = transport_tls_setup(host, api, "grpc", s->address, s->production,
					  s->token_count, &s->tls);
	if (err != 0) {
		nghttp2_session_callbacks_del(s->h2_callbacks);
		free(s->sources);
		free(s->source_ids);
		ratelimit_free(s->limit);
		free(s);
		return err;
	}
	if (s->tls != NULL)
		SSL_CTX_set_alpn_select_cb(s->tls, alpn_select_cb, NULL);
	*state = s;
	return 0;
}

static int grpc_start(void *state)
{
	struct grpc_server *s = state;
	int fd, err;

	err = s->api->listen(s->host, QUORUM_LISTEN_TCP, s->address, (uint16_t)s->port, &fd);
	if (err != 0)
		return err;
	s->listener = evconnlistener_new(s->api->event_base(s->host), accept_cb, s,
					 LEV_OPT_CLOSE_ON_FREE, -1, fd);
	if (s->listener == NULL) {
		close(fd);
		return -ENOMEM;
	}
	s->watch = s->api->timer_start(s->host, WATCH_MS, WATCH_MS, watch_cb, s);
	if (s->watch == NULL)
		return -ENOMEM;
	s->api->log(s->host, QUORUM_LOG_NOTICE,
		    "grpc.listening address=%s port=%" PRId64 " tls=%s bearer_tokens=%zu "
		    "rate_limit=%" PRId64 " mode=%s",
		    s->address, s->port,
		    s->tls == NULL ? "off (h2c)"
		    : SSL_CTX_get_verify_mode(s->tls) & SSL_VERIFY_PEER ? "mtls"
									: "on",
		    s->token_count, s->rate, s->production ? "production" : "dev");
	return 0;
}

static int grpc_drain(void *state)
{
	struct grpc_server *s = state;

	if (s->listener != NULL) {
		evconnlistener_free(s->listener);
		s->listener = NULL;
	}
	/* Watch streams end cleanly (UNAVAILABLE: the client retries elsewhere or later);
	 * every connection gets GOAWAY, so clients open new ones on the successor. */
	for (struct stream *st = s->watchers, *next; st != NULL; st = next) {
		next = st->next;
		stream_finish(st, GRPC_UNAVAILABLE, "server reloading");
	}
	for (struct conn *c = s->conns, *next; c != NULL; c = next) {
		next = c->next;
		nghttp2_session_terminate_session(c->h2, NGHTTP2_NO_ERROR);
		conn_flush(c);
	}
	return 0;
}

static void grpc_fini(void *state)
{
	struct grpc_server *s = state;

	while (s->conns != NULL)
		conn_free(s->conns);
	if (s->listener != NULL)
		evconnlistener_free(s->listener);
	if (s->tls != NULL)
		SSL_CTX_free(s->tls);
	s->api->log(s->host, QUORUM_LOG_INFO,
		    "grpc.stopped calls=%" PRIu64 " errors=%" PRIu64 " rate_limited=%" PRIu64
		    " auth_failures=%" PRIu64,
		    s->calls, s->errors, s->rate_limited, s->auth_failures);
	nghttp2_session_callbacks_del(s->h2_callbacks);
	free(s->sources);
	free(s->source_ids);
	ratelimit_free(s->limit);
	free(s);
}

static const struct quorum_setting grpc_settings[] = {
	{ .name = "address", .type = QUORUM_SETTING_STRING,
	  .help = "listen address (default 127.0.0.1)" },
	{ .name = "port", .type = QUORUM_SETTING_INT, .min = 1, .max = 65535,
	  .help = "TCP port (default 9090)" },
	{ .name = "bearer_token_files", .type = QUORUM_SETTING_STRINGS,
	  .help = "files of accepted bearer tokens (authorization metadata); none: no auth" },
	{ .name = "rate_limit", .type = QUORUM_SETTING_INT, .min = 0, .max = 10000000,
	  .help = "calls per second per client address (default 100; 0: none)" },
	{ .name = "rate_burst", .type = QUORUM_SETTING_INT, .min = 1, .max = 10000000,
	  .help = "calls a client may make at once (default: rate_limit)" },
	TRANSPORT_TLS_SETTINGS,
	{ .type = QUORUM_SETTING_END },
};

QUORUM_PLUGIN_EXPORT const struct quorum_plugin quorum_plugin = {
	QUORUM_PLUGIN_HEADER(QUORUM_PLUGIN_TRANSPORT, "grpc", PACKAGE_VERSION, QUORUM_ROLE_NONE),
	.settings = grpc_settings,
	.init = grpc_init,
	.start = grpc_start,
	.drain = grpc_drain,
	.fini = grpc_fini,
};
