# audit/mtree.mk -- the Merkle tree's unit test, the proof printer that the independent
# Python verifier checks (tests/e2e/merkle-python.sh), and its benchmark. Each compiles
# mtree.c itself, so they build and run without the rest of libquorumaudit.
check_PROGRAMS += tests/unit/test-mtree tests/tools/mtree-proofs
TESTS += tests/unit/test-mtree tests/e2e/merkle-python.sh
EXTRA_DIST += tests/e2e/merkle-python.sh tests/tools/rfc6962_verify.py

tests_unit_test_mtree_SOURCES = tests/unit/test-mtree.c audit/mtree.c audit/mtree.h \
	audit/statedir.c audit/statedir.h
tests_unit_test_mtree_CFLAGS = $(AM_CFLAGS) $(OPENSSL_CFLAGS) $(GLIB_CFLAGS)
tests_unit_test_mtree_LDADD = $(OPENSSL_LIBS) $(GLIB_LIBS)

tests_tools_mtree_proofs_SOURCES = tests/tools/mtree-proofs.c audit/mtree.c audit/mtree.h \
	audit/statedir.c audit/statedir.h
tests_tools_mtree_proofs_CFLAGS = $(AM_CFLAGS) $(OPENSSL_CFLAGS)
tests_tools_mtree_proofs_LDADD = $(OPENSSL_LIBS)

# Listed in EXTRA_PROGRAMS by bench/local.mk; run by `make bench`.
bench_bench_proof_SOURCES = bench/bench-proof.c audit/mtree.c audit/mtree.h \
	audit/statedir.c audit/statedir.h
bench_bench_proof_CFLAGS = $(AM_CFLAGS) $(OPENSSL_CFLAGS) -O2
bench_bench_proof_LDADD = $(OPENSSL_LIBS)
