# conf/local.mk -- quorum.conf: the installed, documented sample, and quorum-dev.conf, the
# same for the build tree (plugins in $(builddir)/lib, the development key in keys/).
EXTRA_DIST += conf/quorum.conf.in conf/quorumd.service.in

quorumconfdir = $(sysconfdir)/quorum
quorumconf_DATA = conf/quorum.conf
quorumkeysdir = $(sysconfdir)/quorum/keys
nodist_quorumkeys_DATA = $(DEV_KEY).pub
noinst_DATA = conf/quorum-dev.conf
CLEANFILES += conf/quorum.conf conf/quorum-dev.conf

# The plugins listed in the generated configurations: every built-in plugin, in order.
CONF_STAGES = { name = \"convergence\"; path = \"stages/convergence.so\"; },\n  { name = \"control\"; path = \"stages/control.so\"; }
CONF_TRANSPORTS =
# The installed sample audits: the vault and merkle stages keep their folders in quorumd's
# state folder (systemd's StateDirectory=quorum; `make install` creates it, mode 0700).
quorumstatedir = $(localstatedir)/lib/quorum
CONF_AUDIT_STAGES = { name = \"vault\"; path = \"stages/vault.so\"; settings = { dir = \"$(quorumstatedir)/vault\"; }; },\n  { name = \"merkle\"; path = \"stages/merkle.so\"; settings = { dir = \"$(quorumstatedir)/merkle\"; }; },\n  

conf_generate = $(MKDIR_P) conf && $(SED) \
	-e 's|@NODE_ID@|node-1|g' \
	-e "s|@TRANSPORTS@|$(CONF_TRANSPORTS)|"

conf/quorum.conf: $(srcdir)/conf/quorum.conf.in Makefile
	$(AM_V_GEN)$(conf_generate) -e 's|@PLUGIN_DIR@|$(pkglibdir)|g' \
		-e "s|@STAGES@|$(CONF_AUDIT_STAGES)$(CONF_STAGES)|" \
		-e 's|@KEY_DIR@|keys|g' $(srcdir)/conf/quorum.conf.in > $@

# The build tree's has no state folder to write to: no audit stages.
conf/quorum-dev.conf: $(srcdir)/conf/quorum.conf.in Makefile
	$(AM_V_GEN)$(conf_generate) -e 's|@PLUGIN_DIR@|$(abs_builddir)/lib|g' \
		-e "s|@STAGES@|$(CONF_STAGES)|" \
		-e 's|@KEY_DIR@|$(abs_builddir)/keys|g' $(srcdir)/conf/quorum.conf.in > $@

install_data_hooks += install-state-dir
install-state-dir:
	$(MKDIR_P) '$(DESTDIR)$(quorumstatedir)'
	chmod 0700 '$(DESTDIR)$(quorumstatedir)'
.PHONY: install-state-dir

# The systemd unit (Type=notify; a dedicated user; hardening options).
systemdsystemunit_DATA = conf/quorumd.service
CLEANFILES += conf/quorumd.service
conf/quorumd.service: $(srcdir)/conf/quorumd.service.in Makefile
	$(AM_V_GEN)$(MKDIR_P) conf && $(SED) -e 's|@SBINDIR@|$(sbindir)|g' \
		-e 's|@SYSCONFDIR@|$(sysconfdir)|g' \
		-e 's|@SYSTEMD_UNIT_DIR@|$(systemdsystemunitdir)|g' \
		$(srcdir)/conf/quorumd.service.in > $@
