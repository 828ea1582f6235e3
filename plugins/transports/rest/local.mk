# plugins/transports/rest/local.mk -- the REST transport plugin (evhttp + jansson).
transports_LTLIBRARIES += plugins/transports/rest/rest.la
plugins_transports_rest_rest_la_SOURCES = plugins/transports/rest/rest.c \
	plugins/transports/common/timejson.c plugins/transports/common/timejson.h \
	plugins/transports/common/tlsconf.c plugins/transports/common/tlsconf.h
plugins_transports_rest_rest_la_CPPFLAGS = $(PLUGIN_CPPFLAGS) -I$(top_srcdir)/plugins/transports/common
plugins_transports_rest_rest_la_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS) $(LIBEVENT_OPENSSL_CFLAGS) \
	$(JANSSON_CFLAGS) $(OPENSSL_CFLAGS)
plugins_transports_rest_rest_la_LDFLAGS = $(PLUGIN_LDFLAGS)
plugins_transports_rest_rest_la_LIBADD = $(LIBEVENT_LIBS) $(LIBEVENT_OPENSSL_LIBS) $(JANSSON_LIBS) \
	$(OPENSSL_LIBS)
