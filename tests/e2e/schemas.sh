#!/bin/bash
# schemas.sh -- the JSON Schemas under schemas/, their canonical examples and the catalog,
# with python3-jsonschema (draft 2020-12) through tests/tools/check-schemas.py: every schema
# is a valid draft 2020-12 schema whose $id is its file's, with every object closed; every
# example under schemas/examples/ validates against its schema, and no longer does once an
# unknown member is added to any of its objects; schemas/catalog.json lists exactly the
# schema files present, with their $id, and exactly the examples present; all of them are in
# EXTRA_DIST. Needs no quorumd (the real answers are validated by rest.sh and ws.sh).
# Skipped without python3-jsonschema. Speaks TAP.
. "$(dirname "$0")/lib.sh"

if ! "$PYTHON" -c 'import jsonschema; jsonschema.Draft202012Validator' 2>/dev/null; then
	echo "1..0 # SKIP python3-jsonschema with draft 2020-12 is not installed"
	exit 0
fi

SCHEMAS=$QUORUM_SRCDIR/schemas
shopt -s nullglob
schemas=()
for f in "$SCHEMAS"/*.json; do
	[ "${f##*/}" = catalog.json ] || schemas+=("$f")
done
examples=("$SCHEMAS"/examples/*.json)
plan $((6 + ${#schemas[@]} + 2 * ${#examples[@]}))

# run CHECK ARGS...: check-schemas.py, its reasons as TAP comments.
run() {
	"$PYTHON" "$QUORUM_SRCDIR/tests/tools/check-schemas.py" "$@" 2>&1 | sed 's/^/# /'
	return "${PIPESTATUS[0]}"
}

diag "${#schemas[@]} schemas, ${#examples[@]} examples"
check "catalog.json has the catalog's shape (\$id, file, title, written_by, read_by, examples)" \
	run catalog "$SCHEMAS" shape
check "the catalog lists every schema file present, once" run catalog "$SCHEMAS" listed
check "every file the catalog names is present" run catalog "$SCHEMAS" present
check "each catalog \$id is its file's \$id" run catalog "$SCHEMAS" ids
check "the catalog lists exactly the examples present, each named after its schema" \
	run catalog "$SCHEMAS" examples

# in_dist: the schemas, examples, catalog and helper are each a word of tests/local.mk,
# where EXTRA_DIST lists them for the tarball.
in_dist() {
	local f rel missing=0
	for f in "${schemas[@]}" "${examples[@]}" "$SCHEMAS/catalog.json" \
		"$QUORUM_SRCDIR/tests/tools/check-schemas.py"; do
		rel=${f#"$QUORUM_SRCDIR"/}
		tr ' \t\\' '\n\n\n' <"$QUORUM_SRCDIR/tests/local.mk" | grep -qxF "$rel" ||
			{ diag "$rel is not in EXTRA_DIST (tests/local.mk)"; missing=1; }
	done
	return "$missing"
}
check "every schema, example, the catalog and the helper are distributed (EXTRA_DIST)" in_dist

for f in "${schemas[@]}"; do
	check "${f##*/}: a draft 2020-12 schema (check_schema), \$id after its file, every object closed" \
		run schema "$f"
done
for x in "${examples[@]}"; do
	name=${x##*/}
	schema=$SCHEMAS/${name%%.*}.json
	check "examples/$name validates against ${schema##*/}" run valid "$schema" "$x"
	check "examples/$name with an unknown member in any of its objects does not" \
		run closed "$schema" "$x"
done
finish
