/* ntp-reflector.c -- the limit line of bench/ntp-throughput.sh and nts-throughput.sh: a bare
 * reflector of NTP-shaped datagrams (recvmmsg, the mode flipped to server, the transmit
 * timestamp copied to the origin, sendmmsg; nothing else but a stratum of 1, which the load
 * generators need to count an answer), which measures what the kernel allows for one
 * thread on one core, for datagrams of the size it is sent. Not a server: no time, no
 * checks.
 * Usage: ntp-reflector ADDRESS PORT   (runs until killed) */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define BATCH 64
#define DGRAM 1024

int main(int argc, char **argv)
{
	static uint8_t buf[BATCH][DGRAM];
	struct sockaddr_in addr = { .sin_family = AF_INET }, from[BATCH];
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	int fd;

	if (argc != 3 || inet_pton(AF_INET, argv[1], &addr.sin_addr) != 1) {
		fprintf(stderr, "usage: ntp-reflector ADDRESS PORT\n");
		return 2;
	}
	addr.sin_port = htons((uint16_t)atoi(argv[2]));
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0) {
		perror("ntp-reflector: bind");
		return 1;
	}
	for (;;) {
		int n;

		for (int i = 0; i < BATCH; i++) {
			iov[i] = (struct iovec){ buf[i], DGRAM };
			msgs[i].msg_hdr = (struct msghdr){ .msg_name = &from[i],
							   .msg_namelen = sizeof(from[i]),
							   .msg_iov = &iov[i],
							   .msg_iovlen = 1 };
		}
		n = recvmmsg(fd, msgs, BATCH, MSG_WAITFORONE, NULL);
		if (n <= 0)
			continue;
		for (int i = 0; i < n; i++) {
			uint8_t *p = buf[i];

			if (msgs[i].msg_len >= 48) {
				p[0] = (uint8_t)((p[0] & 0xf8) | 4);
				p[1] = 1;
				memcpy(p + 24, p + 40, 8);
			}
			iov[i].iov_len = msgs[i].msg_len;
		}
		sendmmsg(fd, msgs, (unsigned)n, 0);
	}
}
