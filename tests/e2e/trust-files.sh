#!/bin/bash
# trust-files.sh -- files another user planted are never trusted nor written through:
# quorum-keygen --force replaces a key file someone else made (a new inode, 0600, root's;
# their old descriptor never sees the key); quorumctl time (libquorum-clock) refuses a
# forged clock page "synchronised an hour ahead" in a shared folder, by path and by
# $QUORUM_CLOCK; quorumd refuses a clock page someone else planted, and a merkle checkpoint
# or level file planted as a link to a root-only file, naming the file. Speaks TAP; needs
# root (files of another user).
. "$(dirname "$0")/lib.sh"

plan 16

W=$SCRATCH
if [ "$(id -u)" -ne 0 ]; then
	for i in $(seq 16); do ok "# SKIP not root: files of another user need root"; done
	exit 0
fi
chmod 0755 "$W"

# ---- quorum-keygen --force over another user's file ----
mkdir -m 0755 "$W/kg"
touch "$W/kg/node.key"
chown nobody "$W/kg/node.key"
chmod 0666 "$W/kg/node.key"
OLD_INODE=$(stat -c %i "$W/kg/node.key")
exec 3<"$W/kg/node.key" # the other user's descriptor, opened before the key is written
"$KEYGEN" --out "$W/kg/node" >"$W/kg.out" 2>&1
STATUS=$?
check "quorum-keygen without --force refuses an existing key file" \
	eval '[ $STATUS -ne 0 ] && grep -q "cannot create $W/kg/node.key: File exists" "$W/kg.out"'
"$KEYGEN" --force --out "$W/kg/node" >"$W/kg.out" 2>&1
check "quorum-keygen --force writes the key" grep -q "BEGIN PRIVATE KEY" "$W/kg/node.key"
check "... into a new file (new inode), mode 0600, owned by root" \
	test "$(stat -c '%a %U' "$W/kg/node.key")" = "600 root" -a \
	"$(stat -c %i "$W/kg/node.key")" != "$OLD_INODE"
check "... the other user's old descriptor does not see the key" \
	eval '! grep -q "PRIVATE KEY" <&3'
exec 3<&-
check "... nor can that user open the new file" \
	eval '! runuser -u nobody -- cat "$W/kg/node.key" >/dev/null 2>&1'
check "... and no temporary file is left beside it" \
	test "$(find "$W/kg" -name '.node.*' | wc -l)" -eq 0

# ---- a forged clock page: synchronised, an hour ahead ----
forge_page() { # PATH: written by python3 with clock-page.h's layout
	"$PYTHON" - "$1" <<'PY'
import struct, sys, time
mono = time.clock_gettime_ns(time.CLOCK_MONOTONIC)
ahead = time.time_ns() + 3600 * 10**9
head = struct.pack("<11I4x", 0x4B4C4351, 1, 168, 2, 1, 0, 500, 1, 0, 1, 1)
body = struct.pack("<9qQd32s", mono, ahead, ahead - 1000, ahead + 1000, mono,
                   -2**63, 2**63 - 1, 10**9, 0, 1, 0.0, b"\0" * 32)
with open(sys.argv[1], "wb") as f:
    f.write((head + body).ljust(4096, b"\0"))
PY
}
mkdir "$W/shared"
chmod 1777 "$W/shared" # as /tmp: anyone may create files
forge_page "$W/shared/clock"
chown nobody "$W/shared/clock"
"$CTL" time --clock "$W/shared/clock" >"$W/time.out" 2>"$W/time.err"
STATUS=$?
check "quorumctl time refuses a page another user wrote in a shared folder" \
	eval '[ $STATUS -eq 2 ] && grep -q "belongs to uid $(id -u nobody): neither root" "$W/time.err"'
QUORUM_CLOCK=$W/shared/clock "$CTL" time >/dev/null 2>"$W/time.err"
STATUS=$?
check "... also when \$QUORUM_CLOCK names it" \
	eval '[ $STATUS -eq 2 ] && grep -q "belongs to uid" "$W/time.err"'
chown root "$W/shared/clock"
chmod 0666 "$W/shared/clock"
"$CTL" time --clock "$W/shared/clock" >/dev/null 2>"$W/time.err"
STATUS=$?
check "... and root's page if others may write it" \
	eval '[ $STATUS -eq 2 ] && grep -q "writable by group or others" "$W/time.err"'
chmod 0644 "$W/shared/clock"
check "(the same bytes written by root read as synchronised: the forgery was complete)" \
	eval '"$CTL" time --json --clock "$W/shared/clock" | grep -q "\"status\":\"synchronised\""'

# ---- quorumd: a planted clock page, planted links in the merkle folder ----
mkdir -p "$W/node"
"$KEYGEN" --out "$W/node/node" >/dev/null
printf 'root only secret, 32 bytes long!and more' >"$W/secret"
chmod 0600 "$W/secret"
UDP=$(free_port)
HTTP=$(free_port)
cat >"$W/node/quorum.conf" <<END
node = { id = "solo"; key = "node.key"; state_dir = "state"; };
plugin_dir = "$QUORUM_BUILDDIR/lib";
trusted_plugin_keys = [ "$QUORUM_BUILDDIR/keys/plugin-dev.pub" ];
peer_link = { address = "127.0.0.1"; port = $UDP; };
authority = { radius_ns = 1000; kernel_status = false; };
rounds = { interval_ms = 200; timeout_ms = 50; };
clock = { shm = "$W/shared/quorum-clock"; };
authorities = ( { id = "solo"; address = "127.0.0.1"; port = $UDP; key = "node.pub"; } );
stages = ( { name = "vault"; path = "stages/vault.so"; settings = { dir = "vault"; }; },
           { name = "merkle"; path = "stages/merkle.so"; settings = { dir = "merkle"; }; },
           { name = "convergence"; path = "stages/convergence.so"; },
           { name = "control"; path = "stages/control.so"; } );
transports = ( { name = "rest"; path = "transports/rest.so"; settings = { port = $HTTP; }; } );
END
# refuses LOG PATTERN: quorumd exits non-zero at start, its log matching PATTERN.
refuses() {
	(cd "$W/node" && exec "$QUORUMD" --config quorum.conf) >"$1" 2>&1 &
	QPID=$!
	PIDS="$PIDS $QPID"
	wait_exit "$QPID" 10 || { kill -KILL "$QPID"; return 1; }
	[ "$EXIT_STATUS" -ne 0 ] && grep -Eq -- "$2" "$1" ||
		{ diag "exit $EXIT_STATUS: $(grep -m1 error "$1")"; return 1; }
}
forge_page "$W/shared/quorum-clock"
chown nobody "$W/shared/quorum-clock"
check "quorumd refuses a clock page another user planted, naming it" \
	refuses "$W/planted.log" "clock page $W/shared/quorum-clock was not made by quorumd \(owner uid $(id -u nobody)"
check "... and leaves it alone" test "$(stat -c %U "$W/shared/quorum-clock")" = nobody
rm -f "$W/shared/quorum-clock"

(cd "$W/node" && exec "$QUORUMD" --config quorum.conf) >"$W/clean.log" 2>&1 &
QPID=$!
PIDS="$PIDS $QPID"
check "without it quorumd starts, makes the page (0644, root's) and serves time through it" \
	eval 'wait_http "http://127.0.0.1:$HTTP/readyz" ok 10 &&
	test "$(stat -c "%a %U" "$W/shared/quorum-clock")" = "644 root" &&
	"$CTL" time --clock "$W/shared/quorum-clock" >/dev/null &&
	wait_log "$W/clean.log" "merkle.checkpoint size=" 10'
kill -TERM "$QPID"
wait_exit "$QPID" 10
check "... and stops with status 0" test "$EXIT_STATUS" -eq 0

ln -s "$W/secret" "$W/node/merkle/checkpoint.planted"
mv "$W/node/merkle/checkpoint" "$W/checkpoint.saved"
mv "$W/node/merkle/checkpoint.planted" "$W/node/merkle/checkpoint"
check "quorumd refuses a merkle checkpoint planted as a link to a root-only file" \
	refuses "$W/checkpoint.log" "merkle.checkpoint_file_refused .*checkpoint is a symbolic link"
mv "$W/checkpoint.saved" "$W/node/merkle/checkpoint"
mv "$W/node/merkle/level-00" "$W/level-00.saved"
ln -s "$W/secret" "$W/node/merkle/level-00"
check "... and a level file planted so (its bytes never become leaves of a checkpoint)" \
	eval 'refuses "$W/level.log" "merkle.open_failed .*level-00 is a symbolic link" &&
	test "$(cat "$W/secret")" = "root only secret, 32 bytes long!and more"'
finish
