#!/bin/bash
# passport.sh -- the passport stage end to end on a local quorum of 4 (scripts/local-quorum.sh
# has a trust root sign a passport per node). The passports verify with quorumctl and, over
# the documented bytes, with openssl; each node's own rounds pass its passport stage; events
# posted to a test transport (POST /ingest) are refused when unsigned, signed by a key of no
# passport, by an authority without the capability, or replayed, each with the seed's reason
# (counted and summarised, refused.summary, since nobody can be held to a forged or replayed
# event: no record each); and a key rotation with traffic flowing: a
# uml001.passport.update (quorumctl passport event) gives node-4 a new key and drops the old
# one, node-4 keeps committing its rounds signed with the old key during the overlap, then
# restarts with the new key and the others keep counting its answers (the host asks the
# passport service for the key); the rotation survives a restart; an invalid passport stops
# a node's start, naming the file. Speaks TAP.
. "$(dirname "$0")/lib.sh"

plan 25

W=$SCRATCH
PORT=$(free_port)
MAKE_EVENT="$PYTHON $QUORUM_SRCDIR/tests/tools/make-event.py"
bash "$QUORUM_SRCDIR/scripts/local-quorum.sh" --setup-only --dir "$W" --port "$PORT" \
	--interval-ms 400 --timeout-ms 150 --max-error-ns 2000000 --max-drift-ppm 500 \
	--refusal-summary-s 1 --builddir "$QUORUM_BUILDDIR" >/dev/null

# Each node also runs the test transport: POST /ingest ingests the body as a SignedState.
stage_fixture fixture-transport "$W/plugins" fixture-transport "$QUORUM_BUILDDIR/keys/plugin-dev.key" \
	>/dev/null
declare -A IPORT
for k in 1 2 3 4; do
	IPORT[$k]=$(free_port)
	sed -i "s|^transports = .*|transports = ( { name = \"fixture-transport\"; path = \"$W/plugins/fixture-transport.so\"; settings = { address = \"127.0.0.1\"; port = ${IPORT[$k]}; }; } );|" \
		"$W/node-$k/quorum.conf"
done




# post K FILE: the test transport's answer to FILE ({"verdict":..., "reason":..., ...}).
post() { curl -sS --max-time 5 --data-binary "@$2" "http://127.0.0.1:${IPORT[$1]}/ingest"; }
# posted K FILE VERDICT REASON: FILE posted to node K gets VERDICT with REASON.
posted() {
	local answer
	answer=$(post "$1" "$2") || return 1
	printf '%s' "$answer" | grep -q "\"verdict\":\"$3\",\"reason\":\"$4\"" && return 0
	diag "node-$1 answered $answer"
	return 1
}
# key_id_of KEY: hex of the first 8 bytes of SHA-256 of the raw public key, by openssl.
key_id_of() { openssl pkey -in "$1" -pubout -outform DER | tail -c 32 | sha256sum | cut -c1-16; }
# lines of node K's log written after MARK lines
since() { tail -n +"$(($2 + 1))" "$W/node-$1/quorumd.log"; }
lines() { wc -l <"$W/node-$1/quorumd.log"; }
# wait_since K MARK PATTERN [SECONDS]: a line matching PATTERN appears after line MARK.
wait_since() {
	local i
	for i in $(seq $((${4:-10} * 20))); do
		since "$1" "$2" | grep -Eq -- "$3" && return 0
		sleep 0.05
	done
	diag "node-$1: no /$3/ after line $2"
	return 1
}
# wait_then K MARK FIRST THEN [SECONDS]: after line MARK, a line matching THEN follows one
# matching FIRST.
wait_then() {
	local i
	for i in $(seq $((${5:-10} * 20))); do
		since "$1" "$2" | awk -v a="$3" -v b="$4" '$0 ~ a { seen = 1 } seen && $0 ~ b { found = 1 }
			END { exit !found }' && return 0
		sleep 0.05
	done
	diag "node-$1: no /$4/ after /$3/ after line $2"
	return 1
}

# ---- the passports ----
all=0
for k in 1 2 3 4; do
	"$CTL" passport verify --root "$W/keys/root.pub" "$W/passports/node-$k.json" >"$W/verify-$k.out" ||
		all=1
done
check "quorumctl passport verify accepts each node's passport (trust root keys/root.pub)" \
	test "$all" -eq 0
check "... and openssl verifies node-1's over the documented bytes" \
	$MAKE_EVENT --passport-check "$W/keys/root.pub" "$W/passports/node-1.json"
"$CTL" passport verify --root "$W/keys/node-1.pub" "$W/passports/node-1.json" >"$W/verify-bad.out"
check "quorumctl passport verify refuses it for another root (exit 1, with why)" \
	test $? -eq 1 -a -n "$(grep 'INVALID: .*not by the trust root' "$W/verify-bad.out")"
for k in 1 2 3 4; do
	"$QUORUMD" --check-config --config "$W/node-$k/quorum.conf" >"$W/check-$k.log" 2>&1 ||
		sed 's/^/# /' "$W/check-$k.log"
done
check "the configurations with the passport stage first pass --check-config" \
	grep -q "config.ok" "$W/check-4.log"

# ---- a quorum whose every event passes its passport stage ----
for k in 1 2 3 4; do start_node "$k"; done
all=1
for k in 1 2 3 4; do wait_synced "$k" 10 || all=0; done
check "4 nodes with the passport stage first reach agreement" test "$all" -eq 1
check "... it runs first and holds the 5 passports (4 nodes and the operator)" \
	grep -q "passport.started root_key_id=.* passports=5 " "$W/node-1/quorumd.log"
# (A relayed copy of a gossiped round the node already accepted is refused as a replay: that
# is the passport stage deduplicating, not a round refused.)
check "... and their own rounds (signed with the node keys) are never refused" \
	test "$(cat "$W"/node-*/quorumd.log | grep 'refused.summary what=passport ' | grep -vc 'reason=replay ')" -eq 0

# ---- events refused with the seed's reasons ----
$MAKE_EVENT "$W/unsigned.bin" uml001.rest.time.now "{}"
check "an unsigned event: passport_signature_missing" \
	posted 1 "$W/unsigned.bin" reject passport_signature_missing
"$KEYGEN" --out "$W/keys/stranger" >/dev/null
STRANGER=$(key_id_of "$W/keys/stranger.key")
$MAKE_EVENT "$W/stranger.bin" uml001.rest.time.now "{}" --key "$W/keys/stranger.key"
check "signed by a key of no passport: passport_signature_invalid" \
	posted 1 "$W/stranger.bin" reject passport_signature_invalid
check "... counted, summarised within a second: refused.summary what=passport reason=unknown_key" \
	wait_log "$W/node-1/quorumd.log" "refused.summary what=passport reason=unknown_key count=[0-9]+ "
$MAKE_EVENT "$W/shared.bin" uml001.rest.time.now "{\"v\":1}" --key "$W/keys/node-2.key"
check "signed by node-2's passport key: accepted" posted 1 "$W/shared.bin" accept ""
check "... the same bytes again: gossip_duplicate_rejected" \
	posted 1 "$W/shared.bin" reject gossip_duplicate_rejected
$MAKE_EVENT "$W/control.bin" uml001.control.set_mode "DEGRADED" --key "$W/keys/node-2.key"
check "a control event from node-2 (attest_time only): passport_signature_invalid" \
	posted 1 "$W/control.bin" reject passport_signature_invalid
check "... summarised: refused.summary what=passport reason=capability_missing" \
	wait_log "$W/node-1/quorumd.log" "refused.summary what=passport reason=capability_missing count=[0-9]+ "

# ---- key rotation with traffic flowing ----
OLD=$(key_id_of "$W/keys/node-4.key")
"$KEYGEN" --out "$W/keys/node-4b" >/dev/null
NEW=$(key_id_of "$W/keys/node-4b.key")
"$CTL" passport create --root-key "$W/keys/root.key" --authority node-4 --serial 2 \
	--key "$W/keys/node-4b.pub" --capability attest_time >"$W/node-4.v2.json"
"$CTL" passport event --root-key "$W/keys/root.key" "$W/node-4.v2.json" >"$W/update.bin"
for k in 1 2 3 4; do MARK[$k]=$(lines "$k"); done
all=0
for k in 1 2 3 4; do posted "$k" "$W/update.bin" accept "" || all=1; done
check "a uml001.passport.update from the trust root is accepted by every node" test "$all" -eq 0
check "... logged: passport.rotation authority=node-4 serial=2 added=NEW retired=OLD overlap_s=180" \
	wait_log "$W/node-1/quorumd.log" "passport.rotation authority=node-4 serial=2 previous_serial=1 added=$NEW retired=$OLD overlap_s=180"
check "... the same update again is a replay" posted 1 "$W/update.bin" reject gossip_duplicate_rejected
"$CTL" passport event --root-key "$W/keys/root.key" "$W/passports/node-4.json" >"$W/stale.bin"
check "... and serial 1 again is stale: passport_serial_stale" \
	posted 1 "$W/stale.bin" reject passport_serial_stale
MARK4=$(lines 4)
check "node-4 keeps committing its rounds, signed with the dropped key, during the overlap" \
	wait_since 4 "$MARK4" "clock.commit .* accepted=4 n=4 f=1" 5

# node-4 restarts signing with its new key. Its node.state is signed with the node key, so
# it starts afresh (its sequences start above the old ones from the time: see timecore.c).
# The refusals above are summarised a second later: let them land before the marks below,
# which must see only what follows node-4's restart.
wait_log "$W/node-1/quorumd.log" "refused.summary what=passport reason=serial_stale " 5 >/dev/null
stop_node 4
sed -i "s|keys/node-4.key|keys/node-4b.key|" "$W/node-4/quorum.conf"
rm -f "$W/node-4/state/node.state"
for k in 1 2 3 4; do MARK[$k]=$(lines "$k"); done
start_node 4
check "node-4 restarted with the new key keeps the rotation (from its state)" \
	wait_since 4 "${MARK[4]}" "passport.started .* from_state=1 superseded=0 retired_kept=1" 5
check "node-1 takes node-4's answers signed with the new key, vouched for by the passport" \
	wait_since 1 "${MARK[1]}" "authority.passport_key source=node-4 key_id=$NEW" 10
check "... and counts them: agreements of all 4 again" \
	wait_then 1 "${MARK[1]}" "authority.passport_key source=node-4" "clock.commit .* accepted=4 n=4 f=1"
check "node-4 serves agreed time again, its own rounds passing its passport stage" \
	wait_synced 4 10
check "... none of node-4's new events or answers was refused anywhere" \
	test "$(for k in 1 2 3 4; do since "$k" "${MARK[$k]}"; done | grep -v 'refused.summary what=passport reason=replay ' | grep -Ec "refused.summary what=passport |refused.summary what=(peer|gossip) reason=(key_id_mismatch|signature_invalid) |bft.observation.reject reason=(signature_invalid|key_id_mismatch|stale_sequence|equivocation) source=node-4 ")" -eq 0

# ---- an invalid passport stops a start, naming the file ----
stop_node 1
printf '{"format":"quorum-passport/1","authority_id":"x"}' >"$W/passports/zz-broken.json"
MARK1=$(lines 1)
start_node 1
wait_exit "${NODE_PID[1]}" 10
check "a node with an invalid passport in its folder does not start, and says which and why" \
	test "$EXIT_STATUS" -ne 0 -a -n "$(since 1 "$MARK1" | grep 'zz-broken.json: passport: member')"
for k in 2 3 4; do stop_node "$k"; done
finish
