#!/bin/bash
# witness.sh -- witnessed checkpoints on a 4-node local quorum (scripts/local-quorum.sh).
# Every node cosigns its peers' checkpoints (C2SP tlog-cosignature/v1) after a consistency
# proof from the last one it cosigned: node-1's /v1/checkpoint carries its peers'
# cosignatures, which quorumctl and an independent verifier (tests/tools/witness-tool.py,
# python3-cryptography) count. Then the rollback: node-1's whole folder is copied at one
# moment (SIGSTOP, cp -a, SIGCONT), the node runs on until every peer holds a checkpoint of it
# larger than the copy, is stopped and restarted on the copy. It learns from its peers that
# they hold a checkpoint it signed that its log no longer has: it signs no checkpoint and
# serves no time; the peers hold that checkpoint; across everything node-1 ever signed and
# everything its peers hold, no size has two roots; quorumctl shows the operator what happened
# and how to resolve it. A forged checkpoint of node-1 (its key, a size a witness holds,
# another root) is signed evidence: every peer quarantines node-1 for it. Resolved as
# documented (a new log, a new origin), node-1 serves time again and its new checkpoints are
# witnessed. Speaks TAP.
. "$(dirname "$0")/lib.sh"

plan 22

W=$SCRATCH
QUORUM_DIR=$W/q
PORT=$(free_port) RPORT=$(free_port)
TOOL="$PYTHON $QUORUM_SRCDIR/tests/tools/witness-tool.py"
KEYS=$QUORUM_DIR/keys
bash "$QUORUM_SRCDIR/scripts/local-quorum.sh" --setup-only --dir "$QUORUM_DIR" --port "$PORT" \
	--rest-port "$RPORT" --builddir "$QUORUM_BUILDDIR" >/dev/null
N1=$QUORUM_DIR/node-1
url() { echo "http://127.0.0.$1:$RPORT$2"; }
log() { cat "$QUORUM_DIR/node-$1/quorumd.log"; }
# cosigs FILE: the witness cosignature lines in a checkpoint.
cosigs() { grep -c "^— quorum-time/node-[0-9]/witness " "$1"; }

for k in 1 2 3 4; do start_node "$k"; done
for k in 1 2 3 4; do wait_synced "$k" 30; done

# Every published checkpoint of node-1, from now to the end (node-1 may be down at times).
mkdir -p "$W/polls"
(
	i=0
	while :; do
		curl -sS --max-time 2 "$(url 1 /v1/checkpoint)" -o "$W/polls/$i" 2>/dev/null || true
		i=$((i + 1))
		sleep 0.5
	done
) &
PIDS="$PIDS $!"

check "each node waited for its witnesses at start, then signed checkpoints" \
	eval 'for k in 1 2 3 4; do log $k | grep -q "merkle.witnessed_start witnesses=[23] of=3 quorum=2" || exit 1; done'

# ---- cosignatures on /v1/checkpoint ----
for i in $(seq 60); do
	http_get "$(url 1 /v1/checkpoint)" >"$W/cp" && [ "$(cosigs "$W/cp")" -ge 3 ] && break
	sleep 0.5
done
diag "node-1's /v1/checkpoint:" "$(sed 's/^/  /' "$W/cp")"
check "node-1's /v1/checkpoint carries the cosignatures of its 3 peers" \
	test "$(cosigs "$W/cp")" -eq 3
check "quorumctl checkpoint verify: the log's signature and 3 of 3 witness keys" \
	eval '"$CTL" checkpoint verify --node-key "$KEYS/node-1.pub" --witness-key "$KEYS/node-2.pub" \
		--witness-key "$KEYS/node-3.pub" --witness-key quorum-time/node-4/witness="$KEYS/node-4.pub" \
		"$W/cp" | sed "s/^/# /"; [ "${PIPESTATUS[0]}" -eq 0 ]'
check "an independent C2SP verifier agrees (python3-cryptography)" \
	eval '$TOOL verify "$W/cp" "$KEYS/node-1.pub" --witness "$KEYS/node-2.pub" \
		--witness "$KEYS/node-3.pub" --witness "$KEYS/node-4.pub" --min 3 | sed "s/^/# /"; [ "${PIPESTATUS[0]}" -eq 0 ]'
# Without the cosignature lines: the log's signature alone is not enough for --min 2.
sed '/\/witness /d' "$W/cp" >"$W/cp-bare"
check "--min 2 fails on the same checkpoint without its cosignatures, and for keys that never cosigned" \
	eval '! "$CTL" checkpoint verify --node-key "$KEYS/node-1.pub" --witness-key "$KEYS/node-2.pub" \
		--witness-key "$KEYS/node-3.pub" --min 2 "$W/cp-bare" >/dev/null &&
	      ! "$CTL" checkpoint verify --witness-key "$KEYS/node-1.pub" --witness-key "$KEYS/root.pub" \
		--min 1 "$W/cp" >/dev/null &&
	      ! "$CTL" checkpoint verify --witness-key other/name="$KEYS/node-2.pub" --min 1 "$W/cp" >/dev/null'
# A cosignature altered in one character (its signature) no longer counts.
"$PYTHON" - "$W/cp" "$W/cp-bad" <<'PY'
import sys
lines = open(sys.argv[1], encoding="utf-8").read().split("\n")
for i, line in enumerate(lines):
    if "node-2/witness " in line:
        j = len(line) - 10
        lines[i] = line[:j] + ("A" if line[j] != "A" else "B") + line[j + 1:]
open(sys.argv[2], "w", encoding="utf-8").write("\n".join(lines))
PY
check "a tampered cosignature is not counted" \
	eval '! "$CTL" checkpoint verify --witness-key "$KEYS/node-2.pub" --min 1 "$W/cp-bad" >/dev/null &&
	      "$CTL" checkpoint verify --witness-key "$KEYS/node-3.pub" --min 1 "$W/cp-bad" >/dev/null'
# The client holds $W/cp; a later checkpoint must prove it extends that one.
OLD_SIZE=$(sed -n 2p "$W/cp")
for i in $(seq 60); do
	[ "$(http_get "$(url 1 /v1/checkpoint)" | sed -n 2p)" -gt "$OLD_SIZE" ] 2>/dev/null && break
	sleep 0.5
done
check "the checkpoint's proofs still verify (GET /v1/proof/consistency from the one held)" \
	eval 'http_get "$(url 1 "/v1/proof/consistency?old=$OLD_SIZE")" >"$W/cons.json" &&
	      "$CTL" proof verify --node-key "$KEYS/node-1.pub" --old-checkpoint "$W/cp" "$W/cons.json" >/dev/null'

# ---- the rollback ----
# A copy of node-1's whole folder taken at one moment, as a snapshot would be.
kill -STOP "${NODE_PID[1]}"
cp -a "$N1" "$W/snapshot"
kill -CONT "${NODE_PID[1]}"
rm -f "$W/snapshot/quorumd.pid"
# It runs on until every peer holds a checkpoint of it larger than the copied log.
SNAP=$("$CTL" vault dump "$W/snapshot/vault" --json | wc -l)
held_past() {
	for k in 2 3 4; do
		$TOOL held "$QUORUM_DIR/node-$k/merkle/witness-state" node-1 "$W/held-$k" \
			>/dev/null 2>&1 && [ "$(sed -n 2p "$W/held-$k")" -gt "$SNAP" ] || return 1
	done
}
for i in $(seq 120); do
	held_past && break
	sleep 0.5
done
stop_node 1
mv "$N1" "$W/node-1.lost"
cp -a "$W/snapshot" "$N1"
RESTORED=$("$CTL" vault dump "$N1/vault" --json | wc -l)
for k in 2 3 4; do
	$TOOL held "$QUORUM_DIR/node-$k/merkle/witness-state" node-1 "$W/held-$k"
done
HELD=$(sed -n 2p "$W/held-2")
diag "restored vault: $RESTORED records; node-2 holds node-1's checkpoint of size $HELD"
check "node-2 holds a checkpoint of node-1 larger than the restored log" test "$HELD" -gt "$RESTORED"
start_node 1
check "node-1 finds it was rolled back (merkle.rolled_back)" \
	wait_log "$N1/quorumd.log" "merkle.rolled_back kind=(shorter_than_signed|forked_from_signed)" 15
grep -h "component=merkle event=merkle.\(ready\|rolled_back\)" "$N1/quorumd.log" | tail -2 |
	cut -c1-190 | sed 's/^/# /'
check "... and serves no time for 10 s (clock page unsynchronised, REST 503)" \
	eval '! wait_synced 1 10 && [ "$(curl -s -o /dev/null -w "%{http_code}" "$(url 1 /v1/time)")" = 503 ]'
check "... while its peers serve time" eval 'synced 2 && synced 3 && synced 4'
# (its log goes on in the restored file: count from its last start)
check "... and signed no checkpoint since it started" \
	test "$(awk '/event=merkle.ready/ { c = 0 } /event=merkle.checkpoint / { c++ } END { print c + 0 }' \
		"$N1/quorumd.log")" = 0
check "... it says why in its log: a witness holds a checkpoint it signed that its log lacks" \
	eval 'log 1 | grep "merkle.rolled_back" | grep -q "witnessed_size=[0-9]* tree_size=[0-9]*"'
stop_node 1
check "node-1's vault has no checkpoint record the snapshot lacks" \
	test "$("$CTL" vault dump "$N1/vault" --json | grep -c '"type":"checkpoint"')" = \
	"$("$CTL" vault dump "$W/snapshot/vault" --json | grep -c '"type":"checkpoint"')"
"$CTL" checkpoint verify --node-key "$KEYS/node-1.pub" --vault "$N1/vault" \
	"$N1/merkle/rollback-evidence" >"$W/resolve.txt"
RC=$?
sed 's/^/# /' "$W/resolve.txt"
check "quorumctl shows the operator the evidence and how to resolve it" \
	eval '[ $RC = 1 ] && grep -Eq "^(ROLLED BACK|FORKED):" "$W/resolve.txt" && grep -q "new merkle .origin." "$W/resolve.txt"'
check "the peers hold the evidence: each holds a checkpoint node-1 signed that its restored log contradicts" \
	eval 'for k in 2 3 4; do "$CTL" checkpoint verify --node-key "$KEYS/node-1.pub" --vault "$N1/vault" "$W/held-$k" >/dev/null; [ $? = 1 ] || exit 1; done'

# No two signed roots for one size, anywhere: every checkpoint node-1 signed (its vault
# before the restore and after, everything it published) and every one its peers hold.
"$CTL" vault dump "$W/node-1.lost/vault" --json >"$W/lost.json"
"$CTL" vault dump "$N1/vault" --json >"$W/after.json"
check "no size has two roots among everything node-1 signed and its peers hold" \
	eval '$TOOL forks quorum-time/node-1 "$KEYS/node-1.pub" "$W/lost.json" "$W/after.json" \
		"$N1/merkle/rollback-evidence" "$W"/held-* "$QUORUM_DIR"/node-[234]/merkle/witness-state \
		"$W"/polls/* | sed "s/^/# /"; [ "${PIPESTATUS[0]}" -eq 0 ]'

# ---- a fork is evidence: a checkpoint of node-1 of a size node-2 holds, another root ----
$TOOL forge --key "$KEYS/node-1.key" --node-id node-1 --from "127.0.0.1:$PORT" \
	--to "127.0.0.2:$PORT" --size "$HELD" --origin quorum-time/node-1 | sed 's/^/# /'
check "node-2 reports it (merkle.log_malfeasance kind=fork_same_size)" \
	wait_log "$QUORUM_DIR/node-2/quorumd.log" "merkle.log_malfeasance log=node-1 .*kind=fork_same_size" 10
check "every peer quarantines node-1 for it (reason log_fork)" \
	eval 'for k in 2 3 4; do wait_log "$QUORUM_DIR/node-$k/quorumd.log" "source.quarantine source=node-1 .*reason=log_fork" 10 || exit 1; done'

# ---- resolved: a new log under a new origin ----
mv "$N1/vault" "$N1/vault.rolled-back"
mv "$N1/merkle" "$N1/merkle.rolled-back"
sed -i 's|settings = { dir = "merkle"; }|settings = { dir = "merkle"; origin = "quorum-time/node-1/2"; }|' \
	"$N1/quorum.conf"
start_node 1
check "resolved (new folders, new origin): node-1 serves time again" wait_synced 1 30
for i in $(seq 60); do
	http_get "$(url 1 /v1/checkpoint)" >"$W/cp2" && head -1 "$W/cp2" | grep -qx "quorum-time/node-1/2" &&
		[ "$(cosigs "$W/cp2")" -ge 2 ] && break
	sleep 0.5
done
check "... and its new log's checkpoints are cosigned by at least 2 peers" \
	eval '"$CTL" checkpoint verify --node-key "$KEYS/node-1.pub" --witness-key "$KEYS/node-2.pub" \
		--witness-key "$KEYS/node-3.pub" --witness-key "$KEYS/node-4.pub" --min 2 "$W/cp2" >/dev/null'
check "no node reported a failure it should not have" \
	eval '! grep -hE "merkle.(witness_send_failed|witness_state_not_saved|cosign_failed|witness_state_refused)" "$QUORUM_DIR"/node-*/quorumd.log'
for k in 1 2 3 4; do stop_node "$k"; done
# What witnessing costs a node: the requests and answers its vault recorded.
"$CTL" vault dump "$QUORUM_DIR/node-2/vault" --json | "$PYTHON" -c '
import json, sys
records = [json.loads(l) for l in sys.stdin]
span = (records[-1]["timestamp_ns"] - records[0]["timestamp_ns"]) / 1e9
for kind in ("checkpoint", "cosignature"):
    sizes = [r["payload_len"] for r in records if r.get("event_id") == "uml001.merkle." + kind]
    print("# node-2 recorded %d uml001.merkle.%s events in %.0f s, %.0f payload bytes each"
          % (len(sizes), kind, span, sum(sizes) / max(len(sizes), 1)))'
finish
