#!/bin/bash
# rest.sh -- the REST transport with curl against a one-node quorum with the vault and merkle
# stages: every route and method, every error status in the reference's order (429 rate
# limit, 401 bearer, 503 unsynchronised, 400 format), answers validated against the JSON
# Schemas under schemas/ (python3-jsonschema), proofs served over HTTP verified by quorumctl,
# metrics that count, malformed and oversized requests refused while the node keeps serving.
# POST /time/shared-state: its 401, 413 and 400 messages in the reference's order on that
# node, then on a real local quorum of 4 (scripts/local-quorum.sh) a leader's state signed
# with node-2's key by quorumctl: applied, refused with each reason (replayed, forged,
# unknown leader, from the future, ...), shown in /v1/status, refused again as a replay
# after a restart, and audited in the vault. Speaks TAP.
. "$(dirname "$0")/lib.sh"
plan 71

W=$SCRATCH
SCHEMAS=$QUORUM_SRCDIR/schemas
VALIDATE="$PYTHON $QUORUM_SRCDIR/tests/tools/validate-json.py"
CTL=$QUORUM_BUILDDIR/tools/quorumctl
mkdir -p "$W/node" "$W/lone"
"$KEYGEN" --out "$W/node/node" >/dev/null
"$KEYGEN" --out "$W/lone/node" >/dev/null
UDP=$(free_port)
HTTP=$(free_port)
TOKEN=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
printf '%s\n' "$TOKEN" >"$W/node/token" && chmod 0600 "$W/node/token"
rest_conf() { # FILE REST-SETTINGS AUTHORITIES
	cat >"$1" <<END
node = { id = "solo"; key = "node.key"; state_dir = "state"; };
plugin_dir = "$QUORUM_BUILDDIR/lib";
trusted_plugin_keys = [ "$QUORUM_BUILDDIR/keys/plugin-dev.pub" ];
peer_link = { address = "127.0.0.1"; port = $UDP; };
authority = { radius_ns = 1000; kernel_status = false; };
rounds = { interval_ms = 200; timeout_ms = 50; };
clock = { shm = "clock"; };
authorities = ( $3 );
stages = ( { name = "vault"; path = "stages/vault.so"; settings = { dir = "vault"; fsync = "batch"; round_log_s = 1; }; },
           { name = "merkle"; path = "stages/merkle.so"; settings = { dir = "merkle"; checkpoint_ms = 100; }; },
           { name = "convergence"; path = "stages/convergence.so"; },
           { name = "control"; path = "stages/control.so"; } );
transports = ( { name = "rest"; path = "transports/rest.so"; settings = { port = $HTTP; $2 }; } );
END
}
SELF="{ id = \"solo\"; address = \"127.0.0.1\"; port = $UDP; key = \"node.pub\"; }"
URL=http://127.0.0.1:$HTTP
# get PATH [CURL ARGS...]: the body into $W/body, the status echoed.
get() { local p=$1; shift; curl -sS --max-time 5 -o "$W/body" -w '%{http_code}' "$@" "$URL$p"; }
valid() { $VALIDATE "$SCHEMAS/$1" "$W/body" | sed 's/^/# /'; return "${PIPESTATUS[0]}"; }
is() { # STATUS SCHEMA PATH [CURL ARGS...]: the answer has STATUS and fits SCHEMA
	local want=$1 schema=$2 code
	shift 2
	code=$(get "$@")
	[ "$code" = "$want" ] || { diag "status $code, wanted $want: $(head -c 300 "$W/body")"; return 1; }
	[ -z "$schema" ] || valid "$schema"
}

# ---- an unsynchronised node (n = 4 configured, alone): 503, readyz 503 ----
rest_conf "$W/lone/quorum.conf" "" "$SELF,
  { id = \"b\"; address = \"127.0.0.2\"; port = $UDP; key = \"node.pub\"; },
  { id = \"c\"; address = \"127.0.0.3\"; port = $UDP; key = \"node.pub\"; },
  { id = \"d\"; address = \"127.0.0.4\"; port = $UDP; key = \"node.pub\"; }"
start_quorumd "$W/lone.log" --config "$W/lone/quorum.conf"
wait_http "$URL/healthz" ok 10 >/dev/null
check "unsynchronised: GET /v1/time is 503 with a JSON error, never a time" is 503 error.json /v1/time
check "... /readyz is 503 and /healthz 200" eval '[ "$(get /readyz)" = 503 ] && [ "$(get /healthz)" = 200 ]'
sleep 0.5 # a few rounds
check "... /v1/status fits status.json: its own answer reached no agreement, b, c, d are silent" \
	eval 'is 200 status.json /v1/status && "$PYTHON" -c "
import json, sys
a = {x[\"id\"]: x for x in json.load(open(sys.argv[1]))[\"authorities\"]}
ok = a[\"solo\"][\"state\"] == \"no_agreement\" and a[\"solo\"][\"round\"] > 0
ok = ok and all(a[k][\"state\"] == \"silent\" and a[k][\"type\"] == \"quorumd\" for k in \"bcd\")
sys.exit(0 if ok and list(a) == [\"solo\", \"b\", \"c\", \"d\"] else 1)" "$W/body"'
kill -TERM "$QPID"; wait_exit "$QPID" 10

# ---- a synchronised node with bearer auth and a rate limit ----
rest_conf "$W/node/quorum.conf" "bearer_token_files = [ \"token\" ]; rate_limit = 200; rate_burst = 400; max_body_bytes = 1024; attestation_cache_us = 100000;" "$SELF"
start_quorumd "$W/node.log" --config "$W/node/quorum.conf"
wait_http "$URL/readyz" ok 10 >/dev/null
AUTH=(-H "Authorization: Bearer $TOKEN")
check "GET /v1/time (json, the default) fits time-json.json" is 200 time-json.json /v1/time "${AUTH[@]}"
cp "$W/body" "$W/time.json"
check "... and its bound contains this machine's clock during the request (one clock here)" \
	"$PYTHON" - "$HTTP" "$TOKEN" <<'PY'
import http.client, json, sys, time
conn = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=5)
worst = 0
for i in range(50):
    t0 = time.clock_gettime_ns(time.CLOCK_REALTIME)
    conn.request("GET", "/v1/time", headers={"Authorization": "Bearer " + sys.argv[2]})
    t = json.loads(conn.getresponse().read())
    t1 = time.clock_gettime_ns(time.CLOCK_REALTIME)
    est = t["unix_seconds"] * 10**9 + t["unix_nanos"]
    half = max(est - t["earliest_ns"], t["latest_ns"] - est)
    if not (t["earliest_ns"] <= t1 and t0 <= t["latest_ns"] and abs(t["uncertainty_ms"] * 1e6 - half) < 1e3):
        print("# bound [%d, %d] misses the request [%d, %d]" % (t["earliest_ns"], t["latest_ns"], t0, t1))
        sys.exit(1)
    worst = max(worst, half)
print("# 50 answers, each bound overlaps its request; widest half-width %d ns" % worst)
PY
NONCE=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
get "/v1/time?nonce=$NONCE" "${AUTH[@]}" >/dev/null
"$PYTHON" -c 'import base64,json,sys; open(sys.argv[2],"wb").write(base64.b64decode(json.load(open(sys.argv[1]))["attestation"]))' "$W/body" "$W/answer.att"
check "the json answer carries the node's signed time, which quorumctl verifies with the nonce" \
	eval '"$CTL" verify --key "$W/node/node.pub" --nonce "$NONCE" "$W/answer.att" | sed "s/^/# /"; [ "${PIPESTATUS[0]}" -eq 0 ]'
check "... and refuses with another nonce" \
	test "$("$CTL" verify --key "$W/node/node.pub" --nonce "$(printf '0%.0s' $(seq 64))" "$W/answer.att" >/dev/null 2>&1; echo $?)" -eq 1
# Queries are read strictly: a valueless parameter hides nothing, malformed ones are 400.
get "/v1/time?format=json&nonce=$NONCE&x" "${AUTH[@]}" >/dev/null
"$PYTHON" -c 'import base64,json,sys; open(sys.argv[2],"wb").write(base64.b64decode(json.load(open(sys.argv[1]))["attestation"]))' "$W/body" "$W/valueless.att"
check "?format=json&nonce=N&x: the nonce is honoured (the valueless x hides nothing)" \
	"$CTL" verify --key "$W/node/node.pub" --nonce "$NONCE" "$W/valueless.att"
check "?format=unix&pretty serves unix" is 200 time-unix.json "/v1/time?format=unix&pretty" "${AUTH[@]}"
check "?flag&format=xml is 400 (an unknown format, no longer hidden)" \
	test "$(get "/v1/time?flag&format=xml" "${AUTH[@]}")" = 400
bad_queries=0
for q in "format=unix%00xml" "format=unix&&x=1" "format=%zz" "nonce=$NONCE&NONCE=$NONCE" \
	"format=unix&nonce=$NONCE" "nonce=${NONCE}00" "format=json&nonce=$(printf 'a%.0s' $(seq 200))"; do
	st=$(get "/v1/time?$q" "${AUTH[@]}")
	[ "$st" = 400 ] || { diag "?$q got $st"; bad_queries=1; }
done
check "%00, an empty parameter, a bad escape, a name twice, a nonce that cannot be honoured: 400" \
	test "$bad_queries" -eq 0
check "json answers without a nonce share a signed answer within attestation_cache_us, each saying its age; it verifies" \
	"$PYTHON" - "$HTTP" "$TOKEN" "$W/shared.att" "$CTL" "$W/node/node.pub" <<'PY'
import base64, http.client, json, subprocess, sys
conn = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=5)
seen, ages = set(), []
for i in range(40):
    conn.request("GET", "/v1/time", headers={"Authorization": "Bearer " + sys.argv[2]})
    t = json.loads(conn.getresponse().read())
    seen.add(t["attestation"])
    ages.append(t["attestation_age_ns"])
open(sys.argv[3], "wb").write(base64.b64decode(t["attestation"]))
print("# 40 answers, %d signed answers, ages %d..%d ns" % (len(seen), min(ages), max(ages)))
ok = len(seen) < 40 and min(ages) == 0 and 0 < max(ages) <= 100000000
ok = ok and subprocess.run([sys.argv[4], "verify", "--key", sys.argv[5], sys.argv[3]],
                           stdout=subprocess.DEVNULL).returncode == 0
sys.exit(0 if ok else 1)
PY
check "format=unix fits time-unix.json (unix_nanos the remainder)" is 200 time-unix.json "/v1/time?format=unix" "${AUTH[@]}"
check "format=iso8601 fits time-iso8601.json" is 200 time-iso8601.json "/v1/time?format=iso8601" "${AUTH[@]}"
ISO_CHECK="$PYTHON $QUORUM_SRCDIR/tests/tools/iso8601-check.py"
field() { "$PYTHON" -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$W/body" "$1"; }
check "... its timestamp is estimate_ns to the microsecond: strptime %f and fromisoformat read it (also before 3.11)" \
	eval '$ISO_CHECK "$(field "d[\"timestamp\"]")" "$(field "d[\"estimate_ns\"]")"'
check "json: iso8601 is unix_seconds.unix_nanos to the microsecond, read the same ways" \
	eval 'is 200 time-json.json /v1/time "${AUTH[@]}" &&
	$ISO_CHECK "$(field "d[\"iso8601\"]")" "$(field "d[\"unix_seconds\"] * 10**9 + d[\"unix_nanos\"]")"'
# The lists describe the node's last round (docs/migrating.md); on a loaded machine that round
# may have failed while the node still serves the one before, so a few answers are asked for.
solo_lists() {
	local i
	for i in 1 2 3 4 5 6 7 8 9 10; do
		is 200 time-json.json /v1/time "${AUTH[@]}" && "$PYTHON" -c 'import json, sys
d = json.load(open(sys.argv[1]))
q = d["quorum"]
sys.exit(0 if (q["accepted_sources"], q["rejected_sources"], q["accepted"]) == (["solo"], [], 1)
         and isinstance(d["drift_ppm"], float) else 1)' "$W/body" && return 0
		diag "answer $i: $(head -c 400 "$W/body")"
		sleep 0.3
	done
	return 1
}
check "json: quorum.accepted_sources / rejected_sources name the sources (as on gRPC), quorum.accepted counts" \
	solo_lists
check "aliases: format=RFC3339 is iso8601, format=Envelope is json" \
	eval 'is 200 time-iso8601.json "/v1/time?format=RFC3339" "${AUTH[@]}" && is 200 time-json.json "/v1/time?format=Envelope" "${AUTH[@]}"'
check "an unknown format is 400 with the reference's message (the name lowercased, as it did)" \
	eval 'is 400 error.json "/v1/time?format=XmL" "${AUTH[@]}" && grep -q "Unknown format .xml.. Valid: unix, iso8601, json" "$W/body"'
check "no token: 401 {\"detail\":\"Unauthorized\"} with WWW-Authenticate: Bearer" \
	eval 'curl -sS -D "$W/headers" -o "$W/body" "$URL/v1/time" && grep -qi "^WWW-Authenticate: Bearer" "$W/headers" && grep -q "\"detail\": *\"Unauthorized\"" "$W/body" && grep -q " 401 " "$W/headers"'
check "a wrong token is 401, a wrong scheme too" \
	eval '[ "$(get /v1/time -H "Authorization: Bearer x${TOKEN}")" = 401 ] && [ "$(get /v1/time -H "Authorization: Basic $TOKEN")" = 401 ]'
check "... and the refusal is counted, not audited (quorum_refusals_total rest/unauthorised)" \
	eval 'wait_refusals "$URL/metrics" rest unauthorised 1 "${AUTH[@]}" && ! grep -q "auth.failed" "$W/node.log"'
check "the scheme is case-insensitive (bearer)" test "$(get /v1/time -H "Authorization: bearer $TOKEN")" = 200
check "GET /v1/status fits status.json (vault and tree included)" is 200 status.json /v1/status "${AUTH[@]}"
check "... its one authority was accepted in the last round, with its offset and round trip" \
	"$PYTHON" -c "
import json, sys
s = json.load(open(sys.argv[1]))
a = s['authorities']
ok = len(a) == 1 and a[0]['id'] == 'solo' and a[0]['state'] == 'accepted' and not a[0]['quarantined']
ok = ok and a[0]['rtt_ns'] > 0 and abs(a[0]['offset_ns']) < 10**6 and 0 < a[0]['round'] <= s['round'] + 1
sys.exit(0 if ok else 1)" "$W/body"
check "GET /healthz and /readyz pass the same gate as every route (401 without the token)" \
	eval '[ "$(get /healthz)" = 401 ] && [ "$(get /readyz)" = 401 ] &&
	[ "$(get /healthz "${AUTH[@]}")" = 200 ] && [ "$(get /readyz "${AUTH[@]}")" = 200 ]'

# ---- the audit plane over HTTP ----
# Record 3 must be under a checkpoint (a round log record a second, a checkpoint every 100 ms).
for i in $(seq 100); do
	[ "$(curl -sS "${AUTH[@]}" "$URL/v1/checkpoint" 2>/dev/null | sed -n 2p)" -ge 4 ] 2>/dev/null && break
	sleep 0.1
done
check "GET /v1/checkpoint is the signed checkpoint (C2SP note)" \
	eval 'is 200 "" /v1/checkpoint "${AUTH[@]}" && head -1 "$W/body" | grep -qx "quorum-time/solo" && grep -q "^— quorum-time/solo " "$W/body"'
cp "$W/body" "$W/old.note"
check "GET /v1/proof/inclusion?index=3 fits proof-inclusion.json" is 200 proof-inclusion.json "/v1/proof/inclusion?index=3" "${AUTH[@]}"
cp "$W/body" "$W/incl.json"
# record 3's leaf hash, from the vault's files (what a client holding the record computes):
# a copy of them, as the live vault is locked by its node; a copy that meets the tail
# mid-write is taken again
leaf3() {
	rm -rf "$W/vault-copy" && cp -r "$W/node/vault" "$W/vault-copy" &&
	"$CTL" vault dump "$W/vault-copy" --json 2>/dev/null | "$PYTHON" -c '
import hashlib, json, struct, sys
for line in sys.stdin:
    r = json.loads(line)
    if r["index"] == 3:
        with open("%s/segment-%012d.qv" % (sys.argv[1], r["segment"]), "rb") as f:
            f.seek(r["offset"]); n = struct.unpack("<I", f.read(4))[0]; f.seek(r["offset"])
            print(hashlib.sha256(b"\0" + f.read(n)).hexdigest())
' "$W/vault-copy"
}
LEAF3=
for i in 1 2 3 4 5 6 7 8 9 10; do LEAF3=$(leaf3) && [ -n "$LEAF3" ] && break; sleep 0.1; done
check "... and quorumctl verifies it against the record's leaf hash and the node's key" \
	eval '"$CTL" proof verify --node-key "$W/node/node.pub" --leaf-hash "$LEAF3" "$W/incl.json" | sed "s/^/# /"; [ "${PIPESTATUS[0]}" -eq 0 ]'
OLD_SIZE=$(sed -n 2p "$W/old.note")
sleep 0.3
check "GET /v1/proof/consistency?old=N (N: the checkpoint fetched before) fits proof-consistency.json and verifies" \
	eval 'is 200 proof-consistency.json "/v1/proof/consistency?old=$OLD_SIZE" "${AUTH[@]}" && "$CTL" proof verify --node-key "$W/node/node.pub" --old-checkpoint "$W/old.note" "$W/body" >/dev/null'
check "a proof beyond the checkpoint is 404, a bad index 400" \
	eval '[ "$(get "/v1/proof/inclusion?index=99999999" "${AUTH[@]}")" = 404 ] && [ "$(get "/v1/proof/inclusion?index=-1" "${AUTH[@]}")" = 400 ] && valid error.json'

# ---- errors and bad input ----
check "an unknown path is 404 (JSON)" eval 'is 404 error.json /nope "${AUTH[@]}"'
check "POST /time/sync is 403: direct mutation is blocked" \
	eval 'is 403 error.json /time/sync -X POST -d "{}" "${AUTH[@]}" && grep -q "Direct sync mutation disabled; use convergence pipeline" "$W/body"'
check "DELETE /v1/time is 405" eval 'is 405 error.json /v1/time -X DELETE "${AUTH[@]}"'

# ---- POST /time/shared-state: auth, size, then the body's checks in the reference's order ----
head -c 5000 /dev/zero | tr '\0' a >"$W/big"
SS=/time/shared-state
# ss400 BODY MESSAGE: 400 whose body is exactly {"error": MESSAGE}
ss400() {
	local code
	code=$(get "$SS" -X POST --data-binary "$1" "${AUTH[@]}")
	[ "$code" = 400 ] || { diag "status $code, wanted 400: $(head -c 300 "$W/body")"; return 1; }
	valid error.json && "$PYTHON" -c 'import json, sys
sys.exit(json.load(open(sys.argv[1])) != {"error": sys.argv[2]})' "$W/body" "$2" ||
		{ diag "body: $(head -c 300 "$W/body")"; return 1; }
}
SOLO_BODY=$("$CTL" shared-state sign --key "$W/node/node.key" --leader solo --version 1)
check "POST /time/shared-state without a token is 401, counted (route shared_state)" \
	eval 'n=$(refusal_count "$URL/metrics" rest unauthorised "${AUTH[@]}") &&
	is 401 error.json "$SS" -X POST --data-binary "$SOLO_BODY" &&
	wait_refusals "$URL/metrics" rest unauthorised $((n + 1)) "${AUTH[@]}"'
check "GET /time/shared-state is 405" eval 'is 405 error.json "$SS" "${AUTH[@]}"'
check "a body over max_body_bytes is 413 before it is read" \
	eval 'is 413 error.json "$SS" -X POST --data-binary "@$W/big" "${AUTH[@]}"'
check "400 Invalid JSON: not JSON" ss400 '{"monotonic_version":1,' "Invalid JSON"
check "400 Invalid JSON: a duplicate member" \
	ss400 "${SOLO_BODY%\}},\"key_id\":\"x\"}" "Invalid JSON"
check "400 not an object: an array" ss400 '["monotonic_version"]' "Shared-state must be a JSON object"
check "400 an unknown member comes before the missing ones" \
	ss400 '{"extra":1}' "Unknown shared-state fields are not allowed"
check "400 a missing member comes before a wrong type" \
	ss400 '{"leader_id":5}' "Missing required shared-state fields"
# wrong_types: each body with one member of the wrong type is 400 Invalid shared-state field types
wrong_types() {
	local b v=\"monotonic_version\":1 h=\"signature_hex\":\"
	for b in "${SOLO_BODY/$v/$v.0}" "${SOLO_BODY/$v/\"monotonic_version\":\"1\"}" \
		"${SOLO_BODY/$v/\"monotonic_version\":-1}" "${SOLO_BODY/$h?/$h}" \
		"${SOLO_BODY/\"leader_id\":\"solo\"/\"leader_id\":\"so|lo\"}"; do
		[ "$b" != "$SOLO_BODY" ] || { diag "no substitution"; return 1; }
		ss400 "$b" "Invalid shared-state field types" || return 1
	done
}
check "400 a wrong type: a version as a real, a string, negative; 127 signature digits; a '|' in an id" \
	wrong_types
check "a node without shared_state_file refuses even its own authority's valid state: 403 no_state_file" \
	eval 'is 403 shared-state-answer.json "$SS" -X POST --data-binary "$SOLO_BODY" "${AUTH[@]}" && grep -q "\"reason\": *\"no_state_file\"" "$W/body"'
check "a body over max_body_bytes is refused with 413" \
	test "$(get /v1/time -X POST --data-binary "@$W/big" "${AUTH[@]}")" = 413
printf 'GARBAGE / HTTP/9.9\r\n\r\n' >"$W/garbage"
"$PYTHON" -c 'import socket,sys; s=socket.create_connection(("127.0.0.1", int(sys.argv[1]))); s.sendall(open(sys.argv[2],"rb").read()); s.settimeout(2); s.recv(100)' "$HTTP" "$W/garbage" 2>/dev/null
check "after a malformed request line the node still serves" test "$(get /healthz "${AUTH[@]}")" = 200

# ---- metrics ----
check "GET /metrics needs the token" test "$(get /metrics)" = 401
get /metrics "${AUTH[@]}" >/dev/null
check "GET /metrics is Prometheus text with real counters" \
	eval 'grep -q "^quorum_clock_synchronised 1$" "$W/body" && grep -Eq "^quorum_rest_requests_total\{route=\"time\",status=\"2xx\"\} [1-9]" "$W/body" && grep -Eq "^quorum_rest_auth_failures_total [1-9]" "$W/body" && grep -Eq "^quorum_vault_records [1-9]" "$W/body"'
# metrics_have NAME...: each NAME is a sample with a number
metrics_have() {
	local m
	for m in "$@"; do
		grep -Eq "^$m -?[0-9.]+(e[-+]?[0-9]+)?$" "$W/body" || { diag "no $m"; return 1; }
	done
}
check "... with a metric for each of the reference's (docs/migrating.md maps them)" \
	metrics_have quorum_clock_synchronised quorum_clock_agreement_age_seconds \
	quorum_control_rejection_streak quorum_clock_uncertainty_seconds quorum_clock_drift_ppm \
	quorum_clock_drift_seconds quorum_clock_accepted_sources

# ---- rate limit: 429 comes before 401 ----
"$PYTHON" - "$HTTP" >"$W/flood" <<'PY'
import http.client, sys
codes = {}
conn = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=5)
for i in range(700):
    conn.request("GET", "/v1/time")  # no token: 401 until the bucket is empty, then 429
    r = conn.getresponse(); r.read()
    codes[r.status] = codes.get(r.status, 0) + 1
    if r.status == 429:
        retry = r.getheader("Retry-After", "none")
        codes["retry_after"] = retry if codes.get("retry_after", retry) == retry else "varies"
print(" ".join(f"{k}={v}" for k, v in sorted(codes.items(), key=str)))
PY
diag "700 requests without a token: $(cat "$W/flood")"
check "past the burst the rate limit answers 429 (before the token is even looked at)" \
	grep -Eq "429=[1-9]" "$W/flood"
check "... with Retry-After: 1 (a token is back within a second), as the reference's clients expect" \
	grep -q "retry_after=1\b" "$W/flood"
kill -TERM "$QPID"
wait_exit "$QPID" 10
check "quorumd stops with status 0" test "$EXIT_STATUS" -eq 0

# ---- a leader's shared state on a real local quorum: node-2 leads, node-1 records ----
Q=$W/quorum
QPORT=$(free_port)
RPORT=$(free_port)
bash "$QUORUM_SRCDIR/scripts/local-quorum.sh" --setup-only --dir "$Q" --port "$QPORT" \
	--interval-ms 500 --rest-port "$RPORT" --builddir "$QUORUM_BUILDDIR" >/dev/null
declare -A NODE_PID
start_node() { # K
	(cd "$Q/node-$1" && exec "$QUORUMD" --config quorum.conf 2>>quorumd.log) &
	NODE_PID[$1]=$!
	PIDS="$PIDS ${NODE_PID[$1]}"
}
for k in 1 2 3 4; do start_node "$k"; done
URL=http://127.0.0.1:$RPORT # node-1
wait_http "$URL/readyz" ok 15 >/dev/null
# sign ARGS...: a shared state of leader node-2 signed with node-2's key
sign() { "$CTL" shared-state sign --key "$Q/keys/node-2.key" --leader node-2 "$@"; }
# ss STATUS REASON BODY [PATH]: node-1's answer has STATUS, fits shared-state-answer.json and
# (when REASON is not empty) gives REASON
ss() {
	local code
	code=$(get "${4:-$SS}" -X POST --data-binary "$3")
	[ "$code" = "$1" ] || { diag "status $code, wanted $1: $(head -c 300 "$W/body")"; return 1; }
	valid shared-state-answer.json || return 1
	[ -z "$2" ] || "$PYTHON" -c 'import json, sys
sys.exit(json.load(open(sys.argv[1])).get("reason") != sys.argv[2])' "$W/body" "$2" ||
		{ diag "body: $(head -c 300 "$W/body")"; return 1; }
}
B1=$(sign --version 1)
B2=$(sign --version 2 --drift -2500 --warp 0.25 --agreed 1795796697932630258)
check "quorumctl shared-state sign prints a body with all 8 fields that fits shared-state.json" \
	eval 'printf "%s" "$B2" | $VALIDATE "$SCHEMAS/shared-state.json" - | sed "s/^/# /"; [ "${PIPESTATUS[1]}" -eq 0 ]'
check "a body signed with node-2's key is 200 {\"status\":\"applied\"}" ss 200 "" "$B1"
check "... and audited: bft.shared_state.apply leader=node-2 version=1" \
	wait_log "$Q/node-1/quorumd.log" "event=bft.shared_state.apply plugin=control leader=node-2 version=1 " 5
check "the same body again is 403 gossip_duplicate_rejected (the passport stage's replay window)" \
	ss 403 gossip_duplicate_rejected "$B1"
check "a new body with version 1 again is 403 stale_version (pipeline reason shared_state_apply_rejected)" \
	eval 'ss 403 stale_version "$(sign --version 1)" && wait_log "$Q/node-1/quorumd.log" "event=pipeline.event verdict=reject stage=control reason=shared_state_apply_rejected event_id=uml001.rest.time.shared_state" 5'
check "version 2 through the alias /v1/time/shared-state is applied" \
	ss 200 "" "$B2" /v1/time/shared-state
B3=$(sign --version 3)
FLIPPED=$("$PYTHON" -c 'import json, sys
d = json.loads(sys.argv[1]); s = d["signature_hex"]
d["signature_hex"] = s[:20] + "%x" % (int(s[20], 16) ^ 1) + s[21:]
print(json.dumps(d))' "$B3")
check "a flipped signature digit is 403 passport_signature_invalid (the passport stage)" \
	ss 403 passport_signature_invalid "$FLIPPED"
check "a leader that is no configured authority is 403 unknown_leader" \
	ss 403 unknown_leader "$("$CTL" shared-state sign --key "$Q/keys/node-2.key" --leader node-9 --version 3)"
check "node-3's key claiming to be node-2's is 403 unknown_leader (not node-2's key id)" \
	ss 403 unknown_leader "$("$CTL" shared-state sign --key "$Q/keys/node-3.key" --leader node-2 --version 3)"
check "a leader time 10 s in the future is 403 leader_time_in_future" \
	ss 403 leader_time_in_future "$(sign --version 3 --leader-time $(($(date +%s%N) + 10000000000)))"
check "a drift over max_total_drift_ns (3600 s) is 403 drift_ceiling_exceeded" \
	ss 403 drift_ceiling_exceeded "$(sign --version 3 --drift -3600000000001)"
check "a warp score outside [0, 1] is 403 warp_out_of_range" \
	ss 403 warp_out_of_range "$(sign --version 3 --warp 1.5)"
printf '%s%5000s' "$B3" "" >"$W/ss-big"
check "a shared state over 4096 bytes is 413 (the route's own limit)" \
	eval 'is 413 error.json "$SS" -X POST --data-binary "@$W/ss-big"'
# shared_state_is FILE: node-2's shared_state in /v1/status (FILE) is B2's; no one else has one
shared_state_is() {
	"$PYTHON" - "$1" "$B2" <<'PY'
import json, sys
a = {x["id"]: x for x in json.load(open(sys.argv[1]))["authorities"]}
b, s = json.loads(sys.argv[2]), a["node-2"].get("shared_state")
want = {"version": 2, "agreed_time_ns": b["shared_agreed_time"], "applied_drift_ns": -2500,
        "leader_time_ns": b["leader_system_time_at_sync"], "warp_score": 0.25}
ok = s is not None and all(s[k] == v for k, v in want.items())
ok = ok and s["applied_at_ns"] >= s["leader_time_ns"]
ok = ok and all("shared_state" not in a[k] for k in ("node-1", "node-3", "node-4"))
print("# node-2's shared_state: %s" % s)
sys.exit(0 if ok else 1)
PY
}
check "GET /v1/status fits status.json and shows node-2's last applied state (version 2)" \
	eval 'is 200 status.json /v1/status && shared_state_is "$W/body"'
kill -TERM "${NODE_PID[1]}"
wait_exit "${NODE_PID[1]}" 10
start_node 1
wait_http "$URL/readyz" ok 15 >/dev/null
check "after node-1 restarts its status still shows node-2's state (from shared_state_file)" \
	eval 'is 200 status.json /v1/status && shared_state_is "$W/body"'
check "... and a new body with version 2 is still 403 stale_version" \
	ss 403 stale_version "$(sign --version 2)"
# bound_holds_now: node-1's served bound contains this machine's clock (the nodes' true time)
bound_holds_now() {
	local t0 t1 json
	t0=$(date +%s%N)
	json=$("$CTL" time --json --clock "$Q/node-1/clock") || return 1
	t1=$(date +%s%N)
	"$PYTHON" -c 'import json, sys
t = json.loads(sys.argv[1])
sys.exit(0 if t["earliest_ns"] <= int(sys.argv[3]) and int(sys.argv[2]) <= t["latest_ns"] else 1)' \
		"$json" "$t0" "$t1" || { diag "node-1 serves $json, now $t0..$t1"; return 1; }
}
AHEAD=$(($(date +%s%N) + 30000000000))
check "a leader 30 s ahead (agreed time and drift +30 s) is applied, and node-1's clock does not move" \
	eval 'ss 200 "" "$(sign --version 3 --agreed "$AHEAD" --drift 30000000000)" && sleep 1.2 && bound_holds_now'
for k in 1 2 3 4; do kill -TERM "${NODE_PID[$k]}" 2>/dev/null; done
STATUSES=
for k in 1 2 3 4; do wait_exit "${NODE_PID[$k]}" 10; STATUSES="$STATUSES $EXIT_STATUS"; done
check "the four nodes stop with status 0 (under ASan: nothing leaked)" test "$STATUSES" = " 0 0 0 0"
"$CTL" vault dump "$Q/node-1/vault" --json >"$W/vault.jsonl"
check "node-1's vault holds the three applies and every refusal (bft.shared_state.apply / .reject)" \
	"$PYTHON" - "$W/vault.jsonl" <<'PY'
import json, re, sys
texts = [r.get("text", "") for r in map(json.loads, open(sys.argv[1]))]
applied = [t for t in texts if t.startswith("bft.shared_state.apply ")]
reasons = [re.search(r" reason=(\S+)", t).group(1) for t in texts
           if t.startswith("bft.shared_state.reject ")]
print("# applies: %d, refusals: %s" % (len(applied), " ".join(reasons)))
ok = [re.search(r" leader=node-2 version=(\d+) ", t).group(1) for t in applied] == ["1", "2", "3"]
ok = ok and reasons == ["stale_version", "unknown_leader", "unknown_leader",
                        "leader_time_in_future", "drift_ceiling_exceeded", "warp_out_of_range",
                        "stale_version"]
# the replayed and the forged bodies never reached the control stage: the passport stage
# refused them, and the vault holds no record each but their summary (refused.summary)
summarised = sum(int(re.search(r" count=(\d+) ", t).group(1)) for t in texts
                 if t.startswith("refused.summary what=passport "))
print("# passport refusals summarised: %d" % summarised)
ok = ok and summarised >= 2 and not any(t.startswith("passport.reject ") for t in texts)
sys.exit(0 if ok else 1)
PY
finish
