/* test-cosign.c -- witnessed checkpoints without I/O: C2SP cosignature lines that verify only
 * for their text, key and name, strict add-checkpoint bodies, a witness's verdicts over a
 * real tree, and evidence against a log that holds only when the log really forked. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <glib.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include <quorum/audit.h>

#include "cosign.h"
#include "mtree.h"
#include "note.h"
#include "testutil.h"

static int ed25519_ok(const uint8_t pub[32], const void *msg, size_t len, const uint8_t *sig,
		      size_t sig_len)
{
	EVP_PKEY *key = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub, 32);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ok = 0;

	if (key != NULL && ctx != NULL && EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, key) == 1)
		ok = EVP_DigestVerify(ctx, sig, sig_len, msg, len) == 1;
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(key);
	return ok;
}

/* A tree of N leaves "leaf-I". */
static struct mtree *tree_of(uint64_t n)
{
	struct mtree *t = NULL;

	g_assert_cmpint(mtree_open(NULL, &t, NULL, 0), ==, 0);
	for (uint64_t i = 0; i < n; i++) {
		char leaf[32];
		uint8_t h[MTREE_HASH_LEN];
		int len = snprintf(leaf, sizeof(leaf), "leaf-%" PRIu64, i);

		mtree_leaf_hash(leaf, (size_t)len, h);
		g_assert_cmpint(mtree_append(t, h), ==, 0);
	}
	return t;
}

/* The signed checkpoint of the first SIZE leaves of T by S as ORIGIN into NOTE. */
static size_t signed_cp(const struct testutil_signer *s, const char *origin, struct mtree *t,
			uint64_t size, struct checkpoint *cp, char note[NOTE_MAX])
{
	char body[1024];
	uint8_t sig[64];
	int blen, nlen;

	memset(cp, 0, sizeof(*cp));
	g_strlcpy(cp->origin, origin, sizeof(cp->origin));
	cp->size = size;
	g_assert_cmpint(mtree_root(t, size, cp->root), ==, 0);
	blen = checkpoint_format(cp, body, sizeof(body));
	g_assert_cmpint(blen, >, 0);
	testutil_signer_sign(s, body, (size_t)blen, sig);
	nlen = note_format(body, (size_t)blen, origin, s->pub, sig, note, NOTE_MAX);
	g_assert_cmpint(nlen, >, 0);
	return (size_t)nlen;
}

/* NOTE with a cosignature by W (NAME) at TS appended; its length. */
static size_t cosign(const struct testutil_signer *w, const char *name, uint64_t ts,
		     const char *note, size_t len, char *out, size_t cap)
{
	char msg[COSIG_HEADER_MAX + NOTE_MAX], line[COSIG_LINE_MAX];
	uint8_t sig[64];
	size_t tlen;
	int mlen, n;

	g_assert_cmpint(note_text_length(note, len, &tlen), ==, 0);
	mlen = cosig_message(note, tlen, ts, msg, sizeof(msg));
	g_assert_cmpint(mlen, >, 0);
	testutil_signer_sign(w, msg, (size_t)mlen, sig);
	n = cosig_line(name, w->pub, ts, sig, line, sizeof(line));
	g_assert_cmpint(n, >, 0);
	g_assert_cmpuint(len + (size_t)n, <, cap);
	memcpy(out, note, len);
	memcpy(out + len, line, (size_t)n + 1);
	return len + (size_t)n;
}

static void test_message(void)
{
	char msg[256];
	int n = cosig_message("origin\n5\nroot\n", 14, 1679315147, msg, sizeof(msg));

	/* Two header lines, then the checkpoint text as it is (tlog-cosignature/v1). */
	g_assert_cmpint(n, ==, 45);
	g_assert_cmpmem(msg, (size_t)n, "cosignature/v1\ntime 1679315147\norigin\n5\nroot\n",
			45);
	g_assert_cmpint(cosig_message("x\n", 2, UINT64_C(1) << 63, msg, sizeof(msg)), ==,
			-EINVAL);
	g_assert_cmpint(cosig_message("x\n", 2, 1, msg, 10), ==, -ENOSPC);
}

static void test_cosignature(void)
{
	struct testutil_signer log, wit, other;
	struct checkpoint cp;
	struct mtree *t = tree_of(20);
	char note[NOTE_MAX], co[NOTE_MAX + 2 * COSIG_LINE_MAX], co2[sizeof(co)];
	struct cosig c;
	const char *why = "";
	size_t len, clen, tlen;

	testutil_signer_new(&log);
	testutil_signer_new(&wit);
	testutil_signer_new(&other);
	len = signed_cp(&log, "quorum-time/node-1", t, 17, &cp, note);
	clen = cosign(&wit, "quorum-time/node-2/witness", 1700000000, note, len, co,
		      sizeof(co));

	/* Found by name and key, with its time and its place in the note. */
	g_assert_cmpint(cosig_verify(co, clen, "quorum-time/node-2/witness", wit.pub, &c, &why),
			==, 0);
	g_assert_cmpstr(c.name, ==, "quorum-time/node-2/witness");
	g_assert_cmpuint(c.timestamp, ==, 1700000000);
	g_assert_cmpuint(c.line_start, ==, len);
	g_assert_cmpuint(c.line_start + c.line_len, ==, clen);
	/* ... or by key alone. */
	g_assert_cmpint(cosig_verify(co, clen, NULL, wit.pub, &c, &why), ==, 0);
	/* Another name, another key: not there (unknown keys are skipped, not errors). */
	g_assert_cmpint(cosig_verify(co, clen, "quorum-time/node-3/witness", wit.pub, &c, &why),
			==, -ENOKEY);
	g_assert_cmpint(cosig_verify(co, clen, NULL, other.pub, &c, &why), ==, -ENOKEY);
	/* The log's own signature still verifies: the cosignature is just another line. */
	g_assert_cmpint(note_verify(co, clen, "quorum-time/node-1", log.pub, &tlen, &why), ==,
			0);
	/* A cosignature key hash is not the note key hash of the same name and key. */
	g_assert_cmpuint(cosig_key_hash("n", wit.pub), !=, note_key_hash("n", wit.pub));

	/* The text altered after cosigning: the key's line, a bad signature. */
	memcpy(co2, co, clen + 1);
	co2[strlen("quorum-time/node-1\n")] = '8'; /* "17" -> "87" */
	g_assert_cmpint(cosig_verify(co2, clen, NULL, wit.pub, &c, &why), ==, -EPERM);
	/* The timestamp altered: the signature covers it. */
	memcpy(co2, co, clen + 1);
	co2[c.line_start + 4 + strlen("quorum-time/node-2/witness") + 1 + 10] ^= 1;
	g_assert_cmpint(cosig_verify(co2, clen, NULL, wit.pub, &c, &why), !=, 0);
	/* Two witnesses: each is found. */
	{
		char co3[sizeof(co) + COSIG_LINE_MAX];
		size_t n3 = cosign(&other, "w3", 1700000001, co, clen, co3, sizeof(co3));

		g_assert_cmpint(cosig_verify(co3, n3, "w3", other.pub, &c, &why), ==, 0);
		g_assert_cmpuint(c.timestamp, ==, 1700000001);
		g_assert_cmpint(cosig_verify(co3, n3, NULL, wit.pub, &c, &why), ==, 0);
	}
	mtree_close(t);
	EVP_PKEY_free(log.key);
	EVP_PKEY_free(wit.key);
	EVP_PKEY_free(other.key);
}

static void test_request_parse(void)
{
	static const char *const bad[] = {
		"",
		"old 1\n",	 /* no empty line, no checkpoint */
		"old 01\n\nx\n", /* leading zero */
		"old -1\n\nx\n",
		"old 1 \n\nx\n",
		"new 1\n\nx\n",
		"old 1\nAAAA\n\nx\n",					      /* short hash */
		"old 1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB=\n\nx\n", /* not canonical
									       */
		"old 1\n\n",			   /* nothing after the empty line */
		"old 18446744073709551616\n\nx\n", /* beyond 2^64 - 1 */
	};
	uint8_t proof[3][NOTE_HASH_LEN];
	struct witness_request r;
	const char *why = "";
	char body[WITNESS_REQUEST_MAX], many[70 * 45 + 64];
	size_t pos;
	int n;

	for (int i = 0; i < 3; i++)
		memset(proof[i], 0x11 * (i + 1), NOTE_HASH_LEN);
	n = witness_request_format(42, (const uint8_t(*)[NOTE_HASH_LEN])proof, 3, "cp\n", 3,
				   body, sizeof(body));
	g_assert_cmpint(n, >, 0);
	g_assert_cmpint(witness_request_parse(body, (size_t)n, &r, &why), ==, 0);
	g_assert_cmpuint(r.old_size, ==, 42);
	g_assert_cmpuint(r.proof_count, ==, 3);
	g_assert_cmpmem(r.proof, sizeof(proof), proof, sizeof(proof));
	g_assert_cmpmem(r.note, r.note_len, "cp\n", 3);
	n = witness_request_format(0, NULL, 0, "cp\n", 3, body, sizeof(body));
	g_assert_cmpstr(body, ==, "old 0\n\ncp\n");
	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_test_message("bad body %zu", i);
		g_assert_cmpint(witness_request_parse(bad[i], strlen(bad[i]), &r, &why), ==,
				-EBADMSG);
	}
	/* At most 63 proof lines. */
	pos = (size_t)g_snprintf(many, sizeof(many), "old 1\n");
	for (int i = 0; i < 64; i++)
		pos += (size_t)g_snprintf(many + pos, sizeof(many) - pos,
					  "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n");
	pos += (size_t)g_snprintf(many + pos, sizeof(many) - pos, "\nx\n");
	g_assert_cmpint(witness_request_parse(many, pos, &r, &why), ==, -EBADMSG);
	g_assert_cmpstr(why, ==, "request_proof_invalid");
}

/* REQ for the checkpoint of SIZE leaves of T, from OLD with the real proof. */
static void request_of(struct mtree *t, uint64_t old, uint64_t size,
		       struct witness_request *req)
{
	memset(req, 0, sizeof(*req));
	req->old_size = old;
	g_assert_cmpint(mtree_consistency_proof(t, old, size,
						(uint8_t(*)[MTREE_HASH_LEN])req->proof,
						WITNESS_PROOF_MAX, &req->proof_count),
			==, 0);
}

static struct checkpoint cp_of(struct mtree *t, uint64_t size)
{
	struct checkpoint cp = { .size = size };

	g_strlcpy(cp.origin, "o", sizeof(cp.origin));
	g_assert_cmpint(mtree_root(t, size, cp.root), ==, 0);
	return cp;
}

static void test_judge(void)
{
	struct mtree *t = tree_of(100), *fork = tree_of(60);
	struct checkpoint c10 = cp_of(t, 10), c50 = cp_of(t, 50), f50, f40, empty = cp_of(t, 0);
	struct witness_request req;
	uint8_t h[MTREE_HASH_LEN];

	/* FORK: the first 40 leaves of T, then others. */
	mtree_truncate(fork, 40);
	for (int i = 0; i < 20; i++) {
		mtree_leaf_hash("other", 5, h);
		mtree_append(fork, h);
	}
	f50 = cp_of(fork, 50);
	f40 = cp_of(fork, 40);

	/* The first checkpoint: old 0, no proof. */
	request_of(t, 0, 10, &req);
	g_assert_cmpint(witness_judge(NULL, &c10, &req), ==, WITNESS_COSIGN);
	g_assert_cmpint(witness_judge(&empty, &c10, &req), ==, WITNESS_COSIGN);
	/* From the stored size with the real proof. */
	request_of(t, 10, 50, &req);
	g_assert_cmpint(witness_judge(&c10, &c50, &req), ==, WITNESS_COSIGN);
	/* The same checkpoint again (fresh cosignature). */
	request_of(t, 50, 50, &req);
	g_assert_cmpint(witness_judge(&c50, &c50, &req), ==, WITNESS_COSIGN);
	/* Not where the witness stands: 409. */
	request_of(t, 20, 50, &req);
	g_assert_cmpint(witness_judge(&c10, &c50, &req), ==, WITNESS_CONFLICT);
	request_of(t, 0, 50, &req);
	g_assert_cmpint(witness_judge(&c10, &c50, &req), ==, WITNESS_CONFLICT);
	/* Malformed: old beyond the checkpoint, a proof from 0, a size-0 root that is not the
	 * empty tree's. */
	request_of(t, 10, 10, &req);
	req.old_size = 11;
	g_assert_cmpint(witness_judge(&c10, &c10, &req), ==, WITNESS_BAD_REQUEST);
	request_of(t, 10, 50, &req);
	req.old_size = 0;
	g_assert_cmpint(witness_judge(NULL, &c50, &req), ==, WITNESS_BAD_REQUEST);
	{
		struct checkpoint bogus = empty;
		struct witness_request none = { 0 };

		bogus.root[0] ^= 1;
		g_assert_cmpint(witness_judge(NULL, &bogus, &none), ==, WITNESS_BAD_REQUEST);
		g_assert_cmpint(witness_judge(NULL, &empty, &none), ==, WITNESS_COSIGN);
	}
	/* A fork: one size, two roots (whatever the request says), or a proof that fails. */
	request_of(fork, 10, 50, &req);
	g_assert_cmpint(witness_judge(&c50, &f50, &req), ==, WITNESS_FORK_SIZE);
	g_assert_cmpint(witness_judge(&c10, &f50, &req), ==, WITNESS_COSIGN); /* 10 < 40 */
	request_of(t, 45, 50, &req); /* a proof of T's, claimed for the fork */
	{
		struct checkpoint c45 = cp_of(t, 45);

		g_assert_cmpint(witness_judge(&c45, &f50, &req), ==, WITNESS_FORK_PROOF);
	}
	request_of(fork, 40, 50, &req);
	g_assert_cmpint(witness_judge(&f40, &c50, &req), ==, WITNESS_FORK_PROOF);
	g_assert_cmpstr(witness_verdict_name(WITNESS_FORK_PROOF), ==, "fork_proof_failed");
	mtree_close(t);
	mtree_close(fork);
}

/* Evidence verification: node-1's configured key is LOG's pub (key id "k1"); ROTATED, when
 * set, is a key its passport vouches for under "k2" (api->authority_verify's contract). */
static const struct testutil_signer *rotated;

static int verify_log(void *arg, const char *log, const char *key_id, const void *msg,
		      size_t len, const void *sig, size_t sig_len)
{
	const struct testutil_signer *s = arg;

	if (strcmp(log, "node-1") != 0)
		return -ENOENT;
	if (key_id != NULL && strcmp(key_id, "k2") == 0 && rotated != NULL)
		s = rotated;
	else if (key_id != NULL && strcmp(key_id, "k1") != 0)
		return -ENOENT;
	return ed25519_ok(s->pub, msg, len, sig, sig_len) ? 0 : -EBADMSG;
}

/* BODY's envelope signature by S as key id KEY_ID at TIME into SIG. */
static void sign_request(const struct testutil_signer *s, const char *key_id, uint64_t time,
			 const char *body, size_t len, uint8_t sig[64])
{
	struct quorum_signed_state st = { .logical_time_ns = time,
					  .event_id = QUORUM_EVENT_CHECKPOINT,
					  .key_id = key_id,
					  .payload = { (const uint8_t *)body, len } };
	size_t mlen = quorum_signed_state_message_len(&st);
	uint8_t *msg = g_malloc(mlen);

	quorum_signed_state_message(&st, msg, mlen);
	testutil_signer_sign(s, msg, mlen, sig);
	g_free(msg);
}

static void test_evidence_rotated(void)
{
	struct testutil_signer log, next;
	struct mtree *t = tree_of(100), *fork = tree_of(60);
	struct checkpoint a, b;
	struct log_evidence e = { .kind = LOG_EVIDENCE_PROOF };
	struct log_evidence_summary sum;
	char na[NOTE_MAX], nb[NOTE_MAX], body[WITNESS_REQUEST_MAX], *payload;
	const char *why = "";
	uint8_t h[MTREE_HASH_LEN], sig[64];
	size_t plen;
	int blen;

	testutil_signer_new(&log);
	testutil_signer_new(&next);
	mtree_truncate(fork, 40);
	for (int i = 0; i < 20; i++) {
		mtree_leaf_hash("other", 5, h);
		mtree_append(fork, h);
	}
	/* Cosigned under the configured key; the fork signed after a rotation to NEXT. */
	e.first_len = signed_cp(&log, "quorum-time/node-1", t, 50, &a, na);
	e.first = na;
	blen = witness_request_format(50, NULL, 0, nb,
				      signed_cp(&next, "quorum-time/node-1", fork, 50, &b, nb),
				      body, sizeof(body));
	g_assert_cmpint(blen, >, 0);
	sign_request(&next, "k2", 1700000000000000000ULL, body, (size_t)blen, sig);
	g_strlcpy(e.log, "node-1", sizeof(e.log));
	g_strlcpy(e.reporter, "node-2", sizeof(e.reporter));
	g_strlcpy(e.key_id, "k2", sizeof(e.key_id));
	e.logical_time_ns = 1700000000000000000ULL;
	e.signature = sig;
	e.signature_len = 64;
	e.body = body;
	e.body_len = (size_t)blen;
	g_assert_cmpint(log_evidence_format(&e, &payload, &plen), ==, 0);
	/* Unknown rotated key: nothing. Vouched for: evidence (one size, two roots). */
	rotated = NULL;
	g_assert_cmpint(
		log_evidence_check((uint8_t *)payload, plen, verify_log, &log, &sum, &why), ==,
		-1);
	rotated = &next;
	g_assert_cmpint(
		log_evidence_check((uint8_t *)payload, plen, verify_log, &log, &sum, &why), ==,
		0);
	g_assert_cmpuint(sum.first.size, ==, sum.second.size);
	rotated = NULL;
	free(payload);
	mtree_close(t);
	mtree_close(fork);
	EVP_PKEY_free(log.key);
	EVP_PKEY_free(next.key);
}

static void test_evidence(void)
{
	struct testutil_signer log, other;
	struct mtree *t = tree_of(100), *fork = tree_of(60);
	struct checkpoint a, b;
	struct log_evidence e = { 0 };
	struct log_evidence_summary sum;
	char na[NOTE_MAX], nb[NOTE_MAX], nc[NOTE_MAX], body[WITNESS_REQUEST_MAX], *payload;
	const char *why = "";
	uint8_t h[MTREE_HASH_LEN], sig[64], proof[WITNESS_PROOF_MAX][NOTE_HASH_LEN];
	size_t la, lb, lc, plen, count;
	int blen;

	testutil_signer_new(&log);
	testutil_signer_new(&other);
	mtree_truncate(fork, 40);
	for (int i = 0; i < 20; i++) {
		mtree_leaf_hash("other", 5, h);
		mtree_append(fork, h);
	}
	la = signed_cp(&log, "quorum-time/node-1", t, 50, &a, na);
	lb = signed_cp(&log, "quorum-time/node-1", fork, 50, &b, nb);

	/* Same size, two roots, both signed by the log: evidence. */
	e.kind = LOG_EVIDENCE_SAME_SIZE;
	g_strlcpy(e.log, "node-1", sizeof(e.log));
	g_strlcpy(e.reporter, "node-2", sizeof(e.reporter));
	e.first = na;
	e.first_len = la;
	e.second = nb;
	e.second_len = lb;
	g_assert_cmpint(log_evidence_format(&e, &payload, &plen), ==, 0);
	g_assert_cmpint(
		log_evidence_check((uint8_t *)payload, plen, verify_log, &log, &sum, &why), ==,
		0);
	g_assert_cmpint(sum.kind, ==, LOG_EVIDENCE_SAME_SIZE);
	g_assert_cmpstr(sum.log, ==, "node-1");
	g_assert_cmpstr(sum.reporter, ==, "node-2");
	g_assert_cmpuint(sum.first.size, ==, 50);
	g_assert_cmpuint(sum.second.size, ==, 50);
	/* A byte changed: not canonical, or a signature that fails. */
	payload[plen - 3] ^= 1;
	g_assert_cmpint(
		log_evidence_check((uint8_t *)payload, plen, verify_log, &log, &sum, &why), ==,
		-1);
	free(payload);
	/* The same checkpoint twice is no fork. */
	e.second = na;
	e.second_len = la;
	g_assert_cmpint(log_evidence_format(&e, &payload, &plen), ==, 0);
	g_assert_cmpint(
		log_evidence_check((uint8_t *)payload, plen, verify_log, &log, &sum, &why), ==,
		-1);
	g_assert_cmpstr(why, ==, "evidence_not_a_fork");
	free(payload);
	/* Signed by someone else: nothing against the log. */
	lc = signed_cp(&other, "quorum-time/node-1", fork, 50, &b, nc);
	e.second = nc;
	e.second_len = lc;
	g_assert_cmpint(log_evidence_format(&e, &payload, &plen), ==, 0);
	g_assert_cmpint(
		log_evidence_check((uint8_t *)payload, plen, verify_log, &log, &sum, &why), ==,
		-1);
	g_assert_cmpstr(why, ==, "evidence_checkpoint_not_signed_by_log");
	free(payload);

	/* A proof that fails, in a request the log signed: the fork's checkpoint of 60,
	 * claimed consistent with the real one of 50 by the fork's own proof from 50. */
	lc = signed_cp(&log, "quorum-time/node-1", fork, 60, &b, nc);
	g_assert_cmpint(mtree_consistency_proof(fork, 50, 60, (uint8_t(*)[MTREE_HASH_LEN])proof,
						WITNESS_PROOF_MAX, &count),
			==, 0);
	blen = witness_request_format(50, (const uint8_t(*)[NOTE_HASH_LEN])proof, count, nc, lc,
				      body, sizeof(body));
	g_assert_cmpint(blen, >, 0);
	{
		struct quorum_signed_state st = { .logical_time_ns = 1700000000000000000ULL,
						  .event_id = QUORUM_EVENT_CHECKPOINT,
						  .key_id = "k1",
						  .payload = { (const uint8_t *)body,
							       (size_t)blen } };
		size_t mlen = quorum_signed_state_message_len(&st);
		uint8_t *msg = g_malloc(mlen);

		quorum_signed_state_message(&st, msg, mlen);
		testutil_signer_sign(&log, msg, mlen, sig);
		g_free(msg);
	}
	memset(&e, 0, sizeof(e));
	e.kind = LOG_EVIDENCE_PROOF;
	g_strlcpy(e.log, "node-1", sizeof(e.log));
	g_strlcpy(e.reporter, "node-3", sizeof(e.reporter));
	e.first = na;
	e.first_len = la;
	g_strlcpy(e.key_id, "k1", sizeof(e.key_id));
	e.logical_time_ns = 1700000000000000000ULL;
	e.signature = sig;
	e.signature_len = 64;
	e.body = body;
	e.body_len = (size_t)blen;
	g_assert_cmpint(log_evidence_format(&e, &payload, &plen), ==, 0);
	g_assert_cmpint(
		log_evidence_check((uint8_t *)payload, plen, verify_log, &log, &sum, &why), ==,
		0);
	g_assert_cmpint(sum.kind, ==, LOG_EVIDENCE_PROOF);
	g_assert_cmpuint(sum.first.size, ==, 50);
	g_assert_cmpuint(sum.second.size, ==, 60);
	g_assert_cmpuint(sum.old_size, ==, 50);
	free(payload);
	/* The request's signature under another key id, or over other bytes: refused. */
	e.logical_time_ns++;
	g_assert_cmpint(log_evidence_format(&e, &payload, &plen), ==, 0);
	g_assert_cmpint(
		log_evidence_check((uint8_t *)payload, plen, verify_log, &log, &sum, &why), ==,
		-1);
	g_assert_cmpstr(why, ==, "evidence_request_not_signed_by_log");
	free(payload);
	/* An honest request (the real tree's proof from 50 to 60) is no evidence. */
	lc = signed_cp(&log, "quorum-time/node-1", t, 60, &b, nc);
	g_assert_cmpint(mtree_consistency_proof(t, 50, 60, (uint8_t(*)[MTREE_HASH_LEN])proof,
						WITNESS_PROOF_MAX, &count),
			==, 0);
	blen = witness_request_format(50, (const uint8_t(*)[NOTE_HASH_LEN])proof, count, nc, lc,
				      body, sizeof(body));
	{
		struct quorum_signed_state st = { .logical_time_ns = 1700000000000000000ULL,
						  .event_id = QUORUM_EVENT_CHECKPOINT,
						  .key_id = "k1",
						  .payload = { (const uint8_t *)body,
							       (size_t)blen } };
		size_t mlen = quorum_signed_state_message_len(&st);
		uint8_t *msg = g_malloc(mlen);

		quorum_signed_state_message(&st, msg, mlen);
		testutil_signer_sign(&log, msg, mlen, sig);
		g_free(msg);
	}
	e.logical_time_ns = 1700000000000000000ULL;
	e.body_len = (size_t)blen;
	g_assert_cmpint(log_evidence_format(&e, &payload, &plen), ==, 0);
	g_assert_cmpint(
		log_evidence_check((uint8_t *)payload, plen, verify_log, &log, &sum, &why), ==,
		-1);
	g_assert_cmpstr(why, ==, "evidence_not_a_fork");
	free(payload);
	mtree_close(t);
	mtree_close(fork);
	EVP_PKEY_free(log.key);
	EVP_PKEY_free(other.key);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/cosign/message-is-header-time-and-text", test_message);
	g_test_add_func("/cosign/line-verifies-for-its-key-name-and-text", test_cosignature);
	g_test_add_func("/cosign/request-body-strict", test_request_parse);
	g_test_add_func("/cosign/judge-over-a-real-tree", test_judge);
	g_test_add_func("/cosign/evidence-only-for-a-real-fork", test_evidence);
	g_test_add_func("/cosign/evidence-under-a-rotated-key", test_evidence_rotated);
	return g_test_run();
}
