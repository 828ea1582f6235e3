# plugins/stages/control/local.mk -- the control stage plugin.
stages_LTLIBRARIES += plugins/stages/control/control.la
plugins_stages_control_control_la_SOURCES = plugins/stages/control/control.c \
	plugins/stages/control/modes.c plugins/stages/control/modes.h \
	plugins/stages/control/sharedstate.c plugins/stages/control/sharedstate.h \
	plugins/stages/control/commands.c plugins/stages/control/commands.h
plugins_stages_control_control_la_CPPFLAGS = $(PLUGIN_CPPFLAGS) -I$(top_srcdir)/audit \
	$(JANSSON_CFLAGS)
plugins_stages_control_control_la_LDFLAGS = $(PLUGIN_LDFLAGS)
plugins_stages_control_control_la_LIBADD = audit/libquorumaudit.la $(JANSSON_LIBS) \
	$(OPENSSL_LIBS)
