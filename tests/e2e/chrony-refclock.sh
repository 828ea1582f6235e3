#!/bin/bash
# chrony-refclock.sh -- the machine's clock follows the quorum through chrony: node-1 of a
# 4-node local quorum runs the chrony transport, feeding a real chronyd (daemon mode, -x so
# that it never touches this machine's clock, its command socket in the test folder) through
# its SOCK refclock, configured with the line `quorumctl chrony-conf` prints. chronyc shows the
# refclock selected, with samples and an offset within the node's bound; stopping the quorum
# makes chrony stop using it (no sample arrives once the node is unsynchronised); restarting
# it makes chrony use it again; a chronyd that goes away is logged once, not per sample.
# Speaks TAP.
. "$(dirname "$0")/lib.sh"

command -v chronyd >/dev/null && command -v chronyc >/dev/null ||
	{ echo "1..0 # SKIP chrony is not installed (Debian package chrony)"; exit 0; }
[ "$(id -u)" -eq 0 ] || { echo "1..0 # SKIP chronyd -u root needs root"; exit 0; }
plan 16

W=$SCRATCH
PORT=$(free_port) RPORT=$(free_port)
bash "$QUORUM_SRCDIR/scripts/local-quorum.sh" --setup-only --dir "$W" --port "$PORT" \
	--interval-ms 250 --timeout-ms 100 --max-error-ns 1000000 --rest-port "$RPORT" \
	--builddir "$QUORUM_BUILDDIR" >/dev/null
C=$W/chrony
mkdir -m 700 "$C" # chronyd refuses a command socket in a folder others can enter
SOCK=$C/refclock.sock
# node-1 also feeds chronyd (the transport's `socket` setting names chronyd's socket)
sed -i "s|^transports = ( \(.*\) );\$|transports = ( \1, { name = \"chrony\"; path = \"transports/chrony.so\"; settings = { socket = \"$SOCK\"; }; } );|" \
	"$W/node-1/quorum.conf"
grep -q 'name = "chrony"' "$W/node-1/quorum.conf" || { diag "the chrony transport was not added"; exit 1; }

# ---- the configuration ----
cp "$W/node-1/quorum.conf" "$W/long.conf"
LONG=/$(printf 'x%.0s' $(seq 120))/chrony.sock
sed -i "s|socket = \"$SOCK\"|socket = \"$LONG\"|" "$W/long.conf"
(cd "$W/node-1" && "$QUORUMD" --check-config --config ../long.conf) >"$W/long.out" 2>&1
rc=$?
check "--check-config refuses a socket path no Unix address holds, naming the setting" \
	eval '[ $rc -ne 0 ] && grep -q "chrony.config_invalid setting=socket" "$W/long.out"'

for k in 1 2 3 4; do start_node "$k"; done
for k in 1 2 3 4; do wait_synced "$k" 20; done
check "the quorum serves time; node-1's chrony transport feeds $SOCK" \
	eval 'synced 1 && wait_log "$W/node-1/quorumd.log" "chrony.feeding socket=$SOCK"'

# chrony.conf, with the line quorumctl derives from node-1's configuration and served bound
"$CTL" chrony-conf --config "$W/node-1/quorum.conf" >"$W/line.out" 2>&1
rc=$?
sed 's/^/# /' "$W/line.out"
LINE=$(grep '^refclock ' "$W/line.out")
check "quorumctl chrony-conf prints the refclock line for node-1's socket (poll 1: 8 commits of 250 ms)" \
	eval '[ $rc -eq 0 ] && [[ "$LINE" =~ ^refclock\ SOCK\ $SOCK\ refid\ QTIM\ poll\ 1\ precision\ 0\.00001\ delay\ 0\.[0-9]+$ ]]'
check "... its delay is twice the bound given (--bound 123456 ns: 247 us, rounded up)" \
	eval '"$CTL" chrony-conf --socket /run/q.sock --bound 123456 --interval-ms 1000 |
	grep -qx "refclock SOCK /run/q.sock refid QTIM poll 3 precision 0.00001 delay 0.000247"'
cat >"$C/chrony.conf" <<EOF
$LINE
bindcmdaddress $C/chronyd.sock
cmdport 0
pidfile $C/chronyd.pid
driftfile $C/drift
EOF
start_chronyd() {
	chronyd -x -u root -f "$C/chrony.conf" -l "$C/chronyd.log"
	local i
	for i in $(seq 50); do [ -s "$C/chronyd.pid" ] && break; sleep 0.1; done
	PIDS="$PIDS $(cat "$C/chronyd.pid" 2>/dev/null)"
}
stop_chronyd() {
	local pid
	pid=$(cat "$C/chronyd.pid" 2>/dev/null) || return 0
	kill -TERM "$pid" 2>/dev/null
	for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	rm -f "$C/chronyd.pid"
}
chronyc_csv() { chronyc -h "$C/chronyd.sock" -n -c "$@" 2>/dev/null; }
# refclock FIELD: a field of chronyc -c sources' QTIM line (2 state, 6 reach, 7 last rx,
# 8 adjusted offset, 9 measured offset, 10 error; seconds)
refclock() { chronyc_csv sources | awk -F, -v f="$1" '$3 == "QTIM" { print $f }'; }
# wait_state STATE SECONDS
wait_state() {
	local i
	for i in $(seq $(($2 * 4))); do [ "$(refclock 2)" = "$1" ] && return 0; sleep 0.25; done
	diag "chronyc sources: $(chronyc -h "$C/chronyd.sock" -n sources 2>&1 | tail -1)"
	return 1
}
start_chronyd

# ---- chrony follows the quorum ----
check "chronyd selects the refclock (chronyc sources: * QTIM, reachable)" \
	eval 'wait_state "*" 30 && [ "$(refclock 6)" -gt 0 ]'
sleep 4 # a few more polls for sourcestats
chronyc -h "$C/chronyd.sock" -n sources | sed 's/^/# /'
chronyc -h "$C/chronyd.sock" -n sourcestats | sed 's/^/# /'
chronyc -h "$C/chronyd.sock" -n tracking | sed 's/^/# /'
BOUND=$("$CTL" time --json --clock "$W/node-1/clock" | "$PYTHON" -c 'import json, sys; print(json.load(sys.stdin)["error_bound_ns"])')
STATS=$(chronyc_csv sourcestats | awk -F, '$1 == "QTIM"')
MEASURED=$(refclock 9)
diag "node-1's bound now ${BOUND} ns; chrony's measured offset ${MEASURED} s; sourcestats $STATS"
check "chronyc sourcestats holds samples of the refclock (at least 3)" \
	eval '[ -n "$STATS" ] && [ "$(echo "$STATS" | cut -d, -f2)" -ge 3 ]'
check "chrony's offset to the refclock (last sample and sourcestats) is within the node's bound" \
	"$PYTHON" -c 'import sys
bound = int(sys.argv[1]) * 1e-9
measured, stats = float(sys.argv[2]), float(sys.argv[3].split(",")[6])
sys.exit(0 if abs(measured) <= bound and abs(stats) <= bound else 1)' "$BOUND" "$MEASURED" "$STATS"
TRACK=$(chronyc_csv tracking)
check "chronyc tracking: the reference is QTIM, the system clock within the bound of it" \
	"$PYTHON" -c 'import sys
f = sys.argv[1].split(",")
sys.exit(0 if f[1] == "QTIM" and abs(float(f[4])) <= int(sys.argv[2]) * 1e-9 else 1)' "$TRACK" "$BOUND"
check "chrony's error for the refclock covers the bound the line was derived from" \
	"$PYTHON" -c 'import sys
delay = float(sys.argv[1].split()[-1])
sys.exit(0 if float(sys.argv[2]) >= delay / 2 else 1)' "$LINE" "$(refclock 10)"

# ---- no quorum: no samples, and chrony stops using the refclock ----
for k in 2 3 4; do stop_node "$k"; done
LOST=$(date +%s)
check "node-1 loses the quorum, says so, and sends nothing more" \
	eval 'wait_unsynced 1 30 && wait_log "$W/node-1/quorumd.log" "chrony.silent socket=$SOCK reason=unsynchronised"'
check "chrony stops using the refclock (chronyc sources: ? QTIM, unreachable)" \
	eval 'wait_state "?" 40 && [ "$(refclock 6)" -eq 0 ]'
check "... its last sample is from before the quorum was lost" \
	eval '[ "$(refclock 7)" -ge $(($(date +%s) - LOST - 1)) ]'

# ---- the quorum back: chrony uses it again ----
for k in 2 3 4; do start_node "$k"; done
check "with the quorum back, chrony selects the refclock again" \
	eval 'wait_synced 1 30 && wait_state "*" 40'

# ---- chronyd gone: logged once, however many samples fail; back: logged ----
failed=$(count_log "$W/node-1/quorumd.log" "chrony.send_failed")
recovered=$(count_log "$W/node-1/quorumd.log" "chrony.send_recovered")
stop_chronyd
sleep 2 # 8 commits
check "chronyd gone: the failure is logged once for 8 commits, naming the socket" \
	eval '[ "$(count_log "$W/node-1/quorumd.log" "chrony.send_failed socket=$SOCK")" -eq $((failed + 1)) ]'
start_chronyd
check "chronyd back: the samples flow again (chrony.send_recovered), chrony selects the refclock" \
	eval 'for i in $(seq 100); do
		[ "$(count_log "$W/node-1/quorumd.log" "chrony.send_recovered socket=$SOCK")" -gt "$recovered" ] && break
		sleep 0.2
	done
	[ "$(count_log "$W/node-1/quorumd.log" "chrony.send_recovered")" -eq $((recovered + 1)) ] &&
	wait_state "*" 40'

stop_chronyd
stop_node 1
rc1=$EXIT_STATUS
for k in 2 3 4; do stop_node "$k"; done
check "node-1 stops cleanly and counts what it sent (chrony.stopped sent=N failed=M)" \
	eval '[ "$rc1" -eq 0 ] && grep -Eq "chrony.stopped socket=$SOCK sent=[1-9][0-9]* failed=[1-9]" "$W/node-1/quorumd.log"'
finish
