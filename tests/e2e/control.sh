#!/bin/bash
# control.sh -- the control plane end to end on a real 4-node local quorum, with operator
# events signed by quorumctl and posted to node-1's REST POST /v1/events: an unsigned, a
# wrongly signed, a tampered and a replayed command change nothing; a signed set_mode does;
# an ISOLATED node commits nothing and comes back only through RECOVERY (epoch = another
# node's signed checkpoint, then a fresh agreement, then rejoin); a step over hitl_step_ns
# (three accomplice authorities 20 ms ahead) is held until an operator approves it, and a
# rejected one never commits. Speaks TAP.
. "$(dirname "$0")/lib.sh"

plan 43

W=$SCRATCH
PORT=$(free_port)
RPORT=$(free_port)
LIAR=$QUORUM_BUILDDIR/tests/tools/liar
HITL_STEP_NS=5000000 # 5 ms; the honest nodes share this machine's clock: steps of a few us
bash "$QUORUM_SRCDIR/scripts/local-quorum.sh" --setup-only --dir "$W" --port "$PORT" \
	--rest-port "$RPORT" --interval-ms 500 --max-error-ns 5000000 --max-drift-ppm 500 \
	--hitl-step-ns "$HITL_STEP_NS" --builddir "$QUORUM_BUILDDIR" >/dev/null
URL=http://127.0.0.1:$RPORT
# node-1 holds passport updates for an operator's approval
sed -i 's|state_dir = "passport"; }|state_dir = "passport"; hold_updates = true; }|' \
	"$W/node-1/quorum.conf"




mode() { json_field "$(http_get "$URL/v1/status")" mode; }
# post FILE: posts an encoded event; prints "STATUS REASON" (REASON "-" when accepted).
post() {
	local body code
	body=$(curl -sS --max-time 5 -o - -w '\n%{http_code}' --data-binary "@$1" \
		-H 'Content-Type: application/x-protobuf' "$URL/v1/events")
	code=${body##*$'\n'}
	body=${body%$'\n'*}
	printf '%s' "$body" >"$1.answer.json"
	printf '%s %s\n' "$code" "$("$PYTHON" -c 'import json,sys; print(json.loads(sys.argv[1]).get("reason","-"))' "$body" 2>/dev/null || echo unparsable)"
}
# command NAME ARGS...: an operator command signed with the operator's key into $W/NAME.ev
command() {
	local name=$1
	shift
	"$CTL" control "$@" --key "$W/keys/operator.key" --out "$W/$name.ev" 2>>"$W/ctl.log"
}
LOG=$W/node-1/quorumd.log
wait_count() { # FILE PATTERN COUNT SECONDS: until PATTERN occurs COUNT times in FILE
	local i
	for i in $(seq $(($4 * 20))); do
		[ "$(count_log "$1" "$2")" -ge "$3" ] && return 0
		sleep 0.05
	done
	return 1
}

for k in 1 2 3 4; do start_node "$k"; done
all=1
for k in 1 2 3 4; do wait_synced "$k" 10 || all=0; done
check "the 4 nodes agree" test "$all" -eq 1
check "node-1 is QUORUM_ACTIVE" test "$(mode)" = QUORUM_ACTIVE

# ---- refused commands change nothing ----
# Hand-made envelope: event_id and payload, no signature, no key id.
printf '\x12\x17uml001.control.set_mode\x1a\x13{"mode":"DEGRADED"}' >"$W/unsigned.ev"
check "an unsigned set_mode is refused (passport_signature_missing)" \
	test "$(post "$W/unsigned.ev")" = "403 passport_signature_missing"
"$CTL" control set-mode --mode DEGRADED --key "$W/keys/node-2.key" --out "$W/wrongkey.ev" 2>>"$W/ctl.log"
check "a set_mode signed by a key that is no operator's is refused" \
	test "$(post "$W/wrongkey.ev")" = "403 passport_signature_invalid"
command degraded set-mode --mode DEGRADED --reason "maintenance window"
LC_ALL=C sed 's/DEGRADED/ISOLATED/' "$W/degraded.ev" >"$W/tampered.ev"
check "a signed set_mode whose payload was changed is refused" \
	test "$(post "$W/tampered.ev")" = "403 passport_signature_invalid"
check "... and the mode did not change" test "$(mode)" = QUORUM_ACTIVE
check "... every refusal is counted by the passport stage, which runs first (no record each)" \
	eval 'wait_refusals "$URL/metrics" passport "signature_missing|capability_missing|bad_signature" 3 &&
	test "$(count_log "$LOG" "pipeline.event verdict=reject stage=passport")" -eq 0'

# ---- a signed command is obeyed, once ----
check "an operator's signed set_mode DEGRADED is accepted" test "$(post "$W/degraded.ev")" = "200 -"
check "... node-1 is DEGRADED" test "$(mode)" = DEGRADED
check "... logged as a transition with reason manual_set_mode" \
	wait_log "$LOG" "runtime.mode.transition plugin=control from=QUORUM_ACTIVE to=DEGRADED reason=manual_set_mode"
check "the same signed event posted again is refused as a replay (by the passport stage)" \
	test "$(post "$W/degraded.ev")" = "403 gossip_duplicate_rejected"
command bad-mode set-mode --mode SLEEPING
check "an unknown mode is refused (mode_set_payload_invalid)" \
	test "$(post "$W/bad-mode.ev")" = "403 mode_set_payload_invalid"

# ---- isolation and recovery ----
command isolate set-mode --mode ISOLATED
check "set_mode ISOLATED is accepted" test "$(post "$W/isolate.ev")" = "200 -"
check "an isolated node commits no agreement (mode_isolated_blocked)" \
	wait_log "$LOG" "reason=mode_isolated_blocked"
command active set-mode --mode QUORUM_ACTIVE
check "ISOLATED -> QUORUM_ACTIVE directly is refused by the transition table" \
	test "$(post "$W/active.ev")" = "403 mode_transition_rejected"
command rejoin-early recovery-rejoin
check "rejoin outside RECOVERY is refused" \
	test "$(post "$W/rejoin-early.ev")" = "403 recovery_rejoin_rejected"
command begin recovery-begin --reason "network restored"
check "recovery.begin: ISOLATED -> RECOVERY" test "$(post "$W/begin.ev")" = "200 -"
check "... node-1 is in RECOVERY" test "$(mode)" = RECOVERY
# However long the operator takes, the rounds RECOVERY blocks are no failing agreements:
# more of them than breaker_trip_after (8) leave node-1 in RECOVERY, not DEGRADED.
blocked=$(count_log "$LOG" "reason=recovery_write_blocked event_id=uml001.worker.ntp_sync")
for i in $(seq 200); do
	[ "$(count_log "$LOG" "reason=recovery_write_blocked event_id=uml001.worker.ntp_sync")" -ge $((blocked + 10)) ] && break
	sleep 0.1
done
check "... and stays there through 10 blocked rounds (no circuit_breaker_trip)" \
	eval '[ "$(mode)" = RECOVERY ] && ! grep -q circuit_breaker_trip "$LOG"'
command rejoin-noepoch recovery-rejoin
check "rejoin before the epoch is verified is refused (recovery_rejoin_without_epoch)" \
	test "$(post "$W/rejoin-noepoch.ev")" = "403 recovery_rejoin_without_epoch"
# Both nodes have signed a checkpoint within a second of their start (checkpoint_ms).
wait_http "$URL/v1/checkpoint" "^quorum-time/node-1" 10 >/dev/null
# an epoch is a checkpoint with a synchronised time witness (node-2's first may precede its
# first agreement on a busy machine)
wait_http "http://127.0.0.2:$RPORT/v1/checkpoint" "^time [0-9]+ [0-9]+ synchronised$" 10 >/dev/null
http_get "$URL/v1/checkpoint" >"$W/own.cp"
command epoch-own recovery-epoch --checkpoint "$W/own.cp"
check "node-1's own checkpoint is no epoch" \
	test "$(post "$W/epoch-own.ev")" = "403 recovery_epoch_verify_rejected"
curl -sS --max-time 5 "http://127.0.0.2:$RPORT/v1/checkpoint" >"$W/node2.cp"
sed 's/^\([0-9][0-9]*\)$/1\1/' "$W/node2.cp" >"$W/node2-forged.cp" # a larger tree size: unsigned
command epoch-forged recovery-epoch --checkpoint "$W/node2-forged.cp"
check "a checkpoint altered after node-2 signed it is refused" \
	test "$(post "$W/epoch-forged.ev")" = "403 recovery_epoch_verify_rejected"
command epoch recovery-epoch --checkpoint "$W/node2.cp"
check "node-2's signed checkpoint is accepted as the epoch" test "$(post "$W/epoch.ev")" = "200 -"
blocked=$(count_log "$LOG" "reason=recovery_write_blocked")
check "while recovering, agreements are not committed (recovery_write_blocked)" \
	wait_count "$LOG" "reason=recovery_write_blocked" $((blocked + 1)) 5
command rejoin recovery-rejoin
check "rejoin after the epoch and a fresh agreement: QUORUM_ACTIVE" \
	test "$(post "$W/rejoin.ev")" = "200 -" -a "$(mode)" = QUORUM_ACTIVE
check "... and node-1 serves time again" wait_synced 1 5

# ---- human in the loop: a step over hitl_step_ns waits for an operator ----
for k in 2 3 4; do stop_node "$k"; done
LIAR_PIDS=
for k in 2 3 4; do
	"$LIAR" --id "node-$k" --key "$W/keys/node-$k.key" --listen "127.0.0.$k:$PORT" \
		--mode offset --offset-ns 20000000 2>"$W/liar-$k.log" &
	LIAR_PIDS="$LIAR_PIDS $!"
	PIDS="$PIDS $!"
done
check "three authorities 20 ms ahead: node-1 holds the step (hitl.hold)" \
	wait_log "$LOG" "hitl.hold plugin=control hold_id=[0-9a-f]{16} round=[0-9]+ step_ns=(19|20|21)[0-9]{6} " 30
HOLD=$(grep -Eo "hitl.hold plugin=control hold_id=[0-9a-f]{16}" "$LOG" | tail -1 | sed 's/.*=//')
commits_before=$(count_log "$LOG" "bft.sync.commit")
sleep 1.5
check "... and commits nothing while it waits" \
	test "$(count_log "$LOG" "bft.sync.commit")" -eq "$commits_before"
command approve-wrong hitl-approve --hold-id 0123456789abcdef
check "approving an unknown hold is refused" \
	test "$(post "$W/approve-wrong.ev")" = "403 hitl_hold_unknown"
command approve hitl-approve --hold-id "$HOLD" --reason "leap test approved"
check "the operator approves the hold" test "$(post "$W/approve.ev")" = "200 -"
check "... audited as hitl_approve with the operator's reason" \
	wait_log "$LOG" "hitl_approve plugin=control hold_id=$HOLD .*operator=operator reason=\"leap test approved\""
check "... the held step commits (hitl_approve, then bft.sync.commit)" \
	wait_log "$LOG" "bft.sync.commit plugin=control round=.* drift_ns=(19|20|21)[0-9]{6} " 15
kill -TERM $LIAR_PIDS 2>/dev/null
wait $LIAR_PIDS 2>/dev/null
for k in 2 3 4; do
	"$LIAR" --id "node-$k" --key "$W/keys/node-$k.key" --listen "127.0.0.$k:$PORT" \
		--mode offset --offset-ns 80000000 2>"$W/liar2-$k.log" &
	PIDS="$PIDS $!"
done
check "a further 60 ms step is held again" \
	wait_log "$LOG" "hitl.hold plugin=control hold_id=[0-9a-f]{16} round=[0-9]+ step_ns=(5|6)[0-9]{7} " 30
HOLD2=$(grep -Eo "hitl.hold plugin=control hold_id=[0-9a-f]{16}" "$LOG" | tail -1 | sed 's/.*=//')
command reject hitl-reject --hold-id "$HOLD2" --reason "not expected"
check "the operator rejects it" test "$(post "$W/reject.ev")" = "200 -"
check "... audited as hitl_reject" wait_log "$LOG" "hitl_reject plugin=control hold_id=$HOLD2"
# ---- human in the loop: a passport change waits for an operator too ----
"$KEYGEN" --out "$W/keys/node-4b" >/dev/null
passport_event() { # NAME SERIAL KEYS...: node-4's passport update, signed by the trust root
	local name=$1 serial=$2 keys=
	shift 2
	for k in "$@"; do keys="$keys --key $W/keys/$k.pub"; done
	# shellcheck disable=SC2086
	"$CTL" passport create --root-key "$W/keys/root.key" --authority node-4 --serial "$serial" \
		$keys --capability attest_time >"$W/$name.json" &&
		"$CTL" passport event --root-key "$W/keys/root.key" "$W/$name.json" >"$W/$name.ev"
}
passport_event rotate 2 node-4 node-4b
check "a passport update is held for an operator (202 hitl_required_not_approved)" \
	test "$(post "$W/rotate.ev")" = "202 hitl_required_not_approved"
check "... registered as a hold of the HITL gate (hitl.hold ... passport_update)" \
	wait_log "$LOG" "hitl.hold plugin=control hold_id=[0-9a-f]{16} passport_update authority=node-4 serial=2 "
PHOLD=$(grep -Eo "hitl.hold plugin=control hold_id=[0-9a-f]{16} passport_update" "$LOG" | tail -1 |
	sed 's/.*hold_id=\([0-9a-f]*\).*/\1/')
check "... and not installed while it waits" \
	test "$(count_log "$LOG" "passport.rotation plugin=passport authority=node-4")" -eq 0
command papprove hitl-approve --hold-id "$PHOLD" --reason "planned rotation"
check "the operator approves it" test "$(post "$W/papprove.ev")" = "200 -"
check "... and only then is it installed (passport.rotation ... approved_hold)" \
	wait_log "$LOG" "passport.rotation plugin=passport authority=node-4 serial=2 .*approved_hold=$PHOLD"
passport_event rotate3 3 node-4b
post "$W/rotate3.ev" >/dev/null
PHOLD3=$(grep -Eo "hitl.hold plugin=control hold_id=[0-9a-f]{16} passport_update authority=node-4 serial=3" "$LOG" |
	tail -1 | sed 's/.*hold_id=\([0-9a-f]*\).*/\1/')
command preject hitl-reject --hold-id "$PHOLD3" --reason "unexpected"
check "a second update, rejected by the operator, is dropped and never installed" \
	eval 'test -n "$PHOLD3" && test "$(post "$W/preject.ev")" = "200 -" &&
	wait_log "$LOG" "passport.update.dropped plugin=passport authority=node-4 serial=3 hold_id=$PHOLD3 reason=hitl_reject" &&
	test "$(count_log "$LOG" "passport.rotation plugin=passport authority=node-4 serial=3")" -eq 0'
command papprove2 hitl-approve --hold-id "$PHOLD"
check "a second approval of a hold already decided is refused (hitl_hold_unknown)" \
	test "$(post "$W/papprove2.ev")" = "403 hitl_hold_unknown"

answers=0 invalid=0
for f in "$W"/*.answer.json; do
	answers=$((answers + 1))
	"$PYTHON" "$QUORUM_SRCDIR/tests/tools/validate-json.py" \
		"$QUORUM_SRCDIR/schemas/event-verdict.json" "$f" >"$W/validate.out" ||
		{ invalid=$((invalid + 1)); diag "$f: $(cat "$W/validate.out")"; }
done
check "every POST /v1/events answer ($answers) validates against schemas/event-verdict.json" \
	test "$answers" -ge 15 -a "$invalid" -eq 0
finish
