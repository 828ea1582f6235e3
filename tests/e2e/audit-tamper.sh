#!/bin/bash
# audit-tamper.sh -- what quorumd does with a vault changed behind its back, before the
# last checkpoint (vault.state), where start-up does not verify record by record: the
# chain's linkage across every segment is checked at start (each segment's last record
# against the next segment's header), and a background verification at a bounded rate
# (verify_rate) reads the whole log back and reports corruption as an error in the log and
# in GET /v1/status. The Merkle files are not trusted either: a flipped bit in a level-NN
# hash after the latest checkpoint, or in merkle/checkpoint's signature, is repaired from
# the vault with an error logged, and the next checkpoint is consistent with the previous
# one; a vault that disagrees with a validly signed checkpoint stops the start. One node of
# scripts/local-quorum.sh with small segments; each tamper on a copy of its folder. Speaks
# TAP.
. "$(dirname "$0")/lib.sh"

plan 15

W=$SCRATCH
PID=()
setup() { # DIR: a one-node local quorum with small segments and a fast verification
	local port rport
	port=$(free_port)
	rport=$(free_port)
	bash "$QUORUM_SRCDIR/scripts/local-quorum.sh" --setup-only --nodes 1 --dir "$1" \
		--port "$port" --rest-port "$rport" --interval-ms 100 \
		--builddir "$QUORUM_BUILDDIR" >/dev/null
	sed -i 's|settings = { dir = "vault"; fsync = "batch"; }|settings = { dir = "vault"; fsync = "batch"; segment_max_bytes = 4096; verify_rate = 50000; round_log_s = 0; }|' \
		"$1/node-1/quorum.conf"
	echo "$rport" >"$1/rest-port"
}
setup "$W/a"
setup "$W/b"
for d in a b; do QUORUM_DIR=$W/$d start_node 1; PID[${#PID[@]}]=${NODE_PID[1]}; done
# Until both vaults span 5 segments (each round a record: about 2 s idle, longer when busy).
for i in $(seq 600); do
	[ "$(ls "$W"/a/node-1/vault/segment-*.qv | wc -l)" -ge 5 ] &&
		[ "$(ls "$W"/b/node-1/vault/segment-*.qv | wc -l)" -ge 5 ] && break
	sleep 0.1
done
for p in "${PID[@]}"; do kill -TERM "$p"; wait_exit "$p" 10; done
V=$W/a/node-1/vault
nseg=$(ls "$V"/segment-*.qv | wc -l)
check "the node wrote several segments ($nseg) and marked a checkpoint in the last ones" \
	eval '[ "$nseg" -ge 4 ] && [ -f "$V/vault.state" ]'
"$CTL" vault dump "$V" --json >"$W/dump.json" 2>/dev/null

segfile() { printf '%s/segment-%012d.qv' "$1" "$2"; }
# copy: a fresh copy of node a's folder in $W/t (the tampered node)
copy() { rm -rf "$W/t" && cp -a "$W/a" "$W/t"; }
# start_t: starts the tampered copy; its REST URL in T_URL
start_t() {
	QUORUM_DIR=$W/t start_node 1
	T_URL=http://127.0.0.1:$(cat "$W/t/rest-port")
}
# record INDEX: "SEGMENT OFFSET NEXT_OFFSET" of a record, NEXT_OFFSET that of the record
# after it in the same segment (or the segment's size)
record() {
	"$PYTHON" - "$W/dump.json" "$1" "$V" <<'PY'
import json, os, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
i = int(sys.argv[2])
r = recs[i]
n = recs[i + 1] if i + 1 < len(recs) and recs[i + 1]["segment"] == r["segment"] else None
size = os.path.getsize("%s/segment-%012d.qv" % (sys.argv[3], r["segment"]))
print(r["segment"], r["offset"], n["offset"] if n else size)
PY
}
# an old record: the third of segment 2, which is neither the first nor the last
old=$("$PYTHON" -c 'import json,sys
recs=[json.loads(l) for l in open(sys.argv[1])]
s2=[r["index"] for r in recs if r["segment"]==2]
print(s2[2])' "$W/dump.json")
# verify_reported: the background verification reports a corruption within 10 s: an error
# in the log and corrupt=true with the error in /v1/status
verify_reported() {
	wait_log "$W/t/node-1/quorumd.log" "level=error .*vault.verify_failed" 10 >/dev/null &&
		wait_http "$T_URL/v1/status" '"corrupt": ?true' 5 >/dev/null &&
		http_get "$T_URL/v1/status" >"$W/t-status.json" &&
		"$PYTHON" "$QUORUM_SRCDIR/tests/tools/validate-json.py" \
			"$QUORUM_SRCDIR/schemas/status.json" "$W/t-status.json" >/dev/null
}

# ---- a flipped bit in an old record ----
copy
read -r seg off next < <(record "$old")
flip_bit "$(segfile "$W/t/node-1/vault" "$seg")" $((off + 60))
start_t
check "a flipped bit in old record $old: quorumd starts (before vault.state, not re-read)" \
	wait_http "$T_URL/healthz" . 10
check "... and the background verification reports it within seconds (log, /v1/status)" \
	verify_reported
diag "$(grep -m1 -o 'vault.verify_failed.*' "$W/t/node-1/quorumd.log")"
stop_node 1

# ---- a record deleted from an old segment ----
copy
read -r seg off next < <(record "$old")
f=$(segfile "$W/t/node-1/vault" "$seg")
"$PYTHON" -c 'import sys; p,a,b=sys.argv[1],int(sys.argv[2]),int(sys.argv[3]); d=open(p,"rb").read(); open(p,"wb").write(d[:a]+d[b:])' "$f" "$off" "$next"
start_t
check "a record ($old) deleted from segment $seg: reported by the background verification" \
	eval 'wait_http "$T_URL/healthz" . 10 && verify_reported'
diag "$(grep -m1 -o 'vault.verify_failed.*' "$W/t/node-1/quorumd.log")"
stop_node 1

# ---- the last record of an old segment deleted: the linkage check at start ----
copy
last2=$("$PYTHON" -c 'import json,sys
recs=[json.loads(l) for l in open(sys.argv[1])]
print([r["index"] for r in recs if r["segment"]==2][-1])' "$W/dump.json")
read -r seg off next < <(record "$last2")
f=$(segfile "$W/t/node-1/vault" "$seg")
"$PYTHON" -c 'import sys; p,a=sys.argv[1],int(sys.argv[2]); d=open(p,"rb").read(); open(p,"wb").write(d[:a])' "$f" "$off"
start_t
wait_exit "${NODE_PID[1]}" 10 || kill -KILL "${NODE_PID[1]}"
check "segment 2's last record deleted: quorumd refuses to start, the chain does not link (exit $EXIT_STATUS)" \
	eval '[ "$EXIT_STATUS" -ne 0 ] && [ "$EXIT_STATUS" -ne 124 ] &&
	grep -q "vault.open_failed.*segment-000000000002.qv.*does not link" "$W/t/node-1/quorumd.log"'
diag "$(grep -m1 -o 'vault.open_failed.*' "$W/t/node-1/quorumd.log")"

# ---- segment 1 replaced by another node's segment 1 ----
copy
cp "$(segfile "$W/b/node-1/vault" 1)" "$(segfile "$W/t/node-1/vault" 1)"
start_t
wait_exit "${NODE_PID[1]}" 10 || kill -KILL "${NODE_PID[1]}"
check "segment 1 replaced by another node's: quorumd refuses to start (exit $EXIT_STATUS)" \
	eval '[ "$EXIT_STATUS" -ne 0 ] && [ "$EXIT_STATUS" -ne 124 ] &&
	grep -q "vault.open_failed.*segment-000000000001.qv.*does not link" "$W/t/node-1/quorumd.log"'
diag "$(grep -m1 -o 'vault.open_failed.*' "$W/t/node-1/quorumd.log")"

# ---- the untouched vault: verification passes, nothing reported ----
copy
start_t
check "the untouched vault: quorumd starts and its verification completes passes, corrupt=false" \
	eval 'wait_http "$T_URL/v1/status" "\"passes\": ?[1-9]" 10 >/dev/null &&
	http_get "$T_URL/v1/status" | grep -Eq "\"corrupt\": ?false" &&
	! grep -q vault.verify_failed "$W/t/node-1/quorumd.log"'
stop_node 1
check "... and quorumctl vault verify agrees" \
	eval '"$CTL" vault verify "$W/t/node-1/vault" >/dev/null 2>&1'

# ---- the Merkle files ----
M=$W/a/node-1/merkle
cp "$M/checkpoint" "$W/old.note"
OLD_SIZE=$(sed -n 2p "$W/old.note")
leaves=$(($(stat -c %s "$M/level-00") / 32))
# next_checkpoint_consistent: the tampered node signs a checkpoint beyond the old one, and a
# consistency proof from the old one (the client's copy) to it verifies
next_checkpoint_consistent() {
	local i
	for i in $(seq 100); do
		size=$(http_get "$T_URL/v1/checkpoint" | sed -n 2p)
		[ -n "$size" ] && [ "$size" -gt "$leaves" ] && break
		sleep 0.1
	done
	http_get "$T_URL/v1/proof/consistency?old=$OLD_SIZE" >"$W/cons.json" &&
		"$CTL" proof verify --node-key "$W/a/keys/node-1.pub" --old-checkpoint "$W/old.note" \
			"$W/cons.json" >"$W/cons.out" 2>&1
}
check "the last leaf ($((leaves - 1))) comes after the latest checkpoint (size $OLD_SIZE)" \
	test "$((leaves - 1))" -ge "$OLD_SIZE"

copy
flip_bit "$W/t/node-1/merkle/level-00" $(((leaves - 1) * 32 + 7))
start_t
check "a flipped bit in merkle/level-00 after the checkpoint: repaired from the vault, an error logged" \
	eval 'wait_http "$T_URL/healthz" . 10 >/dev/null &&
	wait_log "$W/t/node-1/quorumd.log" "level=error .*merkle.tree_repaired .*hashes=[1-9]" 5'
diag "$(grep -m1 -o 'merkle.tree_repaired.*' "$W/t/node-1/quorumd.log")"
check "... its next checkpoint is consistent with the previous one (consistency proof verifies)" \
	next_checkpoint_consistent
sed 's/^/# /' "$W/cons.out"
stop_node 1
check "... and every checkpoint in its vault matches the log (quorumctl vault verify)" \
	eval '"$CTL" vault verify "$W/t/node-1/vault" --node-key "$W/a/keys/node-1.pub" >"$W/v.out" 2>&1'

copy
# a bit of the signature (the last line's base64, before its final '=' or newline)
sz=$(stat -c %s "$W/t/node-1/merkle/checkpoint")
flip_bit "$W/t/node-1/merkle/checkpoint" $((sz - 10))
start_t
# The repair takes the vault's latest checkpoint record: the file's own checkpoint, or a
# later one whose record became durable only as the vault stopped (after the merkle stage,
# which replaces the file once the record is durable). The file then holds that record, or
# already a later checkpoint the running node signed since.
"$PYTHON" - "$W/dump.json" >"$W/last.note" <<'PY'
import json, sys
last = [json.loads(l) for l in open(sys.argv[1]) if json.loads(l)["type"] == "checkpoint"][-1]
sys.stdout.write(last["text"])
PY
LAST_SIZE=$(sed -n 2p "$W/last.note")
diag "merkle/checkpoint: size $OLD_SIZE; the vault's latest checkpoint record: size $LAST_SIZE"
check "a flipped bit in merkle/checkpoint's signature: refused, repaired from the vault, an error logged" \
	eval 'wait_http "$T_URL/healthz" . 10 >/dev/null &&
	wait_log "$W/t/node-1/quorumd.log" "level=error .*merkle.checkpoint_file_invalid .*action=repair_from_vault" 5 &&
	wait_log "$W/t/node-1/quorumd.log" "level=error .*merkle.checkpoint_file_repaired size=$LAST_SIZE source=vault" 5 &&
	{ cmp -s "$W/t/node-1/merkle/checkpoint" "$W/last.note" ||
		[ "$(sed -n 2p "$W/t/node-1/merkle/checkpoint")" -gt "$LAST_SIZE" ]; }'
check "... its next checkpoint is consistent with the previous one" next_checkpoint_consistent
stop_node 1

# A vault that disagrees with a validly signed checkpoint: two runs of the same node from one
# snapshot fork after it; fork 1's checkpoint with fork 2's vault.
for fork in 1 2; do
	rm -rf "$W/fork$fork" && cp -a "$W/a" "$W/fork$fork"
	QUORUM_DIR=$W/fork$fork start_node 1
	sleep 2
	stop_node 1
done
copy
rm -rf "$W/t/node-1/vault" "$W/t/node-1/merkle"
cp -a "$W/fork2/node-1/vault" "$W/t/node-1/vault"
cp -a "$W/fork1/node-1/merkle" "$W/t/node-1/merkle"
start_t
wait_exit "${NODE_PID[1]}" 10 || kill -KILL "${NODE_PID[1]}"
check "a vault that disagrees with its validly signed checkpoint stops the start (exit $EXIT_STATUS)" \
	eval '[ "$EXIT_STATUS" -ne 0 ] && [ "$EXIT_STATUS" -ne 124 ] &&
	grep -q "merkle.vault_disagrees_with_checkpoint" "$W/t/node-1/quorumd.log"'
diag "$(grep -m1 -o 'merkle.vault_disagrees_with_checkpoint.*' "$W/t/node-1/quorumd.log")"
finish
