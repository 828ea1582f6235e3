# plugins/stages/convergence/local.mk -- the convergence stage plugin.
# Built unless configure says --disable-convergence; so are its tests.
if BUILD_PLUGIN_CONVERGENCE
stages_LTLIBRARIES += plugins/stages/convergence/convergence.la
plugins_stages_convergence_convergence_la_SOURCES = \
	plugins/stages/convergence/convergence.c \
	plugins/stages/convergence/agreement.c plugins/stages/convergence/agreement.h
plugins_stages_convergence_convergence_la_CPPFLAGS = $(PLUGIN_CPPFLAGS)
plugins_stages_convergence_convergence_la_LDFLAGS = $(PLUGIN_LDFLAGS)
endif
