#!/bin/sh
# run.sh -- `make fuzz`: runs each libFuzzer target for SECONDS on a scratch copy of its seed
# corpus (the repository is never written), then prints per target the executions, exec/s,
# coverage and the outcome from libFuzzer's final stats. Exit status 1 when any target
# crashed, leaked, timed out or ran out of memory; its log and the input that did it are in
# RESULTS (NAME.log, NAME-crash-*, ...).
# Usage: run.sh SECONDS CORPUS_ROOT RESULTS PROGRAM...
# Environment: FUZZ_JOBS (targets run at once, default 1), FUZZ_ONLY (target names to run,
# e.g. "envelope ntp"), FUZZ_KEEP_CORPUS=1 (keep each grown corpus as RESULTS/NAME.corpus).
set -eu
seconds=$1
corpus_root=$2
results=$3
shift 3
jobs=${FUZZ_JOBS:-1}
supp=$(cd "$(dirname "$0")" && pwd)/lsan.supp
mkdir -p "$results"
# The scratch folder is each target's TMPDIR too: in memory when /dev/shm is there (the vault
# and conf targets write files per input), and removed whatever happens to the targets.
if [ -w /dev/shm ]; then scratch_base=/dev/shm; else scratch_base=${TMPDIR:-/tmp}; fi
scratch=$(mktemp -d "$scratch_base/quorum-fuzz.XXXXXX")
trap 'rm -rf "$scratch"' EXIT INT TERM

# run_one PROGRAM: one target; writes RESULTS/NAME.log and RESULTS/NAME.summary.
run_one() {
	prog=$1
	name=$(basename "$prog" | sed 's/^fuzz-//')
	work=$scratch/$name
	mkdir -p "$work/corpus"
	if [ -d "$corpus_root/$name" ]; then
		cp "$corpus_root/$name"/* "$work/corpus/" 2>/dev/null || true
	fi
	rm -f "$results/$name".log "$results/$name".summary "$results/$name"-crash-* \
		"$results/$name"-leak-* "$results/$name"-timeout-* "$results/$name"-oom-*
	rc=0
	(cd "$work" && TMPDIR=$work LSAN_OPTIONS=suppressions=$supp:print_suppressions=0 \
		"$prog" -max_total_time="$seconds" -print_final_stats=1 -timeout=10 \
		-rss_limit_mb=2048 -artifact_prefix="$results/$name-" corpus) \
		>"$results/$name.log" 2>&1 || rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$results/$name.log" | tail -1)
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$results/$name.log" | tail -1)
	cov=$(grep -E '^#[0-9]+' "$results/$name.log" | tail -1 | sed -n 's/.* cov: \([0-9]*\).*/\1/p')
	corp=$(grep -E '^#[0-9]+' "$results/$name.log" | tail -1 |
		sed -n 's/.* corp: \([0-9]*\).*/\1/p')
	if [ "$rc" -eq 0 ]; then
		outcome=ok
	else
		artifact=$(ls "$results/$name"-crash-* "$results/$name"-leak-* \
			"$results/$name"-timeout-* "$results/$name"-oom-* 2>/dev/null | head -1)
		outcome="FAILED (exit $rc${artifact:+, $artifact})"
	fi
	printf '%-16s %12s %9s %7s %7s  %s\n' "$name" "${execs:-?}" "${rate:-?}" "${cov:-?}" \
		"${corp:-?}" "$outcome" >"$results/$name.summary"
	if [ "${FUZZ_KEEP_CORPUS:-0}" = 1 ]; then
		rm -rf "$results/$name.corpus"
		mv "$work/corpus" "$results/$name.corpus"
	fi
	rm -rf "$work"
}

selected=
for prog in "$@"; do
	name=$(basename "$prog" | sed 's/^fuzz-//')
	if [ -n "${FUZZ_ONLY:-}" ]; then
		case " $FUZZ_ONLY " in *" $name "*) ;; *) continue ;; esac
	fi
	selected="$selected $prog"
done
[ -n "$selected" ] || { echo "run.sh: no target selected" >&2; exit 2; }

echo "fuzz: each target for ${seconds}s, $jobs at a time; logs in $results"
running=0
for prog in $selected; do
	case $prog in /*) ;; *) prog=$(pwd)/$prog ;; esac
	run_one "$prog" &
	running=$((running + 1))
	if [ "$running" -ge "$jobs" ]; then
		wait
		running=0
	fi
done
wait

printf '%-16s %12s %9s %7s %7s  %s\n' target executions exec/s cov corpus outcome
failed=0
for prog in $selected; do
	name=$(basename "$prog" | sed 's/^fuzz-//')
	cat "$results/$name.summary"
	grep -q ' ok$' "$results/$name.summary" || failed=1
done
if [ "$failed" -ne 0 ]; then
	echo "fuzz: FAILED: see the logs and inputs in $results" >&2
	exit 1
fi
echo "fuzz: every target ran without a finding"
