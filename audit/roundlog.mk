# audit/roundlog.mk -- the round log's unit test: it shrinks and rebuilds rounds of real
# signed attestations (made with the host's own code), replays its journal, and runs
# quorumctl vault verify's check of it.
check_PROGRAMS += tests/unit/test-roundlog
TESTS += tests/unit/test-roundlog
tests_unit_test_roundlog_SOURCES = tests/unit/test-roundlog.c \
	tools/quorumctl-rounds.c tools/quorumctl-rounds.h plugins/stages/convergence/agreement.c
tests_unit_test_roundlog_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/tools \
	-I$(top_srcdir)/plugins/stages/convergence
tests_unit_test_roundlog_CFLAGS = $(UNIT_CFLAGS) $(PROTOBUF_C_CFLAGS)
tests_unit_test_roundlog_LDADD = audit/libroundlog.la audit/libstatedir.la $(UNIT_LDADD) \
	$(OPENSSL_LIBS)

# End to end on a local quorum: rounds kept, verified, recovered after SIGKILL.
TESTS += tests/e2e/round-log.sh
EXTRA_DIST += tests/e2e/round-log.sh
