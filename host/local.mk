# host/local.mk -- quorumd, the convenience library its parts live in (shared with the tools
# and the unit tests), and the installed plugin SDK headers.
noinst_LTLIBRARIES += host/libquorumhost.la
host_libquorumhost_la_SOURCES = \
	host/util.c host/util-internal.h \
	host/log.c host/log-internal.h \
	host/keys.c host/keys-internal.h \
	host/plugin-sig.c host/plugin-sig-internal.h \
	host/settings.c host/settings-internal.h \
	host/conf.c host/conf-internal.h host/conflex.c host/conflex-internal.h \
	host/conftrust.c \
	host/loader.c host/loader-internal.h \
	host/protodecode.c host/protodecode-internal.h \
	host/envelope.c host/envelope-internal.h \
	host/orchestrator.c host/orchestrator-internal.h \
	host/listeners.c host/listeners-internal.h host/instance.c host/instance-internal.h \
	host/hostapi.c host/hostapi-internal.h host/runtime.c host/runtime-internal.h \
	host/pidfile.c host/pidfile-internal.h host/signals.c host/signals-internal.h \
	host/privileges.c host/privileges-internal.h host/notify.c host/notify-internal.h \
	host/failsafe.c host/failsafe-internal.h \
	host/timecodec.c host/timecodec-internal.h host/timecore.c host/timecore-internal.h \
	host/timecore-parts-internal.h host/peerlink.c host/answer.c host/rounds.c \
	host/authorities.c host/nodestate.c host/clock.c client/clock-page.h \
	host/refusals.c host/refusals-internal.h host/metrics.c host/metrics-internal.h \
	host/trustpath.c host/trustpath-internal.h \
	host/plugin-floor.c host/plugin-floor-internal.h
# The plugin version floors are written with the stages' atomic state-file code.
host_libquorumhost_la_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/plugins/stages/common
host_libquorumhost_la_CFLAGS = $(AM_CFLAGS) $(OPENSSL_CFLAGS) $(LIBEVENT_CFLAGS) \
	$(LIBCONFIG_CFLAGS) $(PROTOBUF_C_CFLAGS)
host_libquorumhost_la_LIBADD = proto/libquorumproto.la common/libquorumcommon.la \
	plugins/stages/common/libstatefile.la $(OPENSSL_LIBS) $(LIBEVENT_LIBS) \
	$(LIBCONFIG_LIBS) $(PROTOBUF_C_LIBS) $(LTDL_LIBS) -lpthread

sbin_PROGRAMS += host/quorumd
host_quorumd_SOURCES = host/main.c
host_quorumd_CFLAGS = $(host_libquorumhost_la_CFLAGS)
host_quorumd_LDADD = host/libquorumhost.la

quorumincludedir = $(includedir)/quorum
quoruminclude_HEADERS = host/include/quorum/plugin.h host/include/quorum/api.h \
	host/include/quorum/event.h host/include/quorum/settings.h \
	host/include/quorum/time.h host/include/quorum/audit.h \
	host/include/quorum/control.h host/include/quorum/sharedstate.h \
	host/include/quorum/passport.h host/include/quorum/gossip.h

pkgconfig_DATA = quorum.pc
DISTCLEANFILES += quorum.pc
