/* rest.c -- the REST transport (our HTTP/1.1 core, http1.c, + jansson): the node's agreed time
 * and its audit plane over HTTP/1.1.
 *   GET /v1/time?format=unix|iso8601|json   the time with its bound (nanoseconds; json also
 *               [&nonce=64 hex digits]      carries the node's signed answer, "attestation",
 *                                           which `quorumctl verify` checks: signed for this
 *                                           request when it has a nonce, else shared by the
 *                                           answers of attestation_cache_us), checked in
 *                                           the reference's order: rate limit (429, with
 *                                           Retry-After), bearer (401), synchronised (503),
 *                                           format (400)
 *   GET /healthz, /readyz, /metrics         liveness, readiness (503 when unsynchronised),
 *                                           Prometheus text with real counters
 *   GET /v1/status                          the served clock, n, f, the vault and the tree,
 *                                           each source's interval in the last round
 *   GET /, /status.js, /status.css,         the status page (page_dir) and whether it
 *       /favicon.svg, /status-page.json     needs a token: rate-limited but served without
 *                                           the bearer token, since they carry no data; the
 *                                           page asks /v1/status with the token
 *   GET /v1/checkpoint                      the latest signed checkpoint (C2SP signed note)
 *   GET /v1/proof/inclusion?index=I         proofs against the latest checkpoint, in the form
 *   GET /v1/proof/consistency?old=M         `quorumctl proof verify` checks
 *   POST /time/sync                         403: nothing mutates the clock but the pipeline
 *   POST /v1/events                         an encoded, signed SignedState (operator commands,
 *                                           passport updates) through the pipeline: 200
 *                                           accepted, 202 held, 403 refused (JSON verdict);
 *                                           200 and 202 only once the vault has made the
 *                                           records durable (else 503)
 *   POST /time/shared-state                 a leader's signed shared state (also under /v1),
 *                                           checked in the reference's order: rate limit
 *                                           (429), bearer (401), size (413), body (400: bad
 *                                           JSON, not an object, unknown field, missing
 *                                           field, wrong type); then ingested as
 *                                           uml001.rest.time.shared_state, whose verdict
 *                                           answers: 200 applied (recorded by the control
 *                                           stage; the clock never moves; sent once the
 *                                           records are durable, else 503) or 403 with why
 * Errors are JSON with their status. Bearer tokens come from files and are compared in
 * constant time; rate limiting is a token bucket per client address in a bounded table.
 * TLS (OpenSSL through libevent_openssl) with an optional client CA (mTLS). mode =
 * "production" refuses to start without TLS, a client CA and a bearer token; "dev" allows
 * cleartext on a loopback address only. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <event2/buffer.h>
#include <jansson.h>
#include <arpa/inet.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>

#include <quorum/control.h>
#include <quorum/gossip.h>
#include <quorum/plugin.h>
#include <quorum/sharedstate.h>

#include "connlimit.h"
#include "ratelimit.h"
#include "http1.h"
#include "bearer.h"
#include "query.h"
#include "jsontext.h"
#include "page.h"
#include "sharedstate-body.h"
#include "timefields.h"
#include "timejson.h"
#include "tlsconf.h"
#include "transport.h"
#include "clocks.h"

#define PROOF_MAX 64
/* Open client connections at most unless max_connections says otherwise (within a quarter
 * of the descriptors: connlimit.h). An idle connection costs about 0.5 KiB here (its buffers
 * are given back between requests) and a few KiB in the kernel. */
#define CONNECTIONS_DEFAULT 10000

#define NO_STORE   "Cache-Control: no-store\r\n"
#define JSON_SMALL 4096 /* JSON answers up to this size are written on the stack */

enum route {
	ROUTE_TIME,
	ROUTE_HEALTHZ,
	ROUTE_READYZ,
	ROUTE_METRICS,
	ROUTE_STATUS,
	ROUTE_CHECKPOINT,
	ROUTE_PROOF,
	ROUTE_SYNC,
	ROUTE_SHARED_STATE,
	ROUTE_EVENTS,
	ROUTE_PAGE,
	ROUTE_OTHER,
	ROUTE_COUNT
};

static const char *const route_names[ROUTE_COUNT] = {
	"time",	 "healthz", "readyz",	    "metrics", "status", "checkpoint",
	"proof", "sync",    "shared_state", "events",  "page",	 "other",
};

#define ATTESTATION_MAX	    1024 /* api->attest_time's output */
#define ATTESTATION_B64_MAX (4 * ((ATTESTATION_MAX + 2) / 3) + 1)

struct rest {
	/* first: address, limits, rate limit, tokens, TLS (the server is http1's) */
	struct transport t;
	struct quorum_host *host;
	const struct quorum_api *api;
	struct http1_server *server;
	int64_t max_body;
	struct quorum_source_status *sources;	  /* QUORUM_AUTHORITIES_MAX, for /v1/status */
	struct quorum_source_interval *intervals; /* the same, their intervals */
	struct rest_page page;			  /* the status page's files */
	char page_missing[256];		   /* why the page is not served ("" when it is) */
	uint64_t requests[ROUTE_COUNT][6]; /* by status class: 2xx 3xx 4xx 5xx, 401, 429 */
	int draining;
	/* The signed answer shared by nonce-less json answers (attestation_cache_us; 0: each
	 * answer signs its own). Renewed with every new agreement. */
	int64_t attestation_cache_us;
	struct {
		char b64[ATTESTATION_B64_MAX]; /* base64 of the SignedState */
		size_t len;		       /* of b64; 0: none */
		uint64_t round;
		int64_t signed_mono_ns, estimate_ns;
	} att;
	uint64_t signatures; /* made by this instance */
	/* Answers that acknowledge a write, waiting for the vault to say it is durable. */
	struct ack_wait *acks;
	size_t ack_count;
	uint64_t acks_failed; /* answered 503: the vault failed before the record was durable */
};

/* An acknowledging answer (200 for POST /v1/events, ...) held until the vault has made
 * every record written for it durable (await_durable): a crash right after the answer
 * never loses what it acknowledged. */
struct ack_wait {
	struct rest *r;
	struct http1_deferred *deferred;
	const struct quorum_vault_ops *vault; /* what it waits on (cancelled at fini) */
	void *vault_state;
	enum route route;
	int status;
	json_t *body;
	struct ack_wait *prev, *next;
};

/* ---- answers ---- */

static void count(struct rest *r, enum route route, int status)
{
	int k = status == 401 ? 4 : status == 429 ? 5 : status / 100 - 2;

	if (k >= 0 && k < 6)
		r->requests[route][k]++;
}

/* Answers with BODY, uncacheable, plus HEADERS (complete lines, "" for none). When http1
 * cannot queue the answer it answers 500 itself and logs why. */
static void reply_text(struct rest *r, struct http1_request *req, enum route route, int status,
		       const char *type, const char *headers, const char *body)
{
	char lines[128];

	if (headers[0] != '\0') {
		snprintf(lines, sizeof(lines), NO_STORE "%s", headers);
		http1_reply(req, status, type, lines, body, strlen(body));
	} else {
		http1_reply(req, status, type, NO_STORE, body, strlen(body));
	}
	count(r, route, status);
}

/* JSON (borrowed) as compact text into SMALL (JSON_SMALL bytes): jsontext writes jansson's
 * bytes much faster; what it leaves (large, or beyond ASCII) jansson writes on the heap.
 * RETURN VALUE: SMALL, a new string (free), or NULL (out of memory). */
static char *json_text(const json_t *json, char small[JSON_SMALL])
{
	if (json == NULL)
		return NULL;
	if (jsontext_dump(json, small, JSON_SMALL) >= 0)
		return small;
	return json_dumps(json, JSON_COMPACT);
}

/* Sends JSON (stolen) with STATUS and HEADERS. */
static void reply_json_with(struct rest *r, struct http1_request *req, enum route route,
			    int status, const char *headers, json_t *json)
{
	char small[JSON_SMALL];
	char *text = json_text(json, small);

	json_decref(json);
	if (text == NULL) {
		reply_text(r, req, route, 500, "application/json", "",
			   "{\"error\":\"out of memory\"}");
	} else {
		reply_text(r, req, route, status, "application/json", headers, text);
	}
	if (text != small)
		free(text);
}

static void reply_json(struct rest *r, struct http1_request *req, enum route route, int status,
		       json_t *json)
{
	reply_json_with(r, req, route, status, "", json);
}

static void reply_error_with(struct rest *r, struct http1_request *req, enum route route,
			     int status, const char *headers, const char *key,
			     const char *message)
{
	reply_json_with(r, req, route, status, headers, json_pack("{s:s}", key, message));
}

static void reply_error(struct rest *r, struct http1_request *req, enum route route, int status,
			const char *key, const char *message)
{
	reply_error_with(r, req, route, status, "", key, message);
}

/* ---- rate limit and bearer auth ---- */

/* Counts a refused request: summarised by the host (api->refused), never audited one by
 * one, since nobody can be held to an unauthenticated request. */
static void refused(struct rest *r, struct http1_request *req, const char *reason)
{
	transport_refused(&r->t, req->peer, reason);
}

/* The reference's checks, before anything else on every route: 429, then 401 (but for the
 * status page's files, which carry no data: the page asks for the data with the token).
 * 0 when allowed; a refusal leaves counters only. */
static int gate(struct rest *r, struct http1_request *req, enum route route)
{
	if (!transport_rate_allow(&r->t, req->peer)) {
		/* a rate is at least 1/s: a token is back within a second */
		reply_error_with(r, req, route, 429, "Retry-After: 1\r\n", "detail",
				 "Rate limit exceeded");
		return -1;
	}
	if (route == ROUTE_PAGE)
		return 0;
	if (!transport_token_allow(&r->t, req->peer, http1_header(req, "Authorization"))) {
		reply_error_with(r, req, route, 401, "WWW-Authenticate: Bearer\r\n", "detail",
				 "Unauthorized");
		return -1;
	}
	return 0;
}

/* ---- time ---- */

/* The query parameter NAME of REQ, decoded into OUT: 0, -ENOENT (absent) or -ENOSPC (given
 * but too long: never to be taken as absent). The query as a whole was checked (handle). */
static int request_param(struct http1_request *req, const char *name, char *out, size_t size)
{
	int err = http1_query_param(req, name, out, size);

	return err == 0 || err == -ENOENT ? err : -ENOSPC;
}

/* Decodes 64 hex digits into 32 bytes. 0 or -1. */
static int nonce_decode(const char *hexdigits, uint8_t out[32])
{
	if (strlen(hexdigits) != 64)
		return -1;
	for (int i = 0; i < 32; i++) {
		unsigned v;

		if (sscanf(hexdigits + 2 * i, "%2x", &v) != 1 ||
		    !((hexdigits[2 * i] >= '0' && hexdigits[2 * i] <= '9') ||
		      (hexdigits[2 * i] >= 'a' && hexdigits[2 * i] <= 'f')))
			return -1;
		out[i] = (uint8_t)v;
	}
	return 0;
}

/* The node's signed answer for a json body, base64, into B64 (*LEN its length), *AGE_NS how
 * much older its signed estimate is than NOW's. With a NONCE, or without a cache, the node
 * signs for this answer and *NOW becomes exactly what it signed (age 0). Without a nonce the
 * answer signed within attestation_cache_us for the current agreement is shared, so a busy
 * node signs about once per period instead of once per request: the attestation is then a
 * signed statement about an instant at most that much earlier, which the body says.
 * 0 or attest_time's error (-EAGAIN: unsynchronised). */
static int signed_answer(struct rest *r, const uint8_t *nonce, struct quorum_clock_reading *now,
			 char b64[ATTESTATION_B64_MAX], size_t *len, int64_t *age_ns)
{
	struct quorum_clock_reading signed_reading;
	uint8_t bytes[ATTESTATION_MAX];
	size_t n = 0;
	int64_t t = mono_now_ns();
	int err;

	*age_ns = 0;
	if (nonce != NULL || r->attestation_cache_us == 0) {
		err = r->api->attest_time(r->host, nonce, nonce != NULL ? 32 : 0, now, bytes,
					  sizeof(bytes), &n);
		if (err == 0) {
			r->signatures++;
			*len = (size_t)EVP_EncodeBlock((unsigned char *)b64, bytes, (int)n);
		}
		return err;
	}
	if (r->att.len == 0 || r->att.round != now->round ||
	    t - r->att.signed_mono_ns > r->attestation_cache_us * 1000) {
		r->att.len = 0;
		err = r->api->attest_time(r->host, NULL, 0, &signed_reading, bytes,
					  sizeof(bytes), &n);
		if (err != 0)
			return err;
		r->signatures++;
		r->att.len =
			(size_t)EVP_EncodeBlock((unsigned char *)r->att.b64, bytes, (int)n);
		r->att.round = signed_reading.round;
		r->att.signed_mono_ns = t;
		r->att.estimate_ns = signed_reading.estimate_ns;
		*now = signed_reading; /* the body says exactly what was just signed */
	}
	memcpy(b64, r->att.b64, r->att.len + 1);
	*len = r->att.len;
	*age_ns = now->estimate_ns - r->att.estimate_ns;
	if (*age_ns < 0)
		*age_ns = 0;
	return 0;
}

/* Sends the time BODY (stolen) with the attestation (base64, B64_LEN characters) and its age
 * as its last two members: the bytes jansson would write for them (its objects keep their
 * order, and base64 needs no escaping), without it walking 300-odd characters per answer. */
static void reply_time_attested(struct rest *r, struct http1_request *req, json_t *body,
				const char *b64, size_t b64_len, int64_t age_ns)
{
	static const char key1[] = ",\"attestation\":\"", key2[] = "\",\"attestation_age_ns\":";
	char text[JSON_SMALL + ATTESTATION_B64_MAX + 64];
	long len = body != NULL ? jsontext_dump(body, text, JSON_SMALL) : -EINVAL;
	size_t n;

	if (len == -EILSEQ) /* not for jsontext: jansson, into the same place */
		len = (long)json_dumpb(body, text, JSON_SMALL - 1, JSON_COMPACT);
	if (body != NULL && (len == -ENOSPC || len >= JSON_SMALL - 1)) {
		/* large (hundreds of sources): jansson writes it all, on the heap; the same
		 * bytes, since its objects keep their order */
		json_object_set_new(body, "attestation", json_stringn(b64, b64_len));
		json_object_set_new(body, "attestation_age_ns", json_integer(age_ns));
		reply_json(r, req, ROUTE_TIME, 200, body);
		return;
	}
	json_decref(body);
	n = len > 0 ? (size_t)len : 0;
	if (n < 3 || n >= JSON_SMALL - 1 || text[n - 1] != '}') { /* timejson's is ~500 bytes */
		reply_text(r, req, ROUTE_TIME, 500, "application/json", "",
			   "{\"error\":\"out of memory\"}");
		return;
	}
	n--; /* its closing brace */
	memcpy(text + n, key1, sizeof(key1) - 1);
	n += sizeof(key1) - 1;
	memcpy(text + n, b64, b64_len);
	n += b64_len;
	memcpy(text + n, key2, sizeof(key2) - 1);
	n += sizeof(key2) - 1;
	snprintf(text + n, sizeof(text) - n, "%" PRId64 "}", age_ns);
	reply_text(r, req, ROUTE_TIME, 200, "application/json", "", text);
}

static void handle_time(struct rest *r, struct http1_request *req)
{
	struct quorum_clock_reading now;
	char asked[64] = "json", format[16], nonce_hex[80] = "";
	uint8_t nonce[32];
	char signed_b64[ATTESTATION_B64_MAX];
	size_t signed_len = 0;
	int64_t age_ns = 0;
	int has_nonce = 0, signed_err = -ENOTSUP;
	json_t *body;

	r->api->clock_read(r->host, &now);
	if (now.status != QUORUM_CLOCK_SYNCHRONISED) {
		reply_error(r, req, ROUTE_TIME, 503, "error",
			    "unsynchronised: no agreement within the error bound; no time is "
			    "served");
		return;
	}
	if (request_param(req, "format", asked, sizeof(asked)) == -ENOSPC ||
	    timejson_format(asked, format) != 0) {
		char msg[128];

		timejson_unknown_format(asked, msg, sizeof(msg));
		reply_error(r, req, ROUTE_TIME, 400, "error", msg);
		return;
	}
	/* A nonce given is honoured or refused, never dropped: the client relies on it. */
	switch (request_param(req, "nonce", nonce_hex, sizeof(nonce_hex))) {
	case -ENOENT:
		break;
	case 0:
		if (nonce_decode(nonce_hex, nonce) == 0) {
			has_nonce = 1;
			break;
		}
		/* fall through */
	default:
		reply_error(r, req, ROUTE_TIME, 400, "error",
			    "nonce must be 64 lowercase hex digits (32 bytes)");
		return;
	}
	if (has_nonce &&
	    (strcmp(format, "json") != 0 || !QUORUM_API_HAS(r->api, attest_time))) {
		reply_error(r, req, ROUTE_TIME, 400, "error",
			    "a nonce is answered only by format=json, whose answer is signed");
		return;
	}
	if (strcmp(format, "json") == 0 && QUORUM_API_HAS(r->api, attest_time)) {
		signed_err = signed_answer(r, has_nonce ? nonce : NULL, &now, signed_b64,
					   &signed_len, &age_ns);
		if (signed_err == -EAGAIN) {
			reply_error(
				r, req, ROUTE_TIME, 503, "error",
				"unsynchronised: no agreement within the error bound; no time "
				"is served");
			return;
		}
	}
	timefields_update(&r->t.fields, r->host, r->api, &now, strcmp(format, "json") == 0);
	body = timejson_body(&now, &r->t.fields, format);
	if (signed_err == 0)
		reply_time_attested(r, req, body, signed_b64, signed_len, age_ns);
	else
		reply_json(r, req, ROUTE_TIME, 200, body);
}

/* ---- the audit plane ---- */

static int audit_services(struct rest *r, const struct quorum_vault_ops **vault, void **vs,
			  const struct quorum_merkle_ops **merkle, void **ms)
{
	const void *ops;
	int found = 0;

	*vault = NULL;
	*merkle = NULL;
	if (r->api->service_find(r->host, QUORUM_VAULT_SERVICE, &ops, vs) == 0) {
		*vault = ops;
		found++;
	}
	if (r->api->service_find(r->host, QUORUM_MERKLE_SERVICE, &ops, ms) == 0) {
		*merkle = ops;
		found++;
	}
	return found;
}

/* The control stage's service, or NULL (no control stage, or an older table). */
static const struct quorum_control_ops *control_service(struct rest *r, void **cs)
{
	const void *ops;

	if (r->api->service_find(r->host, QUORUM_CONTROL_SERVICE, &ops, cs) != 0 ||
	    ((const struct quorum_control_ops *)ops)->size < sizeof(struct quorum_control_ops))
		return NULL;
	return ops;
}

/* The shared state the control stage last applied from leader ID, or NULL. */
static json_t *shared_state_json(const struct quorum_control_ops *ctl, void *cs, const char *id)
{
	struct quorum_shared_state_applied a;

	if (ctl == NULL || ctl->shared_state == NULL || ctl->shared_state(cs, id, &a) != 0)
		return NULL;
	return json_pack("{s:I, s:I, s:I, s:I, s:f, s:I}", "version", (json_int_t)a.version,
			 "agreed_time_ns", (json_int_t)a.agreed_time_ns, "applied_drift_ns",
			 (json_int_t)a.applied_drift_ns, "leader_time_ns",
			 (json_int_t)a.leader_time_ns, "warp_score", a.warp_score,
			 "applied_at_ns", (json_int_t)a.applied_at_ns);
}

/* The agreement of the last local round its intervals were judged against (API
 * source_intervals, ABI 1.13), into R->intervals; NULL before a round or without the API.
 * Every time is an offset from the origin (the agreed estimate, or without an agreement
 * the node's clock at the round's reference): ns since 1970 lose their last digits in a
 * JavaScript number. */
static json_t *round_intervals_json(struct rest *r, struct quorum_round_intervals *round)
{
	json_t *body;
	int64_t origin;

	if (!QUORUM_API_HAS(r->api, source_intervals) ||
	    r->api->source_intervals(r->host, round, sizeof(*round), r->intervals,
				     QUORUM_AUTHORITIES_MAX) != 0 ||
	    round->round == 0)
		return NULL;
	origin = round->agreed ? round->estimate_ns : round->reference_ns;
	body = json_pack("{s:I, s:b, s:s, s:I, s:I}", "round", (json_int_t)round->round,
			 "agreed", round->agreed != 0, "origin",
			 round->agreed ? "agreement" : "reference", "origin_ns",
			 (json_int_t)origin, "report_age_ns", (json_int_t)round->age_ns);
	if (body != NULL && round->agreed)
		json_object_set_new(
			body, "agreement",
			json_pack("{s:I, s:I, s:I, s:I}", "earliest_offset_ns",
				  (json_int_t)(round->earliest_ns - origin), "latest_offset_ns",
				  (json_int_t)(round->latest_ns - origin),
				  "authorities_earliest_offset_ns",
				  (json_int_t)(round->authorities_earliest_ns - origin),
				  "authorities_latest_offset_ns",
				  (json_int_t)(round->authorities_latest_ns - origin)));
	return body;
}

/* Source I's interval in ROUND (from round_intervals_json), offsets from its origin; NULL
 * when it has none or its last report is of another round. */
static json_t *source_interval_json(struct rest *r, const struct quorum_round_intervals *round,
				    size_t i, uint64_t report_round)
{
	const struct quorum_source_interval *iv = &r->intervals[i];
	int64_t origin = round->agreed ? round->estimate_ns : round->reference_ns;

	if (round->round == 0 || i >= round->count || !iv->has_interval ||
	    report_round != round->round)
		return NULL;
	return json_pack("{s:I, s:I, s:I}", "earliest_offset_ns",
			 (json_int_t)(iv->earliest_ns - origin), "estimate_offset_ns",
			 (json_int_t)(iv->estimate_ns - origin), "latest_offset_ns",
			 (json_int_t)(iv->latest_ns - origin));
}

/* Each configured source and what the last local round made of it; for a leader whose
 * shared state the control stage applied (CTL, CS; may be NULL), that state. */
static json_t *sources_json(struct rest *r, const struct quorum_control_ops *ctl, void *cs,
			    const struct quorum_round_intervals *round)
{
	struct quorum_source_status *st = r->sources;
	json_t *list = json_array();
	size_t count = 0;

	r->api->sources_status(r->host, st, QUORUM_AUTHORITIES_MAX, &count);
	for (size_t i = 0; i < count && i < QUORUM_AUTHORITIES_MAX; i++) {
		json_t *a = json_pack(
			"{s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:b}", "id", st[i].id, "type",
			st[i].type == QUORUM_AUTHORITY_NTP ? "ntp" : "quorumd", "state",
			quorum_source_state_name(st[i].state), "round", (json_int_t)st[i].round,
			"offset_ns", (json_int_t)st[i].offset_ns, "rtt_ns",
			(json_int_t)st[i].rtt_ns, "report_age_ns", (json_int_t)st[i].age_ns,
			"quarantined", st[i].quarantined != 0);

		if (a != NULL && st[i].problem[0] != '\0')
			json_object_set_new(a, "problem", json_string(st[i].problem));
		if (a != NULL && st[i].quarantined) {
			json_object_set_new(a, "quarantine_remaining_ns",
					    json_integer(st[i].quarantine_remaining_ns));
			json_object_set_new(a, "quarantine_reason",
					    json_string(st[i].quarantine_reason));
		}
		if (a != NULL) {
			json_t *iv = source_interval_json(r, round, i, st[i].round);

			if (iv != NULL)
				json_object_set_new(a, "interval", iv);
		}
		if (a != NULL && st[i].type == QUORUM_AUTHORITY_QUORUMD) {
			json_t *shared = shared_state_json(ctl, cs, st[i].id);

			if (shared != NULL)
				json_object_set_new(a, "shared_state", shared);
		}
		json_array_append_new(list, a);
	}
	return list;
}

/* The gossip stage's view (quorum.gossip/1): the last converged epoch, the peers heard,
 * the malfeasance reports made; NULL without a gossip stage. */
static json_t *gossip_json(struct rest *r)
{
	const struct quorum_gossip_ops *g;
	struct quorum_gossip_peer *peers;
	struct quorum_gossip_epoch last;
	const void *ops;
	void *gs;
	json_t *body, *list;
	size_t count;
	int64_t now_ns;

	if (r->api->service_find(r->host, QUORUM_GOSSIP_SERVICE, &ops, &gs) != 0 ||
	    ((const struct quorum_gossip_ops *)ops)->size < sizeof(struct quorum_gossip_ops))
		return NULL;
	g = ops;
	peers = calloc(QUORUM_AUTHORITIES_MAX, sizeof(*peers));
	if (peers == NULL)
		return NULL;
	now_ns = mono_now_ns();
	body = json_pack("{s:I, s:I}", "epochs_converged", (json_int_t)g->converged_epochs(gs),
			 "malfeasance_reports", (json_int_t)g->reports(gs));
	if (body != NULL && g->last_converged_epoch(gs, &last) == 0) {
		json_object_set_new(body, "converged_epoch", json_integer(last.epoch));
		json_object_set_new(body, "epoch_ms", json_integer(last.epoch_ns / 1000000));
		json_object_set_new(body, "converged_authorities",
				    json_integer(last.authorities));
		json_object_set_new(body, "threshold", json_integer(last.threshold));
	}
	list = json_array();
	count = g->peers_heard(gs, peers, QUORUM_AUTHORITIES_MAX);
	for (size_t i = 0; i < count && i < QUORUM_AUTHORITIES_MAX; i++) {
		json_t *p = json_pack("{s:s, s:I, s:I}", "id", peers[i].id, "received",
				      (json_int_t)peers[i].received, "accepted",
				      (json_int_t)peers[i].accepted);

		if (p != NULL && peers[i].last_seen_ns != 0)
			json_object_set_new(p, "last_seen_age_ns",
					    json_integer(now_ns - peers[i].last_seen_ns));
		json_array_append_new(list, p);
	}
	json_object_set_new(body, "peers", list);
	free(peers);
	return body;
}

static void handle_status(struct rest *r, struct http1_request *req)
{
	const struct quorum_vault_ops *vault;
	const struct quorum_merkle_ops *merkle;
	void *vs = NULL, *ms = NULL;
	struct quorum_clock_reading now;
	const struct quorum_control_ops *ctl;
	void *cs = NULL;
	json_t *body;

	r->api->clock_read(r->host, &now);
	audit_services(r, &vault, &vs, &merkle, &ms);
	body = json_pack(
		"{s:s, s:s, s:i, s:i, s:i, s:I, s:I, s:f}", "node", r->api->node_id(r->host),
		"status",
		now.status == QUORUM_CLOCK_SYNCHRONISED ? "synchronised" : "unsynchronised",
		"n", (int)now.n, "f", (int)now.f, "accepted", (int)now.accepted, "round",
		(json_int_t)now.round, "agreement_age_ns", (json_int_t)now.agreement_age_ns,
		"uncertainty_ms", (double)now.error_bound_ns / 1e6);
	if (body != NULL && now.status == QUORUM_CLOCK_SYNCHRONISED) {
		char iso[TIMEFIELDS_ISO8601_LEN];

		timefields_iso8601(now.estimate_ns, iso);
		json_object_set_new(body, "time_iso8601", json_string(iso));
		json_object_set_new(body, "error_bound_ns", json_integer(now.error_bound_ns));
		json_object_set_new(body, "estimate_offset_ns", json_integer(now.drift_ns));
	}
	if (vault != NULL) {
		json_t *v = json_pack("{s:I, s:I}", "records", (json_int_t)vault->count(vs),
				      "durable", (json_int_t)vault->durable(vs));

		if (v != NULL && vault->size >= sizeof(struct quorum_vault_ops) &&
		    vault->verification != NULL) {
			struct quorum_vault_check check;

			if (vault->verification(vs, &check) == 0) {
				json_t *c = json_pack("{s:I, s:I, s:b}", "verified",
						      (json_int_t)check.verified, "passes",
						      (json_int_t)check.passes, "corrupt",
						      check.corrupt != 0);

				if (c != NULL && check.corrupt)
					json_object_set_new(c, "error", json_string(check.why));
				json_object_set_new(v, "verification", c);
			}
		}
		json_object_set_new(body, "vault", v);
	}
	if (merkle != NULL) {
		json_t *m = json_pack("{s:I}", "tree_size", (json_int_t)merkle->tree_size(ms));
		const char *note = merkle->checkpoint(ms);

		/* the latest checkpoint with its cosignatures, as GET /v1/checkpoint serves it
		 */
		if (m != NULL && note != NULL)
			json_object_set_new(m, "checkpoint", json_string(note));
		json_object_set_new(body, "merkle", m);
	}
	ctl = control_service(r, &cs);
	if (ctl != NULL) {
		json_object_set_new(body, "mode", json_string(ctl->mode_name(cs)));
		json_object_set_new(body, "circuit_breaker",
				    json_pack("{s:b, s:I}", "tripped", ctl->breaker_tripped(cs),
					      "rejection_streak",
					      (json_int_t)ctl->rejection_streak(cs)));
	}
	if (QUORUM_API_HAS(r->api, sources_status)) {
		struct quorum_round_intervals round = { 0 };
		json_t *intervals = round_intervals_json(r, &round);

		if (intervals != NULL)
			json_object_set_new(body, "round_intervals", intervals);
		json_object_set_new(body, "authorities", sources_json(r, ctl, cs, &round));
	}
	{
		json_t *gossip = gossip_json(r);

		if (gossip != NULL)
			json_object_set_new(body, "gossip", gossip);
	}
	reply_json(r, req, ROUTE_STATUS, 200, body);
}

/* ---- acknowledging a write only once it is durable ---- */

static void ack_unlink(struct rest *r, struct ack_wait *w)
{
	if (w->prev != NULL)
		w->prev->next = w->next;
	else
		r->acks = w->next;
	if (w->next != NULL)
		w->next->prev = w->prev;
	r->ack_count--;
}

/* The vault's word on the records an answer acknowledges: 0 durable (the answer goes out),
 * else they may be lost (503: not acknowledged). Runs from the vault's commit or failure. */
static void ack_durable(void *arg, int status)
{
	struct ack_wait *w = arg;
	struct rest *r = w->r;

	ack_unlink(r, w);
	if (status == 0) {
		reply_json(r, &w->deferred->req, w->route, w->status, w->body);
	} else {
		json_decref(w->body);
		r->acks_failed++;
		r->api->log(r->host, QUORUM_LOG_ERROR,
			    "rest.ack_failed route=%s error=\"%s\" effect=answered_503",
			    route_names[w->route], strerror(-status));
		reply_error(r, &w->deferred->req, w->route, 503, "error",
			    "not acknowledged: the vault could not make the record durable");
	}
	http1_resume(w->deferred);
	free(w);
}

/* Answers STATUS with BODY (stolen), which acknowledges a write, once every record the vault
 * holds now is durable: at once with fsync = "every" (or without a vault: nothing is
 * written then), else from the vault's next group commit, the request staying open; never
 * blocking the loop. */
static void reply_acknowledged(struct rest *r, struct http1_request *req, enum route route,
			       int status, json_t *body)
{
	const struct quorum_vault_ops *vault;
	const struct quorum_merkle_ops *merkle;
	void *vs = NULL, *ms = NULL;
	struct ack_wait *w;

	audit_services(r, &vault, &vs, &merkle, &ms);
	if (vault == NULL || vault->size < sizeof(struct quorum_vault_ops) ||
	    vault->await_durable == NULL || vault->durable(vs) >= vault->count(vs)) {
		reply_json(r, req, route, status, body);
		return;
	}
	w = calloc(1, sizeof(*w));
	if (w != NULL)
		w->deferred = http1_defer(req);
	if (w == NULL || w->deferred == NULL) {
		free(w);
		json_decref(body);
		reply_error(r, req, route, 503, "error", "out of memory; try again");
		return;
	}
	*w = (struct ack_wait){ .r = r,
				.deferred = w->deferred,
				.vault = vault,
				.vault_state = vs,
				.route = route,
				.status = status,
				.body = body,
				.next = r->acks };
	if (r->acks != NULL)
		r->acks->prev = w;
	r->acks = w;
	r->ack_count++;
	if (vault->await_durable(vs, vault->count(vs), ack_durable, w) != 0)
		ack_durable(w, -ENOMEM);
}

/* ---- a leader's shared state ---- */

static void reply_rejected(struct rest *r, struct http1_request *req, const char *reason)
{
	reply_json(r, req, ROUTE_SHARED_STATE, 403,
		   json_pack("{s:s, s:s}", "error", "Shared-state rejected", "reason", reason));
}

/* POST /time/shared-state: the body checked in the reference's order, then one event through
 * the single ingest path; the control stage's decision answers. The specific reason of a
 * refusal comes from the control service (the pipeline's is the seed's generic one). */
static void handle_shared_state(struct rest *r, struct http1_request *req)
{
	struct shared_body b;
	struct quorum_signed_state st;
	struct quorum_verdict v = { .code = QUORUM_REJECT };
	const struct quorum_control_ops *ctl;
	const char *message, *last = NULL;
	uint64_t before = 0, after = 0;
	void *cs = NULL;
	int err, decided;

	if (req->body_len > SHARED_BODY_MAX) {
		reply_error(r, req, ROUTE_SHARED_STATE, 413, "error",
			    "content too large: a shared state is at most 4096 bytes");
		return;
	}
	if (shared_body_parse(req->body, req->body_len, &b, &message) != 0) {
		reply_error(r, req, ROUTE_SHARED_STATE, 400, "error", message);
		return;
	}
	ctl = control_service(r, &cs);
	if (ctl != NULL && ctl->shared_state_last == NULL)
		ctl = NULL;
	if (ctl != NULL)
		ctl->shared_state_last(cs, &before);
	st = (struct quorum_signed_state){
		.logical_time_ns = b.fields.leader_system_time_at_sync,
		.event_id = QUORUM_EVENT_SHARED_STATE,
		.payload = { (const uint8_t *)b.text, b.text_len },
		.signature = { b.signature, sizeof(b.signature) },
		.key_id = b.fields.key_id,
	};
	err = r->api->ingest(r->host, &st, req->peer, &v);
	if (ctl != NULL)
		last = ctl->shared_state_last(cs, &after);
	/* Our event was the only one the control stage decided meanwhile: LAST is its. */
	decided = ctl != NULL && after == before + 1;
	if (err == QUORUM_AGAIN || err == -EBUSY) {
		reply_error(r, req, ROUTE_SHARED_STATE, 503, "error",
			    "Shared-state not decided: the pipeline is busy");
	} else if (err == 0 && v.code == QUORUM_CONTINUE) {
		if (decided && last[0] == '\0')
			reply_acknowledged(r, req, ROUTE_SHARED_STATE, 200,
					   json_pack("{s:s}", "status", "applied"));
		else /* accepted, but no control stage recorded it: never say applied */
			reply_error(r, req, ROUTE_SHARED_STATE, 503, "error",
				    "Shared-state not applied: no control stage decided it");
	} else {
		const char *why = decided && last[0] != '\0' ? last : v.reason;

		reply_rejected(r, req, why[0] != '\0' ? why : "shared_state_not_ingested");
	}
}

/* ---- signed events from outside: operator commands and passport updates ---- */

/* The event ids POST /v1/events takes; anything else is refused before the pipeline (no
 * client fills the vault with events no stage would act on). */
static int event_id_postable(const char *id)
{
	return strncmp(id, "uml001.control.", 15) == 0 ||
	       strcmp(id, "uml001.passport.update") == 0;
}

/* Reads a protobuf varint at *P (below END). 0, or -1 when truncated or too long. */
static int read_varint(const uint8_t **p, const uint8_t *end, uint64_t *out)
{
	uint64_t v = 0;

	for (int shift = 0; shift < 64 && *p < end; shift += 7) {
		uint8_t b = *(*p)++;

		v |= (uint64_t)(b & 0x7f) << shift;
		if ((b & 0x80) == 0) {
			*out = v;
			return 0;
		}
	}
	return -1;
}

/* The event_id (SignedState field 2) of an encoded envelope into OUT (CAP bytes), for the
 * route's policy only: the host decodes the whole envelope strictly afterwards. 0 or -1. */
static int envelope_event_id(const uint8_t *data, size_t len, char *out, size_t cap)
{
	const uint8_t *p = data, *end = data + len;
	uint64_t key, n;

	out[0] = '\0';
	while (p < end) {
		if (read_varint(&p, end, &key) != 0)
			return -1;
		switch (key & 7) {
		case 0:
			if (read_varint(&p, end, &n) != 0)
				return -1;
			break;
		case 1:
		case 5:
			n = (key & 7) == 1 ? 8 : 4;
			if ((uint64_t)(end - p) < n)
				return -1;
			p += n;
			break;
		case 2:
			if (read_varint(&p, end, &n) != 0 || (uint64_t)(end - p) < n)
				return -1;
			if (key >> 3 == 2) {
				if (n == 0 || n >= cap || memchr(p, '\0', n) != NULL)
					return -1;
				memcpy(out, p, n);
				out[n] = '\0';
			}
			p += n;
			break;
		default:
			return -1;
		}
	}
	return out[0] != '\0' ? 0 : -1;
}

/* The verdict on a posted event; an accepted or held one (written to the vault) is answered
 * once it is durable. */
static void reply_verdict(struct rest *r, struct http1_request *req, int status,
			  const char *event_id, const struct quorum_verdict *v)
{
	const char *name = v->code == QUORUM_CONTINUE ? "accept"
			   : v->code == QUORUM_HOLD   ? "hold"
						      : "reject";
	json_t *body = json_pack("{s:s, s:s}", "verdict", name, "event_id", event_id);

	if (v->code != QUORUM_CONTINUE && v->stage[0] != '\0')
		json_object_set_new(body, "stage", json_string(v->stage));
	if (v->code != QUORUM_CONTINUE && v->reason[0] != '\0')
		json_object_set_new(body, "reason", json_string(v->reason));
	if (status == 200 || status == 202)
		reply_acknowledged(r, req, ROUTE_EVENTS, status, body);
	else
		reply_json(r, req, ROUTE_EVENTS, status, body);
}

/* POST /v1/events: one encoded SignedState (application/x-protobuf), as `quorumctl control`
 * writes it, through the single ingest path; its verdict answers (200 accepted, 202 held,
 * 403 refused by a stage, 400 refused by the host's decoder). Who may act is the stages'
 * business: the control stage obeys only its configured operators' signatures. */
static void handle_events(struct rest *r, struct http1_request *req)
{
	struct quorum_verdict v = { .code = QUORUM_REJECT };
	char event_id[QUORUM_EVENT_ID_MAX + 1];
	int err;

	if (req->body_len > QUORUM_ENVELOPE_MAX) {
		reply_error(r, req, ROUTE_EVENTS, 413, "error",
			    "content too large for an event");
		return;
	}
	if (envelope_event_id((const uint8_t *)req->body, req->body_len, event_id,
			      sizeof(event_id)) != 0) {
		refused(r, req, "event_decode_failed");
		reply_error(r, req, ROUTE_EVENTS, 400, "error",
			    "body is not an encoded SignedState with an event_id");
		return;
	}
	if (!event_id_postable(event_id)) {
		refused(r, req, "event_not_postable");
		reply_error(r, req, ROUTE_EVENTS, 403, "error",
			    "only uml001.control.* and uml001.passport.update events may be "
			    "posted");
		return;
	}
	err = r->api->ingest_encoded(r->host, req->body, req->body_len, req->peer, &v);
	if (err == QUORUM_AGAIN || err == -EBUSY)
		reply_error(r, req, ROUTE_EVENTS, 503, "error",
			    "the pipeline is busy; try again");
	else if (err != 0)
		reply_verdict(r, req, 400, event_id, &v);
	else
		reply_verdict(r, req,
			      v.code == QUORUM_CONTINUE ? 200
			      : v.code == QUORUM_HOLD	? 202
							: 403,
			      event_id, &v);
}

/* The tree size the latest checkpoint names (its second line). */
static int checkpoint_size(const char *note, uint64_t *size)
{
	const char *nl = strchr(note, '\n');
	char *end;

	if (nl == NULL)
		return -1;
	*size = strtoull(nl + 1, &end, 10);
	return *end == '\n' ? 0 : -1;
}

static int parse_u64(const char *s, uint64_t *out)
{
	char *end;

	if (s[0] < '0' || s[0] > '9')
		return -1;
	errno = 0;
	*out = strtoull(s, &end, 10);
	return errno != 0 || *end != '\0' ? -1 : 0;
}

static void handle_checkpoint(struct rest *r, struct http1_request *req)
{
	const struct quorum_vault_ops *vault;
	const struct quorum_merkle_ops *merkle;
	void *vs, *ms;
	const char *note;

	audit_services(r, &vault, &vs, &merkle, &ms);
	note = merkle != NULL ? merkle->checkpoint(ms) : NULL;
	if (note == NULL) {
		reply_error(r, req, ROUTE_CHECKPOINT, 404, "error",
			    merkle == NULL ? "no merkle stage on this node"
					   : "no checkpoint yet");
		return;
	}
	reply_text(r, req, ROUTE_CHECKPOINT, 200, "text/plain; charset=utf-8", "", note);
}

static void handle_proof(struct rest *r, struct http1_request *req, const char *kind)
{
	const struct quorum_vault_ops *vault;
	const struct quorum_merkle_ops *merkle;
	uint8_t proof[PROOF_MAX][QUORUM_HASH_LEN], h[QUORUM_HASH_LEN];
	char arg[32], hx[2 * QUORUM_HASH_LEN + 1];
	uint64_t size, n;
	void *vs, *ms;
	const char *note;
	size_t count = 0;
	json_t *body, *hashes;
	int err, inclusion = strcmp(kind, "inclusion") == 0;

	if (!inclusion && strcmp(kind, "consistency") != 0) {
		reply_error(r, req, ROUTE_PROOF, 404, "error",
			    "unknown proof: use /v1/proof/inclusion or /v1/proof/consistency");
		return;
	}
	audit_services(r, &vault, &vs, &merkle, &ms);
	note = merkle != NULL ? merkle->checkpoint(ms) : NULL;
	if (note == NULL || checkpoint_size(note, &size) != 0) {
		reply_error(r, req, ROUTE_PROOF, 404, "error",
			    merkle == NULL ? "no merkle stage on this node"
					   : "no checkpoint yet");
		return;
	}
	if (request_param(req, inclusion ? "index" : "old", arg, sizeof(arg)) != 0 ||
	    parse_u64(arg, &n) != 0) {
		reply_error(r, req, ROUTE_PROOF, 400, "error",
			    inclusion ? "index must be a record number: ?index=N"
				      : "old must be a tree size: ?old=N");
		return;
	}
	body = json_pack("{s:s, s:I}", "checkpoint", note, "tree_size", (json_int_t)size);
	if (inclusion) {
		err = merkle->inclusion_proof(ms, n, size, proof, PROOF_MAX, &count);
		if (err == 0 && merkle->leaf_hash(ms, n, h) == 0) {
			hex_encode(h, QUORUM_HASH_LEN, hx);
			json_object_set_new(body, "index", json_integer((json_int_t)n));
			json_object_set_new(body, "leaf_hash", json_string(hx));
		}
	} else {
		err = merkle->consistency_proof(ms, n, size, proof, PROOF_MAX, &count);
		if (err == 0 && merkle->root(ms, n, h) == 0) {
			hex_encode(h, QUORUM_HASH_LEN, hx);
			json_object_set_new(body, "old_size", json_integer((json_int_t)n));
			json_object_set_new(body, "old_root", json_string(hx));
		}
	}
	if (err != 0) {
		char msg[128];

		json_decref(body);
		snprintf(msg, sizeof(msg),
			 "out of range: the latest checkpoint covers %" PRIu64 " records",
			 size);
		reply_error(r, req, ROUTE_PROOF, 404, "error", msg);
		return;
	}
	hashes = json_array();
	for (size_t i = 0; i < count; i++) {
		hex_encode(proof[i], QUORUM_HASH_LEN, hx);
		json_array_append_new(hashes, json_string(hx));
	}
	json_object_set_new(body, inclusion ? "inclusion" : "consistency", hashes);
	reply_json(r, req, ROUTE_PROOF, 200, body);
}

/* The connections' gauges and counters (http1's), for /metrics. */
static void metrics_connections(struct rest *r, struct evbuffer *out)
{
	struct http1_stats st;

	http1_server_stats(r->server, &st);
	evbuffer_add_printf(
		out,
		"# HELP quorum_rest_connections_open Client connections open.\n"
		"# TYPE quorum_rest_connections_open gauge\n"
		"quorum_rest_connections_open %zu\n"
		"# HELP quorum_rest_connections_max The most open at once "
		"(max_connections).\n# TYPE quorum_rest_connections_max gauge\n"
		"quorum_rest_connections_max %zu\n"
		"# HELP quorum_rest_connections_closed_total Connections the server "
		"closed: refused at max_connections, a request not in by "
		"header_timeout_ms, idle for idle_timeout_s.\n"
		"# TYPE quorum_rest_connections_closed_total counter\n"
		"quorum_rest_connections_closed_total{reason=\"refused\"} %" PRIu64 "\n"
		"quorum_rest_connections_closed_total{reason=\"header_timeout\"} %" PRIu64 "\n"
		"quorum_rest_connections_closed_total{reason=\"idle_timeout\"} %" PRIu64 "\n",
		st.open, r->t.limits.max_connections, st.refused, st.header_timeouts,
		st.idle_timeouts);
}

/* The node's refusals of what nobody can be held to, from the host (api->refusal_counts):
 * where (the peer link, gossip, the pipeline, a plugin) and why; since ABI 1.11 with every
 * series the host and the plugins registered (api->metrics_text), refusals included. */
static void metrics_refusals(struct rest *r, struct evbuffer *out)
{
	struct quorum_refusal_count counts[64];
	size_t n;

	if (QUORUM_API_HAS(r->api, metrics_text)) {
		char *text = NULL;
		size_t len = 0;

		if (r->api->metrics_text(r->host, &text, &len) == 0)
			evbuffer_add(out, text, len);
		else
			r->api->log(r->host, QUORUM_LOG_ERROR, "rest.metrics_failed");
		free(text);
		return;
	}
	if (!QUORUM_API_HAS(r->api, refusal_counts))
		return;
	n = r->api->refusal_counts(r->host, counts, sizeof(counts) / sizeof(counts[0]));
	if (n > sizeof(counts) / sizeof(counts[0]))
		n = sizeof(counts) / sizeof(counts[0]);
	evbuffer_add_printf(
		out, "# HELP quorum_refusals_total Unauthenticated datagrams and "
		     "requests refused, by where and why (summarised, not audited one by "
		     "one).\n# TYPE quorum_refusals_total counter\n");
	for (size_t i = 0; i < n; i++)
		evbuffer_add_printf(
			out, "quorum_refusals_total{what=\"%s\",reason=\"%s\"} %" PRIu64 "\n",
			counts[i].what, counts[i].reason, counts[i].total);
}

static void handle_metrics(struct rest *r, struct http1_request *req)
{
	const struct quorum_vault_ops *vault;
	const struct quorum_merkle_ops *merkle;
	static const char *const classes[6] = { "2xx", "3xx", "4xx", "5xx", "401", "429" };
	const struct quorum_control_ops *ctl;
	void *cs = NULL;
	struct quorum_clock_reading now;
	struct evbuffer *out;
	const char *text;
	size_t len;
	void *vs, *ms;

	r->api->clock_read(r->host, &now);
	audit_services(r, &vault, &vs, &merkle, &ms);
	out = evbuffer_new();
	if (out == NULL) {
		reply_error(r, req, ROUTE_METRICS, 500, "error", "out of memory");
		return;
	}
	r->requests[ROUTE_METRICS][0]++; /* this answer */
	evbuffer_add_printf(
		out,
		"# HELP quorum_clock_synchronised 1 when the served clock is synchronised.\n"
		"# TYPE quorum_clock_synchronised gauge\n"
		"quorum_clock_synchronised %d\n"
		"# HELP quorum_clock_uncertainty_seconds Half-width of the served bound.\n"
		"# TYPE quorum_clock_uncertainty_seconds gauge\n"
		"quorum_clock_uncertainty_seconds %.9f\n"
		"# HELP quorum_clock_agreement_age_seconds Since the last agreement.\n"
		"# TYPE quorum_clock_agreement_age_seconds gauge\n"
		"quorum_clock_agreement_age_seconds %.9f\n"
		"# HELP quorum_clock_accepted_sources Authorities inside the agreement.\n"
		"# TYPE quorum_clock_accepted_sources gauge\n"
		"quorum_clock_accepted_sources %u\n"
		"# HELP quorum_clock_round The agreement round served.\n"
		"# TYPE quorum_clock_round gauge\n"
		"quorum_clock_round %" PRIu64 "\n"
		"# HELP quorum_clock_drift_ppm The system clock's rate against agreed "
		"time (+: fast; 0 until measured over 10 s).\n"
		"# TYPE quorum_clock_drift_ppm gauge\n"
		"quorum_clock_drift_ppm %.6f\n"
		"# HELP quorum_clock_drift_seconds The served agreement's estimate minus this "
		"node's system clock.\n"
		"# TYPE quorum_clock_drift_seconds gauge\n"
		"quorum_clock_drift_seconds %.9f\n",
		now.status == QUORUM_CLOCK_SYNCHRONISED, (double)now.error_bound_ns / 1e9,
		(double)now.agreement_age_ns / 1e9, now.accepted, now.round,
		timefields_drift_ppm(&r->t.fields.drift, &now), (double)now.drift_ns / 1e9);
	ctl = control_service(r, &cs);
	if (ctl != NULL)
		evbuffer_add_printf(out,
				    "# HELP quorum_control_rejection_streak This node's rounds "
				    "refused in a row (0 once one is committed).\n"
				    "# TYPE quorum_control_rejection_streak gauge\n"
				    "quorum_control_rejection_streak %u\n",
				    ctl->rejection_streak(cs));
	evbuffer_add_printf(out,
			    "# HELP quorum_rest_requests_total Answers by route and status.\n"
			    "# TYPE quorum_rest_requests_total counter\n");
	for (int i = 0; i < ROUTE_COUNT; i++)
		for (int k = 0; k < 6; k++)
			if (r->requests[i][k] != 0)
				evbuffer_add_printf(out,
						    "quorum_rest_requests_total{route=\"%s\","
						    "status=\"%s\"} %" PRIu64 "\n",
						    route_names[i], classes[k],
						    r->requests[i][k]);
	evbuffer_add_printf(
		out,
		"# HELP quorum_rest_auth_failures_total Requests refused for their "
		"bearer token.\n# TYPE quorum_rest_auth_failures_total counter\n"
		"quorum_rest_auth_failures_total %" PRIu64 "\n"
		"# HELP quorum_rest_rate_limited_total Requests refused by the rate "
		"limit.\n# TYPE quorum_rest_rate_limited_total counter\n"
		"quorum_rest_rate_limited_total %" PRIu64 "\n"
		"# HELP quorum_rest_signatures_total Signed answers this instance made "
		"(nonce-less ones shared within attestation_cache_us).\n"
		"# TYPE quorum_rest_signatures_total counter\n"
		"quorum_rest_signatures_total %" PRIu64 "\n",
		r->t.auth_failures, r->t.rate_limited, r->signatures);
	metrics_connections(r, out);
	metrics_refusals(r, out);
	if (vault != NULL)
		evbuffer_add_printf(
			out,
			"# HELP quorum_vault_records Records in the vault.\n"
			"# TYPE quorum_vault_records gauge\nquorum_vault_records %" PRIu64
			"\n# HELP quorum_vault_durable_records Records fsynced.\n"
			"# TYPE quorum_vault_durable_records gauge\n"
			"quorum_vault_durable_records %" PRIu64 "\n",
			vault->count(vs), vault->durable(vs));
	if (merkle != NULL)
		evbuffer_add_printf(
			out,
			"# HELP quorum_merkle_tree_size Leaves of the Merkle tree.\n"
			"# TYPE quorum_merkle_tree_size gauge\nquorum_merkle_tree_size "
			"%" PRIu64 "\n",
			merkle->tree_size(ms));
	len = evbuffer_get_length(out);
	text = (const char *)evbuffer_pullup(out, -1);
	if (text == NULL) {
		r->requests[ROUTE_METRICS][0]--; /* not this answer after all */
		reply_error(r, req, ROUTE_METRICS, 500, "error", "out of memory");
	} else { /* Prometheus text: no Cache-Control, as it always was */
		http1_reply(req, 200, "text/plain; version=0.0.4", "", text, len);
	}
	evbuffer_free(out);
}

/* ---- dispatch ---- */

/* The methods the server knows at all (as evhttp's allowed methods did): others are 501. */
static int method_known(const char *m)
{
	static const char *const known[] = { "GET", "HEAD", "POST", "PUT", "DELETE" };

	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (strcmp(m, known[i]) == 0)
			return 1;
	return 0;
}

/* ---- the status page ---- */

/* The page runs only its own files and talks only to this server. */
#define PAGE_HEADERS                                                                           \
	NO_STORE "X-Content-Type-Options: nosniff\r\n"                                         \
		 "Referrer-Policy: no-referrer\r\n"                                            \
		 "Content-Security-Policy: default-src 'none'; script-src 'self'; "            \
		 "style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; "     \
		 "form-action 'none'; frame-ancestors 'none'\r\n"

static void handle_page(struct rest *r, struct http1_request *req)
{
	const struct rest_page_file *f = rest_page_find(&r->page, req->path);

	if (strcmp(req->path, "/status-page.json") == 0) {
		/* what the page must know before its first request: whether to ask for a token
		 * (a refused request would be an error in the browser's console) */
		reply_json(r, req, ROUTE_PAGE, 200,
			   json_pack("{s:b}", "bearer_token", r->t.tokens.count > 0));
		return;
	}

	if (f == NULL) {
		reply_error(r, req, ROUTE_PAGE, 404, "error", r->page_missing);
		return;
	}
	http1_reply(req, 200, f->type, PAGE_HEADERS, f->body, f->len);
	count(r, ROUTE_PAGE, 200);
}

/* The route PATH names. */
static enum route route_of(const char *path)
{
	static const struct {
		const char *path;
		enum route route;
	} routes[] = {
		{ "/v1/time", ROUTE_TIME },
		{ "/healthz", ROUTE_HEALTHZ },
		{ "/readyz", ROUTE_READYZ },
		{ "/metrics", ROUTE_METRICS },
		{ "/v1/status", ROUTE_STATUS },
		{ "/v1/checkpoint", ROUTE_CHECKPOINT },
		{ "/time/sync", ROUTE_SYNC },
		{ "/v1/time/sync", ROUTE_SYNC },
		{ "/time/shared-state", ROUTE_SHARED_STATE },
		{ "/v1/time/shared-state", ROUTE_SHARED_STATE },
		{ "/v1/events", ROUTE_EVENTS },
	};

	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		if (strcmp(path, routes[i].path) == 0)
			return routes[i].route;
	}
	if (rest_page_is_path(path) || strcmp(path, "/status-page.json") == 0)
		return ROUTE_PAGE;
	return strncmp(path, "/v1/proof/", 10) == 0 ? ROUTE_PROOF : ROUTE_OTHER;
}

/* Whether ROUTE takes METHOD; otherwise *ALLOW is the Allow header to answer 405 with. */
static int method_allowed(enum route route, const char *method, const char **allow)
{
	int post = route == ROUTE_SHARED_STATE || route == ROUTE_EVENTS;

	*allow = post ? "Allow: POST\r\n" : "Allow: GET, HEAD\r\n";
	if (route == ROUTE_SYNC)
		return 1; /* refused whatever the method, below */
	if (post)
		return strcmp(method, "POST") == 0;
	return strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
}

static void handle(struct http1_request *req, void *arg)
{
	struct rest *r = arg;
	enum route route = route_of(req->path);
	const char *allow, *malformed;

	/* The gate comes first, on every route and every method: what it refuses costs a
	 * counter and an error answer, nothing more. */
	if (gate(r, req, route) != 0)
		return;
	if (!method_known(req->method)) {
		reply_error(r, req, route, 501, "error", "method not implemented");
		return;
	}
	if (!method_allowed(route, req->method, &allow)) {
		reply_error_with(r, req, route, 405, allow, "error", "method not allowed");
		return;
	}
	if (query_check(req->query, &malformed) != 0) {
		char msg[96];

		snprintf(msg, sizeof(msg), "malformed query: %s", malformed);
		reply_error(r, req, route, 400, "error", msg);
		return;
	}
	switch (route) {
	case ROUTE_SYNC:
		refused(r, req, "direct_quorum_mutation_blocked");
		reply_error(r, req, ROUTE_SYNC, 403, "error",
			    "Direct sync mutation disabled; use convergence pipeline");
		break;
	case ROUTE_SHARED_STATE:
		handle_shared_state(r, req);
		break;
	case ROUTE_EVENTS:
		handle_events(r, req);
		break;
	case ROUTE_TIME:
		handle_time(r, req);
		break;
	case ROUTE_HEALTHZ:
		reply_text(r, req, ROUTE_HEALTHZ, 200, "text/plain", "", "ok\n");
		break;
	case ROUTE_READYZ: {
		struct quorum_clock_reading now;

		r->api->clock_read(r->host, &now);
		if (now.status == QUORUM_CLOCK_SYNCHRONISED)
			reply_text(r, req, ROUTE_READYZ, 200, "text/plain", "", "ok\n");
		else
			reply_text(r, req, ROUTE_READYZ, 503, "text/plain", "",
				   "unsynchronised: no agreement within the error bound\n");
		break;
	}
	case ROUTE_METRICS:
		handle_metrics(r, req);
		break;
	case ROUTE_STATUS:
		handle_status(r, req);
		break;
	case ROUTE_CHECKPOINT:
		handle_checkpoint(r, req);
		break;
	case ROUTE_PROOF:
		handle_proof(r, req, req->path + 10);
		break;
	case ROUTE_PAGE:
		handle_page(r, req);
		break;
	default:
		reply_error(r, req, ROUTE_OTHER, 404, "error", "not found");
		break;
	}
}

/* ---- settings and lifecycle ---- */

/* REST's settings, filled by the host from rest_settings (their defaults live only there):
 * the transport's shared ones (transport_init's), then REST's own. page_dir is read by
 * page_init: its default, the installed page, is optional where a configured one is not. */
struct rest_settings {
	struct transport_settings transport;
	int64_t max_body_bytes;
	int64_t attestation_cache_us;
};

/* Reads the status page from page_dir (relative to quorum.conf's folder). A folder named
 * in the settings must hold the page: a failure stops the plugin, naming the file. Without
 * the setting the installed page is optional: / then answers 404 saying where it looked. */
static int page_init(struct rest *r)
{
	const char *dir = REST_PAGE_DIR;
	char path[4096], why[4200];
	int configured = r->api->config_string(r->host, "page_dir", &dir) == 0;
	int err;

	if (configured && r->api->config_path(r->host, dir, path, sizeof(path)) != 0) {
		r->api->log(r->host, QUORUM_LOG_ERROR,
			    "rest.page.refused page_dir=%s reason=name_too_long", dir);
		return -ENAMETOOLONG;
	}
	if (!configured)
		snprintf(path, sizeof(path), "%s", dir);
	err = rest_page_load(&r->page, path, why, sizeof(why));
	if (err == 0)
		return 0;
	if (configured) {
		r->api->log(r->host, QUORUM_LOG_ERROR, "rest.page.refused file=\"%s\"", why);
		return err;
	}
	/* the folder's name is for the operator's log, not for whoever asks */
	snprintf(r->page_missing, sizeof(r->page_missing), "%s",
		 "no status page installed on this node");
	r->api->log(r->host, QUORUM_LOG_NOTICE, "rest.page.missing file=\"%s\"", why);
	return 0;
}

static int rest_init(struct quorum_host *host, const struct quorum_api *api, void **state)
{
	const struct rest_settings *cfg;
	struct rest *r;
	int err;

	if (!QUORUM_API_HAS(api, service_find) || !QUORUM_API_HAS(api, settings))
		return -ENOTSUP;
	cfg = api->settings(host);
	if (cfg == NULL)
		return -EINVAL;
	err = transport_new(sizeof(*r), host, api, "rest", &cfg->transport, CONNECTIONS_DEFAULT,
			    (void **)&r);
	if (err != 0)
		return err;
	r->sources = calloc(QUORUM_AUTHORITIES_MAX, sizeof(*r->sources));
	r->intervals = calloc(QUORUM_AUTHORITIES_MAX, sizeof(*r->intervals));
	r->host = host;
	r->api = api;
	r->max_body = cfg->max_body_bytes;
	r->attestation_cache_us = cfg->attestation_cache_us;
	err = r->sources == NULL || r->intervals == NULL ? -ENOMEM : 0;
	if (err == 0)
		err = page_init(r);
	if (err == 0) {
		struct http1_config config = {
			.host = host,
			.api = api,
			.log_prefix = "rest",
			.tls = r->t.tls,
			.max_body = (size_t)r->max_body,
			.max_connections = r->t.limits.max_connections,
			.header_timeout_ms = r->t.limits.header_timeout_ms,
			.idle_timeout_s = r->t.limits.idle_timeout_s,
			.handler = handle,
			.handler_arg = r,
		};

		err = http1_server_new(&config, &r->server);
	}
	if (err != 0) {
		rest_page_release(&r->page);
		free(r->intervals);
		free(r->sources);
		transport_free(&r->t);
		return err;
	}
	*state = r;
	return 0;
}

/* Once a second: the agreement served, a sample for drift_ppm even while nobody asks. */
static void drift_tick(void *arg)
{
	struct rest *r = arg;
	struct quorum_clock_reading now;

	r->api->clock_read(r->host, &now);
	timefields_drift_observe(&r->t.fields.drift, &now);
}

static int rest_start(void *state)
{
	struct rest *r = state;
	int err = transport_start(&r->t, http1_server_tcp(r->server), 1000, drift_tick, r);

	if (err == 0)
		transport_log_listening(&r->t, "%s", "");
	return err;
}

/* Stops accepting; idle keep-alive connections close now, the others once the request they
 * are receiving or answering is answered. 0, or QUORUM_AGAIN until api->drained. */
static int rest_drain(void *state)
{
	struct rest *r = state;

	r->draining = 1;
	return http1_server_drain(r->server, transport_drained, &r->t);
}

static void rest_fini(void *state)
{
	struct rest *r = state;

	http1_server_free(r->server);
	while (r->acks != NULL) { /* their connections are closed: never answered */
		struct ack_wait *w = r->acks;

		ack_unlink(r, w);
		w->vault->await_cancel(w->vault_state, w);
		http1_resume(w->deferred);
		json_decref(w->body);
		free(w);
	}
	rest_page_release(&r->page);
	free(r->intervals);
	free(r->sources);
	transport_free(&r->t);
}

static const struct quorum_setting rest_settings[] = {
	TRANSPORT_SETTINGS(struct rest_settings, "8080", "Authorization: Bearer", "requests"),
	QUORUM_SETTING_INT_AT("max_body_bytes", struct rest_settings, max_body_bytes, 0,
			      16777216, "65536", "largest request body (413 beyond)"),
	QUORUM_SETTING_INT_AT(
		"attestation_cache_us", struct rest_settings, attestation_cache_us, 0, 1000000,
		"1000",
		"json answers without a nonce share the signed answer made within "
		"this many microseconds for the current agreement (0: sign each "
		"answer)"),
	{ .name = "page_dir",
	  .type = QUORUM_SETTING_STRING,
	  .help = "folder of the status page served at / (index.html, status.js, status.css, "
		  "favicon.svg; "
		  "default the installed one)" },
	TRANSPORT_TLS_SETTINGS(struct rest_settings),
	TRANSPORT_CONNECTION_SETTINGS(struct rest_settings),
	{ .type = QUORUM_SETTING_END },
};

TRANSPORT_PLUGIN_BOUND("rest", rest, struct rest_settings);
