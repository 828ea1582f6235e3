#!/bin/bash
# audit-growth.sh -- how fast the audit plane grows at the README's defaults: a local quorum
# of 4 nodes with 1 s rounds (scripts/local-quorum.sh), run for SECONDS; prints each node's
# vault + merkle growth per minute and per day (target: at most 50 MB a day per node), then
# node-1's records of the window by kind (record type, event id or audit type) with their
# bytes per day, and the gossip copies each node dropped as duplicates.
# Usage: audit-growth.sh SRCDIR BUILDDIR [SECONDS]
set -u
src=$1 build=$2 seconds=${3:-60}
W=$(mktemp -d /tmp/quorum-growth.XXXXXX)
pids=()
cleanup() {
	for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null; done
	for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null; done
	rm -rf "$W"
}
trap cleanup EXIT
port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
bash "$src/scripts/local-quorum.sh" --setup-only --dir "$W" --port "$port" --builddir "$build" \
	--refusal-summary-s 3600 >/dev/null || exit 1
for k in 1 2 3 4; do
	(cd "$W/node-$k" && exec "$build/host/quorumd" --config quorum.conf 2>quorumd.log) &
	pids+=($!)
done
synced=0
for i in $(seq 150); do
	"$build/tools/quorumctl" time --clock "$W/node-1/clock" >/dev/null 2>&1 && { synced=1; break; }
	sleep 0.1
done
[ "$synced" -eq 1 ] || { echo "the quorum did not synchronise"; exit 1; }
sleep 5 # past the start: boot records, the first agreement, mode changes
# Bytes of every file under node-K's vault and merkle folders.
bytes() {
	find "$W/node-$1/vault" "$W/node-$1/merkle" -type f -printf '%s\n' | awk '{s += $1} END {print s + 0}'
}
declare -A before
for k in 1 2 3 4; do before[$k]=$(bytes "$k"); done
t0=$(date +%s%N)
sleep "$seconds"
t1=$(date +%s%N)
declare -A after
for k in 1 2 3 4; do after[$k]=$(bytes "$k"); done
for k in 1 2 3 4; do
	kill -0 "${pids[$((k - 1))]}" 2>/dev/null || { echo "node-$k stopped: $(tail -n 3 "$W/node-$k/quorumd.log")"; exit 1; }
done
for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null; done
for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null; done
pids=()
worst=0
for k in 1 2 3 4; do
	grown=$((after[$k] - before[$k]))
	per_day=$(awk -v b="$grown" -v s="$seconds" 'BEGIN {printf "%.1f", b * 86400 / s / 1e6}')
	awk -v k="$k" -v b="$grown" -v s="$seconds" -v d="$per_day" 'BEGIN {
		printf "node-%d: vault + merkle grew %d bytes in %d s: %.0f bytes/min, %s MB/day (target <= 50)\n", k, b, s, b * 60 / s, d }'
	worst=$(awk -v a="$worst" -v b="$per_day" 'BEGIN {print (b > a) ? b : a}')
done
echo "worst node: $worst MB/day"
"$build/tools/quorumctl" vault dump "$W/node-1/vault" --json >"$W/dump.json" || exit 1
/usr/bin/python3 - "$W/dump.json" "$t0" "$t1" "$seconds" <<'EOF'
import collections, json, sys
path, t0, t1, seconds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
kinds = collections.defaultdict(lambda: [0, 0])
for line in open(path):
    r = json.loads(line)
    if not t0 <= r["timestamp_ns"] < t1:
        continue
    if r["type"] == "event":
        kind = "event " + r.get("event_id", "?")
    elif r["type"] == "audit":
        kind = "audit " + r.get("text", "?").split(" ")[0]
    else:
        kind = r["type"]
    kinds[kind][0] += 1
    kinds[kind][1] += r["bytes"]
total = sum(v[1] for v in kinds.values())
count = sum(v[0] for v in kinds.values())
print("node-1 vault records in the window: %d records, %d bytes (%.1f MB/day; merkle adds"
      " 64 bytes a record)" % (count, total, total * 86400 / seconds / 1e6))
for kind, (n, b) in sorted(kinds.items(), key=lambda kv: -kv[1][1]):
    print("  %-34s %6d records %9d bytes  avg %5.0f  %6.2f MB/day" %
          (kind, n, b, b / n, b * 86400 / seconds / 1e6))
EOF
for k in 1 2 3 4; do
	dups=$(grep -o 'refused.summary what=gossip reason=duplicate count=[0-9]*' "$W/node-$k/quorumd.log" |
		awk -F= '{s += $NF} END {print s + 0}')
	echo "node-$k: gossip copies dropped as duplicates over the whole run: $dups"
done
awk -v w="$worst" 'BEGIN {exit !(w <= 50)}'
