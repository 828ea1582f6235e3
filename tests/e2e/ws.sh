#!/bin/bash
# ws.sh -- the WebSocket transport with python3-websockets against a one-node quorum with the
# vault and merkle stages: snapshot on connect then one per agreement, every frame the REST
# JSON (validated against schemas/), fail-closed status while unsynchronised, bearer auth and
# a bad path refused before the upgrade, the token taken from the Authorization header and
# a ?token= refused with a reason unless query_token allows it (the header wins either
# way), a bad format closed with 1008, subscriptions to agreements and checkpoints, an
# oversized message closed with 1009, a client that never reads dropped, and a SIGHUP that
# changes the push interval. Speaks TAP.
. "$(dirname "$0")/lib.sh"
plan 27

W=$SCRATCH
CLIENT="$PYTHON $QUORUM_SRCDIR/tests/tools/ws-client.py"
VALIDATE="$PYTHON $QUORUM_SRCDIR/tests/tools/validate-json.py"
mkdir -p "$W/node" "$W/lone"
"$KEYGEN" --out "$W/node/node" >/dev/null
"$KEYGEN" --out "$W/lone/node" >/dev/null
UDP=$(free_port)
PORT=$(free_port)
TOKEN=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
printf '%s\n' "$TOKEN" >"$W/node/token" && chmod 0600 "$W/node/token"
ws_conf() { # FILE WS-SETTINGS AUTHORITIES
	cat >"$1" <<END
node = { id = "solo"; key = "node.key"; state_dir = "state"; };
log = { refusal_summary_s = 1; };
plugin_dir = "$QUORUM_BUILDDIR/lib";
trusted_plugin_keys = [ "$QUORUM_BUILDDIR/keys/plugin-dev.pub" ];
peer_link = { address = "127.0.0.1"; port = $UDP; };
authority = { radius_ns = 1000; kernel_status = false; };
rounds = { interval_ms = 200; timeout_ms = 50; };
clock = { shm = "clock"; };
authorities = ( $3 );
stages = ( { name = "vault"; path = "stages/vault.so"; settings = { dir = "vault"; fsync = "batch"; round_log_s = 0; }; },
           { name = "merkle"; path = "stages/merkle.so"; settings = { dir = "merkle"; checkpoint_ms = 100; }; },
           { name = "convergence"; path = "stages/convergence.so"; },
           { name = "control"; path = "stages/control.so"; } );
transports = ( { name = "ws"; path = "transports/ws.so"; settings = { port = $PORT; $2 }; } );
END
}
SELF="{ id = \"solo\"; address = \"127.0.0.1\"; port = $UDP; key = \"node.pub\"; }"
URL=ws://127.0.0.1:$PORT/v1/stream
pyjudge() { "$PYTHON" -c "import json,sys; d=json.loads(sys.argv[1]); sys.exit(0 if ($1) else 1)" "$2"; }

# ---- unsynchronised: a status, never a time ----
ws_conf "$W/lone/quorum.conf" "" "$SELF,
  { id = \"b\"; address = \"127.0.0.2\"; port = $UDP; key = \"node.pub\"; },
  { id = \"c\"; address = \"127.0.0.3\"; port = $UDP; key = \"node.pub\"; },
  { id = \"d\"; address = \"127.0.0.4\"; port = $UDP; key = \"node.pub\"; }"
start_quorumd "$W/lone.log" --config "$W/lone/quorum.conf"
wait_log "$W/lone.log" "ws.listening" 10 >/dev/null
r=$($CLIENT stream "$URL" 1 2>&1)
diag "unsynchronised: $r"
check "unsynchronised: the stream says so instead of sending a stale time" \
	pyjudge 'd["messages"][0].get("status") == "unsynchronised" and "unix_seconds" not in d["messages"][0]' "$r"
kill -TERM "$QPID"; wait_exit "$QPID" 10

# ---- synchronised, with a token ----
ws_conf "$W/node/quorum.conf" "bearer_token_files = [ \"token\" ]; push_interval_ms = 5000;" "$SELF"
start_quorumd "$W/node.log" --config "$W/node/quorum.conf"
wait_log "$W/node.log" "ws.listening" 10 >/dev/null
for i in $(seq 50); do
	"$QUORUM_BUILDDIR/tools/quorumctl" time --clock "$W/node/clock" >/dev/null 2>&1 && break
	sleep 0.1
done
export WS_TOKEN=$TOKEN # ws-client.py sends it as Authorization: Bearer
r=$($CLIENT stream "$URL?format=unix" 4 2>&1)
diag "4 messages in $(pyjudge 'print(round(d["seconds"], 2)) or True' "$r")s"
check "a snapshot on connect, then one per agreement (rounds every 200 ms, push every 5 s)" \
	pyjudge 'all("unix_seconds" in m for m in d["messages"]) and d["seconds"] < 2.5' "$r"
echo "$r" | "$PYTHON" -c 'import json,sys; print(json.dumps(json.load(sys.stdin)["messages"][0]))' >"$W/frame.json"
check "... each frame is REST's JSON (schemas/time-unix.json)" \
	$VALIDATE "$QUORUM_SRCDIR/schemas/time-unix.json" "$W/frame.json"
r=$($CLIENT stream "$URL" 1 2>&1)
echo "$r" | "$PYTHON" -c 'import json,sys; print(json.dumps(json.load(sys.stdin)["messages"][0]))' >"$W/frame.json"
check "the default format is json (schemas/time-json.json)" \
	$VALIDATE "$QUORUM_SRCDIR/schemas/time-json.json" "$W/frame.json"
check "... with REST's meanings: sources by name, drift_ppm, iso8601 to the microsecond (Python reads it)" \
	eval '"$PYTHON" -c "import json, sys
d = json.load(open(sys.argv[1])); q = d[\"quorum\"]
sys.exit(0 if (q[\"accepted_sources\"], q[\"rejected_sources\"], q[\"accepted\"]) == ([\"solo\"], [], 1)
         and isinstance(d[\"drift_ppm\"], float) else 1)" "$W/frame.json" &&
	"$PYTHON" "$QUORUM_SRCDIR/tests/tools/iso8601-check.py" \
		"$("$PYTHON" -c "import json,sys; print(json.load(open(sys.argv[1]))[\"iso8601\"])" "$W/frame.json")" \
		"$("$PYTHON" -c "import json,sys; d=json.load(open(sys.argv[1])); print(d[\"unix_seconds\"] * 10**9 + d[\"unix_nanos\"])" "$W/frame.json")"'
check "no token: the upgrade is refused with 401" \
	pyjudge 'd["status"] == 401' "$(WS_TOKEN= $CLIENT refused "$URL" 2>&1)"
check "... a wrong one too, counted and summarised (refused.summary what=ws), not audited each" \
	eval 'pyjudge "d[\"status\"] == 401" "$(WS_TOKEN=x$TOKEN $CLIENT refused "$URL" 2>&1)" &&
	wait_log "$W/node.log" "refused.summary what=ws reason=unauthorised count=[0-9]+ " 3 &&
	! grep -q "event=ws.auth.failed" "$W/node.log"'
r=$(WS_TOKEN= $CLIENT refused "$URL?token=$TOKEN" 2>&1)
diag "right token in the query string: $r"
check "the right token in the query string is refused with 401 (query_token is off) ..." \
	pyjudge 'd["status"] == 401 and "token in the query string refused" in d["www_authenticate"]' "$r"
check "... and the answer's body says what to do instead" \
	eval 'curl -sS --max-time 5 "http://127.0.0.1:$PORT/v1/stream?token=$TOKEN" |
	grep -q "send it in an Authorization: Bearer header, or set query_token = true"'
check "the header wins: the right header with a wrong ?token= is let in" \
	pyjudge '"unix_seconds" in d["messages"][0] or "timestamp" in d["messages"][0]' \
	"$($CLIENT stream "$URL?token=wrong$TOKEN" 1 2>&1)"
check "another path is 404 before any upgrade" \
	pyjudge 'd["status"] == 404' "$($CLIENT refused "ws://127.0.0.1:$PORT/v2/other" 2>&1)"
# upgrade VERSION CONNECTION: the head of the answer to an upgrade asking VERSION with
# Connection: CONNECTION (read by the one HTTP/1 parser, then by RFC 6455's rules); a
# switched one is cut after its head
upgrade() {
	curl -s -i --http1.1 --max-time 2 -H "Authorization: Bearer $TOKEN" \
		-H "Upgrade: websocket" -H "Connection: $2" -H "Sec-WebSocket-Version: $1" \
		-H "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==" "http://127.0.0.1:$PORT/v1/stream" |
		tr -d '\r' | sed '/^$/q'
}
r=$(upgrade 8 Upgrade)
diag "version 8: $(echo "$r" | head -1)"
check "another WebSocket version is 426, naming version 13 (RFC 6455 section 4.4)" \
	eval 'echo "$r" | grep -q "^HTTP/1.1 426 " && echo "$r" | grep -qx "Sec-WebSocket-Version: 13"'
check "... and an upgrade without Connection: Upgrade is 400" \
	eval 'upgrade 13 keep-alive | grep -q "^HTTP/1.1 400 "'
check "... while the same head with it is switched (101)" \
	eval 'upgrade 13 "keep-alive, Upgrade" | grep -q "^HTTP/1.1 101 "'
r=$($CLIENT close "$URL?format=xml" 2>&1)
diag "bad format: $r"
check "a bad format gets an error frame, then close 1008" \
	pyjudge 'd["code"] == 1008 and "Unknown format" in d["messages"][0]["error"]' "$r"
r=$($CLIENT subscribe "$URL" 2 2>&1)
diag "subscribed for 2 s: $r"
check "subscriptions bring agreement and checkpoint events, and the runtime mode" \
	pyjudge 'd["subscribed"] == ["agreements", "checkpoints", "modes"] and d["agreement"] >= 3 and d["checkpoint"] >= 3 and d["note_head"] == "quorum-time/solo" and d["mode"]["mode"] == "QUORUM_ACTIVE" and d["mode"]["transitions"] >= 1 and d["mode"]["breaker_tripped"] is False' "$r"
echo "$r" | "$PYTHON" -c 'import json,sys; print(json.dumps(json.load(sys.stdin)["others"]))' >"$W/others.json"
check "... every such message fits schemas/ws-message.json" \
	"$PYTHON" -c '
import json, sys, jsonschema
schema = json.load(open(sys.argv[1]))
msgs = json.load(open(sys.argv[2]))
bad = [m for m in msgs if not jsonschema.Draft202012Validator(schema).is_valid(m)]
print("# %d messages, %d outside the schema %s" % (len(msgs), len(bad), bad[:2]))
sys.exit(0 if msgs and not bad else 1)' "$QUORUM_SRCDIR/schemas/ws-message.json" "$W/others.json"
flood=$("$PYTHON" - "$PORT" <<'PY'
import socket, sys
counts = {}
for i in range(160):  # no token, one upgrade after another: 100 allowed, then 429
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
    s.sendall(b"GET /v1/stream HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
              b"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")
    status = s.recv(64).split(b" ")[1].decode()
    counts[status] = counts.get(status, 0) + 1
    s.close()
print(counts)
PY
)
diag "160 upgrades without a token: $flood"
check "upgrades past the per-address rate limit get 429 before the token is even looked at" \
	eval 'echo "$flood" | grep -q "429" && echo "$flood" | grep -q "401"'
sleep 1.2 # the bucket refills
check "a message over 4 KiB closes the stream with 1009" pyjudge 'd["code"] == 1009' "$($CLIENT big "$URL" 2>&1)"
# ---- hot reload: a new push interval ----
sed -i "s/push_interval_ms = 5000;/push_interval_ms = 50;/" "$W/node/quorum.conf"
kill -HUP "$QPID"
wait_log "$W/node.log" "ws.listening address=127.0.0.1 port=$PORT push_interval_ms=50" 5 >/dev/null
r=$($CLIENT stream "$URL" 10 2>&1)
check "after SIGHUP the stream pushes at the new interval (10 frames well under 1 s)" \
	pyjudge 'd["seconds"] < 1.0' "$r"
# For clients that cannot send headers (browsers): query_token = true.
sed -i "s/push_interval_ms = 50;/push_interval_ms = 50; query_token = true;/" "$W/node/quorum.conf"
kill -HUP "$QPID"
wait_log "$W/node.log" "ws.listening address=127.0.0.1 port=$PORT .* query_token=on" 5 >/dev/null
check "with query_token = true the token is taken from ?token=" \
	pyjudge '"unix_seconds" in d["messages"][0] or "timestamp" in d["messages"][0]' \
	"$(WS_TOKEN= $CLIENT stream "$URL?token=$TOKEN" 1 2>&1)"
check "... but the header still wins: a wrong header with the right ?token= gets 401" \
	pyjudge 'd["status"] == 401' "$(WS_TOKEN=x$TOKEN $CLIENT refused "$URL?token=$TOKEN" 2>&1)"
check "?token=T&x: a valueless parameter hides nothing, the token is read" \
	pyjudge '"unix_seconds" in d["messages"][0] or "timestamp" in d["messages"][0]' \
	"$(WS_TOKEN= $CLIENT stream "$URL?token=$TOKEN&x" 1 2>&1)"
check "... a malformed query (%00) is 400 once authorised" \
	pyjudge 'd["status"] == 400' "$($CLIENT refused "$URL?format=unix%00xml" 2>&1)"
# A client that never reads, while frames go out every 10 ms with a 4 KiB backlog limit.
sed -i "s/push_interval_ms = 50;/push_interval_ms = 10; max_backlog_bytes = 4096;/" "$W/node/quorum.conf"
kill -HUP "$QPID"
wait_log "$W/node.log" "ws.listening address=127.0.0.1 port=$PORT push_interval_ms=10" 5 >/dev/null
r=$($CLIENT slow "ws://127.0.0.1:$PORT/v1/stream?format=json" 6 2>&1)
diag "slow client: $r"
check "a client that never reads is dropped once its backlog passes the limit" \
	eval 'pyjudge "d[\"dropped\"]" "$r" && grep -q "ws.slow_consumer_dropped" "$W/node.log"'
WS_READY_FILE="$W/drain-ready" $CLIENT close "$URL?format=unix" >"$W/drain-close" 2>&1 &
CLOSER=$!
wait_log "$W/drain-ready" connected 20 >/dev/null # it streams: now stop
kill -TERM "$QPID"
wait_exit "$QPID" 10
wait "$CLOSER"
diag "a stream through SIGTERM: $(head -c 200 "$W/drain-close")"
check "a drain says goodbye: the client sees close 1001 \"server reload\", not 1006" \
	pyjudge 'd["code"] == 1001 and d["reason"] == "server reload" and len(d["messages"]) > 0' \
	"$(cat "$W/drain-close")"
check "quorumd stops with status 0" test "$EXIT_STATUS" -eq 0
finish
