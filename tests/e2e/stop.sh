#!/bin/bash
# stop.sh -- a stop is bounded: SIGTERM ends quorumd within drain_timeout_ms + 1 s whatever
# its plugins do. A busy node (checkpoints as often as allowed) stops cleanly at once and
# its vault verifies; a stage stuck in process() is cut off at the deadline with a
# stop.forced line. checkpoint_every below 10 is refused, and a checkpoint's own record
# never counts towards the next checkpoint. Speaks TAP.
. "$(dirname "$0")/lib.sh"

plan 9

W=$SCRATCH
mkdir -p "$W/keys" "$W/plugins/stages" "$W/node"
"$KEYGEN" --out "$W/keys/trusted" >/dev/null
"$KEYGEN" --out "$W/node/node" >/dev/null
for s in vault merkle convergence control; do
	cp "$QUORUM_BUILDDIR/lib/stages/$s.so" "$QUORUM_BUILDDIR/lib/stages/$s.so.sig" "$W/plugins/stages/"
done
stage_fixture fixture-stage "$W/plugins" fixture-stage "$W/keys/trusted.key" >/dev/null
UDP=$(free_port)
HTTP=$(free_port)
DRAIN_MS=1000
conf() { # MERKLE-SETTINGS [EXTRA-STAGE]
	cat >"$W/node/quorum.conf" <<END
node = { id = "solo"; key = "node.key"; state_dir = "state"; };
plugin_dir = "../plugins";
trusted_plugin_keys = [ "../keys/trusted.pub", "$QUORUM_BUILDDIR/keys/plugin-dev.pub" ];
drain_timeout_ms = $DRAIN_MS;
peer_link = { address = "127.0.0.1"; port = $UDP; };
authority = { radius_ns = 1000; kernel_status = false; };
rounds = { interval_ms = 100; timeout_ms = 25; };
authorities = ( { id = "solo"; address = "127.0.0.1"; port = $UDP; key = "node.pub"; } );
stages = ( { name = "vault"; path = "stages/vault.so"; settings = { dir = "vault"; round_log_s = 0; }; },
           { name = "merkle"; path = "stages/merkle.so"; settings = { dir = "merkle"; $1 }; },
           { name = "convergence"; path = "stages/convergence.so"; },
           { name = "control"; path = "stages/control.so"; }${2:-} );
transports = ( { name = "rest"; path = "$QUORUM_BUILDDIR/lib/transports/rest.so";
                 settings = { port = $HTTP; }; } );
END
}
start() { # LOG
	(cd "$W/node" && exec "$QUORUMD" --config quorum.conf) >"$1" 2>&1 &
	QPID=$!
	PIDS="$PIDS $QPID"
}
# stop_timed: SIGTERM to $QPID; MS gets the milliseconds until it exited, EXIT_STATUS its
# status.
stop_timed() {
	local t0 t1
	t0=$(date +%s%N)
	kill -TERM "$QPID"
	if ! wait_exit "$QPID" 30; then
		kill -KILL "$QPID"
		MS=999999
		return
	fi
	t1=$(date +%s%N)
	MS=$(((t1 - t0) / 1000000))
}
LIMIT_MS=$((DRAIN_MS + 1000 + 500)) # the budget, and half a second for a loaded machine

conf "checkpoint_every = 1;"
"$QUORUMD" --check-config --config "$W/node/quorum.conf" >"$W/check.log" 2>&1
check "checkpoint_every = 1 is refused (each checkpoint is a record that triggered the next)" \
	grep -q "setting 'checkpoint_every' is 1; it must lie between 10 and" "$W/check.log"

# Busy: a checkpoint every 10 records (the least allowed; by count only), rounds every 100 ms,
# each its own record (round_log_s = 0).
conf "checkpoint_every = 10; checkpoint_ms = 86400000;"
start "$W/busy.log"
check "a busy node starts and serves time" wait_http "http://127.0.0.1:$HTTP/readyz" ok 10
sleep 3
stop_timed
diag "busy node: SIGTERM to exit ${MS} ms"
check "... SIGTERM ends it within drain_timeout_ms + 1 s (${MS} ms)" test "$MS" -le "$LIMIT_MS"
check "... cleanly: status 0, the vault closed" \
	eval '[ "$EXIT_STATUS" -eq 0 ] && grep -q "vault.closed" "$W/busy.log"'
check "... and its vault verifies" "$CTL" vault verify "$W/node/vault" --node-key "$W/node/node.pub"
"$CTL" vault dump "$W/node/vault" --json >"$W/dump.json"
# Between two checkpoints made by count there are at least 10 other records: the previous
# checkpoint's own record never counts (the old count made a checkpoint of a checkpoint).
"$PYTHON" - "$W/dump.json" >"$W/gaps.txt" <<'PY'
import json, sys
types = [json.loads(line)["type"] for line in open(sys.argv[1])]
marks = [i for i, t in enumerate(types) if t == "checkpoint"]
gaps = [b - a - 1 for a, b in zip(marks, marks[1:])]
print(len(marks), min(gaps) if gaps else -1, len(types))
PY
read -r CHECKPOINTS MIN_GAP RECORDS <"$W/gaps.txt"
diag "checkpoints=$CHECKPOINTS records=$RECORDS smallest gap=$MIN_GAP"
check "... its checkpoints ($CHECKPOINTS of $RECORDS records) are 10 other records apart" \
	test "$CHECKPOINTS" -ge 2 -a "$MIN_GAP" -ge 10

# Stuck: a stage that holds the loop for a minute in every process().
rm -rf "$W/node/vault" "$W/node/merkle" "$W/node/state"
conf "" ", { name = \"fixture-stage\"; path = \"fixture-stage.so\"; settings = { stall_ms = 60000; }; }"
start "$W/stuck.log"
check "a node whose stage is stuck in process() starts" \
	wait_log "$W/stuck.log" "fixture.stalling ms=60000" 10
stop_timed
diag "stuck node: SIGTERM to exit ${MS} ms"
check "... SIGTERM still ends it within drain_timeout_ms + 1 s (${MS} ms)" \
	test "$MS" -le "$LIMIT_MS" -a "$MS" -ge $((DRAIN_MS + 1000))
check "... with status 1 and a stop.forced line naming the budget" \
	eval '[ "$EXIT_STATUS" -eq 1 ] &&
	grep -q "stop.forced reason=deadline budget_ms=$((DRAIN_MS + 1000))" "$W/stuck.log"'
finish
