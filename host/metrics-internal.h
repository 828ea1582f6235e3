/* metrics-internal.h -- the node's metrics registry behind api->metric_register: counters and
 * gauges of the host and of every plugin, written out as one Prometheus text exposition. */
#ifndef QUORUM_METRICS_INTERNAL_H
#define QUORUM_METRICS_INTERNAL_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/*
 * A series is (name, labels): registering one that exists already (same type, help and
 * scale) hands out the same series again, so a transport reloaded into a new generation
 * keeps counting where its predecessor was, and old and new instance add into one value
 * while both run. Each registration is a reference held by an owner (a plugin instance, or
 * NULL for the host; an owner holds a series once); metrics_withdraw drops an owner's
 * references and a series goes with its last one. Registration, withdrawal and rendering run on
 * the loop thread; values are atomics, so metric_add and metric_set are safe from any thread.
 * Bounded: at most METRICS_SERIES_MAX series and METRICS_REFS_MAX references.
 */
#define METRICS_SERIES_MAX 1024
#define METRICS_REFS_MAX   4096
#define METRICS_NAME_MAX   96
#define METRICS_LABELS_MAX 160
#define METRICS_HELP_MAX   240
#define METRICS_MAGIC	   0x5254454du /* "METR" */

struct quorum_metric {
	uint32_t magic;
	int type; /* QUORUM_METRIC_COUNTER or _GAUGE */
	char name[METRICS_NAME_MAX];
	char labels[METRICS_LABELS_MAX]; /* `key="value",...` or "" */
	char help[METRICS_HELP_MAX];
	double scale; /* exposed value = value * scale */
	_Atomic int64_t value;
	unsigned refs;
	struct quorum_metric *next; /* registration order */
};

struct metrics_ref {
	const void *owner;
	struct quorum_metric *metric;
	struct metrics_ref *next;
};

struct metrics {
	struct quorum_metric *series; /* head; kept in registration order */
	struct quorum_metric **tail;
	size_t count;
	struct metrics_ref *refs;
	size_t ref_count;
};

/* metrics_init: an empty registry. metrics_release: frees every series (the registry
 * itself is the caller's). */
void metrics_init(struct metrics *m);
void metrics_release(struct metrics *m);

/*
 * metrics_register: the series NAME{LABELS} of TYPE for OWNER (borrowed; compared by
 * address). NAME must match quorum_[a-z0-9_]* (a counter's ending in _total, a gauge's
 * not), LABELS (NULL or "") `key="value"` pairs separated by commas, key [a-z_][a-z0-9_]*,
 * value without '"', '\\' or a line break; HELP printable ASCII without '\\'; SCALE > 0.
 * RETURN VALUE: the series (borrowed: valid while OWNER holds it), or NULL with *ERR
 * -EINVAL (a rule above, or the name registered with another type, help or scale),
 * -ENOSPC (a bound) or -ENOMEM.
 */
struct quorum_metric *metrics_register(struct metrics *m, const void *owner, int type,
				       const char *name, const char *labels, const char *help,
				       double scale, int *err);

/* metrics_withdraw: drops OWNER's references; series nobody holds any more are freed. */
void metrics_withdraw(struct metrics *m, const void *owner);

/* metric_add / metric_set: any thread. A counter only grows (a negative DELTA and set are
 * ignored); NULL or a pointer without the magic is ignored. */
void metric_add(struct quorum_metric *metric, int64_t delta);
void metric_set(struct quorum_metric *metric, int64_t value);

/* metrics_write: every series to OUT in the Prometheus text format 0.0.4, one HELP and
 * TYPE line per name, its series together. RETURN VALUE: 0 or -EIO (a write failed). */
int metrics_write(const struct metrics *m, FILE *out);

/* metrics_find: the series NAME{LABELS} (LABELS NULL: "") or NULL; for the host's tests. */
struct quorum_metric *metrics_find(const struct metrics *m, const char *name,
				   const char *labels);

#endif /* QUORUM_METRICS_INTERNAL_H */
