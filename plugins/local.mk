# plugins/local.mk -- the built-in plugins (each directory adds itself below), the
# development signing key, and signing: `make` stages every plugin, signed, into
# $(builddir)/lib/{stages,transports} (the build-tree plugin_dir); `make install` signs the
# installed copies.

# A plugin sees the SDK only: never the host's private headers, never another plugin's.
PLUGIN_CPPFLAGS = -I$(top_srcdir)/host/include -I$(top_srcdir)/common -DPACKAGE_VERSION='"$(PACKAGE_VERSION)"'

include common/local.mk
include plugins/stages/common/local.mk
include plugins/stages/passport/local.mk
include plugins/stages/convergence/local.mk
include plugins/stages/control/local.mk
include plugins/stages/gossip/local.mk
include plugins/stages/vault/local.mk
include plugins/stages/merkle/local.mk
include plugins/transports/common/local.mk
include plugins/transports/ntp/local.mk
include plugins/transports/rest/local.mk
include plugins/transports/ws/local.mk
include plugins/transports/grpc/local.mk
include plugins/transports/chrony/local.mk

# The development key is generated into the build tree and never committed; the sample
# and development configurations trust its public half.
DEV_KEY = keys/plugin-dev
CLEANFILES += $(DEV_KEY).key $(DEV_KEY).pub
QUORUM_SIGN = tools/quorum-sign$(EXEEXT)
STAGE_PLUGIN = $(SHELL) $(srcdir)/tools/stage-plugin.sh

$(DEV_KEY).key: | tools/quorum-keygen$(EXEEXT)
	$(AM_V_GEN)umask 022 && $(MKDIR_P) keys && rm -f $(DEV_KEY).key $(DEV_KEY).pub && \
	tools/quorum-keygen$(EXEEXT) --out $(DEV_KEY) >/dev/null
$(DEV_KEY).pub: $(DEV_KEY).key

all_local_targets += plugins-dev
plugins-dev: $(DEV_KEY).key $(QUORUM_SIGN) $(stages_LTLIBRARIES) $(transports_LTLIBRARIES)
	$(AM_V_GEN)set -e; \
	for la in $(stages_LTLIBRARIES); do \
		$(STAGE_PLUGIN) $(QUORUM_SIGN) $(DEV_KEY).key $$la lib/stages; done; \
	for la in $(transports_LTLIBRARIES); do \
		$(STAGE_PLUGIN) $(QUORUM_SIGN) $(DEV_KEY).key $$la lib/transports; done

clean-local: clean-plugins-dev
clean-plugins-dev:
	-rm -rf lib keys

# Installed plugins are signed after installation, so whatever install did to the file
# (strip included) is what gets signed. libtool's .la files are not installed.
install_data_hooks += install-plugins-signed
install-plugins-signed:
	@set -e; \
	for la in $(stages_LTLIBRARIES); do n=$$(basename $$la .la); \
		rm -f $(DESTDIR)$(stagesdir)/$$n.la; \
		$(STAGE_PLUGIN) $(QUORUM_SIGN) $(DEV_KEY).key $(DESTDIR)$(stagesdir)/$$n.so \
			$(DESTDIR)$(stagesdir); done; \
	for la in $(transports_LTLIBRARIES); do n=$$(basename $$la .la); \
		rm -f $(DESTDIR)$(transportsdir)/$$n.la; \
		$(STAGE_PLUGIN) $(QUORUM_SIGN) $(DEV_KEY).key $(DESTDIR)$(transportsdir)/$$n.so \
			$(DESTDIR)$(transportsdir); done

uninstall_hooks += uninstall-plugins-signed
uninstall-plugins-signed:
	@for la in $(stages_LTLIBRARIES); do n=$$(basename $$la .la); \
		rm -f $(DESTDIR)$(stagesdir)/$$n.so $(DESTDIR)$(stagesdir)/$$n.so.sig; done; \
	for la in $(transports_LTLIBRARIES); do n=$$(basename $$la .la); \
		rm -f $(DESTDIR)$(transportsdir)/$$n.so $(DESTDIR)$(transportsdir)/$$n.so.sig; done

.PHONY: plugins-dev clean-plugins-dev install-plugins-signed uninstall-plugins-signed
