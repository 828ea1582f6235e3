#!/bin/bash
# ntp-throughput.sh -- NTP answers per second without loss: quorumd's NTP transport (a
# synchronised one-node quorum, rate limit off) against chronyd serving NTP on the same
# machine in the same run, each loaded by bench/bench-ntp (16 sockets x 16 requests in
# flight). Target: at least 1.5x chrony. Usage: ntp-throughput.sh BUILDDIR [SECONDS]
set -u
build=$1 seconds=${2:-3}
W=$(mktemp -d "${TMPDIR:-/tmp}/bench-ntp.XXXXXX")
free_udp() { /usr/bin/python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
CHRONY_PORT=$(free_udp) PEER=$(free_udp) OURS=$(free_udp)
cleanup() {
	[ -f "$W/chronyd.pid" ] && kill "$(cat "$W/chronyd.pid")" 2>/dev/null
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
/usr/sbin/chronyd -x -u root -f "$W/chrony.conf" -l "$W/chrony.log" || { echo "chronyd did not start"; exit 1; }
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
transports = ( { name = "ntp"; path = "transports/ntp.so"; settings = { port = $OURS; rate_limit = 0; }; } );
END
"$build/host/quorumd" --config "$W/quorum.conf" 2>"$W/quorumd.log" &
qpid=$!
for i in $(seq 50); do "$build/tools/quorumctl" time --clock "$W/clock" >/dev/null 2>&1 && break; sleep 0.1; done
rate() { sed -n 's/^\([0-9]*\) answers.*/\1/p' "$1"; }
best_c=0 best_q=0
for run in 1 2; do # alternate, keep each one's best
	"$build/bench/bench-ntp" 127.0.0.1 "$CHRONY_PORT" "$seconds" >"$W/c.out"
	"$build/bench/bench-ntp" 127.0.0.1 "$OURS" "$seconds" >"$W/q.out"
	echo "  run $run: chronyd   $(cat "$W/c.out")"
	echo "  run $run: quorumd   $(cat "$W/q.out")"
	[ "$(rate "$W/c.out")" -gt "$best_c" ] && best_c=$(rate "$W/c.out")
	[ "$(rate "$W/q.out")" -gt "$best_q" ] && best_q=$(rate "$W/q.out")
done
/usr/bin/python3 -c 'import sys; q, c = int(sys.argv[1]), int(sys.argv[2]); r = q / c if c else 0
print("NTP answers/s: quorumd %d, chronyd %d: ratio %.2f (target >= 1.5: %s)" % (q, c, r, "met" if r >= 1.5 else "MISSED"))' "$best_q" "$best_c"
