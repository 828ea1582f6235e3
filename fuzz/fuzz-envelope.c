/* fuzz-envelope.c -- libFuzzer target: an encoded uml001.SignedState as POST /v1/events and
 * every ingest_encoded caller hand it to the host (envelope_decode), then the payload codec
 * its event id names: an attestation (attestation_decode), a served time
 * (served_time_decode), a sync round (round_decode). Properties: a decoded envelope is its
 * own canonical encoding, and envelope_build gives back exactly the same bytes (but for
 * gossip's sent_to, which the view does not carry: then the same signed bytes). */
#include "config.h"

#include <string.h>

#include "envelope-internal.h"
#include "fuzz.h"
#include "timecodec-internal.h"

/* The configured sources of the round decoder: four quorumd authorities and an NTP one.
 * No key: signatures are the datagram target's business, the decoding is ours. */
static int lookup(void *arg, const char *id, const char *claimed_key_id,
		  const uint8_t digest[SHA256_DIGEST_LENGTH], uint32_t *type,
		  const char **key_id, EVP_PKEY **key, int *verified)
{
	static const char *const quorumd[] = { "node-1", "node-2", "node-3", "node-4" };

	*key = NULL;
	*verified = 0;
	if (strcmp(id, "ntp-1") == 0) {
		*type = QUORUM_AUTHORITY_NTP;
		*key_id = "";
		return 0;
	}
	for (size_t i = 0; i < sizeof(quorumd) / sizeof(quorumd[0]); i++) {
		if (strcmp(id, quorumd[i]) == 0) {
			*type = QUORUM_AUTHORITY_QUORUMD;
			*key_id = claimed_key_id != NULL ? claimed_key_id : "";
			return 0;
		}
	}
	return -ENOENT;
}

static void payload_codecs(struct envelope *e)
{
	const char *reason = NULL;
	struct attestation a;
	Uml001__ServedTime *t = NULL;
	struct round_view *round = NULL;

	if (attestation_decode(e->message, &a, &reason) == 0) {
		FUZZ_ASSERT(strcmp(e->view.event_id, QUORUM_EVENT_ATTESTATION) == 0);
		FUZZ_ASSERT(attestation_check(&a, a.fields.authority_id, a.fields.key_id,
					      NULL) == NULL);
		attestation_release(&a);
	} else {
		FUZZ_ASSERT(reason != NULL);
	}
	if (served_time_decode(e->message, &t, &reason) == 0) {
		FUZZ_ASSERT(t->earliest_ns <= t->estimate_ns && t->estimate_ns <= t->latest_ns);
		uml001__served_time__free_unpacked(t, NULL);
	}
	if (strcmp(e->view.event_id, QUORUM_EVENT_SYNC_ROUND) == 0 &&
	    round_decode(&e->view.payload, "node-1", lookup, NULL, &round, &reason) == 0)
		round_view_free(round);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *reason = NULL;
	struct envelope *e = envelope_decode(data, size, &reason), *rebuilt;
	uint8_t *message;
	size_t message_len;

	if (e == NULL) {
		FUZZ_ASSERT(reason != NULL);
		return 0;
	}
	FUZZ_ASSERT(e->encoded_len == size && memcmp(e->encoded, data, size) == 0);
	rebuilt = envelope_build(&e->view, &reason);
	FUZZ_ASSERT(rebuilt != NULL);
	if (e->message->gossip != NULL && e->message->gossip->n_sent_to > 0) {
		/* sent_to is the relays' bookkeeping (the gossip stage reads it from the
		 * encoding), not part of the plugins' view (struct quorum_gossip, fixed by the
		 * ABI): a rebuild from the view drops it and keeps every signed byte. */
		uint8_t *again;
		size_t again_len;

		FUZZ_ASSERT(rebuilt->message->gossip != NULL &&
			    rebuilt->message->gossip->n_sent_to == 0);
		FUZZ_ASSERT(signed_state_message(&e->view, &message, &message_len) == 0);
		FUZZ_ASSERT(signed_state_message(&rebuilt->view, &again, &again_len) == 0);
		FUZZ_ASSERT(again_len == message_len &&
			    memcmp(again, message, message_len) == 0);
		free(again);
		free(message);
	} else {
		FUZZ_ASSERT(rebuilt->encoded_len == size &&
			    memcmp(rebuilt->encoded, data, size) == 0);
		if (signed_state_message(&e->view, &message, &message_len) == 0)
			free(message);
	}
	envelope_free(rebuilt);
	payload_codecs(e);
	envelope_free(e);
	return 0;
}
