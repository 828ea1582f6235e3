# plugins/transports/ws/local.mk -- the WebSocket transport plugin (wslay on libevent, on the
# transports' common core).
# Built unless configure says --disable-ws; so are its tests.
if BUILD_PLUGIN_WS
transports_LTLIBRARIES += plugins/transports/ws/ws.la
plugins_transports_ws_ws_la_SOURCES = plugins/transports/ws/ws.c \
	plugins/transports/ws/upgrade.c plugins/transports/ws/upgrade.h
plugins_transports_ws_ws_la_CPPFLAGS = $(TRANSPORT_CPPFLAGS)
plugins_transports_ws_ws_la_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS) $(LIBEVENT_OPENSSL_CFLAGS) \
	$(JANSSON_CFLAGS) $(OPENSSL_CFLAGS)
plugins_transports_ws_ws_la_LDFLAGS = $(PLUGIN_LDFLAGS)
plugins_transports_ws_ws_la_LIBADD = $(TRANSPORT_LIBS) \
	plugins/transports/common/libtransportjson.la $(LIBEVENT_LIBS) $(LIBEVENT_OPENSSL_LIBS) \
	$(JANSSON_LIBS) $(OPENSSL_LIBS) $(WSLAY_LIBS)
endif
