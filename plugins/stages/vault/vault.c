/* vault.c -- the vault stage: makes every event durable before the later stages act on it.
 * It appends each event that reaches it (its canonical SignedState bytes) to the
 * hash-chained segment log (audit/vaultlog), records every audit record the host routes to
 * it (rejections with their reasons, agreements, mode changes, key rotations), and commits
 * them with fsync: at once ("every") or in groups ("batch", one fsync per window). This
 * node's own sync rounds go to the round log instead (audit/roundlog): each shrunk to
 * what an auditor needs, with its verdict and the audit records its run wrote, several
 * rounds to a record (round_log_s); the peers' rounds are only counted there (their own
 * vaults keep them). It publishes QUORUM_VAULT_SERVICE so the merkle stage can follow the
 * log and transports can give an answer only once the records it depends on are durable.
 * After an I/O error the vault fails closed: every later event is rejected. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include <quorum/gossip.h>
#include <quorum/plugin.h>

#include "mtree.h"
#include "note.h"
#include "roundjournal.h"
#include "roundlog.h"
#include "vaultlog.h"
#include "clocks.h"

/* The host ingests its own rounds as this source. */
#define TIMECORE_SOURCE "timecore"
/* A round log record is written before it grows past this. */
#define ROUND_LOG_BYTES_MAX (VAULT_PAYLOAD_MAX / 2)
/* retain_days is checked this often (and after each rotation). */
#define RETENTION_CHECK_MS 60000

struct waiter {
	uint64_t count;
	quorum_callback cb;	 /* when_durable's, or ... */
	quorum_durable_fn await; /* ... await_durable's: also told of a failure */
	void *arg;
	struct waiter *next;
};

struct subscriber {
	quorum_record_fn cb;
	void *arg;
};

struct vault_stage {
	struct quorum_host *host;
	const struct quorum_api *api;
	struct vault *log;
	int batch;		    /* fsync = "batch" */
	int64_t batch_ms;	    /* the group-commit window */
	struct quorum_timer *timer; /* the pending group commit, or NULL */
	struct waiter *waiters;	    /* sorted by count */
	struct subscriber subs[8];
	size_t sub_count;
	uint64_t event_sequence; /* the last event appended (host ingest counter) ... */
	uint64_t event_index;	 /* ... and its record */
	int has_event;
	int event_in_round_log;	      /* ... or it went to the round log */
	struct roundlog *rounds;      /* rounds waiting for their record ... */
	struct roundjournal *journal; /* ... and as they came, in rounds.journal */
	int64_t round_log_ms;	      /* how long a round waits at most (0: written at once) */
	struct quorum_timer *round_timer; /* writes the round log when its wait is over */
	uint64_t round_in_flight; /* sequence of this node's round in the pipeline, or 0 */
	uint64_t rounds_logged, round_records, peer_rounds;
	int64_t retain_ns;	/* retain_days, in ns (0: no limit) */
	int64_t retain_bytes;	/* 0: no limit */
	char archive_dir[4096]; /* where removed segments go ("": removed) */
	struct quorum_timer *retention_timer;
	uint64_t segments_seen;
	int retention_queued;
	uint64_t retention_waits;
	uint64_t checkpoint_index; /* a checkpoint record awaiting its fsync */
	int checkpoint_pending;
	int failed;		    /* an I/O error: fail closed */
	char failure[160];	    /* what failed, for the host and the log */
	struct quorum_timer *retry; /* reopens the log once a second while failed */
	int64_t failed_mono_ns;
	uint64_t retries;
	/* what reopening needs: the options, and the folder and key they point to */
	struct vault_options opt;
	char dir_path[4096], boot[160];
	uint8_t key[VAULT_KEY_LEN];
	uint64_t appended, syncs;
	/* The same in the node's metrics (ABI 1.11; NULL on an older host). */
	struct {
		struct quorum_metric *records, *bytes, *fsyncs, *round_records, *rounds_logged,
			*peer_rounds;
	} metric;
	/* the background verification of the whole log, verify_rate records a second */
	int64_t verify_rate;
	struct vault_verifier *verifier;
	struct quorum_timer *verify_timer;
	struct quorum_vault_check check;
	int64_t pass_done_mono_ns; /* the last complete pass ended then (0: none yet) */
};

static void retry_cb(void *arg);
static void fail_awaiters(struct vault_stage *v, int status);
static void verifier_restart(struct vault_stage *v);
static void retention_after_rotation(struct vault_stage *v);
static int round_log_write(struct vault_stage *v);
static int round_journal_restart(struct vault_stage *v);

static void vault_log_cb(void *arg, int level, const char *msg)
{
	struct vault_stage *v = arg;

	v->api->log(v->host, level, "%s", msg);
}

/* Fails closed: every event is refused and the host serves no time until the log can be
 * written again; a timer reopens the log once a second to find out. */
static void vault_fail(struct vault_stage *v, const char *what, int err)
{
	if (v->failed)
		return;
	v->api->log(v->host, QUORUM_LOG_ERROR,
		    "vault.failed what=%s error=\"%s\" effect=every_event_rejected,"
		    "time_not_served retry_ms=1000",
		    what, strerror(-err));
	snprintf(v->failure, sizeof(v->failure), "vault %s failed: %s", what, strerror(-err));
	v->failed = 1;
	v->failed_mono_ns = mono_now_ns();
	fail_awaiters(v, -EIO);
	if (v->retry == NULL)
		v->retry = v->api->timer_start(v->host, 1000, 1000, retry_cb, v);
	if (QUORUM_API_HAS(v->api, audit_changed))
		v->api->audit_changed(v->host); /* no time served from this instant */
}

/* Runs the waiters whose records are all durable now. */
static void run_waiters(struct vault_stage *v)
{
	uint64_t durable = vault_durable(v->log);

	while (v->waiters != NULL && v->waiters->count <= durable) {
		struct waiter *w = v->waiters;

		v->waiters = w->next;
		if (w->await != NULL)
			w->await(w->arg, 0);
		else
			w->cb(w->arg);
		free(w);
	}
}

/* Tells the await_durable waiters that their records may never be durable (STATUS): their
 * answers fail now rather than wait for a reopen. when_durable's stay (see retry_cb). */
static void fail_awaiters(struct vault_stage *v, int status)
{
	for (struct waiter **pp = &v->waiters; *pp != NULL;) {
		struct waiter *w = *pp;

		if (w->await == NULL) {
			pp = &w->next;
			continue;
		}
		*pp = w->next;
		w->await(w->arg, status);
		free(w);
	}
}

/* Reopens the log as it is on disk (the records that could not be written were never
 * durable, so never acknowledged: recovery drops them), and resumes when that works. The
 * merkle stage rewinds its tree to the log when the next record arrives. */
static void retry_cb(void *arg)
{
	struct vault_stage *v = arg;
	uint64_t before = vault_count(v->log);
	char why[512] = "";
	struct vault *log;
	int err;

	if (!v->failed)
		return;
	v->retries++;
	vault_close(v->log);
	v->log = NULL;
	err = vault_open(&v->opt, &log, why, sizeof(why));
	if (err == 0) {
		roundjournal_close(v->journal);
		v->journal = NULL;
		err = roundjournal_open(v->dir_path, v->opt.key, &v->journal, why, sizeof(why));
		if (err != 0)
			vault_close(log);
	}
	if (err != 0) {
		if (v->retries == 1 || v->retries % 60 == 0)
			v->api->log(v->host, QUORUM_LOG_WARNING,
				    "vault.still_failing retries=%" PRIu64 " error=\"%s\"",
				    v->retries, why);
		return;
	}
	v->log = log;
	v->failed = 0;
	v->api->timer_stop(v->host, v->retry);
	v->retry = NULL;
	verifier_restart(v); /* its handle belonged to the old log */
	/* Waiters for records the log no longer has will never see them: said, and dropped. */
	for (struct waiter **pp = &v->waiters; *pp != NULL;) {
		struct waiter *w = *pp;

		if (w->count <= vault_durable(v->log)) {
			pp = &w->next;
			continue;
		}
		*pp = w->next;
		v->api->log(v->host, QUORUM_LOG_WARNING,
			    "vault.waiter_dropped count=%" PRIu64 " reason=record_lost",
			    w->count);
		free(w);
	}
	v->api->log(v->host, QUORUM_LOG_NOTICE,
		    "vault.recovered after_ms=%" PRId64 " records=%" PRIu64
		    " lost_unsynced=%" PRIu64 " retries=%" PRIu64,
		    (mono_now_ns() - v->failed_mono_ns) / 1000000, vault_count(v->log),
		    before > vault_count(v->log) ? before - vault_count(v->log) : 0,
		    v->retries);
	v->retries = 0;
	/* The rounds held meanwhile (their journal may have lost its tail) go now, and the
	 * journal starts afresh. */
	if (round_log_write(v) != 0 || round_journal_restart(v) != 0)
		return;
	if (QUORUM_API_HAS(v->api, audit_changed))
		v->api->audit_changed(v->host);
	run_waiters(v);
}

static void vault_metric_add(struct vault_stage *v, struct quorum_metric *m, int64_t delta)
{
	if (m != NULL)
		v->api->metric_add(m, delta);
}

/* The stage's series in the node's metrics (ABI 1.11). */
static void vault_metrics_register(struct vault_stage *v)
{
	const struct quorum_api *api = v->api;

	if (!QUORUM_API_HAS(api, metric_register))
		return;
	v->metric.records = api->metric_register(
		v->host, QUORUM_METRIC_COUNTER, "quorum_vault_appended_records_total", NULL,
		"Records appended to the vault's segment log since start.", 1.0);
	v->metric.bytes = api->metric_register(
		v->host, QUORUM_METRIC_COUNTER, "quorum_vault_appended_bytes_total", NULL,
		"Payload bytes of the records appended since start.", 1.0);
	v->metric.fsyncs = api->metric_register(v->host, QUORUM_METRIC_COUNTER,
						"quorum_vault_fsyncs_total", NULL,
						"Commits of the segment log with fsync.", 1.0);
	v->metric.round_records = api->metric_register(
		v->host, QUORUM_METRIC_COUNTER, "quorum_vault_round_log_records_total", NULL,
		"Round-log records written (each holds this node's rounds of a window).", 1.0);
	v->metric.rounds_logged = api->metric_register(
		v->host, QUORUM_METRIC_COUNTER, "quorum_vault_rounds_logged_total", NULL,
		"This node's rounds taken into the round log.", 1.0);
	v->metric.peer_rounds = api->metric_register(
		v->host, QUORUM_METRIC_COUNTER, "quorum_vault_peer_rounds_total", NULL,
		"Peers' rounds counted in the round log (not stored).", 1.0);
}

static int vault_commit(struct vault_stage *v)
{
	int err;

	if (v->failed)
		return -EIO;
	if (roundjournal_dirty(v->journal)) {
		err = roundjournal_sync(v->journal);
		if (err != 0) {
			vault_fail(v, "round_journal_fsync", err);
			return err;
		}
	}
	if (vault_durable(v->log) == vault_count(v->log))
		return 0;
	err = vault_sync(v->log);
	if (err != 0) {
		vault_fail(v, "fsync", err);
		return err;
	}
	v->syncs++;
	vault_metric_add(v, v->metric.fsyncs, 1);
	if (v->checkpoint_pending && vault_durable(v->log) > v->checkpoint_index) {
		v->checkpoint_pending = 0;
		err = vault_mark_checkpoint(v->log, v->checkpoint_index);
		if (err != 0)
			v->api->log(v->host, QUORUM_LOG_WARNING,
				    "vault.checkpoint_mark_failed index=%" PRIu64
				    " error=\"%s\"",
				    v->checkpoint_index, strerror(-err));
	}
	run_waiters(v);
	return 0;
}

static void batch_timer_cb(void *arg)
{
	struct vault_stage *v = arg;

	v->timer = NULL; /* a one-shot timer's handle ends with its callback */
	vault_commit(v);
}

/* Commits now with fsync = "every", else within the group-commit window. */
static int commit_soon(struct vault_stage *v)
{
	if (!v->batch)
		return vault_commit(v);
	if (v->timer == NULL) {
		v->timer = v->api->timer_start(v->host, (uint64_t)v->batch_ms, 0,
					       batch_timer_cb, v);
		if (v->timer == NULL)
			return vault_commit(v); /* no timer: commit now rather than never */
	}
	return 0;
}

static int notify_one(void *arg, const struct vault_record *rec)
{
	struct vault_stage *v = arg;

	for (size_t i = 0; i < v->sub_count; i++)
		v->subs[i].cb(v->subs[i].arg, rec->index, rec->raw, rec->raw_len);
	return 0;
}

/* Tells the subscribers about every record from FROM on: each, in order, read back from
 * the log (the log may have written its own rotation record before the caller's). */
static int notify_from(struct vault_stage *v, uint64_t from)
{
	char why[256] = "";
	int err;

	if (v->sub_count == 0)
		return 0;
	err = vault_iterate(v->log, from, vault_count(v->log), notify_one, v, why, sizeof(why));
	if (err != 0) {
		v->api->log(v->host, QUORUM_LOG_ERROR, "vault.notify_failed error=\"%s\"", why);
		vault_fail(v, "notify", err < 0 ? err : -EIO);
		return err < 0 ? err : -EIO;
	}
	return 0;
}

/* Appends one record, tells the subscribers, and commits it (now, or in the window). */
static int vault_put(struct vault_stage *v, uint16_t type, const void *payload, size_t len,
		     uint64_t *index)
{
	struct vault_record rec;
	uint64_t before = vault_count(v->log);
	int err;

	if (v->failed)
		return -EIO;
	err = vault_append(v->log, type, payload, len, &rec);
	if (err != 0) {
		if (err != -EINVAL)
			vault_fail(v, "append", err);
		return err;
	}
	v->appended++;
	vault_metric_add(v, v->metric.records, 1);
	vault_metric_add(v, v->metric.bytes, (int64_t)len);
	retention_after_rotation(v);
	if (index != NULL)
		*index = rec.index;
	if (type == QUORUM_RECORD_CHECKPOINT) {
		v->checkpoint_index = rec.index;
		v->checkpoint_pending = 1;
	}
	if (rec.index == before) {
		for (size_t i = 0; i < v->sub_count; i++)
			v->subs[i].cb(v->subs[i].arg, rec.index, rec.raw, rec.raw_len);
	} else {
		err = notify_from(v, before);
		if (err != 0)
			return err;
	}
	return commit_soon(v);
}

/* ---- the round log ---- */

/* The journal holds nothing the log does not: it starts afresh at the log's end. */
static int round_journal_restart(struct vault_stage *v)
{
	int err = roundjournal_start(v->journal, vault_count(v->log));

	if (err != 0)
		vault_fail(v, "round_journal", err);
	return err;
}

/* A journal write that failed fails the vault closed, as a log write would. */
static int round_journal_check(struct vault_stage *v, int err)
{
	if (err != 0 && !v->failed)
		vault_fail(v, "round_journal", err);
	return err;
}

/* Writes the rounds waiting, with the peers' rounds counted meanwhile, as one record. */
static int round_log_write(struct vault_stage *v)
{
	size_t rounds = roundlog_count(v->rounds), len;
	uint8_t *payload;
	int err;

	if (v->round_timer != NULL) {
		v->api->timer_stop(v->host, v->round_timer);
		v->round_timer = NULL;
	}
	if (roundlog_empty(v->rounds))
		return 0;
	err = roundlog_encode(v->rounds, &payload, &len);
	if (err != 0) {
		vault_fail(v, "round_log", err);
		return err;
	}
	err = vault_put(v, QUORUM_RECORD_ROUNDS, payload, len, NULL);
	free(payload);
	if (err != 0) {
		v->api->log(v->host, QUORUM_LOG_ERROR,
			    "vault.rounds_lost rounds=%zu error=\"%s\"", rounds,
			    strerror(-err));
		return err;
	}
	v->round_records++;
	vault_metric_add(v, v->metric.round_records, 1);
	/* Durable now, whatever the fsync mode: then the journal of these rounds can go. */
	err = vault_commit(v);
	if (err != 0)
		return err;
	return round_journal_restart(v);
}

static void round_timer_cb(void *arg)
{
	struct vault_stage *v = arg;

	v->round_timer = NULL; /* a one-shot timer's handle ends with its callback */
	round_log_write(v);
}

/* Starts the wait of the round log's first entry (a peer's round only waits a second
 * when rounds are written at once). */
static void round_log_wait(struct vault_stage *v)
{
	int64_t ms = v->round_log_ms > 0 ? v->round_log_ms : 1000;

	if (v->round_timer == NULL)
		v->round_timer =
			v->api->timer_start(v->host, (uint64_t)ms, 0, round_timer_cb, v);
}

/* A sync round: this node's goes to the round log (its record written later, with what
 * becomes of it), a peer's (or a peer's digest of one) is counted there. 1 when it went, 0 when
 * it is to be recorded as an event, -ENOMEM. */
static int round_log_take(struct vault_stage *v, const struct quorum_event *event)
{
	const struct quorum_signed_state *st = event->state;
	int was_empty = roundlog_empty(v->rounds), err;

	/* A peer's round digest (issue 19) is counted like a peer's round: one a round from
	 * a few peers, each saying only what the peer's own vault keeps. */
	if (strcmp(st->event_id, QUORUM_EVENT_SYNC_ROUND) != 0 &&
	    strcmp(st->event_id, QUORUM_EVENT_DIGEST) != 0)
		return 0;
	if (strcmp(st->event_id, QUORUM_EVENT_SYNC_ROUND) == 0 &&
	    strcmp(event->source, TIMECORE_SOURCE) == 0 && event->peer[0] == '\0') {
		err = roundlog_add(v->rounds, st->payload.data, st->payload.len);
		if (err == -EINVAL)
			return 0; /* not a round of this node: an event like any */
		if (err != 0)
			return err;
		v->round_in_flight = event->sequence;
		v->rounds_logged++;
		vault_metric_add(v, v->metric.rounds_logged, 1);
		/* On disk before the later stages act on it with fsync = "every". */
		err = round_journal_check(
			v, roundjournal_round(v->journal, st->payload.data, st->payload.len));
		if (err == 0 && !v->batch)
			err = vault_commit(v);
		if (err != 0)
			return err;
	} else if (strcmp(event->source, QUORUM_GOSSIP_SOURCE) == 0 && event->peer[0] != '\0') {
		const char *origin = st->gossip != NULL && st->gossip->origin_node_id != NULL &&
						     st->gossip->origin_node_id[0] != '\0'
					     ? st->gossip->origin_node_id
					     : event->peer;

		err = roundlog_peer(v->rounds, origin);
		if (err != 0)
			return err;
		v->peer_rounds++;
		vault_metric_add(v, v->metric.peer_rounds, 1);
	} else {
		return 0;
	}
	if (was_empty)
		round_log_wait(v);
	return 1;
}

/* The final verdict on this node's round in flight closes its entry; the record is written
 * at once with round_log_s = 0, or when it would grow too large. */
static void vault_stage_observe(void *state, const struct quorum_event *event,
				const struct quorum_verdict *verdict)
{
	struct vault_stage *v = state;
	uint32_t code = verdict->code == QUORUM_REJECT ? ROUNDLOG_VERDICT_REJECT
			: verdict->code == QUORUM_HOLD ? ROUNDLOG_VERDICT_HOLD
						       : ROUNDLOG_VERDICT_ACCEPT;

	if (v->round_in_flight == 0 || event->sequence != v->round_in_flight)
		return;
	v->round_in_flight = 0;
	if (roundlog_verdict(v->rounds, code, verdict->stage, verdict->reason) != 0)
		v->api->log(v->host, QUORUM_LOG_WARNING,
			    "vault.round_verdict_lost reason=out_of_memory");
	if (v->failed)
		return; /* kept in memory: written when the log recovers */
	if (round_journal_check(v, roundjournal_verdict(v->journal, code, verdict->stage,
							verdict->reason)) != 0 ||
	    commit_soon(v) != 0)
		return;
	if (v->round_log_ms == 0 || roundlog_bytes(v->rounds) >= ROUND_LOG_BYTES_MAX)
		round_log_write(v);
}

/* ---- retention: the oldest segments go, the log stays verifiable ---- */

struct first_checkpoint {
	uint64_t size;
	int found;
	uint64_t seen;
};

#define RETENTION_SCAN_MAX 100000 /* records looked at for the first kept checkpoint */

static int first_checkpoint_cb(void *arg, const struct vault_record *rec)
{
	struct first_checkpoint *c = arg;
	struct checkpoint cp;
	const char *why = NULL;
	size_t text_len;

	if (++c->seen > RETENTION_SCAN_MAX)
		return 1;
	if (rec->type != QUORUM_RECORD_CHECKPOINT || rec->sealed)
		return 0;
	if (note_text_length((const char *)rec->payload, rec->payload_len, &text_len) != 0 ||
	    checkpoint_parse((const char *)rec->payload, text_len, &cp, &why) != 0)
		return 0; /* not a checkpoint this log could check: look further */
	c->size = cp.size;
	c->found = 1;
	return 1;
}

/* Folds leaves into a compact range until it has BASE leaves, keeps the rest as the new
 * anchor's leaf hashes. */
struct fold {
	struct mtree_range range;
	uint64_t base, next;
	uint8_t (*leaves)[MTREE_HASH_LEN];
	size_t leaf_count;
};

static void fold_leaf(struct fold *f, const uint8_t leaf[MTREE_HASH_LEN])
{
	if (f->range.size < f->base)
		mtree_range_append(&f->range, leaf);
	else
		memcpy(f->leaves[f->leaf_count++], leaf, MTREE_HASH_LEN);
	f->next++;
}

static int fold_record(void *arg, const struct vault_record *rec)
{
	uint8_t leaf[MTREE_HASH_LEN];

	mtree_leaf_hash(rec->raw, rec->raw_len, leaf);
	fold_leaf(arg, leaf);
	return 0;
}

/* The segments expired by retain_days and retain_bytes, the oldest first: the index of the
 * first one kept (0: none expired). The last segment always stays. */
static size_t retention_cut(struct vault_stage *v, uint64_t *bytes_removed)
{
	size_t n = (size_t)vault_segment_count(v->log), cut = 0;
	struct vault_segment_info seg, next;
	uint64_t total = 0, removed = 0;
	int64_t now = realtime_now_ns();

	for (size_t i = 0; i < n && vault_segment_info(v->log, i, &seg) == 0; i++)
		total += seg.bytes;
	for (size_t i = 0; i + 1 < n; i++) {
		int expired;

		if (vault_segment_info(v->log, i, &seg) != 0 ||
		    vault_segment_info(v->log, i + 1, &next) != 0)
			break;
		/* A segment ends when the next begins; it expires once that is old enough. */
		expired = (v->retain_ns > 0 && next.created_ns <= now - v->retain_ns) ||
			  (v->retain_bytes > 0 && total - removed > (uint64_t)v->retain_bytes);
		if (!expired)
			break;
		removed += seg.bytes;
		cut = i + 1;
	}
	*bytes_removed = removed;
	return cut;
}

/* Removes (or archives) the expired segments. The kept log must start at a signed
 * checkpoint: the tree base is the size of the first checkpoint the kept log holds (or its
 * first record, if smaller), so every kept checkpoint can be checked from the anchor. */
static void retention_run(struct vault_stage *v)
{
	const struct vault_anchor *prev;
	struct vault_segment_info first;
	struct first_checkpoint cp = { 0 };
	struct vault_anchor next = { 0 };
	struct fold fold = { 0 };
	uint64_t removed_bytes, was_first;
	char why[512] = "";
	size_t cut;
	int err;

	if ((v->retain_ns == 0 && v->retain_bytes == 0) || v->failed || v->log == NULL)
		return;
	cut = retention_cut(v, &removed_bytes);
	if (cut == 0 || vault_segment_info(v->log, cut, &first) != 0)
		return;
	err = vault_iterate(v->log, first.first_index, vault_count(v->log), first_checkpoint_cb,
			    &cp, why, sizeof(why));
	if (err < 0 || !cp.found) {
		if (v->retention_waits++ == 0)
			v->api->log(v->host, QUORUM_LOG_INFO,
				    "vault.retention_waits first_index=%" PRIu64
				    " reason=no_checkpoint_after_it",
				    first.first_index);
		return;
	}
	v->retention_waits = 0;
	prev = vault_anchor(v->log);
	was_first = vault_first(v->log);
	mtree_range_init(&fold.range);
	if (prev != NULL) {
		fold.range.size = prev->tree_base;
		fold.range.count = prev->range_count;
		memcpy(fold.range.hash, prev->range, prev->range_count * MTREE_HASH_LEN);
	}
	fold.base = cp.size < first.first_index ? cp.size : first.first_index;
	fold.next = fold.range.size;
	fold.leaves = malloc((first.first_index - fold.base + 1) * MTREE_HASH_LEN);
	if (fold.leaves == NULL)
		return;
	for (size_t i = 0; prev != NULL && i < prev->leaf_count; i++)
		fold_leaf(&fold, prev->leaves[i]);
	err = vault_iterate(v->log, was_first, first.first_index, fold_record, &fold, why,
			    sizeof(why));
	if (err == 0 && (fold.next != first.first_index || fold.range.size != fold.base)) {
		snprintf(why, sizeof(why), "the removed records do not lead to record %" PRIu64,
			 first.first_index);
		err = -EBADMSG;
	}
	if (err == 0) {
		next.segment = first.number;
		next.tree_base = fold.base;
		next.range_count = fold.range.count;
		memcpy(next.range, fold.range.hash, fold.range.count * MTREE_HASH_LEN);
		next.leaf_count = fold.leaf_count;
		next.leaves = fold.leaves;
		err = vault_retain(v->log, &next,
				   v->archive_dir[0] != '\0' ? v->archive_dir : NULL, why,
				   sizeof(why));
	}
	free(fold.leaves);
	if (vault_first(v->log) != was_first) {
		char line[256];

		snprintf(line, sizeof(line),
			 "vault.retention first_segment=%" PRIu64 " first_index=%" PRIu64
			 " tree_base=%" PRIu64 " removed_records=%" PRIu64
			 " removed_bytes=%" PRIu64 " archive=%s",
			 first.number, first.first_index, fold.base,
			 first.first_index - was_first, removed_bytes,
			 v->archive_dir[0] != '\0' ? "yes" : "no");
		v->api->log(v->host, QUORUM_LOG_NOTICE, "%s", line);
		vault_put(v, QUORUM_RECORD_AUDIT, line, strlen(line), NULL);
	}
	if (err != 0)
		v->api->log(v->host, QUORUM_LOG_WARNING, "vault.retention_failed error=\"%s\"",
			    why[0] != '\0' ? why : strerror(-err));
}

static void retention_cb(void *arg)
{
	struct vault_stage *v = arg;

	v->retention_queued = 0;
	retention_run(v);
}

/* After a rotation, on a fresh turn of the loop (not inside the append that rotated). */
static void retention_after_rotation(struct vault_stage *v)
{
	uint64_t segments = vault_segment_count(v->log);

	if (segments == v->segments_seen || (v->retain_ns == 0 && v->retain_bytes == 0))
		return;
	v->segments_seen = segments;
	if (!v->retention_queued && v->api->run_on_loop(v->host, retention_cb, v) == 0)
		v->retention_queued = 1;
}

static void retention_timer_cb(void *arg)
{
	retention_run(arg);
}

/* ---- the round journal at start: what the last run held is written now ---- */

/* What the last run's journal held, kept to be journaled again once it starts afresh. */
struct replayed_item {
	int kind; /* 1 round, 2 audit line, 3 verdict */
	uint8_t *data;
	size_t len;
	uint32_t verdict;
	char *stage, *reason;
	struct replayed_item *next;
};

struct replay {
	struct vault_stage *v;
	struct replayed_item *head, **tail;
	int failed; /* out of memory */
};

static void replay_keep(struct replay *r, int kind, const void *data, size_t len,
			uint32_t verdict, const char *stage, const char *reason)
{
	struct replayed_item *it = calloc(1, sizeof(*it));

	if (it == NULL || (len > 0 && (it->data = malloc(len)) == NULL) ||
	    (stage != NULL &&
	     ((it->stage = strdup(stage)) == NULL || (it->reason = strdup(reason)) == NULL))) {
		if (it != NULL) {
			free(it->data);
			free(it->stage);
		}
		free(it);
		r->failed = 1;
		return;
	}
	it->kind = kind;
	if (len > 0)
		memcpy(it->data, data, len);
	it->len = len;
	it->verdict = verdict;
	*r->tail = it;
	r->tail = &it->next;
}

static void replay_release(struct replay *r)
{
	while (r->head != NULL) {
		struct replayed_item *it = r->head;

		r->head = it->next;
		free(it->data);
		free(it->stage);
		free(it->reason);
		free(it);
	}
}

static int replay_round(void *arg, const uint8_t *payload, size_t len)
{
	struct replay *r = arg;
	int err = roundlog_add(r->v->rounds, payload, len);

	if (err == -EINVAL) { /* another node's: not this log's */
		r->v->api->log(r->v->host, QUORUM_LOG_WARNING,
			       "vault.round_journal_skipped reason=not_this_node_round");
		return 0;
	}
	if (err == 0)
		replay_keep(r, 1, payload, len, 0, NULL, NULL);
	return err;
}

static int replay_audit(void *arg, const char *text, size_t len)
{
	struct replay *r = arg;
	int err = roundlog_audit(r->v->rounds, text, len);

	if (err == 0)
		replay_keep(r, 2, text, len, 0, NULL, NULL);
	return err == -ENOENT ? 0 : err;
}

static int replay_verdict(void *arg, uint32_t verdict, const char *stage, const char *reason)
{
	struct replay *r = arg;
	int err = roundlog_verdict(r->v->rounds, verdict, stage, reason);

	if (err == 0)
		replay_keep(r, 3, NULL, 0, verdict, stage, reason);
	return err == -ENOENT ? 0 : err;
}

static int find_round_log(void *arg, const struct vault_record *rec)
{
	return rec->type == QUORUM_RECORD_ROUNDS ? 1 : 0;
}

/*
 * Takes back the rounds the last run journaled, unless the log already has them (it stopped
 * between writing their record and emptying the journal): they wait in memory, and in the
 * journal started afresh, for the next round log record. Nothing is appended to the log
 * here: the later stages (the merkle stage's tree) follow the log only once they start.
 */
static int round_journal_recover(struct vault_stage *v, char *why, size_t why_size)
{
	static const struct roundjournal_sink sink = { replay_round, replay_audit,
						       replay_verdict };
	struct replay r = { .v = v };
	uint64_t base, dropped;
	size_t rounds;
	char note[256] = "";
	int err;

	r.tail = &r.head;
	err = roundjournal_replay(v->journal, &sink, &r, &base, &rounds, &dropped, note,
				  sizeof(note));
	if (err == 0 && r.failed)
		err = -ENOMEM;
	if (err != 0) {
		snprintf(why, why_size, "%s", note[0] != '\0' ? note : strerror(-err));
		replay_release(&r);
		return err < 0 ? err : -EIO;
	}
	if (dropped != 0)
		v->api->log(v->host, QUORUM_LOG_WARNING,
			    "vault.round_journal_torn_tail bytes=%" PRIu64 " detail=\"%s\"",
			    dropped, note);
	if (rounds > 0 && base <= vault_count(v->log) &&
	    vault_iterate(v->log, base, vault_count(v->log), find_round_log, NULL, note,
			  sizeof(note)) == 1) {
		uint8_t *payload;
		size_t len;

		/* Their record is in the log: drop them (encoding empties the log). */
		if (roundlog_encode(v->rounds, &payload, &len) == 0)
			free(payload);
		replay_release(&r);
		v->api->log(v->host, QUORUM_LOG_INFO,
			    "vault.round_journal_already_logged rounds=%zu", rounds);
	}
	err = roundjournal_start(v->journal, vault_count(v->log));
	for (struct replayed_item *it = r.head; err == 0 && it != NULL; it = it->next)
		err = it->kind == 1 ? roundjournal_round(v->journal, it->data, it->len)
		      : it->kind == 2
			      ? roundjournal_audit(v->journal, (const char *)it->data, it->len)
			      : roundjournal_verdict(v->journal, it->verdict, it->stage,
						     it->reason);
	if (err == 0)
		err = roundjournal_sync(v->journal);
	replay_release(&r);
	if (err != 0) {
		snprintf(why, why_size, "%.200s/%s: %s", v->dir_path, ROUNDJOURNAL_NAME,
			 strerror(-err));
		return err;
	}
	if (!roundlog_empty(v->rounds)) {
		round_log_wait(v);
		v->api->log(v->host, QUORUM_LOG_NOTICE,
			    "vault.rounds_recovered rounds=%zu from=%s",
			    roundlog_count(v->rounds), ROUNDJOURNAL_NAME);
	}
	return 0;
}

/* ---- the background verification ---- */

#define VERIFY_TICK_MS 100
/* After a complete pass, the next one starts this much later: a small log is not read
 * over and over, and the log says so at most once per pause. */
#define VERIFY_PASS_PAUSE_NS (600 * 1000000000LL)

/* One step of the background verification: VERIFY_TICK_MS worth of verify_rate. A
 * corruption is an error in the log and in the service's verification() (REST
 * /v1/status), once; the verification then stops (what it found stays reported). */
static void verify_tick(void *arg)
{
	struct vault_stage *v = arg;
	uint64_t max = (uint64_t)(v->verify_rate * VERIFY_TICK_MS / 1000), passes;
	char why[512] = "";
	int n;

	if (v->failed || v->log == NULL || v->verifier == NULL || v->check.corrupt)
		return;
	if (v->pass_done_mono_ns != 0 &&
	    mono_now_ns() - v->pass_done_mono_ns < VERIFY_PASS_PAUSE_NS)
		return;
	n = vault_verifier_step(v->log, v->verifier, max > 0 ? max : 1, why, sizeof(why));
	if (n >= 0) {
		passes = v->check.passes;
		vault_verifier_progress(v->verifier, &v->check.verified, &v->check.passes);
		if (v->check.passes != passes) {
			v->pass_done_mono_ns = mono_now_ns();
			v->api->log(v->host, QUORUM_LOG_INFO,
				    "vault.verified records=%" PRIu64 " passes=%" PRIu64
				    " rate=%" PRId64 " next_pass_s=%lld",
				    vault_durable(v->log), v->check.passes, v->verify_rate,
				    (long long)(VERIFY_PASS_PAUSE_NS / 1000000000LL));
		}
		return;
	}
	v->check.corrupt = 1;
	snprintf(v->check.why, sizeof(v->check.why), "%s", why[0] != '\0' ? why : strerror(-n));
	v->api->log(v->host, QUORUM_LOG_ERROR,
		    "vault.verify_failed error=\"%s\" effect=reported_in_status "
		    "check=\"quorumctl vault verify %s\"",
		    v->check.why, v->dir_path);
	if (v->verify_timer != NULL) {
		v->api->timer_stop(v->host, v->verify_timer);
		v->verify_timer = NULL;
	}
}

/* A fresh verifier over the current log (at start and after each reopen). */
static void verifier_restart(struct vault_stage *v)
{
	vault_verifier_free(v->verifier);
	v->verifier = NULL;
	if (v->verify_rate <= 0 || v->log == NULL)
		return;
	if (vault_verifier_new(v->log, &v->verifier) != 0)
		v->api->log(v->host, QUORUM_LOG_WARNING,
			    "vault.verify_not_started error=\"%s\"", strerror(ENOMEM));
	if (v->verifier != NULL && v->verify_timer == NULL && !v->check.corrupt)
		v->verify_timer = v->api->timer_start(v->host, VERIFY_TICK_MS, VERIFY_TICK_MS,
						      verify_tick, v);
}

/* ---- the service ---- */

static int svc_append(void *state, uint16_t type, const void *payload, size_t len,
		      uint64_t *index)
{
	struct vault_stage *v = state;

	if (type != QUORUM_RECORD_AUDIT && type != QUORUM_RECORD_CHECKPOINT)
		return -EINVAL; /* events come through the pipeline only */
	/* What this node's round in flight made the stages write goes with the round. */
	if (type == QUORUM_RECORD_AUDIT && v->round_in_flight != 0 && !v->failed &&
	    roundlog_audit(v->rounds, payload, len) == 0) {
		if (index != NULL)
			*index = UINT64_MAX;
		return round_journal_check(v, roundjournal_audit(v->journal, payload, len));
	}
	return vault_put(v, type, payload, len, index);
}

static uint64_t svc_count(void *state)
{
	return vault_count(((struct vault_stage *)state)->log);
}

static int svc_failing(void *state, char *why, size_t size)
{
	struct vault_stage *v = state;

	if (!v->failed)
		return 0;
	snprintf(why, size, "%s", v->failure);
	return 1;
}

static uint64_t svc_durable(void *state)
{
	return vault_durable(((struct vault_stage *)state)->log);
}

static int svc_when_durable(void *state, uint64_t count, quorum_callback cb, void *arg)
{
	struct vault_stage *v = state;
	struct waiter *w, **pp;

	if (vault_durable(v->log) >= count) {
		cb(arg);
		return 0;
	}
	w = calloc(1, sizeof(*w));
	if (w == NULL)
		return -ENOMEM;
	w->count = count;
	w->cb = cb;
	w->arg = arg;
	for (pp = &v->waiters; *pp != NULL && (*pp)->count <= count; pp = &(*pp)->next)
		;
	w->next = *pp;
	*pp = w;
	return 0;
}

static int svc_await_durable(void *state, uint64_t count, quorum_durable_fn cb, void *arg)
{
	struct vault_stage *v = state;
	struct waiter *w, **pp;

	if (v->log != NULL && vault_durable(v->log) >= count) {
		cb(arg, 0);
		return 0;
	}
	if (v->failed) {
		cb(arg, -EIO);
		return 0;
	}
	w = calloc(1, sizeof(*w));
	if (w == NULL)
		return -ENOMEM;
	w->count = count;
	w->await = cb;
	w->arg = arg;
	for (pp = &v->waiters; *pp != NULL && (*pp)->count <= count; pp = &(*pp)->next)
		;
	w->next = *pp;
	*pp = w;
	return 0;
}

static void svc_await_cancel(void *state, void *arg)
{
	struct vault_stage *v = state;

	for (struct waiter **pp = &v->waiters; *pp != NULL;) {
		struct waiter *w = *pp;

		if (w->arg != arg) {
			pp = &w->next;
			continue;
		}
		*pp = w->next;
		free(w);
	}
}

static int svc_subscribe(void *state, quorum_record_fn cb, void *arg)
{
	struct vault_stage *v = state;

	if (v->sub_count == sizeof(v->subs) / sizeof(v->subs[0]))
		return -ENOMEM;
	v->subs[v->sub_count++] = (struct subscriber){ cb, arg };
	return 0;
}

struct replay_ctx {
	quorum_record_fn cb;
	void *arg;
};

static int replay_one(void *arg, const struct vault_record *rec)
{
	struct replay_ctx *ctx = arg;

	ctx->cb(ctx->arg, rec->index, rec->raw, rec->raw_len);
	return 0;
}

static int svc_replay(void *state, uint64_t from, uint64_t to, quorum_record_fn cb, void *arg)
{
	struct vault_stage *v = state;
	struct replay_ctx ctx = { cb, arg };
	char why[256] = "";
	int err;

	if (v->log == NULL)
		return -EIO; /* failed, and not reopened yet */
	err = vault_iterate(v->log, from, to, replay_one, &ctx, why, sizeof(why));

	if (err < 0 && err != -ERANGE)
		v->api->log(v->host, QUORUM_LOG_ERROR, "vault.replay_failed error=\"%s\"", why);
	return err;
}

static int svc_event_record(void *state, const struct quorum_event *event, uint64_t *index)
{
	struct vault_stage *v = state;

	if (!v->has_event || event == NULL || event->sequence != v->event_sequence)
		return -ENOENT;
	if (v->event_in_round_log)
		return -EINPROGRESS;
	*index = v->event_index;
	return 0;
}

static int svc_verification(void *state, struct quorum_vault_check *out)
{
	struct vault_stage *v = state;

	if (v->verify_rate <= 0)
		return -ENOTSUP;
	*out = v->check;
	return 0;
}

static const struct quorum_vault_ops vault_service = {
	.size = sizeof(struct quorum_vault_ops),
	.append = svc_append,
	.count = svc_count,
	.durable = svc_durable,
	.when_durable = svc_when_durable,
	.subscribe = svc_subscribe,
	.replay = svc_replay,
	.event_record = svc_event_record,
	.failing = svc_failing,
	.await_durable = svc_await_durable,
	.await_cancel = svc_await_cancel,
	.verification = svc_verification,
};

/* ---- the stage ---- */

static int vault_stage_process(void *state, const struct quorum_event *event,
			       const char **reason)
{
	struct vault_stage *v = state;
	uint64_t index;
	int err;

	if (event->encoded.len == 0 || event->encoded.data == NULL) {
		*reason = "signed_state_serialize_failed";
		return QUORUM_REJECT;
	}
	if (v->failed) {
		*reason = "vault_unavailable";
		return QUORUM_REJECT;
	}
	err = round_log_take(v, event);
	if (err < 0) {
		*reason = "vault_append_failed";
		return QUORUM_REJECT;
	}
	if (err == 1) {
		v->has_event = 1;
		v->event_sequence = event->sequence;
		v->event_in_round_log = 1;
		return QUORUM_CONTINUE;
	}
	err = vault_put(v, QUORUM_RECORD_EVENT, event->encoded.data, event->encoded.len,
			&index);
	if (err != 0) {
		*reason = err == -EINVAL ? "signed_state_serialize_failed"
					 : "vault_append_failed";
		return QUORUM_REJECT;
	}
	v->has_event = 1;
	v->event_sequence = event->sequence;
	v->event_index = index;
	v->event_in_round_log = 0;
	return QUORUM_CONTINUE;
}

/* The vault's settings, filled by the host from vault_schema (defaults live only there). */
struct vault_settings {
	const char *dir;
	const char *fsync;
	int64_t batch_ms;
	int64_t segment_max_bytes;
	int64_t segment_max_age_s;
	int64_t verify_rate;
	const char *key_file;
	int64_t retain_days;
	int64_t retain_bytes;
	const char *archive_dir;
	int64_t round_log_s;
	int round_log_keep_all;
};

static int vault_stage_init(struct quorum_host *host, const struct quorum_api *api,
			    void **state)
{
	const struct vault_settings *cfg;
	struct vault_options *opt;
	struct vault_stage *v;
	const char *dir, *key_file, *archive_dir;
	char key_path[4096], why[512] = "";
	int64_t round_log_s;
	int err;

	if (!QUORUM_API_HAS(api, service_publish) || !QUORUM_API_HAS(api, settings))
		return -ENOTSUP;
	cfg = api->settings(host);
	if (cfg == NULL)
		return -EINVAL;
	v = calloc(1, sizeof(*v));
	if (v == NULL)
		return -ENOMEM;
	v->host = host;
	v->api = api;
	vault_metrics_register(v);
	opt = &v->opt;
	dir = cfg->dir;
	key_file = cfg->key_file;
	archive_dir = cfg->archive_dir;
	v->batch_ms = cfg->batch_ms;
	v->verify_rate = cfg->verify_rate;
	round_log_s = cfg->round_log_s;
	v->round_log_ms = round_log_s * 1000;
	v->retain_bytes = cfg->retain_bytes;
	v->retain_ns = cfg->retain_days * 86400LL * 1000000000LL;
	v->batch = strcmp(cfg->fsync, "batch") == 0;
	if (dir == NULL || api->config_path(host, dir, v->dir_path, sizeof(v->dir_path)) != 0) {
		api->log(host, QUORUM_LOG_ERROR, "vault.config_invalid setting=dir");
		free(v);
		return -EINVAL;
	}
	if (archive_dir != NULL &&
	    api->config_path(host, archive_dir, v->archive_dir, sizeof(v->archive_dir)) != 0) {
		api->log(host, QUORUM_LOG_ERROR, "vault.config_invalid setting=archive_dir");
		free(v);
		return -EINVAL;
	}
	if (key_file != NULL) {
		if (api->config_path(host, key_file, key_path, sizeof(key_path)) != 0 ||
		    (err = vault_load_key(key_path, v->key, why, sizeof(why))) != 0) {
			api->log(host, QUORUM_LOG_ERROR,
				 "vault.key_refused file=\"%s\" error=\"%s\"", key_file,
				 why[0] != '\0' ? why : "path too long");
			free(v);
			return -EINVAL;
		}
		opt->key = v->key; /* kept (and wiped at fini): reopening after a failure needs
				      it */
	}
	snprintf(v->boot, sizeof(v->boot), "vault.initial_boot node=%s", api->node_id(host));
	opt->dir = v->dir_path;
	opt->segment_max_bytes = (uint64_t)cfg->segment_max_bytes;
	opt->segment_max_age_ns = cfg->segment_max_age_s * 1000000000LL;
	opt->boot_text = v->boot;
	opt->log = vault_log_cb;
	opt->log_arg = v;
	v->rounds = roundlog_new(api->node_id(host));
	if (v->rounds == NULL) {
		OPENSSL_cleanse(v->key, sizeof(v->key));
		free(v);
		return -ENOMEM;
	}
	roundlog_keep_all(v->rounds, cfg->round_log_keep_all);
	err = vault_open(opt, &v->log, why, sizeof(why));
	if (err != 0) {
		api->log(host, QUORUM_LOG_ERROR, "vault.open_failed dir=\"%s\" error=\"%s\"",
			 v->dir_path, why);
		OPENSSL_cleanse(v->key, sizeof(v->key));
		roundlog_free(v->rounds);
		free(v);
		return err;
	}
	err = roundjournal_open(v->dir_path, v->opt.key, &v->journal, why, sizeof(why));
	if (err == 0)
		err = round_journal_recover(v, why, sizeof(why));
	/* Retention's first check comes with the timer: nothing is appended before the later
	 * stages follow the log. */
	if (err == 0 && (v->retain_ns > 0 || v->retain_bytes > 0)) {
		v->segments_seen = vault_segment_count(v->log);
		v->retention_timer = api->timer_start(
			host, RETENTION_CHECK_MS, RETENTION_CHECK_MS, retention_timer_cb, v);
		if (v->retention_timer == NULL)
			err = -ENOMEM;
	}
	if (err != 0) {
		api->log(host, QUORUM_LOG_ERROR, "vault.open_failed dir=\"%s\" error=\"%s\"",
			 v->dir_path, why);
		goto out_close;
	}
	err = api->service_publish(host, QUORUM_VAULT_SERVICE, &vault_service, v);
	if (err != 0)
		goto out_close;
	api->log(host, QUORUM_LOG_NOTICE,
		 "vault.opened dir=\"%s\" records=%" PRIu64 " segments=%" PRIu64
		 " fsync=%s sealed=%s round_log_s=%" PRId64 " verify_rate=%" PRId64,
		 v->dir_path, vault_count(v->log), vault_segment_count(v->log),
		 v->batch ? "batch" : "every", key_file != NULL ? "yes" : "no", round_log_s,
		 v->verify_rate);
	verifier_restart(v);
	*state = v;
	return 0;
out_close:
	if (v->timer != NULL)
		api->timer_stop(host, v->timer);
	if (v->retention_timer != NULL)
		api->timer_stop(host, v->retention_timer);
	roundjournal_close(v->journal);
	vault_close(v->log);
	roundlog_free(v->rounds);
	OPENSSL_cleanse(v->key, sizeof(v->key));
	free(v);
	return err;
}

/* The host stops the stages in reverse order: by now the later ones (the merkle stage
 * among them) are finished, so the last round log record is written without telling them;
 * the merkle stage adds it to its tree at its next start, as any record it missed. */
static void round_log_write_last(struct vault_stage *v)
{
	v->sub_count = 0;
	round_log_write(v);
}

static int vault_stage_drain(void *state)
{
	struct vault_stage *v = state;

	round_log_write_last(v);
	vault_commit(v);
	return 0;
}

static void vault_stage_fini(void *state)
{
	struct vault_stage *v = state;

	if (v->timer != NULL)
		v->api->timer_stop(v->host, v->timer);
	if (v->retry != NULL)
		v->api->timer_stop(v->host, v->retry);
	if (v->verify_timer != NULL)
		v->api->timer_stop(v->host, v->verify_timer);
	if (v->retention_timer != NULL)
		v->api->timer_stop(v->host, v->retention_timer);
	round_log_write_last(v);
	vault_verifier_free(v->verifier);
	vault_commit(v);
	fail_awaiters(v, -ESHUTDOWN);
	while (v->waiters != NULL) { /* never durable: they are dropped, and said so */
		struct waiter *w = v->waiters;

		v->waiters = w->next;
		v->api->log(v->host, QUORUM_LOG_WARNING, "vault.waiter_dropped count=%" PRIu64,
			    w->count);
		free(w);
	}
	v->api->log(v->host, QUORUM_LOG_INFO,
		    "vault.closed records=%" PRIu64 " appended=%" PRIu64 " fsyncs=%" PRIu64
		    " rounds_logged=%" PRIu64 " round_records=%" PRIu64 " peer_rounds=%" PRIu64,
		    vault_count(v->log), v->appended, v->syncs, v->rounds_logged,
		    v->round_records, v->peer_rounds);
	vault_close(v->log);
	roundjournal_close(v->journal);
	roundlog_free(v->rounds);
	OPENSSL_cleanse(v->key, sizeof(v->key));
	free(v);
}

static const char *const fsync_choices[] = { "every", "batch", NULL };

static const struct quorum_setting vault_schema[] = {
	QUORUM_SETTING_STRING_REQUIRED_AT(
		"dir", struct vault_settings, dir,
		"folder of the segment files (relative to quorum.conf's folder)"),
	QUORUM_SETTING_STRING_AT(
		"fsync", struct vault_settings, fsync, fsync_choices, "every",
		"every: fsync each record; batch: one fsync per batch_ms window"),
	QUORUM_SETTING_INT_AT("batch_ms", struct vault_settings, batch_ms, 1, 1000, "5",
			      "group-commit window with fsync = \"batch\""),
	QUORUM_SETTING_INT_AT("segment_max_bytes", struct vault_settings, segment_max_bytes,
			      4096, 1LL << 40, "10485760", "rotate a segment at this size"),
	QUORUM_SETTING_INT_AT("segment_max_age_s", struct vault_settings, segment_max_age_s, 1,
			      31536000, "86400", "rotate a segment at this age"),
	QUORUM_SETTING_INT_AT(
		"verify_rate", struct vault_settings, verify_rate, 0, 10000000, "2000",
		"records a second the background verification of the whole log "
		"reads back and checks, a pass every 10 minutes at most (0: off)"),
	QUORUM_SETTING_STRING_AT("key_file", struct vault_settings, key_file, NULL, NULL,
				 "AES-256-GCM key (32 bytes raw or 64 hex digits, mode 0600) "
				 "to seal payloads"),
	QUORUM_SETTING_INT_AT("retain_days", struct vault_settings, retain_days, 0, 36500, "0",
			      "remove (or archive) segments this many days after they ended "
			      "(0: keep them)"),
	QUORUM_SETTING_INT_AT("retain_bytes", struct vault_settings, retain_bytes, 0, 1LL << 50,
			      "0",
			      "remove (or archive) the oldest segments while the vault holds "
			      "more (0: no limit)"),
	QUORUM_SETTING_STRING_AT("archive_dir", struct vault_settings, archive_dir, NULL, NULL,
				 "move removed segments into this folder (the vault's file "
				 "system) instead"),
	QUORUM_SETTING_INT_AT("round_log_s", struct vault_settings, round_log_s, 0, 3600, "30",
			      "this node's rounds wait at most this long to be written "
			      "together (0: each at once)"),
	QUORUM_SETTING_BOOL_AT(
		"round_log_keep_all", struct vault_settings, round_log_keep_all, "false",
		"keep every round's attestations, not only the disputed rounds' and "
		"the first of each record (false: the others as hash and decision)"),
	{ .type = QUORUM_SETTING_END },
};

static const struct quorum_stage_ops vault_stage_ops = {
	.size = sizeof(struct quorum_stage_ops),
	.process = vault_stage_process,
	.observe = vault_stage_observe,
};

QUORUM_PLUGIN_EXPORT const struct quorum_plugin quorum_plugin = {
	QUORUM_PLUGIN_HEADER(QUORUM_PLUGIN_STAGE, "vault", PACKAGE_VERSION, QUORUM_ROLE_VAULT),
	.settings = vault_schema,
	.settings_size = sizeof(struct vault_settings),
	.init = vault_stage_init,
	.drain = vault_stage_drain,
	.fini = vault_stage_fini,
	.ops = &vault_stage_ops,
};
