/* bench-ntp.c -- NTP load: udploop.h's closed loop (SOCKETS sockets each keep WINDOW
 * requests in flight; a request unanswered after 200 ms counts as lost and is replaced)
 * against HOST:PORT for SECONDS, and prints the answers per second and the loss. Used by
 * bench/ntp-throughput.sh against quorumd's NTP transport and
 * chronyd in the same run. Usage: bench-ntp HOST PORT [SECONDS] [SIZE]: SIZE pads each
 * request with zeros to SIZE bytes (48-512, default 48), to load bench/ntp-reflector with
 * datagrams the size of NTS requests. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include "udploop.h"

#define WINDOW	    UDPLOOP_WINDOW
#define REQUEST_MAX UDPLOOP_PKT_MAX

static size_t request_size = 48;

/* Sends COUNT requests on FD in one sendmmsg (transmit timestamps *ID, *ID + 1, ...).
 * RETURN VALUE: how many the kernel took. */
static int send_batch(int fd, uint64_t *id, int count)
{
	static uint8_t reqs[WINDOW][REQUEST_MAX];
	struct mmsghdr msgs[WINDOW];
	struct iovec iov[WINDOW];
	int sent;

	for (int k = 0; k < count; k++) {
		uint64_t v = (*id)++;

		memset(reqs[k], 0, request_size);
		reqs[k][0] = 0x23; /* version 4, mode 3 */
		for (int i = 0; i < 8; i++)
			reqs[k][40 + i] = (uint8_t)(v >> (56 - 8 * i));
		iov[k] = (struct iovec){ reqs[k], request_size };
		msgs[k].msg_hdr = (struct msghdr){ .msg_iov = &iov[k], .msg_iovlen = 1 };
	}
	sent = sendmmsg(fd, msgs, (unsigned)count, MSG_DONTWAIT);
	return sent < 0 ? 0 : sent;
}

static int ntp_send(void *arg, int fd, int count)
{
	return send_batch(fd, arg, count);
}

static int ntp_answer(void *arg, const uint8_t *pkt, size_t len)
{
	(void)arg;
	return len >= 48 && pkt[1] != 0;
}

int main(int argc, char **argv)
{
	struct sockaddr_in to = { .sin_family = AF_INET };
	uint64_t id = 1;
	struct udploop loop = { .send = ntp_send, .answer = ntp_answer, .arg = &id };
	double seconds = argc > 3 ? atof(argv[3]) : 3.0;

	if (argc > 4)
		request_size = (size_t)atoi(argv[4]);
	if (argc < 3 || inet_pton(AF_INET, argv[1], &to.sin_addr) != 1 || request_size < 48 ||
	    request_size > REQUEST_MAX) {
		fprintf(stderr, "usage: bench-ntp HOST PORT [SECONDS] [SIZE]\n");
		return 2;
	}
	to.sin_port = htons((uint16_t)atoi(argv[2]));
	if (udploop_run(&loop, &to, seconds, "bench-ntp") != 0)
		return 1;
	printf("%.0f answers/s over %.1f s (%llu answered, %llu sent, %llu lost, %.2f%% "
	       "loss)\n",
	       (double)loop.answered / loop.elapsed_s, seconds,
	       (unsigned long long)loop.answered, (unsigned long long)loop.sent,
	       (unsigned long long)loop.lost,
	       loop.sent ? 100.0 * (double)loop.lost / (double)loop.sent : 0.0);
	return 0;
}
