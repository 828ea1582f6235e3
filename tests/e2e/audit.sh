#!/bin/bash
# audit.sh -- the audit plane end to end: a one-node quorum with the vault and merkle stages
# and a transport answering each ingested event only after its fsync. quorumd is killed
# with SIGKILL 20 times during continuous appends; after every restart each acknowledged
# event is in the vault and `quorumctl vault verify` passes (chain, tree, signed
# checkpoints). Proofs from the vault verify against its signed checkpoint; a flipped bit,
# a deleted record and reordered segments are each found with a precise message, and
# quorumd refuses to start on a corrupted vault. Speaks TAP.
. "$(dirname "$0")/lib.sh"

CRASHES=${AUDIT_CRASHES:-20}
plan 19

W=$SCRATCH
CTL=$QUORUM_BUILDDIR/tools/quorumctl
mkdir -p "$W/keys" "$W/plugins/stages" "$W/node"
"$KEYGEN" --out "$W/keys/trusted" >/dev/null
"$KEYGEN" --out "$W/keys/node" >/dev/null
for s in vault merkle convergence control; do
	cp "$QUORUM_BUILDDIR/lib/stages/$s.so" "$QUORUM_BUILDDIR/lib/stages/$s.so.sig" "$W/plugins/stages/"
done
stage_fixture fixture-transport "$W/plugins" fixture-transport "$W/keys/trusted.key" >/dev/null

HTTP=$(free_port)
UDP=$(free_port)
cat >"$W/node/quorum.conf" <<END
node = { id = "auditor-test"; key = "../keys/node.key"; state_dir = "state"; };
log = { level = "info"; };
plugin_dir = "../plugins";
trusted_plugin_keys = [ "../keys/trusted.pub", "$QUORUM_BUILDDIR/keys/plugin-dev.pub" ];
peer_link = { address = "127.0.0.1"; port = $UDP; };
authority = { radius_ns = 1000; kernel_status = false; };
rounds = { interval_ms = 100; timeout_ms = 25; };
clock = { shm = "clock"; };
authorities = ( { id = "auditor-test"; address = "127.0.0.1"; port = $UDP; key = "../keys/node.pub"; } );
stages = (
  { name = "vault"; path = "stages/vault.so";
    settings = { dir = "vault"; fsync = "batch"; batch_ms = 2; segment_max_bytes = 16384; }; },
  { name = "merkle"; path = "stages/merkle.so";
    settings = { dir = "merkle"; checkpoint_every = 64; checkpoint_ms = 50; }; },
  { name = "convergence"; path = "stages/convergence.so"; },
  { name = "control"; path = "stages/control.so"; }
);
transports = ( { name = "fixture-transport"; path = "fixture-transport.so";
                 settings = { address = "127.0.0.1"; port = $HTTP; greeting = "audit"; }; } );
END
URL=http://127.0.0.1:$HTTP
ACKS=$W/acks
: >"$ACKS"

start_node() { # LOG
	(cd "$W/node" && exec "$QUORUMD" --config quorum.conf) >"$1" 2>&1 &
	QPID=$!
	PIDS="$PIDS $QPID"
	wait_http "$URL/" audit 10 >/dev/null
}
stop_node() {
	kill -TERM "$QPID" 2>/dev/null
	wait_exit "$QPID" 10
}

# Every acknowledged id is an event record of the vault (dumped as JSON lines).
acks_present() {
	"$CTL" vault dump "$W/node/vault" --json >"$W/dump.json" || return 1
	"$PYTHON" - "$W/dump.json" "$ACKS" <<'PY'
import json, sys
seen = set()
for line in open(sys.argv[1]):
    rec = json.loads(line)
    if rec["type"] == "event":
        seen.add(rec.get("event_id"))
acked = [l.strip() for l in open(sys.argv[2]) if l.strip()]
missing = [a for a in acked if a not in seen]
print(f"# acknowledged={len(acked)} missing={len(missing)} records={sum(1 for _ in open(sys.argv[1]))}")
sys.exit(1 if missing else 0)
PY
}

# records_fit_schema: every line of the last dump fits schemas/vault-record.json
records_fit_schema() {
	"$PYTHON" - "$W/dump.json" "$QUORUM_SRCDIR/schemas/vault-record.json" <<'PY'
import json, sys
import jsonschema
schema = json.load(open(sys.argv[2]))
jsonschema.Draft202012Validator.check_schema(schema)
v = jsonschema.Draft202012Validator(schema)
bad = n = 0
types = set()
for line in open(sys.argv[1]):
    rec = json.loads(line)
    n += 1
    types.add(rec["type"])
    for e in v.iter_errors(rec):
        bad += 1
        print("# record %s: %s" % (rec.get("index"), e.message))
        break
print("# %d records (%s), %d not fitting" % (n, " ".join(sorted(types)), bad))
sys.exit(1 if bad or n == 0 else 0)
PY
}

quiet_fit() { records_fit_schema >"$W/fit.out"; local rc=$?; sed 's/^/#   /' "$W/fit.out"; return $rc; }

# ---- the crash loop ----
crash_failures=0 verify_failures=0 recovered=0 torn=0
for round in $(seq "$CRASHES"); do
	if ! start_node "$W/run-$round.log"; then
		diag "round $round: the node did not come up"; sed 's/^/#   /' "$W/run-$round.log" | tail -5
		crash_failures=$((crash_failures + 1)); break
	fi
	"$PYTHON" "$QUORUM_SRCDIR/tests/tools/ingest-client.py" "$URL/ingest" "crash.$round" "$ACKS" \
		2>"$W/client-$round.log" &
	client=$!
	# The kill lands 0.2 to 0.6 s into the appends, counted from the first acknowledgement
	# (on a busy machine the client takes a while to start).
	acked_before=$(wc -l <"$ACKS")
	for i in $(seq 200); do
		[ "$(wc -l <"$ACKS")" -gt "$acked_before" ] && break
		sleep 0.05
	done
	sleep "0.$((RANDOM % 5 + 2))"
	kill -KILL "$QPID"
	wait "$QPID" 2>/dev/null
	wait "$client"
	# Every fourth round, a power cut in the middle of a write as well: the last segment
	# ends inside a record (its length field says 200 bytes, 37 follow).
	if [ $((round % 4)) -eq 0 ]; then
		lastseg=$(ls "$W/node/vault"/segment-*.qv | tail -1)
		"$PYTHON" -c 'import os,sys; open(sys.argv[1],"ab").write((200).to_bytes(4,"little")+os.urandom(37))' "$lastseg"
		torn=$((torn + 1))
	fi
	# Restart: recovery truncates a torn tail, verifies the chain and catches the tree up.
	start_node "$W/recover-$round.log" && wait_log "$W/recover-$round.log" "merkle.ready" 5 >/dev/null ||
		crash_failures=$((crash_failures + 1))
	grep -q "vault.recover.torn_tail" "$W/recover-$round.log" && recovered=$((recovered + 1))
	stop_node || crash_failures=$((crash_failures + 1))
	if ! acks_present >"$W/acks-$round.out"; then
		crash_failures=$((crash_failures + 1)); diag "round $round:"; cat "$W/acks-$round.out"
	fi
	"$CTL" vault verify "$W/node/vault" --node-key "$W/keys/node.pub" >"$W/verify-$round.out" 2>&1 ||
		{ verify_failures=$((verify_failures + 1)); diag "round $round:"; sed 's/^/#   /' "$W/verify-$round.out"; }
done
diag "$CRASHES kills; $torn torn tails made, $recovered truncated and logged at restart; $(wc -l <"$ACKS") events acknowledged"
check "after each of $CRASHES kill -9 and restart, every acknowledged event is in the vault" \
	test "$crash_failures" -eq 0 -a "$(wc -l <"$ACKS")" -ge 50
check "... and \`quorumctl vault verify\` passes every time (chain, tree, signed checkpoints)" \
	test "$verify_failures" -eq 0
check "each torn tail was truncated at restart and logged" test "$recovered" -eq "$torn"
tail -3 "$W/verify-$CRASHES.out" | sed 's/^/# /'
nseg=$(ls "$W/node/vault"/segment-*.qv | wc -l)
check "the vault rotated into several segments and the chain continues across them ($nseg)" \
	test "$nseg" -ge 3
check "every record \`quorumctl vault dump --json\` prints fits schemas/vault-record.json" \
	quiet_fit

# ---- proofs against the signed checkpoint ----
last=$("$PYTHON" -c 'import json,sys; print(sum(1 for _ in open(sys.argv[1])))' "$W/dump.json")
"$CTL" vault proof "$W/node/vault" --index 7 >"$W/incl.json" 2>"$W/incl.err"
# What a client holds, taken from the files, not from the proof: record 7's stored bytes,
# and the first checkpoint the node signed (its record in the vault).
"$PYTHON" - "$W/dump.json" "$W/node/vault" "$W/record-7.bin" "$W/old.note" <<'PY'
import json, struct, sys
dump, vault, rec_out, note_out = sys.argv[1:5]
first_cp = None
for line in open(dump):
    r = json.loads(line)
    if r["index"] == 7:
        with open("%s/segment-%012d.qv" % (vault, r["segment"]), "rb") as f:
            f.seek(r["offset"])
            n = struct.unpack("<I", f.read(4))[0]
            f.seek(r["offset"])
            open(rec_out, "wb").write(f.read(n))
    if r["type"] == "checkpoint" and first_cp is None:
        first_cp = r["text"]
open(note_out, "w").write(first_cp)
PY
OLD_SIZE=$(sed -n 2p "$W/old.note")
# quiet COMMAND...: runs it with its output as TAP comments.
quiet() { "$@" >"$W/quiet.out" 2>&1; local rc=$?; sed 's/^/# /' "$W/quiet.out"; return $rc; }
check "an inclusion proof of record 7 verifies against its stored bytes and the signed checkpoint" \
	quiet "$CTL" proof verify --node-key "$W/keys/node.pub" --record "$W/record-7.bin" "$W/incl.json"
"$CTL" vault proof "$W/node/vault" --consistency "$OLD_SIZE" >"$W/cons.json" 2>"$W/cons.err"
check "a consistency proof from the first signed checkpoint (size $OLD_SIZE) verifies, roots printed" \
	eval 'quiet "$CTL" proof verify --node-key "$W/keys/node.pub" --old-checkpoint "$W/old.note" "$W/cons.json" &&
	grep -q "^old root (your checkpoint, size $OLD_SIZE): [0-9a-f]\{64\}$" "$W/quiet.out" &&
	grep -q "^new root (the proof.s checkpoint" "$W/quiet.out"'
# A proof from a root the client never saw: the proof's old_root and leaf_hash are not used.
"$PYTHON" - "$W/cons.json" "$W/incl.json" "$W/cons-forged.json" "$W/incl-forged.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["old_root"] = "ab" * 32
json.dump(c, open(sys.argv[3], "w"))
i = json.load(open(sys.argv[2]))
i["leaf_hash"] = "cd" * 32
json.dump(i, open(sys.argv[4], "w"))
PY
check "... the proof's own old_root and leaf_hash are not trusted (printed, not used)" \
	eval 'quiet "$CTL" proof verify --node-key "$W/keys/node.pub" --old-checkpoint "$W/old.note" "$W/cons-forged.json" &&
	grep -q "not yours: not used" "$W/quiet.out" &&
	quiet "$CTL" proof verify --node-key "$W/keys/node.pub" --record "$W/record-7.bin" "$W/incl-forged.json"'
printf 'not record 7' >"$W/other.bin"
check "... a record the proof is not about, or no record at all, is refused" \
	eval '[ "$("$CTL" proof verify --node-key "$W/keys/node.pub" --record "$W/other.bin" "$W/incl.json" >/dev/null 2>&1; echo $?)" -eq 1 ] &&
	[ "$("$CTL" proof verify --node-key "$W/keys/node.pub" "$W/incl.json" >/dev/null 2>&1; echo $?)" -eq 2 ] &&
	[ "$("$CTL" proof verify --node-key "$W/keys/node.pub" "$W/cons.json" >/dev/null 2>&1; echo $?)" -eq 2 ]'
"$PYTHON" - "$W/incl.json" "$W/incl-bad.json" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
h = doc["inclusion"][0]
doc["inclusion"][0] = ("0" if h[0] != "0" else "1") + h[1:]
json.dump(doc, open(sys.argv[2], "w"))
PY
check "a proof with one altered hash is invalid" \
	test "$("$CTL" proof verify --node-key "$W/keys/node.pub" --record "$W/record-7.bin" "$W/incl-bad.json" >/dev/null 2>&1; echo $?)" -eq 1
check "a proof checked with another node's key is refused" \
	test "$("$CTL" proof verify --node-key "$W/keys/trusted.pub" --record "$W/record-7.bin" "$W/incl.json" >/dev/null 2>&1; echo $?)" -eq 1

# ---- tampering ----
# record_at INDEX: "SEGMENT_NUMBER OFFSET" of a record, from the dump.
record_at() {
	"$PYTHON" - "$W/dump.json" "$1" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    rec = json.loads(line)
    if rec["index"] == int(sys.argv[2]):
        print(rec["segment"], rec["offset"])
PY
}
segfile() { printf '%s/segment-%012d.qv' "$1" "$2"; }
mid=$((last / 2))
read -r seg off < <(record_at "$mid")
T=$W/tamper
rm -rf "$T"; cp -a "$W/node/vault" "$T"
flip_bit "$(segfile "$T" "$seg")" $((off + 60))
"$CTL" vault verify "$T" >"$W/t1.out" 2>&1
rc=$?
diag "$(cat "$W/t1.out")"
check "one flipped bit in record $mid is found: verify fails naming segment and offset" \
	eval "[ $rc -eq 1 ] && grep -q \"segment-0*$seg.qv offset $off\" '$W/t1.out'"

rm -rf "$T"; cp -a "$W/node/vault" "$T"
# The first record from the middle on whose successor is in the same segment (a record at
# a segment's end has its successor in the next file: deleting it is another test).
read -r del seg off off2 < <("$PYTHON" - "$W/dump.json" "$mid" <<'PY'
import json, sys
recs = {}
for line in open(sys.argv[1]):
    r = json.loads(line)
    recs[r["index"]] = (r["segment"], r["offset"])
i = int(sys.argv[2])
while i + 1 in recs and recs[i][0] != recs[i + 1][0]:
    i += 1
print(i, recs[i][0], recs[i][1], recs[i + 1][1])
PY
)
f=$(segfile "$T" "$seg")
"$PYTHON" -c 'import sys; p,a,b=sys.argv[1],int(sys.argv[2]),int(sys.argv[3]); d=open(p,"rb").read(); open(p,"wb").write(d[:a]+d[b:])' "$f" "$off" "$off2"
"$CTL" vault verify "$T" >"$W/t2.out" 2>&1
rc=$?
diag "$(cat "$W/t2.out")"
check "a deleted record ($del) is found: verify fails naming segment and offset" \
	eval "[ $rc -eq 1 ] && grep -q \"segment-0*$seg.qv offset $off\" '$W/t2.out'"

rm -rf "$T"; cp -a "$W/node/vault" "$T"
mv "$(segfile "$T" 2)" "$T/swap" && mv "$(segfile "$T" 3)" "$(segfile "$T" 2)" && mv "$T/swap" "$(segfile "$T" 3)"
"$CTL" vault verify "$T" >"$W/t3.out" 2>&1
rc=$?
diag "$(cat "$W/t3.out")"
check "reordered segments are found: verify fails naming the segment" \
	eval "[ $rc -eq 1 ] && grep -q 'segment-0*2.qv' '$W/t3.out'"

# quorumd itself refuses a vault corrupted after its last checkpoint: the newest record.
cp -a "$W/node/vault" "$W/vault.good"
read -r segl offl < <(record_at $((last - 1)))
flip_bit "$(segfile "$W/node/vault" "$segl")" $((offl + 60))
start_quorumd "$W/corrupt.log" --config "$W/node/quorum.conf"
wait_exit "$QPID" 10 || kill -KILL "$QPID"
rc=$EXIT_STATUS
diag "$(grep -m1 -E 'vault.open_failed|error' "$W/corrupt.log")"
check "quorumd refuses to start on a corrupted vault, naming segment and offset (exit $rc)" \
	eval "[ $rc -ne 0 ] && [ $rc -ne 124 ] && grep -q \"segment-0*$segl.qv offset $offl\" '$W/corrupt.log'"
check "... and changed nothing on disk" \
	eval "[ \$(stat -c %s '$(segfile "$W/node/vault" "$segl")') -eq \$(stat -c %s '$(segfile "$W/vault.good" "$segl")') ]"
rm -rf "$W/node/vault" && mv "$W/vault.good" "$W/node/vault"

# ---- a sealed vault (AES-256-GCM) ----
head -c 32 /dev/urandom >"$W/keys/vault.key" && chmod 0600 "$W/keys/vault.key"
sed -e 's|dir = "vault"; fsync = "batch";|dir = "sealed"; key_file = "../keys/vault.key"; fsync = "batch";|' \
	-e 's|dir = "merkle";|dir = "merkle-sealed";|' "$W/node/quorum.conf" >"$W/node/sealed.conf"
(cd "$W/node" && exec "$QUORUMD" --config sealed.conf) >"$W/sealed.log" 2>&1 &
QPID=$!; PIDS="$PIDS $QPID"
wait_http "$URL/" audit 10 >/dev/null
"$PYTHON" "$QUORUM_SRCDIR/tests/tools/ingest-client.py" "$URL/ingest" "sealed-secret" "$W/sealed-acks" 20 2>/dev/null
sleep 0.3
# While it runs, the rounds waiting for their round log record are in its journal: sealed.
journal_bytes=$(stat -c %s "$W/node/sealed/rounds.journal")
journal_clear=$(grep -c 'bft.sync.commit' "$W/node/sealed/rounds.journal")
stop_node
check "a sealed vault keeps no payload in clear on disk (its round journal held $journal_bytes bytes)" \
	eval "[ $journal_bytes -gt 48 ] && [ $journal_clear -eq 0 ] && ! grep -rq 'sealed-secret' '$W/node/sealed' && ! grep -rq 'bft.sync.commit' '$W/node/sealed'"
check "... verifies with the key (chain, tree, signatures)" \
	quiet "$CTL" vault verify "$W/node/sealed" --vault-key "$W/keys/vault.key" --node-key "$W/keys/node.pub"
"$CTL" vault dump "$W/node/sealed" --vault-key "$W/keys/vault.key" >"$W/sealed.dump" 2>&1
check "... and its records read back with the key" grep -q "sealed-secret.19" "$W/sealed.dump"
finish
