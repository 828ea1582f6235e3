/* clock-reads.c -- reads a quorumd clock page through libquorum-clock many times and checks
 * every synchronised reading against CLOCK_REALTIME, which is true time when all nodes run
 * on this machine: the bound must contain it, the estimate must never go backwards.
 * --samples FILE writes "|error| width" per synchronised read, for the benchmarks. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "quorum/clock.h"
#include "clocks.h"

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "clock", required_argument, NULL, 'c' },
		{ "reads", required_argument, NULL, 'n' },
		{ "pause-us", required_argument, NULL, 'p' },
		{ "require-sync", no_argument, NULL, 's' },
		{ "until-unsync", no_argument, NULL, 'u' },
		{ "samples", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = NULL, *samples_path = NULL;
	FILE *samples = NULL;
	long reads = 1000, pause_us = 0;
	int require_sync = 0, until_unsync = 0, opt, err;
	struct quorum_clock *clock;
	long synced = 0, unsynced = 0, busy = 0, violations = 0, backwards = 0, done = 0;
	int64_t last_estimate = INT64_MIN, max_error = 0, max_width = 0;

	while ((opt = getopt_long(argc, argv, "c:n:p:suo:", options, NULL)) != -1) {
		switch (opt) {
		case 'c':
			path = optarg;
			break;
		case 'n':
			reads = strtol(optarg, NULL, 10);
			break;
		case 'p':
			pause_us = strtol(optarg, NULL, 10);
			break;
		case 's':
			require_sync = 1;
			break;
		case 'u':
			until_unsync = 1;
			break;
		case 'o':
			samples_path = optarg;
			break;
		default:
			return 2;
		}
	}
	if (samples_path != NULL) {
		samples = fopen(samples_path, "w");
		if (samples == NULL) {
			fprintf(stderr, "clock-reads: cannot write %s: %s\n", samples_path,
				strerror(errno));
			return 2;
		}
	}
	err = quorum_clock_open(path, &clock);
	if (err != 0) {
		fprintf(stderr, "clock-reads: cannot open %s: %s\n", path ? path : "(default)",
			strerror(-err));
		return 2;
	}
	for (done = 0; done < reads; done++) {
		struct quorum_now now;
		int64_t before = realtime_now_ns(), after, error;

		if (quorum_clock_now(clock, &now) == -EAGAIN)
			busy++; /* the writer kept the page busy: counted unsynchronised too */
		after = realtime_now_ns();
		if (now.status != QUORUM_NOW_SYNCHRONISED) {
			if (unsynced++ == 0 && require_sync)
				fprintf(stderr, "clock-reads: read %ld: unsynchronised\n",
					done);
			last_estimate =
				INT64_MIN; /* monotonic only within a synchronised stretch */
			if (until_unsync) {
				done++;
				break;
			}
		} else {
			synced++;
			/* True time at the reading lies between BEFORE and AFTER. */
			if (now.earliest_ns > after || now.latest_ns < before) {
				if (violations++ == 0)
					fprintf(stderr,
						"clock-reads: read %ld: [%" PRId64 ", %" PRId64
						"] misses true time [%" PRId64 ", %" PRId64
						"]\n",
						done, now.earliest_ns, now.latest_ns, before,
						after);
			}
			if (now.estimate_ns < last_estimate)
				backwards++;
			last_estimate = now.estimate_ns;
			error = now.estimate_ns - (before + (after - before) / 2);
			if (error < 0)
				error = -error;
			if (error > max_error)
				max_error = error;
			if (now.latest_ns - now.earliest_ns > max_width)
				max_width = now.latest_ns - now.earliest_ns;
			if (samples != NULL) /* one line per synchronised read: |error| width */
				fprintf(samples, "%" PRId64 " %" PRId64 "\n", error,
					now.latest_ns - now.earliest_ns);
		}
		if (pause_us > 0) {
			struct timespec pause = { .tv_sec = pause_us / 1000000,
						  .tv_nsec = (pause_us % 1000000) * 1000 };

			nanosleep(&pause, NULL);
		}
	}
	quorum_clock_close(clock);
	if (samples != NULL)
		fclose(samples);
	printf("reads=%ld synchronised=%ld unsynchronised=%ld busy=%ld violations=%ld "
	       "backwards=%ld max_error_ns=%" PRId64 " max_width_ns=%" PRId64 "\n",
	       done, synced, unsynced, busy, violations, backwards, max_error, max_width);
	if (violations > 0 || backwards > 0 || (require_sync && unsynced > 0))
		return 1;
	return 0;
}
