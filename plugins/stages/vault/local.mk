# plugins/stages/vault/local.mk -- the vault stage plugin (with libquorumaudit inside, and
# the round log's protobuf-c code).
# Built unless configure says --disable-vault; so are its tests.
if BUILD_PLUGIN_VAULT
stages_LTLIBRARIES += plugins/stages/vault/vault.la
plugins_stages_vault_vault_la_SOURCES = plugins/stages/vault/vault.c
plugins_stages_vault_vault_la_CPPFLAGS = $(PLUGIN_CPPFLAGS) -I$(top_srcdir)/audit \
	-I$(top_builddir)/proto
plugins_stages_vault_vault_la_CFLAGS = $(AM_CFLAGS) $(PROTOBUF_C_CFLAGS) $(OPENSSL_CFLAGS)
plugins_stages_vault_vault_la_LDFLAGS = $(PLUGIN_LDFLAGS)
plugins_stages_vault_vault_la_LIBADD = audit/libroundlog.la audit/libquorumaudit.la \
	proto/libquorumproto.la \
	common/libquorumcommon.la \
	$(PROTOBUF_C_LIBS) $(OPENSSL_LIBS)
endif
