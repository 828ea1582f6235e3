# audit/local.mk -- libquorumaudit, the audit plane's storage and proofs, linked statically
# into the vault and merkle stage plugins, quorumctl, the tests and the benchmarks:
# vaultlog (hash-chained segment files), mtree (RFC 6962 tree and proofs), note (C2SP
# checkpoints and signed notes), cosign (witnessed checkpoints: cosignatures, add-checkpoint
# requests, evidence against a log). It uses libcrypto only, never host symbols. A program
# takes only the objects it needs (a test of mtree.c links none of vaultlog.c's).
noinst_LTLIBRARIES += audit/libquorumaudit.la
audit_libquorumaudit_la_SOURCES = audit/vaultlog.c audit/vaultlog.h audit/mtree.c audit/mtree.h \
	audit/note.c audit/note.h audit/cosign.c audit/cosign.h
audit_libquorumaudit_la_CFLAGS = $(AM_CFLAGS) $(OPENSSL_CFLAGS)
audit_libquorumaudit_la_LIBADD = audit/libstatedir.la $(OPENSSL_LIBS)

# State folders opened safely: the audit plane's files, and the NTP transport's NTS keys
# (its own library, so that the ntp plugin is not handed the whole audit plane).
noinst_LTLIBRARIES += audit/libstatedir.la
audit_libstatedir_la_SOURCES = audit/statedir.c audit/statedir.h

# The round log and its journal (the vault's record of this node's rounds), read again by
# quorumctl vault verify: protobuf-c, libcrypto and common/roundnonce.c.
noinst_LTLIBRARIES += audit/libroundlog.la
audit_libroundlog_la_SOURCES = audit/roundlog.c audit/roundlog.h audit/roundjournal.c \
	audit/roundjournal.h
audit_libroundlog_la_CPPFLAGS = $(AM_CPPFLAGS)
audit_libroundlog_la_CFLAGS = $(AM_CFLAGS) $(PROTOBUF_C_CFLAGS) $(OPENSSL_CFLAGS)

include audit/mtree.mk
include audit/vaultlog.mk
include audit/roundlog.mk

check_PROGRAMS += tests/unit/test-note
TESTS += tests/unit/test-note
tests_unit_test_note_SOURCES = tests/unit/test-note.c
tests_unit_test_note_CFLAGS = $(AM_CFLAGS) $(OPENSSL_CFLAGS) $(GLIB_CFLAGS)
tests_unit_test_note_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/tests/unit
tests_unit_test_note_LDADD = audit/libquorumaudit.la $(UNIT_LDADD) $(OPENSSL_LIBS)

check_PROGRAMS += tests/unit/test-cosign
TESTS += tests/unit/test-cosign
tests_unit_test_cosign_SOURCES = tests/unit/test-cosign.c
tests_unit_test_cosign_CFLAGS = $(AM_CFLAGS) $(OPENSSL_CFLAGS) $(GLIB_CFLAGS)
tests_unit_test_cosign_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/tests/unit
tests_unit_test_cosign_LDADD = audit/libquorumaudit.la $(UNIT_LDADD) $(OPENSSL_LIBS)
