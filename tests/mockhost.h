/* mockhost.h -- a fake host for unit tests that run a plugin's own code without the daemon:
 * one quorum_api table whose entries answer from what the test configured and record what
 * the plugin did (logs, audit records, refusals, timers, published services, quarantines).
 * A test declares a struct mockhost, calls mockhost_init, sets what it needs (settings,
 * node id, clock reading, sources, hooks for the answers only it knows), and hands
 * mockhost_host(m) and &m->api to the plugin. An entry the test wants absent it sets to NULL
 * in m->api (QUORUM_API_HAS then says so); an entry only it can answer (ingest, gossip_send,
 * round_decode ...) it sets there too. No GLib: the fuzz targets can use it too. */
#ifndef QUORUM_TESTS_MOCKHOST_H
#define QUORUM_TESTS_MOCKHOST_H

#include <stddef.h>
#include <stdint.h>

#include <quorum/plugin.h>

#define MOCKHOST_CONFIG_MAX   32
#define MOCKHOST_SOURCES_MAX  16
#define MOCKHOST_TIMERS_MAX   16
#define MOCKHOST_SERVICES_MAX 8
#define MOCKHOST_TEXT_MAX     2048

struct mockhost_timer {
	uint64_t after_ms, every_ms;
	quorum_callback cb;
	void *arg;
	int stopped;
};

struct mockhost {
	struct quorum_api api; /* filled by mockhost_init; the test may clear entries */

	/* ---- what the test configures ---- */
	const char *node_id;		   /* "node-1" */
	const char *plugin_name;	   /* "mock" */
	struct event_base *base;	   /* event_base answers it (NULL by default) */
	struct quorum_clock_reading clock; /* clock_read answers it */
	struct quorum_authority_set authorities;
	struct quorum_source_status sources[MOCKHOST_SOURCES_MAX];
	size_t source_count;
	/* source_intervals answers these (the intervals parallel to sources) */
	struct quorum_round_intervals intervals;
	struct quorum_source_interval source_intervals[MOCKHOST_SOURCES_MAX];
	struct {
		const char *path, *value; /* borrowed */
	} config[MOCKHOST_CONFIG_MAX];
	size_t config_count;
	const char *config_dir; /* config_path joins relative names to it (NULL: -ENOENT) */
	const void *settings;	/* borrowed: the settings struct api->settings answers (NULL) */
	/* Answers only the test knows; NULL: the entry answers -ENOENT (authority_verify) or
	 * as described at mockhost_api's entries. */
	int (*authority_verify)(struct mockhost *m, const char *authority_id,
				const char *claimed_key_id, const void *msg, size_t len,
				const void *sig, size_t sig_len);
	void *arg; /* the test's own, for its hooks */

	/* ---- what the plugin did ---- */
	int logs;
	char log[MOCKHOST_TEXT_MAX]; /* the last line */
	char *log_all;		     /* every line, each ending in a newline (mockhost_logs) */
	size_t log_all_len;
	int audits;
	char audit[MOCKHOST_TEXT_MAX]; /* the last record: "TYPE fields" */
	int refusals;
	char refusal[64];			   /* the last reason */
	char refusal_peer[QUORUM_NODE_ID_MAX + 1]; /* and its peer ("" for none) */
	struct mockhost_timer timers[MOCKHOST_TIMERS_MAX];
	int timer_count;
	struct {
		const char *name;
		const void *ops;
		void *state;
	} services[MOCKHOST_SERVICES_MAX];
	int service_count;
	int verify_calls;
	int quarantine_calls;
	char quarantine_id[QUORUM_NODE_ID_MAX + 1], quarantine_reason[64];
	int64_t quarantine_ns;
};

/* mockhost_init: M with every entry of the table, node "node-1", plugin "mock", nothing
 * configured and nothing recorded. */
void mockhost_init(struct mockhost *m);

/* mockhost_release: frees what M recorded on the heap (the log history); M may be reused
 * after mockhost_init. */
void mockhost_release(struct mockhost *m);

/* mockhost_logs: every line logged so far, each ending in a newline ("" before the first). */
const char *mockhost_logs(const struct mockhost *m);

/* mockhost_host: M as the host handle a plugin receives (each entry finds M from it). */
struct quorum_host *mockhost_host(struct mockhost *m);

/* mockhost_of: the mock behind HOST, for a test's hooks. */
struct mockhost *mockhost_of(struct quorum_host *host);

/* mockhost_set: setting PATH is VALUE (both borrowed; VALUE NULL: unset): config_string
 * answers it, config_int and config_bool parse it (a number; true/false), others answer
 * -ENOENT. A list is its elements "PATH.[0]", "PATH.[1]" ...: config_length("PATH") counts
 * them from [0] (none set: -ENOENT). 0, or -ENOSPC. */
int mockhost_set(struct mockhost *m, const char *path, const char *value);

/* mockhost_timers_running: the timers started and not stopped. */
int mockhost_timers_running(const struct mockhost *m);

/* mockhost_service: the state last published under NAME (its ops in *OPS when not NULL),
 * or NULL. */
void *mockhost_service(const struct mockhost *m, const char *name, const void **ops);

/* mockhost_add_source: a quorumd authority ID (borrowed) in sources_status. 0 or -ENOSPC. */
int mockhost_add_source(struct mockhost *m, const char *id);

#endif /* QUORUM_TESTS_MOCKHOST_H */
