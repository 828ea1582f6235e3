/* fuzz-ntp-reply.c -- libFuzzer target: an NTP server's reply as the time core reads it from
 * a plain NTP source (ntp_reply_fields), and the arithmetic the time core then does on the
 * fields (the interval's radius from root dispersion and delay, T3 - T2), so that UBSan
 * sees every value a packet can carry. */
#include "config.h"

#include <string.h>

#include "fuzz.h"
#include "timecodec-internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ntp_reply r;
	int64_t radius, processing;

	if (ntp_reply_fields(data, size, &r) != 0) {
		FUZZ_ASSERT(size < 48);
		return 0;
	}
	FUZZ_ASSERT(size >= 48 && r.origin == data + 24 && r.mode <= 7 && r.leap <= 3);
	FUZZ_ASSERT(r.root_delay_ns >= 0 && r.root_dispersion_ns >= 0);
	radius = r.root_dispersion_ns + r.root_delay_ns; /* as handle_ntp */
	FUZZ_ASSERT(radius >= 0);
	if (r.transmit_ns >= r.receive_ns && r.receive_ns > 0) {
		processing = r.transmit_ns - r.receive_ns;
		FUZZ_ASSERT(processing >= 0);
	}
	return 0;
}
