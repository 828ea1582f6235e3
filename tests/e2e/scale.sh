#!/bin/bash
# scale.sh -- a local quorum of n = 13 (f = 4; scripts/local-quorum.sh, 1 s rounds) whose
# node-13 is a liar that signs one sequence for several askers (tests/tools/liar --mode
# reuse-sequence) from the start (issue 19). Rounds travel as compact digests to a few peers;
# where two disagree the nodes exchange the signed attestations: every honest node ends up
# quarantining node-13 for equivocation, and all twelve stay synchronised. Each node's CPU
# (from /proc) and peer-link traffic are reported, not judged (bench/scale.sh judges
# speed). Speaks TAP.
. "$(dirname "$0")/lib.sh"

N=13
plan 9

W=$SCRATCH
PORT=$(free_port)
CTL=$QUORUM_BUILDDIR/tools/quorumctl
LIAR=$QUORUM_BUILDDIR/tests/tools/liar
READS=$QUORUM_BUILDDIR/tests/tools/clock-reads
bash "$QUORUM_SRCDIR/scripts/local-quorum.sh" --setup-only --nodes "$N" --dir "$W" \
	--port "$PORT" --builddir "$QUORUM_BUILDDIR" >/dev/null
HONEST=$(seq $((N - 1)))

declare -A NODE_PID
for k in $HONEST; do
	(cd "$W/node-$k" && exec "$QUORUMD" --config quorum.conf 2>>quorumd.log) &
	NODE_PID[$k]=$!
	PIDS="$PIDS $!"
done
"$LIAR" --id "node-$N" --key "$W/keys/node-$N.key" --listen "127.0.0.$N:$PORT" \
	--mode reuse-sequence 2>"$W/liar.log" &
PIDS="$PIDS $!"
TICK=$(getconf CLK_TCK)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }

# ---- synchronised ----
synced_all() {
	local k i
	for k in $HONEST; do
		for i in $(seq 600); do
			"$CTL" time --clock "$W/node-$k/clock" >/dev/null 2>&1 && continue 2
			sleep 0.1
		done
		diag "node-$k is not synchronised"
		return 1
	done
}
check "the twelve honest nodes of n = 13 (f = 4) synchronise, the liar answering too" synced_all

# ---- the equivocation: detected by every honest node ----
quarantined_all() {
	local k
	for k in $HONEST; do
		wait_log "$W/node-$k/quorumd.log" \
			"pipeline.quarantine plugin=control source=node-$N reason=quarantine_logged cause=equivocation" 60 >/dev/null ||
			{ diag "node-$k did not quarantine node-$N"; return 1; }
	done
}
check "every honest node quarantines node-$N for equivocation (a report with both signed attestations)" \
	quarantined_all
check "... a digest disagreed and the signed attestation was sent (gossip.digest_disagrees)" \
	eval 'grep -q "gossip.digest_disagrees authority=node-$N sequence=[0-9]* peer=node-[0-9]* effect=attestation_sent" "$W"/node-*/quorumd.log'
check "... a node made the report from two attestations that verified (gossip.malfeasance ... reporter=)" \
	eval 'grep -Eq "gossip.malfeasance plugin=gossip authority=node-$N sequence=[0-9]+ first_digest=[0-9a-f]{64} second_digest=[0-9a-f]{64} reporter=node-" "$W"/node-*/quorumd.log'

# ---- the cost, reported; the honest nodes stay synchronised without node-13 ----
declare -A CPU0
for k in $HONEST; do CPU0[$k]=$(cpu_ticks "${NODE_PID[$k]}"); done
t0=$(date +%s%N)
ok_reads=1
for k in $HONEST; do
	"$READS" --clock "$W/node-$k/clock" --reads 100 --pause-us 10000 --require-sync >/dev/null ||
		{ diag "node-$k: unsynchronised reads"; ok_reads=0; }
done
t1=$(date +%s%N)
check "the twelve honest nodes stay synchronised with node-$N quarantined" test "$ok_reads" -eq 1
cpu=""
for k in $HONEST; do
	cpu="$cpu $(awk -v a="${CPU0[$k]}" -v b="$(cpu_ticks "${NODE_PID[$k]}")" -v t="$TICK" \
		-v s="$(((t1 - t0) / 1000000))" 'BEGIN {printf "%.1f", (b - a) / t * 1000000 / s}')"
done
diag "CPU per node over $(((t1 - t0) / 1000000)) ms, ms per s:$cpu"

for k in $HONEST; do
	kill -TERM "${NODE_PID[$k]}" 2>/dev/null
	wait "${NODE_PID[$k]}" 2>/dev/null
done
traffic=$(sed -n 's/.*peer.traffic bytes_in=\([0-9]*\) bytes_out=\([0-9]*\).*/\1 \2/p' "$W"/node-*/quorumd.log)
diag "peer-link bytes in/out per node over its life: $(echo "$traffic" | tr '\n' ',' | sed 's/,$//')"
check "each honest node logged its peer-link traffic when it stopped (peer.traffic)" \
	test "$(echo "$traffic" | grep -c .)" -eq $((N - 1))
# Rounds no longer travel whole: a node's vault holds its own round log, no peer's round.
rounds_ok=1
"$CTL" vault dump "$W/node-1/vault" >"$W/dump-1.txt" 2>&1 || rounds_ok=0
! grep -Eq "^[0-9]+ [0-9]+ event +[0-9a-f]+ event_id=uml001.worker.ntp_sync " "$W/dump-1.txt" ||
	rounds_ok=0
check "node-1's vault records no peer's round or digest one by one (counted in its round log)" \
	eval 'test "$rounds_ok" -eq 1 && ! grep -q "event_id=uml001.gossip.digest " "$W/dump-1.txt"'
check "... and holds the malfeasance report (uml001.gossip.malfeasance)" \
	grep -q "event .*event_id=uml001.gossip.malfeasance " "$W/dump-1.txt"
# Each checkpoint goes to witness_fanout (3) of the 11 other honest nodes, in turn.
witness=$(sed -n 's/.*merkle.witness_stopped submissions=\([0-9]*\) asked=\([0-9]*\).*/\1 \2/p' \
	"$W"/node-*/quorumd.log)
diag "witness submissions and peers asked per node: $(echo "$witness" | tr '\n' ',' | sed 's/,$//')"
check "each node asked 3 witnesses per checkpoint submitted, not every peer" \
	eval '[ "$(echo "$witness" | grep -c .)" -eq $((N - 1)) ] &&
	      echo "$witness" | awk "\$1 < 1 || \$2 != 3 * \$1 {bad = 1} END {exit bad}"'
finish
