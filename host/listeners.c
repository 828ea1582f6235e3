/* listeners.c -- listening sockets owned by the host, shared by address across generations,
 * so that a reloaded transport inherits its socket and no client is ever refused. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log-internal.h"
#include "listeners-internal.h"
#include "util-internal.h"

#define LISTEN_BACKLOG 511

/* Binds one socket; REUSEPORT: with SO_REUSEPORT, one of a group (see listener_acquire). */
static int listener_bind(int type, const char *addr, uint16_t port, int reuseport, char *why,
			 size_t why_size)
{
	struct addrinfo hints = { .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE,
				  .ai_family = AF_UNSPEC };
	struct addrinfo *res = NULL;
	char service[8];
	int fd, one = 1, rc;

	hints.ai_socktype = type == QUORUM_LISTEN_TCP ? SOCK_STREAM : SOCK_DGRAM;
	snprintf(service, sizeof(service), "%u", port);
	rc = getaddrinfo(addr, service, &hints, &res);
	if (rc != 0) {
		errbuf_set(why, why_size, "invalid listen address '%s': %s", addr,
			   gai_strerror(rc));
		return -EINVAL;
	}
	fd = socket(res->ai_family, res->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		rc = -errno;
		errbuf_set(why, why_size, "socket: %s", strerror(errno));
		goto out_free;
	}
	if (type == QUORUM_LISTEN_TCP)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (reuseport && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0) {
		rc = -errno;
		errbuf_set(why, why_size, "SO_REUSEPORT: %s", strerror(errno));
		close(fd);
		goto out_free;
	}
	if (res->ai_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, res->ai_addr, res->ai_addrlen) != 0 ||
	    (type == QUORUM_LISTEN_TCP && listen(fd, LISTEN_BACKLOG) != 0)) {
		rc = -errno;
		errbuf_set(why, why_size, "cannot listen on %s %s port %u: %s",
			   type == QUORUM_LISTEN_TCP ? "tcp" : "udp", addr, port,
			   strerror(errno));
		close(fd);
		goto out_free;
	}
	rc = fd;
out_free:
	freeaddrinfo(res);
	return rc;
}

/* After EADDRINUSE: when a group of another size holds the address, says why a new group
 * cannot join it (the kernel shares an SO_REUSEPORT port only between sockets of the user
 * that bound the first one) and what to do. */
static void explain_group_conflict(const struct listener_set *set, int type, const char *addr,
				   uint16_t port, unsigned group, char *why, size_t why_size)
{
	for (const struct listener *l = set->head; l != NULL; l = l->next) {
		if (l->type != type || l->port != port || strcmp(l->addr, addr) != 0 ||
		    l->group == group)
			continue;
		if (l->group > 0 && group > 0 && l->owner != geteuid())
			errbuf_set(
				why, why_size,
				"cannot listen on %s %s port %u with %u sockets: the %u bound "
				"by uid %u hold it, and the kernel lets only that user join "
				"them (quorumd runs as uid %u since it dropped its "
				"privileges): "
				"restart quorumd to change the number of workers",
				type == QUORUM_LISTEN_TCP ? "tcp" : "udp", addr, port, group,
				l->count, (unsigned)l->owner, (unsigned)geteuid());
		else
			errbuf_set(why, why_size,
				   "cannot listen on %s %s port %u: a listener of another kind "
				   "(%u sockets%s) holds it until the old generation stops",
				   type == QUORUM_LISTEN_TCP ? "tcp" : "udp", addr, port,
				   l->count, l->group > 0 ? ", SO_REUSEPORT" : "");
		return;
	}
}

int listener_acquire(struct listener_set *set, int type, const char *addr, uint16_t port,
		     unsigned group, struct listener **out, char *why, size_t why_size)
{
	struct listener *l;
	unsigned count = group == 0 ? 1 : group;

	if (type != QUORUM_LISTEN_TCP && type != QUORUM_LISTEN_UDP) {
		errbuf_set(why, why_size, "unknown listener type %d", type);
		return -EINVAL;
	}
	if (group > LISTENER_GROUP_MAX) {
		errbuf_set(why, why_size, "a group of %u sockets (at most %d)", group,
			   LISTENER_GROUP_MAX);
		return -EINVAL;
	}
	if (addr == NULL || strlen(addr) >= sizeof(l->addr)) {
		errbuf_set(why, why_size, "invalid listen address");
		return -EINVAL;
	}
	for (l = set->head; port != 0 && l != NULL; l = l->next) {
		if (l->type == type && l->port == port && l->group == group &&
		    strcmp(l->addr, addr) == 0) {
			l->refs++;
			*out = l;
			return 0;
		}
	}
	l = calloc(1, sizeof(*l));
	if (l == NULL)
		return -ENOMEM;
	for (unsigned i = 0; i < count; i++) {
		int fd = listener_bind(type, addr, port, group > 0, why, why_size);

		if (fd < 0) {
			while (i-- > 0)
				close(l->fds[i]);
			free(l);
			if (fd == -EADDRINUSE)
				explain_group_conflict(set, type, addr, port, group, why,
						       why_size);
			return fd;
		}
		l->fds[i] = fd;
	}
	l->owner = geteuid();
	l->type = type;
	snprintf(l->addr, sizeof(l->addr), "%s", addr);
	l->port = port;
	l->group = group;
	l->count = count;
	l->refs = 1;
	l->next = set->head;
	set->head = l;
	if (group > 0)
		log_msg(QUORUM_LOG_INFO, "host",
			"listener.bound proto=%s addr=%s port=%u sockets=%u reuseport=1",
			type == QUORUM_LISTEN_TCP ? "tcp" : "udp", addr, port, count);
	else
		log_msg(QUORUM_LOG_INFO, "host", "listener.bound proto=%s addr=%s port=%u",
			type == QUORUM_LISTEN_TCP ? "tcp" : "udp", addr, port);
	*out = l;
	return 0;
}

void listener_release(struct listener_set *set, struct listener *listener)
{
	struct listener **pp;

	if (--listener->refs > 0)
		return;
	for (pp = &set->head; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == listener) {
			*pp = listener->next;
			break;
		}
	}
	log_msg(QUORUM_LOG_INFO, "host", "listener.closed proto=%s addr=%s port=%u",
		listener->type == QUORUM_LISTEN_TCP ? "tcp" : "udp", listener->addr,
		listener->port);
	for (unsigned i = 0; i < listener->count; i++)
		close(listener->fds[i]);
	free(listener);
}
