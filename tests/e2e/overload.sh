#!/bin/bash
# overload.sh -- overload and faults on a real local quorum of 4 (scripts/local-quorum.sh),
# node-1 serving NTP (rate limit off: every request it can take is answered), REST, WebSocket
# and gRPC with short timeouts (header_timeout_ms 2000, idle_timeout_s 15; 40 under ASan).
#  (a) an NTP flood from another process (tests/tools/ntp-flood) at several times the rate
#      node-1 can answer, for 10 s: REST /v1/time keeps answering (curl every 50 ms), node-1
#      keeps agreeing with the others, its RSS does not grow; node-2 (rate limit on) flooded
#      from 200 source addresses keeps its per-source state bounded;
#  (b) 10 000 idle connections to REST (each after one request, the worst case), 2 000 to
#      WebSocket (past its max_connections: the rest closed at once) and 2 000 to gRPC (each
#      after one call: with its HTTP/2 session) (tests/tools/conn-hold.py): bytes per idle
#      connection measured and bounded, a normal request answered within 1 s, every idle
#      connection closed by the idle timeout;
#  (c) slowloris: 200 connections per transport dribbling a request head (REST), an upgrade
#      (WebSocket), the HTTP/2 preface or a header block (gRPC), a byte a second, are closed
#      at the header deadline while normal clients are served.
# Needs 14 500 descriptors for node-1 (raised with ulimit; as root if the hard limit is
# lower), else (b) is skipped. Speaks TAP.
. "$(dirname "$0")/lib.sh"
plan 24

W=$SCRATCH
FLOOD=$QUORUM_BUILDDIR/tests/tools/ntp-flood
HOLD="$PYTHON $QUORUM_SRCDIR/tests/tools/conn-hold.py"
GRPC_CLIENT="$PYTHON $QUORUM_SRCDIR/tests/tools/grpc-client.py $QUORUM_SRCDIR/proto"
# Under AddressSanitizer RSS measures its allocator (freed memory waits in a quarantine of
# up to 256 MiB, every block has redzones), not the daemon: memory bounds are checked in
# plain builds only, and the numbers reported either way. Requests are slower there too:
# 10 000 connections each making a request take seconds to open, so idle ones live longer.
# 15 s (40 under ASan): opening 10 000 connections took 5.4 s on a busy two-core machine
# (13.9 s under ASan), and the first of them must still be open when the last is.
IDLE_S=15
[ -z "$ASAN" ] || IDLE_S=40
REST_IDLE=10000 WS_IDLE=2000 WS_MAX=1500 GRPC_IDLE=2000
NEED_FDS=$((REST_IDLE + WS_MAX + GRPC_IDLE + 1000))

Q=$W/quorum
QPORT=$(free_port) NTPP=$(free_port) RPORT=$(free_port) WSP=$(free_port) GRPCP=$(free_port)
bash "$QUORUM_SRCDIR/scripts/local-quorum.sh" --setup-only --dir "$Q" --port "$QPORT" \
	--interval-ms 500 --ntp-port "$NTPP" --rest-port "$RPORT" \
	--builddir "$QUORUM_BUILDDIR" >/dev/null
# node-1: NTP without a rate limit, REST, WebSocket and gRPC with short timeouts
LIMITS="header_timeout_ms = 2000; idle_timeout_s = $IDLE_S;"
sed -i '/^transports = (/,$d' "$Q/node-1/quorum.conf"
cat >>"$Q/node-1/quorum.conf" <<END
transports = (
  { name = "ntp"; path = "transports/ntp.so"; settings = { address = "127.0.0.1"; port = $NTPP; rate_limit = 0; }; },
  { name = "rest"; path = "transports/rest.so"; settings = { address = "127.0.0.1"; port = $RPORT; rate_limit = 0; max_connections = 12000; $LIMITS }; },
  { name = "ws"; path = "transports/ws.so"; settings = { address = "127.0.0.1"; port = $WSP; max_connections = $WS_MAX; $LIMITS }; },
  { name = "grpc"; path = "transports/grpc.so"; settings = { address = "127.0.0.1"; port = $GRPCP; rate_limit = 0; max_connections = 2500; $LIMITS }; }
);
END
# Descriptors for this shell and so for the nodes and the tools: as many as node-1 needs
# when the hard limit allows (root may raise that too).
ulimit -Hn "$NEED_FDS" 2>/dev/null
ulimit -n "$NEED_FDS" 2>/dev/null || ulimit -n "$(ulimit -Hn)"
NOFILE=$(ulimit -n)
QUORUM_DIR=$Q
for k in 1 2 3 4; do start_node "$k"; done
N1=${NODE_PID[1]}
LOG1=$Q/node-1/quorumd.log
URL=http://127.0.0.1:$RPORT
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
# rss_check DESCRIPTION COMMAND...: check, or SKIP under ASan
rss_check() {
	if [ -n "$ASAN" ]; then ok "# SKIP under AddressSanitizer RSS is its allocator's: $1"; else check "$@"; fi
}
fds_of() { ls "/proc/$1/fd" | wc -l; }
round_of() { # the agreement round node-1 serves, from /v1/time
	curl -sS --max-time 2 "$URL/v1/time" |
		"$PYTHON" -c 'import json, sys; print(json.load(sys.stdin)["quorum"]["round"])' 2>/dev/null
}
# json_get JSON EXPRESSION: EXPRESSION evaluated over the document d
json_get() { "$PYTHON" -c 'import json, sys; d = json.loads(sys.argv[1]); print(eval(sys.argv[2]))' "$1" "$2"; }
kv() { sed -n "s/.*\\b$2=\\([0-9.]*\\).*/\\1/p" <<<"$1"; } # kv LINE KEY: KEY=value's value

check "the local quorum of 4 agrees: node-1's /readyz is 200" wait_http "$URL/readyz" ok 20
for p in "$WSP" "$GRPCP"; do wait_log "$LOG1" "port=$p .*idle_timeout_s=$IDLE_S" 5 >/dev/null; done

# ---- (a) an NTP flood ----
# One flooder per core (at most 8): node-1 answers on one loop thread, and one sending
# thread alone may not outpace it on a machine with cores to spare. Each sends from 8
# sockets on 8 addresses of its own (127.0.K.10...).
FLOODERS=$(nproc 2>/dev/null || echo 2)
[ "$FLOODERS" -ge 1 ] || FLOODERS=1
[ "$FLOODERS" -le 8 ] || FLOODERS=8
# flood SECONDS TAG: the flooders against node-1's NTP, in the background; FLOOD_PIDS
flood() {
	local f
	FLOOD_PIDS=
	for f in $(seq "$FLOODERS"); do
		"$FLOOD" --from "127.0.$f.10" --sources 8 127.0.0.1 "$NTPP" "$1" >"$W/$2-$f.out" &
		FLOOD_PIDS="$FLOOD_PIDS $!"
	done
	PIDS="$PIDS $FLOOD_PIDS"
}
# flood_total TAG KEY: KEY summed over the flooders' outputs
flood_total() { cat "$W/$1"-*.out | sed -n "s/.*\b$2=\([0-9.]*\).*/\1/p" | awk '{ s += $1 } END { printf "%.0f", s }'; }
flood 2 cal
wait $FLOOD_PIDS
diag "calibration, 2 s flat out ($FLOODERS flooder(s)): node-1 answered $(flood_total cal answers_per_s)/s of $(flood_total cal sent_per_s)/s sent"
R0=$(round_of)
RSS0=$(rss_kb "$N1")
flood 10 flood
: >"$W/rest.lat"
RSS_MAX=$RSS0
while kill -0 $FLOOD_PIDS 2>/dev/null; do
	curl -s -o /dev/null --max-time 2 -w '%{http_code} %{time_total}\n' "$URL/v1/time" \
		>>"$W/rest.lat" 2>/dev/null # a failure writes "000 TIME"
	r=$(rss_kb "$N1")
	[ "$r" -gt "$RSS_MAX" ] && RSS_MAX=$r
	sleep 0.05
done
wait $FLOOD_PIDS
R1=$(round_of)
for f in "$W"/flood-*.out; do diag "flood (10 s): $(cat "$f")"; done
SENT_RATE=$(flood_total flood sent_per_s)
CAPACITY=$(flood_total flood answers_per_s)
# What node-1 sustained is what it answered while flooded; the rest the kernel dropped.
FACTOR=$("$PYTHON" -c 'import sys; print("%.1f" % (float(sys.argv[1]) / max(float(sys.argv[2]), 1)))' \
	"$SENT_RATE" "$CAPACITY")
diag "node-1 answered $CAPACITY NTP requests/s while the flood sent $SENT_RATE/s: $FACTOR times what it could answer"
check "the flood ran at several (>= 2) times the rate node-1 could answer" \
	"$PYTHON" -c 'import sys; sys.exit(0 if float(sys.argv[1]) >= 2 else 1)' "$FACTOR"
STATS=$("$PYTHON" - "$W/rest.lat" <<'PY'
import sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
ok = sorted(float(t) for c, t in rows if c == "200")
p = lambda q: ok[min(len(ok) - 1, int(q * len(ok)))] * 1000 if ok else 9999
print("%d %d %.1f %.1f %.1f %.1f" % (len(rows), len(ok), 100.0 * len(ok) / max(len(rows), 1),
                                     p(0.5), p(0.99), (ok[-1] * 1000 if ok else 9999)))
PY
)
read -r N_REQ N_OK PCT P50 P99 PMAX <<<"$STATS"
diag "REST /v1/time during the flood: $N_OK of $N_REQ answered 200 ($PCT%), latency p50 $P50 ms, p99 $P99 ms, max $PMAX ms"
# How many requests fit in the 10 s depends on how busy the machine is (14 under ASan on a
# busy machine, 40 on a loaded CI run, 100+ idle): 10 are enough to judge the share answered
# (with 10, every one must be).
check "REST kept answering during the flood: >= 95% of the requests 200 (synchronised answers)" \
	"$PYTHON" -c 'import sys; sys.exit(0 if int(sys.argv[2]) >= 10 and float(sys.argv[1]) >= 95 else 1)' "$PCT" "$N_REQ"
check "... with a p99 latency under 300 ms" \
	"$PYTHON" -c 'import sys; sys.exit(0 if float(sys.argv[1]) < 300 else 1)' "$P99"
diag "node-1's agreement round: $R0 before the flood, $R1 after (one round per 500 ms)"
check "node-1 kept agreeing through the flood (>= 10 new rounds in its 10 s) and is ready after it" \
	eval '[ -n "$R0" ] && [ -n "$R1" ] && [ $((R1 - R0)) -ge 10 ] && [ "$(curl -s --max-time 2 "$URL/readyz")" = ok ]'
diag "node-1's RSS: $RSS0 kB before, at most $RSS_MAX kB during the flood"
# The NTP path allocates nothing per datagram (static batch buffers, a fixed table):
# any growth beyond malloc's noise would be a leak.
rss_check "node-1's RSS grew by less than 20 MiB during the flood" test $((RSS_MAX - RSS0)) -lt 20480
N2=${NODE_PID[2]}
RSS2=$(rss_kb "$N2")
F2=$("$FLOOD" --from 127.0.1.10 --sources 200 127.0.0.2 "$NTPP" 3)
diag "node-2 (64 requests/s per source, bursts of 128) flooded from 200 addresses for 3 s: $F2"
diag "node-2's RSS: $RSS2 kB before, $(rss_kb "$N2") kB after"
check "node-2 rate-limited the flood from 200 sources: RATE kisses" test "$(kv "$F2" rate_kisses)" -gt 0
# Its per-source state is a fixed table (160 KiB, allocated at start): RSS stays where it
# was, within allocator noise.
rss_check "... and its RSS stayed where it was (+< 8 MiB): no per-source growth" \
	test $(($(rss_kb "$N2") - RSS2)) -lt 8192

# ---- (b) idle connections ----
# hold PORT ARGS...: conn-hold.py against node-1 in the background; its JSON in $W/hold-PORT*
hold() {
	local port=$1 tag=$2
	shift 2
	rm -f "$W/ready-$tag"
	$HOLD 127.0.0.1 "$port" --ready-file "$W/ready-$tag" "$@" >"$W/hold-$tag.json" 2>&1 &
	PIDS="$PIDS $!"
	HOLD_PID=$!
}
# wait_opened TAG FDS: until the tool has opened its connections and node-1 has FDS
# descriptors (less a few: the daemon's own may come and go)
wait_opened() {
	local i
	for i in $(seq 400); do
		[ -s "$W/ready-$1" ] && [ "$(fds_of "$N1")" -ge $(($2 - 8)) ] && return 0
		sleep 0.05
	done
	diag "$1: $(cat "$W/ready-$1" 2>/dev/null || echo "not ready"), node-1 has $(fds_of "$N1") descriptors, wanted $2"
	return 1
}
if [ "$NOFILE" != unlimited ] && [ "$NOFILE" -lt "$NEED_FDS" ]; then
	for i in $(seq 8); do
		ok "# SKIP node-1 may have $NOFILE descriptors, (b) needs $NEED_FDS (raise the hard limit, as root)"
	done
else
	sleep 1 # the flood's last answers gone
	FD0=$(fds_of "$N1") RSS0=$(rss_kb "$N1")
	hold "$RPORT" rest --idle "$REST_IDLE" --first-request --hold $((IDLE_S + 20))
	REST_HOLD=$HOLD_PID
	wait_opened rest $((FD0 + REST_IDLE))
	FD1=$(fds_of "$N1") RSS1=$(rss_kb "$N1")
	hold "$WSP" ws --idle "$WS_IDLE" --hold $((IDLE_S + 20))
	WS_HOLD=$HOLD_PID
	wait_opened ws $((FD1 + WS_MAX))
	FD2=$(fds_of "$N1") RSS2=$(rss_kb "$N1")
	hold "$GRPCP" grpc --idle "$GRPC_IDLE" --first-request --proto h2 --hold $((IDLE_S + 20))
	GRPC_HOLD=$HOLD_PID
	wait_opened grpc $((FD2 + GRPC_IDLE))
	FD3=$(fds_of "$N1") RSS3=$(rss_kb "$N1")
	T=$(curl -s -o /dev/null --max-time 5 -w '%{http_code} %{time_total}' "$URL/v1/time")
	per() { echo $((($2 - $1) * 1024 / ($4 - $3 > 0 ? $4 - $3 : 1))); } # bytes per connection
	B_REST=$(per "$RSS0" "$RSS1" "$FD0" "$FD1")
	B_WS=$(per "$RSS1" "$RSS2" "$FD1" "$FD2")
	B_GRPC=$(per "$RSS2" "$RSS3" "$FD2" "$FD3")
	diag "idle connections open at node-1: REST $((FD1 - FD0)), WebSocket $((FD2 - FD1)), gRPC $((FD3 - FD2)); RSS $RSS0 -> $RSS1 -> $RSS2 -> $RSS3 kB"
	diag "bytes of RSS per idle connection: REST $B_REST, WebSocket $B_WS, gRPC $B_GRPC (the kernel's socket buffers not counted)"
	check "REST: 10 000 idle connections held (the daemon's descriptors)" \
		test $((FD1 - FD0)) -ge $((REST_IDLE - 8))
	# Bounds: 2 KiB per connection for REST (a struct and two events: its buffers are given
	# back after each request), 4 KiB for WebSocket (a bufferevent), 24 KiB for gRPC (a
	# bufferevent and, after a call, nghttp2's session with its HPACK tables and frame
	# buffer): 10 000 idle REST connections then cost under 20 MiB, all 13 500 under 64 MiB.
	rss_check "... at most 2 KiB of RSS each; WebSocket 4 KiB, gRPC 24 KiB; 64 MiB in all" \
		eval '[ "$B_REST" -le 2048 ] && [ "$B_WS" -le 4096 ] && [ "$B_GRPC" -le 24576 ] && [ $((RSS3 - RSS0)) -lt 65536 ]'
	diag "a normal request with all of them open: $T"
	check "... and a normal request is answered within 1 s meanwhile" \
		eval '[ "${T%% *}" = 200 ] && "$PYTHON" -c "import sys; sys.exit(0 if float(sys.argv[1]) < 1 else 1)" "${T#* }"'
	wait "$REST_HOLD" "$WS_HOLD" "$GRPC_HOLD"
	for tag in rest ws grpc; do diag "$tag: $(cat "$W/hold-$tag.json")"; done
	# closed_by_idle TAG N: N connections, all closed by the server between idle_timeout_s
	# (less a little) and 5 s after it; none still open
	closed_by_idle() {
		json_get "$(cat "$W/hold-$1.json")" \
			"d['idle']['closed'] == $2 and d['idle']['open_at_end'] == 0 and $IDLE_S - 0.5 <= d['idle']['lifetime_s']['min'] and d['idle']['lifetime_s']['max'] <= $IDLE_S + 5" |
			grep -qx True
	}
	check "REST: every idle connection was closed by the idle timeout ($IDLE_S s)" closed_by_idle rest "$REST_IDLE"
	check "WebSocket: the $WS_MAX under max_connections too" closed_by_idle ws "$WS_MAX"
	check "... and the $((WS_IDLE - WS_MAX)) past it were closed at once" \
		eval 'json_get "$(cat "$W/hold-ws.json")" "d[\"idle\"][\"closed_at_once\"]" | grep -qx $((WS_IDLE - WS_MAX))'
	check "... logged at most once a second (ws.connection_refused, with their count)" \
		eval '[ "$(count_log "$LOG1" "event=ws.connection_refused ")" -ge 1 ] && [ "$(count_log "$LOG1" "event=ws.connection_refused ")" -le 3 ]'
	check "gRPC: every idle connection was closed by the idle timeout" closed_by_idle grpc "$GRPC_IDLE"
fi

# ---- (c) slowloris ----
sleep 0.5
hold "$RPORT" slow-rest --slow 200 --proto http --interval 1 --hold 10
S1=$HOLD_PID
hold "$WSP" slow-ws --slow 200 --proto ws --interval 1 --hold 10
S2=$HOLD_PID
hold "$GRPCP" slow-h2 --slow 200 --proto h2 --interval 1 --hold 10
S3=$HOLD_PID
hold "$GRPCP" slow-h2h --slow 100 --proto h2-headers --interval 1 --hold 10
S4=$HOLD_PID
sleep 1
T=$(curl -s -o /dev/null --max-time 5 -w '%{http_code} %{time_total}' "$URL/v1/time")
G=$($GRPC_CLIENT "127.0.0.1:$GRPCP" status 2>&1)
diag "during the slowloris: REST $T; gRPC GetStatus $G"
check "normal clients are served during the slowloris (REST within 1 s, gRPC OK)" \
	eval '[ "${T%% *}" = 200 ] && "$PYTHON" -c "import sys; sys.exit(0 if float(sys.argv[1]) < 1 else 1)" "${T#* }" && { ! "$PYTHON" -c "import grpc" 2>/dev/null || [ "$(json_get "$G" "d[\"code\"]")" = OK ]; }'
wait "$S1" "$S2" "$S3" "$S4"
for tag in slow-rest slow-ws slow-h2 slow-h2h; do diag "$tag: $(cat "$W/hold-$tag.json")"; done
# closed_at_deadline TAG N: N slow connections, all closed by the server 1.5 to 5 s after
# they connected (the deadline is 2 s; a byte a second would never let the idle timeout
# close them)
closed_at_deadline() {
	json_get "$(cat "$W/hold-$1.json")" \
		"d['slow']['closed'] == $2 and d['slow']['open_at_end'] == 0 and 1.5 <= d['slow']['lifetime_s']['min'] and d['slow']['lifetime_s']['max'] <= 5" |
		grep -qx True
}
check "REST: 200 slow request heads were closed at the header deadline (2 s)" closed_at_deadline slow-rest 200
check "WebSocket: 200 slow upgrade requests too" closed_at_deadline slow-ws 200
check "gRPC: 200 slow connection prefaces too" closed_at_deadline slow-h2 200
check "gRPC: 100 slow header blocks too" closed_at_deadline slow-h2h 100
check "... each transport logged it at most once a second (header_timeout)" \
	eval '[ "$(count_log "$LOG1" "event=rest.header_timeout ")" -ge 1 ] && [ "$(count_log "$LOG1" "event=rest.header_timeout ")" -le 6 ] && [ "$(count_log "$LOG1" "event=ws.header_timeout ")" -le 6 ] && [ "$(count_log "$LOG1" "event=grpc.header_timeout ")" -le 12 ]'
curl -s --max-time 2 "$URL/metrics" >"$W/metrics"
diag "$(grep '^quorum_rest_connections' "$W/metrics" | tr '\n' ' ')"
check "REST's /metrics counts the connections it closed, by reason" \
	eval 'grep -Eq "^quorum_rest_connections_closed_total\{reason=\"header_timeout\"\} ([2-9][0-9][0-9]|[0-9]{4,})$" "$W/metrics"'

STATUSES=
for k in 1 2 3 4; do stop_node "$k"; STATUSES="$STATUSES $EXIT_STATUS"; done
check "the four nodes stop with status 0 (under ASan: nothing leaked)" test "$STATUSES" = " 0 0 0 0"
finish
