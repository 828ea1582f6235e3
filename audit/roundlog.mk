# audit/roundlog.mk -- the round log's unit test: it shrinks and rebuilds rounds of real
# signed attestations (made with the host's own code), and replays its journal.
check_PROGRAMS += tests/unit/test-roundlog
TESTS += tests/unit/test-roundlog
tests_unit_test_roundlog_SOURCES = tests/unit/test-roundlog.c audit/roundlog.c audit/roundlog.h \
	audit/roundjournal.c audit/roundjournal.h audit/statedir.c audit/statedir.h
tests_unit_test_roundlog_CFLAGS = $(UNIT_CFLAGS) $(PROTOBUF_C_CFLAGS)
tests_unit_test_roundlog_LDADD = $(UNIT_LDADD) $(OPENSSL_LIBS)
