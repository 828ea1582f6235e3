/* quorumctl-status.c -- `quorumctl status`: a running node's view of its quorum, read from its
 * REST transport (GET /v1/status, /v1/time?format=json, /v1/checkpoint), in the manner of
 * `chronyc sources -v`: each authority with what the node's last round made of it, the
 * agreement and its bound, the mode and the breaker, the latest signed checkpoint. --json
 * prints the same view as one JSON document (schemas/quorumctl-status.json); --watch redraws
 * it in place. The view is built once, as JSON, and the text is drawn from it. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "keys-internal.h"
#include "note.h"
#include "quorumctl-http.h"
#include "quorumctl-status.h"
#include "util-internal.h"

#define CHECKPOINT_SIGNATURES_SHOWN 16

struct status_args {
	const char *url;
	struct http_options http;
	const char *node_key; /* NULL: the checkpoint's signature is not checked */
	uint8_t node_pub[NOTE_PUB_LEN];
	int json, verbose, watch;
	double interval_s;
	long count; /* --watch: refreshes, 0 until interrupted */
};

static void status_usage(FILE *out)
{
	fprintf(out,
		"Usage: quorumctl status [--url URL] [--token-file FILE] [--cacert FILE]\n"
		"                        [--cert FILE --key FILE] [--node-key NODE.pub]\n"
		"                        [--json] [-v] [--watch [--interval S] [--count N]]\n"
		"                        [--timeout MS]\n"
		"\n"
		"Shows a running node as its REST transport reports it (default URL\n"
		"http://127.0.0.1:8080): each authority with what the node's last round made "
		"of\n"
		"it (state, offset from the agreement, round trip, why it was rejected, "
		"whether it\n"
		"is quarantined), the agreement and its bound, the mode and the circuit "
		"breaker,\n"
		"and the latest signed checkpoint (its signature checked with --node-key).\n"
		"  --token-file FILE  a bearer token, as the node's bearer_token_files hold "
		"one\n"
		"  --cacert FILE      https: the CA that signed the node's certificate "
		"(default:\n"
		"                     the system's); --cert/--key: a client certificate "
		"(mTLS)\n"
		"  --json             the view as one JSON document "
		"(schemas/quorumctl-status.json)\n"
		"  -v                 explain the columns (as chronyc sources -v)\n"
		"  --watch            redraw every --interval seconds (default 1) in place, "
		"until\n"
		"                     interrupted or --count views; with --json one line each\n"
		"Exit status: 0 synchronised, 1 unsynchronised, 2 the node could not be "
		"read.\n");
}

static void format_time(int64_t ns, char *buf, size_t size)
{
	time_t seconds = (time_t)(ns / 1000000000);
	struct tm tm;

	gmtime_r(&seconds, &tm);
	snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%09" PRId64 "Z", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ns % 1000000000);
}

/* NS as a short signed or unsigned duration: "-8.213us", "412ns", "1.204ms", "3.000s". */
static void format_span(int64_t ns, int sign, char *buf, size_t size)
{
	double v = fabs((double)ns);
	const char *s = sign ? (ns < 0 ? "-" : "+") : (ns < 0 ? "-" : "");

	if (v < 1e3)
		snprintf(buf, size, "%s%.0fns", s, v);
	else if (v < 1e6)
		snprintf(buf, size, "%s%.3fus", s, v / 1e3);
	else if (v < 1e9)
		snprintf(buf, size, "%s%.3fms", s, v / 1e6);
	else
		snprintf(buf, size, "%s%.3fs", s, v / 1e9);
}

/* ---- fetching ---- */

/* GET PATH; 0 with *R, or 2 with WHY. 401 and 429 are explained here. */
static int fetch(const struct status_args *a, const char *path, struct http_response *r,
		 char *why, size_t why_size)
{
	if (http_get(a->url, path, &a->http, r, why, why_size) != 0)
		return 2;
	if (r->status == 401) {
		snprintf(why, why_size, "%s%s: 401: the node wants a bearer token (%s)", a->url,
			 path,
			 a->http.token != NULL ? "--token-file's was refused"
					       : "--token-file FILE");
		http_response_release(r);
		return 2;
	}
	if (r->status == 429) {
		snprintf(why, why_size, "%s%s: 429: rate limited; try a longer --interval",
			 a->url, path);
		http_response_release(r);
		return 2;
	}
	return 0;
}

/* The JSON object of R's body, or NULL with WHY. */
static json_t *body_object(const struct status_args *a, const char *path,
			   const struct http_response *r, char *why, size_t why_size)
{
	json_error_t jerr;
	json_t *doc = json_loadb(r->body, r->len, JSON_REJECT_DUPLICATES, &jerr);

	if (doc == NULL || !json_is_object(doc)) {
		snprintf(why, why_size, "%s%s: %d, not a JSON object (%s)", a->url, path,
			 r->status, doc == NULL ? jerr.text : "another JSON value");
		json_decref(doc);
		return NULL;
	}
	return doc;
}

/* Each authority of /v1/status's list, as the view shows it. NULL with WHY when malformed. */
static json_t *view_authorities(json_t *list, char *why, size_t why_size)
{
	json_t *out = json_array(), *item;
	size_t i;

	if (!json_is_array(list)) {
		snprintf(why, why_size, "/v1/status: authorities is no list");
		json_decref(out);
		return NULL;
	}
	json_array_foreach(list, i, item)
	{
		const char *id, *type, *state;
		json_int_t round, offset, rtt, age;
		int quarantined;
		json_t *v, *extra;

		if (json_unpack(item, "{s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:b}", "id", &id,
				"type", &type, "state", &state, "round", &round, "offset_ns",
				&offset, "rtt_ns", &rtt, "report_age_ns", &age, "quarantined",
				&quarantined) != 0) {
			snprintf(why, why_size, "/v1/status: authority %zu lacks a field", i);
			json_decref(out);
			return NULL;
		}
		v = json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:b}", "id", id, "type",
			      type, "state", state, "round", round, "offset_ns", offset,
			      "rtt_ns", rtt, "report_age_ns", age, "quarantined", quarantined);
		extra = json_object_get(item, "problem");
		if (json_is_string(extra))
			json_object_set(v, "problem", extra);
		extra = json_object_get(item, "quarantine_remaining_ns");
		if (quarantined && json_is_integer(extra))
			json_object_set(v, "quarantine_remaining_ns", extra);
		extra = json_object_get(item, "quarantine_reason");
		if (quarantined && json_is_string(extra))
			json_object_set(v, "quarantine_reason", extra);
		extra = json_object_get(item, "interval");
		if (json_is_object(extra)) {
			json_int_t lo, hi;

			if (json_unpack(extra, "{s:I, s:I}", "earliest_offset_ns", &lo,
					"latest_offset_ns", &hi) != 0) {
				snprintf(why, why_size,
					 "/v1/status: authority %zu: bad interval", i);
				json_decref(v);
				json_decref(out);
				return NULL;
			}
			json_object_set_new(v, "interval",
					    json_pack("{s:I, s:I}", "earliest_offset_ns", lo,
						      "latest_offset_ns", hi));
		}
		json_array_append_new(out, v);
	}
	return out;
}

/* The signature lines of NOTE after its text (TEXT_LEN bytes): their names and key hashes,
 * into LIST; the number of lines whose name is not ORIGIN into *COSIGNATURES. */
static void note_signatures(const char *note, size_t len, size_t text_len, const char *origin,
			    json_t *list, int *cosignatures)
{
	size_t pos = text_len + 1; /* after the empty line */

	*cosignatures = 0;
	while (pos < len) {
		const char *nl = memchr(note + pos, '\n', len - pos), *name, *space;
		uint8_t raw[4 + NOTE_SIG_LEN];
		char hash[9] = "", *name_copy;
		size_t raw_len = 0, line_len;

		if (nl == NULL)
			break;
		line_len = (size_t)(nl - (note + pos));
		name = note + pos + 4; /* after "\u2014 " (3 bytes and a space) */
		space = line_len > 4 ? memchr(name, ' ', (size_t)(nl - name)) : NULL;
		if (space != NULL && strncmp(note + pos, "\xe2\x80\x94 ", 4) == 0) {
			if (note_base64_decode(space + 1, (size_t)(nl - space - 1), raw,
					       sizeof(raw), &raw_len) == 0 &&
			    raw_len >= 4)
				hex_encode(raw, 4, hash);
			name_copy = strndup(name, (size_t)(space - name));
			if (name_copy != NULL &&
			    json_array_size(list) < CHECKPOINT_SIGNATURES_SHOWN)
				json_array_append_new(list,
						      json_pack("{s:s, s:s}", "name", name_copy,
								"key_hash", hash));
			if (name_copy != NULL && strcmp(name_copy, origin) != 0)
				(*cosignatures)++;
			free(name_copy);
		}
		pos = (size_t)(nl - note) + 1;
	}
}

/* The latest checkpoint (/v1/checkpoint's signed note) as the view shows it; NULL when the
 * node has none (404). *BAD set with WHY when the note is malformed. */
static json_t *view_checkpoint(const struct status_args *a, char *why, size_t why_size,
			       int *bad)
{
	struct http_response r;
	struct checkpoint cp;
	const char *reason = "";
	char root[2 * NOTE_HASH_LEN + 1];
	size_t text_len;
	int cosignatures;
	json_t *v, *sigs;

	*bad = 0;
	if (fetch(a, "/v1/checkpoint", &r, why, why_size) != 0) {
		*bad = 1;
		return NULL;
	}
	if (r.status == 404) {
		http_response_release(&r);
		return NULL;
	}
	if (r.status != 200 || note_text_length(r.body, r.len, &text_len) != 0 ||
	    checkpoint_parse(r.body, text_len, &cp, &reason) != 0) {
		snprintf(why, why_size, "%s/v1/checkpoint: %d, not a signed checkpoint (%s)",
			 a->url, r.status, reason);
		http_response_release(&r);
		*bad = 1;
		return NULL;
	}
	hex_encode(cp.root, NOTE_HASH_LEN, root);
	sigs = json_array();
	note_signatures(r.body, r.len, text_len, cp.origin, sigs, &cosignatures);
	v = json_pack("{s:s, s:I, s:s, s:o, s:i}", "origin", cp.origin, "size",
		      (json_int_t)cp.size, "root", root, "signatures", sigs, "cosignatures",
		      cosignatures);
	if (cp.has_time)
		json_object_set_new(v, "time",
				    json_pack("{s:I, s:I, s:b}", "earliest_ns",
					      (json_int_t)cp.earliest_ns, "latest_ns",
					      (json_int_t)cp.latest_ns, "synchronised",
					      cp.synchronised));
	if (a->node_key != NULL) {
		int err =
			note_verify(r.body, r.len, cp.origin, a->node_pub, &text_len, &reason);

		json_object_set_new(v, "signature_verified", json_boolean(err == 0));
		if (err != 0)
			json_object_set_new(v, "signature_problem",
					    json_string(err == -ENOKEY
								? "no signature by the node key"
							: err == -EPERM ? "signature invalid"
									: reason));
	}
	http_response_release(&r);
	return v;
}

/* The agreement: /v1/status's quorum and age, and /v1/time's interval when synchronised. */
static json_t *view_agreement(json_t *status, json_t *time_doc)
{
	json_int_t n = 0, f = 0, accepted = 0, round = 0, age = 0;
	json_t *v;

	json_unpack(status, "{s:I, s:I, s:I, s:I, s:I}", "n", &n, "f", &f, "accepted",
		    &accepted, "round", &round, "agreement_age_ns", &age);
	v = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I}", "round", round, "n", n, "f", f,
		      "threshold", n - f, "accepted", accepted, "age_ns", age);
	if (time_doc != NULL) {
		json_int_t sec = 0, nanos = 0, earliest = 0, latest = 0;
		const char *hash = NULL;

		if (json_unpack(time_doc, "{s:I, s:I, s:I, s:I, s?{s?s}}", "unix_seconds", &sec,
				"unix_nanos", &nanos, "earliest_ns", &earliest, "latest_ns",
				&latest, "quorum", "quorum_hash", &hash) == 0) {
			json_int_t estimate = sec * 1000000000 + nanos;

			json_object_set_new(v, "earliest_ns", json_integer(earliest));
			json_object_set_new(v, "estimate_ns", json_integer(estimate));
			json_object_set_new(v, "latest_ns", json_integer(latest));
			json_object_set_new(v, "bound_ns",
					    json_integer(estimate - earliest > latest - estimate
								 ? estimate - earliest
								 : latest - estimate));
			if (hash != NULL)
				json_object_set_new(v, "quorum_hash", json_string(hash));
		}
	}
	return v;
}

/* The whole view, or NULL with WHY. */
static json_t *view_build(const struct status_args *a, char *why, size_t why_size)
{
	struct http_response r;
	json_t *status = NULL, *time_doc = NULL, *view = NULL, *auth, *cp, *x;
	const char *node, *sync;
	int bad;

	if (fetch(a, "/v1/status", &r, why, why_size) != 0)
		return NULL;
	if (r.status != 200) {
		snprintf(why, why_size, "%s/v1/status: %d", a->url, r.status);
		http_response_release(&r);
		return NULL;
	}
	status = body_object(a, "/v1/status", &r, why, why_size);
	http_response_release(&r);
	if (status == NULL)
		return NULL;
	if (json_unpack(status, "{s:s, s:s}", "node", &node, "status", &sync) != 0) {
		snprintf(why, why_size, "%s/v1/status: no node or status", a->url);
		goto out;
	}
	if (strcmp(sync, "synchronised") == 0) {
		if (fetch(a, "/v1/time?format=json", &r, why, why_size) != 0)
			goto out;
		/* 503 is the quorum lost in between: the view says what /v1/status said */
		if (r.status == 200)
			time_doc = body_object(a, "/v1/time?format=json", &r, why, why_size);
		http_response_release(&r);
	}
	auth = view_authorities(json_object_get(status, "authorities") != NULL
					? json_object_get(status, "authorities")
					: json_array(),
				why, why_size);
	if (auth == NULL)
		goto out;
	view = json_pack("{s:s, s:s, s:s, s:o, s:o}", "url", a->url, "node", node, "status",
			 time_doc != NULL ? "synchronised" : "unsynchronised", "agreement",
			 view_agreement(status, time_doc), "authorities", auth);
	x = json_object_get(status, "mode");
	if (json_is_string(x))
		json_object_set(view, "mode", x);
	x = json_object_get(status, "circuit_breaker");
	if (json_is_object(x))
		json_object_set(view, "circuit_breaker", x);
	x = json_object_get(status, "vault");
	if (json_is_object(x))
		json_object_set_new(view, "vault",
				    json_pack("{s:O, s:O}", "records",
					      json_object_get(x, "records"), "durable",
					      json_object_get(x, "durable")));
	cp = view_checkpoint(a, why, why_size, &bad);
	if (bad) {
		json_decref(view);
		view = NULL;
		goto out;
	}
	if (cp != NULL)
		json_object_set_new(view, "checkpoint", cp);
out:
	json_decref(time_doc);
	json_decref(status);
	return view;
}

/* ---- drawing ---- */

static char state_mark(const char *state)
{
	static const struct {
		const char *name;
		char mark;
	} marks[] = { { "accepted", '*' },	 { "outlier", '~' }, { "rejected", 'x' },
		      { "unsynchronised", '?' }, { "silent", '-' },  { "no_agreement", '=' } };

	for (size_t i = 0; i < sizeof(marks) / sizeof(marks[0]); i++) {
		if (strcmp(state, marks[i].name) == 0)
			return marks[i].mark;
	}
	return '.';
}

static void draw_authorities(FILE *out, json_t *list, int verbose)
{
	json_t *item;
	size_t i;

	if (verbose)
		fprintf(out,
			"\n"
			"  .-- State: * accepted (counted; its interval meets the agreement)\n"
			" /           ~ outlier (counted; its interval misses the agreement)\n"
			"|            x rejected (could not count: see Why)  ? unsynchronised\n"
			"|            - silent (no answer)  = no agreement in that round\n"
			"|            . not reported yet\n"
			"|  .-- Q: quarantined by the control plane (not asked for a while)\n"
			"| /             Offset: its estimate minus the agreed one (counted "
			"only)\n"
			"| |             Interval: its interval in that round, from the "
			"agreed estimate\n"
			"| |             RTT: the round trip to it; Age: since the report\n"
			"| |\n");
	fprintf(out, "%s%-24s %-8s %8s %12s %25s %12s %8s  %s\n", "S Q ", "Authority", "Type",
		"Round", "Offset", "Interval", "RTT", "Age", "Why");
	fprintf(out,
		"============================================================================"
		"================================\n");
	json_array_foreach(list, i, item)
	{
		const char *id = "", *type = "", *state = "", *problem = NULL, *qreason = NULL;
		json_int_t round = 0, offset = 0, rtt = 0, age = 0, qleft = -1;
		int quarantined = 0;
		json_int_t lo = 0, hi = 0;
		json_t *interval = NULL;
		char off[24] = "-", trip[24] = "-", when[24], why[96] = "", span[52] = "-";

		json_unpack(
			item, "{s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:b, s?s, s?I, s?s, s?o}",
			"id", &id, "type", &type, "state", &state, "round", &round, "offset_ns",
			&offset, "rtt_ns", &rtt, "report_age_ns", &age, "quarantined",
			&quarantined, "problem", &problem, "quarantine_remaining_ns", &qleft,
			"quarantine_reason", &qreason, "interval", &interval);
		if (interval != NULL &&
		    json_unpack(interval, "{s:I, s:I}", "earliest_offset_ns", &lo,
				"latest_offset_ns", &hi) == 0) {
			char a[24], b[24];

			format_span(lo, 1, a, sizeof(a));
			format_span(hi, 1, b, sizeof(b));
			snprintf(span, sizeof(span), "%s..%s", a, b);
		}
		if (strcmp(state, "accepted") == 0 || strcmp(state, "outlier") == 0)
			format_span(offset, 1, off, sizeof(off));
		if (rtt > 0)
			format_span(rtt, 0, trip, sizeof(trip));
		format_span(age, 0, when, sizeof(when));
		if (problem != NULL)
			snprintf(why, sizeof(why), "%s", problem);
		if (quarantined) {
			char left[24] = "?";

			if (qleft >= 0)
				format_span(qleft, 0, left, sizeof(left));
			snprintf(why + strlen(why), sizeof(why) - strlen(why),
				 "%squarantined %s more: %s", why[0] != '\0' ? "; " : "", left,
				 qreason != NULL ? qreason : "?");
		}
		fprintf(out,
			"%c %c %-24s %-8s %8" JSON_INTEGER_FORMAT " %12s %25s %12s %8s  %s\n",
			state_mark(state), quarantined ? 'Q' : ' ', id, type, round, off, span,
			trip, round > 0 ? when : "-", why);
	}
}

static void draw(FILE *out, json_t *view, int verbose)
{
	json_t *ag = json_object_get(view, "agreement"),
	       *cp = json_object_get(view, "checkpoint");
	json_t *br = json_object_get(view, "circuit_breaker"),
	       *vault = json_object_get(view, "vault");
	json_int_t round = 0, n = 0, f = 0, th = 0, acc = 0, age = 0;
	const char *mode = json_string_value(json_object_get(view, "mode"));
	char a[64], b[64], c[64];

	json_unpack(ag, "{s:I, s:I, s:I, s:I, s:I, s:I}", "round", &round, "n", &n, "f", &f,
		    "threshold", &th, "accepted", &acc, "age_ns", &age);
	fprintf(out, "Node       %s at %s: %s\n",
		json_string_value(json_object_get(view, "node")),
		json_string_value(json_object_get(view, "url")),
		json_string_value(json_object_get(view, "status")));
	if (mode != NULL || br != NULL)
		fprintf(out,
			"Mode       %s, circuit breaker %s (rejection streak "
			"%" JSON_INTEGER_FORMAT ")\n",
			mode != NULL ? mode : "(no control stage)",
			json_is_true(json_object_get(br, "tripped")) ? "TRIPPED" : "closed",
			json_integer_value(json_object_get(br, "rejection_streak")));
	if (json_object_get(ag, "estimate_ns") != NULL) {
		int64_t est = json_integer_value(json_object_get(ag, "estimate_ns"));

		format_time(est, a, sizeof(a));
		fprintf(out, "Time       %s\n", a);
		format_time(json_integer_value(json_object_get(ag, "earliest_ns")), a,
			    sizeof(a));
		format_time(json_integer_value(json_object_get(ag, "latest_ns")), b, sizeof(b));
		format_span(json_integer_value(json_object_get(ag, "bound_ns")), 0, c,
			    sizeof(c));
		fprintf(out, "Interval   %s .. %s (bound +/- %s)\n", a, b, c);
	}
	format_span(age, 0, a, sizeof(a));
	if (round > 0)
		fprintf(out,
			"Agreement  round %" JSON_INTEGER_FORMAT ", %" JSON_INTEGER_FORMAT
			" of n=%" JSON_INTEGER_FORMAT
			" authorities inside (f=%" JSON_INTEGER_FORMAT
			", needs %" JSON_INTEGER_FORMAT "), %s ago\n",
			round, acc, n, f, th, a);
	else
		fprintf(out,
			"Agreement  none served (n=%" JSON_INTEGER_FORMAT
			", f=%" JSON_INTEGER_FORMAT ", needs %" JSON_INTEGER_FORMAT ")\n",
			n, f, th);
	if (cp != NULL) {
		const char *verdict = "signature not checked (--node-key)";

		if (json_object_get(cp, "signature_verified") != NULL)
			verdict = json_is_true(json_object_get(cp, "signature_verified"))
					  ? "signature verified"
					  : "SIGNATURE NOT VALID";
		fprintf(out,
			"Checkpoint size %" JSON_INTEGER_FORMAT ", root %s\n"
			"           signed by %s (%s), %" JSON_INTEGER_FORMAT
			" cosignature(s)\n",
			json_integer_value(json_object_get(cp, "size")),
			json_string_value(json_object_get(cp, "root")),
			json_string_value(json_object_get(cp, "origin")), verdict,
			json_integer_value(json_object_get(cp, "cosignatures")));
	} else {
		fprintf(out, "Checkpoint none (no merkle stage, or none signed yet)\n");
	}
	if (vault != NULL)
		fprintf(out,
			"Vault      %" JSON_INTEGER_FORMAT " records, %" JSON_INTEGER_FORMAT
			" durable\n",
			json_integer_value(json_object_get(vault, "records")),
			json_integer_value(json_object_get(vault, "durable")));
	draw_authorities(out, json_object_get(view, "authorities"), verbose);
}

/* ---- the command ---- */

/* Makes TEXT safe to print on a terminal, in place: what a node sent (its name, the sources'
 * ids and reasons, an error's detail) must not carry escape sequences that would redraw the
 * operator's screen or retitle the window. Control characters but '\n' (C0, DEL, and the C1
 * controls U+0080..U+009F in UTF-8) each become '?'. */
static void defang(char *text)
{
	for (unsigned char *p = (unsigned char *)text; *p != '\0'; p++) {
		if ((*p < 0x20 && *p != '\n') || *p == 0x7f)
			*p = '?';
		else if (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)
			p[0] = p[1] = '?';
	}
}

/* One view drawn to stdout (in place when watching a terminal). 0, 1 or 2 as the exit. */
static int show(const struct status_args *a, int in_place)
{
	char why[1024], *text = NULL;
	size_t len = 0;
	json_t *view = view_build(a, why, sizeof(why));
	FILE *mem;
	int rc;

	if (view == NULL) {
		defang(why);
		fprintf(stderr, "quorumctl: %s\n", why);
		if (in_place)
			printf("\033[H\033[Jquorumctl: %s\n", why);
		fflush(stdout);
		return 2;
	}
	rc = strcmp(json_string_value(json_object_get(view, "status")), "synchronised") == 0
		     ? 0
		     : 1;
	if (a->json) {
		/* non-ASCII escaped too: no raw C1 control reaches a terminal */
		char *line =
			json_dumps(view, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII);

		if (line != NULL)
			printf("%s\n", line);
		free(line);
		json_decref(view);
		fflush(stdout);
		return rc;
	}
	mem = open_memstream(&text, &len);
	if (mem == NULL) {
		json_decref(view);
		return 2;
	}
	draw(mem, view, a->verbose);
	fclose(mem);
	json_decref(view);
	defang(text);
	if (in_place) {
		/* home, each line over the old one, then the rest of the screen cleared */
		fputs("\033[H", stdout);
		for (char *line = text, *nl; *line != '\0'; line = nl + 1) {
			nl = strchr(line, '\n');
			if (nl == NULL)
				break;
			printf("%.*s\033[K\n", (int)(nl - line), line);
		}
		fputs("\033[J", stdout);
	} else {
		fputs(text, stdout);
	}
	free(text);
	fflush(stdout);
	return rc;
}

static volatile sig_atomic_t interrupted;

static void on_interrupt(int sig)
{
	(void)sig;
	interrupted = 1;
}

/* Loads --node-key's raw public key. 0 or 2 (said why). */
static int load_pub(struct status_args *a)
{
	char why[512];

	if (key_load_public_raw(a->node_key, a->node_pub, why, sizeof(why)) != 0) {
		fprintf(stderr, "quorumctl: %s\n", why);
		return 2;
	}
	return 0;
}

int cmd_status(int argc, char **argv)
{
	static const struct option options[] = {
		{ "url", required_argument, NULL, 'u' },
		{ "token-file", required_argument, NULL, 't' },
		{ "cacert", required_argument, NULL, 'C' },
		{ "cert", required_argument, NULL, 'c' },
		{ "key", required_argument, NULL, 'k' },
		{ "node-key", required_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "watch", no_argument, NULL, 'w' },
		{ "interval", required_argument, NULL, 'i' },
		{ "count", required_argument, NULL, 'N' },
		{ "timeout", required_argument, NULL, 'T' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct status_args a = { .url = "http://127.0.0.1:8080",
				 .http = { .timeout_ms = 5000 },
				 .interval_s = 1.0 };
	static char token[HTTP_TOKEN_MAX + 1];
	const char *token_file = NULL;
	char why[512], *end;
	int opt, rc, in_place;
	long done = 0;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "v", options, NULL)) != -1) {
		switch (opt) {
		case 'u':
			a.url = optarg;
			break;
		case 't':
			token_file = optarg;
			break;
		case 'C':
			a.http.cacert = optarg;
			break;
		case 'c':
			a.http.cert = optarg;
			break;
		case 'k':
			a.http.key = optarg;
			break;
		case 'n':
			a.node_key = optarg;
			break;
		case 'j':
			a.json = 1;
			break;
		case 'v':
			a.verbose = 1;
			break;
		case 'w':
			a.watch = 1;
			break;
		case 'i':
			a.interval_s = strtod(optarg, &end);
			if (*end != '\0' || !(a.interval_s >= 0.1 && a.interval_s <= 3600)) {
				fprintf(stderr,
					"quorumctl: --interval takes 0.1 to 3600 seconds\n");
				return 2;
			}
			break;
		case 'N':
			a.count = strtol(optarg, &end, 10);
			if (*end != '\0' || a.count < 1) {
				fprintf(stderr, "quorumctl: --count takes a positive number\n");
				return 2;
			}
			break;
		case 'T':
			a.http.timeout_ms = (int)strtol(optarg, &end, 10);
			if (*end != '\0' || a.http.timeout_ms < 1 ||
			    a.http.timeout_ms > 600000) {
				fprintf(stderr, "quorumctl: --timeout takes 1 to 600000 ms\n");
				return 2;
			}
			break;
		case 'h':
			status_usage(stdout);
			return 0;
		default:
			status_usage(stderr);
			return 2;
		}
	}
	if (optind != argc || (a.http.key != NULL && a.http.cert == NULL)) {
		status_usage(stderr);
		return 2;
	}
	if (token_file != NULL) {
		if (http_token_load(token_file, token, why, sizeof(why)) != 0) {
			fprintf(stderr, "quorumctl: %s\n", why);
			return 2;
		}
		a.http.token = token;
	}
	if (a.node_key != NULL && load_pub(&a) != 0)
		return 2;
	if (!a.watch)
		return show(&a, 0);
	signal(SIGINT, on_interrupt);
	signal(SIGTERM, on_interrupt);
	in_place = !a.json && isatty(STDOUT_FILENO);
	if (in_place)
		fputs("\033[H\033[2J", stdout);
	for (;;) {
		struct timespec pause = {
			.tv_sec = (time_t)a.interval_s,
			.tv_nsec = (long)((a.interval_s - (double)(time_t)a.interval_s) * 1e9)
		};

		rc = show(&a, in_place);
		done++;
		if (interrupted || (a.count > 0 && done >= a.count))
			break;
		if (!in_place && !a.json)
			putchar('\n');
		while (nanosleep(&pause, &pause) != 0 && !interrupted)
			;
		if (interrupted)
			break;
	}
	OPENSSL_cleanse(token, sizeof(token));
	return rc;
}
