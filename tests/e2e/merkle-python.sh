#!/bin/bash
# merkle-python.sh -- the Merkle tree's roots and proofs (tests/tools/mtree-proofs) checked
# by an independent verifier written with Python's hashlib (tests/tools/rfc6962_verify.py),
# which must also reject each kind of corrupted line. Speaks TAP.
. "$(dirname "$0")/lib.sh"

plan 7
PROOFS=$QUORUM_BUILDDIR/tests/tools/mtree-proofs
VERIFY=$QUORUM_SRCDIR/tests/tools/rfc6962_verify.py
LEAVES=2000

"$PROOFS" "$LEAVES" >"$SCRATCH/proofs" 2>"$SCRATCH/proofs.err"
rc=$?
sed 's/^/# /' "$SCRATCH/proofs.err"
check "mtree-proofs printed the roots and proofs of a $LEAVES-leaf tree" \
	eval "[ $rc -eq 0 ] && grep -q '^consistency ' '$SCRATCH/proofs'"

"$PYTHON" "$VERIFY" <"$SCRATCH/proofs" >"$SCRATCH/verify.out" 2>&1
rc=$?
sed 's/^/#   /' "$SCRATCH/verify.out"
check "the Python verifier accepts every root and proof" \
	eval "[ $rc -eq 0 ] && ! grep -q '^not ok' '$SCRATCH/verify.out'"

# corrupt NAME AWK-PROGRAM DESCRIPTION: the verifier must reject the output altered by
# AWK-PROGRAM (which must change something), naming a failed check.
corrupt() {
	local name=$1 program=$2 what=$3 rc
	awk "$program" "$SCRATCH/proofs" >"$SCRATCH/$name"
	if cmp -s "$SCRATCH/proofs" "$SCRATCH/$name"; then
		not_ok "$what (the corruption changed nothing)"
		return
	fi
	"$PYTHON" "$VERIFY" <"$SCRATCH/$name" >"$SCRATCH/$name.out" 2>&1
	rc=$?
	grep -A1 '^not ok' "$SCRATCH/$name.out" | sed 's/^/#   /'
	# rejected by a check, not by a crash (exit 1 with a failing TAP line)
	check "$what" eval "[ $rc -eq 1 ] && grep -q '^not ok' '$SCRATCH/$name.out'"
}

# flip the first hex digit of the last field of the Nth line starting with WORD
FLIP='function flip(s) { return (substr(s, 1, 1) == "0" ? "1" : "0") substr(s, 2) }'
corrupt bad-inclusion "$FLIP"'
	/^inclusion / && NF > 4 && ++n == 300 { $NF = flip($NF) } { print }' \
	"an inclusion proof with one altered hash is rejected"
corrupt bad-consistency "$FLIP"'
	/^consistency / && NF > 4 && ++n == 400 { $4 = flip($4) } { print }' \
	"a consistency proof with one altered hash is rejected"
corrupt bad-root "$FLIP"'
	/^root / && ++n == 40 { $3 = flip($3) } { print }' \
	"a wrong root is rejected"
corrupt short-proof '
	/^inclusion / && NF > 5 && ++n == 200 { NF = NF - 1 } { print }' \
	"an inclusion proof missing its last hash is rejected"
corrupt moved-proof '
	/^inclusion / && NF > 5 && $2 > 0 && ++n == 250 { $2 = $2 - 1 } { print }' \
	"an inclusion proof presented for another leaf is rejected"
finish
