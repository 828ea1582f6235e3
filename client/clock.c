/* clock.c -- libquorum-clock: maps quorumd's clock page read-only, once it passed the
 * reader's half of clock-page.h's trust rule, and evaluates it under a seqlock, taking the
 * CLOCK_MONOTONIC sample inside the read section so that a reading can never combine an old
 * page with a time after the writer replaced it. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "clock-page.h"
#include "quorum/clock.h"

/* A reader that finds the writer mid-update spins SPIN_ATTEMPTS times, then yields the CPU
 * between attempts: on a busy machine the writer may have been preempted inside its few
 * stores, and spinning would only keep it from finishing. */
#define READ_ATTEMPTS 10000
#define SPIN_ATTEMPTS 100

struct quorum_clock {
	const struct quorum_clock_page *page;
};

static void say(char *why, size_t why_size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void say(char *why, size_t why_size, const char *fmt, ...)
{
	va_list ap;

	if (why == NULL || why_size == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(why, why_size, fmt, ap);
	va_end(ap);
}

/* 1 when root handed folder DIR_FD over to its owner: only the owner writes it, and its
 * parent belongs to root and only root writes there. */
static int folder_handed_over(int dir_fd, const struct stat *folder)
{
	struct stat parent;
	int fd, ok;

	if ((folder->st_mode & (S_IWGRP | S_IWOTH)) != 0)
		return 0;
	fd = openat(dir_fd, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ok = fstat(fd, &parent) == 0 && parent.st_uid == 0 &&
	     (parent.st_mode & (S_IWGRP | S_IWOTH)) == 0;
	close(fd);
	return ok;
}

/* Opens page PATH read-only if the reader's rule of clock-page.h trusts it: the descriptor,
 * or -errno with WHY. */
static int page_open_trusted(const char *path, char *why, size_t why_size)
{
	char *dir_copy = strdup(path), *name_copy = strdup(path);
	struct stat folder, page;
	const char *dir;
	int dir_fd = -1, fd = -1, err;

	if (dir_copy == NULL || name_copy == NULL) {
		err = -ENOMEM;
		say(why, why_size, "out of memory");
		goto out;
	}
	dir = dirname(dir_copy);
	dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dir_fd < 0 || fstat(dir_fd, &folder) != 0) {
		err = -errno;
		say(why, why_size, "%s: %s", path, strerror(errno));
		goto out;
	}
	fd = openat(dir_fd, basename(name_copy),
		    O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		err = -errno;
		if (err == -ELOOP)
			say(why, why_size, "%s is a symbolic link; refusing to follow it",
			    path);
		else
			say(why, why_size, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (fstat(fd, &page) != 0 || !S_ISREG(page.st_mode) ||
	    page.st_size < QUORUM_CLOCK_PAGE_SIZE) {
		err = -EPROTO;
		say(why, why_size, "%s is not a clock page (not a regular file of %d bytes)",
		    path, QUORUM_CLOCK_PAGE_SIZE);
		goto out;
	}
	err = -EPERM;
	if ((page.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
		say(why, why_size,
		    "%s is writable by group or others (mode %04o): anyone could "
		    "forge the time in it",
		    path, (unsigned)(page.st_mode & 07777));
		goto out;
	}
	if (quorum_clock_folder_open_to_others(&folder)) {
		say(why, why_size,
		    "%s is in a folder writable by group or others without the sticky bit "
		    "(%s, mode %04o): anyone could replace it",
		    path, dir, (unsigned)(folder.st_mode & 07777));
		goto out;
	}
	if (page.st_uid != 0 && page.st_uid != geteuid() &&
	    !(page.st_uid == folder.st_uid && folder_handed_over(dir_fd, &folder))) {
		say(why, why_size,
		    "%s belongs to uid %u: neither root, nor this user (uid %u), nor the owner "
		    "of a folder root handed over",
		    path, (unsigned)page.st_uid, (unsigned)geteuid());
		goto out;
	}
	err = 0;
out:
	if (dir_fd >= 0)
		close(dir_fd);
	free(dir_copy);
	free(name_copy);
	if (err != 0) {
		if (fd >= 0)
			close(fd);
		return err;
	}
	return fd;
}

int quorum_clock_open_why(const char *path, struct quorum_clock **out, char *why,
			  size_t why_size)
{
	struct quorum_clock *clock;
	void *map;
	int fd, err;

	say(why, why_size, "%s", "");
	if (path == NULL)
		path = secure_getenv("QUORUM_CLOCK");
	if (path == NULL || path[0] == '\0')
		path = QUORUM_CLOCK_DEFAULT_PATH;
	fd = page_open_trusted(path, why, why_size);
	if (fd < 0)
		return fd;
	map = mmap(NULL, QUORUM_CLOCK_PAGE_SIZE, PROT_READ, MAP_SHARED, fd, 0);
	err = errno;
	close(fd);
	if (map == MAP_FAILED) {
		say(why, why_size, "%s: mmap: %s", path, strerror(err));
		return -err;
	}
	clock = calloc(1, sizeof(*clock));
	if (clock == NULL) {
		munmap(map, QUORUM_CLOCK_PAGE_SIZE);
		say(why, why_size, "out of memory");
		return -ENOMEM;
	}
	clock->page = map;
	if (clock->page->magic != QUORUM_CLOCK_PAGE_MAGIC ||
	    clock->page->version != QUORUM_CLOCK_PAGE_VERSION) {
		quorum_clock_close(clock);
		say(why, why_size, "%s is not a quorumd clock page of version %d", path,
		    QUORUM_CLOCK_PAGE_VERSION);
		return -EPROTO;
	}
	*out = clock;
	return 0;
}

int quorum_clock_open(const char *path, struct quorum_clock **out)
{
	return quorum_clock_open_why(path, out, NULL, 0);
}

void quorum_clock_close(struct quorum_clock *clock)
{
	if (clock == NULL)
		return;
	munmap((void *)clock->page, QUORUM_CLOCK_PAGE_SIZE);
	free(clock);
}

int quorum_clock_now_agreement(struct quorum_clock *clock, struct quorum_now *out,
			       struct quorum_agreement_info *agreement)
{
	const struct quorum_clock_page *page = clock->page;
	struct quorum_clock_page copy;
	struct quorum_clock_eval eval;
	struct timespec ts;

	for (int attempt = 0; attempt < READ_ATTEMPTS; attempt++) {
		uint32_t before, after;

		if (attempt >= SPIN_ATTEMPTS)
			sched_yield();
		before = __atomic_load_n(&page->generation, __ATOMIC_ACQUIRE);
		if (before & 1u)
			continue; /* the writer is in the middle of an update */
		memcpy(&copy, page, sizeof(copy));
		clock_gettime(CLOCK_MONOTONIC, &ts);
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		after = __atomic_load_n(&page->generation, __ATOMIC_RELAXED);
		if (before != after)
			continue;
		/* One snapshot: the time and the agreement it extrapolates belong together. */
		if (agreement != NULL)
			*agreement =
				(struct quorum_agreement_info){ .round = copy.round,
								.n = copy.n,
								.f = copy.f,
								.accepted = copy.accepted };
		quorum_clock_page_eval(&copy, (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec,
				       &eval);
		if (!eval.synchronised) {
			*out = (struct quorum_now){ .status = QUORUM_NOW_UNSYNCHRONISED };
			return 0;
		}
		*out = (struct quorum_now){ .earliest_ns = eval.earliest_ns,
					    .estimate_ns = eval.estimate_ns,
					    .latest_ns = eval.latest_ns,
					    .status = QUORUM_NOW_SYNCHRONISED };
		return 0;
	}
	*out = (struct quorum_now){ .status = QUORUM_NOW_UNSYNCHRONISED };
	if (agreement != NULL)
		memset(agreement, 0, sizeof(*agreement));
	return -EAGAIN;
}

int quorum_clock_now(struct quorum_clock *clock, struct quorum_now *out)
{
	return quorum_clock_now_agreement(clock, out, NULL);
}

static pthread_once_t default_once = PTHREAD_ONCE_INIT;
static struct quorum_clock *default_clock;
static int default_error;

static void default_open(void)
{
	default_error = quorum_clock_open(NULL, &default_clock);
}

int quorum_now(struct quorum_now *out)
{
	pthread_once(&default_once, default_open);
	if (default_clock == NULL) {
		*out = (struct quorum_now){ .status = QUORUM_NOW_UNSYNCHRONISED };
		return default_error;
	}
	return quorum_clock_now(default_clock, out);
}
