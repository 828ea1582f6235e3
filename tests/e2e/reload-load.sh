#!/bin/bash
# reload-load.sh -- hot reload under load: wrk keeps REST busy while a SIGHUP changes the
# WebSocket, gRPC and NTP transports' settings. No REST request fails or is refused, and the
# changed transports serve again with their new settings within 1 s. Speaks TAP.
. "$(dirname "$0")/lib.sh"
plan 6

WRK=$(command -v wrk || echo /usr/bin/wrk)
[ -x "$WRK" ] || { echo "1..0 # SKIP wrk is not installed (Debian package wrk)"; exit 0; }
W=$SCRATCH
mkdir -p "$W/node"
"$KEYGEN" --out "$W/node/node" >/dev/null
UDP=$(free_port) HTTP=$(free_port) WSP=$(free_port) NTPP=$(free_port) GRPCP=$(free_port)
conf() { # PUSH-MS STRATUM GRPC-RATE
	cat >"$W/node/quorum.conf" <<END
node = { id = "solo"; key = "node.key"; state_dir = "state"; };
plugin_dir = "$QUORUM_BUILDDIR/lib";
trusted_plugin_keys = [ "$QUORUM_BUILDDIR/keys/plugin-dev.pub" ];
peer_link = { address = "127.0.0.1"; port = $UDP; };
authority = { radius_ns = 1000; kernel_status = false; };
rounds = { interval_ms = 200; timeout_ms = 50; };
clock = { shm = "clock"; };
authorities = ( { id = "solo"; address = "127.0.0.1"; port = $UDP; key = "node.pub"; } );
stages = ( { name = "convergence"; path = "stages/convergence.so"; },
           { name = "control"; path = "stages/control.so"; } );
transports = (
  { name = "rest"; path = "transports/rest.so"; settings = { port = $HTTP; rate_limit = 0; }; },
  { name = "ws"; path = "transports/ws.so"; settings = { port = $WSP; push_interval_ms = $1; }; },
  { name = "ntp"; path = "transports/ntp.so"; settings = { port = $NTPP; stratum = $2; }; },
  { name = "grpc"; path = "transports/grpc.so"; settings = { port = $GRPCP; rate_limit = $3; }; }
);
END
}
conf 1000 1 100
start_quorumd "$W/node.log" --config "$W/node/quorum.conf"
wait_http "http://127.0.0.1:$HTTP/readyz" ok 10 >/dev/null
"$WRK" -t1 -c8 -d4s "http://127.0.0.1:$HTTP/v1/time" >"$W/wrk.out" 2>&1 &
LOAD=$!
sleep 1.5
conf 100 3 250
t0=$(date +%s%N)
kill -HUP "$QPID"
ready=""
for i in $(seq 100); do
	if grep -q "ws.listening address=127.0.0.1 port=$WSP push_interval_ms=100" "$W/node.log" &&
		grep -q "ntp.listening address=127.0.0.1 port=$NTPP stratum=3" "$W/node.log" &&
		grep -q "grpc.listening address=127.0.0.1 port=$GRPCP .* rate_limit=250" "$W/node.log"; then
		ready=$(date +%s%N)
		break
	fi
	sleep 0.01
done
ms=$(( (${ready:-$(date +%s%N)} - t0) / 1000000 ))
diag "the WebSocket, gRPC and NTP transports took their new settings ${ms} ms after SIGHUP"
check "the three changed transports were back with their new settings within 1 s" \
	test -n "$ready" -a "$ms" -lt 1000
r=$("$PYTHON" "$QUORUM_SRCDIR/tests/tools/ws-client.py" stream "ws://127.0.0.1:$WSP/v1/stream" 6 2>&1)
check "... the stream pushes at the new interval" \
	"$PYTHON" -c 'import json,sys; sys.exit(0 if json.loads(sys.argv[1])["seconds"] < 0.9 else 1)' "$r"
a=$("$PYTHON" "$QUORUM_SRCDIR/tests/tools/ntp-probe.py" time 127.0.0.1 "$NTPP" 2>&1)
check "... NTP announces the new stratum" \
	"$PYTHON" -c 'import json,sys; sys.exit(0 if json.loads(sys.argv[1])["stratum"] == 3 else 1)' "$a"
if "$PYTHON" -c 'import grpc, grpc_tools' 2>/dev/null; then
	check "... gRPC answers on the successor instance" \
		"$PYTHON" -c 'import json,sys; sys.exit(0 if json.loads(sys.argv[1])["code"] == "OK" else 1)' \
		"$("$PYTHON" "$QUORUM_SRCDIR/tests/tools/grpc-client.py" "$QUORUM_SRCDIR/proto" "127.0.0.1:$GRPCP" status 2>&1)"
else
	ok "# SKIP python3-grpcio is not installed"
fi
wait "$LOAD"
sed 's/^/# /' "$W/wrk.out" | grep -E "requests in|Socket errors|Non-2xx|Requests/sec"
check "wrk's REST load saw no failed request across the reload (no socket errors, no non-2xx)" \
	eval "grep -q 'requests in' '$W/wrk.out' && ! grep -Eq 'Socket errors|Non-2xx' '$W/wrk.out'"
kill -TERM "$QPID"
wait_exit "$QPID" 10
check "quorumd stops with status 0" test "$EXIT_STATUS" -eq 0
finish
