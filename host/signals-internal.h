/* signals-internal.h -- quorumd's signals taken by a thread of their own and handed to the
 * event loop, and the stop deadline: once SIGTERM or SIGINT arrived the process ends within
 * its budget, even when a plugin keeps the loop busy or stuck. */
#ifndef QUORUM_SIGNALS_INTERNAL_H
#define QUORUM_SIGNALS_INTERNAL_H

#include <stdint.h>

#include <event2/event.h>

/* The signals watched, in the order of signal_watch_start's EVENTS. */
enum { SIGNAL_WATCH_TERM, SIGNAL_WATCH_INT, SIGNAL_WATCH_HUP, SIGNAL_WATCH_COUNT };

struct signal_watch;

/*
 * signal_watch_start: blocks SIGTERM, SIGINT and SIGHUP in the calling thread (and so in
 * every thread it creates later: call it before any) and starts a thread that takes them
 * from a signalfd. Each is handed to the loop as event_active() of its event in EVENTS
 * (borrowed; events of an evthread-enabled base, never added, kept until
 * signal_watch_stop). The first SIGTERM or SIGINT also starts the stop deadline: unless
 * signal_watch_stop runs within BUDGET_MS (as set last), the thread logs stop.forced and
 * ends the process with _exit(1).
 * RETURN VALUE: 0 with *OUT (signal_watch_stop), or -errno (the mask is restored).
 */
int signal_watch_start(struct event *const events[SIGNAL_WATCH_COUNT], int64_t budget_ms,
		       struct signal_watch **out);

/* signal_watch_set_budget: the stop budget from now on (a reload changed
 * drain_timeout_ms); a deadline already running keeps its end. Any thread. */
void signal_watch_set_budget(struct signal_watch *watch, int64_t budget_ms);

/* signal_watch_stop: ends the thread (the deadline with it) and frees WATCH; the signals
 * stay blocked (one arriving later stays pending, since the process is ending). NULL is a
 * no-op. */
void signal_watch_stop(struct signal_watch *watch);

#endif /* QUORUM_SIGNALS_INTERNAL_H */
