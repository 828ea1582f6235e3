#!/bin/bash
# clockstep.sh -- CLOCK_REALTIME stepped by +1 h, then -1 h, under a running node (libfaketime
# steps node-1's system clock alone, CLOCK_MONOTONIC untouched; the other three nodes keep
# this machine's clock, which is true time here). Node-1's served time must stay correct:
# every bound it serves over REST contains true time, it keeps committing agreements (its own
# attestations, an hour off, are outliers to everyone), its shared page never goes
# backwards, and its passport stage still accepts its own rounds. The other nodes stay
# synchronised and correct. Needs libfaketime (Debian package faketime). Speaks TAP.
. "$(dirname "$0")/lib.sh"

plan 14

FAKETIME_LIB=
for f in /usr/lib/*/faketime/libfaketimeMT.so.1 /usr/lib/faketime/libfaketimeMT.so.1; do
	[ -f "$f" ] && FAKETIME_LIB=$f && break
done
if [ -z "$FAKETIME_LIB" ]; then
	for i in $(seq 14); do ok "# SKIP libfaketime is not installed (Debian package faketime)"; done
	exit 0
fi
W=$SCRATCH
PORT=$(free_port)
RPORT=$(free_port)
bash "$QUORUM_SRCDIR/scripts/local-quorum.sh" --setup-only --dir "$W" --port "$PORT" \
	--rest-port "$RPORT" --interval-ms 500 --max-error-ns 5000000 --max-drift-ppm 500 \
	--builddir "$QUORUM_BUILDDIR" >/dev/null
# Node-1's agreements are an hour away from its stepped system clock: the seed's ceiling on
# that distance (max_total_drift_ns, 1 h by default) is raised to 2 h for this test.
sed -i 's|hitl_step_ns = 0; }|hitl_step_ns = 0; max_total_drift_ns = 7200000000000L; }|' \
	"$W/node-1/quorum.conf"
echo "+0" >"$W/fake"


start_node 1 LD_PRELOAD="$FAKETIME_LIB" FAKETIME_TIMESTAMP_FILE="$W/fake" FAKETIME_NO_CACHE=1 \
	FAKETIME_DONT_FAKE_MONOTONIC=1 ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
for k in 2 3 4; do start_node "$k"; done
all=1
for k in 1 2 3 4; do wait_synced "$k" 10 || all=0; done
check "4 nodes agree (node-1 under libfaketime, its clock not yet stepped)" test "$all" -eq 1

# watch K SECONDS: samples node K's REST /v1/time?format=unix every 100 ms; prints
# "samples violations unsynchronised backwards": a violation is a bound that does not
# contain this machine's clock (true time here) read around the request.
watch() {
	"$PYTHON" - "http://127.0.0.$1:$RPORT/v1/time?format=unix" "$2" <<'PY'
import json, sys, time, urllib.request, urllib.error
url, seconds = sys.argv[1], float(sys.argv[2])
samples = violations = unsync = backwards = 0
last = None
end = time.monotonic() + seconds
while time.monotonic() < end:
    t0 = time.time_ns()
    try:
        body = json.load(urllib.request.urlopen(url, timeout=2))
    except urllib.error.HTTPError as e:
        unsync += e.code == 503
        time.sleep(0.1)
        continue
    t1 = time.time_ns()
    samples += 1
    if not (body["earliest_ns"] <= t1 and t0 <= body["latest_ns"]):
        violations += 1
        print("# violation: served [%d, %d], true time in [%d, %d]" % (body["earliest_ns"], body["latest_ns"], t0, t1), file=sys.stderr)
    served = body["unix_seconds"] * 10**9 + body["unix_nanos"]
    if last is not None and served < last:
        backwards += 1
    last = served
    time.sleep(0.1)
print(samples, violations, unsync, backwards)
PY
}
commits() { count_log "$W/node-1/quorumd.log" "event=clock.commit "; }

for step in +1h -1h; do
	echo "$step" >"$W/fake"
	before=$(commits)
	read -r samples violations unsync backwards < <(watch 1 6)
	diag "step $step: node-1 served $samples answers: $violations outside true time, $unsync unsynchronised (503), $backwards backwards"
	check "$step: node-1's served time always contains true time ($samples answers)" \
		test "$samples" -ge 20 -a "$violations" -eq 0
	check "$step: ... never goes backwards" test "$backwards" -eq 0
	check "$step: ... and node-1 stays synchronised (no 503)" test "$unsync" -eq 0
	# its system clock ahead by an hour: agreements are an hour behind it, and the other way
	sign=-; [ "$step" = -1h ] && sign=
	check "$step: node-1 keeps committing agreements ($sign 1 h from its system clock)" \
		eval 'test "$(commits)" -gt "$((before + 5))" &&
		tail -n 50 "$W/node-1/quorumd.log" | grep -Eq "event=clock.commit .* drift_ns=${sign}3(599|600)[0-9]{9} "'
	st=$(curl -sS --max-time 5 "http://127.0.0.2:$RPORT/v1/status" | "$PYTHON" -c '
import json, sys
a = [x for x in json.load(sys.stdin)["authorities"] if x["id"] == "node-1"][0]
print(a["state"], a["offset_ns"])')
	diag "$step: node-2's /v1/status says node-1 is: $st"
	check "$step: the others count node-1's answers, an hour off, as an outlier" \
		eval '[[ "$st" =~ ^outlier\ ${step:0:1}?3(599|600)[0-9]{9}$ ]] || [[ "$st" =~ ^outlier\ 3(599|600)[0-9]{9}$ ]]'
	read -r samples violations unsync backwards < <(watch 2 2)
	check "$step: node-2 stays synchronised and correct ($samples answers)" \
		test "$samples" -ge 5 -a "$violations" -eq 0 -a "$unsync" -eq 0
	echo "+0" >"$W/fake"
	sleep 1
done
# (relayed copies of the others' rounds are refused as replays: deduplication, not refusal)
check "node-1's own rounds were never refused by its passport stage" \
	test "$(count_log "$W/node-1/quorumd.log" "passport.reject plugin=passport reason=[a-z_]+ authority=node-1 ")" -eq 0
finish
