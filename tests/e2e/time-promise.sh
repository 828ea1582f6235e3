#!/bin/bash
# time-promise.sh -- the promise of docs/time-core.md checked at every commit: true time (this
# machine's clock, which every node and source shares) lies in each agreement a node commits,
# at the agreement's reference instant, whatever the NTP sources say, and one imprecise
# authority stops nobody. A local quorum of 4, then:
#   - one NTP source 10 us fast claiming no dispersion (tests/tools/liar --protocol ntp):
#     alone it has no fault budget, so it narrows nothing;
#   - 7 NTP sources, 2 of them such liars: within the NTP sources' own budget (f = 2), so the
#     5 honest ones narrow and no agreement excludes true time;
#   - node-4 replaced by an authority whose answers are imprecise, not false: radius 1.5 s,
#     midpoint 1.2 s off (its interval still holds true time): refused as radius_exceeded
#     by default, and with max_radius_ns raised the others still agree (the skew check
#     leaves out the f most extreme midpoints), for 60 s;
#   - node-3 and node-4 a second off together (f + 1): no agreement, and /v1/status names
#     them as the sources that kept the round from one. Speaks TAP.
# The nodes serve time with a 20 ms error budget: on a loaded machine (make -j check under
# ASan) loopback round trips of a few milliseconds widen the agreements past the default
# 1 ms, which would make a node unsynchronised for a reason that is not the one tested.
. "$(dirname "$0")/lib.sh"

plan 12

W=$SCRATCH
PORT=$(free_port) NTP_PORT=$(free_port) RPORT=$(free_port)
LIAR=$QUORUM_BUILDDIR/tests/tools/liar
READS=$QUORUM_BUILDDIR/tests/tools/clock-reads
bash "$QUORUM_SRCDIR/scripts/local-quorum.sh" --setup-only --dir "$W" --port "$PORT" \
	--interval-ms 500 --max-error-ns 20000000 --rest-port "$RPORT" \
	--builddir "$QUORUM_BUILDDIR" >/dev/null
cp -r "$W/node-1" "$W/node-1.orig" && for k in 2 3 4; do cp -r "$W/node-$k" "$W/node-$k.orig"; done

# ntp_sources COUNT LIARS: every node asks COUNT NTP sources on 127.0.0.21..., the first
# LIARS of them 10 us fast claiming zero dispersion, the others honest (15 us).
ntp_sources() {
	local entries="" s
	for s in $(seq "$1"); do
		entries="$entries  { id = \"ntp-$s\"; type = \"ntp\"; address = \"127.0.0.2$s\"; port = $NTP_PORT; },\\
"
		if [ "$s" -le "$2" ]; then
			"$LIAR" --protocol ntp --mode offset --offset-ns 10000 --dispersion-ns 0 \
				--id "ntp-$s" --key "$W/keys/node-1.key" \
				--listen "127.0.0.2$s:$NTP_PORT" 2>>"$W/ntp.log" &
		else
			"$LIAR" --protocol ntp --mode honest --id "ntp-$s" --key "$W/keys/node-1.key" \
				--listen "127.0.0.2$s:$NTP_PORT" 2>>"$W/ntp.log" &
		fi
		PIDS="$PIDS $!"
		NTP_PIDS="$NTP_PIDS $!"
	done
	for k in 1 2 3 4; do
		cp "$W/node-$k.orig/quorum.conf" "$W/node-$k/quorum.conf"
		sed -i "s|^authorities = (|authorities = (\\
$entries|" "$W/node-$k/quorum.conf"
	done
}
stop_ntp() {
	local pid
	for pid in $NTP_PIDS; do kill -TERM "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; done
	NTP_PIDS=""
}
mark_logs() { for k in "$@"; do MARK[$k]=$(wc -l <"$W/node-$k/quorumd.log"); done; }
declare -A MARK
NTP_PIDS="" READ_PIDS=""
# commits K...: each commit's bounds against true time at its reference instant (its
# estimate minus its drift from the asker's system clock) since the marks: prints "commits
# misses max_miss_ns ntp_used_max", one line per node.
commits() {
	local k
	for k in "$@"; do
		tail -n +"$((MARK[$k] + 1))" "$W/node-$k/quorumd.log" | "$PYTHON" -c '
import re, sys
n = miss = worst = ntp = 0
for line in sys.stdin:
    if "event=bft.sync.commit " not in line:
        continue
    f = dict(re.findall(r"(\w+)=(-?\d+)", line))
    lo, est, hi, drift = (int(f[x]) for x in ("earliest_ns", "estimate_ns", "latest_ns", "drift_ns"))
    truth = est - drift
    n += 1
    ntp = max(ntp, int(f.get("ntp_used", 0)))
    if not lo <= truth <= hi:
        miss += 1
        worst = max(worst, lo - truth if truth < lo else truth - hi)
print(n, miss, worst, ntp)'
	done
}
restart_all() {
	local k
	for k in 1 2 3 4; do
		[ -n "${NODE_PID[$k]:-}" ] || continue
		stop_node "$k"
		unset "NODE_PID[$k]"
	done
	for k in "$@"; do start_node "$k"; done
	for k in "$@"; do wait_synced "$k" 20 || diag "node-$k did not synchronise"; done
}

# ---- one NTP source, 10 us fast, claiming no dispersion ----
ntp_sources 1 1
restart_all 1 2 3 4
mark_logs 1 2 3 4
"$READS" --clock "$W/node-1/clock" --reads 7500 --pause-us 2000 --require-sync >"$W/reads-1.txt" 2>&1
r1=$?
sleep 1
res=$(commits 1 2 3 4)
diag "one lying NTP source: per node 'commits misses max_miss_ns ntp_used': $(echo $res)" "node-1: $(cat "$W/reads-1.txt")"
check "one NTP source 10 us fast claiming no dispersion: no commit excludes true time" \
	eval 'echo "$res" | awk "\$1 < 20 || \$2 != 0 { bad = 1 } END { exit bad }"'
check "... it narrows nothing (one source has no fault budget: ntp_used=0)" \
	eval 'echo "$res" | awk "\$4 != 0 { bad = 1 } END { exit bad }"'
check "... and 7,500 reads of node-1's clock were synchronised and inside its bound" \
	test "$r1" -eq 0
stop_ntp

# ---- 7 NTP sources, 2 of them lying so ----
ntp_sources 7 2
restart_all 1 2 3 4
mark_logs 1 2 3 4
"$READS" --clock "$W/node-1/clock" --reads 7500 --pause-us 2000 --require-sync >"$W/reads-7.txt" 2>&1
r7=$?
sleep 1
res=$(commits 1 2 3 4)
diag "2 of 7 NTP sources lying: per node 'commits misses max_miss_ns ntp_used': $(echo $res)" "node-1: $(cat "$W/reads-7.txt")"
check "2 of 7 NTP sources 10 us fast claiming no dispersion: no commit excludes true time" \
	eval 'echo "$res" | awk "\$1 < 20 || \$2 != 0 { bad = 1 } END { exit bad }"'
check "... while the 5 honest ones do narrow the agreements (ntp_used >= 5)" \
	eval 'echo "$res" | awk "\$4 < 5 { bad = 1 } END { exit bad }"'
check "... and 7,500 reads of node-1's clock were synchronised and inside its bound" \
	test "$r7" -eq 0
stop_ntp

# ---- one imprecise authority: node-4 answers with radius 1.5 s, 1.2 s off ----
# A bound growing 1 ms a second (max_drift_ppm = 1000) spends the 20 ms budget in 20 s
# without a commit: a node the imprecise authority stopped would be unsynchronised well
# within the 60 s of reads below.
for k in 1 2 3 4; do
	cp "$W/node-$k.orig/quorum.conf" "$W/node-$k/quorum.conf"
	sed -i 's|max_drift_ppm = 50;|max_drift_ppm = 1000;|' "$W/node-$k/quorum.conf"
done
grep -q "max_drift_ppm = 1000;" "$W/node-1/quorum.conf" || diag "could not raise max_drift_ppm"
restart_all 1 2 3
"$LIAR" --id node-4 --key "$W/keys/node-4.key" --listen "127.0.0.4:$PORT" --mode offset \
	--offset-ns 1200000000 --radius-ns 1500000000 2>"$W/imprecise.log" &
IMPRECISE=$!
PIDS="$PIDS $IMPRECISE"
sleep 3
st=$(curl -sS --max-time 5 "http://127.0.0.1:$RPORT/v1/status" | "$PYTHON" -c '
import json, sys
a = [x for x in json.load(sys.stdin)["authorities"] if x["id"] == "node-4"][0]
print(a["state"], a.get("problem", "-"))')
diag "node-1's /v1/status on node-4: $st"
check "an answer wider than max_radius_ns (1 s) is not counted: /v1/status says radius_exceeded" \
	test "$st" = "rejected radius_exceeded"
# the same with max_radius_ns raised: now its interval counts and overlaps the agreement
for k in 1 2 3; do
	sed -i 's|{ name = "convergence"; path = "stages/convergence.so"; }|{ name = "convergence"; path = "stages/convergence.so"; settings = { max_radius_ns = 10000000000L; }; }|' \
		"$W/node-$k/quorum.conf"
done
grep -q "max_radius_ns = 10000000000L" "$W/node-1/quorum.conf" || diag "could not raise max_radius_ns"
restart_all 1 2 3
mark_logs 1 2 3
ok_reads=1
for k in 1 2 3; do
	"$READS" --clock "$W/node-$k/clock" --reads 30000 --pause-us 2000 --require-sync \
		>"$W/reads-imprecise-$k.txt" 2>&1 &
	READ_PIDS="$READ_PIDS $!"
done
for pid in $READ_PIDS; do wait "$pid" || ok_reads=0; done
res=$(commits 1 2 3)
diag "imprecise node-4 counted, 3 honest nodes: per node 'commits misses max_miss_ns': $(echo $res)"
for k in 1 2 3; do diag "node-$k: $(cat "$W/reads-imprecise-$k.txt")"; done
check "counted, the imprecise authority stops nobody: every honest node keeps committing" \
	eval 'echo "$res" | awk "\$1 < 50 || \$2 != 0 { bad = 1 } END { exit bad }"'
check "... and stays synchronised and correct (30,000 reads each, 60 s)" test "$ok_reads" -eq 1
counted4=$(tail -n +"$((MARK[1] + 1))" "$W/node-1/quorumd.log" | grep -c "event=bft.sync.commit .* accepted=4 ")
diag "node-1's commits with the imprecise authority inside the agreement (accepted=4): $counted4"
check "... its interval counted inside the agreements, and no round failed for its midpoint" \
	eval '[ "$counted4" -ge 100 ] &&
	! tail -n +"$((MARK[1] + 1))" "$W/node-1/quorumd.log" | grep -q "reason=cluster_skew_exceeded"'
kill -TERM "$IMPRECISE"
wait "$IMPRECISE" 2>/dev/null

# ---- f + 1 = 2 authorities a second off together: no agreement, and who ----
stop_node 3
"$LIAR" --id node-3 --key "$W/keys/node-3.key" --listen "127.0.0.3:$PORT" --mode offset \
	--offset-ns 1000000000 2>"$W/colluder-3.log" &
PIDS="$PIDS $!"
"$LIAR" --id node-4 --key "$W/keys/node-4.key" --listen "127.0.0.4:$PORT" --mode offset \
	--offset-ns 1000000000 2>"$W/colluder-4.log" &
PIDS="$PIDS $!"
mark_logs 1
wait_log "$W/node-1/quorumd.log" "bft.sync.reject reason=empty_cluster_after_trim" 10 >/dev/null
st=$(curl -sS --max-time 5 "http://127.0.0.1:$RPORT/v1/status" | "$PYTHON" -c '
import json, sys
for a in json.load(sys.stdin)["authorities"]:
    print(a["id"], a["state"], a.get("problem", "-"))')
diag "node-1's /v1/status with two colluders:" "$st"
check "with f + 1 authorities a second off there is no agreement, and /v1/status names them" \
	eval 'echo "$st" | grep -qx "node-3 no_agreement outside_cluster" &&
	echo "$st" | grep -qx "node-4 no_agreement outside_cluster" &&
	echo "$st" | grep -qx "node-1 no_agreement -"'
stop_node 1
stop_node 2
check "the nodes stop with status 0" test "$EXIT_STATUS" -eq 0
finish
