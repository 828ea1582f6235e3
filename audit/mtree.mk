# audit/mtree.mk -- the Merkle tree's unit test, the proof printer that the independent
# Python verifier checks (tests/e2e/merkle-python.sh), and its benchmark. Each links
# libquorumaudit, of which it takes mtree.c's and statedir.c's objects only.
check_PROGRAMS += tests/unit/test-mtree tests/tools/mtree-proofs
TESTS += tests/unit/test-mtree tests/e2e/merkle-python.sh
EXTRA_DIST += tests/e2e/merkle-python.sh tests/tools/rfc6962_verify.py

tests_unit_test_mtree_SOURCES = tests/unit/test-mtree.c
tests_unit_test_mtree_CFLAGS = $(AM_CFLAGS) $(OPENSSL_CFLAGS) $(GLIB_CFLAGS)
tests_unit_test_mtree_LDADD = audit/libquorumaudit.la $(OPENSSL_LIBS) $(GLIB_LIBS)

tests_tools_mtree_proofs_SOURCES = tests/tools/mtree-proofs.c
tests_tools_mtree_proofs_CFLAGS = $(AM_CFLAGS) $(OPENSSL_CFLAGS)
tests_tools_mtree_proofs_LDADD = audit/libquorumaudit.la $(OPENSSL_LIBS)

# Listed in EXTRA_PROGRAMS by bench/local.mk; run by `make bench`.
bench_bench_proof_SOURCES = bench/bench-proof.c
bench_bench_proof_CFLAGS = $(AM_CFLAGS) $(OPENSSL_CFLAGS) -O2
bench_bench_proof_LDADD = audit/libquorumaudit.la $(OPENSSL_LIBS)
