# audit/vaultlog.mk -- the vault log's unit test and benchmark. Both link libquorumaudit, of
# which they take vaultlog.c's and statedir.c's objects only.
check_PROGRAMS += tests/unit/test-vault
TESTS += tests/unit/test-vault
tests_unit_test_vault_SOURCES = tests/unit/test-vault.c
tests_unit_test_vault_CFLAGS = $(AM_CFLAGS) $(OPENSSL_CFLAGS) $(GLIB_CFLAGS)
tests_unit_test_vault_LDADD = audit/libquorumaudit.la $(OPENSSL_LIBS) $(GLIB_LIBS)

# Listed in EXTRA_PROGRAMS by bench/local.mk; run by `make bench`.
bench_bench_vault_SOURCES = bench/bench-vault.c
bench_bench_vault_CFLAGS = $(AM_CFLAGS) $(OPENSSL_CFLAGS) $(SQLITE3_CFLAGS) -O2
bench_bench_vault_LDADD = audit/libquorumaudit.la $(OPENSSL_LIBS) $(SQLITE3_LIBS) -lpthread

# End to end: a node with a tiny retention for two minutes; what stays verifies.
TESTS += tests/e2e/retention.sh
EXTRA_DIST += tests/e2e/retention.sh
