/* convergence.c -- the convergence stage: turns a sync round (uml001.worker.ntp_sync) into
 * a proposed agreement with a guaranteed bound, or rejects the round with the seed's
 * bft.sync.reject reason. It proposes; the control stage decides what the clock serves. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <quorum/plugin.h>

#include "agreement.h"

struct convergence {
	struct quorum_host *host;
	const struct quorum_api *api;
	int64_t min_quorum;
	int64_t max_cluster_skew_ns;
	int64_t max_radius_ns;
	int64_t ntp_max_faulty; /* 0: agreement_ntp_max_faulty of the configured */
	int use_ntp;
	struct interval *counted, *ntp;
	void *scratch;
	/* What this node's own round made of each source (api sources_report, ABI 1.4): one
	 * report per observation, then one per source the asker refused on arrival. */
	struct quorum_source_report *reports;
	struct interval *report_iv;
	int *report_has_iv;
	int *report_counted; /* a quorumd authority's interval, counted in the agreement */
	size_t report_count;
	struct quorum_source_interval *intervals; /* api source_intervals_report, ABI 1.13 */
	uint64_t proposed, rejected;
};

/* The stage's settings, filled by the host from convergence_settings (defaults there). */
struct convergence_settings {
	int64_t min_quorum;
	int64_t max_cluster_skew_ns;
	int64_t max_radius_ns;
	int use_ntp;
	int64_t ntp_max_faulty;
};

static int convergence_init(struct quorum_host *host, const struct quorum_api *api,
			    void **state)
{
	const struct convergence_settings *cfg;
	struct convergence *c;

	if (!QUORUM_API_HAS(api, clock_commit) || !QUORUM_API_HAS(api, settings))
		return -ENOTSUP; /* a host without the time core (ABI < 1.1) or bindings */
	cfg = api->settings(host);
	if (cfg == NULL)
		return -EINVAL;
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return -ENOMEM;
	c->host = host;
	c->api = api;
	c->min_quorum = cfg->min_quorum;
	c->max_cluster_skew_ns = cfg->max_cluster_skew_ns;
	c->max_radius_ns = cfg->max_radius_ns;
	c->ntp_max_faulty = cfg->ntp_max_faulty;
	c->use_ntp = cfg->use_ntp;
	c->counted = calloc(QUORUM_AUTHORITIES_MAX, sizeof(*c->counted));
	c->ntp = calloc(QUORUM_AUTHORITIES_MAX, sizeof(*c->ntp));
	c->scratch = malloc(AGREEMENT_SCRATCH(QUORUM_AUTHORITIES_MAX));
	c->reports = calloc(2 * QUORUM_AUTHORITIES_MAX, sizeof(*c->reports));
	c->report_iv = calloc(2 * QUORUM_AUTHORITIES_MAX, sizeof(*c->report_iv));
	c->report_has_iv = calloc(2 * QUORUM_AUTHORITIES_MAX, sizeof(*c->report_has_iv));
	c->report_counted = calloc(2 * QUORUM_AUTHORITIES_MAX, sizeof(*c->report_counted));
	c->intervals = calloc(2 * QUORUM_AUTHORITIES_MAX, sizeof(*c->intervals));
	if (c->counted == NULL || c->ntp == NULL || c->scratch == NULL || c->reports == NULL ||
	    c->report_iv == NULL || c->report_has_iv == NULL || c->report_counted == NULL ||
	    c->intervals == NULL) {
		free(c->intervals);
		free(c->reports);
		free(c->report_iv);
		free(c->report_has_iv);
		free(c->report_counted);
		free(c->counted);
		free(c->ntp);
		free(c->scratch);
		free(c);
		return -ENOMEM;
	}
	*state = c;
	return 0;
}

static int reject(struct convergence *c, const struct quorum_round *round, const char *reason,
		  size_t counted, const struct quorum_authority_set *set, const char **out)
{
	c->rejected++;
	c->api->audit(c->host, "bft.sync.reject",
		      "reason=%s node=%s round=%" PRIu64 " counted=%zu n=%u f=%u", reason,
		      round != NULL ? round->node_id : "-", round != NULL ? round->round : 0,
		      counted, set->n, set->f);
	*out = reason;
	return QUORUM_REJECT;
}

/* Adds a report for SOURCE; IV (may be NULL) is its interval, judged once the round is,
 * COUNTED whether it counts in the agreement (a quorumd authority's). */
static void report_add(struct convergence *c, const char *source, uint32_t state,
		       const char *problem, const struct interval *iv, int counted,
		       int64_t rtt_ns)
{
	size_t i = c->report_count;

	if (i >= 2 * QUORUM_AUTHORITIES_MAX)
		return;
	c->reports[i] = (struct quorum_source_report){
		.source_id = source, .state = state, .problem = problem, .rtt_ns = rtt_ns
	};
	c->report_has_iv[i] = iv != NULL;
	c->report_counted[i] = iv != NULL && counted;
	if (iv != NULL)
		c->report_iv[i] = *iv;
	c->report_count++;
}

/*
 * For a round with no agreement, names the sources that kept it from one: with RESULT's
 * skew refused, those whose midpoint lies outside the central max_cluster_skew_ns of the
 * trimmed spread ("midpoint_skewed"); otherwise those that miss the stretch most intervals
 * overlap ("outside_cluster").
 */
static void report_culprits(struct convergence *c, const struct agreement_result *result,
			    size_t counted)
{
	int64_t lo, hi;
	uint32_t coverage;
	int skew =
		result->reason != NULL && strcmp(result->reason, "cluster_skew_exceeded") == 0;

	if (skew) {
		int64_t centre = result->skew_lo + (result->skew_hi - result->skew_lo) / 2;

		lo = centre - c->max_cluster_skew_ns / 2;
		hi = centre + c->max_cluster_skew_ns / 2;
	} else if (agreement_best_cluster(c->counted, counted, c->scratch, &lo, &hi,
					  &coverage) != 0) {
		return;
	}
	for (size_t i = 0; i < c->report_count; i++) {
		const struct interval *iv = &c->report_iv[i];

		if (!c->report_has_iv[i] || !c->report_counted[i])
			continue;
		if (skew && (iv->mid < lo || iv->mid > hi))
			c->reports[i].problem = "midpoint_skewed";
		else if (!skew && (iv->hi < lo || iv->lo > hi))
			c->reports[i].problem = "outside_cluster";
	}
}

/* Tells the host the intervals of this node's own ROUND (api source_intervals_report, ABI
 * 1.13): the agreement proposed (AGREEMENT, when AGREED), the hull [LO, HI] that judged
 * the sources, and each source's interval. */
static void report_intervals(struct convergence *c, const struct quorum_event *event,
			     const struct quorum_round *round, int agreed,
			     const struct quorum_agreement *agreement, int64_t lo, int64_t hi)
{
	struct quorum_round_intervals r = { .round = round->round,
					    .agreed = agreed != 0,
					    .reference_ns = round->reference_realtime_ns };
	size_t count = 0;

	if (!QUORUM_API_HAS(c->api, source_intervals_report))
		return;
	if (agreed) {
		r.earliest_ns = agreement->earliest_ns;
		r.estimate_ns = agreement->estimate_ns;
		r.latest_ns = agreement->latest_ns;
		r.authorities_earliest_ns = lo;
		r.authorities_latest_ns = hi;
	}
	for (size_t i = 0; i < c->report_count; i++) {
		const struct interval *iv = &c->report_iv[i];

		c->intervals[count++] = (struct quorum_source_interval){
			.id = c->reports[i].source_id,
			.has_interval = (uint32_t)c->report_has_iv[i],
			.earliest_ns = c->report_has_iv[i] ? iv->lo : 0,
			.estimate_ns = c->report_has_iv[i] ? iv->mid : 0,
			.latest_ns = c->report_has_iv[i] ? iv->hi : 0,
		};
	}
	c->api->source_intervals_report(c->host, event, &r, sizeof(r), c->intervals, count);
}

/* Tells the host what this node's own ROUND made of each source: counted intervals that
 * overlap the agreement [LO, HI] are accepted, the others outliers (AGREED 0: no agreement,
 * with the sources that kept it from one named). */
static void report_sources(struct convergence *c, const struct quorum_event *event,
			   const struct quorum_round *round, int agreed, int64_t lo, int64_t hi,
			   const struct quorum_agreement *agreement, int64_t estimate)
{
	if (!round->local || !QUORUM_API_HAS(c->api, sources_report))
		return;
	for (size_t i = 0; i < round->rejected_count; i++)
		report_add(c, round->rejected_sources[i], QUORUM_SOURCE_REJECTED,
			   round->rejected_reasons != NULL && round->rejected_reasons[i] != NULL
				   ? round->rejected_reasons[i]
				   : "refused_on_arrival",
			   NULL, 0, 0);
	for (size_t i = 0; i < c->report_count; i++) {
		const struct interval *iv = &c->report_iv[i];

		if (!c->report_has_iv[i])
			continue;
		if (!agreed) {
			c->reports[i].state = QUORUM_SOURCE_NO_AGREEMENT;
			continue;
		}
		c->reports[i].state = iv->hi < lo || iv->lo > hi ? QUORUM_SOURCE_OUTLIER
								 : QUORUM_SOURCE_ACCEPTED;
		c->reports[i].offset_ns = iv->mid - estimate;
	}
	c->api->sources_report(c->host, event, round->round, c->reports, c->report_count);
	report_intervals(c, event, round, agreed, agreement, lo, hi);
}

static int convergence_process(void *state, const struct quorum_event *event,
			       const char **reason)
{
	struct convergence *c = state;
	struct quorum_authority_set set;
	struct quorum_round *round = NULL;
	struct agreement_params params;
	struct agreement_result result = { 0 };
	struct quorum_agreement agreement = { .size = sizeof(agreement) };
	size_t counted = 0, ntp = 0, rejected = 0;
	const char *why = NULL;
	int verdict, agreed = 0;
	int64_t hull_lo = 0, hull_hi = 0;

	if (strcmp(event->state->event_id, QUORUM_EVENT_SYNC_ROUND) != 0)
		return QUORUM_CONTINUE;
	c->api->authority_set(c->host, &set);
	if (c->api->round_decode(c->host, event, &round, &why) != 0)
		return reject(c, NULL, why, 0, &set, reason);
	for (size_t i = 0; i < round->observation_count; i++) {
		const struct quorum_observation *o = &round->observations[i];
		struct interval iv;

		if (o->problem != NULL) {
			rejected++;
			report_add(c, o->source_id, QUORUM_SOURCE_REJECTED, o->problem, NULL, 0,
				   o->rtt_ns);
			/* The node that asked audited its own answers on arrival. */
			if (!round->local)
				c->api->audit(c->host, "bft.observation.reject",
					      "reason=%s source=%s node=%s round=%" PRIu64,
					      o->problem, o->source_id, round->node_id,
					      round->round);
			continue;
		}
		if (o->attestation.status != QUORUM_AUTHORITY_SYNCHRONISED) {
			/* it says so itself: not counted */
			report_add(c, o->source_id, QUORUM_SOURCE_UNSYNCHRONISED, NULL, NULL, 0,
				   o->rtt_ns);
			continue;
		}
		if (c->max_radius_ns > 0 &&
		    o->attestation.radius_ns > (uint64_t)c->max_radius_ns) {
			/* however honest, an interval this wide says too little to count */
			rejected++;
			report_add(c, o->source_id, QUORUM_SOURCE_REJECTED, "radius_exceeded",
				   NULL, 0, o->rtt_ns);
			c->api->audit(c->host, "bft.observation.reject",
				      "reason=radius_exceeded source=%s node=%s round=%" PRIu64
				      " radius_ns=%" PRIu64 " max_radius_ns=%" PRId64,
				      o->source_id, round->node_id, round->round,
				      o->attestation.radius_ns, c->max_radius_ns);
			continue;
		}
		if (agreement_interval(&o->attestation, o->rtt_ns, o->age_ns,
				       o->sending_hint_ns, round->drift_ppm, &iv) != 0) {
			rejected++;
			report_add(c, o->source_id, QUORUM_SOURCE_REJECTED,
				   "interval_inconsistent", NULL, 0, o->rtt_ns);
			c->api->audit(
				c->host, "bft.observation.reject",
				"reason=interval_inconsistent source=%s node=%s round=%" PRIu64,
				o->source_id, round->node_id, round->round);
			continue;
		}
		c->api->log(c->host, QUORUM_LOG_DEBUG,
			    "observation.interval node=%s round=%" PRIu64
			    " source=%s width_ns=%" PRId64 " rtt_ns=%" PRId64
			    " processing_ns=%" PRIu64 " radius_ns=%" PRIu64,
			    round->node_id, round->round, o->source_id, iv.hi - iv.lo,
			    o->rtt_ns, o->attestation.processing_ns, o->attestation.radius_ns);
		report_add(c, o->source_id, QUORUM_SOURCE_NO_AGREEMENT, NULL, &iv,
			   o->type == QUORUM_AUTHORITY_QUORUMD, o->rtt_ns);
		if (o->type == QUORUM_AUTHORITY_QUORUMD)
			c->counted[counted++] = iv;
		else
			c->ntp[ntp++] = iv;
	}
	params = (struct agreement_params){ .n = set.n,
					    .f = set.f,
					    .min_quorum = (uint32_t)c->min_quorum,
					    .max_cluster_skew_ns = c->max_cluster_skew_ns };
	if (agreement_compute(c->counted, counted, &params, c->scratch, &result) != 0) {
		report_culprits(c, &result, counted);
		verdict = reject(c, round, result.reason, counted, &set, reason);
		goto out_free;
	}
	agreed = 1;
	hull_lo = result.lo;
	hull_hi = result.hi;
	if (c->use_ntp && ntp > 0)
		agreement.ntp_used = agreement_narrow(
			c->ntp, ntp, set.ntp_sources,
			c->ntp_max_faulty > 0 ? (uint32_t)c->ntp_max_faulty
					      : agreement_ntp_max_faulty(set.ntp_sources),
			c->scratch, &result);
	agreement.n = set.n;
	agreement.f = set.f;
	agreement.threshold = result.threshold;
	agreement.accepted = result.inside;
	agreement.outliers = result.outliers;
	agreement.rejected = (uint32_t)(rejected + round->rejected_count);
	agreement.local = round->local ? 1 : 0;
	agreement.round = round->round;
	agreement.reference_mono_ns = round->reference_mono_ns;
	agreement.earliest_ns = result.lo;
	agreement.estimate_ns = result.estimate;
	agreement.latest_ns = result.hi;
	agreement.drift_ns = result.estimate - round->reference_realtime_ns;
	agreement.warp_score =
		set.n > 0 ? (double)(set.n - result.inside) / (double)set.n : 1.0;
	memcpy(agreement.quorum_hash, round->digest, sizeof(agreement.quorum_hash));
	if (c->api->propose(c->host, event, &agreement) != 0) {
		verdict = reject(c, round, "worker_sync_not_converged", counted, &set, reason);
		goto out_free;
	}
	c->proposed++;
	c->api->log(c->host, QUORUM_LOG_DEBUG,
		    "agreement.proposed node=%s round=%" PRIu64 " width_ns=%" PRId64
		    " counted=%zu inside=%u outliers=%u ntp_used=%u",
		    round->node_id, round->round, result.hi - result.lo, counted, result.inside,
		    result.outliers, agreement.ntp_used);
	verdict = QUORUM_CONTINUE;
out_free:
	report_sources(c, event, round, agreed, hull_lo, hull_hi, &agreement, result.estimate);
	c->report_count = 0;
	c->api->round_free(c->host, round);
	return verdict;
}

static void convergence_fini(void *state)
{
	struct convergence *c = state;

	c->api->log(c->host, QUORUM_LOG_INFO,
		    "convergence.stopped proposed=%" PRIu64 " rejected=%" PRIu64, c->proposed,
		    c->rejected);
	free(c->counted);
	free(c->ntp);
	free(c->scratch);
	free(c->reports);
	free(c->report_iv);
	free(c->report_has_iv);
	free(c->report_counted);
	free(c->intervals);
	free(c);
}

static const struct quorum_setting convergence_settings[] = {
	QUORUM_SETTING_INT_AT("min_quorum", struct convergence_settings, min_quorum, 0,
			      QUORUM_AUTHORITIES_MAX, "0",
			      "counted answers needed, when more than n - f"),
	QUORUM_SETTING_INT_AT("max_cluster_skew_ns", struct convergence_settings,
			      max_cluster_skew_ns, 0, 3600000000000LL, "1000000000",
			      "widest spread of agreeing midpoints (0: off)"),
	QUORUM_SETTING_INT_AT("max_radius_ns", struct convergence_settings, max_radius_ns, 0,
			      3600000000000LL, "1000000000",
			      "answers claiming a wider radius are not counted (0: off)"),
	QUORUM_SETTING_BOOL_AT("use_ntp", struct convergence_settings, use_ntp, "true",
			       "let NTP sources narrow an agreement the authorities reached"),
	QUORUM_SETTING_INT_AT("ntp_max_faulty", struct convergence_settings, ntp_max_faulty, 0,
			      QUORUM_AUTHORITIES_MAX, "0",
			      "NTP sources that may be wrong or silent (0: floor((m-1)/3), at "
			      "least 1); fewer than 2 * this + 1 configured never narrow"),
	{ .type = QUORUM_SETTING_END },
};

static const struct quorum_stage_ops convergence_ops = {
	.size = sizeof(struct quorum_stage_ops),
	.process = convergence_process,
};

QUORUM_PLUGIN_EXPORT const struct quorum_plugin quorum_plugin = {
	QUORUM_PLUGIN_HEADER(QUORUM_PLUGIN_STAGE, "convergence", PACKAGE_VERSION,
			     QUORUM_ROLE_CONVERGENCE),
	.settings = convergence_settings,
	.settings_size = sizeof(struct convergence_settings),
	.init = convergence_init,
	.fini = convergence_fini,
	.ops = &convergence_ops,
};
