# plugins/stages/vault/local.mk -- the vault stage plugin (with libquorumaudit inside).
stages_LTLIBRARIES += plugins/stages/vault/vault.la
plugins_stages_vault_vault_la_SOURCES = plugins/stages/vault/vault.c
plugins_stages_vault_vault_la_CPPFLAGS = $(PLUGIN_CPPFLAGS) -I$(top_srcdir)/audit
plugins_stages_vault_vault_la_LDFLAGS = $(PLUGIN_LDFLAGS)
plugins_stages_vault_vault_la_LIBADD = audit/libquorumaudit.la $(OPENSSL_LIBS)
