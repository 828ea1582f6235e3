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
 * the standard grpc.health.v1.Health (proto/health.proto), for the server ("") and both
 * time services: SERVING while synchronised, NOT_SERVING otherwise:
 *   Check       the status (NOT_FOUND for another service)
 *   Watch       the status, then each change (SERVICE_UNKNOWN for another service)
 * and the reference bridge's aegisbridge.BridgeTimeService (proto/bridge_service.proto):
 *   GetTime          seconds, remainder, RFC 3339, uncertainty_ms (and the bound)
 *   GetTimeAttested  the same, signed, with the sources the last agreement accepted and
 *                    those it did not, the quorum hash and the system clock's drift
 * Unsynchronised: UNAVAILABLE, never a time. Bearer tokens in the authorization metadata
 * (UNAUTHENTICATED), a per-address rate limit (RESOURCE_EXHAUSTED), unknown methods
 * UNIMPLEMENTED, messages framed and bounded (64 KiB, also once decompressed: requests may
 * be gzip or deflate encoded, and answers are in the request's encoding when the client's
 * grpc-accept-encoding names it; another grpc-encoding is UNIMPLEMENTED, with
 * grpc-accept-encoding saying what is read). Each answer ends with grpc-status
 * trailers. Connections: at most max_connections (beyond, closed at once); the connection
 * preface with the client's SETTINGS, and each request (its header block through its last
 * DATA frame), must arrive within header_timeout_ms of their first byte (under TLS the
 * preface counts from the connection), however they trickle; a connection with no call
 * under way for idle_timeout_s (PINGs do not count), or whose client takes nothing of our
 * answers for as long, is closed. The HTTP/2 session is made at the client's first byte: an
 * idle connection costs ~1.4 KiB before it, ~15 KiB once it has made a call. */
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
#include <nghttp2/nghttp2.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <openssl/ssl.h>

#include <quorum/plugin.h>

#include "bridge.h"
#include "compress.h"
#include "clock_service.pb-c.h"
#include "health.pb-c.h"
#include "signed_state.pb-c.h"
#include "connlimit.h"
#include "bearer.h"
#include "ratelimit.h"
#include "tcpserver.h"
#include "transport.h"
#include "tlsconf.h"

#define TOKEN_MAX	(BEARER_TOKEN_MAX + 1)
#define MESSAGE_MAX	65536
#define WATCH_MS	20
#define ATTESTATION_MAX 1024
/* Connections at most by default: a client multiplexes its calls on one (100 streams), and
 * each holds an HTTP/2 session (~15 KiB idle after a call) and its streams' messages (64 KiB
 * at most each). */
#define CONNECTIONS_DEFAULT 1024

enum grpc_code {
	GRPC_OK = 0,
	GRPC_INVALID_ARGUMENT = 3,
	GRPC_DEADLINE_EXCEEDED = 4,
	GRPC_NOT_FOUND = 5,
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
	char encoding[32];	   /* grpc-encoding: the request message's */
	char accept_encoding[128]; /* grpc-accept-encoding: what the client reads */
	int out_encoding;	   /* our messages' (enum grpc_encoding) */
	uint8_t *body;
	size_t body_len;
	int too_big;
	/* the answer: framed messages waiting to be sent, then the trailers */
	uint8_t *out;
	size_t out_len, out_off, out_cap;
	int done;	   /* no more messages: trailers after what is queued */
	int status;	   /* grpc-status of the trailers */
	char message[160]; /* grpc-message */
	int watching;	   /* a WatchTime or Health/Watch stream */
	int health;	   /* a Health/Watch stream: whether its service is known, */
	int health_known;
	int health_status; /* and the status it was last sent */
	uint32_t max_updates, sent;
	uint64_t last_round;
	int64_t deadline_ns; /* CLOCK_MONOTONIC, 0: none */
	struct stream *next; /* the server's list of watch streams */
	struct stream *prev;
	/* The request is arriving (HEADERS seen, not END_STREAM): in its connection's list,
	 * oldest first, since BEGUN_NS. */
	int receiving;
	int64_t begun_ns;
	struct stream *rnext, *rprev;
	struct stream *snext, *sprev; /* the connection's list of its streams */
};

struct conn {
	struct tcp_conn tcp; /* first: the core's (socket, peer, deadline) */
	struct grpc_server *s;
	struct bufferevent *bev;
	nghttp2_session *h2; /* NULL until the client's first byte */
	const char *peer;    /* tcp.peer */
	int closing;
	/* Deadlines (CLOCK_MONOTONIC ns), on the core's timer armed for the earliest. */
	int64_t first_ns; /* the preface's first byte (TLS: the connection); 0: none */
	int64_t idle_ns;  /* since when no call is under way (preface or last call) */
	int preface_done; /* the client's SETTINGS came */
	size_t streams;	  /* open */
	struct stream *rhead, *rtail; /* requests arriving, oldest first */
	/* Every stream with our state: freed with the connection (nghttp2_session_del calls
	 * no stream close callback). */
	struct stream *shead;
};

struct grpc_server {
	/* first: address, limits, rate limit, tokens, TLS, the TCP server */
	struct transport t;
	struct quorum_host *host;
	const struct quorum_api *api;
	struct stream *watchers;
	nghttp2_session_callbacks *h2_callbacks; /* owned; shared by every session */
	uint64_t calls, errors;
	uint64_t compressed_in, compressed_out; /* messages decoded / sent compressed */
};

/* ---- the answer of a stream ---- */

/* Appends one gRPC-framed message (compressed flag, 4-byte length, bytes): compressed in
 * the stream's out_encoding when that makes it smaller, else as it is. 0 or -ENOMEM. */
static int stream_queue(struct stream *st, const ProtobufCMessage *msg)
{
	size_t n = protobuf_c_message_get_packed_size(msg), len = n;
	uint8_t *frame, flag = 0;

	if (st->out_len + n + 5 > st->out_cap) {
		size_t cap = (st->out_len + n + 5) * 2;
		uint8_t *p = realloc(st->out, cap);

		if (p == NULL)
			return -ENOMEM;
		st->out = p;
		st->out_cap = cap;
	}
	frame = st->out + st->out_len;
	if (st->out_encoding != GRPC_ENCODING_IDENTITY && n > 0) {
		uint8_t *plain = malloc(n);

		if (plain == NULL)
			return -ENOMEM;
		protobuf_c_message_pack(msg, plain);
		/* only what comes out smaller than the message goes compressed */
		if (grpc_deflate(st->out_encoding, plain, n, frame + 5, n - 1, &len) == 0) {
			flag = 1;
			st->conn->s->compressed_out++;
		} else {
			memcpy(frame + 5, plain, n);
			len = n;
		}
		free(plain);
	} else {
		protobuf_c_message_pack(msg, frame + 5);
	}
	frame[0] = flag;
	frame[1] = (uint8_t)(len >> 24);
	frame[2] = (uint8_t)(len >> 16);
	frame[3] = (uint8_t)(len >> 8);
	frame[4] = (uint8_t)len;
	st->out_len += len + 5;
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

/* The stream's request has arrived (or the stream is gone): off the list of requests under
 * way. */
static void stream_received(struct stream *st)
{
	struct conn *c = st->conn;

	if (!st->receiving)
		return;
	if (st->rprev != NULL)
		st->rprev->rnext = st->rnext;
	else
		c->rhead = st->rnext;
	if (st->rnext != NULL)
		st->rnext->rprev = st->rprev;
	else
		c->rtail = st->rprev;
	st->receiving = 0;
	st->rnext = st->rprev = NULL;
}

static void stream_free(struct stream *st)
{
	struct conn *c = st->conn;

	stream_received(st);
	stream_unwatch(st);
	if (st->sprev != NULL)
		st->sprev->snext = st->snext;
	else
		c->shead = st->snext;
	if (st->snext != NULL)
		st->snext->sprev = st->sprev;
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
	{                                                                                      \
		(uint8_t *)(name), (uint8_t *)(value), sizeof(name) - 1, strlen(value),        \
			NGHTTP2_NV_FLAG_NONE                                                   \
	}

/* Starts the answer: headers (the encodings we read, and our messages' when not identity),
 * then the queued messages and trailers through data_read_cb. */
static void stream_respond(struct stream *st)
{
	nghttp2_nv headers[4] = { NV(":status", "200"), NV("content-type", "application/grpc"),
				  NV("grpc-accept-encoding", GRPC_ACCEPT_ENCODING) };
	nghttp2_data_provider provider = { .source.ptr = st, .read_callback = data_read_cb };
	size_t n = 3;

	if (st->out_encoding != GRPC_ENCODING_IDENTITY)
		headers[n++] =
			(nghttp2_nv)NV("grpc-encoding", grpc_encoding_name(st->out_encoding));
	nghttp2_submit_response(st->conn->h2, st->id, headers, n, &provider);
}

/* A Trailers-Only answer: the status in the one HEADERS frame that ends the stream. */
static void stream_fail(struct stream *st, int code, const char *message)
{
	char status[16];
	nghttp2_nv headers[5] = { NV(":status", "200"), NV("content-type", "application/grpc"),
				  NV("grpc-accept-encoding", GRPC_ACCEPT_ENCODING) };

	snprintf(status, sizeof(status), "%d", code);
	headers[3] = (nghttp2_nv)NV("grpc-status", status);
	headers[4] = (nghttp2_nv)NV("grpc-message", message);
	st->conn->s->errors++;
	stream_unwatch(st);
	nghttp2_submit_response(st->conn->h2, st->id, headers, 5, NULL);
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
	hex_encode(signed_state->signature.data, 64, sig_hex);
	uml001__signed_state__free_unpacked(signed_state, NULL);
	hex_encode(now->quorum_hash, QUORUM_DIGEST_LEN, hash_hex);
	r->unix_timestamp = (uint64_t)(now->estimate_ns / 1000000000);
	r->unix_nanos = now->estimate_ns % 1000000000;
	r->drift_applied = now->drift_ns;
	r->last_updated_unix =
		(uint64_t)((now->estimate_ns - now->agreement_age_ns) / 1000000000);
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
		stream_fail(st, code,
			    code == GRPC_UNAVAILABLE
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
	char iso[TIMEFIELDS_ISO8601_LEN];

	s->api->clock_read(s->host, &now);
	if (now.status != QUORUM_CLOCK_SYNCHRONISED) {
		stream_fail(st, GRPC_UNAVAILABLE,
			    "unsynchronised: no agreement within the error bound");
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
	size_t att_len = 0;
	char iso[TIMEFIELDS_ISO8601_LEN], hash[2 * QUORUM_DIGEST_LEN + 1];
	int err = s->api->attest_time(s->host, NULL, 0, &now, att, sizeof(att), &att_len);

	if (err != 0) {
		stream_fail(st, err == -EAGAIN ? GRPC_UNAVAILABLE : GRPC_INTERNAL,
			    err == -EAGAIN
				    ? "unsynchronised: no agreement within the error bound"
				    : "the time could not be signed");
		return;
	}
	timefields_update(&s->t.fields, s->host, s->api, &now, 1);
	bridge_attested(&now, &s->t.fields, &r, iso, hash);
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
		stream_fail(st, GRPC_INVALID_ARGUMENT,
			    "request is not a uml001.AlignTimeRequest");
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
		stream_fail(st, code,
			    code == GRPC_UNAVAILABLE
				    ? "unsynchronised: no agreement within the error bound"
				    : "the time could not be signed");
		return;
	}
	RAND_bytes(session, sizeof(session));
	hex_encode(session, sizeof(session), session_hex);
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
	case 'H':
		unit = 3600000000000LL;
		break;
	case 'M':
		unit = 60000000000LL;
		break;
	case 'S':
		unit = 1000000000LL;
		break;
	case 'm':
		unit = 1000000LL;
		break;
	case 'u':
		unit = 1000LL;
		break;
	case 'n':
		unit = 1;
		break;
	default:
		return 0;
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

/* ST into the server's list of streams watch_cb updates, until TIMEOUT (ns; 0: none). */
static void stream_watch(struct stream *st, int64_t timeout)
{
	struct grpc_server *s = st->conn->s;

	st->deadline_ns = timeout > 0 ? mono_now_ns() + timeout : 0;
	st->watching = 1;
	st->next = s->watchers;
	if (s->watchers != NULL)
		s->watchers->prev = st;
	s->watchers = st;
}

static void method_watch_time(struct stream *st, const uint8_t *msg, size_t len)
{
	struct grpc_server *s = st->conn->s;
	Uml001__WatchTimeRequest *req = uml001__watch_time_request__unpack(NULL, len, msg);
	struct quorum_clock_reading now;
	int64_t timeout = parse_timeout(st->timeout);

	if (req == NULL) {
		stream_fail(st, GRPC_INVALID_ARGUMENT,
			    "request is not a uml001.WatchTimeRequest");
		return;
	}
	st->max_updates = req->max_updates;
	uml001__watch_time_request__free_unpacked(req, NULL);
	s->api->clock_read(s->host, &now);
	if (now.status != QUORUM_CLOCK_SYNCHRONISED) {
		stream_fail(st, GRPC_UNAVAILABLE,
			    "unsynchronised: no agreement within the error bound");
		return;
	}
	stream_watch(st, timeout);
	stream_respond(st);
	watch_send(st);
}

/* ---- grpc.health.v1.Health ---- */

/* Whether a health request names what this server serves: the server as a whole ("") or
 * one of its time services. */
static int health_service_known(const char *service)
{
	return service[0] == '\0' || strcmp(service, "uml001.ClockService") == 0 ||
	       strcmp(service, "aegisbridge.BridgeTimeService") == 0;
}

/* A known service is SERVING exactly while the node serves time (NOW synchronised). */
static int health_status(int known, const struct quorum_clock_reading *now)
{
	if (!known)
		return GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVICE_UNKNOWN;
	return now->status == QUORUM_CLOCK_SYNCHRONISED
		       ? GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING
		       : GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__NOT_SERVING;
}

/* Queues STATUS on the stream. 0 or -ENOMEM. */
static int health_queue(struct stream *st, int status)
{
	Grpc__Health__V1__HealthCheckResponse r = GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__INIT;

	r.status = status;
	st->health_status = status;
	return stream_queue(st, &r.base);
}

/* The service a health request names: 0 known, 1 unknown, -1 not such a request (the
 * call is answered then). */
static int health_request(struct stream *st, const uint8_t *msg, size_t len)
{
	Grpc__Health__V1__HealthCheckRequest *req =
		grpc__health__v1__health_check_request__unpack(NULL, len, msg);
	int known;

	if (req == NULL) {
		stream_fail(st, GRPC_INVALID_ARGUMENT,
			    "request is not a grpc.health.v1.HealthCheckRequest");
		return -1;
	}
	known = health_service_known(req->service);
	grpc__health__v1__health_check_request__free_unpacked(req, NULL);
	return known ? 0 : 1;
}

/* Health/Check: the status now; NOT_FOUND for an unknown service (the protocol's rule). */
static void method_health_check(struct stream *st, const uint8_t *msg, size_t len)
{
	struct grpc_server *s = st->conn->s;
	struct quorum_clock_reading now;
	int unknown = health_request(st, msg, len);

	if (unknown < 0)
		return;
	if (unknown) {
		stream_fail(st, GRPC_NOT_FOUND, "unknown service");
		return;
	}
	s->api->clock_read(s->host, &now);
	if (health_queue(st, health_status(1, &now)) != 0) {
		stream_fail(st, GRPC_INTERNAL, "out of memory");
		return;
	}
	st->done = 1;
	stream_respond(st);
}

/* Health/Watch: the status now, then each change (watch_cb), until the client ends the
 * call, its deadline passes or a drain ends it; an unknown service is SERVICE_UNKNOWN, not
 * an error. */
static void method_health_watch(struct stream *st, const uint8_t *msg, size_t len)
{
	struct grpc_server *s = st->conn->s;
	struct quorum_clock_reading now;
	int unknown = health_request(st, msg, len);

	if (unknown < 0)
		return;
	st->health = 1;
	st->health_known = !unknown;
	s->api->clock_read(s->host, &now);
	if (health_queue(st, health_status(st->health_known, &now)) != 0) {
		stream_fail(st, GRPC_INTERNAL, "out of memory");
		return;
	}
	stream_watch(st, parse_timeout(st->timeout));
	stream_respond(st);
}

/* ---- requests ---- */

/* The request's one message, decoded from its grpc-encoding into *MSG (*LEN bytes; *OWNED
 * is what the caller frees, NULL when *MSG points into the body). Our messages go out in
 * the same encoding when the client reads it (grpc-accept-encoding). 0, or -1 when the
 * call was answered with an error. */
static int request_message(struct stream *st, const uint8_t **msg, size_t *len, uint8_t **owned)
{
	struct grpc_server *s = st->conn->s;
	int encoding = grpc_encoding_parse(st->encoding);
	size_t framed;

	*owned = NULL;
	if (encoding < 0) { /* the answer's grpc-accept-encoding says what we read */
		stream_fail(st, GRPC_UNIMPLEMENTED, "grpc-encoding not supported");
		return -1;
	}
	if (st->body_len < 5 || st->body[0] > 1) {
		stream_fail(st, GRPC_INVALID_ARGUMENT, "one length-prefixed message expected");
		return -1;
	}
	framed = (size_t)st->body[1] << 24 | (size_t)st->body[2] << 16 |
		 (size_t)st->body[3] << 8 | st->body[4];
	if (framed != st->body_len - 5) {
		stream_fail(st, GRPC_INVALID_ARGUMENT, "one length-prefixed message expected");
		return -1;
	}
	if (st->body[0] == 0) {
		*msg = st->body + 5;
		*len = framed;
	} else if (encoding == GRPC_ENCODING_IDENTITY) {
		stream_fail(st, GRPC_INTERNAL, "compressed message without a grpc-encoding");
		return -1;
	} else {
		/* bounded like an uncompressed one: a bomb stops at MESSAGE_MAX + 1 bytes */
		int err;

		*owned = malloc(MESSAGE_MAX);
		err = *owned == NULL ? -ENOMEM
				     : grpc_inflate(encoding, st->body + 5, framed, *owned,
						    MESSAGE_MAX, len);
		if (err != 0) {
			free(*owned);
			*owned = NULL;
			stream_fail(
				st, err == -EMSGSIZE ? GRPC_RESOURCE_EXHAUSTED : GRPC_INTERNAL,
				err == -EMSGSIZE ? "request message too large (decompressed)"
				: err == -ENOMEM ? "out of memory"
						 : "the message could not be decompressed");
			return -1;
		}
		*msg = *owned;
		s->compressed_in++;
	}
	if (encoding != GRPC_ENCODING_IDENTITY &&
	    grpc_encoding_accepted(st->accept_encoding, encoding))
		st->out_encoding = encoding;
	return 0;
}

static void handle_request(struct stream *st)
{
	struct grpc_server *s = st->conn->s;
	const uint8_t *msg = NULL;
	uint8_t *owned;
	size_t len = 0;

	s->calls++;
	/* The gate first (counted and summarised by the host, never audited one by one). */
	if (!transport_rate_allow(&s->t, st->conn->peer)) {
		stream_fail(st, GRPC_RESOURCE_EXHAUSTED, "Rate limit exceeded");
		return;
	}
	if (!transport_token_allow(&s->t, st->conn->peer,
				   st->auth[0] != '\0' ? st->auth : NULL)) {
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
	if (request_message(st, &msg, &len, &owned) != 0)
		return;
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
	else if (strcmp(st->path, "/grpc.health.v1.Health/Check") == 0)
		method_health_check(st, msg, len);
	else if (strcmp(st->path, "/grpc.health.v1.Health/Watch") == 0)
		method_health_watch(st, msg, len);
	else
		stream_fail(st, GRPC_UNIMPLEMENTED, "unknown method");
	free(owned);
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
	struct conn *c;

	if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST)
		return 0;
	st = calloc(1, sizeof(*st));
	if (st == NULL)
		return NGHTTP2_ERR_CALLBACK_FAILURE;
	c = user_data;
	st->conn = c;
	st->id = frame->hd.stream_id;
	/* Its request's deadline runs from here (the end of the list: the newest). */
	st->receiving = 1;
	st->begun_ns = mono_now_ns();
	st->rprev = c->rtail;
	if (c->rtail != NULL)
		c->rtail->rnext = st;
	else
		c->rhead = st;
	c->rtail = st;
	c->streams++;
	st->snext = c->shead;
	if (c->shead != NULL)
		c->shead->sprev = st;
	c->shead = st;
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
			const uint8_t *name, size_t namelen, const uint8_t *value,
			size_t valuelen, uint8_t flags, void *user_data)
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
	else if (namelen == 13 && memcmp(name, "grpc-encoding", 13) == 0)
		copy_value(st->encoding, sizeof(st->encoding), value, valuelen);
	else if (namelen == 20 && memcmp(name, "grpc-accept-encoding", 20) == 0)
		copy_value(st->accept_encoding, sizeof(st->accept_encoding), value, valuelen);
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
	struct conn *c = user_data;

	if (frame->hd.type == NGHTTP2_SETTINGS && !(frame->hd.flags & NGHTTP2_FLAG_ACK) &&
	    !c->preface_done) { /* the client's preface is complete: idle from now */
		c->preface_done = 1;
		c->idle_ns = mono_now_ns();
		return 0;
	}
	if ((frame->hd.type != NGHTTP2_HEADERS && frame->hd.type != NGHTTP2_DATA) ||
	    !(frame->hd.flags & NGHTTP2_FLAG_END_STREAM))
		return 0;
	st = nghttp2_session_get_stream_user_data(session, frame->hd.stream_id);
	if (st != NULL) {
		stream_received(st);
		handle_request(st);
	}
	return 0;
}

static int h2_stream_close_cb(nghttp2_session *session, int32_t stream_id, uint32_t error_code,
			      void *user_data)
{
	struct stream *st = nghttp2_session_get_stream_user_data(session, stream_id);
	struct conn *c = user_data;

	if (st != NULL) {
		nghttp2_session_set_stream_user_data(session, stream_id, NULL);
		stream_free(st);
		if (--c->streams == 0)
			c->idle_ns = mono_now_ns();
	}
	return 0;
}

/* ---- connections ---- */

/* The core's release: C's streams, HTTP/2 session and bufferevent (closing the socket). */
static void conn_release(struct tcp_conn *tc, void *arg)
{
	struct conn *c = (struct conn *)tc;

	(void)arg;
	/* Its streams first: a watch stream left in the server's list would be used after
	 * this (a client gone in the middle of WatchTime). */
	while (c->shead != NULL)
		stream_free(c->shead);
	if (c->h2 != NULL)
		nghttp2_session_del(c->h2);
	bufferevent_free(c->bev);
}

/* Closes C; a drain ends once the last connection has flushed its goodbye (trailers,
 * GOAWAY), or at the host's drain timeout. */
static void conn_free(struct conn *c)
{
	tcp_conn_close(&c->tcp);
}

static int conn_flush(struct conn *c);

/* When C's next deadline falls (CLOCK_MONOTONIC ns), 0 for none, with its *KIND and *WHAT:
 * the preface's or a request's (header), else the idle timeout's. */
static int64_t conn_due(const struct conn *c, enum tcp_deadline *kind, const char **what)
{
	const struct connlimit *l = &c->s->t.limits;
	int64_t header_ns = l->header_timeout_ms * 1000000;

	*kind = TCP_DEADLINE_HEADER;
	*what = c->preface_done ? "request" : "connection preface";
	if (!c->preface_done && c->first_ns != 0)
		return c->first_ns + header_ns;
	if (c->rhead != NULL)
		return c->rhead->begun_ns + header_ns;
	*kind = TCP_DEADLINE_IDLE;
	*what = "idle";
	if (!c->preface_done || c->streams == 0)
		return c->idle_ns + l->idle_timeout_s * 1000000000;
	return 0; /* calls under way, every request in: their answers' business */
}

/* The core's due: C's deadline now. */
static int64_t conn_due_op(struct tcp_conn *tc, enum tcp_deadline *kind, const char **what,
			   void *arg)
{
	(void)arg;
	return conn_due((struct conn *)tc, kind, what);
}

/* Arms C's deadline when it is earlier than the one armed (a later one is found when the
 * timer fires: conn_due_op). 0, or -ENOMEM. */
static int conn_schedule(struct conn *c)
{
	enum tcp_deadline kind;
	const char *what;
	int64_t due = conn_due(c, &kind, &what), armed = tcp_conn_deadline_due(&c->tcp);

	if (due == 0 || (armed != 0 && armed <= due))
		return 0;
	return tcp_conn_deadline_at(&c->tcp, kind, due, what);
}

/* The core's expired: past the idle timeout the client gets GOAWAY first, and opens a new
 * connection when it needs one. 1 when C closes once that is out (or was freed). */
static int conn_expired(struct tcp_conn *tc, enum tcp_deadline kind, void *arg)
{
	struct conn *c = (struct conn *)tc;

	(void)arg;
	if (kind != TCP_DEADLINE_IDLE || c->h2 == NULL)
		return 0;
	nghttp2_session_terminate_session(c->h2, NGHTTP2_NO_ERROR);
	return conn_flush(c) != 0 || c->closing;
}

/* Sends what nghttp2 has; frees C when the session is over. 0, or -1 when C was freed. */
static int conn_flush(struct conn *c)
{
	if (c->h2 == NULL)
		return 0;
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

/* The session, at the client's first byte (an idle connection costs no more than its
 * bufferevent meanwhile): our SETTINGS go out then. 0, or -ENOMEM. */
static int conn_start_session(struct conn *c)
{
	nghttp2_settings_entry streams = { NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, 100 };

	if (nghttp2_session_server_new(&c->h2, c->s->h2_callbacks, c) != 0) {
		c->h2 = NULL;
		return -ENOMEM;
	}
	if (nghttp2_submit_settings(c->h2, NGHTTP2_FLAG_NONE, &streams, 1) != 0)
		return -ENOMEM;
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
	if (c->first_ns == 0)
		c->first_ns = mono_now_ns(); /* the preface's deadline runs from here */
	if (c->h2 == NULL && conn_start_session(c) != 0) {
		conn_free(c);
		return;
	}
	used = nghttp2_session_mem_recv(c->h2, evbuffer_pullup(in, -1), len);
	if (used < 0) {
		conn_free(c); /* not HTTP/2, or a protocol error */
		return;
	}
	evbuffer_drain(in, (size_t)used);
	if (conn_flush(c) == 0 && conn_schedule(c) != 0)
		conn_free(c);
}

static void conn_write_cb(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;

	if (evbuffer_get_length(bufferevent_get_output(bev)) > 0)
		return;
	if (c->closing)
		conn_free(c);
	else if (conn_schedule(c) != 0) /* answers are out: perhaps idle from now */
		conn_free(c);
}

static void conn_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct conn *c = arg;

	(void)bev;
	if (what & BEV_EVENT_TIMEOUT) /* the client took nothing for idle_timeout_s */
		tcp_conn_timed_out(&c->tcp, TCP_DEADLINE_IDLE, "idle");
	else if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
		conn_free(c);
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

/* The core's open: a bufferevent (TLS or not) for a new connection; its HTTP/2 session
 * waits for the client's first byte. 0 or -ENOMEM. */
static int conn_open(struct tcp_conn *tc, void *arg)
{
	struct conn *c = (struct conn *)tc;
	struct grpc_server *s = arg;

	c->s = s;
	c->peer = tc->peer;
	c->bev = tcp_conn_bufferevent(tc, s->t.tls);
	if (c->bev == NULL)
		return -ENOMEM;
	c->idle_ns = mono_now_ns();
	if (s->t.tls != NULL) /* the handshake is part of the preface: from the connection */
		c->first_ns = c->idle_ns;
	bufferevent_setcb(c->bev, conn_read_cb, conn_write_cb, conn_event_cb, c);
	/* A client that takes nothing of our answers for so long is gone. */
	bufferevent_set_timeouts(c->bev, NULL, &s->t.limits.idle_timeout);
	if (bufferevent_enable(c->bev, EV_READ | EV_WRITE) != 0 || conn_schedule(c) != 0) {
		bufferevent_free(c->bev); /* it closed the socket */
		tc->fd = -1;
		return -ENOMEM;
	}
	return 0;
}

static const struct tcp_server_ops conn_ops = {
	.conn_size = sizeof(struct conn),
	.open = conn_open,
	.release = conn_release,
	.expired = conn_expired,
	.due = conn_due_op,
};

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

/* Every WATCH_MS: a new agreement goes to each WatchTime stream, a change of status to each
 * Health/Watch stream; deadlines end them. */
static void watch_cb(void *arg)
{
	struct grpc_server *s = arg;
	struct quorum_clock_reading now;
	int64_t t = mono_now_ns();

	s->api->clock_read(s->host, &now);
	timefields_drift_observe(&s->t.fields.drift, &now); /* drift samples, taken early */
	if (s->watchers == NULL)
		return;
	for (struct stream *st = s->watchers, *next; st != NULL; st = next) {
		struct conn *c = st->conn;

		next = st->next;
		if (st->deadline_ns != 0 && t >= st->deadline_ns)
			stream_finish(st, GRPC_DEADLINE_EXCEEDED, "deadline exceeded");
		else if (st->health &&
			 health_status(st->health_known, &now) == st->health_status)
			continue;
		else if (st->health &&
			 health_queue(st, health_status(st->health_known, &now)) != 0)
			stream_finish(st, GRPC_INTERNAL, "out of memory");
		else if (st->health) /* a change, queued */
			nghttp2_session_resume_data(c->h2, st->id);
		else if (now.status != QUORUM_CLOCK_SYNCHRONISED)
			stream_finish(st, GRPC_UNAVAILABLE, "unsynchronised: the watch ends");
		else if (now.round != st->last_round)
			watch_send(st);
		else
			continue;
		/* may free c and its streams: NEXT was taken first (a watch ending frees no
		 * other watch stream of the list) */
		if (conn_flush(c) == 0 && conn_schedule(c) != 0)
			conn_free(c);
	}
}

/* ---- settings and lifecycle ---- */

/* The gRPC transport's settings the host fills from grpc_settings (their defaults live only
 * there): the transport's shared ones (transport_init's); it has none of its own. */
struct grpc_settings {
	struct transport_settings transport;
};

static int grpc_init(struct quorum_host *host, const struct quorum_api *api, void **state)
{
	const struct grpc_settings *cfg;
	struct grpc_server *s;
	int err;

	if (!QUORUM_API_HAS(api, attest_time) || !QUORUM_API_HAS(api, settings))
		return -ENOTSUP;
	cfg = api->settings(host);
	if (cfg == NULL)
		return -EINVAL;
	err = transport_new(sizeof(*s), host, api, "grpc", &cfg->transport, CONNECTIONS_DEFAULT,
			    (void **)&s);
	if (err != 0)
		return err;
	s->host = host;
	s->api = api;
	/* nghttp2 copies the callbacks into each session: one table serves them all */
	s->h2_callbacks = callbacks_new();
	err = s->h2_callbacks == NULL ? -ENOMEM : transport_server_new(&s->t, &conn_ops, s);
	if (err != 0) {
		nghttp2_session_callbacks_del(s->h2_callbacks);
		transport_free(&s->t);
		return err;
	}
	if (s->t.tls != NULL)
		SSL_CTX_set_alpn_select_cb(s->t.tls, alpn_select_cb, NULL);
	*state = s;
	return 0;
}

static int grpc_start(void *state)
{
	struct grpc_server *s = state;
	int err = transport_start(&s->t, NULL, WATCH_MS, watch_cb, s);

	if (err == 0)
		transport_log_listening(&s->t, "%s", "");
	return err;
}

static int grpc_drain(void *state)
{
	struct grpc_server *s = state;

	/* (Nothing is accepted meanwhile: this runs on the loop.) Watch streams end cleanly
	 * (UNAVAILABLE: the client retries elsewhere or later); every connection gets GOAWAY,
	 * so clients open new ones on the successor. */
	for (struct stream *st = s->watchers, *next; st != NULL; st = next) {
		next = st->next;
		stream_finish(st, GRPC_UNAVAILABLE, "server reloading");
	}
	for (struct tcp_conn *tc = tcp_server_first(s->t.tcp), *next; tc != NULL; tc = next) {
		struct conn *c = (struct conn *)tc;

		next = tcp_conn_next(tc);
		if (c->h2 == NULL) { /* it has sent nothing: nothing to tell it */
			conn_free(c);
			continue;
		}
		/* Out go the streams' trailers first: once GOAWAY is sent (a control frame, so
		 * ahead of any queued stream frame), nghttp2 sends nothing more. */
		if (conn_flush(c) != 0)
			continue;
		nghttp2_session_terminate_session(c->h2, NGHTTP2_NO_ERROR);
		conn_flush(c);
	}
	return tcp_server_drain(s->t.tcp, transport_drained, &s->t);
}

static void grpc_fini(void *state)
{
	struct grpc_server *s = state;

	nghttp2_session_callbacks_del(s->h2_callbacks); /* the sessions hold copies */
	transport_stop(&s->t, NULL,
		       "calls=%" PRIu64 " errors=%" PRIu64 " compressed_in=%" PRIu64
		       " compressed_out=%" PRIu64,
		       s->calls, s->errors, s->compressed_in, s->compressed_out);
}

static const struct quorum_setting grpc_settings[] = {
	TRANSPORT_SETTINGS(struct grpc_settings, "9090", "authorization metadata", "calls"),
	TRANSPORT_TLS_SETTINGS(struct grpc_settings),
	TRANSPORT_CONNECTION_SETTINGS(struct grpc_settings),
	{ .type = QUORUM_SETTING_END },
};

TRANSPORT_PLUGIN_BOUND("grpc", grpc, struct grpc_settings);
