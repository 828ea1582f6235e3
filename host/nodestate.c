/* nodestate.c -- the node's state across restarts: the authority sequence lease, the last
 * sequence accepted from each source, the last agreement served. Signed with the node key,
 * written atomically; a corrupt or forged file stops the daemon instead of being trusted. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "protodecode-internal.h"
#include "state.pb-c.h"
#include "timecore-internal.h"
#include "util-internal.h"

#define NODESTATE_DOMAIN   "quorum-node-state-v1"
#define NODESTATE_FILE_MAX (1u << 20)

/* The signed message: domain, NUL, then the encoded state. */
static uint8_t *nodestate_message(const uint8_t *state, size_t len, size_t *out_len)
{
	uint8_t *msg = malloc(sizeof(NODESTATE_DOMAIN) + len);

	if (msg == NULL)
		return NULL;
	memcpy(msg, NODESTATE_DOMAIN, sizeof(NODESTATE_DOMAIN));
	if (len > 0)
		memcpy(msg + sizeof(NODESTATE_DOMAIN), state, len);
	*out_len = sizeof(NODESTATE_DOMAIN) + len;
	return msg;
}

int nodestate_load(struct nodestate *state, const char *state_dir, const char *node_id,
		   EVP_PKEY *key, struct authority_table *authorities, char *why,
		   size_t why_size)
{
	char path[PATH_MAX], id[KEY_ID_HEX_LEN + 1], detail[ERRBUF_SIZE];
	Uml001__SignedNodeState *signed_state = NULL;
	Uml001__NodeState *s = NULL;
	uint8_t *data = NULL, *msg = NULL;
	const char *reason = NULL;
	size_t len, msg_len;
	int err;

	memset(state, 0, sizeof(*state));
	if (snprintf(path, sizeof(path), "%s/node.state", state_dir) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	state->path = strdup(path);
	if (state->path == NULL)
		return -ENOMEM;
	if (mkdir(state_dir, 0700) != 0 && errno != EEXIST) {
		err = -errno;
		errbuf_set(why, why_size, "cannot create state folder %s: %s", state_dir,
			   strerror(errno));
		return err;
	}
	err = file_read_checked(path, NODESTATE_FILE_MAX, FILE_CHECK_NOT_GROUP_WRITABLE, &data,
				&len, detail, sizeof(detail));
	if (err == -ENOENT)
		return 0; /* a fresh start */
	if (err != 0) {
		errbuf_set(why, why_size, "state file: %s", detail);
		return err;
	}
	err = -EINVAL;
	signed_state = (Uml001__SignedNodeState *)proto_decode_strict(
		&uml001__signed_node_state__descriptor, data, len, "state", &reason);
	if (signed_state == NULL)
		goto out_bad;
	key_id(key, id);
	msg = nodestate_message(signed_state->state.data, signed_state->state.len, &msg_len);
	if (msg == NULL) {
		err = -ENOMEM;
		goto out_free;
	}
	if (strcmp(signed_state->key_id, id) != 0 ||
	    key_verify(key, msg, msg_len, signed_state->signature.data,
		       signed_state->signature.len) != 0) {
		reason = "not signed by this node's key";
		goto out_bad;
	}
	s = (Uml001__NodeState *)proto_decode_strict(&uml001__node_state__descriptor,
						     signed_state->state.data,
						     signed_state->state.len, "state", &reason);
	if (s == NULL)
		goto out_bad;
	if (strcmp(s->node_id, node_id) != 0) {
		reason = "written by another node id";
		goto out_bad;
	}
	state->sequence_lease = s->sequence_lease;
	state->has_agreement = s->has_agreement;
	state->last_round = s->last_round;
	state->last_estimate_ns = s->last_estimate_ns;
	state->last_error_ns = s->last_error_ns;
	state->last_drift_ns = s->last_drift_ns;
	for (size_t i = 0; i < s->n_sequences; i++) {
		struct authority *a = authorities_find(authorities, s->sequences[i]->id);

		if (a != NULL)
			a->last_sequence = s->sequences[i]->sequence;
	}
	err = 0;
	goto out_free;
out_bad:
	errbuf_set(why, why_size, "state file %s is invalid (%s); remove it to start afresh",
		   path, reason);
out_free:
	if (s != NULL)
		uml001__node_state__free_unpacked(s, NULL);
	if (signed_state != NULL)
		uml001__signed_node_state__free_unpacked(signed_state, NULL);
	free(msg);
	free(data);
	return err;
}

int nodestate_save(const struct nodestate *state, const char *node_id, EVP_PKEY *key,
		   const struct authority_table *authorities, char *why, size_t why_size)
{
	Uml001__NodeState s = UML001__NODE_STATE__INIT;
	Uml001__SignedNodeState signed_state = UML001__SIGNED_NODE_STATE__INIT;
	Uml001__SourceSequence *items = calloc(authorities->count + 1, sizeof(*items));
	Uml001__SourceSequence **list = calloc(authorities->count + 1, sizeof(*list));
	uint8_t *encoded = NULL, *msg = NULL, *file = NULL, sig[KEY_SIGNATURE_LEN];
	size_t encoded_len, msg_len, file_len;
	char id[KEY_ID_HEX_LEN + 1];
	int err = -ENOMEM;

	if (items == NULL || list == NULL)
		goto out_free;
	s.node_id = (char *)node_id;
	s.sequence_lease = state->sequence_lease;
	s.has_agreement = state->has_agreement != 0;
	s.last_round = state->last_round;
	s.last_estimate_ns = state->last_estimate_ns;
	s.last_error_ns = state->last_error_ns;
	s.last_drift_ns = state->last_drift_ns;
	for (size_t i = 0; i < authorities->count; i++) {
		if (authorities->items[i].last_sequence == 0)
			continue;
		uml001__source_sequence__init(&items[s.n_sequences]);
		items[s.n_sequences].id = (char *)authorities->items[i].id;
		items[s.n_sequences].sequence = authorities->items[i].last_sequence;
		list[s.n_sequences] = &items[s.n_sequences];
		s.n_sequences++;
	}
	s.sequences = list;
	if (proto_encode(&s.base, &encoded, &encoded_len) != 0)
		goto out_free;
	msg = nodestate_message(encoded, encoded_len, &msg_len);
	if (msg == NULL)
		goto out_free;
	key_id(key, id);
	err = key_sign(key, msg, msg_len, sig);
	if (err != 0) {
		errbuf_set(why, why_size, "cannot sign the state");
		goto out_free;
	}
	signed_state.state.data = encoded;
	signed_state.state.len = encoded_len;
	signed_state.key_id = id;
	signed_state.signature.data = sig;
	signed_state.signature.len = sizeof(sig);
	err = proto_encode(&signed_state.base, &file, &file_len);
	if (err != 0)
		goto out_free;
	/* Replaced atomically: a temporary file, fsync, rename, fsync of the folder. */
	err = file_write_new(state->path, file, file_len, 0600, 1, why, why_size);
out_free:
	if (err == -ENOMEM)
		errbuf_set(why, why_size, "out of memory saving the state");
	free(file);
	free(msg);
	free(encoded);
	free(list);
	free(items);
	return err;
}

void nodestate_release(struct nodestate *state)
{
	free(state->path);
	memset(state, 0, sizeof(*state));
}
