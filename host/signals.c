/* signals.c -- quorumd's signals on a thread of their own (contract in signals-internal.h):
 * a signalfd read by a thread that hands each signal to the loop, and ends the process when
 * a stop was asked for and the loop has not finished it in time. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "log-internal.h"
#include "signals-internal.h"
#include "clocks.h"

static const int watched[SIGNAL_WATCH_COUNT] = {
	[SIGNAL_WATCH_TERM] = SIGTERM,
	[SIGNAL_WATCH_INT] = SIGINT,
	[SIGNAL_WATCH_HUP] = SIGHUP,
};

struct signal_watch {
	pthread_t thread;
	int signal_fd;
	int wake_fd; /* written by signal_watch_stop */
	struct event *events[SIGNAL_WATCH_COUNT];
	int64_t budget_ms; /* atomic */
};

static void signal_set(sigset_t *set)
{
	sigemptyset(set);
	for (int i = 0; i < SIGNAL_WATCH_COUNT; i++)
		sigaddset(set, watched[i]);
}

/* The loop did not finish the stop in time: a plugin kept it busy or stuck. Nothing is
 * closed; every durable record is on disk and the vault recovers its tail at the next
 * start, as after a crash. */
static void __attribute__((noreturn)) stop_forced(int64_t budget_ms)
{
	log_msg(QUORUM_LOG_ERROR, "host",
		"stop.forced reason=deadline budget_ms=%" PRId64
		" detail=\"the loop did not finish stopping in time (a plugin busy or stuck); "
		"exiting without closing, the vault recovers at the next start\"",
		budget_ms);
	_exit(1);
}

/* Hands every pending signal to the loop; 1 when a stop was among them. */
static int signals_forward(struct signal_watch *w)
{
	struct signalfd_siginfo si;
	int stop = 0;

	while (read(w->signal_fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		for (int i = 0; i < SIGNAL_WATCH_COUNT; i++) {
			if ((int)si.ssi_signo != watched[i])
				continue;
			stop |= i != SIGNAL_WATCH_HUP;
			/* With evthread locking on, this wakes the loop from this thread. */
			event_active(w->events[i], EV_SIGNAL, 1);
		}
	}
	return stop;
}

static void *watch_main(void *arg)
{
	struct signal_watch *w = arg;
	int64_t deadline = 0, budget = 0; /* CLOCK_MONOTONIC ns; 0: no stop asked */

	for (;;) {
		struct pollfd fds[2] = { { .fd = w->signal_fd, .events = POLLIN },
					 { .fd = w->wake_fd, .events = POLLIN } };
		int timeout = -1, n;

		if (deadline != 0) {
			int64_t left = deadline - mono_now_ns();

			if (left <= 0)
				stop_forced(budget);
			timeout = (int)((left + 999999) / 1000000);
		}
		n = poll(fds, 2, timeout);
		if (n < 0 && errno != EINTR) {
			log_msg(QUORUM_LOG_ERROR, "host", "signals.poll_failed error=\"%s\"",
				strerror(errno));
			return NULL;
		}
		if (n <= 0)
			continue;
		if (fds[1].revents != 0)
			return NULL;
		if (signals_forward(w) && deadline == 0) {
			budget = __atomic_load_n(&w->budget_ms, __ATOMIC_RELAXED);
			deadline = mono_now_ns() + budget * 1000000;
		}
	}
}

int signal_watch_start(struct event *const events[SIGNAL_WATCH_COUNT], int64_t budget_ms,
		       struct signal_watch **out)
{
	struct signal_watch *w = calloc(1, sizeof(*w));
	sigset_t set, old;
	int err;

	if (w == NULL)
		return -ENOMEM;
	memcpy(w->events, events, sizeof(w->events));
	w->budget_ms = budget_ms;
	signal_set(&set);
	err = -pthread_sigmask(SIG_BLOCK, &set, &old);
	if (err != 0)
		goto out_free;
	w->signal_fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	w->wake_fd = eventfd(0, EFD_CLOEXEC);
	if (w->signal_fd < 0 || w->wake_fd < 0) {
		err = -errno;
		goto out_close;
	}
	err = -pthread_create(&w->thread, NULL, watch_main, w);
	if (err != 0)
		goto out_close;
	*out = w;
	return 0;

out_close:
	if (w->signal_fd >= 0)
		close(w->signal_fd);
	if (w->wake_fd >= 0)
		close(w->wake_fd);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
out_free:
	free(w);
	return err;
}

void signal_watch_set_budget(struct signal_watch *watch, int64_t budget_ms)
{
	if (watch != NULL)
		__atomic_store_n(&watch->budget_ms, budget_ms, __ATOMIC_RELAXED);
}

void signal_watch_stop(struct signal_watch *watch)
{
	uint64_t one = 1;

	if (watch == NULL)
		return;
	while (write(watch->wake_fd, &one, sizeof(one)) < 0 && errno == EINTR)
		;
	pthread_join(watch->thread, NULL);
	close(watch->signal_fd);
	close(watch->wake_fd);
	free(watch);
}
