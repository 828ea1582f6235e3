#!/bin/bash
# ntp-throughput.sh -- NTP answers per second without loss: quorumd's NTP transport (a
# synchronised one-node quorum, rate limit off) against chronyd serving NTP on the same
# machine in the same run, each loaded by bench/bench-ntp (16 sockets x 16 requests in
# flight, closed loop). Target: at least 1.5x chrony.
#
# The comparison gives each server the same CPU: with two or more cores, the server runs on
# core 0 and the load generator on core 1 (taskset), so neither steals the other's core and
# the figures stop swinging with the scheduler; quorumd runs one worker thread there, like
# chronyd's one thread. RUNS alternating runs of each; the medians are compared. Each run
# also reads the server's CPU time (/proc/PID/stat), giving answers per CPU-second.
# With more than two cores, a last run gives quorumd every core but the generator's
# (workers = cores - 1), which chronyd cannot use.
#
# The limit line: bench/ntp-reflector on the same core (recvmmsg, the mode flipped, the
# transmit timestamp copied to the origin, sendmmsg; nothing else), loaded the same way,
# measures what the kernel allows one thread here; both servers are reported as fractions
# of its median (issue 17 saw about 335k/s for it, 318k for quorumd, 265k for chronyd).
# On 2026-12-06, with the machine shared (load average 8-11), the medians were 105.6k/s
# for the reflector, 105.4k for quorumd (1.00) and 79.2k for chronyd (0.75), each rate
# moving by up to 2x between runs.
#
# On this project's machines (2 cores) the target is not met: 1.31-1.42x across runs of
# 2026-11-27 (quorumd 264-330k answers/s, chronyd 198-233k; both move together with the
# machine's speed). Both servers and the generator each saturate their core, and perf puts
# 97 % of quorumd's time in the kernel (sendmmsg 82 %, of which about a quarter is the
# loopback delivery into the client's socket; recvmmsg 14 %), its batches full (64 per
# recvmmsg): what is left is the kernel's cost per datagram, which a second worker could
# only share with a second free core.
# Usage: ntp-throughput.sh BUILDDIR [SECONDS] [RUNS]
set -u
build=$1 seconds=${2:-3} runs=${3:-3}
W=$(mktemp -d "${TMPDIR:-/tmp}/bench-ntp.XXXXXX")
cores=$(nproc)
if [ "$cores" -ge 2 ]; then
	SERVER="taskset -c 0" GENERATOR="taskset -c 1"
	placement="servers on core 0, generator on core 1"
else
	SERVER="" GENERATOR=""
	placement="one core: not pinned"
fi
free_udp() { /usr/bin/python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
CHRONY_PORT=$(free_udp) PEER=$(free_udp) OURS=$(free_udp) REFLECT=$(free_udp)
cleanup() {
	[ -f "$W/chronyd.pid" ] && kill "$(cat "$W/chronyd.pid")" 2>/dev/null
	[ -n "${rpid:-}" ] && kill "$rpid" 2>/dev/null && wait "$rpid" 2>/dev/null
	[ -n "${qpid:-}" ] && kill -TERM "$qpid" 2>/dev/null && wait "$qpid" 2>/dev/null
	rm -rf "$W"
}
trap cleanup EXIT
cat >"$W/chrony.conf" <<END
port $CHRONY_PORT
bindaddress 127.0.0.1
allow 127.0.0.1
local stratum 1
pidfile $W/chronyd.pid
driftfile $W/drift
cmdport 0
END
$SERVER /usr/sbin/chronyd -x -u root -f "$W/chrony.conf" -l "$W/chrony.log" || { echo "chronyd did not start"; exit 1; }
$SERVER "$build/bench/ntp-reflector" 127.0.0.1 "$REFLECT" &
rpid=$!
"$build/tools/quorum-keygen" --out "$W/node" >/dev/null
# quorum_conf WORKERS: the bench node's configuration.
quorum_conf() {
	cat >"$W/quorum.conf" <<END
node = { id = "bench"; key = "node.key"; state_dir = "state"; };
plugin_dir = "$build/lib";
trusted_plugin_keys = [ "$build/keys/plugin-dev.pub" ];
peer_link = { address = "127.0.0.1"; port = $PEER; };
authority = { radius_ns = 1000; kernel_status = false; };
clock = { shm = "clock"; };
authorities = ( { id = "bench"; address = "127.0.0.1"; port = $PEER; key = "node.pub"; } );
stages = ( { name = "convergence"; path = "stages/convergence.so"; },
           { name = "control"; path = "stages/control.so"; } );
transports = ( { name = "ntp"; path = "transports/ntp.so"; settings = { port = $OURS; rate_limit = 0; workers = $1; }; } );
END
}
# start_quorumd PLACEMENT...: starts the node (pinned by PLACEMENT) and waits for its time.
start_quorumd() {
	(cd "$W" && exec "$@" "$build/host/quorumd" --config "$W/quorum.conf" 2>>"$W/quorumd.log") &
	qpid=$!
	for i in $(seq 50); do "$build/tools/quorumctl" time --clock "$W/clock" >/dev/null 2>&1 && return 0; sleep 0.1; done
	echo "quorumd did not synchronise"; exit 1
}
stop_quorumd() { kill -TERM "$qpid"; wait "$qpid" 2>/dev/null; qpid=""; }
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
# measure NAME PORT PID: one run; prints "RATE CPU_SECONDS" and the generator's line.
measure() {
	local before after
	before=$(cpu_ticks "$3")
	$GENERATOR "$build/bench/bench-ntp" 127.0.0.1 "$2" "$seconds" >"$W/$1.out"
	after=$(cpu_ticks "$3")
	echo "  $1: $(cat "$W/$1.out"); server CPU $(awk -v t=$((after - before)) -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f s", t / hz }')" >&2
	echo "$(sed -n 's/^\([0-9]*\) answers.*/\1/p' "$W/$1.out") $((after - before))"
}

echo "NTP throughput, $seconds s runs, $placement"
quorum_conf 1
start_quorumd $SERVER
: >"$W/c.runs"
: >"$W/q.runs"
: >"$W/r.runs"
for run in $(seq "$runs"); do # alternating
	measure "run $run chronyd" "$CHRONY_PORT" "$(cat "$W/chronyd.pid")" >>"$W/c.runs"
	measure "run $run quorumd (1 worker)" "$OURS" "$qpid" >>"$W/q.runs"
	measure "run $run reflector (limit)" "$REFLECT" "$rpid" >>"$W/r.runs"
done
stop_quorumd
all_cores=""
if [ "$cores" -gt 2 ]; then
	quorum_conf $((cores - 1))
	start_quorumd taskset -c "0,2-$((cores - 1))"
	all_cores=$(measure "quorumd ($((cores - 1)) workers, cores 0,2-$((cores - 1)))" "$OURS" "$qpid")
	stop_quorumd
fi
/usr/bin/python3 - "$W/c.runs" "$W/q.runs" "$(getconf CLK_TCK)" "$all_cores" "$seconds" "$W/r.runs" <<'END'
import statistics, sys
def runs(path):
    """Each run's answers/s, and its answers per second of server CPU."""
    rows = [tuple(map(int, line.split())) for line in open(path) if line.strip()]
    hz, secs = int(sys.argv[3]), float(sys.argv[5])
    return [r for r, _ in rows], [r * secs * hz / t if t else 0 for r, t in rows]
c, c_eff = runs(sys.argv[1])
q, q_eff = runs(sys.argv[2])
cm, qm = statistics.median(c), statistics.median(q)
r = qm / cm if cm else 0
print("chronyd: median %d answers/s (runs %s), %d answers per CPU-second"
      % (cm, " ".join(map(str, c)), statistics.median(c_eff)))
print("quorumd: median %d answers/s (runs %s), %d answers per CPU-second"
      % (qm, " ".join(map(str, q)), statistics.median(q_eff)))
print("NTP answers/s, same core each: quorumd %d, chronyd %d: ratio %.2f (target >= 1.5: %s)"
      % (qm, cm, r, "met" if r >= 1.5 else "MISSED"))
lim, lim_eff = runs(sys.argv[6])
lm = statistics.median(lim)
print("limit (bare reflector, same core): median %d answers/s (runs %s), %d per CPU-second"
      % (lm, " ".join(map(str, lim)), statistics.median(lim_eff)))
if lm:
    print("fraction of the limit: quorumd %.2f, chronyd %.2f" % (qm / lm, cm / lm))
if sys.argv[4]:
    a = int(sys.argv[4].split()[0])
    print("quorumd on every core but the generator's: %d answers/s: %.2fx chronyd's median" % (a, a / cm if cm else 0))
END
