/* test-chrony.c -- unit tests of the chrony transport: the SOCK refclock sample built from a
 * reading (chrony's layout, the offset's sign and instant, nothing while unsynchronised), the
 * chrony.conf line derived from the bound, and the plugin itself (chrony.c compiled in whole)
 * on a mock host API, sending to a real Unix datagram socket standing where chronyd's is. */
#include "chrony.c"

#include <fcntl.h>
#include <glib.h>
#include <glib/gstdio.h>

#include "mockhost.h"
#include "settings-internal.h"
#include "testutil.h"

#define MS 1000000LL
#define US 1000LL
#define S  1000000000LL

/* ---- the sample ---- */

static struct quorum_clock_reading synchronised(int64_t estimate_ns, uint64_t round)
{
	return (struct quorum_clock_reading){ .status = QUORUM_CLOCK_SYNCHRONISED,
					      .estimate_ns = estimate_ns,
					      .earliest_ns = estimate_ns - 100 * US,
					      .latest_ns = estimate_ns + 100 * US,
					      .error_bound_ns = 100 * US,
					      .round = round };
}

/* chrony's struct sock_sample on LP64 Linux: what chronyd's refclock_sock.c reads. */
static void test_sample_layout(void)
{
	g_assert_cmpuint(sizeof(struct chrony_sock_sample), ==, 40);
	g_assert_cmpuint(offsetof(struct chrony_sock_sample, tv), ==, 0);
	g_assert_cmpuint(offsetof(struct chrony_sock_sample, offset), ==, 16);
	g_assert_cmpuint(offsetof(struct chrony_sock_sample, pulse), ==, 24);
	g_assert_cmpuint(offsetof(struct chrony_sock_sample, leap), ==, 28);
	g_assert_cmpuint(offsetof(struct chrony_sock_sample, magic), ==, 36);
}

/* offset = the estimate - the system time at tv, tv being the midpoint of the two reads. */
static void test_sample_offset_at_midpoint(void)
{
	int64_t before = 1795000000 * S + 123456789, after = before + 2000;
	struct quorum_clock_reading r = synchronised(before + 1000 + 250 * US, 7);
	struct chrony_sock_sample s;

	g_assert_cmpint(chrony_sample_build(&r, before, after, &s), ==, 0);
	g_assert_cmpint(s.tv.tv_sec, ==, 1795000000);
	g_assert_cmpint(s.tv.tv_usec, ==, 123457); /* 123456789 + 1000 ns, in whole us */
	g_assert_cmpfloat_with_epsilon(s.offset, 250e-6, 1e-12);
	g_assert_cmpint(s.pulse, ==, 0);
	g_assert_cmpint(s.leap, ==, 0);
	g_assert_cmpint(s.magic, ==, CHRONY_SOCK_MAGIC);
	/* a system clock ahead of the quorum: a negative offset */
	r = synchronised(before + 1000 - 3 * MS, 7);
	g_assert_cmpint(chrony_sample_build(&r, before, after, &s), ==, 0);
	g_assert_cmpfloat_with_epsilon(s.offset, -3e-3, 1e-12);
	/* before 1970: tv's microseconds stay within [0, 1e6) */
	r = synchronised(-1500 * MS, 7);
	g_assert_cmpint(chrony_sample_build(&r, -1500 * MS, -1500 * MS, &s), ==, 0);
	g_assert_cmpint(s.tv.tv_sec, ==, -2);
	g_assert_cmpint(s.tv.tv_usec, ==, 500000);
	g_assert_cmpfloat_with_epsilon(s.offset, 0, 1e-12);
}

/* Unsynchronised: no sample at all (a wrong time is never sent, nor a zero one). */
static void test_sample_unsynchronised(void)
{
	struct quorum_clock_reading r = { .status = QUORUM_CLOCK_UNSYNCHRONISED, .round = 9 };
	struct chrony_sock_sample s = { .magic = 1 };

	g_assert_cmpint(chrony_sample_build(&r, 5 * S, 5 * S + 10, &s), ==, -EAGAIN);
	g_assert_cmpint(s.magic, ==, 1); /* untouched */
}

/* The instant must be known: reversed or far-apart reads are refused (read again). */
static void test_sample_uncertain_instant(void)
{
	struct quorum_clock_reading r = synchronised(5 * S, 3);
	struct chrony_sock_sample s;

	g_assert_cmpint(chrony_sample_build(&r, 5 * S, 5 * S - 1, &s), ==, -ERANGE);
	g_assert_cmpint(chrony_sample_build(&r, 5 * S, 5 * S + CHRONY_READ_GAP_MAX_NS + 1, &s),
			==, -ERANGE);
	g_assert_cmpint(chrony_sample_build(&r, 5 * S, 5 * S + CHRONY_READ_GAP_MAX_NS, &s), ==,
			0);
}

/* ---- the chrony.conf line ---- */

static void test_line_derived_from_bound(void)
{
	char line[256];
	int n;

	/* 100 us bound, a commit a second: delay 200 us, 8 commits in a poll of 8 s */
	n = chrony_refclock_line("/run/quorum-time/chrony.sock", 100 * US, 1000, line,
				 sizeof(line));
	g_assert_cmpint(n, ==, (int)strlen(line));
	g_assert_cmpstr(
		line, ==,
		"refclock SOCK /run/quorum-time/chrony.sock refid QTIM poll 3 precision "
		"0.00001 delay 0.0002\n");
	/* commits every 250 ms: poll 1 (2 s); a bound of 1234 ns rounds up to a 3 us delay */
	n = chrony_refclock_line("/x.sock", 1234, 250, line, sizeof(line));
	g_assert_cmpstr(line, ==,
			"refclock SOCK /x.sock refid QTIM poll 1 precision 0.00001 "
			"delay 0.000003\n");
	/* a zero bound still says 1 us; a slow quorum polls at most every 1024 s */
	n = chrony_refclock_line("/x.sock", 0, 3600000, line, sizeof(line));
	g_assert_cmpstr(line, ==,
			"refclock SOCK /x.sock refid QTIM poll 10 precision 0.00001 "
			"delay 0.000001\n");
	/* whole seconds print without a fraction */
	n = chrony_refclock_line("/x.sock", 2 * S, 100, line, sizeof(line));
	g_assert_cmpstr(line, ==,
			"refclock SOCK /x.sock refid QTIM poll 0 precision 0.00001 "
			"delay 4\n");
}

static void test_line_refused(void)
{
	char line[64];

	g_assert_cmpint(chrony_refclock_line("relative.sock", 1, 1000, line, sizeof(line)), ==,
			-EINVAL);
	g_assert_cmpint(chrony_refclock_line("/a b.sock", 1, 1000, line, sizeof(line)), ==,
			-EINVAL);
	g_assert_cmpint(chrony_refclock_line("/x.sock", -1, 1000, line, sizeof(line)), ==,
			-EINVAL);
	g_assert_cmpint(chrony_refclock_line("/x.sock", 1, 0, line, sizeof(line)), ==, -EINVAL);
	g_assert_cmpint(chrony_refclock_line("/x.sock", 1, 1000, line, 20), ==, -ENOSPC);
}

/* ---- the plugin on a mock host ---- */

/* Points M's api->settings at the struct quorumd fills, by the host's own code, from a
 * group setting socket to SOCKET (NULL: unset, the table's default). *ST (freed first, may
 * be NULL) receives the new struct, which the test frees with settings_struct_free. */
static void host_socket(struct mockhost *m, struct settings_struct **st, const char *socket)
{
	char *group = socket != NULL ? g_strdup_printf("socket = \"%s\";", socket) : NULL;

	settings_struct_free(*st);
	*st = testutil_settings(&quorum_plugin, group);
	m->settings = settings_struct_data(*st);
	g_free(group);
}

/* tests/mockhost, answering the socket setting (SOCKET; NULL: unset) through api->settings
 * and resolving relative names against /etc/quorum as if quorum.conf were there. */
static void host_init(struct mockhost *m, struct settings_struct **st, const char *socket)
{
	mockhost_init(m);
	m->config_dir = "/etc/quorum";
	*st = NULL;
	host_socket(m, st, socket);
}

/* chronyd's end: a datagram socket bound at DIR/chrony.sock. */
struct fixture {
	char *dir, *path;
	int chronyd; /* -1 while chronyd is "not running" */
	struct mockhost host;
	struct settings_struct *settings; /* what api->settings answers */
	struct chrony_feed *feed;
};

static void chronyd_bind(struct fixture *f)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };

	f->chronyd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	g_assert_cmpint(f->chronyd, >=, 0);
	g_assert_cmpuint(strlen(f->path), <, sizeof(a.sun_path));
	strcpy(a.sun_path, f->path);
	g_assert_cmpint(bind(f->chronyd, (struct sockaddr *)&a, sizeof(a)), ==, 0);
}

static void fixture_set_up(struct fixture *f, gconstpointer data)
{
	void *state = NULL;

	(void)data;
	f->dir = g_dir_make_tmp("test-chrony-XXXXXX", NULL);
	g_assert_nonnull(f->dir);
	f->path = g_build_filename(f->dir, "chrony.sock", NULL);
	f->chronyd = -1;
	host_init(&f->host, &f->settings, f->path);
	g_assert_cmpint(chrony_init(mockhost_host(&f->host), &f->host.api, &state), ==, 0);
	f->feed = state;
	g_assert_cmpint(chrony_start(f->feed), ==, 0);
	g_assert_cmpint(mockhost_timers_running(&f->host), ==, 1);
}

static void fixture_tear_down(struct fixture *f, gconstpointer data)
{
	(void)data;
	g_assert_cmpint(chrony_drain(f->feed), ==, 0);
	g_assert_cmpint(mockhost_timers_running(&f->host), ==, 0);
	chrony_fini(f->feed);
	if (f->chronyd >= 0)
		close(f->chronyd);
	g_unlink(f->path);
	g_rmdir(f->dir);
	g_free(f->path);
	g_free(f->dir);
	mockhost_release(&f->host);
	settings_struct_free(f->settings);
}

/* The next datagram chronyd has, into *OUT: 1, or 0 when there is none. */
static int chronyd_receive(struct fixture *f, struct chrony_sock_sample *out)
{
	uint8_t buf[128];
	ssize_t n = recv(f->chronyd, buf, sizeof(buf), 0);

	if (n < 0) {
		g_assert_cmpint(errno, ==, EAGAIN);
		return 0;
	}
	g_assert_cmpint(n, ==, (ssize_t)sizeof(*out));
	memcpy(out, buf, sizeof(*out));
	return 1;
}

/* One sample per committed agreement; none for a look that finds the same round; none at
 * all while unsynchronised, even when the round moved. */
static void test_feed_one_sample_per_agreement(struct fixture *f, gconstpointer data)
{
	struct chrony_sock_sample s;
	int64_t t;

	(void)data;
	chronyd_bind(f);
	t = realtime_now_ns();
	f->host.clock = synchronised(t + 40 * US, 11);
	feed_watch_cb(f->feed);
	g_assert_cmpint(chronyd_receive(f, &s), ==, 1);
	g_assert_cmpint(s.magic, ==, CHRONY_SOCK_MAGIC);
	g_assert_cmpint(s.leap, ==, 0);
	/* the mock's estimate is fixed, so the offset is 40 us less the time the look took */
	g_assert_cmpfloat(s.offset, <=, 40e-6);
	g_assert_cmpfloat(s.offset, >, 40e-6 - 0.05);
	g_assert_cmpint((int64_t)s.tv.tv_sec * S + s.tv.tv_usec * US, >=, t - US);
	feed_watch_cb(f->feed);
	g_assert_cmpint(chronyd_receive(f, &s), ==, 0);
	f->host.clock = synchronised(realtime_now_ns(), 12);
	feed_watch_cb(f->feed);
	g_assert_cmpint(chronyd_receive(f, &s), ==, 1);
	f->host.clock = (struct quorum_clock_reading){ .status = QUORUM_CLOCK_UNSYNCHRONISED,
						       .round = 13 };
	feed_watch_cb(f->feed);
	g_assert_cmpint(chronyd_receive(f, &s), ==, 0);
	g_assert_nonnull(strstr(mockhost_logs(&f->host), "chrony.silent"));
	f->host.clock = synchronised(realtime_now_ns(), 14);
	feed_watch_cb(f->feed);
	g_assert_cmpint(chronyd_receive(f, &s), ==, 1);
	g_assert_cmpuint(f->feed->sent, ==, 3);
	g_assert_cmpuint(f->feed->failed, ==, 0);
}

/* No chronyd at the path: the failure is counted and logged once, not per sample; once
 * chronyd is there the samples flow and the recovery is logged. */
static void test_feed_without_chronyd(struct fixture *f, gconstpointer data)
{
	struct chrony_sock_sample s;

	(void)data;
	for (uint64_t round = 1; round <= 3; round++) {
		f->host.clock = synchronised(realtime_now_ns(), round);
		feed_watch_cb(f->feed);
	}
	g_assert_cmpuint(f->feed->failed, ==, 3);
	g_assert_cmpuint(f->feed->sent, ==, 0);
	g_assert_nonnull(strstr(mockhost_logs(&f->host), "chrony.send_failed"));
	g_assert_null(strstr(strstr(mockhost_logs(&f->host), "chrony.send_failed") + 1,
			     "chrony.send_failed"));
	chronyd_bind(f);
	f->host.clock = synchronised(realtime_now_ns(), 4);
	feed_watch_cb(f->feed);
	g_assert_cmpint(chronyd_receive(f, &s), ==, 1);
	g_assert_nonnull(strstr(mockhost_logs(&f->host), "chrony.send_recovered"));
}

/* A socket path no Unix address can hold is refused at init, naming the setting. */
static void test_init_refuses_long_path(void)
{
	struct mockhost host;
	struct settings_struct *settings;
	char *long_path = g_strnfill(200, 'a');
	void *state = NULL;

	long_path[0] = '/';
	host_init(&host, &settings, long_path);
	g_assert_cmpint(chrony_init(mockhost_host(&host), &host.api, &state), ==, -EINVAL);
	g_assert_null(state);
	g_assert_nonnull(strstr(mockhost_logs(&host), "chrony.config_invalid setting=socket"));
	/* the default, and a relative name resolved against quorum.conf's folder */
	host_socket(&host, &settings, NULL);
	g_assert_cmpint(chrony_init(mockhost_host(&host), &host.api, &state), ==, 0);
	g_assert_cmpstr(((struct chrony_feed *)state)->to.sun_path, ==, CHRONY_SOCKET_DEFAULT);
	chrony_fini(state);
	host_socket(&host, &settings, "chrony.sock");
	g_assert_cmpint(chrony_init(mockhost_host(&host), &host.api, &state), ==, 0);
	g_assert_cmpstr(((struct chrony_feed *)state)->to.sun_path, ==,
			"/etc/quorum/chrony.sock");
	chrony_fini(state);
	g_free(long_path);
	mockhost_release(&host);
	settings_struct_free(settings);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/chrony/sample/is-chronys-sock-sample", test_sample_layout);
	g_test_add_func("/chrony/sample/offset-is-estimate-minus-system-time-at-tv",
			test_sample_offset_at_midpoint);
	g_test_add_func("/chrony/sample/none-while-unsynchronised", test_sample_unsynchronised);
	g_test_add_func("/chrony/sample/uncertain-instant-read-again",
			test_sample_uncertain_instant);
	g_test_add_func("/chrony/line/delay-covers-the-bound-poll-spans-8-commits",
			test_line_derived_from_bound);
	g_test_add_func("/chrony/line/refuses-what-chrony-cannot-read", test_line_refused);
	g_test_add("/chrony/feed/one-sample-per-agreement-none-unsynchronised", struct fixture,
		   NULL, fixture_set_up, test_feed_one_sample_per_agreement, fixture_tear_down);
	g_test_add("/chrony/feed/no-chronyd-logged-once-then-recovers", struct fixture, NULL,
		   fixture_set_up, test_feed_without_chronyd, fixture_tear_down);
	g_test_add_func("/chrony/init/socket-setting-checked-and-resolved",
			test_init_refuses_long_path);
	return g_test_run();
}
