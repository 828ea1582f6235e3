# plugins/transports/ntp/local.mk -- the NTP transport plugin (NTPv4 server, RFC 5905).
transports_LTLIBRARIES += plugins/transports/ntp/ntp.la
plugins_transports_ntp_ntp_la_SOURCES = plugins/transports/ntp/ntp.c
plugins_transports_ntp_ntp_la_CPPFLAGS = $(PLUGIN_CPPFLAGS)
plugins_transports_ntp_ntp_la_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS)
plugins_transports_ntp_ntp_la_LDFLAGS = $(PLUGIN_LDFLAGS)
plugins_transports_ntp_ntp_la_LIBADD = $(LIBEVENT_LIBS) -lpthread

# Unit tests (g_test): the arrival timestamps' rules, ntp.c compiled in whole.
check_PROGRAMS += plugins/transports/ntp/test-ntp
TESTS += plugins/transports/ntp/test-ntp
plugins_transports_ntp_test_ntp_SOURCES = plugins/transports/ntp/test-ntp.c
plugins_transports_ntp_test_ntp_CPPFLAGS = $(PLUGIN_CPPFLAGS) -I$(top_srcdir)/plugins/transports/ntp \
	-I$(top_builddir)
plugins_transports_ntp_test_ntp_CFLAGS = $(AM_CFLAGS) $(GLIB_CFLAGS) $(LIBEVENT_CFLAGS)
plugins_transports_ntp_test_ntp_LDADD = $(GLIB_LIBS) $(LIBEVENT_LIBS) -lpthread
