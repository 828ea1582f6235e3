/* clock-page-layout.c -- prints the compiler's layout of struct quorum_clock_page
 * (client/clock-page.h): "NAME OFFSET SIZE" per field, then "sizeof N", for the Python
 * client's test that its own layout of the page is the C one. */
#include <stddef.h>
#include <stdio.h>

#include "clock-page.h"

#define FIELD(name)                                                                            \
	printf("%s %zu %zu\n", #name, offsetof(struct quorum_clock_page, name),                \
	       sizeof(((struct quorum_clock_page *)0)->name))

int main(void)
{
	FIELD(magic);
	FIELD(version);
	FIELD(size);
	FIELD(generation);
	FIELD(status);
	FIELD(drift_ppm);
	FIELD(slew_ppm);
	FIELD(n);
	FIELD(f);
	FIELD(accepted);
	FIELD(writer_pid);
	FIELD(ref_mono_ns);
	FIELD(ref_estimate_ns);
	FIELD(ref_earliest_ns);
	FIELD(ref_latest_ns);
	FIELD(line_mono_ns);
	FIELD(floor_base_ns);
	FIELD(cap_base_ns);
	FIELD(max_error_ns);
	FIELD(drift_ns);
	FIELD(round);
	FIELD(warp_score);
	FIELD(quorum_hash);
	printf("sizeof %zu\n", sizeof(struct quorum_clock_page));
	return 0;
}
