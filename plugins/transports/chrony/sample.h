/* sample.h -- chrony's SOCK refclock sample (chrony's refclock_sock.c, struct sock_sample)
 * built from a reading of the served clock, and the chrony.conf line that feeds it to chronyd
 * with a delay derived from the served bound. Pure code: the chrony transport and quorumctl
 * share it, and the unit tests check it without a host. */
#ifndef QUORUM_CHRONY_SAMPLE_H
#define QUORUM_CHRONY_SAMPLE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/time.h>

#include <quorum/time.h>

/* chrony's protocol identifier, the sample's last field ("SOCK"). */
#define CHRONY_SOCK_MAGIC 0x534f434b

/* Where the transport sends samples unless its `socket` setting says otherwise. */
#define CHRONY_SOCKET_DEFAULT "/run/quorum-time/chrony.sock"

/* A reading is used only when the two CLOCK_REALTIME samples around it are at most this far
 * apart: the sample's instant is then known within half of it (the precision printed). */
#define CHRONY_READ_GAP_MAX_NS 20000

/* The refclock's samples per chrony poll that chrony_refclock_line aims at: its median
 * filter needs at least 4 samples between two polls to produce one. */
#define CHRONY_SAMPLES_PER_POLL 8

/*
 * One datagram to chronyd's SOCK refclock socket, in the machine's own layout (chronyd reads
 * it with the same C types on the same machine; 40 bytes on LP64 Linux):
 *   tv      the instant of the sample, in system time (CLOCK_REALTIME)
 *   offset  true time - system time at tv, in seconds: here the served estimate - tv
 *   pulse   0: a complete time, not a bare pulse
 *   leap    0 normal, 1 insert, 2 delete a leap second at the end of the day (the agreement
 *           says nothing of leap seconds: always 0)
 *   magic   CHRONY_SOCK_MAGIC
 */
struct chrony_sock_sample {
	struct timeval tv;
	double offset;
	int pulse;
	int leap;
	int pad;
	int magic;
};

/*
 * chrony_sample_build: the sample for READING, read between the CLOCK_REALTIME instants
 * REALTIME_BEFORE_NS and REALTIME_AFTER_NS (ns since 1970): tv is their midpoint, when the
 * estimate was read, and offset = estimate - that midpoint.
 * ARGUMENTS: READING borrowed; OUT caller-owned, written only on success.
 * RETURN VALUE: 0; -EAGAIN when READING is unsynchronised (nothing may be sent: chrony then
 * finds the refclock silent and stops using it); -ERANGE when the instants are reversed or
 * more than CHRONY_READ_GAP_MAX_NS apart (the instant is too uncertain: read again).
 */
int chrony_sample_build(const struct quorum_clock_reading *reading, int64_t realtime_before_ns,
			int64_t realtime_after_ns, struct chrony_sock_sample *out);

/* The parameters chrony_refclock_line derives. */
struct chrony_refclock_params {
	int poll;	      /* log2 of chrony's polling interval, in seconds */
	int64_t delay_ns;     /* chrony's delay: half of it is its assumed maximum error */
	int64_t precision_ns; /* the sample's timing uncertainty */
};

/*
 * chrony_refclock_params: the refclock options for a node that commits an agreement every
 * INTERVAL_MS (rounds.interval_ms, > 0) and serves a bound of BOUND_NS (>= 0):
 *   delay     = 2 x BOUND_NS, rounded up to a microsecond (at least 1 us), so that chrony's
 *               maximum assumed error for the refclock, delay / 2, covers the bound;
 *   precision = CHRONY_READ_GAP_MAX_NS / 2, the most a sample's instant can be off;
 *   poll      = the shortest chrony poll (0..10) that spans CHRONY_SAMPLES_PER_POLL
 *               commits, one sample each.
 * RETURN VALUE: 0, or -EINVAL for an interval or bound out of range.
 */
int chrony_refclock_params(int64_t bound_ns, int64_t interval_ms,
			   struct chrony_refclock_params *out);

/*
 * chrony_refclock_line: "refclock SOCK PATH refid QTIM poll P precision X delay Y" (with a
 * newline) for SOCKET_PATH into OUT (CAP bytes, NUL-terminated), from
 * chrony_refclock_params(BOUND_NS, INTERVAL_MS).
 * RETURN VALUE: the line's length; -EINVAL (parameters out of range, or a path chrony cannot
 * read: empty, relative, or with white space) or -ENOSPC.
 */
int chrony_refclock_line(const char *socket_path, int64_t bound_ns, int64_t interval_ms,
			 char *out, size_t cap);

#endif /* QUORUM_CHRONY_SAMPLE_H */
