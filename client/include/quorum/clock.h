/* quorum/clock.h -- libquorum-clock: read the time a local quorumd serves, with its error
 * bound, from shared memory: no system call but clock_gettime, no round trip to the daemon
 * (AWS ClockBound's model). Link with $(pkg-config --libs quorum-clock). */
#ifndef QUORUM_CLOCK_H
#define QUORUM_CLOCK_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Where quorumd publishes its clock unless quorum.conf's clock.shm says otherwise; the
 * environment variable QUORUM_CLOCK overrides it for quorum_now() (read with secure_getenv:
 * ignored in set-user-ID and set-group-ID programs). */
#define QUORUM_CLOCK_DEFAULT_PATH "/run/quorumd/clock"

enum quorum_now_status {
	QUORUM_NOW_UNSYNCHRONISED = 0, /* do not use the time: it cannot be trusted */
	QUORUM_NOW_SYNCHRONISED = 1,   /* true time lies in [earliest_ns, latest_ns] */
};

/* A reading. When unsynchronised all times are 0: never a wrong time. */
struct quorum_now {
	int64_t earliest_ns; /* ns since 1970-01-01 UTC */
	int64_t estimate_ns; /* the best estimate, never decreasing while synchronised */
	int64_t latest_ns;
	int status; /* enum quorum_now_status */
};

/* An open clock page. */
struct quorum_clock;

/*
 * quorum_clock_open: maps the clock page at PATH read-only (NULL: $QUORUM_CLOCK, else
 * QUORUM_CLOCK_DEFAULT_PATH), if it can only have been written by someone the reader
 * trusts (a forged page could show any time as synchronised):
 *   - PATH itself is not a symbolic link, and is a regular file that neither group nor
 *     others may write;
 *   - its folder is not writable by group or others, unless it has the sticky bit;
 *   - it belongs to root, to the caller's effective user, or to the owner of its folder
 *     when root handed that folder over (only the owner writes the folder, and its parent
 *     belongs to root and only root writes there: systemd's RuntimeDirectory=).
 * RETURN VALUE: 0 with *OUT (quorum_clock_close), or -errno: -ENOENT no page (quorumd not
 * running with clock.shm), -EPROTO not a clock page of this version, -ELOOP a symbolic
 * link, -EPERM a page or folder that fails the rule above.
 */
int quorum_clock_open(const char *path, struct quorum_clock **out);

/* quorum_clock_open_why: quorum_clock_open, and on failure a one-line reason naming the
 * page in WHY (WHY_SIZE bytes; may be NULL). New in libtool version 1:0:1 (soname .so.0). */
int quorum_clock_open_why(const char *path, struct quorum_clock **out, char *why,
			  size_t why_size);

/* quorum_clock_close: unmaps CLOCK; NULL is a no-op. */
void quorum_clock_close(struct quorum_clock *clock);

/*
 * quorum_clock_now: reads the served time now. Thread-safe; many readers may share CLOCK.
 * RETURN VALUE: 0 with *OUT filled (check OUT->status), or -EAGAIN when the writer kept
 * the page busy (OUT then says unsynchronised).
 */
int quorum_clock_now(struct quorum_clock *clock, struct quorum_now *out);

/* The agreement a reading extrapolates (all 0 when unsynchronised before any agreement). */
struct quorum_agreement_info {
	uint64_t round;	   /* the asking node's round that produced it */
	uint32_t n, f;	   /* configured authorities, and how many may be faulty */
	uint32_t accepted; /* authorities whose intervals were inside it */
};

/*
 * quorum_clock_now_agreement: quorum_clock_now, and the agreement that reading comes from
 * into *AGREEMENT (may be NULL), read in the same snapshot of the page: never the time of
 * one agreement with the round of another. RETURN VALUE: as quorum_clock_now.
 */
int quorum_clock_now_agreement(struct quorum_clock *clock, struct quorum_now *out,
			       struct quorum_agreement_info *agreement);

/*
 * quorum_now: quorum_clock_now on a process-wide clock opened at the first call.
 * RETURN VALUE: 0, or -errno from quorum_clock_open / quorum_clock_now; *OUT always filled
 * (unsynchronised on error).
 */
int quorum_now(struct quorum_now *out);

#ifdef __cplusplus
}
#endif

#endif /* QUORUM_CLOCK_H */
