# plugins/transports/grpc/local.mk -- the gRPC transport plugin (nghttp2 + protobuf-c, on the
# transports' common core).
# Built unless configure says --disable-grpc; so are its tests.
if BUILD_PLUGIN_GRPC
transports_LTLIBRARIES += plugins/transports/grpc/grpc.la
plugins_transports_grpc_grpc_la_SOURCES = plugins/transports/grpc/grpc.c \
	plugins/transports/grpc/bridge.c plugins/transports/grpc/bridge.h \
	plugins/transports/grpc/compress.c plugins/transports/grpc/compress.h
plugins_transports_grpc_grpc_la_CPPFLAGS = $(TRANSPORT_CPPFLAGS) -I$(top_builddir)/proto
plugins_transports_grpc_grpc_la_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS) \
	$(LIBEVENT_OPENSSL_CFLAGS) $(NGHTTP2_CFLAGS) $(PROTOBUF_C_CFLAGS) $(OPENSSL_CFLAGS) \
	$(ZLIB_CFLAGS)
plugins_transports_grpc_grpc_la_LDFLAGS = $(PLUGIN_LDFLAGS)
plugins_transports_grpc_grpc_la_LIBADD = $(TRANSPORT_LIBS) proto/libquorumproto.la \
	$(LIBEVENT_LIBS) $(LIBEVENT_OPENSSL_LIBS) $(NGHTTP2_LIBS) $(PROTOBUF_C_LIBS) \
	$(OPENSSL_LIBS) $(ZLIB_LIBS)

# Unit tests (g_test): the message encodings (zlib), the decompressed size bound.
check_PROGRAMS += tests/unit/test-compress
TESTS += tests/unit/test-compress
tests_unit_test_compress_SOURCES = tests/unit/test-compress.c \
	plugins/transports/grpc/compress.c plugins/transports/grpc/compress.h
tests_unit_test_compress_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/plugins/transports/grpc
tests_unit_test_compress_CFLAGS = $(AM_CFLAGS) $(GLIB_CFLAGS) $(ZLIB_CFLAGS)
tests_unit_test_compress_LDADD = $(GLIB_LIBS) $(ZLIB_LIBS)
endif
