/* malfeasance.c -- the control stage acts on evidence of equivocation (see malfeasance.h):
 * the same check the gossip stage made before reporting (malfeasance-report.c), repeated
 * with this node's own view of the authorities' keys, then a quarantine. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <quorum/time.h>

#include "cosign.h"
#include "malfeasance-report.h"
#include "malfeasance.h"

struct verifier {
	struct quorum_host *host;
	const struct quorum_api *api;
};

static int verify_cb(void *arg, const char *authority_id, const char *key_id, const void *msg,
		     size_t len, const void *sig, size_t sig_len)
{
	struct verifier *v = arg;

	return v->api->authority_verify(v->host, authority_id, key_id, msg, len, sig, sig_len);
}

/* Whether quorumd authority ID is quarantined now (0 also when it is not a source). */
static int quarantined(struct quorum_host *host, const struct quorum_api *api, const char *id)
{
	struct quorum_source_status *sources = calloc(QUORUM_AUTHORITIES_MAX, sizeof(*sources));
	size_t count = 0;
	int found = 0;

	if (sources == NULL)
		return 0;
	api->sources_status(host, sources, QUORUM_AUTHORITIES_MAX, &count);
	for (size_t i = 0; i < count && i < QUORUM_AUTHORITIES_MAX; i++) {
		if (strcmp(sources[i].id, id) == 0)
			found = sources[i].quarantined != 0;
	}
	free(sources);
	return found;
}

int malfeasance_process(struct malfeasance *m, struct quorum_host *host,
			const struct quorum_api *api, const struct quorum_event *event,
			int64_t quarantine_after, int64_t quarantine_s, const char **reason)
{
	const struct quorum_signed_state *st = event->state;
	struct verifier v = { host, api };
	struct malfeasance_summary sum;
	const char *why = NULL;
	char first[65], second[65];
	int err;

	if (malfeasance_report_check(st->payload.data, st->payload.len, verify_cb, &v, &sum,
				     &why) != 0) {
		m->refused++;
		api->audit(host, "gossip.malfeasance.reject", "reason=%s source=%s peer=\"%s\"",
			   why, event->source, event->peer);
		*reason = MALFEASANCE_REPORT_INVALID;
		return QUORUM_REJECT;
	}
	hex_encode(sum.first_digest, MALFEASANCE_DIGEST_LEN, first);
	hex_encode(sum.second_digest, MALFEASANCE_DIGEST_LEN, second);
	if (quarantine_after <= 0 || !QUORUM_API_HAS(api, source_quarantine)) {
		api->audit(host, "gossip.malfeasance.recorded",
			   "authority=%s sequence=%" PRIu64 " reporter=%s first_digest=%s"
			   " second_digest=%s quarantine=off",
			   sum.authority_id, sum.sequence, sum.reporter, first, second);
		return QUORUM_CONTINUE;
	}
	if (quarantined(host, api, sum.authority_id)) {
		m->known++;
		api->log(host, QUORUM_LOG_INFO,
			 "control.malfeasance authority=%s sequence=%" PRIu64
			 " reporter=%s effect=already_quarantined",
			 sum.authority_id, sum.sequence, sum.reporter);
		return QUORUM_CONTINUE;
	}
	err = api->source_quarantine(host, sum.authority_id, quarantine_s * 1000000000LL,
				     "equivocation");
	if (err != 0) {
		api->log(host, QUORUM_LOG_ERROR,
			 "control.malfeasance authority=%s sequence=%" PRIu64
			 " effect=not_quarantined error=\"%s\"",
			 sum.authority_id, sum.sequence, strerror(-err));
		return QUORUM_CONTINUE;
	}
	m->acted++;
	api->audit(host, "pipeline.quarantine",
		   "source=%s reason=quarantine_logged cause=equivocation sequence=%" PRIu64
		   " reporter=%s first_digest=%s second_digest=%s duration_s=%" PRId64,
		   sum.authority_id, sum.sequence, sum.reporter, first, second, quarantine_s);
	return QUORUM_CONTINUE;
}

static int log_verify_cb(void *arg, const char *log, const char *key_id, const void *msg,
			 size_t len, const void *sig, size_t sig_len)
{
	struct verifier *v = arg;

	return v->api->authority_verify(v->host, log, key_id, msg, len, sig, sig_len);
}

int log_malfeasance_process(struct malfeasance *m, struct quorum_host *host,
			    const struct quorum_api *api, const struct quorum_event *event,
			    int64_t quarantine_after, int64_t quarantine_s, const char **reason)
{
	const struct quorum_signed_state *st = event->state;
	struct verifier v = { host, api };
	struct log_evidence_summary sum;
	const char *why = NULL, *kind;
	int err;

	if (log_evidence_check(st->payload.data, st->payload.len, log_verify_cb, &v, &sum,
			       &why) != 0) {
		m->refused++;
		api->audit(host, "merkle.malfeasance.reject", "reason=%s source=%s peer=\"%s\"",
			   why, event->source, event->peer);
		*reason = LOG_MALFEASANCE_INVALID;
		return QUORUM_REJECT;
	}
	kind = sum.first.size == sum.second.size ? "same_size" : "proof";
	/* This node's own log: its merkle stage stops signing; nobody quarantines itself. */
	if (strcmp(sum.log, api->node_id(host)) == 0 || quarantine_after <= 0 ||
	    !QUORUM_API_HAS(api, source_quarantine)) {
		api->audit(host, "merkle.malfeasance.recorded",
			   "log=%s origin=%s kind=%s size=%" PRIu64 " other_size=%" PRIu64
			   " reporter=%s quarantine=off",
			   sum.log, sum.first.origin, kind, sum.first.size, sum.second.size,
			   sum.reporter);
		return QUORUM_CONTINUE;
	}
	if (quarantined(host, api, sum.log)) {
		m->known++;
		api->log(
			host, QUORUM_LOG_INFO,
			"control.log_malfeasance log=%s reporter=%s effect=already_quarantined",
			sum.log, sum.reporter);
		return QUORUM_CONTINUE;
	}
	err = api->source_quarantine(host, sum.log, quarantine_s * 1000000000LL, "log_fork");
	if (err != 0) {
		api->log(host, QUORUM_LOG_ERROR,
			 "control.log_malfeasance log=%s effect=not_quarantined error=\"%s\"",
			 sum.log, strerror(-err));
		return QUORUM_CONTINUE;
	}
	m->acted++;
	api->audit(host, "pipeline.quarantine",
		   "source=%s reason=quarantine_logged cause=log_fork kind=%s origin=%s"
		   " size=%" PRIu64 " other_size=%" PRIu64 " reporter=%s duration_s=%" PRId64,
		   sum.log, kind, sum.first.origin, sum.first.size, sum.second.size,
		   sum.reporter, quarantine_s);
	return QUORUM_CONTINUE;
}
