#!/bin/bash
# daemon.sh -- end to end with a real quorumd: the sample configuration starts and stops
# cleanly; SIGHUP adds, reloads, replaces (without refusing a client) and removes transports,
# drains in-flight requests and keeps the old set when the new configuration is bad; events
# ingested over a transport reach the stages and the audit log; every refusal of a plugin
# stops quorumd with a one-line reason. Speaks TAP.
. "$(dirname "$0")/lib.sh"

plan 39

W=$SCRATCH
mkdir -p "$W/keys" "$W/plugins"
"$KEYGEN" --out "$W/keys/trusted" >/dev/null
"$KEYGEN" --out "$W/keys/stranger" >/dev/null
KEY=$W/keys/trusted.key
stage_fixture fixture-stage "$W/plugins" fixture-stage "$KEY" >/dev/null
stage_fixture fixture-transport "$W/plugins" fixture-transport "$KEY" >/dev/null
stage_fixture fixture-replace "$W/plugins" fixture-replace "$KEY" >/dev/null

P1=$(free_port)
P2=$(free_port)
P3=$(free_port)

# write_conf FILE STAGES TRANSPORTS [EXTRA]: a quorum.conf using the scratch plugins.
write_conf() {
	cat >"$1" <<EOF
node = { id = "e2e-node"; };
log = { level = "info"; refusal_summary_s = 1; };
plugin_dir = "plugins";
drain_timeout_ms = 5000;
trusted_plugin_keys = [ "keys/trusted.pub" ];
${4:-}
stages = ( $2 );
transports = ( $3 );
EOF
}
STAGE='{ name = "fixture-stage"; path = "fixture-stage.so"; }'
transport() { # NAME PORT GREETING [EXTRA]
	printf '{ name = "%s"; path = "%s.so"; settings = { address = "127.0.0.1"; port = %s; greeting = "%s"; %s }; }' \
		"$1" "$1" "$2" "$3" "${4:-}"
}

# ---- the shipped sample configuration (build tree) ----
DEV_CONF=$QUORUM_BUILDDIR/conf/quorum-dev.conf
"$QUORUMD" --check-config --config "$DEV_CONF" >"$W/check.log" 2>&1
check "quorumd --check-config accepts the sample configuration" test $? -eq 0
start_quorumd "$W/sample.log" --config "$DEV_CONF"
check "quorumd starts with the sample configuration" wait_log "$W/sample.log" "event=started generation=1"
kill -INT "$QPID"
wait_exit "$QPID"
check "SIGINT stops it with exit status 0" test "$EXIT_STATUS" -eq 0
check "it logged its stop" wait_log "$W/sample.log" "event=stop.requested signal=SIGINT"

# ---- lifecycle with a stage and transports ----
CONF=$W/quorum.conf
write_conf "$CONF" "$STAGE" "" "pidfile = \"run/quorumd.pid\";"
mkdir -p "$W/run"
LOG=$W/quorumd.log
start_quorumd "$LOG" --config "$CONF"
DAEMON=$QPID
check "starts with a stage and no transport" wait_log "$LOG" "event=started generation=1 node=e2e-node stages=1 transports=0"
check "pidfile holds the daemon's pid" test "$(cat "$W/run/quorumd.pid" 2>/dev/null)" = "$DAEMON"

"$QUORUMD" --config "$CONF" >"$W/second.log" 2>&1
check "a second quorumd with the same pidfile is refused" \
	grep -q "pidfile .* is locked: another quorumd is running" "$W/second.log"

write_conf "$CONF" "$STAGE" "$(transport fixture-transport "$P1" one)" "pidfile = \"run/quorumd.pid\";"
kill -HUP "$DAEMON"
check "SIGHUP adds a transport" wait_http "http://127.0.0.1:$P1/" '"greeting":"one"'
check "the reload is logged as generation 2" wait_log "$LOG" "event=reload.done generation=2 transports=1 started=1"
body=$(http_get "http://127.0.0.1:$P1/")
INSTANCE1=$(json_field "$body" instance)
check "the transport sees the node id through the host API" test "$(json_field "$body" node)" = e2e-node

write_conf "$CONF" "$STAGE" "$(transport fixture-transport "$P1" two)" "pidfile = \"run/quorumd.pid\";"
kill -HUP "$DAEMON"
check "a changed transport is reloaded (new greeting)" wait_http "http://127.0.0.1:$P1/" '"greeting":"two"'
body=$(http_get "http://127.0.0.1:$P1/")
check "... in place, by its reload callback (same instance)" test "$(json_field "$body" instance)" = "$INSTANCE1"
check "... logged as reloaded" wait_log "$LOG" "event=reload.done generation=3 transports=1 started=0 reloaded=1"

# A transport without a reload callback is replaced; its successor inherits the socket, so
# a client hammering it during the reload is never refused.
BOTH="$(transport fixture-transport "$P1" two), $(transport fixture-replace "$P2" alpha)"
write_conf "$CONF" "$STAGE" "$BOTH" "pidfile = \"run/quorumd.pid\";"
kill -HUP "$DAEMON"
check "a second transport is added" wait_http "http://127.0.0.1:$P2/" '"greeting":"alpha"'
INSTANCE2=$(json_field "$(http_get "http://127.0.0.1:$P2/")" instance)
(
	fails=0 n=0
	end=$((SECONDS + 3))
	while [ "$SECONDS" -lt "$end" ]; do
		curl -sS --max-time 2 "http://127.0.0.1:$P2/" >/dev/null 2>&1 || fails=$((fails + 1))
		n=$((n + 1))
	done
	echo "$n $fails" >"$W/hammer.out"
) &
HAMMER=$!
sleep 0.5
BOTH="$(transport fixture-transport "$P1" two), $(transport fixture-replace "$P2" beta)"
write_conf "$CONF" "$STAGE" "$BOTH" "pidfile = \"run/quorumd.pid\";"
kill -HUP "$DAEMON"
check "a transport without reload is replaced (new greeting)" wait_http "http://127.0.0.1:$P2/" '"greeting":"beta"'
check "... by a new instance" test "$(json_field "$(http_get "http://127.0.0.1:$P2/")" instance)" != "$INSTANCE2"
wait "$HAMMER"
read -r hammered hammer_failures <"$W/hammer.out"
diag "requests during the replacement: $hammered, failed: $hammer_failures"
check "no request failed while the transport was replaced ($hammered sent)" \
	test "$hammer_failures" -eq 0 -a "$hammered" -ge 5
check "the listening socket was kept, not rebound" test "$(count_log "$LOG" "listener.bound proto=tcp addr=127.0.0.1 port=$P2")" -eq 1

# ---- events through the single ingest path ----
printf '\x12\x0btest.reject' >"$W/reject.bin"
body=$(curl -sS --max-time 5 --data-binary "@$W/reject.bin" "http://127.0.0.1:$P1/ingest")
check "an ingested event rejected by a stage returns its reason" \
	test "$(json_field "$body" reason)" = fixture_rejected_by_event_id
check "... and the rejection reaches the audit log" \
	wait_log "$LOG" "component=audit event=pipeline.event verdict=reject stage=fixture-stage reason=fixture_rejected_by_event_id event_id=test.reject .* source=fixture-transport"
printf '\x12\x0etest.accept.me' >"$W/accept.bin"
body=$(curl -sS --max-time 5 --data-binary "@$W/accept.bin" "http://127.0.0.1:$P1/ingest")
check "an event every stage accepts is accepted" test "$(json_field "$body" verdict)" = accept
printf '\xff\xff\xff' >"$W/garbage.bin"
body=$(curl -sS --max-time 5 --data-binary "@$W/garbage.bin" "http://127.0.0.1:$P1/ingest")
check "a malformed envelope is rejected by the host before any stage" \
	test "$(json_field "$body" stage):$(json_field "$body" reason)" = host:envelope_decode_failed
check "... and counted: summarised within a second, never audited one by one" \
	eval 'wait_log "$LOG" "refused.summary what=pipeline reason=envelope_decode_failed count=1 " 3 &&
	! grep -q "verdict=reject stage=host reason=envelope_decode_failed" "$LOG"'

# ---- a bad new configuration changes nothing ----
cp "$CONF" "$W/good.conf"
printf 'this is not libconfig\n' >>"$CONF"
kill -HUP "$DAEMON"
check "a reload with a syntax error is rejected with file:line" \
	wait_log "$LOG" "reload.rejected generation=5 kept=1 error=\"$CONF:[0-9]+: syntax error\""
check "... and the running transports keep serving" wait_http "http://127.0.0.1:$P1/" '"greeting":"two"'

stage_fixture fixture-transport "$W/plugins/tampered" fixture-transport "$KEY" >/dev/null
flip_bit "$W/plugins/tampered/fixture-transport.so" 4000
write_conf "$CONF" "$STAGE" "$(transport fixture-transport "$P1" three "fail = \"none\";" | sed 's|fixture-transport.so|tampered/fixture-transport.so|')" "pidfile = \"run/quorumd.pid\";"
kill -HUP "$DAEMON"
check "a reload to a tampered plugin is rejected" \
	wait_log "$LOG" "reload.rejected generation=5 kept=1 error=\"plugin 'fixture-transport' refused: the file's SHA-256 differs"
check "... and the old generation keeps serving" wait_http "http://127.0.0.1:$P1/" '"greeting":"two"'

write_conf "$CONF" "$STAGE" "$(transport fixture-transport "$P1" three "fail = \"reload\";"), $(transport fixture-replace "$P2" beta)" "pidfile = \"run/quorumd.pid\";"
kill -HUP "$DAEMON"
check "a transport refusing its new settings keeps the old generation" \
	wait_log "$LOG" "reload.rejected generation=5 kept=1 error=\"transport 'fixture-transport' refused its new settings"
check "... with its old settings" wait_http "http://127.0.0.1:$P1/" '"greeting":"two"'

write_conf "$CONF" "" "$(transport fixture-transport "$P1" two)" "pidfile = \"run/quorumd.pid\";"
kill -HUP "$DAEMON"
check "a reload changing the stages is refused (restart needed)" \
	wait_log "$LOG" "reload.rejected .*'stages' changed; stages and node settings cannot be reloaded"

# ---- removal drains in-flight work ----
cp "$W/good.conf" "$CONF"
curl -sS --max-time 10 -o "$W/slow.out" -w '%{http_code}' "http://127.0.0.1:$P1/slow?ms=1500" >"$W/slow.code" 2>&1 &
SLOW=$!
sleep 0.3
write_conf "$CONF" "$STAGE" "$(transport fixture-replace "$P2" beta)" "pidfile = \"run/quorumd.pid\";"
kill -HUP "$DAEMON"
check "SIGHUP removing a transport is applied" wait_log "$LOG" "reload.done generation=6 transports=1 started=0 reloaded=0 unchanged=1 stopped=1"
check "the removed transport drains instead of dropping its request" wait_log "$LOG" "plugin.draining kind=transport name=fixture-transport"
wait "$SLOW"
check "the in-flight request completes with 200" test "$(cat "$W/slow.code")" = 200
check "the removed transport is unloaded" wait_log "$LOG" "plugin.stopped kind=transport name=fixture-transport"
check "its port is closed" refused "http://127.0.0.1:$P1/"
check "the other transport still serves" wait_http "http://127.0.0.1:$P2/" '"greeting":"beta"'

kill -TERM "$DAEMON"
wait_exit "$DAEMON"
check "SIGTERM stops the daemon with exit status 0" test "$EXIT_STATUS" -eq 0
check "the pidfile is removed" test ! -e "$W/run/quorumd.pid"
check "every log line is key=value with a timestamp" \
	test "$(grep -cvE '^ts=[0-9T:.-]+Z level=[a-z]+ component=[a-z0-9_-]+ event=' "$LOG")" -eq 0

finish
