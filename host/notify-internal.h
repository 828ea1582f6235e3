/* notify-internal.h -- systemd's readiness protocol (sd_notify), without libsystemd: one
 * datagram to the unix socket named by $NOTIFY_SOCKET. */
#ifndef QUORUM_NOTIFY_INTERNAL_H
#define QUORUM_NOTIFY_INTERNAL_H

/* notify_systemd: sends STATE ("READY=1", "STOPPING=1", "STATUS=...") when quorumd runs
 * under a service manager that asked for it; otherwise a no-op. RETURN VALUE: 1 sent, 0 not
 * asked, -errno (logged by the caller; never fatal). */
int notify_systemd(const char *state);

#endif /* QUORUM_NOTIFY_INTERNAL_H */
