/* quorumctl-audit.c -- the auditor's commands, all offline, trusting nothing but the node's
 * public key:
 *   vault verify DIR   every segment header, record hash and chain link from record 0, and
 *                      every checkpoint record against the Merkle tree rebuilt from the log
 *                      (and its signature, given the node's key)
 *   vault dump DIR     the records, human-readable or as JSON lines
 *   vault proof DIR    an inclusion or consistency proof (JSON) against the vault's latest
 *                      checkpoint, which it embeds
 *   proof verify FILE  checks such a proof and its checkpoint's signature */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include <quorum/audit.h>

#include "envelope-internal.h"
#include "keys-internal.h"
#include "mtree.h"
#include "note.h"
#include "quorumctl-audit.h"
#include "quorumctl-rounds.h"
#include "roundlog.h"
#include "util-internal.h"
#include "vaultlog.h"

static void audit_usage(FILE *out)
{
	fprintf(out,
		"Usage: quorumctl vault verify DIR [--vault-key FILE] [--node-key NODE.pub]\n"
		"                              [--authority-key AUTHORITY.pub]...\n"
		"       quorumctl vault dump DIR [--json] [--vault-key FILE] [--from N] "
		"[--count N]\n"
		"       quorumctl vault proof DIR (--index I | --consistency OLD_SIZE)\n"
		"                             [--vault-key FILE]\n"
		"       quorumctl proof verify --node-key NODE.pub (--record FILE | "
		"--leaf-hash HEX)\n"
		"                              PROOF.json\n"
		"       quorumctl proof verify --node-key NODE.pub --old-checkpoint FILE "
		"PROOF.json\n"
		"\n"
		"vault verify  checks a vault folder offline: segment headers, every record's "
		"hash\n"
		"              and chain link from the first record, and every checkpoint "
		"against\n"
		"              the Merkle tree of the log (their signatures too with "
		"--node-key).\n"
		"              Every round of the round log is rebuilt; with --authority-key\n"
		"              its attestations are verified and each committed agreement\n"
		"              computed again from them.\n"
		"              Exit status 0 intact, 1 not.\n"
		"vault dump    prints the records (--json: one JSON object per line).\n"
		"vault proof   prints (JSON) the inclusion proof of record I, or the "
		"consistency\n"
		"              proof from tree size OLD_SIZE, against the vault's latest "
		"checkpoint.\n"
		"proof verify  checks a proof from `vault proof` (or a transport) and the "
		"signature\n"
		"              of the checkpoint it names, against what you hold, never "
		"against\n"
		"              what the proof says of itself: an inclusion proof against the "
		"record\n"
		"              (its stored bytes, FILE) or its leaf hash (64 hex digits); a\n"
		"              consistency proof against your own earlier signed checkpoint "
		"(FILE,\n"
		"              e.g. a saved GET /v1/checkpoint), signed by the same key. "
		"Prints the\n"
		"              roots it compared. Exit status 0 valid, 1 invalid.\n");
}

static const char *record_type_name(uint16_t type)
{
	switch (type) {
	case QUORUM_RECORD_BOOT:
		return "boot";
	case QUORUM_RECORD_ROTATE:
		return "rotate";
	case QUORUM_RECORD_EVENT:
		return "event";
	case QUORUM_RECORD_AUDIT:
		return "audit";
	case QUORUM_RECORD_CHECKPOINT:
		return "checkpoint";
	case QUORUM_RECORD_ROUNDS:
		return "rounds";
	default:
		return "unknown";
	}
}

/* The node's raw Ed25519 public key from its PEM file. 0 or -1 (reported). */
static int load_node_key(const char *path, uint8_t pub[NOTE_PUB_LEN])
{
	char why[512];

	if (key_load_public_raw(path, pub, why, sizeof(why)) != 0) {
		fprintf(stderr, "quorumctl: %s\n", why);
		return -1;
	}
	return 0;
}

#define AUTHORITY_KEYS_MAX 512

struct vault_args {
	const char *dir;
	const char *vault_key;
	const char *node_key;
	const char *authority_keys[AUTHORITY_KEYS_MAX];
	size_t authority_key_count;
	int json;
	uint64_t from, count;
	int has_index, has_old;
	uint64_t index, old_size;
};

static int open_vault(const struct vault_args *a, struct vault **out)
{
	struct vault_options opt = { 0 };
	uint8_t key[VAULT_KEY_LEN];
	char why[512] = "";
	int err;

	if (a->vault_key != NULL) {
		err = vault_load_key(a->vault_key, key, why, sizeof(why));
		if (err != 0) {
			fprintf(stderr, "quorumctl: %s: %s\n", a->vault_key, why);
			return 2;
		}
		opt.key = key;
	}
	opt.dir = a->dir;
	opt.read_only = 1;
	opt.full_verify = 1;
	err = vault_open(&opt, out, why, sizeof(why));
	memset(key, 0, sizeof(key));
	if (err != 0) {
		fprintf(stderr, "quorumctl: vault %s: %s\n", a->dir,
			why[0] ? why : strerror(-err));
		return err == -EBADMSG || err == -ENOKEY ? 1 : 2;
	}
	return 0;
}

/* The Merkle tree of V's records, before any is added: an empty one, or when retention
 * removed the first records, one from the compact range and leaf hashes of its anchor (so
 * that the kept records are added at their own indexes). 0 or -errno. */
static int tree_of(struct vault *v, struct mtree **out)
{
	const struct vault_anchor *a = vault_anchor(v);
	struct mtree_range r;
	int err;

	if (a == NULL)
		return mtree_open(NULL, out, NULL, 0);
	mtree_range_init(&r);
	r.size = a->tree_base;
	r.count = a->range_count;
	memcpy(r.hash, a->range, a->range_count * MTREE_HASH_LEN);
	err = mtree_open_range(&r, out);
	for (size_t i = 0; err == 0 && i < a->leaf_count; i++)
		err = mtree_append(*out, a->leaves[i]);
	if (err != 0) {
		mtree_close(*out);
		*out = NULL;
	}
	return err;
}

/* ---- vault verify ---- */

struct verify_ctx {
	struct mtree *tree;
	int have_key;
	uint8_t pub[NOTE_PUB_LEN];
	uint64_t checkpoints, signed_ok, failures;
	struct checkpoint last;
	int has_last;
	struct rounds_check *rounds;
};

static int verify_checkpoint_record(struct verify_ctx *c, const struct vault_record *rec)
{
	const char *note = (const char *)rec->payload, *why = "";
	struct checkpoint cp;
	size_t text_len;
	uint8_t root[MTREE_HASH_LEN];
	char want[65], got[65];

	if (rec->sealed) {
		printf("record %" PRIu64 ": checkpoint sealed (no --vault-key): not checked\n",
		       rec->index);
		return 0;
	}
	if (note_text_length(note, rec->payload_len, &text_len) != 0 ||
	    checkpoint_parse(note, text_len, &cp, &why) != 0) {
		printf("record %" PRIu64 ": checkpoint malformed: %s\n", rec->index, why);
		return -1;
	}
	c->checkpoints++;
	if (cp.size > rec->index) {
		printf("record %" PRIu64 ": checkpoint claims %" PRIu64
		       " records, but only %" PRIu64 " precede it\n",
		       rec->index, cp.size, rec->index);
		return -1;
	}
	if (mtree_root(c->tree, cp.size, root) != 0) {
		printf("record %" PRIu64 ": checkpoint of size %" PRIu64
		       " predates what retention kept of the tree (from size %" PRIu64 ")\n",
		       rec->index, cp.size, mtree_base(c->tree));
		return -1;
	}
	if (memcmp(root, cp.root, MTREE_HASH_LEN) != 0) {
		hex_encode(cp.root, 32, want);
		hex_encode(root, 32, got);
		printf("record %" PRIu64 ": checkpoint of size %" PRIu64
		       " has root %s, the log gives %s\n",
		       rec->index, cp.size, want, got);
		return -1;
	}
	if (c->have_key) {
		size_t tl;
		int err = note_verify(note, rec->payload_len, cp.origin, c->pub, &tl, &why);

		if (err != 0) {
			printf("record %" PRIu64 ": checkpoint signature by %s: %s\n",
			       rec->index, cp.origin, why);
			return -1;
		}
		c->signed_ok++;
	}
	c->last = cp;
	c->has_last = 1;
	return 0;
}

static int verify_one(void *arg, const struct vault_record *rec)
{
	struct verify_ctx *c = arg;
	uint8_t leaf[MTREE_HASH_LEN];

	/* The checkpoint covers records before it: check it before adding it. */
	if (rec->type == QUORUM_RECORD_CHECKPOINT && verify_checkpoint_record(c, rec) != 0)
		c->failures++;
	if (rec->type == QUORUM_RECORD_ROUNDS && !rec->sealed)
		rounds_check_record(c->rounds, rec->index, rec->payload, rec->payload_len);
	mtree_leaf_hash(rec->raw, rec->raw_len, leaf);
	return mtree_append(c->tree, leaf);
}

static int vault_verify(const struct vault_args *a)
{
	struct verify_ctx c = { 0 };
	struct vault *v;
	char why[512] = "", root_hex[65];
	uint8_t root[MTREE_HASH_LEN];
	int rc, err;

	if (a->node_key != NULL) {
		if (load_node_key(a->node_key, c.pub) != 0)
			return 2;
		c.have_key = 1;
	}
	c.rounds = rounds_check_new(a->authority_keys, a->authority_key_count);
	if (c.rounds == NULL)
		return 2;
	rc = open_vault(a, &v);
	if (rc != 0) {
		rounds_check_free(c.rounds);
		return rc;
	}
	if (tree_of(v, &c.tree) != 0) {
		printf("vault %s: %s: its tree data is not a compact range\n", a->dir,
		       "vault.anchor");
		vault_close(v);
		rounds_check_free(c.rounds);
		return 1;
	}
	err = vault_iterate(v, vault_first(v), vault_count(v), verify_one, &c, why,
			    sizeof(why));
	if (err != 0) {
		printf("vault %s: %s\n", a->dir, why[0] ? why : strerror(err < 0 ? -err : EIO));
		rc = 1;
	} else if (c.failures != 0) {
		printf("vault %s: %" PRIu64 " checkpoint(s) do not match the log\n", a->dir,
		       c.failures);
		rc = 1;
	} else if (vault_anchor(v) != NULL && c.checkpoints == 0) {
		/* Only a signed checkpoint over the kept records vouches for the removed ones.
		 */
		printf("vault %s: retention removed records 0 to %" PRIu64
		       ", and no checkpoint the vault kept covers its anchor\n",
		       a->dir, vault_first(v) - 1);
		rc = 1;
	} else {
		mtree_root(c.tree, mtree_size(c.tree), root);
		hex_encode(root, 32, root_hex);
		if (vault_anchor(v) == NULL)
			printf("vault %s: intact: %" PRIu64 " records in %" PRIu64
			       " segments, chain verified from record 0\n",
			       a->dir, vault_count(v), vault_segment_count(v));
		else
			printf("vault %s: intact: records %" PRIu64 " to %" PRIu64
			       " in %" PRIu64 " segments, chain verified from record %" PRIu64
			       " (retention removed the records before it; the tree goes on "
			       "from "
			       "their compact range at size %" PRIu64
			       ", checked by the signed checkpoints kept)\n",
			       a->dir, vault_first(v), vault_count(v) - 1,
			       vault_segment_count(v), vault_first(v),
			       vault_anchor(v)->tree_base);
		printf("checkpoints: %" PRIu64 " match the log; signatures: %s\n",
		       c.checkpoints,
		       c.have_key ? "all verified with the node key"
				  : "not checked (give --node-key)");
		if (c.have_key && c.signed_ok != c.checkpoints)
			rc = 1;
		printf("tree: size %" PRIu64 " root %s\n", mtree_size(c.tree), root_hex);
	}
	if (err == 0 && rounds_check_report(c.rounds, stdout) != 0) {
		printf("vault %s: the round log has problems (above)\n", a->dir);
		rc = 1;
	}
	rounds_check_free(c.rounds);
	mtree_close(c.tree);
	vault_close(v);
	return rc;
}

/* ---- vault dump ---- */

static void describe_event(const struct vault_record *rec, json_t *obj, char *text, size_t size)
{
	const char *reason = NULL;
	struct envelope *env = envelope_decode(rec->payload, rec->payload_len, &reason);

	if (env == NULL) {
		snprintf(text, size, "undecodable SignedState (%s)", reason);
		if (obj != NULL)
			json_object_set_new(obj, "decode_error", json_string(reason));
		return;
	}
	snprintf(text, size, "event_id=%s logical_time_ns=%" PRIu64 " payload=%zu key_id=%s",
		 env->view.event_id, env->view.logical_time_ns, env->view.payload.len,
		 env->view.key_id);
	if (obj != NULL) {
		json_object_set_new(obj, "event_id", json_string(env->view.event_id));
		json_object_set_new(obj, "logical_time_ns",
				    json_integer((json_int_t)env->view.logical_time_ns));
		json_object_set_new(obj, "payload_len",
				    json_integer((json_int_t)env->view.payload.len));
		json_object_set_new(obj, "key_id", json_string(env->view.key_id));
	}
	envelope_free(env);
}

static const char *verdict_name(uint32_t verdict)
{
	return verdict == ROUNDLOG_VERDICT_ACCEPT   ? "accept"
	       : verdict == ROUNDLOG_VERDICT_REJECT ? "reject"
	       : verdict == ROUNDLOG_VERDICT_HOLD   ? "hold"
						    : "unknown";
}

/* A round log record: a summary line, and with OBJ every round (its SyncRound's SHA-256 is
 * the quorum_hash of the answers served from it). */
static void describe_rounds(const struct vault_record *rec, json_t *obj, char *text,
			    size_t size)
{
	struct roundlog_view *v = NULL;
	char why[256], hex[65];
	size_t committed = 0, rejected = 0, held = 0, shrunk = 0, summaries = 0, lines = 0, n;
	json_t *rounds, *peers;

	if (roundlog_decode(rec->payload, rec->payload_len, &v, why, sizeof(why)) != 0) {
		snprintf(text, size, "undecodable round log (%s)", why);
		if (obj != NULL)
			json_object_set_new(obj, "decode_error", json_string(why));
		return;
	}
	rounds = json_array();
	for (size_t i = 0; i < v->count; i++) {
		const struct roundlog_round *r = &v->rounds[i];
		json_t *one, *audit;

		committed += r->committed != 0;
		rejected += r->verdict == ROUNDLOG_VERDICT_REJECT;
		held += r->verdict == ROUNDLOG_VERDICT_HOLD;
		shrunk += r->shrunk != 0;
		summaries += r->summary != 0;
		lines += r->audit_count;
		if (obj == NULL)
			continue;
		audit = json_array();
		hex_encode(r->hash, ROUNDLOG_HASH_LEN, hex);
		for (size_t j = 0; j < r->audit_count; j++)
			json_array_append_new(audit, json_string(r->audit[j]));
		one = json_pack("{s:I, s:s, s:s, s:s, s:b, s:b, s:b, s:I, s:o}", "round",
				(json_int_t)r->round, "quorum_hash", hex, "verdict",
				verdict_name(r->verdict), "reason", r->reason, "shrunk",
				r->shrunk, "summary", r->summary, "committed", r->committed,
				"bytes", (json_int_t)r->len, "audit", audit);
		if (r->committed) {
			json_object_set_new(one, "earliest_ns", json_integer(r->earliest_ns));
			json_object_set_new(one, "estimate_ns", json_integer(r->estimate_ns));
			json_object_set_new(one, "latest_ns", json_integer(r->latest_ns));
		}
		json_array_append_new(rounds, one);
	}
	n = (size_t)snprintf(
		text, size,
		"node=%s rounds=%zu first=%" PRIu64 " last=%" PRIu64
		" committed=%zu rejected=%zu held=%zu shrunk=%zu summaries=%zu audit_lines=%zu"
		" peers=",
		v->node_id, v->count, v->count > 0 ? v->rounds[0].round : 0,
		v->count > 0 ? v->rounds[v->count - 1].round : 0, committed, rejected, held,
		shrunk, summaries, lines);
	peers = json_array();
	for (size_t i = 0; i < v->peer_count && n < size; i++) {
		n += (size_t)snprintf(text + n, size - n, "%s%s:%" PRIu64, i > 0 ? "," : "",
				      v->peers[i].node_id, v->peers[i].rounds);
		json_array_append_new(peers,
				      json_pack("{s:s, s:I}", "node_id", v->peers[i].node_id,
						"rounds", (json_int_t)v->peers[i].rounds));
	}
	if (v->peer_count == 0 && n < size)
		n += (size_t)snprintf(text + n, size - n, "-");
	/* Why rounds were refused or held, each reason once: what a reader looks for first. */
	if (n < size)
		n += (size_t)snprintf(text + n, size - n, " reasons=");
	for (size_t i = 0, said = 0; i < v->count && n < size; i++) {
		const char *reason = v->rounds[i].reason;
		int seen = reason[0] == '\0';

		for (size_t j = 0; j < i && !seen; j++)
			seen = strcmp(v->rounds[j].reason, reason) == 0;
		if (!seen)
			n += (size_t)snprintf(text + n, size - n, "%s%s", said++ > 0 ? "," : "",
					      reason);
	}
	if (n < size && text[n - 1] == '=')
		snprintf(text + n, size - n, "-");
	if (obj != NULL) {
		json_object_set_new(obj, "node_id", json_string(v->node_id));
		json_object_set_new(obj, "rounds", rounds);
		json_object_set_new(obj, "peer_rounds", peers);
	} else {
		json_decref(rounds);
		json_decref(peers);
	}
	roundlog_view_free(v);
}

static int dump_one(void *arg, const struct vault_record *rec)
{
	const struct vault_args *a = arg;
	char hash[65], text[2048];
	json_t *obj = NULL;
	int is_text = rec->type != QUORUM_RECORD_EVENT && rec->type != QUORUM_RECORD_ROUNDS &&
		      !rec->sealed;

	hex_encode(rec->hash, 32, hash);
	if (a->json) {
		obj = json_pack("{s:I, s:s, s:i, s:I, s:s, s:b, s:I, s:I, s:I}", "index",
				(json_int_t)rec->index, "type", record_type_name(rec->type),
				"type_code", rec->type, "timestamp_ns",
				(json_int_t)rec->timestamp_ns, "hash", hash, "sealed",
				rec->sealed, "segment", (json_int_t)rec->segment, "offset",
				(json_int_t)rec->offset, "bytes", (json_int_t)rec->raw_len);
		if (obj == NULL)
			return -ENOMEM;
	}
	text[0] = '\0';
	if (rec->sealed) {
		snprintf(text, sizeof(text), "(sealed, %zu bytes)", rec->payload_len);
	} else if (rec->type == QUORUM_RECORD_EVENT) {
		describe_event(rec, obj, text, sizeof(text));
	} else if (rec->type == QUORUM_RECORD_ROUNDS) {
		describe_rounds(rec, obj, text, sizeof(text));
	} else if (is_text) {
		snprintf(text, sizeof(text), "%.*s", (int)rec->payload_len,
			 (const char *)rec->payload);
	}
	if (obj != NULL) {
		char *line;

		if (is_text)
			json_object_set_new(
				obj, "text",
				json_stringn((const char *)rec->payload, rec->payload_len));
		line = json_dumps(obj, JSON_COMPACT | JSON_ENSURE_ASCII);
		json_decref(obj);
		if (line == NULL)
			return -ENOMEM;
		puts(line);
		free(line);
	} else {
		/* One line per record: a multi-line payload (a checkpoint) is indented. */
		printf("%" PRIu64 " %" PRId64 " %-10s %.16s ", rec->index, rec->timestamp_ns,
		       record_type_name(rec->type), hash);
		for (const char *p = text; *p != '\0'; p++) {
			if (*p == '\n')
				fputs(p[1] != '\0' ? " | " : "", stdout);
			else
				putchar(*p);
		}
		putchar('\n');
	}
	return 0;
}

static int vault_dump(const struct vault_args *a)
{
	struct vault *v;
	char why[512] = "";
	uint64_t from, to;
	int rc, err;

	rc = open_vault(a, &v);
	if (rc != 0)
		return rc;
	from = a->from > vault_first(v) ? a->from : vault_first(v); /* the rest was removed */
	to = a->count != 0 && from + a->count < vault_count(v) ? from + a->count
							       : vault_count(v);
	err = vault_iterate(v, from, to, dump_one, (void *)a, why, sizeof(why));
	vault_close(v);
	if (err != 0) {
		fprintf(stderr, "quorumctl: vault %s: %s\n", a->dir,
			why[0] ? why : strerror(-err));
		return err == -EBADMSG ? 1 : 2;
	}
	return 0;
}

/* ---- vault proof ---- */

struct proof_ctx {
	struct mtree *tree;
	char checkpoint[NOTE_MAX];
	struct checkpoint cp;
	int has_cp;
};

static int proof_one(void *arg, const struct vault_record *rec)
{
	struct proof_ctx *c = arg;
	uint8_t leaf[MTREE_HASH_LEN];
	size_t tl;
	const char *why;

	if (rec->type == QUORUM_RECORD_CHECKPOINT && !rec->sealed &&
	    rec->payload_len < sizeof(c->checkpoint) &&
	    note_text_length((const char *)rec->payload, rec->payload_len, &tl) == 0 &&
	    checkpoint_parse((const char *)rec->payload, tl, &c->cp, &why) == 0) {
		memcpy(c->checkpoint, rec->payload, rec->payload_len);
		c->checkpoint[rec->payload_len] = '\0';
		c->has_cp = 1;
	}
	mtree_leaf_hash(rec->raw, rec->raw_len, leaf);
	return mtree_append(c->tree, leaf);
}

static json_t *hashes_json(uint8_t (*h)[MTREE_HASH_LEN], size_t n)
{
	json_t *arr = json_array();
	char hex[65];

	for (size_t i = 0; i < n; i++) {
		hex_encode(h[i], 32, hex);
		json_array_append_new(arr, json_string(hex));
	}
	return arr;
}

static int vault_proof(const struct vault_args *a)
{
	struct proof_ctx c = { 0 };
	struct vault *v;
	uint8_t proof[MTREE_PROOF_MAX][MTREE_HASH_LEN], h[MTREE_HASH_LEN];
	char why[512] = "", hex[65], *text;
	size_t n = 0;
	json_t *out;
	int rc, err;

	rc = open_vault(a, &v);
	if (rc != 0)
		return rc;
	if (tree_of(v, &c.tree) != 0) {
		fprintf(stderr, "quorumctl: vault %s: vault.anchor: no compact range\n",
			a->dir);
		vault_close(v);
		return 1;
	}
	if (a->has_index && a->index < vault_first(v)) {
		fprintf(stderr,
			"quorumctl: record %" PRIu64
			" was removed by retention (the vault keeps "
			"records from %" PRIu64 ")\n",
			a->index, vault_first(v));
		rc = 2;
	} else if (a->has_old && a->old_size != 0 && a->old_size < mtree_base(c.tree)) {
		fprintf(stderr,
			"quorumctl: tree size %" PRIu64
			" predates what retention kept (from size "
			"%" PRIu64 ")\n",
			a->old_size, mtree_base(c.tree));
		rc = 2;
	}
	if (rc != 0) {
		vault_close(v);
		mtree_close(c.tree);
		return rc;
	}
	err = vault_iterate(v, vault_first(v), vault_count(v), proof_one, &c, why, sizeof(why));
	vault_close(v);
	if (err != 0 || !c.has_cp) {
		fprintf(stderr, "quorumctl: vault %s: %s\n", a->dir,
			err != 0 ? why : "no checkpoint in the vault yet");
		mtree_close(c.tree);
		return err != 0 ? 1 : 2;
	}
	out = json_pack("{s:s, s:I}", "checkpoint", c.checkpoint, "tree_size",
			(json_int_t)c.cp.size);
	if (a->has_index) {
		err = mtree_inclusion_proof(c.tree, a->index, c.cp.size, proof, MTREE_PROOF_MAX,
					    &n);
		if (err == 0) {
			mtree_leaf(c.tree, a->index, h);
			hex_encode(h, 32, hex);
			json_object_set_new(out, "index", json_integer((json_int_t)a->index));
			json_object_set_new(out, "leaf_hash", json_string(hex));
			json_object_set_new(out, "inclusion", hashes_json(proof, n));
		}
	} else {
		err = mtree_consistency_proof(c.tree, a->old_size, c.cp.size, proof,
					      MTREE_PROOF_MAX, &n);
		if (err == 0) {
			mtree_root(c.tree, a->old_size, h);
			hex_encode(h, 32, hex);
			json_object_set_new(out, "old_size",
					    json_integer((json_int_t)a->old_size));
			json_object_set_new(out, "old_root", json_string(hex));
			json_object_set_new(out, "consistency", hashes_json(proof, n));
		}
	}
	mtree_close(c.tree);
	if (err != 0) {
		fprintf(stderr,
			"quorumctl: no such proof: the latest checkpoint covers %" PRIu64
			" records\n",
			c.cp.size);
		json_decref(out);
		return 2;
	}
	text = json_dumps(out, JSON_INDENT(2));
	puts(text);
	free(text);
	json_decref(out);
	return 0;
}

static int parse_u64_arg(const char *s, uint64_t *out)
{
	char *end;

	errno = 0;
	*out = strtoull(s, &end, 10);
	return errno != 0 || end == s || *end != '\0' || s[0] == '-' ? -1 : 0;
}

int cmd_vault(int argc, char **argv)
{
	static const struct option options[] = {
		{ "vault-key", required_argument, NULL, 'k' },
		{ "node-key", required_argument, NULL, 'n' },
		{ "authority-key", required_argument, NULL, 'a' },
		{ "json", no_argument, NULL, 'j' },
		{ "from", required_argument, NULL, 'f' },
		{ "count", required_argument, NULL, 'c' },
		{ "index", required_argument, NULL, 'i' },
		{ "consistency", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct vault_args a = { 0 };
	const char *sub;
	int opt;

	if (argc < 3) {
		audit_usage(stderr);
		return 2;
	}
	sub = argv[1];
	a.dir = argv[2];
	optind = 3;
	while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (opt) {
		case 'k':
			a.vault_key = optarg;
			break;
		case 'n':
			a.node_key = optarg;
			break;
		case 'a':
			if (a.authority_key_count == AUTHORITY_KEYS_MAX) {
				fprintf(stderr, "quorumctl: at most %d --authority-key\n",
					AUTHORITY_KEYS_MAX);
				return 2;
			}
			a.authority_keys[a.authority_key_count++] = optarg;
			break;
		case 'j':
			a.json = 1;
			break;
		case 'f':
		case 'c':
		case 'i':
		case 'o': {
			uint64_t v;

			if (parse_u64_arg(optarg, &v) != 0) {
				fprintf(stderr, "quorumctl: not a number: %s\n", optarg);
				return 2;
			}
			if (opt == 'f')
				a.from = v;
			else if (opt == 'c')
				a.count = v;
			else if (opt == 'i')
				a.index = v, a.has_index = 1;
			else
				a.old_size = v, a.has_old = 1;
			break;
		}
		case 'h':
			audit_usage(stdout);
			return 0;
		default:
			audit_usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		audit_usage(stderr);
		return 2;
	}
	if (strcmp(sub, "verify") == 0)
		return vault_verify(&a);
	if (strcmp(sub, "dump") == 0)
		return vault_dump(&a);
	if (strcmp(sub, "proof") == 0 && a.has_index != a.has_old)
		return vault_proof(&a);
	audit_usage(stderr);
	return 2;
}

/* ---- proof verify ---- */

static int hex_hash(json_t *v, uint8_t out[MTREE_HASH_LEN])
{
	const char *s = json_string_value(v);

	return s != NULL && strlen(s) == 64 && hex_decode(s, 64, out, MTREE_HASH_LEN) == 0 ? 0
											   : -1;
}

static int hex_hashes(json_t *arr, uint8_t (*out)[MTREE_HASH_LEN], size_t *n)
{
	if (!json_is_array(arr) || json_array_size(arr) > MTREE_PROOF_MAX)
		return -1;
	*n = json_array_size(arr);
	for (size_t i = 0; i < *n; i++) {
		if (hex_hash(json_array_get(arr, i), out[i]) != 0)
			return -1;
	}
	return 0;
}

/* Reads the whole of PATH (at most CAP - 1 bytes, NUL-terminated) into BUF. Length or -1. */
static long read_small_file(const char *path, char *buf, size_t cap)
{
	FILE *f = fopen(path, "rb");
	size_t n;

	if (f == NULL) {
		fprintf(stderr, "quorumctl: %s: %s\n", path, strerror(errno));
		return -1;
	}
	n = fread(buf, 1, cap, f);
	if (ferror(f) || n == cap) {
		fprintf(stderr, "quorumctl: %s: %s\n", path,
			ferror(f) ? "read failed" : "too large");
		fclose(f);
		return -1;
	}
	fclose(f);
	buf[n] = '\0';
	return (long)n;
}

/* NOTE (a signed checkpoint) parsed and its signature by its origin with PUB checked into
 * CP; WHAT names it in messages. 0, or 1 (said why). */
static int checkpoint_checked(const char *note, size_t len, const uint8_t pub[NOTE_PUB_LEN],
			      const char *what, struct checkpoint *cp)
{
	const char *why = "";
	size_t tl;

	if (note == NULL || note_text_length(note, len, &tl) != 0 ||
	    checkpoint_parse(note, tl, cp, &why) != 0) {
		printf("invalid: %s is no well-formed signed checkpoint (%s)\n", what, why);
		return 1;
	}
	if (note_verify(note, len, cp->origin, pub, &tl, &why) != 0) {
		printf("invalid: %s: signature by %s: %s\n", what, cp->origin, why);
		return 1;
	}
	return 0;
}

/* What the client brings: the record or its leaf hash, or its own old checkpoint. */
struct proof_inputs {
	const char *record, *leaf_hex, *old_checkpoint;
};

static int verify_inclusion(json_t *doc, const struct proof_inputs *in,
			    const struct checkpoint *cp)
{
	uint8_t leaf[MTREE_HASH_LEN], claimed[MTREE_HASH_LEN];
	uint8_t proof[MTREE_PROOF_MAX][MTREE_HASH_LEN];
	json_t *idx = json_object_get(doc, "index");
	char hex[65];
	size_t n;
	int ok;

	if (in->record != NULL) {
		static char buf[VAULT_PAYLOAD_MAX + 4096];
		long len = read_small_file(in->record, buf, sizeof(buf));

		if (len < 0)
			return 2;
		mtree_leaf_hash(buf, (size_t)len, leaf);
	} else if (in->leaf_hex == NULL || strlen(in->leaf_hex) != 64 ||
		   hex_decode(in->leaf_hex, 64, leaf, MTREE_HASH_LEN) != 0) {
		fprintf(stderr, "quorumctl: --leaf-hash takes 64 hex digits\n");
		return 2;
	}
	if (!json_is_integer(idx) || json_integer_value(idx) < 0 ||
	    hex_hashes(json_object_get(doc, "inclusion"), proof, &n) != 0) {
		printf("invalid: the inclusion proof is malformed\n");
		return 1;
	}
	hex_encode(leaf, 32, hex);
	printf("leaf hash (yours, record %" JSON_INTEGER_FORMAT "): %s\n",
	       json_integer_value(idx), hex);
	if (hex_hash(json_object_get(doc, "leaf_hash"), claimed) == 0 &&
	    memcmp(claimed, leaf, MTREE_HASH_LEN) != 0) {
		hex_encode(claimed, 32, hex);
		printf("leaf hash the proof names: %s (not yours: not used)\n", hex);
	}
	hex_encode(cp->root, 32, hex);
	printf("root (the proof's checkpoint, size %" PRIu64 ", signed by %s): %s\n", cp->size,
	       cp->origin, hex);
	ok = mtree_verify_inclusion((uint64_t)json_integer_value(idx), cp->size, leaf, proof, n,
				    cp->root);
	printf("%s: record %" JSON_INTEGER_FORMAT " %s the tree of %" PRIu64
	       " records signed by %s\n",
	       ok ? "valid" : "invalid", json_integer_value(idx),
	       ok ? "is in" : "is not proven to be in", cp->size, cp->origin);
	return ok ? 0 : 1;
}

static int verify_consistency(json_t *doc, const struct proof_inputs *in,
			      const uint8_t pub[NOTE_PUB_LEN], const struct checkpoint *cp)
{
	static char note[NOTE_MAX + 1];
	uint8_t proof[MTREE_PROOF_MAX][MTREE_HASH_LEN], claimed[MTREE_HASH_LEN];
	json_t *old = json_object_get(doc, "old_size");
	struct checkpoint mine;
	char hex[65];
	long len;
	size_t n;
	int ok;

	len = read_small_file(in->old_checkpoint, note, sizeof(note));
	if (len < 0)
		return 2;
	if (checkpoint_checked(note, (size_t)len, pub, "your old checkpoint", &mine) != 0)
		return 1;
	if (strcmp(mine.origin, cp->origin) != 0) {
		printf("invalid: your old checkpoint is %s's, the proof's is %s's\n",
		       mine.origin, cp->origin);
		return 1;
	}
	if (!json_is_integer(old) || (uint64_t)json_integer_value(old) != mine.size) {
		printf("invalid: the proof starts at tree size %" JSON_INTEGER_FORMAT
		       ", your old checkpoint is of size %" PRIu64 "\n",
		       json_is_integer(old) ? json_integer_value(old) : -1, mine.size);
		return 1;
	}
	if (hex_hashes(json_object_get(doc, "consistency"), proof, &n) != 0) {
		printf("invalid: the consistency proof is malformed\n");
		return 1;
	}
	hex_encode(mine.root, 32, hex);
	printf("old root (your checkpoint, size %" PRIu64 "): %s\n", mine.size, hex);
	if (hex_hash(json_object_get(doc, "old_root"), claimed) == 0 &&
	    memcmp(claimed, mine.root, MTREE_HASH_LEN) != 0) {
		hex_encode(claimed, 32, hex);
		printf("old root the proof names: %s (not yours: not used)\n", hex);
	}
	hex_encode(cp->root, 32, hex);
	printf("new root (the proof's checkpoint, size %" PRIu64 ", signed by %s): %s\n",
	       cp->size, cp->origin, hex);
	ok = mtree_verify_consistency(mine.size, cp->size, mine.root, cp->root, proof, n);
	printf("%s: your tree of %" PRIu64 " records %s the tree of %" PRIu64
	       " records signed by %s\n",
	       ok ? "valid" : "invalid", mine.size,
	       ok ? "is a prefix of" : "is not proven a prefix of", cp->size, cp->origin);
	return ok ? 0 : 1;
}

int cmd_proof(int argc, char **argv)
{
	static const struct option options[] = {
		{ "node-key", required_argument, NULL, 'n' },
		{ "record", required_argument, NULL, 'r' },
		{ "leaf-hash", required_argument, NULL, 'l' },
		{ "old-checkpoint", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	struct proof_inputs in = { 0 };
	const char *node_key = NULL, *note;
	uint8_t pub[NOTE_PUB_LEN];
	struct checkpoint cp;
	json_error_t jerr;
	json_t *doc, *incl, *cons;
	int opt, rc;

	if (argc < 2 || strcmp(argv[1], "verify") != 0) {
		audit_usage(stderr);
		return 2;
	}
	optind = 2;
	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		if (opt == 'n')
			node_key = optarg;
		else if (opt == 'r')
			in.record = optarg;
		else if (opt == 'l')
			in.leaf_hex = optarg;
		else if (opt == 'o')
			in.old_checkpoint = optarg;
		else {
			audit_usage(stderr);
			return 2;
		}
	}
	if (node_key == NULL || optind + 1 != argc ||
	    (in.record != NULL && in.leaf_hex != NULL)) {
		audit_usage(stderr);
		return 2;
	}
	if (load_node_key(node_key, pub) != 0)
		return 2;
	doc = json_load_file(argv[optind], JSON_REJECT_DUPLICATES, &jerr);
	if (doc == NULL) {
		fprintf(stderr, "quorumctl: %s:%d: %s\n", argv[optind], jerr.line, jerr.text);
		return 2;
	}
	incl = json_object_get(doc, "inclusion");
	cons = json_object_get(doc, "consistency");
	if ((incl != NULL && in.record == NULL && in.leaf_hex == NULL) ||
	    (cons != NULL && in.old_checkpoint == NULL)) {
		fprintf(stderr,
			"quorumctl: proof verify checks a proof against what you hold: "
			"--record FILE or --leaf-hash HEX (inclusion), --old-checkpoint "
			"FILE (consistency)\n");
		json_decref(doc);
		return 2;
	}
	note = json_string_value(json_object_get(doc, "checkpoint"));
	if (checkpoint_checked(note, note != NULL ? strlen(note) : 0, pub,
			       "the proof's checkpoint", &cp) != 0) {
		json_decref(doc);
		return 1;
	}
	if (!json_is_integer(json_object_get(doc, "tree_size")) ||
	    (uint64_t)json_integer_value(json_object_get(doc, "tree_size")) != cp.size) {
		printf("invalid: the proof is for another tree size than its checkpoint's\n");
		json_decref(doc);
		return 1;
	}
	if (incl != NULL) {
		rc = verify_inclusion(doc, &in, &cp);
	} else if (cons != NULL) {
		rc = verify_consistency(doc, &in, pub, &cp);
	} else {
		printf("invalid: neither an inclusion nor a consistency proof\n");
		rc = 1;
	}
	json_decref(doc);
	return rc;
}
