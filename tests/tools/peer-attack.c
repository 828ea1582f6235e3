/* peer-attack.c -- a test-only attacker on the peer link, holding no key: it floods a node
 * with time requests, forges or replays answers that name the node's authorities, re-asks an
 * authority with a nonce sniffed off the wire and forwards the second answer, and measures
 * what each kind of request gets back (amplification). The end-to-end tests run it against a
 * local quorum and check that none of it quarantines an honest authority, stops a node
 * serving time, writes per-datagram audit records or amplifies. Never installed. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "keys-internal.h"
#include "protodecode-internal.h"
#include "timecodec-internal.h"
#include "clocks.h"

#define AUTHORITIES_MAX 16

/* A configured authority of the victim: its id and peer-link address. */
struct target {
	char id[QUORUM_NODE_ID_MAX + 1];
	struct sockaddr_in address;
};

struct options {
	const char *mode;
	struct sockaddr_in victim;
	struct target authorities[AUTHORITIES_MAX];
	size_t authority_count;
	double rate;	  /* datagrams per second (flood, forge) */
	double seconds;	  /* how long */
	const char *from; /* the address to send from (default 127.0.0.200) */
};

static int parse_address(const char *text, struct sockaddr_in *out)
{
	char host[64];
	const char *colon = strrchr(text, ':');

	if (colon == NULL || (size_t)(colon - text) >= sizeof(host))
		return -1;
	memcpy(host, text, (size_t)(colon - text));
	host[colon - text] = '\0';
	memset(out, 0, sizeof(*out));
	out->sin_family = AF_INET;
	out->sin_port = htons((uint16_t)atoi(colon + 1));
	return inet_pton(AF_INET, host, &out->sin_addr) == 1 ? 0 : -1;
}

/* ID@ADDR:PORT */
static int parse_target(const char *text, struct target *out)
{
	const char *at = strchr(text, '@');

	if (at == NULL || (size_t)(at - text) > QUORUM_NODE_ID_MAX)
		return -1;
	memcpy(out->id, text, (size_t)(at - text));
	out->id[at - text] = '\0';
	return parse_address(at + 1, &out->address);
}

static int udp_socket(const char *from)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || inet_pton(AF_INET, from, &a.sin_addr) != 1 ||
	    bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
		fprintf(stderr, "peer-attack: cannot bind %s: %s\n", from, strerror(errno));
		exit(2);
	}
	return fd;
}

/* A padded request for AUTHORITY_ID carrying NONCE into BUF; its length. */
static size_t request(const uint8_t nonce[QUORUM_NONCE_LEN], const char *authority_id,
		      uint8_t *buf, size_t size) /* AUTHORITY_ID NULL: the longest id */
{
	int n = datagram_encode_request(nonce, "peer-attack",
					attestation_response_max_len(authority_id), buf, size);

	if (n < 0) {
		fprintf(stderr, "peer-attack: cannot encode a request\n");
		exit(2);
	}
	return (size_t)n;
}

/* Waits up to TIMEOUT_MS for one datagram on FD into BUF; its length, or -1. */
static ssize_t receive(int fd, uint8_t *buf, size_t size, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	if (poll(&p, 1, timeout_ms) != 1)
		return -1;
	return recv(fd, buf, size, MSG_DONTWAIT);
}

/* Asks T with NONCE and waits for its genuine signed answer into BUF; its length or -1. */
static ssize_t ask(int fd, const struct target *t, const uint8_t nonce[QUORUM_NONCE_LEN],
		   uint8_t *buf, size_t size)
{
	uint8_t req[1024];
	size_t len = request(nonce, t->id, req, sizeof(req));

	if (sendto(fd, req, len, 0, (const struct sockaddr *)&t->address, sizeof(t->address)) <
	    0)
		return -1;
	return receive(fd, buf, size, 200);
}

/* Paces a loop at RATE per second: sleeps until the I-th event is due after START. */
static void pace(int64_t start, long i, double rate)
{
	int64_t due = start + (int64_t)((double)i * 1e9 / rate), now = mono_now_ns();

	if (due > now) {
		struct timespec ts = { .tv_sec = (due - now) / 1000000000,
				       .tv_nsec = (due - now) % 1000000000 };

		nanosleep(&ts, NULL);
	}
}

/* --mode flood: padded time requests to the victim at --rate for --seconds. */
static int flood(const struct options *o)
{
	int fd = udp_socket(o->from);
	uint8_t nonce[QUORUM_NONCE_LEN] = { 0 }, buf[1024], in[DATAGRAM_MAX];
	int64_t start = mono_now_ns(), end = start + (int64_t)(o->seconds * 1e9);
	long sent = 0, answers = 0;

	for (long i = 0; mono_now_ns() < end; i++) {
		size_t len;

		memcpy(nonce, &i, sizeof(i)); /* a different nonce each time */
		len = request(nonce, NULL, buf, sizeof(buf));
		if (sendto(fd, buf, len, 0, (const struct sockaddr *)&o->victim,
			   sizeof(o->victim)) >= 0)
			sent++;
		while (recv(fd, in, sizeof(in), MSG_DONTWAIT) > 0)
			answers++;
		pace(start, i, o->rate);
	}
	while (receive(fd, in, sizeof(in), 100) > 0)
		answers++;
	printf("flood sent=%ld answers=%ld seconds=%.1f\n", sent, answers, o->seconds);
	close(fd);
	return 0;
}

/* ANSWER (LEN bytes, a genuine answer datagram) with one bit of its signature flipped, into
 * OUT: what it says still names the authority, but no key of it verifies it. Its length, or
 * -1. */
static ssize_t forged_copy(const uint8_t *answer, size_t len, uint8_t *out, size_t size)
{
	struct datagram d;
	const char *reason;
	uint8_t *bytes;
	size_t n;

	if (datagram_decode(answer, len, &d, &reason) != 0 || d.kind != DATAGRAM_TIME_RESPONSE)
		return -1;
	d.message->time_response->signature.data[7] ^= 0x10;
	if (proto_encode(&d.message->base, &bytes, &n) != 0 || n > size) {
		datagram_release(&d);
		return -1;
	}
	memcpy(out, bytes, n);
	free(bytes);
	datagram_release(&d);
	return (ssize_t)n;
}

/* ANSWER (a genuine answer datagram) made to answer NONCE instead, its signature left as it
 * was (so no key verifies it), into OUT. Its length, or -1. */
static ssize_t forged_for_nonce(const uint8_t *answer, size_t len,
				const uint8_t nonce[QUORUM_NONCE_LEN], uint8_t *out,
				size_t size)
{
	Uml001__TimeAttestation *t;
	struct datagram d;
	const char *reason;
	uint8_t *payload = NULL, *bytes = NULL;
	size_t payload_len, n;
	ssize_t result = -1;

	if (datagram_decode(answer, len, &d, &reason) != 0 || d.kind != DATAGRAM_TIME_RESPONSE)
		return -1;
	t = uml001__time_attestation__unpack(NULL, d.message->time_response->payload.len,
					     d.message->time_response->payload.data);
	if (t != NULL && t->nonce.len == QUORUM_NONCE_LEN) {
		memcpy(t->nonce.data, nonce, QUORUM_NONCE_LEN);
		if (proto_encode(&t->base, &payload, &payload_len) == 0) {
			free(d.message->time_response->payload.data);
			d.message->time_response->payload.data = payload;
			d.message->time_response->payload.len = payload_len;
			if (proto_encode(&d.message->base, &bytes, &n) == 0 && n <= size) {
				memcpy(out, bytes, n);
				result = (ssize_t)n;
			}
			free(bytes);
		}
	}
	if (t != NULL)
		uml001__time_attestation__free_unpacked(t, NULL);
	datagram_release(&d);
	return result;
}

/* --mode forge: per authority, answers naming it that no key of its verifies (a genuine one
 * with a flipped signature byte), and genuine answers of it to other nonces (asked by this
 * tool: anyone may ask), sent to the victim at --rate each. */
static int forge(const struct options *o)
{
	int fd = udp_socket(o->from);
	uint8_t genuine[AUTHORITIES_MAX][DATAGRAM_MAX], in[DATAGRAM_MAX];
	size_t genuine_len[AUTHORITIES_MAX] = { 0 };
	int64_t start = mono_now_ns(), end = start + (int64_t)(o->seconds * 1e9);
	long forged = 0, replayed = 0;

	for (long i = 0; mono_now_ns() < end; i++) {
		for (size_t k = 0; k < o->authority_count; k++) {
			const struct target *t = &o->authorities[k];
			uint8_t nonce[QUORUM_NONCE_LEN], copy[DATAGRAM_MAX];
			ssize_t n;

			/* a fresh genuine answer every 10th time (the authority's per-source
			 * budget is not the point here) */
			if (i % 10 == 0 || genuine_len[k] == 0) {
				RAND_bytes(nonce, sizeof(nonce));
				n = ask(fd, t, nonce, in, sizeof(in));
				if (n > 0) {
					memcpy(genuine[k], in, (size_t)n);
					genuine_len[k] = (size_t)n;
				}
			}
			if (genuine_len[k] == 0)
				continue;
			if (sendto(fd, genuine[k], genuine_len[k], 0,
				   (const struct sockaddr *)&o->victim, sizeof(o->victim)) >= 0)
				replayed++;
			n = forged_copy(genuine[k], genuine_len[k], copy, sizeof(copy));
			if (n > 0 &&
			    sendto(fd, copy, (size_t)n, 0, (const struct sockaddr *)&o->victim,
				   sizeof(o->victim)) >= 0)
				forged++;
		}
		while (recv(fd, in, sizeof(in), MSG_DONTWAIT) > 0)
			;
		pace(start, i, o->rate);
	}
	printf("forge forged=%ld replayed=%ld authorities=%zu seconds=%.1f\n", forged, replayed,
	       o->authority_count, o->seconds);
	close(fd);
	return 0;
}

/* The nonce of a time request in IP packet PKT (LEN bytes) from the victim to one of the
 * authorities; *WHICH its index. 0, or -1 for any other packet. */
static int sniffed_request(const struct options *o, const uint8_t *pkt, size_t len,
			   uint8_t nonce[QUORUM_NONCE_LEN], size_t *which)
{
	const struct iphdr *ip = (const struct iphdr *)pkt;
	const struct udphdr *udp;
	struct datagram d;
	const char *reason;
	size_t ihl;

	if (len < sizeof(*ip) || ip->version != 4 || ip->protocol != IPPROTO_UDP)
		return -1;
	ihl = (size_t)ip->ihl * 4;
	if (len < ihl + sizeof(*udp) || ip->saddr != o->victim.sin_addr.s_addr ||
	    ((const struct udphdr *)(pkt + ihl))->source != o->victim.sin_port)
		return -1;
	udp = (const struct udphdr *)(pkt + ihl);
	for (size_t k = 0; k < o->authority_count; k++) {
		if (ip->daddr != o->authorities[k].address.sin_addr.s_addr ||
		    udp->dest != o->authorities[k].address.sin_port)
			continue;
		if (datagram_decode(pkt + ihl + sizeof(*udp), len - ihl - sizeof(*udp), &d,
				    &reason) != 0)
			return -1;
		if (d.kind != DATAGRAM_TIME_REQUEST) {
			datagram_release(&d);
			return -1;
		}
		memcpy(nonce, d.nonce, QUORUM_NONCE_LEN);
		datagram_release(&d);
		*which = k;
		return 0;
	}
	return -1;
}

/* --mode reask: an on-path attacker (root, a packet socket on lo) who sees the victim ask an
 * authority sends the victim at once a forged answer carrying that nonce, then asks the
 * authority again with it and forwards the second, genuinely signed answer: the one counts
 * against nobody, the other is a duplicate, never evidence of equivocation. */
static int reask(const struct options *o)
{
	int fd = udp_socket(o->from);
	int raw = socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, htons(ETH_P_IP));
	struct sockaddr_ll ll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_IP) };
	int64_t end = mono_now_ns() + (int64_t)(o->seconds * 1e9);
	uint8_t pkt[65536], answer[DATAGRAM_MAX], last[AUTHORITIES_MAX][DATAGRAM_MAX];
	size_t last_len[AUTHORITIES_MAX] = { 0 };
	long seen = 0, forwarded = 0, forged = 0;

	ll.sll_ifindex = (int)if_nametoindex("lo");
	if (raw < 0 || ll.sll_ifindex == 0 ||
	    bind(raw, (struct sockaddr *)&ll, sizeof(ll)) != 0) {
		fprintf(stderr, "peer-attack: no packet socket on lo (root?): %s\n",
			strerror(errno));
		return 2;
	}
	while (mono_now_ns() < end) {
		struct pollfd p = { .fd = raw, .events = POLLIN };
		struct sockaddr_ll from;
		socklen_t from_len = sizeof(from);
		uint8_t nonce[QUORUM_NONCE_LEN];
		size_t which;
		ssize_t n;

		if (poll(&p, 1, 100) != 1)
			continue;
		n = recvfrom(raw, pkt, sizeof(pkt), MSG_DONTWAIT, (struct sockaddr *)&from,
			     &from_len);
		/* loopback shows each packet twice (out and in): take the incoming copy */
		if (n <= 0 || from.sll_pkttype == PACKET_OUTGOING ||
		    sniffed_request(o, pkt, (size_t)n, nonce, &which) != 0)
			continue;
		seen++;
		/* at once, a forgery carrying the open nonce (the authority's previous answer
		 * with the nonce swapped: racing its genuine answer, it costs the victim a
		 * signature check and must count against nobody) ... */
		if (last_len[which] > 0) {
			uint8_t copy[DATAGRAM_MAX];
			ssize_t m = forged_for_nonce(last[which], last_len[which], nonce, copy,
						     sizeof(copy));

			if (m > 0 &&
			    sendto(fd, copy, (size_t)m, 0, (const struct sockaddr *)&o->victim,
				   sizeof(o->victim)) >= 0)
				forged++;
		}
		/* ... then the authority's second, genuine answer to that nonce */
		n = ask(fd, &o->authorities[which], nonce, answer, sizeof(answer));
		if (n <= 0)
			continue;
		memcpy(last[which], answer, (size_t)n);
		last_len[which] = (size_t)n;
		if (sendto(fd, answer, (size_t)n, 0, (const struct sockaddr *)&o->victim,
			   sizeof(o->victim)) >= 0)
			forwarded++;
	}
	printf("reask seen=%ld forwarded=%ld forged=%ld seconds=%.1f\n", seen, forwarded,
	       forged, o->seconds);
	close(raw);
	close(fd);
	return seen > 0 && forwarded > 0 ? 0 : 1;
}

/* --mode amplify: each kind of datagram once to the victim (an unpadded request, one padded
 * for the victim's id, a genuine answer of the victim sent back to it, a gossip datagram);
 * prints what comes back per kind. Exit status 1 when any answer outweighs its request. */
static int amplify(const struct options *o)
{
	static const uint8_t gossip[] = { 0x1a, 0x05, 0x12, 0x03, 'x', 'y', 'z' };
	struct probe {
		const char *kind;
		uint8_t bytes[DATAGRAM_MAX];
		ssize_t len;
	} probes[4] = { { .kind = "bare-request" },
			{ .kind = "padded-request" },
			{ .kind = "answer" },
			{ .kind = "gossip" } };
	struct target self = { .address = o->victim };
	int fd = udp_socket(o->from), worst = 0;
	uint8_t nonce[QUORUM_NONCE_LEN], in[DATAGRAM_MAX];

	/* the victim's own id, when it is among the authorities given */
	for (size_t k = 0; k < o->authority_count; k++)
		if (o->authorities[k].address.sin_addr.s_addr == o->victim.sin_addr.s_addr &&
		    o->authorities[k].address.sin_port == o->victim.sin_port)
			self = o->authorities[k];
	RAND_bytes(nonce, sizeof(nonce));
	probes[0].len = datagram_encode_request(nonce, "peer-attack", 0, probes[0].bytes,
						sizeof(probes[0].bytes));
	RAND_bytes(nonce, sizeof(nonce));
	probes[1].len = (ssize_t)request(nonce, self.id[0] != '\0' ? self.id : NULL,
					 probes[1].bytes, sizeof(probes[1].bytes));
	RAND_bytes(nonce, sizeof(nonce));
	probes[2].len = ask(fd, &self, nonce, probes[2].bytes, sizeof(probes[2].bytes));
	memcpy(probes[3].bytes, gossip, sizeof(gossip));
	probes[3].len = sizeof(gossip);
	for (size_t i = 0; i < 4; i++) {
		size_t got = 0;
		ssize_t r;

		if (probes[i].len <= 0) {
			printf("amplify kind=%s skipped (no such datagram could be made)\n",
			       probes[i].kind);
			worst = 1;
			continue;
		}
		if (sendto(fd, probes[i].bytes, (size_t)probes[i].len, 0,
			   (const struct sockaddr *)&o->victim, sizeof(o->victim)) < 0)
			return 2;
		while ((r = receive(fd, in, sizeof(in), 300)) > 0)
			got += (size_t)r;
		printf("amplify kind=%s request_bytes=%zd answer_bytes=%zu ratio=%.3f\n",
		       probes[i].kind, probes[i].len, got, (double)got / (double)probes[i].len);
		if (got > (size_t)probes[i].len)
			worst = 1;
	}
	close(fd);
	return worst;
}

int main(int argc, char **argv)
{
	static const struct option long_options[] = {
		{ "mode", required_argument, NULL, 'm' },
		{ "to", required_argument, NULL, 't' },
		{ "authority", required_argument, NULL, 'a' },
		{ "rate", required_argument, NULL, 'r' },
		{ "seconds", required_argument, NULL, 's' },
		{ "from", required_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	struct options o = { .rate = 1000, .seconds = 1, .from = "127.0.0.200" };
	const char *to = NULL;
	int opt;

	while ((opt = getopt_long(argc, argv, "", long_options, NULL)) != -1) {
		if (opt == 'm')
			o.mode = optarg;
		else if (opt == 't')
			to = optarg;
		else if (opt == 'a' && o.authority_count < AUTHORITIES_MAX &&
			 parse_target(optarg, &o.authorities[o.authority_count]) == 0)
			o.authority_count++;
		else if (opt == 'r')
			o.rate = atof(optarg);
		else if (opt == 's')
			o.seconds = atof(optarg);
		else if (opt == 'f')
			o.from = optarg;
		else
			goto usage;
	}
	if (o.mode == NULL || to == NULL || parse_address(to, &o.victim) != 0 || o.rate <= 0)
		goto usage;
	if (strcmp(o.mode, "flood") == 0)
		return flood(&o);
	if (strcmp(o.mode, "forge") == 0 && o.authority_count > 0)
		return forge(&o);
	if (strcmp(o.mode, "reask") == 0 && o.authority_count > 0)
		return reask(&o);
	if (strcmp(o.mode, "amplify") == 0)
		return amplify(&o);
usage:
	fprintf(stderr,
		"usage: peer-attack --mode flood|forge|reask|amplify --to ADDR:PORT "
		"[--authority ID@ADDR:PORT]... [--rate N] [--seconds S] [--from ADDR]\n");
	return 2;
}
