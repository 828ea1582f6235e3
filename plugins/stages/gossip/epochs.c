/* epochs.c -- the convergence gate (see epochs.h): a ring of the last EPOCHS_WINDOW epochs,
 * each with the set of authorities that attested a time in it. */
#include <string.h>

#include "epochs.h"

void epochs_init(struct epochs *e, int64_t epoch_ns)
{
	memset(e, 0, sizeof(*e));
	e->epoch_ns = epoch_ns > 0 ? epoch_ns : 1;
}

int64_t epochs_of(const struct epochs *e, int64_t ns)
{
	int64_t q = ns / e->epoch_ns;

	return ns % e->epoch_ns < 0 ? q - 1 : q;
}

int epochs_add(struct epochs *e, uint32_t index, int64_t midpoint_ns, int64_t now_ns,
	       uint32_t threshold, int64_t *epoch, uint32_t *count)
{
	int64_t at = epochs_of(e, midpoint_ns), now = epochs_of(e, now_ns);
	struct epoch_slot *s;
	uint64_t place;

	*epoch = at;
	*count = 0;
	if (index >= QUORUM_AUTHORITIES_MAX || at > now + 1 || at <= now - EPOCHS_WINDOW + 1)
		return -1;
	place = (uint64_t)at % EPOCHS_WINDOW;
	s = &e->slots[place];
	if (!s->used || s->epoch < at) {
		memset(s, 0, sizeof(*s));
		s->used = 1;
		s->epoch = at;
	} else if (s->epoch > at) {
		return -1; /* its slot already holds a newer epoch */
	}
	if (s->seen[index / 8] & (1u << (index % 8))) {
		*count = s->count;
		return 0;
	}
	s->seen[index / 8] |= (uint8_t)(1u << (index % 8));
	s->count++;
	*count = s->count;
	if (e->has_last && at == e->last_epoch)
		e->last_count = s->count;
	if (s->converged || threshold == 0 || s->count < threshold)
		return 0;
	s->converged = 1;
	e->converged++;
	if (!e->has_last || at > e->last_epoch) {
		e->has_last = 1;
		e->last_epoch = at;
		e->last_count = s->count;
		e->last_threshold = threshold;
	}
	return 1;
}
