#!/bin/bash
# nts-throughput.sh -- Network Time Security (RFC 8915) throughput: quorumd's NTP transport
# with its nts group (a synchronised one-node quorum, rate limit off, one worker) against
# chronyd serving NTS (ntsserverkey/ntsservercert) on the same machine in the same run.
# bench/bench-nts does one NTS-KE exchange, then keeps 16 sockets x 16 authenticated
# requests in flight (sealed beforehand, one cookie each; the first 256 answers checked in
# full); and, apart, runs complete NTS-KE exchanges (TLS 1.3, P-256 certificate, 4 threads).
# The same pinning as bench/ntp-throughput.sh: servers on core 0, generator on core 1.
# Each run reads the server's CPU time (chronyd's NTS-KE helper process included), giving
# answers and handshakes per CPU-second. Target: NTS answers per CPU-second >= 1.3x chronyd's.
#
# The limit line: bench/ntp-reflector on core 0, loaded by bench-ntp with datagrams of the
# NTS requests' size and with plain 48-byte ones; NTS answers are reported as fractions of
# both (issue 17's target: >= 0.8 of the plain limit).
#
# A run of 2026-12-06 on this project's 2-core machine, shared with two other builds (load
# average 7.9 before, 7.1 after), so every rate moved by up to 2x from run to run: NTS
# answers per CPU-second quorumd 236k, chronyd 124k (1.90x); answers/s medians 71.9k and
# 55.2k; NTS-KE handshakes per CPU-second 2242 and 2246 (438/s and 617/s); the reflector
# 79.2k/s with 48-byte datagrams (quorumd NTS 0.91 of it) and 97.9k/s NTS-sized (0.73).
# Per CPU-second an NTS answer costs about 1.6x the reflector's bare echo (236k against
# 364-392k): the two per-client AES-SIV keys and four AES-SIV messages per answer.
# Usage: nts-throughput.sh BUILDDIR [SECONDS] [RUNS]
set -u
build=$1 seconds=${2:-3} runs=${3:-3}
W=$(mktemp -d "${TMPDIR:-/tmp}/bench-nts.XXXXXX")
if [ "$(nproc)" -ge 2 ]; then
	SERVER="taskset -c 0" GENERATOR="taskset -c 1"
	placement="servers on core 0, generator on core 1"
else
	SERVER="" GENERATOR=""
	placement="one core: not pinned"
fi
free_udp() { /usr/bin/python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
free_tcp() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
CHRONY_PORT=$(free_udp) CHRONY_KE=$(free_tcp) PEER=$(free_udp) OURS=$(free_udp)
OURS_KE=$(free_tcp) REFLECT=$(free_udp)
cleanup() {
	[ -f "$W/chronyd.pid" ] && kill "$(cat "$W/chronyd.pid")" 2>/dev/null
	[ -n "${rpid:-}" ] && kill "$rpid" 2>/dev/null && wait "$rpid" 2>/dev/null
	[ -n "${qpid:-}" ] && kill -TERM "$qpid" 2>/dev/null && wait "$qpid" 2>/dev/null
	rm -rf "$W"
}
trap cleanup EXIT

# ---- a CA and a certificate for 127.0.0.1, the same for both servers ----
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
	-keyout "$W/ca.key" -out "$W/ca.pem" -subj "/CN=bench CA" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$W/nts.key" \
	-out "$W/nts.csr" -subj "/CN=127.0.0.1" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1\n' >"$W/san.cnf"
openssl x509 -req -in "$W/nts.csr" -CA "$W/ca.pem" -CAkey "$W/ca.key" -CAcreateserial \
	-days 1 -extfile "$W/san.cnf" -out "$W/nts.pem" 2>/dev/null
chmod 600 "$W/nts.key"

mkdir -m 700 "$W/chrony-nts"
cat >"$W/chrony.conf" <<END
port $CHRONY_PORT
bindaddress 127.0.0.1
allow 127.0.0.1
local stratum 1
ntsserverkey $W/nts.key
ntsservercert $W/nts.pem
ntsport $CHRONY_KE
ntsdumpdir $W/chrony-nts
pidfile $W/chronyd.pid
driftfile $W/drift
cmdport 0
END
$SERVER /usr/sbin/chronyd -x -u root -f "$W/chrony.conf" -l "$W/chrony.log" || { echo "chronyd did not start"; exit 1; }
$SERVER "$build/bench/ntp-reflector" 127.0.0.1 "$REFLECT" &
rpid=$!
"$build/tools/quorum-keygen" --out "$W/node" >/dev/null
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
transports = ( { name = "ntp"; path = "transports/ntp.so";
                 settings = { port = $OURS; rate_limit = 0; workers = 1;
                              nts = { port = $OURS_KE; cert = "nts.pem"; key = "nts.key"; }; }; } );
END
(cd "$W" && exec $SERVER "$build/host/quorumd" --config "$W/quorum.conf" 2>>"$W/quorumd.log") &
qpid=$!
for i in $(seq 50); do "$build/tools/quorumctl" time --clock "$W/clock" >/dev/null 2>&1 && break; sleep 0.1; done
"$build/tools/quorumctl" time --clock "$W/clock" >/dev/null 2>&1 || { echo "quorumd did not synchronise"; exit 1; }
cpid=$(cat "$W/chronyd.pid")

# cpu_ticks PID: user + system ticks of PID and its children (chronyd's NTS-KE helper).
cpu_ticks() {
	local t=0 p
	for p in $1 $(cat /proc/"$1"/task/*/children 2>/dev/null); do
		t=$((t + $(awk '{ print $14 + $15 }' "/proc/$p/stat" 2>/dev/null || echo 0)))
	done
	echo "$t"
}
# measure NAME PID COMMAND...: one run; prints "RATE TICKS" and the generator's line.
measure() {
	local name=$1 pid=$2 before after
	shift 2
	before=$(cpu_ticks "$pid")
	$GENERATOR "$@" >"$W/out" 2>&1
	after=$(cpu_ticks "$pid")
	echo "  $name: $(cat "$W/out"); server CPU $(awk -v t=$((after - before)) -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f s", t / hz }')" >&2
	echo "$(sed -n 's/^\([0-9]*\) \(answers\|handshakes\).*/\1/p' "$W/out" | head -1) $((after - before))"
}
NTS="$build/bench/bench-nts"
echo "NTS throughput, $seconds s runs, $placement; load average $(cut -d' ' -f1-3 /proc/loadavg)"
: >"$W/c.runs"; : >"$W/q.runs"; : >"$W/ck.runs"; : >"$W/qk.runs"; : >"$W/r.runs"; : >"$W/r48.runs"
for run in $(seq "$runs"); do # alternating
	measure "run $run chronyd NTS" "$cpid" "$NTS" ntp 127.0.0.1 "$CHRONY_KE" "$W/ca.pem" "$seconds" >>"$W/c.runs"
	measure "run $run quorumd NTS (1 worker)" "$qpid" "$NTS" ntp 127.0.0.1 "$OURS_KE" "$W/ca.pem" "$seconds" >>"$W/q.runs"
	size=$(sed -n 's/.* \([0-9]*\)-byte requests.*/\1/p' "$W/out")
	measure "run $run reflector, ${size:-228}-byte datagrams" "$rpid" "$build/bench/bench-ntp" 127.0.0.1 "$REFLECT" "$seconds" "${size:-228}" >>"$W/r.runs"
	measure "run $run reflector, 48-byte datagrams" "$rpid" "$build/bench/bench-ntp" 127.0.0.1 "$REFLECT" "$seconds" >>"$W/r48.runs"
	measure "run $run chronyd NTS-KE" "$cpid" "$NTS" ke 127.0.0.1 "$CHRONY_KE" "$W/ca.pem" "$seconds" 4 >>"$W/ck.runs"
	measure "run $run quorumd NTS-KE" "$qpid" "$NTS" ke 127.0.0.1 "$OURS_KE" "$W/ca.pem" "$seconds" 4 >>"$W/qk.runs"
done
echo "load average after the runs: $(cut -d' ' -f1-3 /proc/loadavg)"
/usr/bin/python3 - "$W" "$(getconf CLK_TCK)" "$seconds" <<'END'
import statistics, sys
w, hz, secs = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
def runs(name):
    rows = [tuple(map(int, l.split())) for l in open("%s/%s.runs" % (w, name)) if len(l.split()) == 2]
    rate = statistics.median([r for r, _ in rows]) if rows else 0
    eff = statistics.median([r * secs * hz / t if t else 0 for r, t in rows]) if rows else 0
    return rate, eff, " ".join(str(r) for r, _ in rows)
c, q, ck, qk = runs("c"), runs("q"), runs("ck"), runs("qk")
lim, lim48 = runs("r"), runs("r48")
for name, (rate, eff, all_) in (("chronyd NTS", c), ("quorumd NTS", q),
                                ("chronyd NTS-KE", ck), ("quorumd NTS-KE", qk),
                                ("reflector, NTS-sized", lim), ("reflector, 48 bytes", lim48)):
    print("%s: median %d/s (runs %s), %d per CPU-second" % (name, rate, all_, eff))
ratio = q[1] / c[1] if c[1] else 0
print("NTS answers per CPU-second: quorumd %d, chronyd %d: ratio %.2f (target >= 1.3: %s)"
      % (q[1], c[1], ratio, "met" if ratio >= 1.3 else "MISSED"))
print("NTS answers per second: quorumd %d, chronyd %d: ratio %.2f"
      % (q[0], c[0], q[0] / c[0] if c[0] else 0))
print("NTS-KE handshakes: quorumd %d/s (%d per CPU-second), chronyd %d/s (%d per CPU-second)"
      % (qk[0], qk[1], ck[0], ck[1]))
if lim48[0] and lim[0]:
    f = q[0] / lim48[0]
    print("quorumd NTS as a fraction of the plain limit %.2f (target >= 0.8: %s), of the "
          "NTS-sized limit %.2f; chronyd %.2f and %.2f"
          % (f, "met" if f >= 0.8 else "MISSED", q[0] / lim[0], c[0] / lim48[0], c[0] / lim[0]))
END
