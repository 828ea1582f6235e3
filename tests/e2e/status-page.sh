#!/bin/bash
# status-page.sh -- REST's status page in headless Chromium, driven over the DevTools
# protocol (tests/tools/status-page.py, python3-websockets), against a local quorum of 4
# whose node-4 is a liar 1 s ahead (tests/tools/liar): node-1's page names the 4
# authorities and draws their 4 intervals against the agreement, node-4's marked an outlier
# in words, updates within 3 s of a new agreement, shows the witnessed checkpoint and works
# with the keyboard alone; node-2 has a bearer token, typed into the page and kept out of
# every URL and storage; with node-3 and the liar stopped the page says "unsynchronised";
# the browser logs no error. Screenshots are kept beside this script (status-page.png and
# status-page-unsynchronised.png). Skipped without Chromium. Speaks TAP.
. "$(dirname "$0")/lib.sh"

CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
[ -x "$CHROMIUM" ] || {
	echo "1..0 # SKIP $CHROMIUM is not installed (Debian: apt-get install chromium)"
	exit 0
}
"$PYTHON" -c 'import websockets' 2>/dev/null ||
	{ echo "1..0 # SKIP python3-websockets is not installed"; exit 0; }
plan 13

W=$SCRATCH
PORT=$(free_port) RPORT=$(free_port)
SHOT=$QUORUM_BUILDDIR/tests/e2e/status-page.png
PAGE_DIR=$QUORUM_SRCDIR/plugins/transports/rest/page
bash "$QUORUM_SRCDIR/scripts/local-quorum.sh" --setup-only --dir "$W" --port "$PORT" \
	--max-drift-ppm 500 --rest-port "$RPORT" --builddir "$QUORUM_BUILDDIR" >/dev/null
# every node serves the page from the source tree; node-2 asks for a bearer token
sed -i "s|rate_limit = 0; }|rate_limit = 0; page_dir = \"$PAGE_DIR\"; }|" "$W"/node-*/quorum.conf
TOKEN=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
printf '%s\n' "$TOKEN" >"$W/node-2/token" && chmod 0600 "$W/node-2/token"
sed -i 's|page_dir = \([^;]*\); }|page_dir = \1; bearer_token_files = [ "token" ]; }|' \
	"$W/node-2/quorum.conf"
grep -q 'bearer_token_files' "$W/node-2/quorum.conf" || { diag "node-2's REST settings were not changed"; exit 1; }

# Chromium in a process group of its own, ended with the nodes whatever happens
CHROME_PID=
stop_chromium() {
	[ -n "$CHROME_PID" ] || return 0
	kill -TERM -- "-$CHROME_PID" 2>/dev/null
	wait "$CHROME_PID" 2>/dev/null
	kill -KILL -- "-$CHROME_PID" 2>/dev/null
	CHROME_PID=
}
trap 'stop_chromium; cleanup' EXIT

for k in 1 2 3; do start_node "$k"; done
"$QUORUM_BUILDDIR/tests/tools/liar" --id node-4 --key "$W/keys/node-4.key" \
	--listen "127.0.0.4:$PORT" --mode offset --offset-ns 1000000000 2>>"$W/liar.log" &
LIAR_PID=$!
PIDS="$PIDS $LIAR_PID"
for k in 1 2 3; do wait_synced "$k" 20 || diag "node-$k not synchronised within 20 s"; done
# node-1's view once it has judged node-4
wait_http "http://127.0.0.1:$RPORT/v1/status" '"id":"node-4","type":"quorumd","state":"outlier"' 20 >/dev/null ||
	diag "node-1 did not judge node-4 an outlier within 20 s"
N1=http://127.0.0.1:$RPORT N2=http://127.0.0.2:$RPORT

page_headers=$(curl -sS -D - -o "$W/page.html" --max-time 5 "$N2/")
check "/ on node-2 (token configured) is the page without the token, with a strict CSP" \
	eval 'grep -q "^HTTP/1.1 200" <<<"$page_headers" &&
	grep -qi "^Content-Type: text/html" <<<"$page_headers" &&
	grep -qi "^Content-Security-Policy: default-src '"'"'none'"'"'; script-src '"'"'self'"'"'" <<<"$page_headers" &&
	cmp -s "$W/page.html" "$PAGE_DIR/index.html"'
check "... so are status.js, status.css and status-page.json; /v1/status and /metrics still need it" \
	eval 'cmp -s <(http_get "$N2/status.js") "$PAGE_DIR/status.js" &&
	cmp -s <(http_get "$N2/status.css") "$PAGE_DIR/status.css" &&
	[ "$(http_get "$N2/status-page.json")" = "{\"bearer_token\":true}" ] &&
	[ "$(http_get -o /dev/null -w "%{http_code}" "$N2/v1/status")" = 401 ] &&
	[ "$(http_get -o /dev/null -w "%{http_code}" "$N2/metrics")" = 401 ]'
http_get "$N1/v1/status" >"$W/status.json"
check "node-1's /v1/status validates against schemas/status.json: 4 intervals, node-4's 1 s off" \
	"$PYTHON" - "$QUORUM_SRCDIR/schemas/status.json" "$W/status.json" <<'PY'
import json, sys, jsonschema
schema, s = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
jsonschema.validate(s, schema)
ri, a = s["round_intervals"], {x["id"]: x for x in s["authorities"]}
iv = {k: x["interval"] for k, x in a.items() if "interval" in x}
ag = ri["agreement"]
print("# round_intervals", ri, "intervals", iv)
inside = lambda i: (i["earliest_offset_ns"] <= ag["authorities_latest_offset_ns"] and
                    i["latest_offset_ns"] >= ag["authorities_earliest_offset_ns"])
ok = (ri["agreed"] and ri["origin"] == "agreement" and sorted(iv) == ["node-%d" % k for k in (1, 2, 3, 4)]
      and ag["earliest_offset_ns"] <= 0 <= ag["latest_offset_ns"]
      and all(i["earliest_offset_ns"] <= i["estimate_offset_ns"] <= i["latest_offset_ns"] for i in iv.values())
      and all(inside(iv["node-%d" % k]) and a["node-%d" % k]["state"] == "accepted" for k in (1, 2, 3))
      and not inside(iv["node-4"]) and a["node-4"]["state"] == "outlier"
      and abs(iv["node-4"]["estimate_offset_ns"] - 1000000000) < 50000000
      and s["error_bound_ns"] > 0 and s["time_iso8601"].endswith("Z"))
sys.exit(0 if ok else 1)
PY
# the page shows the witnessed checkpoint: wait for node-1's first one
wait_http "$N1/v1/checkpoint" "/witness " 30 >/dev/null ||
	diag "node-1 published no witnessed checkpoint within 30 s"

mkdir -m 700 "$W/chromium"
setsid "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
	--disable-background-networking --disable-component-update --disable-sync \
	--user-data-dir="$W/chromium" --remote-debugging-port=0 about:blank \
	>"$W/chromium.log" 2>&1 &
CHROME_PID=$!
for i in $(seq 300); do [ -s "$W/chromium/DevToolsActivePort" ] && break; sleep 0.1; done
[ -s "$W/chromium/DevToolsActivePort" ] || diag "Chromium wrote no DevToolsActivePort: $(tail -3 "$W/chromium.log")"
rm -f "$SHOT" "${SHOT%.png}-unsynchronised.png"
"$PYTHON" "$QUORUM_SRCDIR/tests/tools/status-page.py" --devtools "$W/chromium/DevToolsActivePort" \
	--url1 "$N1" --url2 "$N2" --token-file "$W/node-2/token" --screenshot "$SHOT" \
	--stop-pids "${NODE_PID[3]}" "$LIAR_PID" >"$W/driver.out" 2>&1
while IFS= read -r line; do
	case $line in
	"ok - "*) ok "${line#ok - }" ;;
	"not ok - "*) not_ok "${line#not ok - }" ;;
	*) echo "# $line" ;;
	esac
done <"$W/driver.out"
stop_chromium
check "screenshots kept: $(basename "$SHOT") and its unsynchronised twin are PNG images" \
	eval '[ "$(head -c 8 "$SHOT" | od -An -tx1 | tr -d " ")" = 89504e470d0a1a0a ] &&
	[ "$(head -c 8 "${SHOT%.png}-unsynchronised.png" | od -An -tx1 | tr -d " ")" = 89504e470d0a1a0a ]'
finish
