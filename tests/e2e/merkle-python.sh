#!/bin/bash
# merkle-python.sh -- the Merkle tree's roots and proofs checked by an independent verifier
# written with Python's hashlib (tests/tools/rfc6962_verify.py), which must also reject a
# corrupted proof. Speaks TAP.
. "$(dirname "$0")/lib.sh"
plan 3
VERIFY=$QUORUM_SRCDIR/tests/tools/rfc6962_verify.py
"$QUORUM_BUILDDIR/tests/tools/mtree-proofs" 2000 >"$SCRATCH/proofs" 2>&1
check "mtree-proofs printed the roots and proofs of a 2000-leaf tree" test $? -eq 0
"$PYTHON" "$VERIFY" <"$SCRATCH/proofs" >"$SCRATCH/out" 2>&1
rc=$?
sed -n 's/^\(not \)\{0,1\}ok 1 - /# /p' "$SCRATCH/out"
check "every root, inclusion and consistency proof verifies independently (Python hashlib)" test $rc -eq 0
# One hash digit changed in the 300th inclusion proof: the verifier must say so.
awk '/^inclusion/ && NF > 3 { n++; if (n == 300) { c = substr($NF, 1, 1);
	$NF = (c == "0" ? "1" : "0") substr($NF, 2) } } { print }' "$SCRATCH/proofs" >"$SCRATCH/bad"
cmp -s "$SCRATCH/proofs" "$SCRATCH/bad" && diag "the corruption did not change the input"
"$PYTHON" "$VERIFY" <"$SCRATCH/bad" >"$SCRATCH/out-bad" 2>&1
rc=$?
check "... and a proof with one altered hash is rejected" \
	eval "[ $rc -ne 0 ] && ! cmp -s '$SCRATCH/proofs' '$SCRATCH/bad'"
finish
