/* roundjournal.h -- the round log's journal: what the vault stage holds for its next round
 * log record (roundlog.h), written to VAULT_DIR/rounds.journal as it arrives and made
 * durable with the vault's own fsyncs, so that a crash loses no round the log would have
 * kept (the next start takes them back for its first record) and a full disk is found at
 * the first round, not when the record is due. Once the record is durable the journal
 * starts afresh.
 *
 * File: a 48-byte header (magic "QVRJRNL1", u64 little-endian BASE: the vault's record count
 * when the journal started, SHA-256("quorum-round-journal-v1" NUL || bytes 0..15)), then
 * items: u8 kind (1 a round's SyncRound payload, 2 an audit line, 3 a verdict: u32 code,
 * stage NUL, reason NUL), u8 flags (bit 0: sealed), u8[2] zero, u32 LEN, LEN bytes, u8[8]
 * the first 8 bytes of SHA-256("quorum-round-journal-item-v1" NUL || kind..data). With the
 * vault's key an item's data is sealed as its records are: AES-256-GCM, a random 12-byte
 * nonce first, the 16-byte tag last, the item's first 8 bytes authenticated with it. A torn
 * or damaged tail (a crash inside a write), or an item the key does not open, ends the
 * replay there. The folder and file are opened by
 * statedir.h's rule. Not thread-safe; one writer. */
#ifndef QUORUM_ROUNDJOURNAL_H
#define QUORUM_ROUNDJOURNAL_H

#include <stddef.h>
#include <stdint.h>

#define ROUNDJOURNAL_NAME    "rounds.journal"
#define ROUNDJOURNAL_KEY_LEN 32 /* the vault's AES-256-GCM key */

struct roundjournal;

/* What a replay hands back, in the order it was written. Each returns 0 to go on. */
struct roundjournal_sink {
	int (*round)(void *arg, const uint8_t *payload, size_t len);
	int (*audit)(void *arg, const char *text, size_t len);
	int (*verdict)(void *arg, uint32_t verdict, const char *stage, const char *reason);
};

/*
 * roundjournal_open: opens DIR/rounds.journal (DIR borrowed and copied), creating it when
 * missing; KEY (ROUNDJOURNAL_KEY_LEN bytes, copied; NULL: none) seals what is written.
 * RETURN VALUE: 0 with *OUT (roundjournal_close), or -errno with WHY naming the file
 * (statedir.h's refusals among them).
 */
int roundjournal_open(const char *dir, const uint8_t *key, struct roundjournal **out, char *why,
		      size_t why_size);

/* roundjournal_close: NULL is a no-op. Nothing is buffered. */
void roundjournal_close(struct roundjournal *j);

/*
 * roundjournal_replay: hands SINK the items the file holds (what the previous run left),
 * *BASE the vault's record count when they started (0 for an empty file), *ROUNDS how many
 * rounds, *DROPPED the bytes of a torn or damaged tail left out (WHY says where).
 * RETURN VALUE: 0, a sink's nonzero value, or -errno (the file could not be read).
 */
int roundjournal_replay(struct roundjournal *j, const struct roundjournal_sink *sink, void *arg,
			uint64_t *base, size_t *rounds, uint64_t *dropped, char *why,
			size_t why_size);

/* roundjournal_start: empties the file and writes a header with BASE, durably. 0 or -errno. */
int roundjournal_start(struct roundjournal *j, uint64_t base);

/* roundjournal_round / _audit / _verdict: append one item with one write(2), not yet
 * durable (roundjournal_sync). 0 or -errno (then the file may end in a torn item). */
int roundjournal_round(struct roundjournal *j, const uint8_t *payload, size_t len);
int roundjournal_audit(struct roundjournal *j, const char *text, size_t len);
int roundjournal_verdict(struct roundjournal *j, uint32_t verdict, const char *stage,
			 const char *reason);

/* roundjournal_dirty: 1 when items were written since the last sync. */
int roundjournal_dirty(const struct roundjournal *j);

/* roundjournal_sync: makes what was written durable (fdatasync). 0 or -errno. */
int roundjournal_sync(struct roundjournal *j);

#endif /* QUORUM_ROUNDJOURNAL_H */
