/* cosign.c -- witnessed checkpoints without I/O (see cosign.h): cosignature lines, the
 * add-checkpoint body, a witness's verdict, and evidence against a log. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include <quorum/audit.h>

#include "cosign.h"
#include "mtree.h"

#define EM_DASH		"\xe2\x80\x94" /* U+2014, which starts every signature line */
#define COSIG_ALGORITHM 0x04	       /* the key hash's algorithm byte: cosignature/v1 */
#define EVIDENCE_HEADER "log-malfeasance/v1\n"
#define TIMESTAMP_MAX	INT64_MAX

/* ---- base64, canonical only ---- */

/* Decodes the LEN base64 characters at S into OUT (CAP bytes), canonical encodings only
 * (note_base64_decode, the signed notes' rule). RETURN VALUE: the byte count, or -1. */
static long b64_decode(const char *s, size_t len, uint8_t *out, size_t cap)
{
	size_t n;

	return note_base64_decode(s, len, out, cap, &n) == 0 ? (long)n : -1;
}

/* ---- cosignatures ---- */

uint32_t cosig_key_hash(const char *name, const uint8_t pub[NOTE_PUB_LEN])
{
	uint8_t digest[SHA256_DIGEST_LENGTH];
	uint8_t buf[NOTE_ORIGIN_MAX + 2 + NOTE_PUB_LEN];
	size_t n = strnlen(name, NOTE_ORIGIN_MAX);

	memcpy(buf, name, n);
	buf[n] = '\n';
	buf[n + 1] = COSIG_ALGORITHM;
	memcpy(buf + n + 2, pub, NOTE_PUB_LEN);
	SHA256(buf, n + 2 + NOTE_PUB_LEN, digest);
	return (uint32_t)digest[0] << 24 | (uint32_t)digest[1] << 16 |
	       (uint32_t)digest[2] << 8 | digest[3];
}

int cosig_message(const char *text, size_t len, uint64_t timestamp, char *out, size_t cap)
{
	int n;

	if (timestamp > TIMESTAMP_MAX)
		return -EINVAL;
	n = snprintf(out, cap, "cosignature/v1\ntime %" PRIu64 "\n", timestamp);
	if (n < 0 || (size_t)n + len > cap)
		return -ENOSPC;
	memcpy(out + n, text, len);
	return n + (int)len;
}

/* A key name as signed notes have them: printable ASCII, no spaces, no '+'. */
static int name_valid(const char *name, size_t len)
{
	if (len == 0 || len >= NOTE_ORIGIN_MAX)
		return 0;
	for (size_t i = 0; i < len; i++) {
		if (name[i] <= 0x20 || name[i] > 0x7e || name[i] == '+')
			return 0;
	}
	return 1;
}

int cosig_line(const char *name, const uint8_t pub[NOTE_PUB_LEN], uint64_t timestamp,
	       const uint8_t sig[NOTE_SIG_LEN], char *out, size_t cap)
{
	uint8_t blob[COSIG_BLOB_LEN];
	char blob64[COSIG_BLOB_B64 + 1];
	uint32_t kh;
	int n;

	if (!name_valid(name, strlen(name)) || timestamp > TIMESTAMP_MAX)
		return -EINVAL;
	kh = cosig_key_hash(name, pub);
	for (int i = 0; i < 4; i++)
		blob[i] = (uint8_t)(kh >> (24 - 8 * i));
	for (int i = 0; i < 8; i++)
		blob[4 + i] = (uint8_t)(timestamp >> (56 - 8 * i));
	memcpy(blob + 12, sig, NOTE_SIG_LEN);
	EVP_EncodeBlock((unsigned char *)blob64, blob, sizeof(blob));
	n = snprintf(out, cap, EM_DASH " %s %s\n", name, blob64);
	if (n < 0 || (size_t)n >= cap)
		return -ENOSPC;
	return n;
}

int cosig_find(const char *note, size_t len, size_t from, cosig_check_fn check, void *arg,
	       struct cosig *out, size_t *next, const char **why)
{
	char msg[COSIG_HEADER_MAX + NOTE_MAX];
	size_t pos, tlen;

	if (len == 0 || note[len - 1] != '\n' || memchr(note, '\0', len) != NULL ||
	    note_text_length(note, len, &tlen) != 0 || tlen > NOTE_MAX) {
		*why = "note_malformed";
		return -EBADMSG;
	}
	pos = tlen + 1; /* past the empty line */
	if (from > pos)
		pos = from;
	while (pos < len) {
		const char *line = note + pos, *nl = memchr(line, '\n', len - pos);
		size_t n = (size_t)(nl - line), start = pos, name_len;
		const char *sp;
		uint8_t blob[COSIG_BLOB_LEN];
		uint64_t ts = 0;
		uint32_t kh;
		int mlen, verdict;

		pos += n + 1;
		if (n < 4 || memcmp(line, EM_DASH " ", 4) != 0) {
			*why = "note_signature_line_malformed";
			return -EBADMSG;
		}
		line += 4;
		n -= 4;
		sp = memchr(line, ' ', n);
		if (sp == NULL) {
			*why = "note_signature_line_malformed";
			return -EBADMSG;
		}
		name_len = (size_t)(sp - line);
		/* Another kind of signature (the log's own, 68 bytes) or a foreign line. */
		if (n - name_len - 1 != COSIG_BLOB_B64 || !name_valid(line, name_len) ||
		    b64_decode(sp + 1, COSIG_BLOB_B64, blob, sizeof(blob)) != COSIG_BLOB_LEN)
			continue;
		kh = (uint32_t)blob[0] << 24 | (uint32_t)blob[1] << 16 |
		     (uint32_t)blob[2] << 8 | blob[3];
		for (int i = 0; i < 8; i++)
			ts = ts << 8 | blob[4 + i];
		if (ts > TIMESTAMP_MAX)
			continue;
		mlen = cosig_message(note, tlen, ts, msg, sizeof(msg));
		if (mlen < 0)
			continue;
		memset(out, 0, sizeof(*out));
		memcpy(out->name, line, name_len);
		verdict = check(arg, out->name, kh, msg, (size_t)mlen, blob + 12);
		if (verdict == 0)
			continue;
		if (verdict < 0) {
			*why = "cosignature_invalid";
			return -EPERM;
		}
		out->timestamp = ts;
		out->line_start = start;
		out->line_len = pos - start;
		if (next != NULL)
			*next = pos;
		return 0;
	}
	*why = "no_cosignature";
	return -ENOKEY;
}

struct pub_check {
	const char *name; /* NULL: any */
	const uint8_t *pub;
};

static int check_pub(void *arg, const char *name, uint32_t key_hash, const void *msg,
		     size_t len, const uint8_t sig[NOTE_SIG_LEN])
{
	struct pub_check *pc = arg;

	if ((pc->name != NULL && strcmp(pc->name, name) != 0) ||
	    key_hash != cosig_key_hash(name, pc->pub))
		return 0;
	return note_ed25519_verify(pc->pub, msg, len, sig) ? 1 : -1;
}

int cosig_verify(const char *note, size_t len, const char *name,
		 const uint8_t pub[NOTE_PUB_LEN], struct cosig *out, const char **why)
{
	struct pub_check pc = { name, pub };

	return cosig_find(note, len, 0, check_pub, &pc, out, NULL, why);
}

/* ---- the add-checkpoint body ---- */

static int parse_size(const char *s, size_t n, uint64_t *out)
{
	uint64_t v = 0;

	if (n == 0 || n > 20 || (s[0] == '0' && n > 1))
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9' || v > (UINT64_MAX - (uint64_t)(s[i] - '0')) / 10)
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = v;
	return 0;
}

int witness_request_parse(const char *body, size_t len, struct witness_request *out,
			  const char **why)
{
	size_t pos = 0;
	const char *nl;

	memset(out, 0, sizeof(*out));
	if (memchr(body, '\0', len) != NULL) {
		*why = "request_contains_nul";
		return -EBADMSG;
	}
	nl = memchr(body, '\n', len);
	if (nl == NULL || nl - body < 5 || memcmp(body, "old ", 4) != 0 ||
	    parse_size(body + 4, (size_t)(nl - body) - 4, &out->old_size) != 0) {
		*why = "request_old_size_invalid";
		return -EBADMSG;
	}
	pos = (size_t)(nl - body) + 1;
	for (;;) {
		size_t n;

		nl = pos < len ? memchr(body + pos, '\n', len - pos) : NULL;
		if (nl == NULL) {
			*why = "request_truncated";
			return -EBADMSG;
		}
		n = (size_t)(nl - (body + pos));
		if (n == 0) {
			pos++;
			break;
		}
		if (out->proof_count == WITNESS_PROOF_MAX || n != 44 ||
		    b64_decode(body + pos, n, out->proof[out->proof_count], NOTE_HASH_LEN) !=
			    NOTE_HASH_LEN) {
			*why = "request_proof_invalid";
			return -EBADMSG;
		}
		out->proof_count++;
		pos += n + 1;
	}
	if (pos >= len) {
		*why = "request_without_checkpoint";
		return -EBADMSG;
	}
	out->note = body + pos;
	out->note_len = len - pos;
	return 0;
}

int witness_request_format(uint64_t old_size, const uint8_t (*proof)[NOTE_HASH_LEN],
			   size_t count, const char *note, size_t note_len, char *out,
			   size_t cap)
{
	size_t pos;
	int n;

	if (count > WITNESS_PROOF_MAX)
		return -EINVAL;
	n = snprintf(out, cap, "old %" PRIu64 "\n", old_size);
	if (n < 0 || (size_t)n >= cap)
		return -ENOSPC;
	pos = (size_t)n;
	for (size_t i = 0; i < count; i++) {
		if (pos + 46 > cap)
			return -ENOSPC;
		EVP_EncodeBlock((unsigned char *)out + pos, proof[i], NOTE_HASH_LEN);
		pos += 44;
		out[pos++] = '\n';
	}
	if (pos + 1 + note_len + 1 > cap)
		return -ENOSPC;
	out[pos++] = '\n';
	memcpy(out + pos, note, note_len);
	pos += note_len;
	out[pos] = '\0';
	return (int)pos;
}

/* ---- a witness's verdict ---- */

/* The root of the empty tree, SHA-256(""). */
static void empty_root(uint8_t out[NOTE_HASH_LEN])
{
	SHA256((const unsigned char *)"", 0, out);
}

enum witness_verdict witness_judge(const struct checkpoint *stored, const struct checkpoint *cp,
				   const struct witness_request *req)
{
	uint8_t old_root[NOTE_HASH_LEN];
	uint64_t stored_size = stored != NULL ? stored->size : 0;

	/* One size, two roots: whatever the request claims, the log contradicts itself. */
	if (stored != NULL && cp->size == stored->size &&
	    CRYPTO_memcmp(cp->root, stored->root, NOTE_HASH_LEN) != 0)
		return WITNESS_FORK_SIZE;
	if (req->old_size > cp->size)
		return WITNESS_BAD_REQUEST;
	if (req->old_size != stored_size)
		return WITNESS_CONFLICT;
	if (stored == NULL || stored_size == 0) {
		/* Nothing to be consistent with but the empty tree: no proof (C2SP). */
		empty_root(old_root);
		if (req->proof_count != 0 ||
		    (cp->size == 0 && CRYPTO_memcmp(cp->root, old_root, NOTE_HASH_LEN) != 0))
			return WITNESS_BAD_REQUEST;
		return WITNESS_COSIGN;
	}
	if (cp->size == stored_size)
		return req->proof_count == 0 ? WITNESS_COSIGN : WITNESS_BAD_REQUEST;
	return mtree_verify_consistency(stored_size, cp->size, stored->root, cp->root,
					(const uint8_t(*)[MTREE_HASH_LEN])req->proof,
					req->proof_count)
		       ? WITNESS_COSIGN
		       : WITNESS_FORK_PROOF;
}

const char *witness_verdict_name(enum witness_verdict v)
{
	switch (v) {
	case WITNESS_COSIGN:
		return "cosign";
	case WITNESS_CONFLICT:
		return "conflict";
	case WITNESS_BAD_REQUEST:
		return "bad_request";
	case WITNESS_FORK_SIZE:
		return "fork_same_size";
	case WITNESS_FORK_PROOF:
		return "fork_proof_failed";
	}
	return "unknown";
}

/* ---- evidence ---- */

/* Appends "KEY base64(DATA)\n" or "KEY TEXT\n" to the growing buffer. */
struct text_buf {
	char *data;
	size_t len, cap;
	int failed;
};

static void buf_reserve(struct text_buf *b, size_t more)
{
	char *p;
	size_t cap;

	if (b->failed || b->len + more + 1 <= b->cap)
		return;
	cap = b->cap == 0 ? 1024 : b->cap;
	while (cap < b->len + more + 1)
		cap *= 2;
	p = realloc(b->data, cap);
	if (p == NULL) {
		b->failed = 1;
		return;
	}
	b->data = p;
	b->cap = cap;
}

static void buf_text(struct text_buf *b, const char *text)
{
	size_t n = strlen(text);

	buf_reserve(b, n);
	if (b->failed)
		return;
	memcpy(b->data + b->len, text, n + 1);
	b->len += n;
}

static void buf_b64(struct text_buf *b, const void *data, size_t len)
{
	size_t n = 4 * ((len + 2) / 3);

	buf_reserve(b, n);
	if (b->failed)
		return;
	EVP_EncodeBlock((unsigned char *)b->data + b->len, data, (int)len);
	b->len += n;
}

/* An id as audit fields take it: printable ASCII without spaces, quotes or '='. */
static int id_valid(const char *s)
{
	size_t len = strlen(s);

	if (len == 0 || len > QUORUM_NODE_ID_MAX)
		return 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < 0x21 || s[i] > 0x7e || s[i] == '"' || s[i] == '=')
			return 0;
	}
	return 1;
}

int log_evidence_format(const struct log_evidence *e, char **out, size_t *len)
{
	struct text_buf b = { 0 };
	char num[32];

	if (!id_valid(e->log) || !id_valid(e->reporter) || e->first_len == 0 ||
	    e->first_len > NOTE_MAX ||
	    (e->kind == LOG_EVIDENCE_SAME_SIZE &&
	     (e->second_len == 0 || e->second_len > NOTE_MAX)) ||
	    (e->kind == LOG_EVIDENCE_PROOF &&
	     (!id_valid(e->key_id) || e->signature_len == 0 || e->signature_len > 512 ||
	      e->body_len == 0 || e->body_len > WITNESS_REQUEST_MAX)) ||
	    (e->kind != LOG_EVIDENCE_SAME_SIZE && e->kind != LOG_EVIDENCE_PROOF))
		return -EINVAL;
	buf_text(&b, EVIDENCE_HEADER);
	buf_text(&b, e->kind == LOG_EVIDENCE_SAME_SIZE ? "kind same-size\n" : "kind proof\n");
	buf_text(&b, "log ");
	buf_text(&b, e->log);
	buf_text(&b, "\nreporter ");
	buf_text(&b, e->reporter);
	buf_text(&b, "\nfirst ");
	buf_b64(&b, e->first, e->first_len);
	if (e->kind == LOG_EVIDENCE_SAME_SIZE) {
		buf_text(&b, "\nsecond ");
		buf_b64(&b, e->second, e->second_len);
	} else {
		snprintf(num, sizeof(num), " %" PRIu64 " ", e->logical_time_ns);
		buf_text(&b, "\nrequest ");
		buf_text(&b, e->key_id);
		buf_text(&b, num);
		buf_b64(&b, e->signature, e->signature_len);
		buf_text(&b, " ");
		buf_b64(&b, e->body, e->body_len);
	}
	buf_text(&b, "\n");
	if (b.failed) {
		free(b.data);
		return -ENOMEM;
	}
	*out = b.data;
	*len = b.len;
	return 0;
}

/* The evidence's decoded binary fields live here while it is checked. */
struct evidence_bufs {
	uint8_t first[NOTE_MAX], second[NOTE_MAX], signature[512], body[WITNESS_REQUEST_MAX];
};

/* Reads line KEY VALUE at *POS: VALUE's start and length. */
static int field(const char *p, size_t len, size_t *pos, const char *key, const char **value,
		 size_t *value_len)
{
	size_t k = strlen(key);
	const char *nl;

	if (*pos + k + 1 > len || memcmp(p + *pos, key, k) != 0 || p[*pos + k] != ' ')
		return -1;
	nl = memchr(p + *pos + k + 1, '\n', len - *pos - k - 1);
	if (nl == NULL)
		return -1;
	*value = p + *pos + k + 1;
	*value_len = (size_t)(nl - *value);
	*pos = (size_t)(nl - p) + 1;
	return 0;
}

static int copy_id(char *out, size_t cap, const char *value, size_t n)
{
	if (n == 0 || n >= cap)
		return -1;
	memcpy(out, value, n);
	out[n] = '\0';
	return id_valid(out) ? 0 : -1;
}

/* The "request" line: KEY_ID TIME B64(SIGNATURE) B64(BODY). */
static int parse_request_line(const char *v, size_t n, struct log_evidence *e,
			      struct evidence_bufs *bufs)
{
	const char *end = v + n, *sp1, *sp2, *sp3;
	long got;

	sp1 = memchr(v, ' ', n);
	sp2 = sp1 != NULL ? memchr(sp1 + 1, ' ', (size_t)(end - sp1 - 1)) : NULL;
	sp3 = sp2 != NULL ? memchr(sp2 + 1, ' ', (size_t)(end - sp2 - 1)) : NULL;
	if (sp3 == NULL || copy_id(e->key_id, sizeof(e->key_id), v, (size_t)(sp1 - v)) != 0 ||
	    parse_size(sp1 + 1, (size_t)(sp2 - sp1 - 1), &e->logical_time_ns) != 0)
		return -1;
	got = b64_decode(sp2 + 1, (size_t)(sp3 - sp2 - 1), bufs->signature,
			 sizeof(bufs->signature));
	if (got <= 0)
		return -1;
	e->signature = bufs->signature;
	e->signature_len = (size_t)got;
	got = b64_decode(sp3 + 1, (size_t)(end - sp3 - 1), bufs->body, sizeof(bufs->body));
	if (got <= 0)
		return -1;
	e->body = (const char *)bufs->body;
	e->body_len = (size_t)got;
	return 0;
}

static int evidence_parse(const char *p, size_t len, struct log_evidence *e,
			  struct evidence_bufs *bufs)
{
	const char *v;
	size_t n, pos = sizeof(EVIDENCE_HEADER) - 1;
	long got;

	memset(e, 0, sizeof(*e));
	if (len < pos || memcmp(p, EVIDENCE_HEADER, pos) != 0 ||
	    field(p, len, &pos, "kind", &v, &n) != 0)
		return -1;
	if (n == 9 && memcmp(v, "same-size", 9) == 0)
		e->kind = LOG_EVIDENCE_SAME_SIZE;
	else if (n == 5 && memcmp(v, "proof", 5) == 0)
		e->kind = LOG_EVIDENCE_PROOF;
	else
		return -1;
	if (field(p, len, &pos, "log", &v, &n) != 0 || copy_id(e->log, sizeof(e->log), v, n) ||
	    field(p, len, &pos, "reporter", &v, &n) != 0 ||
	    copy_id(e->reporter, sizeof(e->reporter), v, n) != 0 ||
	    field(p, len, &pos, "first", &v, &n) != 0)
		return -1;
	got = b64_decode(v, n, bufs->first, sizeof(bufs->first));
	if (got <= 0)
		return -1;
	e->first = (const char *)bufs->first;
	e->first_len = (size_t)got;
	if (e->kind == LOG_EVIDENCE_SAME_SIZE) {
		if (field(p, len, &pos, "second", &v, &n) != 0)
			return -1;
		got = b64_decode(v, n, bufs->second, sizeof(bufs->second));
		if (got <= 0)
			return -1;
		e->second = (const char *)bufs->second;
		e->second_len = (size_t)got;
	} else if (field(p, len, &pos, "request", &v, &n) != 0 ||
		   parse_request_line(v, n, e, bufs) != 0) {
		return -1;
	}
	return pos == len ? 0 : -1;
}

struct log_note_check {
	log_verify_fn verify;
	void *arg;
	const char *log;
	const char *key_id; /* the request's key id, NULL: none */
};

/* A note names its key by a hash only: the log's configured key, or the key that signed its
 * request (a rotated one). */
static int note_by_log(void *arg, const void *text, size_t len, const uint8_t sig[NOTE_SIG_LEN])
{
	struct log_note_check *c = arg;

	if (c->verify(c->arg, c->log, NULL, text, len, sig, NOTE_SIG_LEN) == 0)
		return 0;
	return c->key_id != NULL && c->verify(c->arg, c->log, c->key_id, text, len, sig,
					      NOTE_SIG_LEN) == 0
		       ? 0
		       : -1;
}

/* NOTE (LEN bytes) is a checkpoint signed by the log: parsed into CP. */
static int signed_checkpoint(const char *note, size_t len, struct log_note_check *c,
			     struct checkpoint *cp, const char **why)
{
	size_t tlen;
	const char *w = NULL;

	if (memchr(note, '\0', len) != NULL || note_text_length(note, len, &tlen) != 0 ||
	    checkpoint_parse(note, tlen, cp, &w) != 0) {
		*why = "evidence_checkpoint_malformed";
		return -1;
	}
	if (note_verify_by(note, len, cp->origin, note_by_log, c, &tlen, &w) != 0) {
		*why = "evidence_checkpoint_not_signed_by_log";
		return -1;
	}
	return 0;
}

static int evidence_decide(const struct log_evidence *e, log_verify_fn verify, void *arg,
			   struct log_evidence_summary *sum, const char **why)
{
	struct log_note_check c = { verify, arg, e->log,
				    e->kind == LOG_EVIDENCE_PROOF ? e->key_id : NULL };
	struct quorum_signed_state st = { 0 };
	struct witness_request req;
	struct checkpoint *a = &sum->first, *b = &sum->second;
	enum witness_verdict verdict;
	uint8_t *msg;
	size_t mlen;
	const char *w = NULL;
	int ok;

	memset(sum, 0, sizeof(*sum));
	sum->kind = e->kind;
	memcpy(sum->log, e->log, sizeof(sum->log));
	memcpy(sum->reporter, e->reporter, sizeof(sum->reporter));
	if (signed_checkpoint(e->first, e->first_len, &c, a, why) != 0)
		return -1;
	if (e->kind == LOG_EVIDENCE_SAME_SIZE) {
		if (signed_checkpoint(e->second, e->second_len, &c, b, why) != 0)
			return -1;
		if (strcmp(a->origin, b->origin) != 0) {
			*why = "evidence_two_logs";
			return -1;
		}
		if (a->size != b->size || CRYPTO_memcmp(a->root, b->root, NOTE_HASH_LEN) == 0) {
			*why = "evidence_not_a_fork";
			return -1;
		}
		return 0;
	}
	/* The request as the log signed it: its envelope's bytes. */
	st.logical_time_ns = e->logical_time_ns;
	st.event_id = QUORUM_EVENT_CHECKPOINT;
	st.key_id = e->key_id;
	st.payload.data = (const uint8_t *)e->body;
	st.payload.len = e->body_len;
	mlen = quorum_signed_state_message_len(&st);
	msg = malloc(mlen);
	if (msg == NULL) {
		*why = "evidence_out_of_memory";
		return -1;
	}
	quorum_signed_state_message(&st, msg, mlen);
	ok = verify(arg, e->log, e->key_id, msg, mlen, e->signature, e->signature_len) == 0;
	free(msg);
	if (!ok) {
		*why = "evidence_request_not_signed_by_log";
		return -1;
	}
	if (witness_request_parse(e->body, e->body_len, &req, &w) != 0) {
		*why = "evidence_request_malformed";
		return -1;
	}
	if (signed_checkpoint(req.note, req.note_len, &c, b, why) != 0)
		return -1;
	sum->old_size = req.old_size;
	if (strcmp(a->origin, b->origin) != 0) {
		*why = "evidence_two_logs";
		return -1;
	}
	verdict = witness_judge(a, b, &req);
	if (verdict != WITNESS_FORK_PROOF && verdict != WITNESS_FORK_SIZE) {
		*why = "evidence_not_a_fork";
		return -1;
	}
	return 0;
}

int log_evidence_check(const uint8_t *payload, size_t len, log_verify_fn verify, void *arg,
		       struct log_evidence_summary *sum, const char **why)
{
	struct evidence_bufs *bufs = malloc(sizeof(*bufs));
	struct log_evidence parsed;
	char *again = NULL;
	size_t again_len = 0;
	int err = -1;

	if (bufs == NULL) {
		*why = "evidence_out_of_memory";
		return -1;
	}
	if (evidence_parse((const char *)payload, len, &parsed, bufs) != 0 ||
	    log_evidence_format(&parsed, &again, &again_len) != 0 || again_len != len ||
	    memcmp(again, payload, len) != 0) {
		*why = "evidence_malformed";
		goto out_free;
	}
	err = evidence_decide(&parsed, verify, arg, sum, why);
out_free:
	free(again);
	free(bufs);
	return err;
}
