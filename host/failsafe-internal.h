/* failsafe-internal.h -- a node that cannot log must not answer: while the vault or the merkle
 * stage reports that it cannot write (disk full, read-only folder, I/O error), the served
 * clock is suspended (every transport says "unsynchronised", the shared page too) and the
 * reason is logged; when they write again, the next agreement serves time again. */
#ifndef QUORUM_FAILSAFE_INTERNAL_H
#define QUORUM_FAILSAFE_INTERNAL_H

#include <stddef.h>

struct runtime;

/* failsafe_failing: 1 with WHY (SIZE bytes) when the audit plane cannot write, else 0. */
int failsafe_failing(const struct runtime *rt, char *why, size_t size);

/* failsafe_check: suspends the served clock while the audit plane fails, logging the change
 * (clock.suspended / audit.writable). Run on the loop thread: from each clock read and from
 * a 100 ms timer. RETURN VALUE: 1 while failing, else 0. */
int failsafe_check(struct runtime *rt);

/* failsafe_start / failsafe_stop: the periodic check. 0 or -ENOMEM. */
int failsafe_start(struct runtime *rt);
void failsafe_stop(struct runtime *rt);

#endif /* QUORUM_FAILSAFE_INTERNAL_H */
