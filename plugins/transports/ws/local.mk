# plugins/transports/ws/local.mk -- the WebSocket transport plugin (wslay on libevent).
transports_LTLIBRARIES += plugins/transports/ws/ws.la
plugins_transports_ws_ws_la_SOURCES = plugins/transports/ws/ws.c \
	plugins/transports/common/timejson.c plugins/transports/common/timejson.h \
	plugins/transports/common/timefields.c plugins/transports/common/timefields.h \
	plugins/transports/common/tlsconf.c plugins/transports/common/tlsconf.h \
	common/ratelimit.c common/ratelimit.h \
	plugins/transports/common/connlimit.c plugins/transports/common/connlimit.h \
	plugins/transports/common/query.c plugins/transports/common/query.h \
	plugins/transports/common/bearer.c plugins/transports/common/bearer.h
plugins_transports_ws_ws_la_CPPFLAGS = $(PLUGIN_CPPFLAGS) -I$(top_srcdir)/plugins/transports/common
plugins_transports_ws_ws_la_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS) $(LIBEVENT_OPENSSL_CFLAGS) $(JANSSON_CFLAGS) \
	$(OPENSSL_CFLAGS)
plugins_transports_ws_ws_la_LDFLAGS = $(PLUGIN_LDFLAGS)
plugins_transports_ws_ws_la_LIBADD = $(LIBEVENT_LIBS) $(LIBEVENT_OPENSSL_LIBS) $(JANSSON_LIBS) $(OPENSSL_LIBS) $(WSLAY_LIBS)
