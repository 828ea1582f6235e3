/* authorities.c -- the sources this node asks for the time, from quorum.conf: their
 * addresses, their public keys and key ids, and n and f of the agreement rule. */
#include "config.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "timecore-internal.h"
#include "util-internal.h"
#include "clocks.h"

int authorities_load(struct authority_table *table, const struct conf *conf, char *why,
		     size_t why_size)
{
	memset(table, 0, sizeof(*table));
	table->items = calloc(conf->authority_count + 1, sizeof(*table->items));
	if (table->items == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < conf->authority_count; i++) {
		const struct conf_authority *c = &conf->authorities[i];
		struct authority *a = &table->items[i];
		struct addrinfo hints = { .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV,
					  .ai_socktype = SOCK_DGRAM };
		struct addrinfo *res = NULL;
		char port[8], detail[ERRBUF_SIZE];

		table->count++;
		a->id = c->id;
		a->type = c->type;
		snprintf(port, sizeof(port), "%u", c->port);
		if (getaddrinfo(c->address, port, &hints, &res) != 0) {
			errbuf_set(why, why_size, "%s:%d: authority '%s': bad address %s",
				   c->file, c->line, c->id, c->address);
			return -EINVAL;
		}
		memcpy(&a->address, res->ai_addr, res->ai_addrlen);
		a->address_len = res->ai_addrlen;
		freeaddrinfo(res);
		if (c->type == QUORUM_AUTHORITY_NTP) {
			table->ntp++;
			continue;
		}
		table->n++;
		if (key_load_public(c->key, &a->key, detail, sizeof(detail)) != 0 ||
		    key_id(a->key, a->key_id) != 0) {
			errbuf_set(why, why_size, "%s:%d: authority '%s': %s", c->file, c->line,
				   c->id, detail);
			return -EINVAL;
		}
	}
	table->f = table->n > 0 ? (table->n - 1) / 3 : 0;
	return 0;
}

int authorities_report(struct authority_table *table, uint64_t round,
		       const struct quorum_source_report *reports, size_t count)
{
	int64_t now = mono_now_ns();

	for (size_t i = 0; i < count; i++)
		if (reports[i].state > QUORUM_SOURCE_NO_AGREEMENT)
			return -EINVAL;
	for (size_t i = 0; i < table->count; i++) {
		struct authority *a = &table->items[i];

		a->report.state = QUORUM_SOURCE_SILENT;
		a->report.problem[0] = '\0';
		a->report.round = round;
		a->report.offset_ns = 0;
		a->report.rtt_ns = 0;
		a->report_mono_ns = now;
	}
	for (size_t i = 0; i < count; i++) {
		struct authority *a = reports[i].source_id == NULL
					      ? NULL
					      : authorities_find(table, reports[i].source_id);

		/* A stranger is no configured source; a source named twice keeps its first. */
		if (a == NULL || a->report.state != QUORUM_SOURCE_SILENT)
			continue;
		a->report.state = reports[i].state;
		snprintf(a->report.problem, sizeof(a->report.problem), "%s",
			 reports[i].problem != NULL ? reports[i].problem : "");
		a->report.offset_ns = reports[i].offset_ns;
		a->report.rtt_ns = reports[i].rtt_ns;
	}
	return 0;
}

void authorities_status(const struct authority_table *table, struct quorum_source_status *out,
			size_t cap, size_t *count)
{
	int64_t now = mono_now_ns();

	for (size_t i = 0; i < table->count && i < cap; i++) {
		const struct authority *a = &table->items[i];

		out[i] = a->report;
		out[i].id = a->id;
		out[i].type = a->type;
		out[i].age_ns = a->report.round != 0 ? now - a->report_mono_ns : 0;
		out[i].quarantined = (uint32_t)authorities_quarantined(a, now);
		out[i].quarantine_remaining_ns =
			out[i].quarantined ? a->quarantine_until_ns - now : 0;
		snprintf(out[i].quarantine_reason, sizeof(out[i].quarantine_reason), "%s",
			 out[i].quarantined ? a->quarantine_reason : "");
	}
	*count = table->count;
}

int authorities_report_intervals(struct authority_table *table,
				 const struct quorum_round_intervals *round,
				 const struct quorum_source_interval *sources, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		const struct quorum_source_interval *s = &sources[i];

		if (s->has_interval &&
		    (s->earliest_ns > s->estimate_ns || s->estimate_ns > s->latest_ns))
			return -EINVAL;
	}
	if (round->agreed &&
	    (round->earliest_ns > round->estimate_ns || round->estimate_ns > round->latest_ns))
		return -EINVAL;
	for (size_t i = 0; i < table->count; i++)
		memset(&table->items[i].interval, 0, sizeof(table->items[i].interval));
	for (size_t i = 0; i < count; i++) {
		struct authority *a =
			sources[i].id == NULL ? NULL : authorities_find(table, sources[i].id);

		/* A stranger is no configured source; a source named twice keeps its first. */
		if (a == NULL || a->interval.id != NULL)
			continue;
		a->interval = sources[i];
		a->interval.id = a->id;
		if (!a->interval.has_interval)
			a->interval.earliest_ns = a->interval.estimate_ns =
				a->interval.latest_ns = 0;
	}
	table->intervals = *round;
	table->intervals.count = 0;
	table->intervals.age_ns = 0;
	table->intervals_mono_ns = mono_now_ns();
	return 0;
}

void authorities_intervals(const struct authority_table *table,
			   struct quorum_round_intervals *round,
			   struct quorum_source_interval *sources, size_t cap)
{
	*round = table->intervals;
	round->count = (uint32_t)table->count;
	round->age_ns = round->round != 0 ? mono_now_ns() - table->intervals_mono_ns : 0;
	for (size_t i = 0; i < table->count && i < cap; i++) {
		sources[i] = table->items[i].interval;
		sources[i].id = table->items[i].id;
	}
}

int authorities_quarantine(struct authority_table *table, const char *id, int64_t duration_ns,
			   const char *reason)
{
	struct authority *a = id == NULL ? NULL : authorities_find(table, id);

	if (a == NULL)
		return -ENOENT;
	if (duration_ns < 0)
		return -EINVAL;
	a->quarantine_until_ns = duration_ns == 0 ? 0 : mono_now_ns() + duration_ns;
	snprintf(a->quarantine_reason, sizeof(a->quarantine_reason), "%s",
		 duration_ns == 0 || reason == NULL ? "" : reason);
	return 0;
}

int authorities_quarantined(const struct authority *a, int64_t now_ns)
{
	return a->quarantine_until_ns != 0 && now_ns < a->quarantine_until_ns;
}

int authorities_verify(const struct authority_table *table, const char *id, const char *key_id,
		       const void *msg, size_t len, const void *sig, size_t sig_len)
{
	const struct authority *a = id == NULL ? NULL : authorities_find(table, id);
	int err;

	/* An NTP source has no key: it can never be the signer of anything. */
	if (a == NULL || a->type != QUORUM_AUTHORITY_QUORUMD || a->key == NULL ||
	    (key_id != NULL && strcmp(a->key_id, key_id) != 0))
		return -ENOENT;
	if ((msg == NULL && len > 0) || sig == NULL)
		return -EBADMSG;
	err = key_verify(a->key, msg != NULL ? msg : "", len, sig, sig_len);
	return err == -ENOMEM ? -ENOMEM : err != 0 ? -EBADMSG : 0;
}

struct authority *authorities_find(const struct authority_table *table, const char *id)
{
	for (size_t i = 0; i < table->count; i++) {
		if (strcmp(table->items[i].id, id) == 0)
			return &table->items[i];
	}
	return NULL;
}

void authorities_release(struct authority_table *table)
{
	for (size_t i = 0; i < table->count; i++) {
		EVP_PKEY_free(table->items[i].key);
		EVP_PKEY_free(table->items[i].passport_key);
	}
	free(table->items);
	memset(table, 0, sizeof(*table));
}
