# plugins/stages/common/local.mk -- what the stage plugins share, built once as libtool
# convenience libraries: linked whole into each plugin that uses them, while a program
# (quorumd's library, a test, a tool) takes only the objects it needs. Two libraries, so that
# a plugin without protobuf-c (passport) is not handed the malfeasance report's code.
STAGE_COMMON_CPPFLAGS = $(PLUGIN_CPPFLAGS) -I$(top_srcdir)/plugins/stages/common

# Atomic state files (written to a temporary, synced, renamed): control, passport, the host.
noinst_LTLIBRARIES += plugins/stages/common/libstatefile.la
plugins_stages_common_libstatefile_la_SOURCES = plugins/stages/common/statefile.c \
	plugins/stages/common/statefile.h
plugins_stages_common_libstatefile_la_CPPFLAGS = $(STAGE_COMMON_CPPFLAGS)

# A signed malfeasance report's checks: control, gossip, the liar test tool.
noinst_LTLIBRARIES += plugins/stages/common/libmalreport.la
plugins_stages_common_libmalreport_la_SOURCES = plugins/stages/common/malfeasance-report.c \
	plugins/stages/common/malfeasance-report.h
plugins_stages_common_libmalreport_la_CPPFLAGS = $(STAGE_COMMON_CPPFLAGS) -I$(top_builddir)/proto
plugins_stages_common_libmalreport_la_CFLAGS = $(AM_CFLAGS) $(PROTOBUF_C_CFLAGS) $(OPENSSL_CFLAGS)
