#!/bin/bash
# refusals.sh -- every way a plugin or a configuration is refused stops quorumd at start
# with a non-zero exit and one error line naming the reason, and --check-config says the
# same; nothing is left running or listening. Speaks TAP.
. "$(dirname "$0")/lib.sh"

W=$SCRATCH
mkdir -p "$W/keys"
"$KEYGEN" --out "$W/keys/trusted" >/dev/null
"$KEYGEN" --out "$W/keys/stranger" >/dev/null
KEY=$W/keys/trusted.key
PORT=$(free_port)

# case_dir NAME: a fresh folder with a valid signed stage and transport, and a config.
case_dir() {
	local d=$W/$1
	mkdir -p "$d/plugins"
	stage_fixture fixture-stage "$d/plugins" fixture-stage "$KEY" >/dev/null
	stage_fixture fixture-transport "$d/plugins" fixture-transport "$KEY" >/dev/null
	cat >"$d/quorum.conf" <<EOF
node = { id = "refusal"; };
plugin_dir = "plugins";
trusted_plugin_keys = [ "$W/keys/trusted.pub" ];
stages = ( { name = "fixture-stage"; path = "fixture-stage.so"; settings = { ${STAGE_SETTINGS:-} }; } );
transports = ( { name = "fixture-transport"; path = "fixture-transport.so";
                 settings = { address = "127.0.0.1"; port = $PORT; }; } );
EOF
	echo "$d"
}

# refused NAME PATTERN: quorumd on case NAME exits 1 with exactly one error line matching
# PATTERN, leaves nothing listening; --check-config agrees.
refused_case() {
	local d=$W/$1 pattern=$2 errors
	start_quorumd "$d/start.log" --config "$d/quorum.conf"
	if ! wait_exit "$QPID" 10; then
		not_ok "$1: quorumd refuses to start (still running)"
		return
	fi
	errors=$(grep -c 'level=error' "$d/start.log")
	if [ "$EXIT_STATUS" -eq 1 ] && [ "$errors" -eq 1 ] &&
		grep 'level=error' "$d/start.log" | grep -Eq -- "$pattern" &&
		refused "http://127.0.0.1:$PORT/"; then
		ok "$1: refused at start: $(grep -o 'error=.*' "$d/start.log" | cut -c1-110)"
	else
		not_ok "$1: refused at start (status $EXIT_STATUS, $errors error lines)"
		sed 's/^/#   /' "$d/start.log"
	fi
	"$QUORUMD" --check-config --config "$d/quorum.conf" >"$d/check.log" 2>&1
	if [ $? -eq 1 ] && grep 'level=error' "$d/check.log" | grep -Eq -- "$pattern"; then
		ok "$1: refused by --check-config"
	else
		not_ok "$1: refused by --check-config"
		sed 's/^/#   /' "$d/check.log"
	fi
}

plan 71

d=$(case_dir control)
"$QUORUMD" --check-config --config "$d/quorum.conf" >"$d/check.log" 2>&1
check "control: the unmodified case passes --check-config" test $? -eq 0
start_quorumd "$d/start.log" --config "$d/quorum.conf"
check "control: and starts" wait_log "$d/start.log" "event=started generation=1"
kill -TERM "$QPID"
wait_exit "$QPID"
check "control: and stops with status 0" test "$EXIT_STATUS" -eq 0

d=$(case_dir unsigned)
rm "$d/plugins/fixture-transport.so.sig"
refused_case unsigned "plugin 'fixture-transport' refused: unsigned \(no .*fixture-transport.so.sig\)"

d=$(case_dir flipped-so)
flip_bit "$d/plugins/fixture-transport.so" 12345
refused_case flipped-so "plugin 'fixture-transport' refused: the file's SHA-256 differs from the signed one"

d=$(case_dir flipped-sig)
flip_bit "$d/plugins/fixture-transport.so.sig" 200
refused_case flipped-sig "plugin 'fixture-transport' refused: (malformed signature file|the Ed25519 signature|signed by key|the file's SHA-256)"

# What the fixture transport's descriptor says, for signing without reading it.
AS_TRANSPORT="--kind transport --version 1.0 --abi $ABI_MAJOR.$ABI_MINOR"

d=$(case_dir other-name)
"$SIGN" --key "$KEY" --name rest $AS_TRANSPORT "$d/plugins/fixture-transport.so"
refused_case other-name "plugin 'fixture-transport' refused: signature is for plugin 'rest', not 'fixture-transport'"

d=$(case_dir untrusted-key)
"$SIGN" --key "$W/keys/stranger.key" --name fixture-transport "$d/plugins/fixture-transport.so"
refused_case untrusted-key "plugin 'fixture-transport' refused: signed by key [0-9a-f]{16}, which is not in trusted_plugin_keys"

d=$(case_dir bad-magic)
stage_fixture fixture-bad-magic "$d/plugins" fixture-transport "$KEY" $AS_TRANSPORT >/dev/null
refused_case bad-magic "plugin 'fixture-transport' refused: bad descriptor magic 0x12345678"

d=$(case_dir other-major)
stage_fixture fixture-bad-major "$d/plugins" fixture-transport "$KEY" >/dev/null
refused_case other-major "plugin 'fixture-transport' refused: plugin ABI $((ABI_MAJOR + 1))\.$ABI_MINOR, host ABI $ABI_MAJOR\.$ABI_MINOR: the major versions differ"

d=$(case_dir newer-minor)
stage_fixture fixture-new-minor "$d/plugins" fixture-transport "$KEY" >/dev/null
refused_case newer-minor "plugin 'fixture-transport' refused: plugin ABI $ABI_MAJOR\.$((ABI_MINOR + 1)) is newer than the host's ABI $ABI_MAJOR\.$ABI_MINOR"

# The signature binds kind, role, version and ABI: an ABI or kind the host cannot load is
# refused from the signature, a descriptor saying something else than was signed after
# loading, and a signature in the legacy format 1 (name and hash only) unless allowed.
d=$(case_dir signed-other-version)
"$SIGN" --key "$KEY" --kind transport --version 2.0 --abi "$ABI_MAJOR.$ABI_MINOR" \
	"$d/plugins/fixture-transport.so"
refused_case signed-other-version "plugin 'fixture-transport' refused: the descriptor says version 1.0, the signature version 2.0"

d=$(case_dir signed-as-stage)
"$SIGN" --key "$KEY" --kind stage --role control --version 1.0 --abi "$ABI_MAJOR.$ABI_MINOR" \
	"$d/plugins/fixture-transport.so"
refused_case signed-as-stage "plugin 'fixture-transport' refused: plugin is a stage, configured as a transport"

d=$(case_dir legacy-signature)
"$SIGN" --key "$KEY" --format 1 "$d/plugins/fixture-transport.so"
refused_case legacy-signature "plugin 'fixture-transport' refused: its signature has the legacy format 1, .* set allow_legacy_signatures = true"
echo 'allow_legacy_signatures = true;' >>"$d/quorum.conf"
"$QUORUMD" --check-config --config "$d/quorum.conf" >"$d/check-allowed.log" 2>&1
check "legacy-signature: accepted with allow_legacy_signatures = true" test $? -eq 0
start_quorumd "$d/allowed.log" --config "$d/quorum.conf"
check "legacy-signature: ... and loaded with a warning" \
	wait_log "$d/allowed.log" "level=warning .*plugin.verified kind=transport name=fixture-transport version=1.0 .*signature=v1-legacy"
kill -TERM "$QPID"
wait_exit "$QPID"

# A key scoped to some plugin names (plugin_key_scopes) signs no other; a scope must name a
# trusted key.
d=$(case_dir key-scope)
echo "plugin_key_scopes = ( { key = \"$W/keys/trusted.pub\"; names = [ \"fixture-stage\" ]; } );" >>"$d/quorum.conf"
refused_case key-scope "plugin 'fixture-transport' refused: signed by key [0-9a-f]{16}, which may sign only fixture-stage \(plugin_key_scopes\), not 'fixture-transport'"

d=$(case_dir key-scope-untrusted)
echo "plugin_key_scopes = ( { key = \"$W/keys/stranger.pub\"; names = [ \"fixture-stage\" ]; } );" >>"$d/quorum.conf"
refused_case key-scope-untrusted "plugin_key_scopes: $W/keys/stranger.pub is not in trusted_plugin_keys"

# Rollback: a version below the highest this node has loaded (its floor, kept in
# node.state_dir) is refused, on a reload and at start, until the operator lowers the floor.
d=$(case_dir rollback)
sed -i 's|^node = { id = "refusal"; };|node = { id = "refusal"; state_dir = "state"; };|' "$d/quorum.conf"
stage_fixture fixture-transport-v2 "$d/plugins" fixture-transport "$KEY" >/dev/null
stage_fixture fixture-transport "$d/plugins/old" fixture-transport "$KEY" >/dev/null
start_quorumd "$d/v2.log" --config "$d/quorum.conf"
check "rollback: version 2.0 starts and raises its floor" \
	wait_log "$d/v2.log" "plugin.floor.raised name=fixture-transport version=2.0"
sed -i 's|path = "fixture-transport.so"|path = "old/fixture-transport.so"|' "$d/quorum.conf"
kill -HUP "$QPID"
check "rollback: a reload to the validly signed 1.0 is rejected as a rollback" \
	wait_log "$d/v2.log" "reload.rejected generation=1 kept=1 error=\"plugin 'fixture-transport' refused: version 1.0 is older than 2.0, the highest version of 'fixture-transport' this node has loaded"
check "rollback: ... and 2.0 keeps serving" wait_http "http://127.0.0.1:$PORT/" '"version":"2.0"'
kill -TERM "$QPID"
wait_exit "$QPID"
refused_case rollback "plugin 'fixture-transport' refused: version 1.0 is older than 2.0, .*--set-plugin-floor fixture-transport=1.0"
"$QUORUMD" --config "$d/quorum.conf" --set-plugin-floor fixture-transport=1.0 >"$d/floor.log" 2>&1
check "rollback: the operator lowers the floor (quorumd --set-plugin-floor)" \
	grep -q "plugin.floor.set name=fixture-transport version=1.0 previous=2.0" "$d/floor.log"
start_quorumd "$d/v1.log" --config "$d/quorum.conf"
check "rollback: ... and then 1.0 starts and serves" \
	wait_http "http://127.0.0.1:$PORT/" '"version":"1.0"'
kill -TERM "$QPID"
wait_exit "$QPID"

# A plugin linked with -z nodelete stays loaded after dlclose under the name it was opened
# by, /proc/self/fd/N: a later load whose sealed memfd reused N was answered with the old
# object (the log said the new version was verified; the old code ran). Here 1.0 is
# replaced by 2.0, which is replaced by another copy of 2.0 after 1.0's code was unloaded
# (10 s after its instance ended), and once more: the last load must run 2.0.
d=$(case_dir nodelete)
for v in a b c; do
	stage_fixture fixture-nodelete-v2 "$d/plugins/$v" fixture-transport "$KEY" >/dev/null
done
stage_fixture fixture-nodelete "$d/plugins" fixture-transport "$KEY" >/dev/null
start_quorumd "$d/start.log" --config "$d/quorum.conf"
wait_http "http://127.0.0.1:$PORT/" '"version":"1.0"'
for v in a b c; do
	sed -i "s|path = \"[abc/]*fixture-transport.so\"|path = \"$v/fixture-transport.so\"|" "$d/quorum.conf"
	kill -HUP "$QPID"
	wait_log "$d/start.log" "reload\.(done|rejected) generation=[0-9]+ .*" 5 >/dev/null
	case $v in
	a) wait_log "$d/start.log" "plugin.stopped kind=transport name=fixture-transport" 5 >/dev/null
	   sleep 10.5 ;; # RETIRE_GRACE_NS: 1.0's code is unloaded at the next retirement
	esac
	sleep 0.5
done
check "nodelete: every reload to 2.0 was applied (none rejected)" \
	test "$(count_log "$d/start.log" "reload.done")" -eq 3 -a "$(count_log "$d/start.log" "reload.rejected")" -eq 0
check "nodelete: ... and the code running is 2.0, as verified" \
	wait_http "http://127.0.0.1:$PORT/" '"version":"2.0"'
check "nodelete: the descriptor number of the object left loaded was not reused" \
	wait_log "$d/start.log" "plugin.unload.kept name=fixture-transport fd=[0-9]+ reason=still_loaded"
kill -TERM "$QPID"
wait_exit "$QPID"
check "nodelete: ... and quorumd stops with status 0" test "$EXIT_STATUS" -eq 0

d=$(case_dir group-writable)
chmod 0664 "$d/plugins/fixture-transport.so"
refused_case group-writable "plugin 'fixture-transport' refused: .*fixture-transport.so is writable by group or others \(mode 0664\)"

d=$(case_dir not-regular)
rm "$d/plugins/fixture-transport.so"
mkdir "$d/plugins/fixture-transport.so"
refused_case not-regular "plugin 'fixture-transport' refused: .*fixture-transport.so is not a regular file"

# StrictModes: trust material writable by anyone but root or the service user is refused,
# and so is every folder on the way to it.
d=$(case_dir writable-plugin-dir)
chmod 0777 "$d/plugins"
refused_case writable-plugin-dir "plugin_dir refused: folder $d/plugins is writable by group or others \(mode 0777\)"

d=$(case_dir plugin-of-another-user)
if [ "$(id -u)" -eq 0 ]; then
	chown nobody "$d/plugins/fixture-transport.so"
	refused_case plugin-of-another-user "plugin 'fixture-transport' refused: file $d/plugins/fixture-transport.so is owned by uid $(id -u nobody), not by root or the service user \(uid 0\)"
else
	ok "plugin-of-another-user # SKIP needs root to chown"
	ok "plugin-of-another-user # SKIP needs root to chown"
fi

d=$(case_dir group-writable-conf)
chmod 0664 "$d/quorum.conf"
refused_case group-writable-conf "configuration refused: $d/quorum.conf is writable by group or others \(mode 0664\)"

d=$(case_dir writable-include)
echo 'drain_timeout_ms = 100;' >"$d/extra.inc"
chmod 0646 "$d/extra.inc"
echo '@include "extra.inc"' >>"$d/quorum.conf"
refused_case writable-include "@include \\\"$d/extra.inc\\\" refused: $d/extra.inc is writable by group or others \(mode 0646\)"

d=$(case_dir writable-trusted-key)
cp "$W/keys/trusted.pub" "$d/trusted.pub"
chmod 0646 "$d/trusted.pub"
sed -i "s|$W/keys/trusted.pub|$d/trusted.pub|" "$d/quorum.conf"
refused_case writable-trusted-key "trusted_plugin_keys: $d/trusted.pub is writable by group or others \(mode 0646\)"

# ... and on a reload too: the running generation is kept.
d=$(case_dir reload-untrusted)
start_quorumd "$d/start.log" --config "$d/quorum.conf"
wait_log "$d/start.log" "event=started generation=1"
chmod 0664 "$d/quorum.conf"
kill -HUP "$QPID"
check "reload-untrusted: a reload of a group-writable quorum.conf is rejected" \
	wait_log "$d/start.log" "reload.rejected generation=1 kept=1 error=\"configuration refused: $d/quorum.conf is writable by group or others"
check "reload-untrusted: ... and the running transport keeps serving" \
	wait_http "http://127.0.0.1:$PORT/" '"name":"fixture-transport"'
kill -TERM "$QPID"
wait_exit "$QPID"
check "reload-untrusted: ... until it stops with status 0" test "$EXIT_STATUS" -eq 0

STAGE_SETTINGS='fail = "init";'
d=$(case_dir stage-init-fails)
STAGE_SETTINGS=
start_quorumd "$d/start.log" --config "$d/quorum.conf"
wait_exit "$QPID" 10
check "stage-init-fails: quorumd exits with status 1" test "$EXIT_STATUS" -eq 1
check "stage-init-fails: the reason names the stage" \
	grep -q "start.failed error=\"stage 'fixture-stage' failed to initialise: Invalid argument\"" "$d/start.log"
check "stage-init-fails: no transport was started" test "$(count_log "$d/start.log" "plugin.started")" -eq 0

# All or nothing: a transport failing to start takes down what was already up.
d=$(case_dir transport-start-fails)
sed -i 's/port = \([0-9]*\); }/port = \1; fail = "start"; }/' "$d/quorum.conf"
start_quorumd "$d/start.log" --config "$d/quorum.conf"
wait_exit "$QPID" 10
check "transport-start-fails: quorumd exits with status 1" test "$EXIT_STATUS" -eq 1
check "transport-start-fails: the reason names the transport" \
	grep -q "start.failed error=\"transport 'fixture-transport' failed to start: Invalid argument\"" "$d/start.log"
check "transport-start-fails: the stage already started is stopped again" \
	grep -q "plugin.stopped kind=stage name=fixture-stage" "$d/start.log"

d=$(case_dir syntax-error)
sed -i 's/^stages = ( {/stages = ( { {/' "$d/quorum.conf"
refused_case syntax-error "config.invalid error=\"$d/quorum.conf:4: syntax error\""

d=$(case_dir unknown-plugin-setting)
sed -i 's/port = \([0-9]*\); }/port = \1; colour = "blue"; }/' "$d/quorum.conf"
refused_case unknown-plugin-setting "error=\"$d/quorum.conf:6: transport 'fixture-transport' settings: setting 'colour' is unknown\""

d=$(case_dir missing-key-file)
sed -i "s|$W/keys/trusted.pub|$W/keys/absent.pub|" "$d/quorum.conf"
refused_case missing-key-file "trusted_plugin_keys: cannot open .*absent.pub"

finish
