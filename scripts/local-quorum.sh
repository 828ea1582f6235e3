#!/bin/bash
# local-quorum.sh -- starts a local quorum of quorumd nodes on loopback (node-K listens on
# 127.0.0.K), each with its own generated Ed25519 key, state and configuration, waits until
# they agree on the time, and prints where to read it. Ctrl-C stops them all. A trust root
# key (keys/root.key) signs a passport per node (passports/node-K.json: its node key, may
# attest time), which every node's passport stage checks each event against.
#
# Usage: scripts/local-quorum.sh [--nodes N] [--dir DIR] [--port P] [--interval-ms MS]
#                                [--max-error-ns NS] [--max-drift-ppm PPM] [--timeout-ms MS]
#                                [--setup-only] [--hitl-step-ns NS] [--refusal-summary-s S]
#                                [--ntp-port P] [--nts-port P] [--rest-port P]
#                                [--builddir DIR]
#   --nodes N        quorum size (default 4: n = 3f+1 with f = 1)
#   --dir DIR        where keys, configs, state and logs go (default run/local-quorum)
#   --port P         peer-link UDP port on every 127.0.0.K (default 7101)
#   --ntp-port P     each node also serves NTP on 127.0.0.K:P (default 1123; 0: off, the
#                    default with --setup-only)
#   --nts-port P     each node also serves NTS-KE (RFC 8915) on 127.0.0.K:P and NTS on its
#                    NTP port (default 0: off; needs --ntp-port). A local CA is generated
#                    (keys/nts-ca.pem, its key keys/nts-ca.key) and signs each node's
#                    certificate (keys/node-K-nts.pem, SAN IP:127.0.0.K); the chrony
#                    configuration to use is written to chrony-nts.conf and printed
#   --rest-port P    each node also serves REST on 127.0.0.K:P (default 0: off)
#   --timeout-ms MS  how long a round waits for answers (default: a quarter of the interval)
#   --hitl-step-ns NS  hold agreements stepping a node's clock further than NS for an
#                    operator's approval (default 0: off)
#   --refusal-summary-s S  how often refused unauthenticated datagrams and requests are
#                    summarised in the log and the vault (default 60)
#   --setup-only     write keys and configurations, start nothing
# An operator key (keys/operator.key, with a passport that may issue control events) is
# generated too: every node obeys control events signed with it (quorumctl control ...
# --key DIR/keys/operator.key, posted to REST POST /v1/events).
#   --builddir DIR   the build tree with host/quorumd and lib/ (default: this checkout)
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
nodes=4 dir=run/local-quorum port=7101 ntp_port= interval_ms=1000 max_error_ns=1000000 max_drift_ppm=50
setup_only=0 builddir=$here rest_port=0 nts_port=0 timeout_ms= hitl_step_ns=0 refusal_summary_s=60
while [ $# -gt 0 ]; do
	case $1 in
	--nodes) nodes=$2; shift 2 ;;
	--dir) dir=$2; shift 2 ;;
	--port) port=$2; shift 2 ;;
	--interval-ms) interval_ms=$2; shift 2 ;;
	--max-error-ns) max_error_ns=$2; shift 2 ;;
	--max-drift-ppm) max_drift_ppm=$2; shift 2 ;;
	--setup-only) setup_only=1; shift ;;
	--ntp-port) ntp_port=$2; shift 2 ;;
	--nts-port) nts_port=$2; shift 2 ;;
	--rest-port) rest_port=$2; shift 2 ;;
	--timeout-ms) timeout_ms=$2; shift 2 ;;
	--hitl-step-ns) hitl_step_ns=$2; shift 2 ;;
	--refusal-summary-s) refusal_summary_s=$2; shift 2 ;;
	--builddir) builddir=$(cd "$2" && pwd); shift 2 ;;
	-h | --help) sed -n '2,/^[^#]/p' "$0" | grep '^#' | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "local-quorum.sh: unknown option $1" >&2; exit 2 ;;
	esac
done
if [ -z "$ntp_port" ]; then
	if [ "$setup_only" -eq 1 ]; then ntp_port=0; else ntp_port=1123; fi
fi
if [ "$nts_port" -ne 0 ] && [ "$ntp_port" -eq 0 ]; then
	echo "local-quorum.sh: --nts-port needs NTP: give --ntp-port too" >&2
	exit 2
fi
[ "$nodes" -ge 1 ] && [ "$nodes" -le 250 ] || { echo "local-quorum.sh: --nodes 1..250" >&2; exit 2; }
quorumd=$builddir/host/quorumd
for f in "$quorumd" "$builddir/tools/quorum-keygen" "$builddir/tools/quorumctl" \
	"$builddir/lib/stages/passport.so" "$builddir/lib/stages/convergence.so" \
	"$builddir/lib/stages/vault.so" "$builddir/lib/stages/merkle.so" \
	"$builddir/lib/stages/gossip.so" \
	"$builddir/keys/plugin-dev.pub"; do
	[ -e "$f" ] || { echo "local-quorum.sh: $f is missing: build first (./configure && make)" >&2; exit 1; }
done
mkdir -p "$dir/keys" "$dir/passports"
dir=$(cd "$dir" && pwd)

# ---- keys, passports and configurations ----
[ -f "$dir/keys/root.key" ] || "$builddir/tools/quorum-keygen" --out "$dir/keys/root" >/dev/null
for k in $(seq "$nodes"); do
	[ -f "$dir/keys/node-$k.key" ] ||
		"$builddir/tools/quorum-keygen" --out "$dir/keys/node-$k" >/dev/null
	# serial 1: a passport a node installed later by an update (its state) outranks it
	"$builddir/tools/quorumctl" passport create --root-key "$dir/keys/root.key" \
		--authority "node-$k" --serial 1 --key "$dir/keys/node-$k.pub" \
		--capability attest_time >"$dir/passports/node-$k.json"
done
[ -f "$dir/keys/operator.key" ] ||
	"$builddir/tools/quorum-keygen" --out "$dir/keys/operator" >/dev/null
# The operator's passport: its key may issue control events (the passport stage checks the
# capability, the control stage that the key is one of its operators).
"$builddir/tools/quorumctl" passport create --root-key "$dir/keys/root.key" \
	--authority operator --serial 1 --key "$dir/keys/operator.pub" \
	--capability control >"$dir/passports/operator.json"
# NTS: a local CA and, per node, a certificate for its address (chrony checks the SAN).
nts_cert() { # K
	local key=$dir/keys/node-$1-nts.key pem=$dir/keys/node-$1-nts.pem
	[ -f "$pem" ] && [ -f "$key" ] && return 0
	(umask 077 && openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$key" -out "$dir/keys/node-$1-nts.csr" -subj "/CN=127.0.0.$1") 2>/dev/null
	printf 'subjectAltName=IP:127.0.0.%s\n' "$1" >"$dir/keys/node-$1-nts.ext"
	openssl x509 -req -in "$dir/keys/node-$1-nts.csr" -CA "$dir/keys/nts-ca.pem" \
		-CAkey "$dir/keys/nts-ca.key" -CAcreateserial -days 365 \
		-extfile "$dir/keys/node-$1-nts.ext" -out "$pem" 2>/dev/null
	rm -f "$dir/keys/node-$1-nts.csr" "$dir/keys/node-$1-nts.ext"
}
if [ "$nts_port" -ne 0 ]; then
	command -v openssl >/dev/null ||
		{ echo "local-quorum.sh: --nts-port needs the openssl command" >&2; exit 1; }
	if [ ! -f "$dir/keys/nts-ca.pem" ] || [ ! -f "$dir/keys/nts-ca.key" ]; then
		(umask 077 && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
			-days 365 -keyout "$dir/keys/nts-ca.key" -out "$dir/keys/nts-ca.pem" \
			-subj "/CN=quorum local NTS CA") 2>/dev/null
		chmod 644 "$dir/keys/nts-ca.pem" # what clients trust: public
		rm -f "$dir"/keys/node-*-nts.pem # signed by a CA that is gone
	fi
	for k in $(seq "$nodes"); do
		nts_cert "$k" || { echo "local-quorum.sh: cannot make node-$k's NTS certificate" >&2; exit 1; }
	done
fi
authorities=
for k in $(seq "$nodes"); do
	authorities="$authorities${authorities:+,
}  { id = \"node-$k\"; address = \"127.0.0.$k\"; port = $port; key = \"$dir/keys/node-$k.pub\"; }"
done
for k in $(seq "$nodes"); do
	mkdir -p "$dir/node-$k"
	transports=
	nts=
	[ "$nts_port" -eq 0 ] ||
		nts=" nts = { port = $nts_port; cert = \"$dir/keys/node-$k-nts.pem\"; key = \"$dir/keys/node-$k-nts.key\"; state_dir = \"nts\"; };"
	[ "$ntp_port" -eq 0 ] ||
		transports="{ name = \"ntp\"; path = \"transports/ntp.so\"; settings = { address = \"127.0.0.$k\"; port = $ntp_port;$nts }; }"
	[ "$rest_port" -eq 0 ] ||
		transports="$transports${transports:+,
  }{ name = \"rest\"; path = \"transports/rest.so\"; settings = { address = \"127.0.0.$k\"; port = $rest_port; rate_limit = 0; }; }"
	cat >"$dir/node-$k/quorum.conf" <<EOF
# quorum.conf of node-$k of a local quorum of $nodes, written by scripts/local-quorum.sh.
node = {
  id = "node-$k";
  key = "$dir/keys/node-$k.key";
  state_dir = "state";
};
log = { level = "info"; refusal_summary_s = $refusal_summary_s; };
pidfile = "quorumd.pid";
plugin_dir = "$builddir/lib";
trusted_plugin_keys = [ "$builddir/keys/plugin-dev.pub" ];

peer_link = { address = "127.0.0.$k"; port = $port; };
# Every node of this demo reads the same machine clock, which is therefore true time here;
# a real authority keeps kernel_status = true and claims its reference's accuracy.
authority = { radius_ns = 1000; kernel_status = false; };
rounds = { interval_ms = $interval_ms; timeout_ms = ${timeout_ms:-$((interval_ms / 4))}; };
clock = { shm = "clock"; max_drift_ppm = $max_drift_ppm; max_error_ns = $max_error_ns; };

authorities = (
$authorities
);

stages = (
  { name = "passport"; path = "stages/passport.so";
    settings = { trust_root = "$dir/keys/root.pub"; passports = "$dir/passports"; state_dir = "passport"; }; },
  { name = "vault"; path = "stages/vault.so"; settings = { dir = "vault"; fsync = "batch"; }; },
  { name = "gossip"; path = "stages/gossip.so"; settings = { epoch_ms = $interval_ms; }; },
  { name = "merkle"; path = "stages/merkle.so"; settings = { dir = "merkle"; }; },
  { name = "convergence"; path = "stages/convergence.so"; },
  { name = "control"; path = "stages/control.so"; settings = { shared_state_file = "state/shared-state"; operators = ( { id = "operator"; public_key = "$dir/keys/operator.pub"; } ); hitl_step_ns = $hitl_step_ns; }; }
);
transports = ( $transports );
EOF
done
# What chrony needs to take NTS time from every node (printed below).
if [ "$nts_port" -ne 0 ]; then
	mkdir -p "$dir/chrony"
	chmod 700 "$dir/chrony"
	{
		echo "# chrony.conf: NTS (RFC 8915) from the local quorum under $dir"
		for k in $(seq "$nodes"); do
			echo "server 127.0.0.$k port $ntp_port nts ntsport $nts_port iburst minpoll -4 maxpoll -4"
		done
		echo "ntstrustedcerts $dir/keys/nts-ca.pem"
		echo "ntsdumpdir $dir/chrony"
		echo "cmdport 0"
		echo "pidfile $dir/chrony/chronyd.pid"
		echo "driftfile $dir/chrony/drift"
	} >"$dir/chrony-nts.conf"
fi
[ "$setup_only" -eq 0 ] || { echo "configurations written under $dir"; exit 0; }

# ---- start, wait for agreement, report ----
pids=()
stop_all() {
	trap - INT TERM EXIT
	for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
	for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap 'stop_all; exit 0' INT TERM
trap stop_all EXIT
for k in $(seq "$nodes"); do
	(cd "$dir/node-$k" && exec "$quorumd" --config quorum.conf 2>quorumd.log) &
	pids+=($!)
done
ctl=$builddir/tools/quorumctl
for i in $(seq 100); do
	synced=0
	for k in $(seq "$nodes"); do
		"$ctl" time --clock "$dir/node-$k/clock" >/dev/null 2>&1 && synced=$((synced + 1))
	done
	[ "$synced" -eq "$nodes" ] && break
	for pid in "${pids[@]}"; do
		kill -0 "$pid" 2>/dev/null || { echo "a node stopped; see $dir/node-*/quorumd.log" >&2; exit 1; }
	done
	sleep 0.1
done
f=$(( (nodes - 1) / 3 ))
echo
echo "A local quorum of $nodes nodes (n = $nodes, f = $f) is serving time: $synced of $nodes synchronised."
for k in $(seq "$nodes"); do
	echo "  node-$k  peer link 127.0.0.$k:$port  log $dir/node-$k/quorumd.log"
done
echo
echo "Read the time (and its error bound) from any node's shared-memory clock page:"
echo "  $ctl time --clock $dir/node-1/clock"
echo "  C programs: quorum_now() from <quorum/clock.h>, with QUORUM_CLOCK=$dir/node-1/clock"
echo "Ask a node for a signed attestation and check it offline:"
echo "  $ctl attest --peer 127.0.0.1:$port --out /tmp/answer.att"
echo "  $ctl verify --key $dir/keys/node-1.pub /tmp/answer.att"
[ "$ntp_port" -eq 0 ] || {
	echo "Each node serves NTP on 127.0.0.K:$ntp_port; ask one with chrony as a client:"
	echo "  chronyd -Q -u root -t 10 'server 127.0.0.1 port $ntp_port iburst minpoll -4 maxpoll -4'"
}
[ "$nts_port" -eq 0 ] || {
	echo "Each node serves NTS-KE on 127.0.0.K:$nts_port (certificates from $dir/keys/nts-ca.pem)"
	echo "and NTS on its NTP port; chrony as an NTS client, with $dir/chrony-nts.conf:"
	sed 's/^/    /' "$dir/chrony-nts.conf"
	echo "  chronyd -Q -u root -t 20 -f $dir/chrony-nts.conf   (one-shot; prints the offset)"
}
echo "Each node's passport (its key, signed by the trust root $dir/keys/root.key):"
echo "  $ctl passport verify --root $dir/keys/root.pub $dir/passports/node-1.json"
echo "Audit a node's vault (hash chain, Merkle tree, signed checkpoints) once the quorum is stopped:"
echo "  $ctl vault verify $dir/node-1/vault --node-key $dir/keys/node-1.pub"
echo "  $ctl vault dump $dir/node-1/vault"
echo
"$ctl" time --clock "$dir/node-1/clock" || true
echo
echo "Ctrl-C stops the quorum."
wait
