#!/bin/bash
# metrics.sh -- one /metrics for the whole node: a local quorum of 4 (NTP and NTS on each,
# REST on each) agrees; node-1's REST /metrics then holds the host's series (peer-link
# datagrams by kind, rounds by outcome, the bound's width, refusals by reason) and every
# plugin's (NTP answers per worker, NTS per worker, the vault's records and bytes, the
# merkle stage's checkpoints, gossip, the transports' connections), parses with
# python3-prometheus-client's parser, follows its naming conventions, counts the NTP
# requests we sent, and has every metric contrib/grafana/quorum-time.json queries.
# Speaks TAP.
. "$(dirname "$0")/lib.sh"

"$PYTHON" -c 'import prometheus_client.parser' 2>/dev/null ||
	{ echo "1..0 # SKIP python3-prometheus-client is not installed"; exit 0; }
command -v openssl >/dev/null || { echo "1..0 # SKIP no openssl command (NTS keys)"; exit 0; }
plan 7

W=$SCRATCH
PORT=$(free_port) RPORT=$(free_port) NPORT=$(free_port) KPORT=$(free_port)
CHECK="$PYTHON $QUORUM_SRCDIR/tests/tools/check-metrics.py"
PROBE="$PYTHON $QUORUM_SRCDIR/tests/tools/ntp-probe.py"
bash "$QUORUM_SRCDIR/scripts/local-quorum.sh" --setup-only --dir "$W" --port "$PORT" \
	--interval-ms 250 --timeout-ms 100 --max-drift-ppm 500 --rest-port "$RPORT" \
	--ntp-port "$NPORT" --nts-port "$KPORT" --builddir "$QUORUM_BUILDDIR" >/dev/null

for k in 1 2 3 4; do start_node "$k"; done
for k in 1 2 3 4; do wait_synced "$k" 20 || diag "node-$k is not synchronised"; done
URL=http://127.0.0.1:$RPORT/metrics

# 20 NTP requests, answered with the time
answered=$($PROBE flood 127.0.0.1 "$NPORT" 20 | "$PYTHON" -c 'import json,sys; print(json.load(sys.stdin)["time"])')
[ "${answered:-0}" -ge 1 ] 2>/dev/null || { diag "no NTP answer to our 20 requests"; answered=999999; }
# wait until node-1 has signed a checkpoint and its gossip stage counted an event (its own
# rounds, result="local": whole rounds are no longer forwarded, digests travel instead)
for i in $(seq 200); do
	http_get "$URL" >"$W/metrics.txt"
	grep -Eq '^quorum_merkle_checkpoints_total [1-9]' "$W/metrics.txt" &&
		grep -Eq '^quorum_gossip_events_total\{result="local"\} [1-9]' "$W/metrics.txt" && break
	sleep 0.1
done
sed 's/^/# /' "$W/metrics.txt" | grep -v '^# # ' | head -80

check "the exposition parses, every family quorum_*, counters _total, base units" \
	$CHECK "$W/metrics.txt"
$CHECK "$W/metrics.txt" >"$W/families.txt"
diag "$(grep -c samples "$W/families.txt") families, $(grep -Ec '^quorum_' "$W/metrics.txt") samples"
check "host: peer-link datagrams by kind, rounds accepted, the bound's width, refusals" \
	$CHECK "$W/metrics.txt" \
	'quorum_peer_datagrams_received_total{kind="time_request"}>=3' \
	'quorum_peer_datagrams_received_total{kind="time_response"}>=3' \
	'quorum_peer_datagrams_sent_total{kind="time_request"}>=3' \
	'quorum_peer_datagrams_received_total{kind="malformed"}>=0' \
	'quorum_rounds_total{outcome="accepted"}>=1' \
	'quorum_round_observations_total{result="used"}>=3' \
	'quorum_clock_bound_width_seconds>=0.000000001'
check "ntp: the $answered answered requests of ours, per worker; NTS series per worker" \
	$CHECK "$W/metrics.txt" \
	"quorum_ntp_answers_total{status=\"synchronised\"}>=$answered" \
	"quorum_ntp_answers_total{worker=\"0\",status=\"unsynchronised\"}>=0" \
	'quorum_ntp_kisses_total{code="RATE"}>=0' 'quorum_ntp_dropped_total>=0' \
	'quorum_nts_answers_total{worker="0",result="answered"}>=0'
check "vault records and bytes, merkle checkpoints, gossip" \
	$CHECK "$W/metrics.txt" \
	'quorum_vault_appended_records_total>=1' 'quorum_vault_appended_bytes_total>=100' \
	'quorum_vault_fsyncs_total>=1' 'quorum_vault_rounds_logged_total>=1' \
	'quorum_merkle_checkpoints_total>=1' 'quorum_merkle_checkpoint_tree_size>=1' \
	'quorum_gossip_events_total{result="local"}>=1'
check "transports: REST connections (this scrape's included), REST's own series kept" \
	$CHECK "$W/metrics.txt" \
	'quorum_transport_connections_accepted_total{transport="rest"}>=1' \
	'quorum_transport_connections_open{transport="rest"}>=1' \
	'quorum_rest_requests_total{route="metrics"}>=1' 'quorum_clock_synchronised==1'
check "contrib/grafana/quorum-time.json queries only metrics /metrics has" \
	$CHECK "$W/metrics.txt" --dashboard "$QUORUM_SRCDIR/contrib/grafana/quorum-time.json"
# a bad exposition is caught: the checker is no rubber stamp
printf '# TYPE quorum_x_total counter\nquorum_x_ms_total 1\nquorum_y{a="1"} x\n' >"$W/bad.txt"
check "the checker refuses a malformed exposition" eval "! $CHECK $W/bad.txt >/dev/null"
finish
