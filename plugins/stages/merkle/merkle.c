/* merkle.c -- the merkle stage: keeps an RFC 6962 Merkle tree over every vault record
 * (audit/mtree, level files restored at start without rehashing the log), serves inclusion
 * and consistency proofs and the latest checkpoint through QUORUM_MERKLE_SERVICE, and
 * publishes signed checkpoints (C2SP tlog-checkpoint in a signed note, with the node's
 * served time as an extension line) every `checkpoint_every` records or `checkpoint_ms`.
 * A checkpoint covers only durable records; it is itself appended to the vault and kept in
 * DIR/checkpoint (DIR and its files opened by audit/statedir.h's trust rule, as the tree's
 * level files are). As a stage, it rejects an event the vault did not record
 * (vault_binding_missing). With peers, its log is witnessed and it witnesses theirs
 * (witness.h): it signs no checkpoint until its witnesses answered at start, publishes the
 * checkpoint it submitted to them with their cosignatures, and stops signing (and the host
 * serving time) when a witness holds a checkpoint its log contradicts. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include <quorum/plugin.h>

#include "mtree.h"
#include "note.h"
#include "statedir.h"
#include "witness.h"

struct merkle_stage {
	struct quorum_host *host;
	const struct quorum_api *api;
	struct mtree *tree;
	char dir[4096];
	char origin[NOTE_ORIGIN_MAX];
	const struct quorum_vault_ops *vault;
	void *vault_state;
	int64_t every;		    /* records between checkpoints */
	int64_t period_ms;	    /* most time between checkpoints while the tree grows */
	struct quorum_timer *timer; /* the periodic checkpoint timer */
	uint64_t checkpoint_size;   /* tree size of the latest checkpoint */
	int checkpoint_waiting;	    /* a checkpoint waits for its records' fsync */
	uint64_t checkpoint_target; /* ... of this many records */
	uint64_t checkpoint_end;    /* tree size right after our last checkpoint record */
	int appending_checkpoint;   /* our own checkpoint record is being appended */
	char checkpoint[NOTE_MAX];  /* the latest signed note, "" before the first */
	int failed;		    /* the tree lost step with the vault: fail closed */
	char failure[160];	    /* what failed, for the host */
	struct quorum_timer *retry; /* reopens the tree once a second while failed */
	uint64_t retries;
	uint64_t checkpoints;
	/* The same in the node's metrics (ABI 1.11; NULL on an older host). */
	struct quorum_metric *metric_checkpoints, *metric_checkpoint_size;
	/* The latest checkpoint goes to DIR/checkpoint only once its vault record is durable:
	 * the file never names a checkpoint the log could lose (start-up looks for it there).
	 */
	char file_note[NOTE_MAX];
	size_t file_len;
	uint64_t file_index; /* its record */
	int file_pending;
	struct witness_settings witness_settings;
	struct witness *witness; /* NULL: witnessing off */
};

static void retry_cb(void *arg);
static int merkle_reconcile(struct merkle_stage *m);
static int checkpoint_signed_by_node(struct merkle_stage *m, const char *note, size_t len,
				     const struct checkpoint *cp, const char **why);

/* ---- following the vault ---- */

static void merkle_fail(struct merkle_stage *m, const char *what)
{
	if (!m->failed)
		m->api->log(m->host, QUORUM_LOG_ERROR,
			    "merkle.failed what=%s effect=every_event_rejected,time_not_served "
			    "retry_ms=1000",
			    what);
	snprintf(m->failure, sizeof(m->failure), "merkle tree %s failed", what);
	m->failed = 1;
	if (m->retry == NULL)
		m->retry = m->api->timer_start(m->host, 1000, 1000, retry_cb, m);
	if (QUORUM_API_HAS(m->api, audit_changed))
		m->api->audit_changed(m->host); /* no time served from this instant */
}

static void add_record(void *arg, uint64_t index, const uint8_t *record, size_t len)
{
	struct merkle_stage *m = arg;
	uint8_t leaf[MTREE_HASH_LEN];
	int err;

	if (m->failed)
		return;
	if (index != mtree_size(m->tree)) {
		m->api->log(m->host, QUORUM_LOG_ERROR,
			    "merkle.out_of_step record=%" PRIu64 " tree_size=%" PRIu64, index,
			    mtree_size(m->tree));
		merkle_fail(m, "out_of_step");
		return;
	}
	mtree_leaf_hash(record, len, leaf);
	err = mtree_append(m->tree, leaf);
	if (err != 0) {
		m->api->log(m->host, QUORUM_LOG_ERROR, "merkle.append_failed error=\"%s\"",
			    strerror(-err));
		merkle_fail(m, "append");
	}
}

/* ---- checkpoints ---- */

#define CHECKPOINT_NAME	    "checkpoint"
#define CHECKPOINT_TMP_NAME ".checkpoint.tmp"

/* Replaces DIR/checkpoint with NOTE: a new temporary file, fsync, rename, fsync of DIR.
 * 0 or -errno with WHY. */
static int write_checkpoint_file(struct merkle_stage *m, const char *note, size_t len,
				 char *why, size_t why_size)
{
	struct statedir dir;
	ssize_t n;
	int fd, err;

	err = statedir_open(&dir, m->dir, 0, why, why_size);
	if (err != 0)
		return err;
	unlinkat(dir.fd, CHECKPOINT_TMP_NAME, 0); /* a failed write's leftover */
	fd = statedir_openat(&dir, CHECKPOINT_TMP_NAME, O_WRONLY | O_CREAT | O_EXCL, 0644, why,
			     why_size);
	if (fd < 0) {
		err = fd;
		goto out_close;
	}
	n = write(fd, note, len);
	err = n == (ssize_t)len ? 0 : n < 0 ? -errno : -EIO;
	if (err == 0 && fsync(fd) != 0)
		err = -errno;
	close(fd);
	if (err == 0 && renameat(dir.fd, CHECKPOINT_TMP_NAME, dir.fd, CHECKPOINT_NAME) != 0)
		err = -errno;
	if (err == 0 && fsync(dir.fd) != 0)
		err = -errno;
	if (err != 0) {
		/* The folder's name, cut if need be: the error matters more. */
		snprintf(why, why_size, "%.200s/%s: %s", m->dir, CHECKPOINT_TMP_NAME,
			 strerror(-err));
		unlinkat(dir.fd, CHECKPOINT_TMP_NAME, 0);
	}
out_close:
	statedir_close(&dir);
	return err;
}

/* The vault made a checkpoint's record durable (STATUS 0): the latest such checkpoint
 * replaces DIR/checkpoint. A record the vault failed to keep leaves the file as it was. */
static void checkpoint_file_durable(void *arg, int status)
{
	struct merkle_stage *m = arg;
	char why[512] = "";

	if (status != 0 || !m->file_pending ||
	    (m->vault->durable(m->vault_state) <= m->file_index && m->vault->await_durable))
		return; /* a later checkpoint's own waiter writes it */
	m->file_pending = 0;
	if (write_checkpoint_file(m, m->file_note, m->file_len, why, sizeof(why)) != 0)
		m->api->log(m->host, QUORUM_LOG_WARNING,
			    "merkle.checkpoint_file_failed error=\"%s\"", why);
}

/* Signs and publishes the checkpoint of the first SIZE records (all durable). */
static void make_checkpoint(struct merkle_stage *m, uint64_t size)
{
	struct checkpoint cp = { 0 };
	struct quorum_clock_reading now;
	char body[1024], note[NOTE_MAX];
	uint8_t sig[NOTE_SIG_LEN], pub[NOTE_PUB_LEN];
	uint64_t index;
	int blen, nlen, err;

	if (m->witness != NULL && !witness_may_sign(m->witness))
		return; /* waiting for the witnesses, or rolled back */
	memcpy(cp.origin, m->origin, sizeof(cp.origin));
	cp.size = size;
	if (mtree_root(m->tree, size, cp.root) != 0)
		return;
	/* The tree files a signed checkpoint covers are on disk before it is signed. */
	err = mtree_sync(m->tree);
	if (err != 0) {
		m->api->log(m->host, QUORUM_LOG_ERROR, "merkle.sync_failed error=\"%s\"",
			    strerror(-err));
		merkle_fail(m, "sync");
		return;
	}
	if (m->api->clock_read(m->host, &now) == 0) {
		cp.has_time = 1;
		cp.synchronised = now.status == QUORUM_CLOCK_SYNCHRONISED;
		cp.earliest_ns = now.earliest_ns;
		cp.latest_ns = now.latest_ns;
	}
	blen = checkpoint_format(&cp, body, sizeof(body));
	if (blen < 0)
		return;
	err = m->api->sign_checkpoint(m->host, body, (size_t)blen, sig, pub);
	if (err != 0) {
		m->api->log(m->host, QUORUM_LOG_ERROR,
			    "merkle.checkpoint_unsigned error=\"%s\"", strerror(-err));
		return;
	}
	nlen = note_format(body, (size_t)blen, m->origin, pub, sig, note, sizeof(note));
	if (nlen < 0)
		return;
	/* The vault tells its subscribers (follow_record) during the append: our own record
	 * must not count towards the next checkpoint, or checkpoints would feed each other. */
	m->appending_checkpoint = 1;
	err = m->vault->append(m->vault_state, QUORUM_RECORD_CHECKPOINT, note, (size_t)nlen,
			       &index);
	m->appending_checkpoint = 0;
	if (err != 0) {
		m->api->log(m->host, QUORUM_LOG_ERROR,
			    "merkle.checkpoint_not_recorded size=%" PRIu64 " error=\"%s\"",
			    size, strerror(-err));
		return;
	}
	memcpy(m->file_note, note, (size_t)nlen + 1);
	m->file_len = (size_t)nlen;
	m->file_index = index;
	m->file_pending = 1;
	if (m->vault->size < sizeof(struct quorum_vault_ops) ||
	    m->vault->await_durable == NULL ||
	    m->vault->await_durable(m->vault_state, index + 1, checkpoint_file_durable, m) != 0)
		checkpoint_file_durable(m, 0); /* an older vault: written at once, as before */
	memcpy(m->checkpoint, note, (size_t)nlen + 1);
	m->checkpoint_size = size;
	m->checkpoint_end = index + 1;
	m->checkpoints++;
	if (m->metric_checkpoints != NULL) {
		m->api->metric_add(m->metric_checkpoints, 1);
		m->api->metric_set(m->metric_checkpoint_size, (int64_t)size);
	}
	if (m->witness != NULL)
		witness_signed(m->witness, note, (size_t)nlen);
	m->api->log(m->host, QUORUM_LOG_INFO, "merkle.checkpoint size=%" PRIu64 " time=%s",
		    size, cp.synchronised ? "synchronised" : "unsynchronised");
}

static void checkpoint_now(void *arg)
{
	struct merkle_stage *m = arg;

	m->checkpoint_waiting = 0;
	if (!m->failed)
		make_checkpoint(m, m->checkpoint_target);
}

static void checkpoint_durable(void *arg)
{
	struct merkle_stage *m = arg;

	/* Called from the vault's commit: sign and append on a fresh turn of the loop. */
	if (m->api->run_on_loop(m->host, checkpoint_now, m) != 0)
		m->checkpoint_waiting = 0;
}

/* Starts a checkpoint of the current tree once its records are durable, unless one is
 * under way or nothing was added since the last. */
static void checkpoint_maybe(struct merkle_stage *m)
{
	uint64_t size = mtree_size(m->tree);

	/* Nothing new but our own checkpoint record: no checkpoint of the checkpoint. */
	if (m->failed || m->checkpoint_waiting || size == m->checkpoint_size ||
	    size == m->checkpoint_end || (m->witness != NULL && !witness_may_sign(m->witness)))
		return;
	m->checkpoint_waiting = 1;
	m->checkpoint_target = size;
	if (m->vault->when_durable(m->vault_state, size, checkpoint_durable, m) != 0)
		m->checkpoint_waiting = 0;
}

static void checkpoint_timer_cb(void *arg)
{
	checkpoint_maybe(arg);
}

static void follow_record(void *arg, uint64_t index, const uint8_t *record, size_t len)
{
	struct merkle_stage *m = arg;
	uint64_t since;
	int err;

	/* The vault reopened after a write failure and dropped records that never became
	 * durable (a checkpoint covers durable records only): the tree drops them too. */
	if (!m->failed && index < mtree_size(m->tree) && index >= m->checkpoint_size) {
		m->api->log(m->host, QUORUM_LOG_WARNING,
			    "merkle.rewound tree_size=%" PRIu64 " records=%" PRIu64,
			    mtree_size(m->tree), index);
		err = mtree_truncate(m->tree, index);
		if (err != 0) {
			merkle_fail(m, "truncate");
			return;
		}
		m->checkpoint_waiting = 0; /* its waiter was for records that are gone */
	}
	add_record(m, index, record, len);
	if (m->appending_checkpoint)
		return;
	/* Records since our last checkpoint, not counting that checkpoint's own record. */
	since = m->checkpoint_end > m->checkpoint_size ? m->checkpoint_end : m->checkpoint_size;
	if (mtree_size(m->tree) - since >= (uint64_t)m->every)
		checkpoint_maybe(m);
}

/* Reopens the tree and brings it back to the vault's records once the vault writes again
 * (merkle_reconcile: drops leaves the vault lost, adds the ones it lacks, checks the
 * latest checkpoint's root). */
static void retry_cb(void *arg)
{
	struct merkle_stage *m = arg;
	char why[512] = "";
	struct mtree *tree;
	int err;

	if (!m->failed)
		return;
	if (m->vault->failing != NULL && m->vault->failing(m->vault_state, why, sizeof(why)))
		return; /* the vault recovers first */
	m->retries++;
	err = mtree_open(m->dir, &tree, why, sizeof(why));
	if (err != 0) {
		if (m->retries == 1 || m->retries % 60 == 0)
			m->api->log(m->host, QUORUM_LOG_WARNING,
				    "merkle.still_failing retries=%" PRIu64 " error=\"%s\"",
				    m->retries, why);
		return;
	}
	mtree_close(m->tree);
	m->tree = tree;
	m->failed = 0;
	m->checkpoint_waiting = 0;
	err = merkle_reconcile(m);
	if (err != 0 || m->failed) {
		m->failed = 0; /* so that merkle_fail logs this attempt's cause */
		merkle_fail(m, "reconcile");
		return;
	}
	m->api->timer_stop(m->host, m->retry);
	m->retry = NULL;
	m->api->log(m->host, QUORUM_LOG_NOTICE,
		    "merkle.recovered tree_size=%" PRIu64 " retries=%" PRIu64,
		    mtree_size(m->tree), m->retries);
	m->retries = 0;
	if (QUORUM_API_HAS(m->api, audit_changed))
		m->api->audit_changed(m->host);
}

/* ---- the service ---- */

static int svc_failing(void *state, char *why, size_t size)
{
	struct merkle_stage *m = state;

	if (!m->failed)
		return m->witness != NULL && witness_failing(m->witness, why, size);
	snprintf(why, size, "%s", m->failure);
	return 1;
}

static uint64_t svc_tree_size(void *state)
{
	return mtree_size(((struct merkle_stage *)state)->tree);
}

static int svc_root(void *state, uint64_t size, uint8_t out[QUORUM_HASH_LEN])
{
	return mtree_root(((struct merkle_stage *)state)->tree, size, out);
}

static int svc_leaf_hash(void *state, uint64_t index, uint8_t out[QUORUM_HASH_LEN])
{
	return mtree_leaf(((struct merkle_stage *)state)->tree, index, out);
}

static int svc_inclusion(void *state, uint64_t index, uint64_t size,
			 uint8_t (*out)[QUORUM_HASH_LEN], size_t cap, size_t *count)
{
	return mtree_inclusion_proof(((struct merkle_stage *)state)->tree, index, size, out,
				     cap, count);
}

static int svc_consistency(void *state, uint64_t old_size, uint64_t new_size,
			   uint8_t (*out)[QUORUM_HASH_LEN], size_t cap, size_t *count)
{
	return mtree_consistency_proof(((struct merkle_stage *)state)->tree, old_size, new_size,
				       out, cap, count);
}

static const char *svc_checkpoint(void *state)
{
	struct merkle_stage *m = state;
	const char *published = m->witness != NULL ? witness_published(m->witness) : NULL;

	/* With witnesses: the latest checkpoint submitted to them, with their cosignatures. */
	if (published != NULL)
		return published;
	return m->checkpoint[0] != '\0' ? m->checkpoint : NULL;
}

static const struct quorum_merkle_ops merkle_service = {
	.size = sizeof(struct quorum_merkle_ops),
	.tree_size = svc_tree_size,
	.root = svc_root,
	.leaf_hash = svc_leaf_hash,
	.inclusion_proof = svc_inclusion,
	.consistency_proof = svc_consistency,
	.checkpoint = svc_checkpoint,
	.failing = svc_failing,
};

/* ---- restart: the tree meets the vault again ---- */

/* Reads DIR/checkpoint into m->checkpoint; 0, -ENOENT, -EBADMSG, or -errno (a file that
 * fails statedir.h's rule: logged, and the start fails). */
static int load_checkpoint(struct merkle_stage *m, struct checkpoint *cp)
{
	char path[4200], refused[512] = "";
	const char *why = "";
	struct statedir dir;
	size_t text_len;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", m->dir, CHECKPOINT_NAME);
	fd = statedir_open(&dir, m->dir, 0, refused, sizeof(refused));
	if (fd == 0) {
		fd = statedir_openat(&dir, CHECKPOINT_NAME, O_RDONLY, 0, refused,
				     sizeof(refused));
		statedir_close(&dir);
	}
	if (fd == -ENOENT)
		return -ENOENT;
	if (fd < 0) {
		m->api->log(m->host, QUORUM_LOG_ERROR,
			    "merkle.checkpoint_file_refused file=\"%s\" error=\"%s\"", path,
			    refused);
		return fd;
	}
	n = read(fd, m->checkpoint, sizeof(m->checkpoint) - 1);
	close(fd);
	if (n <= 0) {
		m->checkpoint[0] = '\0';
		return -EBADMSG;
	}
	m->checkpoint[n] = '\0';
	if (note_text_length(m->checkpoint, (size_t)n, &text_len) != 0 ||
	    checkpoint_parse(m->checkpoint, text_len, cp, &why) != 0 ||
	    checkpoint_signed_by_node(m, m->checkpoint, (size_t)n, cp, &why) != 0) {
		m->api->log(m->host, QUORUM_LOG_ERROR,
			    "merkle.checkpoint_file_invalid file=\"%s\" reason=%s "
			    "action=repair_from_vault",
			    path, why);
		m->checkpoint[0] = '\0';
		return -EBADMSG;
	}
	return 0;
}

/* Whether NOTE (LEN bytes, text parsed into CP) carries a valid signature by this node's
 * key under CP's origin. The key comes with a signature by it: Ed25519 signs
 * deterministically, and sign_checkpoint gives the public key with each. 0, or -1 with
 * *WHY. */
static int checkpoint_signed_by_node(struct merkle_stage *m, const char *note, size_t len,
				     const struct checkpoint *cp, const char **why)
{
	uint8_t sig[NOTE_SIG_LEN], pub[NOTE_PUB_LEN];
	size_t text_len;

	if (note_text_length(note, len, &text_len) != 0 ||
	    m->api->sign_checkpoint(m->host, note, text_len, sig, pub) != 0) {
		*why = "node_key_unavailable";
		return -1;
	}
	OPENSSL_cleanse(sig, sizeof(sig));
	return note_verify(note, len, cp->origin, pub, &text_len, why) == 0 ? 0 : -1;
}

/* Leaf hashes recomputed from the vault's records (mtree_recheck). */
struct leaves_ctx {
	uint8_t (*leaves)[MTREE_HASH_LEN];
	uint64_t from, count;
};

static void collect_leaf(void *arg, uint64_t index, const uint8_t *record, size_t len)
{
	struct leaves_ctx *c = arg;

	if (index >= c->from && index - c->from < c->count)
		mtree_leaf_hash(record, len, c->leaves[index - c->from]);
}

/* Recomputes every stored hash that covers a leaf from FROM on from the vault's records and
 * repairs those that differ (an error logged: the level files were changed or damaged).
 * 0, or -errno. */
static int recheck_from_vault(struct merkle_stage *m, uint64_t from)
{
	struct leaves_ctx c = { .from = from, .count = mtree_size(m->tree) - from };
	uint64_t repaired = 0;
	int err;

	if (c.count == 0)
		return 0;
	c.leaves = malloc((size_t)c.count * MTREE_HASH_LEN);
	if (c.leaves == NULL)
		return -ENOMEM;
	err = m->vault->replay(m->vault_state, from, from + c.count, collect_leaf, &c);
	if (err == 0)
		err = mtree_recheck(m->tree, from, (const uint8_t(*)[MTREE_HASH_LEN])c.leaves,
				    c.count, &repaired);
	free(c.leaves);
	if (err != 0) {
		m->api->log(m->host, QUORUM_LOG_ERROR,
			    "merkle.recheck_failed from=%" PRIu64 " error=\"%s\"", from,
			    strerror(-err));
		return err;
	}
	if (repaired > 0)
		m->api->log(m->host, QUORUM_LOG_ERROR,
			    "merkle.tree_repaired from=%" PRIu64 " to=%" PRIu64
			    " hashes=%" PRIu64 " source=vault reason=\"stored hashes differed "
			    "from the vault's records\"",
			    from, from + c.count, repaired);
	return 0;
}

/* The latest checkpoint record of the vault (an unsealed one: its text is readable). */
struct last_checkpoint {
	char note[NOTE_MAX];
	size_t len;
	int found;
};

static void find_checkpoint(void *arg, uint64_t index, const uint8_t *record, size_t len)
{
	struct last_checkpoint *c = arg;
	const size_t header = 56, trailer = 32; /* audit/vaultlog.h's record layout */

	(void)index;
	if (len < header + trailer ||
	    (record[4] | record[5] << 8) != QUORUM_RECORD_CHECKPOINT ||
	    ((record[6] | record[7] << 8) & 1) != 0 ||
	    len - header - trailer >= sizeof(c->note))
		return;
	c->len = len - header - trailer;
	memcpy(c->note, record + header, c->len);
	c->note[c->len] = '\0';
	c->found = 1;
}

/* Whether the vault holds NOTE (LEN bytes, a checkpoint of SIZE records) as a checkpoint
 * record: its record comes after the SIZE records it covers. 0 found, -ENOENT not there
 * (the log is not the one the checkpoint was signed over), 1 cannot tell (a sealed vault:
 * the merkle stage cannot read its payloads). */
struct note_search {
	const char *note;
	size_t len;
	int found, sealed;
};

static void search_note(void *arg, uint64_t index, const uint8_t *record, size_t len)
{
	struct note_search *c = arg;
	const size_t header = 56, trailer = 32; /* audit/vaultlog.h's record layout */

	(void)index;
	if (len < header + trailer || (record[4] | record[5] << 8) != QUORUM_RECORD_CHECKPOINT)
		return;
	if (((record[6] | record[7] << 8) & 1) != 0)
		c->sealed = 1;
	else if (len - header - trailer == c->len &&
		 memcmp(record + header, c->note, c->len) == 0)
		c->found = 1;
}

static int checkpoint_in_log(struct merkle_stage *m, const char *note, uint64_t size,
			     uint64_t records)
{
	struct note_search c = { .note = note, .len = strlen(note) };
	uint64_t from = size, window = 256;

	while (from < records && !c.found) { /* usually the record right after them */
		uint64_t to = records - from > window ? from + window : records;

		if (m->vault->replay(m->vault_state, from, to, search_note, &c) != 0)
			return -EIO;
		from = to;
		window *= 4;
	}
	if (c.found)
		return 0;
	return c.sealed ? 1 : -ENOENT;
}

/* After DIR/checkpoint was refused: the latest checkpoint the vault holds, signed by this
 * node, into m->checkpoint and CP (the file is rewritten from it). 0 when one was found,
 * -ENOENT when none (sealed vault, or none yet). */
static int checkpoint_from_vault(struct merkle_stage *m, uint64_t records,
				 struct checkpoint *cp)
{
	struct last_checkpoint *c = calloc(1, sizeof(*c));
	char why_file[512] = "";
	const char *why = "";
	uint64_t window = 4096, from;
	size_t text_len;
	int err = -ENOENT;

	if (c == NULL)
		return -ENOMEM;
	for (;;) { /* backwards, in growing windows */
		from = records > window ? records - window : 0;
		if (m->vault->replay(m->vault_state, from, records, find_checkpoint, c) != 0 ||
		    c->found || from == 0)
			break;
		records = from;
		window *= 4;
	}
	if (c->found && note_text_length(c->note, c->len, &text_len) == 0 &&
	    checkpoint_parse(c->note, text_len, cp, &why) == 0 &&
	    checkpoint_signed_by_node(m, c->note, c->len, cp, &why) == 0) {
		memcpy(m->checkpoint, c->note, c->len + 1);
		if (write_checkpoint_file(m, c->note, c->len, why_file, sizeof(why_file)) != 0)
			m->api->log(m->host, QUORUM_LOG_WARNING,
				    "merkle.checkpoint_file_failed error=\"%s\"", why_file);
		m->api->log(m->host, QUORUM_LOG_ERROR,
			    "merkle.checkpoint_file_repaired size=%" PRIu64 " source=vault",
			    cp->size);
		err = 0;
	} else if (c->found) {
		m->api->log(m->host, QUORUM_LOG_ERROR,
			    "merkle.vault_checkpoint_invalid reason=%s", why);
	}
	free(c);
	return err;
}

/* Brings the tree to the vault's records: drops leaves the vault no longer has, adds the
 * ones it lacks, and checks the latest checkpoint's root; a tree that disagrees with it is
 * rebuilt from the vault once, and a vault that disagrees with it stops the start. */
static int merkle_reconcile(struct merkle_stage *m)
{
	struct checkpoint cp;
	uint64_t records = m->vault->count(m->vault_state), size = mtree_size(m->tree);
	uint8_t root[MTREE_HASH_LEN];
	int has_cp, repair_cp, err;

	err = load_checkpoint(m, &cp);
	if (err != 0 && err != -ENOENT && err != -EBADMSG)
		return err; /* a checkpoint file someone else could have planted */
	has_cp = err == 0;
	repair_cp = err == -EBADMSG;
	for (int attempt = 0; attempt < 2; attempt++) {
		if (size > records) {
			m->api->log(m->host, QUORUM_LOG_WARNING,
				    "merkle.truncate tree_size=%" PRIu64 " records=%" PRIu64,
				    size, records);
			err = mtree_truncate(m->tree, records);
			if (err != 0)
				return err;
		}
		size = mtree_size(m->tree);
		if (size < records) {
			err = m->vault->replay(m->vault_state, size, records, add_record, m);
			if (err == -ERANGE) {
				/* Retention removed them: the tree keeps their hashes. */
				m->api->log(
					m->host, QUORUM_LOG_ERROR,
					"merkle.catch_up_failed from=%" PRIu64 " to=%" PRIu64
					" reason=records_removed_by_retention action=\"restore "
					"the merkle folder (its hashes of the removed "
					"records)\"",
					size, records);
				return -EIO;
			}
			if (err != 0 || m->failed || mtree_size(m->tree) != records) {
				m->api->log(m->host, QUORUM_LOG_ERROR,
					    "merkle.catch_up_failed from=%" PRIu64
					    " to=%" PRIu64,
					    size, records);
				return -EIO;
			}
			m->api->log(m->host, QUORUM_LOG_NOTICE,
				    "merkle.caught_up from=%" PRIu64 " to=%" PRIu64, size,
				    records);
		}
		/* The stored hashes the latest signed checkpoint does not vouch for (all of
		 * them without one) are recomputed from the vault, and repaired. */
		err = recheck_from_vault(m, has_cp && cp.size <= records ? cp.size : 0);
		if (err != 0)
			return err;
		if (repair_cp && attempt == 0) {
			err = checkpoint_from_vault(m, records, &cp);
			if (err != 0 && err != -ENOENT)
				return err;
			has_cp = err == 0;
		}
		if (!has_cp)
			return 0;
		if (cp.size > records) {
			m->api->log(m->host, QUORUM_LOG_ERROR,
				    "merkle.checkpoint_beyond_vault checkpoint_size=%" PRIu64
				    " records=%" PRIu64,
				    cp.size, records);
			return -EBADMSG;
		}
		if (attempt == 0) {
			err = checkpoint_in_log(m, m->checkpoint, cp.size, records);
			if (err == -ENOENT) {
				m->api->log(
					m->host, QUORUM_LOG_ERROR,
					"merkle.vault_disagrees_with_checkpoint "
					"checkpoint_size=%" PRIu64
					" reason=\"the signed checkpoint is not in the vault\"",
					cp.size);
				return -EBADMSG;
			}
			if (err < 0)
				return err;
		}
		if (mtree_root(m->tree, cp.size, root) == 0 &&
		    memcmp(root, cp.root, MTREE_HASH_LEN) == 0) {
			m->checkpoint_size = cp.size;
			return 0;
		}
		m->api->log(m->host, QUORUM_LOG_WARNING,
			    "merkle.tree_mismatch checkpoint_size=%" PRIu64 " action=%s",
			    cp.size, attempt == 0 ? "rebuild_from_vault" : "stop");
		err = mtree_truncate(m->tree, 0);
		if (err != 0)
			return err;
		size = 0;
	}
	m->api->log(m->host, QUORUM_LOG_ERROR,
		    "merkle.vault_disagrees_with_checkpoint checkpoint_size=%" PRIu64, cp.size);
	return -EBADMSG;
}

/* ---- the stage ---- */

static int merkle_process(void *state, const struct quorum_event *event, const char **reason)
{
	struct merkle_stage *m = state;
	uint64_t index;
	int err = m->vault->event_record(m->vault_state, event, &index);

	/* A round of the vault's round log becomes a leaf with its record, later. */
	if (err == -EINPROGRESS && !m->failed)
		return QUORUM_CONTINUE;
	if (err == -EINPROGRESS) {
		*reason = "merkle_leaf_missing";
		return QUORUM_REJECT;
	}
	if (err != 0) {
		*reason = "vault_binding_missing";
		return QUORUM_REJECT;
	}
	if (m->failed || index >= mtree_size(m->tree)) {
		*reason = "merkle_leaf_missing";
		return QUORUM_REJECT;
	}
	if (m->witness != NULL && witness_handles(event->state->event_id))
		return witness_process(m->witness, event, reason);
	return QUORUM_CONTINUE;
}

/* The stage's settings the host fills from merkle_settings (defaults there). origin and
 * witness_name default to names made of the node id (NULL here); witness_quorum's default
 * (peers - f) is computed, so it keeps its reader. */
struct merkle_settings {
	const char *dir;
	const char *origin;
	int64_t checkpoint_every;
	int64_t checkpoint_ms;
	int witness;
	int64_t witness_interval_ms;
	int64_t witness_fanout;
	const char *witness_name;
};

static int merkle_init(struct quorum_host *host, const struct quorum_api *api, void **state)
{
	const struct merkle_settings *cfg;
	struct merkle_stage *m;
	const char *dir, *origin;
	char why[512] = "";
	int err;

	if (!QUORUM_API_HAS(api, sign_checkpoint) || !QUORUM_API_HAS(api, settings))
		return -ENOTSUP;
	cfg = api->settings(host);
	if (cfg == NULL)
		return -EINVAL;
	m = calloc(1, sizeof(*m));
	if (m == NULL)
		return -ENOMEM;
	m->host = host;
	m->api = api;
	if (QUORUM_API_HAS(api, metric_register)) {
		m->metric_checkpoints = api->metric_register(
			host, QUORUM_METRIC_COUNTER, "quorum_merkle_checkpoints_total", NULL,
			"Checkpoints of the log this node signed since start.", 1.0);
		m->metric_checkpoint_size = api->metric_register(
			host, QUORUM_METRIC_GAUGE, "quorum_merkle_checkpoint_tree_size", NULL,
			"Tree size (records) of the latest checkpoint signed since start.",
			1.0);
	}
	dir = cfg->dir;
	origin = cfg->origin;
	m->every = cfg->checkpoint_every;
	m->period_ms = cfg->checkpoint_ms;
	m->witness_settings =
		(struct witness_settings){ .enabled = cfg->witness,
					   .interval_ms = cfg->witness_interval_ms,
					   .quorum = -1,
					   .fanout = cfg->witness_fanout,
					   .name = cfg->witness_name };
	api->config_int(host, "witness_quorum", &m->witness_settings.quorum);
	if (origin != NULL)
		snprintf(m->origin, sizeof(m->origin), "%s", origin);
	else
		snprintf(m->origin, sizeof(m->origin), "quorum-time/%s", api->node_id(host));
	for (const char *p = m->origin; *p != '\0'; p++) {
		if (*p <= 0x20 || *p > 0x7e || *p == '+') {
			api->log(host, QUORUM_LOG_ERROR,
				 "merkle.config_invalid setting=origin "
				 "reason=not_printable_without_spaces");
			free(m);
			return -EINVAL;
		}
	}
	if (m->witness_settings.name != NULL &&
	    (strlen(m->witness_settings.name) >= NOTE_ORIGIN_MAX ||
	     strspn(m->witness_settings.name,
		    "!\"#$%&'()*,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRST"
		    "UVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~") !=
		     strlen(m->witness_settings.name) ||
	     m->witness_settings.name[0] == '\0')) {
		api->log(host, QUORUM_LOG_ERROR,
			 "merkle.config_invalid setting=witness_name "
			 "reason=not_printable_without_spaces_or_plus");
		free(m);
		return -EINVAL;
	}
	if (dir == NULL || api->config_path(host, dir, m->dir, sizeof(m->dir)) != 0) {
		free(m);
		return -EINVAL;
	}
	err = mtree_open(m->dir, &m->tree, why, sizeof(why));
	if (err != 0) {
		api->log(host, QUORUM_LOG_ERROR, "merkle.open_failed dir=\"%s\" error=\"%s\"",
			 m->dir, why);
		free(m);
		return err;
	}
	err = api->service_publish(host, QUORUM_MERKLE_SERVICE, &merkle_service, m);
	if (err != 0) {
		mtree_close(m->tree);
		free(m);
		return err;
	}
	*state = m;
	return 0;
}

/* Witnessing needs a host that cosigns (ABI 1.9) and the setting `witness` (default on). */
static int merkle_witness_start(struct merkle_stage *m)
{
	struct witness_env env = {
		.host = m->host,
		.api = m->api,
		.dir = m->dir,
		.origin = m->origin,
		.tree = m,
		.tree_size = svc_tree_size,
		.root = svc_root,
		.consistency = svc_consistency,
	};
	char why[512] = "";
	int err;

	if (!m->witness_settings.enabled || !QUORUM_API_HAS(m->api, cosign_checkpoint))
		return 0;
	err = witness_new(&env, &m->witness_settings, &m->witness, why, sizeof(why));
	if (err == 0)
		err = witness_start(m->witness);
	if (err != 0)
		m->api->log(m->host, QUORUM_LOG_ERROR,
			    "merkle.witness_state_refused error=\"%s\"",
			    why[0] != '\0' ? why : strerror(-err));
	return err;
}

static int merkle_start(void *state)
{
	struct merkle_stage *m = state;
	const void *ops;
	int err;

	if (m->api->service_find(m->host, QUORUM_VAULT_SERVICE, &ops, &m->vault_state) != 0) {
		m->api->log(
			m->host, QUORUM_LOG_ERROR,
			"merkle.no_vault reason=\"the merkle stage needs the vault stage\"");
		return -ENOENT;
	}
	m->vault = ops;
	err = merkle_reconcile(m);
	if (err != 0)
		return err;
	err = merkle_witness_start(m);
	if (err != 0)
		return err;
	err = m->vault->subscribe(m->vault_state, follow_record, m);
	if (err != 0)
		return err;
	m->timer = m->api->timer_start(m->host, (uint64_t)m->period_ms, (uint64_t)m->period_ms,
				       checkpoint_timer_cb, m);
	if (m->timer == NULL)
		return -ENOMEM;
	m->api->log(m->host, QUORUM_LOG_NOTICE,
		    "merkle.ready origin=%s tree_size=%" PRIu64 " checkpoint_size=%" PRIu64,
		    m->origin, mtree_size(m->tree), m->checkpoint_size);
	return 0;
}

static void merkle_fini(void *state)
{
	struct merkle_stage *m = state;

	if (m->vault->size >= sizeof(struct quorum_vault_ops) && m->vault->await_cancel != NULL)
		m->vault->await_cancel(m->vault_state, m);
	m->api->log(m->host, QUORUM_LOG_INFO,
		    "merkle.stopped tree_size=%" PRIu64 " checkpoints=%" PRIu64,
		    mtree_size(m->tree), m->checkpoints);
	witness_free(m->witness);
	mtree_close(m->tree);
	free(m);
}

static const struct quorum_setting merkle_settings[] = {
	QUORUM_SETTING_STRING_REQUIRED_AT(
		"dir", struct merkle_settings, dir,
		"folder of the tree's level files and the latest checkpoint"),
	QUORUM_SETTING_STRING_AT("origin", struct merkle_settings, origin, NULL, NULL,
				 "checkpoint origin and signing key name (default "
				 "quorum-time/NODE_ID)"),
	/* From 10: a checkpoint costs a signature, a vault record and three fsyncs, and its
	 * record is a new record too; so at most one record in eleven is a checkpoint. */
	QUORUM_SETTING_INT_AT("checkpoint_every", struct merkle_settings, checkpoint_every, 10,
			      100000000, "1000",
			      "sign a checkpoint after this many new records, 10 or more"),
	QUORUM_SETTING_INT_AT("checkpoint_ms", struct merkle_settings, checkpoint_ms, 10,
			      86400000, "1000", "and at least this often while records arrive"),
	QUORUM_SETTING_BOOL_AT("witness", struct merkle_settings, witness, "true",
			       "witness the peers' logs and have this one witnessed by them"),
	QUORUM_SETTING_INT_AT("witness_interval_ms", struct merkle_settings,
			      witness_interval_ms, 100, 86400000, "10000",
			      "ask the witnesses to cosign the latest checkpoint at most this "
			      "often"),
	{ .name = "witness_quorum",
	  .type = QUORUM_SETTING_INT,
	  .min = 0,
	  .max = QUORUM_AUTHORITIES_MAX,
	  .help = "witnesses that must answer at start before a checkpoint is signed and time "
		  "served (default: peers - f)" },
	QUORUM_SETTING_INT_AT(
		"witness_fanout", struct merkle_settings, witness_fanout, 0,
		QUORUM_AUTHORITIES_MAX, "3",
		"witnesses asked to cosign each checkpoint submitted, the peers in "
		"turn (0: every peer)"),
	QUORUM_SETTING_STRING_AT("witness_name", struct merkle_settings, witness_name, NULL,
				 NULL,
				 "the cosigner name of this node's cosignatures (default "
				 "quorum-time/NODE_ID/witness)"),
	{ .type = QUORUM_SETTING_END },
};

static const struct quorum_stage_ops merkle_ops = {
	.size = sizeof(struct quorum_stage_ops),
	.process = merkle_process,
};

QUORUM_PLUGIN_EXPORT const struct quorum_plugin quorum_plugin = {
	QUORUM_PLUGIN_HEADER(QUORUM_PLUGIN_STAGE, "merkle", PACKAGE_VERSION,
			     QUORUM_ROLE_MERKLE),
	.settings = merkle_settings,
	.settings_size = sizeof(struct merkle_settings),
	.init = merkle_init,
	.start = merkle_start,
	.fini = merkle_fini,
	.ops = &merkle_ops,
};
