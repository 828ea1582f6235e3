# plugins/transports/ntp/local.mk -- the NTP transport plugin (NTPv4 server, RFC 5905, with
# Network Time Security, RFC 8915) and its unit tests.
NTS_SOURCES = plugins/transports/ntp/nts.c plugins/transports/ntp/nts.h \
	plugins/transports/ntp/nts-internal.h \
	plugins/transports/ntp/nts-ke.c \
	plugins/transports/ntp/nts-ke-records.c plugins/transports/ntp/nts-ke-records.h \
	plugins/transports/ntp/nts-ext.c plugins/transports/ntp/nts-ext.h \
	plugins/transports/ntp/nts-aead.c plugins/transports/ntp/nts-aead.h \
	plugins/transports/ntp/nts-cookie.c plugins/transports/ntp/nts-cookie.h \
	plugins/transports/ntp/nts-keystore.c plugins/transports/ntp/nts-keystore.h
NTS_LIBS = audit/libstatedir.la
NTS_CPPFLAGS = $(PLUGIN_CPPFLAGS) -I$(top_srcdir)/plugins/transports/ntp -I$(top_srcdir)/audit

# Built unless configure says --disable-ntp; so are its tests.
if BUILD_PLUGIN_NTP
transports_LTLIBRARIES += plugins/transports/ntp/ntp.la
plugins_transports_ntp_ntp_la_SOURCES = plugins/transports/ntp/ntp.c $(NTS_SOURCES)
plugins_transports_ntp_ntp_la_CPPFLAGS = $(NTS_CPPFLAGS)
plugins_transports_ntp_ntp_la_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS) $(OPENSSL_CFLAGS)
plugins_transports_ntp_ntp_la_LDFLAGS = $(PLUGIN_LDFLAGS)
plugins_transports_ntp_ntp_la_LIBADD = $(NTS_LIBS) $(LIBEVENT_LIBS) $(OPENSSL_LIBS) -lpthread

# Unit tests (g_test): the arrival timestamps' rules (ntp.c compiled in whole), and the NTS
# parts that are pure: AES-SIV, cookies and their keys, NTS-KE records, extension fields.
NTP_UNIT_TESTS = tests/unit/test-ntp tests/unit/test-nts-aead \
	tests/unit/test-nts-cookie tests/unit/test-nts-ke-records \
	tests/unit/test-nts-ext
check_PROGRAMS += $(NTP_UNIT_TESTS)
TESTS += $(NTP_UNIT_TESTS)
NTP_TEST_CFLAGS = $(AM_CFLAGS) $(GLIB_CFLAGS) $(OPENSSL_CFLAGS)
NTP_TEST_LDADD = $(GLIB_LIBS) $(OPENSSL_LIBS)

tests_unit_test_ntp_SOURCES = tests/unit/test-ntp.c $(NTS_SOURCES)
tests_unit_test_ntp_CPPFLAGS = $(NTS_CPPFLAGS) -I$(top_builddir)
tests_unit_test_ntp_CFLAGS = $(NTP_TEST_CFLAGS) $(LIBEVENT_CFLAGS)
tests_unit_test_ntp_LDADD = $(NTS_LIBS) $(NTP_TEST_LDADD) $(LIBEVENT_LIBS) -lpthread

tests_unit_test_nts_aead_SOURCES = tests/unit/test-nts-aead.c tests/unit/testhex.h \
	plugins/transports/ntp/nts-aead.c plugins/transports/ntp/nts-aead.h
tests_unit_test_nts_aead_CPPFLAGS = $(NTS_CPPFLAGS)
tests_unit_test_nts_aead_CFLAGS = $(NTP_TEST_CFLAGS)
tests_unit_test_nts_aead_LDADD = $(NTP_TEST_LDADD)

tests_unit_test_nts_cookie_SOURCES = tests/unit/test-nts-cookie.c \
	plugins/transports/ntp/nts-aead.c plugins/transports/ntp/nts-aead.h \
	plugins/transports/ntp/nts-cookie.c plugins/transports/ntp/nts-cookie.h \
	plugins/transports/ntp/nts-keystore.c plugins/transports/ntp/nts-keystore.h
tests_unit_test_nts_cookie_CPPFLAGS = $(NTS_CPPFLAGS)
tests_unit_test_nts_cookie_CFLAGS = $(NTP_TEST_CFLAGS)
tests_unit_test_nts_cookie_LDADD = $(NTS_LIBS) $(NTP_TEST_LDADD)

tests_unit_test_nts_ke_records_SOURCES = \
	tests/unit/test-nts-ke-records.c tests/unit/testhex.h \
	plugins/transports/ntp/nts-ke-records.c plugins/transports/ntp/nts-ke-records.h
tests_unit_test_nts_ke_records_CPPFLAGS = $(NTS_CPPFLAGS)
tests_unit_test_nts_ke_records_CFLAGS = $(NTP_TEST_CFLAGS)
tests_unit_test_nts_ke_records_LDADD = $(NTP_TEST_LDADD)

tests_unit_test_nts_ext_SOURCES = tests/unit/test-nts-ext.c \
	plugins/transports/ntp/nts-ext.c plugins/transports/ntp/nts-ext.h \
	plugins/transports/ntp/nts-aead.c plugins/transports/ntp/nts-aead.h \
	plugins/transports/ntp/nts-cookie.c plugins/transports/ntp/nts-cookie.h
tests_unit_test_nts_ext_CPPFLAGS = $(NTS_CPPFLAGS)
tests_unit_test_nts_ext_CFLAGS = $(NTP_TEST_CFLAGS)
tests_unit_test_nts_ext_LDADD = $(NTP_TEST_LDADD)
endif
