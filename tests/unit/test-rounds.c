/* test-rounds.c -- the time core in a fake host: four cores on one event loop ask each other in
 * rounds over loopback and ingest every round into a recording stage (rounds.c, answer.c,
 * peerlink.c); one core answers a request with a signed attestation of the asker's nonce and
 * counts what it refuses, writing no audit record for it. The environment (timecore_env) is
 * all the core sees of the host: no runtime, no plugins. */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>
#include <glib.h>

#include "listeners-internal.h"
#include "orchestrator-internal.h"
#include "testutil.h"
#include "timecore-internal.h"
#include "util-internal.h"

#define NODES 4

/* What one fake host saw: its rounds (decoded as the stages would), audits and refusals. */
struct fake_host {
	struct timecore *core;
	struct orchestrator *orch;
	struct listener_set listeners;
	struct conf *conf;
	EVP_PKEY *key;
	unsigned rounds;       /* rounds of its own ingested */
	unsigned full_rounds;  /* ... with an observation of every authority, none refused */
	GString *audit_log;    /* every audit record: TYPE FIELDS lines */
	unsigned refusals;     /* every refusal counted */
	unsigned late;	       /* ... of them answers later than their round (load) */
	char last_refusal[64]; /* its reason */
};

static void fake_audit(void *arg, const char *type, const char *fields)
{
	struct fake_host *h = arg;

	if (h->audit_log == NULL)
		h->audit_log = g_string_new(NULL);
	g_string_append_printf(h->audit_log, "%s %s\n", type, fields);
}

static void fake_refused(void *arg, const char *what, const char *reason, const char *peer)
{
	struct fake_host *h = arg;

	(void)what;
	(void)peer;
	h->refusals++;
	if (strcmp(reason, "answer_too_old") == 0)
		h->late++;
	snprintf(h->last_refusal, sizeof(h->last_refusal), "%s", reason);
}

static int fake_service_find(void *arg, const char *name, const void **ops, void **state)
{
	(void)arg;
	(void)name;
	(void)ops;
	(void)state;
	return -ENOENT; /* no stage publishes a service here */
}

/* The recording stage: decodes each of its node's rounds against the configured sources. */
static int record_round(void *state, const struct quorum_event *event, const char **reason)
{
	struct fake_host *h = state;
	struct round_view *view;
	const char *why = NULL;
	int full = 1;

	if (strcmp(event->state->event_id, QUORUM_EVENT_SYNC_ROUND) != 0 ||
	    strcmp(event->source, "timecore") != 0)
		return QUORUM_CONTINUE;
	g_assert_cmpint(timecore_round_decode(h->core, &event->state->payload, &view, &why), ==,
			0);
	g_assert_true(view->round.local);
	h->rounds++;
	if (view->round.observation_count != NODES || view->round.rejected_count != 0)
		full = 0;
	for (size_t i = 0; i < view->round.observation_count; i++) {
		if (view->round.observations[i].problem != NULL)
			full = 0;
	}
	h->full_rounds += (unsigned)full;
	round_view_free(view);
	*reason = NULL;
	return QUORUM_CONTINUE;
}

static const struct quorum_stage_ops record_ops = {
	.size = sizeof(struct quorum_stage_ops),
	.process = record_round,
};

/* A free UDP port on 127.0.0.1 (the kernel's pick; closed again at once). */
static unsigned free_udp_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpint(bind(fd, (struct sockaddr *)&a, sizeof(a)), ==, 0);
	g_assert_cmpint(getsockname(fd, (struct sockaddr *)&a, &len), ==, 0);
	close(fd);
	return ntohs(a.sin_port);
}

struct fixture {
	char *dir;
	struct event_base *base;
	unsigned ports[NODES];
	struct fake_host hosts[NODES];
};

/* Keys and a quorum.conf for node K of NODES, each one an authority of the others. */
static void write_node(struct fixture *f, int k, unsigned interval_ms)
{
	char name[64], why[ERRBUF_SIZE], *path;
	GString *text = g_string_new(NULL);

	g_string_append_printf(
		text,
		"node = { id = \"n%d\"; key = \"n%d.key\"; state_dir = \"s%d\"; };\n"
		"trusted_plugin_keys = [ \"k.pub\" ];\n"
		"peer_link = { address = \"127.0.0.1\"; port = %u; };\n"
		"authority = { radius_ns = 1000; kernel_status = false; };\n"
		"rounds = { interval_ms = %u; timeout_ms = %u; };\n"
		"authorities = (\n",
		k, k, k, f->ports[k - 1], interval_ms, interval_ms / 2);
	for (int i = 1; i <= NODES; i++)
		g_string_append_printf(text,
				       "%s { id = \"n%d\"; address = \"127.0.0.1\"; port = %u; "
				       "key = \"n%d.pub\"; }\n",
				       i > 1 ? "," : "", i, f->ports[i - 1], i);
	g_string_append(text, ");\n");
	snprintf(name, sizeof(name), "n%d.conf", k);
	path = testutil_write(f->dir, name, text->str, 0644);
	g_assert_cmpint(conf_load(path, f->dir, &f->hosts[k - 1].conf, why, sizeof(why)), ==,
			0);
	g_free(path);
	g_string_free(text, TRUE);
}

static void fixture_setup(struct fixture *f, gconstpointer data)
{
	char why[ERRBUF_SIZE];

	(void)data;
	f->dir = testutil_scratch_new();
	f->base = event_base_new();
	g_free(testutil_write(f->dir, "k.pub", "unused", 0644));
	for (int k = 1; k <= NODES; k++) {
		char *priv, *pub, name[32];

		f->ports[k - 1] = free_udp_port();
		f->hosts[k - 1].key = key_generate();
		snprintf(name, sizeof(name), "n%d.key", k);
		priv = testutil_path(f->dir, name);
		snprintf(name, sizeof(name), "n%d.pub", k);
		pub = testutil_path(f->dir, name);
		g_assert_cmpint(
			key_save_private(f->hosts[k - 1].key, priv, 0, why, sizeof(why)), ==,
			0);
		g_assert_cmpint(key_save_public(f->hosts[k - 1].key, pub, 0, why, sizeof(why)),
				==, 0);
		g_free(priv);
		g_free(pub);
	}
	for (int k = 1; k <= NODES; k++)
		write_node(f, k, 100);
}

/* Starts node K's core in its fake host. */
static void start_core(struct fixture *f, int k)
{
	struct fake_host *h = &f->hosts[k - 1];
	struct orchestrator_stage stage = { .name = "recorder",
					    .role = QUORUM_ROLE_CONVERGENCE,
					    .ops = &record_ops,
					    .state = h };
	struct timecore_env env;
	char why[ERRBUF_SIZE] = "";

	h->orch = orchestrator_new(fake_audit, h);
	g_assert_nonnull(h->orch);
	orchestrator_set_refused(h->orch, fake_refused, h);
	g_assert_cmpint(orchestrator_add_stage(h->orch, &stage), ==, 0);
	env = (struct timecore_env){ .base = f->base,
				     .conf = h->conf,
				     .node_key = h->key,
				     .orch = h->orch,
				     .listeners = &h->listeners,
				     .host = h,
				     .audit = fake_audit,
				     .refused = fake_refused,
				     .service_find = fake_service_find };
	if (timecore_start(&env, &h->core, why, sizeof(why)) != 0)
		g_error("timecore_start: %s", why);
}

static void fixture_teardown(struct fixture *f, gconstpointer data)
{
	(void)data;
	for (int k = 0; k < NODES; k++) {
		timecore_stop(f->hosts[k].core);
		orchestrator_free(f->hosts[k].orch);
		conf_unref(f->hosts[k].conf);
		EVP_PKEY_free(f->hosts[k].key);
		if (f->hosts[k].audit_log != NULL)
			g_string_free(f->hosts[k].audit_log, TRUE);
	}
	event_base_free(f->base);
	testutil_scratch_free(f->dir);
}

static void run_loop_ms(struct event_base *base, unsigned ms)
{
	struct timeval tv = { .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 };

	event_base_loopexit(base, &tv);
	event_base_dispatch(base);
}

/* Four cores ask each other every 100 ms: each ingests its own rounds, with a verified
 * observation of every authority (itself included), and refuses nothing. */
static void test_four_cores_agree_on_rounds(struct fixture *f, gconstpointer data)
{
	(void)data;
	for (int k = 1; k <= NODES; k++)
		start_core(f, k);
	/* Up to 10 s on a busy machine; 4 full rounds each are enough. */
	for (int i = 0; i < 100; i++) {
		int done = 1;

		run_loop_ms(f->base, 100);
		for (int k = 0; k < NODES; k++)
			done &= f->hosts[k].full_rounds >= 4;
		if (done)
			break;
	}
	for (int k = 0; k < NODES; k++) {
		struct fake_host *h = &f->hosts[k];

		g_test_message("n%d: %u rounds, %u full, %u refusals (%u late: %s)", k + 1,
			       h->rounds, h->full_rounds, h->refusals, h->late,
			       h->last_refusal);
		g_assert_cmpuint(h->full_rounds, >=, 4);
		/* An answer later than its round's deadline is the machine's load, not a fault:
		 * anything else refused is. */
		g_assert_cmpuint(h->refusals - h->late, ==, 0);
	}
}

/* One core answers a padded request with an attestation of the asker's nonce, signed by its
 * key; garbage and a request too short to be answered (it would amplify) are refused,
 * counted, never audited. */
static void test_answers_and_counts_refusals(struct fixture *f, gconstpointer data)
{
	static const uint8_t nonce[QUORUM_NONCE_LEN] = { 9, 8, 7, 6, 5, 4, 3, 2 };
	struct sockaddr_in to = { .sin_family = AF_INET,
				  .sin_port = htons((uint16_t)f->ports[0]),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct fake_host *h = &f->hosts[0];
	char id[KEY_ID_HEX_LEN + 1];
	uint8_t buf[2048];
	struct timeval tv = { .tv_sec = 0, .tv_usec = 100000 };
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct datagram d;
	struct attestation a;
	const char *reason = NULL;
	ssize_t n = -1;
	int len;

	(void)data;
	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpint(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), ==, 0);
	struct sockaddr_in me;
	socklen_t me_len = sizeof(me);
	char me_text[32];

	g_assert_cmpint(
		bind(fd,
		     (struct sockaddr *)&(struct sockaddr_in){
			     .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) },
		     sizeof(me)),
		==, 0);
	g_assert_cmpint(getsockname(fd, (struct sockaddr *)&me, &me_len), ==, 0);
	snprintf(me_text, sizeof(me_text), "127.0.0.1:%u", ntohs(me.sin_port));
	start_core(f, 1); /* n2-n4 are not running: its own rounds fail, it still answers */

	/* garbage */
	g_assert_cmpint(sendto(fd, "not a datagram", 14, 0, (struct sockaddr *)&to, sizeof(to)),
			==, 14);
	run_loop_ms(f->base, 50);
	g_assert_cmpuint(h->refusals, ==, 1);
	g_assert_cmpint(recv(fd, buf, sizeof(buf), MSG_DONTWAIT), <, 0);

	/* unpadded: shorter than the answer would be */
	len = datagram_encode_request(nonce, "tester", 0, buf, sizeof(buf));
	g_assert_cmpint(len, >, 0);
	g_assert_cmpint(sendto(fd, buf, (size_t)len, 0, (struct sockaddr *)&to, sizeof(to)), ==,
			len);
	run_loop_ms(f->base, 50);
	g_assert_cmpuint(h->refusals, ==, 2);
	g_assert_cmpint(recv(fd, buf, sizeof(buf), MSG_DONTWAIT), <, 0);

	/* padded to the longest answer: answered */
	len = datagram_encode_request(nonce, "tester", attestation_response_max_len("n1"), buf,
				      sizeof(buf));
	g_assert_cmpint(len, >, 0);
	g_assert_cmpint(sendto(fd, buf, (size_t)len, 0, (struct sockaddr *)&to, sizeof(to)), ==,
			len);
	for (int i = 0; i < 50 && n < 0; i++) {
		run_loop_ms(f->base, 20);
		n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
	}
	g_assert_cmpint(n, >, 0);
	g_assert_cmpint(n, <=, len); /* never longer than the request */
	g_assert_cmpint(datagram_decode(buf, (size_t)n, &d, &reason), ==, 0);
	g_assert_cmpint(d.kind, ==, DATAGRAM_TIME_RESPONSE);
	g_assert_cmpint(attestation_decode(d.message->time_response, &a, &reason), ==, 0);
	key_id(h->key, id);
	g_assert_null(attestation_check(&a, "n1", id, h->key));
	g_assert_cmpmem(a.fields.nonce.data, a.fields.nonce.len, nonce, sizeof(nonce));
	attestation_release(&a);
	datagram_release(&d);
	g_assert_cmpuint(h->refusals, ==, 2);
	/* refusals are counted, never audited one by one: no record names the tester */
	g_assert_true(h->audit_log == NULL || strstr(h->audit_log->str, me_text) == NULL);
	close(fd);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add("/timecore/rounds/four-cores-ask-each-other-and-ingest", struct fixture,
		   NULL, fixture_setup, test_four_cores_agree_on_rounds, fixture_teardown);
	g_test_add("/timecore/answer/answers-padded-requests-counts-refusals", struct fixture,
		   NULL, fixture_setup, test_answers_and_counts_refusals, fixture_teardown);
	return g_test_run();
}
