/* witness.c -- the merkle stage's witnessed checkpoints (see witness.h): the log side (ask
 * the peers, collect their cosignatures, wait for them at start, notice a rollback) and the
 * witness side (cosign a peer's checkpoint only after its consistency proof, keep the last
 * one durably, report a log that contradicts itself). Messages are SignedStates signed by
 * the node key, sent to one peer each over the peer link with one hop to go (ttl 0): the
 * receiving gossip stage accepts them (its forward list) and forwards them nowhere. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include <quorum/gossip.h>
#include <quorum/time.h>

#include "cosign.h"
#include "note.h"
#include "signed_state.pb-c.h"
#include "statedir.h"
#include "witness.h"
#include "clocks.h"

#define STATE_NAME	  "witness-state"
#define STATE_TMP_NAME	  ".witness-state.tmp"
#define STATE_HEADER	  "quorum-witness-state/v1\n"
#define EVIDENCE_NAME	  "rollback-evidence"
#define EVIDENCE_TMP_NAME ".rollback-evidence.tmp"
#define LOGS_PER_PEER	  4		/* origins one peer may have witnessed at once */
#define TICK_MS		  250		/* probes while waiting; submissions every interval */
#define REPORT_HOLDOFF_NS 10000000000LL /* one report per log per 10 s at most */
#define STATEMENT_MAX	  (NOTE_MAX + COSIG_LINE_MAX)

enum gate {
	GATE_WAITING,	  /* at start: no checkpoint until witness_quorum peers reported */
	GATE_OPEN,	  /* signing */
	GATE_IDLE,	  /* no peers, or witnessing off: signing, nobody to ask */
	GATE_ROLLED_BACK, /* a peer holds a checkpoint this log contradicts: nothing signed */
};

/* A peer's log this node witnesses: the latest checkpoint of it that it cosigned. */
struct held_log {
	char *note; /* the signed checkpoint as the log sent it (its signature line) */
	size_t len;
	struct checkpoint cp;
};

struct witness_peer {
	const char *id; /* borrowed from the host, valid for the process lifetime */
	/* as the witness of its log(s) */
	struct held_log held[LOGS_PER_PEER];
	size_t held_count;
	int64_t last_report_mono;
	/* as a witness of this log */
	int reported;		    /* told its latest checkpoint of this log since start */
	uint64_t known_size;	    /* that checkpoint's size */
	char cosig[COSIG_LINE_MAX]; /* its cosignature on the submitted checkpoint, or "" */
	int resent;		    /* asked again (from its own size) for that checkpoint */
};

/* A log from the state file, until the peers are known. */
struct loaded_log {
	char id[QUORUM_NODE_ID_MAX + 1];
	char *note;
	size_t len;
};

struct witness {
	struct witness_env env;
	char dir[4096];
	char origin[NOTE_ORIGIN_MAX];
	char name[NOTE_ORIGIN_MAX];
	const char *node_id;
	int enabled;
	int64_t interval_ns;
	int64_t quorum_setting;
	size_t quorum;
	size_t fanout; /* peers asked per submission (0: all) */
	size_t next;   /* the first peer the next submission asks */
	enum gate gate;
	int peers_loaded;
	struct witness_peer *peers;
	size_t peer_count, reported;
	struct loaded_log *loaded; /* the state file's logs until the peers are known */
	size_t loaded_count;
	uint8_t pub[NOTE_PUB_LEN];
	int have_pub;
	char probe[NOTE_MAX]; /* this log's checkpoint of the empty tree */
	size_t probe_len;
	char latest[NOTE_MAX]; /* the latest checkpoint signed */
	size_t latest_len;
	struct checkpoint latest_cp;
	char submitted[NOTE_MAX]; /* the latest one submitted to the witnesses */
	size_t submitted_len;
	struct checkpoint submitted_cp;
	int64_t submitted_mono;
	char *published; /* SUBMITTED and its cosignatures */
	size_t published_cap;
	char rolled_back[384]; /* why, for the host */
	struct quorum_timer *timer;
	int waiting_logged;
	int send_failure_logged;
	uint64_t cosigned, answered, reports, submissions, asked;
};

static struct witness_peer *peer_find(struct witness *w, const char *id)
{
	for (size_t i = 0; i < w->peer_count; i++) {
		if (strcmp(w->peers[i].id, id) == 0)
			return &w->peers[i];
	}
	return NULL;
}

/* ---- files (audit/statedir.h's rule, atomic replacement) ---- */

/* Replaces DIR/NAME with DATA (LEN bytes): a new temporary file, fsync, rename, fsync of DIR.
 */
static int file_replace(struct witness *w, const char *name, const char *tmp, const void *data,
			size_t len, char *why, size_t why_size)
{
	struct statedir dir;
	const uint8_t *p = data;
	size_t done = 0;
	int fd, err;

	err = statedir_open(&dir, w->dir, 0, why, why_size);
	if (err != 0)
		return err;
	unlinkat(dir.fd, tmp, 0); /* a failed write's leftover */
	fd = statedir_openat(&dir, tmp, O_WRONLY | O_CREAT | O_EXCL, 0600, why, why_size);
	if (fd < 0) {
		err = fd;
		goto out_close;
	}
	while (err == 0 && done < len) {
		ssize_t n = write(fd, p + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			err = n < 0 ? -errno : -EIO;
		else
			done += (size_t)n;
	}
	if (err == 0 && fsync(fd) != 0)
		err = -errno;
	close(fd);
	if (err == 0 && renameat(dir.fd, tmp, dir.fd, name) != 0)
		err = -errno;
	if (err == 0 && fsync(dir.fd) != 0)
		err = -errno;
	if (err != 0) {
		snprintf(why, why_size, "%.200s/%s: %s", w->dir, name, strerror(-err));
		unlinkat(dir.fd, tmp, 0);
	}
out_close:
	statedir_close(&dir);
	return err;
}

/* Reads DIR/NAME (at most MAX bytes) into *DATA (new, NUL-terminated) and *LEN.
 * 0, -ENOENT, or -errno with WHY. */
static int file_read(struct witness *w, const char *name, size_t max, char **data, size_t *len,
		     char *why, size_t why_size)
{
	struct statedir dir;
	struct stat st;
	char *buf;
	size_t done = 0;
	int fd, err;

	err = statedir_open(&dir, w->dir, 0, why, why_size);
	if (err != 0)
		return err;
	fd = statedir_openat(&dir, name, O_RDONLY, 0, why, why_size);
	statedir_close(&dir);
	if (fd < 0)
		return fd;
	if (fstat(fd, &st) != 0 || (uint64_t)st.st_size > max) {
		snprintf(why, why_size, "%.200s/%s: larger than %zu bytes", w->dir, name, max);
		close(fd);
		return -EFBIG;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (buf == NULL) {
		close(fd);
		return -ENOMEM;
	}
	while (done < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + done, (size_t)st.st_size - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(why, why_size, "%.200s/%s: read failed", w->dir, name);
			free(buf);
			close(fd);
			return n < 0 ? -errno : -EIO;
		}
		done += (size_t)n;
	}
	close(fd);
	buf[done] = '\0';
	*data = buf;
	*len = done;
	return 0;
}

/* Whether NOTE (LEN bytes) parses as a signed checkpoint: into CP. */
static int note_checkpoint(const char *note, size_t len, struct checkpoint *cp)
{
	size_t tlen;
	const char *why = NULL;

	return len > 0 && len < NOTE_MAX && memchr(note, '\0', len) == NULL &&
			       note_text_length(note, len, &tlen) == 0 &&
			       checkpoint_parse(note, tlen, cp, &why) == 0
		       ? 0
		       : -1;
}

/* The state file: STATE_HEADER, then per log "log ID LENGTH\n" and that many bytes of its
 * signed checkpoint. Parsed strictly: anything else refuses the start. */
static int state_parse(struct witness *w, const char *data, size_t len, char *why,
		       size_t why_size)
{
	size_t pos = sizeof(STATE_HEADER) - 1;

	if (len < pos || memcmp(data, STATE_HEADER, pos) != 0) {
		snprintf(why, why_size, "%.200s/%s: not a witness state file", w->dir,
			 STATE_NAME);
		return -EBADMSG;
	}
	while (pos < len) {
		char id[QUORUM_NODE_ID_MAX + 1];
		unsigned long long n = 0;
		struct checkpoint cp;
		const char *nl = memchr(data + pos, '\n', len - pos);
		struct loaded_log *grown;
		int used = 0;

		if (nl == NULL || nl - (data + pos) > 100 ||
		    sscanf(data + pos, "log %64s %llu%n", id, &n, &used) != 2 ||
		    data + pos + used != nl || n > len - (size_t)(nl + 1 - data) ||
		    note_checkpoint(nl + 1, (size_t)n, &cp) != 0 ||
		    w->loaded_count >= QUORUM_AUTHORITIES_MAX * LOGS_PER_PEER) {
			snprintf(why, why_size, "%.200s/%s: malformed at byte %zu", w->dir,
				 STATE_NAME, pos);
			return -EBADMSG;
		}
		grown = realloc(w->loaded, (w->loaded_count + 1) * sizeof(*grown));
		if (grown == NULL)
			return -ENOMEM;
		w->loaded = grown;
		memcpy(grown[w->loaded_count].id, id, sizeof(id));
		grown[w->loaded_count].note = malloc((size_t)n + 1);
		if (grown[w->loaded_count].note == NULL)
			return -ENOMEM;
		memcpy(grown[w->loaded_count].note, nl + 1, (size_t)n);
		grown[w->loaded_count].note[n] = '\0';
		grown[w->loaded_count].len = (size_t)n;
		w->loaded_count++;
		pos = (size_t)(nl + 1 - data) + (size_t)n;
	}
	return 0;
}

/* Writes every held log to the state file: durable before any answer that depends on it. */
static int state_save(struct witness *w, char *why, size_t why_size)
{
	size_t cap = sizeof(STATE_HEADER), len;
	char *buf;
	int err;

	for (size_t i = 0; i < w->peer_count; i++)
		for (size_t k = 0; k < w->peers[i].held_count; k++)
			cap += 100 + w->peers[i].held[k].len;
	buf = malloc(cap);
	if (buf == NULL)
		return -ENOMEM;
	len = (size_t)snprintf(buf, cap, "%s", STATE_HEADER);
	for (size_t i = 0; i < w->peer_count; i++) {
		for (size_t k = 0; k < w->peers[i].held_count; k++) {
			const struct held_log *h = &w->peers[i].held[k];

			len += (size_t)snprintf(buf + len, cap - len, "log %s %zu\n",
						w->peers[i].id, h->len);
			memcpy(buf + len, h->note, h->len);
			len += h->len;
		}
	}
	err = file_replace(w, STATE_NAME, STATE_TMP_NAME, buf, len, why, why_size);
	free(buf);
	return err;
}

/* ---- sending ---- */

/* Signs PAYLOAD (LEN bytes) as EVENT_ID with the node key and sends it to PEER, one hop. */
static int send_event(struct witness *w, const char *event_id, const void *payload, size_t len,
		      const char *peer)
{
	struct quorum_signed_state st = { 0 };
	Uml001__SignedState s = UML001__SIGNED_STATE__INIT;
	Uml001__GossipState g = UML001__GOSSIP_STATE__INIT;
	uint8_t sig[64], *buf;
	size_t n;
	int err;

	st.logical_time_ns = (uint64_t)clock_now_ns(CLOCK_REALTIME);
	st.event_id = event_id;
	st.payload.data = payload;
	st.payload.len = len;
	err = w->env.api->sign_event(w->env.host, &st, sig);
	if (err != 0)
		goto out_log;
	s.logical_time_ns = st.logical_time_ns;
	s.event_id = (char *)event_id;
	s.payload.data = (uint8_t *)payload;
	s.payload.len = len;
	s.signature.data = sig;
	s.signature.len = sizeof(sig);
	s.key_id = (char *)st.key_id;
	/* A copy from a peer says where it comes from; ttl 0: nobody forwards it. */
	g.hops = 1;
	g.ttl = 0;
	g.origin_node_id = (char *)w->node_id;
	s.gossip = &g;
	n = uml001__signed_state__get_packed_size(&s);
	buf = malloc(n > 0 ? n : 1);
	if (buf == NULL) {
		err = -ENOMEM;
		goto out_log;
	}
	uml001__signed_state__pack(&s, buf);
	err = w->env.api->gossip_send(w->env.host, buf, n, peer);
	free(buf);
	if (err == 0)
		return 0;
out_log:
	if (!w->send_failure_logged || err == -EMSGSIZE)
		w->env.api->log(w->env.host, QUORUM_LOG_WARNING,
				"merkle.witness_send_failed peer=%s event_id=%s error=\"%s\"",
				peer, event_id, strerror(-err));
	w->send_failure_logged = 1;
	return err;
}

/* Asks PEER to cosign NOTE (LEN bytes, checkpoint CP) from the size it last cosigned. */
static void ask(struct witness *w, struct witness_peer *p, const char *note, size_t len,
		const struct checkpoint *cp)
{
	uint8_t proof[WITNESS_PROOF_MAX][QUORUM_HASH_LEN];
	char body[WITNESS_REQUEST_MAX];
	uint64_t old = p->reported && p->known_size <= cp->size ? p->known_size : 0;
	size_t count = 0;
	int n;

	if (old > 0 && old < cp->size &&
	    w->env.consistency(w->env.tree, old, cp->size, proof, WITNESS_PROOF_MAX, &count) !=
		    0)
		return;
	n = witness_request_format(old, (const uint8_t(*)[NOTE_HASH_LEN])proof, count, note,
				   len, body, sizeof(body));
	if (n > 0)
		send_event(w, QUORUM_EVENT_CHECKPOINT, body, (size_t)n, p->id);
}

struct note_check {
	struct witness *w;
	const char *peer;
	const char *key_id; /* the key that signed the event carrying the note, or NULL */
};

/* A note names its key by a hash only: the peer's configured key, or the one its event was
 * signed with (a key rotated by a passport update, ABI 1.9's authority_verify). */
static int note_by_peer(void *arg, const void *text, size_t len,
			const uint8_t sig[NOTE_SIG_LEN])
{
	struct note_check *c = arg;
	const struct quorum_api *api = c->w->env.api;

	if (api->authority_verify(c->w->env.host, c->peer, NULL, text, len, sig,
				  NOTE_SIG_LEN) == 0)
		return 0;
	return c->key_id != NULL && api->authority_verify(c->w->env.host, c->peer, c->key_id,
							  text, len, sig, NOTE_SIG_LEN) == 0
		       ? 0
		       : -1;
}

/* Whether NOTE (LEN bytes, checkpoint CP) carries PEER's signature under its origin, by its
 * configured key or KEY_ID (may be NULL). */
static int signed_by(struct witness *w, const char *peer, const char *key_id, const char *note,
		     size_t len, const struct checkpoint *cp)
{
	struct note_check c = { w, peer, key_id };
	const char *why = NULL;
	size_t tlen;

	return note_verify_by(note, len, cp->origin, note_by_peer, &c, &tlen, &why) == 0;
}

/* ---- the log side ---- */

/* Rebuilds the published checkpoint: the submitted one and its cosignatures. */
static void publish(struct witness *w)
{
	size_t need = w->submitted_len + 1, len;

	for (size_t i = 0; i < w->peer_count; i++)
		need += strlen(w->peers[i].cosig);
	if (need > w->published_cap) {
		char *p = realloc(w->published, need);

		if (p == NULL)
			return; /* the old one stays */
		w->published = p;
		w->published_cap = need;
	}
	memcpy(w->published, w->submitted, w->submitted_len);
	len = w->submitted_len;
	for (size_t i = 0; i < w->peer_count; i++) {
		size_t n = strlen(w->peers[i].cosig);

		memcpy(w->published + len, w->peers[i].cosig, n);
		len += n;
	}
	w->published[len] = '\0';
}

/* Submits the latest checkpoint to witness_fanout peers in turn (every peer by default),
 * once witness_interval_ms has passed (at
 * once when it is the first, or the first to carry a synchronised time: what is published
 * is the submitted one, and a recovering peer takes it as a time witness). */
static void submit_maybe(struct witness *w)
{
	int64_t mono = clock_now_ns(CLOCK_MONOTONIC);
	int now = w->submitted_len == 0 ||
		  (w->latest_cp.synchronised && !w->submitted_cp.synchronised);
	size_t asked;

	if (w->gate != GATE_OPEN || w->latest_len == 0 ||
	    (w->submitted_len > 0 && w->latest_cp.size <= w->submitted_cp.size) ||
	    (!now && mono - w->submitted_mono < w->interval_ns))
		return;
	memcpy(w->submitted, w->latest, w->latest_len + 1);
	w->submitted_len = w->latest_len;
	w->submitted_cp = w->latest_cp;
	w->submitted_mono = mono;
	w->submissions++;
	asked = w->fanout == 0 || w->fanout > w->peer_count ? w->peer_count : w->fanout;
	for (size_t i = 0; i < w->peer_count; i++) {
		w->peers[i].cosig[0] = '\0';
		w->peers[i].resent = 0;
	}
	for (size_t k = 0; k < asked; k++) {
		struct witness_peer *p = &w->peers[(w->next + k) % w->peer_count];

		ask(w, p, w->submitted, w->submitted_len, &w->submitted_cp);
		w->asked++;
	}
	if (w->peer_count > 0)
		w->next = (w->next + asked) % w->peer_count;
	publish(w);
}

/* This log contradicts a checkpoint it signed (STATEMENT, LEN bytes, as PEER held it):
 * nothing is signed and no time served from now on. */
static void rolled_back(struct witness *w, const char *peer, const struct checkpoint *cp,
			const char *statement, size_t len, const char *kind)
{
	char why[512] = "";
	uint64_t size = w->env.tree_size(w->env.tree);

	if (w->gate == GATE_ROLLED_BACK)
		return;
	w->gate = GATE_ROLLED_BACK;
	snprintf(w->rolled_back, sizeof(w->rolled_back),
		 "log %s: %s holds checkpoint %" PRIu64
		 " signed by this node, the tree has %" PRIu64 " records (%.120s/%s)",
		 kind, peer, cp->size, size, w->dir, EVIDENCE_NAME);
	if (statement != NULL && file_replace(w, EVIDENCE_NAME, EVIDENCE_TMP_NAME, statement,
					      len, why, sizeof(why)) != 0)
		w->env.api->log(w->env.host, QUORUM_LOG_ERROR,
				"merkle.rollback_evidence_not_saved error=\"%s\"", why);
	w->env.api->log(w->env.host, QUORUM_LOG_ERROR,
			"merkle.rolled_back kind=%s witness=%s witnessed_size=%" PRIu64
			" tree_size=%" PRIu64
			" effect=no_checkpoint_signed,no_time_served,no_cosignature"
			" evidence=\"%s/%s\" resolve=\"see docs/audit.md: quorumctl checkpoint"
			" verify --node-key NODE.pub --vault VAULT_DIR %s/%s\"",
			kind, peer, cp->size, size, w->dir, EVIDENCE_NAME, w->dir,
			EVIDENCE_NAME);
	w->env.api->audit(w->env.host, "merkle.rolled_back",
			  "kind=%s witness=%s witnessed_size=%" PRIu64 " tree_size=%" PRIu64,
			  kind, peer, cp->size, size);
	if (QUORUM_API_HAS(w->env.api, audit_changed))
		w->env.api->audit_changed(w->env.host); /* no time served from this instant */
}

/* Checks CP, a checkpoint this node signed, against the tree: 0 consistent, else rolled
 * back (KIND says how). */
static int check_own(struct witness *w, const struct checkpoint *cp, const char **kind)
{
	uint8_t root[QUORUM_HASH_LEN];

	if (cp->size > w->env.tree_size(w->env.tree)) {
		*kind = "shorter_than_signed";
		return -1;
	}
	if (w->env.root(w->env.tree, cp->size, root) != 0 ||
	    CRYPTO_memcmp(root, cp->root, QUORUM_HASH_LEN) != 0) {
		*kind = "forked_from_signed";
		return -1;
	}
	return 0;
}

struct peer_check {
	struct witness *w;
	const char *peer;
};

static int cosig_by_peer(void *arg, const char *name, uint32_t key_hash, const void *msg,
			 size_t len, const uint8_t sig[NOTE_SIG_LEN])
{
	struct peer_check *c = arg;

	(void)name;
	(void)key_hash;
	/* The peer's node key, whatever the cosigner name it chose. */
	return c->w->env.api->authority_verify(c->w->env.host, c->peer, NULL, msg, len, sig,
					       NOTE_SIG_LEN) == 0
		       ? 1
		       : 0;
}

/* A peer's latest cosigned checkpoint of this log. */
static int on_statement(struct witness *w, struct witness_peer *p,
			const struct quorum_event *ev, const char **reason)
{
	const char *note = (const char *)ev->state->payload.data, *why = NULL, *kind = NULL;
	size_t len = ev->state->payload.len, tlen;
	struct peer_check pc = { w, p->id };
	struct note_check own = { w, w->node_id, NULL };
	struct checkpoint cp;
	struct cosig c;
	int has_cosig, signed_here;

	if (note_checkpoint(note, len, &cp) != 0 || len >= STATEMENT_MAX) {
		*reason = "witness_statement_invalid";
		return QUORUM_REJECT;
	}
	if (strcmp(cp.origin, w->origin) != 0 || !w->have_pub)
		return QUORUM_CONTINUE; /* another log of ours (an old origin): not this one */
	/* Signed by this node's key, or by the key its authority entry names (the one before
	 * a rotation): only then may it be held against this log. */
	signed_here =
		note_verify(note, len, w->origin, w->pub, &tlen, &why) == 0 ||
		note_verify_by(note, len, w->origin, note_by_peer, &own, &tlen, &why) == 0;
	has_cosig = cosig_find(note, len, 0, cosig_by_peer, &pc, &c, NULL, &why) == 0;
	if (check_own(w, &cp, &kind) != 0) {
		if (signed_here) {
			rolled_back(w, p->id, &cp, note, len, kind);
			return QUORUM_CONTINUE;
		}
		/* A checkpoint this node cannot check is signed by it: proof of nothing. */
		w->env.api->log(w->env.host, QUORUM_LOG_WARNING,
				"merkle.witness_statement_unverifiable witness=%s size=%" PRIu64
				" kind=%s reason=not_signed_by_a_key_of_this_node",
				p->id, cp.size, kind);
		return QUORUM_CONTINUE;
	}
	p->known_size = cp.size;
	if (!p->reported) {
		p->reported = 1;
		w->reported++;
		if (w->gate == GATE_WAITING && w->reported >= w->quorum) {
			w->gate = GATE_OPEN;
			w->env.api->log(w->env.host, QUORUM_LOG_NOTICE,
					"merkle.witnessed_start witnesses=%zu of=%zu quorum=%zu"
					" tree_size=%" PRIu64 " effect=checkpoints_signed",
					w->reported, w->peer_count, w->quorum,
					w->env.tree_size(w->env.tree));
			if (QUORUM_API_HAS(w->env.api, audit_changed))
				w->env.api->audit_changed(w->env.host);
		}
	}
	if (w->submitted_len == 0)
		return QUORUM_CONTINUE;
	if (has_cosig && cp.size == w->submitted_cp.size &&
	    CRYPTO_memcmp(cp.root, w->submitted_cp.root, QUORUM_HASH_LEN) == 0) {
		if (c.line_len < sizeof(p->cosig)) {
			memcpy(p->cosig, note + c.line_start, c.line_len);
			p->cosig[c.line_len] = '\0';
			publish(w);
		}
	} else if (cp.size < w->submitted_cp.size && !p->resent) {
		/* It did not know where the peer stood (C2SP's 409): ask again from there. */
		p->resent = 1;
		ask(w, p, w->submitted, w->submitted_len, &w->submitted_cp);
	}
	return QUORUM_CONTINUE;
}

/* ---- the witness side ---- */

static struct held_log *held_find(struct witness_peer *p, const char *origin)
{
	for (size_t k = 0; k < p->held_count; k++) {
		if (strcmp(p->held[k].cp.origin, origin) == 0)
			return &p->held[k];
	}
	return NULL;
}

/* Answers PEER with H, the latest checkpoint of its log this node cosigned, cosigned now. */
static void answer(struct witness *w, struct witness_peer *p, const struct held_log *h)
{
	char statement[STATEMENT_MAX], line[COSIG_LINE_MAX];
	uint8_t sig[NOTE_SIG_LEN], pub[NOTE_PUB_LEN];
	uint64_t ts = 0;
	size_t tlen;
	int n, err;

	if (note_text_length(h->note, h->len, &tlen) != 0)
		return;
	err = w->env.api->cosign_checkpoint(w->env.host, h->note, tlen, &ts, sig, pub);
	if (err != 0) {
		w->env.api->log(w->env.host, QUORUM_LOG_ERROR,
				"merkle.cosign_failed log=%s error=\"%s\"", p->id,
				strerror(-err));
		return;
	}
	n = cosig_line(w->name, pub, ts, sig, line, sizeof(line));
	if (n < 0 || h->len + (size_t)n >= sizeof(statement))
		return;
	memcpy(statement, h->note, h->len);
	memcpy(statement + h->len, line, (size_t)n);
	if (send_event(w, QUORUM_EVENT_COSIGNATURE, statement, h->len + (size_t)n, p->id) == 0)
		w->answered++;
}

/* Ingests evidence E against PEER's log: the control stages check it and act. */
static void report(struct witness *w, struct witness_peer *p, const struct log_evidence *e,
		   const struct checkpoint *a, const struct checkpoint *b, const char *kind)
{
	int64_t now = clock_now_ns(CLOCK_MONOTONIC);
	struct quorum_signed_state st = { 0 };
	struct quorum_verdict verdict;
	uint8_t sig[64];
	char *payload = NULL;
	size_t len;
	int err;

	w->env.api->log(w->env.host, QUORUM_LOG_WARNING,
			"merkle.log_malfeasance log=%s origin=%s kind=%s cosigned_size=%" PRIu64
			" claimed_size=%" PRIu64,
			p->id, a->origin, kind, a->size, b->size);
	if (p->last_report_mono != 0 && now - p->last_report_mono < REPORT_HOLDOFF_NS)
		return;
	err = log_evidence_format(e, &payload, &len);
	if (err != 0)
		return;
	st.logical_time_ns = (uint64_t)clock_now_ns(CLOCK_REALTIME);
	st.event_id = QUORUM_EVENT_LOG_MALFEASANCE;
	st.payload.data = (const uint8_t *)payload;
	st.payload.len = len;
	err = w->env.api->sign_event(w->env.host, &st, sig);
	if (err == 0) {
		p->last_report_mono = now;
		w->reports++;
		err = w->env.api->ingest(w->env.host, &st, NULL, &verdict);
	}
	if (err < 0)
		w->env.api->log(w->env.host, QUORUM_LOG_ERROR,
				"merkle.log_malfeasance_not_reported log=%s error=\"%s\"",
				p->id, strerror(-err));
	free(payload);
}

/* A peer asks this node to witness its checkpoint. */
static int on_request(struct witness *w, struct witness_peer *p, const struct quorum_event *ev,
		      const char **reason)
{
	const struct quorum_signed_state *st = ev->state;
	struct witness_request req;
	struct checkpoint cp;
	struct held_log *h;
	struct log_evidence e = { 0 };
	enum witness_verdict v;
	char why[512] = "";
	const char *w_why = NULL;

	if (witness_request_parse((const char *)st->payload.data, st->payload.len, &req,
				  &w_why) != 0 ||
	    note_checkpoint(req.note, req.note_len, &cp) != 0) {
		*reason = "witness_request_invalid";
		return QUORUM_REJECT;
	}
	if (!signed_by(w, p->id, st->key_id, req.note, req.note_len, &cp)) {
		*reason = "witness_checkpoint_not_signed_by_peer";
		return QUORUM_REJECT;
	}
	if (w->gate == GATE_ROLLED_BACK)
		return QUORUM_CONTINUE; /* its own state went back too: it cosigns nothing */
	/* What it holds was checked when it came; the file is under statedir.h's rule (and
	 * the key that signed it may since have been rotated away). */
	h = held_find(p, cp.origin);
	if (h == NULL && p->held_count == LOGS_PER_PEER) {
		*reason = "witness_too_many_logs";
		return QUORUM_REJECT;
	}
	if (h == NULL) {
		/* Nothing held for this log (a new witness, or one that lost its state): the
		 * first checkpoint it sees, from wherever the log believes it stood. */
		struct witness_request first = req;

		first.old_size = 0;
		first.proof_count = 0;
		v = witness_judge(NULL, &cp, &first);
	} else {
		v = witness_judge(&h->cp, &cp, &req);
	}
	if (v == WITNESS_COSIGN && h != NULL && cp.size == h->cp.size) {
		w->cosigned++; /* the one it holds (witness_judge compared the roots) */
	} else if (v == WITNESS_COSIGN) {
		struct held_log fresh = { .len = req.note_len, .cp = cp };
		struct held_log old = { 0 };

		fresh.note = malloc(req.note_len + 1);
		if (fresh.note == NULL)
			return QUORUM_CONTINUE;
		memcpy(fresh.note, req.note, req.note_len);
		fresh.note[req.note_len] = '\0';
		if (h == NULL)
			h = &p->held[p->held_count++];
		else
			old = *h;
		*h = fresh;
		/* Durable before the answer: a restart must not cosign a fork of it. */
		if (state_save(w, why, sizeof(why)) != 0) {
			w->env.api->log(w->env.host, QUORUM_LOG_ERROR,
					"merkle.witness_state_not_saved error=\"%s\" "
					"effect=not_cosigned",
					why);
			free(h->note);
			if (old.note != NULL)
				*h = old;
			else
				p->held_count--;
			return QUORUM_CONTINUE;
		}
		free(old.note);
		w->cosigned++;
	} else if (v == WITNESS_FORK_SIZE || v == WITNESS_FORK_PROOF) {
		/* The request itself is the evidence: the log signed it, with the key id that
		 * names its key, and it claims its checkpoint extends the one held. */
		snprintf(e.log, sizeof(e.log), "%s", p->id);
		snprintf(e.reporter, sizeof(e.reporter), "%s", w->node_id);
		e.kind = LOG_EVIDENCE_PROOF;
		e.first = h->note;
		e.first_len = h->len;
		snprintf(e.key_id, sizeof(e.key_id), "%s", st->key_id);
		e.logical_time_ns = st->logical_time_ns;
		e.signature = st->signature.data;
		e.signature_len = st->signature.len;
		e.body = (const char *)st->payload.data;
		e.body_len = st->payload.len;
		report(w, p, &e, &h->cp, &cp, witness_verdict_name(v));
	}
	w->env.api->log(w->env.host, QUORUM_LOG_DEBUG,
			"merkle.witness log=%s origin=%s size=%" PRIu64 " old=%" PRIu64
			" verdict=%s",
			p->id, cp.origin, cp.size, req.old_size, witness_verdict_name(v));
	if (h != NULL)
		answer(w, p, h);
	return QUORUM_CONTINUE;
}

static int log_verify_cb(void *arg, const char *log, const char *key_id, const void *msg,
			 size_t len, const void *sig, size_t sig_len)
{
	struct witness *w = arg;

	return w->env.api->authority_verify(w->env.host, log, key_id, msg, len, sig, sig_len);
}

/* Evidence gossiped about a log: this node's own means it forked. */
static int on_evidence(struct witness *w, const struct quorum_event *ev)
{
	const struct quorum_signed_state *st = ev->state;
	struct log_evidence_summary sum;
	const char *why = NULL;

	if (w->gate == GATE_ROLLED_BACK ||
	    log_evidence_check(st->payload.data, st->payload.len, log_verify_cb, w, &sum,
			       &why) != 0 ||
	    strcmp(sum.log, w->node_id) != 0 || strcmp(sum.first.origin, w->origin) != 0)
		return QUORUM_CONTINUE; /* the control stage judges evidence against others */
	rolled_back(w, sum.reporter, &sum.first, NULL, 0, "forked_reported");
	return QUORUM_CONTINUE;
}

/* ---- start: the peers, the probe, the evidence of an earlier run ---- */

/* Signs this log's checkpoint of the empty tree (one root only: it can fork nothing), the
 * question a restarted node asks its witnesses; it also tells the node its public key. */
static int probe_sign(struct witness *w)
{
	struct checkpoint cp = { 0 };
	struct quorum_clock_reading now;
	char body[1024];
	uint8_t sig[NOTE_SIG_LEN];
	int blen, nlen, err;

	memcpy(cp.origin, w->origin, sizeof(cp.origin));
	if (w->env.root(w->env.tree, 0, cp.root) != 0)
		return -EIO;
	if (w->env.api->clock_read(w->env.host, &now) == 0) {
		cp.has_time = 1;
		cp.synchronised = now.status == QUORUM_CLOCK_SYNCHRONISED;
		cp.earliest_ns = now.earliest_ns;
		cp.latest_ns = now.latest_ns;
	}
	blen = checkpoint_format(&cp, body, sizeof(body));
	if (blen < 0)
		return blen;
	err = w->env.api->sign_checkpoint(w->env.host, body, (size_t)blen, sig, w->pub);
	if (err != 0)
		return err;
	nlen = note_format(body, (size_t)blen, w->origin, w->pub, sig, w->probe,
			   sizeof(w->probe));
	if (nlen < 0)
		return nlen;
	w->probe_len = (size_t)nlen;
	w->have_pub = 1;
	return 0;
}

/* DIR/rollback-evidence from an earlier run: still contradicted, the node stays refused;
 * resolved (the folder restored to its latest state), it is removed. */
static void evidence_recheck(struct witness *w)
{
	char why[512] = "", *data = NULL;
	const char *kind = NULL, *w_why = NULL;
	struct checkpoint cp;
	struct statedir dir;
	size_t len = 0, tlen;
	int err = file_read(w, EVIDENCE_NAME, STATEMENT_MAX, &data, &len, why, sizeof(why));

	if (err == -ENOENT)
		return;
	if (err != 0 || note_checkpoint(data, len, &cp) != 0 ||
	    note_verify(data, len, cp.origin, w->pub, &tlen, &w_why) != 0) {
		memset(&cp, 0, sizeof(cp));
		snprintf(w->rolled_back, sizeof(w->rolled_back),
			 "%.100s/%s cannot be read or is not a checkpoint signed by this node: "
			 "%.200s",
			 w->dir, EVIDENCE_NAME, why[0] != '\0' ? why : "invalid");
		w->gate = GATE_ROLLED_BACK;
		w->env.api->log(
			w->env.host, QUORUM_LOG_ERROR,
			"merkle.rollback_evidence_invalid file=\"%s/%s\" effect=no_time_served",
			w->dir, EVIDENCE_NAME);
		free(data);
		return;
	}
	if (strcmp(cp.origin, w->origin) == 0 && check_own(w, &cp, &kind) != 0) {
		rolled_back(w, "earlier_run", &cp, NULL, 0, kind);
		free(data);
		return;
	}
	w->env.api->log(w->env.host, QUORUM_LOG_NOTICE,
			"merkle.rollback_evidence_resolved size=%" PRIu64
			" origin=%s effect=removed",
			cp.size, cp.origin);
	if (statedir_open(&dir, w->dir, 0, why, sizeof(why)) == 0) {
		unlinkat(dir.fd, EVIDENCE_NAME, 0);
		fsync(dir.fd);
		statedir_close(&dir);
	}
	free(data);
}

/* The peers (configured quorumd authorities but this node) and the logs held for them. */
static int peers_load(struct witness *w)
{
	struct quorum_source_status *sources;
	struct quorum_authority_set set = { 0 };
	size_t count = 0, f;

	sources = calloc(QUORUM_AUTHORITIES_MAX, sizeof(*sources));
	if (sources == NULL)
		return -ENOMEM;
	w->env.api->authority_set(w->env.host, &set);
	w->env.api->sources_status(w->env.host, sources, QUORUM_AUTHORITIES_MAX, &count);
	if (count == 0 && set.n > 0) {
		free(sources);
		return -EAGAIN; /* authorities configured, no status from the time core yet */
	}
	/* count == 0 otherwise: a node with no authorities (an audit-only node) has no peers
	 * to ask; it signs its checkpoints unwitnessed (GATE_IDLE) instead of waiting for
	 * ever. */
	if (count > QUORUM_AUTHORITIES_MAX)
		count = QUORUM_AUTHORITIES_MAX;
	w->peers = calloc(count > 0 ? count : 1, sizeof(*w->peers));
	if (w->peers == NULL) {
		free(sources);
		return -ENOMEM;
	}
	for (size_t i = 0; i < count; i++) {
		if (sources[i].type != QUORUM_AUTHORITY_QUORUMD)
			continue;
		if (strcmp(sources[i].id, w->node_id) != 0)
			w->peers[w->peer_count++].id = sources[i].id;
		else /* the peers after this node first: each node asks other ones in turn */
			w->next = w->peer_count;
	}
	free(sources);
	for (size_t i = 0; i < w->loaded_count; i++) {
		struct loaded_log *l = &w->loaded[i];
		struct witness_peer *p = peer_find(w, l->id);
		struct held_log *h;

		if (p == NULL || p->held_count == LOGS_PER_PEER) {
			w->env.api->log(w->env.host, QUORUM_LOG_NOTICE,
					"merkle.witness_state_dropped log=%s reason=%s", l->id,
					p == NULL ? "not_a_peer" : "too_many_logs");
			free(l->note);
			continue;
		}
		h = &p->held[p->held_count++];
		h->note = l->note;
		h->len = l->len;
		note_checkpoint(h->note, h->len, &h->cp);
	}
	free(w->loaded);
	w->loaded = NULL;
	w->loaded_count = 0;
	f = set.f;
	w->quorum = w->quorum_setting >= 0 ? (size_t)w->quorum_setting
		    : w->peer_count > f	   ? w->peer_count - f
					   : 0;
	if (w->quorum > w->peer_count)
		w->quorum = w->peer_count;
	w->peers_loaded = 1;
	return 0;
}

static void tick(void *arg)
{
	struct witness *w = arg;
	int err;

	if (!w->peers_loaded) {
		err = peers_load(w);
		if (err == -EAGAIN)
			return;
		if (err != 0 || w->peer_count == 0 || !w->enabled) {
			w->gate = err != 0 ? GATE_WAITING : GATE_IDLE;
			if (err != 0)
				snprintf(w->rolled_back, sizeof(w->rolled_back), "witness: %s",
					 strerror(-err));
			if (QUORUM_API_HAS(w->env.api, audit_changed))
				w->env.api->audit_changed(w->env.host);
			return;
		}
		err = probe_sign(w);
		if (err != 0) {
			w->env.api->log(w->env.host, QUORUM_LOG_ERROR,
					"merkle.witness_unavailable error=\"%s\""
					" effect=no_time_served",
					strerror(-err));
			return; /* tried again next tick */
		}
		evidence_recheck(w);
		if (w->gate == GATE_WAITING && w->quorum == 0) {
			w->gate = GATE_OPEN;
			if (QUORUM_API_HAS(w->env.api, audit_changed))
				w->env.api->audit_changed(w->env.host);
		}
		w->env.api->log(
			w->env.host, QUORUM_LOG_NOTICE,
			"merkle.witness_ready peers=%zu quorum=%zu name=%s interval_ms=%" PRId64
			" state=%s",
			w->peer_count, w->quorum, w->name, w->interval_ns / 1000000,
			w->gate == GATE_ROLLED_BACK ? "rolled_back"
			: w->gate == GATE_OPEN	    ? "open"
						    : "waiting_for_witnesses");
	}
	if (w->gate == GATE_WAITING) {
		/* Ask the ones that have not answered, with the one checkpoint that cannot
		 * fork. */
		for (size_t i = 0; i < w->peer_count; i++) {
			struct witness_peer *p = &w->peers[i];
			struct checkpoint cp = { .size = 0 };

			if (!p->reported)
				ask(w, p, w->probe, w->probe_len, &cp);
		}
		if (!w->waiting_logged)
			w->env.api->log(w->env.host, QUORUM_LOG_NOTICE,
					"merkle.witness_waiting quorum=%zu peers=%zu"
					" effect=no_checkpoint_signed,no_time_served",
					w->quorum, w->peer_count);
		w->waiting_logged = 1;
		return;
	}
	submit_maybe(w);
}

/* ---- the interface ---- */

int witness_handles(const char *event_id)
{
	return strcmp(event_id, QUORUM_EVENT_CHECKPOINT) == 0 ||
	       strcmp(event_id, QUORUM_EVENT_COSIGNATURE) == 0 ||
	       strcmp(event_id, QUORUM_EVENT_LOG_MALFEASANCE) == 0;
}

int witness_process(struct witness *w, const struct quorum_event *event, const char **reason)
{
	const char *id = event->state->event_id;
	struct witness_peer *p;

	if (!w->peers_loaded)
		tick(w); /* events flow: the time core runs, the peers can be read */
	if (strcmp(id, QUORUM_EVENT_LOG_MALFEASANCE) == 0)
		return w->peers_loaded && w->have_pub ? on_evidence(w, event) : QUORUM_CONTINUE;
	/* Requests and answers come from a peer, one hop: never a relayed copy. */
	if (strcmp(event->source, QUORUM_GOSSIP_SOURCE) != 0 || event->peer[0] == '\0' ||
	    event->state->gossip == NULL ||
	    strcmp(event->state->gossip->origin_node_id, event->peer) != 0) {
		*reason = "witness_event_not_from_a_peer";
		return QUORUM_REJECT;
	}
	if (!w->peers_loaded || (p = peer_find(w, event->peer)) == NULL) {
		*reason = "witness_event_not_from_a_peer";
		return QUORUM_REJECT;
	}
	if (!w->enabled)
		return QUORUM_CONTINUE;
	if (strcmp(id, QUORUM_EVENT_CHECKPOINT) == 0)
		return on_request(w, p, event, reason);
	return on_statement(w, p, event, reason);
}

int witness_may_sign(const struct witness *w)
{
	return w->gate == GATE_OPEN || w->gate == GATE_IDLE;
}

void witness_signed(struct witness *w, const char *note, size_t len)
{
	if (len >= sizeof(w->latest) || note_checkpoint(note, len, &w->latest_cp) != 0)
		return;
	memcpy(w->latest, note, len);
	w->latest[len] = '\0';
	w->latest_len = len;
	submit_maybe(w);
}

const char *witness_published(struct witness *w)
{
	return w->gate != GATE_IDLE && w->submitted_len > 0 && w->published != NULL
		       ? w->published
		       : NULL;
}

int witness_failing(const struct witness *w, char *why, size_t size)
{
	if (w->gate == GATE_ROLLED_BACK) {
		snprintf(why, size, "%s", w->rolled_back);
		return 1;
	}
	if (w->gate == GATE_WAITING) {
		if (w->rolled_back[0] != '\0')
			snprintf(why, size, "%s", w->rolled_back);
		else
			snprintf(why, size,
				 "waiting for the witnesses of this log: %zu of %zu reported",
				 w->reported, w->quorum);
		return 1;
	}
	return 0;
}

int witness_new(const struct witness_env *env, const struct witness_settings *settings,
		struct witness **out, char *why, size_t why_size)
{
	struct witness *w = calloc(1, sizeof(*w));
	char *data = NULL;
	size_t len = 0;
	int err;

	if (w == NULL)
		return -ENOMEM;
	w->env = *env;
	snprintf(w->dir, sizeof(w->dir), "%s", env->dir);
	snprintf(w->origin, sizeof(w->origin), "%s", env->origin);
	w->env.dir = w->dir;
	w->env.origin = w->origin;
	w->node_id = env->api->node_id(env->host);
	w->enabled = settings->enabled;
	w->interval_ns = settings->interval_ms * 1000000;
	w->quorum_setting = settings->quorum;
	w->fanout = settings->fanout > 0 ? (size_t)settings->fanout : 0;
	if (settings->name != NULL)
		snprintf(w->name, sizeof(w->name), "%s", settings->name);
	else
		snprintf(w->name, sizeof(w->name), "quorum-time/%s/witness", w->node_id);
	w->gate = GATE_WAITING;
	err = file_read(w, STATE_NAME,
			(size_t)QUORUM_AUTHORITIES_MAX * LOGS_PER_PEER * (NOTE_MAX + 100),
			&data, &len, why, why_size);
	if (err == 0)
		err = state_parse(w, data, len, why, why_size);
	free(data);
	if (err != 0 && err != -ENOENT) {
		witness_free(w);
		return err;
	}
	*out = w;
	return 0;
}

int witness_start(struct witness *w)
{
	w->timer = w->env.api->timer_start(w->env.host, 0, TICK_MS, tick, w);
	return w->timer != NULL ? 0 : -ENOMEM;
}

void witness_free(struct witness *w)
{
	if (w == NULL)
		return;
	if (w->peers_loaded)
		w->env.api->log(w->env.host, QUORUM_LOG_INFO,
				"merkle.witness_stopped submissions=%" PRIu64 " asked=%" PRIu64
				" cosigned=%" PRIu64 " answered=%" PRIu64 " reports=%" PRIu64,
				w->submissions, w->asked, w->cosigned, w->answered, w->reports);
	for (size_t i = 0; i < w->peer_count; i++)
		for (size_t k = 0; k < w->peers[i].held_count; k++)
			free(w->peers[i].held[k].note);
	for (size_t i = 0; i < w->loaded_count; i++)
		free(w->loaded[i].note);
	free(w->loaded);
	free(w->peers);
	free(w->published);
	free(w);
}
