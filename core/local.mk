# core/local.mk -- quorumd, the convenience library its parts live in (shared with the tools
# and the unit tests), and the installed plugin SDK headers.
noinst_LTLIBRARIES += core/libquorumcore.la
core_libquorumcore_la_SOURCES = \
	core/util.c core/util-internal.h \
	core/log.c core/log-internal.h \
	core/keys.c core/keys-internal.h \
	core/plugin-sig.c core/plugin-sig-internal.h \
	core/settings.c core/settings-internal.h \
	core/conf.c core/conf-internal.h \
	core/loader.c core/loader-internal.h \
	core/envelope.c core/envelope-internal.h \
	core/orchestrator.c core/orchestrator-internal.h \
	core/listeners.c core/instance.c core/runtime.c core/runtime-internal.h \
	core/pidfile.c core/pidfile-internal.h
core_libquorumcore_la_CFLAGS = $(AM_CFLAGS) $(OPENSSL_CFLAGS) $(LIBEVENT_CFLAGS) \
	$(LIBCONFIG_CFLAGS) $(PROTOBUF_C_CFLAGS)
core_libquorumcore_la_LIBADD = proto/libquorumproto.la $(OPENSSL_LIBS) $(LIBEVENT_LIBS) \
	$(LIBCONFIG_LIBS) $(PROTOBUF_C_LIBS) $(LTDL_LIBS) -lpthread

sbin_PROGRAMS += core/quorumd
core_quorumd_SOURCES = core/main.c
core_quorumd_CFLAGS = $(core_libquorumcore_la_CFLAGS)
core_quorumd_LDADD = core/libquorumcore.la

quorumincludedir = $(includedir)/quorum
quoruminclude_HEADERS = core/include/quorum/plugin.h core/include/quorum/api.h \
	core/include/quorum/event.h core/include/quorum/settings.h

pkgconfig_DATA = quorum.pc
DISTCLEANFILES += quorum.pc
