#!/bin/bash
# retention.sh -- a log that runs for years: a node with a tiny retention (4 KiB segments,
# retain_bytes 16384, one round log record a second, rounds every 100 ms) runs for two
# minutes. Its vault stays within the limit, the old segments go to the archive folder, and
# what stays verifies: the kept log starts at an anchor a signed checkpoint vouches for,
# `quorumctl vault verify` passes, inclusion proofs of kept records and consistency proofs
# from kept checkpoints verify (with quorumctl, and with hashlib alone), proofs of removed
# records are refused, the archived and kept segments together give the very tree the
# signed checkpoints name, a forged anchor is caught, and the node restarts on the retained
# folder and serves proofs; without its merkle folder it refuses to start and says why.
# Speaks TAP.
. "$(dirname "$0")/lib.sh"

plan 16

W=$SCRATCH
SECONDS_RUN=${RETENTION_SECONDS:-120}
RETAIN=16384
SEGMENT=4096
mkdir -p "$W/node"
"$KEYGEN" --out "$W/node/node" >/dev/null
UDP=$(free_port) HTTP=$(free_port)
cat >"$W/node/quorum.conf" <<END
node = { id = "solo"; key = "node.key"; state_dir = "state"; };
plugin_dir = "$QUORUM_BUILDDIR/lib";
trusted_plugin_keys = [ "$QUORUM_BUILDDIR/keys/plugin-dev.pub" ];
peer_link = { address = "127.0.0.1"; port = $UDP; };
authority = { radius_ns = 1000; kernel_status = false; };
rounds = { interval_ms = 100; timeout_ms = 25; };
clock = { shm = "clock"; max_error_ns = 50000000; };
authorities = ( { id = "solo"; address = "127.0.0.1"; port = $UDP; key = "node.pub"; } );
stages = ( { name = "vault"; path = "stages/vault.so";
             settings = { dir = "vault"; fsync = "batch"; segment_max_bytes = $SEGMENT;
                          retain_bytes = $RETAIN; archive_dir = "archive"; round_log_s = 1; }; },
           { name = "merkle"; path = "stages/merkle.so"; settings = { dir = "merkle"; }; },
           { name = "convergence"; path = "stages/convergence.so"; },
           { name = "control"; path = "stages/control.so"; } );
transports = ( { name = "rest"; path = "transports/rest.so";
                 settings = { address = "127.0.0.1"; port = $HTTP; }; } );
END
URL=http://127.0.0.1:$HTTP
LOG=$W/node/quorumd.log
V=$W/node/vault
start() { (cd "$W/node" && exec "$QUORUMD" --config quorum.conf 2>>quorumd.log) & QPID=$!; PIDS="$PIDS $QPID"; }
vault_bytes() { find "$V" -name 'segment-*.qv' -printf '%s\n' | awk '{s += $1} END {print s + 0}'; }

start
check "a node with a 16 KiB retention serves time" wait_http "$URL/v1/time" '"status": *"synchronised"' 20
# While it runs, its segments never add up to much more than the limit: the oldest go
# once they are over it (a segment more until the next checkpoint covers the cut).
most=0
for i in $(seq $((SECONDS_RUN / 5))); do
	sleep 5
	b=$(vault_bytes)
	[ "$b" -gt "$most" ] && most=$b
done
diag "after ${SECONDS_RUN} s: segments $(ls "$V" | grep -c '^segment-'), the most they held $most bytes, archived $(ls "$W/node/archive" | wc -l)"
check "the vault's segments stayed within retain_bytes and two segments ($most bytes)" \
	test "$most" -le $((RETAIN + 2 * SEGMENT))
check "... the oldest went to the archive folder, the log starts at a later segment" \
	eval '[ -e "$W/node/archive/segment-000000000001.qv" ] && [ ! -e "$V/segment-000000000001.qv" ] && [ -e "$V/vault.anchor" ]'
check "... each removal is audited (vault.retention) and logged" \
	wait_log "$LOG" "vault.retention first_segment=[0-9]+ first_index=[0-9]+ tree_base=[0-9]+ " 1
kill -TERM "$QPID"
wait_exit "$QPID" 10

"$CTL" vault verify "$V" --node-key "$W/node/node.pub" --authority-key "$W/node/node.pub" \
	>"$W/verify.txt" 2>&1
VERIFY=$?
sed 's/^/# /' "$W/verify.txt"
check "quorumctl vault verify passes on the retained folder (chain from the anchor, every checkpoint, every round)" \
	eval '[ "$VERIFY" -eq 0 ] && grep -q "chain verified from record [1-9]" "$W/verify.txt"'
FIRST=$(sed -n 's/.*chain verified from record \([0-9]*\).*/\1/p' "$W/verify.txt")
"$CTL" vault dump "$V" --json >"$W/dump.json"
# The smallest and the largest checkpoint the kept log holds.
read -r OLDEST LATEST < <("$PYTHON" - "$W/dump.json" <<'PY'
import json, sys
sizes = [int(json.loads(l)["text"].split("\n")[1]) for l in open(sys.argv[1])
         if json.loads(l)["type"] == "checkpoint"]
print(min(sizes), max(sizes))
PY
)
diag "kept records from $FIRST; kept checkpoints of sizes $OLDEST to $LATEST"
# hashlib alone: an RFC 9162 proof against the checkpoint's root (not audit/mtree.c).
py_verify() { # PROOF.json
	"$PYTHON" - "$1" <<'PY'
import base64, hashlib, json, sys
d = json.load(open(sys.argv[1]))
lines = d["checkpoint"].split("\n")
size, root = int(lines[1]), base64.b64decode(lines[2])
H = lambda b: hashlib.sha256(b).digest()
node = lambda l, r: H(b"\x01" + l + r)
def inclusion(i, n, leaf, path):
    fn, sn, r = i, n - 1, leaf
    for p in path:
        if sn == 0: return False
        if fn & 1 or fn == sn:
            r = node(p, r)
            while not fn & 1 and fn: fn >>= 1; sn >>= 1
        else:
            r = node(r, p)
        fn >>= 1; sn >>= 1
    return sn == 0 and r == root
def consistency(m, n, old, path):
    if m == n: return not path and old == root
    path = ([old] if m & (m - 1) == 0 else []) + path
    fn, sn = m - 1, n - 1
    while fn & 1: fn >>= 1; sn >>= 1
    fr = sr = path[0]
    for p in path[1:]:
        if sn == 0: return False
        if fn & 1 or fn == sn:
            fr, sr = node(p, fr), node(p, sr)
            while not fn & 1 and fn: fn >>= 1; sn >>= 1
        else:
            sr = node(sr, p)
        fn >>= 1; sn >>= 1
    return sn == 0 and fr == old and sr == root
h = lambda k: [bytes.fromhex(x) for x in d[k]]
if "inclusion" in d:
    ok = inclusion(d["index"], size, bytes.fromhex(d["leaf_hash"]), h("inclusion"))
else:
    ok = consistency(d["old_size"], size, bytes.fromhex(d["old_root"]), h("consistency"))
sys.exit(0 if ok else 1)
PY
}
# What a client holds: a record's leaf hash, from its bytes in the segment (RFC 6962:
# SHA-256 of 0x00 and the record), and an earlier signed checkpoint (the oldest kept).
leaf_hash() { # INDEX
	"$PYTHON" - "$W/dump.json" "$V" "$1" <<'PY'
import hashlib, json, struct, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r["index"] == int(sys.argv[3]):
        with open("%s/segment-%012d.qv" % (sys.argv[2], r["segment"]), "rb") as f:
            f.seek(r["offset"]); n = struct.unpack("<I", f.read(4))[0]; f.seek(r["offset"])
            print(hashlib.sha256(b"\0" + f.read(n)).hexdigest())
PY
}
"$PYTHON" - "$W/dump.json" "$OLDEST" >"$W/oldest.note" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r["type"] == "checkpoint" and int(r["text"].split("\n")[1]) == int(sys.argv[2]):
        sys.stdout.write(r["text"]); break
PY
proofs_ok=1
for i in "$FIRST" $((FIRST + 1)) $((LATEST - 1)); do
	"$CTL" vault proof "$V" --index "$i" >"$W/incl-$i.json" &&
		"$CTL" proof verify --node-key "$W/node/node.pub" --leaf-hash "$(leaf_hash "$i")" \
			"$W/incl-$i.json" >/dev/null &&
		py_verify "$W/incl-$i.json" || { diag "inclusion of record $i failed"; proofs_ok=0; }
done
check "inclusion proofs of kept records verify (quorumctl and hashlib)" test "$proofs_ok" -eq 1
"$CTL" vault proof "$V" --consistency "$OLDEST" >"$W/cons.json" &&
	"$CTL" proof verify --node-key "$W/node/node.pub" --old-checkpoint "$W/oldest.note" \
		"$W/cons.json" >/dev/null &&
	py_verify "$W/cons.json"
check "the consistency proof from the oldest kept checkpoint ($OLDEST) to the latest verifies" \
	test $? -eq 0
check "a proof of a removed record is refused, and one from a removed tree size" \
	eval '! "$CTL" vault proof "$V" --index 1 >/dev/null 2>"$W/refused.txt" &&
	grep -q "removed by retention" "$W/refused.txt" &&
	! "$CTL" vault proof "$V" --consistency 2 >/dev/null 2>&1'
# The archive and the kept segments are the whole log again: hashlib's tree of all of it
# must have the roots the kept checkpoints signed, and the anchor's compact range the
# root of its tree base.
"$PYTHON" - "$W/node/archive" "$V" >"$W/whole.txt" 2>&1 <<'PY'
import base64, glob, hashlib, os, struct, sys
H = lambda b: hashlib.sha256(b).digest()
records = []
for path in sorted(glob.glob(sys.argv[1] + "/segment-*.qv") + glob.glob(sys.argv[2] + "/segment-*.qv")):
    data, off = open(path, "rb").read(), 104
    while off < len(data):
        n = struct.unpack_from("<I", data, off)[0]
        records.append(data[off:off + n]); off += n
assert [struct.unpack_from("<Q", r, 8)[0] for r in records] == list(range(len(records))), "not one log"
leaves = [H(b"\x00" + r) for r in records]
def mth(lo, hi):
    if hi - lo == 1: return leaves[lo]
    k = 1
    while k * 2 < hi - lo: k *= 2
    return H(b"\x01" + mth(lo, lo + k) + mth(lo + k, hi))
checked = 0
for r in records:
    if struct.unpack_from("<H", r, 4)[0] == 18:
        text = r[56:-32].decode()
        lines = text.split("\n")
        size, root = int(lines[1]), base64.b64decode(lines[2])
        assert mth(0, size) == root, "checkpoint of size %d" % size
        checked += 1
a = open(sys.argv[2] + "/vault.anchor", "rb").read()
base, nr = struct.unpack_from("<QI", a, 56)
hashes = [a[72 + 32 * i:104 + 32 * i] for i in range(nr)]
r = hashes[-1]
for h in reversed(hashes[:-1]): r = H(b"\x01" + h + r)
assert r == mth(0, base), "the anchor's compact range"
print("records", len(records), "checkpoints", checked, "anchor base", base)
PY
WHOLE=$?
sed 's/^/# /' "$W/whole.txt"
check "archive + kept segments: hashlib's tree has every signed root, and the anchor's compact range" \
	test "$WHOLE" -eq 0
# A forged anchor (a compact range hash changed, its checksum made good again) is caught:
# the signed checkpoints no longer match.
cp "$V/vault.anchor" "$W/anchor.good"
"$PYTHON" - "$V/vault.anchor" <<'PY'
import hashlib, sys
a = bytearray(open(sys.argv[1], "rb").read())
a[72] ^= 1
a[-32:] = hashlib.sha256(b"quorum-vault-anchor-v1\x00" + bytes(a[:-32])).digest()
open(sys.argv[1], "wb").write(a)
PY
"$CTL" vault verify "$V" --node-key "$W/node/node.pub" >"$W/forged.txt" 2>&1
FORGED=$?
sed 's/^/# /' "$W/forged.txt" | head -3
check "a forged anchor fails vault verify (the kept checkpoints' roots differ)" \
	eval '[ "$FORGED" -eq 1 ] && grep -q "has root" "$W/forged.txt"'
cp "$W/anchor.good" "$V/vault.anchor"

# The node starts again on the retained folder and serves proofs of kept records (its
# retention may then archive the segment: the leaf hash is taken now).
LEAF_NEXT=$(leaf_hash $((FIRST + 1)))
start
check "restarted on the retained folder, it serves time again" \
	wait_http "$URL/v1/time" '"status": *"synchronised"' 20
check "... and GET /v1/proof/inclusion of a kept record verifies" \
	eval 'http_get "$URL/v1/proof/inclusion?index=$((FIRST + 1))" >"$W/rest-proof.json" &&
	"$CTL" proof verify --node-key "$W/node/node.pub" --leaf-hash "$LEAF_NEXT" \
		"$W/rest-proof.json" >/dev/null &&
	py_verify "$W/rest-proof.json"'
kill -TERM "$QPID"
wait_exit "$QPID" 10
check "... it stops cleanly" test "$EXIT_STATUS" -eq 0
check "... and the folder still verifies" \
	"$CTL" vault verify "$V" --node-key "$W/node/node.pub"
# Without its merkle folder the tree of the removed records cannot be rebuilt: the node
# says so and does not start (it would otherwise sign roots it cannot compute).
mv "$W/node/merkle" "$W/merkle.kept"
"$QUORUMD" --config "$W/node/quorum.conf" >"$W/no-merkle.log" 2>&1 &
QPID=$!
PIDS="$PIDS $QPID"
wait_exit "$QPID" 15
check "without its merkle folder it refuses to start and says why" \
	eval '[ "$EXIT_STATUS" -ne 0 ] && grep -q "merkle.catch_up_failed .*reason=records_removed_by_retention" "$W/no-merkle.log"'
check "quorumctl vault verify's output names the retained start" \
	grep -q "retention removed the records before it" "$W/verify.txt"
finish
