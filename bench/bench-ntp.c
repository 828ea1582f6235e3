/* bench-ntp.c -- NTP load: SOCKETS client sockets each keep WINDOW requests in flight to
 * HOST:PORT for SECONDS (closed loop: an answer releases the next request; a request
 * unanswered after 200 ms counts as lost and is replaced; the replacements go out in one
 * sendmmsg per socket), and prints the answers per
 * second and the loss. Used by bench/ntp-throughput.sh against quorumd's NTP transport and
 * chronyd in the same run. Usage: bench-ntp HOST PORT [SECONDS] [SIZE]: SIZE pads each
 * request with zeros to SIZE bytes (48-512, default 48), to load bench/ntp-reflector with
 * datagrams the size of NTS requests. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "clocks.h"

#define SOCKETS	    16
#define WINDOW	    16
#define LOST_NS	    200000000LL
#define REQUEST_MAX 512

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

int main(int argc, char **argv)
{
	struct sockaddr_in to = { .sin_family = AF_INET };
	struct pollfd pfd[SOCKETS];
	int64_t last_answer[SOCKETS], start, end;
	uint64_t answered = 0, lost = 0, sent = 0, id = 1;
	int outstanding[SOCKETS];
	double seconds = argc > 3 ? atof(argv[3]) : 3.0;

	if (argc > 4)
		request_size = (size_t)atoi(argv[4]);
	if (argc < 3 || inet_pton(AF_INET, argv[1], &to.sin_addr) != 1 || request_size < 48 ||
	    request_size > REQUEST_MAX) {
		fprintf(stderr, "usage: bench-ntp HOST PORT [SECONDS] [SIZE]\n");
		return 2;
	}
	to.sin_port = htons((uint16_t)atoi(argv[2]));
	for (int s = 0; s < SOCKETS; s++) {
		int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

		if (fd < 0 || connect(fd, (struct sockaddr *)&to, sizeof(to)) != 0) {
			perror("bench-ntp: socket");
			return 1;
		}
		pfd[s] = (struct pollfd){ .fd = fd, .events = POLLIN };
		outstanding[s] = send_batch(fd, &id, WINDOW);
		sent += (uint64_t)outstanding[s];
		last_answer[s] = mono_now_ns();
	}
	start = mono_now_ns();
	end = start + (int64_t)(seconds * 1e9);
	while (mono_now_ns() < end) {
		int64_t t;

		if (poll(pfd, SOCKETS, 10) < 0 && errno != EINTR)
			return 1;
		t = mono_now_ns();
		for (int s = 0; s < SOCKETS; s++) {
			struct mmsghdr msgs[WINDOW];
			struct iovec iov[WINDOW];
			static uint8_t buf[WINDOW][REQUEST_MAX];
			int n;

			for (int i = 0; i < WINDOW; i++) {
				iov[i] = (struct iovec){ buf[i], sizeof(buf[i]) };
				msgs[i].msg_hdr =
					(struct msghdr){ .msg_iov = &iov[i], .msg_iovlen = 1 };
			}
			n = (pfd[s].revents & POLLIN)
				    ? recvmmsg(pfd[s].fd, msgs, WINDOW, MSG_DONTWAIT, NULL)
				    : 0;
			if (n > 0) {
				for (int i = 0; i < n; i++)
					answered += msgs[i].msg_len >= 48 && buf[i][1] != 0;
				outstanding[s] -= n;
				last_answer[s] = t;
			} else if (t - last_answer[s] > LOST_NS) {
				lost += (uint64_t)
					outstanding[s]; /* unanswered: count, replace */
				outstanding[s] = 0;
				last_answer[s] = t;
			}
			if (outstanding[s] < WINDOW) {
				int k = send_batch(pfd[s].fd, &id, WINDOW - outstanding[s]);

				sent += (uint64_t)k;
				outstanding[s] += k;
			}
		}
	}
	printf("%.0f answers/s over %.1f s (%llu answered, %llu sent, %llu lost, %.2f%% "
	       "loss)\n",
	       (double)answered / ((double)(mono_now_ns() - start) / 1e9), seconds,
	       (unsigned long long)answered, (unsigned long long)sent, (unsigned long long)lost,
	       sent ? 100.0 * (double)lost / (double)sent : 0.0);
	return 0;
}
