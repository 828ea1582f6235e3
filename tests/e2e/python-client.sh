#!/bin/bash
# python-client.sh -- the Python client (client/python/quorum_time) with /usr/bin/python3:
# installed with pip from client/python, its offline tests (a clock page torn by a writer
# process of the tests' own, the page trust rule, tampered signed answers, notes and proofs,
# real Ed25519 keys), then against a local quorum of 4 (scripts/local-quorum.sh; node-1 with
# REST and gRPC, node-2's REST over mutual TLS with a bearer token): the clock page read under the seqlock, with the C layout, agreeing with
# quorumctl time; REST and gRPC signed answers verified offline against node-1's key (and a
# tampered one refused, as quorumctl refuses it); the latest checkpoint, an inclusion proof
# of a record held and a consistency proof from an older checkpoint, verified as quorumctl
# verifies them; node-2 read with its token and a client certificate, and refused without
# them; and, the quorum lost, no time from the page, REST or gRPC. Speaks TAP.
. "$(dirname "$0")/lib.sh"

"$PYTHON" -c 'import cryptography.hazmat.primitives.asymmetric.ed25519' 2>/dev/null ||
	{ echo "1..0 # SKIP python3-cryptography is not installed"; exit 0; }
# grpcio is the client's one optional dependency: without it only the gRPC checks skip
HAVE_GRPC=1
"$PYTHON" -c 'import grpc' 2>/dev/null || HAVE_GRPC=
OFFLINE="TornPage PageEvaluation PageTrust SignedAnswers Checkpoints Proofs"
LIVE="test_page_layout_is_the_c_one test_clock_page_agrees_with_quorumctl
	test_rest_signed_answer_verifies_offline test_tampered_rest_attestation_refused
	test_grpc_signed_answers_verify_offline test_checkpoint_verifies_against_the_node_key_only
	test_inclusion_proof_of_a_record_held test_consistency_proof_from_an_older_checkpoint
	test_rest_over_mutual_tls_with_a_token"
plan $((1 + $(echo $OFFLINE | wc -w) + $(echo $LIVE | wc -w) + 1))

W=$SCRATCH
SRC=$QUORUM_SRCDIR/client/python
export PYTHONDONTWRITEBYTECODE=1 # nothing written into the source tree

# ---- pip install client/python (a copy: pip builds in place) ----
cp -r "$SRC" "$W/pysrc"
rm -rf "$W/pysrc/build" "$W/pysrc"/*.egg-info
"$PYTHON" -m pip install --no-build-isolation --no-deps --no-index --quiet \
	--target "$W/site" "$W/pysrc" >"$W/pip.out" 2>&1
rc=$?
sed 's/^/# /' "$W/pip.out"
export PYTHONPATH=$W/site
check "pip installs client/python (pyproject.toml) and the tests use the installed package" \
	eval '[ $rc -eq 0 ] && [ "$("$PYTHON" -c "import quorum_time; print(quorum_time.__file__)")" = "$W/site/quorum_time/__init__.py" ]'

# unit PYTHON-TEST-NAME...: runs those unittest tests of client/python/tests, their output as
# TAP comments.
unit() {
	(cd "$SRC/tests" && "$PYTHON" -m unittest -v "$@") >"$W/unit.out" 2>&1
	local rc=$?
	grep -E '^(# |ok$|FAIL|ERROR|Traceback|  File|AssertionError|[A-Za-z.]*Error)|\.\.\. ' "$W/unit.out" |
		sed 's/^/# /'
	return $rc
}
for class in $OFFLINE; do
	check "offline: $class" unit "test_offline.$class"
done

# ---- a local quorum; node-1 also serves gRPC ----
PORT=$(free_port) RPORT=$(free_port) GPORT=$(free_port)
bash "$QUORUM_SRCDIR/scripts/local-quorum.sh" --setup-only --dir "$W" --port "$PORT" \
	--interval-ms 250 --timeout-ms 100 --max-drift-ppm 500 --rest-port "$RPORT" \
	--builddir "$QUORUM_BUILDDIR" >/dev/null
sed -i "s|^transports = ( \(.*\) );\$|transports = ( \1, { name = \"grpc\"; path = \"transports/grpc.so\"; settings = { address = \"127.0.0.1\"; port = $GPORT; }; } );|" \
	"$W/node-1/quorum.conf"
# node-2's REST: HTTPS, client certificates from our CA only, and a bearer token
P=$W/pki
mkdir -p "$P"
for ca in ca other-ca; do
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
		-keyout "$P/$ca.key" -out "$P/$ca.pem" -subj "/CN=quorum test $ca" 2>/dev/null
done
for c in "server 127.0.0.2 IP:127.0.0.2" "client operator"; do
	set -- $c
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-keyout "$P/$1.key" -subj "/CN=$2" -out "$P/$1.csr" 2>/dev/null
	if [ -n "${3:-}" ]; then echo "subjectAltName=$3" >"$P/$1.ext"; else : >"$P/$1.ext"; fi
	openssl x509 -req -in "$P/$1.csr" -CA "$P/ca.pem" -CAkey "$P/ca.key" -CAcreateserial \
		-days 2 -extfile "$P/$1.ext" -out "$P/$1.pem" 2>/dev/null
done
head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$W/node-2/token"
echo >>"$W/node-2/token"
chmod 0600 "$W/node-2/token"
sed -i "s|rate_limit = 0; }|rate_limit = 0; tls_cert = \"$P/server.pem\"; tls_key = \"$P/server.key\"; tls_client_ca = \"$P/ca.pem\"; bearer_token_files = [ \"token\" ]; }|" \
	"$W/node-2/quorum.conf"
grep -q tls_client_ca "$W/node-2/quorum.conf" || { diag "node-2's REST settings were not changed"; exit 1; }
QT_GRPC_MISSING=1
[ -n "$HAVE_GRPC" ] && QT_GRPC_MISSING=0
export QT_GRPC_MISSING QT_DIR=$W QT_REST=http://127.0.0.1:$RPORT QT_GRPC=127.0.0.1:$GPORT QT_CTL=$CTL \
	QT_LAYOUT=$QUORUM_BUILDDIR/tests/tools/clock-page-layout \
	QT_REST_TLS=https://127.0.0.2:$RPORT QT_PKI=$P
for k in 1 2 3 4; do start_node "$k"; done
for k in 1 2 3 4; do wait_synced "$k" 20; done
wait_http "$QT_REST/v1/checkpoint" "^quorum-time/node-1" 20
wait_http "http://127.0.0.3:$RPORT/v1/checkpoint" "^quorum-time/node-3" 20
for t in $LIVE; do
	case $t:$HAVE_GRPC in
	*grpc*:) ok "quorum: ${t#test_} # SKIP python3-grpcio is not installed" ;;
	*) check "quorum: ${t#test_}" unit "test_quorum.Live.$t" ;;
	esac
done

# ---- the quorum lost ----
for k in 2 3 4; do stop_node "$k"; done
wait_unsynced 1 30
check "quorum lost: no time from node-1's page, REST (503) or gRPC (UNAVAILABLE)" \
	unit test_quorum.Lost
stop_node 1
finish
