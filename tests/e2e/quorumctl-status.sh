#!/bin/bash
# quorumctl-status.sh -- `quorumctl status` against a local quorum of 4 whose node-4 is a
# liar (tests/tools/liar): each authority with its state (node-4 an outlier 1 s off while it
# lies about the time; quarantined, and why, once it answers every question with sequence 1),
# the agreement and bound, mode and breaker, the latest
# checkpoint and its signature checked with the node key; --json valid against
# schemas/quorumctl-status.json; --watch, one JSON line a view or redrawn in place on a
# terminal; over HTTPS with mutual TLS and a bearer token (node-1), refused without them;
# unsynchronised once the quorum is lost (exit status 1); a node not there (exit status 2);
# a node whose answers carry terminal escape sequences (each control character shown as ?).
# Speaks TAP.
. "$(dirname "$0")/lib.sh"

"$PYTHON" -c 'import jsonschema' 2>/dev/null ||
	{ echo "1..0 # SKIP python3-jsonschema is not installed"; exit 0; }
plan 17

W=$SCRATCH
PORT=$(free_port) RPORT=$(free_port)
LIAR=$QUORUM_BUILDDIR/tests/tools/liar
VALIDATE="$PYTHON $QUORUM_SRCDIR/tests/tools/validate-json.py"
SCHEMA=$QUORUM_SRCDIR/schemas/quorumctl-status.json
bash "$QUORUM_SRCDIR/scripts/local-quorum.sh" --setup-only --dir "$W" --port "$PORT" \
	--interval-ms 250 --timeout-ms 100 --max-drift-ppm 500 --rest-port "$RPORT" \
	--builddir "$QUORUM_BUILDDIR" >/dev/null

# node-1's REST: HTTPS, client certificates from our CA only, and a bearer token
P=$W/pki
mkdir -p "$P"
mkcert() { # NAME SIGNER SUBJECT [SAN]
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-keyout "$P/$1.key" -subj "/CN=$3" -out "$P/$1.csr" 2>/dev/null
	if [ -n "${4:-}" ]; then echo "subjectAltName=$4" >"$P/$1.ext"; else : >"$P/$1.ext"; fi
	openssl x509 -req -in "$P/$1.csr" -CA "$P/$2.pem" -CAkey "$P/$2.key" -CAcreateserial \
		-days 2 -extfile "$P/$1.ext" -out "$P/$1.pem" 2>/dev/null
}
for ca in ca other-ca; do
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
		-keyout "$P/$ca.key" -out "$P/$ca.pem" -subj "/CN=quorum test $ca" 2>/dev/null
done
mkcert server ca 127.0.0.1 IP:127.0.0.1
mkcert client ca operator
TOKEN=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
printf '%s\n' "$TOKEN" >"$W/node-1/token" && chmod 0600 "$W/node-1/token"
cp "$W/node-1/token" "$W/token" && chmod 0600 "$W/token"
sed -i "s|rate_limit = 0; }|rate_limit = 0; tls_cert = \"$P/server.pem\"; tls_key = \"$P/server.key\"; tls_client_ca = \"$P/ca.pem\"; bearer_token_files = [ \"token\" ]; }|" \
	"$W/node-1/quorum.conf"
grep -q tls_client_ca "$W/node-1/quorum.conf" || { diag "node-1's REST settings were not changed"; exit 1; }

for k in 1 2 3; do start_node "$k"; done
# liar MODE: node-4 is a liar lying that way
liar() {
	[ -z "${LIAR_PID:-}" ] || { kill -TERM "$LIAR_PID" 2>/dev/null; wait "$LIAR_PID" 2>/dev/null; }
	"$LIAR" --id node-4 --key "$W/keys/node-4.key" --listen "127.0.0.4:$PORT" --mode "$1" \
		--offset-ns 1000000000 2>>"$W/liar.log" &
	LIAR_PID=$!
	PIDS="$PIDS $LIAR_PID"
}
liar offset
for k in 1 2 3; do wait_synced "$k" 20; done

N2=http://127.0.0.2:$RPORT
st() { "$CTL" status "$@" 2>"$W/st.err"; }
# node-2's view once node-4 has been judged by it
# wait_node4 PATTERN: until node-2's --json view of node-4 matches PATTERN (10 s)
wait_node4() {
	local i
	for i in $(seq 100); do
		st --url "$N2" --json | "$PYTHON" -c 'import json, sys
print(json.dumps([a for a in json.load(sys.stdin)["authorities"] if a["id"] == "node-4"][0], sort_keys=True))' >"$W/node4.json" 2>/dev/null
		grep -Eq "$1" "$W/node4.json" && return 0
		sleep 0.1
	done
	diag "node-4 as node-2 sees it: $(cat "$W/node4.json")"
	return 1
}
wait_node4 '"state": "outlier"'
# node-2's first checkpoint waits for its witnesses and a round log record: until it has one.
wait_http "$N2/v1/checkpoint" "quorum-time/node-2" 30 >/dev/null ||
	diag "node-2 signed no checkpoint within 30 s"
st --url "$N2" -v --node-key "$W/keys/node-2.pub" >"$W/text.out"
rc=$?
sed 's/^/# /' "$W/text.out"
check "status: node-2 synchronised, its mode and breaker, the agreement and its bound (exit 0)" \
	eval '[ $rc -eq 0 ] && grep -q "^Node       node-2 at $N2: synchronised$" "$W/text.out" &&
	grep -q "^Mode       QUORUM_ACTIVE, circuit breaker closed" "$W/text.out" &&
	grep -Eq "^Agreement  round [0-9]+, 3 of n=4 authorities inside \(f=1, needs 3\)" "$W/text.out" &&
	grep -Eq "^Interval   .*Z \.\. .*Z \(bound \+/- [0-9.]+[mun]?s\)$" "$W/text.out"'
SPAN='[-+][0-9.]+[mun]?s'
check "... each authority on a line: node-1 to node-3 accepted, with offset, interval and round trip" \
	eval '[ "$(grep -Ec "^\*   node-[123] +quorumd +[0-9]+ +$SPAN +$SPAN\.\.$SPAN +[0-9.]+[mun]?s " "$W/text.out")" -eq 3 ]'
check "... node-4, 1 s off, an outlier" \
	grep -Eq "^~   node-4 +quorumd +[0-9]+ +\+(1\.0[0-9][0-9]s|999\.[0-9]+ms) +$SPAN\.\.$SPAN +[0-9.]+[mun]?s +[0-9.]+[mun]?s +$" "$W/text.out"
check "... the latest checkpoint, its signature verified with node-2's key (-v: the legend)" \
	eval 'grep -Eq "^Checkpoint size [1-9][0-9]*, root [0-9a-f]{64}$" "$W/text.out" &&
	grep -Eq "signed by quorum-time/node-2 \(signature verified\), [0-9]+ cosignature\(s\)" "$W/text.out" &&
	grep -q "State: \* accepted" "$W/text.out"'

st --url "$N2" --json --node-key "$W/keys/node-2.pub" >"$W/view.json"
rc=$?
check "--json: one document valid against schemas/quorumctl-status.json" \
	eval '[ $rc -eq 0 ] && [ "$(wc -l <"$W/view.json")" -eq 1 ] && $VALIDATE "$SCHEMA" "$W/view.json"'
check "... saying what the text says: 4 authorities each in its interval, node-4 an outlier, 3 accepted, bound, checkpoint" \
	"$PYTHON" - "$W/view.json" <<'PY'
import json, sys
v = json.load(open(sys.argv[1]))
a = {x["id"]: x for x in v["authorities"]}
ag, cp = v["agreement"], v["checkpoint"]
ok = (v["node"] == "node-2" and v["status"] == "synchronised" and sorted(a) == ["node-1", "node-2", "node-3", "node-4"]
      and all(a["node-%d" % k]["state"] == "accepted" for k in (1, 2, 3))
      and a["node-4"]["state"] == "outlier" and abs(a["node-4"]["offset_ns"] - 1000000000) < 10000000
      and ag["accepted"] == 3 and ag["threshold"] == 3 and ag["n"] == 4 and ag["f"] == 1
      and 0 < ag["bound_ns"] < 1000000 and ag["earliest_ns"] <= ag["estimate_ns"] <= ag["latest_ns"]
      and cp["origin"] == "quorum-time/node-2" and cp["size"] > 0 and cp["signature_verified"] is True
      and v.get("mode") == "QUORUM_ACTIVE" and v["circuit_breaker"]["tripped"] is False
      and all(x["interval"]["earliest_offset_ns"] <= x["offset_ns"] <= x["interval"]["latest_offset_ns"]
              for x in a.values()))
print("# node-4:", a["node-4"], "bound_ns:", ag["bound_ns"])
sys.exit(0 if ok else 1)
PY
st --url "$N2" --json --node-key "$W/keys/node-3.pub" >"$W/wrongkey.json"
st --url "$N2" --node-key "$W/keys/node-3.pub" >"$W/wrongkey.out"
check "another node's key does not verify node-2's checkpoint (said in text and JSON)" \
	eval 'grep -q "\"signature_verified\":false" "$W/wrongkey.json" &&
	$VALIDATE "$SCHEMA" "$W/wrongkey.json" && grep -q "SIGNATURE NOT VALID" "$W/wrongkey.out"'

# ---- a node whose answers carry terminal escape sequences ----
FPORT=$(free_port)
"$PYTHON" - "$FPORT" >"$W/fake.log" 2>&1 <<'PY' &
import http.server, json, sys
status = {"node": "evil\u001b]0;pwned\u0007", "status": "unsynchronised", "n": 4, "f": 1,
          "accepted": 0, "round": 0, "agreement_age_ns": 0, "uncertainty_ms": 0,
          "mode": "M\u001b[31mRED\u009b0m",
          "authorities": [{"id": "a\u001b[2Jb", "type": "quorumd", "state": "rejected",
                           "round": 1, "offset_ns": 0, "rtt_ns": 0, "report_age_ns": 0,
                           "quarantined": False, "problem": "x\u009b31my\u007f"}]}
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps(status).encode() if self.path == "/v1/status" else b"none"
        self.send_response(200 if self.path == "/v1/status" else 404)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
PY
FAKE_PID=$!
PIDS="$PIDS $FAKE_PID"
wait_http "http://127.0.0.1:$FPORT/v1/status" evil 10
st --url "http://127.0.0.1:$FPORT" -v >"$W/fake.out"
rc=$?
st --url "http://127.0.0.1:$FPORT" --json >"$W/fake.json"
rcj=$?
kill -TERM "$FAKE_PID" 2>/dev/null
wait "$FAKE_PID" 2>/dev/null
sed 's/^/# /' "$W/fake.out" | tr -d '\033\007'
check "a node's escape sequences reach no terminal: each control character shown as ?" \
	eval '[ $rc -eq 1 ] && [ $rcj -eq 1 ] &&
	! LC_ALL=C grep -q $'"'"'[\x01-\x09\x0b-\x1f\x7f]\|\xc2[\x80-\x9f]'"'"' "$W/fake.out" &&
	! LC_ALL=C grep -q $'"'"'[\x01-\x09\x0b-\x1f]\|\xc2[\x80-\x9f]'"'"' "$W/fake.json" &&
	grep -q "^Node       evil?\]0;pwned? at " "$W/fake.out" &&
	grep -q "^Mode       M?\[31mRED??0m," "$W/fake.out" &&
	grep -q "^x   a?\[2Jb .*x??31my?$" "$W/fake.out" &&
	"$PYTHON" -c "import json, sys
v = json.load(open(sys.argv[1]))
sys.exit(0 if v[\"node\"] == \"evil\x1b]0;pwned\x07\" and v[\"authorities\"][0][\"problem\"] == \"x\x9b31my\x7f\" else 1)" "$W/fake.json"'

# ---- HTTPS, mutual TLS, bearer token (node-1) ----
N1=https://127.0.0.1:$RPORT
TLS=(--cacert "$P/ca.pem" --cert "$P/client.pem" --key "$P/client.key")
st --url "$N1" "${TLS[@]}" >/dev/null
rc=$?
check "node-1 without the token: exit 2, naming the 401 and --token-file" \
	eval '[ $rc -eq 2 ] && grep -q "401: the node wants a bearer token (--token-file FILE)" "$W/st.err"'
st --url "$N1" "${TLS[@]}" --token-file "$W/token" --json >"$W/n1.json"
rc=$?
check "... with it, over mutual TLS: node-1's view (exit 0, valid)" \
	eval '[ $rc -eq 0 ] && grep -q "\"node\":\"node-1\"" "$W/n1.json" && $VALIDATE "$SCHEMA" "$W/n1.json"'
st --url "$N1" --cacert "$P/other-ca.pem" --cert "$P/client.pem" --key "$P/client.key" \
	--token-file "$W/token" >/dev/null
rc1=$?
grep -q certificate "$W/st.err"
cert_named=$?
st --url "$N1" --cacert "$P/ca.pem" --token-file "$W/token" >/dev/null
rc2=$?
sed 's/^/# /' "$W/st.err"
check "a server certificate from another CA, or no client certificate, is refused (exit 2)" \
	eval '[ $rc1 -eq 2 ] && [ $cert_named -eq 0 ] && [ $rc2 -eq 2 ]'
printf '%s\nsecond-line-token-here\n' "$TOKEN" >"$W/two-lines" && chmod 0600 "$W/two-lines"
st --url "$N1" "${TLS[@]}" --token-file "$W/two-lines" >/dev/null
rc=$?
check "a token file holding more than one token is refused, naming it (exit 2)" \
	eval '[ $rc -eq 2 ] && grep -q "token file $W/two-lines must hold one token" "$W/st.err"'

# ---- --watch ----
st --url "$N2" --json --watch --interval 0.3 --count 3 >"$W/watch.json"
rc=$?
check "--watch --json --count 3: three valid lines, the rounds advancing" \
	eval '[ $rc -eq 0 ] && [ "$(wc -l <"$W/watch.json")" -eq 3 ] &&
	while read -r line; do printf "%s" "$line" | $VALIDATE "$SCHEMA" - || exit 1; done <"$W/watch.json" &&
	"$PYTHON" -c "import json, sys
r = [json.loads(l)[\"agreement\"][\"round\"] for l in open(sys.argv[1])]
sys.exit(0 if r[0] < r[1] < r[2] else 1)" "$W/watch.json"'
script -qec "$CTL status --url $N2 --watch --interval 0.3 --count 3" /dev/null >"$W/tty.out" 2>&1
rc=$?
check "--watch on a terminal redraws in place (cursor home, lines cleared, three views)" \
	eval '[ $rc -eq 0 ] && [ "$(grep -c "Node       node-2" "$W/tty.out")" -eq 3 ] &&
	[ "$(grep -o $'"'"'\033\[H'"'"' "$W/tty.out" | wc -l)" -ge 3 ] && grep -q $'"'"'\033\[J'"'"' "$W/tty.out"'

# ---- node-4 answers with sequence 1 every time: quarantined, and why ----
liar stale # stale sequences, and one sequence signed over different bytes: equivocation
wait_node4 '"quarantine_reason": "(stale_sequence|equivocation)", "quarantine_remaining_ns": [0-9]+, "quarantined": true'
st --url "$N2" >"$W/quarantine.out"
st --url "$N2" --json >"$W/quarantine.json"
grep node-4 "$W/quarantine.out" | sed 's/^/# /'
check "node-4 answering stale sequences: quarantined (Q), for how long more, and why; valid JSON" \
	eval 'grep -Eq "^[-x] Q node-4 +quorumd .*quarantined [0-9.]+m?s more: (stale_sequence|equivocation)$" "$W/quarantine.out" &&
	$VALIDATE "$SCHEMA" "$W/quarantine.json"'

# ---- the quorum lost ----
kill -TERM "$LIAR_PID" 2>/dev/null
stop_node 3
wait_unsynced 2 30
st --url "$N2" --json >"$W/lost.json"
rc=$?
check "quorum lost: unsynchronised (exit 1), no served interval, valid" \
	eval '[ $rc -eq 1 ] && grep -q "\"status\":\"unsynchronised\"" "$W/lost.json" &&
	! grep -q estimate_ns "$W/lost.json" && $VALIDATE "$SCHEMA" "$W/lost.json"'
for k in 1 2; do stop_node "$k"; done
st --url "$N2" >/dev/null
rc=$?
check "a node not there: exit 2, saying it could not connect" \
	eval '[ $rc -eq 2 ] && grep -q "cannot connect to 127.0.0.2 port $RPORT" "$W/st.err"'
finish
