/* replay.c -- the replay window: a bounded fingerprint set (common/dedup.c: a ring with a
 * hash index, the oldest evicted first), persisted append-only and compacted atomically at
 * twice its size. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dedup.h"
#include "replay.h"
#include "statefile.h"

#define WHY(...) snprintf(why, why_size, __VA_ARGS__)

_Static_assert(REPLAY_FINGERPRINT_LEN == DEDUP_FINGERPRINT_LEN, "one fingerprint size");
_Static_assert(REPLAY_CAPACITY_MAX <= DEDUP_CAPACITY_MAX, "the window fits a dedup set");

struct replay_window {
	struct dedup *set; /* the window in memory: ring and hash index */
	size_t capacity;
	char *dir; /* NULL: memory only */
	int fd;	   /* DIR/replay.window, O_APPEND; -1 when memory only or after an error */
	uint64_t file_records;
	int dirty; /* appended since the last sync */
};

int replay_contains(const struct replay_window *w,
		    const uint8_t fingerprint[REPLAY_FINGERPRINT_LEN])
{
	return dedup_contains(w->set, fingerprint);
}

/* Adds to memory only: 1 added, 0 already present. */
static int window_add(struct replay_window *w, const uint8_t *fp)
{
	return dedup_insert(w->set, fp);
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
	size_t count = dedup_count(w->set), len = count * REPLAY_FINGERPRINT_LEN;
	uint8_t *buf = malloc(len > 0 ? len : 1);
	int err;

	if (buf == NULL) {
		WHY("out of memory compacting the replay window");
		return -ENOMEM;
	}
	for (size_t i = 0; i < count; i++)
		memcpy(buf + i * REPLAY_FINGERPRINT_LEN, dedup_at(w->set, i),
		       REPLAY_FINGERPRINT_LEN);
	err = statefile_write_atomic(w->dir, REPLAY_FILE_NAME, buf, len, why, why_size);
	free(buf);
	if (w->fd >= 0)
		close(w->fd);
	w->fd = -1;
	if (err != 0)
		return err;
	w->file_records = count;
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
	int err = -ENOMEM, torn = 0;

	if (capacity == 0 || capacity > REPLAY_CAPACITY_MAX) {
		WHY("a replay window of %zu entries: not 1 to %u", capacity,
		    REPLAY_CAPACITY_MAX);
		return -EINVAL;
	}
	w = calloc(1, sizeof(*w));
	if (w == NULL)
		goto out_nomem;
	w->capacity = capacity;
	w->fd = -1;
	w->set = dedup_new(capacity);
	w->dir = dir != NULL ? strdup(dir) : NULL;
	if (w->set == NULL || (dir != NULL && w->dir == NULL))
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
	return dedup_count(w->set);
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
	dedup_free(w->set);
	free(w->dir);
	free(w);
}
