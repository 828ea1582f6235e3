/* quorumctl-rounds.c -- `quorumctl vault verify` on the round log (see quorumctl-rounds.h):
 * the host's own round decoder checks each attestation (canonical bytes, key id, Ed25519
 * signature), and the convergence stage's own agreement code computes each committed
 * agreement again from the attestations that verified. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "agreement.h"
#include "keys-internal.h"
#include "quorumctl-rounds.h"
#include "roundlog.h"
#include "timecodec-internal.h"

struct authority_key {
	char id[KEY_ID_HEX_LEN + 1];
	EVP_PKEY *key;
};

struct rounds_check {
	struct authority_key *keys;
	size_t key_count;
	uint64_t records, rounds, shrunk, summaries, committed;
	uint64_t verified, unknown_key, ntp;
	uint64_t rechecked, not_rechecked;
	uint64_t problems;
	struct interval *intervals;
	void *scratch;
};

struct rounds_check *rounds_check_new(const char *const *key_files, size_t count)
{
	struct rounds_check *c = calloc(1, sizeof(*c));
	char why[512];

	if (c == NULL)
		return NULL;
	c->keys = calloc(count + 1, sizeof(*c->keys));
	c->intervals = calloc(QUORUM_AUTHORITIES_MAX, sizeof(*c->intervals));
	c->scratch = malloc(AGREEMENT_SCRATCH(QUORUM_AUTHORITIES_MAX));
	if (c->keys == NULL || c->intervals == NULL || c->scratch == NULL) {
		rounds_check_free(c);
		return NULL;
	}
	for (size_t i = 0; i < count; i++) {
		if (key_load_public(key_files[i], &c->keys[i].key, why, sizeof(why)) != 0) {
			fprintf(stderr, "quorumctl: %s\n", why);
			rounds_check_free(c);
			return NULL;
		}
		c->key_count++;
		if (key_id(c->keys[i].key, c->keys[i].id) != 0) {
			fprintf(stderr, "quorumctl: %s: not an Ed25519 public key\n",
				key_files[i]);
			rounds_check_free(c);
			return NULL;
		}
	}
	return c;
}

void rounds_check_free(struct rounds_check *check)
{
	if (check == NULL)
		return;
	for (size_t i = 0; i < check->key_count; i++)
		EVP_PKEY_free(check->keys[i].key);
	free(check->keys);
	free(check->intervals);
	free(check->scratch);
	free(check);
}

/* round_decode's view of the authorities: an NTP observation is an NTP source; an
 * attestation's authority is known when a key with the key id it names was given. */
static int lookup(void *arg, const char *id, const char *claimed_key_id,
		  const uint8_t digest[SHA256_DIGEST_LENGTH], uint32_t *type,
		  const char **key_id_out, EVP_PKEY **key, int *verified)
{
	struct rounds_check *c = arg;

	*verified = 0;
	if (claimed_key_id == NULL) {
		*type = QUORUM_AUTHORITY_NTP;
		*key_id_out = "";
		*key = NULL;
		return 0;
	}
	for (size_t i = 0; i < c->key_count; i++) {
		if (strcmp(c->keys[i].id, claimed_key_id) == 0) {
			*type = QUORUM_AUTHORITY_QUORUMD;
			*key_id_out = c->keys[i].id;
			*key = c->keys[i].key;
			return 0;
		}
	}
	return -ENOENT;
}

/* Computes round R's committed agreement again from ROUND's verified attestations. */
static void agreement_recheck(struct rounds_check *c, uint64_t index,
			      const struct roundlog_round *r, const struct quorum_round *round)
{
	struct agreement_params params = { .n = r->n, .f = r->f };
	struct agreement_result res = { 0 };
	size_t k = 0;
	int same;

	for (size_t i = 0; i < round->observation_count; i++) {
		const struct quorum_observation *o = &round->observations[i];

		if (o->type != QUORUM_AUTHORITY_QUORUMD)
			continue;
		if (o->problem != NULL) {
			c->not_rechecked++; /* an attestation without its key: nothing to redo
					     */
			return;
		}
		if (o->attestation.status != QUORUM_AUTHORITY_SYNCHRONISED ||
		    k >= QUORUM_AUTHORITIES_MAX ||
		    agreement_interval(&o->attestation, o->rtt_ns, o->age_ns,
				       o->sending_hint_ns, round->drift_ppm,
				       &c->intervals[k]) != 0)
			continue;
		k++;
	}
	/* The node's settings (max_radius_ns) may have counted another set: not comparable. */
	if (k != (size_t)r->accepted + r->outliers) {
		c->not_rechecked++;
		return;
	}
	if (agreement_compute(c->intervals, k, &params, c->scratch, &res) != 0) {
		printf("record %" PRIu64 ": round %" PRIu64
		       " was committed, but its attestations give no agreement (%s)\n",
		       index, r->round, res.reason);
		c->problems++;
		return;
	}
	/* NTP sources may only have narrowed it, inside what the authorities decided. */
	same = r->ntp_used == 0
		       ? res.lo == r->earliest_ns && res.hi == r->latest_ns &&
				 res.estimate == r->estimate_ns && res.inside == r->accepted
		       : r->earliest_ns >= res.lo && r->latest_ns <= res.hi &&
				 r->earliest_ns <= r->estimate_ns &&
				 r->estimate_ns <= r->latest_ns;
	if (!same) {
		printf("record %" PRIu64 ": round %" PRIu64 " committed [%" PRId64 ", %" PRId64
		       "]; its attestations give [%" PRId64 ", %" PRId64 "]\n",
		       index, r->round, r->earliest_ns, r->latest_ns, res.lo, res.hi);
		c->problems++;
		return;
	}
	c->rechecked++;
}

unsigned rounds_check_record(struct rounds_check *check, uint64_t index, const uint8_t *payload,
			     size_t len)
{
	struct rounds_check *c = check;
	uint64_t before = c->problems;
	struct roundlog_view *v = NULL;
	char why[256];

	c->records++;
	if (roundlog_decode(payload, len, &v, why, sizeof(why)) != 0) {
		printf("record %" PRIu64 ": round log does not read: %s\n", index, why);
		c->problems++;
		return 1;
	}
	for (size_t i = 0; i < v->count; i++) {
		const struct roundlog_round *r = &v->rounds[i];
		struct quorum_bytes bytes = { r->payload, r->len };
		struct round_view *round = NULL;
		const char *reason = NULL;

		c->rounds++;
		c->shrunk += r->shrunk != 0;
		c->committed += r->committed != 0;
		if (r->summary) { /* its hash and decision: no attestation to check */
			c->summaries++;
			continue;
		}
		if (round_decode(&bytes, v->node_id, lookup, c, &round, &reason) != 0) {
			printf("record %" PRIu64 ": round %" PRIu64 " does not decode: %s\n",
			       index, r->round, reason);
			c->problems++;
			continue;
		}
		for (size_t j = 0; j < round->round.observation_count; j++) {
			const struct quorum_observation *o = &round->round.observations[j];

			if (o->type == QUORUM_AUTHORITY_NTP && o->problem == NULL)
				c->ntp++;
			else if (o->problem == NULL)
				c->verified++;
			else if (strcmp(o->problem, "untrusted_authority") == 0)
				c->unknown_key++;
			else {
				printf("record %" PRIu64 ": round %" PRIu64
				       ": %s's attestation: %s\n",
				       index, r->round, o->source_id, o->problem);
				c->problems++;
			}
		}
		if (r->committed)
			agreement_recheck(c, index, r, &round->round);
		round_view_free(round);
	}
	roundlog_view_free(v);
	return (unsigned)(c->problems - before);
}

uint64_t rounds_check_report(const struct rounds_check *check, FILE *out)
{
	const struct rounds_check *c = check;

	if (c->records == 0)
		return 0;
	fprintf(out,
		"rounds: %" PRIu64 " in %" PRIu64 " round log records (%" PRIu64
		" shrunk, %" PRIu64 " summaries: hash and decision only), %" PRIu64
		" committed\n",
		c->rounds, c->records, c->shrunk, c->summaries, c->committed);
	fprintf(out,
		"attestations: %" PRIu64 " verified, %" PRIu64
		" not checked (no --authority-key "
		"with their key id), %" PRIu64 " NTP readings\n",
		c->verified, c->unknown_key, c->ntp);
	fprintf(out,
		"agreements: %" PRIu64
		" computed again from their attestations and equal, %" PRIu64
		" not (attestations not checked, or counted under other settings)\n",
		c->rechecked, c->not_rechecked);
	return c->problems;
}
