/* fuzz-ntp.c -- libFuzzer target: the NTP transport's server (plugins/transports/ntp/ntp.c,
 * compiled in whole so its batch reader runs as the event loop would call it), fed
 * datagrams through a pair of abstract-namespace Unix datagram sockets: no network, no
 * files; the settings are the table's defaults, filled by the host's own code. Input: one byte
 * of flags (bit 0: the served clock is synchronised; bit 1: a rate limit of 1/s with a burst of
 * 2), then datagrams, each a 16-bit big-endian length and its bytes (at most 8, each at most
 * 2048 bytes). Properties of every answer: 48 bytes, mode 4, the origin timestamp is some
 * request's transmit timestamp, and an answer with leap indicator 3 (unsynchronised, or a kiss)
 * carries no time at all. */
#include "ntp.c" /* first: it sets _GNU_SOURCE itself */

#include <sys/un.h>

#include "../host/settings-internal.h"
#include "fuzz.h"
#include "mockhost.h"

#define FUZZ_DATAGRAMS	  8
#define FUZZ_DATAGRAM_MAX 2048

static int server_fd = -1, client_fd = -1;
static struct settings_struct *defaults; /* the settings quorumd fills with none configured */
static struct sockaddr_un server_addr;
static socklen_t server_addr_len;

/* A datagram socket bound to the abstract name "quorum-fuzz-ntp-PID-ROLE". */
static int bound_socket(char role, struct sockaddr_un *addr, socklen_t *addr_len)
{
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int n;

	memset(addr, 0, sizeof(*addr));
	addr->sun_family = AF_UNIX;
	n = snprintf(addr->sun_path + 1, sizeof(addr->sun_path) - 1, "quorum-fuzz-ntp-%ld-%c",
		     (long)getpid(), role);
	*addr_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n);
	if (fd < 0 || bind(fd, (struct sockaddr *)addr, *addr_len) != 0) {
		perror("fuzz-ntp: socket");
		abort();
	}
	return fd;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct sockaddr_un client_addr;
	socklen_t client_len;

	char why[256] = "";

	/* The transport's settings as the host fills them from its table, none configured. */
	if (settings_struct_new(NULL, quorum_plugin.settings, quorum_plugin.settings_size,
				&defaults, why, sizeof(why)) != 0) {
		fprintf(stderr, "fuzz-ntp: settings: %s\n", why);
		abort();
	}
	server_fd = bound_socket('s', &server_addr, &server_addr_len);
	client_fd = bound_socket('c', &client_addr, &client_len);
	return 0;
}

static void drain(int fd)
{
	uint8_t buf[4096];

	while (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) >= 0)
		;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t transmit[FUZZ_DATAGRAMS][8];
	size_t sent = 0, off = 1, answers = 0;
	void *state = NULL;
	struct ntp_server *s;
	struct ntp_worker *w;
	uint8_t reply[4096];
	ssize_t n;

	if (size < 1)
		return 0;
	fuzz_host_set(NULL, data[0] & 1);
	fuzz_mock.settings = settings_struct_data(defaults);
	FUZZ_ASSERT(ntp_init(mockhost_host(&fuzz_mock), &fuzz_mock.api, &state) == 0);
	s = state;
	if (data[0] & 2) {
		s->cf.rate = 1;
		s->cf.burst = 2;
	}
	w = worker_new(s, server_fd, 0, 0); /* the loop's reader (workers = 0) */
	FUZZ_ASSERT(w != NULL);
	while (off < size && sent < FUZZ_DATAGRAMS) {
		size_t len = size - off;

		if (len >= 2) {
			size_t want = (size_t)data[off] << 8 | data[off + 1];

			off += 2;
			len = want < size - off ? want : size - off;
		}
		if (len > FUZZ_DATAGRAM_MAX)
			len = FUZZ_DATAGRAM_MAX;
		memset(transmit[sent], 0, 8);
		if (len >= NTP_PACKET)
			memcpy(transmit[sent], data + off + 40, 8);
		if (sendto(client_fd, data + off, len, 0, (struct sockaddr *)&server_addr,
			   server_addr_len) == (ssize_t)len)
			sent++;
		off += len;
	}
	if (sent > 0)
		ntp_read_cb(server_fd, EV_READ, w);
	while ((n = recv(client_fd, reply, sizeof(reply), MSG_DONTWAIT)) >= 0) {
		int origin_known = 0;

		answers++;
		FUZZ_ASSERT(n == NTP_PACKET);
		FUZZ_ASSERT((reply[0] & 7) == 4);
		for (size_t i = 0; i < sent; i++)
			origin_known |= memcmp(reply + 24, transmit[i], 8) == 0;
		FUZZ_ASSERT(origin_known);
		if (reply[0] >> 6 == 3) {
			static const uint8_t zero[16];

			FUZZ_ASSERT(reply[1] == 0);
			FUZZ_ASSERT(memcmp(reply + 32, zero, 16) == 0);
		}
	}
	FUZZ_ASSERT(answers <= sent);
	drain(server_fd);
	free(w); /* the sockets outlive this run: the server never had them */
	ntp_fini(s);
	return 0;
}
