/* commands.h -- control events: the operator commands of the reference (set_mode, HITL
 * approve and reject, recovery begin / epoch_verified / rejoin), their payloads decoded
 * strictly, and the operator keys that must have signed them. No I/O but reading the keys;
 * control.c applies what these functions decode. */
#ifndef QUORUM_CONTROL_COMMANDS_H
#define QUORUM_CONTROL_COMMANDS_H

#include <stddef.h>
#include <stdint.h>

#include <quorum/event.h>

/* The reference's event ids. */
#define CONTROL_EVENT_SET_MODE	      "uml001.control.set_mode"
#define CONTROL_EVENT_HITL_APPROVE    "uml001.control.hitl.approve"
#define CONTROL_EVENT_HITL_REJECT     "uml001.control.hitl.reject"
#define CONTROL_EVENT_RECOVERY_BEGIN  "uml001.control.recovery.begin"
#define CONTROL_EVENT_RECOVERY_EPOCH  "uml001.control.recovery.epoch_verified"
#define CONTROL_EVENT_RECOVERY_REJOIN "uml001.control.recovery.rejoin"

enum command_kind {
	COMMAND_NONE = 0, /* not a control event */
	COMMAND_SET_MODE,
	COMMAND_HITL_APPROVE,
	COMMAND_HITL_REJECT,
	COMMAND_RECOVERY_BEGIN,
	COMMAND_RECOVERY_EPOCH,
	COMMAND_RECOVERY_REJOIN,
};

#define COMMAND_REASON_MAX     128
#define COMMAND_HOLD_ID_LEN    16 /* hex characters */
#define COMMAND_CHECKPOINT_MAX 4096

/* A decoded command. Strings are NUL-terminated copies. */
struct command {
	enum command_kind kind;
	uint32_t mode;				 /* SET_MODE: enum quorum_mode */
	char hold_id[COMMAND_HOLD_ID_LEN + 1];	 /* HITL_APPROVE / HITL_REJECT */
	char checkpoint[COMMAND_CHECKPOINT_MAX]; /* RECOVERY_EPOCH: a C2SP signed note */
	char reason[COMMAND_REASON_MAX];	 /* the operator's words; "" when absent */
};

/* The command EVENT_ID names, or COMMAND_NONE. */
enum command_kind command_kind_of(const char *event_id);

/* command_decode: the JSON payload of a KIND event into *OUT. Strict: an object with exactly
 * the kind's fields (set_mode: "mode" required, "reason" optional; hitl.*: "hold_id"
 * required, "reason" optional; recovery.begin and rejoin: "reason" optional;
 * epoch_verified: "checkpoint" required), no other key, no duplicate key, printable ASCII
 * strings within their bounds, a mode the table knows. RETURN VALUE: 0, or -1 with *WHY
 * (static) saying what is wrong. */
int command_decode(enum command_kind kind, const uint8_t *payload, size_t len,
		   struct command *out, const char **why);

/* ---- operator keys ---- */

#define OPERATORS_MAX	    16
#define OPERATOR_KEY_ID_LEN 16 /* hex of the first 8 bytes of SHA-256 of the raw key */

struct operator_key {
	char id[QUORUM_NODE_ID_MAX + 1];
	char key_id[OPERATOR_KEY_ID_LEN + 1];
	uint8_t public_key[32];
	uint64_t last_logical_time_ns; /* newest command accepted from this key */
};

struct operators {
	struct operator_key keys[OPERATORS_MAX];
	size_t count;
};

/* operators_add: reads the Ed25519 public key at PEM_PATH (SubjectPublicKeyInfo) for the
 * operator ID. RETURN VALUE: 0, or -1 with WHY (SIZE bytes) saying what is wrong. */
int operators_add(struct operators *ops, const char *id, const char *pem_path, char *why,
		  size_t size);

/* What operators_check found. */
enum operator_verdict {
	OPERATOR_OK = 0,
	OPERATOR_UNSIGNED,    /* no signature or no key id */
	OPERATOR_UNKNOWN_KEY, /* key id of no configured operator */
	OPERATOR_BAD_SIGNATURE,
	OPERATOR_STALE,	   /* logical time outside +-MAX_AGE_NS of NOW_NS */
	OPERATOR_REPLAYED, /* not newer than the last command accepted from that key */
};

/* operators_check: whether STATE was signed by a configured operator, recently (its logical
 * time within MAX_AGE_NS of NOW_NS) and newer than any command accepted from that key. On
 * OPERATOR_OK *WHO is the operator (borrowed); operators_accept() records the command once
 * it is applied. */
enum operator_verdict operators_check(struct operators *ops,
				      const struct quorum_signed_state *state, int64_t now_ns,
				      int64_t max_age_ns, struct operator_key **who);

/* Records that WHO's command at STATE's logical time was applied (replay window). */
void operators_accept(struct operator_key *who, const struct quorum_signed_state *state);

/* A short name for V ("unsigned", "unknown_key", ...). */
const char *operator_verdict_name(enum operator_verdict v);

#endif /* QUORUM_CONTROL_COMMANDS_H */
