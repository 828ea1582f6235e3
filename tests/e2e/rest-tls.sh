#!/bin/bash
# rest-tls.sh -- TLS of the REST and WebSocket transports, mutual TLS and the startup rules,
# with curl, python3-websockets and
# certificates made here by the openssl tool: HTTPS/WSS with a server certificate; mTLS refusing
# clients without a certificate from the configured CA; mode = "production" refusing to start
# without TLS, a client CA and a bearer token (naming what is missing); dev mode refusing
# cleartext off loopback; a key without its certificate refused. The TLS profile, with
# openssl s_client and an RSA server certificate: no static RSA or CBC suites in TLS 1.2
# (Mozilla's "intermediate"), TLS 1.3, resumption of a TLS 1.2 session with a client
# certificate, and the client CAs named in the handshake. Speaks TAP.
. "$(dirname "$0")/lib.sh"
plan 21

W=$SCRATCH
P=$W/pki
mkdir -p "$P" "$W/node"
cd "$P" || exit 1
mkcert() { # NAME SIGNER-NAME SUBJECT [SAN]
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$1.key" \
		-subj "/CN=$3" -out "$1.csr" 2>/dev/null
	if [ -n "${4:-}" ]; then echo "subjectAltName=$4" >"$1.ext"; else : >"$1.ext"; fi
	openssl x509 -req -in "$1.csr" -CA "$2.pem" -CAkey "$2.key" -CAcreateserial -days 2 \
		-extfile "$1.ext" -out "$1.pem" 2>/dev/null
}
for ca in ca other-ca; do
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
		-keyout "$ca.key" -out "$ca.pem" -subj "/CN=quorum test $ca" 2>/dev/null
done
mkcert server ca "127.0.0.1" "IP:127.0.0.1"
# An RSA server certificate: RSA key exchange and ECDHE-RSA suites need one.
openssl req -new -newkey rsa:2048 -nodes -keyout rsa-server.key -subj "/CN=127.0.0.1" \
	-out rsa-server.csr 2>/dev/null
echo "subjectAltName=IP:127.0.0.1" >rsa-server.ext
openssl x509 -req -in rsa-server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
	-extfile rsa-server.ext -out rsa-server.pem 2>/dev/null
mkcert client ca "client"
mkcert stranger other-ca "stranger"
cd - >/dev/null || exit 1
"$KEYGEN" --out "$W/node/node" >/dev/null
TOKEN=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
printf '%s\n' "$TOKEN" >"$W/node/token" && chmod 0600 "$W/node/token"
UDP=$(free_port)
HTTP=$(free_port)
WSP=$(free_port)
conf() { # REST-SETTINGS [WS-SETTINGS]
	local ws=""
	[ -z "${2:-}" ] || ws=", { name = \"ws\"; path = \"transports/ws.so\"; settings = { port = $WSP; $2 }; }"
	cat >"$W/node/quorum.conf" <<END
node = { id = "solo"; key = "node.key"; state_dir = "state"; };
plugin_dir = "$QUORUM_BUILDDIR/lib";
trusted_plugin_keys = [ "$QUORUM_BUILDDIR/keys/plugin-dev.pub" ];
peer_link = { address = "127.0.0.1"; port = $UDP; };
authority = { radius_ns = 1000; kernel_status = false; };
rounds = { interval_ms = 200; timeout_ms = 50; };
clock = { shm = "clock"; };
authorities = ( { id = "solo"; address = "127.0.0.1"; port = $UDP; key = "node.pub"; } );
stages = ( { name = "convergence"; path = "stages/convergence.so"; },
           { name = "control"; path = "stages/control.so"; } );
transports = ( { name = "rest"; path = "transports/rest.so"; settings = { port = $HTTP; $1 }; }$ws );
END
}
URL=https://127.0.0.1:$HTTP
# refuses SETTINGS PATTERN: quorumd exits non-zero at start, its log matching PATTERN.
refuses() { # REST-SETTINGS PATTERN [WS-SETTINGS]
	conf "$1" "${3:-}"
	start_quorumd "$W/refused.log" --config "$W/node/quorum.conf"
	wait_exit "$QPID" 10 || { kill -KILL "$QPID"; return 1; }
	[ "$EXIT_STATUS" -ne 0 ] && grep -Eq -- "$2" "$W/refused.log" ||
		{ diag "exit $EXIT_STATUS: $(grep -m1 error "$W/refused.log")"; return 1; }
	diag "$(grep -m1 -E "$2" "$W/refused.log" | sed 's/.*event=//')"
}

# ---- HTTPS ----
TLSKEYS="tls_cert = \"../pki/server.pem\"; tls_key = \"../pki/server.key\";"
conf "$TLSKEYS" "$TLSKEYS"
start_quorumd "$W/tls.log" --config "$W/node/quorum.conf"
wait_log "$W/tls.log" "rest.listening .* tls=on" 10 >/dev/null
wait_log "$W/tls.log" "ws.listening .* tls=on" 10 >/dev/null
CLIENT="$PYTHON $QUORUM_SRCDIR/tests/tools/ws-client.py"
WSS=wss://127.0.0.1:$WSP/v1/stream
check "HTTPS: curl trusting our CA gets /healthz" \
	test "$(curl -sS --max-time 5 --cacert "$P/ca.pem" -o /dev/null -w '%{http_code}' "$URL/healthz")" = 200
check "... a client not trusting that CA refuses the server" \
	eval '! curl -sS --max-time 5 -o /dev/null "$URL/healthz" 2>/dev/null'
check "... and cleartext HTTP to the TLS port gets no answer" \
	eval '! curl -sS --max-time 3 -o /dev/null "http://127.0.0.1:$HTTP/healthz" 2>/dev/null'
check "WSS: python3-websockets trusting our CA gets the stream" \
	eval 'WS_CA="$P/ca.pem" $CLIENT stream "$WSS" 1 | grep -q "\"messages\""'
check "... and without trusting it the TLS handshake fails" \
	eval '! $CLIENT stream "$WSS" 1 >/dev/null 2>&1'
kill -TERM "$QPID"; wait_exit "$QPID" 10

# ---- mTLS in production mode ----
PROD="mode = \"production\"; tls_cert = \"../pki/server.pem\"; tls_key = \"../pki/server.key\"; tls_client_ca = \"../pki/ca.pem\"; bearer_token_files = [ \"token\" ];"
conf "$PROD" "$PROD"
start_quorumd "$W/mtls.log" --config "$W/node/quorum.conf"
wait_log "$W/mtls.log" "rest.listening .* tls=mtls mode=production" 10 >/dev/null
wait_log "$W/mtls.log" "ws.listening .* tls=mtls mode=production" 10 >/dev/null
wait_http "$URL/readyz" ok 1 >/dev/null 2>&1
MT=(--cacert "$P/ca.pem" --cert "$P/client.pem" --key "$P/client.key")
for i in $(seq 50); do
	[ "$(curl -sS --max-time 5 "${MT[@]}" -o /dev/null -w '%{http_code}' "$URL/readyz" 2>/dev/null)" = 200 ] && break
	sleep 0.1
done
check "mTLS: a client certificate from our CA with the token gets the time" \
	test "$(curl -sS --max-time 5 "${MT[@]}" -H "Authorization: Bearer $TOKEN" -o /dev/null -w '%{http_code}' "$URL/v1/time")" = 200
check "... without a client certificate the handshake fails" \
	eval '! curl -sS --max-time 5 --cacert "$P/ca.pem" -o /dev/null "$URL/healthz" 2>/dev/null'
check "... with a certificate from another CA too" \
	eval '! curl -sS --max-time 5 --cacert "$P/ca.pem" --cert "$P/stranger.pem" --key "$P/stranger.key" -o /dev/null "$URL/healthz" 2>/dev/null'
check "mTLS WSS: a client certificate from our CA with the token gets the stream" \
	eval 'WS_CA="$P/ca.pem" WS_CERT="$P/client.pem" WS_KEY="$P/client.key" WS_TOKEN=$TOKEN $CLIENT stream "$WSS" 1 | grep -q "unix_seconds\|unsynchronised"'
check "... without a client certificate the WSS handshake fails" \
	eval '! WS_CA="$P/ca.pem" WS_TOKEN=$TOKEN $CLIENT stream "$WSS" 1 >/dev/null 2>&1'
kill -TERM "$QPID"; wait_exit "$QPID" 10

# ---- the TLS profile, seen by openssl s_client ----
conf "tls_cert = \"../pki/rsa-server.pem\"; tls_key = \"../pki/rsa-server.key\"; tls_client_ca = \"../pki/ca.pem\";"
start_quorumd "$W/profile.log" --config "$W/node/quorum.conf"
wait_log "$W/profile.log" "rest.listening .* tls=mtls" 10 >/dev/null
# s_client ARGS...: one handshake with our client certificate; its report on stdout.
s_client() {
	openssl s_client -connect "127.0.0.1:$HTTP" -CAfile "$P/ca.pem" -cert "$P/client.pem" \
		-key "$P/client.key" "$@" </dev/null 2>&1
}
check "static RSA key exchange (TLS 1.2, AES128-SHA) is refused" \
	eval 's_client -tls1_2 -cipher AES128-SHA | grep -q "Cipher is (NONE)"'
check "... and CBC with ECDHE (ECDHE-RSA-AES128-SHA) too" \
	eval 's_client -tls1_2 -cipher ECDHE-RSA-AES128-SHA | grep -q "Cipher is (NONE)"'
check "ECDHE-RSA-AES128-GCM-SHA256 is accepted" \
	eval 's_client -tls1_2 -cipher ECDHE-RSA-AES128-GCM-SHA256 |
	grep -q "^New, TLSv1.2, Cipher is ECDHE-RSA-AES128-GCM-SHA256"'
check "TLS 1.3 with its default suites" \
	eval 's_client -tls1_3 | grep -q "^New, TLSv1.3, Cipher is TLS_AES_"'
s_client -tls1_2 -sess_out "$W/session.pem" >"$W/first.out"
s_client -tls1_2 -sess_in "$W/session.pem" >"$W/resumed.out"
check "a TLS 1.2 session with a client certificate is resumed (it failed: no session id context)" \
	eval 'grep -q "^New, TLSv1.2" "$W/first.out" && grep -q "^Reused, TLSv1.2" "$W/resumed.out"'
check "the server names the client CAs it accepts" \
	eval 'grep -A1 "^Acceptable client certificate CA names" "$W/first.out" | grep -q "CN = quorum test ca"'
kill -TERM "$QPID"; wait_exit "$QPID" 10

# ---- startup rules ----
check "production without TLS, client CA or token refuses to start, naming them" \
	refuses "mode = \"production\";" 'rest.production_refused missing="tls_cert tls_key tls_client_ca bearer_token_files"'
check "the WebSocket transport in production without TLS refuses to start too" \
	refuses "" 'ws.production_refused missing="tls_cert tls_key tls_client_ca bearer_token_files"' \
	"mode = \"production\";"
check "dev mode refuses cleartext off loopback" \
	refuses "address = \"0.0.0.0\";" "rest.cleartext_refused address=0.0.0.0"
check "a key without its certificate is refused" \
	refuses "tls_key = \"../pki/server.key\";" 'tls_cert and tls_key go together'
check "a certificate that does not match its key is refused" \
	refuses "tls_cert = \"../pki/server.pem\"; tls_key = \"../pki/client.key\";" "rest.tls_refused"
finish
