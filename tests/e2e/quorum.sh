#!/bin/bash
# quorum.sh -- end to end with a real local quorum: 4 quorumd nodes on loopback agree within
# 5 s; 1000 reads through libquorum-clock all contain true time (CLOCK_REALTIME: the nodes
# share this machine's clock); attestations verify offline; with 2 of 4 stopped the others
# go unsynchronised within the bound's lifetime and never serve a time outside it; restarted,
# agreement comes back; sequences keep increasing across restarts. Speaks TAP.
. "$(dirname "$0")/lib.sh"

plan 27

W=$SCRATCH
PORT=$(free_port)
READS=$QUORUM_BUILDDIR/tests/tools/clock-reads
# Margin for loaded machines (sanitizers, parallel suites): bounds of a few hundred us stay
# far below max_error; 500 ppm growth still fails closed within about 4 s.
MAX_ERROR_NS=2000000
DRIFT_PPM=500
INTERVAL_MS=500
bash "$QUORUM_SRCDIR/scripts/local-quorum.sh" --setup-only --dir "$W" --port "$PORT" \
	--interval-ms "$INTERVAL_MS" --max-error-ns "$MAX_ERROR_NS" --max-drift-ppm "$DRIFT_PPM" \
	--builddir "$QUORUM_BUILDDIR" \
	>/dev/null







for k in 1 2 3 4; do
	"$QUORUMD" --check-config --config "$W/node-$k/quorum.conf" >"$W/check-$k.log" 2>&1 ||
		{ sed 's/^/# /' "$W/check-$k.log"; }
done
check "the generated node configurations pass --check-config" \
	grep -q "config.ok" "$W/check-4.log"

start=$(date +%s%N)
for k in 1 2 3 4; do start_node "$k"; done
all=1
# How long it takes is reported, not judged (about 2 s on an idle machine; ASan on a busy
# one takes several times that): bench/ measures speed, tests check behaviour.
for k in 1 2 3 4; do wait_synced "$k" 30 || all=0; done
elapsed_ms=$((($(date +%s%N) - start) / 1000000))
diag "all four nodes synchronised after ${elapsed_ms} ms"
check "4 nodes reach agreement (${elapsed_ms} ms)" test "$all" -eq 1
check "the first commit moved each node from COLD_START to QUORUM_ACTIVE (audited)" \
	wait_log "$W/node-2/quorumd.log" "runtime.mode.transition plugin=control from=COLD_START to=QUORUM_ACTIVE reason=first_agreement_committed" 5
check "their agreement counts all 4 authorities (n=4, f=1)" \
	wait_log "$W/node-1/quorumd.log" "clock.commit .* accepted=4 n=4 f=1"

out=$("$READS" --clock "$W/node-1/clock" --reads 1000 --pause-us 500 --require-sync)
status=$?
diag "node-1: $out"
check "1000 reads through libquorum-clock: every bound contains CLOCK_REALTIME" test "$status" -eq 0
out=$("$READS" --clock "$W/node-3/clock" --reads 1000 --require-sync)
status=$?
diag "node-3: $out"
check "... on another node too, read back to back" test "$status" -eq 0

"$CTL" time --clock "$W/node-2/clock" >"$W/time.out"
check "quorumctl time reports synchronised with a bound" grep -q "^bound " "$W/time.out"
"$CTL" time --json --clock "$W/node-2/clock" >"$W/time.json"
check "quorumctl time --json has the round and n, f" \
	"$PYTHON" -c "import json; d = json.load(open('$W/time.json')); assert d['status'] == 'synchronised' and d['n'] == 4 and d['f'] == 1 and d['earliest_ns'] <= d['estimate_ns'] <= d['latest_ns']"
check "... and fits schemas/quorumctl-time.json" \
	"$PYTHON" "$QUORUM_SRCDIR/tests/tools/validate-json.py" "$QUORUM_SRCDIR/schemas/quorumctl-time.json" "$W/time.json"

# ---- signed attestations, checked offline ----
"$CTL" attest --peer "127.0.0.3:$PORT" --out "$W/answer.att" >"$W/attest.out"
check "quorumctl attest gets a signed answer from node-3" grep -q "^authority  node-3" "$W/attest.out"
NONCE=$(sed -n 's/^nonce *//p' "$W/attest.out")
"$CTL" verify --key "$W/keys/node-3.pub" --nonce "$NONCE" "$W/answer.att" >"$W/verify.out"
check "quorumctl verify accepts it with node-3's key and nonce" grep -q "^VALID: signed by node-3" "$W/verify.out"
"$CTL" verify --key "$W/keys/node-2.pub" "$W/answer.att" >"$W/verify-other.out"
check "... refuses it with another node's key" test $? -eq 1
"$CTL" verify --key "$W/keys/node-3.pub" --nonce "$(printf '%064d' 0)" "$W/answer.att" >"$W/verify-nonce.out"
check "... refuses it for another nonce" grep -q "INVALID: nonce_mismatch" "$W/verify-nonce.out"
cp "$W/answer.att" "$W/tampered.att"
flip_bit "$W/tampered.att" 40
"$CTL" verify --key "$W/keys/node-3.pub" "$W/tampered.att" >"$W/verify-tampered.out"
check "... refuses it with one bit flipped" test $? -eq 1
SEQ_BEFORE=$(sed -n 's/^sequence *//p' "$W/attest.out")

# ---- 2 of 4 stop: the others fail closed, within the bound's lifetime ----
"$READS" --clock "$W/node-1/clock" --reads 200000 --pause-us 100 --until-unsync >"$W/reads-during.out" &
READER=$!
stop_node 3
stop_node 4
stopped_at=$(date +%s%N)
# The bound grows by max_drift_ppm per second from the last agreement until it passes
# max_error: at most MAX_ERROR_NS / DRIFT_PPM us, plus a round and a margin.
lifetime_s=$((MAX_ERROR_NS / DRIFT_PPM / 1000 + 2))
wait_unsynced 1 "$lifetime_s"
unsync1=$?
wait_unsynced 2 "$lifetime_s"
unsync2=$?
took_ms=$((($(date +%s%N) - stopped_at) / 1000000))
check "with 2 of 4 stopped, node-1 and node-2 go unsynchronised (after ${took_ms} ms, limit ${lifetime_s} s)" \
	test "$unsync1" -eq 0 -a "$unsync2" -eq 0
wait "$READER"
reader_status=$?
diag "node-1 while failing: $(cat "$W/reads-during.out")"
check "... and never served a time outside its bound meanwhile" test "$reader_status" -eq 0
check "... because no quorum answers any more (insufficient_quorum)" \
	wait_log "$W/node-1/quorumd.log" "bft.sync.reject plugin=convergence reason=insufficient_quorum"
check "... and a streak of 8 rejected rounds trips the circuit breaker: DEGRADED" \
	wait_log "$W/node-1/quorumd.log" "runtime.mode.transition plugin=control from=QUORUM_ACTIVE to=DEGRADED reason=circuit_breaker_trip" 10
check "quorumctl time says unsynchronised and exits 1" test "$(
	"$CTL" time --clock "$W/node-1/clock" >/dev/null
	echo $?
)" -eq 1

# ---- restart: agreement comes back; sequences keep increasing ----
start_node 3
start_node 4
check "node-3 restarts from its saved state, serving nothing until a fresh agreement" \
	wait_log "$W/node-3/quorumd.log" "bft.resume.startup status=loaded .* served=unsynchronised"
all=1
for k in 1 2 3 4; do wait_synced "$k" 30 || all=0; done
check "restarted, all four agree again" test "$all" -eq 1
check "... and a run of 8 accepted rounds closes the breaker: QUORUM_ACTIVE again" \
	wait_log "$W/node-1/quorumd.log" "runtime.mode.transition plugin=control from=DEGRADED to=QUORUM_ACTIVE reason=circuit_breaker_closed" 15
out=$("$READS" --clock "$W/node-4/clock" --reads 1000 --require-sync)
status=$?
diag "node-4 after restart: $out"
check "... and the restarted node's bounds contain true time" test "$status" -eq 0
"$CTL" attest --peer "127.0.0.3:$PORT" >"$W/attest-after.out"
SEQ_AFTER=$(sed -n 's/^sequence *//p' "$W/attest-after.out")
diag "node-3 sequence before restart $SEQ_BEFORE, after $SEQ_AFTER"
check "node-3's sequence numbers kept increasing across its restart" \
	test -n "$SEQ_AFTER" -a "${SEQ_AFTER:-0}" -gt "${SEQ_BEFORE:-0}"
check "no honest answer was refused as stale after the restarts" \
	test "$(cat "$W"/node-*/quorumd.log | grep -c "reason=stale_sequence")" -eq 0

for k in 1 2 3 4; do stop_node "$k"; done
check "the nodes stop with status 0" test "$EXIT_STATUS" -eq 0
"$READS" --clock "$W/node-1/clock" --reads 10 >"$W/after-stop.out"
check "a stopped node's page says unsynchronised" grep -q "unsynchronised=10" "$W/after-stop.out"

finish
