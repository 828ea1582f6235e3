/* udploop.c -- the benches' closed UDP loop (see udploop.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clocks.h"
#include "udploop.h"

#define LOST_NS 200000000LL

int udploop_run(struct udploop *l, const struct sockaddr_in *to, double seconds,
		const char *who)
{
	static uint8_t buf[UDPLOOP_WINDOW][UDPLOOP_PKT_MAX];
	struct pollfd pfd[UDPLOOP_SOCKETS];
	int64_t last_answer[UDPLOOP_SOCKETS], start, end;
	int outstanding[UDPLOOP_SOCKETS];

	l->answered = l->sent = l->lost = 0;
	for (int s = 0; s < UDPLOOP_SOCKETS; s++) {
		int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

		if (fd < 0 || connect(fd, (const struct sockaddr *)to, sizeof(*to)) != 0) {
			fprintf(stderr, "%s: socket: %m\n", who);
			return 1;
		}
		pfd[s] = (struct pollfd){ .fd = fd, .events = POLLIN };
		outstanding[s] = l->send(l->arg, fd, UDPLOOP_WINDOW);
		l->sent += (uint64_t)outstanding[s];
		last_answer[s] = mono_now_ns();
	}
	start = mono_now_ns();
	end = start + (int64_t)(seconds * 1e9);
	while (mono_now_ns() < end) {
		int64_t t;

		if (poll(pfd, UDPLOOP_SOCKETS, 10) < 0 && errno != EINTR)
			return 1;
		t = mono_now_ns();
		for (int s = 0; s < UDPLOOP_SOCKETS; s++) {
			struct mmsghdr msgs[UDPLOOP_WINDOW];
			struct iovec iov[UDPLOOP_WINDOW];
			int n;

			for (int i = 0; i < UDPLOOP_WINDOW; i++) {
				iov[i] = (struct iovec){ buf[i], sizeof(buf[i]) };
				msgs[i].msg_hdr =
					(struct msghdr){ .msg_iov = &iov[i], .msg_iovlen = 1 };
			}
			n = (pfd[s].revents & POLLIN)
				    ? recvmmsg(pfd[s].fd, msgs, UDPLOOP_WINDOW, MSG_DONTWAIT,
					       NULL)
				    : 0;
			if (n > 0) {
				for (int i = 0; i < n; i++) {
					int r = l->answer(l->arg, buf[i], msgs[i].msg_len);

					if (r < 0)
						return 1;
					l->answered += (uint64_t)r;
				}
				outstanding[s] -= n;
				last_answer[s] = t;
			} else if (t - last_answer[s] > LOST_NS) {
				l->lost += (uint64_t)
					outstanding[s]; /* unanswered: count, replace */
				outstanding[s] = 0;
				last_answer[s] = t;
			}
			if (outstanding[s] < UDPLOOP_WINDOW) {
				int k = l->send(l->arg, pfd[s].fd,
						UDPLOOP_WINDOW - outstanding[s]);

				l->sent += (uint64_t)k;
				outstanding[s] += k;
			}
		}
	}
	l->elapsed_s = (double)(mono_now_ns() - start) / 1e9;
	for (int s = 0; s < UDPLOOP_SOCKETS; s++)
		close(pfd[s].fd);
	return 0;
}
