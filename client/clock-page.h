/* clock-page.h -- the shared-memory page quorumd publishes its served clock in (a seqlock
 * with a generation counter, as AWS ClockBound does), and the one function that evaluates
 * it, used by quorumd and libquorum-clock alike. Not installed: the layout is private to
 * this source tree and checked by magic and version. */
#ifndef QUORUM_CLOCK_PAGE_H
#define QUORUM_CLOCK_PAGE_H

#include <stdint.h>
#include <sys/stat.h>

#define QUORUM_CLOCK_PAGE_MAGIC	  0x4b4c4351u /* "QCLK" little-endian */
#define QUORUM_CLOCK_PAGE_VERSION 1
#define QUORUM_CLOCK_PAGE_SIZE	  4096

/*
 * The served clock, as a function of CLOCK_MONOTONIC t (all times ns):
 *   line(t)  = ref_estimate + (t - ref_mono)                     the agreement, extrapolated
 *   floor(t) = floor_base + (t - line_mono) * (1 - slew_ppm/1e6) never below what was served
 *   cap(t)   = cap_base + (t - line_mono)                        at most max_step ahead of it
 *   estimate = max(floor, min(line, cap))                        non-decreasing in t
 *   growth   = ceil((t - ref_mono) * drift_ppm / 1e6)
 *   earliest = min(ref_earliest + (t - ref_mono) - growth, estimate)
 *   latest   = max(ref_latest + (t - ref_mono) + growth, estimate)
 * synchronised while status is 1 and max(estimate - earliest, latest - estimate) is at
 * most max_error. floor_base is INT64_MIN and cap_base INT64_MAX when unused.
 */
struct quorum_clock_page {
	uint32_t magic;
	uint32_t version;
	uint32_t size;
	uint32_t generation; /* odd while the writer updates the fields below */
	uint32_t status;     /* 1: an agreement is being served */
	uint32_t drift_ppm;
	uint32_t slew_ppm;
	uint32_t n, f, accepted;
	uint32_t writer_pid;
	int64_t ref_mono_ns;
	int64_t ref_estimate_ns;
	int64_t ref_earliest_ns;
	int64_t ref_latest_ns;
	int64_t line_mono_ns;
	int64_t floor_base_ns;
	int64_t cap_base_ns;
	int64_t max_error_ns;
	int64_t drift_ns;
	uint64_t round;
	double warp_score;
	uint8_t quorum_hash[32];
};

/*
 * Whose page is trusted. A forged page would serve any time as "synchronised", so quorumd
 * checks the page before it writes it and libquorum-clock before it reads it:
 *   - the page is opened inside its folder without following a symbolic link; it must be a
 *     regular file that neither group nor others may write;
 *   - the folder must not be writable by group or others unless it has the sticky bit (as
 *     /tmp and /dev/shm have: nobody may then remove or rename another user's file there);
 *   - quorumd (the writer) takes an existing page only if it belongs to quorumd's effective
 *     user and has one link, and otherwise creates it new (O_EXCL, mode 0644); a page
 *     another user planted stops the start;
 *   - a reader takes a page that belongs to root, to the reader's own effective user, or to
 *     the owner of its folder when root handed that folder over: only its owner may write
 *     it, and its parent folder belongs to root and only root may write there (systemd's
 *     RuntimeDirectory=, /run/quorumd owned by the service user). So in a shared folder
 *     such as /tmp only root's or the reader's own page is read;
 *   - a reader takes the path from $QUORUM_CLOCK with secure_getenv: never in a set-user-ID
 *     or set-group-ID program, whose environment its caller chose.
 * quorum_clock_folder_open_to_others: 1 when FOLDER (its stat) lets group or others replace
 * the files in it (writable by them, and not sticky). */
static inline int quorum_clock_folder_open_to_others(const struct stat *folder)
{
	return (folder->st_mode & (S_IWGRP | S_IWOTH)) != 0 && (folder->st_mode & S_ISVTX) == 0;
}

/* The result of evaluating a page at one instant. */
struct quorum_clock_eval {
	int synchronised;
	int64_t earliest_ns, estimate_ns, latest_ns, error_bound_ns;
};

/* ceil(x * ppm / 1e6) for x >= 0, without overflow for any int64 x and ppm <= 1e6. */
static inline int64_t quorum_clock_ppm(int64_t x, uint32_t ppm)
{
	int64_t whole = x / 1000000, rest = x % 1000000;

	return whole * (int64_t)ppm + (rest * (int64_t)ppm + 999999) / 1000000;
}

/* quorum_clock_page_eval: the served clock of P (a private copy) at CLOCK_MONOTONIC MONO. */
static inline void quorum_clock_page_eval(const struct quorum_clock_page *p, int64_t mono,
					  struct quorum_clock_eval *out)
{
	int64_t elapsed, estimate, growth, earliest, latest;

	*out = (struct quorum_clock_eval){ 0 };
	if (p->status != 1 || mono < p->ref_mono_ns)
		return;
	elapsed = mono - p->ref_mono_ns;
	estimate = p->ref_estimate_ns + elapsed;
	if (mono >= p->line_mono_ns) {
		int64_t since = mono - p->line_mono_ns;

		if (p->cap_base_ns != INT64_MAX && p->cap_base_ns + since < estimate)
			estimate = p->cap_base_ns + since;
		if (p->floor_base_ns != INT64_MIN) {
			int64_t floor =
				p->floor_base_ns + since - quorum_clock_ppm(since, p->slew_ppm);

			if (floor > estimate)
				estimate = floor;
		}
	}
	growth = quorum_clock_ppm(elapsed, p->drift_ppm);
	earliest = p->ref_earliest_ns + elapsed - growth;
	latest = p->ref_latest_ns + elapsed + growth;
	if (earliest > estimate)
		earliest = estimate;
	if (latest < estimate)
		latest = estimate;
	out->estimate_ns = estimate;
	out->earliest_ns = earliest;
	out->latest_ns = latest;
	out->error_bound_ns = estimate - earliest > latest - estimate ? estimate - earliest
								      : latest - estimate;
	out->synchronised = out->error_bound_ns <= p->max_error_ns;
}

#endif /* QUORUM_CLOCK_PAGE_H */
