#!/bin/bash
# grpc.sh -- the gRPC transport with Debian's python3-grpcio (stubs generated in the test from
# proto/clock_service.proto, proto/bridge_service.proto, proto/health.proto): UNAVAILABLE while
# unsynchronised; GetTime with every field real and its signed answer verified offline by
# quorumctl; the bridge's GetTime and GetTimeAttested; GetStatus; AlignTime bound to its
# caller, and INVALID_ARGUMENT with the reference's message; a WatchTime stream per agreement
# ending at max_updates or its deadline; UNIMPLEMENTED, RESOURCE_EXHAUSTED (message size,
# rate limit), UNAUTHENTICATED; TLS with ALPN h2 and mutual TLS in production mode.
# Speaks TAP.
. "$(dirname "$0")/lib.sh"
plan 32

"$PYTHON" -c 'import grpc, grpc_tools' 2>/dev/null ||
	{ echo "1..0 # SKIP python3-grpcio / python3-grpc-tools are not installed"; exit 0; }
W=$SCRATCH
CTL=$QUORUM_BUILDDIR/tools/quorumctl
CALL="$PYTHON $QUORUM_SRCDIR/tests/tools/grpc-client.py $QUORUM_SRCDIR/proto"
mkdir -p "$W/node" "$W/lone"
"$KEYGEN" --out "$W/node/node" >/dev/null
"$KEYGEN" --out "$W/lone/node" >/dev/null
UDP=$(free_port) PORT=$(free_port)
TOKEN=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
printf '%s\n' "$TOKEN" >"$W/node/token" && chmod 0600 "$W/node/token"
grpc_conf() { # FILE GRPC-SETTINGS AUTHORITIES
	cat >"$1" <<END
node = { id = "solo"; key = "node.key"; state_dir = "state"; };
plugin_dir = "$QUORUM_BUILDDIR/lib";
trusted_plugin_keys = [ "$QUORUM_BUILDDIR/keys/plugin-dev.pub" ];
peer_link = { address = "127.0.0.1"; port = $UDP; };
authority = { radius_ns = 1000; kernel_status = false; };
rounds = { interval_ms = 200; timeout_ms = 50; };
clock = { shm = "clock"; };
authorities = ( $3 );
stages = ( { name = "convergence"; path = "stages/convergence.so"; },
           { name = "control"; path = "stages/control.so"; } );
transports = ( { name = "grpc"; path = "transports/grpc.so"; settings = { port = $PORT; $2 }; } );
END
}
SELF="{ id = \"solo\"; address = \"127.0.0.1\"; port = $UDP; key = \"node.pub\"; }"
judge() { "$PYTHON" -c "import json,sys; d=json.loads(sys.argv[1]); sys.exit(0 if ($1) else 1)" "$2" || { diag "got: $2"; return 1; }; }

# ---- unsynchronised ----
grpc_conf "$W/lone/quorum.conf" "" "$SELF,
  { id = \"b\"; address = \"127.0.0.2\"; port = $UDP; key = \"node.pub\"; },
  { id = \"c\"; address = \"127.0.0.3\"; port = $UDP; key = \"node.pub\"; },
  { id = \"d\"; address = \"127.0.0.4\"; port = $UDP; key = \"node.pub\"; }"
# the bound grows 2 % of the time since the last agreement: past max_error_ns (10 ms) half a
# second after the node loses its quorum
sed -i 's|^clock = { shm = "clock"; };|clock = { shm = "clock"; max_drift_ppm = 20000; };|' "$W/lone/quorum.conf"
start_quorumd "$W/lone.log" --config "$W/lone/quorum.conf"
wait_log "$W/lone.log" "grpc.listening" 10 >/dev/null
check "unsynchronised: GetTime is UNAVAILABLE, never a time" \
	judge 'd["code"] == "UNAVAILABLE" and "response" not in d' "$($CALL 127.0.0.1:$PORT gettime 2>>"$W/client.err")"
check "... and GetStatus says operational = false" \
	judge 'd["code"] == "OK" and d["response"]["operational"] is False and d["response"]["quorum_threshold"] == 3' \
	"$($CALL 127.0.0.1:$PORT status 2>>"$W/client.err")"
check "... the bridge's GetTime and GetTimeAttested are UNAVAILABLE too" \
	eval 'judge "d[\"code\"] == \"UNAVAILABLE\"" "$($CALL 127.0.0.1:$PORT bridge-time 2>>"$W/client.err")" && judge "d[\"code\"] == \"UNAVAILABLE\"" "$($CALL 127.0.0.1:$PORT bridge-attested 2>>"$W/client.err")"'

# ---- grpc.health.v1.Health (the stubs generated from proto/health.proto) ----
health() { $CALL 127.0.0.1:$PORT health-check "$1" 2>>"$W/client.err"; }
# health_all STATUS: Check says STATUS for the server and both time services
health_all() {
	local sv
	for sv in "" uml001.ClockService aegisbridge.BridgeTimeService; do
		judge "d[\"code\"] == \"OK\" and d[\"status\"] == \"$1\"" "$(health "$sv")" || return 1
	done
}
check "Health/Check is NOT_SERVING while unsynchronised: the server and both time services" \
	health_all NOT_SERVING
check "... NOT_FOUND for a service it does not serve; Watch says SERVICE_UNKNOWN for it" \
	eval 'judge "d[\"code\"] == \"NOT_FOUND\"" "$(health nope.Service)" &&
	judge "d[\"statuses\"] == [\"SERVICE_UNKNOWN\"]" "$($CALL 127.0.0.1:$PORT health-watch nope.Service 1 5 2>>"$W/client.err" | tail -1)"'
$CALL 127.0.0.1:$PORT health-watch "" 3 30 >"$W/health-watch" 2>>"$W/client.err" &
HWATCH=$!
wait_log "$W/health-watch" NOT_SERVING 10 >/dev/null
# b and c answer too (same key, their own addresses): 3 of n = 4, the node synchronises
declare -A HELPER
for k in b c; do
	n=$([ "$k" = b ] && echo 2 || echo 3)
	mkdir -p "$W/$k" && cp -p "$W/lone/node.key" "$W/lone/node.pub" "$W/$k/"
	sed -e "s|id = \"solo\"; key|id = \"$k\"; key|" \
		-e "s|^peer_link = { address = \"127.0.0.1\"|peer_link = { address = \"127.0.0.$n\"|" \
		-e '/^transports/d' "$W/lone/quorum.conf" >"$W/$k/quorum.conf"
	(cd "$W/$k" && exec "$QUORUMD" --config quorum.conf 2>"$W/$k.log") &
	HELPER[$k]=$!
	PIDS="$PIDS ${HELPER[$k]}"
done
for i in $(seq 100); do "$CTL" time --clock "$W/lone/clock" >/dev/null 2>&1 && break; sleep 0.1; done
check "Health/Check is SERVING once synchronised (b and c answer)" health_all SERVING
for k in b c; do kill -TERM "${HELPER[$k]}"; wait_exit "${HELPER[$k]}" 10; done
wait "$HWATCH"
diag "Health/Watch through it: $(tail -1 "$W/health-watch")"
check "Health/Watch streamed each change: NOT_SERVING, SERVING, NOT_SERVING once b and c stopped" \
	judge 'd["code"] == "OK" and d["statuses"] == ["NOT_SERVING", "SERVING", "NOT_SERVING"]' \
	"$(tail -1 "$W/health-watch")"
kill -TERM "$QPID"; wait_exit "$QPID" 10

# ---- synchronised, bearer token, rate limit ----
grpc_conf "$W/node/quorum.conf" "bearer_token_files = [ \"token\" ]; rate_limit = 20; rate_burst = 40;" "$SELF"
start_quorumd "$W/node.log" --config "$W/node/quorum.conf"
wait_log "$W/node.log" "grpc.listening" 10 >/dev/null
for i in $(seq 50); do "$CTL" time --clock "$W/node/clock" >/dev/null 2>&1 && break; sleep 0.1; done
check "no token: UNAUTHENTICATED" judge 'd["code"] == "UNAUTHENTICATED"' "$($CALL 127.0.0.1:$PORT gettime 2>>"$W/client.err")"
check "... the health service passes the same gate: UNAUTHENTICATED without, SERVING with the token" \
	eval 'judge "d[\"code\"] == \"UNAUTHENTICATED\"" "$(health "")" &&
	judge "d[\"status\"] == \"SERVING\"" "$(GRPC_TOKEN=$TOKEN health "")"'
export GRPC_TOKEN=$TOKEN
r=$($CALL 127.0.0.1:$PORT gettime 2>>"$W/client.err")
check "GetTime: every field real (time now, round, node, key id, 64-byte signature, quorum hash, bound)" \
	judge 'd["code"] == "OK" and abs(int(d["response"]["unix_timestamp"]) - __import__("time").time()) < 5 and int(d["response"]["monotonic_version"]) > 0 and d["response"]["leader_id"] == "solo" and len(d["response"]["key_id"]) == 16 and len(d["response"]["signature"]) == 128 and len(d["response"]["alignment_context_id"]) == 64 and int(d["response"]["earliest_ns"]) <= int(d["response"]["unix_timestamp"]) * 10**9 + int(d["response"].get("unix_nanos", 0)) <= int(d["response"]["latest_ns"])' "$r"
"$PYTHON" -c 'import base64,json,sys; open(sys.argv[2],"wb").write(base64.b64decode(json.loads(sys.argv[1])["attestation_b64"]))' "$r" "$W/gettime.att"
check "... and its attestation is the node's signed time: quorumctl verifies it offline" \
	eval '"$CTL" verify --key "$W/node/node.pub" "$W/gettime.att" | sed "s/^/# /"; [ "${PIPESTATUS[0]}" -eq 0 ]'
r=$($CALL 127.0.0.1:$PORT bridge-time 2>>"$W/client.err")
check "aegisbridge GetTime: seconds, remainder, RFC 3339 of the same instant, the real bound in ms" \
	judge 'd["code"] == "OK" and abs(int(d["response"]["unix_seconds"]) - __import__("time").time()) < 5 and 0 <= int(d["response"]["unix_nanos"]) < 10**9 and 0 < d["response"]["uncertainty_ms"] < 5' "$r"
check "... its RFC 3339 text is that instant to the microsecond, read by strptime %f and fromisoformat (also before 3.11)" \
	"$PYTHON" "$QUORUM_SRCDIR/tests/tools/iso8601-check.py" \
	"$("$PYTHON" -c 'import json,sys; print(json.loads(sys.argv[1])["response"]["iso8601"])' "$r")" \
	"$("$PYTHON" -c 'import json,sys; d=json.loads(sys.argv[1])["response"]; print(int(d["unix_seconds"]) * 10**9 + int(d["unix_nanos"]))' "$r")"
r=$($CALL 127.0.0.1:$PORT bridge-attested 2>>"$W/client.err")
"$PYTHON" -c 'import base64,json,sys; open(sys.argv[2],"wb").write(base64.b64decode(json.loads(sys.argv[1])["attestation_b64"]))' "$r" "$W/bridge.att"
check "aegisbridge GetTimeAttested: the accepted source, none rejected, the quorum hash, signed (quorumctl verifies)" \
	eval 'judge "d[\"code\"] == \"OK\" and d[\"response\"][\"accepted_sources\"] == [\"solo\"] and d[\"response\"][\"rejected_sources\"] == [] and len(d[\"response\"][\"quorum_hash\"]) == 64 and int(d[\"response\"][\"round\"]) > 0 and \"drift_ppm\" in d[\"response\"]" "$r" && "$CTL" verify --key "$W/node/node.pub" "$W/bridge.att" >/dev/null'
check "GetStatus: operational, threshold n - f" \
	judge 'd["code"] == "OK" and d["response"]["operational"] is True and d["response"]["quorum_threshold"] == 1' \
	"$($CALL 127.0.0.1:$PORT status 2>>"$W/client.err")"
ANCHOR=0a0b0c0d
r=$($CALL 127.0.0.1:$PORT align peer-7 $ANCHOR 2>>"$W/client.err")
"$PYTHON" -c 'import base64,json,sys; open(sys.argv[2],"wb").write(base64.b64decode(json.loads(sys.argv[1])["proof_b64"]))' "$r" "$W/align.att"
NONCE=$("$PYTHON" -c 'import hashlib,sys; print(hashlib.sha256(b"peer-7\0" + bytes.fromhex(sys.argv[1])).hexdigest())' $ANCHOR)
check "AlignTime: a 32-hex session and a signature_proof bound to peer_id and local_anchor" \
	eval 'judge "d[\"code\"] == \"OK\" and len(d[\"response\"][\"session_id\"]) == 32" "$r" && "$CTL" verify --key "$W/node/node.pub" --nonce "$NONCE" "$W/align.att" >/dev/null'
check "AlignTime without peer_id: INVALID_ARGUMENT \"peer_id and local_anchor are required\"" \
	judge 'd["code"] == "INVALID_ARGUMENT" and d["details"] == "peer_id and local_anchor are required"' \
	"$($CALL 127.0.0.1:$PORT align '' $ANCHOR 2>>"$W/client.err")"
r=$($CALL 127.0.0.1:$PORT watch 3 10 2>>"$W/client.err")
diag "watch: $r"
check "WatchTime: one message per agreement, rounds increasing, OK after max_updates" \
	judge 'd["code"] == "OK" and len(d["rounds"]) == 3 and d["rounds"] == sorted(set(d["rounds"]))' "$r"
r=$($CALL 127.0.0.1:$PORT watch 0 0.7 2>>"$W/client.err")
diag "watch until the deadline: $r"
check "... and DEADLINE_EXCEEDED at its deadline, after the agreements of 0.7 s" \
	judge 'd["code"] == "DEADLINE_EXCEEDED" and len(d["rounds"]) >= 2' "$r"
# A client that goes away in the middle of WatchTime (two updates, then its process exits):
# its connection's watch stream must go with the connection, not stay in the server's list.
CLIENT_PY=$QUORUM_SRCDIR/tests/tools/grpc-client.py "$PYTHON" -c '
import os, sys, importlib.util
sys.argv = ["grpc-client.py", sys.argv[1], sys.argv[2], "status"]
spec = importlib.util.spec_from_file_location("gc", os.environ["CLIENT_PY"])
gc = importlib.util.module_from_spec(spec); spec.loader.exec_module(gc)
pb, pb_grpc = gc.stubs(sys.argv[1])[:2]
import grpc
stub = pb_grpc.ClockServiceStub(grpc.insecure_channel(sys.argv[2]))
updates = stub.WatchTime(pb.WatchTimeRequest(), timeout=30,
                         metadata=[("authorization", "Bearer " + os.environ["GRPC_TOKEN"])])
next(updates); next(updates)
os._exit(0)' "$QUORUM_SRCDIR/proto" "127.0.0.1:$PORT" 2>>"$W/client.err"
sleep 0.3 # a few watch ticks (20 ms) after the connection closed
check "a client gone in the middle of WatchTime: the node serves on (its stream freed with it)" \
	judge 'd["code"] == "OK"' "$($CALL 127.0.0.1:$PORT status 2>>"$W/client.err")"
check "an unknown method: UNIMPLEMENTED" judge 'd["code"] == "UNIMPLEMENTED"' "$($CALL 127.0.0.1:$PORT unknown 2>>"$W/client.err")"
check "a 100 kB request: RESOURCE_EXHAUSTED, and the node keeps serving" \
	eval 'judge "d[\"code\"] == \"RESOURCE_EXHAUSTED\"" "$($CALL 127.0.0.1:$PORT bigrequest 2>>"$W/client.err")" && judge "d[\"code\"] == \"OK\"" "$($CALL 127.0.0.1:$PORT status 2>>"$W/client.err")"'
CLIENT_PY=$QUORUM_SRCDIR/tests/tools/grpc-client.py "$PYTHON" -c '
import os, sys, json, importlib.util
sys.argv = ["grpc-client.py", sys.argv[1], sys.argv[2], "status"]
spec = importlib.util.spec_from_file_location("gc", os.environ["CLIENT_PY"])
gc = importlib.util.module_from_spec(spec); spec.loader.exec_module(gc)
pb, pb_grpc = gc.stubs(sys.argv[1])[:2]
import grpc
codes = {}
with grpc.insecure_channel(sys.argv[2]) as ch:
    stub = pb_grpc.ClockServiceStub(ch)
    for i in range(120):
        try:
            stub.GetStatus(pb.GetStatusRequest(), metadata=[("authorization", "Bearer " + os.environ["GRPC_TOKEN"])], timeout=5)
            codes["OK"] = codes.get("OK", 0) + 1
        except grpc.RpcError as e:
            codes[e.code().name] = codes.get(e.code().name, 0) + 1
print(json.dumps(codes))' "$QUORUM_SRCDIR/proto" "127.0.0.1:$PORT" >"$W/flood" 2>>"$W/client.err"
diag "120 calls at once: $(cat "$W/flood")"
check "past its burst a client gets RESOURCE_EXHAUSTED (rate limit)" \
	judge 'd.get("RESOURCE_EXHAUSTED", 0) > 0 and d.get("OK", 0) >= 30' "$(cat "$W/flood")"
sleep 2 # the rate limit's bucket refills

# ---- message encodings: gzip (and deflate) through zlib ----
r=$($CALL 127.0.0.1:$PORT gzip 2>>"$W/client.err")
diag "a channel with compression=grpc.Compression.Gzip: $r"
check "a channel-wide gzip client: every method of both services answers OK" \
	judge 'len(d["calls"]) == 6 and all(v == "OK" for v in d["calls"].values())' "$r"
r=$($CALL 127.0.0.1:$PORT bomb 2>>"$W/client.err")
diag "a gzip bomb: $r"
check "a gzip bomb (32 MiB of zeros, ~32 KiB on the wire) is RESOURCE_EXHAUSTED; the node serves on" \
	eval 'judge "d[\"code\"] == \"RESOURCE_EXHAUSTED\" and \"decompressed\" in d[\"details\"]" "$r" &&
	judge "d[\"code\"] == \"OK\"" "$($CALL 127.0.0.1:$PORT status 2>>"$W/client.err")"'
"$PYTHON" -c 'import gzip, struct, sys
m = gzip.compress(b"")
sys.stdout.buffer.write(b"\x01" + struct.pack(">I", len(m)) + m)' >"$W/gzip-frame"
# raw GetTime [ENCODING [ACCEPT]]: a gzip-compressed empty request through curl (h2c), the
# answer's headers and trailers into $W/h2-headers, its body into $W/h2-body
raw() {
	curl -sS --max-time 5 --http2-prior-knowledge -H "content-type: application/grpc" \
		-H "te: trailers" -H "authorization: Bearer $TOKEN" -H "grpc-encoding: $1" \
		${2:+-H "grpc-accept-encoding: $2"} --data-binary @"$W/gzip-frame" \
		-D "$W/h2-headers" -o "$W/h2-body" "http://127.0.0.1:$PORT/uml001.ClockService/GetTime"
}
# body_is FLAG: the answer is one message with compressed flag FLAG that decodes
body_is() {
	"$PYTHON" -c 'import gzip, struct, sys
b = open(sys.argv[1], "rb").read()
n = struct.unpack(">I", b[1:5])[0]
ok = b[0] == int(sys.argv[2]) and len(b) == 5 + n and (b[0] == 0 or len(gzip.decompress(b[5:])) > n)
sys.exit(0 if ok else 1)' "$W/h2-body" "$1"
}
check "the answer is gzip-compressed when the client reads gzip (grpc-accept-encoding), grpc-status 0" \
	eval 'raw gzip "identity,gzip" && grep -qi "^grpc-encoding: gzip" "$W/h2-headers" &&
	grep -qi "^grpc-status: 0" "$W/h2-headers" && body_is 1'
check "... and plain when it does not say so (the request still read)" \
	eval 'raw gzip && ! grep -qi "^grpc-encoding:" "$W/h2-headers" &&
	grep -qi "^grpc-status: 0" "$W/h2-headers" && body_is 0'
check "an unknown grpc-encoding is UNIMPLEMENTED, naming in grpc-accept-encoding what is read" \
	eval 'raw snappy && grep -qi "^grpc-status: 12" "$W/h2-headers" &&
	grep -qi "^grpc-accept-encoding: identity,deflate,gzip" "$W/h2-headers"'
$CALL 127.0.0.1:$PORT watch 100000 60 >"$W/watch-drain" 2>"$W/watch-drain.err" &
WATCH=$!
wait_log "$W/watch-drain.err" "watch: round" 20 >/dev/null # it streams: now stop
unset GRPC_TOKEN
kill -TERM "$QPID"; wait_exit "$QPID" 10
wait "$WATCH"
diag "a WatchTime stream through SIGTERM: $(cat "$W/watch-drain")"
check "a drain says goodbye: a WatchTime stream ends with UNAVAILABLE \"server reloading\"" \
	judge 'd["code"] == "UNAVAILABLE" and d["details"] == "server reloading" and len(d["rounds"]) > 0' \
	"$(cat "$W/watch-drain")"
check "quorumd stops with status 0" test "$EXIT_STATUS" -eq 0

# ---- TLS with ALPN h2, mutual TLS, production mode ----
P=$W/pki
mkdir -p "$P"
( cd "$P" &&
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
		-keyout ca.key -out ca.pem -subj "/CN=quorum grpc test ca" &&
	for n in server client; do
		openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
			-keyout $n.key -subj "/CN=$n" -out $n.csr &&
		echo "subjectAltName=IP:127.0.0.1" >$n.ext &&
		openssl x509 -req -in $n.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
			-extfile $n.ext -out $n.pem
	done ) >/dev/null 2>&1
grpc_conf "$W/node/quorum.conf" "mode = \"production\"; tls_cert = \"../pki/server.pem\"; tls_key = \"../pki/server.key\"; tls_client_ca = \"../pki/ca.pem\"; bearer_token_files = [ \"token\" ];" "$SELF"
start_quorumd "$W/tls.log" --config "$W/node/quorum.conf"
wait_log "$W/tls.log" "grpc.listening .* tls=mtls" 10 >/dev/null
for i in $(seq 50); do "$CTL" time --clock "$W/node/clock" >/dev/null 2>&1 && break; sleep 0.1; done
check "TLS (ALPN h2) with a client certificate and the token: GetTime over mTLS" \
	judge 'd["code"] == "OK"' "$(GRPC_TOKEN=$TOKEN GRPC_CA=$P/ca.pem GRPC_CERT=$P/client.pem GRPC_KEY=$P/client.key $CALL 127.0.0.1:$PORT gettime 2>>"$W/client.err")"
check "... without a client certificate the call fails (UNAVAILABLE: no handshake)" \
	judge 'd["code"] == "UNAVAILABLE"' "$(GRPC_TOKEN=$TOKEN GRPC_CA=$P/ca.pem $CALL 127.0.0.1:$PORT gettime 2>>"$W/client.err")"
kill -TERM "$QPID"; wait_exit "$QPID" 10
finish
