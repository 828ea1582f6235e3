#!/bin/bash
# settings-doc.sh -- the settings defaults man/quorum.conf.5 documents are those of the
# plugins' own tables: for every built plugin with bound settings (ABI 1.12), the block
# tests/tools/settings-doc prints from its table (name, type, bounds, choices, default,
# help) stands verbatim in the man page, and every such block in the man page belongs to a
# plugin that prints it. A default changed in one place only fails here; a man page with
# one default altered is shown to fail. Needs no quorumd. Speaks TAP.
. "$(dirname "$0")/lib.sh"

DOC=$QUORUM_BUILDDIR/tests/tools/settings-doc
MAN=$QUORUM_SRCDIR/man/quorum.conf.5
shopt -s nullglob
built=("$QUORUM_BUILDDIR"/lib/stages/*.so "$QUORUM_BUILDDIR"/lib/transports/*.so)
plan 5

# block FILE NAME: the lines of NAME's generated block in FILE, markers included.
block() {
	sed -n "/^\.\\\\\" settings of $2: /,/^\.\\\\\" end of the settings of $2\$/p" "$1"
}

# drift MAN: what differs between the tables and MAN, as TAP comments; fails when any.
drift() {
	local man=$1 so f name status=0 expected
	expected=$(mktemp)
	for so in "${built[@]}"; do
		"$DOC" "$so" >"$expected" || return 1
		[ -s "$expected" ] || continue
		name=$(sed -n '1s/^\.\\" settings of \([a-z0-9_-]*\): .*/\1/p' "$expected")
		cmp -s <(block "$man" "$name") "$expected" && continue
		diag "man page and the table of $name differ (- man, + table):"
		diff -u <(block "$man" "$name") "$expected" | sed 's/^/# /'
		status=1
	done
	rm -f "$expected"
	for name in $(sed -n 's/^\.\\" settings of \([a-z0-9_-]*\): .*/\1/p' "$man"); do
		so=
		for f in "${built[@]}"; do
			[ "$(basename "$f" .so)" = "$name" ] && so=$f
		done
		[ -n "$so" ] || continue # not built here (configure --disable-NAME)
		if [ -z "$("$DOC" "$so")" ]; then
			diag "the man page has a block for $name, whose table binds nothing"
			status=1
		fi
	done
	return $status
}

diag "${#built[@]} plugins built"
quiet() { "$@" >/dev/null; }
check "settings-doc reads every built plugin's table" quiet "$DOC" "${built[@]}"
n=$("$DOC" "${built[@]}" | grep -c '^\.\\" settings of ')
check "at least the vault and REST bind their settings ($n plugins)" test "$n" -ge 2
check "man/quorum.conf.5 documents every bound table as it is" drift "$MAN"

# The check can fail: one default changed in a copy of the man page is found.
altered=$SCRATCH/quorum.conf.5
sed '/^\.B batch_ms$/{n;s/default 5:/default 6:/}' "$MAN" >"$altered"
check "the copy really differs" bash -c "! cmp -s '$MAN' '$altered'"
if drift "$altered" >"$SCRATCH/drift.out"; then
	not_ok "a default altered in the man page is found"
else
	ok "a default altered in the man page is found"
fi
finish
