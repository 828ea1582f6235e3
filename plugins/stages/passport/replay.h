/* replay.h -- the passport stage's replay window: the fingerprints of the last CAPACITY
 * events it accepted, in a ring (oldest evicted first) with a hash index, persisted as an
 * append-only file of 32-byte records that is rewritten atomically (compacted) when it
 * holds twice the window, and read back at start. */
#ifndef QUORUM_REPLAY_H
#define QUORUM_REPLAY_H

#include <stddef.h>
#include <stdint.h>

#define REPLAY_FINGERPRINT_LEN 32
#define REPLAY_FILE_NAME       "replay.window"
#define REPLAY_CAPACITY_MAX    10000000u

struct replay_window;

/*
 * replay_open: a window of CAPACITY (1 .. REPLAY_CAPACITY_MAX) fingerprints. With DIR
 * (borrowed, an existing folder) the window is DIR/replay.window: its last CAPACITY records
 * are loaded (a torn last record, from a crash in mid-write, is dropped) and it is
 * compacted at once if it holds 2 * CAPACITY records or more; NULL keeps it in memory.
 * RETURN VALUE: 0 with *OUT (replay_close), or -errno with WHY.
 */
int replay_open(const char *dir, size_t capacity, struct replay_window **out, char *why,
		size_t why_size);

/* replay_contains: 1 when FINGERPRINT is in the window, else 0. */
int replay_contains(const struct replay_window *w,
		    const uint8_t fingerprint[REPLAY_FINGERPRINT_LEN]);

/*
 * replay_insert: adds FINGERPRINT (evicting the oldest when full; nothing when present) and
 * appends it to the file (not synced: replay_sync), compacting the file at 2 * CAPACITY
 * records. It is in the window even when the file write fails.
 * RETURN VALUE: 0, or -errno with WHY (the file could not be written).
 */
int replay_insert(struct replay_window *w, const uint8_t fingerprint[REPLAY_FINGERPRINT_LEN],
		  char *why, size_t why_size);

/* replay_sync: fdatasyncs the file if records were appended since the last sync.
 * RETURN VALUE: 0 or -errno. */
int replay_sync(struct replay_window *w);

/* replay_count: fingerprints in the window; replay_file_records: records in its file. */
size_t replay_count(const struct replay_window *w);
uint64_t replay_file_records(const struct replay_window *w);

/* replay_close: syncs, closes and frees W; NULL is a no-op. */
void replay_close(struct replay_window *w);

#endif /* QUORUM_REPLAY_H */
