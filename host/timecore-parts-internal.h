/* timecore-parts-internal.h -- what the time core's four parts share, included by them
 * alone: timecore.c (life cycle, commits, verifying a round's answers for the stages),
 * peerlink.c (the peer link's socket, dispatch of what arrives, and gossip), answer.c
 * (answering as an authority) and rounds.c (asking the authorities and NTP sources in
 * rounds and ingesting each round). Everyone else sees timecore-internal.h. */
#ifndef QUORUM_TIMECORE_PARTS_INTERNAL_H
#define QUORUM_TIMECORE_PARTS_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/types.h>

#include <event2/util.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include "ratelimit.h"
#include "roundnonce.h"
#include "timecore-internal.h"

struct dedup;
struct listener;

#define SEQUENCE_LEASE		   100000 /* sequences reserved per state write */
#define RECEIVE_BURST		   64	  /* datagrams handled per wake-up */
#define NTP_PACKET_LEN		   48
#define NTP_UNIX_OFFSET		   2208988800ULL /* seconds from 1900 to 1970 */
#define GOSSIP_RATE		   200	 /* gossip events per second ingested from one peer */
#define GOSSIP_BURST		   400	 /* ... and at most this many at once */
#define GOSSIP_SEEN_MAX		   65536 /* fingerprints of gossip ingested, to drop copies */
#define VERIFICATIONS_PER_QUESTION 8	 /* signature checks for the answers to one nonce */

_Static_assert(ROUND_NONCE_LEN == QUORUM_NONCE_LEN, "a round's nonces are the asker's nonces");

/* One source's question in the current round, and its accepted answer. */
struct pending {
	uint8_t nonce[QUORUM_NONCE_LEN];
	uint8_t prev_nonce[QUORUM_NONCE_LEN];
	int has_prev;
	size_t request_len; /* its requests are padded to its longest answer */
	uint8_t ntp_origin[8], prev_ntp_origin[8];
	int64_t sent_mono;
	int answered;
	int excluded;		   /* equivocated this round */
	int rejected;		   /* an answer of it to this round's question was refused */
	unsigned verifications;	   /* signatures checked for this round's question */
	const char *reject_reason; /* why (a static string) */
	int64_t recv_mono;
	int64_t sending_hint;		/* the authority's unsigned sending time */
	Uml001__PeerDatagram *datagram; /* owns the accepted SignedState */
	struct attestation attestation;
	uint8_t answer_digest[SHA256_DIGEST_LENGTH];
	uint8_t verified_digest[SHA256_DIGEST_LENGTH]; /* of the accepted SignedState */
	Uml001__TimeAttestation ntp;		       /* an NTP source's reading */
};

/* What the peer link keeps for one configured source: its own answer budget (an authority
 * asks once a round, and nobody else can drain its share) and its gossip bucket, so that
 * one peer cannot flood the pipeline. */
struct source_budget {
	struct token_bucket answers;
	struct token_bucket gossip;
};

/* The core's series in the node's metrics (the host's: owner NULL); NULL without a
 * registry (unit tests), which metric_add ignores. */
enum core_datagram {
	CORE_DATAGRAM_TIME_REQUEST,
	CORE_DATAGRAM_TIME_RESPONSE,
	CORE_DATAGRAM_GOSSIP,
	CORE_DATAGRAM_MALFORMED, /* received only */
	CORE_DATAGRAM_KINDS
};
enum core_round_outcome {
	CORE_ROUND_ACCEPTED,
	CORE_ROUND_REJECTED,
	CORE_ROUND_HELD,
	CORE_ROUND_OUTCOMES
};
struct core_metrics {
	struct quorum_metric *received[CORE_DATAGRAM_KINDS];
	struct quorum_metric *sent[CORE_DATAGRAM_KINDS];
	struct quorum_metric *rounds[CORE_ROUND_OUTCOMES];
	struct quorum_metric *observations_used, *observations_rejected;
};

/* core_metrics_register: the core's series in C's registry (none without one). */
void core_metrics_register(struct timecore *c);

struct timecore {
	struct timecore_env env;
	struct core_metrics metrics;
	struct conf *conf; /* reference: time settings cannot change on reload */
	EVP_PKEY *key;	   /* env.node_key */
	char key_id[KEY_ID_HEX_LEN + 1];
	struct authority_table authorities;
	struct nodestate state;
	int state_dirty;
	struct served_clock *clock;
	int fd;
	struct listener *listener; /* the peer link's socket, shared through the host */
	struct event *read_event;
	int ntp_fd;
	struct event *ntp_event;
	/* answering */
	uint64_t next_sequence;
	size_t answer_max_len;	      /* no request shorter than this is answered */
	struct token_bucket others;   /* every asker but the configured authorities */
	struct ratelimit *per_source; /* ... and each address of them */
	/* asking */
	struct event *round_timer;
	struct event *first_round;
	struct timeval interval;
	struct event *deadline_timer;
	uint64_t round;
	uint8_t round_seed[ROUND_SEED_LEN]; /* this round's nonces derive from it */
	int round_open;
	int decoding_own_round; /* our round is in the pipeline right now */
	struct pending *pending;
	/* gossip */
	uint8_t *receive_buffer;       /* GOSSIP_DATAGRAM_MAX + 1 bytes */
	struct source_budget *budgets; /* one per configured source */
	struct dedup *gossip_seen;     /* events ingested: later copies are dropped */
	/* peer-link traffic, logged at close (peer.traffic): what bench/scale.sh reads */
	uint64_t bytes_in, bytes_out, datagrams_in, datagrams_out;
};

/* ---- peerlink.c ---- */

/* peerlink_open: binds the peer link (through the host's listeners) and starts reading it;
 * peerlink_close: stops and frees what peerlink_open made (also half-made). RETURN VALUE:
 * 0 or -errno with WHY. */
int peerlink_open(struct timecore *c, char *why, size_t why_size);
void peerlink_close(struct timecore *c);

/* peer_address_text: SA as "host:port" ("[v6]:port") in BUF, which it returns. */
const char *peer_address_text(const struct sockaddr *sa, socklen_t len, char *buf, size_t size);

/* peer_refused: counts a refusal of an unauthenticated datagram from FROM (the env's
 * refused callback: summarised, never audited one by one). */
void peer_refused(struct timecore *c, const char *what, const char *reason,
		  const struct sockaddr *from, socklen_t from_len);

/* peer_sendto: sendto(2) on the peer link, its bytes counted in C's traffic totals.
 * RETURN VALUE: sendto's. */
ssize_t peer_sendto(struct timecore *c, const void *buf, size_t len, const struct sockaddr *to,
		    socklen_t to_len);

/* peer_source_at: the configured quorumd source whose peer-link address is FROM, or NULL. */
struct authority *peer_source_at(struct timecore *c, const struct sockaddr *from,
				 socklen_t from_len);

/* peer_receive_stamped: one datagram from FD with its arrival time (the kernel's stamp,
 * converted to both clocks). RETURN VALUE: its length, or -1 when FD is drained. */
ssize_t peer_receive_stamped(int fd, uint8_t *buf, size_t size, struct sockaddr_storage *from,
			     socklen_t *from_len, int64_t *arrival_mono, int64_t *arrival_real);

/* peer_socket_timestamps: asks the kernel to stamp FD's arrivals (logged when it cannot). */
void peer_socket_timestamps(int fd);

/* ---- answer.c ---- */

/* answer_request: answers request D from FROM (received at RECV_MONO / RECV_REAL) with a
 * signed attestation, within the answer budgets; a refusal is counted (peer_refused). */
void answer_request(struct timecore *c, const struct datagram *d, const struct sockaddr *from,
		    socklen_t from_len, int64_t recv_mono, int64_t recv_real);

/* ---- rounds.c ---- */

/* rounds_open: with authorities configured, the round timers, the NTP client socket and a
 * first round at a random phase; rounds_close: stops and frees them. RETURN VALUE: 0 or
 * -errno with WHY. */
int rounds_open(struct timecore *c, char *why, size_t why_size);
void rounds_close(struct timecore *c);

/* rounds_handle_response: an answer D (or anything but a request or gossip) from FROM to
 * this round's questions: verified, attributed to its question, or refused. */
void rounds_handle_response(struct timecore *c, struct datagram *d, const struct sockaddr *from,
			    socklen_t from_len, int64_t recv_mono);

/* rounds_all_answered: whether every source answered the open round (it then closes early
 * with rounds_finish, which ingests it). */
int rounds_all_answered(const struct timecore *c);
void rounds_finish(struct timecore *c);

/* ---- timecore.c ---- */

/* timecore_passport_key: a key of authority A other than its configured one that the
 * passport stage vouches for as KEY_ID_TEXT now (borrowed, cached in A), or NULL. */
EVP_PKEY *timecore_passport_key(struct timecore *c, struct authority *a,
				const char *key_id_text);

#endif
