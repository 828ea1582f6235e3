#!/bin/sh
# replay.sh -- `make check` without --enable-fuzz: each fuzz target, built with fuzz/replay.c
# instead of libFuzzer, runs once on every input of its corpus (seeds and the inputs of past
# findings), under whatever sanitizers the build has. Speaks TAP.
: "${QUORUM_BUILDDIR:?run through make check}" "${QUORUM_SRCDIR:?run through make check}"
set -u
LSAN_OPTIONS=suppressions=$QUORUM_SRCDIR/fuzz/lsan.supp:print_suppressions=0
export LSAN_OPTIONS
targets=$(ls "$QUORUM_SRCDIR/fuzz/corpus")
echo "1..$(echo "$targets" | wc -w)"
i=0
for name in $targets; do
	i=$((i + 1))
	prog=$QUORUM_BUILDDIR/fuzz/fuzz-$name
	# A target is built with its plugin: configure --disable-NAME leaves it out.
	if [ ! -x "$prog" ]; then
		echo "ok $i - fuzz target $name # SKIP not built (its plugin is disabled at configure time)"
		continue
	fi
	if out=$("$prog" "$QUORUM_SRCDIR/fuzz/corpus/$name" 2>&1); then
		echo "ok $i - fuzz target $name: $(echo "$out" | tail -1) from fuzz/corpus/$name"
	else
		echo "not ok $i - fuzz target $name on fuzz/corpus/$name"
		echo "$out" | tail -40 | sed 's/^/# /'
	fi
done
