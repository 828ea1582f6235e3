/* passport.c -- the passport stage, first of the pipeline: is the event authentic and fresh?
 * Every event must be signed (passport_signature_missing) with a key of an authority's
 * passport, inside the key's validity window, by an authority whose passport grants what the
 * event needs, and the Ed25519 signature over the signed-state bytes must verify
 * (passport_signature_invalid, each refusal audited as passport.reject with why); an event
 * seen before is a replay (gossip_duplicate_rejected), never applied twice. Passports are
 * signed JSON documents (schemas/passport.json) from the trust root named in quorum.conf;
 * uml001.passport.update events, signed by the root, rotate an authority's keys: the keys an
 * update drops stay accepted for rotation_overlap_s. Rotations and the replay window persist
 * in state_dir. The keys are published as QUORUM_PASSPORT_SERVICE, so the host accepts an
 * authority's time answers signed with its rotated key. */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>

#include <quorum/control.h>
#include <quorum/passport.h>
#include <quorum/plugin.h>
#include <quorum/sharedstate.h>

#include "passportdoc.h"
#include "registry.h"
#include "replay.h"
#include "statefile.h"
#include "clocks.h"

#define TRUST_ROOT_FILE_MAX 16384
#define SYNC_EVERY_MS	    1000 /* the replay window's appends reach the disk this often */

#define PASSPORT_HELD_MAX 8 /* updates waiting for approval at once; the oldest goes first */

struct passport_stage {
	struct quorum_host *host;
	const struct quorum_api *api;
	EVP_PKEY *root;
	char root_key_id[PASSPORT_KEY_ID_LEN + 1];
	char state_dir[PATH_MAX];
	int64_t overlap_s;
	struct registry registry;
	struct replay_window *replay;
	struct quorum_timer *sync_timer;
	int persist_failing; /* the replay window's file could not be written (logged once) */
	uint64_t accepted, rejected, rotations;
	/* hold_updates: passport updates wait for an operator's hitl.approve */
	int hold_updates;
	struct held_update {
		char hold_id[17]; /* as the control stage names holds: SHA-256(event)[0..8] hex
				   */
		struct passport *passport;
		uint8_t fp[REPLAY_FINGERPRINT_LEN];
	} held[PASSPORT_HELD_MAX];
	size_t held_count;
};

/* Audit text: printable ASCII, no double quotes, so it fits in one quoted field. */
static void audit_text(const char *in, char *out, size_t size)
{
	size_t o = 0;

	for (; *in != '\0' && o + 1 < size; in++)
		out[o++] = *in == '"' ? '\'' : (*in < 0x20 || *in > 0x7e) ? '?' : *in;
	out[o] = '\0';
}

/* Refuses EVENT with the pipeline REASON for WHY. Nobody can be held to an event without a
 * valid signature of a known key, nor to a replay of one (anyone can resend what they saw),
 * so it is counted and summarised by the host (api->refused), not audited one by one; the
 * debug log names the authority the key belongs to, if known. */
static int refuse(struct passport_stage *s, const struct quorum_event *event, const char *why,
		  const struct passport *authority, const char *reason, const char **out)
{
	const struct quorum_signed_state *st = event->state;

	s->rejected++;
	if (QUORUM_API_HAS(s->api, refused)) {
		s->api->refused(s->host, why,
				event->peer[0] != '\0' ? event->peer : event->source);
		s->api->log(s->host, QUORUM_LOG_DEBUG,
			    "passport.reject reason=%s authority=%s key_id=%s event=%s", why,
			    authority != NULL ? authority->authority_id : "-",
			    st->key_id[0] != '\0' ? st->key_id : "-", st->event_id);
	} else {
		s->api->audit(s->host, "passport.reject",
			      "reason=%s authority=%s key_id=%s event=%s", why,
			      authority != NULL ? authority->authority_id : "-",
			      st->key_id[0] != '\0' ? st->key_id : "-", st->event_id);
	}
	*out = reason;
	return QUORUM_REJECT;
}

/* The event's fingerprint: SHA-256 of the signed bytes and the signature. 0, or -ENOMEM
 * (the event is then refused: it cannot be checked for a replay). */
static int fingerprint_of(const uint8_t *msg, size_t len, const struct quorum_bytes *sig,
			  uint8_t out[REPLAY_FINGERPRINT_LEN])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ok = ctx != NULL && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 &&
		 EVP_DigestUpdate(ctx, msg, len) == 1 &&
		 EVP_DigestUpdate(ctx, sig->data, sig->len) == 1 &&
		 EVP_DigestFinal_ex(ctx, out, NULL) == 1;

	EVP_MD_CTX_free(ctx);
	return ok ? 0 : -ENOMEM;
}

/* Remembers an accepted event's fingerprint; a file error is logged once per streak. */
static void remember(struct passport_stage *s, const uint8_t fp[REPLAY_FINGERPRINT_LEN])
{
	char why[512];

	if (replay_insert(s->replay, fp, why, sizeof(why)) != 0) {
		if (!s->persist_failing)
			s->api->log(s->host, QUORUM_LOG_ERROR,
				    "passport.replay_persist_failed error=\"%s\" "
				    "effect=window_kept_in_memory",
				    why);
		s->persist_failing = 1;
	} else if (s->persist_failing) {
		s->persist_failing = 0;
		s->api->log(s->host, QUORUM_LOG_NOTICE, "passport.replay_persist_recovered");
	}
	s->accepted++;
}

/* The time a key's window is judged at: the served time while the node is synchronised (a
 * system clock stepped by an hour must not make the node's own key "not yet valid" or
 * "expired"), else the event's arrival on the system clock (before the first agreement the
 * served clock says nothing). */
static int64_t judge_time(struct passport_stage *s, const struct quorum_event *event)
{
	struct quorum_clock_reading now;

	if (QUORUM_API_HAS(s->api, clock_read) && s->api->clock_read(s->host, &now) == 0 &&
	    now.status == QUORUM_CLOCK_SYNCHRONISED)
		return now.estimate_ns;
	return event->received_ns;
}

/* uml001.passport.update: signed by the trust root, its payload a newer passport. */
static int install_update(struct passport_stage *s, const struct quorum_event *event,
			  struct passport *p, const uint8_t fp[REPLAY_FINGERPRINT_LEN],
			  const char *hold_id, const char **reason);
static int hold_update(struct passport_stage *s, const struct quorum_event *event,
		       struct passport *p, const uint8_t fp[REPLAY_FINGERPRINT_LEN],
		       const char **reason);

static int process_update(struct passport_stage *s, const struct quorum_event *event,
			  const uint8_t *msg, size_t len, const char **reason)
{
	const struct quorum_signed_state *st = event->state;
	struct registry_match m;
	struct passport *p = NULL;
	uint8_t fp[REPLAY_FINGERPRINT_LEN];
	char why[512], text[256];
	int err;

	if (strcmp(st->key_id, s->root_key_id) != 0) {
		/* An authority's own key may not issue passports. */
		registry_lookup(&s->registry, NULL, st->key_id, judge_time(s, event), 0, &m);
		return refuse(s, event, m.key != NULL ? "capability_missing" : "unknown_key",
			      m.passport, "passport_signature_invalid", reason);
	}
	if (passport_ed25519_verify(s->root, msg, len, st->signature.data, st->signature.len) !=
	    0)
		return refuse(s, event, "bad_signature", NULL, "passport_signature_invalid",
			      reason);
	if (fingerprint_of(msg, len, &st->signature, fp) != 0) {
		*reason = "passport_out_of_memory";
		return QUORUM_REJECT;
	}
	if (replay_contains(s->replay, fp))
		return refuse(s, event, "replay", NULL, "gossip_duplicate_rejected", reason);
	err = passport_parse(st->payload.data, st->payload.len, &p, why, sizeof(why));
	if (err == 0)
		err = passport_verify(p, s->root, s->root_key_id, why, sizeof(why));
	if (err != 0) {
		audit_text(why, text, sizeof(text));
		s->api->audit(
			s->host, "passport.reject",
			"reason=%s authority=%s key_id=%s event=%s detail=\"%s\"",
			err == -EINVAL || err == -ENOMEM ? "update_invalid" : "bad_signature",
			p != NULL ? p->authority_id : "-", st->key_id, st->event_id, text);
		s->rejected++;
		passport_free(p);
		*reason = err == -EINVAL || err == -ENOMEM ? "passport_update_invalid"
							   : "passport_signature_invalid";
		return QUORUM_REJECT;
	}
	switch (registry_check_update(&s->registry, p)) {
	case REGISTRY_UPDATE_DUPLICATE:
		err = refuse(s, event, "replay", p, "gossip_duplicate_rejected", reason);
		passport_free(p);
		return err;
	case REGISTRY_UPDATE_STALE:
		/* An older update the root did sign: anyone may resend it. */
		s->api->log(s->host, QUORUM_LOG_INFO,
			    "passport.reject reason=serial_stale authority=%s serial=%" PRId64
			    " installed_serial=%" PRId64,
			    p->authority_id, p->serial,
			    registry_get(&s->registry, p->authority_id)->serial);
		err = refuse(s, event, "serial_stale", p, "passport_serial_stale", reason);
		passport_free(p);
		return err;
	case REGISTRY_UPDATE_NEWER:
		break;
	}
	if (s->hold_updates)
		return hold_update(s, event, p, fp, reason);
	return install_update(s, event, p, fp, NULL, reason);
}

/* Installs P (taken), the update whose fingerprint is FP; HOLD_ID names the operator's
 * approval it waited for, or NULL. QUORUM_CONTINUE, or QUORUM_REJECT with *REASON. */
static int install_update(struct passport_stage *s, const struct quorum_event *event,
			  struct passport *p, const uint8_t fp[REPLAY_FINGERPRINT_LEN],
			  const char *hold_id, const char **reason)
{
	const struct quorum_signed_state *st = event->state;
	struct registry_change change;
	char why[512], text[256];
	int err;

	err = registry_install(&s->registry, p, judge_time(s, event), s->state_dir, &change,
			       why, sizeof(why));
	if (err != 0) {
		/* A key of another authority, or no room for one more: the update is at fault;
		 * else writing it failed, and nothing changed. */
		int invalid = err == -EEXIST || err == -ENOSPC;

		audit_text(why, text, sizeof(text));
		s->api->audit(s->host, "passport.reject",
			      "reason=%s authority=%s key_id=%s event=%s detail=\"%s\"",
			      invalid ? "update_invalid" : "state_not_saved", p->authority_id,
			      st->key_id, st->event_id, text);
		if (!invalid)
			s->api->log(s->host, QUORUM_LOG_ERROR,
				    "passport.rotation_not_saved authority=%s error=\"%s\"",
				    p->authority_id, text);
		s->rejected++;
		passport_free(p);
		*reason = invalid ? "passport_update_invalid" : "passport_state_not_saved";
		return QUORUM_REJECT;
	}
	/* Installed: P belongs to the registry now. */
	s->rotations++;
	s->api->log(s->host, QUORUM_LOG_NOTICE,
		    "passport.rotation authority=%s serial=%" PRId64 " previous_serial=%" PRId64
		    " added=%s retired=%s overlap_s=%" PRId64,
		    p->authority_id, p->serial, change.previous_serial, change.added,
		    change.retired, s->overlap_s);
	s->api->audit(s->host, "passport.rotation",
		      "authority=%s serial=%" PRId64 " previous_serial=%" PRId64
		      " added=%s retired=%s overlap_s=%" PRId64 " approved_hold=%s",
		      p->authority_id, p->serial, change.previous_serial, change.added,
		      change.retired, s->overlap_s, hold_id != NULL ? hold_id : "-");
	remember(s, fp);
	return QUORUM_CONTINUE;
}

/* Holds P (taken) for an operator: registered with the control stage, which owns the HITL
 * gate (its hitl.approve / hitl.reject name the hold); installed when an approval of it
 * passes the pipeline. Without a control stage that can hold, nothing is installed. */
static int hold_update(struct passport_stage *s, const struct quorum_event *event,
		       struct passport *p, const uint8_t fp[REPLAY_FINGERPRINT_LEN],
		       const char **reason)
{
	const struct quorum_control_ops *ctl = NULL;
	struct held_update *h;
	uint8_t digest[SHA256_DIGEST_LENGTH];
	const void *ops;
	void *cs = NULL;
	char what[160];

	if (s->api->service_find(s->host, QUORUM_CONTROL_SERVICE, &ops, &cs) == 0)
		ctl = ops;
	if (ctl == NULL || ctl->size < sizeof(*ctl) || ctl->hold_register == NULL) {
		s->api->audit(s->host, "passport.reject",
			      "reason=no_hitl_gate authority=%s serial=%" PRId64,
			      p->authority_id, p->serial);
		passport_free(p);
		s->rejected++;
		*reason = "hitl_required_not_approved";
		return QUORUM_REJECT;
	}
	if (s->held_count == PASSPORT_HELD_MAX) { /* the oldest gives way */
		passport_free(s->held[0].passport);
		memmove(&s->held[0], &s->held[1], (PASSPORT_HELD_MAX - 1) * sizeof(s->held[0]));
		s->held_count--;
	}
	h = &s->held[s->held_count++];
	SHA256(event->encoded.data, event->encoded.len, digest);
	for (int i = 0; i < 8; i++)
		snprintf(h->hold_id + 2 * i, 3, "%02x", digest[i]);
	h->passport = p;
	memcpy(h->fp, fp, REPLAY_FINGERPRINT_LEN);
	remember(s, fp); /* the same update posted again is a replay, held or not */
	snprintf(what, sizeof(what), "passport_update authority=%s serial=%" PRId64,
		 p->authority_id, p->serial);
	ctl->hold_register(cs, h->hold_id, what);
	*reason = "hitl_required_not_approved";
	return QUORUM_HOLD;
}

/* The hold_id of a HITL command's payload ({"hold_id": ...}), into OUT (17 bytes). 0 or -1. */
static int hold_id_of(const struct quorum_signed_state *st, char out[17])
{
	json_t *doc = json_loadb((const char *)st->payload.data, st->payload.len, 0, NULL);
	const char *id = json_string_value(json_object_get(doc, "hold_id"));
	int rc = -1;

	if (id != NULL && strlen(id) == 16) {
		memcpy(out, id, 17);
		rc = 0;
	}
	json_decref(doc);
	return rc;
}

/* After the whole pipeline: an operator's approval or rejection of a held update that the
 * control stage accepted installs or drops it. */
static void passport_observe(void *state, const struct quorum_event *event,
			     const struct quorum_verdict *verdict)
{
	struct passport_stage *s = state;
	const struct quorum_signed_state *st = event->state;
	int approve = strcmp(st->event_id, "uml001.control.hitl.approve") == 0;
	const char *reason = NULL;
	char id[17];

	if (s->held_count == 0 || verdict->code != QUORUM_CONTINUE ||
	    (!approve && strcmp(st->event_id, "uml001.control.hitl.reject") != 0) ||
	    hold_id_of(st, id) != 0)
		return;
	for (size_t i = 0; i < s->held_count; i++) {
		struct held_update h = s->held[i];

		if (strcmp(h.hold_id, id) != 0)
			continue;
		memmove(&s->held[i], &s->held[i + 1],
			(s->held_count - i - 1) * sizeof(s->held[0]));
		s->held_count--;
		if (!approve) {
			s->api->audit(s->host, "passport.update.dropped",
				      "authority=%s serial=%" PRId64
				      " hold_id=%s reason=hitl_reject",
				      h.passport->authority_id, h.passport->serial, id);
			passport_free(h.passport);
			return;
		}
		if (registry_check_update(&s->registry, h.passport) != REGISTRY_UPDATE_NEWER) {
			s->api->audit(s->host, "passport.update.dropped",
				      "authority=%s serial=%" PRId64
				      " hold_id=%s reason=serial_stale",
				      h.passport->authority_id, h.passport->serial, id);
			passport_free(h.passport);
			return;
		}
		if (install_update(s, event, h.passport, h.fp, id, &reason) != QUORUM_CONTINUE)
			s->api->log(
				s->host, QUORUM_LOG_ERROR,
				"passport.approved_update_not_installed hold_id=%s reason=%s",
				id, reason != NULL ? reason : "-");
		return;
	}
}

static int passport_process(void *state, const struct quorum_event *event, const char **reason)
{
	struct passport_stage *s = state;
	const struct quorum_signed_state *st = event->state;
	unsigned need = passport_event_capability(st->event_id);
	enum registry_result result;
	struct registry_match m;
	uint8_t fp[REPLAY_FINGERPRINT_LEN], *msg;
	size_t len;
	int verdict;

	if (st->signature.len == 0 || st->key_id[0] == '\0')
		return refuse(s, event, "signature_missing", NULL, "passport_signature_missing",
			      reason);
	len = quorum_signed_state_message_len(st);
	msg = malloc(len);
	if (msg == NULL) {
		*reason = "passport_out_of_memory";
		return QUORUM_REJECT;
	}
	quorum_signed_state_message(st, msg, len);
	if (need == PASSPORT_CAP_ROOT) {
		verdict = process_update(s, event, msg, len, reason);
		goto out_free;
	}
	result =
		registry_lookup(&s->registry, NULL, st->key_id, judge_time(s, event), need, &m);
	if (result != REGISTRY_OK) {
		verdict = refuse(s, event, registry_result_name(result), m.passport,
				 "passport_signature_invalid", reason);
		goto out_free;
	}
	/* A leader's shared state is signed over its canonical text (the payload), which a
	 * client can rebuild (<quorum/sharedstate.h>); every other event over the envelope. */
	if (strcmp(st->event_id, QUORUM_EVENT_SHARED_STATE) == 0
		    ? passport_ed25519_verify(m.key->key, st->payload.data, st->payload.len,
					      st->signature.data, st->signature.len) != 0
		    : passport_ed25519_verify(m.key->key, msg, len, st->signature.data,
					      st->signature.len) != 0) {
		verdict = refuse(s, event, "bad_signature", m.passport,
				 "passport_signature_invalid", reason);
		goto out_free;
	}
	if (fingerprint_of(msg, len, &st->signature, fp) != 0) {
		*reason = "passport_out_of_memory";
		verdict = QUORUM_REJECT;
		goto out_free;
	}
	if (replay_contains(s->replay, fp)) {
		verdict = refuse(s, event, "replay", m.passport, "gossip_duplicate_rejected",
				 reason);
		goto out_free;
	}
	remember(s, fp);
	verdict = QUORUM_CONTINUE;
out_free:
	free(msg);
	return verdict;
}

/* ---- the service (quorum/passport.h) ---- */

static int svc_key_lookup(void *state, const char *authority_id, const char *key_id,
			  int64_t now_ns, const char *capability,
			  uint8_t public_key[QUORUM_PUBLIC_KEY_LEN])
{
	struct passport_stage *s = state;
	unsigned need = capability != NULL ? passport_capability_bit(capability) : 0;
	struct registry_match m;

	if (capability != NULL && need == 0)
		return -EPERM; /* a capability no passport can grant */
	switch (registry_lookup(&s->registry, authority_id, key_id, now_ns, need, &m)) {
	case REGISTRY_OK:
		memcpy(public_key, m.key->public_key, QUORUM_PUBLIC_KEY_LEN);
		return 0;
	case REGISTRY_NOT_YET_VALID:
	case REGISTRY_EXPIRED:
		return -EKEYEXPIRED;
	case REGISTRY_CAPABILITY_MISSING:
		return -EPERM;
	case REGISTRY_UNKNOWN_KEY:
		break;
	}
	return -ENOENT;
}

static const struct quorum_passport_ops passport_service = {
	.size = sizeof(struct quorum_passport_ops),
	.key_lookup = svc_key_lookup,
};

/* ---- lifecycle ---- */

/* The trust root's public key from its PEM file (SubjectPublicKeyInfo, Ed25519). */
static int load_trust_root(struct passport_stage *s, const char *path)
{
	char why[512];
	uint8_t *pem;
	size_t len;
	BIO *bio;
	int err = statefile_read(path, TRUST_ROOT_FILE_MAX, &pem, &len, why, sizeof(why));

	if (err != 0) {
		s->api->log(s->host, QUORUM_LOG_ERROR,
			    "passport.trust_root_invalid file=\"%s\" error=\"%s\"", path, why);
		return err;
	}
	bio = BIO_new_mem_buf(pem, (int)len);
	s->root = bio != NULL ? PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL) : NULL;
	BIO_free(bio);
	free(pem);
	if (s->root == NULL || passport_key_id_of_pkey(s->root, s->root_key_id) != 0) {
		s->api->log(s->host, QUORUM_LOG_ERROR,
			    "passport.trust_root_invalid file=\"%s\" error=\"not a PEM Ed25519 "
			    "public key\"",
			    path);
		return -EINVAL;
	}
	return 0;
}

/* A setting naming a file or folder, resolved against quorum.conf's folder. */
static int setting_path(struct passport_stage *s, const char *name, char *out, size_t size)
{
	const char *value = NULL;

	if (s->api->config_string(s->host, name, &value) != 0 || value[0] == '\0' ||
	    s->api->config_path(s->host, value, out, size) != 0) {
		s->api->log(s->host, QUORUM_LOG_ERROR, "passport.config_invalid setting=%s",
			    name);
		return -EINVAL;
	}
	return 0;
}

static void passport_free_stage(struct passport_stage *s)
{
	for (size_t i = 0; i < s->held_count; i++)
		passport_free(s->held[i].passport);
	replay_close(s->replay);
	registry_release(&s->registry);
	EVP_PKEY_free(s->root);
	free(s);
}

/* The stage's scalar settings, filled by the host from passport_settings (defaults there);
 * the three required paths are read by setting_path. */
struct passport_settings {
	int64_t rotation_overlap_s;
	int64_t replay_window;
	int hold_updates;
};

static int passport_init(struct quorum_host *host, const struct quorum_api *api, void **state)
{
	const struct passport_settings *cfg;
	struct passport_stage *s;
	char root_path[PATH_MAX], passports[PATH_MAX], sub[PATH_MAX], why[1024];
	int64_t window;
	size_t loaded = 0, from_state = 0, ignored = 0, restored = 0;
	int err;

	if (!QUORUM_API_HAS(api, service_publish) || !QUORUM_API_HAS(api, settings))
		return -ENOTSUP;
	cfg = api->settings(host);
	if (cfg == NULL)
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return -ENOMEM;
	s->host = host;
	s->api = api;
	s->overlap_s = cfg->rotation_overlap_s;
	window = cfg->replay_window;
	s->hold_updates = cfg->hold_updates;
	err = registry_init(&s->registry, s->overlap_s * 1000000000LL);
	if (err != 0)
		goto out_free;
	err = setting_path(s, "trust_root", root_path, sizeof(root_path));
	if (err == 0)
		err = setting_path(s, "passports", passports, sizeof(passports));
	if (err == 0)
		err = setting_path(s, "state_dir", s->state_dir, sizeof(s->state_dir));
	if (err == 0)
		err = load_trust_root(s, root_path);
	if (err != 0)
		goto out_free;
	/* The configured passports: any invalid one stops the start, naming it. */
	if (access(passports, R_OK | X_OK) != 0) {
		snprintf(why, sizeof(why), "cannot read the folder %.900s: %s", passports,
			 strerror(errno));
		err = -ENOENT;
	} else {
		err = registry_load_folder(&s->registry, passports, s->root, s->root_key_id, 0,
					   &loaded, NULL, why, sizeof(why));
	}
	if (err != 0) {
		api->log(host, QUORUM_LOG_ERROR, "passport.load_failed error=\"%s\"", why);
		goto out_free;
	}
	/* The state: rotations installed by updates, then the replay window. */
	err = statefile_mkdir(s->state_dir, why, sizeof(why));
	if (err == 0 &&
	    statefile_join(sub, sizeof(sub), s->state_dir, REGISTRY_PASSPORTS_DIR) != 0) {
		snprintf(why, sizeof(why), "state_dir: name too long");
		err = -ENAMETOOLONG;
	}
	if (err == 0)
		err = statefile_mkdir(sub, why, sizeof(why));
	if (err == 0)
		err = registry_load_folder(&s->registry, sub, s->root, s->root_key_id, 1,
					   &from_state, &ignored, why, sizeof(why));
	if (err == 0 &&
	    statefile_join(sub, sizeof(sub), s->state_dir, REGISTRY_RETIRED_DIR) != 0) {
		snprintf(why, sizeof(why), "state_dir: name too long");
		err = -ENAMETOOLONG;
	}
	if (err == 0)
		err = statefile_mkdir(sub, why, sizeof(why));
	if (err == 0)
		err = registry_load_retired(&s->registry, s->state_dir, s->root, s->root_key_id,
					    realtime_now_ns(), &restored, why, sizeof(why));
	if (err == 0)
		err = replay_open(s->state_dir, (size_t)window, &s->replay, why, sizeof(why));
	if (err != 0) {
		api->log(host, QUORUM_LOG_ERROR, "passport.state_invalid error=\"%s\"", why);
		goto out_free;
	}
	err = api->service_publish(host, QUORUM_PASSPORT_SERVICE, &passport_service, s);
	if (err != 0)
		goto out_free;
	if (s->registry.count == 0)
		api->log(host, QUORUM_LOG_WARNING,
			 "passport.no_passports folder=\"%s\" effect=every_event_rejected",
			 passports);
	api->log(host, QUORUM_LOG_NOTICE,
		 "passport.started root_key_id=%s passports=%zu from_state=%zu superseded=%zu"
		 " retired_kept=%zu overlap_s=%" PRId64 " replay_window=%" PRId64
		 " replay_entries=%zu",
		 s->root_key_id, s->registry.count, from_state, ignored, restored, s->overlap_s,
		 window, replay_count(s->replay));
	*state = s;
	return 0;
out_free:
	passport_free_stage(s);
	return err;
}

static void sync_cb(void *arg)
{
	struct passport_stage *s = arg;
	int err = replay_sync(s->replay);

	if (err != 0 && !s->persist_failing) {
		s->persist_failing = 1;
		s->api->log(s->host, QUORUM_LOG_ERROR,
			    "passport.replay_persist_failed error=\"%s\" "
			    "effect=window_kept_in_memory",
			    strerror(-err));
	}
}

static int passport_start(void *state)
{
	struct passport_stage *s = state;

	s->sync_timer = s->api->timer_start(s->host, SYNC_EVERY_MS, SYNC_EVERY_MS, sync_cb, s);
	return s->sync_timer != NULL ? 0 : -ENOMEM;
}

static void passport_fini(void *state)
{
	struct passport_stage *s = state;

	s->api->log(s->host, QUORUM_LOG_INFO,
		    "passport.stopped accepted=%" PRIu64 " rejected=%" PRIu64
		    " rotations=%" PRIu64 " replay_entries=%zu",
		    s->accepted, s->rejected, s->rotations, replay_count(s->replay));
	s->api->timer_stop(s->host, s->sync_timer);
	passport_free_stage(s); /* syncs the replay window */
}

static const struct quorum_setting passport_settings[] = {
	{ .name = "trust_root",
	  .type = QUORUM_SETTING_STRING,
	  .flags = QUORUM_SETTING_REQUIRED,
	  .help = "the trust root's Ed25519 public key (PEM), which signs every passport" },
	{ .name = "passports",
	  .type = QUORUM_SETTING_STRING,
	  .flags = QUORUM_SETTING_REQUIRED,
	  .help = "folder whose *.json passports are loaded at start (an invalid one stops "
		  "it)" },
	{ .name = "state_dir",
	  .type = QUORUM_SETTING_STRING,
	  .flags = QUORUM_SETTING_REQUIRED,
	  .help = "rotated passports and the replay window (created 0700)" },
	QUORUM_SETTING_INT_AT("rotation_overlap_s", struct passport_settings,
			      rotation_overlap_s, 0, 31536000, "180",
			      "how long keys a passport update drops stay accepted"),
	QUORUM_SETTING_INT_AT("replay_window", struct passport_settings, replay_window, 1,
			      REPLAY_CAPACITY_MAX, "50000",
			      "fingerprints of accepted events kept to refuse replays"),
	QUORUM_SETTING_BOOL_AT("hold_updates", struct passport_settings, hold_updates, "false",
			       "passport updates wait for an operator's hitl.approve"),
	{ .type = QUORUM_SETTING_END },
};

static const struct quorum_stage_ops passport_ops = {
	.size = sizeof(struct quorum_stage_ops),
	.process = passport_process,
	.observe = passport_observe,
};

QUORUM_PLUGIN_EXPORT const struct quorum_plugin quorum_plugin = {
	QUORUM_PLUGIN_HEADER(QUORUM_PLUGIN_STAGE, "passport", PACKAGE_VERSION,
			     QUORUM_ROLE_PASSPORT),
	.settings = passport_settings,
	.settings_size = sizeof(struct passport_settings),
	.init = passport_init,
	.start = passport_start,
	.fini = passport_fini,
	.ops = &passport_ops,
};
