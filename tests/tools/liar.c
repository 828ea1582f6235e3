/* liar.c -- a test-only lying authority: speaks the peer-link protocol of quorumd with the
 * same codec (or, with --protocol ntp, NTPv4 as a server), but answers wrongly in the way its
 * --mode says, so that the end-to-end tests can check that honest nodes refuse or outvote
 * it. With --mode gossip-forge it sends crafted gossip datagrams once, from its --listen
 * address, to --to, and exits. Never installed. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "keys-internal.h"
#include "malfeasance-report.h"
#include "protodecode-internal.h"
#include "timecodec-internal.h"
#include "util-internal.h"
#include "clocks.h"

static const char *const modes[] = {
	"honest",	  /* answers like a quorumd authority (the control case) */
	"offset",	  /* validly signed, midpoint shifted by --offset-ns */
	"random",	  /* validly signed, midpoint shifted by a random amount in +-offset */
	"replay",	  /* answers once, then replays that first signed answer */
	"equivocate",	  /* two different validly signed answers to each question */
	"duplicate",	  /* the same valid answer twice */
	"forge",	  /* signed by another key, claiming the configured key id */
	"wrong-key-id",	  /* signed by the right key, claiming another key id */
	"stranger",	  /* claims an authority id nobody configured */
	"stale",	  /* always sequence 1 */
	"late",		  /* answers after --delay-ms */
	"silent",	  /* never answers */
	"kod",		  /* NTP: a kiss-of-death (stratum 0) */
	"reuse-sequence", /* each asker's k-th answer carries the same sequence: valid and
			     increasing for every asker, yet one sequence signed many times */
	"gossip-forge",	  /* sends --gossip-kind datagrams to --to once, then exits */
	NULL,
};

/* What --mode gossip-forge sends (each a fresh event, signed with --key unless forged):
 *   forged      a round-id event signed by another key under the configured key id
 *   self-echo   gossip metadata naming --target-id (the receiver) as origin
 *   hops-reset  origin set, hops 0
 *   overflow    hops 2 + ttl 3, above the default max_ttl 4
 *   policy      an event id no gossip stage forwards (uml001.liar.unlisted)
 *   duplicate   one valid copy, twice
 *   bad-report  a malfeasance report against --id whose first signature is broken
 *   flood       --count forged copies, paced 4000/s (the per-peer rate limit)
 *   valid       one valid copy (from an unconfigured address: refused by the peer link) */
static const char *const gossip_kinds[] = { "forged", "self-echo", "hops-reset", "overflow",
					    "policy", "duplicate", "bad-report", "flood",
					    "valid",  NULL };

static volatile sig_atomic_t stopping;

/* Answers the "late" mode holds back, each sent when due: one slow answer never delays the
 * next question's. */
#define LATE_MAX 256
static struct late_answer {
	int64_t due_mono;
	uint8_t *data;
	size_t len;
	struct sockaddr_storage to;
	socklen_t to_len;
} late[LATE_MAX];

static void on_signal(int signo)
{
	stopping = 1;
}

/* Sends FIELDS signed by KEY; with DELAY_NS > 0, queues the answer until then. */
static int send_answer_after(int fd, EVP_PKEY *key, const char *key_id,
			     const struct quorum_attestation *fields, const struct sockaddr *to,
			     socklen_t to_len, int64_t delay_ns)
{
	uint8_t *out;
	size_t len;
	int err = attestation_response(key, key_id, fields, &out, &len);

	if (err != 0)
		return err;
	if (delay_ns > 0) {
		for (int i = 0; i < LATE_MAX; i++) {
			if (late[i].data != NULL)
				continue;
			late[i] = (struct late_answer){
				.due_mono = clock_now_ns(CLOCK_MONOTONIC) + delay_ns,
				.data = out,
				.len = len,
				.to_len = to_len
			};
			memcpy(&late[i].to, to, to_len);
			return 0;
		}
		free(out); /* more held back than a test needs: drop it */
		return -ENOSPC;
	}
	if (sendto(fd, out, len, 0, to, to_len) < 0)
		err = -errno;
	free(out);
	return err;
}

static int send_answer(int fd, EVP_PKEY *key, const char *key_id,
		       const struct quorum_attestation *fields, const struct sockaddr *to,
		       socklen_t to_len)
{
	return send_answer_after(fd, key, key_id, fields, to, to_len, 0);
}

/* Sends the held-back answers that are due; returns ms until the next one, or -1. */
static int send_due(int fd)
{
	int64_t now = clock_now_ns(CLOCK_MONOTONIC), next = -1;

	for (int i = 0; i < LATE_MAX; i++) {
		if (late[i].data == NULL)
			continue;
		if (late[i].due_mono <= now) {
			sendto(fd, late[i].data, late[i].len, 0, (struct sockaddr *)&late[i].to,
			       late[i].to_len);
			free(late[i].data);
			late[i].data = NULL;
		} else if (next < 0 || late[i].due_mono - now < next) {
			next = late[i].due_mono - now;
		}
	}
	return next < 0 ? -1 : (int)(next / 1000000 + 1);
}

static void put_ntp_time(uint8_t *p, int64_t ns)
{
	uint64_t seconds = (uint64_t)(ns / 1000000000) + 2208988800ULL;
	uint64_t fraction = ((uint64_t)(ns % 1000000000) << 32) / 1000000000ULL;

	for (int i = 0; i < 4; i++) {
		p[i] = (uint8_t)(seconds >> (24 - 8 * i));
		p[4 + i] = (uint8_t)(fraction >> (24 - 8 * i));
	}
}

/* An NTPv4 server answer to REQUEST: its receive and transmit times shifted by OFFSET. */
static void ntp_answer(int fd, const uint8_t *request, int64_t arrived, int64_t offset, int kod,
		       int64_t dispersion_ns, const struct sockaddr *to, socklen_t to_len)
{
	uint8_t reply[48] = { 0 };
	uint32_t dispersion = (uint32_t)(dispersion_ns * 65536 / 1000000000);

	reply[0] = (0 << 6) | (4 << 3) | 4; /* LI 0, version 4, mode 4 (server) */
	reply[1] = kod ? 0 : 2;		    /* stratum (0: kiss-of-death) */
	reply[2] = 4;
	reply[3] = (uint8_t)-20;
	if (kod)
		memcpy(reply + 12, "RATE", 4);
	/* root dispersion, 16.16 s (--dispersion-ns; default 1/65536 s, about 15 us) */
	reply[8] = (uint8_t)(dispersion >> 24);
	reply[9] = (uint8_t)(dispersion >> 16);
	reply[10] = (uint8_t)(dispersion >> 8);
	reply[11] = (uint8_t)dispersion;
	memcpy(reply + 24, request + 40, 8); /* origin: the client's transmit */
	put_ntp_time(reply + 16, arrived + offset);
	put_ntp_time(reply + 32, arrived + offset);
	put_ntp_time(reply + 40, clock_now_ns(CLOCK_REALTIME) + offset);
	sendto(fd, reply, sizeof(reply), 0, to, to_len);
}

/* Sends one gossip datagram: EVENT_ID with PAYLOAD, gossip {HOPS, TTL, ORIGIN}, signed by
 * KEY under KEY_ID, to TO. */
static int gossip_send_one(int fd, EVP_PKEY *key, const char *key_id, const char *event_id,
			   const uint8_t *payload, size_t payload_len, uint32_t hops,
			   uint32_t ttl, const char *origin, const struct sockaddr *to,
			   socklen_t to_len)
{
	Uml001__SignedState s = UML001__SIGNED_STATE__INIT;
	Uml001__GossipState g = UML001__GOSSIP_STATE__INIT;
	struct quorum_signed_state view = { 0 };
	uint8_t sig[KEY_SIGNATURE_LEN], *encoded = NULL, *datagram = NULL;
	size_t len, datagram_len;
	int err;

	view.logical_time_ns = (uint64_t)clock_now_ns(CLOCK_REALTIME);
	view.event_id = event_id;
	view.key_id = key_id;
	view.payload.data = payload;
	view.payload.len = payload_len;
	err = signed_state_sign(key, &view, sig);
	if (err != 0)
		return err;
	s.logical_time_ns = view.logical_time_ns;
	s.event_id = (char *)event_id;
	s.key_id = (char *)key_id;
	s.payload.data = (uint8_t *)payload;
	s.payload.len = payload_len;
	s.signature.data = sig;
	s.signature.len = sizeof(sig);
	g.hops = hops;
	g.ttl = ttl;
	g.origin_node_id = (char *)origin;
	s.gossip = &g;
	err = proto_encode(&s.base, &encoded, &len);
	if (err == 0)
		err = datagram_encode_gossip(encoded, len, &datagram, &datagram_len);
	if (err == 0 && sendto(fd, datagram, datagram_len, 0, to, to_len) < 0)
		err = -errno;
	free(encoded);
	free(datagram);
	return err;
}

/* An attestation of ID with SEQUENCE and MIDPOINT signed by KEY, encoded into *OUT. */
static int attestation_encoded(EVP_PKEY *key, const char *key_id, const char *id,
			       uint64_t sequence, int64_t midpoint, uint8_t **out, size_t *len)
{
	struct quorum_attestation fields = { 0 };
	static const uint8_t nonce[QUORUM_NONCE_LEN];
	struct datagram d;
	const char *reason;
	uint8_t *datagram;
	size_t datagram_len;
	int err;

	fields.authority_id = id;
	fields.key_id = key_id;
	fields.nonce.data = nonce;
	fields.nonce.len = sizeof(nonce);
	fields.midpoint_ns = midpoint;
	fields.radius_ns = 1000;
	fields.sequence = sequence;
	fields.status = QUORUM_AUTHORITY_SYNCHRONISED;
	err = attestation_response(key, key_id, &fields, &datagram, &datagram_len);
	if (err != 0)
		return err;
	err = datagram_decode(datagram, datagram_len, &d, &reason) == 0 ? 0 : -EINVAL;
	free(datagram);
	if (err != 0)
		return err;
	err = proto_encode(&d.message->time_response->base, out, len);
	datagram_release(&d);
	return err;
}

/* --mode gossip-forge: the datagrams of KIND to TO, from FD (bound to a peer's address). */
static int gossip_forge(int fd, EVP_PKEY *key, const char *key_id, EVP_PKEY *other,
			const char *id, const char *kind, const char *target, long count,
			const struct sockaddr *to, socklen_t to_len)
{
	char text[128];
	const uint8_t *payload = (const uint8_t *)text;
	size_t n;
	int err = 0;

	n = (size_t)snprintf(text, sizeof(text), "liar %s gossip %s %" PRId64, id, kind,
			     clock_now_ns(CLOCK_REALTIME));
	if (strcmp(kind, "forged") == 0)
		return gossip_send_one(fd, other, key_id, QUORUM_EVENT_SYNC_ROUND, payload, n,
				       1, 3, id, to, to_len);
	if (strcmp(kind, "self-echo") == 0)
		return gossip_send_one(fd, key, key_id, QUORUM_EVENT_SYNC_ROUND, payload, n, 1,
				       3, target, to, to_len);
	if (strcmp(kind, "hops-reset") == 0)
		return gossip_send_one(fd, key, key_id, QUORUM_EVENT_SYNC_ROUND, payload, n, 0,
				       4, id, to, to_len);
	if (strcmp(kind, "overflow") == 0)
		return gossip_send_one(fd, key, key_id, QUORUM_EVENT_SYNC_ROUND, payload, n, 2,
				       3, id, to, to_len);
	if (strcmp(kind, "policy") == 0)
		return gossip_send_one(fd, key, key_id, "uml001.liar.unlisted", payload, n, 1,
				       3, id, to, to_len);
	if (strcmp(kind, "valid") == 0)
		return gossip_send_one(fd, key, key_id, QUORUM_EVENT_SYNC_ROUND, payload, n, 1,
				       3, id, to, to_len);
	if (strcmp(kind, "duplicate") == 0) {
		/* The same bytes twice: one signature, one time. */
		Uml001__SignedState s = UML001__SIGNED_STATE__INIT;
		Uml001__GossipState g = UML001__GOSSIP_STATE__INIT;
		struct quorum_signed_state view = { 0 };
		uint8_t sig[KEY_SIGNATURE_LEN], *encoded = NULL, *datagram = NULL;
		size_t len, datagram_len;

		view.logical_time_ns = (uint64_t)clock_now_ns(CLOCK_REALTIME);
		view.event_id = QUORUM_EVENT_SYNC_ROUND;
		view.key_id = key_id;
		view.payload.data = payload;
		view.payload.len = n;
		err = signed_state_sign(key, &view, sig);
		s.logical_time_ns = view.logical_time_ns;
		s.event_id = (char *)view.event_id;
		s.key_id = (char *)key_id;
		s.payload.data = (uint8_t *)payload;
		s.payload.len = n;
		s.signature.data = sig;
		s.signature.len = sizeof(sig);
		g.hops = 1;
		g.ttl = 3;
		g.origin_node_id = (char *)id;
		s.gossip = &g;
		if (err == 0)
			err = proto_encode(&s.base, &encoded, &len);
		if (err == 0)
			err = datagram_encode_gossip(encoded, len, &datagram, &datagram_len);
		for (int i = 0; i < 2 && err == 0; i++) {
			if (sendto(fd, datagram, datagram_len, 0, to, to_len) < 0)
				err = -errno;
			usleep(100000);
		}
		free(encoded);
		free(datagram);
		return err;
	}
	if (strcmp(kind, "bad-report") == 0) {
		uint8_t *a = NULL, *b = NULL, *report = NULL;
		size_t a_len = 0, b_len = 0, report_len = 0;
		uint64_t sequence = (uint64_t)(clock_now_ns(CLOCK_REALTIME) / 1000);
		int64_t t = clock_now_ns(CLOCK_REALTIME);

		err = attestation_encoded(key, key_id, id, sequence, t, &a, &a_len);
		if (err == 0)
			err = attestation_encoded(key, key_id, id, sequence, t + 5000000, &b,
						  &b_len);
		/* Break the last byte of the first one's signature (its encoding ends with the
		 * signature's 64 bytes and then the key id field: find the signature instead).
		 */
		if (err == 0) {
			Uml001__SignedState *sa = uml001__signed_state__unpack(NULL, a_len, a);

			if (sa == NULL) {
				err = -EINVAL;
			} else {
				sa->signature.data[0] ^= 1;
				free(a);
				err = proto_encode(&sa->base, &a, &a_len);
				uml001__signed_state__free_unpacked(sa, NULL);
			}
		}
		if (err == 0)
			err = malfeasance_report_encode(id, sequence, a, a_len, b, b_len, id,
							&report, &report_len);
		if (err == 0)
			err = gossip_send_one(fd, key, key_id, "uml001.gossip.malfeasance",
					      report, report_len, 1, 3, id, to, to_len);
		free(a);
		free(b);
		free(report);
		return err;
	}
	if (strcmp(kind, "flood") == 0) {
		/* Paced by the clock, not by sleeps: on a busy machine a sleep of 250 us takes
		 * far longer, and the flood would fall under the rate limit it tests. */
		int64_t start = clock_now_ns(CLOCK_MONOTONIC);

		for (long i = 0; i < count && err == 0; i++) {
			int64_t ahead = start + i * 250000 - clock_now_ns(CLOCK_MONOTONIC);

			if (ahead > 0)
				usleep((useconds_t)(ahead / 1000));
			n = (size_t)snprintf(text, sizeof(text), "liar %s flood %ld %" PRId64,
					     id, i, clock_now_ns(CLOCK_REALTIME));
			err = gossip_send_one(fd, other, key_id, QUORUM_EVENT_SYNC_ROUND,
					      payload, n, 1, 3, id, to, to_len);
		}
		return err;
	}
	return -EINVAL;
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "id", required_argument, NULL, 'i' },
		{ "key", required_argument, NULL, 'k' },
		{ "listen", required_argument, NULL, 'l' },
		{ "mode", required_argument, NULL, 'm' },
		{ "offset-ns", required_argument, NULL, 'o' },
		{ "delay-ms", required_argument, NULL, 'd' },
		{ "protocol", required_argument, NULL, 'p' },
		{ "to", required_argument, NULL, 't' },
		{ "gossip-kind", required_argument, NULL, 'g' },
		{ "target-id", required_argument, NULL, 'T' },
		{ "count", required_argument, NULL, 'c' },
		{ "radius-ns", required_argument, NULL, 'r' },
		{ "dispersion-ns", required_argument, NULL, 'D' },
		{ NULL, 0, NULL, 0 },
	};
	int64_t radius_ns = 1000, dispersion_ns = 15259;
	const char *id = NULL, *key_path = NULL, *listen_at = NULL, *mode = "honest";
	const char *to_at = NULL, *gossip_kind = "forged", *target_id = "node-1";
	long count = 1000;
	struct {
		struct sockaddr_storage addr;
		socklen_t len;
		uint64_t asked;
	} askers[16];
	size_t asker_count = 0;
	uint64_t reuse_base = (uint64_t)(clock_now_ns(CLOCK_REALTIME) / 1000);
	int64_t offset = 1000000000, delay_ms = 2000;
	struct addrinfo hints = { .ai_socktype = SOCK_DGRAM,
				  .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE };
	struct addrinfo *res = NULL;
	char host[64], port[16], why[ERRBUF_SIZE], key_id_text[KEY_ID_HEX_LEN + 1];
	char other_id[KEY_ID_HEX_LEN + 1];
	EVP_PKEY *key = NULL, *other = NULL;
	uint8_t *replay = NULL;
	size_t replay_len = 0;
	uint64_t sequence = (uint64_t)(clock_now_ns(CLOCK_REALTIME) / 1000);
	const char *colon;
	int opt, fd, known = 0, ntp = 0;

	while ((opt = getopt_long(argc, argv, "i:k:l:m:o:d:p:t:g:T:c:r:D:", options, NULL)) !=
	       -1) {
		switch (opt) {
		case 'i':
			id = optarg;
			break;
		case 'k':
			key_path = optarg;
			break;
		case 'l':
			listen_at = optarg;
			break;
		case 'm':
			mode = optarg;
			break;
		case 'o':
			offset = strtoll(optarg, NULL, 10);
			break;
		case 'd':
			delay_ms = strtoll(optarg, NULL, 10);
			break;
		case 'p':
			ntp = strcmp(optarg, "ntp") == 0;
			break;
		case 't':
			to_at = optarg;
			break;
		case 'g':
			gossip_kind = optarg;
			break;
		case 'T':
			target_id = optarg;
			break;
		case 'c':
			count = strtol(optarg, NULL, 10);
			break;
		case 'r':
			radius_ns = strtoll(optarg, NULL, 10);
			break;
		case 'D':
			dispersion_ns = strtoll(optarg, NULL, 10);
			break;
		default:
			return 2;
		}
	}
	for (size_t i = 0; modes[i] != NULL; i++)
		known |= strcmp(modes[i], mode) == 0;
	colon = listen_at != NULL ? strrchr(listen_at, ':') : NULL;
	if (id == NULL || key_path == NULL || colon == NULL || !known ||
	    (size_t)(colon - listen_at) >= sizeof(host)) {
		fprintf(stderr,
			"usage: liar --id ID --key KEY.key --listen ADDR:PORT --mode MODE\n");
		return 2;
	}
	memcpy(host, listen_at, (size_t)(colon - listen_at));
	host[colon - listen_at] = '\0';
	snprintf(port, sizeof(port), "%s", colon + 1);
	if (key_load_private(key_path, &key, why, sizeof(why)) != 0) {
		fprintf(stderr, "liar: %s\n", why);
		return 1;
	}
	key_id(key, key_id_text);
	other = key_generate();
	key_id(other, other_id);
	if (getaddrinfo(host, port, &hints, &res) != 0)
		return 1;
	fd = socket(res->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, res->ai_addr, res->ai_addrlen) != 0) {
		fprintf(stderr, "liar: cannot bind %s: %s\n", listen_at, strerror(errno));
		return 1;
	}
	freeaddrinfo(res);
	if (strcmp(mode, "gossip-forge") == 0) {
		const char *c = to_at != NULL ? strrchr(to_at, ':') : NULL;
		int known_kind = 0;

		for (size_t i = 0; gossip_kinds[i] != NULL; i++)
			known_kind |= strcmp(gossip_kinds[i], gossip_kind) == 0;
		if (c == NULL || !known_kind || (size_t)(c - to_at) >= sizeof(host)) {
			fprintf(stderr, "usage: liar ... --mode gossip-forge --to ADDR:PORT "
					"--gossip-kind KIND [--target-id ID] [--count N]\n");
			return 2;
		}
		memcpy(host, to_at, (size_t)(c - to_at));
		host[c - to_at] = '\0';
		snprintf(port, sizeof(port), "%s", c + 1);
		hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
		if (getaddrinfo(host, port, &hints, &res) != 0)
			return 1;
		opt = gossip_forge(fd, key, key_id_text, other, id, gossip_kind, target_id,
				   count, res->ai_addr, res->ai_addrlen);
		freeaddrinfo(res);
		if (opt != 0)
			fprintf(stderr, "liar: gossip-forge %s: %s\n", gossip_kind,
				strerror(-opt));
		EVP_PKEY_free(other);
		EVP_PKEY_free(key);
		close(fd);
		return opt != 0;
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	fprintf(stderr, "liar: %s on %s, mode %s\n", id, listen_at, mode);

	while (!stopping) {
		uint8_t buf[DATAGRAM_MAX + 1];
		struct sockaddr_storage from;
		socklen_t from_len = sizeof(from);
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&pfd, 1, send_due(fd)) <= 0)
			continue;
		n = recvfrom(fd, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&from,
			     &from_len);
		int64_t arrived = clock_now_ns(CLOCK_REALTIME),
			arrived_mono = clock_now_ns(CLOCK_MONOTONIC);
		struct quorum_attestation fields = { 0 };
		struct datagram d;
		const char *reason;

		if (ntp) {
			if (n >= 48 && (buf[0] & 7) == 3 && strcmp(mode, "silent") != 0)
				ntp_answer(fd, buf, arrived,
					   strcmp(mode, "offset") == 0 ? offset : 0,
					   strcmp(mode, "kod") == 0, dispersion_ns,
					   (struct sockaddr *)&from, from_len);
			continue;
		}
		if (n < 0 || datagram_decode(buf, (size_t)n, &d, &reason) != 0)
			continue;
		if (d.kind != DATAGRAM_TIME_REQUEST || strcmp(mode, "silent") == 0) {
			datagram_release(&d);
			continue;
		}
		if (strcmp(mode, "replay") == 0 && replay != NULL) {
			sendto(fd, replay, replay_len, 0, (struct sockaddr *)&from, from_len);
			datagram_release(&d);
			continue;
		}
		fields.authority_id =
			strcmp(mode, "stranger") == 0 ? "nobody-configured-me" : id;
		fields.key_id = key_id_text;
		fields.nonce.data = d.nonce;
		fields.nonce.len = QUORUM_NONCE_LEN;
		fields.midpoint_ns = arrived;
		fields.radius_ns = (uint64_t)radius_ns;
		fields.sequence = strcmp(mode, "stale") == 0 ? 1 : sequence++;
		if (strcmp(mode, "reuse-sequence") == 0) {
			/* Each asker's k-th question gets sequence base + k: every asker sees
			 * its own increasing sequence; a third party that sees two askers'
			 * rounds sees one sequence signed twice. */
			size_t a = 0;

			while (a < asker_count &&
			       (askers[a].len != from_len ||
				memcmp(&askers[a].addr, &from, from_len) != 0))
				a++;
			if (a == asker_count &&
			    asker_count < sizeof(askers) / sizeof(askers[0])) {
				memcpy(&askers[a].addr, &from, from_len);
				askers[a].len = from_len;
				askers[a].asked = 0;
				asker_count++;
			}
			if (a < asker_count)
				fields.sequence = reuse_base + ++askers[a].asked;
		}
		fields.status = QUORUM_AUTHORITY_SYNCHRONISED;
		if (strcmp(mode, "offset") == 0) {
			fields.midpoint_ns += offset;
		} else if (strcmp(mode, "random") == 0) {
			uint64_t r;

			RAND_bytes((uint8_t *)&r, sizeof(r));
			fields.midpoint_ns +=
				(int64_t)(r % (uint64_t)(2 * offset + 1)) - offset;
		}
		fields.processing_ns = (uint64_t)(clock_now_ns(CLOCK_MONOTONIC) - arrived_mono);
		if (strcmp(mode, "late") == 0) {
			send_answer_after(fd, key, key_id_text, &fields,
					  (struct sockaddr *)&from, from_len,
					  delay_ms * 1000000);
		} else if (strcmp(mode, "forge") == 0) {
			send_answer(fd, other, key_id_text, &fields, (struct sockaddr *)&from,
				    from_len);
		} else if (strcmp(mode, "wrong-key-id") == 0) {
			fields.key_id = other_id;
			send_answer(fd, key, other_id, &fields, (struct sockaddr *)&from,
				    from_len);
		} else {
			send_answer(fd, key, key_id_text, &fields, (struct sockaddr *)&from,
				    from_len);
			if (strcmp(mode, "duplicate") == 0) {
				send_answer(fd, key, key_id_text, &fields,
					    (struct sockaddr *)&from, from_len);
			} else if (strcmp(mode, "equivocate") == 0) {
				fields.midpoint_ns += 5000000; /* same sequence, another time */
				send_answer(fd, key, key_id_text, &fields,
					    (struct sockaddr *)&from, from_len);
			}
		}
		if (strcmp(mode, "replay") == 0 && replay == NULL) {
			uint8_t *out;
			size_t len;

			if (attestation_response(key, key_id_text, &fields, &out, &len) == 0) {
				replay = out;
				replay_len = len;
			}
		}
		datagram_release(&d);
	}
	for (int i = 0; i < LATE_MAX; i++)
		free(late[i].data);
	free(replay);
	EVP_PKEY_free(other);
	EVP_PKEY_free(key);
	close(fd);
	return 0;
}
