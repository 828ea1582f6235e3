#!/bin/bash
# scale.sh -- what one node of a local quorum costs as the quorum grows (issue 19): for each
# n (default 4 7 16 31) a quorum of scripts/local-quorum.sh with 1 s rounds runs SECONDS (60)
# after every node synchronised, and the table shows per node: CPU (ms per s, from
# /proc/PID/stat), peer-link bytes in and out per second (each node's peer.traffic totals
# over its life), audit growth per day (vault and merkle folders), log lines per second, the
# median bound width and |error| of its clock page against CLOCK_REALTIME (true time here:
# every node reads this machine's clock), and whether every node was synchronised at the
# end. Then the growth exponent of CPU and bytes with n (least squares of log y on log n).
# Targets at n = 31: at most 20 ms of CPU per s, 50 KB/s, 100 MB of audit a day.
# Usage: scale.sh SRCDIR BUILDDIR [SECONDS] [N...]   (BENCH_SECONDS works as SECONDS too)
set -u
src=$1 build=$2
seconds=${3:-${BENCH_SECONDS:-60}}
shift 3 2>/dev/null || shift $#
sizes=${*:-4 7 16 31}
CTL=$build/tools/quorumctl
READS=$build/tests/tools/clock-reads
TCK=$(getconf CLK_TCK)
W=$(mktemp -d /tmp/quorum-scale.XXXXXX)
pids=()
stop_nodes() {
	for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null; done
	for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null; done
	pids=()
}
trap 'stop_nodes; rm -rf "$W"' EXIT
trap 'exit 1' INT TERM
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
audit_bytes() { # DIR
	find "$1/vault" "$1/merkle" -type f -printf '%s\n' 2>/dev/null | awk '{s += $1} END {print s + 0}'
}
median() { sort -g | awk '{v[NR] = $1} END {if (NR == 0) print "nan"; else print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2)}'; }

rows=$W/rows
: >"$rows"
printf '%4s %4s %12s %12s %12s %14s %10s %12s %12s %8s\n' n f "cpu ms/s" "peer in B/s" \
	"peer out B/s" "audit MB/day" "log l/s" "width us" "|error| us" synced
for n in $sizes; do
	D=$W/n$n
	port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	bash "$src/scripts/local-quorum.sh" --setup-only --nodes "$n" --dir "$D" --port "$port" \
		--builddir "$build" --refusal-summary-s 60 >/dev/null || exit 1
	start_ns=$(date +%s%N)
	for k in $(seq "$n"); do
		(cd "$D/node-$k" && exec "$build/host/quorumd" --config quorum.conf 2>quorumd.log) &
		pids+=($!)
	done
	# Every node synchronised (at most 90 s), then a few rounds more past the start.
	deadline=$(($(date +%s) + 90))
	while [ "$(date +%s)" -lt "$deadline" ]; do
		synced=0
		for k in $(seq "$n"); do
			"$CTL" time --clock "$D/node-$k/clock" >/dev/null 2>&1 && synced=$((synced + 1))
		done
		[ "$synced" -eq "$n" ] && break
		sleep 0.1
	done
	sleep 3
	declare -A cpu0 audit0 lines0
	for k in $(seq "$n"); do
		cpu0[$k]=$(cpu_ticks "${pids[$((k - 1))]}")
		audit0[$k]=$(audit_bytes "$D/node-$k")
		lines0[$k]=$(wc -l <"$D/node-$k/quorumd.log")
	done
	t0=$(date +%s%N)
	sleep "$seconds"
	t1=$(date +%s%N)
	cpu=0 audit=0 lines=0 synced=0
	for k in $(seq "$n"); do
		cpu=$((cpu + $(cpu_ticks "${pids[$((k - 1))]}") - cpu0[$k]))
		audit=$((audit + $(audit_bytes "$D/node-$k") - audit0[$k]))
		lines=$((lines + $(wc -l <"$D/node-$k/quorumd.log") - lines0[$k]))
	done
	for k in $(seq "$n"); do
		"$READS" --clock "$D/node-$k/clock" --reads 20 --pause-us 5000 --require-sync \
			--samples "$D/samples-$k" >/dev/null 2>&1 && synced=$((synced + 1))
	done
	stop_nodes
	end_ns=$(date +%s%N)
	life_s=$(awk -v a="$start_ns" -v b="$end_ns" 'BEGIN {print (b - a) / 1e9}')
	bin=$(cat "$D"/node-*/quorumd.log | sed -n 's/.*peer.traffic bytes_in=\([0-9]*\).*/\1/p' | awk '{s += $1} END {print s + 0}')
	bout=$(cat "$D"/node-*/quorumd.log | sed -n 's/.*peer.traffic .*bytes_out=\([0-9]*\).*/\1/p' | awk '{s += $1} END {print s + 0}')
	width=$(cat "$D"/samples-* 2>/dev/null | awk '{print $2 / 1000}' | median)
	err=$(cat "$D"/samples-* 2>/dev/null | awk '{print $1 / 1000}' | median)
	awk -v n="$n" -v cpu="$cpu" -v tck="$TCK" -v t0="$t0" -v t1="$t1" -v bin="$bin" \
		-v bout="$bout" -v life="$life_s" -v audit="$audit" -v lines="$lines" -v w="$width" \
		-v e="$err" -v synced="$synced" 'BEGIN {
		s = (t1 - t0) / 1e9
		printf "%4d %4d %12.1f %12.0f %12.0f %14.1f %10.1f %12s %12s %5d/%-3d\n", n,
			int((n - 1) / 3), cpu / tck * 1000 / s / n, bin / life / n, bout / life / n,
			audit / s * 86400 / 1e6 / n, lines / s / n, w, e, synced, n
		printf "%d %f %f %f\n", n, cpu / tck * 1000 / s / n, (bin + bout) / life / n,
			audit / s * 86400 / 1e6 / n >"/dev/stderr"
	}' 2>>"$rows"
	unset cpu0 audit0 lines0
	declare -A cpu0 audit0 lines0
	rm -rf "$D"
done
# y ~ n^k: k by least squares of log y on log n.
awk '{ x = log($1); for (c = 2; c <= 4; c++) if ($c > 0) { y = log($c); sx[c] += x; sy[c] += y;
	sxx[c] += x * x; sxy[c] += x * y; m[c]++ } }
	END { split("- cpu peer-bytes audit", name, " ")
	for (c = 2; c <= 4; c++) if (m[c] >= 2)
		printf "growth exponent of %s per node with n: %.2f\n", name[c],
			(m[c] * sxy[c] - sx[c] * sy[c]) / (m[c] * sxx[c] - sx[c] * sx[c]) }' "$rows"
