#!/bin/bash
# check-config.sh -- `quorumd --check-config` runs the checks that start runs: for each of 14
# transport configurations that cannot start (production mode without TLS, a client CA or a
# token; a certificate that is not the key's; missing certificate, key, CA and token files; a
# token file too short; cleartext off loopback; on REST, WebSocket and gRPC), the check
# fails with the same reason start gives, and a configuration that starts passes it, printing
# the values REST's settings struct gets: the configured one, or its table's default. Speaks
# TAP.
. "$(dirname "$0")/lib.sh"
# conf TRANSPORT names the plugin at run time: rest, ws and grpc below.
require_plugins transports/rest transports/ws transports/grpc
plan 17

W=$SCRATCH
P=$W/pki
mkdir -p "$P" "$W/node"
(
	cd "$P" || exit 1
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
		-keyout ca.key -out ca.pem -subj "/CN=quorum test ca" 2>/dev/null
	for name in server other; do
		openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
			-keyout "$name.key" -subj "/CN=127.0.0.1" -out "$name.csr" 2>/dev/null
		echo "subjectAltName=IP:127.0.0.1" >"$name.ext"
		openssl x509 -req -in "$name.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
			-extfile "$name.ext" -out "$name.pem" 2>/dev/null
	done
)
chmod 0600 "$P"/*.key
"$KEYGEN" --out "$W/node/node" >/dev/null
TOKEN=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
printf '%s\n' "$TOKEN" >"$W/node/token" && chmod 0600 "$W/node/token"
printf 'short\n' >"$W/node/short-token" && chmod 0600 "$W/node/short-token"
UDP=$(free_port) PORT=$(free_port)
conf() { # TRANSPORT SETTINGS
	cat >"$W/node/quorum.conf" <<END
node = { id = "solo"; key = "node.key"; state_dir = "state"; };
plugin_dir = "$QUORUM_BUILDDIR/lib";
trusted_plugin_keys = [ "$QUORUM_BUILDDIR/keys/plugin-dev.pub" ];
peer_link = { address = "127.0.0.1"; port = $UDP; };
authority = { radius_ns = 1000; kernel_status = false; };
clock = { shm = "clock"; };
authorities = ( { id = "solo"; address = "127.0.0.1"; port = $UDP; key = "node.pub"; } );
stages = ( { name = "convergence"; path = "stages/convergence.so"; },
           { name = "control"; path = "stages/control.so"; } );
transports = ( { name = "$1"; path = "transports/$1.so"; settings = { port = $PORT; $2 }; } );
END
}
TLS="tls_cert = \"$P/server.pem\"; tls_key = \"$P/server.key\";"
MTLS="$TLS tls_client_ca = \"$P/ca.pem\";"
TOK="bearer_token_files = [ \"token\" ];"
PROD="mode = \"production\";"
# refused TRANSPORT SETTINGS PATTERN: --check-config fails, and so does start, both saying
# PATTERN (the plugin's own reason).
refused() {
	local check_status start_status
	conf "$1" "$2"
	"$QUORUMD" --check-config --config "$W/node/quorum.conf" >"$W/check.log" 2>&1
	check_status=$?
	start_quorumd "$W/start.log" --config "$W/node/quorum.conf"
	wait_exit "$QPID" 10 || { kill -KILL "$QPID"; return 1; }
	start_status=$EXIT_STATUS
	if [ "$check_status" -eq 0 ] || [ "$start_status" -eq 0 ] ||
		! grep -Eq -- "$3" "$W/check.log" || ! grep -Eq -- "$3" "$W/start.log"; then
		diag "check exit $check_status, start exit $start_status; check said:" \
			"$(grep -E 'error|invalid' "$W/check.log" | head -3)"
		return 1
	fi
	diag "$1: $(grep -m1 -E -- "$3" "$W/check.log" | sed 's/.*event=//' | cut -c1-150)"
}

check "1 rest: production without TLS" refused rest "$PROD $TOK" "TLS|tls_cert"
check "2 rest: production without a client CA" refused rest "$PROD $TLS $TOK" "client|tls_client_ca"
check "3 rest: production without a bearer token" refused rest "$PROD $MTLS" "token"
check "4 rest: a certificate that is not the key's" \
	refused rest "tls_cert = \"$P/other.pem\"; tls_key = \"$P/server.key\";" "key|certificate"
check "5 rest: a missing certificate file" \
	refused rest "tls_cert = \"$P/none.pem\"; tls_key = \"$P/server.key\";" "none.pem"
check "6 rest: a missing key file" \
	refused rest "tls_cert = \"$P/server.pem\"; tls_key = \"$P/none.key\";" "none.key"
check "7 rest: a missing client CA file" refused rest "$TLS tls_client_ca = \"$P/none-ca.pem\";" \
	"none-ca.pem"
check "8 rest: a token file too short" refused rest "bearer_token_files = [ \"short-token\" ];" \
	"short-token|token"
check "9 rest: a missing token file" refused rest "bearer_token_files = [ \"no-token\" ];" \
	"no-token"
check "10 rest: cleartext on 0.0.0.0 in dev mode" refused rest "address = \"0.0.0.0\";" \
	"0\\.0\\.0\\.0|loopback|cleartext"
check "11 ws: production without TLS" refused ws "$PROD $TOK" "TLS|tls_cert"
check "12 ws: a token file too short" refused ws "bearer_token_files = [ \"short-token\" ];" \
	"short-token|token"
check "13 grpc: production without a bearer token" refused grpc "$PROD $MTLS" "token"
check "14 grpc: a certificate that is not the key's" \
	refused grpc "tls_cert = \"$P/other.pem\"; tls_key = \"$P/server.key\";" "key|certificate"

# A production configuration that starts passes the check.
conf rest "$PROD $MTLS $TOK max_body_bytes = 2048;"
check "a production configuration that starts passes --check-config" \
	eval '"$QUORUMD" --check-config --config "$W/node/quorum.conf" >"$W/good-check.log" 2>&1'
check "... printing REST's bound settings, configured or the table's default" \
	grep -qE "config.settings kind=transport name=rest address=\"127.0.0.1\" port=$PORT rate_limit=100 max_body_bytes=2048 attestation_cache_us=1000 tls_cert=\"[^\"]*/server.pem\" .* mode=\"production\" header_timeout_ms=10000 idle_timeout_s=60 defaults=address,rate_limit,attestation_cache_us,header_timeout_ms,idle_timeout_s\$" \
	"$W/good-check.log"
start_quorumd "$W/good.log" --config "$W/node/quorum.conf"
check "... and starts" wait_log "$W/good.log" "rest.listening" 10
kill -TERM "$QPID"
wait_exit "$QPID" 10
finish
