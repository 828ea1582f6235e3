/* quorumctl.c -- the operator's command line for a quorumd node:
 *   quorumctl time     read the served time, its bound and status (shared-memory page)
 *   quorumctl attest   ask an authority for a signed time attestation, save it
 *   quorumctl verify   check a saved attestation offline against the authority's key
 *   quorumctl vault    verify, dump or prove from a vault folder (quorumctl-audit.c)
 *   quorumctl proof    verify a proof against a signed checkpoint (quorumctl-audit.c)
 *   quorumctl checkpoint verify   a checkpoint's signature, its witnesses' cosignatures,
 *                      and whether a vault still extends it (quorumctl-witness.c)
 *   quorumctl shared-state sign   a leader's signed shared state, as POST /time/shared-state's
 *                      body
 *   quorumctl control  sign an operator's control event (quorumctl-control.c)
 *   quorumctl status   a running node's view of its authorities (quorumctl-status.c)
 *   quorumctl chrony-conf  the chrony.conf line for the chrony transport (quorumctl-chrony.c)
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "clock-page.h"
#include "keys-internal.h"
#include "protodecode-internal.h"
#include "quorumctl-audit.h"
#include "quorumctl-chrony.h"
#include "quorumctl-control.h"
#include "quorumctl-passport.h"
#include "quorumctl-witness.h"
#include "quorumctl-status.h"
#include "quorum/clock.h"
#include "quorum/sharedstate.h"
#include "timecodec-internal.h"
#include "util-internal.h"
#include "clocks.h"

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: quorumctl time [--clock PATH] [--json]\n"
		"       quorumctl attest --peer ADDRESS:PORT [--out FILE] [--timeout MS]\n"
		"       quorumctl verify --key AUTHORITY.pub [--nonce HEX] FILE\n"
		"       quorumctl shared-state sign --key NODE.key --leader ID --version N\n"
		"                 [--key-id ID] [--agreed NS] [--drift NS] [--leader-time NS]\n"
		"                 [--warp W]\n"
		"\n"
		"time    prints the time the local quorumd serves, its error bound and "
		"status,\n"
		"        read from the shared-memory page (clock.shm; default %s,\n"
		"        or $QUORUM_CLOCK). Exit status 0 synchronised, 1 unsynchronised.\n"
		"attest  asks the authority at ADDRESS:PORT (its peer link) for the time with "
		"a\n"
		"        fresh 32-byte nonce, prints the answer and saves the signed "
		"attestation.\n"
		"verify  checks a saved attestation offline: its signature by AUTHORITY.pub "
		"(and\n"
		"        its nonce, if given): an authority's answer from `attest`, or a "
		"node's\n"
		"        signed served time (REST's \"attestation\"). Exit status 0 valid, 1 "
		"invalid.\n"
		"shared-state sign  prints a leader's shared state signed with NODE.key as the "
		"JSON\n"
		"        body of POST /time/shared-state (all 8 fields): key id (default "
		"NODE.key's),\n"
		"        agreed time and leader time (ns since 1970; default now), drift (ns,\n"
		"        default 0), warp score (default 0). The node verifies it against the\n"
		"        leader's configured key and records it; it never moves the node's "
		"clock.\n"
		"vault, proof: see `quorumctl vault --help`.\n"
		"checkpoint: a checkpoint's cosignatures, see `quorumctl checkpoint --help`.\n"
		"control: an operator's signed control event, see `quorumctl control --help`.\n"
		"passport: create, verify and publish passports, see `quorumctl passport "
		"--help`.\n"
		"status: a running node's authorities, agreement, mode and checkpoint over "
		"REST,\n"
		"        see `quorumctl status --help`.\n"
		"chrony-conf: the chrony.conf line for the chrony transport, see\n"
		"        `quorumctl chrony-conf --help`.\n",
		QUORUM_CLOCK_DEFAULT_PATH);
}

static void format_time(int64_t ns, char *buf, size_t size)
{
	time_t seconds = (time_t)(ns / 1000000000);
	struct tm tm;

	gmtime_r(&seconds, &tm);
	snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%09" PRId64 "Z", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ns % 1000000000);
}

static int cmd_time(int argc, char **argv)
{
	static const struct option options[] = { { "clock", required_argument, NULL, 'c' },
						 { "json", no_argument, NULL, 'j' },
						 { NULL, 0, NULL, 0 } };
	const char *path = NULL;
	struct quorum_clock *clock;
	struct quorum_agreement_info page;
	struct quorum_now now;
	char when[64], lo[64], hi[64], why[512];
	int json = 0, opt, err;

	while ((opt = getopt_long(argc, argv, "c:j", options, NULL)) != -1) {
		if (opt == 'c')
			path = optarg;
		else if (opt == 'j')
			json = 1;
		else
			return 2;
	}
	err = quorum_clock_open_why(path, &clock, why, sizeof(why));
	if (err != 0) {
		fprintf(stderr, "quorumctl: cannot open the clock page: %s\n", why);
		return 2;
	}
	/* The agreement's round, n, f and accepted from the very snapshot of the time. */
	err = quorum_clock_now_agreement(clock, &now, &page);
	quorum_clock_close(clock);
	if (err != 0 && err != -EAGAIN) {
		fprintf(stderr, "quorumctl: cannot read the clock: %s\n", strerror(-err));
		return 2;
	}
	if (now.status != QUORUM_NOW_SYNCHRONISED) {
		if (json)
			printf("{\"status\":\"unsynchronised\",\"n\":%u,\"f\":%u}\n", page.n,
			       page.f);
		else
			printf("status     unsynchronised (no trustworthy time: none "
			       "served)\n");
		return 1;
	}
	format_time(now.estimate_ns, when, sizeof(when));
	format_time(now.earliest_ns, lo, sizeof(lo));
	format_time(now.latest_ns, hi, sizeof(hi));
	if (json) {
		printf("{\"status\":\"synchronised\",\"time\":\"%s\",\"estimate_ns\":%" PRId64
		       ",\"earliest_ns\":%" PRId64 ",\"latest_ns\":%" PRId64
		       ",\"error_bound_ns\":%" PRId64 ",\"round\":%" PRIu64
		       ",\"n\":%u,\"f\":%u,\"accepted\":%u}\n",
		       when, now.estimate_ns, now.earliest_ns, now.latest_ns,
		       now.latest_ns - now.estimate_ns > now.estimate_ns - now.earliest_ns
			       ? now.latest_ns - now.estimate_ns
			       : now.estimate_ns - now.earliest_ns,
		       page.round, page.n, page.f, page.accepted);
		return 0;
	}
	printf("status     synchronised\n"
	       "time       %s\n"
	       "earliest   %s\n"
	       "latest     %s\n"
	       "bound      -%.3f us / +%.3f us\n"
	       "agreement  round %" PRIu64 ", %u of n=%u authorities inside (f=%u)\n",
	       when, lo, hi, (double)(now.estimate_ns - now.earliest_ns) / 1e3,
	       (double)(now.latest_ns - now.estimate_ns) / 1e3, page.round, page.accepted,
	       page.n, page.f);
	return 0;
}

static void print_attestation(const struct attestation *a, const char *prefix)
{
	char when[64], nonce[2 * QUORUM_NONCE_LEN + 1];

	format_time(a->fields.midpoint_ns, when, sizeof(when));
	hex_encode(a->fields.nonce.data, a->fields.nonce.len, nonce);
	printf("%sauthority  %s\n%skey-id     %s\n%stime       %s (%" PRId64 " ns)\n"
	       "%sradius     %" PRIu64 " ns\n%ssequence   %" PRIu64 "\n%sstatus     %s\n"
	       "%snonce      %s\n",
	       prefix, a->fields.authority_id, prefix, a->fields.key_id, prefix, when,
	       a->fields.midpoint_ns, prefix, a->fields.radius_ns, prefix, a->fields.sequence,
	       prefix,
	       a->fields.status == QUORUM_AUTHORITY_SYNCHRONISED ? "synchronised"
								 : "unsynchronised",
	       prefix, nonce);
}

static int split_host_port(const char *text, char *host, size_t size, char *port,
			   size_t port_size)
{
	const char *colon = strrchr(text, ':');
	size_t len;

	if (colon == NULL)
		return -EINVAL;
	len = (size_t)(colon - text);
	if (text[0] == '[' && len > 1 && text[len - 1] == ']') {
		text++;
		len -= 2;
	}
	if (len == 0 || len >= size || strlen(colon + 1) >= port_size)
		return -EINVAL;
	memcpy(host, text, len);
	host[len] = '\0';
	strcpy(port, colon + 1);
	return 0;
}

static int cmd_attest(int argc, char **argv)
{
	static const struct option options[] = { { "peer", required_argument, NULL, 'p' },
						 { "out", required_argument, NULL, 'o' },
						 { "timeout", required_argument, NULL, 't' },
						 { NULL, 0, NULL, 0 } };
	struct addrinfo hints = { .ai_socktype = SOCK_DGRAM,
				  .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV };
	const char *peer = NULL, *out = NULL, *reason = NULL;
	uint8_t nonce[QUORUM_NONCE_LEN], request[1024], answer[DATAGRAM_MAX + 1], *saved = NULL;
	char host[128], port[16], why[ERRBUF_SIZE];
	struct addrinfo *res = NULL;
	struct datagram d = { 0 };
	struct attestation a = { 0 };
	struct pollfd pfd;
	struct timespec t1, t2;
	int timeout = 1000, opt, fd = -1, len, status = 2;
	size_t saved_len;
	ssize_t n;

	while ((opt = getopt_long(argc, argv, "p:o:t:", options, NULL)) != -1) {
		if (opt == 'p')
			peer = optarg;
		else if (opt == 'o')
			out = optarg;
		else if (opt == 't')
			timeout = atoi(optarg);
		else
			return 2;
	}
	if (peer == NULL ||
	    split_host_port(peer, host, sizeof(host), port, sizeof(port)) != 0 ||
	    getaddrinfo(host, port, &hints, &res) != 0) {
		fprintf(stderr,
			"quorumctl: --peer ADDRESS:PORT with a numeric address is required\n");
		return 2;
	}
	fd = socket(res->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || RAND_bytes(nonce, sizeof(nonce)) != 1) {
		fprintf(stderr, "quorumctl: cannot prepare the request\n");
		goto out_free;
	}
	/* Padded for the longest id an authority may have: it answers no shorter request. */
	len = datagram_encode_request(nonce, "quorumctl", attestation_response_max_len(NULL),
				      request, sizeof(request));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (len < 0 || sendto(fd, request, (size_t)len, 0, res->ai_addr, res->ai_addrlen) < 0) {
		fprintf(stderr, "quorumctl: cannot send to %s: %s\n", peer, strerror(errno));
		goto out_free;
	}
	pfd = (struct pollfd){ .fd = fd, .events = POLLIN };
	if (poll(&pfd, 1, timeout) != 1) {
		fprintf(stderr, "quorumctl: no answer from %s within %d ms\n", peer, timeout);
		goto out_free;
	}
	n = recv(fd, answer, sizeof(answer), 0);
	clock_gettime(CLOCK_MONOTONIC, &t2);
	if (n < 0 || datagram_decode(answer, (size_t)n, &d, &reason) != 0 ||
	    d.kind != DATAGRAM_TIME_RESPONSE ||
	    attestation_decode(d.message->time_response, &a, &reason) != 0) {
		fprintf(stderr, "quorumctl: malformed answer from %s (%s)\n", peer,
			reason != NULL ? reason : "not a time response");
		status = 1;
		goto out_free;
	}
	if (memcmp(a.fields.nonce.data, nonce, sizeof(nonce)) != 0) {
		fprintf(stderr, "quorumctl: the answer is for another nonce\n");
		status = 1;
		goto out_free;
	}
	print_attestation(&a, "");
	printf("rtt        %.3f us (processing %.3f us)\n",
	       ((double)(t2.tv_sec - t1.tv_sec) * 1e9 + (double)(t2.tv_nsec - t1.tv_nsec)) /
		       1e3,
	       (double)a.fields.processing_ns / 1e3);
	printf("signature  not checked here: use quorumctl verify --key AUTHORITY.pub FILE\n");
	status = 0;
	if (out != NULL) {
		if (proto_encode(&d.message->time_response->base, &saved, &saved_len) != 0 ||
		    file_write_new(out, saved, saved_len, 0644, 1, why, sizeof(why)) != 0) {
			fprintf(stderr, "quorumctl: %s\n", why);
			status = 2;
		} else {
			printf("saved      %s\n", out);
		}
	}
out_free:
	free(saved);
	attestation_release(&a);
	datagram_release(&d);
	if (fd >= 0)
		close(fd);
	if (res != NULL)
		freeaddrinfo(res);
	return status;
}

/* A node's signed served time (api->attest_time, e.g. REST's "attestation"): the signature
 * by KEY over the envelope, the key id, the shape, and the nonce when given. 0 or 1. */
static int verify_served_time(const Uml001__SignedState *state, EVP_PKEY *key, const char *id,
			      const uint8_t *nonce, const char *file)
{
	struct quorum_signed_state view = { 0 };
	Uml001__ServedTime *t = NULL;
	const char *reason = NULL;
	char earliest[40], estimate[40], latest[40], qh[2 * QUORUM_DIGEST_LEN + 1] = "";

	view.logical_time_ns = state->logical_time_ns;
	view.event_id = state->event_id;
	view.key_id = state->key_id != NULL ? state->key_id : "";
	view.payload.data = state->payload.data;
	view.payload.len = state->payload.len;
	view.signature.data = state->signature.data;
	view.signature.len = state->signature.len;
	if (served_time_decode(state, &t, &reason) != 0) {
		printf("INVALID: %s is not a well-formed served time (%s)\n", file, reason);
		return 1;
	}
	if (strcmp(view.key_id, id) != 0)
		reason = "key_id_mismatch";
	else if (signed_state_verify(key, &view) != 0)
		reason = "signature_invalid";
	else if (nonce != NULL && (t->nonce.len != QUORUM_NONCE_LEN ||
				   memcmp(t->nonce.data, nonce, QUORUM_NONCE_LEN) != 0))
		reason = "nonce_mismatch";
	format_time(t->earliest_ns, earliest, sizeof(earliest));
	format_time(t->estimate_ns, estimate, sizeof(estimate));
	format_time(t->latest_ns, latest, sizeof(latest));
	if (t->quorum_hash.len == QUORUM_DIGEST_LEN)
		hex_encode(t->quorum_hash.data, QUORUM_DIGEST_LEN, qh);
	if (reason != NULL)
		printf("INVALID: %s (key %s)\n", reason, id);
	else
		printf("VALID: served time signed by %s with key %s\n", t->node_id, id);
	printf("  time      %s\n  earliest  %s\n  latest    %s\n  agreement round %" PRIu64
	       ", %u of n=%u authorities (f=%u), quorum hash %s\n",
	       estimate, earliest, latest, t->round, t->accepted, t->n, t->f, qh);
	uml001__served_time__free_unpacked(t, NULL);
	return reason != NULL;
}

static int cmd_verify(int argc, char **argv)
{
	static const struct option options[] = { { "key", required_argument, NULL, 'k' },
						 { "nonce", required_argument, NULL, 'n' },
						 { NULL, 0, NULL, 0 } };
	const char *key_path = NULL, *nonce_hex = NULL, *reason = NULL, *problem;
	char why[ERRBUF_SIZE], id[KEY_ID_HEX_LEN + 1];
	Uml001__SignedState *state = NULL;
	struct attestation a = { 0 };
	uint8_t *data = NULL, nonce[QUORUM_NONCE_LEN];
	EVP_PKEY *key = NULL;
	size_t len;
	int opt, status = 2;

	while ((opt = getopt_long(argc, argv, "k:n:", options, NULL)) != -1) {
		if (opt == 'k')
			key_path = optarg;
		else if (opt == 'n')
			nonce_hex = optarg;
		else
			return 2;
	}
	if (key_path == NULL || optind + 1 != argc) {
		usage(stderr);
		return 2;
	}
	if (nonce_hex != NULL &&
	    hex_decode(nonce_hex, strlen(nonce_hex), nonce, sizeof(nonce)) != 0) {
		fprintf(stderr, "quorumctl: --nonce wants 64 lowercase hex digits\n");
		return 2;
	}
	if (key_load_public(key_path, &key, why, sizeof(why)) != 0 ||
	    file_read_checked(argv[optind], QUORUM_ENVELOPE_MAX, 0, &data, &len, why,
			      sizeof(why)) != 0) {
		fprintf(stderr, "quorumctl: %s\n", why);
		goto out_free;
	}
	key_id(key, id);
	status = 1;
	state = (Uml001__SignedState *)proto_decode_strict(&uml001__signed_state__descriptor,
							   data, len, "envelope", &reason);
	if (state != NULL && state->event_id != NULL &&
	    strcmp(state->event_id, QUORUM_EVENT_SERVED_TIME) == 0) {
		status = verify_served_time(state, key, id, nonce_hex != NULL ? nonce : NULL,
					    argv[optind]);
		goto out_free;
	}
	if (state == NULL || attestation_decode(state, &a, &reason) != 0) {
		printf("INVALID: %s is not a signed time attestation (%s)\n", argv[optind],
		       reason);
		goto out_free;
	}
	problem = attestation_check(&a, a.fields.authority_id, id, key);
	if (problem == NULL && nonce_hex != NULL &&
	    memcmp(a.fields.nonce.data, nonce, sizeof(nonce)) != 0)
		problem = "nonce_mismatch";
	if (problem != NULL) {
		printf("INVALID: %s (key %s)\n", problem, id);
		print_attestation(&a, "  ");
		goto out_free;
	}
	printf("VALID: signed by %s with key %s\n", a.fields.authority_id, id);
	print_attestation(&a, "  ");
	status = 0;
out_free:
	attestation_release(&a);
	if (state != NULL)
		uml001__signed_state__free_unpacked(state, NULL);
	free(data);
	EVP_PKEY_free(key);
	return status;
}

/* ---- a leader's shared state ---- */

/* A decimal of TEXT into *OUT: unsigned within [0, 2^63 - 1], or signed. 0 or -1. */
static int parse_decimal(const char *text, int is_signed, int64_t *out)
{
	char *end;

	if (text[0] == '\0' || text[0] == ' ' || text[0] == '+' ||
	    (!is_signed && text[0] == '-'))
		return -1;
	errno = 0;
	*out = strtoll(text, &end, 10);
	return errno != 0 || *end != '\0' ? -1 : 0;
}

static int cmd_shared_state(int argc, char **argv)
{
	static const struct option options[] = { { "key", required_argument, NULL, 'k' },
						 { "key-id", required_argument, NULL, 'i' },
						 { "leader", required_argument, NULL, 'l' },
						 { "version", required_argument, NULL, 'v' },
						 { "agreed", required_argument, NULL, 'a' },
						 { "drift", required_argument, NULL, 'd' },
						 { "leader-time", required_argument, NULL,
						   't' },
						 { "warp", required_argument, NULL, 'w' },
						 { NULL, 0, NULL, 0 } };
	struct quorum_shared_state_fields f = { .warp_score = 0 };
	const char *key_path = NULL, *key_id_arg = NULL, *leader = NULL;
	char why[ERRBUF_SIZE], own_id[KEY_ID_HEX_LEN + 1], text[QUORUM_SHARED_STATE_TEXT_MAX];
	char sig_hex[2 * KEY_SIGNATURE_LEN + 1], warp[32];
	uint8_t sig[KEY_SIGNATURE_LEN];
	int64_t version = -1, agreed = realtime_now_ns(), drift = 0, leader_time = agreed;
	EVP_PKEY *key = NULL;
	int opt, len, bad = 0;

	if (argc < 2 || strcmp(argv[1], "sign") != 0) {
		fprintf(stderr, "quorumctl: shared-state sign ...: see quorumctl --help\n");
		return 2;
	}
	argc--;
	argv++;
	while ((opt = getopt_long(argc, argv, "k:i:l:v:a:d:t:w:", options, NULL)) != -1) {
		char *end;

		if (opt == 'k') {
			key_path = optarg;
		} else if (opt == 'i') {
			key_id_arg = optarg;
		} else if (opt == 'l') {
			leader = optarg;
		} else if (opt == 'v') {
			bad |= parse_decimal(optarg, 0, &version);
		} else if (opt == 'a') {
			bad |= parse_decimal(optarg, 0, &agreed);
		} else if (opt == 'd') {
			bad |= parse_decimal(optarg, 1, &drift);
		} else if (opt == 't') {
			bad |= parse_decimal(optarg, 0, &leader_time);
		} else if (opt == 'w') {
			errno = 0;
			f.warp_score = strtod(optarg, &end);
			bad |= errno != 0 || end == optarg || *end != '\0' ? -1 : 0;
		} else {
			return 2;
		}
	}
	if (bad || key_path == NULL || leader == NULL || version < 0 || optind != argc) {
		fprintf(stderr,
			"quorumctl: shared-state sign needs --key, --leader and --version; "
			"integers in decimal (times, version >= 0), a finite --warp\n");
		return 2;
	}
	if (key_load_private(key_path, &key, why, sizeof(why)) != 0) {
		fprintf(stderr, "quorumctl: %s\n", why);
		return 2;
	}
	key_id(key, own_id);
	if (key_id_arg != NULL && strcmp(key_id_arg, own_id) != 0)
		fprintf(stderr, "quorumctl: note: --key-id %s is not the key's own id %s\n",
			key_id_arg, own_id);
	snprintf(f.leader_id, sizeof(f.leader_id), "%s", leader);
	snprintf(f.key_id, sizeof(f.key_id), "%s", key_id_arg != NULL ? key_id_arg : own_id);
	f.monotonic_version = (uint64_t)version;
	f.shared_agreed_time = (uint64_t)agreed;
	f.shared_applied_drift = drift;
	f.leader_system_time_at_sync = (uint64_t)leader_time;
	if (f.warp_score == 0)
		f.warp_score = 0.0; /* -0 too: the text and the JSON say 0 */
	len = strlen(leader) < sizeof(f.leader_id) &&
			      (key_id_arg == NULL || strlen(key_id_arg) < sizeof(f.key_id))
		      ? quorum_shared_state_format(&f, text, sizeof(text))
		      : -EINVAL;
	if (len < 0 || key_sign(key, text, (size_t)len, sig) != 0) {
		fprintf(stderr, "quorumctl: %s\n",
			len < 0 ? "--leader and --key-id must be 1 to 64 printable characters "
				  "without spaces, '|', '\"', '=' or '\\'; --warp finite"
				: "cannot sign");
		EVP_PKEY_free(key);
		return 2;
	}
	EVP_PKEY_free(key);
	hex_encode(sig, sizeof(sig), sig_hex);
	snprintf(warp, sizeof(warp), "%.17g", f.warp_score); /* reads back to the same double */
	printf("{\"monotonic_version\":%" PRIu64
	       ",\"warp_score\":%s,\"shared_agreed_time\":%" PRIu64
	       ",\"shared_applied_drift\":%" PRId64 ",\"leader_system_time_at_sync\":%" PRIu64
	       ",\"signature_hex\":\"%s\",\"leader_id\":\"%s\",\"key_id\":\"%s\"}\n",
	       f.monotonic_version, warp, f.shared_agreed_time, f.shared_applied_drift,
	       f.leader_system_time_at_sync, sig_hex, f.leader_id, f.key_id);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (strcmp(argv[1], "time") == 0)
		return cmd_time(argc - 1, argv + 1);
	if (strcmp(argv[1], "attest") == 0)
		return cmd_attest(argc - 1, argv + 1);
	if (strcmp(argv[1], "verify") == 0)
		return cmd_verify(argc - 1, argv + 1);
	if (strcmp(argv[1], "vault") == 0)
		return cmd_vault(argc - 1, argv + 1);
	if (strcmp(argv[1], "proof") == 0)
		return cmd_proof(argc - 1, argv + 1);
	if (strcmp(argv[1], "checkpoint") == 0)
		return cmd_checkpoint(argc - 1, argv + 1);
	if (strcmp(argv[1], "shared-state") == 0)
		return cmd_shared_state(argc - 1, argv + 1);
	if (strcmp(argv[1], "control") == 0)
		return cmd_control(argc - 1, argv + 1);
	if (strcmp(argv[1], "passport") == 0)
		return cmd_passport(argc - 1, argv + 1);
	if (strcmp(argv[1], "status") == 0)
		return cmd_status(argc - 1, argv + 1);
	if (strcmp(argv[1], "chrony-conf") == 0)
		return cmd_chrony_conf(argc - 1, argv + 1);
	fprintf(stderr, "quorumctl: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
