# plugins/transports/rest/local.mk -- the REST transport plugin (our HTTP/1.1 server on the
# transports' common core, libevent_openssl for TLS, jansson) and its unit tests.
# Built unless configure says --disable-rest; so are its tests.
if BUILD_PLUGIN_REST
transports_LTLIBRARIES += plugins/transports/rest/rest.la
plugins_transports_rest_rest_la_SOURCES = plugins/transports/rest/rest.c \
	plugins/transports/rest/http1.c plugins/transports/rest/http1.h \
	plugins/transports/rest/jsontext.c plugins/transports/rest/jsontext.h \
	plugins/transports/rest/sharedstate-body.c plugins/transports/rest/sharedstate-body.h \
	plugins/transports/rest/page.c plugins/transports/rest/page.h
plugins_transports_rest_rest_la_CPPFLAGS = $(TRANSPORT_CPPFLAGS) \
	-DREST_PAGE_DIR='"$(restpagedir)"'
plugins_transports_rest_rest_la_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS) $(LIBEVENT_OPENSSL_CFLAGS) \
	$(JANSSON_CFLAGS) $(OPENSSL_CFLAGS)
plugins_transports_rest_rest_la_LDFLAGS = $(PLUGIN_LDFLAGS)
plugins_transports_rest_rest_la_LIBADD = $(TRANSPORT_LIBS) \
	plugins/transports/common/libtransportjson.la $(LIBEVENT_LIBS) $(LIBEVENT_OPENSSL_LIBS) \
	$(JANSSON_LIBS) $(OPENSSL_LIBS)

# The status page served at / (rest.c's page_dir setting defaults to where it is installed).
restpagedir = $(pkgdatadir)/rest
dist_restpage_DATA = plugins/transports/rest/page/index.html \
	plugins/transports/rest/page/status.js plugins/transports/rest/page/status.css \
	plugins/transports/rest/page/favicon.svg

# Unit tests (g_test; GLib prints TAP itself): the HTTP/1.1 server and parser through a mock
# host API, and the JSON writer against jansson, the shared-state body's checks.
REST_UNIT_TESTS = tests/unit/test-http1 tests/unit/test-jsontext \
	tests/unit/test-sharedstate-body tests/unit/test-page
check_PROGRAMS += $(REST_UNIT_TESTS)
TESTS += $(REST_UNIT_TESTS)
tests_unit_test_http1_SOURCES = tests/unit/test-http1.c \
	plugins/transports/rest/http1.c plugins/transports/rest/http1.h \
	tests/mockhost.c tests/mockhost.h
tests_unit_test_http1_CPPFLAGS = $(TRANSPORT_CPPFLAGS) -I$(top_builddir) \
	-I$(top_srcdir)/plugins/transports/rest \
	-I$(top_srcdir)/tests
tests_unit_test_http1_CFLAGS = $(AM_CFLAGS) $(GLIB_CFLAGS) $(LIBEVENT_CFLAGS) \
	$(LIBEVENT_OPENSSL_CFLAGS) $(OPENSSL_CFLAGS)
tests_unit_test_http1_LDADD = $(TRANSPORT_LIBS) $(GLIB_LIBS) $(LIBEVENT_LIBS) \
	$(LIBEVENT_OPENSSL_LIBS) $(OPENSSL_LIBS)
tests_unit_test_jsontext_SOURCES = tests/unit/test-jsontext.c \
	plugins/transports/rest/jsontext.c plugins/transports/rest/jsontext.h
tests_unit_test_jsontext_CPPFLAGS = $(TRANSPORT_CPPFLAGS) -I$(top_builddir) \
	-I$(top_srcdir)/plugins/transports/rest
tests_unit_test_jsontext_CFLAGS = $(AM_CFLAGS) $(GLIB_CFLAGS) $(JANSSON_CFLAGS)
tests_unit_test_jsontext_LDADD = plugins/transports/common/libtransportjson.la \
	$(TRANSPORT_LIBS) $(GLIB_LIBS) $(JANSSON_LIBS) -lm
tests_unit_test_sharedstate_body_SOURCES = \
	tests/unit/test-sharedstate-body.c \
	plugins/transports/rest/sharedstate-body.c plugins/transports/rest/sharedstate-body.h
tests_unit_test_sharedstate_body_CPPFLAGS = $(PLUGIN_CPPFLAGS) -I$(top_builddir) \
	-I$(top_srcdir)/plugins/transports/rest
tests_unit_test_sharedstate_body_CFLAGS = $(AM_CFLAGS) $(GLIB_CFLAGS) \
	$(JANSSON_CFLAGS)
tests_unit_test_sharedstate_body_LDADD = $(GLIB_LIBS) $(JANSSON_LIBS) -lm
tests_unit_test_page_SOURCES = tests/unit/test-page.c \
	plugins/transports/rest/page.c plugins/transports/rest/page.h
tests_unit_test_page_CPPFLAGS = -I$(top_builddir) -I$(top_srcdir)/plugins/transports/rest \
	-DREST_PAGE_SRCDIR='"$(abs_top_srcdir)/plugins/transports/rest/page"'
tests_unit_test_page_CFLAGS = $(AM_CFLAGS) $(GLIB_CFLAGS)
tests_unit_test_page_LDADD = $(GLIB_LIBS)
endif
