/* metrics.c -- the node's metrics registry (metrics-internal.h): series registered by the host
 * and the plugins, counted with atomics, written out in the Prometheus text format. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <quorum/api.h>

#include "metrics-internal.h"

void metrics_init(struct metrics *m)
{
	memset(m, 0, sizeof(*m));
	m->tail = &m->series;
}

void metrics_release(struct metrics *m)
{
	while (m->refs != NULL) {
		struct metrics_ref *r = m->refs;

		m->refs = r->next;
		free(r);
	}
	while (m->series != NULL) {
		struct quorum_metric *s = m->series;

		m->series = s->next;
		s->magic = 0;
		free(s);
	}
	metrics_init(m);
}

static int name_char(char c, int first)
{
	if ((c >= 'a' && c <= 'z') || c == '_')
		return 1;
	return !first && c >= '0' && c <= '9';
}

/* NAME: quorum_[a-z0-9_]*, a counter's ending in _total and a gauge's not. */
static int name_valid(const char *name, int type)
{
	size_t len = strlen(name);
	int total;

	if (len >= METRICS_NAME_MAX || strncmp(name, "quorum_", 7) != 0)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (!name_char(name[i], i == 0))
			return 0;
	total = len > 6 && strcmp(name + len - 6, "_total") == 0;
	return type == QUORUM_METRIC_COUNTER ? total : !total;
}

/* LABELS: `key="value"` pairs separated by commas (see metrics_register). */
static int labels_valid(const char *labels)
{
	const char *p = labels;

	if (strlen(labels) >= METRICS_LABELS_MAX)
		return 0;
	while (*p != '\0') {
		const char *key = p;

		while (name_char(*p, p == key))
			p++;
		if (p == key || p[0] != '=' || p[1] != '"')
			return 0;
		p += 2;
		while (*p != '"' && *p != '\0' && *p != '\\' && *p != '\n')
			p++;
		if (*p != '"')
			return 0;
		p++;
		if (*p == ',' && p[1] != '\0')
			p++;
		else if (*p != '\0')
			return 0;
	}
	return 1;
}

static int help_valid(const char *help)
{
	if (strlen(help) >= METRICS_HELP_MAX)
		return 0;
	for (const char *p = help; *p != '\0'; p++)
		if (*p < 0x20 || *p > 0x7e || *p == '\\')
			return 0;
	return 1;
}

struct quorum_metric *metrics_find(const struct metrics *m, const char *name,
				   const char *labels)
{
	if (labels == NULL)
		labels = "";
	for (struct quorum_metric *s = m->series; s != NULL; s = s->next)
		if (strcmp(s->name, name) == 0 && strcmp(s->labels, labels) == 0)
			return s;
	return NULL;
}

/* Another series of NAME, whose type, help and scale a new one must share. */
static const struct quorum_metric *family_of(const struct metrics *m, const char *name)
{
	for (const struct quorum_metric *s = m->series; s != NULL; s = s->next)
		if (strcmp(s->name, name) == 0)
			return s;
	return NULL;
}

struct quorum_metric *metrics_register(struct metrics *m, const void *owner, int type,
				       const char *name, const char *labels, const char *help,
				       double scale, int *err)
{
	const struct quorum_metric *family;
	struct quorum_metric *s;
	struct metrics_ref *ref;

	if (labels == NULL)
		labels = "";
	*err = -EINVAL;
	if ((type != QUORUM_METRIC_COUNTER && type != QUORUM_METRIC_GAUGE) || name == NULL ||
	    help == NULL || !(scale > 0) || !name_valid(name, type) || !labels_valid(labels) ||
	    !help_valid(help))
		return NULL;
	family = family_of(m, name);
	if (family != NULL &&
	    (family->type != type || family->scale != scale || strcmp(family->help, help) != 0))
		return NULL;
	s = metrics_find(m, name, labels);
	/* An owner holds a series once, however often it registers it. */
	for (const struct metrics_ref *r = m->refs; s != NULL && r != NULL; r = r->next)
		if (r->owner == owner && r->metric == s) {
			*err = 0;
			return s;
		}
	*err = -ENOSPC;
	if (m->ref_count >= METRICS_REFS_MAX)
		return NULL;
	if (s == NULL && m->count >= METRICS_SERIES_MAX)
		return NULL;
	*err = -ENOMEM;
	ref = calloc(1, sizeof(*ref));
	if (ref == NULL)
		return NULL;
	if (s == NULL) {
		s = calloc(1, sizeof(*s));
		if (s == NULL) {
			free(ref);
			return NULL;
		}
		s->magic = METRICS_MAGIC;
		s->type = type;
		s->scale = scale;
		strcpy(s->name, name);
		strcpy(s->labels, labels);
		strcpy(s->help, help);
		atomic_init(&s->value, 0);
		*m->tail = s;
		m->tail = &s->next;
		m->count++;
	}
	s->refs++;
	ref->owner = owner;
	ref->metric = s;
	ref->next = m->refs;
	m->refs = ref;
	m->ref_count++;
	*err = 0;
	return s;
}

/* Unlinks and frees S, which nobody holds any more. */
static void series_free(struct metrics *m, struct quorum_metric *s)
{
	struct quorum_metric **pp = &m->series;

	while (*pp != s)
		pp = &(*pp)->next;
	*pp = s->next;
	if (m->tail == &s->next)
		m->tail = pp;
	m->count--;
	s->magic = 0;
	free(s);
}

void metrics_withdraw(struct metrics *m, const void *owner)
{
	struct metrics_ref **pp = &m->refs;

	while (*pp != NULL) {
		struct metrics_ref *r = *pp;

		if (r->owner != owner) {
			pp = &r->next;
			continue;
		}
		*pp = r->next;
		m->ref_count--;
		if (--r->metric->refs == 0)
			series_free(m, r->metric);
		free(r);
	}
}

void metric_add(struct quorum_metric *metric, int64_t delta)
{
	if (metric == NULL || metric->magic != METRICS_MAGIC)
		return;
	if (metric->type == QUORUM_METRIC_COUNTER && delta < 0)
		return;
	atomic_fetch_add_explicit(&metric->value, delta, memory_order_relaxed);
}

void metric_set(struct quorum_metric *metric, int64_t value)
{
	if (metric == NULL || metric->magic != METRICS_MAGIC ||
	    metric->type != QUORUM_METRIC_GAUGE)
		return;
	atomic_store_explicit(&metric->value, value, memory_order_relaxed);
}

/* One sample line of S. Integral values are written exactly. */
static int write_sample(const struct quorum_metric *s, FILE *out)
{
	int64_t v = atomic_load_explicit(&s->value, memory_order_relaxed);
	const char *open = s->labels[0] != '\0' ? "{" : "", *close = s->labels[0] ? "}" : "";

	if (s->scale == 1.0)
		return fprintf(out, "%s%s%s%s %" PRId64 "\n", s->name, open, s->labels, close,
			       v);
	return fprintf(out, "%s%s%s%s %.9g\n", s->name, open, s->labels, close,
		       (double)v * s->scale);
}

int metrics_write(const struct metrics *m, FILE *out)
{
	for (const struct quorum_metric *s = m->series; s != NULL; s = s->next) {
		int seen = 0;

		/* A family is written where its first series was registered. */
		for (const struct quorum_metric *e = m->series; e != s && !seen; e = e->next)
			seen = strcmp(e->name, s->name) == 0;
		if (seen)
			continue;
		if (fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", s->name, s->help, s->name,
			    s->type == QUORUM_METRIC_COUNTER ? "counter" : "gauge") < 0)
			return -EIO;
		for (const struct quorum_metric *e = s; e != NULL; e = e->next)
			if (strcmp(e->name, s->name) == 0 && write_sample(e, out) < 0)
				return -EIO;
	}
	return ferror(out) ? -EIO : 0;
}
