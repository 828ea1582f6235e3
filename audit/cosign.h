/* cosign.h -- witnessed checkpoints without I/O: C2SP tlog-cosignature/v1 cosignatures
 * (Ed25519) on signed checkpoints, the C2SP tlog-witness add-checkpoint request body, a
 * witness's verdict on one request, and the evidence that a log signed two checkpoints that
 * cannot both describe one append-only log. Used by the merkle stage (which witnesses its
 * peers' logs and has its own witnessed), the control stage (which checks evidence before it
 * quarantines a log's node) and quorumctl (which counts a checkpoint's cosignatures).
 *
 * A cosignature is one more signature line of the checkpoint's signed note:
 *   "\u2014 " NAME " " base64(key hash[4] || timestamp[8, big-endian] || signature[64])
 * with key hash = SHA-256(NAME || "\n" || 0x04 || public key[32])[:4], and the Ed25519
 * signature over "cosignature/v1\n" "time " TIMESTAMP "\n" followed by the checkpoint's
 * text (its lines up to the empty line). TIMESTAMP is POSIX seconds. Its statement: as of
 * TIMESTAMP, the largest tree the cosigner saw for that origin, each one consistent with
 * the one before, has this root. */
#ifndef QUORUM_COSIGN_H
#define QUORUM_COSIGN_H

#include <stddef.h>
#include <stdint.h>

#include <quorum/event.h>

#include "note.h"

#define COSIG_BLOB_LEN 76 /* key hash 4 || timestamp 8 || Ed25519 signature 64 */
#define COSIG_BLOB_B64 104
/* "\u2014 " (4 bytes) NAME " " blob "\n" */
#define COSIG_LINE_MAX	  (4 + NOTE_ORIGIN_MAX + 1 + COSIG_BLOB_B64 + 2)
#define COSIG_HEADER_MAX  40 /* "cosignature/v1\ntime 18446744073709551615\n" */
#define WITNESS_PROOF_MAX 63 /* consistency proof lines an add-checkpoint body may carry */
/* The longest add-checkpoint body: an old size line, 63 proof lines, the empty line and
 * a signed checkpoint. */
#define WITNESS_REQUEST_MAX (32 + WITNESS_PROOF_MAX * 45 + 1 + NOTE_MAX)

/* cosig_key_hash: the 4-byte key hash of cosigner NAME with Ed25519 key PUB. */
uint32_t cosig_key_hash(const char *name, const uint8_t pub[NOTE_PUB_LEN]);

/* cosig_message: the bytes a cosignature signs, for checkpoint text TEXT (LEN bytes, the
 * note's text ending in a newline) at TIMESTAMP, into OUT (CAP bytes).
 * RETURN VALUE: their length, or -ENOSPC / -EINVAL (TIMESTAMP beyond 2^63 - 1). */
int cosig_message(const char *text, size_t len, uint64_t timestamp, char *out, size_t cap);

/* cosig_line: the signature line of a cosignature by NAME (a valid key name) with key PUB,
 * TIMESTAMP and SIG into OUT (COSIG_LINE_MAX is enough), NUL-terminated, ending in a
 * newline. RETURN VALUE: its length, or -EINVAL / -ENOSPC. */
int cosig_line(const char *name, const uint8_t pub[NOTE_PUB_LEN], uint64_t timestamp,
	       const uint8_t sig[NOTE_SIG_LEN], char *out, size_t cap);

/* Checks one cosignature line: SIG over MSG (LEN bytes, the cosigned message) by the line's
 * cosigner NAME whose key hash is KEY_HASH. RETURN VALUE: 1 it verifies, 0 not the key
 * asked about (skip the line), -1 the key's line but a bad signature. */
typedef int (*cosig_check_fn)(void *arg, const char *name, uint32_t key_hash, const void *msg,
			      size_t len, const uint8_t sig[NOTE_SIG_LEN]);

/* A cosignature found in a note: the cosigner's name, the time, and where its line is. */
struct cosig {
	char name[NOTE_ORIGIN_MAX];
	uint64_t timestamp;
	size_t line_start, line_len; /* the line in the note, its newline included */
};

/*
 * cosig_find: walks the signature lines of signed note NOTE (LEN bytes) after index FROM
 * (0: the first line) and asks CHECK (ARG passed through) about each well-formed
 * cosignature line (a 76-byte blob); lines of other kinds (the log's own signature) and
 * lines CHECK says are another key's are skipped.
 * RETURN VALUE: 0 with *OUT the first line CHECK verified and *NEXT (may be NULL) the index
 * to resume from; -ENOKEY none; -EPERM CHECK said -1; -EBADMSG the note is malformed (*WHY).
 */
int cosig_find(const char *note, size_t len, size_t from, cosig_check_fn check, void *arg,
	       struct cosig *out, size_t *next, const char **why);

/* cosig_verify: cosig_find for the key PUB: a line whose key hash is PUB's for the line's
 * name (and the name is NAME, unless NAME is NULL) and whose signature verifies. Same
 * return values. */
int cosig_verify(const char *note, size_t len, const char *name,
		 const uint8_t pub[NOTE_PUB_LEN], struct cosig *out, const char **why);

/* An add-checkpoint request body (C2SP tlog-witness): "old N", the consistency proof from
 * size N, an empty line, then the signed checkpoint. */
struct witness_request {
	uint64_t old_size;
	uint8_t proof[WITNESS_PROOF_MAX][NOTE_HASH_LEN];
	size_t proof_count;
	const char *note; /* the signed checkpoint, inside the parsed body (borrowed) */
	size_t note_len;
};

/* witness_request_parse: BODY (LEN bytes) into OUT: the old size in canonical decimal, each
 * proof line a canonical base64 hash, at most WITNESS_PROOF_MAX of them, then an empty line
 * and a non-empty rest (the checkpoint, not checked here). RETURN VALUE: 0 or -EBADMSG with
 * *WHY. */
int witness_request_parse(const char *body, size_t len, struct witness_request *out,
			  const char **why);

/* witness_request_format: the body for OLD_SIZE, PROOF (COUNT hashes) and the signed
 * checkpoint NOTE (NOTE_LEN bytes) into OUT (CAP bytes, NUL-terminated).
 * RETURN VALUE: its length, -EINVAL (COUNT > WITNESS_PROOF_MAX) or -ENOSPC. */
int witness_request_format(uint64_t old_size, const uint8_t (*proof)[NOTE_HASH_LEN],
			   size_t count, const char *note, size_t note_len, char *out,
			   size_t cap);

enum witness_verdict {
	WITNESS_COSIGN = 0,  /* consistent with the stored checkpoint (or the first): cosign it
				and store it */
	WITNESS_CONFLICT,    /* the old size is not the stored size (C2SP's 409): answer with
				the stored checkpoint */
	WITNESS_BAD_REQUEST, /* old size beyond the checkpoint's, a proof from size 0, or a
				size-0 checkpoint whose root is not the empty tree's */
	WITNESS_FORK_SIZE,   /* the stored size with another root: evidence */
	WITNESS_FORK_PROOF,  /* from the stored size, the consistency proof fails: evidence */
};

/*
 * witness_judge: what a witness does with request REQ for checkpoint CP (parsed from
 * REQ->note, its signature by the log already verified), given STORED, the log's latest
 * checkpoint it cosigned (NULL: none). Pure; the caller stores and answers.
 */
enum witness_verdict witness_judge(const struct checkpoint *stored, const struct checkpoint *cp,
				   const struct witness_request *req);

/* witness_verdict_name: "cosign", "conflict", ... */
const char *witness_verdict_name(enum witness_verdict v);

/* ---- evidence: a log that signed two checkpoints no append-only log can have ---- */

enum log_evidence_kind {
	LOG_EVIDENCE_SAME_SIZE = 1, /* two signed checkpoints, one size, two roots */
	LOG_EVIDENCE_PROOF = 2,	    /* a signed checkpoint, and the log's signed request
				       claiming a later one consistent with it by a proof that
				       fails */
};

/* The parts of the evidence. Parsed ones point into the payload (borrowed). */
struct log_evidence {
	enum log_evidence_kind kind;
	char log[QUORUM_NODE_ID_MAX + 1];      /* the log's node (a configured authority) */
	char reporter[QUORUM_NODE_ID_MAX + 1]; /* the witness that found it */
	const char *first;		       /* the checkpoint the witness had cosigned */
	size_t first_len;
	const char *second; /* SAME_SIZE: the other signed checkpoint */
	size_t second_len;
	/* PROOF: the request, as the log signed it (its SignedState envelope's fields) */
	char key_id[QUORUM_KEY_ID_MAX + 1];
	uint64_t logical_time_ns;
	const uint8_t *signature;
	size_t signature_len;
	const char *body; /* the add-checkpoint body */
	size_t body_len;
};

/* log_evidence_format: E as the payload of QUORUM_EVENT_LOG_MALFEASANCE (text, one field a
 * line, the binary ones in base64) into *OUT (new: free()) and *LEN.
 * RETURN VALUE: 0, -EINVAL or -ENOMEM. */
int log_evidence_format(const struct log_evidence *e, char **out, size_t *len);

/* Verifies SIG (SIG_LEN bytes) over MSG (LEN bytes) as LOG's Ed25519 signature (KEY_ID
 * NULL: its configured key, as for a signed note): api->authority_verify's contract. */
typedef int (*log_verify_fn)(void *arg, const char *log, const char *key_id, const void *msg,
			     size_t len, const void *sig, size_t sig_len);

/* What checked evidence shows. */
struct log_evidence_summary {
	enum log_evidence_kind kind;
	char log[QUORUM_NODE_ID_MAX + 1];
	char reporter[QUORUM_NODE_ID_MAX + 1];
	struct checkpoint first, second; /* second: the request's checkpoint for PROOF */
	uint64_t old_size;		 /* PROOF: the size the request claimed to extend */
};

/*
 * log_evidence_check: whether PAYLOAD (LEN bytes) is evidence against a log: well-formed
 * (canonical: it formats back to the same bytes), both checkpoints of one origin and signed
 * by the log named (VERIFY, ARG passed through: its configured key, or for PROOF also the
 * key id that signed the request, a rotated key), and SAME_SIZE: one size, two roots; PROOF:
 * the request signed by the log, its old size the first checkpoint's, its checkpoint
 * larger, and its proof failing between them (or its checkpoint of the first one's size
 * with another root).
 * RETURN VALUE: 0 with SUM filled, or -1 with *WHY (static).
 */
int log_evidence_check(const uint8_t *payload, size_t len, log_verify_fn verify, void *arg,
		       struct log_evidence_summary *sum, const char **why);

#endif /* QUORUM_COSIGN_H */
