#!/bin/bash
# durable-acks.sh -- an answer that acknowledges a write is sent only once the record is
# durable. A local quorum of 4 with fsync = "batch" (what scripts/local-quorum.sh writes):
# node-1 is killed with SIGKILL the instant each 200 answer arrives (tests/tools/ack-kill.py),
# for 10 operator-signed POST /v1/events and 4 leader's POST /time/shared-state (and
# /v1/time/shared-state), restarted each time; at the end every acknowledged record is in
# its vault (quorumctl vault dump). Speaks TAP.
. "$(dirname "$0")/lib.sh"

EVENTS=10
STATES=4
plan 7

W=$SCRATCH
PORT=$(free_port)
RPORT=$(free_port)
bash "$QUORUM_SRCDIR/scripts/local-quorum.sh" --setup-only --dir "$W" --port "$PORT" \
	--rest-port "$RPORT" --interval-ms 500 --builddir "$QUORUM_BUILDDIR" >/dev/null
KILLER=$QUORUM_SRCDIR/tests/tools/ack-kill.py
LOG=$W/node-1/quorumd.log
URL=http://127.0.0.1:$RPORT

check "local-quorum.sh writes fsync = \"batch\" (group commit)" \
	grep -q 'fsync = "batch"' "$W/node-1/quorum.conf"

for k in 1 2 3 4; do start_node "$k"; done
all=1
for k in 1 2 3 4; do wait_synced "$k" 15 || all=0; done
check "the 4 nodes agree" test "$all" -eq 1

# post_kill PATH FILE TYPE: posts FILE to node-1, which is killed the instant a 2xx answer
# arrives; restarts it. The answer's status in $STATUS.
post_kill() {
	local answer
	answer=$("$PYTHON" "$KILLER" 127.0.0.1 "$RPORT" "$1" "$2" "${NODE_PID[1]}" "$3")
	wait_exit "${NODE_PID[1]}" 10
	printf '%s\n' "$answer" >>"$W/answers.txt"
	start_node 1
	wait_http "$URL/healthz" . 10 >/dev/null || diag "node-1 did not come back"
	STATUS=${answer%% *}
}

acked=0
for i in $(seq "$EVENTS"); do
	"$CTL" control set-mode --mode QUORUM_ACTIVE --reason "durable-ack-$i" \
		--key "$W/keys/operator.key" --out "$W/event-$i.ev" 2>>"$W/ctl.log"
	post_kill /v1/events "$W/event-$i.ev" application/x-protobuf
	[ "$STATUS" = 200 ] && acked=$((acked + 1)) && echo "$i" >>"$W/acked-events"
done
check "$EVENTS operator events answered 200, node-1 killed at each answer" \
	test "$acked" -eq "$EVENTS"

applied=0
for v in $(seq "$STATES"); do
	path=/time/shared-state
	[ $((v % 2)) -eq 0 ] && path=/v1/time/shared-state
	wait_synced 1 20 || diag "node-1 not synchronised before shared state $v"
	"$CTL" shared-state sign --key "$W/keys/node-2.key" --leader node-2 --version "$v" \
		>"$W/state-$v.json" 2>>"$W/ctl.log"
	post_kill "$path" "$W/state-$v.json" application/json
	[ "$STATUS" = 200 ] && applied=$((applied + 1)) && echo "$v" >>"$W/acked-states"
done
check "$STATES shared states answered 200 applied, node-1 killed at each answer" \
	test "$applied" -eq "$STATES"
diag "answers (status, microseconds to the status line): $(tr "\n" " " <"$W/answers.txt")"

stop_node 1
"$CTL" vault dump "$W/node-1/vault" >"$W/dump.txt" 2>"$W/dump.err"
lost_events=0
for i in $(cat "$W/acked-events" 2>/dev/null); do
	grep -q "control.command .*reason=\"durable-ack-$i\"" "$W/dump.txt" ||
		lost_events=$((lost_events + 1))
done
lost_states=0
for v in $(cat "$W/acked-states" 2>/dev/null); do
	grep -Eq "bft.shared_state.apply .*leader=node-2 .*version=$v( |$)" "$W/dump.txt" ||
		lost_states=$((lost_states + 1))
done
diag "acknowledged events lost: $lost_events of $acked; shared states lost: $lost_states of $applied"
check "every acknowledged event is in node-1's vault after the kills" test "$lost_events" -eq 0
check "every acknowledged shared state is in node-1's vault after the kills" \
	test "$lost_states" -eq 0
check "node-1's vault verifies after $((EVENTS + STATES)) kills" \
	eval '"$CTL" vault verify "$W/node-1/vault" --node-key "$W/keys/node-1.pub" >"$W/verify.out" 2>&1'
sed 's/^/# /' "$W/verify.out"
finish
