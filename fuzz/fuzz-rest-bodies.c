/* fuzz-rest-bodies.c -- libFuzzer target: the JSON and text bodies the REST transport and
 * the control stage take from clients. Each input goes to every parser: POST
 * /time/shared-state's body (shared_body_parse, plugins/transports/rest/sharedstate-body.c),
 * each operator command's payload (command_decode, plugins/stages/control/commands.c; a
 * recovery epoch's checkpoint then as control.c reads it), and a leader's canonical
 * shared-state text (sharedstate_decode, plugins/stages/control/sharedstate.c).
 * Properties: the canonical text the REST side derives from a valid body decodes at the
 * control stage to the same fields, and a decoded text is written back byte for byte. */
#include "config.h"

#include <math.h>
#include <string.h>

#include "commands.h"
#include "fuzz.h"
#include "note.h"
#include "sharedstate-body.h"
#include "sharedstate.h"

static int same_fields(const struct quorum_shared_state_fields *a,
		       const struct quorum_shared_state_fields *b)
{
	return strcmp(a->leader_id, b->leader_id) == 0 && strcmp(a->key_id, b->key_id) == 0 &&
	       a->monotonic_version == b->monotonic_version &&
	       a->shared_agreed_time == b->shared_agreed_time &&
	       a->shared_applied_drift == b->shared_applied_drift &&
	       a->leader_system_time_at_sync == b->leader_system_time_at_sync &&
	       (a->warp_score == b->warp_score ||
		(isnan(a->warp_score) && isnan(b->warp_score)));
}

static void shared_state_body(const uint8_t *data, size_t size)
{
	struct shared_body body;
	struct quorum_shared_state_fields back;
	const char *message = NULL;

	if (shared_body_parse(data, size, &body, &message) != 0) {
		FUZZ_ASSERT(message != NULL);
		return;
	}
	FUZZ_ASSERT(body.text_len < sizeof(body.text) && body.text[body.text_len] == '\0');
	FUZZ_ASSERT(sharedstate_decode(body.text, body.text_len, &back) == 0);
	FUZZ_ASSERT(same_fields(&body.fields, &back));
}

static void commands(const uint8_t *data, size_t size)
{
	static const enum command_kind kinds[] = {
		COMMAND_SET_MODE,	COMMAND_HITL_APPROVE,	COMMAND_HITL_REJECT,
		COMMAND_RECOVERY_BEGIN, COMMAND_RECOVERY_EPOCH, COMMAND_RECOVERY_REJOIN,
	};
	struct command cmd;

	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		const char *why = NULL;
		struct checkpoint cp;
		size_t text_len;

		if (command_decode(kinds[i], data, size, &cmd, &why) != 0) {
			FUZZ_ASSERT(why != NULL);
			continue;
		}
		FUZZ_ASSERT(strlen(cmd.reason) < sizeof(cmd.reason));
		if (kinds[i] == COMMAND_RECOVERY_EPOCH &&
		    note_text_length(cmd.checkpoint, strlen(cmd.checkpoint), &text_len) == 0)
			(void)checkpoint_parse(cmd.checkpoint, text_len, &cp, &why);
	}
}

static void shared_state_text(const uint8_t *data, size_t size)
{
	struct quorum_shared_state_fields f;
	char text[QUORUM_SHARED_STATE_TEXT_MAX];

	if (sharedstate_decode(data, size, &f) != 0)
		return;
	FUZZ_ASSERT(quorum_shared_state_format(&f, text, sizeof(text)) == (int)size);
	FUZZ_ASSERT(memcmp(text, data, size) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	shared_state_body(data, size);
	commands(data, size);
	shared_state_text(data, size);
	return 0;
}
