# plugins/stages/merkle/local.mk -- the merkle stage plugin (with libquorumaudit inside).
stages_LTLIBRARIES += plugins/stages/merkle/merkle.la
plugins_stages_merkle_merkle_la_SOURCES = plugins/stages/merkle/merkle.c
plugins_stages_merkle_merkle_la_CPPFLAGS = $(PLUGIN_CPPFLAGS) -I$(top_srcdir)/audit
plugins_stages_merkle_merkle_la_LDFLAGS = $(PLUGIN_LDFLAGS)
plugins_stages_merkle_merkle_la_LIBADD = audit/libquorumaudit.la $(OPENSSL_LIBS)
