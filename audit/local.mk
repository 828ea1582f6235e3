# audit/local.mk -- libquorumaudit, the audit plane's storage and proofs, linked statically
# into the vault and merkle stage plugins, quorumctl, the tests and the benchmarks:
# vaultlog (hash-chained segment files), mtree (RFC 6962 tree and proofs), note (C2SP
# checkpoints and signed notes), cosign (witnessed checkpoints: cosignatures, add-checkpoint
# requests, evidence against a log). It uses libcrypto only, never host symbols.
noinst_LTLIBRARIES += audit/libquorumaudit.la
audit_libquorumaudit_la_SOURCES = audit/vaultlog.c audit/vaultlog.h audit/mtree.c audit/mtree.h \
	audit/note.c audit/note.h audit/statedir.c audit/statedir.h \
	audit/cosign.c audit/cosign.h
audit_libquorumaudit_la_CFLAGS = $(AM_CFLAGS) $(OPENSSL_CFLAGS)
audit_libquorumaudit_la_LIBADD = $(OPENSSL_LIBS)

include audit/mtree.mk
include audit/vaultlog.mk
include audit/roundlog.mk

check_PROGRAMS += tests/unit/test-note
TESTS += tests/unit/test-note
tests_unit_test_note_SOURCES = tests/unit/test-note.c audit/note.c
tests_unit_test_note_CFLAGS = $(AM_CFLAGS) $(OPENSSL_CFLAGS) $(GLIB_CFLAGS)
tests_unit_test_note_LDADD = $(OPENSSL_LIBS) $(GLIB_LIBS)

check_PROGRAMS += tests/unit/test-cosign
TESTS += tests/unit/test-cosign
tests_unit_test_cosign_SOURCES = tests/unit/test-cosign.c audit/cosign.c audit/cosign.h \
	audit/note.c audit/mtree.c audit/statedir.c
tests_unit_test_cosign_CFLAGS = $(AM_CFLAGS) $(OPENSSL_CFLAGS) $(GLIB_CFLAGS)
tests_unit_test_cosign_LDADD = $(OPENSSL_LIBS) $(GLIB_LIBS)
