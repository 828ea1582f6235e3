#!/bin/bash
# diskfull.sh -- a node that cannot log must not answer. A one-node quorum keeps its vault and
# Merkle tree on a small tmpfs; the disk is filled (then the folder made read-only): the node
# goes unsynchronised at once (REST 503, the shared page), says why (vault.failed,
# clock.suspended reason=audit_not_writable), refuses every event, and serves time again
# after the next agreement once space returns (vault.recovered); the vault then verifies
# (chain, Merkle tree, signed checkpoints): nothing acknowledged was lost. Needs root (mount);
# skipped otherwise. Speaks TAP.
. "$(dirname "$0")/lib.sh"

plan 20

W=$SCRATCH
MNT=$W/disk
mkdir -p "$MNT" "$W/node"
if [ "$(id -u)" -ne 0 ] || ! mount -t tmpfs -o size=4m tmpfs "$MNT" 2>/dev/null; then
	for i in $(seq 20); do ok "# SKIP needs root and tmpfs mounts"; done
	exit 0
fi
# Unmounted on exit, whatever happens (before lib.sh's cleanup removes the scratch).
trap 'kill $PIDS 2>/dev/null; wait 2>/dev/null; umount "$MNT/vault" 2>/dev/null; umount "$MNT" 2>/dev/null; cleanup' EXIT
CTL=$QUORUM_BUILDDIR/tools/quorumctl
"$KEYGEN" --out "$W/node/node" >/dev/null
UDP=$(free_port)
HTTP=$(free_port)
NTPP=$(free_port)
cat >"$W/node/quorum.conf" <<END
node = { id = "solo"; key = "node.key"; state_dir = "state"; };
plugin_dir = "$QUORUM_BUILDDIR/lib";
trusted_plugin_keys = [ "$QUORUM_BUILDDIR/keys/plugin-dev.pub" ];
peer_link = { address = "127.0.0.1"; port = $UDP; };
authority = { radius_ns = 1000; kernel_status = false; };
rounds = { interval_ms = 200; timeout_ms = 50; };
clock = { shm = "clock"; max_error_ns = 50000000; };
authorities = ( { id = "solo"; address = "127.0.0.1"; port = $UDP; key = "node.pub"; } );
stages = ( { name = "vault"; path = "stages/vault.so"; settings = { dir = "$MNT/vault"; }; },
           { name = "merkle"; path = "stages/merkle.so"; settings = { dir = "$MNT/merkle"; checkpoint_ms = 100; }; },
           { name = "convergence"; path = "stages/convergence.so"; },
           { name = "control"; path = "stages/control.so"; } );
transports = ( { name = "rest"; path = "transports/rest.so"; settings = { address = "127.0.0.1"; port = $HTTP; }; },
               { name = "ntp"; path = "transports/ntp.so"; settings = { port = $NTPP; workers = 2; }; } );
END
URL=http://127.0.0.1:$HTTP
LOG=$W/node/quorumd.log
status_of() { curl -sS --max-time 5 -o /dev/null -w '%{http_code}' "$URL$1"; }
# wait_status PATH CODE SECONDS
wait_status() {
	local i
	for i in $(seq $(($3 * 20))); do [ "$(status_of "$1")" = "$2" ] && return 0; sleep 0.05; done
	diag "$1 answers $(status_of "$1"), not $2"
	return 1
}
page_synced() { "$CTL" time --clock "$W/node/clock" >/dev/null 2>&1; }
# The NTP answer's leap indicator and transmit time (its worker threads read the shared page).
ntp_li_tx() { "$PYTHON" "$QUORUM_SRCDIR/tests/tools/ntp-probe.py" time 127.0.0.1 "$NTPP" |
	"$PYTHON" -c 'import json,sys; a=json.load(sys.stdin); print(a["li"], a["tx_ns"])'; }

(cd "$W/node" && exec "$QUORUMD" --config quorum.conf 2>quorumd.log) &
DAEMON=$!
PIDS="$PIDS $DAEMON"
check "a one-node quorum with its vault on a 4 MiB tmpfs serves time" wait_status /v1/time 200 10

# ---- disk full ----
dd if=/dev/zero of="$MNT/filler" bs=64k >/dev/null 2>&1
check "the disk is full" test "$(df --output=avail "$MNT" | tail -1)" -eq 0
check "the node stops serving time within a second (REST /v1/time 503)" wait_status /v1/time 503 2
# Each reopen of the log (once a second) may let a few rounds into the round journal while
# its last page still has room (tmpfs): those rounds are durable and the node may serve
# again until the next write fails. So each face is checked when the node is suspended.
# suspended_then CHECK...: CHECK holds at a moment when REST /v1/time answers 503 (3 s).
suspended_then() {
	local i
	for i in $(seq 30); do
		[ "$(status_of /v1/time)" = 503 ] && "$@" && return 0
		sleep 0.1
	done
	return 1
}
check "... /readyz 503" suspended_then eval '[ "$(status_of /readyz)" = 503 ]'
check "... the shared page says unsynchronised" suspended_then eval '! page_synced'
check "... NTP (two worker threads) answers LI 3 and no time" \
	suspended_then eval '[ "$(ntp_li_tx)" = "3 0" ]'
check "... and it says why (vault.failed, clock.suspended reason=audit_not_writable)" \
	eval 'wait_log "$LOG" "vault.failed what=.*No space left on device" 5 &&
	wait_log "$LOG" "clock.suspended reason=audit_not_writable" 5'
# The stage that failed tells the host at once (api->audit_changed): the suspension is
# logged in the same turn of the loop, not at the next 100 ms check or clock read.
check "... suspended the moment the audit plane failed (within 5 ms of vault/merkle.failed)" \
	"$PYTHON" -c '
import re, sys
from datetime import datetime
def first(pattern):
    for line in open(sys.argv[1]):
        if re.search(pattern, line):
            return datetime.strptime(line.split()[0][3:], "%Y-%m-%dT%H:%M:%S.%fZ")
failed = min(t for t in (first("event=vault.failed"), first("event=merkle.failed")) if t)
suspended = first("event=clock.suspended")
gap = (suspended - failed).total_seconds() * 1000
print("# suspended %.3f ms after the first failure" % gap)
sys.exit(0 if 0 <= gap <= 5 else 1)' "$LOG"
check "... while its rounds are refused (vault_unavailable), the node keeps running" \
	eval 'wait_log "$LOG" "verdict=reject stage=vault reason=vault_(unavailable|append_failed)" 5 &&
	kill -0 $DAEMON'
rm -f "$MNT/filler"
check "space returns: the vault reopens the log (vault.recovered)" \
	wait_log "$LOG" "vault.recovered after_ms=[0-9]+ records=[0-9]+" 10
check "... and the node serves time again after the next agreement" wait_status /v1/time 200 10
check "... the shared page too" page_synced
check "... and NTP answers with time (LI 0)" eval '[ "$(ntp_li_tx | cut -d" " -f1)" = 0 ]'

# ---- read-only: the vault's folder becomes read-only (a read-only bind mount over it)
# while the disk is full; space returns, but the log cannot be reopened for writing ----
mount --bind "$MNT/vault" "$MNT/vault" && mount -o remount,bind,ro "$MNT/vault"
FAILED_BEFORE=$(count_log "$LOG" "event=vault.failed")
dd if=/dev/zero of="$MNT/filler" bs=64k >/dev/null 2>&1
check "full again, with the vault folder read-only: no time served" wait_status /v1/time 503 3
# The merkle stage may fail first (its level file needed a page while the vault's last
# page still had room): space returns only once the vault has failed too.
for i in $(seq 100); do
	[ "$(count_log "$LOG" "event=vault.failed")" -gt "$FAILED_BEFORE" ] && break
	sleep 0.1
done
rm -f "$MNT/filler"
check "space returns but the folder is read-only: the vault says why (Read-only file system)" \
	wait_log "$LOG" "vault.still_failing retries=1 error=.*Read-only file system" 5
sleep 1
check "... and the node still serves no time" test "$(status_of /v1/time)" = 503
umount "$MNT/vault"
check "writable again: it serves time again" wait_status /v1/time 200 15

kill -TERM "$DAEMON"
wait_exit "$DAEMON" 10
check "it stops with status 0" test "$EXIT_STATUS" -eq 0
"$CTL" vault verify "$MNT/vault" --node-key "$W/node/node.pub" >"$W/verify.out" 2>&1
sed 's/^/# /' "$W/verify.out" | tail -3
check "quorumctl vault verify: the chain, the records and every signed checkpoint are intact" \
	grep -q "signatures: " "$W/verify.out"
check "... no acknowledged record was lost (the log only lost what never became durable)" \
	eval 'grep -q "vault.recovered .*lost_unsynced=" "$LOG" && ! grep -q "merkle.checkpoint_beyond_vault" "$LOG"'
finish
