#!/bin/bash
# ntp-server.sh -- the NTP transport (NTPv4 server) against real clients: chronyd as a client
# measures an offset within the bound we advertise; ntpdig (SNTP, port 123 only) reads our
# time after a SIGHUP moved the transport to port 123; the fields are checked at the packet
# level; an unsynchronised node answers LI 3 / stratum 0 / INIT with no time; rate limiting
# sends a RATE kiss; short, malformed and non-client packets get no answer and the node
# keeps serving; the answering threads (workers, each on its own SO_REUSEPORT socket) share
# one rate limit, and a SIGHUP changing the settings loses no request while the successor
# inherits the sockets (and closes the old group when their number changes). Speaks TAP.
. "$(dirname "$0")/lib.sh"
plan 23

CHRONYD=$(command -v chronyd || echo /usr/sbin/chronyd)
NTPDIG=$(command -v ntpdig || echo /usr/bin/ntpdig)
PROBE="$PYTHON $QUORUM_SRCDIR/tests/tools/ntp-probe.py"
W=$SCRATCH
mkdir -p "$W/node" "$W/lone"
"$KEYGEN" --out "$W/node/node" >/dev/null
"$KEYGEN" --out "$W/lone/node" >/dev/null
"$KEYGEN" --out "$W/lone/other" >/dev/null
UDP=$(free_port)
NTPP=$(free_port)
ntp_conf() { # FILE NTP-SETTINGS AUTHORITIES
	cat >"$1" <<END
node = { id = "solo"; key = "node.key"; state_dir = "state"; };
plugin_dir = "$QUORUM_BUILDDIR/lib";
trusted_plugin_keys = [ "$QUORUM_BUILDDIR/keys/plugin-dev.pub" ];
peer_link = { address = "127.0.0.1"; port = $UDP; };
authority = { radius_ns = 1000; kernel_status = false; };
rounds = { interval_ms = 200; timeout_ms = 50; };
clock = { shm = "clock"; };
authorities = ( $3 );
stages = ( { name = "convergence"; path = "stages/convergence.so"; },
           { name = "control"; path = "stages/control.so"; } );
transports = ( { name = "ntp"; path = "transports/ntp.so"; settings = { $2 }; } );
END
}
SELF="{ id = \"solo\"; address = \"127.0.0.1\"; port = $UDP; key = \"node.pub\"; }"
field() { "$PYTHON" -c 'import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$1" "$2"; }

# ---- unsynchronised: n = 4 configured, only this node answers: never agrees ----
LONE_UDP=$(free_port)
ntp_conf "$W/lone/quorum.conf" "port = $NTPP;" "$SELF,
  { id = \"b\"; address = \"127.0.0.2\"; port = $LONE_UDP; key = \"other.pub\"; },
  { id = \"c\"; address = \"127.0.0.3\"; port = $LONE_UDP; key = \"other.pub\"; },
  { id = \"d\"; address = \"127.0.0.4\"; port = $LONE_UDP; key = \"other.pub\"; }"
start_quorumd "$W/lone.log" --config "$W/lone/quorum.conf"
wait_log "$W/lone.log" "ntp.listening" 10 >/dev/null
sleep 0.5
a=$($PROBE time 127.0.0.1 "$NTPP" 2>&1)
diag "unsynchronised answer: $a"
check "an unsynchronised node answers LI 3, stratum 0, kiss code INIT, and no time" \
	eval "[ '$(field "$a" li)' = 3 ] && [ '$(field "$a" stratum)' = 0 ] && [ '$(field "$a" refid)' = INIT ] && [ '$(field "$a" tx_ns)' = 0 ] && [ '$(field "$a" rx_ns)' = 0 ]"
kill -TERM "$QPID"; wait_exit "$QPID" 10

# ---- a synchronised one-node quorum ----
ntp_conf "$W/node/quorum.conf" "port = $NTPP; rate_limit = 50; rate_burst = 20; workers = 2; stats_interval_s = 1;" "$SELF"
start_quorumd "$W/node.log" --config "$W/node/quorum.conf"
wait_log "$W/node.log" "ntp.listening" 10 >/dev/null
# The sockets bound to the NTP port (/proc/net/udp: local address 0100007F:PORT in hex).
udp_sockets() { grep -c " 0100007F:$(printf %04X "$1") " /proc/net/udp; }
check "two workers answer, each on its own SO_REUSEPORT socket" \
	eval "grep -q 'ntp.listening address=127.0.0.1 port=$NTPP .* workers=2 reuseport=1' '$W/node.log' && [ \$(udp_sockets $NTPP) -eq 2 ]"
for i in $(seq 50); do
	"$QUORUM_BUILDDIR/tools/quorumctl" time --clock "$W/node/clock" >/dev/null 2>&1 && break
	sleep 0.1
done
a=$($PROBE time 127.0.0.1 "$NTPP" 2>&1)
diag "answer: $a"
check "a mode 4 answer: LI 0, the client's version, stratum 1, refid BFTQ, origin = our transmit" \
	eval "[ '$(field "$a" li)' = 0 ] && [ '$(field "$a" vn)' = 4 ] && [ '$(field "$a" mode)' = 4 ] && [ '$(field "$a" stratum)' = 1 ] && [ '$(field "$a" refid)' = BFTQ ] && [ '$(field "$a" origin_matches)' = True ]"
# All on one machine clock: receive and transmit lie within [t1 - bound, t4 + bound].
check "receive and transmit are this machine's time within the advertised root dispersion" \
	"$PYTHON" -c '
import json, sys
a = json.loads(sys.argv[1]); b = a["root_dispersion_ns"]
ok = a["t1_ns"] - b <= a["rx_ns"] <= a["tx_ns"] <= a["t4_ns"] + b and 0 < b < 10**9 and a["ref_ns"] <= a["rx_ns"]
print("# dispersion %d ns, rx - t1 %d ns, t4 - tx %d ns" % (b, a["rx_ns"] - a["t1_ns"], a["t4_ns"] - a["tx_ns"]))
sys.exit(0 if ok else 1)' "$a"

# chronyd as a client, one-shot, never touching the clock.
echo "server 127.0.0.1 port $NTPP iburst minpoll -4 maxpoll -4" >"$W/chrony-client.conf"
timeout 30 "$CHRONYD" -Q -u root -f "$W/chrony-client.conf" -t 10 >"$W/chrony.out" 2>&1
offset=$(sed -n 's/.*System clock wrong by \([-0-9.]*\) seconds.*/\1/p' "$W/chrony.out")
a=$($PROBE time 127.0.0.1 "$NTPP" 2>&1)
bound=$(field "$a" root_dispersion_ns)
diag "chronyd measured offset ${offset:-none} s; our bound ${bound} ns"
check "chronyd (as a client) measures our time; its offset is within our advertised bound" \
	"$PYTHON" -c 'import sys; sys.exit(0 if sys.argv[1] and abs(float(sys.argv[1])) * 1e9 <= float(sys.argv[2]) else 1)' "${offset:-}" "$bound"

# ---- bad input gets nothing, and the node keeps serving ----
check "a short packet gets no answer" test "$($PROBE raw 127.0.0.1 "$NTPP" 2303)" = none
check "a server-mode (4) packet gets no answer" \
	test "$($PROBE raw 127.0.0.1 "$NTPP" "24$(printf '00%.0s' $(seq 47))")" = none
check "a version-0 packet gets no answer" \
	test "$($PROBE raw 127.0.0.1 "$NTPP" "03$(printf '00%.0s' $(seq 47))")" = none
check "a 48-byte client request still gets one" \
	test "$($PROBE raw 127.0.0.1 "$NTPP" "23$(printf '00%.0s' $(seq 47))")" = answer

# ---- rate limiting: 200 requests at once from 8 source ports (spread over both workers),
# burst 20: one bucket for the address, whichever worker reads ----
sleep 1
f=$($PROBE flood 127.0.0.1 "$NTPP" 200 8 2>&1)
diag "flood of 200 from 8 ports: $f"
check "a flood gets its burst answered, then one RATE kiss-o'-death (the workers share the bucket)" \
	"$PYTHON" -c 'import json,sys; c=json.loads(sys.argv[1]); sys.exit(0 if 15 <= c["time"] <= 30 and c["kiss"].get("RATE") == 1 else 1)' "$f"
sleep 1
a=$($PROBE time 127.0.0.1 "$NTPP" 2>&1)
check "... and the source is served again once its bucket refilled" test "$(field "$a" stratum)" = 1
check "the loop logs the workers' counters (ntp.stats, stats_interval_s = 1)" \
	wait_log "$W/node.log" "ntp.stats answered=[0-9]+ per_second=[0-9]+ .* rate_limited=[1-9][0-9]* .* workers=2" 3

# ---- hot reload: a fresh instance inherits the socket group; none of a steady stream of
# requests is lost ----
ntp_conf "$W/node/quorum.conf" "port = $NTPP; workers = 2; rate_limit = 0;" "$SELF"
kill -HUP "$QPID"
wait_log "$W/node.log" "ntp.listening address=127.0.0.1 port=$NTPP stratum=1 rate_limit=0 workers=2" 5 >/dev/null
$PROBE steady 127.0.0.1 "$NTPP" 3 >"$W/steady.out" 2>&1 &
STEADY=$!
sleep 1
ntp_conf "$W/node/quorum.conf" "port = $NTPP; stratum = 3; workers = 2; rate_limit = 0;" "$SELF"
kill -HUP "$QPID"
wait "$STEADY"
diag "requests through the reload: $(cat "$W/steady.out")"
check "SIGHUP (stratum 1 -> 3, same workers): every request answered, both strata seen" \
	"$PYTHON" -c 'import json,sys; r=json.load(open(sys.argv[1])); sys.exit(0 if r["lost"] == 0 and r["answered"] > 100 and sorted(r["strata"]) == [1, 3] else 1)' "$W/steady.out"
check "... the successor kept the two sockets" test "$(udp_sockets "$NTPP")" -eq 2

# ---- receive timestamps are the kernel's arrival times: 10 requests wait 0.3 s in the
# socket (the daemon stopped), yet each answer's receive time is its sending time ----
q=$($PROBE queued 127.0.0.1 "$NTPP" "$QPID" 10 0.3 2>&1)
diag "queued 0.3 s, arrival timestamps on: $q"
check "a request that waited in the socket is stamped received when it arrived (rx - t1 < 50 ms)" \
	"$PYTHON" -c 'import json,sys; r=json.loads(sys.argv[1]); sys.exit(0 if r["answered"] == 10 and -10**6 < r["min_rx_minus_t1_ns"] and r["max_rx_minus_t1_ns"] < 5 * 10**7 else 1)' "$q"
ntp_conf "$W/node/quorum.conf" "port = $NTPP; stratum = 3; workers = 2; rate_limit = 0; arrival_timestamps = false;" "$SELF"
stopped=$(count_log "$W/node.log" "event=ntp.stopped")
kill -HUP "$QPID"
wait_log "$W/node.log" "ntp.listening address=127.0.0.1 port=$NTPP stratum=3 .* arrival_timestamps=0" 5 >/dev/null
# The old generation shares the inherited sockets until it has drained: wait for its stop,
# or one of its workers (arrival timestamps on) could answer the queued requests.
for i in $(seq 100); do
	[ "$(count_log "$W/node.log" "event=ntp.stopped")" -gt "$stopped" ] && break
	sleep 0.05
done
q=$($PROBE queued 127.0.0.1 "$NTPP" "$QPID" 10 0.3 2>&1)
diag "queued 0.3 s, arrival timestamps off: $q"
check "... and with arrival_timestamps = false, when it was read (rx - t1 >= 0.25 s)" \
	"$PYTHON" -c 'import json,sys; r=json.loads(sys.argv[1]); sys.exit(0 if r["answered"] == 10 and r["min_rx_minus_t1_ns"] >= 25 * 10**7 else 1)' "$q"
# workers_reload N LOGGED: SIGHUP to N workers (stratum 3), waits for the successor to log
# LOGGED and the old instance to close its group; then $a is an answer.
workers_reload() {
	ntp_conf "$W/node/quorum.conf" "port = $NTPP; stratum = 3; workers = $1; rate_limit = 0;" "$SELF"
	kill -HUP "$QPID"
	wait_log "$W/node.log" "ntp.listening address=127.0.0.1 port=$NTPP stratum=3 .* $2" 5 >/dev/null
	sleep 0.5
	a=$($PROBE time 127.0.0.1 "$NTPP" 2>&1)
}
workers_reload 3 "workers=3 reuseport=1"
check "SIGHUP to three workers: three sockets, the old group closed, and it answers" \
	eval "[ \$(udp_sockets $NTPP) -eq 3 ] && [ '$(field "$a" stratum)' = 3 ]"
workers_reload 0 "workers=0 on_loop=1"
check "SIGHUP to workers = 0: one socket, answered on the event loop" \
	eval "[ \$(udp_sockets $NTPP) -eq 1 ] && [ '$(field "$a" stratum)' = 3 ] && [ '$(field "$a" li)' = 0 ]"

# ---- hot reload to port 123, read by ntpdig (SNTP speaks to port 123 only) ----
if [ "$(id -u)" -eq 0 ] && ! "$PYTHON" -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1",123))' 2>/dev/null; then
	ok "# SKIP port 123 on 127.0.0.1 is taken"
	ok "# SKIP port 123 on 127.0.0.1 is taken"
	ok "# SKIP port 123 on 127.0.0.1 is taken"
elif [ "$(id -u)" -ne 0 ]; then
	ok "# SKIP ntpdig needs port 123: run as root"
	ok "# SKIP ntpdig needs port 123: run as root"
	ok "# SKIP ntpdig needs port 123: run as root"
else
	ntp_conf "$W/node/quorum.conf" "port = 123; stratum = 2;" "$SELF"
	kill -HUP "$QPID"
	wait_log "$W/node.log" "ntp.listening address=127.0.0.1 port=123 stratum=2" 5 >/dev/null
	check "SIGHUP moves the NTP transport to port 123 with stratum 2 (a fresh instance)" test $? -eq 0
	timeout 20 "$NTPDIG" -t 2 127.0.0.1 >"$W/ntpdig.out" 2>&1
	rc=$?
	diag "ntpdig: $(cat "$W/ntpdig.out")"
	check "ntpdig reads our time (stratum 2)" eval "[ $rc -eq 0 ] && grep -q ' s2 ' '$W/ntpdig.out'"
	check "... and the old port no longer answers" \
		test "$($PROBE raw 127.0.0.1 "$NTPP" "23$(printf '00%.0s' $(seq 47))")" = none
fi
kill -TERM "$QPID"
wait_exit "$QPID" 10
check "quorumd stops with status 0 and reports what the NTP transport did" \
	eval "[ $EXIT_STATUS -eq 0 ] && grep -q 'ntp.stopped answered=' '$W/node.log'"
check "... and no worker failed to send or read (errors=0 in every stop line)" \
	eval "! grep 'ntp.stopped' '$W/node.log' | grep -vq ' errors=0 '"
finish
