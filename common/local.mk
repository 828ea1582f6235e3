# common/local.mk -- code the host and the plugins share (common/README.md), built once as a
# libtool convenience library: linked whole into each plugin that uses it (gossip, vault, the
# transports' common core), while quorumd's library and the tests take only what they need.
# It sees the plugin SDK only, as a plugin does.
noinst_LTLIBRARIES += common/libquorumcommon.la
common_libquorumcommon_la_SOURCES = common/ratelimit.c common/ratelimit.h \
	common/dedup.c common/dedup.h common/roundnonce.c common/roundnonce.h common/clocks.h
common_libquorumcommon_la_CPPFLAGS = $(PLUGIN_CPPFLAGS)
common_libquorumcommon_la_CFLAGS = $(AM_CFLAGS) $(OPENSSL_CFLAGS)
common_libquorumcommon_la_LIBADD = $(OPENSSL_LIBS)
