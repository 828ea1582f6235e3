# plugins/transports/common/local.mk -- what REST, WebSocket and gRPC share, built once as
# libtool convenience libraries (linked whole into each plugin that uses them), and its tests.

# The TCP server core (accepting, connections, limits, deadlines), the one HTTP/1 request
# parser, bearer tokens, query strings, rate limits, TLS settings, the fields of a time answer.
noinst_LTLIBRARIES += plugins/transports/common/libtransport.la
plugins_transports_common_libtransport_la_SOURCES = \
	plugins/transports/common/tcpserver.c plugins/transports/common/tcpserver.h \
	plugins/transports/common/http1-parse.c plugins/transports/common/http1-parse.h \
	plugins/transports/common/bearer.c plugins/transports/common/bearer.h \
	plugins/transports/common/query.c plugins/transports/common/query.h \
	plugins/transports/common/connlimit.c plugins/transports/common/connlimit.h \
	plugins/transports/common/tlsconf.c plugins/transports/common/tlsconf.h \
	plugins/transports/common/timefields.c plugins/transports/common/timefields.h \
	plugins/transports/common/transport.c plugins/transports/common/transport.h
plugins_transports_common_libtransport_la_CPPFLAGS = $(PLUGIN_CPPFLAGS) \
	-I$(top_srcdir)/plugins/transports/common
plugins_transports_common_libtransport_la_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS) \
	$(LIBEVENT_OPENSSL_CFLAGS) $(OPENSSL_CFLAGS)
plugins_transports_common_libtransport_la_LIBADD = common/libquorumcommon.la $(LIBEVENT_LIBS) $(LIBEVENT_OPENSSL_LIBS) \
	$(OPENSSL_LIBS)

# The JSON shapes of the served time (REST and WebSocket: jansson).
noinst_LTLIBRARIES += plugins/transports/common/libtransportjson.la
plugins_transports_common_libtransportjson_la_SOURCES = \
	plugins/transports/common/timejson.c plugins/transports/common/timejson.h
plugins_transports_common_libtransportjson_la_CPPFLAGS = $(PLUGIN_CPPFLAGS)
plugins_transports_common_libtransportjson_la_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
plugins_transports_common_libtransportjson_la_LIBADD = $(JANSSON_LIBS)

# What a plugin using them adds to its flags.
TRANSPORT_CPPFLAGS = $(PLUGIN_CPPFLAGS) -I$(top_srcdir)/plugins/transports/common
TRANSPORT_LIBS = plugins/transports/common/libtransport.la

# Unit tests (g_test): the fields every time answer carries beside the time.
check_PROGRAMS += tests/unit/test-timefields
TESTS += tests/unit/test-timefields
tests_unit_test_timefields_SOURCES = \
	tests/unit/test-timefields.c
tests_unit_test_timefields_CPPFLAGS = $(TRANSPORT_CPPFLAGS)
tests_unit_test_timefields_CFLAGS = $(AM_CFLAGS) $(GLIB_CFLAGS)
tests_unit_test_timefields_LDADD = $(TRANSPORT_LIBS) $(GLIB_LIBS)

# Unit tests (g_test): the TCP server core on a real loop and real sockets.
check_PROGRAMS += tests/unit/test-tcpserver
TESTS += tests/unit/test-tcpserver
tests_unit_test_tcpserver_SOURCES = \
	tests/unit/test-tcpserver.c tests/mockhost.c tests/mockhost.h
tests_unit_test_tcpserver_CPPFLAGS = $(TRANSPORT_CPPFLAGS) -I$(top_builddir) \
	-I$(top_srcdir)/tests
tests_unit_test_tcpserver_CFLAGS = $(AM_CFLAGS) $(GLIB_CFLAGS) \
	$(LIBEVENT_CFLAGS) $(OPENSSL_CFLAGS)
tests_unit_test_tcpserver_LDADD = $(TRANSPORT_LIBS) $(GLIB_LIBS) \
	$(LIBEVENT_LIBS) $(LIBEVENT_OPENSSL_LIBS) $(OPENSSL_LIBS)
