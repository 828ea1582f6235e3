#!/bin/bash
# gossip.sh -- the gossip stage on a 4-node local quorum (scripts/local-quorum.sh, every node
# with passport, vault, gossip, merkle, convergence, control). Rounds travel between the
# nodes over the peer link, each accepted by the passport stage; no copy goes to a node
# that has it; epochs converge (n - f distinct authorities' attestations). Crafted gossip datagrams sent from node-4's address (tests/tools/liar
# --mode gossip-forge, holding node-4's real key, while node-4 is stopped) get the seed's
# reasons: forged signature, self echo, hops reset, overflow, an event id nobody forwards,
# a duplicate, an unproven malfeasance report, an unknown sender, a flood. Then node-4 is
# replaced by a liar that signs one sequence for several askers (--mode reuse-sequence):
# every honest node ends up quarantining it for equivocation, its vault holding the
# malfeasance report. Speaks TAP.
. "$(dirname "$0")/lib.sh"

plan 31

W=$SCRATCH
PORT=$(free_port) RPORT=$(free_port)
CTL=$QUORUM_BUILDDIR/tools/quorumctl
LIAR=$QUORUM_BUILDDIR/tests/tools/liar
READS=$QUORUM_BUILDDIR/tests/tools/clock-reads
VALIDATE="$PYTHON $QUORUM_SRCDIR/tests/tools/validate-json.py"
bash "$QUORUM_SRCDIR/scripts/local-quorum.sh" --setup-only --dir "$W" --port "$PORT" \
	--interval-ms 500 --timeout-ms 200 --max-error-ns 1000000 --rest-port "$RPORT" \
	--builddir "$QUORUM_BUILDDIR" >/dev/null

declare -A NODE_PID
start_node() { # K
	(cd "$W/node-$1" && exec "$QUORUMD" --config quorum.conf 2>>quorumd.log) &
	NODE_PID[$1]=$!
	PIDS="$PIDS $!"
}
stop_node() { # K
	kill -TERM "${NODE_PID[$1]}" 2>/dev/null
	wait "${NODE_PID[$1]}" 2>/dev/null
}
wait_synced() { # K...
	local k i
	for k in "$@"; do
		for i in $(seq 200); do
			"$CTL" time --clock "$W/node-$k/clock" >/dev/null 2>&1 && break
			sleep 0.05
		done
	done
}
status() { curl -sS --max-time 5 "http://127.0.0.$1:$RPORT/v1/status"; }
# gossip_field K EXPR: a Python expression over the gossip object of node-K's /v1/status (g).
gossip_field() {
	status "$1" | "$PYTHON" -c 'import json, sys
g = json.load(sys.stdin).get("gossip", {})
print(eval(sys.argv[1]))' "$2"
}
log() { cat "$W/node-$1/quorumd.log"; }
metrics() { echo "http://127.0.0.$1:$RPORT/metrics"; }

for k in 1 2 3 4; do start_node "$k"; done
wait_synced 1 2 3 4
# Judged from here on: before every node is up (slow under sanitizers), a round may lack
# answers, which says nothing about gossip.
declare -A MARK
for k in 1 2 3 4; do MARK[$k]=$(wc -l <"$W/node-$k/quorumd.log"); done
since() { tail -n +"$((MARK[$1] + 1))" "$W/node-$1/quorumd.log"; }

# ---- rounds travel ----
check "every node runs the gossip stage third (passport, vault, gossip, ...)" \
	eval '(for k in 1 2 3 4; do grep -q "pipeline.stage position=3 name=gossip" "$W/node-$k/quorumd.log" || exit 1; done)'
sleep 2
heard=1
for k in 1 2 3 4; do
	v=$(gossip_field "$k" 'all(p["accepted"] > 0 for p in g["peers"]) and len(g["peers"]) == 3')
	diag "node-$k heard: $(gossip_field "$k" '[(p["id"], p["received"], p["accepted"]) for p in g["peers"]]')"
	[ "$v" = True ] || heard=0
done
check "each node accepted rounds of each of the three others, by gossip (/v1/status gossip.peers)" \
	test "$heard" -eq 1
dups=0
for k in 1 2 3 4; do dups=$((dups + $(refusal_count "$(metrics "$k")" gossip duplicate))); done
check "no copy of a round reaches a node that has it (sent_to): no duplicate in a full mesh ($dups)" \
	test "$dups" -eq 0
# A round that closed with too few answers in time (insufficient_quorum) is the machine's
# load, not gossip: every other refusal of a round is a failure here.
diag "rounds refused since the start: $(for k in 1 2 3 4; do since "$k"; done | grep -o 'bft.sync.reject .*reason=[a-z_]*' | sed 's/.*reason=//' | sort | uniq -c | tr -s ' \n' ' ')"
check "another node's round converges too: no honest node refused a round (bft.sync.reject) but for lateness" \
	eval '(for k in 1 2 3 4; do ! since "$k" | grep "bft.sync.reject" | grep -qv "reason=insufficient_quorum " || exit 1; done)'
status 1 >"$W/status-1.json"
check "node-1's /v1/status with its gossip object validates against schemas/status.json" \
	$VALIDATE "$QUORUM_SRCDIR/schemas/status.json" "$W/status-1.json"
e1=$(gossip_field 1 'g.get("converged_epoch", -1)')
n1=$(gossip_field 1 'g["epochs_converged"]')
sleep 1.5
e2=$(gossip_field 1 'g.get("converged_epoch", -1)')
n2=$(gossip_field 1 'g["epochs_converged"]')
diag "node-1 converged epoch $e1 -> $e2, epochs converged $n1 -> $n2"
check "the convergence gate is reached and advances (converged epoch $e1 -> $e2)" \
	eval '[ "$e1" -gt 0 ] && [ "$e2" -gt "$e1" ] && [ "$n2" -gt "$n1" ]'
check "... with at least n - f = 3 distinct authorities in the converged epoch" \
	test "$(gossip_field 1 'g["converged_authorities"] >= g["threshold"] == 3')" = True
check "each convergence is logged (gossip.converged epoch= authorities= threshold=3)" \
	wait_log "$W/node-2/quorumd.log" 'gossip.converged epoch=[0-9]+ authorities=[34] threshold=3' 5

# ---- crafted gossip from node-4's address (node-4 stopped, the liar holds its key) ----
stop_node 4
forge() { # KIND [ARGS...]: one gossip-forge run from 127.0.0.4 to node-1
	local kind=$1
	shift
	"$LIAR" --id node-4 --key "$W/keys/node-4.key" --listen "127.0.0.4:$PORT" \
		--mode gossip-forge --to "127.0.0.1:$PORT" --gossip-kind "$kind" "$@" \
		2>>"$W/forge.log"
}
refused_by() { # STAGE REASON: node-1 refused a copy from node-4 with it
	wait_log "$W/node-1/quorumd.log" "pipeline.event verdict=reject stage=$1 reason=$2 .* source=gossip peer=\"node-4\"" 5
}
forged_before=$(refusal_count $(metrics 1) gossip signature_invalid)
forge forged
check "a gossiped event with a forged signature: dropped by the peer link before any stage, counted" \
	eval 'wait_refusals $(metrics 1) gossip signature_invalid $((forged_before + 1)) &&
	! log 1 | grep -q "reason=passport_signature_invalid .*source=gossip"'
forge self-echo --target-id node-1
check "a copy naming the receiver as its origin: gossip_self_echo_rejected" \
	refused_by gossip gossip_self_echo_rejected
forge hops-reset
check "a copy whose hop count was reset to 0: gossip_hops_reset_rejected" \
	refused_by gossip gossip_hops_reset_rejected
forge overflow
check "a copy with hops + ttl above max_ttl: gossip_hops_overflow_rejected" \
	refused_by gossip gossip_hops_overflow_rejected
forge policy
check "a validly signed event of an id nobody forwards: gossip_policy_rejected" \
	refused_by gossip gossip_policy_rejected
duplicates_before=$(refusal_count $(metrics 1) gossip duplicate)
forge duplicate
check "the same copy twice: the second is dropped by the peer link as a duplicate, counted" \
	eval 'wait_refusals $(metrics 1) gossip duplicate $((duplicates_before + 1)) &&
	! log 1 | grep -q "reason=gossip_duplicate_rejected"'
forge bad-report
check "a malfeasance report whose attestation does not verify is refused by the control stage" \
	refused_by control malfeasance_report_invalid
check "... audited with why (gossip.malfeasance.reject reason=signature_invalid), no quarantine" \
	eval 'wait_log "$W/node-1/quorumd.log" "gossip.malfeasance.reject plugin=control reason=signature_invalid" 5 && ! log 1 | grep -q "pipeline.quarantine.*cause=equivocation"'
sleep 0.5
check "none of the refused copies went further (node-2 saw none of them from node-1)" \
	eval '! log 2 | grep -Eq "reason=(gossip_self_echo_rejected|gossip_hops_reset_rejected|gossip_hops_overflow_rejected|gossip_policy_rejected|malfeasance_report_invalid) .*peer=\"node-1\""'
"$LIAR" --id node-4 --key "$W/keys/node-4.key" --listen "127.0.0.9:$PORT" \
	--mode gossip-forge --to "127.0.0.1:$PORT" --gossip-kind valid 2>>"$W/forge.log"
check "gossip from an address no authority is configured at: dropped by the peer link, counted" \
	wait_refusals "$(metrics 1)" gossip unknown_peer 1
# The flood: 2,000 copies at 4,000/s. Each is accounted for: refused by node-1's token bucket
# for node-4 (200/s, 400 at once), refused for its signature once past it, or dropped by the
# kernel when node-1 could not read them as fast as they came (a busy machine). What is
# judged is that no more got past the bucket than it allows for the time the flood took.
udp_drops() { # datagrams the kernel dropped at 127.0.0.1:$PORT (receive buffer full)
	awk -v a="$(printf '0100007F:%04X' "$PORT")" '$2 == a { n += $NF } END { print n + 0 }' \
		/proc/net/udp
}
flood_counts() {
	echo "$(refusal_count "$(metrics 1)" gossip rate_limited)" \
		"$(refusal_count "$(metrics 1)" gossip signature_invalid)" "$(udp_drops)"
}
read -r limited0 past0 dropped0 < <(flood_counts)
flood_t0=$(date +%s%N)
forge flood --count 2000
flood_s=$((($(date +%s%N) - flood_t0) / 1000000000 + 1))
for i in $(seq 100); do
	read -r limited past dropped < <(flood_counts)
	limited=$((limited - limited0)) past=$((past - past0)) dropped=$((dropped - dropped0))
	[ $((limited + past + dropped)) -ge 2000 ] && break
	sleep 0.1
done
diag "flood of 2,000 in ${flood_s} s or less: $limited refused rate_limited, $past past the bucket, $dropped dropped by the kernel"
check "a flood from one peer is cut by its token bucket (every copy accounted for, at most 400 + 200/s past it)" \
	eval '[ $((limited + past + dropped)) -ge 2000 ] && [ "$past" -le $((400 + 200 * flood_s)) ]'
check "... and the honest nodes stay synchronised through all of it" \
	"$READS" --clock "$W/node-1/clock" --reads 100 --pause-us 1000 --require-sync

# ---- an equivocating authority: one sequence signed for several askers ----
"$LIAR" --id node-4 --key "$W/keys/node-4.key" --listen "127.0.0.4:$PORT" \
	--mode reuse-sequence 2>"$W/liar-reuse.log" &
LIAR_PID=$!
PIDS="$PIDS $LIAR_PID"
for k in 1 2 3; do
	check "node-$k quarantines node-4 for equivocation (pipeline.quarantine ... cause=equivocation)" \
		wait_log "$W/node-$k/quorumd.log" "pipeline.quarantine plugin=control source=node-4 reason=quarantine_logged cause=equivocation" 20
done
check "a node reported it: gossip.malfeasance authority=node-4 with both digests, audited" \
	eval 'grep -Eq "gossip.malfeasance plugin=gossip authority=node-4 sequence=[0-9]+ first_digest=[0-9a-f]{64} second_digest=[0-9a-f]{64} reporter=node-[123]" "$W"/node-[123]/quorumd.log'
st=$(status 1 | "$PYTHON" -c 'import json, sys
s = json.load(sys.stdin)
a = [x for x in s["authorities"] if x["id"] == "node-4"][0]
print(a["quarantined"], a.get("quarantine_reason"))')
diag "node-1's /v1/status on node-4: $st"
check "node-1's /v1/status shows node-4 quarantined for equivocation" \
	test "$st" = "True equivocation"
reports=0
for k in 1 2 3; do reports=$((reports + $(gossip_field "$k" 'g["malfeasance_reports"]'))); done
check "the honest nodes made $reports malfeasance report(s) between them (/v1/status)" \
	test "$reports" -ge 1
ok_reads=1
for k in 1 2 3; do
	"$READS" --clock "$W/node-$k/clock" --reads 100 --pause-us 1000 --require-sync >/dev/null ||
		ok_reads=0
done
check "the three honest nodes stay synchronised without node-4" test "$ok_reads" -eq 1
kill -TERM "$LIAR_PID"
wait "$LIAR_PID" 2>/dev/null

# ---- the vaults, once the nodes are stopped ----
for k in 1 2 3; do stop_node "$k"; done
rounds_of_others=1
for k in 1 2 3; do
	"$CTL" vault dump "$W/node-$k/vault" >"$W/dump-$k.txt" 2>&1
	for j in 1 2 3 4; do
		[ "$j" -eq "$k" ] && continue
		grep -Eq " rounds .* peers=(.*,)?node-$j:[1-9]" "$W/dump-$k.txt" ||
			{ diag "node-$k's round log counts no round of node-$j"; rounds_of_others=0; }
	done
	! grep -Eq "^[0-9]+ [0-9]+ event +[0-9a-f]+ event_id=uml001.worker.ntp_sync " "$W/dump-$k.txt" ||
		{ diag "node-$k's vault holds a round as an event"; rounds_of_others=0; }
done
check "each honest node's round log counts the other nodes' rounds (their own vaults keep them)" \
	test "$rounds_of_others" -eq 1
check "each honest node's vault holds a malfeasance report (uml001.gossip.malfeasance)" \
	eval '(for k in 1 2 3; do grep -q "event .*event_id=uml001.gossip.malfeasance " "$W/dump-$k.txt" || exit 1; done)'
check "node-1's vault: no record per refused copy, one summary per kind (refused.summary)" \
	eval '! grep -Eq "reason=(gossip_duplicate_rejected|passport_signature_invalid) " "$W/dump-1.txt" &&
	grep -q "refused.summary what=gossip reason=duplicate count=[0-9]" "$W/dump-1.txt" &&
	test "$(grep -c "refused.summary what=gossip reason=rate_limited " "$W/dump-1.txt")" -le 2'
check "\`quorumctl vault verify\` passes on node-1's vault (chain, tree, checkpoints)" \
	"$CTL" vault verify "$W/node-1/vault" --node-key "$W/keys/node-1.pub"
finish
