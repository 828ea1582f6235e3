/* replay.c -- the replay window: a ring of fingerprints with chained hash buckets (eviction
 * unlinks the oldest), persisted append-only and compacted atomically at twice its size. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "replay.h"
#include "statefile.h"

#define WHY(...) snprintf(why, why_size, __VA_ARGS__)
/* Links (bucket heads, next) hold a slot's index + 1; 0 is the end of a chain, so the
 * bucket table starts as calloc's zeroes and a page costs memory only once written. */
#define NONE	 0u

struct replay_window {
	size_t capacity;
	size_t count;
	size_t head; /* the next slot written; the oldest slot once the ring is full */
	uint8_t (*slots)[REPLAY_FINGERPRINT_LEN];
	uint32_t *next;	   /* per slot: the next slot of its bucket's chain (index + 1) */
	uint32_t *buckets; /* first slot of each chain (index + 1), or NONE */
	size_t bucket_mask;
	char *dir; /* NULL: memory only */
	int fd;	   /* DIR/replay.window, O_APPEND; -1 when memory only or after an error */
	uint64_t file_records;
	int dirty; /* appended since the last sync */
};

/* Fingerprints are SHA-256 digests of authenticated events: their first bytes are as good
 * a hash as any. */
static size_t bucket_of(const struct replay_window *w, const uint8_t *fp)
{
	uint32_t h;

	memcpy(&h, fp, sizeof(h));
	return h & w->bucket_mask;
}

int replay_contains(const struct replay_window *w,
		    const uint8_t fingerprint[REPLAY_FINGERPRINT_LEN])
{
	for (uint32_t l = w->buckets[bucket_of(w, fingerprint)]; l != NONE; l = w->next[l - 1]) {
		if (memcmp(w->slots[l - 1], fingerprint, REPLAY_FINGERPRINT_LEN) == 0)
			return 1;
	}
	return 0;
}

/* Adds to memory only: 1 added, 0 already present. */
static int window_add(struct replay_window *w, const uint8_t *fp)
{
	size_t slot = w->head, b;

	if (replay_contains(w, fp))
		return 0;
	if (w->count == w->capacity) { /* evict the oldest: unlink it from its chain */
		uint32_t *link = &w->buckets[bucket_of(w, w->slots[slot])];

		while (*link != (uint32_t)slot + 1)
			link = &w->next[*link - 1];
		*link = w->next[slot];
	} else {
		w->count++;
	}
	memcpy(w->slots[slot], fp, REPLAY_FINGERPRINT_LEN);
	b = bucket_of(w, fp);
	w->next[slot] = w->buckets[b];
	w->buckets[b] = (uint32_t)slot + 1;
	w->head = (slot + 1) % w->capacity;
	return 1;
}

static char *file_path(const struct replay_window *w, const char *name)
{
	size_t len = strlen(w->dir) + strlen(name) + 2;
	char *path = malloc(len);

	if (path != NULL)
		snprintf(path, len, "%s/%s", w->dir, name);
	return path;
}

static int open_append(struct replay_window *w, char *why, size_t why_size)
{
	char *path = file_path(w, REPLAY_FILE_NAME);
	int err = 0;

	if (path == NULL)
		return -ENOMEM;
	w->fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (w->fd < 0) {
		err = -errno;
		WHY("cannot open %s: %s", path, strerror(-err));
	}
	free(path);
	return err;
}

/* Rewrites the file with the window's fingerprints, oldest first, atomically. */
static int compact(struct replay_window *w, char *why, size_t why_size)
{
	size_t len = w->count * REPLAY_FINGERPRINT_LEN,
	       oldest = w->count < w->capacity ? 0 : w->head;
	uint8_t *buf = malloc(len > 0 ? len : 1);
	int err;

	if (buf == NULL) {
		WHY("out of memory compacting the replay window");
		return -ENOMEM;
	}
	for (size_t i = 0; i < w->count; i++)
		memcpy(buf + i * REPLAY_FINGERPRINT_LEN, w->slots[(oldest + i) % w->capacity],
		       REPLAY_FINGERPRINT_LEN);
	err = statefile_write_atomic(w->dir, REPLAY_FILE_NAME, buf, len, why, why_size);
	free(buf);
	if (w->fd >= 0)
		close(w->fd);
	w->fd = -1;
	if (err != 0)
		return err;
	w->file_records = w->count;
	w->dirty = 0;
	return open_append(w, why, why_size);
}

/* Reads DIR/replay.window into the window; *TORN is set when its size was not a multiple
 * of a record. */
static int load(struct replay_window *w, int *torn, char *why, size_t why_size)
{
	char *path = file_path(w, REPLAY_FILE_NAME);
	uint8_t buf[REPLAY_FINGERPRINT_LEN * 512];
	size_t have = 0;
	int fd, err = 0;

	if (path == NULL)
		return -ENOMEM;
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		err = errno == ENOENT ? 0 : -errno;
		if (err != 0)
			WHY("cannot open %s: %s", path, strerror(-err));
		free(path);
		return err;
	}
	for (;;) {
		ssize_t n = read(fd, buf + have, sizeof(buf) - have);
		size_t whole;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = -errno;
			WHY("cannot read %s: %s", path, strerror(-err));
			break;
		}
		if (n == 0) {
			*torn = have != 0;
			break;
		}
		have += (size_t)n;
		whole = have - have % REPLAY_FINGERPRINT_LEN;
		for (size_t off = 0; off < whole; off += REPLAY_FINGERPRINT_LEN) {
			window_add(w, buf + off);
			w->file_records++;
		}
		memmove(buf, buf + whole, have - whole);
		have -= whole;
	}
	close(fd);
	free(path);
	return err;
}

int replay_open(const char *dir, size_t capacity, struct replay_window **out, char *why,
		size_t why_size)
{
	struct replay_window *w;
	size_t buckets = 1;
	int err = -ENOMEM, torn = 0;

	if (capacity == 0 || capacity > REPLAY_CAPACITY_MAX) {
		WHY("a replay window of %zu entries: not 1 to %u", capacity,
		    REPLAY_CAPACITY_MAX);
		return -EINVAL;
	}
	while (buckets < capacity)
		buckets <<= 1;
	w = calloc(1, sizeof(*w));
	if (w == NULL)
		goto out_nomem;
	w->capacity = capacity;
	w->bucket_mask = buckets - 1;
	w->fd = -1;
	w->slots = malloc(capacity * sizeof(*w->slots));
	w->next = malloc(capacity * sizeof(*w->next));
	w->buckets = calloc(buckets, sizeof(*w->buckets)); /* NONE everywhere */
	w->dir = dir != NULL ? strdup(dir) : NULL;
	if (w->slots == NULL || w->next == NULL || w->buckets == NULL ||
	    (dir != NULL && w->dir == NULL))
		goto out_nomem;
	if (dir != NULL) {
		err = load(w, &torn, why, why_size);
		if (err == 0 && (torn || w->file_records >= 2 * (uint64_t)capacity))
			err = compact(w, why, why_size);
		else if (err == 0)
			err = open_append(w, why, why_size);
		if (err != 0)
			goto out_free;
	}
	*out = w;
	return 0;
out_nomem:
	WHY("out of memory for a replay window of %zu entries", capacity);
out_free:
	replay_close(w);
	return err;
}

int replay_insert(struct replay_window *w, const uint8_t fingerprint[REPLAY_FINGERPRINT_LEN],
		  char *why, size_t why_size)
{
	ssize_t n;

	if (!window_add(w, fingerprint) || w->dir == NULL)
		return 0;
	if (w->fd < 0 && open_append(w, why, why_size) != 0)
		return -EIO;
	n = write(w->fd, fingerprint, REPLAY_FINGERPRINT_LEN);
	if (n != REPLAY_FINGERPRINT_LEN) {
		int err = n < 0 ? -errno : -EIO;

		/* A short append would misalign every later record: the next insert
		 * compacts, which rewrites the whole file from memory. */
		WHY("cannot append to %s/%s: %s", w->dir, REPLAY_FILE_NAME,
		    n < 0 ? strerror(-err) : "short write");
		close(w->fd);
		w->fd = -1;
		w->file_records = 2 * (uint64_t)w->capacity;
		return err;
	}
	w->file_records++;
	w->dirty = 1;
	if (w->file_records >= 2 * (uint64_t)w->capacity)
		return compact(w, why, why_size);
	return 0;
}

int replay_sync(struct replay_window *w)
{
	if (w->fd < 0 || !w->dirty)
		return 0;
	if (fdatasync(w->fd) != 0)
		return -errno;
	w->dirty = 0;
	return 0;
}

size_t replay_count(const struct replay_window *w)
{
	return w->count;
}

uint64_t replay_file_records(const struct replay_window *w)
{
	return w->file_records;
}

void replay_close(struct replay_window *w)
{
	if (w == NULL)
		return;
	if (w->fd >= 0) {
		replay_sync(w);
		close(w->fd);
	}
	free(w->slots);
	free(w->next);
	free(w->buckets);
	free(w->dir);
	free(w);
}
