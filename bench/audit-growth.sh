#!/bin/bash
# audit-growth.sh -- how fast the audit plane grows at the README's defaults: a local quorum
# of 4 nodes with 1 s rounds (scripts/local-quorum.sh), run for SECONDS (at least twice the
# vault's round_log_s); prints each node's vault + merkle growth per day (target: at most 50
# MB a day per node), taken between two of its round log records so that the window holds
# whole ones, and the files' own growth; node-1's records by kind (record type, event id or
# audit type) with their bytes per day and what a kept round costs; and the gossip copies
# each node dropped as duplicates. Exits 1 when a node grows past 50 MB a day.
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
# Bytes of the log's files under node-K's vault and merkle folders (not the round journal:
# a few KB that the next round log record empties).
bytes() {
	find "$W/node-$1/vault" "$W/node-$1/merkle" -type f ! -name rounds.journal -printf '%s\n' |
		awk '{s += $1} END {print s + 0}'
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
for k in 1 2 3 4; do
	"$build/tools/quorumctl" vault dump "$W/node-$k/vault" --json >"$W/dump-$k.json" || exit 1
done
# The files grow a round log record at a time (every round_log_s): a window of the run's
# length catches a whole number of them or not. So each node's rate is taken between two of
# its round log records within the window (every record after the first up to the last, and
# the merkle stage's 64 bytes a record), and the file growth is shown beside it.
/usr/bin/python3 - "$W" "$t0" "$t1" "$seconds" \
	"${before[1]}" "${after[1]}" "${before[2]}" "${after[2]}" \
	"${before[3]}" "${after[3]}" "${before[4]}" "${after[4]}" <<'EOF2' || exit 1
import collections, json, sys
w, t0, t1, seconds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
files = [(int(sys.argv[5 + 2 * i]), int(sys.argv[6 + 2 * i])) for i in range(4)]
MERKLE = 64
worst = 0
for k in range(1, 5):
    recs = [json.loads(l) for l in open("%s/dump-%d.json" % (w, k))]
    marks = [r["timestamp_ns"] for r in recs if r["type"] == "rounds" and t0 <= r["timestamp_ns"] <= t1]
    if len(marks) < 2:
        print("node-%d: fewer than two round log records in the window: run longer" % k)
        sys.exit(1)
    a, b = marks[0], marks[-1]
    window = [r for r in recs if a < r["timestamp_ns"] <= b]
    span = (b - a) / 1e9
    total = sum(r["bytes"] + MERKLE for r in window)
    per_day = total * 86400 / span / 1e6
    worst = max(worst, per_day)
    grown = files[k - 1][1] - files[k - 1][0]
    print("node-%d: %.1f MB/day (vault + merkle over %.1f s between round log records: %d"
          " records, %d bytes); the files grew %d bytes in %d s (%.1f MB/day)"
          % (k, per_day, span, len(window), total, grown, seconds, grown * 86400 / seconds / 1e6))
    if k == 1:
        kinds = collections.defaultdict(lambda: [0, 0])
        for r in window:
            if r["type"] == "event":
                kind = "event " + r.get("event_id", "?")
            elif r["type"] == "audit":
                kind = "audit " + r.get("text", "?").split(" ")[0]
            else:
                kind = r["type"]
            kinds[kind][0] += 1
            kinds[kind][1] += r["bytes"]
        n = sum(v[0] for v in kinds.values())
        rounds = sum(len(r.get("rounds", [])) for r in window)
        for kind, (c, by) in sorted(kinds.items(), key=lambda kv: -kv[1][1]):
            print("  node-1 %-32s %5d records %9d bytes  avg %6.0f  %6.2f MB/day" %
                  (kind, c, by, by / c, by * 86400 / span / 1e6))
        print("  node-1 %-32s %5d records %9d bytes  %15s %6.2f MB/day" %
              ("merkle tree (64 bytes a record)", n, n * MERKLE, "", n * MERKLE * 86400 / span / 1e6))
        if rounds:
            print("  node-1 keeps %d rounds in %d bytes of round log: %.0f bytes a round"
                  % (rounds, kinds["rounds"][1], kinds["rounds"][1] / rounds))
print("worst node: %.1f MB/day (target <= 50)" % worst)
open(w + "/worst", "w").write("%.1f\n" % worst)
EOF2
worst=$(cat "$W/worst")
for k in 1 2 3 4; do
	dups=$(grep -o 'refused.summary what=gossip reason=duplicate count=[0-9]*' "$W/node-$k/quorumd.log" |
		awk -F= '{s += $NF} END {print s + 0}')
	echo "node-$k: gossip copies dropped as duplicates over the whole run: $dups"
done
awk -v w="$worst" 'BEGIN {exit !(w <= 50)}'
