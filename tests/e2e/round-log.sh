#!/bin/bash
# round-log.sh -- the vault keeps what an auditor needs, not repeated bytes: on a 4-node
# local quorum each node keeps its own rounds in its round log (shrunk, with verdicts and
# commit lines, several to a record) and only counts the peers'. An answer node-1 signed
# names a round the log holds (quorum_hash); undisputed rounds but the first of each record
# are kept as summaries (hash, verdict, commit line); `quorumctl vault verify --authority-key`
# verifies every attestation and computes every committed agreement again; a node killed
# with SIGKILL between two round log records loses no round (its journal is written at the
# next start). Speaks TAP.
. "$(dirname "$0")/lib.sh"

plan 13

W=$SCRATCH
PORT=$(free_port) RPORT=$(free_port)
bash "$QUORUM_SRCDIR/scripts/local-quorum.sh" --setup-only --dir "$W" --port "$PORT" \
	--interval-ms 500 --rest-port "$RPORT" --builddir "$QUORUM_BUILDDIR" >/dev/null
KEYS=()
for k in 1 2 3 4; do KEYS+=(--authority-key "$W/keys/node-$k.pub"); done
dump() { "$CTL" vault dump "$W/node-$1/vault" --json; }

for k in 1 2 3 4; do start_node "$k"; done
synced_all=1
for k in 1 2 3 4; do wait_synced "$k" 20 || synced_all=0; done
check "a local quorum of 4 with round logs serves time" test "$synced_all" -eq 1

# An answer node-1 signs now names the agreement it extrapolates (round, quorum hash).
sleep 2
http_get "http://127.0.0.1:$RPORT/v1/time" >"$W/time.json"
"$PYTHON" -c 'import base64, json, sys
sys.stdout.buffer.write(base64.b64decode(json.load(open(sys.argv[1]))["attestation"]))' \
	"$W/time.json" >"$W/answer.att"
"$CTL" verify --key "$W/keys/node-1.pub" "$W/answer.att" >"$W/answer.txt"
QHASH=$(sed -n 's/.*quorum hash \([0-9a-f]\{64\}\).*/\1/p' "$W/answer.txt")
diag "node-1 signed an answer of $(grep -o 'agreement round [0-9]*' "$W/answer.txt"), quorum hash $QHASH"

# node-2 is killed between two round log records: its last rounds are in its journal only.
sleep 3
LAST=$(grep -o 'clock.commit round=[0-9]*' "$W/node-2/quorumd.log" | tail -n 1 | cut -d= -f2)
kill -KILL "${NODE_PID[2]}"
wait "${NODE_PID[2]}" 2>/dev/null
JOURNAL=$(stat -c %s "$W/node-2/vault/rounds.journal")
diag "node-2 killed after committing round $LAST; its journal holds $JOURNAL bytes"
start_node 2
check "restarted, node-2 writes the rounds its journal holds (vault.rounds_recovered)" \
	wait_log "$W/node-2/quorumd.log" "vault.rounds_recovered rounds=[1-9][0-9]* from=rounds.journal" 10
check "... and serves time again" wait_synced 2 20
sleep 2
for k in 1 2 3 4; do stop_node "$k"; done

check "the round killed node-2 committed last ($LAST) is in its log, committed" \
	eval 'dump 2 | "$PYTHON" -c "import json, sys
last = int(sys.argv[1])
rounds = [r for line in sys.stdin for r in json.loads(line).get(\"rounds\", [])]
# the rounds of its first run: before the restart round numbers start again at 1
first_run = rounds[:[i for i, r in enumerate(rounds) if i and r[\"round\"] <= rounds[i - 1][\"round\"]][0]]
sys.exit(0 if any(r[\"round\"] == last and r[\"committed\"] for r in first_run) else 1)" "$LAST"'
check "node-1's round log holds the round its signed answer names (quorum hash $QHASH)" \
	eval '[ -n "$QHASH" ] && dump 1 | grep -q "\"quorum_hash\":\"$QHASH\""'
events=0
for k in 1 2 3 4; do
	events=$((events + $(dump "$k" | grep -c '"event_id":"uml001.worker.ntp_sync"')))
done
check "no vault records a round as an event (the rounds are in the round logs)" \
	test "$events" -eq 0
peers=1
for k in 1 2 3 4; do
	for j in 1 2 3 4; do
		[ "$j" -eq "$k" ] && continue
		dump "$k" | grep -q "{\"node_id\":\"node-$j\",\"rounds\":[1-9]" ||
			{ diag "node-$k counts no round of node-$j"; peers=0; }
	done
done
check "each node counts the other nodes' rounds, and keeps none of them" test "$peers" -eq 1
# What a kept round costs: its share of the round log records' bytes.
PER_ROUND=$(dump 1 | "$PYTHON" -c 'import json, sys
rs = [json.loads(line) for line in sys.stdin]
rs = [r for r in rs if r["type"] == "rounds"]
n = sum(len(r["rounds"]) for r in rs)
print(sum(r["bytes"] for r in rs) // max(n, 1))')
diag "node-1 keeps a round in $PER_ROUND bytes of round log (as an event and a commit record: ~1,500)"
check "... in at most 300 bytes ($PER_ROUND)" test "$PER_ROUND" -le 300
check "each record's first round is kept in full, and most of the others as summaries" \
	eval 'dump 1 | "$PYTHON" -c "import json, sys
rs = [json.loads(line) for line in sys.stdin]
rs = [r[\"rounds\"] for r in rs if r[\"type\"] == \"rounds\" and r[\"rounds\"]]
firsts = all(not r[0][\"summary\"] and r[0][\"bytes\"] > 0 for r in rs)
later = [x for r in rs for x in r[1:]]
summ = [x for x in later if x[\"summary\"]]
print(\"# %d records, %d later rounds, %d summaries\" % (len(rs), len(later), len(summ)))
sys.exit(0 if firsts and later and len(summ) * 2 > len(later) and
	 all(x[\"bytes\"] == 0 and len(x[\"quorum_hash\"]) == 64 for x in summ) else 1)"'
verified=1
for k in 1 2 3 4; do
	"$CTL" vault verify "$W/node-$k/vault" --node-key "$W/keys/node-$k.pub" "${KEYS[@]}" \
		>"$W/verify-$k.txt" 2>&1 || { verified=0; sed 's/^/# /' "$W/verify-$k.txt"; }
done
sed 's/^/# /' "$W/verify-1.txt"
check "quorumctl vault verify passes on every node's vault" test "$verified" -eq 1
check "... every attestation of node-1's rounds verified with the authorities' keys" \
	grep -Eq "^attestations: [1-9][0-9]* verified, 0 not checked" "$W/verify-1.txt"
check "... every agreement node-1 committed computed again from them, and equal" \
	grep -Eq "^agreements: [1-9][0-9]* computed again from their attestations and equal, 0 not" \
	"$W/verify-1.txt"
check "after a clean stop each journal is empty again (a 48-byte header)" \
	eval '(for k in 1 2 3 4; do [ "$(stat -c %s "$W/node-$k/vault/rounds.journal")" -eq 48 ] || exit 1; done)'
finish
