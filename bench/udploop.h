/* udploop.h -- the closed loop bench-ntp and bench-nts drive: UDPLOOP_SOCKETS connected UDP
 * sockets each keep UDPLOOP_WINDOW requests in flight to one address for a time; an answer
 * releases the next request, and a socket that hears nothing for 200 ms has its requests
 * counted lost and replaced. The requests go out in one sendmmsg per socket and batch (the
 * caller's send), the answers come in by recvmmsg. */
#ifndef QUORUM_BENCH_UDPLOOP_H
#define QUORUM_BENCH_UDPLOOP_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#define UDPLOOP_SOCKETS 16
#define UDPLOOP_WINDOW	16
#define UDPLOOP_PKT_MAX 512

struct udploop {
	/* send: COUNT (at most UDPLOOP_WINDOW) requests on FD in one batch; how many the
	 * kernel took. */
	int (*send)(void *arg, int fd, int count);
	/* answer: one datagram received: 1 an answer, 0 not one, -1 stop the run. */
	int (*answer)(void *arg, const uint8_t *pkt, size_t len);
	void *arg;
	/* what the run did */
	uint64_t answered, sent, lost;
	double elapsed_s;
};

/* udploop_run: runs L against TO for SECONDS. 0, or 1 (a socket failed, named with WHO on
 * stderr, or answer said stop). */
int udploop_run(struct udploop *l, const struct sockaddr_in *to, double seconds,
		const char *who);

#endif /* QUORUM_BENCH_UDPLOOP_H */
