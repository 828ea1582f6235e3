#!/bin/bash
# ntp.sh -- plain NTP servers as unauthenticated sources (type = "ntp"): three chronyd
# servers and one lying NTP server next to four quorumd authorities. The honest NTP servers
# narrow the agreement the authorities reached, the liar is outvoted, a kiss-of-death is
# refused, and NTP alone never decides: with too few authorities the node stays
# unsynchronised whatever the NTP servers say. Speaks TAP.
. "$(dirname "$0")/lib.sh"

plan 9

CHRONYD=$(command -v chronyd || echo /usr/sbin/chronyd)
if [ ! -x "$CHRONYD" ]; then
	echo "1..0 # SKIP chronyd is not installed (Debian package chrony)"
	exit 0
fi
W=$SCRATCH
PORT=$(free_port)
NTP_PORT=$(free_port)
CTL=$QUORUM_BUILDDIR/tools/quorumctl
READS=$QUORUM_BUILDDIR/tests/tools/clock-reads
LIAR=$QUORUM_BUILDDIR/tests/tools/liar
bash "$QUORUM_SRCDIR/scripts/local-quorum.sh" --setup-only --dir "$W" --port "$PORT" \
	--interval-ms 500 --max-error-ns 1000000 --builddir "$QUORUM_BUILDDIR" >/dev/null

# Three chronyd serving this machine's clock (they never touch it: -x), on 127.0.0.11-13.
for s in 1 2 3; do
	mkdir -p "$W/chrony-$s"
	cat >"$W/chrony-$s/chrony.conf" <<CONF
port $NTP_PORT
bindaddress 127.0.0.1$s
local stratum 8
allow 127.0.0.0/8
cmdport 0
pidfile $W/chrony-$s/chronyd.pid
driftfile $W/chrony-$s/drift
CONF
	"$CHRONYD" -x -u root -f "$W/chrony-$s/chrony.conf" -l "$W/chrony-$s/log"
done
stop_chrony() {
	for s in 1 2 3; do
		kill -TERM "$(cat "$W/chrony-$s/chronyd.pid" 2>/dev/null)" 2>/dev/null
	done
}
trap 'stop_chrony; cleanup' EXIT
# and one lying NTP server, a second ahead, on 127.0.0.14
"$LIAR" --protocol ntp --mode offset --offset-ns 1000000000 --id pool-liar \
	--key "$W/keys/node-1.key" --listen "127.0.0.14:$NTP_PORT" 2>"$W/ntp-liar.log" &
NTP_LIAR=$!
PIDS="$PIDS $NTP_LIAR"

# Every node asks the four NTP servers too.
for k in 1 2 3 4; do
	sed -i "s|^authorities = (|authorities = (\\
  { id = \"chrony-1\"; type = \"ntp\"; address = \"127.0.0.11\"; port = $NTP_PORT; },\\
  { id = \"chrony-2\"; type = \"ntp\"; address = \"127.0.0.12\"; port = $NTP_PORT; },\\
  { id = \"chrony-3\"; type = \"ntp\"; address = \"127.0.0.13\"; port = $NTP_PORT; },\\
  { id = \"pool-liar\"; type = \"ntp\"; address = \"127.0.0.14\"; port = $NTP_PORT; },|" \
		"$W/node-$k/quorum.conf"
done
declare -A NODE_PID
for k in 1 2 3 4; do
	(cd "$W/node-$k" && exec "$QUORUMD" --config quorum.conf 2>>quorumd.log) &
	NODE_PID[$k]=$!
	PIDS="$PIDS ${NODE_PID[$k]}"
done

check "the nodes count n=4 authorities and 4 NTP sources" \
	wait_log "$W/node-1/quorumd.log" "timecore.started .* n=4 f=1 ntp_sources=4"
check "the three honest NTP servers narrow the agreement (ntp_used=3)" \
	wait_log "$W/node-1/quorumd.log" "clock.commit .* accepted=4 n=4 f=1 ntp_used=3" 15
out=$("$READS" --clock "$W/node-1/clock" --reads 1000 --pause-us 1000 --require-sync)
status=$?
diag "node-1 with NTP narrowing: $out"
check "the narrowed bounds contain true time (1000 reads)" test "$status" -eq 0
check "the lying NTP server never counted (no commit used 4 NTP sources)" \
	test "$(grep -c "ntp_used=4" "$W/node-1/quorumd.log")" -eq 0

kill -TERM "$NTP_LIAR"
wait "$NTP_LIAR" 2>/dev/null
"$LIAR" --protocol ntp --mode kod --id pool-liar --key "$W/keys/node-1.key" \
	--listen "127.0.0.14:$NTP_PORT" 2>>"$W/ntp-liar.log" &
PIDS="$PIDS $!"
check "a kiss-of-death is refused" \
	wait_log "$W/node-1/quorumd.log" "bft.observation.reject reason=ntp_kiss_of_death source=pool-liar"

# NTP never decides: with two of four authorities left, the three honest NTP servers
# still answering, the node goes unsynchronised.
for k in 3 4; do kill -TERM "${NODE_PID[$k]}"; done
mark=$(wc -l <"$W/node-1/quorumd.log")
unsynced=1
for i in $(seq 200); do # up to 20 s: the bound's lifetime is 1 ms / 50 ppm = 20 s
	"$CTL" time --clock "$W/node-1/clock" >/dev/null 2>&1 || { unsynced=0; break; }
	sleep 0.1
done
check "with 2 of 4 authorities and 3 honest NTP servers, node-1 goes unsynchronised" \
	test "$unsynced" -eq 0
check "... refusing each round for insufficient_quorum, NTP answers notwithstanding" \
	sh -c "tail -n +$mark '$W/node-1/quorumd.log' | grep -q 'reason=insufficient_quorum'"
check "... and committing nothing after the authorities left" \
	sh -c "! tail -n +$((mark + 1)) '$W/node-1/quorumd.log' | grep -q 'clock.commit .* accepted=[0-2] '"
check "the chronyd servers answered all along (no malformed NTP)" \
	test "$(grep -c "ntp_malformed" "$W/node-1/quorumd.log")" -eq 0
stop_chrony
finish
