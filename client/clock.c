/* clock.c -- libquorum-clock: maps quorumd's clock page read-only and evaluates it under a
 * seqlock, taking the CLOCK_MONOTONIC sample inside the read section so that a reading can
 * never combine an old page with a time after the writer replaced it. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "clock-page.h"
#include "quorum/clock.h"

#define READ_ATTEMPTS 10000

struct quorum_clock {
	const struct quorum_clock_page *page;
};

int quorum_clock_open(const char *path, struct quorum_clock **out)
{
	struct quorum_clock *clock;
	struct stat st;
	void *map;
	int fd, err;

	if (path == NULL)
		path = getenv("QUORUM_CLOCK");
	if (path == NULL || path[0] == '\0')
		path = QUORUM_CLOCK_DEFAULT_PATH;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size < QUORUM_CLOCK_PAGE_SIZE) {
		close(fd);
		return -EPROTO;
	}
	map = mmap(NULL, QUORUM_CLOCK_PAGE_SIZE, PROT_READ, MAP_SHARED, fd, 0);
	err = errno;
	close(fd);
	if (map == MAP_FAILED)
		return -err;
	clock = calloc(1, sizeof(*clock));
	if (clock == NULL) {
		munmap(map, QUORUM_CLOCK_PAGE_SIZE);
		return -ENOMEM;
	}
	clock->page = map;
	if (clock->page->magic != QUORUM_CLOCK_PAGE_MAGIC ||
	    clock->page->version != QUORUM_CLOCK_PAGE_VERSION) {
		quorum_clock_close(clock);
		return -EPROTO;
	}
	*out = clock;
	return 0;
}

void quorum_clock_close(struct quorum_clock *clock)
{
	if (clock == NULL)
		return;
	munmap((void *)clock->page, QUORUM_CLOCK_PAGE_SIZE);
	free(clock);
}

int quorum_clock_now(struct quorum_clock *clock, struct quorum_now *out)
{
	const struct quorum_clock_page *page = clock->page;
	struct quorum_clock_page copy;
	struct quorum_clock_eval eval;
	struct timespec ts;

	for (int attempt = 0; attempt < READ_ATTEMPTS; attempt++) {
		uint32_t before = __atomic_load_n(&page->generation, __ATOMIC_ACQUIRE), after;

		if (before & 1u)
			continue; /* the writer is in the middle of an update */
		memcpy(&copy, page, sizeof(copy));
		clock_gettime(CLOCK_MONOTONIC, &ts);
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		after = __atomic_load_n(&page->generation, __ATOMIC_RELAXED);
		if (before != after)
			continue;
		quorum_clock_page_eval(&copy, (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec, &eval);
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
	return -EAGAIN;
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
