# plugins/stages/passport/local.mk -- the passport stage plugin (jansson, libcrypto) and its
# unit test (the document, the registry, the replay window, and the stage through a mock
# host API).
PASSPORT_SOURCES = plugins/stages/passport/passportdoc.c plugins/stages/passport/passportdoc.h \
	plugins/stages/passport/registry.c plugins/stages/passport/registry.h \
	plugins/stages/passport/replay.c plugins/stages/passport/replay.h
PASSPORT_LIBS = plugins/stages/common/libstatefile.la common/libquorumcommon.la

# Built unless configure says --disable-passport; so are its tests.
if BUILD_PLUGIN_PASSPORT
stages_LTLIBRARIES += plugins/stages/passport/passport.la
plugins_stages_passport_passport_la_SOURCES = plugins/stages/passport/passport.c \
	$(PASSPORT_SOURCES)
plugins_stages_passport_passport_la_CPPFLAGS = $(PLUGIN_CPPFLAGS) -I$(top_srcdir)/plugins/stages/common
plugins_stages_passport_passport_la_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS) $(OPENSSL_CFLAGS)
plugins_stages_passport_passport_la_LDFLAGS = $(PLUGIN_LDFLAGS)
plugins_stages_passport_passport_la_LIBADD = $(PASSPORT_LIBS) $(JANSSON_LIBS) $(OPENSSL_LIBS)

check_PROGRAMS += tests/unit/test-passport
TESTS += tests/unit/test-passport
tests_unit_test_passport_SOURCES = tests/unit/test-passport.c plugins/stages/passport/passport.c \
	$(PASSPORT_SOURCES) tests/mockhost.c tests/mockhost.h
tests_unit_test_passport_CPPFLAGS = $(PLUGIN_CPPFLAGS) -I$(top_srcdir)/plugins/stages/passport \
	-I$(top_srcdir)/plugins/stages/common \
	-I$(top_srcdir)/tests/unit -I$(top_srcdir)/tests -I$(top_srcdir)/host
tests_unit_test_passport_CFLAGS = $(AM_CFLAGS) $(GLIB_CFLAGS) $(JANSSON_CFLAGS) $(OPENSSL_CFLAGS)
tests_unit_test_passport_LDADD = tests/unit/libtestutil.la $(PASSPORT_LIBS) host/libquorumhost.la \
	$(GLIB_LIBS) \
	$(JANSSON_LIBS) $(OPENSSL_LIBS)
endif
