# plugins/stages/merkle/local.mk -- the merkle stage plugin (with libquorumaudit inside, and
# protobuf-c for the witnessed-checkpoint events it sends its peers).
# Built unless configure says --disable-merkle; so are its tests.
if BUILD_PLUGIN_MERKLE
stages_LTLIBRARIES += plugins/stages/merkle/merkle.la
plugins_stages_merkle_merkle_la_SOURCES = plugins/stages/merkle/merkle.c \
	plugins/stages/merkle/witness.c plugins/stages/merkle/witness.h
plugins_stages_merkle_merkle_la_CPPFLAGS = $(PLUGIN_CPPFLAGS) -I$(top_srcdir)/audit \
	-I$(top_builddir)/proto
plugins_stages_merkle_merkle_la_CFLAGS = $(AM_CFLAGS) $(PROTOBUF_C_CFLAGS)
plugins_stages_merkle_merkle_la_LDFLAGS = $(PLUGIN_LDFLAGS)
plugins_stages_merkle_merkle_la_LIBADD = audit/libquorumaudit.la proto/libquorumproto.la \
	$(PROTOBUF_C_LIBS) $(OPENSSL_LIBS)
endif
