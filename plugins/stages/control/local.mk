# plugins/stages/control/local.mk -- the control stage plugin.
# Built unless configure says --disable-control; so are its tests.
if BUILD_PLUGIN_CONTROL
stages_LTLIBRARIES += plugins/stages/control/control.la
plugins_stages_control_control_la_SOURCES = plugins/stages/control/control.c \
	plugins/stages/control/modes.c plugins/stages/control/modes.h \
	plugins/stages/control/sharedstate.c plugins/stages/control/sharedstate.h \
	plugins/stages/control/commands.c plugins/stages/control/commands.h \
	plugins/stages/control/malfeasance.c plugins/stages/control/malfeasance.h
plugins_stages_control_control_la_CPPFLAGS = $(PLUGIN_CPPFLAGS) -I$(top_srcdir)/audit \
	-I$(top_srcdir)/plugins/stages/common -I$(top_builddir)/proto $(JANSSON_CFLAGS) \
	$(PROTOBUF_C_CFLAGS)
plugins_stages_control_control_la_LDFLAGS = $(PLUGIN_LDFLAGS)
plugins_stages_control_control_la_LIBADD = audit/libquorumaudit.la proto/libquorumproto.la \
	plugins/stages/common/libstatefile.la plugins/stages/common/libmalreport.la \
	$(JANSSON_LIBS) $(PROTOBUF_C_LIBS) $(OPENSSL_LIBS)
endif
