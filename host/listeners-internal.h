/* listeners-internal.h -- listening sockets owned by the host, bound once and shared by
 * address across generations, so that a reloaded transport (or a restarted time core)
 * inherits its socket and no client is ever refused. */
#ifndef QUORUM_LISTENERS_INTERNAL_H
#define QUORUM_LISTENERS_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <quorum/api.h>

#define LISTENER_GROUP_MAX QUORUM_LISTEN_GROUP_MAX

struct listener {
	int type; /* QUORUM_LISTEN_TCP or QUORUM_LISTEN_UDP */
	char addr[64];
	uint16_t port;		     /* as requested (0: ephemeral, never shared) */
	unsigned group;		     /* 0: one plain socket; N: N sockets with SO_REUSEPORT */
	unsigned count;		     /* sockets in fds: 1, or group */
	int fds[LISTENER_GROUP_MAX]; /* fds[0]: the socket of a plain listener */
	uid_t owner;		     /* the effective user that bound them */
	unsigned refs;
	struct listener *next;
};

/* Every socket the daemon holds; zero-initialised it is empty. */
struct listener_set {
	struct listener *head;
};

/*
 * listener_acquire: the listening socket for TYPE on ADDR:PORT: the one already bound in SET
 * for that address if any (a successor inherits it), else a new one. GROUP 0 binds one plain
 * socket; GROUP N (1 to LISTENER_GROUP_MAX) binds N sockets with SO_REUSEPORT (the kernel
 * spreads clients across them), shared only with a request for the same N; a group of
 * another size binds beside it while both are held (same user only: the kernel's rule).
 * RETURN VALUE: 0 with *OUT (borrowed; listener_release once), or -errno with WHY.
 */
int listener_acquire(struct listener_set *set, int type, const char *addr, uint16_t port,
		     unsigned group, struct listener **out, char *why, size_t why_size);

/* listener_release: drops a reference; the socket is closed with the last. */
void listener_release(struct listener_set *set, struct listener *listener);

#endif /* QUORUM_LISTENERS_INTERNAL_H */
