/* refusals.c -- the table of refusal kinds behind the host's bounded-rate summaries: counts,
 * the last peer, and one summary per kind per interval (see refusals-internal.h). */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "refusals-internal.h"

void refusals_init(struct refusals *r)
{
	memset(r, 0, sizeof(*r));
}

static struct refusal_kind *kind_find(struct refusals *r, const char *what, const char *reason)
{
	struct refusal_kind *k;

	for (size_t i = 0; i < r->count; i++) {
		k = &r->kinds[i];
		if (strncmp(k->what, what, sizeof(k->what) - 1) == 0 &&
		    strncmp(k->reason, reason, sizeof(k->reason) - 1) == 0)
			return k;
	}
	if (r->count >= REFUSALS_KINDS_MAX - 1 &&
	    (strcmp(what, "other") != 0 || strcmp(reason, "other") != 0))
		return kind_find(r, "other", "other"); /* the last slot is kept for the rest */
	k = &r->kinds[r->count++];
	snprintf(k->what, sizeof(k->what), "%s", what);
	snprintf(k->reason, sizeof(k->reason), "%s", reason);
	return k;
}

uint64_t refusals_count(struct refusals *r, const char *what, const char *reason,
			const char *peer)
{
	struct refusal_kind *k =
		kind_find(r, what != NULL ? what : "-", reason != NULL ? reason : "-");

	k->total++;
	k->pending++;
	snprintf(k->last_peer, sizeof(k->last_peer), "%s",
		 peer != NULL && peer[0] != '\0' ? peer : "-");
	return k->pending;
}

size_t refusals_summarise(struct refusals *r, refusals_emit_fn emit, void *arg)
{
	size_t emitted = 0;

	for (size_t i = 0; i < r->count; i++) {
		struct refusal_kind *k = &r->kinds[i];

		if (k->pending == 0)
			continue;
		emit(arg, k);
		k->pending = 0;
		emitted++;
	}
	return emitted;
}

uint64_t refusals_total(const struct refusals *r, const char *what, const char *reason)
{
	uint64_t sum = 0;

	for (size_t i = 0; i < r->count; i++) {
		const struct refusal_kind *k = &r->kinds[i];

		if ((what == NULL || strcmp(k->what, what) == 0) &&
		    (reason == NULL || strcmp(k->reason, reason) == 0))
			sum += k->total;
	}
	return sum;
}
