/* timecodec-internal.h -- the time core on the wire: peer-link datagrams, signed time
 * attestations and sync rounds, encoded and strictly decoded into typed views, and the bytes
 * a SignedState's signature covers. */
#ifndef QUORUM_TIMECODEC_INTERNAL_H
#define QUORUM_TIMECODEC_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/sha.h>

#include <quorum/gossip.h>
#include <quorum/time.h>

#include "authority.pb-c.h"
#include "envelope-internal.h"
#include "keys-internal.h"

#define DATAGRAM_MAX		  8192 /* a time request or answer never exceeds this */
#define GOSSIP_DATAGRAM_MAX	  QUORUM_GOSSIP_DATAGRAM_MAX /* nor any peer-link datagram this */
#define ROUND_RTT_MAX_NS	  60000000000LL /* bounds checked on every observation */
#define ROUND_AGE_MAX_NS	  3600000000000LL
#define ATTESTATION_RADIUS_MAX_NS 3600000000000ULL

/*
 * signed_state_message: the bytes a SignedState's Ed25519 signature covers, as
 * quorum_signed_state_message (<quorum/event.h>) writes them (the one definition), in a
 * new buffer. RETURN VALUE: 0 with *OUT (new, free()) and *LEN, or -ENOMEM.
 */
int signed_state_message(const struct quorum_signed_state *state, uint8_t **out, size_t *len);

/* signed_state_sign: signs STATE with KEY into SIG and points STATE->signature at it.
 * RETURN VALUE: 0, -ENOMEM or -EIO. */
int signed_state_sign(EVP_PKEY *key, struct quorum_signed_state *state,
		      uint8_t sig[KEY_SIGNATURE_LEN]);

/*
 * signed_state_wrap: signs PAYLOAD (LEN bytes, an encoded message) as an EVENT_ID event at
 * LOGICAL_TIME_NS with KEY (KEY_ID) into SIG, and fills *OUT (initialised by the caller) as
 * the SignedState that carries it; *OUT borrows PAYLOAD, EVENT_ID, KEY_ID and SIG. The one
 * place the host builds a signed envelope for the wire. RETURN VALUE: signed_state_sign's.
 */
int signed_state_wrap(EVP_PKEY *key, const char *key_id, const char *event_id,
		      uint64_t logical_time_ns, uint8_t *payload, size_t len,
		      uint8_t sig[KEY_SIGNATURE_LEN], Uml001__SignedState *out);

/* signed_state_verify: 0 when STATE carries KEY's valid signature, else -EBADMSG. */
int signed_state_verify(EVP_PKEY *key, const struct quorum_signed_state *state);

/* ---- peer-link datagrams ---- */

enum datagram_kind {
	DATAGRAM_TIME_REQUEST = 1,
	DATAGRAM_TIME_RESPONSE = 2,
	DATAGRAM_GOSSIP = 3,
};

struct datagram {
	enum datagram_kind kind;
	size_t length;	     /* on the wire, in bytes */
	uint64_t sending_ns; /* TIME_RESPONSE: the unsigned sending hint, 0 when absent */
	uint8_t nonce[QUORUM_NONCE_LEN]; /* TIME_REQUEST */
	char asker_id[QUORUM_NODE_ID_MAX + 1];
	Uml001__PeerDatagram *message; /* owned; TIME_RESPONSE: message->time_response;
					  GOSSIP: message->gossip */
};

/* datagram_decode: strict decoding of one peer-link datagram: a time request or answer of
 * at most DATAGRAM_MAX bytes, or a gossip datagram (an event within the envelope's bounds)
 * of at most GOSSIP_DATAGRAM_MAX bytes.
 * RETURN VALUE: 0 with OUT (datagram_release), or -EINVAL with *REASON. */
int datagram_decode(const void *data, size_t len, struct datagram *out, const char **reason);

/* datagram_encode_gossip: a gossip datagram carrying ENCODED (LEN bytes, a SignedState's
 * canonical encoding, copied as they are) into *OUT (new, free()) and *OUT_LEN.
 * RETURN VALUE: 0, -EMSGSIZE (longer than GOSSIP_DATAGRAM_MAX) or -ENOMEM. */
int datagram_encode_gossip(const void *encoded, size_t len, uint8_t **out, size_t *out_len);

/* datagram_release: frees what datagram_decode allocated. */
void datagram_release(struct datagram *datagram);

/* datagram_encode_request: a TimeRequest datagram into BUF, padded with zeros to at least
 * MIN_LEN bytes (attestation_response_max_len of the authority asked: an authority does not
 * answer a shorter request). RETURN VALUE: its length, or -ENOSPC. */
int datagram_encode_request(const uint8_t nonce[QUORUM_NONCE_LEN], const char *asker_id,
			    size_t min_len, uint8_t *buf, size_t size);

/* ---- attestations ---- */

/* A decoded attestation: the authority's SignedState and its TimeAttestation payload. */
struct attestation {
	const Uml001__SignedState *state; /* borrowed from whoever decoded it */
	Uml001__TimeAttestation *message; /* owned */
	struct quorum_signed_state view;
	struct quorum_gossip gossip;
	struct quorum_anchor_proof anchor;
	struct quorum_attestation fields;
};

/*
 * attestation_decode: checks STATE (event id, bounds) and strictly decodes its payload.
 * STATE stays borrowed and must outlive OUT.
 * RETURN VALUE: 0 with OUT (attestation_release), or -EINVAL with *REASON.
 */
int attestation_decode(const Uml001__SignedState *state, struct attestation *out,
		       const char **reason);

/* attestation_release: frees what attestation_decode allocated. */
void attestation_release(struct attestation *attestation);

/* attestation_check: A is signed by KEY (id KEY_ID) for authority AUTHORITY_ID; with KEY
 * NULL the signature is taken as verified already and only the names are checked.
 * RETURN VALUE: NULL, or "untrusted_authority", "key_id_mismatch", "signature_invalid". */
const char *attestation_check(const struct attestation *a, const char *authority_id,
			      const char *key_id, EVP_PKEY *key);

/* attestation_digest: SHA-256 of the canonical encoding of STATE. 0 or -ENOMEM. */
int attestation_digest(const Uml001__SignedState *state, uint8_t out[SHA256_DIGEST_LENGTH]);

/*
 * served_time_sign: a SignedState (event QUORUM_EVENT_SERVED_TIME) whose payload is a
 * ServedTime of READING (synchronised) with NONCE (NONCE_LEN <= 64 bytes), signed by KEY.
 * *OUT (free) holds its encoding. RETURN VALUE: 0, -EINVAL or -ENOMEM.
 */
int served_time_sign(EVP_PKEY *key, const char *key_id, const char *node_id,
		     const uint8_t *nonce, size_t nonce_len,
		     const struct quorum_clock_reading *reading, uint8_t **out, size_t *len);

/*
 * served_time_decode: the ServedTime inside STATE (event QUORUM_EVENT_SERVED_TIME), checked
 * for shape (earliest <= estimate <= latest, key id equal to the envelope's). The signature
 * is checked separately (signed_state_verify). RETURN VALUE: 0 with *OUT
 * (uml001__served_time__free_unpacked), or -EINVAL with *REASON.
 */
int served_time_decode(const Uml001__SignedState *state, Uml001__ServedTime **out,
		       const char **reason);

/*
 * attestation_response: the TimeResponse datagram of an authority: FIELDS encoded, wrapped in
 * a SignedState (event uml001.authority.attestation) signed with KEY (id KEY_ID). The
 * buffer has room for datagram_append_sending.
 * RETURN VALUE: 0 with *OUT (new, free()) and *LEN, or -errno.
 */
int attestation_response(EVP_PKEY *key, const char *key_id,
			 const struct quorum_attestation *fields, uint8_t **out, size_t *len);

/* attestation_response_max_len: the longest answer datagram (with its sending hint) that
 * the authority AUTHORITY_ID (NULL: any, its id as long as allowed) can send: every number
 * at its longest encoding. */
size_t attestation_response_max_len(const char *authority_id);

/* datagram_append_sending: appends the unsigned sending hint (field 10, canonical: last) to
 * a datagram from attestation_response; 0 appends nothing. RETURN VALUE: the new length. */
size_t datagram_append_sending(uint8_t *datagram, size_t len, uint64_t sending_ns);

/* ---- sync rounds ---- */

/* A decoded round; public part first so a struct quorum_round * can be handed out. */
struct round_view {
	struct quorum_round round;
	Uml001__SyncRound *message; /* owned */
	struct quorum_observation *observations;
	struct attestation *attestations; /* one per observation (unused for NTP ones) */
	const char **rejected;
	const char **rejected_reasons;
};

/* Looks up the configured source ID: its type and, for quorumd authorities, key and key id.
 * CLAIMED_KEY_ID (NULL for an NTP observation) is the key id the attestation names: when it
 * is not the configured one, the lookup may answer with another key of the authority (one
 * rotated in by a passport update). *VERIFIED is set to 1 when the caller itself verified
 * exactly the attestation whose encoding has SHA-256 DIGEST (this node's own round: no need
 * to verify it twice). RETURN VALUE: 0, or -ENOENT for an unknown source. */
typedef int (*round_source_lookup)(void *arg, const char *id, const char *claimed_key_id,
				   const uint8_t digest[SHA256_DIGEST_LENGTH], uint32_t *type,
				   const char **key_id, EVP_PKEY **key, int *verified);

/*
 * round_decode: strict decoding of a SyncRound PAYLOAD; every observation is checked with
 * LOOKUP (unknown source, key id, signature, malformed) and the outcome put in its
 * `problem`. LOCAL_NODE_ID sets round.local.
 * RETURN VALUE: 0 with *OUT (round_view_free), or -EINVAL with *REASON.
 */
int round_decode(const struct quorum_bytes *payload, const char *local_node_id,
		 round_source_lookup lookup, void *lookup_arg, struct round_view **out,
		 const char **reason);

/* round_view_free: NULL is a no-op. */
void round_view_free(struct round_view *view);

/* ---- an NTP server's reply (the plain NTP sources of the time core) ---- */

/* The fields of an NTPv4 packet the time core judges, read at their RFC 5905 offsets. */
struct ntp_reply {
	uint32_t leap, mode, stratum;
	const uint8_t *origin;	    /* 8 bytes: what the server echoes of our transmit time */
	int64_t root_delay_ns;	    /* 16.16 fixed point, in ns */
	int64_t root_dispersion_ns; /* 16.16 fixed point, in ns */
	int64_t receive_ns;	    /* T2, ns since 1970 (era 0) */
	int64_t transmit_ns;	    /* T3 */
};

/* ntp_reply_fields: PACKET's fields (LEN bytes, untrusted) into *OUT; the caller judges
 * them (mode, origin, stratum, T2 <= T3). RETURN VALUE: 0, or -1 under 48 bytes. */
int ntp_reply_fields(const uint8_t *packet, size_t len, struct ntp_reply *out);

#endif /* QUORUM_TIMECODEC_INTERNAL_H */
