#!/bin/bash
# tokens.sh -- one bearer-token rule for REST, WebSocket and gRPC
# (plugins/transports/common/bearer.c): every configured token file counts (18 of them: the
# 17th and 18th are accepted by curl, python3-websockets and python3-grpcio), more than 64 is
# a configuration error, a file holds exactly one token (a second line is refused), a token
# with a space is refused by every transport alike, and a token file readable by others is
# refused in production mode and warned about in dev mode. Speaks TAP.
. "$(dirname "$0")/lib.sh"
plan 11

"$PYTHON" -c 'import grpc, grpc_tools, websockets' 2>/dev/null ||
	{ echo "1..0 # SKIP python3-grpcio / python3-websockets are not installed"; exit 0; }
W=$SCRATCH
P=$W/pki
mkdir -p "$P" "$W/node"
(
	cd "$P" || exit 1
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
		-keyout ca.key -out ca.pem -subj "/CN=quorum test ca" 2>/dev/null
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-keyout server.key -subj "/CN=127.0.0.1" -out server.csr 2>/dev/null
	echo "subjectAltName=IP:127.0.0.1" >server.ext
	openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
		-extfile server.ext -out server.pem 2>/dev/null
)
chmod 0600 "$P"/*.key
"$KEYGEN" --out "$W/node/node" >/dev/null
declare -a TOKENS
FILES=""
for i in $(seq 18); do
	TOKENS[$i]=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
	printf '%s\n' "${TOKENS[$i]}" >"$W/node/token-$i"
	chmod 0600 "$W/node/token-$i"
	FILES="$FILES${FILES:+, }\"token-$i\""
done
UDP=$(free_port) HTTP=$(free_port) WSP=$(free_port) GRPC=$(free_port)
conf() { # REST WS GRPC (each transport's extra settings)
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
transports = ( { name = "rest"; path = "transports/rest.so"; settings = { port = $HTTP; $1 }; },
               { name = "ws"; path = "transports/ws.so"; settings = { port = $WSP; $2 }; },
               { name = "grpc"; path = "transports/grpc.so"; settings = { port = $GRPC; $3 }; } );
END
}
ALL="bearer_token_files = [ $FILES ];"
conf "$ALL" "$ALL" "$ALL"
start_quorumd "$W/node.log" --config "$W/node/quorum.conf"
wait_log "$W/node.log" "grpc.listening" 10 >/dev/null
for i in $(seq 50); do "$CTL" time --clock "$W/node/clock" >/dev/null 2>&1 && break; sleep 0.1; done
check "all 18 token files are loaded by every transport (bearer_tokens=18)" \
	eval '[ "$(grep -c "bearer_tokens=18" "$W/node.log")" -eq 3 ]'
rest_with() { curl -sS --max-time 5 -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $1" "http://127.0.0.1:$HTTP/v1/time"; }
check "REST takes the 17th and 18th tokens" eval '[ "$(rest_with "${TOKENS[17]}")" = 200 ] && [ "$(rest_with "${TOKENS[18]}")" = 200 ]'
ws_with() { WS_TOKEN=$1 "$PYTHON" "$QUORUM_SRCDIR/tests/tools/ws-client.py" stream "ws://127.0.0.1:$WSP/v1/stream" 1 2>&1; }
check "WebSocket takes the 18th" eval 'ws_with "${TOKENS[18]}" | grep -q "\"messages\""'
grpc_with() { GRPC_TOKEN=$1 "$PYTHON" "$QUORUM_SRCDIR/tests/tools/grpc-client.py" "$QUORUM_SRCDIR/proto" "127.0.0.1:$GRPC" gettime 2>/dev/null; }
check "gRPC takes the 18th" eval 'grpc_with "${TOKENS[18]}" | grep -q "\"code\": \"OK\""'
check "... and every transport refuses a token that is none of them" \
	eval '[ "$(rest_with "x${TOKENS[1]}")" = 401 ] && ! ws_with "x${TOKENS[1]}" | grep -q messages &&
	grpc_with "x${TOKENS[1]}" | grep -q UNAUTHENTICATED'
kill -TERM "$QPID"
wait_exit "$QPID" 10

# refused SETTINGS-FOR-ALL PATTERN: --check-config refuses each transport with it, alone.
refused() {
	local t bad=0
	for t in rest ws grpc; do
		case $t in
		rest) conf "$1" "" "" ;;
		ws) conf "" "$1" "" ;;
		grpc) conf "" "" "$1" ;;
		esac
		if "$QUORUMD" --check-config --config "$W/node/quorum.conf" >"$W/check-$t.log" 2>&1 ||
			! grep -Eq -- "$t\\.$2" "$W/check-$t.log"; then
			diag "$t: $(grep -m1 -E 'error|refused' "$W/check-$t.log")"
			bad=1
		fi
	done
	diag "$(grep -m1 -E "rest\\.$2" "$W/check-rest.log" | sed 's/.*event=//' | cut -c1-160)"
	return $bad
}
MANY=""
for i in $(seq 65); do MANY="$MANY${MANY:+, }\"token-1\""; done
check "more than 64 token files is a configuration error, on every transport" \
	refused "bearer_token_files = [ $MANY ];" "tokens_refused files=65"
printf '%s\n%s\n' "${TOKENS[1]}" "${TOKENS[2]}" >"$W/node/two-lines" && chmod 0600 "$W/node/two-lines"
check "a file holds one token: a second line is refused, on every transport" \
	refused 'bearer_token_files = [ "two-lines" ];' "token_refused file=.*two-lines"
printf 'a token with spaces in it\n' >"$W/node/spaces" && chmod 0600 "$W/node/spaces"
check "a token with a space is refused by every transport alike" \
	refused 'bearer_token_files = [ "spaces" ];' "token_refused file=.*spaces"
cp "$W/node/token-1" "$W/node/open" && chmod 0644 "$W/node/open"
MTLS="mode = \"production\"; tls_cert = \"$P/server.pem\"; tls_key = \"$P/server.key\"; tls_client_ca = \"$P/ca.pem\";"
check "a token file others can read is refused in production mode, on every transport" \
	refused "$MTLS bearer_token_files = [ \"open\" ];" "token_refused file=.*open.*chmod 0600"
conf 'bearer_token_files = [ "open" ];' 'bearer_token_files = [ "open" ];' 'bearer_token_files = [ "open" ];'
"$QUORUMD" --check-config --config "$W/node/quorum.conf" >"$W/dev.log" 2>&1
dev_status=$?
check "... and in dev mode it is accepted with a warning naming the file, on every transport" \
	eval '[ "$dev_status" -eq 0 ] && [ "$(grep -c "token_exposed file=.*open" "$W/dev.log")" -eq 3 ]'
printf '%s\r\n' "${TOKENS[3]}" >"$W/node/crlf" && chmod 0600 "$W/node/crlf"
conf 'bearer_token_files = [ "crlf" ];' "" ""
check "a token ending in CRLF is read without it" \
	eval '"$QUORUMD" --check-config --config "$W/node/quorum.conf" >"$W/crlf.log" 2>&1'
finish
