#!/bin/bash
# nts.sh -- Network Time Security (RFC 8915) in the NTP transport, against real clients:
# --check-config names a bad certificate or key; openssl s_client finds TLS 1.2 and a
# missing ALPN refused and malformed records answered with an Error record, and reads a
# valid exchange's records; chronyd (4.3, as an NTS client) one-shot and as a daemon gets
# authenticated time within our bound, and none with another CA; a restart and a SIGHUP
# that changes the settings keep every cookie valid (keys persisted 0600); a SIGHUP with
# the settings unchanged loads a new certificate without losing an NTP request, and one
# with a broken certificate is rejected. Then an on-path relay (tests/tools/nts-relay.py)
# alters the authenticator, the tag, the encrypted cookies, the timestamps or the Unique
# Identifier of every answer, or replays an old one: chronyd accepts no sample; altered
# requests are NAKed and counted as refusals, never logged one line each. Speaks TAP.
. "$(dirname "$0")/lib.sh"
plan 36

CHRONYD=$(command -v chronyd || echo /usr/sbin/chronyd)
CHRONYC=$(command -v chronyc || echo /usr/bin/chronyc)
PROBE="$PYTHON $QUORUM_SRCDIR/tests/tools/ntp-probe.py"
RELAY="$PYTHON $QUORUM_SRCDIR/tests/tools/nts-relay.py"
W=$SCRATCH
mkdir -p "$W/node" "$W/pki"
"$KEYGEN" --out "$W/node/node" >/dev/null
UDP=$(free_port)
NTPP=$(free_port)
KEP=$(free_port)
RELAYP=$(free_port)
HTTP=$(free_port)
field() { "$PYTHON" -c 'import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$1" "$2"; }

# ---- a local CA, a node certificate for IP 127.0.0.1, and a second CA with its own ----
ca() { # NAME SUBJECT
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
		-keyout "$W/pki/$1.key" -out "$W/pki/$1.pem" -subj "/CN=$2" 2>/dev/null
}
leaf() { # NAME CA
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$W/pki/$1.key" -out "$W/pki/$1.csr" -subj "/CN=127.0.0.1" 2>/dev/null
	printf 'subjectAltName=IP:127.0.0.1\n' >"$W/pki/san.cnf"
	openssl x509 -req -in "$W/pki/$1.csr" -CA "$W/pki/$2.pem" -CAkey "$W/pki/$2.key" \
		-CAcreateserial -days 2 -extfile "$W/pki/san.cnf" -out "$W/pki/$1.pem" 2>/dev/null
	chmod 600 "$W/pki/$1.key"
}
ca ca "quorum test CA"
ca other "another CA"
leaf node ca
leaf node-other other
cp "$W/pki/node.pem" "$W/node/nts.pem"
cp "$W/pki/node.key" "$W/node/nts.key"

nts_conf() { # EXTRA-NTS-SETTINGS
	cat >"$W/node/quorum.conf" <<END
node = { id = "solo"; key = "node.key"; state_dir = "state"; };
plugin_dir = "$QUORUM_BUILDDIR/lib";
trusted_plugin_keys = [ "$QUORUM_BUILDDIR/keys/plugin-dev.pub" ];
peer_link = { address = "127.0.0.1"; port = $UDP; };
authority = { radius_ns = 1000; kernel_status = false; };
rounds = { interval_ms = 200; timeout_ms = 50; };
clock = { shm = "clock"; };
log = { refusal_summary_s = 1; };
authorities = ( { id = "solo"; address = "127.0.0.1"; port = $UDP; key = "node.pub"; } );
stages = ( { name = "convergence"; path = "stages/convergence.so"; },
           { name = "control"; path = "stages/control.so"; } );
transports = (
  { name = "ntp"; path = "transports/ntp.so";
    settings = { port = $NTPP; rate_limit = 0; stats_interval_s = 1;
                 nts = { port = $KEP; cert = "nts.pem"; key = "nts.key"; $1 }; }; },
  { name = "rest"; path = "transports/rest.so"; settings = { port = $HTTP; rate_limit = 0; }; }
);
END
}
METRICS=http://127.0.0.1:$HTTP/metrics

# ---- --check-config checks the certificate and the key ----
check_config() { (cd "$W/node" && "$QUORUMD" --config quorum.conf --check-config) >"$W/check.out" 2>&1; }
nts_conf ""
sed -i 's/cert = "nts.pem"/cert = "missing.pem"/' "$W/node/quorum.conf"
check "--check-config refuses a missing certificate, naming it" \
	eval "! check_config && grep -q 'nts.certificate_refused file=$W/node/missing.pem' '$W/check.out'"
nts_conf ""
sed -i 's/key = "nts.key"/key = "other.key"/' "$W/node/quorum.conf"
cp "$W/pki/node-other.key" "$W/node/other.key"
check "--check-config refuses a key that is not the certificate's, naming both" \
	eval "! check_config && grep -q 'nts.key_refused file=$W/node/other.key certificate=$W/node/nts.pem' '$W/check.out'"
nts_conf ""
check "--check-config accepts the pair" check_config

# ---- a synchronised one-node quorum serving NTS ----
start_quorumd "$W/node.log" --config "$W/node/quorum.conf"
wait_log "$W/node.log" "nts.listening address=127.0.0.1 port=$KEP ntp_port=$NTPP" 10 >/dev/null
for i in $(seq 50); do "$CTL" time --clock "$W/node/clock" >/dev/null 2>&1 && break; sleep 0.1; done
check "the master key file is made with mode 0600 in a 0700 folder" \
	eval "[ \$(stat -c %a '$W/node/nts/nts-keys') = 600 ] && [ \$(stat -c %a '$W/node/nts') = 700 ]"
KEY_ID=$(sed -n 's/.*nts.keys rotated=1 key_id=\([0-9a-f]*\).*/\1/p' "$W/node.log" | head -1)

# ---- openssl s_client ----
sclient() { timeout 10 openssl s_client -connect "127.0.0.1:$KEP" -CAfile "$W/pki/ca.pem" "$@" </dev/null 2>&1; }
check "s_client: TLS 1.2 is refused" eval "sclient -tls1_2 -alpn ntske/1 | grep -q 'alert protocol version'"
check "s_client: a handshake without ALPN is refused (no_application_protocol)" \
	eval "sclient | grep -q 'alert no application protocol'"
check "s_client: TLS 1.3 with ALPN ntske/1 is accepted" \
	eval "sclient -alpn ntske/1 | grep -q 'ALPN protocol: ntske/1'"
# ke_exchange HEX: sends the records HEX, prints the server's answer as hex.
ke_exchange() {
	printf "$(printf '%s' "$1" | sed 's/ //g; s/../\\x&/g')" |
		timeout 10 openssl s_client -connect "127.0.0.1:$KEP" -CAfile "$W/pki/ca.pem" \
			-alpn ntske/1 -quiet -ign_eof 2>/dev/null | od -An -tx1 | tr -d ' \n'
}
check "a record of unknown type with the critical bit: Error 0 (unrecognized critical record)" \
	test "$(ke_exchange '8001 0002 0000 c123 0000 8004 0002 000f 8000 0000')" = 80020002000080000000
check "a malformed request (Next Protocol of odd length): Error 1 (bad request)" \
	test "$(ke_exchange '8001 0003 000000 8004 0002 000f 8000 0000')" = 80020002000180000000
answer=$(ke_exchange '8001 0002 0000 8004 0002 000f 8000 0000')
check "a valid request: NTPv4, AES-SIV-CMAC-256, our NTP port, 8 cookies, End of Message" \
	"$PYTHON" -c '
import struct, sys
b = bytes.fromhex(sys.argv[1]); pos = 0; recs = []
while pos + 4 <= len(b):
    t, l = struct.unpack("!HH", b[pos:pos + 4]); recs.append((t, b[pos + 4:pos + 4 + l])); pos += 4 + l
types = [t & 0x7fff for t, _ in recs]
ok = (recs[0] == (0x8001, b"\0\0") and recs[1] == (0x8004, b"\0\x0f") and
      (0x8007, struct.pack("!H", int(sys.argv[2]))) in recs and types.count(5) == 8 and
      all(len(v) == 100 for t, v in recs if t & 0x7fff == 5) and recs[-1] == (0x8000, b"") and pos == len(b))
print("# records:", types); sys.exit(0 if ok else 1)' "$answer" "$NTPP"

# ---- chronyd as an NTS client, one-shot ----
chrony_conf() { # DIR CA PORT: a client of ours through NTS, never touching the clock
	rm -rf "$1"
	mkdir -m 700 "$1"
	cat >"$1/chrony.conf" <<END
server 127.0.0.1 port $3 nts ntsport $KEP iburst minpoll -4 maxpoll -4
ntstrustedcerts $2
ntsdumpdir $1
cmdport 0
bindcmdaddress $1/chronyd.sock
pidfile $1/chronyd.pid
driftfile $1/drift
END
}
oneshot() { # DIR CA SECONDS: the offset chronyd -Q measured, or nothing
	chrony_conf "$1" "$2" "$NTPP"
	timeout 30 "$CHRONYD" -Q -u root -t "$3" -f "$1/chrony.conf" >"$1/out" 2>&1
	sed -n 's/.*System clock wrong by \([-0-9.]*\) seconds.*/\1/p' "$1/out"
}
offset=$(oneshot "$W/c1" "$W/pki/ca.pem" 10)
bound=$(field "$($PROBE time 127.0.0.1 "$NTPP")" root_dispersion_ns)
diag "chronyd -Q (NTS) measured offset ${offset:-none} s; our bound $bound ns"
check "chronyd -Q over NTS gets our time; its offset is within our advertised bound" \
	"$PYTHON" -c 'import sys; sys.exit(0 if sys.argv[1] and abs(float(sys.argv[1])) * 1e9 <= float(sys.argv[2]) else 1)' "${offset:-}" "$bound"
offset=$(oneshot "$W/c2" "$W/pki/other.pem" 4)
check "chronyd trusting another CA gets no time (NTS never falls back to plain NTP)" \
	eval "[ -z '$offset' ] && grep -q 'TLS handshake with 127.0.0.1:$KEP .* failed' '$W/c2/out'"

# ---- chronyd as a daemon ----
chrony_conf "$W/d" "$W/pki/ca.pem" "$NTPP"
"$CHRONYD" -x -u root -f "$W/d/chrony.conf" -l "$W/d/chronyd.log"
PIDS="$PIDS $(cat "$W/d/chronyd.pid" 2>/dev/null)"
cc() { "$CHRONYC" -h "$W/d/chronyd.sock" -n "$@" 2>/dev/null; }
ntpdata() { cc ntpdata | awk -v k="$1" -F' *: *' '$1 == k { print $2 }'; }
for i in $(seq 100); do cc sources | grep -q '^\^\*' && break; sleep 0.1; done
diag "$(cc sources | tail -1)" "$(cc authdata | tail -1)"
check "chronyd (daemon) selects us as its source, authenticated by NTS with 8 cookies" \
	eval "cc sources | grep -q '^\^\* 127.0.0.1' && cc authdata | grep -Eq '^127.0.0.1 +NTS +1 +15 +256 .* 8 +100\$' && [ \"\$(ntpdata Authenticated)\" = Yes ]"
last=$(cc tracking | sed -n 's/^Last offset *: \([-+0-9.]*\) seconds/\1/p')
diag "chronyd (daemon) last offset ${last:-none} s; our bound $bound ns"
check "chronyd's (daemon) last offset lies within our bound" \
	"$PYTHON" -c 'import sys; sys.exit(0 if sys.argv[1] and abs(float(sys.argv[1])) * 1e9 <= float(sys.argv[2]) else 1)' "${last:-}" "$bound"

# ---- a restart keeps the master keys: the daemon's cookies stay valid ----
# chronyd polls 16 times a second and spends a cookie on each request: were it to go on
# polling while the node restarts (half a second or more on a busy machine), it would run
# out of cookies and make a new NTS-KE, and the check below would prove nothing. Offline,
# it keeps its cookies for the restarted node.
cc offline >/dev/null
kill -TERM "$QPID"
wait_exit "$QPID" 10
valid=$(ntpdata 'Total valid RX')
start_quorumd "$W/node.log.2" --config "$W/node/quorum.conf"
wait_log "$W/node.log.2" "nts.listening" 10 >/dev/null
cc online >/dev/null
for i in $(seq 60); do [ "$(ntpdata 'Total valid RX')" -gt $((valid + 8)) ] && break; sleep 0.1; done
diag "after the restart: $(cc authdata | tail -1); valid answers $valid -> $(ntpdata 'Total valid RX')"
check "after a restart the daemon's cookies still open: valid answers, no NAK, no new NTS-KE" \
	eval "[ \$(ntpdata 'Total valid RX') -gt $((valid + 8)) ] && cc authdata | grep -Eq '^127.0.0.1 +NTS +1 +15 +256 +[0-9]+ +0 +0 ' && grep -q 'nts.keys loaded=1 key_id=$KEY_ID' '$W/node.log.2'"

# ---- SIGHUP, settings unchanged: a new certificate, no NTP request lost ----
cp "$W/pki/node-other.pem" "$W/node/nts.pem"
cp "$W/pki/node-other.key" "$W/node/nts.key"
$PROBE steady 127.0.0.1 "$NTPP" 3 >"$W/steady.json" &
steady=$!
sleep 1
kill -HUP "$QPID"
wait "$steady"
check "SIGHUP with the settings unchanged reloads the certificate (reload.done refreshed=1)" \
	wait_log "$W/node.log.2" "reload.done generation=2 .*refreshed=1" 5
check "NTS-KE presents the new certificate at once" \
	eval "timeout 10 openssl s_client -connect 127.0.0.1:$KEP -alpn ntske/1 -CAfile '$W/pki/other.pem' </dev/null 2>&1 | grep -q 'Verify return code: 0 (ok)'"
diag "NTP requests across the SIGHUP: $(cat "$W/steady.json")"
check "no NTP request was lost across that SIGHUP" \
	eval "[ \"\$(field \"\$(cat '$W/steady.json')\" lost)\" = 0 ] && [ \"\$(field \"\$(cat '$W/steady.json')\" answered)\" -gt 10 ]"
echo "not a certificate" >"$W/node/nts.pem"
kill -HUP "$QPID"
check "a SIGHUP with a broken certificate is rejected, naming the file" \
	wait_log "$W/node.log.2" "reload.rejected generation=2 kept=1 .*could not read its files again" 5
check "and the certificate already loaded is still served" \
	eval "timeout 10 openssl s_client -connect 127.0.0.1:$KEP -alpn ntske/1 -CAfile '$W/pki/other.pem' </dev/null 2>&1 | grep -q 'Verify return code: 0 (ok)'"
cp "$W/pki/node.pem" "$W/node/nts.pem"
cp "$W/pki/node.key" "$W/node/nts.key"

# ---- SIGHUP changing the settings: a fresh instance with the same keys; NTP to a relay ----
nts_conf "ntp_port = $RELAYP;"
kill -HUP "$QPID"
check "a settings change starts a fresh instance advertising the relay's port, same keys" \
	eval "wait_log '$W/node.log.2' 'nts.listening address=127.0.0.1 port=$KEP ntp_port=$RELAYP ntp_server=- key_id=$KEY_ID' 5"
valid=$(ntpdata 'Total valid RX')
for i in $(seq 60); do [ "$(ntpdata 'Total valid RX')" -gt $((valid + 8)) ] && break; sleep 0.1; done
check "the daemon's cookies are still valid with the fresh instance" \
	eval "[ \$(ntpdata 'Total valid RX') -gt $((valid + 8)) ] && cc authdata | grep -Eq '^127.0.0.1 +NTS +1 +15 +256 +[0-9]+ +0 +0 '"
kill -TERM "$(cat "$W/d/chronyd.pid")"

# ---- the on-path relay ----
MODE=$W/relay.mode
$RELAY 127.0.0.1 "$RELAYP" 127.0.0.1 "$NTPP" "$MODE" &
PIDS="$PIDS $!"
echo pass >"$MODE"
relay_oneshot() { # DIR: chronyd -Q through the relay (NTS-KE tells it the relay's port)
	chrony_conf "$1" "$W/pki/ca.pem" "$RELAYP"
	timeout 30 "$CHRONYD" -Q -u root -t "$2" -f "$1/chrony.conf" >"$1/out" 2>&1
	sed -n 's/.*System clock wrong by \([-0-9.]*\) seconds.*/\1/p' "$1/out"
}
offset=$(relay_oneshot "$W/r-pass" 10)
check "through the relay unchanged, chronyd gets authenticated time" test -n "$offset"
altered() { "$PYTHON" -c 'import json,sys; print(json.load(open(sys.argv[1])).get(sys.argv[2], 0))' "$MODE.counts" "$1"; }
for mode in authenticator tag encrypted cookie timestamps uid replay; do
	echo "$mode" >"$MODE"
	offset=$(relay_oneshot "$W/r-$mode" 3)
	diag "$mode: $(altered "$mode") answers altered; chronyd: ${offset:-no sample}"
	what="answers with their $mode altered"
	[ "$mode" = replay ] && what="an old answer replayed to each request"
	check "$what: chronyd accepts no sample" \
		eval "[ -z '$offset' ] && [ \$(altered $mode) -gt 0 ]"
done
for mode in request-cookie request-authenticator; do
	echo "$mode" >"$MODE"
	reason=nts_bad_${mode#request-}
	before=$(refusal_count "$METRICS" ntp "$reason")
	offset=$(relay_oneshot "$W/r-$mode" 3)
	check "requests with their ${mode#request-} altered are NAKed: no sample, counted ($reason)" \
		eval "[ -z '$offset' ] && [ \$(altered $mode) -gt 0 ] && wait_refusals '$METRICS' ntp $reason $((before + 1))"
done
echo pass >"$MODE"
sclient -tls1_2 -alpn ntske/1 >/dev/null
sclient >/dev/null
ke_exchange '8004 0002 000f 8000 0000' >/dev/null
check "failed TLS handshakes and bad NTS-KE requests are counted as refusals" \
	eval "wait_refusals '$METRICS' ntp ntske_handshake_failed 2 && wait_refusals '$METRICS' ntp ntske_bad_request 1"
# 300 forged NTS requests (random cookies): NAKed, counted, summarised, not logged each.
# Paced (1 ms apart): a burst overflows the socket's queue on a busy machine, and every
# one must arrive for the count to be exact.
before=$(refusal_count "$METRICS" ntp nts_bad_cookie)
lines=$(grep -c 'nts_bad_cookie' "$W/node.log.2")
"$PYTHON" - "$NTPP" <<'PY'
import os, socket, struct, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for _ in range(300):
    time.sleep(0.001)
    pkt = bytes([0x23]) + bytes(47)
    pkt += struct.pack("!HH", 0x0104, 36) + os.urandom(32)
    pkt += struct.pack("!HH", 0x0204, 104) + os.urandom(100)
    pkt += struct.pack("!HHHH", 0x0404, 40, 16, 16) + os.urandom(32)
    s.sendto(pkt, ("127.0.0.1", int(sys.argv[1])))
PY
check "forged NTS requests are counted as refusals (nts_bad_cookie)" \
	wait_refusals "$METRICS" ntp nts_bad_cookie $((before + 300))
sleep 1.2
check "and summarised, not logged one line each" \
	eval "[ \$(( \$(grep -c 'nts_bad_cookie' '$W/node.log.2') - $lines )) -le 3 ]"

kill -TERM "$QPID"
wait_exit "$QPID" 10
check "the node stops cleanly (NTS-KE thread joined)" test "$EXIT_STATUS" = 0
finish
