/* ntp-flood.c -- an NTP flood for the overload test: valid NTPv4 mode-3 requests sent with
 * sendmmsg from several sockets (each its own source port, optionally spread over several
 * loopback source addresses) as fast as possible or at a given rate, for SECONDS at most;
 * prints what it sent and what came back (time answers, RATE kisses, unsynchronised ones).
 * Usage: ntp-flood [--sockets N] [--from ADDR --sources K] [--rate PPS] HOST PORT SECONDS */
#define _GNU_SOURCE /* recvmmsg, sendmmsg */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "clocks.h"

#define BATCH	    64
#define SOCKETS_MAX 256
#define DRAIN_NS    200000000LL /* answers still on their way after the last request */

struct counts {
	uint64_t sent, unsent, answers, time_answers, kisses_rate, unsynchronised, other;
};

/* A socket bound to SOURCE (any port) and connected to TO; -1 on error (printed). */
static int open_socket(const struct sockaddr_in *source, const struct sockaddr_in *to)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int size = 4 << 20;

	if (fd < 0) {
		perror("ntp-flood: socket");
		return -1;
	}
	/* Room for the answers that come back while we are busy sending. */
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	if ((source != NULL &&
	     bind(fd, (const struct sockaddr *)source, sizeof(*source)) != 0) ||
	    connect(fd, (const struct sockaddr *)to, sizeof(*to)) != 0) {
		perror("ntp-flood: bind/connect");
		close(fd);
		return -1;
	}
	return fd;
}

/* Sends one batch of requests on FD, their transmit timestamps counting from *ID. */
static void send_batch(int fd, uint64_t *id, int count, struct counts *c)
{
	static uint8_t req[BATCH][48];
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	int n;

	for (int i = 0; i < count; i++) {
		uint64_t v = (*id)++;

		memset(req[i], 0, sizeof(req[i]));
		req[i][0] = 0x23; /* LI 0, version 4, mode 3 (client) */
		req[i][2] = 6;	  /* poll 64 s, as a client would say */
		for (int b = 0; b < 8; b++)
			req[i][40 + b] = (uint8_t)(v >> (56 - 8 * b));
		iov[i] = (struct iovec){ req[i], sizeof(req[i]) };
		msgs[i].msg_hdr = (struct msghdr){ .msg_iov = &iov[i], .msg_iovlen = 1 };
	}
	n = sendmmsg(fd, msgs, (unsigned)count, MSG_DONTWAIT);
	if (n < 0)
		n = 0; /* a full socket buffer: those requests are not sent at all */
	c->sent += (uint64_t)n;
	c->unsent += (uint64_t)(count - n);
}

/* Reads every answer waiting on FD and classifies it. */
static void drain_answers(int fd, struct counts *c)
{
	static uint8_t buf[BATCH][128];
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	int n;

	do {
		for (int i = 0; i < BATCH; i++) {
			iov[i] = (struct iovec){ buf[i], sizeof(buf[i]) };
			msgs[i].msg_hdr =
				(struct msghdr){ .msg_iov = &iov[i], .msg_iovlen = 1 };
		}
		n = recvmmsg(fd, msgs, BATCH, MSG_DONTWAIT, NULL);
		for (int i = 0; i < n; i++) {
			const uint8_t *p = buf[i];

			c->answers++;
			if (msgs[i].msg_len < 48 || (p[0] & 7) != 4)
				c->other++;
			else if (p[1] != 0)
				c->time_answers++;
			else if (memcmp(p + 12, "RATE", 4) == 0)
				c->kisses_rate++;
			else
				c->unsynchronised++;
		}
	} while (n == BATCH);
}

static void usage(void)
{
	fprintf(stderr, "usage: ntp-flood [--sockets N] [--from ADDR --sources K] [--rate PPS] "
			"HOST PORT SECONDS\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "sockets", required_argument, NULL, 'n' },
		{ "from", required_argument, NULL, 'f' },
		{ "sources", required_argument, NULL, 'k' },
		{ "rate", required_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 },
	};
	struct sockaddr_in to = { .sin_family = AF_INET }, from = { .sin_family = AF_INET };
	int fds[SOCKETS_MAX], sockets = 8, sources = 0, opt;
	double rate = 0, seconds;
	struct counts c = { 0 };
	uint64_t id = 1;
	int64_t start, end;

	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		switch (opt) {
		case 'n':
			sockets = atoi(optarg);
			break;
		case 'f':
			if (inet_pton(AF_INET, optarg, &from.sin_addr) != 1)
				usage();
			break;
		case 'k':
			sources = atoi(optarg);
			break;
		case 'r':
			rate = atof(optarg);
			break;
		default:
			usage();
		}
	}
	if (argc - optind != 3 || inet_pton(AF_INET, argv[optind], &to.sin_addr) != 1)
		usage();
	to.sin_port = htons((uint16_t)atoi(argv[optind + 1]));
	seconds = atof(argv[optind + 2]);
	if (sources > 0 && from.sin_addr.s_addr == 0)
		usage();
	if (sockets < sources)
		sockets = sources;
	if (sockets < 1 || sockets > SOCKETS_MAX || sources < 0 || sources > 250 ||
	    seconds <= 0 || seconds > 600)
		usage();
	for (int i = 0; i < sockets; i++) {
		struct sockaddr_in source = from;

		/* Socket i speaks from FROM + (i mod K): K addresses, several ports each. */
		if (sources > 0)
			source.sin_addr.s_addr =
				htonl(ntohl(from.sin_addr.s_addr) + (uint32_t)(i % sources));
		fds[i] = open_socket(sources > 0 ? &source : NULL, &to);
		if (fds[i] < 0)
			return 1;
	}
	start = mono_now_ns();
	end = start + (int64_t)(seconds * 1e9);
	for (int64_t t = start; t < end; t = mono_now_ns()) {
		for (int i = 0; i < sockets; i++) {
			int count = BATCH;

			if (rate > 0) { /* as many as the rate allows by now, a batch at most */
				double due = rate * (double)(t - start) / 1e9 - (double)c.sent -
					     (double)c.unsent;

				count = due < 1 ? 0 : due > BATCH ? BATCH : (int)due;
			}
			if (count > 0)
				send_batch(fds[i], &id, count, &c);
			drain_answers(fds[i], &c);
		}
		if (rate > 0) { /* paced: no need to spin flat out */
			struct timespec pause = { 0, 100000 };

			nanosleep(&pause, NULL);
		}
	}
	for (int64_t t = mono_now_ns(); mono_now_ns() - t < DRAIN_NS;) {
		struct timespec pause = { 0, 5000000 };

		for (int i = 0; i < sockets; i++)
			drain_answers(fds[i], &c);
		nanosleep(&pause, NULL);
	}
	seconds = (double)(mono_now_ns() - start - DRAIN_NS) / 1e9;
	printf("sent=%" PRIu64 " unsent=%" PRIu64 " answers=%" PRIu64 " time_answers=%" PRIu64
	       " rate_kisses=%" PRIu64 " unsynchronised=%" PRIu64 " other=%" PRIu64
	       " seconds=%.2f sent_per_s=%.0f answers_per_s=%.0f sockets=%d sources=%d\n",
	       c.sent, c.unsent, c.answers, c.time_answers, c.kisses_rate, c.unsynchronised,
	       c.other, seconds, (double)c.sent / seconds, (double)c.answers / seconds, sockets,
	       sources);
	for (int i = 0; i < sockets; i++)
		close(fds[i]);
	return 0;
}
