/* clock.c -- the served clock: the last committed agreement extrapolated with
 * CLOCK_MONOTONIC, its bound widened by the maximum drift, published in a shared-memory page
 * (seqlock) that quorumd and libquorum-clock evaluate with the same function. The page file
 * is opened by the writer's half of clock-page.h's trust rule. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log-internal.h"
#include "timecore-internal.h"
#include "util-internal.h"
#include "clocks.h"

/* An agreement older than this (by its reference instant) is not committed. */
#define COMMIT_MAX_AGE_NS 60000000000LL
/* A reader on another thread spins this many times on an odd generation, then pauses
 * until the budget is spent (the writer preempted mid-update, on a busy machine). */
#define CONCURRENT_READ_SPINS	  1000
#define CONCURRENT_READ_PAUSE_NS  20000L
#define CONCURRENT_READ_BUDGET_NS 5000000LL

struct served_clock {
	struct quorum_clock_page *page; /* shared file mapping, or private anonymous memory */
	int fd;				/* the page's file (locked), or -1 */
	char *path;
	int has_agreement;
};

/* Opens the existing page NAME in folder DIR_FD, if it is quorumd's own (clock-page.h):
 * the descriptor, -ENOENT, or -errno with WHY. */
static int page_open_existing(int dir_fd, const char *path, const char *name, char *why,
			      size_t why_size)
{
	struct stat st;
	int fd = openat(dir_fd, name, O_RDWR | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);

	if (fd < 0) {
		int err = -errno;

		if (err == -ELOOP)
			errbuf_set(why, why_size,
				   "clock page %s is a symbolic link; refusing to follow it",
				   path);
		else if (err != -ENOENT)
			errbuf_set(why, why_size, "cannot open the clock page %s: %s", path,
				   strerror(-err));
		return err;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		errbuf_set(why, why_size, "clock page %s is not a regular file", path);
		close(fd);
		return -EINVAL;
	}
	if (st.st_uid != geteuid() || st.st_nlink != 1 || (st.st_mode & (S_IWGRP | S_IWOTH))) {
		/* Planted by someone else, or with a second name: readers could be shown a
		 * page we do not control, or our writes land in another file. */
		errbuf_set(
			why, why_size,
			"clock page %s was not made by quorumd (owner uid %u, mode %04o, %lu "
			"links; expected uid %u, no write for group or others, one link); "
			"remove it",
			path, (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777),
			(unsigned long)st.st_nlink, (unsigned)geteuid());
		close(fd);
		return -EPERM;
	}
	return fd;
}

/* Opens or creates the page file PATH by the writer's rule of clock-page.h. The
 * descriptor, or -errno with WHY. */
static int page_file_open(const char *path, char *why, size_t why_size)
{
	char *dir_copy = strdup(path), *name_copy = strdup(path);
	const char *dir, *name;
	struct stat st;
	int dir_fd = -1, fd = -ENOMEM;

	if (dir_copy == NULL || name_copy == NULL)
		goto out;
	dir = dirname(dir_copy);
	name = basename(name_copy);
	dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dir_fd < 0 || fstat(dir_fd, &st) != 0) {
		fd = -errno;
		errbuf_set(why, why_size, "cannot open the clock page's folder %s: %s", dir,
			   strerror(errno));
		goto out;
	}
	if (quorum_clock_folder_open_to_others(&st)) {
		fd = -EPERM;
		errbuf_set(why, why_size,
			   "the clock page's folder %s is writable by group or others without "
			   "the sticky bit (mode %04o): anyone could replace the page",
			   dir, (unsigned)(st.st_mode & 07777));
		goto out;
	}
	/* Twice at most: a page that appeared between the two opens is checked. */
	for (int attempt = 0; attempt < 2; attempt++) {
		fd = page_open_existing(dir_fd, path, name, why, why_size);
		if (fd != -ENOENT)
			break;
		fd = openat(dir_fd, name,
			    O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY,
			    0644);
		if (fd >= 0)
			break;
		fd = -errno;
		errbuf_set(why, why_size, "cannot create the clock page %s: %s", path,
			   strerror(errno));
		if (fd != -EEXIST)
			break;
	}
out:
	if (dir_fd >= 0)
		close(dir_fd);
	free(dir_copy);
	free(name_copy);
	return fd;
}

int served_clock_open(const char *shm_path, uint32_t drift_ppm, uint32_t slew_ppm,
		      int64_t max_error_ns, struct served_clock **out, char *why,
		      size_t why_size)
{
	struct served_clock *clock = calloc(1, sizeof(*clock));
	uint32_t generation;
	void *map;
	int err;

	if (clock == NULL)
		return -ENOMEM;
	clock->fd = -1;
	if (shm_path != NULL) {
		clock->path = strdup(shm_path);
		if (clock->path == NULL) {
			err = -ENOMEM;
			goto out_close;
		}
		clock->fd = page_file_open(shm_path, why, why_size);
		if (clock->fd < 0) {
			err = clock->fd;
			goto out_close;
		}
		/* One writer per page: a second quorumd must not interleave its seqlock. */
		if (flock(clock->fd, LOCK_EX | LOCK_NB) != 0) {
			err = -EBUSY;
			errbuf_set(why, why_size, "clock page %s is held by another quorumd",
				   shm_path);
			goto out_close;
		}
		if (fchmod(clock->fd, 0644) != 0 ||
		    ftruncate(clock->fd, QUORUM_CLOCK_PAGE_SIZE) != 0) {
			err = -errno;
			errbuf_set(why, why_size, "cannot size the clock page %s: %s", shm_path,
				   strerror(errno));
			goto out_close;
		}
		map = mmap(NULL, QUORUM_CLOCK_PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
			   clock->fd, 0);
	} else {
		map = mmap(NULL, QUORUM_CLOCK_PAGE_SIZE, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	}
	if (map == MAP_FAILED) {
		err = -errno;
		errbuf_set(why, why_size, "cannot map the clock page: %s", strerror(errno));
		goto out_close;
	}
	clock->page = map;
	/* A page left by an earlier run keeps its generation, so that its readers see the
	 * change; everything else starts afresh, unsynchronised. */
	generation = clock->page->generation | 1u; /* odd: being written */
	__atomic_store_n(&clock->page->generation, generation, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	clock->page->magic = QUORUM_CLOCK_PAGE_MAGIC;
	clock->page->version = QUORUM_CLOCK_PAGE_VERSION;
	clock->page->size = sizeof(struct quorum_clock_page);
	clock->page->status = 0;
	clock->page->drift_ppm = drift_ppm;
	clock->page->slew_ppm = slew_ppm;
	clock->page->max_error_ns = max_error_ns;
	clock->page->writer_pid = (uint32_t)getpid();
	clock->page->floor_base_ns = INT64_MIN;
	clock->page->cap_base_ns = INT64_MAX;
	__atomic_store_n(&clock->page->generation, generation + 1, __ATOMIC_RELEASE);
	*out = clock;
	return 0;
out_close:
	if (clock->fd >= 0)
		close(clock->fd);
	free(clock->path);
	free(clock);
	return err;
}

/* The reading of page P (the page itself on the writer's thread, a consistent copy
 * elsewhere) at CLOCK_MONOTONIC MONO. */
static void reading_of(const struct quorum_clock_page *p, int64_t mono,
		       struct quorum_clock_reading *out)
{
	struct quorum_clock_eval eval;

	quorum_clock_page_eval(p, mono, &eval);
	memset(out, 0, sizeof(*out));
	out->n = p->n;
	out->f = p->f;
	if (!eval.synchronised)
		return;
	out->status = QUORUM_CLOCK_SYNCHRONISED;
	out->accepted = p->accepted;
	out->earliest_ns = eval.earliest_ns;
	out->estimate_ns = eval.estimate_ns;
	out->latest_ns = eval.latest_ns;
	out->error_bound_ns = eval.error_bound_ns;
	out->agreement_age_ns = mono - p->ref_mono_ns;
	out->drift_ns = p->drift_ns;
	out->round = p->round;
	out->warp_score = p->warp_score;
	memcpy(out->quorum_hash, p->quorum_hash, sizeof(out->quorum_hash));
}

void served_clock_read(const struct served_clock *clock, struct quorum_clock_reading *out)
{
	/* The loop thread is the only writer: no seqlock needed on this side. */
	reading_of(clock->page, mono_now_ns(), out);
}

int served_clock_read_concurrent(const struct served_clock *clock,
				 struct quorum_clock_reading *out)
{
	const struct quorum_clock_page *page = clock->page;
	struct quorum_clock_page copy;
	int64_t deadline = 0;

	/* A seqlock read, as libquorum-clock's: the monotonic sample is taken inside the read
	 * section, so a reading never combines an old page with a time after the writer
	 * replaced it. */
	for (int attempt = 0;; attempt++) {
		uint32_t before = __atomic_load_n(&page->generation, __ATOMIC_ACQUIRE), after;
		int64_t mono;

		if (attempt >= CONCURRENT_READ_SPINS) {
			/* The writer was preempted mid-update: give it the CPU (a sleep, since
			 * sched_yield need not), for a while. */
			struct timespec pause = { 0, CONCURRENT_READ_PAUSE_NS };
			int64_t now = mono_now_ns();

			if (deadline == 0)
				deadline = now + CONCURRENT_READ_BUDGET_NS;
			else if (now > deadline)
				break;
			nanosleep(&pause, NULL);
		}
		if (before & 1u)
			continue; /* the writer is in the middle of an update */
		memcpy(&copy, page, sizeof(copy));
		mono = mono_now_ns();
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		after = __atomic_load_n(&page->generation, __ATOMIC_RELAXED);
		if (before != after)
			continue;
		reading_of(&copy, mono, out);
		return 0;
	}
	memset(out, 0, sizeof(*out));
	return -EAGAIN;
}

int served_clock_check(const struct served_clock *clock, const struct quorum_agreement *a)
{
	int64_t now = mono_now_ns();

	if (a->size != sizeof(*a) || !a->local || a->earliest_ns > a->estimate_ns ||
	    a->estimate_ns > a->latest_ns || a->earliest_ns <= 0 ||
	    a->reference_mono_ns > now || now - a->reference_mono_ns > COMMIT_MAX_AGE_NS)
		return -EINVAL;
	return 0;
}

void served_clock_commit(struct served_clock *clock, const struct quorum_agreement *a,
			 int64_t max_step_ns, struct clock_commit_outcome *out)
{
	struct quorum_clock_page *p = clock->page;
	struct quorum_clock_eval old;
	uint32_t generation = p->generation;
	int64_t t_commit, served, line, earliest = a->earliest_ns, latest = a->latest_ns;
	int64_t estimate = a->estimate_ns;

	memset(out, 0, sizeof(*out));
	/* Odd first, then read the time: every reader that saw the old page sampled its
	 * clock before this instant, so the new page can start from the old value here. */
	__atomic_store_n(&p->generation, generation + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	t_commit = mono_now_ns();
	quorum_clock_page_eval(p, t_commit, &old);
	/* The bound served so far still holds true time at the agreement's reference instant
	 * (widened by the drift since): both do, so the clock serves their intersection. A
	 * round measured through a stall (every round trip long) then cannot widen the bound
	 * past what the previous agreements already proved. Disjoint, one of them broke its
	 * assumptions: the new agreement alone is served, slewed or capped as below. */
	if (clock->has_agreement && p->status == 1 && a->reference_mono_ns >= p->ref_mono_ns) {
		int64_t elapsed = a->reference_mono_ns - p->ref_mono_ns;
		int64_t growth = quorum_clock_ppm(elapsed, p->drift_ppm);
		int64_t prev_earliest = p->ref_earliest_ns + elapsed - growth;
		int64_t prev_latest = p->ref_latest_ns + elapsed + growth;

		if (prev_earliest > latest || prev_latest < earliest) {
			out->disjoint = 1;
		} else {
			out->narrowed = prev_earliest > earliest || prev_latest < latest;
			earliest = prev_earliest > earliest ? prev_earliest : earliest;
			latest = prev_latest < latest ? prev_latest : latest;
			estimate = estimate < earliest ? earliest
				   : estimate > latest ? latest
						       : estimate;
		}
	}
	out->served_width_ns = latest - earliest;
	line = estimate + (t_commit - a->reference_mono_ns);
	p->floor_base_ns = INT64_MIN;
	p->cap_base_ns = INT64_MAX;
	p->line_mono_ns = t_commit;
	if (clock->has_agreement && p->status == 1) {
		served = old.estimate_ns;
		out->step_ns = line - served;
		/* Never backwards: the estimate continues from what was served, slowed by the
		 * slew rate, until the agreement's line catches up with it. */
		p->floor_base_ns = served;
		out->slewed = line < served;
		if (max_step_ns > 0 && line - served > max_step_ns) {
			p->cap_base_ns = served + max_step_ns;
			out->clamped = 1;
		}
	} else {
		out->first = 1;
	}
	p->ref_mono_ns = a->reference_mono_ns;
	p->ref_estimate_ns = estimate;
	p->ref_earliest_ns = earliest;
	p->ref_latest_ns = latest;
	p->n = a->n;
	p->f = a->f;
	p->accepted = a->accepted;
	p->round = a->round;
	p->drift_ns = a->drift_ns;
	p->warp_score = a->warp_score;
	memcpy(p->quorum_hash, a->quorum_hash, sizeof(p->quorum_hash));
	p->status = 1;
	__atomic_store_n(&p->generation, generation + 2, __ATOMIC_RELEASE);
	clock->has_agreement = 1;
}

/* Publishes "unsynchronised" (status 0) on the page; readers see it at their next read. */
static void page_mark_unsynchronised(struct quorum_clock_page *page)
{
	uint32_t generation = page->generation;

	__atomic_store_n(&page->generation, generation + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	page->status = 0;
	__atomic_store_n(&page->generation, generation + 2, __ATOMIC_RELEASE);
}

int served_clock_suspend(struct served_clock *clock)
{
	if (clock->page->status == 0)
		return 0;
	page_mark_unsynchronised(clock->page);
	clock->has_agreement = 0; /* the next agreement starts afresh, as after a restart */
	return 1;
}

void served_clock_close(struct served_clock *clock, int mark_unsynchronised)
{
	if (clock == NULL)
		return;
	if (mark_unsynchronised && clock->page != NULL)
		page_mark_unsynchronised(clock->page);
	if (clock->page != NULL)
		munmap(clock->page, QUORUM_CLOCK_PAGE_SIZE);
	if (clock->fd >= 0)
		close(clock->fd);
	free(clock->path);
	free(clock);
}
