#!/bin/bash
# quorum-accuracy.sh -- accuracy of a 4-node quorum on loopback: every node reads this
# machine's clock, so CLOCK_REALTIME is true time; node-1's served time is sampled through
# libquorum-clock for SECONDS and its error and bound width reported (median, max) against
# the targets: median |error| under 50 us, median width under 200 us.
# Usage: quorum-accuracy.sh SRCDIR BUILDDIR [SECONDS]
set -u
src=$1 build=$2 seconds=${3:-60}
W=$(mktemp -d /tmp/quorum-accuracy.XXXXXX)
pids=()
cleanup() {
	for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null; done
	for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null; done
	rm -rf "$W"
}
trap cleanup EXIT
port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
bash "$src/scripts/local-quorum.sh" --setup-only --dir "$W" --port "$port" --builddir "$build" >/dev/null
for k in 1 2 3 4; do
	sed -i 's/level = "info"/level = "warning"/' "$W/node-$k/quorum.conf"
	(cd "$W/node-$k" && exec "$build/host/quorumd" --config quorum.conf 2>quorumd.log) &
	pids+=($!)
done
for i in $(seq 100); do
	"$build/tools/quorumctl" time --clock "$W/node-1/clock" >/dev/null 2>&1 && break
	sleep 0.1
done
# One read every 10 ms for SECONDS.
"$build/tests/tools/clock-reads" --clock "$W/node-1/clock" --reads $((seconds * 100)) \
	--pause-us 10000 --samples "$W/samples" >"$W/summary"
status=$?
# Medians and maxima with sort: portable to every awk.
n=$(wc -l <"$W/samples")
if [ "$n" -eq 0 ]; then
	echo "no synchronised sample"
	exit 1
fi
pick() { # COLUMN RANK
	cut -d' ' -f"$1" "$W/samples" | sort -n | sed -n "${2}p"
}
awk -v n="$n" -v s="$seconds" -v em="$(pick 1 $(((n + 1) / 2)))" -v ex="$(pick 1 "$n")" \
	-v wm="$(pick 2 $(((n + 1) / 2)))" -v wx="$(pick 2 "$n")" 'BEGIN {
	printf "samples=%d over %ss: |error| median_us=%.1f max_us=%.1f (target median < 50); ", n, s, em / 1000, ex / 1000
	printf "width median_us=%.1f max_us=%.1f (target median < 200)\n", wm / 1000, wx / 1000
}'
echo "checks: $(cat "$W/summary") (violations: reads whose bound missed true time)"
exit $status
