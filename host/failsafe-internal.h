/* failsafe-internal.h -- a node that cannot log must not answer: while the vault or the merkle
 * stage reports that it cannot write (disk full, read-only folder, I/O error), the served
 * clock is suspended (every transport says "unsynchronised", the shared page too) and the
 * reason is logged; when they write again, the next agreement serves time again. */
#ifndef QUORUM_FAILSAFE_INTERNAL_H
#define QUORUM_FAILSAFE_INTERNAL_H

#include <stddef.h>

#include <quorum/audit.h>

struct event;
struct event_base;
struct served_clock;

struct failsafe {
	struct event *timer; /* the 100 ms check */
	int failing;	     /* as of the last check */
	/* The audit services, found once at start (stages are not reloaded) and forgotten at
	 * stop, before the stages stop; NULL: not configured, or built before failing(). */
	const struct quorum_vault_ops *vault;
	void *vault_state;
	const struct quorum_merkle_ops *merkle;
	void *merkle_state;
	struct served_clock *clock; /* suspended while failing; NULL: none served */
};

/*
 * failsafe_start: FS (zero-initialised) watches VAULT and MERKLE (either may be NULL, ops
 * with their states, borrowed until failsafe_stop) and suspends CLOCK (borrowed, may be NULL)
 * while either fails, checking every 100 ms on BASE. RETURN VALUE: 0 or -ENOMEM.
 */
int failsafe_start(struct failsafe *fs, struct event_base *base,
		   const struct quorum_vault_ops *vault, void *vault_state,
		   const struct quorum_merkle_ops *merkle, void *merkle_state,
		   struct served_clock *clock);

/* failsafe_stop: stops the check and forgets the services and the clock. */
void failsafe_stop(struct failsafe *fs);

/* failsafe_failing: 1 with WHY (SIZE bytes) when the audit plane cannot write, else 0. */
int failsafe_failing(const struct failsafe *fs, char *why, size_t size);

/* failsafe_check: suspends the served clock while the audit plane fails, logging the change
 * (clock.suspended / audit.writable). Run on the loop thread: from each clock read and from
 * the 100 ms timer. RETURN VALUE: 1 while failing, else 0. */
int failsafe_check(struct failsafe *fs);

#endif /* QUORUM_FAILSAFE_INTERNAL_H */
