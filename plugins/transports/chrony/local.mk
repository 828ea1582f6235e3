# plugins/transports/chrony/local.mk -- the chrony transport plugin (samples for chronyd's
# SOCK refclock) and its unit tests.
# Built unless configure says --disable-chrony; so are its tests.
if BUILD_PLUGIN_CHRONY
transports_LTLIBRARIES += plugins/transports/chrony/chrony.la
plugins_transports_chrony_chrony_la_SOURCES = plugins/transports/chrony/chrony.c \
	plugins/transports/chrony/sample.c plugins/transports/chrony/sample.h
plugins_transports_chrony_chrony_la_CPPFLAGS = $(PLUGIN_CPPFLAGS)
plugins_transports_chrony_chrony_la_CFLAGS = $(AM_CFLAGS)
plugins_transports_chrony_chrony_la_LDFLAGS = $(PLUGIN_LDFLAGS)

# Unit tests (g_test): the sample and the chrony.conf line, and the plugin (chrony.c compiled
# in whole) on a mock host API sending to a real socket.
check_PROGRAMS += tests/unit/test-chrony
TESTS += tests/unit/test-chrony
tests_unit_test_chrony_SOURCES = tests/unit/test-chrony.c \
	plugins/transports/chrony/sample.c plugins/transports/chrony/sample.h \
	tests/mockhost.c tests/mockhost.h
tests_unit_test_chrony_CPPFLAGS = $(PLUGIN_CPPFLAGS) \
	-I$(top_srcdir)/plugins/transports/chrony -I$(top_srcdir)/tests \
	-I$(top_srcdir)/tests/unit -I$(top_srcdir)/host
tests_unit_test_chrony_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_chrony_LDADD = $(UNIT_LDADD)
endif
