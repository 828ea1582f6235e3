/* fuzz-datagram.c -- libFuzzer target: the authority protocol on the peer link, bytes as a
 * node receives them on its UDP socket (datagram_decode): a time request, or a time
 * response whose signed attestation is decoded and checked (attestation_decode,
 * attestation_check with an authority's key, attestation_digest) as the time core and
 * `quorumctl attest` do; and the same bytes as a sync round's payload (round_decode), the
 * other protocol message the time core decodes. */
#include "config.h"

#include <string.h>

#include <openssl/evp.h>

#include "fuzz.h"
#include "timecodec-internal.h"

static EVP_PKEY *authority_key; /* fixed: fuzz/make-seeds signs the seeds with it */

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const uint8_t seed[32] = { 1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11,
					  12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22,
					  23, 24, 25, 26, 27, 28, 29, 30, 31, 32 };

	authority_key =
		EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, sizeof(seed));
	return authority_key != NULL ? 0 : -1;
}

static int lookup(void *arg, const char *id, const char *claimed_key_id,
		  const uint8_t digest[SHA256_DIGEST_LENGTH], uint32_t *type,
		  const char **key_id, EVP_PKEY **key, int *verified)
{
	*verified = 0;
	*key = NULL;
	*key_id = "";
	if (strcmp(id, "ntp-1") == 0) {
		*type = QUORUM_AUTHORITY_NTP;
		return 0;
	}
	if (strncmp(id, "node-", 5) != 0)
		return -ENOENT;
	*type = QUORUM_AUTHORITY_QUORUMD;
	*key_id = claimed_key_id != NULL ? claimed_key_id : "";
	*key = authority_key;
	*verified = id[5] == '1'; /* this node's own round: verified already */
	return 0;
}

static void response(const Uml001__SignedState *state)
{
	struct attestation a;
	const char *reason = NULL;
	uint8_t digest[SHA256_DIGEST_LENGTH];

	if (attestation_decode(state, &a, &reason) != 0) {
		FUZZ_ASSERT(reason != NULL);
		return;
	}
	FUZZ_ASSERT(a.fields.nonce.len == QUORUM_NONCE_LEN);
	/* The seeds are signed with the fixed key, so both outcomes are reached. */
	attestation_check(&a, a.fields.authority_id, a.fields.key_id, authority_key);
	FUZZ_ASSERT(attestation_digest(state, digest) == 0);
	attestation_release(&a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct datagram d;
	const char *reason = NULL;
	struct quorum_bytes payload = { data, size };
	struct round_view *round = NULL;

	if (datagram_decode(data, size, &d, &reason) == 0) {
		if (d.kind == DATAGRAM_TIME_RESPONSE)
			response(d.message->time_response);
		else if (d.kind == DATAGRAM_GOSSIP)
			FUZZ_ASSERT(d.message != NULL && d.message->gossip != NULL &&
				    size <= GOSSIP_DATAGRAM_MAX);
		else
			FUZZ_ASSERT(d.kind == DATAGRAM_TIME_REQUEST &&
				    strlen(d.asker_id) <= QUORUM_NODE_ID_MAX);
		datagram_release(&d);
	} else {
		FUZZ_ASSERT(reason != NULL && d.message == NULL);
	}
	if (round_decode(&payload, "node-1", lookup, NULL, &round, &reason) == 0) {
		for (size_t i = 0; i < round->round.observation_count; i++)
			FUZZ_ASSERT(round->round.observations[i].source_id != NULL);
		round_view_free(round);
	}
	return 0;
}
