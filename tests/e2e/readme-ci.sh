#!/bin/bash
# readme-ci.sh -- README's Quick start and CI agree: .ci/run runs exactly README's test
# command, and every script the Quick start names exists and is executable. Speaks TAP.
. "$(dirname "$0")/lib.sh"
: "${QUORUM_SRCDIR:?run through make check}"
plan 4

readme=$QUORUM_SRCDIR/README.md
quick=$(sed -n '/^## Quick start/,/^## /p' "$readme")
start_cmd=$(printf '%s\n' "$quick" | grep -A1 '^# 1\.' | tail -1)
test_cmd=$(printf '%s\n' "$quick" | grep -A1 '^# 2\.' | tail -1)
ci_cmd=$(grep -v '^#' "$QUORUM_SRCDIR/.ci/run" | grep -v '^set \|^cd \|^$' | tail -1)

check "README's Quick start has a start command and a test command" \
	test -n "$start_cmd" -a -n "$test_cmd"
check ".ci/run runs exactly README's test command ($ci_cmd)" test "$ci_cmd" = "$test_cmd"
check "the scripts the Quick start names exist and are executable" \
	test -x "$QUORUM_SRCDIR/scripts/setup-debian.sh" -a -x "$QUORUM_SRCDIR/scripts/test-all.sh"
# The start command's last step, run as far as setting up (tests/e2e/quorum.sh runs it all).
last=$(printf '%s' "$start_cmd" | sed 's/.*&& *//')
bash "$QUORUM_SRCDIR/${last%% *}" --setup-only --dir "$SCRATCH/quick" --builddir "$QUORUM_BUILDDIR" \
	>/dev/null 2>&1
check "the start command's script ($last) sets up a quorum whose configurations check" \
	"$QUORUMD" --check-config --config "$SCRATCH/quick/node-1/quorum.conf"
finish
