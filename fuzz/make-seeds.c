/* make-seeds.c -- writes the seed corpora of the fuzz targets (fuzz/make-corpus.sh runs it)
 * with the project's own encoders, so every seed is a real encoding: peer-link datagrams and
 * sync rounds (timecodec.c), SignedState envelopes (envelope.c), signed checkpoints
 * (note.c), passports (passportdoc.c), vault segments (vaultlog.c), shared-state bodies and
 * NTP, WebSocket and gRPC client bytes. Keys are fixed (the same seeds as the targets'), so
 * the output is the same on every run but for the vault's sealing nonces.
 * Usage: make-seeds DIR (DIR/TARGET/NAME files are written). */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <nghttp2/nghttp2.h>
#include <openssl/evp.h>

#include <quorum/sharedstate.h>

#include "authority.pb-c.h"
#include "clock_service.pb-c.h"
#include "envelope-internal.h"
#include "keys-internal.h"
#include "note.h"
#include "nts-ext.h"
#include "nts-fuzz.h"
#include "nts-ke-records.h"
#include "protodecode-internal.h"
#include "passportdoc.h"
#include "timecodec-internal.h"
#include "vaultlog.h"

#define NOW_NS 1750000000123456789LL

static const char *out_dir;
static EVP_PKEY *node_key, *root_key;
static char node_key_id[KEY_ID_HEX_LEN + 1];

static void die(const char *what)
{
	fprintf(stderr, "make-seeds: %s\n", what);
	exit(1);
}

static void put(const char *target, const char *name, const void *data, size_t len)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", out_dir, target);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/%s/%s", out_dir, target, name);
	f = fopen(path, "wb");
	if (f == NULL || (len > 0 && fwrite(data, 1, len, f) != len) || fclose(f) != 0)
		die(path);
}

/* DATA prefixed by one flags byte. */
static void put_flagged(const char *target, const char *name, uint8_t flags, const void *data,
			size_t len)
{
	uint8_t *buf = malloc(len + 1);

	if (buf == NULL)
		die("out of memory");
	buf[0] = flags;
	memcpy(buf + 1, data, len);
	put(target, name, buf, len + 1);
	free(buf);
}

static EVP_PKEY *fixed_key(int descending)
{
	uint8_t seed[32];
	EVP_PKEY *k;

	for (int i = 0; i < 32; i++)
		seed[i] = (uint8_t)(descending ? 32 - i : i + 1);
	k = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, sizeof(seed));
	if (k == NULL)
		die("key");
	return k;
}

/* ---- the authority protocol ---- */

static const uint8_t nonce[QUORUM_NONCE_LEN] = {
	0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb,
	0xcc, 0xdd, 0xee, 0xff, 0x10, 0x21, 0x32, 0x43, 0x54, 0x65, 0x76,
	0x87, 0x98, 0xa9, 0xba, 0xcb, 0xdc, 0xed, 0xfe, 0x0f, 0x01
};

/* An authority's TimeResponse datagram (with its sending hint) in *OUT. */
static size_t response(const char *authority, uint32_t status, uint8_t **out)
{
	struct quorum_attestation a = {
		.authority_id = authority,
		.key_id = node_key_id,
		.nonce = { nonce, sizeof(nonce) },
		.midpoint_ns = NOW_NS,
		.radius_ns = 1500000,
		.sequence = 100042,
		.status = status,
		.processing_ns = 35000,
	};
	uint8_t *buf, *grown;
	size_t len;

	if (attestation_response(node_key, node_key_id, &a, &buf, &len) != 0)
		die("attestation_response");
	grown = realloc(buf, len + 16);
	if (grown == NULL)
		die("out of memory");
	*out = grown;
	return datagram_append_sending(grown, len, 12000);
}

static void seeds_authority(void)
{
	uint8_t request[512], *resp, *resp2, *round_bytes;
	size_t resp_len, resp2_len, round_len;
	int n = datagram_encode_request(nonce, "node-2", attestation_response_max_len("node-1"),
					request, sizeof(request));
	struct datagram d1, d2;
	const char *reason;
	Uml001__SyncRound round = UML001__SYNC_ROUND__INIT;
	Uml001__Observation o1 = UML001__OBSERVATION__INIT, o2 = UML001__OBSERVATION__INIT,
			    o3 = UML001__OBSERVATION__INIT;
	Uml001__TimeAttestation ntp = UML001__TIME_ATTESTATION__INIT;
	Uml001__Observation *obs[3] = { &o1, &o2, &o3 };
	char *rejected[1] = { "node-4" }, *reasons[1] = { "signature_invalid" };
	struct quorum_signed_state view = { 0 };
	struct envelope *e;

	if (n < 0)
		die("datagram_encode_request");
	put("datagram", "time-request", request, (size_t)n);
	resp_len = response("node-1", QUORUM_AUTHORITY_SYNCHRONISED, &resp);
	put("datagram", "time-response", resp, resp_len);
	resp2_len = response("node-2", QUORUM_AUTHORITY_UNSYNCHRONISED, &resp2);
	put("datagram", "time-response-unsynchronised", resp2, resp2_len);
	if (datagram_decode(resp, resp_len, &d1, &reason) != 0 ||
	    datagram_decode(resp2, resp2_len, &d2, &reason) != 0)
		die("datagram_decode");
	/* The attestation alone is an envelope too. */
	{
		uint8_t *att;
		size_t att_len;

		if (proto_encode(&d1.message->time_response->base, &att, &att_len) != 0)
			die("proto_encode");
		put("envelope", "attestation", att, att_len);
		free(att);
	}
	/* A sync round: two authorities' answers as received and an NTP reading. */
	o1.source_id = "node-1";
	o1.attestation = d1.message->time_response;
	o1.rtt_ns = 400000;
	o1.age_ns = 1000000;
	o1.sending_hint_ns = 12000;
	o2.source_id = "node-2";
	o2.attestation = d2.message->time_response;
	o2.rtt_ns = 500000;
	o2.age_ns = 900000;
	ntp.authority_id = "ntp-1";
	ntp.key_id = "";
	ntp.midpoint_ns = NOW_NS + 20000;
	ntp.radius_ns = 8000000;
	ntp.status = UML001__AUTHORITY_STATUS__AUTHORITY_STATUS_SYNCHRONISED;
	ntp.processing_ns = 10000;
	o3.source_id = "ntp-1";
	o3.ntp = &ntp;
	o3.rtt_ns = 700000;
	o3.age_ns = 800000;
	round.node_id = "node-1";
	round.round = 42;
	round.reference_mono_ns = 123456789000;
	round.reference_realtime_ns = NOW_NS + 1000000;
	round.drift_ppm = 500;
	round.n_observations = 3;
	round.observations = obs;
	round.n_rejected_sources = 1;
	round.rejected_sources = rejected;
	round.n_rejected_reasons = 1;
	round.rejected_reasons = reasons;
	if (proto_encode(&round.base, &round_bytes, &round_len) != 0)
		die("round");
	put("datagram", "sync-round", round_bytes, round_len);
	/* ... and the round as the event that carries it, signed by the node. */
	view.logical_time_ns = (uint64_t)NOW_NS;
	view.event_id = QUORUM_EVENT_SYNC_ROUND;
	view.key_id = node_key_id;
	view.payload.data = round_bytes;
	view.payload.len = round_len;
	{
		uint8_t sig[KEY_SIGNATURE_LEN];

		if (signed_state_sign(node_key, &view, sig) != 0)
			die("sign");
		e = envelope_build(&view, &reason);
		if (e == NULL)
			die(reason);
		put("envelope", "sync-round", e->encoded, e->encoded_len);
		envelope_free(e);
	}
	free(round_bytes);
	datagram_release(&d1);
	datagram_release(&d2);
	free(resp);
	free(resp2);
}

static void seeds_envelope(void)
{
	struct quorum_clock_reading r = {
		.status = QUORUM_CLOCK_SYNCHRONISED,
		.n = 4,
		.f = 1,
		.accepted = 4,
		.earliest_ns = NOW_NS - 2000000,
		.estimate_ns = NOW_NS,
		.latest_ns = NOW_NS + 2000000,
		.round = 42,
	};
	struct quorum_signed_state view = { 0 };
	struct quorum_gossip gossip = {
		.hops = 2, .ttl = 6, .validated = 1, .origin_node_id = "node-3"
	};
	struct quorum_anchor_proof anchor = { 0 };
	static const char command[] = "{\"mode\":\"DEGRADED\",\"reason\":\"maintenance\"}";
	uint8_t *out, sig[KEY_SIGNATURE_LEN];
	size_t len;
	const char *reason;
	struct envelope *e;

	memset(r.quorum_hash, 0x42, sizeof(r.quorum_hash));
	if (served_time_sign(node_key, node_key_id, "node-1", nonce, 16, &r, &out, &len) != 0)
		die("served_time_sign");
	put("envelope", "served-time", out, len);
	free(out);
	/* An operator's control command, with gossip and an anchor proof. */
	anchor.version = 1;
	anchor.observation_hash = "9f2c";
	anchor.authority_set = "node-1,node-2,node-3,node-4";
	anchor.event_id = "uml001.control.set_mode";
	anchor.event_hash = "c0ffee";
	view.logical_time_ns = (uint64_t)NOW_NS;
	view.event_id = "uml001.control.set_mode";
	view.key_id = node_key_id;
	view.payload.data = (const uint8_t *)command;
	view.payload.len = sizeof(command) - 1;
	view.gossip = &gossip;
	view.anchor_proof = &anchor;
	if (signed_state_sign(node_key, &view, sig) != 0)
		die("sign");
	e = envelope_build(&view, &reason);
	if (e == NULL)
		die(reason);
	put("envelope", "control-set-mode", e->encoded, e->encoded_len);
	envelope_free(e);
}

/* ---- checkpoints ---- */

static void seeds_checkpoint(void)
{
	struct checkpoint cp = { .origin = "quorum-time/node-1",
				 .size = 1234,
				 .has_time = 1,
				 .earliest_ns = NOW_NS - 2000000,
				 .latest_ns = NOW_NS + 2000000,
				 .synchronised = 1 };
	char text[NOTE_MAX], note[NOTE_MAX];
	uint8_t pub[NOTE_PUB_LEN], sig[NOTE_SIG_LEN];
	size_t pub_len = sizeof(pub);
	int n, m;

	memset(cp.root, 0x5c, sizeof(cp.root));
	EVP_PKEY_get_raw_public_key(node_key, pub, &pub_len);
	for (int i = 0; i < 2; i++) {
		cp.has_time = i == 0;
		n = checkpoint_format(&cp, text, sizeof(text));
		if (n < 0 || key_sign(node_key, text, (size_t)n, sig) != 0)
			die("checkpoint");
		m = note_format(text, (size_t)n, "quorum-time/node-1", pub, sig, note,
				sizeof(note));
		if (m < 0)
			die("note_format");
		put("checkpoint", i == 0 ? "signed-with-time" : "signed", note, (size_t)m);
	}
	put("checkpoint", "text-only", text, (size_t)n);
}

/* ---- passports ---- */

static void seeds_passport(void)
{
	json_t *doc = json_pack("{s:s, s:s, s:I, s:I, s:[s,s], s:[]}", "format",
				"quorum-passport/1", "authority_id", "node-2", "serial",
				(json_int_t)3, "issued_ns", (json_int_t)1795796000000000000LL,
				"capabilities", "attest_time", "control", "keys");
	char *text;

	for (int i = 0; i < 2; i++) {
		EVP_PKEY *k = i == 0 ? node_key : root_key;
		uint8_t pub[32];
		size_t pub_len = sizeof(pub);
		char b64[64], id[PASSPORT_KEY_ID_LEN + 1];

		EVP_PKEY_get_raw_public_key(k, pub, &pub_len);
		passport_base64_encode(pub, sizeof(pub), b64);
		passport_key_id_of(pub, id);
		json_array_append_new(
			json_object_get(doc, "keys"),
			json_pack("{s:s, s:s, s:I, s:I}", "key_id", id, "public_key", b64,
				  "not_before_ns", (json_int_t)(1795600000000000000LL + i),
				  "not_after_ns", (json_int_t)(1827136000000000000LL + i)));
	}
	if (passport_sign_document(doc, root_key) != 0)
		die("passport_sign_document");
	text = json_dumps(doc, JSON_INDENT(2));
	put("passport", "node-2", text, strlen(text));
	free(text);
	json_array_remove(json_object_get(doc, "keys"), 1);
	json_object_set_new(doc, "serial", json_integer(4));
	json_object_set_new(doc, "capabilities", json_pack("[s]", "attest_time"));
	passport_sign_document(doc, root_key);
	text = json_dumps(doc, JSON_COMPACT);
	put("passport", "node-2-update", text, strlen(text));
	free(text);
	json_decref(doc);
}

/* ---- the vault ---- */

static int vault_file(const char *dir, const char *name, uint8_t kind, uint8_t **buf,
		      size_t *len)
{
	char path[4096];
	FILE *f;
	uint8_t data[65536];
	size_t n;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "rb");
	if (f == NULL)
		return -1;
	n = fread(data, 1, sizeof(data), f);
	fclose(f);
	if (n > 65535)
		die("vault file too large for a seed");
	*buf = realloc(*buf, *len + 3 + n);
	(*buf)[*len] = kind;
	(*buf)[*len + 1] = (uint8_t)(n >> 8);
	(*buf)[*len + 2] = (uint8_t)n;
	memcpy(*buf + *len + 3, data, n);
	*len += 3 + n;
	return 0;
}

static void seeds_vault(int sealed)
{
	char dir[] = "/tmp/quorum-make-seeds.XXXXXX", why[256];
	uint8_t key[VAULT_KEY_LEN], *buf = NULL;
	struct vault_options opt = { 0 };
	struct vault *v;
	size_t len = 1;

	memset(key, 7, sizeof(key));
	if (mkdtemp(dir) == NULL)
		die("mkdtemp");
	opt.dir = dir;
	opt.segment_max_bytes = 700; /* a few records per segment: rotation in the seed */
	opt.key = sealed ? key : NULL;
	if (vault_open(&opt, &v, why, sizeof(why)) != 0)
		die(why);
	for (int i = 0; i < 6; i++) {
		char payload[64];
		int n = snprintf(payload, sizeof(payload), "event %d: uml001.worker.ntp_sync",
				 i);

		if (vault_append(v, 16, payload, (size_t)n, NULL) != 0 || vault_sync(v) != 0)
			die("vault_append");
		if (i == 3 && vault_mark_checkpoint(v, vault_count(v) - 1) != 0)
			die("vault_mark_checkpoint");
	}
	vault_close(v);
	buf = malloc(1);
	buf[0] = (uint8_t)(sealed ? 8 : 0);
	for (uint8_t s = 0; s < 4; s++) {
		char name[32];

		snprintf(name, sizeof(name), "segment-%012u.qv", s + 1u);
		vault_file(dir, name, s, &buf, &len);
	}
	vault_file(dir, "vault.state", 4, &buf, &len);
	put("vault-recovery", sealed ? "sealed" : "plain", buf, len);
	/* The same with its last record torn, as a crash leaves it. */
	buf[0] |= 1; /* hashes recomputed: the torn tail is all that is wrong */
	put("vault-recovery", sealed ? "sealed-torn-tail" : "plain-torn-tail", buf, len - 130);
	free(buf);
	{
		char cmd[4200];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			die("rm");
	}
}

/* ---- shared state ---- */

static void seeds_shared_state(void)
{
	struct quorum_shared_state_fields f = { .leader_id = "node-2",
						.monotonic_version = 7,
						.shared_agreed_time = (uint64_t)NOW_NS,
						.shared_applied_drift = -2500,
						.leader_system_time_at_sync =
							(uint64_t)NOW_NS + 300,
						.warp_score = 0.25 };
	char text[QUORUM_SHARED_STATE_TEXT_MAX], hex[129], *body;
	uint8_t sig[KEY_SIGNATURE_LEN];
	int n;

	snprintf(f.key_id, sizeof(f.key_id), "%s", node_key_id);
	n = quorum_shared_state_format(&f, text, sizeof(text));
	if (n < 0 || key_sign(node_key, text, (size_t)n, sig) != 0)
		die("shared state");
	put("rest-bodies", "shared-state-text", text, (size_t)n);
	for (int i = 0; i < 64; i++)
		snprintf(hex + 2 * i, 3, "%02x", sig[i]);
	body = json_dumps(
		json_pack("{s:I, s:f, s:I, s:I, s:I, s:s, s:s, s:s}", "monotonic_version",
			  (json_int_t)7, "warp_score", 0.25, "shared_agreed_time",
			  (json_int_t)NOW_NS, "shared_applied_drift", (json_int_t)-2500,
			  "leader_system_time_at_sync", (json_int_t)(NOW_NS + 300),
			  "signature_hex", hex, "leader_id", "node-2", "key_id", node_key_id),
		JSON_COMPACT | JSON_SORT_KEYS);
	put("rest-bodies", "shared-state-body", body, strlen(body));
	free(body);
}

/* ---- transports: client bytes ---- */

static void seeds_ntp(void)
{
	uint8_t in[1 + 3 * (2 + 48)], *p = in + 1;

	memset(in, 0, sizeof(in));
	for (int i = 0; i < 3; i++) {
		p[0] = 0;
		p[1] = 48;
		p[2] = (uint8_t)(0u << 6 | (i == 2 ? 3u : 4u) << 3 | 3u); /* v4 (v3), client */
		p[2 + 2] = 6;						  /* poll */
		for (int j = 0; j < 8; j++)
			p[2 + 40 + j] = (uint8_t)(0xe9 + i * 16 + j); /* transmit timestamp */
		p += 50;
	}
	put("ntp", "client-request", in, 1 + 50);
	in[0] = 1; /* synchronised */
	put("ntp", "client-request-synchronised", in, 1 + 50);
	put("ntp", "three-requests-synchronised", in, sizeof(in));
	in[0] = 3; /* and rate-limited */
	put("ntp", "three-requests-rate-limited", in, sizeof(in));
}

/* NTS-KE: what clients send (chrony's request, offers without ours, broken requests). */
static void seeds_ntske(void)
{
	static const struct {
		const char *name;
		const char *bytes;
		size_t len;
	} seeds[] = {
#define SEED(name, lit) { name, lit, sizeof(lit) - 1 }
		SEED("chrony-request", "\x80\x01\x00\x02\x00\x00\x80\x04\x00\x02\x00\x0f"
				       "\x80\x00\x00\x00"),
		SEED("server-and-port-wishes",
		     "\x80\x01\x00\x02\x00\x00\x00\x06\x00\x04"
		     "host\x00\x07\x00\x02\x00\x7b"
		     "\x80\x04\x00\x04\x00\x01\x00\x0f\x80\x00\x00\x00"),
		SEED("unknown-critical", "\x80\x01\x00\x02\x00\x00\xc1\x23\x00\x00"
					 "\x80\x04\x00\x02\x00\x0f\x80\x00\x00\x00"),
		SEED("no-aead", "\x80\x01\x00\x02\x00\x00\x80\x00\x00\x00"),
		SEED("other-protocol", "\x80\x01\x00\x02\x80\x00\x80\x00\x00\x00"),
		SEED("response", "\x80\x01\x00\x02\x00\x00\x80\x04\x00\x02\x00\x0f"
				 "\x80\x07\x00\x02\x04\x57\x00\x05\x00\x04"
				 "abcd\x80\x00\x00\x00"),
#undef SEED
	};

	for (size_t i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++)
		put("ntske", seeds[i].name, seeds[i].bytes, seeds[i].len);
}

/* NTS requests under the fuzz target's fixed keys (nts-fuzz.h): a valid cookie, with and
 * without placeholders; a cookie of another key; a plain request with a MAC. */
static void seeds_nts_ext(void)
{
	struct nts_aead c2s, master;
	struct nts_cookie_keys keys;
	uint8_t key[32], uid[32], nts_nonce[16], cookie[NTS_COOKIE_LEN], pkt[1 + 1024];
	int len;

	if (nts_aead_init(&c2s) != 0 || nts_aead_init(&master) != 0)
		die("nts_aead_init");
	nts_fuzz_key(1, keys.c2s);
	nts_fuzz_key(2, keys.s2c);
	nts_fuzz_key(3, key);
	memset(uid, 0x75, sizeof(uid));
	memset(nts_nonce, 0x6e, sizeof(nts_nonce));
	if (nts_aead_set_key(&c2s, keys.c2s) != 0 || nts_aead_set_key(&master, key) != 0 ||
	    nts_cookie_seal(&master, NTS_FUZZ_KEY_ID, nts_nonce, &keys, cookie) != 0)
		die("nts keys");
	for (unsigned placeholders = 0; placeholders <= 2; placeholders += 2) {
		memset(pkt, 0, sizeof(pkt));
		pkt[1] = 0x23;
		len = nts_client_request(&c2s, pkt + 1, sizeof(pkt) - 1, uid, cookie,
					 sizeof(cookie), placeholders, nts_nonce);
		if (len < 0)
			die("nts_client_request");
		put("nts-ext", placeholders ? "request-placeholders" : "request", pkt,
		    (size_t)len + 1);
		pkt[0] = 1; /* re-sealed by the target */
		put("nts-ext",
		    placeholders ? "request-placeholders-resealed" : "request-resealed", pkt,
		    (size_t)len + 1);
	}
	cookie[3] ^= 0xff; /* another key id */
	memset(pkt, 0, sizeof(pkt));
	pkt[1] = 0x23;
	len = nts_client_request(&c2s, pkt + 1, sizeof(pkt) - 1, uid, cookie, sizeof(cookie), 1,
				 nts_nonce);
	put("nts-ext", "request-unknown-key", pkt, (size_t)len + 1);
	memset(pkt, 0, sizeof(pkt));
	pkt[1] = 0x23;
	put("nts-ext", "plain-with-mac", pkt, 1 + 48 + 20);
	nts_aead_release(&c2s);
	nts_aead_release(&master);
}

/* One masked client frame (RFC 6455 5.2). */
static size_t ws_frame(uint8_t *out, int fin, int opcode, const char *payload, size_t len)
{
	static const uint8_t mask[4] = { 0x37, 0xfa, 0x21, 0x3d };
	size_t n = 0;

	out[n++] = (uint8_t)((fin ? 0x80 : 0) | opcode);
	if (len < 126) {
		out[n++] = (uint8_t)(0x80 | len);
	} else {
		out[n++] = 0x80 | 126;
		out[n++] = (uint8_t)(len >> 8);
		out[n++] = (uint8_t)len;
	}
	memcpy(out + n, mask, 4);
	n += 4;
	for (size_t i = 0; i < len; i++)
		out[n + i] = (uint8_t)(payload[i] ^ mask[i % 4]);
	return n + len;
}

static void seeds_ws(void)
{
	static const char head[] = "GET /v1/stream?format=unix&token=fuzz-token HTTP/1.1\r\n"
				   "Host: 127.0.0.1:8081\r\nUpgrade: websocket\r\n"
				   "Connection: Upgrade\r\n"
				   "Sec-WebSocket-Key: x3JJHMbDL1EzLkBGZ2O4Pw==\r\n"
				   "Sec-WebSocket-Version: 13\r\n\r\n";
	static const char subscribe[] = "{\"subscribe\": [\"agreements\", \"checkpoints\", "
					"\"modes\"]}";
	uint8_t buf[1024];
	size_t n = 0;

	put_flagged("ws", "upgrade", 4, head, sizeof(head) - 1);
	n = ws_frame(buf, 1, 1, subscribe, sizeof(subscribe) - 1);
	put_flagged("ws", "subscribe", 1 | 4, buf, n);
	n = ws_frame(buf, 0, 1, subscribe, 10);
	n += ws_frame(buf + n, 1, 0, subscribe + 10, sizeof(subscribe) - 1 - 10);
	n += ws_frame(buf + n, 1, 9, "ping", 4);
	buf[n++] = 0xff; /* a read boundary */
	buf[n++] = 0xfe;
	n += ws_frame(buf + n, 1, 1, "{\"subscribe\": [\"nothing\"]}", 26);
	n += ws_frame(buf + n, 1, 8,
		      "\x03\xe8"
		      "bye",
		      5);
	put_flagged("ws", "fragments-ping-close", 1 | 2 | 4, buf, n);
}

struct h2_out {
	uint8_t buf[8192];
	size_t len;
	const uint8_t *body;
	size_t body_len;
};

static ssize_t h2_send(nghttp2_session *s, const uint8_t *data, size_t len, int flags,
		       void *arg)
{
	struct h2_out *o = arg;

	if (o->len + len > sizeof(o->buf))
		return NGHTTP2_ERR_CALLBACK_FAILURE;
	memcpy(o->buf + o->len, data, len);
	o->len += len;
	return (ssize_t)len;
}

static ssize_t h2_body(nghttp2_session *s, int32_t id, uint8_t *buf, size_t len,
		       uint32_t *flags, nghttp2_data_source *src, void *arg)
{
	struct h2_out *o = arg;

	memcpy(buf, o->body, o->body_len);
	*flags |= NGHTTP2_DATA_FLAG_EOF;
	return (ssize_t)o->body_len;
}

/* A gRPC request as a client sends it on a new h2c connection: raw, and structured. */
static void grpc_request(const char *name, int method, const char *path, const char *timeout,
			 const ProtobufCMessage *msg)
{
#define NV(n, v)                                                                               \
	{ (uint8_t *)(n), (uint8_t *)(v), sizeof(n) - 1, strlen(v), NGHTTP2_NV_FLAG_NONE }
	nghttp2_nv nv[8] = { NV(":method", "POST"),
			     NV(":scheme", "http"),
			     NV(":path", path),
			     NV(":authority", "127.0.0.1:9090"),
			     NV("content-type", "application/grpc"),
			     NV("te", "trailers"),
			     NV("authorization", "Bearer fuzz-token"),
			     NV("grpc-timeout", timeout != NULL ? timeout : "") };
#undef NV
	static struct h2_out o;
	uint8_t framed[512], structured[1024];
	size_t m = msg != NULL ? protobuf_c_message_get_packed_size(msg) : 0, s = 0;
	nghttp2_session_callbacks *cbs;
	nghttp2_session *client;
	nghttp2_data_provider body = { .read_callback = h2_body };
	char file[64];

	framed[0] = 0;
	framed[1] = framed[2] = 0;
	framed[3] = (uint8_t)(m >> 8);
	framed[4] = (uint8_t)m;
	if (msg != NULL)
		protobuf_c_message_pack(msg, framed + 5);
	memset(&o, 0, sizeof(o));
	o.body = framed;
	o.body_len = m + 5;
	nghttp2_session_callbacks_new(&cbs);
	nghttp2_session_callbacks_set_send_callback(cbs, h2_send);
	nghttp2_session_client_new(&client, cbs, &o);
	nghttp2_session_callbacks_del(cbs);
	nghttp2_submit_settings(client, NGHTTP2_FLAG_NONE, NULL, 0);
	nghttp2_submit_request(client, NULL, nv, timeout != NULL ? 8 : 7, &body, NULL);
	nghttp2_session_send(client);
	nghttp2_session_del(client);
	/* Raw: the preface is in the bytes, flag bit 0 clear. */
	put_flagged("grpc", name, 2 | 4, o.buf, o.len);
	/* Structured: method, authorization, timeout, content type, then the DATA bytes. */
	structured[s++] = (uint8_t)method;
	s += (size_t)sprintf((char *)structured + s, "Bearer fuzz-token") + 1;
	s += (size_t)sprintf((char *)structured + s, "%s", timeout != NULL ? timeout : "") + 1;
	s += (size_t)sprintf((char *)structured + s, "application/grpc") + 1;
	memcpy(structured + s, framed, m + 5);
	s += m + 5;
	snprintf(file, sizeof(file), "%s-structured", name);
	put_flagged("grpc", file, 2 | 4 | 8, structured, s);
}

static void seeds_grpc(void)
{
	Uml001__AlignTimeRequest align = UML001__ALIGN_TIME_REQUEST__INIT;
	Uml001__WatchTimeRequest watch = UML001__WATCH_TIME_REQUEST__INIT;
	static uint8_t anchor[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };

	align.peer_id = "client-7";
	align.local_anchor.data = anchor;
	align.local_anchor.len = sizeof(anchor);
	watch.max_updates = 2;
	grpc_request("get-time", 0, "/uml001.ClockService/GetTime", NULL, NULL);
	grpc_request("get-status", 1, "/uml001.ClockService/GetStatus", NULL, NULL);
	grpc_request("align-time", 2, "/uml001.ClockService/AlignTime", "5S", &align.base);
	grpc_request("watch-time", 3, "/uml001.ClockService/WatchTime", "1500m", &watch.base);
	grpc_request("bridge-get-time", 4, "/aegisbridge.BridgeTimeService/GetTime", NULL,
		     NULL);
	grpc_request("bridge-get-time-attested", 5,
		     "/aegisbridge.BridgeTimeService/GetTimeAttested", "99999999H", NULL);
}

int main(int argc, char **argv)
{
	if (argc != 2)
		die("usage: make-seeds DIR");
	out_dir = argv[1];
	node_key = fixed_key(0);
	root_key = fixed_key(1);
	if (key_id(node_key, node_key_id) != 0)
		die("key_id");
	seeds_authority();
	seeds_envelope();
	seeds_checkpoint();
	seeds_passport();
	seeds_vault(0);
	seeds_vault(1);
	seeds_shared_state();
	seeds_ntp();
	seeds_ntske();
	seeds_nts_ext();
	seeds_ws();
	seeds_grpc();
	EVP_PKEY_free(node_key);
	EVP_PKEY_free(root_key);
	return 0;
}
