/* quorumctl-control.c -- `quorumctl control ...`: builds an operator's control event (the
 * reference's uml001.control.* ids), signs it with the operator's Ed25519 key and writes
 * the encoded SignedState, ready to be posted to a node (REST POST /v1/events). The node's
 * control stage obeys it only when the key is one of its configured operators. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "envelope-internal.h"
#include "keys-internal.h"
#include "quorumctl-control.h"
#include "timecodec-internal.h"
#include "util-internal.h"
#include "clocks.h"

static const struct {
	const char *command;
	const char *event_id;
	const char *field; /* the payload's required field, or NULL */
} commands[] = {
	{ "set-mode", "uml001.control.set_mode", "mode" },
	{ "hitl-approve", "uml001.control.hitl.approve", "hold_id" },
	{ "hitl-reject", "uml001.control.hitl.reject", "hold_id" },
	{ "recovery-begin", "uml001.control.recovery.begin", NULL },
	{ "recovery-epoch", "uml001.control.recovery.epoch_verified", "checkpoint" },
	{ "recovery-rejoin", "uml001.control.recovery.rejoin", NULL },
};

static void control_usage(FILE *out)
{
	fprintf(out,
		"Usage: quorumctl control COMMAND --key OPERATOR.key [--reason TEXT] [--out "
		"FILE]\n"
		"  set-mode --mode MODE          COLD_START, QUORUM_ACTIVE, DEGRADED, "
		"ISOLATED,\n"
		"                                RECOVERY or HITL_HOLD\n"
		"  hitl-approve --hold-id ID     let the held step (hitl.hold in the log) "
		"commit\n"
		"  hitl-reject --hold-id ID      refuse it\n"
		"  recovery-begin                ISOLATED/DEGRADED/... -> RECOVERY\n"
		"  recovery-epoch --checkpoint FILE\n"
		"                                another authority's signed checkpoint (its\n"
		"                                GET /v1/checkpoint) as the epoch to rejoin "
		"at\n"
		"  recovery-rejoin               RECOVERY -> QUORUM_ACTIVE once the epoch is\n"
		"                                verified and a fresh agreement followed it\n"
		"Writes the signed event (an encoded uml001.SignedState) to FILE or stdout; "
		"post it\n"
		"with: curl --data-binary @FILE http://NODE:8080/v1/events\n");
}

static char *read_text(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	size_t n;

	if (f == NULL)
		return NULL;
	buf = malloc(8192);
	n = buf != NULL ? fread(buf, 1, 8191, f) : 0;
	if (buf != NULL && (ferror(f) || !feof(f))) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	if (buf != NULL)
		buf[n] = '\0';
	return buf;
}

int cmd_control(int argc, char **argv)
{
	static const struct option options[] = {
		{ "key", required_argument, NULL, 'k' },
		{ "mode", required_argument, NULL, 'm' },
		{ "hold-id", required_argument, NULL, 'i' },
		{ "checkpoint", required_argument, NULL, 'c' },
		{ "reason", required_argument, NULL, 'r' },
		{ "out", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *key_path = NULL, *value = NULL, *reason = NULL, *out_path = NULL;
	const char *checkpoint_path = NULL;
	struct quorum_signed_state view = { 0 };
	struct envelope *env = NULL;
	uint8_t sig[KEY_SIGNATURE_LEN];
	char kid[KEY_ID_HEX_LEN + 1], why[512], *payload = NULL, *checkpoint = NULL;
	const char *bad = NULL;
	EVP_PKEY *key = NULL;
	json_t *doc = NULL;
	size_t which;
	FILE *out = stdout;
	int opt, status = 1;

	if (argc < 2 || strcmp(argv[1], "--help") == 0) {
		control_usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	for (which = 0; which < sizeof(commands) / sizeof(commands[0]); which++)
		if (strcmp(argv[1], commands[which].command) == 0)
			break;
	if (which == sizeof(commands) / sizeof(commands[0])) {
		fprintf(stderr, "quorumctl control: unknown command '%s'\n", argv[1]);
		control_usage(stderr);
		return 2;
	}
	argc--;
	argv++;
	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		switch (opt) {
		case 'k':
			key_path = optarg;
			break;
		case 'm':
		case 'i':
			value = optarg;
			break;
		case 'c':
			checkpoint_path = optarg;
			break;
		case 'r':
			reason = optarg;
			break;
		case 'o':
			out_path = optarg;
			break;
		case 'h':
			control_usage(stdout);
			return 0;
		default:
			control_usage(stderr);
			return 2;
		}
	}
	if (key_path == NULL || optind != argc) {
		control_usage(stderr);
		return 2;
	}
	if (commands[which].field != NULL && value == NULL && checkpoint_path == NULL) {
		fprintf(stderr, "quorumctl control %s: --%s is required\n",
			commands[which].command,
			strcmp(commands[which].field, "hold_id") == 0 ? "hold-id"
								      : commands[which].field);
		return 2;
	}
	if (key_load_private(key_path, &key, why, sizeof(why)) != 0 || key_id(key, kid) != 0) {
		fprintf(stderr, "quorumctl control: %s\n", why);
		goto out;
	}
	doc = json_object();
	if (reason != NULL)
		json_object_set_new(doc, "reason", json_string(reason));
	if (checkpoint_path != NULL) {
		checkpoint = read_text(checkpoint_path);
		if (checkpoint == NULL) {
			fprintf(stderr, "quorumctl control: %s: cannot read (or over 8 KiB)\n",
				checkpoint_path);
			goto out;
		}
		json_object_set_new(doc, "checkpoint", json_string(checkpoint));
	} else if (commands[which].field != NULL) {
		json_object_set_new(doc, commands[which].field, json_string(value));
	}
	payload = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS);
	if (payload == NULL) {
		fprintf(stderr, "quorumctl control: cannot encode the payload (not UTF-8?)\n");
		goto out;
	}
	view.logical_time_ns = (uint64_t)realtime_now_ns();
	view.event_id = commands[which].event_id;
	view.key_id = kid;
	view.payload.data = (const uint8_t *)payload;
	view.payload.len = strlen(payload);
	if (signed_state_sign(key, &view, sig) != 0 ||
	    (env = envelope_build(&view, &bad)) == NULL) {
		fprintf(stderr, "quorumctl control: cannot build the event: %s\n",
			bad != NULL ? bad : "signing failed");
		goto out;
	}
	if (out_path != NULL && (out = fopen(out_path, "wb")) == NULL) {
		fprintf(stderr, "quorumctl control: %s: %s\n", out_path, strerror(errno));
		goto out;
	}
	if (fwrite(env->encoded, 1, env->encoded_len, out) != env->encoded_len ||
	    fflush(out) != 0) {
		fprintf(stderr, "quorumctl control: write failed: %s\n", strerror(errno));
		goto out;
	}
	fprintf(stderr, "quorumctl control: %s signed by key %s (%zu bytes)\n",
		commands[which].event_id, kid, env->encoded_len);
	status = 0;
out:
	if (out != stdout && out != NULL)
		fclose(out);
	envelope_free(env);
	free(payload);
	free(checkpoint);
	json_decref(doc);
	EVP_PKEY_free(key);
	return status;
}
